/* test_augment.c — checks the image augmentation against exact expectations:
 * the plain conversion is value/255; flips and 90° turns are exact index
 * remaps (compared with images flipped and turned here); whole-pixel shifts
 * move pixels exactly with zeros moved in; the affine path reproduces linear
 * ramps exactly, which reveals the map it used, and that map has the promised
 * form and ranges; brightness and contrast follow their formula; seeds decide
 * everything; outputs stay in [0, 1]; bad options are refused. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "focal.h"

#define TEST_NAME "test_augment"
#define SEEDS 64

/* An HWC image. */
struct img {
    int h, w, c;
    uint8_t *px;
};

static struct img random_image(int h, int w, int c, uint64_t *rs)
{
    struct img m = { h, w, c, malloc((size_t)h * w * c) };
    for (int k = 0; k < h * w * c; k++)
        m.px[k] = (uint8_t)(check_urand(rs) * 256);
    return m;
}

/* Byte of channel ch at (x, y). */
static uint8_t at(const struct img *m, int x, int y, int ch)
{
    return m->px[(y * m->w + x) * m->c + ch];
}

/* A new image: m flipped left-right (hflip), top-bottom (vflip), then turned a
 * quarter counter-clockwise `quarters` times (square only): a turn takes
 * output (x, y) from input (w−1−y, x), as numpy.rot90. */
static struct img dihedral(const struct img *m, int hflip, int vflip, int quarters)
{
    struct img r = { m->h, m->w, m->c, malloc((size_t)m->h * m->w * m->c) };
    for (int y = 0; y < m->h; y++)
        for (int x = 0; x < m->w; x++)
            for (int ch = 0; ch < m->c; ch++)
                r.px[(y * m->w + x) * m->c + ch] = at(m, hflip ? m->w - 1 - x : x, vflip ? m->h - 1 - y : y, ch);
    for (int q = 0; q < quarters; q++) {
        struct img t = { r.h, r.w, r.c, malloc((size_t)r.h * r.w * r.c) };
        for (int y = 0; y < r.h; y++)
            for (int x = 0; x < r.w; x++)
                for (int ch = 0; ch < r.c; ch++)
                    t.px[(y * r.w + x) * r.c + ch] = at(&r, r.w - 1 - y, x, ch);
        free(r.px);
        r = t;
    }
    return r;
}

/* 1 if out (CHW) is exactly m's bytes / 255. */
static int equals_plain(const float *out, const struct img *m)
{
    for (int ch = 0; ch < m->c; ch++)
        for (int y = 0; y < m->h; y++)
            for (int x = 0; x < m->w; x++)
                if (out[(ch * m->h + y) * m->w + x] != (float)at(m, x, y, ch) / 255.0f)
                    return 0;
    return 1;
}

/* Runs the augmentation on m into a new CHW buffer. */
static float *augment(const struct focal_augment *a, uint64_t seed, const struct img *m)
{
    float *out = malloc((size_t)m->h * m->w * m->c * sizeof *out);
    focal_augment_image(a, seed, m->px, m->h, m->w, m->c, out);
    return out;
}

/* The index (hflip + 2 vflip + 4 quarters) of the first of the 16
 * flip/turn combinations of m that out equals exactly, or −1. */
static int which_dihedral(const float *out, const struct img *m, int turns)
{
    for (int k = 0; k < (turns ? 16 : 4); k++) {
        struct img r = dihedral(m, k & 1, (k >> 1) & 1, k >> 2);
        const int eq = equals_plain(out, &r);
        free(r.px);
        if (eq)
            return k;
    }
    return -1;
}

/* No augmentation: value/255 exactly, whatever the seed. */
static void test_identity(void)
{
    uint64_t rs = 1;
    struct img m = random_image(9, 13, 3, &rs);
    const struct focal_augment zero = { 0 };
    for (uint64_t seed = 0; seed < 4; seed++) {
        float *a = augment(NULL, seed, &m), *b = augment(&zero, seed * 977, &m);
        CHECK(equals_plain(a, &m));
        CHECK(equals_plain(b, &m));
        free(a);
        free(b);
    }
    free(m.px);
}

