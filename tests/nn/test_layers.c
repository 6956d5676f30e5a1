/* test_layers.c — every layer of layers.h against finite differences and
 * hand-written references.
 *
 * Gradient checks: with random inputs and a fixed random dout, L = Σ out·dout
 * is accumulated in double from the float layer's output; the numerical
 * derivative of L with respect to each input, weight and bias element is the
 * central difference (L(x₊) − L(x₋)) / (x₊ − x₋), x± = x ± h as actually
 * stored in float. Error: |a − n| / max(|a|, |n|, 1e-3) against the
 * backward's analytic gradient a; every element is checked.
 *
 * Choice of h and tolerance for float32. The forward's output carries float
 * rounding (~6e-8 relative per output); the outputs a perturbation reaches
 * change their rounding, which puts noise of ~1e-7·Σ|dout| over those outputs
 * into L − L', i.e. ~1e-6/(2h) into the quotient — with the 1e-3 floor, h =
 * 1e-2 leaves near-zero conv gradients at ~3e-3 relative, too close to any
 * useful tolerance. Hence three steps:
 *   H_LINEAR 0.5   conv, dense, add, avg/global pool, dropout: linear in each
 *                  single perturbed value, so the quotient has no truncation
 *                  error at any h and a large h only shrinks the noise;
 *   H_KINK 0.01    ReLU (inputs at least 0.1 from 0) and max pool (inputs
 *                  0.05 apart): linear only within that margin;
 *   H_SMOOTH 0.05  batch norm, smooth and nonlinear: Richardson extrapolation
 *                  of the quotients for h and 2h cancels the O(h²) truncation.
 * Worst errors seen over 30 random seeds: conv 4.9e-4, batch norm 6.3e-4,
 * dense 1.5e-4, the others below 5e-5. The tolerance 2e-3 is 3× above that
 * and below what a wrong gradient produces: each check is repeated with the
 * analytic gradient scaled by 1.01 and must then FAIL (a 1 % error in one
 * element is caught); sign flips and dropped terms give errors of 0.3–2.
 *
 * Also: conv forward against a direct convolution in double (on the im2col
 * path and, when the library has it, the oneDNN path, which is also compared
 * with im2col on random shapes), the 1×1 fast path against the general
 * path, a fused ReLU against a separate one, accumulation (+=) of parameter
 * gradients and overwriting of input gradients, batch-norm statistics and
 * running averages and evaluation mode against hand formulas, pooling
 * forwards against direct loops, dropout's mask statistics and
 * reproducibility, the generator against its published vectors, and
 * bitwise equal results on one thread and on several. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "focal.h"
#include "base/blas.h"
#include "nn/layers.h"

/* Steps and tolerance; see the top of the file for why. */
#define H_LINEAR 0.5f
#define H_KINK 0.01f
#define H_SMOOTH 0.05f
#define GC_TOL 2e-3
#define GC_FLOOR 1e-3

/* ---- test-side random numbers (independent of the library's rng) -------- */

static uint64_t test_state = 0x2545f4914f6cdd1dull;

/* The test data's generator (see check.h). */
static double urand(void)
{
    return check_urand(&test_state);
}

/* x[i] uniform in [lo, hi). */
static void fill(float *x, size_t len, double lo, double hi)
{
    for (size_t i = 0; i < len; i++)
        x[i] = (float)(lo + (hi - lo) * urand());
}

/* Values with |x| in [0.1, 1] and a random sign: more than h from ReLU's kink. */
static void fill_away_from_zero(float *x, size_t len)
{
    for (size_t i = 0; i < len; i++)
        x[i] = (float)((0.1 + 0.9 * urand()) * (urand() < 0.5 ? -1 : 1));
}

/* Distinct values 0.05 apart in random order: no two within 2h of each other,
 * so perturbing one by h never changes which element of a window is largest. */
static void fill_distinct(float *x, size_t len)
{
    for (size_t i = 0; i < len; i++)
        x[i] = (float)(0.05 * ((double)i - (double)len / 2));
    for (size_t i = len; i > 1; i--) {
        const size_t j = (size_t)(urand() * (double)i);
        const float t = x[i - 1];
        x[i - 1] = x[j];
        x[j] = t;
    }
}

/* malloc of len floats (at least one); exits the test if memory runs out. */
static float *alloc_f(size_t len)
{
    float *p = malloc((len ? len : 1) * sizeof *p);
    if (p == NULL) {
        fprintf(stderr, "test_layers: out of memory\n");
        exit(1);
    }
    return p;
}

/* Σ a·b in double: the objective L for out and dout. */
static double dot_d(const float *a, const float *b, size_t len)
{
    double s = 0;
    for (size_t i = 0; i < len; i++)
        s += (double)a[i] * b[i];
    return s;
}

/* max |a − b| (NaN if any difference is NaN). */
static double max_abs_diff(const float *a, const float *b, size_t len)
{
    double m = 0;
    for (size_t i = 0; i < len; i++) {
        const double d = fabs((double)a[i] - b[i]);
        if (!(d <= m))
            m = d; /* NaN propagates */
    }
    return m;
}

/* ---- the gradient checker ---------------------------------------------------- */

/* Recomputes the layer's output from its current inputs. */
typedef void (*forward_fn)(void *ctx);

struct gc_problem {
    forward_fn forward;
    void *ctx;
    const float *out;   /* the output forward() writes */
    const float *dout;  /* fixed random weights of L */
    size_t out_len;
    int smooth;         /* nonlinear: extrapolate the difference quotient */
};

/* Worst error per layer, printed at the end. */
struct gc_report {
    const char *layer;
    double worst;
    float h; /* 0: not a finite-difference check */
};
static struct gc_report reports[32];
static int n_reports;

/* Records err as a candidate for layer's worst error (h 0: not a
 * finite-difference comparison); printed at the end of main. */
static void report(const char *layer, double err, float h)
{
    int i;
    for (i = 0; i < n_reports; i++)
        if (strcmp(reports[i].layer, layer) == 0)
            break;
    if (i == n_reports) {
        if (n_reports == (int)(sizeof reports / sizeof reports[0]))
            return;
        reports[n_reports].layer = layer;
        reports[n_reports].worst = 0;
        reports[n_reports].h = h;
        n_reports++;
    }
    if (!(err <= reports[i].worst))
        reports[i].worst = err;
}

/* |a − n| / max(|a|, |n|, GC_FLOOR). */
static double rel_err(double a, double n)
{
    double d = fabs(a);
    if (fabs(n) > d)
        d = fabs(n);
    if (GC_FLOOR > d)
        d = GC_FLOOR;
    return fabs(a - n) / d;
}

/* The central difference quotient of L in x[i] with step h, divided by the
 * distance between the two perturbed values as stored in float. */
static double central(const struct gc_problem *pr, float *x, size_t i, float h)
{
    const float x0 = x[i];
    const float xp = x0 + h, xm = x0 - h;
    x[i] = xp;
    pr->forward(pr->ctx);
    const double lp = dot_d(pr->out, pr->dout, pr->out_len);
    x[i] = xm;
    pr->forward(pr->ctx);
    const double lm = dot_d(pr->out, pr->dout, pr->out_len);
    x[i] = x0;
    return (lp - lm) / ((double)xp - (double)xm);
}

/* Checks the analytic gradient ga (len elements) of L with respect to the
 * tensor x, which the problem's forward reads; x is restored afterwards.
 * For a smooth problem the quotients for h and 2h are combined (Richardson:
 * (4·D(h) − D(2h))/3) so the O(h²) truncation error cancels and h can stay
 * large enough to keep float rounding small. `what` names the check in
 * failure messages; the error is also reported under `layer`. */
static void gradcheck(const struct gc_problem *pr, float *x, const float *ga, size_t len, float h,
                      const char *layer, const char *what)
{
    double worst = 0, worst_scaled = 0;
    size_t worst_at = 0;
    for (size_t i = 0; i < len; i++) {
        double num = central(pr, x, i, h);
        if (pr->smooth)
            num = (4 * num - central(pr, x, i, 2 * h)) / 3;
        const double e = rel_err(ga[i], num);
        if (!(e <= worst)) {
            worst = e;
            worst_at = i;
        }
        /* the same comparison for a gradient 1 % off */
        worst_scaled = fmax(worst_scaled, rel_err(1.01 * ga[i], num));
    }
    pr->forward(pr->ctx); /* leave out consistent with the restored inputs */
    CHECKF(worst <= GC_TOL, "%s: %s: worst relative error %.3g at element %zu", layer, what, worst, worst_at);
    CHECKF(worst_scaled > GC_TOL,
           "%s: %s: a 1%% gradient error would pass (%.3g): the check is too loose", layer, what,
           worst_scaled);
    report(layer, worst, h);
}

/* ---- rng ---------------------------------------------------------------------- */

/* xoshiro256** and its seeding against published vectors; uniform range,
 * mean and reproducibility. */
static void test_rng(void)
{
    /* Published xoshiro256** outputs from the state {1, 2, 3, 4}. */
    static const uint64_t ref[6] = {11520u, 0u, 1509978240u, 1215971899390074240u, 1216172134540287360u,
                                    607988272756665600u};
    struct focal_rng r = {{1, 2, 3, 4}};
    for (int i = 0; i < 6; i++)
        CHECKF(focal_rng_next(&r) == ref[i], "xoshiro256** output %d", i);
    /* Seeding: the first four splitmix64 outputs of 0, as published. */
    focal_rng_seed(&r, 0);
    CHECK(r.s[0] == 0xe220a8397b1dcdafull && r.s[1] == 0x6e789e6aa1b965f4ull &&
          r.s[2] == 0x06c45d188009454full && r.s[3] == 0xf88bb8a8724c81ecull);
    struct focal_rng a, b;
    focal_rng_seed(&a, 42);
    focal_rng_seed(&b, 42);
    int same = 1;
    double sum = 0, lo = 1, hi = 0;
    const int draws = 100000;
    for (int i = 0; i < draws; i++) {
        const float u = focal_rng_uniform(&a);
        same &= u == focal_rng_uniform(&b);
        sum += u;
        lo = u < lo ? u : lo;
        hi = u > hi ? u : hi;
    }
    CHECK(same);
    CHECKF(lo >= 0 && hi < 1, "uniform range [%g, %g]", lo, hi);
    /* mean of 1e5 uniforms: standard deviation 9e-4 */
    CHECKF(fabs(sum / draws - 0.5) < 0.005, "uniform mean %g", sum / draws);
}

/* ---- conv2d -------------------------------------------------------------------- */

/* The convolution's two implementations: im2col + GEMM (always built) and
 * oneDNN (when the library has it). Each check below runs on every path the
 * build has; have_dnnl is settled by test_conv before any of them. */
