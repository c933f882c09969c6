/* Privilege drop of the stand-in supervisor.  Each branch cites the upstream
 * lines it mirrors; none is skipped: upstream has no switch for it. */
#include "standin_privdrop.h"

#include <errno.h>
#include <grp.h>
#include <linux/capability.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

int standin_identity_resolve(const struct standin_config *c, struct standin_identity *ret,
                             char *err, size_t errlen)
{
    memset(ret, 0, sizeof *ret);
    if (c->run_as) {
        ret->uid = c->uid;
        ret->gid = c->gid;
        if (c->variant == STANDIN_MAIN) {
            /* A resolved driver identity must lie in MIN_SANDBOX_UID (1) ..
             * u32::MAX-1 (S/lib.rs@2f7fb65 212-230; openshell-policy
             * lib.rs@2f7fb65 984). */
            if (c->uid < 1 || c->gid < 1 || c->uid == (uid_t)-1 || c->gid == (gid_t)-1) {
                snprintf(err, errlen, "sandbox UID/GID %u:%u outside %u..%u", (unsigned)c->uid,
                         (unsigned)c->gid, 1u, 0xfffffffeu);
                return -1;
            }
            ret->numeric = true; /* P/process.rs@2f7fb65 2227-2283: no setgroups */
            return 0;
        }
        /* Pull requests 1549/1548 resolve the policy's user by name
         * (P/process.rs@5112fca71 921-939): the stand-in takes a uid and
         * needs that user's name for initgroups. */
        struct passwd *pw = getpwuid(c->uid);
        if (!pw) {
            snprintf(err, errlen, "Sandbox user not found: uid %u", (unsigned)c->uid);
            return -1;
        }
        snprintf(ret->name, sizeof ret->name, "%s", pw->pw_name);
        return 0;
    }
    /* No identity: "sandbox:sandbox" (main: step 12 fills the names,
     * P/identity.rs@2f7fb65 110-131; 1549/1548: the drop's fallback when
     * root, P/process.rs@5112fca71 906-915), and the user must exist
     * (P/process.rs@5112fca71 758-786; P/process.rs@2f7fb65 1137-1300). */
    struct passwd *pw = getpwnam("sandbox");
    if (!pw) {
        snprintf(err, errlen,
                 "sandbox user 'sandbox' not found in image; all sandbox images must include a "
                 "'sandbox' user and group");
        return -1;
    }
    struct group *gr = getgrnam("sandbox");
    if (!gr) {
        snprintf(err, errlen, "Sandbox group not found: sandbox");
        return -1;
    }
    ret->uid = pw->pw_uid;
    ret->gid = gr->gr_gid;
    snprintf(ret->name, sizeof ret->name, "sandbox");
    return 0;
}

#define FAIL(call)                                                                                 \
    do {                                                                                           \
        *ret_call = (call);                                                                        \
        return -1;                                                                                 \
    } while (0)

/* capctl::caps::bounding::clear; EPERM is tolerated only when the set is
 * already empty (P/process.rs@2f7fb65 353-390). */
static int clear_bounding(void)
{
    int first_err = 0;
    for (int cap = 0; cap <= CAP_LAST_CAP; cap++) {
        if (prctl(PR_CAPBSET_READ, cap, 0, 0, 0) != 1)
            continue;
        if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0 && !first_err)
            first_err = errno;
    }
    for (int cap = 0; cap <= CAP_LAST_CAP; cap++)
        if (prctl(PR_CAPBSET_READ, cap, 0, 0, 0) == 1) {
            errno = first_err ? first_err : EPERM;
            return -1;
        }
    return 0;
}

int standin_privdrop(enum standin_variant v, const struct standin_identity *id,
                     const char **ret_call)
{
    if (v != STANDIN_MAIN) {
        /* The idempotent fast path: already the target, nothing to do
         * (P/process.rs@5112fca71 937-942; S/process.rs@835f1f92a 484). */
        if (geteuid() == id->uid && getegid() == id->gid)
            return 0;
        if (initgroups(id->name, id->gid) < 0)
            FAIL("initgroups");
        if (setgid(id->gid) < 0)
            FAIL("setgid");
        if (getegid() != id->gid) {
            errno = 0;
            FAIL("verify egid");
        }
        if (setuid(id->uid) < 0)
            FAIL("setuid");
    } else {
        /* main: every set*id guarded on "not already" (P/process.rs@2f7fb65
         * 2245, 2285, 2305); the named path uses initgroups, the numeric
         * driver identity keeps the supplementary groups (2227-2283). */
        if (id->uid != geteuid() && !id->numeric && initgroups(id->name, id->gid) < 0)
            FAIL("initgroups");
        if (id->gid != getegid() && setgid(id->gid) < 0)
            FAIL("setgid");
        if (getegid() != id->gid) {
            errno = 0;
            FAIL("verify egid");
        }
        /* Bounding set cleared while euid is 0 (2299-2302). */
        if (geteuid() == 0 && clear_bounding() < 0)
            FAIL("capbset clear");
        if (id->uid != geteuid() && setuid(id->uid) < 0)
            FAIL("setuid");
    }
    if (geteuid() != id->uid) {
        errno = 0;
        FAIL("verify euid");
    }
    /* Root must not be re-acquirable (P/process.rs@2f7fb65 2322-2328;
     * P/process.rs@5112fca71 995; S/process.rs@835f1f92a 539). */
    if (id->uid != 0 && setuid(0) == 0) {
        errno = 0;
        FAIL("setuid(0) succeeded");
    }
    return 0;
}
