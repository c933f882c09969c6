/* Bootstrap probes: each asks the runtime whether one step of the
 * supervisor's bootstrap (docs/platform/supervisor.md) would work, in a throw-away child
 * (crun's shape) so nothing it does lasts, bounded in time.
 *
 * A result is three-valued: SUPPORTED, UNSUPPORTED (the runtime refused a
 * named step with an errno: a fact about the runtime) or ERROR (the probe
 * itself could not run: timeout, crash, setup failure).  The result crosses
 * the pipe from the child as this fixed-size struct, so it holds no
 * pointers. */
#ifndef SHIM_PROBE_H
#define SHIM_PROBE_H

#include "config.h"
#include "error.h"

#include <stdbool.h>
#include <stdint.h>
#include <signal.h>
#include <sys/types.h>

enum shim_probe_status {
    SHIM_PROBE_NOT_RUN = 0,
    SHIM_PROBE_SUPPORTED,
    SHIM_PROBE_UNSUPPORTED,
    SHIM_PROBE_ERROR,
};
const char *shim_probe_status_name(enum shim_probe_status s);

/* Seccomp filter flags the probe tries one by one (bit i = entry i). */
enum shim_seccomp_flag_probe {
    SHIM_SECFLAG_NONE = 0, /* flags 0: a plain filter */
    SHIM_SECFLAG_TSYNC,
    SHIM_SECFLAG_LOG,
    SHIM_SECFLAG_NEW_LISTENER,
    SHIM_SECFLAG_COUNT,
};
const char *shim_secflag_name(enum shim_seccomp_flag_probe f);
unsigned long shim_secflag_value(enum shim_seccomp_flag_probe f);

/* What libseccomp's API level is made of (seccomp_api_get(3)), asked the
 * way libseccomp asks: seccomp(2) calls that install nothing. */
enum shim_seccomp_feature {
    SHIM_SECFEAT_SYSCALL = 0, /* seccomp(2) exists */
    SHIM_SECFEAT_FLAG_TSYNC,  /* flags: SET_MODE_FILTER with a NULL program */
    SHIM_SECFEAT_FLAG_LOG,    /*   answers EFAULT when the flag is known */
    SHIM_SECFEAT_FLAG_SPEC_ALLOW,
    SHIM_SECFEAT_FLAG_NEW_LISTENER,
    SHIM_SECFEAT_FLAG_TSYNC_ESRCH,
    SHIM_SECFEAT_ACT_LOG, /* SECCOMP_GET_ACTION_AVAIL */
    SHIM_SECFEAT_ACT_KILL_PROCESS,
    SHIM_SECFEAT_ACT_NOTIFY, /* SECCOMP_GET_NOTIF_SIZES */
    SHIM_SECFEAT_COUNT,
};
/* libseccomp 2.5's API level (1..6) by its own rule (_seccomp_api_update()):
 * each level needs the one below, and only its own questions are asked, in
 * libseccomp's order.  Pure but for has(), which answers one question. */
int shim_seccomp_api_level(bool (*has)(enum shim_seccomp_feature f, void *ctx), void *ctx);

struct shim_probe_seccomp {
    unsigned flags_ok;                  /* bit per enum shim_seccomp_flag_probe */
    int flag_errno[SHIM_SECFLAG_COUNT]; /* 0 when accepted */
    int api_level;                      /* libseccomp's, shim_seccomp_api_level() */
    /* The supervisor loads two programs (docs/platform/supervisor.md, the
     * two seccomp programs): its prelude on itself (NO_NEW_PRIVS + TSYNC)
     * and the workload filter in the child (flags 0, argument compares).
     * 0 when that program loaded, else the errno; -1 when not tried. */
    int prelude_err;
    int workload_err;
};

struct shim_probe_landlock {
    int abi; /* >= 1 when supported */
};

