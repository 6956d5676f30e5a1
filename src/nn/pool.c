/* pool.c — max, average and global average pooling on NCHW tensors (PyTorch
 * F.max_pool2d, F.avg_pool2d with count_include_pad=True, floor output size).
 * Every loop is parallel over the N·C planes; a plane is handled by one
 * thread in a fixed order, so results do not depend on the thread count. */
#include <assert.h>
#include <math.h>
#include <string.h>

#include "focal/nn.h"
#include "nn/layers.h"

/* Below this many output elements a loop stays on one thread. */
#define POOL_PAR_MIN 8192

/* Fills the struct and the output size floor((h + 2·pad − k)/stride) + 1;
 * returns −1 for invalid parameters (c, h, w, k, stride < 1, pad < 0, or
 * pad > k/2, which PyTorch rejects too: it guarantees every window holds at
 * least one real pixel) or an empty output. */
int focal_pool_init(struct focal_pool *p, int c, int h, int w, int k, int stride, int pad)
{
    *p = (struct focal_pool){.c = c, .h = h, .w = w, .k = k, .stride = stride, .pad = pad};
    if (c < 1 || h < 1 || w < 1 || k < 1 || stride < 1 || pad < 0 || pad > k / 2)
        return -1;
    return focal_window_out(h, w, k, stride, pad, &p->oh, &p->ow);
}

/* The window of output position o along an axis of `size` pixels, clipped to
 * the image: [*lo, *hi). */
static inline void pool_window(int o, int size, int k, int stride, int pad, int *lo, int *hi)
{
    const int start = o * stride - pad;
    const int end = start + k;
    *lo = start > 0 ? start : 0;
    *hi = end < size ? end : size;
}

/* The 2×2, stride 2, unpadded window of one plane (the common case), branch
 * free, with the general loop's rule: scanning a, b, c, d in order, a value
 * wins if it is greater or NaN, so the first maximum wins ties and a NaN
 * propagates. */
static void maxpool_2x2(float *o, int32_t *am, const float *x, int W, int OH, int OW)
{
    for (int oy = 0; oy < OH; oy++) {
        const float *r0 = x + (size_t)(2 * oy) * W, *r1 = r0 + W;
        const int32_t base = 2 * oy * W;
        for (int ox = 0; ox < OW; ox++) {
            const float a = r0[2 * ox], b = r0[2 * ox + 1], c = r1[2 * ox], d = r1[2 * ox + 1];
            const int32_t i0 = base + 2 * ox;
            float m = a;
            int32_t i = i0;
            const int tb = b > m || isnan(b);
            m = tb ? b : m;
            i = tb ? i0 + 1 : i;
            const int tc = c > m || isnan(c);
            m = tc ? c : m;
            i = tc ? i0 + W : i;
            const int td = d > m || isnan(d);
            m = td ? d : m;
            i = td ? i0 + W + 1 : i;
            o[oy * OW + ox] = m;
            am[oy * OW + ox] = i;
        }
    }
}

/* out (N,C,OH,OW) = max over each window of inp (N,C,H,W); argmax receives
 * the index (iy·W + ix, within the plane) of the first maximum in row-major
 * window order. Padding never wins; a NaN in a window wins (the last one), as
 * in PyTorch. */
void focal_maxpool_forward(float *out, int32_t *argmax, const float *inp, const struct focal_pool *p, int n)
{
    assert(p->oh >= 1 && p->ow >= 1 && n >= 0);
    const int H = p->h, W = p->w, OH = p->oh, OW = p->ow, K = p->k, S = p->stride, P = p->pad;
    const int planes = n * p->c;
    const size_t in_plane = (size_t)H * W, out_plane = (size_t)OH * OW;
    if (K == 2 && S == 2 && P == 0) {
#pragma omp parallel for schedule(static) if ((size_t)planes * out_plane >= POOL_PAR_MIN)
        for (int q = 0; q < planes; q++)
            maxpool_2x2(out + q * out_plane, argmax + q * out_plane, inp + q * in_plane, W, OH, OW);
        return;
    }
#pragma omp parallel for schedule(static) if ((size_t)planes * out_plane >= POOL_PAR_MIN)
    for (int q = 0; q < planes; q++) {
        const float *x = inp + q * in_plane;
        float *o = out + q * out_plane;
        int32_t *am = argmax + q * out_plane;
        for (int oy = 0; oy < OH; oy++) {
            int ylo, yhi;
            pool_window(oy, H, K, S, P, &ylo, &yhi);
            for (int ox = 0; ox < OW; ox++) {
                int xlo, xhi;
                pool_window(ox, W, K, S, P, &xlo, &xhi);
                int best = ylo * W + xlo;
                float m = x[best];
                for (int iy = ylo; iy < yhi; iy++)
                    for (int ix = xlo; ix < xhi; ix++) {
                        const float v = x[iy * W + ix];
                        if (v > m || isnan(v)) {
                            m = v;
                            best = iy * W + ix;
                        }
                    }
                o[oy * OW + ox] = m;
                am[oy * OW + ox] = best;
            }
        }
    }
}

/* dinp (N,C,H,W) overwritten: each dout element added to the input pixel its
 * argmax names, 0 elsewhere. */
