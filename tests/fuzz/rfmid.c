/* Fuzzes the RFMiD labels reader: focal_dataset_open(FOCAL_FORMAT_RFMID) on
 * the input as a labels CSV (images are not decoded when opening), with the
 * default options, then with Disease_Risk as a label and the two most
 * frequent conditions kept (merge_rare 2).
 * Promises checked (dataset_check.h): a failure has a status, a message and
 * no dataset; a success is MULTILABEL with n >= 1 samples, 0/1 labels, an ID
 * and an image path for each.
 * Bound: runs under -rss_limit_mb=2048 -malloc_limit_mb=1024. */
#define _XOPEN_SOURCE 700
#include "dataset_check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *path = fuzz_path("RFMiD_Training_Labels.csv");
    fuzz_write(path, data, size);
    struct focal_data_options opt;
    memset(&opt, 0, sizeof opt);
    opt.format = FOCAL_FORMAT_RFMID;
    fuzz_open_dataset(path, &opt);
    opt.include_risk = 1;
    opt.merge_rare = 2;
    fuzz_open_dataset(path, &opt);
    return 0;
}
