/* run_config.c — a run's configuration: its defaults, the names of the
 * selection metrics, and the configuration as JSON (recorded in
 * run.json and in the last checkpoint, compared when a run resumes). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "focal/train.h"
#include "base/internal.h"
#include "base/names.h"
#include "train/run_internal.h"

/* ---- names ------------------------------------------------------------------- */

static const char *const select_names[FOCAL_SELECT_COUNT] = {
    "auto", "map", "auc", "macro-f1", "balanced-accuracy", "accuracy", "loss"
};

FOCAL_DEFINE_NAMES(focal_select_name, focal_select_parse, enum focal_select, "selection metric",
                   FOCAL_NAMES(select_names))

void focal_run_defaults(struct focal_run_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    focal_loss_init(&cfg->loss, FOCAL_LOSS_BCE);
    focal_optim_defaults(&cfg->optim, FOCAL_OPTIM_ADAM);
    /* the default recipe (README "The default recipe"): one cosine over the run */
    cfg->optim.schedule = FOCAL_SCHED_COSINE;
    cfg->sampler = FOCAL_SAMPLER_SHUFFLE;
    cfg->repeat_threshold = 0.1;
    cfg->epochs = 10;
    cfg->batch = 32;
    cfg->select = FOCAL_SELECT_AUTO;
    cfg->reweight_beta = 0.9999;
    cfg->posthoc = FOCAL_POSTHOC_OFF;
    cfg->posthoc_tau = 1.0;
    cfg->max_norm = 0.1;
}

enum focal_select focal_select_resolve(enum focal_select s, enum focal_task task)
{
    if (s != FOCAL_SELECT_AUTO)
        return s;
    return task == FOCAL_TASK_MULTILABEL ? FOCAL_SELECT_MAP : FOCAL_SELECT_AUC;
}


/* ---- the configuration as JSON --------------------------------------------------- */

/* The configuration as a JSON object: everything that must match for a run
 * to be resumed (the epoch count may change and is not in it). */
