/*
 * focal/image.h — decoding, encoding, resizing and cropping images; training-time augmentation.
 * Part of libfocal's public interface; include "focal.h" for all of it.
 */
#ifndef FOCAL_IMAGE_H
#define FOCAL_IMAGE_H

#include "focal/base.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------------ */
/* Images                                                                    */
/* ------------------------------------------------------------------------ */

/* The largest image the library decodes or makes: pixels per side and in all
 * (2^26 ≈ 67 million, e.g. 8192×8192). */
#define FOCAL_IMAGE_MAX_SIDE 32768
#define FOCAL_IMAGE_MAX_PIXELS ((uint64_t)1 << 26)

/* An 8-bit image, rows top to bottom, channels interleaved (HWC). */
struct focal_image {
    int width, height;
    int channels;        /* 1 (gray) or 3 (RGB) */
    uint8_t *data;       /* height × width × channels bytes; release with focal_image_release */
};
/* Frees img's pixels and zeroes it. Safe on a zeroed image and on NULL. */
void focal_image_release(struct focal_image *img);

/* Decodes a PNG (1 to 16 bit; gray, gray+alpha, RGB, RGBA, palette;
 * interlaced or not) or a JPEG (gray or colour; baseline or progressive)
 * file, recognised by its signature, not its name, into a new image *img
 * (release with focal_image_release): 1 channel for gray files, 3 otherwise.
 * 16-bit samples are rounded to the nearest 8-bit value (v/257), lower bit
 * depths scaled up to 0..255; alpha and transparency are dropped; palette
 * becomes RGB; gamma and colour profiles are not applied.
 * FOCAL_ERR_IO if the file cannot be read; FOCAL_ERR_FORMAT, naming the file
 * and what is wrong, for anything that is not a complete valid image:
 * empty, not PNG or JPEG, truncated (a PNG without its IEND chunk included),
 * a CRC or checksum mismatch, corrupt compressed data (a JPEG decoder warning
 * counts), CMYK JPEG, zero size, or more than FOCAL_IMAGE_MAX_SIDE pixels
 * per side or FOCAL_IMAGE_MAX_PIXELS in all (refused before anything is
 * allocated). On failure *img is zeroed. Never reads past the file's end.
 * Thread-safe: may be called on different images from several threads. */
focal_status focal_image_read(const char *path, struct focal_image *img);

/* The width and height of the PNG or JPEG file at path, from its header,
 * without decoding it (a PNG's first 24 bytes; a JPEG's frame header).
 * FOCAL_ERR_IO if it cannot be read, FOCAL_ERR_FORMAT if it is neither or
 * its size is out of range; a file whose header reads may still fail to
 * decode. */
focal_status focal_image_read_size(const char *path, int *width, int *height);

/* Encodes img (1 or 3 channels) as an 8-bit gray or RGB PNG in memory:
 * *png (caller frees with free()) of *len bytes. The same pixels always give
 * the same bytes. FOCAL_ERR_ARG for an invalid image, FOCAL_ERR_NOMEM. */
focal_status focal_image_encode_png(const struct focal_image *img, void **png, size_t *len);

/* Writes img as an 8-bit gray or RGB PNG, atomically (temporary file, fsync,
 * rename): path holds the old file or the complete new one, never a part.
 * FOCAL_ERR_ARG for an invalid image; FOCAL_ERR_IO naming path. */
focal_status focal_image_write_png(const char *path, const struct focal_image *img);

/* A new image *dst (release with focal_image_release) of width × height with src's
 * channels. Each axis separately: when it shrinks, a target pixel is the
 * average of the source area it covers, pixels partly covered weighted by
 * the fraction covered; when it grows, bilinear interpolation between source
 * pixel centres (centres at half-integers, the border pixels extended); when
 * it keeps its size, the source values. Rounded to nearest. dst must not be
 * src. FOCAL_ERR_ARG if width or height is below 1 or above
 * FOCAL_IMAGE_MAX_SIDE, or width × height above FOCAL_IMAGE_MAX_PIXELS;
 * FOCAL_ERR_NOMEM. On failure *dst is zeroed. Runs on the calling thread. */
