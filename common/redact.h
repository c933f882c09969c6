/* Redacting credentials out of text that is about to be logged, for log
 * lines the project does not write itself (gRPC core's trace prints
 * request headers, a bearer token's among them). */
#ifndef OSS_REDACT_H
#define OSS_REDACT_H

#include <stddef.h>

/* What a credential becomes.  No letter or digit in it: a secret made of
 * token characters cannot reappear across or inside a replacement. */
#define OSS_REDACTED "***"

/* Pure.  Copies `in` to `out` (at most cap - 1 bytes, always terminated)
 * with:
 *   - every occurrence of each secret (those of 4 bytes or more) replaced,
 *     scanning left to right;
 *   - the value after an "authorization" key (any case; after ':', '=',
 *     blanks or quotes) replaced up to the end of the line or a quote,
 *     keeping a scheme word ("Bearer", "Basic") when there is one;
 *   - the word after a free-standing "Bearer " (any case) replaced.
 * Returns the length written. */
size_t oss_redact(const char *in, char *out, size_t cap, const char *const *secrets,
                  size_t nsecrets);

#endif
