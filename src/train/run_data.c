/* run_data.c — the data side of a run: its train/validation/test split,
 * the model input a dataset gives, normalisation, the inputs and targets of
 * a batch, and evaluation-mode scores. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "focal/train.h"
#include "base/internal.h"
#include "train/run_internal.h"

/* ---- splits ---------------------------------------------------------------------- */

/* The samples of split s into a new list. */
static int *collect(const struct focal_dataset *d, const uint8_t *split, int s, int *n)
{
    int *idx = malloc((size_t)(d->n > 0 ? d->n : 1) * sizeof *idx);
    *n = 0;
    if (idx)
        for (int i = 0; i < d->n; i++)
            if (split[i] == s)
                idx[(*n)++] = i;
    return idx;
}

focal_status focal_run_split(const struct focal_dataset *d, double val_frac, double test_frac, uint64_t seed,
                             int **train, int *n_train, int **val, int *n_val, int **test, int *n_test)
{
    uint8_t *split = malloc((size_t)(d->n > 0 ? d->n : 1));
    int *all = malloc((size_t)(d->n > 0 ? d->n : 1) * sizeof *all);
    focal_status st = FOCAL_OK;
    *train = *val = *test = NULL;
    *n_train = *n_val = *n_test = 0;
    if (!split || !all) {
        st = focal_fail(FOCAL_ERR_NOMEM, "out of memory");
        goto out;
    }
    if (d->split) {
        memcpy(split, d->split, (size_t)d->n);
        int nv = 0, ntr = 0;
        for (int i = 0; i < d->n; i++) {
            nv += split[i] == FOCAL_SPLIT_VAL;
            ntr += split[i] == FOCAL_SPLIT_TRAIN;
        }
        if (ntr > 0 && nv == 0) {
            /* carve validation out of training */
            int k = 0;
            for (int i = 0; i < d->n; i++)
                if (split[i] == FOCAL_SPLIT_TRAIN)
                    all[k++] = i;
            uint8_t *sub = malloc((size_t)k);
            if (!sub)
                st = focal_fail(FOCAL_ERR_NOMEM, "out of memory");
            else
                st = focal_split_stratified(d, all, k, val_frac, 0.0, seed, sub);
            if (st != FOCAL_OK) {
                free(sub);
                goto out;
            }
            for (int j = 0; j < k; j++)
                split[all[j]] = sub[j];
            free(sub);
        }
    } else {
        for (int i = 0; i < d->n; i++)
            all[i] = i;
        if ((st = focal_split_stratified(d, all, d->n, val_frac, test_frac, seed, split)) != FOCAL_OK)
            goto out;
    }
    *train = collect(d, split, FOCAL_SPLIT_TRAIN, n_train);
    *val = collect(d, split, FOCAL_SPLIT_VAL, n_val);
    *test = collect(d, split, FOCAL_SPLIT_TEST, n_test);
    if (!*train || !*val || !*test)
        st = focal_fail(FOCAL_ERR_NOMEM, "out of memory");
out:
    if (st != FOCAL_OK) {
        free(*train);
        free(*val);
        free(*test);
        *train = *val = *test = NULL;
        *n_train = *n_val = *n_test = 0;
    }
    free(split);
    free(all);
    return st;
}

/* ---- inputs ---------------------------------------------------------------------- */

/* A seed for one (seed, a, b) triple: splitmix64's finaliser over a mix of
 * the three, so nearby triples give unrelated seeds. */
