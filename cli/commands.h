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

/* `focal synth`: a synthetic RFMiD-shaped multi-label fundus dataset. */
int cmd_synth(int argc, char **argv);
void cmd_synth_help(FILE *fp);

/* `focal train`: trains a model on a dataset and writes a run folder. */
int cmd_train(int argc, char **argv);
void cmd_train_help(FILE *fp);

/* `focal ensemble`: a run folder averaging the probabilities of finished runs. */
int cmd_ensemble(int argc, char **argv);
void cmd_ensemble_help(FILE *fp);

/* `focal eval`: metrics of a run's model on a dataset. */
int cmd_eval(int argc, char **argv);
void cmd_eval_help(FILE *fp);

/* `focal predict`: per-image probabilities and thresholded labels. */
int cmd_predict(int argc, char **argv);
void cmd_predict_help(FILE *fp);

/* `focal export`: a trained run as an ONNX model. */
int cmd_export(int argc, char **argv);
void cmd_export_help(FILE *fp);

/* `focal metrics`: classification metrics from scores and labels. */
int cmd_metrics(int argc, char **argv);
void cmd_metrics_help(FILE *fp);

/* `focal compare`: several methods x seeds on one dataset; table and report. */
int cmd_compare(int argc, char **argv);
void cmd_compare_help(FILE *fp);

/* `focal tune`: k-fold cross-validated gamma x alpha grid for focal loss. */
int cmd_tune(int argc, char **argv);
void cmd_tune_help(FILE *fp);

/* `focal report`: the HTML and Markdown report of an experiment folder. */
int cmd_report(int argc, char **argv);
void cmd_report_help(FILE *fp);

#endif
