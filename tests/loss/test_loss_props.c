/* test_loss_props.c — properties every loss must have, whatever the inputs:
 *   - γ = 0 without α gives exactly BCE / CE;
 *   - focal loss <= cross-entropy, element by element;
 *   - no NaN or Inf in loss or gradient for logits up to ±1e4, γ in [0,5];
 *   - bit-identical results for 1 and 2 threads; float32 agrees with float64;
 *   - reductions: mean excludes ignored elements, positives divides by them;
 *   - the long-tail losses reduce to ce / sigmoid-focal where they should;
 *   - failure paths return the right status and name the offending value. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "focal.h"

static uint64_t rng_state = 0x2545f4914f6cdd1dull;

/* The test data's generator (see check.h). */
static double urand(void)
{
    return check_urand(&rng_state);
}

static const double gammas[] = {0, 0.1, 0.5, 0.9, 1, 2, 5};

/* A long-tailed class prior for up to PRIOR_MAX classes, π_j in (0,1), as
 * the long-tail kinds need (the others ignore it). */
#define PRIOR_MAX 600
static double prior_buf[PRIOR_MAX];

static const double *test_prior(void)
{
    for (int j = 0; j < PRIOR_MAX; j++)
        prior_buf[j] = 0.6 / pow(1.0 + j % 37, 1.3);
    return prior_buf;
}
#define NGAMMA (sizeof gammas / sizeof gammas[0])

/* γ = 0 and no α: sigmoid-focal is BCE and softmax-focal is CE, bit for bit. */
static void test_gamma0_exact(void)
{
    enum { n = 64, c = 7 };
    static float x[n * c], y[n * c], g1[n * c], g2[n * c], p1[n * c], p2[n * c];
    static int32_t t[n];
    for (int i = 0; i < n * c; i++) {
        x[i] = (float)((urand() * 2 - 1) * 30);
        y[i] = urand() < 0.3 ? 1.0f : 0.0f;
    }
    for (int i = 0; i < n; i++)
        t[i] = (int32_t)(urand() * c);
    struct focal_loss a, b;
    double la, lb;
    focal_loss_init(&a, FOCAL_LOSS_SIGMOID_FOCAL);
    focal_loss_init(&b, FOCAL_LOSS_BCE);
    a.gamma = 0;
    a.reduction = b.reduction = FOCAL_REDUCTION_NONE;
    CHECK(focal_sigmoid_loss(&a, n, c, x, y, g1, p1, &la) == FOCAL_OK);
    CHECK(focal_sigmoid_loss(&b, n, c, x, y, g2, p2, &lb) == FOCAL_OK);
    CHECK(la == lb);
    CHECK(memcmp(g1, g2, sizeof g1) == 0);
    CHECK(memcmp(p1, p2, sizeof p1) == 0);

    focal_loss_init(&a, FOCAL_LOSS_SOFTMAX_FOCAL);
    focal_loss_init(&b, FOCAL_LOSS_CE);
    a.gamma = 0;
    a.reduction = b.reduction = FOCAL_REDUCTION_NONE;
    CHECK(focal_softmax_loss(&a, n, c, x, t, g1, p1, &la) == FOCAL_OK);
    CHECK(focal_softmax_loss(&b, n, c, x, t, g2, p2, &lb) == FOCAL_OK);
    CHECK(la == lb);
    CHECK(memcmp(g1, g2, sizeof g1) == 0);
    CHECK(memcmp(p1, p2, n * sizeof(float)) == 0);

    /* bce and ce have no γ: a value left in the field changes nothing */
    focal_loss_init(&a, FOCAL_LOSS_BCE);
    a.gamma = 2;
    a.reduction = FOCAL_REDUCTION_NONE;
    focal_loss_init(&b, FOCAL_LOSS_BCE);
    b.reduction = FOCAL_REDUCTION_NONE;
    CHECK(focal_sigmoid_loss(&a, n, c, x, y, g1, p1, &la) == FOCAL_OK);
    CHECK(focal_sigmoid_loss(&b, n, c, x, y, g2, p2, &lb) == FOCAL_OK);
    CHECK(la == lb && memcmp(g1, g2, sizeof g1) == 0);
    focal_loss_init(&a, FOCAL_LOSS_CE);
    a.gamma = 2;
    focal_loss_init(&b, FOCAL_LOSS_CE);
    CHECK(focal_softmax_loss(&a, n, c, x, t, g1, NULL, &la) == FOCAL_OK);
    CHECK(focal_softmax_loss(&b, n, c, x, t, g2, NULL, &lb) == FOCAL_OK);
    CHECK(la == lb && memcmp(g1, g2, sizeof g1) == 0);
}

