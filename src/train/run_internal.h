/* run_internal.h — the pieces of training runs shared among src/train/:
 * run_data.c (inputs, targets, scores), run_config.c (names, configuration
 * as JSON), run_eval.c (metrics), run_files.c (the run folder's files),
 * run_load.c (finished runs) and run.c (the run loop). */
#ifndef FOCAL_RUN_INTERNAL_H
#define FOCAL_RUN_INTERNAL_H

#include <stdio.h>

#include <cjson/cJSON.h>

#include "focal/train.h"

/* run.json's "format" and "version". */
#define RUN_FORMAT "focal-run"
#define RUN_VERSION 1

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

/* focal_run_inputs for samples that stand at positions k0, k0 + 1, ... of
 * the batch whose seed is `seed` (a rank's share of a global batch): each
 * sample is augmented as it is at its position in the whole batch. */
void focal_run_inputs_at(float *x, const struct focal_dataset *d, const int *idx, int n,
                         const struct focal_augment *aug, uint64_t seed, int k0, const float *mean,
                         const float *std);

/* Training targets of samples idx[0..n): n int32 classes (multi-class) or
 * n × outputs floats. */
void focal_run_targets(void *targets, const struct focal_dataset *d, const int *idx, int n);

/* probs (n × c) from logits (n × c): softmax per row, or a sigmoid per element. */
void focal_run_probs(double *probs, const float *logits, int n, int c, int softmax);

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

/* Metrics of probs (n × outputs) for samples idx[0..n) of d with the given
 * thresholds into m (zeroed by the caller; release with focal_metrics_release);
 * when the labels include Disease_Risk, *have_riadd = 1 and *riadd the RIADD
 * score, else *have_riadd = 0. */
focal_status focal_run_metrics(struct focal_metrics *m, struct focal_riadd *riadd, int *have_riadd,
                               const struct focal_dataset *d, const int *idx, int n, const double *probs,
                               const double *thresholds);

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

/* The configuration as a JSON object: everything that must match for a run
 * to be resumed (the epoch count may change and is not in it). */
cJSON *focal_run_config_json(const struct focal_run_config *cfg, int classes);

/* v as a JSON number that reads back as exactly v (null when not finite),
 * and an array of n such numbers. */
cJSON *focal_run_exact_number(double v);
cJSON *focal_run_exact_array(const double *v, int n);

/* cJSON numbers cannot be NaN: NaN is written as null and read back (a
 * missing or non-number key reads as NaN). The number reads back exactly. */
void focal_run_add_num(cJSON *o, const char *key, double v);
double focal_run_get_num(const cJSON *o, const char *key);

/* Where a run stands after its last completed epoch. */
struct focal_run_state {
    int epoch;               /* completed epochs */
    int best_epoch;          /* 0: none yet */
    double best_value;
    int bad_epochs;          /* epochs since the best */
    int stopped;             /* early stopping ended the run */
    double *thresholds;      /* outputs values, chosen at the best epoch */
    struct focal_epoch_record *history;  /* epoch rows */
    int n_history, cap_history;
};

/* "dir/name" in a new string (caller frees); NULL, with FOCAL_ERR_NOMEM
 * recorded, when out of memory (run_read.c). */
char *focal_run_file(const char *dir, const char *name);

/* dir/name into buf; FOCAL_ERR_ARG when it does not fit. */
focal_status focal_run_path(char *buf, size_t size, const char *dir, const char *name);

/* dir/history.csv: one row per epoch; undefined values are empty fields. Atomic. */
focal_status focal_run_write_history(const char *dir, const struct focal_run_state *s);

/* dir/run.json: what focal eval and focal predict need, how the run went,
 * its settings ("config", focal_run_settings_json) with their "fingerprint",
 * and whether it is "finished" (metrics.json and scores.csv written). Atomic. */
focal_status focal_run_write_run_json(const char *dir, const struct focal_run_config *cfg,
                                      const struct focal_dataset *d, const struct focal_run_state *s, int outputs,
                                      const cJSON *settings, int finished);

/* ---- run_folder.c: settings, fingerprint, the folder's lock and state ---------------- */

/* Everything that determines a run: focal_run_config_json plus "epochs",
 * "fundus_crop" and "data" (sample and split counts, and a hash of the
 * labels, pixels or features, class names and the split's sample lists). */
cJSON *focal_run_settings_json(const struct focal_run_config *cfg, int outputs, const struct focal_dataset *d,
                               const int *train, int n_train, const int *val, int n_val, const int *test,
                               int n_test);

/* A hash of the settings' canonical text, 16 hex digits. */
void focal_run_fingerprint(const cJSON *settings, char out[17]);

/* 0 when the settings old and now match (skipping "epochs" if skip_epochs),
 * else 1 and the first difference as "path old -> new" in buf (e.g.
 * "loss.gamma 2 -> 0.5", "data.hash 1f.. -> 9c.."). */
int focal_run_settings_diff(const cJSON *old, const cJSON *now, int skip_epochs, char *buf, size_t size);

