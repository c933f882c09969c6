/* ateapi.Control client (see ateapi.h).
 *
 * Each unary call: its own pluck completion queue, one batch with all six
 * ops, pluck until done, destroy.  That keeps calls independent of each
 * other and of the server's own completion queues, so worker threads may
 * call in concurrently. */
#include "ateapi.h"

#include "actor_map.h"
#include "buf.h"
#include "cleanup.h"
#include "fs.h"
#include "retry.h"
#include "drv_util.h"
#include "util.h"

#include "ateapi.pb-c.h"

#include <errno.h>
#include <grpc/byte_buffer_reader.h>
#include <grpc/grpc.h>
#include <grpc/grpc_security.h>
#include <grpc/support/alloc.h>
#include <grpc/support/time.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* protobuf-c's message structs hold `char *` for strings and its _INIT
 * macros cast away const from protobuf_c_empty_string; request messages here
 * only borrow the caller's strings for packing, never write through them. */
#pragma GCC diagnostic ignored "-Wcast-qual"

#define DEFAULT_TIMEOUT_MS      10000
#define DEFAULT_LONG_TIMEOUT_MS 60000
#define DEFAULT_SERVER_NAME     "api.ate-system.svc"
#define TOKEN_MAX               (64 * 1024)
#define LIST_PAGE_SIZE          1000
#define LIST_MAX_PAGES          100000 /* a server that never ends its pages */

struct drv_ateapi {
    grpc_channel *chan;
    char *token_path;
    int64_t timeout_ms;
    int64_t long_timeout_ms;
    struct drv_retry_policy retry;
};

static const char *code_name(int c)
{
    static const char *const names[] = {
        "OK",
        "CANCELLED",
        "UNKNOWN",
        "INVALID_ARGUMENT",
        "DEADLINE_EXCEEDED",
        "NOT_FOUND",
        "ALREADY_EXISTS",
        "PERMISSION_DENIED",
        "RESOURCE_EXHAUSTED",
        "FAILED_PRECONDITION",
        "ABORTED",
        "OUT_OF_RANGE",
        "UNIMPLEMENTED",
        "INTERNAL",
        "UNAVAILABLE",
        "DATA_LOSS",
        "UNAUTHENTICATED",
    };
    return (c >= 0 && (size_t)c < OSS_ARRAY_SIZE(names)) ? names[c] : "?";
}

static char *read_text(const char *path, oss_error *err)
{
    _cleanup_buf_ oss_buf b = OSS_BUF_INIT;
    if (oss_read_file(path, 1 << 20, &b, err) < 0)
        return NULL;
    return oss_buf_steal(&b);
}

