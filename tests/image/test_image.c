/* test_image.c — the image module: decoding of every PNG and JPEG kind
 * against the pixels tools/gen_image_fixtures.py recorded, 16-bit rounding,
 * PNG round trips, resizing against a direct double-precision computation,
 * cropping, the fundus box on a drawn disc and on real RFMiD photographs,
 * and clean failures for missing, empty, truncated, corrupt and absurd files
 * (every cut length of every fixture; cuts of a real photograph). */
#define _POSIX_C_SOURCE 200809L

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <zlib.h>

#include "focal.h"
#include "check.h"
#include "testfs.h"

#define NAME "test_image"

static const char *source_dir;

/* "<source>/tests/fixtures/images/<name>" in a static buffer. */
static const char *fixture(const char *name)
{
    static char buf[1024];
    snprintf(buf, sizeof buf, "%s/tests/fixtures/images/%s", source_dir, name);
    return buf;
}

/* Reads p and expects failure with status want, a message naming p and
 * containing `contains` (NULL: any), and a zeroed image. Returns 1 if all
 * held, without counting checks (for loops over many inputs). */
static int fails_cleanly(const char *p, focal_status want, const char *contains)
{
    struct focal_image img = { 5, 5, 3, (uint8_t *)"x" };
    focal_status st = focal_image_read(p, &img);
    const char *msg = focal_last_error();
    int good = st == want && strstr(msg, p) == msg && (!contains || strstr(msg, contains)) && img.data == NULL &&
               img.width == 0 && img.height == 0 && img.channels == 0;
    if (!good)
        fprintf(stderr, "%s: status %d (want %d), message '%s' (want '%s')\n", p, (int)st, (int)want, msg,
                contains ? contains : "");
    if (st == FOCAL_OK)
        focal_image_release(&img);
    return good;
}

/* ---- decoding the fixtures -------------------------------------------------- */

/* Decodes every fixture listed in expected.txt and compares its pixels. */
static void test_fixtures(void)
{
    FILE *fp = fopen(fixture("expected.txt"), "r");
    CHECKF(fp != NULL, "cannot open %s", fixture("expected.txt"));
    if (!fp)
        return;
    char line[256], name[128];
    int files = 0, w, h, c, tol;
    while (fgets(line, sizeof line, fp)) {
        if (line[0] == '#' || line[strspn(line, " \t\r\n")] == '\0')
            continue;   /* a comment, or the end of a line of values */
        if (sscanf(line, "%127s %d %d %d %d", name, &w, &h, &c, &tol) != 5 || w < 1 || h < 1 || w * h > 4096) {
            CHECKF(0, "expected.txt: bad entry line '%s'", line);
            break;
        }
        const size_t n = (size_t)w * (size_t)h * (size_t)c;
        int *want = malloc(n * sizeof *want);
        size_t got = 0;
        while (want && got < n && fscanf(fp, "%d", &want[got]) == 1)
            got++;
        CHECKF(got == n, "%s: expected.txt holds %zu of %zu values", name, got, n);
        struct focal_image img;
        focal_status st = focal_image_read(fixture(name), &img);
        CHECKF(st == FOCAL_OK, "%s: %s", name, focal_last_error());
        if (st == FOCAL_OK) {
            CHECKF(img.width == w && img.height == h && img.channels == c, "%s: %dx%dx%d, expected %dx%dx%d",
                   name, img.width, img.height, img.channels, w, h, c);
            int worst = 0;
            size_t at = 0;
            if (img.width == w && img.height == h && img.channels == c && got == n)
                for (size_t i = 0; i < n; i++) {
                    const int d = abs((int)img.data[i] - want[i]);
                    if (d > worst) {
                        worst = d;
                        at = i;
                    }
                }
            CHECKF(worst <= tol, "%s: value %zu is %d, expected %d (tolerance %d)", name, at, img.data[at],
                   want[at], tol);
            focal_image_release(&img);
        }
        free(want);
        files++;
    }
    fclose(fp);
    CHECKF(files == 13, "expected.txt lists %d files, expected 13", files);
}

