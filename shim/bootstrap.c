/* The bootstrap facade: probes -> decisions -> fallback filter -> env. */
#include "bootstrap-internal.h"

#include "cleanup.h"
#include "fs.h"
#include "policy/tokenfile.h"
#include "probe/passwd.h"
#include "report/finding.h"
#include "util.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define DEFAULT_PROBE_TIMEOUT_MS 2000
#define DEFAULT_RUN_AS           65534 /* "nobody", as the supervisor's default policy user */
#define DEFAULT_PROXY_URL        "http://127.0.0.1:3128"
#define DEFAULT_REPORT_PATH      "/run/openshell/bootstrap.json"
#define SANDBOX_PASSWD           "/etc/passwd"

extern char **environ;

static struct shim_netns_probe_arg netns_arg(const struct shim_bootstrap *b)
{
    return (struct shim_netns_probe_arg){
        .tag = b->netns_tag,
        .peer_at_create = shim_netns_probe_creates(b->netns_probe, b->facts.gvisor)};
}

/* Removes what a netns probe child left behind (idempotent). */
static void netns_cleanup(const struct shim_bootstrap *b)
{
    struct shim_netns_probe_arg a = netns_arg(b);
    shim_probe_netns_cleanup(&a);
}

/* A netns child killed mid-way (timeout, crash) may have left its namespace
 * mount or veth behind: those outlive the child. */
static void netns_cleanup_after(const struct shim_bootstrap *b, const struct shim_probe_result *res)
{
    if (res->status == SHIM_PROBE_ERROR &&
        (!strcmp(res->step, "timeout") || !strcmp(res->step, "child")))
        netns_cleanup(b);
}

/* One of the probes other than netns, in a light child (the shim waits for
 * it): at bootstrap, and again after a restore. */
static int run_light(const struct shim_bootstrap *b, struct shim_probe_light_session *ls,
                     enum shim_subsys s, struct shim_probe_result *res, oss_error *err)
{
    int64_t start = oss_mono_ns();
    int r = 0;
    switch (s) {
    case SHIM_SUB_SECCOMP:
        r = shim_probe_seccomp(ls, b->timeout_ms, res, err);
        break;
    case SHIM_SUB_LANDLOCK:
        r = shim_probe_landlock(ls, b->timeout_ms, res, err);
        break;
    case SHIM_SUB_PRIVDROP: {
        struct shim_privdrop_probe_arg a = {.uid = b->run_uid, .gid = b->run_gid};
        r = shim_probe_privdrop(ls, &a, b->timeout_ms, res, err);
        break;
    }
    default:
        break;
    }
    if (r < 0) {
        oss_err_prefix(err, "%s probe", shim_subsys_name(s));
        return -1;
    }
    res->usec = (oss_mono_ns() - start) / 1000; /* what the shim read itself, too */
    if (res->usec <= 0)
        res->usec = 1;
    return 0;
}

static void light_endp(struct shim_probe_light_session *ls)
{
    shim_probe_light_end(ls);
}

/* The probes other than netns that the mask asks for, into res[], in one
 * light session; *ret_ran (may be NULL) says which ran. */
static int run_lights(const struct shim_bootstrap *b, struct shim_probe_result res[],
                      unsigned *ret_ran, oss_error *err)
{
    static const enum shim_subsys light[] = {SHIM_SUB_SECCOMP, SHIM_SUB_LANDLOCK,
                                             SHIM_SUB_PRIVDROP};
    __attribute__((cleanup(light_endp))) struct shim_probe_light_session ls = {0};
    unsigned ran = 0;
    for (size_t i = 0; i < OSS_ARRAY_SIZE(light); i++) {
        enum shim_subsys s = light[i];
        if (!(b->probe_mask & SHIM_SUB_BIT(s)))
            continue;
        if (ls.map == NULL && shim_probe_light_begin(&ls, err) < 0) {
            oss_err_prefix(err, "%s probe", shim_subsys_name(s));
            return -1;
        }
        if (run_light(b, &ls, s, &res[s], err) < 0)
            return -1;
        ran |= SHIM_SUB_BIT(s);
    }
    if (ret_ran)
        *ret_ran = ran;
    return 0;
}

/* Runs every probe of the mask.  The netns probe, the slow one (libnl, a
 * grandchild for the namespace, the kernel's RCU waits), is forked first
 * and runs meanwhile; the others take turns in light children.  A setup
 * failure (no fork, no clone) kills the netns child and fails. */
