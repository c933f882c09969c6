/* A streaming JSON writer (no DOM): the shim must stay small and static, and
 * everything it emits (reports, OCSF findings, JSON logs) is written once in
 * order.  Commas are tracked per nesting level so callers never place them.
 * Strings are escaped per RFC 8259; invalid UTF-8 bytes are replaced by
 * U+FFFD so a hostile identity file cannot break a report. */
#ifndef OSS_JSON_H
#define OSS_JSON_H

#include "buf.h"

#include <stdbool.h>
#include <stddef.h>

#define OSS_JSON_MAX_DEPTH 32

typedef struct oss_json {
    oss_buf *out;
    int depth;
    bool need_comma[OSS_JSON_MAX_DEPTH];
    bool after_key;
} oss_json;

void oss_json_init(oss_json *j, oss_buf *out);

void oss_json_obj_begin(oss_json *j);
void oss_json_obj_end(oss_json *j);
void oss_json_arr_begin(oss_json *j);
void oss_json_arr_end(oss_json *j);

void oss_json_key(oss_json *j, const char *key);
void oss_json_str(oss_json *j, const char *s); /* NULL writes null */
void oss_json_strn(oss_json *j, const char *s, size_t n);
void oss_json_int(oss_json *j, long long v);
void oss_json_uint(oss_json *j, unsigned long long v);
void oss_json_double(oss_json *j, double v);
void oss_json_bool(oss_json *j, bool v);
void oss_json_null(oss_json *j);
/* Inserts an already-serialized JSON value verbatim. */
void oss_json_raw(oss_json *j, const char *json);

void oss_json_kv_str(oss_json *j, const char *k, const char *v);
void oss_json_kv_int(oss_json *j, const char *k, long long v);
void oss_json_kv_uint(oss_json *j, const char *k, unsigned long long v);
void oss_json_kv_bool(oss_json *j, const char *k, bool v);
void oss_json_kv_double(oss_json *j, const char *k, double v);

/* Appends the escaped form of s (without quotes) to out. */
void oss_json_escape(oss_buf *out, const char *s, size_t n);

#endif
