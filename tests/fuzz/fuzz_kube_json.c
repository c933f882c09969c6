/* libFuzzer target: Kubernetes API response parsing (driver/substrate/kube_json.c)
 * and the SecretList of sandbox records (driver/substrate/record.c).
 * Links drv_substrate_pure (json-c, oss_common). */
#include "kube_json.h"
#include "record.h"
#include "util.h"

#include <stddef.h>
#include <stdint.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* every record handed out is whole: terminated fields, a valid id */
static void check_record(const struct drv_record *r, void *ctx)
{
    (void)ctx;
    if (strnlen(r->id, sizeof r->id) == sizeof r->id ||
        strnlen(r->name, sizeof r->name) == sizeof r->name ||
        strnlen(r->tmpl, sizeof r->tmpl) == sizeof r->tmpl ||
        strnlen(r->failure, sizeof r->failure) == sizeof r->failure ||
        !oss_dns1123_label_valid(r->id) || !oss_dns1123_label_valid(r->tmpl) ||
        r->state > DRV_RECORD_DELETING)
        __builtin_trap();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct drv_kube_obj o;
    oss_error err = {0};
    if (drv_kube_parse((const char *)data, size, &o, &err) == 0) {
        /* every field is a terminated string inside its buffer */
        if (strnlen(o.kind, sizeof o.kind) == sizeof o.kind ||
            strnlen(o.phase, sizeof o.phase) == sizeof o.phase ||
            strnlen(o.name, sizeof o.name) == sizeof o.name ||
            strnlen(o.message, sizeof o.message) == sizeof o.message ||
            strnlen(o.reason, sizeof o.reason) == sizeof o.reason)
            __builtin_trap();
    }
    oss_error rerr = {0};
    drv_record_parse_list((const char *)data, size, check_record, NULL, &rerr);
    return 0;
}
