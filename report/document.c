/* document.c — the report as a document, once as one self-contained HTML
 * page (inline CSS, the charts as inline SVG) and once as Markdown (the
 * charts as links to the report-<name>.svg files): the results tables with
 * the best method marked, a tune's γ × α table, the charts with their
 * captions, and the methods with their run folders. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "focal.h"
#include "report/report_internal.h"
#include "report/svg.h"

/* ---- numbers ------------------------------------------------------------------------------ */

/* One metric of a {metric: {mean, std}} object of results.json (NULL: undefined). */
static struct rp_stat rp_stat_of(const cJSON *stats, const char *key)
{
    const cJSON *o = cJSON_GetObjectItemCaseSensitive(stats, key);
    return (struct rp_stat){ rp_num(cJSON_GetObjectItemCaseSensitive(o, "mean")),
                             rp_num(cJSON_GetObjectItemCaseSensitive(o, "std")) };
}

/* "0.4123 ± 0.0131" ("seconds": two decimals); the mean alone without a
 * std; an en dash when undefined. */
static void rp_fmt_stat(char *buf, size_t n, struct rp_stat s, const char *key)
{
    int dec = strcmp(key, "seconds") == 0 ? 2 : 4;
    if (!isfinite(s.mean))
        snprintf(buf, n, "\xE2\x80\x93");
    else if (isfinite(s.std))
        snprintf(buf, n, "%.*f \xC2\xB1 %.*f", dec, s.mean, dec, s.std);
    else
        snprintf(buf, n, "%.*f", dec, s.mean);
}

/* A gain over the baseline: "+0.0123 ± 0.0050", signed; the mean alone
 * without a std; an en dash when undefined. */
static void rp_fmt_gain(char *buf, size_t n, struct rp_stat s)
{
    if (!isfinite(s.mean))
        snprintf(buf, n, "\xE2\x80\x93");
    else if (isfinite(s.std))
        snprintf(buf, n, "%+.4f \xC2\xB1 %.4f", s.mean, s.std);
    else
        snprintf(buf, n, "%+.4f", s.mean);
}

/* ---- text ---------------------------------------------------------------------------------- */

/* s as literal Markdown text: punctuation that would format is
 * backslash-escaped, angle brackets become entities, line breaks spaces. */
static void md_text(FILE *fp, const char *s)
{
    for (; *s; s++) {
        if (strchr("\\`*_[]|#", *s))
            fprintf(fp, "\\%c", *s);
        else if (*s == '<')
            fputs("&lt;", fp);
        else if (*s == '>')
            fputs("&gt;", fp);
        else if (*s == '\n' || *s == '\r')
            fputc(' ', fp);
        else
            fputc(*s, fp);
    }
}

/* Writes s as HTML (html = 1) or Markdown text. */
static void rp_text(FILE *fp, int html, const char *s)
{
    if (html)
        svg_text(fp, s);
    else
        md_text(fp, s);
}

/* Starts a table row (HTML: of class cls, which may be NULL). */
static void rp_row_start(FILE *fp, int html, const char *cls)
{
    if (html)
        fprintf(fp, cls ? "<tr class=\"%s\">" : "<tr>", cls);
    else
        fputs("|", fp);
}

/* One cell holding text s: num right-aligns it (HTML), bold makes it bold. */
static void rp_cell(FILE *fp, int html, int num, int bold, const char *s)
{
    if (html) {
        fputs(num ? "<td class=\"num\">" : "<td>", fp);
        if (bold)
            fputs("<b>", fp);
        svg_text(fp, s);
        fputs(bold ? "</b></td>" : "</td>", fp);
    } else {
        fputs(bold ? " **" : " ", fp);
        md_text(fp, s);
        fputs(bold ? "** |" : " |", fp);
    }
}

/* Ends a table row. */
static void rp_row_end(FILE *fp, int html)
{
    fputs(html ? "</tr>\n" : "\n", fp);
}

/* The header row (and Markdown's alignment row) of a table with a text
 * column `first` and n numeric columns. */
static void rp_table_head(FILE *fp, int html, const char *first, const char *const *cols, size_t n)
{
    fputs(html ? "<table><thead><tr><th>" : "| ", fp);
    rp_text(fp, html, first);
    fputs(html ? "</th>" : " |", fp);
    for (size_t k = 0; k < n; k++) {
        fputs(html ? "<th class=\"num\">" : " ", fp);
        rp_text(fp, html, cols[k]);
        fputs(html ? "</th>" : " |", fp);
    }
    if (html) {
        fputs("</tr></thead><tbody>\n", fp);
        return;
    }
    fputs("\n|---|", fp);
    for (size_t k = 0; k < n; k++)
        fputs("---:|", fp);
    fputc('\n', fp);
}

