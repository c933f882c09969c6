/* Backend selection.  The Substrate and runsc backends are built on their
 * own branches; until they are wired in here, selecting one fails at
 * start-up with a clear message instead of serving a driver that can do
 * nothing. */
#include "backends.h"

#include <errno.h>

int drv_backend_open(const struct drv_config *c, struct drv_backend **ret, oss_error *err)
{
    enum drv_backend_kind kind = c->backend;
    if (kind == DRV_BACKEND_AUTO)
        kind = c->api_endpoint != NULL && c->api_endpoint[0] != '\0' ? DRV_BACKEND_SUBSTRATE
                                                                     : DRV_BACKEND_RUNSC;
    (void)ret;
    switch (kind) {
    case DRV_BACKEND_SUBSTRATE:
        return oss_err(err, OSS_ERR_INVALID, ENOSYS,
                       "backend substrate is not built into this binary");
    case DRV_BACKEND_RUNSC:
        return oss_err(err, OSS_ERR_INVALID, ENOSYS,
                       "backend runsc is not built into this binary (set api_endpoint to use "
                       "Substrate)");
    default:
        return oss_err(err, OSS_ERR_INVALID, EINVAL, "unknown backend %d", (int)kind);
    }
}
