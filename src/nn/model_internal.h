/* model_internal.h — what other library files may see of a model beyond
 * focal.h: its dropout generator (saved with the optimiser state) and the
 * scratch buffer the training step writes the loss gradient into. */
#ifndef FOCAL_MODEL_INTERNAL_H
#define FOCAL_MODEL_INTERNAL_H

#include "focal/nn.h"
#include "nn/layers.h"

/* The generator dropout draws from; part of the state a resumed run restores. */
struct focal_rng *focal_model_rng(struct focal_model *m);

/* focal_model_create for a network whose parameters and buffers come from a
 * file holding have_bytes bytes of tensors: a description that needs more
 * (say, a corrupt checkpoint's) is refused before anything is allocated for
 * it (FOCAL_ERR_FORMAT). have_bytes SIZE_MAX: no such bound. */
focal_status focal_model_create_from(struct focal_model **out, const char *desc, const char *origin, int in_c,
                                     int in_h, int in_w, int classes, enum focal_head head, int max_batch,
                                     size_t have_bytes);

/* Room for max_batch × classes floats: d loss / d logits of a batch. */
float *focal_model_dlogits(struct focal_model *m);

/* The input of the network's last layer in the last forward pass: n × *dim
 * floats (the features its classifier sees), valid until the next forward;
 * NULL before any forward. */
const float *focal_model_last_input(const struct focal_model *m, int *dim);

#endif
