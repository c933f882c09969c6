/* JSON for the bootstrap section of the report (schema: docs/probes.md). */
#include "bootstrap-internal.h"

#include "cleanup.h"

#include <stdio.h>
#include <stdlib.h>

static void caps_hex(oss_json *j, const char *key, uint64_t v)
{
    char s[24];
    snprintf(s, sizeof s, "%016llx", (unsigned long long)v);
    oss_json_kv_str(j, key, s);
}

void shim_runtime_facts_json(const struct shim_runtime_facts *f, oss_json *j)
{
    oss_json_obj_begin(j);
    oss_json_kv_bool(j, "gvisor", f->gvisor);
    oss_json_kv_str(j, "kernel", f->kernel);
    oss_json_kv_int(j, "no_new_privs", f->no_new_privs);
    oss_json_kv_int(j, "seccomp_mode", f->seccomp_mode);
    oss_json_kv_int(j, "seccomp_filters", f->seccomp_filters);
    if (f->caps_known) {
        caps_hex(j, "cap_effective", f->cap_effective);
        caps_hex(j, "cap_bounding", f->cap_bounding);
    }
    oss_json_key(j, "nofile");
    oss_json_obj_begin(j);
    oss_json_kv_uint(j, "soft", f->nofile_soft);
    oss_json_kv_uint(j, "hard", f->nofile_hard);
    oss_json_obj_end(j);
    oss_json_kv_uint(j, "uid", f->uid);
    oss_json_kv_uint(j, "euid", f->euid);
    oss_json_kv_uint(j, "gid", f->gid);
    oss_json_kv_bool(j, "pid1", f->pid1);
    oss_json_kv_int(j, "usec", f->usec);
    oss_json_obj_end(j);
}

void shim_probe_result_json(enum shim_subsys s, const struct shim_probe_result *p, oss_json *j)
{
    oss_json_obj_begin(j);
    oss_json_kv_str(j, "status", shim_probe_status_name(p->status));
    if (p->status == SHIM_PROBE_UNSUPPORTED || p->status == SHIM_PROBE_ERROR) {
        oss_json_kv_str(j, "step", p->step);
        oss_json_kv_int(j, "errno", p->err);
        oss_json_kv_str(j, "errno_name", oss_errno_name(p->err));
    }
    if (p->status != SHIM_PROBE_NOT_RUN) {
        oss_json_kv_str(j, "detail", p->detail);
        oss_json_kv_int(j, "usec", p->usec);
    }
    if (p->status == SHIM_PROBE_NOT_RUN || p->status == SHIM_PROBE_ERROR) {
        oss_json_obj_end(j);
        return;
    }
    switch (s) {
    case SHIM_SUB_NETNS:
        if (p->status == SHIM_PROBE_SUPPORTED)
            oss_json_kv_str(j, "peer", p->u.netns.peer_at_create ? "created_inside" : "moved");
        break;
    case SHIM_SUB_SECCOMP:
        oss_json_kv_int(j, "api_level", p->u.seccomp.api_level);
        oss_json_key(j, "flags");
        oss_json_obj_begin(j);
        for (int f = 0; f < SHIM_SECFLAG_COUNT; f++) {
            oss_json_key(j, shim_secflag_name((enum shim_seccomp_flag_probe)f));
            if (p->u.seccomp.flags_ok & (1u << f))
                oss_json_str(j, "accepted");
            else
                oss_json_str(j, oss_errno_name(p->u.seccomp.flag_errno[f]));
        }
        oss_json_obj_end(j);
        oss_json_key(j, "programs");
        oss_json_obj_begin(j);
        oss_json_kv_str(j, "prelude",
                        p->u.seccomp.prelude_err == 0  ? "loads"
                        : p->u.seccomp.prelude_err < 0 ? "not_tried"
                                                       : oss_errno_name(p->u.seccomp.prelude_err));
        oss_json_kv_str(j, "workload",
                        p->u.seccomp.workload_err == 0 ? "loads"
                        : p->u.seccomp.workload_err < 0
                            ? "not_tried"
                            : oss_errno_name(p->u.seccomp.workload_err));
        oss_json_obj_end(j);
        break;
    case SHIM_SUB_LANDLOCK:
        if (p->status == SHIM_PROBE_SUPPORTED)
            oss_json_kv_int(j, "abi", p->u.landlock.abi);
        break;
    case SHIM_SUB_PRIVDROP:
        oss_json_kv_uint(j, "uid", p->u.privdrop.uid);
        oss_json_kv_uint(j, "gid", p->u.privdrop.gid);
        oss_json_kv_bool(j, "already", p->u.privdrop.already);
        caps_hex(j, "cap_effective", p->u.privdrop.cap_effective);
        caps_hex(j, "cap_permitted", p->u.privdrop.cap_permitted);
        caps_hex(j, "cap_bounding", p->u.privdrop.cap_bounding);
        break;
    default:
        break;
    }
    oss_json_obj_end(j);
}

