/* report_internal.h — what the parts of the report share: struct rp, the
 * experiment as read from its folder (results.c), the charts drawn from it
 * (charts.c), and the HTML and Markdown documents around them (document.c);
 * report.c writes the files. Internal to report/. */
#ifndef FOCAL_REPORT_INTERNAL_H
#define FOCAL_REPORT_INTERNAL_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <cjson/cJSON.h>

#include "focal.h"

#if defined(__GNUC__)
#define RP_PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#define RP_PRINTF(a, b)
#endif

/* The most metrics (table columns) results.json may name. */
#define RP_MAX_METRICS 32

/* At most this many rarest classes get a precision-recall chart. */
#define RP_MAX_RARE 3

/* mean ± std of one metric; NaN where undefined. */
struct rp_stat {
    double mean, std;
};

/* One run folder's numbers. */
struct rp_run {
    char *path;                          /* dir/<run> */
    int n_epochs;                        /* history rows */
    struct focal_epoch_record *history;  /* n_epochs rows of history.csv */
    double *ap[2];               /* per class of results.json (n_classes): val, test (NULL if absent) */
    int64_t *cm[2];              /* n_classes² confusion counts (rows true), val and test; NULL if absent */
};

/* A precision-recall curve of one class from one run's scores. */
struct rp_pr {
    size_t n;                    /* points */
    double *recall, *precision;  /* drawn as a step function */
    double ap;                   /* average precision; NaN without positives */
    long positives, samples;
};

/* One method of results.json and what its run folders hold. */
struct rp_method {
    const char *name, *spec;     /* owned by the cJSON tree */
    const cJSON *stats[2];       /* "val" and "test" objects (test may be NULL) */
    const cJSON *gain;           /* "vs_<baseline>": {"val": {mean, std}, "test": ...}, or NULL */
    size_t n_runs;
    struct rp_run *runs;
    struct rp_pr pr[RP_MAX_RARE];
    const char *color;
};

/* A seed ensemble of results.json's "ensembles" (compare with two seeds or
 * more): one model averaging a method's seeds, shown beside the methods. */
struct rp_ensemble {
    const char *name, *method;   /* owned by the cJSON tree */
    const cJSON *stats[2];       /* "val" and "test" objects of {mean, std} (test may be NULL) */
    const cJSON *gain;           /* "vs_<baseline>" as a method's, or NULL */
};

/* The grid of a tune. */
struct rp_grid {
    size_t n_gammas, n_alphas;
    double *gammas, *alphas;
    struct rp_stat *cells;       /* n_gammas × n_alphas; NaN where missing */
    double best_gamma, best_alpha;
    int folds;
    const char *metric_label;
    const cJSON *test;           /* {metric: value} or NULL */
};

/* Everything the report shows. */
struct rp {
    const char *dir;
    char *err;
    size_t errlen;
    cJSON *root;
    const char *kind, *task, *data, *sentence;
    const char *sel_key, *sel_label;  /* the validation metric that chose */
    const char *baseline;             /* compare: the method every table compares with ("baseline";
                                         each method's "vs_<baseline>" its gain), or NULL */
    enum focal_select sel;            /* the same, resolved for the task: which history value */
    int seeds;
    size_t n_classes;
    const char **class_names;
    double *train_counts;
    size_t *order;                    /* class indices, most frequent first */
    size_t n_metrics;
    const char **metric_keys, **metric_labels;
    size_t n_rare;
    size_t rare[RP_MAX_RARE];
    size_t n_methods;
    struct rp_method *methods;
    size_t n_ensembles;
    struct rp_ensemble *ensembles;
    int best;                         /* index of the chosen method, or -1 */
    double gamma;                     /* NaN: no focal-loss curve */
    int split;                        /* 1: per-class charts from the test split, 0: validation */
    int have_test_stats;              /* some method has test numbers */
    int tune;
    struct rp_grid grid;
};

/* ---- report.c ---- */

/* Formats the message into r->err (cut to fit) and returns -1. */
int rp_fail(struct rp *r, const char *fmt, ...) RP_PRINTF(2, 3);

/* "a/b" in a new string, or NULL when out of memory. */
char *rp_join(const char *a, const char *b);

/* ---- results.c ---- */

/* Reads and checks DIR/results.json into r (not yet the run folders).
 * Returns 0, or -1 with the error in r. */
int rp_read_results(struct rp *r);

/* Reads every run folder results.json names: history and metrics of all,
 * the scores of each method's first run. Chooses the split of the per-class
 * charts: test when every run has test metrics. Returns 0 or -1. */
int rp_read_runs(struct rp *r);

/* Releases everything r holds. */
void rp_free(struct rp *r);

/* A JSON number, or NaN for null, a missing member or anything else. */
double rp_num(const cJSON *o);

/* ---- charts.c ---- */

enum rp_chart_kind { RP_LOSS, RP_SELECTION, RP_PER_CLASS, RP_PR, RP_CONFUSION, RP_FOCAL, RP_N_KINDS };

/* One chart of the report: written inline into the HTML and as
 * DIR/report-<name>.svg for the Markdown. */
struct rp_chart {
    enum rp_chart_kind kind;
    size_t index;          /* RP_PR: which rarest class */
    char name[32];         /* file report-<name>.svg */
    char alt[256];         /* its title, the Markdown's alt text */
    char caption[768];
    int wide;              /* may be wider than the page: scroll, don't shrink */
};

/* The charts the report draws, into ch (room for RP_N_KINDS + RP_MAX_RARE);
 * returns how many. */
size_t rp_plan_charts(const struct rp *r, struct rp_chart *ch);

/* Writes chart ch as an <svg> element (standalone: with its XML
 * declaration). Returns 0, or -1 when out of memory or on a write error. */
int rp_chart_write(FILE *fp, const struct rp *r, const struct rp_chart *ch, int standalone);

/* The chart names a report may write; those it does not draw this time are removed. */
#define RP_N_CHART_NAMES 8
extern const char *const rp_chart_names[RP_N_CHART_NAMES];

/* ---- document.c ---- */

/* The whole report as HTML (html = 1) or Markdown, with the n charts ch.
 * Returns 0, or -1 if a chart could not be drawn (out of memory). */
int rp_document(FILE *fp, int html, const struct rp *r, const struct rp_chart *ch, size_t n);

#endif
