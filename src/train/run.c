/* run.c — training runs: epochs, validation, checkpoint selection, early
 * stopping, resuming, the run folder's files, and loading a finished run for
 * evaluation and prediction. */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "focal/train.h"
#include "base/internal.h"
#include "train/run_internal.h"

#define RUN_FORMAT "focal-run"
#define RUN_VERSION 1

/* ---- names ------------------------------------------------------------------- */

static const char *const select_names[FOCAL_SELECT_COUNT] = {
    "auto", "map", "auc", "macro-f1", "balanced-accuracy", "accuracy", "loss"
};

const char *focal_select_name(enum focal_select s)
{
    return (unsigned)s < FOCAL_SELECT_COUNT ? select_names[s] : "?";
}

focal_status focal_select_parse(const char *name, enum focal_select *s)
{
    for (int i = 0; i < FOCAL_SELECT_COUNT; i++) {
        if (strcmp(name, select_names[i]) == 0) {
            *s = (enum focal_select)i;
            return FOCAL_OK;
        }
    }
    return focal_fail(FOCAL_ERR_ARG,
                      "'%s' is not a selection metric; expected auto, map, auc, macro-f1, "
                      "balanced-accuracy, accuracy or loss", name);
}

void focal_run_defaults(struct focal_run_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    focal_loss_init(&cfg->loss, FOCAL_LOSS_BCE);
    focal_optim_defaults(&cfg->optim, FOCAL_OPTIM_ADAM);
    cfg->sampler = FOCAL_SAMPLER_SHUFFLE;
    cfg->repeat_threshold = 0.1;
    cfg->epochs = 10;
    cfg->batch = 32;
    cfg->select = FOCAL_SELECT_AUTO;
}

enum focal_select focal_select_resolve(enum focal_select s, enum focal_task task)
{
    if (s != FOCAL_SELECT_AUTO)
        return s;
    return task == FOCAL_TASK_MULTILABEL ? FOCAL_SELECT_MAP : FOCAL_SELECT_AUC;
}

