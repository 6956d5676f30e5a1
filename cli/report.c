/* report.c — the experiment report declared in report.h: reads an experiment
 * folder (results.json and its run folders) into a struct rp, then writes
 * report.html, report.md and the report-<name>.svg charts from it. */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "focal.h"
#include "args.h"
#include "report.h"
#include "svg.h"

/* The largest input file read whole (results.json, metrics.json, CSVs). */
#define RP_MAX_FILE ((size_t)1 << 28)
/* The most epochs a history may hold. */
#define RP_MAX_EPOCHS 100000
/* Points of the focal-loss curve, at p_t = k / RP_FL_POINTS. */
#define RP_FL_POINTS 500
/* At most this many rarest classes get a precision-recall chart. */
#define RP_MAX_RARE 3
/* Training curves get a dot per epoch up to this many epochs. */
#define RP_MARKER_EPOCHS 30

/* mean ± std of one metric; NaN where undefined. */
struct rp_stat {
    double mean, std;
};

/* One run folder's numbers. */
struct rp_run {
    char *path;                  /* dir/<run> */
    size_t n_epochs;             /* history rows */
    double *epoch, *loss, *sel;  /* n_epochs each: epoch number, training loss, selection metric */
    double *ap[2];               /* per class of results.json (n_classes): val, test (NULL if absent) */
    int64_t *cm[2];              /* n_classes² confusion counts (rows true), val and test; NULL if absent */
};

/* A precision-recall curve of one class from one run's scores. */
struct rp_pr {
    size_t n;                    /* points */
    double *recall, *precision;  /* drawn as a step function */
    double ap;                   /* average precision; NaN without positives */
    long positives, samples;
};

/* One method of results.json and what its run folders hold. */
struct rp_method {
    const char *name, *spec;     /* owned by the cJSON tree */
    const cJSON *stats[2];       /* "val" and "test" objects (test may be NULL) */
    size_t n_runs;
    struct rp_run *runs;
    struct rp_pr pr[RP_MAX_RARE];
    const char *color;
};

/* The grid of a tune. */
struct rp_grid {
    size_t n_gammas, n_alphas;
    double *gammas, *alphas;
    struct rp_stat *cells;       /* n_gammas × n_alphas; NaN where missing */
    double best_gamma, best_alpha;
    int folds;
    const char *metric_label;
    const cJSON *test;           /* {metric: value} or NULL */
};

/* Everything the report shows. */
struct rp {
    const char *dir;
    char *err;
    size_t errlen;
    cJSON *root;
    const char *kind, *task, *data, *sentence;
    const char *sel_key, *sel_label;  /* the validation metric that chose */
    const char *sel_column;           /* its history.csv column */
    int seeds;
    size_t n_classes;
    const char **class_names;
    double *train_counts;
    size_t *order;                    /* class indices, most frequent first */
    size_t n_metrics;
    const char **metric_keys, **metric_labels;
    size_t n_rare;
    size_t rare[RP_MAX_RARE];
    size_t n_methods;
    struct rp_method *methods;
    int best;                         /* index of the chosen method, or -1 */
    double gamma;                     /* NaN: no focal-loss curve */
    int split;                        /* 1: per-class charts from the test split, 0: validation */
    int have_test_stats;              /* some method has test numbers */
    int tune;
    struct rp_grid grid;
};

/* ---- errors and small helpers -------------------------------------------------------- */

/* Formats the message into r->err (cut to fit) and returns -1. */
static int rp_fail(struct rp *r, const char *fmt, ...) CLI_PRINTF(2, 3);
static int rp_fail(struct rp *r, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->err, r->errlen, fmt, ap);
    va_end(ap);
    return -1;
}

/* "a/b" in a new string, or NULL when out of memory. */
static char *rp_join(const char *a, const char *b)
{
    size_t n = strlen(a) + strlen(b) + 2;
    char *s = malloc(n);
    if (s)
        snprintf(s, n, "%s/%s", a, b);
    return s;
}

/* The whole file at path as a NUL-terminated string in *text (caller frees),
 * its length in *len. Returns 0, or -1 with the error in r. */
static int rp_read_file(struct rp *r, const char *path, char **text, size_t *len)
{
    *text = NULL;
    FILE *fp = fopen(path, "rb");
    if (!fp)
        return rp_fail(r, "%s: cannot open: %s", path, strerror(errno));
    struct stat st;
    if (fstat(fileno(fp), &st) != 0 || !S_ISREG(st.st_mode)) {
        fclose(fp);
        return rp_fail(r, "%s: not a regular file", path);
    }
    if ((uint64_t)st.st_size > RP_MAX_FILE) {
        fclose(fp);
        return rp_fail(r, "%s: too large (%lld bytes; at most %zu)", path, (long long)st.st_size, RP_MAX_FILE);
    }
    size_t n = (size_t)st.st_size;
    char *buf = malloc(n + 1);
    if (!buf) {
        fclose(fp);
        return rp_fail(r, "%s: out of memory", path);
    }
    size_t got = fread(buf, 1, n, fp);
    int bad = ferror(fp);
    fclose(fp);
    if (bad || got != n) {
        free(buf);
        return rp_fail(r, "%s: read error", path);
    }
    buf[n] = '\0';
    *text = buf;
    *len = n;
    return 0;
}

/* Parses the JSON file at path into *out. Returns 0, or -1 naming the line
 * and column where the JSON stops being valid. */
static int rp_read_json(struct rp *r, const char *path, cJSON **out)
{
    char *text;
    size_t len;
    *out = NULL;
    if (rp_read_file(r, path, &text, &len) != 0)
        return -1;
    const char *end = NULL;
    cJSON *o = cJSON_ParseWithLengthOpts(text, len, &end, 0);
    if (!o) {
        size_t line = 1, col = 1;
        for (const char *p = text; end && p < end && p < text + len; p++) {
            if (*p == '\n') {
                line++;
                col = 1;
            } else {
                col++;
            }
        }
        free(text);
        return rp_fail(r, "%s:%zu:%zu: malformed JSON", path, line, col);
    }
    free(text);
    *out = o;
    return 0;
}

/* A JSON number, or NaN for null, a missing member or anything else. */
static double rp_num(const cJSON *o)
{
    return cJSON_IsNumber(o) ? o->valuedouble : NAN;
}

/* ---- results.json ------------------------------------------------------------------------ */

/* The string member `key` of object o into *out. Returns 0, or -1 naming
 * file and member (`where` prefixes the member, e.g. "methods[2]."). A
 * missing optional member gives `dflt`. */
static int rp_str(struct rp *r, const char *file, const cJSON *o, const char *where, const char *key,
                  const char *dflt, const char **out)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    if (!v && dflt) {
        *out = dflt;
        return 0;
    }
    if (!cJSON_IsString(v))
        return rp_fail(r, "%s: %s%s: %s; expected a string", file, where, key, v ? "not a string" : "missing");
    *out = v->valuestring;
    return 0;
}

/* The non-empty array of strings `key` of o: *n entries into a new array
 * *out of pointers into the tree (caller frees the array). */
static int rp_str_array(struct rp *r, const char *file, const cJSON *o, const char *where, const char *key,
                        int allow_empty, const char ***out, size_t *n)
{
    const cJSON *a = cJSON_GetObjectItemCaseSensitive(o, key);
    *out = NULL;
    *n = 0;
    if (!cJSON_IsArray(a))
        return rp_fail(r, "%s: %s%s: %s; expected an array of strings", file, where, key,
                       a ? "not an array" : "missing");
    size_t k = (size_t)cJSON_GetArraySize(a);
    if (k == 0 && !allow_empty)
        return rp_fail(r, "%s: %s%s: empty; expected at least one string", file, where, key);
    *out = calloc(k ? k : 1, sizeof **out);
    if (!*out)
        return rp_fail(r, "%s: out of memory", file);
    size_t i = 0;
    const cJSON *e;
    cJSON_ArrayForEach(e, a) {
        if (!cJSON_IsString(e)) {
            free(*out);
            *out = NULL;
            return rp_fail(r, "%s: %s%s[%zu]: not a string", file, where, key, i);
        }
        (*out)[i++] = e->valuestring;
    }
    *n = k;
    return 0;
}

/* The array of numbers `key` of o into a new array *out of *n values. */
static int rp_num_array(struct rp *r, const char *file, const cJSON *o, const char *where, const char *key,
                        double **out, size_t *n)
{
    const cJSON *a = cJSON_GetObjectItemCaseSensitive(o, key);
    *out = NULL;
    *n = 0;
    if (!cJSON_IsArray(a) || cJSON_GetArraySize(a) == 0)
        return rp_fail(r, "%s: %s%s: %s; expected a non-empty array of numbers", file, where, key,
                       !a ? "missing" : cJSON_IsArray(a) ? "empty" : "not an array");
    size_t k = (size_t)cJSON_GetArraySize(a), i = 0;
    *out = malloc(k * sizeof **out);
    if (!*out)
        return rp_fail(r, "%s: out of memory", file);
    const cJSON *e;
    cJSON_ArrayForEach(e, a) {
        if (!cJSON_IsNumber(e) || !isfinite(e->valuedouble)) {
            free(*out);
            *out = NULL;
            return rp_fail(r, "%s: %s%s[%zu]: not a number", file, where, key, i);
        }
        (*out)[i++] = e->valuedouble;
    }
    *n = k;
    return 0;
}

/* The index of class `name`, or -1. */
static long rp_class(const struct rp *r, const char *name)
{
    for (size_t j = 0; j < r->n_classes; j++)
        if (strcmp(r->class_names[j], name) == 0)
            return (long)j;
    return -1;
}

/* The history.csv column of a selection metric ("auto" as the library
 * resolves it), or NULL. */
static const char *rp_history_column(const char *key, const char *task)
{
    static const struct {
        const char *key, *column;
    } cols[] = {
        { "map", "val_map" }, { "auc", "val_auc" }, { "macro_f1", "val_macro_f1" },
        { "macro-f1", "val_macro_f1" }, { "balanced_accuracy", "val_balanced_accuracy" },
        { "balanced-accuracy", "val_balanced_accuracy" }, { "accuracy", "val_accuracy" },
        { "loss", "val_loss" },
    };
    if (strcmp(key, "auto") == 0)
        return strcmp(task, "multilabel") == 0 ? "val_map" : "val_auc";
    for (size_t i = 0; i < sizeof cols / sizeof cols[0]; i++)
        if (strcmp(cols[i].key, key) == 0)
            return cols[i].column;
    return NULL;
}

