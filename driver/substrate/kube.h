/* A minimal Kubernetes API client over libcurl: server-side apply, get and
 * delete of the two kinds the driver owns (ActorTemplate, Secret).
 * Credentials: the pod's service account by default (KUBERNETES_SERVICE_HOST
 * and _PORT, /var/run/secrets/kubernetes.io/serviceaccount/{token,ca.crt}),
 * or kube_api_url / kube_ca_path / kube_token_path.  The token file is read
 * on every request (bound tokens rotate).  Thread-safe: one easy handle per
 * request. */
#ifndef DRV_SUBSTRATE_KUBE_H
#define DRV_SUBSTRATE_KUBE_H

#include "buf.h"
#include "config.h"
#include "error.h"
#include "kube_json.h"

enum drv_kube_kind {
    DRV_KUBE_ACTOR_TEMPLATE,
    DRV_KUBE_SECRET,
};

struct drv_kube;

int drv_kube_open(const struct drv_config *c, struct drv_kube **ret, oss_error *err);
void drv_kube_close(struct drv_kube *k);

/* Server-side apply (field manager openshell-driver-substrate, force,
 * strict field validation) of a JSON body. */
int drv_kube_apply(struct drv_kube *k, enum drv_kube_kind kind, const char *ns, const char *name,
                   const char *body, oss_error *err);

/* A missing object is an OSS_ERR_HTTP 404 error. */
int drv_kube_get(struct drv_kube *k, enum drv_kube_kind kind, const char *ns, const char *name,
                 struct drv_kube_obj *ret, oss_error *err);

/* A JSON merge patch (RFC 7386) of an existing object; 404 when missing. */
int drv_kube_merge_patch(struct drv_kube *k, enum drv_kube_kind kind, const char *ns,
                         const char *name, const char *body, oss_error *err);

/* GET of the Secrets of ns matching the (URL-encoded) label selector; the
 * SecretList body is appended to out (it holds credentials: the caller
 * wipes it). */
int drv_kube_list_secrets(struct drv_kube *k, const char *ns, const char *selector, oss_buf *out,
                          oss_error *err);

/* A missing object is success. */
int drv_kube_delete(struct drv_kube *k, enum drv_kube_kind kind, const char *ns, const char *name,
                    oss_error *err);

#endif
