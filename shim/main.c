/* openshell-shim: argv/env -> config, then the chosen command. */
#include "bootstrap.h"
#include "config.h"
#include "error.h"
#include "execenv.h"
#include "log.h"
#include "netstat.h"
#include "policy/envscrub.h"
#include "restore/control.h"
#include "run.h"
#include "usage.h"

#include <stdio.h>
#include <string.h>

extern char **environ;

int main(int argc, char **argv)
{
    /* Before the option parser: the workload's wrapper takes no shim option. */
    if (shim_is_exec_env(argc, argv))
        return shim_exec_env_main(argc, argv);
#ifndef SHIM_TEST_NO_ENV_SCRUB
    /* The shim takes the secrets (token, gateway TLS PEMs) into a heap copy
     * of its environment and overwrites them in the block the kernel set
     * up, which /proc/<pid>/environ reads: the shim passes the token on as
     * a file, and PID 1's environ is readable by every uid-0 process of the
     * sandbox (docs/probes.md, secrets in /proc/1/environ).  The tests'
     * build without it is their control. */
    char **start_env = environ;
    char **heap_env = shim_env_dup(start_env);
    if (heap_env == NULL) {
        fprintf(stderr, "openshell-shim: out of memory\n");
        return SHIM_EXIT_USAGE;
    }
    environ = heap_env;
    shim_env_scrub(start_env, shim_secret_env_names);
#endif
    struct shim_config cfg;
    oss_error err = {0};
    if (shim_config_parse(argc, argv, environ, &cfg, &err) < 0) {
        fprintf(stderr, "openshell-shim: %s\nTry 'openshell-shim --help'.\n", err.msg);
        shim_config_free(&cfg);
        return SHIM_EXIT_USAGE;
    }
    oss_log_setup("openshell-shim", cfg.log_level, cfg.log_format);

    int code = SHIM_EXIT_USAGE;
    switch (cfg.command) {
    case SHIM_CMD_HELP:
        shim_usage(stdout);
        code = 0;
        break;
    case SHIM_CMD_VERSION:
        printf("openshell-shim %s\n", OSS_VERSION);
        code = 0;
        break;
    case SHIM_CMD_RUN:
        code = shim_run_main(&cfg);
        break;
    case SHIM_CMD_NOTIFY:
        code = shim_notify_main(&cfg);
        break;
    case SHIM_CMD_DOCTOR:
        code = shim_doctor_main(&cfg);
        break;
    case SHIM_CMD_NETSTAT:
        code = shim_netstat_main();
        break;
    }
    shim_config_free(&cfg);
    return code;
}
