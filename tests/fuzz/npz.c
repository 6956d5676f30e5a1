/* Fuzzes the MedMNIST .npz reader (zip container, .npy members, deflate):
 * focal_dataset_open(FOCAL_FORMAT_NPZ) on the input as a file.
 * Promises checked (dataset_check.h): a failure has a status, a message and
 * no dataset; a success has n >= 1 samples of height × width × channels
 * pixels (every byte readable) and labels in range.
 * Bound: runs under -rss_limit_mb=2048 -malloc_limit_mb=1024; the pixels a
 * file claims must not be allocated before they are found to be there. */
#define _XOPEN_SOURCE 700
#include "dataset_check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *path = fuzz_path("in.npz");
    fuzz_write(path, data, size);
    struct focal_data_options opt;
    memset(&opt, 0, sizeof opt);
    opt.format = FOCAL_FORMAT_NPZ;
    fuzz_open_dataset(path, &opt);
    return 0;
}
