/* driver/conditions.c: every actor status maps to conditions the gateway
 * turns into the right phase (FACTS.md §4). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "conditions.h"

#include <stdint.h>
#include <string.h>
#include <strings.h>

/* The gateway's derivation, restated independently for the test. */
static const char *gateway_phase(const struct drv_condition *c, size_t n)
{
    static const char *const ok[] = {"starting",
                                     "containerstarting",
                                     "containercreated",
                                     "dependenciesnotready",
                                     "supervisornotconnected",
                                     "reconcilererror",
                                     "healthcheckstarting",
                                     "inspectfailed"};
    for (size_t i = 0; i < n; i++)
        if (!strcmp(c[i].type, "Suspended") && !strcmp(c[i].status, "True"))
            return "Stopped";
    for (size_t i = 0; i < n; i++) {
        if (strcmp(c[i].type, "Ready") != 0)
            continue;
        if (!strcmp(c[i].status, "True"))
            return "Ready";
        if (!strcmp(c[i].status, "False")) {
            for (size_t k = 0; k < sizeof ok / sizeof ok[0]; k++)
                if (!strcasecmp(c[i].reason, ok[k]))
                    return "Provisioning";
            return "Error";
        }
        return "Provisioning";
    }
    return "Provisioning";
}

static const char *phase_of(int status, const char *failure)
{
    struct drv_actor a = {.raw_status = status,
                          .status = (enum drv_actor_status)status,
                          .failure = (char *)(uintptr_t)failure};
    struct drv_condition c[DRV_CONDITIONS_MAX];
    size_t n = drv_conditions_for(&a, c);
    assert_true(n >= 1 && n <= DRV_CONDITIONS_MAX);
    assert_string_equal(c[0].type, "Ready"); /* the gateway reads the first Ready */
    return gateway_phase(c, n);
}

static const struct drv_condition *ready_of(struct drv_condition *c, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!strcmp(c[i].type, "Ready"))
            return &c[i];
    return NULL;
}

/* A create that answered OK and goes on: transient reasons naming the step,
 * whatever the actor's status (SUSPENDED between CreateActor and the first
 * ResumeActor must not read as Stopped); a failed one is terminal. */
static void test_create_steps(void **state)
{
    (void)state;
    static const struct {
        enum drv_create_step step;
        int status;
        const char *phase, *reason;
    } rows[] = {
        {DRV_CREATE_DEPENDENCIES, DRV_ACTOR_UNSPECIFIED, "Provisioning", "DependenciesNotReady"},
        {DRV_CREATE_STARTING, DRV_ACTOR_SUSPENDED, "Provisioning", "Starting"},
        {DRV_CREATE_STARTING, DRV_ACTOR_RESUMING, "Provisioning", "Starting"},
        {DRV_CREATE_STARTING, DRV_ACTOR_RUNNING, "Provisioning", "Starting"},
        {DRV_CREATE_FAILED, DRV_ACTOR_CRASHED, "Error", "CreateFailed"},
        /* control: done, the status speaks again */
        {DRV_CREATE_DONE, DRV_ACTOR_SUSPENDED, "Stopped", "DependenciesNotReady"},
        {DRV_CREATE_DONE, DRV_ACTOR_RUNNING, "Ready", "Running"},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        struct drv_actor a = {.raw_status = rows[i].status,
                              .status = (enum drv_actor_status)rows[i].status,
                              .create_step = rows[i].step};
        struct drv_condition c[DRV_CONDITIONS_MAX];
        size_t n = drv_conditions_for(&a, c);
        assert_string_equal(gateway_phase(c, n), rows[i].phase);
        assert_string_equal(ready_of(c, n)->reason, rows[i].reason);
    }
    /* a failed create with its message: the message names the step */
    struct drv_actor f = {.raw_status = DRV_ACTOR_CRASHED,
                          .create_step = DRV_CREATE_FAILED,
                          .failure = (char *)"create failed while resuming the actor: x"};
    struct drv_condition c[DRV_CONDITIONS_MAX];
    size_t n = drv_conditions_for(&f, c);
    assert_string_equal(gateway_phase(c, n), "Error");
    assert_string_equal(c[0].reason, "CreateFailed");
    assert_string_equal(c[0].message, f.failure);
}

