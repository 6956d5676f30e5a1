/* Fuzzes the run folder reader: focal_run_load on a folder whose
 * model.safetensors is a valid checkpoint of the small model of
 * fuzz_model.h (saved once at start) and whose run.json is the input.
 * (history.csv and metrics.json have no reader in the public interface: the
 * library writes them but never reads them back.)
 * Promises checked: a failure has a status and a message and leaves the run
 * zeroed; a success has the model, a task, num_classes matching it (2 for a
 * binary task, else the model's outputs) and a threshold per output.
 * Bound: runs under -rss_limit_mb=2048 -malloc_limit_mb=1024. */
#define _XOPEN_SOURCE 700
#include "fuzz_model.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int init;
    if (!init) {
        mkdir(fuzz_path("run"), 0700);
        struct focal_model *m = fuzz_model_new();
        FUZZ_ASSERT(focal_checkpoint_save(fuzz_path("run/model.safetensors"), m, NULL) == FOCAL_OK);
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
    focal_run_free(&r);
    return 0;
}