int drv_ateapi_open(const struct drv_config *c, struct drv_ateapi **ret, oss_error *err)
{
    if (c->api_endpoint == NULL || c->api_endpoint[0] == '\0')
        return oss_err(err, OSS_ERR_INVALID, 0, "api_endpoint is not configured");
    grpc_channel_credentials *creds;
    if (c->api_plaintext) {
        creds = grpc_insecure_credentials_create();
    } else {
        _cleanup_free_ char *ca = NULL;
        _cleanup_free_ char *cert = NULL;
        _cleanup_free_ char *key = NULL;
        if (c->api_tls_ca_path && c->api_tls_ca_path[0] &&
            (ca = read_text(c->api_tls_ca_path, err)) == NULL) {
            oss_err_prefix(err, "ateapi CA");
            return -1;
        }
        bool have_cert = c->api_tls_cert_path && c->api_tls_cert_path[0];
        bool have_key = c->api_tls_key_path && c->api_tls_key_path[0];
        if (have_cert != have_key)
            return oss_err(err, OSS_ERR_INVALID, 0,
                           "api_tls_cert_path and api_tls_key_path must be set together");
        if (have_cert && ((cert = read_text(c->api_tls_cert_path, err)) == NULL ||
                          (key = read_text(c->api_tls_key_path, err)) == NULL)) {
            oss_err_prefix(err, "ateapi client certificate");
            return -1;
        }
        grpc_ssl_pem_key_cert_pair pair = {.private_key = key, .cert_chain = cert};
        /* NULL roots: grpc's default trust store */
        creds = grpc_ssl_credentials_create(ca, have_cert ? &pair : NULL, NULL, NULL);
        if (key)
            explicit_bzero(key, strlen(key));
    }
    if (creds == NULL)
        return oss_err(err, OSS_ERR_GRPC, GRPC_STATUS_INTERNAL, "creating ateapi credentials");

    const char *server_name = (c->api_tls_server_name && c->api_tls_server_name[0])
                                  ? c->api_tls_server_name
                                  : DEFAULT_SERVER_NAME;
    grpc_arg args[3];
    size_t nargs = 0;
    /* grpc's own reconnect backoff (1 s growing to 120 s) would outlast our
     * deadlines after an ate-api restart; keep it short and let our retry
     * policy pace the calls. */
    args[nargs++] = (grpc_arg){.type = GRPC_ARG_INTEGER,
                               .key = (char *)GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS,
                               .value.integer = 100};
    args[nargs++] = (grpc_arg){.type = GRPC_ARG_INTEGER,
                               .key = (char *)GRPC_ARG_MAX_RECONNECT_BACKOFF_MS,
                               .value.integer = 2000};
    if (!c->api_plaintext)
        args[nargs++] = (grpc_arg){.type = GRPC_ARG_STRING,
                                   .key = (char *)GRPC_SSL_TARGET_NAME_OVERRIDE_ARG,
                                   .value.string = (char *)server_name};
    grpc_channel_args cargs = {.num_args = nargs, .args = args};

    grpc_init();
    grpc_channel *chan = grpc_channel_create(c->api_endpoint, creds, &cargs);
    grpc_channel_credentials_release(creds);
    if (chan == NULL) {
        grpc_shutdown();
        return oss_err(err, OSS_ERR_GRPC, GRPC_STATUS_INTERNAL, "creating channel to %s",
                       c->api_endpoint);
    }
    struct drv_ateapi *a = calloc(1, sizeof *a);
    if (a == NULL)
        abort();
    a->chan = chan;
    a->token_path = (c->api_bearer_token_path && c->api_bearer_token_path[0])
                        ? strdup(c->api_bearer_token_path)
                        : NULL;
    a->timeout_ms = c->api_timeout_ms > 0 ? c->api_timeout_ms : DEFAULT_TIMEOUT_MS;
    a->long_timeout_ms =
        c->api_long_timeout_ms > 0 ? c->api_long_timeout_ms : DEFAULT_LONG_TIMEOUT_MS;
    a->retry = (struct drv_retry_policy)DRV_RETRY_POLICY_DEFAULT;
    *ret = a;
    return 0;
}

void drv_ateapi_close(struct drv_ateapi *a)
{
    if (a == NULL)
        return;
    grpc_channel_destroy(a->chan);
    free(a->token_path);
    free(a);
    grpc_shutdown();
}

/* The token, trimmed; re-read on every call because projected
 * service-account tokens rotate under us. */
static int read_token(const struct drv_ateapi *a, oss_buf *out, oss_error *err)
{
    if (oss_read_file(a->token_path, TOKEN_MAX, out, err) < 0) {
        oss_err_prefix(err, "reading the ateapi bearer token file");
        return -1;
    }
    while (out->len > 0 && (out->data[out->len - 1] == '\n' || out->data[out->len - 1] == '\r' ||
                            out->data[out->len - 1] == ' '))
        out->data[--out->len] = '\0';
    if (out->len == 0)
        return oss_err(err, OSS_ERR_INVALID, 0, "the ateapi bearer token file %s is empty",
                       a->token_path);
    /* a header value: a stray control character would at best break the
     * call; the value itself is never echoed */
    for (size_t i = 0; i < out->len; i++)
        if ((unsigned char)out->data[i] <= 0x20 || (unsigned char)out->data[i] >= 0x7f)
            return oss_err(err, OSS_ERR_INVALID, 0,
                           "the ateapi bearer token file %s holds characters a token cannot "
                           "have",
                           a->token_path);
    return 0;
}

static void wipe_buf(oss_buf *b)
{
    if (b->data)
        explicit_bzero(b->data, b->cap);
    oss_buf_free(b);
}

