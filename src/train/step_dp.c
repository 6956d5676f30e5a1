/* step_dp.c — one optimiser step of a data-parallel run (focal_train_step_dp):
 * each rank's share of the global batch, the loss reduced over all ranks, the
 * gradients summed over them, the same update on every rank. */
#include <math.h>

#include "focal/train.h"
#include "base/internal.h"
#include "nn/model_internal.h"
#include "train/run_internal.h"

/* What the ranks exchange about the loss of a step, as doubles. */
enum { RED_SUM, RED_COUNT, RED_NUMERIC, RED_FAILED, RED_LEN };

focal_status focal_train_step_dp(struct focal_model *m, struct focal_optim *o, const struct focal_loss *l,
                                 const struct focal_comm *comm, const float *x, const void *targets, int n,
                                 double *loss)
{
    const size_t classes = (size_t)focal_model_classes(m);
    float *dlogits = focal_model_dlogits(m);
    /* this rank's sum and its gradient; the mean is taken over all ranks */
    struct focal_loss sum_loss = *l;
    sum_loss.reduction = FOCAL_REDUCTION_SUM;
    double value = 0;
    focal_status st = focal_step_loss(m, &sum_loss, x, targets, NULL, n, &value);
    /* a rank that failed still takes part in the exchange, so that none waits for it */
    double red[RED_LEN] = { 0 };
    red[RED_SUM] = st == FOCAL_OK ? value : 0.0;
    red[RED_COUNT] = (double)focal_loss_count(l, (size_t)n, classes, targets);
    red[RED_NUMERIC] = st == FOCAL_ERR_NUMERIC;
    red[RED_FAILED] = st != FOCAL_OK && st != FOCAL_ERR_NUMERIC;
    if (comm->sum_double(comm->ctx, red, RED_LEN) != 0)
        return focal_fail(FOCAL_ERR_IO, "rank %d: the sum of the batch loss over %d ranks failed", comm->rank,
                          comm->size);
    if (st != FOCAL_OK)
        return st;
    if (red[RED_FAILED] > 0)
        return focal_fail(FOCAL_ERR_ARG, "rank %d: the loss failed on another rank (see its message)", comm->rank);
    const int divides = l->reduction == FOCAL_REDUCTION_MEAN || l->reduction == FOCAL_REDUCTION_POSITIVES;
    const double denom = divides && red[RED_COUNT] > 1 ? red[RED_COUNT] : 1.0;
    const double global = red[RED_SUM] / denom;
    if (red[RED_NUMERIC] > 0 || !isfinite(global))
        return focal_fail(FOCAL_ERR_NUMERIC, "the loss is %g; parameters left unchanged",
                          red[RED_NUMERIC] > 0 ? NAN : global);
    if (denom != 1.0) {
        const float f = (float)(1.0 / denom);
        for (size_t i = 0; i < (size_t)n * classes; i++)
            dlogits[i] *= f;
    }
    focal_model_zero_grad(m);
    if ((st = focal_model_backward(m, dlogits, n)) != FOCAL_OK)
        return st;
    if (comm->sum_float(comm->ctx, focal_model_grads(m), focal_model_num_params(m)) != 0)
        return focal_fail(FOCAL_ERR_IO, "rank %d: the sum of the gradients over %d ranks failed", comm->rank,
                          comm->size);
    /* the same gradient on every rank: clipping sees the global norm, and a
     * non-finite one stops every rank alike */
    if ((st = focal_optim_step(o, NULL)) != FOCAL_OK)
        return st;
    if (loss)
        *loss = global;
    return FOCAL_OK;
}
