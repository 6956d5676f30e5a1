/* conv.c — 2-D convolution (PyTorch nn.Conv2d with groups = 1, dilation = 1).
 * A convolution set up with focal_conv_use_dnnl runs through oneDNN
 * (conv_dnnl.c); every other one, and any call oneDNN cannot serve, runs
 * here as im2col + one GEMM per image. A model sends every convolution to
 * oneDNN when the build has it, with no per-shape rule: on the preset
 * networks' shapes (kernels 1, 3 and 5, strides 1 and 2, 3 to 128 channels,
 * 7×7 to 300×450 pixels, batches 16 to 64) it was faster on every one, by
 * 1.6–4× in the forward and 2–10× in the backward. With one thread (or one
 * image) the GEMMs run outside any parallel region, so the BLAS uses its own
 * threads, and the im2col/col2im loops are parallel over rows/channels. With several threads
 * and images, each thread takes a fixed, contiguous share of the images with
 * its own im2col buffer and single-threaded GEMMs (the BLAS runs on one
 * thread inside a parallel region): small per-image GEMMs then keep every
 * core busy. Weight gradients are summed per thread and the partial sums
 * added in thread order, so results depend only on the inputs and the
 * thread count. */
#include <assert.h>
#include <omp.h>
#include <string.h>

#include "focal/nn.h"
#include "base/blas.h"
#include "nn/layers.h"
#if FOCAL_HAVE_DNNL
#include "nn/conv_dnnl.h"
#endif

/* Below this many floats of work a loop stays on one thread. */
#define CONV_PAR_MIN 16384

/* Fills oh, ow from the input size and hyper-parameters; returns −1 (leaving
 * *p partly filled) for invalid parameters (c, h, w, oc, k, stride < 1 or
 * pad < 0) or an empty output. */
int focal_conv_init(struct focal_conv *p, int c, int h, int w, int oc, int k, int stride, int pad)
{
    *p = (struct focal_conv){.c = c, .h = h, .w = w, .oc = oc, .k = k, .stride = stride, .pad = pad};
    if (c < 1 || h < 1 || w < 1 || oc < 1 || k < 1 || stride < 1 || pad < 0)
        return -1;
    return focal_window_out(h, w, k, stride, pad, &p->oh, &p->ow);
}

void focal_conv_fuse_relu(struct focal_conv *p, float slope)
{
    assert(p->dnnl == NULL && slope >= 0.0f);
    p->relu = 1;
    p->slope = slope;
}

/* Builds the oneDNN primitives (see layers.h); without oneDNN in the build,
 * p stays on the im2col path. */
int focal_conv_use_dnnl(struct focal_conv *p, int max_batch, int bias, int need_dinp, int threads)
{
    assert(p->oh >= 1 && p->ow >= 1 && max_batch >= 1);
#if FOCAL_HAVE_DNNL
    focal_conv_release(p);
    p->dnnl = focal_conv_dnnl_create(p, max_batch, bias, need_dinp, threads);
    return p->dnnl ? 0 : -1;
#else
    (void)p, (void)max_batch, (void)bias, (void)need_dinp, (void)threads;
    return 1;
#endif
}

void focal_conv_release(struct focal_conv *p)
{
#if FOCAL_HAVE_DNNL
    focal_conv_dnnl_free(p->dnnl);
#endif
    p->dnnl = NULL;
}

/* 1 for the 1×1, stride 1, pad 0 case, where an image (C × H·W) already is
 * its own im2col matrix. */
static int conv_is_pointwise(const struct focal_conv *p)
{
    return p->k == 1 && p->stride == 1 && p->pad == 0;
}

/* Floats of im2col scratch for one image (C·K·K × OH·OW); 0 when pointwise. */
size_t focal_conv_col_size(const struct focal_conv *p)
{
    if (conv_is_pointwise(p))
        return 0;
    return (size_t)p->c * p->k * p->k * p->oh * p->ow;
}

/* Floats of one thread's share of the workspace when several threads split
 * the images: an im2col buffer, then a weight-gradient partial. */
