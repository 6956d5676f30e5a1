/* optim_internal.h — the optimiser's state, shared by optim.c (updates) and
 * checkpoint.c (saving and restoring it). */
#ifndef FOCAL_OPTIM_INTERNAL_H
#define FOCAL_OPTIM_INTERNAL_H

#include <stdint.h>

#include "focal/nn.h"

struct focal_optim {
    struct focal_optim_config cfg;
    struct focal_model *model;
    size_t n;                /* parameters (floats) */
    long step;               /* updates taken */
    /* SGD: buf1 = momentum buffer (valid once a step was taken, as PyTorch
     * initialises it to the first gradient). Adam/AdamW: buf1 = exp_avg,
     * buf2 = exp_avg_sq. Unused buffers are NULL. */
    float *buf1, *buf2;
    uint8_t *decay;          /* per parameter float: 1 if weight decay applies */
};

#endif
