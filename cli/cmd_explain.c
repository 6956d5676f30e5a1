/* cmd_explain.c — `focal explain`: how much focal loss down-weights examples
 * that are already classified well, as a table of p_t against cross-entropy,
 * and as the focal-loss paper's Figure 1 (loss against p_t for several γ). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "focal.h"
#include "args.h"
#include "commands.h"
#include "report/svg.h"

#define EXPLAIN_DEFAULT_PT "0.1,0.5,0.9,0.99"
#define EXPLAIN_DEFAULT_GAMMA 2.0
/* Points per curve in the plot, at p_t = k / PLOT_POINTS, k = 1..PLOT_POINTS. */
#define PLOT_POINTS 1000
/* The curves of the paper's Figure 1. */
static const double plot_gammas[] = { 0.0, 0.5, 1.0, 2.0, 5.0 };
#define N_PLOT_GAMMAS (sizeof plot_gammas / sizeof plot_gammas[0])

enum explain_opt { E_HELP, E_PT, E_GAMMA, E_ALPHA, E_LOG_BASE, E_PLOT, E_N_OPTS };

static const struct cli_opt explain_opts[] = {
    { "--help", 0, E_HELP },
    { "--pt", 1, E_PT },
    { "--gamma", 1, E_GAMMA },
    { "--alpha", 1, E_ALPHA },
    { "--log-base", 1, E_LOG_BASE },
    { "--plot", 1, E_PLOT },
};

void cmd_explain_help(FILE *fp)
{
    fprintf(fp,
"Usage: focal explain [--pt P1,P2,...] [--gamma G] [--alpha A] [--log-base e|10]\n"
"                     [--plot FILE.svg]\n"
"\n"
"For an example whose true class gets probability p_t, prints a table of\n"
"  CE             cross-entropy, -log(p_t)\n"
"  FL             focal loss, -alpha (1 - p_t)^gamma log(p_t)\n"
"  (1-p_t)^gamma  the modulating factor\n"
"  CE/FL          how many times smaller focal loss is than cross-entropy\n"
"                 (inf where focal loss is 0, e.g. at p_t = 1 with gamma > 0)\n"
"computed by the library's sigmoid focal loss on the logit\n"
"log(p_t) - log(1 - p_t) with target 1 (p_t = 1 is handled exactly).\n"
"\n"
"Options\n"
"  --pt P1,P2,...    comma-separated probabilities of the true class, each in\n"
"                    (0, 1]; default %s.\n"
"  --gamma G         focusing parameter, G >= 0; default %g.\n"
"  --alpha A         weight alpha_t of the true class (a positive), A in [0, 1];\n"
"                    default off (1). CE stays unweighted.\n"
"  --log-base B      e (natural log, nats) or 10 (values divided by ln 10);\n"
"                    default e.\n"
"  --plot FILE.svg   also draw the focal-loss paper's Figure 1 to FILE: loss\n"
"                    against p_t in (0, 1] for gamma = 0, 0.5, 1, 2, 5 (plus the\n"
"                    --gamma value, dashed, if it is not one of them), with the\n"
"                    same alpha and log base as the table. Written atomically.\n"
"  --help            show this help.\n"
"\n"
"Example\n"
"  focal explain --pt 0.1,0.5,0.9,0.99 --gamma 2 --plot fig1.svg\n",
            EXPLAIN_DEFAULT_PT, EXPLAIN_DEFAULT_GAMMA);
}

/* The settings of one `focal explain` run. */
struct explain_job {
    double *pt;           /* owned */
    size_t n_pt;
    double gamma;
    double alpha;         /* < 0: off */
    int log10_base;
    const char *plot_path;
};

/* ce and fl (natural log) of an example with probability p in (0, 1] for its
 * true class, focusing gamma and weight alpha (< 0: off), through the library's
 * float64 sigmoid losses. Returns FOCAL_OK or the library's failure. */
