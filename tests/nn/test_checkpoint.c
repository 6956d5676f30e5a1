/* test_checkpoint.c — model checkpoints and optimiser state: a trained
 * model's tensors and eval-mode outputs survive a save/load bit for bit, with
 * its metadata; truncated, corrupted or mismatched files are refused with a
 * message naming the problem; and a run killed (SIGKILL) right after saving
 * an epoch, or in the middle of the next one, resumes from the files and
 * reproduces the uninterrupted run's per-step losses exactly.
 *
 * With FOCAL_KEEP_CHECKPOINT_DIR set (to anything non-empty) the test also
 * writes checkpoints, inputs and our eval-mode logits into a new temporary
 * directory, prints its name and keeps it, for tools/check_checkpoint.py to
 * compare against PyTorch. */
#define _POSIX_C_SOURCE 200809L

#include <dirent.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "focal.h"
#include "nn/safetensors.h"
#include "nn/model_internal.h"
#include "nn/optim_internal.h"
#include "check.h"
#include "testfs.h"

#define C_IN 3
#define H_IN 8
#define W_IN 8
#define CLASSES 5
#define BATCH 8
#define NBATCH 3        /* batches (steps) per epoch */
#define EPOCHS 4
#define KILL_EPOCH 2    /* the children die after saving this epoch ... */
#define KILL_STEP 2     /* ... or after this many steps of the next one */
#define SEED 20240611u

static const char desc_basic[] = "conv 4 3\nbatchnorm\nrelu\nmaxpool 2\nflatten\ndense classes\n";
static const char desc_dropout[] =
    "# resume test: dropout makes the generator part of the state\n"
    "conv 4 3\nbatchnorm\nrelu\nmaxpool 2\nflatten\ndropout 0.3\ndense 16\nrelu\ndense classes\n";

/* ---- synthetic data ----------------------------------------------------------- */

/* NBATCH fixed batches of BATCH images (C_IN×H_IN×W_IN, uniform noise plus a
 * class-dependent bright square) with sigmoid targets (about one in four
 * positive), all drawn from `seed`. */
struct data {
    float x[NBATCH][BATCH * C_IN * H_IN * W_IN];
    float y[NBATCH][BATCH * CLASSES];
};

static void make_data(struct data *d, uint64_t seed)
{
    struct focal_rng r;
    focal_rng_seed(&r, seed);
    for (int b = 0; b < NBATCH; b++) {
        for (int i = 0; i < BATCH * C_IN * H_IN * W_IN; i++)
            d->x[b][i] = 2.0f * focal_rng_uniform(&r) - 1.0f;
        for (int s = 0; s < BATCH; s++) {
            for (int c = 0; c < CLASSES; c++) {
                int pos = focal_rng_uniform(&r) < 0.25f;
                d->y[b][s * CLASSES + c] = (float)pos;
                if (pos) {
                    float *img = d->x[b] + (size_t)s * C_IN * H_IN * W_IN + (size_t)(c % C_IN) * H_IN * W_IN;
                    img[(c % 4) * 2 * W_IN + (c / 4) * 4] += 1.5f;
                }
            }
        }
    }
}

/* The batch used at step `step` of epoch `epoch` (1-based): the fixed batches
 * in an order that changes with the epoch. */
static int batch_of(int epoch, int step)
{
    return (step + epoch) % NBATCH;
}

/* ---- models and optimisers ---------------------------------------------------- */

/* A new model for desc with max_batch samples, initialised from seed; exits on failure. */
static struct focal_model *new_model(const char *desc, int max_batch, uint64_t seed)
{
    struct focal_model *m;
    if (focal_model_create(&m, desc, "test", C_IN, H_IN, W_IN, CLASSES, FOCAL_HEAD_SIGMOID, max_batch) != FOCAL_OK ||
        focal_model_init(m, seed, 0.1) != FOCAL_OK) {
        fprintf(stderr, "model: %s\n", focal_last_error());
        exit(1);
    }
    return m;
}

/* The optimiser configurations the resume test runs: SGD with Nesterov
 * momentum, step schedule and warm-up; AdamW with cosine schedule and clipping. */
static void optim_config(struct focal_optim_config *c, enum focal_optim_kind kind)
{
    focal_optim_defaults(c, kind);
    if (kind == FOCAL_OPTIM_SGD) {
        c->lr = 0.05;
        c->momentum = 0.9;
        c->nesterov = 1;
        c->weight_decay = 1e-4;
        c->schedule = FOCAL_SCHED_STEP;
        c->step_size = 4;
        c->step_gamma = 0.5;
        c->warmup_steps = 2;
    } else {
        c->lr = 0.01;
        c->schedule = FOCAL_SCHED_COSINE;
        c->total_steps = EPOCHS * NBATCH;
        c->min_lr = 1e-4;
        c->warmup_steps = 3;
        c->clip_norm = 1.0;
    }
}

/* A new optimiser of kind for m; exits on failure. */
static struct focal_optim *new_optim(struct focal_model *m, enum focal_optim_kind kind)
{
    struct focal_optim_config c;
    struct focal_optim *o;
    optim_config(&c, kind);
    if (focal_optim_create(&o, &c, m) != FOCAL_OK) {
        fprintf(stderr, "optimiser: %s\n", focal_last_error());
        exit(1);
    }
    return o;
}

/* The loss every test trains with: torchvision's sigmoid focal loss, α = 0.25. */
static void make_loss(struct focal_loss *l)
{
    focal_loss_init(l, FOCAL_LOSS_SIGMOID_FOCAL);
    l->alpha = 0.25;
}

