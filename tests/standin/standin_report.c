#include "standin_report.h"

#include "error.h"
#include "fs.h"
#include "json.h"
#include "log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void step_json(oss_json *j, const struct standin_step *s)
{
    oss_json_kv_str(j, "step", s->name);
    oss_json_kv_str(j, "result", s->result);
    if (s->err)
        oss_json_kv_str(j, "errno", oss_errno_name(s->err));
    else
        oss_json_kv_str(j, "errno", NULL);
    if (s->detail[0])
        oss_json_kv_str(j, "detail", s->detail);
}

void standin_step_add(struct standin_report *r, const struct standin_step *s)
{
    if (r->nsteps < STANDIN_MAX_STEPS)
        r->steps[r->nsteps++] = *s;
    oss_buf b = OSS_BUF_INIT;
    oss_json j;
    oss_json_init(&j, &b);
    oss_json_obj_begin(&j);
    oss_json_kv_str(&j, "standin", "step");
    step_json(&j, s);
    oss_json_obj_end(&j);
    oss_buf_putc(&b, '\n');
    (void)oss_write_all(STDERR_FILENO, b.data, b.len);
    oss_buf_free(&b);
}

void standin_step(struct standin_report *r, const char *name, const char *result, int err,
                  const char *detail)
{
    struct standin_step s = {.err = err};
    snprintf(s.name, sizeof s.name, "%s", name);
    snprintf(s.result, sizeof s.result, "%s", result);
    snprintf(s.detail, sizeof s.detail, "%s", detail ? detail : "");
    standin_step_add(r, &s);
}

void standin_report_json(const struct standin_report *r, oss_buf *out)
{
    oss_json j;
    oss_json_init(&j, out);
    oss_json_obj_begin(&j);
    oss_json_kv_str(&j, "standin", "openshell-sandbox-standin");
    oss_json_kv_str(&j, "sandbox_id", r->sandbox_id);
    oss_json_kv_str(&j, "variant", r->variant);
    oss_json_kv_bool(&j, "best_effort", r->best_effort);
    oss_json_kv_str(&j, "skip_bootstrap", r->skip);
    oss_json_kv_str(&j, "phase", r->phase);
    oss_json_key(&j, "steps");
    oss_json_arr_begin(&j);
    for (size_t i = 0; i < r->nsteps; i++) {
        oss_json_obj_begin(&j);
        step_json(&j, &r->steps[i]);
        oss_json_obj_end(&j);
    }
    oss_json_arr_end(&j);
    oss_json_key(&j, "netns");
    if (r->has_netns) {
        oss_json_obj_begin(&j);
        oss_json_kv_str(&j, "name", r->ns_name);
        oss_json_kv_str(&j, "host_if", r->host_if);
        oss_json_kv_str(&j, "peer_if", r->peer_if);
        oss_json_obj_end(&j);
    } else {
        oss_json_null(&j);
    }
    oss_json_kv_str(&j, "proxy", r->proxy[0] ? r->proxy : NULL);
    oss_json_key(&j, "workload_pid");
    if (r->workload_pid > 0)
        oss_json_int(&j, r->workload_pid);
    else
        oss_json_null(&j);
    oss_json_key(&j, "workload_env");
    oss_json_obj_begin(&j);
    for (size_t i = 0; i < r->nenv; i++)
        oss_json_kv_str(&j, r->env_keys[i], r->env_vals[i]);
    oss_json_obj_end(&j);
    oss_json_key(&j, "exit_code");
    if (strcmp(r->phase, "exited") == 0 || strcmp(r->phase, "fatal") == 0)
        oss_json_int(&j, r->exit_code);
    else
        oss_json_null(&j);
    oss_json_obj_end(&j);
}

void standin_report_write(const struct standin_report *r)
{
    const char *path = getenv("OPENSHELL_STANDIN_STATUS_FILE");
    if (path == NULL || *path == '\0')
        return;
    oss_buf b = OSS_BUF_INIT;
    standin_report_json(r, &b);
    oss_buf_putc(&b, '\n');
    oss_error err = {0};
    if (oss_write_file_atomic(path, b.data, b.len, 0644, &err) < 0)
        log_warn("status file %s: %s", path, err.msg);
    oss_buf_free(&b);
}
