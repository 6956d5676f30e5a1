/* cmd_train.c — `focal train`: trains a network on a dataset and writes a run
 * folder (model, optimiser state, history, metrics). */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "focal.h"
#include "args.h"
#include "commands.h"
#include "dataopt.h"
#include "ensemble.h"
#include "lossopt.h"
#include "progress.h"
#include "trainopt.h"

int cmd_train(int argc, char **argv)
{
    struct trainopt t;
    struct focal_dataset *d = NULL;
    int *train = NULL, *val = NULL, *test = NULL, n_train = 0, n_val = 0, n_test = 0;
    long seeds; /* --seeds K: a seed ensemble (ensemble.h) */
    int status = ensemble_take_seeds(&argc, argv, &seeds);
    if (status != CLI_EXIT_OK)
        return status;
    status = trainopt_parse(&t, argc, argv, "train");
    if (status != CLI_EXIT_OK)
        return status < 0 ? CLI_EXIT_OK : status;
    if (t.cfg.stage2 != FOCAL_STAGE2_NONE && (t.model || seeds > 0)) {
        cli_error("--stage2: %s", t.model ? "a second stage keeps the network of its stage-1 run (--from); "
                  "leave out --model" : "train each seed's stage 1 and give one to --from; --seeds trains "
                  "stage 1 runs");
        status = CLI_EXIT_USAGE;
        goto out;
    }
    if ((status = trainopt_stage2_data(&t)) != CLI_EXIT_OK ||
        (status = dataopt_load(&t.data, &d, t.quiet)) != CLI_EXIT_OK)
        goto out;
    if ((status = dataopt_splits(&t.data, d, t.cfg.seed, &train, &n_train, &val, &n_val, &test, &n_test)) !=
        CLI_EXIT_OK)
        goto out;
    if (seeds > 0)
        status = ensemble_train_seeds(&t, seeds, d, train, n_train, val, n_val, test, n_test);
    else
        status = trainopt_run(&t, d, train, n_train, val, n_val, test, n_test, t.out);
out:
    free(train);
    free(val);
    free(test);
    focal_dataset_free(d);
    trainopt_free(&t);
    return status;
}

void cmd_train_help(FILE *fp)
{
    fputs(
"Usage: focal train --data PATH --out RUNDIR [options]\n"
"\n"
"Trains a network on a dataset: the dataset's own train/validation/test splits\n"
"when it has them (else a stratified split), validation after every epoch, the\n"
"best epoch's checkpoint kept by a validation metric, per-class decision\n"
"thresholds chosen on validation (maximum F1), and the test split evaluated once\n"
"at the end with that checkpoint and those thresholds.\n"
"\n"
"RUNDIR receives model.safetensors (best epoch), last.safetensors and\n"
"last.optim.safetensors (for --resume), history.csv (one row per epoch),\n"
"run.json (task, classes, thresholds, the settings and a fingerprint of them and\n"
"of the data), metrics.json ({\"val\": ..., \"test\": ...}, the keys of 'focal\n"
"metrics --json') and scores.csv. Each epoch's files, and the final metrics,\n"
"are replaced together (one atomic commit): after a crash or a full disk at any\n"
"point RUNDIR holds the last committed epoch, and --resume continues from it to\n"
"the same result as an uninterrupted run. RUNDIR is locked while the run writes\n"
"it (a second 'focal train' on it fails, naming the process); a RUNDIR that\n"
"holds a run is refused unless --resume or --overwrite is given.\n"
"\n"
"Decoupled training: --stage2 crt|tau-norm|wb --from RUN1 makes a second stage\n"
"of the finished run RUN1 (same data, splits and --seed): every layer but the\n"
"last (the features) stays bit-identical to RUN1's best checkpoint, runs in\n"
"evaluation mode (batch-norm running statistics) and gets no gradient; only\n"
"the classifier changes. RUN1's fingerprint is part of the stage-2 run's\n"
"settings (a changed RUN1 refuses --resume); run.json's \"stage2\" names RUN1,\n"
"the scheme and what it found. The result is a run like any other (eval,\n"
"predict, export, --resume).\n"
"\n"
"  --seeds K            train K seeds (--seed, --seed + 1, ...) into RUNDIR/seed<k>\n"
"                       and make RUNDIR their ensemble (see 'focal ensemble'):\n"
"                       eval and predict on RUNDIR average the K models.\n"
"                       Run again to continue: finished seeds are skipped.\n"
"\n", fp);
    trainopt_help_all(fp,
"  focal synth --out synth\n"
"  focal train --data synth --loss focal --alpha 0.25 --epochs 10 --out runs/focal\n"
"  focal train --data retinamnist.npz --loss ce --class-weights balanced --out runs/ce\n"
"  focal train --data synth --loss ce --out runs/ce\n"
"  focal train --data synth --loss ce --stage2 crt --from runs/ce --out runs/crt\n");
}