/* The metadata saved with every test checkpoint: class names that need JSON
 * escaping, a per-channel normalisation, the epoch and a 64-bit seed. */
static const char *const class_names[CLASSES] = {
    "no DR", "mild, \"early\"", "moderate\\severe", "проліферативна — 増殖性 🙂", "",
};
static void make_meta(struct focal_ckpt_meta *meta, int epoch)
{
    memset(meta, 0, sizeof *meta);
    meta->epoch = epoch;
    meta->seed = 0x8000000000000005ull;
    meta->channels = C_IN;
    const float mean[3] = { 0.485f, 0.456f, 0.406f }, sd[3] = { 0.229f, 0.224f, 0.225f };
    for (int c = 0; c < C_IN; c++) {
        meta->mean[c] = mean[c];
        meta->std[c] = sd[c];
    }
    meta->num_classes = CLASSES;
    meta->class_names = (char **)class_names;
}

/* Checks that meta holds what make_meta(epoch) wrote. */
static void check_meta(const struct focal_ckpt_meta *meta, int epoch)
{
    struct focal_ckpt_meta want;
    make_meta(&want, epoch);
    CHECK(meta->epoch == epoch);
    CHECK(meta->seed == want.seed);
    CHECK(meta->channels == C_IN);
    for (int c = 0; c < C_IN; c++)
        CHECKF(meta->mean[c] == want.mean[c] && meta->std[c] == want.std[c], "channel %d: %.9g %.9g", c,
               (double)meta->mean[c], (double)meta->std[c]);
    CHECK(meta->num_classes == CLASSES);
    CHECK(meta->class_names != NULL);
    for (int i = 0; meta->class_names && i < CLASSES; i++)
        CHECKF(meta->class_names[i] && strcmp(meta->class_names[i], class_names[i]) == 0, "class %d: '%s'", i,
               meta->class_names[i] ? meta->class_names[i] : "(null)");
}

/* Trains epochs first..last (1-based) of NBATCH steps each, storing each
 * step's loss in losses[(epoch−1)·NBATCH + step]. After each epoch, when
 * ckpt is given, saves the checkpoint and then the optimiser state. A child
 * process kills itself with SIGKILL right after saving epoch kill_after, or
 * after kill_steps steps of epoch kill_mid (0: never). Returns 0, or −1 on a
 * library failure (message printed). */
static int train(struct focal_model *m, struct focal_optim *o, const struct data *d, int first, int last,
                 double *losses, const char *ckpt, const char *ostate, int kill_after, int kill_mid)
{
    struct focal_loss l;
    make_loss(&l);
    for (int e = first; e <= last; e++) {
        for (int s = 0; s < NBATCH; s++) {
            if (e == kill_mid && s == KILL_STEP)
                raise(SIGKILL);
            int b = batch_of(e, s);
            if (focal_train_step(m, o, &l, d->x[b], d->y[b], BATCH, &losses[(e - 1) * NBATCH + s]) != FOCAL_OK) {
                fprintf(stderr, "train step: %s\n", focal_last_error());
                return -1;
            }
        }
        if (ckpt) {
            struct focal_ckpt_meta meta;
            make_meta(&meta, e);
            if (focal_checkpoint_save(ckpt, m, &meta) != FOCAL_OK || focal_optim_save(ostate, o) != FOCAL_OK) {
                fprintf(stderr, "save: %s\n", focal_last_error());
                return -1;
            }
        }
        if (e == kill_after)
            raise(SIGKILL);
    }
    return 0;
}

/* ---- the resume test ---------------------------------------------------------- */

/* One interrupted run: optimiser kind, and where the child dies. */
struct scenario {
    enum focal_optim_kind kind;
    int kill_after, kill_mid;
    const char *name;
    pid_t pid;
};
static struct scenario scenarios[] = {
    { FOCAL_OPTIM_SGD, KILL_EPOCH, 0, "sgd-after-save", 0 },
    { FOCAL_OPTIM_SGD, 0, KILL_EPOCH + 1, "sgd-mid-epoch", 0 },
    { FOCAL_OPTIM_ADAMW, KILL_EPOCH, 0, "adamw-after-save", 0 },
    { FOCAL_OPTIM_ADAMW, 0, KILL_EPOCH + 1, "adamw-mid-epoch", 0 },
};
#define NSCEN (sizeof scenarios / sizeof scenarios[0])

/* Starts every interrupted run in a child process. Called before the parent
 * runs anything multi-threaded: an OpenMP runtime does not survive fork(). */
static void start_children(void)
{
    fflush(stdout);
    fflush(stderr);
    for (size_t i = 0; i < NSCEN; i++) {
        struct scenario *sc = &scenarios[i];
        char ckpt[600], ost[600];
        snprintf(ckpt, sizeof ckpt, "%s/%s.safetensors", dir, sc->name);
        snprintf(ost, sizeof ost, "%s/%s.optim.safetensors", dir, sc->name);
        sc->pid = fork();
        if (sc->pid < 0) {
            perror("fork");
            exit(1);
        }
        if (sc->pid == 0) {
            static struct data d;
            static double losses[EPOCHS * NBATCH];
            make_data(&d, SEED);
            struct focal_model *m = new_model(desc_dropout, BATCH, SEED);
            struct focal_optim *o = new_optim(m, sc->kind);
            train(m, o, &d, 1, EPOCHS, losses, ckpt, ost, sc->kill_after, sc->kill_mid);
            _exit(3);   /* reached only if the run failed or did not die */
        }
    }
}

