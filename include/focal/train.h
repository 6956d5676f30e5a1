/*
 * focal/train.h — the training step and training runs: train, load, predict, evaluate.
 * Part of libfocal's public interface; include "focal.h" for all of it.
 */
#ifndef FOCAL_TRAIN_H
#define FOCAL_TRAIN_H

#include "focal/base.h"
#include "focal/loss.h"
#include "focal/image.h"
#include "focal/eval.h"
#include "focal/data.h"
#include "focal/nn.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------------ */
/* Training step                                                             */
/* ------------------------------------------------------------------------ */

/* One optimiser step on a batch: forward (training mode), the loss and its
 * gradient, zeroed gradients, backward, update. targets are n × classes
 * floats for a sigmoid head, n int32 classes for a softmax head; the loss's
 * family must match the head. *loss receives the batch loss. FOCAL_ERR_NUMERIC
 * when the loss or the gradient norm is not finite (the parameters are then
 * left unchanged). */
focal_status focal_train_step(struct focal_model *m, struct focal_optim *o, const struct focal_loss *l,
                              const float *x, const void *targets, int n, double *loss);

/* The same step for one rank of a data-parallel run (struct focal_comm): x
 * and targets hold this rank's n samples of the global batch (n >= 1; ranks
 * may hold different counts). The loss is reduced over the global batch (its
 * sum over the ranks, divided as the reduction says by the count over the
 * ranks: focal_loss_count), the gradients are summed over the ranks, and
 * every rank applies the same update, so that N ranks compute what one
 * process computes on the whole batch (up to float rounding; with per-rank
 * batch norm, up to the statistics). *loss receives the global batch loss.
 * Every rank must call it for every step. FOCAL_ERR_NUMERIC on every rank
 * when the loss or gradient is not finite on any; a failed sum
 * (FOCAL_ERR_IO) or an error on another rank is reported on each. */
focal_status focal_train_step_dp(struct focal_model *m, struct focal_optim *o, const struct focal_loss *l,
                                 const struct focal_comm *comm, const float *x, const void *targets, int n,
                                 double *loss);

/* ------------------------------------------------------------------------ */
/* Training runs                                                             */
/* ------------------------------------------------------------------------ */

/* A training run: epochs over a dataset's training samples with a sampler
 * and augmentation, validation after every epoch, the best checkpoint kept by
 * a validation metric, early stopping, per-class thresholds chosen on
 * validation, and the test samples evaluated once at the end with the chosen
 * checkpoint and thresholds. Everything it writes goes to a run folder:
 *   model.safetensors        the best checkpoint (by the selection metric)
 *   last.safetensors, last.optim.safetensors
 *                            the latest epoch and optimiser state, for resuming
 *   history.csv              one row per epoch: train loss, validation loss and
 *                            metrics, learning rate, seconds
 *   run.json                 task, class names, thresholds, image options, the
 *                            configuration and the best epoch (a second stage:
 *                            "stage2", its stage-1 run, scheme and findings)
 *   metrics.json             {"val": {...}, "test": {...}} (test only when the
 *                            run has test samples), each as focal metrics --json
 *   scores.csv               split,id, each output's probability, then its 0/1
 *                            label (y_<name>), for every validation and test sample
 *   .lock, .commit/          the lock while a process writes the run; the staging
 *                            folder of a commit in progress
 * An epoch's files are one atomic commit, and so are the final metrics; a
 * resumed run continues exactly where the last committed epoch left off (same
 * losses as an uninterrupted run), also after a crash at any point. */

enum focal_select {
    FOCAL_SELECT_AUTO,       /* mAP (multi-label), macro ROC-AUC (multi-class), ROC-AUC (binary) */
    FOCAL_SELECT_MAP,        /* macro average precision */
    FOCAL_SELECT_AUC,        /* macro ROC-AUC */
    FOCAL_SELECT_MACRO_F1,
    FOCAL_SELECT_BALANCED_ACCURACY,
    FOCAL_SELECT_ACCURACY,
    FOCAL_SELECT_LOSS,       /* validation loss (lower is better) */
    FOCAL_SELECT_COUNT
};
/* "auto", "map", "auc", "macro-f1", "balanced-accuracy", "accuracy", "loss". */
const char *focal_select_name(enum focal_select s);
focal_status focal_select_parse(const char *name, enum focal_select *s);
/* The metric s stands for on a task: AUTO becomes MAP for multi-label data
 * and AUC otherwise; any other value is returned as it is. */
