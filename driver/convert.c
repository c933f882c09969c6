#include "convert.h"

#include "cleanup.h"

#include <errno.h>
#include <grpc/status.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* protobuf-c declares string fields `char *` even when only read from. */
static char *unconst(const char *s)
{
    return (char *)(uintptr_t)(s != NULL ? s : "");
}

static char *xstrdup(const char *s)
{
    char *r = strdup(s != NULL ? s : "");
    if (r == NULL)
        abort(); /* same policy as oss_buf: ENOMEM is not recoverable here */
    return r;
}

static const Google__Protobuf__Value *struct_get(const Google__Protobuf__Struct *s, const char *k)
{
    if (s == NULL)
        return NULL;
    for (size_t i = 0; i < s->n_fields; i++)
        if (s->fields[i] != NULL && s->fields[i]->key != NULL && strcmp(s->fields[i]->key, k) == 0)
            return s->fields[i]->value;
    return NULL;
}

static const char *value_str(const Google__Protobuf__Value *v)
{
    if (v == NULL || v->kind_case != GOOGLE__PROTOBUF__VALUE__KIND_STRING_VALUE)
        return NULL;
    return v->string_value;
}

/* Appends key=value, replacing an earlier entry of the same key so the
 * later source wins (spec.environment over template.environment). */
static void kv_put(struct drv_kv **v, size_t *n, const char *key, const char *value)
{
    for (size_t i = 0; i < *n; i++)
        if (strcmp((*v)[i].key, key) == 0) {
            free((*v)[i].value);
            (*v)[i].value = xstrdup(value);
            return;
        }
    struct drv_kv *nv = realloc(*v, (*n + 1) * sizeof **v);
    if (nv == NULL)
        abort();
    *v = nv;
    nv[*n].key = xstrdup(key);
    nv[*n].value = xstrdup(value);
    (*n)++;
}

int drv_driver_config_apply(const Google__Protobuf__Struct *dc, struct drv_sandbox_spec *s,
                            oss_error *err)
{
    /* The gateway hands each driver only its own block of the public
     * template.driver_config (NVIDIA/OpenShell
     * crates/openshell-server/src/compute/mod.rs select_driver_config), and
     * leaves its schema to the driver: unknown keys are refused, as the
     * upstream docker driver does (deny_unknown_fields), so a typo is not
     * silently ignored. */
    if (dc == NULL)
        return 0;
    for (size_t i = 0; i < dc->n_fields; i++) {
        const Google__Protobuf__Struct__FieldsEntry *f = dc->fields[i];
        if (f == NULL || f->key == NULL)
            continue;
        if (strcmp(f->key, DRV_DRIVER_CONFIG_TEMPLATE) == 0) {
            const char *v = value_str(f->value);
            if (v == NULL)
                return oss_err(err, OSS_ERR_GRPC, GRPC_STATUS_INVALID_ARGUMENT,
                               "template.driver_config.substrate." DRV_DRIVER_CONFIG_TEMPLATE
                               " must be a string");
            free(s->template_override);
            s->template_override = v[0] != '\0' ? xstrdup(v) : NULL;
            continue;
        }
        return oss_err(err, OSS_ERR_GRPC, GRPC_STATUS_INVALID_ARGUMENT,
                       "template.driver_config.substrate has an unknown key \"%.64s\" "
                       "(known: " DRV_DRIVER_CONFIG_TEMPLATE ")",
                       f->key);
    }
    return 0;
}

int drv_spec_from_proto(const drv_pb_sandbox_t *sb, const char *default_ns,
                        struct drv_sandbox_spec *ret, oss_error *err)
{
    if (sb == NULL)
        return oss_err(err, OSS_ERR_GRPC, GRPC_STATUS_INVALID_ARGUMENT, "sandbox is missing");
    const Openshell__Compute__V1__DriverSandboxSpec *spec = sb->spec;
    if (spec == NULL)
        return oss_err(err, OSS_ERR_GRPC, GRPC_STATUS_INVALID_ARGUMENT, "sandbox.spec is missing");
    const Openshell__Compute__V1__DriverSandboxTemplate *tpl = spec->template_;
    if (tpl == NULL)
        return oss_err(err, OSS_ERR_GRPC, GRPC_STATUS_INVALID_ARGUMENT,
                       "sandbox.spec.template is missing");

    struct drv_sandbox_spec s = {0};
    s.id = xstrdup(sb->id);
    s.name = xstrdup(sb->name);
    s.namespace_ =
        xstrdup(sb->namespace_ != NULL && sb->namespace_[0] != '\0' ? sb->namespace_ : default_ns);
    s.image = xstrdup(tpl->image);
    if (spec->sandbox_token != NULL && spec->sandbox_token[0] != '\0')
        s.sandbox_token = xstrdup(spec->sandbox_token);
    s.log_level = xstrdup(spec->log_level);
    s.tty = spec->tty;

    if (spec->n_command > 0) {
        s.command = calloc(spec->n_command + 1, sizeof *s.command);
        if (s.command == NULL)
            abort();
        for (size_t i = 0; i < spec->n_command; i++)
            s.command[i] = xstrdup(spec->command[i]);
    }