/* Waits for the children, then for each: runs the uninterrupted reference,
 * resumes from the files the child left and compares every later step's loss
 * (==) and the final parameters (bit for bit). Also shows that the state
 * matters: resuming without the optimiser state, or with a different
 * generator, does not reproduce the run. */
static void test_resume(void)
{
    static struct data d;
    make_data(&d, SEED);
    for (size_t i = 0; i < NSCEN; i++) {
        struct scenario *sc = &scenarios[i];
        int status = 0;
        CHECK(waitpid(sc->pid, &status, 0) == sc->pid);
        CHECKF(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL, "%s: child status %d", sc->name, status);
    }
    for (size_t i = 0; i < NSCEN; i++) {
        struct scenario *sc = &scenarios[i];
        double ref[EPOCHS * NBATCH], got[EPOCHS * NBATCH];
        char ckpt[600], ost[600];
        snprintf(ckpt, sizeof ckpt, "%s/%s.safetensors", dir, sc->name);
        snprintf(ost, sizeof ost, "%s/%s.optim.safetensors", dir, sc->name);

        struct focal_model *mr = new_model(desc_dropout, BATCH, SEED);
        struct focal_optim *orf = new_optim(mr, sc->kind);
        CHECK(train(mr, orf, &d, 1, EPOCHS, ref, NULL, NULL, 0, 0) == 0);

        /* Nothing but the two files (and no temporary file) was left behind. */
        int entries = 0, tmp = 0;
        DIR *dp = opendir(dir);
        struct dirent *e;
        while (dp && (e = readdir(dp)) != NULL) {
            if (strncmp(e->d_name, sc->name, strlen(sc->name)) == 0) {
                entries++;
                tmp += strstr(e->d_name, ".tmp") != NULL;
            }
        }
        if (dp)
            closedir(dp);
        CHECKF(entries == 2 && tmp == 0, "%s: %d files, %d temporary", sc->name, entries, tmp);

        struct focal_model *m = NULL;
        struct focal_ckpt_meta meta;
        focal_status s = focal_checkpoint_load(ckpt, BATCH, &m, &meta);
        CHECKF(s == FOCAL_OK, "%s: %s", sc->name, focal_last_error());
        if (s != FOCAL_OK)
            continue;
        CHECK(meta.epoch == KILL_EPOCH);
        check_meta(&meta, KILL_EPOCH);
        struct focal_optim *o = new_optim(m, sc->kind);
        s = focal_optim_load(ost, o);
        CHECKF(s == FOCAL_OK, "%s: %s", sc->name, focal_last_error());
        /* The two files were saved one after the other; their step counts agree. */
        CHECK(focal_optim_steps(o) == (long)meta.epoch * NBATCH);
        CHECK(train(m, o, &d, meta.epoch + 1, EPOCHS, got, NULL, NULL, 0, 0) == 0);
        int same = 0;
        for (int k = KILL_EPOCH * NBATCH; k < EPOCHS * NBATCH; k++) {
            same += got[k] == ref[k];
            if (got[k] != ref[k])
                fprintf(stderr, "%s: step %d: loss %.17g, uninterrupted %.17g\n", sc->name, k, got[k], ref[k]);
        }
        CHECKF(same == (EPOCHS - KILL_EPOCH) * NBATCH, "%s: %d steps identical", sc->name, same);
        size_t np = focal_model_num_params(m);
        CHECK(np == focal_model_num_params(mr));
        CHECKF(memcmp(focal_model_params(m), focal_model_params(mr), np * sizeof(float)) == 0,
               "%s: final parameters differ", sc->name);
        focal_optim_free(o);
        focal_model_free(m);
        focal_ckpt_meta_release(&meta);

        /* Controls: the optimiser state and the generator both matter. */
        CHECK(focal_checkpoint_load(ckpt, BATCH, &m, NULL) == FOCAL_OK);
        o = new_optim(m, sc->kind);
        CHECK(train(m, o, &d, KILL_EPOCH + 1, EPOCHS, got, NULL, NULL, 0, 0) == 0);
        CHECKF(got[EPOCHS * NBATCH - 1] != ref[EPOCHS * NBATCH - 1], "%s: a fresh optimiser resumed exactly",
               sc->name);
        focal_optim_free(o);
        focal_model_free(m);
        CHECK(focal_checkpoint_load(ckpt, BATCH, &m, NULL) == FOCAL_OK);
        o = new_optim(m, sc->kind);
        CHECK(focal_optim_load(ost, o) == FOCAL_OK);
        focal_rng_seed(focal_model_rng(m), 12345);
        CHECK(train(m, o, &d, KILL_EPOCH + 1, EPOCHS, got, NULL, NULL, 0, 0) == 0);
        CHECKF(got[KILL_EPOCH * NBATCH] != ref[KILL_EPOCH * NBATCH], "%s: another generator resumed exactly",
               sc->name);
        focal_optim_free(o);
        focal_model_free(m);

        focal_optim_free(orf);
        focal_model_free(mr);
    }
}

/* ---- save / load ---------------------------------------------------------------- */

/* A model trained for a few steps (so batch-norm statistics have moved) and
 * its saved checkpoint at dir/trained.safetensors. */