/* The label results.json gives metric key, or the key itself. */
static const char *rp_label(const struct rp *r, const char *key)
{
    const cJSON *labels = cJSON_GetObjectItemCaseSensitive(r->root, "metric_labels");
    const cJSON *l = cJSON_GetObjectItemCaseSensitive(labels, key);
    return cJSON_IsString(l) ? l->valuestring : key;
}

/* The γ × α grid of a tune. */
static int rp_read_grid(struct rp *r, const char *file)
{
    const cJSON *g = cJSON_GetObjectItemCaseSensitive(r->root, "grid");
    struct rp_grid *G = &r->grid;
    if (!cJSON_IsObject(g))
        return rp_fail(r, "%s: grid: %s; a tune needs its grid object", file, g ? "not an object" : "missing");
    if (rp_num_array(r, file, g, "grid.", "gammas", &G->gammas, &G->n_gammas) != 0 ||
        rp_num_array(r, file, g, "grid.", "alphas", &G->alphas, &G->n_alphas) != 0)
        return -1;
    G->cells = malloc(G->n_gammas * G->n_alphas * sizeof *G->cells);
    if (!G->cells)
        return rp_fail(r, "%s: out of memory", file);
    for (size_t i = 0; i < G->n_gammas * G->n_alphas; i++)
        G->cells[i] = (struct rp_stat){ NAN, NAN };
    const cJSON *cells = cJSON_GetObjectItemCaseSensitive(g, "cells");
    if (!cJSON_IsArray(cells))
        return rp_fail(r, "%s: grid.cells: %s; expected an array of {gamma, alpha, mean, std}", file,
                       cells ? "not an array" : "missing");
    size_t k = 0;
    const cJSON *c;
    cJSON_ArrayForEach(c, cells) {
        double gm = rp_num(cJSON_GetObjectItemCaseSensitive(c, "gamma"));
        double al = rp_num(cJSON_GetObjectItemCaseSensitive(c, "alpha"));
        size_t gi = 0, ai = 0;
        while (gi < G->n_gammas && G->gammas[gi] != gm)
            gi++;
        while (ai < G->n_alphas && G->alphas[ai] != al)
            ai++;
        if (gi == G->n_gammas || ai == G->n_alphas)
            return rp_fail(r, "%s: grid.cells[%zu]: gamma and alpha must be values of grid.gammas and grid.alphas",
                           file, k);
        G->cells[gi * G->n_alphas + ai] = (struct rp_stat){ rp_num(cJSON_GetObjectItemCaseSensitive(c, "mean")),
                                                            rp_num(cJSON_GetObjectItemCaseSensitive(c, "std")) };
        k++;
    }
    const cJSON *b = cJSON_GetObjectItemCaseSensitive(g, "best");
    G->best_gamma = rp_num(cJSON_GetObjectItemCaseSensitive(b, "gamma"));
    G->best_alpha = rp_num(cJSON_GetObjectItemCaseSensitive(b, "alpha"));
    double folds = rp_num(cJSON_GetObjectItemCaseSensitive(g, "folds"));
    G->folds = folds >= 1.0 && folds <= 1e6 ? (int)folds : 0;
    const cJSON *m = cJSON_GetObjectItemCaseSensitive(g, "metric");
    G->metric_label = cJSON_IsString(m) ? rp_label(r, m->valuestring) : r->sel_label;
    G->test = cJSON_GetObjectItemCaseSensitive(g, "test");
    if (G->test && !cJSON_IsObject(G->test))
        G->test = NULL;
    return 0;
}

/* Reads and checks DIR/results.json into r (not yet the run folders). */
static int rp_read_results(struct rp *r)
{
    char *file = rp_join(r->dir, "results.json");
    if (!file)
        return rp_fail(r, "out of memory");
    int st = -1;
    if (rp_read_json(r, file, &r->root) != 0)
        goto out;
    if (!cJSON_IsObject(r->root)) {
        rp_fail(r, "%s: not a JSON object", file);
        goto out;
    }
    if (rp_str(r, file, r->root, "", "kind", NULL, &r->kind) != 0 ||
        rp_str(r, file, r->root, "", "task", NULL, &r->task) != 0 ||
        rp_str(r, file, r->root, "", "data", "", &r->data) != 0 ||
        rp_str(r, file, r->root, "", "select", NULL, &r->sel_key) != 0)
        goto out;
    if (strcmp(r->kind, "compare") != 0 && strcmp(r->kind, "tune") != 0) {
        rp_fail(r, "%s: kind: '%s'; expected compare or tune", file, r->kind);
        goto out;
    }
    r->tune = strcmp(r->kind, "tune") == 0;
    if (strcmp(r->task, "binary") != 0 && strcmp(r->task, "multiclass") != 0 &&
        strcmp(r->task, "multilabel") != 0) {
        rp_fail(r, "%s: task: '%s'; expected binary, multiclass or multilabel", file, r->task);
        goto out;
    }
    if (!(r->sel_column = rp_history_column(r->sel_key, r->task))) {
        rp_fail(r, "%s: select: '%s' is not a validation metric of history.csv; expected map, auc, "
                "macro_f1, balanced_accuracy, accuracy or loss", file, r->sel_key);
        goto out;
    }
    r->sel_label = rp_label(r, r->sel_key);
    double seeds = rp_num(cJSON_GetObjectItemCaseSensitive(r->root, "seeds"));
    r->seeds = seeds >= 1.0 && seeds <= 1e6 ? (int)seeds : 0;

    size_t n_counts;
    if (rp_str_array(r, file, r->root, "", "class_names", 0, &r->class_names, &r->n_classes) != 0 ||
        rp_num_array(r, file, r->root, "", "train_counts", &r->train_counts, &n_counts) != 0)
        goto out;
    if (n_counts != r->n_classes) {
        rp_fail(r, "%s: train_counts has %zu values for %zu class_names", file, n_counts, r->n_classes);
        goto out;
    }
    r->order = malloc(r->n_classes * sizeof *r->order);
    if (!r->order) {
        rp_fail(r, "out of memory");
        goto out;
    }
    /* most frequent first; equal counts keep the data's order (insertion sort is stable) */
    for (size_t j = 0; j < r->n_classes; j++) {
        size_t k = j;
        while (k > 0 && r->train_counts[r->order[k - 1]] < r->train_counts[j]) {
            r->order[k] = r->order[k - 1];
            k--;
        }
        r->order[k] = j;
    }
    if (rp_str_array(r, file, r->root, "", "metrics", 0, &r->metric_keys, &r->n_metrics) != 0)
        goto out;
    r->metric_labels = malloc(r->n_metrics * sizeof *r->metric_labels);
    if (!r->metric_labels) {
        rp_fail(r, "out of memory");
        goto out;
    }
    for (size_t k = 0; k < r->n_metrics; k++)
        r->metric_labels[k] = rp_label(r, r->metric_keys[k]);

    const char **rare = NULL;
    size_t n_rare = 0;
    if (rp_str_array(r, file, r->root, "", "rarest", 1, &rare, &n_rare) != 0)
        goto out;
    for (size_t k = 0; k < n_rare && k < RP_MAX_RARE; k++) {
        long j = rp_class(r, rare[k]);
        if (j < 0) {
            rp_fail(r, "%s: rarest[%zu]: '%s' is not one of class_names", file, k, rare[k]);
            free(rare);
            goto out;
        }
        r->rare[r->n_rare++] = (size_t)j;
    }
    free(rare);

    const cJSON *methods = cJSON_GetObjectItemCaseSensitive(r->root, "methods");
    if (!cJSON_IsArray(methods) || cJSON_GetArraySize(methods) == 0) {
        rp_fail(r, "%s: methods: %s; expected a non-empty array of methods", file,
                !methods ? "missing" : cJSON_IsArray(methods) ? "empty" : "not an array");
        goto out;
    }
    r->n_methods = (size_t)cJSON_GetArraySize(methods);
    r->methods = calloc(r->n_methods, sizeof *r->methods);
    if (!r->methods) {
        rp_fail(r, "out of memory");
        goto out;
    }
    size_t i = 0;
    const cJSON *mo;
    cJSON_ArrayForEach(mo, methods) {
        struct rp_method *m = &r->methods[i];
        char where[48];
        snprintf(where, sizeof where, "methods[%zu].", i);
        const char **runs;
        if (!cJSON_IsObject(mo)) {
            rp_fail(r, "%s: methods[%zu]: not an object", file, i);
            goto out;
        }
        if (rp_str(r, file, mo, where, "name", NULL, &m->name) != 0 ||
            rp_str(r, file, mo, where, "spec", "", &m->spec) != 0 ||
            rp_str_array(r, file, mo, where, "runs", 0, &runs, &m->n_runs) != 0)
            goto out;
        m->runs = calloc(m->n_runs, sizeof *m->runs);
        for (size_t k = 0; m->runs && k < m->n_runs; k++)
            if (!(m->runs[k].path = rp_join(r->dir, runs[k]))) {
                free(runs);
                rp_fail(r, "out of memory");
                goto out;
            }
        free(runs);
        if (!m->runs) {
            rp_fail(r, "out of memory");
            goto out;
        }
        for (size_t k = 0; k < i; k++)
            if (strcmp(r->methods[k].name, m->name) == 0) {
                rp_fail(r, "%s: methods[%zu].name: '%s' is also the name of methods[%zu]", file, i, m->name, k);
                goto out;
            }
        m->stats[0] = cJSON_GetObjectItemCaseSensitive(mo, "val");
        m->stats[1] = cJSON_GetObjectItemCaseSensitive(mo, "test");
        if (!cJSON_IsObject(m->stats[0])) {
            rp_fail(r, "%s: methods[%zu].val: %s; expected an object of {mean, std} per metric", file, i,
                    m->stats[0] ? "not an object" : "missing");
            goto out;
        }
        if (!cJSON_IsObject(m->stats[1]))
            m->stats[1] = NULL;
        r->have_test_stats |= m->stats[1] != NULL;
        m->color = svg_color(i);
        i++;
    }

    const cJSON *best = cJSON_GetObjectItemCaseSensitive(r->root, "best");
    const char *best_name;
    if (!cJSON_IsObject(best)) {
        rp_fail(r, "%s: best: %s; expected an object with method and sentence", file,
                best ? "not an object" : "missing");
        goto out;
    }
    if (rp_str(r, file, best, "best.", "method", NULL, &best_name) != 0 ||
        rp_str(r, file, best, "best.", "sentence", NULL, &r->sentence) != 0)
        goto out;
    r->best = -1;
    for (size_t k = 0; k < r->n_methods; k++)
        if (strcmp(r->methods[k].name, best_name) == 0)
            r->best = (int)k;
    if (r->best < 0 && *best_name) {
        rp_fail(r, "%s: best.method: '%s' is not the name of any method", file, best_name);
        goto out;
    }
    const cJSON *g = cJSON_GetObjectItemCaseSensitive(r->root, "gamma");
    r->gamma = NAN;
    if (g && !cJSON_IsNull(g)) {
        if (!cJSON_IsNumber(g) || !(g->valuedouble >= 0.0) || !isfinite(g->valuedouble)) {
            rp_fail(r, "%s: gamma: expected a number >= 0 or null", file);
            goto out;
        }
        r->gamma = g->valuedouble;
    }
    if (r->tune && rp_read_grid(r, file) != 0)
        goto out;
    st = 0;
out:
    free(file);
    return st;
}

