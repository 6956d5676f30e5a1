/* test_split.c — checks the stratified train/validation/test split and the
 * k-fold assignment: every sample placed exactly once, per-class counts within
 * one of their exact shares (binary and multi-class), every label with enough
 * positives present in every fold and a label distribution closer to the exact
 * shares than a plain random split (multi-label), determinism, and the
 * refusals of bad arguments. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "focal.h"

#define TEST_NAME "test_split"
#define MAX_FOLDS 8
#define ML_LABELS 20

/* A single-label dataset of n samples whose classes, counts[0..c) of each,
 * are interleaved in a random order (binary when c = 2 and binary is set). */
static struct focal_dataset single_label(const int *counts, int c, int binary, uint64_t *rs)
{
    struct focal_dataset d = { .task = binary ? FOCAL_TASK_BINARY : FOCAL_TASK_MULTICLASS, .num_classes = c };
    for (int j = 0; j < c; j++)
        d.n += counts[j];
    d.label = malloc((size_t)d.n * sizeof *d.label);
    for (int j = 0, i = 0; j < c; j++)
        for (int m = 0; m < counts[j]; m++)
            d.label[i++] = j;
    for (int i = d.n - 1; i > 0; i--) {
        const int t = (int)(check_urand(rs) * (i + 1));
        const int32_t v = d.label[i];
        d.label[i] = d.label[t];
        d.label[t] = v;
    }
    return d;
}

/* A multi-label dataset of n samples and ML_LABELS long-tailed labels: label j
 * is positive with probability 0.35 / (j + 1)^1.4, so the last labels have a
 * handful of positives and some samples have none. */
static struct focal_dataset multi_label(int n, uint64_t *rs)
{
    struct focal_dataset d = { .task = FOCAL_TASK_MULTILABEL, .n = n, .num_classes = ML_LABELS };
    d.labels = calloc((size_t)n * ML_LABELS, 1);
    for (int i = 0; i < n; i++)
        for (int j = 0; j < ML_LABELS; j++)
            d.labels[i * ML_LABELS + j] = check_urand(rs) < 0.35 / pow(j + 1, 1.4);
    return d;
}

/* 1 if row i of d is a positive of class (label) j. */
static int positive(const struct focal_dataset *d, int i, int j)
{
    return d->task == FOCAL_TASK_MULTILABEL ? d->labels[i * d->num_classes + j] != 0 : d->label[i] == j;
}

/* cnt[f * c + j] = positives of class j among the samples idx[k] with
 * fold[k] = f; size[f] = samples in fold f. Checks every fold is in range. */
static void tally(const struct focal_dataset *d, const int *idx, int n, const int *fold, int folds, int *cnt,
                  int *size)
{
    const int c = d->num_classes;
    memset(cnt, 0, (size_t)folds * (size_t)c * sizeof *cnt);
    memset(size, 0, (size_t)folds * sizeof *size);
    int bad = 0;
    for (int k = 0; k < n; k++) {
        const int i = idx ? idx[k] : k, f = fold[k];
        if (f < 0 || f >= folds) {
            bad++;
            continue;
        }
        size[f]++;
        for (int j = 0; j < c; j++)
            cnt[f * c + j] += positive(d, i, j);
    }
    CHECKF(bad == 0, "%d samples with a fold outside 0..%d", bad, folds - 1);
}

/* Checks that every class's count in every fold is within 1 of its exact
 * share frac[f] · (class size), for up to 8 classes, and returns the largest deviation of a fold's
 * size from its exact share. */
static double check_class_shares(const struct focal_dataset *d, const int *idx, int n, const int *fold, int folds,
                                 const double *frac, const char *what)
{
    int cnt[MAX_FOLDS * 8], size[MAX_FOLDS], total[8] = { 0 };
    const int c = d->num_classes;
    tally(d, idx, n, fold, folds, cnt, size);
    for (int f = 0; f < folds; f++)
        for (int j = 0; j < c; j++)
            total[j] += cnt[f * c + j];
    double worst = 0, worst_size = 0;
    for (int f = 0; f < folds; f++) {
        for (int j = 0; j < c; j++)
            worst = fmax(worst, fabs(cnt[f * c + j] - frac[f] * total[j]));
        worst_size = fmax(worst_size, fabs(size[f] - frac[f] * n));
    }
    CHECKF(worst < 1.0, "%s: a class count is %.3f from its exact share", what, worst);
    return worst_size;
}

