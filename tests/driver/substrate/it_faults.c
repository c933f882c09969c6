/* substrate_backend_it: lifecycle and fault scenarios against the fakes. */
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

/* ---- scenarios ---------------------------------------------------------- */

void it_lifecycle(void)
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
    s.name = (char *)"Life-Name:kept"; /* the gateway's name, kept as sent */
    int r = b->ops->create(b, &s, &a, &err);
    CHECK(r == 0, "create: %s", err.msg);
    /* the answer comes before the template is Ready: a create step, not a status */
    CHECK(a.create_step == DRV_CREATE_DEPENDENCIES, "create answered step %d", a.create_step);
    CHECK(a.name && strcmp(a.name, "Life-Name:kept") == 0, "create answered name %s", a.name);
    drv_actor_clear(&a);
    CHECK(wait_create_done(b, "it-life", 15000, &a, &err) == DRV_CREATE_DONE,
          "background create: %s", err.msg);
    CHECK(a.raw_status == DRV_ACTOR_RUNNING, "created actor is %d", a.raw_status);
    CHECK(a.template_name && strcmp(a.template_name, "osb-it-life") == 0, "template %s",
          a.template_name);
    CHECK(a.name && strcmp(a.name, "Life-Name:kept") == 0, "get answered name %s", a.name);
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
    o.name = (char *)"override-name";
    int patches = kube_patches();
    r = create_wait(b, &o, 15000, &a, &err);
    CHECK(r == 0, "create with override: %s", err.msg);
    CHECK(a.template_name && strcmp(a.template_name, "team-golden") == 0, "override template");
    CHECK(a.name && strcmp(a.name, "override-name") == 0, "override name %s", a.name);
    drv_actor_clear(&a);
    /* only the sandbox's record: no template is applied for it */
    CHECK(kube_patches() == patches + 2,
          "%d PATCHes for a pre-provisioned template, want 2 "
          "(record, done)",
          kube_patches() - patches);
    CHECK(KUBE_OBJECTS() == 2, "pre-provisioned template + the record: %d objects", KUBE_OBJECTS());
    CHECK(b->ops->delete_(b, "it-override", &err) == 0, "delete override: %s", err.msg);
    CHECK(KUBE_OBJECTS() == 1, "the pre-provisioned template must survive (alone)");

    /* invalid specs are refused before anything is applied */
    struct drv_sandbox_spec bad;
    make_spec(&bad, "it-bad");
    bad.image = (char *)"registry.test/sandbox:latest";
    int recs = count_array("OSS_IT_KUBE_CTL", "records", "records");
    r = b->ops->create(b, &bad, &a, &err);
    CHECK(r < 0 && err.domain == OSS_ERR_GRPC && err.code == 9,
          "unpinned image accepted (or not FAILED_PRECONDITION)");
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

void it_down(void)
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
    int patches = kube_patches();
    int64_t t0 = oss_mono_ms();
    int r = b->ops->create(b, &s, &a, &err);
    int64_t dt = oss_mono_ms() - t0;
    log_err("create with ate-api down", &err);
    CHECK(r < 0 && err.domain == OSS_ERR_GRPC && err.code == GRPC_STATUS_UNAVAILABLE,
          "expected UNAVAILABLE, got %d/%d", err.domain, err.code);
    CHECK(strstr(err.msg, "attempts") != NULL, "error does not say it retried: %s", err.msg);
    CHECK(dt >= 700 && dt < 4000, "gave up after %lld ms (deadline 1500)", (long long)dt);
    CHECK(kube_patches() == patches, "applied objects although ate-api is down");
    size_t n;
    CHECK(!listed(b, "x", &n), "list must fail");
    b->ops->destroy(b);
}

void it_rotate(void)
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

void it_aborted(void)
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
    CHECK(create_wait(b, &s, 20000, &a, &err) == 0, "create through an ABORTED storm: %s", err.msg);
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