/* ---- run folders ---------------------------------------------------------------------------- */

/* Splits line (modified in place) at commas into at most max fields; returns
 * the number of fields, or max + 1 if there are more. */
static size_t rp_fields(char *line, char **f, size_t max)
{
    size_t n = 0;
    for (char *p = line;; p++) {
        if (n == max)
            return max + 1;
        f[n++] = p;
        p = strchr(p, ',');
        if (!p)
            return n;
        *p = '\0';
    }
}

/* The next line of the text at *p (CR and LF stripped), or NULL at the end. */
static char *rp_next_line(char **p)
{
    char *s = *p;
    if (!s || !*s)
        return NULL;
    char *nl = strchr(s, '\n');
    if (nl) {
        *nl = '\0';
        *p = nl + 1;
    } else {
        *p = s + strlen(s);
    }
    size_t n = strlen(s);
    if (n && s[n - 1] == '\r')
        s[n - 1] = '\0';
    return s;
}

/* Parses a CSV field as a number; empty = NaN. Returns 0, or -1 if it is not one. */
static int rp_field_num(const char *s, double *v)
{
    char *end;
    if (!*s) {
        *v = NAN;
        return 0;
    }
    errno = 0;
    *v = strtod(s, &end);
    return *end || end == s ? -1 : 0;
}

/* Resizes the array *a to cap values (kept on failure). Returns 0 or -1. */
static int rp_grow(double **a, size_t cap)
{
    double *b = realloc(*a, cap * sizeof *b);
    if (!b)
        return -1;
    *a = b;
    return 0;
}

/* run/history.csv: the epoch, training-loss and selection-metric columns. */
static int rp_read_history(struct rp *r, struct rp_run *run)
{
    char *path = rp_join(run->path, "history.csv"), *text = NULL, *fields[64];
    size_t len, n_rows = 0, cap = 0;
    int st = -1;
    if (!path)
        return rp_fail(r, "out of memory");
    if (rp_read_file(r, path, &text, &len) != 0)
        goto out;
    char *p = text, *line = rp_next_line(&p);
    if (!line) {
        rp_fail(r, "%s: empty; expected a header line and one row per epoch", path);
        goto out;
    }
    size_t nh = rp_fields(line, fields, 64);
    long c_epoch = -1, c_loss = -1, c_sel = -1;
    if (nh > 64) {
        rp_fail(r, "%s: more than 64 columns; expected a training history", path);
        goto out;
    }
    for (size_t k = 0; k < nh; k++) {
        if (strcmp(fields[k], "epoch") == 0)
            c_epoch = (long)k;
        else if (strcmp(fields[k], "train_loss") == 0)
            c_loss = (long)k;
        if (strcmp(fields[k], r->sel_column) == 0)
            c_sel = (long)k;
    }
    if (c_epoch < 0 || c_loss < 0 || c_sel < 0) {
        rp_fail(r, "%s: the header has no column '%s'", path,
                c_epoch < 0 ? "epoch" : c_loss < 0 ? "train_loss" : r->sel_column);
        goto out;
    }
    for (size_t lineno = 2; (line = rp_next_line(&p)) != NULL; lineno++) {
        if (!*line)
            continue;
        size_t nf = rp_fields(line, fields, 64);
        if (nf != nh) {
            rp_fail(r, "%s:%zu: %zu fields; the header has %zu", path, lineno, nf, nh);
            goto out;
        }
        if (n_rows == RP_MAX_EPOCHS) {
            rp_fail(r, "%s: more than %d epochs", path, RP_MAX_EPOCHS);
            goto out;
        }
        if (n_rows == cap) {
            cap = cap ? 2 * cap : 64;
            if (rp_grow(&run->epoch, cap) != 0 || rp_grow(&run->loss, cap) != 0 || rp_grow(&run->sel, cap) != 0) {
                rp_fail(r, "out of memory");
                goto out;
            }
        }
        const long cols[3] = { c_epoch, c_loss, c_sel };
        double *dst[3] = { &run->epoch[n_rows], &run->loss[n_rows], &run->sel[n_rows] };
        for (int k = 0; k < 3; k++)
            if (rp_field_num(fields[cols[k]], dst[k]) != 0) {
                rp_fail(r, "%s:%zu: column '%s': '%s' is not a number", path, lineno,
                        k == 0 ? "epoch" : k == 1 ? "train_loss" : r->sel_column, fields[cols[k]]);
                goto out;
            }
        if (!(run->epoch[n_rows] >= 1.0 && run->epoch[n_rows] <= RP_MAX_EPOCHS)) {
            rp_fail(r, "%s:%zu: epoch '%s' is not in 1..%d", path, lineno, fields[c_epoch], RP_MAX_EPOCHS);
            goto out;
        }
        n_rows++;
    }
    run->n_epochs = n_rows;
    st = 0;
out:
    free(text);
    free(path);
    return st;
}

/* The per-class AP (into a new array in r's class order) and the confusion
 * matrix (binary and multi-class; rows and columns reordered from the run's
 * class order, that of per_class, to r's) of one split object of metrics.json. */
static int rp_read_split(struct rp *r, const char *path, const char *split, const cJSON *o, double **ap,
                         int64_t **cm)
{
    const cJSON *pc = cJSON_GetObjectItemCaseSensitive(o, "per_class");
    size_t C = r->n_classes;
    if (!cJSON_IsArray(pc))
        return rp_fail(r, "%s: %s.per_class: %s; expected an array", path, split, pc ? "not an array" : "missing");
    if ((size_t)cJSON_GetArraySize(pc) != C)
        return rp_fail(r, "%s: %s.per_class has %d classes; results.json has %zu", path, split,
                       cJSON_GetArraySize(pc), C);
    size_t *pos = malloc(C * sizeof *pos);
    *ap = malloc(C * sizeof **ap);
    if (!pos || !*ap) {
        free(pos);
        return rp_fail(r, "out of memory");
    }
    for (size_t j = 0; j < C; j++) {
        const cJSON *e, *hit = NULL;
        size_t at = 0;
        cJSON_ArrayForEach(e, pc) {
            const cJSON *nm = cJSON_GetObjectItemCaseSensitive(e, "name");
            if (!hit && cJSON_IsString(nm) && strcmp(nm->valuestring, r->class_names[j]) == 0) {
                hit = e;
                pos[j] = at;
            }
            at++;
        }
        if (!hit) {
            free(pos);
            return rp_fail(r, "%s: %s.per_class has no class '%s' (a class of results.json)", path, split,
                           r->class_names[j]);
        }
        (*ap)[j] = rp_num(cJSON_GetObjectItemCaseSensitive(hit, "average_precision"));
    }
    if (strcmp(r->task, "multilabel") == 0) {
        free(pos);
        return 0;
    }
    const cJSON *m = cJSON_GetObjectItemCaseSensitive(o, "confusion_matrix");
    int64_t *run_cm = malloc(C * C * sizeof *run_cm);
    *cm = malloc(C * C * sizeof **cm);
    int st = -1;
    if (!run_cm || !*cm) {
        rp_fail(r, "out of memory");
        goto out;
    }
    if (!cJSON_IsArray(m) || (size_t)cJSON_GetArraySize(m) != C) {
        rp_fail(r, "%s: %s.confusion_matrix: expected %zu rows of %zu counts", path, split, C, C);
        goto out;
    }
    size_t i = 0;
    const cJSON *row;
    cJSON_ArrayForEach(row, m) {
        if (!cJSON_IsArray(row) || (size_t)cJSON_GetArraySize(row) != C) {
            rp_fail(r, "%s: %s.confusion_matrix[%zu]: expected %zu counts", path, split, i, C);
            goto out;
        }
        size_t k = 0;
        const cJSON *v;
        cJSON_ArrayForEach(v, row) {
            if (!cJSON_IsNumber(v) || !(v->valuedouble >= 0.0) || v->valuedouble > 1e15) {
                rp_fail(r, "%s: %s.confusion_matrix[%zu][%zu]: not a count", path, split, i, k);
                goto out;
            }
            run_cm[i * C + k++] = (int64_t)v->valuedouble;
        }
        i++;
    }
    for (i = 0; i < C; i++)
        for (size_t k = 0; k < C; k++)
            (*cm)[i * C + k] = run_cm[pos[i] * C + pos[k]];
    st = 0;
out:
    free(run_cm);
    free(pos);
    return st;
}

/* run/metrics.json: per-class AP and confusion matrix of validation and test. */
static int rp_read_metrics(struct rp *r, struct rp_run *run)
{
    char *path = rp_join(run->path, "metrics.json");
    cJSON *o = NULL;
    int st = -1;
    if (!path)
        return rp_fail(r, "out of memory");
    if (rp_read_json(r, path, &o) != 0)
        goto out;
    const cJSON *val = cJSON_GetObjectItemCaseSensitive(o, "val");
    const cJSON *test = cJSON_GetObjectItemCaseSensitive(o, "test");
    if (!cJSON_IsObject(val)) {
        rp_fail(r, "%s: no \"val\" object; expected a run's metrics", path);
        goto out;
    }
    if (rp_read_split(r, path, "val", val, &run->ap[0], &run->cm[0]) != 0 ||
        (cJSON_IsObject(test) && rp_read_split(r, path, "test", test, &run->ap[1], &run->cm[1]) != 0))
        goto out;
    st = 0;
out:
    cJSON_Delete(o);
    free(path);
    return st;
}