/* FL <= CE element by element (sigmoid, soft targets too) and row by row (softmax). */
static void test_focal_below_ce(void)
{
    enum { n = 50, c = 6 };
    static double x[n * c], y[n * c], pf[n * c], pc[n * c], g[n * c];
    static int32_t t[n];
    for (int i = 0; i < n * c; i++) {
        x[i] = (urand() * 2 - 1) * 15;
        y[i] = urand() < 0.5 ? (urand() < 0.5 ? 1.0 : 0.0) : urand();
    }
    for (int i = 0; i < n; i++)
        t[i] = (int32_t)(urand() * c);
    for (size_t k = 0; k < NGAMMA; k++) {
        struct focal_loss fl, ce;
        double lf, lc;
        focal_loss_init(&fl, FOCAL_LOSS_SIGMOID_FOCAL);
        focal_loss_init(&ce, FOCAL_LOSS_BCE);
        fl.gamma = gammas[k];
        fl.alpha = ce.alpha = 0.25;
        fl.reduction = ce.reduction = FOCAL_REDUCTION_NONE;
        CHECK(focal_sigmoid_loss_f64(&fl, n, c, x, y, g, pf, &lf) == FOCAL_OK);
        CHECK(focal_sigmoid_loss_f64(&ce, n, c, x, y, g, pc, &lc) == FOCAL_OK);
        int bad = 0;
        for (int i = 0; i < n * c; i++)
            bad += !(pf[i] <= pc[i] * (1 + 1e-15));
        CHECKF(bad == 0, "sigmoid gamma=%g: %d elements with FL > CE", gammas[k], bad);

        focal_loss_init(&fl, FOCAL_LOSS_SOFTMAX_FOCAL);
        focal_loss_init(&ce, FOCAL_LOSS_CE);
        fl.gamma = gammas[k];
        fl.reduction = ce.reduction = FOCAL_REDUCTION_NONE;
        CHECK(focal_softmax_loss_f64(&fl, n, c, x, t, g, pf, &lf) == FOCAL_OK);
        CHECK(focal_softmax_loss_f64(&ce, n, c, x, t, g, pc, &lc) == FOCAL_OK);
        bad = 0;
        for (int i = 0; i < n; i++)
            bad += !(pf[i] <= pc[i] * (1 + 1e-15));
        CHECKF(bad == 0, "softmax gamma=%g: %d rows with FL > CE", gammas[k], bad);
    }
}

/* Every kind, γ in [0,5], logits up to ±1e4 (and γ < 1 at p_t → 1): finite. */
static void test_finite_everywhere(void)
{
    static const float extremes[] = {1e4f, -1e4f, 1e3f, -1e3f, 100, -100, 89, -89, 88.7f, -88.7f,
                                     40, -40, 20, -20, 1, -1, 1e-30f, -1e-30f, 0};
    enum { ne = sizeof extremes / sizeof extremes[0], c = ne };
    /* rows: each row holds every extreme once, targets vary by row */
    enum { n = 6 };
    static float x[n * c], y[n * c], g[n * c], per[n * c];
    static double xd[n * c], yd[n * c], gd[n * c], perd[n * c];
    static int32_t t[n];
    for (int r = 0; r < n; r++) {
        for (int j = 0; j < c; j++) {
            x[r * c + j] = extremes[(j + r) % ne];
            y[r * c + j] = r < 2 ? (float)r : (r == 2 ? 0.3f : (r == 3 ? 0.999f : (r == 4 ? 1e-6f : -1.0f)));
            xd[r * c + j] = x[r * c + j];
            yd[r * c + j] = y[r * c + j];
        }
        t[r] = r == 5 ? -100 : (int32_t)((r * 5) % c);
    }
    int cases = 0, bad = 0;
    for (int kind = 0; kind < FOCAL_LOSS_KIND_COUNT; kind++) {
        for (size_t k = 0; k < NGAMMA; k++) {
            for (int variant = 0; variant < 2; variant++) {
                struct focal_loss l;
                focal_loss_init(&l, (enum focal_loss_kind)kind);
                l.gamma = gammas[k];
                if (kind == FOCAL_LOSS_FOCAL_STAR && l.gamma == 0)
                    l.gamma = 0.1;
                l.gamma_neg = gammas[k];
                l.gamma_pos = gammas[NGAMMA - 1 - k];
                l.reduction = FOCAL_REDUCTION_NONE;
                l.class_prior = test_prior();
                if (variant) {
                    l.alpha = 0.25;
                    l.label_smoothing = 0.1;
                    l.margin = l.kind == FOCAL_LOSS_LDAM ? 1.0 : 0;
                    l.tau = 2.0;
                    l.scale = 64;
                    l.db_lambda = 5;
                    l.db_kappa = 1;
                }
                double loss = 0, lossd = 0;
                focal_status st, std;
                if (focal_loss_is_softmax(l.kind)) {
                    st = focal_softmax_loss(&l, n, c, x, t, g, per, &loss);
                    std = focal_softmax_loss_f64(&l, n, c, xd, t, gd, perd, &lossd);
                } else {
                    st = focal_sigmoid_loss(&l, n, c, x, y, g, per, &loss);
                    std = focal_sigmoid_loss_f64(&l, n, c, xd, yd, gd, perd, &lossd);
                }
                CHECKF(st == FOCAL_OK && std == FOCAL_OK, "%s gamma=%g: %s", focal_loss_kind_name(l.kind),
                       l.gamma, focal_last_error());
                int nonfinite = !isfinite(loss) || !isfinite(lossd);
                for (int i = 0; i < n * c; i++)
                    nonfinite += !isfinite(g[i]) || !isfinite(gd[i]) || !isfinite(per[i]) || !isfinite(perd[i]);
                CHECKF(nonfinite == 0, "%s gamma=%g variant=%d: %d non-finite values",
                       focal_loss_kind_name(l.kind), l.gamma, variant, nonfinite);
                bad += nonfinite != 0;
                cases++;
            }
        }
    }
    printf("finite: %d extreme-logit cases, %d with non-finite output\n", cases, bad);
}

