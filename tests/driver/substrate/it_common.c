/* Shared parts of substrate_backend_it (see it_common.h). */
#include "it_common.h"

#include "substrate.h"

#include "buf.h"
#include "cleanup.h"
#include "error.h"
#include "fs.h"
#include "util.h"

#include <curl/curl.h>
#include <grpc/status.h>
#include <json-c/json.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* test fixtures point config fields at string literals and env strings */
#pragma GCC diagnostic ignored "-Wcast-qual"

int it_failures;

const char *env_or(const char *k, const char *d)
{
    const char *v = getenv(k);
    return (v && v[0]) ? v : d;
}

/* ---- the fakes' control ports ---------------------------------------- */

static size_t sink(char *p, size_t s, size_t n, void *ud)
{
    oss_buf_put(ud, p, s * n);
    return s * n;
}

/* POSTs body to <base>/<verb>; returns the parsed reply (caller puts it). */
json_object *ctl(const char *base_env, const char *verb, const char *body)
{
    const char *base = getenv(base_env);
    if (base == NULL)
        return NULL;
    char url[512];
    snprintf(url, sizeof url, "%s/%s", base, verb);
    oss_buf out = OSS_BUF_INIT;
    CURL *c = curl_easy_init();
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, body ? body : "{}");
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, sink);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &out);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 30L);
    CURLcode rc = curl_easy_perform(c);
    curl_easy_cleanup(c);
    json_object *o = rc == CURLE_OK ? json_tokener_parse(out.data ? out.data : "") : NULL;
    oss_buf_free(&out);
    if (o == NULL)
        fprintf(stderr, "control call %s %s failed\n", base_env, verb);
    return o;
}

void ctl_do(const char *base_env, const char *verb, const char *body)
{
    json_object *o = ctl(base_env, verb, body);
    json_object_put(o);
}

int count_array(const char *base_env, const char *verb, const char *key)
{
    json_object *o = ctl(base_env, verb, NULL), *a = NULL;
    int n = -1;
    if (o && json_object_object_get_ex(o, key, &a))
        n = (int)json_object_array_length(a);
    json_object_put(o);
    return n;
}

int counter(const char *name)
{
    json_object *o = ctl("OSS_IT_ATE_CTL", "state", NULL), *cs = NULL, *v = NULL;
    int n = 0;
    if (o && json_object_object_get_ex(o, "counters", &cs) &&
        json_object_object_get_ex(cs, name, &v))
        n = json_object_get_int(v);
    json_object_put(o);
    return n;
}

int ate_actors_in(const char *atespace, int status)
{
    json_object *o = ctl("OSS_IT_ATE_CTL", "state", NULL), *a = NULL;
    int n = -1;
    if (o && json_object_object_get_ex(o, "actors", &a)) {
        n = 0;
        for (size_t i = 0; i < json_object_array_length(a); i++) {
            json_object *e = json_object_array_get_idx(a, i), *as = NULL, *st = NULL;
            if (json_object_object_get_ex(e, "atespace", &as) &&
                strcmp(json_object_get_string(as), atespace) == 0 &&
                (status < 0 || (json_object_object_get_ex(e, "status", &st) &&
                                json_object_get_int(st) == status)))
                n++;
        }
    }
    json_object_put(o);
    return n;
}

void reset_fakes(void)
{
    ctl_do("OSS_IT_ATE_CTL", "reset", NULL);
    ctl_do("OSS_IT_KUBE_CTL", "reset", NULL);
}

/* ---- configuration and specs ------------------------------------------ */

void base_config(struct drv_config *c)
{
    memset(c, 0, sizeof *c);
    c->api_endpoint = (char *)env_or("OSS_IT_ATEAPI", "");
    c->api_tls_ca_path = (char *)env_or("OSS_IT_CA", NULL);
    c->api_tls_server_name = (char *)env_or("OSS_IT_SERVER_NAME", "api.ate-system.svc");
    c->api_bearer_token_path = (char *)env_or("OSS_IT_ATE_TOKEN", NULL);
    c->atespace = (char *)env_or("OSS_IT_ATESPACE", "openshell");
    c->api_timeout_ms = 5000;
    c->api_long_timeout_ms = 30000;
    c->kube_api_url = (char *)env_or("OSS_IT_KUBE_URL", NULL);
    c->kube_ca_path = (char *)env_or("OSS_IT_CA", NULL);
    c->kube_token_path = (char *)env_or("OSS_IT_KUBE_TOKEN", NULL);
    c->default_namespace = (char *)env_or("OSS_IT_NAMESPACE", "openshell");
    c->template_ready_timeout_secs = 20;
    c->pause_image = (char *)"registry.k8s.io/pause:3.10.2@sha256:"
                             "f548e0e8e3dc1896ca956272154dde3314e8cc4fde0a57577ee9fa1c63f5baf4";
    c->snapshots_location = (char *)"gs://test-snapshots/openshell";
    c->sandbox_class = (char *)"gvisor";
    c->gateway_endpoint = (char *)"https://gateway.test:8080";
    c->gateway_tls_secret = (char *)"openshell-client-tls";
    c->shim_degrade = (char *)"netns";
    c->shim_readyz_port = 8080;
    c->worker_selector = (char *)"{\"pool\":\"test\"}";
}

