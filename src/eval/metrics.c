/* metrics.c — classification metrics from scores and labels: per-class
 * precision, recall, F1, ROC-AUC and average precision, their macro/micro/
 * weighted means, accuracy, balanced accuracy, Matthews correlation, the
 * confusion matrix, the RIADD score, an F1-maximising threshold chooser and
 * a JSON writer. Definitions follow scikit-learn 1.2 (see focal.h); the
 * reference values in tests/fixtures/metrics_reference.txt come from it.
 *
 * Ranking metrics sort (score, label) pairs once per class, O(n log n), and
 * walk the distinct score values from the highest: each group of tied scores
 * is one point of the ROC and precision-recall curves. */
#include <inttypes.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "focal/eval.h"
#include "base/internal.h"

/* One sample of one class: its score and whether it is a positive. */
struct scored {
    double s;
    int y;
};

/* qsort order: descending score. */
static int scored_desc(const void *a, const void *b)
{
    double x = ((const struct scored *)a)->s, z = ((const struct scored *)b)->s;
    return (x < z) - (x > z);
}

/* What one walk down the sorted scores gives. */
struct curve {
    double auc, ap;              /* NaN when undefined */
    double best_t, best_f1;      /* F1-maximising threshold; NaN without positives */
};

/* The curve statistics of p[0..n), sorted by descending score. */
static struct curve curve_walk(const struct scored *p, int n)
{
    int64_t pos = 0;
    for (int i = 0; i < n; i++)
        pos += p[i].y;
    int64_t neg = (int64_t)n - pos;

    /* area2: twice the area under the ROC curve in count units (Δfp·(tp + tp_prev)),
     * exact in double while 2·pos·neg < 2^53. */
    double area2 = 0.0, apsum = 0.0, best_f1 = -1.0, best_t = NAN;
    int64_t tp = 0, fp = 0;
    for (int i = 0; i < n;) {
        int64_t tp0 = tp, fp0 = fp;
        double t = p[i].s;
        for (; i < n && p[i].s == t; i++) {
            tp += p[i].y;
            fp += !p[i].y;
        }
        area2 += (double)(fp - fp0) * (double)(tp + tp0);
        if (tp > tp0)
            apsum += (double)(tp - tp0) * ((double)tp / (double)(tp + fp));
        if (pos > 0) {
            /* F1 of "score >= t": 2tp / (2tp + fp + fn) with fn = pos − tp */
            double f1 = 2.0 * (double)tp / (double)(tp + fp + pos);
            if (f1 > best_f1) {
                best_f1 = f1;
                best_t = t;
            }
        }
    }
    struct curve c;
    c.auc = pos > 0 && neg > 0 ? area2 / (2.0 * (double)pos * (double)neg) : NAN;
    c.ap = pos > 0 ? apsum / (double)pos : NAN;
    c.best_t = pos > 0 ? best_t : NAN;
    c.best_f1 = pos > 0 ? best_f1 : NAN;
    return c;
}

/* Checks that scores[i·stride] are finite and y[i·stride] (when y is not
 * NULL) 0 or 1, for i in [0, n). FOCAL_ERR_NUMERIC / FOCAL_ERR_ARG naming the
 * element (its row and column when the arrays are columns of n × stride matrices). */
static focal_status check_column(int n, const double *scores, const uint8_t *y, size_t stride)
{
    for (int i = 0; i < n; i++) {
        double s = scores[(size_t)i * stride];
        if (!isfinite(s))
            return focal_fail(FOCAL_ERR_NUMERIC, "metrics: score of sample %d is %g; expected a finite number",
                              i, s);
        if (y && y[(size_t)i * stride] > 1)
            return focal_fail(FOCAL_ERR_ARG, "metrics: label of sample %d is %u; expected 0 or 1", i,
                              (unsigned)y[(size_t)i * stride]);
    }
    return FOCAL_OK;
}

/* Sorts the pairs of one column (scores[i·s_stride], y[i·y_stride]) into p
 * (n entries) and walks them. */
