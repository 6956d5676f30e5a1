/* cmd_eval.c — `focal eval`: the metrics of a trained run on a dataset. */
#define _POSIX_C_SOURCE 200809L
#include <stdlib.h>
#include <string.h>

#include "focal.h"
#include "args.h"
#include "commands.h"
#include "dataopt.h"
#include "metrics_print.h"

enum { E_HELP = 1, E_MODEL, E_SPLIT, E_JSON, E_THREADS, E_QUIET, E_SEED, E_TTA };

static const struct cli_opt eval_opts[] = {
    { "--help", 0, E_HELP }, { "--model", 1, E_MODEL }, { "--split", 1, E_SPLIT }, { "--json", 0, E_JSON },
    { "--threads", 1, E_THREADS }, { "--quiet", 0, E_QUIET }, { "--seed", 1, E_SEED }, { "--tta", 1, E_TTA },
    DATAOPT_CLI_OPTS,
};
#define N_EVAL_OPTS (sizeof eval_opts / sizeof eval_opts[0])

void cmd_eval_help(FILE *fp)
{
    fputs(
"Usage: focal eval --model RUNDIR --data PATH [options]\n"
"\n"
"Evaluates a trained run on a dataset with the run's decision thresholds and\n"
"prints the metrics table (per class: support, precision, recall, F1, ROC-AUC,\n"
"average precision; then accuracy, balanced accuracy, macro/micro/weighted F1,\n"
"MCC, macro ROC-AUC, mAP, and for RFMiD labels with Disease_Risk the RIADD\n"
"score). Images are cropped and resized as in training. A run trained with\n"
"--posthoc-la is evaluated on its adjusted logits (run.json's posthoc_la).\n"
"\n"
"Options\n"
"  --model RUNDIR       the run folder written by 'focal train'.\n"
"  --split S            test (default when the data has a test split), val,\n"
"                       train or all.\n"
"  --seed S             data without splits of its own: the seed of the\n"
"                       stratified split (default: the run's seed, which gives\n"
"                       the split the run was trained with for the same\n"
"                       --val-frac and --test-frac).\n"
"  --json               print the metrics as JSON (the keys of 'focal metrics\n"
"                       --json') instead of the table.\n"
"  --tta none|flips     test-time augmentation: flips averages the probabilities\n"
"                       of each image and its horizontal flip (and, when the run\n"
"                       trained with --augment vflip, its vertical flips);\n"
"                       image data only (default none).\n"
"  --threads N          threads (0: one per core, the default).\n"
"  --quiet              no progress bar.\n"
"\n", fp);
    dataopt_help(fp);
    fputs(
"\n"
"Example\n"
"  focal eval --model runs/focal --data synth --split test\n", fp);
}

