#include "record.h"

#include "cleanup.h"
#include "drv_json.h"
#include "json.h"
#include "template.h"
#include "util.h"

#include <errno.h>
#include <json-c/json.h>
#include <stdio.h>
#include <string.h>

const char *drv_record_state_name(enum drv_record_state s)
{
    switch (s) {
    case DRV_RECORD_PENDING:
        return "pending";
    case DRV_RECORD_DONE:
        return "done";
    case DRV_RECORD_FAILED:
        return "failed";
    case DRV_RECORD_DELETING:
        return "deleting";
    }
    return "pending";
}

const char *drv_record_atespace(const struct drv_config *c)
{
    return c->atespace != NULL && c->atespace[0] != '\0' ? c->atespace : "openshell";
}

void drv_record_secret_build(const struct drv_sandbox_spec *spec, const struct drv_config *c,
                             const char *atespace, const char *secret_name, const char *tmpl,
                             bool token_data, oss_buf *out)
{
    oss_json j;
    oss_json_init(&j, out);
    oss_json_obj_begin(&j);
    oss_json_kv_str(&j, "apiVersion", "v1");
    oss_json_kv_str(&j, "kind", "Secret");
    oss_json_key(&j, "metadata");
    oss_json_obj_begin(&j);
    oss_json_kv_str(&j, "name", secret_name);
    oss_json_kv_str(&j, "namespace", drv_template_namespace(c));
    oss_json_key(&j, "labels");
    oss_json_obj_begin(&j);
    oss_json_kv_str(&j, DRV_LABEL_MANAGED_BY, DRV_OWNER);
    oss_json_kv_str(&j, DRV_LABEL_SANDBOX_ID, spec->id);
    oss_json_kv_str(&j, DRV_LABEL_ATESPACE, atespace);
    oss_json_obj_end(&j);
    oss_json_key(&j, "annotations");
    oss_json_obj_begin(&j);
    oss_json_kv_str(&j, DRV_ANN_OWNED_BY, DRV_OWNER);
    /* as sent, even "": the gateway refuses a name that changes */
    oss_json_kv_str(&j, DRV_ANN_SANDBOX_NAME, spec->name != NULL ? spec->name : "");
    oss_json_kv_str(&j, DRV_ANN_ACTOR_TEMPLATE, tmpl);
    oss_json_kv_str(&j, DRV_ANN_CREATE, drv_record_state_name(DRV_RECORD_PENDING));
    oss_json_obj_end(&j);
    oss_json_obj_end(&j);
    oss_json_kv_str(&j, "type", "Opaque");
    if (token_data && spec->sandbox_token != NULL && spec->sandbox_token[0] != '\0') {
        _cleanup_buf_ oss_buf b64 = OSS_BUF_INIT;
        drv_base64_encode(spec->sandbox_token, strlen(spec->sandbox_token), &b64);
        oss_json_key(&j, "data");
        oss_json_obj_begin(&j);
        oss_json_kv_str(&j, "token", b64.data != NULL ? b64.data : "");
        oss_json_obj_end(&j);
        explicit_bzero(b64.data, b64.len); /* the scratch copy held the credential */
    }
    oss_json_obj_end(&j);
}

void drv_record_state_patch(enum drv_record_state state, const char *failure, oss_buf *out)
{
    oss_json j;
    oss_json_init(&j, out);
    oss_json_obj_begin(&j);
    oss_json_key(&j, "metadata");
    oss_json_obj_begin(&j);
    oss_json_key(&j, "annotations");
    oss_json_obj_begin(&j);
    oss_json_kv_str(&j, DRV_ANN_CREATE, drv_record_state_name(state));
    if (state == DRV_RECORD_FAILED) {
        char f[DRV_RECORD_FAILURE_MAX];
        snprintf(f, sizeof f, "%s", failure != NULL ? failure : "");
        oss_json_kv_str(&j, DRV_ANN_CREATE_FAILURE, f);
    }
    oss_json_obj_end(&j);
    oss_json_obj_end(&j);
    if (state == DRV_RECORD_FAILED) {
        oss_json_key(&j, "data");
        oss_json_null(&j); /* merge patch: removes data.token */
    }
    oss_json_obj_end(&j);
}