/* The hint for a variant that cannot start its workload here. */
const char *shim_variant_fix(const struct shim_bootstrap *b, enum shim_variant v)
{
    const struct shim_variant_outcome *o = &b->variants[v];
    if (o->skip_parse_err)
        return "OPENSHELL_SKIP_BOOTSTRAP holds a token pull request 1549 does not know";
    switch (o->stops_at) {
    case SHIM_STEP_NETNS:
    case SHIM_STEP_SUPERVISOR_SECCOMP:
    case SHIM_STEP_WORKLOAD_SECCOMP:
        return v == SHIM_VARIANT_MAIN
                   ? "main has no switch to skip this step: a supervisor with OpenShell pull "
                     "request 1549 and --degrade for it"
                   : "allow it with --degrade (the shim then sets the variant's switch)";
    case SHIM_STEP_PRIVDROP:
        return "no upstream switch skips the privilege drop: it needs CAP_SETGID and CAP_SETUID "
               "(and CAP_SETPCAP on main), e.g. through Substrate's per-container "
               "securityContext (agent-substrate/substrate pull request 73), or a container "
               "that already runs as the sandbox user (runAsUser), which pull requests 1549 and "
               "1548 accept as the drop already done";
    default:
        return NULL;
    }
}

void shim_variants_json(const struct shim_bootstrap *b, oss_json *j)
{
    oss_json_key(j, "supervisor_variants");
    oss_json_obj_begin(j);
    for (int v = 0; v < SHIM_VARIANT_COUNT; v++) {
        const struct shim_variant_outcome *o = &b->variants[v];
        oss_json_key(j, shim_variant_name((enum shim_variant)v));
        oss_json_obj_begin(j);
        oss_json_kv_str(j, "commit", shim_variant_commit((enum shim_variant)v));
        oss_json_key(j, "steps");
        oss_json_obj_begin(j);
        for (int s = 0; s < SHIM_STEP_COUNT; s++)
            oss_json_kv_str(j, shim_sup_step_name((enum shim_sup_step)s),
                            shim_outcome_name(o->step[s]));
        oss_json_obj_end(j);
        oss_json_kv_bool(j, "workload_starts", o->starts);
        oss_json_kv_str(j, "stops_at",
                        o->skip_parse_err  ? "skip-bootstrap-parse"
                        : o->stops_at >= 0 ? shim_sup_step_name((enum shim_sup_step)o->stops_at)
                                           : NULL);
        oss_json_kv_str(j, "fix", shim_variant_fix(b, (enum shim_variant)v));
        oss_json_obj_end(j);
    }
    oss_json_obj_end(j);
}

static void subsys_list(oss_json *j, const char *key, unsigned mask)
{
    oss_json_key(j, key);
    oss_json_arr_begin(j);
    for (int s = 0; s < SHIM_SUB_COUNT; s++)
        if (mask & SHIM_SUB_BIT(s))
            oss_json_str(j, shim_subsys_name((enum shim_subsys)s));
    oss_json_arr_end(j);
}

