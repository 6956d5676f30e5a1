/* synth_draw.c — one sample of the synthetic, RFMiD-shaped, multi-label
 * fundus dataset: the conditions with their prevalences, the sample's labels,
 * and its image: an orange-red retina disc on black with an optic disc, a
 * macula and branching vessels, plus the signs of the conditions it was drawn
 * with, under random nuisance changes (position, size, rotation, eye side,
 * brightness, tint, gamma, uneven illumination, noise). Each sample is drawn
 * from its own generator seeded by (seed, index), so a dataset does not depend
 * on the order or the thread count in which its samples are drawn. Writing the
 * dataset folder is in synth_write.c. */
#include <assert.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "focal/data.h"
#include "base/internal.h"
#include "base/rng.h"

#define SYNTH_PI 3.14159265358979f
#define SYNTH_DEG (SYNTH_PI / 180.0f)

/* Column order = label order; prevalences fall off in a long tail as
 * RFMiD's do. Each sign is drawn large enough to be seen at 64×64. */
static const struct focal_synth_condition synth_conditions[FOCAL_SYNTH_CONDITIONS] = {
    { "DR", "diabetic retinopathy: red dots, blots, some yellow exudates", 0.20 },
    { "MH", "media haze: a blurred, veiled, low-contrast picture", 0.12 },
    { "ODC", "optic disc cupping: a pale cup filling most of the disc", 0.08 },
    { "DN", "drusen: pale yellow dots around the macula", 0.05 },
    { "MYA", "myopia: a pale crescent beside the optic disc, paler fundus", 0.03 },
    { "BRVO", "branch vein occlusion: flame haemorrhages along one vein", 0.02 },
    { "TV", "tortuous vessels: every vessel winds", 0.012 },
    { "LS", "laser scars: dark-rimmed pale spots in the periphery", 0.008 },
    { "CWS", "cotton wool spots: soft white patches by the arcades", 0.005 },
    { "MHL", "macular hole: a sharp dark red disc at the fovea, pale cuff", 0.003 },
};
enum { C_DR, C_MH, C_ODC, C_DN, C_MYA, C_BRVO, C_TV, C_LS, C_CWS, C_MHL };

const struct focal_synth_condition *focal_synth_conditions(void)
{
    return synth_conditions;
}

/* ---- random numbers ------------------------------------------------------ */

/* The seed of sample `index`'s generator: a bijective mix of both, so that
 * neighbouring indices and seeds give unrelated streams. */
static uint64_t synth_stream(uint64_t seed, int64_t index)
{
    uint64_t z = seed ^ ((uint64_t)index * 0xd1b54a32d192ed03ull + 0x8cb92ba72f3d8dd7ull);
    z = (z ^ (z >> 32)) * 0xd6e8feb86659fd93ull;
    z = (z ^ (z >> 32)) * 0xd6e8feb86659fd93ull;
    return z ^ (z >> 32);
}

/* Uniform in [a, b). */
static float unif(struct focal_rng *r, float a, float b)
{
    return a + (b - a) * focal_rng_uniform(r);
}

/* Standard normal (Box–Muller; the 24-bit uniform is kept away from 0). */
static float gauss(struct focal_rng *r)
{
    const float u = (focal_rng_uniform(r) + 0x1.0p-25f), v = focal_rng_uniform(r);
    return sqrtf(-2.0f * logf(u)) * cosf(2.0f * SYNTH_PI * v);
}

/* 1 with probability p. */
static int chance(struct focal_rng *r, float p)
{
    return focal_rng_uniform(r) < p;
}

/* ---- the canvas and its primitives ---------------------------------------- */

/* The background's plane waves; its tables (sine and cosine of each wave
 * along x, and the macula's Gaussian along x) fill the canvas's scratch,
 * which blurring also uses (one line). */
#define TEXTURE_WAVES 6
#define CANVAS_SCRATCH (2 * TEXTURE_WAVES + 1)

/* Drawing in pixel units on a float RGB canvas (values about 0..1). Vessels
 * are first drawn as coverage into a mask, so that overlapping segments of
 * one tree do not darken twice, then laid on in one colour. */
struct canvas {
    int n;               /* side in pixels */
    float *rgb;          /* n × n × 3 */
    float *mask;         /* n × n coverage in [0, 1] */
    float *tmp;          /* CANVAS_SCRATCH × n floats of scratch */
};

/* Pixel bounds [*x0, *x1] × [*y0, *y1] of a square of radius `reach` around
 * (x, y), clipped to the canvas; 0 if empty. */
