/* Drives the Substrate backend's ops directly against the fake
 * ate-api-server and the fake Kubernetes API (run_fakes.sh starts them), or
 * against a real cluster (live.sh).  One scenario per invocation:
 *
 *   substrate_backend_it lifecycle|down|rotate|aborted|never-ready|
 *                        create-fails|kube-faults|no-ca|concurrent|
 *                        crash-create|after-crash|live|bench
 *
 * Configuration comes from OSS_IT_* variables (see run_fakes.sh).  Every
 * error is printed to stderr as the driver would log it, so the caller can
 * check that the token reaches no log line.  Exit 0 = scenario passed. */
#include "backend.h"
#include "config.h"
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

/* test fixtures point config fields at environment strings */
#pragma GCC diagnostic ignored "-Wcast-qual"

static int failures;

#define CHECK(cond, ...)                                                                           \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "FAIL %s:%d: %s: ", __FILE__, __LINE__, #cond);                        \
            fprintf(stderr, __VA_ARGS__);                                                          \
            fputc('\n', stderr);                                                                   \
            failures++;                                                                            \
        }                                                                                          \
    } while (0)

static const char *env_or(const char *k, const char *d)
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
static json_object *ctl(const char *base_env, const char *verb, const char *body)
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

static void ctl_do(const char *base_env, const char *verb, const char *body)
{
    json_object *o = ctl(base_env, verb, body);
    json_object_put(o);
}

static int count_array(const char *base_env, const char *verb, const char *key)
{
    json_object *o = ctl(base_env, verb, NULL), *a = NULL;
    int n = -1;
    if (o && json_object_object_get_ex(o, key, &a))
        n = (int)json_object_array_length(a);
    json_object_put(o);
    return n;
}

static int counter(const char *name)
{
    json_object *o = ctl("OSS_IT_ATE_CTL", "state", NULL), *cs = NULL, *v = NULL;
    int n = 0;
    if (o && json_object_object_get_ex(o, "counters", &cs) &&
        json_object_object_get_ex(cs, name, &v))
        n = json_object_get_int(v);
    json_object_put(o);
    return n;
}

#define ATE_ACTORS()   count_array("OSS_IT_ATE_CTL", "state", "actors")
#define KUBE_OBJECTS() count_array("OSS_IT_KUBE_CTL", "state", "objects")

static void reset_fakes(void)
{
    ctl_do("OSS_IT_ATE_CTL", "reset", NULL);
    ctl_do("OSS_IT_KUBE_CTL", "reset", NULL);
}

/* ---- configuration and specs ------------------------------------------ */

static void base_config(struct drv_config *c)
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
    c->shim_degrade = (char *)"netns";
    c->shim_readyz_port = 8080;
    c->worker_selector = (char *)"{\"pool\":\"test\"}";
}

#define TOKEN_ENV "OSS_IT_SANDBOX_TOKEN"

static struct drv_kv spec_env[] = {{(char *)"FOO", (char *)"bar"}};
static char *spec_cmd[] = {(char *)"sleep", (char *)"infinity", NULL};

static void make_spec(struct drv_sandbox_spec *s, const char *id)
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

static struct drv_backend *open_backend(const struct drv_config *c)
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
static void log_err(const char *what, const oss_error *e)
{
    fprintf(stderr, "error: %s: [%s %d] %s\n", what, oss_err_domain_name(e->domain), e->code,
            e->msg);
}

static int get_status(struct drv_backend *b, const char *id, oss_error *err)
{
    struct drv_actor a = {0};
    if (b->ops->get(b, id, &a, err) < 0)
        return -1;
    int st = a.raw_status;
    drv_actor_clear(&a);
    return st;
}

static bool listed(struct drv_backend *b, const char *id, size_t *ret_n)
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

/* ---- scenarios ---------------------------------------------------------- */