/* 16-bit samples round to nearest: 257k+128 -> k, 257k+129 -> k+1, written
 * here independently of the fixtures with a minimal one-row PNG encoder. */
static size_t png_chunk(uint8_t *out, const char *type, const uint8_t *data, uint32_t len)
{
    out[0] = (uint8_t)(len >> 24);
    out[1] = (uint8_t)(len >> 16);
    out[2] = (uint8_t)(len >> 8);
    out[3] = (uint8_t)len;
    memcpy(out + 4, type, 4);
    if (len)
        memcpy(out + 8, data, len);
    uLong crc = crc32(0L, out + 4, len + 4);
    out[8 + len] = (uint8_t)(crc >> 24);
    out[9 + len] = (uint8_t)(crc >> 16);
    out[10 + len] = (uint8_t)(crc >> 8);
    out[11 + len] = (uint8_t)crc;
    return 12 + (size_t)len;
}

/* A PNG of `width` × `height` with the given bit depth and colour type whose
 * IDAT holds the zlib-compressed `raw` scanlines; *n receives the length. */
static uint8_t *make_png(uint32_t width, uint32_t height, int depth, int color, const uint8_t *raw, size_t raw_len,
                         size_t *n)
{
    uLongf zlen = compressBound((uLong)raw_len);
    uint8_t *out = malloc(8 + 25 + 12 + zlen + 12);
    uint8_t ihdr[13] = { (uint8_t)(width >> 24), (uint8_t)(width >> 16), (uint8_t)(width >> 8), (uint8_t)width,
                         (uint8_t)(height >> 24), (uint8_t)(height >> 16), (uint8_t)(height >> 8), (uint8_t)height,
                         (uint8_t)depth, (uint8_t)color, 0, 0, 0 };
    uint8_t *z = malloc(zlen);
    if (!out || !z || compress(z, &zlen, raw, (uLong)raw_len) != Z_OK) {
        fprintf(stderr, "make_png: out of memory\n");
        exit(1);
    }
    memcpy(out, "\x89PNG\r\n\x1a\n", 8);
    size_t k = 8;
    k += png_chunk(out + k, "IHDR", ihdr, 13);
    k += png_chunk(out + k, "IDAT", z, (uint32_t)zlen);
    k += png_chunk(out + k, "IEND", NULL, 0);
    free(z);
    *n = k;
    return out;
}

static void test_rounding16(void)
{
    /* one row of 512 gray samples: 257k+128 and 257k+129 for k = 0..255 */
    uint8_t raw[1 + 512 * 2];
    raw[0] = 0;
    for (int i = 0; i < 512; i++) {
        const unsigned v = 257u * (unsigned)(i / 2) + (i % 2 ? 129u : 128u);
        const unsigned capped = v > 65535 ? 65535 : v;
        raw[1 + 2 * i] = (uint8_t)(capped >> 8);
        raw[2 + 2 * i] = (uint8_t)capped;
    }
    size_t n;
    uint8_t *png = make_png(512, 1, 16, 0, raw, sizeof raw, &n);
    struct focal_image img;
    CHECK(focal_image_read(put("round16.png", png, n), &img) == FOCAL_OK);
    int bad = 0;
    if (img.data && img.width == 512)
        for (int i = 0; i < 512; i++) {
            const int k = i / 2, want = i % 2 && k < 255 ? k + 1 : k;
            bad += img.data[i] != want;
        }
    CHECKF(img.data && bad == 0, "%d of 512 16-bit samples rounded wrongly", bad);
    focal_image_release(&img);
    free(png);
}

/* ---- bad input ---------------------------------------------------------------- */

