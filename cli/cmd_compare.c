/* cmd_compare.c — `focal compare`: the same data, network and budget trained
 * with several losses / weightings / samplers over several seeds; a table of
 * mean ± std, the best method on validation and whether its lead exceeds the
 * seed-to-seed spread; results.csv, results.json and the report. */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "focal.h"
#include "args.h"
#include "commands.h"
#include "ensemble.h"
#include "experiment.h"
#include "mpi.h"
#include "mpi_dispatch.h"

#define MAX_METHODS 32
#define MAX_SEEDS 100

enum { C_METHODS = 4000, C_METHOD, C_SEEDS, C_HELP };

static const struct cli_opt compare_opts[] = {
    { "--methods", 1, C_METHODS }, { "--method", 1, C_METHOD }, { "--seeds", 1, C_SEEDS }, { "--help", 0, C_HELP },
    TRAINOPT_CLI_OPTS, LOSSOPT_CLI_OPTS, DATAOPT_CLI_OPTS,
};
#define N_COMPARE_OPTS (sizeof compare_opts / sizeof compare_opts[0])

/* A built-in method: its spec for multi-label, binary and multi-class data;
 * NULL where it does not apply. */
static const struct builtin {
    const char *name, *multilabel, *binary, *multiclass, *what;
} builtins[] = {
    { "ce", "loss:ce", "loss:ce", "loss:ce", "cross-entropy (BCE for sigmoid tasks)" },
    { "weighted-ce", "loss:ce,weights:balanced", "loss:ce,weights:balanced", "loss:ce,weights:balanced",
      "cross-entropy with inverse-frequency class weights" },
    { "cb", "loss:ce,weights:effective:0.999", "loss:ce,weights:effective:0.999", "loss:ce,weights:effective:0.999",
      "class-balanced cross-entropy (effective number, beta 0.999)" },
    { "focal", "loss:focal", "loss:focal", "loss:focal", "focal loss, gamma 2" },
    { "focal-alpha", "loss:focal,alpha:0.25", "loss:focal,alpha:0.25", "loss:focal,weights:balanced",
      "focal loss, gamma 2, alpha 0.25 (multi-class: balanced class weights)" },
    { "cb-focal", "loss:focal,weights:effective:0.999", "loss:focal,weights:effective:0.999",
      "loss:focal,weights:effective:0.999", "focal loss with class-balanced weights" },
    { "asl", "loss:asl", "loss:asl", NULL, "asymmetric loss (gamma- 4, gamma+ 0, margin 0.05); sigmoid tasks" },
    { "poly1", "loss:poly1", "loss:poly1", "loss:poly1", "poly-1 focal (epsilon 1)" },
    { "oversample", "loss:ce,sampler:repeat-factor", "loss:ce,sampler:oversample", "loss:ce,sampler:oversample",
      "cross-entropy with random oversampling (multi-label: repeat-factor sampling)" },
    { "undersample", NULL, "loss:ce,sampler:undersample", "loss:ce,sampler:undersample",
      "cross-entropy with random undersampling; single-label data" },
    { "balanced-sampler", "loss:ce,sampler:class-balanced", "loss:ce,sampler:class-balanced",
      "loss:ce,sampler:class-balanced", "cross-entropy with class-balanced sampling" },
    { "la", NULL, NULL, "loss:la", "logit-adjusted cross-entropy, tau 1 (Menon et al. 2021); multi-class" },
    { "balanced-softmax", NULL, NULL, "loss:balanced-softmax",
      "Balanced Softmax (Ren et al. 2020; la with tau 1 by name); multi-class" },
    { "la-posthoc", NULL, NULL, "loss:ce,posthoc-la:auto",
      "ce, then post-hoc logit adjustment (Menon et al. 2021), tau 0..2 by validation bal. acc.; multi-class" },
    { "db", "loss:db", "loss:db", NULL,
      "distribution-balanced loss (Wu et al. 2020; alpha .1, beta 10, mu .2, lambda 2, kappa .05); sigmoid tasks" },
    { "ldam-drw", NULL, NULL, "loss:ldam,reweight-from:80%",
      "LDAM (margin 0.5, scale 30) on a normalised last layer, with DRW (effective number, beta 0.9999) after "
      "80% of the epochs (Cao et al. 2019); multi-class (a --model file's last dense layer becomes dense-norm "
      "for it)" },
    { "crt", "loss:ce,stage2:crt", "loss:ce,stage2:crt", "loss:ce,stage2:crt",
      "classifier re-training (cRT, Kang et al. 2020): ce's features frozen, its classifier re-initialised and "
      "trained alone with class-balanced sampling for --epochs" },
    { "tau-norm", NULL, NULL, "loss:ce,stage2:tau-norm",
      "tau-normalised classifier (Kang et al. 2020): ce's classifier rows w/|w|^tau, tau from 0, 0.1, ..., 2 "
      "chosen on validation; no training; multi-class (on sigmoid outputs it changes no ranking)" },
    { "wb", "loss:ce,weight-decay:0.005,stage2:wb", "loss:ce,weight-decay:0.005,stage2:wb",
      "loss:ce,weight-decay:0.005,stage2:wb",
      "weight balancing (Alshammari et al. 2022): ce with weight decay 5e-3, then the classifier trained alone "
      "with class-balanced weights (effective:0.9999), weight decay 5e-3 and per-class MaxNorm 0.1" },
};
#define N_BUILTINS (sizeof builtins / sizeof builtins[0])

