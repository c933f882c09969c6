/* Unit tests for the pure parts of netns/: snapshot diff, its JSON, step
 * names.  JSON is checked with json-c, an independent parser. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "netns.h"

#include "internal.h"

#include <errno.h>
#include <json-c/json.h>
#include <netlink/errno.h>
#include <string.h>
#include <sys/socket.h>

static struct netns_link links_a[] = {
    {"lo", 1, 0x49, "00:00:00:00:00:00", 65536},
    {"eth0", 2, 0x1043, "02:42:ac:11:00:02", 1500},
};
static struct netns_addr addrs_a[] = {
    {"lo", "127.0.0.1/8", AF_INET},
    {"eth0", "169.254.17.2/30", AF_INET},
};
static struct netns_route routes_a[] = {
    {"default", "169.254.17.1", "eth0", AF_INET},
    {"169.254.17.0/30", "", "eth0", AF_INET},
};

static struct netns_snapshot snap(struct netns_link *l, size_t nl, struct netns_addr *a, size_t na,
                                  struct netns_route *r, size_t nr)
{
    return (struct netns_snapshot){l, nl, a, na, r, nr};
}

static json_object *parse(const char *s)
{
    json_object *o = json_tokener_parse(s);
    assert_non_null(o);
    assert_true(json_object_is_type(o, json_type_object));
    return o;
}

static size_t arr_len(json_object *o, const char *key)
{
    json_object *a = NULL;
    assert_true(json_object_object_get_ex(o, key, &a));
    assert_true(json_object_is_type(a, json_type_array));
    return json_object_array_length(a);
}

static const char *arr0_str(json_object *o, const char *key, const char *field)
{
    json_object *a = NULL, *e = NULL, *f = NULL;
    assert_true(json_object_object_get_ex(o, key, &a));
    e = json_object_array_get_idx(a, 0);
    assert_non_null(e);
    assert_true(json_object_object_get_ex(e, field, &f));
    return json_object_get_string(f);
}

static void test_identical(void **state)
{
    struct netns_snapshot a = snap(links_a, 2, addrs_a, 2, routes_a, 2);
    struct netns_snapshot b = snap(links_a, 2, addrs_a, 2, routes_a, 2);
    oss_buf out = OSS_BUF_INIT;
    assert_int_equal(netns_snapshot_diff(&a, &b, &out), 0);
    json_object *o = parse(out.data);
    const char *keys[] = {"links_added",   "links_removed", "addrs_added",
                          "addrs_removed", "routes_added",  "routes_removed"};
    for (size_t i = 0; i < 6; i++)
        assert_int_equal(arr_len(o, keys[i]), 0);
    json_object_put(o);
    oss_buf_free(&out);
}

static void test_empty_vs_empty(void **state)
{
    struct netns_snapshot a = {0}, b = {0};
    assert_int_equal(netns_snapshot_diff(&a, &b, NULL), 0);
}

static void test_link_added_removed(void **state)
{
    struct netns_snapshot a = snap(links_a, 1, addrs_a, 2, routes_a, 2);
    struct netns_snapshot b = snap(links_a, 2, addrs_a, 2, routes_a, 2);
    oss_buf out = OSS_BUF_INIT;
    assert_int_equal(netns_snapshot_diff(&a, &b, &out), 1);
    json_object *o = parse(out.data);
    assert_int_equal(arr_len(o, "links_added"), 1);
    assert_int_equal(arr_len(o, "links_removed"), 0);
    assert_string_equal(arr0_str(o, "links_added", "name"), "eth0");
    json_object_put(o);
    oss_buf_reset(&out);

    assert_int_equal(netns_snapshot_diff(&b, &a, &out), 1);
    o = parse(out.data);
    assert_int_equal(arr_len(o, "links_removed"), 1);
    assert_string_equal(arr0_str(o, "links_removed", "name"), "eth0");
    json_object_put(o);
    oss_buf_free(&out);
}

static void test_link_changed_is_remove_plus_add(void **state)
{
    struct netns_link changed[2];
    memcpy(changed, links_a, sizeof changed);
    changed[1].flags &= ~1u; /* eth0 went down */
    struct netns_snapshot a = snap(links_a, 2, NULL, 0, NULL, 0);
    struct netns_snapshot b = snap(changed, 2, NULL, 0, NULL, 0);
    oss_buf out = OSS_BUF_INIT;
    assert_int_equal(netns_snapshot_diff(&a, &b, &out), 2);
    json_object *o = parse(out.data);
    json_object *e = json_object_array_get_idx(json_object_object_get(o, "links_added"), 0);
    assert_false(json_object_get_boolean(json_object_object_get(e, "up")));
    json_object_put(o);
    oss_buf_free(&out);
}

