/* File helpers that keep the project's crash-safety promise: whatever is
 * written for others to read (reports, state) appears whole or not at all. */
#ifndef OSS_FS_H
#define OSS_FS_H

#include "buf.h"
#include "error.h"

#include <stddef.h>
#include <sys/types.h>

/* Writes data to a temp file beside path, fsyncs it, renames it over path,
 * and fsyncs the directory. */
int oss_write_file_atomic(const char *path, const void *data, size_t len, mode_t mode,
                          oss_error *err);

/* The same replace-by-rename (readers see the old or the new file whole),
 * without the fsyncs: for runtime state under /run that means nothing after
 * a crash anyway.  On a disk-backed /run the two fsyncs cost milliseconds,
 * and the shim rewrites its report at every child start (docs/bench.md). */
int oss_write_file_replace(const char *path, const void *data, size_t len, mode_t mode,
                           oss_error *err);

/* Reads at most max bytes of path into out (appending).  A larger file is an
 * error (E2BIG) rather than silently truncated. */
int oss_read_file(const char *path, size_t max, oss_buf *out, oss_error *err);

/* mkdir -p with mode for every directory it creates. */
int oss_mkdir_p(const char *path, mode_t mode, oss_error *err);

/* Writes all of buf to fd, retrying short writes and EINTR. */
int oss_write_all(int fd, const void *buf, size_t len);

#endif