struct call_result {
    grpc_status_code status;
    char *details;
    oss_buf body;
};

/* One attempt; transport problems come back as a status, like the server's. */
static int call_once(struct drv_ateapi *a, const char *method, const uint8_t *req, size_t reqlen,
                     int64_t timeout_ms, struct call_result *res, oss_error *err)
{
    oss_buf auth = OSS_BUF_INIT;
    grpc_metadata md;
    size_t nmd = 0;
    if (a->token_path) {
        oss_buf tok = OSS_BUF_INIT;
        if (read_token(a, &tok, err) < 0) {
            wipe_buf(&tok);
            return -1;
        }
        oss_buf_puts(&auth, "Bearer ");
        oss_buf_put(&auth, tok.data, tok.len);
        wipe_buf(&tok);
        md.key = grpc_slice_from_static_string("authorization");
        md.value = grpc_slice_from_copied_buffer(auth.data, auth.len);
        nmd = 1;
        wipe_buf(&auth);
    }

    grpc_completion_queue *cq = grpc_completion_queue_create_for_pluck(NULL);
    gpr_timespec deadline =
        gpr_time_add(gpr_now(GPR_CLOCK_MONOTONIC), gpr_time_from_millis(timeout_ms, GPR_TIMESPAN));
    grpc_slice msl = grpc_slice_from_static_string(method);
    grpc_call *call = grpc_channel_create_call(a->chan, NULL, GRPC_PROPAGATE_DEFAULTS, cq, msl,
                                               NULL, deadline, NULL);

    grpc_slice s = grpc_slice_from_copied_buffer((const char *)req, reqlen);
    grpc_byte_buffer *send = grpc_raw_byte_buffer_create(&s, 1);
    grpc_slice_unref(s);
    grpc_byte_buffer *recv = NULL;
    grpc_metadata_array init_md, trail_md;
    grpc_metadata_array_init(&init_md);
    grpc_metadata_array_init(&trail_md);
    grpc_slice details = grpc_empty_slice();
    grpc_status_code status = GRPC_STATUS_UNKNOWN;

    grpc_op ops[6];
    memset(ops, 0, sizeof ops);
    ops[0].op = GRPC_OP_SEND_INITIAL_METADATA;
    ops[0].data.send_initial_metadata.count = nmd;
    ops[0].data.send_initial_metadata.metadata = nmd ? &md : NULL;
    ops[1].op = GRPC_OP_SEND_MESSAGE;
    ops[1].data.send_message.send_message = send;
    ops[2].op = GRPC_OP_SEND_CLOSE_FROM_CLIENT;
    ops[3].op = GRPC_OP_RECV_INITIAL_METADATA;
    ops[3].data.recv_initial_metadata.recv_initial_metadata = &init_md;
    ops[4].op = GRPC_OP_RECV_MESSAGE;
    ops[4].data.recv_message.recv_message = &recv;
    ops[5].op = GRPC_OP_RECV_STATUS_ON_CLIENT;
    ops[5].data.recv_status_on_client.trailing_metadata = &trail_md;
    ops[5].data.recv_status_on_client.status = &status;
    ops[5].data.recv_status_on_client.status_details = &details;

    int tag;
    grpc_call_error ce = grpc_call_start_batch(call, ops, OSS_ARRAY_SIZE(ops), &tag, NULL);
    int rc = 0;
    if (ce != GRPC_CALL_OK) {
        rc = oss_err(err, OSS_ERR_GRPC, GRPC_STATUS_INTERNAL, "%s: starting the call failed (%d)",
                     method, (int)ce);
    } else {
        /* the call's deadline bounds this wait */
        grpc_event ev =
            grpc_completion_queue_pluck(cq, &tag, gpr_inf_future(GPR_CLOCK_REALTIME), NULL);
        if (ev.type != GRPC_OP_COMPLETE)
            rc = oss_err(err, OSS_ERR_GRPC, GRPC_STATUS_INTERNAL, "%s: completion queue failed",
                         method);
    }
    if (rc == 0) {
        res->status = status;
        res->details = grpc_slice_to_c_string(details);
        if (recv != NULL) {
            grpc_byte_buffer_reader rd;
            if (grpc_byte_buffer_reader_init(&rd, recv)) {
                grpc_slice all = grpc_byte_buffer_reader_readall(&rd);
                oss_buf_put(&res->body, GRPC_SLICE_START_PTR(all), GRPC_SLICE_LENGTH(all));
                grpc_slice_unref(all);
                grpc_byte_buffer_reader_destroy(&rd);
            }
        }
    }

    if (recv)
        grpc_byte_buffer_destroy(recv);
    grpc_byte_buffer_destroy(send);
    grpc_metadata_array_destroy(&init_md);
    grpc_metadata_array_destroy(&trail_md);
    grpc_slice_unref(details);
    grpc_call_unref(call);
    grpc_completion_queue_shutdown(cq);
    while (grpc_completion_queue_pluck(cq, NULL, gpr_inf_future(GPR_CLOCK_REALTIME), NULL).type !=
           GRPC_QUEUE_SHUTDOWN)
        ;
    grpc_completion_queue_destroy(cq);
    if (nmd) {
        grpc_slice_unref(md.value);
    }
    return rc;
}

