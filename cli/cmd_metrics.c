/* cmd_metrics.c — `focal metrics`: classification metrics from a CSV file of
 * scores and one of labels, computed by the library (focal_metrics_compute)
 * and printed as a table or as JSON (focal_metrics_write_json). */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "focal.h"
#include "args.h"
#include "commands.h"
#include "metrics_print.h"
#include "csvloc.h"

#define DEFAULT_THRESHOLD 0.5
/* Longest class name the table widens its first column for. */

enum metrics_opt { M_HELP, M_SCORES, M_LABELS, M_TASK, M_THRESHOLD, M_NAMES, M_JSON, M_OUT, M_RIADD, M_N_OPTS };

static const struct cli_opt metrics_opts[] = {
    { "--help", 0, M_HELP },
    { "--scores", 1, M_SCORES },
    { "--labels", 1, M_LABELS },
    { "--task", 1, M_TASK },
    { "--threshold", 1, M_THRESHOLD },
    { "--names", 1, M_NAMES },
    { "--json", 0, M_JSON },
    { "--out", 1, M_OUT },
    { "--riadd", 1, M_RIADD },
};
#define N_METRICS_OPTS (sizeof metrics_opts / sizeof metrics_opts[0])


void cmd_metrics_help(FILE *fp)
{
    fprintf(fp,
"Usage: focal metrics --scores S.csv --labels Y.csv --task TASK [options]\n"
"\n"
"Classification metrics of N samples from CSV files (no header, comma-separated,\n"
"one sample per line; blank lines, CRLF and a UTF-8 byte-order mark are\n"
"accepted), computed as scikit-learn 1.2 does.\n"
"\n"
"Required\n"
"  --task TASK          binary, multiclass or multilabel.\n"
"  --scores FILE        binary: N rows of one score, the positive class's\n"
"                       probability; multiclass: N x C class scores (the\n"
"                       predicted class is the highest, the first of equal ones);\n"
"                       multilabel: N x C label scores. Any finite numbers.\n"
"  --labels FILE        binary: N rows of 0 or 1; multiclass: N rows of one class\n"
"                       index in 0..C-1; multilabel: N x C values 0 or 1.\n"
"\n"
"Options\n"
"  --threshold T | T1,...,TC\n"
"                       binary and multilabel: predict positive when score >= T;\n"
"                       one value for every label or one per label; default %g.\n"
"  --names A,B,...      class names (binary: 2, for classes 0 and 1; else C);\n"
"                       default the class indices 0, 1, ...\n"
"  --riadd COL          multilabel: also the RIADD score, with column COL (an index\n"
"                       from 0, or a name from --names) as Disease_Risk:\n"
"                       0.5 risk AUC + 0.5 (0.5 mAP + 0.5 macro AUC), mAP and AUC\n"
"                       over the other labels.\n"
"  --json               print a JSON object instead of the table: accuracy,\n"
"                       balanced_accuracy, macro_f1, micro_f1, weighted_f1, mcc,\n"
"                       roc_auc_macro, average_precision_macro, per_class (name,\n"
"                       support, precision, recall, f1, roc_auc, average_precision),\n"
"                       thresholds, confusion_matrix, left_out (and riadd).\n"
"                       Numbers have 17 significant digits; undefined ones are null.\n"
"  --out FILE           write to FILE instead of standard output. Written\n"
"                       atomically: after any error FILE is left as it was.\n"
"  --help               show this help.\n"
"\n"
"Definitions\n"
"  Per class: precision, recall, F1 (one vs rest), support (the class's\n"
"  positives), ROC-AUC (tied scores count one half) and average precision\n"
"  (step-wise, no interpolation). binary lists class 0 (scored by the negated\n"
"  score) and class 1; its ROC-AUC and average precision are those of class 1.\n"
"  A class without positive samples has no recall, F1, ROC-AUC or average\n"
"  precision (n/a; null in JSON) and is left out of the macro means; a class\n"
"  without negative samples has no ROC-AUC; a class never predicted has no\n"
"  precision. The output lists the classes left out and why.\n"
"  accuracy: multilabel counts a sample right only when all its labels are.\n"
"  balanced accuracy: mean recall over the classes; multilabel: mean over the\n"
"  labels of (true-positive rate + true-negative rate) / 2.\n"
"  micro F1: over every class's decisions (equals accuracy for one label per\n"
"  sample); weighted F1: weighted by support. MCC: Matthews correlation\n"
"  (multilabel: of all label decisions together).\n"
"\n"
"Example\n"
"  focal metrics --task multilabel --scores val_probs.csv --labels val_labels.csv \\\n"
"                --names DR,ARMD,MH --threshold 0.3,0.5,0.5 --json\n"
"\n"
"Exit status: 0 success; 1 a file could not be read or written, or holds bad\n"
"data; 2 the command line is wrong.\n", DEFAULT_THRESHOLD);
}

