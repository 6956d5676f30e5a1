/* loss_kernel_body.h — the fused loss kernels, written once for a real type.
 * Included by loss_kernels.c with REAL (float or double), RSUF (f32/f64),
 * R_EXP, R_LOG, R_LOG1P and R_TINY defined. Not a standalone header.
 * Why one file of over 800 lines: every kernel of both families is in it, so
 * that each is compiled once per type and instruction set from one text and
 * shares the block helpers below; splitting it would split that one body.
 *
 * Numerics (see focal.h): every logarithm of a probability is formed from
 * softplus, never from a rounded probability; the focusing factor (1 − p_t)^γ
 * is exp(γ·log(1 − p_t)) with log(1 − p_t) finite; no expression raises
 * (1 − p_t) to γ − 1, so every γ >= 0 gives finite gradients.
 *
 * Speed: elements are processed in blocks that stay in the L1 cache. Within a
 * block, each transcendental function runs as its own plain loop
 * (dst[i] = exp(src[i])), which the compiler maps to glibc's vector math
 * library, and the arithmetic between them runs as branch-free loops. Memory
 * is still read and written once per element. */

#define KFN(name) FOCAL_KNAME(FOCAL_CAT(name, RSUF))
#define KBLOCK 512

/* ---- vector math over a block ----------------------------------------------- */

/* d[i] = FN(s[i]) for i < n, as one plain loop the compiler maps to the
 * vector math library; d and s must not overlap. */
#define VMATH(name, T, FN) \
    static void KFN(name)(size_t n, T *restrict d, const T *restrict s) \
    { \
        _Pragma("omp simd") \
        for (size_t b = 0; b < n; b++) \
            d[b] = FN(s[b]); \
    }

VMATH(vexp, REAL, R_EXP)
VMATH(vlog, REAL, R_LOG)
VMATH(vlog1p, REAL, R_LOG1P)
/* in double, for per-row quantities of the softmax kernels */
VMATH(dvexp, double, exp)
VMATH(dvlog, double, log)
VMATH(dvlog1p, double, log1p)

/* ---- sigmoid family ------------------------------------------------------------ */

/* Per-block scratch of the sigmoid kernels. */
struct KFN(sigblk) {
    REAL yy[KBLOCK];   /* target, 0 where ignored */
    REAL ok[KBLOCK];   /* 1 counted, 0 ignored */
    REAL w[KBLOCK];    /* class weight */
    REAL e[KBLOCK];    /* exp(−|x|) (FL*: exp(−|v|)) */
    REAL l1[KBLOCK];   /* log1p(e) */
    REAL t1[KBLOCK];   /* scratch */
    REAL t2[KBLOCK];
    REAL t3[KBLOCK];
    REAL t4[KBLOCK];
    REAL sink[KBLOCK]; /* per-element losses when the caller wants none */
    REAL gsink[KBLOCK];/* gradients when the caller wants none */
};

/* The pieces of a logit xv every sigmoid loss needs, from e = exp(−|x|) and
 * l1 = log1p(e): sp = softplus(x) = −log(1−p), sn = softplus(−x) = −log p,
 * p = σ(x), q = 1 − p, each without cancellation. */
#define SIG_PIECES(xv, ev, l1v) \
    const REAL e = (ev); \
    const REAL sp = ((xv) > 0 ? (xv) : (REAL)0) + (l1v); \
    const REAL sn = ((xv) < 0 ? -(xv) : (REAL)0) + (l1v); \
    const REAL inv = (REAL)1 / ((REAL)1 + e); \
    const REAL p = (xv) >= 0 ? inv : e * inv; \
    const REAL q = (xv) >= 0 ? e * inv : inv

/* α_t for target yy */
#define SIG_AT(yy) (use_alpha ? alpha * (yy) + ((REAL)1 - alpha) * ((REAL)1 - (yy)) : (REAL)1)

/* Writes the block's losses li (weighted, unscaled) to per and gradients to
 * g; ignored elements get 0 even when their logit is not finite. Loads are
 * unconditional so that only the results are selected. */
#define SIG_STORE(b, li, gi) do { \
        const REAL wv = bk->w[b]; \
        const int okb = bk->ok[b] != 0; \
        const REAL lw = wv * (li), gw = wv * (gi) * gs; \
        g[b] = okb ? gw : (REAL)0; \
        per[b] = okb ? lw : (REAL)0; \
    } while (0)

/* Σ v[0..n) in double over 64 independent lanes and then a fixed tree: the
 * order does not depend on the vector width, and the adds do not wait on
 * each other. */
static double KFN(blocksum)(const REAL *restrict v, size_t n)
{
    double acc[64] = {0};
    size_t j = 0;
    for (; j + 64 <= n; j += 64)
        for (size_t l = 0; l < 64; l++)
            acc[l] += (double)v[j + l];
    for (; j < n; j++)
        acc[j & 63] += (double)v[j];
    for (size_t l = 0; l < 32; l++)
        acc[l] += acc[l + 32];
    for (size_t l = 0; l < 16; l++)
        acc[l] += acc[l + 16];
    for (size_t l = 0; l < 8; l++)
        acc[l] += acc[l + 8];
    for (size_t l = 0; l < 4; l++)
        acc[l] += acc[l + 4];
    return (acc[0] + acc[2]) + (acc[1] + acc[3]);
}

/* BCE, torchvision's focal loss and poly-1 on one block (x, g, per point at
 * the block). mode and poly are constants at each call site. mode: MOD_NONE
 * (γ = 0), MOD_EXP ((1−p_t)^γ = exp(γ·log(1−p_t))) or MOD_INT (γ an integer
 * in 1..7: (1−p_t)^γ by multiplication of the directly computed 1 − p_t). */
