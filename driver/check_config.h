/* `openshell-driver-substrate check-config`: loads the configuration
 * exactly as a start does (config.c), then checks offline what a start
 * would trip over later: files the backend reads (CAs, tokens, client
 * keys), digest pinning, the socket's directory.  One line per finding;
 * no network, nothing created or changed. */
#ifndef DRV_CHECK_CONFIG_H
#define DRV_CHECK_CONFIG_H

#include <stdbool.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/types.h>

enum drv_finding { DRV_FINDING_OK, DRV_FINDING_WARN, DRV_FINDING_ERROR };

/* "name@sha256:<64 lowercase hex>" with a non-empty name: the only form a
 * digest-pinned reference takes (a tag before the @ is allowed). */
bool drv_image_digest_pinned(const char *ref);

/* The socket directory rule of server/listen.c, as a pure decision: `st`
 * is the directory's stat (NULL when it does not exist yet), `self` the
 * uid the driver will run as.  *why gets a short reason. */
enum drv_finding drv_sockdir_finding(const struct stat *st, uid_t self, const char **why);

/* The subcommand: argv[0] is "check-config", the rest is what a start
 * accepts.  Prints findings to `out`; returns the exit status: 0 no
 * error, 1 an error finding, 2 the configuration does not load (a start
 * would exit 2 too). */
int drv_check_config_main(int argc, char **argv, char *const *envp, FILE *out);

#endif
