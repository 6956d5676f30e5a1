/* cmd_tune.c — `focal tune`: k-fold cross-validation inside the training
 * split over a γ × α grid of focal loss, laid out like the focal loss paper's
 * Table 1; the best setting retrained on the whole training split and
 * evaluated once on the test split. */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "focal.h"
#include "args.h"
#include "commands.h"
#include "experiment.h"
#include "mpi.h"
#include "mpi_dispatch.h"

#define MAX_GRID 16
#define MAX_FOLDS 20

enum { U_FOLDS = 4000, U_HELP };

static const struct cli_opt tune_opts[] = {
    { "--folds", 1, U_FOLDS }, { "--help", 0, U_HELP }, TRAINOPT_CLI_OPTS, LOSSOPT_CLI_OPTS, DATAOPT_CLI_OPTS,
};
#define N_TUNE_OPTS (sizeof tune_opts / sizeof tune_opts[0])

void cmd_tune_help(FILE *fp)
{
    fputs(
"Usage: focal tune --data PATH --out DIR [--loss focal] [--gamma LIST]\n"
"                  [--alpha LIST] [--folds K] [options]\n"
"\n"
"Cross-validates focal loss's gamma and alpha: the training split is cut into K\n"
"stratified folds; every (gamma, alpha) is trained K times, each time validated\n"
"on the held-out fold (each run in DIR/runs/g<gamma>-a<alpha>/fold<k>), and the\n"
"table shows the validation metric's mean ± std over folds, rows gamma and\n"
"columns alpha, like Table 1 of the focal loss paper. The best setting is then\n"
"trained on the whole training split (validated on the validation split) and\n"
"evaluated once on the test split (DIR/runs/best). Writes DIR/results.csv,\n"
"DIR/results.json, DIR/report.html and DIR/report.md; run again with the same\n"
"DIR to continue after an interruption (as with 'focal compare', a run is kept\n"
"only when its settings and data are this command's; otherwise it is run\n"
"again; --overwrite runs everything again).\n"
"\n"
"'mpirun -np N focal tune ...' (or 'srun -n N ...') shares the grid's runs over N\n"
"ranks as 'focal compare' does (see its --help): the same results as one\n"
"process, DIR on a filesystem every rank sees; rank 0 then trains the best\n"
"setting alone.\n"
"\n"
"  --loss NAME          focal (default), poly1 or asl ... any loss with gamma.\n"
"  --gamma LIST         gamma values (default 0,0.5,1,2,5).\n"
"  --alpha LIST         alpha values (default 0.25,0.5,0.75). Sigmoid tasks:\n"
"                       the loss's alpha. Multi-class tasks, where a scalar\n"
"                       alpha would only rescale the loss: class weights\n"
"                       (N / (C n_c))^alpha from the training counts n_c, so 0\n"
"                       is unweighted and 1 is inverse frequency.\n"
"  --folds K            folds, 2 to 20 (default 5).\n"
"\n"
"Every 'focal train' option applies to every run.\n"
"\n", fp);
    trainopt_help_all(fp,
"  focal tune --data retinamnist.npz --gamma 0,1,2 --alpha 0.25,0.5 --folds 3 \\\n"
"             --epochs 10 --out tune\n");
}

/* Parses a list option into v (at most MAX_GRID numbers; whether they are
 * valid is checked per grid cell, by the library). */
static int parse_grid(const char *opt, const char *text, double *v, int *n)
{
    double *list;
    size_t k;
    if (cli_parse_list(opt, text, &list, &k))
        return -1;
    if (k > MAX_GRID) {
        cli_error("%s: %zu values; at most %d", opt, k, MAX_GRID);
        free(list);
        return -1;
    }
    memcpy(v, list, k * sizeof *v);
    *n = (int)k;
    free(list);
    return 0;
}

/* One grid cell's settings as option values; the buffers outlive the run. */
struct cell_opts {
    char gamma[32], alpha[32];
    char *weights;               /* multi-class: the class weights, or NULL */
};

/* Fills o for (g, a): sigmoid tasks set alpha; multi-class tasks get class
 * weights (N / (C n_c))^a from counts. */
static int cell_options(struct cell_opts *o, double g, double a, const struct focal_dataset *d,
                        const double *counts, int n_train)
{
    snprintf(o->gamma, sizeof o->gamma, "%.17g", g);
    snprintf(o->alpha, sizeof o->alpha, "%.17g", a);
    o->weights = NULL;
    if (d->task != FOCAL_TASK_MULTICLASS)
        return 0;
    int c = d->num_classes;
    o->weights = malloc((size_t)c * 32);
    if (!o->weights) {
        cli_error("out of memory");
        return -1;
    }
    size_t at = 0;
    for (int j = 0; j < c; j++) {
        double w = counts[j] > 0 ? pow((double)n_train / (c * counts[j]), a) : 1.0;
        at += (size_t)snprintf(o->weights + at, 32, "%s%.9g", j ? "," : "", w);
    }
    return 0;
}