enum conv_path { PATH_IM2COL, PATH_DNNL, PATH_COUNT };
static const char *const conv_path_name[PATH_COUNT] = {"im2col", "oneDNN"};
static int have_dnnl;

/* Puts p on `path` (see focal_conv_use_dnnl for the arguments); 1 when p now
 * runs there, 0 when this build lacks the path. oneDNN must accept every
 * shape the tests use. */
static int conv_on_path(struct focal_conv *p, enum conv_path path, int max_batch, int bias, int need_dinp,
                        int threads)
{
    if (path == PATH_IM2COL)
        return 1;
    if (!have_dnnl)
        return 0;
    const int rc = focal_conv_use_dnnl(p, max_batch, bias, need_dinp, threads);
    CHECKF(rc == 0, "oneDNN set-up of c%d %dx%d oc%d k%d s%d p%d returned %d", p->c, p->h, p->w, p->oc, p->k,
           p->stride, p->pad, rc);
    return rc == 0;
}

struct conv_ctx {
    struct focal_conv p;
    int n;
    float *x, *w, *b, *out, *ws;
};

/* forward_fn for a conv_ctx. */
static void conv_fwd(void *v)
{
    struct conv_ctx *c = v;
    focal_conv_forward(c->out, c->ws, 1, c->x, c->w, c->b, &c->p, c->n);
}

/* The direct backward's results in double: dx, dw, db and, in mx, mw, mb,
 * the sums of |terms| of each element. */
struct conv_grads {
    double *dx, *mx, *dw, *mw, *db, *mb;
};

/* The direct convolution in double, tap by tap. ref set: the forward,
 * ref[n][o][y][x] and, in mag, the sum of |terms| (the scale of the float
 * rounding error). g set: the backward for dout. */
static void conv_direct(double *ref, double *mag, const struct conv_grads *g, const float *x, const float *w,
                        const float *b, const float *dout, const struct focal_conv *p, int n)
{
    if (g) {
        const size_t xl = (size_t)n * p->c * p->h * p->w, wl = (size_t)p->oc * p->c * p->k * p->k;
        memset(g->dx, 0, xl * sizeof *g->dx);
        memset(g->mx, 0, xl * sizeof *g->mx);
        memset(g->dw, 0, wl * sizeof *g->dw);
        memset(g->mw, 0, wl * sizeof *g->mw);
        memset(g->db, 0, (size_t)p->oc * sizeof *g->db);
        memset(g->mb, 0, (size_t)p->oc * sizeof *g->mb);
    }
    for (int i = 0; i < n; i++)
        for (int o = 0; o < p->oc; o++)
            for (int oy = 0; oy < p->oh; oy++)
                for (int ox = 0; ox < p->ow; ox++) {
                    const size_t at = (((size_t)i * p->oc + o) * p->oh + oy) * p->ow + ox;
                    const double d = g ? dout[at] : 0;
                    double s = b ? b[o] : 0, m = b ? fabs(b[o]) : 0;
                    if (g) {
                        g->db[o] += d;
                        g->mb[o] += fabs(d);
                    }
                    for (int c = 0; c < p->c; c++)
                        for (int ki = 0; ki < p->k; ki++)
                            for (int kj = 0; kj < p->k; kj++) {
                                const int iy = oy * p->stride - p->pad + ki, ix = ox * p->stride - p->pad + kj;
                                if (iy < 0 || iy >= p->h || ix < 0 || ix >= p->w)
                                    continue;
                                const size_t xi = ((size_t)(i * p->c + c) * p->h + iy) * p->w + ix;
                                const size_t wi = ((size_t)(o * p->c + c) * p->k + ki) * p->k + kj;
                                const double t = (double)w[wi] * x[xi];
                                s += t;
                                m += fabs(t);
                                if (g) {
                                    g->dx[xi] += w[wi] * d;
                                    g->mx[xi] += fabs(w[wi] * d);
                                    g->dw[wi] += x[xi] * d;
                                    g->mw[wi] += fabs(x[xi] * d);
                                }
                            }
                    if (ref) {
                        ref[at] = s;
                        mag[at] = m;
                    }
                }
}

/* max over i of |a[i] − ref[i]| / Σ|terms of element i| (0/0 counts 0). */
static double err_vs_direct(const float *a, const double *ref, const double *mag, size_t len)
{
    double worst = 0;
    for (size_t i = 0; i < len; i++) {
        const double e = fabs(a[i] - ref[i]) / (mag[i] + 1e-30);
        if (!(e <= worst))
            worst = e;
    }
    return worst;
}

/* Forward against the direct convolution, then gradients of x, w and b, the
 * accumulation of dw/db and the overwriting of dinp, on one path. */
static void test_conv_case(enum conv_path path, int n, int c, int h, int w, int oc, int k, int stride, int pad,
                           int bias)
{
    char what[96];
    snprintf(what, sizeof what, "%s n%d c%d %dx%d oc%d k%d s%d p%d%s", conv_path_name[path], n, c, h, w, oc, k,
             stride, pad, bias ? " bias" : "");
    struct conv_ctx cx;
    CHECKF(focal_conv_init(&cx.p, c, h, w, oc, k, stride, pad) == 0, "%s: init", what);
    CHECK(cx.p.oh == (h + 2 * pad - k) / stride + 1 && cx.p.ow == (w + 2 * pad - k) / stride + 1);
    if (!conv_on_path(&cx.p, path, n, bias, 1, 1))
        return;
    const size_t xl = (size_t)n * c * h * w, wl = (size_t)oc * c * k * k;
    const size_t ol = (size_t)n * oc * cx.p.oh * cx.p.ow, cl = focal_conv_col_size(&cx.p);
    CHECK((cl == 0) == (k == 1 && stride == 1 && pad == 0));
    const size_t wsl = focal_conv_ws_size(&cx.p, 1);
    cx.n = n;
    cx.x = alloc_f(xl);
    cx.w = alloc_f(wl);
    cx.b = bias ? alloc_f(oc) : NULL;
    cx.out = alloc_f(ol);
    cx.ws = wsl ? alloc_f(wsl) : NULL;
    float *dout = alloc_f(ol), *dx = alloc_f(xl), *dx2 = alloc_f(xl), *dw = alloc_f(wl), *dw1 = alloc_f(wl);
    float db[64] = {0}, db1[64];
    fill(cx.x, xl, -1, 1);
    fill(cx.w, wl, -0.5, 0.5);
    if (bias)
        fill(cx.b, oc, -0.5, 0.5);
    fill(dout, ol, -1, 1);

    conv_fwd(&cx);
    double *ref = malloc(ol * sizeof *ref), *mag = malloc(ol * sizeof *mag);
    CHECK(ref && mag);
    conv_direct(ref, mag, NULL, cx.x, cx.w, cx.b, NULL, &cx.p, n);
    const double worst = err_vs_direct(cx.out, ref, mag, ol);
    /* float sums: error well below 1e-6 of the sum of |terms| at these depths */
    CHECKF(worst < 1e-6, "%s: forward vs direct: %.3g of Σ|terms|", what, worst);
    report(path == PATH_DNNL ? "conv oneDNN fwd vs direct (rel)" : "conv forward vs direct (rel)", worst, 0);
    free(ref);
    free(mag);

    for (size_t i = 0; i < xl; i++)
        dx[i] = 1e30f; /* must be overwritten */
    memset(dw, 0, wl * sizeof *dw);
    focal_conv_backward(dx, dw, bias ? db : NULL, cx.ws, 1, dout, cx.x, cx.w, &cx.p, n);
    memcpy(dw1, dw, wl * sizeof *dw);
    memcpy(db1, db, sizeof db);

    struct gc_problem pr = {conv_fwd, &cx, cx.out, dout, ol, 0};
    char w2[128];
    snprintf(w2, sizeof w2, "%s dinp", what);
    gradcheck(&pr, cx.x, dx, xl, H_LINEAR, "conv", w2);
    snprintf(w2, sizeof w2, "%s dw", what);
    gradcheck(&pr, cx.w, dw, wl, H_LINEAR, "conv", w2);
    if (bias) {
        snprintf(w2, sizeof w2, "%s db", what);
        gradcheck(&pr, cx.b, db, oc, H_LINEAR, "conv", w2);
    }

    /* A second backward adds the same dw/db again and rewrites the same dinp;
     * dinp may be NULL. */
    focal_conv_backward(NULL, dw, bias ? db : NULL, cx.ws, 1, dout, cx.x, cx.w, &cx.p, n);
    focal_conv_backward(dx2, dw, bias ? db : NULL, cx.ws, 1, dout, cx.x, cx.w, &cx.p, n);
    double acc = 0;
    for (size_t i = 0; i < wl; i++)
        acc = fmax(acc, fabs(dw[i] - 3.0 * dw1[i]) / (fabs(dw1[i]) + 1e-3));
    for (int i = 0; bias && i < oc; i++)
        acc = fmax(acc, fabs(db[i] - 3.0 * db1[i]) / (fabs(db1[i]) + 1e-3));
    CHECKF(acc < 1e-5, "%s: dw/db after three backwards differ from 3× one: %.3g", what, acc);
    CHECKF(memcmp(dx, dx2, xl * sizeof *dx) == 0, "%s: dinp not overwritten identically", what);

    focal_conv_release(&cx.p);
    CHECK(cx.p.dnnl == NULL);
    free(cx.x);
    free(cx.w);
    free(cx.b);
    free(cx.out);
    free(cx.ws);
    free(dout);
    free(dx);
    free(dx2);
    free(dw);
    free(dw1);
}

/* A 1×1 convolution against a 3×3, pad 1 one whose only nonzero tap is the
 * centre, on one path (im2col: the 1×1 fast path against the general one;
 * oneDNN: its 1×1 kernels against its general ones). */
