/* Test driver for the bootstrap: runs shim_bootstrap_prepare() under the
 * given flags (optionally after installing a fault injector on itself) and
 * prints every result as KEY=VALUE lines, the report JSON, the findings, or
 * runs a command under the planned fallback filter and child environment.
 *
 *   probe-run [--probes L] [--degrade L] [--fallback M] [--run-as U:G]
 *             [--proxy-url U] [--report P] [--timeout MS] [--inject SPEC]
 *             [--json | --findings | --doctor | --doctor-json | --bench N |
 *              --reprobe [--inject-after SPEC]]
 *             [--exec -- CMD...]
 */
#include "bootstrap-internal.h"

#include "cleanup.h"
#include "fs.h"
#include "inject.h"
#include "util.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

static int die(const char *what, const oss_error *err)
{
    fprintf(stderr, "probe-run: %s: %s\n", what, err ? err->msg : strerror(errno));
    return 2;
}

static void print_kv(const struct shim_bootstrap *b)
{
    for (int s = 0; s < SHIM_SUB_COUNT; s++) {
        const struct shim_probe_result *p = &b->probes[s];
        const char *n = shim_subsys_name((enum shim_subsys)s);
        printf("probe.%s=%s\n", n, shim_probe_status_name(p->status));
        printf("step.%s=%s\n", n, p->step);
        printf("errno.%s=%s\n", n, p->err ? oss_errno_name(p->err) : "");
        printf("verdict.%s=%s\n", n, shim_verdict_name(b->verdict[s]));
        printf("usec.%s=%lld\n", n, (long long)p->usec);
    }
    printf("seccomp.flags_ok=%u\n", b->probes[SHIM_SUB_SECCOMP].u.seccomp.flags_ok);
    printf("landlock.abi=%d\n", b->probes[SHIM_SUB_LANDLOCK].u.landlock.abi);
    printf("runtime.gvisor=%d\n", b->facts.gvisor);
    printf("fallback.active=%d\n", b->plan.active);
    printf("fallback.list=%s\n", !b->plan.active ? "" : b->plan.workload ? "workload" : "prelude");
    printf("fallback.flags=%lu\n", b->plan.flags);
    printf("fallback.rules=%u\n", b->prog.rules);
    oss_error e = {0};
    bool refused = shim_bootstrap_refused(b, &e);
    printf("refused=%d\n", refused);
    printf("refusal=%s\n", refused ? e.msg : "");
    for (size_t i = 0; i < b->env.n; i++)
        printf("env.%s=%s %s\n", b->env.e[i].name,
               b->env.e[i].action == SHIM_ENV_SET ? "set" : "operator", b->env.e[i].value);
    printf("total_usec=%lld\n", (long long)b->total_usec);
}

