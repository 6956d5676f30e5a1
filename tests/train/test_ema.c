/* test_ema.c — the weight average of `focal train --ema D`: its rate ramps
 * as min(D, (1+t)/(10+t)); an update moves every parameter and batch-norm
 * statistic of the average towards the model's by that rate, computed here
 * in double from the values before the update; a fresh average is an exact
 * copy of the model. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "focal.h"
#include "train/run_internal.h"
#include "check.h"

/* Fills every tensor of m (parameters and buffers) from the stream s. */
static void fill(struct focal_model *m, uint64_t s)
{
    for (size_t i = 0; i < focal_model_num_tensors(m); i++) {
        struct focal_tensor_info t;
        focal_model_tensor(m, i, &t);
        for (size_t k = 0; k < t.numel; k++)
            t.data[k] = (float)(check_urand(&s) * 4.0 - 2.0);
    }
}

int main(void)
{
    CHECK(focal_run_ema_rate(0.999, 1) == 2.0 / 11.0);
    CHECK(focal_run_ema_rate(0.999, 90) == 91.0 / 100.0);
    CHECK(focal_run_ema_rate(0.9, 1000) == 0.9);
    CHECK(focal_run_ema_rate(0.5, 0) == 0.1);

    struct focal_model *m = NULL, *e = NULL;
    const char *net = "conv 4 3\nbatchnorm\nrelu\ngap\ndense classes\n";
    CHECK(focal_model_create(&m, net, "test", 3, 6, 6, 3, FOCAL_HEAD_SOFTMAX, 4) == FOCAL_OK);
    if (!m)
        return 1;
    fill(m, 7);
    CHECK(focal_run_ema_create(&e, m, "test") == FOCAL_OK);
    const size_t n = focal_model_num_tensors(m);
    int copies = 1, buffers = 0;
    for (size_t i = 0; i < n; i++) {
        struct focal_tensor_info a, b;
        focal_model_tensor(e, i, &a);
        focal_model_tensor(m, i, &b);
        copies &= a.numel == b.numel && memcmp(a.data, b.data, b.numel * sizeof *b.data) == 0;
        buffers += b.role == FOCAL_TENSOR_BUFFER;
    }
    CHECK(copies);
    CHECK(buffers == 2); /* running mean and variance are averaged too */

    /* two updates: at step 3 (ramped rate) and step 500 (the decay itself) */
    const long steps[2] = { 3, 500 };
    for (int u = 0; u < 2; u++) {
        const double d = focal_run_ema_rate(0.95, steps[u]);
        float *before[64];
        for (size_t i = 0; i < n && i < 64; i++) {
            struct focal_tensor_info a;
            focal_model_tensor(e, i, &a);
            before[i] = malloc(a.numel * sizeof *before[i]);
            memcpy(before[i], a.data, a.numel * sizeof *a.data);
        }
        fill(m, 100 + (uint64_t)u);
        focal_run_ema_update(e, m, 0.95, steps[u]);
        double worst = 0;
        for (size_t i = 0; i < n && i < 64; i++) {
            struct focal_tensor_info a, b;
            focal_model_tensor(e, i, &a);
            focal_model_tensor(m, i, &b);
            for (size_t k = 0; k < a.numel; k++) {
                const double want = d * before[i][k] + (1.0 - d) * b.data[k];
                worst = fmax(worst, fabs(a.data[k] - want));
            }
            free(before[i]);
        }
        CHECKF(worst < 1e-6, "update at step %ld: worst error %g", steps[u], worst);
    }
    focal_model_free(e);
    focal_model_free(m);
    return check_done("test_ema");
}
