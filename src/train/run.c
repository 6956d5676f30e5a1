/* run.c — training runs: epochs, validation, checkpoint selection, early
 * stopping, resuming (the run state kept in the last checkpoint), and the
 * final evaluation of the chosen checkpoint. */
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
#include "train/mixup.h"
#include "train/run_internal.h"

double focal_run_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* ---- the run state ------------------------------------------------------------------ */

static void state_free(struct focal_run_state *s)
{
    free(s->thresholds);
    free(s->history);
    cJSON_Delete(s->stage2);
    memset(s, 0, sizeof *s);
}

static cJSON *record_json(const struct focal_epoch_record *r)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "epoch", r->epoch);
    focal_run_add_num(o, "train_loss", r->train_loss);
    focal_run_add_num(o, "val_loss", r->val_loss);
    focal_run_add_num(o, "val_map", r->val_map);
    focal_run_add_num(o, "val_auc", r->val_auc);
    focal_run_add_num(o, "val_macro_f1", r->val_macro_f1);
    focal_run_add_num(o, "val_balanced_accuracy", r->val_balanced_accuracy);
    focal_run_add_num(o, "val_accuracy", r->val_accuracy);
    focal_run_add_num(o, "select_value", r->select_value);
    cJSON_AddBoolToObject(o, "improved", r->improved);
    focal_run_add_num(o, "lr", r->lr);
    focal_run_add_num(o, "seconds", r->seconds);
    return o;
}

static void record_parse(struct focal_epoch_record *r, const cJSON *o)
{
    r->epoch = (int)focal_run_get_num(o, "epoch");
    r->train_loss = focal_run_get_num(o, "train_loss");
    r->val_loss = focal_run_get_num(o, "val_loss");
    r->val_map = focal_run_get_num(o, "val_map");
    r->val_auc = focal_run_get_num(o, "val_auc");
    r->val_macro_f1 = focal_run_get_num(o, "val_macro_f1");
    r->val_balanced_accuracy = focal_run_get_num(o, "val_balanced_accuracy");
    r->val_accuracy = focal_run_get_num(o, "val_accuracy");
    r->select_value = focal_run_get_num(o, "select_value");
    r->improved = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(o, "improved"));
    r->lr = focal_run_get_num(o, "lr");
    r->seconds = focal_run_get_num(o, "seconds");
}

/* The state (with the run's settings) as JSON text, stored in the last
 * checkpoint so that the checkpoint, its optimiser file and the state always
 * agree. NULL when out of memory. */
static char *state_text(const struct focal_run_state *s, const cJSON *settings, int outputs)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddItemToObject(o, "config", cJSON_Duplicate(settings, 1));
    cJSON_AddNumberToObject(o, "epoch", s->epoch);
    cJSON_AddNumberToObject(o, "best_epoch", s->best_epoch);
    focal_run_add_num(o, "best_value", s->best_value);
    cJSON_AddNumberToObject(o, "bad_epochs", s->bad_epochs);
    cJSON_AddBoolToObject(o, "stopped", s->stopped);
    cJSON_AddItemToObject(o, "thresholds", focal_run_exact_array(s->thresholds, outputs));
    cJSON *h = cJSON_AddArrayToObject(o, "history");
    for (int i = 0; i < s->n_history; i++)
        cJSON_AddItemToArray(h, record_json(&s->history[i]));
    if (s->stage2)
        cJSON_AddItemToObject(o, "stage2", cJSON_Duplicate(s->stage2, 1));
    char *text = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    return text;
}

static int state_push(struct focal_run_state *s, const struct focal_epoch_record *r)
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
 * settings equal these (the epoch count may differ), naming the first
 * setting that differs. */
