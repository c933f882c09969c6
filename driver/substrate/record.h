/* The Substrate backend's durable record of a sandbox: the per-sandbox
 * Secret the driver owns ("<template name>-token"), applied for every
 * sandbox, pre-provisioned templates included.  The backend keeps no local
 * disk, and ateapi keeps no display name, so this Secret is where the
 * gateway's sandbox name and the state of a create that answered before it
 * finished survive a driver restart (docs/substrate-backend.md, "The
 * sandbox record").
 *
 *   labels       managed-by, sandbox-id, atespace (the restart's selector)
 *   annotations  owned-by, sandbox-name, actor-template, create
 *                ("pending" | "done" | "failed" | "deleting"), create-failure
 *   data.token   the sandbox token, only when the driver's own template
 *                hands it to the actor; dropped when a create fails
 *
 * Pure: JSON in and out, no I/O. */
#ifndef DRV_SUBSTRATE_RECORD_H
#define DRV_SUBSTRATE_RECORD_H

#include "backend.h"
#include "buf.h"
#include "config.h"
#include "error.h"

#include <stdbool.h>
#include <stddef.h>

#define DRV_LABEL_ATESPACE     "openshell.nvidia.com/atespace"
#define DRV_ANN_ACTOR_TEMPLATE "openshell.nvidia.com/actor-template"
#define DRV_ANN_CREATE         "openshell.nvidia.com/create"
#define DRV_ANN_CREATE_FAILURE "openshell.nvidia.com/create-failure"
#define DRV_RECORD_FAILURE_MAX 512

enum drv_record_state {
    DRV_RECORD_PENDING,  /* answered OK, finishing in the background */
    DRV_RECORD_DONE,     /* resumed once: the actor's status speaks */
    DRV_RECORD_FAILED,   /* the background create failed and was undone */
    DRV_RECORD_DELETING, /* deleted (answered), the template's golden boot still to end */
};
const char *drv_record_state_name(enum drv_record_state s);

/* What a record says, as parsed from a SecretList item. */
struct drv_record {
    char id[64];    /* label sandbox-id */
    char name[256]; /* annotation sandbox-name (the gateway's name) */
    char tmpl[64];  /* annotation actor-template */
    enum drv_record_state state;
    char failure[DRV_RECORD_FAILURE_MAX];
    bool ours; /* the template is the driver's own (osb-...), deleted with the sandbox */
};

/* The atespace this driver's actors live in: the configured one, else
 * "openshell".  Validity is checked when the backend opens. */
const char *drv_record_atespace(const struct drv_config *c);

/* The Secret for a new sandbox (state pending).  token_data: store the
 * spec's token under data.token. */
void drv_record_secret_build(const struct drv_sandbox_spec *spec, const struct drv_config *c,
                             const char *atespace, const char *secret_name, const char *tmpl,
                             bool token_data, oss_buf *out);

/* A JSON merge patch (RFC 7386) moving the record to `state`; for failed,
 * with the message and data removed (the token must not outlive the
 * create that needed it). */
void drv_record_state_patch(enum drv_record_state state, const char *failure, oss_buf *out);

/* The label selector (URL-encoded) that finds this driver's records. */
void drv_record_selector(const char *atespace, oss_buf *out);

/* Parses a SecretList body; calls fn for each item that is a valid record
 * of ours (owned-by ours, a DNS-1123 sandbox id, a known state).  Items
 * that fail these checks are skipped, not fatal: a malformed record must
 * not stop a driver from starting.  Fails only on a body that is not a
 * list. */
int drv_record_parse_list(const char *body, size_t len,
                          void (*fn)(const struct drv_record *r, void *ctx), void *ctx,
                          oss_error *err);

#endif
