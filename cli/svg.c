/* svg.c — the SVG chart writers declared in svg.h: line charts, bar charts
 * and heat maps, sharing their axes, titles and legends. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "svg.h"

/* Okabe–Ito colours (safe for the common colour-vision deficiencies), black,
 * then Paul Tol's wine, a brown, Tol's olive and indigo. */
static const char *const svg_colors[SVG_N_COLORS] = {
    "#0072b2", "#d55e00", "#009e73", "#cc79a7", "#e69f00", "#56b4e9", "#000000",
    "#882255", "#8c564b", "#999933", "#332288",
};

const char *svg_color(size_t i)
{
    return svg_colors[i % SVG_N_COLORS];
}

void svg_chart_init(struct svg_chart *c)
{
    memset(c, 0, sizeof *c);
    c->width = 640;
    c->height = 440;
    c->x_min = c->x_max = c->y_min = c->y_max = NAN;
    c->x_ticks = c->y_ticks = 5;
    c->grid = 1;
    c->legend = SVG_LEGEND_TOP_RIGHT;
    c->band_lo = c->band_hi = NAN;
}

/* The nice spacing (1, 2 or 5 × 10^k) nearest above range / target. */
static double svg_nice_step(double range, int target)
{
    if (target < 1)
        target = 1;
    double rough = range / target;
    double mag = pow(10.0, floor(log10(rough)));
    double f = rough / mag;
    double nice = f <= 1.0 + 1e-9 ? 1.0 : f <= 2.0 + 1e-9 ? 2.0 : f <= 5.0 + 1e-9 ? 5.0 : 10.0;
    return nice * mag;
}

/* Chooses "nice" ticks (1, 2 or 5 times a power of ten apart) covering
 * [lo, hi] with about `target` intervals. Writes at most max ticks, all within
 * [lo, hi] (up to rounding), into ticks, and the spacing into *step. Returns
 * the number of ticks written. Requires lo < hi, both finite. */
static size_t svg_nice_ticks(double lo, double hi, int target, double *ticks, size_t max, double *step)
{
    double s = svg_nice_step(hi - lo, target);
    double eps = s * 1e-9;
    double first = ceil((lo - eps) / s);
    size_t n = 0;
    *step = s;
    for (double k = first; n < max; k += 1.0) {
        double t = k * s;
        if (t > hi + eps)
            break;
        if (fabs(t) < eps)
            t = 0.0;
        ticks[n++] = t;
    }
    return n;
}

/* Widens [*lo, *hi] outward to multiples of the nice tick spacing for about
 * `target` intervals; an empty or non-finite range becomes a usable one. */
static void svg_nice_range(double *lo, double *hi, int target)
{
    double a = *lo, b = *hi;
    if (!isfinite(a) || !isfinite(b)) {
        a = 0.0;
        b = 1.0;
    }
    if (a > b) {
        double t = a;
        a = b;
        b = t;
    }
    if (a == b) {
        double d = a == 0.0 ? 1.0 : fabs(a) * 0.5;
        a -= d;
        b += d;
    }
    double s = svg_nice_step(b - a, target);
    *lo = floor(a / s + 1e-9) * s;
    *hi = ceil(b / s - 1e-9) * s;
}

/* Formats tick value v for a tick spacing `step` into buf (size n): just enough
 * decimals to tell neighbouring ticks apart, "0" rather than "-0". */
static void svg_format_tick(char *buf, size_t n, double v, double step)
{
    if (v == 0.0)
        v = 0.0;   /* turns -0 into 0 */
    double av = fabs(v);
    if ((av >= 1e6 || (av > 0.0 && av < 1e-4)) || step < 1e-6) {
        snprintf(buf, n, "%g", v);
        return;
    }
    int dec = step >= 1.0 ? 0 : (int)ceil(-log10(step) - 1e-9);
    snprintf(buf, n, "%.*f", dec, v);
    if (buf[0] == '-' && strspn(buf + 1, "0.") == strlen(buf + 1))
        memmove(buf, buf + 1, strlen(buf));
}