/* Flips and turns, alone and together, on square and non-square images. */
static void test_flips_and_turns(void)
{
    uint64_t rs = 2;
    struct img sq = random_image(8, 8, 3, &rs), wide = random_image(5, 11, 1, &rs);
    /* Bit k of expect: combination k is the first match of some seed, and no
     * other is. Combinations 0..7 are the 8 distinct symmetries of a square;
     * 8..15 repeat them (h + v is the half turn). */
    const struct focal_augment all = { .hflip = 1, .vflip = 1, .rot90 = 1 };
    const struct {
        struct focal_augment a;
        const struct img *m;
        int seeds;
        unsigned expect;
    } cases[] = {
        { { .hflip = 1 }, &sq, SEEDS, 0x3 },
        { { .vflip = 1 }, &sq, SEEDS, 0x5 },
        { { .rot90 = 1 }, &sq, SEEDS, 0x99 },   /* turns 0, 1, 2 (= h+v, k 3), 3 (= h+v+1, k 7) */
        { all, &sq, 4 * SEEDS, 0xff },
        { all, &wide, SEEDS, 0xf },             /* non-square: flips but no turn */
    };
    for (size_t t = 0; t < sizeof cases / sizeof cases[0]; t++) {
        const int turns = cases[t].m->h == cases[t].m->w;
        unsigned seen = 0;
        int unmatched = 0;
        for (uint64_t seed = 0; seed < (uint64_t)cases[t].seeds; seed++) {
            float *out = augment(&cases[t].a, seed, cases[t].m);
            const int k = which_dihedral(out, cases[t].m, turns);
            unmatched += k < 0;
            if (k >= 0)
                seen |= 1u << k;
            free(out);
        }
        CHECKF(unmatched == 0 && seen == cases[t].expect, "case %zu: combinations seen %#x, expected %#x, %d unmatched",
               t, seen, cases[t].expect, unmatched);
    }

    /* A draw does not depend on the other options: with h alone the image is
     * flipped exactly when it is flipped left-right with h and v together. */
    const struct focal_augment h = { .hflip = 1 }, hv = { .hflip = 1, .vflip = 1 };
    int mismatch = 0;
    for (uint64_t seed = 0; seed < SEEDS; seed++) {
        float *a = augment(&h, seed, &wide), *b = augment(&hv, seed, &wide);
        mismatch += (which_dihedral(a, &wide, 0) & 1) != (which_dihedral(b, &wide, 0) & 1);
        free(a);
        free(b);
    }
    CHECKF(mismatch == 0, "%d seeds flip differently once vflip is on too", mismatch);

    /* The reference turn itself: four quarter turns are the identity. */
    struct img r4 = dihedral(&sq, 0, 0, 4);
    CHECK(memcmp(r4.px, sq.px, (size_t)8 * 8 * 3) == 0);
    free(r4.px);
    free(sq.px);
    free(wide.px);
}

/* Whole-pixel shifts: each output is the input moved by some (dx, dy) within
 * the range, exactly, with zeros moved in. */
static void test_shift(void)
{
    uint64_t rs = 3;
    struct img m = random_image(16, 12, 2, &rs);
    const struct focal_augment a = { .translate = 0.25f };
    const int rx = 3, ry = 4;   /* 0.25 × 12, 0.25 × 16 */
    int unmatched = 0, moved = 0, left = 0, right = 0;
    for (uint64_t seed = 0; seed < SEEDS; seed++) {
        float *out = augment(&a, seed, &m);
        int found = 0;
        for (int dy = -ry; dy <= ry && !found; dy++)
            for (int dx = -rx; dx <= rx && !found; dx++) {
                int eq = 1;
                for (int ch = 0; ch < m.c && eq; ch++)
                    for (int y = 0; y < m.h && eq; y++)
                        for (int x = 0; x < m.w && eq; x++) {
                            const int xs = x - dx, ys = y - dy;
                            const int in = xs >= 0 && xs < m.w && ys >= 0 && ys < m.h;
                            const float want = in ? (float)at(&m, xs, ys, ch) / 255.0f : 0.0f;
                            eq = out[(ch * m.h + y) * m.w + x] == want;
                        }
                if (eq) {
                    found = 1;
                    moved += dx != 0 || dy != 0;
                    left += dx < 0;
                    right += dx > 0;
                }
            }
        unmatched += !found;
        free(out);
    }
    CHECKF(unmatched == 0, "%d of %d shifted images are no whole-pixel shift", unmatched, SEEDS);
    CHECKF(moved > SEEDS / 2 && left > 0 && right > 0, "shifts: %d moved, %d left, %d right", moved, left, right);
    free(m.px);
}

