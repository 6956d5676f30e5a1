/* run_files.c — the files a run writes into its folder: history.csv,
 * run.json, metrics.json and scores.csv (the checkpoints are written by
 * run.c). Every file is written atomically. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "focal/train.h"
#include "base/internal.h"
#include "train/run_internal.h"

/* ---- the run folder's files ---------------------------------------------------------- */

/* dir/name into buf; FOCAL_ERR_ARG when it does not fit. */
focal_status focal_run_path(char *buf, size_t size, const char *dir, const char *name)
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
focal_status focal_run_write_history(const char *dir, const struct focal_run_state *s)
{
    char path[4096];
    struct focal_wfile wf;
    focal_status st = focal_run_path(path, sizeof path, dir, "history.csv");
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

/* run.json's "posthoc_la": τ, how it was chosen, the prior, the shift
 * focal_run_load applies, and AUTO's grid with its validation scores. */
static cJSON *posthoc_json(const struct focal_run_posthoc *p, int outputs)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddItemToObject(o, "tau", focal_run_exact_number(p->tau));
    cJSON_AddStringToObject(o, "chosen_by", p->mode == FOCAL_POSTHOC_AUTO
                                                ? "validation balanced accuracy over the grid" : "given");
    cJSON_AddItemToObject(o, "prior", focal_run_exact_array(p->prior, outputs));
    cJSON_AddItemToObject(o, "logit_shift", focal_run_exact_array(p->shift, outputs));
    if (p->mode == FOCAL_POSTHOC_AUTO) {
        cJSON *g = cJSON_AddArrayToObject(o, "grid");
        for (int k = 0; k < FOCAL_POSTHOC_GRID_N; k++) {
            cJSON *e = cJSON_CreateObject();
            cJSON_AddItemToObject(e, "tau", focal_run_exact_number(k * FOCAL_POSTHOC_GRID_STEP));
            cJSON_AddItemToObject(e, "val_balanced_accuracy", focal_run_exact_number(p->grid_bacc[k]));
            cJSON_AddItemToArray(g, e);
        }
    }
    return o;
}

/* run.json: what focal eval and focal predict need, and how the run went. */
focal_status focal_run_write_run_json(const char *dir, const struct focal_run_config *cfg,
                                      const struct focal_dataset *d, const struct focal_run_state *s, int outputs,
                                      const cJSON *settings, int finished)
{
    char fp[17];
    char path[4096];
    struct focal_wfile wf;
    focal_status st = focal_run_path(path, sizeof path, dir, "run.json");
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
    if (d->task == FOCAL_TASK_BINARY)
        cJSON_AddStringToObject(o, "positive", d->class_names[1]);
    cJSON_AddItemToObject(o, "thresholds", focal_run_exact_array(s->thresholds, outputs));
    if (s->posthoc)
        cJSON_AddItemToObject(o, "posthoc_la", posthoc_json(s->posthoc, outputs));
    int shape[3] = { c, h, w };
    cJSON_AddItemToObject(o, "input", cJSON_CreateIntArray(shape, 3));
    cJSON_AddBoolToObject(o, "fundus_crop", cfg->fundus_crop);
    cJSON_AddStringToObject(o, "data", cfg->data ? cfg->data : "");
    cJSON_AddNumberToObject(o, "epochs", cfg->epochs);
    cJSON_AddNumberToObject(o, "epochs_run", s->epoch);
    cJSON_AddNumberToObject(o, "best_epoch", s->best_epoch);
    cJSON_AddStringToObject(o, "selected_by", focal_select_name(focal_select_resolve(cfg->select, d->task)));
    focal_run_add_num(o, "best_value", s->best_value);
    cJSON_AddBoolToObject(o, "stopped_early", s->stopped);
    cJSON_AddBoolToObject(o, "finished", finished);
    focal_run_fingerprint(settings, fp);
    cJSON_AddStringToObject(o, "fingerprint", fp);
    cJSON_AddItemToObject(o, "config", cJSON_Duplicate(settings, 1));
    if (cfg->stage2 != FOCAL_STAGE2_NONE)
        cJSON_AddItemToObject(o, "stage2", focal_stage2_run_json(cfg, settings, s->stage2));
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
focal_status focal_run_write_scores(const char *path, const struct focal_dataset *d, int outputs, const int *val,
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

focal_status focal_run_write_metrics(const char *path, const struct focal_dataset *d, const int *val, int n_val,
                                     const double *val_probs, const int *test, int n_test,
                                     const double *test_probs, const double *thresholds)
{
    struct focal_wfile wf;
    focal_status st = focal_wfile_open(&wf, path);
    if (st != FOCAL_OK)
        return st;
    fputs("{\n  \"val\": ", wf.fp);
    st = focal_run_split_metrics(wf.fp, d, val, n_val, val_probs, thresholds, 2);
    if (st == FOCAL_OK && n_test > 0) {
        fputs(",\n  \"test\": ", wf.fp);
        st = focal_run_split_metrics(wf.fp, d, test, n_test, test_probs, thresholds, 2);
    }
    if (st != FOCAL_OK) {
        focal_wfile_abort(&wf);
        return st;
    }
    fputs("\n}\n", wf.fp);
    return focal_wfile_commit(&wf);
}