void svg_text(FILE *fp, const char *s)
{
    for (; *s; s++) {
        switch (*s) {
        case '&': fputs("&amp;", fp); break;
        case '<': fputs("&lt;", fp); break;
        case '>': fputs("&gt;", fp); break;
        case '"': fputs("&quot;", fp); break;
        case '\'': fputs("&apos;", fp); break;
        default:
            if ((unsigned char)*s >= 0x20 || *s == '\t' || *s == '\n')
                fputc(*s, fp);
        }
    }
}

/* Number of characters (UTF-8 code points) in s, to estimate text widths. */
static size_t svg_chars(const char *s)
{
    size_t n = 0;
    for (; *s; s++)
        n += ((unsigned char)*s & 0xC0) != 0x80;
    return n;
}

/* Plot area in px and the data ranges mapped onto it. */
struct svg_frame {
    double left, top, w, h;
    double x0, x1, y0, y1;
};

/* Clips the segment (u0,v0)–(u1,v1), in coordinates where the visible area is
 * [0,1]², to that square (Liang–Barsky). Returns 0 if nothing is visible; else
 * 1 with *t0 <= *t1 the visible parameter interval along the segment. */
static int svg_clip(double u0, double v0, double u1, double v1, double *t0, double *t1)
{
    double p[4] = { -(u1 - u0), u1 - u0, -(v1 - v0), v1 - v0 };
    double q[4] = { u0, 1.0 - u0, v0, 1.0 - v0 };
    double a = 0.0, b = 1.0;
    for (int k = 0; k < 4; k++) {
        if (p[k] == 0.0) {
            if (q[k] < 0.0)
                return 0;
        } else {
            double r = q[k] / p[k];
            if (p[k] < 0.0) {
                if (r > b)
                    return 0;
                if (r > a)
                    a = r;
            } else {
                if (r < a)
                    return 0;
                if (r < b)
                    b = r;
            }
        }
    }
    *t0 = a;
    *t1 = b;
    return 1;
}

/* Draws one series as a <path>, clipped to the frame; nothing if no part of it
 * is visible. */
static void svg_series_path(FILE *fp, const struct svg_frame *f, const struct svg_series *s,
                            const char *color)
{
    int open = 0;          /* <path d="... has been written */
    int pen = 0;           /* the last point written ends the current sub-path */
    double pu = 0, pv = 0; /* previous point, normalised */
    int have_prev = 0;
    double width = s->width > 0 ? s->width : 2.0;

    for (size_t i = 0; i < s->n; i++) {
        double u = (s->x[i] - f->x0) / (f->x1 - f->x0);
        double v = (s->y[i] - f->y0) / (f->y1 - f->y0);
        if (!isfinite(u) || !isfinite(v)) {
            have_prev = 0;
            pen = 0;
            continue;
        }
        if (!have_prev) {
            pu = u;
            pv = v;
            have_prev = 1;
            pen = 0;
            continue;
        }
        double t0, t1;
        if (svg_clip(pu, pv, u, v, &t0, &t1)) {
            double au = pu + t0 * (u - pu), av = pv + t0 * (v - pv);
            double bu = pu + t1 * (u - pu), bv = pv + t1 * (v - pv);
            if (!open) {
                fprintf(fp, "<path class=\"series\" fill=\"none\" stroke=\"%s\" stroke-width=\"%.3g\""
                        " stroke-linejoin=\"round\" stroke-linecap=\"round\"%s d=\"",
                        color, width, s->dashed ? " stroke-dasharray=\"7 4\"" : "");
                open = 1;
            }
            if (!pen || t0 > 0.0)
                fprintf(fp, "M%.2f %.2f", f->left + au * f->w, f->top + (1.0 - av) * f->h);
            fprintf(fp, "L%.2f %.2f", f->left + bu * f->w, f->top + (1.0 - bv) * f->h);
            pen = t1 >= 1.0;
        } else {
            pen = 0;
        }
        pu = u;
        pv = v;
    }
    if (open)
        fputs("\"/>\n", fp);
    if (!s->markers)
        return;
    for (size_t i = 0; i < s->n; i++) {
        double u = (s->x[i] - f->x0) / (f->x1 - f->x0);
        double v = (s->y[i] - f->y0) / (f->y1 - f->y0);
        if (isfinite(u) && isfinite(v) && u >= 0.0 && u <= 1.0 && v >= 0.0 && v <= 1.0)
            fprintf(fp, "<circle class=\"marker\" cx=\"%.2f\" cy=\"%.2f\" r=\"%.3g\" fill=\"%s\"/>\n",
                    f->left + u * f->w, f->top + (1.0 - v) * f->h, width + 1.0, color);
    }
}

