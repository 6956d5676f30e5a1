/* svg_bars.c — the bar charts (grouped, or one panel per series, over named
 * categories) and heat maps of svg.h, on the axes, titles and legends of
 * svg.c (svg_parts.h). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report/svg.h"
#include "report/svg_parts.h"

/* ---- category axes ------------------------------------------------------------- */

/* How category names are written under slots `slot` px wide. */
struct svg_cat_labels {
    double size;         /* font size in px */
    int angle;           /* 0, -45 or -90 degrees */
    double depth;        /* px they reach below the axis */
};

/* Chooses the font size and angle for names under slots `slot` px wide: level
 * if the longest fits, else -45° while rows of slanted text stay apart, else
 * upright (the font shrinks to the slot, down to 7 px). */
static struct svg_cat_labels svg_cat_layout(const char *const *names, size_t n, double slot)
{
    struct svg_cat_labels L = { 11.0, 0, 0.0 };
    double longest = 0.0;
    for (size_t i = 0; i < n; i++)
        if (svg_text_w(names[i], 1.0) > longest)
            longest = svg_text_w(names[i], 1.0);
    if (longest * L.size <= slot - 4.0) {
        L.depth = 22.0;
    } else if (slot * 0.7071 >= L.size + 2.0) {
        L.angle = -45;
        L.depth = 14.0 + longest * L.size * 0.7071 + L.size;
    } else {
        L.angle = -90;
        if (slot - 1.0 < L.size)
            L.size = slot - 1.0 < 7.0 ? 7.0 : slot - 1.0;
        L.depth = 12.0 + longest * L.size;
    }
    return L;
}

/* Writes the names under the plot's bottom edge, one centred under each slot. */
static void svg_cat_axis(FILE *fp, const struct svg_frame *f, const char *const *names, size_t n,
                         const struct svg_cat_labels *L)
{
    double slot = f->w / (double)n, base = f->top + f->h;
    fputs("<g class=\"x-axis\">\n", fp);
    for (size_t i = 0; i < n; i++) {
        double cx = f->left + slot * ((double)i + 0.5);
        char at[200];
        fprintf(fp, "<line x1=\"%.2f\" y1=\"%.2f\" x2=\"%.2f\" y2=\"%.2f\" stroke=\"#000000\"/>\n",
                cx, base, cx, base + 4.0);
        if (L->angle == 0)
            snprintf(at, sizeof at, "x=\"%.2f\" y=\"%.2f\" text-anchor=\"middle\" font-size=\"%.3g\"",
                     cx, base + 18.0, L->size);
        else if (L->angle == -45)
            snprintf(at, sizeof at, "x=\"%.2f\" y=\"%.2f\" text-anchor=\"end\" font-size=\"%.3g\" "
                     "transform=\"rotate(-45 %.2f %.2f)\"", cx + 3.0, base + 12.0, L->size, cx + 3.0, base + 12.0);
        else
            snprintf(at, sizeof at, "x=\"%.2f\" y=\"%.2f\" text-anchor=\"end\" font-size=\"%.3g\" "
                     "transform=\"rotate(-90 %.2f %.2f)\"", cx + L->size * 0.35, base + 8.0, L->size,
                     cx + L->size * 0.35, base + 8.0);
        svg_text_el(fp, at, names[i]);
    }
    fputs("</g>\n", fp);
}

/* ---- bar charts -------------------------------------------------------------------- */

void svg_bar_chart_init(struct svg_bar_chart *c)
{
    memset(c, 0, sizeof *c);
    c->width = 640;
    c->y_min = c->y_max = NAN;
    c->layout = SVG_BARS_GROUPED;
    c->legend = SVG_LEGEND_BELOW;
}

/* The y range of the bars: the chart's bounds where given, else the data's
 * (bar tops and whisker ends, and 0), widened to nice ticks. */
static void svg_bar_range(const struct svg_bar_chart *c, int target, double *lo, double *hi)
{
    double a = 0.0, b = 0.0;
    for (size_t k = 0; k < c->n_series; k++) {
        const struct svg_bar_series *s = &c->series[k];
        for (size_t i = 0; i < c->n_categories; i++) {
            double v = s->values[i], e = s->err && isfinite(s->err[i]) ? fabs(s->err[i]) : 0.0;
            if (!isfinite(v))
                continue;
            if (v + e > b)
                b = v + e;
            if (v - e < a)
                a = v - e;
        }
    }
    svg_axis_range(c->y_min, c->y_max, a, b, target, lo, hi);
}

/* Draws one series' bars in frame f: bar i spans [x_i, x_i + bw) where x_i =
 * f->left + slot·i + off; values are clipped to the y range. */