static uint32_t jitter_rand(void)
{
    static __thread uint32_t state;
    if (state == 0)
        state = (uint32_t)oss_mono_ns() ^ (uint32_t)gettid() ^ 0x9e3779b9u;
    /* xorshift32: jitter only needs to differ between clients */
    state ^= state << 13;
    state ^= state >> 17;
    state ^= state << 5;
    return state;
}

/* A unary call with retries; on success *ret_resp is the unpacked reply. */
static int unary(struct drv_ateapi *a, const char *method, const ProtobufCMessage *req,
                 const ProtobufCMessageDescriptor *resp_desc, int64_t timeout_ms,
                 ProtobufCMessage **ret_resp, unsigned *ret_attempts, oss_error *err)
{
    size_t len = protobuf_c_message_get_packed_size(req);
    _cleanup_free_ uint8_t *buf = malloc(len ? len : 1);
    if (buf == NULL)
        abort();
    protobuf_c_message_pack(req, buf);

    int64_t start = oss_mono_ms();
    int64_t end = start + timeout_ms;
    for (unsigned attempt = 0;; attempt++) {
        int64_t remaining = end - oss_mono_ms();
        if (remaining < 1)
            remaining = 1;
        struct call_result res = {.body = OSS_BUF_INIT};
        if (call_once(a, method, buf, len, remaining, &res, err) < 0)
            return -1;
        if (ret_attempts)
            *ret_attempts = attempt + 1;
        if (res.status == GRPC_STATUS_OK) {
            ProtobufCMessage *m =
                protobuf_c_message_unpack(resp_desc, NULL, res.body.len,
                                          (const uint8_t *)(res.body.data ? res.body.data : ""));
            gpr_free(res.details);
            oss_buf_free(&res.body);
            if (m == NULL)
                return oss_err(err, OSS_ERR_GRPC, GRPC_STATUS_INTERNAL,
                               "ateapi %s: cannot decode the reply", method);
            *ret_resp = m;
            return 0;
        }
        int64_t delay = -1;
        if (drv_retry_code_retryable(res.status))
            delay = drv_retry_delay_ms(&a->retry, attempt, jitter_rand(), end - oss_mono_ms());
        if (delay < 0) {
            int64_t spent = oss_mono_ms() - start;
            if (attempt > 0 || res.status == GRPC_STATUS_DEADLINE_EXCEEDED)
                oss_err(err, OSS_ERR_GRPC, res.status,
                        "ateapi %s: %s: %s (after %u attempts in %lld ms, deadline %lld ms)",
                        method, code_name(res.status), res.details ? res.details : "", attempt + 1,
                        (long long)spent, (long long)timeout_ms);
            else
                oss_err(err, OSS_ERR_GRPC, res.status, "ateapi %s: %s: %s", method,
                        code_name(res.status), res.details ? res.details : "");
            gpr_free(res.details);
            oss_buf_free(&res.body);
            return -1;
        }
        gpr_free(res.details);
        oss_buf_free(&res.body);
        drv_sleep_ms(delay);
    }
}

