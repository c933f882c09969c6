#include "log.h"
#include "buf.h"
#include "json.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

static const char *log_component = "oss";
static enum oss_log_level log_level = OSS_LOG_WARN;
static enum oss_log_format log_format = OSS_LOG_TEXT;

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
    if (b.data) {
        size_t off = 0;
        while (off < b.len) {
            ssize_t n = write(STDERR_FILENO, b.data + off, b.len - off);
            if (n < 0 && errno == EINTR)
                continue;
            if (n <= 0)
                break;
            off += (size_t)n;
        }
    }
    oss_buf_free(&b);
    errno = saved;
}
