#include "exitstatus.h"
#include "signals.h"

#include <errno.h>
#include <stdio.h>
#include <sys/wait.h>

int shim_exit_code(const struct shim_config *cfg, int wstatus)
{
    int code;
    if (WIFEXITED(wstatus))
        code = WEXITSTATUS(wstatus);
    else if (WIFSIGNALED(wstatus))
        code = 128 + WTERMSIG(wstatus);
    else
        code = 1; /* stopped/continued are never passed here; be defensive */
    if (cfg != NULL && code < 256 && shim_exit_remapped(cfg, code))
        return 0;
    return code & 0xff;
}

int shim_exec_errno_code(int err)
{
    return err == ENOENT ? SHIM_EXIT_NOT_FOUND : SHIM_EXIT_NOT_EXEC;
}

bool shim_exit_is_failure(int wstatus)
{
    return !(WIFEXITED(wstatus) && WEXITSTATUS(wstatus) == 0);
}

void shim_exit_describe(int wstatus, char *buf, unsigned len)
{
    if (WIFEXITED(wstatus))
        snprintf(buf, len, "exited with %d", WEXITSTATUS(wstatus));
    else if (WIFSIGNALED(wstatus))
        snprintf(buf, len, "killed by %s%s", shim_signal_name(WTERMSIG(wstatus)),
                 WCOREDUMP(wstatus) ? " (core dumped)" : "");
    else
        snprintf(buf, len, "status 0x%x", (unsigned)wstatus);
}
