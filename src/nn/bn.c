/* bn.c — batch normalisation over N·H·W per channel (PyTorch nn.BatchNorm2d).
 * Channels are independent, so every loop is parallel over channels and each
 * channel's sums are formed by one thread, in double, in a fixed order: the
 * results do not depend on the thread count. */
#include <assert.h>
#include <math.h>

#include "focal/nn.h"
#include "nn/layers.h"

/* Below this many elements in total a loop stays on one thread. */
#define BN_PAR_MIN 16384

/* Training-mode forward on inp (N, C, HW): for each channel, the batch mean
 * and biased variance over its N·HW values; out = (x − mean)·rstd·gamma + beta
 * with rstd = 1/sqrt(var + eps); mean and rstd (C each) are saved for the
 * backward; run_mean and run_var (C each) move towards the batch mean and the
 * unbiased batch variance by `momentum`, as PyTorch does. Needs N·HW >= 2 (the
 * unbiased variance of one value is undefined; PyTorch refuses it too). The
 * sums are taken around the channel's first value, which keeps the one-pass
 * variance accurate when |mean| is large against the spread. */
void focal_bn_forward_train(float *out, float *mean, float *rstd, float *run_mean, float *run_var,
                            const float *inp, const float *gamma, const float *beta, int n, int c,
                            int hw, float momentum, float eps, int relu)
{
    assert(n >= 1 && c >= 1 && hw >= 1);
    const size_t m = (size_t)n * hw;
    assert(m >= 2);
    const size_t cstride = (size_t)c * hw;
#pragma omp parallel for schedule(static) if (m * c >= BN_PAR_MIN)
    for (int ch = 0; ch < c; ch++) {
        const float *x0 = inp + (size_t)ch * hw;
        const double shift = x0[0];
        double s = 0.0, ss = 0.0;
        for (int i = 0; i < n; i++) {
            const float *x = x0 + i * cstride;
            double ts = 0.0, tss = 0.0;
#pragma omp simd reduction(+ : ts, tss)
            for (int j = 0; j < hw; j++) {
                const double d = (double)x[j] - shift;
                ts += d;
                tss += d * d;
            }
            s += ts;
            ss += tss;
        }
        const double mu_shifted = s / (double)m;
        double var = ss / (double)m - mu_shifted * mu_shifted;
        if (var < 0.0)
            var = 0.0;
        const double mu = shift + mu_shifted;
        const double r = 1.0 / sqrt(var + (double)eps);
        mean[ch] = (float)mu;
        rstd[ch] = (float)r;
        run_mean[ch] = (float)((1.0 - momentum) * run_mean[ch] + momentum * mu);
        run_var[ch] = (float)((1.0 - momentum) * run_var[ch] + momentum * var * (double)m / (double)(m - 1));
        /* Centring before scaling keeps the result accurate when |mean| is
         * large against the spread (folding mean into the bias would not). */
        const float muf = (float)mu, scale = (float)(r * gamma[ch]), b = beta[ch];
        for (int i = 0; i < n; i++) {
            const float *x = x0 + i * cstride;
            float *o = out + (size_t)ch * hw + i * cstride;
            if (relu) {
                for (int j = 0; j < hw; j++) {
                    const float v = (x[j] - muf) * scale + b;
                    o[j] = v > 0.0f || isnan(v) ? v : 0.0f; /* a NaN stays NaN, as in PyTorch */
                }
            } else {
                for (int j = 0; j < hw; j++)
                    o[j] = (x[j] - muf) * scale + b;
            }
        }
    }
}

/* Evaluation-mode forward: out = (x − run_mean)/sqrt(run_var + eps)·gamma +
 * beta, with the per-channel factor computed once in double. Parallel over
 * the N·C planes. */
void focal_bn_forward_eval(float *out, const float *inp, const float *gamma, const float *beta,
                           const float *run_mean, const float *run_var, int n, int c, int hw, float eps,
                           int relu)
{
    assert(n >= 0 && c >= 1 && hw >= 1);
    const int planes = n * c;
#pragma omp parallel for schedule(static) if ((size_t)planes * hw >= BN_PAR_MIN)
    for (int q = 0; q < planes; q++) {
        const int ch = q % c;
        const double r = 1.0 / sqrt((double)run_var[ch] + (double)eps);
        const float scale = (float)(r * gamma[ch]), mu = run_mean[ch], b = beta[ch];
        const float *x = inp + (size_t)q * hw;
        float *o = out + (size_t)q * hw;
        if (relu) {
            for (int j = 0; j < hw; j++) {
                const float v = (x[j] - mu) * scale + b;
                o[j] = v > 0.0f || isnan(v) ? v : 0.0f;
            }
        } else {
            for (int j = 0; j < hw; j++)
                o[j] = (x[j] - mu) * scale + b;
        }
    }
}