/* 1 if the two assignments differ somewhere. */
static int differ(const int *a, const int *b, int n)
{
    return memcmp(a, b, (size_t)n * sizeof *a) != 0;
}

/* Multi-class and binary train/val/test splits: shares, completeness,
 * determinism, an index subset, a zero fraction. */
static void test_single_label_split(void)
{
    uint64_t rs = 0x1234567;
    const int counts[5] = { 500, 250, 150, 80, 20 };
    struct focal_dataset d = single_label(counts, 5, 0, &rs);
    const double frac[3] = { 0.7, 0.15, 0.15 };
    uint8_t *s8 = malloc((size_t)d.n), *s8b = malloc((size_t)d.n);
    int *fold = malloc((size_t)d.n * sizeof *fold);

    CHECK(focal_split_stratified(&d, NULL, d.n, 0.15, 0.15, 7, s8) == FOCAL_OK);
    for (int k = 0; k < d.n; k++)
        fold[k] = s8[k];
    const double off = check_class_shares(&d, NULL, d.n, fold, 3, frac, "multi-class split");
    CHECKF(off <= 5.0, "a split's size is %.2f from its share (5 classes)", off);

    CHECK(focal_split_stratified(&d, NULL, d.n, 0.15, 0.15, 7, s8b) == FOCAL_OK);
    CHECK(memcmp(s8, s8b, (size_t)d.n) == 0);
    CHECK(focal_split_stratified(&d, NULL, d.n, 0.15, 0.15, 8, s8b) == FOCAL_OK);
    CHECK(memcmp(s8, s8b, (size_t)d.n) != 0);

    /* A subset in a scrambled order: split_out follows idx. */
    const int m = d.n / 2;
    int *idx = malloc((size_t)m * sizeof *idx);
    for (int k = 0; k < m; k++)
        idx[k] = (int)(((long)k * 7919 + 13) % d.n);
    CHECK(focal_split_stratified(&d, idx, m, 0.2, 0.1, 3, s8) == FOCAL_OK);
    for (int k = 0; k < m; k++)
        fold[k] = s8[k];
    const double frac2[3] = { 0.7, 0.2, 0.1 };
    check_class_shares(&d, idx, m, fold, 3, frac2, "subset split");

    /* val_frac = 0: nobody in validation. */
    CHECK(focal_split_stratified(&d, NULL, d.n, 0.0, 0.25, 5, s8) == FOCAL_OK);
    int in_val = 0;
    for (int k = 0; k < d.n; k++)
        in_val += s8[k] == FOCAL_SPLIT_VAL;
    CHECKF(in_val == 0, "%d samples in a validation split of fraction 0", in_val);

    /* Binary, 990 : 10, 80/10/10: the positives split exactly 8/1/1. */
    const int bcounts[2] = { 990, 10 };
    struct focal_dataset b = single_label(bcounts, 2, 1, &rs);
    int cnt[6], size[3];
    for (int seed = 0; seed < 5; seed++) {
        CHECK(focal_split_stratified(&b, NULL, b.n, 0.1, 0.1, (uint64_t)seed, s8) == FOCAL_OK);
        for (int k = 0; k < b.n; k++)
            fold[k] = s8[k];
        tally(&b, NULL, b.n, fold, 3, cnt, size);
        CHECKF(cnt[1] == 8 && cnt[3] == 1 && cnt[5] == 1, "binary positives %d/%d/%d; expected 8/1/1", cnt[1],
               cnt[3], cnt[5]);
        CHECKF(size[0] == 800 && size[1] == 100 && size[2] == 100, "binary sizes %d/%d/%d", size[0], size[1],
               size[2]);
    }
    free(b.label);
    free(idx);
    free(fold);
    free(s8);
    free(s8b);
    free(d.label);
}

/* Multi-class k-fold: shares within 1, determinism, seeds differ. */
static void test_single_label_kfold(void)
{
    uint64_t rs = 0xabcdef;
    const int counts[4] = { 311, 97, 23, 6 };
    struct focal_dataset d = single_label(counts, 4, 0, &rs);
    int *fold = malloc((size_t)d.n * sizeof *fold), *again = malloc((size_t)d.n * sizeof *again);
    for (int folds = 2; folds <= 5; folds++) {
        double frac[MAX_FOLDS];
        for (int f = 0; f < folds; f++)
            frac[f] = 1.0 / folds;
        CHECK(focal_split_kfold(&d, NULL, d.n, folds, 11, fold) == FOCAL_OK);
        const double off = check_class_shares(&d, NULL, d.n, fold, folds, frac, "multi-class k-fold");
        CHECKF(off <= 2.0, "%d folds: a fold's size is %.2f from n/k", folds, off);
        CHECK(focal_split_kfold(&d, NULL, d.n, folds, 11, again) == FOCAL_OK);
        CHECK(!differ(fold, again, d.n));
        CHECK(focal_split_kfold(&d, NULL, d.n, folds, 12, again) == FOCAL_OK);
        CHECK(differ(fold, again, d.n));
    }
    free(fold);
    free(again);
    free(d.label);
}