static int run_all(struct shim_bootstrap *b, oss_error *err)
{
    struct shim_probe_child netns_kid;
    bool netns_started = false;
    struct shim_netns_probe_arg na = netns_arg(b);
    if (b->probe_mask & SHIM_SUB_BIT(SHIM_SUB_NETNS)) {
        if (shim_probe_start(shim_probe_netns, &na, b->timeout_ms, &netns_kid, err) < 0) {
            oss_err_prefix(err, "netns probe");
            return -1;
        }
        netns_started = true;
    }
    if (run_lights(b, b->probes, NULL, err) < 0) {
        if (netns_started) {
            shim_probe_abandon(&netns_kid);
            netns_cleanup(b);
        }
        return -1;
    }
    if (netns_started) {
        pid_t lingering;
        shim_probe_collect(&netns_kid, &b->probes[SHIM_SUB_NETNS], &lingering);
        netns_cleanup_after(b, &b->probes[SHIM_SUB_NETNS]);
        b->teardown_pid = lingering;
    }
    return 0;
}

static struct shim_seccomp_split seccomp_split(const struct shim_probe_result *p)
{
    struct shim_seccomp_split sp = {0};
    if (p->status == SHIM_PROBE_SUPPORTED || p->status == SHIM_PROBE_UNSUPPORTED) {
        sp.known = p->u.seccomp.prelude_err >= 0 && p->u.seccomp.workload_err >= 0;
        sp.prelude_refused = p->u.seccomp.prelude_err != 0;
        sp.workload_refused = p->u.seccomp.workload_err != 0;
    }
    return sp;
}

static int works(const struct shim_bootstrap *b, enum shim_subsys s)
{
    if (!(b->probe_mask & SHIM_SUB_BIT(s)))
        return -1;
    return b->probes[s].status == SHIM_PROBE_SUPPORTED;
}

/* The env contract for base_env, then what each supervisor variant will do
 * with the environment it then gets. */
static void contract_compute(struct shim_bootstrap *b, char *const *base_env)
{
    struct shim_seccomp_split sp = seccomp_split(&b->probes[SHIM_SUB_SECCOMP]);
    struct shim_env_contract c;
    shim_env_contract_compute_for(b->verdict, &sp, b->contract, b->proxy_url, b->report_path,
                                  base_env, &c);
    shim_env_contract_token(&c, base_env, b->token_path[0] ? b->token_path : NULL);
    shim_env_contract_tls(&c, base_env, b->tls_written);
    if (b->proxy_workload)
        shim_env_contract_proxy_to_workload(&c);
    shim_env_contract_free(&b->env);
    b->env = c;

    const struct shim_probe_result *sc = &b->probes[SHIM_SUB_SECCOMP];
    const struct shim_probe_result *pd = &b->probes[SHIM_SUB_PRIVDROP];
    struct shim_variant_inputs in = {
        .netns = works(b, SHIM_SUB_NETNS),
        .prelude = works(b, SHIM_SUB_SECCOMP),
        .workload_filter = works(b, SHIM_SUB_SECCOMP),
        .landlock = works(b, SHIM_SUB_LANDLOCK),
        .privdrop = works(b, SHIM_SUB_PRIVDROP),
        .privdrop_already = pd->status == SHIM_PROBE_SUPPORTED && pd->u.privdrop.already,
        .euid = b->facts.euid,
        .target_uid = b->run_uid,
        .cap_setpcap = (pd->u.privdrop.cap_effective >> 8) & 1, /* CAP_SETPCAP */
    };
    /* No identity and no "sandbox" user: every variant exits 1 at its user
     * check, before any drop. */
    if (!b->run_as_set && !b->sandbox_user && in.privdrop >= 0)
        in.privdrop = 0, in.privdrop_already = false;
    if (sp.known) {
        in.prelude = !sp.prelude_refused;
        in.workload_filter = !sp.workload_refused;
    } else if (in.prelude == 0 && sc->status == SHIM_PROBE_ERROR) {
        in.prelude = in.workload_filter = -1; /* the probe could not tell */
    }
    for (size_t i = 0; i < b->env.n; i++) {
        const struct shim_env_entry *e = &b->env.e[i];
        const char *val = e->action == SHIM_ENV_SET ? e->value : shim_env_get(base_env, e->name);
        if (!strcmp(e->name, "OPENSHELL_SKIP_BOOTSTRAP"))
            in.skip_bootstrap = val;
        else if (!strcmp(e->name, "OPENSHELL_BEST_EFFORT_FAILURES"))
            in.best_effort = val;
    }
    shim_variants_decide(&in, b->variants);
}

