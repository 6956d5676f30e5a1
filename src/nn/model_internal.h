/* model_internal.h — what other library files may see of a model beyond
 * focal.h: its dropout generator (saved with the optimiser state). */
#ifndef FOCAL_MODEL_INTERNAL_H
#define FOCAL_MODEL_INTERNAL_H

#include "focal.h"
#include "nn/layers.h"

/* The generator dropout draws from; part of the state a resumed run restores. */
struct focal_rng *focal_model_rng(struct focal_model *m);

#endif
