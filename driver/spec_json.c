/* DriverSandbox from proto3 JSON (see spec_json.h).
 *
 * Every string of the message is its own heap copy, so protobuf-c's
 * free_unpacked, which walks the descriptors and frees each member, frees
 * the tree whatever was or was not set. */
#include "spec_json.h"

#include "util.h"
#include "drv_json.h"
#include "drv_util.h"

#include <ctype.h>
#include <errno.h>
#include <json-c/json.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef Openshell__Compute__V1__DriverSandbox pb_sandbox;
typedef Openshell__Compute__V1__DriverSandboxSpec pb_spec;
typedef Openshell__Compute__V1__DriverSandboxTemplate pb_template;

static void *xcalloc(size_t n, size_t size)
{
    void *p = calloc(n ? n : 1, size);
    if (p == NULL)
        abort(); /* the driver's policy: ENOMEM is not recoverable */
    return p;
}

/* "logLevel" and "log_level" both name the proto field log_level. */
static bool key_is(const char *key, const char *snake)
{
    if (strcmp(key, snake) == 0)
        return true;
    const char *k = key;
    for (const char *p = snake; *p; p++, k++) {
        if (*p == '_') {
            p++;
            if (*k != toupper((unsigned char)*p))
                return false;
        } else if (*k != *p) {
            return false;
        }
    }
    return *k == '\0';
}

static int bad(oss_error *err, const char *path, const char *what)
{
    return oss_err(err, OSS_ERR_INVALID, EINVAL, "%s: %s", path, what);
}

/* A JSON string without NUL bytes, copied. */
static int get_str(json_object *v, const char *path, char **ret, oss_error *err)
{
    if (!json_object_is_type(v, json_type_string))
        return bad(err, path, "must be a string");
    const char *s = json_object_get_string(v);
    if ((size_t)json_object_get_string_len(v) != strlen(s))
        return bad(err, path, "holds a NUL byte");
    free(*ret);
    *ret = drv_strdup(s);
    return 0;
}

static void child_path(char *buf, size_t size, const char *path, const char *key)
{
    /* keys are caller data: cut, never overflow */
    snprintf(buf, size, "%s.%.64s", path, key);
}

/* A map<string,string> as a JSON object of strings.  `make` allocates one
 * entry message; keys and values land at the offsets given. */
typedef void *(*entry_new_fn)(void);
static int get_map(json_object *v, const char *path, entry_new_fn make, size_t key_off,
                   size_t val_off, void ***ret, size_t *ret_n, oss_error *err)
{
    if (!json_object_is_type(v, json_type_object))
        return bad(err, path, "must be an object of strings");
    size_t n = (size_t)json_object_object_length(v);
    void **arr = xcalloc(n, sizeof *arr);
    size_t i = 0;
    /* owned by the message from the first entry on: freed with it on error */
    *ret = arr;
    *ret_n = 0;
    json_object_object_foreach(v, k, val)
    {
        char p[160];
        child_path(p, sizeof p, path, k);
        void *e = make();
        arr[i++] = e;
        *ret_n = i;
        char **kp = (char **)((char *)e + key_off);
        char **vp = (char **)((char *)e + val_off);
        *kp = drv_strdup(k);
        *vp = drv_strdup("");
        if (strlen(k) == 0)
            return bad(err, path, "has an empty key");
        if (get_str(val, p, vp, err) < 0)
            return -1;
    }
    return 0;
}

static void *spec_env_new(void)
{
    Openshell__Compute__V1__DriverSandboxSpec__EnvironmentEntry *e = xcalloc(1, sizeof *e);
    openshell__compute__v1__driver_sandbox_spec__environment_entry__init(e);
    return e;
}
static void *tpl_env_new(void)
{
    Openshell__Compute__V1__DriverSandboxTemplate__EnvironmentEntry *e = xcalloc(1, sizeof *e);
    openshell__compute__v1__driver_sandbox_template__environment_entry__init(e);
    return e;
}
static void *tpl_label_new(void)
{
    Openshell__Compute__V1__DriverSandboxTemplate__LabelsEntry *e = xcalloc(1, sizeof *e);
    openshell__compute__v1__driver_sandbox_template__labels_entry__init(e);
    return e;
}

