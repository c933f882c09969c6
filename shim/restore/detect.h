/* Pure decisions of restore detection (no clocks read, no files opened).
 *
 * gVisor gives a restored sandbox no signal, but CLOCK_MONOTONIC jumps
 * forward by the time it was frozen (FACTS.md §2): a periodic timer that
 * fires far later than it was due is the sign.  The identity file
 * (/run/ate/actor-id) is rewritten on every resume: different content means
 * "restored as another actor". */
#ifndef SHIM_RESTORE_DETECT_H
#define SHIM_RESTORE_DETECT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SHIM_IDENTITY_MAX 253 /* a DNS name's length; actor ids are far shorter */

enum shim_restore_reason {
    SHIM_RESTORE_TIMER = 0,
    SHIM_RESTORE_IDENTITY,
    SHIM_RESTORE_NOTIFY,
    SHIM_RESTORE_SIGNAL,
    SHIM_RESTORE_READYZ,
};
const char *shim_restore_reason_name(enum shim_restore_reason r);

/* A timer due at expected_ms fired (or was looked at) at actual_ms.  It is a
 * freeze when it is at least threshold_ms late; threshold_ms <= 0 disables
 * the check.  *ret_frozen_ms gets the lateness, which is a lower bound of the
 * freeze accurate to one timer period (the shim cannot tell where in the
 * period the freeze began).  Clock steps backwards count as no freeze. */
bool shim_freeze_detect(int64_t expected_ms, int64_t actual_ms, int64_t threshold_ms,
                        int64_t *ret_frozen_ms);

/* An identity as read from the file, normalised: surrounding whitespace
 * trimmed, then valid only if 0..SHIM_IDENTITY_MAX bytes of
 * [A-Za-z0-9._:/@+-] (an empty identity means "no file", which is valid).
 * Invalid content never leaves this struct raw: only `id` (set to "" when
 * invalid) and the hash are used for JSON, paths and comparisons. */
struct shim_identity {
    bool present; /* the file existed */
    bool valid;
    char id[SHIM_IDENTITY_MAX + 1];
    uint64_t hash; /* FNV-1a of the trimmed raw bytes, tells invalid contents apart */
};
void shim_identity_from_bytes(const char *raw, size_t n, bool present, struct shim_identity *ret);

/* An actor name as --actor takes it: what a valid, present identity holds
 * (non-empty, at most SHIM_IDENTITY_MAX bytes of [A-Za-z0-9._:/@+-]). */
bool shim_actor_name_valid(const char *s);

/* True when id is present, valid and exactly `actor`. */
bool shim_identity_is(const struct shim_identity *id, const char *actor);

/* True when b differs from a (presence, validity or content). */
bool shim_identity_changed(const struct shim_identity *a, const struct shim_identity *b);

/* What JSON and logs show: the id, "" when absent, "<invalid>" when invalid. */
const char *shim_identity_display(const struct shim_identity *id);

#endif