static void test_bad_files(void)
{
    CHECK(fails_cleanly(path_in("no-such-file.png"), FOCAL_ERR_IO, "cannot open"));
    CHECK(fails_cleanly(dir, FOCAL_ERR_IO, "not a regular file"));
    CHECK(fails_cleanly(put("empty.png", "", 0), FOCAL_ERR_FORMAT, "empty"));
    CHECK(fails_cleanly(put("text.png", "hello, world\n", 13), FOCAL_ERR_FORMAT, "not a PNG or JPEG"));
    CHECK(fails_cleanly(put("gif.jpg", "GIF89a\1\0\1\0", 10), FOCAL_ERR_FORMAT, "47 49 46 38"));

    /* absurd and zero dimensions in an otherwise valid PNG header */
    uint8_t raw[4] = { 0, 1, 2, 3 };
    struct { uint32_t w, h; const char *msg; } dims[] = {
        { 100000, 100000, "100000x100000" },
        { 20000, 20000, "20000x20000" },   /* each side allowed, the area not */
        { 0, 5, "zero size" },
        { 7, 0, "zero size" },
        { 0x80000000u, 1, "2147483648x1" },
    };
    for (size_t i = 0; i < sizeof dims / sizeof dims[0]; i++) {
        size_t n;
        uint8_t *png = make_png(dims[i].w, dims[i].h, 8, 2, raw, sizeof raw, &n);
        CHECKF(fails_cleanly(put("dims.png", png, n), FOCAL_ERR_FORMAT, dims[i].msg), "%ux%u", dims[i].w,
               dims[i].h);
        free(png);
    }
    /* a valid header whose data is short of the image */
    size_t n;
    uint8_t *png = make_png(3, 3, 8, 2, raw, sizeof raw, &n);
    CHECK(fails_cleanly(put("short.png", png, n), FOCAL_ERR_FORMAT, NULL));
    free(png);

    /* a JPEG whose frame header claims 65000x65000 or 0 rows */
    size_t len;
    unsigned char *jpg = read_file(fixture("rgb420.jpg"), &len);
    size_t sof = 0;
    for (size_t i = 2; i + 9 < len && !sof; i++)
        if (jpg[i] == 0xff && jpg[i + 1] == 0xc0)
            sof = i;
    CHECK(sof > 0);
    if (sof) {
        jpg[sof + 5] = jpg[sof + 7] = 0xfd;  /* height and width 0xfde8 = 65000 */
        jpg[sof + 6] = jpg[sof + 8] = 0xe8;
        CHECK(fails_cleanly(put("huge.jpg", jpg, len), FOCAL_ERR_FORMAT, "65000x65000"));
        jpg[sof + 5] = jpg[sof + 6] = 0;
        CHECK(fails_cleanly(put("zero.jpg", jpg, len), FOCAL_ERR_FORMAT, NULL));
    }
    free(jpg);
}

/* Every fixture cut at every length fails cleanly; every byte of a PNG made
 * only of critical chunks, flipped, fails too; flips anywhere else either
 * fail or, in an ancillary chunk, leave the pixels as they were; no flipped
 * JPEG crashes the decoder. */
static void test_cuts_and_flips(void)
{
    static const char *names[] = { "gray16.png", "rgb8.png", "palette.png", "rgba16_adam7.png",
                                   "rgb420.jpg", "gray.jpg", "rgb_progressive.jpg" };
    for (size_t f = 0; f < sizeof names / sizeof names[0]; f++) {
        size_t len;
        unsigned char *b = read_file(fixture(names[f]), &len);
        struct focal_image ref;
        CHECK(focal_image_read(fixture(names[f]), &ref) == FOCAL_OK);
        const int is_png = strstr(names[f], ".png") != NULL;
        int bad_cuts = 0, flip_fail = 0, flip_bad = 0;
        for (size_t cut = 0; cut < len; cut++)
            bad_cuts += !fails_cleanly(put("cut", b, cut), FOCAL_ERR_FORMAT, NULL);
        CHECKF(bad_cuts == 0, "%s: %d of %zu cut lengths did not fail cleanly", names[f], bad_cuts, len);
        for (size_t i = 0; i < len; i++) {
            b[i] ^= 0x01;
            struct focal_image img;
            focal_status st = focal_image_read(put("flip", b, len), &img);
            if (st == FOCAL_OK) {
                const int same = img.width == ref.width && img.height == ref.height &&
                                 img.channels == ref.channels &&
                                 memcmp(img.data, ref.data, (size_t)ref.width * ref.height * ref.channels) == 0;
                flip_bad += is_png && !same;
                focal_image_release(&img);
            } else {
                flip_fail++;
                flip_bad += st != FOCAL_ERR_FORMAT || img.data != NULL;
            }
            b[i] ^= 0x01;
        }
        CHECKF(flip_bad == 0, "%s: %d flipped bytes gave wrong pixels or a bad failure", names[f], flip_bad);
        if (strcmp(names[f], "gray16.png") == 0 || strcmp(names[f], "rgba16_adam7.png") == 0)
            CHECKF((size_t)flip_fail == len, "%s: only %d of %zu flipped bytes were noticed", names[f], flip_fail,
                   len);
        focal_image_release(&ref);
        free(b);
    }
}