/* google.protobuf.Value / Struct / ListValue from any JSON value. */
static int to_struct(json_object *v, const char *path, Google__Protobuf__Struct **ret,
                     oss_error *err);

static int to_value(json_object *v, const char *path, Google__Protobuf__Value **ret, oss_error *err)
{
    Google__Protobuf__Value *pv = xcalloc(1, sizeof *pv);
    google__protobuf__value__init(pv);
    *ret = pv;
    switch (json_object_get_type(v)) {
    case json_type_null:
        pv->kind_case = GOOGLE__PROTOBUF__VALUE__KIND_NULL_VALUE;
        pv->null_value = GOOGLE__PROTOBUF__NULL_VALUE__NULL_VALUE;
        return 0;
    case json_type_boolean:
        pv->kind_case = GOOGLE__PROTOBUF__VALUE__KIND_BOOL_VALUE;
        pv->bool_value = json_object_get_boolean(v);
        return 0;
    case json_type_int:
    case json_type_double:
        pv->kind_case = GOOGLE__PROTOBUF__VALUE__KIND_NUMBER_VALUE;
        pv->number_value = json_object_get_double(v);
        return 0;
    case json_type_string:
        pv->kind_case = GOOGLE__PROTOBUF__VALUE__KIND_STRING_VALUE;
        pv->string_value = NULL;
        return get_str(v, path, &pv->string_value, err);
    case json_type_object:
        pv->kind_case = GOOGLE__PROTOBUF__VALUE__KIND_STRUCT_VALUE;
        return to_struct(v, path, &pv->struct_value, err);
    case json_type_array: {
        pv->kind_case = GOOGLE__PROTOBUF__VALUE__KIND_LIST_VALUE;
        Google__Protobuf__ListValue *l = xcalloc(1, sizeof *l);
        google__protobuf__list_value__init(l);
        pv->list_value = l;
        size_t n = json_object_array_length(v);
        l->values = xcalloc(n, sizeof *l->values);
        for (size_t i = 0; i < n; i++) {
            char p[192];
            snprintf(p, sizeof p, "%.140s[%zu]", path, i);
            l->n_values = i + 1;
            if (to_value(json_object_array_get_idx(v, i), p, &l->values[i], err) < 0)
                return -1;
        }
        return 0;
    }
    }
    return bad(err, path, "has an unsupported JSON type");
}

static int to_struct(json_object *v, const char *path, Google__Protobuf__Struct **ret,
                     oss_error *err)
{
    if (!json_object_is_type(v, json_type_object))
        return bad(err, path, "must be an object");
    Google__Protobuf__Struct *st = xcalloc(1, sizeof *st);
    google__protobuf__struct__init(st);
    *ret = st;
    size_t n = (size_t)json_object_object_length(v);
    st->fields = xcalloc(n, sizeof *st->fields);
    json_object_object_foreach(v, k, val)
    {
        char p[160];
        child_path(p, sizeof p, path, k);
        Google__Protobuf__Struct__FieldsEntry *e = xcalloc(1, sizeof *e);
        google__protobuf__struct__fields_entry__init(e);
        e->key = drv_strdup(k);
        st->fields[st->n_fields++] = e;
        if (to_value(val, p, &e->value, err) < 0)
            return -1;
    }
    return 0;
}

