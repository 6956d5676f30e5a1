/* metrics_print.h — the metrics table printed by `focal metrics` and
 * `focal eval`. */
#ifndef FOCAL_CLI_METRICS_PRINT_H
#define FOCAL_CLI_METRICS_PRINT_H

#include <stdio.h>

#include "focal.h"

/* Writes the per-class table (support, precision, recall, F1, ROC-AUC, AP;
 * "n/a" where undefined), the summary metrics, the RIADD score when ra is not
 * NULL, and which classes were left out of the macro means and why. names:
 * m->num_classes names, or NULL for class numbers. */
void metrics_print_table(FILE *fp, const struct focal_metrics *m, const char *const *names,
                         const struct focal_riadd *ra);

#endif
