/* test_loss_gradcheck.c — central finite differences in double for every
 * loss, reduction and γ ∈ {0, 0.5, 1, 2, 5}, with class weights, soft
 * targets, ignored elements and label smoothing; the long-tail losses with a
 * long-tailed prior and three settings of their parameters.
 *
 * For reductions sum/mean/positives, L is the reduced loss; for none, L =
 * Σ dout·per with fixed random dout, whose gradient is dout times the
 * returned per-element gradient. Error: |a − n| / max(|a|, |n|, 1e-3). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "focal.h"

#define N 5
#define C 4

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

/* The test data's generator (see check.h). */
static double urand(void)
{
    return check_urand(&rng_state);
}

static double worst_err;

/* L(x) for the current problem. */
static double objective(const struct focal_loss *l, const double *x, const double *ys, const int32_t *ts,
                        const double *dout, double *grad)
{
    double loss = 0, per[N * C];
    focal_status st = focal_loss_is_softmax(l->kind)
                          ? focal_softmax_loss_f64(l, N, C, x, ts, grad, per, &loss)
                          : focal_sigmoid_loss_f64(l, N, C, x, ys, grad, per, &loss);
    CHECKF(st == FOCAL_OK, "%s", focal_last_error());
    if (l->reduction != FOCAL_REDUCTION_NONE)
        return loss;
    const size_t m = focal_loss_is_softmax(l->kind) ? N : N * C;
    double s = 0;
    for (size_t i = 0; i < m; i++)
        s += dout[i] * per[i];
    return s;
}

static void gradcheck(const struct focal_loss *l, const char *what)
{
    const int softmax = focal_loss_is_softmax(l->kind);
    double x[N * C], ys[N * C], dout[N * C], g[N * C], gp[N * C];
    int32_t ts[N];
    for (int i = 0; i < N * C; i++) {
        /* LDAM's logits are cosines (its scale s makes them large) */
        x[i] = (urand() * 2 - 1) * (l->kind == FOCAL_LOSS_LDAM ? 1 : 6);
        const double u = urand();
        ys[i] = u < 0.15 ? -1.0 : (u < 0.5 ? 1.0 : (u < 0.8 ? 0.0 : urand())); /* ignored, hard, soft */
        dout[i] = urand() * 2 - 1;
    }
    for (int i = 0; i < N; i++)
        ts[i] = i == 2 ? l->ignore_index : (int32_t)(urand() * C);
    if (l->kind == FOCAL_LOSS_ASL && l->margin > 0) {
        /* keep p away from the margin's kink at p = m */
        for (int i = 0; i < N * C; i++) {
            const double p = 1 / (1 + exp(-x[i]));
            if (fabs(p - l->margin) < 0.02)
                x[i] += 0.5;
        }
    }
    objective(l, x, ys, ts, dout, g);
    double worst = 0;
    int worst_i = -1;
    for (int i = 0; i < N * C; i++) {
        const double h = 1e-5 * fmax(1.0, fabs(x[i]));
        const double save = x[i];
        x[i] = save + h;
        const double lp = objective(l, x, ys, ts, dout, gp);
        x[i] = save - h;
        const double lm = objective(l, x, ys, ts, dout, gp);
        x[i] = save;
        const double num = (lp - lm) / (2 * h);
        double ana = g[i];
        if (l->reduction == FOCAL_REDUCTION_NONE)
            ana *= softmax ? dout[i / C] : dout[i];
        const double err = fabs(ana - num) / fmax(fmax(fabs(ana), fabs(num)), 1e-3);
        if (err > worst) {
            worst = err;
            worst_i = i;
        }
    }
    if (worst > worst_err)
        worst_err = worst;
    CHECKF(worst < 1e-6, "%s: worst relative error %.3g at element %d", what, worst, worst_i);
}

int main(void)
{
    const double gammas[] = {0, 0.5, 1, 2, 5};
    const double weights[C] = {0.5, 2.0, 1.0, 3.0};
    const double prior[C] = {0.4, 0.05, 0.2, 0.004};
    char what[256];
    int ncfg = 0;
    for (int kind = 0; kind < FOCAL_LOSS_KIND_COUNT; kind++) {
        for (int red = 0; red < FOCAL_REDUCTION_COUNT; red++) {
            for (size_t gi = 0; gi < sizeof gammas / sizeof gammas[0]; gi++) {
                for (int variant = 0; variant < 3; variant++) {
                    struct focal_loss l;
                    focal_loss_init(&l, (enum focal_loss_kind)kind);
                    l.reduction = (enum focal_reduction)red;
                    l.gamma = gammas[gi];
                    if (kind == FOCAL_LOSS_FOCAL_STAR && l.gamma == 0)
                        l.gamma = 0.25; /* FL* needs γ > 0 */
                    if (kind == FOCAL_LOSS_ASL) {
                        l.gamma_neg = gammas[gi];
                        l.gamma_pos = variant == 2 ? 1.0 : 0.0;
                        l.margin = variant == 0 ? 0.0 : 0.05;
                    }
                    if (variant >= 1) {
                        l.class_weights = weights;
                        l.alpha = focal_loss_is_softmax(l.kind) ? 0.5 : 0.25;
                    }
                    if (variant == 2) {
                        l.label_smoothing = 0.2;
                        l.epsilon = -0.7;
                        l.beta = -0.5;
                    }
                    /* the long-tail losses: a long-tailed prior, and other
                     * values of their parameters in variants 1 and 2 */
                    l.class_prior = prior;
                    /* LDAM's scale multiplies the third derivative by s^3: at
                     * the default s = 30 no step keeps both the truncation and
                     * the rounding error of a central difference below 1e-6
                     * (the reference test checks s = 30 and 64 against PyTorch) */
                    l.scale = 10.0;
                    if (variant >= 1) {
                        l.tau = variant == 1 ? 2.0 : 0.5;
                        l.scale = variant == 1 ? 5.0 : 1.0;
                        if (kind == FOCAL_LOSS_LDAM)
                            l.margin = variant == 1 ? 1.0 : 0.3;
                        l.db_lambda = variant == 1 ? 5.0 : 0.5;
                        l.db_kappa = variant == 1 ? 0.5 : 1.0;
                        l.db_alpha = variant == 1 ? 0.0 : 0.5;
                        l.db_beta = variant == 1 ? 2.0 : 30.0;
                        l.db_mu = variant == 1 ? 1.0 : 0.0;
                    }
                    snprintf(what, sizeof what, "%s red=%s gamma=%g variant=%d", focal_loss_kind_name(l.kind),
                             focal_reduction_name(l.reduction), l.gamma, variant);
                    gradcheck(&l, what);
                    ncfg++;
                }
            }
        }
    }
    printf("gradcheck: %d configurations, worst relative error %.3g\n", ncfg, worst_err);
    return check_done("test_loss_gradcheck");
}
