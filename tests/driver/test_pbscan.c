/* driver/pbscan.c: string fields with an embedded NUL are found from the
 * wire bytes, at any depth, and named.  The request is written by hand
 * (a tiny encoder below) so every string field can carry its own marker;
 * each case turns one marker byte into NUL and expects that field's path. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "pbscan.h"

#include "compute_driver.pb-c.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define PB(x) openshell__compute__v1__##x

struct buf {
    uint8_t b[4096];
    size_t n;
};

static void put_varint(struct buf *o, uint64_t v)
{
    do {
        assert_true(o->n < sizeof o->b);
        o->b[o->n++] = (uint8_t)((v & 0x7f) | (v > 0x7f ? 0x80 : 0));
        v >>= 7;
    } while (v != 0);
}

static void put_len(struct buf *o, unsigned num, const void *p, size_t n)
{
    put_varint(o, (uint64_t)num << 3 | 2);
    put_varint(o, n);
    assert_true(o->n + n <= sizeof o->b);
    memcpy(o->b + o->n, p, n);
    o->n += n;
}

static void put_str(struct buf *o, unsigned num, const char *s)
{
    put_len(o, num, s, strlen(s));
}
static void put_msg(struct buf *o, unsigned num, const struct buf *m)
{
    put_len(o, num, m->b, m->n);
}

static void put_map_entry(struct buf *o, unsigned num, const char *k, const char *v)
{
    struct buf e = {0};
    put_str(&e, 1, k);
    put_str(&e, 2, v);
    put_msg(o, num, &e);
}

/* google.protobuf.Struct {k: v}, v a string, or {k: {k2: v}} when k2 != NULL */
static void put_struct(struct buf *o, unsigned num, const char *k, const char *k2, const char *v)
{
    struct buf val = {0}, entry = {0}, st = {0};
    if (k2 != NULL) {
        struct buf inner = {0};
        put_struct(&inner, 5 /* struct_value */, k2, NULL, v);
        val = inner;
    } else {
        put_str(&val, 3 /* string_value */, v);
    }
    put_str(&entry, 1, k);
    put_msg(&entry, 2, &val);
    put_msg(&st, 1 /* fields */, &entry);
    put_msg(o, num, &st);
}

/* Every string field of a CreateSandboxRequest, each with a unique marker
 * "~NN~" (NN = its row below). */
static const char *const create_paths[] = {
    "sandbox.id",
    "sandbox.name",
    "sandbox.namespace",
    "sandbox.workspace",
    "sandbox.spec.log_level",
    "sandbox.spec.environment.key",
    "sandbox.spec.environment.value",
    "sandbox.spec.sandbox_token",
    "sandbox.spec.command",
    "sandbox.spec.template.image",
    "sandbox.spec.template.labels.key",
    "sandbox.spec.template.labels.value",
    "sandbox.spec.template.environment.key",
    "sandbox.spec.template.environment.value",
    "sandbox.spec.template.platform_config.fields.key",
    "sandbox.spec.template.platform_config.fields.value.string_value",
    "sandbox.spec.template.driver_config.fields.key",
    "sandbox.spec.template.driver_config.fields.value.struct_value.fields.key",
    "sandbox.spec.template.driver_config.fields.value.struct_value.fields.value.string_value",
    "sandbox.status.sandbox_name",
    "sandbox.status.conditions.reason",
    "sandbox.status.instance_id",
    "sandbox.status.sandbox_fd",
    "sandbox.status.conditions.type",
    "sandbox.status.conditions.status",
    "sandbox.status.conditions.message",
    "sandbox.status.conditions.last_transition_time",
    "sandbox.spec.template.driver_config.fields.key",
    "sandbox.spec.template.driver_config.fields.value.string_value",
};
#define NPATHS (sizeof create_paths / sizeof create_paths[0])

static const char *mk(char m[NPATHS][8], int i)
{
    snprintf(m[i], 8, "~%02d~", i);
    return m[i];
}