/* Applies a cell's settings to t. */
static int cell_apply(struct trainopt *t, const struct cell_opts *o, const struct focal_dataset *d)
{
    if (trainopt_take(t, LOSSOPT_GAMMA, o->gamma) < 0)
        return -1;
    if (d->task == FOCAL_TASK_MULTICLASS)
        return trainopt_take(t, TRAINOPT_CLASS_WEIGHTS, o->weights) < 0 ? -1 : 0;
    return trainopt_take(t, LOSSOPT_ALPHA, o->alpha) < 0 ? -1 : 0;
}

/* The grid's runs, for dispatch_run: job j is cell j / folds (gamma
 * j / folds / na, alpha j / folds % na), fold j % folds. */
struct tune_jobs {
    const struct trainopt *base;
    const struct focal_dataset *d;
    const int *train, *fold;
    int n_train;
    int *tr, *va;                          /* scratch: a fold's training and validation samples */
    double *counts;                        /* scratch: class counts */
    const double *gammas, *alphas;
    int na, folds;
    const int *rare;
    int n_rare, key;
    int done, total;                       /* runs reported so far, of all runs (the best included) */
    double (*vals)[MAX_GRID][MAX_FOLDS];   /* [gamma][alpha][fold]: the validation metric */
    int shared;                            /* the runs are shared over MPI ranks */
};

/* The run folder of a job. */
static void tune_dir(char *dir, size_t size, const struct tune_jobs *c, int job)
{
    int cell = job / c->folds;
    snprintf(dir, size, "%s/runs/g%g-a%g/fold%d", c->base->out, c->gammas[cell / c->na], c->alphas[cell % c->na],
             job % c->folds);
}

/* dispatch_jobs.run: trains one grid cell on one fold on this rank. */
static int tune_run(void *ctx, int job, int *skipped)
{
    struct tune_jobs *c = ctx;
    int cell = job / c->folds, f = job % c->folds, ntr = 0, nva = 0;
    for (int k = 0; k < c->n_train; k++) {
        if (c->fold[k] == f)
            c->va[nva++] = c->train[k];
        else
            c->tr[ntr++] = c->train[k];
    }
    focal_dataset_class_counts(c->d, c->tr, ntr, c->counts);
    struct cell_opts co;
    struct trainopt t = exp_run_options(c->base, c->base->cfg.seed);
    char dir[4096];
    int status = CLI_EXIT_USAGE;
    *skipped = 0;
    tune_dir(dir, sizeof dir, c, job);
    if (cell_options(&co, c->gammas[cell / c->na], c->alphas[cell % c->na], c->d, c->counts, ntr) == 0 &&
        cell_apply(&t, &co, c->d) == 0)
        status = exp_train(&t, c->d, c->tr, ntr, c->va, nva, NULL, 0, dir, skipped);
    trainopt_free(&t);
    free(co.weights);
    return status;
}

/* dispatch_jobs.done (rank 0): reads a finished run's validation metric and
 * prints its line. */
static int tune_done(void *ctx, const struct dispatch_outcome *o)
{
    struct tune_jobs *c = ctx;
    int cell = o->job / c->folds, gi = cell / c->na, ai = cell % c->na, f = o->job % c->folds;
    char dir[4096], where[32] = "";
    if (c->shared)
        snprintf(where, sizeof where, ", rank %d", o->rank);
    if (o->status != CLI_EXIT_OK) {
        cli_error("tune: gamma %g, alpha %g, fold %d failed%s; %s", c->gammas[gi], c->alphas[ai], f, where,
                  c->shared ? "the other runs go on" : "run the command again to continue");
        return o->status;
    }
    struct exp_result r;
    tune_dir(dir, sizeof dir, c, o->job);
    if (exp_read_result(dir, c->rare, c->n_rare, &r) != 0)
        return CLI_EXIT_DATA;
    c->vals[gi][ai][f] = r.values[EXP_VAL][c->key];
    if (!c->base->quiet) {
        printf("[%d/%d] gamma %-4g alpha %-5g fold %d  %s %.4f%s  (%.1f s%s)\n", ++c->done, c->total, c->gammas[gi],
               c->alphas[ai], f, exp_metric_label((enum exp_metric)c->key), c->vals[gi][ai][f],
               o->skipped ? "  finished before, skipped" : "", o->seconds, where);
        fflush(stdout);
    }
    return CLI_EXIT_OK;
}

