/* Running runsc.  Every call is fork + execve with an argv array (never a
 * shell), in a child that first makes itself a private mount namespace
 * whose /proc/sys is a copy without net/core/rmem_default: Debian's runsc
 * decides "root network namespace" by that file's presence and refuses
 * --network=sandbox there, and kernel 6.18 shows it in every namespace
 * (FACTS.md §7).  The copy is only ever seen by runsc. */
#include "internal.h"

#include "cleanup.h"
#include "fs.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <json-c/json.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define OUTPUT_MAX (64 * 1024)

/* ---- the /proc/sys copy ---- */

static const char *copy_dst; /* nftw has no user pointer; callers serialise */

static int copy_one(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
    (void)st;
    (void)ftw;
    const char *rel = path + strlen("/proc/sys");
    char dst[4096];
    if (snprintf(dst, sizeof dst, "%s%s", copy_dst, rel) >= (int)sizeof dst)
        return 0;
    if (type == FTW_D) {
        if (mkdir(dst, 0755) < 0 && errno != EEXIST)
            return -1;
        return 0;
    }
    if (type != FTW_F)
        return 0;
    if (strcmp(rel, "/net/core/rmem_default") == 0)
        return 0; /* the file whose presence means "root netns" to this runsc */
    _cleanup_close_ int in = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (in < 0)
        return 0; /* write-only or refused: runsc does not need it */
    char buf[8192];
    ssize_t n = OSS_RETRY_EINTR(read(in, buf, sizeof buf));
    if (n < 0)
        return 0;
    _cleanup_close_ int out = open(dst, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0444);
    if (out < 0 || oss_write_all(out, buf, (size_t)n) < 0)
        return -1;
    return 0;
}

int drv_runsc_procsys_copy(const char *dst, oss_error *err)
{
    char done[4096];
    snprintf(done, sizeof done, "%s/.complete", dst);
    if (access(done, F_OK) == 0)
        return 0;
    if (oss_mkdir_p(dst, 0755, err) < 0)
        return -1;
    copy_dst = dst;
    if (nftw("/proc/sys", copy_one, 16, FTW_PHYS) != 0)
        return oss_err_errno(err, "copying /proc/sys to %s", dst);
    if (oss_write_file_atomic(done, "", 0, 0644, err) < 0)
        return -1;
    return 0;
}

/* ---- fork/exec ---- */

static int64_t now_ms(void)
{
    return oss_mono_ms();
}

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
        ;
}

/* Only async-signal-safe calls between fork and exec: the driver has
 * threads.  Failures are reported through the CLOEXEC pipe as an errno
 * and the step. */
static void __attribute__((noreturn))
child(const struct drv_runsc_cmd *c, char *const *argv, int devnull, int out, int report)
{
    int step = 0;
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    struct sigaction dfl = {.sa_handler = SIG_DFL};
    sigaction(SIGPIPE, &dfl, NULL); /* the driver ignores it; runsc must not inherit that */
    /* its own session: killing the driver's process group must not take
     * the sandboxes with it */
    setsid();
    step = 1;
    if (unshare(CLONE_NEWNS) < 0)
        goto fail;
    /* slave, not private: umounts on the host (a deleted sandbox's
     * /run/netns entry) still reach this copy, so it pins no namespace */
    step = 2;
    if (mount(NULL, "/", NULL, MS_REC | MS_SLAVE, NULL) < 0)
        goto fail;
    step = 3;
    if (mount(c->procsys, "/proc/sys", NULL, MS_BIND | MS_REC, NULL) < 0)
        goto fail;
    step = 4;
    if (dup2(devnull, 0) < 0 || dup2(out, 1) < 0 || dup2(out, 2) < 0)
        goto fail;
    step = 5;
    execv(argv[0], argv);
fail:;
    int msg[2] = {step, errno};
    (void)!write(report, msg, sizeof msg);
    _exit(127);
}

static const char *const step_names[] = {
    "setsid", "unshare(CLONE_NEWNS)", "make / rslave", "bind /proc/sys copy", "dup2", "execv"};

static void tail_into(oss_buf *dst, const char *data, size_t len)
{
    size_t keep = 600;
    const char *p = len > keep ? data + len - keep : data;
    size_t n = len > keep ? keep : len;
    for (size_t i = 0; i < n; i++)
        oss_buf_putc(dst, p[i] == '\n' ? ' ' : p[i]);
}

