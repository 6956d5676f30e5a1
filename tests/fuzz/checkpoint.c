/* Fuzzes the checkpoint reader (safetensors header JSON, metadata, the
 * network description it holds, tensor names, shapes and offsets):
 * focal_checkpoint_load on the input as a file, for max_batch 2; a loaded
 * model then runs one forward pass on zeros when it is small.
 * Promises checked: a failure has a status and a message, no model and an
 * empty meta; a success has a model for max_batch 2 with >= 1 classes and
 * consistent metadata (class names as many as the classes, normalisation
 * channels 0 or the model's with std >= FLT_MIN), and frees cleanly.
 * Bound: runs under -rss_limit_mb=2048 -malloc_limit_mb=1024: what a
 * checkpoint makes the reader allocate should be bounded by what the file
 * holds (weights present in it), not by sizes it merely claims. */
#define _XOPEN_SOURCE 700
#include <float.h>
#include <math.h>
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *path = fuzz_path("in.safetensors");
    fuzz_write(path, data, size);
    struct focal_model *m = (struct focal_model *)(uintptr_t)1;
    struct focal_ckpt_meta meta;
    memset(&meta, 0x5a, sizeof meta);
    const focal_status st = focal_checkpoint_load(path, 2, &m, &meta);
    if (st != FOCAL_OK) {
        FUZZ_CHECK_FAILURE(st);
        FUZZ_ASSERT(m == NULL && meta.class_names == NULL && meta.extra == NULL);
        return 0;
    }
    FUZZ_ASSERT(m != NULL);
    FUZZ_ASSERT(focal_model_max_batch(m) == 2);
    const int classes = focal_model_classes(m);
    FUZZ_ASSERT(classes >= 1);
    int c, h, w;
    focal_model_input_shape(m, &c, &h, &w);
    FUZZ_ASSERT(c >= 1 && h >= 1 && w >= 1);
    FUZZ_ASSERT(meta.channels == 0 || meta.channels == c);
    FUZZ_ASSERT(meta.channels >= 0 && meta.channels <= FOCAL_MAX_NORM_CHANNELS);
    for (int k = 0; k < meta.channels; k++)
        FUZZ_ASSERT(meta.std[k] >= FLT_MIN && isfinite(meta.mean[k]));
    if (meta.class_names)
        for (int j = 0; j < meta.num_classes; j++)
            FUZZ_ASSERT(meta.class_names[j] != NULL);
    FUZZ_ASSERT(meta.num_classes >= 0);
    const size_t nt = focal_model_num_tensors(m);
    for (size_t i = 0; i < nt; i++) {
        struct focal_tensor_info ti;
        focal_model_tensor(m, i, &ti);
        FUZZ_ASSERT(ti.name != NULL && ti.data != NULL && ti.numel >= 1);
        volatile float x = ti.data[ti.numel - 1];
        (void)x;
    }
    const size_t in = (size_t)c * (size_t)h * (size_t)w;
    if (focal_model_flops(m, 1) < 2e6 && in <= 1u << 16) {
        float *x = calloc(2 * in, sizeof *x);
        FUZZ_ASSERT(x != NULL);
        const float *logits = NULL;
        FUZZ_ASSERT(focal_model_forward(m, x, 2, 0, &logits) == FOCAL_OK && logits != NULL);
        volatile float y = logits[2 * (size_t)classes - 1];
        (void)y;
        free(x);
    }
    focal_model_free(m);
    focal_ckpt_meta_release(&meta);
    return 0;
}
