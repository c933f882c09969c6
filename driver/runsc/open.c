/* Opening the runsc backend: paths, the runsc binary, the /proc/sys copy,
 * then crash recovery (reconcile.c) before the first call is served. */
#include "rb.h"
#include "runsc_backend.h"

#include "cleanup.h"
#include "fs.h"
#include "drv_util.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char *path_join(const char *a, const char *b)
{
    char *r = NULL;
    if (asprintf(&r, "%s/%s", a, b) < 0)
        abort();
    return r;
}

int drv_runsc_backend_open(const struct drv_config *c, struct drv_backend **ret, oss_error *err)
{
    if (c->state_dir == NULL || c->state_dir[0] != '/')
        return oss_err(err, OSS_ERR_INVALID, EINVAL, "state_dir must be an absolute path");
    if (geteuid() != 0)
        return oss_err(err, OSS_ERR_INVALID, EPERM,
                       "the runsc backend needs root (runsc, network namespaces, mounts)");
    struct rb *b = calloc(1, sizeof *b);
    if (b == NULL)
        abort();
    struct drv_backend *be = drv_runsc_backend_new(b);
    b->be = be;
    pthread_mutex_init(&b->lock, NULL);
    b->cfg = c;
    b->dir = path_join(c->state_dir, "runsc");
    b->sbdir = path_join(b->dir, "sandboxes");
    b->root = path_join(b->dir, "root");
    b->procsys = path_join(b->dir, "procsys");
    b->ops = path_join(b->dir, "ops");
    const char *pause = getenv("OSS_RUNSC_TEST_PAUSE");
    b->pause = pause != NULL && pause[0] != '\0' ? drv_strdup(pause) : NULL;
    drv_runsc_state_tag(c->state_dir, b->tag);

    /* runsc by name is looked up on PATH here, once: the child only execs */
    const char *runsc = c->runsc_path != NULL ? c->runsc_path : "runsc";
    static char found[PATH_MAX];
    if (strchr(runsc, '/') == NULL) {
        const char *path = getenv("PATH");
        _cleanup_free_ char *copy =
            drv_strdup(path != NULL ? path : "/usr/sbin:/usr/bin:/sbin:/bin");
        char *save = NULL;
        found[0] = '\0';
        for (char *d = strtok_r(copy, ":", &save); d != NULL; d = strtok_r(NULL, ":", &save)) {
            snprintf(found, sizeof found, "%s/%s", d, runsc);
            if (access(found, X_OK) == 0)
                break;
            found[0] = '\0';
        }
        if (found[0] == '\0') {
            oss_err(err, OSS_ERR_INVALID, ENOENT,
                    "runsc not found on PATH (apt-get install runsc, or set runsc_path)");
            goto fail;
        }
        runsc = found;
    } else if (access(runsc, X_OK) < 0) {
        oss_err_errno(err, "runsc_path %s", runsc);
        goto fail;
    }
    b->cmd.runsc = runsc;
    b->cmd.root = b->root;
    b->cmd.procsys = b->procsys;
    snprintf(b->cid_prefix, sizeof b->cid_prefix, "ossr%s-", b->tag);
    b->cmd.prefix = b->cid_prefix;
    b->cmd.ops_dir = b->ops;

    if (drv_runsc_pool_parse(c->runsc_subnet != NULL ? c->runsc_subnet : "10.243.0.0/16", &b->pool,
                             err) < 0)
        goto fail;
    if (oss_mkdir_p(b->sbdir, 0700, err) < 0 || oss_mkdir_p(b->root, 0700, err) < 0 ||
        oss_mkdir_p(b->ops, 0700, err) < 0 || chmod(c->state_dir, 0700) < 0 ||
        chmod(b->dir, 0700) < 0)
        goto fail;
    if (drv_runsc_procsys_copy(b->procsys, err) < 0 || drv_runsc_subreaper(err) < 0)
        goto fail;
    char marker[PATH_MAX];
    snprintf(marker, sizeof marker, "%s/" RB_PAUSE_MARKER, b->dir);
    unlink(marker);
    if (drv_runsc_reconcile(b, err) < 0)
        goto fail;
    *ret = be;
    return 0;
fail:
    if (err->domain == OSS_ERR_NONE)
        oss_err_errno(err, "preparing %s", b->dir);
    oss_err_prefix(err, "runsc backend");
    drv_runsc_backend_destroy(be);
    return -1;
}
