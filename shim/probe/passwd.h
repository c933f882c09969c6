/* The image's sandbox user (probe/passwd.c). */
#ifndef SHIM_PASSWD_H
#define SHIM_PASSWD_H

#include <stddef.h>
#include <sys/types.h>

/* Pure: the uid and primary gid of `name` in passwd(5) text; -1 when there
 * is no well-formed entry for it. */
int shim_passwd_find(const char *text, size_t len, const char *name, uid_t *ret_uid,
                     gid_t *ret_gid);
/* The same over a file (at most 1 MiB); -1 also when it cannot be read. */
int shim_passwd_lookup(const char *path, const char *name, uid_t *ret_uid, gid_t *ret_gid);

#endif