/* Ends a table (Markdown: with the blank line after it). */
static void rp_table_end(FILE *fp, int html)
{
    fputs(html ? "</tbody></table>\n" : "\n", fp);
}

/* A heading of level 2 or 3. */
static void rp_heading(FILE *fp, int html, int level, const char *s)
{
    if (html) {
        fprintf(fp, "<h%d>", level);
        svg_text(fp, s);
        fprintf(fp, "</h%d>\n", level);
    } else {
        fprintf(fp, "%s ", level == 2 ? "##" : "###");
        md_text(fp, s);
        fputs("\n\n", fp);
    }
}

/* A paragraph of class cls (HTML) from already formatted text. */
static void rp_para(FILE *fp, int html, const char *cls, const char *s)
{
    if (html) {
        fprintf(fp, cls ? "<p class=\"%s\">" : "<p>", cls);
        svg_text(fp, s);
        fputs("</p>\n", fp);
    } else {
        md_text(fp, s);
        fputs("\n\n", fp);
    }
}

/* The results table of one split (0 val, 1 test): mean ± std per method and
 * metric, and with a baseline each method's gain over it. */
static void rp_results_table(FILE *fp, int html, const struct rp *r, int split)
{
    const char *cols[RP_MAX_METRICS + 1];
    char gain_label[160];
    const size_t nc = r->n_metrics;
    memcpy(cols, r->metric_labels, nc * sizeof *cols);
    if (r->baseline) {
        snprintf(gain_label, sizeof gain_label, "\xCE\x94 %s vs %s", r->sel_label, r->baseline);
        cols[nc] = gain_label;
    }
    const char *split_key = split ? "test" : "val";
    rp_table_head(fp, html, "method", cols, nc + (r->baseline != NULL));
    for (size_t i = 0; i < r->n_methods; i++) {
        const struct rp_method *m = &r->methods[i];
        int best = (int)i == r->best;
        rp_row_start(fp, html, best ? "best" : NULL);
        if (html) {
            fprintf(fp, "<td><span class=\"swatch\" style=\"background:%s\"></span>", m->color);
            svg_text(fp, m->name);
            fputs(best ? " <span class=\"badge\">best</span></td>" : "</td>", fp);
        } else {
            fputs(best ? " **" : " ", fp);
            md_text(fp, m->name);
            fputs(best ? "** (best) |" : " |", fp);
        }
        for (size_t k = 0; k < nc; k++) {
            char buf[96];
            rp_fmt_stat(buf, sizeof buf, rp_stat_of(m->stats[split], r->metric_keys[k]), r->metric_keys[k]);
            rp_cell(fp, html, 1, best, buf);
        }
        if (r->baseline) {
            char buf[96];
            rp_fmt_gain(buf, sizeof buf, rp_stat_of(m->gain, split_key));
            rp_cell(fp, html, 1, best, buf);
        }
        rp_row_end(fp, html);
    }
    /* the seed ensembles, marked: shown for reference, never chosen */
    for (size_t i = 0; i < r->n_ensembles; i++) {
        const struct rp_ensemble *e = &r->ensembles[i];
        rp_row_start(fp, html, "ensemble");
        if (html) {
            fputs("<td>", fp);
            svg_text(fp, e->name);
            fputs(" <span class=\"badge ens\">ensemble</span></td>", fp);
        } else {
            fputs(" *", fp);
            md_text(fp, e->name);
            fputs("* |", fp);
        }
        for (size_t k = 0; k < nc; k++) {
            char buf[96];
            rp_fmt_stat(buf, sizeof buf, rp_stat_of(e->stats[split], r->metric_keys[k]), r->metric_keys[k]);
            rp_cell(fp, html, 1, 0, buf);
        }
        if (r->baseline) {
            char buf[96];
            rp_fmt_gain(buf, sizeof buf, rp_stat_of(e->gain, split_key));
            rp_cell(fp, html, 1, 0, buf);
        }
        rp_row_end(fp, html);
    }
    rp_table_end(fp, html);
}

/* The γ × α table of a tune (rows γ, columns α, as the focal-loss paper's
 * Table 1) and the retrained best setting's test numbers. Returns 0, or -1
 * when out of memory. */
