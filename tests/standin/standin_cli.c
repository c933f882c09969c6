/* Command line and environment of the stand-in supervisor.  Each variant
 * accepts exactly the flags and variables its upstream reads
 * (docs/platform/supervisor.md, the three supervisor variants). */
#include "standin.h"

#include "cleanup.h"
#include "log.h"
#include "util.h"

#include <ctype.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

const char *standin_variant_name(enum standin_variant v)
{
    switch (v) {
    case STANDIN_MAIN:
        return "main";
    case STANDIN_PR1549:
        return "pr1549";
    case STANDIN_PR1548:
        return "pr1548";
    }
    return "?";
}

static _Noreturn void usage(int code)
{
    fprintf(stderr,
            "usage: openshell-sandbox-standin [--variant=main|pr1549|pr1548]\n"
            "         [--policy-rules F --policy-data F] [--sandbox-id ID] [--sandbox NAME]\n"
            "         [--openshell-endpoint URL] [--log-level L] [--run-as UID:GID] [-i]\n"
            "         [--mode network,process] (main) [--skip-bootstrap LIST] (pr1549)\n"
            "         [-- workload argv]\n"
            "A TEST DOUBLE of openshell-sandbox; see docs/testing.md.\n");
    exit(code);
}

static int parse_run_as(const char *s, struct standin_config *c)
{
    const char *colon = strchr(s, ':');
    long u, g;
    if (colon == NULL)
        return -1;
    char ubuf[16];
    size_t ul = (size_t)(colon - s);
    if (ul == 0 || ul >= sizeof ubuf)
        return -1;
    memcpy(ubuf, s, ul);
    ubuf[ul] = '\0';
    if (oss_parse_long(ubuf, 0, 0x7fffffff, &u) < 0 ||
        oss_parse_long(colon + 1, 0, 0x7fffffff, &g) < 0)
        return -1;
    c->run_as = true;
    c->uid = (uid_t)u;
    c->gid = (gid_t)g;
    return 0;
}

/* Pull request 1549's token grammar: comma list, case-insensitive, blanks
 * ignored, aliases, "all"; an unknown token is an error (P/lib.rs@5112fca71
 * 42-137). */
