/* stage2.c — the second stage of decoupled training: a run that starts from
 * a finished run's best checkpoint and changes only its classifier (the
 * last layer, `dense classes`): cRT and τ-normalisation (Kang et al. 2020),
 * weight balancing's MaxNorm stage (Alshammari et al. 2022).
 *
 * The features stay bit-identical by construction: the whole network only
 * ever runs forward in evaluation mode (running batch-norm statistics, no
 * dropout, nothing updated), and the classifier is trained as a network of
 * its own — `dense classes` on the features — whose parameters are copied
 * into the last layer after every step. The optimiser holds that small
 * network's parameters only, so no gradient is computed for the features
 * and weight decay cannot touch them. */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "focal/train.h"
#include "base/internal.h"
#include "base/names.h"
#include "nn/model_internal.h"
#include "train/run_internal.h"

static const char *const stage2_names[FOCAL_STAGE2_COUNT] = { "none", "crt", "tau-norm", "wb" };

FOCAL_DEFINE_NAMES(focal_stage2_name, focal_stage2_parse, enum focal_stage2, "second stage",
                   FOCAL_NAMES(stage2_names))

/* τ-normalisation's grid: 0, 0.1, ..., 2. */
#define TAU_STEPS 20
#define TAU_MAX 2.0

struct focal_stage2_ctx {
    enum focal_stage2 scheme;
    double max_norm;
    char fingerprint[17];        /* the stage-1 run's */
    char *model_desc, *model_name;
    cJSON *data;                 /* the stage-1 run's data settings (sample lists' hash) */
    struct focal_model *clf;     /* the classifier alone: `dense classes` on the features */
    /* The training samples' features when the run does not augment them:
     * computed once, in a fixed order, at the first step of the run (or of
     * its resumption), so that an epoch costs the classifier's steps only. */
    int cache;                   /* 1: use the cache */
    const struct focal_dataset *d;
    const int *train;
    int n_train;
    const float *mean, *std;
    int dim;
    int *row;                    /* d->n: a sample's row of feat, or -1 */
    float *feat;                 /* n_train × dim, NULL until computed */
    float *batch;                /* max_batch × dim: the rows of a batch */
};

void focal_stage2_free(struct focal_stage2_ctx *s)
{
    if (!s)
        return;
    free(s->model_desc);
    free(s->model_name);
    cJSON_Delete(s->data);
    focal_model_free(s->clf);
    free(s->row);
    free(s->feat);
    free(s->batch);
    free(s);
}

/* A string member of o, or NULL. */
static const char *json_str(const cJSON *o, const char *key)
{
    const cJSON *x = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsString(x) ? x->valuestring : NULL;
}