static void build_create(struct buf *o)
{
    char m[NPATHS][8];
    struct buf tmpl = {0}, spec = {0}, cond = {0}, status = {0}, sb = {0};
    put_str(&tmpl, 1, mk(m, 9));
    put_map_entry(&tmpl, 4, mk(m, 10), mk(m, 11));
    put_map_entry(&tmpl, 6, mk(m, 12), mk(m, 13));
    put_struct(&tmpl, 11, mk(m, 14), NULL, mk(m, 15));
    put_struct(&tmpl, 12, mk(m, 16), mk(m, 17), mk(m, 18));
    put_struct(&tmpl, 12, mk(m, 27), NULL, mk(m, 28)); /* merged into the same Struct */
    put_str(&spec, 1, mk(m, 4));
    put_map_entry(&spec, 5, mk(m, 5), mk(m, 6));
    put_msg(&spec, 6, &tmpl);
    put_str(&spec, 11, mk(m, 7));
    put_str(&spec, 12, "sleep");
    put_str(&spec, 12, mk(m, 8)); /* the second element of a repeated string */
    put_str(&status, 1, mk(m, 19));
    put_str(&status, 2, mk(m, 21));
    put_str(&status, 4, mk(m, 22));
    put_str(&cond, 1, mk(m, 23));
    put_str(&cond, 2, mk(m, 24));
    put_str(&cond, 3, mk(m, 20));
    put_str(&cond, 4, mk(m, 25));
    put_str(&cond, 5, mk(m, 26));
    put_msg(&status, 5, &cond);
    put_str(&sb, 1, mk(m, 0));
    put_str(&sb, 2, mk(m, 1));
    put_str(&sb, 3, mk(m, 2));
    put_msg(&sb, 4, &spec);
    put_msg(&sb, 5, &status);
    put_str(&sb, 6, mk(m, 3));
    o->n = 0;
    put_msg(o, 1, &sb);
}

static uint8_t *find(struct buf *o, const char *needle)
{
    size_t n = strlen(needle);
    for (size_t i = 0; i + n <= o->n; i++)
        if (memcmp(o->b + i, needle, n) == 0)
            return o->b + i;
    return NULL;
}

static void test_clean_request_is_clean(void **state)
{
    (void)state;
    struct buf o;
    build_create(&o);
    char path[128];
    assert_int_equal(
        drv_pbscan_nul(&PB(create_sandbox_request__descriptor), o.b, o.n, path, sizeof path),
        DRV_PBSCAN_CLEAN);
    /* control: the hand-written wire is a real request protobuf-c reads */
    ProtobufCMessage *m =
        protobuf_c_message_unpack(&PB(create_sandbox_request__descriptor), NULL, o.n, o.b);
    assert_non_null(m);
    Openshell__Compute__V1__CreateSandboxRequest *r = (void *)m;
    assert_string_equal(r->sandbox->id, "~00~");
    assert_string_equal(r->sandbox->spec->template_->image, "~09~");
    protobuf_c_message_free_unpacked(m, NULL);
}

static void test_every_string_field_named(void **state)
{
    (void)state;
    for (size_t i = 0; i < NPATHS; i++) {
        struct buf o;
        build_create(&o);
        char marker[8];
        snprintf(marker, sizeof marker, "~%02zu~", i);
        uint8_t *at = find(&o, marker);
        assert_non_null(at);
        at[2] = '\0'; /* "~0\0~": same length, still valid wire */
        char path[128];
        enum drv_pbscan_result r =
            drv_pbscan_nul(&PB(create_sandbox_request__descriptor), o.b, o.n, path, sizeof path);
        if (r != DRV_PBSCAN_NUL || strcmp(path, create_paths[i]) != 0)
            fail_msg("row %zu: result %d path \"%s\", want \"%s\"", i, (int)r, path,
                     create_paths[i]);
    }
}

/* Every string field the descriptors reach from CreateSandboxRequest is in
 * the table above, so a field added to the proto fails here until the
 * request built above carries it.  google.protobuf.Value's struct_value and
 * list_value recurse; the table has one nesting level of them. */