static inline __attribute__((always_inline)) double
KFN(blk_focal)(const struct focal_kparams *kp, struct KFN(sigblk) *restrict bk, size_t nb,
               const REAL *restrict x, REAL *restrict g, REAL *restrict per,
               const int mode, const int poly)
{
    const int with_gamma = mode == MOD_EXP;
    const int ig = (int)kp->l.gamma;
    const REAL gamma = (REAL)kp->l.gamma, alpha = (REAL)kp->l.alpha, eps = (REAL)kp->l.epsilon;
    const REAL gs = (REAL)kp->gscale;
    const int use_alpha = (kp->l.alpha >= 0);
    if (with_gamma) {
        /* log(1 − p_t) = m + log((1−u) + u·e), m the larger of log p and log q,
         * u the target mass on the smaller one; exact −|x| when u = 1. */
        _Pragma("omp simd")
        for (size_t b = 0; b < nb; b++) {
            const REAL u = x[b] >= 0 ? bk->yy[b] : (REAL)1 - bk->yy[b];
            bk->t1[b] = ((REAL)1 - u) + u * bk->e[b];
        }
        KFN(vlog)(nb, bk->t2, bk->t1);
        _Pragma("omp simd")
        for (size_t b = 0; b < nb; b++) {
            const REAL xv = x[b];
            const REAL ax = xv < 0 ? -xv : xv;
            const REAL m = -bk->l1[b]; /* the larger of log p, log q: −softplus(−|x|) */
            const REAL u = xv >= 0 ? bk->yy[b] : (REAL)1 - bk->yy[b];
            const REAL logq = u == (REAL)1 ? m - ax : m + bk->t2[b];
            bk->t3[b] = gamma * logq;
        }
        KFN(vexp)(nb, bk->t4, bk->t3);
    }
    _Pragma("omp simd")
    for (size_t b = 0; b < nb; b++) {
        const REAL xv = x[b], yy = bk->yy[b];
        SIG_PIECES(xv, bk->e[b], bk->l1[b]);
        const REAL bce = yy * sn + ((REAL)1 - yy) * sp;
        const REAL at = SIG_AT(yy);
        const REAL qt = yy * q + ((REAL)1 - yy) * p;           /* 1 − p_t */
        REAL mod = (REAL)1;
        if (mode == MOD_EXP) {
            mod = bk->t4[b];
        } else if (mode == MOD_INT) {
            const REAL q2 = qt * qt;
            mod = (ig & 1) ? qt : (REAL)1;
            mod = (ig & 2) ? mod * q2 : mod;
            mod = (ig & 4) ? mod * (q2 * q2) : mod;
        }
        const REAL pq = p * q;
        const REAL sgn = (REAL)1 - (REAL)2 * yy;                /* d(1−p_t)/dx = sgn·p·q */
        const REAL ratio = pq / (qt > R_TINY ? qt : R_TINY);    /* p·q/(1−p_t) <= 2 */
        REAL li = at * mod * bce;
        const REAL pmy = ((REAL)1 - yy) * p - yy * q;           /* p − y without cancellation */
        REAL gi = at * mod * (pmy + gamma * sgn * ratio * bce);
        if (poly) {
            li += eps * mod * qt;
            gi += eps * (gamma + (REAL)1) * mod * sgn * pq;
        }
        SIG_STORE(b, li, gi);
    }
    return KFN(blocksum)(per, nb);
}

/* FL* = −α_t log σ(γ x_t + β)/γ with x_t = (2y−1)x, on one block. Uses its own
 * exp/log1p of v instead of those of x. */
static double KFN(blk_star)(const struct focal_kparams *kp, struct KFN(sigblk) *restrict bk, size_t nb,
                            const REAL *restrict x, REAL *restrict g, REAL *restrict per)
{
    const REAL gamma = (REAL)kp->l.gamma, beta = (REAL)kp->l.beta, alpha = (REAL)kp->l.alpha;
    const REAL gs = (REAL)kp->gscale;
    const int use_alpha = (kp->l.alpha >= 0);
    _Pragma("omp simd")
    for (size_t b = 0; b < nb; b++) {
        const REAL v = gamma * ((REAL)2 * bk->yy[b] - (REAL)1) * x[b] + beta;
        bk->t1[b] = v;
        bk->t2[b] = v < 0 ? v : -v;
    }
    KFN(vexp)(nb, bk->e, bk->t2);
    KFN(vlog1p)(nb, bk->l1, bk->e);
    _Pragma("omp simd")
    for (size_t b = 0; b < nb; b++) {
        const REAL yy = bk->yy[b], v = bk->t1[b], ev = bk->e[b];
        const REAL s = (REAL)2 * yy - (REAL)1;
        const REAL spm = (v < 0 ? -v : (REAL)0) + bk->l1[b];                 /* −log σ(v) */
        const REAL sgm = v >= 0 ? ev / ((REAL)1 + ev) : (REAL)1 / ((REAL)1 + ev); /* σ(−v) */
        const REAL at = SIG_AT(yy);
        SIG_STORE(b, at * spm / gamma, -at * s * sgm);
    }
    return KFN(blocksum)(per, nb);
}

/* Asymmetric loss y·(1−p)^γ+ (−log p) + (1−y)·p_m^γ− (−log(1−p_m)) on one
 * block; with_margin is a constant at each call site. */
