/* csv.c — reading numeric CSV matrices (no header, comma-separated), and CSV
 * files as tables of text fields with an optional header for the dataset
 * readers (struct focal_table, data/text_table.c), which share the scanner
 * declared in csv_scan.h.
 *
 * Accepted: an optional UTF-8 byte-order mark, LF or CRLF line ends, a last line
 * without a line end, blank (empty or whitespace-only) lines anywhere, spaces or
 * tabs around a field. Every field must be a finite decimal number as strtod
 * reads it in the C locale. Columns in messages are 1-based byte offsets within
 * the line, not counting a byte-order mark. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "focal/base.h"
#include "base/csv_scan.h"
#include "base/internal.h"


/* Growable array of doubles. */
struct csv_buf {
    double *v;
    size_t n, cap;
};

/* Appends x to b, growing it geometrically. FOCAL_ERR_NOMEM on failure. */
static focal_status csv_push(struct csv_buf *b, double x, const char *path)
{
    if (b->n == b->cap) {
        size_t cap = b->cap ? b->cap * 2 : 256;
        if (cap < b->cap || cap > (size_t)-1 / sizeof *b->v)
            return focal_fail(FOCAL_ERR_NOMEM, "%s: too many values to hold in memory", path);
        double *v = realloc(b->v, cap * sizeof *v);
        if (!v)
            return focal_fail(FOCAL_ERR_NOMEM, "%s: out of memory after %zu values", path, b->n);
        b->v = v;
        b->cap = cap;
    }
    b->v[b->n++] = x;
    return FOCAL_OK;
}

/* Copies up to FOCAL_CSV_QUOTE_MAX bytes of s[0..n) into q (size >= FOCAL_CSV_QUOTE_MAX + 4)
 * for quoting, replacing control bytes by '?' and marking a cut with "...". */
void focal_csv_quote_n(char *q, const char *s, size_t n)
{
    size_t k = n < FOCAL_CSV_QUOTE_MAX ? n : FOCAL_CSV_QUOTE_MAX;
    for (size_t i = 0; i < k; i++) {
        unsigned char ch = (unsigned char)s[i];
        q[i] = (ch < 0x20 || ch == 0x7f) ? '?' : (char)ch;
    }
    if (k < n) {
        memcpy(q + k, "...", 4);
    } else {
        q[k] = '\0';
    }
}

/* 1 for the blanks allowed around a field. */
int focal_csv_is_blank(char ch)
{
    return ch == ' ' || ch == '\t';
}


void focal_csv_begin(struct focal_csv_cursor *c, char *text, size_t len)
{
    c->p = text;
    c->end = text + len;
    c->line = 0;
    if (len >= 3 && memcmp(text, "\xEF\xBB\xBF", 3) == 0)
        c->p += 3;
}

/* The next non-blank line [*ls, *le) (without its line end); 0 at the end. */
int focal_csv_next_line(struct focal_csv_cursor *c, char **ls, char **le)
{
    while (c->p < c->end) {
        char *s = c->p;
        char *e = memchr(s, '\n', (size_t)(c->end - s));
        if (!e)
            e = c->end;
        c->p = e < c->end ? e + 1 : c->end;
        c->line++;
        if (e > s && e[-1] == '\r')
            e--;
        char *t = s;
        while (t < e && (focal_csv_is_blank(*t) || *t == '\r'))
            t++;
        if (t < e) {
            *ls = s;
            *le = e;
            return 1;
        }
    }
    return 0;
}

/* The field starting at f on a line ending at le: [*a, *z) is its text
 * without surrounding blanks; returns where it ends (a comma or le). */
char *focal_csv_field(char *f, char *le, char **a, char **z)
{
    char *fe = f;
    while (fe < le && *fe != ',')
        fe++;
    char *x = f, *y = fe;
    while (x < y && focal_csv_is_blank(*x))
        x++;
    while (y > x && focal_csv_is_blank(y[-1]))
        y--;
    *a = x;
    *z = y;
    return fe;
}


/* Parses the non-empty text s[0..n) (s[n] is a delimiter or NUL, never
 * whitespace that strtod could skip into) into *x: the whole text must be a
 * decimal number strtod reads, finite and within the range of a double. */
enum focal_csv_parse_result focal_csv_parse(const char *s, size_t n, double *x)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (n == 0 || end != s + n)
        return FOCAL_CSV_NOT_NUMBER;
    if (!isfinite(v) || (errno == ERANGE && fabs(v) > 1.0))
        return FOCAL_CSV_NOT_FINITE;
    *x = v;
    return FOCAL_CSV_NUMBER;
}

/* Parses one trimmed, non-empty field s[0..n) (as for csv_parse) into *x.
 * FOCAL_ERR_FORMAT naming path:line:col otherwise. */