static size_t walk(const ProtobufCMessageDescriptor *d, char *path, size_t len, char out[][128],
                   size_t n)
{
    for (unsigned i = 0; i < d->n_fields; i++) {
        const ProtobufCFieldDescriptor *f = &d->fields[i];
        size_t mark = strlen(path);
        snprintf(path + mark, len - mark, "%s%s", mark > 0 ? "." : "", f->name);
        if (f->type == PROTOBUF_C_TYPE_STRING) {
            assert_true(n < 64);
            snprintf(out[n++], 128, "%s", path);
        } else if (f->type == PROTOBUF_C_TYPE_MESSAGE &&
                   !(d == &google__protobuf__value__descriptor &&
                     (strcmp(f->name, "struct_value") == 0 ||
                      strcmp(f->name, "list_value") == 0))) {
            n = walk(f->descriptor, path, len, out, n);
        }
        path[mark] = '\0';
    }
    return n;
}

static void test_table_is_complete(void **state)
{
    (void)state;
    static char found[64][128];
    char path[128] = "";
    size_t n = walk(&PB(create_sandbox_request__descriptor), path, sizeof path, found, 0);
    assert_true(n >= 20); /* CONTROL: the walk does find fields */
    for (size_t i = 0; i < n; i++) {
        bool listed = false;
        for (size_t j = 0; j < NPATHS && !listed; j++)
            listed = strcmp(found[i], create_paths[j]) == 0;
        if (!listed)
            fail_msg("string field %s is not in the table of tested fields", found[i]);
    }
}

/* CONTROL: what the scan prevents.  protobuf-c cuts at the NUL. */
static void test_protobuf_c_cuts_at_nul(void **state)
{
    (void)state;
    struct buf o = {0};
    put_len(&o, 1, "x\0/../etc", 9);
    ProtobufCMessage *m =
        protobuf_c_message_unpack(&PB(get_sandbox_request__descriptor), NULL, o.n, o.b);
    assert_non_null(m);
    assert_string_equal(((Openshell__Compute__V1__GetSandboxRequest *)m)->sandbox_id, "x");
    protobuf_c_message_free_unpacked(m, NULL);
    char path[64];
    assert_int_equal(
        drv_pbscan_nul(&PB(get_sandbox_request__descriptor), o.b, o.n, path, sizeof path),
        DRV_PBSCAN_NUL);
    assert_string_equal(path, "sandbox_id");
}

static void test_id_requests(void **state)
{
    (void)state;
    const ProtobufCMessageDescriptor *ds[] = {
        &PB(get_sandbox_request__descriptor), &PB(stop_sandbox_request__descriptor),
        &PB(start_sandbox_request__descriptor), &PB(delete_sandbox_request__descriptor)};
    for (size_t i = 0; i < sizeof ds / sizeof ds[0]; i++) {
        for (unsigned f = 1; f <= 2; f++) {
            struct buf o = {0};
            put_str(&o, f == 1 ? 2 : 1, "fine");
            put_len(&o, f, "a\0b", 3);
            char path[64];
            assert_int_equal(drv_pbscan_nul(ds[i], o.b, o.n, path, sizeof path), DRV_PBSCAN_NUL);
            assert_string_equal(path, f == 1 ? "sandbox_id" : "sandbox_name");
        }
    }
}