/* ---- writing ------------------------------------------------------------------ */

static void test_write_png(void)
{
    uint64_t s = 99;
    for (int ch = 1; ch <= 3; ch += 2) {
        struct focal_image img = { 23, 17, ch, NULL }, back;
        const size_t n = 23 * 17 * (size_t)ch;
        img.data = malloc(n);
        for (size_t i = 0; i < n; i++)
            img.data[i] = (uint8_t)(check_urand(&s) * 256);
        const char *p = path_in(ch == 1 ? "gray_out.png" : "rgb_out.png");
        CHECK(focal_image_write_png(p, &img) == FOCAL_OK);
        CHECK(focal_image_read(p, &back) == FOCAL_OK);
        CHECK(back.width == 23 && back.height == 17 && back.channels == ch && back.data &&
              memcmp(back.data, img.data, n) == 0);
        focal_image_release(&back);
        void *a, *b;
        size_t la, lb;
        CHECK(focal_image_encode_png(&img, &a, &la) == FOCAL_OK);
        CHECK(focal_image_encode_png(&img, &b, &lb) == FOCAL_OK);
        CHECK(a && b && la == lb && memcmp(a, b, la) == 0);
        free(a);
        free(b);
        focal_image_release(&img);
    }
    int tmp;
    const int before = dir_entries(&tmp);
    uint8_t px[6] = { 0 };
    struct focal_image two = { 1, 1, 2, px }, ok = { 2, 1, 3, px };
    void *png = (void *)1;
    size_t len = 1;
    CHECK(focal_image_encode_png(&two, &png, &len) == FOCAL_ERR_ARG && png == NULL && len == 0);
    CHECK(focal_image_write_png(path_in("two.png"), &two) == FOCAL_ERR_ARG);
    CHECK(strstr(focal_last_error(), "two.png") != NULL);
    CHECK(focal_image_write_png(path_in("missing/dir/x.png"), &ok) == FOCAL_ERR_IO);
    CHECK(strstr(focal_last_error(), "missing/dir/x.png") != NULL);
    CHECK(dir_entries(&tmp) == before && !tmp);
}

/* ---- resizing ------------------------------------------------------------------- */

/* The weight of source pixel p in target pixel i along an axis of src → dst
 * pixels: the covered fraction of target i when shrinking, the bilinear
 * weight (centres at half-integers, clamped) when growing. */
static double axis_weight(int i, int p, int src, int dst)
{
    if (dst < src) {
        const double s = (double)src / dst, lo = i * s, hi = (i + 1) * s;
        const double a = lo > p ? lo : p, b = hi < p + 1 ? hi : p + 1;
        return b > a ? (b - a) / s : 0;
    }
    if (dst == src)
        return i == p;
    double x = (i + 0.5) * src / dst - 0.5;
    x = x < 0 ? 0 : x > src - 1 ? src - 1 : x;
    const double d = x - p;
    return d > -1 && d < 1 ? 1 - (d < 0 ? -d : d) : 0;
}