double focal_run_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
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
    int c, h, w;
    focal_run_input_size(d, &c, &h, &w);
    size_t per = (size_t)c * (size_t)h * (size_t)w;
    #pragma omp parallel for schedule(static) if (n > 1 && d->pixels)
    for (int k = 0; k < n; k++) {
        float *out = x + (size_t)k * per;
        if (d->pixels) {
            focal_augment_image(aug, focal_run_seed(seed, (uint64_t)k, 0x5eed),
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

/* Probabilities from logits: softmax per row, or a sigmoid per element. */
static void run_probs(double *probs, const float *logits, int n, int c, int softmax)
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
        run_probs(probs + (size_t)at * (size_t)classes, logits, b, classes, softmax);
        if (loss) {
            double v = 0;
            focal_run_targets(t, d, idx + at, b);
            st = softmax ? focal_softmax_loss(loss, (size_t)b, (size_t)classes, logits, t, NULL, NULL, &v)
                         : focal_sigmoid_loss(loss, (size_t)b, (size_t)classes, logits, t, NULL, NULL, &v);
            if (st != FOCAL_OK)
                goto out;
            total += v * b;
        }
    }
    if (mean_loss)
        *mean_loss = n > 0 ? total / n : NAN;
out:
    free(x);
    free(t);
    return st;
}

/* ---- configuration and state as JSON --------------------------------------------- */

const char *focal_task_name(enum focal_task t)
{
    return t == FOCAL_TASK_BINARY ? "binary" : t == FOCAL_TASK_MULTICLASS ? "multiclass" : "multilabel";
}

static int task_parse(const char *s, enum focal_task *t)
{
    if (strcmp(s, "binary") == 0)
        *t = FOCAL_TASK_BINARY;
    else if (strcmp(s, "multiclass") == 0)
        *t = FOCAL_TASK_MULTICLASS;
    else if (strcmp(s, "multilabel") == 0)
        *t = FOCAL_TASK_MULTILABEL;
    else
        return -1;
    return 0;
}

/* The configuration as a JSON object: everything that must match for a run
 * to be resumed (the epoch count may change and is not in it). */
static cJSON *config_json(const struct focal_run_config *cfg, int classes)
{
    cJSON *o = cJSON_CreateObject();
    const struct focal_loss *l = &cfg->loss;
    const struct focal_optim_config *p = &cfg->optim;
    const struct focal_augment *a = &cfg->augment;
    char seed[24];
    snprintf(seed, sizeof seed, "%llu", (unsigned long long)cfg->seed);

    cJSON_AddStringToObject(o, "model", cfg->model_name ? cfg->model_name : "");
    cJSON_AddStringToObject(o, "model_description", cfg->model_desc);
    cJSON *lj = cJSON_AddObjectToObject(o, "loss");
    cJSON_AddStringToObject(lj, "kind", focal_loss_kind_name(l->kind));
    cJSON_AddStringToObject(lj, "reduction", focal_reduction_name(l->reduction));
    cJSON_AddNumberToObject(lj, "gamma", l->gamma);
    cJSON_AddNumberToObject(lj, "alpha", l->alpha);
    cJSON_AddNumberToObject(lj, "beta", l->beta);
    cJSON_AddNumberToObject(lj, "gamma_pos", l->gamma_pos);
    cJSON_AddNumberToObject(lj, "gamma_neg", l->gamma_neg);
    cJSON_AddNumberToObject(lj, "margin", l->margin);
    cJSON_AddNumberToObject(lj, "epsilon", l->epsilon);
    cJSON_AddNumberToObject(lj, "label_smoothing", l->label_smoothing);
    if (l->class_weights)
        cJSON_AddItemToObject(lj, "class_weights", cJSON_CreateDoubleArray(l->class_weights, classes));
    else
        cJSON_AddNullToObject(lj, "class_weights");
    cJSON *oj = cJSON_AddObjectToObject(o, "optimizer");
    static const char *const okinds[] = { "sgd", "adam", "adamw" };
    static const char *const scheds[] = { "constant", "step", "cosine" };
    cJSON_AddStringToObject(oj, "kind", okinds[p->kind]);
    cJSON_AddNumberToObject(oj, "lr", p->lr);
    cJSON_AddNumberToObject(oj, "momentum", p->momentum);
    cJSON_AddBoolToObject(oj, "nesterov", p->nesterov);
    cJSON_AddNumberToObject(oj, "weight_decay", p->weight_decay);
    cJSON_AddNumberToObject(oj, "beta1", p->beta1);
    cJSON_AddNumberToObject(oj, "beta2", p->beta2);
    cJSON_AddNumberToObject(oj, "eps", p->eps);
    cJSON_AddStringToObject(oj, "schedule", scheds[p->schedule]);
    cJSON_AddNumberToObject(oj, "step_size", (double)p->step_size);
    cJSON_AddNumberToObject(oj, "step_gamma", p->step_gamma);
    cJSON_AddNumberToObject(oj, "min_lr", p->min_lr);
    cJSON_AddNumberToObject(oj, "warmup_steps", (double)p->warmup_steps);
    cJSON_AddNumberToObject(oj, "clip_norm", p->clip_norm);
    cJSON_AddBoolToObject(oj, "decay_all", p->decay_all);
    cJSON_AddStringToObject(o, "sampler", focal_sampler_name(cfg->sampler));
    cJSON_AddNumberToObject(o, "repeat_threshold", cfg->repeat_threshold);
    cJSON *aj = cJSON_AddObjectToObject(o, "augment");
    cJSON_AddBoolToObject(aj, "hflip", a->hflip);
    cJSON_AddBoolToObject(aj, "vflip", a->vflip);
    cJSON_AddBoolToObject(aj, "rot90", a->rot90);
    cJSON_AddNumberToObject(aj, "rotate", a->rotate);
    cJSON_AddNumberToObject(aj, "scale", a->scale);
    cJSON_AddNumberToObject(aj, "translate", a->translate);
    cJSON_AddNumberToObject(aj, "brightness", a->brightness);
    cJSON_AddNumberToObject(aj, "contrast", a->contrast);
    cJSON_AddNumberToObject(o, "prior", cfg->prior);
    cJSON_AddNumberToObject(o, "batch", cfg->batch);
    cJSON_AddStringToObject(o, "seed", seed);
    cJSON_AddNumberToObject(o, "patience", cfg->patience);
    cJSON_AddStringToObject(o, "select", focal_select_name(cfg->select));
    return o;
}

/* Where a run stands after its last completed epoch. */
struct run_state {
    int epoch;               /* completed epochs */
    int best_epoch;          /* 0: none yet */
    double best_value;
    int bad_epochs;          /* epochs since the best */
    int stopped;             /* early stopping ended the run */
    double *thresholds;      /* outputs values, chosen at the best epoch */
    struct focal_epoch_record *history;  /* epoch rows */
    int n_history, cap_history;
};

static void state_free(struct run_state *s)
{
    free(s->thresholds);
    free(s->history);
    memset(s, 0, sizeof *s);
}

/* cJSON numbers cannot be NaN: NaN is written as null and read back. */
static void add_num(cJSON *o, const char *key, double v)
{
    if (isfinite(v))
        cJSON_AddNumberToObject(o, key, v);
    else
        cJSON_AddNullToObject(o, key);
}

static double get_num(const cJSON *o, const char *key)
{
    const cJSON *x = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsNumber(x) ? x->valuedouble : NAN;
}

static cJSON *record_json(const struct focal_epoch_record *r)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "epoch", r->epoch);
    add_num(o, "train_loss", r->train_loss);
    add_num(o, "val_loss", r->val_loss);
    add_num(o, "val_map", r->val_map);
    add_num(o, "val_auc", r->val_auc);
    add_num(o, "val_macro_f1", r->val_macro_f1);
    add_num(o, "val_balanced_accuracy", r->val_balanced_accuracy);
    add_num(o, "val_accuracy", r->val_accuracy);
    add_num(o, "select_value", r->select_value);
    cJSON_AddBoolToObject(o, "improved", r->improved);
    add_num(o, "lr", r->lr);
    add_num(o, "seconds", r->seconds);
    return o;
}

