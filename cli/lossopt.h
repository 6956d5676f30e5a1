/* lossopt.h — the loss parameters shared by `focal loss` and the training
 * commands: their options, parsing, warnings for options the chosen loss does
 * not use, and their help text. */
#ifndef FOCAL_CLI_LOSSOPT_H
#define FOCAL_CLI_LOSSOPT_H

#include <stdio.h>

#include "focal.h"
#include "args.h"

/* Option ids of the loss parameters; commands number their own options below
 * LOSSOPT_FIRST. */
enum lossopt_id {
    LOSSOPT_FIRST = 1000,
    LOSSOPT_ALPHA = LOSSOPT_FIRST, LOSSOPT_GAMMA, LOSSOPT_BETA, LOSSOPT_GAMMA_POS, LOSSOPT_GAMMA_NEG,
    LOSSOPT_MARGIN, LOSSOPT_EPSILON, LOSSOPT_REDUCTION, LOSSOPT_LABEL_SMOOTHING, LOSSOPT_IGNORE_INDEX,
    LOSSOPT_TAU, LOSSOPT_SCALE, LOSSOPT_DB_ALPHA, LOSSOPT_DB_BETA, LOSSOPT_DB_MU, LOSSOPT_DB_LAMBDA,
    LOSSOPT_DB_KAPPA,
    LOSSOPT_END
};
#define LOSSOPT_COUNT (LOSSOPT_END - LOSSOPT_FIRST)

/* The loss parameters' entries of a command's struct cli_opt table. */
#define LOSSOPT_CLI_OPTS                                                                          \
    { "--alpha", 1, LOSSOPT_ALPHA }, { "--gamma", 1, LOSSOPT_GAMMA }, { "--beta", 1, LOSSOPT_BETA }, \
    { "--gamma-pos", 1, LOSSOPT_GAMMA_POS }, { "--gamma-neg", 1, LOSSOPT_GAMMA_NEG },              \
    { "--margin", 1, LOSSOPT_MARGIN }, { "--epsilon", 1, LOSSOPT_EPSILON },                       \
    { "--reduction", 1, LOSSOPT_REDUCTION }, { "--label-smoothing", 1, LOSSOPT_LABEL_SMOOTHING },  \
    { "--ignore-index", 1, LOSSOPT_IGNORE_INDEX }, { "--tau", 1, LOSSOPT_TAU },                   \
    { "--scale", 1, LOSSOPT_SCALE }, { "--db-alpha", 1, LOSSOPT_DB_ALPHA },                        \
    { "--db-beta", 1, LOSSOPT_DB_BETA }, { "--db-mu", 1, LOSSOPT_DB_MU },                          \
    { "--db-lambda", 1, LOSSOPT_DB_LAMBDA }, { "--db-kappa", 1, LOSSOPT_DB_KAPPA }

/* The loss parameters given on a command line. */
struct lossopt {
    const char *val[LOSSOPT_COUNT];
};

/* Records option id's value if id is a loss parameter; returns 1 if it was. */
int lossopt_take(struct lossopt *o, int id, const char *value);

/* Initialises *l for kind and applies the given parameters: each is parsed
 * as a number (its range is the library's: focal_loss_check); one the kind
 * does not use is left at its default and, if warn, reported with a warning
 * naming kind_opt (the option that chose the kind, e.g. "--type"); a scalar
 * --alpha on a softmax loss gets a note. Then checks the whole loss with the
 * library (class weights are not set yet). Returns CLI_EXIT_OK or
 * CLI_EXIT_USAGE after printing an error, the library's message prefixed by
 * "ctx: " when ctx is not NULL. */
int lossopt_apply(struct focal_loss *l, enum focal_loss_kind kind, const struct lossopt *o, const char *kind_opt,
                  const char *ctx, int warn);

/* Writes the names of every loss kind, comma-separated, to fp. */
void lossopt_print_kinds(FILE *fp);

/* Writes the help lines of the loss parameters (without --class-weights and
 * --prior, which are arrays the commands read themselves). */
void lossopt_help(FILE *fp);

#endif
