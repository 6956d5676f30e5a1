/* step.c — one optimiser step on a batch: forward, loss and its gradient,
 * backward, update (focal_train_step; with mixup's loss,
 * focal_train_step_mixed). */
#include <math.h>

#include "focal/train.h"
#include "base/internal.h"
#include "nn/model_internal.h"
#include "train/mixup.h"
#include "train/run_internal.h"

focal_status focal_train_step(struct focal_model *m, struct focal_optim *o, const struct focal_loss *l,
                              const float *x, const void *targets, int n, double *loss)
{
    return focal_train_step_mixed(m, o, l, x, targets, NULL, n, loss);
}

focal_status focal_step_loss(struct focal_model *m, const struct focal_loss *l, const float *x, const void *targets,
                             const struct focal_mixup_batch *mix, int n, double *value)
{
    /* refuse before the forward pass, which changes batch-norm statistics and
     * the dropout generator */
    const int softmax = focal_loss_is_softmax(l->kind);
    const enum focal_head head = focal_model_head(m);
    const size_t classes = (size_t)focal_model_classes(m);
    if (softmax != (head == FOCAL_HEAD_SOFTMAX))
        return focal_fail(FOCAL_ERR_ARG, "loss '%s' does not fit the network's %s head", focal_loss_kind_name(l->kind),
                          head == FOCAL_HEAD_SOFTMAX ? "softmax" : "sigmoid");
    focal_status st = focal_loss_check(l, classes);
    if (st != FOCAL_OK)
        return st;
    const float *logits;
    if ((st = focal_model_forward(m, x, n, 1, &logits)) != FOCAL_OK)
        return st;
    return focal_mixup_loss(l, (size_t)n, classes, logits, targets, mix, focal_model_dlogits(m), value);
}

focal_status focal_train_step_mixed(struct focal_model *m, struct focal_optim *o, const struct focal_loss *l,
                                    const float *x, const void *targets, const struct focal_mixup_batch *mix, int n,
                                    double *loss)
{
    double value = 0;
    focal_status st = focal_step_loss(m, l, x, targets, mix, n, &value);
    if (st != FOCAL_OK)
        return st;
    if (!isfinite(value))
        return focal_fail(FOCAL_ERR_NUMERIC, "the loss is %g; parameters left unchanged", value);
    focal_model_zero_grad(m);
    if ((st = focal_model_backward(m, focal_model_dlogits(m), n)) != FOCAL_OK)
        return st;
    if ((st = focal_optim_step(o, NULL)) != FOCAL_OK)
        return st;
    if (loss)
        *loss = value;
    return FOCAL_OK;
}
