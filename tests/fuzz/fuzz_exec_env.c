/* libFuzzer target: the `exec-env` argv parser (the input is split on NUL
 * bytes into words after "openshell-shim exec-env"). */
#include "execenv.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *buf = malloc(size + 1);
    char **argv = calloc(size + 4, sizeof *argv);
    if (!buf || !argv) {
        free(buf);
        free(argv);
        return 0;
    }
    memcpy(buf, data, size);
    buf[size] = '\0';
    int argc = 0;
    argv[argc++] = "openshell-shim";
    argv[argc++] = "exec-env";
    for (char *p = buf; p <= buf + size; p += strlen(p) + 1)
        argv[argc++] = p;
    argv[argc] = NULL;
    int i = shim_exec_env_parse(argc, argv);
    if (i >= 0 && (i >= argc || strcmp(argv[i - 1], "--") != 0))
        abort(); /* the command follows a "--" and exists */
    for (int k = 2; i >= 0 && k < i - 1; k++)
        if (strchr(argv[k], '=') == NULL)
            abort(); /* every word before it is NAME=VALUE */
    free(buf);
    free(argv);
    return 0;
}
