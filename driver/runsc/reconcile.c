/* Crash recovery.  At start-up every record is loaded and settled against
 * what runsc and the kernel say, following the intent it was written with:
 *
 *   admitting the create never answered: undo it (container, namespace,
 *             directory); the gateway keeps no row for a failed call
 *   creating  the create answered OK and was finishing in the background:
 *             undo what it made (container, namespace, token) and keep the
 *             record as a failed create, shown until Delete
 *   stopping  "image/" exists (it is renamed into place only when whole):
 *             finish the stop; else the container still runs: RUNNING;
 *             else the sandbox is lost: a terminal failure
 *   starting  the container runs: RUNNING; else undo the restore:
 *             SUSPENDED again (the image is still there)
 *   deleting  finish the delete
 *   none      RUNNING must still run (else a terminal failure; a machine
 *             reboot ends here); SUSPENDED must have its image
 *
 * Then leftovers nobody owns are removed: containers in our runsc root
 * without a record, namespaces with our tag without a record's slot,
 * sandbox directories without a readable record. */
#include "rb.h"

#include "cleanup.h"
#include "fs.h"
#include "log.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* above runsc's own longest timeout in backend.c (120 s): only a wedged
 * runsc is killed */
#define OPS_WAIT_MS 130000

static bool dir_exists(const char *p)
{
    struct stat st;
    return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

static void net_down(struct rb *b, unsigned slot)
{
    if (slot == 0)
        return;
    struct drv_runsc_net_names n;
    drv_runsc_slot_names(b, slot, &n);
    oss_error e = {0};
    if (drv_runsc_net_exists(&n) && drv_runsc_net_down(&n, &e) < 0)
        log_warn("reconcile: %s", e.msg);
}

static void destroy(struct rb *b, const char *id)
{
    oss_error e = {0};
    if (drv_runsc_destroy(&b->cmd, id, &e) < 0)
        log_warn("reconcile: container %s: %s", id, e.msg);
}

static void set_failure(struct drv_runsc_record *r, const char *msg)
{
    free(r->failure);
    r->failure = strdup(msg);
    if (r->failure == NULL)
        abort();
    r->status = DRV_ACTOR_CRASHED;
}

/* Returns true when the record survives (false: the sandbox is gone). */
static bool settle_one(struct rb *b, struct drv_runsc_record *r)
{
    char st[32] = "missing", img[PATH_MAX], tmp[PATH_MAX];
    int pid = 0;
    oss_error e = {0};
    if (drv_runsc_state(&b->cmd, r->id, st, sizeof st, &pid, &e) < 0) {
        /* runsc cannot tell: change nothing now, a later Delete cleans up */
        log_warn("reconcile: runsc state %s: %s", r->id, e.msg);
        return true;
    }
    drv_runsc_sbx_path(b, r->id, "image", img, sizeof img);
    drv_runsc_sbx_path(b, r->id, "image.tmp", tmp, sizeof tmp);
    enum drv_runsc_intent was = r->intent;
    char op[PATH_MAX];
    snprintf(op, sizeof op, "%s/%s.checkpoint", b->ops, r->id);
    bool ckpt_done = drv_runsc_op_status(op) == 0 && dir_exists(tmp);
    struct drv_runsc_settlement s;
    drv_runsc_settle(r->intent, r->status, st, dir_exists(img), ckpt_done, &s);

    if (s.publish_image && rename(tmp, img) < 0) {
        /* keep everything as it is: the image must not be lost */
        log_warn("reconcile: publishing the checkpoint of %s: %s", r->id, strerror(errno));
        return true;
    }
    if (s.destroy)
        destroy(b, r->id);
    if (s.net_down) {
        net_down(b, r->slot);
        if (s.slot_to_prev)
            r->prev_slot = r->slot;
        r->slot = 0;
        r->pid = 0;
    }
    if (s.remove) {
        if (drv_runsc_remove_dir(b, r->id, &e) < 0) {
            log_warn("reconcile: %s", e.msg);
            return true; /* keep the record: a Delete can retry */
        }
        unlink(op);
        log_info("reconcile: sandbox %s was being deleted when the driver stopped: removed", r->id);
        return false;
    }
    if (s.adopt_pid)
        r->pid = pid;
    if (s.link_up && r->slot != 0) {
        struct drv_runsc_net_names n;
        drv_runsc_slot_names(b, r->slot, &n);
        if (drv_runsc_net_host_link(&n, true, &e) < 0)
            log_warn("reconcile: %s", e.msg);
    }
    if (s.drop_image)
        drv_runsc_rm_rf(img, &e);
    if (s.drop_image_tmp)
        drv_runsc_rm_rf(tmp, &e);
    if (s.measure_image)
        r->image_bytes = drv_runsc_du(img);
    if (s.drop_token) {
        char tok[PATH_MAX];
        drv_runsc_sbx_path(b, r->id, "secrets", tok, sizeof tok);
        drv_runsc_rm_rf(tok, &e);
    }
    r->status = s.status;
    if (s.failure != NULL)
        set_failure(r, s.failure);
    r->create_failed = s.create_failed || r->create_failed;
    if (was != DRV_RUNSC_NONE)
        log_info("reconcile: sandbox %s was %s when the driver stopped: now %s", r->id,
                 drv_runsc_intent_name(was),
                 r->status == DRV_ACTOR_RUNNING     ? "running"
                 : r->status == DRV_ACTOR_SUSPENDED ? "suspended"
                                                    : "failed");
    r->intent = DRV_RUNSC_NONE;
    r->version++;
    if (drv_runsc_save(b, r, &e) < 0)
        log_warn("reconcile: %s", e.msg);
    else
        unlink(op); /* settled: the checkpoint's outcome is in the record now */
    return true;
}

static bool owned_slot(struct rb *b, unsigned slot)
{
    for (size_t i = 0; i < b->n; i++)
        if (b->v[i]->r.slot == slot)
            return true;
    return false;
}

static bool owned_id(struct rb *b, const char *id)
{
    for (size_t i = 0; i < b->n; i++)
        if (strcmp(b->v[i]->r.id, id) == 0)
            return true;
    return false;
}

static void sweep(struct rb *b)
{
    oss_error e = {0};
    char **ids = NULL;
    if (drv_runsc_list(&b->cmd, &ids, &e) == 0) {
        for (char **p = ids; *p != NULL; p++)
            if (!owned_id(b, *p)) {
                log_info("reconcile: removing container %s (no record)", *p);
                destroy(b, *p);
            }
        drv_runsc_strv_free(ids);
    } else {
        log_warn("reconcile: runsc list: %s", e.msg);
    }
    char **nets = NULL;
    if (drv_runsc_net_list(b->tag, &nets, &e) == 0) {
        size_t plen = strlen("ossr-") + strlen(b->tag) + 1;
        for (char **p = nets; *p != NULL; p++) {
            char *end = NULL;
            unsigned long slot = strtoul(*p + plen, &end, 10);
            if (end == *p + plen || *end != '\0' || slot == 0 || slot > DRV_RUNSC_SLOT_MAX ||
                owned_slot(b, (unsigned)slot))
                continue;
            log_info("reconcile: removing network namespace %s (no record)", *p);
            net_down(b, (unsigned)slot);
        }
        drv_runsc_strv_free(nets);
    }
    /* a host veth whose namespace went away is checked by net_exists too */
    for (unsigned s = 1; s <= b->cursor + 64 && s < b->pool.nslots; s++) {
        if (owned_slot(b, s))
            continue;
        struct drv_runsc_net_names n;
        drv_runsc_slot_names(b, s, &n);
        if (drv_runsc_net_exists(&n)) {
            log_info("reconcile: removing leftover interface %s", n.host_if);
            net_down(b, s);
        }
    }
}

int drv_runsc_reconcile(struct rb *b, oss_error *err)
{
    /* first, no runsc child of a previous driver may still run: a record
     * settled while its checkpoint or restore goes on would be a lie */
    unsigned waited = 0;
    if (drv_runsc_ops_drain(b->ops, OPS_WAIT_MS, &waited, err) < 0)
        return -1;
    if (waited > 0)
        log_info("reconcile: waited for %u runsc operation(s) of the previous driver", waited);
    _cleanup_closedir_ DIR *d = opendir(b->sbdir);
    if (d == NULL)
        return oss_err_errno(err, "opendir %s", b->sbdir);
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        if (de->d_name[0] == '.')
            continue;
        char p[PATH_MAX];
        drv_runsc_sbx_path(b, de->d_name, "record.json", p, sizeof p);
        _cleanup_buf_ oss_buf text = OSS_BUF_INIT;
        struct drv_runsc_record r = {0};
        oss_error e = {0};
        if (oss_read_file(p, 1 << 20, &text, &e) < 0 ||
            drv_runsc_record_parse(text.data != NULL ? text.data : "", text.len, &r, &e) < 0 ||
            strcmp(r.id, de->d_name) != 0) {
            /* a directory made just before the driver died, before its
             * first record: nothing outside it exists yet */
            log_warn("reconcile: %s: %s: removing the directory", de->d_name, e.msg);
            drv_runsc_record_clear(&r);
            drv_runsc_sbx_path(b, de->d_name, "", p, sizeof p);
            drv_runsc_rm_rf(p, &e);
            continue;
        }
        if (!settle_one(b, &r)) {
            drv_runsc_record_clear(&r);
            continue;
        }
        struct rb_sbx *s = calloc(1, sizeof *s);
        struct rb_sbx **nv = realloc(b->v, (b->n + 1) * sizeof *nv);
        if (s == NULL || nv == NULL)
            abort();
        s->r = r;
        b->v = nv;
        b->v[b->n++] = s;
        unsigned hi = r.slot > r.prev_slot ? r.slot : r.prev_slot;
        if (hi > b->cursor)
            b->cursor = hi;
    }
    sweep(b);
    log_info("runsc backend: %zu sandbox(es) under %s", b->n, b->sbdir);
    return 0;
}
