/* text_table.c — CSV files read as tables of text fields with an optional
 * header (struct focal_table, dataset_internal.h), for the dataset readers.
 * Same line rules as the numeric reader (base/csv_scan.h). */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "focal/data.h"
#include "base/csv_scan.h"
#include "data/dataset_internal.h"

/* Makes room for `need` elements of size elem in *p (capacity *cap), growing
 * geometrically. 0, or −1 when out of memory. */
static int table_grow(void **p, size_t *cap, size_t need, size_t elem)
{
    if (need <= *cap)
        return 0;
    size_t c = *cap ? *cap : 64;
    while (c < need) {
        if (c > (size_t)-1 / 2 / elem)
            return -1;
        c *= 2;
    }
    void *q = realloc(*p, c * elem);
    if (!q)
        return -1;
    *p = q;
    *cap = c;
    return 0;
}

/* Growable arrays a table is built in. */
struct table_build {
    char **cell;
    size_t n_cell, cap_cell;
    size_t *line;
    char **row_start;
    size_t rows, cap_line, cap_start;
};

/* Ends the quoted field whose opening quote is at q on the line ending at le:
 * removes the quotes, turns "" into ", NUL-terminates the text in place and
 * returns where the field ends (a comma or le) in *fe. FOCAL_ERR_FORMAT naming
 * path:line:column for a quote left open or text after the closing quote. */
static focal_status table_unquote(char *q, char *le, char *ls, const char *path, size_t line, char **fe)
{
    char *r = q + 1, *w = q + 1;
    for (;;) {
        if (r >= le)
            return focal_fail(FOCAL_ERR_FORMAT,
                              "%s:%zu:%zu: quote not closed on this line; expected a closing \" "
                              "(a quoted field cannot span lines)", path, line, (size_t)(q - ls) + 1);
        if (*r == '"') {
            if (r + 1 < le && r[1] == '"') {
                *w++ = '"';
                r += 2;
                continue;
            }
            break;
        }
        *w++ = *r++;
    }
    char *after = r + 1;
    while (after < le && focal_csv_is_blank(*after))
        after++;
    if (after < le && *after != ',')
        return focal_fail(FOCAL_ERR_FORMAT,
                          "%s:%zu:%zu: text after a closing quote; expected a comma or the end of the line",
                          path, line, (size_t)(after - ls) + 1);
    *w = '\0';
    *fe = after;
    return FOCAL_OK;
}

/* Splits the line [ls, le) into fields NUL-terminated in place, appended to
 * b->cell; *nf receives their number. */
static focal_status table_split(struct table_build *b, char *ls, char *le, const char *path, size_t line,
                                size_t *nf)
{
    size_t k = 0;
    char *f = ls;
    for (;;) {
        char *a, *z, *fe;
        fe = focal_csv_field(f, le, &a, &z);
        if (a < le && *a == '"') {
            focal_status st = table_unquote(a, le, ls, path, line, &fe);
            if (st != FOCAL_OK)
                return st;
            a++;
        } else {
            *z = '\0';
        }
        if (table_grow((void **)&b->cell, &b->cap_cell, b->n_cell + 1, sizeof *b->cell) != 0)
            return focal_fail(FOCAL_ERR_NOMEM, "%s: out of memory after %zu fields", path, b->n_cell);
        b->cell[b->n_cell++] = a;
        k++;
        if (fe >= le)
            break;
        f = fe + 1;
    }
    *nf = k;
    return FOCAL_OK;
}

/* Records a data row starting at ls on line `line`. */
static focal_status table_add_row(struct table_build *b, char *ls, size_t line, const char *path)
{
    if (table_grow((void **)&b->line, &b->cap_line, b->rows + 1, sizeof *b->line) != 0 ||
        table_grow((void **)&b->row_start, &b->cap_start, b->rows + 1, sizeof *b->row_start) != 0)
        return focal_fail(FOCAL_ERR_NOMEM, "%s: out of memory after %zu rows", path, b->rows);
    b->line[b->rows] = line;
    b->row_start[b->rows] = ls;
    b->rows++;
    return FOCAL_OK;
}

int focal_table_is_missing(const char *s)
{
    return s[0] == '\0' || (s[0] == '?' && s[1] == '\0');
}

int focal_text_is_number(const char *s, double *x)
{
    double v;
    if (focal_csv_parse(s, strlen(s), &v) != FOCAL_CSV_NUMBER)
        return 0;
    if (x)
        *x = v;
    return 1;
}

