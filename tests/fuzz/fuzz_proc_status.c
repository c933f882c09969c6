/* libFuzzer target: the /proc/self/status parser and the gVisor banner
 * check (the input is not NUL-terminated for the parser). */
#include "probe/probe.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct shim_proc_status s;
    shim_proc_status_parse((const char *)data, size, &s);
    if (s.no_new_privs < -1 || s.seccomp < -1 || s.seccomp_filters < -1)
        abort();
    char *t = malloc(size + 1);
    if (!t)
        return 0;
    memcpy(t, data, size);
    t[size] = '\0';
    (void)shim_is_gvisor_version(t);
    free(t);
    return 0;
}
