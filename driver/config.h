/* openshell-driver-substrate configuration: defaults <- JSON config file <-
 * env OPENSHELL_SUBSTRATE_<KEY> <- flags (later wins).  Keys are the
 * snake_case field names below; the JSON file uses them as is, the env var
 * is the key upper-cased, the flag is --key-with-dashes.  Validation happens
 * once at start-up (drv_config_validate) with one clear error. */
#ifndef DRV_CONFIG_H
#define DRV_CONFIG_H

#include "error.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

enum drv_backend_kind {
    DRV_BACKEND_AUTO = 0, /* substrate when api_endpoint is set, else runsc */
    DRV_BACKEND_SUBSTRATE,
    DRV_BACKEND_RUNSC,
};

struct drv_config {
    /* server */
    char *socket; /* OPENSHELL_COMPUTE_DRIVER_SOCKET too; default /run/openshell/substrate.sock */
    char *config_file; /* --config */
    enum drv_backend_kind backend;
    char *log_level;
    int64_t watch_interval_ms; /* default 1000 */
    unsigned watch_queue_max;  /* events a slow stream may lag before RESOURCE_EXHAUSTED */

    /* ateapi (Substrate) */
    char *api_endpoint; /* host:port; empty = no Substrate */
    char *api_tls_ca_path;
    char *api_tls_server_name; /* default api.ate-system.svc */
    char *api_tls_cert_path;   /* optional client certificate */
    char *api_tls_key_path;
    bool api_plaintext;          /* explicit opt-out of TLS */
    char *api_bearer_token_path; /* re-read on every RPC */
    char *atespace;              /* default "openshell" */
    int64_t api_timeout_ms;      /* unary default 10 s */
    int64_t api_long_timeout_ms; /* Resume/Suspend/Pause, default 60 s (> 28 s) */

    /* Kubernetes API (templates, Secrets) */
    char *kube_api_url;      /* default in-cluster https://kubernetes.default.svc */
    char *kube_ca_path;      /* default service-account CA */
    char *kube_token_path;   /* default service-account token */
    char *default_namespace; /* where templates and Secrets live */
    int64_t template_ready_timeout_secs;

    /* template synthesis */
    char *pause_image; /* digest-pinned */
    char *snapshots_location;
    char *sandbox_class;    /* gvisor|microvm, default gvisor */
    char *worker_selector;  /* JSON object of labels */
    char *gateway_endpoint; /* OPENSHELL_ENDPOINT for the supervisor */
    char *ssh_socket_path;  /* OPENSHELL_SSH_SOCKET_PATH */
    char *shim_path;        /* default /usr/local/bin/openshell-shim */
    char *supervisor_path;  /* default /usr/local/bin/openshell-sandbox */
    char *shim_degrade;     /* --degrade list for the shim, default "none" */
    int shim_readyz_port;   /* default 8080 */
    bool shim_stay_alive;
    char *shim_restart;       /* never|on-failure|always */
    char *default_workload;   /* JSON array of argv when spec.command is empty */
    char *default_image;      /* GetCapabilities.default_image */
    char *gateway_tls_secret; /* Secret with ca.crt/tls.crt/tls.key for an https endpoint */

    /* local runsc backend */
    char *state_dir;        /* default /var/lib/openshell-driver-substrate */
    char *rootfs_dir;       /* image -> rootfs directory, see docs */
    char *runsc_path;       /* default runsc on PATH */
    char *runsc_subnet;     /* IPv4 pool carved into one /30 per sandbox network */
    char *runsc_user;       /* "UID:GID" of the container process (Substrate: 0:0) */
    bool runsc_host_rootfs; /* image local/host = the host's /: trusted single-user machines only */
    bool runsc_shim_actor;  /* pass the shim --actor=<actor name> (a shim that knows the flag) */
    bool runsc_golden_boot; /* create = boot as a UUID, checkpoint, restore as the actor */
};

void drv_config_defaults(struct drv_config *c);
int drv_config_load(struct drv_config *c, int argc, char **argv, char *const *envp, oss_error *err);
int drv_config_validate(const struct drv_config *c, oss_error *err);
void drv_config_free(struct drv_config *c);

/* Applies one JSON config document (what --config reads); `where` names it
 * in errors.  Exposed for the fuzzer and the unit tests. */
int drv_config_parse_json(struct drv_config *c, const char *text, size_t len, const char *where,
                          oss_error *err);

/* --help: every key with its flag, env variable and default. */
void drv_config_usage(FILE *f);

#endif