struct shim_probe_privdrop {
    uint64_t cap_effective, cap_permitted, cap_bounding; /* bit n = capability n */
    uid_t uid;                                           /* the identity tried */
    gid_t gid;
    bool already; /* the process already runs as uid:gid: nothing to switch */
};

struct shim_probe_netns {
    bool peer_at_create; /* the peer was created inside, not moved (probe/netns.c) */
};

struct shim_probe_result {
    enum shim_probe_status status;
    char step[32]; /* failing step when UNSUPPORTED/ERROR ("veth", "load_tsync", ...) */
    int err;       /* errno of that step, 0 otherwise */
    char detail[192];
    int64_t usec;   /* wall time of the probe */
    bool lingering; /* answered early (shim_probe_answer_early): the child is still at work */
    union {
        struct shim_probe_netns netns;
        struct shim_probe_seccomp seccomp;
        struct shim_probe_landlock landlock;
        struct shim_probe_privdrop privdrop;
    } u;
};

/* Runtime facts: cheap reads, no child needed. */
struct shim_runtime_facts {
    bool gvisor;
    char kernel[160];    /* /proc/version, first line, truncated */
    int no_new_privs;    /* -1 when unknown */
    int seccomp_mode;    /* 0 disabled, 1 strict, 2 filter, -1 unknown */
    int seccomp_filters; /* -1 when unknown */
    uint64_t cap_effective, cap_bounding;
    bool caps_known;
    unsigned long long nofile_soft, nofile_hard; /* RLIM_INFINITY as ~0ULL */
    uid_t uid, euid;
    gid_t gid;
    bool pid1;
    int64_t usec;
};

/* /proc/self/status, the fields the report wants.  Pure parser: fields
 * absent from the text stay at -1 / false. */
struct shim_proc_status {
    int no_new_privs;
    int seccomp;
    int seccomp_filters;
    bool have_cap_eff, have_cap_bnd, have_cap_prm;
    uint64_t cap_eff, cap_bnd, cap_prm;
    long uid_real, uid_eff; /* -1 when absent */
};
void shim_proc_status_parse(const char *text, size_t len, struct shim_proc_status *ret);

/* /proc/version text -> true when it is gVisor's fixed banner. */
bool shim_is_gvisor_version(const char *text);

void shim_runtime_facts_collect(struct shim_runtime_facts *ret);

/* Runs fn(arg, result) in a forked child, which _exit()s; the parent waits
 * at most timeout_ms for the result, then kills and reaps the child.  A
 * child that dies or times out gives an ERROR result.  Fails (< 0) only when
 * the pipe or fork cannot be made. */
typedef void (*shim_probe_fn)(const void *arg, struct shim_probe_result *res);
int shim_probe_isolated(shim_probe_fn fn, const void *arg, int64_t timeout_ms,
                        struct shim_probe_result *ret, oss_error *err);

/* The same in two halves, so independent probes run side by side:
 * shim_probe_start() forks the child and returns at once; shim_probe_collect()
 * waits for its answer until start + timeout_ms (then kills and reaps it, an
 * ERROR result).  A child that answered early (ret->lingering) is still
 * cleaning up: it is NOT reaped, its pid goes to *ret_lingering and the caller
 * must reap it (shim_probe_reap, or the PID-1 loop); otherwise *ret_lingering
 * is 0.  Collect always consumes the child's pipe. */
struct shim_probe_child {
    pid_t pid;
    int rfd;
    int64_t start_ns;
    int64_t timeout_ms;
};
int shim_probe_start(shim_probe_fn fn, const void *arg, int64_t timeout_ms,
                     struct shim_probe_child *ret, oss_error *err);
void shim_probe_collect(struct shim_probe_child *c, struct shim_probe_result *ret,
                        pid_t *ret_lingering);
/* Kills (SIGKILL) and reaps a started child that will not be collected. */
void shim_probe_abandon(struct shim_probe_child *c);
/* Waits at most timeout_ms for a lingering child, then SIGKILLs it.
 * Returns its wait status, or -1 when it had to be killed or was not ours. */
