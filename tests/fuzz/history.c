/* Fuzzes the history.csv reader: focal_run_read_history on a run folder
 * whose history.csv is the input.
 * Promises checked: a failure has a status and a message and no rows; a
 * success has n >= 0 rows (rows NULL exactly when n is 0), each epoch in
 * 1..FOCAL_RUN_MAX_EPOCHS and improved 0 or 1.
 * Bound: runs under -rss_limit_mb=2048 -malloc_limit_mb=1024. */
#define _XOPEN_SOURCE 700
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int init;
    if (!init) {
        mkdir(fuzz_path("run"), 0700);
        init = 1;
    }
    fuzz_write(fuzz_path("run/history.csv"), data, size);
    struct focal_epoch_record *rows = (struct focal_epoch_record *)(uintptr_t)1;
    int n = -1;
    const focal_status st = focal_run_read_history(fuzz_path("run"), &rows, &n);
    if (st != FOCAL_OK) {
        FUZZ_CHECK_FAILURE(st);
        FUZZ_ASSERT(rows == NULL || rows == (struct focal_epoch_record *)(uintptr_t)1);
        return 0;
    }
    FUZZ_ASSERT(n >= 0 && (size_t)n <= size);
    FUZZ_ASSERT((rows == NULL) == (n == 0));
    for (int i = 0; i < n; i++) {
        FUZZ_ASSERT(rows[i].epoch >= 1 && rows[i].epoch <= FOCAL_RUN_MAX_EPOCHS);
        FUZZ_ASSERT(rows[i].improved == 0 || rows[i].improved == 1);
    }
    free(rows);
    return 0;
}
