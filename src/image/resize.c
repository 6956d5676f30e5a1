/* image_ops.c — operations on decoded 8-bit images: resizing (area average
 * when an axis shrinks, bilinear when it grows), cropping, and the bounding
 * box of the retina disc in a fundus photograph. */
#include <assert.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "focal/image.h"
#include "base/internal.h"

/* fundus box: threshold = (90th percentile of the brightest channel) / DIV,
 * kept within [T_MIN, T_MAX]; an image whose 90th percentile is below DARK
 * has no retina to find. */
#define FUNDUS_PERCENTILE 0.90
#define FUNDUS_T_DIV 8
#define FUNDUS_T_MIN 10
#define FUNDUS_T_MAX 40
#define FUNDUS_DARK 20
/* about this many pixels are sampled for the percentile */
#define FUNDUS_SAMPLES_PER_SIDE 256
/* a row (column) is retina when it holds this fraction of the fullest one's
 * bright pixels, and at least FUNDUS_LINE_MIN */
#define FUNDUS_LINE_FRAC 0.03
#define FUNDUS_LINE_MIN 2
/* runs of retina rows (columns) separated by at most this fraction of the
 * side are joined */
#define FUNDUS_GAP_FRAC 0.01
/* a box narrower or lower than side / MIN_DIV is not a retina */
#define FUNDUS_MIN_DIV 8

static void image_check_arg(const struct focal_image *img)
{
    assert(img && img->data && (img->channels == 1 || img->channels == 3));
    assert(img->width >= 1 && img->height >= 1);
    (void)img;
}

/* The source pixels that make each target pixel along one axis, and their
 * weights (they sum to 1). */
struct resize_axis {
    int *first;         /* n: the first source index */
    int *count;         /* n: how many consecutive source indices */
    float *weight;      /* n × taps: count[i] weights for target i */
    int taps;           /* the largest count */
};

static void axis_free(struct resize_axis *a)
{
    free(a->first);
    free(a->count);
    free(a->weight);
}

/* Fills a for src_n source pixels → dst_n target pixels. Shrinking: target i
 * covers [i·src_n, (i+1)·src_n) and source j covers [j·dst_n, (j+1)·dst_n),
 * both in units of 1/dst_n of a source pixel, so the overlaps are exact
 * integers. Growing: bilinear between the two source centres around the
 * target centre. */
static focal_status axis_init(struct resize_axis *a, int src_n, int dst_n)
{
    a->taps = dst_n < src_n ? src_n / dst_n + 2 : 2;
    a->first = malloc((size_t)dst_n * sizeof *a->first);
    a->count = malloc((size_t)dst_n * sizeof *a->count);
    a->weight = calloc((size_t)dst_n * (size_t)a->taps, sizeof *a->weight);
    if (!a->first || !a->count || !a->weight) {
        axis_free(a);
        return focal_fail(FOCAL_ERR_NOMEM, "out of memory resizing to %d pixels", dst_n);
    }
    for (int i = 0; i < dst_n; i++) {
        float *w = a->weight + (size_t)i * (size_t)a->taps;
        if (dst_n < src_n) {
            const int64_t lo = (int64_t)i * src_n, hi = lo + src_n;
            const int j0 = (int)(lo / dst_n), j1 = (int)((hi - 1) / dst_n);
            a->first[i] = j0;
            a->count[i] = j1 - j0 + 1;
            for (int j = j0; j <= j1; j++) {
                const int64_t jlo = (int64_t)j * dst_n, jhi = jlo + dst_n;
                const int64_t overlap = (hi < jhi ? hi : jhi) - (lo > jlo ? lo : jlo);
                w[j - j0] = (float)((double)overlap / src_n);
            }
        } else if (dst_n == src_n) {
            a->first[i] = i;
            a->count[i] = 1;
            w[0] = 1.0f;
        } else {
            double x = ((double)i + 0.5) * src_n / dst_n - 0.5;
            if (x < 0)
                x = 0;
            if (x > src_n - 1)
                x = src_n - 1;
            const int j = (int)x;
            const double f = x - j;
            a->first[i] = j;
            if (j + 1 < src_n && f > 0) {
                a->count[i] = 2;
                w[0] = (float)(1 - f);
                w[1] = (float)f;
            } else {
                a->count[i] = 1;
                w[0] = 1.0f;
            }
        }
    }
    return FOCAL_OK;
}

