/* gRPC core's own log lines, through the driver's log with credentials
 * redacted (grpc_log.c). */
#ifndef DRV_GRPC_LOG_H
#define DRV_GRPC_LOG_H

/* Before grpc_init(). */
void drv_grpc_log_setup(void);

#endif
