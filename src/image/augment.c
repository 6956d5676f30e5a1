/* augment.c — training-time image augmentation fused with the conversion of
 * an 8-bit HWC image to CHW floats.
 *
 * The photometric part (brightness, contrast) acts on the 256 possible byte
 * values, so it is one table built per image. The geometric part (flips, 90°
 * rotations, the random affine) is one inverse map from output pixel to input
 * position: when that map is a whole-pixel one (no rotation or zoom drawn) the
 * output is a plain index remap of the table's values; otherwise each output
 * value is the bilinear interpolation of the four input pixels around its
 * source position, with zeros outside the image. */
#include <assert.h>
#include <math.h>

#include "focal/image.h"
#include "base/internal.h"
#include "base/rng.h"

/* Mixed into the seed so that an image's transform is not drawn from the same
 * stream as a sampler or a split given the same seed. */
#define AUGMENT_STREAM 0x4155474d454e54ull

#define RADIANS_PER_DEGREE (3.14159265358979323846 / 180.0)

/* An affine map p' = (m[0] x + m[1] y + m[2], m[3] x + m[4] y + m[5]). */
struct affine {
    double m[6];
};

/* One image's drawn transform. */
struct transform {
    struct affine inv;       /* output pixel -> input position */
    double contrast;         /* photometric factor c about the image mean */
    double brightness;       /* photometric shift b */
};

focal_status focal_augment_check(const struct focal_augment *a)
{
    if (!a)
        return FOCAL_OK;
    const struct {
        const char *name;
        float value, max;
        const char *range;
    } f[] = {
        { "rotate", a->rotate, 180.0f, "0 to 180 degrees" },
        { "scale", a->scale, nextafterf(1.0f, 0.0f), "in [0, 1)" },
        { "translate", a->translate, 1.0f, "0 to 1 (a fraction of the image size)" },
        { "brightness", a->brightness, 1.0f, "0 to 1" },
        { "contrast", a->contrast, 1.0f, "0 to 1" },
    };
    for (size_t k = 0; k < sizeof f / sizeof f[0]; k++)
        if (!(f[k].value >= 0 && f[k].value <= f[k].max))
            return focal_fail(FOCAL_ERR_ARG, "augmentation %s is %g; expected %s", f[k].name, (double)f[k].value,
                              f[k].range);
    return FOCAL_OK;
}

/* *t = l ∘ *t: the map that applies *t, then l. */
static void affine_then(struct affine *t, const struct affine *l)
{
    const double *a = l->m, *b = t->m;
    const struct affine r = { {
        a[0] * b[0] + a[1] * b[3], a[0] * b[1] + a[1] * b[4], a[0] * b[2] + a[1] * b[5] + a[2],
        a[3] * b[0] + a[4] * b[3], a[3] * b[1] + a[4] * b[4], a[3] * b[2] + a[4] * b[5] + a[5],
    } };
    *t = r;
}

/* A uniform value in [−m, m] (0 when m is 0). */
static double draw_sym(struct focal_rng *r, float m)
{
    return (2.0 * (double)focal_rng_uniform(r) - 1.0) * (double)m;
}

/* Draws the transform of one image from seed. Every random value is drawn
 * whether or not its option is on, in a fixed order, so that an option's draw
 * for a given seed does not depend on the other options. The forward chain is
 * flips, then the 90° rotation, then the affine; *t receives its inverse. */
static void draw_transform(const struct focal_augment *a, uint64_t seed, int height, int width,
                           struct transform *t)
{
    struct focal_rng r;
    focal_rng_seed(&r, seed ^ AUGMENT_STREAM);
    const int hflip = focal_rng_uniform(&r) < 0.5f;
    const int vflip = focal_rng_uniform(&r) < 0.5f;
    const int quarter = (int)(focal_rng_uniform(&r) * 4.0f);
    const double angle = draw_sym(&r, a->rotate) * RADIANS_PER_DEGREE;
    const double zoom = 1.0 + draw_sym(&r, a->scale);
    const double tx = nearbyint(draw_sym(&r, a->translate) * width);
    const double ty = nearbyint(draw_sym(&r, a->translate) * height);
    const double bright = draw_sym(&r, a->brightness);
    const double contrast = 1.0 + draw_sym(&r, a->contrast);