static void svg_bars(FILE *fp, const struct svg_frame *f, const struct svg_bar_series *s, size_t n,
                     double slot, double off, double bw, const char *color)
{
    double zero = f->y0 > 0.0 ? f->y0 : f->y1 < 0.0 ? f->y1 : 0.0;
    double pz = f->top + (1.0 - (zero - f->y0) / (f->y1 - f->y0)) * f->h;
    for (size_t i = 0; i < n; i++) {
        double v = s->values[i];
        if (!isfinite(v))
            continue;
        double cv = v < f->y0 ? f->y0 : v > f->y1 ? f->y1 : v;
        double pv = f->top + (1.0 - (cv - f->y0) / (f->y1 - f->y0)) * f->h;
        double x = f->left + slot * (double)i + off;
        double top = pv < pz ? pv : pz, h = fabs(pz - pv);
        fprintf(fp, "<rect class=\"bar\" x=\"%.2f\" y=\"%.2f\" width=\"%.2f\" height=\"%.2f\" fill=\"%s\">"
                "<title>", x, top, bw, h, color);
        if (s->name) {
            svg_text(fp, s->name);
            fputs(": ", fp);
        }
        fprintf(fp, "%.4g</title></rect>\n", v);
        double e = s->err ? s->err[i] : NAN;
        if (bw >= 6.0 && isfinite(e) && e > 0.0) {
            double lo = cv - e, hi = cv + e;
            lo = lo < f->y0 ? f->y0 : lo;
            hi = hi > f->y1 ? f->y1 : hi;
            double plo = f->top + (1.0 - (lo - f->y0) / (f->y1 - f->y0)) * f->h;
            double phi = f->top + (1.0 - (hi - f->y0) / (f->y1 - f->y0)) * f->h;
            double cx = x + bw / 2.0;
            fprintf(fp, "<path class=\"whisker\" fill=\"none\" stroke=\"#333333\" stroke-width=\"1\" "
                    "d=\"M%.2f %.2fL%.2f %.2fM%.2f %.2fL%.2f %.2fM%.2f %.2fL%.2f %.2f\"/>\n",
                    cx, plo, cx, phi, cx - 2.0, plo, cx + 2.0, plo, cx - 2.0, phi, cx + 2.0, phi);
        }
    }
}

