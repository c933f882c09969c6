/* libFuzzer target for netns/diff.c: two snapshots decoded from raw bytes
 * (names without NULs, any flags and families), diffed and serialised.
 * The diff must not read past the fixed-size name fields, must agree with
 * itself (a snapshot against itself is identical), and must emit JSON. */
#include "netns.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

struct reader {
    const uint8_t *p;
    size_t n;
};

static size_t take(struct reader *r, void *dst, size_t len)
{
    size_t k = len < r->n ? len : r->n;
    memcpy(dst, r->p, k);
    memset((uint8_t *)dst + k, 0, len - k);
    r->p += k;
    r->n -= k;
    return k;
}

static void decode(struct reader *r, struct netns_snapshot *s)
{
    uint8_t counts[3] = {0};
    take(r, counts, sizeof counts);
    s->nlinks = counts[0] % 8;
    s->naddrs = counts[1] % 8;
    s->nroutes = counts[2] % 8;
    s->links = calloc(s->nlinks + 1, sizeof *s->links);
    s->addrs = calloc(s->naddrs + 1, sizeof *s->addrs);
    s->routes = calloc(s->nroutes + 1, sizeof *s->routes);
    if (!s->links || !s->addrs || !s->routes)
        abort();
    for (size_t i = 0; i < s->nlinks; i++)
        take(r, &s->links[i], sizeof s->links[i]);
    for (size_t i = 0; i < s->naddrs; i++)
        take(r, &s->addrs[i], sizeof s->addrs[i]);
    for (size_t i = 0; i < s->nroutes; i++)
        take(r, &s->routes[i], sizeof s->routes[i]);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct reader r = {data, size};
    struct netns_snapshot a = {0}, b = {0};
    decode(&r, &a);
    decode(&r, &b);

    oss_buf out = OSS_BUF_INIT;
    size_t n = netns_snapshot_diff(&a, &b, &out);
    size_t total = a.nlinks + a.naddrs + a.nroutes + b.nlinks + b.naddrs + b.nroutes;
    if (n > total || out.len == 0 || out.data[0] != '{' || out.data[out.len - 1] != '}')
        abort();
    oss_buf_reset(&out);
    if (netns_snapshot_diff(&a, &a, &out) != 0)
        abort();
    oss_buf_reset(&out);
    netns_snapshot_json(&b, &out);
    if (out.len == 0 || out.data[0] != '{')
        abort();
    oss_buf_free(&out);
    netns_snapshot_free(&a);
    netns_snapshot_free(&b);
    return 0;
}
