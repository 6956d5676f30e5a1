/* test_step_dp.c — data-parallel steps without MPI: ranks simulated by
 * threads with a struct focal_comm whose sums run over shared memory. N ranks
 * with uneven shares of a batch, through focal_train_step_dp, must train as
 * one process through focal_train_step on the whole batch (float rounding
 * apart): mean reductions with ignored targets, positives, class weights,
 * gradient clipping, and batch norm synchronised over the ranks (also inside
 * a ResNet block); every rank must end with the same bits. Also
 * focal_loss_count itself, and a rank whose loss fails stopping every rank. */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "focal.h"
#include "check.h"

#define MAX_RANKS 4
#define STEPS 6
#define BATCH 11        /* 3 ranks: 3 + 4 + 4 */

/* ---- ranks as threads ------------------------------------------------------------ */

struct shared {
    pthread_barrier_t bar;
    int size;
    void *slot[MAX_RANKS];  /* each rank's buffer during a sum */
};
struct rank_ctx {
    struct shared *sh;
    int rank;
};

/* Every rank adds all ranks' buffers in rank order: the same bits everywhere. */
#define SUM_BODY(T)                                                                         \
    struct rank_ctx *rc = ctx;                                                              \
    struct shared *sh = rc->sh;                                                             \
    T *tmp = malloc(n * sizeof *tmp);                                                       \
    if (!tmp)                                                                               \
        return -1;                                                                          \
    sh->slot[rc->rank] = buf;                                                               \
    pthread_barrier_wait(&sh->bar);                                                         \
    for (size_t i = 0; i < n; i++) {                                                        \
        T s = 0;                                                                            \
        for (int k = 0; k < sh->size; k++)                                                  \
            s += ((const T *)sh->slot[k])[i];                                               \
        tmp[i] = s;                                                                         \
    }                                                                                       \
    pthread_barrier_wait(&sh->bar); /* everyone has read every buffer */                   \
    memcpy(buf, tmp, n * sizeof *tmp);                                                      \
    free(tmp);                                                                              \
    return 0;

static int sum_float(void *ctx, float *buf, size_t n)
{
    SUM_BODY(float)
}

static int sum_double(void *ctx, double *buf, size_t n)
{
    SUM_BODY(double)
}

/* ---- one case: a network, a loss, data ----------------------------------------- */

struct problem {
    const char *name, *desc;
    int c, h, w, classes;
    enum focal_head head;
    struct focal_loss loss;
    double clip;
    int sgd;                /* SGD, which (unlike Adam) feels the scale of the gradient */
    float *x;               /* STEPS × BATCH inputs */
    void *t;                /* STEPS × BATCH targets */
};

struct rank_run {
    const struct problem *p;
    struct rank_ctx rc;
    struct focal_comm comm;
    int sync_bn;
    double loss[STEPS];
    float *params;          /* the final parameters (malloc'd) */
    size_t nparams;
    focal_status st;
};

static size_t per_sample(const struct problem *p)
{
    return (size_t)p->c * p->h * p->w;
}

static size_t target_size(const struct problem *p)
{
    return p->head == FOCAL_HEAD_SOFTMAX ? sizeof(int32_t) : (size_t)p->classes * sizeof(float);
}

/* Trains STEPS steps on the problem's batches: one process with the whole
 * batch (comm NULL) or this rank's share. */
static void *train(void *arg)
{
    struct rank_run *r = arg;
    const struct problem *p = r->p;
    struct focal_model *m = NULL;
    struct focal_optim *o = NULL;
    struct focal_optim_config oc;
    focal_optim_defaults(&oc, p->sgd ? FOCAL_OPTIM_SGD : FOCAL_OPTIM_ADAM);
    oc.lr = p->sgd ? 0.5 : 0.01;
    oc.momentum = p->sgd ? 0.9 : 0.0;
    oc.clip_norm = p->clip;
    const struct focal_comm *comm = r->comm.size > 0 ? &r->comm : NULL;
    int lo = 0, hi = BATCH;
    if (comm) {
        lo = BATCH * comm->rank / comm->size;
        hi = BATCH * (comm->rank + 1) / comm->size;
    }
    r->st = focal_model_create(&m, p->desc, p->name, p->c, p->h, p->w, p->classes, p->head, BATCH);
    if (r->st == FOCAL_OK)
        r->st = focal_model_init(m, 11, 0.0);
    if (r->st == FOCAL_OK && comm && r->sync_bn)
        r->st = focal_model_sync_bn(m, comm);
    if (r->st == FOCAL_OK)
        r->st = focal_optim_create(&o, &oc, m);
    for (int s = 0; r->st == FOCAL_OK && s < STEPS; s++) {
        const float *x = p->x + ((size_t)s * BATCH + (size_t)lo) * per_sample(p);
        const char *t = (const char *)p->t + ((size_t)s * BATCH + (size_t)lo) * target_size(p);
        r->st = comm ? focal_train_step_dp(m, o, &p->loss, comm, x, t, hi - lo, &r->loss[s])
                     : focal_train_step(m, o, &p->loss, x, t, BATCH, &r->loss[s]);
    }
    if (r->st == FOCAL_OK) {
        r->nparams = focal_model_num_params(m);
        r->params = malloc(r->nparams * sizeof *r->params);
        if (r->params)
            memcpy(r->params, focal_model_params(m), r->nparams * sizeof *r->params);
    }
    focal_optim_free(o);
    focal_model_free(m);
    return NULL;
}