#define M(x) ((const ProtobufCMessage *)(x))

int drv_ateapi_create_atespace(struct drv_ateapi *a, const char *name, oss_error *err)
{
    Ateapi__CreateAtespaceRequest req = ATEAPI__CREATE_ATESPACE_REQUEST__INIT;
    req.name = (char *)name;
    ProtobufCMessage *resp = NULL;
    oss_error e = {0};
    if (unary(a, "/ateapi.Control/CreateAtespace", M(&req),
              &ateapi__create_atespace_response__descriptor, a->timeout_ms, &resp, NULL, &e) < 0) {
        if (e.domain == OSS_ERR_GRPC && e.code == GRPC_STATUS_ALREADY_EXISTS)
            return 0;
        *err = e;
        return -1;
    }
    protobuf_c_message_free_unpacked(resp, NULL);
    return 0;
}

/* Replies that carry an Actor in field 1 share this layout. */
static int actor_reply(ProtobufCMessage *resp, Ateapi__Actor *actor, struct drv_actor *ret,
                       const char *what, oss_error *err)
{
    if (actor == NULL) {
        protobuf_c_message_free_unpacked(resp, NULL);
        return oss_err(err, OSS_ERR_GRPC, GRPC_STATUS_INTERNAL, "ateapi %s: reply has no actor",
                       what);
    }
    if (ret)
        drv_actor_from_proto(actor, ret);
    protobuf_c_message_free_unpacked(resp, NULL);
    return 0;
}

int drv_ateapi_create_actor(struct drv_ateapi *a, const char *atespace, const char *name,
                            const char *tmpl_ns, const char *tmpl_name, struct drv_actor *ret,
                            unsigned *ret_attempts, oss_error *err)
{
    Ateapi__ActorRef ref = ATEAPI__ACTOR_REF__INIT;
    ref.atespace = (char *)atespace;
    ref.name = (char *)name;
    Ateapi__CreateActorRequest req = ATEAPI__CREATE_ACTOR_REQUEST__INIT;
    req.actor_ref = &ref;
    req.actor_template_namespace = (char *)tmpl_ns;
    req.actor_template_name = (char *)tmpl_name;
    ProtobufCMessage *resp = NULL;
    if (unary(a, "/ateapi.Control/CreateActor", M(&req), &ateapi__create_actor_response__descriptor,
              a->timeout_ms, &resp, ret_attempts, err) < 0)
        return -1;
    return actor_reply(resp, ((Ateapi__CreateActorResponse *)resp)->actor, ret, "CreateActor", err);
}

int drv_ateapi_get_actor(struct drv_ateapi *a, const char *atespace, const char *name,
                         struct drv_actor *ret, oss_error *err)
{
    Ateapi__ActorRef ref = ATEAPI__ACTOR_REF__INIT;
    ref.atespace = (char *)atespace;
    ref.name = (char *)name;
    Ateapi__GetActorRequest req = ATEAPI__GET_ACTOR_REQUEST__INIT;
    req.actor_ref = &ref;
    ProtobufCMessage *resp = NULL;
    if (unary(a, "/ateapi.Control/GetActor", M(&req), &ateapi__get_actor_response__descriptor,
              a->timeout_ms, &resp, NULL, err) < 0)
        return -1;
    return actor_reply(resp, ((Ateapi__GetActorResponse *)resp)->actor, ret, "GetActor", err);
}