/* execv's argv is char *const[] for historical reasons; it does not write */
static char *unconst(const char *s)
{
    return (char *)(uintptr_t)s;
}

int drv_runsc_run(const struct drv_runsc_cmd *c, const char *const *args, int out_fd,
                  int64_t timeout_ms, oss_buf *output, oss_error *err)
{
    /* argv: runsc --root R --network=sandbox ARGS... */
    size_t nargs = 0;
    while (args[nargs] != NULL)
        nargs++;
    _cleanup_free_ char **argv = calloc(nargs + 7, sizeof *argv);
    _cleanup_free_ char *rootflag = NULL;
    if (argv == NULL || asprintf(&rootflag, "--root=%s", c->root) < 0)
        return oss_err_errno(err, "allocating runsc argv");
    size_t k = 0;
    argv[k++] = unconst(c->runsc);
    argv[k++] = rootflag;
    argv[k++] = unconst("--network=sandbox");
    /* OSS_RUNSC_DEBUG_LOG=DIR/: runsc's own debug logs (troubleshooting) */
    const char *dbg = getenv("OSS_RUNSC_DEBUG_LOG");
    _cleanup_free_ char *dbgflag = NULL;
    if (dbg != NULL && dbg[0] != '\0' && asprintf(&dbgflag, "--debug-log=%s", dbg) >= 0) {
        argv[k++] = unconst("--debug");
        argv[k++] = dbgflag;
    }
    for (size_t i = 0; i < nargs; i++)
        argv[k++] = unconst(args[i]);
    argv[k] = NULL;

    _cleanup_close_ int devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
    _cleanup_close_ int cap = -1;
    off_t start = 0;
    if (out_fd < 0) {
        cap = memfd_create("runsc-output", MFD_CLOEXEC);
        if (cap < 0)
            return oss_err_errno(err, "memfd_create");
    } else {
        start = lseek(out_fd, 0, SEEK_END);
    }
    int pfd[2];
    if (devnull < 0 || pipe2(pfd, O_CLOEXEC) < 0)
        return oss_err_errno(err, "preparing to run runsc");
    _cleanup_close_ int rd = pfd[0];
    _cleanup_close_ int wr = pfd[1];

    pid_t pid = fork();
    if (pid < 0)
        return oss_err_errno(err, "fork");
    if (pid == 0)
        child(c, argv, devnull, out_fd >= 0 ? out_fd : cap, wr);
    close(TAKE_FD(wr));

    int status = 0;
    bool timed_out = false;
    int64_t deadline = now_ms() + timeout_ms;
    long pause = 2;
    for (;;) {
        pid_t r = waitpid(pid, &status, WNOHANG);
        if (r == pid)
            break;
        if (r < 0 && errno != EINTR)
            return oss_err_errno(err, "waitpid runsc");
        if (now_ms() > deadline && !timed_out) {
            kill(pid, SIGKILL);
            timed_out = true;
        }
        sleep_ms(pause);
        if (pause < 20)
            pause += 2;
    }
    int msg[2] = {0, 0};
    ssize_t got = OSS_RETRY_EINTR(read(rd, msg, sizeof msg));

    /* what runsc said (the tail of its output) */
    _cleanup_buf_ oss_buf text = OSS_BUF_INIT;
    int src = out_fd >= 0 ? out_fd : cap;
    off_t end = lseek(src, 0, SEEK_END);
    off_t from = end - start > OUTPUT_MAX ? end - OUTPUT_MAX : start;
    if (end > from && oss_buf_reserve(&text, (size_t)(end - from) + 1) == 0) {
        ssize_t n = pread(src, text.data, (size_t)(end - from), from);
        if (n > 0) {
            text.len = (size_t)n;
            text.data[n] = '\0';
        }
    }
    if (output != NULL && text.len > 0)
        oss_buf_put(output, text.data, text.len);

    if (got == (ssize_t)sizeof msg) {
        errno = msg[1];
        return oss_err_errno(err, "runsc child: %s",
                             step_names[msg[0] >= 0 && msg[0] < 6 ? msg[0] : 5]);
    }
    if (timed_out)
        return oss_err(err, OSS_ERR_TIMEOUT, ETIMEDOUT, "runsc %s timed out after %lld ms", args[0],
                       (long long)timeout_ms);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        _cleanup_buf_ oss_buf t = OSS_BUF_INIT;
        tail_into(&t, text.data != NULL ? text.data : "", text.len);
        return oss_err(err, OSS_ERR_ERRNO, EIO, "runsc %s failed (%s %d): %s", args[0],
                       WIFEXITED(status) ? "exit" : "signal",
                       WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status),
                       t.data != NULL ? t.data : "");
    }
    return 0;
}

