/* optim.c — SGD, Adam and AdamW over a model's flat parameter buffer, with
 * learning-rate schedules, linear warm-up and global-norm gradient clipping.
 *
 * The update rules are PyTorch's (torch.optim.SGD / Adam / AdamW, torch 1.13,
 * single-tensor path) evaluated in float32 in the same order of operations,
 * so that results agree with PyTorch's float32 parameters to float32
 * rounding (tests/nn/test_optim.c compares with tools/gen_optim_reference.py).
 * Scalars (lr, betas, bias corrections) are computed in double, as Python
 * does, and rounded to float where PyTorch's kernels round them.
 *
 * Weight decay applies to a parameter when its tensor's role is
 * FOCAL_TENSOR_WEIGHT, or FOCAL_TENSOR_NO_DECAY with cfg.decay_all set; this
 * is PyTorch's usual split into a decaying and a non-decaying param group.
 *
 * Determinism: every element loop is independent per element, and the
 * gradient norm is summed over fixed blocks whose partial sums are added in
 * block order, so results do not depend on the number of threads.
 *
 * Vectorisation: the element loops are `omp simd` loops without branches.
 * GCC vectorises the Adam loop only with -fno-math-errno (otherwise sqrtf
 * keeps a scalar errno path); that flag changes no computed value.
 *
 * Difference from PyTorch: on AVX2 CPUs PyTorch evaluates a + α·b
 * (Tensor.add_ with alpha, addcmul_) as one fused multiply-add; here the
 * product is rounded first, so a parameter may differ by an ulp or so per
 * step. */
#include <assert.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "focal/nn.h"
#include "base/internal.h"
#include "base/names.h"
#include "nn/optim_internal.h"

/* Below this many parameters the element loops run on the calling thread. */
#define OPTIM_PAR_MIN ((size_t)1 << 15)
/* The gradient norm is summed over at most this many blocks of at least
 * NORM_BLOCK_MIN floats each; the partial sums live on the stack. */
#define NORM_MAX_BLOCKS 256
#define NORM_BLOCK_MIN ((size_t)4096)
/* π as a double (M_PI is not ISO C); equal to Python's math.pi. */
#define OPTIM_PI 3.14159265358979323846

/* ------------------------------------------------------------------------ */
/* Configuration                                                            */
/* ------------------------------------------------------------------------ */

static const char *const optim_names[] = {
    [FOCAL_OPTIM_SGD] = "sgd", [FOCAL_OPTIM_ADAM] = "adam", [FOCAL_OPTIM_ADAMW] = "adamw",
};
static const char *const schedule_names[] = {
    [FOCAL_SCHED_CONSTANT] = "constant", [FOCAL_SCHED_STEP] = "step", [FOCAL_SCHED_COSINE] = "cosine",
};

/* focal_optim_kind_name, focal_optim_kind_parse, focal_schedule_name, focal_schedule_parse */
FOCAL_DEFINE_NAMES(focal_optim_kind_name, focal_optim_kind_parse, enum focal_optim_kind, "optimizer",
                   FOCAL_NAMES(optim_names))
FOCAL_DEFINE_NAMES(focal_schedule_name, focal_schedule_parse, enum focal_schedule, "schedule",
                   FOCAL_NAMES(schedule_names))

/* Fills *c with PyTorch's defaults for `kind` (see focal.h). Fields the kind
 * does not use still get sensible values, so that changing c->kind later
 * yields a valid configuration: momentum 0, betas 0.9/0.999, eps 1e-8,
 * step_size 1 and step_gamma 0.1 (StepLR's default γ), total_steps 0 (a
 * cosine schedule must be told its length; a training run fills it in),
 * min_lr 0, no warm-up, no clipping, no decay on biases. */
void focal_optim_defaults(struct focal_optim_config *c, enum focal_optim_kind kind)
{
    assert(c);
    memset(c, 0, sizeof *c);
    c->kind = kind;
    c->lr = kind == FOCAL_OPTIM_SGD ? 0.01 : 0.001;
    c->momentum = 0.0;
    c->nesterov = 0;
    c->weight_decay = kind == FOCAL_OPTIM_ADAMW ? 0.01 : 0.0;
    c->beta1 = 0.9;
    c->beta2 = 0.999;
    c->eps = 1e-8;
    c->schedule = FOCAL_SCHED_CONSTANT;
    c->step_size = 1;
    c->step_gamma = 0.1;
    c->total_steps = 0;
    c->min_lr = 0.0;
    c->warmup_steps = 0;
    c->clip_norm = 0.0;
    c->decay_all = 0;
}

