/* split.c — seeded stratified train/validation/test splits and k-fold
 * assignment.
 *
 * One algorithm serves every task: iterative stratification (Sechidis,
 * Tsoumakas and Vlahavas, "On the stratification of multi-label data", 2011).
 * Each fold j wants a fraction r_j of the samples and, for every label l, the
 * same fraction of l's positives. Labels are taken in order of fewest
 * positives still unplaced; each unplaced positive of the label goes to the
 * fold that still wants most of that label, ties broken by the fold that still
 * wants most samples overall, then at random. Samples without a positive label
 * go last, each to the fold that still wants most samples.
 *
 * For binary and multi-class data every sample has exactly one class, so this
 * is per-class dealing: the members of each class, in a seeded random order,
 * are handed out one by one to the fold furthest below its share of that
 * class. A fold's count of a class then differs from its exact share by less
 * than one (the largest share is always above zero while members remain, so
 * no share is overdrawn by a whole sample, and the shares sum to the class
 * size, so none is left a whole sample short). */
#include <assert.h>
#include <stdlib.h>

#include "focal/data.h"
#include "base/internal.h"
#include "base/rng.h"

/* Mixed into the seed so that a split and a sampler given the same seed draw
 * unrelated streams. */
#define SPLIT_STREAM 0x53504c4954ull

/* The state of one stratification of n samples into `folds` folds over
 * `labels` label columns. */
struct strat {
    const struct focal_dataset *d;
    const int *idx;          /* the samples, or NULL for 0..n-1 */
    int n, folds, labels;
    double *want;            /* folds: samples each fold still wants */
    double *want_label;      /* labels × folds: positives of each label each fold still wants */
    int *unplaced;           /* labels: positives not yet in a fold */
    int *perm;               /* n: the seeded order in which samples are visited */
    int *fold;               /* n: the fold of sample k, or −1 */
    struct focal_rng rng;
};

/* The dataset row of sample k. */
static int row_of(const struct strat *s, int k)
{
    return s->idx ? s->idx[k] : k;
}

/* 1 if sample k is a positive of label l. */
static int has_label(const struct strat *s, int k, int l)
{
    const int i = row_of(s, k);
    if (s->d->task == FOCAL_TASK_MULTILABEL)
        return s->d->labels[(size_t)i * (size_t)s->labels + (size_t)l] != 0;
    return s->d->label[i] == l;
}

/* Checks that every sample index and class is in range and counts each
 * label's positives into s->unplaced. FOCAL_ERR_ARG naming the first bad
 * sample. */
static focal_status count_labels(struct strat *s)
{
    const struct focal_dataset *d = s->d;
    if (d->task == FOCAL_TASK_MULTILABEL ? !d->labels : !d->label)
        return focal_fail(FOCAL_ERR_ARG, "the dataset has no labels for its task");
    for (int k = 0; k < s->n; k++) {
        const int i = row_of(s, k);
        if (i < 0 || i >= d->n)
            return focal_fail(FOCAL_ERR_ARG, "sample %d is index %d; the dataset has %d samples", k, i, d->n);
        if (d->task == FOCAL_TASK_MULTILABEL) {
            for (int l = 0; l < s->labels; l++)
                s->unplaced[l] += has_label(s, k, l);
        } else if (d->label[i] < 0 || d->label[i] >= s->labels) {
            return focal_fail(FOCAL_ERR_ARG, "sample %d has class %d; expected 0..%d", i, (int)d->label[i],
                              s->labels - 1);
        } else {
            s->unplaced[d->label[i]]++;
        }
    }
    return FOCAL_OK;
}

/* The fold that wants most by primary[], ties broken by secondary[] (NULL:
 * none), remaining ties uniformly at random. */
static int pick_fold(struct strat *s, const double *primary, const double *secondary)
{
    int best = 0, ties = 1;
    for (int j = 1; j < s->folds; j++) {
        int cmp = (primary[j] > primary[best]) - (primary[j] < primary[best]);
        if (cmp == 0 && secondary)
            cmp = (secondary[j] > secondary[best]) - (secondary[j] < secondary[best]);
        if (cmp > 0) {
            best = j;
            ties = 1;
        } else if (cmp == 0 && focal_rng_below(&s->rng, ++ties) == 0) {
            best = j;
        }
    }
    return best;
}

/* Puts sample k into fold j and takes it off what j still wants. */
static void place(struct strat *s, int k, int j)
{
    s->fold[k] = j;
    s->want[j] -= 1.0;
    for (int l = 0; l < s->labels; l++) {
        if (has_label(s, k, l)) {
            s->want_label[(size_t)l * (size_t)s->folds + (size_t)j] -= 1.0;
            s->unplaced[l]--;
        }
    }
}

/* The label with the fewest unplaced positives (at least one), lowest index
 * first; −1 when every positive is placed. */