/* Same input, 1 thread and 2 threads: bit-identical; float32 close to float64. */
static void test_threads_and_precision(void)
{
    const size_t n = 20000, c = 16;
    float *x = malloc(n * c * sizeof *x), *y = malloc(n * c * sizeof *y);
    float *g1 = malloc(n * c * sizeof *g1), *g2 = malloc(n * c * sizeof *g2);
    double *xd = malloc(n * c * sizeof *xd), *yd = malloc(n * c * sizeof *yd), *gd = malloc(n * c * sizeof *gd);
    int32_t *t = malloc(n * sizeof *t);
    CHECK(x && y && g1 && g2 && xd && yd && gd && t);
    if (!(x && y && g1 && g2 && xd && yd && gd && t))
        goto out;
    for (size_t i = 0; i < n * c; i++) {
        x[i] = (float)((urand() * 2 - 1) * 8);
        y[i] = urand() < 0.05 ? 1.0f : (urand() < 0.02 ? -1.0f : 0.0f);
        xd[i] = x[i];
        yd[i] = y[i];
    }
    for (size_t i = 0; i < n; i++)
        t[i] = (int32_t)(urand() * c);
    for (int kind = 0; kind < FOCAL_LOSS_KIND_COUNT; kind++) {
        struct focal_loss l;
        focal_loss_init(&l, (enum focal_loss_kind)kind);
        l.alpha = focal_loss_is_softmax(l.kind) ? -1 : 0.25;
        l.class_prior = test_prior();
        double a, b, d;
        const int sm = focal_loss_is_softmax(l.kind);
        focal_set_threads(1);
        CHECK((sm ? focal_softmax_loss(&l, n, c, x, t, g1, NULL, &a) : focal_sigmoid_loss(&l, n, c, x, y, g1, NULL, &a)) == FOCAL_OK);
        focal_set_threads(2);
        CHECK((sm ? focal_softmax_loss(&l, n, c, x, t, g2, NULL, &b) : focal_sigmoid_loss(&l, n, c, x, y, g2, NULL, &b)) == FOCAL_OK);
        CHECKF(a == b, "%s: 1 thread %.17g, 2 threads %.17g", focal_loss_kind_name(l.kind), a, b);
        CHECKF(memcmp(g1, g2, n * c * sizeof *g1) == 0, "%s: gradients differ between thread counts",
               focal_loss_kind_name(l.kind));
        CHECK((sm ? focal_softmax_loss_f64(&l, n, c, xd, t, gd, NULL, &d) : focal_sigmoid_loss_f64(&l, n, c, xd, yd, gd, NULL, &d)) == FOCAL_OK);
        CHECKF(check_close(a, d, 1e-5, 0), "%s: float32 %.9g vs float64 %.9g", focal_loss_kind_name(l.kind), a, d);
        double worst = 0;
        for (size_t i = 0; i < n * c; i++) {
            const double e = fabs(g1[i] - gd[i]) / fmax(fabs(gd[i]), 1e-2 / (double)(n * c));
            worst = e > worst ? e : worst;
        }
        CHECKF(worst < 1e-4, "%s: float32 gradient off float64 by %.3g (relative)", focal_loss_kind_name(l.kind), worst);
    }
    focal_set_threads(0);
out:
    free(x), free(y), free(g1), free(g2), free(xd), free(yd), free(gd), free(t);
}

/* Confident, correct predictions (|x| up to 30, y matching) have tiny losses
 * and gradients; float32 must get them to relative accuracy, not only below
 * an absolute floor (p − y must not be formed by cancellation). */
static void test_saturated_relative(void)
{
    enum { n = 2, c = 31 };
    float x[n * c], y[n * c], g[n * c], per[n * c];
    double xd[n * c], yd[n * c], gd[n * c], perd[n * c];
    for (int j = 0; j < c; j++) {
        x[j] = (float)j;           /* positives, p_t = σ(x) → 1 */
        y[j] = 1;
        x[c + j] = -(float)j;      /* negatives, p_t = σ(−x) → 1 */
        y[c + j] = 0;
    }
    for (int i = 0; i < n * c; i++) {
        xd[i] = x[i];
        yd[i] = y[i];
    }
    const enum focal_loss_kind kinds[] = {FOCAL_LOSS_BCE, FOCAL_LOSS_SIGMOID_FOCAL, FOCAL_LOSS_SIGMOID_POLY1,
                                          FOCAL_LOSS_FOCAL_STAR, FOCAL_LOSS_ASL};
    for (size_t k = 0; k < sizeof kinds / sizeof kinds[0]; k++) {
        for (size_t gi = 0; gi < NGAMMA; gi++) {
            struct focal_loss l;
            double loss;
            focal_loss_init(&l, kinds[k]);
            l.gamma = gammas[gi] > 0 ? gammas[gi] : (kinds[k] == FOCAL_LOSS_FOCAL_STAR ? 0.5 : 0.0);
            l.margin = 0;
            l.epsilon = 0.5;
            l.reduction = FOCAL_REDUCTION_NONE;
            CHECK(focal_sigmoid_loss(&l, n, c, x, y, g, per, &loss) == FOCAL_OK);
            CHECK(focal_sigmoid_loss_f64(&l, n, c, xd, yd, gd, perd, &loss) == FOCAL_OK);
            double worst = 0;
            int at = -1;
            for (int i = 0; i < n * c; i++) {
                /* values float32 can represent as normal numbers */
                if (fabs(gd[i]) > 1e-30) {
                    const double e = fabs(g[i] - gd[i]) / fabs(gd[i]);
                    if (e > worst) worst = e, at = i;
                }
                if (fabs(perd[i]) > 1e-30) {
                    const double e = fabs(per[i] - perd[i]) / fabs(perd[i]);
                    if (e > worst) worst = e, at = i;
                }
            }
            CHECKF(worst < 2e-5, "%s gamma=%g: float32 off float64 by %.3g (relative) at logit %g, target %g",
                   focal_loss_kind_name(l.kind), l.gamma, worst, at >= 0 ? x[at] : 0.0, at >= 0 ? y[at] : 0.0);
        }
    }
}