static focal_status state_restore(struct focal_run_state *s, const char *text, const char *path,
                                  const cJSON *settings, int outputs)
{
    focal_status st = FOCAL_OK;
    cJSON *o = cJSON_ParseWithOpts(text, NULL, 1); /* the whole value, nothing after it */
    char why[256];
    const cJSON *old = cJSON_GetObjectItemCaseSensitive(o, "config");
    const cJSON *th = cJSON_GetObjectItemCaseSensitive(o, "thresholds");
    const cJSON *h = cJSON_GetObjectItemCaseSensitive(o, "history");
    if (!cJSON_IsObject(old) || !cJSON_IsArray(th) || cJSON_GetArraySize(th) != outputs || !cJSON_IsArray(h)) {
        st = focal_fail(FOCAL_ERR_FORMAT, "%s: the run state in its metadata is missing or malformed", path);
        goto out;
    }
    if (focal_run_settings_diff(old, settings, 1, why, sizeof why)) {
        st = focal_fail(FOCAL_ERR_ARG, "%s: the run was made with other settings (%s); resume with the same "
                        "settings and data, or start a new run folder", path, why);
        goto out;
    }
    const cJSON *item;
    s->epoch = (int)focal_run_get_num(o, "epoch");
    s->best_epoch = (int)focal_run_get_num(o, "best_epoch");
    s->best_value = focal_run_get_num(o, "best_value");
    s->bad_epochs = (int)focal_run_get_num(o, "bad_epochs");
    s->stopped = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(o, "stopped"));
    const cJSON *found = cJSON_GetObjectItemCaseSensitive(o, "stage2");
    if (cJSON_IsObject(found) && !(s->stage2 = cJSON_Duplicate(found, 1))) {
        st = focal_fail(FOCAL_ERR_NOMEM, "out of memory");
        goto out;
    }
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
    if (!(cfg->mixup >= 0 && cfg->mixup <= 1e6))
        return focal_fail(FOCAL_ERR_ARG, "mixup alpha %g; expected a number from 0 (off) to 1e6", cfg->mixup);
    const struct focal_comm *comm = focal_dp_comm(cfg);
    if (comm && cfg->batch < 2 * comm->size)
        return focal_fail(FOCAL_ERR_ARG, "batch %d over %d ranks; each rank needs at least 2 samples of every batch "
                          "(batch >= %d)", cfg->batch, comm->size, 2 * comm->size);
    if (comm && (cfg->mixup > 0 || cfg->stage2 != FOCAL_STAGE2_NONE))
        return focal_fail(FOCAL_ERR_ARG, "%s trains on one process; data-parallel training (%d ranks) does not "
                          "support it: run it without mpirun", cfg->mixup > 0 ? "mixup" : "a second stage (--stage2)",
                          comm->size);
    if (cfg->reweight_from < 0 || !(cfg->reweight_beta >= 0 && cfg->reweight_beta < 1))
        return focal_fail(FOCAL_ERR_ARG, "deferred re-weighting from epoch %d with beta %g; expected an epoch >= 0 "
                          "(0: off) and beta in [0, 1)", cfg->reweight_from, cfg->reweight_beta);
    if (cfg->posthoc != FOCAL_POSTHOC_OFF && d->task != FOCAL_TASK_MULTICLASS)
        return focal_fail(FOCAL_ERR_ARG, "post-hoc logit adjustment shifts the logits of a softmax head "
                          "(multi-class data); on %s data each output's decision threshold is chosen on "
                          "validation, which absorbs any shift of its logit, so it would change nothing%s",
                          focal_task_name(d->task), d->task == FOCAL_TASK_BINARY
                              ? " (two classes as a two-way softmax: --head softmax)" : "");
    if (cfg->posthoc == FOCAL_POSTHOC_TAU && !(cfg->posthoc_tau >= 0 && cfg->posthoc_tau <= 100))
        return focal_fail(FOCAL_ERR_ARG, "post-hoc logit adjustment with tau %g; expected tau in [0, 100]",
                          cfg->posthoc_tau);
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
    const char *out;                 /* where files are written: the staging folder of a commit */
    cJSON *settings;                 /* focal_run_settings_json: what determines the run */
    int outputs;
    struct focal_optim_config optim_cfg; /* the configuration's, with the cosine span filled in */
    struct focal_model *model;
    struct focal_model *ema;         /* the weight average (ema.c), or NULL */
    struct focal_optim *optim;
    struct focal_ckpt_meta meta;     /* normalisation and names to save */
    struct focal_run_state state;
    float *x;
    void *targets;
    double *probs;                   /* n_val × outputs, then reused for test */
    double *thresholds;              /* this epoch's */
    struct focal_loss loss;          /* the configuration's, with the class prior of the training split */
    double *prior;                   /* outputs values, when the loss takes a prior */
    double *drw;                     /* outputs class-balanced weights for DRW's epochs, or NULL */
    struct focal_run_mixup mixup;    /* mixup's buffers (alpha 0: off) */
    size_t per;                      /* input values per sample */
    struct focal_stage2_ctx *s2;     /* a second stage (stage2.c), or NULL */
};