/* A (score, label) pair of one sample, for sorting. */
struct rp_scored {
    double s;
    int y;
};

/* Orders by score, highest first. */
static int rp_by_score_desc(const void *a, const void *b)
{
    double x = ((const struct rp_scored *)a)->s, y = ((const struct rp_scored *)b)->s;
    return x < y ? 1 : x > y ? -1 : 0;
}

/* The precision-recall step curve and AP of the n scores s[i·stride] against
 * the labels y[i·stride]: the points (R_{k-1}, P_k), (R_k, P_k) for every
 * distinct score threshold k from the highest, so that the area under the
 * steps is the average precision Σ (R_k − R_{k−1}) P_k. */
static int rp_pr_curve(struct rp *r, struct rp_pr *pr, const double *s, const uint8_t *y, size_t n,
                       size_t stride)
{
    pr->samples = (long)n;
    pr->positives = 0;
    pr->ap = NAN;
    for (size_t i = 0; i < n; i++)
        pr->positives += y[i * stride];
    if (pr->positives == 0)
        return 0;
    if (focal_average_precision(&pr->ap, (int)n, s, y, stride) != FOCAL_OK)
        return rp_fail(r, "%s", focal_last_error());
    struct rp_scored *v = malloc(n * sizeof *v);
    pr->recall = malloc((2 * n + 1) * sizeof *pr->recall);
    pr->precision = malloc((2 * n + 1) * sizeof *pr->precision);
    if (!v || !pr->recall || !pr->precision) {
        free(v);
        return rp_fail(r, "out of memory");
    }
    for (size_t i = 0; i < n; i++)
        v[i] = (struct rp_scored){ s[i * stride], y[i * stride] };
    qsort(v, n, sizeof *v, rp_by_score_desc);
    long tp = 0, fp = 0;
    double prev_r = 0.0;
    size_t k = 0;
    /* up to the threshold that first reaches full recall, as scikit-learn's
     * precision_recall_curve: lower ones only add false positives */
    for (size_t i = 0; i < n && tp < pr->positives; i++) {
        tp += v[i].y;
        fp += !v[i].y;
        if (i + 1 < n && v[i + 1].s == v[i].s)
            continue;
        double rec = (double)tp / (double)pr->positives, prec = (double)tp / (double)(tp + fp);
        if (k == 0) {
            pr->recall[k] = 0.0;
            pr->precision[k++] = prec;
        }
        pr->recall[k] = prev_r;
        pr->precision[k++] = prec;
        pr->recall[k] = rec;
        pr->precision[k++] = prec;
        prev_r = rec;
    }
    pr->n = k;
    free(v);
    return 0;
}

/* run/scores.csv of the method's first run: the precision-recall curves of
 * the rarest classes in the report's split, into m->pr. */
static int rp_read_scores(struct rp *r, struct rp_method *m)
{
    char *path = rp_join(m->runs[0].path, "scores.csv"), *text = NULL, **fields = NULL;
    double *s = NULL;
    uint8_t *y = NULL;
    size_t len, R = r->n_rare;
    int st = -1;
    const char *want = r->split ? "test" : "val";
    if (!path)
        return rp_fail(r, "out of memory");
    if (rp_read_file(r, path, &text, &len) != 0)
        goto out;
    size_t max_fields = 1;
    for (const char *q = text; *q && *q != '\n'; q++)
        max_fields += *q == ',';
    fields = malloc(max_fields * sizeof *fields);
    if (!fields) {
        rp_fail(r, "out of memory");
        goto out;
    }
    char *p = text, *line = rp_next_line(&p);
    size_t nh = line ? rp_fields(line, fields, max_fields) : 0;
    if (nh < 4 || nh % 2 != 0 || strcmp(fields[0], "split") != 0 || strcmp(fields[1], "id") != 0) {
        rp_fail(r, "%s: the header is not split,id,<class names>,<y_ class names>", path);
        goto out;
    }
    size_t K = (nh - 2) / 2;
    /* the column of each rarest class; complement: a binary task's negative
     * class, whose scores are 1 - p and labels 1 - y */
    size_t col[RP_MAX_RARE];
    int complement[RP_MAX_RARE];
    for (size_t q = 0; q < R; q++) {
        const char *name = r->class_names[r->rare[q]];
        size_t k = 0;
        while (k < K && strcmp(fields[2 + k], name) != 0)
            k++;
        complement[q] = 0;
        if (k == K && strcmp(r->task, "binary") == 0 && K == 1 && r->rare[q] == 0) {
            k = 0;
            complement[q] = 1;
        }
        if (k == K) {
            rp_fail(r, "%s: no column for class '%s'", path, name);
            goto out;
        }
        col[q] = k;
        if (strncmp(fields[2 + K + k], "y_", 2) != 0 || strcmp(fields[2 + K + k] + 2, fields[2 + k]) != 0) {
            rp_fail(r, "%s: column %zu is '%s'; expected 'y_%s'", path, 3 + K + k, fields[2 + K + k],
                    fields[2 + k]);
            goto out;
        }
    }
    /* per sample, the R classes' scores and labels side by side */
    size_t cap = 0, n = 0;
    for (size_t lineno = 2; (line = rp_next_line(&p)) != NULL; lineno++) {
        if (!*line)
            continue;
        /* an id may hold commas: room for every field of this row */
        size_t need = 1;
        for (const char *q = line; *q; q++)
            need += *q == ',';
        if (need > max_fields) {
            char **more = realloc(fields, need * sizeof *fields);
            if (!more) {
                rp_fail(r, "out of memory");
                goto out;
            }
            fields = more;
            max_fields = need;
        }
        size_t nf = rp_fields(line, fields, need);
        if (nf < nh) {
            rp_fail(r, "%s:%zu: %zu fields; the header has %zu", path, lineno, nf, nh);
            goto out;
        }
        if (strcmp(fields[0], "val") != 0 && strcmp(fields[0], "test") != 0) {
            rp_fail(r, "%s:%zu: split '%s'; expected val or test", path, lineno, fields[0]);
            goto out;
        }
        if (strcmp(fields[0], want) != 0 || R == 0)
            continue;
        if (n == cap) {
            cap = cap ? 2 * cap : 1024;
            double *s2 = realloc(s, cap * R * sizeof *s);
            if (s2)
                s = s2;
            uint8_t *y2 = s2 ? realloc(y, cap * R * sizeof *y) : NULL;
            if (!y2) {
                rp_fail(r, "out of memory");
                goto out;
            }
            y = y2;
        }
        /* the numbers are the last 2K fields, whatever the id holds */
        char **num = fields + nf - 2 * K;
        for (size_t q = 0; q < R; q++) {
            double sv, yv;
            if (rp_field_num(num[col[q]], &sv) != 0 || !isfinite(sv) || rp_field_num(num[K + col[q]], &yv) != 0 ||
                (yv != 0.0 && yv != 1.0)) {
                rp_fail(r, "%s:%zu: class '%s': expected a probability and a 0/1 label, found '%s' and '%s'",
                        path, lineno, r->class_names[r->rare[q]], num[col[q]], num[K + col[q]]);
                goto out;
            }
            s[n * R + q] = complement[q] ? 1.0 - sv : sv;
            y[n * R + q] = (uint8_t)(complement[q] ? yv == 0.0 : yv == 1.0);
        }
        n++;
    }
    if (n > INT32_MAX) {
        rp_fail(r, "%s: too many rows", path);
        goto out;
    }
    for (size_t q = 0; q < R; q++)
        if (n > 0 && rp_pr_curve(r, &m->pr[q], s + q, y + q, n, R) != 0)
            goto out;
    st = 0;
out:
    free(s);
    free(y);
    free(fields);
    free(text);
    free(path);
    return st;
}

/* Reads every run folder results.json names: history and metrics of all,
 * the scores of each method's first run. Chooses the split of the per-class
 * charts: test when every run has test metrics. */
static int rp_read_runs(struct rp *r)
{
    r->split = 1;
    for (size_t i = 0; i < r->n_methods; i++) {
        struct rp_method *m = &r->methods[i];
        for (size_t k = 0; k < m->n_runs; k++) {
            struct rp_run *run = &m->runs[k];
            struct stat st;
            if (stat(run->path, &st) != 0)
                return rp_fail(r, "%s: %s (run %zu of method '%s' in results.json)", run->path,
                               errno == ENOENT ? "no such run folder" : strerror(errno), k + 1, m->name);
            if (!S_ISDIR(st.st_mode))
                return rp_fail(r, "%s: not a folder (run %zu of method '%s' in results.json)", run->path, k + 1,
                               m->name);
            if (rp_read_history(r, run) != 0 || rp_read_metrics(r, run) != 0)
                return -1;
            if (!run->ap[1])
                r->split = 0;
        }
    }
    for (size_t i = 0; i < r->n_methods; i++) {
        for (size_t q = 0; q < RP_MAX_RARE; q++)
            r->methods[i].pr[q].ap = NAN;
        if (rp_read_scores(r, &r->methods[i]) != 0)
            return -1;
    }
    return 0;
}

/* Releases everything r holds. */
static void rp_free(struct rp *r)
{
    for (size_t i = 0; r->methods && i < r->n_methods; i++) {
        struct rp_method *m = &r->methods[i];
        for (size_t k = 0; m->runs && k < m->n_runs; k++) {
            struct rp_run *run = &m->runs[k];
            free(run->path);
            free(run->epoch);
            free(run->loss);
            free(run->sel);
            for (int s = 0; s < 2; s++) {
                free(run->ap[s]);
                free(run->cm[s]);
            }
        }
        free(m->runs);
        for (size_t q = 0; q < RP_MAX_RARE; q++) {
            free(m->pr[q].recall);
            free(m->pr[q].precision);
        }
    }
    free(r->methods);
    free(r->class_names);
    free(r->train_counts);
    free(r->order);
    free(r->metric_keys);
    free(r->metric_labels);
    free(r->grid.gammas);
    free(r->grid.alphas);
    free(r->grid.cells);
    cJSON_Delete(r->root);
}

