/* Golden-file test of the template synthesis: every case in
 * template_cases.c is synthesized and compared byte for byte with
 * tests/driver/substrate/golden/<case>.json (or <case>.err for a refused spec).
 *
 *   template_golden GOLDEN_DIR            compare (the ctest)
 *   template_golden GOLDEN_DIR --update   rewrite the files after an
 *                                         intended change; review the diff
 *
 * The check also holds an invariant no golden file can: the sandbox token
 * never appears in a template. */
#include "record.h"
#include "template.h"
#include "template_cases.h"

#include "buf.h"
#include "cleanup.h"
#include "error.h"
#include "fs.h"

#include <stdio.h>
#include <string.h>

static int produce(const struct golden_case *gc, oss_buf *out, bool *ret_is_err)
{
    struct drv_sandbox_spec spec = {0};
    struct drv_config c;
    golden_base_config(&c);
    gc->setup(&spec, &c);
    oss_error err = {0};
    int r = 0;
    switch (gc->kind) {
    case GOLDEN_TEMPLATE:
        r = drv_template_build(&spec, &c, out, &err);
        if (r == 0 && spec.sandbox_token && strstr(out->data, spec.sandbox_token)) {
            fprintf(stderr, "FAIL %s: the token appears in the template\n", gc->name);
            return -1;
        }
        break;
    case GOLDEN_SECRET: {
        struct drv_template_plan p;
        r = drv_template_plan(&spec, &c, &p, &err);
        if (r == 0)
            drv_record_secret_build(&spec, &c, drv_record_atespace(&c), p.secret_name,
                                    p.template_name, p.apply_secret, out);
        break;
    }
    case GOLDEN_PLAN: {
        struct drv_template_plan p;
        r = drv_template_plan(&spec, &c, &p, &err);
        if (r == 0)
            drv_template_plan_json(&p, &c, out);
        break;
    }
    }
    *ret_is_err = r < 0;
    if (r < 0) {
        oss_buf_reset(out);
        oss_buf_printf(out, "%s: %s", oss_err_domain_name(err.domain), err.msg);
    }
    oss_buf_putc(out, '\n');
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: %s GOLDEN_DIR [--update]\n", argv[0]);
        return 2;
    }
    bool update = argc > 2 && strcmp(argv[2], "--update") == 0;
    int failed = 0;
    for (size_t i = 0; i < golden_ncases; i++) {
        const struct golden_case *gc = &golden_cases[i];
        _cleanup_buf_ oss_buf out = OSS_BUF_INIT;
        bool is_err = false;
        if (produce(gc, &out, &is_err) < 0) {
            failed++;
            continue;
        }
        char path[4096];
        snprintf(path, sizeof path, "%s/%s.%s", argv[1], gc->name, is_err ? "err" : "json");
        oss_error err = {0};
        if (update) {
            if (oss_write_file_atomic(path, out.data, out.len, 0644, &err) < 0) {
                fprintf(stderr, "FAIL %s: %s\n", gc->name, err.msg);
                failed++;
            } else {
                printf("wrote %s\n", path);
            }
            continue;
        }
        _cleanup_buf_ oss_buf want = OSS_BUF_INIT;
        if (oss_read_file(path, 1 << 20, &want, &err) < 0) {
            fprintf(stderr, "FAIL %s: %s (got: %s)\n", gc->name, err.msg, out.data);
            failed++;
            continue;
        }
        if (want.len != out.len || memcmp(want.data, out.data, out.len) != 0) {
            fprintf(stderr, "FAIL %s: output differs from %s\n  want: %s  got:  %s", gc->name, path,
                    want.data, out.data);
            failed++;
            continue;
        }
        printf("ok %s (%s)\n", gc->name, is_err ? "refused as expected" : "identical");
    }
    if (failed)
        fprintf(stderr,
                "%d golden case(s) failed; if the change is intended, regenerate with\n"
                "  build/tests/driver/substrate/template_golden tests/driver/substrate/golden "
                "--update\n",
                failed);
    return failed ? 1 : 0;
}