/* Everything `focal metrics` was asked to do. */
struct metrics_job {
    enum focal_task task;
    const char *scores_path, *labels_path, *out_path, *riadd_text;
    int json;
    double *thresholds;          /* owned; n_thresholds given */
    size_t n_thresholds;
    char *names_buf;             /* owned copy of --names, cut into names */
    char **names;                /* owned array of n_names pointers into names_buf */
    size_t n_names;
    int riadd_col;               /* −1: no --riadd */
};

static void metrics_job_free(struct metrics_job *job)
{
    free(job->thresholds);
    free(job->names_buf);
    free(job->names);
}

/* Cuts --names into job->names. Returns 0, or −1 after printing an error. */
static int metrics_parse_names(struct metrics_job *job, const char *text)
{
    size_t len = strlen(text), cap = 1;
    for (size_t i = 0; i < len; i++)
        cap += text[i] == ',';
    job->names_buf = malloc(len + 1);
    job->names = malloc(cap * sizeof *job->names);
    if (!job->names_buf || !job->names) {
        cli_error("--names: out of memory");
        return -1;
    }
    memcpy(job->names_buf, text, len + 1);
    char *s = job->names_buf;
    for (size_t k = 0; k < cap; k++) {
        char *e = strchr(s, ',');
        if (e)
            *e = '\0';
        while (*s == ' ' || *s == '\t')
            s++;
        size_t l = strlen(s);
        while (l > 0 && (s[l - 1] == ' ' || s[l - 1] == '\t'))
            s[--l] = '\0';
        if (l == 0) {
            cli_error("--names: name %zu of '%s' is empty; expected comma-separated class names", k + 1, text);
            return -1;
        }
        job->names[k] = s;
        s = e ? e + 1 : s + l;
    }
    job->n_names = cap;
    return 0;
}

/* Parses argv into *job. Returns CLI_EXIT_OK, CLI_EXIT_USAGE after printing an
 * error, or -1 if help was printed (exit 0). */
static int metrics_parse(int argc, char **argv, struct metrics_job *job)
{
    const char *val[M_N_OPTS] = { 0 };
    int seen[M_N_OPTS] = { 0 };
    struct cli_parser p = { argc, argv, 1, "metrics", metrics_opts, N_METRICS_OPTS };
    const char *v;
    int id;

    while ((id = cli_next(&p, &v)) != CLI_END) {
        if (id == CLI_BAD)
            return CLI_EXIT_USAGE;
        if (id == M_HELP) {
            cmd_metrics_help(stdout);
            return -1;
        }
        seen[id] = 1;
        val[id] = v;
    }
    if (!seen[M_TASK]) {
        cli_error("metrics: --task is required; expected binary, multiclass or multilabel");
        return CLI_EXIT_USAGE;
    }
    if (focal_task_parse(val[M_TASK], &job->task) != FOCAL_OK) {
        cli_error("--task: %s", focal_last_error());
        return CLI_EXIT_USAGE;
    }
    if (!seen[M_SCORES] || !seen[M_LABELS]) {
        cli_error("metrics: %s is required (a CSV file; see 'focal metrics --help')",
                  seen[M_SCORES] ? "--labels" : "--scores");
        return CLI_EXIT_USAGE;
    }
    job->scores_path = val[M_SCORES];
    job->labels_path = val[M_LABELS];
    job->json = seen[M_JSON];
    job->out_path = val[M_OUT];
    if (seen[M_OUT] && !*val[M_OUT]) {
        cli_error("--out: the file name is empty; expected a path to write the metrics to");
        return CLI_EXIT_USAGE;
    }
    if (seen[M_THRESHOLD]) {
        if (job->task == FOCAL_TASK_MULTICLASS) {
            cli_error("--threshold does not apply to --task multiclass: the predicted class is the "
                      "highest-scoring one");
            return CLI_EXIT_USAGE;
        }
        if (cli_parse_list("--threshold", val[M_THRESHOLD], &job->thresholds, &job->n_thresholds))
            return CLI_EXIT_USAGE;
    }
    if (seen[M_NAMES] && metrics_parse_names(job, val[M_NAMES]) != 0)
        return CLI_EXIT_USAGE;
    job->riadd_col = -1;
    if (seen[M_RIADD]) {
        if (job->task != FOCAL_TASK_MULTILABEL) {
            cli_error("--riadd applies to --task multilabel only (Disease_Risk is one of the labels)");
            return CLI_EXIT_USAGE;
        }
        job->riadd_text = val[M_RIADD];
    }
    return CLI_EXIT_OK;
}