static void record_parse(struct focal_epoch_record *r, const cJSON *o)
{
    r->epoch = (int)get_num(o, "epoch");
    r->train_loss = get_num(o, "train_loss");
    r->val_loss = get_num(o, "val_loss");
    r->val_map = get_num(o, "val_map");
    r->val_auc = get_num(o, "val_auc");
    r->val_macro_f1 = get_num(o, "val_macro_f1");
    r->val_balanced_accuracy = get_num(o, "val_balanced_accuracy");
    r->val_accuracy = get_num(o, "val_accuracy");
    r->select_value = get_num(o, "select_value");
    r->improved = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(o, "improved"));
    r->lr = get_num(o, "lr");
    r->seconds = get_num(o, "seconds");
}

/* The state (with the configuration) as JSON text, stored in the last
 * checkpoint so that the checkpoint, its optimiser file and the state always
 * agree. NULL when out of memory. */
static char *state_text(const struct run_state *s, const struct focal_run_config *cfg, int outputs)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddItemToObject(o, "config", config_json(cfg, outputs));
    cJSON_AddNumberToObject(o, "epoch", s->epoch);
    cJSON_AddNumberToObject(o, "best_epoch", s->best_epoch);
    add_num(o, "best_value", s->best_value);
    cJSON_AddNumberToObject(o, "bad_epochs", s->bad_epochs);
    cJSON_AddBoolToObject(o, "stopped", s->stopped);
    cJSON_AddItemToObject(o, "thresholds", cJSON_CreateDoubleArray(s->thresholds, outputs));
    cJSON *h = cJSON_AddArrayToObject(o, "history");
    for (int i = 0; i < s->n_history; i++)
        cJSON_AddItemToArray(h, record_json(&s->history[i]));
    char *text = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    return text;
}

static int state_push(struct run_state *s, const struct focal_epoch_record *r)
{
    if (s->n_history == s->cap_history) {
        int cap = s->cap_history ? 2 * s->cap_history : 16;
        struct focal_epoch_record *h = realloc(s->history, (size_t)cap * sizeof *h);
        if (!h)
            return -1;
        s->history = h;
        s->cap_history = cap;
    }
    s->history[s->n_history++] = *r;
    return 0;
}

/* Restores the state from a checkpoint's text; checks that the stored
 * configuration equals cfg, naming the first setting that differs. */
static focal_status state_restore(struct run_state *s, const char *text, const char *path,
                                  const struct focal_run_config *cfg, int outputs)
{
    focal_status st = FOCAL_OK;
    cJSON *o = cJSON_Parse(text);
    cJSON *now = config_json(cfg, outputs);
    const cJSON *old = cJSON_GetObjectItemCaseSensitive(o, "config");
    const cJSON *th = cJSON_GetObjectItemCaseSensitive(o, "thresholds");
    const cJSON *h = cJSON_GetObjectItemCaseSensitive(o, "history");
    if (!cJSON_IsObject(old) || !cJSON_IsArray(th) || cJSON_GetArraySize(th) != outputs || !cJSON_IsArray(h)) {
        st = focal_fail(FOCAL_ERR_FORMAT, "%s: the run state in its metadata is missing or malformed", path);
        goto out;
    }
    const cJSON *item;
    cJSON_ArrayForEach(item, now) {
        const cJSON *was = cJSON_GetObjectItemCaseSensitive(old, item->string);
        if (!was || !cJSON_Compare(was, item, 1)) {
            char *a = was ? cJSON_PrintUnformatted(was) : NULL, *b = cJSON_PrintUnformatted(item);
            st = focal_fail(FOCAL_ERR_ARG, "%s: the run was made with %s %.200s; this one has %.200s "
                            "(resume with the same settings, or start a new run folder)",
                            path, item->string, a ? a : "(none)", b ? b : "?");
            free(a);
            free(b);
            goto out;
        }
    }
    s->epoch = (int)get_num(o, "epoch");
    s->best_epoch = (int)get_num(o, "best_epoch");
    s->best_value = get_num(o, "best_value");
    s->bad_epochs = (int)get_num(o, "bad_epochs");
    s->stopped = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(o, "stopped"));
    int j = 0;
    cJSON_ArrayForEach(item, th) {
        s->thresholds[j++] = cJSON_IsNumber(item) ? item->valuedouble : 0.5;
    }
    cJSON_ArrayForEach(item, h) {
        struct focal_epoch_record r;
        record_parse(&r, item);
        if (state_push(s, &r) != 0) {
            st = focal_fail(FOCAL_ERR_NOMEM, "out of memory");
            goto out;
        }
    }
out:
    cJSON_Delete(o);
    cJSON_Delete(now);
    return st;
}

/* ---- the run folder's files ---------------------------------------------------------- */

/* dir/name into buf; FOCAL_ERR_ARG when it does not fit. */
static focal_status run_path(char *buf, size_t size, const char *dir, const char *name)
{
    if ((size_t)snprintf(buf, size, "%s/%s", dir, name) >= size)
        return focal_fail(FOCAL_ERR_ARG, "%s: the run folder's path is too long", dir);
    return FOCAL_OK;
}

static void csv_num(FILE *fp, double v, const char *sep)
{
    if (isfinite(v))
        fprintf(fp, "%.9g%s", v, sep);
    else
        fprintf(fp, "%s", sep);
}

