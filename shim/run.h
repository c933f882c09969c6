/* `openshell-shim [options] -- CMD`: the init itself. */
#ifndef SHIM_RUN_H
#define SHIM_RUN_H

#include "config.h"

/* Returns the process exit code. */
int shim_run_main(const struct shim_config *cfg);

#endif
