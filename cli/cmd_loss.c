/* cmd_loss.c — `focal loss`: a loss, and optionally its gradient, from CSV
 * logits and targets, computed in double precision by the library. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "focal.h"
#include "args.h"
#include "commands.h"
#include "csvloc.h"
#include "lossopt.h"

/* --probs: sigmoid probabilities are clamped to [P, 1 − P] before taking the
 * logit (beyond that float32 cannot tell p from 0 or 1); softmax probabilities
 * are clamped below at SOFTMAX_P_MIN before taking the log. */
#define SIGMOID_P_CLAMP 1e-7
#define SOFTMAX_P_MIN 1e-12
/* --probs, softmax: rows whose sum is further than this from 1 get a warning. */
#define ROW_SUM_TOLERANCE 1e-3

enum loss_opt {
    L_HELP, L_TYPE, L_LOGITS, L_TARGETS, L_CLASS_WEIGHTS, L_PRIOR, L_GRAD, L_PROBS, L_THREADS, L_N_OPTS
};

static const struct cli_opt loss_opts[] = {
    { "--help", 0, L_HELP },
    { "--type", 1, L_TYPE },
    { "--logits", 1, L_LOGITS },
    { "--targets", 1, L_TARGETS },
    { "--class-weights", 1, L_CLASS_WEIGHTS },
    { "--prior", 1, L_PRIOR },
    { "--grad", 1, L_GRAD },
    { "--probs", 0, L_PROBS },
    { "--threads", 1, L_THREADS },
    LOSSOPT_CLI_OPTS,
};
#define N_LOSS_OPTS (sizeof loss_opts / sizeof loss_opts[0])

void cmd_loss_help(FILE *fp)
{
    struct focal_loss sf;
    focal_loss_init(&sf, FOCAL_LOSS_SIGMOID_FOCAL);

    fputs(
"Usage: focal loss --type TYPE --logits L.csv --targets Y.csv [options]\n"
"\n"
"Computes a classification loss over N samples and C classes from CSV files (no\n"
"header, comma-separated, one sample per line; blank lines, CRLF and a UTF-8\n"
"byte-order mark are accepted) in double precision, and prints it with 10\n"
"significant digits.\n"
"\n"
"Required\n"
"  --type TYPE          the loss. Sigmoid family (a separate yes/no per class):\n"
"                         bce            binary cross-entropy (alpha-balanced)\n"
"                         sigmoid-focal  alpha_t (1-p_t)^gamma BCE (torchvision)\n"
"                         focal-star     FL*, -log sigmoid(gamma x_t+beta)/gamma\n"
"                         asl            asymmetric loss (ASL)\n"
"                         sigmoid-poly1  focal + epsilon (1-p_t)^(gamma+1)\n"
"                       Softmax family (exactly one class per sample):\n"
"                         ce             cross-entropy\n"
"                         softmax-focal  multi-class focal loss\n"
"                         softmax-poly1  softmax focal + epsilon (1-P)^(gamma+1)\n"
"                       Long-tail losses (they need --prior):\n"
"                         la             logit-adjusted CE, CE(z + tau log prior)\n"
"                         balanced-softmax  la with tau = 1\n"
"                         ldam           CE(s (z - margin of the true class)),\n"
"                                        margins m (n_min / n_y)^(1/4)\n"
"                         db             distribution-balanced loss (sigmoid,\n"
"                                        multi-label)\n"
"  --logits FILE        N rows x C logits (probabilities with --probs).\n"
"  --targets FILE       sigmoid family: N x C targets in [0, 1] (soft targets\n"
"                       allowed; a negative value ignores that element).\n"
"                       softmax family: N rows of one integer class in 0..C-1, or\n"
"                       the --ignore-index value to ignore that row.\n"
"\n"
"Loss parameters (an option the type does not use is ignored, with a warning)\n", fp);
    lossopt_help(fp);
    fputs(
"  --class-weights W1,...,WC\n"
"                       one weight >= 0 per class (column), exactly C of them;\n"
"                       multiplies each element's loss (sigmoid) or each row's\n"
"                       loss by the weight of its target class (softmax);\n"
"                       default all 1.\n"
"  --prior LIST|FILE    la, balanced-softmax, ldam, db: the training split's\n"
"                       class prior, C values > 0, comma-separated or a CSV\n"
"                       file (one row or one column): counts or frequencies\n"
"                       (only their ratios matter) for la, balanced-softmax and\n"
"                       ldam; for db the frequencies in (0, 1), the number of\n"
"                       training samples with each label over the number of\n"
"                       training samples.\n", fp);
    fprintf(fp,
"\n"
"Output\n"
"  --reduction R        none, sum, mean or positives; default %s.\n"
"                         mean       sum / number of counted (not ignored)\n"
"                                    elements (sigmoid) or rows (softmax)\n"
"                         positives  sum / max(1, number of positive targets),\n"
"                                    a target >= 0.5 (softmax: each counted row)\n"
"                         none       every element's loss as N x C CSV (sigmoid)\n"
"                                    or one loss per row, one per line (softmax)\n"
"  --grad FILE          also write d loss / d logits to FILE as N x C CSV with 9\n"
"                       significant digits (0 where ignored). Written atomically:\n"
"                       after any error FILE is left as it was.\n"
"  --probs              the --logits file holds probabilities in [0, 1]:\n"
"                       sigmoid family: p is clamped to [%g, 1 - %g] (the\n"
"                       range float32 can tell from 0 and 1) and turned into the\n"
"                       logit log(p) - log(1 - p).\n"
"                       softmax family: log(max(p, %g)) is used as the logits,\n"
"                       so the softmax renormalises each row; rows need not sum\n"
"                       exactly to 1.\n"
"                       --grad is then with respect to these derived logits.\n"
"  --threads N          threads for the computation: N >= 1, or 0 for one per\n"
"                       core; default: OpenMP's default. Results do not depend\n"
"                       on N.\n"
"  --help               show this help.\n"
"\n"
"Example\n"
"  focal loss --type sigmoid-focal --logits examples/logits.csv \\\n"
"             --targets examples/targets.csv --alpha 0.25\n",
            focal_reduction_name(sf.reduction), SIGMOID_P_CLAMP, SIGMOID_P_CLAMP, SOFTMAX_P_MIN);
}

