/* Pure parsers for /proc files: no I/O, so cmocka and libFuzzer feed them
 * arbitrary text. */
#include "probe.h"

#include <ctype.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

/* Parses the value after "Key:\t" on one line [p, end). */
static bool parse_dec(const char *p, const char *end, long *ret)
{
    while (p < end && (*p == ' ' || *p == '\t'))
        p++;
    if (p == end || !isdigit((unsigned char)*p))
        return false;
    long v = 0;
    while (p < end && isdigit((unsigned char)*p)) {
        v = v * 10 + (*p - '0');
        if (v > INT_MAX)
            return false; /* every field read here is an int: reject garbage */
        p++;
    }
    *ret = v;
    return true;
}

static bool parse_hex64(const char *p, const char *end, uint64_t *ret)
{
    while (p < end && (*p == ' ' || *p == '\t'))
        p++;
    uint64_t v = 0;
    int n = 0;
    while (p < end && isxdigit((unsigned char)*p)) {
        if (++n > 16)
            return false;
        int c = tolower((unsigned char)*p);
        v = (v << 4) | (uint64_t)(isdigit(c) ? c - '0' : c - 'a' + 10);
        p++;
    }
    if (n == 0)
        return false;
    *ret = v;
    return true;
}

static bool key_is(const char *line, size_t len, const char *key, const char **ret_val)
{
    size_t k = strlen(key);
    if (len < k + 1 || memcmp(line, key, k) != 0 || line[k] != ':')
        return false;
    *ret_val = line + k + 1;
    return true;
}

void shim_proc_status_parse(const char *text, size_t len, struct shim_proc_status *ret)
{
    struct shim_proc_status s = {
        .no_new_privs = -1, .seccomp = -1, .seccomp_filters = -1, .uid_real = -1, .uid_eff = -1};
    const char *p = text, *end = text + len;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *eol = nl ? nl : end;
        size_t ll = (size_t)(eol - p);
        const char *v;
        long n;
        if (key_is(p, ll, "NoNewPrivs", &v) && parse_dec(v, eol, &n))
            s.no_new_privs = (int)n;
        else if (key_is(p, ll, "Seccomp", &v) && parse_dec(v, eol, &n))
            s.seccomp = (int)n;
        else if (key_is(p, ll, "Seccomp_filters", &v) && parse_dec(v, eol, &n))
            s.seccomp_filters = (int)n;
        else if (key_is(p, ll, "CapEff", &v))
            s.have_cap_eff = parse_hex64(v, eol, &s.cap_eff);
        else if (key_is(p, ll, "CapBnd", &v))
            s.have_cap_bnd = parse_hex64(v, eol, &s.cap_bnd);
        else if (key_is(p, ll, "CapPrm", &v))
            s.have_cap_prm = parse_hex64(v, eol, &s.cap_prm);
        else if (key_is(p, ll, "Uid", &v)) {
            /* "Uid:\treal\teffective\tsaved\tfs" */
            long r, e;
            if (parse_dec(v, eol, &r)) {
                const char *q = v;
                while (q < eol && (*q == ' ' || *q == '\t'))
                    q++;
                while (q < eol && isdigit((unsigned char)*q))
                    q++;
                if (parse_dec(q, eol, &e)) {
                    s.uid_real = r;
                    s.uid_eff = e;
                }
            }
        }
        p = nl ? nl + 1 : end;
    }
    *ret = s;
}

bool shim_is_gvisor_version(const char *text)
{
    /* gVisor reports a fixed fake kernel (docs/platform/gvisor.md,
     * "What /proc shows"); newer releases may
     * change the date, so the "4.4.0 #1 SMP" head plus either marker counts. */
    if (!text)
        return false;
    if (strstr(text, "4.4.0 #1 SMP Sun Jan 10 15:06:54 PST 2016"))
        return true;
    return strstr(text, "gVisor") != NULL || strstr(text, "runsc") != NULL;
}