void focal_text_quote(char *q, const char *s)
{
    focal_csv_quote_n(q, s, strlen(s));
}

focal_status focal_table_read(const char *path, int header, struct focal_table *t)
{
    focal_status st;
    struct table_build b;
    memset(&b, 0, sizeof b);
    memset(t, 0, sizeof *t);
    t->path = path;

    char *text = NULL;
    size_t len = 0;
    if ((st = focal_read_file(path, 0, &text, &len)) != FOCAL_OK)
        return st;

    struct focal_csv_cursor cur;
    char *ls, *le;
    size_t cols = 0, first_line = 0;
    int have_header = 0;
    char *header_start = NULL;
    focal_csv_begin(&cur, text, len);
    while (focal_csv_next_line(&cur, &ls, &le)) {
        size_t nf = 0, before = b.n_cell;
        if ((st = table_split(&b, ls, le, path, cur.line, &nf)) != FOCAL_OK)
            goto fail;
        if (first_line == 0) {
            cols = nf;
            first_line = cur.line;
            if (header < 0) {
                for (size_t k = 0; k < nf && !have_header; k++) {
                    const char *f = b.cell[before + k];
                    have_header = !focal_table_is_missing(f) && !focal_text_is_number(f, NULL);
                }
            } else {
                have_header = header > 0;
            }
            if (have_header) {
                header_start = ls;
                t->header_line = cur.line;
                continue;
            }
        } else if (nf != cols) {
            st = focal_fail(FOCAL_ERR_FORMAT,
                            "%s:%zu: row has %zu field%s; expected %zu on every row (as on line %zu)",
                            path, cur.line, nf, nf == 1 ? "" : "s", cols, first_line);
            goto fail;
        }
        if ((st = table_add_row(&b, ls, cur.line, path)) != FOCAL_OK)
            goto fail;
    }
    if (b.rows == 0) {
        st = focal_fail(FOCAL_ERR_FORMAT, "%s: no data rows; expected comma-separated rows%s", path,
                        have_header ? " below the header" : "");
        goto fail;
    }
    t->rows = b.rows;
    t->cols = cols;
    t->cell = have_header ? b.cell + cols : b.cell;
    t->header = have_header ? b.cell : NULL;
    t->header_start = header_start;
    t->line = b.line;
    t->row_start = b.row_start;
    t->text = text;
    return FOCAL_OK;

fail:
    free(b.cell);
    free(b.line);
    free(b.row_start);
    free(text);
    memset(t, 0, sizeof *t);
    return st;
}

void focal_table_release(struct focal_table *t)
{
    if (!t)
        return;
    free(t->header ? t->header : t->cell);
    free(t->line);
    free(t->row_start);
    free(t->text);
    memset(t, 0, sizeof *t);
}

size_t focal_table_column(const struct focal_table *t, size_t r, size_t c)
{
    return (size_t)(focal_table_at(t, r, c) - t->row_start[r]) + 1;
}

const char *focal_table_colname(const struct focal_table *t, size_t c, char *buf, size_t n)
{
    if (t->header) {
        char q[FOCAL_CSV_QUOTE_MAX + 4];
        focal_text_quote(q, t->header[c]);
        snprintf(buf, n, "column '%s'", q);
    } else {
        snprintf(buf, n, "column %zu", c + 1);
    }
    return buf;
}

focal_status focal_table_number(const struct focal_table *t, size_t r, size_t c, int allow_missing, double *x)
{
    const char *s = focal_table_at(t, r, c);
    if (allow_missing && focal_table_is_missing(s)) {
        *x = NAN;
        return FOCAL_OK;
    }
    enum focal_csv_parse_result res = focal_csv_parse(s, strlen(s), x);
    if (res == FOCAL_CSV_NUMBER)
        return FOCAL_OK;
    char q[FOCAL_CSV_QUOTE_MAX + 4], name[FOCAL_CSV_QUOTE_MAX + 16];
    focal_text_quote(q, s);
    return focal_fail(FOCAL_ERR_FORMAT, "%s:%zu:%zu: %s has value '%s'; expected %s%s", t->path, t->line[r],
                      focal_table_column(t, r, c), focal_table_colname(t, c, name, sizeof name), q,
                      res == FOCAL_CSV_NOT_FINITE ? "a finite number within +-1.7e308" : "a number",
                      allow_missing ? " (or ? or an empty field for a missing value)" : "");
}