void shim_bootstrap_json_write(const struct shim_bootstrap *b, oss_json *j)
{
    oss_json_obj_begin(j);
    oss_json_key(j, "policy");
    oss_json_obj_begin(j);
    subsys_list(j, "probes", b->probe_mask);
    subsys_list(j, "degrade", b->degrade_mask);
    oss_json_kv_str(j, "fallback_seccomp", shim_fallback_mode_name(b->plan.mode));
    char ra[32];
    snprintf(ra, sizeof ra, "%u:%u", (unsigned)b->run_uid, (unsigned)b->run_gid);
    oss_json_kv_str(j, "run_as", ra);
    oss_json_kv_bool(j, "run_as_default", !b->run_as_set);
    oss_json_kv_str(j, "run_as_source",
                    b->run_as_set     ? "--run-as"
                    : b->sandbox_user ? "the image's sandbox user"
                                      : "none: no sandbox user in /etc/passwd");
    oss_json_kv_int(j, "probe_timeout_ms", b->timeout_ms);
    static const char *const netns_probe[] = {"auto", "move", "create"};
    oss_json_kv_str(j, "netns_probe", netns_probe[b->netns_probe]);
    oss_json_obj_end(j);

    oss_json_key(j, "runtime");
    shim_runtime_facts_json(&b->facts, j);

    oss_json_key(j, "probes");
    oss_json_obj_begin(j);
    for (int s = 0; s < SHIM_SUB_COUNT; s++) {
        oss_json_key(j, shim_subsys_name((enum shim_subsys)s));
        shim_probe_result_json((enum shim_subsys)s, &b->probes[s], j);
    }
    oss_json_obj_end(j);

    oss_json_key(j, "decisions");
    oss_json_obj_begin(j);
    for (int s = 0; s < SHIM_SUB_COUNT; s++)
        oss_json_kv_str(j, shim_subsys_name((enum shim_subsys)s), shim_verdict_name(b->verdict[s]));
    oss_json_obj_end(j);

    unsigned fatal = shim_verdict_mask(b->verdict, SHIM_VERDICT_FATAL);
    unsigned degraded = shim_verdict_mask(b->verdict, SHIM_VERDICT_DEGRADED);
    oss_json_kv_str(j, "outcome", fatal ? "refused" : degraded ? "degraded" : "ok");
    _cleanup_buf_ oss_buf line = OSS_BUF_INIT;
    if (shim_refusal_line(b->verdict, b->probes, b->degrade_mask, &line))
        oss_json_kv_str(j, "refusal", line.data);
    else
        oss_json_kv_str(j, "refusal", NULL);

    oss_json_key(j, "fallback_seccomp");
    oss_json_obj_begin(j);
    oss_json_kv_str(j, "mode", shim_fallback_mode_name(b->plan.mode));
    oss_json_kv_bool(j, "active", b->plan.active);
    oss_json_kv_str(j, "list", !b->plan.active ? NULL : b->plan.workload ? "workload" : "prelude");
    oss_json_kv_str(j, "reason", b->plan.reason);
    oss_json_kv_uint(j, "syscalls", b->plan.active ? b->prog.rules : 0);
    oss_json_kv_uint(j, "bpf_instructions", b->plan.active ? b->prog.len : 0);
    oss_json_key(j, "flags");
    oss_json_arr_begin(j);
    for (int f = 1; f < SHIM_SECFLAG_COUNT; f++)
        if (b->plan.flags & shim_secflag_value((enum shim_seccomp_flag_probe)f))
            oss_json_str(j, shim_secflag_name((enum shim_seccomp_flag_probe)f));
    oss_json_arr_end(j);
    oss_json_obj_end(j);

    /* Names always; values only where they cannot hold a secret (the proxy
     * URL is shown with any user:password removed). */
    oss_json_key(j, "env");
    oss_json_arr_begin(j);
    for (size_t i = 0; i < b->env.n; i++) {
        const struct shim_env_entry *e = &b->env.e[i];
        oss_json_obj_begin(j);
        oss_json_kv_str(j, "name", e->name);
        oss_json_kv_str(j, "action",
                        e->action == SHIM_ENV_SET        ? "set"
                        : e->action == SHIM_ENV_REMOVED  ? "removed"
                        : e->action == SHIM_ENV_WORKLOAD ? "workload"
                                                         : "operator");
        oss_json_kv_str(j, "why", e->why);
        if (e->action == SHIM_ENV_SET || e->action == SHIM_ENV_WORKLOAD) {
            if (e->secret_free) {
                oss_json_kv_str(j, "value", e->value);
            } else {
                _cleanup_free_ char *red = shim_url_redact(e->value);
                oss_json_kv_str(j, "value", red);
            }
        }
        oss_json_obj_end(j);
    }
    oss_json_arr_end(j);

    oss_json_kv_str(j, "supervisor_contract", shim_contract_name(b->contract));
    oss_json_kv_str(j, "proxy_env", b->proxy_note);
    oss_json_key(j, "token");
    oss_json_obj_begin(j);
    oss_json_kv_str(j, "file", b->token_path[0] ? b->token_path : NULL);
    oss_json_kv_str(j, "note", b->token_note[0] ? b->token_note : NULL);
    oss_json_obj_end(j);
    oss_json_key(j, "tls");
    oss_json_obj_begin(j);
    oss_json_kv_str(j, "note", b->tls_note[0] ? b->tls_note : NULL);
    oss_json_key(j, "files");
    oss_json_arr_begin(j);
    for (size_t i = 0; i < SHIM_TLS_NFILES; i++) {
        if (!b->tls_path[i][0])
            continue;
        oss_json_obj_begin(j);
        oss_json_kv_str(j, "from", shim_tls_pem_vars[i]);
        oss_json_kv_str(j, "variable", shim_tls_path_vars[i]);
        oss_json_kv_str(j, "path", b->tls_path[i]);
        oss_json_obj_end(j);
    }
    oss_json_arr_end(j);
    oss_json_obj_end(j);
    shim_variants_json(b, j);

    oss_json_key(j, "timings_us");
    oss_json_obj_begin(j);
    oss_json_kv_int(j, "runtime", b->facts.usec);
    for (int s = 0; s < SHIM_SUB_COUNT; s++)
        if (b->probe_mask & SHIM_SUB_BIT(s))
            oss_json_kv_int(j, shim_subsys_name((enum shim_subsys)s), b->probes[s].usec);
    oss_json_kv_int(j, "total", b->total_usec);
    oss_json_obj_end(j);
    oss_json_obj_end(j);
}