static int rp_grid_tables(FILE *fp, int html, const struct rp *r)
{
    const struct rp_grid *G = &r->grid;
    char buf[256], folds[48] = "";
    char (*alpha_names)[32] = calloc(G->n_alphas, sizeof *alpha_names);
    const char **cols = calloc(G->n_alphas, sizeof *cols);
    if (!alpha_names || !cols) {
        free(alpha_names);
        free(cols);
        return -1;
    }
    for (size_t a = 0; a < G->n_alphas; a++) {
        snprintf(alpha_names[a], sizeof alpha_names[a], "\xCE\xB1 = %g", G->alphas[a]);
        cols[a] = alpha_names[a];
    }
    rp_heading(fp, html, 2, "\xCE\xB3 \xC3\x97 \xCE\xB1 grid");
    if (G->folds > 0)
        snprintf(folds, sizeof folds, " over %d fold%s", G->folds, G->folds == 1 ? "" : "s");
    snprintf(buf, sizeof buf, "Validation %s of every setting, mean \xC2\xB1 std%s; rows \xCE\xB3, columns "
             "\xCE\xB1 (laid out as Table 1 of the focal-loss paper). The best setting is bold.",
             G->metric_label, folds);
    rp_para(fp, html, "note", buf);
    rp_table_head(fp, html, "\xCE\xB3 \\ \xCE\xB1", cols, G->n_alphas);
    for (size_t g = 0; g < G->n_gammas; g++) {
        char gname[40];
        snprintf(gname, sizeof gname, "\xCE\xB3 = %g", G->gammas[g]);
        rp_row_start(fp, html, NULL);
        rp_cell(fp, html, 0, 0, gname);
        for (size_t a = 0; a < G->n_alphas; a++) {
            rp_fmt_stat(buf, sizeof buf, G->cells[g * G->n_alphas + a], "");
            rp_cell(fp, html, 1, G->gammas[g] == G->best_gamma && G->alphas[a] == G->best_alpha, buf);
        }
        rp_row_end(fp, html);
    }
    rp_table_end(fp, html);
    free(alpha_names);
    free(cols);
    if (!G->test)
        return 0;
    snprintf(buf, sizeof buf, "Best setting (\xCE\xB3 = %g, \xCE\xB1 = %g) retrained: test numbers",
             G->best_gamma, G->best_alpha);
    rp_heading(fp, html, 3, buf);
    const char *head[1] = { "test" };
    rp_table_head(fp, html, "metric", head, 1);
    for (size_t k = 0; k < r->n_metrics; k++) {
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(G->test, r->metric_keys[k]);
        if (!v)
            continue;
        rp_fmt_stat(buf, sizeof buf, (struct rp_stat){ rp_num(v), NAN }, r->metric_keys[k]);
        rp_row_start(fp, html, NULL);
        rp_cell(fp, html, 0, 0, r->metric_labels[k]);
        rp_cell(fp, html, 1, 0, buf);
        rp_row_end(fp, html);
    }
    rp_table_end(fp, html);
    return 0;
}

/* The methods, their specs and run folders. */
static void rp_methods_table(FILE *fp, int html, const struct rp *r)
{
    if (html)
        fputs("<table><thead><tr><th>method</th><th>settings</th><th>runs</th></tr></thead><tbody>\n", fp);
    else
        fputs("| method | settings | runs |\n|---|---|---|\n", fp);
    const cJSON *methods = cJSON_GetObjectItemCaseSensitive(r->root, "methods");
    for (size_t i = 0; i < r->n_methods; i++) {
        const struct rp_method *m = &r->methods[i];
        const cJSON *runs = cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(methods, (int)i), "runs");
        rp_row_start(fp, html, NULL);
        rp_cell(fp, html, 0, 0, m->name);
        rp_cell(fp, html, 0, 0, *m->spec ? m->spec : "\xE2\x80\x93");
        fputs(html ? "<td>" : " ", fp);
        size_t k = 0;
        const cJSON *e;
        cJSON_ArrayForEach(e, runs) {
            fputs(k++ ? ", " : "", fp);
            rp_text(fp, html, e->valuestring);
        }
        fputs(html ? "</td>" : " |", fp);
        rp_row_end(fp, html);
    }
    rp_table_end(fp, html);
}

