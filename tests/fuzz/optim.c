/* Fuzzes the optimiser-state reader: focal_optim_load on the input as a
 * file, into an Adam and into an SGD-with-momentum optimiser of the fixed
 * small model of fuzz_model.h (whose weights the state's fingerprint must
 * match); a loaded state then takes one step on zero gradients, after which
 * the weights are put back.
 * Promises checked: a failure has a status and a message; a success gives a
 * step count >= 0, a learning rate that is a number, and a step that
 * succeeds or reports FOCAL_ERR_NUMERIC.
 * Bound: runs under -rss_limit_mb=2048 -malloc_limit_mb=1024. */
#define _XOPEN_SOURCE 700
#include <math.h>
#include "fuzz_model.h"

static struct focal_model *model;
static struct focal_optim *opt[2];
static float *weights;

static void try_load(struct focal_optim *o, const char *path)
{
    const focal_status st = focal_optim_load(path, o);
    if (st != FOCAL_OK) {
        FUZZ_CHECK_FAILURE(st);
        return;
    }
    FUZZ_ASSERT(focal_optim_steps(o) >= 0);
    FUZZ_ASSERT(!isnan(focal_optim_lr(o)));
    focal_model_zero_grad(model);
    const focal_status s2 = focal_optim_step(o, NULL);
    FUZZ_ASSERT(s2 == FOCAL_OK || s2 == FOCAL_ERR_NUMERIC);
    memcpy(focal_model_params(model), weights, focal_model_num_params(model) * sizeof *weights);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!model) {
        model = fuzz_model_new();
        opt[0] = fuzz_optim_new(model, FOCAL_OPTIM_ADAM);
        opt[1] = fuzz_optim_new(model, FOCAL_OPTIM_SGD);
        const size_t n = focal_model_num_params(model);
        weights = malloc(n * sizeof *weights);
        FUZZ_ASSERT(weights != NULL);
        memcpy(weights, focal_model_params(model), n * sizeof *weights);
    }
    const char *path = fuzz_path("in.optim.safetensors");
    fuzz_write(path, data, size);
    try_load(opt[0], path);
    try_load(opt[1], path);
    return 0;
}