/* Resizes a random (or constant, when konst >= 0) sw × sh image with ch
 * channels to dw × dh and compares every value with the direct sum
 * Σ_p Σ_q wx(x,p) wy(y,q) src(q,p) in double: it must equal the rounded
 * reference, or either neighbour when the reference lies within 0.01 of a
 * half. Returns the number of mismatches. */
static int resize_vs_reference(int sw, int sh, int ch, int dw, int dh, int konst, uint64_t *s)
{
    struct focal_image src = { sw, sh, ch, malloc((size_t)sw * sh * ch) }, dst;
    for (int i = 0; i < sw * sh * ch; i++)
        src.data[i] = (uint8_t)(konst >= 0 ? konst : (int)(check_urand(s) * 256));
    if (focal_image_resize(&dst, &src, dw, dh) != FOCAL_OK || dst.width != dw || dst.height != dh ||
        dst.channels != ch) {
        fprintf(stderr, "resize %dx%d -> %dx%d failed: %s\n", sw, sh, dw, dh, focal_last_error());
        free(src.data);
        return 1;
    }
    int bad = 0;
    for (int y = 0; y < dh; y++)
        for (int x = 0; x < dw; x++)
            for (int c = 0; c < ch; c++) {
                double ref = 0;
                for (int q = 0; q < sh; q++) {
                    const double wy = axis_weight(y, q, sh, dh);
                    if (wy == 0)
                        continue;
                    for (int p = 0; p < sw; p++)
                        ref += wy * axis_weight(x, p, sw, dw) * src.data[((size_t)q * sw + p) * ch + c];
                }
                const int got = dst.data[((size_t)y * dw + x) * ch + c];
                const double frac = ref - (int)ref;
                const int ok = got == (int)(ref + 0.5) ||
                               (frac > 0.49 && frac < 0.51 && (got == (int)ref || got == (int)ref + 1));
                if (!ok && bad++ < 3)
                    fprintf(stderr, "resize %dx%dx%d -> %dx%d: (%d,%d,%d) = %d, reference %.4f\n", sw, sh, ch, dw,
                            dh, x, y, c, got, ref);
            }
    free(src.data);
    focal_image_release(&dst);
    return bad;
}