static int parse_template(json_object *o, pb_template *t, oss_error *err)
{
    if (!json_object_is_type(o, json_type_object))
        return bad(err, "spec.template", "must be an object");
    json_object_object_foreach(o, k, v)
    {
        char p[160];
        child_path(p, sizeof p, "spec.template", k);
        int r;
        if (key_is(k, "image"))
            r = get_str(v, p, &t->image, err);
        else if (key_is(k, "labels"))
            r = get_map(v, p, tpl_label_new,
                        offsetof(Openshell__Compute__V1__DriverSandboxTemplate__LabelsEntry, key),
                        offsetof(Openshell__Compute__V1__DriverSandboxTemplate__LabelsEntry, value),
                        (void ***)&t->labels, &t->n_labels, err);
        else if (key_is(k, "environment"))
            r = get_map(
                v, p, tpl_env_new,
                offsetof(Openshell__Compute__V1__DriverSandboxTemplate__EnvironmentEntry, key),
                offsetof(Openshell__Compute__V1__DriverSandboxTemplate__EnvironmentEntry, value),
                (void ***)&t->environment, &t->n_environment, err);
        else if (key_is(k, "platform_config"))
            r = json_object_is_type(v, json_type_null) ? 0
                                                       : to_struct(v, p, &t->platform_config, err);
        else if (key_is(k, "driver_config"))
            r = json_object_is_type(v, json_type_null) ? 0
                                                       : to_struct(v, p, &t->driver_config, err);
        else
            r = bad(err, p, "is not a field this driver reads (unknown field)");
        if (r < 0)
            return -1;
    }
    return 0;
}

static int parse_resources(json_object *o, pb_spec *s, oss_error *err)
{
    const char *path = "spec.resourceRequirements";
    if (!json_object_is_type(o, json_type_object))
        return bad(err, path, "must be an object");
    Openshell__Compute__V1__ResourceRequirements *rr = xcalloc(1, sizeof *rr);
    openshell__compute__v1__resource_requirements__init(rr);
    s->resource_requirements = rr;
    json_object_object_foreach(o, k, v)
    {
        if (!key_is(k, "gpu"))
            return bad(err, path, "has an unknown field (only gpu)");
        if (!json_object_is_type(v, json_type_object))
            return bad(err, "spec.resourceRequirements.gpu", "must be an object");
        Openshell__Compute__V1__GpuResourceRequirements *g = xcalloc(1, sizeof *g);
        openshell__compute__v1__gpu_resource_requirements__init(g);
        rr->gpu = g;
        json_object_object_foreach(v, gk, gv)
        {
            if (!key_is(gk, "count"))
                return bad(err, "spec.resourceRequirements.gpu", "has an unknown field");
            if (!json_object_is_type(gv, json_type_int) || json_object_get_int64(gv) < 0 ||
                json_object_get_int64(gv) > UINT32_MAX)
                return bad(err, "spec.resourceRequirements.gpu.count", "must be a uint32");
            g->count = (uint32_t)json_object_get_int64(gv);
        }
    }
    return 0;
}