/* The page's style sheet: readable tables, charts side by side where they fit. */
static const char rp_css[] =
    "body{font-family:Helvetica,Arial,sans-serif;color:#222;line-height:1.45;max-width:1180px;"
    "margin:24px auto;padding:0 16px}\n"
    "h1{font-size:26px;margin:0 0 4px}\n"
    "h2{font-size:20px;margin:34px 0 10px;border-bottom:1px solid #ddd;padding-bottom:4px}\n"
    "h3{font-size:16px;margin:18px 0 6px}\n"
    ".facts,.note{color:#555}\n"
    ".sentence{font-size:17px;background:#f3f7fb;border-left:4px solid #0072b2;padding:8px 12px}\n"
    "table{border-collapse:collapse;margin:6px 0 10px;font-size:14px}\n"
    "th,td{border:1px solid #d4d4d4;padding:4px 10px;text-align:left}\n"
    "th{background:#f4f4f4}\n"
    "td.num,th.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}\n"
    "tr.best td{background:#fff3c4;font-weight:bold}\n"
    ".badge{font-size:11px;background:#0072b2;color:#fff;border-radius:3px;padding:1px 5px;margin-left:4px}\n"
    "tr.ensemble td{background:#f1f1f1;font-style:italic}\n"
    ".badge.ens{background:#777;font-style:normal}\n"
    ".swatch{display:inline-block;width:11px;height:11px;margin-right:6px;vertical-align:-1px}\n"
    ".charts{display:flex;flex-wrap:wrap;gap:18px;align-items:flex-start}\n"
    "figure{margin:0}\n"
    "figcaption{font-size:13px;color:#555;max-width:560px;margin-top:4px}\n"
    ".wide{overflow-x:auto;max-width:100%}\n"
    ".wide figcaption{max-width:760px}\n"
    "svg{display:block;max-width:100%;height:auto}\n"
    ".wide svg{max-width:none}\n";

/* Bit of a chart kind in a set of kinds. */
#define RP_KIND(k) (1u << (k))

/* The charts whose kinds are in the set `kinds` as one row of figures (they
 * wrap where the page is too narrow): inline SVG in HTML, image links to the
 * .svg files in Markdown. Returns 0, or -1 if a chart could not be drawn. */
static int rp_figures(FILE *fp, int html, const struct rp *r, const struct rp_chart *ch, size_t n, unsigned kinds)
{
    size_t count = 0;
    for (size_t k = 0; k < n; k++)
        count += (kinds & RP_KIND(ch[k].kind)) != 0;
    if (!count)
        return 0;
    if (html)
        fputs("<div class=\"charts\">\n", fp);
    for (size_t k = 0; k < n; k++) {
        if (!(kinds & RP_KIND(ch[k].kind)))
            continue;
        if (html) {
            fprintf(fp, "<figure class=\"chart%s\" id=\"chart-%s\">\n", ch[k].wide ? " wide" : "", ch[k].name);
            if (rp_chart_write(fp, r, &ch[k], 0) != 0)
                return -1;
            fputs("<figcaption>", fp);
            svg_text(fp, ch[k].caption);
            fputs("</figcaption></figure>\n", fp);
        } else {
            fputs("![", fp);
            md_text(fp, ch[k].alt);
            fprintf(fp, "](report-%s.svg)\n\n", ch[k].name);
            md_text(fp, ch[k].caption);
            fputs("\n\n", fp);
        }
    }
    if (html)
        fputs("</div>\n", fp);
    return 0;
}

