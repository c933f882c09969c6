#include "readyz/http.h"

#include <string.h>
#include <strings.h>

/* RFC 9110 tchar: the characters of a method or header name. */
static bool is_tchar(unsigned char c)
{
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
        return true;
    return c != 0 && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

static void fail(struct shim_http_req *r, int status, const char *reason)
{
    r->result = SHIM_HTTP_ERROR;
    r->status = status;
    r->reason = reason;
}

void shim_http_init(struct shim_http_req *r)
{
    /* The line buffer need not be cleared: only line[0..linelen) is read. */
    memset(r, 0, offsetof(struct shim_http_req, line));
    r->result = SHIM_HTTP_MORE;
}

static void request_line(struct shim_http_req *r, const char *l, size_t n)
{
    size_t i = 0;
    while (i < n && is_tchar((unsigned char)l[i]))
        i++;
    size_t mlen = i;
    if (mlen == 0 || i >= n || l[i] != ' ')
        return fail(r, 400, "malformed request line");
    bool get = mlen == 3 && memcmp(l, "GET", 3) == 0;
    bool head = mlen == 4 && memcmp(l, "HEAD", 4) == 0;
    /* Methods are case-sensitive (RFC 9110 9.1): "get" is an unknown method. */
    r->method = head ? SHIM_HTTP_HEAD : SHIM_HTTP_GET;

    size_t t0 = ++i;
    while (i < n && (unsigned char)l[i] > 0x20 && (unsigned char)l[i] < 0x7f)
        i++;
    size_t tlen = i - t0;
    if (tlen == 0 || l[t0] != '/' || i >= n || l[i] != ' ')
        return fail(r, 400, "malformed request target");
    i++;
    if (n - i != 8 || memcmp(l + i, "HTTP/1.", 7) != 0 || l[i + 7] < '0' || l[i + 7] > '9')
        return fail(r, 400, "unsupported HTTP version");
    r->minor = l[i + 7] - '0';

    size_t plen = 0;
    while (plen < tlen && l[t0 + plen] != '?' && l[t0 + plen] != '#')
        plen++;
    if (plen > SHIM_HTTP_PATH_MAX) {
        r->path_too_long = true;
        r->path[0] = '\0';
    } else {
        memcpy(r->path, l + t0, plen);
        r->path[plen] = '\0';
    }
    if (!get && !head)
        r->status = 405; /* decided once the head is complete and well formed */
}

static bool name_is(const char *name, size_t n, const char *want)
{
    return strlen(want) == n && strncasecmp(name, want, n) == 0;
}

static void header_line(struct shim_http_req *r, const char *l, size_t n)
{
    if (r->nlines - 1 > SHIM_HTTP_MAX_HEADERS) /* nlines counts the request line too */
        return fail(r, 431, "too many header fields");
    if (l[0] == ' ' || l[0] == '\t')
        return fail(r, 400, "obsolete line folding");
    size_t i = 0;
    while (i < n && is_tchar((unsigned char)l[i]))
        i++;
    size_t nlen = i;
    if (nlen == 0 || i >= n || l[i] != ':')
        return fail(r, 400, "malformed header field");
    i++;
    while (i < n && (l[i] == ' ' || l[i] == '\t'))
        i++;
    size_t v0 = i, vend = n;
    while (vend > v0 && (l[vend - 1] == ' ' || l[vend - 1] == '\t'))
        vend--;
    for (size_t k = v0; k < vend; k++) {
        unsigned char c = (unsigned char)l[k];
        if ((c < 0x20 && c != '\t') || c == 0x7f)
            return fail(r, 400, "control character in header value");
    }
    const char *v = l + v0;
    size_t vlen = vend - v0;

    if (name_is(l, nlen, "Host")) {
        if (r->have_host)
            return fail(r, 400, "duplicate Host header");
        r->have_host = true;
    } else if (name_is(l, nlen, "Content-Length")) {
        if (vlen == 0)
            return fail(r, 400, "malformed Content-Length");
        bool nonzero = false;
        for (size_t k = 0; k < vlen; k++) {
            if (v[k] < '0' || v[k] > '9')
                return fail(r, 400, "malformed Content-Length");
            nonzero |= v[k] != '0';
        }
        if (nonzero)
            return fail(r, 413, "request body not accepted");
    } else if (name_is(l, nlen, "Transfer-Encoding")) {
        return fail(r, 413, "request body not accepted");
    }
}

/* One complete line, CRLF (or bare LF) stripped. */
static void line_done(struct shim_http_req *r)
{
    const char *l = r->line;
    size_t n = r->linelen;
    r->linelen = 0;
    if (r->nlines++ == 0) {
        if (n == 0)
            return fail(r, 400, "empty request line");
        return request_line(r, l, n);
    }
    if (n > 0)
        return header_line(r, l, n);

    /* The blank line: the head is complete. */
    if (r->minor >= 1 && !r->have_host)
        return fail(r, 400, "missing Host header"); /* RFC 9112 3.2 */
    if (r->status == 405)
        return fail(r, 405, "method not allowed");
    r->result = SHIM_HTTP_DONE;
}

size_t shim_http_feed(struct shim_http_req *r, const char *data, size_t n)
{
    size_t i = 0;
    while (i < n && r->result == SHIM_HTTP_MORE) {
        unsigned char c = (unsigned char)data[i++];
        if (++r->total > SHIM_HTTP_HEAD_MAX) {
            fail(r, 431, "request head too large");
            break;
        }
        if (c == '\n') {
            r->saw_cr = false;
            line_done(r);
            continue;
        }
        if (r->saw_cr || c == '\0') {
            fail(r, 400, c == '\0' ? "NUL in request" : "bare CR in request");
            break;
        }
        if (c == '\r') {
            r->saw_cr = true;
            continue;
        }
        /* Not even a method: TLS, SSH or garbage.  Say so at once. */
        if (r->nlines == 0 && r->linelen == 0 && !is_tchar(c)) {
            fail(r, 400, "malformed request line");
            break;
        }
        /* total <= SHIM_HTTP_HEAD_MAX bounds linelen below sizeof line. */
        r->line[r->linelen++] = (char)c;
    }
    return i;
}

enum shim_http_route shim_http_route_of(const char *path)
{
    if (strcmp(path, "/readyz") == 0)
        return SHIM_ROUTE_READYZ;
    if (strcmp(path, "/healthz") == 0)
        return SHIM_ROUTE_HEALTHZ;
    if (strcmp(path, "/status") == 0)
        return SHIM_ROUTE_STATUS;
    return SHIM_ROUTE_UNKNOWN;
}

const char *shim_http_status_text(int status)
{
    switch (status) {
    case 200:
        return "OK";
    case 400:
        return "Bad Request";
    case 404:
        return "Not Found";
    case 405:
        return "Method Not Allowed";
    case 413:
        return "Content Too Large";
    case 431:
        return "Request Header Fields Too Large";
    case 500:
        return "Internal Server Error";
    case 503:
        return "Service Unavailable";
    default:
        return "Unknown";
    }
}