/* DRW's class-balanced weights (cfg->reweight_from > 0) from the training
 * split's counts per output; a class without training samples counts as one. */
static focal_status run_drw(struct run_ctx *r, const int *train, int n_train)
{
    const struct focal_run_config *cfg = r->cfg;
    if (cfg->reweight_from <= 0)
        return FOCAL_OK;
    if (r->d->task == FOCAL_TASK_BINARY)
        return focal_fail(FOCAL_ERR_ARG, "deferred re-weighting weighs the classes of multi-class or multi-label "
                          "data; binary data has one output (weigh its positives with alpha, or use --head softmax)");
    double *counts = calloc((size_t)r->d->num_classes, sizeof *counts);
    r->drw = malloc((size_t)r->outputs * sizeof *r->drw);
    if (!counts || !r->drw) {
        free(counts);
        return focal_fail(FOCAL_ERR_NOMEM, "out of memory");
    }
    focal_dataset_class_counts(r->d, train, n_train, counts);
    for (int j = 0; j < r->outputs; j++)
        counts[j] = counts[j] < 1 ? 1 : counts[j];
    const focal_status st = focal_weights_effective(r->drw, counts, (size_t)r->outputs, cfg->reweight_beta);
    free(counts);
    return st;
}

/* The training split's class prior for the long-tail losses that take one
 * (focal_loss_info: FOCAL_PARAM_CLASS_PRIOR): per output, the training
 * samples of the class (softmax; only ratios matter) or the fraction of
 * training samples with the label (sigmoid: binary's one output, each label).
 * A class without training samples counts as half a sample, so the prior stays
 * positive (and below 1). Sets r->loss; a loss given its own prior keeps it. */
static focal_status run_prior(struct run_ctx *r, const int *train, int n_train)
{
    r->loss = r->cfg->loss;
    if (!(focal_loss_info(r->loss.kind)->params & FOCAL_PARAM_CLASS_PRIOR) || r->loss.class_prior)
        return FOCAL_OK;
    r->prior = malloc((size_t)r->outputs * sizeof *r->prior);
    if (!r->prior)
        return focal_fail(FOCAL_ERR_NOMEM, "out of memory");
    const focal_status st = focal_run_class_prior(r->prior, r->d, train, n_train, r->outputs,
                                                  !focal_loss_is_softmax(r->loss.kind));
    if (st != FOCAL_OK)
        return st;
    r->loss.class_prior = r->prior;
    return focal_loss_check(&r->loss, (size_t)r->outputs);
}

/* Saves a checkpoint of the model (with extra text) at dir/name. */
static focal_status save_ckpt(struct run_ctx *r, const struct focal_model *m, const char *name, char *extra)
{
    char path[4096];
    focal_status st = focal_run_path(path, sizeof path, r->out, name);
    if (st != FOCAL_OK)
        return st;
    r->meta.epoch = r->state.epoch;
    r->meta.extra = extra;
    st = focal_checkpoint_save(path, m, &r->meta);
    r->meta.extra = NULL;
    return st;
}

static focal_status end_epoch_files(struct run_ctx *r, struct focal_epoch_record *rec);

