/* The bootstrap state, shared by bootstrap.c, the report and doctor only. */
#ifndef SHIM_BOOTSTRAP_INTERNAL_H
#define SHIM_BOOTSTRAP_INTERNAL_H

#include "bootstrap.h"
#include "json.h"
#include "policy/degrade.h"
#include "policy/envcontract.h"
#include "policy/fallback.h"
#include "policy/tlsfiles.h"
#include "policy/variants.h"
#include "probe/probe.h"

struct shim_bootstrap {
    /* the policy it ran under */
    unsigned probe_mask, degrade_mask;
    uid_t run_uid;
    gid_t run_gid;
    bool run_as_set;
    /* the identity's source: --run-as, the image's "sandbox" user, or
     * neither (then every upstream variant exits at its user check) */
    bool sandbox_user;
    char *proxy_url;
    char *report_path;
    int64_t timeout_ms;
    enum shim_netns_probe netns_probe;
    unsigned netns_tag;

    /* what it found */
    struct shim_runtime_facts facts;
    struct shim_probe_result probes[SHIM_SUB_COUNT];
    enum shim_verdict verdict[SHIM_SUB_COUNT];
    struct shim_fallback_plan plan;
    struct shim_fallback_prog prog;
    enum shim_supervisor_contract contract;
    bool token_file;                     /* --token-file=auto: move the token when possible */
    bool proxy_workload;                 /* proxy variables on the workload's command line */
    char exe[256];                       /* this binary, for exec-env; "" when unknown */
    char proxy_note[200];                /* where the proxy variables went and why */
    char *token_dir;                     /* <state dir>/token */
    char token_path[256];                /* where it was written, or "" */
    char token_note[600];                /* why it was or was not moved */
    char *state_dir;                     /* --state-dir, or NULL */
    bool tls_written;                    /* the three TLS files are written */
    char tls_path[SHIM_TLS_NFILES][256]; /* where each went, or "" */
    char tls_note[OSS_ERR_MSG_MAX + 64]; /* what was done, or why not */
    struct shim_env_contract env;
    /* what each upstream supervisor variant will do with that environment */
    struct shim_variant_outcome variants[SHIM_VARIANT_COUNT];
    int64_t total_usec;
    pid_t teardown_pid; /* netns probe child still tearing down, or 0 */

    /* the latest reprobe, compared with the next */
    unsigned reprobes;
    struct shim_runtime_facts last_facts;
    struct shim_probe_result last[SHIM_SUB_COUNT];
};

void shim_bootstrap_json_write(const struct shim_bootstrap *b, oss_json *j);
void shim_runtime_facts_json(const struct shim_runtime_facts *f, oss_json *j);
void shim_variants_json(const struct shim_bootstrap *b, oss_json *j);
const char *shim_variant_fix(const struct shim_bootstrap *b, enum shim_variant v);
void shim_probe_result_json(enum shim_subsys s, const struct shim_probe_result *p, oss_json *j);

#endif
