/* run_load.c — finished runs: loading a run folder for evaluation and
 * prediction, its image options, predictions and metrics. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "focal/train.h"
#include "base/internal.h"
#include "train/run_internal.h"

/* ---- finished runs ----------------------------------------------------------------------- */

void focal_run_release(struct focal_run *r)
{
    if (!r)
        return;
    focal_model_free(r->model);
    focal_ckpt_meta_release(&r->meta);
    free(r->thresholds);
    free(r->logit_shift);
    for (int k = 0; r->members && k < r->n_members - 1; k++)
        focal_run_release(&r->members[k]);
    free(r->members);
    memset(r, 0, sizeof *r);
}

/* Reads run.json's "posthoc_la" (o's member ph, a multi-class run's) into
 * r: its τ and its shift of `outputs` finite numbers. */
static focal_status read_posthoc(struct focal_run *r, const cJSON *ph, int outputs, const char *path)
{
    const cJSON *shift = cJSON_GetObjectItemCaseSensitive(ph, "logit_shift"), *x;
    const double tau = focal_run_get_num(ph, "tau");
    if (r->task != FOCAL_TASK_MULTICLASS || !cJSON_IsArray(shift) || cJSON_GetArraySize(shift) != outputs ||
        !(tau >= 0))
        return focal_fail(FOCAL_ERR_FORMAT, "%s: \"posthoc_la\" needs a multi-class run, \"tau\" >= 0 and "
                          "\"logit_shift\" of %d numbers", path, outputs);
    free(r->logit_shift);
    if (!(r->logit_shift = malloc((size_t)outputs * sizeof *r->logit_shift)))
        return focal_fail(FOCAL_ERR_NOMEM, "out of memory");
    int j = 0;
    cJSON_ArrayForEach(x, shift) {
        if (!cJSON_IsNumber(x) || !isfinite(x->valuedouble) || fabs(x->valuedouble) > 1e6)
            return focal_fail(FOCAL_ERR_FORMAT, "%s: posthoc_la.logit_shift[%d] is not a number in [-1e6, 1e6]",
                              path, j);
        r->logit_shift[j++] = x->valuedouble;
    }
    r->posthoc_tau = tau;
    return FOCAL_OK;
}

/* Reads run.json's task, thresholds, post-hoc adjustment and image options
 * into r (an ensemble's run.json has no adjustment: its first member's
 * stays). */
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
    if (focal_run_get_num(o, "version") != RUN_VERSION) {
        st = focal_fail(FOCAL_ERR_FORMAT, "%s: run version %g; this focal reads version %d", path,
                        focal_run_get_num(o, "version"), RUN_VERSION);
        goto out;
    }
    int outputs = focal_model_classes(r->model);
    if (!cJSON_IsString(task) || focal_task_parse(task->valuestring, &r->task) != FOCAL_OK || !cJSON_IsArray(th) ||
        cJSON_GetArraySize(th) != outputs) {
        st = focal_fail(FOCAL_ERR_FORMAT, "%s: \"task\" or \"thresholds\" (%d numbers) is missing or malformed",
                        path, outputs);
        goto out;
    }
    /* the task must be the model's: its head and its number of outputs */
    const enum focal_head head = focal_model_head(r->model);
    const int fits = r->task == FOCAL_TASK_BINARY ? head == FOCAL_HEAD_SIGMOID && outputs == 1
                     : r->task == FOCAL_TASK_MULTILABEL ? head == FOCAL_HEAD_SIGMOID
                                                         : head == FOCAL_HEAD_SOFTMAX && outputs >= 2;
    if (!fits) {
        st = focal_fail(FOCAL_ERR_FORMAT, "%s: task \"%s\" does not fit the model's %s head with %d output%s", path,
                        task->valuestring, head == FOCAL_HEAD_SOFTMAX ? "softmax" : "sigmoid", outputs,
                        outputs == 1 ? "" : "s");
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
    const cJSON *ph = cJSON_GetObjectItemCaseSensitive(o, "posthoc_la");
    if (ph && (st = read_posthoc(r, ph, outputs, path)) != FOCAL_OK)
        goto out;
    r->fundus_crop = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(o, "fundus_crop"));
    /* for test-time flips (an ensemble's run.json has no config: its first member's stays) */
    const cJSON *aug = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(o, "config"), "augment");
    if (aug)
        r->trained_vflip = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(aug, "vflip"));
out:
    cJSON_Delete(o);
    return st;
}

