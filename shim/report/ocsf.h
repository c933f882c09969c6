/* The OCSF 1.8 envelope every event of the shim starts with: the class
 * header, time and severity, and the product metadata.  Callers add their
 * class's own members and close the object. */
#ifndef SHIM_OCSF_H
#define SHIM_OCSF_H

#include "json.h"

#include <stdint.h>

#define SHIM_OCSF_VERSION "1.8.0"

struct shim_ocsf_class {
    int class_uid;
    const char *class_name;
    int category_uid;
    const char *category_name;
    int activity_id;
    const char *activity_name;
    int type_uid;
    const char *type_name;
};

/* "Informational" (1) .. "Critical" (5); "Unknown" otherwise. */
const char *shim_ocsf_severity(int severity_id);

/* Opens the event object and writes the class header, time, severity. */
void shim_ocsf_begin(oss_json *j, const struct shim_ocsf_class *c, int64_t time_ms,
                     int severity_id);

/* Opens "metadata" and writes version and product; the caller adds
 * "profiles", "uid"... and closes it. */
void shim_ocsf_metadata_begin(oss_json *j, const char *product_version);

#endif
