#include "json.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

void oss_json_init(oss_json *j, oss_buf *out)
{
    memset(j, 0, sizeof *j);
    j->out = out;
}

/* Writes the separator owed before a value at the current level. */
static void before_value(oss_json *j)
{
    if (j->after_key) {
        j->after_key = false;
        return;
    }
    if (j->need_comma[j->depth])
        oss_buf_putc(j->out, ',');
    j->need_comma[j->depth] = true;
}

static void container_begin(oss_json *j, char c)
{
    before_value(j);
    oss_buf_putc(j->out, c);
    if (j->depth + 1 < OSS_JSON_MAX_DEPTH)
        j->depth++;
    j->need_comma[j->depth] = false;
}

static void container_end(oss_json *j, char c)
{
    oss_buf_putc(j->out, c);
    if (j->depth > 0)
        j->depth--;
}

void oss_json_obj_begin(oss_json *j)
{
    container_begin(j, '{');
}
void oss_json_obj_end(oss_json *j)
{
    container_end(j, '}');
}
void oss_json_arr_begin(oss_json *j)
{
    container_begin(j, '[');
}
void oss_json_arr_end(oss_json *j)
{
    container_end(j, ']');
}

/* Length of the valid UTF-8 sequence at s (1..4), or 0 if invalid. */
static size_t utf8_seq(const unsigned char *s, size_t n)
{
    unsigned char c = s[0];
    size_t len;
    unsigned min;
    unsigned cp;
    if (c < 0x80)
        return 1;
    if ((c & 0xE0) == 0xC0) {
        len = 2, cp = c & 0x1F, min = 0x80;
    } else if ((c & 0xF0) == 0xE0) {
        len = 3, cp = c & 0x0F, min = 0x800;
    } else if ((c & 0xF8) == 0xF0) {
        len = 4, cp = c & 0x07, min = 0x10000;
    } else {
        return 0;
    }
    if (len > n)
        return 0;
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xC0) != 0x80)
            return 0;
        cp = (cp << 6) | (s[i] & 0x3F);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
        return 0;
    return len;
}

void oss_json_escape(oss_buf *out, const char *s, size_t n)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0;
    while (i < n) {
        unsigned char c = p[i];
        switch (c) {
        case '"':
            oss_buf_puts(out, "\\\"");
            i++;
            continue;
        case '\\':
            oss_buf_puts(out, "\\\\");
            i++;
            continue;
        case '\n':
            oss_buf_puts(out, "\\n");
            i++;
            continue;
        case '\r':
            oss_buf_puts(out, "\\r");
            i++;
            continue;
        case '\t':
            oss_buf_puts(out, "\\t");
            i++;
            continue;
        default:
            break;
        }
        if (c < 0x20 || c == 0x7F) {
            oss_buf_printf(out, "\\u%04x", c);
            i++;
            continue;
        }
        size_t l = utf8_seq(p + i, n - i);
        if (l == 0) {
            oss_buf_puts(out, "\\ufffd");
            i++;
            continue;
        }
        oss_buf_put(out, p + i, l);
        i += l;
    }
}

void oss_json_key(oss_json *j, const char *key)
{
    before_value(j);
    oss_buf_putc(j->out, '"');
    oss_json_escape(j->out, key, strlen(key));
    oss_buf_puts(j->out, "\":");
    j->after_key = true;
}

void oss_json_strn(oss_json *j, const char *s, size_t n)
{
    before_value(j);
    oss_buf_putc(j->out, '"');
    oss_json_escape(j->out, s, n);
    oss_buf_putc(j->out, '"');
}

void oss_json_str(oss_json *j, const char *s)
{
    if (s == NULL) {
        oss_json_null(j);
        return;
    }
    oss_json_strn(j, s, strlen(s));
}

void oss_json_int(oss_json *j, long long v)
{
    before_value(j);
    oss_buf_printf(j->out, "%lld", v);
}

void oss_json_uint(oss_json *j, unsigned long long v)
{
    before_value(j);
    oss_buf_printf(j->out, "%llu", v);
}

void oss_json_double(oss_json *j, double v)
{
    before_value(j);
    if (!isfinite(v)) /* JSON has no NaN/Inf */
        oss_buf_puts(j->out, "null");
    else
        oss_buf_printf(j->out, "%.3f", v);
}

void oss_json_bool(oss_json *j, bool v)
{
    before_value(j);
    oss_buf_puts(j->out, v ? "true" : "false");
}

void oss_json_null(oss_json *j)
{
    before_value(j);
    oss_buf_puts(j->out, "null");
}

void oss_json_raw(oss_json *j, const char *json)
{
    before_value(j);
    oss_buf_puts(j->out, json);
}

void oss_json_kv_str(oss_json *j, const char *k, const char *v)
{
    oss_json_key(j, k);
    oss_json_str(j, v);
}
void oss_json_kv_int(oss_json *j, const char *k, long long v)
{
    oss_json_key(j, k);
    oss_json_int(j, v);
}
void oss_json_kv_uint(oss_json *j, const char *k, unsigned long long v)
{
    oss_json_key(j, k);
    oss_json_uint(j, v);
}
void oss_json_kv_bool(oss_json *j, const char *k, bool v)
{
    oss_json_key(j, k);
    oss_json_bool(j, v);
}
void oss_json_kv_double(oss_json *j, const char *k, double v)
{
    oss_json_key(j, k);
    oss_json_double(j, v);
}