/* history.csv: one row per epoch; undefined values are empty fields. */
static focal_status write_history(const char *dir, const struct run_state *s)
{
    char path[4096];
    struct focal_wfile wf;
    focal_status st = run_path(path, sizeof path, dir, "history.csv");
    if (st != FOCAL_OK || (st = focal_wfile_open(&wf, path)) != FOCAL_OK)
        return st;
    fputs("epoch,train_loss,val_loss,val_map,val_auc,val_macro_f1,val_balanced_accuracy,val_accuracy,"
          "improved,lr,seconds\n", wf.fp);
    for (int i = 0; i < s->n_history; i++) {
        const struct focal_epoch_record *r = &s->history[i];
        fprintf(wf.fp, "%d,", r->epoch);
        csv_num(wf.fp, r->train_loss, ",");
        csv_num(wf.fp, r->val_loss, ",");
        csv_num(wf.fp, r->val_map, ",");
        csv_num(wf.fp, r->val_auc, ",");
        csv_num(wf.fp, r->val_macro_f1, ",");
        csv_num(wf.fp, r->val_balanced_accuracy, ",");
        csv_num(wf.fp, r->val_accuracy, ",");
        fprintf(wf.fp, "%d,", r->improved);
        csv_num(wf.fp, r->lr, ",");
        csv_num(wf.fp, r->seconds, "\n");
    }
    return focal_wfile_commit(&wf);
}

/* run.json: what focal eval and focal predict need, and how the run went. */
static focal_status write_run_json(const char *dir, const struct focal_run_config *cfg, const struct focal_dataset *d,
                                   const struct run_state *s, int outputs)
{
    char path[4096];
    struct focal_wfile wf;
    focal_status st = run_path(path, sizeof path, dir, "run.json");
    if (st != FOCAL_OK)
        return st;
    int c, h, w;
    focal_run_input_size(d, &c, &h, &w);
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "format", RUN_FORMAT);
    cJSON_AddNumberToObject(o, "version", RUN_VERSION);
    cJSON_AddStringToObject(o, "task", focal_task_name(d->task));
    cJSON_AddItemToObject(o, "class_names",
                          cJSON_CreateStringArray((const char *const *)d->class_names, d->num_classes));
    cJSON_AddItemToObject(o, "thresholds", cJSON_CreateDoubleArray(s->thresholds, outputs));
    int shape[3] = { c, h, w };
    cJSON_AddItemToObject(o, "input", cJSON_CreateIntArray(shape, 3));
    cJSON_AddBoolToObject(o, "fundus_crop", cfg->fundus_crop);
    cJSON_AddStringToObject(o, "data", cfg->data ? cfg->data : "");
    cJSON_AddNumberToObject(o, "epochs", cfg->epochs);
    cJSON_AddNumberToObject(o, "epochs_run", s->epoch);
    cJSON_AddNumberToObject(o, "best_epoch", s->best_epoch);
    cJSON_AddStringToObject(o, "selected_by", focal_select_name(focal_select_resolve(cfg->select, d->task)));
    add_num(o, "best_value", s->best_value);
    cJSON_AddBoolToObject(o, "stopped_early", s->stopped);
    cJSON_AddItemToObject(o, "config", config_json(cfg, outputs));
    char *text = cJSON_Print(o);
    cJSON_Delete(o);
    if (!text)
        return focal_fail(FOCAL_ERR_NOMEM, "out of memory");
    if ((st = focal_wfile_open(&wf, path)) == FOCAL_OK) {
        fputs(text, wf.fp);
        fputc('\n', wf.fp);
        st = focal_wfile_commit(&wf);
    }
    free(text);
    return st;
}

/* Creates dir if it does not exist. */
static focal_status make_dir(const char *dir)
{
    struct stat sb;
    if (stat(dir, &sb) == 0) {
        if (!S_ISDIR(sb.st_mode))
            return focal_fail(FOCAL_ERR_IO, "%s: exists and is not a folder", dir);
        return FOCAL_OK;
    }
    if (mkdir(dir, 0777) != 0)
        return focal_fail(FOCAL_ERR_IO, "%s: cannot create the run folder: %s", dir, strerror(errno));
    return FOCAL_OK;
}

/* ---- training ------------------------------------------------------------------------- */

/* The selection value of an epoch (higher is better, except loss). */
static double select_value(enum focal_select s, const struct focal_run_summary *m, double val_loss)
{
    switch (s) {
    case FOCAL_SELECT_MAP: return m->map;
    case FOCAL_SELECT_AUC: return m->auc;
    case FOCAL_SELECT_MACRO_F1: return m->macro_f1;
    case FOCAL_SELECT_BALANCED_ACCURACY: return m->balanced_accuracy;
    case FOCAL_SELECT_ACCURACY: return m->accuracy;
    default: return val_loss;
    }
}

static int select_better(enum focal_select s, double v, double best, int have_best)
{
    if (!have_best)
        return 1;
    if (isnan(v))
        return 0;
    if (isnan(best))
        return 1;
    return s == FOCAL_SELECT_LOSS ? v < best : v > best;
}