static int clip_box(const struct canvas *c, float x, float y, float reach, int *x0, int *x1, int *y0, int *y1)
{
    *x0 = (int)floorf(x - reach);
    *x1 = (int)ceilf(x + reach);
    *y0 = (int)floorf(y - reach);
    *y1 = (int)ceilf(y + reach);
    *x0 = *x0 < 0 ? 0 : *x0;
    *y0 = *y0 < 0 ? 0 : *y0;
    *x1 = *x1 > c->n - 1 ? c->n - 1 : *x1;
    *y1 = *y1 > c->n - 1 ? c->n - 1 : *y1;
    return *x0 <= *x1 && *y0 <= *y1;
}

static float clamp01(float v)
{
    return v < 0 ? 0 : v > 1 ? 1 : v;
}

/* p ← p + (col − p)·a */
static void blend(float *p, const float col[3], float a)
{
    for (int k = 0; k < 3; k++)
        p[k] += (col[k] - p[k]) * a;
}

/* An ellipse with semi-axes a (along angle) and b, centre (x, y), edges
 * anti-aliased over a pixel, laid on with opacity alpha; soft > 0 instead
 * fades it out like a Gaussian of that many semi-axes. */
static void draw_ellipse(struct canvas *c, float x, float y, float a, float b, float angle, const float col[3],
                         float alpha, float soft)
{
    int x0, x1, y0, y1;
    const float reach = (a > b ? a : b) * (soft > 0 ? 3.0f * soft : 1.0f) + 1.0f;
    if (!clip_box(c, x, y, reach, &x0, &x1, &y0, &y1))
        return;
    const float cs = cosf(angle), sn = sinf(angle), edge = a < b ? a : b;
    for (int py = y0; py <= y1; py++)
        for (int px = x0; px <= x1; px++) {
            const float dx = (float)px + 0.5f - x, dy = (float)py + 0.5f - y;
            const float u = (dx * cs + dy * sn) / a, v = (-dx * sn + dy * cs) / b;
            const float d = sqrtf(u * u + v * v);
            const float cov = soft > 0 ? expf(-0.5f * d * d / (soft * soft)) : clamp01((1.0f - d) * edge + 0.5f);
            if (cov > 0.002f)
                blend(c->rgb + 3 * ((size_t)py * c->n + px), col, alpha * cov);
        }
}

static void draw_disc(struct canvas *c, float x, float y, float r, const float col[3], float alpha)
{
    draw_ellipse(c, x, y, r, r, 0, col, alpha, 0);
}

/* Adds a segment (xa,ya)–(xb,yb) whose width goes from wa to wb to the
 * mask (coverage kept as the maximum; below a pixel's width, scaled down
 * with the width). */
static void mask_segment(struct canvas *c, float xa, float ya, float xb, float yb, float wa, float wb)
{
    int x0, x1, y0, y1;
    const float mx = 0.5f * (xa + xb), my = 0.5f * (ya + yb);
    const float dx = xb - xa, dy = yb - ya, len2 = dx * dx + dy * dy;
    const float reach = 0.5f * sqrtf(len2) + 0.5f * (wa > wb ? wa : wb) + 1.0f;
    if (!clip_box(c, mx, my, reach, &x0, &x1, &y0, &y1))
        return;
    for (int py = y0; py <= y1; py++)
        for (int px = x0; px <= x1; px++) {
            const float qx = (float)px + 0.5f - xa, qy = (float)py + 0.5f - ya;
            float t = len2 > 0 ? (qx * dx + qy * dy) / len2 : 0;
            t = t < 0 ? 0 : t > 1 ? 1 : t;
            const float ex = qx - t * dx, ey = qy - t * dy;
            const float half = 0.5f * (wa + t * (wb - wa));
            const float cov = clamp01(half - sqrtf(ex * ex + ey * ey) + 0.5f) * (half < 0.5f ? 2 * half : 1);
            float *m = c->mask + (size_t)py * c->n + px;
            *m = cov > *m ? cov : *m;
        }
}

/* Lays colour col on the canvas through the mask with opacity alpha, and
 * clears the mask. */
static void mask_apply(struct canvas *c, const float col[3], float alpha)
{
    const size_t n = (size_t)c->n * c->n;
    for (size_t i = 0; i < n; i++)
        if (c->mask[i] > 0) {
            blend(c->rgb + 3 * i, col, alpha * c->mask[i]);
            c->mask[i] = 0;
        }
}

/* Box blur of radius k along `count` lines of `len` values each (value i
 * of line j at data[j·line_step + i·step]), edges extended; three passes
 * approximate a Gaussian of σ² = k(k+1). */
