/* libFuzzer target: the runsc backend's reading of a sandbox's
 * /proc/net/tcp{,6} (driver/runsc/tcpconn.c), which comes from inside the
 * sandbox and so from its workload, and the reason taken from runsc's
 * checkpoint output.  Every verdict counts no more closing endpoints than
 * blocking ones, and the strings are terminated. */
#include "internal.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *s = (const char *)data; /* not terminated: both take a length */
    struct drv_runsc_tcp_verdict v;
    if (drv_runsc_tcp_verdict(s, size, &v) == 0) {
        if (v.closing > v.blocking || strlen(v.first) >= sizeof v.first)
            abort();
        if (v.blocking > 0 && v.first[0] == '\0')
            abort();
    }
    char why[300];
    (void)drv_runsc_checkpoint_reason(s, size, why, sizeof why);
    if (strlen(why) >= sizeof why)
        abort();
    return 0;
}