static void lifecycle(void)
{
    reset_fakes();
    struct drv_config c;
    base_config(&c);
    struct drv_backend *b = open_backend(&c);
    struct drv_sandbox_spec s;
    make_spec(&s, "it-life");
    oss_error err = {0};
    struct drv_actor a = {0};

    CHECK(b->ops->validate(b, &s, &err) == 0, "validate: %s", err.msg);
    int r = b->ops->create(b, &s, &a, &err);
    CHECK(r == 0, "create: %s", err.msg);
    CHECK(a.raw_status == DRV_ACTOR_RUNNING, "created actor is %d", a.raw_status);
    CHECK(a.template_name && strcmp(a.template_name, "osb-it-life") == 0, "template %s",
          a.template_name);
    drv_actor_clear(&a);
    CHECK(KUBE_OBJECTS() == 2, "template + Secret expected, %d objects", KUBE_OBJECTS());

    /* a second create is the caller's ALREADY_EXISTS and changes nothing */
    int applies_before = count_array("OSS_IT_KUBE_CTL", "records", "records");
    r = b->ops->create(b, &s, &a, &err);
    CHECK(r < 0 && err.domain == OSS_ERR_GRPC && err.code == GRPC_STATUS_ALREADY_EXISTS,
          "second create: %d %s", r, err.msg);
    CHECK(count_array("OSS_IT_KUBE_CTL", "records", "records") == applies_before,
          "second create touched Kubernetes");

    CHECK(get_status(b, "it-life", &err) == DRV_ACTOR_RUNNING, "get: %s", err.msg);
    CHECK(listed(b, "it-life", NULL), "running actor not listed");

    CHECK(b->ops->suspend(b, "it-life", &err) == 0, "suspend: %s", err.msg);
    CHECK(get_status(b, "it-life", &err) == DRV_ACTOR_SUSPENDED, "after suspend");
    CHECK(listed(b, "it-life", NULL), "suspended actor must stay listed");
    /* Stop twice is not an error */
    CHECK(b->ops->suspend(b, "it-life", &err) == 0, "second suspend: %s", err.msg);

    CHECK(b->ops->resume(b, "it-life", &err) == 0, "resume: %s", err.msg);
    CHECK(get_status(b, "it-life", &err) == DRV_ACTOR_RUNNING, "after resume");

    /* a status value this build does not know passes through raw */
    ctl_do("OSS_IT_ATE_CTL", "set_status",
           "{\"atespace\":\"openshell\",\"name\":\"it-life\",\"status\":7}");
    CHECK(get_status(b, "it-life", &err) == 7, "unknown status not kept raw");

    /* delete of a PAUSED actor: resume, suspend, delete, then our objects */
    ctl_do("OSS_IT_ATE_CTL", "set_status",
           "{\"atespace\":\"openshell\",\"name\":\"it-life\",\"status\":6}");
    r = b->ops->delete_(b, "it-life", &err);
    CHECK(r == 0, "delete: %s", err.msg);
    CHECK(ATE_ACTORS() == 0, "actor left behind");
    CHECK(KUBE_OBJECTS() == 0, "template/Secret left behind: %d", KUBE_OBJECTS());
    r = get_status(b, "it-life", &err);
    CHECK(r < 0 && err.domain == OSS_ERR_GRPC && err.code == GRPC_STATUS_NOT_FOUND,
          "get after delete: %d", r);
    r = b->ops->delete_(b, "it-life", &err);
    CHECK(r < 0 && err.code == GRPC_STATUS_NOT_FOUND, "second delete must be NOT_FOUND");

    /* a pre-provisioned template: used as is, never applied nor deleted */
    ctl_do("OSS_IT_KUBE_CTL", "put",
           "{\"kind\":\"actortemplates\",\"namespace\":\"openshell\",\"name\":\"team-golden\","
           "\"object\":{\"apiVersion\":\"ate.dev/v1alpha1\",\"kind\":\"ActorTemplate\","
           "\"metadata\":{\"name\":\"team-golden\",\"namespace\":\"openshell\"},"
           "\"status\":{\"phase\":\"Ready\"}}}");
    struct drv_sandbox_spec o;
    make_spec(&o, "it-override");
    o.template_override = (char *)"team-golden";
    int recs = count_array("OSS_IT_KUBE_CTL", "records", "records");
    r = b->ops->create(b, &o, &a, &err);
    CHECK(r == 0, "create with override: %s", err.msg);
    CHECK(a.template_name && strcmp(a.template_name, "team-golden") == 0, "override template");
    drv_actor_clear(&a);
    CHECK(count_array("OSS_IT_KUBE_CTL", "records", "records") == recs,
          "create with a pre-provisioned template talked to Kubernetes");
    CHECK(b->ops->delete_(b, "it-override", &err) == 0, "delete override: %s", err.msg);
    CHECK(KUBE_OBJECTS() == 1, "the pre-provisioned template must survive");

    /* invalid specs are refused before anything is applied */
    struct drv_sandbox_spec bad;
    make_spec(&bad, "it-bad");
    bad.image = (char *)"registry.test/sandbox:latest";
    recs = count_array("OSS_IT_KUBE_CTL", "records", "records");
    r = b->ops->create(b, &bad, &a, &err);
    CHECK(r < 0 && err.domain == OSS_ERR_INVALID, "unpinned image accepted");
    CHECK(count_array("OSS_IT_KUBE_CTL", "records", "records") == recs, "refused spec applied");

    /* pagination to the end, and the client-side atespace filter against a
     * server that ignores the request's atespace */
    ctl_do("OSS_IT_ATE_CTL", "reset", NULL);
    ctl_do("OSS_IT_ATE_CTL", "seed", "{\"atespace\":\"openshell\",\"count\":2345,\"other\":77}");
    ctl_do("OSS_IT_ATE_CTL", "faults", "{\"ignore_atespace\":true}");
    size_t n = 0;
    CHECK(listed(b, "bench-02344", &n), "last actor of the last page missing");
    CHECK(n == 2345, "listed %zu actors, want 2345 (other atespaces filtered out)", n);
    CHECK(counter("list.pages") == 3, "%d pages, want 3 of <= 1000", counter("list.pages"));
    ctl_do("OSS_IT_ATE_CTL", "faults", "{}");
    b->ops->destroy(b);
}

