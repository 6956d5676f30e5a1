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

/* Σ (x − shift) and Σ (x − shift)² over one channel's N·HW values, x0 its
 * first plane, cstride the distance between samples. */
static void channel_sums(const float *x0, int n, int hw, size_t cstride, double shift, double *sum, double *sumsq)
{
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
    *sum = s;
    *sumsq = ss;
}

/* One channel's statistics from its sums around shift over m values: the
 * saved mean and rstd, the running statistics moved by momentum; returns the
 * mean, and *rd receives rstd in double. */
static double channel_stats(double s, double ss, double shift, double m, float momentum, float eps, float *mean,
                            float *rstd, float *run_mean, float *run_var, double *rd)
{
    const double mu_shifted = s / m;
    double var = ss / m - mu_shifted * mu_shifted;
    if (var < 0.0)
        var = 0.0;
    const double mu = shift + mu_shifted;
    const double r = 1.0 / sqrt(var + (double)eps);
    *mean = (float)mu;
    *rstd = (float)r;
    *run_mean = (float)((1.0 - momentum) * *run_mean + momentum * mu);
    *run_var = (float)((1.0 - momentum) * *run_var + momentum * var * m / (m - 1.0));
    *rd = r;
    return mu;
}

/* out = (x − mean)·scale + b over one channel (ReLU after it when relu).
 * Centring before scaling keeps the result accurate when |mean| is large
 * against the spread (folding mean into the bias would not). */
static void channel_normalise(float *o0, const float *x0, int n, int hw, size_t cstride, float muf, float scale,
                              float b, int relu)
{
    for (int i = 0; i < n; i++) {
        const float *x = x0 + i * cstride;
        float *o = o0 + i * cstride;
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
        double s, ss, r;
        channel_sums(x0, n, hw, cstride, shift, &s, &ss);
        const double mu = channel_stats(s, ss, shift, (double)m, momentum, eps, &mean[ch], &rstd[ch],
                                        &run_mean[ch], &run_var[ch], &r);
        channel_normalise(out + (size_t)ch * hw, x0, n, hw, cstride, (float)mu, (float)(r * gamma[ch]), beta[ch],
                          relu);
    }
}

int focal_bn_forward_train_sync(float *out, float *mean, float *rstd, float *run_mean, float *run_var,
                                const float *inp, const float *gamma, const float *beta, int n, int c, int hw,
                                float momentum, float eps, int relu, const struct focal_comm *comm,
                                double *sums)
{
    assert(n >= 0 && c >= 1 && hw >= 1);
    const size_t m = (size_t)n * hw;
    const size_t cstride = (size_t)c * hw;
    /* around the running mean: the same on every rank, and near the batch's */
#pragma omp parallel for schedule(static) if (m * c >= BN_PAR_MIN)
    for (int ch = 0; ch < c; ch++)
        channel_sums(inp + (size_t)ch * hw, n, hw, cstride, run_mean[ch], &sums[ch], &sums[c + ch]);
    sums[2 * c] = (double)m;
    if (comm->sum_double(comm->ctx, sums, 2 * (size_t)c + 1) != 0)
        return -1;
    const double mt = sums[2 * c];
    assert(mt >= 2);
#pragma omp parallel for schedule(static) if (m * c >= BN_PAR_MIN)
    for (int ch = 0; ch < c; ch++) {
        const double shift = run_mean[ch];
        double r;
        const double mu = channel_stats(sums[ch], sums[c + ch], shift, mt, momentum, eps, &mean[ch], &rstd[ch],
                                        &run_mean[ch], &run_var[ch], &r);
        channel_normalise(out + (size_t)ch * hw, inp + (size_t)ch * hw, n, hw, cstride, (float)mu,
                          (float)(r * gamma[ch]), beta[ch], relu);
    }
    return 0;
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

/* Σ dy and Σ dy·(x − mu) over one channel (dy masked where relu_out <= 0
 * when relu_out is given); base is the channel's offset. */
static void channel_grad_sums(const float *dout, const float *inp, const float *relu_out, size_t base, int n, int hw,
                              size_t cstride, float mu, double *sum_dy, double *sum_dyx)
{
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
    *sum_dy = sdy;
    *sum_dyx = sdyx;
}

/* dinp of one channel from the sums Sdy and Sdyx (= Σ dy·x̂) over m values:
 * dinp = k·dy + a·(x − mean) + b, with k = gamma·rstd, the expression of
 * focal_bn_backward with its per-channel factors computed once in double. */
static void channel_dinp(float *dinp, const float *dout, const float *inp, const float *relu_out, int relu_in,
                         size_t base, int n, int hw, size_t cstride, float mu, double r, float gamma, double sdy,
                         double sdyx, double m)
{
    const double k = gamma * r;
    const float kf = (float)k, af = (float)(-k * r * sdyx / m), bf = (float)(-k * sdy / m);
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
        const double r = rstd[ch];
        double sdy, sdyx;
        channel_grad_sums(dout, inp, relu_out, base, n, hw, cstride, mean[ch], &sdy, &sdyx);
        sdyx *= r; /* Σ dy·(x − mean) · rstd = Σ dy·x̂ */
        dbeta[ch] += (float)sdy;
        dgamma[ch] += (float)sdyx;
        channel_dinp(dinp, dout, inp, relu_out, relu_in, base, n, hw, cstride, mean[ch], r, gamma[ch], sdy, sdyx,
                     (double)m);
    }
}

int focal_bn_backward_sync(float *dinp, float *dgamma, float *dbeta, const float *dout, const float *inp,
                           const float *mean, const float *rstd, const float *gamma, const float *relu_out,
                           int relu_in, int n, int c, int hw, const struct focal_comm *comm, double *sums)
{
    assert(n >= 0 && c >= 1 && hw >= 1);
    const size_t m = (size_t)n * hw;
    const size_t cstride = (size_t)c * hw;
#pragma omp parallel for schedule(static) if (m * c >= BN_PAR_MIN)
    for (int ch = 0; ch < c; ch++) {
        const size_t base = (size_t)ch * hw;
        channel_grad_sums(dout, inp, relu_out, base, n, hw, cstride, mean[ch], &sums[ch], &sums[c + ch]);
        sums[c + ch] *= rstd[ch];
        /* this rank's share: the gradient sum over the ranks adds the others' */
        dbeta[ch] += (float)sums[ch];
        dgamma[ch] += (float)sums[c + ch];
    }
    sums[2 * c] = (double)m;
    if (comm->sum_double(comm->ctx, sums, 2 * (size_t)c + 1) != 0)
        return -1;
#pragma omp parallel for schedule(static) if (m * c >= BN_PAR_MIN)
    for (int ch = 0; ch < c; ch++)
        channel_dinp(dinp, dout, inp, relu_out, relu_in, (size_t)ch * hw, n, hw, cstride, mean[ch], rstd[ch],
                     gamma[ch], sums[ch], sums[c + ch], sums[2 * c]);
    return 0;
}
