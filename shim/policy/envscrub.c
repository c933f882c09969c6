/* Secrets out of the shim's start-up environment block.  The kernel serves
 * /proc/<pid>/environ from the process's own memory between env_start and
 * env_end, where execve() put the strings; unsetenv() only drops a pointer
 * from environ, so the bytes themselves must be overwritten. */
#include "envscrub.h"

#include <stdlib.h>
#include <string.h>

const char *const shim_secret_env_names[] = {
    "OPENSHELL_SANDBOX_TOKEN",
    "OPENSHELL_SHIM_TLS_CA_PEM",
    "OPENSHELL_SHIM_TLS_CERT_PEM",
    "OPENSHELL_SHIM_TLS_KEY_PEM",
    NULL,
};

/* The copy lives as long as the process: environ's strings point into it
 * even after setenv() has moved environ to an array of libc's own, so it is
 * kept reachable here rather than lost (valgrind's "definitely lost"). */
static char **volatile env_copy; /* volatile: a store never read must stay */

char **shim_env_dup(char *const *env)
{
    size_t n = 0;
    while (env && env[n])
        n++;
    char **c = calloc(n + 1, sizeof *c);
    if (!c)
        return NULL;
    for (size_t i = 0; i < n; i++)
        if (!(c[i] = strdup(env[i]))) {
            for (size_t k = 0; k < i; k++)
                free(c[k]);
            free(c);
            return NULL;
        }
    env_copy = c;
    return c;
}

size_t shim_env_scrub(char *const *env, const char *const *names)
{
    size_t done = 0;
    for (size_t i = 0; env && env[i]; i++)
        for (size_t k = 0; names[k]; k++) {
            size_t l = strlen(names[k]);
            if (strncmp(env[i], names[k], l) == 0 && env[i][l] == '=') {
                char *v = env[i] + l + 1;
                /* explicit_bzero: the compiler may not drop it as dead */
                explicit_bzero(v, strlen(v));
                done++;
                break;
            }
        }
    return done;
}
