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

/* The probabilities (b × classes) of a batch's logits into probs; with l
 * non-NULL also its loss against the targets of samples idx[0..b) (targets:
 * room for b × classes floats) times b, added to *total. */
focal_status focal_run_batch_out(double *probs, double *total, const float *logits, int b, int classes, int softmax,
                                const struct focal_loss *l, const struct focal_dataset *d, const int *idx,
                                void *targets);

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

/* The training split's class prior per output (outputs values into prior):
 * the training samples of each class (counts), or with frequencies the
 * fraction of training samples with the label (binary: the positive class);
 * a class without training samples counts as half a sample, so the prior
 * stays positive (and below 1). FOCAL_ERR_NOMEM. */
focal_status focal_run_class_prior(double *prior, const struct focal_dataset *d, const int *train, int n_train,
                                   int outputs, int frequencies);

/* Post-hoc logit adjustment of softmax probabilities probs (n × c) in place:
 * softmax(z + shift) from softmax(z), i.e. p_j·e^{shift_j} renormalised. */
void focal_run_adjust(double *probs, int n, int c, const double *shift);

/* A run's post-hoc logit adjustment (enum focal_posthoc), as run.json
 * records it. */
struct focal_run_posthoc {
    enum focal_posthoc mode;         /* AUTO or TAU */
    double tau;                      /* the τ applied */
    double *prior;                   /* c class frequencies of the training split */
    double *shift;                   /* c values −τ·log prior */
    double grid_bacc[FOCAL_POSTHOC_GRID_N]; /* AUTO: validation balanced accuracy at each grid τ */
};

/* Chooses the adjustment of a multi-class run of cfg (cfg->posthoc is AUTO
 * or TAU) into *p (release with focal_run_posthoc_release): the prior from
 * the training samples train[0..n_train) and, for AUTO, τ from the
 * validation samples val[0..n_val) and their unadjusted probabilities
 * val_probs (n_val × classes, left unchanged) alone. FOCAL_ERR_NOMEM. */
focal_status focal_run_posthoc_choose(struct focal_run_posthoc *p, const struct focal_run_config *cfg,
                                      const struct focal_dataset *d, const int *train, int n_train, const int *val,
                                      int n_val, const double *val_probs);
void focal_run_posthoc_release(struct focal_run_posthoc *p);

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
    const struct focal_run_posthoc *posthoc; /* the post-hoc adjustment once chosen (the final
                                                run.json records it), else NULL; not owned */
    cJSON *stage2;           /* what a second stage found (focal_stage2_tau), or NULL */
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

/* ---- decoupled training's second stage (stage2.c) ---- */

/* What a second stage keeps: its scheme, the stage-1 run's fingerprint,
 * network and data settings, and the classifier trained alone. */
struct focal_stage2_ctx;
void focal_stage2_free(struct focal_stage2_ctx *s);

/* Reads cfg->stage2_from's run.json (a finished single run that is not a
 * second stage itself) into *s, and *own = *cfg with its network (the
 * strings live in *s). FOCAL_ERR_ARG for a bad scheme, tau-norm with epochs
 * other than 1, WB without a positive max_norm, a weight average (ema), an
 * unfinished run;
 * focal_read_json's errors naming the folder. */
focal_status focal_stage2_open(struct focal_stage2_ctx **s, const struct focal_run_config *cfg,
                               struct focal_run_config *own);

/* Checks that settings' "data" (focal_run_settings_json) is the stage-1
 * run's (FOCAL_ERR_ARG naming the difference and the folder `from`), and
 * adds settings."stage2": the scheme, the stage-1 fingerprint and the
 * scheme's parameters, so that a changed stage 1 changes this run's
 * settings. */
focal_status focal_stage2_settings(struct focal_stage2_ctx *s, const char *from, cJSON *settings);

