/* svg_parts.h — the pieces the chart writers share (svg.c: text, axes,
 * legends and line charts; svg_bars.c: bar charts and heat maps). Internal
 * to report/. */
#ifndef FOCAL_REPORT_SVG_PARTS_H
#define FOCAL_REPORT_SVG_PARTS_H

#include <stddef.h>
#include <stdio.h>

#include "report/svg.h"

/* Plot area in px and the data ranges mapped onto it. */
struct svg_frame {
    double left, top, w, h;
    double x0, x1, y0, y1;
};

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

/* Estimated width in px of s in a sans-serif font of `size` px. */
double svg_text_w(const char *s, double size);

/* Writes <text ATTRS>s</text>: attrs is the inside of the start tag after
 * "<text ", e.g. "x=\"1\" y=\"2\"". */
void svg_text_el(FILE *fp, const char *attrs, const char *s);

/* The <svg> start tag (after an XML declaration when standalone), the
 * <title> that names it for screen readers and a white background. */
void svg_begin(FILE *fp, int W, int H, const char *title, int standalone);

/* The chart's title, centred at the top of a picture W px wide. */
void svg_title_text(FILE *fp, int W, const char *title);

/* The y-axis title, rotated, centred on the plot's height at x = cx. */
void svg_y_title(FILE *fp, const struct svg_frame *f, double cx, const char *label);

/* The x-axis title, centred under the plot with its baseline at y. */
void svg_x_title(FILE *fp, const struct svg_frame *f, double y, const char *label);

/* Ticks, grid lines and tick labels of a numeric y axis over [f->y0, f->y1]. */
void svg_y_axis(FILE *fp, const struct svg_frame *f, int target, int grid);

/* The plot's frame. */
void svg_frame_rect(FILE *fp, const struct svg_frame *f);

/* Flows the entries into rows no wider than maxw, starting at x0 (the row
 * centres from y0 down); draws them when fp is not NULL. Returns the number
 * of rows. */
int svg_legend_flow(FILE *fp, const struct svg_key *keys, size_t n, double x0, double y0, double maxw);

/* Height in px that a BELOW legend of `rows` rows adds to a picture. */
double svg_legend_below_h(int rows);

/* Resolves one axis range: the chart's own bounds where given, the data's
 * elsewhere, widened to nice ticks when any bound came from the data. */
void svg_axis_range(double given_lo, double given_hi, double data_lo, double data_hi,
                           int target, double *lo, double *hi);

#endif
