/* dense_norm.c — the normalised (cosine) dense layer of LDAM (Cao et al.
 * 2019): out_j = (x/‖x‖)·(w_j/‖w_j‖), with each norm clamped below at
 * FOCAL_NORM_EPS as PyTorch's F.normalize clamps it. No bias; the scale s is
 * the loss's. */
#include <assert.h>
#include <math.h>

#include "base/blas.h"
#include "nn/layers.h"

/* Below this many floats of work the row loops stay on one thread. */
#define NORM_PAR_MIN 65536

/* dst (rows, len) = src's rows divided by nrm = max(‖row‖, eps); the
 * squares are summed in double, in order. */
static void normalise_rows(float *dst, float *nrm, const float *src, int rows, int len)
{
#pragma omp parallel for schedule(static) if ((size_t)rows * len >= NORM_PAR_MIN)
    for (int r = 0; r < rows; r++) {
        const float *v = src + (size_t)r * len;
        double s = 0;
        for (int i = 0; i < len; i++)
            s += (double)v[i] * v[i];
        const double d = fmax(sqrt(s), FOCAL_NORM_EPS);
        nrm[r] = (float)d;
        for (int i = 0; i < len; i++)
            dst[(size_t)r * len + i] = (float)(v[i] / d);
    }
}

/* g (rows, len): the gradient with respect to the normalised rows vn,
 * turned in place into the gradient with respect to the raw rows: (g −
 * vn·(vn·g))/‖v‖ where the norm was not clamped, g/eps where it was. */
static void normalise_rows_backward(float *g, const float *vn, const float *nrm, int rows, int len)
{
#pragma omp parallel for schedule(static) if ((size_t)rows * len >= NORM_PAR_MIN)
    for (int r = 0; r < rows; r++) {
        float *gr = g + (size_t)r * len;
        const float *u = vn + (size_t)r * len;
        const double d = nrm[r];
        double dot = 0;
        if (d > FOCAL_NORM_EPS)
            for (int i = 0; i < len; i++)
                dot += (double)u[i] * gr[i];
        for (int i = 0; i < len; i++)
            gr[i] = (float)((gr[i] - u[i] * dot) / d);
    }
}

void focal_dense_norm_forward(float *out, float *xn, float *wn, float *nrm, const float *inp, const float *w, int n,
                              int in, int out_n)
{
    assert(n >= 0 && in >= 1 && out_n >= 1);
    normalise_rows(xn, nrm, inp, n, in);
    normalise_rows(wn, nrm + n, w, out_n, in);
    focal_sgemm(0, 1, n, out_n, in, 1.0f, xn, in, wn, in, 0.0f, out, out_n);
}

void focal_dense_norm_backward(float *dinp, float *dw, float *scratch, const float *dout, const float *xn,
                               const float *wn, const float *nrm, int n, int in, int out_n)
{
    assert(n >= 0 && in >= 1 && out_n >= 1);
    if (dinp != NULL) {
        focal_sgemm(0, 0, n, in, out_n, 1.0f, dout, out_n, wn, in, 0.0f, dinp, in);
        normalise_rows_backward(dinp, xn, nrm, n, in);
    }
    focal_sgemm(1, 0, out_n, in, n, 1.0f, dout, out_n, xn, in, 0.0f, scratch, in);
    normalise_rows_backward(scratch, wn, nrm + n, out_n, in);
    const size_t len = (size_t)out_n * in;
    for (size_t i = 0; i < len; i++)
        dw[i] += scratch[i];
}
