/* The stand-in supervisor's command line (a TEST DOUBLE of openshell-sandbox). */
#ifndef STANDIN_H
#define STANDIN_H

#include <stdbool.h>
#include <sys/types.h>

struct standin_config {
    const char *policy_rules, *policy_data, *sandbox_id, *endpoint;
    bool run_as;
    uid_t uid;
    gid_t gid;
    bool best_effort;
    char **argv; /* the workload, or NULL */
};

/* Parses argv and the OPENSHELL_* environment; exits 2 on bad usage.
 * Also sets up logging (--log-level). */
void standin_parse_args(int argc, char **argv, struct standin_config *c);

#endif
