/* args.c — command-line parsing and error reporting for the focal program. */
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "args.h"

void cli_error(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("focal: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

static int g_warnings_off;

void cli_warnings_off(void)
{
    g_warnings_off = 1;
}

void cli_warn(const char *fmt, ...)
{
    if (g_warnings_off)
        return;
    va_list ap;
    va_start(ap, fmt);
    fputs("focal: warning: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

/* Edit distance between a and b (insertions, deletions, substitutions), or a
 * large number when either is longer than 63 bytes. */
static size_t cli_distance(const char *a, const char *b)
{
    size_t na = strlen(a), nb = strlen(b);
    size_t row[64];
    if (na > 63 || nb > 63)
        return (size_t)-1;
    for (size_t j = 0; j <= nb; j++)
        row[j] = j;
    for (size_t i = 1; i <= na; i++) {
        size_t diag = row[0];
        row[0] = i;
        for (size_t j = 1; j <= nb; j++) {
            size_t up = row[j];
            size_t best = diag + (a[i - 1] != b[j - 1]);
            if (up + 1 < best)
                best = up + 1;
            if (row[j - 1] + 1 < best)
                best = row[j - 1] + 1;
            row[j] = best;
            diag = up;
        }
    }
    return row[nb];
}

/* The option of p closest to `name` if it is within 2 edits, else NULL. */
static const char *cli_suggest(const struct cli_parser *p, const char *name)
{
    const char *best = NULL;
    size_t best_d = 3;
    for (size_t k = 0; k < p->n_opts; k++) {
        size_t d = cli_distance(name, p->opts[k].name);
        if (d < best_d) {
            best_d = d;
            best = p->opts[k].name;
        }
    }
    return best;
}

int cli_next(struct cli_parser *p, const char **value)
{
    *value = NULL;
    if (p->i >= p->argc)
        return CLI_END;
    const char *arg = p->argv[p->i++];
    if (strncmp(arg, "--", 2) != 0 && strcmp(arg, "-h") != 0) {
        cli_error("%s: unexpected argument '%s'; options start with '--' (see 'focal %s --help')",
                  p->cmd, arg, p->cmd);
        return CLI_BAD;
    }
    if (strcmp(arg, "-h") == 0)
        arg = "--help";
    const char *eq = strchr(arg, '=');
    size_t len = eq ? (size_t)(eq - arg) : strlen(arg);
    for (size_t k = 0; k < p->n_opts; k++) {
        const struct cli_opt *o = &p->opts[k];
        if (strlen(o->name) != len || strncmp(o->name, arg, len) != 0)
            continue;
        if (!o->has_value) {
            if (eq) {
                cli_error("%s: %s takes no value, but was given '%s'", p->cmd, o->name, eq + 1);
                return CLI_BAD;
            }
            return o->id;
        }
        if (eq) {
            *value = eq + 1;
        } else if (p->i < p->argc) {
            *value = p->argv[p->i++];
        } else {
            cli_error("%s: %s needs a value (see 'focal %s --help')", p->cmd, o->name, p->cmd);
            return CLI_BAD;
        }
        return o->id;
    }
    char name[128];
    snprintf(name, sizeof name, "%.*s", (int)(len < 127 ? len : 127), arg);
    const char *near = cli_suggest(p, name);
    if (near)
        cli_error("%s: unknown option '%s'; did you mean '%s'? (see 'focal %s --help')",
                  p->cmd, name, near, p->cmd);
    else
        cli_error("%s: unknown option '%s' (see 'focal %s --help')", p->cmd, name, p->cmd);
    return CLI_BAD;
}

/* Parses text[0..n) as a finite double into *x: 0 if it is one, 1 if it is not
 * a number, 2 if it is a number but not finite (nan, inf, overflow). */
static int cli_strtod(const char *text, size_t n, double *x)
{
    char buf[256];
    char *end;
    if (n == 0 || n >= sizeof buf)
        return 1;
    memcpy(buf, text, n);
    buf[n] = '\0';
    if (buf[0] == ' ' || buf[0] == '\t' || buf[0] == '\n')
        return 1;
    errno = 0;
    double v = strtod(buf, &end);
    if (end != buf + n)
        return 1;
    if (!isfinite(v) || (errno == ERANGE && fabs(v) > 1.0))
        return 2;
    *x = v;
    return 0;
}

int cli_parse_double(const char *opt, const char *text, double *x)
{
    int r = cli_strtod(text, strlen(text), x);
    if (r == 1) {
        cli_error("%s: '%s' is not a number", opt, text);
        return -1;
    }
    if (r == 2) {
        cli_error("%s: '%s' is not a finite number", opt, text);
        return -1;
    }
    return 0;
}

int cli_parse_double_in(const char *opt, const char *text, double lo, int lo_open,
                        double hi, int hi_open, const char *valid, double *x)
{
    double v;
    if (cli_parse_double(opt, text, &v) != 0)
        return -1;
    if ((lo_open ? !(v > lo) : !(v >= lo)) || (hi_open ? !(v < hi) : !(v <= hi))) {
        cli_error("%s: '%s' is out of range; expected %s", opt, text, valid);
        return -1;
    }
    *x = v;
    return 0;
}

int cli_parse_tta(const char *text, int *tta)
{
    if (strcmp(text, "none") == 0 || strcmp(text, "flips") == 0) {
        *tta = strcmp(text, "flips") == 0;
        return 0;
    }
    cli_error("--tta: '%s'; expected none or flips", text);
    return -1;
}

int cli_parse_long(const char *opt, const char *text, long lo, long hi, long *x)
{
    char *end;
    if (!*text || *text == ' ' || *text == '\t') {
        cli_error("%s: '%s' is not an integer; expected an integer in [%ld, %ld]", opt, text, lo, hi);
        return -1;
    }
    errno = 0;
    long v = strtol(text, &end, 10);
    if (*end != '\0') {
        cli_error("%s: '%s' is not an integer; expected an integer in [%ld, %ld]", opt, text, lo, hi);
        return -1;
    }
    if (errno == ERANGE || v < lo || v > hi) {
        cli_error("%s: '%s' is out of range; expected an integer in [%ld, %ld]", opt, text, lo, hi);
        return -1;
    }
    *x = v;
    return 0;
}

int cli_parse_list(const char *opt, const char *text, double **out, size_t *n)
{
    size_t cap = 1;
    for (const char *s = text; *s; s++)
        cap += *s == ',';
    double *v = malloc(cap * sizeof *v);
    if (!v) {
        cli_error("%s: out of memory", opt);
        return -1;
    }
    size_t k = 0;
    const char *s = text;
    for (;;) {
        const char *e = strchr(s, ',');
        size_t len = e ? (size_t)(e - s) : strlen(s);
        while (len > 0 && (*s == ' ' || *s == '\t')) {
            s++;
            len--;
        }
        while (len > 0 && (s[len - 1] == ' ' || s[len - 1] == '\t'))
            len--;
        if (len == 0) {
            cli_error("%s: item %zu of '%s' is empty; expected comma-separated numbers", opt, k + 1, text);
            free(v);
            return -1;
        }
        int r = cli_strtod(s, len, &v[k]);
        if (r != 0) {
            cli_error("%s: '%.*s' (item %zu) is not a %snumber", opt, (int)(len > 200 ? 200 : len), s, k + 1,
                      r == 2 ? "finite " : "");
            free(v);
            return -1;
        }
        k++;
        if (!e)
            break;
        s = e + 1;
    }
    *out = v;
    *n = k;
    return 0;
}
