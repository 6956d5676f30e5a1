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
#include "mpi.h"
#include "mpi_train.h"
#include "progress.h"
#include "trainopt.h"

/* Sets t up for data-parallel training when the launcher started several
 * ranks: every rank trains its share, rank 0 alone prints and writes. */
static int data_parallel(struct trainopt *t, struct mpi_train *mt, int sync_bn, long seeds)
{
    const int ranks = mpi_train_init(mt) ? mt->comm.size : 1;
    if (ranks < 2 && sync_bn && !t->quiet)
        cli_warn("--sync-bn synchronises batch norm over the ranks of 'mpirun -np N focal train' (N >= 2); "
                 "one process has the whole batch's statistics anyway");
    if (ranks >= 2 && seeds > 0) {
        cli_error("--seeds trains one run after another; under mpirun run 'focal train' once per seed, or use "
                  "'mpirun focal compare' to spread runs over the ranks");
        return CLI_EXIT_USAGE;
    }
    if (!mt->comm.sum_float || seeds > 0)
        return CLI_EXIT_OK;
    /* under mpirun, one rank included: the library trains data-parallel from 2 ranks on */
    t->cfg.comm = &mt->comm;
    t->cfg.sync_bn = sync_bn;
    if (mt->comm.rank != 0) {
        t->quiet = 1;
        t->steps_csv = NULL;
        cli_warnings_off();
    }
    return CLI_EXIT_OK;
}

/* The run's throughput and (over 2 or more ranks) its time in MPI_Allreduce, rank 0's. */
static void print_data_parallel(const struct trainopt *t, const struct mpi_train *mt)
{
    const int n = mt->comm.size;
    printf("data parallel: %d rank%s, batch %d (%d-%d per rank), %s batch norm; %.1f img/s in training steps "
           "(%ld images, %.2f s)",
           n, n == 1 ? "" : "s", t->cfg.batch, t->cfg.batch / n, (t->cfg.batch + n - 1) / n,
           t->cfg.sync_bn && n > 1 ? "synchronised" : "per-rank",
           t->train_seconds > 0 ? (double)t->train_samples / t->train_seconds : 0.0, t->train_samples,
           t->train_seconds);
    if (n > 1)
        printf(", %.1f%% of it in MPI_Allreduce (%.3f s; %ld steps, each summing %zu parameters, %.2f MB)",
               t->train_seconds > 0 ? 100.0 * mt->allreduce_s / t->train_seconds : 0.0, mt->allreduce_s,
               mt->grad_sums, mt->grad_values, 4e-6 * (double)mt->grad_values);
    putchar('\n');
}

int cmd_train(int argc, char **argv)
{
    struct trainopt t;
    struct focal_dataset *d = NULL;
    int *train = NULL, *val = NULL, *test = NULL, n_train = 0, n_val = 0, n_test = 0;
    long seeds; /* --seeds K: a seed ensemble (ensemble.h) */
    int sync_bn;
    struct mpi_train mt; /* under mpirun -np N: data-parallel training */
    mpi_train_take_options(&argc, argv, &sync_bn);
    int status = ensemble_take_seeds(&argc, argv, &seeds);
    if (status != CLI_EXIT_OK)
        return status;
    status = trainopt_parse(&t, argc, argv, "train");
    if (status != CLI_EXIT_OK)
        return status < 0 ? CLI_EXIT_OK : status;
    if ((status = data_parallel(&t, &mt, sync_bn, seeds)) != CLI_EXIT_OK)
        goto out;
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
    if (status == CLI_EXIT_OK && t.cfg.comm && !t.quiet)
        print_data_parallel(&t, &mt);
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
"Data-parallel training: 'mpirun -np N focal train ...' (a build with MPI)\n"
"splits every batch of B among N ranks (B >= 2N; shares differ by at most one\n"
"sample), sums their gradients with MPI_Allreduce and applies the same update on\n"
"every rank: the run equals one process's on batch B up to float rounding, and\n"
"the same N, seed and threads repeat it bit for bit. Rank 0 alone validates and\n"
"writes RUNDIR; --resume needs the same N, and RUNDIR readable by every rank\n"
"(each loads the last checkpoint). Batch norm uses each rank's own\n"
"samples (as PyTorch DDP) unless --sync-bn; dropout masks are drawn per rank, so\n"
"with dropout the run depends on N. A last batch of fewer than 2N samples is\n"
"dropped; --mixup, --stage2 and --seeds run on one process only. Rank 0 ends\n"
"with the images/s and the share of time in MPI_Allreduce.\n"
"\n"
"  --sync-bn            under mpirun: batch norm with the statistics of the whole\n"
"                       batch over all ranks (SyncBatchNorm; Ioffe & Szegedy\n"
"                       2015 over the global batch), so that N ranks train as one\n"
"                       process would; default off (per-rank statistics).\n"
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
