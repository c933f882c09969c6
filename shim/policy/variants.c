/* Per-variant outcomes.  The rules and their upstream lines are in
 * docs/platform/supervisor.md (the three supervisor variants). */
#include "variants.h"

#include <ctype.h>
#include <string.h>
#include <strings.h>

const char *shim_variant_name(enum shim_variant v)
{
    static const char *const n[] = {"main", "pr1549", "pr1548"};
    return (unsigned)v < SHIM_VARIANT_COUNT ? n[v] : "?";
}

const char *shim_variant_commit(enum shim_variant v)
{
    static const char *const n[] = {"2f7fb65", "5112fca71", "835f1f92a"};
    return (unsigned)v < SHIM_VARIANT_COUNT ? n[v] : "?";
}

const char *shim_sup_step_name(enum shim_sup_step s)
{
    static const char *const n[] = {"netns", "supervisor-seccomp", "privdrop", "landlock",
                                    "workload-seccomp"};
    return (unsigned)s < SHIM_STEP_COUNT ? n[s] : "?";
}

const char *shim_outcome_name(enum shim_outcome o)
{
    static const char *const n[] = {"unknown", "attempt", "skip", "degrade", "fatal"};
    return (unsigned)o <= SHIM_OUTCOME_FATAL ? n[o] : "?";
}

static bool tok_is(const char *w, size_t n, const char *name)
{
    return strlen(name) == n && strncasecmp(w, name, n) == 0;
}

#define SKIP_NETNS (1u << SHIM_STEP_NETNS)
#define SKIP_SUP   (1u << SHIM_STEP_SUPERVISOR_SECCOMP)
#define SKIP_WL    (1u << SHIM_STEP_WORKLOAD_SECCOMP)

int shim_skip_bootstrap_parse(const char *s, unsigned *ret_mask)
{
    unsigned m = 0;
    const char *p = s ? s : "";
    for (;;) {
        const char *end = p + strcspn(p, ",");
        const char *w = p, *we = end;
        while (w < we && isspace((unsigned char)*w))
            w++;
        while (we > w && isspace((unsigned char)we[-1]))
            we--;
        size_t n = (size_t)(we - w);
        if (n == 0)
            ; /* blanks are ignored */
        else if (tok_is(w, n, "all"))
            m |= SKIP_NETNS | SKIP_SUP | SKIP_WL;
        else if (tok_is(w, n, "netns") || tok_is(w, n, "network-namespace"))
            m |= SKIP_NETNS;
        else if (tok_is(w, n, "supervisor-seccomp") || tok_is(w, n, "supervisor_seccomp"))
            m |= SKIP_SUP;
        else if (tok_is(w, n, "workload-seccomp") || tok_is(w, n, "workload_seccomp"))
            m |= SKIP_WL;
        else
            return -1;
        if (*end == '\0')
            break;
        p = end + 1;
    }
    *ret_mask = m;
    return 0;
}

/* A step that fails: what the variant does with it. */
static enum shim_outcome on_failure(enum shim_variant v, enum shim_sup_step s, unsigned skip,
                                    bool best_effort)
{
    bool skippable = s == SHIM_STEP_NETNS || s == SHIM_STEP_SUPERVISOR_SECCOMP ||
                     s == SHIM_STEP_WORKLOAD_SECCOMP;
    if (s == SHIM_STEP_LANDLOCK)
        return SHIM_OUTCOME_DEGRADE; /* best effort in every variant */
    if (v == SHIM_VARIANT_PR1549 && skippable && (skip & (1u << s)))
        return SHIM_OUTCOME_SKIP;
    if (v == SHIM_VARIANT_PR1548 && skippable && best_effort)
        return SHIM_OUTCOME_DEGRADE;
    return SHIM_OUTCOME_FATAL; /* main has no switch; the privilege drop none anywhere */
}

static int privdrop_works(enum shim_variant v, const struct shim_variant_inputs *in)
{
    if (in->privdrop < 0)
        return -1;
    /* main refuses uid 0 as the sandbox identity (MIN_SANDBOX_UID). */
    if (v == SHIM_VARIANT_MAIN && in->target_uid == 0)
        return 0;
    if (in->privdrop_already)
        return 1; /* every set*id is skipped when already the target */
    if (!in->privdrop)
        return 0;
    /* main also clears the bounding set while euid is 0: CAP_SETPCAP. */
    if (v == SHIM_VARIANT_MAIN && in->euid == 0 && !in->cap_setpcap)
        return 0;
    return 1;
}

void shim_variants_decide(const struct shim_variant_inputs *in,
                          struct shim_variant_outcome ret[SHIM_VARIANT_COUNT])
{
    unsigned skip = 0;
    bool skip_bad = in->skip_bootstrap && shim_skip_bootstrap_parse(in->skip_bootstrap, &skip) < 0;
    bool best_effort = in->best_effort != NULL; /* any value, even "" or "0" */
    for (int v = 0; v < SHIM_VARIANT_COUNT; v++) {
        struct shim_variant_outcome *o = &ret[v];
        memset(o, 0, sizeof *o);
        o->stops_at = -1;
        int works[SHIM_STEP_COUNT] = {
            [SHIM_STEP_NETNS] = in->netns,
            [SHIM_STEP_SUPERVISOR_SECCOMP] = in->prelude,
            [SHIM_STEP_PRIVDROP] = privdrop_works((enum shim_variant)v, in),
            [SHIM_STEP_LANDLOCK] = in->landlock,
            [SHIM_STEP_WORKLOAD_SECCOMP] = in->workload_filter,
        };
        o->skip_parse_err = v == SHIM_VARIANT_PR1549 && skip_bad;
        for (int s = 0; s < SHIM_STEP_COUNT; s++) {
            enum shim_outcome out;
            if (v == SHIM_VARIANT_PR1549 && s != SHIM_STEP_PRIVDROP && s != SHIM_STEP_LANDLOCK &&
                (skip & (1u << s)))
                out = SHIM_OUTCOME_SKIP; /* not attempted even when it would work */
            else if (works[s] < 0)
                out = SHIM_OUTCOME_UNKNOWN;
            else if (works[s] > 0)
                out = SHIM_OUTCOME_ATTEMPT;
            else
                out = on_failure((enum shim_variant)v, (enum shim_sup_step)s, skip, best_effort);
            o->step[s] = out;
            if (out == SHIM_OUTCOME_FATAL && o->stops_at < 0)
                o->stops_at = s;
        }
        o->starts = o->stops_at < 0 && !o->skip_parse_err;
    }
}
