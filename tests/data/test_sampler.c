/* test_sampler.c — checks the epoch samplers: names, the class frequencies
 * each produces (oversample and undersample exactly equal, class-balanced
 * uniform within binomial tolerance, repeat-factor repeats matching r_i),
 * that orders use only the given samples, determinism per (seed, epoch), and
 * the refusals. Class counts are computed here, not by the library. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "focal.h"

#define TEST_NAME "test_sampler"
#define NCLASS 4
#define ML_LABELS 6

/* A multi-class dataset with class sizes 100, 30, 10, 3, interleaved. */
static const int class_size[NCLASS] = { 100, 30, 10, 3 };
static struct focal_dataset multiclass(void)
{
    struct focal_dataset d = { .task = FOCAL_TASK_MULTICLASS, .num_classes = NCLASS };
    for (int j = 0; j < NCLASS; j++)
        d.n += class_size[j];
    d.label = malloc((size_t)d.n * sizeof *d.label);
    int left[NCLASS];
    memcpy(left, class_size, sizeof left);
    for (int i = 0, j = 0; i < d.n; j = (j + 1) % NCLASS)
        if (left[j] > 0) {
            left[j]--;
            d.label[i++] = j;
        }
    return d;
}

/* counts[j] = occurrences of class j in order[0..len); occ[i] = occurrences of
 * sample i (d->n entries) when occ is not NULL. */
static void class_counts(const struct focal_dataset *d, const int *order, int len, long *counts, long *occ)
{
    memset(counts, 0, (size_t)d->num_classes * sizeof *counts);
    for (int k = 0; k < len; k++) {
        counts[d->label[order[k]]]++;
        if (occ)
            occ[order[k]]++;
    }
}

/* 1 if the two orders differ. */
static int differ(const int *a, int na, const int *b, int nb)
{
    return na != nb || memcmp(a, b, (size_t)na * sizeof *a) != 0;
}

/* Names round-trip; an unknown name lists every valid one. */
static void test_names(void)
{
    const char *names[] = { "shuffle", "oversample", "undersample", "class-balanced", "repeat-factor" };
    for (int k = 0; k < 5; k++) {
        enum focal_sampler s = FOCAL_SAMPLER_SHUFFLE;
        CHECK(focal_sampler_parse(names[k], &s) == FOCAL_OK);
        CHECK((int)s == k);
        CHECK(strcmp(focal_sampler_name(s), names[k]) == 0);
    }
    enum focal_sampler s;
    CHECK(focal_sampler_parse("balanced", &s) == FOCAL_ERR_ARG);
    const char *msg = focal_last_error();
    CHECK(strstr(msg, "'balanced'") != NULL);
    for (int k = 0; k < 5; k++)
        CHECKF(strstr(msg, names[k]) != NULL, "the message '%s' does not list %s", msg, names[k]);
    CHECK(focal_sampler_parse(NULL, &s) == FOCAL_ERR_ARG);
    CHECK(strcmp(focal_sampler_name((enum focal_sampler)99), "unknown") == 0);
}

/* Every kind: same (seed, epoch) gives the same order, another epoch or seed
 * another; every entry is one of the given samples. */
static void test_determinism(void)
{
    struct focal_dataset d = multiclass();
    int idx[80];
    for (int k = 0; k < 80; k++)
        idx[k] = (k * 37 + 5) % d.n;   /* 80 distinct samples, scrambled */
    for (int kind = 0; kind < 5; kind++) {
        int *a, *b, *c, *e, na, nb, nc, ne;
        CHECK(focal_sampler_epoch((enum focal_sampler)kind, &d, idx, 80, 42, 3, 0.3, &a, &na) == FOCAL_OK);
        CHECK(focal_sampler_epoch((enum focal_sampler)kind, &d, idx, 80, 42, 3, 0.3, &b, &nb) == FOCAL_OK);
        CHECK(focal_sampler_epoch((enum focal_sampler)kind, &d, idx, 80, 42, 4, 0.3, &c, &nc) == FOCAL_OK);
        CHECK(focal_sampler_epoch((enum focal_sampler)kind, &d, idx, 80, 43, 3, 0.3, &e, &ne) == FOCAL_OK);
        CHECKF(!differ(a, na, b, nb), "%s: the same epoch gave two orders", focal_sampler_name(kind));
        CHECKF(differ(a, na, c, nc), "%s: epochs 3 and 4 gave the same order", focal_sampler_name(kind));
        CHECKF(differ(a, na, e, ne), "%s: seeds 42 and 43 gave the same order", focal_sampler_name(kind));
        int foreign = 0;
        for (int k = 0; k < na; k++) {
            int found = 0;
            for (int t = 0; t < 80 && !found; t++)
                found = a[k] == idx[t];
            foreign += !found;
        }
        CHECKF(foreign == 0, "%s: %d entries are not among the given samples", focal_sampler_name(kind), foreign);
        free(a);
        free(b);
        free(c);
        free(e);
    }
    free(d.label);
}

