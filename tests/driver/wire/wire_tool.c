/* Test helper for the wire-compatibility test: the project's protobuf-c
 * code on one side of a comparison whose other side is Python classes
 * generated from the REFERENCE protos (wire_test.py).
 *
 *   wire_tool schema                 every message the driver sends or
 *                                    receives, with field names, numbers
 *                                    and types as the project declares them
 *   wire_tool roundtrip MSG IN OUT   decode IN with the project's code,
 *                                    print the decoded fields as JSON, and
 *                                    re-encode them (unknown fields dropped,
 *                                    so only what the project understood
 *                                    travels back) into OUT
 *
 * Generic over protobuf-c descriptors, so nothing here restates a field. */
#include "buf.h"
#include "fs.h"
#include "json.h"

#include "compute_driver.pb-c.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define D(x) &openshell__compute__v1__##x##__descriptor

/* Every request, response and event message of the 12 RPCs. */
static const ProtobufCMessageDescriptor *const top[] = {
    D(get_capabilities_request),
    D(get_capabilities_response),
    D(get_gateway_listener_requirements_request),
    D(get_gateway_listener_requirements_response),
    D(validate_sandbox_create_request),
    D(validate_sandbox_create_response),
    D(get_sandbox_request),
    D(get_sandbox_response),
    D(list_sandboxes_request),
    D(list_sandboxes_response),
    D(create_sandbox_request),
    D(create_sandbox_response),
    D(stop_sandbox_request),
    D(stop_sandbox_response),
    D(start_sandbox_request),
    D(start_sandbox_response),
    D(delete_sandbox_request),
    D(delete_sandbox_response),
    D(watch_sandboxes_request),
    D(watch_sandboxes_event),
    D(ensure_workspace_request),
    D(ensure_workspace_response),
    D(delete_workspace_request),
    D(delete_workspace_response),
};

static const char *type_name(ProtobufCType t)
{
    static const char *const n[] = {"int32",    "sint32", "sfixed32", "int64",  "sint64",
                                    "sfixed64", "uint32", "fixed32",  "uint64", "fixed64",
                                    "float",    "double", "bool",     "enum",   "string",
                                    "bytes",    "message"};
    return (unsigned)t < sizeof n / sizeof n[0] ? n[t] : "?";
}

static const ProtobufCMessageDescriptor *seen[128];
static size_t nseen;

static void schema_msg(oss_json *j, const ProtobufCMessageDescriptor *d)
{
    for (size_t i = 0; i < nseen; i++)
        if (seen[i] == d)
            return;
    seen[nseen++] = d;
    oss_json_key(j, d->name);
    oss_json_obj_begin(j);
    for (unsigned i = 0; i < d->n_fields; i++) {
        const ProtobufCFieldDescriptor *f = &d->fields[i];
        oss_json_key(j, f->name);
        oss_json_obj_begin(j);
        oss_json_kv_uint(j, "number", f->id);
        oss_json_kv_str(j, "type", type_name(f->type));
        oss_json_kv_bool(j, "repeated", f->label == PROTOBUF_C_LABEL_REPEATED);
        if (f->type == PROTOBUF_C_TYPE_MESSAGE)
            oss_json_kv_str(j, "message",
                            ((const ProtobufCMessageDescriptor *)f->descriptor)->name);
        oss_json_obj_end(j);
    }
    oss_json_obj_end(j);
    for (unsigned i = 0; i < d->n_fields; i++)
        if (d->fields[i].type == PROTOBUF_C_TYPE_MESSAGE)
            schema_msg(j, d->fields[i].descriptor);
}

static size_t elem_size(ProtobufCType t)
{
    switch (t) {
    case PROTOBUF_C_TYPE_INT64:
    case PROTOBUF_C_TYPE_SINT64:
    case PROTOBUF_C_TYPE_SFIXED64:
    case PROTOBUF_C_TYPE_UINT64:
    case PROTOBUF_C_TYPE_FIXED64:
    case PROTOBUF_C_TYPE_DOUBLE:
        return 8;
    case PROTOBUF_C_TYPE_BOOL:
        return sizeof(protobuf_c_boolean);
    case PROTOBUF_C_TYPE_STRING:
    case PROTOBUF_C_TYPE_MESSAGE:
        return sizeof(void *);
    case PROTOBUF_C_TYPE_BYTES:
        return sizeof(ProtobufCBinaryData);
    default:
        return 4;
    }
}

static void dump_msg(oss_json *j, const ProtobufCMessage *m);

static void dump_value(oss_json *j, const ProtobufCFieldDescriptor *f, const void *p)
{
    switch (f->type) {
    case PROTOBUF_C_TYPE_INT32:
    case PROTOBUF_C_TYPE_SINT32:
    case PROTOBUF_C_TYPE_SFIXED32:
    case PROTOBUF_C_TYPE_ENUM:
        oss_json_int(j, *(const int32_t *)p);
        break;
    case PROTOBUF_C_TYPE_UINT32:
    case PROTOBUF_C_TYPE_FIXED32:
        oss_json_uint(j, *(const uint32_t *)p);
        break;
    case PROTOBUF_C_TYPE_INT64:
    case PROTOBUF_C_TYPE_SINT64:
    case PROTOBUF_C_TYPE_SFIXED64:
        oss_json_int(j, *(const int64_t *)p);
        break;
    case PROTOBUF_C_TYPE_UINT64:
    case PROTOBUF_C_TYPE_FIXED64:
        oss_json_uint(j, *(const uint64_t *)p);
        break;
    case PROTOBUF_C_TYPE_FLOAT:
        oss_json_double(j, *(const float *)p);
        break;
    case PROTOBUF_C_TYPE_DOUBLE:
        oss_json_double(j, *(const double *)p);
        break;
    case PROTOBUF_C_TYPE_BOOL:
        oss_json_bool(j, *(const protobuf_c_boolean *)p);
        break;
    case PROTOBUF_C_TYPE_STRING: {
        const char *s = *(char *const *)p;
        oss_json_str(j, s != NULL ? s : "");
        break;
    }
    case PROTOBUF_C_TYPE_BYTES: {
        const ProtobufCBinaryData *b = p;
        oss_buf hex = OSS_BUF_INIT;
        for (size_t i = 0; i < b->len; i++)
            oss_buf_printf(&hex, "%02x", b->data[i]);
        oss_json_str(j, hex.data != NULL ? hex.data : "");
        oss_buf_free(&hex);
        break;
    }
    case PROTOBUF_C_TYPE_MESSAGE: {
        const ProtobufCMessage *sub = *(ProtobufCMessage *const *)p;
        if (sub == NULL)
            oss_json_null(j);
        else
            dump_msg(j, sub);
        break;
    }
    }
}