int cmd_eval(int argc, char **argv)
{
    struct dataopt dopt;
    struct cli_parser p = { argc, argv, 1, "eval", eval_opts, N_EVAL_OPTS };
    const char *v, *model = NULL, *split = NULL, *seed_text = NULL;
    int id, json = 0, quiet = 0, tta = 0, status = CLI_EXIT_USAGE, have_riadd = 0;
    long threads = 0;
    struct focal_run run = { 0 };
    struct focal_dataset *d = NULL;
    struct focal_metrics m = { 0 };
    struct focal_riadd riadd;
    int *tr = NULL, *va = NULL, *te = NULL, *all = NULL, ntr = 0, nva = 0, nte = 0;

    dataopt_init(&dopt);
    while ((id = cli_next(&p, &v)) != CLI_END) {
        if (id == CLI_BAD)
            goto out;
        if (id == E_HELP) {
            cmd_eval_help(stdout);
            status = CLI_EXIT_OK;
            goto out;
        }
        if (id == E_MODEL)
            model = v;
        else if (id == E_SPLIT)
            split = v;
        else if (id == E_JSON)
            json = 1;
        else if (id == E_QUIET)
            quiet = 1;
        else if (id == E_TTA && cli_parse_tta(v, &tta))
            goto out;
        else if (id == E_SEED)
            seed_text = v;
        else if (id == E_THREADS && cli_parse_long("--threads", v, 0, 1024, &threads))
            goto out;
        else if (dataopt_take(&dopt, id, v) < 0)
            goto out;
    }
    if (!model || !dopt.path) {
        cli_error("eval: %s is required (see 'focal eval --help')", model ? "--data PATH" : "--model RUNDIR");
        goto out;
    }
    if (split && strcmp(split, "test") && strcmp(split, "val") && strcmp(split, "train") && strcmp(split, "all")) {
        cli_error("--split: '%s'; expected test, val, train or all", split);
        goto out;
    }
    uint64_t seed = 0;
    if (seed_text) {
        char *end;
        seed = strtoull(seed_text, &end, 10);
        if (*end || !*seed_text || *seed_text == '-') {
            cli_error("--seed: '%s' is not a seed; expected an integer >= 0", seed_text);
            goto out;
        }
    }
    focal_set_threads((int)threads);
    status = CLI_EXIT_DATA;
    if (focal_run_load(&run, model, 64) != FOCAL_OK) {
        cli_error("%s", focal_last_error());
        goto out;
    }
    run.tta = tta ? FOCAL_TTA_FLIPS : FOCAL_TTA_NONE;
    if (!seed_text)
        seed = run.meta.seed;
    if (dopt.size_given && (dopt.img.width != run.width || dopt.img.height != run.height))
        cli_warn("--size is ignored: the model takes %dx%d images", run.width, run.height);
    focal_run_image_options(&run, &dopt.img);
    focal_run_data_options(&run, &dopt.data);
    dopt.size_given = 2; /* the run's size, not the user's: no warnings about it */
    if ((status = dataopt_load(&dopt, &d, quiet)) != CLI_EXIT_OK)
        goto out;
    const int *idx;
    int n;
    if (split && strcmp(split, "all") == 0) {
        all = malloc((size_t)(d->n > 0 ? d->n : 1) * sizeof *all);
        if (!all) {
            cli_error("out of memory");
            status = CLI_EXIT_DATA;
            goto out;
        }
        for (int i = 0; i < d->n; i++)
            all[i] = i;
        idx = all, n = d->n;
    } else {
        if ((status = dataopt_splits(&dopt, d, seed, &tr, &ntr, &va, &nva, &te, &nte)) != CLI_EXIT_OK)
            goto out;
        if (!split)
            split = nte > 0 ? "test" : "val";
        idx = split[1] == 'e' ? te : split[1] == 'a' ? va : tr;
        n = split[1] == 'e' ? nte : split[1] == 'a' ? nva : ntr;
        if (n == 0) {
            cli_error("%s: the %s split is empty", dopt.path, split);
            status = CLI_EXIT_DATA;
            goto out;
        }
    }
    status = CLI_EXIT_DATA;
    if (focal_run_evaluate(&run, d, idx, n, &m, &riadd, &have_riadd) != FOCAL_OK) {
        cli_error("%s", focal_last_error());
        goto out;
    }
    if (json) {
        if (focal_metrics_write_json(stdout, &m, (const char *const *)d->class_names, have_riadd ? &riadd : NULL,
                                     0) != FOCAL_OK) {
            cli_error("%s", focal_last_error());
            goto out;
        }
        putchar('\n');
    } else {
        printf("%s split of %s: %d samples\n", split ? split : "all", dopt.path, n);
        if (run.logit_shift)
            printf("post-hoc logit adjustment of the run: logits - %g * log(training prior)\n", run.posthoc_tau);
        metrics_print_table(stdout, &m, (const char *const *)d->class_names, have_riadd ? &riadd : NULL);
    }
    status = CLI_EXIT_OK;
out:
    focal_metrics_release(&m);
    focal_dataset_free(d);
    focal_run_release(&run);
    free(tr);
    free(va);
    free(te);
    free(all);
    return status;
}
