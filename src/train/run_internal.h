/* run_internal.h — pieces of training runs (run.c) shared with run_files.c. */
#ifndef FOCAL_RUN_INTERNAL_H
#define FOCAL_RUN_INTERNAL_H

#include "focal/train.h"

/* Seconds on a monotonic clock. */
double focal_run_now(void);

/* A seed derived from (seed, a, b); unrelated for nearby triples. */
uint64_t focal_run_seed(uint64_t seed, uint64_t a, uint64_t b);

/* The model input a dataset gives: pixels (channels, height, width) or
 * features (n_features, 1, 1). -1 if it has neither. */
int focal_run_input_size(const struct focal_dataset *d, int *c, int *h, int *w);

/* Outputs of the network for d's task: 1 for binary, num_classes otherwise. */
int focal_run_outputs(const struct focal_dataset *d);

/* Per-channel (image) or per-feature (table, NaN skipped) mean and standard
 * deviation over the samples idx[0..n), intensities scaled to [0,1]; a
 * constant channel gets std 1. *nch receives the channel count. */
focal_status focal_run_norm(const struct focal_dataset *d, const int *idx, int n, int *nch, float *mean,
                            float *std);

/* The network inputs x (n, C, H, W) of samples idx[0..n): augmented (aug may
 * be NULL) with per-sample seeds derived from seed, then standardised; a
 * missing feature becomes 0 (the training mean). */
void focal_run_inputs(float *x, const struct focal_dataset *d, const int *idx, int n,
                      const struct focal_augment *aug, uint64_t seed, const float *mean, const float *std);

/* Training targets of samples idx[0..n): n int32 classes (multi-class) or
 * n × outputs floats. */
void focal_run_targets(void *targets, const struct focal_dataset *d, const int *idx, int n);

/* Evaluation-mode probabilities (n × outputs) of samples idx[0..n) and, with
 * loss non-NULL, the mean of the batches' losses weighted by batch size. */
focal_status focal_run_scores(struct focal_model *m, const struct focal_dataset *d, const int *idx, int n,
                              const float *mean, const float *std, const struct focal_loss *loss,
                              double *probs, double *mean_loss);

/* The numbers a run tracks per epoch (NaN where undefined). */
struct focal_run_summary {
    double map, auc, macro_f1, balanced_accuracy, accuracy;
};

/* Metrics of probabilities probs (n × outputs) of samples idx[0..n) against
 * their labels. Sigmoid tasks: with choose, thresholds (outputs values) first
 * receives the per-class threshold of maximum F1 on these samples; else the
 * given thresholds are used. Multi-class decisions are the argmax. */
focal_status focal_run_summarise(const struct focal_dataset *d, const int *idx, int n, const double *probs,
                                 double *thresholds, int choose, struct focal_run_summary *s);

/* Writes the metrics of probs for samples idx[0..n) with the thresholds as
 * one JSON object (focal_metrics_write_json at indent), with the RIADD score
 * when the labels include Disease_Risk. */
focal_status focal_run_split_metrics(FILE *fp, const struct focal_dataset *d, const int *idx, int n,
                                     const double *probs, const double *thresholds, int indent);

/* Writes metrics.json: {"val": {...}, "test": {...}} with the keys of
 * `focal metrics --json`; test is left out when n_test is 0. Atomic. */
focal_status focal_run_write_metrics(const char *path, const struct focal_dataset *d, const int *val, int n_val,
                                     const double *val_probs, const int *test, int n_test,
                                     const double *test_probs, const double *thresholds);

#endif
