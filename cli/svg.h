/* svg.h — a small SVG line-chart writer: series of (x, y) points drawn as
 * lines inside framed axes with "nice" ticks and labels, axis titles, a title
 * and a legend. The same output works as a standalone .svg file or inlined in
 * an HTML report.
 *
 *     struct svg_chart ch;
 *     svg_chart_init(&ch);
 *     ch.title = "Loss"; ch.x_label = "epoch"; ch.y_label = "loss";
 *     struct svg_series s[1] = {{ .name = "train", .x = xs, .y = ys, .n = n }};
 *     ch.series = s; ch.n_series = 1;
 *     if (svg_chart_write(fp, &ch, 1) != 0) ... // write error
 */
#ifndef FOCAL_CLI_SVG_H
#define FOCAL_CLI_SVG_H

#include <stddef.h>
#include <stdio.h>

enum svg_legend_pos {
    SVG_LEGEND_TOP_RIGHT,
    SVG_LEGEND_TOP_LEFT,
    SVG_LEGEND_BOTTOM_RIGHT,
    SVG_LEGEND_BOTTOM_LEFT,
    SVG_LEGEND_NONE
};

/* One line. Points are joined in order; a point whose x or y is not finite
 * breaks the line. Parts outside the axis ranges are clipped exactly. */
struct svg_series {
    const char *name;     /* legend text (UTF-8); NULL leaves it out of the legend */
    const double *x, *y;  /* n points; not owned */
    size_t n;
    const char *color;    /* CSS colour, e.g. "#0072b2"; NULL = svg_palette(index) */
    double width;         /* stroke width in px; 0 = 2 */
    int dashed;           /* nonzero: dashed line */
};

/* A chart. Fill with svg_chart_init, then set what you need. Strings and the
 * series array are not owned and must outlive svg_chart_write. */
struct svg_chart {
    const char *title;    /* NULL or "" = no title */
    const char *x_label;  /* axis titles; NULL = none */
    const char *y_label;
    int width, height;    /* whole picture in px; default 640 × 440 */
    double x_min, x_max;  /* axis ranges; NAN (the default) = from the data, */
    double y_min, y_max;  /*   widened to the nearest ticks */
    int x_ticks, y_ticks; /* about how many tick intervals to aim for; default 5 */
    int grid;             /* nonzero (default): light grid lines at the ticks */
    enum svg_legend_pos legend;  /* default SVG_LEGEND_TOP_RIGHT */
    const struct svg_series *series;
    size_t n_series;
};

/* Fills *c with the defaults above and no series. */
void svg_chart_init(struct svg_chart *c);

/* Writes the chart as one <svg> element to fp; with `standalone` nonzero it is
 * preceded by an XML declaration (for a .svg file; omit it when inlining in
 * HTML). Text is XML-escaped. Returns 0, or -1 if fp reports a write error. */
int svg_chart_write(FILE *fp, const struct svg_chart *c, int standalone);

#endif