static void test_addr_added_removed(void **state)
{
    struct netns_addr moved[2];
    memcpy(moved, addrs_a, sizeof moved);
    strcpy(moved[1].cidr, "169.254.17.6/30"); /* restored elsewhere */
    struct netns_snapshot a = snap(links_a, 2, addrs_a, 2, routes_a, 2);
    struct netns_snapshot b = snap(links_a, 2, moved, 2, routes_a, 2);
    oss_buf out = OSS_BUF_INIT;
    assert_int_equal(netns_snapshot_diff(&a, &b, &out), 2);
    json_object *o = parse(out.data);
    assert_string_equal(arr0_str(o, "addrs_added", "cidr"), "169.254.17.6/30");
    assert_string_equal(arr0_str(o, "addrs_removed", "cidr"), "169.254.17.2/30");
    assert_string_equal(arr0_str(o, "addrs_added", "family"), "inet");
    assert_int_equal(arr_len(o, "links_added") + arr_len(o, "routes_added"), 0);
    json_object_put(o);
    oss_buf_free(&out);
}

static void test_route_added_removed(void **state)
{
    struct netns_snapshot a = snap(links_a, 2, addrs_a, 2, routes_a, 1);
    struct netns_snapshot b = snap(links_a, 2, addrs_a, 2, routes_a + 1, 1);
    oss_buf out = OSS_BUF_INIT;
    assert_int_equal(netns_snapshot_diff(&a, &b, &out), 2);
    json_object *o = parse(out.data);
    assert_string_equal(arr0_str(o, "routes_removed", "dst"), "default");
    assert_string_equal(arr0_str(o, "routes_removed", "gateway"), "169.254.17.1");
    assert_string_equal(arr0_str(o, "routes_added", "dst"), "169.254.17.0/30");
    json_object_put(o);
    oss_buf_free(&out);
}

/* A gateway change alone is a difference (the worker behind the actor
 * moved), though dst and device are the same. */
static void test_route_gateway_change(void **state)
{
    struct netns_route r2 = routes_a[0];
    strcpy(r2.gateway, "169.254.17.5");
    struct netns_snapshot a = snap(NULL, 0, NULL, 0, routes_a, 1);
    struct netns_snapshot b = snap(NULL, 0, NULL, 0, &r2, 1);
    assert_int_equal(netns_snapshot_diff(&a, &b, NULL), 2);
}

/* Hostile names: quotes, control bytes and a missing NUL must still give
 * well-formed JSON. */
static void test_json_escaping_and_unterminated(void **state)
{
    struct netns_link l = {.ifindex = 3, .mtu = 1};
    memset(l.name, 'A', sizeof l.name); /* no NUL at all */
    l.name[2] = '"';
    l.name[3] = '\n';
    struct netns_snapshot a = {0};
    struct netns_snapshot b = snap(&l, 1, NULL, 0, NULL, 0);
    oss_buf out = OSS_BUF_INIT;
    assert_int_equal(netns_snapshot_diff(&a, &b, &out), 1);
    json_object *o = parse(out.data);
    assert_int_equal(strlen(arr0_str(o, "links_added", "name")), sizeof l.name);
    json_object_put(o);
    oss_buf_reset(&out);
    netns_snapshot_json(&b, &out);
    o = parse(out.data);
    assert_int_equal(arr_len(o, "links"), 1);
    json_object_put(o);
    oss_buf_free(&out);
}

