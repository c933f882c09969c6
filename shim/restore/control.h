/* The control socket <state_dir>/control.sock: how `openshell-shim notify
 * restore` (or an operator) reaches the running shim.  Root only: the
 * directory is 0700, the socket 0600, and each peer's SO_PEERCRED uid must
 * be 0 or the shim's own uid (a second check in case the directory's mode
 * was loosened).  A line protocol, one command per connection:
 *   "restore\n" -> triggers a restore, replies "ok generation=N\n"
 *   "status\n"  -> replies the report JSON and a newline
 * anything else -> "error unknown command\n". */
#ifndef SHIM_RESTORE_CONTROL_H
#define SHIM_RESTORE_CONTROL_H

#include "buf.h"
#include "config.h"
#include "error.h"
#include "loop.h"

#include <stddef.h>

#define SHIM_CONTROL_SOCK       "control.sock"
#define SHIM_CONTROL_LINE_MAX   64
#define SHIM_CONTROL_MAX_CONNS  8
#define SHIM_CONTROL_TIMEOUT_MS 2000

enum shim_control_cmd {
    SHIM_CTL_UNKNOWN = 0,
    SHIM_CTL_RESTORE,
    SHIM_CTL_STATUS,
};

/* Pure: looks for one command line in data[0..n).  Returns 0 when more bytes
 * are needed, 1 with *ret_cmd set when a line is complete (a trailing CR is
 * tolerated), -1 when no valid line can follow (too long, NUL byte). */
int shim_control_parse(const char *data, size_t n, enum shim_control_cmd *ret_cmd);

struct shim_restore;
struct shim_control;

/* status_json may be NULL ("status" then answers {}). */
int shim_control_start(struct shim_loop *loop, const char *state_dir, struct shim_restore *restore,
                       void (*status_json)(void *ctx, oss_buf *out), void *ctx,
                       struct shim_control **ret, oss_error *err);
void shim_control_stop(struct shim_control *c);

/* `openshell-shim notify restore|status [--state-dir D]`: the client side.
 * Prints the shim's reply on stdout; returns the process exit code (0 ok,
 * 1 refused or failed, 2 when the shim is not running). */
int shim_notify_main(const struct shim_config *cfg);

#endif
