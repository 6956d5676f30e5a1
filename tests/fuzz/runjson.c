/* Fuzzes the run folder reader: focal_run_load on a folder whose
 * model.safetensors is a valid checkpoint of the small model of
 * fuzz_model.h (sigmoid head, 3 outputs, saved once at start) and whose run.json is the input.
 * (history.csv and metrics.json have no reader in the public interface: the
 * library writes them but never reads them back.)
 * Promises checked: a failure has a status and a message and leaves the run
 * zeroed; a success has the model, a task that fits the model's head (softmax
 * for multi-class, sigmoid otherwise, with 1 output for binary: the
 * thresholds are "num_classes (binary: 1)"), num_classes to match, and
 * predicts two samples into a buffer of the size focal_run_predict promises
 * (n values for binary, else n × num_classes).
 * Bound: runs under -rss_limit_mb=2048 -malloc_limit_mb=1024. */
#define _XOPEN_SOURCE 700
#include "fuzz_model.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int init;
    if (!init) {
        mkdir(fuzz_path("run"), 0700);
        struct focal_model *m = fuzz_model_new();
        struct focal_ckpt_meta meta;
        memset(&meta, 0, sizeof meta);
        meta.channels = FUZZ_MODEL_C;
        meta.mean[0] = 0.5f;
        meta.std[0] = 0.25f;
        FUZZ_ASSERT(focal_checkpoint_save(fuzz_path("run/model.safetensors"), m, &meta) == FOCAL_OK);
        focal_model_free(m);
        init = 1;
    }
    fuzz_write(fuzz_path("run/run.json"), data, size);
    struct focal_run r;
    memset(&r, 0x5a, sizeof r);
    const focal_status st = focal_run_load(&r, fuzz_path("run"), 2);
    if (st != FOCAL_OK) {
        FUZZ_CHECK_FAILURE(st);
        FUZZ_ASSERT(r.model == NULL && r.thresholds == NULL);
        return 0;
    }
    FUZZ_ASSERT(r.model != NULL && r.thresholds != NULL);
    const int outputs = focal_model_classes(r.model);
    FUZZ_ASSERT(outputs == FUZZ_MODEL_CLASSES);
    FUZZ_ASSERT(r.task == FOCAL_TASK_BINARY || r.task == FOCAL_TASK_MULTICLASS || r.task == FOCAL_TASK_MULTILABEL);
    FUZZ_ASSERT(r.num_classes == (r.task == FOCAL_TASK_BINARY ? 2 : outputs));
    volatile double t = r.thresholds[outputs - 1];
    (void)t;
    FUZZ_ASSERT(r.channels == FUZZ_MODEL_C && r.height == FUZZ_MODEL_H && r.width == FUZZ_MODEL_W);
    const enum focal_head head = focal_model_head(r.model);
    FUZZ_ASSERT((r.task == FOCAL_TASK_MULTICLASS) == (head == FOCAL_HEAD_SOFTMAX));
    FUZZ_ASSERT(r.task != FOCAL_TASK_BINARY || outputs == 1);

    uint8_t pixels[2 * FUZZ_MODEL_C * FUZZ_MODEL_H * FUZZ_MODEL_W] = { 0 };
    struct focal_dataset d;
    memset(&d, 0, sizeof d);
    d.task = r.task;
    d.format = FOCAL_FORMAT_NPZ;
    d.n = 2;
    d.num_classes = r.num_classes;
    d.pixels = pixels;
    d.channels = FUZZ_MODEL_C;
    d.height = FUZZ_MODEL_H;
    d.width = FUZZ_MODEL_W;
    const int idx[2] = { 0, 1 };
    const size_t nprob = 2 * (size_t)(r.task == FOCAL_TASK_BINARY ? 1 : r.num_classes);
    double *probs = malloc(nprob * sizeof *probs);
    FUZZ_ASSERT(probs != NULL);
    const focal_status ps = focal_run_predict(&r, &d, idx, 2, probs);
    FUZZ_ASSERT(ps == FOCAL_OK);
    free(probs);
    focal_run_release(&r);
    return 0;
}
