/* Running runsc.  Every call is fork + execve with an argv array (never a
 * shell), in a child that first makes itself a private mount namespace
 * whose /proc/sys is a copy without net/core/rmem_default: Debian's runsc
 * decides "root network namespace" by that file's presence and refuses
 * --network=sandbox there, and kernel 6.18 shows it in every namespace
 * (docs/platform/gvisor.md,
 * "Networking under Debian's runsc").  The copy is only ever seen by runsc. */
#include "internal.h"

#include "cleanup.h"
#include "fs.h"
#include "drv_util.h"
#include "util.h"

#include <dirent.h>
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
#include <sys/file.h>
#include <sys/mount.h>
#include <sys/prctl.h>
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

/* Only async-signal-safe calls between fork and exec: the driver has
 * threads.  Failures are reported through the CLOEXEC pipe as an errno
 * and the step. */
static void __attribute__((noreturn))
exec_runsc(const struct drv_runsc_cmd *c, char *const *argv, int devnull, int out, int report)
{
    int step = 1;
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

/* "<word> <n>\n" without stdio (async-signal-safe) */
static void put_word_num(int fd, const char *word, long v)
{
    char buf[48];
    size_t k = 0;
    for (const char *w = word; *w != '\0' && k < 20; w++)
        buf[k++] = *w;
    buf[k++] = ' ';
    char digits[24];
    size_t nd = 0;
    unsigned long u = v < 0 ? (unsigned long)-v : (unsigned long)v;
    do {
        digits[nd++] = (char)('0' + u % 10);
        u /= 10;
    } while (u != 0 && nd < sizeof digits);
    if (v < 0)
        buf[k++] = '-';
    while (nd > 0)
        buf[k++] = digits[--nd];
    buf[k++] = '\n';
    (void)!write(fd, buf, k);
}

/* The monitor: the driver's child, in a session of its own (signals sent to
 * the driver's process group do not reach runsc), holding the op file's
 * lock (taken by the driver before the fork, shared through the inherited
 * open file description) until runsc has exited and its status is written
 * there.  The driver dying, even by SIGKILL, does not end the monitor: a
 * restarted driver waits for the lock before it settles any record
 * (drv_runsc_ops_drain), so no runsc child of a dead driver still runs
 * then, and a checkpoint that finished has "exit 0" on record. */
static void __attribute__((noreturn)) monitor(const struct drv_runsc_cmd *c, char *const *argv,
                                              int devnull, int out, int report, int opfd)
{
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    struct sigaction dfl = {.sa_handler = SIG_DFL};
    sigaction(SIGPIPE, &dfl, NULL); /* the driver ignores it; runsc must not inherit that */
    prctl(PR_SET_NAME, "oss-runsc-mon", 0, 0, 0); /* never reaped by reap_adopted */
    if (setsid() < 0) {
        int msg[2] = {0, errno};
        (void)!write(report, msg, sizeof msg);
        _exit(127);
    }
    if (opfd >= 0)
        put_word_num(opfd, "pid", (long)getpid());
    pid_t pid = fork();
    if (pid < 0) {
        int msg[2] = {5, errno};
        (void)!write(report, msg, sizeof msg);
        _exit(127);
    }
    if (pid == 0)
        exec_runsc(c, argv, devnull, out, report);
    /* drop every other inherited descriptor (other operations' op files
     * among them) so this monitor holds only its own lock */
    if (opfd >= 0) {
        if (opfd > 3)
            close_range(3, (unsigned)opfd - 1, 0);
        close_range((unsigned)opfd + 1, ~0U, 0);
    } else {
        close_range(3, ~0U, 0);
    }
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    int code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    if (opfd >= 0)
        put_word_num(opfd, WIFEXITED(status) ? "exit" : "signal",
                     WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status));
    _exit(code);
}

static const char *const step_names[] = {"setsid or fork", "unshare(CLONE_NEWNS)",
                                         "make / rslave",  "bind /proc/sys copy",
                                         "dup2",           "execv"};