static struct curve column_curve(struct scored *p, int n, const double *scores, size_t s_stride,
                                 const uint8_t *y, size_t y_stride)
{
    for (int i = 0; i < n; i++) {
        p[i].s = scores[(size_t)i * s_stride];
        p[i].y = y[(size_t)i * y_stride] != 0;
    }
    qsort(p, (size_t)n, sizeof *p, scored_desc);
    return curve_walk(p, n);
}

/* The curve of one standalone column: checks, allocates, sorts, walks. */
static focal_status standalone_curve(struct curve *out, int n, const double *scores, const uint8_t *y,
                                     size_t stride)
{
    if (n < 1 || !scores || !y || stride < 1)
        return focal_fail(FOCAL_ERR_ARG, "metrics: need n >= 1 samples, scores, labels and stride >= 1 "
                          "(got n = %d, stride = %zu)", n, stride);
    focal_status st = check_column(n, scores, y, stride);
    if (st != FOCAL_OK)
        return st;
    struct scored *p = malloc((size_t)n * sizeof *p);
    if (!p)
        return focal_fail(FOCAL_ERR_NOMEM, "metrics: out of memory for %d samples", n);
    *out = column_curve(p, n, scores, stride, y, stride);
    free(p);
    return FOCAL_OK;
}

focal_status focal_roc_auc(double *auc, int n, const double *scores, const uint8_t *y, size_t stride)
{
    struct curve c;
    focal_status st = standalone_curve(&c, n, scores, y, stride);
    *auc = st == FOCAL_OK ? c.auc : NAN;
    return st;
}

focal_status focal_average_precision(double *ap, int n, const double *scores, const uint8_t *y,
                                     size_t stride)
{
    struct curve c;
    focal_status st = standalone_curve(&c, n, scores, y, stride);
    *ap = st == FOCAL_OK ? c.ap : NAN;
    return st;
}

focal_status focal_best_f1_threshold(double *threshold, double *f1, int n, const double *scores,
                                     const uint8_t *y, size_t stride)
{
    struct curve c;
    focal_status st = standalone_curve(&c, n, scores, y, stride);
    *threshold = st == FOCAL_OK ? c.best_t : NAN;
    *f1 = st == FOCAL_OK ? c.best_f1 : NAN;
    return st;
}

/* ------------------------------------------------------------------------ */
/* Means                                                                     */
/* ------------------------------------------------------------------------ */

/* Mean of the non-NaN values of v[0..k) other than v[skip_col] (skip_col −1:
 * none skipped); NaN when there are none. */
static double mean_defined(const double *v, int k, int skip_col)
{
    double sum = 0.0;
    int m = 0;
    for (int j = 0; j < k; j++) {
        if (j == skip_col || isnan(v[j]))
            continue;
        sum += v[j];
        m++;
    }
    return m ? sum / m : NAN;
}

/* a / b, NaN when b is 0. */
static double ratio(int64_t a, int64_t b)
{
    return b ? (double)a / (double)b : NAN;
}

/* Matthews correlation of a k × k confusion matrix cm (rows true), as
 * scikit-learn's matthews_corrcoef: 0 when a denominator factor is 0. */
static double mcc_of(const int64_t *cm, int k)
{
    double n = 0.0, correct = 0.0, tp_dot = 0.0, tt = 0.0, pp = 0.0;
    for (int a = 0; a < k; a++) {
        double t = 0.0, p = 0.0;
        for (int b = 0; b < k; b++) {
            t += (double)cm[(size_t)a * k + b];
            p += (double)cm[(size_t)b * k + a];
        }
        n += t;
        correct += (double)cm[(size_t)a * k + a];
        tp_dot += t * p;
        tt += t * t;
        pp += p * p;
    }
    double cov_ytyp = correct * n - tp_dot;
    double cov_ypyp = n * n - pp;
    double cov_ytyt = n * n - tt;
    if (cov_ypyp == 0.0 || cov_ytyt == 0.0)
        return 0.0;
    return cov_ytyp / sqrt(cov_ytyt * cov_ypyp);
}

/* ------------------------------------------------------------------------ */
/* focal_metrics_compute                                                     */
/* ------------------------------------------------------------------------ */

