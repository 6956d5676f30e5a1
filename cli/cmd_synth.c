/* cmd_synth.c — `focal synth`: writes a synthetic, RFMiD-shaped multi-label
 * fundus dataset (PNG images and label CSVs) with the library's generator,
 * showing a progress bar on a terminal, then prints what it wrote. */
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "focal.h"
#include "args.h"
#include "commands.h"
#include "progress.h"

enum synth_opt { S_HELP, S_OUT, S_N, S_SIZE, S_SEED, S_THREADS, S_FORCE, S_QUIET, S_N_OPTS };

static const struct cli_opt synth_opts[] = {
    { "--help", 0, S_HELP },
    { "--out", 1, S_OUT },
    { "--n", 1, S_N },
    { "--size", 1, S_SIZE },
    { "--seed", 1, S_SEED },
    { "--threads", 1, S_THREADS },
    { "--force", 0, S_FORCE },
    { "--quiet", 0, S_QUIET },
};
#define N_SYNTH_OPTS (sizeof synth_opts / sizeof synth_opts[0])

#define SYNTH_DEFAULT_N 2000
#define SYNTH_DEFAULT_SIZE 64
#define SYNTH_DEFAULT_SEED 1

static const char *const split_names[3] = { "Training", "Validation", "Test" };

void cmd_synth_help(FILE *fp)
{
    const struct focal_synth_condition *cond = focal_synth_conditions();
    fprintf(fp,
"Usage: focal synth --out DIR [--n N] [--size S] [--seed K] [options]\n"
"\n"
"Writes a synthetic multi-label fundus dataset laid out like RFMiD, so that\n"
"training and evaluation can be tried without the real photographs. Every\n"
"image shows an orange-red retina disc on black with an optic disc, a macula\n"
"and branching vessels, plus the signs of its conditions; position, size,\n"
"rotation, eye side, brightness, tint and noise vary. The same options give\n"
"byte-identical files, whatever the number of threads.\n"
"\n"
"Written into DIR\n"
"  RFMiD_Training_Labels.csv     ID, Disease_Risk, then one 0/1 column per\n"
"  RFMiD_Validation_Labels.csv   condition; Disease_Risk = 1 when any\n"
"  RFMiD_Testing_Labels.csv      condition is present; IDs 1.. per split\n"
"  Training/<ID>.png  Validation/<ID>.png  Test/<ID>.png   (60/20/20)\n"
"  synth.json                    how it was made\n"
"The dataset is written beside DIR first and renamed into place when\n"
"complete, so DIR never holds a partial dataset.\n"
"\n"
"Options\n"
"  --out DIR      the dataset folder to create; it must not exist or be empty\n"
"                 (see --force). Required.\n"
"  --n N          images in all, %d..%d; default %d.\n"
"  --size S       image side in pixels, %d..%d; default %d.\n"
"  --seed K       random seed, 0..%ld; default %d.\n"
"  --threads N    threads drawing images: N >= 1, or 0 for one per core;\n"
"                 default: the OpenMP default (OMP_NUM_THREADS).\n"
"  --force        replace DIR if it holds a dataset focal synth wrote before\n"
"                 (it has a synth.json); any other non-empty DIR is refused.\n"
"  --quiet        no progress bar (there is none when stderr is not a terminal).\n"
"  --help         show this help.\n"
"\n"
"Conditions (column, prevalence, what is drawn)\n",
            FOCAL_SYNTH_MIN_N, FOCAL_SYNTH_MAX_N, SYNTH_DEFAULT_N, FOCAL_SYNTH_MIN_SIZE, FOCAL_SYNTH_MAX_SIZE,
            SYNTH_DEFAULT_SIZE, LONG_MAX, SYNTH_DEFAULT_SEED);
    for (int j = 0; j < FOCAL_SYNTH_CONDITIONS; j++)
        fprintf(fp, "  %-5s %4.1f%%  %s\n", cond[j].name, 100 * cond[j].prevalence, cond[j].sign);
    fputs(
"\n"
"Example\n"
"  focal synth --out synth64 --n 2000 --size 64 --seed 1\n"
"\n"
"Exit status: 0 written; 1 DIR could not be written (or is not empty);\n"
"2 the command line is wrong.\n", fp);
}

static void synth_progress(void *ctx, int done, int total)
{
    progress_update(ctx, "synth", done, total, "img", NULL);
}