uint64_t focal_run_seed(uint64_t seed, uint64_t a, uint64_t b)
{
    uint64_t z = seed ^ (a * 0x9e3779b97f4a7c15ULL) ^ (b * 0xc2b2ae3d27d4eb4fULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

int focal_run_input_size(const struct focal_dataset *d, int *c, int *h, int *w)
{
    if (d->pixels) {
        *c = d->channels, *h = d->height, *w = d->width;
        return 0;
    }
    if (d->features) {
        *c = d->n_features, *h = 1, *w = 1;
        return 0;
    }
    return -1;
}

focal_status focal_run_norm(const struct focal_dataset *d, const int *idx, int n, int *nch, float *mean, float *std)
{
    int c, h, w;
    if (focal_run_input_size(d, &c, &h, &w) != 0)
        return focal_fail(FOCAL_ERR_ARG, "the dataset has neither pixels nor features (images not loaded?)");
    if (c > FOCAL_MAX_NORM_CHANNELS)
        return focal_fail(FOCAL_ERR_ARG, "%d input channels; at most %d can be normalised", c,
                          FOCAL_MAX_NORM_CHANNELS);
    double *sum = calloc((size_t)c * 2, sizeof *sum);
    long *cnt = calloc((size_t)c, sizeof *cnt);
    if (!sum || !cnt) {
        free(sum);
        free(cnt);
        return focal_fail(FOCAL_ERR_NOMEM, "out of memory");
    }
    double *sq = sum + c;
    size_t hw = (size_t)h * (size_t)w;
    for (int k = 0; k < n; k++) {
        if (d->pixels) {
            const uint8_t *p = d->pixels + (size_t)idx[k] * hw * (size_t)c;
            for (size_t q = 0; q < hw; q++)
                for (int ch = 0; ch < c; ch++) {
                    double v = p[q * (size_t)c + (size_t)ch] / 255.0;
                    sum[ch] += v;
                    sq[ch] += v * v;
                }
            for (int ch = 0; ch < c; ch++)
                cnt[ch] += (long)hw;
        } else {
            const float *f = d->features + (size_t)idx[k] * (size_t)c;
            for (int ch = 0; ch < c; ch++)
                if (!isnan(f[ch])) {
                    sum[ch] += f[ch];
                    sq[ch] += (double)f[ch] * f[ch];
                    cnt[ch]++;
                }
        }
    }
    for (int ch = 0; ch < c; ch++) {
        double m = cnt[ch] ? sum[ch] / (double)cnt[ch] : 0.0;
        double var = cnt[ch] ? sq[ch] / (double)cnt[ch] - m * m : 0.0;
        double s = var > 1e-12 ? sqrt(var) : 1.0;
        mean[ch] = (float)m;
        std[ch] = (float)s;
    }
    *nch = c;
    free(sum);
    free(cnt);
    return FOCAL_OK;
}

void focal_run_inputs(float *x, const struct focal_dataset *d, const int *idx, int n,
                      const struct focal_augment *aug, uint64_t seed, const float *mean, const float *std)
{
    focal_run_inputs_at(x, d, idx, n, aug, seed, 0, mean, std);
}

void focal_run_inputs_at(float *x, const struct focal_dataset *d, const int *idx, int n,
                         const struct focal_augment *aug, uint64_t seed, int k0, const float *mean,
                         const float *std)
{
    int c, h, w;
    focal_run_input_size(d, &c, &h, &w);
    size_t per = (size_t)c * (size_t)h * (size_t)w;
    #pragma omp parallel for schedule(static) if (n > 1 && d->pixels)
    for (int k = 0; k < n; k++) {
        float *out = x + (size_t)k * per;
        if (d->pixels) {
            focal_augment_image(aug, focal_run_seed(seed, (uint64_t)(k0 + k), 0x5eed),
                                d->pixels + (size_t)idx[k] * per, h, w, c, out);
            size_t hw = (size_t)h * (size_t)w;
            for (int ch = 0; ch < c; ch++) {
                float m = mean[ch], inv = 1.0f / std[ch];
                float *o = out + (size_t)ch * hw;
                for (size_t q = 0; q < hw; q++)
                    o[q] = (o[q] - m) * inv;
            }
        } else {
            /* a missing value becomes the training mean: 0 after standardising */
            const float *f = d->features + (size_t)idx[k] * per;
            for (int ch = 0; ch < c; ch++)
                out[ch] = isnan(f[ch]) ? 0.0f : (f[ch] - mean[ch]) / std[ch];
        }
    }
}

int focal_run_outputs(const struct focal_dataset *d)
{
    return d->task == FOCAL_TASK_BINARY ? 1 : d->num_classes;
}

void focal_run_targets(void *targets, const struct focal_dataset *d, const int *idx, int n)
{
    if (d->task == FOCAL_TASK_MULTICLASS) {
        int32_t *t = targets;
        for (int k = 0; k < n; k++)
            t[k] = d->label[idx[k]];
    } else if (d->task == FOCAL_TASK_BINARY) {
        float *t = targets;
        for (int k = 0; k < n; k++)
            t[k] = (float)d->label[idx[k]];
    } else {
        float *t = targets;
        int c = d->num_classes;
        for (int k = 0; k < n; k++)
            for (int j = 0; j < c; j++)
                t[(size_t)k * (size_t)c + (size_t)j] = (float)d->labels[(size_t)idx[k] * (size_t)c + (size_t)j];
    }
}

/* ---- evaluation -------------------------------------------------------------------- */

void focal_run_probs(double *probs, const float *logits, int n, int c, int softmax)
{
    for (int i = 0; i < n; i++) {
        const float *z = logits + (size_t)i * (size_t)c;
        double *p = probs + (size_t)i * (size_t)c;
        if (softmax) {
            double mx = z[0], s = 0;
            for (int j = 1; j < c; j++)
                mx = z[j] > mx ? z[j] : mx;
            for (int j = 0; j < c; j++)
                s += (p[j] = exp(z[j] - mx));
            for (int j = 0; j < c; j++)
                p[j] /= s;
        } else {
            for (int j = 0; j < c; j++)
                p[j] = 1.0 / (1.0 + exp(-(double)z[j]));
        }
    }
}

focal_status focal_run_batch_out(double *probs, double *total, const float *logits, int b, int classes, int softmax,
                                const struct focal_loss *l, const struct focal_dataset *d, const int *idx,
                                void *targets)
{
    focal_run_probs(probs, logits, b, classes, softmax);
    if (!l)
        return FOCAL_OK;
    double v = 0;
    focal_run_targets(targets, d, idx, b);
    focal_status st = softmax ? focal_softmax_loss(l, (size_t)b, (size_t)classes, logits, targets, NULL, NULL, &v)
                              : focal_sigmoid_loss(l, (size_t)b, (size_t)classes, logits, targets, NULL, NULL, &v);
    *total += v * b;
    return st;
}

focal_status focal_run_scores(struct focal_model *m, const struct focal_dataset *d, const int *idx, int n,
                              const float *mean, const float *std, const struct focal_loss *loss,
                              double *probs, double *mean_loss)
{
    int c, h, w;
    focal_model_input_shape(m, &c, &h, &w);
    int bmax = focal_model_max_batch(m), classes = focal_model_classes(m);
    int softmax = focal_model_head(m) == FOCAL_HEAD_SOFTMAX;
    size_t per = (size_t)c * (size_t)h * (size_t)w;
    float *x = malloc((size_t)bmax * per * sizeof *x);
    void *t = malloc((size_t)bmax * (size_t)classes * sizeof(float));
    focal_status st = FOCAL_OK;
    double total = 0;
    if (!x || !t) {
        st = focal_fail(FOCAL_ERR_NOMEM, "out of memory");
        goto out;
    }
    for (int at = 0; at < n; at += bmax) {
        int b = n - at < bmax ? n - at : bmax;
        const float *logits;
        focal_run_inputs(x, d, idx + at, b, NULL, 0, mean, std);
        if ((st = focal_model_forward(m, x, b, 0, &logits)) != FOCAL_OK)
            goto out;
        if ((st = focal_run_batch_out(probs + (size_t)at * (size_t)classes, &total, logits, b, classes, softmax,
                                      loss, d, idx + at, t)) != FOCAL_OK)
            goto out;
    }
    if (mean_loss)
        *mean_loss = n > 0 ? total / n : NAN;
out:
    free(x);
    free(t);
    return st;
}