void focal_metrics_release(struct focal_metrics *m)
{
    if (!m)
        return;
    free(m->support);
    free(m->precision);     /* precision owns the five per-class double arrays */
    free(m->confusion);
    free(m->thresholds);
    memset(m, 0, sizeof *m);
}

/* Checks the arguments of focal_metrics_compute. */
static focal_status metrics_check(enum focal_task task, int n, int c, const double *scores,
                                  const int32_t *label, const uint8_t *labels, const double *thresholds)
{
    if (task != FOCAL_TASK_BINARY && task != FOCAL_TASK_MULTICLASS && task != FOCAL_TASK_MULTILABEL)
        return focal_fail(FOCAL_ERR_ARG, "metrics: unknown task %d", (int)task);
    if (n < 1 || !scores)
        return focal_fail(FOCAL_ERR_ARG, "metrics: need at least one sample with scores (got n = %d)", n);
    if (task == FOCAL_TASK_BINARY && c != 1)
        return focal_fail(FOCAL_ERR_ARG, "metrics: binary task with %d score columns; expected 1 (the "
                          "positive class's score)", c);
    if (task == FOCAL_TASK_MULTICLASS && c < 2)
        return focal_fail(FOCAL_ERR_ARG, "metrics: multi-class task with %d score columns; expected "
                          "one per class, at least 2", c);
    if (c < 1 || (size_t)n > SIZE_MAX / sizeof(double) / (size_t)c || c > 1 << 20)
        return focal_fail(FOCAL_ERR_ARG, "metrics: %d × %d scores are too many", n, c);
    if (task == FOCAL_TASK_MULTILABEL ? !labels : !label)
        return focal_fail(FOCAL_ERR_ARG, "metrics: the %s labels are missing",
                          task == FOCAL_TASK_MULTILABEL ? "n × c multi-label" : "n class");

    for (size_t i = 0; i < (size_t)n * (size_t)c; i++)
        if (!isfinite(scores[i]))
            return focal_fail(FOCAL_ERR_NUMERIC, "metrics: score of sample %zu, column %zu is %g; "
                              "expected a finite number", i / (size_t)c, i % (size_t)c, scores[i]);
    if (task == FOCAL_TASK_MULTILABEL) {
        for (size_t i = 0; i < (size_t)n * (size_t)c; i++)
            if (labels[i] > 1)
                return focal_fail(FOCAL_ERR_ARG, "metrics: label of sample %zu, column %zu is %u; "
                                  "expected 0 or 1", i / (size_t)c, i % (size_t)c, (unsigned)labels[i]);
    } else {
        int32_t hi = task == FOCAL_TASK_BINARY ? 1 : c - 1;
        for (int i = 0; i < n; i++)
            if (label[i] < 0 || label[i] > hi)
                return focal_fail(FOCAL_ERR_ARG, "metrics: label of sample %d is %ld; expected a class "
                                  "in [0, %ld]", i, (long)label[i], (long)hi);
    }
    if (thresholds && task != FOCAL_TASK_MULTICLASS)
        for (int j = 0; j < c; j++)
            if (!isfinite(thresholds[j]))
                return focal_fail(FOCAL_ERR_ARG, "metrics: threshold %d is %g; expected a finite number",
                                  j, thresholds[j]);
    return FOCAL_OK;
}

/* Allocates the arrays of m (num_classes k, thresholds nt); 0, or −1 when an
 * allocation failed (what was allocated stays for focal_metrics_release). */
static int metrics_alloc(struct focal_metrics *m, int k, size_t n_confusion, int nt)
{
    m->support = calloc((size_t)k, sizeof *m->support);
    m->precision = malloc(5 * (size_t)k * sizeof *m->precision);
    m->confusion = calloc(n_confusion, sizeof *m->confusion);
    m->thresholds = nt ? malloc((size_t)nt * sizeof *m->thresholds) : NULL;
    if (!m->support || !m->precision || !m->confusion || (nt && !m->thresholds))
        return -1;
    m->recall = m->precision + k;
    m->f1 = m->recall + k;
    m->roc_auc = m->f1 + k;
    m->average_precision = m->roc_auc + k;
    m->n_thresholds = nt;
    return 0;
}

