/* libFuzzer target: the OPENSHELL_SKIP_BOOTSTRAP parser (pull request 1549's
 * grammar) and the per-variant decision fed with its input. */
#include "policy/variants.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s = malloc(size + 1);
    if (!s)
        return 0;
    memcpy(s, data, size);
    s[size] = '\0';
    unsigned mask = 0xdeadbeef;
    if (shim_skip_bootstrap_parse(s, &mask) == 0) {
        if (mask & ~((1u << SHIM_STEP_NETNS) | (1u << SHIM_STEP_SUPERVISOR_SECCOMP) |
                     (1u << SHIM_STEP_WORKLOAD_SECCOMP)))
            abort(); /* only the three skippable steps */
    } else if (mask != 0xdeadbeef) {
        abort(); /* out-param untouched on error */
    }
    struct shim_variant_inputs in = {.netns = 0,
                                     .prelude = 0,
                                     .workload_filter = 0,
                                     .landlock = 0,
                                     .privdrop = 1,
                                     .skip_bootstrap = s};
    struct shim_variant_outcome o[SHIM_VARIANT_COUNT];
    shim_variants_decide(&in, o);
    if (o[SHIM_VARIANT_MAIN].starts) /* main has no switch: netns refused is fatal */
        abort();
    free(s);
    return 0;
}
