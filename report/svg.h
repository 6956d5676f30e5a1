/* svg.h — small SVG chart writers: line charts (series of (x, y) points in
 * framed axes with "nice" ticks), bar charts (grouped bars or one panel per
 * series over named categories) and heat maps (a matrix of shaded cells with
 * their values written in). Every chart has axis titles, tick labels, a title
 * and, where it draws more than one thing, a legend. The output works as a
 * standalone .svg file or inlined in an HTML page: it uses no ids, scripts or
 * external resources.
 *
 *     struct svg_chart ch;
 *     svg_chart_init(&ch);
 *     ch.title = "Loss"; ch.x_label = "epoch"; ch.y_label = "loss";
 *     struct svg_series s[1] = {{ .name = "train", .x = xs, .y = ys, .n = n }};
 *     ch.series = s; ch.n_series = 1;
 *     if (svg_chart_write(fp, &ch, 1) != 0) ... // write error
 */
#ifndef FOCAL_REPORT_SVG_H
#define FOCAL_REPORT_SVG_H

#include <stddef.h>
#include <stdio.h>

/* Writes the UTF-8 text s to fp with XML's special characters escaped as
 * entities (valid in HTML too) and control characters other than tab and
 * newline left out. */
void svg_text(FILE *fp, const char *s);

/* Colour i of the charts' palette (CSS "#rrggbb"): the Okabe–Ito colours,
 * black, then Paul Tol's wine, a brown, Tol's olive and indigo, so that ten
 * series stay apart; cycles after SVG_N_COLORS. */
#define SVG_N_COLORS 11
const char *svg_color(size_t i);

enum svg_legend_pos {
    SVG_LEGEND_TOP_RIGHT,   /* a box inside the plot area */
    SVG_LEGEND_TOP_LEFT,
    SVG_LEGEND_BOTTOM_RIGHT,
    SVG_LEGEND_BOTTOM_LEFT,
    SVG_LEGEND_NONE,
    SVG_LEGEND_BELOW        /* rows of entries under the x-axis title, wrapped
                               to the plot's width; the picture grows taller by
                               the legend's height, the plot keeps its size */
};

/* One line. Points are joined in order; a point whose x or y is not finite
 * breaks the line. Parts outside the axis ranges are clipped exactly. */
struct svg_series {
    const char *name;     /* legend text (UTF-8); NULL leaves it out of the legend */
    const double *x, *y;  /* n points; not owned */
    size_t n;
    const char *color;    /* CSS colour, e.g. "#0072b2"; NULL = svg_color(index) */
    double width;         /* stroke width in px; 0 = 2 */
    int dashed;           /* nonzero: dashed line */
    int markers;          /* nonzero: also a dot at every visible point */
};

/* A line chart. Fill with svg_chart_init, then set what you need. Strings and
 * the series array are not owned and must outlive svg_chart_write. */
struct svg_chart {
    const char *title;    /* NULL or "" = no title */
    const char *x_label;  /* axis titles; NULL = none */
    const char *y_label;
    int width, height;    /* whole picture in px (without a BELOW legend); default 640 × 440 */
    double x_min, x_max;  /* axis ranges; NAN (the default) = from the data, */
    double y_min, y_max;  /*   widened to the nearest ticks */
    int x_ticks, y_ticks; /* about how many tick intervals to aim for; default 5 */
    int x_integer;        /* nonzero: x ticks only at whole numbers (e.g. epochs) */
    int grid;             /* nonzero (default): light grid lines at the ticks */
    enum svg_legend_pos legend;  /* default SVG_LEGEND_TOP_RIGHT */
    const struct svg_series *series;
    size_t n_series;
    /* An x range shaded light grey behind the lines, with band_label written
     * across its middle; NAN bounds (the default) = no band. */
    double band_lo, band_hi;
    const char *band_label;
};

/* Fills *c with the defaults above and no series. */
void svg_chart_init(struct svg_chart *c);

/* Writes the chart as one <svg> element to fp; with `standalone` nonzero it is
 * preceded by an XML declaration (for a .svg file; omit it when inlining in
 * HTML). Text is XML-escaped. Returns 0, or -1 if fp reports a write error. */
int svg_chart_write(FILE *fp, const struct svg_chart *c, int standalone);

/* One row of bar heights: a value per category. */
struct svg_bar_series {
    const char *name;     /* legend (grouped) or panel title (panels) */
    const double *values; /* n_categories heights; NaN = no bar (a category, or a
                             panel's, with no bar at all is marked "n/a") */
    const double *err;    /* NULL, or n_categories half-lengths of an error
                             whisker (NaN = none); drawn only on bars >= 6 px wide */
    const char *color;    /* NULL = svg_color(index) */
};

enum svg_bar_layout {
    SVG_BARS_GROUPED,     /* one plot; the series' bars side by side in each category */
    SVG_BARS_PANELS       /* one plot per series, stacked, sharing the category axis */
};

/* A bar chart over named categories (left to right in the given order). Fill
 * with svg_bar_chart_init. Category names too long for their slot are written
 * at -45° or upright, and the bottom margin grows to fit them. Strings and
 * arrays are not owned. */
struct svg_bar_chart {
    const char *title, *x_label, *y_label;
    int width;            /* whole picture in px; default 640 */
    int plot_height;      /* px of one plot (each panel); default 260 grouped, 80 panels */
    double y_min, y_max;  /* NAN = from the data (and 0), widened to nice ticks */
    int y_ticks;          /* default 5 (grouped), 2 (panels) */
    enum svg_bar_layout layout;
    enum svg_legend_pos legend;  /* grouped: SVG_LEGEND_BELOW (default) or NONE */
    const char *const *categories;
    size_t n_categories;
    const struct svg_bar_series *series;
    size_t n_series;
};

void svg_bar_chart_init(struct svg_bar_chart *c);

/* Writes the bar chart as one <svg> element; bars are <rect class="bar">.
 * Returns 0, or -1 on a write error. */
int svg_bar_chart_write(FILE *fp, const struct svg_bar_chart *c, int standalone);

/* A heat map: rows × cols cells, row r drawn top to bottom, column k left to
 * right, each shaded from white (0) to dark blue (1) and labelled with its
 * value. A colour bar at the right explains the shade. Strings and arrays are
 * not owned. */
struct svg_heatmap {
    const char *title;
    const char *x_label, *y_label;        /* titles of the column and row axes */
    size_t rows, cols;
    const char *const *row_labels;        /* rows names, left of the cells */
    const char *const *col_labels;        /* cols names, under the cells */
    const double *values;                 /* rows × cols, row-major: the cell text */
    int decimals;                         /* of the cell text (0 for counts) */
    int hide_zero;                        /* nonzero: no text in cells whose value is 0 */
    const double *shade;                  /* rows × cols in [0, 1] (clamped); NaN = grey */
    const char *shade_label;              /* the colour bar's title */
    int cell;                             /* cell side in px; 0 = fit about 560 px, 14..48 */
};

/* Writes the heat map as one <svg> element; cells are <rect class="cell">.
 * Returns 0, or -1 on a write error. */
int svg_heatmap_write(FILE *fp, const struct svg_heatmap *h, int standalone);

#endif
