/* cmd_ensemble.c — `focal ensemble`: a run folder that averages the
 * probabilities of finished runs (the library's focal_ensemble_create), and
 * the seed ensembles of `focal train --seeds`. */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "focal.h"
#include "args.h"
#include "commands.h"
#include "ensemble.h"
#include "experiment.h"
#include "progress.h"

enum { E_RUNS = 4100, E_OUT, E_QUIET, E_HELP };

static const struct cli_opt ensemble_opts[] = {
    { "--runs", 1, E_RUNS }, { "--out", 1, E_OUT }, { "--quiet", 0, E_QUIET }, { "--help", 0, E_HELP },
};

void cmd_ensemble_help(FILE *fp)
{
    fputs(
"Usage: focal ensemble --runs RUN1,RUN2[,...] --out DIR [--quiet]\n"
"\n"
"Makes DIR a run folder that averages the probabilities of finished runs\n"
"(e.g. the same configuration trained with several seeds). The runs must have\n"
"the same task, classes, positive class, input size and fundus crop, and the\n"
"same validation and test samples. DIR receives run.json (\"kind\": \"ensemble\",\n"
"the members as paths relative to DIR), scores.csv (the members' mean\n"
"probabilities, matched by sample id), per-class thresholds chosen on the\n"
"averaged validation probabilities (maximum F1, as a run chooses them) and\n"
"metrics.json. 'focal eval' and 'focal predict' take DIR like any run folder:\n"
"they load every member and average their probabilities. The members stay\n"
"where they are; moving them breaks the ensemble.\n"
"\n"
"  --runs LIST          comma-separated run folders (at least 2).\n"
"  --out DIR            the ensemble's folder (created; must not hold a trained run).\n"
"  --quiet              print nothing but errors.\n"
"\n"
"See also 'focal train --seeds K', which trains K seeds and writes their\n"
"ensemble, and 'focal compare', which reports each method's seed ensemble.\n"
"\n"
"Example:\n"
"  focal ensemble --runs runs/s0,runs/s1,runs/s2 --out runs/ens\n"
"  focal eval --model runs/ens --data synth\n", fp);
}

int ensemble_make(const char *dir, const char *const *members, int n)
{
    focal_status st = focal_ensemble_create(dir, members, n);
    if (st != FOCAL_OK) {
        cli_error("%s", focal_last_error());
        return st == FOCAL_ERR_ARG ? CLI_EXIT_USAGE : CLI_EXIT_DATA;
    }
    return CLI_EXIT_OK;
}

/* One row of the ensemble table: a run folder's numbers. */
static int print_row(const char *label, const char *dir)
{
    struct focal_run_metrics m;
    if (focal_run_read_metrics(dir, &m) != FOCAL_OK) {
        cli_error("%s", focal_last_error());
        return -1;
    }
    const struct focal_split_summary *s[2] = { &m.val, m.have_test ? &m.test : NULL };
    printf("%-28.28s", label);
    for (int k = 0; k < 2; k++) {
        double v[3] = { s[k] ? s[k]->map : NAN, s[k] ? s[k]->auc : NAN, s[k] ? s[k]->macro_f1 : NAN };
        for (int j = 0; j < 3; j++)
            if (isfinite(v[j]))
                printf(" %9.4f", v[j]);
            else
                printf(" %9s", "n/a");
    }
    putchar('\n');
    focal_run_metrics_release(&m);
    return 0;
}

int ensemble_print(const char *dir, const char *const *members, int n)
{
    /* A binary run scores one output, the positive class: its AP, not a mean. */
    struct focal_run_scores sc;
    if (focal_run_read_scores(dir, "val", &sc) != FOCAL_OK) {
        cli_error("%s", focal_last_error());
        return -1;
    }
    const int binary = sc.outputs == 1;
    if (binary)
        printf("binary task: AP and ROC-AUC of the positive class, %s\n", sc.names[0]);
    focal_run_scores_release(&sc);
    printf("%-28s %9s %9s %9s %9s %9s %9s\n", "", binary ? "val AP" : "val mAP", "val AUC", "val F1",
           binary ? "test AP" : "test mAP", "test AUC", "test F1");
    for (int k = 0; k < n; k++)
        if (print_row(members[k], members[k]) != 0)
            return -1;
    char label[64];
    snprintf(label, sizeof label, "ensemble of %d", n);
    if (print_row(label, dir) != 0)
        return -1;
    printf("wrote %s/run.json, scores.csv, metrics.json (the ensemble of %d runs)\n", dir, n);
    return 0;
}

int cmd_ensemble(int argc, char **argv)
{
    struct cli_parser p = { argc, argv, 1, "ensemble", ensemble_opts, sizeof ensemble_opts / sizeof ensemble_opts[0] };
    const char *v, *runs = NULL, *out = NULL, *members[ENSEMBLE_MAX_MEMBERS];
    int id, quiet = 0, n = 0, status = CLI_EXIT_USAGE;
    char *list = NULL;
    while ((id = cli_next(&p, &v)) != CLI_END) {
        if (id == CLI_BAD)
            return CLI_EXIT_USAGE;
        if (id == E_HELP) {
            cmd_ensemble_help(stdout);
            return CLI_EXIT_OK;
        }
        if (id == E_RUNS)
            runs = v;
        else if (id == E_OUT)
            out = v;
        else if (id == E_QUIET)
            quiet = 1;
    }
    if (!runs || !out) {
        cli_error("ensemble: %s is required (see 'focal ensemble --help')", runs ? "--out DIR" : "--runs LIST");
        return CLI_EXIT_USAGE;
    }
    if (!(list = strdup(runs))) {
        cli_error("out of memory");
        return CLI_EXIT_DATA;
    }
    char *save = NULL;
    for (char *r = strtok_r(list, ",", &save); r; r = strtok_r(NULL, ",", &save)) {
        if (n == ENSEMBLE_MAX_MEMBERS) {
            cli_error("--runs: more than %d runs", ENSEMBLE_MAX_MEMBERS);
            goto out;
        }
        members[n++] = r;
    }
    if (n < 2) {
        cli_error("--runs: '%s' names %d run folder%s; an ensemble needs at least 2, comma-separated", runs, n,
                  n == 1 ? "" : "s");
        goto out;
    }
    if ((status = ensemble_make(out, members, n)) == CLI_EXIT_OK && !quiet && ensemble_print(out, members, n) != 0)
        status = CLI_EXIT_DATA;
out:
    free(list);
    return status;
}

