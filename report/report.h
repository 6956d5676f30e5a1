/* report.h — the report of an experiment folder written by `focal compare`
 * or `focal tune`: DIR/report.html (one self-contained page: inline CSS and
 * SVG, nothing fetched) and DIR/report.md with its charts beside it as
 * DIR/report-<name>.svg.
 *
 * It reads DIR/results.json (the methods, their mean ± std per metric on
 * validation and test, the chosen method, the γ × α grid of a tune) and, for
 * every run folder that names, history.csv, metrics.json and scores.csv. The
 * report holds: the results tables with the best method marked and the
 * choice's sentence; training loss and the validation selection metric per
 * epoch (mean over seeds, one line per method); per-class average precision
 * with the classes sorted from most to least frequent; precision-recall
 * curves of the three rarest classes; the best method's confusion matrix
 * (binary and multi-class data); the focal-loss curve of the chosen γ; and,
 * for a tune, the γ × α table and the retrained setting's test numbers.
 *
 * This is the interface of report/, a library of the focal program (not part
 * of libfocal) built on libfocal's public headers only. It prints nothing:
 * failures come back as a message for the caller to print.
 */
#ifndef FOCAL_REPORT_REPORT_H
#define FOCAL_REPORT_REPORT_H

#include <stddef.h>

/* Writes DIR/report.html, DIR/report.md and DIR/report-<name>.svg from the
 * experiment folder dir. Everything is read and checked first; then every
 * file goes to a temporary file, and only when all were written are they
 * renamed into place (report-*.svg charts the new report no longer draws are
 * removed). Returns 0, or -1 with a message in err (errlen bytes, always
 * terminated) that names the file and what is wrong with it, e.g.
 * "runs/x/metrics.json: no \"val\" object"; after a failure no new report
 * file and no temporary file is left in dir. */
int report_write(const char *dir, char *err, size_t errlen);

#endif
