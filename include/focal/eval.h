/*
 * focal/eval.h — classification metrics as scikit-learn computes them, and the RIADD score.
 * Part of libfocal's public interface; include "focal.h" for all of it.
 */
#ifndef FOCAL_EVAL_H
#define FOCAL_EVAL_H

#include "focal/base.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------------ */
/* Metrics                                                                   */
/* ------------------------------------------------------------------------ */

/* Classification metrics from scores and labels, computed as scikit-learn
 * 1.2 does (checked against it to 1e-9 by tests/eval/test_metrics.c).
 *
 * Predictions: binary and multi-label predict positive when score >= the
 * class's threshold; multi-class predicts the highest-scoring class (the
 * first of equal maxima, as numpy's argmax).
 *
 * Per class (binary: two entries, class 0 then class 1, as scikit-learn's
 * classification_report; class 0 is ranked by the negated score):
 *   support    the class's positives (binary/multi-class: samples of the class)
 *   precision  TP / (TP + FP); NaN when the class is never predicted
 *   recall     TP / (TP + FN); NaN when the class has no positives
 *   f1         2TP / (2TP + FP + FN); NaN when the class has no positives
 *   roc_auc    area under the ROC curve (trapezoids over the distinct score
 *              values, so tied scores count one half, as roc_auc_score; one
 *              vs rest for multi-class); NaN without positives or negatives
 *   average_precision
 *              Σ_k (R_k − R_{k−1}) P_k over the distinct score values from the
 *              highest (step-wise, as average_precision_score, no
 *              interpolation); NaN without positives
 * Undefined (NaN) values are left out of every macro mean; a mean with
 * nothing left is NaN.
 *
 * Summary values:
 *   accuracy           fraction of samples predicted right; multi-label:
 *                      subset accuracy (every label of the sample right), as
 *                      accuracy_score on an indicator matrix
 *   balanced_accuracy  binary/multi-class: mean recall over the classes with
 *                      positives (balanced_accuracy_score); multi-label: the
 *                      mean over labels with positives of each label's
 *                      balanced_accuracy_score (mean of its true-positive rate
 *                      and, when it has negatives, its true-negative rate)
 *   macro_f1           mean f1 over the classes with positives
 *   micro_f1           2ΣTP / (2ΣTP + ΣFP + ΣFN) over every class (binary:
 *                      both classes, which equals accuracy; multi-class: equals
 *                      accuracy; multi-label: every label decision); NaN when
 *                      there is no positive and no positive prediction
 *   weighted_f1        f1 averaged with weights support
 *   mcc                Matthews correlation (multi-class: Gorodkin's R_K as
 *                      matthews_corrcoef; multi-label: of all label decisions
 *                      flattened into one binary problem); 0 when a row or
 *                      column sum of the confusion matrix is 0, as scikit-learn
 *   roc_auc_macro      binary: roc_auc of class 1; else mean roc_auc
 *   average_precision_macro
 *                      binary: average_precision of class 1; else mean
 *                      average_precision (mAP) */
struct focal_metrics {
    enum focal_task task;
    int n;                   /* samples */
    int num_classes;         /* per-class entries: multi-class/multi-label c, binary 2 */
    double accuracy, balanced_accuracy;
    double macro_f1, micro_f1, weighted_f1;
    double mcc;
    double roc_auc_macro, average_precision_macro;
    /* num_classes values each */
    int64_t *support;
    double *precision, *recall, *f1, *roc_auc, *average_precision;
    /* binary/multi-class: num_classes × num_classes counts, row = true class,
     * column = predicted class; multi-label: per label a 2×2 matrix
     * [[TN, FP], [FN, TP]] (num_classes × 4, as multilabel_confusion_matrix) */
    int64_t *confusion;
    /* the thresholds used: binary 1, multi-label num_classes, multi-class 0 (NULL) */
    int n_thresholds;
    double *thresholds;
};

/* Computes every metric of *out (which it allocates; release with
 * focal_metrics_release) for n >= 1 samples.
 *   scores: n × c, finite. binary: c = 1, the positive class's score;
 *     multi-class: c >= 2 class scores; multi-label: c >= 1 label scores.
 *   label: binary: n values 0 or 1; multi-class: n classes in [0, c); NULL
 *     for multi-label.
 *   labels: multi-label: n × c values 0 or 1; NULL otherwise.
 *   thresholds: binary 1 value, multi-label c values, finite; NULL: 0.5
 *     each. Ignored for multi-class.
 * FOCAL_ERR_ARG for bad sizes or a label out of range (the message names
 * the row and column), FOCAL_ERR_NUMERIC for a NaN or infinite score (ditto),
 * FOCAL_ERR_NOMEM. On failure *out is left empty (safe to free). */
