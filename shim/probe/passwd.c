/* The sandbox user of the image, read the way upstream finds it: the
 * "sandbox" entry of /etc/passwd (docs/platform/supervisor.md, privilege
 * drop).  A plain parser over the file's text: the shim is linked
 * statically and stays away from NSS. */
#include "passwd.h"

#include "fs.h"
#include "util.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* One field of a passwd line: [s, e) -> number, all digits, <= 2^31-1. */
static bool num_field(const char *s, const char *e, unsigned long *ret)
{
    if (s == e || e - s > 10)
        return false;
    unsigned long v = 0;
    for (const char *p = s; p < e; p++) {
        if (*p < '0' || *p > '9')
            return false;
        v = v * 10 + (unsigned long)(*p - '0');
    }
    if (v > 0x7fffffffUL)
        return false;
    *ret = v;
    return true;
}

int shim_passwd_find(const char *text, size_t len, const char *name, uid_t *ret_uid, gid_t *ret_gid)
{
    size_t nlen = strlen(name);
    const char *p = text, *end = text + len;
    while (p < end) {
        const char *eol = memchr(p, '\n', (size_t)(end - p));
        if (!eol)
            eol = end;
        /* name:passwd:uid:gid:... */
        const char *f[5];
        size_t nf = 0;
        f[nf++] = p;
        for (const char *q = p; q < eol && nf < 5; q++)
            if (*q == ':')
                f[nf++] = q + 1;
        unsigned long u, g;
        if (nf == 5 && (size_t)(f[1] - 1 - f[0]) == nlen && memcmp(f[0], name, nlen) == 0 &&
            num_field(f[2], f[3] - 1, &u) && num_field(f[3], f[4] - 1, &g)) {
            *ret_uid = (uid_t)u;
            *ret_gid = (gid_t)g;
            return 0;
        }
        p = eol + 1;
    }
    return -1;
}

int shim_passwd_lookup(const char *path, const char *name, uid_t *ret_uid, gid_t *ret_gid)
{
    oss_buf b = OSS_BUF_INIT;
    oss_error err = {0};
    int r = -1;
    if (oss_read_file(path, 1 << 20, &b, &err) == 0)
        r = shim_passwd_find(b.data ? b.data : "", b.len, name, ret_uid, ret_gid);
    oss_buf_free(&b);
    return r;
}