/* Finishes a commit a crash interrupted in dir, so that the model and
 * run.json read next are of one epoch. Best effort: a folder in use by a
 * writer (it finishes its own commits) or read-only is left as it is. */
static void settle(const char *dir)
{
    struct focal_dir_lock lock;
    if (focal_dir_lock(&lock, dir) != FOCAL_OK)
        return;
    (void)focal_commit_recover(dir, NULL);
    focal_dir_unlock(&lock);
    focal_clear_error();
}

focal_status focal_run_load(struct focal_run *r, const char *dir, int max_batch)
{
    char path[4096];
    int ensemble;
    memset(r, 0, sizeof *r);
    r->posthoc_tau = NAN;
    /* an ensemble (ensemble.c): its members, then its own thresholds */
    focal_status st = focal_ensemble_load(r, dir, max_batch, &ensemble);
    if (ensemble) {
        if (st != FOCAL_OK)
            return st;
        free(r->thresholds);
        r->thresholds = NULL;
        if ((st = focal_run_path(path, sizeof path, dir, "run.json")) != FOCAL_OK ||
            (st = read_run_json(r, path)) != FOCAL_OK)
            focal_run_release(r);
        return st;
    }
    settle(dir);
    st = focal_run_path(path, sizeof path, dir, "model.safetensors");
    if (st != FOCAL_OK || (st = focal_checkpoint_load(path, max_batch, &r->model, &r->meta)) != FOCAL_OK)
        return st;
    focal_model_input_shape(r->model, &r->channels, &r->height, &r->width);
    if ((st = focal_run_path(path, sizeof path, dir, "run.json")) != FOCAL_OK || (st = read_run_json(r, path)) != FOCAL_OK)
        focal_run_release(r);
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
    focal_status st = r->tta == FOCAL_TTA_FLIPS
                          ? focal_run_scores_flips(r->model, d, idx, n, r->meta.mean, r->meta.std, r->trained_vflip,
                                                   r->logit_shift, probs)
                          : focal_run_scores(r->model, d, idx, n, r->meta.mean, r->meta.std, NULL, probs, NULL);
    /* post-hoc logit adjustment (with flips, each view's, in focal_run_scores_flips) */
    if (st == FOCAL_OK && r->logit_shift && r->tta != FOCAL_TTA_FLIPS)
        focal_run_adjust(probs, n, focal_model_classes(r->model), r->logit_shift);
    /* an ensemble: the mean over its members (ensemble.c) */
    return st == FOCAL_OK ? focal_ensemble_predict_rest(r, d, idx, n, probs) : st;
}

void focal_run_image_options(const struct focal_run *r, struct focal_image_options *opt)
{
    opt->width = r->width;
    opt->height = r->height;
    opt->fundus_crop = r->fundus_crop;
    opt->channels = r->channels;
}

void focal_run_data_options(const struct focal_run *r, struct focal_data_options *opt)
{
    opt->positive = r->task == FOCAL_TASK_BINARY && r->meta.class_names ? r->meta.class_names[0] : NULL;
    opt->two_class_softmax = r->task == FOCAL_TASK_MULTICLASS && r->num_classes == 2;
}

focal_status focal_run_evaluate(struct focal_run *r, const struct focal_dataset *d, const int *idx, int n,
                                struct focal_metrics *m, struct focal_riadd *riadd, int *have_riadd)
{
    memset(m, 0, sizeof *m);
    *have_riadd = 0;
    if (d->task != r->task || d->num_classes != r->num_classes)
        return focal_fail(FOCAL_ERR_ARG, "the data is a %d-class %s problem; the model was trained on %d classes (%s)",
                          d->num_classes, focal_task_name(d->task), r->num_classes, focal_task_name(r->task));
    int outputs = focal_run_outputs(d);
    for (int j = 0; r->meta.class_names && j < outputs; j++) {
        const char *want = r->meta.class_names[j];
        const char *have = d->class_names[d->task == FOCAL_TASK_BINARY ? 1 : j];
        if (strcmp(want, have) != 0)
            return focal_fail(FOCAL_ERR_ARG, "class %d of the data is '%s'; the model's is '%s'", j + 1, have, want);
    }
    double *probs = malloc((size_t)(n > 0 ? n : 1) * (size_t)outputs * sizeof *probs);
    if (!probs)
        return focal_fail(FOCAL_ERR_NOMEM, "out of memory");
    focal_status st = focal_run_predict(r, d, idx, n, probs);
    if (st == FOCAL_OK)
        st = focal_run_metrics(m, riadd, have_riadd, d, idx, n, probs, r->thresholds);
    free(probs);
    return st;
}