/* Everything `focal loss` was asked to do, parsed and range-checked. */
struct loss_job {
    struct focal_loss l;
    const char *logits_path, *targets_path, *grad_path;
    int probs;
    double *class_weights;      /* owned */
    size_t n_class_weights;
    double *prior;              /* owned */
    size_t n_prior;
    long threads;               /* -1 = not given */
};

/* --prior: a CSV file of one row or one column if `text` names a file that
 * exists, else a comma-separated list. The values are checked with the loss,
 * by the library. Returns 0, or -1 after printing an error. */
static int loss_read_prior(const char *text, double **out, size_t *n)
{
    FILE *f = fopen(text, "r");
    if (!f)
        return cli_parse_list("--prior", text, out, n);
    fclose(f);
    struct focal_csv_matrix m = { 0, 0, NULL };
    if (focal_csv_read(text, &m) != FOCAL_OK) {
        cli_error("--prior: %s", focal_last_error());
        return -1;
    }
    if (m.rows != 1 && m.cols != 1) {
        cli_error("--prior: %s is %zu x %zu; expected one row or one column of class priors", text, m.rows,
                  m.cols);
        focal_csv_release(&m);
        return -1;
    }
    *n = m.rows * m.cols;
    *out = malloc(*n * sizeof **out);
    if (!*out) {
        cli_error("--prior: out of memory");
        focal_csv_release(&m);
        return -1;
    }
    memcpy(*out, m.data, *n * sizeof **out);
    focal_csv_release(&m);
    return 0;
}

/* Prints the valid type names after an error about --type. */
static void loss_bad_type(const char *text)
{
    fprintf(stderr, "focal: --type: '%s' is not a loss type; expected one of: ", text);
    lossopt_print_kinds(stderr);
    fputc('\n', stderr);
}

/* Parses argv into *job. Returns CLI_EXIT_OK, CLI_EXIT_USAGE after printing an
 * error, or -1 if help was printed (exit 0). */