/* mean excludes ignored elements from sum and count; positives divides by the
 * positive targets; an all-ignored input gives 0 and zero gradients. */
static void test_reductions(void)
{
    const double x[6] = {0.3, -1.2, 2.0, 0.7, -0.4, 5.0};
    const double y[6] = {1, 0, -1, 0, 1, -1};
    double per[6], g[6], gs[6], loss, sum = 0;
    struct focal_loss l;
    focal_loss_init(&l, FOCAL_LOSS_SIGMOID_FOCAL);
    l.reduction = FOCAL_REDUCTION_NONE;
    CHECK(focal_sigmoid_loss_f64(&l, 2, 3, x, y, gs, per, &loss) == FOCAL_OK);
    for (int i = 0; i < 6; i++)
        sum += per[i];
    CHECK(per[2] == 0 && per[5] == 0 && gs[2] == 0 && gs[5] == 0);
    CHECK(check_close(loss, sum, 1e-15, 0));
    l.reduction = FOCAL_REDUCTION_MEAN;
    CHECK(focal_sigmoid_loss_f64(&l, 2, 3, x, y, g, NULL, &loss) == FOCAL_OK);
    CHECKF(check_close(loss, sum / 4, 1e-15, 0), "mean %.17g, expected %.17g", loss, sum / 4);
    for (int i = 0; i < 6; i++)
        CHECK(check_close(g[i], gs[i] / 4, 1e-14, 0));
    l.reduction = FOCAL_REDUCTION_POSITIVES;
    CHECK(focal_sigmoid_loss_f64(&l, 2, 3, x, y, g, NULL, &loss) == FOCAL_OK);
    CHECK(check_close(loss, sum / 2, 1e-15, 0));
    for (int i = 0; i < 6; i++)
        CHECK(check_close(g[i], gs[i] / 2, 1e-14, 0));

    const double none[6] = {-1, -1, -1, -1, -1, -1};
    l.reduction = FOCAL_REDUCTION_MEAN;
    CHECK(focal_sigmoid_loss_f64(&l, 2, 3, x, none, g, NULL, &loss) == FOCAL_OK);
    CHECK(loss == 0);
    int nz = 0;
    for (int i = 0; i < 6; i++)
        nz += g[i] != 0;
    CHECK(nz == 0);

    /* softmax: ignored rows leave the mean */
    const int32_t t[2] = {2, -100};
    focal_loss_init(&l, FOCAL_LOSS_CE);
    l.reduction = FOCAL_REDUCTION_NONE;
    CHECK(focal_softmax_loss_f64(&l, 2, 3, x, t, gs, per, &loss) == FOCAL_OK);
    CHECK(per[1] == 0 && gs[3] == 0 && gs[4] == 0 && gs[5] == 0);
    l.reduction = FOCAL_REDUCTION_MEAN;
    double lm;
    CHECK(focal_softmax_loss_f64(&l, 2, 3, x, t, g, NULL, &lm) == FOCAL_OK);
    CHECK(check_close(lm, per[0], 1e-15, 0));
}

/* Without a gradient the kernels compute the loss alone; it must be the
 * same bit for bit as with one, for every kind, both element types, with
 * label smoothing, ignored elements and rows, and class counts around the
 * kernels' block sizes. */
static void test_no_grad_identical(void)
{
    enum { NMAX = 130, CMAX = 600 };
    static const size_t cs[] = {1, 3, 17, 64, 65, 513, 600};
    static const size_t ns[] = {1, 63, 65, 130};
    static float x[NMAX * CMAX], y[NMAX * CMAX], g[NMAX * CMAX];
    static double xd[NMAX * CMAX], yd[NMAX * CMAX], gd[NMAX * CMAX];
    static int32_t t[NMAX];
    for (int k = 0; k < FOCAL_LOSS_KIND_COUNT; k++)
        for (int smooth = 0; smooth < 2; smooth++)
            for (size_t ci = 0; ci < sizeof cs / sizeof cs[0]; ci++)
                for (size_t ni = 0; ni < sizeof ns / sizeof ns[0]; ni++) {
                    const size_t n = ns[ni], c = cs[ci];
                    struct focal_loss l;
                    focal_loss_init(&l, (enum focal_loss_kind)k);
                    const int sm = focal_loss_is_softmax(l.kind);
                    if (smooth && !sm)
                        continue;
                    l.label_smoothing = smooth ? 0.1 : 0.0;
                    l.gamma = (ni & 1) && l.gamma > 0 ? 1.5 : l.gamma;
                    l.class_prior = test_prior();
                    for (size_t i = 0; i < n * c; i++) {
                        x[i] = (float)((urand() * 2 - 1) * 8);
                        xd[i] = x[i];
                        y[i] = urand() < 0.05 ? -1.0f : (urand() < 0.3 ? 1.0f : 0.0f);
                        yd[i] = y[i];
                    }
                    for (size_t i = 0; i < n; i++)
                        t[i] = urand() < 0.05 ? l.ignore_index : (int32_t)(urand() * c);
                    double a = 0, b = 1, ad = 0, bd = 1;
                    if (sm) {
                        CHECK(focal_softmax_loss(&l, n, c, x, t, g, NULL, &a) == FOCAL_OK);
                        CHECK(focal_softmax_loss(&l, n, c, x, t, NULL, NULL, &b) == FOCAL_OK);
                        CHECK(focal_softmax_loss_f64(&l, n, c, xd, t, gd, NULL, &ad) == FOCAL_OK);
                        CHECK(focal_softmax_loss_f64(&l, n, c, xd, t, NULL, NULL, &bd) == FOCAL_OK);
                    } else {
                        CHECK(focal_sigmoid_loss(&l, n, c, x, y, g, NULL, &a) == FOCAL_OK);
                        CHECK(focal_sigmoid_loss(&l, n, c, x, y, NULL, NULL, &b) == FOCAL_OK);
                        CHECK(focal_sigmoid_loss_f64(&l, n, c, xd, yd, gd, NULL, &ad) == FOCAL_OK);
                        CHECK(focal_sigmoid_loss_f64(&l, n, c, xd, yd, NULL, NULL, &bd) == FOCAL_OK);
                    }
                    CHECKF(memcmp(&a, &b, sizeof a) == 0 && memcmp(&ad, &bd, sizeof ad) == 0,
                           "%s smoothing %d, %zu x %zu: with gradient %a / %a, without %a / %a",
                           focal_loss_kind_name(l.kind), smooth, n, c, a, ad, b, bd);
                }
}

