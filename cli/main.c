/* main.c — the focal program: dispatches to its subcommands. */
#include <stdio.h>
#include <string.h>

#include "focal.h"
#include "args.h"
#include "commands.h"
#include "mpi.h"

/* A subcommand: its name, one-line summary, entry point and help. */
struct command {
    const char *name;
    const char *summary;
    int (*run)(int argc, char **argv);
    void (*help)(FILE *fp);
};

static const struct command commands[] = {
    { "loss", "a loss, and optionally its gradient, from CSV logits and targets",
      cmd_loss, cmd_loss_help },
    { "explain", "focal loss against cross-entropy for given p_t; the paper's Figure 1",
      cmd_explain, cmd_explain_help },
    { "synth", "write a synthetic RFMiD-shaped fundus dataset (PNGs + label CSVs)",
      cmd_synth, cmd_synth_help },
    { "train", "train a network on a dataset; writes the model, history and metrics",
      cmd_train, cmd_train_help },
    { "eval", "evaluate a trained model on a dataset's splits",
      cmd_eval, cmd_eval_help },
    { "predict", "per-image probabilities and labels from a trained model",
      cmd_predict, cmd_predict_help },
    { "metrics", "classification metrics from score and label CSV files",
      cmd_metrics, cmd_metrics_help },
    { "compare", "which loss works on my data: methods x seeds, mean ± std, a report",
      cmd_compare, cmd_compare_help },
    { "tune", "k-fold cross-validation of focal loss's gamma x alpha",
      cmd_tune, cmd_tune_help },
    { "ensemble", "a run folder averaging finished runs' probabilities (e.g. seeds)",
      cmd_ensemble, cmd_ensemble_help },
    { "report", "the HTML and Markdown report of a compare or tune experiment folder",
      cmd_report, cmd_report_help },
    { "export", "a trained model as an ONNX graph, for ONNX Runtime and other runtimes",
      cmd_export, cmd_export_help },
};
#define N_COMMANDS (sizeof commands / sizeof commands[0])

/* Writes the program's overall help to fp. */
static void main_help(FILE *fp)
{
    fprintf(fp,
        "focal %s - focal loss and its relatives, from the command line\n"
        "\n"
        "Usage: focal <command> [options]\n"
        "       focal <command> --help\n"
        "       focal --help | --version\n"
        "\n"
        "Commands\n", focal_version());
    for (size_t i = 0; i < N_COMMANDS; i++)
        fprintf(fp, "  %-9s %s\n", commands[i].name, commands[i].summary);
    fputs(
        "\n"
        "Examples\n"
        "  focal loss --type sigmoid-focal --logits examples/logits.csv \\\n"
        "             --targets examples/targets.csv --alpha 0.25\n"
        "  focal loss --type ce --logits examples/logits.csv \\\n"
        "             --targets examples/classes.csv\n"
        "  focal explain --pt 0.1,0.5,0.9,0.99 --gamma 2 --plot fig1.svg\n"
        "\n"
        "Exit status: 0 success; 1 a file could not be read or written, or holds bad\n"
        "data; 2 the command line is wrong.\n", fp);
}

/* Prints the list of commands after an error about a command name. */
static void main_list_commands(void)
{
    fputs("focal: commands are:", stderr);
    for (size_t i = 0; i < N_COMMANDS; i++)
        fprintf(stderr, " %s%s", commands[i].name, i + 1 < N_COMMANDS ? "," : "");
    fputs(" (see 'focal --help')\n", stderr);
}

/* The command called name, or NULL. */
static const struct command *main_find(const char *name)
{
    for (size_t i = 0; i < N_COMMANDS; i++)
        if (strcmp(commands[i].name, name) == 0)
            return &commands[i];
    return NULL;
}

/* Flushes stdout; a failed write (a full disk, a closed pipe) turns a success
 * into exit status 1. */
static int main_finish(int status)
{
    if (fflush(stdout) != 0 || ferror(stdout)) {
        cli_error("cannot write the output: standard output failed");
        return status == CLI_EXIT_OK ? CLI_EXIT_DATA : status;
    }
    return status;
}

/* focal <command> [options] | --help | --version: runs the command and
 * returns its exit status (0 ok, 1 data or I/O error, 2 usage error). */
int main(int argc, char **argv)
{
    if (argc < 2) {
        cli_error("no command given");
        main_list_commands();
        return CLI_EXIT_USAGE;
    }
    const char *a = argv[1];
    if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0 || strcmp(a, "help") == 0) {
        if (argc > 2 && strcmp(a, "help") == 0) {
            const struct command *c = main_find(argv[2]);
            if (!c) {
                cli_error("unknown command '%s'", argv[2]);
                main_list_commands();
                return CLI_EXIT_USAGE;
            }
            c->help(stdout);
            return main_finish(CLI_EXIT_OK);
        }
        main_help(stdout);
        return main_finish(CLI_EXIT_OK);
    }
    if (strcmp(a, "--version") == 0 || strcmp(a, "version") == 0) {
        printf("focal %s\n", focal_version());
        return main_finish(CLI_EXIT_OK);
    }
    if (a[0] == '-') {
        cli_error("unknown option '%s'; expected a command first, or --help or --version", a);
        main_list_commands();
        return CLI_EXIT_USAGE;
    }
    const struct command *c = main_find(a);
    if (!c) {
        cli_error("unknown command '%s'", a);
        main_list_commands();
        return CLI_EXIT_USAGE;
    }
    int status = cli_mpi_start(&argc, &argv);
    if (status == CLI_EXIT_OK)
        status = main_finish(c->run(argc - 1, argv + 1));
    cli_mpi_end(status);
    return status;
}