    /* Inverse affine about the centre c: p = c + R(−θ)(p' − c − t)/s. */
    const double cx = 0.5 * (width - 1), cy = 0.5 * (height - 1);
    const double co = cos(angle) / zoom, si = sin(angle) / zoom;
    const double ux = cx + tx, uy = cy + ty;
    t->inv = (struct affine){ { co, si, cx - co * ux - si * uy, -si, co, cy + si * ux - co * uy } };
    /* Inverse of one counter-clockwise quarter turn of a square image of side
     * width: output (x, y) comes from input (width−1−y, x). */
    const struct affine quarter_inv = { { 0, -1, width - 1, 1, 0, 0 } };
    for (int k = 0; a->rot90 && height == width && k < quarter; k++)
        affine_then(&t->inv, &quarter_inv);
    if (a->hflip && hflip)
        affine_then(&t->inv, &(struct affine){ { -1, 0, width - 1, 0, 1, 0 } });
    if (a->vflip && vflip)
        affine_then(&t->inv, &(struct affine){ { 1, 0, 0, 0, -1, height - 1 } });

    t->contrast = contrast;
    t->brightness = bright;
}

/* table[v] for every byte v: clamp(m + c·(v/255 − m) + b, 0, 1), m the mean
 * of the image's bytes / 255 (computed only when c ≠ 1); exactly (float)v/255
 * when c = 1 and b = 0. */
static void build_table(float table[256], const struct transform *t, const uint8_t *hwc, size_t count)
{
    if (t->contrast == 1.0 && t->brightness == 0.0) {
        for (int v = 0; v < 256; v++)
            table[v] = (float)v / 255.0f;
        return;
    }
    double mean = 0;
    if (t->contrast != 1.0) {
        uint64_t sum = 0;
        for (size_t k = 0; k < count; k++)
            sum += hwc[k];
        mean = (double)sum / ((double)count * 255.0);
    }
    for (int v = 0; v < 256; v++) {
        const double x = mean + t->contrast * (v / 255.0 - mean) + t->brightness;
        table[v] = (float)(x < 0 ? 0 : x > 1 ? 1 : x);
    }
}

/* 1 if every coefficient of t is a whole number: the map moves whole pixels. */
static int whole_pixels(const struct affine *t)
{
    for (int k = 0; k < 6; k++)
        if (t->m[k] != floor(t->m[k]))
            return 0;
    return 1;
}

/* 1 if t maps every pixel to itself. */
static int is_identity(const struct affine *t)
{
    const double *m = t->m;
    return m[0] == 1 && m[1] == 0 && m[2] == 0 && m[3] == 0 && m[4] == 1 && m[5] == 0;
}

/* out (C,H,W) = table[hwc] moved by the whole-pixel map t; 0 where the source
 * pixel lies outside the image. */
static void remap(float *out, const float table[256], const struct affine *t, const uint8_t *hwc, int height,
                  int width, int channels)
{
    const size_t plane = (size_t)height * (size_t)width;
    const long a = (long)t->m[0], b = (long)t->m[1], e = (long)t->m[2];
    const long c = (long)t->m[3], d = (long)t->m[4], f = (long)t->m[5];
    for (int y = 0; y < height; y++) {
        float *row = out + (size_t)y * (size_t)width;
        for (int x = 0; x < width; x++) {
            const long xs = a * x + b * y + e, ys = c * x + d * y + f;
            if (xs < 0 || xs >= width || ys < 0 || ys >= height) {
                for (int ch = 0; ch < channels; ch++)
                    row[(size_t)ch * plane + (size_t)x] = 0.0f;
                continue;
            }
            const uint8_t *p = hwc + ((size_t)ys * (size_t)width + (size_t)xs) * (size_t)channels;
            for (int ch = 0; ch < channels; ch++)
                row[(size_t)ch * plane + (size_t)x] = table[p[ch]];
        }
    }
}

/* table[] of channel ch of pixel (x, y), or 0 outside the image. */
static float tap(const float table[256], const uint8_t *hwc, int height, int width, int channels, int x, int y,
                 int ch)
{
    if (x < 0 || x >= width || y < 0 || y >= height)
        return 0.0f;
    return table[hwc[((size_t)y * (size_t)width + (size_t)x) * (size_t)channels + (size_t)ch]];
}