static void test_conv_pointwise_vs_general(enum conv_path path)
{
    const int n = 2, c = 5, h = 6, w = 7, oc = 4;
    struct focal_conv p1, p3;
    CHECK(focal_conv_init(&p1, c, h, w, oc, 1, 1, 0) == 0);
    CHECK(focal_conv_init(&p3, c, h, w, oc, 3, 1, 1) == 0);
    CHECK(focal_conv_col_size(&p1) == 0 && focal_conv_col_size(&p3) > 0);
    if (!conv_on_path(&p1, path, n, 1, 1, 1) || !conv_on_path(&p3, path, n, 1, 1, 1)) {
        focal_conv_release(&p1);
        return;
    }
    const size_t xl = (size_t)n * c * h * w, ol = (size_t)n * oc * h * w;
    float *x = alloc_f(xl), *w1 = alloc_f((size_t)oc * c), *w3 = alloc_f((size_t)oc * c * 9), b[4];
    float *o1 = alloc_f(ol), *o3 = alloc_f(ol), *dout = alloc_f(ol);
    float *ws1 = alloc_f(focal_conv_ws_size(&p1, 1)), *ws3 = alloc_f(focal_conv_ws_size(&p3, 1));
    float *dx1 = alloc_f(xl), *dx3 = alloc_f(xl), *dw1 = alloc_f((size_t)oc * c), *dw3 = alloc_f((size_t)oc * c * 9);
    float db1[4] = {0}, db3[4] = {0};
    fill(x, xl, -1, 1);
    fill(w1, (size_t)oc * c, -1, 1);
    fill(b, 4, -1, 1);
    fill(dout, ol, -1, 1);
    memset(w3, 0, (size_t)oc * c * 9 * sizeof *w3);
    for (int i = 0; i < oc * c; i++)
        w3[i * 9 + 4] = w1[i];
    focal_conv_forward(o1, ws1, 1, x, w1, b, &p1, n);
    focal_conv_forward(o3, ws3, 1, x, w3, b, &p3, n);
    const double ef = max_abs_diff(o1, o3, ol);
    memset(dw1, 0, (size_t)oc * c * sizeof *dw1);
    memset(dw3, 0, (size_t)oc * c * 9 * sizeof *dw3);
    focal_conv_backward(dx1, dw1, db1, ws1, 1, dout, x, w1, &p1, n);
    focal_conv_backward(dx3, dw3, db3, ws3, 1, dout, x, w3, &p3, n);
    double eb = max_abs_diff(dx1, dx3, xl);
    for (int i = 0; i < oc * c; i++)
        eb = fmax(eb, fabs(dw1[i] - dw3[i * 9 + 4]));
    eb = fmax(eb, max_abs_diff(db1, db3, 4));
    CHECKF(ef < 1e-5 && eb < 1e-5, "%s: 1x1 vs general: forward %.3g, backward %.3g", conv_path_name[path], ef,
           eb);
    report(path == PATH_DNNL ? "conv oneDNN 1x1 vs general (abs)" : "conv 1x1 vs general (abs)", fmax(ef, eb), 0);
    focal_conv_release(&p1);
    focal_conv_release(&p3);
    free(x);
    free(w1);
    free(w3);
    free(o1);
    free(o3);
    free(dout);
    free(ws1);
    free(ws3);
    free(dx1);
    free(dx3);
    free(dw1);
    free(dw3);
}

/* The image-parallel im2col path (threads > 1) against its one-thread path:
 * the forward and dinp are the same computations per image (bit-identical);
 * dw and db sum in another order (close). Uneven splits (5 images, 2 or 3
 * threads), the 1×1 path and a strided kernel. */
static void test_conv_threads(int c, int h, int w, int oc, int k, int stride, int pad)
{
    const int n = 5;
    struct focal_conv p;
    CHECK(focal_conv_init(&p, c, h, w, oc, k, stride, pad) == 0);
    const size_t xl = (size_t)n * c * h * w, wl = (size_t)oc * c * k * k, ol = (size_t)n * oc * p.oh * p.ow;
    float *x = alloc_f(xl), *wt = alloc_f(wl), *b = alloc_f(oc), *dout = alloc_f(ol);
    fill(x, xl, -1, 1);
    fill(wt, wl, -0.3, 0.3);
    fill(b, oc, -1, 1);
    fill(dout, ol, -1, 1);
    float *o1 = alloc_f(ol), *dx1 = alloc_f(xl), *dw1 = alloc_f(wl), *db1 = alloc_f(oc);
    memset(dw1, 0, wl * sizeof *dw1); /* dw and db accumulate */
    memset(db1, 0, (size_t)oc * sizeof *db1);
    float *ws1 = alloc_f(focal_conv_ws_size(&p, 1) + 1);
    focal_conv_forward(o1, ws1, 1, x, wt, b, &p, n);
    focal_conv_backward(dx1, dw1, db1, ws1, 1, dout, x, wt, &p, n);
    for (int threads = 2; threads <= 3; threads++) {
        float *o = alloc_f(ol), *dx = alloc_f(xl), *dw = alloc_f(wl), *db = alloc_f(oc);
        float *ws = alloc_f(focal_conv_ws_size(&p, threads));
        memset(dw, 0, wl * sizeof *dw);
        memset(db, 0, (size_t)oc * sizeof *db);
        CHECK(focal_conv_ws_size(&p, threads) >= (size_t)threads * focal_conv_col_size(&p));
        focal_conv_forward(o, ws, threads, x, wt, b, &p, n);
        focal_conv_backward(dx, dw, db, ws, threads, dout, x, wt, &p, n);
        CHECKF(memcmp(o, o1, ol * sizeof *o) == 0, "k=%d stride=%d threads=%d: forward differs", k, stride, threads);
        CHECKF(memcmp(dx, dx1, xl * sizeof *dx) == 0, "k=%d stride=%d threads=%d: dinp differs", k, stride,
               threads);
        double e = 0;
        for (size_t i = 0; i < wl; i++)
            e = fmax(e, fabs(dw[i] - dw1[i]) / (fabs(dw1[i]) + 1e-3));
        CHECKF(e < 1e-4, "k=%d stride=%d threads=%d: dw off by %.3g", k, stride, threads, e);
        CHECK(memcmp(db, db1, (size_t)oc * sizeof *db) == 0);
        free(o), free(dx), free(dw), free(db), free(ws);
    }
    free(x), free(wt), free(b), free(dout), free(o1), free(dx1), free(dw1), free(db1), free(ws1);
}

/* A larger problem on one path, whose im2col, col2im and bias loops run on
 * several threads (forward, dinp, dw and db against the direct convolution;
 * backward twice with bitwise equal results). */
static void test_conv_large(enum conv_path path)
{
    const int n = 2, c = 16, h = 20, w = 18, oc = 24, k = 3;
    struct focal_conv p;
    CHECK(focal_conv_init(&p, c, h, w, oc, k, 1, 1) == 0);
    if (!conv_on_path(&p, path, n, 1, 1, 1))
        return;
    const size_t xl = (size_t)n * c * h * w, wl = (size_t)oc * c * k * k, ol = (size_t)n * oc * p.oh * p.ow;
    float *x = alloc_f(xl), *wt = alloc_f(wl), *b = alloc_f(oc), *out = alloc_f(ol);
    float *ws = alloc_f(focal_conv_ws_size(&p, 1));
    float *dout = alloc_f(ol), *dx = alloc_f(xl), *dx2 = alloc_f(xl), *dw = alloc_f(wl), *dw2 = alloc_f(wl);
    double *ref = malloc(ol * sizeof *ref), *mag = malloc(ol * sizeof *mag);
    struct conv_grads g = {malloc(xl * sizeof(double)), malloc(xl * sizeof(double)), malloc(wl * sizeof(double)),
                           malloc(wl * sizeof(double)), malloc(oc * sizeof(double)), malloc(oc * sizeof(double))};
    CHECK(ref && mag && g.dx && g.mx && g.dw && g.mw && g.db && g.mb);
    fill(x, xl, -1, 1);
    fill(wt, wl, -0.2, 0.2);
    fill(b, oc, -1, 1);
    fill(dout, ol, -1, 1);
    focal_conv_forward(out, ws, 1, x, wt, b, &p, n);
    conv_direct(ref, mag, &g, x, wt, b, dout, &p, n);
    const double worst = err_vs_direct(out, ref, mag, ol);
    CHECKF(worst < 1e-6, "%s: large conv forward vs direct: %.3g", conv_path_name[path], worst);
    report(path == PATH_DNNL ? "conv oneDNN fwd vs direct (rel)" : "conv forward vs direct (rel)", worst, 0);
    memset(dw, 0, wl * sizeof *dw);
    memset(dw2, 0, wl * sizeof *dw2);
    float db[24] = {0}, db2[24] = {0};
    focal_conv_backward(dx, dw, db, ws, 1, dout, x, wt, &p, n);
    focal_conv_backward(dx2, dw2, db2, ws, 1, dout, x, wt, &p, n);
    CHECK(memcmp(dx, dx2, xl * sizeof *dx) == 0 && memcmp(dw, dw2, wl * sizeof *dw) == 0 &&
          memcmp(db, db2, sizeof db) == 0);
    const double ed = err_vs_direct(dx, g.dx, g.mx, xl), ew = err_vs_direct(dw, g.dw, g.mw, wl);
    const double eb = err_vs_direct(db, g.db, g.mb, (size_t)oc);
    CHECKF(ed < 1e-6 && ew < 1e-5 && eb < 1e-5, "%s: large conv backward vs direct: dinp %.3g, dw %.3g, db %.3g",
           conv_path_name[path], ed, ew, eb);
    report(path == PATH_DNNL ? "conv oneDNN bwd vs direct (rel)" : "conv bwd vs direct (rel)", fmax(ed, fmax(ew, eb)),
           0);
    focal_conv_release(&p);
    free(x);
    free(wt);
    free(b);
    free(out);
    free(ws);
    free(dout);
    free(dx);
    free(dx2);
    free(dw);
    free(dw2);
    free(ref);
    free(mag);
    free(g.dx), free(g.mx), free(g.dw), free(g.mw), free(g.db), free(g.mb);
}

/* A ReLU fused into the convolution (focal_conv_fuse_relu) against the
 * convolution followed by focal_relu_forward, on one path: the same values
 * (the same formula on the same sums), and the backward unchanged. */