/* ---- numbers ------------------------------------------------------------------------------ */

/* Mean and sample standard deviation of the finite values among v[i·stride],
 * i < n (NaN when there are none, std NaN when fewer than two). */
static void rp_mean_std(const double *v, size_t n, size_t stride, double *mean, double *std)
{
    double s = 0.0, ss = 0.0;
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (isfinite(v[i * stride])) {
            s += v[i * stride];
            k++;
        }
    *mean = k ? s / (double)k : NAN;
    for (size_t i = 0; i < n; i++)
        if (isfinite(v[i * stride]))
            ss += (v[i * stride] - *mean) * (v[i * stride] - *mean);
    *std = k > 1 ? sqrt(ss / (double)(k - 1)) : NAN;
}

/* One metric of a method on split (0 val, 1 test) from results.json. */
static struct rp_stat rp_method_stat(const struct rp_method *m, int split, const char *key)
{
    const cJSON *o = cJSON_GetObjectItemCaseSensitive(m->stats[split], key);
    return (struct rp_stat){ rp_num(cJSON_GetObjectItemCaseSensitive(o, "mean")),
                             rp_num(cJSON_GetObjectItemCaseSensitive(o, "std")) };
}

/* "0.4123 ± 0.0131" ("seconds": two decimals); the mean alone without a
 * std; an en dash when undefined. */
static void rp_fmt_stat(char *buf, size_t n, struct rp_stat s, const char *key)
{
    int dec = strcmp(key, "seconds") == 0 ? 2 : 4;
    if (!isfinite(s.mean))
        snprintf(buf, n, "\xE2\x80\x93");
    else if (isfinite(s.std))
        snprintf(buf, n, "%.*f \xC2\xB1 %.*f", dec, s.mean, dec, s.std);
    else
        snprintf(buf, n, "%.*f", dec, s.mean);
}

/* ---- charts --------------------------------------------------------------------------------- */

enum rp_chart_kind { RP_LOSS, RP_SELECTION, RP_PER_CLASS, RP_PR, RP_CONFUSION, RP_FOCAL, RP_N_KINDS };

/* One chart of the report: written inline into the HTML and as
 * DIR/report-<name>.svg for the Markdown. */
struct rp_chart {
    enum rp_chart_kind kind;
    size_t index;          /* RP_PR: which rarest class */
    char name[32];         /* file report-<name>.svg */
    char alt[256];         /* its title, the Markdown's alt text */
    char caption[768];
    int wide;              /* may be wider than the page: scroll, don't shrink */
};

/* The number of epochs of the method's longest history, and the per-epoch
 * means over its runs of the training loss (which = 0) or the selection
 * metric (1) into a new array *mean (*x the epochs 1..n). */
static int rp_epoch_means(const struct rp_method *m, int which, double **x, double **mean, size_t *n)
{
    size_t E = 0;
    for (size_t k = 0; k < m->n_runs; k++)
        for (size_t e = 0; e < m->runs[k].n_epochs; e++)
            if (m->runs[k].epoch[e] > (double)E)
                E = (size_t)m->runs[k].epoch[e];
    *n = E;
    *x = malloc((E ? E : 1) * sizeof **x);
    *mean = malloc((E ? E : 1) * sizeof **mean);
    double *sum = calloc(E ? E : 1, sizeof *sum);
    int *cnt = calloc(E ? E : 1, sizeof *cnt);
    if (!*x || !*mean || !sum || !cnt) {
        free(sum);
        free(cnt);
        return -1;
    }
    for (size_t k = 0; k < m->n_runs; k++) {
        const struct rp_run *run = &m->runs[k];
        for (size_t e = 0; e < run->n_epochs; e++) {
            double v = which ? run->sel[e] : run->loss[e];
            size_t at = (size_t)run->epoch[e] - 1;
            if (isfinite(v)) {
                sum[at] += v;
                cnt[at]++;
            }
        }
    }
    for (size_t e = 0; e < E; e++) {
        (*x)[e] = (double)(e + 1);
        (*mean)[e] = cnt[e] ? sum[e] / cnt[e] : NAN;
    }
    free(sum);
    free(cnt);
    return 0;
}

/* Training loss (which = 0) or the validation selection metric (1) per
 * epoch, one line per method. */
static int rp_chart_curves(FILE *fp, const struct rp *r, const struct rp_chart *ch, int which, int standalone)
{
    struct svg_series *s = calloc(r->n_methods, sizeof *s);
    double **xs = calloc(r->n_methods, sizeof *xs), **ys = calloc(r->n_methods, sizeof *ys);
    int st = -1;
    size_t longest = 0;
    char ylab[160];
    if (!s || !xs || !ys)
        goto out;
    for (size_t i = 0; i < r->n_methods; i++) {
        size_t n;
        if (rp_epoch_means(&r->methods[i], which, &xs[i], &ys[i], &n) != 0)
            goto out;
        s[i] = (struct svg_series){ .name = r->methods[i].name, .x = xs[i], .y = ys[i], .n = n,
                                    .color = r->methods[i].color, .width = (int)i == r->best ? 3.0 : 2.0 };
        longest = n > longest ? n : longest;
    }
    for (size_t i = 0; i < r->n_methods; i++)
        s[i].markers = longest <= RP_MARKER_EPOCHS;
    struct svg_chart c;
    svg_chart_init(&c);
    snprintf(ylab, sizeof ylab, "validation %s", r->sel_label);
    c.title = ch->alt;
    c.x_label = "epoch";
    c.y_label = which ? ylab : "training loss";
    c.width = 560;
    c.height = 360;
    c.x_min = longest > 1 ? 1.0 : NAN;
    c.x_integer = 1;
    c.legend = SVG_LEGEND_BELOW;
    c.series = s;
    c.n_series = r->n_methods;
    st = svg_chart_write(fp, &c, standalone);
out:
    for (size_t i = 0; xs && ys && i < r->n_methods; i++) {
        free(xs[i]);
        free(ys[i]);
    }
    free(xs);
    free(ys);
    free(s);
    return st;
}

/* Per-class AP, mean (and std) over each method's seeds, classes from most
 * to least frequent. */
static int rp_chart_per_class(FILE *fp, const struct rp *r, const struct rp_chart *ch, int standalone)
{
    size_t C = r->n_classes, M = r->n_methods;
    struct svg_bar_series *s = calloc(M, sizeof *s);
    double *mean = malloc(M * C * sizeof *mean), *sd = malloc(M * C * sizeof *sd), *tmp = NULL;
    const char **cats = calloc(C, sizeof *cats);
    char *names = malloc(C * 96);
    int st = -1;
    if (!s || !mean || !sd || !cats || !names)
        goto out;
    for (size_t j = 0; j < C; j++) {
        size_t c = r->order[j];
        snprintf(names + 96 * j, 96, "%.80s (%.0f)", r->class_names[c], r->train_counts[c]);
        cats[j] = names + 96 * j;
    }
    for (size_t i = 0; i < M; i++) {
        const struct rp_method *m = &r->methods[i];
        free(tmp);
        if (!(tmp = malloc(m->n_runs * sizeof *tmp)))
            goto out;
        for (size_t j = 0; j < C; j++) {
            for (size_t k = 0; k < m->n_runs; k++)
                tmp[k] = m->runs[k].ap[r->split][r->order[j]];
            rp_mean_std(tmp, m->n_runs, 1, &mean[i * C + j], &sd[i * C + j]);
        }
        s[i] = (struct svg_bar_series){ m->name, mean + i * C, sd + i * C, m->color };
    }
    struct svg_bar_chart c;
    svg_bar_chart_init(&c);
    c.title = ch->alt;
    c.x_label = "class (training examples), most frequent \xE2\x86\x92 rarest";
    c.y_label = "average precision";
    c.y_min = 0.0;
    c.y_max = 1.0;
    c.categories = cats;
    c.n_categories = C;
    c.series = s;
    c.n_series = M;
    /* grouped while the bars stay wide enough to tell apart, else one panel per method */
    c.layout = M <= 3 || M * C <= 120 ? SVG_BARS_GROUPED : SVG_BARS_PANELS;
    double slot = c.layout == SVG_BARS_GROUPED ? (M * 6.0 + 8.0 > 18.0 ? M * 6.0 + 8.0 : 18.0) : 16.0;
    double w = 94.0 + slot * (double)C;
    c.width = w < 640.0 ? 640 : (int)ceil(w);
    st = svg_bar_chart_write(fp, &c, standalone);
out:
    free(tmp);
    free(s);
    free(mean);
    free(sd);
    free(cats);
    free(names);
    return st;
}

/* The precision-recall curves of rarest class ch->index, one per method. */
static int rp_chart_pr(FILE *fp, const struct rp *r, const struct rp_chart *ch, int standalone)
{
    size_t M = r->n_methods, q = ch->index;
    struct svg_series *s = calloc(M + 1, sizeof *s);
    char (*names)[160] = calloc(M + 1, sizeof *names);
    double bx[2] = { 0.0, 1.0 }, by[2];
    int st = -1;
    if (!s || !names)
        goto out;
    size_t n = 0;
    for (size_t i = 0; i < M; i++) {
        const struct rp_pr *pr = &r->methods[i].pr[q];
        if (!pr->n)
            continue;
        snprintf(names[n], sizeof names[n], "%.100s (AP %.3f)", r->methods[i].name, pr->ap);
        s[n] = (struct svg_series){ .name = names[n], .x = pr->recall, .y = pr->precision, .n = pr->n,
                                    .color = r->methods[i].color, .width = (int)i == r->best ? 3.0 : 2.0 };
        n++;
    }
    /* chance: precision = prevalence, from the first method's scores */
    const struct rp_pr *p0 = &r->methods[0].pr[q];
    by[0] = by[1] = p0->samples ? (double)p0->positives / (double)p0->samples : NAN;
    snprintf(names[n], sizeof names[n], "chance (prevalence %.3f)", by[0]);
    s[n] = (struct svg_series){ .name = names[n], .x = bx, .y = by, .n = 2, .color = "#999999", .width = 1.5,
                                .dashed = 1 };
    n++;
    struct svg_chart c;
    svg_chart_init(&c);
    c.title = ch->alt;
    c.x_label = "recall";
    c.y_label = "precision";
    c.x_min = c.y_min = 0.0;
    c.x_max = c.y_max = 1.0;
    c.width = 560;
    c.height = 360;
    c.legend = SVG_LEGEND_BELOW;
    c.series = s;
    c.n_series = n;
    st = svg_chart_write(fp, &c, standalone);
out:
    free(s);
    free(names);
    return st;
}

