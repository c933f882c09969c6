/* Wire-compatibility helper for proto/ateapi.proto (the project's subset).
 *
 *   ateapi_wire encode DIR   writes every message of the subset, each field
 *                            set, to DIR/<Message>.bin
 *   ateapi_wire decode DIR   decodes every DIR/<Message>.bin with the subset
 *                            and prints one JSON line per message
 *
 * wire_compat.py checks both directions against the REFERENCE proto. */
#include "buf.h"
#include "cleanup.h"
#include "fs.h"
#include "json.h"

#include "ateapi.pb-c.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#pragma GCC diagnostic ignored "-Wcast-qual"

static const ProtobufCMessageDescriptor *const all[] = {
    &ateapi__actor__descriptor,
    &ateapi__atespace__descriptor,
    &ateapi__actor_ref__descriptor,
    &ateapi__create_atespace_request__descriptor,
    &ateapi__create_atespace_response__descriptor,
    &ateapi__get_actor_request__descriptor,
    &ateapi__get_actor_response__descriptor,
    &ateapi__create_actor_request__descriptor,
    &ateapi__create_actor_response__descriptor,
    &ateapi__suspend_actor_request__descriptor,
    &ateapi__suspend_actor_response__descriptor,
    &ateapi__pause_actor_request__descriptor,
    &ateapi__pause_actor_response__descriptor,
    &ateapi__resume_actor_request__descriptor,
    &ateapi__resume_actor_response__descriptor,
    &ateapi__delete_actor_request__descriptor,
    &ateapi__delete_actor_response__descriptor,
    &ateapi__list_actors_request__descriptor,
    &ateapi__list_actors_response__descriptor,
};

/* Fills every field with a value derived from its number, recursively. */
static void fill(ProtobufCMessage *m, int depth)
{
    const ProtobufCMessageDescriptor *d = m->descriptor;
    for (unsigned i = 0; i < d->n_fields; i++) {
        const ProtobufCFieldDescriptor *f = &d->fields[i];
        char *p = (char *)m + f->offset;
        unsigned id = f->id;
        bool rep = f->label == PROTOBUF_C_LABEL_REPEATED;
        if (rep) {
            if (f->type != PROTOBUF_C_TYPE_MESSAGE || depth > 2)
                continue;
            /* two elements: repetition must survive the trip */
            const ProtobufCMessageDescriptor *sd = f->descriptor;
            ProtobufCMessage **v = calloc(2, sizeof *v);
            for (int k = 0; k < 2; k++) {
                v[k] = calloc(1, sd->sizeof_message);
                protobuf_c_message_init(sd, v[k]);
                fill(v[k], depth + 1);
            }
            *(size_t *)((char *)m + f->quantifier_offset) = 2;
            *(ProtobufCMessage ***)p = v;
            continue;
        }
        switch (f->type) {
        case PROTOBUF_C_TYPE_STRING: {
            char *s = malloc(32);
            snprintf(s, 32, "%s-%u", f->name, id);
            *(char **)p = s;
            break;
        }
        case PROTOBUF_C_TYPE_INT32:
            *(int32_t *)p = (int32_t)(id * 7);
            break;
        case PROTOBUF_C_TYPE_INT64:
            *(int64_t *)p = (int64_t)id * 1000000007LL;
            break;
        case PROTOBUF_C_TYPE_BOOL:
            *(protobuf_c_boolean *)p = 1;
            break;
        case PROTOBUF_C_TYPE_ENUM:
            *(int *)p = 6;
            break;
        case PROTOBUF_C_TYPE_MESSAGE: {
            if (depth > 2)
                break;
            const ProtobufCMessageDescriptor *sd = f->descriptor;
            ProtobufCMessage *sub = calloc(1, sd->sizeof_message);
            protobuf_c_message_init(sd, sub);
            fill(sub, depth + 1);
            *(ProtobufCMessage **)p = sub;
            break;
        }
        default:
            break;
        }
    }
}

/* JSON as protobuf's MessageToDict prints it (proto field names, int64 as
 * strings, enums as numbers, defaults omitted), for comparison. */
