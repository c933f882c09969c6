/* `openshell-shim netstat` (netstat.c). */
#ifndef SHIM_NETSTAT_H
#define SHIM_NETSTAT_H

/* Writes /proc/net/tcp then /proc/net/tcp6 to stdout; 0, or 1 on an error. */
int shim_netstat_main(void);

#endif
