/* run_dp.c — the parts of a data-parallel run (focal_run_config.comm) that
 * one process does not need: the shard of a batch each rank takes, what rank
 * 0 tells the others, the batch-norm statistics and dropout streams of the
 * ranks, and the settings that record the rank count. */
#include <stdlib.h>
#include <string.h>

#include "focal/train.h"
#include "base/internal.h"
#include "base/rng.h"
#include "nn/model_internal.h"
#include "train/run_internal.h"

const struct focal_comm *focal_dp_comm(const struct focal_run_config *cfg)
{
    return cfg->comm && cfg->comm->size > 1 ? cfg->comm : NULL;
}

void focal_dp_shard(int b, const struct focal_comm *c, int *lo, int *hi)
{
    /* as even as it gets: shares differ by at most one sample */
    *lo = (int)((long)b * c->rank / c->size);
    *hi = (int)((long)b * (c->rank + 1) / c->size);
}

focal_status focal_dp_agree(const struct focal_comm *c, focal_status st, int *value)
{
    enum { FAILED, ROOT_STATUS, ROOT_VALUE, LEN };
    double v[LEN] = { 0 };
    v[FAILED] = st != FOCAL_OK;
    if (c->rank == 0) {
        v[ROOT_STATUS] = st;
        v[ROOT_VALUE] = *value;
    }
    if (c->sum_double(c->ctx, v, LEN) != 0)
        return st != FOCAL_OK ? st
                              : focal_fail(FOCAL_ERR_IO, "rank %d: the exchange with the other %d ranks failed",
                                           c->rank, c->size - 1);
    if (st != FOCAL_OK)
        return st;
    if (v[ROOT_STATUS] != 0)
        return focal_fail((focal_status)v[ROOT_STATUS], "rank %d: stopped, since rank 0 failed (see its message)",
                          c->rank);
    if (v[FAILED] > 0)
        return focal_fail(FOCAL_ERR_ARG, "rank %d: stopped, since another rank failed (see its message)", c->rank);
    *value = (int)v[ROOT_VALUE];
    return FOCAL_OK;
}

/* A hash of the parameters' bits (FNV-1a, 32 bits: exact as a double). */
static double params_hash(struct focal_model *m)
{
    const unsigned char *p = (const unsigned char *)focal_model_params(m);
    const size_t len = focal_model_num_params(m) * sizeof(float);
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < len; i++)
        h = (h ^ p[i]) * 16777619u;
    return (double)h;
}

focal_status focal_dp_epoch_end(struct focal_model *m, const struct focal_comm *c)
{
    /* rank 0's running statistics for everyone (what it validates and saves),
     * as PyTorch DDP broadcasts rank 0's buffers: a sum with the others' zeroed */
    const size_t nt = focal_model_num_tensors(m);
    for (size_t i = 0; i < nt; i++) {
        struct focal_tensor_info t;
        focal_model_tensor(m, i, &t);
        if (t.role != FOCAL_TENSOR_BUFFER)
            continue;
        if (c->rank != 0)
            memset(t.data, 0, t.numel * sizeof *t.data);
        if (c->sum_float(c->ctx, t.data, t.numel) != 0)
            return focal_fail(FOCAL_ERR_IO, "rank %d: the exchange of batch-norm statistics failed", c->rank);
    }
    /* every rank applied the same updates: their parameters must agree bit
     * for bit, or the sums are not the same on every rank */
    double *h = calloc((size_t)c->size, sizeof *h);
    if (!h)
        return focal_fail(FOCAL_ERR_NOMEM, "out of memory");
    h[c->rank] = params_hash(m);
    focal_status st = FOCAL_OK;
    if (c->sum_double(c->ctx, h, (size_t)c->size) != 0)
        st = focal_fail(FOCAL_ERR_IO, "rank %d: the exchange of parameter hashes failed", c->rank);
    for (int k = 1; st == FOCAL_OK && k < c->size; k++)
        if (h[k] != h[0])
            st = focal_fail(FOCAL_ERR_NUMERIC, "the parameters of rank %d differ from rank 0's: the ranks' sums "
                            "are not identical on every rank (an MPI reduction that is not reproducible)", k);
    free(h);
    return st;
}

void focal_dp_seed_dropout(struct focal_model *m, const struct focal_comm *c, uint64_t seed, int epoch)
{
    /* a stream per rank and epoch, so that a resumed run draws what an
     * uninterrupted one draws without saving every rank's generator */
    focal_rng_seed(focal_model_rng(m), focal_run_seed(seed ^ 0x6a09e667f3bcc909ull, (uint64_t)epoch,
                                                      (uint64_t)c->rank + 1));
}

void focal_dp_settings(cJSON *settings, const struct focal_run_config *cfg)
{
    const struct focal_comm *c = focal_dp_comm(cfg);
    if (!c)
        return; /* one process: the settings of runs made before data-parallel training */
    cJSON *o = cJSON_AddObjectToObject(settings, "data_parallel");
    cJSON_AddNumberToObject(o, "ranks", c->size);
    cJSON_AddBoolToObject(o, "sync_bn", cfg->sync_bn);
}
