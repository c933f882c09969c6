#include "degrade.h"

#include "error.h"

#include <string.h>

const char *shim_verdict_name(enum shim_verdict v)
{
    switch (v) {
    case SHIM_VERDICT_NOT_PROBED:
        return "not_probed";
    case SHIM_VERDICT_OK:
        return "ok";
    case SHIM_VERDICT_DEGRADED:
        return "degraded";
    case SHIM_VERDICT_FATAL:
        return "fatal";
    }
    return "?";
}

enum shim_verdict shim_degrade_decide(bool probed, enum shim_probe_status status, bool allowed)
{
    if (!probed)
        return SHIM_VERDICT_NOT_PROBED;
    if (status == SHIM_PROBE_SUPPORTED)
        return SHIM_VERDICT_OK;
    /* UNSUPPORTED, ERROR, and a probe that never ran although asked for:
     * strict by default, nothing is assumed to work. */
    return allowed ? SHIM_VERDICT_DEGRADED : SHIM_VERDICT_FATAL;
}

void shim_degrade_decide_all(unsigned probe_mask, unsigned degrade_mask,
                             const struct shim_probe_result probes[SHIM_SUB_COUNT],
                             enum shim_verdict ret[SHIM_SUB_COUNT])
{
    for (int s = 0; s < SHIM_SUB_COUNT; s++)
        ret[s] = shim_degrade_decide(probe_mask & SHIM_SUB_BIT(s), probes[s].status,
                                     degrade_mask & SHIM_SUB_BIT(s));
}

unsigned shim_verdict_mask(const enum shim_verdict v[SHIM_SUB_COUNT], enum shim_verdict which)
{
    unsigned m = 0;
    for (int s = 0; s < SHIM_SUB_COUNT; s++)
        if (v[s] == which)
            m |= SHIM_SUB_BIT(s);
    return m;
}

bool shim_refusal_line(const enum shim_verdict v[SHIM_SUB_COUNT],
                       const struct shim_probe_result probes[SHIM_SUB_COUNT], unsigned degrade_mask,
                       oss_buf *out)
{
    unsigned fatal = shim_verdict_mask(v, SHIM_VERDICT_FATAL);
    if (!fatal)
        return false;
    bool first = true;
    for (int s = 0; s < SHIM_SUB_COUNT; s++) {
        if (!(fatal & SHIM_SUB_BIT(s)))
            continue;
        const struct shim_probe_result *p = &probes[s];
        oss_buf_printf(out, "%s%s %s (step %s: %s%s%s)", first ? "" : "; ",
                       shim_subsys_name((enum shim_subsys)s),
                       p->status == SHIM_PROBE_ERROR ? "probe failed" : "unavailable",
                       p->step[0] ? p->step : "?", oss_errno_name(p->err), p->err ? ", " : "",
                       p->err ? strerror(p->err) : "");
        first = false;
    }
    /* The flag that would allow exactly what is needed, on top of what the
     * operator already allowed. */
    oss_buf_puts(out, "; the supervisor was not started: allow with --degrade=");
    unsigned want = fatal | (degrade_mask & SHIM_SUB_ALL);
    first = true;
    for (int s = 0; s < SHIM_SUB_COUNT; s++)
        if (want & SHIM_SUB_BIT(s)) {
            oss_buf_printf(out, "%s%s", first ? "" : ",", shim_subsys_name((enum shim_subsys)s));
            first = false;
        }
    return true;
}