/* Index of the first maximum of row[0..c). */
static int argmax(const double *row, int c)
{
    int best = 0;
    for (int j = 1; j < c; j++)
        if (row[j] > row[best])
            best = j;
    return best;
}

/* Binary and multi-class: the confusion matrix, accuracy and balanced accuracy. */
static void single_label_counts(struct focal_metrics *m, int c, const double *scores, const int32_t *label)
{
    int k = m->num_classes;
    int64_t correct = 0;
    for (int i = 0; i < m->n; i++) {
        int pred = m->task == FOCAL_TASK_BINARY ? scores[i] >= m->thresholds[0]
                                                 : argmax(scores + (size_t)i * c, c);
        m->confusion[(size_t)label[i] * k + pred]++;
        correct += pred == label[i];
    }
    m->accuracy = (double)correct / m->n;
}

/* Per-class precision, recall, F1 and the F1 means from per-class counts. */
static void f1_stats(struct focal_metrics *m, const int64_t *tp, const int64_t *fp, const int64_t *fn)
{
    int64_t stp = 0, sfp = 0, sfn = 0, ssup = 0;
    double wsum = 0.0;
    for (int j = 0; j < m->num_classes; j++) {
        m->support[j] = tp[j] + fn[j];
        m->precision[j] = ratio(tp[j], tp[j] + fp[j]);
        m->recall[j] = ratio(tp[j], m->support[j]);
        m->f1[j] = m->support[j] ? (double)(2 * tp[j]) / (double)(2 * tp[j] + fp[j] + fn[j]) : NAN;
        stp += tp[j];
        sfp += fp[j];
        sfn += fn[j];
        if (m->support[j]) {
            ssup += m->support[j];
            wsum += (double)m->support[j] * m->f1[j];
        }
    }
    m->macro_f1 = mean_defined(m->f1, m->num_classes, -1);
    m->micro_f1 = ratio(2 * stp, 2 * stp + sfp + sfn);
    m->weighted_f1 = ssup ? wsum / (double)ssup : NAN;
}