static void blur_lines(float *data, int count, int len, size_t step, size_t line_step, int k, float *tmp)
{
    for (int j = 0; j < count; j++) {
        float *d = data + (size_t)j * line_step;
        for (int pass = 0; pass < 3; pass++) {
            float sum = 0;
            for (int i = -k; i <= k; i++)
                sum += d[(size_t)(i < 0 ? 0 : i >= len ? len - 1 : i) * step];
            for (int i = 0; i < len; i++) {
                tmp[i] = sum / (float)(2 * k + 1);
                const int out = i - k < 0 ? 0 : i - k, in = i + k + 1 >= len ? len - 1 : i + k + 1;
                sum += d[(size_t)in * step] - d[(size_t)out * step];
            }
            for (int i = 0; i < len; i++)
                d[(size_t)i * step] = tmp[i];
        }
    }
}

/* Gaussian-like blur of the whole canvas with σ ≈ sigma pixels. */
static void blur(struct canvas *c, float sigma)
{
    const int k = (int)lroundf(sqrtf(sigma * sigma + 0.25f) - 0.5f);
    if (k < 1)
        return;
    const size_t n = (size_t)c->n;
    for (int ch = 0; ch < 3; ch++) {
        blur_lines(c->rgb + ch, c->n, c->n, 3, 3 * n, k, c->tmp);   /* rows */
        blur_lines(c->rgb + ch, c->n, c->n, 3 * n, 3, k, c->tmp);   /* columns */
    }
}

/* ---- the fundus ------------------------------------------------------------- */

/* Fundus coordinates: units of the retina disc's radius, origin at its
 * centre, +x towards the temporal side (the macula), +y down. */
struct fundus {
    float cx, cy, r;      /* retina disc: centre and radius in pixels */
    float cs, sn;         /* rotation */
    float mirror;         /* +1 right eye, −1 left eye */
    float odx, ody, odr;  /* optic disc centre and radius (fundus units) */
    float mx, my;         /* fovea */
};

/* Pixel coordinates of fundus point (fx, fy). */
static void to_px(const struct fundus *f, float fx, float fy, float *x, float *y)
{
    const float u = f->mirror * fx;
    *x = f->cx + f->r * (u * f->cs - fy * f->sn);
    *y = f->cy + f->r * (u * f->sn + fy * f->cs);
}

/* An angle given in fundus coordinates as one in pixel coordinates. */
static float to_px_angle(const struct fundus *f, float a)
{
    const float u = f->mirror * cosf(a), v = sinf(a);
    return atan2f(u * f->sn + v * f->cs, u * f->cs - v * f->sn);
}

/* A point at distance up to `spread` (uniform over the area) from (x, y),
 * in fundus units, kept inside the retina. */
static void scatter(struct focal_rng *r, float x, float y, float spread, float *px, float *py)
{
    for (int tries = 0; tries < 8; tries++) {
        const float rho = spread * sqrtf(focal_rng_uniform(r)), phi = unif(r, 0, 2 * SYNTH_PI);
        *px = x + rho * cosf(phi);
        *py = y + rho * sinf(phi);
        if (*px * *px + *py * *py < 0.9f * 0.9f)
            return;
    }
    *px = x;
    *py = y;
}

/* A vessel path: points in fundus units, with the width at each. */
#define PATH_MAX_POINTS 64
struct path {
    int n;
    float x[PATH_MAX_POINTS], y[PATH_MAX_POINTS], w[PATH_MAX_POINTS];
};

/* Walks a vessel from (x, y) along `heading` (radians, fundus frame),
 * turning by `curve` per unit length with random drift, for `length` units;
 * width tapers from w to 0.45·w. tort winds it: the heading swings by up to
 * tort radians with a wavelength of 0.22 units. Stops at the retina's rim. */
static void walk_path(struct path *p, struct focal_rng *r, float x, float y, float heading, float curve,
                      float length, float w, float tort)
{
    const float step = 0.035f;
    const int steps = (int)(length / step) < PATH_MAX_POINTS - 1 ? (int)(length / step) : PATH_MAX_POINTS - 1;
    float phase = unif(r, 0, 2 * SYNTH_PI);
    p->n = 0;
    for (int i = 0; i <= steps; i++) {
        p->x[p->n] = x;
        p->y[p->n] = y;
        p->w[p->n] = w * (1.0f - 0.55f * (float)i / (float)(steps > 0 ? steps : 1));
        p->n++;
        if (x * x + y * y > 1.0f)
            break;
        const float dir = heading + tort * sinf(phase);
        x += step * cosf(dir);
        y += step * sinf(dir);
        heading += curve * step + 0.09f * gauss(r);
        phase += 2 * SYNTH_PI * step / 0.22f;
    }
}

