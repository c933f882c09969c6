#include "actor_map.h"
#include "drv_util.h"

#include <stdlib.h>
#include <string.h>

static char *dup_nonempty(const char *s)
{
    return s != NULL && s[0] != '\0' ? drv_strdup(s) : NULL;
}

void drv_actor_from_proto(const Ateapi__Actor *p, struct drv_actor *ret)
{
    memset(ret, 0, sizeof *ret);
    ret->id = dup_nonempty(p->actor_id);
    /* ateapi has no display name: the sandbox name is the server's to keep */
    ret->name = dup_nonempty(p->actor_id);
    ret->namespace_ = dup_nonempty(p->actor_template_namespace);
    ret->template_name = dup_nonempty(p->actor_template_name);
    ret->raw_status = (int)p->status;
    ret->status = (enum drv_actor_status)p->status;
    ret->version = p->version > 0 ? (uint64_t)p->version : 0;
    ret->address = dup_nonempty(p->ateom_pod_ip);
}

const char *drv_actor_status_name(int status)
{
    switch (status) {
    case DRV_ACTOR_UNSPECIFIED:
        return "UNSPECIFIED";
    case DRV_ACTOR_RESUMING:
        return "RESUMING";
    case DRV_ACTOR_RUNNING:
        return "RUNNING";
    case DRV_ACTOR_SUSPENDING:
        return "SUSPENDING";
    case DRV_ACTOR_SUSPENDED:
        return "SUSPENDED";
    case DRV_ACTOR_PAUSING:
        return "PAUSING";
    case DRV_ACTOR_PAUSED:
        return "PAUSED";
    case DRV_ACTOR_CRASHED:
        return "CRASHED";
    default:
        return "UNKNOWN";
    }
}
