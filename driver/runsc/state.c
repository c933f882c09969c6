/* Per-sandbox records: <state_dir>/runsc/sandboxes/<id>/record.json.
 *
 * A record is rewritten atomically (common/fs.h) before and after every
 * step that changes something outside the driver, with the intent of the
 * operation in flight.  After a crash the intent, together with what runsc
 * and the kernel say, is enough to finish or undo the operation
 * (backend.c, reconcile).  The token is never in a record. */
#include "internal.h"

#include "cleanup.h"
#include "drv_json.h"
#include "json.h"

#include <errno.h>
#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>

static const char *const intents[] = {
    [DRV_RUNSC_NONE] = "none",         [DRV_RUNSC_CREATING] = "creating",
    [DRV_RUNSC_STOPPING] = "stopping", [DRV_RUNSC_STARTING] = "starting",
    [DRV_RUNSC_DELETING] = "deleting", [DRV_RUNSC_ADMITTING] = "admitting",
};

const char *drv_runsc_intent_name(enum drv_runsc_intent i)
{
    return (size_t)i < OSS_ARRAY_SIZE(intents) ? intents[i] : "unknown";
}

void drv_runsc_record_clear(struct drv_runsc_record *r)
{
    free(r->id);
    free(r->name);
    free(r->namespace_);
    free(r->image);
    free(r->rootfs);
    drv_runsc_strv_free(r->argv);
    drv_runsc_strv_free(r->env);
    free(r->failure);
    memset(r, 0, sizeof *r);
}

static void strv_json(oss_json *j, const char *k, char *const *v)
{
    oss_json_key(j, k);
    oss_json_arr_begin(j);
    for (size_t i = 0; v != NULL && v[i] != NULL; i++)
        oss_json_str(j, v[i]);
    oss_json_arr_end(j);
}

void drv_runsc_record_json(const struct drv_runsc_record *r, oss_buf *out)
{
    oss_json j;
    oss_json_init(&j, out);
    oss_json_obj_begin(&j);
    oss_json_kv_int(&j, "format", 1);
    oss_json_kv_str(&j, "id", r->id);
    oss_json_kv_str(&j, "name", r->name);
    oss_json_kv_str(&j, "namespace", r->namespace_);
    oss_json_kv_str(&j, "image", r->image);
    oss_json_kv_str(&j, "rootfs", r->rootfs);
    strv_json(&j, "argv", r->argv);
    strv_json(&j, "env", r->env);
    oss_json_kv_bool(&j, "has_token", r->has_token);
    oss_json_kv_str(&j, "intent", drv_runsc_intent_name(r->intent));
    oss_json_kv_int(&j, "status", (long long)r->status);
    oss_json_kv_uint(&j, "version", r->version);
    oss_json_kv_uint(&j, "generation", r->generation);
    oss_json_kv_uint(&j, "slot", r->slot);
    oss_json_kv_uint(&j, "prev_slot", r->prev_slot);
    oss_json_kv_int(&j, "pid", r->pid);
    oss_json_kv_str(&j, "failure", r->failure);
    oss_json_kv_bool(&j, "create_failed", r->create_failed);
    oss_json_kv_int(&j, "image_bytes", r->image_bytes);
    oss_json_obj_end(&j);
    oss_buf_putc(out, '\n');
}

static char *get_str(json_object *o, const char *k, bool required, bool *bad)
{
    json_object *v;
    if (!json_object_object_get_ex(o, k, &v) || json_object_is_type(v, json_type_null)) {
        if (required)
            *bad = true;
        return NULL;
    }
    if (!json_object_is_type(v, json_type_string)) {
        *bad = true;
        return NULL;
    }
    char *s = strdup(json_object_get_string(v));
    if (s == NULL)
        abort();
    return s;
}

static int64_t get_int(json_object *o, const char *k, int64_t min, int64_t max, bool *bad)
{
    json_object *v;
    if (!json_object_object_get_ex(o, k, &v))
        return 0;
    if (!json_object_is_type(v, json_type_int)) {
        *bad = true;
        return 0;
    }
    int64_t x = json_object_get_int64(v);
    if (x < min || x > max) {
        *bad = true;
        return 0;
    }
    return x;
}

static char **get_strv(json_object *o, const char *k, bool *bad)
{
    json_object *v;
    if (!json_object_object_get_ex(o, k, &v) || !json_object_is_type(v, json_type_array)) {
        *bad = true;
        return NULL;
    }
    size_t n = json_object_array_length(v);
    if (n > 4096) {
        *bad = true;
        return NULL;
    }
    char **r = calloc(n + 1, sizeof *r);
    if (r == NULL)
        abort();
    for (size_t i = 0; i < n; i++) {
        json_object *e = json_object_array_get_idx(v, i);
        if (!json_object_is_type(e, json_type_string)) {
            *bad = true;
            r[i] = NULL;
            return r; /* NULL-terminated here: freeable */
        }
        r[i] = strdup(json_object_get_string(e));
        if (r[i] == NULL)
            abort();
    }
    return r;
}

int drv_runsc_record_parse(const char *text, size_t len, struct drv_runsc_record *ret,
                           oss_error *err)
{
    json_object *o;
    if (drv_json_parse_object(text, len, "record", &o, err) < 0)
        return -1;
    struct drv_runsc_record r = {0};
    bool bad = false;
    if (get_int(o, "format", 1, 1, &bad) != 1)
        bad = true;
    r.id = get_str(o, "id", true, &bad);
    r.name = get_str(o, "name", false, &bad);
    r.namespace_ = get_str(o, "namespace", false, &bad);
    r.image = get_str(o, "image", true, &bad);
    r.rootfs = get_str(o, "rootfs", true, &bad);
    r.argv = get_strv(o, "argv", &bad);
    r.env = get_strv(o, "env", &bad);
    json_object *v;
    r.has_token = json_object_object_get_ex(o, "has_token", &v) && json_object_get_boolean(v);
    char *intent = get_str(o, "intent", true, &bad);
    r.intent = DRV_RUNSC_NONE;
    bool known = false;
    for (size_t i = 0; intent != NULL && i < OSS_ARRAY_SIZE(intents); i++)
        if (strcmp(intent, intents[i]) == 0) {
            r.intent = (enum drv_runsc_intent)i;
            known = true;
        }
    free(intent);
    if (!known)
        bad = true;
    r.status = (enum drv_actor_status)get_int(o, "status", 0, 255, &bad);
    r.version = (uint64_t)get_int(o, "version", 0, INT64_MAX, &bad);
    r.generation = (uint64_t)get_int(o, "generation", 0, INT64_MAX, &bad);
    r.slot = (unsigned)get_int(o, "slot", 0, DRV_RUNSC_SLOT_MAX, &bad);
    r.prev_slot = (unsigned)get_int(o, "prev_slot", 0, DRV_RUNSC_SLOT_MAX, &bad);
    r.pid = (int)get_int(o, "pid", 0, 1 << 22, &bad);
    r.failure = get_str(o, "failure", false, &bad);
    r.create_failed =
        json_object_object_get_ex(o, "create_failed", &v) && json_object_get_boolean(v);
    r.image_bytes = get_int(o, "image_bytes", 0, INT64_MAX, &bad);
    json_object_put(o);
    if (bad || r.argv == NULL || r.argv[0] == NULL) {
        drv_runsc_record_clear(&r);
        return oss_err(err, OSS_ERR_INVALID, EINVAL, "record has missing or mistyped fields");
    }
    *ret = r;
    return 0;
}
