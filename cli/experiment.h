/* experiment.h — what `focal compare` and `focal tune` share: training one
 * configuration in its own run folder (skipped when finished, resumed when
 * interrupted), reading a finished run's numbers, and summarising seeds. */
#ifndef FOCAL_CLI_EXPERIMENT_H
#define FOCAL_CLI_EXPERIMENT_H

#include "focal.h"
#include "trainopt.h"

/* The numbers of a run that the experiment tables show. */
enum exp_metric { EXP_MAP, EXP_AUC, EXP_MACRO_F1, EXP_BACC, EXP_ACC, EXP_RARE_AP, EXP_SECONDS, EXP_N };
enum exp_split { EXP_VAL, EXP_TEST, EXP_NSPLITS };

/* "map", "auc", "macro_f1", "balanced_accuracy", "accuracy", "rare_ap", "seconds". */
const char *exp_metric_key(enum exp_metric m);
/* "mAP", "macro ROC-AUC", "macro F1", "balanced acc.", "accuracy", "AP rarest 3", "train s". */
const char *exp_metric_label(enum exp_metric m);
/* The experiment metric a selection metric stands for, or -1. */
int exp_metric_of_select(enum focal_select s);

/* One finished run: values[split][metric], NaN where undefined or absent. */
struct exp_result {
    double values[EXP_NSPLITS][EXP_N];
    int have_test;
};

/* Applies a method spec "key:value,key:value" (keys: loss, gamma, alpha,
 * beta, gamma-pos, gamma-neg, margin, epsilon, label-smoothing, weights,
 * sampler, prior, weight-decay, stage2, max-norm, posthoc-la) to t as if
 * given on the command line. The spec text must outlive t. Returns 0, or -1
 * after printing an error naming the key. */
int exp_apply_spec(struct trainopt *t, char *spec);

/* Where the stage 1 of method k's seed `seed` trains, when its spec
 * (specs[k]) names a second stage (stage2:...): the run folder of a
 * one-stage method among names/specs[0..n) whose spec is that stage 1's
 * recipe (k's items but stage2 and max-norm), OUT/runs/<name>/seed<seed>;
 * else the stage-1 folder of the first two-stage method with that recipe,
 * OUT/runs/<name>/stage1/seed<seed>. Into buf; unless quiet, says so for
 * seed 0 when it is another method's. Returns 1, or 0 (buf untouched) for a
 * one-stage method. */
/* Whether a method spec has a second stage (stage2:...). */
int exp_two_stage(const char *spec);
int exp_stage1_dir(char *buf, size_t size, const char *out, int k, int seed, const char *const *names,
                   const char *const *specs, int n, int quiet);

/* Trains `t` into run folder dir (created with its parents) unless dir
 * holds a finished run with the same settings — configuration, epochs and
 * data fingerprint, as recorded in its run.json; a run with the same
 * settings that did not finish is resumed, one with other settings is
 * removed and run again (saying what changed). The run folder is locked
 * while it trains. *skipped = 1 when nothing had to be done. A second stage
 * (t->cfg.stage2) with t->stage1_dir first trains its stage 1 so into that
 * folder, then itself from it (without, it is a run from t->cfg.stage2_from).
 * Returns an exit status. */
int exp_train(struct trainopt *t, const struct focal_dataset *d, const int *train, int n_train, const int *val,
              int n_val, const int *test, int n_test, const char *dir, int *skipped);

/* Reads a finished run's metrics.json and history.csv; rare[0..n_rare) are
 * the class indices whose mean AP is "rare_ap". Returns 0, or -1 after
 * printing an error naming the file. */
int exp_read_result(const char *dir, const int *rare, int n_rare, struct exp_result *r);

/* The indices of the (up to) three rarest classes with training examples,
 * by training count; returns how many. */
int exp_rarest(const struct focal_dataset *d, const int *train, int n_train, int rare[3]);

/* A new results.json object with the members every experiment has: kind,
 * data, task, class_names, train_counts, select, seeds, metrics,
 * metric_labels, rarest. NULL when out of memory. */
struct cJSON *exp_results_head(const char *kind, const char *data, const struct focal_dataset *d, const int *train,
                               int n_train, enum focal_select sel, int seeds, const int *rare, int n_rare);

/* Writes text and a newline to dir/name atomically. Returns 0, or -1 after
 * printing an error. */
int exp_write_text(const char *dir, const char *name, const char *text);

/* Writes results (results.json) and the report of dir, then says where they
 * are unless quiet. Returns 0, or -1 after printing an error. */
int exp_finish(const char *dir, struct cJSON *results, int quiet);

/* A copy of base for one run: its own allocations, the progress bar only,
 * the given seed. */
struct trainopt exp_run_options(const struct trainopt *base, uint64_t seed);

/* {"mean": m, "std": s}, null where not finite. */
struct cJSON *exp_stat_json(double mean, double std);

/* Starts an experiment in dir: creates it, locks it for the command's life
 * (a second compare or tune on dir fails naming the holder's pid), and
 * removes its results and report, which are written again from the current
 * runs at the end. Returns an exit status after printing any error. */
int exp_begin(const char *dir, struct focal_dir_lock *lock);

/* Creates dir and its parents. Returns 0, or -1 after printing an error. */
int exp_mkdirs(const char *dir);

#endif
