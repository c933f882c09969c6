/* The gateway TLS files, pure (docs/probes.md, the gateway TLS files): the
 * driver's templates carry the PEM texts as OPENSHELL_SHIM_TLS_*_PEM and
 * the paths the supervisor reads as OPENSHELL_TLS_* (docs/substrate-backend.md,
 * "Gateway TLS"); this decides what the shim writes where. */
#ifndef SHIM_TLSFILES_H
#define SHIM_TLSFILES_H

#include "error.h"

#include <stdbool.h>
#include <stddef.h>

#define SHIM_TLS_NFILES 3
/* Where the driver's templates point the files (docs/substrate-backend.md). */
#define SHIM_TLS_DIR "/run/openshell/tls"

struct shim_tls_file {
    const char *path_var; /* static: OPENSHELL_TLS_CA ... */
    const char *pem_var;  /* static: OPENSHELL_SHIM_TLS_CA_PEM ... */
    const char *path;     /* borrowed from the environment */
    const char *pem;      /* borrowed from the environment: the secret */
    char dir[256];        /* path's directory */
};

struct shim_tls_plan {
    size_t n; /* 0: no *_PEM variable, nothing to do; else SHIM_TLS_NFILES */
    struct shim_tls_file f[SHIM_TLS_NFILES];
};

/* The pairs, in order CA, certificate, key. */
extern const char *const shim_tls_path_vars[SHIM_TLS_NFILES];
extern const char *const shim_tls_pem_vars[SHIM_TLS_NFILES];

/* Whether the shim may write path: absolute, no empty, "." or ".."
 * component, a file name not starting with '.', directly in SHIM_TLS_DIR or
 * in <state_dir>/tls (state_dir may be NULL).  Its directory goes to dir. */
bool shim_tls_path_allowed(const char *path, const char *state_dir, char *dir, size_t dir_len);

/* The plan for env.  No *_PEM variable: n = 0 (an operator's own
 * OPENSHELL_TLS_* files are left alone).  Any of them: every pair must be
 * complete (a non-empty PEM, its path variable set, the path allowed, the
 * three paths distinct), else -1 with err naming the variable. */
int shim_tls_plan(char *const *env, const char *state_dir, struct shim_tls_plan *plan,
                  oss_error *err);

#endif