/* Checks the option values that depend on the number of classes k (score
 * columns c). Returns 0, or CLI_EXIT_USAGE after printing an error. */
static int metrics_check_counts(struct metrics_job *job, size_t c, size_t k)
{
    if (job->n_thresholds > 1 && job->n_thresholds != c) {
        cli_error("--threshold: %zu values given, but %s has %zu columns; expected one value or "
                  "exactly %zu", job->n_thresholds, job->scores_path, c, c);
        return CLI_EXIT_USAGE;
    }
    if (job->names && job->n_names != k) {
        cli_error("--names: %zu name%s given, but there are %zu classes%s; expected exactly %zu",
                  job->n_names, job->n_names == 1 ? "" : "s", k,
                  job->task == FOCAL_TASK_BINARY ? " (binary: classes 0 and 1)" : "", k);
        return CLI_EXIT_USAGE;
    }
    if (job->riadd_text) {
        char *end;
        long col = strtol(job->riadd_text, &end, 10);
        if (end == job->riadd_text || *end) {
            col = -1;
            for (size_t j = 0; job->names && j < job->n_names; j++)
                if (strcmp(job->names[j], job->riadd_text) == 0)
                    col = (long)j;
        }
        if (col < 0 || (size_t)col >= c || c < 2) {
            cli_error("--riadd: '%s' is not a column of %s; expected an index in 0..%zu or a name from "
                      "--names (and at least 2 labels)", job->riadd_text, job->scores_path, c - 1);
            return CLI_EXIT_USAGE;
        }
        job->riadd_col = (int)col;
    }
    return 0;
}

/* Checks the shapes of the two files for the task. Returns 0 or
 * CLI_EXIT_DATA after printing an error. */
static int metrics_check_shapes(const struct metrics_job *job, const struct focal_csv_matrix *s,
                                const struct focal_csv_matrix *y)
{
    if (job->task == FOCAL_TASK_BINARY && s->cols != 1) {
        cli_error("%s has %zu columns; --task binary expects one column, the positive class's score "
                  "(for one score per class use --task multiclass)", job->scores_path, s->cols);
        return CLI_EXIT_DATA;
    }
    if (job->task == FOCAL_TASK_MULTICLASS && s->cols < 2) {
        cli_error("%s has 1 column; --task multiclass expects one score per class, at least 2 "
                  "(for one positive-class score use --task binary)", job->scores_path);
        return CLI_EXIT_DATA;
    }
    size_t want = job->task == FOCAL_TASK_MULTILABEL ? s->cols : 1;
    if (y->cols != want) {
        if (job->task == FOCAL_TASK_MULTILABEL)
            cli_error("shape mismatch: %s is %zu x %zu but %s is %zu x %zu; expected one 0/1 label "
                      "per score", job->scores_path, s->rows, s->cols, job->labels_path, y->rows, y->cols);
        else
            cli_error("%s has %zu columns; --task %s expects one %s per row", job->labels_path, y->cols,
                      focal_task_name(job->task),
                      job->task == FOCAL_TASK_BINARY ? "label, 0 or 1," : "integer class");
        return CLI_EXIT_DATA;
    }
    if (y->rows != s->rows) {
        cli_error("shape mismatch: %s has %zu rows but %s has %zu; expected one label row per score row",
                  job->scores_path, s->rows, job->labels_path, y->rows);
        return CLI_EXIT_DATA;
    }
    if (s->rows > (size_t)INT32_MAX || s->cols > (size_t)(1 << 20)) {
        cli_error("%s: %zu x %zu scores are more than focal metrics handles", job->scores_path, s->rows,
                  s->cols);
        return CLI_EXIT_DATA;
    }
    return 0;
}

/* Converts the label file's values into label (binary/multi-class) or labels
 * (multi-label), pointing at the first invalid one. Returns 0 or CLI_EXIT_DATA. */
