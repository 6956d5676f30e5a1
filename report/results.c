/* results.c — the experiment as the report reads it: DIR/results.json (the
 * methods, their mean ± std per metric, the chosen method, a tune's grid),
 * checked member by member, and every run folder it names, read through the
 * library's run-folder readers (history, metrics, scores). */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cjson/cJSON.h>

#include "focal.h"
#include "report/report_internal.h"
#include "report/svg.h"

double rp_num(const cJSON *o)
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

/* The task named name (as focal_task_name writes it) into *t. Returns 0, or -1. */
static int rp_task(const char *name, enum focal_task *t)
{
    static const enum focal_task tasks[] = { FOCAL_TASK_BINARY, FOCAL_TASK_MULTICLASS, FOCAL_TASK_MULTILABEL };
    for (size_t i = 0; i < sizeof tasks / sizeof tasks[0]; i++)
        if (strcmp(focal_task_name(tasks[i]), name) == 0) {
            *t = tasks[i];
            return 0;
        }
    return -1;
}

/* The selection metric results.json's "select" names (the library's names,
 * or with '_' for '-' as the experiment tables write them: macro_f1), "auto"
 * resolved for the task as the library resolves it. Returns 0, or -1 when
 * key names none. */
static int rp_select(const char *key, enum focal_task task, enum focal_select *s)
{
    char name[32];
    size_t n = strlen(key);
    if (n >= sizeof name)
        return -1;
    for (size_t i = 0; i <= n; i++)
        name[i] = key[i] == '_' ? '-' : key[i];
    if (focal_select_parse(name, s) != FOCAL_OK)
        return -1;
    *s = focal_select_resolve(*s, task);
    return 0;
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

/* The gain over the baseline of a method or an ensemble o: its
 * "vs_<baseline>" object, or NULL (no baseline, or none given). */
static const cJSON *rp_gain(const struct rp *r, const cJSON *o)
{
    char key[96];
    if (!r->baseline || (size_t)snprintf(key, sizeof key, "vs_%s", r->baseline) >= sizeof key)
        return NULL;
    const cJSON *g = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsObject(g) ? g : NULL;
}

/* The optional "ensembles" array: name, method and a "val" object each. */
static int rp_read_ensembles(struct rp *r, const char *file)
{
    const cJSON *a = cJSON_GetObjectItemCaseSensitive(r->root, "ensembles"), *e;
    if (!a)
        return 0;
    if (!cJSON_IsArray(a))
        return rp_fail(r, "%s: ensembles: not an array; expected an array of seed ensembles", file);
    size_t n = (size_t)cJSON_GetArraySize(a), i = 0;
    if (!n)
        return 0;
    if (!(r->ensembles = calloc(n, sizeof *r->ensembles)))
        return rp_fail(r, "out of memory");
    cJSON_ArrayForEach(e, a) {
        struct rp_ensemble *x = &r->ensembles[i];
        char where[48];
        snprintf(where, sizeof where, "ensembles[%zu].", i);
        if (!cJSON_IsObject(e))
            return rp_fail(r, "%s: ensembles[%zu]: not an object", file, i);
        if (rp_str(r, file, e, where, "name", NULL, &x->name) != 0 ||
            rp_str(r, file, e, where, "method", "", &x->method) != 0)
            return -1;
        x->gain = rp_gain(r, e);
        x->stats[0] = cJSON_GetObjectItemCaseSensitive(e, "val");
        x->stats[1] = cJSON_GetObjectItemCaseSensitive(e, "test");
        if (!cJSON_IsObject(x->stats[0]))
            return rp_fail(r, "%s: ensembles[%zu].val: %s; expected an object of {mean, std} per metric", file, i,
                           x->stats[0] ? "not an object" : "missing");
        if (!cJSON_IsObject(x->stats[1]))
            x->stats[1] = NULL;
        r->n_ensembles = ++i;
    }
    return 0;
}

int rp_read_results(struct rp *r)
{
    char *file = rp_join(r->dir, "results.json");
    if (!file)
        return rp_fail(r, "out of memory");
    int st = -1;
    if (focal_read_json(file, &r->root) != FOCAL_OK) {
        rp_fail(r, "%s", focal_last_error());
        goto out;
    }
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
    enum focal_task task;
    if (rp_task(r->task, &task) != 0) {
        rp_fail(r, "%s: task: '%s'; expected binary, multiclass or multilabel", file, r->task);
        goto out;
    }
    if (rp_select(r->sel_key, task, &r->sel) != 0) {
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
    if (r->n_metrics > RP_MAX_METRICS) {
        rp_fail(r, "%s: metrics: %zu entries; a report shows at most %d", file, r->n_metrics, RP_MAX_METRICS);
        goto out;
    }
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

    if (rp_str(r, file, r->root, "", "baseline", "", &r->baseline) != 0)
        goto out;
    if (!*r->baseline)
        r->baseline = NULL;
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
        m->gain = rp_gain(r, mo);
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
    if (rp_read_ensembles(r, file) != 0)
        goto out;
    st = 0;
out:
    free(file);
    return st;
}

/* ---- run folders ---------------------------------------------------------------------------- */

/* run/history.csv through the library's reader. */
static int rp_read_history(struct rp *r, struct rp_run *run)
{
    if (focal_run_read_history(run->path, &run->history, &run->n_epochs) != FOCAL_OK)
        return rp_fail(r, "%s", focal_last_error());
    return 0;
}

/* The per-class AP (into a new array in r's class order) and the confusion
 * matrix (binary and multi-class; rows and columns reordered from the run's
 * class order, that of per_class, to r's) of one split of metrics.json. */
static int rp_read_split(struct rp *r, const char *path, const char *split, const struct focal_split_summary *s,
                         double **ap, int64_t **cm)
{
    size_t C = r->n_classes;
    if ((size_t)s->num_classes != C)
        return rp_fail(r, "%s: %s.per_class has %d classes; results.json has %zu", path, split, s->num_classes, C);
    size_t *pos = malloc(C * sizeof *pos);
    *ap = malloc(C * sizeof **ap);
    if (!pos || !*ap) {
        free(pos);
        return rp_fail(r, "out of memory");
    }
    for (size_t j = 0; j < C; j++) {
        size_t at = 0;
        while (at < C && strcmp(s->class_names[at], r->class_names[j]) != 0)
            at++;
        if (at == C) {
            free(pos);
            return rp_fail(r, "%s: %s.per_class has no class '%s' (a class of results.json)", path, split,
                           r->class_names[j]);
        }
        pos[j] = at;
        (*ap)[j] = s->average_precision[at];
    }
    int st = 0;
    if (strcmp(r->task, "multilabel") != 0) {
        if (!s->confusion)
            st = rp_fail(r, "%s: %s.confusion_matrix: expected %zu rows of %zu counts", path, split, C, C);
        else if (!(*cm = malloc(C * C * sizeof **cm)))
            st = rp_fail(r, "out of memory");
        else
            for (size_t i = 0; i < C; i++)
                for (size_t k = 0; k < C; k++)
                    (*cm)[i * C + k] = s->confusion[pos[i] * C + pos[k]];
    }
    free(pos);
    return st;
}

/* run/metrics.json: per-class AP and confusion matrix of validation and test. */
static int rp_read_metrics(struct rp *r, struct rp_run *run)
{
    struct focal_run_metrics m;
    if (focal_run_read_metrics(run->path, &m) != FOCAL_OK)
        return rp_fail(r, "%s", focal_last_error());
    char *path = rp_join(run->path, "metrics.json");
    int st = !path ? rp_fail(r, "out of memory")
             : rp_read_split(r, path, "val", &m.val, &run->ap[0], &run->cm[0]) != 0 ? -1
             : m.have_test ? rp_read_split(r, path, "test", &m.test, &run->ap[1], &run->cm[1])
                           : 0;
    free(path);
    focal_run_metrics_release(&m);
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

/* The precision-recall step curve and AP of the n scores s[i] against the
 * labels y[i]: the points (R_{k-1}, P_k), (R_k, P_k) for every distinct
 * score threshold k from the highest, so that the area under the steps is
 * the average precision Σ (R_k − R_{k−1}) P_k. */
static int rp_pr_curve(struct rp *r, struct rp_pr *pr, const double *s, const uint8_t *y, size_t n)
{
    pr->samples = (long)n;
    pr->positives = 0;
    pr->ap = NAN;
    for (size_t i = 0; i < n; i++)
        pr->positives += y[i];
    if (pr->positives == 0)
        return 0;
    if (focal_average_precision(&pr->ap, (int)n, s, y, 1) != FOCAL_OK)
        return rp_fail(r, "%s", focal_last_error());
    struct rp_scored *v = malloc(n * sizeof *v);
    pr->recall = malloc((2 * n + 1) * sizeof *pr->recall);
    pr->precision = malloc((2 * n + 1) * sizeof *pr->precision);
    if (!v || !pr->recall || !pr->precision) {
        free(v);
        return rp_fail(r, "out of memory");
    }
    for (size_t i = 0; i < n; i++)
        v[i] = (struct rp_scored){ s[i], y[i] };
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

/* The precision-recall curve of rarest class q from the scores sc into pr:
 * its column, or for a binary task's negative class (no column of its own)
 * 1 − p against 1 − y. */
static int rp_class_pr(struct rp *r, const char *path, const struct focal_run_scores *sc, size_t q,
                       struct rp_pr *pr)
{
    const char *name = r->class_names[r->rare[q]];
    size_t K = (size_t)sc->outputs, n = (size_t)sc->n, k = 0;
    while (k < K && strcmp(sc->names[k], name) != 0)
        k++;
    int complement = k == K && strcmp(r->task, "binary") == 0 && K == 1 && r->rare[q] == 0;
    if (k == K && !complement)
        return rp_fail(r, "%s: no column for class '%s'", path, name);
    if (complement)
        k = 0;
    if (n == 0)
        return 0;
    double *s = malloc(n * sizeof *s);
    uint8_t *y = malloc(n);
    int st = -1;
    if (!s || !y) {
        rp_fail(r, "out of memory");
        goto out;
    }
    for (size_t i = 0; i < n; i++) {
        double p = sc->probs[i * K + k];
        uint8_t l = sc->labels[i * K + k];
        s[i] = complement ? 1.0 - p : p;
        y[i] = (uint8_t)(complement ? !l : l);
    }
    st = rp_pr_curve(r, pr, s, y, n);
out:
    free(s);
    free(y);
    return st;
}

/* run/scores.csv of the method's first run: the precision-recall curves of
 * the rarest classes in the report's split, into m->pr. */
static int rp_read_scores(struct rp *r, struct rp_method *m)
{
    struct focal_run_scores sc;
    if (focal_run_read_scores(m->runs[0].path, r->split ? "test" : "val", &sc) != FOCAL_OK)
        return rp_fail(r, "%s", focal_last_error());
    char *path = rp_join(m->runs[0].path, "scores.csv");
    int st = path ? 0 : rp_fail(r, "out of memory");
    for (size_t q = 0; st == 0 && q < r->n_rare; q++)
        st = rp_class_pr(r, path, &sc, q, &m->pr[q]);
    free(path);
    focal_run_scores_release(&sc);
    return st;
}

int rp_read_runs(struct rp *r)
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

void rp_free(struct rp *r)
{
    for (size_t i = 0; r->methods && i < r->n_methods; i++) {
        struct rp_method *m = &r->methods[i];
        for (size_t k = 0; m->runs && k < m->n_runs; k++) {
            struct rp_run *run = &m->runs[k];
            free(run->path);
            free(run->history);
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
    free(r->ensembles);
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