static inline __attribute__((always_inline)) double
KFN(blk_asl)(const struct focal_kparams *kp, struct KFN(sigblk) *restrict bk, size_t nb,
             const REAL *restrict x, REAL *restrict g, REAL *restrict per, const int with_margin)
{
    const REAL gpos = (REAL)kp->l.gamma_pos, gneg = (REAL)kp->l.gamma_neg, mg = (REAL)kp->l.margin;
    const REAL alpha = (REAL)kp->l.alpha, gs = (REAL)kp->gscale;
    const int use_alpha = (kp->l.alpha >= 0);
    _Pragma("omp simd")
    for (size_t b = 0; b < nb; b++) {
        const REAL xv = x[b];
        SIG_PIECES(xv, bk->e[b], bk->l1[b]);
        (void)q;
        bk->t1[b] = -gpos * sp;                   /* → (1−p)^γ+ */
        if (with_margin) {
            const REAL pm = p - mg;
            const REAL pmc = pm > 0 ? pm : (REAL)1; /* keeps unused lanes finite */
            bk->t2[b] = pmc;
            bk->t3[b] = -pmc;
        } else {
            bk->t3[b] = -gneg * sn;               /* → p^γ− */
        }
    }
    KFN(vexp)(nb, bk->t4, bk->t1);                /* t4 = (1−p)^γ+ */
    if (with_margin) {
        KFN(vlog1p)(nb, bk->t1, bk->t3);          /* t1 = log(1 − p_m) */
        KFN(vlog)(nb, bk->t3, bk->t2);            /* t3 = log p_m */
        _Pragma("omp simd")
        for (size_t b = 0; b < nb; b++)
            bk->t3[b] *= gneg;
        KFN(vexp)(nb, bk->t2, bk->t3);            /* t2 = p_m^γ− */
    } else {
        KFN(vexp)(nb, bk->t2, bk->t3);            /* t2 = p^γ− */
    }
    _Pragma("omp simd")
    for (size_t b = 0; b < nb; b++) {
        const REAL xv = x[b], yy = bk->yy[b];
        SIG_PIECES(xv, bk->e[b], bk->l1[b]);
        const REAL mod1 = bk->t4[b], mod2 = bk->t2[b];
        const REAL f1 = mod1 * sn;
        const REAL g1 = mod1 * (-gpos * p * sn - q);
        REAL f2, g2;
        if (with_margin) {
            const REAL pm = p - mg;
            const int pos = pm > 0;
            const REAL pmc = pos ? pm : (REAL)1;
            const REAL lg = bk->t1[b];
            const REAL f2v = -mod2 * lg;
            const REAL g2v = mod2 * p * q * (-gneg * lg / pmc + (REAL)1 / (q + mg));
            f2 = pos ? f2v : (REAL)0;
            g2 = pos ? g2v : (REAL)0;
        } else {
            f2 = mod2 * sp;
            g2 = mod2 * (gneg * q * sp + p);
        }
        const REAL at = SIG_AT(yy);
        SIG_STORE(b, at * (yy * f1 + ((REAL)1 - yy) * f2), at * (yy * g1 + ((REAL)1 - yy) * g2));
    }
    return KFN(blocksum)(per, nb);
}

static void KFN(sig_db)(const struct focal_kparams *kp, size_t c, size_t r0, size_t r1,
                        const REAL *restrict x, const REAL *restrict y, REAL *restrict grad,
                        REAL *restrict per, struct focal_kpart *out);

static void KFN(sig)(const struct focal_kparams *kp, size_t c, size_t r0, size_t r1,
                     const REAL *restrict x, const REAL *restrict y, REAL *restrict grad,
                     REAL *restrict per, struct focal_kpart *out)
{
    if (kp->l.kind == FOCAL_LOSS_DB) {
        KFN(sig_db)(kp, c, r0, r1, x, y, grad, per, out);
        return;
    }
    struct KFN(sigblk) bk;
    const size_t i0 = r0 * c, i1 = r1 * c;
    const enum focal_loss_kind kind = kp->l.kind;
    double sum = 0;
    int64_t cnt = 0, bad = 0;
    size_t j = 0; /* class of the next element: chunks start at a row */
    const int int_gamma = kp->l.gamma >= 1 && kp->l.gamma <= 7 && kp->l.gamma == (double)(int)kp->l.gamma;
    if (!kp->l.class_weights)
        for (size_t b = 0; b < KBLOCK; b++)
            bk.w[b] = 1;
    for (size_t i = i0; i < i1; i += KBLOCK) {
        const size_t nb = i1 - i < KBLOCK ? i1 - i : KBLOCK;
        const REAL *xb = x + i, *yb = y + i;
        REAL *gb = grad ? grad + i : bk.gsink;
        REAL *pb = per ? per + i : bk.sink;
        if (kp->l.class_weights) {
            for (size_t b = 0; b < nb; b++) {
                bk.w[b] = (REAL)kp->l.class_weights[j];
                j = j + 1 == c ? 0 : j + 1;
            }
        }
        int cb = 0, bb = 0;
        _Pragma("omp simd reduction(+:cb, bb)")
        for (size_t b = 0; b < nb; b++) {
            const REAL yv = yb[b], xv = xb[b];
            const int valid = yv >= 0;
            bb += !(yv <= (REAL)1);
            cb += valid;
            bk.ok[b] = valid ? (REAL)1 : (REAL)0;
            bk.yy[b] = valid ? yv : (REAL)0;
            bk.t1[b] = xv < 0 ? xv : -xv;
        }
        cnt += cb;
        bad += bb;
        if (kind != FOCAL_LOSS_FOCAL_STAR) {
            KFN(vexp)(nb, bk.e, bk.t1);
            KFN(vlog1p)(nb, bk.l1, bk.e);
        }
        switch (kind) {
        case FOCAL_LOSS_FOCAL_STAR:
            sum += KFN(blk_star)(kp, &bk, nb, xb, gb, pb);
            break;
        case FOCAL_LOSS_ASL:
            sum += kp->l.margin != 0 ? KFN(blk_asl)(kp, &bk, nb, xb, gb, pb, 1)
                                   : KFN(blk_asl)(kp, &bk, nb, xb, gb, pb, 0);
            break;
        case FOCAL_LOSS_SIGMOID_POLY1:
            sum += int_gamma ? KFN(blk_focal)(kp, &bk, nb, xb, gb, pb, MOD_INT, 1)
                             : KFN(blk_focal)(kp, &bk, nb, xb, gb, pb, MOD_EXP, 1);
            break;
        default: /* bce and sigmoid-focal */
            if (kp->l.gamma == 0)
                sum += KFN(blk_focal)(kp, &bk, nb, xb, gb, pb, MOD_NONE, 0);
            else if (int_gamma)
                sum += KFN(blk_focal)(kp, &bk, nb, xb, gb, pb, MOD_INT, 0);
            else
                sum += KFN(blk_focal)(kp, &bk, nb, xb, gb, pb, MOD_EXP, 0);
            break;
        }
    }
    out->sum = sum;
    out->counted = cnt;
    out->bad = bad;
}