static void dump(oss_json *j, const ProtobufCMessage *m)
{
    const ProtobufCMessageDescriptor *d = m->descriptor;
    oss_json_obj_begin(j);
    for (unsigned i = 0; i < d->n_fields; i++) {
        const ProtobufCFieldDescriptor *f = &d->fields[i];
        const char *p = (const char *)m + f->offset;
        if (f->label == PROTOBUF_C_LABEL_REPEATED) {
            size_t n = *(const size_t *)((const char *)m + f->quantifier_offset);
            if (n == 0 || f->type != PROTOBUF_C_TYPE_MESSAGE)
                continue;
            oss_json_key(j, f->name);
            oss_json_arr_begin(j);
            for (size_t k = 0; k < n; k++)
                dump(j, (*(ProtobufCMessage *const *const *)p)[k]);
            oss_json_arr_end(j);
            continue;
        }
        switch (f->type) {
        case PROTOBUF_C_TYPE_STRING: {
            const char *s = *(char *const *)p;
            if (s && s[0])
                oss_json_kv_str(j, f->name, s);
            break;
        }
        case PROTOBUF_C_TYPE_INT32:
            if (*(const int32_t *)p)
                oss_json_kv_int(j, f->name, *(const int32_t *)p);
            break;
        case PROTOBUF_C_TYPE_INT64:
            if (*(const int64_t *)p) {
                char b[32];
                snprintf(b, sizeof b, "%" PRId64, *(const int64_t *)p);
                oss_json_kv_str(j, f->name, b);
            }
            break;
        case PROTOBUF_C_TYPE_BOOL:
            if (*(const protobuf_c_boolean *)p)
                oss_json_kv_bool(j, f->name, true);
            break;
        case PROTOBUF_C_TYPE_ENUM:
            if (*(const int *)p)
                oss_json_kv_int(j, f->name, *(const int *)p);
            break;
        case PROTOBUF_C_TYPE_MESSAGE:
            if (*(ProtobufCMessage *const *)p) {
                oss_json_key(j, f->name);
                dump(j, *(ProtobufCMessage *const *)p);
            }
            break;
        default:
            break;
        }
    }
    oss_json_obj_end(j);
}

int main(int argc, char **argv)
{
    if (argc != 3)
        return 2;
    bool enc = strcmp(argv[1], "encode") == 0;
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) {
        const ProtobufCMessageDescriptor *d = all[i];
        char path[4096];
        /* "ateapi.Actor" -> "Actor" */
        snprintf(path, sizeof path, "%s/%s.bin", argv[2], d->name);
        oss_error err = {0};
        if (enc) {
            ProtobufCMessage *m = calloc(1, d->sizeof_message);
            protobuf_c_message_init(d, m);
            fill(m, 0);
            size_t n = protobuf_c_message_get_packed_size(m);
            uint8_t *buf = malloc(n + 1);
            protobuf_c_message_pack(m, buf);
            if (oss_write_file_atomic(path, buf, n, 0644, &err) < 0) {
                fprintf(stderr, "%s\n", err.msg);
                return 1;
            }
            free(buf);
            protobuf_c_message_free_unpacked(m, NULL); /* every part is malloc'd */
            continue;
        }
        _cleanup_buf_ oss_buf in = OSS_BUF_INIT;
        if (oss_read_file(path, 1 << 20, &in, &err) < 0) {
            fprintf(stderr, "%s\n", err.msg);
            return 1;
        }
        ProtobufCMessage *m =
            protobuf_c_message_unpack(d, NULL, in.len, (const uint8_t *)(in.data ? in.data : ""));
        if (m == NULL) {
            fprintf(stderr, "cannot decode %s\n", path);
            return 1;
        }
        _cleanup_buf_ oss_buf out = OSS_BUF_INIT;
        oss_json j;
        oss_json_init(&j, &out);
        oss_json_obj_begin(&j);
        oss_json_kv_str(&j, "message", d->name);
        oss_json_key(&j, "value");
        dump(&j, m);
        oss_json_obj_end(&j);
        printf("%s\n", out.data);
        protobuf_c_message_free_unpacked(m, NULL);
    }
    return 0;
}
