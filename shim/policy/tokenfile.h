/* Secret files on a tmpfs: the sandbox token's file and the gateway TLS
 * files (docs/probes.md, the token file and the gateway TLS files). */
#ifndef SHIM_TOKENFILE_H
#define SHIM_TOKENFILE_H

#include "error.h"

/* Creates dir 0700 (one level), checks it is ours and on a tmpfs, and
 * writes value to path as a 0400 file, atomically: a temporary file in dir
 * renamed over path, so a reader sees the old file or the whole new one.
 * Fails, leaving path as it was, when the directory is not on a tmpfs.
 * path must name a file directly in dir. */
int shim_secret_write(const char *dir, const char *path, const char *value, oss_error *err);

/* The token's file: shim_secret_write(). */
static inline int shim_token_write(const char *dir, const char *path, const char *value,
                                   oss_error *err)
{
    return shim_secret_write(dir, path, value, err);
}

#endif
