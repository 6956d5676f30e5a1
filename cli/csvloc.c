/* csvloc.c — locating a value of a CSV file for error messages. */
#include <stdarg.h>
#include <stdio.h>

#include "csvloc.h"
#include "focal.h"

void csvloc_error(const char *path, size_t row, size_t col, double value, const char *fmt, ...)
{
    va_list ap;
    size_t line = 0, column = 0;
    char quote[FOCAL_CSV_QUOTE_SIZE];

    fputs("focal: ", stderr);
    if (focal_csv_locate(path, row, col, &line, &column, quote) == FOCAL_OK)
        fprintf(stderr, "%s:%zu:%zu: '%s' ", path, line, column, quote);
    else
        fprintf(stderr, "%s: row %zu, column %zu: '%.17g' ", path, row + 1, col + 1, value);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}