static void test_resize(void)
{
    uint64_t s = 12345;
    static const int cases[][4] = {
        { 40, 30, 10, 10 },    /* integer factors 4 and 3 */
        { 37, 23, 9, 7 },      /* fractional factors */
        { 37, 23, 37, 11 },    /* one axis kept */
        { 100, 3, 7, 1 },      /* a row */
        { 1, 50, 1, 13 },      /* a column */
        { 5, 4, 12, 9 },       /* enlarging */
        { 20, 3, 7, 8 },       /* shrink x, enlarge y */
        { 3, 20, 8, 7 },       /* enlarge x, shrink y */
        { 64, 64, 63, 65 },    /* nearly the same size */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        for (int ch = 1; ch <= 3; ch += 2)
            CHECKF(resize_vs_reference(cases[i][0], cases[i][1], ch, cases[i][2], cases[i][3], -1, &s) == 0,
                   "%dx%d -> %dx%d, %d channels", cases[i][0], cases[i][1], cases[i][2], cases[i][3], ch);
    /* a constant image stays constant, whatever the sizes */
    for (int k = 0; k < 20; k++) {
        const int sw = 1 + (int)(check_urand(&s) * 60), sh = 1 + (int)(check_urand(&s) * 60);
        const int dw = 1 + (int)(check_urand(&s) * 60), dh = 1 + (int)(check_urand(&s) * 60);
        const int v = k % 3 == 0 ? 255 : (int)(check_urand(&s) * 256);
        CHECKF(resize_vs_reference(sw, sh, 3, dw, dh, v, &s) == 0, "constant %d: %dx%d -> %dx%d", v, sw, sh, dw, dh);
    }

    /* known values: 1×1 grows to a constant; 2×2 grows bilinearly */
    uint8_t one = 77, four[4] = { 0, 100, 200, 40 };
    struct focal_image a = { 1, 1, 1, &one }, b = { 2, 2, 1, four }, out;
    CHECK(focal_image_resize(&out, &a, 5, 3) == FOCAL_OK);
    int same = out.data != NULL;
    for (int i = 0; same && i < 15; i++)
        same = out.data[i] == 77;
    CHECK(same);
    focal_image_release(&out);
    static const uint8_t want[16] = { 0, 25, 75, 100, 50, 59, 76, 85, 150, 126, 79, 55, 200, 160, 80, 40 };
    CHECK(focal_image_resize(&out, &b, 4, 4) == FOCAL_OK);
    CHECK(out.data && memcmp(out.data, want, 16) == 0);
    focal_image_release(&out);

    /* sizes out of range */
    CHECK(focal_image_resize(&out, &b, 0, 4) == FOCAL_ERR_ARG && out.data == NULL);
    CHECK(focal_image_resize(&out, &b, 4, -1) == FOCAL_ERR_ARG);
    CHECK(focal_image_resize(&out, &b, FOCAL_IMAGE_MAX_SIDE + 1, 1) == FOCAL_ERR_ARG);
    CHECK(focal_image_resize(&out, &b, 20000, 20000) == FOCAL_ERR_ARG);
    CHECK(strstr(focal_last_error(), "20000x20000") != NULL);
}

static void test_crop(void)
{
    uint8_t px[4 * 3 * 3];
    for (int i = 0; i < 36; i++)
        px[i] = (uint8_t)i;
    struct focal_image img = { 4, 3, 3, px }, out;
    CHECK(focal_image_crop(&out, &img, 1, 1, 2, 2) == FOCAL_OK);
    static const uint8_t want[12] = { 15, 16, 17, 18, 19, 20, 27, 28, 29, 30, 31, 32 };
    CHECK(out.width == 2 && out.height == 2 && out.channels == 3 && out.data && memcmp(out.data, want, 12) == 0);
    focal_image_release(&out);
    CHECK(focal_image_crop(&out, &img, 0, 0, 4, 3) == FOCAL_OK && out.data && memcmp(out.data, px, 36) == 0);
    focal_image_release(&out);
    static const int bad[][4] = { { -1, 0, 2, 2 }, { 0, -1, 2, 2 }, { 3, 0, 2, 1 }, { 0, 2, 1, 2 },
                                  { 0, 0, 0, 1 }, { 0, 0, 1, 0 }, { 2, 0, 0x7fffffff, 1 } };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        CHECKF(focal_image_crop(&out, &img, bad[i][0], bad[i][1], bad[i][2], bad[i][3]) == FOCAL_ERR_ARG &&
                   out.data == NULL, "crop case %zu", i);
    }
    CHECK(strstr(focal_last_error(), "4x3") != NULL);
}

/* ---- fundus box --------------------------------------------------------------------- */

/* A W×H fundus-like image: an orange disc of radius r at (cx, cy), dimmer
 * towards its rim, on a black border with compression-like noise (0..12),
 * isolated white specks and a block of "text" in a corner. */
static struct focal_image drawn_fundus(int W, int H, int ch, int cx, int cy, int r, uint64_t *s)
{
    struct focal_image img = { W, H, ch, malloc((size_t)W * H * ch) };
    for (int y = 0; y < H; y++)
        for (int x = 0; x < W; x++) {
            const double d2 = (double)(x - cx) * (x - cx) + (double)(y - cy) * (y - cy);
            uint8_t *p = img.data + ((size_t)y * W + x) * ch;
            const double shade = 1 - 0.5 * d2 / ((double)r * r);
            const uint8_t rgb[3] = { d2 <= (double)r * r ? (uint8_t)(190 * shade) : (uint8_t)(check_urand(s) * 13),
                                     d2 <= (double)r * r ? (uint8_t)(90 * shade) : (uint8_t)(check_urand(s) * 13),
                                     d2 <= (double)r * r ? (uint8_t)(35 * shade) : (uint8_t)(check_urand(s) * 13) };
            for (int c = 0; c < ch; c++)
                p[c] = ch == 3 ? rgb[c] : rgb[0];
        }
    static const int specks[][2] = { { 2, 2 }, { 10, 90 }, { 235, 170 }, { 5, 175 }, { 236, 60 } };
    for (size_t k = 0; k < sizeof specks / sizeof specks[0]; k++)
        if (specks[k][0] < W && specks[k][1] < H)
            memset(img.data + ((size_t)specks[k][1] * W + specks[k][0]) * ch, 255, (size_t)ch);
    for (int y = 3; y < 7 && y < H; y++)   /* "text": 4 rows × 25 columns, top left */
        memset(img.data + ((size_t)y * W + 4) * ch, 230, (size_t)25 * ch);
    return img;
}

