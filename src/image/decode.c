/* image.c — image files: PNG (libspng) and JPEG (TurboJPEG) decoded into
 * 8-bit gray or RGB images, and 8-bit images encoded as PNG. Every size read
 * from a file is checked against fixed limits before anything is allocated,
 * so a hostile file can neither overflow a size computation nor make the
 * decoder ask for gigabytes. Resizing, cropping and the fundus box are in
 * image_ops.c. */
#define _POSIX_C_SOURCE 200809L
#include <assert.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <spng.h>
#include <turbojpeg.h>
#include <zlib.h>

#include "focal/image.h"
#include "base/internal.h"

/* Files larger than this are refused before being read. */
#define IMAGE_MAX_FILE_BYTES ((size_t)512 << 20)
/* libspng: largest ancillary chunk, and all ancillary chunks together, kept
 * in memory (image data is streamed from the file buffer, not cached). */
#define PNG_CHUNK_LIMIT ((size_t)16 << 20)
#define PNG_CACHE_LIMIT ((size_t)64 << 20)

static const uint8_t png_signature[8] = { 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n' };
static const uint8_t jpeg_signature[3] = { 0xff, 0xd8, 0xff };
/* The PNG end chunk: length 0, type IEND, its (fixed) CRC. */
static const uint8_t png_iend[12] = { 0, 0, 0, 0, 'I', 'E', 'N', 'D', 0xae, 0x42, 0x60, 0x82 };

void focal_image_release(struct focal_image *img)
{
    if (!img)
        return;
    free(img->data);
    img->data = NULL;
    img->width = img->height = img->channels = 0;
}

/* FOCAL_OK if a width × height image lies within the limits, else
 * FOCAL_ERR_FORMAT naming path, the file's kind and the dimensions. */
static focal_status image_check_size(const char *path, const char *kind, uint64_t width, uint64_t height)
{
    if (width == 0 || height == 0)
        return focal_fail(FOCAL_ERR_FORMAT, "%s: %s has zero size (%llux%llu)", path, kind,
                          (unsigned long long)width, (unsigned long long)height);
    if (width > FOCAL_IMAGE_MAX_SIDE || height > FOCAL_IMAGE_MAX_SIDE ||
        width * height > FOCAL_IMAGE_MAX_PIXELS)
        return focal_fail(FOCAL_ERR_FORMAT,
                          "%s: %s is %llux%llu pixels; at most %d per side and %llu in all are accepted",
                          path, kind, (unsigned long long)width, (unsigned long long)height,
                          FOCAL_IMAGE_MAX_SIDE, (unsigned long long)FOCAL_IMAGE_MAX_PIXELS);
    return FOCAL_OK;
}

/* Allocates img's pixel buffer for width × height × channels (within the
 * limits, checked by the caller) and sets its fields. */
static focal_status image_alloc(struct focal_image *img, const char *path, int width, int height, int channels)
{
    img->data = malloc((size_t)width * (size_t)height * (size_t)channels);
    if (!img->data)
        return focal_fail(FOCAL_ERR_NOMEM, "%s: out of memory for %dx%d pixels", path, width, height);
    img->width = width;
    img->height = height;
    img->channels = channels;
    return FOCAL_OK;
}

/* A big-endian 32-bit value. */
static uint32_t be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* The libspng error r as a message about the file at path. */
static focal_status png_error(const char *path, int r)
{
    if (r == SPNG_IO_EOF || r == SPNG_EOF)
        return focal_fail(FOCAL_ERR_FORMAT, "%s: truncated PNG: the file ends before the image does", path);
    if (r == SPNG_EMEM)
        return focal_fail(FOCAL_ERR_NOMEM, "%s: out of memory decoding the PNG", path);
    return focal_fail(FOCAL_ERR_FORMAT, "%s: corrupt PNG: %s", path, spng_strerror(r));
}

/* 1 if the complete IEND chunk occurs in buf[8..len), searched from the end. */
static int png_has_iend(const uint8_t *buf, size_t len)
{
    for (size_t i = len; i >= 8 + sizeof png_iend; i--)
        if (memcmp(buf + i - sizeof png_iend, png_iend, sizeof png_iend) == 0)
            return 1;
    return 0;
}

/* Decodes the PNG in buf[0..len) into img. */
static focal_status png_decode(const char *path, const uint8_t *buf, size_t len, struct focal_image *img)
{
    focal_status st = FOCAL_OK;
    struct spng_ihdr ihdr;
    void *raw = NULL;
    size_t raw_len = 0;
    int r;

    /* The size in the header is checked here, where the message can name it;
     * libspng's own limits below are the second line of defence. */
    if (len >= 24 && memcmp(buf + 12, "IHDR", 4) == 0) {
        st = image_check_size(path, "PNG image", be32(buf + 16), be32(buf + 20));
        if (st != FOCAL_OK)
            return st;
    }
    spng_ctx *ctx = spng_ctx_new(0);
    if (!ctx)
        return focal_fail(FOCAL_ERR_NOMEM, "%s: out of memory decoding the PNG", path);
    if ((r = spng_set_image_limits(ctx, FOCAL_IMAGE_MAX_SIDE, FOCAL_IMAGE_MAX_SIDE)) != 0 ||
        (r = spng_set_chunk_limits(ctx, PNG_CHUNK_LIMIT, PNG_CACHE_LIMIT)) != 0 ||
        (r = spng_set_png_buffer(ctx, buf, len)) != 0 || (r = spng_get_ihdr(ctx, &ihdr)) != 0) {
        st = png_error(path, r);
        goto out;
    }
    if ((st = image_check_size(path, "PNG image", ihdr.width, ihdr.height)) != FOCAL_OK)
        goto out;

    /* Samples per pixel in the file, and the format libspng delivers: 8-bit
     * gray and colour (palette included) are converted by libspng; 16-bit
     * samples and gray+alpha come as stored and are reduced below. */
    const int gray = ihdr.color_type == SPNG_COLOR_TYPE_GRAYSCALE ||
                     ihdr.color_type == SPNG_COLOR_TYPE_GRAYSCALE_ALPHA;
    const int alpha = ihdr.color_type == SPNG_COLOR_TYPE_GRAYSCALE_ALPHA ||
                      ihdr.color_type == SPNG_COLOR_TYPE_TRUECOLOR_ALPHA;
    const int wide = ihdr.bit_depth == 16;
    const int channels = gray ? 1 : 3;
    const int stored = channels + alpha;
    int fmt;
    if (wide || ihdr.color_type == SPNG_COLOR_TYPE_GRAYSCALE_ALPHA)
        fmt = SPNG_FMT_PNG;
    else
        fmt = gray ? SPNG_FMT_G8 : SPNG_FMT_RGB8;

    if ((r = spng_decoded_image_size(ctx, fmt, &raw_len)) != 0) {
        st = png_error(path, r);
        goto out;
    }
    const size_t npix = (size_t)ihdr.width * ihdr.height;
    const size_t want = fmt == SPNG_FMT_PNG ? npix * (size_t)stored * (wide ? 2u : 1u) : npix * (size_t)channels;
    if (raw_len != want) {
        st = focal_fail(FOCAL_ERR_FORMAT, "%s: unsupported PNG layout (bit depth %d, colour type %d)", path,
                        ihdr.bit_depth, ihdr.color_type);
        goto out;
    }
    if ((st = image_alloc(img, path, (int)ihdr.width, (int)ihdr.height, channels)) != FOCAL_OK)
        goto out;
    /* 8-bit gray or colour decodes straight into the image. */
    raw = fmt == SPNG_FMT_PNG ? malloc(raw_len) : img->data;
    if (!raw) {
        st = focal_fail(FOCAL_ERR_NOMEM, "%s: out of memory decoding the PNG", path);
        goto out;
    }
    if ((r = spng_decode_image(ctx, raw, raw_len, fmt, 0)) != 0) {
        st = png_error(path, r);
        goto out;
    }
    /* Everything after the image data up to IEND must be there and intact;
     * libspng stops at the IEND type without reading its CRC, so the whole
     * chunk is looked for here (bytes after it are tolerated). */
    if ((r = spng_decode_chunks(ctx)) != 0) {
        st = png_error(path, r);
        goto out;
    }
    if (!png_has_iend(buf, len)) {
        st = png_error(path, SPNG_IO_EOF);
        goto out;
    }
    if (fmt == SPNG_FMT_PNG) {
        uint8_t *dst = img->data;
        if (wide) {
            /* host-endian 16-bit samples; v/257 rounded to nearest (no ties) */
            const uint16_t *src = raw;
            for (size_t i = 0; i < npix; i++, src += stored)
                for (int c = 0; c < channels; c++)
                    *dst++ = (uint8_t)((src[c] + 128u) / 257u);
        } else {
            const uint8_t *src = raw;
            for (size_t i = 0; i < npix; i++, src += stored)
                *dst++ = src[0];
        }
    }
out:
    if (raw != img->data)
        free(raw);
    if (st != FOCAL_OK)
        focal_image_release(img);
    spng_ctx_free(ctx);
    return st;
}

/* The TurboJPEG failure on handle tj as a message about the file at path. */
static focal_status jpeg_error(const char *path, tjhandle tj)
{
    const char *why = tjGetErrorStr2(tj);
    if (why && strstr(why, "Premature end"))
        return focal_fail(FOCAL_ERR_FORMAT, "%s: truncated JPEG: %s", path, why);
    return focal_fail(FOCAL_ERR_FORMAT, "%s: corrupt or unsupported JPEG: %s", path, why ? why : "unknown error");
}

/* Decodes the JPEG in buf[0..len) into img. Warnings (premature end of data,
 * corrupt entropy data) are errors: the pixels would be partly invented. */
static focal_status jpeg_decode(const char *path, const uint8_t *buf, size_t len, struct focal_image *img)
{
    focal_status st = FOCAL_OK;
    int width, height, subsamp, colorspace;

    /* len <= IMAGE_MAX_FILE_BYTES, so it fits TurboJPEG's unsigned long */
    tjhandle tj = tjInitDecompress();
    if (!tj)
        return focal_fail(FOCAL_ERR_NOMEM, "%s: cannot start the JPEG decoder", path);
    if (tjDecompressHeader3(tj, buf, (unsigned long)len, &width, &height, &subsamp, &colorspace) != 0) {
        st = jpeg_error(path, tj);
        goto out;
    }
    if (width <= 0 || height <= 0) {
        st = image_check_size(path, "JPEG image", 0, 0);
        goto out;
    }
    if ((st = image_check_size(path, "JPEG image", (uint64_t)width, (uint64_t)height)) != FOCAL_OK)
        goto out;
    if (colorspace == TJCS_CMYK || colorspace == TJCS_YCCK) {
        st = focal_fail(FOCAL_ERR_FORMAT, "%s: CMYK JPEG images are not supported; expected gray or colour", path);
        goto out;
    }
    const int gray = colorspace == TJCS_GRAY;
    if ((st = image_alloc(img, path, width, height, gray ? 1 : 3)) != FOCAL_OK)
        goto out;
    if (tjDecompress2(tj, buf, (unsigned long)len, img->data, width, 0, height, gray ? TJPF_GRAY : TJPF_RGB,
                      TJFLAG_STOPONWARNING | TJFLAG_LIMITSCANS) != 0) {
        st = jpeg_error(path, tj);
        focal_image_release(img);
    }
out:
    tjDestroy(tj);
    return st;
}

focal_status focal_image_read(const char *path, struct focal_image *img)
{
    struct stat sb;
    char *buf = NULL;
    size_t len = 0;

    assert(path && img);
    img->data = NULL;
    img->width = img->height = img->channels = 0;
    if (stat(path, &sb) == 0 && S_ISREG(sb.st_mode) && (unsigned long long)sb.st_size > IMAGE_MAX_FILE_BYTES)
        return focal_fail(FOCAL_ERR_FORMAT, "%s: file of %llu bytes is too large for an image (limit %zu MiB)",
                          path, (unsigned long long)sb.st_size, IMAGE_MAX_FILE_BYTES >> 20);
    focal_status st = focal_read_file(path, 1, &buf, &len);
    if (st != FOCAL_OK)
        return st;
    const uint8_t *b = (const uint8_t *)buf;
    if (len == 0)
        st = focal_fail(FOCAL_ERR_FORMAT, "%s: empty file; expected a PNG or JPEG image", path);
    else if (len >= sizeof png_signature && memcmp(b, png_signature, sizeof png_signature) == 0)
        st = png_decode(path, b, len, img);
    else if (len >= sizeof jpeg_signature && memcmp(b, jpeg_signature, sizeof jpeg_signature) == 0)
        st = jpeg_decode(path, b, len, img);
    else if (len < sizeof png_signature && memcmp(b, png_signature, len) == 0)
        st = focal_fail(FOCAL_ERR_FORMAT, "%s: truncated PNG: only %zu bytes", path, len);
    else
        st = focal_fail(FOCAL_ERR_FORMAT,
                        "%s: not a PNG or JPEG image (it starts with bytes %02x %02x %02x %02x)", path, b[0],
                        len > 1 ? b[1] : 0, len > 2 ? b[2] : 0, len > 3 ? b[3] : 0);
    free(buf);
    return st;
}

/* Up to `want` more bytes of fp into buf + *got. FOCAL_ERR_IO on a read error. */
static focal_status read_more(FILE *fp, const char *path, uint8_t *buf, size_t want, size_t *got)
{
    *got += fread(buf + *got, 1, want, fp);
    return ferror(fp) ? focal_fail(FOCAL_ERR_IO, "%s: read error", path) : FOCAL_OK;
}

focal_status focal_image_read_size(const char *path, int *width, int *height)
{
    uint8_t head[64 * 1024];
    size_t got = 0;
    *width = *height = 0;
    FILE *fp = fopen(path, "rb");
    if (!fp)
        return focal_fail(FOCAL_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    /* a PNG's size is in its first 24 bytes; only a JPEG needs more */
    focal_status st = read_more(fp, path, head, 24, &got);
    if (st == FOCAL_OK && got >= sizeof jpeg_signature && memcmp(head, jpeg_signature, sizeof jpeg_signature) == 0)
        st = read_more(fp, path, head, sizeof head - got, &got);
    fclose(fp);
    if (st != FOCAL_OK)
        return st;
    if (got >= 24 && memcmp(head, png_signature, sizeof png_signature) == 0) {
        /* the IHDR chunk comes first: length 13, "IHDR", width, height */
        if (memcmp(head + 12, "IHDR", 4) != 0)
            return focal_fail(FOCAL_ERR_FORMAT, "%s: PNG without an IHDR chunk first", path);
        const uint32_t w = be32(head + 16), h = be32(head + 20);
        if ((st = image_check_size(path, "PNG image", w, h)) != FOCAL_OK)
            return st;
        *width = (int)w;
        *height = (int)h;
        return FOCAL_OK;
    }
    if (got >= sizeof jpeg_signature && memcmp(head, jpeg_signature, sizeof jpeg_signature) == 0) {
        /* the frame header is usually within the first bytes; else the whole file */
        tjhandle tj = tjInitDecompress();
        if (!tj)
            return focal_fail(FOCAL_ERR_NOMEM, "%s: cannot start the JPEG decoder", path);
        int w, h, sub, cs;
        char *buf = NULL;
        size_t len = got;
        const uint8_t *b = head;
        int r = tjDecompressHeader3(tj, head, (unsigned long)got, &w, &h, &sub, &cs);
        if (r != 0 && got == sizeof head && (st = focal_read_file(path, 1, &buf, &len)) == FOCAL_OK &&
            len <= IMAGE_MAX_FILE_BYTES) {
            b = (const uint8_t *)buf;
            r = tjDecompressHeader3(tj, b, (unsigned long)len, &w, &h, &sub, &cs);
        }
        if (st == FOCAL_OK && r != 0)
            st = jpeg_error(path, tj);
        if (st == FOCAL_OK)
            st = image_check_size(path, "JPEG image", (uint64_t)(w > 0 ? w : 0), (uint64_t)(h > 0 ? h : 0));
        if (st == FOCAL_OK) {
            *width = w;
            *height = h;
        }
        free(buf);
        tjDestroy(tj);
        return st;
    }
    return focal_fail(FOCAL_ERR_FORMAT, "%s: not a PNG or JPEG image", path);
}

/* Checks that img is an image the library can encode; FOCAL_ERR_ARG otherwise. */
static focal_status image_check(const struct focal_image *img)
{
    if (!img || !img->data || (img->channels != 1 && img->channels != 3) || img->width < 1 || img->height < 1 ||
        img->width > FOCAL_IMAGE_MAX_SIDE || img->height > FOCAL_IMAGE_MAX_SIDE ||
        (uint64_t)img->width * (uint64_t)img->height > FOCAL_IMAGE_MAX_PIXELS)
        return focal_fail(FOCAL_ERR_ARG, "invalid image: %dx%d with %d channels; expected 1 or 3 channels and "
                          "1..%d pixels per side", img ? img->width : 0, img ? img->height : 0,
                          img ? img->channels : 0, FOCAL_IMAGE_MAX_SIDE);
    return FOCAL_OK;
}

focal_status focal_image_encode_png(const struct focal_image *img, void **png, size_t *len)
{
    focal_status st;
    int r, err = 0;

    *png = NULL;
    *len = 0;
    if ((st = image_check(img)) != FOCAL_OK)
        return st;
    spng_ctx *ctx = spng_ctx_new(SPNG_CTX_ENCODER);
    if (!ctx)
        return focal_fail(FOCAL_ERR_NOMEM, "out of memory encoding a PNG");
    struct spng_ihdr ihdr = {
        .width = (uint32_t)img->width,
        .height = (uint32_t)img->height,
        .bit_depth = 8,
        .color_type = img->channels == 3 ? SPNG_COLOR_TYPE_TRUECOLOR : SPNG_COLOR_TYPE_GRAYSCALE,
    };
    const size_t size = (size_t)img->width * (size_t)img->height * (size_t)img->channels;
    /* A deflate window no larger than the data compresses as well and
     * allocates less (focal synth encodes many small images). In
     * photographs noise defeats long-distance matches: run-length matching
     * of the filtered rows is several times faster than zlib's default
     * search and gives smaller files. */
    int window = 9;
    while (window < 15 && ((size_t)1 << window) < size + (size_t)img->height)
        window++;
    if ((r = spng_set_option(ctx, SPNG_ENCODE_TO_BUFFER, 1)) != 0 ||
        (r = spng_set_option(ctx, SPNG_IMG_WINDOW_BITS, window)) != 0 ||
        (r = spng_set_option(ctx, SPNG_IMG_COMPRESSION_STRATEGY, Z_RLE)) != 0 || (r = spng_set_ihdr(ctx, &ihdr)) != 0 ||
        (r = spng_encode_image(ctx, img->data, size, SPNG_FMT_PNG, SPNG_ENCODE_FINALIZE)) != 0) {
        st = r == SPNG_EMEM ? focal_fail(FOCAL_ERR_NOMEM, "out of memory encoding a PNG")
                            : focal_fail(FOCAL_ERR_ARG, "cannot encode a PNG: %s", spng_strerror(r));
        goto out;
    }
    *png = spng_get_png_buffer(ctx, len, &err);
    if (!*png)
        st = focal_fail(FOCAL_ERR_NOMEM, "cannot encode a PNG: %s", spng_strerror(err));
out:
    spng_ctx_free(ctx);
    return st;
}

focal_status focal_image_write_png(const char *path, const struct focal_image *img)
{
    struct focal_wfile wf;
    void *png;
    size_t len;

    focal_status st = focal_image_encode_png(img, &png, &len);
    if (st != FOCAL_OK) {
        char why[256];
        snprintf(why, sizeof why, "%s", focal_last_error());
        return focal_fail(st, "%s: %s", path, why);
    }
    if ((st = focal_wfile_open(&wf, path)) == FOCAL_OK) {
        if (fwrite(png, 1, len, wf.fp) != len) {
            const int e = errno;
            focal_wfile_abort(&wf);
            st = focal_fail(FOCAL_ERR_IO, "%s: write failed: %s; the file was not written", path, strerror(e));
        } else {
            st = focal_wfile_commit(&wf);
        }
    }
    free(png);
    return st;
}
