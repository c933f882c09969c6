/* The shim's whole configuration, produced from argv + environment by
 * shim_config_parse() (cli.c) before anything has side effects.  Every
 * module reads its options from here. */
#ifndef SHIM_CONFIG_H
#define SHIM_CONFIG_H

#include "log.h"

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

/* Exit codes of the shim's own (not the child's). */
#define SHIM_EXIT_USAGE  125 /* bad flags/env, or setup failed before the child started */
#define SHIM_EXIT_POLICY 124 /* a required protection is unavailable (degrade policy) */

enum shim_command {
    SHIM_CMD_RUN = 0,
    SHIM_CMD_DOCTOR,
    SHIM_CMD_NOTIFY,
    SHIM_CMD_NETSTAT,
    SHIM_CMD_HELP,
    SHIM_CMD_VERSION,
};

/* --golden: what the shim does while the identity file names another actor
 * (the golden boot Substrate snapshots, see docs/platform/substrate.md). */
enum shim_golden {
    SHIM_GOLDEN_DEFAULT = 0, /* hold when --actor is given, else run */
    SHIM_GOLDEN_HOLD,        /* probes and readyz only; the supervisor waits */
    SHIM_GOLDEN_RUN,         /* start the supervisor at once */
};

enum shim_restart {
    SHIM_RESTART_NEVER = 0,
    SHIM_RESTART_ON_FAILURE,
    SHIM_RESTART_ALWAYS,
};

/* Bootstrap subsystems, as bits for the degrade and probe sets. */
enum shim_subsys {
    SHIM_SUB_NETNS = 0,
    SHIM_SUB_SECCOMP,
    SHIM_SUB_LANDLOCK,
    SHIM_SUB_PRIVDROP,
    SHIM_SUB_COUNT,
};
#define SHIM_SUB_BIT(s) (1u << (s))
#define SHIM_SUB_ALL    ((1u << SHIM_SUB_COUNT) - 1)

enum shim_fallback_seccomp {
    SHIM_FALLBACK_AUTO = 0,
    SHIM_FALLBACK_PRELUDE,
    SHIM_FALLBACK_WORKLOAD,
    SHIM_FALLBACK_OFF,
};

/* Which switches the shim sets for the supervisor (docs/probes.md, the
 * supervisor contract): OpenShell pull request 1549's OPENSHELL_SKIP_BOOTSTRAP,
 * pull request 1548's OPENSHELL_BEST_EFFORT_FAILURES, both, or none. */
enum shim_supervisor_contract {
    SHIM_CONTRACT_BOTH = 0,
    SHIM_CONTRACT_SKIP_BOOTSTRAP,
    SHIM_CONTRACT_BEST_EFFORT,
    SHIM_CONTRACT_NONE,
};
const char *shim_contract_name(enum shim_supervisor_contract c);

/* How the netns probe puts the veth peer into its namespace (netns.h,
 * peer_at_create): auto moves it under gVisor and creates it inside on a
 * Linux kernel, where the two are the same question and the move alone
 * waits for RCU. */
enum shim_netns_probe {
    SHIM_NETNS_PROBE_AUTO = 0,
    SHIM_NETNS_PROBE_MOVE,
    SHIM_NETNS_PROBE_CREATE,
};

struct shim_config {
    enum shim_command command;

    /* init (tini-compatible) */
    bool subreaper;         /* -s, or implied when not PID 1 */
    bool kill_group;        /* -g */
    int pdeath_signal;      /* -p, 0 = none */
    uint8_t remap_exit[32]; /* -e bitset over 0..255 */
    bool warn_foreign;      /* -w */
    int verbosity;          /* -v count */
    enum oss_log_level log_level;
    enum oss_log_format log_format;

    /* supervision */
    enum shim_restart restart;
    unsigned restart_max; /* restarts allowed within restart_window_ms */
    int64_t restart_window_ms;
    int64_t backoff_initial_ms;
    int64_t backoff_max_ms;
    bool stay_alive;
    int64_t stop_timeout_ms;
    /* The child's stdin is a pipe the shim keeps open and never writes, so
     * a shell meant to wait for a terminal (the gateway's default
     * "/bin/bash -l" with tty) waits instead of reading EOF from /dev/null. */
    bool hold_stdin;

    /* bootstrap probes and degrade policy */
    unsigned probe_mask;   /* which subsystems to probe; 0 = --probes=none */
    unsigned degrade_mask; /* which subsystems may be degraded */
    bool run_as_set;
    uid_t run_as_uid;
    gid_t run_as_gid;
    char *proxy_url;
    enum shim_fallback_seccomp fallback_seccomp;
    enum shim_supervisor_contract contract;
    bool token_file;           /* move OPENSHELL_SANDBOX_TOKEN into a file (default on) */
    bool proxy_env_supervisor; /* --proxy-env=supervisor: the old way, into its env */
    char *report_path;
    int64_t probe_timeout_ms;
    enum shim_netns_probe netns_probe;

    /* readiness and restore */
    int readyz_port; /* 0 = off */
    char *ready_tcp; /* "HOST:PORT" or NULL for "none" */
    char *ready_file;
    char *identity_file;
    int64_t freeze_threshold_ms; /* 0 = detection by timer off */
    char *state_dir;
    int restore_signal;    /* signal that means "you were restored", 0 = none */
    int on_restore_signal; /* delivered to the supervisor's group on restore */
    char *on_restore_exec;
    int64_t on_restore_timeout_ms;
    /* The golden boot: the actor this shim serves (--actor) and whether the
     * supervisor waits until the identity file names it (--golden). */
    char *actor;
    enum shim_golden golden;

    /* doctor / notify */
    bool json;
    char *notify_what;

    /* the child's argv (points into the caller's argv) */
    int child_argc;
    char **child_argv;
};

/* Fills cfg with defaults, then applies the environment, then argv (flags
 * win over env).  Pure: no I/O, nothing started.  On failure err says what
 * was wrong in one line. */
struct oss_error;
int shim_config_parse(int argc, char **argv, char *const *envp, struct shim_config *cfg,
                      struct oss_error *err);
void shim_config_free(struct shim_config *cfg);

const char *shim_subsys_name(enum shim_subsys s);
/* Parses "netns,seccomp", "all", "none" into a mask. */
int shim_subsys_list_parse(const char *s, unsigned *ret_mask, struct oss_error *err);

static inline bool shim_exit_remapped(const struct shim_config *c, int code)
{
    return code >= 0 && code < 256 && (c->remap_exit[code >> 3] & (1u << (code & 7)));
}

#endif
