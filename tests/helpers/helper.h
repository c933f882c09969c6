/* Shared bits of the test helper programs: signal and errno names, integer
 * parsing.  Header-only so that every helper stays one .c file that can be
 * linked statically and copied into a minimal root filesystem.
 *
 * These are test tools: they print to stderr and exit, they are not library
 * code, so the project's oss_error rules do not apply here. */
#ifndef OSS_TEST_HELPER_H
#define OSS_TEST_HELPER_H

#include <ctype.h>
#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Exit code of every helper for bad usage, as env(1) and timeout(1) use it. */
#define HELPER_EXIT_USAGE 125

static inline bool helper_parse_long(const char *s, long min, long max, long *ret)
{
    if (s == NULL ||
        !(isdigit((unsigned char)s[0]) || (s[0] == '-' && isdigit((unsigned char)s[1]))))
        return false;
    char *end = NULL;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno != 0 || *end != '\0' || v < min || v > max)
        return false;
    *ret = v;
    return true;
}

/* "SIGTERM", "TERM", "term", "15", "SIGRTMIN+2", "RTMAX-1". */
static inline bool helper_parse_signal(const char *s, int *ret_sig)
{
    long n;
    if (helper_parse_long(s, 1, SIGRTMAX, &n)) {
        *ret_sig = (int)n;
        return true;
    }
    if (strncasecmp(s, "SIG", 3) == 0) {
        s += 3;
        /* "SIG33": how helper_signal_name() spells glibc's internal signals */
        if (helper_parse_long(s, 1, SIGRTMAX, &n)) {
            *ret_sig = (int)n;
            return true;
        }
    }
    if (strncasecmp(s, "RTMIN", 5) == 0 || strncasecmp(s, "RTMAX", 5) == 0) {
        bool max = toupper((unsigned char)s[3]) == 'A';
        long off = 0;
        if (s[5] != '\0' && (!(s[5] == '+' || s[5] == '-') ||
                             !helper_parse_long(s + 6, 0, SIGRTMAX - SIGRTMIN, &off)))
            return false;
        int sig = max ? SIGRTMAX - (s[5] == '-' ? (int)off : -(int)off)
                      : SIGRTMIN + (s[5] == '-' ? -(int)off : (int)off);
        if (sig < SIGRTMIN || sig > SIGRTMAX)
            return false;
        *ret_sig = sig;
        return true;
    }
    for (int sig = 1; sig < SIGRTMIN; sig++) {
        const char *abbrev = sigabbrev_np(sig);
        if (abbrev && strcasecmp(abbrev, s) == 0) {
            *ret_sig = sig;
            return true;
        }
    }
    return false;
}

/* "SIGUSR1", "SIGRTMIN+3", "SIG32" (glibc-internal signals have no name). */
static inline const char *helper_signal_name(int sig, char *buf, size_t len)
{
    const char *abbrev = sig < SIGRTMIN ? sigabbrev_np(sig) : NULL;
    if (abbrev)
        snprintf(buf, len, "SIG%s", abbrev);
    else if (sig >= SIGRTMIN && sig <= SIGRTMAX)
        snprintf(buf, len, "SIGRTMIN+%d", sig - SIGRTMIN);
    else
        snprintf(buf, len, "SIG%d", sig);
    return buf;
}

#define OSS_HELPER_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* "EPERM", "eperm", "1". */
static inline bool helper_parse_errno(const char *s, int *ret_errno)
{
    long n;
    if (helper_parse_long(s, 1, 4095, &n)) {
        *ret_errno = (int)n;
        return true;
    }
    for (int e = 1; e < 4096; e++) {
        const char *name = strerrorname_np(e);
        if (name && strcasecmp(name, s) == 0) {
            *ret_errno = e;
            return true;
        }
    }
    return false;
}

struct helper_proc {
    long pid, ppid, pgid;
    char state;
    char comm[64]; /* spaces, newlines and '=' replaced by '_' */
};

/* Parses the text of /proc/<pid>/stat ("pid (comm) S ppid pgrp ...").  comm
 * may hold spaces and parentheses, so it ends at the LAST ')'. */
static inline bool helper_parse_stat(const char *buf, struct helper_proc *ret)
{
    const char *open = strchr(buf, '('), *close = strrchr(buf, ')');
    if (!open || !close || close < open || close[1] != ' ')
        return false;
    struct helper_proc p = {0};
    char *end = NULL;
    errno = 0;
    p.pid = strtol(buf, &end, 10);
    if (errno != 0 || end == buf || *end != ' ' || end + 1 != open || p.pid <= 0)
        return false;
    size_t len = (size_t)(close - open - 1);
    if (len >= sizeof p.comm)
        len = sizeof p.comm - 1;
    memcpy(p.comm, open + 1, len);
    for (char *c = p.comm; *c; c++)
        if (*c == ' ' || *c == '\n' || *c == '=')
            *c = '_'; /* keep key=value output parseable */
    if (sscanf(close + 2, "%c %ld %ld", &p.state, &p.ppid, &p.pgid) != 3)
        return false;
    *ret = p;
    return true;
}

#endif