/* The confusion matrix of the chosen method's first run: counts, shaded by
 * the fraction of each true class. */
static int rp_chart_confusion(FILE *fp, const struct rp *r, const struct rp_chart *ch, int standalone)
{
    size_t C = r->n_classes;
    const int64_t *cm = r->methods[r->best].runs[0].cm[r->split];
    double *v = malloc(C * C * sizeof *v), *shade = malloc(C * C * sizeof *shade);
    int st = -1;
    if (!v || !shade)
        goto out;
    for (size_t i = 0; i < C; i++) {
        double row = 0.0;
        for (size_t k = 0; k < C; k++)
            row += (double)cm[i * C + k];
        for (size_t k = 0; k < C; k++) {
            v[i * C + k] = (double)cm[i * C + k];
            shade[i * C + k] = row > 0.0 ? (double)cm[i * C + k] / row : NAN;
        }
    }
    struct svg_heatmap h = {
        .title = ch->alt, .x_label = "predicted class", .y_label = "true class", .rows = C, .cols = C,
        .row_labels = r->class_names, .col_labels = r->class_names, .values = v, .decimals = 0,
        .shade = shade, .shade_label = "fraction of the true class",
        .hide_zero = C > 12,   /* tiny zeros would bury the counts; their cells stay white */
    };
    st = svg_heatmap_write(fp, &h, standalone);
out:
    free(v);
    free(shade);
    return st;
}

/* Focal loss of the chosen γ against cross-entropy over p_t in (0, 1], as
 * the focal-loss paper's Figure 1, through the library's sigmoid losses. */
static int rp_chart_focal(FILE *fp, const struct rp *r, const struct rp_chart *ch, int standalone)
{
    enum { N = RP_FL_POINTS };
    double *pt = malloc(N * sizeof *pt), *x = malloc(N * sizeof *x), *t = malloc(N * sizeof *t);
    double *ce = malloc(N * sizeof *ce), *fl = malloc(N * sizeof *fl);
    char name[64];
    int st = -1;
    if (!pt || !x || !t || !ce || !fl)
        goto out;
    /* p_t = k/N; the logit of p_t with target 1 gives that p_t (p_t = 1 is exactly 0 loss) */
    for (int k = 0; k < N - 1; k++) {
        pt[k] = (double)(k + 1) / N;
        x[k] = log(pt[k]) - log1p(-pt[k]);
        t[k] = 1.0;
    }
    pt[N - 1] = 1.0;
    ce[N - 1] = fl[N - 1] = 0.0;
    struct focal_loss l;
    focal_loss_init(&l, FOCAL_LOSS_BCE);
    l.reduction = FOCAL_REDUCTION_NONE;
    if (focal_sigmoid_loss_f64(&l, N - 1, 1, x, t, NULL, ce, NULL) != FOCAL_OK)
        goto out;
    focal_loss_init(&l, FOCAL_LOSS_SIGMOID_FOCAL);
    l.reduction = FOCAL_REDUCTION_NONE;
    l.gamma = r->gamma;
    if (focal_sigmoid_loss_f64(&l, N - 1, 1, x, t, NULL, fl, NULL) != FOCAL_OK)
        goto out;
    snprintf(name, sizeof name, "focal loss, \xCE\xB3 = %g", r->gamma);
    struct svg_series s[2] = {
        { .name = "cross-entropy (\xCE\xB3 = 0)", .x = pt, .y = ce, .n = N, .color = "#000000", .dashed = 1 },
        { .name = name, .x = pt, .y = fl, .n = N,
          .color = r->best >= 0 ? r->methods[r->best].color : svg_color(0), .width = 3.0 },
    };
    struct svg_chart c;
    svg_chart_init(&c);
    c.title = ch->alt;
    c.x_label = "probability of the ground-truth class p\xE2\x82\x9C";
    c.y_label = "loss";
    c.x_min = 0.0;
    c.x_max = 1.0;
    c.y_min = 0.0;
    c.y_max = 5.0;
    c.width = 560;
    c.height = 360;
    c.band_lo = 0.6;
    c.band_hi = 1.0;
    c.band_label = "well-classified examples";
    c.legend = SVG_LEGEND_TOP_RIGHT;
    c.series = s;
    c.n_series = 2;
    st = svg_chart_write(fp, &c, standalone);
out:
    free(pt);
    free(x);
    free(t);
    free(ce);
    free(fl);
    return st;
}

/* Writes chart ch as an <svg> element (standalone: with its XML declaration). */
static int rp_chart_write(FILE *fp, const struct rp *r, const struct rp_chart *ch, int standalone)
{
    switch (ch->kind) {
    case RP_LOSS: return rp_chart_curves(fp, r, ch, 0, standalone);
    case RP_SELECTION: return rp_chart_curves(fp, r, ch, 1, standalone);
    case RP_PER_CLASS: return rp_chart_per_class(fp, r, ch, standalone);
    case RP_PR: return rp_chart_pr(fp, r, ch, standalone);
    case RP_CONFUSION: return rp_chart_confusion(fp, r, ch, standalone);
    case RP_FOCAL: return rp_chart_focal(fp, r, ch, standalone);
    default: return -1;
    }
}

/* The charts the report draws, into ch (room for RP_N_KINDS + RP_MAX_RARE). */
static size_t rp_plan_charts(const struct rp *r, struct rp_chart *ch)
{
    const char *split = r->split ? "test" : "validation";
    size_t n = 0;
    ch[n] = (struct rp_chart){ .kind = RP_LOSS };
    snprintf(ch[n].name, sizeof ch[n].name, "train-loss");
    snprintf(ch[n].alt, sizeof ch[n].alt, "Training loss per epoch");
    snprintf(ch[n].caption, sizeof ch[n].caption,
             "Mean training loss of each epoch, averaged over each method's seeds (over the seeds that "
             "reached the epoch). Losses of different kinds are on different scales: compare shapes, not heights.");
    n++;
    ch[n] = (struct rp_chart){ .kind = RP_SELECTION };
    snprintf(ch[n].name, sizeof ch[n].name, "val-metric");
    snprintf(ch[n].alt, sizeof ch[n].alt, "Validation %s per epoch", r->sel_label);
    snprintf(ch[n].caption, sizeof ch[n].caption,
             "Validation %s after each epoch, the metric that picks each run's best epoch and the best method; "
             "mean over seeds.", r->sel_label);
    n++;
    ch[n] = (struct rp_chart){ .kind = RP_PER_CLASS, .wide = 1 };
    snprintf(ch[n].name, sizeof ch[n].name, "per-class-ap");
    snprintf(ch[n].alt, sizeof ch[n].alt, "Average precision per class, %s split", split);
    snprintf(ch[n].caption, sizeof ch[n].caption,
             "Average precision of every class on the %s split, mean over seeds%s. Classes run from the most "
             "frequent in training (left) to the rarest (right), with their training counts; n/a: the "
             "class has no positive example in the split (AP undefined).",
             split, r->seeds > 1 ? " (whiskers: ± one standard deviation)" : "");
    n++;
    for (size_t q = 0; q < r->n_rare; q++) {
        int any = 0;
        for (size_t i = 0; i < r->n_methods; i++)
            any |= r->methods[i].pr[q].n > 0;
        if (!any)
            continue;
        const struct rp_pr *p0 = &r->methods[0].pr[q];
        ch[n] = (struct rp_chart){ .kind = RP_PR, .index = q };
        snprintf(ch[n].name, sizeof ch[n].name, "pr-%zu", q + 1);
        snprintf(ch[n].alt, sizeof ch[n].alt, "Precision\xE2\x80\x93recall, class %.120s",
                 r->class_names[r->rare[q]]);
        snprintf(ch[n].caption, sizeof ch[n].caption,
                 "Class %.120s: %.0f training examples; %ld positives among %ld %s samples. Each method's first "
                 "seed; AP in the legend.", r->class_names[r->rare[q]], r->train_counts[r->rare[q]],
                 p0->positives, p0->samples, split);
        n++;
    }
    if (strcmp(r->task, "multilabel") != 0 && r->best >= 0) {
        ch[n] = (struct rp_chart){ .kind = RP_CONFUSION, .wide = 1 };
        snprintf(ch[n].name, sizeof ch[n].name, "confusion");
        snprintf(ch[n].alt, sizeof ch[n].alt, "Confusion matrix: %.120s, %s split", r->methods[r->best].name,
                 split);
        snprintf(ch[n].caption, sizeof ch[n].caption,
                 "Counts of the chosen method's first seed on the %s split: rows are the true class, columns "
                 "the predicted one; the shade is the fraction of the true class (the diagonal is each "
                 "class's recall).", split);
        n++;
    }
    if (isfinite(r->gamma)) {
        ch[n] = (struct rp_chart){ .kind = RP_FOCAL };
        snprintf(ch[n].name, sizeof ch[n].name, "focal-loss");
        snprintf(ch[n].alt, sizeof ch[n].alt, "Focal loss, \xCE\xB3 = %g, against cross-entropy", r->gamma);
        snprintf(ch[n].caption, sizeof ch[n].caption,
                 "FL(p\xE2\x82\x9C) = \xE2\x88\x92(1 \xE2\x88\x92 p\xE2\x82\x9C)^\xCE\xB3 log p\xE2\x82\x9C for the "
                 "chosen \xCE\xB3 = %g against cross-entropy \xE2\x88\x92log p\xE2\x82\x9C (as in Lin et al., "
                 "Figure 1): examples the model already gets right (p\xE2\x82\x9C > 0.6) contribute far less, "
                 "so training concentrates on the hard ones.", r->gamma);
        n++;
    }
    return n;
}

/* The chart names a report may write; those it does not draw this time are removed. */
static const char *const rp_all_charts[] = {
    "train-loss", "val-metric", "per-class-ap", "pr-1", "pr-2", "pr-3", "confusion", "focal-loss",
};

/* ---- text ---------------------------------------------------------------------------------- */

/* s as literal Markdown text: punctuation that would format is
 * backslash-escaped, angle brackets become entities, line breaks spaces. */
