/* Subsystem names and the "--degrade=" / "--probes=" list syntax. */
#include "config.h"

#include "error.h"

#include <ctype.h>
#include <errno.h>
#include <string.h>

static const char *const names[SHIM_SUB_COUNT] = {
    [SHIM_SUB_NETNS] = "netns",
    [SHIM_SUB_SECCOMP] = "seccomp",
    [SHIM_SUB_LANDLOCK] = "landlock",
    [SHIM_SUB_PRIVDROP] = "privdrop",
};

const char *shim_contract_name(enum shim_supervisor_contract c)
{
    switch (c) {
    case SHIM_CONTRACT_BOTH:
        return "both";
    case SHIM_CONTRACT_SKIP_BOOTSTRAP:
        return "skip-bootstrap";
    case SHIM_CONTRACT_BEST_EFFORT:
        return "best-effort";
    case SHIM_CONTRACT_NONE:
        return "none";
    }
    return "?";
}

const char *shim_subsys_name(enum shim_subsys s)
{
    return (unsigned)s < SHIM_SUB_COUNT ? names[s] : "?";
}

static bool word_is(const char *w, size_t n, const char *name)
{
    return strlen(name) == n && memcmp(w, name, n) == 0;
}

#define VALID "(valid: netns, seccomp, landlock, privdrop, all, none)"

int shim_subsys_list_parse(const char *s, unsigned *ret_mask, struct oss_error *err)
{
    if (!s)
        return oss_err(err, OSS_ERR_INVALID, EINVAL, "missing subsystem list " VALID);
    unsigned mask = 0;
    const char *p = s;
    for (;;) {
        const char *comma = strchr(p, ',');
        const char *end = comma ? comma : p + strlen(p);
        const char *w = p, *we = end;
        while (w < we && isspace((unsigned char)*w))
            w++;
        while (we > w && isspace((unsigned char)we[-1]))
            we--;
        size_t n = (size_t)(we - w);
        if (n == 0)
            return oss_err(err, OSS_ERR_INVALID, EINVAL,
                           comma || p != s ? "empty name in subsystem list " VALID
                                           : "empty subsystem list " VALID);
        if (word_is(w, n, "all")) {
            mask |= SHIM_SUB_ALL;
        } else if (!word_is(w, n, "none")) {
            int found = -1;
            for (int i = 0; i < SHIM_SUB_COUNT; i++)
                if (word_is(w, n, names[i]))
                    found = i;
            if (found < 0)
                return oss_err(err, OSS_ERR_INVALID, EINVAL, "unknown subsystem \"%.*s\" " VALID,
                               (int)(n > 64 ? 64 : n), w);
            mask |= SHIM_SUB_BIT(found);
        }
        if (!comma)
            break;
        p = comma + 1;
    }
    *ret_mask = mask;
    return 0;
}