/* Checks what focal_run_train needs of its arguments. */
static focal_status run_check(const struct focal_run_config *cfg, const struct focal_dataset *d, int n_train,
                              int n_val)
{
    int c, h, w;
    if (focal_run_input_size(d, &c, &h, &w) != 0)
        return focal_fail(FOCAL_ERR_ARG, "the dataset has neither pixels nor features (load its images first)");
    if (n_train < 2)
        return focal_fail(FOCAL_ERR_ARG, "%d training samples; at least 2 are needed", n_train);
    if (n_val < 1)
        return focal_fail(FOCAL_ERR_ARG, "no validation samples; a run validates after every epoch");
    if (cfg->epochs < 1 || cfg->batch < 2)
        return focal_fail(FOCAL_ERR_ARG, "epochs %d, batch %d; expected epochs >= 1 and batch >= 2", cfg->epochs,
                          cfg->batch);
    if (!cfg->model_desc)
        return focal_fail(FOCAL_ERR_ARG, "no network description");
    int softmax = focal_loss_is_softmax(cfg->loss.kind);
    if (softmax != (d->task == FOCAL_TASK_MULTICLASS))
        return focal_fail(FOCAL_ERR_ARG, "loss '%s' is a %s loss; a %s task needs a %s loss",
                          focal_loss_kind_name(cfg->loss.kind), softmax ? "softmax" : "sigmoid",
                          focal_task_name(d->task), softmax ? "sigmoid" : "softmax");
    return focal_loss_check(&cfg->loss, (size_t)focal_run_outputs(d));
}

/* Everything one run holds while it trains. */
struct run_ctx {
    const struct focal_run_config *cfg;
    const struct focal_dataset *d;
    const char *dir;
    int outputs;
    struct focal_optim_config optim_cfg; /* the configuration's, with the cosine span filled in */
    struct focal_model *model;
    struct focal_optim *optim;
    struct focal_ckpt_meta meta;     /* normalisation and names to save */
    struct run_state state;
    float *x;
    void *targets;
    double *probs;                   /* n_val × outputs, then reused for test */
    double *thresholds;              /* this epoch's */
};

/* Saves a checkpoint of the model (with extra text) at dir/name. */
static focal_status save_ckpt(struct run_ctx *r, const char *name, char *extra)
{
    char path[4096];
    focal_status st = run_path(path, sizeof path, r->dir, name);
    if (st != FOCAL_OK)
        return st;
    r->meta.epoch = r->state.epoch;
    r->meta.extra = extra;
    st = focal_checkpoint_save(path, r->model, &r->meta);
    r->meta.extra = NULL;
    return st;
}

/* After epoch e's validation: best checkpoint, state, last checkpoint and
 * optimiser, history and run.json — in that order, so that a crash leaves
 * the last checkpoint's state consistent with its weights. */
static focal_status end_epoch(struct run_ctx *r, struct focal_epoch_record *rec)
{
    struct run_state *s = &r->state;
    focal_status st;
    enum focal_select sel = focal_select_resolve(r->cfg->select, r->d->task);
    rec->improved = select_better(sel, rec->select_value, s->best_value, s->best_epoch > 0);
    s->epoch = rec->epoch;
    if (rec->improved) {
        s->best_epoch = rec->epoch;
        s->best_value = rec->select_value;
        s->bad_epochs = 0;
        memcpy(s->thresholds, r->thresholds, (size_t)r->outputs * sizeof *s->thresholds);
        if ((st = save_ckpt(r, "model.safetensors", NULL)) != FOCAL_OK)
            return st;
    } else {
        s->bad_epochs++;
    }
    if (r->cfg->patience > 0 && s->bad_epochs >= r->cfg->patience)
        s->stopped = 1;
    if (state_push(s, rec) != 0)
        return focal_fail(FOCAL_ERR_NOMEM, "out of memory");
    char *text = state_text(s, r->cfg, r->outputs);
    if (!text)
        return focal_fail(FOCAL_ERR_NOMEM, "out of memory");
    char path[4096];
    st = save_ckpt(r, "last.safetensors", text);
    free(text);
    if (st == FOCAL_OK && (st = run_path(path, sizeof path, r->dir, "last.optim.safetensors")) == FOCAL_OK)
        st = focal_optim_save(path, r->optim);
    if (st == FOCAL_OK)
        st = write_history(r->dir, s);
    if (st == FOCAL_OK)
        st = write_run_json(r->dir, r->cfg, r->d, s, r->outputs);
    return st;
}