/* v limited to [−2, lim] (NaN: −2); a position beyond either bound samples
 * only zeros, and the limits keep its floor within int range. */
static float clamp_pos(float v, float lim)
{
    return !(v >= -2.0f) ? -2.0f : v > lim ? lim : v;
}

/* floor(v) for v >= −2, without a library call: truncation of v + 2, less
 * one where rounding v + 2 up reached the next whole number. */
static int floor_pos(float v)
{
    const int f = (int)(v + 2.0f) - 2;
    return (float)f > v ? f - 1 : f;
}

/* out (C,H,W) = bilinear interpolation of table[hwc], extended by zeros
 * beyond its border, at the positions t gives each output pixel. */
static void resample(float *out, const float table[256], const struct affine *t, const uint8_t *hwc, int height,
                     int width, int channels)
{
    const size_t plane = (size_t)height * (size_t)width, stride = (size_t)width * (size_t)channels;
    const float a = (float)t->m[0], b = (float)t->m[1], e = (float)t->m[2];
    const float c = (float)t->m[3], d = (float)t->m[4], f = (float)t->m[5];
    const float xlim = (float)width + 1.0f, ylim = (float)height + 1.0f;
    for (int y = 0; y < height; y++) {
        float *row = out + (size_t)y * (size_t)width;
        const float xr = b * (float)y + e, yr = d * (float)y + f;
        for (int x = 0; x < width; x++) {
            const float xf = clamp_pos(xr + a * (float)x, xlim), yf = clamp_pos(yr + c * (float)x, ylim);
            const int x0 = floor_pos(xf), y0 = floor_pos(yf);
            const float fx = xf - (float)x0, fy = yf - (float)y0;   /* in [0, 1] */
            const float w00 = (1 - fx) * (1 - fy), w01 = fx * (1 - fy), w10 = (1 - fx) * fy, w11 = fx * fy;
            if (x0 >= 0 && y0 >= 0 && x0 + 1 < width && y0 + 1 < height) {
                const uint8_t *p = hwc + (size_t)y0 * stride + (size_t)x0 * (size_t)channels;
                for (int ch = 0; ch < channels; ch++) {
                    const float v = w00 * table[p[ch]] + w01 * table[p[channels + ch]] +
                                    w10 * table[p[stride + ch]] + w11 * table[p[stride + channels + ch]];
                    row[(size_t)ch * plane + (size_t)x] = v > 1.0f ? 1.0f : v;
                }
                continue;
            }
            /* Near or beyond the border: zero for each tap outside. */
            for (int ch = 0; ch < channels; ch++) {
                const float v = w00 * tap(table, hwc, height, width, channels, x0, y0, ch) +
                                w01 * tap(table, hwc, height, width, channels, x0 + 1, y0, ch) +
                                w10 * tap(table, hwc, height, width, channels, x0, y0 + 1, ch) +
                                w11 * tap(table, hwc, height, width, channels, x0 + 1, y0 + 1, ch);
                row[(size_t)ch * plane + (size_t)x] = v > 1.0f ? 1.0f : v;
            }
        }
    }
}

void focal_augment_image(const struct focal_augment *a, uint64_t seed, const uint8_t *hwc, int height, int width,
                         int channels, float *out)
{
    assert(hwc && out && height > 0 && width > 0 && channels > 0);
    assert(focal_augment_check(a) == FOCAL_OK);
    static const struct focal_augment none;
    struct transform t;
    draw_transform(a ? a : &none, seed, height, width, &t);
    float table[256];
    const size_t count = (size_t)height * (size_t)width * (size_t)channels;
    build_table(table, &t, hwc, count);
    if (is_identity(&t.inv)) {
        const size_t plane = (size_t)height * (size_t)width;
        for (int ch = 0; ch < channels; ch++)
            for (size_t k = 0; k < plane; k++)
                out[(size_t)ch * plane + k] = table[hwc[k * (size_t)channels + (size_t)ch]];
    } else if (whole_pixels(&t.inv)) {
        remap(out, table, &t.inv, hwc, height, width, channels);
    } else {
        resample(out, table, &t.inv, hwc, height, width, channels);
    }
}
