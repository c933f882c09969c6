/* Parsing of Kubernetes API responses (pure, fuzzed by
 * tests/fuzz/fuzz_kube_json.c): the few fields the driver reads from an
 * object or from a Status error body. */
#ifndef DRV_SUBSTRATE_KUBE_JSON_H
#define DRV_SUBSTRATE_KUBE_JSON_H

#include "error.h"

#include <stdbool.h>
#include <stddef.h>

struct drv_kube_obj {
    char kind[64];
    char name[254];
    char phase[64];           /* status.phase of an ActorTemplate, "" when unset */
    char golden_actor_id[64]; /* status.goldenActorID, "" when unset or not a DNS label */
    bool owned;               /* annotation openshell.nvidia.com/owned-by is ours */
    char message[256];        /* Status.message (errors) */
    char reason[64];          /* Status.reason */
    int code;                 /* Status.code */
};

/* body need not be NUL-terminated.  Strings longer than the fields are cut. */
int drv_kube_parse(const char *body, size_t len, struct drv_kube_obj *ret, oss_error *err);

/* The API server's base URL: the configured one, else the in-cluster
 * service from KUBERNETES_SERVICE_HOST/_PORT (IPv6 hosts bracketed), else
 * https://kubernetes.default.svc.  Trailing slashes are dropped; only
 * http(s) URLs are accepted.  *ret is malloc'd. */
int drv_kube_base_url(const char *configured, const char *host, const char *port, char **ret,
                      oss_error *err);

#endif
