/* rfmid.c — RFMiD label CSVs (ID, Disease_Risk and one 0/1 column per
 * condition; one file per split, told by its name) with their image folders:
 * choosing and merging label columns, and finding each ID's image file. */
#define _POSIX_C_SOURCE 200809L

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "focal/data.h"
#include "data/dataset_internal.h"

/* The most columns a labels file may have. Checking names against each
 * other is quadratic in the columns, so a hostile header of 100,000 names
 * would take minutes; 4096 leaves room for any real label set. */
#define RFMID_MAX_COLUMNS 4096
#define RFMID_MAX_FILES 3
#define RFMID_RISK "Disease_Risk"
#define RFMID_OTHER "OTHER"

int focal_rfmid_csv_starts_with_id(const char *path)
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
    if (focal_ds_is_dir(path)) {
        char **names;
        int n;
        if ((st = focal_ds_list_dir(path, FOCAL_DS_LIST_CSV, &names, &n)) != FOCAL_OK)
            return st;
        for (int i = 0; i < n && st == FOCAL_OK; i++) {
            char *full = focal_ds_join(path, names[i]);
            if (!full)
                st = focal_fail(FOCAL_ERR_NOMEM, "%s: out of memory", path);
            else if (focal_rfmid_csv_starts_with_id(full))
                st = rfmid_add_file(rf, full, strlen(full), path);
            free(full);
        }
        focal_ds_free_strings(names, n);
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
    if (t->cols > RFMID_MAX_COLUMNS)
        return focal_fail(FOCAL_ERR_FORMAT, "%s:%zu: %zu columns; expected at most %d (ID, Disease_Risk and the "
                          "conditions: RFMiD has 47)", s->path, t->header_line, t->cols, RFMID_MAX_COLUMNS);
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
        if (rf->nlab == 0 && !opt->include_risk)
            return focal_fail(FOCAL_ERR_FORMAT, "%s:%zu: no condition columns, only ID and %s; expected 0/1 columns "
                              "such as DR,MH,... (or --include-risk to learn %s alone)",
                              first, t0->header_line, RFMID_RISK, RFMID_RISK);
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
    } else if (!focal_ds_is_dir(images)) {
        return focal_fail(FOCAL_ERR_IO, "%s: image folder not found; expected a folder of <ID>.png files", images);
    }
    const char *tries[2] = { s->split >= 0 ? rfmid_split_folder[s->split] : NULL, images ? NULL : "images" };
    for (int k = 0; k < 2 && !s->image_dir; k++) {
        if (!tries[k])
            continue;
        char *cand = focal_ds_join(base, tries[k]);
        if (!cand) {
            free(csvdir);
            return focal_fail(FOCAL_ERR_NOMEM, "%s: out of memory", s->path);
        }
        if (focal_ds_is_dir(cand))
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
        char *p = name ? focal_ds_join(dir, name) : NULL;
        if (!p || focal_ds_is_file(p)) {
            free(name);
            return p;
        }
        free(p);
    }
    free(name);
    char *png = focal_ds_concat3(id, ext[0], "");
    char *p = png ? focal_ds_join(dir, png) : NULL;
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

/* qsort/bsearch order of strings held by pointer. */
static int rfmid_cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The label files of different splits number their images independently
 * (RFMiD's each start at ID 1), so two splits whose images are looked up in
 * the same folder would read the same photograph as a training and a
 * validation or test image. Refuses that for every image file that exists;
 * IDs whose files are missing are reported when loading. */
static focal_status rfmid_check_leaks(const struct focal_dataset *d, const struct rfmid *rf)
{
    size_t first[RFMID_MAX_FILES + 1] = {0};
    for (int k = 0; k < rf->nsrc; k++)
        first[k + 1] = first[k] + rf->src[k].t.rows;
    for (int k = 0; k < rf->nsrc; k++)
        for (int l = k + 1; l < rf->nsrc; l++) {
            const struct rfmid_src *a = &rf->src[k], *b = &rf->src[l];
            if (strcmp(a->image_dir, b->image_dir) != 0)
                continue;
            const char **ids = malloc((a->t.rows ? a->t.rows : 1) * sizeof *ids);
            if (!ids)
                return focal_fail(FOCAL_ERR_NOMEM, "%s: out of memory", a->path);
            for (size_t r = 0; r < a->t.rows; r++)
                ids[r] = d->ids[first[k] + r];
            qsort(ids, a->t.rows, sizeof *ids, rfmid_cmp_str);
            for (size_t r = 0; r < b->t.rows; r++) {
                const size_t i = first[l] + r;
                const char *key = d->ids[i];
                if (!bsearch(&key, ids, a->t.rows, sizeof *ids, rfmid_cmp_str) || !focal_ds_is_file(d->paths[i]))
                    continue;
                free(ids);
                char q[FOCAL_CSV_QUOTE_SIZE];
                focal_text_quote(q, key);
                return focal_fail(FOCAL_ERR_FORMAT,
                                  "%s would serve ID '%s' of both %s and %s: the label files number their images "
                                  "independently, so the images of different splits cannot share a folder; put "
                                  "them in %s/, %s/ and %s/ beside the label files (as RFMiD ships them), or "
                                  "under --images DIR in those subfolders",
                                  d->paths[i], q, a->path, b->path, rfmid_split_folder[0], rfmid_split_folder[1],
                                  rfmid_split_folder[2]);
            }
            free(ids);
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
    if (st == FOCAL_OK)
        st = rfmid_check_leaks(d, &rf);
    for (int k = 0; k < rf.nsrc; k++) {
        free(rf.src[k].path);
        free(rf.src[k].map);
        free(rf.src[k].image_dir);
        focal_table_release(&rf.src[k].t);
    }
    free(rf.lab);
    free(rf.other);
    return st;
}
