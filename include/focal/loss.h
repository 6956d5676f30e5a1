/*
 * focal/loss.h — the losses with their fused gradients, class weights and output-bias initialisation.
 * Part of libfocal's public interface; include "focal.h" for all of it.
 */
#ifndef FOCAL_LOSS_H
#define FOCAL_LOSS_H

#include "focal/base.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------------ */
/* Losses                                                                    */
/* ------------------------------------------------------------------------ */

enum focal_loss_kind {
    /* Sigmoid family: n×c logits, float targets in [0,1] (soft allowed);
     * a negative target means "ignore this element". */
    FOCAL_LOSS_BCE,            /* α_t·BCE (α < 0: plain BCE) */
    FOCAL_LOSS_SIGMOID_FOCAL,  /* torchvision sigmoid_focal_loss: α_t (1−p_t)^γ BCE */
    FOCAL_LOSS_FOCAL_STAR,     /* FL*: −α_t log σ(γ x_t + β) / γ, γ > 0 */
    FOCAL_LOSS_ASL,            /* asymmetric loss (γ+, γ−, margin m), α_t applied */
    FOCAL_LOSS_SIGMOID_POLY1,  /* α_t (1−p_t)^γ BCE + ε (1−p_t)^(γ+1) */
    /* Softmax family: n×c logits, one int32 class per row; rows whose target
     * equals ignore_index are ignored. */
    FOCAL_LOSS_CE,             /* w[t]·CE with optional label smoothing */
    FOCAL_LOSS_SOFTMAX_FOCAL,  /* w[t]·Σ_c q_c (−(1−p_c)^γ log p_c) */
    FOCAL_LOSS_SOFTMAX_POLY1,  /* softmax focal + ε (1−P)^(γ+1), P = Σ_c q_c p_c */
    /* Long-tail losses, appended so that the values above keep their numbers.
     * Each needs the training split's class frequencies (class_prior). */
    FOCAL_LOSS_LA,               /* softmax: w[t]·CE(z + τ log π) (Menon et al. 2021) */
    FOCAL_LOSS_BALANCED_SOFTMAX, /* softmax: logit-adjusted with τ = 1 (Ren et al. 2020) */
    FOCAL_LOSS_LDAM,             /* softmax: w[t]·CE(s·(z − Δ_t e_t)) (Cao et al. 2019) */
    FOCAL_LOSS_DB,               /* sigmoid: distribution-balanced loss (Wu et al. 2020) */
    FOCAL_LOSS_KIND_COUNT
};

enum focal_reduction {
    FOCAL_REDUCTION_NONE,      /* *loss receives the sum; per-element values via `per` */
    FOCAL_REDUCTION_SUM,
    FOCAL_REDUCTION_MEAN,      /* sum / number of counted (non-ignored) elements or rows;
                                  0, with zero gradients, when nothing is counted */
    FOCAL_REDUCTION_POSITIVES, /* sum / max(1, number of positive targets) */
    FOCAL_REDUCTION_COUNT
};

