#include "restore/detect.h"

#include <string.h>

const char *shim_restore_reason_name(enum shim_restore_reason r)
{
    switch (r) {
    case SHIM_RESTORE_TIMER:
        return "timer";
    case SHIM_RESTORE_IDENTITY:
        return "identity";
    case SHIM_RESTORE_NOTIFY:
        return "notify";
    case SHIM_RESTORE_SIGNAL:
        return "signal";
    case SHIM_RESTORE_READYZ:
        return "readyz";
    }
    return "unknown";
}

bool shim_freeze_detect(int64_t expected_ms, int64_t actual_ms, int64_t threshold_ms,
                        int64_t *ret_frozen_ms)
{
    if (threshold_ms <= 0 || actual_ms < expected_ms)
        return false;
    int64_t late = actual_ms - expected_ms;
    if (late < threshold_ms)
        return false;
    if (ret_frozen_ms)
        *ret_frozen_ms = late;
    return true;
}

static bool id_char(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           (c != 0 && strchr("._:/@+-", c) != NULL);
}

static bool is_ws(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

void shim_identity_from_bytes(const char *raw, size_t n, bool present, struct shim_identity *ret)
{
    struct shim_identity id = {.present = present, .valid = true};
    size_t b = 0, e = n;
    while (b < e && is_ws(raw[b]))
        b++;
    while (e > b && is_ws(raw[e - 1]))
        e--;
    uint64_t h = 0xcbf29ce484222325ULL;
    for (size_t i = b; i < e; i++) {
        h ^= (unsigned char)raw[i];
        h *= 0x100000001b3ULL;
    }
    id.hash = h;
    if (e - b > SHIM_IDENTITY_MAX)
        id.valid = false;
    for (size_t i = b; id.valid && i < e; i++)
        if (!id_char((unsigned char)raw[i]))
            id.valid = false;
    if (id.valid) {
        memcpy(id.id, raw + b, e - b);
        id.id[e - b] = '\0';
    }
    *ret = id;
}

bool shim_identity_changed(const struct shim_identity *a, const struct shim_identity *b)
{
    if (a->present != b->present || a->valid != b->valid)
        return true;
    if (a->valid)
        return strcmp(a->id, b->id) != 0;
    return a->hash != b->hash;
}

const char *shim_identity_display(const struct shim_identity *id)
{
    return id->valid ? id->id : "<invalid>";
}

bool shim_actor_name_valid(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > SHIM_IDENTITY_MAX)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!id_char((unsigned char)s[i]))
            return false;
    return true;
}

bool shim_identity_is(const struct shim_identity *id, const char *actor)
{
    return id->present && id->valid && actor != NULL && strcmp(id->id, actor) == 0;
}
