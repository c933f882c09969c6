/* What each upstream supervisor variant will do with each bootstrap step
 * on this runtime, pure: the probe answers + the environment the
 * supervisor gets -> attempt / skip / degrade / fatal per step, and
 * whether its workload starts (docs/probes.md, supervisor variants). */
#ifndef SHIM_VARIANTS_H
#define SHIM_VARIANTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

enum shim_variant {
    SHIM_VARIANT_MAIN = 0, /* NVIDIA/OpenShell main @2f7fb65 */
    SHIM_VARIANT_PR1549,   /* refs/pull/1549/head @5112fca71: OPENSHELL_SKIP_BOOTSTRAP */
    SHIM_VARIANT_PR1548,   /* refs/pull/1548/head @835f1f92a: OPENSHELL_BEST_EFFORT_FAILURES */
    SHIM_VARIANT_COUNT,
};
const char *shim_variant_name(enum shim_variant v);
const char *shim_variant_commit(enum shim_variant v);

/* The supervisor's steps in the order it takes them. */
enum shim_sup_step {
    SHIM_STEP_NETNS = 0,
    SHIM_STEP_SUPERVISOR_SECCOMP,
    SHIM_STEP_PRIVDROP,
    SHIM_STEP_LANDLOCK,
    SHIM_STEP_WORKLOAD_SECCOMP,
    SHIM_STEP_COUNT,
};
const char *shim_sup_step_name(enum shim_sup_step s);

enum shim_outcome {
    SHIM_OUTCOME_UNKNOWN = 0, /* not probed */
    SHIM_OUTCOME_ATTEMPT,     /* attempted, works here */
    SHIM_OUTCOME_SKIP,        /* not attempted (skip list), a warning */
    SHIM_OUTCOME_DEGRADE,     /* attempted, fails, a warning, continues */
    SHIM_OUTCOME_FATAL,       /* attempted, fails, exit 1: no workload */
};
const char *shim_outcome_name(enum shim_outcome o);

/* 1 works, 0 refused, -1 not probed. */
struct shim_variant_inputs {
    int netns, prelude, workload_filter, landlock, privdrop;
    bool privdrop_already; /* the process already is the target identity */
    uid_t euid, target_uid;
    bool cap_setpcap; /* in the effective set: main's bounding-set clear */
    /* What the supervisor will find in its environment (NULL: unset). */
    const char *skip_bootstrap;
    const char *best_effort;
};

struct shim_variant_outcome {
    enum shim_outcome step[SHIM_STEP_COUNT];
    bool starts;         /* the workload is exec'd */
    int stops_at;        /* enum shim_sup_step of the first fatal step, or -1 */
    bool skip_parse_err; /* pull request 1549 exits 1 on an unknown token */
};

/* Parses an OPENSHELL_SKIP_BOOTSTRAP value as pull request 1549 does
 * (comma list, case-insensitive, blanks ignored, "all"): bit per step
 * (netns, supervisor seccomp, workload seccomp).  Returns -1 on an unknown
 * token. */
int shim_skip_bootstrap_parse(const char *s, unsigned *ret_mask);

void shim_variants_decide(const struct shim_variant_inputs *in,
                          struct shim_variant_outcome ret[SHIM_VARIANT_COUNT]);

#endif