#define DEFAULT_METHODS "ce,weighted-ce,cb,focal,focal-alpha,asl,oversample"

void cmd_compare_help(FILE *fp)
{
    fputs(
"Usage: focal compare --data PATH --out DIR [--methods LIST] [--seeds N] [options]\n"
"\n"
"Answers \"which loss should I use on my data?\": trains every method on the same\n"
"splits with the same network and training budget, once per seed (each run is a\n"
"full 'focal train' run in DIR/runs/<method>/seed<k>), and prints mean ± std over\n"
"seeds of macro ROC-AUC, mAP, macro F1, balanced accuracy, accuracy, the AP of\n"
"the three rarest classes and the training time, for validation and test. The best method\n"
"is chosen on the validation selection metric (--select); the output says\n"
"whether its lead over the second exceeds the seed-to-seed spread (the larger of\n"
"the two methods' standard deviations). Test numbers are reported for every\n"
"method and never used to choose. Writes DIR/results.csv, DIR/results.json,\n"
"DIR/report.html and DIR/report.md. With two seeds or more, each method's\n"
"seed ensemble (DIR/runs/<method>/ensemble, see 'focal ensemble': the mean of\n"
"its seeds' probabilities) is added as a row \"<method> (ensemble of K)\";\n"
"these rows are shown for reference and never chosen.\n"
"\n"
"Run again with the same DIR after an interruption: a finished run is skipped\n"
"and an interrupted one resumed, but only when its settings (every training\n"
"option, the epochs and a fingerprint of the data and its split, kept in the\n"
"run's run.json) are those of this command; a run made with other settings is\n"
"run again, and the output says what changed. --overwrite runs everything\n"
"again. DIR and each run folder are locked while in use; the results and the\n"
"report always come from the runs of this command.\n"
"\n"
"Every table compares with cross-entropy measured here: ce always runs under\n"
"the same recipe (it is added, with a note, when --methods lacks it), and a\n"
"column \"Δ vs ce\" gives each method's selection metric minus ce's, seed by\n"
"seed (same seed, same split), as mean ± std (results.csv: <metric>_vs_ce;\n"
"results.json: \"baseline\" and each method's \"vs_ce\"; the report).\n"
"\n"
"On a cluster, 'mpirun -np N focal compare ...' (or 'srun -n N focal compare\n"
"...' under Slurm) shares the runs out over N processes (ranks): rank 0 hands\n"
"each run to whichever rank is free and trains runs itself in between; each\n"
"run is trained by one rank with --threads threads, and gives the same result\n"
"as in one process. Each run's line names its rank; rank 0 makes the seed\n"
"ensembles, the table and the files once every run is in. DIR must be on a\n"
"filesystem that every rank sees. A run that fails is named with its rank and\n"
"the others go on; the command then exits non-zero without results, and run\n"
"again it redoes only what is missing (as it does after a rank dies, which\n"
"ends the whole job).\n"
"\n"
"Methods (--methods, comma-separated; default " DEFAULT_METHODS ";\n"
"a method that does not fit the task is left out with a note)\n", fp);
    for (size_t i = 0; i < N_BUILTINS; i++) {
        /* the description wrapped at 80 columns, continued under itself */
        const char *w = builtins[i].what;
        fprintf(fp, "  %-17s", builtins[i].name);
        for (int col = 19; *w;) {
            size_t len = strcspn(w, " ");
            if (col > 19 && col + 1 + (int)len > 80) {
                fprintf(fp, "\n%19s", "");
                col = 19;
            }
            fprintf(fp, " %.*s", (int)len, w);
            col += 1 + (int)len;
            w += len + (w[len] == ' ');
        }
        fputc('\n', fp);
    }
    fputs(
"  --method NAME=SPEC   define a method: SPEC is KEY:VALUE,... with keys loss,\n"
"                       gamma, alpha, beta, gamma-pos, gamma-neg, margin,\n"
"                       epsilon, label-smoothing, weights (balanced,\n"
"                       effective:B or W1,...), sampler, prior, reweight-from\n"
"                       (E or P%), reweight-beta, mixup, weight-decay, stage2\n"
"                       (crt, tau-norm, wb), max-norm, posthoc-la (auto or a\n"
"                       tau); e.g.\n"
"                       --method fl1=loss:focal,gamma:1 --methods ce,fl1\n"
"\n"
"Two-stage methods (a spec with stage2, see 'focal train --stage2') train\n"
"their stage 1 (the spec without stage2 and max-norm) and then the second\n"
"stage from it into their own run folder; when a one-stage method of the\n"
"comparison has exactly that recipe (crt and tau-norm: ce), its run is the\n"
"stage 1 (trained once; the output says so), else it trains in\n"
"DIR/runs/<method>/stage1/seed<k>. A second stage trains for --epochs\n"
"(tau-norm: one epoch, the tau search); its train s counts stage 1 and 2.\n"
"--stage2 S --from RUN1 given to compare itself makes every (one-stage) method\n"
"a second stage of the one finished run RUN1: the losses compared on its\n"
"features.\n"
"  --seeds N            seeds per method (default 3); seed k uses --seed + k.\n"
"\n"
"Every 'focal train' option applies to all methods (a method's spec overrides\n"
"the loss options it names).\n"
"\n", fp);
    trainopt_help_all(fp,
"  focal synth --out synth\n"
"  focal compare --data synth --methods ce,focal,asl,cb,oversample --seeds 3 \\\n"
"                --epochs 8 --out cmp\n");
}