static int cmp_ll(const void *a, const void *b)
{
    long long x = *(const long long *)a, y = *(const long long *)b;
    return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
    struct shim_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.probe_mask = SHIM_SUB_ALL;
    cfg.proxy_url = "http://127.0.0.1:3128";
    cfg.report_path = "/run/openshell/bootstrap.json";
    cfg.probe_timeout_ms = 2000;
    const char *inject = NULL, *inject_after = NULL, *mode = "kv";
    int bench = 0;
    char **exec_argv = NULL;
    oss_error err = {0};

    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--probes") && v) {
            if (shim_subsys_list_parse(v, &cfg.probe_mask, &err) < 0)
                return die("--probes", &err);
            i++;
        } else if (!strcmp(a, "--degrade") && v) {
            if (shim_subsys_list_parse(v, &cfg.degrade_mask, &err) < 0)
                return die("--degrade", &err);
            i++;
        } else if (!strcmp(a, "--fallback") && v) {
            cfg.fallback_seccomp = !strcmp(v, "prelude")    ? SHIM_FALLBACK_PRELUDE
                                   : !strcmp(v, "workload") ? SHIM_FALLBACK_WORKLOAD
                                   : !strcmp(v, "off")      ? SHIM_FALLBACK_OFF
                                                            : SHIM_FALLBACK_AUTO;
            i++;
        } else if (!strcmp(a, "--run-as") && v) {
            unsigned u, g;
            if (sscanf(v, "%u:%u", &u, &g) != 2)
                return die("--run-as", NULL);
            cfg.run_as_set = true;
            cfg.run_as_uid = u;
            cfg.run_as_gid = g;
            i++;
        } else if (!strcmp(a, "--proxy-url") && v) {
            cfg.proxy_url = argv[++i];
        } else if (!strcmp(a, "--report") && v) {
            cfg.report_path = argv[++i];
        } else if (!strcmp(a, "--timeout") && v) {
            cfg.probe_timeout_ms = atoll(argv[++i]);
        } else if (!strcmp(a, "--inject") && v) {
            inject = argv[++i];
        } else if (!strcmp(a, "--inject-after") && v) {
            inject_after = argv[++i]; /* installed after prepare, before --reprobe */
        } else if (!strcmp(a, "--bench") && v) {
            bench = atoi(argv[++i]);
            mode = "bench";
        } else if (!strcmp(a, "--json") || !strcmp(a, "--findings") || !strcmp(a, "--doctor") ||
                   !strcmp(a, "--doctor-json") || !strcmp(a, "--reprobe") ||
                   !strcmp(a, "--write-report")) {
            mode = a + 2;
        } else if (!strcmp(a, "--exec") && i + 2 < argc && !strcmp(argv[i + 1], "--")) {
            exec_argv = argv + i + 2;
            break;
        } else {
            fprintf(stderr, "probe-run: bad argument %s\n", a);
            return 2;
        }
    }
    if (inject && test_inject_install(inject, &err) < 0)
        return die("inject", &err);

    if (!strcmp(mode, "doctor") || !strcmp(mode, "doctor-json")) {
        cfg.json = !strcmp(mode, "doctor-json");
        return shim_doctor_main(&cfg);
    }
    if (!strcmp(mode, "bench")) {
        long long *t = calloc((size_t)bench, sizeof *t);
        for (int k = 0; k < bench; k++) {
            struct shim_bootstrap *b;
            int64_t s = oss_mono_ns();
            if (shim_bootstrap_prepare(&cfg, &b, &err) < 0)
                return die("prepare", &err);
            t[k] = (oss_mono_ns() - s) / 1000;
            shim_bootstrap_free(b);
        }
        qsort(t, (size_t)bench, sizeof *t, cmp_ll);
        printf("runs=%d median_us=%lld min_us=%lld max_us=%lld\n", bench, t[bench / 2], t[0],
               t[bench - 1]);
        free(t);
        return 0;
    }

    struct shim_bootstrap *b = NULL;
    if (shim_bootstrap_prepare(&cfg, &b, &err) < 0)
        return die("prepare", &err);
    char **env = shim_bootstrap_child_env(b, environ);
    if (!env)
        return die("child env", NULL);

    if (exec_argv) {
        oss_error e2 = {0};
        if (shim_bootstrap_refused(b, &e2)) {
            fprintf(stderr, "probe-run: refused: %s\n", e2.msg);
            shim_env_free(env);
            shim_bootstrap_free(b);
            return SHIM_EXIT_POLICY;
        }
        fflush(stdout);
        pid_t pid = fork();
        if (pid == 0) {
            int r = shim_bootstrap_child_apply(b);
            if (r < 0) {
                fprintf(stderr, "probe-run: child_apply: %s\n", strerror(-r));
                _exit(126);
            }
            execve(exec_argv[0], exec_argv, env);
            _exit(127);
        }
        int st;
        waitpid(pid, &st, 0);
        shim_env_free(env);
        shim_bootstrap_free(b);
        return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
    }

    int rc = 0;
    if (!strcmp(mode, "kv")) {
        print_kv(b);
    } else if (!strcmp(mode, "findings")) {
        fflush(stdout);
        shim_bootstrap_emit_findings(b, STDOUT_FILENO);
    } else if (!strcmp(mode, "reprobe")) {
        _cleanup_buf_ oss_buf o = OSS_BUF_INIT;
        if (inject_after && test_inject_install(inject_after, &err) < 0)
            return die("inject-after", &err);
        if (shim_bootstrap_reprobe(b, &o, &err) < 0)
            return die("reprobe", &err);
        printf("%s\n", o.data);
    } else if (!strcmp(mode, "json") || !strcmp(mode, "write-report")) {
        struct shim_report *r;
        if (shim_report_new(&cfg, b, &r, &err) < 0)
            return die("report", &err);
        shim_report_set_generation(r, 1);
        shim_report_add_event(r, "test", "{\"note\":\"from probe-run\"}");
        _cleanup_buf_ oss_buf o = OSS_BUF_INIT;
        if (shim_bootstrap_reprobe(b, &o, &err) < 0)
            return die("reprobe", &err);
        shim_report_add_event(r, "reprobe", o.data);
        if (!strcmp(mode, "json")) {
            _cleanup_buf_ oss_buf j = OSS_BUF_INIT;
            shim_report_json(r, &j);
            printf("%s\n", j.data);
        } else if (shim_report_write(r, &err) < 0) {
            rc = die("report write", &err);
        }
        shim_report_free(r);
    }
    shim_env_free(env);
    shim_bootstrap_free(b);
    return rc;
}