int ensemble_take_seeds(int *argc, char **argv, long *seeds)
{
    *seeds = 0;
    for (int i = 1; i < *argc; i++) {
        const char *v;
        int take;
        if (strcmp(argv[i], "--seeds") == 0) {
            if (i + 1 >= *argc) {
                cli_error("train: --seeds needs a value: the number of seeds to train and ensemble");
                return CLI_EXIT_USAGE;
            }
            v = argv[i + 1];
            take = 2;
        } else if (strncmp(argv[i], "--seeds=", 8) == 0) {
            v = argv[i] + 8;
            take = 1;
        } else {
            continue;
        }
        if (cli_parse_long("--seeds", v, 2, ENSEMBLE_MAX_MEMBERS, seeds))
            return CLI_EXIT_USAGE;
        for (int k = i; k + take < *argc; k++)
            argv[k] = argv[k + take];
        *argc -= take;
        i--;
    }
    return CLI_EXIT_OK;
}

int ensemble_train_seeds(struct trainopt *t, long seeds, const struct focal_dataset *d, const int *train,
                         int n_train, const int *val, int n_val, const int *test, int n_test)
{
    char *dirs[ENSEMBLE_MAX_MEMBERS] = { 0 }, model[4096];
    int status = CLI_EXIT_DATA;
    struct stat sb;
    /* refused before training rather than after: the ensemble needs a folder of its own */
    snprintf(model, sizeof model, "%s/model.safetensors", t->out);
    if (stat(model, &sb) == 0) {
        cli_error("train: %s holds a trained run (model.safetensors); --seeds needs a folder of its own", t->out);
        return CLI_EXIT_USAGE;
    }
    if (exp_mkdirs(t->out) != 0)
        return CLI_EXIT_DATA;
    for (long k = 0; k < seeds; k++) {
        size_t len = strlen(t->out) + 32;
        if (!(dirs[k] = malloc(len))) {
            cli_error("out of memory");
            goto out;
        }
        snprintf(dirs[k], len, "%s/seed%ld", t->out, k);
        struct trainopt tk = *t;
        int skipped;
        tk.model_text = NULL;
        tk.class_weights = NULL;
        tk.cfg.seed = t->cfg.seed + (uint64_t)k;
        tk.brief = 1; /* the progress bar, then one line per seed */
        double t0 = progress_now();
        status = exp_train(&tk, d, train, n_train, val, n_val, test, n_test, dirs[k], &skipped);
        trainopt_free(&tk);
        if (status != CLI_EXIT_OK)
            goto out;
        if (!t->quiet) {
            printf("[%ld/%ld] seed %llu  %s%s  (%.1f s)\n", k + 1, seeds, (unsigned long long)(t->cfg.seed + (uint64_t)k),
                   dirs[k], skipped ? "  finished before, skipped" : "", progress_now() - t0);
            fflush(stdout);
        }
    }
    status = ensemble_make(t->out, (const char *const *)dirs, (int)seeds);
    if (status == CLI_EXIT_OK && !t->quiet) {
        putchar('\n');
        if (ensemble_print(t->out, (const char *const *)dirs, (int)seeds) != 0)
            status = CLI_EXIT_DATA;
    }
out:
    for (long k = 0; k < seeds; k++)
        free(dirs[k]);
    return status;
}

int ensemble_of_seeds(const char *dir, int n, const struct exp_result *member, const int *rare, int n_rare,
                      struct exp_result *r)
{
    char ens[4096], *dirs[ENSEMBLE_MAX_MEMBERS] = { 0 };
    int rc = -1;
    if (n < 2 || n > ENSEMBLE_MAX_MEMBERS || (size_t)snprintf(ens, sizeof ens, "%s/ensemble", dir) >= sizeof ens) {
        cli_error("%s: cannot make an ensemble of %d runs here", dir, n);
        return -1;
    }
    for (int k = 0; k < n; k++) {
        size_t len = strlen(dir) + 32;
        if (!(dirs[k] = malloc(len))) {
            cli_error("out of memory");
            goto out;
        }
        snprintf(dirs[k], len, "%s/seed%d", dir, k);
    }
    if (ensemble_make(ens, (const char *const *)dirs, n) != CLI_EXIT_OK)
        goto out;
    /* an ensemble has no history: its training time is its members' */
    if (exp_read_result(ens, rare, n_rare, r) != 0)
        goto out;
    double total = 0;
    for (int k = 0; k < n; k++)
        total += member[k].values[EXP_VAL][EXP_SECONDS];
    r->values[EXP_VAL][EXP_SECONDS] = r->values[EXP_TEST][EXP_SECONDS] = total;
    rc = 0;
out:
    for (int k = 0; k < n; k++)
        free(dirs[k]);
    return rc;
}
