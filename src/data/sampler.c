/* sampler.c — one epoch's order of the training samples: a plain shuffle,
 * random over- and undersampling, class-balanced sampling, and repeat-factor
 * sampling (Gupta, Dollár and Girshick, "LVIS: A Dataset for Large Vocabulary
 * Instance Segmentation", 2019). Every epoch draws from a generator seeded by
 * (seed, epoch) alone, so an order can be recomputed, e.g. on resume. */
#include <assert.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "focal/data.h"
#include "base/internal.h"
#include "base/names.h"
#include "base/rng.h"

/* Mixed into the epoch's seed so that samplers draw a stream of their own. */
#define SAMPLER_STREAM 0x53414d504c4552ull

static const char *const sampler_names[] = {
    [FOCAL_SAMPLER_SHUFFLE] = "shuffle",
    [FOCAL_SAMPLER_OVERSAMPLE] = "oversample",
    [FOCAL_SAMPLER_UNDERSAMPLE] = "undersample",
    [FOCAL_SAMPLER_CLASS_BALANCED] = "class-balanced",
    [FOCAL_SAMPLER_REPEAT_FACTOR] = "repeat-factor",
};
#define N_SAMPLERS ((int)(sizeof sampler_names / sizeof sampler_names[0]))

FOCAL_DEFINE_NAMES(focal_sampler_name, focal_sampler_parse, enum focal_sampler, "sampler",
                   FOCAL_NAMES(sampler_names))

/* The samples grouped by class: groups 0..num_classes-1 hold each class's
 * members (multi-label: each label's positives, so a sample can sit in
 * several), group num_classes the multi-label samples with no positive label.
 * Members are dataset indices, in the order of idx. */
struct groups {
    int count;               /* num_classes + 1 */
    int *off;                /* count + 1: group g is members[off[g] .. off[g+1]) */
    int *members;
};

/* Everything one epoch's draw needs. */
struct draw {
    const struct focal_dataset *d;
    const int *idx;          /* NULL: samples 0..n-1 */
    int n;
    struct groups g;
    struct focal_rng rng;
    int *out;                /* the epoch's order, len entries */
    int len;
};

/* The dataset row of sample k. */
static int row_at(const struct draw *w, int k)
{
    return w->idx ? w->idx[k] : k;
}

/* Size of group j. */
static int group_size(const struct groups *g, int j)
{
    return g->off[j + 1] - g->off[j];
}

/* Shuffles a[0..len) uniformly (Fisher–Yates). */
static void shuffle(int *a, int len, struct focal_rng *r)
{
    for (int k = len - 1; k > 0; k--) {
        const int t = focal_rng_below(r, k + 1);
        const int v = a[k];
        a[k] = a[t];
        a[t] = v;
    }
}

/* Writes k distinct members of a[0..c) chosen uniformly to out, reordering a
 * (a partial Fisher–Yates). k <= c. */
static void pick_distinct(int *a, int c, int k, struct focal_rng *r, int *out)
{
    for (int t = 0; t < k; t++) {
        const int s = t + focal_rng_below(r, c - t);
        const int v = a[s];
        a[s] = a[t];
        a[t] = v;
        out[t] = v;
    }
}

/* Seeds r from (seed, epoch): the epoch is hashed through the generator's own
 * seeding, and the hash mixed into the seed. */
static void epoch_rng(struct focal_rng *r, uint64_t seed, int epoch)
{
    struct focal_rng h;
    focal_rng_seed(&h, (uint64_t)(uint32_t)epoch ^ SAMPLER_STREAM);
    focal_rng_seed(r, seed ^ focal_rng_next(&h));
}

/* Groups the samples of w by class into w->g (see struct groups), checking
 * each sample index and class. FOCAL_ERR_ARG naming the first bad sample,
 * FOCAL_ERR_NOMEM. */
