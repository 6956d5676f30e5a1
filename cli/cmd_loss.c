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

/* --probs: sigmoid probabilities are clamped to [P, 1 − P] before taking the
 * logit (beyond that float32 cannot tell p from 0 or 1); softmax probabilities
 * are clamped below at SOFTMAX_P_MIN before taking the log. */
#define SIGMOID_P_CLAMP 1e-7
#define SOFTMAX_P_MIN 1e-12
/* --probs, softmax: rows whose sum is further than this from 1 get a warning. */
#define ROW_SUM_TOLERANCE 1e-3

enum loss_opt {
    L_HELP, L_TYPE, L_LOGITS, L_TARGETS, L_ALPHA, L_CLASS_WEIGHTS, L_GAMMA, L_BETA,
    L_GAMMA_POS, L_GAMMA_NEG, L_MARGIN, L_EPSILON, L_REDUCTION, L_LABEL_SMOOTHING,
    L_IGNORE_INDEX, L_GRAD, L_PROBS, L_THREADS, L_N_OPTS
};

static const struct cli_opt loss_opts[] = {
    { "--help", 0, L_HELP },
    { "--type", 1, L_TYPE },
    { "--logits", 1, L_LOGITS },
    { "--targets", 1, L_TARGETS },
    { "--alpha", 1, L_ALPHA },
    { "--class-weights", 1, L_CLASS_WEIGHTS },
    { "--gamma", 1, L_GAMMA },
    { "--beta", 1, L_BETA },
    { "--gamma-pos", 1, L_GAMMA_POS },
    { "--gamma-neg", 1, L_GAMMA_NEG },
    { "--margin", 1, L_MARGIN },
    { "--epsilon", 1, L_EPSILON },
    { "--reduction", 1, L_REDUCTION },
    { "--label-smoothing", 1, L_LABEL_SMOOTHING },
    { "--ignore-index", 1, L_IGNORE_INDEX },
    { "--grad", 1, L_GRAD },
    { "--probs", 0, L_PROBS },
    { "--threads", 1, L_THREADS },
};
#define N_LOSS_OPTS (sizeof loss_opts / sizeof loss_opts[0])

#define KIND_BIT(k) (1u << (unsigned)(k))
#define SIGMOID_KINDS (KIND_BIT(FOCAL_LOSS_BCE) | KIND_BIT(FOCAL_LOSS_SIGMOID_FOCAL) | \
    KIND_BIT(FOCAL_LOSS_FOCAL_STAR) | KIND_BIT(FOCAL_LOSS_ASL) | KIND_BIT(FOCAL_LOSS_SIGMOID_POLY1))
#define SOFTMAX_KINDS (KIND_BIT(FOCAL_LOSS_CE) | KIND_BIT(FOCAL_LOSS_SOFTMAX_FOCAL) | \
    KIND_BIT(FOCAL_LOSS_SOFTMAX_POLY1))

/* The loss kinds (bit set) whose value depends on the option with this id. */
static unsigned loss_opt_kinds(int id)
{
    switch (id) {
    case L_GAMMA:
        return KIND_BIT(FOCAL_LOSS_SIGMOID_FOCAL) | KIND_BIT(FOCAL_LOSS_FOCAL_STAR) |
               KIND_BIT(FOCAL_LOSS_SIGMOID_POLY1) | KIND_BIT(FOCAL_LOSS_SOFTMAX_FOCAL) |
               KIND_BIT(FOCAL_LOSS_SOFTMAX_POLY1);
    case L_BETA:
        return KIND_BIT(FOCAL_LOSS_FOCAL_STAR);
    case L_GAMMA_POS:
    case L_GAMMA_NEG:
    case L_MARGIN:
        return KIND_BIT(FOCAL_LOSS_ASL);
    case L_EPSILON:
        return KIND_BIT(FOCAL_LOSS_SIGMOID_POLY1) | KIND_BIT(FOCAL_LOSS_SOFTMAX_POLY1);
    case L_LABEL_SMOOTHING:
    case L_IGNORE_INDEX:
        return SOFTMAX_KINDS;
    default:
        return SIGMOID_KINDS | SOFTMAX_KINDS;
    }
}

