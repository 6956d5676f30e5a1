/* charts.c — the report's charts, drawn with the SVG writers of svg.h from
 * what results.c read: training curves per method, per-class average
 * precision, precision-recall curves of the rarest classes, the chosen
 * method's confusion matrix and the focal-loss curve of the chosen γ; and
 * which of them a report draws, with their titles and captions. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "focal.h"
#include "report/report_internal.h"
#include "report/svg.h"

/* Points of the focal-loss curve, at p_t = k / RP_FL_POINTS. */
#define RP_FL_POINTS 500
/* Training curves get a dot per epoch up to this many epochs. */
#define RP_MARKER_EPOCHS 30

/* The number of epochs of the method's longest history, and the per-epoch
 * means over its runs of the training loss (which = 0) or the selection
 * metric sel (1) into a new array *mean (*x the epochs 1..n). */
static int rp_epoch_means(const struct rp_method *m, enum focal_select sel, int which, double **x, double **mean,
                          size_t *n)
{
    size_t E = 0;
    for (size_t k = 0; k < m->n_runs; k++)
        for (int e = 0; e < m->runs[k].n_epochs; e++)
            if ((size_t)m->runs[k].history[e].epoch > E)
                E = (size_t)m->runs[k].history[e].epoch;
    *n = E;
    *x = malloc((E ? E : 1) * sizeof **x);
    *mean = malloc((E ? E : 1) * sizeof **mean);
    double *sum = calloc(E ? E : 1, sizeof *sum);
    int *cnt = calloc(E ? E : 1, sizeof *cnt);
    if (!*x || !*mean || !sum || !cnt) {
        free(sum);
        free(cnt);
        return -1;
    }
    for (size_t k = 0; k < m->n_runs; k++) {
        const struct rp_run *run = &m->runs[k];
        for (int e = 0; e < run->n_epochs; e++) {
            const struct focal_epoch_record *h = &run->history[e];
            double v = which ? focal_epoch_select_value(h, sel) : h->train_loss;
            size_t at = (size_t)h->epoch - 1;
            if (isfinite(v)) {
                sum[at] += v;
                cnt[at]++;
            }
        }
    }
    for (size_t e = 0; e < E; e++) {
        (*x)[e] = (double)(e + 1);
        (*mean)[e] = cnt[e] ? sum[e] / cnt[e] : NAN;
    }
    free(sum);
    free(cnt);
    return 0;
}

/* Training loss (which = 0) or the validation selection metric (1) per
 * epoch, one line per method. */
static int rp_chart_curves(FILE *fp, const struct rp *r, const struct rp_chart *ch, int which, int standalone)
{
    struct svg_series *s = calloc(r->n_methods, sizeof *s);
    double **xs = calloc(r->n_methods, sizeof *xs), **ys = calloc(r->n_methods, sizeof *ys);
    int st = -1;
    size_t longest = 0;
    char ylab[160];
    if (!s || !xs || !ys)
        goto out;
    for (size_t i = 0; i < r->n_methods; i++) {
        size_t n;
        if (rp_epoch_means(&r->methods[i], r->sel, which, &xs[i], &ys[i], &n) != 0)
            goto out;
        s[i] = (struct svg_series){ .name = r->methods[i].name, .x = xs[i], .y = ys[i], .n = n,
                                    .color = r->methods[i].color, .width = (int)i == r->best ? 3.0 : 2.0 };
        longest = n > longest ? n : longest;
    }
    for (size_t i = 0; i < r->n_methods; i++)
        s[i].markers = longest <= RP_MARKER_EPOCHS;
    struct svg_chart c;
    svg_chart_init(&c);
    snprintf(ylab, sizeof ylab, "validation %s", r->sel_label);
    c.title = ch->alt;
    c.x_label = "epoch";
    c.y_label = which ? ylab : "training loss";
    c.width = 560;
    c.height = 360;
    c.x_min = longest > 1 ? 1.0 : NAN;
    c.x_integer = 1;
    c.legend = SVG_LEGEND_BELOW;
    c.series = s;
    c.n_series = r->n_methods;
    st = svg_chart_write(fp, &c, standalone);
out:
    for (size_t i = 0; xs && ys && i < r->n_methods; i++) {
        free(xs[i]);
        free(ys[i]);
    }
    free(xs);
    free(ys);
    free(s);
    return st;
}

/* Per-class AP, mean (and std) over each method's seeds, classes from most
 * to least frequent. */