static focal_status group_samples(struct draw *w)
{
    const struct focal_dataset *d = w->d;
    const int multilabel = d->task == FOCAL_TASK_MULTILABEL;
    const int c = d->num_classes;
    if (c < 1)
        return focal_fail(FOCAL_ERR_ARG, "the dataset has %d classes; expected at least 1", c);
    if (multilabel ? !d->labels : !d->label)
        return focal_fail(FOCAL_ERR_ARG, "the dataset has no labels for its task");
    struct groups *g = &w->g;
    g->count = c + 1;
    g->off = calloc((size_t)g->count + 1, sizeof *g->off);
    if (!g->off)
        return focal_fail(FOCAL_ERR_NOMEM, "out of memory for %d classes", c);
    /* Pass 1 counts group g's size into off[g + 1]; after the prefix sum
     * off[g] is g's start, and pass 2 fills members using it as g's cursor,
     * which leaves it at g's end, i.e. at g + 1's start: one shift restores it. */
    for (int pass = 1; pass <= 2; pass++) {
        for (int k = 0; k < w->n; k++) {
            const int i = row_at(w, k);
            if (pass == 1 && (i < 0 || i >= d->n))
                return focal_fail(FOCAL_ERR_ARG, "sample %d is index %d; the dataset has %d samples", k, i, d->n);
            int any = 0;
            for (int j = 0; j < c; j++) {
                const int pos = multilabel ? d->labels[(size_t)i * (size_t)c + (size_t)j] != 0 : d->label[i] == j;
                if (pos && pass == 1)
                    g->off[j + 1]++;
                else if (pos)
                    g->members[g->off[j]++] = i;
                any |= pos;
            }
            if (!any && !multilabel)
                return focal_fail(FOCAL_ERR_ARG, "sample %d has class %d; expected 0..%d", i, (int)d->label[i],
                                  c - 1);
            if (!any && pass == 1)
                g->off[c + 1]++;
            else if (!any)
                g->members[g->off[c]++] = i;
        }
        if (pass == 1) {
            for (int j = 0; j < g->count; j++)
                g->off[j + 1] += g->off[j];
            g->members = malloc(((size_t)g->off[g->count] + 1) * sizeof *g->members);
            if (!g->members)
                return focal_fail(FOCAL_ERR_NOMEM, "out of memory for the classes of %d samples", w->n);
        }
    }
    memmove(g->off + 1, g->off, (size_t)g->count * sizeof *g->off);
    g->off[0] = 0;
    return FOCAL_OK;
}

/* Allocates w->out for len entries. FOCAL_ERR_ARG if len does not fit an int. */
static focal_status alloc_order(struct draw *w, long long len, const char *what)
{
    if (len > INT_MAX)
        return focal_fail(FOCAL_ERR_ARG, "%s: an epoch of %lld samples is more than %d", what, len, INT_MAX);
    w->out = malloc(((size_t)len + 1) * sizeof *w->out);
    if (!w->out)
        return focal_fail(FOCAL_ERR_NOMEM, "%s: out of memory for an epoch of %lld samples", what, len);
    w->len = (int)len;
    return FOCAL_OK;
}

/* Every sample once. */
static focal_status draw_shuffle(struct draw *w)
{
    focal_status st = alloc_order(w, w->n, "shuffle");
    for (int k = 0; st == FOCAL_OK && k < w->n; k++)
        w->out[k] = row_at(w, k);
    return st;
}

/* Oversampling (more = 1): each non-empty class grows to the largest class's
 * size m: every member floor(m/c) times, and m mod c distinct members chosen at
 * random once more. Undersampling (more = 0): m distinct members drawn at
 * random from each non-empty class, m the smallest non-empty class's size. */