/* Runs `size` ranks as threads; runs[k] receives rank k's results. */
static void run_ranks(const struct problem *p, int size, int sync_bn, struct rank_run *runs)
{
    struct shared sh = { .size = size };
    pthread_t th[MAX_RANKS];
    pthread_barrier_init(&sh.bar, NULL, (unsigned)size);
    for (int k = 0; k < size; k++) {
        runs[k] = (struct rank_run){ .p = p, .rc = { &sh, k }, .sync_bn = sync_bn };
        runs[k].comm = (struct focal_comm){ &runs[k].rc, k, size, sum_float, sum_double };
        pthread_create(&th[k], NULL, train, &runs[k]);
    }
    for (int k = 0; k < size; k++)
        pthread_join(th[k], NULL);
    pthread_barrier_destroy(&sh.bar);
}

/* N ranks against one process: losses and parameters. */
static void check_equivalent(const struct problem *p, int size, int sync_bn)
{
    struct rank_run one = { .p = p }, runs[MAX_RANKS];
    train(&one);
    run_ranks(p, size, sync_bn, runs);
    CHECKF(one.st == FOCAL_OK, "%s: one process: %s", p->name, focal_last_error());
    for (int k = 0; k < size; k++)
        CHECKF(runs[k].st == FOCAL_OK && runs[k].params, "%s: rank %d of %d failed", p->name, k, size);
    if (one.st != FOCAL_OK || runs[0].st != FOCAL_OK || !one.params || !runs[0].params)
        goto out;
    double worst = 0;
    for (int s = 0; s < STEPS; s++) {
        CHECKF(check_close(runs[0].loss[s], one.loss[s], 1e-5, 1e-7), "%s, %d ranks, step %d: loss %.9g vs %.9g",
               p->name, size, s + 1, runs[0].loss[s], one.loss[s]);
        for (int k = 1; k < size; k++)
            CHECKF(runs[k].loss[s] == runs[0].loss[s], "%s: rank %d's loss differs from rank 0's", p->name, k);
    }
    size_t bad = 0;
    for (size_t i = 0; i < one.nparams; i++) {
        const double d = fabs((double)runs[0].params[i] - one.params[i]);
        worst = d > worst ? d : worst;
        bad += !check_close(runs[0].params[i], one.params[i], 1e-4, 1e-5);
    }
    CHECKF(bad == 0, "%s, %d ranks: %zu of %zu parameters differ from one process's (worst %g)", p->name, size, bad,
           one.nparams, worst);
    for (int k = 1; k < size; k++)
        CHECKF(runs[k].params && memcmp(runs[k].params, runs[0].params, one.nparams * sizeof(float)) == 0,
               "%s: rank %d's parameters differ from rank 0's", p->name, k);
    printf("%s, %d ranks%s: worst parameter difference %g\n", p->name, size, sync_bn ? ", sync bn" : "", worst);
out:
    free(one.params);
    for (int k = 0; k < size; k++)
        free(runs[k].params);
}

/* Inputs and targets for a problem; about a third of the sigmoid targets
 * are ignored (-1) and every fifth softmax row carries the ignore index. */
static void fill(struct problem *p, uint64_t seed)
{
    const size_t n = (size_t)STEPS * BATCH;
    p->x = malloc(n * per_sample(p) * sizeof *p->x);
    p->t = malloc(n * target_size(p));
    for (size_t i = 0; i < n * per_sample(p); i++)
        p->x[i] = (float)(2 * check_urand(&seed) - 1);
    for (size_t i = 0; i < n; i++) {
        if (p->head == FOCAL_HEAD_SOFTMAX) {
            ((int32_t *)p->t)[i] = i % 5 == 3 ? p->loss.ignore_index : (int32_t)(check_urand(&seed) * p->classes);
        } else {
            for (int j = 0; j < p->classes; j++) {
                const double u = check_urand(&seed);
                ((float *)p->t)[i * (size_t)p->classes + (size_t)j] = u < 0.3 ? -1.0f : u < 0.6 ? 1.0f : 0.0f;
            }
        }
    }
}