/* The data range of all series along x (which = 0) or y (which = 1). */
static void svg_data_range(const struct svg_chart *c, int which, double *lo, double *hi)
{
    double a = INFINITY, b = -INFINITY;
    for (size_t k = 0; k < c->n_series; k++) {
        const struct svg_series *s = &c->series[k];
        for (size_t i = 0; i < s->n; i++) {
            if (!isfinite(s->x[i]) || !isfinite(s->y[i]))
                continue;
            double v = which ? s->y[i] : s->x[i];
            if (v < a)
                a = v;
            if (v > b)
                b = v;
        }
    }
    *lo = a;
    *hi = b;
}

/* Resolves one axis range: the chart's own bounds where given, the data's
 * elsewhere, widened to nice ticks when any bound came from the data. */
static void svg_axis_range(double given_lo, double given_hi, double data_lo, double data_hi,
                           int target, double *lo, double *hi)
{
    double a = isfinite(given_lo) ? given_lo : data_lo;
    double b = isfinite(given_hi) ? given_hi : data_hi;
    if (!isfinite(given_lo) || !isfinite(given_hi) || !(a < b)) {
        double na = a, nb = b;
        svg_nice_range(&na, &nb, target);
        if (!isfinite(given_lo) || !(a < b))
            a = na;
        if (!isfinite(given_hi) || !(a < b))
            b = nb;
        if (!(a < b)) {
            a = na;
            b = nb;
        }
    }
    *lo = a;
    *hi = b;
}

/* Estimated width in px of s in a sans-serif font of `size` px. */
static double svg_text_w(const char *s, double size)
{
    return 0.6 * size * (double)svg_chars(s);
}

/* Writes <text ATTRS>s</text>: attrs is the inside of the start tag after
 * "<text ", e.g. "x=\"1\" y=\"2\"". */
static void svg_text_el(FILE *fp, const char *attrs, const char *s)
{
    fprintf(fp, "<text %s>", attrs);
    svg_text(fp, s);
    fputs("</text>\n", fp);
}

/* The <svg> start tag (after an XML declaration when standalone), the
 * <title> that names it for screen readers and a white background. */
static void svg_begin(FILE *fp, int W, int H, const char *title, int standalone)
{
    if (standalone)
        fputs("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n", fp);
    fprintf(fp, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" "
            "viewBox=\"0 0 %d %d\" font-family=\"Helvetica, Arial, sans-serif\" font-size=\"13\">\n",
            W, H, W, H);
    if (title && *title) {
        fputs("<title>", fp);
        svg_text(fp, title);
        fputs("</title>\n", fp);
    }
    fprintf(fp, "<rect width=\"%d\" height=\"%d\" fill=\"#ffffff\"/>\n", W, H);
}

/* The chart's title, centred at the top of a picture W px wide. */
static void svg_title_text(FILE *fp, int W, const char *title)
{
    if (!title || !*title)
        return;
    char at[160];
    snprintf(at, sizeof at, "class=\"title\" x=\"%.2f\" y=\"28\" text-anchor=\"middle\" font-size=\"17\" "
             "font-weight=\"bold\"", W / 2.0);
    svg_text_el(fp, at, title);
}

/* The y-axis title, rotated, centred on the plot's height at x = cx. */
static void svg_y_title(FILE *fp, const struct svg_frame *f, double cx, const char *label)
{
    if (!label)
        return;
    char at[200];
    double cy = f->top + f->h / 2.0;
    snprintf(at, sizeof at, "class=\"y-label\" x=\"%.2f\" y=\"%.2f\" text-anchor=\"middle\" font-size=\"15\" "
             "transform=\"rotate(-90 %.2f %.2f)\"", cx, cy, cx, cy);
    svg_text_el(fp, at, label);
}

