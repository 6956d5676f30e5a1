/* cmd_report.c — `focal report DIR`: (re)writes the report of an experiment
 * folder that `focal compare` or `focal tune` made (see report/report.h). */
#include <stdio.h>
#include <string.h>

#include "args.h"
#include "commands.h"
#include "report/report.h"

enum report_opt { R_HELP };

static const struct cli_opt report_opts[] = {
    { "--help", 0, R_HELP },
};

void cmd_report_help(FILE *fp)
{
    fputs(
"Usage: focal report DIR\n"
"\n"
"Writes the report of the experiment folder DIR that 'focal compare' or\n"
"'focal tune' made, from DIR/results.json and the run folders it lists (their\n"
"history.csv, metrics.json and scores.csv); useful after editing results.json\n"
"or when a report is missing. Nothing is trained.\n"
"\n"
"Written into DIR, each file atomically\n"
"  report.html        one self-contained page (inline SVG charts and CSS; it\n"
"                     loads nothing): the results tables with the best method\n"
"                     highlighted, training curves, per-class average precision\n"
"                     from the most frequent class to the rarest, precision-\n"
"                     recall curves of the three rarest classes, the best\n"
"                     method's confusion matrix (binary and multi-class), the\n"
"                     focal-loss curve of the chosen gamma and, for a tune, the\n"
"                     gamma x alpha table.\n"
"  report.md          the same tables in Markdown, with the charts as\n"
"  report-*.svg       separate SVG files beside it.\n"
"If anything in DIR is missing or malformed, the message names the file and\n"
"nothing is written.\n"
"\n"
"Options\n"
"  --help   show this help.\n"
"\n"
"Example\n"
"  focal compare --data retinamnist.npz --out exp --seeds 3\n"
"  focal report exp\n", fp);
}

int cmd_report(int argc, char **argv)
{
    struct cli_parser p = { argc, argv, 1, "report", report_opts, sizeof report_opts / sizeof report_opts[0] };
    const char *dir = NULL, *v;
    while (p.i < argc) {
        const char *a = argv[p.i];
        if (a[0] != '-' || strcmp(a, "-") == 0) {
            if (dir) {
                cli_error("report: unexpected argument '%s'; expected one experiment folder (see 'focal report "
                          "--help')", a);
                return CLI_EXIT_USAGE;
            }
            dir = a;
            p.i++;
            continue;
        }
        int id = cli_next(&p, &v);
        if (id == CLI_BAD)
            return CLI_EXIT_USAGE;
        if (id == R_HELP) {
            cmd_report_help(stdout);
            return CLI_EXIT_OK;
        }
    }
    if (!dir || !*dir) {
        cli_error("report: no experiment folder given; usage: focal report DIR");
        return CLI_EXIT_USAGE;
    }
    char err[1024];
    if (report_write(dir, err, sizeof err) != 0) {
        cli_error("report: %s", err);
        return CLI_EXIT_DATA;
    }
    printf("wrote %s/report.html and %s/report.md (charts: %s/report-*.svg)\n", dir, dir, dir);
    return CLI_EXIT_OK;
}
