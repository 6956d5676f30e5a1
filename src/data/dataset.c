/* dataset.c — reading labelled datasets: format detection, the RFMiD label
 * CSVs with their image folders, class folders of images and numeric CSV
 * tables, and what every reader shares (freeing, class counts, numbering).
 * MedMNIST .npz files are read in npz.c, MNIST idx files in idx.c, and image
 * files are decoded in imgcache.c. */
#define _POSIX_C_SOURCE 200809L

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "focal/data.h"
#include "data/dataset_internal.h"

/* ---- shared helpers ------------------------------------------------------- */

char *focal_ds_strdup(const char *s)
{
    return focal_ds_concat3(s, "", "");
}

char *focal_ds_concat3(const char *a, const char *b, const char *c)
{
    size_t na = strlen(a), nb = strlen(b), nc = strlen(c);
    char *s = malloc(na + nb + nc + 1);
    if (!s)
        return NULL;
    memcpy(s, a, na);
    memcpy(s + na, b, nb);
    memcpy(s + na + nb, c, nc + 1);
    return s;
}

int focal_ds_mul3(size_t a, size_t b, size_t c, size_t *out)
{
    if ((b && a > SIZE_MAX / b) || (c && a * b > SIZE_MAX / c))
        return -1;
    *out = a * b * c;
    return 0;
}

/* A new string holding the decimal value of v, or NULL when out of memory. */
static char *ds_itoa(long v)
{
    char buf[32];
    snprintf(buf, sizeof buf, "%ld", v);
    return focal_ds_strdup(buf);
}

/* Frees the first n strings of v, then v. */
static void ds_free_strings(char **v, int n)
{
    if (!v)
        return;
    for (int i = 0; i < n; i++)
        free(v[i]);
    free(v);
}

focal_status focal_ds_number_classes(struct focal_dataset *d, int c, const char *path)
{
    d->class_names = calloc((size_t)c, sizeof *d->class_names);
    if (!d->class_names)
        return focal_fail(FOCAL_ERR_NOMEM, "%s: out of memory", path);
    d->num_classes = c;
    for (int j = 0; j < c; j++)
        if (!(d->class_names[j] = ds_itoa(j)))
            return focal_fail(FOCAL_ERR_NOMEM, "%s: out of memory", path);
    return FOCAL_OK;
}

focal_status focal_ds_number_ids(struct focal_dataset *d, int first, int count, const char *prefix,
                                 const char *path)
{
    if (!d->ids && !(d->ids = calloc((size_t)d->n, sizeof *d->ids)))
        return focal_fail(FOCAL_ERR_NOMEM, "%s: out of memory", path);
    for (int i = 0; i < count; i++) {
        char num[24];
        snprintf(num, sizeof num, "%d", i);
        if (!(d->ids[first + i] = focal_ds_concat3(prefix, num, "")))
            return focal_fail(FOCAL_ERR_NOMEM, "%s: out of memory", path);
    }
    return FOCAL_OK;
}

void focal_dataset_free(struct focal_dataset *d)
{
    if (!d)
        return;
    ds_free_strings(d->class_names, d->num_classes);
    ds_free_strings(d->ids, d->n);
    ds_free_strings(d->paths, d->n);
    ds_free_strings(d->feature_names, d->n_features);
    free(d->label);
    free(d->labels);
    free(d->risk);
    free(d->split);
    free(d->pixels);
    free(d->features);
    free(d);
}

void focal_dataset_class_counts(const struct focal_dataset *d, const int *idx, int n, double *counts)
{
    const int c = d->num_classes;
    if (!idx)
        n = d->n;
    for (int j = 0; j < c; j++)
        counts[j] = 0.0;
    for (int k = 0; k < n; k++) {
        const int i = idx ? idx[k] : k;
        if (d->labels) {
            for (int j = 0; j < c; j++)
                counts[j] += d->labels[(size_t)i * (size_t)c + (size_t)j] ? 1.0 : 0.0;
        } else if (d->label && d->label[i] >= 0 && d->label[i] < c) {
            counts[d->label[i]] += 1.0;
        }
    }
}

/* qsort comparison of two char * by strcmp. */
static int ds_cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* 1 if path names a directory. */
static int ds_is_dir(const char *path)
{
    struct stat sb;
    return stat(path, &sb) == 0 && S_ISDIR(sb.st_mode);
}

/* 1 if path names a regular file (or a link to one). */
static int ds_is_file(const char *path)
{
    struct stat sb;
    return stat(path, &sb) == 0 && S_ISREG(sb.st_mode);
}

/* 1 if name ends with suffix, ignoring case. */
static int ds_ends_with(const char *name, const char *suffix)
{
    size_t n = strlen(name), k = strlen(suffix);
    return n >= k && strcasecmp(name + n - k, suffix) == 0;
}

/* 1 if name ends in .png, .jpg or .jpeg (any case). */
static int ds_is_image_name(const char *name)
{
    return ds_ends_with(name, ".png") || ds_ends_with(name, ".jpg") || ds_ends_with(name, ".jpeg");
}

/* "dir/name", or a copy of name when dir is "". NULL when out of memory. */
static char *ds_join(const char *dir, const char *name)
{
    return *dir ? focal_ds_concat3(dir, "/", name) : focal_ds_strdup(name);
}

/* Which entries of a directory ds_list_dir keeps. */
enum ds_list_kind { DS_LIST_DIRS, DS_LIST_IMAGES, DS_LIST_CSV };

/* The names of the entries of directory dir of the given kind (folders;
 * image files by name; .csv files), without hidden ones (starting with '.'),
 * sorted by strcmp, in a new array *names (count *n; free with
 * ds_free_strings). FOCAL_ERR_IO naming dir if it cannot be read. */