/* 1 if lo <= x < hi (x finite). */
static int in_half_open(double x, double lo, double hi)
{
    return isfinite(x) && x >= lo && x < hi;
}

/* Checks every field the configuration's kind and schedule use; fields they
 * do not use are ignored. FOCAL_ERR_ARG with a message naming the field, its
 * value and the valid range. */
static focal_status check_config(const struct focal_optim_config *c)
{
    if (c->kind != FOCAL_OPTIM_SGD && c->kind != FOCAL_OPTIM_ADAM && c->kind != FOCAL_OPTIM_ADAMW)
        return focal_fail(FOCAL_ERR_ARG, "optimiser: kind %d is not one of SGD (0), Adam (1), AdamW (2)",
                          (int)c->kind);
    if (!(isfinite(c->lr) && c->lr > 0))
        return focal_fail(FOCAL_ERR_ARG, "optimiser: lr is %g; expected a finite number > 0", c->lr);
    if (!(isfinite(c->weight_decay) && c->weight_decay >= 0))
        return focal_fail(FOCAL_ERR_ARG, "optimiser: weight_decay is %g; expected a finite number >= 0",
                          c->weight_decay);
    if (c->kind == FOCAL_OPTIM_SGD) {
        if (!in_half_open(c->momentum, 0.0, 1.0))
            return focal_fail(FOCAL_ERR_ARG, "optimiser: momentum is %g; expected a value in [0, 1)",
                              c->momentum);
        if (c->nesterov != 0 && c->nesterov != 1)
            return focal_fail(FOCAL_ERR_ARG, "optimiser: nesterov is %d; expected 0 or 1", c->nesterov);
        if (c->nesterov && c->momentum == 0)
            return focal_fail(FOCAL_ERR_ARG,
                              "optimiser: nesterov requires momentum > 0 (momentum is 0)");
    } else {
        if (!in_half_open(c->beta1, 0.0, 1.0))
            return focal_fail(FOCAL_ERR_ARG, "optimiser: beta1 is %g; expected a value in [0, 1)", c->beta1);
        if (!in_half_open(c->beta2, 0.0, 1.0))
            return focal_fail(FOCAL_ERR_ARG, "optimiser: beta2 is %g; expected a value in [0, 1)", c->beta2);
        if (!(isfinite(c->eps) && c->eps > 0))
            return focal_fail(FOCAL_ERR_ARG, "optimiser: eps is %g; expected a finite number > 0", c->eps);
    }
    switch (c->schedule) {
    case FOCAL_SCHED_CONSTANT:
        break;
    case FOCAL_SCHED_STEP:
        if (c->step_size <= 0)
            return focal_fail(FOCAL_ERR_ARG, "optimiser: step_size is %ld; the step schedule needs step_size >= 1",
                              c->step_size);
        if (!(isfinite(c->step_gamma) && c->step_gamma > 0 && c->step_gamma <= 1))
            return focal_fail(FOCAL_ERR_ARG, "optimiser: step_gamma is %g; expected a value in (0, 1]",
                              c->step_gamma);
        break;
    case FOCAL_SCHED_COSINE:
        if (c->total_steps <= 0)
            return focal_fail(FOCAL_ERR_ARG,
                              "optimiser: total_steps is %ld; the cosine schedule needs total_steps >= 1",
                              c->total_steps);
        if (!(isfinite(c->min_lr) && c->min_lr >= 0 && c->min_lr <= c->lr))
            return focal_fail(FOCAL_ERR_ARG, "optimiser: min_lr is %g; expected a value in [0, lr = %g]",
                              c->min_lr, c->lr);
        break;
    default:
        return focal_fail(FOCAL_ERR_ARG,
                          "optimiser: schedule %d is not one of constant (0), step (1), cosine (2)",
                          (int)c->schedule);
    }
    if (c->warmup_steps < 0)
        return focal_fail(FOCAL_ERR_ARG, "optimiser: warmup_steps is %ld; expected >= 0 (0: no warm-up)",
                          c->warmup_steps);
    if (!isfinite(c->clip_norm))
        return focal_fail(FOCAL_ERR_ARG,
                          "optimiser: clip_norm is %g; expected a finite number (<= 0: no clipping)",
                          c->clip_norm);
    if (c->decay_all != 0 && c->decay_all != 1)
        return focal_fail(FOCAL_ERR_ARG, "optimiser: decay_all is %d; expected 0 or 1", c->decay_all);
    return FOCAL_OK;
}