/* The label-distribution deviation: Σ over labels and folds of |positives −
 * exact share|, less the least that whole counts allow (a label with t
 * positives, t = q·folds + r, is best split into r folds of q + 1 and the rest
 * of q), so that a perfect split scores 0. */
static double label_excess(const struct focal_dataset *d, const int *fold, int folds)
{
    int cnt[MAX_FOLDS * ML_LABELS], size[MAX_FOLDS];
    tally(d, NULL, d->n, fold, folds, cnt, size);
    double excess = 0;
    for (int j = 0; j < ML_LABELS; j++) {
        int total = 0;
        for (int f = 0; f < folds; f++)
            total += cnt[f * ML_LABELS + j];
        const double share = (double)total / folds, up = share - floor(share);
        for (int f = 0; f < folds; f++)
            excess += fabs(cnt[f * ML_LABELS + j] - share);
        excess -= (total % folds) * (1 - up) + (folds - total % folds) * up;
    }
    return excess;
}

/* Multi-label k-fold: every label with >= k positives in every fold, fold
 * sizes near n/k, a smaller label deviation than a random split. */
static void test_multi_label_kfold(void)
{
    uint64_t rs = 0x5eed;
    const int folds = 5;
    struct focal_dataset d = multi_label(1500, &rs);
    int *fold = malloc((size_t)d.n * sizeof *fold), *rnd = malloc((size_t)d.n * sizeof *rnd);
    int *again = malloc((size_t)d.n * sizeof *again);
    int total[ML_LABELS] = { 0 }, none = 0, rare = 0;
    for (int i = 0; i < d.n; i++) {
        int any = 0;
        for (int j = 0; j < ML_LABELS; j++) {
            total[j] += d.labels[i * ML_LABELS + j];
            any |= d.labels[i * ML_LABELS + j];
        }
        none += !any;
    }
    for (int j = 0; j < ML_LABELS; j++)
        rare += total[j] >= folds && total[j] < 4 * folds;
    CHECKF(none > 0 && total[ML_LABELS - 1] < 4 * folds && rare >= 3,
           "test data: %d samples without labels, rarest label %d positives, %d rare labels", none,
           total[ML_LABELS - 1], rare);

    double worst_it = 0, best_rn = 1e300;
    for (uint64_t seed = 1; seed <= 5; seed++) {
        CHECK(focal_split_kfold(&d, NULL, d.n, folds, seed, fold) == FOCAL_OK);
        int cnt[MAX_FOLDS * ML_LABELS], size[MAX_FOLDS];
        tally(&d, NULL, d.n, fold, folds, cnt, size);
        for (int f = 0; f < folds; f++) {
            CHECKF(abs(size[f] - d.n / folds) <= 3, "seed %d: fold %d holds %d of %d samples", (int)seed, f,
                   size[f], d.n);
            for (int j = 0; j < ML_LABELS; j++)
                CHECKF(total[j] < folds || cnt[f * ML_LABELS + j] > 0,
                       "seed %d: label %d (%d positives) absent from fold %d", (int)seed, j, total[j], f);
        }
        /* A plain random split: a seeded permutation dealt out in turn. */
        for (int k = 0; k < d.n; k++)
            rnd[k] = k % folds;
        for (int k = d.n - 1; k > 0; k--) {
            const int t = (int)(check_urand(&rs) * (k + 1));
            const int v = rnd[k];
            rnd[k] = rnd[t];
            rnd[t] = v;
        }
        const double it = label_excess(&d, fold, folds), rn = label_excess(&d, rnd, folds);
        CHECKF(it < 0.25 * rn, "seed %d: label deviation beyond rounding %.3f (iterative) vs %.3f (random)",
               (int)seed, it, rn);
        worst_it = fmax(worst_it, it);
        best_rn = fmin(best_rn, rn);
        CHECK(focal_split_kfold(&d, NULL, d.n, folds, seed, again) == FOCAL_OK);
        CHECK(!differ(fold, again, d.n));
    }
    printf("%s: multi-label 5-fold, label counts beyond rounding: iterative at most %.2f, random at least %.2f\n",
           TEST_NAME, worst_it, best_rn);
    free(fold);
    free(rnd);
    free(again);
    free(d.labels);
}