static int rp_chart_per_class(FILE *fp, const struct rp *r, const struct rp_chart *ch, int standalone)
{
    size_t C = r->n_classes, M = r->n_methods;
    struct svg_bar_series *s = calloc(M, sizeof *s);
    double *mean = malloc(M * C * sizeof *mean), *sd = malloc(M * C * sizeof *sd), *tmp = NULL;
    const char **cats = calloc(C, sizeof *cats);
    char *names = malloc(C * 96);
    int st = -1;
    if (!s || !mean || !sd || !cats || !names)
        goto out;
    for (size_t j = 0; j < C; j++) {
        size_t c = r->order[j];
        snprintf(names + 96 * j, 96, "%.80s (%.0f)", r->class_names[c], r->train_counts[c]);
        cats[j] = names + 96 * j;
    }
    for (size_t i = 0; i < M; i++) {
        const struct rp_method *m = &r->methods[i];
        free(tmp);
        if (!(tmp = malloc(m->n_runs * sizeof *tmp)))
            goto out;
        for (size_t j = 0; j < C; j++) {
            for (size_t k = 0; k < m->n_runs; k++)
                tmp[k] = m->runs[k].ap[r->split][r->order[j]];
            focal_mean_std(&mean[i * C + j], &sd[i * C + j], tmp, m->n_runs, 1);
        }
        s[i] = (struct svg_bar_series){ m->name, mean + i * C, sd + i * C, m->color };
    }
    struct svg_bar_chart c;
    svg_bar_chart_init(&c);
    c.title = ch->alt;
    c.x_label = "class (training examples), most frequent \xE2\x86\x92 rarest";
    c.y_label = "average precision";
    c.y_min = 0.0;
    c.y_max = 1.0;
    c.categories = cats;
    c.n_categories = C;
    c.series = s;
    c.n_series = M;
    /* grouped while the bars stay wide enough to tell apart, else one panel per method */
    c.layout = M <= 3 || M * C <= 120 ? SVG_BARS_GROUPED : SVG_BARS_PANELS;
    double slot = c.layout == SVG_BARS_GROUPED ? (M * 6.0 + 8.0 > 18.0 ? M * 6.0 + 8.0 : 18.0) : 16.0;
    double w = 94.0 + slot * (double)C;
    c.width = w < 640.0 ? 640 : (int)ceil(w);
    st = svg_bar_chart_write(fp, &c, standalone);
out:
    free(tmp);
    free(s);
    free(mean);
    free(sd);
    free(cats);
    free(names);
    return st;
}

/* The precision-recall curves of rarest class ch->index, one per method. */
static int rp_chart_pr(FILE *fp, const struct rp *r, const struct rp_chart *ch, int standalone)
{
    size_t M = r->n_methods, q = ch->index;
    struct svg_series *s = calloc(M + 1, sizeof *s);
    char (*names)[160] = calloc(M + 1, sizeof *names);
    double bx[2] = { 0.0, 1.0 }, by[2];
    int st = -1;
    if (!s || !names)
        goto out;
    size_t n = 0;
    for (size_t i = 0; i < M; i++) {
        const struct rp_pr *pr = &r->methods[i].pr[q];
        if (!pr->n)
            continue;
        snprintf(names[n], sizeof names[n], "%.100s (AP %.3f)", r->methods[i].name, pr->ap);
        s[n] = (struct svg_series){ .name = names[n], .x = pr->recall, .y = pr->precision, .n = pr->n,
                                    .color = r->methods[i].color, .width = (int)i == r->best ? 3.0 : 2.0 };
        n++;
    }
    /* chance: precision = prevalence, from the first method's scores */
    const struct rp_pr *p0 = &r->methods[0].pr[q];
    by[0] = by[1] = p0->samples ? (double)p0->positives / (double)p0->samples : NAN;
    snprintf(names[n], sizeof names[n], "chance (prevalence %.3f)", by[0]);
    s[n] = (struct svg_series){ .name = names[n], .x = bx, .y = by, .n = 2, .color = "#999999", .width = 1.5,
                                .dashed = 1 };
    n++;
    struct svg_chart c;
    svg_chart_init(&c);
    c.title = ch->alt;
    c.x_label = "recall";
    c.y_label = "precision";
    c.x_min = c.y_min = 0.0;
    c.x_max = c.y_max = 1.0;
    c.width = 560;
    c.height = 360;
    c.legend = SVG_LEGEND_BELOW;
    c.series = s;
    c.n_series = n;
    st = svg_chart_write(fp, &c, standalone);
out:
    free(s);
    free(names);
    return st;
}

/* The confusion matrix of the chosen method's first run: counts, shaded by
 * the fraction of each true class. */