static void release(struct problem *p)
{
    free(p->x);
    free(p->t);
}

static void check_loss_count(void)
{
    struct focal_loss l;
    focal_loss_init(&l, FOCAL_LOSS_BCE);
    const float y[6] = { 1, 0, -1, 0.5f, 0.2f, -0.5f };
    CHECK(focal_loss_count(&l, 2, 3, y) == 4);          /* MEAN: targets >= 0 */
    l.reduction = FOCAL_REDUCTION_POSITIVES;
    CHECK(focal_loss_count(&l, 2, 3, y) == 2);          /* >= 0.5 */
    l.reduction = FOCAL_REDUCTION_SUM;
    CHECK(focal_loss_count(&l, 2, 3, y) == 0);
    focal_loss_init(&l, FOCAL_LOSS_CE);
    const int32_t t[4] = { 0, -100, 2, 1 };
    CHECK(focal_loss_count(&l, 4, 3, t) == 3);          /* rows not ignored */
    l.reduction = FOCAL_REDUCTION_POSITIVES;
    CHECK(focal_loss_count(&l, 4, 3, t) == 3);
}

/* A target out of range on one rank fails that rank with its message and
 * the others without waiting for it. */
static void check_failure(struct problem *p)
{
    struct rank_run runs[MAX_RANKS];
    ((int32_t *)p->t)[BATCH - 1] = 99;   /* rank 2's share of the first batch */
    run_ranks(p, 3, 0, runs);
    CHECK(runs[2].st == FOCAL_ERR_ARG);
    CHECK(runs[0].st == FOCAL_ERR_ARG && runs[1].st == FOCAL_ERR_ARG);
    for (int k = 0; k < 3; k++)
        free(runs[k].params);
}

int main(void)
{
    focal_set_threads(1);
    check_loss_count();

    struct problem dense = { .name = "sigmoid mean, ignored targets", .desc = "flatten\ndense 8\nrelu\ndense classes\n",
                             .c = 5, .h = 1, .w = 1, .classes = 3, .head = FOCAL_HEAD_SIGMOID, .sgd = 1 };
    focal_loss_init(&dense.loss, FOCAL_LOSS_SIGMOID_FOCAL);
    fill(&dense, 1);
    check_equivalent(&dense, 2, 0);
    check_equivalent(&dense, 3, 0);
    dense.name = "sigmoid positives, clipped";
    dense.loss.reduction = FOCAL_REDUCTION_POSITIVES;
    dense.clip = 0.05;
    dense.sgd = 0;
    check_equivalent(&dense, 3, 0);
    dense.name = "sigmoid positives, SGD clipped";
    dense.sgd = 1;
    check_equivalent(&dense, 3, 0);
    release(&dense);

    static const double weights[4] = { 0.5, 2.0, 1.0, 3.0 };
    struct problem smx = { .name = "softmax mean, class weights, ignored rows",
                           .desc = "flatten\ndense 8\nrelu\ndense classes\n", .c = 6, .h = 1, .w = 1, .classes = 4,
                           .head = FOCAL_HEAD_SOFTMAX, .sgd = 1 };
    focal_loss_init(&smx.loss, FOCAL_LOSS_CE);
    smx.loss.class_weights = weights;
    smx.loss.label_smoothing = 0.1;
    fill(&smx, 2);
    check_equivalent(&smx, 3, 0);
    check_failure(&smx);
    release(&smx);

    struct problem bn = { .name = "batch norm", .desc = "flatten\ndense 8 bias=0\nbatchnorm\nrelu\ndense classes\n",
                          .c = 5, .h = 1, .w = 1, .classes = 3, .head = FOCAL_HEAD_SOFTMAX };
    focal_loss_init(&bn.loss, FOCAL_LOSS_SOFTMAX_FOCAL);
    fill(&bn, 3);
    check_equivalent(&bn, 3, 1);
    release(&bn);

    struct problem conv = { .name = "convolution, batch norm and a block",
                            .desc = "conv 4 3 bias=0\nbatchnorm\nrelu\nblock 6 stride=2\ngap\ndense classes\n",
                            .c = 2, .h = 6, .w = 6, .classes = 3, .head = FOCAL_HEAD_SIGMOID };
    focal_loss_init(&conv.loss, FOCAL_LOSS_BCE);
    fill(&conv, 4);
    check_equivalent(&conv, 2, 1);
    check_equivalent(&conv, 3, 1);
    release(&conv);
    return check_done("test_step_dp");
}
