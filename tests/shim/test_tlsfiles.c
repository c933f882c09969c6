/* The gateway TLS files and the secret scrub: which variables, which paths
 * (pure), the env contract's removal of the PEMs, the scrub of an
 * environment block, and the tmpfs writer on the host. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "policy/envcontract.h"
#include "policy/envscrub.h"
#include "policy/tlsfiles.h"
#include "policy/tokenfile.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

static bool allowed(const char *path, const char *state_dir)
{
    char dir[256];
    return shim_tls_path_allowed(path, state_dir, dir, sizeof dir);
}

static void test_path_allowed(void **state)
{
    (void)state;
    char dir[256];
    assert_true(shim_tls_path_allowed("/run/openshell/tls/ca.crt", NULL, dir, sizeof dir));
    assert_string_equal(dir, "/run/openshell/tls");
    assert_true(allowed("/run/oss-state/tls/tls.key", "/run/oss-state"));
    assert_true(allowed("/run/openshell/tls/tls.key", "/run/oss-state"));
    /* refused: relative, '..', '.', empty components, elsewhere, subdirs */
    assert_false(allowed("run/openshell/tls/ca.crt", NULL));
    assert_false(allowed("/run/openshell/tls/../ca.crt", NULL));
    assert_false(allowed("/run/openshell/tls/../../etc/passwd", NULL));
    assert_false(allowed("/run/openshell/./tls/ca.crt", NULL));
    assert_false(allowed("/run/openshell//tls/ca.crt", NULL));
    assert_false(allowed("/run/openshell/tls/", NULL));
    assert_false(allowed("/run/openshell/tls", NULL));
    assert_false(allowed("/run/openshell/tls/sub/ca.crt", NULL));
    assert_false(allowed("/run/openshell/tls/..", NULL));
    assert_false(allowed("/run/openshell/tls/.secret.abc", NULL)); /* the writer's temp names */
    assert_false(allowed("/etc/ssl/ca.crt", NULL));
    assert_false(allowed("/run/openshell/tlsx/ca.crt", NULL));
    assert_false(allowed("/run/oss-state/ca.crt", "/run/oss-state")); /* the state dir itself */
    assert_false(allowed("/run/oss-state/tls/ca.crt", NULL));
    assert_false(allowed("/run/oss-statex/tls/ca.crt", "/run/oss-state"));
    assert_false(allowed("/x/../tls/ca.crt", "/x/..")); /* a state dir with '..' */
    assert_false(allowed("/a/tls/ca.crt", "a"));        /* a relative state dir */
    assert_false(allowed("", NULL));
    assert_false(allowed(NULL, NULL));
    char longp[400];
    memset(longp, 'a', sizeof longp);
    memcpy(longp, "/run/openshell/tls/", 19);
    longp[sizeof longp - 1] = '\0';
    assert_false(allowed(longp, NULL));
}

#define PEMS                                                                                       \
    "OPENSHELL_SHIM_TLS_CA_PEM=CA-PEM", "OPENSHELL_SHIM_TLS_CERT_PEM=CERT-PEM",                    \
        "OPENSHELL_SHIM_TLS_KEY_PEM=KEY-PEM"
#define PATHS                                                                                      \
    "OPENSHELL_TLS_CA=/run/openshell/tls/ca.crt", "OPENSHELL_TLS_CERT=/run/openshell/tls/tls.crt", \
        "OPENSHELL_TLS_KEY=/run/openshell/tls/tls.key"