/* Shuffle: a permutation; oversample and undersample: every class equally
 * often, each member within one of the others of its class. */
static void test_shuffle_and_resampling(void)
{
    struct focal_dataset d = multiclass();
    int *order, len;
    long counts[NCLASS], *occ = calloc((size_t)d.n, sizeof *occ);

    CHECK(focal_sampler_epoch(FOCAL_SAMPLER_SHUFFLE, &d, NULL, d.n, 1, 0, 0, &order, &len) == FOCAL_OK);
    CHECK(len == d.n);
    class_counts(&d, order, len, counts, occ);
    int once = 0, in_order = 1;
    for (int i = 0; i < d.n; i++) {
        once += occ[i] == 1;
        in_order &= order[i] == i;
    }
    CHECK(once == d.n && !in_order);
    free(order);

    memset(occ, 0, (size_t)d.n * sizeof *occ);
    CHECK(focal_sampler_epoch(FOCAL_SAMPLER_OVERSAMPLE, &d, NULL, d.n, 2, 0, 0, &order, &len) == FOCAL_OK);
    CHECK(len == NCLASS * 100);
    class_counts(&d, order, len, counts, occ);
    for (int j = 0; j < NCLASS; j++)
        CHECKF(counts[j] == 100, "oversample: class %d drawn %ld times; expected 100", j, counts[j]);
    int uneven = 0;
    for (int i = 0; i < d.n; i++) {
        const long q = 100 / class_size[d.label[i]];
        uneven += occ[i] != q && occ[i] != q + 1;
    }
    CHECKF(uneven == 0, "oversample: %d samples not repeated floor(m/c) or +1 times", uneven);
    free(order);

    memset(occ, 0, (size_t)d.n * sizeof *occ);
    CHECK(focal_sampler_epoch(FOCAL_SAMPLER_UNDERSAMPLE, &d, NULL, d.n, 3, 0, 0, &order, &len) == FOCAL_OK);
    CHECK(len == NCLASS * 3);
    class_counts(&d, order, len, counts, occ);
    int repeated = 0;
    for (int i = 0; i < d.n; i++)
        repeated += occ[i] > 1;
    for (int j = 0; j < NCLASS; j++)
        CHECKF(counts[j] == 3, "undersample: class %d drawn %ld times; expected 3", j, counts[j]);
    CHECK(repeated == 0);
    free(order);

    /* Undersampling visits different majority samples from epoch to epoch. */
    memset(occ, 0, (size_t)d.n * sizeof *occ);
    for (int epoch = 0; epoch < 50; epoch++) {
        CHECK(focal_sampler_epoch(FOCAL_SAMPLER_UNDERSAMPLE, &d, NULL, d.n, 3, epoch, 0, &order, &len) == FOCAL_OK);
        class_counts(&d, order, len, counts, occ);
        free(order);
    }
    int seen = 0;
    for (int i = 0; i < d.n; i++)
        seen += d.label[i] == 0 && occ[i] > 0;
    CHECKF(seen > 60, "undersample: only %d of 100 majority samples seen in 50 epochs", seen);
    free(occ);
    free(d.label);
}

/* |count − N p| within 5 binomial standard deviations. */
static int binomial_ok(long count, long trials, double p)
{
    return fabs((double)count - trials * p) <= 5.0 * sqrt(trials * p * (1 - p));
}

/* Class-balanced: multi-class classes uniform over many epochs; multi-label
 * groups (labels with positives and the samples with none) uniform. */