void drv_record_selector(const char *atespace, oss_buf *out)
{
    /* "=" is %3D and "," is %2C; the label keys and the atespace (a DNS
     * label) need no other escaping */
    oss_buf_printf(out, "%s%%3D%s%%2C%s%%3D%s", DRV_LABEL_MANAGED_BY, DRV_OWNER, DRV_LABEL_ATESPACE,
                   atespace);
}

static json_object *get(json_object *o, const char *key)
{
    json_object *v = NULL;
    if (o == NULL || !json_object_is_type(o, json_type_object))
        return NULL;
    return json_object_object_get_ex(o, key, &v) ? v : NULL;
}

static const char *str(json_object *o)
{
    return (o != NULL && json_object_is_type(o, json_type_string)) ? json_object_get_string(o)
                                                                   : NULL;
}

/* Copies s into dst; false when absent or too long (never cut: a cut name
 * would be a changed name). */
static bool copy_whole(char *dst, size_t size, const char *s)
{
    if (s == NULL || strlen(s) >= size)
        return false;
    memcpy(dst, s, strlen(s) + 1);
    return true;
}

static bool parse_item(json_object *item, struct drv_record *r)
{
    memset(r, 0, sizeof *r);
    json_object *meta = get(item, "metadata");
    json_object *ann = get(meta, "annotations");
    const char *owner = str(get(ann, DRV_ANN_OWNED_BY));
    if (owner == NULL || strcmp(owner, DRV_OWNER) != 0)
        return false;
    if (!copy_whole(r->id, sizeof r->id, str(get(get(meta, "labels"), DRV_LABEL_SANDBOX_ID))) ||
        !oss_dns1123_label_valid(r->id))
        return false;
    if (!copy_whole(r->name, sizeof r->name, str(get(ann, DRV_ANN_SANDBOX_NAME))))
        return false;
    if (!copy_whole(r->tmpl, sizeof r->tmpl, str(get(ann, DRV_ANN_ACTOR_TEMPLATE))) ||
        !oss_dns1123_label_valid(r->tmpl))
        return false;
    const char *st = str(get(ann, DRV_ANN_CREATE));
    if (st == NULL)
        return false;
    if (strcmp(st, "pending") == 0)
        r->state = DRV_RECORD_PENDING;
    else if (strcmp(st, "done") == 0)
        r->state = DRV_RECORD_DONE;
    else if (strcmp(st, "failed") == 0)
        r->state = DRV_RECORD_FAILED;
    else if (strcmp(st, "deleting") == 0)
        r->state = DRV_RECORD_DELETING;
    else
        return false;
    const char *f = str(get(ann, DRV_ANN_CREATE_FAILURE));
    if (f != NULL)
        snprintf(r->failure, sizeof r->failure, "%s", f); /* a message: cutting it is fine */
    /* the secret name is derived from the id: a record must match it */
    char want[DRV_SECRET_NAME_MAX], own[DRV_TEMPLATE_NAME_MAX];
    oss_error e = {0};
    const char *name = str(get(meta, "name"));
    if (drv_secret_name(r->id, want, sizeof want, &e) < 0 || name == NULL ||
        strcmp(name, want) != 0 || drv_template_name(r->id, own, sizeof own, &e) < 0)
        return false;
    r->ours = strcmp(r->tmpl, own) == 0;
    return true;
}

int drv_record_parse_list(const char *body, size_t len,
                          void (*fn)(const struct drv_record *r, void *ctx), void *ctx,
                          oss_error *err)
{
    json_object *root;
    if (drv_json_parse_object(body, len, "SecretList", &root, err) < 0)
        return -1;
    json_object *items = get(root, "items");
    if (items != NULL && json_object_is_type(items, json_type_null))
        items = NULL; /* an empty list may come as items: null */
    if (items != NULL && !json_object_is_type(items, json_type_array)) {
        json_object_put(root);
        return oss_err(err, OSS_ERR_INVALID, 0, "response is not a SecretList");
    }
    size_t n = items != NULL ? json_object_array_length(items) : 0;
    for (size_t i = 0; i < n; i++) {
        struct drv_record r;
        if (parse_item(json_object_array_get_idx(items, i), &r))
            fn(&r, ctx);
    }
    json_object_put(root);
    return 0;
}
