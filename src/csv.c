/* csv.c — reading numeric CSV matrices (no header, comma-separated), and CSV
 * files as tables of text fields with an optional header for the dataset
 * readers (struct focal_table, dataset_internal.h).
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

#include "dataset_internal.h"

/* Longest piece of offending text quoted in a message. */
#define CSV_QUOTE_MAX 40

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

/* Copies up to CSV_QUOTE_MAX bytes of s[0..n) into q (size >= CSV_QUOTE_MAX + 4)
 * for quoting, replacing control bytes by '?' and marking a cut with "...". */
static void csv_quote(char *q, const char *s, size_t n)
{
    size_t k = n < CSV_QUOTE_MAX ? n : CSV_QUOTE_MAX;
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
static int csv_is_blank(char ch)
{
    return ch == ' ' || ch == '\t';
}

/* A cursor over the data lines of CSV text: past a UTF-8 byte-order mark,
 * blank lines skipped, "\r\n" or "\n" line ends. */
struct csv_cursor {
    char *p, *end;
    size_t line;             /* number of the line last returned */
};

static void csv_begin(struct csv_cursor *c, char *text, size_t len)
{
    c->p = text;
    c->end = text + len;
    c->line = 0;
    if (len >= 3 && memcmp(text, "\xEF\xBB\xBF", 3) == 0)
        c->p += 3;
}

/* The next non-blank line [*ls, *le) (without its line end); 0 at the end. */
static int csv_next_line(struct csv_cursor *c, char **ls, char **le)
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
        while (t < e && (csv_is_blank(*t) || *t == '\r'))
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
static char *csv_field(char *f, char *le, char **a, char **z)
{
    char *fe = f;
    while (fe < le && *fe != ',')
        fe++;
    char *x = f, *y = fe;
    while (x < y && csv_is_blank(*x))
        x++;
    while (y > x && csv_is_blank(y[-1]))
        y--;
    *a = x;
    *z = y;
    return fe;
}

/* How a field parses as a number. */
enum csv_parse_result { CSV_NUMBER, CSV_NOT_NUMBER, CSV_NOT_FINITE };

/* Parses the non-empty text s[0..n) (s[n] is a delimiter or NUL, never
 * whitespace that strtod could skip into) into *x: the whole text must be a
 * decimal number strtod reads, finite and within the range of a double. */
static enum csv_parse_result csv_parse(const char *s, size_t n, double *x)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (n == 0 || end != s + n)
        return CSV_NOT_NUMBER;
    if (!isfinite(v) || (errno == ERANGE && fabs(v) > 1.0))
        return CSV_NOT_FINITE;
    *x = v;
    return CSV_NUMBER;
}

/* Parses one trimmed, non-empty field s[0..n) (as for csv_parse) into *x.
 * FOCAL_ERR_FORMAT naming path:line:col otherwise. */
static focal_status csv_number(const char *s, size_t n, const char *path, size_t line,
                               size_t col, double *x)
{
    char q[CSV_QUOTE_MAX + 4];
    enum csv_parse_result r = csv_parse(s, n, x);
    if (r == CSV_NOT_NUMBER) {
        csv_quote(q, s, n);
        return focal_fail(FOCAL_ERR_FORMAT,
                          "%s:%zu:%zu: '%s' is not a number; expected a decimal number such as 0.5 or -1e-3",
                          path, line, col, q);
    }
    if (r == CSV_NOT_FINITE) {
        csv_quote(q, s, n);
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

    struct csv_cursor cur;
    char *ls, *le;
    csv_begin(&cur, text, len);
    while (csv_next_line(&cur, &ls, &le)) {
        const size_t line = cur.line;
        size_t nf = 0;
        char *f = ls;
        for (;;) {
            char *a, *z;
            char *fe = csv_field(f, le, &a, &z);
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
    struct csv_cursor cur;
    char *ls, *le;
    size_t r = 0;
    csv_begin(&cur, text, len);
    st = focal_fail(FOCAL_ERR_ARG, "%s: no value at row %zu, column %zu", path, row + 1, col + 1);
    while (csv_next_line(&cur, &ls, &le)) {
        if (r++ != row)
            continue;
        char *a, *z;
        char *fe = csv_field(ls, le, &a, &z);
        size_t k = 0;
        while (k < col && fe < le) {
            fe = csv_field(fe + 1, le, &a, &z);
            k++;
        }
        if (k == col) {
            *line = cur.line;
            *column = (size_t)(a - ls) + 1;
            csv_quote(quote, a, (size_t)(z - a));
            focal_clear_error();
            st = FOCAL_OK;
        }
        break;
    }
    free(text);
    return st;
}

void focal_csv_free(struct focal_csv_matrix *m)
{
    if (!m)
        return;
    free(m->data);
    m->data = NULL;
    m->rows = m->cols = 0;
}

/* ---- text tables ------------------------------------------------------------ */

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
    while (after < le && csv_is_blank(*after))
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
        fe = csv_field(f, le, &a, &z);
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
    if (csv_parse(s, strlen(s), &v) != CSV_NUMBER)
        return 0;
    if (x)
        *x = v;
    return 1;
}

void focal_text_quote(char *q, const char *s)
{
    csv_quote(q, s, strlen(s));
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

    struct csv_cursor cur;
    char *ls, *le;
    size_t cols = 0, first_line = 0;
    int have_header = 0;
    char *header_start = NULL;
    csv_begin(&cur, text, len);
    while (csv_next_line(&cur, &ls, &le)) {
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

void focal_table_free(struct focal_table *t)
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
        char q[CSV_QUOTE_MAX + 4];
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
    enum csv_parse_result res = csv_parse(s, strlen(s), x);
    if (res == CSV_NUMBER)
        return FOCAL_OK;
    char q[CSV_QUOTE_MAX + 4], name[CSV_QUOTE_MAX + 16];
    focal_text_quote(q, s);
    return focal_fail(FOCAL_ERR_FORMAT, "%s:%zu:%zu: %s has value '%s'; expected %s%s", t->path, t->line[r],
                      focal_table_column(t, r, c), focal_table_colname(t, c, name, sizeof name), q,
                      res == CSV_NOT_FINITE ? "a finite number within +-1.7e308" : "a number",
                      allow_missing ? " (or ? or an empty field for a missing value)" : "");
}
