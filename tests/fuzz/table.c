/* Fuzzes the CSV table reader: focal_dataset_open(FOCAL_FORMAT_CSV) on the
 * input as a file, with the header detected and the last column the target,
 * then with a header required and the first column ("1") the target.
 * Promises checked (dataset_check.h): a failure has a status, a message and
 * no dataset; a success has n >= 1 samples, a BINARY or MULTICLASS label in
 * range for each, and n × n_features features.
 * Bound: runs under -rss_limit_mb=2048 -malloc_limit_mb=1024. */
#define _XOPEN_SOURCE 700
#include "dataset_check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *path = fuzz_path("table.csv");
    fuzz_write(path, data, size);
    struct focal_data_options opt;
    memset(&opt, 0, sizeof opt);
    opt.format = FOCAL_FORMAT_CSV;
    opt.header = -1;
    fuzz_open_dataset(path, &opt);
    opt.header = 1;
    opt.target = "1";
    fuzz_open_dataset(path, &opt);
    return 0;
}
