/* csv_scan.h — the CSV line and field scanner (csv.c) shared by the numeric
 * matrix reader and the dataset readers' text tables. Internal; not installed.
 * Line rules: an optional UTF-8 byte-order mark, LF or CRLF line ends, blank
 * lines skipped, spaces or tabs around a field. */
#ifndef FOCAL_CSV_SCAN_H
#define FOCAL_CSV_SCAN_H

#include <stddef.h>

/* Longest piece of offending text quoted in a message. */
#define FOCAL_CSV_QUOTE_MAX 40

/* A cursor over the data lines of CSV text: past a UTF-8 byte-order mark,
 * blank lines skipped, "\r\n" or "\n" line ends. */
struct focal_csv_cursor {
    char *p, *end;
    size_t line;             /* number of the line last returned */
};

/* Starts c at the beginning of text[0..len), past a byte-order mark. */
void focal_csv_begin(struct focal_csv_cursor *c, char *text, size_t len);

/* The next non-blank line [*ls, *le) (without its line end); 0 at the end. */
int focal_csv_next_line(struct focal_csv_cursor *c, char **ls, char **le);

/* The field starting at f on a line ending at le: [*a, *z) is its text
 * without surrounding blanks; returns where it ends (a comma or le). */
char *focal_csv_field(char *f, char *le, char **a, char **z);

/* 1 for the blanks allowed around a field. */
int focal_csv_is_blank(char ch);

/* How a field parses as a number. */
enum focal_csv_parse_result { FOCAL_CSV_NUMBER, FOCAL_CSV_NOT_NUMBER, FOCAL_CSV_NOT_FINITE };

/* Parses the non-empty text s[0..n) (s[n] is a delimiter or NUL, never
 * whitespace that strtod could skip into) into *x: the whole text must be a
 * decimal number strtod reads, finite and within the range of a double. */
enum focal_csv_parse_result focal_csv_parse(const char *s, size_t n, double *x);

/* Copies up to FOCAL_CSV_QUOTE_MAX bytes of s[0..n) into q (size >=
 * FOCAL_CSV_QUOTE_MAX + 4) for quoting, control bytes as '?', a cut marked
 * with "...". */
void focal_csv_quote_n(char *q, const char *s, size_t n);

#endif
