/* args.h — command-line parsing and error reporting shared by the focal
 * subcommands. Every function that rejects user input prints one message to
 * stderr, prefixed "focal: ", that quotes the offending text and says what would
 * be valid; callers then only choose the exit status. */
#ifndef FOCAL_CLI_ARGS_H
#define FOCAL_CLI_ARGS_H

#include <stddef.h>

#if defined(__GNUC__)
#define CLI_PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#define CLI_PRINTF(a, b)
#endif

/* Exit statuses of the program. */
enum {
    CLI_EXIT_OK = 0,
    CLI_EXIT_DATA = 1,   /* a file could not be read or written, or holds bad data */
    CLI_EXIT_USAGE = 2   /* the command line is wrong */
};

/* Prints "focal: <message>\n" to stderr. */
void cli_error(const char *fmt, ...) CLI_PRINTF(1, 2);

/* Prints "focal: warning: <message>\n" to stderr. */
void cli_warn(const char *fmt, ...) CLI_PRINTF(1, 2);
/* From now on cli_warn prints nothing (ranks of a data-parallel run other
 * than 0 would repeat rank 0's warnings). */
void cli_warnings_off(void);

/* One option a command accepts: "--name" (with has_value: "--name VALUE" or
 * "--name=VALUE"). id is returned by cli_next when the option is seen. */
struct cli_opt {
    const char *name;   /* with the leading "--" */
    int has_value;
    int id;
};

/* Walks argv[start..argc) of one command. */
struct cli_parser {
    int argc;
    char **argv;
    int i;              /* next argument to read */
    const char *cmd;    /* command name, for messages */
    const struct cli_opt *opts;
    size_t n_opts;
};

enum { CLI_END = -1, CLI_BAD = -2 };

/* Returns the id of the next option (*value receives its value, or NULL for a
 * flag), CLI_END after the last argument, or CLI_BAD after printing an error
 * for an unknown option (with a suggestion when one is close), a missing value,
 * a value given to a flag, or a stray positional argument. */
int cli_next(struct cli_parser *p, const char **value);

/* Parses text as a finite decimal number for option `opt` into *x. Returns 0,
 * or -1 after printing "focal: OPT: 'TEXT' is not a number" (or "... is not a
 * finite number"). */
int cli_parse_double(const char *opt, const char *text, double *x);

/* As cli_parse_double, then requires lo <= x <= hi (or lo < x, x < hi when
 * lo_open / hi_open are set; use ±HUGE_VAL for no bound). `valid` describes the
 * valid range for the message, e.g. "a number in [0, 1]". Returns 0 or -1. */
int cli_parse_double_in(const char *opt, const char *text, double lo, int lo_open,
                        double hi, int hi_open, const char *valid, double *x);

/* Parses text as a decimal integer in [lo, hi] into *x. Returns 0, or -1 after
 * printing a message that names opt, quotes text and states [lo, hi]. */
int cli_parse_long(const char *opt, const char *text, long lo, long hi, long *x);

/* --tta: "none" (0) or "flips" (1, FOCAL_TTA_FLIPS) into *tta. Returns 0,
 * or -1 after printing a message naming the valid values. */
int cli_parse_tta(const char *text, int *tta);

/* Parses a comma-separated list of finite numbers. *out (caller frees with
 * free()) receives *n values. Returns 0, or -1 after printing a message naming
 * opt and the offending item (an empty item included). */
int cli_parse_list(const char *opt, const char *text, double **out, size_t *n);

#endif
