/* lossopt.c — the loss parameters shared by the commands that take a loss. */
#include <stddef.h>
#include <stdint.h>

#include "lossopt.h"

/* Each loss option: its flag, the library's parameter bit (which kinds use it
 * is the library's knowledge, see focal_loss_info) and the field it sets
 * (-1: not a double). */
static const struct lossopt_param {
    const char *name;
    int id;
    unsigned param;
    ptrdiff_t field;
} lossopt_params[] = {
    { "--alpha", LOSSOPT_ALPHA, FOCAL_PARAM_ALPHA, offsetof(struct focal_loss, alpha) },
    { "--gamma", LOSSOPT_GAMMA, FOCAL_PARAM_GAMMA, offsetof(struct focal_loss, gamma) },
    { "--beta", LOSSOPT_BETA, FOCAL_PARAM_BETA, offsetof(struct focal_loss, beta) },
    { "--gamma-pos", LOSSOPT_GAMMA_POS, FOCAL_PARAM_GAMMA_POS, offsetof(struct focal_loss, gamma_pos) },
    { "--gamma-neg", LOSSOPT_GAMMA_NEG, FOCAL_PARAM_GAMMA_NEG, offsetof(struct focal_loss, gamma_neg) },
    { "--margin", LOSSOPT_MARGIN, FOCAL_PARAM_MARGIN, offsetof(struct focal_loss, margin) },
    { "--epsilon", LOSSOPT_EPSILON, FOCAL_PARAM_EPSILON, offsetof(struct focal_loss, epsilon) },
    { "--reduction", LOSSOPT_REDUCTION, FOCAL_PARAM_REDUCTION, -1 },
    { "--label-smoothing", LOSSOPT_LABEL_SMOOTHING, FOCAL_PARAM_LABEL_SMOOTHING,
      offsetof(struct focal_loss, label_smoothing) },
    { "--ignore-index", LOSSOPT_IGNORE_INDEX, FOCAL_PARAM_IGNORE_INDEX, -1 },
    { "--tau", LOSSOPT_TAU, FOCAL_PARAM_TAU, offsetof(struct focal_loss, tau) },
    { "--scale", LOSSOPT_SCALE, FOCAL_PARAM_SCALE, offsetof(struct focal_loss, scale) },
    { "--db-alpha", LOSSOPT_DB_ALPHA, FOCAL_PARAM_DB_ALPHA, offsetof(struct focal_loss, db_alpha) },
    { "--db-beta", LOSSOPT_DB_BETA, FOCAL_PARAM_DB_BETA, offsetof(struct focal_loss, db_beta) },
    { "--db-mu", LOSSOPT_DB_MU, FOCAL_PARAM_DB_MU, offsetof(struct focal_loss, db_mu) },
    { "--db-lambda", LOSSOPT_DB_LAMBDA, FOCAL_PARAM_DB_LAMBDA, offsetof(struct focal_loss, db_lambda) },
    { "--db-kappa", LOSSOPT_DB_KAPPA, FOCAL_PARAM_DB_KAPPA, offsetof(struct focal_loss, db_kappa) },
};
#define N_LOSSOPT_PARAMS (sizeof lossopt_params / sizeof lossopt_params[0])

/* Writes the names of the kinds whose parameters include `param` (all kinds
 * for 0), comma-separated, to fp. */
static void lossopt_print_users(FILE *fp, unsigned param)
{
    int first = 1;
    for (int k = 0; k < FOCAL_LOSS_KIND_COUNT; k++) {
        const struct focal_loss_info *in = focal_loss_info((enum focal_loss_kind)k);
        if (param && !(in->params & param))
            continue;
        fprintf(fp, "%s%s", first ? "" : ", ", in->name);
        first = 0;
    }
}

void lossopt_print_kinds(FILE *fp)
{
    lossopt_print_users(fp, 0);
}

int lossopt_take(struct lossopt *o, int id, const char *value)
{
    if (id < LOSSOPT_FIRST || id >= LOSSOPT_END)
        return 0;
    o->val[id - LOSSOPT_FIRST] = value;
    return 1;
}

/* Sets the field of parameter p of l from text v (parsing only; the range is
 * the library's to check). Returns 0, or -1 after printing an error. */
static int lossopt_set(struct focal_loss *l, const struct lossopt_param *p, const char *v)
{
    if (p->id == LOSSOPT_REDUCTION) {
        if (focal_reduction_parse(v, &l->reduction) == FOCAL_OK)
            return 0;
        cli_error("%s: %s", p->name, focal_last_error());
        return -1;
    }
    if (p->id == LOSSOPT_IGNORE_INDEX) {
        long k;
        if (cli_parse_long(p->name, v, INT32_MIN, INT32_MAX, &k))
            return -1;
        l->ignore_index = (int32_t)k;
        return 0;
    }
    return cli_parse_double(p->name, v, (double *)(void *)((char *)l + p->field));
}