/* The option name of id, e.g. "--gamma". */
static const char *loss_opt_name(int id)
{
    for (size_t i = 0; i < N_LOSS_OPTS; i++)
        if (loss_opts[i].id == id)
            return loss_opts[i].name;
    return "?";
}

/* Writes the names of the kinds in `mask`, comma-separated, to fp. */
static void loss_print_kinds(FILE *fp, unsigned mask)
{
    int first = 1;
    for (int k = 0; k < FOCAL_LOSS_KIND_COUNT; k++) {
        if (!(mask & KIND_BIT(k)))
            continue;
        fprintf(fp, "%s%s", first ? "" : ", ", focal_loss_kind_name((enum focal_loss_kind)k));
        first = 0;
    }
}

void cmd_loss_help(FILE *fp)
{
    struct focal_loss sf, fs, asl, p1, ce;
    focal_loss_init(&sf, FOCAL_LOSS_SIGMOID_FOCAL);
    focal_loss_init(&fs, FOCAL_LOSS_FOCAL_STAR);
    focal_loss_init(&asl, FOCAL_LOSS_ASL);
    focal_loss_init(&p1, FOCAL_LOSS_SIGMOID_POLY1);
    focal_loss_init(&ce, FOCAL_LOSS_CE);

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
"  --logits FILE        N rows x C logits (probabilities with --probs).\n"
"  --targets FILE       sigmoid family: N x C targets in [0, 1] (soft targets\n"
"                       allowed; a negative value ignores that element).\n"
"                       softmax family: N rows of one integer class in 0..C-1, or\n"
"                       the --ignore-index value to ignore that row.\n"
"\n"
"Loss parameters (an option the type does not use is ignored, with a warning)\n", fp);
    fprintf(fp,
"  --alpha A            sigmoid family: positives get weight A, negatives 1 - A;\n"
"                       A in [0, 1]; default %s.\n"
"                       A = 0.25 down-weights the positives.\n"
"                       softmax family: A >= 0 only rescales the loss; balance\n"
"                       classes with --class-weights instead.\n"
"  --class-weights W1,...,WC\n"
"                       one weight >= 0 per class (column), exactly C of them;\n"
"                       multiplies each element's loss (sigmoid) or each row's\n"
"                       loss by the weight of its target class (softmax);\n"
"                       default all 1.\n"
"  --gamma G            focusing parameter, G >= 0 (focal-star: G > 0); default %g\n"
"                       (sigmoid-focal, focal-star, sigmoid-poly1, softmax-focal,\n"
"                       softmax-poly1). G = 0 gives cross-entropy back.\n"
"  --beta B             focal-star shift, any number; default %g.\n"
"  --gamma-pos G        asl focusing on positives, G >= 0; default %g.\n"
"  --gamma-neg G        asl focusing on negatives, G >= 0; default %g.\n"
"  --margin M           asl probability margin for negatives, M in [0, 1);\n"
"                       default %g.\n"
"  --epsilon E          poly-1 coefficient, any number; default %g.\n"
"  --label-smoothing S  softmax family: smoothing, S in [0, 1); default %g.\n"
"  --ignore-index K     softmax family: the target value of an ignored row, an\n"
"                       integer; default %ld.\n",
            sf.alpha < 0 ? "off (weight 1 for both)" : "on", sf.gamma, fs.beta,
            asl.gamma_pos, asl.gamma_neg, asl.margin, p1.epsilon, ce.label_smoothing,
            (long)ce.ignore_index);
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
    long threads;               /* -1 = not given */
};

