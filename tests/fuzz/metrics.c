/* Fuzzes the metrics.json reader: focal_run_read_metrics on a run folder
 * whose metrics.json is the input.
 * Promises checked: a failure has a status and a message; a success has,
 * per split, num_classes >= 0 names (non-NULL) and average precisions, a
 * confusion matrix of num_classes² counts when present, an all-zero test
 * split when have_test is 0, and releases cleanly.
 * Bound: runs under -rss_limit_mb=2048 -malloc_limit_mb=1024. */
#define _XOPEN_SOURCE 700
#include "fuzz.h"

static void check_split(const struct focal_split_summary *s)
{
    FUZZ_ASSERT(s->num_classes >= 0);
    if (s->num_classes == 0)
        return;
    FUZZ_ASSERT(s->class_names != NULL && s->average_precision != NULL);
    const size_t c = (size_t)s->num_classes;
    for (size_t j = 0; j < c; j++)
        FUZZ_ASSERT(s->class_names[j] != NULL);
    volatile double ap = s->average_precision[c - 1];
    (void)ap;
    if (s->confusion) {
        volatile int64_t x = s->confusion[c * c - 1];
        (void)x;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int init;
    if (!init) {
        mkdir(fuzz_path("run"), 0700);
        init = 1;
    }
    fuzz_write(fuzz_path("run/metrics.json"), data, size);
    struct focal_run_metrics m;
    memset(&m, 0x5a, sizeof m);
    const focal_status st = focal_run_read_metrics(fuzz_path("run"), &m);
    if (st != FOCAL_OK) {
        FUZZ_CHECK_FAILURE(st);
        return 0;
    }
    check_split(&m.val);
    if (m.have_test)
        check_split(&m.test);
    else
        FUZZ_ASSERT(m.test.num_classes == 0 && m.test.class_names == NULL && m.test.confusion == NULL);
    focal_run_metrics_release(&m);
    return 0;
}
