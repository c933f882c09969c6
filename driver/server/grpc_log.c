/* gRPC core writes its own lines (GRPC_VERBOSITY, and GRPC_TRACE when an
 * operator turns tracing on to debug a connection) straight to stderr.
 * With GRPC_TRACE=http those lines carry every request header, the ate-api
 * bearer token's among them (measured: tests/driver/e2e "gRPC trace on").
 * They go through the driver's own log instead, after oss_redact(): the
 * authorization header's value and any "Bearer <token>" are replaced.  The
 * driver keeps no copy of the token for this (it wipes each read), so a
 * trace that dumps raw bytes of a plaintext (h2c) connection, GRPC_TRACE=tcp,
 * is not covered: its HPACK-coded headers are not text. */
#include "grpc_log.h"

#include "log.h"
#include "redact.h"

#include <grpc/support/log.h>

static void grpc_log(gpr_log_func_args *args)
{
    char line[4096];
    oss_redact(args->message, line, sizeof line, NULL, 0);
    enum oss_log_level level = args->severity == GPR_LOG_SEVERITY_ERROR  ? OSS_LOG_ERROR
                               : args->severity == GPR_LOG_SEVERITY_INFO ? OSS_LOG_INFO
                                                                         : OSS_LOG_DEBUG;
    oss_log(level, "grpc: %s (%s:%d)", line, args->file ? args->file : "?", args->line);
}

void drv_grpc_log_setup(void)
{
    gpr_set_log_function(grpc_log);
}
