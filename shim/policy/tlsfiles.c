/* The gateway TLS files: which variables, which paths (pure). */
#include "tlsfiles.h"

#include "envcontract.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

const char *const shim_tls_path_vars[SHIM_TLS_NFILES] = {"OPENSHELL_TLS_CA", "OPENSHELL_TLS_CERT",
                                                         "OPENSHELL_TLS_KEY"};
const char *const shim_tls_pem_vars[SHIM_TLS_NFILES] = {
    "OPENSHELL_SHIM_TLS_CA_PEM", "OPENSHELL_SHIM_TLS_CERT_PEM", "OPENSHELL_SHIM_TLS_KEY_PEM"};

/* Absolute, and no empty, "." or ".." component ("a//b", "a/./b", "/x/"). */
static bool path_clean(const char *p)
{
    if (p == NULL || p[0] != '/' || p[1] == '\0')
        return false;
    for (const char *c = p + 1;;) {
        size_t l = strcspn(c, "/");
        if (l == 0 || (l == 1 && c[0] == '.') || (l == 2 && c[0] == '.' && c[1] == '.'))
            return false;
        if (c[l] == '\0')
            return true;
        c += l + 1;
    }
}

bool shim_tls_path_allowed(const char *path, const char *state_dir, char *dir, size_t dir_len)
{
    if (!path_clean(path) || strlen(path) >= dir_len)
        return false;
    const char *slash = strrchr(path, '/');
    if (slash[1] == '.') /* the writer's temporary files are dot files */
        return false;
    size_t dl = (size_t)(slash - path);
    memcpy(dir, path, dl);
    dir[dl] = '\0';
    if (strcmp(dir, SHIM_TLS_DIR) == 0)
        return true;
    if (state_dir == NULL || !path_clean(state_dir))
        return false;
    size_t sl = strlen(state_dir);
    return dl == sl + 4 && strncmp(dir, state_dir, sl) == 0 && strcmp(dir + sl, "/tls") == 0;
}

int shim_tls_plan(char *const *env, const char *state_dir, struct shim_tls_plan *plan,
                  oss_error *err)
{
    memset(plan, 0, sizeof *plan);
    bool any = false;
    for (size_t i = 0; i < SHIM_TLS_NFILES; i++)
        any |= shim_env_get(env, shim_tls_pem_vars[i]) != NULL;
    if (!any)
        return 0;
    for (size_t i = 0; i < SHIM_TLS_NFILES; i++) {
        struct shim_tls_file *f = &plan->f[i];
        f->path_var = shim_tls_path_vars[i];
        f->pem_var = shim_tls_pem_vars[i];
        f->pem = shim_env_get(env, f->pem_var);
        f->path = shim_env_get(env, f->path_var);
        if (f->pem == NULL || f->pem[0] == '\0')
            return oss_err(err, OSS_ERR_INVALID, EINVAL,
                           "%s is %s while another OPENSHELL_SHIM_TLS_*_PEM is set", f->pem_var,
                           f->pem ? "empty" : "missing");
        if (f->path == NULL || f->path[0] == '\0')
            return oss_err(err, OSS_ERR_INVALID, EINVAL,
                           "%s is set but %s, the file it goes to, is not", f->pem_var,
                           f->path_var);
        if (!shim_tls_path_allowed(f->path, state_dir, f->dir, sizeof f->dir))
            return oss_err(err, OSS_ERR_INVALID, EPERM,
                           "%s names a path the shim does not write: an absolute path with no "
                           "'.' or '..' directly in %s or <state dir>/tls is required",
                           f->path_var, SHIM_TLS_DIR);
        for (size_t k = 0; k < i; k++)
            if (strcmp(plan->f[k].path, f->path) == 0)
                return oss_err(err, OSS_ERR_INVALID, EINVAL, "%s names the same file as %s",
                               f->path_var, plan->f[k].path_var);
    }
    plan->n = SHIM_TLS_NFILES;
    return 0;
}
