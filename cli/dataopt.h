/* dataopt.h — the data options of the commands that read a dataset (train,
 * eval, compare, tune): reading, decoding images, and splitting. */
#ifndef FOCAL_CLI_DATAOPT_H
#define FOCAL_CLI_DATAOPT_H

#include <stdio.h>

#include "focal.h"
#include "args.h"
#include "progress.h"

enum dataopt_id {
    DATAOPT_FIRST = 2000,
    DATAOPT_DATA = DATAOPT_FIRST, DATAOPT_FORMAT, DATAOPT_IMAGES, DATAOPT_LABELS, DATAOPT_MERGE_RARE,
    DATAOPT_INCLUDE_RISK, DATAOPT_TARGET, DATAOPT_HEADER, DATAOPT_SIZE, DATAOPT_CROP, DATAOPT_CACHE,
    DATAOPT_ON_BAD_IMAGE, DATAOPT_VAL_FRAC, DATAOPT_TEST_FRAC, DATAOPT_LONG_TAIL, DATAOPT_POSITIVE, DATAOPT_HEAD,
    DATAOPT_SKIPPED_LIST, DATAOPT_END
};

#define DATAOPT_CLI_OPTS                                                                              \
    { "--data", 1, DATAOPT_DATA }, { "--format", 1, DATAOPT_FORMAT }, { "--images", 1, DATAOPT_IMAGES }, \
    { "--labels", 1, DATAOPT_LABELS }, { "--merge-rare", 1, DATAOPT_MERGE_RARE },                     \
    { "--include-risk", 0, DATAOPT_INCLUDE_RISK }, { "--target", 1, DATAOPT_TARGET },                  \
    { "--header", 1, DATAOPT_HEADER }, { "--size", 1, DATAOPT_SIZE }, { "--crop", 0, DATAOPT_CROP },    \
    { "--cache", 1, DATAOPT_CACHE }, { "--on-bad-image", 1, DATAOPT_ON_BAD_IMAGE },                    \
    { "--val-frac", 1, DATAOPT_VAL_FRAC }, { "--test-frac", 1, DATAOPT_TEST_FRAC },                     \
    { "--long-tail", 1, DATAOPT_LONG_TAIL }, { "--positive", 1, DATAOPT_POSITIVE },                     \
    { "--head", 1, DATAOPT_HEAD }, { "--skipped-list", 1, DATAOPT_SKIPPED_LIST }

struct dataopt {
    const char *path;                 /* --data */
    struct focal_data_options data;
    struct focal_image_options img;
    int size_given;                   /* 1: --size; 2: the run's size (eval), never the user's */
    int default_width, default_height; /* without --size, for images of several sizes: the network's */
    double val_frac, test_frac;
    double long_tail;                 /* --long-tail ρ, 0: off */
    const char *skipped_list;         /* --skipped-list FILE: every image left out, or NULL */
    char cache_buf[4096];
};

/* Defaults: without --size, the images' own size when they all share one (up
 * to 512 px a side), else default_width × default_height (64×64, or the
 * network's, set by the caller); smaller images are enlarged. No crop, the cache in $XDG_CACHE_HOME/focal (or
 * ~/.cache/focal), bad images are errors, 20% validation and 20% test when the
 * data has no splits of its own. */
void dataopt_init(struct dataopt *o);

/* Handles option id if it is a data option: returns 1 (taken), 0 (not a data
 * option) or -1 after printing an error about its value. */
int dataopt_take(struct dataopt *o, int id, const char *value);

/* Decodes the images of d with o's image options, with a progress bar
 * (none when quiet); with --on-bad-image skip, warns with the first
 * DATAOPT_SKIPPED_SHOWN images left out and their count, and writes every
 * one to --skipped-list FILE when given. Warns once when the cache could not
 * be written. Returns CLI_EXIT_OK, or CLI_EXIT_DATA after printing the
 * error, with the --on-bad-image skip hint only when one image stopped the
 * load (d is then the caller's to free). */
int dataopt_decode(const struct dataopt *o, struct focal_dataset *d, int quiet);

#define DATAOPT_SKIPPED_SHOWN 5

/* Reads the dataset, refuses one with fewer than two classes
 * (focal_dataset_check_classes), and decodes its images (dataopt_decode).
 * Returns CLI_EXIT_OK and *d, or an exit status after printing the error. */
int dataopt_load(struct dataopt *o, struct focal_dataset **d, int quiet);

/* Sample indices of the training, validation and test splits as a run uses
 * them (focal_run_split with --val-frac and --test-frac): the data's own
 * splits (validation carved from training when it has none), or a stratified
 * split drawn with seed; with --long-tail, the training and validation
 * samples are cut to a long-tailed subset (the test split stays as it is).
 * Each list is malloc'd. Returns CLI_EXIT_OK or an exit
 * status after printing the error. */
int dataopt_splits(const struct dataopt *o, const struct focal_dataset *d, uint64_t seed, int **train, int *n_train,
                   int **val, int *n_val, int **test, int *n_test);

/* Writes the help lines of the data options. */
void dataopt_help(FILE *fp);

#endif