static void test_plan(void **state)
{
    (void)state;
    struct shim_tls_plan p;
    oss_error err = {0};
    char *full[] = {"PATH=/bin", PEMS, PATHS, NULL};
    assert_int_equal(shim_tls_plan(full, "/run/openshell", &p, &err), 0);
    assert_int_equal(p.n, 3);
    assert_string_equal(p.f[0].pem_var, "OPENSHELL_SHIM_TLS_CA_PEM");
    assert_string_equal(p.f[0].path, "/run/openshell/tls/ca.crt");
    assert_string_equal(p.f[1].pem, "CERT-PEM");
    assert_string_equal(p.f[2].path_var, "OPENSHELL_TLS_KEY");
    assert_string_equal(p.f[2].dir, "/run/openshell/tls");
    /* no PEM: nothing, even with the operator's own path variables */
    char *none[] = {"PATH=/bin", PATHS, NULL};
    assert_int_equal(shim_tls_plan(none, NULL, &p, &err), 0);
    assert_int_equal(p.n, 0);
    /* incomplete: each refusal names the variable */
    char *nokey[] = {"OPENSHELL_SHIM_TLS_CA_PEM=x", "OPENSHELL_SHIM_TLS_CERT_PEM=y", PATHS, NULL};
    assert_int_equal(shim_tls_plan(nokey, NULL, &p, &err), -1);
    assert_non_null(strstr(err.msg, "OPENSHELL_SHIM_TLS_KEY_PEM is missing"));
    char *empty[] = {"OPENSHELL_SHIM_TLS_CA_PEM=", "OPENSHELL_SHIM_TLS_CERT_PEM=y",
                     "OPENSHELL_SHIM_TLS_KEY_PEM=z", PATHS, NULL};
    assert_int_equal(shim_tls_plan(empty, NULL, &p, &err), -1);
    assert_non_null(strstr(err.msg, "OPENSHELL_SHIM_TLS_CA_PEM is empty"));
    char *nopath[] = {PEMS, "OPENSHELL_TLS_CA=/run/openshell/tls/ca.crt",
                      "OPENSHELL_TLS_CERT=/run/openshell/tls/tls.crt", NULL};
    assert_int_equal(shim_tls_plan(nopath, NULL, &p, &err), -1);
    assert_non_null(strstr(err.msg, "OPENSHELL_TLS_KEY"));
    char *escape[] = {PEMS, "OPENSHELL_TLS_CA=/run/openshell/tls/../../../etc/ca.crt",
                      "OPENSHELL_TLS_CERT=/run/openshell/tls/tls.crt",
                      "OPENSHELL_TLS_KEY=/run/openshell/tls/tls.key", NULL};
    assert_int_equal(shim_tls_plan(escape, NULL, &p, &err), -1);
    assert_non_null(strstr(err.msg, "OPENSHELL_TLS_CA names a path"));
    char *same[] = {PEMS, "OPENSHELL_TLS_CA=/run/openshell/tls/a",
                    "OPENSHELL_TLS_CERT=/run/openshell/tls/a",
                    "OPENSHELL_TLS_KEY=/run/openshell/tls/k", NULL};
    assert_int_equal(shim_tls_plan(same, NULL, &p, &err), -1);
    assert_non_null(strstr(err.msg, "OPENSHELL_TLS_CERT names the same file as OPENSHELL_TLS_CA"));
    /* the state dir's tls/ */
    char *st[] = {PEMS, "OPENSHELL_TLS_CA=/s/tls/ca", "OPENSHELL_TLS_CERT=/s/tls/c",
                  "OPENSHELL_TLS_KEY=/s/tls/k", NULL};
    assert_int_equal(shim_tls_plan(st, "/s", &p, &err), 0);
    assert_int_equal(p.n, 3);
    assert_int_equal(shim_tls_plan(st, "/t", &p, &err), -1);
    /* no refusal message ever holds a PEM */
    assert_null(strstr(err.msg, "PEM="));
}

static const struct shim_env_entry *find(const struct shim_env_contract *c, const char *name)
{
    for (size_t i = 0; i < c->n; i++)
        if (!strcmp(c->e[i].name, name))
            return &c->e[i];
    return NULL;
}