/* The affine path on ramps: channel 0 holds gx·x, channel 1 gy·y, so the
 * (bilinear, hence exact on ramps) output reads back the source position of
 * every pixel. That position must be an affine function of the pixel, the map
 * a rotation (or, with flips, a reflection) by at most `rotate` degrees plus
 * quarter turns, zoomed within range, and pixels whose source lies beyond the
 * border 0. */
static void check_affine(int h, int w, const struct focal_augment *a, int quarters_allowed)
{
    const double gx = 120.0 / (w - 1), gy = 120.0 / (h - 1);
    struct img m = { h, w, 2, malloc((size_t)h * w * 2) };
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            m.px[(y * w + x) * 2] = (uint8_t)lround(gx * x);
            m.px[(y * w + x) * 2 + 1] = (uint8_t)lround(gy * y);
        }
    /* Whole-number ramps: recompute exactly what the bytes hold. */
    int ramp_ok = 1;
    for (int x = 0; x < w; x++)
        ramp_ok &= fabs(gx * x - lround(gx * x)) < 1e-9;
    for (int y = 0; y < h; y++)
        ramp_ok &= fabs(gy * y - lround(gy * y)) < 1e-9;
    CHECKF(ramp_ok, "test data: ramps %g, %g are not whole numbers", gx, gy);

    double angles[SEEDS];
    int bad_form = 0, bad_range = 0, bad_fit = 0, bad_outside = 0, bad_shift = 0;
    for (uint64_t seed = 0; seed < SEEDS; seed++) {
        float *out = augment(a, seed, &m);
        const size_t plane = (size_t)h * w;
#define SRC_X(x, y) (out[(y) * w + (x)] * 255.0 / gx)
#define SRC_Y(x, y) (out[plane + (size_t)(y) * w + (x)] * 255.0 / gy)
        const int x0 = w / 2, y0 = h / 2;
        const double bx = SRC_X(x0, y0), by = SRC_Y(x0, y0);
        const double l00 = SRC_X(x0 + 1, y0) - bx, l01 = SRC_X(x0, y0 + 1) - bx;
        const double l10 = SRC_Y(x0 + 1, y0) - by, l11 = SRC_Y(x0, y0 + 1) - by;
        const double det = l00 * l11 - l01 * l10;
        /* A similarity: rotation [[a, b], [−b, a]] or reflection [[a, b], [b, −a]]. */
        const int rotation = det > 0;
        bad_form += rotation ? fabs(l00 - l11) > 1e-3 || fabs(l01 + l10) > 1e-3
                             : fabs(l00 + l11) > 1e-3 || fabs(l01 - l10) > 1e-3;
        const double zoom = 1.0 / hypot(l00, l01);
        double deg = atan2(l01, l00) * 180.0 / 3.14159265358979323846;
        if (quarters_allowed)
            deg = remainder(deg, 90.0);
        angles[seed] = deg;
        bad_range += fabs(deg) > a->rotate + 1e-2 || zoom < 1 - a->scale - 1e-3 || zoom > 1 + a->scale + 1e-3;
        if (!quarters_allowed && rotation) {
            /* p = c + L(p' − c − t): t = p' − c − L⁻¹(p − c), a whole number. */
            const double cx = 0.5 * (w - 1), cy = 0.5 * (h - 1), ux = bx - cx, uy = by - cy;
            const double tx = x0 - cx - (l11 * ux - l01 * uy) / det, ty = y0 - cy - (-l10 * ux + l00 * uy) / det;
            bad_shift += fabs(tx - nearbyint(tx)) > 1e-2 || fabs(ty - nearbyint(ty)) > 1e-2 ||
                         fabs(tx) > a->translate * w + 1e-9 || fabs(ty) > a->translate * h + 1e-9;
        }
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++) {
                const double px = bx + l00 * (x - x0) + l01 * (y - y0), py = by + l10 * (x - x0) + l11 * (y - y0);
                if (px >= 0.01 && px <= w - 1.01 && py >= 0.01 && py <= h - 1.01)
                    bad_fit += fabs(SRC_X(x, y) - px) > 2e-3 || fabs(SRC_Y(x, y) - py) > 2e-3;
                else if (px < -1.01 || px > w + 0.01 || py < -1.01 || py > h + 0.01)
                    bad_outside += out[y * w + x] != 0.0f || out[plane + (size_t)y * w + x] != 0.0f;
            }
