/* Findings (OCSF 1.8 Detection Finding) and the report JSON: well-formed,
 * the keys the schema promises, hostile strings escaped, secrets kept out. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "bootstrap-internal.h"
#include "cleanup.h"
#include "fs.h"
#include "json_check.h"
#include "report/finding.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* A bootstrap as prepare would leave it on gVisor with --degrade=all. */
static struct shim_bootstrap *fake(const char *proxy)
{
    struct shim_bootstrap *b = calloc(1, sizeof *b);
    b->probe_mask = SHIM_SUB_ALL;
    b->degrade_mask = SHIM_SUB_ALL;
    b->run_uid = b->run_gid = 65534;
    b->proxy_url = strdup(proxy);
    b->report_path = strdup("/run/openshell/bootstrap.json");
    b->timeout_ms = 2000;
    shim_probe_set(&b->probes[SHIM_SUB_NETNS], SHIM_PROBE_UNSUPPORTED, "veth", EOPNOTSUPP, "x");
    shim_probe_set(&b->probes[SHIM_SUB_SECCOMP], SHIM_PROBE_UNSUPPORTED, "load_tsync", EINVAL, "y");
    b->probes[SHIM_SUB_SECCOMP].u.seccomp.flags_ok = 3;
    shim_probe_set(&b->probes[SHIM_SUB_LANDLOCK], SHIM_PROBE_UNSUPPORTED, "abi_version", ENOSYS,
                   "z");
    shim_probe_set(&b->probes[SHIM_SUB_PRIVDROP], SHIM_PROBE_SUPPORTED, NULL, 0, "ok \"quoted\"\n");
    shim_degrade_decide_all(b->probe_mask, b->degrade_mask, b->probes, b->verdict);
    shim_fallback_plan(SHIM_FALLBACK_AUTO, true, &b->probes[SHIM_SUB_SECCOMP], &b->plan);
    b->prog.rules = 17;
    shim_env_contract_compute(b->verdict, b->proxy_url, b->report_path, NULL, &b->env);
    return b;
}

static void fake_free(struct shim_bootstrap *b)
{
    shim_bootstrap_free(b);
}

static void ctx_init(struct shim_finding_ctx *c, const char *id)
{
    memset(c, 0, sizeof *c);
    c->time_ms = 1767225600000LL;
    strcpy(c->hostname, "runsc");
    snprintf(c->sandbox_id, sizeof c->sandbox_id, "%s", id);
    snprintf(c->sandbox_name, sizeof c->sandbox_name, "%s", id);
    strcpy(c->image, "img");
}