/* After epoch e's validation: the best checkpoint (when it improved), the
 * last checkpoint with the run state, the optimiser, history and run.json,
 * as one commit: after a crash the folder holds this epoch or the one
 * before, never parts of both. */
static focal_status end_epoch(struct run_ctx *r, struct focal_epoch_record *rec)
{
    struct focal_commit c;
    focal_status st = focal_commit_begin(&c, r->dir);
    if (st != FOCAL_OK)
        return st;
    r->out = c.stage;
    st = end_epoch_files(r, rec);
    r->out = r->dir;
    if (st != FOCAL_OK) {
        focal_commit_abort(&c);
        return st;
    }
    return focal_commit_end(&c);
}

/* end_epoch's files, written into r->out. */
static focal_status end_epoch_files(struct run_ctx *r, struct focal_epoch_record *rec)
{
    struct focal_run_state *s = &r->state;
    focal_status st;
    enum focal_select sel = focal_select_resolve(r->cfg->select, r->d->task);
    rec->improved = select_better(sel, rec->select_value, s->best_value, s->best_epoch > 0);
    s->epoch = rec->epoch;
    if (rec->improved) {
        s->best_epoch = rec->epoch;
        s->best_value = rec->select_value;
        s->bad_epochs = 0;
        memcpy(s->thresholds, r->thresholds, (size_t)r->outputs * sizeof *s->thresholds);
        if ((st = save_ckpt(r, r->ema ? r->ema : r->model, "model.safetensors", NULL)) != FOCAL_OK)
            return st;
    } else {
        s->bad_epochs++;
    }
    if (r->cfg->patience > 0 && s->bad_epochs >= r->cfg->patience)
        s->stopped = 1;
    if (state_push(s, rec) != 0)
        return focal_fail(FOCAL_ERR_NOMEM, "out of memory");
    char *text = state_text(s, r->settings, r->outputs);
    if (!text)
        return focal_fail(FOCAL_ERR_NOMEM, "out of memory");
    char path[4096];
    st = save_ckpt(r, r->model, "last.safetensors", text);
    free(text);
    if (st == FOCAL_OK && r->ema)
        st = save_ckpt(r, r->ema, "last.ema.safetensors", NULL);
    if (st == FOCAL_OK && (st = focal_run_path(path, sizeof path, r->out, "last.optim.safetensors")) == FOCAL_OK)
        st = focal_optim_save(path, r->optim);
    if (st == FOCAL_OK)
        st = focal_run_write_history(r->out, s);
    if (st == FOCAL_OK)
        st = focal_run_write_run_json(r->out, r->cfg, r->d, s, r->outputs, r->settings, 0);
    return st;
}

/* Loads the last checkpoint, optimiser state and run state of r->dir. */
static focal_status resume_run(struct run_ctx *r)
{
    char path[4096];
    struct focal_model *m = NULL;
    struct focal_ckpt_meta meta = { 0 };
    focal_status st = focal_run_path(path, sizeof path, r->dir, "last.safetensors");
    if (st != FOCAL_OK)
        return st;
    if ((st = focal_checkpoint_load(path, r->cfg->batch, &m, &meta)) != FOCAL_OK)
        return st;
    if (!meta.extra) {
        st = focal_fail(FOCAL_ERR_FORMAT, "%s: not the last checkpoint of a run (no run state)", path);
        goto fail;
    }
    if ((st = state_restore(&r->state, meta.extra, path, r->settings, r->outputs)) != FOCAL_OK)
        goto fail;
    focal_optim_free(r->optim);
    focal_model_free(r->model);
    r->optim = NULL;
    r->model = m;
    m = NULL;
    if ((st = focal_optim_create(&r->optim, &r->optim_cfg, focal_stage2_trained(r->s2, r->model))) != FOCAL_OK)
        goto fail;
    if ((st = focal_run_path(path, sizeof path, r->dir, "last.optim.safetensors")) != FOCAL_OK ||
        (st = focal_optim_load(path, r->optim)) != FOCAL_OK)
        goto fail;
    if (r->ema) {
        struct focal_model *e = NULL;
        if ((st = focal_run_path(path, sizeof path, r->dir, "last.ema.safetensors")) != FOCAL_OK ||
            (st = focal_checkpoint_load(path, r->cfg->batch, &e, NULL)) != FOCAL_OK)
            goto fail;
        focal_model_free(r->ema);
        r->ema = e;
    }
    /* the normalisation of the original run, exactly */
    r->meta.channels = meta.channels;
    memcpy(r->meta.mean, meta.mean, sizeof meta.mean);
    memcpy(r->meta.std, meta.std, sizeof meta.std);
fail:
    focal_model_free(m);
    focal_ckpt_meta_release(&meta);
    return st;
}