static int loss_parse(int argc, char **argv, struct loss_job *job)
{
    const char *val[L_N_OPTS] = { 0 };
    struct lossopt lo = { { 0 } };
    struct cli_parser p = { argc, argv, 1, "loss", loss_opts, N_LOSS_OPTS };
    const char *v;
    int id;

    while ((id = cli_next(&p, &v)) != CLI_END) {
        if (id == CLI_BAD)
            return CLI_EXIT_USAGE;
        if (id == L_HELP) {
            cmd_loss_help(stdout);
            return -1;
        }
        if (!lossopt_take(&lo, id, v))
            val[id] = v ? v : "";
    }

    if (!val[L_TYPE]) {
        fputs("focal: loss: --type is required; expected one of: ", stderr);
        lossopt_print_kinds(stderr);
        fputc('\n', stderr);
        return CLI_EXIT_USAGE;
    }
    enum focal_loss_kind kind;
    if (focal_loss_kind_parse(val[L_TYPE], &kind) != FOCAL_OK) {
        loss_bad_type(val[L_TYPE]);
        return CLI_EXIT_USAGE;
    }
    if (!val[L_LOGITS] || !val[L_TARGETS]) {
        cli_error("loss: %s is required (a CSV file; see 'focal loss --help')",
                  val[L_LOGITS] ? "--targets" : "--logits");
        return CLI_EXIT_USAGE;
    }
    job->logits_path = val[L_LOGITS];
    job->targets_path = val[L_TARGETS];
    job->grad_path = val[L_GRAD];
    job->probs = val[L_PROBS] != NULL;
    if (val[L_GRAD] && !*val[L_GRAD]) {
        cli_error("--grad: the file name is empty; expected a path to write the gradient to");
        return CLI_EXIT_USAGE;
    }
    int status = lossopt_apply(&job->l, kind, &lo, "--type", NULL, 1);
    if (status != CLI_EXIT_OK)
        return status;
    job->threads = -1;
    if (val[L_THREADS] && cli_parse_long("--threads", val[L_THREADS], 0, 1024, &job->threads))
        return CLI_EXIT_USAGE;
    if (val[L_CLASS_WEIGHTS]) {
        if (cli_parse_list("--class-weights", val[L_CLASS_WEIGHTS], &job->class_weights,
                           &job->n_class_weights))
            return CLI_EXIT_USAGE; /* their values are checked with the loss, by the library */
    }
    const int wants_prior = (focal_loss_info(kind)->params & FOCAL_PARAM_CLASS_PRIOR) != 0;
    if (val[L_PRIOR] && !wants_prior) {
        fprintf(stderr, "focal: warning: --prior is ignored by --type %s; it is used by ", focal_loss_kind_name(kind));
        const char *sep = "";
        for (int k = 0; k < FOCAL_LOSS_KIND_COUNT; k++)
            if (focal_loss_info((enum focal_loss_kind)k)->params & FOCAL_PARAM_CLASS_PRIOR) {
                fprintf(stderr, "%s%s", sep, focal_loss_kind_name((enum focal_loss_kind)k));
                sep = ", ";
            }
        fputc('\n', stderr);
    } else if (!val[L_PRIOR] && wants_prior) {
        cli_error("--type %s needs --prior: the training split's class %s, one per class (column)",
                  focal_loss_kind_name(kind), kind == FOCAL_LOSS_DB ? "frequencies in (0, 1)" : "counts or frequencies");
        return CLI_EXIT_USAGE;
    } else if (val[L_PRIOR] && loss_read_prior(val[L_PRIOR], &job->prior, &job->n_prior) != 0) {
        return CLI_EXIT_USAGE;
    }
    return CLI_EXIT_OK;
}

/* Prints "focal: " and the library's last error message; returns `status`. */
static int loss_lib_error(int status)
{
    cli_error("%s", focal_last_error());
    return status;
}

/* Checks sigmoid targets (values > 1 are invalid; negatives mean ignore) and,
 * with --probs, turns the probabilities in x into logits. Returns 0 or
 * CLI_EXIT_DATA after printing an error that points into the file. */