static void test_finding_shape(void **state)
{
    struct shim_bootstrap *b = fake("http://127.0.0.1:3128");
    struct shim_finding_ctx c;
    ctx_init(&c, "sb-1");
    static const char *const uids[] = {"netns-unavailable", "seccomp-unavailable",
                                       "landlock-unavailable", "privdrop-unavailable"};
    for (int s = 0; s < SHIM_SUB_COUNT; s++) {
        oss_buf o = OSS_BUF_INIT;
        shim_finding_for(b, s, &c, &o);
        assert_true(test_json_valid(o.data));
        assert_null(strchr(o.data, '\n')); /* one line */
        const char *must[] = {
            "\"class_uid\":2004",
            "\"class_name\":\"Detection Finding\"",
            "\"category_uid\":2",
            "\"category_name\":\"Findings\"",
            "\"activity_id\":1",
            "\"type_uid\":200401",
            "\"type_name\":\"Detection Finding: Create\"",
            "\"time\":1767225600000",
            "\"severity_id\":4",
            "\"severity\":\"High\"",
            "\"is_alert\":true",
            "\"confidence_id\":3",
            "\"confidence\":\"High\"",
            "\"version\":\"1.8.0\"",
            "\"vendor_name\":\"OpenShell\"",
            "\"profiles\":[\"security_control\",\"container\",\"host\"]",
            "\"device\":{\"hostname\":\"runsc\",\"os\":{\"name\":\"Linux\"}}",
            "\"container\":{\"name\":\"sb-1\",\"uid\":\"sb-1\",\"image\":{\"name\":\"img\"}}"};
        for (size_t i = 0; i < sizeof must / sizeof must[0]; i++)
            if (!strstr(o.data, must[i]))
                fail_msg("finding for %d lacks %s: %s", s, must[i], o.data);
        char uid[64];
        snprintf(uid, sizeof uid, "\"finding_info\":{\"uid\":\"%s\"", uids[s]);
        assert_non_null(strstr(o.data, uid));
        assert_true(test_json_has_key(o.data, "title"));
        assert_true(test_json_has_key(o.data, "desc"));
        oss_buf_free(&o);
    }
    /* messages name what is lost and what replaces it */
    oss_buf o = OSS_BUF_INIT;
    shim_finding_for(b, SHIM_SUB_NETNS, &c, &o);
    assert_non_null(strstr(o.data, "veth: EOPNOTSUPP"));
    assert_non_null(strstr(o.data, "proxy variables, set to http://127.0.0.1:3128"));
    oss_buf_reset(&o);
    shim_finding_for(b, SHIM_SUB_SECCOMP, &c, &o);
    assert_non_null(strstr(o.data, "replaced by the shim's 'prelude' fallback filter"));
    oss_buf_reset(&o);
    b->plan.active = false;
    shim_finding_for(b, SHIM_SUB_SECCOMP, &c, &o);
    assert_non_null(strstr(o.data, "no fallback filter replaces it"));
    oss_buf_reset(&o);
    shim_finding_for(b, SHIM_SUB_LANDLOCK, &c, &o);
    assert_non_null(strstr(o.data, "abi_version: ENOSYS"));
    assert_non_null(strstr(o.data, "nothing replaces it"));
    oss_buf_free(&o);
    fake_free(b);
}

static void test_finding_hostile(void **state)
{
    /* A sandbox id with quotes, backslashes, control bytes and bad UTF-8,
     * and a proxy URL with credentials. */
    struct shim_bootstrap *b = fake("http://alice:s3cret@proxy:3128");
    struct shim_finding_ctx c;
    ctx_init(&c, "a\"b\\c\n\x01\xff\xfe");
    oss_buf o = OSS_BUF_INIT;
    shim_finding_for(b, SHIM_SUB_NETNS, &c, &o);
    assert_true(test_json_valid(o.data));
    assert_null(strstr(o.data, "s3cret"));
    assert_non_null(strstr(o.data, "http://REDACTED@proxy:3128"));
    oss_buf_free(&o);
    fake_free(b);
}

static void test_emit_findings(void **state)
{
    struct shim_bootstrap *b = fake("http://127.0.0.1:3128");
    int fds[2];
    assert_int_equal(pipe(fds), 0);
    shim_bootstrap_emit_findings(b, fds[1]);
    close(fds[1]);
    char buf[16384];
    ssize_t n = read(fds[0], buf, sizeof buf - 1);
    close(fds[0]);
    assert_true(n > 0);
    buf[n] = '\0';
    /* degraded: netns, seccomp, landlock (privdrop is ok): three lines */
    int lines = 0;
    for (char *line = strtok(buf, "\n"); line; line = strtok(NULL, "\n")) {
        assert_true(test_json_valid(line));
        lines++;
    }
    assert_int_equal(lines, 3);
    fake_free(b);
}

