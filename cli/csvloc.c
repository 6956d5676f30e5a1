/* csvloc.c — locating a value of a CSV file for error messages. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "csvloc.h"

/* Longest field text quoted. */
#define CSVLOC_QUOTE_MAX 40

/* Reads the file at path into a NUL-terminated buffer (caller frees); *len
 * receives its length. NULL if it cannot be read. */
static char *csvloc_slurp(const char *path, size_t *len)
{
    FILE *fp = fopen(path, "rb");
    if (!fp)
        return NULL;
    size_t cap = 1 << 16, n = 0;
    char *buf = malloc(cap);
    while (buf) {
        if (cap - n < 2) {
            char *nb = cap <= (size_t)-1 / 2 ? realloc(buf, cap * 2) : NULL;
            if (!nb) {
                free(buf);
                buf = NULL;
                break;
            }
            buf = nb;
            cap *= 2;
        }
        size_t got = fread(buf + n, 1, cap - n - 1, fp);
        n += got;
        if (got == 0)
            break;
    }
    if (buf && ferror(fp)) {
        free(buf);
        buf = NULL;
    }
    fclose(fp);
    if (buf) {
        buf[n] = '\0';
        *len = n;
    }
    return buf;
}

/* Finds data row `row`, field `col` (0-based) of the CSV text buf[0..len):
 * *line and *column receive its 1-based position (the first non-blank byte of
 * the field), *text and *tlen the trimmed field. Returns 0, or -1 if absent. */
static int csvloc_find(const char *buf, size_t len, size_t row, size_t col, size_t *line,
                       size_t *column, const char **text, size_t *tlen)
{
    const char *p = buf, *end = buf + len;
    if (len >= 3 && memcmp(p, "\xEF\xBB\xBF", 3) == 0)
        p += 3;
    size_t r = 0;
    for (size_t ln = 1; p < end; ln++) {
        const char *ls = p;
        const char *le = memchr(p, '\n', (size_t)(end - p));
        if (!le)
            le = end;
        p = le < end ? le + 1 : end;
        if (le > ls && le[-1] == '\r')
            le--;
        const char *t = ls;
        while (t < le && (*t == ' ' || *t == '\t' || *t == '\r'))
            t++;
        if (t == le)
            continue;
        if (r++ != row)
            continue;
        const char *f = ls;
        for (size_t k = 0; k < col; k++) {
            f = memchr(f, ',', (size_t)(le - f));
            if (!f)
                return -1;
            f++;
        }
        const char *fe = memchr(f, ',', (size_t)(le - f));
        if (!fe)
            fe = le;
        while (f < fe && (*f == ' ' || *f == '\t'))
            f++;
        while (fe > f && (fe[-1] == ' ' || fe[-1] == '\t'))
            fe--;
        *line = ln;
        *column = (size_t)(f - ls) + 1;
        *text = f;
        *tlen = (size_t)(fe - f);
        return 0;
    }
    return -1;
}

void csvloc_error(const char *path, size_t row, size_t col, double value, const char *fmt, ...)
{
    va_list ap;
    size_t len = 0, line = 0, column = 0, tlen = 0;
    const char *text = NULL;
    char *buf = csvloc_slurp(path, &len);

    fputs("focal: ", stderr);
    if (buf && csvloc_find(buf, len, row, col, &line, &column, &text, &tlen) == 0) {
        int cut = tlen > CSVLOC_QUOTE_MAX;
        fprintf(stderr, "%s:%zu:%zu: '%.*s%s' ", path, line, column,
                (int)(cut ? CSVLOC_QUOTE_MAX : tlen), text, cut ? "..." : "");
    } else {
        fprintf(stderr, "%s: row %zu, column %zu: '%.17g' ", path, row + 1, col + 1, value);
    }
    free(buf);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}