static void md_text(FILE *fp, const char *s)
{
    for (; *s; s++) {
        if (strchr("\\`*_[]|#", *s))
            fprintf(fp, "\\%c", *s);
        else if (*s == '<')
            fputs("&lt;", fp);
        else if (*s == '>')
            fputs("&gt;", fp);
        else if (*s == '\n' || *s == '\r')
            fputc(' ', fp);
        else
            fputc(*s, fp);
    }
}

/* Writes s as HTML (html = 1) or Markdown text. */
static void rp_text(FILE *fp, int html, const char *s)
{
    if (html)
        svg_text(fp, s);
    else
        md_text(fp, s);
}

/* Starts a table row (HTML: of class cls, which may be NULL). */
static void rp_row_start(FILE *fp, int html, const char *cls)
{
    if (html)
        fprintf(fp, cls ? "<tr class=\"%s\">" : "<tr>", cls);
    else
        fputs("|", fp);
}

/* One cell holding text s: num right-aligns it (HTML), bold makes it bold. */
static void rp_cell(FILE *fp, int html, int num, int bold, const char *s)
{
    if (html) {
        fputs(num ? "<td class=\"num\">" : "<td>", fp);
        if (bold)
            fputs("<b>", fp);
        svg_text(fp, s);
        fputs(bold ? "</b></td>" : "</td>", fp);
    } else {
        fputs(bold ? " **" : " ", fp);
        md_text(fp, s);
        fputs(bold ? "** |" : " |", fp);
    }
}

/* Ends a table row. */
static void rp_row_end(FILE *fp, int html)
{
    fputs(html ? "</tr>\n" : "\n", fp);
}

/* The header row (and Markdown's alignment row) of a table with a text
 * column `first` and n numeric columns. */
static void rp_table_head(FILE *fp, int html, const char *first, const char *const *cols, size_t n)
{
    if (html) {
        fputs("<table><thead><tr><th>", fp);
        svg_text(fp, first);
        fputs("</th>", fp);
        for (size_t k = 0; k < n; k++) {
            fputs("<th class=\"num\">", fp);
            svg_text(fp, cols[k]);
            fputs("</th>", fp);
        }
        fputs("</tr></thead><tbody>\n", fp);
        return;
    }
    fputs("| ", fp);
    md_text(fp, first);
    fputs(" |", fp);
    for (size_t k = 0; k < n; k++) {
        fputc(' ', fp);
        md_text(fp, cols[k]);
        fputs(" |", fp);
    }
    fputs("\n|---|", fp);
    for (size_t k = 0; k < n; k++)
        fputs("---:|", fp);
    fputc('\n', fp);
}

/* Ends a table (Markdown: with the blank line after it). */
static void rp_table_end(FILE *fp, int html)
{
    fputs(html ? "</tbody></table>\n" : "\n", fp);
}

/* A heading of level 2 or 3. */
static void rp_heading(FILE *fp, int html, int level, const char *s)
{
    if (html) {
        fprintf(fp, "<h%d>", level);
        svg_text(fp, s);
        fprintf(fp, "</h%d>\n", level);
    } else {
        fprintf(fp, "%s ", level == 2 ? "##" : "###");
        md_text(fp, s);
        fputs("\n\n", fp);
    }
}

/* A paragraph of class cls (HTML) from already formatted text. */
static void rp_para(FILE *fp, int html, const char *cls, const char *s)
{
    if (html) {
        fprintf(fp, cls ? "<p class=\"%s\">" : "<p>", cls);
        svg_text(fp, s);
        fputs("</p>\n", fp);
    } else {
        md_text(fp, s);
        fputs("\n\n", fp);
    }
}

/* The results table of one split (0 val, 1 test): mean ± std per method and metric. */
static void rp_results_table(FILE *fp, int html, const struct rp *r, int split)
{
    rp_table_head(fp, html, "method", r->metric_labels, r->n_metrics);
    for (size_t i = 0; i < r->n_methods; i++) {
        const struct rp_method *m = &r->methods[i];
        int best = (int)i == r->best;
        rp_row_start(fp, html, best ? "best" : NULL);
        if (html) {
            fprintf(fp, "<td><span class=\"swatch\" style=\"background:%s\"></span>", m->color);
            svg_text(fp, m->name);
            fputs(best ? " <span class=\"badge\">best</span></td>" : "</td>", fp);
        } else {
            fputs(best ? " **" : " ", fp);
            md_text(fp, m->name);
            fputs(best ? "** (best) |" : " |", fp);
        }
        for (size_t k = 0; k < r->n_metrics; k++) {
            char buf[96];
            struct rp_stat s = m->stats[split] ? rp_method_stat(m, split, r->metric_keys[k])
                                               : (struct rp_stat){ NAN, NAN };
            rp_fmt_stat(buf, sizeof buf, s, r->metric_keys[k]);
            rp_cell(fp, html, 1, best, buf);
        }
        rp_row_end(fp, html);
    }
    rp_table_end(fp, html);
}

/* The γ × α table of a tune (rows γ, columns α, as the focal-loss paper's
 * Table 1) and the retrained best setting's test numbers. Returns 0, or -1
 * when out of memory. */
static int rp_grid_tables(FILE *fp, int html, const struct rp *r)
{
    const struct rp_grid *G = &r->grid;
    char buf[256], folds[48] = "";
    char (*alpha_names)[32] = calloc(G->n_alphas, sizeof *alpha_names);
    const char **cols = calloc(G->n_alphas, sizeof *cols);
    if (!alpha_names || !cols) {
        free(alpha_names);
        free(cols);
        return -1;
    }
    for (size_t a = 0; a < G->n_alphas; a++) {
        snprintf(alpha_names[a], sizeof alpha_names[a], "\xCE\xB1 = %g", G->alphas[a]);
        cols[a] = alpha_names[a];
    }
    rp_heading(fp, html, 2, "\xCE\xB3 \xC3\x97 \xCE\xB1 grid");
    if (G->folds > 0)
        snprintf(folds, sizeof folds, " over %d fold%s", G->folds, G->folds == 1 ? "" : "s");
    snprintf(buf, sizeof buf, "Validation %s of every setting, mean \xC2\xB1 std%s; rows \xCE\xB3, columns "
             "\xCE\xB1 (laid out as Table 1 of the focal-loss paper). The best setting is bold.",
             G->metric_label, folds);
    rp_para(fp, html, "note", buf);
    rp_table_head(fp, html, "\xCE\xB3 \\ \xCE\xB1", cols, G->n_alphas);
    for (size_t g = 0; g < G->n_gammas; g++) {
        char gname[40];
        snprintf(gname, sizeof gname, "\xCE\xB3 = %g", G->gammas[g]);
        rp_row_start(fp, html, NULL);
        rp_cell(fp, html, 0, 0, gname);
        for (size_t a = 0; a < G->n_alphas; a++) {
            rp_fmt_stat(buf, sizeof buf, G->cells[g * G->n_alphas + a], "");
            rp_cell(fp, html, 1, G->gammas[g] == G->best_gamma && G->alphas[a] == G->best_alpha, buf);
        }
        rp_row_end(fp, html);
    }
    rp_table_end(fp, html);
    free(alpha_names);
    free(cols);
    if (!G->test)
        return 0;
    snprintf(buf, sizeof buf, "Best setting (\xCE\xB3 = %g, \xCE\xB1 = %g) retrained: test numbers",
             G->best_gamma, G->best_alpha);
    rp_heading(fp, html, 3, buf);
    const char *head[1] = { "test" };
    rp_table_head(fp, html, "metric", head, 1);
    for (size_t k = 0; k < r->n_metrics; k++) {
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(G->test, r->metric_keys[k]);
        if (!v)
            continue;
        rp_fmt_stat(buf, sizeof buf, (struct rp_stat){ rp_num(v), NAN }, r->metric_keys[k]);
        rp_row_start(fp, html, NULL);
        rp_cell(fp, html, 0, 0, r->metric_labels[k]);
        rp_cell(fp, html, 1, 0, buf);
        rp_row_end(fp, html);
    }
    rp_table_end(fp, html);
    return 0;
}

/* The methods, their specs and run folders. */
static void rp_methods_table(FILE *fp, int html, const struct rp *r)
{
    if (html)
        fputs("<table><thead><tr><th>method</th><th>settings</th><th>runs</th></tr></thead><tbody>\n", fp);
    else
        fputs("| method | settings | runs |\n|---|---|---|\n", fp);
    const cJSON *methods = cJSON_GetObjectItemCaseSensitive(r->root, "methods");
    for (size_t i = 0; i < r->n_methods; i++) {
        const struct rp_method *m = &r->methods[i];
        const cJSON *runs = cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(methods, (int)i), "runs");
        rp_row_start(fp, html, NULL);
        rp_cell(fp, html, 0, 0, m->name);
        rp_cell(fp, html, 0, 0, *m->spec ? m->spec : "\xE2\x80\x93");
        fputs(html ? "<td>" : " ", fp);
        size_t k = 0;
        const cJSON *e;
        cJSON_ArrayForEach(e, runs) {
            fputs(k++ ? ", " : "", fp);
            rp_text(fp, html, e->valuestring);
        }
        fputs(html ? "</td>" : " |", fp);
        rp_row_end(fp, html);
    }
    rp_table_end(fp, html);
}

/* The page's style sheet: readable tables, charts side by side where they fit. */
static const char rp_css[] =
    "body{font-family:Helvetica,Arial,sans-serif;color:#222;line-height:1.45;max-width:1180px;"
    "margin:24px auto;padding:0 16px}\n"
    "h1{font-size:26px;margin:0 0 4px}\n"
    "h2{font-size:20px;margin:34px 0 10px;border-bottom:1px solid #ddd;padding-bottom:4px}\n"
    "h3{font-size:16px;margin:18px 0 6px}\n"
    ".facts,.note{color:#555}\n"
    ".sentence{font-size:17px;background:#f3f7fb;border-left:4px solid #0072b2;padding:8px 12px}\n"
    "table{border-collapse:collapse;margin:6px 0 10px;font-size:14px}\n"
    "th,td{border:1px solid #d4d4d4;padding:4px 10px;text-align:left}\n"
    "th{background:#f4f4f4}\n"
    "td.num,th.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}\n"
    "tr.best td{background:#fff3c4;font-weight:bold}\n"
    ".badge{font-size:11px;background:#0072b2;color:#fff;border-radius:3px;padding:1px 5px;margin-left:4px}\n"
    ".swatch{display:inline-block;width:11px;height:11px;margin-right:6px;vertical-align:-1px}\n"
    ".charts{display:flex;flex-wrap:wrap;gap:18px;align-items:flex-start}\n"
    "figure{margin:0}\n"
    "figcaption{font-size:13px;color:#555;max-width:560px;margin-top:4px}\n"
    ".wide{overflow-x:auto;max-width:100%}\n"
    ".wide figcaption{max-width:760px}\n"
    "svg{display:block;max-width:100%;height:auto}\n"
    ".wide svg{max-width:none}\n";

