/* blas.h — the single BLAS call site (blas.c): no other file includes cblas.h. Internal to the library; not installed. */
#ifndef FOCAL_BLAS_H
#define FOCAL_BLAS_H

#include <stdint.h>

/* ---- the one BLAS call site (blas.c) ------------------------------------ */

/* C (m×n) = alpha · op(A) · op(B) + beta · C, row-major; op(X) = Xᵀ when the
 * matching trans flag is 1. A is m×k after op, B is k×n after op. */
void focal_sgemm(int trans_a, int trans_b, int m, int n, int k, float alpha, const float *a, int lda,
                 const float *b, int ldb, float beta, float *c, int ldc);

/* Sets the BLAS's thread count (n >= 1). */
void focal_blas_set_threads(int n);

#endif
