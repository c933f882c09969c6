/* Argument and environment parsing: every flag, env var, precedence and
 * every class of bad input. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "config.h"
#include "error.h"

#include <signal.h>
#include <string.h>

static int parse(struct shim_config *c, oss_error *err, char **env, int argc, ...)
{
    /* static: the config's child_argv points into argv after we return (as
     * into main's argv); a stack array here was a use after return, found by
     * ASan's detect_stack_use_after_return.  Valid until the next parse(). */
    static char *argv[64];
    memset(argv, 0, sizeof argv);
    argv[0] = "openshell-shim";
    va_list ap;
    va_start(ap, argc);
    for (int i = 0; i < argc; i++)
        argv[i + 1] = va_arg(ap, char *);
    va_end(ap);
    static char *empty[] = {NULL};
    return shim_config_parse(argc + 1, argv, env ? env : empty, c, err);
}

static void test_defaults_are_strict(void **state)
{
    struct shim_config c;
    oss_error err = {0};
    assert_int_equal(parse(&c, &err, NULL, 2, "--", "sup"), 0);
    assert_int_equal(c.command, SHIM_CMD_RUN);
    assert_int_equal(c.degrade_mask, 0); /* strict: nothing may be degraded */
    assert_int_equal(c.probe_mask, SHIM_SUB_ALL);
    assert_int_equal(c.restart, SHIM_RESTART_NEVER);
    assert_false(c.stay_alive);
    assert_false(c.hold_stdin); /* stdin is inherited unless asked */
    assert_int_equal(c.stop_timeout_ms, 10000);
    assert_int_equal(c.readyz_port, 0);
    assert_int_equal(c.freeze_threshold_ms, 2000);
    assert_string_equal(c.proxy_url, "http://127.0.0.1:3128");
    assert_string_equal(c.report_path, "/run/openshell/bootstrap.json");
    assert_string_equal(c.ready_tcp, "127.0.0.1:3128");
    assert_string_equal(c.identity_file, "/run/ate/actor-id");
    assert_int_equal(c.netns_probe, SHIM_NETNS_PROBE_AUTO);
    assert_int_equal(c.child_argc, 1);
    assert_string_equal(c.child_argv[0], "sup");
    shim_config_free(&c);
}

static void test_tini_flags(void **state)
{
    struct shim_config c;
    oss_error err = {0};
    assert_int_equal(parse(&c, &err, NULL, 11, "-s", "-g", "-p", "SIGUSR1", "-e", "143", "-e3",
                           "-vvw", "--", "a", "b"),
                     0);
    assert_true(c.subreaper);
    assert_true(c.kill_group);
    assert_int_equal(c.pdeath_signal, SIGUSR1);
    assert_true(shim_exit_remapped(&c, 143));
    assert_true(shim_exit_remapped(&c, 3));
    assert_false(shim_exit_remapped(&c, 4));
    assert_int_equal(c.verbosity, 2);
    assert_int_equal(c.log_level, OSS_LOG_DEBUG);
    assert_true(c.warn_foreign);
    assert_int_equal(c.child_argc, 2);
    shim_config_free(&c);
}

static void test_child_args_are_not_parsed(void **state)
{
    struct shim_config c;
    oss_error err = {0};
    assert_int_equal(parse(&c, &err, NULL, 4, "--", "sup", "--bogus", "-x"), 0);
    assert_int_equal(c.child_argc, 3);
    assert_string_equal(c.child_argv[1], "--bogus");
    shim_config_free(&c);
}