static void mask_path(struct canvas *c, const struct fundus *f, const struct path *p)
{
    for (int i = 0; i + 1 < p->n; i++) {
        float xa, ya, xb, yb;
        to_px(f, p->x[i], p->y[i], &xa, &ya);
        to_px(f, p->x[i + 1], p->y[i + 1], &xb, &yb);
        mask_segment(c, xa, ya, xb, yb, p->w[i] * f->r, p->w[i + 1] * f->r);
    }
}

/* A vessel and, below depth 2, its branches, drawn into the mask; p
 * receives the vessel's own path (its trunk). */
static void vessel_tree(struct canvas *c, const struct fundus *f, struct focal_rng *r, struct path *p, float x,
                        float y, float heading, float curve, float length, float w, float tort, int depth)
{
    walk_path(p, r, x, y, heading, curve, length, w, tort);
    mask_path(c, f, p);
    if (depth >= 2 || p->n < 6)
        return;
    struct path branch;   /* the branches' own paths; *p stays the trunk */
    const int n_branch = 1 + (int)(focal_rng_uniform(r) * (depth == 0 ? 4 : 2));
    for (int b = 0; b < n_branch; b++) {
        const int at = 2 + (int)(focal_rng_uniform(r) * (float)(p->n - 4));
        const float dir = atan2f(p->y[at + 1] - p->y[at], p->x[at + 1] - p->x[at]);
        const float side = chance(r, 0.5f) ? 1.0f : -1.0f;
        vessel_tree(c, f, r, &branch, p->x[at], p->y[at], dir + side * unif(r, 25, 60) * SYNTH_DEG,
                    unif(r, -1.5f, 1.5f), length * unif(r, 0.3f, 0.55f), p->w[at] * 0.7f, tort, depth + 1);
    }
}

/* One image's random choices besides its labels. */
struct look {
    float bright, gamma, tint[3], grad, grad_dir, noise;
    float base_in[3], base_out[3];     /* fundus colour at the centre and the rim */
    float tex_amp;
};

/* The fundus colour, darker towards the rim and at the macula, with a faint
 * choroidal texture of six random plane waves. Both the waves and the
 * macula's Gaussian are separable, so per pixel only products remain. */
static void draw_background(struct canvas *c, const struct fundus *f, const struct look *lk, struct focal_rng *r)
{
    const int n = c->n;
    float ky[TEXTURE_WAVES], ph[TEXTURE_WAVES];
    float *sx = c->tmp, *cx = sx + TEXTURE_WAVES * n, *mac_x = cx + TEXTURE_WAVES * n;
    for (int i = 0; i < TEXTURE_WAVES; i++) {
        const float a = unif(r, 0, 2 * SYNTH_PI), k = unif(r, 4, 11) / f->r;
        ky[i] = k * sinf(a);
        ph[i] = unif(r, 0, 2 * SYNTH_PI);
        for (int x = 0; x < n; x++) {
            sx[i * n + x] = sinf(k * cosf(a) * (float)x);
            cx[i * n + x] = cosf(k * cosf(a) * (float)x);
        }
    }
    float mxp, myp;
    to_px(f, f->mx, f->my, &mxp, &myp);
    const float mac_s2 = 2 * (0.17f * f->r) * (0.17f * f->r);
    for (int x = 0; x < n; x++)
        mac_x[x] = expf(-((float)x + 0.5f - mxp) * ((float)x + 0.5f - mxp) / mac_s2);
    for (int y = 0; y < n; y++) {
        float sy[TEXTURE_WAVES], cy[TEXTURE_WAVES];
        for (int i = 0; i < TEXTURE_WAVES; i++) {
            sy[i] = sinf(ky[i] * (float)y + ph[i]);
            cy[i] = cosf(ky[i] * (float)y + ph[i]);
        }
        const float dy = (float)y + 0.5f - f->cy;
        const float mac_y = 0.38f * expf(-((float)y + 0.5f - myp) * ((float)y + 0.5f - myp) / mac_s2);
        for (int x = 0; x < n; x++) {
            const float dx = (float)x + 0.5f - f->cx;
            const float t = clamp01((dx * dx + dy * dy) / (f->r * f->r));
            float tex = 0;
            for (int i = 0; i < TEXTURE_WAVES; i++)   /* sin(u + v) = sin u cos v + cos u sin v */
                tex += sx[i * n + x] * cy[i] + cx[i * n + x] * sy[i];
            const float shade = (1.0f - mac_y * mac_x[x]) * (1.0f + lk->tex_amp * tex / TEXTURE_WAVES);
            float *p = c->rgb + 3 * ((size_t)y * n + x);
            for (int k = 0; k < 3; k++)
                p[k] = (lk->base_in[k] + (lk->base_out[k] - lk->base_in[k]) * t) * shade;
        }
    }
}

