/* metrics_print.c — the metrics table for people, shared by `focal metrics`
 * and `focal eval`. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "metrics_print.h"

/* Class names are cut to this width in the table. */
#define NAME_WIDTH_MAX 32

/* ------------------------------------------------------------------------ */
/* The table                                                                 */
/* ------------------------------------------------------------------------ */

/* The name of class j: names[j], or its index in buf. */
static const char *metrics_name(const char *const *names, int j, char buf[16])
{
    if (names && names[j])
        return names[j];
    snprintf(buf, 16, "%d", j);
    return buf;
}

/* "%*.4f" or "n/a" right-aligned in width w. */
static void put_value(FILE *fp, int w, double x)
{
    if (isnan(x))
        fprintf(fp, "%*s", w, "n/a");
    else
        fprintf(fp, "%*.4f", w, x);
}

/* One summary line: label, value, optional note. */
static void put_summary(FILE *fp, const char *label, double x, const char *note)
{
    fprintf(fp, "%-30s", label);
    put_value(fp, 7, x);
    fprintf(fp, "%s%s\n", note ? "  " : "", note ? note : "");
}

/* Lists the classes for which pick(m, j) holds after `intro`; nothing if none. */
static void put_class_list(FILE *fp, const char *const *names, const struct focal_metrics *m,
                           const char *intro, int (*pick)(const struct focal_metrics *, int))
{
    char buf[16];
    int k = 0;
    for (int j = 0; j < m->num_classes; j++) {
        if (!pick(m, j))
            continue;
        fprintf(fp, "%s%s", k++ ? ", " : intro, metrics_name(names, j, buf));
    }
    if (k)
        fputc('\n', fp);
}

static int pick_no_positives(const struct focal_metrics *m, int j) { return m->support[j] == 0; }
static int pick_no_negatives(const struct focal_metrics *m, int j) { return m->support[j] == m->n; }
static int pick_never_predicted(const struct focal_metrics *m, int j)
{
    return m->support[j] > 0 && isnan(m->precision[j]);
}

/* Prints m as a table for people: per class, the summary values, the classes
 * left out of the means and why, the confusion matrix; names: m->num_classes
 * class names or NULL for the indices; ra (may be NULL): a RIADD score line. */
void metrics_print_table(FILE *fp, const struct focal_metrics *m, const char *const *names,
                         const struct focal_riadd *ra)
{
    int k = m->num_classes;
    int binary = m->task == FOCAL_TASK_BINARY, multilabel = m->task == FOCAL_TASK_MULTILABEL;
    char buf[16];
    int w = 5;
    for (int j = 0; j < k; j++) {
        int l = (int)strlen(metrics_name(names, j, buf));
        if (l > w)
            w = l < NAME_WIDTH_MAX ? l : NAME_WIDTH_MAX;
    }

    fprintf(fp, "%s task, %d samples, %d %s", focal_task_name(m->task), m->n, k, multilabel ? "labels" : "classes");
    if (m->n_thresholds > 0) {
        int all_same = 1;
        for (int j = 1; j < m->n_thresholds; j++)
            all_same &= m->thresholds[j] == m->thresholds[0];
        fputs("; predicted positive when score >= ", fp);
        for (int j = 0; j < (all_same ? 1 : m->n_thresholds); j++)
            fprintf(fp, "%s%g", j ? ", " : all_same ? "" : "the label's threshold: ", m->thresholds[j]);
    } else {
        fputs("; predicted class = highest score", fp);
    }
    fputs("\n\n", fp);

    fprintf(fp, "%-*s %8s %10s %10s %10s %10s %10s\n", w, multilabel ? "label" : "class", "support",
            "precision", "recall", "f1", "roc_auc", "avg_prec");
    for (int j = 0; j < k; j++) {
        fprintf(fp, "%-*s %8lld", w, metrics_name(names, j, buf), (long long)m->support[j]);
        const double v[] = { m->precision[j], m->recall[j], m->f1[j], m->roc_auc[j], m->average_precision[j] };
        for (int e = 0; e < 5; e++) {
            fputc(' ', fp);
            put_value(fp, 10, v[e]);
        }
        fputc('\n', fp);
    }
    fputc('\n', fp);

    put_summary(fp, "accuracy", m->accuracy, multilabel ? "(subset accuracy: all labels of a sample right)" : NULL);
    put_summary(fp, "balanced accuracy", m->balanced_accuracy, NULL);
    put_summary(fp, "macro F1", m->macro_f1, NULL);
    put_summary(fp, "micro F1", m->micro_f1, NULL);
    put_summary(fp, "weighted F1", m->weighted_f1, NULL);
    put_summary(fp, "MCC", m->mcc, NULL);
    put_summary(fp, binary ? "ROC-AUC (class 1)" : "ROC-AUC (macro)", m->roc_auc_macro, NULL);
    put_summary(fp, binary ? "average precision (class 1)" : "mAP (macro average precision)",
                m->average_precision_macro, NULL);
    if (ra) {
        char note[160];
        snprintf(note, sizeof note, "(Disease_Risk AUC %.4f, mAP %.4f, macro AUC %.4f)", ra->risk_auc,
                 ra->map, ra->macro_auc);
        put_summary(fp, "RIADD score", ra->score, note);
    }

    put_class_list(fp, names, m, "no positive samples (recall, F1, ROC-AUC, AP n/a; left out of the macro means): ",
                   pick_no_positives);
    put_class_list(fp, names, m, "no negative samples (ROC-AUC n/a; left out of the ROC-AUC mean): ",
                   pick_no_negatives);
    put_class_list(fp, names, m, "never predicted (precision n/a): ", pick_never_predicted);

    if (multilabel) {
        fprintf(fp, "\nconfusion per label\n%-*s %8s %8s %8s %8s\n", w, "label", "TN", "FP", "FN", "TP");
        for (int j = 0; j < k; j++) {
            const int64_t *cm = m->confusion + 4 * (size_t)j;
            fprintf(fp, "%-*s %8lld %8lld %8lld %8lld\n", w, metrics_name(names, j, buf), (long long)cm[0],
                    (long long)cm[1], (long long)cm[2], (long long)cm[3]);
        }
        return;
    }
    fprintf(fp, "\nconfusion matrix (rows: true class, columns: predicted)\n%-*s", w, "");
    for (int b = 0; b < k; b++)
        fprintf(fp, " %8.8s", metrics_name(names, b, buf));
    fputc('\n', fp);
    for (int a = 0; a < k; a++) {
        fprintf(fp, "%-*s", w, metrics_name(names, a, buf));
        for (int b = 0; b < k; b++)
            fprintf(fp, " %8lld", (long long)m->confusion[(size_t)a * k + b]);
        fputc('\n', fp);
    }
}