static void test_class_balanced(void)
{
    struct focal_dataset d = multiclass();
    const int epochs = 200;
    long counts[NCLASS], total[NCLASS] = { 0 }, *occ = calloc((size_t)d.n, sizeof *occ);
    for (int epoch = 0; epoch < epochs; epoch++) {
        int *order, len;
        CHECK(focal_sampler_epoch(FOCAL_SAMPLER_CLASS_BALANCED, &d, NULL, d.n, 9, epoch, 0, &order, &len) ==
              FOCAL_OK);
        CHECK(len == d.n);
        class_counts(&d, order, len, counts, occ);
        for (int j = 0; j < NCLASS; j++)
            total[j] += counts[j];
        free(order);
    }
    const long draws = (long)epochs * d.n;
    for (int j = 0; j < NCLASS; j++)
        CHECKF(binomial_ok(total[j], draws, 1.0 / NCLASS), "class-balanced: class %d drawn %ld of %ld", j, total[j],
               draws);
    /* The rarest class's 3 members share its draws evenly. */
    for (int i = 0; i < d.n; i++)
        if (d.label[i] == NCLASS - 1)
            CHECKF(binomial_ok(occ[i], total[NCLASS - 1], 1.0 / 3), "class-balanced: sample %d drawn %ld of %ld", i,
                   occ[i], total[NCLASS - 1]);
    free(occ);
    free(d.label);

    /* Multi-label: labels 0..3 with 200, 50, 10, 2 single-label samples, label 4
     * with none, 40 samples with no label: 5 groups, each 1/5 of the draws. */
    const int sizes[5] = { 200, 50, 10, 2, 40 };
    struct focal_dataset m = { .task = FOCAL_TASK_MULTILABEL, .num_classes = ML_LABELS };
    for (int g = 0; g < 5; g++)
        m.n += sizes[g];
    m.labels = calloc((size_t)m.n * ML_LABELS, 1);
    int *group = malloc((size_t)m.n * sizeof *group);
    for (int g = 0, i = 0; g < 5; g++)
        for (int k = 0; k < sizes[g]; k++, i++) {
            group[i] = g;
            if (g < 4)
                m.labels[i * ML_LABELS + g] = 1;
        }
    long gcount[5] = { 0 };
    for (int epoch = 0; epoch < epochs; epoch++) {
        int *order, len;
        CHECK(focal_sampler_epoch(FOCAL_SAMPLER_CLASS_BALANCED, &m, NULL, m.n, 5, epoch, 0, &order, &len) ==
              FOCAL_OK);
        for (int k = 0; k < len; k++)
            gcount[group[order[k]]]++;
        free(order);
    }
    for (int g = 0; g < 5; g++)
        CHECKF(binomial_ok(gcount[g], (long)epochs * m.n, 0.2), "multi-label class-balanced: group %d drawn %ld of %ld",
               g, gcount[g], (long)epochs * m.n);
    free(group);
    free(m.labels);
}

/* Repeat-factor on a long-tailed multi-label dataset: each sample's mean
 * repeats per epoch match r_i (exactly for whole r_i), and samples of the
 * rarest label appear more than those of the commonest. */