/* Bit of a chart kind in a set of kinds. */
#define RP_KIND(k) (1u << (k))

/* The charts whose kinds are in the set `kinds` as one row of figures (they
 * wrap where the page is too narrow): inline SVG in HTML, image links to the
 * .svg files in Markdown. Returns 0, or -1 if a chart could not be drawn. */
static int rp_figures(FILE *fp, int html, const struct rp *r, const struct rp_chart *ch, size_t n, unsigned kinds)
{
    size_t count = 0;
    for (size_t k = 0; k < n; k++)
        count += (kinds & RP_KIND(ch[k].kind)) != 0;
    if (!count)
        return 0;
    if (html)
        fputs("<div class=\"charts\">\n", fp);
    for (size_t k = 0; k < n; k++) {
        if (!(kinds & RP_KIND(ch[k].kind)))
            continue;
        if (html) {
            fprintf(fp, "<figure class=\"chart%s\" id=\"chart-%s\">\n", ch[k].wide ? " wide" : "", ch[k].name);
            if (rp_chart_write(fp, r, &ch[k], 0) != 0)
                return -1;
            fputs("<figcaption>", fp);
            svg_text(fp, ch[k].caption);
            fputs("</figcaption></figure>\n", fp);
        } else {
            fputs("![", fp);
            md_text(fp, ch[k].alt);
            fprintf(fp, "](report-%s.svg)\n\n", ch[k].name);
            md_text(fp, ch[k].caption);
            fputs("\n\n", fp);
        }
    }
    if (html)
        fputs("</div>\n", fp);
    return 0;
}

/* The whole report as HTML (html = 1) or Markdown. Returns 0, or -1 if a
 * chart could not be drawn (out of memory). */
static int rp_document(FILE *fp, int html, const struct rp *r, const struct rp_chart *ch, size_t n)
{
    char buf[1024];
    const char *split = r->split ? "test" : "validation";
    snprintf(buf, sizeof buf, "focal %s: %s", r->kind, *r->data ? r->data : "experiment");
    if (html) {
        fputs("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
              "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>", fp);
        svg_text(fp, buf);
        fprintf(fp, "</title>\n<style>\n%s</style>\n</head>\n<body>\n<h1>", rp_css);
        svg_text(fp, buf);
        fputs("</h1>\n", fp);
    } else {
        fputs("# ", fp);
        md_text(fp, buf);
        fputs("\n\n", fp);
    }
    size_t seeds = r->seeds > 0 ? (size_t)r->seeds : 0;
    for (size_t i = 0; !seeds && i < r->n_methods; i++)
        seeds = r->methods[i].n_runs > seeds ? r->methods[i].n_runs : seeds;
    snprintf(buf, sizeof buf, "%s task, %zu class%s, %zu method%s, %zu seed%s each; chosen by validation %s. "
             "Per-class charts use the %s split.", r->task, r->n_classes, r->n_classes == 1 ? "" : "es",
             r->n_methods, r->n_methods == 1 ? "" : "s", seeds, seeds == 1 ? "" : "s", r->sel_label, split);
    rp_para(fp, html, "facts", buf);

    rp_heading(fp, html, 2, "Results");
    if (html) {
        fputs("<p class=\"sentence\">", fp);
        svg_text(fp, r->sentence);
        fputs("</p>\n", fp);
    } else {
        fputs("> ", fp);
        md_text(fp, r->sentence);
        fputs("\n\n", fp);
    }
    rp_heading(fp, html, 3, "Validation (used to choose)");
    rp_results_table(fp, html, r, 0);
    if (r->have_test_stats) {
        rp_heading(fp, html, 3, "Test");
        rp_results_table(fp, html, r, 1);
    }
    snprintf(buf, sizeof buf, "mean \xC2\xB1 std over seeds; the best method on validation %s is highlighted. "
             "Test numbers are reported, but never used to choose.", r->sel_label);
    rp_para(fp, html, "note", buf);
    if (r->n_rare) {
        int len = snprintf(buf, sizeof buf, "The rarest classes in training: ");
        for (size_t q = 0; q < r->n_rare && len > 0 && (size_t)len < sizeof buf; q++)
            len += snprintf(buf + len, sizeof buf - (size_t)len, "%s%.100s (%.0f)", q ? ", " : "",
                            r->class_names[r->rare[q]], r->train_counts[r->rare[q]]);
        if (len > 0 && (size_t)len < sizeof buf)
            snprintf(buf + len, sizeof buf - (size_t)len, ".");
        rp_para(fp, html, "note", buf);
    }
    if (r->tune && rp_grid_tables(fp, html, r) != 0)
        return -1;

    rp_heading(fp, html, 2, "Training curves");
    if (rp_figures(fp, html, r, ch, n, RP_KIND(RP_LOSS) | RP_KIND(RP_SELECTION)) != 0)
        return -1;
    rp_heading(fp, html, 2, "Per-class average precision");
    if (rp_figures(fp, html, r, ch, n, RP_KIND(RP_PER_CLASS)) != 0)
        return -1;
    if (r->n_rare) {
        rp_heading(fp, html, 2, "Precision\xE2\x80\x93recall of the rarest classes");
        if (rp_figures(fp, html, r, ch, n, RP_KIND(RP_PR)) != 0)
            return -1;
        for (size_t q = 0; q < r->n_rare; q++) {
            int any = 0;
            for (size_t i = 0; i < r->n_methods; i++)
                any |= r->methods[i].pr[q].n > 0;
            if (any)
                continue;
            snprintf(buf, sizeof buf, "%.120s: no positive example in the %s split, so its precision and "
                     "recall are undefined.", r->class_names[r->rare[q]], split);
            rp_para(fp, html, "note", buf);
        }
    }
    for (size_t k = 0; k < n; k++)
        if (ch[k].kind == RP_CONFUSION) {
            rp_heading(fp, html, 2, "Confusion matrix");
            if (rp_figures(fp, html, r, ch, n, RP_KIND(RP_CONFUSION)) != 0)
                return -1;
        }
    for (size_t k = 0; k < n; k++)
        if (ch[k].kind == RP_FOCAL) {
            rp_heading(fp, html, 2, "Focal loss");
            if (rp_figures(fp, html, r, ch, n, RP_KIND(RP_FOCAL)) != 0)
                return -1;
        }
    rp_heading(fp, html, 2, "Methods");
    rp_methods_table(fp, html, r);
    snprintf(buf, sizeof buf, "Written by focal %s from results.json and the run folders it lists.",
             focal_version());
    rp_para(fp, html, "note", buf);
    if (html)
        fputs("</body>\n</html>\n", fp);
    return 0;
}

/* ---- writing -------------------------------------------------------------------------------------- */

/* Writes every file to its temporary file, then commits them all. */
static int rp_write_files(struct rp *r)
{
    struct rp_chart ch[RP_N_KINDS + RP_MAX_RARE];
    size_t n = rp_plan_charts(r, ch);
    size_t nf = n + 2;
    struct focal_wfile *wf = calloc(nf, sizeof *wf);
    char **paths = calloc(nf, sizeof *paths);
    int st = -1;
    if (!wf || !paths) {
        rp_fail(r, "out of memory");
        goto out;
    }
    for (size_t k = 0; k < n; k++) {
        char name[64];
        snprintf(name, sizeof name, "report-%s.svg", ch[k].name);
        paths[k] = rp_join(r->dir, name);
    }
    paths[n] = rp_join(r->dir, "report.md");
    paths[n + 1] = rp_join(r->dir, "report.html");
    for (size_t k = 0; k < nf; k++) {
        if (!paths[k]) {
            rp_fail(r, "out of memory");
            goto out;
        }
        if (focal_wfile_open(&wf[k], paths[k]) != FOCAL_OK) {
            rp_fail(r, "%s", focal_last_error());
            goto out;
        }
        int bad = k < n ? rp_chart_write(wf[k].fp, r, &ch[k], 1)
                        : rp_document(wf[k].fp, k == n + 1, r, ch, n);
        if (bad != 0 || ferror(wf[k].fp)) {
            rp_fail(r, "%s: cannot write: %s", paths[k], bad != 0 ? "out of memory" : "write error");
            goto out;
        }
    }
    for (size_t k = 0; k < nf; k++)
        if (focal_wfile_commit(&wf[k]) != FOCAL_OK) {
            rp_fail(r, "%s", focal_last_error());
            goto out;
        }
    /* charts of an earlier report that this one does not draw */
    for (size_t a = 0; a < sizeof rp_all_charts / sizeof rp_all_charts[0]; a++) {
        int drawn = 0;
        for (size_t k = 0; k < n; k++)
            drawn |= strcmp(ch[k].name, rp_all_charts[a]) == 0;
        if (drawn)
            continue;
        char name[64];
        snprintf(name, sizeof name, "report-%s.svg", rp_all_charts[a]);
        char *p = rp_join(r->dir, name);
        if (p)
            unlink(p);
        free(p);
    }
    st = 0;
out:
    for (size_t k = 0; wf && k < nf; k++)
        focal_wfile_abort(&wf[k]);
    for (size_t k = 0; paths && k < nf; k++)
        free(paths[k]);
    free(wf);
    free(paths);
    return st;
}

int report_write(const char *dir, char *err, size_t errlen)
{
    struct rp r;
    memset(&r, 0, sizeof r);
    r.dir = dir;
    r.err = err;
    r.errlen = errlen;
    if (errlen)
        err[0] = '\0';
    int st = rp_read_results(&r) == 0 && rp_read_runs(&r) == 0 && rp_write_files(&r) == 0 ? 0 : -1;
    rp_free(&r);
    return st;
}