static struct focal_model *trained_model(const struct data *d)
{
    struct focal_model *m = new_model(desc_basic, BATCH, 7);
    struct focal_optim *o = new_optim(m, FOCAL_OPTIM_SGD);
    double losses[EPOCHS * NBATCH];
    CHECK(train(m, o, d, 1, 1, losses, NULL, NULL, 0, 0) == 0);
    focal_optim_free(o);
    struct focal_ckpt_meta meta;
    make_meta(&meta, 1);
    CHECKF(focal_checkpoint_save(path_in("trained.safetensors"), m, &meta) == FOCAL_OK, "%s", focal_last_error());
    return m;
}

/* Every tensor and the eval-mode output survive save and load exactly. */
static void test_round_trip(const struct data *d, struct focal_model *m)
{
    struct focal_model *l = NULL;
    struct focal_ckpt_meta meta;
    focal_status s = focal_checkpoint_load(path_in("trained.safetensors"), 3, &l, &meta);
    CHECKF(s == FOCAL_OK, "%s", focal_last_error());
    if (s != FOCAL_OK)
        return;
    check_meta(&meta, 1);
    focal_ckpt_meta_release(&meta);
    CHECK(meta.class_names == NULL && meta.num_classes == 0);
    focal_ckpt_meta_release(&meta);

    CHECK(strcmp(focal_model_description(l), focal_model_description(m)) == 0);
    CHECK(focal_model_head(l) == FOCAL_HEAD_SIGMOID);
    CHECK(focal_model_classes(l) == CLASSES);
    CHECK(focal_model_max_batch(l) == 3);
    int c, h, w;
    focal_model_input_shape(l, &c, &h, &w);
    CHECK(c == C_IN && h == H_IN && w == W_IN);

    size_t nt = focal_model_num_tensors(m);
    CHECK(nt == focal_model_num_tensors(l) && nt > 0);
    int moved = 0;
    for (size_t i = 0; i < nt && i < focal_model_num_tensors(l); i++) {
        struct focal_tensor_info a, b;
        focal_model_tensor(m, i, &a);
        focal_model_tensor(l, i, &b);
        int same = strcmp(a.name, b.name) == 0 && a.ndim == b.ndim && a.numel == b.numel &&
                   memcmp(a.shape, b.shape, sizeof a.shape) == 0 &&
                   memcmp(a.data, b.data, a.numel * sizeof(float)) == 0;
        CHECKF(same, "tensor %zu (%s) differs", i, a.name);
        if (a.role == FOCAL_TENSOR_BUFFER && strstr(a.name, "running_var"))
            for (size_t j = 0; j < a.numel; j++)
                moved += a.data[j] != 1.0f;
    }
    CHECKF(moved > 0, "batch-norm running variances never moved");

    const float *la, *lb;
    float out_a[3 * CLASSES];
    CHECK(focal_model_forward(m, d->x[0], 3, 0, &la) == FOCAL_OK);
    memcpy(out_a, la, sizeof out_a);
    CHECK(focal_model_forward(l, d->x[0], 3, 0, &lb) == FOCAL_OK);
    CHECK(memcmp(out_a, lb, sizeof out_a) == 0);
    focal_model_free(l);

    /* meta may be NULL; a checkpoint saved without metadata loads with defaults. */
    CHECK(focal_checkpoint_load(path_in("trained.safetensors"), 1, &l, NULL) == FOCAL_OK);
    focal_model_free(l);
    CHECK(focal_checkpoint_save(path_in("bare.safetensors"), m, NULL) == FOCAL_OK);
    CHECK(focal_checkpoint_load(path_in("bare.safetensors"), 1, &l, &meta) == FOCAL_OK);
    CHECK(meta.epoch == 0 && meta.seed == 0 && meta.channels == 0 && meta.class_names == NULL &&
          meta.num_classes == CLASSES);
    focal_ckpt_meta_release(&meta);
    focal_model_free(l);

    /* Metadata that does not fit the model is refused and nothing is written. */
    make_meta(&meta, 1);
    meta.channels = 1;
    CHECK(focal_checkpoint_save(path_in("bad.safetensors"), m, &meta) == FOCAL_ERR_ARG);
    make_meta(&meta, 1);
    meta.num_classes = 4;
    CHECK(focal_checkpoint_save(path_in("bad.safetensors"), m, &meta) == FOCAL_ERR_ARG);
    make_meta(&meta, 1);
    meta.std[1] = 0.0f;
    CHECK(focal_checkpoint_save(path_in("bad.safetensors"), m, &meta) == FOCAL_ERR_ARG);
    make_meta(&meta, 1);
    meta.std[1] = 1e-40f;   /* > 0, but inputs divided by it overflow: the message names the real limit */
    CHECK(focal_checkpoint_save(path_in("bad.safetensors"), m, &meta) == FOCAL_ERR_ARG);
    CHECKF(strstr(focal_last_error(), "not below 1.17549e-38, the smallest normal float") != NULL, "%s",
           focal_last_error());
    CHECK(access(path_in("bad.safetensors"), F_OK) != 0);
}

/* Rewrites file `from` (in the scratch directory) as `name`, with one tensor
 * changed by `edit` (which may return 0 to drop it) or with metadata value
 * `key` replaced by `val`, or an extra tensor; returns the new file's path. */
