/* run_read.c — reading a run folder back (see "Reading a run folder back" in
 * focal/train.h): history.csv, metrics.json and scores.csv as run.c and
 * run_eval.c write them, checked value by value, for the experiments of
 * focal compare and focal tune and their reports. */
#define _POSIX_C_SOURCE 200809L
#include <assert.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "focal/train.h"
#include "base/csv_scan.h"
#include "base/internal.h"
#include "train/run_internal.h"

/* ---- files and fields ------------------------------------------------------------------ */

char *focal_run_file(const char *dir, const char *name)
{
    size_t n = strlen(dir) + strlen(name) + 2;
    char *s = malloc(n);
    if (s)
        snprintf(s, n, "%s/%s", dir, name);
    else
        focal_fail(FOCAL_ERR_NOMEM, "%s/%s: out of memory", dir, name);
    return s;
}

focal_status focal_read_json(const char *path, cJSON **out)
{
    char *text;
    size_t len;
    *out = NULL;
    focal_status st = focal_read_file(path, 1, &text, &len);
    if (st != FOCAL_OK)
        return st;
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
        return focal_fail(FOCAL_ERR_FORMAT, "%s:%zu:%zu: malformed JSON", path, line, col);
    }
    free(text);
    *out = o;
    return FOCAL_OK;
}

/* Reads the text of dir/name: its path into *path and the text into *text
 * (the caller frees both, also on failure). */
static focal_status read_run_text(const char *dir, const char *name, char **path, char **text, size_t *len)
{
    *text = NULL;
    if (!(*path = focal_run_file(dir, name)))
        return FOCAL_ERR_NOMEM;
    return focal_read_file(*path, 1, text, len);
}

/* The number of fields of the line [ls, le). */
static size_t count_fields(const char *ls, const char *le)
{
    size_t n = 1;
    for (const char *p = ls; p < le; p++)
        n += *p == ',';
    return n;
}

/* Splits the line [ls, le) at commas into at most max fields, each without
 * its surrounding blanks and NUL-terminated in place (the text must have a
 * writable byte at le). Returns the number of fields, max + 1 if more. */
static size_t split_fields(char *ls, char *le, char **f, size_t max)
{
    size_t n = 0;
    for (char *p = ls;;) {
        char *a, *z, *fe = focal_csv_field(p, le, &a, &z);
        if (n == max)
            return max + 1;
        f[n++] = a;
        *z = '\0';
        if (fe >= le)
            return n;
        p = fe + 1;
    }
}

/* A field as a number; empty = NaN. Returns 0, or -1 if it is not a finite number. */
static int field_num(const char *s, double *v)
{
    if (!*s) {
        *v = NAN;
        return 0;
    }
    return focal_csv_parse(s, strlen(s), v) == FOCAL_CSV_NUMBER ? 0 : -1;
}

/* ---- history.csv ----------------------------------------------------------------------- */

enum { H_EPOCH, H_TRAIN_LOSS, H_VAL_LOSS, H_MAP, H_AUC, H_MACRO_F1, H_BACC, H_ACC, H_IMPROVED, H_LR, H_SECONDS,
       H_N };
static const char *const history_columns[H_N] = {
    "epoch", "train_loss", "val_loss", "val_map", "val_auc", "val_macro_f1", "val_balanced_accuracy",
    "val_accuracy", "improved", "lr", "seconds",
};
/* history.csv has no more columns than this */
#define H_MAX_COLUMNS 64

/* The record of one row's values v (in history_columns' order). */
static struct focal_epoch_record history_record(const double *v)
{
    return (struct focal_epoch_record){
        .epoch = (int)v[H_EPOCH], .train_loss = v[H_TRAIN_LOSS], .val_loss = v[H_VAL_LOSS], .val_map = v[H_MAP],
        .val_auc = v[H_AUC], .val_macro_f1 = v[H_MACRO_F1], .val_balanced_accuracy = v[H_BACC],
        .val_accuracy = v[H_ACC], .select_value = NAN, .improved = isfinite(v[H_IMPROVED]) && v[H_IMPROVED] != 0.0,
        .lr = v[H_LR], .seconds = v[H_SECONDS],
    };
}

