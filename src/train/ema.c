/* ema.c — an exponential moving average of a model's weights (Polyak
 * averaging), kept beside the trained model: after every optimiser step each
 * parameter and batch-norm running statistic becomes
 *   ema = d_t · ema + (1 − d_t) · w,   d_t = min(d, (1 + t) / (10 + t)),
 * t the step's 1-based number over the whole run, so that the average follows
 * the first steps closely instead of remembering the random initialisation
 * (the ramp timm's ModelEmaV2 users add, and TensorFlow's
 * ExponentialMovingAverage with num_updates). Validation, the best
 * checkpoint and the final metrics then use the average. */
#include <string.h>

#include "train/run_internal.h"

focal_status focal_run_ema_create(struct focal_model **ema, const struct focal_model *m, const char *origin)
{
    int c, h, w;
    focal_model_input_shape(m, &c, &h, &w);
    focal_status st = focal_model_create(ema, focal_model_description(m), origin, c, h, w,
                                         focal_model_classes(m), focal_model_head(m),
                                         focal_model_max_batch(m));
    if (st != FOCAL_OK)
        return st;
    focal_run_ema_copy(*ema, m);
    return FOCAL_OK;
}

void focal_run_ema_copy(struct focal_model *ema, const struct focal_model *m)
{
    const size_t n = focal_model_num_tensors(m);
    for (size_t i = 0; i < n; i++) {
        struct focal_tensor_info a, b;
        focal_model_tensor(ema, i, &a);
        focal_model_tensor(m, i, &b);
        memcpy(a.data, b.data, b.numel * sizeof *b.data);
    }
}

double focal_run_ema_rate(double decay, long step)
{
    const double ramp = (1.0 + (double)step) / (10.0 + (double)step);
    return ramp < decay ? ramp : decay;
}

void focal_run_ema_update(struct focal_model *ema, const struct focal_model *m, double decay, long step)
{
    const float d = (float)focal_run_ema_rate(decay, step), e = 1.0f - d;
    const size_t n = focal_model_num_tensors(m);
    for (size_t i = 0; i < n; i++) {
        struct focal_tensor_info a, b;
        focal_model_tensor(ema, i, &a);
        focal_model_tensor(m, i, &b);
        for (size_t k = 0; k < b.numel; k++)
            a.data[k] = d * a.data[k] + e * b.data[k];
    }
}