static int loss_prepare_sigmoid(const struct loss_job *job, struct focal_csv_matrix *x,
                                const struct focal_csv_matrix *y)
{
    size_t nc = x->rows * x->cols;
    for (size_t i = 0; i < nc; i++) {
        if (y->data[i] > 1.0) {
            csvloc_error(job->targets_path, i / y->cols, i % y->cols, y->data[i],
                         "is out of range; expected a target in [0, 1], or a negative "
                         "value to ignore the element");
            return CLI_EXIT_DATA;
        }
    }
    if (!job->probs)
        return 0;
    for (size_t i = 0; i < nc; i++) {
        double p = x->data[i];
        if (!(p >= 0.0 && p <= 1.0)) {
            csvloc_error(job->logits_path, i / x->cols, i % x->cols, p,
                         "is not a probability; --probs expects values in [0, 1]");
            return CLI_EXIT_DATA;
        }
        if (p < SIGMOID_P_CLAMP)
            p = SIGMOID_P_CLAMP;
        if (p > 1.0 - SIGMOID_P_CLAMP)
            p = 1.0 - SIGMOID_P_CLAMP;
        x->data[i] = log(p) - log1p(-p);
    }
    return 0;
}

/* Checks softmax targets (integers in [0, c) or the ignore index) into t and,
 * with --probs, turns the probabilities in x into log-probabilities. Returns 0
 * or CLI_EXIT_DATA after printing an error that points into the file. */
static int loss_prepare_softmax(const struct loss_job *job, struct focal_csv_matrix *x,
                                const struct focal_csv_matrix *y, int32_t *t)
{
    size_t c = x->cols;
    for (size_t i = 0; i < y->rows; i++) {
        double v = y->data[i];
        if (v != floor(v) || v < (double)INT32_MIN || v > (double)INT32_MAX) {
            csvloc_error(job->targets_path, i, 0, v,
                         "is not an integer class; expected a class index in 0..%zu or the "
                         "ignore index %ld", c - 1, (long)job->l.ignore_index);
            return CLI_EXIT_DATA;
        }
        int32_t k = (int32_t)v;
        if (k != job->l.ignore_index && (k < 0 || (size_t)k >= c)) {
            csvloc_error(job->targets_path, i, 0, v,
                         "is out of range; expected a class index in 0..%zu (the logits have "
                         "%zu columns) or the ignore index %ld", c - 1, c, (long)job->l.ignore_index);
            return CLI_EXIT_DATA;
        }
        t[i] = k;
    }
    if (!job->probs)
        return 0;
    int warned = 0;
    for (size_t i = 0; i < x->rows; i++) {
        double sum = 0.0;
        for (size_t j = 0; j < c; j++) {
            double p = x->data[i * c + j];
            if (!(p >= 0.0 && p <= 1.0)) {
                csvloc_error(job->logits_path, i, j, p,
                             "is not a probability; --probs expects values in [0, 1]");
                return CLI_EXIT_DATA;
            }
            sum += p;
            x->data[i * c + j] = log(p > SOFTMAX_P_MIN ? p : SOFTMAX_P_MIN);
        }
        if (!warned && fabs(sum - 1.0) > ROW_SUM_TOLERANCE) {
            cli_warn("%s: row %zu sums to %g, not 1; the softmax renormalises it "
                     "(further rows are not reported)", job->logits_path, i + 1, sum);
            warned = 1;
        }
    }
    return 0;
}

/* Writes the n×c matrix g to fp as CSV with `digits` significant digits. */
static void loss_write_matrix(FILE *fp, const double *g, size_t n, size_t c, int digits)
{
    for (size_t i = 0; i < n; i++) {
        for (size_t j = 0; j < c; j++)
            fprintf(fp, "%s%.*g", j ? "," : "", digits, g[i * c + j] == 0.0 ? 0.0 : g[i * c + j]);
        fputc('\n', fp);
    }
}

