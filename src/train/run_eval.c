/* run_eval.c — the metrics of a training run: per-epoch summaries with
 * thresholds chosen on validation, and the metrics of a split (with the
 * RIADD score for RFMiD labels) as focal_run_evaluate and metrics.json give
 * them. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "focal/train.h"
#include "base/internal.h"
#include "train/run_internal.h"

/* The labels of samples idx[0..n): binary/multi-class into *label (n),
 * multi-label into *labels (n × c); both as 0/1 bytes in *y (n × outputs)
 * for the ranking metrics of sigmoid tasks. */
struct run_labels {
    int32_t *label;
    uint8_t *labels;
};

static focal_status gather(struct run_labels *g, const struct focal_dataset *d, const int *idx, int n)
{
    int c = d->num_classes;
    memset(g, 0, sizeof *g);
    if (d->task == FOCAL_TASK_MULTILABEL) {
        g->labels = malloc((size_t)n * (size_t)c);
        if (!g->labels)
            return focal_fail(FOCAL_ERR_NOMEM, "out of memory");
        for (int k = 0; k < n; k++)
            memcpy(g->labels + (size_t)k * (size_t)c, d->labels + (size_t)idx[k] * (size_t)c, (size_t)c);
    } else {
        g->label = malloc((size_t)n * sizeof *g->label);
        /* binary: the same labels as bytes, for the threshold chooser */
        g->labels = d->task == FOCAL_TASK_BINARY ? malloc((size_t)n) : NULL;
        if (!g->label || (d->task == FOCAL_TASK_BINARY && !g->labels)) {
            free(g->label);
            free(g->labels);
            return focal_fail(FOCAL_ERR_NOMEM, "out of memory");
        }
        for (int k = 0; k < n; k++) {
            g->label[k] = d->label[idx[k]];
            if (g->labels)
                g->labels[k] = (uint8_t)d->label[idx[k]];
        }
    }
    return FOCAL_OK;
}

static void gather_free(struct run_labels *g)
{
    free(g->label);
    free(g->labels);
}

/* Metrics of probs for samples idx with the given thresholds. */
static focal_status compute(struct focal_metrics *m, const struct focal_dataset *d, const struct run_labels *g,
                            int n, const double *probs, const double *thresholds)
{
    int outputs = focal_run_outputs(d);
    return focal_metrics_compute(m, d->task, n, outputs, probs, g->label,
                                 d->task == FOCAL_TASK_MULTILABEL ? g->labels : NULL, thresholds);
}

focal_status focal_run_summarise(const struct focal_dataset *d, const int *idx, int n, const double *probs,
                                 double *thresholds, int choose, struct focal_run_summary *s)
{
    struct run_labels g;
    struct focal_metrics m = { 0 };
    int outputs = focal_run_outputs(d);
    focal_status st = gather(&g, d, idx, n);
    if (st != FOCAL_OK)
        return st;
    if (choose && d->task != FOCAL_TASK_MULTICLASS) {
        for (int j = 0; j < outputs && st == FOCAL_OK; j++) {
            double t, f1;
            st = focal_best_f1_threshold(&t, &f1, n, probs + j, g.labels + j, (size_t)outputs);
            thresholds[j] = isnan(t) ? 0.5 : t;
        }
    }
    if (st == FOCAL_OK)
        st = compute(&m, d, &g, n, probs, thresholds);
    if (st == FOCAL_OK) {
        s->map = m.average_precision_macro;
        s->auc = m.roc_auc_macro;
        s->macro_f1 = m.macro_f1;
        s->balanced_accuracy = m.balanced_accuracy;
        s->accuracy = m.accuracy;
    }
    focal_metrics_release(&m);
    gather_free(&g);
    return st;
}

/* The index of the Disease_Risk label of an RFMiD-style multi-label dataset,
 * or -1. */
static int risk_column(const struct focal_dataset *d)
{
    if (d->task != FOCAL_TASK_MULTILABEL || d->num_classes < 2)
        return -1;
    for (int j = 0; j < d->num_classes; j++)
        if (strcmp(d->class_names[j], "Disease_Risk") == 0)
            return j;
    return -1;
}

focal_status focal_run_metrics(struct focal_metrics *m, struct focal_riadd *riadd, int *have_riadd,
                               const struct focal_dataset *d, const int *idx, int n, const double *probs,
                               const double *thresholds)
{
    struct run_labels g;
    *have_riadd = 0;
    focal_status st = gather(&g, d, idx, n);
    if (st != FOCAL_OK)
        return st;
    st = compute(m, d, &g, n, probs, thresholds);
    int rc = risk_column(d);
    if (st == FOCAL_OK && rc >= 0 && (st = focal_riadd_score(riadd, n, d->num_classes, probs, g.labels, rc)) ==
                                         FOCAL_OK)
        *have_riadd = 1;
    gather_free(&g);
    return st;
}

focal_status focal_run_split_metrics(FILE *fp, const struct focal_dataset *d, const int *idx, int n,
                                     const double *probs, const double *thresholds, int indent)
{
    struct focal_metrics m = { 0 };
    struct focal_riadd riadd;
    int have_riadd;
    focal_status st = focal_run_metrics(&m, &riadd, &have_riadd, d, idx, n, probs, thresholds);
    if (st == FOCAL_OK)
        st = focal_metrics_write_json(fp, &m, (const char *const *)d->class_names, have_riadd ? &riadd : NULL,
                                      indent);
    focal_metrics_release(&m);
    return st;
}