static focal_status ds_list_dir(const char *dir, enum ds_list_kind kind, char ***names, int *n)
{
    *names = NULL;
    *n = 0;
    DIR *dp = opendir(dir);
    if (!dp)
        return focal_fail(FOCAL_ERR_IO, "%s: cannot open folder: %s", dir, strerror(errno));
    char **v = NULL;
    int cnt = 0, cap = 0;
    focal_status st = FOCAL_OK;
    struct dirent *e;
    while ((e = readdir(dp)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        if (kind == DS_LIST_IMAGES && !ds_is_image_name(e->d_name))
            continue;
        if (kind == DS_LIST_CSV && !ds_ends_with(e->d_name, ".csv"))
            continue;
        char *full = ds_join(dir, e->d_name);
        if (!full) {
            st = focal_fail(FOCAL_ERR_NOMEM, "%s: out of memory listing the folder", dir);
            break;
        }
        const int keep = kind == DS_LIST_DIRS ? ds_is_dir(full) : ds_is_file(full);
        free(full);
        if (!keep)
            continue;
        if (cnt == INT_MAX) {
            st = focal_fail(FOCAL_ERR_FORMAT, "%s: too many entries", dir);
            break;
        }
        if (cnt == cap) {
            int nc = cap ? (cap > INT_MAX / 2 ? INT_MAX : cap * 2) : 16;
            char **nv = realloc(v, (size_t)nc * sizeof *nv);
            if (!nv) {
                st = focal_fail(FOCAL_ERR_NOMEM, "%s: out of memory listing the folder", dir);
                break;
            }
            v = nv;
            cap = nc;
        }
        if (!(v[cnt] = focal_ds_strdup(e->d_name))) {
            st = focal_fail(FOCAL_ERR_NOMEM, "%s: out of memory listing the folder", dir);
            break;
        }
        cnt++;
    }
    closedir(dp);
    if (st != FOCAL_OK) {
        ds_free_strings(v, cnt);
        return st;
    }
    if (cnt > 1)
        qsort(v, (size_t)cnt, sizeof *v, ds_cmp_str);
    *names = v;
    *n = cnt;
    return FOCAL_OK;
}

/* Appends a copy of path to the growing list *v (count *n, capacity *cap). */
static focal_status ds_push_path(char ***v, int *n, int *cap, const char *path)
{
    if (*n == *cap) {
        int nc = *cap ? *cap * 2 : 64;
        char **nv = realloc(*v, (size_t)nc * sizeof *nv);
        if (!nv)
            return focal_fail(FOCAL_ERR_NOMEM, "out of memory listing images");
        *v = nv;
        *cap = nc;
    }
    if (!((*v)[*n] = focal_ds_strdup(path)))
        return focal_fail(FOCAL_ERR_NOMEM, "out of memory listing images");
    (*n)++;
    return FOCAL_OK;
}

focal_status focal_dataset_from_images(const char *const *inputs, int n_inputs, struct focal_dataset **out)
{
    char **paths = NULL;
    int n = 0, cap = 0;
    focal_status st = FOCAL_OK;
    *out = NULL;
    for (int k = 0; k < n_inputs && st == FOCAL_OK; k++) {
        if (!ds_is_dir(inputs[k])) {
            st = ds_push_path(&paths, &n, &cap, inputs[k]);
            continue;
        }
        char **names;
        int m;
        if ((st = ds_list_dir(inputs[k], DS_LIST_IMAGES, &names, &m)) != FOCAL_OK)
            break;
        if (m == 0)
            st = focal_fail(FOCAL_ERR_IO, "%s: the folder holds no .png, .jpg or .jpeg files", inputs[k]);
        for (int j = 0; j < m && st == FOCAL_OK; j++) {
            char *full = ds_join(inputs[k], names[j]);
            st = full ? ds_push_path(&paths, &n, &cap, full)
                      : focal_fail(FOCAL_ERR_NOMEM, "out of memory listing images");
            free(full);
        }
        ds_free_strings(names, m);
    }
    struct focal_dataset *d = NULL;
    if (st == FOCAL_OK && n == 0)
        st = focal_fail(FOCAL_ERR_ARG, "no image files given");
    if (st == FOCAL_OK && !(d = calloc(1, sizeof *d)))
        st = focal_fail(FOCAL_ERR_NOMEM, "out of memory");
    if (st == FOCAL_OK) {
        d->task = FOCAL_TASK_MULTILABEL;
        d->n = n;
        d->paths = paths;
        paths = NULL;
        d->ids = calloc((size_t)n, sizeof *d->ids);
        if (!d->ids)
            st = focal_fail(FOCAL_ERR_NOMEM, "out of memory");
        for (int i = 0; i < n && st == FOCAL_OK; i++) {
            const char *base = strrchr(d->paths[i], '/');
            base = base ? base + 1 : d->paths[i];
            const char *dot = strrchr(base, '.');
            size_t len = dot && dot != base ? (size_t)(dot - base) : strlen(base);
            if (!(d->ids[i] = malloc(len + 1)))
                st = focal_fail(FOCAL_ERR_NOMEM, "out of memory");
            else {
                memcpy(d->ids[i], base, len);
                d->ids[i][len] = 0;
            }
        }
    }
    ds_free_strings(paths, n);
    if (st != FOCAL_OK) {
        focal_dataset_free(d);
        return st;
    }
    *out = d;
    return FOCAL_OK;
}

/* 1 if the first field of the first non-blank line of the file at path
 * (after a byte-order mark and blanks) is exactly `ID`: an RFMiD label file. */
static int ds_csv_starts_with_id(const char *path)
{
    FILE *fp = fopen(path, "rb");
    if (!fp)
        return 0;
    char line[256];
    int found = 0;
    while (fgets(line, sizeof line, fp)) {
        char *p = line;
        if (strncmp(p, "\xEF\xBB\xBF", 3) == 0)
            p += 3;
        while (*p == ' ' || *p == '\t')
            p++;
        if (*p == '\n' || *p == '\r' || *p == '\0')
            continue;
        if (p[0] == '"' && strncmp(p + 1, "ID\"", 3) == 0)
            p += 2;
        found = strncmp(p, "ID", 2) == 0 && strchr(",\r\n \t\"", p[2]) != NULL;
        break;
    }
    fclose(fp);
    return found;
}

/* ---- RFMiD label CSVs ----------------------------------------------------- */

#define RFMID_MAX_FILES 3
#define RFMID_RISK "Disease_Risk"
#define RFMID_OTHER "OTHER"

/* The image folder names of the RFMiD distribution, per split. */
static const char *const rfmid_split_folder[3] = { "Training", "Validation", "Test" };

/* One label CSV. */
struct rfmid_src {
    char *path;
    int split;               /* FOCAL_SPLIT_* the file name tells, or −1 */
    struct focal_table t;
    int id_col, risk_col;    /* risk_col −1 when absent */
    int *map;                /* first file's column j → this file's column */
    char *image_dir;         /* where its images are looked up */
};

/* One output label: a column of the first file, or OTHER (col −1). */
struct rfmid_label {
    const char *name;
    int col;
};

struct rfmid {
    struct rfmid_src src[RFMID_MAX_FILES];
    int nsrc;
    struct rfmid_label *lab;
    int nlab;
    int *other;              /* first-file columns merged into OTHER */
    int nother;
};

/* The split a label file's name tells (FOCAL_SPLIT_*), or −1: the base name
 * contains, ignoring case, "train" → train; "valid" or "eval" → validation;
 * "test" → test (checked in that order). */
static int rfmid_split_of(const char *path)
{
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    static const struct { const char *word; int split; } words[] = {
        { "train", FOCAL_SPLIT_TRAIN }, { "valid", FOCAL_SPLIT_VAL },
        { "eval", FOCAL_SPLIT_VAL },    { "test", FOCAL_SPLIT_TEST },
    };
    for (size_t w = 0; w < sizeof words / sizeof words[0]; w++) {
        size_t k = strlen(words[w].word);
        for (const char *p = base; *p; p++)
            if (strncasecmp(p, words[w].word, k) == 0)
                return words[w].split;
    }
    return -1;
}

/* Adds the label file path (copied) to rf. */
static focal_status rfmid_add_file(struct rfmid *rf, const char *path, size_t len, const char *list)
{
    if (rf->nsrc == RFMID_MAX_FILES)
        return focal_fail(FOCAL_ERR_ARG,
                          "%s: more than %d label files; expected up to three (training, validation, test)",
                          list, RFMID_MAX_FILES);
    char *p = malloc(len + 1);
    if (!p)
        return focal_fail(FOCAL_ERR_NOMEM, "%s: out of memory", list);
    memcpy(p, path, len);
    p[len] = '\0';
    rf->src[rf->nsrc].path = p;
    rf->src[rf->nsrc].split = rfmid_split_of(p);
    rf->src[rf->nsrc].risk_col = -1;
    rf->nsrc++;
    return FOCAL_OK;
}

/* Fills rf's file list from path: a folder (its .csv files whose header
 * starts with ID), one file, or a comma-separated list of files. With more
 * than one file, each must tell its split by name, no split twice; the files
 * are ordered training, validation, test. */
static focal_status rfmid_list_files(struct rfmid *rf, const char *path)
{
    focal_status st = FOCAL_OK;
    if (ds_is_dir(path)) {
        char **names;
        int n;
        if ((st = ds_list_dir(path, DS_LIST_CSV, &names, &n)) != FOCAL_OK)
            return st;
        for (int i = 0; i < n && st == FOCAL_OK; i++) {
            char *full = ds_join(path, names[i]);
            if (!full)
                st = focal_fail(FOCAL_ERR_NOMEM, "%s: out of memory", path);
            else if (ds_csv_starts_with_id(full))
                st = rfmid_add_file(rf, full, strlen(full), path);
            free(full);
        }
        ds_free_strings(names, n);
        if (st == FOCAL_OK && rf->nsrc == 0)
            st = focal_fail(FOCAL_ERR_FORMAT,
                            "%s: no RFMiD label files; expected .csv files whose header starts with ID "
                            "(RFMiD_Training_Labels.csv, RFMiD_Validation_Labels.csv, RFMiD_Testing_Labels.csv)",
                            path);
    } else {
        const char *p = path;
        for (;;) {
            const char *comma = strchr(p, ',');
            size_t len = comma ? (size_t)(comma - p) : strlen(p);
            if (len == 0)
                return focal_fail(FOCAL_ERR_ARG, "%s: empty file name in the list; expected a.csv[,b.csv[,c.csv]]",
                                  path);
            if ((st = rfmid_add_file(rf, p, len, path)) != FOCAL_OK)
                return st;
            if (!comma)
                break;
            p = comma + 1;
        }
    }
    if (st != FOCAL_OK || rf->nsrc < 2)
        return st;
    for (int k = 0; k < rf->nsrc; k++) {
        if (rf->src[k].split < 0)
            return focal_fail(FOCAL_ERR_ARG,
                              "%s: cannot tell which split this label file holds; expected a name containing "
                              "Train, Valid (or Eval) or Test", rf->src[k].path);
        for (int j = 0; j < k; j++)
            if (rf->src[j].split == rf->src[k].split)
                return focal_fail(FOCAL_ERR_ARG, "%s and %s: both hold the %s split; expected one file per split",
                                  rf->src[j].path, rf->src[k].path, rfmid_split_folder[rf->src[k].split]);
    }
    for (int k = 1; k < rf->nsrc; k++)
        for (int j = k; j > 0 && rf->src[j - 1].split > rf->src[j].split; j--) {
            struct rfmid_src tmp = rf->src[j];
            rf->src[j] = rf->src[j - 1];
            rf->src[j - 1] = tmp;
        }
    return FOCAL_OK;
}

/* The column of t's header named name, or −1. */
static int rfmid_find(const struct focal_table *t, const char *name)
{
    for (size_t c = 0; c < t->cols; c++)
        if (strcmp(t->header[c], name) == 0)
            return (int)c;
    return -1;
}

/* An (ID, row) pair for finding duplicate IDs. */
struct rfmid_idrow {
    const char *id;
    size_t row;
};

/* qsort order of rfmid_idrow: by ID, then by row. */
static int rfmid_cmp_idrow(const void *a, const void *b)
{
    const struct rfmid_idrow *x = a, *y = b;
    int c = strcmp(x->id, y->id);
    return c ? c : (x->row > y->row) - (x->row < y->row);
}

/* Checks the IDs of s: non-empty, no '/', unique within the file. */
static focal_status rfmid_check_ids(const struct rfmid_src *s)
{
    const struct focal_table *t = &s->t;
    char q[FOCAL_CSV_QUOTE_SIZE];
    for (size_t r = 0; r < t->rows; r++) {
        const char *id = focal_table_at(t, r, (size_t)s->id_col);
        if (!*id || strchr(id, '/') || strcmp(id, ".") == 0 || strcmp(id, "..") == 0) {
            focal_text_quote(q, id);
            return focal_fail(FOCAL_ERR_FORMAT, "%s:%zu:%zu: ID '%s' cannot name an image file; expected a "
                              "non-empty name without '/'", s->path, t->line[r],
                              focal_table_column(t, r, (size_t)s->id_col), q);
        }
    }
    struct rfmid_idrow *v = malloc(t->rows * sizeof *v);
    if (!v)
        return focal_fail(FOCAL_ERR_NOMEM, "%s: out of memory", s->path);
    for (size_t r = 0; r < t->rows; r++) {
        v[r].id = focal_table_at(t, r, (size_t)s->id_col);
        v[r].row = r;
    }
    qsort(v, t->rows, sizeof *v, rfmid_cmp_idrow);
    size_t dup = SIZE_MAX, first = 0;
    for (size_t k = 1; k < t->rows; k++)
        if (strcmp(v[k].id, v[k - 1].id) == 0 && (dup == SIZE_MAX || v[k].row < dup)) {
            dup = v[k].row;
            first = v[k - 1].row;
        }
    free(v);
    if (dup == SIZE_MAX)
        return FOCAL_OK;
    focal_text_quote(q, focal_table_at(t, dup, (size_t)s->id_col));
    return focal_fail(FOCAL_ERR_FORMAT, "%s:%zu: duplicate ID '%s' (also on line %zu); expected each ID once per file",
                      s->path, t->line[dup], q, t->line[first]);
}

/* Reads label file s: header with an ID column and unique names, every other
 * field 0 or 1, IDs usable and unique. */
static focal_status rfmid_read_file(struct rfmid_src *s)
{
    focal_status st = focal_table_read(s->path, 1, &s->t);
    if (st != FOCAL_OK)
        return st;
    const struct focal_table *t = &s->t;
    char q[FOCAL_CSV_QUOTE_SIZE];
    for (size_t c = 0; c < t->cols; c++) {
        if (!*t->header[c])
            return focal_fail(FOCAL_ERR_FORMAT, "%s:%zu: column %zu has no name; expected a name in every header field",
                              s->path, t->header_line, c + 1);
        for (size_t k = 0; k < c; k++)
            if (strcmp(t->header[k], t->header[c]) == 0) {
                focal_text_quote(q, t->header[c]);
                return focal_fail(FOCAL_ERR_FORMAT, "%s:%zu: column name '%s' appears twice (columns %zu and %zu); "
                                  "expected unique names", s->path, t->header_line, q, k + 1, c + 1);
            }
    }
    s->id_col = rfmid_find(t, "ID");
    if (s->id_col < 0)
        return focal_fail(FOCAL_ERR_FORMAT, "%s:%zu: no ID column; expected a header such as ID,Disease_Risk,DR,...",
                          s->path, t->header_line);
    s->risk_col = rfmid_find(t, RFMID_RISK);
    if (t->cols < 2)
        return focal_fail(FOCAL_ERR_FORMAT, "%s:%zu: no label columns; expected ID followed by 0/1 columns",
                          s->path, t->header_line);
    for (size_t r = 0; r < t->rows; r++)
        for (size_t c = 0; c < t->cols; c++) {
            const char *v = focal_table_at(t, r, c);
            if ((int)c == s->id_col || ((v[0] == '0' || v[0] == '1') && v[1] == '\0'))
                continue;
            char qn[FOCAL_CSV_QUOTE_SIZE];
            focal_text_quote(q, v);
            focal_text_quote(qn, t->header[c]);
            return focal_fail(FOCAL_ERR_FORMAT, "%s:%zu:%zu: column '%s' has value '%s'; expected 0 or 1", s->path,
                              t->line[r], focal_table_column(t, r, c), qn, q);
        }
    return rfmid_check_ids(s);
}

/* Maps every file's columns to the first file's by name; the files must
 * have the same column names. */
static focal_status rfmid_match_columns(struct rfmid *rf)
{
    const struct focal_table *t0 = &rf->src[0].t;
    for (int k = 0; k < rf->nsrc; k++) {
        struct rfmid_src *s = &rf->src[k];
        if (!(s->map = malloc(t0->cols * sizeof *s->map)))
            return focal_fail(FOCAL_ERR_NOMEM, "%s: out of memory", s->path);
        for (size_t c = 0; c < t0->cols; c++) {
            s->map[c] = rfmid_find(&s->t, t0->header[c]);
            if (s->map[c] < 0)
                return focal_fail(FOCAL_ERR_FORMAT, "%s:%zu: no column '%s', which %s has; expected the same "
                                  "columns in every label file", s->path, s->t.header_line, t0->header[c],
                                  rf->src[0].path);
        }
        for (size_t c = 0; c < s->t.cols; c++)
            if (rfmid_find(t0, s->t.header[c]) < 0)
                return focal_fail(FOCAL_ERR_FORMAT, "%s:%zu: column '%s' is not in %s; expected the same "
                                  "columns in every label file", s->path, s->t.header_line, s->t.header[c],
                                  rf->src[0].path);
    }
    return FOCAL_OK;
}

/* 1 if column c of the first file is a condition (neither ID nor Disease_Risk). */
static int rfmid_is_condition(const struct rfmid *rf, int c)
{
    return c != rf->src[0].id_col && c != rf->src[0].risk_col;
}

/* The list of valid label column names of the first file, comma-separated,
 * into buf (size n) for a message. */
static void rfmid_valid_names(const struct rfmid *rf, char *buf, size_t n)
{
    const struct focal_table *t0 = &rf->src[0].t;
    size_t used = 0;
    buf[0] = '\0';
    for (size_t c = 0; c < t0->cols && used < n; c++) {
        if ((int)c == rf->src[0].id_col)
            continue;
        int w = snprintf(buf + used, n - used, "%s%s", used ? ", " : "", t0->header[c]);
        if (w < 0)
            break;
        used += (size_t)w;
    }
}

/* Appends label (name, col) to rf's list, which has room. */
static void rfmid_push_label(struct rfmid *rf, const char *name, int col)
{
    rf->lab[rf->nlab].name = name;
    rf->lab[rf->nlab].col = col;
    rf->nlab++;
}

/* Chooses the selected columns: the label_columns list in its order, or
 * every column but ID and Disease_Risk in file order; Disease_Risk first when
 * include_risk asks for it and the list does not name it. */
static focal_status rfmid_select(struct rfmid *rf, const struct focal_data_options *opt)
{
    const struct focal_table *t0 = &rf->src[0].t;
    const char *first = rf->src[0].path;
    char valid[768];
    if (!(rf->lab = calloc(t0->cols + 1, sizeof *rf->lab)))
        return focal_fail(FOCAL_ERR_NOMEM, "%s: out of memory", first);
    const int risk = rf->src[0].risk_col;
    if (opt->include_risk && risk < 0)
        return focal_fail(FOCAL_ERR_ARG, "%s: no %s column to include as a label", first, RFMID_RISK);
    int risk_listed = 0;
    if (opt->label_columns) {
        const char *p = opt->label_columns;
        for (;;) {
            while (*p == ' ' || *p == '\t')
                p++;
            size_t len = strcspn(p, ",");
            size_t tl = len;
            while (tl > 0 && (p[tl - 1] == ' ' || p[tl - 1] == '\t'))
                tl--;
            int col = -1;
            for (size_t c = 0; c < t0->cols && col < 0; c++)
                if ((int)c != rf->src[0].id_col && strlen(t0->header[c]) == tl && memcmp(t0->header[c], p, tl) == 0)
                    col = (int)c;
            if (col < 0) {
                rfmid_valid_names(rf, valid, sizeof valid);
                return focal_fail(FOCAL_ERR_ARG, "label column '%.*s' is not in %s; expected some of: %s",
                                  (int)(tl > 40 ? 40 : tl), p, first, valid);
            }
            for (int k = 0; k < rf->nlab; k++)
                if (rf->lab[k].col == col)
                    return focal_fail(FOCAL_ERR_ARG, "label column '%s' is listed twice; expected each once",
                                      t0->header[col]);
            risk_listed |= col == risk;
            rfmid_push_label(rf, t0->header[col], col);
            if (p[len] != ',')
                break;
            p += len + 1;
        }
    } else {
        for (size_t c = 0; c < t0->cols; c++)
            if (rfmid_is_condition(rf, (int)c))
                rfmid_push_label(rf, t0->header[c], (int)c);
    }
    if (opt->include_risk && !risk_listed) {
        memmove(rf->lab + 1, rf->lab, (size_t)rf->nlab * sizeof *rf->lab);
        rf->lab[0].name = t0->header[risk];
        rf->lab[0].col = risk;
        rf->nlab++;
    }
    return FOCAL_OK;
}

/* The positives of first-file column c over the training rows (every row
 * when no file holds the training split). */
static long rfmid_train_count(const struct rfmid *rf, int c)
{
    int any_train = 0;
    for (int k = 0; k < rf->nsrc; k++)
        any_train |= rf->src[k].split == FOCAL_SPLIT_TRAIN;
    long n = 0;
    for (int k = 0; k < rf->nsrc; k++) {
        const struct rfmid_src *s = &rf->src[k];
        if (any_train && s->split != FOCAL_SPLIT_TRAIN)
            continue;
        for (size_t r = 0; r < s->t.rows; r++)
            n += focal_table_at(&s->t, r, (size_t)s->map[c])[0] == '1';
    }
    return n;
}

/* A condition's training count, for ranking in rfmid_merge. */
struct rfmid_rank {
    long count;
    int pos;                 /* index in rf->lab */
};

/* qsort order of rfmid_rank: more training positives first, then by position. */
static int rfmid_cmp_rank(const void *a, const void *b)
{
    const struct rfmid_rank *x = a, *y = b;
    if (x->count != y->count)
        return x->count < y->count ? 1 : -1;
    return (x->pos > y->pos) - (x->pos < y->pos);
}

/* Keeps the k most frequent selected conditions (ties: the earlier column),
 * in their order, and replaces the others by one OTHER label at the end. */
static focal_status rfmid_merge(struct rfmid *rf, int k)
{
    const char *first = rf->src[0].path;
    const int risk = rf->src[0].risk_col;
    int ncond = 0;
    for (int i = 0; i < rf->nlab; i++) {
        ncond += rf->lab[i].col != risk;
        if (strcmp(rf->lab[i].name, RFMID_OTHER) == 0)
            return focal_fail(FOCAL_ERR_ARG, "%s: a column is already named %s; cannot merge rare labels into it",
                              first, RFMID_OTHER);
    }
    if (k < 1 || k >= ncond)
        return focal_fail(FOCAL_ERR_ARG, "merge_rare = %d: expected 1 to %d, fewer than the %d conditions selected",
                          k, ncond - 1, ncond);
    struct rfmid_rank *rank = malloc((size_t)ncond * sizeof *rank);
    rf->other = malloc((size_t)(ncond - k) * sizeof *rf->other);
    if (!rank || !rf->other) {
        free(rank);
        return focal_fail(FOCAL_ERR_NOMEM, "%s: out of memory", first);
    }
    int m = 0;
    for (int i = 0; i < rf->nlab; i++)
        if (rf->lab[i].col != risk) {
            rank[m].count = rfmid_train_count(rf, rf->lab[i].col);
            rank[m].pos = i;
            m++;
        }
    qsort(rank, (size_t)m, sizeof *rank, rfmid_cmp_rank);
    for (int r = k; r < m; r++) {
        rf->other[rf->nother++] = rf->lab[rank[r].pos].col;
        rf->lab[rank[r].pos].col = -2;   /* dropped */
    }
    free(rank);
    int w = 0;
    for (int i = 0; i < rf->nlab; i++)
        if (rf->lab[i].col != -2)
            rf->lab[w++] = rf->lab[i];
    rf->nlab = w;
    rfmid_push_label(rf, RFMID_OTHER, -1);
    return FOCAL_OK;
}

/* Sets s->image_dir: with `images`, <images>/<split folder> if it exists,
 * else <images>; without, the first folder that exists of <csvdir>/<split
 * folder>, <csvdir>/images and <csvdir>. The split folder is the one the
 * file's name tells (Training, Validation, Test). */
static focal_status rfmid_image_dir(struct rfmid_src *s, const char *images)
{
    char *csvdir = NULL;
    const char *base = images;
    if (!base) {
        const char *slash = strrchr(s->path, '/');
        size_t n = slash ? (slash == s->path ? 1 : (size_t)(slash - s->path)) : 0;
        if (!(csvdir = malloc(n + 1)))
            return focal_fail(FOCAL_ERR_NOMEM, "%s: out of memory", s->path);
        memcpy(csvdir, s->path, n);
        csvdir[n] = '\0';
        base = csvdir;
    } else if (!ds_is_dir(images)) {
        return focal_fail(FOCAL_ERR_IO, "%s: image folder not found; expected a folder of <ID>.png files", images);
    }
    const char *tries[2] = { s->split >= 0 ? rfmid_split_folder[s->split] : NULL, images ? NULL : "images" };
    for (int k = 0; k < 2 && !s->image_dir; k++) {
        if (!tries[k])
            continue;
        char *cand = ds_join(base, tries[k]);
        if (!cand) {
            free(csvdir);
            return focal_fail(FOCAL_ERR_NOMEM, "%s: out of memory", s->path);
        }
        if (ds_is_dir(cand))
            s->image_dir = cand;
        else
            free(cand);
    }
    if (!s->image_dir) {
        s->image_dir = focal_ds_strdup(base);
        if (!s->image_dir) {
            free(csvdir);
            return focal_fail(FOCAL_ERR_NOMEM, "%s: out of memory", s->path);
        }
    }
    free(csvdir);
    return FOCAL_OK;
}

/* The image file of sample id in folder dir: the first of <id>.png, <id>.jpg,
 * <id>.jpeg that exists, else <id>.png. NULL when out of memory. */
static char *rfmid_image_path(const char *dir, const char *id)
{
    static const char *const ext[] = { ".png", ".jpg", ".jpeg" };
    char *name = NULL;
    for (size_t e = 0; e < sizeof ext / sizeof ext[0]; e++) {
        free(name);
        name = focal_ds_concat3(id, ext[e], "");
        char *p = name ? ds_join(dir, name) : NULL;
        if (!p || ds_is_file(p)) {
            free(name);
            return p;
        }
        free(p);
    }
    free(name);
    char *png = focal_ds_concat3(id, ext[0], "");
    char *p = png ? ds_join(dir, png) : NULL;
    free(png);
    return p;
}

/* Fills d from the read and checked files: labels, Disease_Risk, splits,
 * IDs and image paths. */
static focal_status rfmid_fill(struct focal_dataset *d, struct rfmid *rf, const struct focal_data_options *opt)
{
    const char *first = rf->src[0].path;
    size_t total = 0;
    for (int k = 0; k < rf->nsrc; k++)
        total += rf->src[k].t.rows;
    if (total > INT_MAX / 64)
        return focal_fail(FOCAL_ERR_FORMAT, "%s: too many rows (%zu)", first, total);
    const int L = rf->nlab;
    const int risk = rf->src[0].risk_col;
    int risk_label = 0;
    for (int j = 0; j < L; j++)
        risk_label |= risk >= 0 && rf->lab[j].col == risk;
    d->task = FOCAL_TASK_MULTILABEL;
    d->n = (int)total;
    d->class_names = calloc((size_t)L, sizeof *d->class_names);
    d->ids = calloc(total, sizeof *d->ids);
    d->paths = calloc(total, sizeof *d->paths);
    d->labels = malloc(total * (size_t)L);
    if (!d->class_names || !d->ids || !d->paths || !d->labels)
        return focal_fail(FOCAL_ERR_NOMEM, "%s: out of memory", first);
    d->num_classes = L;
    for (int j = 0; j < L; j++)
        if (!(d->class_names[j] = focal_ds_strdup(rf->lab[j].name)))
            return focal_fail(FOCAL_ERR_NOMEM, "%s: out of memory", first);
    if (risk >= 0 && !risk_label && !(d->risk = malloc(total)))
        return focal_fail(FOCAL_ERR_NOMEM, "%s: out of memory", first);
    if (rf->nsrc > 1 && !(d->split = malloc(total)))
        return focal_fail(FOCAL_ERR_NOMEM, "%s: out of memory", first);
    size_t i = 0;
    for (int k = 0; k < rf->nsrc; k++) {
        struct rfmid_src *s = &rf->src[k];
        focal_status st = rfmid_image_dir(s, opt->images);
        if (st != FOCAL_OK)
            return st;
        for (size_t r = 0; r < s->t.rows; r++, i++) {
            uint8_t *y = d->labels + i * (size_t)L;
            for (int j = 0; j < L; j++) {
                uint8_t v = 0;
                if (rf->lab[j].col >= 0) {
                    v = focal_table_at(&s->t, r, (size_t)s->map[rf->lab[j].col])[0] == '1';
                } else {
                    for (int o = 0; o < rf->nother && !v; o++)
                        v = focal_table_at(&s->t, r, (size_t)s->map[rf->other[o]])[0] == '1';
                }
                y[j] = v;
            }
            if (d->risk)
                d->risk[i] = focal_table_at(&s->t, r, (size_t)s->risk_col)[0] == '1';
            if (d->split)
                d->split[i] = (uint8_t)s->split;
            const char *id = focal_table_at(&s->t, r, (size_t)s->id_col);
            if (!(d->ids[i] = focal_ds_strdup(id)) || !(d->paths[i] = rfmid_image_path(s->image_dir, id)))
                return focal_fail(FOCAL_ERR_NOMEM, "%s: out of memory", s->path);
        }
    }
    return FOCAL_OK;
}

focal_status focal_read_rfmid(struct focal_dataset *d, const char *path, const struct focal_data_options *opt)
{
    struct rfmid rf;
    memset(&rf, 0, sizeof rf);
    focal_status st = rfmid_list_files(&rf, path);
    for (int k = 0; k < rf.nsrc && st == FOCAL_OK; k++)
        st = rfmid_read_file(&rf.src[k]);
    if (st == FOCAL_OK)
        st = rfmid_match_columns(&rf);
    if (st == FOCAL_OK)
        st = rfmid_select(&rf, opt);
    if (st == FOCAL_OK && opt->merge_rare != 0)
        st = rfmid_merge(&rf, opt->merge_rare);
    if (st == FOCAL_OK)
        st = rfmid_fill(d, &rf, opt);
    for (int k = 0; k < rf.nsrc; k++) {
        free(rf.src[k].path);
        free(rf.src[k].map);
        free(rf.src[k].image_dir);
        focal_table_free(&rf.src[k].t);
    }
    free(rf.lab);
    free(rf.other);
    return st;
}

/* ---- class folders ----------------------------------------------------------- */

/* The split subfolder names of a class-folder tree, per split. */
static const char *const folder_split_name[3] = { "train", "val", "test" };

/* One folder of images: root[/split]/class. */
struct folder_group {
    int split;               /* FOCAL_SPLIT_*, or −1 without splits */
    char *cls;               /* class name (the folder's) */
    char *dir;               /* the folder */
    char **files;            /* its image file names, sorted */
    int nfiles;
};

struct folder_scan {
    struct folder_group *g;
    int n, cap;
};

/* Frees every group of fs and its array. */
static void folder_scan_free(struct folder_scan *fs)
{
    for (int i = 0; i < fs->n; i++) {
        free(fs->g[i].cls);
        free(fs->g[i].dir);
        ds_free_strings(fs->g[i].files, fs->g[i].nfiles);
    }
    free(fs->g);
}

/* Adds the class folders of dir (split −1 or FOCAL_SPLIT_*) to fs with their
 * image files; folders without images are left out. */
static focal_status folder_scan_dir(struct folder_scan *fs, const char *dir, int split)
{
    char **classes;
    int nc;
    focal_status st = ds_list_dir(dir, DS_LIST_DIRS, &classes, &nc);
    for (int c = 0; c < nc && st == FOCAL_OK; c++) {
        struct folder_group g = { split, NULL, ds_join(dir, classes[c]), NULL, 0 };
        if (!g.dir) {
            st = focal_fail(FOCAL_ERR_NOMEM, "%s: out of memory", dir);
            break;
        }
        st = ds_list_dir(g.dir, DS_LIST_IMAGES, &g.files, &g.nfiles);
        if (st == FOCAL_OK && g.nfiles > 0 && fs->n == fs->cap) {
            int cap = fs->cap ? fs->cap * 2 : 16;
            struct folder_group *ng = realloc(fs->g, (size_t)cap * sizeof *ng);
            if (ng) {
                fs->g = ng;
                fs->cap = cap;
            } else {
                st = focal_fail(FOCAL_ERR_NOMEM, "%s: out of memory", dir);
            }
        }
        if (st == FOCAL_OK && g.nfiles > 0 && !(g.cls = focal_ds_strdup(classes[c])))
            st = focal_fail(FOCAL_ERR_NOMEM, "%s: out of memory", dir);
        if (st == FOCAL_OK && g.nfiles > 0) {
            fs->g[fs->n++] = g;
        } else {
            free(g.dir);
            free(g.cls);
            ds_free_strings(g.files, g.nfiles);
        }
    }
    ds_free_strings(classes, nc);
    return st;
}

/* Scans root: with a train/ subfolder that holds folders, the splits train/,
 * val/ and test/ (any other subfolder is an error), else root's own class
 * folders. */
static focal_status folder_scan_root(struct folder_scan *fs, const char *root)
{
    char *train = ds_join(root, folder_split_name[FOCAL_SPLIT_TRAIN]);
    if (!train)
        return focal_fail(FOCAL_ERR_NOMEM, "%s: out of memory", root);
    char **sub;
    int nsub = 0;
    focal_status st = ds_is_dir(train) ? ds_list_dir(train, DS_LIST_DIRS, &sub, &nsub) : FOCAL_OK;
    free(train);
    if (st != FOCAL_OK)
        return st;
    if (nsub == 0)
        return folder_scan_dir(fs, root, -1);
    ds_free_strings(sub, nsub);
    if ((st = ds_list_dir(root, DS_LIST_DIRS, &sub, &nsub)) != FOCAL_OK)
        return st;
    for (int i = 0; i < nsub && st == FOCAL_OK; i++) {
        int split = -1;
        for (int s = 0; s < 3; s++)
            if (strcmp(sub[i], folder_split_name[s]) == 0)
                split = s;
        char *dir = ds_join(root, sub[i]);
        if (!dir)
            st = focal_fail(FOCAL_ERR_NOMEM, "%s: out of memory", root);
        else if (split < 0)
            st = focal_fail(FOCAL_ERR_FORMAT, "%s: unexpected folder beside train/; expected only train/, val/ "
                            "and test/, each holding one folder of images per class", dir);
        else
            st = folder_scan_dir(fs, dir, split);
        free(dir);
    }
    ds_free_strings(sub, nsub);
    return st;
}

focal_status focal_read_folders(struct focal_dataset *d, const char *root)
{
    struct folder_scan fs = { NULL, 0, 0 };
    char **names = NULL;
    int nnames = 0;
    focal_status st = folder_scan_root(&fs, root);
    long total = 0;
    for (int i = 0; i < fs.n; i++)
        total += fs.g[i].nfiles;
    if (st == FOCAL_OK && total == 0)
        st = focal_fail(FOCAL_ERR_FORMAT, "%s: no images; expected one folder per class holding .png or .jpg "
                        "files (root/<class>/<image>, optionally under train/ val/ test/), or RFMiD label CSVs",
                        root);
    if (st == FOCAL_OK && total > INT_MAX)
        st = focal_fail(FOCAL_ERR_FORMAT, "%s: too many images (%ld)", root, total);
    /* class names: the distinct folder names, sorted */
    if (st == FOCAL_OK && !(names = malloc((size_t)fs.n * sizeof *names)))
        st = focal_fail(FOCAL_ERR_NOMEM, "%s: out of memory", root);
    if (st == FOCAL_OK) {
        for (int i = 0; i < fs.n; i++)
            names[i] = fs.g[i].cls;
        qsort(names, (size_t)fs.n, sizeof *names, ds_cmp_str);
        for (int i = 0; i < fs.n; i++)
            if (nnames == 0 || strcmp(names[nnames - 1], names[i]) != 0)
                names[nnames++] = names[i];
        d->task = FOCAL_TASK_MULTICLASS;
        d->n = (int)total;
        d->class_names = calloc((size_t)nnames, sizeof *d->class_names);
        d->label = malloc((size_t)total * sizeof *d->label);
        d->ids = calloc((size_t)total, sizeof *d->ids);
        d->paths = calloc((size_t)total, sizeof *d->paths);
        if (fs.g[0].split >= 0)
            d->split = malloc((size_t)total);
        if (!d->class_names || !d->label || !d->ids || !d->paths || (fs.g[0].split >= 0 && !d->split))
            st = focal_fail(FOCAL_ERR_NOMEM, "%s: out of memory", root);
        else
            d->num_classes = nnames;
    }
    for (int j = 0; j < nnames && st == FOCAL_OK; j++)
        if (!(d->class_names[j] = focal_ds_strdup(names[j])))
            st = focal_fail(FOCAL_ERR_NOMEM, "%s: out of memory", root);
    /* samples: by split, then class, then file name */
    int i = 0;
    for (int s = -1; s < 3 && st == FOCAL_OK; s++)
        for (int j = 0; j < nnames && st == FOCAL_OK; j++)
            for (int g = 0; g < fs.n && st == FOCAL_OK; g++) {
                const struct folder_group *grp = &fs.g[g];
                if (grp->split != s || strcmp(grp->cls, names[j]) != 0)
                    continue;
                for (int f = 0; f < grp->nfiles && st == FOCAL_OK; f++, i++) {
                    d->label[i] = j;
                    if (d->split)
                        d->split[i] = (uint8_t)s;
                    d->paths[i] = ds_join(grp->dir, grp->files[f]);
                    d->ids[i] = focal_ds_concat3(s >= 0 ? folder_split_name[s] : "", s >= 0 ? "/" : "", grp->cls);
                    char *id = d->ids[i] ? focal_ds_concat3(d->ids[i], "/", grp->files[f]) : NULL;
                    free(d->ids[i]);
                    d->ids[i] = id;
                    if (!d->paths[i] || !d->ids[i])
                        st = focal_fail(FOCAL_ERR_NOMEM, "%s: out of memory", root);
                }
            }
    free(names);
    folder_scan_free(&fs);
    return st;
}

/* ---- numeric CSV tables ----------------------------------------------------- */

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
        if (!(d->ids[r] = ds_itoa((long)t.line[r]))) {
            st = focal_fail(FOCAL_ERR_NOMEM, "%s: out of memory", path);
            goto out;
        }
    }
    st = table_classes(d, &t, tc);
