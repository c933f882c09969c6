/* The stand-in supervisor's command line (a TEST DOUBLE of openshell-sandbox,
 * docs/testing.md).  One binary, one mode per upstream variant. */
#ifndef STANDIN_H
#define STANDIN_H

#include <stdbool.h>
#include <sys/types.h>

enum standin_variant {
    STANDIN_MAIN = 0, /* NVIDIA/OpenShell main @2f7fb65 */
    STANDIN_PR1549,   /* refs/pull/1549/head @5112fca71 */
    STANDIN_PR1548,   /* refs/pull/1548/head @835f1f92a */
};
const char *standin_variant_name(enum standin_variant v);

/* Skip bits of pull request 1549. */
#define STANDIN_SKIP_NETNS    1u
#define STANDIN_SKIP_SUP_SECC 2u
#define STANDIN_SKIP_WL_SECC  4u

struct standin_config {
    enum standin_variant variant;
    const char *policy_rules, *policy_data, *sandbox_id, *sandbox, *endpoint;
    bool network, process; /* --mode (main): network,process by default */
    /* The resolved workload identity: main's driver identity
     * (OPENSHELL_SANDBOX_UID/GID), or the policy's run_as_user/group
     * (--run-as, a stand-in flag: it has no policy parser).  Unset: the
     * "sandbox" user and group of /etc/passwd and /etc/group. */
    bool run_as;
    uid_t uid;
    gid_t gid;
    unsigned skip;    /* pull request 1549: OPENSHELL_SKIP_BOOTSTRAP */
    bool best_effort; /* pull request 1548: OPENSHELL_BEST_EFFORT_FAILURES */
    bool interactive; /* -i: the workload keeps the terminal's group (see child_main) */
    char **argv;      /* the workload, or NULL */
    char **split_cmd; /* OPENSHELL_SANDBOX_COMMAND split on blanks (owned) */
};

/* Parses argv and the OPENSHELL_* environment as the variant does; exits 2
 * on a usage error (clap), 1 on a bad OPENSHELL_SKIP_BOOTSTRAP token (as
 * pull request 1549).  Also sets up logging (--log-level). */
void standin_parse_args(int argc, char **argv, struct standin_config *c);

#endif