static void test_conv_fused_relu(enum conv_path path, int k, int stride, int pad, int bias, float slope)
{
    const int n = 3, c = 5, h = 9, w = 11, oc = 7;
    struct focal_conv plain, fused;
    CHECK(focal_conv_init(&plain, c, h, w, oc, k, stride, pad) == 0);
    fused = plain;
    focal_conv_fuse_relu(&fused, slope);
    CHECK(fused.relu == 1 && fused.slope == slope && plain.relu == 0);
    if (!conv_on_path(&plain, path, n, bias, 1, 1) || !conv_on_path(&fused, path, n, bias, 1, 1)) {
        focal_conv_release(&plain);
        return;
    }
    const size_t xl = (size_t)n * c * h * w, wl = (size_t)oc * c * k * k, ol = (size_t)n * oc * plain.oh * plain.ow;
    float *x = alloc_f(xl), *wt = alloc_f(wl), *b = bias ? alloc_f(oc) : NULL, *dout = alloc_f(ol);
    float *o1 = alloc_f(ol), *o2 = alloc_f(ol), *dx1 = alloc_f(xl), *dx2 = alloc_f(xl);
    float *dw1 = alloc_f(wl), *dw2 = alloc_f(wl), db1[8] = {0}, db2[8] = {0};
    float *ws1 = alloc_f(focal_conv_ws_size(&plain, 1)), *ws2 = alloc_f(focal_conv_ws_size(&fused, 1));
    fill(x, xl, -1, 1);
    fill(wt, wl, -0.5, 0.5);
    if (b)
        fill(b, oc, -0.5, 0.5);
    fill(dout, ol, -1, 1);
    focal_conv_forward(o1, ws1, 1, x, wt, b, &plain, n);
    focal_relu_forward(o1, o1, ol, slope);
    focal_conv_forward(o2, ws2, 1, x, wt, b, &fused, n);
    size_t differ = 0, negative = 0;
    for (size_t i = 0; i < ol; i++) {
        differ += !(o1[i] == o2[i]);
        negative += o1[i] < 0 || (slope == 0 && o1[i] == 0);
    }
    CHECKF(differ == 0, "%s k%d s%d p%d slope %g: fused ReLU differs in %zu of %zu outputs", conv_path_name[path], k,
           stride, pad, (double)slope, differ, ol);
    CHECK(negative > ol / 10); /* the ReLU did act */
    memset(dw1, 0, wl * sizeof *dw1);
    memset(dw2, 0, wl * sizeof *dw2);
    focal_conv_backward(dx1, dw1, b ? db1 : NULL, ws1, 1, dout, x, wt, &plain, n);
    focal_conv_backward(dx2, dw2, b ? db2 : NULL, ws2, 1, dout, x, wt, &fused, n);
    CHECKF(memcmp(dx1, dx2, xl * sizeof *dx1) == 0 && memcmp(dw1, dw2, wl * sizeof *dw1) == 0 &&
               memcmp(db1, db2, sizeof db1) == 0,
           "%s k%d s%d p%d: the backward of a fused convolution differs", conv_path_name[path], k, stride, pad);
    focal_conv_release(&plain);
    focal_conv_release(&fused);
    free(x), free(wt), free(b), free(dout), free(o1), free(o2), free(dx1), free(dx2), free(dw1), free(dw2);
    free(ws1), free(ws2);
}

/* oneDNN against the direct convolution and against im2col on random
 * shapes: kernels 1, 3 and 5, strides 1 and 2, paddings 0 to 2 (kernel 1 with
 * padding: rows of pure padding), odd sizes, with and without bias, 1 and 2
 * threads, the primitives for the largest batch and for a smaller one built
 * on first use. Also: the same call twice is bitwise equal (dw accumulates to
 * exactly twice), and the set-up without a backward-data primitive gives the
 * same dw and db. */
static void test_conv_dnnl_vs_im2col(void)
{
    static const int kernels[3] = {1, 3, 5};
    double worst[PATH_COUNT] = {0, 0}, worst_diff = 0;
    for (int t = 0; t < 36; t++) {
        const int k = kernels[t % 3], stride = 1 + (t / 3) % 2, pad = (t / 6) % 3, bias = (t / 18) % 2;
        const int n = 1 + (int)(urand() * 3), c = t % 7 == 0 ? 3 : 1 + (int)(urand() * 19);
        const int oc = 1 + (int)(urand() * 21), h = 5 + 2 * (int)(urand() * 7), w = 5 + 2 * (int)(urand() * 8);
        const int threads = 1 + t % 2, max_batch = n + (t / 2) % 2;
        char what[96];
        snprintf(what, sizeof what, "n%d c%d %dx%d oc%d k%d s%d p%d%s threads %d", n, c, h, w, oc, k, stride, pad,
                 bias ? " bias" : "", threads);
        struct focal_conv p[PATH_COUNT], pn;
        CHECK(focal_conv_init(&p[PATH_IM2COL], c, h, w, oc, k, stride, pad) == 0);
        p[PATH_DNNL] = pn = p[PATH_IM2COL];
        if (!conv_on_path(&p[PATH_DNNL], PATH_DNNL, max_batch, bias, 1, threads) ||
            !conv_on_path(&pn, PATH_DNNL, max_batch, bias, 0, threads)) {
            focal_conv_release(&p[PATH_DNNL]);
            continue;
        }
        const size_t xl = (size_t)n * c * h * w, wl = (size_t)oc * c * k * k;
        const size_t ol = (size_t)n * oc * p[0].oh * p[0].ow;
        float *x = alloc_f(xl), *wt = alloc_f(wl), *b = bias ? alloc_f(oc) : NULL, *dout = alloc_f(ol);
        fill(x, xl, -1, 1);
        fill(wt, wl, -0.5, 0.5);
        if (b)
            fill(b, oc, -0.5, 0.5);
        fill(dout, ol, -1, 1);
        double *ref = malloc(ol * sizeof *ref), *mag = malloc(ol * sizeof *mag);
        struct conv_grads g = {malloc(xl * sizeof(double)), malloc(xl * sizeof(double)),
                               malloc(wl * sizeof(double)), malloc(wl * sizeof(double)),
                               malloc(oc * sizeof(double)), malloc(oc * sizeof(double))};
        CHECK(ref && mag && g.dx && g.mx && g.dw && g.mw && g.db && g.mb);
        conv_direct(ref, mag, &g, x, wt, b, dout, &p[0], n);
        float *out[PATH_COUNT], *dx[PATH_COUNT], *dw[PATH_COUNT], *db[PATH_COUNT];
        for (int q = 0; q < PATH_COUNT; q++) {
            float *ws = alloc_f(focal_conv_ws_size(&p[q], threads));
            out[q] = alloc_f(ol);
            dx[q] = alloc_f(xl);
            dw[q] = alloc_f(wl);
            db[q] = alloc_f(oc);
            memset(dw[q], 0, wl * sizeof *dw[q]);
            memset(db[q], 0, (size_t)oc * sizeof *db[q]);
            focal_conv_forward(out[q], ws, threads, x, wt, b, &p[q], n);
            focal_conv_backward(dx[q], dw[q], b ? db[q] : NULL, ws, threads, dout, x, wt, &p[q], n);
            const double ef = err_vs_direct(out[q], ref, mag, ol), ed = err_vs_direct(dx[q], g.dx, g.mx, xl);
            const double ew = err_vs_direct(dw[q], g.dw, g.mw, wl);
            const double eb = b ? err_vs_direct(db[q], g.db, g.mb, (size_t)oc) : 0;
            CHECKF(ef < 1e-6 && ed < 1e-6 && ew < 1e-5 && eb < 1e-5,
                   "%s %s vs direct: forward %.3g, dinp %.3g, dw %.3g, db %.3g", conv_path_name[q], what, ef, ed, ew,
                   eb);
            worst[q] = fmax(worst[q], fmax(fmax(ef, ed), fmax(ew, eb)));
            if (q == PATH_DNNL) {
                /* again: bitwise equal, dw and db exactly doubled */
                float *o2 = alloc_f(ol), *dx2 = alloc_f(xl), *dwn = alloc_f(wl), *dbn = alloc_f(oc);
                focal_conv_forward(o2, ws, threads, x, wt, b, &p[q], n);
                focal_conv_backward(dx2, dw[q], b ? db[q] : NULL, ws, threads, dout, x, wt, &p[q], n);
                int same = memcmp(o2, out[q], ol * sizeof *o2) == 0 && memcmp(dx2, dx[q], xl * sizeof *dx2) == 0;
                for (size_t i = 0; i < wl; i++) {
                    dw[q][i] *= 0.5f; /* exact */
                    dwn[i] = 0;
                }
                for (int o = 0; o < oc; o++) {
                    db[q][o] *= 0.5f;
                    dbn[o] = 0;
                }
                /* without a backward-data primitive: the same dw and db */
                float *wsn = alloc_f(focal_conv_ws_size(&pn, threads));
                focal_conv_backward(NULL, dwn, b ? dbn : NULL, wsn, threads, dout, x, wt, &pn, n);
                focal_conv_forward(o2, wsn, threads, x, wt, b, &pn, n);
                const int same_n = memcmp(o2, out[q], ol * sizeof *o2) == 0 &&
                                   memcmp(dwn, dw[q], wl * sizeof *dwn) == 0 &&
                                   memcmp(dbn, db[q], (size_t)oc * sizeof *dbn) == 0;
                float *dw1 = alloc_f(wl);
                memset(dw1, 0, wl * sizeof *dw1);
                focal_conv_backward(NULL, dw1, NULL, wsn, threads, dout, x, wt, &p[PATH_IM2COL], n);
                CHECKF(same, "%s: oneDNN run twice: not bitwise equal", what);
                CHECKF(same_n, "%s: oneDNN without backward-data: results differ", what);
                free(o2), free(dx2), free(dwn), free(dbn), free(wsn), free(dw1);
                worst_diff = fmax(worst_diff, max_abs_diff(out[0], out[1], ol));
                worst_diff = fmax(worst_diff, max_abs_diff(dx[0], dx[1], xl));
            }
            free(ws);
        }
        for (int q = 0; q < PATH_COUNT; q++)
            free(out[q]), free(dx[q]), free(dw[q]), free(db[q]);
        focal_conv_release(&p[PATH_DNNL]);
        focal_conv_release(&pn);
        free(x), free(wt), free(b), free(dout), free(ref), free(mag);
        free(g.dx), free(g.mx), free(g.dw), free(g.mw), free(g.db), free(g.mb);
    }
    report("conv im2col random vs direct (rel)", worst[PATH_IM2COL], 0);
    report("conv oneDNN random vs direct (rel)", worst[PATH_DNNL], 0);
    report("conv oneDNN vs im2col out/dinp (abs)", worst_diff, 0);
}

/* init's rejections, then each configuration on every path: kernel 1, 2, 3,
 * 4, 5, strides 1–3, paddings 0–3, with and without bias, the 1×1 fast path
 * included; then oneDNN against im2col. */