/* Written: the PEMs leave the supervisor's environment, the paths stay. */
static void test_contract(void **state)
{
    (void)state;
    enum shim_verdict v[SHIM_SUB_COUNT] = {SHIM_VERDICT_OK, SHIM_VERDICT_OK, SHIM_VERDICT_OK,
                                           SHIM_VERDICT_OK};
    char *base[] = {"PATH=/bin", PEMS, PATHS, "OPENSHELL_SANDBOX_TOKEN=t", NULL};
    struct shim_env_contract c;
    shim_env_contract_compute(v, NULL, "/r", base, &c);
    shim_env_contract_token(&c, base, "/run/openshell/token/sandbox-token");
    shim_env_contract_tls(&c, base, true);
    char **env = shim_env_build(&c, base);
    for (size_t i = 0; i < SHIM_TLS_NFILES; i++) {
        assert_null(shim_env_get(env, shim_tls_pem_vars[i]));
        assert_non_null(shim_env_get(env, shim_tls_path_vars[i]));
        assert_int_equal(find(&c, shim_tls_pem_vars[i])->action, SHIM_ENV_REMOVED);
        assert_false(find(&c, shim_tls_pem_vars[i])->secret_free);
    }
    for (size_t i = 0; env[i]; i++)
        assert_null(strstr(env[i], "-PEM"));
    shim_env_free(env);
    shim_env_contract_free(&c);
    /* control: not written, the PEMs stay (the shim refuses then anyway) */
    shim_env_contract_compute(v, NULL, "/r", base, &c);
    shim_env_contract_tls(&c, base, false);
    env = shim_env_build(&c, base);
    assert_string_equal(shim_env_get(env, "OPENSHELL_SHIM_TLS_KEY_PEM"), "KEY-PEM");
    shim_env_free(env);
    shim_env_contract_free(&c);
}

static void test_scrub(void **state)
{
    (void)state;
    /* one block of NUL-separated strings, as the kernel lays out envp */
    char block[] = "PATH=/bin\0OPENSHELL_SANDBOX_TOKEN=tok\0OPENSHELL_SANDBOX_TOKEN_FILE=/f\0"
                   "OPENSHELL_SHIM_TLS_KEY_PEM=-----BEGIN KEY-----\0X=OPENSHELL_SANDBOX_TOKEN=y";
    char *env[6];
    char *p = block;
    for (int i = 0; i < 5; i++, p += strlen(p) + 1)
        env[i] = p;
    env[5] = NULL;
    char **copy = shim_env_dup(env);
    assert_non_null(copy);
    assert_int_equal(shim_env_scrub(env, shim_secret_env_names), 2);
    assert_null(memmem(block, sizeof block, "tok", 3));
    assert_null(memmem(block, sizeof block, "BEGIN", 5));
    /* the names stay, the values are NULs; other entries are untouched */
    assert_string_equal(env[1], "OPENSHELL_SANDBOX_TOKEN=");
    assert_string_equal(env[2], "OPENSHELL_SANDBOX_TOKEN_FILE=/f");
    assert_string_equal(env[3], "OPENSHELL_SHIM_TLS_KEY_PEM=");
    assert_string_equal(env[4], "X=OPENSHELL_SANDBOX_TOKEN=y");
    /* the copy taken before keeps the values */
    assert_string_equal(shim_env_get(copy, "OPENSHELL_SANDBOX_TOKEN"), "tok");
    assert_string_equal(shim_env_get(copy, "OPENSHELL_SHIM_TLS_KEY_PEM"), "-----BEGIN KEY-----");
    shim_env_free(copy);
    assert_int_equal(shim_env_scrub(env, shim_secret_env_names), 2); /* idempotent */
}

/* ---- the writer, on the host ------------------------------------------- */

static char *tmpfs_dir(void)
{
    char *d = strdup("/dev/shm/oss-tls-test.XXXXXX");
    struct statfs fs;
    if (!mkdtemp(d) || statfs(d, &fs) < 0 || fs.f_type != TMPFS_MAGIC) {
        free(d);
        return NULL;
    }
    return d;
}