/* ---- distribution-balanced loss (sigmoid family) ------------------------------- */

/* Per-block scratch of the db kernel. */
struct KFN(dbblk) {
    REAL yy[KBLOCK], ok[KBLOCK], w[KBLOCK]; /* target (0 if ignored), counted, w_j·r̂_j */
    REAL v[KBLOCK];                          /* v = x + (κ/λ) b_j */
    REAL a1[KBLOCK], e1[KBLOCK], l1[KBLOCK]; /* −|v|, exp(−|v|), log1p(exp(−|v|)) */
    REAL a2[KBLOCK], e2[KBLOCK], l2[KBLOCK]; /* the same of λv */
    REAL m1[KBLOCK], m2[KBLOCK];             /* (1 − σ(v))^γ, σ(λv)^γ */
    REAL sink[KBLOCK], gsink[KBLOCK];
};

/* Distribution-balanced loss over rows [r0, r1) (see focal/loss.h): per row,
 * the instance rate Σ_k y_k/π_k and from it the re-balancing weights r̂_j;
 * then per element the focal terms of v = x + kp->cshift[j] (positives) and
 * λv (negatives). A row at a time, in blocks of the row. */
static void KFN(sig_db)(const struct focal_kparams *kp, size_t c, size_t r0, size_t r1,
                        const REAL *restrict x, const REAL *restrict y, REAL *restrict grad,
                        REAL *restrict per, struct focal_kpart *out)
{
    struct KFN(dbblk) bk;
    const double *sh = kp->cshift, *inv = kp->caux;
    const double dalpha = kp->l.db_alpha, dbeta = kp->l.db_beta, dmu = kp->l.db_mu;
    const REAL lam = (REAL)kp->l.db_lambda, ilam = (REAL)(1.0 / kp->l.db_lambda);
    const REAL gamma = (REAL)kp->l.gamma, gs = (REAL)kp->gscale;
    double sum = 0;
    int64_t cnt = 0, bad = 0;
    for (size_t i = r0; i < r1; i++) {
        const REAL *xr = x + i * c, *yr = y + i * c;
        double rep = 0;
        for (size_t j = 0; j < c; j++)
            rep += yr[j] > 0 ? (double)yr[j] * inv[j] : 0.0;
        for (size_t j0 = 0; j0 < c; j0 += KBLOCK) {
            const size_t nb = c - j0 < KBLOCK ? c - j0 : KBLOCK;
            const REAL *xb = xr + j0, *yb = yr + j0;
            REAL *g = grad ? grad + i * c + j0 : bk.gsink;
            REAL *pr = per ? per + i * c + j0 : bk.sink;
            int cb = 0, bb = 0;
            /* the argument of r̂'s sigmoid, β (r_j − μ); +∞ (σ = 1) or 0 (β = 0)
             * for r_j = +∞ */
            const double irep = rep > 0 ? 1.0 / rep : 0.0;
            const REAL rinf = dbeta > 0 ? (REAL)INFINITY : (REAL)0;
            _Pragma("omp simd reduction(+:cb, bb)")
            for (size_t b = 0; b < nb; b++) {
                const size_t j = j0 + b;
                const REAL yv = yb[b];
                const int valid = yv >= 0;
                bb += !(yv <= (REAL)1);
                cb += valid;
                bk.ok[b] = valid ? (REAL)1 : (REAL)0;
                bk.yy[b] = valid ? yv : (REAL)0;
                const REAL a = rep > 0 ? (REAL)(dbeta * (inv[j] * irep - dmu)) : rinf;
                bk.m1[b] = a;
                bk.m2[b] = a < 0 ? a : -a;
                const REAL v = (REAL)((double)xb[b] + sh[j]);
                const REAL lv = lam * v;
                bk.v[b] = v;
                bk.a1[b] = v < 0 ? v : -v;
                bk.a2[b] = lv < 0 ? lv : -lv;
            }
            KFN(vexp)(nb, bk.e1, bk.m2);          /* exp(−|a|) */
            _Pragma("omp simd")
            for (size_t b = 0; b < nb; b++) {
                const REAL a = bk.m1[b], e = bk.e1[b];
                const REAL sg = a >= 0 ? (REAL)1 / ((REAL)1 + e) : e / ((REAL)1 + e);
                const REAL wj = kp->l.class_weights ? (REAL)kp->l.class_weights[j0 + b] : (REAL)1;
                bk.w[b] = wj * ((REAL)dalpha + sg);
            }
            cnt += cb;
            bad += bb;
            KFN(vexp)(nb, bk.e1, bk.a1);
            KFN(vlog1p)(nb, bk.l1, bk.e1);
            KFN(vexp)(nb, bk.e2, bk.a2);
            KFN(vlog1p)(nb, bk.l2, bk.e2);
            _Pragma("omp simd")
            for (size_t b = 0; b < nb; b++) {
                const REAL v = bk.v[b], lv = lam * v;
                const REAL sp = (v > 0 ? v : (REAL)0) + bk.l1[b];      /* softplus(v) */
                const REAL snl = (lv < 0 ? -lv : (REAL)0) + bk.l2[b];  /* softplus(−λv) */
                bk.a1[b] = -gamma * sp;
                bk.a2[b] = -gamma * snl;
            }
            KFN(vexp)(nb, bk.m1, bk.a1);          /* (1 − σ(v))^γ */
            KFN(vexp)(nb, bk.m2, bk.a2);          /* σ(λv)^γ */
            _Pragma("omp simd")
            for (size_t b = 0; b < nb; b++) {
                const REAL yy = bk.yy[b];
                const REAL v = bk.v[b], lv = lam * v;
                const REAL e1 = bk.e1[b], e2 = bk.e2[b];
                const REAL i1 = (REAL)1 / ((REAL)1 + e1), i2 = (REAL)1 / ((REAL)1 + e2);
                const REAL p = v >= 0 ? i1 : e1 * i1, q = v >= 0 ? e1 * i1 : i1;     /* σ(±v) */
                const REAL pl = lv >= 0 ? i2 : e2 * i2, ql = lv >= 0 ? e2 * i2 : i2; /* σ(±λv) */
                const REAL sn = (v < 0 ? -v : (REAL)0) + bk.l1[b];     /* −log σ(v) */
                const REAL spl = (lv > 0 ? lv : (REAL)0) + bk.l2[b];   /* −log(1 − σ(λv)) */
                const REAL m1 = bk.m1[b], m2 = bk.m2[b];
                const REAL lpos = m1 * sn, gpos = -m1 * (q + gamma * p * sn);
                const REAL lneg = m2 * spl * ilam, gneg = m2 * (pl + gamma * ql * spl);
                const REAL wv = bk.w[b];
                const int okb = bk.ok[b] != 0;
                const REAL li = wv * (yy * lpos + ((REAL)1 - yy) * lneg);
                const REAL gi = wv * (yy * gpos + ((REAL)1 - yy) * gneg) * gs;
                g[b] = okb ? gi : (REAL)0;
                pr[b] = okb ? li : (REAL)0;
            }
            sum += KFN(blocksum)(pr, nb);
        }
    }
    out->sum = sum;
    out->counted = cnt;
    out->bad = bad;
}

