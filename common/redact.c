/* Credential redaction for foreign log lines (redact.h). */
#include "redact.h"

#include <ctype.h>
#include <stdbool.h>
#include <string.h>
#include <strings.h>

struct out {
    char *p;
    size_t cap, len;
};

static void put(struct out *o, const char *s, size_t n)
{
    if (o->cap == 0)
        return;
    size_t room = o->cap - 1 - o->len;
    if (n > room)
        n = room;
    memcpy(o->p + o->len, s, n);
    o->len += n;
}

static bool word_at(const char *s, const char *w)
{
    return strncasecmp(s, w, strlen(w)) == 0;
}

/* A secret starting at s? Returns its length, or 0. */
static size_t secret_at(const char *s, const char *const *secrets, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        size_t l = secrets[i] ? strlen(secrets[i]) : 0;
        if (l >= 4 && strncmp(s, secrets[i], l) == 0)
            return l;
    }
    return 0;
}

/* The end of a credential value starting at s: the end of the line, or a
 * quote, or (when stop_at_blank) a blank. */
static const char *value_end(const char *s, bool stop_at_blank)
{
    while (*s && *s != '\n' && *s != '\r' && *s != '"' && *s != '\'' &&
           !(stop_at_blank && (*s == ' ' || *s == '\t')))
        s++;
    return s;
}

/* Where the credential value starts after a key (or at a free-standing
 * "Bearer "): past separators, and past a scheme word and its blanks. */
static const char *value_start(const char *v)
{
    while (*v == ':' || *v == '=' || *v == ' ' || *v == '\t' || *v == '"' || *v == '\'')
        v++;
    if (word_at(v, "bearer ") || word_at(v, "basic ")) {
        while (*v && *v != ' ')
            v++;
        while (*v == ' ')
            v++;
    }
    return v;
}

size_t oss_redact(const char *in, char *out, size_t cap, const char *const *secrets,
                  size_t nsecrets)
{
    struct out o = {.p = out, .cap = cap};
    const char *s = in ? in : "";
    /* A credential value found ahead: [value, end) becomes the marker.  The
     * key and scheme before it are copied through the secret scan like
     * any other text. */
    const char *value = NULL, *end = NULL;
    while (*s) {
        if (value && s == value) {
            put(&o, OSS_REDACTED, strlen(OSS_REDACTED));
            s = end;
            value = end = NULL;
            continue;
        }
        size_t l = secret_at(s, secrets, nsecrets);
        if (l > 0) {
            put(&o, OSS_REDACTED, strlen(OSS_REDACTED));
            s += l;
            if (value && s > value) { /* the secret ran into the value: one marker covers both */
                if (s < end)
                    s = end;
                value = end = NULL;
            }
            continue;
        }
        if (value == NULL) {
            bool bearer = word_at(s, "bearer ") && (s == in || !isalnum((unsigned char)s[-1]));
            if (bearer || word_at(s, "authorization")) {
                const char *v = value_start(bearer ? s : s + strlen("authorization"));
                const char *e = value_end(v, bearer);
                if (e > v) {
                    value = v;
                    end = e;
                }
            }
        }
        put(&o, s, 1);
        s++;
    }
    if (cap > 0)
        out[o.len] = '\0';
    return o.len;
}