static int rarest_label(const struct strat *s)
{
    int best = -1;
    for (int l = 0; l < s->labels; l++)
        if (s->unplaced[l] > 0 && (best < 0 || s->unplaced[l] < s->unplaced[best]))
            best = l;
    return best;
}

/* Assigns each of the n samples idx[0..n) (NULL: 0..n-1) of d to one of
 * `folds` folds, fold j wanting the fraction frac[j] (summing to 1), into
 * fold[0..n). */
static focal_status stratify(const struct focal_dataset *d, const int *idx, int n, int folds, const double *frac,
                             uint64_t seed, int *fold)
{
    assert(d && n >= 0 && folds >= 1 && frac && (fold || n == 0));
    if (d->num_classes < 1)
        return focal_fail(FOCAL_ERR_ARG, "the dataset has %d classes; expected at least 1", d->num_classes);
    struct strat s = { .d = d, .idx = idx, .n = n, .folds = folds, .labels = d->num_classes, .fold = fold };
    focal_status st = FOCAL_OK;
    s.want = malloc((size_t)folds * sizeof *s.want);
    s.want_label = malloc((size_t)s.labels * (size_t)folds * sizeof *s.want_label);
    s.unplaced = calloc((size_t)s.labels, sizeof *s.unplaced);
    s.perm = malloc(((size_t)n + 1) * sizeof *s.perm);
    if (!s.want || !s.want_label || !s.unplaced || !s.perm) {
        st = focal_fail(FOCAL_ERR_NOMEM, "out of memory for a split of %d samples", n);
        goto out_free;
    }
    st = count_labels(&s);
    if (st != FOCAL_OK)
        goto out_free;

    focal_rng_seed(&s.rng, seed ^ SPLIT_STREAM);
    for (int k = 0; k < n; k++) {
        const int t = focal_rng_below(&s.rng, k + 1);   /* inside-out Fisher–Yates */
        s.perm[k] = t < k ? s.perm[t] : k;
        s.perm[t] = k;
        fold[k] = -1;
    }
    for (int j = 0; j < folds; j++) {
        s.want[j] = (double)n * frac[j];
        for (int l = 0; l < s.labels; l++)
            s.want_label[(size_t)l * (size_t)folds + (size_t)j] = (double)s.unplaced[l] * frac[j];
    }

    for (int l; (l = rarest_label(&s)) >= 0;) {
        const double *want_l = s.want_label + (size_t)l * (size_t)folds;
        for (int t = 0; t < n && s.unplaced[l] > 0; t++) {
            const int k = s.perm[t];
            if (fold[k] < 0 && has_label(&s, k, l))
                place(&s, k, pick_fold(&s, want_l, s.want));
        }
    }
    for (int t = 0; t < n; t++) {
        const int k = s.perm[t];
        if (fold[k] < 0)
            place(&s, k, pick_fold(&s, s.want, NULL));
    }

out_free:
    free(s.want);
    free(s.want_label);
    free(s.unplaced);
    free(s.perm);
    return st;
}

focal_status focal_split_stratified(const struct focal_dataset *d, const int *idx, int n, double val_frac,
                                    double test_frac, uint64_t seed, uint8_t *split_out)
{
    assert(d && n >= 0 && (split_out || n == 0));
    if (!(val_frac >= 0 && test_frac >= 0 && val_frac + test_frac < 1))
        return focal_fail(FOCAL_ERR_ARG,
                          "validation fraction %g and test fraction %g: each must be >= 0 and their sum < 1",
                          val_frac, test_frac);
    const double frac[3] = {
        [FOCAL_SPLIT_TRAIN] = 1.0 - val_frac - test_frac,
        [FOCAL_SPLIT_VAL] = val_frac,
        [FOCAL_SPLIT_TEST] = test_frac,
    };
    int *fold = malloc(((size_t)n + 1) * sizeof *fold);
    if (!fold)
        return focal_fail(FOCAL_ERR_NOMEM, "out of memory for a split of %d samples", n);
    const focal_status st = stratify(d, idx, n, 3, frac, seed, fold);
    if (st == FOCAL_OK)
        for (int k = 0; k < n; k++)
            split_out[k] = (uint8_t)fold[k];
    free(fold);
    return st;
}

focal_status focal_split_kfold(const struct focal_dataset *d, const int *idx, int n, int folds, uint64_t seed,
                               int *fold_out)
{
    assert(d && n >= 0);
    if (folds < 2 || folds > n)
        return focal_fail(FOCAL_ERR_ARG, "%d folds for %d samples; expected 2 to %d folds", folds, n,
                          n < 2 ? 2 : n);
    double *frac = malloc((size_t)folds * sizeof *frac);
    if (!frac)
        return focal_fail(FOCAL_ERR_NOMEM, "out of memory for %d folds", folds);
    for (int j = 0; j < folds; j++)
        frac[j] = 1.0 / folds;
    const focal_status st = stratify(d, idx, n, folds, frac, seed, fold_out);
    free(frac);
    return st;
}