typedef int (*tensor_edit)(struct focal_st_out *o);
static const char *rewrite_file(const char *from, const char *name, tensor_edit edit, const char *key,
                                const char *val, int extra)
{
    struct focal_st st;
    if (focal_st_read(path_in(from), &st) != FOCAL_OK) {
        fprintf(stderr, "%s\n", focal_last_error());
        exit(1);
    }
    struct focal_st_out *out = calloc(st.n + 1, sizeof *out);
    const char **vals = calloc(st.nmeta + 1, sizeof *vals);
    size_t n = 0;
    for (size_t i = 0; i < st.n; i++) {
        struct focal_st_out *o = &out[n];
        o->name = st.t[i].name;
        o->dtype = st.t[i].dtype;
        o->ndim = st.t[i].ndim;
        memcpy(o->shape, st.t[i].shape, sizeof o->shape);
        o->data = st.t[i].data;
        n += !edit || edit(o);
    }
    static const float zeros[4];
    if (extra)
        out[n++] = (struct focal_st_out){ "9.weight", FOCAL_ST_F32, 1, { 4 }, zeros };
    for (size_t i = 0; i < st.nmeta; i++)
        vals[i] = key && strcmp(st.meta_key[i], key) == 0 ? val : st.meta_val[i];
    const char *p = path_in(name);
    if (focal_st_write(p, out, n, (const char *const *)st.meta_key, vals, st.nmeta) != FOCAL_OK) {
        fprintf(stderr, "%s\n", focal_last_error());
        exit(1);
    }
    free(out);
    free(vals);
    focal_st_release(&st);
    return p;
}

/* rewrite_file() of the trained checkpoint. */
static const char *rewrite(const char *name, tensor_edit edit, const char *key, const char *val, int extra)
{
    return rewrite_file("trained.safetensors", name, edit, key, val, extra);
}

/* An edit for optimiser states: an all-zero generator state. */
static int edit_rng_zero(struct focal_st_out *o)
{
    static const int64_t zero[4];
    if (strcmp(o->name, "rng") == 0)
        o->data = zero;
    return 1;
}

/* Edits for rewrite(): give 0.weight a wrong shape of the same size, drop
 * 1.running_var, store 5.bias as I32. Each returns 0 to drop the tensor. */
static int edit_shape(struct focal_st_out *o)
{
    if (strcmp(o->name, "0.weight") == 0) {
        o->ndim = 3;
        o->shape[2] = 9;   /* (4,3,3,3) read as (4,3,9): same bytes, wrong shape */
    }
    return 1;
}
static int edit_drop(struct focal_st_out *o)
{
    return strcmp(o->name, "1.running_var") != 0;
}
static int edit_dtype(struct focal_st_out *o)
{
    if (strcmp(o->name, "5.bias") == 0)
        o->dtype = FOCAL_ST_I32;
    return 1;
}

/* Loads p expecting `want` and a message naming p and containing text. */
static void expect_refused(const char *p, focal_status want, const char *text, int line)
{
    struct focal_model *m = (struct focal_model *)&m;   /* any non-NULL value: load must reset it */
    struct focal_ckpt_meta meta;
    memset(&meta, 0xff, sizeof meta);
    focal_status s = focal_checkpoint_load(p, 2, &m, &meta);
    const char *msg = focal_last_error();
    CHECKF(s == want, "line %d: status %d (%s)", line, (int)s, msg);
    CHECKF(strstr(msg, p) != NULL && strstr(msg, text) != NULL, "line %d: message lacks '%s': %s", line, text, msg);
    CHECK(m == NULL);
    CHECK(meta.class_names == NULL && meta.num_classes == 0);
    if (s == FOCAL_OK)
        focal_model_free(m);
}
#define REFUSED(p, want, text) expect_refused(p, want, text, __LINE__)