static focal_status csv_number(const char *s, size_t n, const char *path, size_t line,
                               size_t col, double *x)
{
    char q[FOCAL_CSV_QUOTE_MAX + 4];
    enum focal_csv_parse_result r = focal_csv_parse(s, n, x);
    if (r == FOCAL_CSV_NOT_NUMBER) {
        focal_csv_quote_n(q, s, n);
        return focal_fail(FOCAL_ERR_FORMAT,
                          "%s:%zu:%zu: '%s' is not a number; expected a decimal number such as 0.5 or -1e-3",
                          path, line, col, q);
    }
    if (r == FOCAL_CSV_NOT_FINITE) {
        focal_csv_quote_n(q, s, n);
        return focal_fail(FOCAL_ERR_FORMAT,
                          "%s:%zu:%zu: '%s' is not a finite number; expected a value within +-1.7e308 (no nan or inf)",
                          path, line, col, q);
    }
    return FOCAL_OK;
}

focal_status focal_csv_read(const char *path, struct focal_csv_matrix *m)
{
    focal_status st;
    char *text = NULL;
    size_t len = 0;
    struct csv_buf b = { NULL, 0, 0 };
    size_t cols = 0, rows = 0, first_line = 0;

    m->rows = m->cols = 0;
    m->data = NULL;

    if ((st = focal_read_file(path, 0, &text, &len)) != FOCAL_OK)
        return st;

    struct focal_csv_cursor cur;
    char *ls, *le;
    focal_csv_begin(&cur, text, len);
    while (focal_csv_next_line(&cur, &ls, &le)) {
        const size_t line = cur.line;
        size_t nf = 0;
        char *f = ls;
        for (;;) {
            char *a, *z;
            char *fe = focal_csv_field(f, le, &a, &z);
            size_t col = (size_t)(a - ls) + 1;
            if (rows > 0 && nf == cols) {
                st = focal_fail(FOCAL_ERR_FORMAT,
                                "%s:%zu:%zu: row has more than %zu fields; expected %zu on every row (as on line %zu)",
                                path, line, (size_t)(f - ls) + 1, cols, cols, first_line);
                goto fail;
            }
            if (a == z) {
                st = focal_fail(FOCAL_ERR_FORMAT,
                                "%s:%zu:%zu: empty field %zu; expected a number",
                                path, line, col, nf + 1);
                goto fail;
            }
            double x = 0.0;
            /* strtod stops at the delimiter, a blank or NUL: none is whitespace
             * it would skip, because a is not blank and the text ends in NUL. */
            char save = *z;
            *z = '\0';
            st = csv_number(a, (size_t)(z - a), path, line, col, &x);
            *z = save;
            if (st != FOCAL_OK)
                goto fail;
            st = csv_push(&b, x, path);
            if (st != FOCAL_OK)
                goto fail;
            nf++;
            if (fe == le)
                break;
            f = fe + 1;
        }
        if (rows == 0) {
            cols = nf;
            first_line = line;
        } else if (nf != cols) {
            st = focal_fail(FOCAL_ERR_FORMAT,
                            "%s:%zu:%zu: row has %zu field%s; expected %zu on every row (as on line %zu)",
                            path, line, (size_t)(le - ls) + 1, nf, nf == 1 ? "" : "s",
                            cols, first_line);
            goto fail;
        }
        rows++;
    }
    if (rows == 0) {
        st = focal_fail(FOCAL_ERR_FORMAT, "%s: no data; expected at least one row of comma-separated numbers",
                        path);
        goto fail;
    }
    free(text);
    m->rows = rows;
    m->cols = cols;
    m->data = b.v;
    return FOCAL_OK;

fail:
    free(b.v);
    free(text);
    return st;
}

focal_status focal_csv_locate(const char *path, size_t row, size_t col, size_t *line, size_t *column,
                              char quote[FOCAL_CSV_QUOTE_SIZE])
{
    char *text = NULL;
    size_t len = 0;
    focal_status st = focal_read_file(path, 0, &text, &len);
    if (st != FOCAL_OK)
        return st;
    struct focal_csv_cursor cur;
    char *ls, *le;
    size_t r = 0;
    focal_csv_begin(&cur, text, len);
    st = focal_fail(FOCAL_ERR_ARG, "%s: no value at row %zu, column %zu", path, row + 1, col + 1);
    while (focal_csv_next_line(&cur, &ls, &le)) {
        if (r++ != row)
            continue;
        char *a, *z;
        char *fe = focal_csv_field(ls, le, &a, &z);
        size_t k = 0;
        while (k < col && fe < le) {
            fe = focal_csv_field(fe + 1, le, &a, &z);
            k++;
        }
        if (k == col) {
            *line = cur.line;
            *column = (size_t)(a - ls) + 1;
            focal_csv_quote_n(quote, a, (size_t)(z - a));
            focal_clear_error();
            st = FOCAL_OK;
        }
        break;
    }
    free(text);
    return st;
}

void focal_csv_release(struct focal_csv_matrix *m)
{
    if (!m)
        return;
    free(m->data);
    m->data = NULL;
    m->rows = m->cols = 0;
}

