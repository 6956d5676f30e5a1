/* loss_internal.h — the interface between the loss driver (loss.c) and the
 * per-instruction-set kernels (loss_kernels.c, compiled once per ISA). */
#ifndef FOCAL_LOSS_INTERNAL_H
#define FOCAL_LOSS_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "focal/loss.h"

/* What the kernels are given: the caller's parameters, with gamma zeroed for
 * the losses that have none (bce, ce), the factor every gradient is
 * multiplied by (1/normaliser of the reduction), and the long-tail losses'
 * per-class constants, formed once from class_prior (NULL for other kinds):
 *   la, balanced-softmax  cshift[j] = τ log v_j
 *   ldam                  caux[j] = Δ_j
 *   db                    cshift[j] = (κ/λ)·log(π_j/(1 − π_j)), caux[j] = 1/π_j */
struct focal_kparams {
    struct focal_loss l;
    double gscale;
    const double *cshift;
    const double *caux;
};

/* What one chunk of work reports back; the driver sums chunks in order. */
struct focal_kpart {
    double sum;              /* Σ of the unscaled losses of the chunk */
    int64_t counted;         /* elements (sigmoid) or rows (softmax) not ignored */
    int64_t bad;             /* sigmoid: targets that are NaN or > 1 */
};

/* Sigmoid family over rows [r0, r1) of an n×c problem. Writes grad (scaled by
 * gscale) and per (unscaled) for those rows when non-NULL; the loss is the
 * same bit for bit either way. */
typedef void (*focal_sig_f32_fn)(const struct focal_kparams *kp, size_t c, size_t r0, size_t r1,
                                 const float *x, const float *y, float *grad, float *per,
                                 struct focal_kpart *out);
typedef void (*focal_sig_f64_fn)(const struct focal_kparams *kp, size_t c, size_t r0, size_t r1,
                                 const double *x, const double *y, double *grad, double *per,
                                 struct focal_kpart *out);
/* Softmax family over rows [r0, r1). Targets already validated. grad and
 * per may be NULL; the loss is the same bit for bit either way. */
typedef void (*focal_smx_f32_fn)(const struct focal_kparams *kp, size_t c, size_t r0, size_t r1,
                                 const float *x, const int32_t *t, float *grad, float *per,
                                 struct focal_kpart *out);
typedef void (*focal_smx_f64_fn)(const struct focal_kparams *kp, size_t c, size_t r0, size_t r1,
                                 const double *x, const int32_t *t, double *grad, double *per,
                                 struct focal_kpart *out);

struct focal_kernels {
    const char *isa;
    focal_sig_f32_fn sig_f32;
    focal_sig_f64_fn sig_f64;
    focal_smx_f32_fn smx_f32;
    focal_smx_f64_fn smx_f64;
};

extern const struct focal_kernels focal_kernels_generic;
#ifdef FOCAL_HAVE_X86_ISAS
extern const struct focal_kernels focal_kernels_avx2;
extern const struct focal_kernels focal_kernels_avx512;
#endif

/* The kernel set in use: the best the CPU supports, or the one named by the
 * environment variable FOCAL_ISA (generic, avx2, avx512) when it is set and
 * supported. */
const struct focal_kernels *focal_kernels_active(void);

#endif
