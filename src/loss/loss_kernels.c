/* loss_kernels.c — the fused loss kernels, compiled once per instruction set
 * (FOCAL_ISA = generic, avx2 or avx512; see CMakeLists.txt). The body lives in
 * loss_kernel_body.h and is instantiated here for float and for double.
 *
 * The element-wise loops are `omp simd` loops whose exp/log/log1p calls the
 * compiler maps to glibc's vector math library (libmvec), which is why those
 * functions are re-declared below as SIMD-enabled. */
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "focal/loss.h"
#include "loss/loss_internal.h"

#pragma omp declare simd notinbranch
extern float expf(float);
#pragma omp declare simd notinbranch
extern float logf(float);
#pragma omp declare simd notinbranch
extern float log1pf(float);
#pragma omp declare simd notinbranch
extern double exp(double);
#pragma omp declare simd notinbranch
extern double log(double);
#pragma omp declare simd notinbranch
extern double log1p(double);

#define FOCAL_CAT2(a, b) a##_##b
#define FOCAL_CAT(a, b) FOCAL_CAT2(a, b)
#define FOCAL_KNAME(base) FOCAL_CAT(base, FOCAL_ISA)
#define FOCAL_STR2(x) #x
#define FOCAL_STR(x) FOCAL_STR2(x)

/* How a sigmoid kernel forms the focusing factor (1 − p_t)^γ. */
enum { MOD_NONE, MOD_EXP, MOD_INT };

/* float instantiation */
#define REAL float
#define RSUF f32
#define R_EXP expf
#define R_LOG logf
#define R_LOG1P log1pf
#define R_TINY 1e-37f
#include "loss/loss_kernel_body.h"
#undef REAL
#undef RSUF
#undef R_EXP
#undef R_LOG
#undef R_LOG1P
#undef R_TINY

/* double instantiation */
#define REAL double
#define RSUF f64
#define R_EXP exp
#define R_LOG log
#define R_LOG1P log1p
#define R_TINY 1e-300
#include "loss/loss_kernel_body.h"

const struct focal_kernels FOCAL_KNAME(focal_kernels) = {
    .isa = FOCAL_STR(FOCAL_ISA),
    .sig_f32 = FOCAL_KNAME(sig_f32),
    .sig_f64 = FOCAL_KNAME(sig_f64),
    .smx_f32 = FOCAL_KNAME(smx_f32),
    .smx_f64 = FOCAL_KNAME(smx_f64),
};