int rp_document(FILE *fp, int html, const struct rp *r, const struct rp_chart *ch, size_t n)
{
    char buf[1024];
    const char *split = r->split ? "test" : "validation";
    snprintf(buf, sizeof buf, "focal %s: %s", r->kind, *r->data ? r->data : "experiment");
    if (html) {
        fputs("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
              "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>", fp);
        svg_text(fp, buf);
        fprintf(fp, "</title>\n<style>\n%s</style>\n</head>\n<body>\n<h1>", rp_css);
        svg_text(fp, buf);
        fputs("</h1>\n", fp);
    } else {
        fputs("# ", fp);
        md_text(fp, buf);
        fputs("\n\n", fp);
    }
    size_t seeds = r->seeds > 0 ? (size_t)r->seeds : 0;
    for (size_t i = 0; !seeds && i < r->n_methods; i++)
        seeds = r->methods[i].n_runs > seeds ? r->methods[i].n_runs : seeds;
    snprintf(buf, sizeof buf, "%s task, %zu class%s, %zu method%s, %zu seed%s each; chosen by validation %s. "
             "Per-class charts use the %s split.", r->task, r->n_classes, r->n_classes == 1 ? "" : "es",
             r->n_methods, r->n_methods == 1 ? "" : "s", seeds, seeds == 1 ? "" : "s", r->sel_label, split);
    rp_para(fp, html, "facts", buf);

    rp_heading(fp, html, 2, "Results");
    if (html) {
        fputs("<p class=\"sentence\">", fp);
        svg_text(fp, r->sentence);
        fputs("</p>\n", fp);
    } else {
        fputs("> ", fp);
        md_text(fp, r->sentence);
        fputs("\n\n", fp);
    }
    rp_heading(fp, html, 3, "Validation (used to choose)");
    rp_results_table(fp, html, r, 0);
    if (r->have_test_stats) {
        rp_heading(fp, html, 3, "Test");
        rp_results_table(fp, html, r, 1);
    }
    snprintf(buf, sizeof buf, "mean \xC2\xB1 std over seeds; the best method on validation %s is highlighted. "
             "Test numbers are reported, but never used to choose.", r->sel_label);
    rp_para(fp, html, "note", buf);
    if (r->baseline) {
        snprintf(buf, sizeof buf, "\xCE\x94 %s vs %s: each method's validation (test) %s minus that of %s, "
                 "measured here under the same recipe, seed by seed on the same splits; mean \xC2\xB1 std over "
                 "the seeds.", r->sel_label, r->baseline, r->sel_label, r->baseline);
        rp_para(fp, html, "note", buf);
    }
    if (r->n_ensembles)
        rp_para(fp, html, "note", "Rows marked ensemble (in italics): one model per method that averages its "
                "seeds' probabilities, with thresholds chosen on validation; its training time is the seeds' "
                "total. They are shown for reference and never chosen.");
    if (r->n_rare) {
        int len = snprintf(buf, sizeof buf, "The rarest classes in training: ");
        for (size_t q = 0; q < r->n_rare && len > 0 && (size_t)len < sizeof buf; q++)
            len += snprintf(buf + len, sizeof buf - (size_t)len, "%s%.100s (%.0f)", q ? ", " : "",
                            r->class_names[r->rare[q]], r->train_counts[r->rare[q]]);
        if (len > 0 && (size_t)len < sizeof buf)
            snprintf(buf + len, sizeof buf - (size_t)len, ".");
        rp_para(fp, html, "note", buf);
    }
    if (r->tune && rp_grid_tables(fp, html, r) != 0)
        return -1;

    rp_heading(fp, html, 2, "Training curves");
    if (rp_figures(fp, html, r, ch, n, RP_KIND(RP_LOSS) | RP_KIND(RP_SELECTION)) != 0)
        return -1;
    rp_heading(fp, html, 2, "Per-class average precision");
    if (rp_figures(fp, html, r, ch, n, RP_KIND(RP_PER_CLASS)) != 0)
        return -1;
    if (r->n_rare) {
        rp_heading(fp, html, 2, "Precision\xE2\x80\x93recall of the rarest classes");
        if (rp_figures(fp, html, r, ch, n, RP_KIND(RP_PR)) != 0)
            return -1;
        for (size_t q = 0; q < r->n_rare; q++) {
            int any = 0;
            for (size_t i = 0; i < r->n_methods; i++)
                any |= r->methods[i].pr[q].n > 0;
            if (any)
                continue;
            snprintf(buf, sizeof buf, "%.120s: no positive example in the %s split, so its precision and "
                     "recall are undefined.", r->class_names[r->rare[q]], split);
            rp_para(fp, html, "note", buf);
        }
    }
    for (size_t k = 0; k < n; k++)
        if (ch[k].kind == RP_CONFUSION) {
            rp_heading(fp, html, 2, "Confusion matrix");
            if (rp_figures(fp, html, r, ch, n, RP_KIND(RP_CONFUSION)) != 0)
                return -1;
        }
    for (size_t k = 0; k < n; k++)
        if (ch[k].kind == RP_FOCAL) {
            rp_heading(fp, html, 2, "Focal loss");
            if (rp_figures(fp, html, r, ch, n, RP_KIND(RP_FOCAL)) != 0)
                return -1;
        }
    rp_heading(fp, html, 2, "Methods");
    rp_methods_table(fp, html, r);
    snprintf(buf, sizeof buf, "Written by focal %s from results.json and the run folders it lists.",
             focal_version());
    rp_para(fp, html, "note", buf);
    if (html)
        fputs("</body>\n</html>\n", fp);
    return 0;
}
