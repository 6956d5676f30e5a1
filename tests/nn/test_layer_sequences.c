/* test_layer_sequences.c — finite-difference checks of whole networks built
 * from every pair and every triple of adjacent layer kinds the network format
 * accepts. The model fuses neighbouring layers (a ReLU into the convolution or
 * batch norm before it, a ReLU's backward into the batch norm after it), so a
 * wrong gradient can hide in a combination that no single-layer test builds;
 * here every combination is built behind a convolution, whose weight
 * gradient carries whatever flows back through the sequence, and its gradient
 * must equal that of the same network with no layer fused, and (pairs) agree
 * with central differences. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "focal.h"
#include "base/rng.h"
#include "nn/model_internal.h"

static const char *const kinds[] = {
    "conv 4 3",          "batchnorm",        "relu",    "leakyrelu slope=0.1", "maxpool 2 stride=1",
    "avgpool 2 stride=1 pad=1", "gap", "dropout 0.3", "flatten", "dense 5", "block 4",
    "dense-norm 5", /* last: checked in a pass of its own (main) */
};
enum { NKINDS = sizeof kinds / sizeof kinds[0] };

enum { N = 3, C = 2, H = 6, W = 6, K = 3 };

/* Builds the network `prefix` + the sequence + a finisher that makes it end
 * in logits (none, or gap, before `dense classes`); NULL when the format does
 * not accept the sequence in any of those forms. */
static struct focal_model *build(const char *prefix, const int *seq, int len, char *desc, size_t cap)
{
    static const char *const finish[] = {"dense classes\n", "gap\ndense classes\n"};
    for (int f = 0; f < 2; f++) {
        size_t off = (size_t)snprintf(desc, cap, "%s", prefix);
        for (int i = 0; i < len; i++)
            off += (size_t)snprintf(desc + off, cap - off, "%s\n", kinds[seq[i]]);
        snprintf(desc + off, cap - off, "%s", finish[f]);
        struct focal_model *m = NULL;
        if (focal_model_create(&m, desc, "sequence", C, H, W, K, FOCAL_HEAD_SIGMOID, N) == FOCAL_OK)
            return m;
    }
    return NULL;
}

/* L = Σ logits·dout of a training-mode forward with the dropout generator
 * reset to `rng`, so every forward draws the same masks. */
static double objective(struct focal_model *m, const struct focal_rng *rng, const float *x, const float *dout)
{
    *focal_model_rng(m) = *rng;
    const float *logits;
    if (focal_model_forward(m, x, N, 1, &logits) != FOCAL_OK)
        return NAN;
    double acc = 0;
    for (int i = 0; i < N * K; i++)
        acc += (double)logits[i] * dout[i];
    return acc;
}

/* Central differences of 5 entries of every parameter tensor of m, relative
 * errors with a floor of 2e-2 in the denominator for the float32 noise of
 * the forward pass. A step can cross a ReLU or max-pool switch (a bias moves
 * a whole channel), so single entries may be off; returns the fraction of
 * entries within 5e-2, and in *worst the largest per-tensor median. */
static double gradcheck(struct focal_model *m, uint64_t *rs, const float *x, const float *dout, double *worst_med,
                        const char **worst_tensor)
{
    const struct focal_rng rng = *focal_model_rng(m);
    const float *logits;
    if (focal_model_forward(m, x, N, 1, &logits) != FOCAL_OK)
        return 0;
    focal_model_zero_grad(m);
    if (focal_model_backward(m, dout, N) != FOCAL_OK)
        return 0;
    const size_t np = focal_model_num_params(m);
    float *p = focal_model_params(m);
    float *g = malloc(np * sizeof *g);
    if (!g)
        return 0;
    memcpy(g, focal_model_grads(m), np * sizeof *g);
    double worst = 0;
    int within = 0, sampled = 0;
    for (size_t t = 0; t < focal_model_num_tensors(m); t++) {
        struct focal_tensor_info ti;
        focal_model_tensor(m, t, &ti);
        if (ti.role == FOCAL_TENSOR_BUFFER)
            continue;
        double errs[5];
        int ne = 0;
        for (size_t s = 0; s < ti.numel && s < 5; s++) {
            const size_t j = (size_t)(ti.data - p) + (s * 7919 + (size_t)(check_urand(rs) * 97)) % ti.numel;
            const float save = p[j];
            const float hstep = 2e-3f;
            p[j] = save + hstep;
            const double lp = objective(m, &rng, x, dout);
            p[j] = save - hstep;
            const double lm = objective(m, &rng, x, dout);
            p[j] = save;
            const double num = (lp - lm) / (2.0 * hstep);
            errs[ne] = fabs(num - g[j]) / (fmax(fabs(num), fabs(g[j])) + 2e-2);
            within += errs[ne++] < 5e-2;
            sampled++;
        }
        for (int i = 1; i < ne; i++)
            for (int q = i; q > 0 && errs[q] < errs[q - 1]; q--) {
                const double tmp = errs[q];
                errs[q] = errs[q - 1];
                errs[q - 1] = tmp;
            }
        if (ne && !(errs[ne / 2] <= worst)) {
            worst = errs[ne / 2];
            *worst_tensor = ti.name;
        }
    }
    free(g);
    *worst_med = worst;
    return sampled ? (double)within / sampled : 0;
}