/* The optic disc: an orange-pink rim in a faint halo around a pale cup
 * (large with cupping), over a pale temporal crescent in myopia. */
static void draw_optic_disc(struct canvas *c, const struct fundus *f, struct focal_rng *r, int cupping, int myopia)
{
    static const float rim[3] = { 0.93f, 0.56f, 0.36f }, cup[3] = { 1.0f, 0.96f, 0.84f };
    static const float atrophy[3] = { 0.93f, 0.80f, 0.62f }, halo[3] = { 0.92f, 0.55f, 0.30f };
    float x, y;
    to_px(f, f->odx, f->ody, &x, &y);
    const float rad = f->odr * f->r;
    if (myopia) {
        /* crescent: a larger disc shifted temporally, under the optic disc */
        float ax, ay;
        const float grow = unif(r, 1.5f, 2.0f);
        to_px(f, f->odx + (grow - 1.0f) * 0.7f * f->odr, f->ody, &ax, &ay);
        draw_disc(c, ax, ay, grow * rad, atrophy, 0.92f);
    }
    draw_ellipse(c, x, y, 1.6f * rad, 1.6f * rad, 0, halo, 0.35f, 0.6f);
    draw_disc(c, x, y, rad, rim, 0.95f);
    const float ratio = cupping ? unif(r, 0.72f, 0.88f) : unif(r, 0.15f, 0.35f);
    float cx, cy;
    to_px(f, f->odx + 0.08f * f->odr, f->ody, &cx, &cy);
    draw_disc(c, cx, cy, ratio * rad, cup, 0.95f);
}

/* The vessels: four arcades of an artery and a vein leave the optic disc;
 * the temporal ones bend around the macula. The vein of arcade brvo (0 or 1,
 * −1 for none) is dilated and winds, and its path is returned in *occluded
 * for the haemorrhages. */
static void draw_vessels(struct canvas *c, const struct fundus *f, struct focal_rng *r, float tort, int brvo,
                         struct path *occluded)
{
    static const float artery[3] = { 0.70f, 0.15f, 0.07f }, vein[3] = { 0.40f, 0.05f, 0.035f };
    struct path p;
    for (int kind = 0; kind < 2; kind++) {   /* arteries, then veins over them */
        for (int a = 0; a < 4; a++) {
            const float side = a % 2 ? 1.0f : -1.0f;   /* inferior (+y) or superior */
            const int temporal = a < 2, occl = kind == 1 && a == brvo;
            const float spread = (kind ? 1.0f : -1.0f) * unif(r, 3, 9) * SYNTH_DEG;
            const float heading = temporal ? side * unif(r, 70, 84) * SYNTH_DEG + spread
                                           : side * unif(r, 115, 145) * SYNTH_DEG + spread;
            const float curve = temporal ? -side * unif(r, 1.0f, 1.35f) : side * unif(r, -0.2f, 0.5f);
            const float length = temporal ? unif(r, 1.2f, 1.45f) : unif(r, 0.6f, 0.85f);
            float w = kind ? unif(r, 0.030f, 0.036f) : unif(r, 0.023f, 0.028f);
            if (!temporal)
                w *= 0.8f;
            vessel_tree(c, f, r, &p, f->odx, f->ody, heading, curve, length, occl ? 1.35f * w : w,
                        occl ? tort + unif(r, 0.3f, 0.45f) : tort, 0);
            if (occl)
                *occluded = p;   /* the tree's trunk */
        }
        mask_apply(c, kind ? vein : artery, kind ? 0.92f : 0.85f);
    }
}

/* A dot of radius rad (fundus units, at least 0.6 pixel) at (x, y). */
static void fundus_dot(struct canvas *c, const struct fundus *f, float x, float y, float rad, const float col[3],
                       float alpha)
{
    float px, py;
    to_px(f, x, y, &px, &py);
    const float rp = rad * f->r;
    draw_disc(c, px, py, rp > 0.6f ? rp : 0.6f, col, alpha);
}

/* A soft ellipse (semi-axes a, b in fundus units, angle in the fundus frame). */
static void fundus_patch(struct canvas *c, const struct fundus *f, float x, float y, float a, float b, float angle,
                         const float col[3], float alpha, float soft)
{
    float px, py;
    to_px(f, x, y, &px, &py);
    draw_ellipse(c, px, py, a * f->r, b * f->r, to_px_angle(f, angle), col, alpha, soft);
}

