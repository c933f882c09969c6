#include "restore/event.h"
#include "report/ocsf.h"
#include "json.h"

static void identity_json(oss_json *j, const char *key, const struct shim_identity *id)
{
    oss_json_key(j, key);
    oss_json_obj_begin(j);
    oss_json_kv_str(j, "id", id->valid ? id->id : NULL);
    oss_json_kv_bool(j, "present", id->present);
    oss_json_kv_bool(j, "valid", id->valid);
    oss_json_obj_end(j);
}

static void optional_raw(oss_json *j, const char *key, const char *json)
{
    oss_json_key(j, key);
    if (json && *json)
        oss_json_raw(j, json);
    else
        oss_json_null(j);
}

/* The body shared by the report record and the OCSF event's "unmapped". */
static void details(oss_json *j, const struct shim_restore_event *ev)
{
    oss_json_kv_uint(j, "generation", ev->generation);
    oss_json_kv_str(j, "reason", shim_restore_reason_name(ev->reason));
    oss_json_key(j, "frozen_ms");
    if (ev->frozen_ms >= 0)
        oss_json_int(j, ev->frozen_ms);
    else
        oss_json_null(j);
    oss_json_kv_int(j, "time", ev->time_ms);
    oss_json_kv_int(j, "duration_ms", ev->duration_ms);
    identity_json(j, "identity_before", &ev->before);
    identity_json(j, "identity_after", &ev->after);
    oss_json_kv_bool(j, "identity_changed", shim_identity_changed(&ev->before, &ev->after));
    if (ev->actor_id_error)
        oss_json_kv_str(j, "actor_id_error", ev->actor_id_error);

    oss_json_key(j, "network");
    oss_json_obj_begin(j);
    optional_raw(j, "delta", ev->net_delta);
    oss_json_kv_uint(j, "changes", ev->net_changes);
    if (ev->net_error)
        oss_json_kv_str(j, "error", ev->net_error);
    oss_json_obj_end(j);

    optional_raw(j, "reprobe", ev->reprobe);

    oss_json_key(j, "signal");
    oss_json_obj_begin(j);
    oss_json_kv_int(j, "number", ev->signal);
    if (ev->signal_error)
        oss_json_kv_str(j, "error", ev->signal_error);
    oss_json_obj_end(j);

    oss_json_key(j, "hook");
    oss_json_obj_begin(j);
    oss_json_kv_bool(j, "ran", ev->hook_ran);
    oss_json_kv_bool(j, "timed_out", ev->hook_timed_out);
    oss_json_key(j, "exit");
    if (ev->hook_exit >= 0)
        oss_json_int(j, ev->hook_exit);
    else
        oss_json_null(j);
    if (ev->hook_error)
        oss_json_kv_str(j, "error", ev->hook_error);
    oss_json_obj_end(j);
}

void shim_restore_event_json(const struct shim_restore_event *ev, oss_buf *out)
{
    oss_json j;
    oss_json_init(&j, out);
    oss_json_obj_begin(&j);
    details(&j, ev);
    oss_json_obj_end(&j);
}

static bool failed(const struct shim_restore_event *ev)
{
    return ev->hook_timed_out || (ev->hook_ran && ev->hook_exit != 0) || ev->hook_error ||
           ev->signal_error || ev->actor_id_error;
}

void shim_restore_event_ocsf(const struct shim_restore_event *ev, const char *product_version,
                             oss_buf *out)
{
    /* Application Lifecycle (6002, category 6 Application Activity): the
     * sandbox's application was restored, which OCSF has no activity for, so
     * activity 99 "Other" with activity_name "Restore".  Informational unless
     * handling failed, then Medium: the workload may run with stale state. */
    static const struct shim_ocsf_class lifecycle = {
        6002,   "Application Lifecycle",        6, "Application Activity", 99, "Restore",
        600299, "Application Lifecycle: Other",
    };
    bool bad = failed(ev);
    oss_json j;
    oss_json_init(&j, out);
    shim_ocsf_begin(&j, &lifecycle, ev->time_ms, bad ? 3 /* Medium */ : 1 /* Informational */);
    oss_json_kv_int(&j, "status_id", bad ? 2 : 1);
    oss_json_kv_str(&j, "status", bad ? "Failure" : "Success");

    oss_buf msg = OSS_BUF_INIT;
    oss_buf_printf(&msg, "sandbox restored (generation %u, detected by %s", ev->generation,
                   shim_restore_reason_name(ev->reason));
    if (ev->frozen_ms >= 0)
        oss_buf_printf(&msg, ", frozen for %lld ms", (long long)ev->frozen_ms);
    oss_buf_puts(&msg,
                 shim_identity_changed(&ev->before, &ev->after) ? ", identity changed)" : ")");
    oss_json_kv_str(&j, "message", msg.data);
    oss_buf_free(&msg);

    shim_ocsf_metadata_begin(&j, product_version);
    oss_json_key(&j, "profiles");
    oss_json_arr_begin(&j);
    oss_json_str(&j, "container");
    oss_json_arr_end(&j);
    if (ev->after.valid && ev->after.id[0])
        oss_json_kv_str(&j, "uid", ev->after.id);
    oss_json_obj_end(&j);

    oss_json_key(&j, "app");
    oss_json_obj_begin(&j);
    oss_json_kv_str(&j, "name", "openshell-sandbox");
    oss_json_kv_str(&j, "vendor_name", "OpenShell");
    oss_json_obj_end(&j);

    oss_json_key(&j, "unmapped");
    oss_json_obj_begin(&j);
    details(&j, ev);
    oss_json_obj_end(&j);
    oss_json_obj_end(&j);
}