/* The x-axis title, centred under the plot with its baseline at y. */
static void svg_x_title(FILE *fp, const struct svg_frame *f, double y, const char *label)
{
    if (!label)
        return;
    char at[160];
    snprintf(at, sizeof at, "class=\"x-label\" x=\"%.2f\" y=\"%.2f\" text-anchor=\"middle\" font-size=\"15\"",
             f->left + f->w / 2.0, y);
    svg_text_el(fp, at, label);
}

/* Ticks, grid lines and tick labels of a numeric y axis over [f->y0, f->y1]. */
static void svg_y_axis(FILE *fp, const struct svg_frame *f, int target, int grid)
{
    double ticks[64], step;
    char label[64];
    size_t nt = svg_nice_ticks(f->y0, f->y1, target, ticks, 64, &step);
    fputs("<g class=\"y-axis\" stroke=\"#000000\" stroke-width=\"1\">\n", fp);
    for (size_t i = 0; i < nt; i++) {
        double py = f->top + (1.0 - (ticks[i] - f->y0) / (f->y1 - f->y0)) * f->h;
        if (grid)
            fprintf(fp, "<line x1=\"%.2f\" y1=\"%.2f\" x2=\"%.2f\" y2=\"%.2f\" stroke=\"#e3e3e3\"/>\n",
                    f->left, py, f->left + f->w, py);
        fprintf(fp, "<line x1=\"%.2f\" y1=\"%.2f\" x2=\"%.2f\" y2=\"%.2f\"/>\n",
                f->left - 5.0, py, f->left, py);
        svg_format_tick(label, sizeof label, ticks[i], step);
        fprintf(fp, "<text x=\"%.2f\" y=\"%.2f\" text-anchor=\"end\" stroke=\"none\">%s</text>\n",
                f->left - 8.0, py + 4.5, label);
    }
    fputs("</g>\n", fp);
}

/* The plot's frame. */
static void svg_frame_rect(FILE *fp, const struct svg_frame *f)
{
    fprintf(fp, "<rect class=\"frame\" x=\"%.2f\" y=\"%.2f\" width=\"%.2f\" height=\"%.2f\" "
            "fill=\"none\" stroke=\"#000000\" stroke-width=\"1\"/>\n", f->left, f->top, f->w, f->h);
}

/* ---- legends ------------------------------------------------------------------ */

/* One legend entry: a line sample (dashed or not) or a filled box, and a name. */
struct svg_key {
    const char *name;
    const char *color;
    double width;        /* line width; 0 = 2 */
    int dashed;
    int box;             /* nonzero: a filled square instead of a line */
};

#define SVG_KEY_ROW 20.0   /* px between legend rows */
#define SVG_KEY_GAP 18.0   /* px between entries of a BELOW legend's row */

/* Width in px of one entry: the sample, a gap and the name. */
static double svg_key_w(const struct svg_key *k)
{
    return 28.0 + svg_text_w(k->name, 13.0);
}

/* Draws entry k with its sample starting at x and its row centred at y. */
static void svg_key_draw(FILE *fp, const struct svg_key *k, double x, double y)
{
    fputs("<g class=\"legend-entry\">", fp);
    if (k->box)
        fprintf(fp, "<rect x=\"%.2f\" y=\"%.2f\" width=\"14\" height=\"12\" fill=\"%s\"/>",
                x + 4.0, y - 6.0, k->color);
    else
        fprintf(fp, "<line x1=\"%.2f\" y1=\"%.2f\" x2=\"%.2f\" y2=\"%.2f\" stroke=\"%s\" "
                "stroke-width=\"%.3g\"%s/>", x, y, x + 22.0, y, k->color,
                k->width > 0 ? k->width : 2.0, k->dashed ? " stroke-dasharray=\"7 4\"" : "");
    fprintf(fp, "<text x=\"%.2f\" y=\"%.2f\">", x + 28.0, y + 4.5);
    svg_text(fp, k->name);
    fputs("</text></g>\n", fp);
}

