/* ateapi Actor message -> the backend's drv_actor (pure). */
#ifndef DRV_SUBSTRATE_ACTOR_MAP_H
#define DRV_SUBSTRATE_ACTOR_MAP_H

#include "backend.h"

#include "ateapi.pb-c.h"

/* Fills ret (overwritten, not freed first).  Unknown status numbers (a newer
 * server's CRASHED 7, or later ones) are kept as is in both fields. */
void drv_actor_from_proto(const Ateapi__Actor *p, struct drv_actor *ret);

/* "RUNNING", ..., or "UNKNOWN" for numbers this build does not know. */
const char *drv_actor_status_name(int status);

#endif