#undef SRC_X
#undef SRC_Y
        free(out);
    }
    int distinct = 0;
    for (int s = 1; s < SEEDS; s++)
        distinct += fabs(angles[s] - angles[0]) > 1e-3;
    CHECKF(bad_form == 0 && bad_range == 0 && bad_shift == 0,
           "%dx%d: %d maps not similarities, %d out of range, %d shifts not whole or too far", h, w, bad_form,
           bad_range, bad_shift);
    CHECKF(bad_fit == 0 && bad_outside == 0, "%dx%d: %d pixels off the map, %d outside pixels not 0", h, w, bad_fit,
           bad_outside);
    CHECKF(distinct > SEEDS / 2, "%dx%d: only %d seeds drew another angle than seed 0", h, w, distinct);
    free(m.px);
}

static void test_affine(void)
{
    const struct focal_augment affine = { .rotate = 20, .scale = 0.15f, .translate = 0.1f };
    check_affine(25, 41, &affine, 0);
    check_affine(31, 31, &affine, 0);
    const struct focal_augment all = { .hflip = 1, .vflip = 1, .rot90 = 1, .rotate = 15, .scale = 0.1f };
    check_affine(31, 31, &all, 1);

    /* A tiny rotation goes through the bilinear path and stays ≈ the input. */
    uint64_t rs = 4;
    struct img m = random_image(12, 12, 3, &rs);
    const struct focal_augment tiny = { .rotate = 1e-3f };
    float *out = augment(&tiny, 5, &m);
    double worst = 0;
    for (int ch = 0; ch < 3; ch++)
        for (int y = 0; y < 12; y++)
            for (int x = 0; x < 12; x++)
                worst = fmax(worst, fabs(out[(ch * 12 + y) * 12 + x] - at(&m, x, y, ch) / 255.0));
    CHECKF(worst < 1e-3, "a 0.001° rotation moved a value by %g", worst);
    free(out);
    free(m.px);
}

/* Brightness and contrast: out = clamp(m + c(v − m) + b, 0, 1), m the mean of
 * v = byte/255, c and b recovered from two unclamped pixels and then checked
 * on every pixel. */
static void test_photometric(void)
{
    uint64_t rs = 5;
    struct img m = random_image(10, 14, 3, &rs);
    const int count = 10 * 14 * 3;
    double mean = 0;
    for (int k = 0; k < count; k++)
        mean += m.px[k] / 255.0;
    mean /= count;
    /* Two pixels (flat index) near mean − 0.2 and mean + 0.2: unclamped for
     * c <= 1.4, |b| <= 0.2. */
    int lo = 0, hi = 0;
    for (int k = 0; k < count; k++) {
        if (fabs(m.px[k] / 255.0 - (mean - 0.2)) < fabs(m.px[lo] / 255.0 - (mean - 0.2)))
            lo = k;
        if (fabs(m.px[k] / 255.0 - (mean + 0.2)) < fabs(m.px[hi] / 255.0 - (mean + 0.2)))
            hi = k;
    }
    const struct {
        struct focal_augment a;
        double cmax, bmax;
    } cases[] = {
        { { .brightness = 0.2f }, 0.0, 0.2 },
        { { .contrast = 0.4f }, 0.4, 0.0 },
        { { .brightness = 0.2f, .contrast = 0.4f }, 0.4, 0.2 },
    };
    for (int t = 0; t < 3; t++) {
        int bad = 0, range = 0, clamped = 0;
        double first_c = 0, first_b = 0;
        int varied = 0;
        for (uint64_t seed = 0; seed < SEEDS; seed++) {
            float *out = augment(&cases[t].a, seed, &m);
            /* out index of HWC flat index k: channel-major. */
#define OUT(k) out[((k) % 3) * 140 + (k) / 3]
            const double vl = m.px[lo] / 255.0, vh = m.px[hi] / 255.0;
            const double c = (OUT(hi) - OUT(lo)) / (vh - vl);
            const double b = OUT(lo) - mean - c * (vl - mean);
            range += fabs(c - 1) > cases[t].cmax + 1e-5 || fabs(b) > cases[t].bmax + 1e-5;
            for (int k = 0; k < count; k++) {
                const double x = mean + c * (m.px[k] / 255.0 - mean) + b;
                bad += fabs(OUT(k) - (x < 0 ? 0 : x > 1 ? 1 : x)) > 2e-6;
                clamped += x < 0 || x > 1;
            }
#undef OUT
            if (seed == 0) {
                first_c = c;
                first_b = b;
            }
            varied += fabs(c - first_c) > 1e-4 || fabs(b - first_b) > 1e-4;
            free(out);
        }
        CHECKF(bad == 0 && range == 0, "photometric case %d: %d values off the formula, %d factors out of range", t,
               bad, range);
        CHECKF(varied > SEEDS / 2, "photometric case %d: only %d seeds drew other factors", t, varied);
        CHECKF(t == 1 || clamped > 0, "photometric case %d: no value was clamped, clamping untested", t);
    }

    /* Moved-in pixels stay 0 under brightness: a flat image shifted. */
    struct img flat = { 8, 8, 1, malloc(64) };
    memset(flat.px, 128, 64);
    const struct focal_augment sb = { .translate = 0.25f, .brightness = 0.3f };
    int zeros = 0, other = 0;
    for (uint64_t seed = 0; seed < SEEDS; seed++) {
        float *out = augment(&sb, seed, &flat);
        float lit = 0.0f;
        for (int k = 0; k < 64; k++)
            if (out[k] != 0.0f)
                lit = out[k];
        for (int k = 0; k < 64; k++) {
            zeros += out[k] == 0.0f;
            other += out[k] != 0.0f && out[k] != lit;
        }
        free(out);
    }
    CHECKF(zeros > 0 && other == 0, "shift + brightness: %d zero pixels, %d pixels neither 0 nor the lit value", zeros,
           other);
    free(flat.px);
    free(m.px);
}