static focal_status draw_resample(struct draw *w, int more)
{
    const struct groups *g = &w->g;
    int m = more ? 0 : INT_MAX, classes = 0;
    for (int j = 0; j < g->count; j++) {
        const int c = group_size(g, j);
        if (c > 0) {
            m = more ? (c > m ? c : m) : (c < m ? c : m);
            classes++;
        }
    }
    focal_status st = alloc_order(w, (long long)m * classes, more ? "oversample" : "undersample");
    int *out = w->out;
    for (int j = 0; st == FOCAL_OK && j < g->count; j++) {
        int *a = g->members + g->off[j];
        const int c = group_size(g, j);
        if (c == 0)
            continue;
        for (int copy = 0; copy < m / c; copy++, out += c)
            memcpy(out, a, (size_t)c * sizeof *a);
        pick_distinct(a, c, m % c, &w->rng, out);
        out += m % c;
    }
    return st;
}

/* n draws, each of a group chosen uniformly among the non-empty ones (the
 * classes; multi-label: the labels with positives and the group of samples
 * with none), then of a member of it uniformly. */
static focal_status draw_class_balanced(struct draw *w)
{
    const struct groups *g = &w->g;
    int *nonempty = malloc((size_t)g->count * sizeof *nonempty);
    if (!nonempty)
        return focal_fail(FOCAL_ERR_NOMEM, "class-balanced: out of memory");
    int groups = 0;
    for (int j = 0; j < g->count; j++)
        if (group_size(g, j) > 0)
            nonempty[groups++] = j;
    focal_status st = alloc_order(w, w->n, "class-balanced");
    for (int k = 0; st == FOCAL_OK && k < w->n; k++) {
        const int j = nonempty[focal_rng_below(&w->rng, groups)];
        w->out[k] = g->members[g->off[j] + focal_rng_below(&w->rng, group_size(g, j))];
    }
    free(nonempty);
    return st;
}

/* Each sample i appears floor(r_i) times, plus once more with probability
 * r_i − floor(r_i), where r_i = max over i's labels j of max(1, sqrt(t / f_j)),
 * f_j the fraction of the samples that are positives of j, and r_i = 1 for a
 * sample with no positive label. */
static focal_status draw_repeat_factor(struct draw *w, double t)
{
    const struct focal_dataset *d = w->d;
    const int c = d->num_classes;
    double *r_label = malloc((size_t)c * sizeof *r_label);
    int *times = malloc((size_t)w->n * sizeof *times);
    focal_status st = FOCAL_OK;
    if (!r_label || !times) {
        st = focal_fail(FOCAL_ERR_NOMEM, "repeat-factor: out of memory");
        goto out_free;
    }
    for (int j = 0; j < c; j++) {
        const double f = (double)group_size(&w->g, j) / w->n;
        r_label[j] = f > 0 ? fmax(1.0, sqrt(t / f)) : 1.0;
    }
    long long total = 0;
    for (int k = 0; k < w->n; k++) {
        const int i = row_at(w, k);
        double r = 1.0;
        for (int j = 0; j < c; j++) {
            const int pos = d->task == FOCAL_TASK_MULTILABEL ? d->labels[(size_t)i * (size_t)c + (size_t)j] != 0
                                                             : d->label[i] == j;
            if (pos && r_label[j] > r)
                r = r_label[j];
        }
        const double whole = floor(r);
        times[k] = (int)whole + ((double)focal_rng_uniform(&w->rng) < r - whole);
        total += times[k];
    }
    st = alloc_order(w, total, "repeat-factor");
    for (int k = 0, at = 0; st == FOCAL_OK && k < w->n; k++)
        for (int rep = 0; rep < times[k]; rep++)
            w->out[at++] = row_at(w, k);

out_free:
    free(r_label);
    free(times);
    return st;
}