/* The optimiser steps an epoch of len samples takes in batches of `batch`
 * (a last batch of one sample is dropped, as train_epoch does; over N ranks,
 * a batch of fewer than 2N samples). */
static long epoch_steps(int len, int batch, const struct focal_comm *comm)
{
    const long full = len / batch, rem = len % batch;
    if (comm)
        return full + (rem >= 2L * comm->size);
    return full + (rem >= 2 || (rem == 1 && full == 0));
}

/* The optimiser steps of the whole run: every epoch's order is drawn (they
 * depend only on the sampler, the data, the seed and the epoch, and with
 * repeat-factor sampling their lengths differ) and its batches counted. */
static focal_status run_total_steps(const struct focal_run_config *cfg, const struct focal_dataset *d,
                                    const int *train, int n_train, long *total)
{
    *total = 0;
    for (int epoch = 1; epoch <= cfg->epochs; epoch++) {
        int *order = NULL, len = 0;
        focal_status st = focal_sampler_epoch(cfg->sampler, d, train, n_train, cfg->seed, epoch,
                                              cfg->repeat_threshold, &order, &len);
        free(order);
        if (st != FOCAL_OK)
            return st;
        *total += epoch_steps(len, cfg->batch, focal_dp_comm(cfg));
    }
    if (*total < 1)
        *total = 1;
    return FOCAL_OK;
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
    const struct focal_comm *comm = focal_dp_comm(cfg);
    if (comm)
        focal_dp_seed_dropout(r->model, comm, cfg->seed, epoch);
    double sum = 0;
    long seen = 0;
    for (int at = 0; at < len; at += cfg->batch) {
        int b = len - at < cfg->batch ? len - at : cfg->batch;
        if (comm ? b < 2 * comm->size : b < 2 && at > 0)
            break;   /* batch norm needs two samples (per rank); a smaller last batch is dropped */
        int lo = 0, hi = b; /* this rank's share */
        if (comm)
            focal_dp_shard(b, comm, &lo, &hi);
        focal_run_inputs_at(r->x, r->d, order + at + lo, hi - lo, &cfg->augment,
                            focal_run_seed(cfg->seed, (uint64_t)epoch, (uint64_t)at), lo, r->meta.mean,
                            r->meta.std);
        focal_run_targets(r->targets, r->d, order + at + lo, hi - lo);
        double v;
        const double lr = focal_optim_lr(r->optim);
        if (comm) { /* no mixup or second stage (run_check) */
            st = focal_train_step_dp(r->model, r->optim, &r->loss, comm, r->x, r->targets, hi - lo, &v);
        } else {
            const struct focal_mixup_batch *mix =
                focal_run_mixup_apply(&r->mixup, r->x, r->targets, b, r->per, r->outputs,
                                      r->d->task == FOCAL_TASK_MULTICLASS, cfg->seed, epoch, at);
            st = r->s2 ? focal_stage2_step(r->s2, r->model, r->optim, &r->loss, order + at, r->x, r->targets, b, &v)
                       : focal_train_step_mixed(r->model, r->optim, &r->loss, r->x, r->targets, mix, b, &v);
        }
        if (st == FOCAL_ERR_NUMERIC) {
            st = focal_fail(FOCAL_ERR_NUMERIC,
                            "epoch %d, batch %d: %s; training stopped; the run folder keeps epoch %d "
                            "(lower --lr, or add --clip-norm)",
                            epoch, at / cfg->batch + 1, focal_last_error(), r->state.epoch);
            goto out;
        }
        if (st != FOCAL_OK)
            goto out;
        if (r->ema)
            focal_run_ema_update(r->ema, r->model, cfg->ema_decay, focal_optim_steps(r->optim));
        sum += v * b;
        seen += b;
        if (cb && cb->step)
            cb->step(cb->ctx, epoch, focal_optim_steps(r->optim), lr, v);
        if (cb && cb->batch)
            cb->batch(cb->ctx, epoch, cfg->epochs, seen, len, sum / (double)seen, focal_run_now() - t0);
    }
    *loss = seen ? sum / (double)seen : NAN;
out:
    free(order);
    return st;
}