enum focal_select focal_select_resolve(enum focal_select s, enum focal_task task);

/* Post-hoc logit adjustment (Menon et al., "Long-tail learning via logit
 * adjustment", ICLR 2021): once training has chosen its best checkpoint,
 * the logits z of a softmax head become z − τ·log π, π the training split's
 * class frequencies (a class without training samples counts as half a
 * sample), for the run's metrics.json and scores.csv and for everything
 * that loads the run afterwards (focal_run_predict, focal_run_evaluate,
 * ensembles of it, the ONNX export, the Python loader). Training, the
 * history and the choice of the checkpoint are those of the run without it.
 * AUTO chooses τ on the validation split alone: the τ of
 * FOCAL_POSTHOC_GRID (0, 0.25, ..., 2) with the highest validation balanced
 * accuracy (the paper's target is the balanced error, 1 − balanced
 * accuracy), the smallest such τ on a tie. TAU applies cfg.posthoc_tau.
 * run.json records τ, π, the shift −τ·log π and AUTO's grid with each τ's
 * validation balanced accuracy ("posthoc_la"). Only multi-class runs: a
 * sigmoid output's decision threshold is chosen on validation, which
 * absorbs any shift of its logit (the binary analogue τ·log(π₊/π₋) would
 * change no decision and no ranking metric), so binary and multi-label
 * runs refuse it. */
enum focal_posthoc { FOCAL_POSTHOC_OFF, FOCAL_POSTHOC_AUTO, FOCAL_POSTHOC_TAU };
/* AUTO's grid: τ = k·FOCAL_POSTHOC_GRID_STEP for k = 0 .. FOCAL_POSTHOC_GRID_N − 1. */
#define FOCAL_POSTHOC_GRID_N 9
#define FOCAL_POSTHOC_GRID_STEP 0.25
/* Decoupled training's second stage (Kang et al. 2020, "Decoupling
 * Representation and Classifier for Long-Tailed Recognition"; Alshammari et
 * al. 2022, "Long-Tailed Recognition via Weight Balancing"): a run that starts
 * from the best checkpoint of a finished run (stage 1) on the same data and
 * splits, keeps every layer but the last `dense classes` (the features)
 * exactly as stage 1 left them — evaluated in evaluation mode (batch-norm
 * running statistics, no dropout), no gradient computed for them — and
 * changes only the classifier. */
enum focal_stage2 {
    FOCAL_STAGE2_NONE,       /* an ordinary run */
    FOCAL_STAGE2_CRT,        /* classifier re-training (cRT, Kang et al.): the classifier is
                                re-initialised (seed, prior) and trained alone with the run's loss,
                                optimiser and sampler (focal train defaults to class-balanced) */
    FOCAL_STAGE2_TAU_NORM,   /* τ-normalisation (Kang et al.), no training: each class's weight row
                                becomes w_c/‖w_c‖^τ (the bias stays), τ chosen on validation by the
                                selection metric from 0, 0.1, ..., 2 (the smallest τ on ties; τ 0
                                is stage 1's classifier); one epoch, the search */
    FOCAL_STAGE2_WB,         /* weight balancing's second stage (Alshammari et al.): stage 1's
                                classifier trained further alone with the run's loss, optimiser and
                                weight decay, each class's weight row projected onto the ball of
                                radius max_norm after every step (per-class MaxNorm) */
    FOCAL_STAGE2_COUNT
};
/* "none", "crt", "tau-norm", "wb". */
const char *focal_stage2_name(enum focal_stage2 s);
focal_status focal_stage2_parse(const char *name, enum focal_stage2 *s);