focal_status focal_stage2_open(struct focal_stage2_ctx **out, const struct focal_run_config *cfg,
                               struct focal_run_config *own)
{
    *out = NULL;
    if (cfg->stage2 <= FOCAL_STAGE2_NONE || cfg->stage2 >= FOCAL_STAGE2_COUNT)
        return focal_fail(FOCAL_ERR_ARG, "second stage %d; expected crt, tau-norm or wb", (int)cfg->stage2);
    if (!cfg->stage2_from || !*cfg->stage2_from)
        return focal_fail(FOCAL_ERR_ARG, "a second stage (%s) needs the folder of its finished stage-1 run",
                          focal_stage2_name(cfg->stage2));
    if (cfg->stage2 == FOCAL_STAGE2_TAU_NORM && cfg->epochs != 1)
        return focal_fail(FOCAL_ERR_ARG, "tau-norm trains nothing: its one epoch is the search for tau; "
                          "epochs is %d, expected 1", cfg->epochs);
    if (cfg->ema_decay != 0)
        return focal_fail(FOCAL_ERR_ARG, "a second stage keeps its features exactly and an average of the weights "
                          "(ema decay %g) would move them; leave the average out (stage 1 may have one)",
                          cfg->ema_decay);
    if (cfg->mixup != 0)
        return focal_fail(FOCAL_ERR_ARG, "a second stage trains its classifier on the stage-1 run's features of "
                          "each training sample; mixup (alpha %g) mixes inputs, which it does not see: leave "
                          "mixup out (stage 1 may have it)", cfg->mixup);
    if (cfg->stage2 == FOCAL_STAGE2_WB && !(isfinite(cfg->max_norm) && cfg->max_norm > 0))
        return focal_fail(FOCAL_ERR_ARG, "weight balancing's MaxNorm radius is %g; expected a number > 0",
                          cfg->max_norm);
    char *path = focal_run_file(cfg->stage2_from, "run.json");
    if (!path)
        return FOCAL_ERR_NOMEM;
    cJSON *o = NULL;
    focal_status st = focal_read_json(path, &o);
    if (st != FOCAL_OK)
        goto out;
    const cJSON *conf = cJSON_GetObjectItemCaseSensitive(o, "config");
    const char *fp = json_str(o, "fingerprint"), *desc = json_str(conf, "model_description");
    const char *name = json_str(conf, "model");
    const cJSON *data = cJSON_GetObjectItemCaseSensitive(conf, "data");
    if (!cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(o, "finished"))) {
        st = focal_fail(FOCAL_ERR_ARG, "stage 1 %s: not a finished run (train it to the end first)", path);
        goto out;
    }
    if (!fp || strlen(fp) != 16 || !desc || !name || !cJSON_IsObject(data)) {
        st = focal_fail(FOCAL_ERR_FORMAT, "stage 1 %s: not the run.json of a single run (no fingerprint, network "
                        "or data settings; an ensemble has no one classifier to retrain)", path);
        goto out;
    }
    if (cJSON_GetObjectItemCaseSensitive(conf, "stage2")) {
        st = focal_fail(FOCAL_ERR_ARG, "stage 1 %s: is a second stage itself; give the run that learned the "
                        "features", path);
        goto out;
    }
    struct focal_stage2_ctx *s = calloc(1, sizeof *s);
    if (!s || !(s->model_desc = strdup(desc)) || !(s->model_name = strdup(name)) ||
        !(s->data = cJSON_Duplicate(data, 1))) {
        focal_stage2_free(s);
        st = focal_fail(FOCAL_ERR_NOMEM, "out of memory");
        goto out;
    }
    s->scheme = cfg->stage2;
    s->max_norm = cfg->max_norm;
    memcpy(s->fingerprint, fp, 17);
    *own = *cfg;
    own->model_desc = s->model_desc;
    own->model_name = s->model_name;
    *out = s;
out:
    cJSON_Delete(o);
    free(path);
    return st;
}

focal_status focal_stage2_settings(struct focal_stage2_ctx *s, const char *from, cJSON *settings)
{
    const cJSON *data = cJSON_GetObjectItemCaseSensitive(settings, "data");
    char why[200];
    if (focal_run_settings_diff(s->data, data, 0, why, sizeof why))
        return focal_fail(FOCAL_ERR_ARG, "stage 1 %s was trained on other data or splits (data.%s); give its "
                          "--data, split options and --seed", from, why);
    cJSON *o = cJSON_AddObjectToObject(settings, "stage2");
    if (!o || !cJSON_AddStringToObject(o, "scheme", focal_stage2_name(s->scheme)) ||
        !cJSON_AddStringToObject(o, "from_fingerprint", s->fingerprint))
        return focal_fail(FOCAL_ERR_NOMEM, "out of memory");
    if (s->scheme == FOCAL_STAGE2_WB)
        cJSON_AddNumberToObject(o, "max_norm", s->max_norm);
    if (s->scheme == FOCAL_STAGE2_TAU_NORM) {
        cJSON_AddNumberToObject(o, "tau_max", TAU_MAX);
        cJSON_AddNumberToObject(o, "tau_steps", TAU_STEPS);
    }
    return FOCAL_OK;
}

/* The weight (classes × *dim) and bias (classes values, or NULL) of m's
 * last layer; FOCAL_ERR_ARG when it is not `dense classes`. */
