#ifndef SHIM_USAGE_H
#define SHIM_USAGE_H
#include <stdio.h>
void shim_usage(FILE *f);
#endif