static size_t entries(const char *dir)
{
    DIR *d = opendir(dir);
    size_t n = 0;
    for (struct dirent *e; d && (e = readdir(d));)
        n += e->d_name[0] != '.' || (e->d_name[1] && strcmp(e->d_name, ".."));
    if (d)
        closedir(d);
    return n;
}

static void slurp(const char *path, char *buf, size_t len)
{
    int fd = open(path, O_RDONLY | O_NOFOLLOW);
    assert_true(fd >= 0);
    ssize_t r = read(fd, buf, len - 1);
    assert_true(r >= 0);
    buf[r] = '\0';
    close(fd);
}

static void test_writer(void **state)
{
    (void)state;
    char *base = tmpfs_dir();
    if (!base)
        skip();
    char dir[300], path[320], victim[320], buf[64];
    snprintf(dir, sizeof dir, "%s/tls", base);
    snprintf(path, sizeof path, "%s/tls.key", dir);
    snprintf(victim, sizeof victim, "%s/victim", base);
    oss_error err = {0};
    assert_int_equal(shim_secret_write(dir, path, "KEY-1", &err), 0);
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 07777, 0400);
    assert_int_equal(st.st_uid, geteuid());
    assert_int_equal(stat(dir, &st), 0);
    assert_int_equal(st.st_mode & 07777, 0700);
    slurp(path, buf, sizeof buf);
    assert_string_equal(buf, "KEY-1");
    /* replaced as a whole (a new inode), no temporary file left */
    ino_t first = 0;
    assert_int_equal(stat(path, &st), 0);
    first = st.st_ino;
    assert_int_equal(shim_secret_write(dir, path, "KEY-2", &err), 0);
    assert_int_equal(stat(path, &st), 0);
    assert_true(st.st_ino != first);
    slurp(path, buf, sizeof buf);
    assert_string_equal(buf, "KEY-2");
    assert_int_equal(entries(dir), 1);
    /* a symlink planted at the path is replaced, never followed */
    int vfd = open(victim, O_WRONLY | O_CREAT | O_EXCL, 0600);
    assert_true(vfd >= 0);
    assert_int_equal(write(vfd, "orig", 4), 4);
    close(vfd);
    unlink(path);
    assert_int_equal(symlink(victim, path), 0);
    assert_int_equal(shim_secret_write(dir, path, "KEY-3", &err), 0);
    assert_int_equal(lstat(path, &st), 0);
    assert_true(S_ISREG(st.st_mode));
    slurp(victim, buf, sizeof buf);
    assert_string_equal(buf, "orig");
    /* a directory that is not ours or not a directory: refused */
    char notdir[320];
    snprintf(notdir, sizeof notdir, "%s/victim/tls.key", base);
    assert_int_equal(shim_secret_write(victim, notdir, "x", &err), -1);
    unlink(path);
    unlink(victim);
    rmdir(dir);
    rmdir(base);
    free(base);
}

/* CONTROL for the tmpfs rule: a directory on another file system is
 * refused and nothing is written. */
static void test_writer_not_tmpfs(void **state)
{
    (void)state;
    char base[] = "/var/tmp/oss-tls-test.XXXXXX";
    struct statfs fs;
    if (!mkdtemp(base))
        skip();
    if (statfs(base, &fs) < 0 || fs.f_type == TMPFS_MAGIC) {
        rmdir(base);
        skip();
    }
    char dir[64], path[80];
    snprintf(dir, sizeof dir, "%s/tls", base);
    snprintf(path, sizeof path, "%s/ca.crt", dir);
    oss_error err = {0};
    assert_int_equal(shim_secret_write(dir, path, "CA", &err), -1);
    assert_non_null(strstr(err.msg, "not on a tmpfs"));
    assert_int_equal(access(path, F_OK), -1);
    assert_int_equal(entries(dir), 0);
    rmdir(dir);
    rmdir(base);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_path_allowed), cmocka_unit_test(test_plan),
        cmocka_unit_test(test_contract),     cmocka_unit_test(test_scrub),
        cmocka_unit_test(test_writer),       cmocka_unit_test(test_writer_not_tmpfs),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