static void down(void)
{
    struct drv_config c;
    base_config(&c);
    c.api_endpoint = (char *)env_or("OSS_IT_DEAD_ENDPOINT", "127.0.0.1:9");
    c.api_timeout_ms = 1500;
    struct drv_backend *b = open_backend(&c);
    struct drv_sandbox_spec s;
    make_spec(&s, "it-down");
    oss_error err = {0};
    struct drv_actor a = {0};
    int recs = count_array("OSS_IT_KUBE_CTL", "records", "records");
    int64_t t0 = oss_mono_ms();
    int r = b->ops->create(b, &s, &a, &err);
    int64_t dt = oss_mono_ms() - t0;
    log_err("create with ate-api down", &err);
    CHECK(r < 0 && err.domain == OSS_ERR_GRPC && err.code == GRPC_STATUS_UNAVAILABLE,
          "expected UNAVAILABLE, got %d/%d", err.domain, err.code);
    CHECK(strstr(err.msg, "attempts") != NULL, "error does not say it retried: %s", err.msg);
    CHECK(dt >= 700 && dt < 4000, "gave up after %lld ms (deadline 1500)", (long long)dt);
    CHECK(count_array("OSS_IT_KUBE_CTL", "records", "records") == recs,
          "applied objects although ate-api is down");
    size_t n;
    CHECK(!listed(b, "x", &n), "list must fail");
    b->ops->destroy(b);
}

static void rotate(void)
{
    reset_fakes();
    struct drv_config c;
    base_config(&c);
    const char *fake_expect = getenv("OSS_IT_FAKE_EXPECTED_TOKEN");
    const char *drv_tok = getenv("OSS_IT_ATE_TOKEN");
    CHECK(fake_expect && drv_tok, "rotation needs both token files");
    if (!fake_expect || !drv_tok)
        return;
    struct drv_backend *b = open_backend(&c);
    oss_error err = {0};
    CHECK(get_status(b, "nobody", &err) < 0 && err.code == GRPC_STATUS_NOT_FOUND, "first call: %s",
          err.msg);
    /* the server moves to a new token: the old one is refused (control) */
    CHECK(oss_write_file_atomic(fake_expect, "rotated-2\n", 10, 0600, &err) == 0, "write");
    CHECK(get_status(b, "nobody", &err) < 0 && err.code == GRPC_STATUS_UNAUTHENTICATED,
          "stale token accepted? %s", err.msg);
    log_err("with the stale token", &err);
    /* the kubelet rotates the file: the very next RPC must use it */
    CHECK(oss_write_file_atomic(drv_tok, "rotated-2\n", 10, 0600, &err) == 0, "write");
    CHECK(get_status(b, "nobody", &err) < 0 && err.code == GRPC_STATUS_NOT_FOUND,
          "after rotation: %s", err.msg);
    /* a token that would smuggle a header is refused before sending */
    int calls = counter("calls.GetActor");
    CHECK(oss_write_file_atomic(drv_tok, "a\r\nx-evil: 1\n", 14, 0600, &err) == 0, "write");
    CHECK(get_status(b, "nobody", &err) < 0 && err.domain == OSS_ERR_INVALID,
          "control characters in the token accepted: %s", err.msg);
    CHECK(counter("calls.GetActor") == calls, "the bad token was sent");
    CHECK(oss_write_file_atomic(drv_tok, "rotated-2\n", 10, 0600, &err) == 0, "write");
    b->ops->destroy(b);
}

static void aborted(void)
{
    reset_fakes();
    struct drv_config c;
    base_config(&c);
    struct drv_backend *b = open_backend(&c);
    struct drv_sandbox_spec s;
    make_spec(&s, "it-aborted");
    oss_error err = {0};
    struct drv_actor a = {0};
    ctl_do("OSS_IT_ATE_CTL", "faults",
           "{\"fail\":{\"CreateActor\":[{\"code\":\"ABORTED\",\"count\":3}],"
           "\"ResumeActor\":[{\"code\":\"ABORTED\",\"count\":4}],"
           "\"GetActor\":[{\"code\":\"UNAVAILABLE\",\"count\":2}]}}");
    CHECK(b->ops->create(b, &s, &a, &err) == 0, "create through an ABORTED storm: %s", err.msg);
    drv_actor_clear(&a);
    CHECK(counter("injected.ABORTED") == 7, "storm not served: %d", counter("injected.ABORTED"));
    CHECK(counter("injected.UNAVAILABLE") == 2, "UNAVAILABLE not served");
    /* control: a storm longer than the deadline ends in a clear error */
    ctl_do("OSS_IT_ATE_CTL", "faults",
           "{\"fail\":{\"SuspendActor\":[{\"code\":\"ABORTED\",\"count\":100000}]}}");
    c.api_long_timeout_ms = 1500;
    struct drv_backend *b2 = open_backend(&c);
    int r = b2->ops->suspend(b2, "it-aborted", &err);
    CHECK(r < 0 && err.code == GRPC_STATUS_ABORTED, "endless storm: %d %s", r, err.msg);
    log_err("suspend in an endless ABORTED storm", &err);
    ctl_do("OSS_IT_ATE_CTL", "faults", "{}");
    CHECK(b->ops->delete_(b, "it-aborted", &err) == 0, "delete: %s", err.msg);
    b2->ops->destroy(b2);
    b->ops->destroy(b);
}