int cmd_loss(int argc, char **argv)
{
    struct loss_job job;
    struct focal_csv_matrix x = { 0, 0, NULL }, y = { 0, 0, NULL };
    struct focal_wfile wf = { NULL, NULL, NULL };
    double *grad = NULL, *per = NULL;
    int32_t *t = NULL;
    int status;

    memset(&job, 0, sizeof job);
    status = loss_parse(argc, argv, &job);
    if (status != CLI_EXIT_OK) {
        free(job.class_weights);
        free(job.prior);
        return status < 0 ? CLI_EXIT_OK : status;
    }
    struct focal_loss *l = &job.l;
    int softmax = focal_loss_is_softmax(l->kind);

    if (focal_csv_read(job.logits_path, &x) != FOCAL_OK ||
        focal_csv_read(job.targets_path, &y) != FOCAL_OK) {
        status = loss_lib_error(CLI_EXIT_DATA);
        goto out;
    }
    size_t n = x.rows, c = x.cols;
    if (softmax) {
        if (y.cols != 1) {
            cli_error("%s has %zu columns; softmax types (--type %s) expect one integer class "
                      "per row (N x 1), e.g. 2 for the third class", job.targets_path, y.cols,
                      focal_loss_kind_name(l->kind));
            status = CLI_EXIT_DATA;
            goto out;
        }
        if (y.rows != n) {
            cli_error("shape mismatch: %s is %zu x %zu but %s has %zu rows; expected one class "
                      "per logits row (%zu x 1)", job.logits_path, n, c, job.targets_path, y.rows, n);
            status = CLI_EXIT_DATA;
            goto out;
        }
    } else if (y.rows != n || y.cols != c) {
        cli_error("shape mismatch: %s is %zu x %zu but %s is %zu x %zu; expected targets of the "
                  "same shape as the logits", job.logits_path, n, c, job.targets_path, y.rows, y.cols);
        status = CLI_EXIT_DATA;
        goto out;
    }
    if (job.class_weights) {
        if (job.n_class_weights != c) {
            cli_error("--class-weights: %zu value%s given, but %s has %zu classes (columns); "
                      "expected exactly %zu", job.n_class_weights, job.n_class_weights == 1 ? "" : "s",
                      job.logits_path, c, c);
            status = CLI_EXIT_USAGE;
            goto out;
        }
        l->class_weights = job.class_weights;
    }
    if (job.prior) {
        if (job.n_prior != c) {
            cli_error("--prior: %zu value%s given, but %s has %zu classes (columns); expected exactly %zu",
                      job.n_prior, job.n_prior == 1 ? "" : "s", job.logits_path, c, c);
            status = CLI_EXIT_USAGE;
            goto out;
        }
        l->class_prior = job.prior;
    }
    if (focal_loss_check(l, c) != FOCAL_OK) {
        status = loss_lib_error(CLI_EXIT_USAGE);
        goto out;
    }

    if (softmax) {
        t = malloc(n * sizeof *t);
        if (!t) {
            cli_error("out of memory for %zu targets", n);
            status = CLI_EXIT_DATA;
            goto out;
        }
        status = loss_prepare_softmax(&job, &x, &y, t);
    } else {
        status = loss_prepare_sigmoid(&job, &x, &y);
    }
    if (status != CLI_EXIT_OK)
        goto out;

    size_t n_per = softmax ? n : n * c;
    if (job.grad_path && !(grad = malloc(n * c * sizeof *grad))) {
        cli_error("out of memory for a %zu x %zu gradient", n, c);
        status = CLI_EXIT_DATA;
        goto out;
    }
    if (l->reduction == FOCAL_REDUCTION_NONE && !(per = malloc(n_per * sizeof *per))) {
        cli_error("out of memory for %zu losses", n_per);
        status = CLI_EXIT_DATA;
        goto out;
    }
    if (job.threads >= 0)
        focal_set_threads((int)job.threads);

    double loss = 0.0;
    focal_status st = softmax
        ? focal_softmax_loss_f64(l, n, c, x.data, t, grad, per, &loss)
        : focal_sigmoid_loss_f64(l, n, c, x.data, y.data, grad, per, &loss);
    if (st != FOCAL_OK) {
        status = loss_lib_error(st == FOCAL_ERR_ARG ? CLI_EXIT_USAGE : CLI_EXIT_DATA);
        goto out;
    }

    if (job.grad_path) {
        if (focal_wfile_open(&wf, job.grad_path) != FOCAL_OK) {
            status = loss_lib_error(CLI_EXIT_DATA);
            goto out;
        }
        loss_write_matrix(wf.fp, grad, n, c, 9);
        if (focal_wfile_commit(&wf) != FOCAL_OK) {
            status = loss_lib_error(CLI_EXIT_DATA);
            goto out;
        }
    }
    if (l->reduction == FOCAL_REDUCTION_NONE)
        loss_write_matrix(stdout, per, n, softmax ? 1 : c, 10);
    else
        printf("%.10g\n", loss);
    status = CLI_EXIT_OK;

out:
    focal_wfile_abort(&wf);
    free(t);
    free(per);
    free(grad);
    focal_csv_release(&x);
    focal_csv_release(&y);
    free(job.class_weights);
    free(job.prior);
    return status;
}