/* The same network with "dropout 0" after every layer: an identity in both
 * directions that draws no random numbers, so no two layers are adjacent and
 * none is fused. Given m's parameters and generator, its gradient is what the
 * layers' own forward and backward functions (each checked by test_layers)
 * give; m's must equal it up to float32 rounding. Returns the worst relative
 * difference of a tensor, max |g − g'| / max |g'|. */
static double compare_unfused(struct focal_model *m, const char *desc, const float *x, const float *dout,
                              const char **worst_tensor)
{
    char twin_desc[1024];
    size_t off = 0;
    for (const char *s = desc; *s && off + 16 < sizeof twin_desc; s++) {
        twin_desc[off++] = *s;
        if (*s == '\n' && s[1] && strncmp(s + 1, "dense classes", 13) != 0)
            off += (size_t)snprintf(twin_desc + off, sizeof twin_desc - off, "dropout 0\n");
    }
    twin_desc[off] = 0;
    struct focal_model *u = NULL;
    if (focal_model_create(&u, twin_desc, "unfused", C, H, W, K, FOCAL_HEAD_SIGMOID, N) != FOCAL_OK)
        return INFINITY;
    double worst = INFINITY;
    const size_t np = focal_model_num_params(m);
    if (focal_model_num_params(u) != np || focal_model_num_tensors(u) != focal_model_num_tensors(m))
        goto out;
    for (size_t t = 0; t < focal_model_num_tensors(m); t++) {
        struct focal_tensor_info a, b;
        focal_model_tensor(m, t, &a);
        focal_model_tensor(u, t, &b);
        if (a.numel != b.numel)
            goto out;
        memcpy(b.data, a.data, a.numel * sizeof *a.data);
    }
    const struct focal_rng rng = *focal_model_rng(m);
    const float *lm, *lu;
    *focal_model_rng(m) = rng;
    *focal_model_rng(u) = rng;
    if (focal_model_forward(m, x, N, 1, &lm) != FOCAL_OK || focal_model_forward(u, x, N, 1, &lu) != FOCAL_OK)
        goto out;
    focal_model_zero_grad(m);
    focal_model_zero_grad(u);
    if (focal_model_backward(m, dout, N) != FOCAL_OK || focal_model_backward(u, dout, N) != FOCAL_OK)
        goto out;
    worst = 0;
    const float *gm = focal_model_grads(m), *gu = focal_model_grads(u);
    for (size_t t = 0; t < focal_model_num_tensors(m); t++) {
        struct focal_tensor_info ti;
        focal_model_tensor(m, t, &ti);
        if (ti.role == FOCAL_TENSOR_BUFFER)
            continue;
        const size_t o = (size_t)(ti.data - focal_model_params(m));
        double diff = 0, scale = 0;
        for (size_t j = 0; j < ti.numel; j++) {
            diff = fmax(diff, fabs((double)gm[o + j] - gu[o + j]));
            scale = fmax(scale, fabs((double)gu[o + j]));
        }
        const double rel = diff / (scale + 1e-12);
        if (!(rel <= worst)) {
            worst = rel;
            *worst_tensor = ti.name;
        }
    }
out:
    focal_model_free(u);
    return worst;
}