/* The long-tail losses against the losses they reduce to, and their
 * invariances: balanced-softmax is la with τ = 1 bit for bit; la with τ = 0
 * and ldam with m = 0, s = 1 are ce; la and ldam see only the ratios of the
 * prior (counts or frequencies); db with a constant re-balancing weight
 * (β = 0), κ = 0 and λ = 1 is (α_db + 1/2) times sigmoid-focal. */
static void test_longtail_reductions(void)
{
    enum { n = 40, c = 9 };
    static double x[n * c], y[n * c], g1[n * c], g2[n * c], p1[n * c], p2[n * c];
    static int32_t t[n];
    double counts[c], freq[c], total = 0;
    for (int j = 0; j < c; j++) {
        counts[j] = floor(1000 * pow(100.0, -(double)j / (c - 1)));
        total += counts[j];
    }
    for (int j = 0; j < c; j++)
        freq[j] = counts[j] / total;
    for (int i = 0; i < n * c; i++) {
        x[i] = (urand() * 2 - 1) * 12;
        y[i] = urand() < 0.05 ? -1.0 : (urand() < 0.3 ? 1.0 : (urand() < 0.2 ? urand() : 0.0));
    }
    for (int i = 0; i < n; i++)
        t[i] = i == 3 ? -100 : (int32_t)(urand() * c);
    struct focal_loss a, b;
    double la, lb;
    const size_t m = (size_t)n * c;
#define SAME_CLOSE(what, tol)                                                                     \
    do {                                                                                         \
        double worst = fabs(la - lb) / fmax(fabs(lb), 1e-300);                                   \
        for (size_t i = 0; i < m; i++) {                                                         \
            worst = fmax(worst, fabs(g1[i] - g2[i]) / fmax(fabs(g2[i]), 1e-12));                 \
            worst = fmax(worst, fabs(p1[i] - p2[i]) / fmax(fabs(p2[i]), 1e-12));                 \
        }                                                                                        \
        CHECKF(worst <= (tol), "%s: relative difference %.3g", what, worst);                     \
    } while (0)

    focal_loss_init(&a, FOCAL_LOSS_BALANCED_SOFTMAX);
    focal_loss_init(&b, FOCAL_LOSS_LA);
    a.class_prior = b.class_prior = counts;
    a.tau = 3; /* not a parameter of balanced-softmax: ignored */
    a.reduction = b.reduction = FOCAL_REDUCTION_NONE;
    memset(p1, 0, sizeof p1);
    memset(p2, 0, sizeof p2);
    CHECK(focal_softmax_loss_f64(&a, n, c, x, t, g1, p1, &la) == FOCAL_OK);
    CHECK(focal_softmax_loss_f64(&b, n, c, x, t, g2, p2, &lb) == FOCAL_OK);
    CHECK(la == lb && memcmp(g1, g2, sizeof g1) == 0 && memcmp(p1, p2, n * sizeof *p1) == 0);

    b.class_prior = freq;
    CHECK(focal_softmax_loss_f64(&b, n, c, x, t, g2, p2, &lb) == FOCAL_OK);
    SAME_CLOSE("la on counts vs la on frequencies", 1e-12);

    focal_loss_init(&b, FOCAL_LOSS_CE);
    b.reduction = a.reduction = FOCAL_REDUCTION_MEAN;
    focal_loss_init(&a, FOCAL_LOSS_LA);
    a.reduction = FOCAL_REDUCTION_MEAN;
    a.class_prior = counts;
    a.tau = 0;
    CHECK(focal_softmax_loss_f64(&a, n, c, x, t, g1, NULL, &la) == FOCAL_OK);
    CHECK(focal_softmax_loss_f64(&b, n, c, x, t, g2, NULL, &lb) == FOCAL_OK);
    memset(p1, 0, sizeof p1);
    memset(p2, 0, sizeof p2);
    SAME_CLOSE("la with tau 0 vs ce", 1e-12);

    focal_loss_init(&a, FOCAL_LOSS_LDAM);
    a.class_prior = counts;
    a.margin = 0;
    a.scale = 1;
    CHECK(focal_softmax_loss_f64(&a, n, c, x, t, g1, NULL, &la) == FOCAL_OK);
    SAME_CLOSE("ldam with m 0, s 1 vs ce", 1e-12);

    focal_loss_init(&a, FOCAL_LOSS_LDAM);
    focal_loss_init(&b, FOCAL_LOSS_LDAM);
    a.class_prior = counts;
    b.class_prior = freq;
    CHECK(focal_softmax_loss_f64(&a, n, c, x, t, g1, NULL, &la) == FOCAL_OK);
    CHECK(focal_softmax_loss_f64(&b, n, c, x, t, g2, NULL, &lb) == FOCAL_OK);
    SAME_CLOSE("ldam on counts vs ldam on frequencies", 1e-12);

    focal_loss_init(&a, FOCAL_LOSS_DB);
    focal_loss_init(&b, FOCAL_LOSS_SIGMOID_FOCAL);
    a.class_prior = freq;
    a.db_beta = 0;
    a.db_alpha = 0.25;
    a.db_kappa = 0;
    a.db_lambda = 1;
    a.gamma = b.gamma = 1.5;
    a.reduction = b.reduction = FOCAL_REDUCTION_NONE;
    for (size_t i = 0; i < m; i++) /* hard targets: soft ones interpolate differently */
        y[i] = y[i] < 0 ? -1.0 : (y[i] >= 0.5 ? 1.0 : 0.0);
    CHECK(focal_sigmoid_loss_f64(&a, n, c, x, y, g1, p1, &la) == FOCAL_OK);
    CHECK(focal_sigmoid_loss_f64(&b, n, c, x, y, g2, p2, &lb) == FOCAL_OK);
    for (size_t i = 0; i < m; i++) {
        g2[i] *= 0.75;
        p2[i] *= 0.75;
    }
    lb *= 0.75;
    SAME_CLOSE("db with beta 0, kappa 0, lambda 1 vs 0.75 x sigmoid-focal", 1e-12);
#undef SAME_CLOSE
}