/* A framed legend box in a corner of the plot area. */
static void svg_legend_box(FILE *fp, const struct svg_frame *f, enum svg_legend_pos pos,
                           const struct svg_key *keys, size_t n)
{
    double pad = 8.0, longest = 0.0;
    for (size_t k = 0; k < n; k++)
        if (svg_key_w(&keys[k]) > longest)
            longest = svg_key_w(&keys[k]);
    double bw = pad + longest + pad;
    double bh = pad * 2.0 + SVG_KEY_ROW * (double)n - 6.0;
    int right = pos == SVG_LEGEND_TOP_RIGHT || pos == SVG_LEGEND_BOTTOM_RIGHT;
    int top = pos == SVG_LEGEND_TOP_RIGHT || pos == SVG_LEGEND_TOP_LEFT;
    double bx = right ? f->left + f->w - bw - 10.0 : f->left + 10.0;
    double by = top ? f->top + 10.0 : f->top + f->h - bh - 10.0;
    fputs("<g class=\"legend\">\n", fp);
    fprintf(fp, "<rect x=\"%.2f\" y=\"%.2f\" width=\"%.2f\" height=\"%.2f\" fill=\"#ffffff\" "
            "fill-opacity=\"0.9\" stroke=\"#999999\"/>\n", bx, by, bw, bh);
    for (size_t k = 0; k < n; k++)
        svg_key_draw(fp, &keys[k], bx + pad, by + pad + SVG_KEY_ROW * (double)k + 7.0);
    fputs("</g>\n", fp);
}

/* Flows the entries into rows no wider than maxw, starting at x0 (the row
 * centres from y0 down); draws them when fp is not NULL. Returns the number
 * of rows. */
static int svg_legend_flow(FILE *fp, const struct svg_key *keys, size_t n, double x0, double y0, double maxw)
{
    int rows = n ? 1 : 0;
    double x = 0.0;
    if (fp && n)
        fputs("<g class=\"legend\">\n", fp);
    for (size_t k = 0; k < n; k++) {
        double w = svg_key_w(&keys[k]);
        if (x > 0.0 && x + w > maxw) {
            rows++;
            x = 0.0;
        }
        if (fp)
            svg_key_draw(fp, &keys[k], x0 + x, y0 + SVG_KEY_ROW * (double)(rows - 1));
        x += w + SVG_KEY_GAP;
    }
    if (fp && n)
        fputs("</g>\n", fp);
    return rows;
}

/* Height in px that a BELOW legend of `rows` rows adds to a picture. */
static double svg_legend_below_h(int rows)
{
    return rows > 0 ? SVG_KEY_ROW * (double)rows + 8.0 : 0.0;
}

/* ---- line charts ------------------------------------------------------------------ */

