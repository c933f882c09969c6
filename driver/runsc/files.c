/* The runsc backend's files under <state_dir>/runsc/sandboxes/<id>/
 * (docs/runsc-backend.md, "State layout"): paths, the record, the
 * identity, the token, the bundle, the console, removal. */
#include "rb.h"

#include "cleanup.h"
#include "fs.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

void drv_runsc_sbx_path(const struct rb *b, const char *id, const char *rel, char *out, size_t n)
{
    snprintf(out, n, "%s/%s%s%s", b->sbdir, id, rel[0] != '\0' ? "/" : "", rel);
}

int drv_runsc_save(struct rb *b, const struct drv_runsc_record *r, oss_error *err)
{
    char p[PATH_MAX];
    drv_runsc_sbx_path(b, r->id, "record.json", p, sizeof p);
    _cleanup_buf_ oss_buf out = OSS_BUF_INIT;
    drv_runsc_record_json(r, &out);
    if (oss_write_file_atomic(p, out.data, out.len, 0600, err) < 0) {
        oss_err_prefix(err, "saving the record of %s", r->id);
        return -1;
    }
    return 0;
}

void drv_runsc_slot_names(const struct rb *b, unsigned slot, struct drv_runsc_net_names *ret)
{
    drv_runsc_net_names(&b->pool, b->tag, slot, ret);
}

static int rm_one(const char *p, const struct stat *st, int type, struct FTW *f)
{
    (void)st;
    (void)f;
    if (type == FTW_DP)
        return rmdir(p) < 0 && errno != ENOENT ? -1 : 0;
    return unlink(p) < 0 && errno != ENOENT ? -1 : 0;
}

int drv_runsc_rm_rf(const char *path, oss_error *err)
{
    if (access(path, F_OK) < 0)
        return 0;
    if (nftw(path, rm_one, 16, FTW_DEPTH | FTW_PHYS) != 0)
        return oss_err_errno(err, "removing %s", path);
    return 0;
}

static __thread int64_t du_total;
static int du_one(const char *p, const struct stat *st, int type, struct FTW *f)
{
    (void)p;
    (void)f;
    if (type == FTW_F)
        du_total += st->st_size;
    return 0;
}

int64_t drv_runsc_du(const char *path)
{
    du_total = 0;
    if (nftw(path, du_one, 16, FTW_PHYS) != 0)
        return -1;
    return du_total;
}

int drv_runsc_remove_dir(struct rb *b, const char *id, oss_error *err)
{
    static const char *const parts[] = {"image", "image.tmp", "bundle",
                                        "ate",   "secrets",   "console.log"};
    char p[PATH_MAX];
    for (size_t i = 0; i < OSS_ARRAY_SIZE(parts); i++) {
        drv_runsc_sbx_path(b, id, parts[i], p, sizeof p);
        if (drv_runsc_rm_rf(p, err) < 0)
            return -1;
    }
    /* the record goes last: until then a restarted driver knows what to finish */
    drv_runsc_sbx_path(b, id, "", p, sizeof p);
    return drv_runsc_rm_rf(p, err);
}

int drv_runsc_write_identity(struct rb *b, const struct drv_runsc_record *r, const char *value,
                             oss_error *err)
{
    /* As Substrate's atelet (docs/platform/substrate.md, the identity
     * file): the directory is made anew and actor-id holds the actor's name
     * (the sandbox id), raw, without atespace or newline, written before
     * every run and every restore.  value: another id (a golden boot's
     * UUID), NULL for the actor's own. */
    char dir[PATH_MAX], p[PATH_MAX];
    drv_runsc_sbx_path(b, r->id, "ate", dir, sizeof dir);
    if (drv_runsc_rm_rf(dir, err) < 0 || oss_mkdir_p(dir, 0755, err) < 0)
        return -1;
    drv_runsc_sbx_path(b, r->id, "ate/" DRV_RUNSC_IDENTITY_NAME, p, sizeof p);
    if (value == NULL)
        value = r->id;
    return oss_write_file_atomic(p, value, strlen(value), 0644, err);
}

int drv_runsc_new_uuid(char out[DRV_RUNSC_UUID_LEN + 1], oss_error *err)
{
    unsigned char raw[16];
    if (getrandom(raw, sizeof raw, 0) != (ssize_t)sizeof raw)
        return oss_err_errno(err, "getrandom");
    drv_runsc_uuid_format(raw, out);
    return 0;
}

int drv_runsc_write_bundle(struct rb *b, const struct drv_runsc_record *r, oss_error *err)
{
    char bdir[PATH_MAX], ate[PATH_MAX], sec[PATH_MAX], cfgp[PATH_MAX], netns[PATH_MAX];
    drv_runsc_sbx_path(b, r->id, "bundle", bdir, sizeof bdir);
    drv_runsc_sbx_path(b, r->id, "ate", ate, sizeof ate);
    drv_runsc_sbx_path(b, r->id, "secrets", sec, sizeof sec);
    drv_runsc_sbx_path(b, r->id, "bundle/config.json", cfgp, sizeof cfgp);
    struct drv_runsc_net_names n;
    drv_runsc_slot_names(b, r->slot, &n);
    snprintf(netns, sizeof netns, "/run/netns/%s", n.ns);
    if (oss_mkdir_p(bdir, 0700, err) < 0)
        return -1;
    const char *const exes[] = {b->cfg->shim_path, b->cfg->supervisor_path, NULL};
    struct drv_runsc_bundle_in in = {
        .rootfs = r->rootfs,
        .argv = r->argv,
        .env = r->env,
        .identity_dir = ate,
        .token_dir = r->has_token ? sec : NULL,
        .netns_path = netns,
        .host_executables = exes,
        .hide_dir = b->cfg->state_dir,
    };
    /* validated by drv_config_validate; unset: Substrate's uid 0 */
    if (b->cfg->runsc_user == NULL || sscanf(b->cfg->runsc_user, "%u:%u", &in.uid, &in.gid) != 2)
        in.uid = in.gid = 0;
    _cleanup_buf_ oss_buf out = OSS_BUF_INIT;
    drv_runsc_bundle_json(&in, &out);
    return oss_write_file_atomic(cfgp, out.data, out.len, 0600, err);
}

int drv_runsc_write_token(struct rb *b, const char *id, const char *token, oss_error *err)
{
    char p[PATH_MAX];
    drv_runsc_sbx_path(b, id, "secrets", p, sizeof p);
    if (oss_mkdir_p(p, 0700, err) < 0)
        return -1;
    drv_runsc_sbx_path(b, id, "secrets/sandbox-token", p, sizeof p);
    return oss_write_file_atomic(p, token, strlen(token), 0600, err);
}

int drv_runsc_open_console(struct rb *b, const char *id, oss_error *err)
{
    char p[PATH_MAX];
    drv_runsc_sbx_path(b, id, "console.log", p, sizeof p);
    int fd = open(p, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0)
        return oss_err_errno(err, "opening %s", p);
    return fd;
}