static void test_conv(void)
{
    struct focal_conv p;
    CHECK(focal_conv_init(&p, 3, 4, 4, 2, 7, 1, 1) == -1); /* 4 + 2 < 7: empty */
    CHECK(focal_conv_init(&p, 3, 4, 4, 2, 3, 0, 1) == -1);
    CHECK(focal_conv_init(&p, 3, 4, 4, 2, 3, 1, 1) == 0 && p.dnnl == NULL);
    const int rc = focal_conv_use_dnnl(&p, 2, 1, 1, 1);
    CHECKF(rc == 0 || rc == 1, "oneDNN set-up returned %d", rc);
    have_dnnl = rc == 0;
    CHECK((p.dnnl != NULL) == have_dnnl);
    focal_conv_release(&p);
    CHECK(p.dnnl == NULL);
    printf("conv: paths im2col%s\n", have_dnnl ? " and oneDNN" : " (this build has no oneDNN)");
    for (int q = 0; q < PATH_COUNT; q++) {
        const enum conv_path path = (enum conv_path)q;
        test_conv_case(path, 2, 3, 7, 6, 4, 3, 1, 1, 1);
        test_conv_case(path, 2, 3, 7, 6, 4, 3, 1, 1, 0);
        test_conv_case(path, 2, 3, 8, 7, 4, 3, 2, 1, 1);
        test_conv_case(path, 1, 2, 7, 7, 3, 3, 2, 0, 0); /* floor: 7 − 3 = 4, 4/2 + 1 */
        test_conv_case(path, 2, 4, 5, 6, 3, 1, 1, 0, 1); /* 1×1 fast path */
        test_conv_case(path, 2, 4, 5, 6, 3, 1, 1, 0, 0);
        test_conv_case(path, 2, 4, 7, 6, 3, 1, 2, 0, 1); /* 1×1 strided: general path */
        test_conv_case(path, 1, 2, 8, 9, 3, 5, 1, 2, 1);
        test_conv_case(path, 2, 2, 9, 8, 2, 5, 2, 2, 0);
        test_conv_case(path, 1, 2, 6, 7, 3, 2, 2, 0, 1);
        test_conv_case(path, 1, 2, 5, 5, 2, 4, 3, 3, 1); /* pad > k/2: windows of pure padding */
        test_conv_pointwise_vs_general(path);
        test_conv_large(path);
        test_conv_fused_relu(path, 3, 1, 1, 1, 0.0f);
        test_conv_fused_relu(path, 5, 2, 2, 0, 0.1f);
        test_conv_fused_relu(path, 1, 2, 0, 1, 0.01f);
        test_conv_fused_relu(path, 1, 1, 0, 0, 0.0f); /* the im2col 1×1 fast path */
    }
    test_conv_threads(3, 9, 8, 4, 3, 1, 1);
    test_conv_threads(4, 6, 7, 5, 1, 1, 0); /* 1×1 fast path */
    test_conv_threads(2, 11, 9, 3, 5, 2, 2);
    if (have_dnnl)
        test_conv_dnnl_vs_im2col();
}

/* ---- batch norm ------------------------------------------------------------------- */

struct bn_ctx {
    int n, c, hw;
    float *x, *gamma, *beta, *out, *mean, *rstd, *rm, *rv;
};

/* forward_fn for a bn_ctx: training mode, momentum 0.1, eps 1e-5. */
static void bn_fwd(void *v)
{
    struct bn_ctx *b = v;
    focal_bn_forward_train(b->out, b->mean, b->rstd, b->rm, b->rv, b->x, b->gamma, b->beta, b->n, b->c, b->hw,
                           0.1f, 1e-5f, 0);
}

/* Hand formulas in double for one channel: mean, biased and unbiased variance. */
static void bn_stats(const float *x, int n, int c, int hw, int ch, double *mean, double *var_b, double *var_u)
{
    const double m = (double)n * hw;
    double s = 0, ss = 0;
    for (int i = 0; i < n; i++)
        for (int j = 0; j < hw; j++)
            s += x[((size_t)i * c + ch) * hw + j];
    *mean = s / m;
    for (int i = 0; i < n; i++)
        for (int j = 0; j < hw; j++) {
            const double d = x[((size_t)i * c + ch) * hw + j] - *mean;
            ss += d * d;
        }
    *var_b = ss / m;
    *var_u = ss / (m - 1);
}

/* Training forward (output, saved mean/rstd, running statistics) and eval
 * forward against the formulas; `offset` shifts every channel's values to
 * test the accuracy of the variance when |mean| is large. */
static void test_bn_forward(float offset)
{
    const int n = 4, c = 3, hw = 10;
    const size_t len = (size_t)n * c * hw;
    const float momentum = 0.1f, eps = 1e-5f;
    float *x = alloc_f(len), *out = alloc_f(len), *oe = alloc_f(len);
    float g[3], bt[3], mean[3], rstd[3], rm[3], rv[3], rm0[3], rv0[3];
    fill(x, len, -2, 2);
    for (size_t i = 0; i < len; i++)
        x[i] += offset;
    fill(g, 3, 0.5, 1.5);
    fill(bt, 3, -0.5, 0.5);
    fill(rm0, 3, -1, 1);
    fill(rv0, 3, 0.5, 2);
    memcpy(rm, rm0, sizeof rm);
    memcpy(rv, rv0, sizeof rv);
    focal_bn_forward_train(out, mean, rstd, rm, rv, x, g, bt, n, c, hw, momentum, eps, 0);
    double e_stat = 0, e_out = 0, e_eval = 0;
    for (int ch = 0; ch < c; ch++) {
        double mu, vb, vu;
        bn_stats(x, n, c, hw, ch, &mu, &vb, &vu);
        const double r = 1 / sqrt(vb + eps);
        e_stat = fmax(e_stat, fabs(mean[ch] - mu) / (fabs(mu) + 1));
        e_stat = fmax(e_stat, fabs(rstd[ch] - r) / r);
        e_stat = fmax(e_stat, fabs(rm[ch] - ((1 - momentum) * rm0[ch] + momentum * mu)) / (fabs(rm[ch]) + 1));
        e_stat = fmax(e_stat, fabs(rv[ch] - ((1 - momentum) * rv0[ch] + momentum * vu)) / rv[ch]);
        for (int i = 0; i < n; i++)
            for (int j = 0; j < hw; j++) {
                const size_t at = ((size_t)i * c + ch) * hw + j;
                e_out = fmax(e_out, fabs(out[at] - ((x[at] - mu) * r * g[ch] + bt[ch])));
            }
    }
    focal_bn_forward_eval(oe, x, g, bt, rm, rv, n, c, hw, eps, 0);
    for (int ch = 0; ch < c; ch++)
        for (int i = 0; i < n; i++)
            for (int j = 0; j < hw; j++) {
                const size_t at = ((size_t)i * c + ch) * hw + j;
                const double want = (x[at] - (double)rm[ch]) / sqrt((double)rv[ch] + eps) * g[ch] + bt[ch];
                e_eval = fmax(e_eval, fabs(oe[at] - want) / fmax(1, fabs(want)));
            }
    /* Training outputs are O(1) whatever the offset, but with |mean| = 1000
     * the float mean alone is 3e-5 off (half an ulp of 1000), times
     * rstd·gamma; evaluation outputs here are O(offset) (the running mean lags
     * the batch mean), so their error is taken relative to max(1, |out|). */
    const double out_tol = offset == 0 ? 1e-6 : 2e-4;
    CHECKF(e_stat < 1e-6, "bn statistics (offset %g): %.3g", offset, e_stat);
    CHECKF(e_out < out_tol, "bn train output (offset %g): %.3g", offset, e_out);
    CHECKF(e_eval < 1e-6, "bn eval output (offset %g): %.3g", offset, e_eval);
    report("bn stats/running (rel)", e_stat, 0);
    report(offset == 0 ? "bn train forward (abs)" : "bn train forward, mean 1e3 (abs)", e_out, 0);
    report("bn eval forward (rel)", e_eval, 0);
    free(x);
    free(out);
    free(oe);
}

/* Batch norm with relu = 1 (forward) and the ReLU output as mask (backward)
 * equals batch norm followed by a separate ReLU, bit for bit. */
static void test_bn_relu_fused(void)
{
    enum { n = 3, c = 4, hw = 10 };
    const size_t len = (size_t)n * c * hw;
    float x[n * c * hw], dy[n * c * hw], g[c], bt[c];
    fill(x, len, -2, 2);
    fill(dy, len, -1, 1);
    fill(g, c, 0.5, 1.5);
    fill(bt, c, -0.5, 0.5);
    float rm1[c] = {0}, rv1[c] = {1, 1, 1, 1}, rm2[c] = {0}, rv2[c] = {1, 1, 1, 1};
    float m1[c], r1[c], m2[c], r2[c];
    float sep[n * c * hw], act[n * c * hw], fused[n * c * hw], dact[n * c * hw];
    float dx1[n * c * hw], dx2[n * c * hw], dg1[c] = {0}, db1[c] = {0}, dg2[c] = {0}, db2[c] = {0};
    focal_bn_forward_train(sep, m1, r1, rm1, rv1, x, g, bt, n, c, hw, 0.1f, 1e-5f, 0);
    focal_relu_forward(act, sep, len, 0.0f);
    focal_relu_backward(dact, dy, sep, len, 0.0f);
    focal_bn_backward(dx1, dg1, db1, dact, x, m1, r1, g, NULL, 0, n, c, hw);
    focal_bn_forward_train(fused, m2, r2, rm2, rv2, x, g, bt, n, c, hw, 0.1f, 1e-5f, 1);
    focal_bn_backward(dx2, dg2, db2, dy, x, m2, r2, g, fused, 0, n, c, hw);
    int same = 1; /* by value: the separate ReLU gives −0 (0·x) where the fused one gives +0 */
    for (size_t i = 0; i < len; i++)
        same &= act[i] == fused[i];
    CHECK(same);
    CHECK(memcmp(dx1, dx2, sizeof dx1) == 0);
    CHECK(memcmp(dg1, dg2, sizeof dg1) == 0 && memcmp(db1, db2, sizeof db1) == 0);
    CHECK(memcmp(rm1, rm2, sizeof rm1) == 0 && memcmp(rv1, rv2, sizeof rv1) == 0);
    int zeros = 0;
    for (size_t i = 0; i < len; i++)
        zeros += fused[i] == 0.0f;
    CHECK(zeros > 0 && zeros < (int)len); /* the ReLU did cut something */

    /* evaluation mode: relu = 1 equals evaluation then a separate ReLU */
    float ev[n * c * hw], evr[n * c * hw], evf[n * c * hw];
    focal_bn_forward_eval(ev, x, g, bt, rm2, rv2, n, c, hw, 1e-5f, 0);
    focal_relu_forward(evr, ev, len, 0.0f);
    focal_bn_forward_eval(evf, x, g, bt, rm2, rv2, n, c, hw, 1e-5f, 1);
    same = 1;
    for (size_t i = 0; i < len; i++)
        same &= evr[i] == evf[i];
    CHECK(same);

    /* a NaN stays NaN through the fused ReLU, as through the separate one */
    float xn[n * c * hw], on[n * c * hw];
    memcpy(xn, x, sizeof xn);
    xn[0] = NAN;
    focal_bn_forward_train(on, m2, r2, rm2, rv2, xn, g, bt, n, c, hw, 0.1f, 1e-5f, 1);
    CHECK(isnan(on[0]) && isnan(on[1]));                /* channel 0's statistics are NaN */
    focal_bn_forward_eval(on, xn, g, bt, rm1, rv1, n, c, hw, 1e-5f, 1);
    CHECK(isnan(on[0]));

    /* a ReLU before the batch norm: relu_in = 1 equals a separate ReLU backward */
    float xr[n * c * hw], mr[c], rr[c], o3[n * c * hw], dbn[n * c * hw], dsep[n * c * hw], dfus[n * c * hw];
    float dg3[c] = {0}, db3[c] = {0}, dg4[c] = {0}, db4[c] = {0};
    focal_relu_forward(xr, x, len, 0.0f);
    focal_bn_forward_train(o3, mr, rr, rm1, rv1, xr, g, bt, n, c, hw, 0.1f, 1e-5f, 0);
    focal_bn_backward(dbn, dg3, db3, dy, xr, mr, rr, g, NULL, 0, n, c, hw);
    focal_relu_backward(dsep, dbn, x, len, 0.0f);
    focal_bn_backward(dfus, dg4, db4, dy, xr, mr, rr, g, NULL, 1, n, c, hw);
    same = 1;
    for (size_t i = 0; i < len; i++)
        same &= dsep[i] == dfus[i];
    CHECK(same);
    CHECK(memcmp(dg3, dg4, sizeof dg3) == 0 && memcmp(db3, db4, sizeof db3) == 0);
}