int svg_chart_write(FILE *fp, const struct svg_chart *c, int standalone)
{
    int W = c->width > 0 ? c->width : 640;
    int H = c->height > 0 ? c->height : 440;
    int has_title = c->title && *c->title;
    struct svg_frame f;
    double dlo, dhi;

    svg_data_range(c, 0, &dlo, &dhi);
    svg_axis_range(c->x_min, c->x_max, dlo, dhi, c->x_ticks, &f.x0, &f.x1);
    /* whole-number ticks: no more intervals than whole numbers in the range */
    int x_target = c->x_ticks;
    if (c->x_integer && f.x1 - f.x0 < x_target)
        x_target = f.x1 - f.x0 >= 1.0 ? (int)floor(f.x1 - f.x0) : 1;
    svg_data_range(c, 1, &dlo, &dhi);
    svg_axis_range(c->y_min, c->y_max, dlo, dhi, c->y_ticks, &f.y0, &f.y1);

    f.left = c->y_label ? 72.0 : 56.0;
    f.top = has_title ? 46.0 : 18.0;
    f.w = W - f.left - 22.0;
    f.h = H - f.top - (c->x_label ? 62.0 : 40.0);

    /* the legend's entries: the named series */
    struct svg_key *keys = calloc(c->n_series ? c->n_series : 1, sizeof *keys);
    if (!keys)
        return -1;
    size_t n_keys = 0;
    for (size_t k = 0; k < c->n_series; k++) {
        const struct svg_series *s = &c->series[k];
        if (!s->name)
            continue;
        keys[n_keys++] = (struct svg_key){ s->name, s->color ? s->color : svg_color(k), s->width, s->dashed, 0 };
    }
    int below_rows = c->legend == SVG_LEGEND_BELOW ? svg_legend_flow(NULL, keys, n_keys, 0, 0, f.w) : 0;
    int H_all = H + (int)ceil(svg_legend_below_h(below_rows));

    svg_begin(fp, W, H_all, c->title, standalone);

    /* the shaded band, under everything else */
    if (isfinite(c->band_lo) && isfinite(c->band_hi)) {
        double u0 = (c->band_lo - f.x0) / (f.x1 - f.x0), u1 = (c->band_hi - f.x0) / (f.x1 - f.x0);
        u0 = u0 < 0.0 ? 0.0 : u0 > 1.0 ? 1.0 : u0;
        u1 = u1 < 0.0 ? 0.0 : u1 > 1.0 ? 1.0 : u1;
        if (u1 > u0) {
            fprintf(fp, "<rect class=\"band\" x=\"%.2f\" y=\"%.2f\" width=\"%.2f\" height=\"%.2f\" "
                    "fill=\"#efefef\"/>\n", f.left + u0 * f.w, f.top, (u1 - u0) * f.w, f.h);
            if (c->band_label) {
                char at[160];
                snprintf(at, sizeof at, "class=\"band-label\" x=\"%.2f\" y=\"%.2f\" text-anchor=\"middle\" "
                         "font-size=\"12\" fill=\"#555555\"", f.left + (u0 + u1) / 2.0 * f.w, f.top + f.h / 2.0);
                svg_text_el(fp, at, c->band_label);
            }
        }
    }

    /* ticks, grid and tick labels */
    double ticks[64], step;
    char label[64];
    size_t nt = svg_nice_ticks(f.x0, f.x1, x_target, ticks, 64, &step);
    fputs("<g class=\"x-axis\" stroke=\"#000000\" stroke-width=\"1\">\n", fp);
    for (size_t i = 0; i < nt; i++) {
        double px = f.left + (ticks[i] - f.x0) / (f.x1 - f.x0) * f.w;
        if (c->grid)
            fprintf(fp, "<line x1=\"%.2f\" y1=\"%.2f\" x2=\"%.2f\" y2=\"%.2f\" stroke=\"#e3e3e3\"/>\n",
                    px, f.top, px, f.top + f.h);
        fprintf(fp, "<line x1=\"%.2f\" y1=\"%.2f\" x2=\"%.2f\" y2=\"%.2f\"/>\n",
                px, f.top + f.h, px, f.top + f.h + 5.0);
        svg_format_tick(label, sizeof label, ticks[i], step);
        fprintf(fp, "<text x=\"%.2f\" y=\"%.2f\" text-anchor=\"middle\" stroke=\"none\">%s</text>\n",
                px, f.top + f.h + 20.0, label);
    }
    fputs("</g>\n", fp);
    svg_y_axis(fp, &f, c->y_ticks, c->grid);
    svg_frame_rect(fp, &f);
    svg_x_title(fp, &f, f.top + f.h + 46.0, c->x_label);
    svg_y_title(fp, &f, 20.0, c->y_label);
    svg_title_text(fp, W, has_title ? c->title : NULL);

    /* the series */
    fputs("<g class=\"series\">\n", fp);
    for (size_t k = 0; k < c->n_series; k++) {
        const struct svg_series *s = &c->series[k];
        svg_series_path(fp, &f, s, s->color ? s->color : svg_color(k));
    }
    fputs("</g>\n", fp);

    if (n_keys > 0 && c->legend == SVG_LEGEND_BELOW)
        svg_legend_flow(fp, keys, n_keys, f.left, H + 4.0, f.w);
    else if (n_keys > 0 && c->legend != SVG_LEGEND_NONE)
        svg_legend_box(fp, &f, c->legend, keys, n_keys);
    free(keys);
    fputs("</svg>\n", fp);
    return ferror(fp) ? -1 : 0;
}

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
