/* A strict little RFC 8259 validator for tests (no DOM): enough to prove
 * that what the shim writes is one well-formed JSON value. */
#ifndef TEST_JSON_CHECK_H
#define TEST_JSON_CHECK_H
#include <stdbool.h>
bool test_json_valid(const char *s);
/* True when "key": appears (a shallow but useful check next to validity). */
bool test_json_has_key(const char *s, const char *key);
#endif
