/* Fuzzes the numeric CSV reader, focal_csv_read, on the input as a file.
 * Promises checked: a failure has a status and a message and leaves the
 * matrix empty; a success gives rows × cols values (data non-NULL when there
 * is any) that focal_csv_locate finds again, and frees cleanly.
 * Bound: runs under -rss_limit_mb=2048 -malloc_limit_mb=1024; an input of
 * n bytes must not need more than a small multiple of n. */
#define _XOPEN_SOURCE 700
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *path = fuzz_path("in.csv");
    fuzz_write(path, data, size);
    struct focal_csv_matrix m;
    memset(&m, 0x5a, sizeof m);
    focal_status st = focal_csv_read(path, &m);
    if (st != FOCAL_OK) {
        FUZZ_CHECK_FAILURE(st);
        FUZZ_ASSERT(m.data == NULL && m.rows == 0 && m.cols == 0);
        return 0;
    }
    FUZZ_ASSERT(m.rows == 0 || m.cols > 0);
    FUZZ_ASSERT(m.rows * m.cols == 0 || m.data != NULL);
    FUZZ_ASSERT(m.rows * m.cols <= size); /* each value takes at least one byte */
    volatile double sum = 0;
    for (size_t i = 0; i < m.rows * m.cols; i++)
        sum += m.data[i];
    (void)sum;
    if (m.rows > 0) {
        size_t line, column;
        char quote[FOCAL_CSV_QUOTE_SIZE];
        const size_t r = m.rows - 1, c = m.cols - 1;
        st = focal_csv_locate(path, r, c, &line, &column, quote);
        FUZZ_ASSERT(st == FOCAL_OK);
        FUZZ_ASSERT(line >= 1 && column >= 1 && memchr(quote, '\0', sizeof quote) != NULL);
        st = focal_csv_locate(path, m.rows, 0, &line, &column, quote);
        FUZZ_ASSERT(st == FOCAL_ERR_ARG && focal_last_error()[0]);
    }
    focal_csv_release(&m);
    return 0;
}