static focal_status explain_point(double p, double gamma, double alpha, double *ce, double *fl)
{
    if (p == 1.0) {
        *ce = 0.0;
        *fl = 0.0;
        return FOCAL_OK;
    }
    double x = log(p) - log1p(-p);
    double y = 1.0;
    struct focal_loss l;
    focal_status st;

    focal_loss_init(&l, FOCAL_LOSS_BCE);
    l.reduction = FOCAL_REDUCTION_SUM;
    l.alpha = -1.0;
    st = focal_sigmoid_loss_f64(&l, 1, 1, &x, &y, NULL, NULL, ce);
    if (st != FOCAL_OK)
        return st;
    focal_loss_init(&l, FOCAL_LOSS_SIGMOID_FOCAL);
    l.reduction = FOCAL_REDUCTION_SUM;
    l.gamma = gamma;
    l.alpha = alpha;
    return focal_sigmoid_loss_f64(&l, 1, 1, &x, &y, NULL, NULL, fl);
}

/* Formats a table value with 6 significant digits ("inf" for infinity). */
static void explain_fmt(char *buf, size_t n, double v)
{
    if (isinf(v))
        snprintf(buf, n, "inf");
    else
        snprintf(buf, n, "%.6g", v == 0.0 ? 0.0 : v);
}

/* Parses argv into *job. Returns CLI_EXIT_OK, CLI_EXIT_USAGE after printing an
 * error, or -1 after printing help. */
static int explain_parse(int argc, char **argv, struct explain_job *job)
{
    struct cli_parser p = { argc, argv, 1, "explain", explain_opts,
                            sizeof explain_opts / sizeof explain_opts[0] };
    const char *val[E_N_OPTS] = { 0 };
    const char *v;
    int id;

    while ((id = cli_next(&p, &v)) != CLI_END) {
        if (id == CLI_BAD)
            return CLI_EXIT_USAGE;
        if (id == E_HELP) {
            cmd_explain_help(stdout);
            return -1;
        }
        val[id] = v;
    }
    const char *pt = val[E_PT] ? val[E_PT] : EXPLAIN_DEFAULT_PT;
    if (cli_parse_list("--pt", pt, &job->pt, &job->n_pt))
        return CLI_EXIT_USAGE;
    for (size_t i = 0; i < job->n_pt; i++) {
        if (!(job->pt[i] > 0.0 && job->pt[i] <= 1.0)) {
            /* quote the item as the user wrote it */
            const char *s = pt;
            for (size_t k = 0; k < i; k++)
                s = strchr(s, ',') + 1;
            while (*s == ' ' || *s == '\t')
                s++;
            size_t len = strcspn(s, ",");
            while (len > 0 && (s[len - 1] == ' ' || s[len - 1] == '\t'))
                len--;
            cli_error("--pt: '%.*s' (item %zu) is out of range; expected a probability in (0, 1]",
                      (int)len, s, i + 1);
            return CLI_EXIT_USAGE;
        }
    }
    job->gamma = EXPLAIN_DEFAULT_GAMMA;
    if (val[E_GAMMA] && cli_parse_double("--gamma", val[E_GAMMA], &job->gamma))
        return CLI_EXIT_USAGE;
    job->alpha = -1.0;
    if (val[E_ALPHA] && cli_parse_double("--alpha", val[E_ALPHA], &job->alpha))
        return CLI_EXIT_USAGE;
    /* the table is that of sigmoid focal loss: the library judges its parameters */
    struct focal_loss l;
    focal_loss_init(&l, FOCAL_LOSS_SIGMOID_FOCAL);
    l.gamma = job->gamma;
    l.alpha = job->alpha;
    if (focal_loss_check(&l, 1) != FOCAL_OK) {
        cli_error("explain: %s", focal_last_error());
        return CLI_EXIT_USAGE;
    }
    if (val[E_LOG_BASE]) {
        if (strcmp(val[E_LOG_BASE], "10") == 0) {
            job->log10_base = 1;
        } else if (strcmp(val[E_LOG_BASE], "e") != 0) {
            cli_error("--log-base: '%s' is not a supported base; expected e or 10", val[E_LOG_BASE]);
            return CLI_EXIT_USAGE;
        }
    }
    job->plot_path = val[E_PLOT];
    if (job->plot_path && !*job->plot_path) {
        cli_error("--plot: the file name is empty; expected a path for the SVG file");
        return CLI_EXIT_USAGE;
    }
    return CLI_EXIT_OK;
}

