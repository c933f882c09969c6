/* argv + environment -> struct shim_config.  Pure: nothing here touches the
 * system, so the parser is unit-tested and fuzzed as is.  Flags win over the
 * environment; every malformed value is an error naming the flag, never a
 * silent default, so a child is never started half-configured. */
#include "config.h"
#include "error.h"
#include "init/signals.h"
#include "restore/detect.h"
#include "util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MS(x)           ((int64_t)(x))
#define MAX_DURATION_MS (MS(24) * 3600 * 1000)

static void set_str(char **dst, const char *v)
{
    free(*dst);
    *dst = v ? strdup(v) : NULL;
    if (v && *dst == NULL)
        abort();
}

static void defaults(struct shim_config *c)
{
    memset(c, 0, sizeof *c);
    c->command = SHIM_CMD_RUN;
    c->log_level = OSS_LOG_WARN;
    c->log_format = OSS_LOG_TEXT;
    c->restart = SHIM_RESTART_NEVER;
    c->restart_max = 5;
    c->restart_window_ms = MS(60000);
    c->backoff_initial_ms = MS(250);
    c->backoff_max_ms = MS(30000);
    c->stop_timeout_ms = MS(10000);
    c->probe_mask = SHIM_SUB_ALL;
    c->degrade_mask = 0; /* strict: degrade nothing unless told to */
    c->fallback_seccomp = SHIM_FALLBACK_AUTO;
    c->token_file = true;
    c->probe_timeout_ms = MS(2000);
    c->freeze_threshold_ms = MS(2000);
    c->on_restore_timeout_ms = MS(5000);
    set_str(&c->proxy_url, "http://127.0.0.1:3128");
    set_str(&c->report_path, "/run/openshell/bootstrap.json");
    set_str(&c->ready_tcp, "127.0.0.1:3128");
    set_str(&c->identity_file, "/run/ate/actor-id");
    set_str(&c->state_dir, "/run/openshell");
}

void shim_config_free(struct shim_config *c)
{
    free(c->proxy_url);
    free(c->report_path);
    free(c->ready_tcp);
    free(c->ready_file);
    free(c->identity_file);
    free(c->state_dir);
    free(c->on_restore_exec);
    free(c->notify_what);
    free(c->actor);
    memset(c, 0, sizeof *c);
}

/* ---- value parsers; each returns -1 with err naming `what` ---- */

static int bad(oss_error *err, const char *what, const char *val, const char *expect)
{
    return oss_err(err, OSS_ERR_INVALID, 0, "invalid value '%s' for %s: expected %s", val, what,
                   expect);
}

static int p_bool(const char *what, const char *v, bool *out, oss_error *err)
{
    if (!strcmp(v, "1") || !strcmp(v, "true") || !strcmp(v, "yes") || !strcmp(v, "on"))
        *out = true;
    else if (!strcmp(v, "0") || !strcmp(v, "false") || !strcmp(v, "no") || !strcmp(v, "off") ||
             !strcmp(v, ""))
        *out = false;
    else
        return bad(err, what, v, "1/0, true/false, yes/no or on/off");
    return 0;
}

/* An ARG_SWITCH option: on when given bare, else the value decides. */
static int p_switch(const char *what, const char *v, bool *out, oss_error *err)
{
    if (v == NULL) {
        *out = true;
        return 0;
    }
    return p_bool(what, v, out, err);
}

static int p_duration(const char *what, const char *v, int64_t *out, oss_error *err)
{
    long long ms;
    if (oss_parse_duration_ms(v, MAX_DURATION_MS, &ms) < 0)
        return bad(err, what, v, "a duration such as 500ms, 10s or 2m (at most 24h)");
    *out = ms;
    return 0;
}

static int p_signal(const char *what, const char *v, int *out, oss_error *err)
{
    if (shim_signal_parse(v, true, out) < 0)
        return bad(err, what, v,
                   "a catchable signal name or number (SIGKILL/SIGSTOP cannot be "
                   "caught)");
    return 0;
}