static void never_ready(void)
{
    reset_fakes();
    struct drv_config c;
    base_config(&c);
    c.template_ready_timeout_secs = 2;
    struct drv_backend *b = open_backend(&c);
    struct drv_sandbox_spec s;
    make_spec(&s, "it-never");
    oss_error err = {0};
    struct drv_actor a = {0};
    ctl_do("OSS_IT_KUBE_CTL", "faults", "{\"never_ready\":true}");
    int64_t t0 = oss_mono_ms();
    int r = b->ops->create(b, &s, &a, &err);
    int64_t dt = oss_mono_ms() - t0;
    log_err("create with a template that never gets Ready", &err);
    CHECK(r < 0 && err.domain == OSS_ERR_TIMEOUT, "expected a timeout: %s", err.msg);
    CHECK(dt >= 1900 && dt < 6000, "timed out after %lld ms", (long long)dt);
    CHECK(KUBE_OBJECTS() == 0, "rollback left %d objects", KUBE_OBJECTS());
    CHECK(ATE_ACTORS() == 0, "an actor was created");
    b->ops->destroy(b);
}

static void create_fails(void)
{
    reset_fakes();
    struct drv_config c;
    base_config(&c);
    struct drv_backend *b = open_backend(&c);
    struct drv_sandbox_spec s;
    make_spec(&s, "it-fail");
    oss_error err = {0};
    struct drv_actor a = {0};

    ctl_do("OSS_IT_ATE_CTL", "faults",
           "{\"fail\":{\"CreateActor\":[{\"code\":\"INTERNAL\",\"count\":1}]}}");
    int r = b->ops->create(b, &s, &a, &err);
    log_err("create with CreateActor failing", &err);
    CHECK(r < 0 && err.code == GRPC_STATUS_INTERNAL, "%s", err.msg);
    CHECK(count_array("OSS_IT_KUBE_CTL", "records", "records") > 0, "nothing was applied?");
    CHECK(KUBE_OBJECTS() == 0, "left %d objects in Kubernetes", KUBE_OBJECTS());
    CHECK(ATE_ACTORS() == 0, "left an actor");

    /* ResumeActor failing: the actor existed and must be removed too */
    ctl_do("OSS_IT_ATE_CTL", "faults",
           "{\"fail\":{\"ResumeActor\":[{\"code\":\"RESOURCE_EXHAUSTED\",\"count\":1}]}}");
    r = b->ops->create(b, &s, &a, &err);
    log_err("create with ResumeActor failing", &err);
    CHECK(r < 0 && err.code == GRPC_STATUS_RESOURCE_EXHAUSTED, "%s", err.msg);
    CHECK(KUBE_OBJECTS() == 0, "left %d objects in Kubernetes", KUBE_OBJECTS());
    CHECK(ATE_ACTORS() == 0, "left an actor");
    CHECK(counter("calls.DeleteActor") >= 1, "rollback did not delete the actor");

    /* control: the same spec succeeds once the fault is gone */
    ctl_do("OSS_IT_ATE_CTL", "faults", "{}");
    CHECK(b->ops->create(b, &s, &a, &err) == 0, "clean create: %s", err.msg);
    drv_actor_clear(&a);
    CHECK(KUBE_OBJECTS() == 2 && ATE_ACTORS() == 1, "clean create made its objects");
    CHECK(b->ops->delete_(b, "it-fail", &err) == 0, "delete: %s", err.msg);
    b->ops->destroy(b);
}