/* Loads the stage-1 run's best checkpoint into *model (for cfg->batch
 * samples), its input normalisation into meta (channels, mean, std), and
 * builds the classifier trained alone: re-initialised from cfg->seed (and
 * cfg->prior for a sigmoid head) for cRT, stage 1's otherwise, and the same
 * in *model. FOCAL_ERR_ARG when its outputs or head differ from outputs and
 * head, or its last layer is not dense; the checkpoint's errors. */
focal_status focal_stage2_model(struct focal_stage2_ctx *s, const struct focal_run_config *cfg, int outputs,
                                enum focal_head head, struct focal_model **model, struct focal_ckpt_meta *meta);

/* The model whose parameters a run's optimiser updates: m for an ordinary
 * run (s NULL); for a second stage its classifier alone, first set to m's
 * last layer (after m was loaded from a checkpoint). */
struct focal_model *focal_stage2_trained(struct focal_stage2_ctx *s, struct focal_model *m);

/* Tells s the run's training samples: when the run does not augment (aug)
 * and their features (train[0..n_train) × the classifier's inputs) take at
 * most a quarter of focal_memory_limit(), they are computed once, at the
 * first focal_stage2_step, in train's order (with the input normalisation
 * mean, std; every pointer must outlive s). */
void focal_stage2_cache(struct focal_stage2_ctx *s, const struct focal_dataset *d, const int *train, int n_train,
                        const struct focal_augment *aug, const float *mean, const float *std);

/* focal_train_step of a second stage on samples idx[0..n) (inputs x): their
 * features (cached, or m's evaluation-mode forward of x), one step of the
 * classifier alone on them with optimiser o (made for
 * focal_stage2_trained), WB's MaxNorm projection, and the classifier copied
 * into m's last layer. */
focal_status focal_stage2_step(struct focal_stage2_ctx *s, struct focal_model *m, struct focal_optim *o,
                               const struct focal_loss *l, const int *idx, const float *x, const void *targets,
                               int n, double *loss);

/* τ-normalisation's one epoch: for τ = 0, 0.1, ..., 2, m's classifier rows
 * w_c/‖w_c‖^τ scored on the validation samples (features computed once)
 * by the selection metric sel (resolved; the loss l for LOSS); m keeps the
 * best τ (the smallest on ties). *found (replaced) receives {"search":
 * [{"tau", "value"}...], "tau", "chosen_by"}. */
focal_status focal_stage2_tau(struct focal_stage2_ctx *s, struct focal_model *m, const struct focal_dataset *d,
                              const int *val, int n_val, const float *mean, const float *std,
                              const struct focal_loss *l, enum focal_select sel, cJSON **found);

/* run.json's "stage2": settings' "stage2", "from" (the stage-1 folder) and
 * the members of found (may be NULL). NULL when out of memory. */
cJSON *focal_stage2_run_json(const struct focal_run_config *cfg, const cJSON *settings, const cJSON *found);

/* ---- test-time augmentation (tta.c) ---- */

/* As focal_run_scores without a loss, averaging the probabilities of the
 * identity and the horizontal flip, and with vflip also of the vertical flip
 * and both flips; with shift non-NULL, each view's softmax probabilities are
 * adjusted by it (focal_run_adjust) before the mean. FOCAL_ERR_ARG for inputs of height and width 1 (a table). */
focal_status focal_run_scores_flips(struct focal_model *m, const struct focal_dataset *d, const int *idx, int n,
                                   const float *mean, const float *std, int vflip, const double *shift,
                                   double *probs);

/* ---- step.c ------------------------------------------------------------------------ */

/* The checks of a training step (the loss fits the head, its parameters are
 * valid), the training-mode forward of x (n samples) and the loss l of
 * targets (mixed as focal_mixup_loss says when mix is not NULL), its
 * gradient in the model's dlogits and its value in *value. */
struct focal_mixup_batch;
focal_status focal_step_loss(struct focal_model *m, const struct focal_loss *l, const float *x, const void *targets,
                             const struct focal_mixup_batch *mix, int n, double *value);

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