static int p_restart(const char *what, const char *v, enum shim_restart *out, oss_error *err)
{
    if (!strcmp(v, "never"))
        *out = SHIM_RESTART_NEVER;
    else if (!strcmp(v, "on-failure"))
        *out = SHIM_RESTART_ON_FAILURE;
    else if (!strcmp(v, "always"))
        *out = SHIM_RESTART_ALWAYS;
    else
        return bad(err, what, v, "never, on-failure or always");
    return 0;
}

static int p_port(const char *what, const char *v, int *out, oss_error *err)
{
    long n;
    if (oss_parse_long(v, 0, 65535, &n) < 0)
        return bad(err, what, v, "a port number 0..65535 (0 = off)");
    *out = (int)n;
    return 0;
}

static int p_uidgid(const char *what, const char *v, struct shim_config *c, oss_error *err)
{
    /* Numeric only: the static shim must not call getpwnam() (NSS). */
    char buf[64];
    if (strlen(v) >= sizeof buf)
        return bad(err, what, v, "UID:GID (numbers)");
    strcpy(buf, v);
    char *colon = strchr(buf, ':');
    long uid, gid;
    if (colon == NULL)
        return bad(err, what, v, "UID:GID (numbers)");
    *colon = '\0';
    if (oss_parse_long(buf, 0, 0x7fffffff, &uid) < 0 ||
        oss_parse_long(colon + 1, 0, 0x7fffffff, &gid) < 0)
        return bad(err, what, v, "UID:GID (numbers)");
    c->run_as_set = true;
    c->run_as_uid = (uid_t)uid;
    c->run_as_gid = (gid_t)gid;
    return 0;
}

static int p_fallback(const char *what, const char *v, enum shim_fallback_seccomp *out,
                      oss_error *err)
{
    if (!strcmp(v, "auto"))
        *out = SHIM_FALLBACK_AUTO;
    else if (!strcmp(v, "prelude"))
        *out = SHIM_FALLBACK_PRELUDE;
    else if (!strcmp(v, "workload"))
        *out = SHIM_FALLBACK_WORKLOAD;
    else if (!strcmp(v, "off"))
        *out = SHIM_FALLBACK_OFF;
    else
        return bad(err, what, v, "auto, prelude, workload or off");
    return 0;
}

static int p_contract(const char *what, const char *v, enum shim_supervisor_contract *out,
                      oss_error *err)
{
    for (int i = SHIM_CONTRACT_BOTH; i <= SHIM_CONTRACT_NONE; i++)
        if (!strcmp(v, shim_contract_name((enum shim_supervisor_contract)i))) {
            *out = (enum shim_supervisor_contract)i;
            return 0;
        }
    return bad(err, what, v, "skip-bootstrap, best-effort, both or none");
}

static int p_netns_probe(const char *what, const char *v, enum shim_netns_probe *out,
                         oss_error *err)
{
    if (!strcmp(v, "auto"))
        *out = SHIM_NETNS_PROBE_AUTO;
    else if (!strcmp(v, "move"))
        *out = SHIM_NETNS_PROBE_MOVE;
    else if (!strcmp(v, "create"))
        *out = SHIM_NETNS_PROBE_CREATE;
    else
        return bad(err, what, v, "auto, move or create");
    return 0;
}

static int p_nonempty(const char *what, const char *v, char **out, oss_error *err)
{
    if (*v == '\0')
        return bad(err, what, v, "a non-empty value");
    set_str(out, v);
    return 0;
}

/* ---- the option table ---- */

enum opt_id {
    O_RESTART = 1,
    O_RESTART_MAX,
    O_RESTART_WINDOW,
    O_BACKOFF_INITIAL,
    O_BACKOFF_MAX,
    O_STAY_ALIVE,
    O_HOLD_STDIN,
    O_STOP_TIMEOUT,
    O_LOG_LEVEL,
    O_LOG_FORMAT,
    O_PROBES,
    O_DEGRADE,
    O_RUN_AS,
    O_PROXY_URL,
    O_FALLBACK,
    O_CONTRACT,
    O_TOKEN_FILE,
    O_PROXY_ENV,
    O_REPORT,
    O_PROBE_TIMEOUT,
    O_NETNS_PROBE,
    O_READYZ_PORT,
    O_READY_TCP,
    O_READY_FILE,
    O_IDENTITY_FILE,
    O_FREEZE,
    O_STATE_DIR,
    O_RESTORE_SIGNAL,
    O_ON_RESTORE,
    O_ON_RESTORE_EXEC,
    O_ON_RESTORE_TIMEOUT,
    O_ACTOR,
    O_GOLDEN,
    O_JSON,
    O_SUBREAPER,
    O_GROUP,
    O_PDEATH,
    O_REMAP,
    O_VERBOSE,
    O_WARN,
    O_HELP,
    O_VERSION,
};

