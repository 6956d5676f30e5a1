/* svg.c — the SVG line-chart writer declared in svg.h. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "svg.h"

/* Okabe–Ito colours (safe for the common colour-vision deficiencies), black last. */
static const char *const svg_colors[] = {
    "#0072b2", "#d55e00", "#009e73", "#cc79a7", "#e69f00", "#56b4e9", "#000000",
};

/* A colour-blind-friendly palette colour for series i (cycles). */
static const char *svg_palette(size_t i)
{
    return svg_colors[i % (sizeof svg_colors / sizeof svg_colors[0])];
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

/* Writes s to fp with XML's special characters escaped. */
static void svg_text(FILE *fp, const char *s)
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

int svg_chart_write(FILE *fp, const struct svg_chart *c, int standalone)
{
    int W = c->width > 0 ? c->width : 640;
    int H = c->height > 0 ? c->height : 440;
    int has_title = c->title && *c->title;
    struct svg_frame f;
    double dlo, dhi;

    svg_data_range(c, 0, &dlo, &dhi);
    svg_axis_range(c->x_min, c->x_max, dlo, dhi, c->x_ticks, &f.x0, &f.x1);
    svg_data_range(c, 1, &dlo, &dhi);
    svg_axis_range(c->y_min, c->y_max, dlo, dhi, c->y_ticks, &f.y0, &f.y1);

    f.left = c->y_label ? 72.0 : 56.0;
    f.top = has_title ? 46.0 : 18.0;
    f.w = W - f.left - 22.0;
    f.h = H - f.top - (c->x_label ? 62.0 : 40.0);

    if (standalone)
        fputs("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n", fp);
    fprintf(fp, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" "
            "viewBox=\"0 0 %d %d\" font-family=\"Helvetica, Arial, sans-serif\" font-size=\"13\">\n",
            W, H, W, H);
    if (has_title) {
        fputs("<title>", fp);
        svg_text(fp, c->title);
        fputs("</title>\n", fp);
    }
    fprintf(fp, "<rect width=\"%d\" height=\"%d\" fill=\"#ffffff\"/>\n", W, H);

    /* ticks, grid and tick labels */
    double ticks[64], step;
    char label[64];
    size_t nt = svg_nice_ticks(f.x0, f.x1, c->x_ticks, ticks, 64, &step);
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
    nt = svg_nice_ticks(f.y0, f.y1, c->y_ticks, ticks, 64, &step);
    fputs("<g class=\"y-axis\" stroke=\"#000000\" stroke-width=\"1\">\n", fp);
    for (size_t i = 0; i < nt; i++) {
        double py = f.top + (1.0 - (ticks[i] - f.y0) / (f.y1 - f.y0)) * f.h;
        if (c->grid)
            fprintf(fp, "<line x1=\"%.2f\" y1=\"%.2f\" x2=\"%.2f\" y2=\"%.2f\" stroke=\"#e3e3e3\"/>\n",
                    f.left, py, f.left + f.w, py);
        fprintf(fp, "<line x1=\"%.2f\" y1=\"%.2f\" x2=\"%.2f\" y2=\"%.2f\"/>\n",
                f.left - 5.0, py, f.left, py);
        svg_format_tick(label, sizeof label, ticks[i], step);
        fprintf(fp, "<text x=\"%.2f\" y=\"%.2f\" text-anchor=\"end\" stroke=\"none\">%s</text>\n",
                f.left - 8.0, py + 4.5, label);
    }
    fputs("</g>\n", fp);
    fprintf(fp, "<rect class=\"frame\" x=\"%.2f\" y=\"%.2f\" width=\"%.2f\" height=\"%.2f\" "
            "fill=\"none\" stroke=\"#000000\" stroke-width=\"1\"/>\n", f.left, f.top, f.w, f.h);

    /* axis titles and the chart title */
    if (c->x_label) {
        fprintf(fp, "<text class=\"x-label\" x=\"%.2f\" y=\"%.2f\" text-anchor=\"middle\" font-size=\"15\">",
                f.left + f.w / 2.0, f.top + f.h + 46.0);
        svg_text(fp, c->x_label);
        fputs("</text>\n", fp);
    }
    if (c->y_label) {
        double cx = 20.0, cy = f.top + f.h / 2.0;
        fprintf(fp, "<text class=\"y-label\" x=\"%.2f\" y=\"%.2f\" text-anchor=\"middle\" font-size=\"15\" "
                "transform=\"rotate(-90 %.2f %.2f)\">", cx, cy, cx, cy);
        svg_text(fp, c->y_label);
        fputs("</text>\n", fp);
    }
    if (has_title) {
        fprintf(fp, "<text class=\"title\" x=\"%.2f\" y=\"28\" text-anchor=\"middle\" font-size=\"17\" "
                "font-weight=\"bold\">", W / 2.0);
        svg_text(fp, c->title);
        fputs("</text>\n", fp);
    }

    /* the series */
    fputs("<g class=\"series\">\n", fp);
    for (size_t k = 0; k < c->n_series; k++) {
        const struct svg_series *s = &c->series[k];
        svg_series_path(fp, &f, s, s->color ? s->color : svg_palette(k));
    }
    fputs("</g>\n", fp);

    /* the legend */
    size_t n_named = 0, longest = 0;
    for (size_t k = 0; k < c->n_series; k++) {
        if (!c->series[k].name)
            continue;
        n_named++;
        size_t w = svg_chars(c->series[k].name);
        if (w > longest)
            longest = w;
    }
    if (c->legend != SVG_LEGEND_NONE && n_named > 0) {
        double row = 20.0, pad = 8.0;
        double bw = pad + 28.0 + 7.5 * (double)longest + pad;
        double bh = pad * 2.0 + row * (double)n_named - 6.0;
        int right = c->legend == SVG_LEGEND_TOP_RIGHT || c->legend == SVG_LEGEND_BOTTOM_RIGHT;
        int top = c->legend == SVG_LEGEND_TOP_RIGHT || c->legend == SVG_LEGEND_TOP_LEFT;
        double bx = right ? f.left + f.w - bw - 10.0 : f.left + 10.0;
        double by = top ? f.top + 10.0 : f.top + f.h - bh - 10.0;
        fputs("<g class=\"legend\">\n", fp);
        fprintf(fp, "<rect x=\"%.2f\" y=\"%.2f\" width=\"%.2f\" height=\"%.2f\" fill=\"#ffffff\" "
                "fill-opacity=\"0.9\" stroke=\"#999999\"/>\n", bx, by, bw, bh);
        size_t r = 0;
        for (size_t k = 0; k < c->n_series; k++) {
            const struct svg_series *s = &c->series[k];
            if (!s->name)
                continue;
            double ly = by + pad + row * (double)r + 7.0;
            fputs("<g class=\"legend-entry\">", fp);
            fprintf(fp, "<line x1=\"%.2f\" y1=\"%.2f\" x2=\"%.2f\" y2=\"%.2f\" stroke=\"%s\" "
                    "stroke-width=\"%.3g\"%s/>", bx + pad, ly, bx + pad + 22.0, ly,
                    s->color ? s->color : svg_palette(k), s->width > 0 ? s->width : 2.0,
                    s->dashed ? " stroke-dasharray=\"7 4\"" : "");
            fprintf(fp, "<text x=\"%.2f\" y=\"%.2f\">", bx + pad + 28.0, ly + 4.5);
            svg_text(fp, s->name);
            fputs("</text></g>\n", fp);
            r++;
        }
        fputs("</g>\n", fp);
    }
    fputs("</svg>\n", fp);
    return ferror(fp) ? -1 : 0;
}