/* Parameters of a loss. Fill with focal_loss_init, then change what you need.
 * A field a loss does not use is ignored.
 *
 *   sigmoid family, per element with logit x, target y, class j:
 *     p = σ(x), p_t = p·y + (1−p)(1−y), α_t = α·y + (1−α)(1−y) (1 if α < 0),
 *     w_j = class_weights[j] (1 if NULL)
 *     bce            w_j α_t BCE(x,y),  BCE = softplus(x) − y·x
 *     sigmoid-focal  w_j α_t (1−p_t)^γ BCE(x,y)
 *     focal-star     w_j α_t (−log σ(γ x_t + β) / γ),  x_t = (2y−1)·x
 *     asl            w_j α_t (−y (1−p)^γ+ log p − (1−y) p_m^γ− log(1−p_m)),
 *                    p_m = max(p − m, 0)
 *     sigmoid-poly1  w_j (α_t (1−p_t)^γ BCE(x,y) + ε (1−p_t)^(γ+1))
 *   softmax family, per row with logits z, class t, C classes, smoothing s:
 *     q_c = (1−s)·[c = t] + s/C,  p = softmax(z),  w_t = class_weights[t],
 *     a = α if α >= 0 else 1 (a scalar α only rescales a softmax loss)
 *     ce             a w_t Σ_c q_c (−log p_c)
 *     softmax-focal  a w_t Σ_c q_c (−(1−p_c)^γ log p_c)
 *     softmax-poly1  a w_t Σ_c q_c (−(1−p_c)^γ log p_c) + w_t ε (1−P)^(γ+1),
 *                    P = Σ_c q_c p_c
 *   The weight w_t (the softmax α_t) is chosen from the hard label, before
 *   smoothing. The gradient of ASL is that of the loss as written (the
 *   focusing factors are differentiated, not treated as constants).
 *
 *   long-tail losses, with v_j = class_prior[j] (π_j, or counts n_j: the
 *   softmax ones depend only on the ratios v_j / v_k):
 *     la             a w_t (−log softmax(u)_t),  u_j = z_j + τ log v_j
 *                    (logit-adjusted loss, Menon et al., ICLR 2021)
 *     balanced-softmax  la with τ = 1: −log(v_t e^{z_t} / Σ_j v_j e^{z_j})
 *                    (Balanced Softmax, Ren et al., NeurIPS 2020)
 *     ldam           a w_t (−log softmax(u)_t),  u_j = s·(z_j − [j = t]·Δ_t),
 *                    Δ_j = m·(min_k v_k / v_j)^(1/4) = m·v_j^(−1/4) / max_k v_k^(−1/4)
 *                    (LDAM, Cao et al., NeurIPS 2019; meant for cosine logits,
 *                    |z_j| <= 1, of an L2-normalised last layer)
 *     db             w_j r̂_j (y·L⁺(v) + (1−y)·L⁻(v)) per element, where
 *                      v  = z_j + (κ/λ) b_j,  b_j = log(π_j / (1 − π_j)),
 *                      L⁺ = (1 − σ(v))^γ (−log σ(v)),
 *                      L⁻ = σ(λv)^γ (−log(1 − σ(λv))) / λ,
 *                      r̂_j = α_db + σ(β_db (r_j − μ)),  r_j = (1/π_j) / Σ_k y_k/π_k
 *                    with Σ_k over the row's counted elements (r_j = +∞ in a row
 *                    without positive mass). (Distribution-balanced loss,
 *                    Wu et al., ECCV 2020, as its official code computes it: the
 *                    re-balancing weight of both positives and negatives,
 *                    negative-tolerant regularisation with the bias κ·b/λ added
 *                    to the logit before the negatives are scaled by λ, and the
 *                    focal factor of the regularised logit; the code's constant
 *                    balance_param = 2 is left out.) For hard targets y·L⁺ +
 *                    (1−y)·L⁻ is the code's loss; soft targets interpolate.
 *                    r̂ depends on the targets only: it is not differentiated. */
struct focal_loss {
    enum focal_loss_kind kind;
    enum focal_reduction reduction;  /* default MEAN */
    double gamma;            /* γ >= 0 (focal-star: γ > 0); default 2 (0 for bce/ce; not
                                used by la, balanced-softmax, ldam) */
    double alpha;            /* α in [0,1] for sigmoid, >= 0 for softmax; < 0 = off (default) */
    double beta;             /* FL* shift β; default 1 */
    double gamma_pos;        /* ASL γ+ >= 0; default 0 */
    double gamma_neg;        /* ASL γ− >= 0; default 4 */
    double margin;           /* ASL probability margin m in [0,1), default 0.05; LDAM's
                                largest margin m_max >= 0, default 0.5 */
    double epsilon;          /* poly-1 ε; default 1 */
    double label_smoothing;  /* softmax smoothing s in [0,1]; default 0 */
    int32_t ignore_index;    /* softmax: target value that marks an ignored row; default −100 */
    const double *class_weights; /* c weights >= 0, or NULL; not owned */
    /* The long-tail losses (la, balanced-softmax, ldam, db). */
    const double *class_prior; /* c values > 0 from the training split: the class
                                  frequencies π_j = n_j / N, or (softmax kinds only)
                                  the counts n_j; db needs π_j in (0,1), N the number
                                  of training samples. Required by those kinds (the
                                  loss functions fail without it); not owned */
    double tau;              /* la: τ >= 0; default 1 */
    double scale;            /* ldam: s > 0; default 30 (ldam's margin m_max >= 0 is
                                `margin`, default 0.5 for ldam) */
    double db_alpha;         /* db: α >= 0, the floor of r̂; default 0.1 */
    double db_beta;          /* db: β >= 0, the slope of r̂; default 10 */
    double db_mu;            /* db: μ, the centre of r̂, finite; default 0.2 */
    double db_lambda;        /* db: λ > 0, the negatives' logit scale; default 2 */
    double db_kappa;         /* db: κ >= 0, the prior-bias coefficient; default 0.05 */
};