/* ---- softmax family ------------------------------------------------------------ */

/* One copy (not inlined), so that every caller runs an element through the
 * same vector or scalar code for the same position in a block. */
static __attribute__((noinline)) void KFN(vexp_ip)(size_t n, REAL *d)
{
    _Pragma("omp simd")
    for (size_t b = 0; b < n; b++)
        d[b] = R_EXP(d[b]);
}

#define SMX_ROWS 64

/* Σ_{j ≠ skip} g[j], j in [0, n), in double, in a fixed order (16 lanes, then
 * a tree), so that it vectorises without depending on the vector width. The
 * skipped entry is masked in registers, not overwritten in memory. */
static inline double KFN(lanes_total)(double acc[16]);

static inline double KFN(lanesum_skip)(const REAL *restrict g, size_t n, size_t skip)
{
    double acc[16] = {0};
    size_t j = 0;
    for (; j + 16 <= n; j += 16)
        for (size_t l = 0; l < 16; l++)
            acc[l] += j + l == skip ? 0.0 : (double)g[j + l];
    for (; j < n; j++)
        acc[j & 15] += j == skip ? 0.0 : (double)g[j];
    return KFN(lanes_total)(acc);
}

/* The tree that ends lanesum_skip: Σ of the 16 lanes in a fixed order. */
static inline double KFN(lanes_total)(double acc[16])
{
    for (size_t l = 0; l < 8; l++)
        acc[l] += acc[l + 8];
    for (size_t l = 0; l < 4; l++)
        acc[l] += acc[l + 4];
    for (size_t l = 0; l < 2; l++)
        acc[l] += acc[l + 2];
    return acc[0] + acc[1];
}

/* smx_rows_hard without a gradient buffer to hold the exponentials: the
 * same e_c = exp(z_c − max z), made KBLOCK at a time on the stack at the
 * same offsets from the rows' start (so that each goes through the same code
 * of vexp_ip), summed per row in lanesum_skip's order. Writes SNT = Σ_{c≠t}
 * e_c and ET = e_t of each row. */
