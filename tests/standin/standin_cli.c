#include "standin.h"

#include "log.h"
#include "util.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static _Noreturn void usage(int code)
{
    fprintf(stderr,
            "usage: openshell-sandbox-standin [--policy-rules F --policy-data F] [--log-level L]\n"
            "         [--sandbox-id ID] [--openshell-endpoint URL] [--run-as UID:GID]\n"
            "         [-- workload argv]\n"
            "A TEST DOUBLE of openshell-sandbox; see docs/netns.md.\n");
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

void standin_parse_args(int argc, char **argv, struct standin_config *c)
{
    enum { O_RULES = 256, O_DATA, O_LEVEL, O_ID, O_ENDPOINT, O_RUNAS };
    static const struct option opts[] = {
        {"policy-rules", required_argument, NULL, O_RULES},
        {"policy-data", required_argument, NULL, O_DATA},
        {"log-level", required_argument, NULL, O_LEVEL},
        {"sandbox-id", required_argument, NULL, O_ID},
        {"openshell-endpoint", required_argument, NULL, O_ENDPOINT},
        {"run-as", required_argument, NULL, O_RUNAS},
        {"help", no_argument, NULL, 'h'},
        {0},
    };
    enum oss_log_level level = OSS_LOG_INFO;
    const char *run_as = getenv("OPENSHELL_STANDIN_RUN_AS");
    int o;
    while ((o = getopt_long(argc, argv, "+h", opts, NULL)) != -1) {
        switch (o) {
        case O_RULES:
            c->policy_rules = optarg;
            break;
        case O_DATA:
            c->policy_data = optarg;
            break;
        case O_LEVEL:
            if (oss_log_level_parse(optarg, &level) < 0)
                usage(2);
            break;
        case O_ID:
            c->sandbox_id = optarg;
            break;
        case O_ENDPOINT:
            c->endpoint = optarg;
            break;
        case O_RUNAS:
            run_as = optarg;
            break;
        case 'h':
            usage(0);
        default:
            usage(2);
        }
    }
    oss_log_setup("openshell-sandbox-standin", level, OSS_LOG_TEXT);
    if (optind < argc)
        c->argv = argv + optind; /* getopt_long stops at "--" and skips it */
    if ((c->policy_rules == NULL) != (c->policy_data == NULL)) {
        log_error("--policy-rules and --policy-data go together");
        exit(2);
    }
    if (run_as && *run_as && parse_run_as(run_as, c) < 0) {
        log_error("bad --run-as/OPENSHELL_STANDIN_RUN_AS %s (want UID:GID)", run_as);
        exit(2);
    }
    const char *be = getenv("OPENSHELL_BEST_EFFORT_FAILURES");
    c->best_effort = be && (strcmp(be, "1") == 0 || strcmp(be, "true") == 0);
}
