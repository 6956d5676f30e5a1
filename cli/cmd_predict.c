/* cmd_predict.c — `focal predict`: class probabilities and thresholded labels
 * of a trained run for image files. */
#define _POSIX_C_SOURCE 200809L
#include <stdlib.h>
#include <string.h>

#include "focal.h"
#include "args.h"
#include "commands.h"
#include "dataopt.h"

enum { P_HELP, P_MODEL, P_IMAGES, P_OUT, P_THREADS, P_CACHE, P_ON_BAD_IMAGE, P_QUIET, P_TTA };

static const struct cli_opt predict_opts[] = {
    { "--help", 0, P_HELP }, { "--model", 1, P_MODEL }, { "--images", 1, P_IMAGES }, { "--out", 1, P_OUT },
    { "--threads", 1, P_THREADS }, { "--cache", 1, DATAOPT_CACHE }, { "--on-bad-image", 1, DATAOPT_ON_BAD_IMAGE },
    { "--quiet", 0, P_QUIET }, { "--tta", 1, P_TTA },
};
#define N_PREDICT_OPTS (sizeof predict_opts / sizeof predict_opts[0])

void cmd_predict_help(FILE *fp)
{
    fputs(
"Usage: focal predict --model RUNDIR --images DIR|FILE... --out preds.csv [options]\n"
"\n"
"Runs a trained model (a run folder written by 'focal train') on image files\n"
"and writes one CSV row per image: ID (the file name without its extension),\n"
"the probability of each class (for RFMiD runs, the challenge's submission\n"
"layout), then the decisions with the thresholds chosen on validation: one 0/1\n"
"column per label (label_<name>) for binary and multi-label runs, or the\n"
"predicted class name (label) for multi-class runs. Images are cropped and\n"
"resized as in training. A run trained with --posthoc-la gives the softmax of\n"
"its adjusted logits (run.json's posthoc_la).\n"
"\n"
"Options\n"
"  --model RUNDIR       the run folder (model.safetensors and run.json).\n"
"  --images PATH...     image files (PNG or JPEG) and folders of them; several\n"
"                       may follow one --images, and --images may repeat.\n"
"  --out FILE           the CSV to write (atomically).\n"
"  --cache DIR|none     decoded image cache (default ~/.cache/focal).\n"
"  --on-bad-image skip|error\n"
"                       a missing or unreadable image: stop (default), or leave\n"
"                       it out and list it.\n"
"  --tta none|flips     test-time augmentation: flips averages the probabilities\n"
"                       of each image and its horizontal flip (and, when the run\n"
"                       trained with --augment vflip, its vertical flips);\n"
"                       image data only (default none).\n"
"  --threads N          threads (0: one per core, the default).\n"
"  --quiet              no progress bar.\n"
"\n"
"Example\n"
"  focal predict --model runs/focal --images synth/Test --out preds.csv\n", fp);
}

/* Writes the predictions CSV. */
static int write_preds(const char *path, const struct focal_run *r, const struct focal_dataset *d,
                       const double *probs)
{
    struct focal_wfile wf;
    int outputs = r->task == FOCAL_TASK_BINARY ? 1 : r->num_classes;
    char **names = r->meta.class_names;
    if (focal_wfile_open(&wf, path) != FOCAL_OK) {
        cli_error("%s", focal_last_error());
        return CLI_EXIT_DATA;
    }
    fputs("ID", wf.fp);
    for (int j = 0; j < outputs; j++)
        fprintf(wf.fp, ",%s", names ? names[j] : "class");
    if (r->task == FOCAL_TASK_MULTICLASS)
        fputs(",label", wf.fp);
    else
        for (int j = 0; j < outputs; j++)
            fprintf(wf.fp, ",label_%s", names ? names[j] : "class");
    fputc('\n', wf.fp);
    for (int i = 0; i < d->n; i++) {
        const double *p = probs + (size_t)i * (size_t)outputs;
        fputs(d->ids[i], wf.fp);
        for (int j = 0; j < outputs; j++)
            fprintf(wf.fp, ",%.6f", p[j]);
        if (r->task == FOCAL_TASK_MULTICLASS) {
            int best = 0;
            for (int j = 1; j < outputs; j++)
                best = p[j] > p[best] ? j : best;
            fprintf(wf.fp, ",%s", names ? names[best] : "?");
        } else {
            for (int j = 0; j < outputs; j++)
                fprintf(wf.fp, ",%d", p[j] >= r->thresholds[j]);
        }
        fputc('\n', wf.fp);
    }
    if (focal_wfile_commit(&wf) != FOCAL_OK) {
        cli_error("%s", focal_last_error());
        return CLI_EXIT_DATA;
    }
    return CLI_EXIT_OK;
}