/* Formats γ for a legend: "γ = 0.5". */
static void explain_gamma_name(char *buf, size_t n, double g, int user)
{
    snprintf(buf, n, "\xCE\xB3 = %g%s", g, user ? " (--gamma)" : "");
}

/* Draws Figure 1 to job->plot_path atomically. Returns 0 or CLI_EXIT_DATA
 * after printing an error. */
static int explain_plot(const struct explain_job *job)
{
    int extra = 1;
    for (size_t k = 0; k < N_PLOT_GAMMAS; k++)
        if (plot_gammas[k] == job->gamma)
            extra = 0;
    size_t ns = N_PLOT_GAMMAS + (size_t)extra;
    double scale = job->log10_base ? 1.0 / log(10.0) : 1.0;
    double *xs = malloc(PLOT_POINTS * sizeof *xs);
    double *ys = malloc(ns * PLOT_POINTS * sizeof *ys);
    struct svg_series series[N_PLOT_GAMMAS + 1];
    char names[N_PLOT_GAMMAS + 1][48];
    char title[160];
    struct focal_wfile wf = { NULL, NULL, NULL };
    int status = CLI_EXIT_DATA;

    if (!xs || !ys) {
        cli_error("out of memory for the plot");
        goto out;
    }
    for (size_t i = 0; i < PLOT_POINTS; i++)
        xs[i] = (double)(i + 1) / PLOT_POINTS;
    memset(series, 0, sizeof series);
    for (size_t k = 0; k < ns; k++) {
        int user = k == N_PLOT_GAMMAS;
        double g = user ? job->gamma : plot_gammas[k];
        for (size_t i = 0; i < PLOT_POINTS; i++) {
            double ce, fl;
            if (explain_point(xs[i], g, job->alpha, &ce, &fl) != FOCAL_OK) {
                cli_error("%s", focal_last_error());
                goto out;
            }
            ys[k * PLOT_POINTS + i] = fl * scale;
        }
        explain_gamma_name(names[k], sizeof names[k], g, user);
        series[k].name = names[k];
        series[k].x = xs;
        series[k].y = ys + k * PLOT_POINTS;
        series[k].n = PLOT_POINTS;
        series[k].width = g == job->gamma ? 3.0 : 2.0;
        series[k].dashed = user;
        series[k].color = user ? "#000000" : NULL;
    }

    struct svg_chart ch;
    svg_chart_init(&ch);
    if (job->alpha >= 0)
        snprintf(title, sizeof title, "Focal loss  FL = \xE2\x88\x92\xCE\xB1 (1 \xE2\x88\x92 p\xE2\x82\x9C)"
                 "^\xCE\xB3 log p\xE2\x82\x9C,  \xCE\xB1 = %g", job->alpha);
    else
        snprintf(title, sizeof title, "Focal loss  FL = \xE2\x88\x92(1 \xE2\x88\x92 p\xE2\x82\x9C)"
                 "^\xCE\xB3 log p\xE2\x82\x9C");
    ch.title = title;
    ch.x_label = "probability of ground truth class";
    ch.y_label = job->log10_base ? "loss (log base 10)" : "loss";
    ch.x_min = 0.0;
    ch.x_max = 1.0;
    ch.y_min = 0.0;
    ch.y_max = 5.0;
    ch.series = series;
    ch.n_series = ns;

    if (focal_wfile_open(&wf, job->plot_path) != FOCAL_OK) {
        cli_error("--plot: %s", focal_last_error());
        goto out;
    }
    if (svg_chart_write(wf.fp, &ch, 1) != 0) {
        cli_error("--plot: %s: write error; the file was not written", job->plot_path);
        goto out;
    }
    if (focal_wfile_commit(&wf) != FOCAL_OK) {
        cli_error("--plot: %s", focal_last_error());
        goto out;
    }
    status = CLI_EXIT_OK;
out:
    focal_wfile_abort(&wf);
    free(xs);
    free(ys);
    return status;
}