int drv_ateapi_transition(struct drv_ateapi *a, enum drv_ateapi_op op, const char *atespace,
                          const char *name, struct drv_actor *ret, oss_error *err)
{
    Ateapi__ActorRef ref = ATEAPI__ACTOR_REF__INIT;
    ref.atespace = (char *)atespace;
    ref.name = (char *)name;
    /* The three requests share one layout: actor_ref in field 1 (Resume's
     * boot flag stays false: restore from the snapshot). */
    Ateapi__ResumeActorRequest rreq = ATEAPI__RESUME_ACTOR_REQUEST__INIT;
    Ateapi__SuspendActorRequest sreq = ATEAPI__SUSPEND_ACTOR_REQUEST__INIT;
    Ateapi__PauseActorRequest preq = ATEAPI__PAUSE_ACTOR_REQUEST__INIT;
    const ProtobufCMessage *req;
    const ProtobufCMessageDescriptor *desc;
    const char *method;
    switch (op) {
    case DRV_ATEAPI_RESUME:
        rreq.actor_ref = &ref;
        req = M(&rreq), desc = &ateapi__resume_actor_response__descriptor;
        method = "/ateapi.Control/ResumeActor";
        break;
    case DRV_ATEAPI_SUSPEND:
        sreq.actor_ref = &ref;
        req = M(&sreq), desc = &ateapi__suspend_actor_response__descriptor;
        method = "/ateapi.Control/SuspendActor";
        break;
    default:
        preq.actor_ref = &ref;
        req = M(&preq), desc = &ateapi__pause_actor_response__descriptor;
        method = "/ateapi.Control/PauseActor";
        break;
    }
    ProtobufCMessage *resp = NULL;
    if (unary(a, method, req, desc, a->long_timeout_ms, &resp, NULL, err) < 0)
        return -1;
    /* every one of the three replies is { Actor actor = 1; } */
    return actor_reply(resp, ((Ateapi__ResumeActorResponse *)resp)->actor, ret, method, err);
}

int drv_ateapi_delete_actor(struct drv_ateapi *a, const char *atespace, const char *name,
                            oss_error *err)
{
    Ateapi__ActorRef ref = ATEAPI__ACTOR_REF__INIT;
    ref.atespace = (char *)atespace;
    ref.name = (char *)name;
    Ateapi__DeleteActorRequest req = ATEAPI__DELETE_ACTOR_REQUEST__INIT;
    req.actor_ref = &ref;
    ProtobufCMessage *resp = NULL;
    if (unary(a, "/ateapi.Control/DeleteActor", M(&req), &ateapi__delete_actor_response__descriptor,
              a->timeout_ms, &resp, NULL, err) < 0)
        return -1;
    protobuf_c_message_free_unpacked(resp, NULL);
    return 0;
}

int drv_ateapi_list_actors(struct drv_ateapi *a, const char *atespace, struct drv_actor **ret,
                           size_t *ret_n, oss_error *err)
{
    struct drv_actor *v = NULL;
    size_t n = 0, cap = 0;
    _cleanup_free_ char *token = strdup("");
    for (unsigned page = 0;; page++) {
        if (page >= LIST_MAX_PAGES) {
            drv_actor_list_free(v, n);
            return oss_err(err, OSS_ERR_GRPC, GRPC_STATUS_INTERNAL,
                           "ateapi ListActors: more than %d pages", LIST_MAX_PAGES);
        }
        Ateapi__ListActorsRequest req = ATEAPI__LIST_ACTORS_REQUEST__INIT;
        req.page_size = LIST_PAGE_SIZE;
        req.page_token = token;
        req.atespace = (char *)atespace;
        ProtobufCMessage *resp = NULL;
        if (unary(a, "/ateapi.Control/ListActors", M(&req),
                  &ateapi__list_actors_response__descriptor, a->timeout_ms, &resp, NULL, err) < 0) {
            drv_actor_list_free(v, n);
            return -1;
        }
        Ateapi__ListActorsResponse *r = (Ateapi__ListActorsResponse *)resp;
        for (size_t i = 0; i < r->n_actors; i++) {
            const Ateapi__Actor *p = r->actors[i];
            /* The atespace filter is a server-side hint; an older server
             * ignores it, so filter again here. */
            if (p->atespace == NULL || strcmp(p->atespace, atespace) != 0)
                continue;
            if (n == cap) {
                cap = cap ? cap * 2 : 64;
                v = realloc(v, cap * sizeof *v);
                if (v == NULL)
                    abort();
            }
            drv_actor_from_proto(p, &v[n++]);
        }
        free(token);
        token = strdup(r->next_page_token ? r->next_page_token : "");
        protobuf_c_message_free_unpacked(resp, NULL);
        if (token == NULL)
            abort();
        if (token[0] == '\0')
            break;
    }
    *ret = v;
    *ret_n = n;
    return 0;
}
