/* Fuzzes the network description parser and shape inference:
 * focal_model_create on the input as the description, for 1 × 8 × 8 inputs,
 * 3 classes, max_batch 2, with either head; a built network then runs one
 * forward pass on zeros.
 * Promises checked: a failure has a status and a message and no model; a
 * success has the asked shape, classes and batch, its description back,
 * readable tensors, and a forward pass that succeeds.
 * Bound: runs under -rss_limit_mb=2048 -malloc_limit_mb=1024. A description
 * may legitimately ask for any size of network, so the harness bounds what it
 * asks for: inputs up to 160 bytes whose numbers are at most 16, or at least
 * 10^10 (which no int holds: the parser must refuse them). */
#define _XOPEN_SOURCE 700
#include <ctype.h>
#include "fuzz.h"

/* 1 if every run of digits in s[0..n) is a number <= 16 or has 11 digits or more. */
static int small_numbers(const uint8_t *s, size_t n)
{
    for (size_t i = 0; i < n;) {
        if (!isdigit(s[i])) {
            i++;
            continue;
        }
        size_t j = i;
        unsigned long v = 0;
        while (j < n && isdigit(s[j])) {
            if (v <= 1000)
                v = v * 10 + (unsigned long)(s[j] - '0');
            j++;
        }
        if (v > 16 && j - i < 11)
            return 0;
        i = j;
    }
    return 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    (void)fuzz_dir(); /* one thread */
    if (size > 160 || !small_numbers(data, size))
        return 0;
    char *desc = malloc(size + 1);
    FUZZ_ASSERT(desc != NULL);
    memcpy(desc, data, size);
    desc[size] = '\0';
    for (int head = 0; head < 2; head++) {
        struct focal_model *m = (struct focal_model *)(uintptr_t)1;
        const focal_status st = focal_model_create(&m, desc, "fuzz.net", 1, 8, 8, 3,
                                                   head ? FOCAL_HEAD_SOFTMAX : FOCAL_HEAD_SIGMOID, 2);
        if (st != FOCAL_OK) {
            FUZZ_CHECK_FAILURE(st);
            FUZZ_ASSERT(m == NULL || m == (struct focal_model *)(uintptr_t)1);
            continue;
        }
        FUZZ_ASSERT(m != NULL);
        int c, h, w;
        focal_model_input_shape(m, &c, &h, &w);
        FUZZ_ASSERT(c == 1 && h == 8 && w == 8);
        FUZZ_ASSERT(focal_model_classes(m) == 3 && focal_model_max_batch(m) == 2);
        FUZZ_ASSERT(focal_model_description(m) != NULL);
        const size_t nt = focal_model_num_tensors(m);
        for (size_t i = 0; i < nt; i++) {
            struct focal_tensor_info ti;
            focal_model_tensor(m, i, &ti);
            FUZZ_ASSERT(ti.name != NULL && ti.data != NULL && ti.numel >= 1);
        }
        FUZZ_ASSERT(focal_model_init(m, 1, 0.0) == FOCAL_OK);
        float x[2 * 64] = { 0 };
        const float *logits = NULL;
        FUZZ_ASSERT(focal_model_forward(m, x, 2, head, &logits) == FOCAL_OK && logits != NULL);
        volatile float y = logits[5];
        (void)y;
        focal_model_free(m);
    }
    free(desc);
    return 0;
}
