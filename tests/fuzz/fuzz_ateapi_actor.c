/* libFuzzer target: decoding an ateapi ListActorsResponse from the wire and
 * mapping every Actor to a drv_actor (driver/substrate/actor_map.c), which
 * is what the backend does with each page the server sends.
 * Links drv_substrate (oss_proto, protobuf-c). */
#include "actor_map.h"

#include "ateapi.pb-c.h"

#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    Ateapi__ListActorsResponse *r = ateapi__list_actors_response__unpack(NULL, size, data);
    if (r == NULL)
        return 0;
    for (size_t i = 0; i < r->n_actors; i++) {
        struct drv_actor a;
        drv_actor_from_proto(r->actors[i], &a);
        (void)drv_actor_status_name(a.raw_status);
        drv_actor_clear(&a);
    }
    ateapi__list_actors_response__free_unpacked(r, NULL);
    return 0;
}