/* Locks dir (which exists), finishes or undoes an interrupted commit, and
 * decides how a run with `settings` starts there in `mode` (enum
 * focal_run_mode): *how, and in why what changed (RESTARTED). Removes the
 * run's files when it restarts, and leftovers of a folder without run.json.
 * On failure the lock is released; FOCAL_ERR_BUSY, FOCAL_ERR_ARG (NEW onto a
 * run), FOCAL_ERR_IO. */
focal_status focal_run_folder_open(struct focal_dir_lock *lock, const char *dir, int mode, const cJSON *settings,
                                   enum focal_run_start *how, char *why, size_t nwhy);

/* scores.csv at path: the best checkpoint's probabilities vp (n_val × outputs)
 * and tp (n_test × outputs) and the true labels of every validation and test
 * sample, for precision-recall curves. Atomic. */
focal_status focal_run_write_scores(const char *path, const struct focal_dataset *d, int outputs, const int *val,
                                    int n_val, const double *vp, const int *test, int n_test, const double *tp);

/* ---- the weight average (ema.c) ---- */

/* A model like m (its network, input, outputs, head and batch) holding a copy
 * of m's parameters and buffers; *ema is the caller's to free. */
focal_status focal_run_ema_create(struct focal_model **ema, const struct focal_model *m, const char *origin);
/* Copies m's parameters and buffers into ema (the same network). */
void focal_run_ema_copy(struct focal_model *ema, const struct focal_model *m);
/* The averaging rate after optimiser step `step` (1-based): min(decay, (1 + step) / (10 + step)). */
double focal_run_ema_rate(double decay, long step);
/* ema = d·ema + (1 − d)·m over every parameter and buffer, d = focal_run_ema_rate(decay, step). */
void focal_run_ema_update(struct focal_model *ema, const struct focal_model *m, double decay, long step);

/* ---- ensembles (ensemble.c) ---- */

/* When dir/run.json describes an ensemble: *is_ens = 1, and *r receives its
 * first member as focal_run_load loads it, with the other members in
 * r->members (r->n_members in all); the caller then reads the ensemble's own
 * thresholds. Otherwise *is_ens = 0, FOCAL_OK and r untouched. */
focal_status focal_ensemble_load(struct focal_run *r, const char *dir, int max_batch, int *is_ens);

/* For an ensemble r whose first member's probabilities of samples idx[0..n)
 * are in probs: adds the other members' and divides by the member count.
 * Does nothing for a single run. */
focal_status focal_ensemble_predict_rest(struct focal_run *r, const struct focal_dataset *d, const int *idx, int n,
                                         double *probs);

/* ---- test-time augmentation (tta.c) ---- */

/* As focal_run_scores without a loss, averaging the probabilities of the
 * identity and the horizontal flip, and with vflip also of the vertical flip
 * and both flips. FOCAL_ERR_ARG for inputs of height and width 1 (a table). */
focal_status focal_run_scores_flips(struct focal_model *m, const struct focal_dataset *d, const int *idx, int n,
                                   const float *mean, const float *std, int vflip, double *probs);

/* ---- step.c ------------------------------------------------------------------------ */

/* The checks of a training step (the loss fits the head, its parameters are
 * valid), the training-mode forward of x (n samples) and the loss l of
 * targets, its gradient in the model's dlogits and its value in *value. */
focal_status focal_step_loss(struct focal_model *m, const struct focal_loss *l, const float *x, const void *targets,
                             int n, double *value);

/* ---- run_dp.c: data-parallel runs (focal_run_config.comm) -------------------------- */

/* cfg's comm when it has 2 or more ranks, else NULL (one process). */
const struct focal_comm *focal_dp_comm(const struct focal_run_config *cfg);

/* The samples [*lo, *hi) of a global batch of b that rank c->rank takes. */
void focal_dp_shard(int b, const struct focal_comm *c, int *lo, int *hi);

/* Every rank calls it at the same point with its status: rank 0's *value
 * reaches every rank. Returns st where st failed; else an error when rank 0
 * or another rank failed (naming rank 0's failure with its status); else
 * FOCAL_OK with *value rank 0's. */
focal_status focal_dp_agree(const struct focal_comm *c, focal_status st, int *value);

/* After an epoch's steps: rank 0's batch-norm running statistics copied to
 * every rank, and a check that all ranks hold the same parameters bit for
 * bit (FOCAL_ERR_NUMERIC naming the rank that differs). */
focal_status focal_dp_epoch_end(struct focal_model *m, const struct focal_comm *c);

/* Seeds the model's dropout generator for this rank and epoch. */
void focal_dp_seed_dropout(struct focal_model *m, const struct focal_comm *c, uint64_t seed, int epoch);

/* Adds "data_parallel": {"ranks", "sync_bn"} to a run's settings when cfg
 * trains data-parallel (nothing for one process). */
void focal_dp_settings(cJSON *settings, const struct focal_run_config *cfg);

#endif
