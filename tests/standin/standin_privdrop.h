/* The stand-in supervisor's privilege drop, per upstream variant (a TEST
 * DOUBLE; docs/platform/supervisor.md, privilege drop). */
#ifndef STANDIN_PRIVDROP_H
#define STANDIN_PRIVDROP_H

#include "standin.h"

#include <stdbool.h>
#include <sys/types.h>

struct standin_identity {
    uid_t uid;
    gid_t gid;
    char name[64]; /* for initgroups; empty on main's numeric path */
    bool numeric;  /* main's driver identity: no setgroups at all */
};

/* Resolves the target before anything forks: --run-as / the driver
 * identity, else "sandbox:sandbox" from /etc/passwd and /etc/group.
 * Returns -1 with a message in err (upstream exits 1). */
int standin_identity_resolve(const struct standin_config *c, struct standin_identity *ret,
                             char *err, size_t errlen);

/* In the forked child: the variant's drop.  On failure returns -1 with the
 * failing call in *ret_call and errno set (0 for a verification failure). */
int standin_privdrop(enum standin_variant v, const struct standin_identity *id,
                     const char **ret_call);

#endif