/* out (n_out × ch floats) = one source row in (× ch bytes) resampled by ax. */
static void resize_row(float *out, const uint8_t *in, const struct resize_axis *ax, int n_out, int ch)
{
    for (int i = 0; i < n_out; i++) {
        const uint8_t *p = in + (size_t)ax->first[i] * (size_t)ch;
        const float *w = ax->weight + (size_t)i * (size_t)ax->taps;
        const int n = ax->count[i];
        if (ch == 3) {
            float r = 0, g = 0, b = 0;
            for (int k = 0; k < n; k++, p += 3) {
                r += w[k] * p[0];
                g += w[k] * p[1];
                b += w[k] * p[2];
            }
            out[3 * i] = r;
            out[3 * i + 1] = g;
            out[3 * i + 2] = b;
        } else {
            float s = 0;
            for (int k = 0; k < n; k++)
                s += w[k] * p[k];
            out[i] = s;
        }
    }
}

focal_status focal_image_resize(struct focal_image *dst, const struct focal_image *src, int width, int height)
{
    struct resize_axis ax = { 0 }, ay = { 0 };
    focal_status st;
    float *ring = NULL, *acc = NULL;

    image_check_arg(src);
    assert(dst != src);
    memset(dst, 0, sizeof *dst);
    if (width < 1 || height < 1 || width > FOCAL_IMAGE_MAX_SIDE || height > FOCAL_IMAGE_MAX_SIDE ||
        (uint64_t)width * (uint64_t)height > FOCAL_IMAGE_MAX_PIXELS)
        return focal_fail(FOCAL_ERR_ARG, "cannot resize to %dx%d; expected 1..%d pixels per side and at most %llu in all",
                          width, height, FOCAL_IMAGE_MAX_SIDE, (unsigned long long)FOCAL_IMAGE_MAX_PIXELS);
    if ((st = axis_init(&ax, src->width, width)) != FOCAL_OK)
        return st;
    if ((st = axis_init(&ay, src->height, height)) != FOCAL_OK)
        goto out;

    /* Rows resized horizontally are kept in a ring of ay.taps rows: target
     * row y needs source rows first[y] .. first[y]+count[y]−1, first[] never
     * decreases, so a slot is reused only once its row is no longer needed. */
    const int ch = src->channels, ring_n = ay.taps;
    const size_t row_len = (size_t)width * (size_t)ch;
    ring = malloc((size_t)ring_n * row_len * sizeof *ring);
    acc = malloc(row_len * sizeof *acc);
    dst->data = malloc(row_len * (size_t)height);
    if (!ring || !acc || !dst->data) {
        st = focal_fail(FOCAL_ERR_NOMEM, "out of memory resizing to %dx%d", width, height);
        goto out;
    }
    const size_t src_stride = (size_t)src->width * (size_t)ch;
    int next = 0;  /* the next source row not yet resized horizontally */
    for (int y = 0; y < height; y++) {
        const int f = ay.first[y], n = ay.count[y];
        const float *w = ay.weight + (size_t)y * (size_t)ay.taps;
        if (next < f)
            next = f;
        for (; next < f + n; next++)
            resize_row(ring + (size_t)(next % ring_n) * row_len, src->data + (size_t)next * src_stride, &ax,
                       width, ch);
        const float *r0 = ring + (size_t)(f % ring_n) * row_len;
        for (size_t i = 0; i < row_len; i++)
            acc[i] = w[0] * r0[i];
        for (int k = 1; k < n; k++) {
            const float *rk = ring + (size_t)((f + k) % ring_n) * row_len;
            const float wk = w[k];
            for (size_t i = 0; i < row_len; i++)
                acc[i] += wk * rk[i];
        }
        uint8_t *o = dst->data + (size_t)y * row_len;
        for (size_t i = 0; i < row_len; i++) {
            const float v = acc[i] + 0.5f;
            o[i] = v <= 0 ? 0 : v >= 255 ? 255 : (uint8_t)v;
        }
    }
    dst->width = width;
    dst->height = height;
    dst->channels = ch;
out:
    if (st != FOCAL_OK)
        focal_image_release(dst);
    free(ring);
    free(acc);
    axis_free(&ax);
    axis_free(&ay);
    return st;
}

focal_status focal_image_crop(struct focal_image *dst, const struct focal_image *src, int x, int y, int w, int h)
{
    image_check_arg(src);
    assert(dst != src);
    memset(dst, 0, sizeof *dst);
    if (x < 0 || y < 0 || w < 1 || h < 1 || w > src->width - x || h > src->height - y)
        return focal_fail(FOCAL_ERR_ARG, "crop (x %d, y %d, width %d, height %d) does not lie inside the %dx%d image",
                          x, y, w, h, src->width, src->height);
    const size_t ch = (size_t)src->channels, row = (size_t)w * ch;
    dst->data = malloc(row * (size_t)h);
    if (!dst->data)
        return focal_fail(FOCAL_ERR_NOMEM, "out of memory cropping to %dx%d", w, h);
    for (int r = 0; r < h; r++)
        memcpy(dst->data + (size_t)r * row, src->data + ((size_t)(y + r) * (size_t)src->width + (size_t)x) * ch, row);
    dst->width = w;
    dst->height = h;
    dst->channels = src->channels;
    return FOCAL_OK;
}