int svg_bar_chart_write(FILE *fp, const struct svg_bar_chart *c, int standalone)
{
    int panels = c->layout == SVG_BARS_PANELS;
    int W = c->width > 0 ? c->width : 640;
    int has_title = c->title && *c->title;
    double ph = c->plot_height > 0 ? c->plot_height : panels ? 80.0 : 260.0;
    int target = c->y_ticks > 0 ? c->y_ticks : panels ? 2 : 5;
    size_t n = c->n_categories ? c->n_categories : 1;
    size_t n_plots = panels ? c->n_series : 1;
    double panel_gap = panels ? 24.0 : 0.0;   /* room for each panel's name above it */
    struct svg_frame f;

    f.left = c->y_label ? 72.0 : 56.0;
    f.top = (has_title ? 46.0 : 18.0) + panel_gap;
    f.w = W - f.left - 22.0;
    f.h = ph;
    svg_bar_range(c, target, &f.y0, &f.y1);
    double slot = f.w / (double)n;
    struct svg_cat_labels L = svg_cat_layout(c->categories, c->n_categories, slot);
    double plots_h = (double)n_plots * ph + (double)(n_plots ? n_plots - 1 : 0) * panel_gap;
    double x_title_y = f.top + plots_h + L.depth + 20.0;
    double bottom = x_title_y + (c->x_label ? 0.0 : -14.0) + 14.0;

    struct svg_key *keys = calloc(c->n_series ? c->n_series : 1, sizeof *keys);
    if (!keys)
        return -1;
    size_t n_keys = 0;
    for (size_t k = 0; k < c->n_series; k++)
        if (c->series[k].name)
            keys[n_keys++] = (struct svg_key){ c->series[k].name,
                                               c->series[k].color ? c->series[k].color : svg_color(k), 0, 0, 1 };
    int rows = !panels && c->legend == SVG_LEGEND_BELOW ? svg_legend_flow(NULL, keys, n_keys, 0, 0, f.w) : 0;
    int H = (int)ceil(bottom + svg_legend_below_h(rows));

    svg_begin(fp, W, H, c->title, standalone);
    svg_title_text(fp, W, c->title);
    /* bars fill most of their slot, but no bar is wider than 40 px */
    double n_side = panels || !c->n_series ? 1.0 : (double)c->n_series;
    double group_w = slot * (panels ? 0.7 : 0.84);
    if (group_w > 40.0 * n_side)
        group_w = 40.0 * n_side;
    double bw = group_w / n_side;
    for (size_t p = 0; p < n_plots; p++) {
        struct svg_frame pf = f;
        pf.top = f.top + (double)p * (ph + panel_gap);
        svg_y_axis(fp, &pf, target, 1);
        fputs("<g class=\"bars\">\n", fp);
        if (panels) {
            const struct svg_bar_series *s = &c->series[p];
            const char *color = s->color ? s->color : svg_color(p);
            if (s->name) {
                char at[160];
                fprintf(fp, "<rect x=\"%.2f\" y=\"%.2f\" width=\"12\" height=\"12\" fill=\"%s\"/>\n",
                        pf.left, pf.top - 19.0, color);
                snprintf(at, sizeof at, "class=\"panel-title\" x=\"%.2f\" y=\"%.2f\" font-weight=\"bold\"",
                         pf.left + 18.0, pf.top - 8.5);
                svg_text_el(fp, at, s->name);
            }
            svg_bars(fp, &pf, s, c->n_categories, slot, (slot - bw) / 2.0, bw, color);
        } else {
            for (size_t k = 0; k < c->n_series; k++) {
                const struct svg_bar_series *s = &c->series[k];
                svg_bars(fp, &pf, s, c->n_categories, slot, (slot - group_w) / 2.0 + bw * (double)k, bw,
                         s->color ? s->color : svg_color(k));
            }
        }
        /* categories without a single bar here: "n/a", so that they do not read as zeros */
        for (size_t i = 0; i < c->n_categories && slot >= 14.0; i++) {
            int any = 0;
            for (size_t k = panels ? p : 0; k < (panels ? p + 1 : c->n_series); k++)
                any |= isfinite(c->series[k].values[i]);
            if (!any)
                fprintf(fp, "<text class=\"no-bar\" x=\"%.2f\" y=\"%.2f\" text-anchor=\"middle\" font-size=\"9\" "
                        "fill=\"#888888\">n/a</text>\n", pf.left + slot * ((double)i + 0.5), pf.top + pf.h - 4.0);
        }
        fputs("</g>\n", fp);
        svg_frame_rect(fp, &pf);
    }
    struct svg_frame last = f;
    last.top = f.top + plots_h - ph;
    svg_cat_axis(fp, &last, c->categories, c->n_categories, &L);
    struct svg_frame all = f;
    all.h = plots_h;
    svg_y_title(fp, &all, 20.0, c->y_label);
    svg_x_title(fp, &f, x_title_y, c->x_label);
    if (rows > 0)
        svg_legend_flow(fp, keys, n_keys, f.left, bottom + 4.0, f.w);
    free(keys);
    fputs("</svg>\n", fp);
    return ferror(fp) ? -1 : 0;
}

/* ---- heat maps ------------------------------------------------------------------------ */

/* The fill of shade t in [0, 1]: white through light blue to dark blue. */
static void svg_shade_color(char buf[8], double t)
{
    static const double stops[3][3] = { { 255, 255, 255 }, { 107, 174, 214 }, { 8, 48, 107 } };
    t = t < 0.0 ? 0.0 : t > 1.0 ? 1.0 : t;
    int k = t < 0.5 ? 0 : 1;
    double u = t < 0.5 ? t * 2.0 : (t - 0.5) * 2.0;
    int rgb[3];
    for (int i = 0; i < 3; i++)
        rgb[i] = (int)lround(stops[k][i] + u * (stops[k + 1][i] - stops[k][i]));
    snprintf(buf, 8, "#%02x%02x%02x", rgb[0], rgb[1], rgb[2]);
}