static focal_status last_dense(const struct focal_model *m, float **w, float **b, int *dim)
{
    const char *kind;
    int line;
    double fs, bs;
    focal_model_layer_time(m, focal_model_num_layers(m) - 1, &kind, &line, &fs, &bs);
    if (strcmp(kind, "dense") != 0)
        return focal_fail(FOCAL_ERR_ARG, "the network's last layer (line %d) is '%s'; a second stage retrains a "
                          "last layer `dense classes`", line, kind);
    struct focal_tensor_info t;
    const size_t nt = focal_model_num_tensors(m);
    focal_model_tensor(m, nt - 1, &t);
    *b = NULL;
    if (t.ndim == 1) {
        *b = t.data;
        focal_model_tensor(m, nt - 2, &t);
    }
    *w = t.data;
    *dim = t.shape[1];
    return FOCAL_OK;
}

/* Copies the classifier of src into that of dst (both checked by last_dense). */
static void copy_classifier(struct focal_model *dst, const struct focal_model *src)
{
    float *dw, *db, *sw, *sb;
    int dim;
    last_dense(dst, &dw, &db, &dim);
    last_dense(src, &sw, &sb, &dim);
    const size_t classes = (size_t)focal_model_classes(src);
    memcpy(dw, sw, classes * (size_t)dim * sizeof *dw);
    if (db)
        memcpy(db, sb, classes * sizeof *db);
}

focal_status focal_stage2_model(struct focal_stage2_ctx *s, const struct focal_run_config *cfg, int outputs,
                                enum focal_head head, struct focal_model **model, struct focal_ckpt_meta *meta)
{
    struct focal_ckpt_meta m1 = { 0 };
    struct focal_model *m = NULL;
    float *w, *b;
    int dim;
    /* With independent sigmoid outputs, w/|w|^tau multiplies each class's
     * score w.x by a positive constant: no ranking within a class and no
     * threshold chosen on validation can change, so the search is void. */
    if (s->scheme == FOCAL_STAGE2_TAU_NORM && head != FOCAL_HEAD_SOFTMAX)
        return focal_fail(FOCAL_ERR_ARG, "tau-norm needs a softmax head: on sigmoid outputs (multi-label or binary) "
                          "rescaling a class's weights changes none of its rankings or thresholds; use crt or wb");
    char *path = focal_run_file(cfg->stage2_from, "model.safetensors");
    if (!path)
        return FOCAL_ERR_NOMEM;
    focal_status st = focal_checkpoint_load(path, cfg->batch, &m, &m1);
    if (st != FOCAL_OK)
        goto out;
    if (focal_model_classes(m) != outputs || focal_model_head(m) != head) {
        st = focal_fail(FOCAL_ERR_ARG, "%s: %d %s outputs; this data needs %d %s outputs", path,
                        focal_model_classes(m), focal_model_head(m) == FOCAL_HEAD_SOFTMAX ? "softmax" : "sigmoid",
                        outputs, head == FOCAL_HEAD_SOFTMAX ? "softmax" : "sigmoid");
        goto out;
    }
    if ((st = last_dense(m, &w, &b, &dim)) != FOCAL_OK) {
        char why[256];
        snprintf(why, sizeof why, "%s", focal_last_error());
        focal_fail(st, "%s: %s", path, why);
        goto out;
    }
    /* the classifier alone, on the features as its input */
    if ((st = focal_model_create(&s->clf, b ? "flatten\ndense classes\n" : "flatten\ndense classes bias=0\n", "stage-2 classifier",
                                 dim, 1, 1, outputs, head, cfg->batch)) != FOCAL_OK)
        goto out;
    if (s->scheme == FOCAL_STAGE2_CRT) {
        if ((st = focal_model_init(s->clf, cfg->seed, head == FOCAL_HEAD_SIGMOID ? cfg->prior : 0.0)) != FOCAL_OK)
            goto out;
        copy_classifier(m, s->clf);
    } else {
        copy_classifier(s->clf, m);
    }
    /* stage 1's input normalisation, exactly */
    meta->channels = m1.channels;
    memcpy(meta->mean, m1.mean, sizeof m1.mean);
    memcpy(meta->std, m1.std, sizeof m1.std);
    *model = m;
    m = NULL;
out:
    focal_ckpt_meta_release(&m1);
    focal_model_free(m);
    free(path);
    return st;
}