int shim_bootstrap_prepare(const struct shim_config *cfg, struct shim_bootstrap **ret,
                           oss_error *err)
{
    int64_t start = oss_mono_ns();
    struct shim_bootstrap *b = calloc(1, sizeof *b);
    if (!b)
        return oss_err(err, OSS_ERR_ERRNO, ENOMEM, "out of memory");
    b->probe_mask = cfg->probe_mask & SHIM_SUB_ALL;
    b->degrade_mask = cfg->degrade_mask & SHIM_SUB_ALL;
    b->run_as_set = cfg->run_as_set;
    b->run_uid = cfg->run_as_set ? cfg->run_as_uid : DEFAULT_RUN_AS;
    b->run_gid = cfg->run_as_set ? cfg->run_as_gid : DEFAULT_RUN_AS;
    /* Upstream drops to the image's "sandbox" user when nothing else is
     * configured (docs/platform/supervisor.md, privilege drop). */
    if (!cfg->run_as_set &&
        shim_passwd_lookup(SANDBOX_PASSWD, "sandbox", &b->run_uid, &b->run_gid) == 0)
        b->sandbox_user = true;
    b->timeout_ms = cfg->probe_timeout_ms > 0 ? cfg->probe_timeout_ms : DEFAULT_PROBE_TIMEOUT_MS;
    b->netns_probe = cfg->netns_probe;
    b->contract = cfg->contract;
    b->token_file = cfg->token_file;
    /* The workload's command must follow a "--" on the supervisor's command
     * line, and the shim must know its own path, for exec-env. */
    ssize_t el = readlink("/proc/self/exe", b->exe, sizeof b->exe - 1);
    b->exe[el > 0 ? el : 0] = '\0';
    b->proxy_workload = !cfg->proxy_env_supervisor && b->exe[0] == '/' &&
                        shim_workload_argv_wrappable(cfg->child_argv);
    snprintf(b->proxy_note, sizeof b->proxy_note, "%s",
             b->proxy_workload           ? "on the workload's command line (exec-env)"
             : cfg->proxy_env_supervisor ? "in the supervisor's environment: --proxy-env=supervisor"
                                         : "in the supervisor's environment: the workload's "
                                           "command is not after a '--' on its command line");
    if (cfg->state_dir && asprintf(&b->token_dir, "%s/token", cfg->state_dir) < 0)
        b->token_dir = NULL;
    b->state_dir = cfg->state_dir ? strdup(cfg->state_dir) : NULL;
    b->proxy_url = strdup(cfg->proxy_url ? cfg->proxy_url : DEFAULT_PROXY_URL);
    b->report_path = strdup(cfg->report_path ? cfg->report_path : DEFAULT_REPORT_PATH);
    if (!b->proxy_url || !b->report_path) {
        shim_bootstrap_free(b);
        return oss_err(err, OSS_ERR_ERRNO, ENOMEM, "out of memory");
    }
    /* Unique interface names per shim and per call: pid plus clock bits. */
    b->netns_tag = ((unsigned)getpid() << 4 ^ (unsigned)(oss_mono_ns() >> 10)) & 0xffffffu;

    shim_runtime_facts_collect(&b->facts);
    if (run_all(b, err) < 0) {
        shim_bootstrap_free(b);
        return -1;
    }
    memcpy(b->last, b->probes, sizeof b->last);
    b->last_facts = b->facts;

    shim_degrade_decide_all(b->probe_mask, b->degrade_mask, b->probes, b->verdict);

    shim_fallback_plan(cfg->fallback_seccomp, b->probe_mask & SHIM_SUB_BIT(SHIM_SUB_SECCOMP),
                       &b->probes[SHIM_SUB_SECCOMP], &b->plan);
    if (b->plan.active)
        b->prog = *shim_fallback_program(b->plan.workload);

    contract_compute(b, environ);
    b->total_usec = (oss_mono_ns() - start) / 1000;
    *ret = b;
    return 0;
}

bool shim_bootstrap_refused(const struct shim_bootstrap *b, oss_error *err)
{
    _cleanup_buf_ oss_buf line = OSS_BUF_INIT;
    if (!shim_refusal_line(b->verdict, b->probes, b->degrade_mask, &line))
        return false;
    /* The first fatal subsystem's errno is the error's code. */
    int code = 0;
    for (int s = 0; s < SHIM_SUB_COUNT && !code; s++)
        if (b->verdict[s] == SHIM_VERDICT_FATAL)
            code = b->probes[s].err ? b->probes[s].err : EPERM;
    oss_err(err, OSS_ERR_ERRNO, code, "%s", line.data);
    return true;
}

/* Writes the token into <state dir>/token/sandbox-token, 0400 in a 0700
 * directory, only on a tmpfs (never on a disk or a checkpointed bind); the
 * result and the reason go into b (the report). */
