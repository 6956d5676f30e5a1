/* mixup.c — mixup (Zhang et al., ICLR 2018): each training batch is mixed
 * with a permutation of itself, x̃ = λ·x_i + (1 − λ)·x_perm(i) with one
 * λ ~ Beta(α, α) per batch, and the loss is λ·L(x̃, y_i) + (1 − λ)·L(x̃,
 * y_perm(i)), which works for every loss (soft targets would not: the focal
 * and asymmetric losses are not linear in the target). λ and the permutation
 * come from a generator seeded per batch from the run's seed, so a run
 * (resumed or not) is the same on any thread count. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "focal/train.h"
#include "base/internal.h"
#include "base/rng.h"
#include "train/mixup.h"
#include "train/run_internal.h"

/* Uniform in (0, 1) with 53 random bits (never 0, so logs and powers stay finite). */
static double uniform_open(struct focal_rng *r)
{
    return ((double)(focal_rng_next(r) >> 11) + 0.5) / 9007199254740992.0;
}

/* Standard normal (Box–Muller, one of the pair). */
static double normal(struct focal_rng *r)
{
    const double u = uniform_open(r), v = uniform_open(r);
    return sqrt(-2.0 * log(u)) * cos(6.283185307179586 * v);
}

/* Gamma(a, 1), a > 0: Marsaglia and Tsang (2000) for a >= 1; for a < 1,
 * Gamma(a + 1)·U^(1/a). */
static double gamma_draw(struct focal_rng *r, double a)
{
    if (a < 1.0) {
        const double g = gamma_draw(r, a + 1.0);
        return g * pow(uniform_open(r), 1.0 / a);
    }
    const double d = a - 1.0 / 3.0, c = 1.0 / sqrt(9.0 * d);
    for (;;) {
        double z, v;
        do {
            z = normal(r);
            v = 1.0 + c * z;
        } while (v <= 0.0);
        v = v * v * v;
        const double u = uniform_open(r);
        if (log(u) < 0.5 * z * z + d - d * v + d * log(v))
            return d * v;
    }
}

void focal_mixup_draw(double alpha, uint64_t seed, int n, int *perm, double *lambda)
{
    struct focal_rng r;
    focal_rng_seed(&r, seed);
    const double x = gamma_draw(&r, alpha), y = gamma_draw(&r, alpha);
    /* for a tiny alpha both may underflow to 0: λ is then 0 or 1, as the limit */
    *lambda = x + y > 0 ? x / (x + y) : (double)(focal_rng_next(&r) >> 63);
    for (int i = 0; i < n; i++)
        perm[i] = i;
    for (int i = n - 1; i > 0; i--) {
        const int j = focal_rng_below(&r, i + 1);
        const int t = perm[i];
        perm[i] = perm[j];
        perm[j] = t;
    }
}

void focal_mixup_inputs(float *x, float *scratch, const int *perm, int n, size_t per, double lambda)
{
    memcpy(scratch, x, (size_t)n * per * sizeof *x);
    for (int i = 0; i < n; i++) {
        const float *a = scratch + (size_t)i * per, *b = scratch + (size_t)perm[i] * per;
        float *o = x + (size_t)i * per;
        for (size_t k = 0; k < per; k++)
            o[k] = (float)(lambda * a[k] + (1.0 - lambda) * b[k]);
    }
}

void focal_mixup_targets(void *out, const void *targets, const int *perm, int n, int outputs, int softmax)
{
    const size_t row = softmax ? sizeof(int32_t) : (size_t)outputs * sizeof(float);
    for (int i = 0; i < n; i++)
        memcpy((char *)out + (size_t)i * row, (const char *)targets + (size_t)perm[i] * row, row);
}

focal_status focal_mixup_loss(const struct focal_loss *l, size_t n, size_t classes, const float *logits,
                              const void *targets, const struct focal_mixup_batch *mix, float *dlogits,
                              double *value)
{
    const int softmax = focal_loss_is_softmax(l->kind);
    focal_status st = softmax ? focal_softmax_loss(l, n, classes, logits, targets, dlogits, NULL, value)
                              : focal_sigmoid_loss(l, n, classes, logits, targets, dlogits, NULL, value);
    if (st != FOCAL_OK || !mix)
        return st;
    double vb = 0;
    st = softmax ? focal_softmax_loss(l, n, classes, logits, mix->targets_b, mix->dlogits_b, NULL, &vb)
                 : focal_sigmoid_loss(l, n, classes, logits, mix->targets_b, mix->dlogits_b, NULL, &vb);
    if (st != FOCAL_OK)
        return st;
    const double lam = mix->lambda;
    for (size_t i = 0; i < n * classes; i++)
        dlogits[i] = (float)(lam * dlogits[i] + (1.0 - lam) * mix->dlogits_b[i]);
    *value = lam * *value + (1.0 - lam) * vb;
    return FOCAL_OK;
}

/* ---- in a run --------------------------------------------------------------------------- */

/* Added to the run's seed for the mixup stream, apart from augmentation's. */
#define MIXUP_SALT 0x4d69787570ull

focal_status focal_run_mixup_init(struct focal_run_mixup *mx, double alpha, int batch, size_t per, int outputs)
{
    memset(mx, 0, sizeof *mx);
    mx->alpha = alpha;
    if (alpha <= 0)
        return FOCAL_OK;
    mx->xcopy = malloc((size_t)batch * per * sizeof *mx->xcopy);
    mx->targets_b = malloc((size_t)batch * (size_t)outputs * sizeof(float));
    mx->batch.dlogits_b = malloc((size_t)batch * (size_t)outputs * sizeof(float));
    mx->perm = malloc((size_t)batch * sizeof *mx->perm);
    mx->batch.targets_b = mx->targets_b;
    if (!mx->xcopy || !mx->targets_b || !mx->batch.dlogits_b || !mx->perm) {
        focal_run_mixup_free(mx);
        return focal_fail(FOCAL_ERR_NOMEM, "out of memory for mixup's buffers (batch %d)", batch);
    }
    return FOCAL_OK;
}

const struct focal_mixup_batch *focal_run_mixup_apply(struct focal_run_mixup *mx, float *x, const void *targets,
                                                      int n, size_t per, int outputs, int softmax, uint64_t seed,
                                                      int epoch, int at)
{
    if (mx->alpha <= 0)
        return NULL;
    focal_mixup_draw(mx->alpha, focal_run_seed(seed + MIXUP_SALT, (uint64_t)epoch, (uint64_t)at), n, mx->perm,
                     &mx->batch.lambda);
    focal_mixup_inputs(x, mx->xcopy, mx->perm, n, per, mx->batch.lambda);
    focal_mixup_targets(mx->targets_b, targets, mx->perm, n, outputs, softmax);
    return &mx->batch;
}

void focal_run_mixup_free(struct focal_run_mixup *mx)
{
    free(mx->xcopy);
    free(mx->targets_b);
    free(mx->batch.dlogits_b);
    free(mx->perm);
    memset(mx, 0, sizeof *mx);
}