static void test_repeat_factor(void)
{
    const int n = 400, epochs = 400;
    const double t = 0.2;
    uint64_t rs = 0x77;
    struct focal_dataset m = { .task = FOCAL_TASK_MULTILABEL, .n = n, .num_classes = ML_LABELS };
    m.labels = calloc((size_t)n * ML_LABELS, 1);
    const double prob[ML_LABELS] = { 0.5, 0.2, 0.05, 0.01, 0.2, 0.0 };   /* label 5: none */
    int freq[ML_LABELS] = { 0 };
    for (int i = 0; i < n; i++)
        for (int j = 0; j < ML_LABELS; j++) {
            m.labels[i * ML_LABELS + j] = check_urand(&rs) < prob[j];
            freq[j] += m.labels[i * ML_LABELS + j];
        }
    CHECKF(freq[3] > 0 && freq[5] == 0, "test data: label 3 has %d positives, label 5 %d", freq[3], freq[5]);

    double *r = malloc((size_t)n * sizeof *r);
    long *occ = calloc((size_t)n, sizeof *occ);
    int *whole_bad = calloc((size_t)n, sizeof *whole_bad);
    for (int i = 0; i < n; i++) {
        r[i] = 1.0;
        for (int j = 0; j < ML_LABELS; j++)
            if (m.labels[i * ML_LABELS + j])
                r[i] = fmax(r[i], fmax(1.0, sqrt(t / ((double)freq[j] / n))));
    }
    double expected_len = 0;
    for (int i = 0; i < n; i++)
        expected_len += r[i];
    long total_len = 0;
    for (int epoch = 0; epoch < epochs; epoch++) {
        int *order, len;
        CHECK(focal_sampler_epoch(FOCAL_SAMPLER_REPEAT_FACTOR, &m, NULL, n, 21, epoch, t, &order, &len) == FOCAL_OK);
        long *this_epoch = calloc((size_t)n, sizeof *this_epoch);
        for (int k = 0; k < len; k++)
            this_epoch[order[k]]++;
        for (int i = 0; i < n; i++) {
            occ[i] += this_epoch[i];
            whole_bad[i] |= this_epoch[i] != (long)floor(r[i]) && this_epoch[i] != (long)floor(r[i]) + 1;
        }
        total_len += len;
        free(this_epoch);
        free(order);
    }
    int off = 0, bad_rounding = 0;
    for (int i = 0; i < n; i++) {
        const double p = r[i] - floor(r[i]), mean = (double)occ[i] / epochs;
        off += fabs(mean - r[i]) > 5.0 * sqrt(p * (1 - p) / epochs) + 1e-12;
        bad_rounding += whole_bad[i];
    }
    CHECKF(off == 0, "repeat-factor: %d samples repeated off their r_i", off);
    CHECKF(bad_rounding == 0, "repeat-factor: %d samples repeated other than floor(r_i) or +1 in an epoch",
           bad_rounding);
    CHECKF(fabs((double)total_len / epochs - expected_len) < 0.01 * expected_len,
           "repeat-factor: mean epoch %.1f; expected %.1f", (double)total_len / epochs, expected_len);

    /* Rare-label samples appear more often than samples of label 0 alone. */
    double rare = 0, common = 0;
    int nrare = 0, ncommon = 0;
    for (int i = 0; i < n; i++) {
        int labels = 0;
        for (int j = 0; j < ML_LABELS; j++)
            labels += m.labels[i * ML_LABELS + j];
        if (m.labels[i * ML_LABELS + 3]) {
            rare += occ[i];
            nrare++;
        } else if (labels == 1 && m.labels[i * ML_LABELS]) {
            common += occ[i];
            ncommon++;
        }
    }
    CHECKF(nrare > 0 && ncommon > 0 && rare / nrare > 2.0 * common / ncommon,
           "repeat-factor: rare-label samples %.2f per epoch vs common %.2f", rare / nrare / epochs,
           common / ncommon / epochs);
    printf("%s: repeat-factor t=%.1f: rare-label samples %.2f, label-0-only samples %.2f per epoch\n", TEST_NAME, t,
           rare / nrare / epochs, common / ncommon / epochs);
    free(r);
    free(occ);
    free(whole_bad);
    free(m.labels);
}

/* Refusals: over/undersampling multi-label data, bad thresholds, no samples,
 * bad indices and classes, an unknown kind; *order NULL afterwards. */
static void test_errors(void)
{
    uint8_t labels[4 * 2] = { 1, 0, 0, 1, 1, 1, 0, 0 };
    struct focal_dataset m = { .task = FOCAL_TASK_MULTILABEL, .n = 4, .num_classes = 2, .labels = labels };
    int *order = (int *)&m, len = -1;
    CHECK(focal_sampler_epoch(FOCAL_SAMPLER_OVERSAMPLE, &m, NULL, 4, 1, 0, 0, &order, &len) == FOCAL_ERR_ARG);
    CHECK(order == NULL && len == 0);
    CHECK(strstr(focal_last_error(), "oversample") && strstr(focal_last_error(), "multi-label"));
    CHECK(focal_sampler_epoch(FOCAL_SAMPLER_UNDERSAMPLE, &m, NULL, 4, 1, 0, 0, &order, &len) == FOCAL_ERR_ARG);
    CHECK(strstr(focal_last_error(), "undersample") != NULL);
    CHECK(focal_sampler_epoch(FOCAL_SAMPLER_REPEAT_FACTOR, &m, NULL, 4, 1, 0, 0.0, &order, &len) == FOCAL_ERR_ARG);
    CHECK(strstr(focal_last_error(), "threshold") != NULL);
    CHECK(focal_sampler_epoch(FOCAL_SAMPLER_REPEAT_FACTOR, &m, NULL, 4, 1, 0, NAN, &order, &len) == FOCAL_ERR_ARG);
    CHECK(focal_sampler_epoch(FOCAL_SAMPLER_SHUFFLE, &m, NULL, 0, 1, 0, 0, &order, &len) == FOCAL_ERR_ARG);
    CHECK(focal_sampler_epoch((enum focal_sampler)7, &m, NULL, 4, 1, 0, 0, &order, &len) == FOCAL_ERR_ARG);
    const int bad[2] = { 1, -1 };
    CHECK(focal_sampler_epoch(FOCAL_SAMPLER_SHUFFLE, &m, bad, 2, 1, 0, 0, &order, &len) == FOCAL_ERR_ARG);
    CHECK(strstr(focal_last_error(), "index -1") != NULL);
    CHECK(order == NULL);
    /* Repeat-factor and class-balanced fit multi-label data. */
    CHECK(focal_sampler_epoch(FOCAL_SAMPLER_REPEAT_FACTOR, &m, NULL, 4, 1, 0, 0.5, &order, &len) == FOCAL_OK);
    CHECK(len >= 4);
    free(order);

    int32_t label[3] = { 0, 1, 2 };
    struct focal_dataset b = { .task = FOCAL_TASK_BINARY, .n = 3, .num_classes = 2, .label = label };
    CHECK(focal_sampler_epoch(FOCAL_SAMPLER_OVERSAMPLE, &b, NULL, 3, 1, 0, 0, &order, &len) == FOCAL_ERR_ARG);
    CHECK(strstr(focal_last_error(), "sample 2 has class 2") != NULL);
    CHECK(focal_sampler_epoch(FOCAL_SAMPLER_OVERSAMPLE, &b, NULL, 2, 1, 0, 0, &order, &len) == FOCAL_OK);
    CHECK(len == 2);
    free(order);
}

