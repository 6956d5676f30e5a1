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

/* ---- the class prior and post-hoc logit adjustment ------------------------------------- */

focal_status focal_run_class_prior(double *prior, const struct focal_dataset *d, const int *train, int n_train,
                                   int outputs, int frequencies)
{
    double *counts = calloc((size_t)d->num_classes, sizeof *counts);
    if (!counts)
        return focal_fail(FOCAL_ERR_NOMEM, "out of memory");
    focal_dataset_class_counts(d, train, n_train, counts);
    for (int j = 0; j < outputs; j++) {
        const double n = counts[d->task == FOCAL_TASK_BINARY ? 1 : j];
        const double c = n < 0.5 ? 0.5 : n > n_train - 0.5 ? n_train - 0.5 : n;
        prior[j] = frequencies ? c / n_train : c;
    }
    free(counts);
    return FOCAL_OK;
}

void focal_run_adjust(double *probs, int n, int c, const double *shift)
{
    double mx = shift[0];
    for (int j = 1; j < c; j++)
        mx = shift[j] > mx ? shift[j] : mx;
    for (int i = 0; i < n; i++) {
        double *p = probs + (size_t)i * (size_t)c, s = 0;
        for (int j = 0; j < c; j++)
            s += (p[j] *= exp(shift[j] - mx));
        for (int j = 0; j < c; j++)
            p[j] /= s;
    }
}

void focal_run_posthoc_release(struct focal_run_posthoc *p)
{
    free(p->prior);
    free(p->shift);
    memset(p, 0, sizeof *p);
}

/* shift = −τ·log prior. */
static void posthoc_shift(double *shift, const double *prior, int c, double tau)
{
    for (int j = 0; j < c; j++)
        shift[j] = -tau * log(prior[j]);
}

focal_status focal_run_posthoc_choose(struct focal_run_posthoc *p, const struct focal_run_config *cfg,
                                      const struct focal_dataset *d, const int *train, int n_train, const int *val,
                                      int n_val, const double *val_probs)
{
    const int c = d->num_classes;
    const size_t len = (size_t)n_val * (size_t)c;
    memset(p, 0, sizeof *p);
    p->mode = cfg->posthoc;
    p->tau = cfg->posthoc_tau;
    p->prior = malloc((size_t)c * sizeof *p->prior);
    p->shift = malloc((size_t)c * sizeof *p->shift);
    double *adj = p->mode == FOCAL_POSTHOC_AUTO ? malloc((len ? len : 1) * sizeof *adj) : NULL;
    double *th = malloc((size_t)c * sizeof *th);
    focal_status st = FOCAL_OK;
    if (!p->prior || !p->shift || !th || (p->mode == FOCAL_POSTHOC_AUTO && !adj)) {
        st = focal_fail(FOCAL_ERR_NOMEM, "out of memory");
        goto out;
    }
    if ((st = focal_run_class_prior(p->prior, d, train, n_train, c, 1)) != FOCAL_OK)
        goto out;
    for (int j = 0; j < c; j++)
        th[j] = 0.5;    /* unused: multi-class decisions are the argmax */
    /* AUTO: every τ of the grid on the validation probabilities; the best
     * balanced accuracy wins, the smallest τ on a tie */
    int best = -1;
    for (int k = 0; p->mode == FOCAL_POSTHOC_AUTO && k < FOCAL_POSTHOC_GRID_N; k++) {
        const double tau = k * FOCAL_POSTHOC_GRID_STEP;
        struct focal_run_summary sum;
        memcpy(adj, val_probs, len * sizeof *adj);
        posthoc_shift(p->shift, p->prior, c, tau);
        focal_run_adjust(adj, n_val, c, p->shift);
        if ((st = focal_run_summarise(d, val, n_val, adj, th, 0, &sum)) != FOCAL_OK)
            goto out;
        const double v = p->grid_bacc[k] = sum.balanced_accuracy;
        if (best < 0 || (!isnan(v) && (isnan(p->grid_bacc[best]) || v > p->grid_bacc[best]))) {
            best = k;
            p->tau = tau;
        }
    }
    posthoc_shift(p->shift, p->prior, c, p->tau);
out:
    free(adj);
    free(th);
    if (st != FOCAL_OK)
        focal_run_posthoc_release(p);
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