/* DR: microaneurysms and dot haemorrhages over the posterior pole, a few
 * blots, and in some eyes a cluster of hard exudates. */
static void draw_dr(struct canvas *c, const struct fundus *f, struct focal_rng *r)
{
    static const float dot[3] = { 0.40f, 0.04f, 0.03f }, blot[3] = { 0.48f, 0.05f, 0.03f };
    static const float exudate[3] = { 0.98f, 0.88f, 0.38f };
    float x, y;
    const int dots = 10 + (int)(focal_rng_uniform(r) * 25);
    for (int i = 0; i < dots; i++) {
        scatter(r, f->mx, f->my, 0.7f, &x, &y);
        fundus_dot(c, f, x, y, unif(r, 0.016f, 0.032f), dot, 0.9f);
    }
    const int blots = 2 + (int)(focal_rng_uniform(r) * 5);
    for (int i = 0; i < blots; i++) {
        scatter(r, f->mx, f->my, 0.75f, &x, &y);
        const float a = unif(r, 0.04f, 0.07f);
        fundus_patch(c, f, x, y, a, a * unif(r, 0.6f, 1.0f), unif(r, 0, SYNTH_PI), blot, 0.85f, 0);
    }
    if (chance(r, 0.4f)) {
        float cx, cy;
        scatter(r, f->mx, f->my, 0.35f, &cx, &cy);
        const int n = 4 + (int)(focal_rng_uniform(r) * 9);
        for (int i = 0; i < n; i++) {
            scatter(r, cx, cy, 0.13f, &x, &y);
            fundus_dot(c, f, x, y, unif(r, 0.014f, 0.028f), exudate, 0.9f);
        }
    }
}

/* DN: soft pale yellow drusen around the macula. */
static void draw_drusen(struct canvas *c, const struct fundus *f, struct focal_rng *r)
{
    static const float col[3] = { 0.97f, 0.87f, 0.52f };
    const int n = 12 + (int)(focal_rng_uniform(r) * 24);
    for (int i = 0; i < n; i++) {
        float x, y;
        scatter(r, f->mx, f->my, 0.32f, &x, &y);
        const float a = unif(r, 0.022f, 0.042f);
        fundus_patch(c, f, x, y, a, a, 0, col, 0.85f, 0.7f);
    }
}

/* CWS: fluffy white patches along the vessel arcades. */
static void draw_cotton_wool(struct canvas *c, const struct fundus *f, struct focal_rng *r)
{
    static const float col[3] = { 0.97f, 0.95f, 0.88f };
    const int n = 2 + (int)(focal_rng_uniform(r) * 5);
    for (int i = 0; i < n; i++) {
        const float phi = (chance(r, 0.5f) ? -1.0f : 1.0f) * unif(r, 40, 140) * SYNTH_DEG;
        const float x = f->mx - 0.2f + 0.55f * cosf(phi), y = f->my + 0.45f * sinf(phi);
        const float a = unif(r, 0.065f, 0.1f);
        fundus_patch(c, f, x, y, a, a * unif(r, 0.55f, 0.8f), phi + SYNTH_PI / 2, col, 0.92f, 0.55f);
    }
}

/* MHL: a sharply bounded dark red hole at the fovea with a pale cuff. */
static void draw_macular_hole(struct canvas *c, const struct fundus *f, struct focal_rng *r)
{
    static const float cuff[3] = { 0.90f, 0.70f, 0.42f }, hole[3] = { 0.42f, 0.07f, 0.04f };
    static const float deposit[3] = { 0.95f, 0.85f, 0.50f };
    const float rad = unif(r, 0.065f, 0.09f);
    fundus_dot(c, f, f->mx, f->my, rad + 0.035f, cuff, 0.7f);
    fundus_dot(c, f, f->mx, f->my, rad, hole, 0.95f);
    const int n = 3 + (int)(focal_rng_uniform(r) * 4);
    for (int i = 0; i < n; i++) {
        float x, y;
        scatter(r, f->mx, f->my, 0.6f * rad, &x, &y);
        fundus_dot(c, f, x, y, 0.012f, deposit, 0.8f);
    }
}

/* LS: photocoagulation scars scattered over a sector of the periphery, away
 * from the optic disc: dark pigment rims with pale centres. */
