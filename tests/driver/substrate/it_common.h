/* Shared parts of substrate_backend_it: checks, the fakes' control ports,
 * configuration and specs.  See backend_it.c. */
#ifndef IT_COMMON_H
#define IT_COMMON_H

#include "backend.h"
#include "config.h"
#include "error.h"

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

extern int it_failures;

#define CHECK(cond, ...)                                                                           \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "FAIL %s:%d: %s: ", __FILE__, __LINE__, #cond);                        \
            fprintf(stderr, __VA_ARGS__);                                                          \
            fputc('\n', stderr);                                                                   \
            it_failures++;                                                                         \
        }                                                                                          \
    } while (0)

const char *env_or(const char *k, const char *d);

/* POSTs body to $<base_env>/<verb>; returns the parsed reply (caller puts it). */
json_object *ctl(const char *base_env, const char *verb, const char *body);
void ctl_do(const char *base_env, const char *verb, const char *body);
int count_array(const char *base_env, const char *verb, const char *key);
/* a counter of the fake ate-api-server ("calls.GetActor", "aborted.busy", ...) */
int counter(const char *name);
void reset_fakes(void);

#define ATE_ACTORS() count_array("OSS_IT_ATE_CTL", "state", "actors")
/* actors of one atespace in one status (-1: any) */
int ate_actors_in(const char *atespace, int status);
#define GOLDEN_ACTORS() ate_actors_in("ate-golden", -1)
#define KUBE_OBJECTS()  count_array("OSS_IT_KUBE_CTL", "state", "objects")

void base_config(struct drv_config *c);
void make_spec(struct drv_sandbox_spec *s, const char *id);
struct drv_backend *open_backend(const struct drv_config *c);
/* Prints like the driver's main would; the token check greps these lines. */
void log_err(const char *what, const oss_error *e);
int get_status(struct drv_backend *b, const char *id, oss_error *err);
bool listed(struct drv_backend *b, const char *id, size_t *ret_n);
/* Create, then wait (bounded, timeout_ms) for the background part: 0 with
 * the actor once it is done; -2 with the failure in err->msg when the
 * background create failed; -1 when create itself refused (err). */
int create_wait(struct drv_backend *b, const struct drv_sandbox_spec *s, int64_t timeout_ms,
                struct drv_actor *ret, oss_error *err);
/* Polls Get until the create is no longer in flight; returns its step. */
int wait_create_done(struct drv_backend *b, const char *id, int64_t timeout_ms,
                     struct drv_actor *ret, oss_error *err);
/* Kubernetes PATCH requests the fake received since its last reset. */
int kube_patches(void);

/* scenarios */
void it_lifecycle(void);
void it_down(void);
void it_rotate(void);
void it_aborted(void);
void it_never_ready(void);
void it_create_fails(void);
void it_kube_faults(void);
void it_no_ca(void);
void it_plaintext(void);
void it_mtls(void);
void it_concurrent(void);
void it_crash_create(void);
void it_after_crash(void);
void it_bench(void);
void it_live(void);
void it_async(void);
void it_delete_during_create(void);
void it_stop_on_ready(void);
void it_names_restart(void);
void it_create_bench(void);
void it_golden(void);

#endif