int lossopt_apply(struct focal_loss *l, enum focal_loss_kind kind, const struct lossopt *o, const char *kind_opt,
                  const char *ctx, int warn)
{
    const struct focal_loss_info *info = focal_loss_info(kind);
    struct focal_loss dflt;
    focal_loss_init(l, kind);
    focal_loss_init(&dflt, kind);
    for (size_t i = 0; i < N_LOSSOPT_PARAMS; i++) {
        const struct lossopt_param *p = &lossopt_params[i];
        const char *v = o->val[p->id - LOSSOPT_FIRST];
        if (!v)
            continue;
        if (lossopt_set(l, p, v) != 0)
            return CLI_EXIT_USAGE;
        if (p->id == LOSSOPT_ALPHA && info->softmax) {
            if (warn)
                cli_warn("--alpha: a scalar alpha only rescales a softmax loss (every row is "
                         "multiplied by %g); per-class weighting is --class-weights W1,...,WC", l->alpha);
            continue;
        }
        if (info->params & p->param)
            continue;
        /* not used by this loss: say so, and keep the library's default, so
         * that the loss is exactly the one documented */
        if (warn) {
            fprintf(stderr, "focal: warning: %s is ignored by %s %s; it is used by ", p->name, kind_opt, info->name);
            lossopt_print_users(stderr, p->param);
            fputc('\n', stderr);
        }
        if (p->field >= 0)
            *(double *)(void *)((char *)l + p->field) = *(const double *)(const void *)((const char *)&dflt + p->field);
        else if (p->id == LOSSOPT_IGNORE_INDEX)
            l->ignore_index = dflt.ignore_index;
    }
    if (focal_loss_check(l, 1) != FOCAL_OK) {
        cli_error("%s%s%s", ctx ? ctx : "", ctx ? ": " : "", focal_last_error());
        return CLI_EXIT_USAGE;
    }
    return CLI_EXIT_OK;
}

void lossopt_help(FILE *fp)
{
    struct focal_loss sf, fs, asl, p1, ce, la, ldam, db;
    focal_loss_init(&la, FOCAL_LOSS_LA);
    focal_loss_init(&ldam, FOCAL_LOSS_LDAM);
    focal_loss_init(&db, FOCAL_LOSS_DB);
    focal_loss_init(&sf, FOCAL_LOSS_SIGMOID_FOCAL);
    focal_loss_init(&fs, FOCAL_LOSS_FOCAL_STAR);
    focal_loss_init(&asl, FOCAL_LOSS_ASL);
    focal_loss_init(&p1, FOCAL_LOSS_SIGMOID_POLY1);
    focal_loss_init(&ce, FOCAL_LOSS_CE);
    fprintf(fp,
"  --alpha A            sigmoid family: positives get weight A, negatives 1 - A;\n"
"                       A in [0, 1]; default %s.\n"
"                       A = 0.25 down-weights the positives.\n"
"                       softmax family: A >= 0 only rescales the loss; balance\n"
"                       classes with --class-weights instead.\n"
"  --gamma G            focusing parameter, G >= 0 (focal-star: G > 0); default %g\n"
"                       (sigmoid-focal, focal-star, sigmoid-poly1, softmax-focal,\n"
"                       softmax-poly1, db). G = 0 gives cross-entropy back.\n"
"  --beta B             focal-star shift, any number; default %g.\n"
"  --gamma-pos G        asl focusing on positives, G >= 0; default %g.\n"
"  --gamma-neg G        asl focusing on negatives, G >= 0; default %g.\n"
"  --margin M           asl probability margin for negatives, M in [0, 1);\n"
"                       default %g. ldam: the largest class margin, M >= 0;\n"
"                       default %g.\n"
"  --epsilon E          poly-1 coefficient, any number; default %g.\n"
"  --label-smoothing S  softmax family: smoothing, S in [0, 1]; default %g.\n"
"  --ignore-index K     softmax family: the target value of an ignored row, an\n"
"                       integer; default %ld.\n"
"  --tau T              la: logit adjustment z + T log(prior), T >= 0; default %g.\n"
"  --scale S            ldam: logit scale, S > 0; default %g.\n"
"  --db-alpha A, --db-beta B, --db-mu M\n"
"                       db: re-balancing weight A + sigmoid(B (r - M)), A >= 0,\n"
"                       B >= 0; defaults %g, %g, %g.\n"
"  --db-lambda L        db: negatives' logit scale, L > 0; default %g.\n"
"  --db-kappa K         db: prior-bias coefficient, K >= 0; default %g.\n",
            sf.alpha < 0 ? "off (weight 1 for both)" : "on", sf.gamma, fs.beta,
            asl.gamma_pos, asl.gamma_neg, asl.margin, ldam.margin, p1.epsilon, ce.label_smoothing,
            (long)ce.ignore_index, la.tau, ldam.scale, db.db_alpha, db.db_beta, db.db_mu, db.db_lambda,
            db.db_kappa);
}
