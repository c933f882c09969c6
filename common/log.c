#include "log.h"
#include "buf.h"
#include "json.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static const char *log_component = "oss";
static enum oss_log_level log_level = OSS_LOG_WARN;
static enum oss_log_format log_format = OSS_LOG_TEXT;

/* Non-blocking mode (oss_log_nonblocking): where lines go, how, and what
 * waits.  The backlog is a plain byte queue of whole lines; a line that does
 * not fit is dropped and counted, never partly queued. */
enum out_kind { OUT_BLOCKING = 0, OUT_NONBLOCK_FD, OUT_SOCKET };
static enum out_kind out_kind = OUT_BLOCKING;
static const char *out_mode = "blocking";
static int out_fd = STDERR_FILENO;
static char backlog[OSS_LOG_BACKLOG_MAX];
static size_t backlog_len;
static unsigned long long dropped_lines;

static const char *const level_names[] = {"error", "warn", "info", "debug", "trace"};

void oss_log_setup(const char *component, enum oss_log_level level, enum oss_log_format fmt)
{
    if (component)
        log_component = component;
    log_level = level;
    log_format = fmt;
}

enum oss_log_level oss_log_get_level(void)
{
    return log_level;
}

int oss_log_level_parse(const char *s, enum oss_log_level *ret_level)
{
    for (unsigned i = 0; i < sizeof level_names / sizeof level_names[0]; i++) {
        if (strcasecmp(s, level_names[i]) == 0 || (s[0] == (char)('0' + i) && s[1] == '\0')) {
            *ret_level = (enum oss_log_level)i;
            return 0;
        }
    }
    if (strcasecmp(s, "warning") == 0) {
        *ret_level = OSS_LOG_WARN;
        return 0;
    }
    return -1;
}

/* One non-blocking attempt; returns bytes written, 0 when it would block,
 * -1 when the output is gone (the line is then as good as written). */
static ssize_t try_write(const char *p, size_t n)
{
    for (;;) {
        ssize_t w = out_kind == OUT_SOCKET ? send(out_fd, p, n, MSG_DONTWAIT | MSG_NOSIGNAL)
                                           : write(out_fd, p, n);
        if (w >= 0)
            return w;
        if (errno == EINTR)
            continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK)
            return 0;
        return -1;
    }
}

int oss_log_flush(void)
{
    int saved = errno;
    while (backlog_len > 0) {
        ssize_t w = try_write(backlog, backlog_len);
        if (w == 0)
            break;
        size_t done = w < 0 ? backlog_len : (size_t)w; /* output gone: discard */
        memmove(backlog, backlog + done, backlog_len - done);
        backlog_len -= done;
    }
    errno = saved;
    return backlog_len > 0 ? 1 : 0;
}

static void emit(const char *p, size_t n)
{
    if (out_kind == OUT_BLOCKING) {
        size_t off = 0;
        while (off < n) {
            ssize_t w = write(out_fd, p + off, n - off);
            if (w < 0 && errno == EINTR)
                continue;
            if (w <= 0)
                break;
            off += (size_t)w;
        }
        return;
    }
    /* Lines keep their order: nothing new goes out before the backlog. */
    if (oss_log_flush() == 0) {
        ssize_t w = try_write(p, n);
        if (w < 0 || (size_t)w == n)
            return;
        p += w;
        n -= (size_t)w;
    }
    if (n > sizeof backlog - backlog_len) {
        dropped_lines++;
        return;
    }
    memcpy(backlog + backlog_len, p, n);
    backlog_len += n;
}

void oss_log_raw(const char *line, size_t n)
{
    int saved = errno;
    emit(line, n);
    errno = saved;
}

int oss_log_nonblocking(void)
{
    struct stat st;
    if (fstat(STDERR_FILENO, &st) < 0)
        return -1;
    if (S_ISREG(st.st_mode)) {
        out_mode = "file"; /* a file never stays full; its offset must stay shared */
        return 0;
    }
    if (S_ISSOCK(st.st_mode)) {
        out_kind = OUT_SOCKET; /* MSG_DONTWAIT: per call, nothing shared changes */
        out_mode = "socket";
        return 0;
    }
    /* A pipe or a terminal: O_NONBLOCK on fd 2 would change the open file
     * description the child shares, and the child's writes would fail with
     * EAGAIN.  Opening it again through /proc gives the shim a description
     * of its own for the same pipe or terminal. */
    char path[64];
    snprintf(path, sizeof path, "/proc/self/fd/%d", STDERR_FILENO);
    int fd = open(path, O_WRONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
    if (fd < 0)
        return -1;
    out_fd = fd;
    out_kind = OUT_NONBLOCK_FD;
    out_mode = "reopened";
    return 0;
}

int oss_log_pending_fd(void)
{
    return out_kind != OUT_BLOCKING && backlog_len > 0 ? out_fd : -1;
}

void oss_log_get_stats(struct oss_log_stats *ret)
{
    *ret = (struct oss_log_stats){
        .mode = out_mode,
        .backlog_bytes = backlog_len,
        .dropped_lines = dropped_lines,
    };
}

void oss_log(enum oss_log_level level, const char *fmt, ...)
{
    int saved = errno;
    if (level > log_level) {
        errno = saved;
        return;
    }
    char msg[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);

    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);

    /* A single write() per line keeps lines whole when several processes
     * (the shim, its probe children) share stderr. */
    oss_buf b = OSS_BUF_INIT;
    if (log_format == OSS_LOG_JSON) {
        oss_json j;
        oss_json_init(&j, &b);
        oss_json_obj_begin(&j);
        oss_json_kv_int(&j, "ts_ms", (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000);
        oss_json_kv_str(&j, "level", level_names[level]);
        oss_json_kv_str(&j, "component", log_component);
        oss_json_kv_int(&j, "pid", (long long)getpid());
        oss_json_kv_str(&j, "msg", msg);
        oss_json_obj_end(&j);
        oss_buf_putc(&b, '\n');
    } else {
        struct tm tm;
        gmtime_r(&ts.tv_sec, &tm);
        oss_buf_printf(&b, "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ %s[%ld] %s: %s\n",
                       tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
                       tm.tm_sec, ts.tv_nsec / 1000000, log_component, (long)getpid(),
                       level_names[level], msg);
    }
    if (oss_buf_failed(&b))
        dropped_lines++; /* out of memory: the line is lost, the count says so */
    else if (b.data)
        emit(b.data, b.len);
    oss_buf_free(&b);
    errno = saved;
}