focal_status focal_run_read_history(const char *dir, struct focal_epoch_record **rows, int *n)
{
    char *path, *text, *f[H_MAX_COLUMNS], *ls, *le;
    size_t len, col[H_N];
    int cap = 0;
    *rows = NULL;
    *n = 0;
    focal_status st = read_run_text(dir, "history.csv", &path, &text, &len);
    if (st != FOCAL_OK)
        goto out;
    struct focal_csv_cursor cur;
    focal_csv_begin(&cur, text, len);
    if (!focal_csv_next_line(&cur, &ls, &le)) {
        st = focal_fail(FOCAL_ERR_FORMAT, "%s: empty; expected a header line and one row per epoch", path);
        goto out;
    }
    size_t nh = split_fields(ls, le, f, H_MAX_COLUMNS);
    if (nh > H_MAX_COLUMNS) {
        st = focal_fail(FOCAL_ERR_FORMAT, "%s: more than %d columns; expected a training history", path,
                        H_MAX_COLUMNS);
        goto out;
    }
    for (int c = 0; c < H_N; c++) {
        col[c] = 0;
        while (col[c] < nh && strcmp(f[col[c]], history_columns[c]) != 0)
            col[c]++;
        if (col[c] == nh) {
            st = focal_fail(FOCAL_ERR_FORMAT, "%s: the header has no column '%s'", path, history_columns[c]);
            goto out;
        }
    }
    while (focal_csv_next_line(&cur, &ls, &le)) {
        size_t nf = split_fields(ls, le, f, H_MAX_COLUMNS);
        double v[H_N];
        if (nf != nh) {
            st = focal_fail(FOCAL_ERR_FORMAT, "%s:%zu: %zu fields; the header has %zu", path, cur.line, nf, nh);
            goto out;
        }
        if (*n == FOCAL_RUN_MAX_EPOCHS) {
            st = focal_fail(FOCAL_ERR_FORMAT, "%s: more than %d epochs", path, FOCAL_RUN_MAX_EPOCHS);
            goto out;
        }
        for (int c = 0; c < H_N; c++)
            if (field_num(f[col[c]], &v[c]) != 0) {
                st = focal_fail(FOCAL_ERR_FORMAT, "%s:%zu: column '%s': '%s' is not a number", path, cur.line,
                                history_columns[c], f[col[c]]);
                goto out;
            }
        if (!(v[H_EPOCH] >= 1.0 && v[H_EPOCH] <= FOCAL_RUN_MAX_EPOCHS) || v[H_EPOCH] != floor(v[H_EPOCH])) {
            st = focal_fail(FOCAL_ERR_FORMAT, "%s:%zu: epoch '%s' is not in 1..%d", path, cur.line,
                            f[col[H_EPOCH]], FOCAL_RUN_MAX_EPOCHS);
            goto out;
        }
        if (*n == cap) {
            cap = cap ? 2 * cap : 64;
            struct focal_epoch_record *more = realloc(*rows, (size_t)cap * sizeof *more);
            if (!more) {
                st = focal_fail(FOCAL_ERR_NOMEM, "%s: out of memory", path);
                goto out;
            }
            *rows = more;
        }
        (*rows)[(*n)++] = history_record(v);
    }
out:
    if (st != FOCAL_OK) {
        free(*rows);
        *rows = NULL;
        *n = 0;
    }
    free(text);
    free(path);
    return st;
}

double focal_epoch_select_value(const struct focal_epoch_record *r, enum focal_select s)
{
    assert(s != FOCAL_SELECT_AUTO && s < FOCAL_SELECT_COUNT);
    switch (s) {
    case FOCAL_SELECT_MAP: return r->val_map;
    case FOCAL_SELECT_AUC: return r->val_auc;
    case FOCAL_SELECT_MACRO_F1: return r->val_macro_f1;
    case FOCAL_SELECT_BALANCED_ACCURACY: return r->val_balanced_accuracy;
    case FOCAL_SELECT_ACCURACY: return r->val_accuracy;
    default: return r->val_loss;
    }
}