static void test_fundus_box(void)
{
    uint64_t s = 7;
    int x, y, w, h;
    for (int ch = 1; ch <= 3; ch += 2) {
        /* disc of radius 70 at (130, 90): pixels x 60..200, y 20..160 */
        struct focal_image img = drawn_fundus(240, 180, ch, 130, 90, 70, &s);
        CHECK(focal_image_fundus_box(&img, &x, &y, &w, &h) == 0);
        CHECKF(abs(x - 60) <= 1 && abs(y - 20) <= 1 && abs(x + w - 1 - 200) <= 1 && abs(y + h - 1 - 160) <= 1,
               "%d channels: box %d,%d %dx%d; expected 60,20 141x141", ch, x, y, w, h);
        free(img.data);
    }
    /* a disc cut by the top and bottom edges, as in RFMiD */
    struct focal_image tall = drawn_fundus(240, 180, 3, 120, 90, 100, &s);
    CHECK(focal_image_fundus_box(&tall, &x, &y, &w, &h) == 0);
    CHECKF(y == 0 && h == 180 && abs(x - 20) <= 1 && abs(w - 201) <= 2, "cut disc: box %d,%d %dx%d", x, y, w, h);
    free(tall.data);

    /* all black; only a small bright patch: nothing found, the whole image */
    struct focal_image black = { 50, 40, 3, calloc(50 * 40, 3) };
    CHECK(focal_image_fundus_box(&black, &x, &y, &w, &h) == 1 && x == 0 && y == 0 && w == 50 && h == 40);
    for (int r = 10; r < 14; r++)
        memset(black.data + ((size_t)r * 50 + 10) * 3, 200, 4 * 3);
    CHECK(focal_image_fundus_box(&black, &x, &y, &w, &h) == 1 && w == 50 && h == 40);
    /* bright everywhere: the whole image is retina */
    memset(black.data, 150, 50 * 40 * 3);
    CHECK(focal_image_fundus_box(&black, &x, &y, &w, &h) == 0 && x == 0 && y == 0 && w == 50 && h == 40);
    free(black.data);
}

/* ---- real RFMiD photographs ------------------------------------------------------------ */

