/* dense.c — fully connected layer with PyTorch nn.Linear's weight layout
 * (out_features, in_features); each pass is one GEMM. */
#include <assert.h>

#include "focal/nn.h"
#include "base/blas.h"
#include "nn/layers.h"

/* Below this many floats of work the bias-gradient loop stays on one thread. */
#define DENSE_PAR_MIN 65536

/* Columns of db summed per block in the backward (a stack array of doubles). */
#define DENSE_DB_BLOCK 64

/* out (N,O) = inp (N,I) · wᵀ + b, w (O,I), b (O; may be NULL). With a bias
 * the rows of out are first set to b and the GEMM adds onto them. */
void focal_dense_forward(float *out, const float *inp, const float *w, const float *b, int n, int in, int out_n)
{
    assert(n >= 0 && in >= 1 && out_n >= 1);
    float beta = 0.0f;
    if (b != NULL) {
        for (int i = 0; i < n; i++)
            for (int o = 0; o < out_n; o++)
                out[(size_t)i * out_n + o] = b[o];
        beta = 1.0f;
    }
    focal_sgemm(0, 1, n, out_n, in, 1.0f, inp, in, w, in, beta, out, out_n);
}

/* dinp (N,I; may be NULL) = dout · w, overwritten; dw (O,I) += doutᵀ · inp;
 * db (O; may be NULL) += the column sums of dout, in double, over the batch
 * in order. */
void focal_dense_backward(float *dinp, float *dw, float *db, const float *dout, const float *inp,
                          const float *w, int n, int in, int out_n)
{
    assert(n >= 0 && in >= 1 && out_n >= 1);
    if (dinp != NULL)
        focal_sgemm(0, 0, n, in, out_n, 1.0f, dout, out_n, w, in, 0.0f, dinp, in);
    focal_sgemm(1, 0, out_n, in, n, 1.0f, dout, out_n, inp, in, 1.0f, dw, in);
    if (db == NULL)
        return;
    const int blocks = (out_n + DENSE_DB_BLOCK - 1) / DENSE_DB_BLOCK;
#pragma omp parallel for schedule(static) if ((size_t)n * out_n >= DENSE_PAR_MIN)
    for (int bk = 0; bk < blocks; bk++) {
        const int o0 = bk * DENSE_DB_BLOCK;
        const int m = out_n - o0 < DENSE_DB_BLOCK ? out_n - o0 : DENSE_DB_BLOCK;
        double acc[DENSE_DB_BLOCK] = {0};
        for (int i = 0; i < n; i++) {
            const float *g = dout + (size_t)i * out_n + o0;
            for (int j = 0; j < m; j++)
                acc[j] += g[j];
        }
        for (int j = 0; j < m; j++)
            db[o0 + j] += (float)acc[j];
    }
}