/* ------------------------------------------------------------------------ */
/* Creation                                                                 */
/* ------------------------------------------------------------------------ */

/* Checks *c, then allocates the optimiser for m: the per-parameter decay mask
 * from m's tensor roles and the state buffers (SGD with momentum: one,
 * Adam/AdamW: two, zeroed). *o is NULL on failure: FOCAL_ERR_ARG for a bad
 * configuration, FOCAL_ERR_NOMEM. The model must outlive the optimiser and
 * keep its parameter buffer in place. */
focal_status focal_optim_create(struct focal_optim **o, const struct focal_optim_config *c,
                                struct focal_model *m)
{
    assert(o && c && m);
    *o = NULL;
    focal_status st = check_config(c);
    if (st != FOCAL_OK)
        return st;

    struct focal_optim *op = calloc(1, sizeof *op);
    if (!op)
        return focal_fail(FOCAL_ERR_NOMEM, "optimiser: out of memory");
    op->cfg = *c;
    op->model = m;
    op->n = focal_model_num_params(m);
    const size_t alloc_n = op->n ? op->n : 1;

    op->decay = calloc(alloc_n, 1);
    if (!op->decay)
        goto out_nomem;
    if (c->kind != FOCAL_OPTIM_SGD || c->momentum != 0) {
        op->buf1 = calloc(alloc_n, sizeof *op->buf1);
        if (!op->buf1)
            goto out_nomem;
    }
    if (c->kind != FOCAL_OPTIM_SGD) {
        op->buf2 = calloc(alloc_n, sizeof *op->buf2);
        if (!op->buf2)
            goto out_nomem;
    }

    /* Parameters not covered by any tensor (there should be none) never decay. */
    float *params = focal_model_params(m);
    const size_t nt = focal_model_num_tensors(m);
    for (size_t i = 0; i < nt; i++) {
        struct focal_tensor_info ti;
        focal_model_tensor(m, i, &ti);
        if (ti.role == FOCAL_TENSOR_BUFFER)
            continue;
        assert(ti.data >= params && (size_t)(ti.data - params) + ti.numel <= op->n);
        const uint8_t d = ti.role == FOCAL_TENSOR_WEIGHT || c->decay_all;
        memset(op->decay + (ti.data - params), d, ti.numel);
    }
    *o = op;
    return FOCAL_OK;

out_nomem:
    st = focal_fail(FOCAL_ERR_NOMEM, "optimiser: out of memory for the state of %zu parameters", op->n);
    focal_optim_free(op);
    return st;
}

/* Releases the optimiser and its buffers (not the model). NULL is a no-op. */
void focal_optim_free(struct focal_optim *o)
{
    if (!o)
        return;
    free(o->buf1);
    free(o->buf2);
    free(o->decay);
    free(o);
}

/* ------------------------------------------------------------------------ */
/* Schedule                                                                 */
/* ------------------------------------------------------------------------ */

/* The rate of step t (0-based) under c's schedule and warm-up, in double,
 * with the formulas of focal.h (and of tools/gen_optim_reference.py). */
static double scheduled_lr(const struct focal_optim_config *c, long t)
{
    double lr = c->lr;
    switch (c->schedule) {
    case FOCAL_SCHED_CONSTANT:
        break;
    case FOCAL_SCHED_STEP:
        lr = c->lr * pow(c->step_gamma, (double)(t / c->step_size));
        break;
    case FOCAL_SCHED_COSINE:
        lr = c->min_lr + (c->lr - c->min_lr) * (1.0 + cos(OPTIM_PI * (double)t / (double)c->total_steps)) / 2.0;
        break;
    }
    if (t < c->warmup_steps)
        lr = lr * (double)(t + 1) / (double)c->warmup_steps;
    return lr;
}

/* The learning rate the next focal_optim_step will use. */
double focal_optim_lr(const struct focal_optim *o)
{
    assert(o);
    return scheduled_lr(&o->cfg, o->step);
}