/* One method of the comparison. */
struct method {
    char name[64];
    char *spec;                        /* owned copy (the parse writes into it) */
    char *spec_text;                   /* as written, for the output */
    struct exp_result res[MAX_SEEDS];
    double mean[EXP_NSPLITS][EXP_N], std[EXP_NSPLITS][EXP_N];
    double gamma;                      /* of a focal-type loss, else NaN */
    /* the seed ensemble (two seeds or more): one model averaging the seeds'
     * probabilities; shown beside the methods, never chosen as the best */
    int have_ens;
    struct exp_result ens;
    char ens_name[96];                 /* "<name> (ensemble of K)" */
    /* the selection metric minus the baseline's (ce), per split: mean and
     * std of the seed-by-seed differences, and the seed ensembles' */
    double gain[EXP_NSPLITS][2], ens_gain[EXP_NSPLITS];
};

/* The method every table compares with. */
#define BASELINE "ce"

/* The spec of `name`: a user definition, else a built-in for the task. */
static const char *method_spec(const char *name, char **defs, int n_defs, enum focal_task task, int *na)
{
    size_t len = strlen(name);
    *na = 0;
    for (int k = n_defs - 1; k >= 0; k--)
        if (strncmp(defs[k], name, len) == 0 && defs[k][len] == '=')
            return defs[k] + len + 1;
    for (size_t i = 0; i < N_BUILTINS; i++)
        if (strcmp(builtins[i].name, name) == 0) {
            const char *s = task == FOCAL_TASK_MULTICLASS ? builtins[i].multiclass
                            : task == FOCAL_TASK_BINARY   ? builtins[i].binary
                                                          : builtins[i].multilabel;
            *na = s == NULL;
            return s;
        }
    return NULL;
}

/* Prints one cell: mean ± std, the mean alone, or n/a. */
static void print_cell(double mu, double sd, int k, int seeds)
{
    int prec = k == EXP_SECONDS ? 1 : 3;
    if (!isfinite(mu))
        printf(" %17s", "n/a");
    else if (seeds > 1 && isfinite(sd))
        printf(" %9.*f ± %5.*f", prec, mu, prec, sd);
    else
        printf(" %17.*f", prec, mu);
}

/* Prints a gain over the baseline: mean ± std, the mean alone, or n/a. */
static void print_gain(double mu, double sd, int seeds)
{
    if (!isfinite(mu))
        printf(" %17s", "n/a");
    else if (seeds > 1 && isfinite(sd))
        printf(" %+9.3f ± %5.3f", mu, sd);
    else
        printf(" %+17.3f", mu);
}

/* Prints one table (split s) of every method: mean ± std, and the gain of
 * the selection metric over the baseline; then the seed ensembles' rows
 * (one model each: no spread). */
static void print_table(struct method *m, int n, int s, int seeds, int best)
{
    int w = 16;
    for (int i = 0; i < n; i++)
        if (m[i].have_ens && (int)strlen(m[i].ens_name) > w)
            w = (int)strlen(m[i].ens_name);
    printf("%-*s", w + 2, s == EXP_VAL ? "validation" : "test");
    for (int k = 0; k < EXP_N; k++)
        printf(" %17s", exp_metric_label((enum exp_metric)k));
    printf(" %*s\n", 17 + 1, "Δ vs " BASELINE);   /* Δ is two bytes, one column */
    for (int i = 0; i < n; i++) {
        printf("%-*.16s%s", w, m[i].name, i == best ? " *" : "  ");
        for (int k = 0; k < EXP_N; k++)
            print_cell(m[i].mean[s][k], m[i].std[s][k], k, seeds);
        print_gain(m[i].gain[s][0], m[i].gain[s][1], seeds);
        putchar('\n');
    }
    for (int i = 0; i < n; i++) {
        if (!m[i].have_ens)
            continue;
        printf("%-*s  ", w, m[i].ens_name);
        for (int k = 0; k < EXP_N; k++)
            print_cell(m[i].ens.values[s][k], NAN, k, seeds);
        print_gain(m[i].ens_gain[s], NAN, seeds);
        putchar('\n');
    }
}

/* results.json's "vs_ce" of a method or an ensemble: the metric (key) and,
 * per split, the gain's mean and std (NULL: no spread). */
static cJSON *gain_json(int key, const double *mean, const double *std, int have_test)
{
    cJSON *g = cJSON_CreateObject();
    cJSON_AddStringToObject(g, "metric", exp_metric_key((enum exp_metric)key));
    for (int sp = 0; sp < (have_test ? 2 : 1); sp++)
        cJSON_AddItemToObject(g, sp == EXP_VAL ? "val" : "test", exp_stat_json(mean[sp], std ? std[sp] : NAN));
    return g;
}

