/* model_internal.h — what other library files may see of a model beyond
 * focal.h: its dropout generator (saved with the optimiser state) and the
 * scratch buffer the training step writes the loss gradient into. */
#ifndef FOCAL_MODEL_INTERNAL_H
#define FOCAL_MODEL_INTERNAL_H

#include "focal/nn.h"
#include "nn/layers.h"

/* The generator dropout draws from; part of the state a resumed run restores. */
struct focal_rng *focal_model_rng(struct focal_model *m);

/* Room for max_batch × classes floats: d loss / d logits of a batch. */
float *focal_model_dlogits(struct focal_model *m);

#endif