cJSON *focal_run_config_json(const struct focal_run_config *cfg, int classes)
{
    cJSON *o = cJSON_CreateObject();
    const struct focal_loss *l = &cfg->loss;
    const struct focal_optim_config *p = &cfg->optim;
    const struct focal_augment *a = &cfg->augment;
    char seed[24];
    snprintf(seed, sizeof seed, "%llu", (unsigned long long)cfg->seed);

    cJSON_AddStringToObject(o, "model", cfg->model_name ? cfg->model_name : "");
    cJSON_AddStringToObject(o, "model_description", cfg->model_desc);
    if (cfg->head_normalised)
        cJSON_AddStringToObject(o, "model_head", "dense-norm, made so for ldam");
    cJSON *lj = cJSON_AddObjectToObject(o, "loss");
    cJSON_AddStringToObject(lj, "kind", focal_loss_kind_name(l->kind));
    cJSON_AddStringToObject(lj, "reduction", focal_reduction_name(l->reduction));
    cJSON_AddNumberToObject(lj, "gamma", l->gamma);
    cJSON_AddNumberToObject(lj, "alpha", l->alpha);
    cJSON_AddNumberToObject(lj, "beta", l->beta);
    cJSON_AddNumberToObject(lj, "gamma_pos", l->gamma_pos);
    cJSON_AddNumberToObject(lj, "gamma_neg", l->gamma_neg);
    cJSON_AddNumberToObject(lj, "margin", l->margin);
    cJSON_AddNumberToObject(lj, "epsilon", l->epsilon);
    cJSON_AddNumberToObject(lj, "label_smoothing", l->label_smoothing);
    /* the long-tail losses' parameters, for the kinds that use them (the
     * class prior comes from the training split, which the data's
     * fingerprint covers) */
    const unsigned used = focal_loss_info(l->kind)->params;
    if (used & FOCAL_PARAM_TAU)
        cJSON_AddNumberToObject(lj, "tau", l->tau);
    if (used & FOCAL_PARAM_SCALE)
        cJSON_AddNumberToObject(lj, "scale", l->scale);
    if (used & FOCAL_PARAM_DB_ALPHA) {
        cJSON_AddNumberToObject(lj, "db_alpha", l->db_alpha);
        cJSON_AddNumberToObject(lj, "db_beta", l->db_beta);
        cJSON_AddNumberToObject(lj, "db_mu", l->db_mu);
        cJSON_AddNumberToObject(lj, "db_lambda", l->db_lambda);
        cJSON_AddNumberToObject(lj, "db_kappa", l->db_kappa);
    }
    if (l->class_weights)
        cJSON_AddItemToObject(lj, "class_weights", cJSON_CreateDoubleArray(l->class_weights, classes));
    else
        cJSON_AddNullToObject(lj, "class_weights");
    if (cfg->mixup > 0)
        cJSON_AddNumberToObject(o, "mixup", cfg->mixup);
    if (cfg->reweight_from > 0) {
        cJSON *dj = cJSON_AddObjectToObject(o, "drw");
        cJSON_AddNumberToObject(dj, "from_epoch", cfg->reweight_from);
        cJSON_AddNumberToObject(dj, "beta", cfg->reweight_beta);
    }
    /* only when on, so that the settings of runs without it stay as they were */
    if (cfg->posthoc == FOCAL_POSTHOC_AUTO)
        cJSON_AddStringToObject(o, "posthoc_la", "auto");
    else if (cfg->posthoc == FOCAL_POSTHOC_TAU)
        cJSON_AddItemToObject(o, "posthoc_la", focal_run_exact_number(cfg->posthoc_tau));
    if (cfg->ema_decay > 0)
        cJSON_AddNumberToObject(o, "ema_decay", cfg->ema_decay);
    cJSON *oj = cJSON_AddObjectToObject(o, "optimizer");
    static const char *const okinds[] = { "sgd", "adam", "adamw" };
    static const char *const scheds[] = { "constant", "step", "cosine" };
    cJSON_AddStringToObject(oj, "kind", okinds[p->kind]);
    cJSON_AddNumberToObject(oj, "lr", p->lr);
    cJSON_AddNumberToObject(oj, "momentum", p->momentum);
    cJSON_AddBoolToObject(oj, "nesterov", p->nesterov);
    cJSON_AddNumberToObject(oj, "weight_decay", p->weight_decay);
    cJSON_AddNumberToObject(oj, "beta1", p->beta1);
    cJSON_AddNumberToObject(oj, "beta2", p->beta2);
    cJSON_AddNumberToObject(oj, "eps", p->eps);
    cJSON_AddStringToObject(oj, "schedule", scheds[p->schedule]);
    cJSON_AddNumberToObject(oj, "step_size", (double)p->step_size);
    cJSON_AddNumberToObject(oj, "step_gamma", p->step_gamma);
    cJSON_AddNumberToObject(oj, "min_lr", p->min_lr);
    cJSON_AddNumberToObject(oj, "warmup_steps", (double)p->warmup_steps);
    cJSON_AddNumberToObject(oj, "clip_norm", p->clip_norm);
    cJSON_AddBoolToObject(oj, "decay_all", p->decay_all);
    cJSON_AddStringToObject(o, "sampler", focal_sampler_name(cfg->sampler));
    cJSON_AddNumberToObject(o, "repeat_threshold", cfg->repeat_threshold);
    cJSON *aj = cJSON_AddObjectToObject(o, "augment");
    cJSON_AddBoolToObject(aj, "hflip", a->hflip);
    cJSON_AddBoolToObject(aj, "vflip", a->vflip);
    cJSON_AddBoolToObject(aj, "rot90", a->rot90);
    cJSON_AddNumberToObject(aj, "rotate", a->rotate);
    cJSON_AddNumberToObject(aj, "scale", a->scale);
    cJSON_AddNumberToObject(aj, "translate", a->translate);
    cJSON_AddNumberToObject(aj, "brightness", a->brightness);
    cJSON_AddNumberToObject(aj, "contrast", a->contrast);
    cJSON_AddNumberToObject(o, "prior", cfg->prior);
    cJSON_AddNumberToObject(o, "batch", cfg->batch);
    cJSON_AddStringToObject(o, "seed", seed);
    cJSON_AddNumberToObject(o, "patience", cfg->patience);
    cJSON_AddStringToObject(o, "select", focal_select_name(cfg->select));
    return o;
}

cJSON *focal_run_exact_number(double v)
{
    char buf[40];
    if (!isfinite(v))
        return cJSON_CreateNull();
    /* cJSON prints 15 digits when they read back within its tolerance; a
     * threshold or a best value must read back exactly, or a resumed run
     * decides differently from an uninterrupted one */
    for (int digits = 15; digits <= 17; digits++) {
        snprintf(buf, sizeof buf, "%.*g", digits, v);
        if (strtod(buf, NULL) == v)
            break;
    }
    return cJSON_CreateRaw(buf);
}

cJSON *focal_run_exact_array(const double *v, int n)
{
    cJSON *a = cJSON_CreateArray();
    for (int i = 0; a && i < n; i++)
        cJSON_AddItemToArray(a, focal_run_exact_number(v[i]));
    return a;
}

/* cJSON numbers cannot be NaN: NaN is written as null and read back. */
void focal_run_add_num(cJSON *o, const char *key, double v)
{
    cJSON_AddItemToObject(o, key, focal_run_exact_number(v));
}

double focal_run_get_num(const cJSON *o, const char *key)
{
    const cJSON *x = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsNumber(x) ? x->valuedouble : NAN;
}
