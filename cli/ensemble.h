/* ensemble.h — seed ensembles for `focal ensemble`, `focal train --seeds` and
 * `focal compare`: making one from run folders (the library's
 * focal_ensemble_create) and printing its numbers beside its members'. */
#ifndef FOCAL_CLI_ENSEMBLE_H
#define FOCAL_CLI_ENSEMBLE_H

#include "focal.h"
#include "experiment.h"
#include "trainopt.h"

/* The most runs an ensemble made here takes (and seeds of `train --seeds`). */
#define ENSEMBLE_MAX_MEMBERS 100

/* Makes dir an ensemble of the run folders members[0..n). Returns an exit
 * status after printing the library's message. */
int ensemble_make(const char *dir, const char *const *members, int n);

/* Prints the validation and test mAP, macro ROC-AUC and macro F1 of every
 * member and of the ensemble in dir. Returns 0, or -1 after printing an
 * error naming the file. */
int ensemble_print(const char *dir, const char *const *members, int n);

/* Removes "--seeds K" (or "--seeds=K") from argv[1..*argc) of `focal train`
 * into *seeds (0 when absent). Returns CLI_EXIT_OK, or CLI_EXIT_USAGE after
 * printing an error. */
int ensemble_take_seeds(int *argc, char **argv, long *seeds);

/* `focal train --seeds K`: trains t with seeds seed..seed+K-1 into
 * t->out/seed<k> (a finished one is skipped, an interrupted one resumed),
 * then makes t->out their ensemble and prints its numbers. Returns an exit
 * status. */
int ensemble_train_seeds(struct trainopt *t, long seeds, const struct focal_dataset *d, const int *train,
                         int n_train, const int *val, int n_val, const int *test, int n_test);

/* `focal compare`: makes dir (a method's folder of runs) /ensemble the
 * ensemble of its runs dir/seed0..seed<n-1> and reads its numbers into *r
 * as exp_read_result does, with training seconds the sum of the members'
 * (member[k]: their results). Returns 0, or -1 after printing an error. */
int ensemble_of_seeds(const char *dir, int n, const struct exp_result *member, const int *rare, int n_rare,
                      struct exp_result *r);

#endif