static int rp_chart_confusion(FILE *fp, const struct rp *r, const struct rp_chart *ch, int standalone)
{
    size_t C = r->n_classes;
    const int64_t *cm = r->methods[r->best].runs[0].cm[r->split];
    double *v = malloc(C * C * sizeof *v), *shade = malloc(C * C * sizeof *shade);
    int st = -1;
    if (!v || !shade)
        goto out;
    for (size_t i = 0; i < C; i++) {
        double row = 0.0;
        for (size_t k = 0; k < C; k++)
            row += (double)cm[i * C + k];
        for (size_t k = 0; k < C; k++) {
            v[i * C + k] = (double)cm[i * C + k];
            shade[i * C + k] = row > 0.0 ? (double)cm[i * C + k] / row : NAN;
        }
    }
    struct svg_heatmap h = {
        .title = ch->alt, .x_label = "predicted class", .y_label = "true class", .rows = C, .cols = C,
        .row_labels = r->class_names, .col_labels = r->class_names, .values = v, .decimals = 0,
        .shade = shade, .shade_label = "fraction of the true class",
        .hide_zero = C > 12,   /* tiny zeros would bury the counts; their cells stay white */
    };
    st = svg_heatmap_write(fp, &h, standalone);
out:
    free(v);
    free(shade);
    return st;
}

/* Focal loss of the chosen γ against cross-entropy over p_t in (0, 1], as
 * the focal-loss paper's Figure 1, through the library's sigmoid losses. */
static int rp_chart_focal(FILE *fp, const struct rp *r, const struct rp_chart *ch, int standalone)
{
    enum { N = RP_FL_POINTS };
    double *pt = malloc(N * sizeof *pt), *x = malloc(N * sizeof *x), *t = malloc(N * sizeof *t);
    double *ce = malloc(N * sizeof *ce), *fl = malloc(N * sizeof *fl);
    char name[64];
    int st = -1;
    if (!pt || !x || !t || !ce || !fl)
        goto out;
    /* p_t = k/N; the logit of p_t with target 1 gives that p_t (p_t = 1 is exactly 0 loss) */
    for (int k = 0; k < N - 1; k++) {
        pt[k] = (double)(k + 1) / N;
        x[k] = log(pt[k]) - log1p(-pt[k]);
        t[k] = 1.0;
    }
    pt[N - 1] = 1.0;
    ce[N - 1] = fl[N - 1] = 0.0;
    struct focal_loss l;
    focal_loss_init(&l, FOCAL_LOSS_BCE);
    l.reduction = FOCAL_REDUCTION_NONE;
    if (focal_sigmoid_loss_f64(&l, N - 1, 1, x, t, NULL, ce, NULL) != FOCAL_OK)
        goto out;
    focal_loss_init(&l, FOCAL_LOSS_SIGMOID_FOCAL);
    l.reduction = FOCAL_REDUCTION_NONE;
    l.gamma = r->gamma;
    if (focal_sigmoid_loss_f64(&l, N - 1, 1, x, t, NULL, fl, NULL) != FOCAL_OK)
        goto out;
    snprintf(name, sizeof name, "focal loss, \xCE\xB3 = %g", r->gamma);
    struct svg_series s[2] = {
        { .name = "cross-entropy (\xCE\xB3 = 0)", .x = pt, .y = ce, .n = N, .color = "#000000", .dashed = 1 },
        { .name = name, .x = pt, .y = fl, .n = N,
          .color = r->best >= 0 ? r->methods[r->best].color : svg_color(0), .width = 3.0 },
    };
    struct svg_chart c;
    svg_chart_init(&c);
    c.title = ch->alt;
    c.x_label = "probability of the ground-truth class p\xE2\x82\x9C";
    c.y_label = "loss";
    c.x_min = 0.0;
    c.x_max = 1.0;
    c.y_min = 0.0;
    c.y_max = 5.0;
    c.width = 560;
    c.height = 360;
    c.band_lo = 0.6;
    c.band_hi = 1.0;
    c.band_label = "well-classified examples";
    c.legend = SVG_LEGEND_TOP_RIGHT;
    c.series = s;
    c.n_series = 2;
    st = svg_chart_write(fp, &c, standalone);
out:
    free(pt);
    free(x);
    free(t);
    free(ce);
    free(fl);
    return st;
}

int rp_chart_write(FILE *fp, const struct rp *r, const struct rp_chart *ch, int standalone)
{
    switch (ch->kind) {
    case RP_LOSS: return rp_chart_curves(fp, r, ch, 0, standalone);
    case RP_SELECTION: return rp_chart_curves(fp, r, ch, 1, standalone);
    case RP_PER_CLASS: return rp_chart_per_class(fp, r, ch, standalone);
    case RP_PR: return rp_chart_pr(fp, r, ch, standalone);
    case RP_CONFUSION: return rp_chart_confusion(fp, r, ch, standalone);
    case RP_FOCAL: return rp_chart_focal(fp, r, ch, standalone);
    default: return -1;
    }
}

