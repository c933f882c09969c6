/* Backend selection: --backend=substrate|runsc, or auto (Substrate when an
 * ateapi endpoint is configured, else the local runsc backend,
 * docs/runsc-backend.md). */
#include "backends.h"
#include "runsc/runsc_backend.h"
#include "substrate/substrate.h"

#include <errno.h>

int drv_backend_open(const struct drv_config *c, struct drv_backend **ret, oss_error *err)
{
    enum drv_backend_kind kind = c->backend;
    if (kind == DRV_BACKEND_AUTO)
        kind = c->api_endpoint != NULL && c->api_endpoint[0] != '\0' ? DRV_BACKEND_SUBSTRATE
                                                                     : DRV_BACKEND_RUNSC;
    switch (kind) {
    case DRV_BACKEND_SUBSTRATE:
        return drv_substrate_backend_open(c, ret, err);
    case DRV_BACKEND_RUNSC:
        return drv_runsc_backend_open(c, ret, err);
    default:
        return oss_err(err, OSS_ERR_INVALID, EINVAL, "unknown backend %d", (int)kind);
    }
}
