/* A pure, incremental HTTP/1.1 request-head parser for the readyz server.
 *
 * It only has to understand what a readiness prober sends: a request line
 * and headers, GET or HEAD, no body.  Bytes may arrive split anywhere; the
 * parser keeps one line in a bounded buffer and decides as early as it can,
 * so a bad or oversized request is answered without waiting for the rest.
 * The verdict is the same whatever the split (tests feed every boundary).
 *
 * Limits: the whole head (request line + headers + blank line) is at most
 * SHIM_HTTP_HEAD_MAX bytes and at most SHIM_HTTP_MAX_HEADERS header lines,
 * else 431; a declared body (Content-Length > 0, any Transfer-Encoding) is
 * 413; anything malformed is 400; a well-formed method other than GET/HEAD
 * is 405; an unknown path is 404 (see shim_http_route()). */
#ifndef SHIM_READYZ_HTTP_H
#define SHIM_READYZ_HTTP_H

#include <stdbool.h>
#include <stddef.h>

#define SHIM_HTTP_HEAD_MAX    8192
#define SHIM_HTTP_MAX_HEADERS 32
#define SHIM_HTTP_PATH_MAX    64 /* longer paths are kept as "unknown" (404) */

enum shim_http_result {
    SHIM_HTTP_MORE = 0, /* need more bytes */
    SHIM_HTTP_DONE,     /* a complete, acceptable head: see method/path */
    SHIM_HTTP_ERROR,    /* rejected: see status */
};

enum shim_http_method {
    SHIM_HTTP_GET = 0,
    SHIM_HTTP_HEAD,
};

enum shim_http_route {
    SHIM_ROUTE_UNKNOWN = 0,
    SHIM_ROUTE_READYZ,
    SHIM_ROUTE_HEALTHZ,
    SHIM_ROUTE_STATUS,
};

struct shim_http_req {
    /* results */
    enum shim_http_result result;
    int status;         /* HTTP status when result == SHIM_HTTP_ERROR */
    const char *reason; /* short, static, for logs and the error body */
    enum shim_http_method method;
    char path[SHIM_HTTP_PATH_MAX + 1]; /* without query; "" when too long */
    bool path_too_long;
    int minor; /* HTTP/1.<minor> */

    /* parser state */
    size_t total;    /* bytes of head consumed so far */
    unsigned nlines; /* lines completed, request line included */
    bool have_host;
    bool saw_cr; /* last byte was CR, awaiting LF */
    size_t linelen;
    char line[SHIM_HTTP_HEAD_MAX];
};

void shim_http_init(struct shim_http_req *r);

/* Feeds n bytes.  Returns how many were consumed (the rest, e.g. pipelined
 * data after the head, is not the parser's business) and leaves the verdict
 * in r->result.  Once result is DONE or ERROR further calls consume nothing. */
size_t shim_http_feed(struct shim_http_req *r, const char *data, size_t n);

/* Maps a path to a route; the query string is already stripped. */
enum shim_http_route shim_http_route_of(const char *path);

/* Reason phrase for the statuses the server sends. */
const char *shim_http_status_text(int status);

#endif