struct focal_run_config {
    const char *model_desc;      /* network description (focal_model_create) */
    const char *model_name;      /* preset or file name, recorded and used in messages */
    struct focal_loss loss;      /* its family must fit the task (softmax for multi-class) */
    struct focal_optim_config optim; /* a cosine schedule with total_steps 0 spans the whole run:
                                        the optimiser steps of all its epochs */
    enum focal_sampler sampler;
    double repeat_threshold;     /* repeat-factor sampling's t */
    struct focal_augment augment;
    double prior;                /* sigmoid heads: output biases start at this prior π; 0: off */
    int epochs, batch;
    uint64_t seed;
    int patience;                /* stop after this many epochs without improvement; 0: never */
    enum focal_select select;
    int fundus_crop;             /* recorded in run.json for focal eval/predict */
    const char *data;            /* the data's path, recorded in run.json */
    int reweight_from;           /* deferred re-weighting (DRW, Cao et al. 2019): from this epoch on
                                    (1-based), the loss takes class-balanced weights (effective
                                    number, focal_weights_effective with reweight_beta, from the
                                    training split's counts; a class without samples counts as one),
                                    in place of loss.class_weights; 0: off. Multi-class and
                                    multi-label data */
    double reweight_beta;        /* DRW's β in [0, 1); default 0.9999 */
    enum focal_posthoc posthoc;  /* post-hoc logit adjustment of a multi-class (softmax) run; OFF by
                                    default (see enum focal_posthoc) */
    double posthoc_tau;          /* FOCAL_POSTHOC_TAU: the τ to apply, in [0, 100] */
    enum focal_stage2 stage2;    /* a second stage (see enum focal_stage2); NONE: an ordinary run */
    const char *stage2_from;     /* stage 2: the finished stage-1 run folder. Its network replaces
                                    model_desc and model_name; its settings' fingerprint is part of
                                    this run's settings, and its data and splits must be this run's */
    double max_norm;             /* WB: the per-class MaxNorm radius of the classifier's weight
                                    rows, > 0; default 0.1 (the paper's) */
    double ema_decay;            /* in [0, 1): validate, select and keep an exponential moving
                                    average of the weights (and batch-norm statistics) updated
                                    after every step with rate min(ema_decay, (1+t)/(10+t)), t the
                                    step; 0: off (the trained weights themselves) */
    double mixup;                /* mixup (Zhang et al. 2018): α > 0 mixes every training batch with
                                    a permutation of itself, λ ~ Beta(α, α) per batch, and the loss
                                    is λ·L(y_i) + (1 − λ)·L(y_perm(i)), any loss and task; drawn
                                    from the run's seed; validation and test unmixed. 0: off */
    int head_normalised;         /* 1: model_desc is a preset whose last `dense` layer was made
                                    `dense-norm` for LDAM (focal_model_normalise_head); recorded
                                    in run.json */
    /* Data-parallel training: with comm (size >= 2), every rank calls
     * focal_run_train with the same arguments; each takes its share of every
     * global batch of `batch` samples (at least 2 per rank; a last batch of
     * fewer than 2 per rank is dropped), gradients are summed over the ranks
     * (focal_train_step_dp), and rank 0 alone validates, writes the run folder
     * and evaluates the test split while the others wait. Augmentation and
     * sampling follow the global batch position, as with one process; dropout
     * masks are drawn per rank (seeded by seed, epoch and rank), so they
     * depend on the rank count. The rank count and sync_bn are part of the
     * run's settings: a run resumes only with the same. NULL: one process. */
    const struct focal_comm *comm;
    int sync_bn;                 /* with comm: batch norm with the statistics of the global batch
                                    (focal_model_sync_bn); 0: each rank's own (as PyTorch DDP) */
};
/* Defaults: Adam lr 1e-3 annealed by one cosine over the whole run (no
 * warm-up), batch 32, 10 epochs, shuffle, no augmentation, seed 0,
 * patience 0, select AUTO, no DRW (β 0.9999), no second stage (MaxNorm 0.1),
 * no post-hoc logit adjustment (posthoc_tau 1 for TAU); model_desc and loss
 * are the caller's to set. */
void focal_run_defaults(struct focal_run_config *cfg);

/* One epoch of a run: a row of history.csv. */
struct focal_epoch_record {
    int epoch;               /* 1-based */
    double train_loss, val_loss;
    double val_map, val_auc, val_macro_f1, val_balanced_accuracy, val_accuracy; /* NaN if undefined */
    double select_value;     /* the selection metric */
    int improved;            /* 1 if this epoch became the best */
    double lr, seconds;
};

