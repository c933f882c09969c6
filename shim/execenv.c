#include "execenv.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"

bool shim_is_exec_env(int argc, char *const *argv)
{
    return argc >= 2 && argv[1] != NULL && strcmp(argv[1], "exec-env") == 0;
}

static bool name_ok(const char *s, size_t n)
{
    if (n == 0 || (s[0] >= '0' && s[0] <= '9'))
        return false;
    for (size_t i = 0; i < n; i++) {
        char ch = s[i];
        if (!((ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') ||
              ch == '_'))
            return false;
    }
    return true;
}

int shim_exec_env_parse(int argc, char *const *argv)
{
    if (!shim_is_exec_env(argc, argv))
        return -1;
    for (int i = 2; i < argc; i++) {
        if (argv[i] == NULL)
            return -1;
        if (strcmp(argv[i], "--") == 0)
            return i + 1 < argc && argv[i + 1] != NULL ? i + 1 : -1;
        const char *eq = strchr(argv[i], '=');
        if (eq == NULL || !name_ok(argv[i], (size_t)(eq - argv[i])))
            return -1;
    }
    return -1;
}

int shim_exec_env_main(int argc, char **argv)
{
    int cmd = shim_exec_env_parse(argc, argv);
    if (cmd < 0) {
        fprintf(stderr, "openshell-shim exec-env: usage: exec-env NAME=VALUE... -- ARGV...\n");
        return SHIM_EXIT_USAGE;
    }
    for (int i = 2; i < cmd - 1; i++) {
        char *eq = strchr(argv[i], '=');
        *eq = '\0';
        int r = setenv(argv[i], eq + 1, 1);
        *eq = '=';
        if (r < 0) {
            fprintf(stderr, "openshell-shim exec-env: setenv: %s\n", strerror(errno));
            return SHIM_EXIT_USAGE;
        }
    }
    execvp(argv[cmd], argv + cmd);
    int e = errno;
    fprintf(stderr, "openshell-shim exec-env: %s: %s\n", argv[cmd], strerror(e));
    return e == ENOENT ? 127 : 126;
}