enum opt_arg {
    ARG_NONE,   /* a flag: no value */
    ARG_VALUE,  /* --name=V, --name V, -xV, -x V */
    ARG_SWITCH, /* a flag that also takes --name=BOOL (--stay-alive=0) */
};

struct opt {
    const char *name; /* long name, without "--" */
    char short_name;
    enum opt_arg arg;
    const char *env; /* environment variable, or NULL */
    enum opt_id id;
};

static const struct opt opts[] = {
    {"restart", 0, ARG_VALUE, "OPENSHELL_SHIM_RESTART", O_RESTART},
    {"restart-max", 0, ARG_VALUE, "OPENSHELL_SHIM_RESTART_MAX", O_RESTART_MAX},
    {"restart-window", 0, ARG_VALUE, "OPENSHELL_SHIM_RESTART_WINDOW", O_RESTART_WINDOW},
    {"backoff-initial", 0, ARG_VALUE, "OPENSHELL_SHIM_BACKOFF_INITIAL", O_BACKOFF_INITIAL},
    {"backoff-max", 0, ARG_VALUE, "OPENSHELL_SHIM_BACKOFF_MAX", O_BACKOFF_MAX},
    {"stay-alive", 0, ARG_SWITCH, "OPENSHELL_SHIM_STAY_ALIVE", O_STAY_ALIVE},
    {"hold-stdin", 0, ARG_SWITCH, "OPENSHELL_SHIM_HOLD_STDIN", O_HOLD_STDIN},
    {"stop-timeout", 0, ARG_VALUE, "OPENSHELL_SHIM_STOP_TIMEOUT", O_STOP_TIMEOUT},
    {"log-level", 0, ARG_VALUE, "OPENSHELL_SHIM_LOG_LEVEL", O_LOG_LEVEL},
    {"log-format", 0, ARG_VALUE, "OPENSHELL_SHIM_LOG_FORMAT", O_LOG_FORMAT},
    {"probes", 0, ARG_VALUE, "OPENSHELL_SHIM_PROBES", O_PROBES},
    {"degrade", 0, ARG_VALUE, "OPENSHELL_SHIM_DEGRADE", O_DEGRADE},
    {"run-as", 0, ARG_VALUE, "OPENSHELL_SHIM_RUN_AS", O_RUN_AS},
    {"proxy-url", 0, ARG_VALUE, "OPENSHELL_SHIM_PROXY_URL", O_PROXY_URL},
    {"fallback-seccomp", 0, ARG_VALUE, "OPENSHELL_SHIM_FALLBACK_SECCOMP", O_FALLBACK},
    {"supervisor-contract", 0, ARG_VALUE, "OPENSHELL_SHIM_SUPERVISOR_CONTRACT", O_CONTRACT},
    {"token-file", 0, ARG_VALUE, "OPENSHELL_SHIM_TOKEN_FILE", O_TOKEN_FILE},
    {"proxy-env", 0, ARG_VALUE, "OPENSHELL_SHIM_PROXY_ENV", O_PROXY_ENV},
    {"report", 0, ARG_VALUE, "OPENSHELL_SHIM_REPORT", O_REPORT},
    {"probe-timeout", 0, ARG_VALUE, "OPENSHELL_SHIM_PROBE_TIMEOUT", O_PROBE_TIMEOUT},
    {"netns-probe", 0, ARG_VALUE, "OPENSHELL_SHIM_NETNS_PROBE", O_NETNS_PROBE},
    {"readyz-port", 0, ARG_VALUE, "OPENSHELL_SHIM_READYZ_PORT", O_READYZ_PORT},
    {"ready-tcp", 0, ARG_VALUE, "OPENSHELL_SHIM_READY_TCP", O_READY_TCP},
    {"ready-file", 0, ARG_VALUE, "OPENSHELL_SHIM_READY_FILE", O_READY_FILE},
    {"identity-file", 0, ARG_VALUE, "OPENSHELL_SHIM_IDENTITY_FILE", O_IDENTITY_FILE},
    {"freeze-threshold", 0, ARG_VALUE, "OPENSHELL_SHIM_FREEZE_THRESHOLD", O_FREEZE},
    {"state-dir", 0, ARG_VALUE, "OPENSHELL_SHIM_STATE_DIR", O_STATE_DIR},
    {"restore-signal", 0, ARG_VALUE, "OPENSHELL_SHIM_RESTORE_SIGNAL", O_RESTORE_SIGNAL},
    {"on-restore", 0, ARG_VALUE, "OPENSHELL_SHIM_ON_RESTORE", O_ON_RESTORE},
    {"on-restore-exec", 0, ARG_VALUE, "OPENSHELL_SHIM_ON_RESTORE_EXEC", O_ON_RESTORE_EXEC},
    {"on-restore-timeout", 0, ARG_VALUE, "OPENSHELL_SHIM_ON_RESTORE_TIMEOUT", O_ON_RESTORE_TIMEOUT},
    {"actor", 0, ARG_VALUE, "OPENSHELL_SHIM_ACTOR", O_ACTOR},
    {"golden", 0, ARG_VALUE, "OPENSHELL_SHIM_GOLDEN", O_GOLDEN},
    {"json", 0, ARG_NONE, NULL, O_JSON},
    {"subreaper", 's', ARG_NONE, NULL, O_SUBREAPER},
    {"group", 'g', ARG_NONE, NULL, O_GROUP},
    {"pdeath-signal", 'p', ARG_VALUE, NULL, O_PDEATH},
    {"remap-exit", 'e', ARG_VALUE, NULL, O_REMAP},
    {"verbose", 'v', ARG_NONE, NULL, O_VERBOSE},
    {"warn-foreign", 'w', ARG_NONE, NULL, O_WARN},
    {"help", 'h', ARG_NONE, NULL, O_HELP},
    {"version", 0, ARG_NONE, NULL, O_VERSION},
};

