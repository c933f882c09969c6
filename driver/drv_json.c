/* Strict JSON reading for the driver (see drv_json.h). */
#include "drv_json.h"

#include <errno.h>
#include <stdint.h>

static int is_blank(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

int drv_json_parse_object(const char *text, size_t len, const char *what, json_object **ret,
                          oss_error *err)
{
    *ret = NULL;
    /* json-c takes an int length */
    if (len > (size_t)INT32_MAX)
        return oss_err(err, OSS_ERR_INVALID, EFBIG, "%s: too large", what);
    /* Say "not an object" for any other value: json-c cannot tell a bare
     * literal or number at the end of the text from an incomplete one. */
    size_t first = 0;
    while (first < len && is_blank(text[first]))
        first++;
    if (first < len && text[first] != '{')
        return oss_err(err, OSS_ERR_INVALID, EINVAL, "%s: must be a JSON object", what);
    json_tokener *tok = json_tokener_new_ex(DRV_JSON_MAX_DEPTH);
    if (tok == NULL)
        return oss_err(err, OSS_ERR_ERRNO, ENOMEM, "%s: json tokener", what);
    _cleanup_json_ json_object *root = json_tokener_parse_ex(tok, text, (int)len);
    enum json_tokener_error jerr = json_tokener_get_error(tok);
    size_t off = json_tokener_get_parse_end(tok);
    json_tokener_free(tok);
    if (jerr != json_tokener_success)
        return oss_err(err, OSS_ERR_INVALID, EINVAL, "%s: not valid JSON (%s)", what,
                       jerr == json_tokener_continue ? "unexpected end"
                                                     : json_tokener_error_desc(jerr));
    for (; off < len; off++)
        if (!is_blank(text[off]))
            return oss_err(err, OSS_ERR_INVALID, EINVAL, "%s: trailing data after the JSON", what);
    if (root == NULL || !json_object_is_type(root, json_type_object))
        return oss_err(err, OSS_ERR_INVALID, EINVAL, "%s: must be a JSON object", what);
    *ret = root;
    root = NULL;
    return 0;
}