static void test_snapshot_json(void **state)
{
    struct netns_snapshot a = snap(links_a, 2, addrs_a, 2, routes_a, 2);
    oss_buf out = OSS_BUF_INIT;
    netns_snapshot_json(&a, &out);
    json_object *o = parse(out.data);
    assert_int_equal(arr_len(o, "links"), 2);
    assert_int_equal(arr_len(o, "addrs"), 2);
    assert_int_equal(arr_len(o, "routes"), 2);
    json_object_put(o);
    oss_buf_free(&out);
}

static void test_step_names(void **state)
{
    const char *want[] = {"none", "ns_create", "nl_socket", "veth",
                          "move", "addr",      "link_up",   "route"};
    assert_int_equal(NETNS_STEP_COUNT, 8);
    for (int s = 0; s < NETNS_STEP_COUNT; s++)
        assert_string_equal(netns_step_name((enum netns_step)s), want[s]);
    assert_string_equal(netns_step_name(NETNS_STEP_COUNT), "unknown");
    assert_string_equal(netns_step_name((enum netns_step) - 1), "unknown");
}

/* The errno -> NLE_* table of libnl, inverted: every errno libnl keeps a
 * code of its own comes back as itself; the folded ones come back as their
 * representative; codes with no errno give 0 (the error stays NL-domain). */
static void test_nlerr_inverse(void **state)
{
    const int exact[] = {EADDRNOTAVAIL,   EINTR,  EAGAIN,     EACCES, EINVAL, ENOMEM,
                         EAFNOSUPPORT,    EPERM,  EOPNOTSUPP, EBUSY,  ERANGE, ENODEV,
                         EPROTONOSUPPORT, EEXIST, EBADF,      ENOENT};
    for (size_t i = 0; i < sizeof exact / sizeof exact[0]; i++) {
        int nle = nl_syserr2nlerr(exact[i]);
        assert_int_equal(netns__nlerr_to_errno(nle), exact[i]);
        assert_int_equal(netns__nlerr_to_errno(-nle), exact[i]);
    }
    /* Folded by libnl: only the ack callback can tell these apart. */
    assert_int_equal(netns__nlerr_to_errno(nl_syserr2nlerr(EADDRINUSE)), EEXIST);
    assert_int_equal(netns__nlerr_to_errno(nl_syserr2nlerr(ESRCH)), ENOENT);
    assert_int_equal(netns__nlerr_to_errno(nl_syserr2nlerr(ENETUNREACH)), 0);
    assert_int_equal(netns__nlerr_to_errno(NLE_FAILURE), 0);
    assert_int_equal(netns__nlerr_to_errno(NLE_MSG_TRUNC), 0);
}

/* An NLE code without an errno stays in the NL domain with libnl's text. */
static void test_nl_err_domains(void **state)
{
    oss_error err = {0};
    netns__nl_reset();
    assert_int_equal(netns__nl_err(&err, -NLE_OPNOTSUPP, "creating veth %s", "a"), -1);
    assert_int_equal(err.domain, OSS_ERR_ERRNO);
    assert_int_equal(err.code, EOPNOTSUPP);
    assert_non_null(strstr(err.msg, "creating veth a: "));
    netns__nl_reset();
    netns__nl_err(&err, -NLE_MSG_TRUNC, "dump");
    assert_int_equal(err.domain, OSS_ERR_NL);
    assert_int_equal(err.code, NLE_MSG_TRUNC);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_identical),
        cmocka_unit_test(test_empty_vs_empty),
        cmocka_unit_test(test_link_added_removed),
        cmocka_unit_test(test_link_changed_is_remove_plus_add),
        cmocka_unit_test(test_addr_added_removed),
        cmocka_unit_test(test_route_added_removed),
        cmocka_unit_test(test_route_gateway_change),
        cmocka_unit_test(test_json_escaping_and_unterminated),
        cmocka_unit_test(test_snapshot_json),
        cmocka_unit_test(test_step_names),
        cmocka_unit_test(test_nlerr_inverse),
        cmocka_unit_test(test_nl_err_domains),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