/* Everything on: same seed same output, other seeds other outputs, all values
 * finite and in [0, 1]. */
static void test_seeds_and_range(void)
{
    uint64_t rs = 6;
    struct img m = random_image(20, 20, 3, &rs);
    m.px[0] = 0;
    m.px[1] = 255;
    const struct focal_augment all = { 1, 1, 1, 30.0f, 0.3f, 0.2f, 0.5f, 0.5f };
    const size_t len = 20 * 20 * 3;
    int same = 0, repeat_differs = 0, out_of_range = 0;
    float *prev = augment(&all, 0, &m);
    for (uint64_t seed = 1; seed < SEEDS; seed++) {
        float *a = augment(&all, seed, &m), *b = augment(&all, seed, &m);
        repeat_differs += memcmp(a, b, len * sizeof *a) != 0;
        same += memcmp(a, prev, len * sizeof *a) == 0;
        for (size_t k = 0; k < len; k++)
            out_of_range += !(a[k] >= 0.0f && a[k] <= 1.0f);
        free(prev);
        free(b);
        prev = a;
    }
    free(prev);
    CHECKF(repeat_differs == 0, "%d seeds gave two different outputs", repeat_differs);
    CHECKF(same == 0, "%d consecutive seeds gave the same output", same);
    CHECKF(out_of_range == 0, "%d values outside [0, 1]", out_of_range);
    free(m.px);
}

/* focal_augment_check refuses each field out of range, naming it. */
static void test_check(void)
{
    const struct focal_augment ok = { 1, 1, 1, 180.0f, 0.9f, 1.0f, 1.0f, 1.0f };
    CHECK(focal_augment_check(&ok) == FOCAL_OK);
    CHECK(focal_augment_check(NULL) == FOCAL_OK);
    const struct {
        struct focal_augment a;
        const char *field;
    } bad[] = {
        { { .rotate = -1 }, "rotate" },
        { { .rotate = NAN }, "rotate" },
        { { .scale = 1.0f }, "scale" },
        { { .translate = 1.5f }, "translate" },
        { { .brightness = INFINITY }, "brightness" },
        { { .contrast = 2.0f }, "contrast" },
    };
    for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
        CHECK(focal_augment_check(&bad[k].a) == FOCAL_ERR_ARG);
        CHECKF(strstr(focal_last_error(), bad[k].field) != NULL, "message '%s' does not name %s", focal_last_error(),
               bad[k].field);
    }
}

int main(void)
{
    test_identity();
    test_flips_and_turns();
    test_shift();
    test_affine();
    test_photometric();
    test_seeds_and_range();
    test_check();
    return check_done(TEST_NAME);
}