focal_status focal_image_resize(struct focal_image *dst, const struct focal_image *src, int width, int height);

/* The bounding box of the retina disc in a fundus photograph. A pixel is
 * bright when its brightest channel exceeds a threshold taken from the image
 * (1/8 of its 90th-percentile brightness, kept within 10..40). A row belongs
 * to the retina when it holds at least 3% as many bright pixels as the
 * fullest row; the box spans the longest run of such rows (gaps up to 1% of
 * the height bridged), then likewise the columns within those rows. So JPEG
 * noise and isolated specks in the black border, or text printed there, do
 * not widen it. Returns 0 and the box (x, y, width, height); or 1 and the
 * whole image (0, 0, width, height) if nothing stands out from a black
 * border: fewer than a tenth of the pixels reach brightness 20, or the
 * bright area spans under 1/8 of the width or height (also, rarely, when
 * memory for the row counts cannot be had). Runs on the calling thread. */
int focal_image_fundus_box(const struct focal_image *img, int *x, int *y, int *w, int *h);

/* A new image *dst (release with focal_image_release) holding the rectangle
 * (x, y, w, h) of src. FOCAL_ERR_ARG unless w, h >= 1 and the rectangle lies
 * inside src; FOCAL_ERR_NOMEM. On failure *dst is zeroed. */
focal_status focal_image_crop(struct focal_image *dst, const struct focal_image *src, int x, int y, int w, int h);

/* ------------------------------------------------------------------------ */
/* Augmentation                                                              */
/* ------------------------------------------------------------------------ */

/* Training-time augmentation; zero-initialised means none. The forward chain
 * is: brightness/contrast on the input's values, flips, the 90° rotation, then
 * one affine (rotation and zoom about the image centre, then the shift). */
struct focal_augment {
    int hflip, vflip;        /* nonzero: flip with probability 1/2 */
    int rot90;               /* nonzero: rotate by 0, 90, 180 or 270° at random; square images
                                only (a non-square image is not rotated) */
    float rotate;            /* random rotation in [−rotate, rotate] degrees; 0..180 */
    float scale;             /* random zoom in [1−scale, 1+scale]; 0 <= scale < 1 */
    float translate;         /* random shift up to ± translate × width (height), rounded to
                                whole pixels as torchvision's RandomAffine; 0..1 */
    float brightness;        /* add b in [−brightness, brightness] to the 0..1 values; 0..1 */
    float contrast;          /* scale around the image mean by c in [1−contrast, 1+contrast]; 0..1 */
};

/* FOCAL_ERR_ARG, naming the field and its valid range, if a field of *a is out
 * of the range above or not finite; FOCAL_OK for a NULL a. */
focal_status focal_augment_check(const struct focal_augment *a);

/* Converts one HWC uint8 image to CHW floats in out (channels × height ×
 * width), applying the augmentation drawn from seed: the same (a, seed, image
 * size) gives the same transform, and each random value is drawn whether or
 * not its option is on, so switching one option leaves the others' draws as
 * they were. Give every (epoch, sample) its own seed, e.g.
 * run_seed ^ ((uint64_t)epoch << 32 | (uint32_t)sample); distinct seeds give
 * unrelated transforms. a NULL or all-zero: out = value / 255 exactly.
 *   values: v = value/255, then v' = clamp(m + c·(v − m) + b, 0, 1), m the
 *     mean of v over the whole image (all channels);
 *   geometry: a whole-pixel map (flips, 90° turns, shifts with no rotation or
 *     zoom drawn) moves pixels exactly; otherwise each output value is the
 *     bilinear interpolation of v' at its source position, the image being
 *     extended by zeros, so pixels moved in from outside are 0 (not b).
 * Every output value lies in [0, 1]. *a must pass focal_augment_check
 * (asserted). Does not allocate; never fails. */
void focal_augment_image(const struct focal_augment *a, uint64_t seed, const uint8_t *hwc,
                         int height, int width, int channels, float *out);

#ifdef __cplusplus
}
#endif

#endif /* FOCAL_IMAGE_H */