/* Training-mode backward. With x̂ = (x − mean)·rstd, M = N·HW and the batch
 * sums Sdy = Σ dy, Sdyx = Σ dy·x̂ over the channel:
 *   dbeta += Sdy,  dgamma += Sdyx,
 *   dinp = gamma·rstd·(dy − Sdy/M − x̂·Sdyx/M)   (overwritten).
 * The last two terms are the gradient through the batch mean and variance. */
void focal_bn_backward(float *dinp, float *dgamma, float *dbeta, const float *dout, const float *inp,
                       const float *mean, const float *rstd, const float *gamma, const float *relu_out,
                       int relu_in, int n, int c, int hw)
{
    assert(n >= 1 && c >= 1 && hw >= 1);
    const size_t m = (size_t)n * hw;
    const size_t cstride = (size_t)c * hw;
#pragma omp parallel for schedule(static) if (m * c >= BN_PAR_MIN)
    for (int ch = 0; ch < c; ch++) {
        const size_t base = (size_t)ch * hw;
        const float mu = mean[ch];
        const double r = rstd[ch];
        double sdy = 0.0, sdyx = 0.0;
        for (int i = 0; i < n; i++) {
            const float *x = inp + base + i * cstride;
            const float *dy = dout + base + i * cstride;
            const float *ro = relu_out ? relu_out + base + i * cstride : NULL;
            double t1 = 0.0, t2 = 0.0;
            if (ro) {
#pragma omp simd reduction(+ : t1, t2)
                for (int j = 0; j < hw; j++) {
                    const float g = dy[j]; /* read unconditionally: the select vectorises */
                    const float d = ro[j] > 0.0f ? g : 0.0f;
                    t1 += d;
                    t2 += (double)d * ((double)x[j] - mu);
                }
            } else {
#pragma omp simd reduction(+ : t1, t2)
                for (int j = 0; j < hw; j++) {
                    t1 += dy[j];
                    t2 += (double)dy[j] * ((double)x[j] - mu);
                }
            }
            sdy += t1;
            sdyx += t2;
        }
        sdyx *= r; /* Σ dy·(x − mean) · rstd = Σ dy·x̂ */
        dbeta[ch] += (float)sdy;
        dgamma[ch] += (float)sdyx;
        /* dinp = k·dy + a·(x − mean) + b, the expression above with its
         * per-channel factors computed once in double. */
        const double k = gamma[ch] * r;
        const float kf = (float)k, af = (float)(-k * r * sdyx / (double)m), bf = (float)(-k * sdy / (double)m);
        for (int i = 0; i < n; i++) {
            const float *x = inp + base + i * cstride;
            const float *dy = dout + base + i * cstride;
            float *dx = dinp + base + i * cstride;
            if (relu_out && relu_in) { /* ReLU before and after: both masks */
                const float *ro = relu_out + base + i * cstride;
                for (int j = 0; j < hw; j++) {
                    const float g = dy[j];
                    const float v = kf * (ro[j] > 0.0f ? g : 0.0f) + af * (x[j] - mu) + bf;
                    dx[j] = x[j] > 0.0f ? v : 0.0f;
                }
            } else if (relu_out) {
                const float *ro = relu_out + base + i * cstride;
                for (int j = 0; j < hw; j++) {
                    const float g = dy[j];
                    dx[j] = kf * (ro[j] > 0.0f ? g : 0.0f) + af * (x[j] - mu) + bf;
                }
            } else if (relu_in) { /* the input came out of a ReLU: pass the gradient through it */
                for (int j = 0; j < hw; j++) {
                    const float v = kf * dy[j] + af * (x[j] - mu) + bf;
                    dx[j] = x[j] > 0.0f ? v : 0.0f;
                }
            } else {
                for (int j = 0; j < hw; j++)
                    dx[j] = kf * dy[j] + af * (x[j] - mu) + bf;
            }
        }
    }
}