/* The number of successful steps taken (failed steps do not count). */
long focal_optim_steps(const struct focal_optim *o)
{
    assert(o);
    return o->step;
}

/* ------------------------------------------------------------------------ */
/* Step                                                                     */
/* ------------------------------------------------------------------------ */

/* The L2 norm of g (n floats), accumulated in double. The block partition
 * depends only on n and the partial sums are added in block order, so the
 * result is the same for every thread count. */
static double grad_l2_norm(const float *g, size_t n)
{
    double part[NORM_MAX_BLOCKS];
    size_t nb = (n + NORM_BLOCK_MIN - 1) / NORM_BLOCK_MIN;
    if (nb > NORM_MAX_BLOCKS)
        nb = NORM_MAX_BLOCKS;
    if (nb == 0)
        return 0.0;
    const size_t bs = (n + nb - 1) / nb;
    const long nbl = (long)nb;
#pragma omp parallel for schedule(static) if (n >= OPTIM_PAR_MIN)
    for (long b = 0; b < nbl; b++) {
        const size_t lo = (size_t)b * bs;
        const size_t hi = lo + bs < n ? lo + bs : n;
        double s = 0.0;
#pragma omp simd reduction(+ : s)
        for (size_t i = lo; i < hi; i++)
            s += (double)g[i] * (double)g[i];
        part[b] = s;
    }
    double s = 0.0;
    for (size_t b = 0; b < nb; b++)
        s += part[b];
    return sqrt(s);
}

/* Records a FOCAL_ERR_NUMERIC message naming the first non-finite gradient
 * element of o's model (tensor and index) and returns the status. */
static focal_status fail_nonfinite(struct focal_optim *o, double norm)
{
    const float *g = focal_model_grads(o->model);
    const float *params = focal_model_params(o->model);
    size_t k = 0;
    while (k < o->n && isfinite(g[k]))
        k++;
    if (k == o->n)   /* every element finite, the sum of squares overflowed */
        return focal_fail(FOCAL_ERR_NUMERIC, "optimiser: step %ld: gradient norm overflows (%g); "
                          "parameters left unchanged", o->step + 1, norm);
    const size_t nt = focal_model_num_tensors(o->model);
    for (size_t i = 0; i < nt; i++) {
        struct focal_tensor_info ti;
        focal_model_tensor(o->model, i, &ti);
        if (ti.role == FOCAL_TENSOR_BUFFER)
            continue;
        const size_t off = (size_t)(ti.data - params);
        if (k >= off && k < off + ti.numel)
            return focal_fail(FOCAL_ERR_NUMERIC, "optimiser: step %ld: gradient of %s[%zu] is %g; "
                              "parameters left unchanged", o->step + 1, ti.name, k - off, (double)g[k]);
    }
    return focal_fail(FOCAL_ERR_NUMERIC, "optimiser: step %ld: gradient %zu is %g; parameters left unchanged",
                      o->step + 1, k, (double)g[k]);
}

/* SGD: d = scale·g (+ wd·p where decaying); buf = d on the first step, else
 * momentum·buf + d; d = d + momentum·buf (Nesterov) or buf; p += −lr·d. */
static void sgd_update(struct focal_optim *o, float *restrict p, const float *restrict g, float scale, double lr)
{
    const struct focal_optim_config *c = &o->cfg;
    const uint8_t *restrict dec = o->decay;
    float *restrict buf = o->buf1;
    const long n = (long)o->n;
    /* Decay as a per-element factor: 0 where no decay applies, which leaves
     * d + 0·p = d for finite p, so the loops have no branches. */
    const float wd = (float)c->weight_decay;
    const float mom = (float)c->momentum;
    const float nlr = (float)-lr;

    if (c->momentum == 0) {
#pragma omp parallel for simd schedule(static) if (o->n >= OPTIM_PAR_MIN)
        for (long i = 0; i < n; i++) {
            const float w = dec[i] ? wd : 0.0f;
            const float d = g[i] * scale + w * p[i];
            p[i] = p[i] + nlr * d;
        }
        return;
    }
    /* The first step sets buf = d: momentum 0 on a zero buffer gives exactly that. */
    const int first = o->step == 0; /* the buffer starts as the first gradient */
    const float bm = first ? 0.0f : mom;
    if (first)
        memset(buf, 0, o->n * sizeof *buf);
    if (c->nesterov) {
#pragma omp parallel for simd schedule(static) if (o->n >= OPTIM_PAR_MIN)
        for (long i = 0; i < n; i++) {
            const float w = dec[i] ? wd : 0.0f;
            const float d = g[i] * scale + w * p[i];
            const float b = buf[i] * bm + d;
            buf[i] = b;
            p[i] = p[i] + nlr * (d + mom * b);
        }
    } else {
#pragma omp parallel for simd schedule(static) if (o->n >= OPTIM_PAR_MIN)
        for (long i = 0; i < n; i++) {
            const float w = dec[i] ? wd : 0.0f;
            const float d = g[i] * scale + w * p[i];
            const float b = buf[i] * bm + d;
            buf[i] = b;
            p[i] = p[i] + nlr * b;
        }
    }
}