/* The parameters of struct focal_loss, as bits of focal_loss_info.params. */
enum focal_loss_param {
    FOCAL_PARAM_GAMMA = 1u << 0,
    FOCAL_PARAM_ALPHA = 1u << 1,
    FOCAL_PARAM_BETA = 1u << 2,
    FOCAL_PARAM_GAMMA_POS = 1u << 3,
    FOCAL_PARAM_GAMMA_NEG = 1u << 4,
    FOCAL_PARAM_MARGIN = 1u << 5,
    FOCAL_PARAM_EPSILON = 1u << 6,
    FOCAL_PARAM_LABEL_SMOOTHING = 1u << 7,
    FOCAL_PARAM_IGNORE_INDEX = 1u << 8,
    FOCAL_PARAM_CLASS_WEIGHTS = 1u << 9,
    FOCAL_PARAM_REDUCTION = 1u << 10,
    FOCAL_PARAM_CLASS_PRIOR = 1u << 11,
    FOCAL_PARAM_TAU = 1u << 12,
    FOCAL_PARAM_SCALE = 1u << 13,
    FOCAL_PARAM_DB_ALPHA = 1u << 14,
    FOCAL_PARAM_DB_BETA = 1u << 15,
    FOCAL_PARAM_DB_MU = 1u << 16,
    FOCAL_PARAM_DB_LAMBDA = 1u << 17,
    FOCAL_PARAM_DB_KAPPA = 1u << 18
};

/* What the library knows about a loss kind. */
struct focal_loss_info {
    enum focal_loss_kind kind;
    const char *name;        /* as focal_loss_kind_name */
    int softmax;             /* 1: softmax family (multi-class); 0: sigmoid (binary, multi-label) */
    unsigned params;         /* FOCAL_PARAM_* bits of the fields its value depends on; a
                                softmax loss's scalar alpha only rescales it */
    const char *generic;     /* "ce", "focal", "poly1": the task-independent name that
                                stands for it on a task of its family, or NULL */
};

/* The entry of `kind`; NULL for a value outside the enum. The entries are
 * constant and owned by the library. */
const struct focal_loss_info *focal_loss_info(enum focal_loss_kind kind);

/* 1 if the loss kind fits the task (its family is the one the task's model
 * head needs: softmax for MULTICLASS, sigmoid otherwise), else 0. */
int focal_loss_fits_task(enum focal_loss_kind kind, enum focal_task task);

/* The loss kind `name` stands for on `task`: a kind's own name (which must
 * fit the task) or a generic name (ce, focal, poly1) that takes the family
 * the task needs. FOCAL_ERR_ARG, with a message listing the names that would
 * be valid, otherwise. */
focal_status focal_loss_kind_for_task(const char *name, enum focal_task task, enum focal_loss_kind *kind);

/* Fills *l with the defaults above for `kind`. */
void focal_loss_init(struct focal_loss *l, enum focal_loss_kind kind);

/* 1 if kind belongs to the softmax family, 0 for the sigmoid family. */
int focal_loss_is_softmax(enum focal_loss_kind kind);

/* Names used by the command line: "bce", "sigmoid-focal", "focal-star", "asl",
 * "sigmoid-poly1", "ce", "softmax-focal", "softmax-poly1", "la",
 * "balanced-softmax", "ldam", "db". */
const char *focal_loss_kind_name(enum focal_loss_kind kind);
/* Parses a name as above; FOCAL_ERR_ARG (message lists the valid names) if unknown. */
focal_status focal_loss_kind_parse(const char *name, enum focal_loss_kind *kind);

/* "none", "sum", "mean", "positives". */
const char *focal_reduction_name(enum focal_reduction r);
focal_status focal_reduction_parse(const char *name, enum focal_reduction *r);

