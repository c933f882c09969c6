/* The living report: the bootstrap section, then events the shim appends
 * while it runs (supervisor exits, restores, reprobes).  Rewritten whole and
 * atomically each time, so a reader never sees half a report. */
#include "bootstrap-internal.h"

#include "cleanup.h"
#include "fs.h"
#include "util.h"

#include <errno.h>
#include <libgen.h>
#include <stdlib.h>
#include <string.h>

struct report_event {
    char *kind;
    char *json; /* a JSON object, verbatim */
    int64_t time_ms;
};

struct shim_report {
    const struct shim_bootstrap *b;
    char *path;
    unsigned generation;
    int64_t started_ms;
    struct report_event ev[SHIM_REPORT_MAX_EVENTS];
    size_t nev;   /* kept */
    size_t first; /* ring start */
    unsigned long dropped;
    unsigned long lost_nomem; /* events lost to a failed allocation */
    shim_report_live_fn live;
    void *live_ctx;
};

int shim_report_new(const struct shim_config *cfg, const struct shim_bootstrap *b,
                    struct shim_report **ret, oss_error *err)
{
    struct shim_report *r = calloc(1, sizeof *r);
    if (!r)
        return oss_err(err, OSS_ERR_ERRNO, ENOMEM, "out of memory");
    r->b = b;
    r->path = strdup(b                  ? b->report_path
                     : cfg->report_path ? cfg->report_path
                                        : "/run/openshell/bootstrap.json");
    if (!r->path) {
        free(r);
        return oss_err(err, OSS_ERR_ERRNO, ENOMEM, "out of memory");
    }
    r->started_ms = oss_real_ms();
    *ret = r;
    return 0;
}

void shim_report_set_live(struct shim_report *r, shim_report_live_fn fn, void *ctx)
{
    r->live = fn;
    r->live_ctx = ctx;
}

void shim_report_set_generation(struct shim_report *r, unsigned gen)
{
    r->generation = gen;
}

void shim_report_add_event(struct shim_report *r, const char *kind, const char *json_object)
{
    if (r->nev == SHIM_REPORT_MAX_EVENTS) {
        struct report_event *old = &r->ev[r->first];
        free(old->kind);
        free(old->json);
        r->first = (r->first + 1) % SHIM_REPORT_MAX_EVENTS;
        r->nev--;
        r->dropped++;
    }
    /* Out of memory (NULL json from a failed buffer, or strdup failing):
     * the event is lost and counted; PID 1 does not abort for a report. */
    if (json_object == NULL)
        return shim_report_count_lost(r);
    struct report_event *e = &r->ev[(r->first + r->nev) % SHIM_REPORT_MAX_EVENTS];
    e->kind = strdup(kind ? kind : "event");
    e->json = strdup(*json_object ? json_object : "{}");
    if (!e->kind || !e->json) {
        free(e->kind);
        free(e->json);
        *e = (struct report_event){0};
        return shim_report_count_lost(r);
    }
    e->time_ms = oss_real_ms();
    r->nev++;
}

void shim_report_count_lost(struct shim_report *r)
{
    r->lost_nomem++;
}

void shim_report_json(const struct shim_report *r, oss_buf *out)
{
    oss_json j;
    oss_json_init(&j, out);
    oss_json_obj_begin(&j);
    oss_json_kv_str(&j, "schema", "openshell-shim.bootstrap/v1");
    oss_json_kv_str(&j, "shim_version", OSS_VERSION);
    oss_json_kv_uint(&j, "generation", r->generation);
    oss_json_kv_int(&j, "started_ms", r->started_ms);
    oss_json_kv_int(&j, "written_ms", oss_real_ms());
    oss_json_kv_str(&j, "report_path", r->path);
    oss_json_key(&j, "bootstrap");
    if (r->b)
        shim_bootstrap_json_write(r->b, &j);
    else
        oss_json_null(&j);
    if (r->live)
        r->live(r->live_ctx, &j);
    oss_json_kv_uint(&j, "events_dropped", r->dropped);
    oss_json_kv_uint(&j, "events_lost_nomem", r->lost_nomem);
    oss_json_key(&j, "events");
    oss_json_arr_begin(&j);
    for (size_t i = 0; i < r->nev; i++) {
        const struct report_event *e = &r->ev[(r->first + i) % SHIM_REPORT_MAX_EVENTS];
        oss_json_obj_begin(&j);
        oss_json_kv_str(&j, "kind", e->kind);
        oss_json_kv_int(&j, "time_ms", e->time_ms);
        oss_json_key(&j, "data");
        oss_json_raw(&j, e->json);
        oss_json_obj_end(&j);
    }
    oss_json_arr_end(&j);
    oss_json_obj_end(&j);
}

int shim_report_write(const struct shim_report *r, oss_error *err)
{
    _cleanup_free_ char *dir = strdup(r->path);
    if (!dir)
        return oss_err(err, OSS_ERR_ERRNO, ENOMEM, "out of memory");
    /* 0755: the supervisor and the workload may run as another user and
     * are meant to read the report (it holds no secret). */
    if (oss_mkdir_p(dirname(dir), 0755, err) < 0) {
        oss_err_prefix(err, "report directory");
        return -1;
    }
    _cleanup_buf_ oss_buf out = OSS_BUF_INIT;
    shim_report_json(r, &out);
    oss_buf_putc(&out, '\n');
    if (oss_buf_failed(&out)) /* a partial report must not replace a whole one */
        return oss_err(err, OSS_ERR_ERRNO, ENOMEM, "building the report: out of memory");
    /* Runtime state: replaced atomically for readers, but not fsynced (it
     * is rewritten at each child start; see oss_write_file_replace). */
    if (oss_write_file_replace(r->path, out.data, out.len, 0644, err) < 0) {
        oss_err_prefix(err, "writing the report");
        return -1;
    }
    return 0;
}

void shim_report_free(struct shim_report *r)
{
    if (!r)
        return;
    for (size_t i = 0; i < r->nev; i++) {
        struct report_event *e = &r->ev[(r->first + i) % SHIM_REPORT_MAX_EVENTS];
        free(e->kind);
        free(e->json);
    }
    free(r->path);
    free(r);
}
