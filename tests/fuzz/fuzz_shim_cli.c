/* libFuzzer: shim_config_parse(), the shim's argv + environment parser.
 * The input is split at NUL bytes into words; the first byte says how many
 * of the first words are environment entries ("NAME=value"), the rest are
 * argv[1..].  Whatever the words, the parser must not read out of bounds or
 * leak (shim_config_free after success and failure alike, as main does), a
 * failure must carry a message, and a success must be self-consistent. */
#include "config.h"
#include "error.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define MAX_WORDS 64

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    size_t nenv = data[0] % 8;
    char *text = malloc(size); /* data[1..] plus a final NUL */
    if (text == NULL)
        return 0;
    memcpy(text, data + 1, size - 1);
    text[size - 1] = '\0';

    char *words[MAX_WORDS];
    size_t nw = 0;
    for (char *p = text; p < text + size && nw < MAX_WORDS; p += strlen(p) + 1)
        words[nw++] = p;
    if (nenv > nw)
        nenv = nw;

    char *envp[8 + 1];
    for (size_t i = 0; i < nenv; i++)
        envp[i] = words[i];
    envp[nenv] = NULL;
    char *argv[MAX_WORDS + 2];
    int argc = 0;
    argv[argc++] = (char *)"openshell-shim";
    for (size_t i = nenv; i < nw; i++)
        argv[argc++] = words[i];
    argv[argc] = NULL;

    struct shim_config cfg;
    oss_error err = {0};
    if (shim_config_parse(argc, argv, envp, &cfg, &err) == 0) {
        if (cfg.command == SHIM_CMD_RUN) {
            /* the child's argv is a non-empty tail of ours */
            if (cfg.child_argc < 1 || cfg.child_argv != argv + (argc - cfg.child_argc) ||
                cfg.child_argv[cfg.child_argc] != NULL)
                abort();
        }
        if (cfg.backoff_max_ms < cfg.backoff_initial_ms || cfg.restart_window_ms <= 0)
            abort();
        if ((cfg.probe_mask & ~SHIM_SUB_ALL) || (cfg.degrade_mask & ~SHIM_SUB_ALL))
            abort();
        if (cfg.readyz_port < 0 || cfg.readyz_port > 65535)
            abort();
        if ((int)cfg.log_level < (int)OSS_LOG_ERROR || (int)cfg.log_level > (int)OSS_LOG_TRACE)
            abort();
    } else if (err.msg[0] == '\0') {
        abort();
    }
    shim_config_free(&cfg);
    free(text);
    return 0;
}