/* Loads the last checkpoint, optimiser state and run state of r->dir. */
static focal_status resume_run(struct run_ctx *r)
{
    char path[4096];
    struct focal_model *m = NULL;
    struct focal_ckpt_meta meta = { 0 };
    focal_status st = run_path(path, sizeof path, r->dir, "last.safetensors");
    if (st != FOCAL_OK)
        return st;
    if ((st = focal_checkpoint_load(path, r->cfg->batch, &m, &meta)) != FOCAL_OK)
        return st;
    if (!meta.extra) {
        st = focal_fail(FOCAL_ERR_FORMAT, "%s: not the last checkpoint of a run (no run state)", path);
        goto fail;
    }
    if ((st = state_restore(&r->state, meta.extra, path, r->cfg, r->outputs)) != FOCAL_OK)
        goto fail;
    focal_optim_free(r->optim);
    focal_model_free(r->model);
    r->optim = NULL;
    r->model = m;
    m = NULL;
    if ((st = focal_optim_create(&r->optim, &r->optim_cfg, r->model)) != FOCAL_OK)
        goto fail;
    if ((st = run_path(path, sizeof path, r->dir, "last.optim.safetensors")) != FOCAL_OK ||
        (st = focal_optim_load(path, r->optim)) != FOCAL_OK)
        goto fail;
    /* the normalisation of the original run, exactly */
    r->meta.channels = meta.channels;
    memcpy(r->meta.mean, meta.mean, sizeof meta.mean);
    memcpy(r->meta.std, meta.std, sizeof meta.std);
fail:
    focal_model_free(m);
    focal_ckpt_meta_free(&meta);
    return st;
}

/* One epoch of training; *loss receives the mean batch loss. */
static focal_status train_epoch(struct run_ctx *r, int epoch, const int *train, int n_train, double *loss,
                                const struct focal_run_callbacks *cb, double t0)
{
    const struct focal_run_config *cfg = r->cfg;
    int *order = NULL, len = 0;
    focal_status st = focal_sampler_epoch(cfg->sampler, r->d, train, n_train, cfg->seed, epoch,
                                          cfg->repeat_threshold, &order, &len);
    if (st != FOCAL_OK)
        return st;
    double sum = 0;
    long seen = 0;
    for (int at = 0; at < len; at += cfg->batch) {
        int b = len - at < cfg->batch ? len - at : cfg->batch;
        if (b < 2 && at > 0)
            break;   /* batch norm needs two samples; a last batch of one is dropped */
        focal_run_inputs(r->x, r->d, order + at, b, &cfg->augment,
                         focal_run_seed(cfg->seed, (uint64_t)epoch, (uint64_t)at), r->meta.mean, r->meta.std);
        focal_run_targets(r->targets, r->d, order + at, b);
        double v;
        st = focal_train_step(r->model, r->optim, &cfg->loss, r->x, r->targets, b, &v);
        if (st == FOCAL_ERR_NUMERIC) {
            st = focal_fail(FOCAL_ERR_NUMERIC,
                            "epoch %d, batch %d: %s; training stopped; the run folder keeps epoch %d "
                            "(lower --lr, or add --clip-norm)",
                            epoch, at / cfg->batch + 1, focal_last_error(), r->state.epoch);
            goto out;
        }
        if (st != FOCAL_OK)
            goto out;
        sum += v * b;
        seen += b;
        if (cb && cb->batch)
            cb->batch(cb->ctx, epoch, cfg->epochs, seen, len, sum / (double)seen, focal_run_now() - t0);
    }
    *loss = seen ? sum / (double)seen : NAN;
out:
    free(order);
    return st;
}

/* Writes the rows of one split to scores.csv: split, id, probabilities, 0/1 labels. */
static void scores_rows(FILE *fp, const char *split, const struct focal_dataset *d, const int *idx, int n,
                        const double *probs, int outputs)
{
    for (int k = 0; k < n; k++) {
        int i = idx[k];
        fprintf(fp, "%s,%s", split, d->ids ? d->ids[i] : "");
        for (int j = 0; j < outputs; j++)
            fprintf(fp, ",%.6g", probs[(size_t)k * (size_t)outputs + (size_t)j]);
        for (int j = 0; j < outputs; j++) {
            int y = d->task == FOCAL_TASK_MULTILABEL ? d->labels[(size_t)i * (size_t)outputs + (size_t)j]
                    : d->task == FOCAL_TASK_BINARY  ? d->label[i] == 1
                                                    : d->label[i] == j;
            fprintf(fp, ",%d", y);
        }
        fputc('\n', fp);
    }
}

/* scores.csv: the best checkpoint's probabilities and the true labels of
 * every validation and test sample, for precision-recall curves. */
static focal_status write_scores(const char *path, const struct focal_dataset *d, int outputs, const int *val,
                                 int n_val, const double *vp, const int *test, int n_test, const double *tp)
{
    struct focal_wfile wf;
    focal_status st = focal_wfile_open(&wf, path);
    if (st != FOCAL_OK)
        return st;
    char **names = d->task == FOCAL_TASK_BINARY ? d->class_names + 1 : d->class_names;
    fputs("split,id", wf.fp);
    for (int j = 0; j < outputs; j++)
        fprintf(wf.fp, ",%s", names[j]);
    for (int j = 0; j < outputs; j++)
        fprintf(wf.fp, ",y_%s", names[j]);
    fputc('\n', wf.fp);
    scores_rows(wf.fp, "val", d, val, n_val, vp, outputs);
    scores_rows(wf.fp, "test", d, test, n_test, tp, outputs);
    return focal_wfile_commit(&wf);
}

/* Evaluates the best checkpoint on validation and test and writes metrics.json
 * and scores.csv. */
