/* blas.c — the library's only BLAS call site. Everything else multiplies
 * matrices through focal_sgemm, so the BLAS can be swapped or instrumented
 * here alone, and only this file sees <cblas.h>. */
#include <assert.h>
#include <cblas.h>

#include "focal/base.h"
#include "base/blas.h"

/* C (m×n) = alpha · op(A) · op(B) + beta · C on row-major matrices; forwards
 * to OpenBLAS. Empty products are handled here (the BLAS rejects some of them
 * through its leading-dimension checks): m or n zero does nothing, k zero
 * scales C by beta. */
void focal_sgemm(int trans_a, int trans_b, int m, int n, int k, float alpha, const float *a, int lda,
                 const float *b, int ldb, float beta, float *c, int ldc)
{
    assert(m >= 0 && n >= 0 && k >= 0);
    assert(ldc >= (n > 1 ? n : 1));
    if (m == 0 || n == 0)
        return;
    if (k == 0) {
        for (int i = 0; i < m; i++)
            for (int j = 0; j < n; j++)
                c[(size_t)i * ldc + j] = beta == 0.0f ? 0.0f : beta * c[(size_t)i * ldc + j];
        return;
    }
    cblas_sgemm(CblasRowMajor, trans_a ? CblasTrans : CblasNoTrans, trans_b ? CblasTrans : CblasNoTrans, m, n,
                k, alpha, a, lda, b, ldb, beta, c, ldc);
}

/* Sets the number of threads OpenBLAS uses for later calls (n >= 1). */
void focal_blas_set_threads(int n)
{
    assert(n >= 1);
    openblas_set_num_threads(n);
}