int shim_probe_reap(pid_t pid, int64_t timeout_ms);

/* Inside a probe child: sends the result now and lets the probe go on
 * (cleanup that the verdict does not depend on).  The child's exit status
 * then tells whether that rest worked: the probe _exit()s non-zero itself
 * when it did not.  Returns -1 outside a runner child (answer at the end). */
int shim_probe_answer_early(struct shim_probe_result *res);

/* Runs fn(arg, result) in a child that shares the shim's memory
 * (clone(CLONE_VM|CLONE_VFORK), runner_light.c): far cheaper than fork()
 * under gVisor.  fn may only make system calls and fill the result with
 * shim_probe_mark(): no allocation, no stdio.  The shim waits until the
 * child is gone; the child kills itself (SIGALRM) after timeout_ms, a
 * timeout ERROR.  A child that dies gives an ERROR result.  Fails (< 0)
 * only when the stack or the child cannot be made. */
int shim_probe_light(shim_probe_fn fn, const void *arg, int64_t timeout_ms,
                     struct shim_probe_result *ret, oss_error *err);
/* The same for several probes in a row: one stack mapping, and one look at
 * the signal dispositions, for all of them.  Nothing may change a
 * disposition between begin and the last shim_probe_light_in(). */
struct shim_probe_light_session {
    char *map; /* guard page, stack, result page */
    size_t len, guard;
    sigset_t reset; /* fault signals (and SIGALRM) not at SIG_DFL in the shim */
};
int shim_probe_light_begin(struct shim_probe_light_session *ls, oss_error *err);
int shim_probe_light_in(struct shim_probe_light_session *ls, shim_probe_fn fn, const void *arg,
                        int64_t timeout_ms, struct shim_probe_result *ret, oss_error *err);
void shim_probe_light_end(struct shim_probe_light_session *ls);
/* shim_probe_set() for light children: no formatting, detail left empty
 * (the parent writes it once the child is gone). */
void shim_probe_mark(struct shim_probe_result *res, enum shim_probe_status st, const char *step,
                     int e);

/* The netns probe runs in a forked child (shim_probe_start): libnl
 * allocates, the namespace is made by a grandchild, and the child answers
 * before it tears down. */
struct shim_netns_probe_arg {
    unsigned tag;        /* makes the names unique: pid of the shim, usually */
    bool peer_at_create; /* create the peer inside rather than move it (netns.h) */
};
void shim_probe_netns(const void *arg, struct shim_probe_result *res);
/* Pure: whether the netns probe creates the peer inside (--netns-probe):
 * auto creates on a Linux kernel and moves under gVisor (netns.h says why). */
bool shim_netns_probe_creates(enum shim_netns_probe mode, bool gvisor);
/* Removes whatever a netns probe child killed mid-way left behind (run in
 * the parent after a timeout or crash; idempotent). */
void shim_probe_netns_cleanup(const void *arg);

/* The other probes read what they can in the shim (side-effect free) and
 * try what changes the process in a light child, in session ls.  They
 * return < 0 only when the child could not be made (then *res is unset). */
int shim_probe_seccomp(struct shim_probe_light_session *ls, int64_t timeout_ms,
                       struct shim_probe_result *res, oss_error *err);
int shim_probe_landlock(struct shim_probe_light_session *ls, int64_t timeout_ms,
                        struct shim_probe_result *res, oss_error *err);
struct shim_privdrop_probe_arg {
    uid_t uid;
    gid_t gid;
};
int shim_probe_privdrop(struct shim_probe_light_session *ls,
                        const struct shim_privdrop_probe_arg *a, int64_t timeout_ms,
                        struct shim_probe_result *res, oss_error *err);

/* Convenience for probe bodies. */
void shim_probe_set(struct shim_probe_result *res, enum shim_probe_status st, const char *step,
                    int e, const char *fmt, ...) __attribute__((format(printf, 5, 6)));

#endif