static size_t conv_ws_stride(const struct focal_conv *p)
{
    return focal_conv_col_size(p) + (size_t)p->oc * p->c * p->k * p->k;
}

/* The im2col path's share; with oneDNN, the larger of it and oneDNN's, since
 * a call oneDNN cannot serve falls back to im2col in the same workspace. */
size_t focal_conv_ws_size(const struct focal_conv *p, int threads)
{
    const size_t im2col = threads <= 1 ? focal_conv_col_size(p) : (size_t)threads * conv_ws_stride(p);
#if FOCAL_HAVE_DNNL
    if (p->dnnl) {
        const size_t d = focal_conv_dnnl_ws_size(p->dnnl);
        return d > im2col ? d : im2col;
    }
#endif
    return im2col;
}

/* The output positions [*lo, *hi) along one axis whose input coordinate
 * o·stride − pad + kk falls inside [0, size). */
static void conv_valid_range(int kk, int size, int out, int stride, int pad, int *lo, int *hi)
{
    const int first = pad - kk; /* smallest o·stride allowed */
    int l = first > 0 ? (first + stride - 1) / stride : 0;
    const int last = size - 1 + pad - kk; /* largest o·stride allowed */
    int h = last >= 0 ? last / stride + 1 : 0;
    if (h > out)
        h = out;
    if (l > h)
        l = h;
    *lo = l;
    *hi = h;
}

/* col (C·K·K, OH·OW) = im2col of one image img (C, H, W); padding reads 0. */
static void conv_im2col(float *col, const float *img, const struct focal_conv *p)
{
    const int K = p->k, S = p->stride, P = p->pad, H = p->h, W = p->w, OH = p->oh, OW = p->ow;
    const int rows = p->c * K * K;
    const size_t plane = (size_t)OH * OW;
#pragma omp parallel for schedule(static) if ((size_t)rows * plane >= CONV_PAR_MIN)
    for (int r = 0; r < rows; r++) {
        const int c = r / (K * K), ki = (r / K) % K, kj = r % K;
        const float *src = img + (size_t)c * H * W;
        float *dst = col + (size_t)r * plane;
        int ylo, yhi, xlo, xhi;
        conv_valid_range(ki, H, OH, S, P, &ylo, &yhi);
        conv_valid_range(kj, W, OW, S, P, &xlo, &xhi);
        memset(dst, 0, (size_t)ylo * OW * sizeof *dst);
        for (int oy = ylo; oy < yhi; oy++) {
            float *d = dst + (size_t)oy * OW;
            const float *s = src + (size_t)(oy * S - P + ki) * W; /* input row */
            const int off = kj - P; /* input column of output column 0 */
            for (int ox = 0; ox < xlo; ox++)
                d[ox] = 0.0f;
            if (S == 1) {
                if (xhi > xlo)
                    memcpy(d + xlo, s + xlo + off, (size_t)(xhi - xlo) * sizeof *d);
            } else {
                for (int ox = xlo; ox < xhi; ox++)
                    d[ox] = s[ox * S + off];
            }
            for (int ox = xhi; ox < OW; ox++)
                d[ox] = 0.0f;
        }
        memset(dst + (size_t)yhi * OW, 0, (size_t)(OH - yhi) * OW * sizeof *dst);
    }
}

/* img (C, H, W) = col2im of col (C·K·K, OH·OW): overwrites img with the sum,
 * over every (row, output position), of the col entry at the input pixel it
 * was read from (padding contributions are dropped). Parallel over channels:
 * each channel's plane is summed by one thread in a fixed order. */