/* ---- metrics.json ---------------------------------------------------------------------- */

/* A number member of o; NaN when absent, null or not a number. */
static double json_num(const cJSON *o, const char *key)
{
    const cJSON *x = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsNumber(x) ? x->valuedouble : NAN;
}

/* Frees names[0..n) and the array names (which may be NULL). */
static void free_names(char **names, int n)
{
    for (int j = 0; names && j < n; j++)
        free(names[j]);
    free(names);
}

static void split_free(struct focal_split_summary *s)
{
    free_names(s->class_names, s->num_classes);
    free(s->average_precision);
    free(s->confusion);
    memset(s, 0, sizeof *s);
}

/* The confusion matrix of a binary or multi-class split, C × C counts. */
static focal_status read_confusion(struct focal_split_summary *s, const char *path, const char *split,
                                   const cJSON *m)
{
    size_t C = (size_t)s->num_classes, i = 0;
    if (!cJSON_IsArray(m) || (size_t)cJSON_GetArraySize(m) != C)
        return focal_fail(FOCAL_ERR_FORMAT, "%s: %s.confusion_matrix: expected %zu rows of %zu counts", path, split,
                          C, C);
    if (!(s->confusion = malloc((C ? C * C : 1) * sizeof *s->confusion)))
        return focal_fail(FOCAL_ERR_NOMEM, "%s: out of memory", path);
    const cJSON *row;
    cJSON_ArrayForEach(row, m) {
        if (!cJSON_IsArray(row) || (size_t)cJSON_GetArraySize(row) != C)
            return focal_fail(FOCAL_ERR_FORMAT, "%s: %s.confusion_matrix[%zu]: expected %zu counts", path, split, i,
                              C);
        size_t k = 0;
        const cJSON *v;
        cJSON_ArrayForEach(v, row) {
            if (!cJSON_IsNumber(v) || !(v->valuedouble >= 0.0) || v->valuedouble > 1e15)
                return focal_fail(FOCAL_ERR_FORMAT, "%s: %s.confusion_matrix[%zu][%zu]: not a count", path, split,
                                  i, k);
            s->confusion[i * C + k++] = (int64_t)v->valuedouble;
        }
        i++;
    }
    return FOCAL_OK;
}

/* One split object o of metrics.json into *s (freed by the caller on failure too). */
static focal_status read_split(struct focal_split_summary *s, const char *path, const char *split, const cJSON *o)
{
    s->map = json_num(o, "average_precision_macro");
    s->auc = json_num(o, "roc_auc_macro");
    s->macro_f1 = json_num(o, "macro_f1");
    s->balanced_accuracy = json_num(o, "balanced_accuracy");
    s->accuracy = json_num(o, "accuracy");
    const cJSON *pc = cJSON_GetObjectItemCaseSensitive(o, "per_class");
    if (!cJSON_IsArray(pc))
        return focal_fail(FOCAL_ERR_FORMAT, "%s: %s.per_class: %s; expected an array", path, split,
                          pc ? "not an array" : "missing");
    int C = cJSON_GetArraySize(pc);
    s->class_names = calloc(C ? (size_t)C : 1, sizeof *s->class_names);
    s->average_precision = malloc((C ? (size_t)C : 1) * sizeof *s->average_precision);
    if (!s->class_names || !s->average_precision)
        return focal_fail(FOCAL_ERR_NOMEM, "%s: out of memory", path);
    const cJSON *e;
    cJSON_ArrayForEach(e, pc) {
        const cJSON *name = cJSON_GetObjectItemCaseSensitive(e, "name");
        if (!cJSON_IsString(name))
            return focal_fail(FOCAL_ERR_FORMAT, "%s: %s.per_class[%d]: no \"name\"; expected an object per class",
                              path, split, s->num_classes);
        s->average_precision[s->num_classes] = json_num(e, "average_precision");
        if (!(s->class_names[s->num_classes++] = strdup(name->valuestring)))
            return focal_fail(FOCAL_ERR_NOMEM, "%s: out of memory", path);
    }
    /* multi-label data has a 2 × 2 matrix per label instead */
    const cJSON *task = cJSON_GetObjectItemCaseSensitive(o, "task");
    const cJSON *cm = cJSON_GetObjectItemCaseSensitive(o, "confusion_matrix");
    if (cm && !(cJSON_IsString(task) && strcmp(task->valuestring, "multilabel") == 0))
        return read_confusion(s, path, split, cm);
    return FOCAL_OK;
}

