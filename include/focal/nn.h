/*
 * focal/nn.h — networks, optimisers and checkpoints.
 * Part of libfocal's public interface; include "focal.h" for all of it.
 */
#ifndef FOCAL_NN_H
#define FOCAL_NN_H

#include "focal/base.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------------ */
/* Networks                                                                  */
/* ------------------------------------------------------------------------ */

/* A network: layers described in a small text format (see the README),
 * parameters in one float buffer with named views, activations and scratch
 * allocated once at creation for up to max_batch samples, so that a training
 * step allocates nothing.
 *
 * Description format, one layer per line; '#' starts a comment:
 *   conv OC K [stride=S] [pad=P] [bias=0|1]   2-D convolution (pad default K/2)
 *   batchnorm [momentum=M] [eps=E]             per-channel batch normalisation
 *   relu | leakyrelu [slope=A]
 *   maxpool K [stride=S] [pad=P]               stride default K
 *   avgpool K [stride=S] [pad=P]
 *   gap                                         global average pool
 *   dropout P
 *   flatten
 *   dense N [bias=0|1]                          N may be the word `classes`
 *   dense-norm N                                normalised (cosine) dense layer, no bias:
 *                                               out_j = (x/‖x‖)·(w_j/‖w_j‖), each norm
 *                                               clamped below at 1e-12 (LDAM's classifier,
 *                                               Cao et al. 2019)
 *   block OC [stride=S]                         ResNet basic block: conv3-BN-ReLU-conv3-BN
 *                                               + shortcut (1×1 conv + BN when the shape
 *                                               changes), add, ReLU
 * The last layer must be `dense classes` or `dense-norm classes` (the logits). Limits: OC from 1 to
 * 65536, K, S and P up to 1024 (block: S up to 16), N up to 16777216; every
 * layer's output, a convolution's fan-in (C·K·K) and its im2col matrix
 * (C·K·K × OH·OW) at most 2147483647 values per sample. */
struct focal_model;

enum focal_head {
    FOCAL_HEAD_SIGMOID,   /* independent sigmoid outputs (binary, multi-label) */
    FOCAL_HEAD_SOFTMAX    /* one softmax over the classes (multi-class) */
};

/* Preset descriptions: "keras-cnn", "resnet-mini", "mlp". Returns the text, or
 * NULL for an unknown name. Owned by the library. */
const char *focal_model_preset(const char *name);

/* LDAM's classifier for a description: *out receives a malloc'd copy of desc
 * (the caller frees it) whose last layer line, when it is `dense N
 * [bias=...]`, is replaced by `dense-norm N` (*changed = 1); a last layer
 * that is dense-norm already is kept (*changed = 0). FOCAL_ERR_FORMAT (*out
 * NULL) when the last layer is neither, naming origin and the line;
 * FOCAL_ERR_NOMEM. */
focal_status focal_model_normalise_head(const char *desc, const char *origin, char **out, int *changed);

/* Builds a network from a description (`origin` names it in error messages,
 * e.g. a file name; NULL for "network") for inputs of in_c × in_h × in_w and
 * `classes` outputs. FOCAL_ERR_FORMAT names the line of an unknown layer or
 * key, a bad value or a shape beyond the limits above; FOCAL_ERR_ARG for
 * shapes that do not fit, and for a network whose parameters, gradients,
 * activations and scratch for max_batch samples (optimiser state excluded)
 * exceed focal_memory_limit() — computed, overflow-checked, before anything
 * large is allocated; the message gives the need, its largest layer and the
 * limit. */
focal_status focal_model_create(struct focal_model **m, const char *desc, const char *origin, int in_c,
                                int in_h, int in_w, int classes, enum focal_head head, int max_batch);
void focal_model_free(struct focal_model *m);

const char *focal_model_description(const struct focal_model *m);
enum focal_head focal_model_head(const struct focal_model *m);
int focal_model_classes(const struct focal_model *m);
int focal_model_max_batch(const struct focal_model *m);
void focal_model_input_shape(const struct focal_model *m, int *c, int *h, int *w);

/* The trainable parameters and their gradients: one contiguous buffer each. */
size_t focal_model_num_params(const struct focal_model *m);
float *focal_model_params(struct focal_model *m);
float *focal_model_grads(struct focal_model *m);

/* Named tensors, parameters and buffers (batch-norm running statistics), in a
 * fixed order; names follow PyTorch's state_dict of the equivalent network
 * ("3.weight", "5.running_mean", "8.conv1.weight", ...). */