int svg_heatmap_write(FILE *fp, const struct svg_heatmap *h, int standalone)
{
    size_t R = h->rows ? h->rows : 1, C = h->cols ? h->cols : 1;
    double cs = h->cell;
    if (cs <= 0) {
        cs = floor(560.0 / (double)(R > C ? R : C));
        cs = cs < 14.0 ? 14.0 : cs > 64.0 ? 64.0 : cs;
    }
    double row_w = 0.0;
    for (size_t r = 0; r < h->rows; r++)
        if (svg_text_w(h->row_labels[r], 12.0) > row_w)
            row_w = svg_text_w(h->row_labels[r], 12.0);
    struct svg_frame f;
    memset(&f, 0, sizeof f);
    f.left = (h->y_label ? 34.0 : 12.0) + row_w + 10.0;
    f.top = h->title && *h->title ? 46.0 : 18.0;
    f.w = cs * (double)C;
    f.h = cs * (double)R;
    struct svg_cat_labels L = svg_cat_layout(h->col_labels, h->cols, cs);
    double x_title_y = f.top + f.h + L.depth + 20.0;
    double bar_x = f.left + f.w + 24.0;      /* the colour bar */
    double title_w = h->title ? svg_text_w(h->title, 17.0 * 1.1) + 40.0 : 0.0;   /* bold is wider */
    double W = bar_x + 16.0 + 40.0 + 24.0;
    if (W < title_w)
        W = title_w;
    /* the colour bar: 80% of the cells' height, but long enough for its title */
    double bh = f.h * 0.8 > 240.0 ? 240.0 : f.h * 0.8;
    if (h->shade_label && bh < svg_text_w(h->shade_label, 11.0) + 10.0)
        bh = svg_text_w(h->shade_label, 11.0) + 10.0;
    double by = bh < f.h ? f.top + (f.h - bh) / 2.0 : f.top;
    double Hpx = x_title_y + (h->x_label ? 14.0 : 0.0);
    if (Hpx < by + bh + 16.0)
        Hpx = by + bh + 16.0;
    double font = cs * 0.36 < 7.0 ? 7.0 : cs * 0.36 > 13.0 ? 13.0 : cs * 0.36;

    svg_begin(fp, (int)ceil(W), (int)ceil(Hpx), h->title, standalone);
    svg_title_text(fp, (int)ceil(W), h->title);
    fputs("<g class=\"cells\">\n", fp);
    for (size_t r = 0; r < h->rows; r++) {
        for (size_t k = 0; k < h->cols; k++) {
            double t = h->shade[r * h->cols + k], v = h->values[r * h->cols + k];
            char fill[8] = "#cccccc";
            if (isfinite(t))
                svg_shade_color(fill, t);
            double x = f.left + cs * (double)k, y = f.top + cs * (double)r;
            fprintf(fp, "<rect class=\"cell\" x=\"%.2f\" y=\"%.2f\" width=\"%.2f\" height=\"%.2f\" fill=\"%s\" "
                    "stroke=\"#ffffff\" stroke-width=\"0.5\"/>", x, y, cs, cs, fill);
            if (isfinite(v) && !(h->hide_zero && v == 0.0))
                fprintf(fp, "<text x=\"%.2f\" y=\"%.2f\" text-anchor=\"middle\" font-size=\"%.3g\" fill=\"%s\">"
                        "%.*f</text>", x + cs / 2.0, y + cs / 2.0 + font * 0.35, font,
                        isfinite(t) && t > 0.55 ? "#ffffff" : "#000000", h->decimals, v == 0.0 ? 0.0 : v);
            fputc('\n', fp);
        }
    }
    fputs("</g>\n", fp);
    svg_frame_rect(fp, &f);
    fputs("<g class=\"y-axis\">\n", fp);
    for (size_t r = 0; r < h->rows; r++) {
        char at[160];
        snprintf(at, sizeof at, "x=\"%.2f\" y=\"%.2f\" text-anchor=\"end\" font-size=\"12\"",
                 f.left - 6.0, f.top + cs * ((double)r + 0.5) + 4.0);
        svg_text_el(fp, at, h->row_labels[r]);
    }
    fputs("</g>\n", fp);
    svg_cat_axis(fp, &f, h->col_labels, h->cols, &L);
    svg_x_title(fp, &f, x_title_y, h->x_label);
    svg_y_title(fp, &f, 16.0, h->y_label);

    /* the colour bar: ten steps from 0 (bottom) to 1 (top) */
    fputs("<g class=\"colorbar\">\n", fp);
    for (int i = 0; i < 10; i++) {
        char fill[8];
        svg_shade_color(fill, (i + 0.5) / 10.0);
        fprintf(fp, "<rect x=\"%.2f\" y=\"%.2f\" width=\"14\" height=\"%.2f\" fill=\"%s\"/>\n",
                bar_x, by + bh * (9 - i) / 10.0, bh / 10.0 + 0.3, fill);
    }
    fprintf(fp, "<rect x=\"%.2f\" y=\"%.2f\" width=\"14\" height=\"%.2f\" fill=\"none\" stroke=\"#000000\"/>\n",
            bar_x, by, bh);
    fprintf(fp, "<text x=\"%.2f\" y=\"%.2f\" font-size=\"11\">1</text>\n", bar_x + 18.0, by + 9.0);
    fprintf(fp, "<text x=\"%.2f\" y=\"%.2f\" font-size=\"11\">0</text>\n", bar_x + 18.0, by + bh);
    if (h->shade_label) {
        char at[200];
        double cx = bar_x + 40.0, cy = by + bh / 2.0;
        snprintf(at, sizeof at, "x=\"%.2f\" y=\"%.2f\" text-anchor=\"middle\" font-size=\"11\" "
                 "transform=\"rotate(-90 %.2f %.2f)\"", cx, cy, cx, cy);
        svg_text_el(fp, at, h->shade_label);
    }
    fputs("</g>\n", fp);
    fputs("</svg>\n", fp);
    return ferror(fp) ? -1 : 0;
}