focal_status focal_run_read_metrics(const char *dir, struct focal_run_metrics *m)
{
    char *path = focal_run_file(dir, "metrics.json");
    cJSON *o = NULL;
    focal_status st;
    memset(m, 0, sizeof *m);
    if (!path)
        return FOCAL_ERR_NOMEM;
    if ((st = focal_read_json(path, &o)) != FOCAL_OK)
        goto out;
    const cJSON *val = cJSON_GetObjectItemCaseSensitive(o, "val");
    const cJSON *test = cJSON_GetObjectItemCaseSensitive(o, "test");
    if (!cJSON_IsObject(val)) {
        st = focal_fail(FOCAL_ERR_FORMAT, "%s: no \"val\" object; expected a run's metrics", path);
        goto out;
    }
    m->have_test = cJSON_IsObject(test);
    if ((st = read_split(&m->val, path, "val", val)) == FOCAL_OK && m->have_test)
        st = read_split(&m->test, path, "test", test);
out:
    if (st != FOCAL_OK)
        focal_run_metrics_release(m);
    cJSON_Delete(o);
    free(path);
    return st;
}

void focal_run_metrics_release(struct focal_run_metrics *m)
{
    if (!m)
        return;
    split_free(&m->val);
    split_free(&m->test);
    m->have_test = 0;
}

/* ---- scores.csv ------------------------------------------------------------------------ */

void focal_run_scores_release(struct focal_run_scores *s)
{
    if (!s)
        return;
    free_names(s->names, s->outputs);
    free_names(s->ids, s->n);
    free(s->probs);
    free(s->labels);
    memset(s, 0, sizeof *s);
}

/* The header split,id,<names>,y_<names> (fields f[0..nh)) into s->names. */
static focal_status scores_header(struct focal_run_scores *s, const char *path, char **f, size_t nh)
{
    if (nh < 4 || nh % 2 != 0 || strcmp(f[0], "split") != 0 || strcmp(f[1], "id") != 0)
        return focal_fail(FOCAL_ERR_FORMAT, "%s: the header is not split,id,<class names>,<y_ class names>", path);
    size_t K = (nh - 2) / 2;
    if (K > INT_MAX || !(s->names = calloc(K, sizeof *s->names)))
        return focal_fail(FOCAL_ERR_NOMEM, "%s: out of memory", path);
    s->outputs = (int)K;
    for (size_t k = 0; k < K; k++) {
        const char *y = f[2 + K + k];
        if (strncmp(y, "y_", 2) != 0 || strcmp(y + 2, f[2 + k]) != 0)
            return focal_fail(FOCAL_ERR_FORMAT, "%s: column %zu is '%s'; expected 'y_%s'", path, 3 + K + k, y,
                              f[2 + k]);
        if (!(s->names[k] = strdup(f[2 + k])))
            return focal_fail(FOCAL_ERR_NOMEM, "%s: out of memory", path);
    }
    return FOCAL_OK;
}

/* The id of a row whose fields between split and the numbers are
 * f[0..n) (an id may hold commas), joined again, in a new string. */
static char *scores_id(char **f, size_t n)
{
    size_t len = 1;
    for (size_t k = 0; k < n; k++)
        len += strlen(f[k]) + 1;
    char *id = malloc(len), *p = id;
    for (size_t k = 0; id && k < n; k++)
        p += sprintf(p, "%s%s", k ? "," : "", f[k]);
    if (id && !n)
        *id = '\0';
    return id;
}

