/* test_mixup.c — mixup (src/train/mixup.c) against direct computations: λ's
 * distribution is Beta(α, α) (mean, variance, for α = 1 the uniform's
 * quartiles), the permutation is one and both are reproducible from the
 * seed; the mixed inputs are λ·x_i + (1 − λ)·x_perm(i); the partner targets
 * are the permuted rows; the mixed loss and gradient are λ·L(y) + (1 −
 * λ)·L(y_perm) for a softmax and a sigmoid (multi-label) loss; a training
 * step with λ = 1 is the plain step, bit for bit, and one with λ = 0.3
 * reports the mixed loss of its forward pass. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "focal.h"
#include "train/mixup.h"

#define TEST_NAME "test_mixup"

static uint64_t rs = 0x1234567887654321ull;

static void fill(float *x, size_t n, double lo, double hi)
{
    for (size_t i = 0; i < n; i++)
        x[i] = (float)(lo + (hi - lo) * check_urand(&rs));
}

/* λ's moments against Beta(α, α): mean 1/2, variance 1/(4(2α + 1)). */
static void test_draw(void)
{
    const double alphas[] = {0.2, 1.0, 4.0};
    enum { DRAWS = 20000, N = 9 };
    for (int a = 0; a < 3; a++) {
        double sum = 0, sq = 0, q1 = 0, q3 = 0;
        int perm_ok = 1, in_range = 1;
        for (int k = 0; k < DRAWS; k++) {
            int perm[N], seen[N] = {0};
            double lam;
            focal_mixup_draw(alphas[a], 1000 + (uint64_t)k, N, perm, &lam);
            for (int i = 0; i < N; i++)
                perm_ok &= perm[i] >= 0 && perm[i] < N && !seen[perm[i]]++;
            in_range &= lam >= 0 && lam <= 1;
            sum += lam;
            sq += lam * lam;
            q1 += lam < 0.25;
            q3 += lam < 0.75;
        }
        const double mean = sum / DRAWS, var = sq / DRAWS - mean * mean, want = 1.0 / (4 * (2 * alphas[a] + 1));
        CHECKF(perm_ok, "alpha %g: not a permutation", alphas[a]);
        CHECKF(in_range, "alpha %g: lambda outside [0, 1]", alphas[a]);
        /* the mean's standard error is below 0.0036 for these alphas */
        CHECKF(fabs(mean - 0.5) < 0.015, "alpha %g: mean %.4f, Beta's 0.5", alphas[a], mean);
        CHECKF(fabs(var / want - 1) < 0.05, "alpha %g: variance %.5f, Beta's %.5f", alphas[a], var, want);
        if (alphas[a] == 1.0)
            CHECKF(fabs(q1 / DRAWS - 0.25) < 0.015 && fabs(q3 / DRAWS - 0.75) < 0.015,
                   "alpha 1: P(l < 1/4) %.4f, P(l < 3/4) %.4f; the uniform's 0.25, 0.75", q1 / DRAWS, q3 / DRAWS);
    }
    int p1[16], p2[16];
    double l1, l2;
    focal_mixup_draw(0.4, 77, 16, p1, &l1);
    focal_mixup_draw(0.4, 77, 16, p2, &l2);
    CHECK(l1 == l2 && memcmp(p1, p2, sizeof p1) == 0);
    focal_mixup_draw(0.4, 78, 16, p2, &l2);
    CHECK(l1 != l2);
    double tiny;
    focal_mixup_draw(1e-6, 5, 16, p2, &tiny);
    CHECKF(tiny >= 0 && tiny <= 1 && isfinite(tiny), "alpha 1e-6: lambda %g", tiny);
}

/* Mixed inputs and partner targets against direct loops. */
static void test_batch(void)
{
    enum { N = 6, PER = 5, K = 3 };
    float x[N * PER], x0[N * PER], scratch[N * PER], yf[N * K], yfb[N * K];
    int32_t yi[N], yib[N];
    int perm[N];
    double lam;
    fill(x, N * PER, -3, 3);
    fill(yf, N * K, 0, 1);
    for (int i = 0; i < N; i++)
        yi[i] = i % K;
    memcpy(x0, x, sizeof x);
    focal_mixup_draw(0.4, 9, N, perm, &lam);
    focal_mixup_inputs(x, scratch, perm, N, PER, lam);
    double e = 0;
    for (int i = 0; i < N; i++)
        for (int k = 0; k < PER; k++)
            e = fmax(e, fabs(x[i * PER + k] - (lam * x0[i * PER + k] + (1 - lam) * x0[perm[i] * PER + k])));
    CHECKF(e < 1e-6, "mixed inputs: %.3g from the direct mix", e);
    focal_mixup_targets(yib, yi, perm, N, K, 1);
    focal_mixup_targets(yfb, yf, perm, N, K, 0);
    int same = 1;
    for (int i = 0; i < N; i++) {
        same &= yib[i] == yi[perm[i]];
        for (int j = 0; j < K; j++)
            same &= yfb[i * K + j] == yf[perm[i] * K + j];
    }
    CHECK(same);
}