void drv_runsc_cid(const struct drv_runsc_cmd *c, const char *id, char out[DRV_RUNSC_CID_MAX])
{
    snprintf(out, DRV_RUNSC_CID_MAX, "%s%s", c->prefix != NULL ? c->prefix : "", id);
}

int drv_runsc_state(const struct drv_runsc_cmd *c, const char *id, char *ret_status, size_t n,
                    int *ret_pid, oss_error *err)
{
    _cleanup_buf_ oss_buf out = OSS_BUF_INIT;
    char cid[DRV_RUNSC_CID_MAX];
    drv_runsc_cid(c, id, cid);
    const char *args[] = {"state", cid, NULL};
    oss_error e = {0};
    if (drv_runsc_run(c, args, -1, 30000, &out, &e) < 0) {
        if (e.domain != OSS_ERR_TIMEOUT && out.data != NULL &&
            (strstr(out.data, "does not exist") != NULL || strstr(out.data, "not found") != NULL ||
             strstr(out.data, "no such") != NULL)) {
            snprintf(ret_status, n, "missing");
            *ret_pid = 0;
            return 0;
        }
        *err = e;
        return -1;
    }
    /* runsc state prints the JSON after possible warnings: find the object */
    const char *brace = out.data != NULL ? strchr(out.data, '{') : NULL;
    json_object *o = brace != NULL ? json_tokener_parse(brace) : NULL;
    json_object *st = NULL, *pid = NULL;
    if (o == NULL || !json_object_object_get_ex(o, "status", &st)) {
        json_object_put(o);
        return oss_err(err, OSS_ERR_INVALID, EINVAL, "runsc state %s: unexpected output", id);
    }
    snprintf(ret_status, n, "%s", json_object_get_string(st));
    *ret_pid = json_object_object_get_ex(o, "pid", &pid) ? json_object_get_int(pid) : 0;
    json_object_put(o);
    return 0;
}

int drv_runsc_destroy(const struct drv_runsc_cmd *c, const char *id, oss_error *err)
{
    char st[32];
    int pid = 0;
    if (drv_runsc_state(c, id, st, sizeof st, &pid, err) < 0)
        return -1;
    if (strcmp(st, "missing") == 0)
        return 0;
    char cid[DRV_RUNSC_CID_MAX];
    drv_runsc_cid(c, id, cid);
    if (strcmp(st, "running") == 0 || strcmp(st, "paused") == 0) {
        const char *kill_args[] = {"kill", cid, "KILL", NULL};
        (void)drv_runsc_run(c, kill_args, -1, 30000, NULL, &(oss_error){0});
    }
    const char *del[] = {"delete", "-force", cid, NULL};
    if (drv_runsc_run(c, del, -1, 60000, NULL, err) < 0) {
        /* gone meanwhile is fine */
        if (drv_runsc_state(c, id, st, sizeof st, &pid, &(oss_error){0}) == 0 &&
            strcmp(st, "missing") == 0)
            return 0;
        return -1;
    }
    return 0;
}

int drv_runsc_list(const struct drv_runsc_cmd *c, char ***ret, oss_error *err)
{
    _cleanup_buf_ oss_buf out = OSS_BUF_INIT;
    const char *args[] = {"list", "-quiet", NULL};
    if (drv_runsc_run(c, args, -1, 30000, &out, err) < 0)
        return -1;
    size_t n = 0;
    char **v = calloc(1, sizeof *v);
    if (v == NULL)
        abort();
    char *save = NULL;
    for (char *line = strtok_r(out.data != NULL ? out.data : (char[]){""}, "\n", &save);
         line != NULL; line = strtok_r(NULL, "\n", &save)) {
        size_t pl = c->prefix != NULL ? strlen(c->prefix) : 0;
        if (line[0] == '\0' || strchr(line, ' ') != NULL || strncmp(line, c->prefix, pl) != 0 ||
            line[pl] == '\0')
            continue; /* warnings and containers that are not ours */
        line += pl;
        char **nv = realloc(v, (n + 2) * sizeof *nv);
        if (nv == NULL)
            abort();
        v = nv;
        v[n] = strdup(line);
        if (v[n] == NULL)
            abort();
        v[++n] = NULL;
    }
    *ret = v;
    return 0;
}