static void kube_faults(void)
{
    reset_fakes();
    struct drv_config c;
    base_config(&c);
    struct drv_backend *b = open_backend(&c);
    struct drv_sandbox_spec s;
    make_spec(&s, "it-kube");
    oss_error err = {0};
    struct drv_actor a = {0};
    /* one 500 on the template apply: retried, create succeeds */
    ctl_do("OSS_IT_KUBE_CTL", "faults",
           "{\"fail\":[{\"method\":\"PATCH\",\"kind\":\"actortemplates\",\"status\":500,"
           "\"count\":1}]}");
    CHECK(b->ops->create(b, &s, &a, &err) == 0, "create over one 500: %s", err.msg);
    drv_actor_clear(&a);
    CHECK(b->ops->delete_(b, "it-kube", &err) == 0, "delete: %s", err.msg);
    /* a 409 is final: the Secret applied before it is rolled back */
    ctl_do("OSS_IT_KUBE_CTL", "faults",
           "{\"fail\":[{\"method\":\"PATCH\",\"kind\":\"actortemplates\",\"status\":409,"
           "\"count\":1}]}");
    int r = b->ops->create(b, &s, &a, &err);
    log_err("create with a 409 on the template", &err);
    CHECK(r < 0 && err.domain == OSS_ERR_HTTP && err.code == 409, "%s", err.msg);
    CHECK(KUBE_OBJECTS() == 0, "left %d objects", KUBE_OBJECTS());
    CHECK(ATE_ACTORS() == 0, "left an actor");
    b->ops->destroy(b);
}

static void no_ca(void)
{
    struct drv_config c;
    base_config(&c);
    oss_error err = {0};
    /* control: with the CA the same call reaches the server */
    struct drv_backend *b = open_backend(&c);
    CHECK(get_status(b, "nobody", &err) < 0 && err.code == GRPC_STATUS_NOT_FOUND, "with the CA: %s",
          err.msg);
    b->ops->destroy(b);

    c.api_tls_ca_path = NULL; /* system roots do not know the test CA */
    c.api_timeout_ms = 1500;
    b = open_backend(&c);
    int r = get_status(b, "nobody", &err);
    log_err("TLS without the test CA", &err);
    CHECK(r < 0 && err.code == GRPC_STATUS_UNAVAILABLE, "without the CA: %s", err.msg);
    b->ops->destroy(b);

    base_config(&c);
    c.api_tls_server_name = (char *)"wrong.example";
    c.api_timeout_ms = 1500;
    b = open_backend(&c);
    r = get_status(b, "nobody", &err);
    log_err("TLS with a wrong server name", &err);
    CHECK(r < 0 && err.code == GRPC_STATUS_UNAVAILABLE, "wrong name accepted: %s", err.msg);
    b->ops->destroy(b);
}

/* ---- concurrency: the server calls the backend from worker threads ---- */

struct worker {
    struct drv_backend *b;
    char id[32];
    int fails;
};

static void *own_lifecycle(void *arg)
{
    struct worker *w = arg;
    struct drv_sandbox_spec s;
    make_spec(&s, w->id);
    oss_error err = {0};
    struct drv_actor a = {0};
    if (w->b->ops->create(w->b, &s, &a, &err) < 0) {
        log_err(w->id, &err);
        w->fails++;
        return NULL;
    }
    drv_actor_clear(&a);
    for (int i = 0; i < 2; i++) {
        if (w->b->ops->suspend(w->b, w->id, &err) < 0 || w->b->ops->resume(w->b, w->id, &err) < 0) {
            log_err(w->id, &err);
            w->fails++;
        }
    }
    if (w->b->ops->delete_(w->b, w->id, &err) < 0) {
        log_err(w->id, &err);
        w->fails++;
    }
    return NULL;
}

/* Two threads want the same thing of one shared actor at the same moment:
 * their calls overlap in the fake, which answers ABORTED; the retries and
 * the "already there" rule must make both succeed. */
static pthread_barrier_t flip_barrier;

static void *flip_shared(void *arg)
{
    struct worker *w = arg;
    oss_error err = {0};
    for (int i = 0; i < 3; i++) {
        pthread_barrier_wait(&flip_barrier);
        if (w->b->ops->suspend(w->b, "it-shared", &err) < 0) {
            log_err("shared actor suspend", &err);
            w->fails++;
        }
        pthread_barrier_wait(&flip_barrier);
        if (w->b->ops->resume(w->b, "it-shared", &err) < 0) {
            log_err("shared actor resume", &err);
            w->fails++;
        }
    }
    return NULL;
}

/* Two creates of one id at once: one wins; the loser must not roll back
 * (delete) the template the winner's actor runs from. */
static void *dup_create(void *arg)
{
    struct worker *w = arg;
    struct drv_sandbox_spec s;
    make_spec(&s, "it-dup");
    oss_error err = {0};
    struct drv_actor a = {0};
    if (w->b->ops->create(w->b, &s, &a, &err) == 0) {
        drv_actor_clear(&a);
        return NULL;
    }
    /* the loser's answer: ABORTED (in flight here) or ALREADY_EXISTS */
    if (!(err.code == GRPC_STATUS_ABORTED || err.code == GRPC_STATUS_ALREADY_EXISTS)) {
        log_err("duplicate create", &err);
        w->fails++;
    }
    w->fails += 100; /* marks the loser */
    return NULL;
}