/* Every sequence of `len` of the first nk kinds after `prefix` (with
 * `must` >= 0: only those holding that kind): the accepted ones must give
 * the unfused network's gradient and, for pairs, agree with central
 * differences (deeper float32 networks are too noisy for them; the unfused
 * comparison is exact enough at any depth). Returns how many were accepted. */
static int check_sequences(const char *prefix, int len, int nk, int must, uint64_t *rs, double worst_all[2])
{
    int seq[3] = {0, 0, 0}, accepted = 0, total = 1;
    for (int i = 0; i < len; i++)
        total *= nk;
    char desc[512];
    for (int code = 0; code < total; code++) {
        int has = must < 0;
        for (int i = 0, v = code; i < len; i++, v /= nk) {
            seq[i] = v % nk;
            has |= seq[i] == must;
        }
        if (!has)
            continue;
        struct focal_model *m = build(prefix, seq, len, desc, sizeof desc);
        if (!m)
            continue;
        accepted++;
        CHECK(focal_model_init(m, 11 + (uint64_t)code, -1) == FOCAL_OK);
        float x[N * C * H * W], dout[N * K];
        for (size_t i = 0; i < sizeof x / sizeof x[0]; i++)
            x[i] = (float)(check_urand(rs) * 2 - 1);
        for (int i = 0; i < N * K; i++)
            dout[i] = (float)(check_urand(rs) * 2 - 1);
        const char *t_unfused = "", *t_fd = "";
        const double unfused = compare_unfused(m, desc, x, dout, &t_unfused);
        double fd = 0;
        const double share = len <= 2 ? gradcheck(m, rs, x, dout, &fd, &t_fd) : 1.0;
        for (char *q = desc; *q; q++)
            if (*q == '\n')
                *q = '/';
        CHECKF(unfused < 1e-4, "network %s: %s differs from the unfused network's gradient by %.3g of its largest "
               "entry", desc, t_unfused, unfused);
        CHECKF(share >= 0.75, "network %s: only %.0f%% of the parameters checked agree with central differences "
               "within 5e-2 (worst tensor %s, median error %.3g)", desc, 100 * share, t_fd, fd);
        if (unfused > worst_all[0])
            worst_all[0] = unfused;
        if (fd > worst_all[1])
            worst_all[1] = fd;
        focal_model_free(m);
    }
    return accepted;
}

int main(void)
{
    uint64_t rs = 0x9e3779b97f4a7c15ull;
    double worst[2] = {0, 0};
    /* pairs at the network's input and behind a convolution; triples behind it */
    const int pairs_first = check_sequences("", 2, NKINDS - 1, -1, &rs, worst);
    const int pairs = check_sequences("conv 4 3\n", 2, NKINDS - 1, -1, &rs, worst);
    const int triples = check_sequences("conv 4 3\n", 3, NKINDS - 1, -1, &rs, worst);
    CHECKF(pairs_first > 20 && pairs > 20 && triples > 200, "too few networks accepted: %d, %d, %d", pairs_first,
           pairs, triples);
    /* the normalised dense layer (last in kinds) next to every other kind, from a stream of its own */
    uint64_t rs_norm = 0x6a09e667f3bcc909ull;
    const int norm_pairs = check_sequences("conv 4 3\n", 2, NKINDS, NKINDS - 1, &rs_norm, worst) +
                           check_sequences("conv 4 3\ngap\n", 2, NKINDS, NKINDS - 1, &rs_norm, worst);
    const int norm_triples = check_sequences("conv 4 3\n", 3, NKINDS, NKINDS - 1, &rs_norm, worst);
    CHECKF(norm_pairs > 10 && norm_triples > 20, "too few networks with dense-norm accepted: %d, %d", norm_pairs,
           norm_triples);
    printf("layer sequences: %d pairs first, %d pairs and %d triples behind a convolution (%d and %d more with "
           "dense-norm); worst difference from the unfused network %.3g, worst median error against central "
           "differences %.3g\n", pairs_first, pairs, triples, norm_pairs, norm_triples, worst[0], worst[1]);
    printf("test_layer_sequences: %d checks, %d failed\n", check_count, check_failed);
    return check_failed != 0;
}
