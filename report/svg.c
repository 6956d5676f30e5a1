/* svg.c — the SVG chart writers declared in svg.h: the palette, "nice"
 * ticks, escaped text, axes, titles and legends that every chart shares
 * (svg_parts.h), and the line charts. Bar charts and heat maps: svg_bars.c. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report/svg.h"
#include "report/svg_parts.h"

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

void svg_axis_range(double given_lo, double given_hi, double data_lo, double data_hi,
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

double svg_text_w(const char *s, double size)
{
    return 0.6 * size * (double)svg_chars(s);
}

void svg_text_el(FILE *fp, const char *attrs, const char *s)
{
    fprintf(fp, "<text %s>", attrs);
    svg_text(fp, s);
    fputs("</text>\n", fp);
}

void svg_begin(FILE *fp, int W, int H, const char *title, int standalone)
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

void svg_title_text(FILE *fp, int W, const char *title)
{
    if (!title || !*title)
        return;
    char at[160];
    snprintf(at, sizeof at, "class=\"title\" x=\"%.2f\" y=\"28\" text-anchor=\"middle\" font-size=\"17\" "
             "font-weight=\"bold\"", W / 2.0);
    svg_text_el(fp, at, title);
}

void svg_y_title(FILE *fp, const struct svg_frame *f, double cx, const char *label)
{
    if (!label)
        return;
    char at[200];
    double cy = f->top + f->h / 2.0;
    snprintf(at, sizeof at, "class=\"y-label\" x=\"%.2f\" y=\"%.2f\" text-anchor=\"middle\" font-size=\"15\" "
             "transform=\"rotate(-90 %.2f %.2f)\"", cx, cy, cx, cy);
    svg_text_el(fp, at, label);
}

void svg_x_title(FILE *fp, const struct svg_frame *f, double y, const char *label)
{
    if (!label)
        return;
    char at[160];
    snprintf(at, sizeof at, "class=\"x-label\" x=\"%.2f\" y=\"%.2f\" text-anchor=\"middle\" font-size=\"15\"",
             f->left + f->w / 2.0, y);
    svg_text_el(fp, at, label);
}

void svg_y_axis(FILE *fp, const struct svg_frame *f, int target, int grid)
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

void svg_frame_rect(FILE *fp, const struct svg_frame *f)
{
    fprintf(fp, "<rect class=\"frame\" x=\"%.2f\" y=\"%.2f\" width=\"%.2f\" height=\"%.2f\" "
            "fill=\"none\" stroke=\"#000000\" stroke-width=\"1\"/>\n", f->left, f->top, f->w, f->h);
}

/* ---- legends ------------------------------------------------------------------ */

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

int svg_legend_flow(FILE *fp, const struct svg_key *keys, size_t n, double x0, double y0, double maxw)
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

double svg_legend_below_h(int rows)
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