/* Truncated, corrupted and mismatched checkpoints are refused. */
static void test_refused(void)
{
    size_t n;
    unsigned char *b = read_file(path_in("trained.safetensors"), &n);
    int refused = 0;
    const char *p = path_in("cut.safetensors");
    for (size_t len = 0; len < n; len++) {
        write_new_file(p, b, len);
        struct focal_model *m = NULL;
        focal_status s = focal_checkpoint_load(p, 2, &m, NULL);
        refused += s == FOCAL_ERR_FORMAT && m == NULL && strstr(focal_last_error(), p) != NULL;
        if (s == FOCAL_OK)
            focal_model_free(m);
    }
    CHECKF(refused == (int)n, "%d of %zu truncated checkpoints refused", refused, n);
    /* A flipped byte in the header's text. */
    unsigned char *q = (unsigned char *)strstr((char *)b + 8, "focal-checkpoint");
    CHECK(q != NULL);
    if (q) {
        q[0] = 'F';
        write_new_file(p, b, n);
        REFUSED(p, FOCAL_ERR_FORMAT, "not a focal checkpoint");
    }
    free(b);

    REFUSED(rewrite("shape.safetensors", edit_shape, NULL, NULL, 0), FOCAL_ERR_FORMAT,
            "tensor '0.weight' has shape [4,3,9]; the network needs [4,3,3,3]");
    REFUSED(rewrite("drop.safetensors", edit_drop, NULL, NULL, 0), FOCAL_ERR_FORMAT, "'1.running_var'");
    REFUSED(rewrite("dtype.safetensors", edit_dtype, NULL, NULL, 0), FOCAL_ERR_FORMAT, "'5.bias' is not F32");
    REFUSED(rewrite("extra.safetensors", NULL, NULL, NULL, 1), FOCAL_ERR_FORMAT, "'9.weight' is not part");
    REFUSED(rewrite("version.safetensors", NULL, "version", "2", 0), FOCAL_ERR_FORMAT, "version 2");
    REFUSED(rewrite("format.safetensors", NULL, "format", "focal-optimizer", 0), FOCAL_ERR_FORMAT,
            "not a focal checkpoint");
    REFUSED(rewrite("desc.safetensors", NULL, "description", "conv 4 3\nbogus 3\ndense classes", 0),
            FOCAL_ERR_FORMAT, "bogus");
    REFUSED(rewrite("desc2.safetensors", NULL, "description", "conv 4 3\nbatchnorm\nrelu\nflatten\ndense classes",
                    0),
            FOCAL_ERR_FORMAT, "bytes of tensors the file holds");   /* refused before the network is built */
    REFUSED(rewrite("input.safetensors", NULL, "input", "3,8", 0), FOCAL_ERR_FORMAT, "\"input\"");
    REFUSED(rewrite("input2.safetensors", NULL, "input", "3,8,8,", 0), FOCAL_ERR_FORMAT, "\"input\"");
    REFUSED(rewrite("input3.safetensors", NULL, "input", "3,99999999999999999999,8", 0), FOCAL_ERR_FORMAT, "\"input\"");
    REFUSED(rewrite("classes.safetensors", NULL, "classes", "5x", 0), FOCAL_ERR_FORMAT, "\"classes\"");
    REFUSED(rewrite("head.safetensors", NULL, "head", "tanh", 0), FOCAL_ERR_FORMAT, "\"head\"");
    REFUSED(rewrite("names.safetensors", NULL, "class_names", "[\"a\",\"b\"]", 0), FOCAL_ERR_FORMAT,
            "\"class_names\"");
    REFUSED(rewrite("names2.safetensors", NULL, "class_names", "[1,2,3,4,5]", 0), FOCAL_ERR_FORMAT,
            "class name 0");
    REFUSED(rewrite("mean.safetensors", NULL, "mean", "[0.5]", 0), FOCAL_ERR_FORMAT, "normalisation");
    REFUSED(rewrite("mean2.safetensors", NULL, "mean", "{\"a\":1}", 0), FOCAL_ERR_FORMAT, "\"mean\"");
    /* inputs are divided by std; and a value is its whole string, not a prefix of it */
    REFUSED(rewrite("std0.safetensors", NULL, "std", "[0.2,0,0.2]", 0), FOCAL_ERR_FORMAT,
            "\"std\" element 1 is 0; expected a number > 0");
    REFUSED(rewrite("std1.safetensors", NULL, "std", "[0.2,-1,0.2]", 0), FOCAL_ERR_FORMAT, "expected a number > 0");
    REFUSED(rewrite("std3.safetensors", NULL, "std", "[0.2,1e-40,0.2]", 0), FOCAL_ERR_FORMAT,
            "element 1 is 9.99995e-41; expected a number > 0 and not below 1.17549e-38, the smallest normal float");
    REFUSED(rewrite("std2.safetensors", NULL, "std", "[0.2,0.2,0.2]25", 0), FOCAL_ERR_FORMAT, "\"std\"");
    REFUSED(rewrite("mean3.safetensors", NULL, "mean", "[0.5,1e300,0.5]", 0), FOCAL_ERR_FORMAT,
            "\"mean\" element 1 is not a finite number");
    REFUSED(rewrite("names3.safetensors", NULL, "class_names", "[]x", 0), FOCAL_ERR_FORMAT, "\"class_names\"");
    REFUSED(rewrite("epoch.safetensors", NULL, "epoch", "-1", 0), FOCAL_ERR_FORMAT, "\"epoch\"");
    REFUSED(rewrite("seed.safetensors", NULL, "seed", "-1", 0), FOCAL_ERR_FORMAT, "\"seed\"");
    REFUSED(path_in("absent.safetensors"), FOCAL_ERR_IO, "cannot open");
}

/* The optimiser state file refuses another kind, another network, a missing
 * buffer and a corrupted generator; a refused load changes nothing. */