/* Forward formulas, then dinp, dgamma and dbeta against finite differences
 * and the accumulation of dgamma/dbeta. */
static void test_bn(void)
{
    test_bn_forward(0);
    test_bn_forward(1000);

    struct bn_ctx b = {.n = 3, .c = 4, .hw = 5};
    const size_t len = (size_t)b.n * b.c * b.hw;
    float g[4], bt[4], mean[4], rstd[4], rm[4] = {0}, rv[4] = {1, 1, 1, 1};
    b.x = alloc_f(len);
    b.out = alloc_f(len);
    b.gamma = g;
    b.beta = bt;
    b.mean = mean;
    b.rstd = rstd;
    b.rm = rm;
    b.rv = rv;
    float *dout = alloc_f(len), *dx = alloc_f(len), *dx2 = alloc_f(len);
    float dg[4] = {0}, db[4] = {0}, dg1[4], db1[4];
    fill(b.x, len, -1, 1);
    for (size_t i = 0; i < len; i++)
        b.x[i] += (float)((i / b.hw) % b.c) - 1.5f; /* a different mean per channel */
    fill(g, 4, 0.5, 1.5);
    fill(bt, 4, -0.5, 0.5);
    fill(dout, len, -1, 1);
    bn_fwd(&b);
    for (size_t i = 0; i < len; i++)
        dx[i] = 1e30f;
    focal_bn_backward(dx, dg, db, dout, b.x, mean, rstd, g, NULL, 0, b.n, b.c, b.hw);
    memcpy(dg1, dg, sizeof dg);
    memcpy(db1, db, sizeof db);
    struct gc_problem pr = {bn_fwd, &b, b.out, dout, len, 1};
    gradcheck(&pr, b.x, dx, len, H_SMOOTH, "batchnorm", "dinp");
    gradcheck(&pr, g, dg, 4, H_SMOOTH, "batchnorm", "dgamma");
    gradcheck(&pr, bt, db, 4, H_SMOOTH, "batchnorm", "dbeta");
    bn_fwd(&b);
    focal_bn_backward(dx2, dg, db, dout, b.x, mean, rstd, g, NULL, 0, b.n, b.c, b.hw);
    double acc = 0;
    for (int i = 0; i < 4; i++)
        acc = fmax(acc, fmax(fabs(dg[i] - 2.0 * dg1[i]), fabs(db[i] - 2.0 * db1[i])));
    CHECKF(acc < 1e-6, "bn dgamma/dbeta do not accumulate: %.3g", acc);
    CHECK(memcmp(dx, dx2, len * sizeof *dx) == 0);
    free(b.x);
    free(b.out);
    free(dout);
    free(dx);
    free(dx2);
}

/* ---- relu, dropout, add ------------------------------------------------------------- */

struct relu_ctx {
    float *x, *out;
    size_t len;
    float slope;
};

/* forward_fn for a relu_ctx. */
static void relu_fwd(void *v)
{
    struct relu_ctx *r = v;
    focal_relu_forward(r->out, r->x, r->len, r->slope);
}

/* Forward (also in place) and dinp for one slope. */
static void test_relu(float slope, const char *layer)
{
    enum { LEN = 300 };
    float x[LEN], out[LEN], dout[LEN], dx[LEN], y[LEN];
    struct relu_ctx r = {x, out, LEN, slope};
    fill_away_from_zero(x, LEN);
    fill(dout, LEN, -1, 1);
    relu_fwd(&r);
    int ok = 1;
    for (int i = 0; i < LEN; i++)
        ok &= out[i] == (x[i] > 0 ? x[i] : slope * x[i]);
    CHECKF(ok, "%s forward", layer);
    memcpy(y, x, sizeof y);
    focal_relu_forward(y, y, LEN, slope); /* in place */
    CHECK(memcmp(y, out, sizeof y) == 0);
    focal_relu_backward(dx, dout, x, LEN, slope);
    struct gc_problem pr = {relu_fwd, &r, out, dout, LEN, 0};
    gradcheck(&pr, x, dx, LEN, H_KINK, layer, "dinp");
}

struct dropout_ctx {
    float *x, *out;
    uint8_t *mask;
    size_t len;
    float p;
    struct focal_rng start; /* every forward starts here: a fixed mask */
};

/* forward_fn for a dropout_ctx: always from the same rng state. */
static void dropout_fwd(void *v)
{
    struct dropout_ctx *d = v;
    struct focal_rng r = d->start;
    focal_dropout_forward(d->out, d->mask, d->x, d->len, d->p, &r);
}

/* dinp with a fixed mask, keep rate and scaling, reproducibility from a
 * seed, and p = 0. */
static void test_dropout(void)
{
    /* gradient with a fixed mask */
    enum { LEN = 300 };
    float x[LEN], out[LEN], dout[LEN], dx[LEN];
    uint8_t mask[LEN];
    struct dropout_ctx d = {x, out, mask, LEN, 0.3f, {{0}}};
    focal_rng_seed(&d.start, 7);
    fill(x, LEN, -1, 1);
    fill(dout, LEN, -1, 1);
    dropout_fwd(&d);
    focal_dropout_backward(dx, dout, mask, LEN, d.p);
    struct gc_problem pr = {dropout_fwd, &d, out, dout, LEN, 0};
    gradcheck(&pr, x, dx, LEN, H_LINEAR, "dropout", "dinp (fixed mask)");

    /* statistics: keep rate 1 − p, kept values scaled by 1/(1 − p); the mask
     * depends only on the rng state and is reproduced from the same seed */
    const size_t big = 200000;
    const float p = 0.25f;
    float *bx = alloc_f(big), *bo = alloc_f(big);
    uint8_t *m1 = malloc(big), *m2 = malloc(big);
    CHECK(m1 && m2);
    fill(bx, big, -1, 1);
    struct focal_rng r1, r2;
    focal_rng_seed(&r1, 99);
    focal_rng_seed(&r2, 99);
    focal_dropout_forward(bo, m1, bx, big, p, &r1);
    size_t kept = 0;
    int vals_ok = 1;
    for (size_t i = 0; i < big; i++) {
        kept += m1[i];
        vals_ok &= m1[i] <= 1 && bo[i] == (m1[i] ? bx[i] * (1.0f / (1.0f - p)) : 0.0f);
    }
    const double rate = (double)kept / big, sd = sqrt(0.75 * 0.25 / big);
    CHECKF(fabs(rate - 0.75) < 5 * sd, "dropout keep rate %.5f, expected 0.75", rate);
    CHECK(vals_ok);
    focal_dropout_forward(bx, m2, bx, big, p, &r2); /* in place, same seed */
    CHECK(memcmp(m1, m2, big) == 0 && memcmp(bx, bo, big * sizeof *bx) == 0);
    CHECK(memcmp(&r1, &r2, sizeof r1) == 0);
    /* p = 0 copies, keeps everything and draws nothing */
    struct focal_rng r3 = r1;
    fill(bx, 1000, -1, 1);
    focal_dropout_forward(bo, m1, bx, 1000, 0.0f, &r3);
    int all = 1;
    for (int i = 0; i < 1000; i++)
        all &= m1[i] == 1;
    CHECK(all && memcmp(bo, bx, 1000 * sizeof *bo) == 0 && memcmp(&r3, &r1, sizeof r1) == 0);
    focal_dropout_backward(bo, bx, m1, 1000, 0.0f);
    CHECK(memcmp(bo, bx, 1000 * sizeof *bo) == 0);
    free(bx);
    free(bo);
    free(m1);
    free(m2);
}

struct add_ctx {
    float *a, *b, *out;
    size_t len;
};

/* forward_fn for an add_ctx. */
static void add_fwd(void *v)
{
    struct add_ctx *c = v;
    focal_add_forward(c->out, c->a, c->b, c->len);
}

/* The residual add's documented backward (dout to both inputs). */
static void test_add(void)
{
    enum { LEN = 200 };
    float a[LEN], b[LEN], out[LEN], dout[LEN];
    struct add_ctx c = {a, b, out, LEN};
    fill(a, LEN, -1, 1);
    fill(b, LEN, -1, 1);
    fill(dout, LEN, -1, 1);
    struct gc_problem pr = {add_fwd, &c, out, dout, LEN, 0};
    add_fwd(&c);
    /* the documented backward: dout to both inputs */
    gradcheck(&pr, a, dout, LEN, H_LINEAR, "add", "da");
    gradcheck(&pr, b, dout, LEN, H_LINEAR, "add", "db");
}

/* ---- pooling ----------------------------------------------------------------------- */

struct pool_ctx {
    struct focal_pool p;
    int n, max;
    float *x, *out;
    int32_t *argmax;
};

/* forward_fn for a pool_ctx (max or average). */
static void pool_fwd(void *v)
{
    struct pool_ctx *c = v;
    if (c->max)
        focal_maxpool_forward(c->out, c->argmax, c->x, &c->p, c->n);
    else
        focal_avgpool_forward(c->out, c->x, &c->p, c->n);
}

/* One max- or average-pool configuration: forward (and argmax) against
 * direct loops, dinp against finite differences. */
