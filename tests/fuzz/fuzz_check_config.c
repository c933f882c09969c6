/* libFuzzer target: the pure rules of `check-config` (driver/check_config.c):
 * the digest-pinned image reference reader on arbitrary text, and the
 * socket directory decision on arbitrary stat fields. */
#include "check_config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s = malloc(size + 1);
    if (s == NULL)
        return 0;
    memcpy(s, data, size);
    s[size] = '\0';
    bool pinned = drv_image_digest_pinned(s);
    /* a pinned reference always ends in exactly 64 digest characters */
    if (pinned && (strlen(s) < 72 || strstr(s, "@sha256:") == NULL))
        abort();
    if (size >= 12) {
        struct stat st;
        memset(&st, 0, sizeof st);
        memcpy(&st.st_mode, data, 4);
        memcpy(&st.st_uid, data + 4, 4);
        uid_t self;
        memcpy(&self, data + 8, 4);
        const char *why = NULL;
        enum drv_finding f = drv_sockdir_finding(&st, self, &why);
        if (why == NULL || f > DRV_FINDING_ERROR)
            abort();
    }
    free(s);
    return 0;
}
