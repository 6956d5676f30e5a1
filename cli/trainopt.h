/* trainopt.h — the training options shared by `focal train` and the
 * experiment commands, and one training run with progress output. */
#ifndef FOCAL_CLI_TRAINOPT_H
#define FOCAL_CLI_TRAINOPT_H

#include <stdio.h>

#include "focal.h"
#include "dataopt.h"
#include "lossopt.h"

enum trainopt_id {
    TRAINOPT_FIRST = 3000,
    TRAINOPT_MODEL = TRAINOPT_FIRST, TRAINOPT_LOSS, TRAINOPT_CLASS_WEIGHTS, TRAINOPT_SAMPLER,
    TRAINOPT_REPEAT_THRESHOLD, TRAINOPT_PRIOR, TRAINOPT_EPOCHS, TRAINOPT_BATCH, TRAINOPT_LR, TRAINOPT_OPTIMIZER,
    TRAINOPT_MOMENTUM, TRAINOPT_NESTEROV, TRAINOPT_WEIGHT_DECAY, TRAINOPT_SCHEDULE, TRAINOPT_WARMUP,
    TRAINOPT_CLIP_NORM, TRAINOPT_SEED, TRAINOPT_THREADS, TRAINOPT_PATIENCE, TRAINOPT_SELECT, TRAINOPT_AUGMENT,
    TRAINOPT_OUT, TRAINOPT_RESUME, TRAINOPT_QUIET, TRAINOPT_HELP, TRAINOPT_STEPS_CSV, TRAINOPT_OVERWRITE,
    TRAINOPT_MAX_MEMORY, TRAINOPT_REWEIGHT_FROM, TRAINOPT_REWEIGHT_BETA, TRAINOPT_POSTHOC_LA,
    TRAINOPT_EMA, TRAINOPT_MIXUP, TRAINOPT_STAGE2, TRAINOPT_FROM, TRAINOPT_MAX_NORM, TRAINOPT_END
};

#define TRAINOPT_CLI_OPTS                                                                               \
    { "--model", 1, TRAINOPT_MODEL }, { "--loss", 1, TRAINOPT_LOSS },                                   \
    { "--class-weights", 1, TRAINOPT_CLASS_WEIGHTS }, { "--sampler", 1, TRAINOPT_SAMPLER },             \
    { "--repeat-threshold", 1, TRAINOPT_REPEAT_THRESHOLD }, { "--prior", 1, TRAINOPT_PRIOR },           \
    { "--epochs", 1, TRAINOPT_EPOCHS }, { "--batch", 1, TRAINOPT_BATCH }, { "--lr", 1, TRAINOPT_LR },   \
    { "--optimizer", 1, TRAINOPT_OPTIMIZER }, { "--momentum", 1, TRAINOPT_MOMENTUM },                   \
    { "--nesterov", 0, TRAINOPT_NESTEROV }, { "--weight-decay", 1, TRAINOPT_WEIGHT_DECAY },             \
    { "--schedule", 1, TRAINOPT_SCHEDULE }, { "--warmup", 1, TRAINOPT_WARMUP },                         \
    { "--clip-norm", 1, TRAINOPT_CLIP_NORM }, { "--seed", 1, TRAINOPT_SEED },                           \
    { "--threads", 1, TRAINOPT_THREADS }, { "--patience", 1, TRAINOPT_PATIENCE },                       \
    { "--select", 1, TRAINOPT_SELECT }, { "--augment", 1, TRAINOPT_AUGMENT }, { "--out", 1, TRAINOPT_OUT }, \
    { "--resume", 0, TRAINOPT_RESUME }, { "--quiet", 0, TRAINOPT_QUIET }, { "--help", 0, TRAINOPT_HELP },  \
    { "--steps-csv", 1, TRAINOPT_STEPS_CSV }, { "--overwrite", 0, TRAINOPT_OVERWRITE },              \
    { "--max-memory", 1, TRAINOPT_MAX_MEMORY }, { "--reweight-from", 1, TRAINOPT_REWEIGHT_FROM },     \
    { "--reweight-beta", 1, TRAINOPT_REWEIGHT_BETA }, { "--posthoc-la", 1, TRAINOPT_POSTHOC_LA },   \
    { "--ema", 1, TRAINOPT_EMA }, { "--mixup", 1, TRAINOPT_MIXUP }, { "--stage2", 1, TRAINOPT_STAGE2 },   \
    { "--from", 1, TRAINOPT_FROM }, { "--max-norm", 1, TRAINOPT_MAX_NORM }