static focal_status final_metrics(struct run_ctx *r, const int *val, int n_val, const int *test, int n_test)
{
    char path[4096];
    struct focal_model *best = NULL;
    double *tp = NULL;
    focal_status st = run_path(path, sizeof path, r->dir, "model.safetensors");
    if (st != FOCAL_OK || (st = focal_checkpoint_load(path, r->cfg->batch, &best, NULL)) != FOCAL_OK)
        return st;
    st = focal_run_scores(best, r->d, val, n_val, r->meta.mean, r->meta.std, NULL, r->probs, NULL);
    if (st == FOCAL_OK && n_test > 0) {
        tp = malloc((size_t)n_test * (size_t)r->outputs * sizeof *tp);
        if (!tp)
            st = focal_fail(FOCAL_ERR_NOMEM, "out of memory");
        else
            st = focal_run_scores(best, r->d, test, n_test, r->meta.mean, r->meta.std, NULL, tp, NULL);
    }
    if (st == FOCAL_OK && (st = run_path(path, sizeof path, r->dir, "metrics.json")) == FOCAL_OK)
        st = focal_run_write_metrics(path, r->d, val, n_val, r->probs, test, n_test, tp, r->state.thresholds);
    if (st == FOCAL_OK && (st = run_path(path, sizeof path, r->dir, "scores.csv")) == FOCAL_OK)
        st = write_scores(path, r->d, r->outputs, val, n_val, r->probs, test, n_test, tp);
    free(tp);
    focal_model_free(best);
    return st;
}

focal_status focal_run_train(const struct focal_run_config *cfg, const struct focal_dataset *d,
                             const int *train, int n_train, const int *val, int n_val,
                             const int *test, int n_test, const char *dir, int resume,
                             const struct focal_run_callbacks *cb)
{
    struct run_ctx r = { 0 };
    focal_status st = run_check(cfg, d, n_train, n_val);
    if (st != FOCAL_OK)
        return st;
    r.cfg = cfg;
    r.d = d;
    r.dir = dir;
    r.outputs = focal_run_outputs(d);
    if ((st = make_dir(dir)) != FOCAL_OK)
        return st;

    int c, h, w;
    focal_run_input_size(d, &c, &h, &w);
    enum focal_head head = d->task == FOCAL_TASK_MULTICLASS ? FOCAL_HEAD_SOFTMAX : FOCAL_HEAD_SIGMOID;
    if ((st = focal_run_norm(d, train, n_train, &r.meta.channels, r.meta.mean, r.meta.std)) != FOCAL_OK)
        goto out;
    r.meta.seed = cfg->seed;
    r.meta.num_classes = r.outputs;
    /* binary runs have one output, named after the positive class */
    r.meta.class_names = d->task == FOCAL_TASK_BINARY ? d->class_names + 1 : d->class_names;
    if ((st = focal_model_create(&r.model, cfg->model_desc, cfg->model_name, c, h, w, r.outputs, head,
                                 cfg->batch)) != FOCAL_OK ||
        (st = focal_model_init(r.model, cfg->seed, head == FOCAL_HEAD_SIGMOID ? cfg->prior : 0.0)) != FOCAL_OK)
        goto out;
    r.optim_cfg = cfg->optim;
    if (r.optim_cfg.schedule == FOCAL_SCHED_COSINE && r.optim_cfg.total_steps == 0)
        r.optim_cfg.total_steps = (long)cfg->epochs * ((n_train + cfg->batch - 1) / cfg->batch);
    if ((st = focal_optim_create(&r.optim, &r.optim_cfg, r.model)) != FOCAL_OK)
        goto out;

    size_t per = (size_t)c * (size_t)h * (size_t)w;
    r.x = malloc((size_t)cfg->batch * per * sizeof *r.x);
    r.targets = malloc((size_t)cfg->batch * (size_t)r.outputs * sizeof(float));
    r.probs = malloc((size_t)n_val * (size_t)r.outputs * sizeof *r.probs);
    r.thresholds = malloc((size_t)r.outputs * sizeof *r.thresholds);
    r.state.thresholds = malloc((size_t)r.outputs * sizeof *r.state.thresholds);
    if (!r.x || !r.targets || !r.probs || !r.thresholds || !r.state.thresholds) {
        st = focal_fail(FOCAL_ERR_NOMEM, "out of memory");
        goto out;
    }
    for (int j = 0; j < r.outputs; j++)
        r.state.thresholds[j] = r.thresholds[j] = 0.5;
    if (resume && (st = resume_run(&r)) != FOCAL_OK)
        goto out;

    for (int epoch = r.state.epoch + 1; epoch <= cfg->epochs && !r.state.stopped; epoch++) {
        struct focal_epoch_record rec = { 0 };
        struct focal_run_summary sum;
        double t0 = focal_run_now();
        rec.epoch = epoch;
        rec.lr = focal_optim_lr(r.optim);
        if ((st = train_epoch(&r, epoch, train, n_train, &rec.train_loss, cb, t0)) != FOCAL_OK)
            goto out;
        if ((st = focal_run_scores(r.model, d, val, n_val, r.meta.mean, r.meta.std, &cfg->loss, r.probs,
                                   &rec.val_loss)) != FOCAL_OK ||
            (st = focal_run_summarise(d, val, n_val, r.probs, r.thresholds, 1, &sum)) != FOCAL_OK)
            goto out;
        rec.val_map = sum.map;
        rec.val_auc = sum.auc;
        rec.val_macro_f1 = sum.macro_f1;
        rec.val_balanced_accuracy = sum.balanced_accuracy;
        rec.val_accuracy = sum.accuracy;
        rec.select_value = select_value(focal_select_resolve(cfg->select, d->task), &sum, rec.val_loss);
        rec.seconds = focal_run_now() - t0;
        if ((st = end_epoch(&r, &rec)) != FOCAL_OK)
            goto out;
        if (cb && cb->epoch)
            cb->epoch(cb->ctx, &rec);
    }
    st = final_metrics(&r, val, n_val, test, n_test);
out:
    r.meta.class_names = NULL;
    focal_ckpt_meta_free(&r.meta);
    state_free(&r.state);
    focal_optim_free(r.optim);
    focal_model_free(r.model);
    free(r.x);
    free(r.targets);
    free(r.probs);
    free(r.thresholds);
    return st;
}