/* Column headers of the table. */
static const char *const explain_cols[5] = { "p_t", "CE", "FL", "(1-p_t)^gamma", "CE/FL" };

int cmd_explain(int argc, char **argv)
{
    struct explain_job job;
    memset(&job, 0, sizeof job);
    int status = explain_parse(argc, argv, &job);
    if (status != CLI_EXIT_OK) {
        free(job.pt);
        return status < 0 ? CLI_EXIT_OK : status;
    }
    double scale = job.log10_base ? 1.0 / log(10.0) : 1.0;
    double a = job.alpha >= 0 ? job.alpha : 1.0;

    /* format every cell first, to size the columns */
    char (*cell)[5][32] = malloc(job.n_pt * sizeof *cell);
    if (!cell) {
        cli_error("out of memory");
        free(job.pt);
        return CLI_EXIT_DATA;
    }
    for (size_t i = 0; i < job.n_pt; i++) {
        double p = job.pt[i], ce, fl;
        if (explain_point(p, job.gamma, job.alpha, &ce, &fl) != FOCAL_OK) {
            cli_error("%s", focal_last_error());
            status = CLI_EXIT_DATA;
            goto out;
        }
        double m = pow(1.0 - p, job.gamma);
        /* CE/FL = 1 / (alpha (1-p_t)^gamma) wherever log p_t != 0; at p_t = 1
         * both are 0 and the ratio is that limit. */
        double ratio = fl > 0.0 ? ce / fl : (p == 1.0 && a * m > 0.0) ? 1.0 / (a * m) : INFINITY;
        snprintf(cell[i][0], sizeof cell[i][0], "%.6g", p);
        explain_fmt(cell[i][1], sizeof cell[i][1], ce * scale);
        explain_fmt(cell[i][2], sizeof cell[i][2], fl * scale);
        explain_fmt(cell[i][3], sizeof cell[i][3], m);
        explain_fmt(cell[i][4], sizeof cell[i][4], ratio);
    }
    if (job.plot_path && (status = explain_plot(&job)) != CLI_EXIT_OK)
        goto out;

    printf("# focal loss FL = -alpha (1-p_t)^gamma log(p_t) against cross-entropy CE = -log(p_t)\n");
    if (job.alpha >= 0)
        printf("# gamma = %g, alpha = %g (the true class's alpha_t; CE is unweighted)\n",
               job.gamma, job.alpha);
    else
        printf("# gamma = %g, alpha off (1)\n", job.gamma);
    if (job.log10_base)
        printf("# log base 10: CE and FL are the natural-log values divided by ln 10\n");
    else
        printf("# natural log (nats)\n");
    printf("# CE/FL: how many times smaller focal loss is than cross-entropy\n");
    size_t w[5];
    for (int k = 0; k < 5; k++) {
        w[k] = strlen(explain_cols[k]);
        for (size_t i = 0; i < job.n_pt; i++)
            if (strlen(cell[i][k]) > w[k])
                w[k] = strlen(cell[i][k]);
    }
    for (int k = 0; k < 5; k++)
        printf("%s%*s", k ? "  " : "", (int)w[k], explain_cols[k]);
    putchar('\n');
    for (size_t i = 0; i < job.n_pt; i++) {
        for (int k = 0; k < 5; k++)
            printf("%s%*s", k ? "  " : "", (int)w[k], cell[i][k]);
        putchar('\n');
    }
    status = CLI_EXIT_OK;
out:
    free(cell);
    free(job.pt);
    return status;
}
