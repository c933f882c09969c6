/* Pure: which TCP endpoints inside a sandbox would make a checkpoint fail.
 * The input is the sandbox's own /proc/net/tcp and /proc/net/tcp6 (gVisor
 * prints them as Linux does: "sl local rem st ...", addresses as host-order
 * 32-bit hex words, ports as hex).  Debian's runsc refuses to save a TCP
 * endpoint that is connected or in a handshake over a NIC that cannot save
 * its state, and the sandbox then exits; the loopback NIC can, so loopback
 * endpoints do not count (docs/platform/gvisor.md, checkpoint and TCP). */
#include "internal.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* n hex digits -> value; false on a non-hex byte */
static bool hex_n(const char *p, size_t n, uint32_t *ret)
{
    uint32_t v = 0;
    for (size_t i = 0; i < n; i++) {
        int h = hexval(p[i]);
        if (h < 0)
            return false;
        v = v << 4 | (uint32_t)h;
    }
    *ret = v;
    return true;
}

struct ep {
    bool v6;
    unsigned char addr[16];
    unsigned port;
};

/* "0100007F:0C38" (8 or 32 hex digits, ':', 4 hex digits); *p advanced */
static bool parse_ep(const char **p, const char *end, struct ep *ret)
{
    const char *s = *p;
    const char *colon = memchr(s, ':', (size_t)(end - s));
    if (colon == NULL)
        return false;
    size_t n = (size_t)(colon - s);
    if ((n != 8 && n != 32) || end - colon < 5)
        return false;
    struct ep e = {.v6 = n == 32};
    for (size_t w = 0; w < n / 8; w++) {
        uint32_t v;
        if (!hex_n(s + 8 * w, 8, &v))
            return false;
        /* host order on the little-endian machines runsc runs on */
        for (size_t b = 0; b < 4; b++)
            e.addr[4 * w + b] = (unsigned char)(v >> (8 * b));
    }
    uint32_t port;
    if (!hex_n(colon + 1, 4, &port))
        return false;
    e.port = port;
    *p = colon + 5;
    *ret = e;
    return true;
}

static bool loopback(const struct ep *e)
{
    static const unsigned char one6[16] = {[15] = 1};
    static const unsigned char mapped[12] = {[10] = 0xff, [11] = 0xff};
    if (!e->v6)
        return e->addr[0] == 127;
    if (memcmp(e->addr, one6, 16) == 0)
        return true;
    return memcmp(e->addr, mapped, 12) == 0 && e->addr[12] == 127;
}

static void ep_str(const struct ep *e, char *out, size_t n)
{
    char a[INET6_ADDRSTRLEN] = "?";
    inet_ntop(e->v6 ? AF_INET6 : AF_INET, e->addr, a, sizeof a);
    snprintf(out, n, e->v6 ? "[%s]:%u" : "%s:%u", a, e->port);
}

static const char *state_name(unsigned st)
{
    static const char *const names[] = {"?",          "established", "syn-sent",  "syn-received",
                                        "fin-wait-1", "fin-wait-2",  "time-wait", "close",
                                        "close-wait", "last-ack",    "listen",    "closing"};
    return st < sizeof names / sizeof names[0] ? names[st] : "?";
}

int drv_runsc_tcp_verdict(const char *text, size_t len, struct drv_runsc_tcp_verdict *ret)
{
    struct drv_runsc_tcp_verdict v;
    memset(&v, 0, sizeof v);
    bool header = false;
    const char *p = text, *end = text + len;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *eol = nl != NULL ? nl : end;
        const char *q = p;
        p = nl != NULL ? nl + 1 : end;
        while (q < eol && *q == ' ')
            q++;
        if (eol - q >= 2 && memcmp(q, "sl", 2) == 0) {
            header = true;
            continue;
        }
        /* "<n>: <local> <remote> <st> ..." */
        const char *colon = memchr(q, ':', (size_t)(eol - q));
        if (colon == NULL || colon == q)
            continue;
        q = colon + 1;
        while (q < eol && *q == ' ')
            q++;
        struct ep local, remote;
        if (!parse_ep(&q, eol, &local) || q >= eol || *q != ' ')
            continue;
        q++;
        if (!parse_ep(&q, eol, &remote) || eol - q < 3 || *q != ' ')
            continue;
        uint32_t st;
        if (!hex_n(q + 1, 2, &st))
            continue;
        /* listening and closed endpoints save; so does loopback */
        if (st == 0x07 || st == 0x0a || st == 0 || st > 0x0b || loopback(&local))
            continue;
        v.blocking++;
        bool ends_by_itself = st == 0x02 || st == 0x03 || st == 0x04 || st == 0x05 || st == 0x06 ||
                              st == 0x09 || st == 0x0b;
        if (ends_by_itself)
            v.closing++;
        if (v.blocking == 1) {
            char l[64], r[64];
            ep_str(&local, l, sizeof l);
            ep_str(&remote, r, sizeof r);
            snprintf(v.first, sizeof v.first, "local %s, remote %s (%s)", l, r, state_name(st));
        }
    }
    if (!header)
        return -1;
    *ret = v;
    return 0;
}

/* copies [p, p+n) to out with control bytes as spaces */
static void copy_clean(char *out, size_t size, const char *p, size_t n)
{
    size_t k = 0;
    for (size_t i = 0; i < n && k + 1 < size; i++)
        out[k++] = (unsigned char)p[i] < 0x20 ? ' ' : p[i];
    out[k] = '\0';
}

static const char *find(const char *text, size_t len, const char *needle)
{
    size_t nl = strlen(needle);
    for (size_t i = 0; i + nl <= len; i++)
        if (memcmp(text + i, needle, nl) == 0)
            return text + i;
    return NULL;
}

bool drv_runsc_checkpoint_reason(const char *text, size_t len, char *out, size_t size)
{
    /* runsc prints the reason inside a long dump of the endpoint and a Go
     * stack trace: look through all of it, not its tail */
    static const char conn[] = "endpoint cannot be saved in connected state: ";
    const char *c = find(text, len, conn);
    if (c != NULL) {
        const char *s = c + strlen(conn);
        size_t n = 0;
        /* "local A:p, remote B:q" ends at the next ':' after "remote" */
        const char *r = find(s, (size_t)(text + len - s), "remote ");
        const char *e = r != NULL ? memchr(r + 7, ':', (size_t)(text + len - r - 7)) : NULL;
        if (e != NULL) {
            const char *e2 = memchr(e + 1, ':', (size_t)(text + len - e - 1));
            n = (size_t)((e2 != NULL ? e2 : text + len) - s);
        }
        char what[160];
        copy_clean(what, sizeof what, s, n > 120 ? 120 : n);
        snprintf(out, size, "an open TCP connection blocks the checkpoint: %s", what);
        return true;
    }
    const char *f = find(text, len, "checkpoint failed: ");
    if (f == NULL)
        f = text;
    const char *eol = memchr(f, '\n', (size_t)(text + len - f));
    size_t n = (size_t)((eol != NULL ? eol : text + len) - f);
    char first[240];
    copy_clean(first, sizeof first, f, n > 200 ? 200 : n);
    snprintf(out, size, "%s", first[0] != '\0' ? first : "runsc checkpoint failed without output");
    return false;
}