static void conv_col2im(float *img, const float *col, const struct focal_conv *p)
{
    const int K = p->k, S = p->stride, P = p->pad, H = p->h, W = p->w, OH = p->oh, OW = p->ow;
    const size_t plane = (size_t)OH * OW;
#pragma omp parallel for schedule(static) if ((size_t)p->c * K * K * plane >= CONV_PAR_MIN)
    for (int c = 0; c < p->c; c++) {
        float *dst = img + (size_t)c * H * W;
        memset(dst, 0, (size_t)H * W * sizeof *dst);
        for (int ki = 0; ki < K; ki++) {
            int ylo, yhi;
            conv_valid_range(ki, H, OH, S, P, &ylo, &yhi);
            for (int kj = 0; kj < K; kj++) {
                int xlo, xhi;
                conv_valid_range(kj, W, OW, S, P, &xlo, &xhi);
                const float *src = col + ((size_t)(c * K + ki) * K + kj) * plane;
                for (int oy = ylo; oy < yhi; oy++) {
                    const float *s = src + (size_t)oy * OW;
                    float *d = dst + (size_t)(oy * S - P + ki) * W; /* input row */
                    const int off = kj - P;
                    if (S == 1) {
                        for (int ox = xlo; ox < xhi; ox++)
                            d[ox + off] += s[ox];
                    } else {
                        for (int ox = xlo; ox < xhi; ox++)
                            d[ox * S + off] += s[ox];
                    }
                }
            }
        }
    }
}

/* out_img (OC, OH·OW) = W · im2col(img) for images [i0, i1); col: one image's
 * im2col scratch (unused when pointwise). */
static void conv_fwd_images(float *out, float *col, const float *inp, const float *w,
                            const struct focal_conv *p, int i0, int i1)
{
    const int ckk = p->c * p->k * p->k;
    const int plane = p->oh * p->ow;
    const size_t in_img = (size_t)p->c * p->h * p->w, out_img = (size_t)p->oc * plane;
    const int pointwise = conv_is_pointwise(p);
    for (int i = i0; i < i1; i++) {
        const float *src = inp + i * in_img;
        if (!pointwise) {
            conv_im2col(col, src, p);
            src = col;
        }
        focal_sgemm(0, 0, p->oc, plane, ckk, 1.0f, w, ckk, src, plane, 0.0f, out + i * out_img, plane);
    }
}

/* out (N,OC,OH,OW) = conv(inp (N,C,H,W), w (OC,C,K,K)) + b (OC; may be NULL).
 * ws: focal_conv_ws_size(p, threads) floats of scratch. */
void focal_conv_forward(float *out, float *ws, int threads, const float *inp, const float *w, const float *b,
                        const struct focal_conv *p, int n)
{
    assert(p->oh >= 1 && p->ow >= 1 && n >= 0);
#if FOCAL_HAVE_DNNL
    if (p->dnnl && n >= 1 && focal_conv_dnnl_forward(p->dnnl, out, ws, threads, inp, w, b, n) == 0)
        return;
#endif
    const int plane = p->oh * p->ow;
    assert(conv_is_pointwise(p) || ws != NULL);
    if (threads <= 1 || n < 2) {
        conv_fwd_images(out, ws, inp, w, p, 0, n);
    } else {
        const size_t per = conv_ws_stride(p);
#pragma omp parallel num_threads(threads)
        {
            const int t = omp_get_thread_num(), nt = omp_get_num_threads();
            conv_fwd_images(out, ws + (size_t)t * per, inp, w, p, (int)((long)n * t / nt),
                            (int)((long)n * (t + 1) / nt));
        }
    }
    if (b != NULL || p->relu) {
        /* the bias, then the ReLU as focal_relu_forward computes it */
        const int planes = n * p->oc, relu = p->relu;
        const float slope = p->slope;
#pragma omp parallel for schedule(static) if ((size_t)planes * plane >= CONV_PAR_MIN)
        for (int q = 0; q < planes; q++) {
            float *o = out + (size_t)q * plane;
            if (b != NULL) {
                const float bias = b[q % p->oc];
                for (int j = 0; j < plane; j++)
                    o[j] += bias;
            }
            if (relu) {
#pragma omp simd
                for (int j = 0; j < plane; j++) {
                    const float v = o[j];
                    o[j] = v > 0.0f ? v : slope * v;
                }
            }
        }
    }
}

