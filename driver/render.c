/* `openshell-driver-substrate render --spec FILE [--key value]...`: prints
 * what the Substrate backend would apply for one CreateSandbox request,
 * without contacting anything.  The request is a DriverSandbox in proto3
 * JSON (driver/spec_json.h); the configuration is loaded exactly as a start
 * loads it (file, env, flags).  The request goes through the server's own
 * create checks (request shape, conversion, reserved names dropped, spec
 * validation) and the template synthesis, so what is refused here is
 * refused by CreateSandbox with the same message.
 *
 * Output (stdout): one JSON document, a v1 List of the objects in apply
 * order: the token Secret (its data values replaced by "<redacted>", which
 * is not base64, so the output cannot be applied by mistake) and the
 * ActorTemplate.  A pre-provisioned template gives an empty List and a note
 * on stderr.  Exit 0 = rendered, 1 = refused (message on stderr),
 * 2 = usage or configuration error. */
#include "render.h"

#include "backend.h"
#include "buf.h"
#include "cleanup.h"
#include "config.h"
#include "convert.h"
#include "fs.h"
#include "spec_json.h"
#include "substrate/record.h"
#include "substrate/template.h"
#include "validate.h"

#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SPEC_MAX (1024 * 1024)

static void note_dropped(const char *name, void *ctx)
{
    (void)ctx;
    fprintf(stderr,
            "render: environment variable %s is set by the driver; the caller's value is "
            "ignored\n",
            name);
}

/* The Secret with every data value redacted: the synthesis itself stays the
 * one CreateSandbox uses, only its output is masked.  A record without a
 * token has no data. */
static int redact_secret(const char *json, oss_buf *out)
{
    json_object *o = json_tokener_parse(json);
    json_object *data = NULL;
    if (o == NULL) {
        return -1;
    }
    if (json_object_object_get_ex(o, "data", &data)) {
        if (!json_object_is_type(data, json_type_object)) {
            json_object_put(o);
            return -1;
        }
        json_object_object_foreach(data, k, v)
        {
            (void)v;
            json_object_object_add(data, k, json_object_new_string("<redacted>"));
        }
    }
    oss_buf_puts(out, json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
                                                            JSON_C_TO_STRING_NOSLASHESCAPE));
    json_object_put(o);
    return 0;
}

/* The checks CreateSandbox makes before the backend (server/handlers.c
 * check_create), then the Substrate backend's plan and synthesis. */
static int render(const struct drv_config *c, const Openshell__Compute__V1__DriverSandbox *sb,
                  oss_buf *out, oss_error *err)
{
    struct drv_sandbox_spec s = {0};
    if (drv_validate_request(sb, err) < 0 ||
        drv_spec_from_proto(sb, c->default_namespace, &s, err) < 0)
        return -1;
    drv_env_drop_reserved(&s, note_dropped, NULL);
    struct drv_template_plan plan;
    _cleanup_buf_ oss_buf secret = OSS_BUF_INIT;
    _cleanup_buf_ oss_buf tmpl = OSS_BUF_INIT;
    int r = -1;
    if (drv_validate_spec(&s, err) < 0 || drv_template_plan(&s, c, &plan, err) < 0)
        goto out;
    /* Every sandbox has its record Secret (the gateway's name, the create
     * state; the token only when the driver's own template reads it), also
     * with a pre-provisioned template: substrate/record.h. */
    drv_record_secret_build(&s, c, drv_record_atespace(c), plan.secret_name, plan.template_name,
                            plan.apply_secret, &secret);
    if (plan.apply_template && drv_template_build(&s, c, &tmpl, err) < 0)
        goto out;
    oss_buf_puts(out, "{\"apiVersion\":\"v1\",\"kind\":\"List\",\"items\":[");
    if (redact_secret(secret.data, out) < 0) {
        r = oss_err(err, OSS_ERR_INVALID, 0, "internal: the Secret is not JSON");
        goto out;
    }
    if (plan.apply_template)
        oss_buf_putc(out, ',');
    if (plan.apply_template)
        oss_buf_put(out, tmpl.data, tmpl.len);
    oss_buf_puts(out, "]}\n");
    if (!plan.apply_template)
        fprintf(stderr,
                "render: the sandbox uses the pre-provisioned ActorTemplate %s/%s: the driver "
                "applies only the sandbox's record Secret for it\n",
                drv_template_namespace(c), plan.template_name);
    r = 0;
out:
    if (secret.data != NULL)
        explicit_bzero(secret.data, secret.len);
    drv_sandbox_spec_clear(&s);
    return r;
}

int drv_render_main(int argc, char **argv, char **envp)
{
    /* argv: "<prog> render --spec FILE [config flags]"; the config loader
     * sees "<prog> [config flags]" */
    const char *spec_path = NULL;
    char **rest = calloc((size_t)argc + 1, sizeof *rest);
    if (rest == NULL)
        abort();
    int n = 0;
    rest[n++] = argv[0];
    for (int i = 2; i < argc; i++) {
        if (strcmp(argv[i], "--spec") == 0 && i + 1 < argc)
            spec_path = argv[++i];
        else if (strncmp(argv[i], "--spec=", 7) == 0)
            spec_path = argv[i] + 7;
        else
            rest[n++] = argv[i];
    }
    if (spec_path == NULL) {
        fprintf(stderr,
                "usage: %s render --spec FILE [--config FILE] [--key value]...\n"
                "  prints the Secret (redacted) and ActorTemplate CreateSandbox would "
                "apply\n  for the DriverSandbox in FILE (proto3 JSON; - reads stdin)\n",
                argv[0]);
        free(rest);
        return 2;
    }

    struct drv_config cfg;
    drv_config_defaults(&cfg);
    oss_error err = {0};
    _cleanup_buf_ oss_buf text = OSS_BUF_INIT;
    int rc = 2;
    if (drv_config_load(&cfg, n, rest, envp, &err) < 0 || drv_config_validate(&cfg, &err) < 0) {
        fprintf(stderr, "render: configuration: %s\n", err.msg);
        goto out;
    }
    if (oss_read_file(strcmp(spec_path, "-") == 0 ? "/dev/stdin" : spec_path, SPEC_MAX, &text,
                      &err) < 0) {
        fprintf(stderr, "render: %s: %s\n", spec_path, err.msg);
        goto out;
    }
    Openshell__Compute__V1__DriverSandbox *sb = NULL;
    rc = 1;
    if (drv_spec_json_parse(text.data != NULL ? text.data : "", text.len, &sb, &err) < 0) {
        fprintf(stderr, "render: %s: %s\n", spec_path, err.msg);
    } else {
        _cleanup_buf_ oss_buf out = OSS_BUF_INIT;
        if (render(&cfg, sb, &out, &err) < 0) {
            fprintf(stderr, "render: refused: %s\n", err.msg);
        } else {
            fwrite(out.data, 1, out.len, stdout);
            rc = fflush(stdout) == 0 ? 0 : 1;
        }
        drv_spec_json_free(sb);
    }
    if (text.data != NULL)
        explicit_bzero(text.data, text.len); /* it held the token */
out:
    drv_config_free(&cfg);
    free(rest);
    return rc;
}