/* Multi-label train/val/test: each split holds every label whose exact share
 * there is at least 1, and no split's label count is off by 2 or more. */
static void test_multi_label_split(void)
{
    uint64_t rs = 0xfeed;
    struct focal_dataset d = multi_label(2000, &rs);
    uint8_t *s8 = malloc((size_t)d.n);
    int *fold = malloc((size_t)d.n * sizeof *fold), cnt[3 * ML_LABELS], size[3];
    const double frac[3] = { 0.7, 0.15, 0.15 };
    CHECK(focal_split_stratified(&d, NULL, d.n, 0.15, 0.15, 99, s8) == FOCAL_OK);
    for (int k = 0; k < d.n; k++)
        fold[k] = s8[k];
    tally(&d, NULL, d.n, fold, 3, cnt, size);
    double worst = 0;
    for (int j = 0; j < ML_LABELS; j++) {
        const int total = cnt[j] + cnt[ML_LABELS + j] + cnt[2 * ML_LABELS + j];
        for (int f = 0; f < 3; f++) {
            const double share = frac[f] * total;
            worst = fmax(worst, fabs(cnt[f * ML_LABELS + j] - share));
            CHECKF(share < 1 || cnt[f * ML_LABELS + j] > 0, "label %d (%d positives) absent from split %d", j,
                   total, f);
        }
    }
    CHECKF(worst < 2.0, "a label's count in a split is %.2f from its share", worst);
    for (int f = 0; f < 3; f++)
        CHECKF(fabs(size[f] - frac[f] * d.n) <= 0.01 * d.n, "split %d holds %d of %d", f, size[f], d.n);
    free(s8);
    free(fold);
    free(d.labels);
}

/* Refusals: bad fractions and fold counts, indices and classes out of range. */
static void test_errors(void)
{
    int32_t label[4] = { 0, 1, 1, 0 };
    struct focal_dataset d = { .task = FOCAL_TASK_BINARY, .n = 4, .num_classes = 2, .label = label };
    uint8_t s8[4];
    int fold[4];
    CHECK(focal_split_stratified(&d, NULL, 4, 0.5, 0.5, 1, s8) == FOCAL_ERR_ARG);
    CHECK(strstr(focal_last_error(), "sum < 1") != NULL);
    CHECK(focal_split_stratified(&d, NULL, 4, -0.1, 0.2, 1, s8) == FOCAL_ERR_ARG);
    CHECK(focal_split_stratified(&d, NULL, 4, NAN, 0.2, 1, s8) == FOCAL_ERR_ARG);
    CHECK(focal_split_kfold(&d, NULL, 4, 1, 1, fold) == FOCAL_ERR_ARG);
    CHECK(focal_split_kfold(&d, NULL, 4, 5, 1, fold) == FOCAL_ERR_ARG);
    CHECK(strstr(focal_last_error(), "5 folds for 4 samples") != NULL);
    CHECK(focal_split_kfold(&d, NULL, 4, 4, 1, fold) == FOCAL_OK);
    const int bad_idx[2] = { 0, 4 };
    CHECK(focal_split_stratified(&d, bad_idx, 2, 0.25, 0.25, 1, s8) == FOCAL_ERR_ARG);
    CHECK(strstr(focal_last_error(), "index 4") != NULL);
    label[2] = 2;
    CHECK(focal_split_kfold(&d, NULL, 4, 2, 1, fold) == FOCAL_ERR_ARG);
    CHECK(strstr(focal_last_error(), "sample 2 has class 2") != NULL);
    label[2] = 1;
    CHECK(focal_split_stratified(&d, NULL, 0, 0.25, 0.25, 1, s8) == FOCAL_OK);
    d.task = FOCAL_TASK_MULTILABEL;
    CHECK(focal_split_kfold(&d, NULL, 4, 2, 1, fold) == FOCAL_ERR_ARG);
    CHECK(strstr(focal_last_error(), "no labels") != NULL);
}

int main(void)
{
    test_single_label_split();
    test_single_label_kfold();
    test_multi_label_kfold();
    test_multi_label_split();
    test_errors();
    return check_done(TEST_NAME);
}