static void test_env_and_precedence(void **state)
{
    struct shim_config c;
    oss_error err = {0};
    char *env[] = {"OPENSHELL_SHIM_RESTART=always",   "OPENSHELL_SHIM_STAY_ALIVE=1",
                   "OPENSHELL_SHIM_LOG_LEVEL=debug",  "OPENSHELL_SHIM_DEGRADE=netns,landlock",
                   "OPENSHELL_SHIM_READYZ_PORT=8080", "OPENSHELL_SHIM_REPORT=/tmp/r.json",
                   "OPENSHELL_SHIM_NETNS_PROBE=move", NULL};
    assert_int_equal(parse(&c, &err, env, 2, "--", "x"), 0);
    assert_int_equal(c.netns_probe, SHIM_NETNS_PROBE_MOVE);
    assert_int_equal(c.restart, SHIM_RESTART_ALWAYS);
    assert_true(c.stay_alive);
    assert_int_equal(c.log_level, OSS_LOG_DEBUG);
    assert_int_equal(c.degrade_mask,
                     SHIM_SUB_BIT(SHIM_SUB_NETNS) | SHIM_SUB_BIT(SHIM_SUB_LANDLOCK));
    assert_int_equal(c.readyz_port, 8080);
    assert_string_equal(c.report_path, "/tmp/r.json");
    shim_config_free(&c);
    /* flags win over env */
    assert_int_equal(parse(&c, &err, env, 7, "--restart=never", "--degrade", "all",
                           "--stay-alive=0", "--netns-probe=create", "--", "x"),
                     0);
    assert_int_equal(c.netns_probe, SHIM_NETNS_PROBE_CREATE);
    assert_int_equal(c.restart, SHIM_RESTART_NEVER);
    assert_int_equal(c.degrade_mask, SHIM_SUB_ALL);
    assert_false(c.stay_alive);
    shim_config_free(&c);
    /* stay-alive env with 0 is off (a value, not mere presence) */
    char *env0[] = {"OPENSHELL_SHIM_STAY_ALIVE=0", "OPENSHELL_SHIM_HOLD_STDIN=0", NULL};
    assert_int_equal(parse(&c, &err, env0, 2, "--", "x"), 0);
    assert_false(c.stay_alive);
    assert_false(c.hold_stdin);
    shim_config_free(&c);
    /* --hold-stdin: a flag, or a boolean value, or the environment */
    char *env1[] = {"OPENSHELL_SHIM_HOLD_STDIN=1", NULL};
    assert_int_equal(parse(&c, &err, env1, 2, "--", "x"), 0);
    assert_true(c.hold_stdin);
    shim_config_free(&c);
    assert_int_equal(parse(&c, &err, env1, 3, "--hold-stdin=no", "--", "x"), 0);
    assert_false(c.hold_stdin);
    shim_config_free(&c);
    assert_int_equal(parse(&c, &err, NULL, 3, "--hold-stdin", "--", "x"), 0);
    assert_true(c.hold_stdin);
    shim_config_free(&c);
    assert_int_equal(parse(&c, &err, NULL, 3, "--hold-stdin=maybe", "--", "x"), -1);
    assert_non_null(strstr(err.msg, "--hold-stdin"));
    shim_config_free(&c);
}

static void test_durations_and_signals(void **state)
{
    struct shim_config c;
    oss_error err = {0};
    assert_int_equal(parse(&c, &err, NULL, 9, "--stop-timeout=1500ms", "--freeze-threshold=0",
                           "--backoff-initial=2", "--backoff-max=1m", "--restore-signal=RTMIN+2",
                           "--on-restore=HUP", "--ready-tcp=none", "--", "x"),
                     0);
    assert_int_equal(c.stop_timeout_ms, 1500);
    assert_int_equal(c.freeze_threshold_ms, 0);
    assert_int_equal(c.backoff_initial_ms, 2000);
    assert_int_equal(c.backoff_max_ms, 60000);
    assert_int_equal(c.restore_signal, SIGRTMIN + 2);
    assert_int_equal(c.on_restore_signal, SIGHUP);
    assert_null(c.ready_tcp);
    shim_config_free(&c);
}

static void test_subcommands(void **state)
{
    struct shim_config c;
    oss_error err = {0};
    assert_int_equal(parse(&c, &err, NULL, 3, "doctor", "--json", "--degrade=all"), 0);
    assert_int_equal(c.command, SHIM_CMD_DOCTOR);
    assert_true(c.json);
    shim_config_free(&c);
    assert_int_equal(parse(&c, &err, NULL, 3, "notify", "restore", "--state-dir=/tmp/x"), 0);
    assert_int_equal(c.command, SHIM_CMD_NOTIFY);
    assert_string_equal(c.state_dir, "/tmp/x");
    shim_config_free(&c);
    assert_int_equal(parse(&c, &err, NULL, 1, "--version"), 0);
    assert_int_equal(c.command, SHIM_CMD_VERSION);
    shim_config_free(&c);
    assert_int_equal(parse(&c, &err, NULL, 1, "-h"), 0);
    assert_int_equal(c.command, SHIM_CMD_HELP);
    shim_config_free(&c);
}

struct bad_case {
    char *args[4];
    const char *expect; /* substring of the error */
};