static void tail_into(oss_buf *dst, const char *data, size_t len)
{
    size_t keep = 600;
    const char *p = len > keep ? data + len - keep : data;
    size_t n = len > keep ? keep : len;
    for (size_t i = 0; i < n; i++)
        oss_buf_putc(dst, p[i] == '\n' ? ' ' : p[i]);
}

/* ---- adopted runsc processes ---- */

static void read_small(const char *path, char *out, size_t n)
{
    out[0] = '\0';
    _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return;
    ssize_t r = OSS_RETRY_EINTR(read(fd, out, n - 1));
    out[r > 0 ? r : 0] = '\0';
}

int drv_runsc_subreaper(oss_error *err)
{
    if (prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) < 0)
        return oss_err_errno(err, "PR_SET_CHILD_SUBREAPER");
    return 0;
}

/* Reaps exited children this driver adopted as a subreaper: the sandbox and
 * gofer processes ("exe": runsc re-executes itself) a `runsc run`/`restore`
 * left when it exited, and a runsc whose monitor was killed.  The driver's
 * own forks (monitors, netns helpers) are never "exe" or "runsc...": their
 * waiters reap them. */
static void reap_adopted(void)
{
    _cleanup_closedir_ DIR *tasks = opendir("/proc/self/task");
    if (tasks == NULL)
        return;
    struct dirent *t;
    while ((t = readdir(tasks)) != NULL) {
        if (t->d_name[0] == '.')
            continue;
        char p[96], kids[4096];
        snprintf(p, sizeof p, "/proc/self/task/%.32s/children", t->d_name);
        read_small(p, kids, sizeof kids);
        for (char *save = NULL, *w = strtok_r(kids, " \n", &save); w != NULL;
             w = strtok_r(NULL, " \n", &save)) {
            long pid = strtol(w, NULL, 10);
            char stat[256];
            snprintf(p, sizeof p, "/proc/%ld/stat", pid);
            read_small(p, stat, sizeof stat);
            /* "pid (comm) S ..." */
            char *open_ = strchr(stat, '('), *close_ = strrchr(stat, ')');
            if (pid <= 1 || open_ == NULL || close_ == NULL || close_[1] != ' ' || close_[2] != 'Z')
                continue;
            *close_ = '\0';
            const char *comm = open_ + 1;
            if (strcmp(comm, "exe") == 0 || strncmp(comm, "runsc", 5) == 0)
                (void)waitpid((pid_t)pid, NULL, WNOHANG);
        }
    }
}

/* execv's argv is char *const[] for historical reasons; it does not write */
static char *unconst(const char *s)
{
    return (char *)(uintptr_t)s;
}

int drv_runsc_run(const struct drv_runsc_cmd *c, const char *const *args, int out_fd,
                  int64_t timeout_ms, oss_buf *output, oss_error *err)
{
    return drv_runsc_run_op(c, NULL, args, out_fd, timeout_ms, output, err);
}

static unsigned long op_seq;