focal_status focal_metrics_compute(struct focal_metrics *out, enum focal_task task, int n, int c,
                                   const double *scores, const int32_t *label, const uint8_t *labels,
                                   const double *thresholds)
{
    memset(out, 0, sizeof *out);
    focal_status st = metrics_check(task, n, c, scores, label, labels, thresholds);
    if (st != FOCAL_OK)
        return st;

    int k = task == FOCAL_TASK_BINARY ? 2 : c;
    int nt = task == FOCAL_TASK_MULTICLASS ? 0 : c;
    size_t n_confusion = task == FOCAL_TASK_MULTILABEL ? 4 * (size_t)c : (size_t)k * (size_t)k;
    int64_t *cnt = calloc(3 * (size_t)k, sizeof *cnt);   /* tp, fp, fn per class */
    struct scored *p = malloc((size_t)n * sizeof *p);
    uint8_t *y = task == FOCAL_TASK_MULTILABEL ? NULL : malloc((size_t)n);
    if (metrics_alloc(out, k, n_confusion, nt) != 0 || !cnt || !p ||
        (task != FOCAL_TASK_MULTILABEL && !y)) {
        st = focal_fail(FOCAL_ERR_NOMEM, "metrics: out of memory for %d × %d scores", n, c);
        focal_metrics_release(out);
        goto out;
    }
    out->task = task;
    out->n = n;
    out->num_classes = k;
    for (int j = 0; j < nt; j++)
        out->thresholds[j] = thresholds ? thresholds[j] : 0.5;
    int64_t *tp = cnt, *fp = cnt + k, *fn = cnt + 2 * k;

    if (task == FOCAL_TASK_MULTILABEL) {
        int64_t subset = 0;
        for (int i = 0; i < n; i++) {
            int all = 1;
            for (int j = 0; j < c; j++) {
                size_t e = (size_t)i * c + j;
                int pred = scores[e] >= out->thresholds[j];
                out->confusion[4 * (size_t)j + 2 * labels[e] + pred]++;
                all &= pred == labels[e];
            }
            subset += all;
        }
        out->accuracy = (double)subset / n;
        int64_t flat[4] = { 0, 0, 0, 0 };
        double *bal = out->roc_auc;   /* scratch until the AUCs are computed */
        for (int j = 0; j < c; j++) {
            const int64_t *cm = out->confusion + 4 * (size_t)j;
            tp[j] = cm[3];
            fp[j] = cm[1];
            fn[j] = cm[2];
            for (int e = 0; e < 4; e++)
                flat[e] += cm[e];
            double tpr = ratio(cm[3], cm[2] + cm[3]), tnr = ratio(cm[0], cm[0] + cm[1]);
            bal[j] = isnan(tpr) ? NAN : isnan(tnr) ? tpr : 0.5 * (tpr + tnr);
        }
        out->balanced_accuracy = mean_defined(bal, c, -1);
        out->mcc = mcc_of(flat, 2);
    } else {
        single_label_counts(out, c, scores, label);
        for (int j = 0; j < k; j++) {
            int64_t row = 0, col = 0;
            for (int b = 0; b < k; b++) {
                row += out->confusion[(size_t)j * k + b];
                col += out->confusion[(size_t)b * k + j];
            }
            tp[j] = out->confusion[(size_t)j * k + j];
            fp[j] = col - tp[j];
            fn[j] = row - tp[j];
        }
        out->mcc = mcc_of(out->confusion, k);
    }
    f1_stats(out, tp, fp, fn);
    if (task != FOCAL_TASK_MULTILABEL)
        out->balanced_accuracy = mean_defined(out->recall, k, -1);

    if (task == FOCAL_TASK_BINARY) {
        for (int i = 0; i < n; i++)
            y[i] = (uint8_t)label[i];
        struct curve c1 = column_curve(p, n, scores, 1, y, 1);
        /* class 0 ranks by −score: the sorted pairs reversed, labels flipped */
        for (int a = 0, b = n - 1; a <= b; a++, b--) {
            struct scored t = p[a];
            p[a].s = -p[b].s;
            p[a].y = !p[b].y;
            p[b].s = -t.s;
            p[b].y = !t.y;
        }
        struct curve c0 = curve_walk(p, n);
        out->roc_auc[0] = c0.auc;
        out->average_precision[0] = c0.ap;
        out->roc_auc[1] = c1.auc;
        out->average_precision[1] = c1.ap;
        out->roc_auc_macro = c1.auc;
        out->average_precision_macro = c1.ap;
    } else {
        for (int j = 0; j < c; j++) {
            const uint8_t *yj = labels ? labels + j : y;
            if (!labels)
                for (int i = 0; i < n; i++)
                    y[i] = label[i] == j;
            struct curve cj = column_curve(p, n, scores + j, (size_t)c, yj, labels ? (size_t)c : 1);
            out->roc_auc[j] = cj.auc;
            out->average_precision[j] = cj.ap;
        }
        out->roc_auc_macro = mean_defined(out->roc_auc, k, -1);
        out->average_precision_macro = mean_defined(out->average_precision, k, -1);
    }
    st = FOCAL_OK;
out:
    free(cnt);
    free(p);
    free(y);
    return st;
}

/* ------------------------------------------------------------------------ */
/* RIADD                                                                     */
/* ------------------------------------------------------------------------ */

