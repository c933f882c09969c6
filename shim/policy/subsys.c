/* Subsystem names and the LIST syntax of --degrade and --probes. */
#include "config.h"
#include "error.h"

#include <ctype.h>
#include <string.h>

static const char *const names[SHIM_SUB_COUNT] = {"netns", "seccomp", "landlock", "privdrop"};

const char *shim_subsys_name(enum shim_subsys s)
{
    return (unsigned)s < SHIM_SUB_COUNT ? names[s] : "?";
}

int shim_subsys_list_parse(const char *s, unsigned *ret_mask, oss_error *err)
{
    unsigned mask = 0;
    bool any = false;
    const char *p = s;
    while (*p) {
        while (*p == ',' || isspace((unsigned char)*p))
            p++;
        if (*p == '\0')
            break;
        const char *start = p;
        while (*p && *p != ',' && !isspace((unsigned char)*p))
            p++;
        size_t n = (size_t)(p - start);
        any = true;
        if (n == 3 && strncmp(start, "all", 3) == 0) {
            mask = SHIM_SUB_ALL;
            continue;
        }
        if (n == 4 && strncmp(start, "none", 4) == 0)
            continue;
        int found = -1;
        for (int i = 0; i < SHIM_SUB_COUNT; i++)
            if (strlen(names[i]) == n && strncmp(names[i], start, n) == 0)
                found = i;
        if (found < 0)
            return oss_err(err, OSS_ERR_INVALID, 0,
                           "unknown subsystem '%.*s': expected a comma-separated list of netns, "
                           "seccomp, landlock, privdrop, or all / none",
                           (int)(n > 64 ? 64 : n), start);
        mask |= SHIM_SUB_BIT(found);
    }
    if (!any)
        return oss_err(err, OSS_ERR_INVALID, 0,
                       "empty subsystem list: use 'none' to name no subsystem");
    *ret_mask = mask;
    return 0;
}
