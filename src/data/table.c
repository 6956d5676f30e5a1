/* table.c — CSV tables of numeric features and one target column
 * (focal_read_table): features as floats (missing values NaN), the target's
 * distinct values as the classes. */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "focal/data.h"
#include "data/dataset_internal.h"

/* The target column of t from opt->target (a header name, else a 1-based
 * index; NULL: the last column). */
static focal_status table_target(const struct focal_table *t, const char *target, size_t *col)
{
    if (!target) {
        *col = t->cols - 1;
        return FOCAL_OK;
    }
    if (t->header)
        for (size_t c = 0; c < t->cols; c++)
            if (strcmp(t->header[c], target) == 0) {
                *col = c;
                return FOCAL_OK;
            }
    char *end;
    errno = 0;
    long k = strtol(target, &end, 10);
    if (*target && !*end && errno == 0 && k >= 1 && (unsigned long)k <= t->cols) {
        *col = (size_t)k - 1;
        return FOCAL_OK;
    }
    char names[600] = "";
    size_t used = 0;
    for (size_t c = 0; t->header && c < t->cols && used < sizeof names; c++) {
        int w = snprintf(names + used, sizeof names - used, "%s%s", c ? ", " : "", t->header[c]);
        if (w < 0)
            break;
        used += (size_t)w;
    }
    return focal_fail(FOCAL_ERR_ARG, "%s: no target column '%s'; expected %s%s1 to %zu", t->path, target,
                      t->header ? "a column name (" : "", t->header ? names : "", t->cols);
}

/* A target value: its text and, when numeric, its value. */
struct table_class {
    const char *text;
    double value;
};

/* qsort order of table_class by numeric value. */
static int table_cmp_num(const void *a, const void *b)
{
    const struct table_class *x = a, *y = b;
    return (x->value > y->value) - (x->value < y->value);
}

/* qsort order of table_class by text (strcmp). */
static int table_cmp_text(const void *a, const void *b)
{
    return strcmp(((const struct table_class *)a)->text, ((const struct table_class *)b)->text);
}

/* Sets d's classes and labels from target column tc: numbers (every value
 * parses) are sorted by value and named "%.15g"; other values are sorted by
 * strcmp and named by their text. */
static focal_status table_classes(struct focal_dataset *d, const struct focal_table *t, size_t tc)
{
    const size_t n = t->rows;
    int numeric = 1;
    struct table_class *v = malloc(n * sizeof *v);
    if (!v)
        return focal_fail(FOCAL_ERR_NOMEM, "%s: out of memory", t->path);
    for (size_t r = 0; r < n; r++) {
        v[r].text = focal_table_at(t, r, tc);
        if (focal_table_is_missing(v[r].text)) {
            char name[80];
            free(v);
            return focal_fail(FOCAL_ERR_FORMAT, "%s:%zu:%zu: target %s has no value; expected a class on every row",
                              t->path, t->line[r], focal_table_column(t, r, tc),
                              focal_table_colname(t, tc, name, sizeof name));
        }
        numeric &= focal_text_is_number(v[r].text, &v[r].value);
    }
    int (*cmp)(const void *, const void *) = numeric ? table_cmp_num : table_cmp_text;
    qsort(v, n, sizeof *v, cmp);
    size_t c = 0;
    for (size_t r = 0; r < n; r++)
        if (c == 0 || cmp(&v[c - 1], &v[r]) != 0)
            v[c++] = v[r];
    focal_status st = FOCAL_OK;
    if (c < 2) {
        char q[FOCAL_CSV_QUOTE_SIZE];
        focal_text_quote(q, v[0].text);
        st = focal_fail(FOCAL_ERR_FORMAT, "%s: the target column holds only the value '%s'; expected at least "
                        "two classes", t->path, q);
    } else if (c > 100000) {
        st = focal_fail(FOCAL_ERR_FORMAT, "%s: the target column holds %zu distinct values; expected class "
                        "labels, not a continuous value", t->path, c);
    }
    if (st == FOCAL_OK && !(d->class_names = calloc(c, sizeof *d->class_names)))
        st = focal_fail(FOCAL_ERR_NOMEM, "%s: out of memory", t->path);
    if (st == FOCAL_OK)
        d->num_classes = (int)c;
    for (size_t j = 0; j < c && st == FOCAL_OK; j++) {
        char num[40];
        if (numeric)
            snprintf(num, sizeof num, "%.15g", v[j].value);
        if (!(d->class_names[j] = focal_ds_strdup(numeric ? num : v[j].text)))
            st = focal_fail(FOCAL_ERR_NOMEM, "%s: out of memory", t->path);
    }
    for (size_t r = 0; r < n && st == FOCAL_OK; r++) {
        struct table_class key = { focal_table_at(t, r, tc), 0.0 };
        if (numeric)
            focal_text_is_number(key.text, &key.value);
        const struct table_class *hit = bsearch(&key, v, c, sizeof *v, cmp);
        d->label[r] = (int32_t)(hit - v);
    }
    free(v);
    d->task = c == 2 ? FOCAL_TASK_BINARY : FOCAL_TASK_MULTICLASS;
    return st;
}