/* Backward for images [i0, i1): dw += dout_img · colᵀ and, when dinp is set,
 * dinp_img = col2im(Wᵀ · dout_img). */
static void conv_bwd_images(float *dinp, float *dw, float *col, const float *dout, const float *inp,
                            const float *w, const struct focal_conv *p, int i0, int i1)
{
    const int ckk = p->c * p->k * p->k;
    const int plane = p->oh * p->ow;
    const size_t in_img = (size_t)p->c * p->h * p->w, out_img = (size_t)p->oc * plane;
    const int pointwise = conv_is_pointwise(p);
    for (int i = i0; i < i1; i++) {
        const float *g = dout + i * out_img;
        const float *src = inp + i * in_img;
        if (!pointwise) {
            conv_im2col(col, src, p);
            src = col;
        }
        focal_sgemm(0, 1, p->oc, ckk, plane, 1.0f, g, plane, src, plane, 1.0f, dw, ckk);
        if (dinp == NULL)
            continue;
        if (pointwise) {
            focal_sgemm(1, 0, ckk, plane, p->oc, 1.0f, w, ckk, g, plane, 0.0f, dinp + i * in_img, plane);
        } else {
            focal_sgemm(1, 0, ckk, plane, p->oc, 1.0f, w, ckk, g, plane, 0.0f, col, plane);
            conv_col2im(dinp + i * in_img, col, p);
        }
    }
}

/* Backward of focal_conv_forward for the same inp, w, p, n. dinp (N,C,H,W;
 * may be NULL) is overwritten; dw (OC,C,K,K) and db (OC; may be NULL) are
 * accumulated (+=). ws: as for the forward (its contents on entry are
 * ignored). With several threads each sums its images' dw in its own part of
 * ws; the parts are then added to dw in thread order. db sums in double over
 * images and positions in a fixed order. */
void focal_conv_backward(float *dinp, float *dw, float *db, float *ws, int threads, const float *dout,
                         const float *inp, const float *w, const struct focal_conv *p, int n)
{
    assert(p->oh >= 1 && p->ow >= 1 && n >= 0);
#if FOCAL_HAVE_DNNL
    if (p->dnnl && n >= 1 && focal_conv_dnnl_backward(p->dnnl, dinp, dw, db, ws, threads, dout, inp, w, n) == 0)
        return;
#endif
    const int plane = p->oh * p->ow;
    const size_t out_img = (size_t)p->oc * plane;
    assert(conv_is_pointwise(p) || ws != NULL);
    if (threads <= 1 || n < 2) {
        conv_bwd_images(dinp, dw, ws, dout, inp, w, p, 0, n);
    } else {
        const size_t per = conv_ws_stride(p), cs = focal_conv_col_size(p), nw = per - cs;
        int used = 1;
#pragma omp parallel num_threads(threads)
        {
            const int t = omp_get_thread_num(), nt = omp_get_num_threads();
            float *part = ws + (size_t)t * per + cs;
            memset(part, 0, nw * sizeof *part);
            conv_bwd_images(dinp, part, ws + (size_t)t * per, dout, inp, w, p, (int)((long)n * t / nt),
                            (int)((long)n * (t + 1) / nt));
#pragma omp single
            used = nt;
        }
#pragma omp parallel for schedule(static) if (nw >= CONV_PAR_MIN)
        for (size_t j = 0; j < nw; j++) {
            float s = dw[j];
            for (int t = 0; t < used; t++)
                s += ws[(size_t)t * per + cs + j];
            dw[j] = s;
        }
    }
    if (db != NULL) {
        const int oc = p->oc;
#pragma omp parallel for schedule(static) if ((size_t)n * out_img >= CONV_PAR_MIN)
        for (int o = 0; o < oc; o++) {
            double s = 0.0;
            for (int i = 0; i < n; i++) {
                const float *g = dout + i * out_img + (size_t)o * plane;
                double t = 0.0;
#pragma omp simd reduction(+ : t)
                for (int j = 0; j < plane; j++)
                    t += g[j];
                s += t;
            }
            db[o] += (float)s;
        }
    }
}
