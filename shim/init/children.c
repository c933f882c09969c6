#include "children.h"

#include <errno.h>
#include <stddef.h>

/* A handful of module children at most (a restore hook, a probe): a small
 * fixed table keeps this allocation-free and usable from the reaper. */
#define MAX_WATCHED 32

static struct {
    pid_t pid;
    shim_child_cb cb;
    void *ctx;
} watched[MAX_WATCHED];

int shim_children_watch(pid_t pid, shim_child_cb cb, void *ctx)
{
    for (size_t i = 0; i < MAX_WATCHED; i++) {
        if (watched[i].pid == 0) {
            watched[i].pid = pid;
            watched[i].cb = cb;
            watched[i].ctx = ctx;
            return 0;
        }
    }
    errno = ENOSPC;
    return -1;
}

void shim_children_unwatch(pid_t pid)
{
    for (size_t i = 0; i < MAX_WATCHED; i++)
        if (watched[i].pid == pid)
            watched[i].pid = 0;
}

bool shim_children_dispatch(pid_t pid, int wstatus)
{
    for (size_t i = 0; i < MAX_WATCHED; i++) {
        if (watched[i].pid == pid) {
            shim_child_cb cb = watched[i].cb;
            void *ctx = watched[i].ctx;
            watched[i].pid = 0; /* before the callback: it may watch a new child */
            cb(ctx, pid, wstatus);
            return true;
        }
    }
    return false;
}