static void test_not_strings(void **state)
{
    (void)state;
    char path[64];
    /* an unknown field's bytes never become a C string */
    struct buf o = {0};
    put_len(&o, 99, "a\0b", 3);
    put_str(&o, 1, "sb-1");
    assert_int_equal(
        drv_pbscan_nul(&PB(get_sandbox_request__descriptor), o.b, o.n, path, sizeof path),
        DRV_PBSCAN_CLEAN);
    /* numbers holding 0 bytes are not strings: gpu.count = 0 as a varint */
    struct buf gpu = {0}, rr = {0}, spec = {0}, sb = {0}, req = {0};
    put_varint(&gpu, 1 << 3 | 0);
    put_varint(&gpu, 0);
    put_msg(&rr, 1, &gpu);
    put_msg(&spec, 9, &rr);
    put_msg(&sb, 4, &spec);
    put_msg(&req, 1, &sb);
    assert_int_equal(
        drv_pbscan_nul(&PB(create_sandbox_request__descriptor), req.b, req.n, path, sizeof path),
        DRV_PBSCAN_CLEAN);
    /* an empty message */
    assert_int_equal(
        drv_pbscan_nul(&PB(list_sandboxes_request__descriptor), NULL, 0, path, sizeof path),
        DRV_PBSCAN_CLEAN);
}

static void test_malformed(void **state)
{
    (void)state;
    char path[64];
    const ProtobufCMessageDescriptor *d = &PB(get_sandbox_request__descriptor);
    static const uint8_t overlong[] = {0x0a, 0x05, 'a', 'b'};    /* length past the end */
    static const uint8_t badvarint[] = {0x08, 0xff, 0xff, 0xff}; /* unterminated varint */
    static const uint8_t group[] = {0x0b, 0x0c};                 /* a group */
    static const uint8_t field0[] = {0x02, 0x00};                /* field number 0 */
    static const uint8_t fixed[] = {0x0d, 0x01, 0x02};           /* short fixed32 */
    assert_int_equal(drv_pbscan_nul(d, overlong, sizeof overlong, path, sizeof path),
                     DRV_PBSCAN_MALFORMED);
    assert_int_equal(drv_pbscan_nul(d, badvarint, sizeof badvarint, path, sizeof path),
                     DRV_PBSCAN_MALFORMED);
    assert_int_equal(drv_pbscan_nul(d, group, sizeof group, path, sizeof path),
                     DRV_PBSCAN_MALFORMED);
    assert_int_equal(drv_pbscan_nul(d, field0, sizeof field0, path, sizeof path),
                     DRV_PBSCAN_MALFORMED);
    assert_int_equal(drv_pbscan_nul(d, fixed, sizeof fixed, path, sizeof path),
                     DRV_PBSCAN_MALFORMED);
}

static void test_depth_limit(void **state)
{
    (void)state;
    /* Value{struct_value: Struct{fields: {k: Value{...}}}} nested N times */
    for (int levels = 4; levels <= 40; levels += 36) {
        struct buf cur = {0};
        put_str(&cur, 3, "leaf");
        for (int i = 0; i < levels; i++) {
            struct buf entry = {0}, st = {0}, val = {0};
            put_str(&entry, 1, "k");
            put_msg(&entry, 2, &cur);
            put_msg(&st, 1, &entry);
            put_msg(&val, 5, &st);
            cur = val;
        }
        char path[64];
        enum drv_pbscan_result r =
            drv_pbscan_nul(&google__protobuf__value__descriptor, cur.b, cur.n, path, sizeof path);
        assert_int_equal(r, levels == 4 ? DRV_PBSCAN_CLEAN : DRV_PBSCAN_TOO_DEEP);
    }
}

static void test_path_cut_to_fit(void **state)
{
    (void)state;
    struct buf o;
    build_create(&o);
    find(&o, "~18~")[1] = '\0';
    char path[16];
    assert_int_equal(
        drv_pbscan_nul(&PB(create_sandbox_request__descriptor), o.b, o.n, path, sizeof path),
        DRV_PBSCAN_NUL);
    assert_true(strlen(path) < sizeof path);
    assert_string_equal(path, "sandbox.spec");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_clean_request_is_clean),
        cmocka_unit_test(test_every_string_field_named),
        cmocka_unit_test(test_table_is_complete),
        cmocka_unit_test(test_protobuf_c_cuts_at_nul),
        cmocka_unit_test(test_id_requests),
        cmocka_unit_test(test_not_strings),
        cmocka_unit_test(test_malformed),
        cmocka_unit_test(test_depth_limit),
        cmocka_unit_test(test_path_cut_to_fit),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