struct focal_model *focal_stage2_trained(struct focal_stage2_ctx *s, struct focal_model *m)
{
    if (!s)
        return m;
    copy_classifier(s->clf, m);
    return s->clf;
}

/* The L2 norm of row (dim floats), summed in double. */
static double row_norm(const float *row, int dim)
{
    double ss = 0;
    for (int k = 0; k < dim; k++)
        ss += (double)row[k] * row[k];
    return sqrt(ss);
}

/* Per-class MaxNorm: every weight row (classes × dim) longer than r is
 * scaled back onto the ball of radius r. */
static void max_norm_project(float *w, int classes, int dim, double r)
{
    for (int c = 0; c < classes; c++) {
        float *row = w + (size_t)c * (size_t)dim;
        const double norm = row_norm(row, dim);
        if (norm <= r)
            continue;
        const float f = (float)(r / norm);
        for (int k = 0; k < dim; k++)
            row[k] *= f;
    }
}

void focal_stage2_cache(struct focal_stage2_ctx *s, const struct focal_dataset *d, const int *train, int n_train,
                        const struct focal_augment *aug, const float *mean, const float *std)
{
    float *w, *b;
    last_dense(s->clf, &w, &b, &s->dim);
    const int augments = aug && (aug->hflip || aug->vflip || aug->rot90 || aug->rotate != 0 || aug->scale != 0 ||
                                 aug->translate != 0 || aug->brightness != 0 || aug->contrast != 0);
    const double bytes = (double)n_train * s->dim * sizeof(float) + (double)d->n * sizeof(int);
    s->cache = !augments && bytes <= (double)focal_memory_limit(NULL) / 4;
    s->d = d;
    s->train = train;
    s->n_train = n_train;
    s->mean = mean;
    s->std = std;
}

/* Computes the cache of s for the network m: the features of the training
 * samples in batches of m's largest, in their order. */
static focal_status cache_features(struct focal_stage2_ctx *s, struct focal_model *m)
{
    int c, h, w, dim;
    focal_model_input_shape(m, &c, &h, &w);
    const int bmax = focal_model_max_batch(m);
    float *x = malloc((size_t)bmax * (size_t)c * (size_t)h * (size_t)w * sizeof *x);
    s->row = malloc((size_t)s->d->n * sizeof *s->row);
    s->feat = malloc((size_t)s->n_train * (size_t)s->dim * sizeof *s->feat);
    s->batch = malloc((size_t)bmax * (size_t)s->dim * sizeof *s->batch);
    focal_status st = FOCAL_OK;
    if (!x || !s->row || !s->feat || !s->batch) {
        st = focal_fail(FOCAL_ERR_NOMEM, "out of memory for the features of %d training samples", s->n_train);
        goto out;
    }
    for (int i = 0; i < s->d->n; i++)
        s->row[i] = -1;
    for (int at = 0; at < s->n_train; at += bmax) {
        const int n = s->n_train - at < bmax ? s->n_train - at : bmax;
        const float *logits;
        focal_run_inputs(x, s->d, s->train + at, n, NULL, 0, s->mean, s->std);
        if ((st = focal_model_forward(m, x, n, 0, &logits)) != FOCAL_OK)
            goto out;
        memcpy(s->feat + (size_t)at * (size_t)s->dim, focal_model_last_input(m, &dim),
               (size_t)n * (size_t)s->dim * sizeof *s->feat);
        for (int k = 0; k < n; k++)
            s->row[s->train[at + k]] = at + k;
    }
out:
    free(x);
    if (st != FOCAL_OK) {
        free(s->feat);
        s->feat = NULL;
    }
    return st;
}

/* The features of samples idx[0..n) (inputs x) for the classifier: the
 * cached rows, or m's evaluation-mode forward. */
