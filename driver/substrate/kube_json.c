#include "kube_json.h"

#include "drv_json.h"
#include "template.h"
#include "util.h"

#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <stdint.h>
#include <string.h>

static void copy_str(char *dst, size_t size, json_object *o)
{
    const char *s =
        (o && json_object_is_type(o, json_type_string)) ? json_object_get_string(o) : "";
    size_t n = strnlen(s, size - 1);
    memcpy(dst, s, n);
    dst[n] = '\0';
}

static json_object *get(json_object *o, const char *key)
{
    json_object *v = NULL;
    if (o == NULL || !json_object_is_type(o, json_type_object))
        return NULL;
    return json_object_object_get_ex(o, key, &v) ? v : NULL;
}

int drv_kube_parse(const char *body, size_t len, struct drv_kube_obj *ret, oss_error *err)
{
    json_object *root;
    if (drv_json_parse_object(body, len, "response", &root, err) < 0)
        return -1;
    struct drv_kube_obj o;
    memset(&o, 0, sizeof o);
    copy_str(o.kind, sizeof o.kind, get(root, "kind"));
    json_object *meta = get(root, "metadata");
    copy_str(o.name, sizeof o.name, get(meta, "name"));
    json_object *owner = get(get(meta, "annotations"), DRV_ANN_OWNED_BY);
    o.owned = owner && json_object_is_type(owner, json_type_string) &&
              strcmp(json_object_get_string(owner), DRV_OWNER) == 0;
    copy_str(o.phase, sizeof o.phase, get(get(root, "status"), "phase"));
    /* It names an actor the driver deletes: anything but a DNS label (what
     * the controller mints, a UUID) is dropped, never cut short (by the
     * buffer or an embedded NUL) into some other actor's name. */
    json_object *gid = get(get(root, "status"), "goldenActorID");
    if (gid != NULL && json_object_is_type(gid, json_type_string) &&
        json_object_get_string_len(gid) < (int)sizeof o.golden_actor_id &&
        strlen(json_object_get_string(gid)) == (size_t)json_object_get_string_len(gid) &&
        oss_dns1123_label_valid(json_object_get_string(gid)))
        copy_str(o.golden_actor_id, sizeof o.golden_actor_id, gid);
    copy_str(o.message, sizeof o.message, get(root, "message"));
    copy_str(o.reason, sizeof o.reason, get(root, "reason"));
    json_object *code = get(root, "code");
    if (code && json_object_is_type(code, json_type_int)) {
        int64_t c = json_object_get_int64(code);
        o.code = (c >= 0 && c < 1000) ? (int)c : 0;
    }
    json_object_put(root);
    *ret = o;
    return 0;
}

int drv_kube_base_url(const char *configured, const char *host, const char *port, char **ret,
                      oss_error *err)
{
    char *url = NULL;
    int n;
    if (configured != NULL && configured[0] != '\0') {
        n = asprintf(&url, "%s", configured);
    } else if (host != NULL && host[0] != '\0') {
        bool v6 = strchr(host, ':') != NULL;
        n = asprintf(&url, "https://%s%s%s:%s", v6 ? "[" : "", host, v6 ? "]" : "",
                     (port != NULL && port[0] != '\0') ? port : "443");
    } else {
        n = asprintf(&url, "https://kubernetes.default.svc");
    }
    if (n < 0)
        abort();
    size_t l = strlen(url);
    while (l > 0 && url[l - 1] == '/')
        url[--l] = '\0';
    if (strncmp(url, "https://", 8) != 0 && strncmp(url, "http://", 7) != 0) {
        free(url);
        return oss_err(err, OSS_ERR_INVALID, 0, "kube_api_url must be an http(s) URL");
    }
    *ret = url;
    return 0;
}
