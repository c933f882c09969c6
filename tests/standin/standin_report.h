/* Step records of the stand-in supervisor (a TEST DOUBLE): each step's
 * outcome as one JSON line on stderr, and the whole run as a JSON status
 * file for tests. */
#ifndef STANDIN_REPORT_H
#define STANDIN_REPORT_H

#include "buf.h"

#include <stdbool.h>
#include <sys/types.h>

#define STANDIN_MAX_STEPS 20
#define STANDIN_MAX_ENV   12

struct standin_step {
    char name[24];
    char result[12]; /* ok | degraded | fatal | skipped */
    int err;         /* errno, 0 when none */
    char detail[200];
};

struct standin_report {
    const char *sandbox_id;
    const char *variant; /* main | pr1549 | pr1548 */
    bool best_effort;    /* pull request 1548's switch was seen */
    char skip[64];       /* pull request 1549's skip set, as tokens */
    struct standin_step steps[STANDIN_MAX_STEPS];
    size_t nsteps;
    bool has_netns;
    char ns_name[32], host_if[16], peer_if[16];
    char proxy[64];
    pid_t workload_pid;
    const char *env_keys[STANDIN_MAX_ENV];
    char env_vals[STANDIN_MAX_ENV][100];
    size_t nenv;
    const char *phase; /* starting | running | serving | exited | fatal */
    int exit_code;     /* valid in phase exited/fatal */
};

/* Records a step and prints its JSON line on stderr. */
void standin_step(struct standin_report *r, const char *name, const char *result, int err,
                  const char *detail);
void standin_step_add(struct standin_report *r, const struct standin_step *s);

void standin_report_json(const struct standin_report *r, oss_buf *out);
/* Writes the status file if OPENSHELL_STANDIN_STATUS_FILE is set. */
void standin_report_write(const struct standin_report *r);

#endif