static const struct opt *find_long(const char *name, size_t n)
{
    for (size_t i = 0; i < sizeof opts / sizeof opts[0]; i++)
        if (strlen(opts[i].name) == n && strncmp(opts[i].name, name, n) == 0)
            return &opts[i];
    return NULL;
}

static const struct opt *find_short(char c)
{
    for (size_t i = 0; i < sizeof opts / sizeof opts[0]; i++)
        if (opts[i].short_name == c)
            return &opts[i];
    return NULL;
}

static int apply(struct shim_config *c, const struct opt *o, const char *v, const char *what,
                 oss_error *err)
{
    long n;
    bool b;
    switch (o->id) {
    case O_RESTART:
        return p_restart(what, v, &c->restart, err);
    case O_RESTART_MAX:
        if (oss_parse_long(v, 0, 1000000, &n) < 0)
            return bad(err, what, v, "a number of restarts 0..1000000");
        c->restart_max = (unsigned)n;
        return 0;
    case O_RESTART_WINDOW:
        return p_duration(what, v, &c->restart_window_ms, err);
    case O_BACKOFF_INITIAL:
        return p_duration(what, v, &c->backoff_initial_ms, err);
    case O_BACKOFF_MAX:
        return p_duration(what, v, &c->backoff_max_ms, err);
    case O_STAY_ALIVE:
        return p_switch(what, v, &c->stay_alive, err);
    case O_HOLD_STDIN:
        return p_switch(what, v, &c->hold_stdin, err);
    case O_STOP_TIMEOUT:
        return p_duration(what, v, &c->stop_timeout_ms, err);
    case O_LOG_LEVEL:
        if (oss_log_level_parse(v, &c->log_level) < 0)
            return bad(err, what, v, "error, warn, info, debug or trace");
        c->verbosity = 0; /* an explicit level wins over earlier -v */
        return 0;
    case O_LOG_FORMAT:
        if (!strcmp(v, "text"))
            c->log_format = OSS_LOG_TEXT;
        else if (!strcmp(v, "json"))
            c->log_format = OSS_LOG_JSON;
        else
            return bad(err, what, v, "text or json");
        return 0;
    case O_PROBES:
        if (shim_subsys_list_parse(v, &c->probe_mask, err) < 0) {
            oss_err_prefix(err, "%s", what);
            return -1;
        }
        return 0;
    case O_DEGRADE:
        if (shim_subsys_list_parse(v, &c->degrade_mask, err) < 0) {
            oss_err_prefix(err, "%s", what);
            return -1;
        }
        return 0;
    case O_RUN_AS:
        return p_uidgid(what, v, c, err);
    case O_PROXY_URL:
        return p_nonempty(what, v, &c->proxy_url, err);
    case O_FALLBACK:
        return p_fallback(what, v, &c->fallback_seccomp, err);
    case O_CONTRACT:
        return p_contract(what, v, &c->contract, err);
    case O_PROXY_ENV:
        if (strcmp(v, "workload") != 0 && strcmp(v, "supervisor") != 0)
            return bad(err, what, v, "workload or supervisor");
        c->proxy_env_supervisor = strcmp(v, "supervisor") == 0;
        return 0;
    case O_TOKEN_FILE:
        if (strcmp(v, "auto") != 0 && strcmp(v, "off") != 0)
            return bad(err, what, v, "auto or off");
        c->token_file = strcmp(v, "auto") == 0;
        return 0;
    case O_REPORT:
        return p_nonempty(what, v, &c->report_path, err);
    case O_PROBE_TIMEOUT:
        if (p_duration(what, v, &c->probe_timeout_ms, err) < 0)
            return -1;
        if (c->probe_timeout_ms == 0)
            return bad(err, what, v, "a duration above 0");
        return 0;
    case O_NETNS_PROBE:
        return p_netns_probe(what, v, &c->netns_probe, err);
    case O_READYZ_PORT:
        return p_port(what, v, &c->readyz_port, err);
    case O_READY_TCP:
        if (!strcmp(v, "none")) {
            set_str(&c->ready_tcp, NULL);
            return 0;
        }
        if (strchr(v, ':') == NULL)
            return bad(err, what, v, "HOST:PORT (numeric address) or none");
        return p_nonempty(what, v, &c->ready_tcp, err);
    case O_READY_FILE:
        return p_nonempty(what, v, &c->ready_file, err);
    case O_IDENTITY_FILE:
        return p_nonempty(what, v, &c->identity_file, err);
    case O_FREEZE:
        return p_duration(what, v, &c->freeze_threshold_ms, err);
    case O_STATE_DIR:
        return p_nonempty(what, v, &c->state_dir, err);
    case O_RESTORE_SIGNAL:
        if (!strcmp(v, "none")) {
            c->restore_signal = 0;
            return 0;
        }
        return p_signal(what, v, &c->restore_signal, err);
    case O_ON_RESTORE:
        if (!strcmp(v, "none")) {
            c->on_restore_signal = 0;
            return 0;
        }
        return p_signal(what, v, &c->on_restore_signal, err);
    case O_ON_RESTORE_EXEC:
        return p_nonempty(what, v, &c->on_restore_exec, err);
    case O_ON_RESTORE_TIMEOUT:
        return p_duration(what, v, &c->on_restore_timeout_ms, err);
    case O_ACTOR:
        /* The raw actor name as /run/ate/actor-id holds it; checked with
         * the identity rules, so it can be compared and logged safely. */
        if (!shim_actor_name_valid(v))
            return bad(err, what, v, "an actor name ([A-Za-z0-9._:/@+-], at most 253 bytes)");
        return p_nonempty(what, v, &c->actor, err);
    case O_GOLDEN:
        if (!strcmp(v, "hold"))
            c->golden = SHIM_GOLDEN_HOLD;
        else if (!strcmp(v, "run"))
            c->golden = SHIM_GOLDEN_RUN;
        else
            return bad(err, what, v, "hold or run");
        return 0;
    case O_JSON:
        c->json = true;
        return 0;
    case O_SUBREAPER:
        c->subreaper = true;
        return 0;
    case O_GROUP:
        c->kill_group = true;
        return 0;
    case O_PDEATH:
        return p_signal(what, v, &c->pdeath_signal, err);
    case O_REMAP:
        if (oss_parse_long(v, 0, 255, &n) < 0)
            return bad(err, what, v, "an exit code 0..255");
        c->remap_exit[n >> 3] |= (uint8_t)(1u << (n & 7));
        return 0;
    case O_VERBOSE:
        c->verbosity++;
        return 0;
    case O_WARN:
        c->warn_foreign = true;
        return 0;
    case O_HELP:
        c->command = SHIM_CMD_HELP;
        return 0;
    case O_VERSION:
        c->command = SHIM_CMD_VERSION;
        return 0;
    }
    (void)b;
    return oss_err(err, OSS_ERR_INVALID, 0, "internal: unhandled option %s", what);
}