static int has(const char *needle);

/* The per-kind table: names, families, parameters, and the resolution of a
 * loss name for a task. */
static void test_info(void)
{
    for (int k = 0; k < FOCAL_LOSS_KIND_COUNT; k++) {
        const struct focal_loss_info *in = focal_loss_info((enum focal_loss_kind)k);
        CHECK(in && in->kind == (enum focal_loss_kind)k);
        CHECK(strcmp(in->name, focal_loss_kind_name((enum focal_loss_kind)k)) == 0);
        CHECK(in->softmax == focal_loss_is_softmax((enum focal_loss_kind)k));
        CHECK(focal_loss_fits_task((enum focal_loss_kind)k, FOCAL_TASK_MULTICLASS) == in->softmax);
        CHECK(focal_loss_fits_task((enum focal_loss_kind)k, FOCAL_TASK_MULTILABEL) == !in->softmax);
        CHECK((in->params & FOCAL_PARAM_LABEL_SMOOTHING) ? in->softmax : 1);
        enum focal_loss_kind back;
        CHECK(focal_loss_kind_for_task(in->name, in->softmax ? FOCAL_TASK_MULTICLASS : FOCAL_TASK_BINARY, &back) ==
                  FOCAL_OK && back == (enum focal_loss_kind)k);
    }
    CHECK(focal_loss_info(FOCAL_LOSS_KIND_COUNT) == NULL);
    enum focal_loss_kind k = FOCAL_LOSS_ASL;
    CHECK(!(focal_loss_info(FOCAL_LOSS_BCE)->params & FOCAL_PARAM_GAMMA));
    CHECK(!(focal_loss_info(FOCAL_LOSS_ASL)->params & FOCAL_PARAM_GAMMA));
    CHECK(focal_loss_info(FOCAL_LOSS_ASL)->params & FOCAL_PARAM_MARGIN);
    CHECK(focal_loss_info(FOCAL_LOSS_FOCAL_STAR)->params & FOCAL_PARAM_BETA);
    for (int lt = FOCAL_LOSS_LA; lt <= FOCAL_LOSS_DB; lt++)
        CHECK(focal_loss_info((enum focal_loss_kind)lt)->params & FOCAL_PARAM_CLASS_PRIOR);
    CHECK(focal_loss_info(FOCAL_LOSS_LA)->params & FOCAL_PARAM_TAU);
    CHECK(!(focal_loss_info(FOCAL_LOSS_BALANCED_SOFTMAX)->params & FOCAL_PARAM_TAU));
    CHECK(focal_loss_info(FOCAL_LOSS_LDAM)->params & FOCAL_PARAM_MARGIN);
    CHECK(focal_loss_info(FOCAL_LOSS_LDAM)->params & FOCAL_PARAM_SCALE);
    CHECK(!focal_loss_info(FOCAL_LOSS_DB)->softmax && (focal_loss_info(FOCAL_LOSS_DB)->params & FOCAL_PARAM_DB_LAMBDA));
    CHECK(!(focal_loss_info(FOCAL_LOSS_CE)->params & FOCAL_PARAM_CLASS_PRIOR));
    CHECK(focal_loss_kind_for_task("db", FOCAL_TASK_MULTICLASS, &k) == FOCAL_ERR_ARG &&
          has("db is a sigmoid loss"));
    CHECK(focal_loss_kind_for_task("ldam", FOCAL_TASK_MULTILABEL, &k) == FOCAL_ERR_ARG &&
          has("ldam is a softmax loss"));
    CHECK(focal_loss_kind_for_task("focal", FOCAL_TASK_MULTICLASS, &k) == FOCAL_OK && k == FOCAL_LOSS_SOFTMAX_FOCAL);
    CHECK(focal_loss_kind_for_task("ce", FOCAL_TASK_BINARY, &k) == FOCAL_OK && k == FOCAL_LOSS_BCE);
    CHECK(focal_loss_kind_for_task("poly1", FOCAL_TASK_MULTILABEL, &k) == FOCAL_OK && k == FOCAL_LOSS_SIGMOID_POLY1);
    CHECK(focal_loss_kind_for_task("asl", FOCAL_TASK_MULTICLASS, &k) == FOCAL_ERR_ARG &&
          has("asl is a sigmoid loss; this multi-class data needs ce, focal (softmax-focal), poly1 (softmax-poly1), "
              "la, balanced-softmax or ldam"));
    CHECK(focal_loss_kind_for_task("hinge", FOCAL_TASK_BINARY, &k) == FOCAL_ERR_ARG && has("'hinge' is not a loss"));
    enum focal_task t = FOCAL_TASK_BINARY;
    CHECK(focal_task_parse("multilabel", &t) == FOCAL_OK && t == FOCAL_TASK_MULTILABEL);
    CHECK(focal_task_parse("multi-label", &t) == FOCAL_ERR_ARG && t == FOCAL_TASK_MULTILABEL &&
          has("unknown task 'multi-label'; expected one of binary, multiclass, multilabel"));
}