static void concurrent(void)
{
    reset_fakes();
    struct drv_config c;
    base_config(&c);
    struct drv_backend *b = open_backend(&c);
    ctl_do("OSS_IT_ATE_CTL", "faults", "{\"latency_ms\":{\"ResumeActor\":80,\"SuspendActor\":80}}");
    struct drv_sandbox_spec s;
    make_spec(&s, "it-shared");
    oss_error err = {0};
    struct drv_actor a = {0};
    CHECK(b->ops->create(b, &s, &a, &err) == 0, "create shared: %s", err.msg);
    drv_actor_clear(&a);

    enum { NOWN = 6, NFLIP = 2 };
    pthread_barrier_init(&flip_barrier, NULL, NFLIP);
    struct worker w[NOWN + NFLIP];
    pthread_t th[NOWN + NFLIP];
    for (int i = 0; i < NOWN + NFLIP; i++) {
        w[i] = (struct worker){.b = b};
        snprintf(w[i].id, sizeof w[i].id, "it-conc-%d", i);
        pthread_create(&th[i], NULL, i < NOWN ? own_lifecycle : flip_shared, &w[i]);
    }
    int fails = 0;
    for (int i = 0; i < NOWN + NFLIP; i++) {
        pthread_join(th[i], NULL);
        fails += w[i].fails;
    }
    CHECK(fails == 0, "%d concurrent operations failed", fails);
    CHECK(counter("aborted.busy") > 0, "the shared actor never saw overlapping calls");
    printf("concurrent: %d ABORTED answers absorbed by retries\n", counter("aborted.busy"));

    pthread_t d[2];
    struct worker dw[2] = {{.b = b}, {.b = b}};
    for (int i = 0; i < 2; i++)
        pthread_create(&d[i], NULL, dup_create, &dw[i]);
    for (int i = 0; i < 2; i++)
        pthread_join(d[i], NULL);
    CHECK(dw[0].fails + dw[1].fails == 100, "duplicate creates: %d/%d", dw[0].fails, dw[1].fails);
    CHECK(get_status(b, "it-dup", &err) == DRV_ACTOR_RUNNING, "the winner's actor: %s", err.msg);
    CHECK(KUBE_OBJECTS() == 4, "the winner's template and Secret must stay (%d objects)",
          KUBE_OBJECTS());
    CHECK(b->ops->delete_(b, "it-dup", &err) == 0, "delete dup: %s", err.msg);
    CHECK(b->ops->delete_(b, "it-shared", &err) == 0, "delete shared: %s", err.msg);
    CHECK(ATE_ACTORS() == 0 && KUBE_OBJECTS() == 0, "left %d actors, %d objects", ATE_ACTORS(),
          KUBE_OBJECTS());
    b->ops->destroy(b);
}

/* ---- driver killed mid-create (run_fakes.sh kills this with SIGKILL) ---- */

static void crash_create(void)
{
    const char *stage = env_or("OSS_IT_CRASH_STAGE", "template");
    bool tmpl = strcmp(stage, "template") == 0;
    struct drv_config c;
    base_config(&c);
    c.template_ready_timeout_secs = 120;
    struct drv_backend *b = open_backend(&c);
    if (tmpl)
        ctl_do("OSS_IT_KUBE_CTL", "faults", "{\"never_ready\":true}");
    else {
        ctl_do("OSS_IT_KUBE_CTL", "faults", "{}");
        ctl_do("OSS_IT_ATE_CTL", "faults", "{\"latency_ms\":{\"ResumeActor\":4000}}");
    }
    struct drv_sandbox_spec s;
    make_spec(&s, tmpl ? "it-crash-t" : "it-crash-r");
    oss_error err = {0};
    struct drv_actor a = {0};
    b->ops->create(b, &s, &a, &err);
    fprintf(stderr, "crash-create: was not killed in time\n");
    exit(3);
}

/* The restarted driver: a create of the half-made sandbox succeeds (apply is
 * idempotent), a half-created actor is found and deleted, nothing stays. */
static void after_crash(void)
{
    ctl_do("OSS_IT_KUBE_CTL", "faults", "{}");
    ctl_do("OSS_IT_ATE_CTL", "faults", "{}");
    struct drv_config c;
    base_config(&c);
    struct drv_backend *b = open_backend(&c);
    oss_error err = {0};
    struct drv_actor a = {0};
    CHECK(KUBE_OBJECTS() == 4, "expected the two half-made sandboxes' objects, got %d",
          KUBE_OBJECTS());

    struct drv_sandbox_spec s;
    make_spec(&s, "it-crash-t");
    CHECK(b->ops->create(b, &s, &a, &err) == 0, "re-create after crash: %s", err.msg);
    drv_actor_clear(&a);
    CHECK(b->ops->delete_(b, "it-crash-t", &err) == 0, "delete: %s", err.msg);

    /* the actor whose create was cut during ResumeActor is visible... */
    int st = get_status(b, "it-crash-r", &err);
    CHECK(st == DRV_ACTOR_RUNNING || st == DRV_ACTOR_RESUMING || st == DRV_ACTOR_SUSPENDED,
          "half-created actor: %d %s", st, err.msg);
    make_spec(&s, "it-crash-r");
    int r = b->ops->create(b, &s, &a, &err);
    CHECK(r < 0 && err.code == GRPC_STATUS_ALREADY_EXISTS, "re-create must be ALREADY_EXISTS");
    /* ...and deleting it removes everything */
    CHECK(b->ops->delete_(b, "it-crash-r", &err) == 0, "delete: %s", err.msg);
    CHECK(ATE_ACTORS() == 0, "left an actor");
    CHECK(KUBE_OBJECTS() == 0, "left %d objects", KUBE_OBJECTS());
    b->ops->destroy(b);
}