focal_status focal_metrics_compute(struct focal_metrics *out, enum focal_task task, int n, int c,
                                   const double *scores, const int32_t *label, const uint8_t *labels,
                                   const double *thresholds);

/* Releases what focal_metrics_compute allocated and zeroes *m. Safe on a
 * zeroed struct and on NULL. */
void focal_metrics_release(struct focal_metrics *m);

/* The RIADD challenge score of a multi-label problem that includes the
 * Disease_Risk label. */
struct focal_riadd {
    double risk_auc;         /* ROC-AUC of Disease_Risk */
    double map;              /* mean average precision over the other labels */
    double macro_auc;        /* mean ROC-AUC over the other labels */
    double score;            /* 0.5·risk_auc + 0.5·(0.5·map + 0.5·macro_auc) */
};

/* The RIADD score of n × c scores against n × c labels (0 or 1), where
 * column risk_col (in [0, c), c >= 2) is Disease_Risk and the other columns
 * are the disease labels. Labels whose AUC or AP is undefined (no positives,
 * or for AUC no negatives) are left out of map and macro_auc; a part with
 * nothing left, and then score, is NaN. Errors as focal_metrics_compute. */
focal_status focal_riadd_score(struct focal_riadd *out, int n, int c, const double *scores,
                               const uint8_t *labels, int risk_col);

/* Ranking metrics of one class: the n scores scores[i·stride] against the
 * labels y[i·stride] (0 or 1), stride >= 1 (column j of n × c matrices:
 * scores + j, y + j, stride c). O(n log n) time, O(n) memory.
 * *auc: ROC-AUC as roc_auc_score, NaN without positives or negatives.
 * *ap: average precision as average_precision_score, NaN without positives.
 * FOCAL_ERR_ARG for n < 1 or a label other than 0/1, FOCAL_ERR_NUMERIC for a
 * NaN or infinite score, FOCAL_ERR_NOMEM. */
focal_status focal_roc_auc(double *auc, int n, const double *scores, const uint8_t *y, size_t stride);
focal_status focal_average_precision(double *ap, int n, const double *scores, const uint8_t *y,
                                     size_t stride);

/* The threshold t that maximises F1 when predicting positive for score >= t
 * on these scores and labels (arguments as focal_roc_auc; choose it on
 * validation data, never on test data). The candidates are the distinct score
 * values, so t is always one of the scores; of equal F1 the highest t (the
 * fewest positive predictions) wins. *f1 receives that F1. Without positives
 * F1 is undefined: *threshold and *f1 are NaN (keep a default such as 0.5). */
focal_status focal_best_f1_threshold(double *threshold, double *f1, int n, const double *scores,
                                     const uint8_t *y, size_t stride);

/* Writes *m as one JSON object (no trailing newline) with the members
 *   "task", "samples", "accuracy", "balanced_accuracy", "macro_f1",
 *   "micro_f1", "weighted_f1", "mcc", "roc_auc_macro",
 *   "average_precision_macro", "thresholds" (binary and multi-label),
 *   "per_class": [{"name", "support", "precision", "recall", "f1",
 *                  "roc_auc", "average_precision"}, ...],
 *   "confusion_matrix" (as m->confusion: binary/multi-class rows of counts,
 *                       multi-label one [[TN, FP], [FN, TP]] per label),
 *   "left_out": [{"name", "reason"}, ...] (the classes left out of a macro
 *               mean and why),
 *   "riadd": {"risk_auc", "map", "macro_auc", "score"} (when riadd != NULL).
 * Numbers are printed with 17 significant digits (they read back exactly);
 * NaN is written as null. class_names: m->num_classes UTF-8 names, or NULL
 * for "0", "1", .... indent >= 0: one member per line, nested lines start
 * with indent + 2·depth spaces, so the object can be a member of a larger
 * one written at that indent; indent < 0: all on one line. FOCAL_ERR_IO if
 * writing to fp failed. */
focal_status focal_metrics_write_json(FILE *fp, const struct focal_metrics *m,
                                      const char *const *class_names, const struct focal_riadd *riadd,
                                      int indent);

/* ------------------------------------------------------------------------ */
/* Summaries over repeated runs                                              */
/* ------------------------------------------------------------------------ */

/* The mean and the sample standard deviation (divided by k − 1) of the k
 * finite values among v[i·stride], i < n: NaN and infinite values (runs where
 * a metric is undefined) are left out. Returns k; *mean is NaN when k is 0,
 * *std NaN when k < 2. Does not allocate. */
size_t focal_mean_std(double *mean, double *std, const double *v, size_t n, size_t stride);

#ifdef __cplusplus
}
#endif

#endif /* FOCAL_EVAL_H */