/* The mixed loss and gradient against two separate evaluations. */
static void check_loss(enum focal_loss_kind kind, const void *ya, const void *yb, const char *what)
{
    enum { N = 5, K = 4 };
    float z[N * K], d[N * K], da[N * K], db[N * K], scratch[N * K];
    fill(z, N * K, -4, 4);
    struct focal_loss l;
    focal_loss_init(&l, kind);
    const int softmax = focal_loss_is_softmax(kind);
    double va, vb, v;
    CHECK((softmax ? focal_softmax_loss(&l, N, K, z, ya, da, NULL, &va)
                   : focal_sigmoid_loss(&l, N, K, z, ya, da, NULL, &va)) == FOCAL_OK);
    CHECK((softmax ? focal_softmax_loss(&l, N, K, z, yb, db, NULL, &vb)
                   : focal_sigmoid_loss(&l, N, K, z, yb, db, NULL, &vb)) == FOCAL_OK);
    const struct focal_mixup_batch mix = {yb, 0.3, scratch};
    CHECK(focal_mixup_loss(&l, N, K, z, ya, &mix, d, &v) == FOCAL_OK);
    CHECKF(fabs(v - (0.3 * va + 0.7 * vb)) <= 1e-12 * fabs(v), "%s: mixed loss %.17g, direct %.17g", what, v,
           0.3 * va + 0.7 * vb);
    double e = 0;
    for (int i = 0; i < N * K; i++)
        e = fmax(e, fabs(d[i] - (0.3 * da[i] + 0.7 * db[i])));
    CHECKF(e < 1e-7, "%s: mixed gradient %.3g from the direct mix", what, e);
    CHECK(focal_mixup_loss(&l, N, K, z, ya, NULL, d, &v) == FOCAL_OK && v == va && memcmp(d, da, sizeof d) == 0);
}

static void test_loss(void)
{
    const int32_t ya[5] = {0, 1, 2, 3, 1}, yb[5] = {3, 3, 0, 1, 2};
    check_loss(FOCAL_LOSS_SOFTMAX_FOCAL, ya, yb, "softmax-focal");
    check_loss(FOCAL_LOSS_CE, ya, yb, "ce");
    float fa[20], fb[20];
    for (int i = 0; i < 20; i++) {
        fa[i] = (float)(i % 3 == 0);
        fb[i] = (float)(i % 2 == 0);
    }
    check_loss(FOCAL_LOSS_SIGMOID_FOCAL, fa, fb, "sigmoid focal (multi-label)");
    check_loss(FOCAL_LOSS_ASL, fa, fb, "asl (multi-label)");
}

/* Two identical networks and SGD optimisers. */
static void make(struct focal_model **m, struct focal_optim **o)
{
    CHECK(focal_model_create(m, "flatten\ndense 6\nrelu\ndense classes\n", TEST_NAME, 5, 1, 1, 4,
                             FOCAL_HEAD_SOFTMAX, 8) == FOCAL_OK);
    CHECK(focal_model_init(*m, 3, 0) == FOCAL_OK);
    struct focal_optim_config c;
    focal_optim_defaults(&c, FOCAL_OPTIM_SGD);
    c.lr = 0.1;
    CHECK(focal_optim_create(o, &c, *m) == FOCAL_OK);
}

static void test_step(void)
{
    enum { N = 8, K = 4 };
    float x[N * 5], scratch[N * K];
    int32_t ya[N], yb[N];
    fill(x, sizeof x / sizeof x[0], -1, 1);
    for (int i = 0; i < N; i++)
        ya[i] = i % K, yb[i] = (i * 3 + 1) % K;
    struct focal_model *m1 = NULL, *m2 = NULL;
    struct focal_optim *o1 = NULL, *o2 = NULL;
    make(&m1, &o1);
    make(&m2, &o2);
    if (!m1 || !m2 || !o1 || !o2)
        goto out;
    struct focal_loss l;
    focal_loss_init(&l, FOCAL_LOSS_CE);
    double v1, v2;
    const struct focal_mixup_batch one = {yb, 1.0, scratch};
    CHECK(focal_train_step(m1, o1, &l, x, ya, N, &v1) == FOCAL_OK);
    CHECK(focal_train_step_mixed(m2, o2, &l, x, ya, &one, N, &v2) == FOCAL_OK);
    CHECK(v1 == v2);
    CHECK(memcmp(focal_model_params(m1), focal_model_params(m2), focal_model_num_params(m1) * sizeof(float)) == 0);
    /* λ = 0.3: the reported loss is the mix of the two losses of the same forward */
    const float *logits;
    float d[N * K];
    double va, vb, v;
    CHECK(focal_model_forward(m2, x, N, 0, &logits) == FOCAL_OK);
    CHECK(focal_softmax_loss(&l, N, K, logits, ya, d, NULL, &va) == FOCAL_OK);
    CHECK(focal_softmax_loss(&l, N, K, logits, yb, d, NULL, &vb) == FOCAL_OK);
    const struct focal_mixup_batch mix = {yb, 0.3, scratch};
    CHECK(focal_train_step_mixed(m2, o2, &l, x, ya, &mix, N, &v) == FOCAL_OK);
    CHECKF(fabs(v - (0.3 * va + 0.7 * vb)) <= 1e-12, "step loss %.17g, mix of the losses %.17g", v,
           0.3 * va + 0.7 * vb);
out:
    focal_optim_free(o1);
    focal_optim_free(o2);
    focal_model_free(m1);
    focal_model_free(m2);
}

int main(void)
{
    test_draw();
    test_batch();
    test_loss();
    test_step();
    return check_done(TEST_NAME);
}
