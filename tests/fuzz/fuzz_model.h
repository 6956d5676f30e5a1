/* fuzz_model.h — the small fixed network that the optimiser-state and run
 * folder harnesses load into, and make_seeds.c saves from: inputs 1 × 4 × 4,
 * 3 classes, sigmoid head, max_batch 2, initialised from seed 7, so that its
 * weights (and the fingerprint an optimiser state records of them) are the
 * same in every process. */
#ifndef FOCAL_FUZZ_MODEL_H
#define FOCAL_FUZZ_MODEL_H

#include "fuzz.h"

#define FUZZ_MODEL_DESC "conv 2 3\nbatchnorm\nrelu\nflatten\ndropout 0.25\ndense 4\nrelu\ndense classes\n"
#define FUZZ_MODEL_C 1
#define FUZZ_MODEL_H 4
#define FUZZ_MODEL_W 4
#define FUZZ_MODEL_CLASSES 3

static inline struct focal_model *fuzz_model_new(void)
{
    struct focal_model *m = NULL;
    FUZZ_ASSERT(focal_model_create(&m, FUZZ_MODEL_DESC, "fuzz model", FUZZ_MODEL_C, FUZZ_MODEL_H, FUZZ_MODEL_W,
                                   FUZZ_MODEL_CLASSES, FOCAL_HEAD_SIGMOID, 2) == FOCAL_OK);
    FUZZ_ASSERT(focal_model_init(m, 7, 0.0) == FOCAL_OK);
    return m;
}

/* The fuzz model's optimiser of the given kind (Adam or SGD with momentum). */
static inline struct focal_optim *fuzz_optim_new(struct focal_model *m, enum focal_optim_kind kind)
{
    struct focal_optim_config c;
    focal_optim_defaults(&c, kind);
    if (kind == FOCAL_OPTIM_SGD)
        c.momentum = 0.9;
    struct focal_optim *o = NULL;
    FUZZ_ASSERT(focal_optim_create(&o, &c, m) == FOCAL_OK);
    return o;
}

#endif /* FOCAL_FUZZ_MODEL_H */