static const char *env_get(char *const *envp, const char *name)
{
    size_t n = strlen(name);
    for (char *const *e = envp; e && *e; e++)
        if (strncmp(*e, name, n) == 0 && (*e)[n] == '=')
            return *e + n + 1;
    return NULL;
}

static int parse_env(struct shim_config *c, char *const *envp, oss_error *err)
{
    for (size_t i = 0; i < sizeof opts / sizeof opts[0]; i++) {
        const struct opt *o = &opts[i];
        if (o->env == NULL)
            continue;
        const char *v = env_get(envp, o->env);
        if (v == NULL)
            continue;
        if (o->arg != ARG_VALUE) { /* boolean env vars carry a value */
            bool on;
            if (p_bool(o->env, v, &on, err) < 0)
                return -1;
            if (on && apply(c, o, NULL, o->env, err) < 0)
                return -1;
            continue;
        }
        if (apply(c, o, v, o->env, err) < 0)
            return -1;
    }
    return 0;
}

int shim_config_parse(int argc, char **argv, char *const *envp, struct shim_config *c,
                      oss_error *err)
{
    defaults(c);
    if (parse_env(c, envp, err) < 0)
        return -1;

    bool saw_dashdash = false;
    int command_at = -1; /* the first non-option word, tini's form */
    int i = 1;
    for (; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--") == 0) {
            saw_dashdash = true;
            i++;
            break;
        }
        if (a[0] == '-' && a[1] == '-') {
            const char *name = a + 2;
            const char *eq = strchr(name, '=');
            size_t nlen = eq ? (size_t)(eq - name) : strlen(name);
            const struct opt *o = find_long(name, nlen);
            if (o == NULL)
                return oss_err(err, OSS_ERR_INVALID, 0, "unknown option '%.*s'", (int)nlen + 2, a);
            char what[64];
            snprintf(what, sizeof what, "--%s", o->name);
            const char *v = NULL;
            if (o->arg == ARG_VALUE) {
                if (eq)
                    v = eq + 1;
                else if (i + 1 < argc)
                    v = argv[++i];
                else
                    return oss_err(err, OSS_ERR_INVALID, 0, "option %s needs a value", what);
            } else if (eq) {
                if (o->arg != ARG_SWITCH)
                    return oss_err(err, OSS_ERR_INVALID, 0, "option %s takes no value", what);
                v = eq + 1;
            }
            if (apply(c, o, v, what, err) < 0)
                return -1;
            continue;
        }
        if (a[0] == '-' && a[1] != '\0') {
            /* clustered short flags: -vvv, -sg, -pSIGTERM, -p SIGTERM */
            for (const char *s = a + 1; *s; s++) {
                const struct opt *o = find_short(*s);
                if (o == NULL)
                    return oss_err(err, OSS_ERR_INVALID, 0, "unknown option '-%c'", *s);
                char what[8] = {'-', *s, '\0'};
                const char *v = NULL;
                if (o->arg == ARG_VALUE) {
                    if (s[1] != '\0')
                        v = s + 1;
                    else if (i + 1 < argc)
                        v = argv[++i];
                    else
                        return oss_err(err, OSS_ERR_INVALID, 0, "option %s needs a value", what);
                }
                if (apply(c, o, v, what, err) < 0)
                    return -1;
                if (o->arg == ARG_VALUE)
                    break;
            }
            continue;
        }
        /* A positional word: a subcommand when it is the first word and
         * names one, else (tini's form) the command itself: options stop at
         * the first non-option, so the command's own flags are its own. */
        if (c->command == SHIM_CMD_RUN && strcmp(a, "doctor") == 0) {
            c->command = SHIM_CMD_DOCTOR;
            continue;
        }
        if (c->command == SHIM_CMD_RUN && strcmp(a, "netstat") == 0) {
            c->command = SHIM_CMD_NETSTAT;
            continue;
        }
        if (c->command == SHIM_CMD_RUN && strcmp(a, "notify") == 0) {
            c->command = SHIM_CMD_NOTIFY;
            continue;
        }
        if (c->command == SHIM_CMD_NOTIFY && c->notify_what == NULL) {
            /* status: the control socket answers it and the client sends it
             * (restore/control.c); the parser must let it through */
            if (strcmp(a, "restore") != 0 && strcmp(a, "status") != 0)
                return oss_err(err, OSS_ERR_INVALID, 0,
                               "unknown notification '%s': expected 'restore' or 'status'", a);
            set_str(&c->notify_what, a);
            continue;
        }
        if (c->command == SHIM_CMD_RUN) {
            command_at = i;
            break;
        }
        return oss_err(err, OSS_ERR_INVALID, 0, "unexpected argument '%s'", a);
    }

    if (c->verbosity > 0) {
        int lvl = OSS_LOG_WARN + c->verbosity;
        c->log_level = lvl > OSS_LOG_TRACE ? OSS_LOG_TRACE : (enum oss_log_level)lvl;
    }
    if (c->backoff_initial_ms == 0)
        c->backoff_initial_ms = 1;
    if (c->backoff_max_ms < c->backoff_initial_ms)
        return oss_err(err, OSS_ERR_INVALID, 0,
                       "--backoff-max (%lldms) is below --backoff-initial (%lldms)",
                       (long long)c->backoff_max_ms, (long long)c->backoff_initial_ms);
    if (c->restart_window_ms == 0)
        return oss_err(err, OSS_ERR_INVALID, 0, "--restart-window must be above 0");
    if (c->golden == SHIM_GOLDEN_DEFAULT)
        c->golden = c->actor ? SHIM_GOLDEN_HOLD : SHIM_GOLDEN_RUN;
    if (c->golden == SHIM_GOLDEN_HOLD && c->actor == NULL)
        return oss_err(err, OSS_ERR_INVALID, 0,
                       "--golden=hold needs --actor=NAME: without it the golden boot cannot "
                       "be told from the real one");

    switch (c->command) {
    case SHIM_CMD_HELP:
    case SHIM_CMD_VERSION:
    case SHIM_CMD_DOCTOR:
    case SHIM_CMD_NETSTAT:
        if (saw_dashdash && i < argc && c->command != SHIM_CMD_HELP &&
            c->command != SHIM_CMD_VERSION)
            return oss_err(err, OSS_ERR_INVALID, 0, "%s takes no command after '--'",
                           c->command == SHIM_CMD_DOCTOR ? "doctor" : "netstat");
        return 0;
    case SHIM_CMD_NOTIFY:
        if (c->notify_what == NULL)
            return oss_err(err, OSS_ERR_INVALID, 0,
                           "notify needs what to notify: 'restore' or 'status'");
        return 0;
    case SHIM_CMD_RUN:
        break;
    }
    if (command_at > 0)
        i = command_at;
    else if (!saw_dashdash)
        return oss_err(err, OSS_ERR_INVALID, 0,
                       "missing command (openshell-shim [options] [--] CMD [ARGS...])");
    if (i >= argc)
        return oss_err(err, OSS_ERR_INVALID, 0, "missing command after '--'");
    c->child_argc = argc - i;
    c->child_argv = argv + i;
    return 0;
}