focal_status focal_riadd_score(struct focal_riadd *out, int n, int c, const double *scores,
                               const uint8_t *labels, int risk_col)
{
    out->risk_auc = out->map = out->macro_auc = out->score = NAN;
    if (c < 2 || risk_col < 0 || risk_col >= c)
        return focal_fail(FOCAL_ERR_ARG, "riadd: Disease_Risk column %d with %d columns; expected at "
                          "least 2 columns and the risk column in [0, %d)", risk_col, c, c);
    focal_status st = metrics_check(FOCAL_TASK_MULTILABEL, n, c, scores, NULL, labels, NULL);
    if (st != FOCAL_OK)
        return st;
    struct scored *p = malloc((size_t)n * sizeof *p);
    double *auc = malloc(2 * (size_t)c * sizeof *auc);
    if (!p || !auc) {
        free(p);
        free(auc);
        return focal_fail(FOCAL_ERR_NOMEM, "riadd: out of memory for %d × %d scores", n, c);
    }
    double *ap = auc + c;
    for (int j = 0; j < c; j++) {
        struct curve cj = column_curve(p, n, scores + j, (size_t)c, labels + j, (size_t)c);
        auc[j] = cj.auc;
        ap[j] = cj.ap;
    }
    out->risk_auc = auc[risk_col];
    out->map = mean_defined(ap, c, risk_col);
    out->macro_auc = mean_defined(auc, c, risk_col);
    out->score = 0.5 * out->risk_auc + 0.5 * (0.5 * out->map + 0.5 * out->macro_auc);
    free(p);
    free(auc);
    return FOCAL_OK;
}

/* ------------------------------------------------------------------------ */
/* JSON                                                                      */
/* ------------------------------------------------------------------------ */

/* Where a JSON writer is: its stream and layout. */
struct jw {
    FILE *fp;
    int indent;          /* < 0: one line */
};

/* Starts a new line at nesting depth `depth` (pretty), or a space (one line)
 * when `space` is set. */
static void jw_break(const struct jw *w, int depth, int space)
{
    if (w->indent >= 0)
        fprintf(w->fp, "\n%*s", w->indent + 2 * depth, "");
    else if (space)
        fputc(' ', w->fp);
}

/* A number with 17 significant digits; NaN and infinities as null. */
static void jw_num(FILE *fp, double x)
{
    if (isfinite(x))
        fprintf(fp, "%.17g", x);
    else
        fputs("null", fp);
}

/* A string, escaped as JSON requires (UTF-8 bytes pass through). */
static void jw_str(FILE *fp, const char *s)
{
    fputc('"', fp);
    for (const unsigned char *q = (const unsigned char *)s; *q; q++) {
        if (*q == '"' || *q == '\\')
            fprintf(fp, "\\%c", *q);
        else if (*q == '\n')
            fputs("\\n", fp);
        else if (*q == '\t')
            fputs("\\t", fp);
        else if (*q < 0x20 || *q == 0x7f)
            fprintf(fp, "\\u%04x", *q);
        else
            fputc(*q, fp);
    }
    fputc('"', fp);
}

/* ",\n<indent>\"key\": " (or the first member's opening without the comma). */
static void jw_key(const struct jw *w, int depth, int first, const char *key)
{
    if (!first)
        fputc(',', w->fp);
    jw_break(w, depth, !first);
    jw_str(w->fp, key);
    fputs(": ", w->fp);
}

/* The name of class j: class_names[j], or its index. */
static const char *class_name(const char *const *class_names, int j, char buf[16])
{
    if (class_names && class_names[j])
        return class_names[j];
    snprintf(buf, 16, "%d", j);
    return buf;
}

/* The list [a, b, ...] of k counts. */
static void jw_counts(FILE *fp, const int64_t *v, int k)
{
    fputc('[', fp);
    for (int b = 0; b < k; b++)
        fprintf(fp, "%s%" PRId64, b ? ", " : "", v[b]);
    fputc(']', fp);
}

static const char *task_name(enum focal_task t)
{
    switch (t) {
    case FOCAL_TASK_BINARY: return "binary";
    case FOCAL_TASK_MULTICLASS: return "multiclass";
    case FOCAL_TASK_MULTILABEL: return "multilabel";
    }
    return "?";
}

/* Why class j of m is left out of a macro mean, or NULL when it is not. */
static const char *left_out_reason(const struct focal_metrics *m, int j)
{
    if (m->support[j] == 0)
        return "no positive samples: recall, f1, roc_auc and average_precision are undefined";
    if (m->support[j] == m->n)
        return "no negative samples: roc_auc is undefined";
    return NULL;
}