static int parse_spec(json_object *o, pb_spec *s, oss_error *err)
{
    if (!json_object_is_type(o, json_type_object))
        return bad(err, "spec", "must be an object");
    json_object_object_foreach(o, k, v)
    {
        char p[160];
        child_path(p, sizeof p, "spec", k);
        int r = 0;
        if (key_is(k, "log_level")) {
            r = get_str(v, p, &s->log_level, err);
        } else if (key_is(k, "environment")) {
            r = get_map(
                v, p, spec_env_new,
                offsetof(Openshell__Compute__V1__DriverSandboxSpec__EnvironmentEntry, key),
                offsetof(Openshell__Compute__V1__DriverSandboxSpec__EnvironmentEntry, value),
                (void ***)&s->environment, &s->n_environment, err);
        } else if (key_is(k, "template")) {
            if (s->template_ == NULL) {
                s->template_ = xcalloc(1, sizeof *s->template_);
                openshell__compute__v1__driver_sandbox_template__init(s->template_);
                s->template_->image = drv_strdup("");
            }
            r = parse_template(v, s->template_, err);
        } else if (key_is(k, "resource_requirements")) {
            r = s->resource_requirements != NULL ? bad(err, p, "is given twice")
                                                 : parse_resources(v, s, err);
        } else if (key_is(k, "sandbox_token")) {
            r = get_str(v, p, &s->sandbox_token, err);
        } else if (key_is(k, "command")) {
            if (!json_object_is_type(v, json_type_array))
                return bad(err, p, "must be an array of strings");
            if (s->command != NULL)
                return bad(err, p, "is given twice");
            size_t n = json_object_array_length(v);
            s->command = xcalloc(n, sizeof *s->command);
            for (size_t i = 0; i < n && r == 0; i++) {
                char ip[160];
                snprintf(ip, sizeof ip, "spec.command[%zu]", i);
                s->n_command = i + 1;
                r = get_str(json_object_array_get_idx(v, i), ip, &s->command[i], err);
            }
        } else if (key_is(k, "tty")) {
            if (!json_object_is_type(v, json_type_boolean))
                return bad(err, p, "must be true or false");
            s->tty = json_object_get_boolean(v);
        } else {
            r = bad(err, p, "is not a field this driver reads (unknown field)");
        }
        if (r < 0)
            return -1;
    }
    return 0;
}

void drv_spec_json_free(pb_sandbox *sb)
{
    if (sb == NULL)
        return;
    if (sb->spec != NULL && sb->spec->sandbox_token != NULL)
        explicit_bzero(sb->spec->sandbox_token, strlen(sb->spec->sandbox_token));
    protobuf_c_message_free_unpacked(&sb->base, NULL);
}

int drv_spec_json_parse(const char *text, size_t len, pb_sandbox **ret, oss_error *err)
{
    json_object *root;
    if (drv_json_parse_object(text, len, "spec", &root, err) < 0)
        return -1;

    pb_sandbox *sb = xcalloc(1, sizeof *sb);
    openshell__compute__v1__driver_sandbox__init(sb);
    sb->id = drv_strdup("");
    sb->name = drv_strdup("");
    sb->namespace_ = drv_strdup("");
    sb->workspace = drv_strdup("");
    int r = 0;
    json_object_object_foreach(root, k, v)
    {
        char p[160];
        snprintf(p, sizeof p, "%.64s", k);
        if (key_is(k, "id")) {
            r = get_str(v, p, &sb->id, err);
        } else if (key_is(k, "name")) {
            r = get_str(v, p, &sb->name, err);
        } else if (key_is(k, "namespace")) {
            r = get_str(v, p, &sb->namespace_, err);
        } else if (key_is(k, "workspace")) {
            r = get_str(v, p, &sb->workspace, err);
        } else if (key_is(k, "spec")) {
            if (sb->spec == NULL) {
                sb->spec = xcalloc(1, sizeof *sb->spec);
                openshell__compute__v1__driver_sandbox_spec__init(sb->spec);
                sb->spec->log_level = drv_strdup("");
                sb->spec->sandbox_token = drv_strdup("");
            }
            r = parse_spec(v, sb->spec, err);
        } else {
            r = bad(err, p, "is not a field this driver reads (unknown field)");
        }
        if (r < 0)
            break;
    }
    /* the JSON tree held the token too */
    json_object *spec = NULL, *token = NULL;
    if ((json_object_object_get_ex(root, "spec", &spec)) &&
        json_object_is_type(spec, json_type_object) &&
        (json_object_object_get_ex(spec, "sandboxToken", &token) ||
         json_object_object_get_ex(spec, "sandbox_token", &token)) &&
        json_object_is_type(token, json_type_string))
        explicit_bzero((char *)(uintptr_t)json_object_get_string(token),
                       (size_t)json_object_get_string_len(token));
    json_object_put(root);
    if (r < 0) {
        drv_spec_json_free(sb);
        return -1;
    }
    *ret = sb;
    return 0;
}