static void draw_laser_scars(struct canvas *c, const struct fundus *f, struct focal_rng *r)
{
    static const float rim[3] = { 0.20f, 0.10f, 0.05f }, centre[3] = { 0.88f, 0.78f, 0.58f };
    const float start = unif(r, 0, 2 * SYNTH_PI), span = unif(r, 150, 360) * SYNTH_DEG;
    const int n = 25 + (int)(focal_rng_uniform(r) * 35);
    for (int i = 0; i < n; i++) {
        const float phi = start + span * focal_rng_uniform(r), rho = unif(r, 0.55f, 0.86f);
        const float x = rho * cosf(phi), y = rho * sinf(phi);
        const float dx = x - f->odx, dy = y - f->ody;
        if (dx * dx + dy * dy < 4 * f->odr * f->odr)
            continue;
        const float s = unif(r, 0.035f, 0.05f);
        fundus_dot(c, f, x, y, s, rim, 0.9f);
        fundus_dot(c, f, x, y, 0.55f * s, centre, 0.85f);
    }
}

/* BRVO: flame-shaped haemorrhages along the occluded vein. */
static void draw_flames(struct canvas *c, const struct fundus *f, struct focal_rng *r, const struct path *vein)
{
    static const float col[3] = { 0.55f, 0.05f, 0.03f };
    const int last = (int)(0.8f * (float)vein->n) - 1;
    if (last < 2)
        return;
    const int n = 14 + (int)(focal_rng_uniform(r) * 18);
    for (int i = 0; i < n; i++) {
        const int at = 1 + (int)(focal_rng_uniform(r) * (float)(last - 1));
        const float dir = atan2f(vein->y[at + 1] - vein->y[at], vein->x[at + 1] - vein->x[at]);
        const float off = 0.06f * gauss(r);
        const float x = vein->x[at] - off * sinf(dir), y = vein->y[at] + off * cosf(dir);
        fundus_patch(c, f, x, y, unif(r, 0.05f, 0.09f), unif(r, 0.014f, 0.024f), dir + 0.3f * gauss(r), col,
                     0.85f, 0);
    }
}

/* MH: a veil over the picture, lower contrast and blur. */
static void haze(struct canvas *c, struct focal_rng *r)
{
    static const float veil[3] = { 0.72f, 0.54f, 0.36f };
    const float keep = unif(r, 0.5f, 0.65f);
    const size_t n = (size_t)c->n * c->n;
    for (size_t i = 0; i < n; i++)
        blend(c->rgb + 3 * i, veil, 1.0f - keep);
    blur(c, unif(r, 0.018f, 0.03f) * (float)c->n);
}

/* The finished canvas as 8-bit pixels: camera response (brightness, tint,
 * gamma, uneven illumination), noise, and black outside the retina. The
 * gamma curve is tabulated and interpolated linearly. */
#define GAMMA_STEPS 1024
static void develop(const struct canvas *c, const struct fundus *f, const struct look *lk, struct focal_rng *r,
                    uint8_t *out)
{
    float curve[GAMMA_STEPS + 2];
    for (int i = 0; i <= GAMMA_STEPS; i++)
        curve[i] = powf((float)i / GAMMA_STEPS, lk->gamma);
    curve[GAMMA_STEPS + 1] = curve[GAMMA_STEPS];
    const float gx = cosf(lk->grad_dir) * lk->grad / f->r, gy = sinf(lk->grad_dir) * lk->grad / f->r;
    for (int y = 0; y < c->n; y++)
        for (int x = 0; x < c->n; x++) {
            const float dx = (float)x + 0.5f - f->cx, dy = (float)y + 0.5f - f->cy;
            const float inside = clamp01(f->r - sqrtf(dx * dx + dy * dy) + 0.5f);
            const float light = lk->bright * (1.0f + gx * dx + gy * dy);
            const float *p = c->rgb + 3 * ((size_t)y * c->n + x);
            const uint64_t bits = focal_rng_next(r);
            uint8_t *o = out + 3 * ((size_t)y * c->n + x);
            for (int k = 0; k < 3; k++) {
                const float noise = lk->noise * ((float)((bits >> (16 * k)) & 0xffff) / 32768.0f - 1.0f);
                const float g = clamp01(p[k]) * GAMMA_STEPS;
                const int gi = (int)g;
                const float v = light * lk->tint[k] * (curve[gi] + (g - (float)gi) * (curve[gi + 1] - curve[gi])) + noise;
                const float black = (float)((bits >> 48 >> (5 * k)) & 3) / 255.0f;
                o[k] = (uint8_t)(255.0f * clamp01(inside * v + (1.0f - inside) * black) + 0.5f);
            }
        }
}