/* After an epoch's training: its validation (rec's metrics, this epoch's
 * thresholds) and its commit (end_epoch). */
static focal_status epoch_files(struct run_ctx *r, struct focal_epoch_record *rec, const int *val, int n_val,
                                double t0)
{
    struct focal_run_summary sum;
    const struct focal_dataset *d = r->d;
    focal_status st = focal_run_scores(r->ema ? r->ema : r->model, d, val, n_val, r->meta.mean, r->meta.std,
                                       &r->loss, r->probs, &rec->val_loss);
    if (st != FOCAL_OK || (st = focal_run_summarise(d, val, n_val, r->probs, r->thresholds, 1, &sum)) != FOCAL_OK)
        return st;
    rec->val_map = sum.map;
    rec->val_auc = sum.auc;
    rec->val_macro_f1 = sum.macro_f1;
    rec->val_balanced_accuracy = sum.balanced_accuracy;
    rec->val_accuracy = sum.accuracy;
    rec->select_value = focal_epoch_select_value(rec, focal_select_resolve(r->cfg->select, d->task));
    rec->seconds = focal_run_now() - t0;
    return end_epoch(r, rec);
}

/* Evaluates the best checkpoint on validation and test, with the post-hoc
 * logit adjustment when the run has one (chosen from the training prior and
 * the validation probabilities only, then applied to both splits), and
 * commits metrics.json, scores.csv and run.json marked finished together. */
static focal_status final_metrics(struct run_ctx *r, const int *train, int n_train, const int *val, int n_val,
                                  const int *test, int n_test)
{
    char path[4096];
    struct focal_model *best = NULL;
    double *tp = NULL;
    struct focal_commit c = { 0 };
    struct focal_run_posthoc ph = { 0 };
    focal_status st = focal_run_path(path, sizeof path, r->dir, "model.safetensors");
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
    if (st == FOCAL_OK && r->cfg->posthoc != FOCAL_POSTHOC_OFF &&
        (st = focal_run_posthoc_choose(&ph, r->cfg, r->d, train, n_train, val, n_val, r->probs)) == FOCAL_OK) {
        focal_run_adjust(r->probs, n_val, r->outputs, ph.shift);
        if (n_test > 0)
            focal_run_adjust(tp, n_test, r->outputs, ph.shift);
        r->state.posthoc = &ph;
    }
    if (st == FOCAL_OK)
        st = focal_commit_begin(&c, r->dir);
    if (st == FOCAL_OK && (st = focal_run_path(path, sizeof path, c.stage, "metrics.json")) == FOCAL_OK)
        st = focal_run_write_metrics(path, r->d, val, n_val, r->probs, test, n_test, tp, r->state.thresholds);
    if (st == FOCAL_OK && (st = focal_run_path(path, sizeof path, c.stage, "scores.csv")) == FOCAL_OK)
        st = focal_run_write_scores(path, r->d, r->outputs, val, n_val, r->probs, test, n_test, tp);
    if (st == FOCAL_OK)
        st = focal_run_write_run_json(c.stage, r->cfg, r->d, &r->state, r->outputs, r->settings, 1);
    if (st == FOCAL_OK)
        st = focal_commit_end(&c);
    else
        focal_commit_abort(&c);
    r->state.posthoc = NULL;
    focal_run_posthoc_release(&ph);
    free(tp);
    focal_model_free(best);
    return st;
}

