/* Children the shim's modules start themselves (restore hooks, probe
 * children started inside the loop).  PID 1 drains every exit with
 * waitpid(-1); a module that registers its pid here gets that exit delivered
 * to its callback instead of having it counted as a reaped orphan. */
#ifndef SHIM_CHILDREN_H
#define SHIM_CHILDREN_H

#include <stdbool.h>
#include <sys/types.h>

typedef void (*shim_child_cb)(void *ctx, pid_t pid, int wstatus);

int shim_children_watch(pid_t pid, shim_child_cb cb, void *ctx);
void shim_children_unwatch(pid_t pid);
/* Called by the reaper; true when pid belonged to a module (cb was run). */
bool shim_children_dispatch(pid_t pid, int wstatus);

#endif