static void test_pool_case(int max, int n, int c, int h, int w, int k, int s, int pad)
{
    char what[80];
    snprintf(what, sizeof what, "%dx%d k%d s%d p%d", h, w, k, s, pad);
    struct pool_ctx pc = {.n = n, .max = max};
    CHECKF(focal_pool_init(&pc.p, c, h, w, k, s, pad) == 0, "%s: init", what);
    CHECK(pc.p.oh == (h + 2 * pad - k) / s + 1 && pc.p.ow == (w + 2 * pad - k) / s + 1);
    const size_t xl = (size_t)n * c * h * w, ol = (size_t)n * c * pc.p.oh * pc.p.ow;
    pc.x = alloc_f(xl);
    pc.out = alloc_f(ol);
    pc.argmax = malloc(ol * sizeof *pc.argmax);
    CHECK(pc.argmax != NULL);
    float *dout = alloc_f(ol), *dx = alloc_f(xl);
    if (max)
        fill_distinct(pc.x, xl);
    else
        fill(pc.x, xl, -1, 1);
    fill(dout, ol, -1, 1);
    pool_fwd(&pc);

    /* forward against direct loops over the zero-padded input */
    double e = 0;
    int am_ok = 1;
    for (int q = 0; q < n * c; q++)
        for (int oy = 0; oy < pc.p.oh; oy++)
            for (int ox = 0; ox < pc.p.ow; ox++) {
                double best = -INFINITY, sum = 0;
                int at = -1;
                for (int ky = 0; ky < k; ky++)
                    for (int kx = 0; kx < k; kx++) {
                        const int iy = oy * s - pad + ky, ix = ox * s - pad + kx;
                        if (iy < 0 || iy >= h || ix < 0 || ix >= w)
                            continue;
                        const double v = pc.x[(size_t)q * h * w + iy * w + ix];
                        sum += v;
                        if (v > best) {
                            best = v;
                            at = iy * w + ix;
                        }
                    }
                const size_t o = ((size_t)q * pc.p.oh + oy) * pc.p.ow + ox;
                e = fmax(e, fabs(pc.out[o] - (max ? best : sum / (k * k))));
                if (max)
                    am_ok &= pc.argmax[o] == at;
            }
    CHECKF(e < 1e-6 && am_ok, "%s pool %s forward: %.3g, argmax %s", max ? "max" : "avg", what, e,
           am_ok ? "ok" : "wrong");

    for (size_t i = 0; i < xl; i++)
        dx[i] = 1e30f;
    if (max)
        focal_maxpool_backward(dx, dout, pc.argmax, &pc.p, n);
    else
        focal_avgpool_backward(dx, dout, &pc.p, n);
    struct gc_problem pr = {pool_fwd, &pc, pc.out, dout, ol, 0};
    gradcheck(&pr, pc.x, dx, xl, max ? H_KINK : H_LINEAR, max ? "maxpool" : "avgpool", what);
    free(pc.x);
    free(pc.out);
    free(pc.argmax);
    free(dout);
    free(dx);
}

struct gap_ctx {
    int n, c, hw;
    float *x, *out;
};

/* forward_fn for a gap_ctx. */
static void gap_fwd(void *v)
{
    struct gap_ctx *g = v;
    focal_gap_forward(g->out, g->x, g->n, g->c, g->hw);
}

/* init's rejections, max and average pooling configurations, padding never
 * winning a max, and global average pooling. */
static void test_pool(void)
{
    struct focal_pool p;
    CHECK(focal_pool_init(&p, 1, 4, 4, 3, 1, 2) == -1); /* pad > k/2 */
    CHECK(focal_pool_init(&p, 1, 2, 2, 5, 1, 1) == -1); /* empty */
    for (int max = 0; max <= 1; max++) {
        test_pool_case(max, 2, 3, 6, 6, 2, 2, 0);
        test_pool_case(max, 2, 3, 7, 7, 2, 2, 0); /* floor drops the last row/column */
        test_pool_case(max, 2, 2, 7, 8, 3, 2, 1);
        test_pool_case(max, 1, 2, 6, 5, 3, 1, 1);
        test_pool_case(max, 1, 2, 9, 9, 5, 2, 2);
    }
    /* 2×2 stride 2 (its own fast path): the first maximum wins a tie, a NaN
     * wins and propagates, a later NaN replaces an earlier one — the general
     * loop's rule, and PyTorch's */
    {
        const float nan = NAN;
        float x[4 * 4] = {1, 1, 5, 2,  /* tie in window 0; window 1: max 5 at index 2 */
                          1, 1, 3, 5,  /* window 1: 5 again at index 7, later: first wins */
                          nan, 0, 2, 2, /* window 2: NaN first; window 3: NaN at index 15 only */
                          9, nan, 2, nan};
        float out[4];
        int32_t am[4];
        CHECK(focal_pool_init(&p, 1, 4, 4, 2, 2, 0) == 0);
        focal_maxpool_forward(out, am, x, &p, 1);
        CHECK(out[0] == 1 && am[0] == 0);
        CHECK(out[1] == 5 && am[1] == 2);
        CHECK(isnan(out[2]) && am[2] == 13); /* the later NaN (index 13) replaces the first (8) */
        CHECK(isnan(out[3]) && am[3] == 15);
        /* the general path (a 3×3 window) follows the same rule: the first
         * maximum wins a tie, and a later NaN replaces an earlier one */
        float y[9] = {1, 1, 0, 1, 1, 0, 0, 0, 0}, o1;
        int32_t a1;
        CHECK(focal_pool_init(&p, 1, 3, 3, 3, 3, 0) == 0);
        focal_maxpool_forward(&o1, &a1, y, &p, 1);
        CHECK(o1 == 1 && a1 == 0);
        y[2] = nan;
        y[7] = nan;
        focal_maxpool_forward(&o1, &a1, y, &p, 1);
        CHECK(isnan(o1) && a1 == 7);
    }
    /* max pool: padding never wins even when every real value is negative */
    {
        float x[4] = {-4, -3, -2, -1}, out[4];
        int32_t am[4];
        CHECK(focal_pool_init(&p, 1, 2, 2, 3, 1, 1) == 0);
        focal_maxpool_forward(out, am, x, &p, 1);
        CHECK(out[0] == -1 && am[0] == 3 && out[3] == -1);
    }

    enum { N = 2, C = 3, HW = 10 };
    float x[N * C * HW], out[N * C], dout[N * C], dx[N * C * HW];
    struct gap_ctx g = {N, C, HW, x, out};
    fill(x, N * C * HW, -1, 1);
    fill(dout, N * C, -1, 1);
    gap_fwd(&g);
    double e = 0;
    for (int q = 0; q < N * C; q++) {
        double s = 0;
        for (int j = 0; j < HW; j++)
            s += x[q * HW + j];
        e = fmax(e, fabs(out[q] - s / HW));
    }
    CHECKF(e < 1e-7, "gap forward: %.3g", e);
    focal_gap_backward(dx, dout, N, C, HW);
    struct gc_problem pr = {gap_fwd, &g, out, dout, N * C, 0};
    gradcheck(&pr, x, dx, N * C * HW, H_LINEAR, "gap", "dinp");
}

/* ---- dense ---------------------------------------------------------------------------- */

struct dense_ctx {
    int n, in, out_n;
    float *x, *w, *b, *out;
};

/* forward_fn for a dense_ctx. */
static void dense_fwd(void *v)
{
    struct dense_ctx *d = v;
    focal_dense_forward(d->out, d->x, d->w, d->b, d->n, d->in, d->out_n);
}

/* Forward against a double loop; dinp, dw, db against finite differences;
 * accumulation of dw/db and overwriting of dinp. */
static void test_dense_case(int bias)
{
    enum { N = 4, I = 7, O = 5 };
    float x[N * I], w[O * I], b[O], out[N * O], dout[N * O], dx[N * I], dx2[N * I], dw[O * I] = {0},
                                                                                   db[O] = {0}, dw1[O * I], db1[O];
    struct dense_ctx d = {N, I, O, x, w, bias ? b : NULL, out};
    fill(x, N * I, -1, 1);
    fill(w, O * I, -1, 1);
    fill(b, O, -1, 1);
    fill(dout, N * O, -1, 1);
    dense_fwd(&d);
    double e = 0;
    for (int i = 0; i < N; i++)
        for (int o = 0; o < O; o++) {
            double s = bias ? b[o] : 0;
            for (int j = 0; j < I; j++)
                s += (double)x[i * I + j] * w[o * I + j];
            e = fmax(e, fabs(out[i * O + o] - s));
        }
    CHECKF(e < 1e-5, "dense forward: %.3g", e);
    for (int i = 0; i < N * I; i++)
        dx[i] = 1e30f;
    focal_dense_backward(dx, dw, bias ? db : NULL, dout, x, w, N, I, O);
    memcpy(dw1, dw, sizeof dw);
    memcpy(db1, db, sizeof db);
    struct gc_problem pr = {dense_fwd, &d, out, dout, N * O, 0};
    gradcheck(&pr, x, dx, N * I, H_LINEAR, "dense", bias ? "dinp (bias)" : "dinp");
    gradcheck(&pr, w, dw, O * I, H_LINEAR, "dense", bias ? "dw (bias)" : "dw");
    if (bias)
        gradcheck(&pr, b, db, O, H_LINEAR, "dense", "db");
    focal_dense_backward(dx2, dw, bias ? db : NULL, dout, x, w, N, I, O);
    double acc = 0;
    for (int i = 0; i < O * I; i++)
        acc = fmax(acc, fabs(dw[i] - 2.0 * dw1[i]));
    for (int i = 0; i < O; i++)
        acc = fmax(acc, fabs(db[i] - 2.0 * db1[i]));
    CHECKF(acc < 1e-6, "dense dw/db do not accumulate: %.3g", acc);
    CHECK(memcmp(dx, dx2, sizeof dx) == 0);
    focal_dense_backward(NULL, dw, NULL, dout, x, w, N, I, O); /* dinp and db optional */
}

/* Column sums of db over more rows and columns than one block of the
 * blocked reduction. */
static void test_dense_db_blocks(void)
{
    const int n = 37, in = 3, o = 150;
    float *x = alloc_f((size_t)n * in), *w = alloc_f((size_t)o * in), *dout = alloc_f((size_t)n * o);
    float *dw = alloc_f((size_t)o * in), *db = alloc_f(o);
    fill(x, (size_t)n * in, -1, 1);
    fill(w, (size_t)o * in, -1, 1);
    fill(dout, (size_t)n * o, -1, 1);
    memset(dw, 0, (size_t)o * in * sizeof *dw);
    for (int j = 0; j < o; j++)
        db[j] = 1.0f;
    focal_dense_backward(NULL, dw, db, dout, x, w, n, in, o);
    double e = 0;
    for (int j = 0; j < o; j++) {
        double s = 1.0;
        for (int i = 0; i < n; i++)
            s += dout[(size_t)i * o + j];
        e = fmax(e, fabs(db[j] - s));
    }
    CHECKF(e < 1e-5, "dense db column sums: %.3g", e);
    free(x);
    free(w);
    free(dout);
    free(dw);
    free(db);
}

/* ---- normalised dense ------------------------------------------------------------------ */

struct dnorm_ctx {
    int n, in, out_n;
    float *x, *w, *out, *xn, *wn, *nrm;
};

/* forward_fn for a dnorm_ctx. */
static void dnorm_fwd(void *v)
{
    struct dnorm_ctx *d = v;
    focal_dense_norm_forward(d->out, d->xn, d->wn, d->nrm, d->x, d->w, d->n, d->in, d->out_n);
}

/* Forward against cosine similarities in double; dinp and dw against finite
 * differences (smooth: Richardson); dw accumulated, dinp overwritten; a zero
 * input row gives zero outputs and, its norm clamped at eps, the gradient of
 * x/eps, as PyTorch's F.normalize. */