static void token_move(struct shim_bootstrap *b, char *const *base_env)
{
    b->token_path[0] = '\0';
    if (!b->token_file) {
        snprintf(b->token_note, sizeof b->token_note, "kept in the environment: --token-file=off");
        return;
    }
    if (!shim_env_token_movable(base_env)) {
        snprintf(b->token_note, sizeof b->token_note,
                 shim_env_get(base_env, "OPENSHELL_SANDBOX_TOKEN_FILE")
                     ? "OPENSHELL_SANDBOX_TOKEN_FILE set by the operator"
                     : "no OPENSHELL_SANDBOX_TOKEN");
        return;
    }
    oss_error err = {0};
    char path[256];
    if (!b->token_dir ||
        snprintf(path, sizeof path, "%s/sandbox-token", b->token_dir) >= (int)sizeof path) {
        snprintf(b->token_note, sizeof b->token_note, "kept in the environment: no state dir");
        return;
    }
    if (shim_token_write(b->token_dir, path, shim_env_get(base_env, "OPENSHELL_SANDBOX_TOKEN"),
                         &err) < 0) {
        snprintf(b->token_note, sizeof b->token_note, "kept in the environment: %s", err.msg);
        return;
    }
    snprintf(b->token_path, sizeof b->token_path, "%s", path);
    snprintf(b->token_note, sizeof b->token_note, "moved to %s (0400, tmpfs)", path);
}

int shim_bootstrap_tls_write(struct shim_bootstrap *b, char *const *base_env, oss_error *err)
{
    struct shim_tls_plan plan;
    b->tls_written = false;
    memset(b->tls_path, 0, sizeof b->tls_path);
    if (shim_tls_plan(base_env, b->state_dir, &plan, err) < 0) {
        snprintf(b->tls_note, sizeof b->tls_note, "refused: %s", err->msg);
        return -1;
    }
    if (plan.n == 0) {
        snprintf(b->tls_note, sizeof b->tls_note, "no OPENSHELL_SHIM_TLS_*_PEM variable");
        return 0;
    }
    for (size_t i = 0; i < plan.n; i++) {
        const struct shim_tls_file *f = &plan.f[i];
        if (shim_secret_write(f->dir, f->path, f->pem, err) < 0) {
            oss_err_prefix(err, "%s to %s (%s)", f->pem_var, f->path, f->path_var);
            snprintf(b->tls_note, sizeof b->tls_note, "refused: %s", err->msg);
            return -1;
        }
        snprintf(b->tls_path[i], sizeof b->tls_path[i], "%s", f->path);
    }
    b->tls_written = true;
    snprintf(b->tls_note, sizeof b->tls_note, "written (0400, tmpfs)");
    return 0;
}

char **shim_bootstrap_child_env(struct shim_bootstrap *b, char *const *base_env)
{
    token_move(b, base_env);
    /* Recomputed against the environment actually passed, so the report
     * says which names the operator had set there. */
    contract_compute(b, base_env);
    return shim_env_build(&b->env, base_env);
}

char **shim_bootstrap_child_argv(const struct shim_bootstrap *b, char *const *argv)
{
    return shim_workload_argv_wrap(argv, b->exe, &b->env);
}

int shim_bootstrap_child_apply(const struct shim_bootstrap *b)
{
    if (!b->plan.active)
        return 0;
    return shim_fallback_install(&b->prog, b->plan.flags);
}

void shim_bootstrap_emit_findings(const struct shim_bootstrap *b, int fd)
{
    struct shim_finding_ctx ctx;
    shim_finding_ctx_init(&ctx, oss_real_ms());
    for (int s = 0; s < SHIM_SUB_COUNT; s++) {
        if (b->verdict[s] != SHIM_VERDICT_DEGRADED)
            continue;
        _cleanup_buf_ oss_buf line = OSS_BUF_INIT;
        shim_finding_for(b, (enum shim_subsys)s, &ctx, &line);
        oss_buf_putc(&line, '\n');
        (void)oss_write_all(fd, line.data, line.len);
    }
}

static bool probe_changed(enum shim_subsys s, const struct shim_probe_result *a,
                          const struct shim_probe_result *c)
{
    if (a->status != c->status || a->err != c->err || strcmp(a->step, c->step) != 0)
        return true;
    switch (s) {
    case SHIM_SUB_SECCOMP:
        return a->u.seccomp.flags_ok != c->u.seccomp.flags_ok;
    case SHIM_SUB_LANDLOCK:
        return a->u.landlock.abi != c->u.landlock.abi;
    case SHIM_SUB_PRIVDROP:
        return a->u.privdrop.cap_effective != c->u.privdrop.cap_effective ||
               a->u.privdrop.cap_permitted != c->u.privdrop.cap_permitted ||
               a->u.privdrop.cap_bounding != c->u.privdrop.cap_bounding;
    default:
        return false;
    }
}

