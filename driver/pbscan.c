#include "pbscan.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

enum { WT_VARINT = 0, WT_64BIT = 1, WT_LEN = 2, WT_SGROUP = 3, WT_EGROUP = 4, WT_32BIT = 5 };

static bool read_varint(const uint8_t *buf, size_t len, size_t *pos, uint64_t *v)
{
    uint64_t r = 0;
    for (unsigned shift = 0; shift < 64; shift += 7) {
        if (*pos >= len)
            return false;
        uint8_t b = buf[(*pos)++];
        r |= (uint64_t)(b & 0x7f) << shift;
        if ((b & 0x80) == 0) {
            *v = r;
            return true;
        }
    }
    return false; /* more than 10 bytes */
}

struct where {
    char *path;
    size_t pathlen;
    bool cut; /* a name did not fit: deeper names are left off too */
};

/* Appends ".name" (or "name" at the top) when it fits whole, so a cut path
 * still names real fields, only fewer of them. */
static void path_push(struct where *w, const char *name)
{
    size_t n = strlen(w->path);
    size_t need = (n > 0 ? 1 : 0) + strlen(name);
    if (w->cut || n + need >= w->pathlen) {
        w->cut = true;
        return;
    }
    snprintf(w->path + n, w->pathlen - n, "%s%s", n > 0 ? "." : "", name);
}

static enum drv_pbscan_result scan(const ProtobufCMessageDescriptor *d, const uint8_t *buf,
                                   size_t len, unsigned depth, struct where *w)
{
    size_t pos = 0;
    while (pos < len) {
        uint64_t key;
        if (!read_varint(buf, len, &pos, &key))
            return DRV_PBSCAN_MALFORMED;
        unsigned wt = (unsigned)(key & 7);
        uint64_t num = key >> 3;
        if (num == 0 || num > 536870911u)
            return DRV_PBSCAN_MALFORMED;
        uint64_t v;
        switch (wt) {
        case WT_VARINT:
            if (!read_varint(buf, len, &pos, &v))
                return DRV_PBSCAN_MALFORMED;
            continue;
        case WT_64BIT:
        case WT_32BIT: {
            size_t n = wt == WT_64BIT ? 8 : 4;
            if (len - pos < n)
                return DRV_PBSCAN_MALFORMED;
            pos += n;
            continue;
        }
        case WT_LEN:
            if (!read_varint(buf, len, &pos, &v) || v > len - pos)
                return DRV_PBSCAN_MALFORMED;
            break;
        default:
            /* groups: protobuf-c refuses them in proto3 messages */
            return DRV_PBSCAN_MALFORMED;
        }
        const uint8_t *body = buf + pos;
        size_t blen = (size_t)v;
        pos += blen;
        const ProtobufCFieldDescriptor *f =
            protobuf_c_message_descriptor_get_field(d, (unsigned)num);
        if (f == NULL)
            continue; /* unknown: skipped, never turned into a C string */
        if (f->type == PROTOBUF_C_TYPE_STRING) {
            if (memchr(body, 0, blen) != NULL) {
                path_push(w, f->name);
                return DRV_PBSCAN_NUL;
            }
        } else if (f->type == PROTOBUF_C_TYPE_MESSAGE && f->descriptor != NULL) {
            size_t mark = strlen(w->path);
            bool was_cut = w->cut;
            path_push(w, f->name);
            if (depth + 1 >= DRV_PBSCAN_DEPTH_MAX)
                return DRV_PBSCAN_TOO_DEEP;
            enum drv_pbscan_result r = scan(f->descriptor, body, blen, depth + 1, w);
            if (r != DRV_PBSCAN_CLEAN)
                return r;
            w->path[mark] = '\0';
            w->cut = was_cut;
        }
        /* bytes and packed scalars carry no C string */
    }
    return DRV_PBSCAN_CLEAN;
}

enum drv_pbscan_result drv_pbscan_nul(const ProtobufCMessageDescriptor *d, const uint8_t *buf,
                                      size_t len, char *path, size_t pathlen)
{
    path[0] = '\0';
    if (len > 0 && buf == NULL)
        return DRV_PBSCAN_MALFORMED;
    struct where w = {.path = path, .pathlen = pathlen};
    return scan(d, buf, len, 0, &w);
}
