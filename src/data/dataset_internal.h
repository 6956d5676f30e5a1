/* dataset_internal.h — what the dataset readers share: the header-aware text
 * table (text_table.c), the per-format readers behind focal_dataset_open
 * (rfmid.c, folders.c, table.c, npz.c, idx.c; dispatched from dataset.c) and
 * the helpers for building a struct focal_dataset (dataset_build.c). Not
 * installed. */
#ifndef FOCAL_DATASET_INTERNAL_H
#define FOCAL_DATASET_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "base/internal.h"

/* ---- text tables (text_table.c) ------------------------------------------ */

/* A CSV file read as text: every field trimmed of surrounding blanks and
 * NUL-terminated in place inside one buffer. Same line rules as
 * focal_csv_read (byte-order mark, CRLF, blank lines skipped); a field may be
 * enclosed in double quotes ("" inside stands for one quote; a quoted field
 * may hold commas but not line ends). Columns in messages are 1-based byte
 * offsets within the line, as for focal_csv_read. */
struct focal_table {
    const char *path;        /* the file, for messages; not owned */
    size_t rows, cols;       /* data rows (header excluded), fields on every row */
    char **header;           /* cols names, or NULL when the file has no header */
    size_t header_line;      /* line of the header (0 without one) */
    char **cell;             /* rows × cols field texts */
    size_t *line;            /* rows: the 1-based line number of each data row */
    char **row_start;        /* rows: where each data row's line starts */
    char *header_start;      /* where the header's line starts, or NULL */
    char *text;              /* the buffer every string points into */
};

/* Reads the CSV file at path into *t. header: 1 the first non-blank line is a
 * header, 0 it is data, −1 detect (a header when the first line has a field
 * that is neither a number nor empty nor "?"). FOCAL_ERR_IO if the file cannot
 * be read; FOCAL_ERR_FORMAT "path:line[:column]: ..." for a row with another
 * number of fields than the first, an unclosed quote or text after a closing
 * quote, and "path: ..." for a file with no data row. On failure *t is empty. */
focal_status focal_table_read(const char *path, int header, struct focal_table *t);
void focal_table_release(struct focal_table *t);

/* The field at data row r, column c (0-based). */
static inline const char *focal_table_at(const struct focal_table *t, size_t r, size_t c)
{
    return t->cell[r * t->cols + c];
}

/* The 1-based byte column of field (r, c) within its line, for messages. */
size_t focal_table_column(const struct focal_table *t, size_t r, size_t c);

/* Writes "column 'name'" (with a header) or "column N" (without) for column c
 * into buf (size n), for messages; returns buf. */
const char *focal_table_colname(const struct focal_table *t, size_t c, char *buf, size_t n);

/* Parses field (r, c) as a finite number into *x. "?" and empty fields give
 * NaN when allow_missing is 1. FOCAL_ERR_FORMAT "path:line:column: column
 * 'name' has value '...'; expected a number ..." otherwise. */
focal_status focal_table_number(const struct focal_table *t, size_t r, size_t c, int allow_missing, double *x);

/* 1 if s is a field a table would read as a missing value: "" or "?". */
int focal_table_is_missing(const char *s);

/* 1 if s (NUL-terminated) is a whole finite decimal number strtod reads. */
int focal_text_is_number(const char *s, double *x);

/* Copies up to 40 bytes of s into q (size >= FOCAL_CSV_QUOTE_SIZE) for a
 * message, control bytes as '?', a cut marked with "...". */
void focal_text_quote(char *q, const char *s);

/* ---- readers behind focal_dataset_open -------------------------------------- */

/* Each fills the zeroed dataset d from path with opt's options; on failure
 * it returns the status with a message and leaves whatever it allocated in d
 * for the caller to release with focal_dataset_free. */
focal_status focal_read_rfmid(struct focal_dataset *d, const char *path, const struct focal_data_options *opt);
focal_status focal_read_folders(struct focal_dataset *d, const char *root);
focal_status focal_read_table(struct focal_dataset *d, const char *path, const struct focal_data_options *opt);
focal_status focal_read_npz(struct focal_dataset *d, const char *path);
focal_status focal_read_idx(struct focal_dataset *d, const char *path);

/* 1 if the first field of the first non-blank line of the file at path
 * (after a byte-order mark and blanks) is exactly `ID`: an RFMiD label file
 * (rfmid.c). */
int focal_rfmid_csv_starts_with_id(const char *path);

/* ---- helpers for building datasets (dataset_build.c) ---------------------- */

/* A new copy of s, or NULL when out of memory. */
char *focal_ds_strdup(const char *s);

/* A new string "a" + "b" + "c" (any may be ""), or NULL when out of memory. */
char *focal_ds_concat3(const char *a, const char *b, const char *c);

/* a·b·c into *out; 0 on success, −1 if the product overflows size_t. */
int focal_ds_mul3(size_t a, size_t b, size_t c, size_t *out);

/* Sets d->num_classes = c and class names "0" .. "c−1". FOCAL_ERR_NOMEM
 * naming path when out of memory. */
focal_status focal_ds_number_classes(struct focal_dataset *d, int c, const char *path);

/* Allocates d->ids for d->n samples: ids[i] = "<prefix><i − first>" for the
 * samples i in [first, first + count) — call once per split to number the
 * samples of each split from 0. The array is allocated (zeroed) on the first
 * call. FOCAL_ERR_NOMEM naming path. */
focal_status focal_ds_number_ids(struct focal_dataset *d, int first, int count, const char *prefix,
                                 const char *path);

/* A new string holding the decimal value of v, or NULL when out of memory. */
char *focal_ds_itoa(long v);

/* Frees the first n strings of v, then v. */
void focal_ds_free_strings(char **v, int n);

/* qsort comparison of two char * by strcmp. */
int focal_ds_cmp_str(const void *a, const void *b);

/* 1 if path names a directory. */
int focal_ds_is_dir(const char *path);

/* 1 if path names a regular file (or a link to one). */
int focal_ds_is_file(const char *path);

/* 1 if name ends with suffix, ignoring case. */
int focal_ds_ends_with(const char *name, const char *suffix);

/* "dir/name", or a copy of name when dir is "". NULL when out of memory. */
char *focal_ds_join(const char *dir, const char *name);

/* Which entries of a directory focal_ds_list_dir keeps. */
enum focal_ds_list_kind { FOCAL_DS_LIST_DIRS, FOCAL_DS_LIST_IMAGES, FOCAL_DS_LIST_CSV };

/* The names of the entries of directory dir of the given kind (folders;
 * image files by name; .csv files), without hidden ones (starting with '.'),
 * sorted by strcmp, in a new array *names (count *n; free with
 * focal_ds_free_strings). FOCAL_ERR_IO naming dir if it cannot be read. */
focal_status focal_ds_list_dir(const char *dir, enum focal_ds_list_kind kind, char ***names, int *n);

#endif
