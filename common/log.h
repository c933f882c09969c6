/* Logging to stderr only: stdout belongs to the child.  One line per event,
 * text or JSON (for log shippers).  oss_log() preserves errno so it can sit
 * between a failing call and the code that inspects errno. */
#ifndef OSS_LOG_H
#define OSS_LOG_H

#include <stddef.h>

enum oss_log_level {
    OSS_LOG_ERROR = 0,
    OSS_LOG_WARN = 1,
    OSS_LOG_INFO = 2,
    OSS_LOG_DEBUG = 3,
    OSS_LOG_TRACE = 4,
};

enum oss_log_format {
    OSS_LOG_TEXT = 0,
    OSS_LOG_JSON = 1,
};

void oss_log_setup(const char *component, enum oss_log_level level, enum oss_log_format fmt);
enum oss_log_level oss_log_get_level(void);

/* Parses "error|warn|info|debug|trace" or "0".."4"; returns -1 when unknown. */
int oss_log_level_parse(const char *s, enum oss_log_level *ret_level);

/* Makes every later log write non-blocking (PID 1 must never wait for a
 * stalled stderr reader): lines that cannot be written now wait in a bounded
 * in-memory backlog of OSS_LOG_BACKLOG_MAX bytes; a line that does not fit
 * is dropped and counted.  A pipe or terminal is reopened through /proc so
 * the child, which shares stderr, keeps its blocking writes; a socket is
 * written with MSG_DONTWAIT; a regular file stays as it is.  -1 with errno
 * when stderr could not be reopened (the log then stays blocking). */
#define OSS_LOG_BACKLOG_MAX (64 * 1024)
int oss_log_nonblocking(void);
/* Writes what the backlog holds as far as the output takes it; 1 while
 * something is left, 0 when empty. */
int oss_log_flush(void);
/* Writes a preformatted line (an OCSF record) the way log lines go. */
void oss_log_raw(const char *line, size_t n);
/* The fd to wait on for POLLOUT while the backlog is not empty, else -1. */
int oss_log_pending_fd(void);
struct oss_log_stats {
    /* "blocking" (before oss_log_nonblocking, or when it failed), "file"
     * (a regular file, written as is), "reopened" (pipe or terminal),
     * "socket" (MSG_DONTWAIT) */
    const char *mode;
    unsigned long long backlog_bytes;
    unsigned long long dropped_lines;
};
void oss_log_get_stats(struct oss_log_stats *ret);

void oss_log(enum oss_log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define log_error(...) oss_log(OSS_LOG_ERROR, __VA_ARGS__)
#define log_warn(...)  oss_log(OSS_LOG_WARN, __VA_ARGS__)
#define log_info(...)  oss_log(OSS_LOG_INFO, __VA_ARGS__)
#define log_debug(...) oss_log(OSS_LOG_DEBUG, __VA_ARGS__)
#define log_trace(...) oss_log(OSS_LOG_TRACE, __VA_ARGS__)

#endif
