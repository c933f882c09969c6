/* driver/check_config.c: the pure rules (digest pinning, the socket
 * directory decision of server/listen.c) and the subcommand end to end on
 * files made here. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "check_config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define D64 "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

static void test_digest(void **state)
{
    (void)state;
    assert_true(drv_image_digest_pinned("reg/pause@sha256:" D64));
    assert_true(drv_image_digest_pinned("reg:5000/pause:3.9@sha256:" D64));
    assert_false(drv_image_digest_pinned(NULL));
    assert_false(drv_image_digest_pinned("reg/pause:3.9"));
    assert_false(drv_image_digest_pinned("@sha256:" D64));              /* no name */
    assert_false(drv_image_digest_pinned("reg/pause@sha256:abc"));      /* short */
    assert_false(drv_image_digest_pinned("reg/pause@sha256:" D64 "0")); /* long */
    assert_false(drv_image_digest_pinned("reg/pause@sha512:" D64));
    assert_false(drv_image_digest_pinned(
        "reg/pause@sha256:"
        "0123456789ABCDEF0123456789abcdef0123456789abcdef0123456789abcdef"));
    assert_false(drv_image_digest_pinned("a@b@sha256:" D64));
}

static void test_sockdir(void **state)
{
    (void)state;
    const char *why = NULL;
    struct stat st = {.st_mode = S_IFDIR | 0700, .st_uid = 1000};
    assert_int_equal(drv_sockdir_finding(NULL, 1000, &why), DRV_FINDING_OK);
    assert_int_equal(drv_sockdir_finding(&st, 1000, &why), DRV_FINDING_OK);
    st.st_mode = S_IFDIR | 0750; /* ours, open: listen.c tightens it */
    assert_int_equal(drv_sockdir_finding(&st, 1000, &why), DRV_FINDING_WARN);
    st.st_mode = S_IFDIR | 0777; /* not ours, world-writable: refused */
    st.st_uid = 0;
    assert_int_equal(drv_sockdir_finding(&st, 1000, &why), DRV_FINDING_ERROR);
    st.st_mode = S_IFDIR | 01777; /* sticky: listen.c accepts it */
    assert_int_equal(drv_sockdir_finding(&st, 1000, &why), DRV_FINDING_WARN);
    st.st_mode = S_IFDIR | 0755; /* root's /run */
    assert_int_equal(drv_sockdir_finding(&st, 1000, &why), DRV_FINDING_WARN);
    st.st_mode = S_IFREG | 0700;
    st.st_uid = 1000;
    assert_int_equal(drv_sockdir_finding(&st, 1000, &why), DRV_FINDING_ERROR);
}

/* runs the subcommand, returns its status, output in `buf` */
static int run(char **argv, int argc, char *buf, size_t size)
{
    FILE *f = fmemopen(buf, size, "w");
    assert_non_null(f);
    char *envp[] = {NULL};
    int rc = drv_check_config_main(argc, argv, envp, f);
    fclose(f);
    return rc;
}

static void test_subcommand(void **state)
{
    (void)state;
    char dir[] = "/tmp/oss-checkcfg-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char ca[256], tok[256], sock[256], buf[8192];
    snprintf(ca, sizeof ca, "%s/ca.pem", dir);
    snprintf(tok, sizeof tok, "%s/token", dir);
    snprintf(sock, sizeof sock, "%s/s/d.sock", dir);
    FILE *f = fopen(ca, "w");
    fputs("-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n", f);
    fclose(f);
    f = fopen(tok, "w");
    fputs("secret-token-value\n", f);
    fclose(f);
    char *argv[] = {"check-config",
                    "--api-endpoint",
                    "h:443",
                    "--api-tls-ca-path",
                    ca,
                    "--api-bearer-token-path",
                    tok,
                    "--kube-token-path",
                    tok,
                    "--kube-ca-path",
                    ca,
                    "--pause-image",
                    "r/p@sha256:" D64,
                    "--snapshots-location",
                    "gs://b",
                    "--gateway-endpoint",
                    "https://gw:8080",
                    "--socket",
                    sock};
    int argc = (int)(sizeof argv / sizeof argv[0]);
    memset(buf, 0, sizeof buf);
    assert_int_equal(run(argv, argc, buf, sizeof buf), 0);
    assert_non_null(strstr(buf, "0 errors"));
    assert_null(strstr(buf, "secret-token-value")); /* never the token */
    /* control: the token gone */
    unlink(tok);
    memset(buf, 0, sizeof buf);
    assert_int_equal(run(argv, argc, buf, sizeof buf), 1);
    assert_non_null(strstr(buf, "error api_bearer_token_path"));
    /* control: the configuration does not load */
    char *bad[] = {"check-config", "--no-such-flag"};
    memset(buf, 0, sizeof buf);
    assert_int_equal(run(bad, 2, buf, sizeof buf), 2);
    unlink(ca);
    rmdir(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_digest),
        cmocka_unit_test(test_sockdir),
        cmocka_unit_test(test_subcommand),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