size_t rp_plan_charts(const struct rp *r, struct rp_chart *ch)
{
    const char *split = r->split ? "test" : "validation";
    size_t n = 0;
    ch[n] = (struct rp_chart){ .kind = RP_LOSS };
    snprintf(ch[n].name, sizeof ch[n].name, "train-loss");
    snprintf(ch[n].alt, sizeof ch[n].alt, "Training loss per epoch");
    snprintf(ch[n].caption, sizeof ch[n].caption,
             "Mean training loss of each epoch, averaged over each method's seeds (over the seeds that "
             "reached the epoch). Losses of different kinds are on different scales: compare shapes, not heights.");
    n++;
    ch[n] = (struct rp_chart){ .kind = RP_SELECTION };
    snprintf(ch[n].name, sizeof ch[n].name, "val-metric");
    snprintf(ch[n].alt, sizeof ch[n].alt, "Validation %s per epoch", r->sel_label);
    snprintf(ch[n].caption, sizeof ch[n].caption,
             "Validation %s after each epoch, the metric that picks each run's best epoch and the best method; "
             "mean over seeds.", r->sel_label);
    n++;
    ch[n] = (struct rp_chart){ .kind = RP_PER_CLASS, .wide = 1 };
    snprintf(ch[n].name, sizeof ch[n].name, "per-class-ap");
    snprintf(ch[n].alt, sizeof ch[n].alt, "Average precision per class, %s split", split);
    snprintf(ch[n].caption, sizeof ch[n].caption,
             "Average precision of every class on the %s split, mean over seeds%s. Classes run from the most "
             "frequent in training (left) to the rarest (right), with their training counts; n/a: the "
             "class has no positive example in the split (AP undefined).",
             split, r->seeds > 1 ? " (whiskers: ± one standard deviation)" : "");
    n++;
    for (size_t q = 0; q < r->n_rare; q++) {
        int any = 0;
        for (size_t i = 0; i < r->n_methods; i++)
            any |= r->methods[i].pr[q].n > 0;
        if (!any)
            continue;
        const struct rp_pr *p0 = &r->methods[0].pr[q];
        ch[n] = (struct rp_chart){ .kind = RP_PR, .index = q };
        snprintf(ch[n].name, sizeof ch[n].name, "pr-%zu", q + 1);
        snprintf(ch[n].alt, sizeof ch[n].alt, "Precision\xE2\x80\x93recall, class %.120s",
                 r->class_names[r->rare[q]]);
        snprintf(ch[n].caption, sizeof ch[n].caption,
                 "Class %.120s: %.0f training examples; %ld positives among %ld %s samples. Each method's first "
                 "seed; AP in the legend.", r->class_names[r->rare[q]], r->train_counts[r->rare[q]],
                 p0->positives, p0->samples, split);
        n++;
    }
    if (strcmp(r->task, "multilabel") != 0 && r->best >= 0) {
        ch[n] = (struct rp_chart){ .kind = RP_CONFUSION, .wide = 1 };
        snprintf(ch[n].name, sizeof ch[n].name, "confusion");
        snprintf(ch[n].alt, sizeof ch[n].alt, "Confusion matrix: %.120s, %s split", r->methods[r->best].name,
                 split);
        snprintf(ch[n].caption, sizeof ch[n].caption,
                 "Counts of the chosen method's first seed on the %s split: rows are the true class, columns "
                 "the predicted one; the shade is the fraction of the true class (the diagonal is each "
                 "class's recall).", split);
        n++;
    }
    if (isfinite(r->gamma)) {
        ch[n] = (struct rp_chart){ .kind = RP_FOCAL };
        snprintf(ch[n].name, sizeof ch[n].name, "focal-loss");
        snprintf(ch[n].alt, sizeof ch[n].alt, "Focal loss, \xCE\xB3 = %g, against cross-entropy", r->gamma);
        snprintf(ch[n].caption, sizeof ch[n].caption,
                 "FL(p\xE2\x82\x9C) = \xE2\x88\x92(1 \xE2\x88\x92 p\xE2\x82\x9C)^\xCE\xB3 log p\xE2\x82\x9C for the "
                 "chosen \xCE\xB3 = %g against cross-entropy \xE2\x88\x92log p\xE2\x82\x9C (as in Lin et al., "
                 "Figure 1): examples the model already gets right (p\xE2\x82\x9C > 0.6) contribute far less, "
                 "so training concentrates on the hard ones.", r->gamma);
        n++;
    }
    return n;
}

const char *const rp_chart_names[RP_N_CHART_NAMES] = {
    "train-loss", "val-metric", "per-class-ap", "pr-1", "pr-2", "pr-3", "confusion", "focal-loss",
};