/* results.csv: method, split, metric, mean, std, seeds; the gain over the
 * baseline as metric <key>_vs_ce. */
static int write_csv(const char *dir, struct method *m, int n, int seeds, int key)
{
    char path[4096];
    struct focal_wfile wf;
    snprintf(path, sizeof path, "%s/results.csv", dir);
    if (focal_wfile_open(&wf, path) != FOCAL_OK) {
        cli_error("%s", focal_last_error());
        return -1;
    }
    fputs("method,split,metric,mean,std,seeds\n", wf.fp);
    for (int i = 0; i < n; i++)
        for (int s = 0; s < EXP_NSPLITS; s++)
            for (int k = 0; k < EXP_N; k++) {
                if (!isfinite(m[i].mean[s][k]))
                    continue;
                fprintf(wf.fp, "%s,%s,%s,%.6g,", m[i].name, s == EXP_VAL ? "val" : "test",
                        exp_metric_key((enum exp_metric)k), m[i].mean[s][k]);
                if (isfinite(m[i].std[s][k]))
                    fprintf(wf.fp, "%.6g", m[i].std[s][k]);
                fprintf(wf.fp, ",%d\n", seeds);
            }
    for (int i = 0; i < n; i++)
        for (int s = 0; s < EXP_NSPLITS; s++) {
            if (!isfinite(m[i].gain[s][0]))
                continue;
            fprintf(wf.fp, "%s,%s,%s_vs_%s,%.6g,", m[i].name, s == EXP_VAL ? "val" : "test",
                    exp_metric_key((enum exp_metric)key), BASELINE, m[i].gain[s][0]);
            if (isfinite(m[i].gain[s][1]))
                fprintf(wf.fp, "%.6g", m[i].gain[s][1]);
            fprintf(wf.fp, ",%d\n", seeds);
        }
    /* the seed ensembles: one model each, no spread */
    for (int i = 0; i < n; i++)
        for (int s = 0; m[i].have_ens && s < EXP_NSPLITS; s++)
            for (int k = 0; k < EXP_N; k++)
                if (isfinite(m[i].ens.values[s][k]))
                    fprintf(wf.fp, "%s,%s,%s,%.6g,,%d\n", m[i].ens_name, s == EXP_VAL ? "val" : "test",
                            exp_metric_key((enum exp_metric)k), m[i].ens.values[s][k], seeds);
    for (int i = 0; i < n; i++)
        for (int s = 0; m[i].have_ens && s < EXP_NSPLITS; s++)
            if (isfinite(m[i].ens_gain[s]))
                fprintf(wf.fp, "%s,%s,%s_vs_%s,%.6g,,%d\n", m[i].ens_name, s == EXP_VAL ? "val" : "test",
                        exp_metric_key((enum exp_metric)key), BASELINE, m[i].ens_gain[s], seeds);
    if (focal_wfile_commit(&wf) != FOCAL_OK) {
        cli_error("%s", focal_last_error());
        return -1;
    }
    return 0;
}

/* The runs of a comparison, for dispatch_run: job j is method k / seeds,
 * seed k % seeds, k = order[j] (under MPI the two-stage methods come last,
 * so that their stage 1, often another method's run, is mostly done by
 * then), or k = j. */
struct compare_jobs {
    const struct trainopt *base;
    struct method *m;
    int n_methods, seeds;
    const struct focal_dataset *d;
    const int *train, *val, *test;
    int n_train, n_val, n_test;
    const int *rare;
    int n_rare, key;
    int done;                           /* runs reported so far */
    int shared;                         /* the runs are shared over MPI ranks */
    const char *const *names, *const *specs; /* per method, for exp_stage1_dir */
    const int *order;                   /* n_methods × seeds, or NULL */
};

/* The method and seed of job j. */
static void job_of(const struct compare_jobs *c, int j, int *i, int *s)
{
    const int k = c->order ? c->order[j] : j;
    *i = k / c->seeds;
    *s = k % c->seeds;
}

/* The run folder of method i, seed s. */
static void run_dir(char *dir, size_t size, const struct compare_jobs *c, int i, int s)
{
    snprintf(dir, size, "%s/runs/%s/seed%d", c->base->out, c->m[i].name, s);
}

/* dispatch_jobs.run: trains one method and seed on this rank. */
static int compare_run(void *ctx, int job, int *skipped)
{
    struct compare_jobs *c = ctx;
    int i, s, status = CLI_EXIT_USAGE;
    job_of(c, job, &i, &s);
    struct trainopt t = exp_run_options(c->base, c->base->cfg.seed + (uint64_t)s);
    char dir[4096];
    char *spec = strdup(c->m[i].spec);
    *skipped = 0;
    if (spec && exp_apply_spec(&t, spec) == 0) {
        run_dir(dir, sizeof dir, c, i, s);
        /* a two-stage method's stage 1 may be another method's run (exp_stage1_dir) */
        char stage1[4096];
        if (exp_stage1_dir(stage1, sizeof stage1, c->base->out, i, s, c->names, c->specs, c->n_methods,
                           c->base->quiet || cli_mpi_rank() != 0))
            t.stage1_dir = stage1;
        status = exp_train(&t, c->d, c->train, c->n_train, c->val, c->n_val, c->test, c->n_test, dir, skipped);
    } else if (!spec) {
        cli_error("out of memory");
        status = CLI_EXIT_DATA;
    }
    trainopt_free(&t);
    free(spec);
    return status;
}