int cmd_predict(int argc, char **argv)
{
    struct dataopt dopt;
    const char *model = NULL, *out = NULL;
    const char **inputs = calloc((size_t)argc, sizeof *inputs);
    char **args = calloc((size_t)argc + 1, sizeof *args);
    int n_inputs = 0, n_args = 0, quiet = 0, tta = 0, status = CLI_EXIT_USAGE;
    long threads = 0;
    struct focal_run run = { 0 };
    struct focal_dataset *d = NULL;
    double *probs = NULL;
    int *idx = NULL;

    dataopt_init(&dopt);
    if (!inputs || !args) {
        cli_error("out of memory");
        status = CLI_EXIT_DATA;
        goto out;
    }
    /* the paths after --images (up to the next option) are its values */
    for (int i = 0; i < argc; i++) {
        args[n_args++] = argv[i];
        if (strcmp(argv[i], "--images") == 0) {
            n_args--;
            while (i + 1 < argc && strncmp(argv[i + 1], "--", 2) != 0)
                inputs[n_inputs++] = argv[++i];
        }
    }
    struct cli_parser p = { n_args, args, 1, "predict", predict_opts, N_PREDICT_OPTS };
    const char *v;
    int id;
    while ((id = cli_next(&p, &v)) != CLI_END) {
        if (id == CLI_BAD)
            goto out;
        if (id == P_HELP) {
            cmd_predict_help(stdout);
            status = CLI_EXIT_OK;
            goto out;
        }
        if (id == P_MODEL)
            model = v;
        else if (id == P_OUT)
            out = v;
        else if (id == P_TTA && cli_parse_tta(v, &tta))
            goto out;
        else if (id == P_QUIET)
            quiet = 1;
        else if (id == P_THREADS && cli_parse_long("--threads", v, 0, 1024, &threads))
            goto out;
        else if (dataopt_take(&dopt, id, v) < 0)
            goto out;
    }
    if (!model || !out || n_inputs == 0) {
        cli_error("predict: %s is required (see 'focal predict --help')",
                  !model ? "--model RUNDIR" : !out ? "--out FILE" : "--images PATH...");
        goto out;
    }
    focal_set_threads((int)threads);
    status = CLI_EXIT_DATA;
    if (focal_run_load(&run, model, 64) != FOCAL_OK ||
        focal_dataset_from_images((const char *const *)inputs, n_inputs, &d) != FOCAL_OK) {
        cli_error("%s", focal_last_error());
        goto out;
    }
    run.tta = tta ? FOCAL_TTA_FLIPS : FOCAL_TTA_NONE;
    focal_run_image_options(&run, &dopt.img);
    if ((status = dataopt_decode(&dopt, d, quiet)) != CLI_EXIT_OK)
        goto out;
    status = CLI_EXIT_DATA;
    if (d->n == 0) {
        cli_error("predict: no image left to predict");
        goto out;
    }
    int outputs = run.task == FOCAL_TASK_BINARY ? 1 : run.num_classes;
    probs = malloc((size_t)d->n * (size_t)outputs * sizeof *probs);
    idx = malloc((size_t)d->n * sizeof *idx);
    if (!probs || !idx) {
        cli_error("out of memory");
        goto out;
    }
    for (int i = 0; i < d->n; i++)
        idx[i] = i;
    if (focal_run_predict(&run, d, idx, d->n, probs) != FOCAL_OK) {
        cli_error("%s", focal_last_error());
        goto out;
    }
    status = write_preds(out, &run, d, probs);
    if (status == CLI_EXIT_OK && !quiet)
        printf("wrote %s: %d images, %d classes\n", out, d->n, outputs);
out:
    free(probs);
    free(idx);
    focal_dataset_free(d);
    focal_run_release(&run);
    free(inputs);
    free(args);
    return status;
}