/* api_plaintext: h2c only when asked for; TLS against it fails (control). */
static void plaintext(void)
{
    struct drv_config c;
    base_config(&c);
    c.api_endpoint = (char *)env_or("OSS_IT_PLAIN_ATEAPI", "");
    c.api_plaintext = true;
    c.api_timeout_ms = 1500;
    oss_error err = {0};
    struct drv_backend *b = open_backend(&c);
    CHECK(get_status(b, "nobody", &err) < 0 && err.code == GRPC_STATUS_NOT_FOUND, "plaintext: %s",
          err.msg);
    b->ops->destroy(b);
    c.api_plaintext = false;
    b = open_backend(&c);
    int r = get_status(b, "nobody", &err);
    log_err("TLS against a plaintext server", &err);
    CHECK(r < 0 && err.code == GRPC_STATUS_UNAVAILABLE, "TLS to h2c: %s", err.msg);
    b->ops->destroy(b);
}

/* Client certificate: a server that demands one accepts us only with it. */
static void mtls(void)
{
    struct drv_config c;
    base_config(&c);
    c.api_endpoint = (char *)env_or("OSS_IT_MTLS_ATEAPI", "");
    c.api_tls_cert_path = (char *)env_or("OSS_IT_CLIENT_CERT", "");
    c.api_tls_key_path = (char *)env_or("OSS_IT_CLIENT_KEY", "");
    c.api_timeout_ms = 1500;
    oss_error err = {0};
    struct drv_backend *b = open_backend(&c);
    CHECK(get_status(b, "nobody", &err) < 0 && err.code == GRPC_STATUS_NOT_FOUND,
          "with the client certificate: %s", err.msg);
    b->ops->destroy(b);
    /* control: without it the handshake is refused */
    c.api_tls_cert_path = c.api_tls_key_path = NULL;
    b = open_backend(&c);
    int r = get_status(b, "nobody", &err);
    log_err("mutual TLS without a client certificate", &err);
    CHECK(r < 0 && err.code == GRPC_STATUS_UNAVAILABLE, "no client cert: %s", err.msg);
    b->ops->destroy(b);
    /* half a pair is a configuration error */
    c.api_tls_cert_path = (char *)env_or("OSS_IT_CLIENT_CERT", "");
    struct drv_backend *nb = NULL;
    CHECK(drv_substrate_backend_open(&c, &nb, &err) < 0 && err.domain == OSS_ERR_INVALID,
          "a certificate without a key was accepted");
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

static long status_kb(const char *key)
{
    _cleanup_fclose_ FILE *f = fopen("/proc/self/status", "re");
    char line[256];
    size_t kl = strlen(key);
    while (f && fgets(line, sizeof line, f))
        if (strncmp(line, key, kl) == 0)
            return strtol(line + kl + 1, NULL, 10);
    return -1;
}

struct getter {
    struct drv_backend *b;
    char id[32];
    int ok;
};

static void *one_get(void *arg)
{
    struct getter *g = arg;
    oss_error err = {0};
    g->ok = get_status(g->b, g->id, &err) == DRV_ACTOR_SUSPENDED;
    return NULL;
}

static void bench(void)
{
    int n = atoi(env_or("OSS_IT_BENCH_N", "10000"));
    reset_fakes();
    char body[256];
    snprintf(body, sizeof body, "{\"atespace\":\"openshell\",\"count\":%d,\"other\":500}", n);
    ctl_do("OSS_IT_ATE_CTL", "seed", body);
    /* the worst case: the server sends the other atespace's actors too */
    ctl_do("OSS_IT_ATE_CTL", "faults", "{\"ignore_atespace\":true}");
    struct drv_config c;
    base_config(&c);
    c.api_timeout_ms = 60000;
    struct drv_backend *b = open_backend(&c);
    long rss0 = status_kb("VmRSS:");
    int64_t t[5];
    size_t got = 0;
    for (int i = 0; i < 5; i++) {
        struct drv_actor *v = NULL;
        oss_error err = {0};
        int64_t t0 = oss_mono_ns();
        int r = b->ops->list(b, &v, &got, &err);
        t[i] = oss_mono_ns() - t0;
        CHECK(r == 0, "list: %s", err.msg);
        CHECK(got == (size_t)n, "listed %zu of %d", got, n);
        drv_actor_list_free(v, got);
    }
    qsort(t, 5, sizeof t[0], cmp_i64);
    printf("bench: ListActors over %d actors (+500 of another atespace, filtered by the client), "
           "%d pages of <= 1000: "
           "median %.1f ms (min %.1f, max %.1f); VmRSS before %ld kB, VmHWM %ld kB\n",
           n, (n + 500 + 999) / 1000, t[2] / 1e6, t[0] / 1e6, t[4] / 1e6, rss0,
           status_kb("VmHWM:"));

    /* 100 concurrent GetActor calls, each on its own thread (the server's
     * worker threads do this), median of 5 rounds */
    enum { NG = 100 };
    static struct getter g[NG];
    pthread_t th[NG];
    for (int r = 0; r < 5; r++) {
        int64_t t0 = oss_mono_ns();
        for (int i = 0; i < NG; i++) {
            g[i] = (struct getter){.b = b};
            snprintf(g[i].id, sizeof g[i].id, "bench-%05d", (i * 97) % n);
            pthread_create(&th[i], NULL, one_get, &g[i]);
        }
        int ok = 0;
        for (int i = 0; i < NG; i++) {
            pthread_join(th[i], NULL);
            ok += g[i].ok;
        }
        t[r] = oss_mono_ns() - t0;
        CHECK(ok == NG, "%d of %d gets succeeded", ok, NG);
    }
    qsort(t, 5, sizeof t[0], cmp_i64);
    printf("bench: %d concurrent GetActor calls through the backend: median %.1f ms (min %.1f, "
           "max %.1f)\n",
           NG, t[2] / 1e6, t[0] / 1e6, t[4] / 1e6);
    b->ops->destroy(b);
}

/* The same lifecycle against a real cluster with a pre-provisioned template
 * (no Kubernetes access needed). */
static void live(void)
{
    struct drv_config c;
    base_config(&c);
    c.api_endpoint = (char *)getenv("OSS_LIVE_ATEAPI_ENDPOINT");
    c.api_tls_ca_path = (char *)getenv("OSS_LIVE_ATEAPI_CA");
    c.api_bearer_token_path = (char *)getenv("OSS_LIVE_ATEAPI_TOKEN");
    c.atespace = (char *)getenv("OSS_LIVE_ATESPACE");
    c.default_namespace = (char *)getenv("OSS_LIVE_NAMESPACE");
    c.api_timeout_ms = 15000;
    c.api_long_timeout_ms = 60000;
    c.template_ready_timeout_secs = 600;
    struct drv_backend *b = open_backend(&c);
    char id[64];
    snprintf(id, sizeof id, "oss-live-%lx", (unsigned long)(oss_real_ms() & 0xffffffff));
    struct drv_sandbox_spec s;
    make_spec(&s, id);
    s.template_override = (char *)getenv("OSS_LIVE_TEMPLATE");
    oss_error err = {0};
    struct drv_actor a = {0};
    int r = b->ops->create(b, &s, &a, &err);
    CHECK(r == 0, "create: %s", err.msg);
    drv_actor_clear(&a);
    if (r == 0) {
        CHECK(get_status(b, id, &err) == DRV_ACTOR_RUNNING, "get: %s", err.msg);
        CHECK(listed(b, id, NULL), "not listed");
        CHECK(b->ops->suspend(b, id, &err) == 0, "suspend: %s", err.msg);
        CHECK(listed(b, id, NULL), "suspended actor not listed");
        CHECK(b->ops->resume(b, id, &err) == 0, "resume: %s", err.msg);
        CHECK(b->ops->delete_(b, id, &err) == 0, "delete: %s", err.msg);
        r = get_status(b, id, &err);
        CHECK(r < 0 && err.code == GRPC_STATUS_NOT_FOUND, "still there after delete");
    }
    b->ops->destroy(b);
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: %s SCENARIO\n", argv[0]);
        return 2;
    }
    curl_global_init(CURL_GLOBAL_DEFAULT);
    static const struct {
        const char *name;
        void (*fn)(void);
    } scenarios[] = {
        {"lifecycle", lifecycle},
        {"down", down},
        {"rotate", rotate},
        {"aborted", aborted},
        {"never-ready", never_ready},
        {"create-fails", create_fails},
        {"kube-faults", kube_faults},
        {"no-ca", no_ca},
        {"bench", bench},
        {"live", live},
        {"concurrent", concurrent},
        {"crash-create", crash_create},
        {"after-crash", after_crash},
        {"plaintext", plaintext},
        {"mtls", mtls},
    };
    for (size_t i = 0; i < sizeof scenarios / sizeof scenarios[0]; i++)
        if (strcmp(argv[1], scenarios[i].name) == 0) {
            scenarios[i].fn();
            printf("%s %s\n", failures ? "FAIL" : "PASS", argv[1]);
            curl_global_cleanup();
            return failures ? 1 : 0;
        }
    fprintf(stderr, "unknown scenario %s\n", argv[1]);
    return 2;
}