/* Prints the per-split table of images, Disease_Risk and condition counts. */
static void synth_report(const char *dir, const struct focal_synth_options *o, const struct focal_synth_summary *s,
                         double seconds)
{
    const struct focal_synth_condition *cond = focal_synth_conditions();
    printf("wrote %s: %d images of %dx%d, seed %llu, in %.1f s\n", dir, o->n, o->size, o->size,
           (unsigned long long)o->seed, seconds);
    printf("%-11s %6s %6s", "split", "images", "risk");
    for (int j = 0; j < FOCAL_SYNTH_CONDITIONS; j++)
        printf(" %5s", cond[j].name);
    putchar('\n');
    int all[FOCAL_SYNTH_CONDITIONS + 2] = { 0 };
    for (int k = 0; k < 3; k++) {
        printf("%-11s %6d %6d", split_names[k], s->images[k], s->risk[k]);
        all[0] += s->images[k];
        all[1] += s->risk[k];
        for (int j = 0; j < FOCAL_SYNTH_CONDITIONS; j++) {
            printf(" %5d", s->positives[k][j]);
            all[2 + j] += s->positives[k][j];
        }
        putchar('\n');
    }
    printf("%-11s %6d %6d", "all", all[0], all[1]);
    for (int j = 0; j < FOCAL_SYNTH_CONDITIONS; j++)
        printf(" %5d", all[2 + j]);
    printf("\n%-11s %6s %5.1f%%", "prevalence", "", 100.0 * all[1] / all[0]);
    for (int j = 0; j < FOCAL_SYNTH_CONDITIONS; j++)
        printf(" %4.1f%%", 100.0 * all[2 + j] / all[0]);
    putchar('\n');
}

int cmd_synth(int argc, char **argv)
{
    struct cli_parser p = { argc, argv, 1, "synth", synth_opts, N_SYNTH_OPTS };
    struct focal_synth_options o = { SYNTH_DEFAULT_N, SYNTH_DEFAULT_SIZE, SYNTH_DEFAULT_SEED, 0 };
    const char *out = NULL, *v;
    long n = SYNTH_DEFAULT_N, size = SYNTH_DEFAULT_SIZE, seed = SYNTH_DEFAULT_SEED, threads = -1;
    int quiet = 0, id;

    while ((id = cli_next(&p, &v)) != CLI_END) {
        switch (id) {
        case CLI_BAD:
            return CLI_EXIT_USAGE;
        case S_HELP:
            cmd_synth_help(stdout);
            return CLI_EXIT_OK;
        case S_OUT:
            out = v;
            break;
        case S_N:
            if (cli_parse_long("--n", v, FOCAL_SYNTH_MIN_N, FOCAL_SYNTH_MAX_N, &n))
                return CLI_EXIT_USAGE;
            break;
        case S_SIZE:
            if (cli_parse_long("--size", v, FOCAL_SYNTH_MIN_SIZE, FOCAL_SYNTH_MAX_SIZE, &size))
                return CLI_EXIT_USAGE;
            break;
        case S_SEED:
            if (cli_parse_long("--seed", v, 0, LONG_MAX, &seed))
                return CLI_EXIT_USAGE;
            break;
        case S_THREADS:
            if (cli_parse_long("--threads", v, 0, 1024, &threads))
                return CLI_EXIT_USAGE;
            break;
        case S_FORCE:
            o.force = 1;
            break;
        case S_QUIET:
            quiet = 1;
            break;
        }
    }
    if (!out || !*out) {
        cli_error("synth: --out is required (the dataset folder to create; see 'focal synth --help')");
        return CLI_EXIT_USAGE;
    }
    o.n = (int)n;
    o.size = (int)size;
    o.seed = (uint64_t)seed;
    if (threads >= 0)
        focal_set_threads((int)threads);

    struct progress bar;
    struct focal_synth_summary summary;
    progress_start(&bar, quiet);
    focal_status st = focal_synth_write(out, &o, synth_progress, &bar, &summary);
    progress_clear(&bar);
    if (st != FOCAL_OK) {
        cli_error("synth: %s", focal_last_error());
        if (st == FOCAL_ERR_IO && !o.force && strstr(focal_last_error(), "not empty"))
            cli_error("synth: choose another --out, or add --force to replace a dataset focal synth wrote");
        return st == FOCAL_ERR_ARG ? CLI_EXIT_USAGE : CLI_EXIT_DATA;
    }
    synth_report(out, &o, &summary, progress_elapsed(&bar));
    return CLI_EXIT_OK;
}
