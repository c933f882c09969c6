#include "finding.h"
#include "ocsf.h"

#include "bootstrap-internal.h"
#include "cleanup.h"
#include "json.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>

static void copy_env(char *dst, size_t n, const char *name, const char *fallback)
{
    const char *v = getenv(name);
    snprintf(dst, n, "%s", v && *v ? v : fallback);
}

void shim_finding_ctx_init(struct shim_finding_ctx *ctx, int64_t time_ms)
{
    memset(ctx, 0, sizeof *ctx);
    ctx->time_ms = time_ms;
    struct utsname u;
    snprintf(ctx->hostname, sizeof ctx->hostname, "%s", uname(&u) == 0 ? u.nodename : "unknown");
    copy_env(ctx->sandbox_id, sizeof ctx->sandbox_id, "OPENSHELL_SANDBOX_ID", "unknown");
    copy_env(ctx->sandbox_name, sizeof ctx->sandbox_name, "OPENSHELL_SANDBOX_NAME",
             ctx->sandbox_id);
    copy_env(ctx->image, sizeof ctx->image, "OPENSHELL_SANDBOX_IMAGE", "unknown");
}

void shim_finding_json(const struct shim_finding_ctx *ctx, const char *uid, const char *title,
                       const char *message, const char *desc, oss_buf *out)
{
    static const struct shim_ocsf_class finding = {
        2004, "Detection Finding", 2, "Findings", 1, "Create", 200401, "Detection Finding: Create",
    };
    oss_json j;
    oss_json_init(&j, out);
    shim_ocsf_begin(&j, &finding, ctx->time_ms, 4 /* High */);
    oss_json_kv_str(&j, "message", message);

    shim_ocsf_metadata_begin(&j, OSS_VERSION);
    oss_json_key(&j, "profiles");
    oss_json_arr_begin(&j);
    oss_json_str(&j, "security_control");
    oss_json_str(&j, "container");
    oss_json_str(&j, "host");
    oss_json_arr_end(&j);
    oss_json_kv_str(&j, "uid", ctx->sandbox_id);
    oss_json_obj_end(&j);

    oss_json_key(&j, "device");
    oss_json_obj_begin(&j);
    oss_json_kv_str(&j, "hostname", ctx->hostname);
    oss_json_key(&j, "os");
    oss_json_obj_begin(&j);
    oss_json_kv_str(&j, "name", "Linux");
    oss_json_obj_end(&j);
    oss_json_obj_end(&j);

    oss_json_key(&j, "container");
    oss_json_obj_begin(&j);
    oss_json_kv_str(&j, "name", ctx->sandbox_name);
    oss_json_kv_str(&j, "uid", ctx->sandbox_id);
    oss_json_key(&j, "image");
    oss_json_obj_begin(&j);
    oss_json_kv_str(&j, "name", ctx->image);
    oss_json_obj_end(&j);
    oss_json_obj_end(&j);

    oss_json_key(&j, "finding_info");
    oss_json_obj_begin(&j);
    oss_json_kv_str(&j, "uid", uid);
    oss_json_kv_str(&j, "title", title);
    oss_json_kv_str(&j, "desc", desc);
    oss_json_obj_end(&j);

    oss_json_kv_bool(&j, "is_alert", true);
    oss_json_kv_int(&j, "confidence_id", 3);
    oss_json_kv_str(&j, "confidence", "High");
    oss_json_obj_end(&j);
}

/* "veth: EPERM" or "probe error at timeout: ETIMEDOUT". */
static void cause(const struct shim_probe_result *p, oss_buf *out)
{
    oss_buf_printf(out, "%s%s: %s", p->status == SHIM_PROBE_ERROR ? "probe error at " : "",
                   p->step[0] ? p->step : "?", oss_errno_name(p->err));
}

void shim_finding_for(const struct shim_bootstrap *b, enum shim_subsys s,
                      const struct shim_finding_ctx *ctx, oss_buf *out)
{
    const struct shim_probe_result *p = &b->probes[s];
    _cleanup_buf_ oss_buf msg = OSS_BUF_INIT;
    _cleanup_buf_ oss_buf why = OSS_BUF_INIT;
    cause(p, &why);
    const char *uid = "", *title = "", *desc = "";

    switch (s) {
    case SHIM_SUB_NETNS: {
        _cleanup_free_ char *url = shim_url_redact(b->proxy_url);
        uid = "netns-unavailable";
        title = "Network Namespace Unavailable";
        desc = "The workload shares the sandbox's network stack instead of a private namespace "
               "behind a veth pair: egress is no longer forced through the policy proxy.";
        oss_buf_printf(&msg,
                       "Network namespace isolation unavailable (%s): egress policy is enforced "
                       "only for clients that honour the proxy variables, set to %s",
                       why.data, url ? url : "?");
        break;
    }
    case SHIM_SUB_SECCOMP:
        uid = "seccomp-unavailable";
        title = "Seccomp Filter Unavailable";
        desc = "The supervisor cannot install its own seccomp filters (prelude and workload); "
               "dangerous system calls are denied only by the shim's fallback filter, if any.";
        if (b->plan.active)
            oss_buf_printf(&msg,
                           "Supervisor seccomp filter unavailable (%s): replaced by the shim's "
                           "'%s' fallback filter (%u syscall rules, EPERM)",
                           why.data, b->plan.workload ? "workload" : "prelude", b->prog.rules);
        else
            oss_buf_printf(&msg,
                           "Supervisor seccomp filter unavailable (%s): no fallback filter "
                           "replaces it (%s)",
                           why.data, b->plan.reason ? b->plan.reason : "none planned");
        break;
    case SHIM_SUB_LANDLOCK:
        uid = "landlock-unavailable";
        title = "Landlock Filesystem Sandbox Unavailable";
        desc = "The workload's filesystem access is limited only by file permissions and the "
               "container's mounts, not by the policy's Landlock rules.";
        oss_buf_printf(&msg, "Landlock filesystem sandbox unavailable (%s): nothing replaces it",
                       why.data);
        break;
    case SHIM_SUB_PRIVDROP:
        uid = "privdrop-unavailable";
        title = "Privilege Drop Unavailable";
        /* No upstream variant has a switch that skips its drop
         * (docs/platform/supervisor.md, privilege drop): degrading it here
         * only lets the shim start the supervisor, whose drop then fails. */
        desc = "The supervisor's privilege drop fails here and no upstream switch skips it: "
               "the supervisor exits before its workload starts, unless it already runs as "
               "the sandbox identity.";
        oss_buf_printf(&msg,
                       "Privilege drop to %u:%u unavailable (%s): the supervisor will exit at its "
                       "privilege drop; the workload cannot start here (needs CAP_SETGID, "
                       "CAP_SETUID, and CAP_SETPCAP on main, or a container running as the "
                       "sandbox user)",
                       (unsigned)b->run_uid, (unsigned)b->run_gid, why.data);
        break;
    case SHIM_SUB_COUNT:
        return;
    }
    shim_finding_json(ctx, uid, title, msg.data, desc, out);
}
