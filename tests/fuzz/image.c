/* Fuzzes the image decoders (libspng for PNG, TurboJPEG for JPEG, chosen by
 * the signature): focal_image_read on the input as a file, then, for a
 * decoded image, a resize to 7 × 5 (the loader's next step).
 * Promises checked: a failure has a status, a message and a zeroed image; a
 * success has 1 or 3 channels, 1..FOCAL_IMAGE_MAX_SIDE pixels a side, at
 * most FOCAL_IMAGE_MAX_PIXELS in all, and every pixel readable.
 * Bound: runs under -rss_limit_mb=2048 -malloc_limit_mb=1024; images above
 * the library's size limits are refused before anything is allocated. */
#define _XOPEN_SOURCE 700
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *path = fuzz_path("in.img");
    fuzz_write(path, data, size);
    struct focal_image img;
    memset(&img, 0x5a, sizeof img);
    focal_status st = focal_image_read(path, &img);
    if (st != FOCAL_OK) {
        FUZZ_CHECK_FAILURE(st);
        FUZZ_ASSERT(img.data == NULL && img.width == 0 && img.height == 0 && img.channels == 0);
        return 0;
    }
    FUZZ_ASSERT(img.channels == 1 || img.channels == 3);
    FUZZ_ASSERT(img.width >= 1 && img.width <= FOCAL_IMAGE_MAX_SIDE);
    FUZZ_ASSERT(img.height >= 1 && img.height <= FOCAL_IMAGE_MAX_SIDE);
    FUZZ_ASSERT((uint64_t)img.width * (uint64_t)img.height <= FOCAL_IMAGE_MAX_PIXELS);
    FUZZ_ASSERT(img.data != NULL);
    const size_t bytes = (size_t)img.width * (size_t)img.height * (size_t)img.channels;
    volatile uint8_t x = img.data[0];
    x ^= img.data[bytes - 1];
    (void)x;
    struct focal_image small;
    st = focal_image_resize(&small, &img, 7, 5);
    FUZZ_ASSERT(st == FOCAL_OK || st == FOCAL_ERR_NOMEM);
    if (st == FOCAL_OK) {
        FUZZ_ASSERT(small.width == 7 && small.height == 5 && small.channels == img.channels);
        focal_image_release(&small);
    }
    focal_image_release(&img);
    FUZZ_ASSERT(img.data == NULL);
    return 0;
}