static void test_optim_state(const struct data *d)
{
    struct focal_model *m = new_model(desc_dropout, BATCH, 3);
    struct focal_optim *adam = new_optim(m, FOCAL_OPTIM_ADAMW);
    struct focal_optim *sgd = new_optim(m, FOCAL_OPTIM_SGD);
    double losses[EPOCHS * NBATCH];
    CHECK(train(m, adam, d, 1, 1, losses, NULL, NULL, 0, 0) == 0);
    CHECK(train(m, sgd, d, 1, 1, losses, NULL, NULL, 0, 0) == 0);
    const char *pa = path_in("adam.optim"), *ps = path_in("sgd.optim");
    CHECK(focal_optim_save(pa, adam) == FOCAL_OK);
    CHECK(focal_optim_save(ps, sgd) == FOCAL_OK);

    struct focal_st st;
    CHECK(focal_st_read(pa, &st) == FOCAL_OK);
    CHECK(focal_st_find(&st, "buf1") && focal_st_find(&st, "buf2") && focal_st_find(&st, "rng"));
    CHECK(strcmp(focal_st_meta(&st, "kind"), "adamw") == 0 && strcmp(focal_st_meta(&st, "step"), "3") == 0);
    CHECK(focal_st_meta(&st, "clip_norm") && focal_st_meta(&st, "warmup_steps") && focal_st_meta(&st, "beta2"));
    focal_st_release(&st);
    CHECK(focal_st_read(ps, &st) == FOCAL_OK);
    CHECK(focal_st_find(&st, "buf1") && !focal_st_find(&st, "buf2"));
    CHECK(strcmp(focal_st_meta(&st, "step"), "3") == 0);
    focal_st_release(&st);

    /* Round trip into fresh optimisers. */
    struct focal_optim *o2 = new_optim(m, FOCAL_OPTIM_ADAMW);
    CHECKF(focal_optim_load(pa, o2) == FOCAL_OK, "%s", focal_last_error());
    CHECK(o2->step == adam->step && memcmp(o2->buf1, adam->buf1, adam->n * 4) == 0 &&
          memcmp(o2->buf2, adam->buf2, adam->n * 4) == 0);
    CHECK(focal_optim_lr(o2) == focal_optim_lr(adam));
    focal_optim_free(o2);

    /* Another kind. */
    o2 = new_optim(m, FOCAL_OPTIM_SGD);
    CHECK(focal_optim_load(pa, o2) == FOCAL_ERR_FORMAT);
    CHECKF(strstr(focal_last_error(), "'adamw'") && strstr(focal_last_error(), pa), "%s", focal_last_error());
    CHECK(o2->step == 0);
    focal_optim_free(o2);
    /* SGD without momentum has no buffer to restore. */
    struct focal_optim_config c;
    optim_config(&c, FOCAL_OPTIM_SGD);
    c.momentum = 0;
    c.nesterov = 0;
    CHECK(focal_optim_create(&o2, &c, m) == FOCAL_OK);
    CHECK(focal_optim_load(ps, o2) == FOCAL_ERR_FORMAT);
    CHECKF(strstr(focal_last_error(), "'buf1'"), "%s", focal_last_error());
    focal_optim_free(o2);
    /* Another network. */
    struct focal_model *other = new_model(desc_basic, BATCH, 3);
    o2 = new_optim(other, FOCAL_OPTIM_ADAMW);
    struct focal_rng before = *focal_model_rng(other);
    CHECK(focal_optim_load(pa, o2) == FOCAL_ERR_FORMAT);
    CHECKF(strstr(focal_last_error(), "parameters"), "%s", focal_last_error());
    CHECK(memcmp(&before, focal_model_rng(other), sizeof before) == 0);
    focal_optim_free(o2);
    focal_model_free(other);
    /* Another network with exactly as many parameters (the dropout layer
     * removed shifts the later layers' names). */
    other = new_model("conv 4 3\nbatchnorm\nrelu\nmaxpool 2\nflatten\ndense 16\nrelu\ndense classes\n", BATCH, 3);
    CHECK(focal_model_num_params(other) == focal_model_num_params(m));
    o2 = new_optim(other, FOCAL_OPTIM_ADAMW);
    CHECK(focal_optim_load(pa, o2) == FOCAL_ERR_FORMAT);
    CHECKF(strstr(focal_last_error(), "another network: its parameter '6.weight:16x64' is '5.weight:16x64' here"),
           "%s", focal_last_error());
    focal_optim_free(o2);
    focal_model_free(other);
    /* The same network with other weights (a crash between saving the
     * checkpoint and the optimiser state leaves such a pair) is refused. */
    o2 = new_optim(m, FOCAL_OPTIM_ADAMW);
    float *w0 = focal_model_params(m);
    const float keep = w0[0];
    w0[0] += 0.25f;
    CHECK(focal_optim_load(pa, o2) == FOCAL_ERR_FORMAT);
    CHECKF(strstr(focal_last_error(), "saved with other weights than the model's"), "%s", focal_last_error());
    CHECK(o2->step == 0);
    w0[0] = keep;
    CHECK(focal_optim_load(pa, o2) == FOCAL_OK && o2->step == 3);
    focal_optim_free(o2);
    /* A corrupted generator state and an unexpected tensor are refused. */
    o2 = new_optim(m, FOCAL_OPTIM_ADAMW);
    CHECK(focal_optim_load(rewrite_file("adam.optim", "zero-rng.optim", edit_rng_zero, NULL, NULL, 0), o2) ==
          FOCAL_ERR_FORMAT);
    CHECKF(strstr(focal_last_error(), "all zeros"), "%s", focal_last_error());
    CHECK(focal_optim_load(rewrite_file("adam.optim", "extra.optim", NULL, NULL, NULL, 1), o2) == FOCAL_ERR_FORMAT);
    CHECKF(strstr(focal_last_error(), "unexpected tensor '9.weight'"), "%s", focal_last_error());
    CHECK(o2->step == 0);
    focal_optim_free(o2);
    /* A checkpoint is not an optimiser state, and truncations are refused. */
    o2 = new_optim(m, FOCAL_OPTIM_ADAMW);
    CHECK(focal_optim_load(path_in("trained.safetensors"), o2) == FOCAL_ERR_FORMAT);
    CHECKF(strstr(focal_last_error(), "not a focal optimiser state"), "%s", focal_last_error());
    size_t n;
    unsigned char *b = read_file(pa, &n);
    int refused = 0;
    for (size_t len = 0; len < n; len += 7) {
        write_new_file(path_in("cut.optim"), b, len);
        refused += focal_optim_load(path_in("cut.optim"), o2) == FOCAL_ERR_FORMAT;
    }
    CHECK(refused == (int)((n + 6) / 7));
    CHECK(o2->step == 0);
    free(b);
    focal_optim_free(o2);

    focal_optim_free(adam);
    focal_optim_free(sgd);
    focal_model_free(m);
}

/* ---- files for tools/check_checkpoint.py ----------------------------------------- */

/* Writes name.safetensors, name.input.f32 (n × C×H×W float32) and
 * name.logits.f32 (our eval-mode logits) into kd for a model of desc trained
 * for one epoch on random data. */
