/* `openshell-shim doctor`: the probes and the decisions, without starting
 * anything, so an operator can see what a policy would do on this machine. */
#include "bootstrap-internal.h"

#include "cleanup.h"
#include "fs.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

static void table(const struct shim_bootstrap *b, oss_buf *o)
{
    const struct shim_runtime_facts *f = &b->facts;
    oss_buf_printf(o, "runtime: %s (%s)\n", f->gvisor ? "gVisor" : "native kernel", f->kernel);
    oss_buf_printf(
        o, "process: uid %u, pid1 %s, no_new_privs %d, seccomp mode %d, nofile %llu/%llu\n\n",
        (unsigned)f->uid, f->pid1 ? "yes" : "no", f->no_new_privs, f->seccomp_mode, f->nofile_soft,
        f->nofile_hard);
    oss_buf_printf(o, "%-10s %-12s %-11s %-9s %s\n", "SUBSYSTEM", "PROBE", "DECISION", "TIME",
                   "DETAIL");
    for (int s = 0; s < SHIM_SUB_COUNT; s++) {
        const struct shim_probe_result *p = &b->probes[s];
        char t[24] = "-";
        char why[64] = "";
        if (p->status != SHIM_PROBE_NOT_RUN)
            snprintf(t, sizeof t, "%.1fms", (double)p->usec / 1000.0);
        if (p->status == SHIM_PROBE_UNSUPPORTED || p->status == SHIM_PROBE_ERROR)
            snprintf(why, sizeof why, "%s: %s; ", p->step, oss_errno_name(p->err));
        oss_buf_printf(o, "%-10s %-12s %-11s %-9s %s%s\n", shim_subsys_name((enum shim_subsys)s),
                       shim_probe_status_name(p->status), shim_verdict_name(b->verdict[s]), t, why,
                       p->detail);
    }
    oss_buf_printf(o, "\nfallback seccomp: %s, %s (%s)\n", shim_fallback_mode_name(b->plan.mode),
                   b->plan.active ? (b->plan.workload ? "workload list" : "prelude list")
                                  : "inactive",
                   b->plan.reason ? b->plan.reason : "");
    for (size_t i = 0; i < b->env.n; i++)
        if (b->env.e[i].action == SHIM_ENV_WORKLOAD)
            oss_buf_printf(o, "env: %s=%s on the workload only: %s\n", b->env.e[i].name,
                           b->env.e[i].secret_free ? b->env.e[i].value : "(a URL)",
                           b->env.e[i].why);
        else if (b->env.e[i].action == SHIM_ENV_REMOVED)
            oss_buf_printf(o, "env: %s would be removed: %s\n", b->env.e[i].name, b->env.e[i].why);
        else if (b->env.e[i].action == SHIM_ENV_SET)
            oss_buf_printf(o, "env: %s=%s would be set: %s\n", b->env.e[i].name,
                           b->env.e[i].secret_free ? b->env.e[i].value : "(a URL)",
                           b->env.e[i].why);
        else
            oss_buf_printf(o, "env: %s already set by the operator, left alone\n",
                           b->env.e[i].name);
    oss_buf_printf(o, "\nsupervisor contract: %s\n", shim_contract_name(b->contract));
    oss_buf_printf(o, "%-18s %-9s %-9s %-9s %-9s %-9s %s\n", "VARIANT", "NETNS", "SUP-SECC",
                   "PRIVDROP", "LANDLOCK", "WL-SECC", "WORKLOAD");
    for (int v = 0; v < SHIM_VARIANT_COUNT; v++) {
        const struct shim_variant_outcome *vo = &b->variants[v];
        char name[32];
        snprintf(name, sizeof name, "%s@%s", shim_variant_name((enum shim_variant)v),
                 shim_variant_commit((enum shim_variant)v));
        oss_buf_printf(o, "%-18s", name);
        for (int s = 0; s < SHIM_STEP_COUNT; s++)
            oss_buf_printf(o, " %-9s", shim_outcome_name(vo->step[s]));
        oss_buf_puts(o, vo->starts ? " starts\n" : " CANNOT START HERE\n");
    }
    for (int v = 0; v < SHIM_VARIANT_COUNT; v++) {
        const char *fix = shim_variant_fix(b, (enum shim_variant)v);
        if (fix && !b->variants[v].starts)
            oss_buf_printf(o, "  %s: stops at %s: %s\n", shim_variant_name((enum shim_variant)v),
                           b->variants[v].skip_parse_err
                               ? "skip-bootstrap parsing"
                               : shim_sup_step_name((enum shim_sup_step)b->variants[v].stops_at),
                           fix);
    }
    _cleanup_buf_ oss_buf line = OSS_BUF_INIT;
    if (shim_refusal_line(b->verdict, b->probes, b->degrade_mask, &line))
        oss_buf_printf(o, "\nverdict: REFUSED: %s\n", line.data);
    else if (!b->variants[SHIM_VARIANT_MAIN].starts && !b->variants[SHIM_VARIANT_PR1549].starts &&
             !b->variants[SHIM_VARIANT_PR1548].starts)
        oss_buf_puts(o, "\nverdict: the shim would start the supervisor, but no upstream "
                        "supervisor variant can start the workload here (see above)\n");
    else if (shim_verdict_mask(b->verdict, SHIM_VERDICT_DEGRADED))
        oss_buf_puts(o,
                     "\nverdict: the supervisor would start DEGRADED (see findings in the log)\n");
    else
        oss_buf_puts(o, "\nverdict: the supervisor would start with every probed protection\n");
    oss_buf_printf(o, "probes took %.1f ms\n", (double)b->total_usec / 1000.0);
}

int shim_doctor_main(const struct shim_config *cfg)
{
    struct shim_bootstrap *b = NULL;
    oss_error err = {0};
    if (shim_bootstrap_prepare(cfg, &b, &err) < 0) {
        oss_log(OSS_LOG_ERROR, "doctor: %s", err.msg);
        return SHIM_EXIT_USAGE;
    }
    _cleanup_buf_ oss_buf out = OSS_BUF_INIT;
    if (cfg->json) {
        struct shim_report *r = NULL;
        if (shim_report_new(cfg, b, &r, &err) < 0) {
            oss_log(OSS_LOG_ERROR, "doctor: %s", err.msg);
            shim_bootstrap_free(b);
            return SHIM_EXIT_USAGE;
        }
        shim_report_json(r, &out);
        oss_buf_putc(&out, '\n');
        shim_report_free(r);
    } else {
        table(b, &out);
    }
    (void)oss_write_all(STDOUT_FILENO, out.data, out.len);
    bool refused = shim_bootstrap_refused(b, &err);
    shim_bootstrap_free(b);
    return refused ? SHIM_EXIT_POLICY : 0;
}
