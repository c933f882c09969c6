/* driver/server/listen.c: the socket's permissions, stale and live
 * sockets, and the peer-uid policy. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "listen.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

static char base[64], dir[96], sock[128];
#define CMD_MAX 512

static int setup(void **state)
{
    snprintf(base, sizeof base, "/tmp/drvlisten-XXXXXX");
    assert_non_null(mkdtemp(base));
    snprintf(dir, sizeof dir, "%s/run/deep", base);
    snprintf(sock, sizeof sock, "%s/d.sock", dir);
    return 0;
}

static int teardown(void **state)
{
    char cmd[CMD_MAX];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", base);
    return system(cmd) == 0 ? 0 : -1;
}

static void test_modes(void **state)
{
    int fd = -1;
    oss_error err = {0};
    assert_int_equal(drv_listen_open(sock, &fd, &err), 0);
    struct stat st;
    assert_int_equal(stat(dir, &st), 0);
    assert_int_equal(st.st_mode & 07777, 0700);
    assert_int_equal(stat(sock, &st), 0);
    assert_true(S_ISSOCK(st.st_mode));
    assert_int_equal(st.st_mode & 07777, 0600);
    assert_true(fcntl(fd, F_GETFD) & FD_CLOEXEC);

    /* a live listener: a second driver must refuse, not steal the socket */
    int fd2 = -1;
    assert_int_equal(drv_listen_open(sock, &fd2, &err), -1);
    assert_int_equal(err.code, EADDRINUSE);
    close(fd);

    /* stale (nobody listens any more): replaced */
    assert_int_equal(drv_listen_open(sock, &fd2, &err), 0);
    close(fd2);
}

static void test_loose_dir_tightened_and_non_socket_refused(void **state)
{
    char cmd[CMD_MAX];
    snprintf(cmd, sizeof cmd, "mkdir -p '%s' && chmod 0777 '%s' && touch '%s'", dir, dir, sock);
    assert_int_equal(system(cmd), 0);
    int fd = -1;
    oss_error err = {0};
    assert_int_equal(drv_listen_open(sock, &fd, &err), -1); /* a regular file */
    assert_non_null(strstr(err.msg, "not a socket"));
    struct stat st;
    assert_int_equal(stat(dir, &st), 0);
    assert_int_equal(st.st_mode & 07777, 0700); /* ours: tightened anyway */
}

static void test_peer_policy(void **state)
{
    assert_true(drv_peer_uid_allowed(1000, 1000));
    assert_true(drv_peer_uid_allowed(0, 1000));
    assert_false(drv_peer_uid_allowed(65534, 1000));
    assert_false(drv_peer_uid_allowed(1001, 1000));
    assert_true(drv_peer_uid_allowed(0, 0));
    assert_false(drv_peer_uid_allowed(65534, 0));

    int sv[2];
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
    uid_t uid;
    pid_t pid;
    oss_error err = {0};
    assert_int_equal(drv_peer_uid(sv[0], &uid, &pid, &err), 0);
    assert_int_equal(uid, geteuid());
    assert_int_equal(pid, getpid());
    close(sv[0]);
    close(sv[1]);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_modes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_loose_dir_tightened_and_non_socket_refused, setup,
                                        teardown),
        cmocka_unit_test(test_peer_policy),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
