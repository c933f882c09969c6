/* The sandbox specs and configs the golden files are made from, shared by
 * the golden test and the regeneration mode of the same program. */
#ifndef TEMPLATE_CASES_H
#define TEMPLATE_CASES_H

#include "backend.h"
#include "config.h"

enum golden_kind {
    GOLDEN_TEMPLATE, /* <name>.json: the ActorTemplate, or <name>.err */
    GOLDEN_SECRET,   /* <name>.json: the Secret */
    GOLDEN_PLAN,     /* <name>.json: what create would apply */
};

struct golden_case {
    const char *name;
    enum golden_kind kind;
    void (*setup)(struct drv_sandbox_spec *spec, struct drv_config *c);
};

extern const struct golden_case golden_cases[];
extern const size_t golden_ncases;

/* A config with every synthesis key set as an operator would. */
void golden_base_config(struct drv_config *c);

#endif
