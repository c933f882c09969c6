/* libFuzzer target: the runsc backend's sandbox records (driver/runsc/
 * state.c), read back from the state directory at every start-up, plus
 * the image -> rootfs rule and the subnet parser on the same bytes.  A
 * record that parses must serialise to JSON that parses again, and from
 * then on the text is stable (the first write may differ: invalid UTF-8
 * becomes an escaped U+FFFD, which json-c hands back as raw UTF-8). */
#include "internal.h"

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
    struct drv_runsc_record r;
    oss_error err = {0};
    if (drv_runsc_record_parse(s, size, &r, &err) == 0) {
        oss_buf a = OSS_BUF_INIT, b = OSS_BUF_INIT, c = OSS_BUF_INIT;
        struct drv_runsc_record r2, r3;
        drv_runsc_record_json(&r, &a);
        if (drv_runsc_record_parse(a.data, a.len, &r2, &err) != 0)
            abort();
        drv_runsc_record_json(&r2, &b);
        if (drv_runsc_record_parse(b.data, b.len, &r3, &err) != 0)
            abort();
        drv_runsc_record_json(&r3, &c);
        if (b.len != c.len || memcmp(b.data, c.data, b.len) != 0)
            abort();
        drv_runsc_record_clear(&r3);
        drv_runsc_record_clear(&r2);
        drv_runsc_record_clear(&r);
        oss_buf_free(&a);
        oss_buf_free(&b);
        oss_buf_free(&c);
    }
    char path[512];
    if (drv_runsc_rootfs_path("/srv/rootfs", true, s, path, sizeof path, &err) == 0 &&
        strstr(path + strlen("/srv/rootfs"), "/..") != NULL && strcmp(s, "local/host") != 0)
        abort(); /* the rule must never produce a path that climbs out */
    struct drv_runsc_pool p;
    (void)drv_runsc_pool_parse(s, &p, &err);
    free(s);
    return 0;
}