int shim_bootstrap_reprobe(struct shim_bootstrap *b, oss_buf *json_out, oss_error *err)
{
    int64_t start = oss_mono_ns();
    struct shim_runtime_facts f;
    struct shim_probe_result now[SHIM_SUB_COUNT];
    memcpy(now, b->last, sizeof now);
    shim_runtime_facts_collect(&f);
    /* netns is left out: it is the expensive one, and it creates
     * interfaces in a namespace the supervisor is using. */
    unsigned ran;
    if (run_lights(b, now, &ran, err) < 0)
        return -1;

    oss_json j;
    oss_json_init(&j, json_out);
    oss_json_obj_begin(&j);
    oss_json_kv_uint(&j, "reprobe", ++b->reprobes);
    oss_json_kv_int(&j, "time_ms", oss_real_ms());
    oss_json_key(&j, "runtime");
    shim_runtime_facts_json(&f, &j);
    oss_json_key(&j, "probes");
    oss_json_obj_begin(&j);
    for (int s = 0; s < SHIM_SUB_COUNT; s++)
        if (ran & SHIM_SUB_BIT(s)) {
            oss_json_key(&j, shim_subsys_name((enum shim_subsys)s));
            shim_probe_result_json((enum shim_subsys)s, &now[s], &j);
        }
    oss_json_obj_end(&j);
    oss_json_key(&j, "changed");
    oss_json_arr_begin(&j);
    const struct shim_runtime_facts *o = &b->last_facts;
    if (o->gvisor != f.gvisor)
        oss_json_str(&j, "runtime.gvisor");
    if (strcmp(o->kernel, f.kernel) != 0)
        oss_json_str(&j, "runtime.kernel");
    if (o->no_new_privs != f.no_new_privs)
        oss_json_str(&j, "runtime.no_new_privs");
    if (o->seccomp_mode != f.seccomp_mode || o->seccomp_filters != f.seccomp_filters)
        oss_json_str(&j, "runtime.seccomp");
    if (o->nofile_soft != f.nofile_soft || o->nofile_hard != f.nofile_hard)
        oss_json_str(&j, "runtime.nofile");
    if (o->cap_effective != f.cap_effective || o->cap_bounding != f.cap_bounding)
        oss_json_str(&j, "runtime.caps");
    for (int s = 0; s < SHIM_SUB_COUNT; s++)
        if ((ran & SHIM_SUB_BIT(s)) && probe_changed((enum shim_subsys)s, &b->last[s], &now[s]))
            oss_json_str(&j, shim_subsys_name((enum shim_subsys)s));
    oss_json_arr_end(&j);
    oss_json_kv_int(&j, "usec", (oss_mono_ns() - start) / 1000);
    oss_json_obj_end(&j);

    memcpy(b->last, now, sizeof now);
    b->last_facts = f;
    return 0;
}

pid_t shim_bootstrap_teardown_pid(const struct shim_bootstrap *b)
{
    return b->teardown_pid;
}

void shim_bootstrap_teardown_reaped(struct shim_bootstrap *b, int wstatus)
{
    b->teardown_pid = 0;
    /* exit 3: the teardown failed; a signal: it was interrupted */
    if (!WIFEXITED(wstatus) || WEXITSTATUS(wstatus) != 0)
        netns_cleanup(b);
}

void shim_bootstrap_free(struct shim_bootstrap *b)
{
    if (!b)
        return;
    if (b->teardown_pid > 0) {
        int st = shim_probe_reap(b->teardown_pid, b->timeout_ms);
        b->teardown_pid = 0;
        if (st == -1 || !WIFEXITED(st) || WEXITSTATUS(st) != 0)
            netns_cleanup(b);
    }
    shim_env_contract_free(&b->env);
    free(b->token_dir);
    free(b->state_dir);
    free(b->proxy_url);
    free(b->report_path);
    free(b);
}

int shim_bootstrap_verdict(const struct shim_bootstrap *b, enum shim_subsys s)
{
    return (unsigned)s < SHIM_SUB_COUNT ? (int)b->verdict[s] : -1;
}

bool shim_bootstrap_fallback_active(const struct shim_bootstrap *b)
{
    return b->plan.active;
}

void shim_bootstrap_json(const struct shim_bootstrap *b, oss_buf *out)
{
    oss_json j;
    oss_json_init(&j, out);
    shim_bootstrap_json_write(b, &j);
}