focal_status focal_run_train(const struct focal_run_config *cfg, const struct focal_dataset *d,
                             const int *train, int n_train, const int *val, int n_val,
                             const int *test, int n_test, const char *dir, int mode,
                             const struct focal_run_callbacks *cb)
{
    struct run_ctx r = { 0 };
    struct focal_dir_lock lock = { -1, NULL };
    enum focal_run_start how;
    char why[256];
    struct focal_run_config own;
    focal_status st;
    if (cfg->stage2 != FOCAL_STAGE2_NONE) {
        /* a second stage: the network is the stage-1 run's */
        if ((st = focal_stage2_open(&r.s2, cfg, &own)) != FOCAL_OK)
            return st;
        cfg = &own;
    }
    if ((st = run_check(cfg, d, n_train, n_val)) != FOCAL_OK) {
        focal_stage2_free(r.s2);
        return st;
    }
    r.cfg = cfg;
    r.d = d;
    r.dir = r.out = dir;
    r.outputs = focal_run_outputs(d);
    /* data-parallel: rank 0 alone touches the run folder */
    const struct focal_comm *comm = focal_dp_comm(cfg);
    const int writer = !comm || comm->rank == 0;
    if ((st = run_prior(&r, train, n_train)) != FOCAL_OK || (st = run_drw(&r, train, n_train)) != FOCAL_OK ||
        (writer && (st = make_dir(dir)) != FOCAL_OK))
        goto out_unlocked;
    r.settings = focal_run_settings_json(cfg, r.outputs, d, train, n_train, val, n_val, test, n_test);
    if (!r.settings) {
        st = focal_fail(FOCAL_ERR_NOMEM, "out of memory");
        goto out_unlocked;
    }
    if (r.s2 && (st = focal_stage2_settings(r.s2, cfg->stage2_from, r.settings)) != FOCAL_OK)
        goto out_unlocked;
    why[0] = '\0';
    how = FOCAL_RUN_STARTED;
    if (writer)
        st = focal_run_folder_open(&lock, dir, mode, r.settings, &how, why, sizeof why);
    if (comm) { /* how rank 0 found the folder, once it has finished with it */
        int hw = (int)how;
        st = focal_dp_agree(comm, st, &hw);
        how = (enum focal_run_start)hw;
    }
    if (st != FOCAL_OK)
        goto out; /* unlocks what rank 0 locked */
    if (cb && cb->start)
        cb->start(cb->ctx, how, why);
    if (how == FOCAL_RUN_UP_TO_DATE)
        goto out;

    int c, h, w;
    focal_run_input_size(d, &c, &h, &w);
    enum focal_head head = d->task == FOCAL_TASK_MULTICLASS ? FOCAL_HEAD_SOFTMAX : FOCAL_HEAD_SIGMOID;
    r.meta.seed = cfg->seed;
    r.meta.num_classes = r.outputs;
    /* binary runs have one output, named after the positive class */
    r.meta.class_names = d->task == FOCAL_TASK_BINARY ? d->class_names + 1 : d->class_names;
    if (r.s2) {
        if ((st = focal_stage2_model(r.s2, cfg, r.outputs, head, &r.model, &r.meta)) != FOCAL_OK)
            goto out;
    } else if ((st = focal_run_norm(d, train, n_train, &r.meta.channels, r.meta.mean, r.meta.std)) != FOCAL_OK ||
               (st = focal_model_create(&r.model, cfg->model_desc, cfg->model_name, c, h, w, r.outputs, head,
                                        cfg->batch)) != FOCAL_OK ||
               (st = focal_model_init(r.model, cfg->seed, head == FOCAL_HEAD_SIGMOID ? cfg->prior : 0.0)) !=
                   FOCAL_OK) {
        goto out;
    }
    if (cfg->ema_decay > 0 && (st = focal_run_ema_create(&r.ema, r.model, cfg->model_name)) != FOCAL_OK)
        goto out;
    r.optim_cfg = cfg->optim;
    if (r.optim_cfg.schedule == FOCAL_SCHED_COSINE && r.optim_cfg.total_steps == 0 &&
        (st = run_total_steps(cfg, d, train, n_train, &r.optim_cfg.total_steps)) != FOCAL_OK)
        goto out;
    if ((st = focal_optim_create(&r.optim, &r.optim_cfg, focal_stage2_trained(r.s2, r.model))) != FOCAL_OK)
        goto out;

    size_t per = (size_t)c * (size_t)h * (size_t)w;
    r.per = per;
    if ((st = focal_run_mixup_init(&r.mixup, cfg->mixup, cfg->batch, per, r.outputs)) != FOCAL_OK)
        goto out;
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
    if (how == FOCAL_RUN_RESUMED && (st = resume_run(&r)) != FOCAL_OK)
        goto out;
    if (comm && cfg->sync_bn && (st = focal_model_sync_bn(r.model, comm)) != FOCAL_OK)
        goto out;
    if (r.s2)
        focal_stage2_cache(r.s2, d, train, n_train, &cfg->augment, r.meta.mean, r.meta.std);

    for (int epoch = r.state.epoch + 1; epoch <= cfg->epochs && !r.state.stopped; epoch++) {
        struct focal_epoch_record rec = { 0 };
        double t0 = focal_run_now();
        rec.epoch = epoch;
        rec.lr = focal_optim_lr(r.optim);
        /* DRW: plain until reweight_from, class-balanced from it on */
        r.loss.class_weights = r.drw && epoch >= cfg->reweight_from ? r.drw : cfg->loss.class_weights;
        if (cfg->stage2 == FOCAL_STAGE2_TAU_NORM) {
            /* nothing to train: the epoch is the search for tau */
            rec.train_loss = NAN;
            st = focal_stage2_tau(r.s2, r.model, d, val, n_val, r.meta.mean, r.meta.std, &r.loss,
                                  focal_select_resolve(cfg->select, d->task), &r.state.stage2);
        } else {
            st = train_epoch(&r, epoch, train, n_train, &rec.train_loss, cb, t0);
        }
        if (st != FOCAL_OK)
            goto out;
        if (comm) {
            /* rank 0 validates and commits the epoch; the others wait to
             * learn whether the run goes on */
            if ((st = focal_dp_epoch_end(r.model, comm)) != FOCAL_OK)
                goto out;
            if (writer)
                st = epoch_files(&r, &rec, val, n_val, t0);
            int stopped = r.state.stopped;
            if ((st = focal_dp_agree(comm, st, &stopped)) != FOCAL_OK)
                goto out;
            r.state.epoch = epoch;
            r.state.stopped = stopped;
        } else if ((st = epoch_files(&r, &rec, val, n_val, t0)) != FOCAL_OK) {
            goto out;
        }
        if (writer && cb && cb->epoch)
            cb->epoch(cb->ctx, &rec);
    }
    if (writer)
        st = final_metrics(&r, train, n_train, val, n_val, test, n_test);
    if (comm) {
        int unused = 0;
        st = focal_dp_agree(comm, st, &unused);
    }
out:
    focal_dir_unlock(&lock);
out_unlocked:
    focal_stage2_free(r.s2);
    cJSON_Delete(r.settings);
    r.meta.class_names = NULL;
    focal_ckpt_meta_release(&r.meta);
    state_free(&r.state);
    focal_optim_free(r.optim);
    focal_model_free(r.model);
    focal_model_free(r.ema);
    free(r.x);
    free(r.targets);
    free(r.probs);
    free(r.thresholds);
    free(r.prior);
    free(r.drw);
    focal_run_mixup_free(&r.mixup);
    return st;
}