int drv_runsc_run_op(const struct drv_runsc_cmd *c, const char *op_name, const char *const *args,
                     int out_fd, int64_t timeout_ms, oss_buf *output, oss_error *err)
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

    /* the op file: locked here, before the fork, so there is no moment
     * when runsc runs and nobody holds the lock */
    char oppath[4096] = "";
    _cleanup_close_ int opfd = -1;
    if (c->ops_dir != NULL) {
        if (op_name != NULL)
            snprintf(oppath, sizeof oppath, "%s/%s", c->ops_dir, op_name);
        else
            snprintf(oppath, sizeof oppath, "%s/run-%ld-%lu", c->ops_dir, (long)getpid(),
                     __atomic_add_fetch(&op_seq, 1, __ATOMIC_RELAXED));
        opfd = open(oppath, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC | O_APPEND, 0600);
        if (opfd < 0)
            return oss_err_errno(err, "opening %s", oppath);
        if (flock(opfd, LOCK_EX | LOCK_NB) < 0)
            return oss_err_errno(err, "locking %s (another runsc operation holds it)", oppath);
    }

    pid_t pid = fork();
    if (pid < 0)
        return oss_err_errno(err, "fork");
    if (pid == 0)
        monitor(c, argv, devnull, out_fd >= 0 ? out_fd : cap, wr, opfd);
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
        /* `runsc delete` and `kill` wait until the sandbox process is gone:
         * a zombie the driver adopted is gone only once reaped here */
        reap_adopted();
        if (now_ms() > deadline && !timed_out) {
            kill(-pid, SIGKILL); /* the monitor's session: it and runsc */
            kill(pid, SIGKILL);
            timed_out = true;
        }
        drv_sleep_ms(pause);
        if (pause < 20)
            pause += 2;
    }
    int msg[2] = {0, 0};
    ssize_t got = OSS_RETRY_EINTR(read(rd, msg, sizeof msg));
    /* the operation is over and the caller settles it now: the file is
     * only for a driver that died before this point */
    if (oppath[0] != '\0' && op_name == NULL)
        unlink(oppath);

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

/* ---- operations a dead driver left running ---- */

int drv_runsc_op_status(const char *path)
{
    _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    char buf[256];
    ssize_t n = OSS_RETRY_EINTR(pread(fd, buf, sizeof buf - 1, 0));
    if (n <= 0)
        return -1;
    buf[n] = '\0';
    const char *e = strstr(buf, "\nexit ");
    if (e == NULL)
        return -1; /* never finished, or killed by a signal */
    char *end = NULL;
    long v = strtol(e + 6, &end, 10);
    return end != e + 6 && *end == '\n' && v >= 0 && v < 256 ? (int)v : -1;
}

static pid_t op_pid(int fd)
{
    char buf[64];
    ssize_t n = OSS_RETRY_EINTR(pread(fd, buf, sizeof buf - 1, 0));
    if (n <= 4)
        return 0;
    buf[n] = '\0';
    if (strncmp(buf, "pid ", 4) != 0)
        return 0;
    long v = strtol(buf + 4, NULL, 10);
    return v > 1 ? (pid_t)v : 0;
}

int drv_runsc_ops_drain(const char *ops_dir, int64_t wait_ms, unsigned *ret_waited, oss_error *err)
{
    _cleanup_closedir_ DIR *d = opendir(ops_dir);
    if (d == NULL)
        return errno == ENOENT ? 0 : oss_err_errno(err, "opendir %s", ops_dir);
    unsigned waited = 0;
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        if (de->d_name[0] == '.')
            continue;
        char p[4096];
        snprintf(p, sizeof p, "%s/%s", ops_dir, de->d_name);
        _cleanup_close_ int fd = open(p, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
            continue;
        /* the monitor holds the lock while its runsc runs: wait for it,
         * then end it if it outlives the bound (runsc's own timeouts are
         * shorter: this is only for a wedged runsc) */
        int64_t deadline = now_ms() + wait_ms;
        bool counted = false;
        while (flock(fd, LOCK_EX | LOCK_NB) < 0) {
            if (errno != EWOULDBLOCK && errno != EINTR)
                return oss_err_errno(err, "locking %s", p);
            if (!counted) {
                waited++;
                counted = true;
            }
            if (now_ms() > deadline) {
                pid_t pid = op_pid(fd);
                if (pid > 1) {
                    kill(-pid, SIGKILL);
                    kill(pid, SIGKILL);
                }
                if (OSS_RETRY_EINTR(flock(fd, LOCK_EX)) < 0)
                    return oss_err_errno(err, "locking %s", p);
                break;
            }
            drv_sleep_ms(10);
        }
        /* a checkpoint's outcome stays for reconcile; the rest are done */
        size_t len = strlen(de->d_name);
        if (len < 11 || strcmp(de->d_name + len - 11, ".checkpoint") != 0)
            unlink(p);
    }
    if (ret_waited != NULL)
        *ret_waited = waited;
    return 0;
}
