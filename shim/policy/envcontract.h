/* The environment contract, pure: what the shim adds to
 * the supervisor's environment, and the environment itself.
 *
 * - OPENSHELL_SKIP_BOOTSTRAP (OpenShell pull request 1549) and
 *   OPENSHELL_BEST_EFFORT_FAILURES=1 (pull request 1548), as the contract
 *   selects, only when something is degraded and nothing is fatal (a fatal
 *   run never starts anyway).
 * - netns degraded: the proxy variables the supervisor sets only when it has
 *   a namespace, pointing at --proxy-url, so cooperating clients still go
 *   through the policy proxy.
 * - always OPENSHELL_SHIM_REPORT=<report path>.
 * Nothing the operator set is ever overridden; such a name is reported as
 * "operator" instead of "set". */
#ifndef SHIM_ENVCONTRACT_H
#define SHIM_ENVCONTRACT_H

#include "degrade.h"

#include <stdbool.h>
#include <stddef.h>

#define SHIM_ENV_MAX 24

enum shim_env_action {
    SHIM_ENV_SET = 0,  /* added by the shim */
    SHIM_ENV_OPERATOR, /* already in the base environment: left alone */
    SHIM_ENV_REMOVED,  /* taken out of the supervisor's environment */
    SHIM_ENV_WORKLOAD, /* set on the workload only (exec-env on its command line) */
};

struct shim_env_entry {
    const char *name; /* static */
    char *value;      /* owned; what the shim would set */
    enum shim_env_action action;
    bool secret_free; /* the value may appear in reports */
    const char *why;  /* static: why the shim sets it (report, doctor) */
};

struct shim_env_contract {
    struct shim_env_entry e[SHIM_ENV_MAX];
    size_t n;
};

/* Which of the two seccomp programs the runtime refused (probe/probe.h):
 * decides the seccomp tokens of OPENSHELL_SKIP_BOOTSTRAP. */
struct shim_seccomp_split {
    bool known;            /* false: the probe could not tell: both are named */
    bool prelude_refused;  /* NO_NEW_PRIVS + TSYNC program */
    bool workload_refused; /* flags 0, argument compares */
};

/* The switches of the upstream supervisor variants (docs/probes.md, the
 * supervisor contract), from the verdicts:
 * - OPENSHELL_SKIP_BOOTSTRAP (OpenShell pull request 1549): exactly the
 *   degraded subsystems in its names: netns -> "netns", seccomp ->
 *   "supervisor-seccomp" and/or "workload-seccomp" by which program was
 *   refused.  Landlock and the privilege drop have no token.
 * - OPENSHELL_BEST_EFFORT_FAILURES=1 (pull request 1548).
 * Each only when the contract selects it, something is degraded, and
 * nothing is fatal.  Writes the comma list into skip (may be empty). */
void shim_skip_bootstrap_tokens(const enum shim_verdict v[SHIM_SUB_COUNT],
                                const struct shim_seccomp_split *split, char *skip,
                                size_t skip_len);

void shim_env_contract_compute_for(const enum shim_verdict v[SHIM_SUB_COUNT],
                                   const struct shim_seccomp_split *split,
                                   enum shim_supervisor_contract contract, const char *proxy_url,
                                   const char *report_path, char *const *base_env,
                                   struct shim_env_contract *ret);

/* The token off the environment (docs/probes.md, the token file): when the
 * base holds a non-empty OPENSHELL_SANDBOX_TOKEN and no
 * OPENSHELL_SANDBOX_TOKEN_FILE, and token_path is not NULL (the shim wrote
 * the token there), the token is REMOVED and the file variable SET.  All
 * three upstream variants read the file (docs/platform/supervisor.md). */
void shim_env_contract_token(struct shim_env_contract *c, char *const *base_env,
                             const char *token_path);
/* The gateway TLS PEMs off the environment (docs/probes.md, the gateway
 * TLS files): when written is true (the shim wrote each
 * OPENSHELL_SHIM_TLS_*_PEM to its OPENSHELL_TLS_* file), the three PEM
 * variables are REMOVED; the path variables stay as the operator set them. */
void shim_env_contract_tls(struct shim_env_contract *c, char *const *base_env, bool written);
/* True when the base holds a token the shim would move. */
bool shim_env_token_movable(char *const *base_env);

/* The proxy variables the shim SETs go to the workload only: they become
 * WORKLOAD entries, left out of the supervisor's environment. */
void shim_env_contract_proxy_to_workload(struct shim_env_contract *c);
/* Pure: whether argv (the supervisor's command line) carries the workload
 * after a "--", where exec-env can be put in front of it. */
bool shim_workload_argv_wrappable(char *const *argv);
/* A new argv: argv with `exe exec-env NAME=VALUE... --` inserted after its
 * first "--", one NAME=VALUE per WORKLOAD entry of c.  NULL when c has no
 * WORKLOAD entry, argv is not wrappable, or out of memory; free with
 * shim_env_free(). */
char **shim_workload_argv_wrap(char *const *argv, const char *exe,
                               const struct shim_env_contract *c);

/* The same with contract "both" and an unknown seccomp split.
 * base_env may be NULL (= empty). */
void shim_env_contract_compute(const enum shim_verdict v[SHIM_SUB_COUNT], const char *proxy_url,
                               const char *report_path, char *const *base_env,
                               struct shim_env_contract *ret);
void shim_env_contract_free(struct shim_env_contract *c);

/* NULL-terminated copy of base + the SET entries; free with
 * shim_env_free().  Returns NULL only when out of memory. */
char **shim_env_build(const struct shim_env_contract *c, char *const *base_env);
void shim_env_free(char **env);

/* Value of name in env, or NULL. */
const char *shim_env_get(char *const *env, const char *name);

/* A URL with any "user:password@" removed, for reports. */
char *shim_url_redact(const char *url);

#endif