static double seconds(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

/* Decode, fundus crop and resize of one photograph; returns the time taken. */
static double decode_crop_resize(const char *p, int dw, int dh, struct focal_image *out)
{
    struct focal_image img, crop;
    int x, y, w, h;
    const double t0 = seconds();
    memset(out, 0, sizeof *out);
    if (focal_image_read(p, &img) != FOCAL_OK)
        return -1;
    focal_image_fundus_box(&img, &x, &y, &w, &h);
    focal_status st = focal_image_crop(&crop, &img, x, y, w, h);
    if (st == FOCAL_OK)
        st = focal_image_resize(out, &crop, dw, dh);
    const double t = seconds() - t0;
    focal_image_release(&img);
    focal_image_release(&crop);
    return st == FOCAL_OK ? t : -1;
}

static void test_real_photos(void)
{
    const char *shared = getenv("FOCAL_SHARED_DATA");
    char p[1024];
    snprintf(p, sizeof p, "%s/rfmid/images/1.png", shared ? shared : "");
    FILE *probe = shared && *shared ? fopen(p, "rb") : NULL;
    if (!probe) {
        printf("%s: skip: real RFMiD photographs (FOCAL_SHARED_DATA/rfmid/images/*.png not found)\n", NAME);
        return;
    }
    fclose(probe);
    for (int id = 1; id <= 10; id++) {
        snprintf(p, sizeof p, "%s/rfmid/images/%d.png", shared, id);
        struct focal_image img;
        focal_status st = focal_image_read(p, &img);
        CHECKF(st == FOCAL_OK, "%s", focal_last_error());
        if (st != FOCAL_OK)
            continue;
        CHECK(img.width == 2144 && img.height == 1424 && img.channels == 3);
        int x, y, w, h;
        CHECK(focal_image_fundus_box(&img, &x, &y, &w, &h) == 0);
        CHECKF(x > img.width / 10 && x + w < img.width * 9 / 10 && y >= 0 && y + h <= img.height &&
                   h >= img.height * 9 / 10 && w * 10 >= h * 9 && w * 10 <= h * 11,
               "%d.png: box %d,%d %dx%d is not a plausible retina disc", id, x, y, w, h);
        /* the black border left and right of the box really is black */
        int brightest = 0;
        for (int r = 0; r < img.height; r += 7)
            for (int c = 0; c < x - 4; c++)
                for (int k = 0; k < 3; k++)
                    brightest = img.data[((size_t)r * img.width + c) * 3 + k] > brightest
                                    ? img.data[((size_t)r * img.width + c) * 3 + k] : brightest;
        CHECKF(brightest < 40, "%d.png: left of the box reaches %d", id, brightest);
        focal_image_release(&img);
    }

    snprintf(p, sizeof p, "%s/rfmid/images/1.png", shared);
    struct focal_image out;
    double best = 1e9;
    for (int k = 0; k < 3; k++) {
        const double t = decode_crop_resize(p, 448, 448, &out);
        CHECK(t >= 0 && out.width == 448 && out.height == 448);
        best = t >= 0 && t < best ? t : best;
        focal_image_release(&out);
    }
    const double t2 = decode_crop_resize(p, 300, 450, &out);
    CHECK(t2 >= 0 && out.width == 300 && out.height == 450 && out.channels == 3);
    /* the centre of the retina is not black */
    CHECK(out.data && out.data[(225 * 300 + 150) * 3] > 50);
    focal_image_release(&out);
    printf("%s: 1.png 2144x1424 decode + fundus crop + resize: %.0f ms to 448x448 (best of 3), %.0f ms to 300x450\n",
           NAME, best * 1e3, t2 * 1e3);
#if !defined(__SANITIZE_ADDRESS__)
    CHECKF(best < 1.0, "decode + crop + resize took %.2f s", best);
#endif

    /* cut at many lengths, and a corrupted byte in the image data */
    size_t len;
    unsigned char *b = read_file(p, &len);
    const size_t cuts[] = { 1, 7, 8, 16, 24, 33, 34, 100, 4096, len / 3, len / 2, len - 4096, len - 13, len - 12,
                            len - 8, len - 5, len - 4, len - 1 };
    int bad = 0;
    for (size_t i = 0; i < sizeof cuts / sizeof cuts[0]; i++)
        bad += !fails_cleanly(put("cut1.png", b, cuts[i]), FOCAL_ERR_FORMAT, "truncated");
    CHECKF(bad == 0, "%d cuts of 1.png were not refused as truncated", bad);
    b[len / 2] ^= 0x10;
    CHECK(fails_cleanly(put("crc1.png", b, len), FOCAL_ERR_FORMAT, "checksum"));
    free(b);
}

int main(void)
{
    source_dir = check_source_dir(NAME);
    if (!source_dir || make_scratch_dir(NAME) != 0)
        return 1;
    test_fixtures();
    test_rounding16();
    test_bad_files();
    test_cuts_and_flips();
    test_write_png();
    test_resize();
    test_crop();
    test_fundus_box();
    test_real_photos();
    remove_tree(dir);
    return check_done(NAME);
}
