/* libFuzzer: --ready-tcp HOST:PORT parsing.  Whatever parses must print
 * back (inet_ntop) to a string that parses to the same address. */
#include "readyz/condition.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s = malloc(size + 1);
    if (s == NULL)
        return 0;
    memcpy(s, data, size);
    s[size] = '\0';
    struct sockaddr_storage ss, ss2;
    socklen_t len = 0, len2 = 0;
    oss_error err = {0};
    if (shim_hostport_parse(s, &ss, &len, &err) == 0) {
        char host[INET6_ADDRSTRLEN], back[96];
        if (ss.ss_family == AF_INET) {
            const struct sockaddr_in *a4 = (const struct sockaddr_in *)&ss;
            inet_ntop(AF_INET, &a4->sin_addr, host, sizeof host);
            snprintf(back, sizeof back, "%s:%u", host, ntohs(a4->sin_port));
        } else {
            const struct sockaddr_in6 *a6 = (const struct sockaddr_in6 *)&ss;
            inet_ntop(AF_INET6, &a6->sin6_addr, host, sizeof host);
            snprintf(back, sizeof back, "[%s]:%u", host, ntohs(a6->sin6_port));
        }
        if (shim_hostport_parse(back, &ss2, &len2, &err) < 0 || len != len2 ||
            memcmp(&ss, &ss2, len) != 0)
            abort();
    } else if (err.msg[0] == '\0') {
        abort(); /* every failure says why */
    }
    free(s);
    return 0;
}
