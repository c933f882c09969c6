/* Everything between "the shim starts" and "exec the supervisor", except
 * process management: probes, the degrade decision, the fallback seccomp
 * filter, the environment contract, findings and the living report.
 *
 * Call order in the shim:
 *   shim_bootstrap_prepare()      probes in children, side by side; nothing lasting here
 *   shim_children_watch(shim_bootstrap_teardown_pid(b), ...)   (PID-1 loop)
 *   shim_bootstrap_refused()      true -> log err, exit SHIM_EXIT_POLICY (or stay alive)
 *   shim_bootstrap_emit_findings(b, STDERR_FILENO)
 *   shim_report_new() + shim_report_write()
 *   shim_bootstrap_tls_write(b, environ)   -1 -> log err, exit SHIM_EXIT_POLICY
 *   env = shim_bootstrap_child_env(b, environ)
 *   fork(); child: ... shim_bootstrap_child_apply(b); execve(..., env)
 */
#ifndef SHIM_BOOTSTRAP_H
#define SHIM_BOOTSTRAP_H

#include "buf.h"
#include "config.h"
#include "error.h"

#include <stdbool.h>

struct shim_bootstrap;
/* Runs the probes in cfg->probe_mask (each in a forked child with
 * cfg->probe_timeout_ms), decides each subsystem under cfg->degrade_mask,
 * compiles the fallback seccomp filter (not installed), computes the env
 * contract. No lasting effect on this process. Fails only on setup errors,
 * not on refusals. */
int shim_bootstrap_prepare(const struct shim_config *cfg, struct shim_bootstrap **ret,
                           oss_error *err);
/* True when a required subsystem is unavailable; err = one line naming the
 * subsystem, the failing step, the errno, and the flag that would allow it
 * (e.g. "--degrade=netns"). */
bool shim_bootstrap_refused(const struct shim_bootstrap *b, oss_error *err);
/* The supervisor's environment: base + the contract's additions, never
 * overriding a value already set.  NULL-terminated, owned by the caller
 * (free with shim_env_free() of policy/envcontract.h, or leak into execve).
 * NULL only when out of memory. */
char **shim_bootstrap_child_env(struct shim_bootstrap *b, char *const *base_env);
/* The gateway TLS files (docs/probes.md, the gateway TLS files): each
 * OPENSHELL_SHIM_TLS_*_PEM of base_env written to the file its
 * OPENSHELL_TLS_* variable names, 0400, on a tmpfs; then
 * shim_bootstrap_child_env() leaves the PEM variables out.  Nothing to do
 * without a PEM variable.  -1 with err naming the variable when the
 * variables are incomplete, a path is not one the shim writes, or a write
 * fails: the supervisor could never reach an https:// gateway.  The report
 * names the variables and paths, never the material. */
int shim_bootstrap_tls_write(struct shim_bootstrap *b, char *const *base_env, oss_error *err);
/* The supervisor's command line with `openshell-shim exec-env` put in front
 * of the workload's command when variables go to the workload only (after
 * shim_bootstrap_child_env); NULL when nothing needs it: use argv as is.
 * Free with shim_env_free(). */
char **shim_bootstrap_child_argv(const struct shim_bootstrap *b, char *const *argv);
/* Called in the forked child right before execve: async-signal-safe,
 * installs the fallback filter (prctl NO_NEW_PRIVS + seccomp(2) with the
 * precompiled BPF and only flags the probe saw accepted).  Returns 0 (also
 * when no filter is planned) or -errno. */
int shim_bootstrap_child_apply(const struct shim_bootstrap *b);
/* One OCSF 1.8 Detection Finding JSON line per degraded subsystem, written
 * to fd (stderr). */
void shim_bootstrap_emit_findings(const struct shim_bootstrap *b, int fd);
/* Re-runs the cheap probes whose answer can change after a restore (runtime
 * facts, seccomp, landlock, privdrop caps) and writes a JSON object of their
 * results and what changed.  The bootstrap-time results and decisions stay
 * as they were (the supervisor runs under them); the next reprobe compares
 * with this one. */
int shim_bootstrap_reprobe(struct shim_bootstrap *b, oss_buf *json_out, oss_error *err);
/* Waits (bounded by the probe timeout) for a netns teardown still running
 * and cleans up after it if it failed, then frees. */
void shim_bootstrap_free(struct shim_bootstrap *b);

/* The netns probe answers before it tears its namespace down (the teardown
 * waits in the kernel for an RCU grace period, tens of ms), so that child may
 * still run after prepare returns: its pid, or 0.  A caller that reaps with
 * waitpid(-1) (the PID-1 loop) must pass its status to
 * shim_bootstrap_teardown_reaped(); otherwise shim_bootstrap_free() reaps it.
 * A failed teardown is cleaned up from this process (idempotent). */
#include <sys/types.h>
pid_t shim_bootstrap_teardown_pid(const struct shim_bootstrap *b);
void shim_bootstrap_teardown_reaped(struct shim_bootstrap *b, int wstatus);

/* Extras for main/doctor/tests. */
enum shim_verdict;
int shim_bootstrap_verdict(const struct shim_bootstrap *b,
                           enum shim_subsys s); /* enum shim_verdict */
bool shim_bootstrap_fallback_active(const struct shim_bootstrap *b);
/* The bootstrap section of the report as one JSON object. */
void shim_bootstrap_json(const struct shim_bootstrap *b, oss_buf *out);

/* The living report: bootstrap section plus events appended later
 * (supervisor exits, restores).  It keeps a pointer to b: b must outlive it. */
struct shim_report;
int shim_report_new(const struct shim_config *cfg, const struct shim_bootstrap *b,
                    struct shim_report **ret, oss_error *err);
void shim_report_set_generation(struct shim_report *r, unsigned gen);
/* Live state written into every rendering of the report (file and /status):
 * fn adds keys to the open top-level object (the supervisor's state, the
 * restore section). */
struct oss_json;
typedef void (*shim_report_live_fn)(void *ctx, struct oss_json *j);
void shim_report_set_live(struct shim_report *r, shim_report_live_fn fn, void *ctx);
/* json_object must be a serialized JSON object (it is inserted verbatim),
 * or NULL for an event lost to a failed allocation;
 * the event keeps a copy.  At most SHIM_REPORT_MAX_EVENTS are kept: older
 * ones are dropped and counted, so a crash-looping supervisor cannot grow
 * the report without bound. */
#define SHIM_REPORT_MAX_EVENTS 256
void shim_report_add_event(struct shim_report *r, const char *kind, const char *json_object);
/* An event that could not be recorded (out of memory; json_object NULL
 * above does the same): counted as events_lost_nomem. */
void shim_report_count_lost(struct shim_report *r);
void shim_report_json(const struct shim_report *r, oss_buf *out);
/* atomic (common/fs.h), mkdir -p parent 0755 */
int shim_report_write(const struct shim_report *r, oss_error *err);
void shim_report_free(struct shim_report *r);

/* `openshell-shim doctor [--json] [--degrade=LIST]`: returns the process
 * exit code (0: the supervisor could start under that policy;
 * SHIM_EXIT_POLICY otherwise; SHIM_EXIT_USAGE when the probes could not
 * run); prints a human table or the report JSON to stdout. */
int shim_doctor_main(const struct shim_config *cfg);

#endif
