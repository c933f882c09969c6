/* Logging to stderr only: stdout belongs to the child.  One line per event,
 * text or JSON (for log shippers).  oss_log() preserves errno so it can sit
 * between a failing call and the code that inspects errno. */
#ifndef OSS_LOG_H
#define OSS_LOG_H

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

void oss_log(enum oss_log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define log_error(...) oss_log(OSS_LOG_ERROR, __VA_ARGS__)
#define log_warn(...)  oss_log(OSS_LOG_WARN, __VA_ARGS__)
#define log_info(...)  oss_log(OSS_LOG_INFO, __VA_ARGS__)
#define log_debug(...) oss_log(OSS_LOG_DEBUG, __VA_ARGS__)
#define log_trace(...) oss_log(OSS_LOG_TRACE, __VA_ARGS__)

#endif