static void test_dense_norm(void)
{
    enum { N = 4, I = 7, O = 5 };
    float x[N * I], w[O * I], out[N * O], dout[N * O], dx[N * I], dx2[N * I], dw[O * I] = {0}, dw1[O * I];
    float xn[N * I], wn[O * I], nrm[N + O], scratch[O * I];
    struct dnorm_ctx d = {N, I, O, x, w, out, xn, wn, nrm};
    fill(x, N * I, -1, 1);
    fill(w, O * I, -1, 1);
    fill(dout, N * O, -1, 1);
    dnorm_fwd(&d);
    double e = 0;
    for (int i = 0; i < N; i++)
        for (int o = 0; o < O; o++) {
            double s = 0, sx = 0, sw = 0;
            for (int j = 0; j < I; j++) {
                s += (double)x[i * I + j] * w[o * I + j];
                sx += (double)x[i * I + j] * x[i * I + j];
                sw += (double)w[o * I + j] * w[o * I + j];
            }
            e = fmax(e, fabs(out[i * O + o] - s / sqrt(sx * sw)));
        }
    CHECKF(e < 1e-6, "dense-norm forward: %.3g", e);
    for (int i = 0; i < N * I; i++)
        dx[i] = 1e30f;
    focal_dense_norm_backward(dx, dw, scratch, dout, xn, wn, nrm, N, I, O);
    memcpy(dw1, dw, sizeof dw);
    struct gc_problem pr = {dnorm_fwd, &d, out, dout, N * O, 1};
    gradcheck(&pr, x, dx, N * I, H_SMOOTH, "dense-norm", "dinp");
    gradcheck(&pr, w, dw, O * I, H_SMOOTH, "dense-norm", "dw");
    focal_dense_norm_backward(dx2, dw, scratch, dout, xn, wn, nrm, N, I, O);
    double acc = 0;
    for (int i = 0; i < O * I; i++)
        acc = fmax(acc, fabs(dw[i] - 2.0 * dw1[i]));
    CHECKF(acc < 1e-6, "dense-norm dw does not accumulate: %.3g", acc);
    CHECK(memcmp(dx, dx2, sizeof dx) == 0);
    /* a zero row: no NaN, outputs 0, gradient (dout · ŵ)/eps */
    for (int j = 0; j < I; j++)
        x[I + j] = 0.0f;
    dnorm_fwd(&d);
    focal_dense_norm_backward(dx, dw, scratch, dout, xn, wn, nrm, N, I, O);
    int finite = 1;
    double ez = 0, ezd = 0;
    for (int o = 0; o < O; o++)
        ez = fmax(ez, fabs(out[O + o]));
    for (int j = 0; j < I; j++) {
        double g = 0;
        for (int o = 0; o < O; o++)
            g += (double)dout[O + o] * wn[o * I + j];
        ezd = fmax(ezd, fabs(dx[I + j] - g / FOCAL_NORM_EPS) / fmax(fabs(g / FOCAL_NORM_EPS), 1.0));
    }
    for (int i = 0; i < N * I; i++)
        finite &= isfinite(dx[i]);
    for (int i = 0; i < O * I; i++)
        finite &= isfinite(dw[i]);
    CHECK(finite);
    CHECKF(ez == 0, "dense-norm output of a zero row: %.3g", ez);
    CHECKF(ezd < 1e-5, "dense-norm gradient of a zero row against dout·ŵ/eps: %.3g", ezd);
}

/* ---- thread-count invariance ------------------------------------------------------ */

/* Runs every layer whose loops are the library's own (no BLAS) on shapes
 * large enough to go parallel, once on one thread and once on several, and
 * requires bitwise equal results: every reduction has a fixed order. */
struct par_bufs {
    float *bn_out, *bn_dx, *mp_out, *mp_dx, *ap_out, *ap_dx, *gap_out, *gap_dx, *relu_out, *relu_dx;
    float stats[6 * 16], db[300]; /* bn mean, rstd, run_mean, run_var, dgamma, dbeta */
    int32_t *am;
};

/* Runs the layers once on the current thread count into r. */
static void par_run(struct par_bufs *r, const float *x, const float *dy, const float *dyp, const float *dyd)
{
    enum { N = 8, C = 16, H = 32, W = 32 };
    const int hw = H * W;
    float g[C], bt[C], rm[C] = {0}, rv[C], dg[C] = {0}, dbt[C] = {0};
    for (int i = 0; i < C; i++) {
        g[i] = 1.0f + 0.01f * i;
        bt[i] = 0.1f * i;
        rv[i] = 1.0f;
    }
    float *mean = r->stats, *rstd = r->stats + C;
    focal_bn_forward_train(r->bn_out, mean, rstd, rm, rv, x, g, bt, N, C, hw, 0.1f, 1e-5f, 0);
    focal_bn_backward(r->bn_dx, dg, dbt, dy, x, mean, rstd, g, NULL, 0, N, C, hw);
    memcpy(r->stats + 2 * C, rm, sizeof rm);
    memcpy(r->stats + 3 * C, rv, sizeof rv);
    memcpy(r->stats + 4 * C, dg, sizeof dg);
    memcpy(r->stats + 5 * C, dbt, sizeof dbt);
    focal_gap_forward(r->gap_out, x, N, C, hw);
    focal_gap_backward(r->gap_dx, dyd, N, C, hw);
    struct focal_pool p;
    focal_pool_init(&p, C, H, W, 3, 2, 1);
    focal_maxpool_forward(r->mp_out, r->am, x, &p, N);
    focal_maxpool_backward(r->mp_dx, dyp, r->am, &p, N);
    focal_avgpool_forward(r->ap_out, x, &p, N);
    focal_avgpool_backward(r->ap_dx, dyp, &p, N);
    const size_t len = (size_t)N * C * hw;
    focal_relu_forward(r->relu_out, x, len, 0.1f);
    focal_relu_backward(r->relu_dx, dy, x, len, 0.1f);
    /* dense: db's blocked column sums (dout 400 × 300 read from dy) */
    float w = 0, dw[300];
    memset(dw, 0, sizeof dw);
    memset(r->db, 0, sizeof r->db);
    focal_dense_backward(NULL, dw, r->db, dy, dy, &w, 400, 1, 300);
}

static void test_thread_invariance(void)
{
    const size_t len = 8 * 16 * 32 * 32, plen = 8 * 16 * 16 * 16;
    float *x = alloc_f(len), *dy = alloc_f(len), *dyp = alloc_f(plen), *dyd = alloc_f(8 * 16);
    fill(x, len, -1, 3);
    fill(dy, len, -1, 1);
    fill(dyp, plen, -1, 1);
    fill(dyd, 8 * 16, -1, 1);
    struct par_bufs r[2];
    for (int k = 0; k < 2; k++) {
        r[k].bn_out = alloc_f(len);
        r[k].bn_dx = alloc_f(len);
        r[k].relu_out = alloc_f(len);
        r[k].relu_dx = alloc_f(len);
        r[k].gap_dx = alloc_f(len);
        r[k].gap_out = alloc_f(8 * 16);
        r[k].mp_out = alloc_f(plen);
        r[k].ap_out = alloc_f(plen);
        r[k].mp_dx = alloc_f(len);
        r[k].ap_dx = alloc_f(len);
        r[k].am = malloc(plen * sizeof *r[k].am);
        CHECK(r[k].am != NULL);
    }
    const int threads = focal_get_threads();
    focal_set_threads(1);
    par_run(&r[0], x, dy, dyp, dyd);
    focal_set_threads(threads > 1 ? threads : 2);
    par_run(&r[1], x, dy, dyp, dyd);
    focal_set_threads(threads);
    CHECK(memcmp(r[0].bn_out, r[1].bn_out, len * 4) == 0 && memcmp(r[0].bn_dx, r[1].bn_dx, len * 4) == 0);
    CHECK(memcmp(r[0].stats, r[1].stats, sizeof r[0].stats) == 0);
    CHECK(memcmp(r[0].gap_out, r[1].gap_out, 8 * 16 * 4) == 0 && memcmp(r[0].gap_dx, r[1].gap_dx, len * 4) == 0);
    CHECK(memcmp(r[0].mp_out, r[1].mp_out, plen * 4) == 0 && memcmp(r[0].mp_dx, r[1].mp_dx, len * 4) == 0);
    CHECK(memcmp(r[0].am, r[1].am, plen * 4) == 0);
    CHECK(memcmp(r[0].ap_out, r[1].ap_out, plen * 4) == 0 && memcmp(r[0].ap_dx, r[1].ap_dx, len * 4) == 0);
    CHECK(memcmp(r[0].relu_out, r[1].relu_out, len * 4) == 0 && memcmp(r[0].relu_dx, r[1].relu_dx, len * 4) == 0);
    CHECK(memcmp(r[0].db, r[1].db, sizeof r[0].db) == 0);
    /* and the parallel batch-norm statistics are right, not just repeatable */
    double e = 0;
    for (int ch = 0; ch < 16; ch++) {
        double mu, vb, vu;
        bn_stats(x, 8, 16, 32 * 32, ch, &mu, &vb, &vu);
        e = fmax(e, fabs(r[1].stats[ch] - mu) + fabs(r[1].stats[16 + ch] - 1 / sqrt(vb + 1e-5)));
    }
    CHECKF(e < 1e-5, "large batch norm statistics: %.3g", e);
    for (int k = 0; k < 2; k++) {
        free(r[k].bn_out);
        free(r[k].bn_dx);
        free(r[k].relu_out);
        free(r[k].relu_dx);
        free(r[k].gap_dx);
        free(r[k].gap_out);
        free(r[k].mp_out);
        free(r[k].ap_out);
        free(r[k].mp_dx);
        free(r[k].ap_dx);
        free(r[k].am);
    }
    free(x);
    free(dy);
    free(dyp);
    free(dyd);
}

/* Runs every group, prints the worst error per layer and the tally. */
int main(void)
{
    test_rng();
    test_conv();
    test_bn();
    test_bn_relu_fused();
    test_relu(0.0f, "relu");
    test_relu(0.1f, "leaky relu 0.1");
    test_dropout();
    test_add();
    test_pool();
    test_dense_case(1);
    test_dense_case(0);
    test_dense_db_blocks();
    test_dense_norm();
    test_thread_invariance();
    printf("gradient checks: relative error |a-n|/max(|a|,|n|,%g), tolerance %g\n", GC_FLOOR, GC_TOL);
    for (int i = 0; i < n_reports; i++) {
        if (reports[i].h > 0)
            printf("  %-30s worst %.3g (h = %g)\n", reports[i].layer, reports[i].worst, (double)reports[i].h);
        else
            printf("  %-30s worst %.3g\n", reports[i].layer, reports[i].worst);
    }
    return check_done("test_layers");
}
