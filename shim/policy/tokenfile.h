/* The sandbox token's file (docs/probes.md, the token file). */
#ifndef SHIM_TOKENFILE_H
#define SHIM_TOKENFILE_H

#include "error.h"

/* Creates dir 0700 (one level), checks it is on a tmpfs, and writes value
 * to path as a new 0400 file (an old one is replaced).  Fails, writing
 * nothing, when the directory is not on a tmpfs. */
int shim_token_write(const char *dir, const char *path, const char *value, oss_error *err);

#endif