static void test_running_ready(void **state)
{
    assert_string_equal(phase_of(DRV_ACTOR_RUNNING, NULL), "Ready");
}

static void test_resuming_is_starting(void **state)
{
    struct drv_actor a = {.raw_status = DRV_ACTOR_RESUMING};
    struct drv_condition c[DRV_CONDITIONS_MAX];
    assert_int_equal(drv_conditions_for(&a, c), 1);
    assert_string_equal(c[0].status, "False");
    assert_string_equal(c[0].reason, "Starting");
    assert_string_equal(phase_of(DRV_ACTOR_RESUMING, NULL), "Provisioning");
}

static void test_suspended_family_stopped(void **state)
{
    int st[] = {DRV_ACTOR_SUSPENDING, DRV_ACTOR_SUSPENDED, DRV_ACTOR_PAUSING, DRV_ACTOR_PAUSED};
    for (size_t i = 0; i < 4; i++) {
        struct drv_actor a = {.raw_status = st[i]};
        struct drv_condition c[DRV_CONDITIONS_MAX];
        size_t n = drv_conditions_for(&a, c);
        assert_int_equal(n, 2);
        assert_string_equal(c[1].type, "Suspended");
        assert_string_equal(c[1].status, "True");
        /* even a gateway that looked only at Ready must not see Error */
        assert_true(drv_reason_is_transient(c[0].reason));
        assert_string_equal(phase_of(st[i], NULL), "Stopped");
    }
}

static void test_unknown_status(void **state)
{
    int st[] = {DRV_ACTOR_UNSPECIFIED, DRV_ACTOR_CRASHED, 42, -1};
    for (size_t i = 0; i < 4; i++) {
        struct drv_actor a = {.raw_status = st[i]};
        struct drv_condition c[DRV_CONDITIONS_MAX];
        assert_int_equal(drv_conditions_for(&a, c), 1);
        assert_string_equal(c[0].status, "Unknown");
        assert_string_equal(phase_of(st[i], NULL), "Provisioning");
    }
}

static void test_only_failure_is_terminal(void **state)
{
    for (int st = 0; st <= 8; st++)
        assert_string_not_equal(phase_of(st, NULL), "Error");
    for (int st = 0; st <= 8; st++)
        assert_string_equal(phase_of(st, "template never became Ready"), "Error");
    /* an empty failure string is no failure */
    assert_string_equal(phase_of(DRV_ACTOR_RUNNING, ""), "Ready");
}

static void test_enum_view_used_when_raw_unset(void **state)
{
    struct drv_actor a = {.status = DRV_ACTOR_SUSPENDED};
    struct drv_condition c[DRV_CONDITIONS_MAX];
    assert_int_equal(drv_conditions_for(&a, c), 2);
}

/* CONTROL: the older drivers' mapping (Ready=False, reason "Resuming") is
 * what the helper above must call Error, or these tests prove nothing. */
static void test_control_old_reason_is_error(void **state)
{
    struct drv_condition bad = {"Ready", "False", "Resuming", "x"};
    assert_string_equal(gateway_phase(&bad, 1), "Error");
    assert_false(drv_reason_is_transient("Resuming"));
    assert_true(drv_reason_is_transient("healthcheckstarting"));
    assert_false(drv_reason_is_transient(NULL));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_running_ready),
        cmocka_unit_test(test_create_steps),
        cmocka_unit_test(test_resuming_is_starting),
        cmocka_unit_test(test_suspended_family_stopped),
        cmocka_unit_test(test_unknown_status),
        cmocka_unit_test(test_only_failure_is_terminal),
        cmocka_unit_test(test_enum_view_used_when_raw_unset),
        cmocka_unit_test(test_control_old_reason_is_error),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