#define TOKEN_ENV "OSS_IT_SANDBOX_TOKEN"

static struct drv_kv spec_env[] = {{(char *)"FOO", (char *)"bar"}};
static char *spec_cmd[] = {(char *)"sleep", (char *)"infinity", NULL};

void make_spec(struct drv_sandbox_spec *s, const char *id)
{
    memset(s, 0, sizeof *s);
    s->id = (char *)id;
    s->name = (char *)"it";
    s->image = (char *)"registry.test/sandbox@sha256:"
                       "0000000000000000000000000000000000000000000000000000000000000001";
    s->command = spec_cmd;
    s->env = spec_env;
    s->nenv = 1;
    s->sandbox_token = (char *)env_or(TOKEN_ENV, "it-sandbox-token-DO-NOT-LEAK-7f3a");
}

struct drv_backend *open_backend(const struct drv_config *c)
{
    struct drv_backend *b = NULL;
    oss_error err = {0};
    if (drv_substrate_backend_open(c, &b, &err) < 0) {
        fprintf(stderr, "open: %s\n", err.msg);
        exit(1);
    }
    return b;
}

/* Prints like the driver's main would: the check that the token reaches no
 * log line greps these. */
void log_err(const char *what, const oss_error *e)
{
    fprintf(stderr, "error: %s: [%s %d] %s\n", what, oss_err_domain_name(e->domain), e->code,
            e->msg);
}

int get_status(struct drv_backend *b, const char *id, oss_error *err)
{
    struct drv_actor a = {0};
    if (b->ops->get(b, id, &a, err) < 0)
        return -1;
    int st = a.raw_status;
    drv_actor_clear(&a);
    return st;
}

bool listed(struct drv_backend *b, const char *id, size_t *ret_n)
{
    struct drv_actor *v = NULL;
    size_t n = 0;
    oss_error err = {0};
    if (b->ops->list(b, &v, &n, &err) < 0) {
        log_err("list", &err);
        return false;
    }
    bool found = false;
    for (size_t i = 0; i < n; i++)
        found |= strcmp(v[i].id, id) == 0;
    if (ret_n)
        *ret_n = n;
    drv_actor_list_free(v, n);
    return found;
}

int wait_create_done(struct drv_backend *b, const char *id, int64_t timeout_ms,
                     struct drv_actor *ret, oss_error *err)
{
    int64_t end = oss_mono_ms() + timeout_ms;
    for (;;) {
        struct drv_actor a = {0};
        if (b->ops->get(b, id, &a, err) < 0)
            return -1;
        if (a.create_step == DRV_CREATE_DONE || a.create_step == DRV_CREATE_FAILED ||
            oss_mono_ms() >= end) {
            int step = (int)a.create_step;
            if (ret != NULL)
                *ret = a;
            else
                drv_actor_clear(&a);
            return step;
        }
        drv_actor_clear(&a);
        usleep(20000);
    }
}

int create_wait(struct drv_backend *b, const struct drv_sandbox_spec *s, int64_t timeout_ms,
                struct drv_actor *ret, oss_error *err)
{
    struct drv_actor first = {0};
    if (b->ops->create(b, s, &first, err) < 0)
        return -1;
    drv_actor_clear(&first);
    struct drv_actor a = {0};
    int step = wait_create_done(b, s->id, timeout_ms, &a, err);
    if (step < 0)
        return -1;
    if (step == DRV_CREATE_FAILED) {
        oss_err(err, OSS_ERR_GRPC, GRPC_STATUS_UNKNOWN, "%s", a.failure ? a.failure : "failed");
        drv_actor_clear(&a);
        return -2;
    }
    if (step != DRV_CREATE_DONE) {
        oss_err(err, OSS_ERR_TIMEOUT, 0, "create of %s still in flight (step %d)", s->id, step);
        drv_actor_clear(&a);
        return -1;
    }
    if (ret != NULL)
        *ret = a;
    else
        drv_actor_clear(&a);
    return 0;
}

int kube_patches(void)
{
    json_object *o = ctl("OSS_IT_KUBE_CTL", "records", NULL), *a = NULL;
    int n = -1;
    if (o && json_object_object_get_ex(o, "records", &a)) {
        n = 0;
        for (size_t i = 0; i < json_object_array_length(a); i++) {
            json_object *m = NULL;
            if (json_object_object_get_ex(json_object_array_get_idx(a, i), "method", &m) &&
                strcmp(json_object_get_string(m), "PATCH") == 0)
                n++;
        }
    }
    json_object_put(o);
    return n;
}