/* Draws sample `labels` on c from r and develops it into out (n × n × 3). */
static void render(struct canvas *c, const uint8_t *labels, struct focal_rng *r, uint8_t *out)
{
    const float n = (float)c->n;
    struct fundus f;
    struct look lk;
    f.r = n * unif(r, 0.43f, 0.485f);
    f.cx = n * (0.5f + 0.02f * gauss(r));
    f.cy = n * (0.5f + 0.015f * gauss(r));
    const float theta = unif(r, -18, 18) * SYNTH_DEG;
    f.cs = cosf(theta);
    f.sn = sinf(theta);
    f.mirror = chance(r, 0.5f) ? 1.0f : -1.0f;
    f.odx = -unif(r, 0.58f, 0.72f);
    f.ody = 0.06f * gauss(r);
    f.odr = unif(r, 0.12f, 0.15f);
    f.mx = f.odx + unif(r, 0.66f, 0.78f);
    f.my = f.ody + unif(r, 0.02f, 0.08f);

    lk.bright = unif(r, 0.78f, 1.15f);
    lk.gamma = unif(r, 0.85f, 1.2f);
    for (int k = 0; k < 3; k++) {
        const float t = 0.06f * gauss(r);
        lk.tint[k] = 1.0f + (t < -0.15f ? -0.15f : t > 0.15f ? 0.15f : t);
    }
    lk.grad = unif(r, 0, 0.18f);
    lk.grad_dir = unif(r, 0, 2 * SYNTH_PI);
    lk.noise = unif(r, 0.008f, 0.02f);
    lk.base_in[0] = 0.80f * unif(r, 0.9f, 1.05f);
    lk.base_in[1] = 0.40f * unif(r, 0.85f, 1.1f);
    lk.base_in[2] = 0.15f * unif(r, 0.7f, 1.2f);
    lk.tex_amp = unif(r, 0.03f, 0.08f);
    if (labels[C_MYA]) {   /* thin, pale, tessellated fundus */
        lk.base_in[1] += 0.06f;
        lk.base_in[2] += 0.05f;
        lk.tex_amp *= 2.5f;
    }
    static const float rim_fade[3] = { 0.62f, 0.5f, 0.45f };
    for (int k = 0; k < 3; k++)
        lk.base_out[k] = lk.base_in[k] * rim_fade[k];

    draw_background(c, &f, &lk, r);
    draw_optic_disc(c, &f, r, labels[C_ODC], labels[C_MYA]);
    struct path occluded = { 0 };
    const float tort = labels[C_TV] ? unif(r, 0.8f, 1.0f) : unif(r, 0, 0.12f);
    const int brvo = labels[C_BRVO] ? (chance(r, 0.5f) ? 1 : 0) : -1;
    draw_vessels(c, &f, r, tort, brvo, &occluded);
    if (labels[C_LS])
        draw_laser_scars(c, &f, r);
    if (labels[C_DN])
        draw_drusen(c, &f, r);
    if (labels[C_DR])
        draw_dr(c, &f, r);
    if (labels[C_BRVO])
        draw_flames(c, &f, r, &occluded);
    if (labels[C_CWS])
        draw_cotton_wool(c, &f, r);
    if (labels[C_MHL])
        draw_macular_hole(c, &f, r);
    if (labels[C_MH])
        haze(c, r);
    develop(c, &f, &lk, r, out);
}

focal_status focal_synth_sample(uint64_t seed, int64_t index, int size, uint8_t *labels, struct focal_image *img)
{
    struct focal_rng r;
    assert(labels && index >= 0);
    focal_rng_seed(&r, synth_stream(seed, index));
    for (int j = 0; j < FOCAL_SYNTH_CONDITIONS; j++)
        labels[j] = (uint8_t)chance(&r, (float)synth_conditions[j].prevalence);
    if (!img)
        return FOCAL_OK;
    memset(img, 0, sizeof *img);
    if (size < FOCAL_SYNTH_MIN_SIZE || size > FOCAL_SYNTH_MAX_SIZE)
        return focal_fail(FOCAL_ERR_ARG, "synthetic image size %d is out of range; expected %d..%d", size,
                          FOCAL_SYNTH_MIN_SIZE, FOCAL_SYNTH_MAX_SIZE);
    const size_t npix = (size_t)size * (size_t)size;
    struct canvas c = { size, malloc(npix * 3 * sizeof(float)), calloc(npix, sizeof(float)),
                        malloc(CANVAS_SCRATCH * (size_t)size * sizeof(float)) };
    img->data = malloc(npix * 3);
    focal_status st = FOCAL_OK;
    if (!c.rgb || !c.mask || !c.tmp || !img->data) {
        st = focal_fail(FOCAL_ERR_NOMEM, "out of memory drawing a %dx%d synthetic image", size, size);
        focal_image_release(img);
    } else {
        render(&c, labels, &r, img->data);
        img->width = img->height = size;
        img->channels = 3;
    }
    free(c.rgb);
    free(c.mask);
    free(c.tmp);
    return st;
}
