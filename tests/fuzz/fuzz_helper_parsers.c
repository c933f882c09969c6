/* Fuzzes the parsers shared by the test helpers (tests/helpers/helper.h):
 * signal names, errno names, bounded integers, /proc/<pid>/stat lines.
 * Input: one string (cut at the first NUL). */
#include "../helpers/helper.h"

#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char s[256];
    if (size >= sizeof s)
        return 0;
    memcpy(s, data, size);
    s[size] = '\0';

    int sig, err;
    long n;
    if (helper_parse_signal(s, &sig)) {
        if (sig < 1 || sig > SIGRTMAX)
            abort();
        char name[32];
        int back;
        /* A parsed signal's name must parse back to the same signal. */
        if (!helper_parse_signal(helper_signal_name(sig, name, sizeof name), &back) || back != sig)
            abort();
    }
    if (helper_parse_errno(s, &err) && (err < 1 || err > 4095))
        abort();
    if (helper_parse_long(s, -5, 5, &n) && (n < -5 || n > 5))
        abort();
    struct helper_proc p;
    if (helper_parse_stat(s, &p) &&
        (p.pid <= 0 || strlen(p.comm) >= sizeof p.comm || strpbrk(p.comm, " \n=") != NULL))
        abort();
    return 0;
}