int cmd_tune(int argc, char **argv)
{
    struct trainopt base;
    struct cli_parser p = { argc, argv, 1, "tune", tune_opts, N_TUNE_OPTS };
    const char *v;
    double gammas[MAX_GRID] = { 0, 0.5, 1, 2, 5 }, alphas[MAX_GRID] = { 0.25, 0.5, 0.75 };
    int ng = 5, na = 3, id, status = CLI_EXIT_USAGE;
    long folds = 5;
    struct focal_dataset *d = NULL;
    int *train = NULL, *val = NULL, *test = NULL, *fold = NULL, *tr = NULL, *va = NULL;
    int n_train = 0, n_val = 0, n_test = 0;
    double *counts = NULL;
    cJSON *results = NULL;
    struct focal_dir_lock lock = { -1, NULL };
    static double cell_mean[MAX_GRID][MAX_GRID], cell_std[MAX_GRID][MAX_GRID];

    trainopt_init(&base);
    while ((id = cli_next(&p, &v)) != CLI_END) {
        if (id == CLI_BAD)
            goto out;
        if (id == U_HELP) {
            cmd_tune_help(stdout);
            status = CLI_EXIT_OK;
            goto out;
        }
        if (id == U_FOLDS) {
            if (cli_parse_long("--folds", v, 2, MAX_FOLDS, &folds))
                goto out;
        } else if (id == LOSSOPT_GAMMA) {
            if (parse_grid("--gamma", v, gammas, &ng))
                goto out;
        } else if (id == LOSSOPT_ALPHA) {
            if (parse_grid("--alpha", v, alphas, &na))
                goto out;
        } else if (trainopt_take(&base, id, v) < 0) {
            goto out;
        }
    }
    if (!base.out || !base.data.path) {
        cli_error("tune: %s is required (see 'focal tune --help')", base.out ? "--data PATH" : "--out DIR");
        goto out;
    }
    if ((status = dataopt_load(&base.data, &d, base.quiet || cli_mpi_rank() != 0)) != CLI_EXIT_OK ||
        (status = dataopt_splits(&base.data, d, base.cfg.seed, &train, &n_train, &val, &n_val, &test, &n_test)) !=
            CLI_EXIT_OK)
        goto out;
    status = CLI_EXIT_DATA;
    fold = malloc((size_t)n_train * sizeof *fold);
    tr = malloc((size_t)n_train * sizeof *tr);
    va = malloc((size_t)n_train * sizeof *va);
    counts = calloc((size_t)d->num_classes, sizeof *counts);
    if (!fold || !tr || !va || !counts) {
        cli_error("out of memory");
        goto out;
    }
    if (focal_split_kfold(d, train, n_train, (int)folds, base.cfg.seed, fold) != FOCAL_OK) {
        cli_error("%s", focal_last_error());
        goto out;
    }
    /* every grid cell's loss, checked by the library before any run starts */
    focal_dataset_class_counts(d, train, n_train, counts);
    for (int gi = 0; gi < ng; gi++)
        for (int ai = 0; ai < na; ai++) {
            struct cell_opts co;
            struct trainopt t = exp_run_options(&base, base.cfg.seed);
            char ctx[96];
            snprintf(ctx, sizeof ctx, "tune: gamma %g, alpha %g", gammas[gi], alphas[ai]);
            int rc = cell_options(&co, gammas[gi], alphas[ai], d, counts, n_train) != 0 || cell_apply(&t, &co, d) != 0
                         ? CLI_EXIT_USAGE : trainopt_check(&t, d, train, n_train, ctx);
            trainopt_free(&t);
            free(co.weights);
            if (rc != CLI_EXIT_OK) {
                status = rc;
                goto out;
            }
        }
    /* rank 0 holds the experiment; the other ranks train only the runs it gives them */
    if (cli_mpi_rank() == 0 && (status = exp_begin(base.out, &lock)) != CLI_EXIT_OK)
        goto out;
    status = CLI_EXIT_DATA;
    int rare[3], n_rare = exp_rarest(d, train, n_train, rare);
    enum focal_select sel = focal_select_resolve(base.cfg.select, d->task);
    int key = exp_metric_of_select(sel);
    if (key < 0) {
        cli_error("tune: --select %s is not one of the table's metrics; use map, auc, macro-f1, "
                  "balanced-accuracy or accuracy",
                  focal_select_name(sel));
        status = CLI_EXIT_USAGE;
        goto out;
    }
    const char *mlabel = exp_metric_label((enum exp_metric)key);
    if (!base.quiet && cli_mpi_rank() == 0)
        printf("tune: %d gamma x %d alpha x %ld folds of the %d training samples; validation %s\n", ng, na, folds,
               n_train, mlabel);

    /* the grid: gamma x alpha x folds, over the ranks of an MPI job (mpi_dispatch.h) */
    static double vals[MAX_GRID][MAX_GRID][MAX_FOLDS];
    struct tune_jobs tj = { .base = &base, .d = d, .train = train, .n_train = n_train, .fold = fold, .tr = tr,
                            .va = va, .counts = counts, .gammas = gammas, .alphas = alphas, .na = na,
                            .folds = (int)folds, .rare = rare, .n_rare = n_rare, .key = key,
                            .total = ng * na * (int)folds + 1, .vals = vals, .shared = cli_mpi_size() > 1 };
    struct dispatch_jobs jobs = { ng * na * (int)folds, &tj, tune_run, tune_done };
    int failed = 0, bg = -1, ba = -1;
    status = dispatch_run(&jobs, &failed);
    if (cli_mpi_rank() != 0)
        goto out;   /* rank 0 reports the runs, trains the best setting and writes the results */
    if (status != CLI_EXIT_OK) {
        if (tj.shared)
            cli_error("tune: %d of %d runs failed (named above), the others finished; run the command again to "
                      "redo only what is missing", failed, jobs.n);
        goto out;
    }
    status = CLI_EXIT_DATA;
    for (int gi = 0; gi < ng; gi++)
        for (int ai = 0; ai < na; ai++) {
            focal_mean_std(&cell_mean[gi][ai], &cell_std[gi][ai], vals[gi][ai], (size_t)folds, 1);
            if (isfinite(cell_mean[gi][ai]) && (bg < 0 || cell_mean[gi][ai] > cell_mean[bg][ba])) {
                bg = gi;
                ba = ai;
            }
        }
    if (bg < 0) {
        cli_error("tune: no setting has a defined validation %s", mlabel);
        goto out;
    }

    /* the best setting on the whole training split, tested once */
    struct exp_result best;
    {
        struct cell_opts co;
        struct trainopt t = exp_run_options(&base, base.cfg.seed);
        char dir[4096];
        int skipped;
        focal_dataset_class_counts(d, train, n_train, counts);
        snprintf(dir, sizeof dir, "%s/runs/best", base.out);
        if (cell_options(&co, gammas[bg], alphas[ba], d, counts, n_train) != 0 || cell_apply(&t, &co, d) != 0) {
            free(co.weights);
            goto out;
        }
        status = exp_train(&t, d, train, n_train, val, n_val, test, n_test, dir, &skipped);
        trainopt_free(&t);
        free(co.weights);
        if (status != CLI_EXIT_OK)
            goto out;
        status = CLI_EXIT_DATA;
        if (exp_read_result(dir, rare, n_rare, &best) != 0)
            goto out;
    }

    if (!base.quiet) {
        printf("\nvalidation %s, mean ± std over %ld folds (rows gamma, columns alpha%s)\n", mlabel, folds,
               d->task == FOCAL_TASK_MULTICLASS ? ": class-weight exponent" : "");
        printf("%8s", "gamma");
        for (int ai = 0; ai < na; ai++)
            printf("   alpha %-9g", alphas[ai]);
        putchar('\n');
        for (int gi = 0; gi < ng; gi++) {
            printf("%8g", gammas[gi]);
            for (int ai = 0; ai < na; ai++)
                printf("  %6.4f ± %6.4f%s", cell_mean[gi][ai], cell_std[gi][ai], gi == bg && ai == ba ? "*" : " ");
            putchar('\n');
        }
        printf("\nbest: gamma %g, alpha %g. Retrained on the whole training split:\n", gammas[bg], alphas[ba]);
        for (int k = 0; k < EXP_SECONDS; k++) {
            printf("  %-14s validation %8.4f", exp_metric_label((enum exp_metric)k), best.values[EXP_VAL][k]);
            if (best.have_test)
                printf("   test %8.4f", best.values[EXP_TEST][k]);
            putchar('\n');
        }
        printf("  training took %.1f s\n", best.values[EXP_VAL][EXP_SECONDS]);
    }

    /* files */
    results = exp_results_head("tune", base.data.path, d, train, n_train, sel, 1, rare, n_rare);
    cJSON *grid = cJSON_AddObjectToObject(results, "grid");
    cJSON_AddItemToObject(grid, "gammas", cJSON_CreateDoubleArray(gammas, ng));
    cJSON_AddItemToObject(grid, "alphas", cJSON_CreateDoubleArray(alphas, na));
    cJSON_AddNumberToObject(grid, "folds", (double)folds);
    cJSON_AddStringToObject(grid, "metric", exp_metric_key((enum exp_metric)key));
    cJSON *cells = cJSON_AddArrayToObject(grid, "cells");
    for (int gi = 0; gi < ng; gi++)
        for (int ai = 0; ai < na; ai++) {
            cJSON *c = cJSON_CreateObject();
            cJSON_AddNumberToObject(c, "gamma", gammas[gi]);
            cJSON_AddNumberToObject(c, "alpha", alphas[ai]);
            cJSON *ms = exp_stat_json(cell_mean[gi][ai], cell_std[gi][ai]);
            cJSON_AddItemToObject(c, "mean", cJSON_DetachItemFromObject(ms, "mean"));
            cJSON_AddItemToObject(c, "std", cJSON_DetachItemFromObject(ms, "std"));
            cJSON_Delete(ms);
            cJSON_AddItemToArray(cells, c);
        }
    cJSON *bo = cJSON_AddObjectToObject(grid, "best");
    cJSON_AddNumberToObject(bo, "gamma", gammas[bg]);
    cJSON_AddNumberToObject(bo, "alpha", alphas[ba]);
    cJSON *methods = cJSON_AddArrayToObject(results, "methods");
    cJSON *mo = cJSON_CreateObject();
    char name[96], spec[128];
    snprintf(name, sizeof name, "gamma %g alpha %g", gammas[bg], alphas[ba]);
    snprintf(spec, sizeof spec, "loss:%s,gamma:%g,alpha:%g", base.loss_name, gammas[bg], alphas[ba]);
    cJSON_AddStringToObject(mo, "name", name);
    cJSON_AddStringToObject(mo, "spec", spec);
    cJSON *runs = cJSON_AddArrayToObject(mo, "runs");
    cJSON_AddItemToArray(runs, cJSON_CreateString("runs/best"));
    for (int sp = 0; sp < (best.have_test ? 2 : 1); sp++) {
        cJSON *so = cJSON_AddObjectToObject(mo, sp == EXP_VAL ? "val" : "test");
        cJSON *to = sp == EXP_TEST ? cJSON_AddObjectToObject(grid, "test") : NULL;
        for (int k = 0; k < EXP_N; k++) {
            double x = best.values[sp][k];
            cJSON_AddItemToObject(so, exp_metric_key((enum exp_metric)k), exp_stat_json(x, NAN));
            if (to)
                cJSON_AddItemToObject(to, exp_metric_key((enum exp_metric)k),
                                      isfinite(x) ? cJSON_CreateNumber(x) : cJSON_CreateNull());
        }
    }
    cJSON_AddItemToArray(methods, mo);
    char sentence[256];
    snprintf(sentence, sizeof sentence, "gamma %g, alpha %g has the best cross-validated %s (%.4f ± %.4f over %ld "
             "folds).", gammas[bg], alphas[ba], mlabel, cell_mean[bg][ba], cell_std[bg][ba], folds);
    cJSON *b2 = cJSON_AddObjectToObject(results, "best");
    cJSON_AddStringToObject(b2, "method", name);
    cJSON_AddStringToObject(b2, "sentence", sentence);
    cJSON_AddNumberToObject(results, "gamma", gammas[bg]);
    /* results.csv: the grid */
    {
        char path[4096];
        struct focal_wfile wf;
        snprintf(path, sizeof path, "%s/results.csv", base.out);
        if (focal_wfile_open(&wf, path) != FOCAL_OK) {
            cli_error("%s", focal_last_error());
            goto out;
        }
        fprintf(wf.fp, "gamma,alpha,metric,mean,std,folds\n");
        for (int gi = 0; gi < ng; gi++)
            for (int ai = 0; ai < na; ai++)
                fprintf(wf.fp, "%g,%g,%s,%.6g,%.6g,%ld\n", gammas[gi], alphas[ai],
                        exp_metric_key((enum exp_metric)key), cell_mean[gi][ai], cell_std[gi][ai], folds);
        if (focal_wfile_commit(&wf) != FOCAL_OK) {
            cli_error("%s", focal_last_error());
            goto out;
        }
    }
    if (exp_finish(base.out, results, base.quiet) != 0)
        goto out;
    status = CLI_EXIT_OK;
out:
    focal_dir_unlock(&lock);
    cJSON_Delete(results);
    free(train);
    free(val);
    free(test);
    free(fold);
    free(tr);
    free(va);
    free(counts);
    focal_dataset_free(d);
    trainopt_free(&base);
    return status;
}