/* What focal_run_train does with a run folder that holds a run (its mode). A
 * run folder holds one run: run.json, the checkpoints, history, metrics and
 * scores, replaced together by atomic commits (focal_commit), so that after
 * a crash at any point the folder holds the last committed epoch. */
enum focal_run_mode {
    FOCAL_RUN_NEW = 0,       /* refuse a folder that holds a run (FOCAL_ERR_ARG) */
    FOCAL_RUN_RESUME = 1,    /* continue after its last committed epoch (the settings must
                                match, the epoch count may be raised); a folder without a
                                committed epoch starts from the first */
    FOCAL_RUN_OVERWRITE = 2, /* remove the run it holds and start anew */
    FOCAL_RUN_CONTINUE = 3   /* for experiments: a run with the same settings is kept when
                                finished and resumed when not; one with other settings (see
                                run.json's "config": the configuration, epochs and the
                                data's fingerprint) is removed and started anew */
};

/* How focal_run_train began (reported through the start callback). */
enum focal_run_start {
    FOCAL_RUN_STARTED,       /* a new run */
    FOCAL_RUN_RESUMED,       /* continued after its last committed epoch */
    FOCAL_RUN_UP_TO_DATE,    /* CONTINUE: finished with the same settings; nothing was done */
    FOCAL_RUN_RESTARTED      /* its earlier run was removed (other settings, or OVERWRITE) */
};

/* What the run reports as it goes; any member may be NULL. */
struct focal_run_callbacks {
    void *ctx;
    /* after each batch: samples done of total in this epoch, the epoch's mean loss so far */
    void (*batch)(void *ctx, int epoch, int epochs, long done, long total, double loss, double seconds);
    /* after each epoch's validation: one history row */
    void (*epoch)(void *ctx, const struct focal_epoch_record *rec);
    /* after each optimiser step: its number (1-based over the whole run,
     * resumed runs included), the learning rate it used and the batch loss */
    void (*step)(void *ctx, int epoch, long step, double lr, double loss);
    /* once the run folder is locked: how the run starts and, for RESTARTED
     * after a change of settings, what changed ("epochs 10 -> 3") */
    void (*start)(void *ctx, enum focal_run_start how, const char *why);
};

/* The training, validation and test samples of d as a run uses them: the
 * data's own splits (when it has training but no validation samples,
 * validation is a val_frac share of training, stratified and drawn with
 * seed), or for data without splits a stratified split with val_frac and
 * test_frac drawn with seed (focal_split_stratified). Each list is malloc'd
 * (the caller frees it; an empty split has a count of 0). On failure every
 * list is NULL and every count 0. FOCAL_ERR_NOMEM, or focal_split_stratified's
 * error. */
focal_status focal_run_split(const struct focal_dataset *d, double val_frac, double test_frac, uint64_t seed,
                             int **train, int *n_train, int **val, int *n_val, int **test, int *n_test);

/* Trains on the samples train[0..n_train) of d (pixels or features; labels),
 * validating on val[0..n_val) (n_val > 0), testing on test[0..n_test) (may be
 * 0), writing the run folder `dir` (created if missing) as `mode` says (enum
 * focal_run_mode; 0 refuses a folder holding a run, 1 resumes). The folder is
 * locked for the run's life (focal_dir_lock: FOCAL_ERR_BUSY naming the
 * holder's pid); every epoch's files and the final metrics are each one
 * atomic commit. With RESUME, `dir` must hold a run with the same settings
 * (configuration and data); training continues after its last completed
 * epoch (epochs may be raised; a cosine schedule with total_steps 0 is then
 * stretched over the new length from the step reached). FOCAL_ERR_NUMERIC when the loss becomes NaN
 * or Inf: training stops, the files of the last good epoch stay, and the
 * message names the epoch and batch. */
focal_status focal_run_train(const struct focal_run_config *cfg, const struct focal_dataset *d,
                             const int *train, int n_train, const int *val, int n_val,
                             const int *test, int n_test, const char *dir, int mode,
                             const struct focal_run_callbacks *cb);

