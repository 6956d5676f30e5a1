/* Fuzzes the MNIST idx reader: focal_dataset_open(FOCAL_FORMAT_IDX) on two
 * files cut from the input: the first 2 bytes (little-endian) are the length
 * L of the labels file, the next L bytes the labels file
 * "in-labels-idx1-ubyte", the rest the images file "in-images-idx3-ubyte"
 * (each plain or gzip'd; zlib reads both).
 * Promises checked (dataset_check.h): a failure has a status, a message and
 * no dataset; a success has n >= 1 images with every pixel readable and a
 * class per image.
 * Bound: runs under -rss_limit_mb=2048 -malloc_limit_mb=1024; the sizes an
 * idx header claims must not be allocated before they are found to be there. */
#define _XOPEN_SOURCE 700
#include "dataset_check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2)
        return 0;
    size_t nl = (size_t)data[0] | (size_t)data[1] << 8;
    if (nl > size - 2)
        nl = size - 2;
    fuzz_write(fuzz_path("in-labels-idx1-ubyte"), data + 2, nl);
    const char *images = fuzz_path("in-images-idx3-ubyte");
    fuzz_write(images, data + 2 + nl, size - 2 - nl);
    struct focal_data_options opt;
    memset(&opt, 0, sizeof opt);
    opt.format = FOCAL_FORMAT_IDX;
    fuzz_open_dataset(images, &opt);
    return 0;
}