focal_status focal_sampler_epoch(enum focal_sampler kind, const struct focal_dataset *d, const int *idx, int n,
                                 uint64_t seed, int epoch, double repeat_threshold, int **order, int *len)
{
    assert(d && order && len);
    *order = NULL;
    *len = 0;
    if ((unsigned)kind >= (unsigned)N_SAMPLERS)
        return focal_fail(FOCAL_ERR_ARG, "sampler %d is not a valid focal_sampler", (int)kind);
    const char *name = sampler_names[kind];
    if (n < 1)
        return focal_fail(FOCAL_ERR_ARG, "%s: no training samples to draw from", name);
    if (d->task == FOCAL_TASK_MULTILABEL && (kind == FOCAL_SAMPLER_OVERSAMPLE || kind == FOCAL_SAMPLER_UNDERSAMPLE))
        return focal_fail(FOCAL_ERR_ARG,
                          "%s needs one class per sample (binary or multi-class data); "
                          "for multi-label data use class-balanced or repeat-factor",
                          name);
    if (kind == FOCAL_SAMPLER_REPEAT_FACTOR && !(repeat_threshold > 0 && isfinite(repeat_threshold)))
        return focal_fail(FOCAL_ERR_ARG, "repeat-factor threshold %g; expected a fraction of the samples > 0",
                          repeat_threshold);

    struct draw w = { .d = d, .idx = idx, .n = n };
    focal_status st = group_samples(&w);
    if (st != FOCAL_OK)
        goto out_free;
    epoch_rng(&w.rng, seed, epoch);
    switch (kind) {
    case FOCAL_SAMPLER_SHUFFLE: st = draw_shuffle(&w); break;
    case FOCAL_SAMPLER_OVERSAMPLE: st = draw_resample(&w, 1); break;
    case FOCAL_SAMPLER_UNDERSAMPLE: st = draw_resample(&w, 0); break;
    case FOCAL_SAMPLER_CLASS_BALANCED: st = draw_class_balanced(&w); break;
    case FOCAL_SAMPLER_REPEAT_FACTOR: st = draw_repeat_factor(&w, repeat_threshold); break;
    }
    if (st != FOCAL_OK)
        goto out_free;
    shuffle(w.out, w.len, &w.rng);
    *order = w.out;
    *len = w.len;
    w.out = NULL;

out_free:
    free(w.out);
    free(w.g.off);
    free(w.g.members);
    return st;
}

focal_status focal_long_tail_subset(const struct focal_dataset *d, const int *idx, int n, double rho, uint64_t seed,
                                    int *out, int *n_out)
{
    assert(d && out && n_out);
    *n_out = 0;
    if (d->task == FOCAL_TASK_MULTILABEL)
        return focal_fail(FOCAL_ERR_ARG, "a long-tailed subset needs one class per sample; the data is multi-label");
    if (!(rho >= 1 && isfinite(rho)))
        return focal_fail(FOCAL_ERR_ARG, "imbalance ratio %g; expected a number >= 1", rho);
    if (n < 1)
        return FOCAL_OK;
    struct draw w = { .d = d, .idx = idx, .n = n };
    focal_status st = group_samples(&w);
    uint8_t *keep = st == FOCAL_OK ? calloc((size_t)d->n, 1) : NULL;
    if (st == FOCAL_OK && !keep)
        st = focal_fail(FOCAL_ERR_NOMEM, "out of memory");
    if (st != FOCAL_OK)
        goto out;
    const int c = d->num_classes;
    int n_max = 0;
    for (int j = 0; j < c; j++)
        n_max = group_size(&w.g, j) > n_max ? group_size(&w.g, j) : n_max;
    epoch_rng(&w.rng, seed, -1);
    for (int j = 0; j < c; j++) {
        int m = group_size(&w.g, j);
        double want = c > 1 ? floor(n_max * pow(rho, -(double)j / (c - 1))) : n_max;
        int k = want < 1 ? 1 : (int)want;
        k = k < m ? k : m;
        int *members = w.g.members + w.g.off[j];
        shuffle(members, m, &w.rng);
        for (int t = 0; t < k; t++)
            keep[members[t]] = 1;
    }
    for (int k = 0; k < n; k++)
        if (keep[row_at(&w, k)])
            out[(*n_out)++] = row_at(&w, k);
out:
    free(keep);
    free(w.g.off);
    free(w.g.members);
    return st;
}
