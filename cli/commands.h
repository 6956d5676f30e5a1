/* commands.h — the subcommands of the focal program. Each takes the command's
 * own arguments (argv[0] is the command name), prints its results to stdout and
 * its errors to stderr, and returns the process exit status (see args.h). */
#ifndef FOCAL_CLI_COMMANDS_H
#define FOCAL_CLI_COMMANDS_H

#include <stdio.h>

/* `focal loss`: a loss and optionally its gradient from CSV logits and targets. */
int cmd_loss(int argc, char **argv);
/* Writes the help of `focal loss` to fp. */
void cmd_loss_help(FILE *fp);

/* `focal explain`: focal loss against cross-entropy for given p_t; Figure 1 plot. */
int cmd_explain(int argc, char **argv);
/* Writes the help of `focal explain` to fp. */
void cmd_explain_help(FILE *fp);

#endif