/* A trained run loaded for evaluation or prediction. */
struct focal_run {
    struct focal_model *model;
    struct focal_ckpt_meta meta;     /* normalisation, class names */
    enum focal_task task;
    int num_classes;
    double *thresholds;              /* num_classes (binary: 1) decision thresholds */
    int fundus_crop;
    int channels, height, width;     /* model input */
    int n_members;                   /* an ensemble: its members (model and meta are the first's);
                                        0 for a single run */
    struct focal_run *members;       /* an ensemble: members 2..n_members; NULL for a single run */
    int tta;                         /* test-time augmentation of focal_run_predict and
                                        focal_run_evaluate: FOCAL_TTA_NONE (as loaded) or
                                        FOCAL_TTA_FLIPS; the caller sets it */
    int trained_vflip;               /* the run trained with vertical flips (run.json's augment) */
    double *logit_shift;             /* post-hoc logit adjustment (enum focal_posthoc): num_classes
                                        values −τ·log π added to the logits before the softmax by
                                        focal_run_predict; NULL when the run has none */
    double posthoc_tau;              /* its τ (NaN when the run has none) */
};
/* Test-time augmentation: FLIPS averages the probabilities of the image and
 * its horizontal flip, and when the run trained with vertical flips also of
 * its vertical flip and of both flips (every member of an ensemble by its
 * own training). Image inputs only. */
enum focal_tta { FOCAL_TTA_NONE, FOCAL_TTA_FLIPS };
/* Loads dir/model.safetensors and dir/run.json for up to max_batch samples,
 * after finishing a commit that a crash interrupted (when no process holds
 * the folder's lock and the folder is writable). When run.json describes an
 * ensemble (focal_ensemble_create), loads every member so: predicting and
 * evaluating then use the mean of their probabilities and the ensemble's
 * thresholds. */
focal_status focal_run_load(struct focal_run *r, const char *dir, int max_batch);
/* Frees the model, metadata and thresholds focal_run_load put in *r and
 * zeroes it. Safe on a zeroed struct and on NULL. */
void focal_run_release(struct focal_run *r);

/* The image options the run was trained with: opt's width, height and
 * channels become the model's input, fundus_crop run.json's "fundus_crop";
 * opt's other members (cache, skip_bad, threads) are left as they are. */
void focal_run_image_options(const struct focal_run *r, struct focal_image_options *opt);

/* Sets what the run's data options must be for its task: the positive class
 * of a binary run (opt->positive) and whether two classes are a two-way
 * softmax (opt->two_class_softmax), so that data read for evaluating it has
 * the run's classes in the run's order. Other fields are left alone. */
void focal_run_data_options(const struct focal_run *r, struct focal_data_options *opt);

/* Class probabilities of samples idx[0..n) of d (pixels or features, shaped as
 * the run's input): probs receives n × num_classes values (binary: n values,
 * the positive class's probability). Evaluation mode, no augmentation. */
focal_status focal_run_predict(struct focal_run *r, const struct focal_dataset *d, const int *idx, int n,
                               double *probs);

/* The metrics of the run's model on samples idx[0..n) of d, with the run's
 * thresholds (m: release with focal_metrics_release); when the labels include
 * Disease_Risk, *have_riadd = 1 and *riadd the RIADD score. FOCAL_ERR_ARG if
 * d's task or classes differ from the run's. */
focal_status focal_run_evaluate(struct focal_run *r, const struct focal_dataset *d, const int *idx, int n,
                                struct focal_metrics *m, struct focal_riadd *riadd, int *have_riadd);

/* ------------------------------------------------------------------------ */
/* Ensembles                                                                 */
/* ------------------------------------------------------------------------ */

/* Makes the run folder dir (created if missing; it must not hold a trained
 * run) an ensemble of the finished runs members[0..n) (n >= 2): run.json
 * with "kind": "ensemble" and "members" (paths relative to dir; the members
 * stay where they are), scores.csv with the mean of the members'
 * probabilities of every validation and test sample (matched by sample id),
 * per-class thresholds chosen on those validation means as a run chooses
 * them (maximum F1), and metrics.json with those thresholds. The members
 * must be single runs with the same task, classes, positive class, input
 * size and fundus crop, and the same validation and test samples and labels;
 * otherwise FOCAL_ERR_ARG naming the member and what differs. Reading a
 * member fails as focal_run_read_scores does. Every file is written
 * atomically. focal_run_load loads the folder like a run. */