static void export_one(const char *kd, const char *name, const char *desc, int c, int h, int w, int classes,
                       enum focal_head head, int n)
{
    struct focal_model *m;
    char p[600];
    if (focal_model_create(&m, desc, name, c, h, w, classes, head, n) != FOCAL_OK ||
        focal_model_init(m, 99, head == FOCAL_HEAD_SIGMOID ? 0.05 : 0.0) != FOCAL_OK) {
        fprintf(stderr, "%s: %s\n", name, focal_last_error());
        check_failed++;
        return;
    }
    struct focal_optim *o = new_optim(m, FOCAL_OPTIM_ADAMW);
    struct focal_loss l;
    focal_loss_init(&l, head == FOCAL_HEAD_SOFTMAX ? FOCAL_LOSS_SOFTMAX_FOCAL : FOCAL_LOSS_SIGMOID_FOCAL);
    size_t xn = (size_t)n * c * h * w;
    float *x = malloc(xn * sizeof *x), *yf = calloc((size_t)n * classes, sizeof *yf);
    int32_t *yi = calloc((size_t)n, sizeof *yi);
    struct focal_rng r;
    focal_rng_seed(&r, 5);
    for (int step = 0; step < 4; step++) {
        for (size_t i = 0; i < xn; i++)
            x[i] = 2.0f * focal_rng_uniform(&r) - 1.0f;
        for (int i = 0; i < n; i++) {
            yi[i] = (int32_t)(focal_rng_next(&r) % (uint64_t)classes);
            for (int j = 0; j < classes; j++)
                yf[i * classes + j] = j == yi[i];
        }
        double loss;
        CHECKF(focal_train_step(m, o, &l, x, head == FOCAL_HEAD_SOFTMAX ? (const void *)yi : (const void *)yf, n,
                                &loss) == FOCAL_OK, "%s: %s", name, focal_last_error());
    }
    for (size_t i = 0; i < xn; i++)
        x[i] = 2.0f * focal_rng_uniform(&r) - 1.0f;
    const float *logits;
    CHECK(focal_model_forward(m, x, n, 0, &logits) == FOCAL_OK);
    struct focal_ckpt_meta meta = { 0 };
    meta.epoch = 1;
    meta.seed = 99;
    snprintf(p, sizeof p, "%s/%s.safetensors", kd, name);
    CHECKF(focal_checkpoint_save(p, m, &meta) == FOCAL_OK, "%s", focal_last_error());
    snprintf(p, sizeof p, "%s/%s.input.f32", kd, name);
    write_new_file(p, x, xn * sizeof *x);
    snprintf(p, sizeof p, "%s/%s.logits.f32", kd, name);
    write_new_file(p, logits, (size_t)n * classes * sizeof *logits);
    free(x);
    free(yf);
    free(yi);
    focal_optim_free(o);
    focal_model_free(m);
}

/* When FOCAL_KEEP_CHECKPOINT_DIR is set, exports models covering every layer
 * kind into a new directory that is kept, and prints its name. */
static void export_for_python(void)
{
    const char *keep = getenv("FOCAL_KEEP_CHECKPOINT_DIR");
    if (!keep || !*keep)
        return;
    const char *base = getenv("TMPDIR");
    char kd[300];
    snprintf(kd, sizeof kd, "%s/focal-ckpt-export-XXXXXX", base && *base ? base : "/tmp");
    if (!mkdtemp(kd)) {
        perror("mkdtemp");
        check_failed++;
        return;
    }
    export_one(kd, "basic", desc_basic, C_IN, H_IN, W_IN, CLASSES, FOCAL_HEAD_SIGMOID, 6);
    export_one(kd, "dropout", desc_dropout, C_IN, H_IN, W_IN, CLASSES, FOCAL_HEAD_SIGMOID, 6);
    export_one(kd, "layers",
               "conv 6 3 stride=1 pad=1\nbatchnorm momentum=0.2 eps=0.001\nleakyrelu slope=0.1\n"
               "block 6\nblock 12 stride=2\nmaxpool 3 stride=1 pad=1\navgpool 2 stride=2\n"
               "conv 8 1 bias=0\nrelu\ngap\nbatchnorm\ndropout 0.2\ndense 10\nrelu\ndense classes bias=1\n",
               3, 16, 12, 4, FOCAL_HEAD_SOFTMAX, 5);
    export_one(kd, "resnet-mini", focal_model_preset("resnet-mini"), 1, 28, 28, 3, FOCAL_HEAD_SOFTMAX, 4);
    export_one(kd, "keras-cnn", focal_model_preset("keras-cnn"), 3, 64, 64, 2, FOCAL_HEAD_SIGMOID, 3);
    export_one(kd, "mlp", focal_model_preset("mlp"), 1, 1, 20, 3, FOCAL_HEAD_SIGMOID, 7);
    printf("test_checkpoint: checkpoints, inputs and logits kept in %s\n", kd);
}

int main(void)
{
    if (make_scratch_dir("focal-ckpt") != 0)
        return 1;
    /* First, before any parallel region runs in this process. */
    start_children();

    static struct data d;
    make_data(&d, SEED);
    test_resume();
    struct focal_model *m = trained_model(&d);
    test_round_trip(&d, m);
    test_refused();
    test_optim_state(&d);
    focal_model_free(m);
    export_for_python();
    remove_tree(dir);
    return check_done("test_checkpoint");
}