enum focal_tensor_role {
    FOCAL_TENSOR_WEIGHT,     /* parameter with weight decay */
    FOCAL_TENSOR_NO_DECAY,   /* parameter without weight decay by default (bias, BN) */
    FOCAL_TENSOR_BUFFER      /* not trained: running mean / variance */
};
struct focal_tensor_info {
    const char *name;
    enum focal_tensor_role role;
    int ndim;
    int shape[4];
    size_t numel;
    float *data;             /* into the parameter buffer or the model's buffers */
    float *grad;             /* NULL for buffers */
};
size_t focal_model_num_tensors(const struct focal_model *m);
/* The data and grad pointers are writable views even from a const model,
 * as strchr does for strings. */
void focal_model_tensor(const struct focal_model *m, size_t i, struct focal_tensor_info *info);

/* Initialises every parameter as PyTorch does by default (Kaiming-uniform
 * weights, uniform biases in ±1/sqrt(fan_in), BN γ = 1, β = 0, running
 * statistics 0 and 1) from `seed`, and seeds the dropout generator. With
 * prior_pi in (0,1) and a sigmoid head, the output biases start at
 * −log((1 − π)/π). */
focal_status focal_model_init(struct focal_model *m, uint64_t seed, double prior_pi);

/* Forward pass on n <= max_batch samples x (n, C, H, W); *logits (n × classes)
 * points into the model and stays valid until the next forward. training = 1
 * uses batch statistics and dropout. */
focal_status focal_model_forward(struct focal_model *m, const float *x, int n, int training,
                                 const float **logits);
/* Backward pass after a training forward of the same n: accumulates
 * d loss/d params into the gradient buffer from dlogits (n × classes). */
focal_status focal_model_backward(struct focal_model *m, const float *dlogits, int n);
void focal_model_zero_grad(struct focal_model *m);

/* ---- data-parallel training --------------------------------------------- */

/* How the processes (ranks) of a data-parallel run exchange numbers. The
 * library does no communication of its own: the caller fills this in (the
 * focal program with MPI_Allreduce under mpirun; a test with threads or
 * simulated ranks). Each sum is a collective: every rank calls it at the same
 * point with the same n, and it replaces buf[0..n) by the element-wise sum
 * over the ranks, the same bits on every rank and the same bits for the same
 * inputs (a fixed reduction order). It returns 0, or non-zero when the
 * exchange failed. */
struct focal_comm {
    void *ctx;
    int rank, size;          /* this process's rank in [0, size), size >= 1 */
    int (*sum_float)(void *ctx, float *buf, size_t n);
    int (*sum_double)(void *ctx, double *buf, size_t n);
};

/* Synchronised batch normalisation: with comm non-NULL, every training
 * forward of a batchnorm layer (also inside blocks) normalises with the mean
 * and variance of the whole batch over all ranks (two sums per layer: one in
 * the forward, one in the backward), and the running statistics follow those,
 * so that N ranks with n samples each compute what one process computes on
 * all N·n. NULL (the default): each rank uses its own samples' statistics.
 * comm must outlive its use. FOCAL_ERR_NOMEM. */
focal_status focal_model_sync_bn(struct focal_model *m, const struct focal_comm *comm);

/* Multiply-add FLOPs (2 per multiply-add) of the convolutions and dense
 * layers in one forward pass of n samples; a training step costs about three
 * times this (forward, input gradient, weight gradient). */
double focal_model_flops(const struct focal_model *m, int n);

/* Per-layer timing: when on, every forward and backward adds its wall time
 * per layer; focal_model_layer_time reports layer i (0-based among the
 * description's layers) with its kind ("conv", "block", ...), its line, and
 * the seconds accumulated since profiling was switched on. */
void focal_model_profile(struct focal_model *m, int on);
int focal_model_num_layers(const struct focal_model *m);
void focal_model_layer_time(const struct focal_model *m, int i, const char **kind, int *line, double *forward_s,
                            double *backward_s);

/* ------------------------------------------------------------------------ */
/* Optimisers                                                                */
/* ------------------------------------------------------------------------ */

enum focal_optim_kind { FOCAL_OPTIM_SGD, FOCAL_OPTIM_ADAM, FOCAL_OPTIM_ADAMW };
enum focal_schedule {
    FOCAL_SCHED_CONSTANT,
    FOCAL_SCHED_STEP,        /* lr · step_gamma^floor(step / step_size) */
    FOCAL_SCHED_COSINE       /* min_lr + (lr − min_lr)(1 + cos(π·step/total_steps))/2; periodic
                                past total_steps, like PyTorch's closed form */
};

/* "sgd", "adam", "adamw"; "unknown" outside the enum. */
const char *focal_optim_kind_name(enum focal_optim_kind k);
/* Parses a name as above; FOCAL_ERR_ARG (message lists the valid names) if unknown. */
focal_status focal_optim_kind_parse(const char *name, enum focal_optim_kind *k);
/* "constant", "step", "cosine"; "unknown" outside the enum. */
const char *focal_schedule_name(enum focal_schedule s);
/* Parses a name as above; FOCAL_ERR_ARG (message lists the valid names) if unknown. */
focal_status focal_schedule_parse(const char *name, enum focal_schedule *s);