/* Makes method i's seed ensemble (ensemble.h) from its seeds' scores. */
static int compare_ensemble(struct compare_jobs *c, int i)
{
    struct method *m = &c->m[i];
    char mdir[4096];
    snprintf(mdir, sizeof mdir, "%s/runs/%s", c->base->out, m->name);
    snprintf(m->ens_name, sizeof m->ens_name, "%s (ensemble of %d)", m->name, c->seeds);
    if (ensemble_of_seeds(mdir, c->seeds, m->res, c->rare, c->n_rare, &m->ens) != 0)
        return CLI_EXIT_DATA;
    m->have_ens = 1;
    if (!c->base->quiet) {
        printf("[ensemble] %-16s %d seeds  val %s %.4f\n", m->name, c->seeds,
               exp_metric_label((enum exp_metric)c->key), m->ens.values[EXP_VAL][c->key]);
        fflush(stdout);
    }
    return CLI_EXIT_OK;
}

/* dispatch_jobs.done (rank 0): reads a finished run's numbers and prints its
 * line; one process makes a method's seed ensemble after its last seed. */
static int compare_done(void *ctx, const struct dispatch_outcome *o)
{
    struct compare_jobs *c = ctx;
    int i, s;
    job_of(c, o->job, &i, &s);
    struct method *m = &c->m[i];
    char dir[4096], where[32] = "";
    if (c->shared)
        snprintf(where, sizeof where, ", rank %d", o->rank);
    if (o->status != CLI_EXIT_OK) {
        cli_error("compare: method %s, seed %d failed%s; %s", m->name, s, where,
                  c->shared ? "the other runs go on" : "run the command again to continue");
        return o->status;
    }
    run_dir(dir, sizeof dir, c, i, s);
    if (exp_read_result(dir, c->rare, c->n_rare, &m->res[s]) != 0)
        return CLI_EXIT_DATA;
    c->done++;
    if (!c->base->quiet) {
        printf("[%d/%d] %-16s seed %d  val %s %.4f%s  (%.1f s%s)\n", c->done, c->n_methods * c->seeds, m->name, s,
               exp_metric_label((enum exp_metric)c->key), m->res[s].values[EXP_VAL][c->key],
               o->skipped ? "  finished before, skipped" : "", o->seconds, where);
        fflush(stdout);
    }
    if (!c->shared && s == c->seeds - 1 && c->seeds >= 2)
        return compare_ensemble(c, i);
    return CLI_EXIT_OK;
}