void focal_maxpool_backward(float *dinp, const float *dout, const int32_t *argmax, const struct focal_pool *p,
                            int n)
{
    assert(p->oh >= 1 && p->ow >= 1 && n >= 0);
    const int planes = n * p->c;
    const size_t in_plane = (size_t)p->h * p->w, out_plane = (size_t)p->oh * p->ow;
#pragma omp parallel for schedule(static) if ((size_t)planes * in_plane >= POOL_PAR_MIN)
    for (int q = 0; q < planes; q++) {
        float *dx = dinp + q * in_plane;
        const float *g = dout + q * out_plane;
        const int32_t *am = argmax + q * out_plane;
        memset(dx, 0, in_plane * sizeof *dx);
        for (size_t j = 0; j < out_plane; j++) {
            assert(am[j] >= 0 && (size_t)am[j] < in_plane);
            dx[am[j]] += g[j];
        }
    }
}

/* out (N,C,OH,OW) = sum over each window of inp / K², padded zeros counted
 * in the divisor (count_include_pad=True; with floor sizing and pad <= K/2
 * no window reaches past the padding, so the divisor is always K²). */
void focal_avgpool_forward(float *out, const float *inp, const struct focal_pool *p, int n)
{
    assert(p->oh >= 1 && p->ow >= 1 && n >= 0);
    const int H = p->h, W = p->w, OH = p->oh, OW = p->ow, K = p->k, S = p->stride, P = p->pad;
    const int planes = n * p->c;
    const size_t in_plane = (size_t)H * W, out_plane = (size_t)OH * OW;
    const float inv = 1.0f / (float)(K * K);
#pragma omp parallel for schedule(static) if ((size_t)planes * out_plane >= POOL_PAR_MIN)
    for (int q = 0; q < planes; q++) {
        const float *x = inp + q * in_plane;
        float *o = out + q * out_plane;
        for (int oy = 0; oy < OH; oy++) {
            int ylo, yhi;
            pool_window(oy, H, K, S, P, &ylo, &yhi);
            for (int ox = 0; ox < OW; ox++) {
                int xlo, xhi;
                pool_window(ox, W, K, S, P, &xlo, &xhi);
                float s = 0.0f;
                for (int iy = ylo; iy < yhi; iy++)
                    for (int ix = xlo; ix < xhi; ix++)
                        s += x[iy * W + ix];
                o[oy * OW + ox] = s * inv;
            }
        }
    }
}

/* dinp (N,C,H,W) overwritten: each pixel receives dout/K² from every window
 * that covers it. */
void focal_avgpool_backward(float *dinp, const float *dout, const struct focal_pool *p, int n)
{
    assert(p->oh >= 1 && p->ow >= 1 && n >= 0);
    const int H = p->h, W = p->w, OH = p->oh, OW = p->ow, K = p->k, S = p->stride, P = p->pad;
    const int planes = n * p->c;
    const size_t in_plane = (size_t)H * W, out_plane = (size_t)OH * OW;
    const float inv = 1.0f / (float)(K * K);
#pragma omp parallel for schedule(static) if ((size_t)planes * in_plane >= POOL_PAR_MIN)
    for (int q = 0; q < planes; q++) {
        float *dx = dinp + q * in_plane;
        const float *g = dout + q * out_plane;
        memset(dx, 0, in_plane * sizeof *dx);
        for (int oy = 0; oy < OH; oy++) {
            int ylo, yhi;
            pool_window(oy, H, K, S, P, &ylo, &yhi);
            for (int ox = 0; ox < OW; ox++) {
                int xlo, xhi;
                pool_window(ox, W, K, S, P, &xlo, &xhi);
                const float v = g[oy * OW + ox] * inv;
                for (int iy = ylo; iy < yhi; iy++)
                    for (int ix = xlo; ix < xhi; ix++)
                        dx[iy * W + ix] += v;
            }
        }
    }
}

/* out (N,C) = mean over the HW values of each plane of inp (N,C,HW), summed
 * in double. */
void focal_gap_forward(float *out, const float *inp, int n, int c, int hw)
{
    assert(n >= 0 && c >= 1 && hw >= 1);
    const int planes = n * c;
#pragma omp parallel for schedule(static) if ((size_t)planes * hw >= POOL_PAR_MIN * 4)
    for (int q = 0; q < planes; q++) {
        const float *x = inp + (size_t)q * hw;
        double s = 0.0;
#pragma omp simd reduction(+ : s)
        for (int j = 0; j < hw; j++)
            s += x[j];
        out[q] = (float)(s / hw);
    }
}

/* dinp (N,C,HW) overwritten with dout (N,C)/HW spread over each plane. */
void focal_gap_backward(float *dinp, const float *dout, int n, int c, int hw)
{
    assert(n >= 0 && c >= 1 && hw >= 1);
    const int planes = n * c;
#pragma omp parallel for schedule(static) if ((size_t)planes * hw >= POOL_PAR_MIN * 4)
    for (int q = 0; q < planes; q++) {
        const float v = dout[q] / (float)hw;
        float *dx = dinp + (size_t)q * hw;
        for (int j = 0; j < hw; j++)
            dx[j] = v;
    }
}
