/* libFuzzer target: the gateway TLS path check and plan (policy/tlsfiles.c).
 * The input is split on NUL bytes: the first word is the state dir, the
 * rest an environment.  Every path the check allows, and every path of a
 * plan, must be absolute, free of empty, "." and ".." components, and
 * directly in /run/openshell/tls or <state dir>/tls. */
#include "policy/tlsfiles.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* An independent component check: absolute, no "", "." or ".." component. */
static bool clean(const char *p)
{
    if (p[0] != '/')
        return false;
    char *c = strdup(p + 1), *save = NULL;
    if (!c)
        abort();
    bool ok = c[0] != '\0' && c[strlen(c) - 1] != '/' && !strstr(c, "//");
    for (char *t = strtok_r(c, "/", &save); ok && t; t = strtok_r(NULL, "/", &save))
        ok = strcmp(t, ".") != 0 && strcmp(t, "..") != 0;
    free(c);
    return ok;
}

static void check_allowed(const char *path, const char *dir, const char *state_dir)
{
    size_t dl = strlen(dir);
    if (path[0] != '/' || strncmp(path, dir, dl) != 0 || path[dl] != '/' ||
        strchr(path + dl + 1, '/') != NULL || path[dl + 1] == '\0' || path[dl + 1] == '.')
        abort();
    if (!clean(path))
        abort();
    bool in_default = strcmp(dir, SHIM_TLS_DIR) == 0;
    size_t sl = state_dir ? strlen(state_dir) : 0;
    bool in_state = state_dir && dl == sl + 4 && strncmp(dir, state_dir, sl) == 0 &&
                    strcmp(dir + sl, "/tls") == 0 && clean(state_dir);
    if (!in_default && !in_state)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *buf = malloc(size + 1);
    char **env = calloc(size + 2, sizeof *env);
    if (!buf || !env) {
        free(buf);
        free(env);
        return 0;
    }
    memcpy(buf, data, size);
    buf[size] = '\0';
    const char *state_dir = buf;
    size_t n = 0;
    for (char *p = buf + strlen(buf) + 1; p <= buf + size; p += strlen(p) + 1)
        env[n++] = p;
    env[n] = NULL;
    char dir[256];
    for (size_t i = 0; i < n; i++)
        if (shim_tls_path_allowed(env[i], state_dir, dir, sizeof dir))
            check_allowed(env[i], dir, state_dir);
    struct shim_tls_plan plan;
    oss_error err = {0};
    if (shim_tls_plan(env, state_dir, &plan, &err) == 0)
        for (size_t i = 0; i < plan.n; i++) {
            if (!plan.f[i].pem || !plan.f[i].pem[0])
                abort();
            check_allowed(plan.f[i].path, plan.f[i].dir, state_dir);
            for (size_t k = 0; k < i; k++)
                if (strcmp(plan.f[i].path, plan.f[k].path) == 0)
                    abort();
        }
    free(buf);
    free(env);
    return 0;
}