/* The brightest channel of the pixel at p. */
static inline int pixel_max(const uint8_t *p, int ch)
{
    if (ch == 1)
        return p[0];
    int m = p[0] > p[1] ? p[0] : p[1];
    return m > p[2] ? m : p[2];
}

/* The longest run [*lo, *hi] of indices in [0, n) whose count reaches
 * `least`, bridging up to `gap` indices below it; returns its length, 0 (and
 * *lo, *hi untouched) when no count reaches `least`. */
static int longest_run(const int *count, int n, int least, int gap, int *lo, int *hi)
{
    int best = 0, start = -1, last = -1;
    for (int i = 0; i < n; i++) {
        if (count[i] < least)
            continue;
        if (start < 0 || i - last - 1 > gap)
            start = i;
        last = i;
        if (last - start + 1 > best) {
            best = last - start + 1;
            *lo = start;
            *hi = last;
        }
    }
    return best;
}

/* The count that makes a row or column part of the retina, given the
 * largest count among them. */
static int line_least(const int *count, int n)
{
    int top = 0;
    for (int i = 0; i < n; i++)
        top = count[i] > top ? count[i] : top;
    const int least = (int)(FUNDUS_LINE_FRAC * top + 0.999);
    return least > FUNDUS_LINE_MIN ? least : FUNDUS_LINE_MIN;
}

/* The brightness threshold of img's retina, or −1 if img is too dark to
 * have one. */
static int fundus_threshold(const struct focal_image *img)
{
    int64_t hist[256] = { 0 }, total = 0;
    const int ch = img->channels;
    const int sy = img->height > FUNDUS_SAMPLES_PER_SIDE ? img->height / FUNDUS_SAMPLES_PER_SIDE : 1;
    const int sx = img->width > FUNDUS_SAMPLES_PER_SIDE ? img->width / FUNDUS_SAMPLES_PER_SIDE : 1;
    for (int y = 0; y < img->height; y += sy) {
        const uint8_t *row = img->data + (size_t)y * (size_t)img->width * (size_t)ch;
        for (int x = 0; x < img->width; x += sx, total++)
            hist[pixel_max(row + (size_t)x * (size_t)ch, ch)]++;
    }
    int64_t below = 0;
    int p = 0;
    while (p < 255 && below + hist[p] < (int64_t)(FUNDUS_PERCENTILE * (double)total))
        below += hist[p++];
    if (p < FUNDUS_DARK)
        return -1;
    const int t = p / FUNDUS_T_DIV;
    return t < FUNDUS_T_MIN ? FUNDUS_T_MIN : t > FUNDUS_T_MAX ? FUNDUS_T_MAX : t;
}

int focal_image_fundus_box(const struct focal_image *img, int *x, int *y, int *w, int *h)
{
    image_check_arg(img);
    const int W = img->width, H = img->height, ch = img->channels;
    int found = 0, y0 = 0, y1 = H - 1, x0 = 0, x1 = W - 1;
    *x = 0;
    *y = 0;
    *w = W;
    *h = H;
    const int t = fundus_threshold(img);
    if (t < 0)
        return 1;
    int *rows = calloc((size_t)H, sizeof *rows), *cols = calloc((size_t)W, sizeof *cols);
    if (!rows || !cols)
        goto out;
    for (int r = 0; r < H; r++) {
        const uint8_t *p = img->data + (size_t)r * (size_t)W * (size_t)ch;
        int n = 0;
        for (int c = 0; c < W; c++, p += ch)
            n += pixel_max(p, ch) > t;
        rows[r] = n;
    }
    if (longest_run(rows, H, line_least(rows, H), (int)(FUNDUS_GAP_FRAC * H), &y0, &y1) == 0)
        goto out;
    for (int r = y0; r <= y1; r++) {
        const uint8_t *p = img->data + (size_t)r * (size_t)W * (size_t)ch;
        for (int c = 0; c < W; c++, p += ch)
            cols[c] += pixel_max(p, ch) > t;
    }
    if (longest_run(cols, W, line_least(cols, W), (int)(FUNDUS_GAP_FRAC * W), &x0, &x1) == 0)
        goto out;
    if ((x1 - x0 + 1) * FUNDUS_MIN_DIV < W || (y1 - y0 + 1) * FUNDUS_MIN_DIV < H)
        goto out;
    found = 1;
    *x = x0;
    *y = y0;
    *w = x1 - x0 + 1;
    *h = y1 - y0 + 1;
out:
    free(rows);
    free(cols);
    return found ? 0 : 1;
}