static int parse_skip(const char *s, unsigned *ret)
{
    unsigned m = 0;
    _cleanup_free_ char *dup = strdup(s);
    if (!dup)
        return -1;
    char *save = NULL;
    for (char *t = strtok_r(dup, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
        while (isspace((unsigned char)*t))
            t++;
        size_t n = strlen(t);
        while (n && isspace((unsigned char)t[n - 1]))
            t[--n] = '\0';
        if (n == 0)
            continue;
        if (!strcasecmp(t, "all"))
            m |= STANDIN_SKIP_NETNS | STANDIN_SKIP_SUP_SECC | STANDIN_SKIP_WL_SECC;
        else if (!strcasecmp(t, "netns") || !strcasecmp(t, "network-namespace"))
            m |= STANDIN_SKIP_NETNS;
        else if (!strcasecmp(t, "supervisor-seccomp") || !strcasecmp(t, "supervisor_seccomp"))
            m |= STANDIN_SKIP_SUP_SECC;
        else if (!strcasecmp(t, "workload-seccomp") || !strcasecmp(t, "workload_seccomp"))
            m |= STANDIN_SKIP_WL_SECC;
        else {
            log_error("unknown bootstrap subsystem '%s' in --skip-bootstrap/"
                      "OPENSHELL_SKIP_BOOTSTRAP",
                      t);
            return -1;
        }
    }
    *ret = m;
    return 0;
}

static const char *env_or(const char *name, const char *v)
{
    if (v)
        return v;
    const char *e = getenv(name);
    return e && *e ? e : NULL;
}

/* OPENSHELL_SANDBOX_COMMAND, split on whitespace (S/main.rs@5112fca71
 * 346-354, S/main.rs@835f1f92a 281-288). */
static char **split_words(const char *s)
{
    size_t n = 0, cap = 8;
    char **v = calloc(cap, sizeof *v);
    _cleanup_free_ char *dup = strdup(s);
    if (!v || !dup)
        abort();
    char *save = NULL;
    for (char *t = strtok_r(dup, " \t\n", &save); t; t = strtok_r(NULL, " \t\n", &save)) {
        if (n + 2 > cap && !(v = realloc(v, (cap *= 2) * sizeof *v)))
            abort();
        if (!(v[n++] = strdup(t)))
            abort();
    }
    v[n] = NULL;
    return v;
}

void standin_parse_args(int argc, char **argv, struct standin_config *c)
{
    enum {
        O_RULES = 256,
        O_DATA,
        O_LEVEL,
        O_ID,
        O_SANDBOX,
        O_ENDPOINT,
        O_RUNAS,
        O_VARIANT,
        O_MODE,
        O_SKIP
    };
    static const struct option opts[] = {
        {"policy-rules", required_argument, NULL, O_RULES},
        {"policy-data", required_argument, NULL, O_DATA},
        {"log-level", required_argument, NULL, O_LEVEL},
        {"sandbox-id", required_argument, NULL, O_ID},
        {"sandbox", required_argument, NULL, O_SANDBOX},
        {"openshell-endpoint", required_argument, NULL, O_ENDPOINT},
        {"run-as", required_argument, NULL, O_RUNAS},
        {"variant", required_argument, NULL, O_VARIANT},
        {"mode", required_argument, NULL, O_MODE},
        {"skip-bootstrap", required_argument, NULL, O_SKIP},
        /* every variant: #[arg(long, short = 'i')] (S/main.rs@2f7fb65 126-128,
         * S/main.rs@5112fca71 95-97, S/main.rs@835f1f92a 56-58) */
        {"interactive", no_argument, NULL, 'i'},
        {"help", no_argument, NULL, 'h'},
        {0},
    };
    enum oss_log_level level = OSS_LOG_WARN; /* upstream's --log-level default */
    const char *run_as = getenv("OPENSHELL_STANDIN_RUN_AS");
    const char *variant = getenv("OPENSHELL_STANDIN_VARIANT");
    const char *mode = NULL, *skip = NULL, *lvl = getenv("OPENSHELL_LOG_LEVEL");
    bool skip_flag = false;
    int o;
    c->network = c->process = true;
    while ((o = getopt_long(argc, argv, "+hi", opts, NULL)) != -1) {
        switch (o) {
        case O_RULES:
            c->policy_rules = optarg;
            break;
        case O_DATA:
            c->policy_data = optarg;
            break;
        case O_LEVEL:
            lvl = optarg;
            break;
        case O_ID:
            c->sandbox_id = optarg;
            break;
        case O_SANDBOX:
            c->sandbox = optarg;
            break;
        case O_ENDPOINT:
            c->endpoint = optarg;
            break;
        case O_RUNAS:
            run_as = optarg;
            break;
        case O_VARIANT:
            variant = optarg;
            break;
        case O_MODE:
            mode = optarg;
            break;
        case O_SKIP:
            skip = optarg;
            skip_flag = true;
            break;
        case 'i':
            c->interactive = true;
            break;
        case 'h':
            usage(0);
        default:
            usage(2);
        }
    }
    if (lvl && oss_log_level_parse(lvl, &level) < 0)
        usage(2);
    oss_log_setup("openshell-sandbox-standin", level, OSS_LOG_TEXT);
    if (variant == NULL || *variant == '\0' || !strcmp(variant, "main"))
        c->variant = STANDIN_MAIN;
    else if (!strcmp(variant, "pr1549"))
        c->variant = STANDIN_PR1549;
    else if (!strcmp(variant, "pr1548"))
        c->variant = STANDIN_PR1548;
    else {
        log_error("unknown --variant/OPENSHELL_STANDIN_VARIANT %s", variant);
        exit(2);
    }
    /* Flags a variant does not have are clap usage errors (exit 2):
     * --mode exists on main only, --skip-bootstrap on pull request 1549. */
    if (mode && c->variant != STANDIN_MAIN) {
        log_error("unexpected argument '--mode' (%s)", standin_variant_name(c->variant));
        exit(2);
    }
    if (skip_flag && c->variant != STANDIN_PR1549) {
        log_error("unexpected argument '--skip-bootstrap' (%s)", standin_variant_name(c->variant));
        exit(2);
    }
    if (mode) {
        c->network = strstr(mode, "network") != NULL;
        c->process = strstr(mode, "process") != NULL;
        if (!c->network && !c->process)
            usage(2);
    }
    c->sandbox_id = env_or("OPENSHELL_SANDBOX_ID", c->sandbox_id);
    c->sandbox = env_or("OPENSHELL_SANDBOX", c->sandbox);
    c->endpoint = env_or("OPENSHELL_ENDPOINT", c->endpoint);
    c->policy_rules = env_or("OPENSHELL_POLICY_RULES", c->policy_rules);
    c->policy_data = env_or("OPENSHELL_POLICY_DATA", c->policy_data);
    if (optind < argc)
        c->argv = argv + optind; /* getopt_long stops at "--" and skips it */
    if (run_as && *run_as && parse_run_as(run_as, c) < 0) {
        log_error("bad --run-as/OPENSHELL_STANDIN_RUN_AS %s (want UID:GID)", run_as);
        exit(2);
    }
    switch (c->variant) {
    case STANDIN_MAIN: {
        /* The driver identity (S/lib.rs@2f7fb65 212-230, P/identity.rs 33-133):
         * numeric OPENSHELL_SANDBOX_UID/GID, both or neither. */
        const char *u = getenv("OPENSHELL_SANDBOX_UID"), *g = getenv("OPENSHELL_SANDBOX_GID");
        if ((u && *u) || (g && *g)) {
            long lu, lg;
            if (!u || !g || oss_parse_long(u, 0, 0xffffffffL, &lu) < 0 ||
                oss_parse_long(g, 0, 0xffffffffL, &lg) < 0) {
                log_error("OPENSHELL_SANDBOX_UID and OPENSHELL_SANDBOX_GID must both be numeric");
                exit(1);
            }
            c->run_as = true;
            c->uid = (uid_t)lu;
            c->gid = (gid_t)lg;
        }
        break;
    }
    case STANDIN_PR1549:
        if (!skip)
            skip = getenv("OPENSHELL_SKIP_BOOTSTRAP");
        if (skip && parse_skip(skip, &c->skip) < 0)
            exit(1); /* S/main.rs@5112fca71 238-241 */
        break;
    case STANDIN_PR1548:
        /* var_os(..).is_some(): any value, even empty or "0"
         * (S/lib.rs@835f1f92a 114-123). */
        c->best_effort = getenv("OPENSHELL_BEST_EFFORT_FAILURES") != NULL;
        break;
    }
    if (c->argv == NULL && c->variant != STANDIN_MAIN && c->process) {
        const char *cmd = getenv("OPENSHELL_SANDBOX_COMMAND");
        static char *bash[] = {"/bin/bash", NULL};
        if (cmd && *cmd)
            c->argv = c->split_cmd = split_words(cmd);
        else
            c->argv = bash;
    }
    if (c->argv == NULL && c->variant == STANDIN_MAIN && c->process) {
        /* No argv and no OPENSHELL_MAIN_PROCESS_SPEC: a login shell
         * (S/main.rs@2f7fb65 655-665). */
        static char *bash_l[] = {"/bin/bash", "-l", NULL};
        c->argv = bash_l;
    }
}