/* ---- finished runs ----------------------------------------------------------------------- */

void focal_run_free(struct focal_run *r)
{
    if (!r)
        return;
    focal_model_free(r->model);
    focal_ckpt_meta_free(&r->meta);
    free(r->thresholds);
    memset(r, 0, sizeof *r);
}

/* Reads run.json's task, thresholds and image options into r. */
static focal_status read_run_json(struct focal_run *r, const char *path)
{
    char *text = NULL;
    size_t len;
    focal_status st = focal_read_file(path, 1, &text, &len);
    if (st != FOCAL_OK)
        return st;
    cJSON *o = cJSON_ParseWithLength(text, len);
    free(text);
    const cJSON *fmt = cJSON_GetObjectItemCaseSensitive(o, "format");
    const cJSON *task = cJSON_GetObjectItemCaseSensitive(o, "task");
    const cJSON *th = cJSON_GetObjectItemCaseSensitive(o, "thresholds");
    if (!o || !cJSON_IsString(fmt) || strcmp(fmt->valuestring, RUN_FORMAT) != 0) {
        st = focal_fail(FOCAL_ERR_FORMAT, "%s: not a focal run description (no \"format\": \"%s\")", path,
                        RUN_FORMAT);
        goto out;
    }
    if (get_num(o, "version") != RUN_VERSION) {
        st = focal_fail(FOCAL_ERR_FORMAT, "%s: run version %g; this focal reads version %d", path,
                        get_num(o, "version"), RUN_VERSION);
        goto out;
    }
    int outputs = focal_model_classes(r->model);
    if (!cJSON_IsString(task) || task_parse(task->valuestring, &r->task) != 0 || !cJSON_IsArray(th) ||
        cJSON_GetArraySize(th) != outputs) {
        st = focal_fail(FOCAL_ERR_FORMAT, "%s: \"task\" or \"thresholds\" (%d numbers) is missing or malformed",
                        path, outputs);
        goto out;
    }
    r->num_classes = r->task == FOCAL_TASK_BINARY ? 2 : outputs;
    r->thresholds = malloc((size_t)outputs * sizeof *r->thresholds);
    if (!r->thresholds) {
        st = focal_fail(FOCAL_ERR_NOMEM, "out of memory");
        goto out;
    }
    int j = 0;
    const cJSON *x;
    cJSON_ArrayForEach(x, th) {
        r->thresholds[j++] = cJSON_IsNumber(x) ? x->valuedouble : 0.5;
    }
    r->fundus_crop = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(o, "fundus_crop"));
out:
    cJSON_Delete(o);
    return st;
}

focal_status focal_run_load(struct focal_run *r, const char *dir, int max_batch)
{
    char path[4096];
    memset(r, 0, sizeof *r);
    focal_status st = run_path(path, sizeof path, dir, "model.safetensors");
    if (st != FOCAL_OK || (st = focal_checkpoint_load(path, max_batch, &r->model, &r->meta)) != FOCAL_OK)
        return st;
    focal_model_input_shape(r->model, &r->channels, &r->height, &r->width);
    if ((st = run_path(path, sizeof path, dir, "run.json")) != FOCAL_OK || (st = read_run_json(r, path)) != FOCAL_OK)
        focal_run_free(r);
    return st;
}

focal_status focal_run_predict(struct focal_run *r, const struct focal_dataset *d, const int *idx, int n,
                               double *probs)
{
    int c, h, w;
    if (focal_run_input_size(d, &c, &h, &w) != 0 || c != r->channels || h != r->height || w != r->width)
        return focal_fail(FOCAL_ERR_ARG, "the data's inputs are %d×%d×%d; the model takes %d×%d×%d", c, h, w,
                          r->channels, r->height, r->width);
    if (r->meta.channels != c)
        return focal_fail(FOCAL_ERR_FORMAT, "the checkpoint normalises %d input channels; the model takes %d",
                          r->meta.channels, c);
    return focal_run_scores(r->model, d, idx, n, r->meta.mean, r->meta.std, NULL, probs, NULL);
}