static void dump_msg(oss_json *j, const ProtobufCMessage *m)
{
    const ProtobufCMessageDescriptor *d = m->descriptor;
    const char *base = (const char *)m;
    oss_json_obj_begin(j);
    for (unsigned i = 0; i < d->n_fields; i++) {
        const ProtobufCFieldDescriptor *f = &d->fields[i];
        if ((f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) &&
            *(const uint32_t *)(base + f->quantifier_offset) != f->id)
            continue; /* not the active member */
        oss_json_key(j, f->name);
        if (f->label == PROTOBUF_C_LABEL_REPEATED) {
            size_t n = *(const size_t *)(base + f->quantifier_offset);
            const char *arr = *(char *const *)(base + f->offset);
            oss_json_arr_begin(j);
            for (size_t k = 0; k < n; k++)
                dump_value(j, f, arr + k * elem_size(f->type));
            oss_json_arr_end(j);
        } else {
            dump_value(j, f, base + f->offset);
        }
    }
    oss_json_obj_end(j);
}

/* Drops what the project did not understand, so OUT carries only fields
 * the project's descriptors decoded. */
static void strip_unknown(ProtobufCMessage *m)
{
    for (unsigned i = 0; i < m->n_unknown_fields; i++)
        free(m->unknown_fields[i].data);
    free(m->unknown_fields);
    m->unknown_fields = NULL;
    m->n_unknown_fields = 0;
    const ProtobufCMessageDescriptor *d = m->descriptor;
    char *base = (char *)m;
    for (unsigned i = 0; i < d->n_fields; i++) {
        const ProtobufCFieldDescriptor *f = &d->fields[i];
        if (f->type != PROTOBUF_C_TYPE_MESSAGE)
            continue;
        if ((f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) &&
            *(uint32_t *)(base + f->quantifier_offset) != f->id)
            continue;
        if (f->label == PROTOBUF_C_LABEL_REPEATED) {
            size_t n = *(size_t *)(base + f->quantifier_offset);
            ProtobufCMessage **arr = *(ProtobufCMessage ***)(base + f->offset);
            for (size_t k = 0; k < n; k++)
                strip_unknown(arr[k]);
        } else if (*(ProtobufCMessage **)(base + f->offset) != NULL) {
            strip_unknown(*(ProtobufCMessage **)(base + f->offset));
        }
    }
}

static const ProtobufCMessageDescriptor *find(const char *name)
{
    for (size_t i = 0; i < sizeof top / sizeof top[0]; i++)
        if (strcmp(top[i]->name, name) == 0)
            return top[i];
    return NULL;
}

int main(int argc, char **argv)
{
    oss_buf out = OSS_BUF_INIT;
    oss_json j;
    oss_json_init(&j, &out);
    if (argc == 2 && strcmp(argv[1], "schema") == 0) {
        oss_json_obj_begin(&j);
        for (size_t i = 0; i < sizeof top / sizeof top[0]; i++)
            schema_msg(&j, top[i]);
        oss_json_obj_end(&j);
    } else if (argc == 5 && strcmp(argv[1], "roundtrip") == 0) {
        const ProtobufCMessageDescriptor *d = find(argv[2]);
        if (d == NULL) {
            fprintf(stderr, "wire_tool: unknown message %s\n", argv[2]);
            return 2;
        }
        oss_buf in = OSS_BUF_INIT;
        oss_error err = {0};
        if (oss_read_file(argv[3], 1 << 20, &in, &err) < 0) {
            fprintf(stderr, "wire_tool: %s\n", err.msg);
            return 1;
        }
        ProtobufCMessage *m =
            protobuf_c_message_unpack(d, NULL, in.len, (const uint8_t *)(in.data ? in.data : ""));
        oss_buf_free(&in);
        if (m == NULL) {
            fprintf(stderr, "wire_tool: %s does not decode as %s\n", argv[3], argv[2]);
            return 1;
        }
        strip_unknown(m);
        dump_msg(&j, m);
        size_t n = protobuf_c_message_get_packed_size(m);
        uint8_t *buf = malloc(n + 1);
        protobuf_c_message_pack(m, buf);
        protobuf_c_message_free_unpacked(m, NULL);
        if (oss_write_file_atomic(argv[4], buf, n, 0644, &err) < 0) {
            fprintf(stderr, "wire_tool: %s\n", err.msg);
            free(buf);
            return 1;
        }
        free(buf);
    } else {
        fprintf(stderr, "usage: wire_tool schema | roundtrip MSG IN OUT\n");
        return 2;
    }
    fwrite(out.data, 1, out.len, stdout);
    putchar('\n');
    oss_buf_free(&out);
    return 0;
}
