/* Fuzzes the scores.csv reader: focal_run_read_scores on a run folder whose
 * scores.csv is the input, for the "val" and then the "test" split.
 * Promises checked: a failure has a status and a message; a success has
 * outputs >= 1 column names, n >= 0 rows of finite probabilities and 0/1
 * labels, and releases cleanly.
 * Bound: runs under -rss_limit_mb=2048 -malloc_limit_mb=1024. */
#define _XOPEN_SOURCE 700
#include <math.h>
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int init;
    if (!init) {
        mkdir(fuzz_path("run"), 0700);
        init = 1;
    }
    fuzz_write(fuzz_path("run/scores.csv"), data, size);
    static const char *const splits[2] = { "val", "test" };
    for (int k = 0; k < 2; k++) {
        struct focal_run_scores s;
        memset(&s, 0x5a, sizeof s);
        const focal_status st = focal_run_read_scores(fuzz_path("run"), splits[k], &s);
        if (st != FOCAL_OK) {
            FUZZ_CHECK_FAILURE(st);
            continue;
        }
        FUZZ_ASSERT(s.outputs >= 1 && s.names != NULL);
        for (int j = 0; j < s.outputs; j++)
            FUZZ_ASSERT(s.names[j] != NULL);
        FUZZ_ASSERT(s.n >= 0 && (size_t)s.n <= size);
        const size_t cells = (size_t)s.n * (size_t)s.outputs;
        FUZZ_ASSERT(cells == 0 || (s.probs != NULL && s.labels != NULL));
        for (size_t i = 0; i < cells; i++) {
            FUZZ_ASSERT(isfinite(s.probs[i]));
            FUZZ_ASSERT(s.labels[i] <= 1);
        }
        focal_run_scores_release(&s);
    }
    return 0;
}