focal_status focal_read_table(struct focal_dataset *d, const char *path, const struct focal_data_options *opt)
{
    struct focal_table t;
    focal_status st = focal_table_read(path, opt->header, &t);
    if (st != FOCAL_OK)
        return st;
    size_t tc = 0, nf = t.cols - 1, need;
    if (t.cols == 1) {
        /* one column whose first line holds another separator: a file written with ';' or tabs */
        const char *first = t.header ? t.header[0] : t.rows ? focal_table_at(&t, 0, 0) : "";
        const char sep = strchr(first, ';') ? ';' : strchr(first, '\t') ? '\t' : 0;
        if (sep) {
            st = focal_fail(FOCAL_ERR_FORMAT, "%s:%zu: one column, whose first line is separated by %s; fields "
                            "must be comma-separated (save the table as CSV with commas, e.g. sed 's/%s/,/g')",
                            path, t.header ? t.header_line : t.line[0], sep == ';' ? "semicolons" : "tabs",
                            sep == ';' ? ";" : "\\t");
            goto out;
        }
    }
    if ((st = table_target(&t, opt->target, &tc)) != FOCAL_OK)
        goto out;
    if (t.cols < 2) {
        st = focal_fail(FOCAL_ERR_FORMAT, "%s: one column; expected feature columns and a target column", path);
        goto out;
    }
    if (t.rows > INT_MAX || nf > INT_MAX || focal_ds_mul3(t.rows, nf, sizeof(float), &need) != 0) {
        st = focal_fail(FOCAL_ERR_FORMAT, "%s: too large (%zu rows, %zu columns)", path, t.rows, t.cols);
        goto out;
    }
    d->n = (int)t.rows;
    d->n_features = 0;
    d->features = malloc(need);
    d->label = malloc(t.rows * sizeof *d->label);
    d->ids = calloc(t.rows, sizeof *d->ids);
    if (t.header && (d->feature_names = calloc(nf, sizeof *d->feature_names)))
        d->n_features = (int)nf;
    if (!d->features || !d->label || !d->ids || (t.header && !d->feature_names)) {
        st = focal_fail(FOCAL_ERR_NOMEM, "%s: out of memory", path);
        goto out;
    }
    d->n_features = (int)nf;
    for (size_t c = 0, f = 0; c < t.cols && t.header; c++)
        if (c != tc && !(d->feature_names[f++] = focal_ds_strdup(t.header[c]))) {
            st = focal_fail(FOCAL_ERR_NOMEM, "%s: out of memory", path);
            goto out;
        }
    for (size_t r = 0; r < t.rows; r++) {
        float *x = d->features + r * nf;
        for (size_t c = 0; c < t.cols; c++) {
            double v;
            if (c == tc)
                continue;
            if ((st = focal_table_number(&t, r, c, 1, &v)) != FOCAL_OK)
                goto out;
            if (!isnan(v) && fabs(v) > 3.4028234663852886e38) {
                char q[FOCAL_CSV_QUOTE_SIZE];
                focal_text_quote(q, focal_table_at(&t, r, c));
                st = focal_fail(FOCAL_ERR_FORMAT, "%s:%zu:%zu: value '%s' is beyond the float range; expected "
                                "a magnitude below 3.4e38", path, t.line[r], focal_table_column(&t, r, c), q);
                goto out;
            }
            *x++ = (float)v;
        }
        if (!(d->ids[r] = focal_ds_itoa((long)t.line[r]))) {
            st = focal_fail(FOCAL_ERR_NOMEM, "%s: out of memory", path);
            goto out;
        }
    }
    st = table_classes(d, &t, tc);
out:
    focal_table_release(&t);
    return st;
}