int cmd_compare(int argc, char **argv)
{
    struct trainopt base;
    struct cli_parser p = { argc, argv, 1, "compare", compare_opts, N_COMPARE_OPTS };
    const char *v, *methods = DEFAULT_METHODS;
    char *defs[MAX_METHODS];
    int n_defs = 0, id, status = CLI_EXIT_USAGE, n_methods = 0, user_methods = 0;
    long seeds = 3;
    struct method *m = calloc(MAX_METHODS, sizeof *m);
    struct focal_dataset *d = NULL;
    int *train = NULL, *val = NULL, *test = NULL, n_train = 0, n_val = 0, n_test = 0;
    cJSON *results = NULL;
    struct focal_dir_lock lock = { -1, NULL };
    char *list = NULL;

    trainopt_init(&base);
    if (!m) {
        cli_error("out of memory");
        return CLI_EXIT_DATA;
    }
    while ((id = cli_next(&p, &v)) != CLI_END) {
        if (id == CLI_BAD)
            goto out;
        if (id == C_HELP) {
            cmd_compare_help(stdout);
            status = CLI_EXIT_OK;
            goto out;
        }
        if (id == C_METHODS) {
            methods = v;
            user_methods = 1;
        } else if (id == C_METHOD) {
            const char *eq = strchr(v, '=');
            if (!eq || eq == v || !eq[1] || n_defs == MAX_METHODS) {
                cli_error("--method: '%s'; expected NAME=KEY:VALUE,... (e.g. fl1=loss:focal,gamma:1)", v);
                goto out;
            }
            defs[n_defs++] = (char *)v;
        } else if (id == C_SEEDS) {
            if (cli_parse_long("--seeds", v, 1, MAX_SEEDS, &seeds))
                goto out;
        } else if (trainopt_take(&base, id, v) < 0) {
            goto out;
        }
    }
    if (!base.out || !base.data.path) {
        cli_error("compare: %s is required (see 'focal compare --help')", base.out ? "--data PATH" : "--out DIR");
        goto out;
    }
    if (base.resume) {
        cli_error("compare: --resume is not needed: run the same command again and finished runs are skipped");
        goto out;
    }
    if ((status = dataopt_load(&base.data, &d, base.quiet || cli_mpi_rank() != 0)) != CLI_EXIT_OK ||
        (status = dataopt_splits(&base.data, d, base.cfg.seed, &train, &n_train, &val, &n_val, &test, &n_test)) !=
            CLI_EXIT_OK)
        goto out;

    /* the methods, with the baseline every table compares with */
    status = CLI_EXIT_USAGE;
    int have_base = 0;
    if ((list = strdup(methods))) {
        char *sv = NULL;
        for (char *name = strtok_r(list, ",", &sv); name; name = strtok_r(NULL, ",", &sv))
            have_base |= strcmp(name, BASELINE) == 0;
        free(list);
        if ((list = malloc(strlen(methods) + sizeof BASELINE + 1)))
            sprintf(list, "%s%s", have_base ? "" : BASELINE ",", methods);
    }
    if (!list) {
        cli_error("out of memory");
        goto out;
    }
    char *save = NULL;
    for (char *name = strtok_r(list, ",", &save); name; name = strtok_r(NULL, ",", &save)) {
        int na;
        const char *spec = method_spec(name, defs, n_defs, d->task, &na);
        if (!spec && !na) {
            fprintf(stderr, "focal: --methods: '%s' is not a method; built-in methods are", name);
            for (size_t i = 0; i < N_BUILTINS; i++)
                fprintf(stderr, "%s %s", i ? "," : "", builtins[i].name);
            fputs(", or define one with --method NAME=SPEC\n", stderr);
            goto out;
        }
        if (na) {
            if (user_methods && cli_mpi_rank() == 0)
                cli_warn("method %s does not apply to %s data; left out", name,
                         d->task == FOCAL_TASK_MULTICLASS ? "multi-class"
                         : d->task == FOCAL_TASK_BINARY   ? "binary" : "multi-label");
            continue;
        }
        if (n_methods == MAX_METHODS || strlen(name) >= sizeof m[0].name) {
            cli_error("--methods: at most %d methods with names of up to %zu characters", MAX_METHODS,
                      sizeof m[0].name - 1);
            goto out;
        }
        struct method *mm = &m[n_methods++];
        snprintf(mm->name, sizeof mm->name, "%s", name);
        mm->spec = strdup(spec);
        mm->spec_text = strdup(spec);
        if (!mm->spec || !mm->spec_text) {
            cli_error("out of memory");
            goto out;
        }
        /* check the method now, before any run starts: its spec, then its
         * whole loss and sampler by the library */
        struct trainopt probe = exp_run_options(&base, base.cfg.seed);
        char *scratch = strdup(spec), ctx[96];
        snprintf(ctx, sizeof ctx, "compare: method %s", name);
        int bad = !scratch || exp_apply_spec(&probe, scratch) != 0;
        if (bad && scratch)
            cli_error("%s: its spec '%s' is not valid", ctx, spec);
        bad = bad || (status = trainopt_check(&probe, d, train, n_train, ctx)) != CLI_EXIT_OK;
        if (!bad) {
            /* the γ of a focal-type loss: one with γ that the names focal or poly1 stand for */
            const struct focal_loss_info *info = focal_loss_info(probe.cfg.loss.kind);
            mm->gamma = (info->params & FOCAL_PARAM_GAMMA) && info->generic ? probe.cfg.loss.gamma : NAN;
        }
        free(scratch);
        trainopt_free(&probe);
        if (bad)
            goto out;
        status = CLI_EXIT_USAGE;
    }
    if (n_methods == 0) {
        cli_error("compare: no method applies to this data");
        goto out;
    }
    if (!have_base && !base.quiet && cli_mpi_rank() == 0)
        printf("compare: adding %s, cross-entropy under the same recipe, as the baseline every table compares "
               "with\n", BASELINE);
    /* rank 0 holds the experiment; the other ranks train only the runs it gives them */
    if (cli_mpi_rank() == 0 && (status = exp_begin(base.out, &lock)) != CLI_EXIT_OK)
        goto out;
    status = CLI_EXIT_USAGE;

    int rare[3], n_rare = exp_rarest(d, train, n_train, rare);
    enum focal_select sel = focal_select_resolve(base.cfg.select, d->task);
    int key = exp_metric_of_select(sel);
    if (key < 0) {
        cli_error("compare: --select %s is not one of the table's metrics; use map, auc, macro-f1, "
                  "balanced-accuracy or accuracy", focal_select_name(sel));
        goto out;
    }
    if (!base.quiet && cli_mpi_rank() == 0)
        printf("compare: %d methods x %ld seeds on %s (%d train, %d val, %d test); choosing by validation %s\n",
               n_methods, seeds, base.data.path, n_train, n_val, n_test, exp_metric_label((enum exp_metric)key));

    /* the runs: methods x seeds, over the ranks of an MPI job (mpi_dispatch.h) */
    struct compare_jobs cj = { .base = &base, .m = m, .n_methods = n_methods, .seeds = (int)seeds, .d = d,
                               .train = train, .val = val, .test = test, .n_train = n_train, .n_val = n_val,
                               .n_test = n_test, .rare = rare, .n_rare = n_rare, .key = key,
                               .shared = cli_mpi_size() > 1 };
    const char *names[MAX_METHODS], *specs[MAX_METHODS];
    for (int i = 0; i < n_methods; i++) {
        names[i] = m[i].name;
        specs[i] = m[i].spec_text;
    }
    cj.names = names;
    cj.specs = specs;
    int order[MAX_METHODS * MAX_SEEDS], n_jobs = 0;
    for (int two = 0; two < 2; two++)
        for (int i = 0; i < n_methods; i++)
            if (exp_two_stage(specs[i]) == two)
                for (int s = 0; s < seeds; s++)
                    order[n_jobs++] = i * (int)seeds + s;
    if (cj.shared)
        cj.order = order;
    struct dispatch_jobs jobs = { n_methods * (int)seeds, &cj, compare_run, compare_done };
    int failed = 0;
    status = dispatch_run(&jobs, &failed);
    if (cli_mpi_rank() != 0)
        goto out;   /* rank 0 reports the runs and writes the results */
    if (status != CLI_EXIT_OK) {
        if (cj.shared)
            cli_error("compare: %d of %d runs failed (named above), the others finished; run the command again "
                      "to redo only what is missing", failed, jobs.n);
        goto out;
    }
    /* the seed ensembles that are not made yet (all of them under MPI) */
    for (int i = 0; i < n_methods; i++)
        if (seeds >= 2 && !m[i].have_ens && (status = compare_ensemble(&cj, i)) != CLI_EXIT_OK)
            goto out;
    status = CLI_EXIT_DATA;

    /* summary */
    int have_test = n_test > 0, best = -1, second = -1;
    for (int i = 0; i < n_methods; i++) {
        for (int sp = 0; sp < EXP_NSPLITS; sp++)
            for (int k = 0; k < EXP_N; k++) {
                double vals[MAX_SEEDS];
                for (int s = 0; s < seeds; s++)
                    vals[s] = m[i].res[s].values[sp][k];
                focal_mean_std(&m[i].mean[sp][k], &m[i].std[sp][k], vals, (size_t)seeds, 1);
            }
        double x = m[i].mean[EXP_VAL][key];
        if (!isfinite(x))
            continue;
        if (best < 0 || x > m[best].mean[EXP_VAL][key]) {
            second = best;
            best = i;
        } else if (second < 0 || x > m[second].mean[EXP_VAL][key]) {
            second = i;
        }
    }
    /* the gain of the selection metric over the baseline, seed by seed */
    int bi = -1;
    for (int i = 0; i < n_methods; i++)
        if (strcmp(m[i].name, BASELINE) == 0)
            bi = i;
    for (int i = 0; i < n_methods; i++)
        for (int sp = 0; sp < EXP_NSPLITS; sp++) {
            double diff[MAX_SEEDS];
            for (int s = 0; s < seeds; s++)
                diff[s] = bi < 0 ? NAN : m[i].res[s].values[sp][key] - m[bi].res[s].values[sp][key];
            focal_mean_std(&m[i].gain[sp][0], &m[i].gain[sp][1], diff, (size_t)seeds, 1);
            m[i].ens_gain[sp] = bi >= 0 && m[i].have_ens && m[bi].have_ens
                                    ? m[i].ens.values[sp][key] - m[bi].ens.values[sp][key] : NAN;
        }
    char sentence[512] = "";
    double lead = NAN, spread = NAN;
    int beyond = 0;
    const char *mlabel = exp_metric_label((enum exp_metric)key);
    if (best >= 0 && second >= 0) {
        lead = m[best].mean[EXP_VAL][key] - m[second].mean[EXP_VAL][key];
        spread = fmax(m[best].std[EXP_VAL][key], m[second].std[EXP_VAL][key]);
        if (seeds < 2 || !isfinite(spread))
            snprintf(sentence, sizeof sentence,
                     "%s leads %s by %.4f validation %s; with one seed there is no seed-to-seed spread to "
                     "judge it by (use --seeds 3 or more).", m[best].name, m[second].name, lead, mlabel);
        else if ((beyond = lead > spread))
            snprintf(sentence, sizeof sentence,
                     "%s leads %s by %.4f validation %s, more than the seed-to-seed spread (%.4f).",
                     m[best].name, m[second].name, lead, mlabel, spread);
        else
            snprintf(sentence, sizeof sentence,
                     "%s leads %s by %.4f validation %s, within the seed-to-seed spread (%.4f): not a "
                     "reliable difference.", m[best].name, m[second].name, lead, mlabel, spread);
    } else if (best >= 0) {
        snprintf(sentence, sizeof sentence, "%s is the only method with a defined validation %s.", m[best].name,
                 mlabel);
    }
    if (!base.quiet) {
        putchar('\n');
        print_table(m, n_methods, EXP_VAL, (int)seeds, best);
        if (have_test) {
            putchar('\n');
            print_table(m, n_methods, EXP_TEST, (int)seeds, best);
        }
        printf("\nmean ± std over %ld seed%s; * best on validation %s. Test numbers are reported, never used to "
               "choose.\n%s\n", seeds, seeds == 1 ? "" : "s", mlabel, sentence);
        printf("Δ vs %s: the method's %s minus that of %s (cross-entropy, the same recipe) on the same seed and "
               "split, %s.\n", BASELINE, mlabel, BASELINE, seeds > 1 ? "mean ± std over the seeds" : "one seed");
        if (seeds >= 2)
            printf("<method> (ensemble of %ld): one model averaging the %ld seeds' probabilities, thresholds chosen "
                   "on validation; train s is the seeds' total. Shown for reference, never chosen as the best.\n",
                   seeds, seeds);
        if (n_rare)
            printf("AP rarest 3: mean average precision of %s%s%s%s%s (fewest training examples).\n",
                   d->class_names[rare[0]], n_rare > 1 ? ", " : "", n_rare > 1 ? d->class_names[rare[1]] : "",
                   n_rare > 2 ? ", " : "", n_rare > 2 ? d->class_names[rare[2]] : "");
    }

    /* files */
    if (write_csv(base.out, m, n_methods, (int)seeds, key) != 0)
        goto out;
    results = exp_results_head("compare", base.data.path, d, train, n_train, sel, (int)seeds, rare, n_rare);
    cJSON_AddStringToObject(results, "baseline", BASELINE);
    cJSON *arr = cJSON_AddArrayToObject(results, "methods");
    for (int i = 0; i < n_methods; i++) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "name", m[i].name);
        cJSON_AddStringToObject(o, "spec", m[i].spec_text);
        cJSON *runs = cJSON_AddArrayToObject(o, "runs");
        for (int s = 0; s < seeds; s++) {
            char rel[128];
            snprintf(rel, sizeof rel, "runs/%s/seed%d", m[i].name, s);
            cJSON_AddItemToArray(runs, cJSON_CreateString(rel));
        }
        for (int sp = 0; sp < (have_test ? 2 : 1); sp++) {
            cJSON *so = cJSON_AddObjectToObject(o, sp == EXP_VAL ? "val" : "test");
            for (int k = 0; k < EXP_N; k++)
                cJSON_AddItemToObject(so, exp_metric_key((enum exp_metric)k), exp_stat_json(m[i].mean[sp][k],
                                                                                       m[i].std[sp][k]));
        }
        const double gsd[EXP_NSPLITS] = { m[i].gain[EXP_VAL][1], m[i].gain[EXP_TEST][1] };
        const double gmu[EXP_NSPLITS] = { m[i].gain[EXP_VAL][0], m[i].gain[EXP_TEST][0] };
        cJSON_AddItemToObject(o, "vs_" BASELINE, gain_json(key, gmu, gsd, have_test));
        cJSON_AddItemToArray(arr, o);
    }
    /* the seed ensembles: beside "methods", so that choosing and the
     * per-method charts stay the single models' */
    cJSON *ens = seeds >= 2 ? cJSON_AddArrayToObject(results, "ensembles") : NULL;
    for (int i = 0; ens && i < n_methods; i++) {
        if (!m[i].have_ens)
            continue;
        cJSON *o = cJSON_CreateObject();
        char rel[128];
        snprintf(rel, sizeof rel, "runs/%s/ensemble", m[i].name);
        cJSON_AddStringToObject(o, "name", m[i].ens_name);
        cJSON_AddStringToObject(o, "method", m[i].name);
        cJSON_AddNumberToObject(o, "members", (double)seeds);
        cJSON_AddStringToObject(o, "run", rel);
        for (int sp = 0; sp < (have_test ? 2 : 1); sp++) {
            cJSON *so = cJSON_AddObjectToObject(o, sp == EXP_VAL ? "val" : "test");
            for (int k = 0; k < EXP_N; k++)
                cJSON_AddItemToObject(so, exp_metric_key((enum exp_metric)k),
                                      exp_stat_json(m[i].ens.values[sp][k], NAN));
        }
        cJSON_AddItemToObject(o, "vs_" BASELINE, gain_json(key, m[i].ens_gain, NULL, have_test));
        cJSON_AddItemToArray(ens, o);
    }
    cJSON *bo = cJSON_AddObjectToObject(results, "best");
    cJSON_AddStringToObject(bo, "method", best >= 0 ? m[best].name : "");
    cJSON_AddStringToObject(bo, "second", second >= 0 ? m[second].name : "");
    cJSON_AddItemToObject(bo, "lead", isfinite(lead) ? cJSON_CreateNumber(lead) : cJSON_CreateNull());
    cJSON_AddItemToObject(bo, "spread", isfinite(spread) ? cJSON_CreateNumber(spread) : cJSON_CreateNull());
    cJSON_AddBoolToObject(bo, "beyond_spread", beyond);
    cJSON_AddStringToObject(bo, "sentence", sentence);
    double g = best >= 0 ? m[best].gamma : NAN;
    for (int i = 0; !isfinite(g) && i < n_methods; i++)
        g = m[i].gamma;
    cJSON_AddItemToObject(results, "gamma", isfinite(g) ? cJSON_CreateNumber(g) : cJSON_CreateNull());
    if (exp_finish(base.out, results, base.quiet) != 0)
        goto out;
    status = CLI_EXIT_OK;
out:
    focal_dir_unlock(&lock);
    cJSON_Delete(results);
    for (int i = 0; i < n_methods; i++) {
        free(m[i].spec);
        free(m[i].spec_text);
    }
    free(m);
    free(list);
    free(train);
    free(val);
    free(test);
    focal_dataset_free(d);
    trainopt_free(&base);
    return status;
}