static int has(const char *needle)
{
    return strstr(focal_last_error(), needle) != NULL;
}

static void test_errors(void)
{
    struct focal_loss l;
    double x[4] = {0.1, 0.2, 0.3, 0.4}, y[4] = {0, 1, 0, 1}, g[4], loss;
    int32_t t[2] = {0, 1};

    focal_loss_init(&l, FOCAL_LOSS_SIGMOID_FOCAL);
    l.gamma = -1;
    CHECK(focal_sigmoid_loss_f64(&l, 2, 2, x, y, g, NULL, &loss) == FOCAL_ERR_ARG && has("gamma"));
    l.gamma = 2;
    l.alpha = 1.5;
    CHECK(focal_sigmoid_loss_f64(&l, 2, 2, x, y, g, NULL, &loss) == FOCAL_ERR_ARG && has("alpha"));
    l.alpha = NAN;
    CHECK(focal_sigmoid_loss_f64(&l, 2, 2, x, y, g, NULL, &loss) == FOCAL_ERR_ARG && has("alpha"));
    focal_loss_init(&l, FOCAL_LOSS_FOCAL_STAR);
    l.gamma = 0;
    CHECK(focal_sigmoid_loss_f64(&l, 2, 2, x, y, g, NULL, &loss) == FOCAL_ERR_ARG && has("gamma > 0"));
    focal_loss_init(&l, FOCAL_LOSS_ASL);
    l.margin = 1;
    CHECK(focal_sigmoid_loss_f64(&l, 2, 2, x, y, g, NULL, &loss) == FOCAL_ERR_ARG && has("margin"));
    focal_loss_init(&l, FOCAL_LOSS_CE);
    CHECK(focal_sigmoid_loss_f64(&l, 2, 2, x, y, g, NULL, &loss) == FOCAL_ERR_ARG && has("softmax"));
    l.label_smoothing = 1.5;
    CHECK(focal_softmax_loss_f64(&l, 2, 2, x, t, g, NULL, &loss) == FOCAL_ERR_ARG && has("smoothing"));
    focal_loss_init(&l, FOCAL_LOSS_CE);
    const double wneg[2] = {1, -2};
    l.class_weights = wneg;
    CHECK(focal_softmax_loss_f64(&l, 2, 2, x, t, g, NULL, &loss) == FOCAL_ERR_ARG && has("class weight 1"));
    l.class_weights = NULL;

    /* targets */
    int32_t tbad[2] = {0, 5};
    CHECK(focal_softmax_loss_f64(&l, 2, 2, x, tbad, g, NULL, &loss) == FOCAL_ERR_ARG && has("row 1") && has("5"));
    focal_loss_init(&l, FOCAL_LOSS_BCE);
    double ybad[4] = {0, 1, 2, 0};
    CHECK(focal_sigmoid_loss_f64(&l, 2, 2, x, ybad, g, NULL, &loss) == FOCAL_ERR_ARG && has("row 1, column 0"));
    ybad[2] = NAN;
    CHECK(focal_sigmoid_loss_f64(&l, 2, 2, x, ybad, g, NULL, &loss) == FOCAL_ERR_ARG && has("row 1, column 0"));

    /* non-finite logits: reported where they count, harmless where ignored */
    double xn[4] = {0.1, NAN, 0.3, 0.4};
    CHECK(focal_sigmoid_loss_f64(&l, 2, 2, xn, y, g, NULL, &loss) == FOCAL_ERR_NUMERIC && has("row 0, column 1"));
    double yi[4] = {0, -1, 0, 1};
    CHECK(focal_sigmoid_loss_f64(&l, 2, 2, xn, yi, g, NULL, &loss) == FOCAL_OK && isfinite(loss) && g[1] == 0);
    float xf[4] = {0.1f, 0.2f, INFINITY, 0.4f}, yf[4] = {0, 1, 0, 1}, gf[4];
    CHECK(focal_sigmoid_loss(&l, 2, 2, xf, yf, gf, NULL, &loss) == FOCAL_ERR_NUMERIC && has("row 1, column 0"));
    focal_loss_init(&l, FOCAL_LOSS_SOFTMAX_FOCAL);
    CHECK(focal_softmax_loss(&l, 2, 2, xf, t, gf, NULL, &loss) == FOCAL_ERR_NUMERIC && has("row 1"));

    /* the long-tail losses' parameters */
    const double prior[2] = {0.3, 0.01}, prior0[2] = {0.3, 0}, prior1[2] = {0.3, 1};
    focal_loss_init(&l, FOCAL_LOSS_LA);
    CHECK(focal_loss_check(&l, 2) == FOCAL_OK); /* the prior is the loss functions' to require */
    CHECK(focal_softmax_loss_f64(&l, 2, 2, x, t, g, NULL, &loss) == FOCAL_ERR_ARG && has("la: class_prior is NULL"));
    l.class_prior = prior0;
    CHECK(focal_softmax_loss_f64(&l, 2, 2, x, t, g, NULL, &loss) == FOCAL_ERR_ARG && has("class prior 1 is 0"));
    l.class_prior = prior;
    l.tau = -1;
    CHECK(focal_softmax_loss_f64(&l, 2, 2, x, t, g, NULL, &loss) == FOCAL_ERR_ARG && has("tau is -1"));
    l.tau = 1;
    CHECK(focal_softmax_loss_f64(&l, 2, 2, x, t, g, NULL, &loss) == FOCAL_OK);
    focal_loss_init(&l, FOCAL_LOSS_LDAM);
    l.class_prior = prior;
    l.scale = 0;
    CHECK(focal_softmax_loss_f64(&l, 2, 2, x, t, g, NULL, &loss) == FOCAL_ERR_ARG && has("scale is 0"));
    l.scale = 30;
    l.margin = -0.5;
    CHECK(focal_softmax_loss_f64(&l, 2, 2, x, t, g, NULL, &loss) == FOCAL_ERR_ARG && has("ldam: margin is -0.5"));
    l.margin = 2; /* any m_max >= 0: not ASL's [0,1) */
    CHECK(focal_softmax_loss_f64(&l, 2, 2, x, t, g, NULL, &loss) == FOCAL_OK);
    focal_loss_init(&l, FOCAL_LOSS_DB);
    CHECK(focal_sigmoid_loss_f64(&l, 2, 2, x, y, g, NULL, &loss) == FOCAL_ERR_ARG && has("db: class_prior is NULL"));
    l.class_prior = prior1;
    CHECK(focal_sigmoid_loss_f64(&l, 2, 2, x, y, g, NULL, &loss) == FOCAL_ERR_ARG && has("class prior 1 is 1") &&
          has("(0,1)"));
    l.class_prior = prior;
    l.db_lambda = 0;
    CHECK(focal_sigmoid_loss_f64(&l, 2, 2, x, y, g, NULL, &loss) == FOCAL_ERR_ARG && has("db-lambda is 0"));
    l.db_lambda = 2;
    l.db_alpha = -1;
    CHECK(focal_sigmoid_loss_f64(&l, 2, 2, x, y, g, NULL, &loss) == FOCAL_ERR_ARG && has("db-alpha"));
    l.db_alpha = 0.1;
    l.db_beta = NAN;
    CHECK(focal_sigmoid_loss_f64(&l, 2, 2, x, y, g, NULL, &loss) == FOCAL_ERR_ARG && has("db-beta"));
    l.db_beta = 10;
    l.db_mu = INFINITY;
    CHECK(focal_sigmoid_loss_f64(&l, 2, 2, x, y, g, NULL, &loss) == FOCAL_ERR_ARG && has("db-mu"));
    l.db_mu = 0.2;
    l.db_kappa = -1;
    CHECK(focal_sigmoid_loss_f64(&l, 2, 2, x, y, g, NULL, &loss) == FOCAL_ERR_ARG && has("db-kappa"));
    l.db_kappa = 0.05;
    CHECK(focal_sigmoid_loss_f64(&l, 2, 2, x, y, g, NULL, &loss) == FOCAL_OK && isfinite(loss));

    /* names */
    enum focal_loss_kind k;
    enum focal_reduction r;
    CHECK(focal_loss_kind_parse("softmax-poly1", &k) == FOCAL_OK && k == FOCAL_LOSS_SOFTMAX_POLY1);
    CHECK(focal_loss_kind_parse("focal", &k) == FOCAL_ERR_ARG && has("'focal'") && has("sigmoid-focal"));
    CHECK(focal_reduction_parse("positives", &r) == FOCAL_OK && r == FOCAL_REDUCTION_POSITIVES);
    CHECK(focal_reduction_parse("avg", &r) == FOCAL_ERR_ARG && has("'avg'"));
    for (int i = 0; i < FOCAL_LOSS_KIND_COUNT; i++) {
        CHECK(focal_loss_kind_parse(focal_loss_kind_name((enum focal_loss_kind)i), &k) == FOCAL_OK && (int)k == i);
    }
}

int main(void)
{
    printf("kernels: %s\n", focal_isa());
    test_gamma0_exact();
    test_focal_below_ce();
    test_finite_everywhere();
    test_threads_and_precision();
    test_saturated_relative();
    test_reductions();
    test_errors();
    test_no_grad_identical();
    test_longtail_reductions();
    test_info();
    return check_done("test_loss_props");
}
