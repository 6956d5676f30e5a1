/* test_report_png.c — the screenshot statistics that tests/cli/cli_report.sh uses
 * to tell a rendered report from a blank or half-drawn page: for every
 * horizontal band of a PNG, the fraction of ink pixels (any channel below
 * 235: text, lines, fills) and of colour pixels (channels more than 60 apart:
 * the charts' series colours, never the black and grey of text and axes).
 *
 *   test_report_png FILE.png BAND   prints "WIDTH HEIGHT", then per band of
 *                                   BAND rows "Y0 INK COLOUR" (fractions);
 *                                   exit 1 if the file is not a readable image
 *   test_report_png                 (as CTest runs it) checks those statistics
 *                                   on images it draws and writes itself
 */
#define _POSIX_C_SOURCE 200809L

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "focal.h"
#include "check.h"
#include "testfs.h"

#define NAME "test_report_png"
#define INK_BELOW 235
#define COLOUR_SPREAD 60

/* Per band of `band` rows from the top (the last may be shorter): the
 * fraction of ink pixels into ink[k] and of colour pixels into colour[k], k <
 * the number of bands, which is returned. ink and colour hold enough room. */
static int band_stats(const struct focal_image *img, int band, double *ink, double *colour)
{
    int n_bands = (img->height + band - 1) / band;
    for (int k = 0; k < n_bands; k++) {
        int y0 = k * band, y1 = y0 + band < img->height ? y0 + band : img->height;
        long n_ink = 0, n_colour = 0;
        for (int y = y0; y < y1; y++) {
            const uint8_t *row = img->data + (size_t)y * (size_t)img->width * (size_t)img->channels;
            for (int x = 0; x < img->width; x++) {
                const uint8_t *p = row + (size_t)x * (size_t)img->channels;
                int lo = p[0], hi = p[0];
                for (int c = 1; c < img->channels; c++) {
                    lo = p[c] < lo ? p[c] : lo;
                    hi = p[c] > hi ? p[c] : hi;
                }
                n_ink += lo < INK_BELOW;
                n_colour += hi - lo > COLOUR_SPREAD;
            }
        }
        double area = (double)(y1 - y0) * (double)img->width;
        ink[k] = (double)n_ink / area;
        colour[k] = (double)n_colour / area;
    }
    return n_bands;
}

/* Prints the statistics of the PNG at path for bands of `band` rows. */
static int print_stats(const char *path, int band)
{
    struct focal_image img;
    if (focal_image_read(path, &img) != FOCAL_OK) {
        fprintf(stderr, "%s: %s\n", NAME, focal_last_error());
        return 1;
    }
    int n_bands = (img.height + band - 1) / band;
    double *ink = malloc((size_t)n_bands * sizeof *ink), *colour = malloc((size_t)n_bands * sizeof *colour);
    if (!ink || !colour) {
        fprintf(stderr, "%s: out of memory\n", NAME);
        free(ink);
        free(colour);
        focal_image_release(&img);
        return 1;
    }
    band_stats(&img, band, ink, colour);
    printf("%d %d\n", img.width, img.height);
    for (int k = 0; k < n_bands; k++)
        printf("%d %.6f %.6f\n", k * band, ink[k], colour[k]);
    free(ink);
    free(colour);
    focal_image_release(&img);
    return 0;
}

/* Sets pixel (x, y) of a 3-channel image. */
static void paint(struct focal_image *img, int x, int y, uint8_t r, uint8_t g, uint8_t b)
{
    uint8_t *p = img->data + ((size_t)y * (size_t)img->width + (size_t)x) * 3;
    p[0] = r;
    p[1] = g;
    p[2] = b;
}

int main(int argc, char **argv)
{
    if (argc == 3) {
        int band = atoi(argv[2]);
        if (band < 1) {
            fprintf(stderr, "%s: BAND must be a positive number of rows\n", NAME);
            return 2;
        }
        return print_stats(argv[1], band);
    }
    if (argc != 1) {
        fprintf(stderr, "usage: %s [FILE.png BAND]\n", NAME);
        return 2;
    }

    /* a white 40 x 35 page: rows 10..19 half black (text), rows 20..29 a
     * quarter red (a chart), rows 30..34 light grey (a rule, below the ink level) */
    struct focal_image img = { 40, 35, 3, NULL };
    img.data = malloc(40 * 35 * 3);
    if (!img.data) {
        fprintf(stderr, "%s: out of memory\n", NAME);
        return 1;
    }
    memset(img.data, 255, 40 * 35 * 3);
    for (int y = 10; y < 20; y++)
        for (int x = 0; x < 20; x++)
            paint(&img, x, y, 0, 0, 0);
    for (int y = 20; y < 30; y++)
        for (int x = 0; x < 10; x++)
            paint(&img, x, y, 213, 94, 0);
    for (int y = 30; y < 35; y++)
        for (int x = 0; x < 40; x++)
            paint(&img, x, y, 240, 240, 240);

    double ink[4], colour[4];
    CHECK(band_stats(&img, 10, ink, colour) == 4);
    CHECKF(ink[0] == 0.0 && colour[0] == 0.0, "blank band: ink %g colour %g", ink[0], colour[0]);
    CHECKF(ink[1] == 0.5 && colour[1] == 0.0, "black band: ink %g colour %g", ink[1], colour[1]);
    CHECKF(ink[2] == 0.25 && colour[2] == 0.25, "red band: ink %g colour %g", ink[2], colour[2]);
    CHECKF(ink[3] == 0.0 && colour[3] == 0.0, "grey band (5 rows): ink %g colour %g", ink[3], colour[3]);
    CHECK(band_stats(&img, 35, ink, colour) == 1);
    CHECKF(check_close(ink[0], 300.0 / 1400.0, 1e-12, 0.0), "one band: ink %g", ink[0]);

    /* the same through a PNG file, as the shell test reads screenshots */
    if (make_scratch_dir(NAME) == 0) {
        const char *png = path_in("page.png");
        struct focal_image back;
        CHECK(focal_image_write_png(png, &img) == FOCAL_OK);
        CHECK(focal_image_read(png, &back) == FOCAL_OK);
        if (back.data) {
            CHECK(back.width == 40 && back.height == 35 && back.channels == 3);
            CHECK(band_stats(&back, 10, ink, colour) == 4);
            CHECKF(ink[1] == 0.5 && colour[2] == 0.25, "after PNG: ink %g colour %g", ink[1], colour[2]);
            focal_image_release(&back);
        }
        /* a gray image has ink but never colour */
        struct focal_image gray = { 4, 2, 1, (uint8_t[]){ 0, 255, 255, 255, 0, 0, 255, 255 } };
        CHECK(band_stats(&gray, 1, ink, colour) == 2);
        CHECKF(ink[0] == 0.25 && ink[1] == 0.5 && colour[0] == 0.0 && colour[1] == 0.0,
               "gray: ink %g %g colour %g %g", ink[0], ink[1], colour[0], colour[1]);
        CHECK(print_stats(path_in("missing.png"), 10) == 1);
        remove_tree(dir);
    } else {
        CHECK(!"scratch directory");
    }
    free(img.data);
    return check_done(NAME);
}