void it_never_ready(void)
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
    int r = create_wait(b, &s, 15000, &a, &err);
    int64_t dt = oss_mono_ms() - t0;
    log_err("create with a template that never gets Ready", &err);
    CHECK(r == -2 && strstr(err.msg, "waiting for the ActorTemplate") != NULL &&
              strstr(err.msg, "not Ready after 2 s") != NULL,
          "expected a failure naming the step and the timeout: %s", err.msg);
    CHECK(dt >= 1900 && dt < 8000, "timed out after %lld ms", (long long)dt);
    /* what stays is the record of the failure, without the token */
    CHECK(KUBE_OBJECTS() == 1, "rollback left %d objects (want the record only)", KUBE_OBJECTS());
    CHECK(ate_actors_in("openshell", -1) == 0, "an actor was created");
    /* The one leftover Substrate leaves no way around: a template that never
     * got Ready still has its golden actor booting (RUNNING), which cannot
     * be deleted (only SUSPENDED actors can) and must not be (the
     * controller's next step needs it).  The failure says so. */
    CHECK(ate_actors_in("ate-golden", 2) == 1, "the golden actor should be left RUNNING (%d)",
          GOLDEN_ACTORS());
    CHECK(strstr(err.msg, "golden actor") != NULL, "the failure does not name the leftover: %s",
          err.msg);
    CHECK(b->ops->delete_(b, "it-never", &err) == 0, "delete failed create: %s", err.msg);
    CHECK(KUBE_OBJECTS() == 0, "delete left %d objects", KUBE_OBJECTS());
    b->ops->destroy(b);
}

void it_create_fails(void)
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
    int r = create_wait(b, &s, 15000, &a, &err);
    log_err("create with CreateActor failing", &err);
    CHECK(r == -2 && strstr(err.msg, "creating the actor") != NULL &&
              strstr(err.msg, "INTERNAL") != NULL,
          "%s", err.msg);
    CHECK(count_array("OSS_IT_KUBE_CTL", "records", "records") > 0, "nothing was applied?");
    CHECK(KUBE_OBJECTS() == 1, "left %d objects in Kubernetes (want the record)", KUBE_OBJECTS());
    CHECK(ATE_ACTORS() == 0, "left an actor");
    /* the failed create is shown until Delete, which removes the record */
    r = b->ops->create(b, &s, &a, &err);
    CHECK(r < 0 && err.code == GRPC_STATUS_ALREADY_EXISTS, "create over a failed one: %s", err.msg);
    CHECK(b->ops->delete_(b, "it-fail", &err) == 0, "delete failed: %s", err.msg);
    CHECK(KUBE_OBJECTS() == 0, "delete left %d objects", KUBE_OBJECTS());

    /* ResumeActor failing: the actor existed and must be removed too */
    ctl_do("OSS_IT_ATE_CTL", "faults",
           "{\"fail\":{\"ResumeActor\":[{\"code\":\"RESOURCE_EXHAUSTED\",\"count\":1}]}}");
    r = create_wait(b, &s, 15000, &a, &err);
    log_err("create with ResumeActor failing", &err);
    CHECK(r == -2 && strstr(err.msg, "resuming the actor") != NULL &&
              strstr(err.msg, "RESOURCE_EXHAUSTED") != NULL,
          "%s", err.msg);
    CHECK(KUBE_OBJECTS() == 1, "left %d objects in Kubernetes", KUBE_OBJECTS());
    CHECK(ATE_ACTORS() == 0, "left an actor");
    CHECK(counter("calls.DeleteActor") >= 1, "rollback did not delete the actor");
    CHECK(b->ops->delete_(b, "it-fail", &err) == 0, "delete failed: %s", err.msg);

    /* control: the same spec succeeds once the fault is gone */
    ctl_do("OSS_IT_ATE_CTL", "faults", "{}");
    CHECK(create_wait(b, &s, 15000, &a, &err) == 0, "clean create: %s", err.msg);
    drv_actor_clear(&a);
    CHECK(KUBE_OBJECTS() == 2 && ate_actors_in("openshell", -1) == 1 && GOLDEN_ACTORS() == 1,
          "clean create made its objects");
    CHECK(b->ops->delete_(b, "it-fail", &err) == 0, "delete: %s", err.msg);
    b->ops->destroy(b);
}

void it_kube_faults(void)
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
    CHECK(create_wait(b, &s, 15000, &a, &err) == 0, "create over one 500: %s", err.msg);
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

void it_no_ca(void)
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

void it_plaintext(void)
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
void it_mtls(void)
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