static void KFN(smx_sums_nograd)(size_t c, size_t nr, const REAL *restrict xb, const REAL *restrict M,
                                 const int32_t *restrict T, double *restrict SNT, double *restrict ET)
{
    REAL buf[KBLOCK];
    double acc[16] = {0};
    const size_t total = nr * c;
    size_t i = 0, j = 0; /* row and class of the next exponential */
    for (size_t k0 = 0; k0 < total; k0 += KBLOCK) {
        const size_t nb = total - k0 < KBLOCK ? total - k0 : KBLOCK;
        for (size_t b = 0, ii = i, jj = j; b < nb; b++) {
            buf[b] = xb[k0 + b] - M[ii];
            if (++jj == c) {
                jj = 0;
                ii++;
            }
        }
        KFN(vexp_ip)(nb, buf);
        for (size_t b = 0; b < nb; b++) {
            const int is_t = j == (size_t)T[i];
            acc[j & 15] += is_t ? 0.0 : (double)buf[b];
            if (is_t)
                ET[i] = (double)buf[b];
            if (++j == c) {
                SNT[i] = KFN(lanes_total)(acc);
                memset(acc, 0, sizeof acc);
                j = 0;
                i++;
            }
        }
    }
}

/* The per-row tail of smx_rows_hard, vectorised across rows: from the row
 * sums and logarithms, the loss LS, the factor FAC that turns e_c into
 * d/dz_c, and GT = d/dz_t; MOD = (1 − p_t)^γ, LOGS = log s, L1V = log1p(Σ_{c≠t}/e_t). */
static void KFN(smx_finish)(const struct focal_kparams *kp, size_t nr, const double *restrict S,
                            const double *restrict SNT, const double *restrict ET,
                            const double *restrict ZT, const double *restrict OK,
                            const double *restrict W, const double *restrict MOD,
                            const double *restrict LOGS, const double *restrict L1V,
                            double *restrict FAC, double *restrict GT, double *restrict LS)
{
    const double gamma = kp->l.gamma;
    const int poly = kp->l.kind == FOCAL_LOSS_SOFTMAX_POLY1;
    const double scal = (kp->l.alpha >= 0) ? kp->l.alpha : 1.0, gs = kp->gscale;
    const double eps1 = poly ? kp->l.epsilon : 0.0, peps = eps1 * (gamma + 1);
    _Pragma("omp simd")
    for (size_t i = 0; i < nr; i++) {
        const double s = S[i], snt = SNT[i], et = ET[i];
        const double v = snt / et;
        /* p_t >= 1/2 (Σ_{c≠t} <= e_t): log p_t by the log1p form */
        const double logpt = snt <= et ? -L1V[i] : ZT[i] - LOGS[i];
        const double omp = snt / s;                 /* 1 − p_t */
        const double lpr_dom = v > 0 ? logpt * (1 + v) / v : -1.0;
        const double lpr = snt <= et ? lpr_dom : logpt / omp;
        const double pt = et / s;
        const double mod = gamma == 0 ? 1.0 : (snt > 0 ? MOD[i] : 0.0);
        const double wt = W[i];
        const double a = wt * scal;
        const double pe = wt * peps * mod;          /* poly-1 (0 unless poly) */
        const double loss = -a * mod * logpt + wt * eps1 * mod * omp;
        const double gt = a * mod * (gamma * pt * logpt - omp) - pe * pt * omp;
        const double kc = a * mod * (1 - gamma * pt * lpr) + pe * pt;
        FAC[i] = OK[i] != 0 ? kc / s * gs : 0.0;    /* factor for e_c */
        GT[i] = OK[i] != 0 ? gt * gs : 0.0;         /* d/dz_t */
        LS[i] = OK[i] != 0 ? loss : 0.0;
    }
}

/* Rows [r0, r0+nr) without label smoothing, batched so that every
 * transcendental runs as a vector loop: over the rows' logits for the
 * exponentials, and across rows for the per-row logarithms. The gradient rows
 * first hold e_c = exp(z_c − max z), then are rescaled in place:
 *   d/dz_t = a·mod·(γ p_t log p_t − (1 − p_t)) [+ poly-1 term]
 *   d/dz_c = p_c·a·mod·(1 − γ p_t log p_t/(1 − p_t)) [+ poly-1 term], c ≠ t
 * where 1 − p_t = Σ_{c≠t} e_c / Σ e_c is summed directly, never as 1 − p_t. */
