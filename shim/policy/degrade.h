/* The degrade policy, pure: probe results + the operator's
 * --degrade set -> a verdict per subsystem, and the one-line refusal. */
#ifndef SHIM_DEGRADE_H
#define SHIM_DEGRADE_H

#include "config.h"
#include "buf.h"
#include "probe/probe.h"

#include <stdbool.h>

enum shim_verdict {
    SHIM_VERDICT_NOT_PROBED = 0, /* not in --probes: the shim does not know, treated as ok */
    SHIM_VERDICT_OK,
    SHIM_VERDICT_DEGRADED,
    SHIM_VERDICT_FATAL,
};
const char *shim_verdict_name(enum shim_verdict v);

/* available -> ok; unavailable (UNSUPPORTED, or ERROR: a probe that cannot
 * answer proves nothing works) -> degraded when allowed, else fatal. */
enum shim_verdict shim_degrade_decide(bool probed, enum shim_probe_status status, bool allowed);

/* All four at once. */
void shim_degrade_decide_all(unsigned probe_mask, unsigned degrade_mask,
                             const struct shim_probe_result probes[SHIM_SUB_COUNT],
                             enum shim_verdict ret[SHIM_SUB_COUNT]);

unsigned shim_verdict_mask(const enum shim_verdict v[SHIM_SUB_COUNT], enum shim_verdict which);

/* One line for every fatal subsystem: "netns unavailable (veth: EPERM,
 * Operation not permitted); landlock ...; allow with --degrade=netns,landlock".
 * Writes nothing and returns false when none is fatal. */
bool shim_refusal_line(const enum shim_verdict v[SHIM_SUB_COUNT],
                       const struct shim_probe_result probes[SHIM_SUB_COUNT], unsigned degrade_mask,
                       oss_buf *out);

#endif