static void test_report_json(void **state)
{
    struct shim_bootstrap *b = fake("http://bob:pw@127.0.0.1:3128");
    struct shim_config cfg = {0};
    struct shim_report *r = NULL;
    oss_error e = {0};
    assert_int_equal(shim_report_new(&cfg, b, &r, &e), 0);
    shim_report_set_generation(r, 3);
    shim_report_add_event(r, "supervisor_exit", "{\"code\":1}");
    oss_buf o = OSS_BUF_INIT;
    shim_report_json(r, &o);
    assert_true(test_json_valid(o.data));
    const char *keys[] = {"schema",     "shim_version", "generation",       "bootstrap",
                          "policy",     "runtime",      "probes",           "decisions",
                          "outcome",    "refusal",      "fallback_seccomp", "env",
                          "timings_us", "events",       "events_dropped"};
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
        if (!test_json_has_key(o.data, keys[i]))
            fail_msg("report lacks %s", keys[i]);
    assert_non_null(strstr(o.data, "\"generation\":3"));
    assert_non_null(strstr(o.data, "\"shim_version\":\"" OSS_VERSION "\""));
    assert_non_null(strstr(o.data, "\"decisions\":{\"netns\":\"degraded\",\"seccomp\":"
                                   "\"degraded\",\"landlock\":\"degraded\",\"privdrop\":\"ok\"}"));
    assert_non_null(strstr(o.data, "\"outcome\":\"degraded\""));
    assert_non_null(strstr(o.data, "\"kind\":\"supervisor_exit\""));
    assert_non_null(strstr(o.data, "\"data\":{\"code\":1}"));
    assert_non_null(strstr(o.data, "\"name\":\"OPENSHELL_BEST_EFFORT_FAILURES\""));
    assert_null(strstr(o.data, ":pw@")); /* the proxy password never appears */
    oss_buf_free(&o);

    /* events are bounded */
    for (int i = 0; i < SHIM_REPORT_MAX_EVENTS + 10; i++)
        shim_report_add_event(r, "restore", "{}");
    o = (oss_buf)OSS_BUF_INIT;
    shim_report_json(r, &o);
    assert_true(test_json_valid(o.data));
    assert_non_null(strstr(o.data, "\"events_dropped\":11"));
    assert_null(strstr(o.data, "supervisor_exit")); /* the oldest went first */
    oss_buf_free(&o);
    shim_report_free(r);

    /* refused outcome */
    b->degrade_mask = 0;
    shim_degrade_decide_all(b->probe_mask, 0, b->probes, b->verdict);
    o = (oss_buf)OSS_BUF_INIT;
    shim_bootstrap_json(b, &o);
    assert_true(test_json_valid(o.data));
    assert_non_null(strstr(o.data, "\"outcome\":\"refused\""));
    assert_non_null(strstr(o.data, "--degrade=netns,seccomp,landlock"));
    oss_buf_free(&o);
    fake_free(b);
}

static void test_report_write(void **state)
{
    char dir[] = "/tmp/osp-report-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char path[256];
    snprintf(path, sizeof path, "%s/a/b/bootstrap.json", dir);
    struct shim_bootstrap *b = fake("http://127.0.0.1:3128");
    free(b->report_path);
    b->report_path = strdup(path);
    struct shim_config cfg = {0};
    struct shim_report *r = NULL;
    oss_error e = {0};
    assert_int_equal(shim_report_new(&cfg, b, &r, &e), 0);
    assert_int_equal(shim_report_write(r, &e), 0);
    oss_buf o = OSS_BUF_INIT;
    assert_int_equal(oss_read_file(path, 1 << 20, &o, &e), 0);
    assert_true(test_json_valid(o.data));
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0644);
    char sub[256];
    snprintf(sub, sizeof sub, "%s/a", dir);
    assert_int_equal(stat(sub, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0755);
    /* rewritten whole: a second write with an event is still one value */
    shim_report_add_event(r, "restore", "{\"n\":1}");
    assert_int_equal(shim_report_write(r, &e), 0);
    oss_buf_reset(&o);
    assert_int_equal(oss_read_file(path, 1 << 20, &o, &e), 0);
    assert_true(test_json_valid(o.data));
    assert_non_null(strstr(o.data, "\"n\":1"));
    oss_buf_free(&o);
    shim_report_free(r);
    fake_free(b);
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    assert_int_equal(system(cmd), 0);
}

static void test_validator_catches(void **state)
{
    /* control: the validator rejects what a broken writer would produce */
    assert_false(test_json_valid("{\"a\":1,}"));
    assert_false(test_json_valid("{\"a\":\"x\ny\"}"));
    assert_false(test_json_valid("{\"a\":1}{"));
    assert_false(test_json_valid("[1 2]"));
    assert_true(test_json_valid("{\"a\":[1,-2.5e3,true,null,\"\\u00e9\"]}"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_finding_shape), cmocka_unit_test(test_finding_hostile),
        cmocka_unit_test(test_emit_findings), cmocka_unit_test(test_report_json),
        cmocka_unit_test(test_report_write),  cmocka_unit_test(test_validator_catches),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