static double KFN(smx_rows_hard)(const struct focal_kparams *kp, size_t c, size_t r0, size_t nr,
                                 const REAL *restrict x, const int32_t *restrict t,
                                 REAL *restrict grad, REAL *restrict per, int64_t *counted)
{
    double S[SMX_ROWS], SNT[SMX_ROWS], ET[SMX_ROWS], ZT[SMX_ROWS], OK[SMX_ROWS], W[SMX_ROWS];
    double A[SMX_ROWS], B[SMX_ROWS], D[SMX_ROWS], E[SMX_ROWS];
    double FAC[SMX_ROWS], GT[SMX_ROWS], LS[SMX_ROWS];
    int32_t T[SMX_ROWS];
    REAL M[SMX_ROWS];
    const REAL *xb = x + r0 * c;
    REAL *gb = grad ? grad + r0 * c : NULL;
    int64_t cnt = 0;
    for (size_t i = 0; i < nr; i++) {
        const int32_t ti = t[r0 + i];
        const int ok = ti != kp->l.ignore_index;
        cnt += ok;
        T[i] = ok ? ti : 0; /* ignored rows run on class 0 and are zeroed below */
        OK[i] = ok;
        W[i] = (ok && kp->l.class_weights) ? kp->l.class_weights[ti] : 1.0;
        const REAL *z = xb + i * c;
        REAL m = z[0];
        _Pragma("omp simd reduction(max:m)")
        for (size_t j = 0; j < c; j++)
            m = z[j] > m ? z[j] : m;
        M[i] = m;
        if (gb) {
            REAL *g = gb + i * c;
            _Pragma("omp simd")
            for (size_t j = 0; j < c; j++)
                g[j] = z[j] - m;
        }
        ZT[i] = (double)(z[T[i]] - m); /* from z: reading g back would stall on the store */
    }
    /* Σ_{c≠t} e_c directly, then s = Σ_{c≠t} + e_t: no cancellation */
    if (gb) {
        KFN(vexp_ip)(nr * c, gb);
        for (size_t i = 0; i < nr; i++) {
            const REAL *g = gb + i * c;
            SNT[i] = KFN(lanesum_skip)(g, c, (size_t)T[i]);
            ET[i] = (double)g[T[i]];
        }
    } else {
        KFN(smx_sums_nograd)(c, nr, xb, M, T, SNT, ET);
    }
    for (size_t i = 0; i < nr; i++)
        S[i] = SNT[i] + ET[i];
    /* per-row logarithms, vectorised across rows */
    const double gamma = kp->l.gamma;
    _Pragma("omp simd")
    for (size_t i = 0; i < nr; i++) {
        A[i] = SNT[i] / ET[i];                      /* v = Σ_{c≠t} e_c / e_t */
        B[i] = SNT[i] > 0 ? SNT[i] : 1.0;
    }
    KFN(dvlog)(nr, D, S);                           /* D = log s */
    KFN(dvlog1p)(nr, E, A);                         /* E = log1p(v) */
    KFN(dvlog)(nr, A, B);                           /* A = log Σ_{c≠t} e_c (guarded) */
    _Pragma("omp simd")
    for (size_t i = 0; i < nr; i++)
        B[i] = gamma * (A[i] - D[i]);               /* γ·log(1 − p_t) */
    KFN(dvexp)(nr, A, B);                           /* A = (1 − p_t)^γ where Σ_{c≠t} > 0 */
    KFN(smx_finish)(kp, nr, S, SNT, ET, ZT, OK, W, A, D, E, FAC, GT, LS);
    double sum = 0;
    for (size_t i = 0; i < nr; i++)
        sum += LS[i];
    for (size_t i = 0; gb && i < nr; i++) {
        REAL *g = gb + i * c;
        const REAL f = (REAL)FAC[i];
        _Pragma("omp simd")
        for (size_t j = 0; j < c; j++)
            g[j] *= f;
        g[T[i]] = (REAL)GT[i];
    }
    for (size_t i = 0; per && i < nr; i++)
        per[r0 + i] = (REAL)LS[i];
    *counted += cnt;
    return sum;
}

/* One row with label smoothing: every class carries target mass q_c and its
 * own focal term. Computed in double; g (the row's gradient, or NULL for
 * the loss only) is used as scratch. */
static double KFN(smx_row_smooth)(const struct focal_kparams *kp, size_t c, const REAL *restrict z,
                                  int32_t t, REAL *restrict g)
{
    size_t k = 0;
    for (size_t j = 1; j < c; j++)
        if (z[j] > z[k])
            k = j;
    const double m = (double)z[k];
    double s = 0, sna = 0;
    for (size_t j = 0; j < c; j++) {
        const double ej = exp((double)z[j] - m);
        s += ej;
        if (j != k)
            sna += ej;
    }
    const double logs = log(s);
    const double gamma = kp->l.gamma, ls = kp->l.label_smoothing;
    const double qoff = ls / (double)c;
    double loss = 0, G = 0, P = 0, OMP = 0;
    /* pass 1: Σ q_j f(p_j); g_j = q_j·p_j·f'(p_j) kept in g; f(p) = −(1−p)^γ log p */
    for (size_t j = 0; j < c; j++) {
        const double ej = exp((double)z[j] - m);
        double logp, omp, lpr; /* log p_j, 1 − p_j, log p_j / (1 − p_j) */
        if (j == k) {
            logp = -log1p(sna);
            omp = sna / s;
            lpr = sna > 0 ? logp / omp : -1.0;
        } else {
            logp = ((double)z[j] - m) - logs;
            omp = 1 - ej / s;
            lpr = logp / omp;
        }
        const double pj = ej / s;
        const double mod = gamma == 0 ? 1.0 : (omp > 0 ? exp(gamma * log(omp)) : 0.0);
        const double qj = qoff + ((size_t)t == j ? 1 - ls : 0.0);
        loss += qj * (-mod * logp);
        const double gj = qj * mod * (gamma * pj * lpr - 1);
        G += gj;
        P += qj * pj;
        OMP += qj * omp;
        if (g)
            g[j] = (REAL)gj;
    }
    const double wt = kp->l.class_weights ? kp->l.class_weights[t] : 1.0;
    const double a = wt * ((kp->l.alpha >= 0) ? kp->l.alpha : 1.0);
    loss *= a;
    double pc = 0; /* poly-1: gradient term pc · p_j (q_j − P) */
    if (kp->l.kind == FOCAL_LOSS_SOFTMAX_POLY1) {
        const double modp = gamma == 0 ? 1.0 : (OMP > 0 ? exp(gamma * log(OMP)) : 0.0);
        loss += wt * kp->l.epsilon * modp * OMP;
        pc = -wt * kp->l.epsilon * (gamma + 1) * modp;
    }
    /* pass 2: d/dz_j = a (g_j − p_j G) + pc · p_j (q_j − P) */
    for (size_t j = 0; g && j < c; j++) {
        const double pj = exp((double)z[j] - m) / s;
        const double qj = qoff + ((size_t)t == j ? 1 - ls : 0.0);
        const double d = a * ((double)g[j] - pj * G) + pc * pj * (qj - P);
        g[j] = (REAL)(d * kp->gscale);
    }
    return loss;
}