/* Update rules are PyTorch's (torch.optim.SGD, Adam, AdamW). Linear warm-up
 * multiplies the scheduled rate by (step + 1)/warmup_steps for the first
 * warmup_steps steps. */
struct focal_optim_config {
    enum focal_optim_kind kind;
    double lr;
    double momentum;         /* SGD */
    int nesterov;            /* SGD */
    double weight_decay;     /* SGD/Adam: L2 added to the gradient; AdamW: decoupled */
    double beta1, beta2, eps;/* Adam, AdamW */
    enum focal_schedule schedule;
    long step_size;          /* STEP */
    double step_gamma;       /* STEP */
    long total_steps;        /* COSINE: the schedule's length in steps, >= 1 (0 in the defaults) */
    double min_lr;           /* COSINE */
    long warmup_steps;       /* 0: none */
    double clip_norm;        /* clip the global gradient L2 norm to this; <= 0: off */
    int decay_all;           /* 1: weight decay on biases and BN parameters too (default 0) */
};

/* Fills *c with PyTorch's defaults for `kind` (lr 0.01 for SGD, where PyTorch
 * has none; 0.001 Adam/AdamW;
 * betas 0.9, 0.999; eps 1e-8; AdamW weight decay 0.01), constant schedule. */
void focal_optim_defaults(struct focal_optim_config *c, enum focal_optim_kind kind);

struct focal_optim;
/* An optimiser for m's parameters; checks the configuration (FOCAL_ERR_ARG
 * naming the field). The model must outlive it. */
focal_status focal_optim_create(struct focal_optim **o, const struct focal_optim_config *c,
                                struct focal_model *m);
void focal_optim_free(struct focal_optim *o);
/* One update from the model's gradient buffer (which clipping does not
 * modify). *grad_norm (may be NULL) receives the global L2 norm before
 * clipping. FOCAL_ERR_NUMERIC, with parameters and state unchanged, when the
 * norm is not finite. */
focal_status focal_optim_step(struct focal_optim *o, double *grad_norm);
/* The learning rate the next step will use, and the steps taken. */
double focal_optim_lr(const struct focal_optim *o);
long focal_optim_steps(const struct focal_optim *o);

/* ------------------------------------------------------------------------ */
/* Checkpoints                                                               */
/* ------------------------------------------------------------------------ */

#define FOCAL_MAX_NORM_CHANNELS 1024  /* image channels, or the features of a table */

/* What a checkpoint records beside the weights (safetensors "__metadata__"). */
struct focal_ckpt_meta {
    int epoch;               /* epochs completed */
    uint64_t seed;
    int channels;            /* input normalisation: 0 (none) or the model's input channels */
    float mean[FOCAL_MAX_NORM_CHANNELS], std[FOCAL_MAX_NORM_CHANNELS]; /* x' = (x − mean)/std, std > 0 */
    int num_classes;
    char **class_names;      /* num_classes strings, or NULL */
    char *extra;             /* the caller's own text (e.g. JSON), stored as metadata "extra"; or NULL */
};
/* Frees what focal_checkpoint_load put in *meta (names, extra) and zeroes it. */
void focal_ckpt_meta_release(struct focal_ckpt_meta *meta);

/* Writes the model's parameters and buffers as a safetensors file, with the
 * network description, input shape, head, class names, normalisation, epoch
 * and seed in the header metadata. Atomic: temporary file, fsync, rename. */
focal_status focal_checkpoint_save(const char *path, const struct focal_model *m,
                                   const struct focal_ckpt_meta *meta);
/* Reads a checkpoint written by focal_checkpoint_save into a new model for up
 * to max_batch samples; meta (may be NULL) receives the metadata (release with
 * focal_ckpt_meta_release). Refuses truncated or corrupted files with
 * FOCAL_ERR_FORMAT and never reads past the end. */
focal_status focal_checkpoint_load(const char *path, int max_batch, struct focal_model **m,
                                   struct focal_ckpt_meta *meta);

/* The optimiser's state (moments, step count) and the model's dropout
 * generator, as a safetensors file beside the checkpoint, so that a resumed
 * run continues exactly; a checkpoint alone restores the weights but not the
 * dropout generator. Atomic as above. The file records a fingerprint of the
 * model's weights at the time of saving: save it right after the checkpoint,
 * and focal_optim_load refuses a state whose weights differ from the model's
 * (say, a crash fell between the two saves), a different optimiser kind or a
 * different parameter layout. Other configuration fields (lr, schedule, ...)
 * are taken from the optimiser it is loaded into. */
focal_status focal_optim_save(const char *path, const struct focal_optim *o);
focal_status focal_optim_load(const char *path, struct focal_optim *o);

#ifdef __cplusplus
}
#endif

#endif /* FOCAL_NN_H */
