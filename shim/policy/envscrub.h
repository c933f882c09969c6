/* The shim's own start-up environment, scrubbed of secrets (docs/probes.md,
 * secrets in /proc/1/environ). */
#ifndef SHIM_ENVSCRUB_H
#define SHIM_ENVSCRUB_H

#include <stddef.h>

/* The variables whose values the shim scrubs: the token and the TLS PEMs. */
extern const char *const shim_secret_env_names[];

/* A heap copy of env (strings and array), or NULL when out of memory. */
char **shim_env_dup(char *const *env);

/* Overwrites in place, with NUL bytes, the value of every entry of env
 * named in names (NULL-terminated): the strings themselves, which for the
 * block the kernel set up at exec are what /proc/<pid>/environ reads.
 * Returns how many entries it scrubbed. */
size_t shim_env_scrub(char *const *env, const char *const *names);

#endif