out:
    focal_table_free(&t);
    return st;
}

/* ---- opening: format detection ------------------------------------------- */

/* The format of path by the rules of focal_dataset_open. */
static focal_status ds_detect(const char *path, enum focal_format *fmt)
{
    struct stat sb;
    if (stat(path, &sb) != 0) {
        if (strchr(path, ',')) {
            *fmt = FOCAL_FORMAT_RFMID;
            return FOCAL_OK;
        }
        return focal_fail(FOCAL_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    }
    if (S_ISDIR(sb.st_mode)) {
        char **names;
        int n;
        focal_status st = ds_list_dir(path, DS_LIST_CSV, &names, &n);
        if (st != FOCAL_OK)
            return st;
        *fmt = FOCAL_FORMAT_FOLDERS;
        for (int i = 0; i < n; i++) {
            char *full = ds_join(path, names[i]);
            if (full && ds_csv_starts_with_id(full))
                *fmt = FOCAL_FORMAT_RFMID;
            free(full);
        }
        ds_free_strings(names, n);
        return FOCAL_OK;
    }
    if (ds_ends_with(path, ".npz")) {
        *fmt = FOCAL_FORMAT_NPZ;
    } else if (strstr(path, "idx3-ubyte")) {
        *fmt = FOCAL_FORMAT_IDX;
    } else if (ds_ends_with(path, ".csv")) {
        *fmt = ds_csv_starts_with_id(path) ? FOCAL_FORMAT_RFMID : FOCAL_FORMAT_CSV;
    } else {
        /* by content: a zip archive, a gzip or idx file, else a text table */
        unsigned char m[4] = { 0, 0, 0, 0 };
        FILE *fp = fopen(path, "rb");
        size_t got = fp ? fread(m, 1, 4, fp) : 0;
        if (fp)
            fclose(fp);
        if (got == 4 && memcmp(m, "PK\3\4", 4) == 0)
            *fmt = FOCAL_FORMAT_NPZ;
        else if (got >= 2 && ((m[0] == 0x1f && m[1] == 0x8b) || (got == 4 && !m[0] && !m[1] && m[2] == 8 && m[3] == 3)))
            *fmt = FOCAL_FORMAT_IDX;
        else
            *fmt = FOCAL_FORMAT_CSV;
    }
    return FOCAL_OK;
}

focal_status focal_dataset_open(const char *path, const struct focal_data_options *opt, struct focal_dataset **out)
{
    static const struct focal_data_options defaults = { .header = -1 };
    *out = NULL;
    if (!path || !*path)
        return focal_fail(FOCAL_ERR_ARG, "dataset path is empty; expected a file, a folder or a list of label CSVs");
    if (!opt)
        opt = &defaults;
    enum focal_format fmt = opt->format;
    focal_status st = FOCAL_OK;
    if (fmt == FOCAL_FORMAT_AUTO && (st = ds_detect(path, &fmt)) != FOCAL_OK)
        return st;
    struct focal_dataset *d = calloc(1, sizeof *d);
    if (!d)
        return focal_fail(FOCAL_ERR_NOMEM, "%s: out of memory", path);
    d->format = fmt;
    switch (fmt) {
    case FOCAL_FORMAT_RFMID: st = focal_read_rfmid(d, path, opt); break;
    case FOCAL_FORMAT_FOLDERS: st = focal_read_folders(d, path); break;
    case FOCAL_FORMAT_NPZ: st = focal_read_npz(d, path); break;
    case FOCAL_FORMAT_IDX: st = focal_read_idx(d, path); break;
    case FOCAL_FORMAT_CSV: st = focal_read_table(d, path, opt); break;
    default: st = focal_fail(FOCAL_ERR_ARG, "unknown dataset format %d; expected one of enum focal_format", (int)fmt);
    }
    if (st != FOCAL_OK) {
        focal_dataset_free(d);
        return st;
    }
    focal_clear_error();
    *out = d;
    return FOCAL_OK;
}