    for (size_t i = 0; i < tpl->n_environment; i++)
        if (tpl->environment[i] != NULL && tpl->environment[i]->key != NULL)
            kv_put(&s.env, &s.nenv, tpl->environment[i]->key, tpl->environment[i]->value);
    for (size_t i = 0; i < spec->n_environment; i++)
        if (spec->environment[i] != NULL && spec->environment[i]->key != NULL)
            kv_put(&s.env, &s.nenv, spec->environment[i]->key, spec->environment[i]->value);

    /* platform_config: {"annotations": {k: "v"}, "substrate_actor_template": "t"};
     * the template may also sit in annotations (as the Rust driver read it).
     * Both are fallbacks: the gateway's channel for driver settings is
     * template.driver_config (see drv_driver_config_apply), which wins. */
    const Google__Protobuf__Value *ann = struct_get(tpl->platform_config, "annotations");
    if (ann != NULL && ann->kind_case == GOOGLE__PROTOBUF__VALUE__KIND_STRUCT_VALUE &&
        ann->struct_value != NULL) {
        const Google__Protobuf__Struct *as = ann->struct_value;
        for (size_t i = 0; i < as->n_fields; i++) {
            if (as->fields[i] == NULL || as->fields[i]->key == NULL)
                continue;
            const char *v = value_str(as->fields[i]->value);
            if (v != NULL)
                kv_put(&s.annotations, &s.nannotations, as->fields[i]->key, v);
        }
    }
    const char *override = value_str(struct_get(tpl->platform_config, "substrate_actor_template"));
    for (size_t i = 0; override == NULL && i < s.nannotations; i++)
        if (strcmp(s.annotations[i].key, "substrate_actor_template") == 0)
            override = s.annotations[i].value;
    if (override != NULL && override[0] != '\0')
        s.template_override = xstrdup(override);
    if (drv_driver_config_apply(tpl->driver_config, &s, err) < 0) {
        drv_sandbox_spec_clear(&s);
        return -1;
    }

    *ret = s;
    return 0;
}

void drv_pb_sandbox_from_actor(const struct drv_actor *a, struct drv_pb_sandbox *out)
{
    memset(out, 0, sizeof *out);
    openshell__compute__v1__driver_sandbox__init(&out->sb);
    openshell__compute__v1__driver_sandbox_status__init(&out->st);
    out->sb.id = unconst(a->id);
    out->sb.name = unconst(a->name);
    out->sb.namespace_ = unconst(a->namespace_);
    out->sb.workspace = unconst(NULL);
    out->sb.status = &out->st;
    out->st.sandbox_name = unconst(a->name);
    /* instance_id correlates supervisor connections; the actor id is the
     * only per-actor fact the sandbox itself can read (/run/ate/actor-id). */
    out->st.instance_id = unconst(a->id);
    /* where the shim's readyz/status answers, when the backend knows it */
    out->st.sandbox_fd = unconst(a->address);

    size_t n = drv_conditions_for(a, out->c);
    for (size_t i = 0; i < n; i++) {
        openshell__compute__v1__driver_condition__init(&out->cond[i]);
        out->cond[i].type = unconst(out->c[i].type);
        out->cond[i].status = unconst(out->c[i].status);
        out->cond[i].reason = unconst(out->c[i].reason);
        out->cond[i].message = unconst(out->c[i].message);
        out->cond[i].last_transition_time = unconst(NULL);
        out->condp[i] = &out->cond[i];
    }
    out->st.n_conditions = n;
    out->st.conditions = out->condp;
}

int drv_grpc_status_of(const oss_error *e)
{
    switch (e->domain) {
    case OSS_ERR_GRPC:
        if (e->code > GRPC_STATUS_OK && e->code <= GRPC_STATUS_UNAUTHENTICATED)
            return e->code;
        return GRPC_STATUS_UNKNOWN;
    case OSS_ERR_INVALID:
        return GRPC_STATUS_INVALID_ARGUMENT;
    case OSS_ERR_TIMEOUT:
        return GRPC_STATUS_DEADLINE_EXCEEDED;
    case OSS_ERR_ERRNO:
        if (e->code == ENOENT)
            return GRPC_STATUS_NOT_FOUND;
        if (e->code == ECONNREFUSED || e->code == ECONNRESET || e->code == EHOSTUNREACH ||
            e->code == ENETUNREACH || e->code == ETIMEDOUT)
            return GRPC_STATUS_UNAVAILABLE;
        return GRPC_STATUS_INTERNAL;
    case OSS_ERR_HTTP:
        if (e->code == 404)
            return GRPC_STATUS_NOT_FOUND;
        if (e->code == 409)
            return GRPC_STATUS_ALREADY_EXISTS;
        if (e->code == 401 || e->code == 403)
            return GRPC_STATUS_PERMISSION_DENIED;
        return e->code >= 500 ? GRPC_STATUS_UNAVAILABLE : GRPC_STATUS_INTERNAL;
    case OSS_ERR_CURL:
        return GRPC_STATUS_UNAVAILABLE;
    default:
        return GRPC_STATUS_INTERNAL;
    }
}