static int metrics_read_labels(const struct metrics_job *job, const struct focal_csv_matrix *y, size_t c,
                               int32_t *label, uint8_t *labels)
{
    for (size_t i = 0; i < y->rows * y->cols; i++) {
        double v = y->data[i];
        size_t row = i / y->cols, col = i % y->cols;
        if (job->task == FOCAL_TASK_MULTICLASS) {
            if (v != floor(v)) {
                csvloc_error(job->labels_path, row, col, v, "is not an integer class; expected a class "
                             "index in 0..%zu", c - 1);
                return CLI_EXIT_DATA;
            }
            if (v < 0 || v >= (double)c) {
                csvloc_error(job->labels_path, row, col, v, "is out of range; expected a class index in "
                             "0..%zu (%s has %zu columns)", c - 1, job->scores_path, c);
                return CLI_EXIT_DATA;
            }
            label[i] = (int32_t)v;
        } else {
            if (v != 0.0 && v != 1.0) {
                csvloc_error(job->labels_path, row, col, v, "is not a label; expected 0 or 1");
                return CLI_EXIT_DATA;
            }
            if (labels)
                labels[i] = (uint8_t)v;
            else
                label[i] = (int32_t)v;
        }
    }
    return 0;
}

/* Writes the output (table or JSON) to fp. */
static void metrics_write(FILE *fp, const struct metrics_job *job, const struct focal_metrics *m,
                          const struct focal_riadd *ra)
{
    const char *const *names = (const char *const *)job->names;
    if (job->json) {
        focal_metrics_write_json(fp, m, names, ra, 0);
        fputc('\n', fp);
    } else {
        metrics_print_table(fp, m, names, ra);
    }
}

/* Prints "focal: " and the library's last error message; returns `status`. */
static int metrics_lib_error(int status)
{
    cli_error("%s", focal_last_error());
    return status;
}

int cmd_metrics(int argc, char **argv)
{
    struct metrics_job job;
    struct focal_csv_matrix s = { 0, 0, NULL }, y = { 0, 0, NULL };
    struct focal_wfile wf = { NULL, NULL, NULL };
    struct focal_metrics m;
    struct focal_riadd ra;
    int32_t *label = NULL;
    uint8_t *labels = NULL;
    double *thr = NULL;
    int status;

    memset(&job, 0, sizeof job);
    memset(&m, 0, sizeof m);
    status = metrics_parse(argc, argv, &job);
    if (status != CLI_EXIT_OK) {
        metrics_job_free(&job);
        return status < 0 ? CLI_EXIT_OK : status;
    }
    if (focal_csv_read(job.scores_path, &s) != FOCAL_OK || focal_csv_read(job.labels_path, &y) != FOCAL_OK) {
        status = metrics_lib_error(CLI_EXIT_DATA);
        goto out;
    }
    if ((status = metrics_check_shapes(&job, &s, &y)) != 0)
        goto out;
    size_t n = s.rows, c = s.cols;
    size_t k = job.task == FOCAL_TASK_BINARY ? 2 : c;
    if ((status = metrics_check_counts(&job, c, k)) != 0)
        goto out;

    int multilabel = job.task == FOCAL_TASK_MULTILABEL;
    label = multilabel ? NULL : malloc(n * sizeof *label);
    labels = multilabel ? malloc(n * c) : NULL;
    thr = malloc(c * sizeof *thr);
    if (!thr || (multilabel ? !labels : !label)) {
        cli_error("out of memory for %zu x %zu labels", n, c);
        status = CLI_EXIT_DATA;
        goto out;
    }
    if ((status = metrics_read_labels(&job, &y, c, label, labels)) != 0)
        goto out;
    for (size_t j = 0; j < c; j++)
        thr[j] = !job.thresholds ? DEFAULT_THRESHOLD : job.thresholds[job.n_thresholds > 1 ? j : 0];

    if (focal_metrics_compute(&m, job.task, (int)n, (int)c, s.data, label, labels, thr) != FOCAL_OK ||
        (job.riadd_col >= 0 && focal_riadd_score(&ra, (int)n, (int)c, s.data, labels, job.riadd_col) != FOCAL_OK)) {
        status = metrics_lib_error(CLI_EXIT_DATA);
        goto out;
    }
    const struct focal_riadd *rap = job.riadd_col >= 0 ? &ra : NULL;
    if (job.out_path) {
        if (focal_wfile_open(&wf, job.out_path) != FOCAL_OK) {
            status = metrics_lib_error(CLI_EXIT_DATA);
            goto out;
        }
        metrics_write(wf.fp, &job, &m, rap);
        if (focal_wfile_commit(&wf) != FOCAL_OK) {
            status = metrics_lib_error(CLI_EXIT_DATA);
            goto out;
        }
    } else {
        metrics_write(stdout, &job, &m, rap);
    }
    status = CLI_EXIT_OK;

out:
    focal_wfile_abort(&wf);
    focal_metrics_release(&m);
    free(label);
    free(labels);
    free(thr);
    focal_csv_release(&s);
    focal_csv_release(&y);
    metrics_job_free(&job);
    return status;
}