struct trainopt {
    struct dataopt data;
    struct focal_run_config cfg;
    struct lossopt lo;
    const char *loss_name;       /* as given: focal, ce, asl, ... (resolved per task) */
    const char *weights;         /* --class-weights as given, or NULL */
    const char *model;           /* --model as given, or NULL for a default by input */
    const char *out;
    const char *steps_csv;      /* --steps-csv: every optimiser step's rate and loss, or NULL */
    const char *sampler_name;
    int optimizer_given, lr_given, weight_decay_given, epochs_given;
    int resume, quiet;
    int overwrite;               /* --overwrite: replace the run RUNDIR holds */
    int experiment;              /* a run of compare/tune: kept if its settings match, else redone */
    int brief;                   /* only the progress bar (experiments print their own lines) */
    const char *stage1_dir;      /* experiments, a second stage (--stage2): where its stage 1 trains */
    long threads;
    double reweight_percent;     /* --reweight-from P%: P, or 0 for an epoch given as such */
    /* filled by trainopt_run */
    char *model_text;
    double *class_weights;
    enum focal_run_start started; /* how the run began (experiments: UP_TO_DATE = skipped) */
    double train_seconds;        /* the epochs' training steps (validation excluded) */
    long train_samples;          /* the samples those steps took */
};

/* Parses a whole command line of `cmd` made of the training, loss and data
 * options (plus --out, --resume, --quiet, --help). Returns CLI_EXIT_OK, -1
 * after printing help, or CLI_EXIT_USAGE after an error. */
int trainopt_parse(struct trainopt *t, int argc, char **argv, const char *cmd);

/* Defaults of every option. */
void trainopt_init(struct trainopt *t);

/* Handles a training, loss or data option; returns 1 (taken), 0 (not one) or
 * -1 after printing an error. */
int trainopt_take(struct trainopt *t, int id, const char *value);

/* Resolves --loss for the task (the generic names ce, focal and poly1 take
 * the family the task needs) and applies the loss options into t->cfg.loss,
 * checked by the library; warnings for unused options only if warn. Returns
 * CLI_EXIT_OK or CLI_EXIT_USAGE after printing an error prefixed by "ctx: "
 * when ctx is not NULL. */
int trainopt_resolve_loss(struct trainopt *t, enum focal_task task, const char *ctx, int warn);

/* Checks, before anything is written, what the library can check of a run
 * of t on d: the whole loss (trainopt_resolve_loss, without warnings) and the
 * sampler on the training samples. Returns an exit status after printing the
 * library's message prefixed by "ctx: " when ctx is not NULL. */
int trainopt_check(struct trainopt *t, const struct focal_dataset *d, const int *train, int n_train,
                   const char *ctx);

/* Resolves what depends on the data (loss kind for the task, class weights
 * from training counts, the default network) and trains, writing `dir`, with
 * a progress bar and one line per epoch. Returns an exit status. */
int trainopt_run(struct trainopt *t, const struct focal_dataset *d, const int *train, int n_train, const int *val,
                 int n_val, const int *test, int n_test, const char *dir);

void trainopt_free(struct trainopt *t);

/* A second stage (--stage2, --from): sets the image size the data is read at
 * to the stage-1 run's input (its run.json), for data whose images are of
 * several sizes and no --size. Returns an exit status after printing any
 * error. Does nothing for an ordinary run. */
int trainopt_stage2_data(struct trainopt *t);

/* Writes the help lines of the training options. */
void trainopt_help(FILE *fp);

/* Writes the data options' and the training options' help, then the
 * examples (lines of text, each ending in a newline). */
void trainopt_help_all(FILE *fp, const char *examples);

#endif
