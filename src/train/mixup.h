/* mixup.h — mixup (Zhang et al., ICLR 2018) of training batches (mixup.c):
 * the draw of λ and the permutation, the mixed inputs and partner targets,
 * the mixed loss and its gradient, and a run's buffers for it. Internal to
 * the library. */
#ifndef FOCAL_TRAIN_MIXUP_H
#define FOCAL_TRAIN_MIXUP_H

#include <stddef.h>
#include <stdint.h>

#include "focal/train.h"

/* What a mixed batch adds to a training step. */
struct focal_mixup_batch {
    const void *targets_b;      /* the partners' targets, laid out as the step's targets */
    double lambda;              /* the share of each sample's own target */
    float *dlogits_b;           /* scratch: n × classes floats */
};

/* λ ~ Beta(alpha, alpha) (alpha > 0) and a uniformly random permutation
 * perm[0..n) of 0..n−1, both from a generator seeded with seed. */
void focal_mixup_draw(double alpha, uint64_t seed, int n, int *perm, double *lambda);

/* x (n × per) becomes λ·x_i + (1 − λ)·x_perm(i) row by row (in double,
 * rounded once); scratch holds n × per floats. */
void focal_mixup_inputs(float *x, float *scratch, const int *perm, int n, size_t per, double lambda);

/* out = the targets of the samples perm[0..n): n int32 classes (softmax) or
 * n × outputs floats. */
void focal_mixup_targets(void *out, const void *targets, const int *perm, int n, int outputs, int softmax);

/* The batch loss of logits (n × classes) and its gradient into dlogits: the
 * loss l's with targets, and with mix non-NULL λ·that + (1 − λ)·the loss with
 * mix->targets_b (gradients likewise, each computed in float by the loss,
 * combined in double). Errors as focal_softmax_loss / focal_sigmoid_loss. */
focal_status focal_mixup_loss(const struct focal_loss *l, size_t n, size_t classes, const float *logits,
                              const void *targets, const struct focal_mixup_batch *mix, float *dlogits,
                              double *value);

/* focal_train_step, with the loss mixed as focal_mixup_loss says (mix may
 * be NULL: focal_train_step itself). x is already mixed. */
focal_status focal_train_step_mixed(struct focal_model *m, struct focal_optim *o, const struct focal_loss *l,
                                    const float *x, const void *targets, const struct focal_mixup_batch *mix, int n,
                                    double *loss);

/* A run's mixup: alpha (0: off) and its buffers for batches of up to
 * `batch` samples of per input values and `outputs` outputs. */
struct focal_run_mixup {
    double alpha;
    float *xcopy;
    void *targets_b;
    int *perm;
    struct focal_mixup_batch batch;
};

/* Allocates mx's buffers when alpha > 0. FOCAL_ERR_NOMEM (mx then empty). */
focal_status focal_run_mixup_init(struct focal_run_mixup *mx, double alpha, int batch, size_t per, int outputs);

/* Mixes the batch x (n × per) and targets in place of the step: NULL when
 * mixup is off (nothing changed), else the batch's mix for
 * focal_train_step_mixed, drawn from the run's seed, the epoch and the
 * batch's offset `at` in the epoch. */
const struct focal_mixup_batch *focal_run_mixup_apply(struct focal_run_mixup *mx, float *x, const void *targets,
                                                      int n, size_t per, int outputs, int softmax, uint64_t seed,
                                                      int epoch, int at);

void focal_run_mixup_free(struct focal_run_mixup *mx);

#endif