/* Appends one row to s: its id fields f[0..n_id), then its numbers
 * num[0..2K) (K probabilities, then K labels). */
static focal_status scores_row(struct focal_run_scores *s, size_t *cap, const char *path, size_t line, char **f,
                               size_t n_id, char **num)
{
    size_t K = (size_t)s->outputs, at = (size_t)s->n;
    if (s->n == INT_MAX)
        return focal_fail(FOCAL_ERR_FORMAT, "%s: too many rows", path);
    if (at == *cap) {
        size_t c = *cap ? 2 * *cap : 1024;
        double *p = realloc(s->probs, c * K * sizeof *p);
        if (p)
            s->probs = p;
        uint8_t *y = p ? realloc(s->labels, c * K) : NULL;
        if (y)
            s->labels = y;
        char **ids = y ? realloc(s->ids, c * sizeof *ids) : NULL;
        if (!ids)
            return focal_fail(FOCAL_ERR_NOMEM, "%s: out of memory", path);
        s->ids = ids;
        *cap = c;
    }
    for (size_t k = 0; k < K; k++) {
        double p, y;
        if (field_num(num[k], &p) != 0 || !isfinite(p) || field_num(num[K + k], &y) != 0 || (y != 0.0 && y != 1.0))
            return focal_fail(FOCAL_ERR_FORMAT,
                              "%s:%zu: class '%s': expected a probability and a 0/1 label, found '%s' and '%s'", path,
                              line, s->names[k], num[k], num[K + k]);
        s->probs[at * K + k] = p;
        s->labels[at * K + k] = (uint8_t)(y == 1.0);
    }
    if (!(s->ids[at] = scores_id(f, n_id)))
        return focal_fail(FOCAL_ERR_NOMEM, "%s: out of memory", path);
    s->n++;
    return FOCAL_OK;
}

focal_status focal_run_read_scores(const char *dir, const char *split, struct focal_run_scores *s)
{
    char *path, *text, **f = NULL, *ls, *le;
    size_t len, cap = 0;
    memset(s, 0, sizeof *s);
    focal_status st = read_run_text(dir, "scores.csv", &path, &text, &len);
    if (st != FOCAL_OK)
        goto out;
    struct focal_csv_cursor cur;
    focal_csv_begin(&cur, text, len);
    size_t max = 0, nh = 0;
    while (st == FOCAL_OK && focal_csv_next_line(&cur, &ls, &le)) {
        /* an id may hold commas: room for every field of this row */
        size_t need = count_fields(ls, le);
        if (need > max) {
            char **more = realloc(f, need * sizeof *f);
            if (!more) {
                st = focal_fail(FOCAL_ERR_NOMEM, "%s: out of memory", path);
                break;
            }
            f = more;
            max = need;
        }
        size_t nf = split_fields(ls, le, f, need);
        if (!nh) {
            nh = nf;
            st = scores_header(s, path, f, nh);
        } else if (nf < nh) {
            st = focal_fail(FOCAL_ERR_FORMAT, "%s:%zu: %zu fields; the header has %zu", path, cur.line, nf, nh);
        } else if (strcmp(f[0], "val") != 0 && strcmp(f[0], "test") != 0) {
            st = focal_fail(FOCAL_ERR_FORMAT, "%s:%zu: split '%s'; expected val or test", path, cur.line, f[0]);
        } else if (strcmp(f[0], split) == 0) {
            /* the numbers are the last 2K fields, whatever the id holds */
            st = scores_row(s, &cap, path, cur.line, f + 1, nf - 1 - 2 * (size_t)s->outputs,
                            f + nf - 2 * (size_t)s->outputs);
        }
    }
    if (st == FOCAL_OK && !nh)
        st = focal_fail(FOCAL_ERR_FORMAT, "%s: the header is not split,id,<class names>,<y_ class names>", path);
out:
    if (st != FOCAL_OK)
        focal_run_scores_release(s);
    free(f);
    free(text);
    free(path);
    return st;
}