/* Checks every parameter of *l against its valid range for a problem with c
 * classes; FOCAL_ERR_ARG with a message naming the parameter otherwise. A
 * NULL class_prior passes here (it is checked when given); the loss functions
 * refuse a kind that needs it without it. */
focal_status focal_loss_check(const struct focal_loss *l, size_t c);

/* Sigmoid family, fused forward + backward.
 *   logits, targets: n×c. targets in [0,1]; < 0 ignores the element.
 *   grad (n×c, may be NULL): receives d loss / d logits, where loss is the
 *     reduced value (for REDUCTION_NONE: the derivative of each element's own
 *     loss, i.e. of their sum). 0 where ignored. Overwritten, not accumulated.
 *   per (n×c, may be NULL): receives each element's unreduced loss.
 *   loss (may be NULL): receives the reduced loss (NONE: the sum).
 * Positive targets are those >= 0.5. Fails with FOCAL_ERR_ARG for a bad
 * parameter, a softmax kind or a target > 1, and FOCAL_ERR_NUMERIC if a logit is
 * NaN or Inf (the message names row and column); outputs are then unspecified. */
focal_status focal_sigmoid_loss(const struct focal_loss *l, size_t n, size_t c,
                                const float *logits, const float *targets,
                                float *grad, float *per, double *loss);
focal_status focal_sigmoid_loss_f64(const struct focal_loss *l, size_t n, size_t c,
                                    const double *logits, const double *targets,
                                    double *grad, double *per, double *loss);

/* What the reduction of l divides a batch's sum by, before the "at least 1":
 * for MEAN the counted elements (sigmoid: targets >= 0) or rows (softmax:
 * targets other than ignore_index); for POSITIVES the positive targets
 * (sigmoid: >= 0.5) or the counted rows (softmax); 0 for SUM and NONE.
 * targets as for the loss functions (n × c floats, or n int32 classes for a
 * softmax kind). Parts of a batch add up: a batch split among processes has
 * the mean loss (its sum over the parts) / max(1, Σ count), and the gradient
 * of the sum scaled by the same factor. */
int64_t focal_loss_count(const struct focal_loss *l, size_t n, size_t c, const void *targets);

/* Softmax family, fused forward + backward.
 *   logits: n×c; targets: n class indices in [0,c) or ignore_index.
 *   grad (n×c, may be NULL), per (n, may be NULL), loss (may be NULL): as for
 *   the sigmoid family, per row. Every counted row has one positive target.
 * Fails with FOCAL_ERR_ARG for a bad parameter, a sigmoid kind or a target
 * out of range (the message names the row), FOCAL_ERR_NUMERIC for a NaN/Inf logit. */
focal_status focal_softmax_loss(const struct focal_loss *l, size_t n, size_t c,
                                const float *logits, const int32_t *targets,
                                float *grad, float *per, double *loss);
focal_status focal_softmax_loss_f64(const struct focal_loss *l, size_t n, size_t c,
                                    const double *logits, const int32_t *targets,
                                    double *grad, double *per, double *loss);

/* ------------------------------------------------------------------------ */
/* Class weights and output-bias initialisation                              */
/* ------------------------------------------------------------------------ */

/* Inverse-frequency ("balanced", as scikit-learn): w_j = N / (c · counts[j]),
 * N = Σ counts. FOCAL_ERR_ARG if a count is 0 (its weight would be infinite). */
focal_status focal_weights_balanced(double *w, const double *counts, size_t c);

/* Class-balanced by effective number (Cui et al. 2019):
 * w_j = (1 − β) / (1 − β^counts[j]), rescaled so that Σ w_j = c. β in [0,1).
 * FOCAL_ERR_ARG if β is out of range or a count is 0. */
focal_status focal_weights_effective(double *w, const double *counts, size_t c, double beta);

/* The bias b = −log((1 − π)/π) that makes a sigmoid output start at prior π,
 * π in (0,1) (π = 0.01 gives ≈ −4.595). FOCAL_ERR_ARG otherwise. */
focal_status focal_prior_bias(double pi, double *bias);

#ifdef __cplusplus
}
#endif

#endif /* FOCAL_LOSS_H */