focal_status focal_ensemble_create(const char *dir, const char *const *members, int n);

/* ------------------------------------------------------------------------ */
/* Reading a run folder back                                                 */
/* ------------------------------------------------------------------------ */

/* The files focal_run_train writes, read by the library that writes them
 * (for focal compare, focal tune and their reports). Every reader checks what
 * it reads and fails with FOCAL_ERR_IO (cannot read), FOCAL_ERR_NOMEM or
 * FOCAL_ERR_FORMAT, the message naming the file (and line, column or member)
 * and what was expected; on failure nothing is left allocated. */

struct cJSON;
/* Parses the JSON file at path (a run's metrics.json, an experiment's
 * results.json) into *out (release with cJSON_Delete). FOCAL_ERR_FORMAT
 * "PATH:LINE:COL: malformed JSON" where the text stops being JSON. */
focal_status focal_read_json(const char *path, struct cJSON **out);

/* The most epochs a history may hold. */
#define FOCAL_RUN_MAX_EPOCHS 100000

/* dir/history.csv: *n rows into a new array *rows (caller frees; NULL when
 * there are none), in the file's order. The header must have every column
 * focal writes (epoch, train_loss, val_loss, val_map, val_auc, val_macro_f1,
 * val_balanced_accuracy, val_accuracy, improved, lr, seconds) in any order;
 * other columns are ignored. Empty fields read as NaN; select_value is NaN
 * (history.csv does not hold it). An epoch must be a whole number in
 * 1..FOCAL_RUN_MAX_EPOCHS. */
focal_status focal_run_read_history(const char *dir, struct focal_epoch_record **rows, int *n);

/* The value of the selection metric s in an epoch's record: val_map for
 * MAP, val_auc for AUC, ..., val_loss for LOSS. s must be resolved (not
 * AUTO; see focal_select_resolve). */
double focal_epoch_select_value(const struct focal_epoch_record *r, enum focal_select s);

/* One split of metrics.json: the summary values and, per entry of
 * "per_class" (in its order), the class name and average precision. */
struct focal_split_summary {
    double map, auc, macro_f1, balanced_accuracy, accuracy; /* NaN where null or absent */
    int num_classes;           /* entries of per_class */
    char **class_names;        /* num_classes names */
    double *average_precision; /* num_classes values; NaN where undefined */
    int64_t *confusion;        /* binary and multi-class: num_classes² counts, row = true class,
                                  column = predicted; NULL for multi-label data or when absent */
};
/* metrics.json: validation and, when the run had test samples, test. */
struct focal_run_metrics {
    struct focal_split_summary val, test;
    int have_test;             /* 0: test is all zero */
};
/* Reads dir/metrics.json into *m (release with focal_run_metrics_release). It
 * must hold a "val" object; each split needs "per_class" as an array of
 * objects with a "name". */
focal_status focal_run_read_metrics(const char *dir, struct focal_run_metrics *m);
void focal_run_metrics_release(struct focal_run_metrics *m);

/* The scores of one split from scores.csv. */
struct focal_run_scores {
    int outputs;               /* probability columns (binary: 1, the positive class) */
    char **names;              /* outputs column names */
    int n;                     /* samples of the split */
    char **ids;                /* n sample ids, as scores.csv holds them */
    double *probs;             /* n × outputs probabilities, each finite */
    uint8_t *labels;           /* n × outputs 0/1 labels */
};
/* Reads the rows of split ("val" or "test") of dir/scores.csv into *s
 * (release with focal_run_scores_release). The header must be
 * split,id,<names>,y_<names>; every row's split must be val or test; an id
 * may hold commas (the numbers are a row's last fields). */
focal_status focal_run_read_scores(const char *dir, const char *split, struct focal_run_scores *s);
void focal_run_scores_release(struct focal_run_scores *s);

#ifdef __cplusplus
}
#endif

#endif /* FOCAL_TRAIN_H */