/* Prints the valid type names after an error about --type. */
static void loss_bad_type(const char *text)
{
    fprintf(stderr, "focal: --type: '%s' is not a loss type; expected one of: ", text);
    loss_print_kinds(stderr, SIGMOID_KINDS | SOFTMAX_KINDS);
    fputc('\n', stderr);
}

/* Parses argv into *job. Returns CLI_EXIT_OK, CLI_EXIT_USAGE after printing an
 * error, or -1 if help was printed (exit 0). */
static int loss_parse(int argc, char **argv, struct loss_job *job)
{
    const char *val[L_N_OPTS] = { 0 };
    int seen[L_N_OPTS] = { 0 };
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
        seen[id] = 1;
        val[id] = v;
    }

    if (!seen[L_TYPE]) {
        fputs("focal: loss: --type is required; expected one of: ", stderr);
        loss_print_kinds(stderr, SIGMOID_KINDS | SOFTMAX_KINDS);
        fputc('\n', stderr);
        return CLI_EXIT_USAGE;
    }
    enum focal_loss_kind kind;
    if (focal_loss_kind_parse(val[L_TYPE], &kind) != FOCAL_OK) {
        loss_bad_type(val[L_TYPE]);
        return CLI_EXIT_USAGE;
    }
    if (!seen[L_LOGITS] || !seen[L_TARGETS]) {
        cli_error("loss: %s is required (a CSV file; see 'focal loss --help')",
                  seen[L_LOGITS] ? "--targets" : "--logits");
        return CLI_EXIT_USAGE;
    }
    job->logits_path = val[L_LOGITS];
    job->targets_path = val[L_TARGETS];
    job->grad_path = val[L_GRAD];
    job->probs = seen[L_PROBS];
    if (seen[L_GRAD] && !*val[L_GRAD]) {
        cli_error("--grad: the file name is empty; expected a path to write the gradient to");
        return CLI_EXIT_USAGE;
    }

    struct focal_loss *l = &job->l;
    focal_loss_init(l, kind);
    int softmax = focal_loss_is_softmax(kind);

    if (seen[L_REDUCTION] && focal_reduction_parse(val[L_REDUCTION], &l->reduction) != FOCAL_OK) {
        fprintf(stderr, "focal: --reduction: '%s' is not a reduction; expected ", val[L_REDUCTION]);
        for (int r = 0; r < FOCAL_REDUCTION_COUNT; r++)
            fprintf(stderr, "%s%s", r == 0 ? "" : (r + 1 == FOCAL_REDUCTION_COUNT ? " or " : ", "),
                    focal_reduction_name((enum focal_reduction)r));
        fputc('\n', stderr);
        return CLI_EXIT_USAGE;
    }
    if (seen[L_ALPHA]) {
        if (softmax) {
            if (cli_parse_double_in("--alpha", val[L_ALPHA], 0.0, 0, HUGE_VAL, 0,
                                    "a number >= 0 (softmax types)", &l->alpha))
                return CLI_EXIT_USAGE;
        } else if (cli_parse_double_in("--alpha", val[L_ALPHA], 0.0, 0, 1.0, 0,
                                       "a number in [0, 1]", &l->alpha)) {
            return CLI_EXIT_USAGE;
        }
    }
    if (seen[L_GAMMA]) {
        if (kind == FOCAL_LOSS_FOCAL_STAR) {
            if (cli_parse_double_in("--gamma", val[L_GAMMA], 0.0, 1, HUGE_VAL, 0,
                                    "a number > 0 for focal-star", &l->gamma))
                return CLI_EXIT_USAGE;
        } else if (cli_parse_double_in("--gamma", val[L_GAMMA], 0.0, 0, HUGE_VAL, 0,
                                       "a number >= 0", &l->gamma)) {
            return CLI_EXIT_USAGE;
        }
    }
    if (seen[L_BETA] && cli_parse_double("--beta", val[L_BETA], &l->beta))
        return CLI_EXIT_USAGE;
    if (seen[L_GAMMA_POS] && cli_parse_double_in("--gamma-pos", val[L_GAMMA_POS], 0.0, 0, HUGE_VAL, 0,
                                                 "a number >= 0", &l->gamma_pos))
        return CLI_EXIT_USAGE;
    if (seen[L_GAMMA_NEG] && cli_parse_double_in("--gamma-neg", val[L_GAMMA_NEG], 0.0, 0, HUGE_VAL, 0,
                                                 "a number >= 0", &l->gamma_neg))
        return CLI_EXIT_USAGE;
    if (seen[L_MARGIN] && cli_parse_double_in("--margin", val[L_MARGIN], 0.0, 0, 1.0, 1,
                                              "a number in [0, 1)", &l->margin))
        return CLI_EXIT_USAGE;
    if (seen[L_EPSILON] && cli_parse_double("--epsilon", val[L_EPSILON], &l->epsilon))
        return CLI_EXIT_USAGE;
    if (seen[L_LABEL_SMOOTHING] &&
        cli_parse_double_in("--label-smoothing", val[L_LABEL_SMOOTHING], 0.0, 0, 1.0, 1,
                            "a number in [0, 1)", &l->label_smoothing))
        return CLI_EXIT_USAGE;
    if (seen[L_IGNORE_INDEX]) {
        long k;
        if (cli_parse_long("--ignore-index", val[L_IGNORE_INDEX], INT32_MIN, INT32_MAX, &k))
            return CLI_EXIT_USAGE;
        l->ignore_index = (int32_t)k;
    }
    job->threads = -1;
    if (seen[L_THREADS] && cli_parse_long("--threads", val[L_THREADS], 0, 1024, &job->threads))
        return CLI_EXIT_USAGE;
    if (seen[L_CLASS_WEIGHTS]) {
        if (cli_parse_list("--class-weights", val[L_CLASS_WEIGHTS], &job->class_weights,
                           &job->n_class_weights))
            return CLI_EXIT_USAGE;
        for (size_t j = 0; j < job->n_class_weights; j++) {
            if (!(job->class_weights[j] >= 0.0)) {
                cli_error("--class-weights: weight %zu is %g; expected weights >= 0",
                          j + 1, job->class_weights[j]);
                return CLI_EXIT_USAGE;
            }
        }
    }

    /* Options the chosen loss does not use: say so, and keep the library's
     * default for them, so that the loss is exactly the one documented. */
    struct focal_loss dflt;
    focal_loss_init(&dflt, kind);
    for (int o = 0; o < L_N_OPTS; o++) {
        if (!seen[o])
            continue;
        if (o == L_ALPHA && softmax) {
            cli_warn("--alpha: a scalar alpha only rescales a softmax loss (every row is "
                     "multiplied by %g); per-class weighting is --class-weights W1,...,WC", l->alpha);
            continue;
        }
        if (loss_opt_kinds(o) & KIND_BIT(kind))
            continue;
        fprintf(stderr, "focal: warning: %s is ignored by --type %s; it is used by ",
                loss_opt_name(o), focal_loss_kind_name(kind));
        loss_print_kinds(stderr, loss_opt_kinds(o));
        fputc('\n', stderr);
        switch (o) {
        case L_GAMMA: l->gamma = dflt.gamma; break;
        case L_BETA: l->beta = dflt.beta; break;
        case L_GAMMA_POS: l->gamma_pos = dflt.gamma_pos; break;
        case L_GAMMA_NEG: l->gamma_neg = dflt.gamma_neg; break;
        case L_MARGIN: l->margin = dflt.margin; break;
        case L_EPSILON: l->epsilon = dflt.epsilon; break;
        case L_LABEL_SMOOTHING: l->label_smoothing = dflt.label_smoothing; break;
        case L_IGNORE_INDEX: l->ignore_index = dflt.ignore_index; break;
        default: break;
        }
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
    focal_csv_free(&x);
    focal_csv_free(&y);
    free(job.class_weights);
    return status;
}