static void test_bad_input(void **state)
{
    static const struct bad_case cases[] = {
        {{"doctor", "x"}, "unexpected argument 'x'"},
        {{"--golden=maybe", "x"}, "hold or run"},
        {{"--golden=hold", "x"}, "needs --actor"},
        {{"--actor=a b", "x"}, "--actor"},
        {{"--actor=", "x"}, "--actor"},
        {{"--nope", "--", "x"}, "unknown option '--nope'"},
        {{"-z", "--", "x"}, "unknown option '-z'"},
        {{"--restart=sometimes", "--", "x"}, "--restart"},
        {{"-p", "SIGKILL", "--", "x"}, "-p"},
        {{"-p", "SIGNOPE", "--", "x"}, "SIGNOPE"},
        {{"-e", "256", "--", "x"}, "-e"},
        {{"--stop-timeout=ten", "--", "x"}, "--stop-timeout"},
        {{"--degrade=netns,bogus", "--", "x"}, "bogus"},
        {{"--readyz-port=70000", "--", "x"}, "--readyz-port"},
        {{"--run-as=nobody", "--", "x"}, "UID:GID"},
        {{"--fallback-seccomp=maybe", "--", "x"}, "--fallback-seccomp"},
        {{"--netns-probe=copy", "--", "x"}, "auto, move or create"},
        {{"--ready-tcp=localhost", "--", "x"}, "HOST:PORT"},
        {{"--json=1", "--", "x"}, "takes no value"},
        {{"--restart"}, "needs a value"},
        {{"--"}, "missing command after"},
        {{"-v"}, "missing command"},
        {{"notify", "frobnicate"}, "unknown notification"},
        {{"notify"}, "notify needs"},
        {{"--backoff-initial=10s", "--backoff-max=1s", "--", "x"}, "--backoff-max"},
        {{"--degrade=", "--", "x"}, "empty subsystem list"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *argv[8] = {"openshell-shim"};
        int argc = 1;
        for (int k = 0; k < 4 && cases[i].args[k]; k++)
            argv[argc++] = cases[i].args[k];
        struct shim_config c;
        oss_error err = {0};
        char *env[] = {NULL};
        int r = shim_config_parse(argc, argv, env, &c, &err);
        if (r == 0 || strstr(err.msg, cases[i].expect) == NULL)
            fail_msg("case %zu (%s): r=%d msg='%s' expected '%s'", i, cases[i].args[0], r, err.msg,
                     cases[i].expect);
        assert_int_equal(err.domain, OSS_ERR_INVALID);
        shim_config_free(&c);
    }
}

/* tini's form: options stop at the first non-option, which is the command;
 * what follows, flags and "--" included, is the command's. */
static void test_tini_command_forms(void **state)
{
    struct shim_config c;
    oss_error err = {0};
    assert_int_equal(parse(&c, &err, NULL, 5, "-e", "3", "sh", "-c", "exit 3"), 0);
    assert_true(shim_exit_remapped(&c, 3));
    assert_int_equal(c.child_argc, 3);
    assert_string_equal(c.child_argv[0], "sh");
    assert_string_equal(c.child_argv[1], "-c");
    shim_config_free(&c);

    assert_int_equal(parse(&c, &err, NULL, 5, "-g", "cmd", "-v", "--", "--restart=x"), 0);
    assert_int_equal(c.verbosity, 0); /* the -v is cmd's */
    assert_false(c.restart != SHIM_RESTART_NEVER);
    assert_int_equal(c.child_argc, 4);
    assert_string_equal(c.child_argv[2], "--");
    shim_config_free(&c);

    /* the first word names a subcommand only when it is one */
    assert_int_equal(parse(&c, &err, NULL, 2, "doctor", "--json"), 0);
    assert_int_equal(c.command, SHIM_CMD_DOCTOR);
    assert_true(c.json);
    shim_config_free(&c);
    /* "--" still works, and lets a command named like a subcommand run */
    assert_int_equal(parse(&c, &err, NULL, 2, "--", "doctor"), 0);
    assert_int_equal(c.command, SHIM_CMD_RUN);
    assert_string_equal(c.child_argv[0], "doctor");
    shim_config_free(&c);
}

static void test_actor_and_golden(void **state)
{
    struct shim_config c;
    oss_error err = {0};
    assert_int_equal(parse(&c, &err, NULL, 1, "x"), 0);
    assert_null(c.actor);
    assert_int_equal(c.golden, SHIM_GOLDEN_RUN); /* no actor: nothing to wait for */
    shim_config_free(&c);
    assert_int_equal(parse(&c, &err, NULL, 2, "--actor=sb-1.a", "x"), 0);
    assert_string_equal(c.actor, "sb-1.a");
    assert_int_equal(c.golden, SHIM_GOLDEN_HOLD); /* the default with an actor */
    shim_config_free(&c);
    char *env[] = {"OPENSHELL_SHIM_ACTOR=from-env", "OPENSHELL_SHIM_GOLDEN=run", NULL};
    assert_int_equal(parse(&c, &err, env, 1, "x"), 0);
    assert_string_equal(c.actor, "from-env");
    assert_int_equal(c.golden, SHIM_GOLDEN_RUN);
    shim_config_free(&c);
    assert_int_equal(parse(&c, &err, env, 3, "--actor=flag", "--golden=hold", "x"), 0);
    assert_string_equal(c.actor, "flag"); /* flags win */
    assert_int_equal(c.golden, SHIM_GOLDEN_HOLD);
    shim_config_free(&c);
}

static void test_bad_env_is_an_error(void **state)
{
    struct shim_config c;
    oss_error err = {0};
    char *env[] = {"OPENSHELL_SHIM_STAY_ALIVE=maybe", NULL};
    assert_int_equal(parse(&c, &err, env, 2, "--", "x"), -1);
    assert_non_null(strstr(err.msg, "OPENSHELL_SHIM_STAY_ALIVE"));
    shim_config_free(&c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults_are_strict),
        cmocka_unit_test(test_tini_flags),
        cmocka_unit_test(test_child_args_are_not_parsed),
        cmocka_unit_test(test_env_and_precedence),
        cmocka_unit_test(test_durations_and_signals),
        cmocka_unit_test(test_subcommands),
        cmocka_unit_test(test_bad_input),
        cmocka_unit_test(test_bad_env_is_an_error),
        cmocka_unit_test(test_tini_command_forms),
        cmocka_unit_test(test_actor_and_golden),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