static focal_status features(struct focal_stage2_ctx *s, struct focal_model *m, const int *idx, const float *x,
                             int n, const float **feat)
{
    focal_status st;
    int dim;
    if (s->cache && !s->feat && (st = cache_features(s, m)) != FOCAL_OK)
        return st;
    int cached = s->feat != NULL;
    for (int k = 0; cached && k < n; k++)
        cached = s->row[idx[k]] >= 0;
    if (cached) {
        for (int k = 0; k < n; k++)
            memcpy(s->batch + (size_t)k * (size_t)s->dim, s->feat + (size_t)s->row[idx[k]] * (size_t)s->dim,
                   (size_t)s->dim * sizeof *s->batch);
        *feat = s->batch;
        return FOCAL_OK;
    }
    const float *logits;
    if ((st = focal_model_forward(m, x, n, 0, &logits)) != FOCAL_OK)
        return st;
    *feat = focal_model_last_input(m, &dim);
    return FOCAL_OK;
}

focal_status focal_stage2_step(struct focal_stage2_ctx *s, struct focal_model *m, struct focal_optim *o,
                               const struct focal_loss *l, const int *idx, const float *x, const void *targets,
                               int n, double *loss)
{
    const float *feat;
    int dim;
    focal_status st = features(s, m, idx, x, n, &feat);
    if (st != FOCAL_OK)
        return st;
    if ((st = focal_train_step(s->clf, o, l, feat, targets, n, loss)) != FOCAL_OK)
        return st;
    if (s->scheme == FOCAL_STAGE2_WB) {
        float *w, *b;
        last_dense(s->clf, &w, &b, &dim);
        max_norm_project(w, focal_model_classes(s->clf), dim, s->max_norm);
    }
    copy_classifier(m, s->clf);
    return FOCAL_OK;
}

/* w = w0 with each class's row divided by its L2 norm to the power tau (a
 * zero row stays zero). */
static void tau_normalise(float *w, const float *w0, int classes, int dim, double tau)
{
    for (int c = 0; c < classes; c++) {
        const float *r0 = w0 + (size_t)c * (size_t)dim;
        const double norm = row_norm(r0, dim);
        const float f = norm > 0 ? (float)pow(norm, -tau) : 1.0f;
        for (int k = 0; k < dim; k++)
            w[(size_t)c * (size_t)dim + (size_t)k] = r0[k] * f;
    }
}

/* The validation value of the classifier s->clf on the features feat
 * (n_val × dim) of samples val: the selection metric sel (and the loss l
 * when sel is the loss). probs (n_val × outputs), thresholds and targets
 * (a batch's) are scratch. */
static focal_status tau_value(struct focal_stage2_ctx *s, const float *feat, int dim, const struct focal_dataset *d,
                              const int *val, int n_val, const struct focal_loss *l, enum focal_select sel,
                              double *probs, double *thresholds, void *targets, double *value)
{
    const int classes = focal_model_classes(s->clf), bmax = focal_model_max_batch(s->clf);
    const int softmax = focal_model_head(s->clf) == FOCAL_HEAD_SOFTMAX;
    double total = 0;
    for (int at = 0; at < n_val; at += bmax) {
        const int b = n_val - at < bmax ? n_val - at : bmax;
        const float *logits;
        focal_status st = focal_model_forward(s->clf, feat + (size_t)at * (size_t)dim, b, 0, &logits);
        if (st != FOCAL_OK)
            return st;
        if ((st = focal_run_batch_out(probs + (size_t)at * (size_t)classes, &total, logits, b, classes, softmax,
                                      sel == FOCAL_SELECT_LOSS ? l : NULL, d, val + at, targets)) != FOCAL_OK)
            return st;
    }
    struct focal_run_summary sum;
    focal_status st = focal_run_summarise(d, val, n_val, probs, thresholds, 1, &sum);
    if (st != FOCAL_OK)
        return st;
    struct focal_epoch_record rec = { .val_loss = total / n_val, .val_map = sum.map, .val_auc = sum.auc,
                                      .val_macro_f1 = sum.macro_f1, .val_balanced_accuracy = sum.balanced_accuracy,
                                      .val_accuracy = sum.accuracy };
    *value = focal_epoch_select_value(&rec, sel);
    return FOCAL_OK;
}

