#include "readyz/condition.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <string.h>

static int parse_port(const char *s, in_port_t *ret)
{
    if (*s == '\0' || strlen(s) > 5)
        return -1;
    unsigned v = 0;
    for (; *s; s++) {
        if (*s < '0' || *s > '9')
            return -1;
        v = v * 10 + (unsigned)(*s - '0');
    }
    if (v == 0 || v > 65535)
        return -1;
    *ret = htons((in_port_t)v);
    return 0;
}

int shim_hostport_parse(const char *s, struct sockaddr_storage *ret_addr, socklen_t *ret_len,
                        oss_error *err)
{
    /* INET6_ADDRSTRLEN + brackets + ":65535" fits in 64 */
    char host[64];
    const char *port;
    if (s == NULL || strlen(s) >= sizeof host)
        return oss_err(err, OSS_ERR_INVALID, EINVAL, "expected HOST:PORT");
    struct sockaddr_storage ss;
    memset(&ss, 0, sizeof ss);
    socklen_t len;
    in_port_t p;
    if (s[0] == '[') {
        const char *close = strchr(s, ']');
        if (close == NULL || close[1] != ':')
            return oss_err(err, OSS_ERR_INVALID, EINVAL, "'%s': expected [IPv6]:PORT", s);
        size_t hl = (size_t)(close - s - 1);
        memcpy(host, s + 1, hl);
        host[hl] = '\0';
        port = close + 2;
        struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)&ss;
        a6->sin6_family = AF_INET6;
        /* inet_pton also rejects zone ids ("%eth0"): numeric scope only is not
         * worth the code for a loopback probe. */
        if (inet_pton(AF_INET6, host, &a6->sin6_addr) != 1)
            return oss_err(err, OSS_ERR_INVALID, EINVAL, "'%s': not a numeric IPv6 address", s);
        if (parse_port(port, &p) < 0)
            return oss_err(err, OSS_ERR_INVALID, EINVAL, "'%s': port must be 1..65535", s);
        a6->sin6_port = p;
        len = sizeof *a6;
    } else {
        const char *colon = strrchr(s, ':');
        if (colon == NULL || strchr(s, ':') != colon)
            return oss_err(err, OSS_ERR_INVALID, EINVAL,
                           "'%s': expected A.B.C.D:PORT or [IPv6]:PORT", s);
        size_t hl = (size_t)(colon - s);
        memcpy(host, s, hl);
        host[hl] = '\0';
        port = colon + 1;
        struct sockaddr_in *a4 = (struct sockaddr_in *)&ss;
        a4->sin_family = AF_INET;
        if (inet_pton(AF_INET, host, &a4->sin_addr) != 1)
            return oss_err(err, OSS_ERR_INVALID, EINVAL,
                           "'%s': not a numeric IPv4 address (names are not resolved)", s);
        if (parse_port(port, &p) < 0)
            return oss_err(err, OSS_ERR_INVALID, EINVAL, "'%s': port must be 1..65535", s);
        a4->sin_port = p;
        len = sizeof *a4;
    }
    *ret_addr = ss;
    *ret_len = len;
    return 0;
}
