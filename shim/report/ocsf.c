#include "ocsf.h"

const char *shim_ocsf_severity(int severity_id)
{
    static const char *const names[] = {"Unknown", "Informational", "Low",
                                        "Medium",  "High",          "Critical"};
    return severity_id >= 0 && severity_id <= 5 ? names[severity_id] : "Unknown";
}

void shim_ocsf_begin(oss_json *j, const struct shim_ocsf_class *c, int64_t time_ms, int severity_id)
{
    oss_json_obj_begin(j);
    oss_json_kv_int(j, "class_uid", c->class_uid);
    oss_json_kv_str(j, "class_name", c->class_name);
    oss_json_kv_int(j, "category_uid", c->category_uid);
    oss_json_kv_str(j, "category_name", c->category_name);
    oss_json_kv_int(j, "activity_id", c->activity_id);
    oss_json_kv_str(j, "activity_name", c->activity_name);
    oss_json_kv_int(j, "type_uid", c->type_uid);
    oss_json_kv_str(j, "type_name", c->type_name);
    oss_json_kv_int(j, "time", time_ms);
    oss_json_kv_int(j, "severity_id", severity_id);
    oss_json_kv_str(j, "severity", shim_ocsf_severity(severity_id));
}

void shim_ocsf_metadata_begin(oss_json *j, const char *product_version)
{
    oss_json_key(j, "metadata");
    oss_json_obj_begin(j);
    oss_json_kv_str(j, "version", SHIM_OCSF_VERSION);
    oss_json_key(j, "product");
    oss_json_obj_begin(j);
    oss_json_kv_str(j, "name", "openshell-shim");
    oss_json_kv_str(j, "vendor_name", "OpenShell");
    if (product_version)
        oss_json_kv_str(j, "version", product_version);
    oss_json_obj_end(j);
}
