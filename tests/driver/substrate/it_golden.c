/* substrate_backend_it golden: what a template's golden actor leaves behind.
 *
 * The fakes model Substrate's controller (fake_kube.py makes, boots and
 * suspends ate-golden/<uuid> for every template it moves to Ready and does
 * nothing when the template goes; fake_ateapi.py refuses per-actor calls
 * without the template and DeleteActor on anything but SUSPENDED).  So:
 * - the driver's delete must leave no actor in ate-golden (fails when the
 *   driver deletes only the template);
 * - control: a template deleted behind the driver's back leaves its golden
 *   actor, and the actor that ran from it can no longer be resumed, so the
 *   fakes really model the leak and the order rule;
 * - without the operator's gateway TLS Secret no golden boot succeeds (the
 *   fakes resolve secretKeyRefs as the ate-api-server does). */
#include "it_common.h"

#include "ateapi.h"
#include "kube.h"
#include "substrate.h"
#include "template.h"

#include <grpc/status.h>
#include <stdio.h>
#include <string.h>

/* status.goldenActorID of a template the fake Kubernetes API holds. */
static void golden_id_of(const struct drv_config *c, const char *tname, char *ret, size_t size)
{
    struct drv_kube *k = NULL;
    oss_error err = {0};
    struct drv_kube_obj o;
    ret[0] = '\0';
    if (drv_kube_open(c, &k, &err) < 0)
        return;
    if (drv_kube_get(k, DRV_KUBE_ACTOR_TEMPLATE, "openshell", tname, &o, &err) == 0)
        snprintf(ret, size, "%s", o.golden_actor_id);
    drv_kube_close(k);
}

void it_golden(void)
{
    reset_fakes();
    struct drv_config c;
    base_config(&c);
    struct drv_backend *b = open_backend(&c);
    oss_error err = {0};
    struct drv_actor a = {0};

    struct drv_sandbox_spec s1, s2;
    make_spec(&s1, "it-gold-1");
    make_spec(&s2, "it-gold-2");
    /* creates answer at once; wait for each to finish */
    CHECK(create_wait(b, &s1, 30000, NULL, &err) == 0, "create 1: %s", err.msg);
    CHECK(create_wait(b, &s2, 30000, NULL, &err) == 0, "create 2: %s", err.msg);

    /* each Ready template has one SUSPENDED golden actor, named by its status */
    char g1[64], g2[64];
    golden_id_of(&c, "osb-it-gold-1", g1, sizeof g1);
    golden_id_of(&c, "osb-it-gold-2", g2, sizeof g2);
    CHECK(strlen(g1) == 36 && strlen(g2) == 36 && strcmp(g1, g2) != 0,
          "goldenActorID not UUIDs: '%s' '%s'", g1, g2);
    CHECK(ate_actors_in("ate-golden", DRV_ACTOR_SUSPENDED) == 2,
          "want 2 SUSPENDED golden actors, have %d", ate_actors_in("ate-golden", -1));

    /* the driver's delete leaves nothing in ate-golden for sandbox 1 */
    CHECK(b->ops->delete_(b, "it-gold-1", &err) == 0, "delete 1: %s", err.msg);
    struct drv_ateapi *api = NULL;
    CHECK(drv_ateapi_open(&c, &api, &err) == 0, "ateapi: %s", err.msg);
    oss_error ge = {0};
    int r = drv_ateapi_get_actor(api, "ate-golden", g1, &a, &ge);
    drv_actor_clear(&a);
    CHECK(r < 0 && ge.domain == OSS_ERR_GRPC && ge.code == GRPC_STATUS_NOT_FOUND,
          "delete left golden actor ate-golden/%s behind (%s)", g1, ge.msg);
    CHECK(GOLDEN_ACTORS() == 1, "golden actors after one delete: %d", GOLDEN_ACTORS());

    /* control: the template of sandbox 2 deleted behind the driver's back
     * (as kubectl delete would): its golden actor stays, and the sandbox's
     * own actor can no longer be suspended or resumed */
    struct drv_kube *k = NULL;
    CHECK(drv_kube_open(&c, &k, &err) == 0, "kube: %s", err.msg);
    CHECK(drv_kube_delete(k, DRV_KUBE_ACTOR_TEMPLATE, "openshell", "osb-it-gold-2", &err) == 0,
          "direct template delete: %s", err.msg);
    drv_kube_close(k);
    CHECK(GOLDEN_ACTORS() == 1, "a template delete must not touch its golden actor (%d)",
          GOLDEN_ACTORS());
    r = b->ops->suspend(b, "it-gold-2", &err);
    CHECK(r < 0 && err.domain == OSS_ERR_GRPC && err.code == GRPC_STATUS_INTERNAL,
          "suspend without the template: %d %s", r, err.msg);
    /* DeleteActor needs no template, but only SUSPENDED actors go: the
     * sandbox's actor is RUNNING and stuck without its template */
    r = drv_ateapi_delete_actor(api, "openshell", "it-gold-2", &err);
    CHECK(r < 0 && err.code == GRPC_STATUS_FAILED_PRECONDITION,
          "DeleteActor of a RUNNING actor: %d %s", r, err.msg);
    /* the golden actor itself is SUSPENDED and deletable without its template */
    CHECK(drv_ateapi_delete_actor(api, "ate-golden", g2, &err) == 0, "golden delete: %s", err.msg);
    CHECK(GOLDEN_ACTORS() == 0, "golden actors left: %d", GOLDEN_ACTORS());

    /* The gateway TLS material reaches the actor only as secretKeyRefs the
     * ate-api-server resolves on every run: without the operator's Secret
     * the golden boot fails (FAILED_PRECONDITION in the controller), the
     * template never gets Ready and the create fails when it runs out of
     * time. */
    reset_fakes();
    c.template_ready_timeout_secs = 2;
    CHECK(drv_kube_open(&c, &k, &err) == 0, "kube: %s", err.msg);
    CHECK(drv_kube_delete(k, DRV_KUBE_SECRET, "openshell", "openshell-client-tls", &err) == 0,
          "TLS Secret delete: %s", err.msg);
    drv_kube_close(k);
    struct drv_sandbox_spec s3;
    make_spec(&s3, "it-gold-3");
    r = create_wait(b, &s3, 20000, NULL, &err);
    log_err("create without the gateway TLS Secret", &err);
    CHECK(r == -2 && strstr(err.msg, "not Ready after") != NULL,
          "create without the TLS Secret: %d %s", r, err.msg);
    CHECK(counter("missing_secret.ResumeActor") > 0,
          "the golden boot never tried to resolve the TLS Secret");
    reset_fakes(); /* brings the Secret back */
    drv_ateapi_close(api);
    b->ops->destroy(b);
}