focal_status focal_metrics_write_json(FILE *fp, const struct focal_metrics *m,
                                      const char *const *class_names, const struct focal_riadd *riadd,
                                      int indent)
{
    struct jw w = { fp, indent < 0 ? -1 : indent };
    int k = m->num_classes;
    char buf[16];
    static const char *const keys[] = {
        "accuracy", "balanced_accuracy", "macro_f1", "micro_f1", "weighted_f1", "mcc",
        "roc_auc_macro", "average_precision_macro" };
    const double vals[] = { m->accuracy, m->balanced_accuracy, m->macro_f1, m->micro_f1,
                            m->weighted_f1, m->mcc, m->roc_auc_macro, m->average_precision_macro };

    fputc('{', fp);
    jw_key(&w, 1, 1, "task");
    jw_str(fp, task_name(m->task));
    jw_key(&w, 1, 0, "samples");
    fprintf(fp, "%d", m->n);
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
        jw_key(&w, 1, 0, keys[i]);
        jw_num(fp, vals[i]);
    }
    if (m->n_thresholds > 0) {
        jw_key(&w, 1, 0, "thresholds");
        fputc('[', fp);
        for (int j = 0; j < m->n_thresholds; j++) {
            fputs(j ? ", " : "", fp);
            jw_num(fp, m->thresholds[j]);
        }
        fputc(']', fp);
    }

    jw_key(&w, 1, 0, "per_class");
    fputc('[', fp);
    for (int j = 0; j < k; j++) {
        const char *const ck[] = { "precision", "recall", "f1", "roc_auc", "average_precision" };
        const double cv[] = { m->precision[j], m->recall[j], m->f1[j], m->roc_auc[j],
                              m->average_precision[j] };
        fputs(j ? "," : "", fp);
        jw_break(&w, 2, j > 0);
        fputs("{\"name\": ", fp);
        jw_str(fp, class_name(class_names, j, buf));
        fprintf(fp, ", \"support\": %" PRId64, m->support[j]);
        for (int e = 0; e < 5; e++) {
            fprintf(fp, ", \"%s\": ", ck[e]);
            jw_num(fp, cv[e]);
        }
        fputc('}', fp);
    }
    jw_break(&w, 1, 0);
    fputc(']', fp);

    jw_key(&w, 1, 0, "confusion_matrix");
    fputc('[', fp);
    for (int j = 0; j < k; j++) {
        fputs(j ? "," : "", fp);
        jw_break(&w, 2, j > 0);
        if (m->task == FOCAL_TASK_MULTILABEL) {
            fputc('[', fp);
            jw_counts(fp, m->confusion + 4 * (size_t)j, 2);
            fputs(", ", fp);
            jw_counts(fp, m->confusion + 4 * (size_t)j + 2, 2);
            fputc(']', fp);
        } else {
            jw_counts(fp, m->confusion + (size_t)j * k, k);
        }
    }
    jw_break(&w, 1, 0);
    fputc(']', fp);

    jw_key(&w, 1, 0, "left_out");
    fputc('[', fp);
    int nl = 0;
    for (int j = 0; j < k; j++) {
        const char *why = left_out_reason(m, j);
        if (!why)
            continue;
        fputs(nl++ ? "," : "", fp);
        jw_break(&w, 2, nl > 1);
        fputs("{\"name\": ", fp);
        jw_str(fp, class_name(class_names, j, buf));
        fputs(", \"reason\": ", fp);
        jw_str(fp, why);
        fputc('}', fp);
    }
    if (nl)
        jw_break(&w, 1, 0);
    fputc(']', fp);

    if (riadd) {
        jw_key(&w, 1, 0, "riadd");
        fputs("{\"risk_auc\": ", fp);
        jw_num(fp, riadd->risk_auc);
        fputs(", \"map\": ", fp);
        jw_num(fp, riadd->map);
        fputs(", \"macro_auc\": ", fp);
        jw_num(fp, riadd->macro_auc);
        fputs(", \"score\": ", fp);
        jw_num(fp, riadd->score);
        fputc('}', fp);
    }
    jw_break(&w, 0, 0);
    fputc('}', fp);
    if (ferror(fp))
        return focal_fail(FOCAL_ERR_IO, "metrics: writing the JSON object failed");
    return FOCAL_OK;
}