/* Long-tailed subsets: class c keeps floor(n_max ρ^(−c/(C−1))), at least 1
 * and at most what it has, in the order of idx; seeded; in place. */
static void test_long_tail(void)
{
    struct focal_dataset d = multiclass();
    int *out = malloc((size_t)d.n * sizeof *out), *again = malloc((size_t)d.n * sizeof *again);
    int n_out, n_again;
    long counts[NCLASS];
    /* ρ = 10 over 4 classes from sizes 100, 30, 10, 3: 100, 46, 21, 10 wanted */
    CHECK(focal_long_tail_subset(&d, NULL, d.n, 10.0, 9, out, &n_out) == FOCAL_OK);
    class_counts(&d, out, n_out, counts, NULL);
    CHECKF(counts[0] == 100 && counts[1] == 30 && counts[2] == 10 && counts[3] == 3,
           "rho 10 keeps everything that is below the curve: %ld %ld %ld %ld", counts[0], counts[1], counts[2],
           counts[3]);
    CHECK(focal_long_tail_subset(&d, NULL, d.n, 1000.0, 9, out, &n_out) == FOCAL_OK);
    class_counts(&d, out, n_out, counts, NULL);
    /* 100, floor(100·1000^(−1/3)) = 10, floor(100·1000^(−2/3)) = 1, 1 */
    CHECKF(counts[0] == 100 && counts[1] == 10 && counts[2] == 1 && counts[3] == 1 && n_out == 112,
           "rho 1000: %ld %ld %ld %ld", counts[0], counts[1], counts[2], counts[3]);
    int ordered = 1;
    for (int k = 1; k < n_out; k++)
        ordered &= out[k] > out[k - 1];
    CHECK(ordered);
    CHECK(focal_long_tail_subset(&d, NULL, d.n, 1000.0, 9, again, &n_again) == FOCAL_OK);
    CHECK(n_again == n_out && memcmp(out, again, (size_t)n_out * sizeof *out) == 0);
    CHECK(focal_long_tail_subset(&d, NULL, d.n, 1000.0, 10, again, &n_again) == FOCAL_OK);
    CHECK(n_again == n_out && memcmp(out, again, (size_t)n_out * sizeof *out) != 0);
    /* in place over an index list */
    for (int i = 0; i < d.n; i++)
        again[i] = i;
    CHECK(focal_long_tail_subset(&d, again, d.n, 1000.0, 9, again, &n_again) == FOCAL_OK);
    CHECK(n_again == n_out && memcmp(out, again, (size_t)n_out * sizeof *out) == 0);
    CHECK(focal_long_tail_subset(&d, NULL, d.n, 0.5, 9, out, &n_out) == FOCAL_ERR_ARG);
    free(out);
    free(again);
    free(d.label);
}

int main(void)
{
    test_names();
    test_determinism();
    test_shuffle_and_resampling();
    test_class_balanced();
    test_repeat_factor();
    test_errors();
    test_long_tail();
    return check_done(TEST_NAME);
}