/* Adam / AdamW at step t = steps + 1:
 *   AdamW: p = p·(1 − lr·wd) where decaying;  Adam: d = scale·g + wd·p where decaying
 *   m = β1·m + (1−β1)·d,  v = β2·v + (1−β2)·d·d
 *   p += (−lr/(1−β1^t))·m / (sqrt(v)/sqrt(1−β2^t) + eps) */
static void adam_update(struct focal_optim *o, float *restrict p, const float *restrict g, float scale, double lr)
{
    const struct focal_optim_config *c = &o->cfg;
    const uint8_t *restrict dec = o->decay;
    float *restrict m = o->buf1;
    float *restrict v = o->buf2;
    const long n = (long)o->n;
    const double t = (double)(o->step + 1);
    /* Decay as per-element factors, so that the loop has no branches: Adam's
     * L2 term is d + 0·p = d where no decay applies (p finite), AdamW's
     * shrink factor is 1 there. */
    const int decoupled = c->kind == FOCAL_OPTIM_ADAMW;
    const float wd = decoupled ? 0.0f : (float)c->weight_decay;
    const float shrink = decoupled ? (float)(1.0 - lr * c->weight_decay) : 1.0f;
    const float b1 = (float)c->beta1, omb1 = (float)(1.0 - c->beta1);
    const float b2 = (float)c->beta2, omb2 = (float)(1.0 - c->beta2);
    const double bc1 = 1.0 - pow(c->beta1, t);
    const double bc2 = 1.0 - pow(c->beta2, t);
    const float nstep = (float)-(lr / bc1);
    const float bc2_sqrt = (float)sqrt(bc2);
    const float eps = (float)c->eps;

#pragma omp parallel for simd schedule(static) if (o->n >= OPTIM_PAR_MIN)
    for (long i = 0; i < n; i++) {
        const float s = dec[i] ? shrink : 1.0f;
        const float w = dec[i] ? wd : 0.0f;
        const float pi = p[i] * s;
        const float d = g[i] * scale + w * pi;
        const float mi = m[i] * b1 + omb1 * d;
        const float vi = v[i] * b2 + omb2 * d * d;
        m[i] = mi;
        v[i] = vi;
        const float denom = sqrtf(vi) / bc2_sqrt + eps;
        p[i] = pi + nstep * mi / denom;
    }
}

/* One update from the model's gradient buffer, which is read, not modified
 * (clipping scales the gradient as it is used). *grad_norm (may be NULL)
 * receives the L2 norm of the whole gradient before clipping. When it is not
 * finite: FOCAL_ERR_NUMERIC naming the first non-finite element, and the
 * parameters, the state and the step count are unchanged. Allocates nothing. */
focal_status focal_optim_step(struct focal_optim *o, double *grad_norm)
{
    assert(o);
    float *p = focal_model_params(o->model);
    const float *g = focal_model_grads(o->model);
    const double norm = grad_l2_norm(g, o->n);
    if (grad_norm)
        *grad_norm = norm;
    if (!isfinite(norm))
        return fail_nonfinite(o, norm);

    /* clip_grad_norm_: multiply by clip/(norm + 1e-6) when that is below 1. */
    float scale = 1.0f;
    const double clip = o->cfg.clip_norm;
    if (clip > 0 && norm > clip)
        scale = (float)(clip / (norm + 1e-6));

    const double lr = focal_optim_lr(o);
    if (o->cfg.kind == FOCAL_OPTIM_SGD)
        sgd_update(o, p, g, scale, lr);
    else
        adam_update(o, p, g, scale, lr);
    o->step++;
    return FOCAL_OK;
}