focal_status focal_stage2_tau(struct focal_stage2_ctx *s, struct focal_model *m, const struct focal_dataset *d,
                              const int *val, int n_val, const float *mean, const float *std,
                              const struct focal_loss *l, enum focal_select sel, cJSON **found)
{
    int c, h, wd, dim;
    float *w, *b;
    focal_model_input_shape(m, &c, &h, &wd);
    last_dense(s->clf, &w, &b, &dim);
    const int classes = focal_model_classes(m), bmax = focal_model_max_batch(m);
    const size_t per = (size_t)c * (size_t)h * (size_t)wd, nw = (size_t)classes * (size_t)dim;
    float *x = malloc((size_t)bmax * per * sizeof *x);
    float *feat = malloc((size_t)n_val * (size_t)dim * sizeof *feat);
    float *w0 = malloc(nw * sizeof *w0);
    double *probs = malloc((size_t)n_val * (size_t)classes * sizeof *probs);
    double *thr = malloc((size_t)classes * sizeof *thr);
    void *targets = malloc((size_t)bmax * (size_t)classes * sizeof(float));
    cJSON *o = cJSON_CreateObject(), *search = cJSON_AddArrayToObject(o, "search");
    focal_status st = FOCAL_OK;
    if (!x || !feat || !w0 || !probs || !thr || !targets || !search) {
        st = focal_fail(FOCAL_ERR_NOMEM, "out of memory");
        goto out;
    }
    /* the validation samples' features, once */
    for (int at = 0; at < n_val; at += bmax) {
        const int n = n_val - at < bmax ? n_val - at : bmax;
        const float *logits;
        focal_run_inputs(x, d, val + at, n, NULL, 0, mean, std);
        if ((st = focal_model_forward(m, x, n, 0, &logits)) != FOCAL_OK)
            goto out;
        memcpy(feat + (size_t)at * (size_t)dim, focal_model_last_input(m, &dim), (size_t)n * (size_t)dim * sizeof *feat);
    }
    memcpy(w0, w, nw * sizeof *w0);
    double best_tau = 0, best = NAN;
    for (int k = 0; k <= TAU_STEPS; k++) {
        const double tau = TAU_MAX * k / TAU_STEPS;
        double v;
        tau_normalise(w, w0, classes, dim, tau);
        if ((st = tau_value(s, feat, dim, d, val, n_val, l, sel, probs, thr, targets, &v)) != FOCAL_OK)
            goto out;
        const int better = k == 0 || (isfinite(v) && (!isfinite(best) || (sel == FOCAL_SELECT_LOSS ? v < best
                                                                                                   : v > best)));
        if (better) {
            best = v;
            best_tau = tau;
        }
        cJSON *e = cJSON_CreateObject();
        cJSON_AddItemToObject(e, "tau", focal_run_exact_number(tau));
        cJSON_AddItemToObject(e, "value", focal_run_exact_number(v));
        cJSON_AddItemToArray(search, e);
    }
    tau_normalise(w, w0, classes, dim, best_tau);
    copy_classifier(m, s->clf);
    cJSON_AddItemToObject(o, "tau", focal_run_exact_number(best_tau));
    cJSON_AddStringToObject(o, "chosen_by", focal_select_name(sel));
    cJSON_Delete(*found);
    *found = o;
    o = NULL;
out:
    cJSON_Delete(o);
    free(x);
    free(feat);
    free(w0);
    free(probs);
    free(thr);
    free(targets);
    return st;
}

cJSON *focal_stage2_run_json(const struct focal_run_config *cfg, const cJSON *settings, const cJSON *found)
{
    cJSON *o = cJSON_Duplicate(cJSON_GetObjectItemCaseSensitive(settings, "stage2"), 1);
    if (!o)
        return NULL;
    cJSON_AddStringToObject(o, "from", cfg->stage2_from ? cfg->stage2_from : "");
    const cJSON *item;
    cJSON_ArrayForEach(item, found) {
        cJSON_AddItemToObject(o, item->string, cJSON_Duplicate(item, 1));
    }
    return o;
}