/* Rows [r0, r1) of the long-tail softmax losses: cross-entropy on
 *   u_j = s·(z_j + kp->cshift[j] − [j = t]·kp->caux[t])
 * (la and balanced-softmax: s = 1, cshift = τ log v_j, no caux; ldam: s the
 * scale, no cshift, caux = Δ_j), formed in double. As for ce, 1 − p_t is
 * summed directly (Σ_{j≠t} e_j), never as 1 − p_t; d/dz = s·d/du. */
static void KFN(smx_adjusted)(const struct focal_kparams *kp, size_t c, size_t r0, size_t r1,
                              const REAL *restrict x, const int32_t *restrict t, REAL *restrict grad,
                              REAL *restrict per, struct focal_kpart *out)
{
    double ub[KBLOCK], eb[KBLOCK];
    const double *sh = kp->cshift, *dl = kp->caux;
    const double s = kp->l.kind == FOCAL_LOSS_LDAM ? kp->l.scale : 1.0;
    const double scal = (kp->l.alpha >= 0) ? kp->l.alpha : 1.0;
    double sum = 0;
    int64_t cnt = 0;
    for (size_t r = r0; r < r1; r++) {
        const REAL *z = x + r * c;
        REAL *g = grad ? grad + r * c : NULL;
        double loss = 0;
        if (t[r] == kp->l.ignore_index) {
            for (size_t j = 0; g && j < c; j++)
                g[j] = 0;
        } else {
            const size_t tt = (size_t)t[r];
            const double dt = dl ? dl[tt] : 0.0;
#define ADJ_U(j) (s * ((double)z[j] + (sh ? sh[j] : 0.0) - ((j) == tt ? dt : 0.0)))
            double m = ADJ_U(0);
            for (size_t j = 1; j < c; j++) {
                const double u = ADJ_U(j);
                m = u > m ? u : m;
            }
            const double ut = ADJ_U(tt) - m;
            double snt = 0;
            for (size_t j0 = 0; j0 < c; j0 += KBLOCK) {
                const size_t nb = c - j0 < KBLOCK ? c - j0 : KBLOCK;
                for (size_t b = 0; b < nb; b++)
                    ub[b] = ADJ_U(j0 + b) - m;
                KFN(dvexp)(nb, eb, ub);
                for (size_t b = 0; b < nb; b++) {
                    snt += j0 + b == tt ? 0.0 : eb[b];
                    if (g)
                        g[j0 + b] = (REAL)eb[b];
                }
            }
#undef ADJ_U
            const double et = exp(ut);
            const double S = snt + et;
            /* p_t >= 1/2: log p_t = −log1p(Σ_{j≠t} e_j / e_t), accurate near p_t = 1 */
            const double logpt = snt <= et ? -log1p(snt / et) : ut - log(S);
            const double wt = kp->l.class_weights ? kp->l.class_weights[tt] : 1.0;
            const double a = scal * wt;
            loss = -a * logpt;
            if (g) {
                const double f = a * s * kp->gscale;
                const REAL fac = (REAL)(f / S);
                for (size_t j = 0; j < c; j++)
                    g[j] *= fac;
                g[tt] = (REAL)(-f * (snt / S));
            }
            cnt++;
        }
        if (per)
            per[r] = (REAL)loss;
        sum += loss;
    }
    out->sum = sum;
    out->counted = cnt;
    out->bad = 0;
}

static void KFN(smx)(const struct focal_kparams *kp, size_t c, size_t r0, size_t r1,
                     const REAL *restrict x, const int32_t *restrict t, REAL *restrict grad,
                     REAL *restrict per, struct focal_kpart *out)
{
    double sum = 0;
    int64_t cnt = 0;
    if (kp->l.kind == FOCAL_LOSS_LA || kp->l.kind == FOCAL_LOSS_BALANCED_SOFTMAX ||
        kp->l.kind == FOCAL_LOSS_LDAM) {
        KFN(smx_adjusted)(kp, c, r0, r1, x, t, grad, per, out);
        return;
    }
    if (kp->l.label_smoothing == 0) {
        for (size_t r = r0; r < r1; r += SMX_ROWS) {
            const size_t nr = r1 - r < SMX_ROWS ? r1 - r : SMX_ROWS;
            sum += KFN(smx_rows_hard)(kp, c, r, nr, x, t, grad, per, &cnt);
        }
    } else {
        for (size_t r = r0; r < r1; r++) {
            const REAL *z = x + r * c;
            REAL *g = grad ? grad + r * c : NULL;
            double l = 0;
            if (t[r] == kp->l.ignore_index) {
                for (size_t j = 0; g && j < c; j++)
                    g[j] = 0;
            } else {
                l = KFN(smx_row_smooth)(kp, c, z, t[r], g);
                cnt++;
            }
            if (per)
                per[r] = (REAL)l;
            sum += l;
        }
    }
    out->sum = sum;
    out->counted = cnt;
    out->bad = 0;
}

#undef KBLOCK
#undef VMATH
#undef SMX_ROWS
#undef KFN
#undef SIG_PIECES
#undef SIG_AT
#undef SIG_STORE
