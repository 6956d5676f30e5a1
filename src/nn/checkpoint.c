/* checkpoint.c — model checkpoints and optimiser state as safetensors files.
 *
 * A checkpoint holds every named model tensor (parameters and batch-norm
 * running statistics) as F32 under its state_dict name, and in "__metadata__"
 * (all values strings, as safetensors requires):
 *   format "focal-checkpoint", version "1", description (the network text),
 *   input "C,H,W", classes, head "sigmoid"|"softmax", class_names (a JSON
 *   array of strings), mean and std (JSON arrays of numbers, one per input
 *   channel, or empty), epoch, seed (decimal).
 * The optimiser state file holds "buf1"/"buf2" (F32, one value per parameter,
 * only those the optimiser has) and "rng" (the model's dropout generator, 4
 * xoshiro words stored as I64 bit patterns), with metadata format
 * "focal-optimizer", version "1", kind, params, weights (fingerprint), step, every field
 * of the configuration and "layout" (the trained tensors' names and shapes,
 * which the buffers follow). Everything a resumed run needs to continue bit for
 * bit — weights, running statistics, moments, step count, generator — is in
 * the two files. */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <float.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "focal/image.h"
#include "focal/nn.h"
#include "base/internal.h"
#include "nn/model_internal.h"
#include "nn/optim_internal.h"
#include "nn/safetensors.h"

#define CKPT_FORMAT "focal-checkpoint"
#define OPTIM_FORMAT "focal-optimizer"
#define CKPT_VERSION "1"
#define CKPT_MAX_META 32

/* Metadata pairs being assembled for a write; values are owned copies. */
struct ckpt_kv {
    const char *key[CKPT_MAX_META];
    char *val[CKPT_MAX_META];
    size_t n;
    int failed;           /* an allocation failed */
};

/* Adds key = copy of val. */
static void kv_add(struct ckpt_kv *kv, const char *key, const char *val)
{
    if (kv->failed)
        return;
    char *v = strdup(val);
    if (!v || kv->n >= CKPT_MAX_META) {
        free(v);
        kv->failed = 1;
        return;
    }
    kv->key[kv->n] = key;
    kv->val[kv->n] = v;
    kv->n++;
}

/* Adds key = printf(fmt, ...). */
static void kv_addf(struct ckpt_kv *kv, const char *key, const char *fmt, ...) FOCAL_PRINTF(3, 4);
static void kv_addf(struct ckpt_kv *kv, const char *key, const char *fmt, ...)
{
    char buf[128];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    kv_add(kv, key, buf);
}

/* Adds key = the JSON text of j (unformatted), then deletes j. NULL j marks
 * an allocation failure. */
static void kv_add_json(struct ckpt_kv *kv, const char *key, cJSON *j)
{
    char *text = j ? cJSON_PrintUnformatted(j) : NULL;
    if (!text)
        kv->failed = 1;
    else
        kv_add(kv, key, text);
    cJSON_free(text);
    cJSON_Delete(j);
}

/* Frees the values. */
static void kv_free(struct ckpt_kv *kv)
{
    for (size_t i = 0; i < kv->n; i++)
        free(kv->val[i]);
    kv->n = 0;
}

/* Parses all of s as a decimal integer in [lo, hi]; 0 on success, −1 if s is
 * empty, has other characters or is out of range. */
static int parse_long(const char *s, long lo, long hi, long *out)
{
    char *end;
    if (!s || !*s || (*s != '-' && (*s < '0' || *s > '9')))
        return -1;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || *end || v < lo || v > hi)
        return -1;
    *out = v;
    return 0;
}

/* Parses all of s as an unsigned decimal 64-bit integer; 0 on success. */
static int parse_u64(const char *s, uint64_t *out)
{
    char *end;
    if (!s || *s < '0' || *s > '9')
        return -1;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || *end)
        return -1;
    *out = (uint64_t)v;
    return 0;
}

/* Parses all of s as "C,H,W", three integers >= 1; 0 on success. */
static int parse_shape(const char *s, int *c, int *h, int *w)
{
    int *dst[3] = { c, h, w };
    char part[24];
    for (int i = 0; i < 3; i++) {
        size_t n = strcspn(s, ",");
        if (n == 0 || n >= sizeof part || (i < 2) != (s[n] == ','))
            return -1;
        memcpy(part, s, n);
        part[n] = '\0';
        long v;
        if (parse_long(part, 1, INT_MAX, &v) != 0)
            return -1;
        *dst[i] = (int)v;
        s += n + (i < 2);
    }
    return 0;
}

/* The metadata value for key, or a FOCAL_ERR_FORMAT naming the file and key. */
static focal_status meta_get(const struct focal_st *st, const char *path, const char *key, const char **val)
{
    *val = focal_st_meta(st, key);
    if (!*val)
        return focal_fail(FOCAL_ERR_FORMAT, "%s: metadata has no \"%s\"", path, key);
    return FOCAL_OK;
}

/* An integer metadata value in [lo, hi]; FOCAL_ERR_FORMAT if absent or invalid. */
static focal_status meta_long(const struct focal_st *st, const char *path, const char *key, long lo, long hi,
                              long *out)
{
    const char *v;
    focal_status s = meta_get(st, path, key, &v);
    if (s != FOCAL_OK)
        return s;
    if (parse_long(v, lo, hi, out) != 0)
        return focal_fail(FOCAL_ERR_FORMAT, "%s: metadata \"%s\" is '%.40s'; expected an integer in [%ld, %ld]",
                          path, key, v, lo, hi);
    return FOCAL_OK;
}

/* Checks the "format" and "version" metadata of a file. */
static focal_status meta_check_format(const struct focal_st *st, const char *path, const char *format,
                                      const char *what)
{
    const char *f = focal_st_meta(st, "format"), *v = focal_st_meta(st, "version");
    if (!f || strcmp(f, format) != 0)
        return focal_fail(FOCAL_ERR_FORMAT, "%s: not a focal %s (metadata \"format\" is %s%.40s%s; expected \"%s\")",
                          path, what, f ? "\"" : "", f ? f : "missing", f ? "\"" : "", format);
    if (!v || strcmp(v, CKPT_VERSION) != 0)
        return focal_fail(FOCAL_ERR_FORMAT, "%s: %s version %.20s is not supported (this library reads version %s)",
                          path, what, v ? v : "(missing)", CKPT_VERSION);
    return FOCAL_OK;
}

/* ------------------------------------------------------------------------ */
/* Checkpoints                                                               */
/* ------------------------------------------------------------------------ */

/* Frees the class names and zeroes *meta; safe on a zeroed or NULL meta. */
void focal_ckpt_meta_release(struct focal_ckpt_meta *meta)
{
    if (!meta)
        return;
    if (meta->class_names) {
        for (int i = 0; i < meta->num_classes; i++)
            free(meta->class_names[i]);
        free(meta->class_names);
    }
    free(meta->extra);
    memset(meta, 0, sizeof *meta);
}

/* Inputs are divided by std: a zero, negative or subnormal one would make
 * them infinite. The rule of both save and load; their messages name the
 * limit, FLT_MIN. */
static int std_ok(float s)
{
    return s >= FLT_MIN;
}

/* Checks the caller's metadata against the model: FOCAL_ERR_ARG naming the
 * field otherwise. meta may be NULL. */
static focal_status ckpt_meta_check(const char *path, const struct focal_ckpt_meta *meta, int in_c, int classes)
{
    if (!meta)
        return FOCAL_OK;
    if (meta->epoch < 0)
        return focal_fail(FOCAL_ERR_ARG, "%s: epoch %d is negative", path, meta->epoch);
    if (meta->channels != 0 && meta->channels != in_c)
        return focal_fail(FOCAL_ERR_ARG, "%s: normalisation has %d channels; the model's input has %d (or give 0)",
                          path, meta->channels, in_c);
    if (meta->channels < 0 || meta->channels > FOCAL_MAX_NORM_CHANNELS)
        return focal_fail(FOCAL_ERR_ARG, "%s: normalisation channels %d; expected 0 to %d", path, meta->channels,
                          FOCAL_MAX_NORM_CHANNELS);
    for (int i = 0; i < meta->channels; i++)
        if (!isfinite(meta->mean[i]) || !isfinite(meta->std[i]) || !std_ok(meta->std[i]))
            return focal_fail(FOCAL_ERR_ARG, "%s: normalisation of channel %d (mean %g, std %g) must be finite with std > 0 "
                              "and not below %g, the smallest normal float",
                              path, i, (double)meta->mean[i], (double)meta->std[i], (double)FLT_MIN);
    if (meta->class_names) {
        if (meta->num_classes != classes)
            return focal_fail(FOCAL_ERR_ARG, "%s: %d class names for a model with %d classes", path,
                              meta->num_classes, classes);
        for (int i = 0; i < classes; i++)
            if (!meta->class_names[i])
                return focal_fail(FOCAL_ERR_ARG, "%s: class name %d is NULL", path, i);
    }
    return FOCAL_OK;
}

/* Saves every tensor of m as F32 with the metadata described at the top of
 * this file (meta may be NULL: epoch 0, seed 0, no normalisation or class
 * names). FOCAL_ERR_ARG, before writing, for metadata that does not fit the
 * model; FOCAL_ERR_IO if the write fails (an existing file is then kept). */
focal_status focal_checkpoint_save(const char *path, const struct focal_model *m,
                                   const struct focal_ckpt_meta *meta)
{
    struct ckpt_kv kv = { 0 };
    struct focal_st_out *out = NULL;
    focal_status s;
    int c, h, w;

    focal_model_input_shape(m, &c, &h, &w);
    int classes = focal_model_classes(m);
    s = ckpt_meta_check(path, meta, c, classes);
    if (s != FOCAL_OK)
        return s;

    size_t nt = focal_model_num_tensors(m);
    out = calloc(nt ? nt : 1, sizeof *out);
    if (!out)
        return focal_fail(FOCAL_ERR_NOMEM, "%s: out of memory", path);
    for (size_t i = 0; i < nt; i++) {
        struct focal_tensor_info ti;
        focal_model_tensor(m, i, &ti);
        out[i].name = ti.name;
        out[i].dtype = FOCAL_ST_F32;
        out[i].ndim = ti.ndim;
        for (int d = 0; d < ti.ndim; d++)
            out[i].shape[d] = ti.shape[d];
        out[i].data = ti.data;
    }

    kv_add(&kv, "format", CKPT_FORMAT);
    kv_add(&kv, "version", CKPT_VERSION);
    kv_add(&kv, "description", focal_model_description(m));
    kv_addf(&kv, "input", "%d,%d,%d", c, h, w);
    kv_addf(&kv, "classes", "%d", classes);
    kv_add(&kv, "head", focal_model_head(m) == FOCAL_HEAD_SOFTMAX ? "softmax" : "sigmoid");
    /* cJSON's array builders refuse a NULL pointer even for no elements */
    static const float none[1];
    cJSON *names = meta && meta->class_names
                       ? cJSON_CreateStringArray((const char *const *)meta->class_names, classes)
                       : cJSON_CreateArray();
    kv_add_json(&kv, "class_names", names);
    int nch = meta ? meta->channels : 0;
    kv_add_json(&kv, "mean", cJSON_CreateFloatArray(meta ? meta->mean : none, nch));
    kv_add_json(&kv, "std", cJSON_CreateFloatArray(meta ? meta->std : none, nch));
    kv_addf(&kv, "epoch", "%d", meta ? meta->epoch : 0);
    kv_addf(&kv, "seed", "%llu", (unsigned long long)(meta ? meta->seed : 0));
    if (meta && meta->extra)
        kv_add(&kv, "extra", meta->extra);
    if (kv.failed) {
        s = focal_fail(FOCAL_ERR_NOMEM, "%s: out of memory", path);
        goto out;
    }
    s = focal_st_write(path, out, nt, kv.key, (const char *const *)kv.val, kv.n);
out:
    kv_free(&kv);
    free(out);
    return s;
}

/* A metadata value's JSON: the whole string, nothing after it. */
static cJSON *meta_json(const char *text)
{
    return cJSON_ParseWithOpts(text, NULL, 1);
}

/* Metadata key as a JSON array of at most FOCAL_MAX_NORM_CHANNELS finite
 * numbers into v (*n of them). */
static focal_status meta_floats(const struct focal_st *st, const char *path, const char *key, float *v, int *n)
{
    const char *text;
    focal_status s = meta_get(st, path, key, &text);
    if (s != FOCAL_OK)
        return s;
    cJSON *a = meta_json(text);
    s = FOCAL_OK;
    if (!cJSON_IsArray(a) || cJSON_GetArraySize(a) > FOCAL_MAX_NORM_CHANNELS) {
        s = focal_fail(FOCAL_ERR_FORMAT, "%s: metadata \"%s\" is not a JSON array of at most %d numbers", path, key,
                       FOCAL_MAX_NORM_CHANNELS);
        goto out;
    }
    *n = 0;
    const cJSON *x;
    cJSON_ArrayForEach(x, a) {
        /* finite as the float it is kept in: 1e300 is a finite double but not a float */
        if (!cJSON_IsNumber(x) || !isfinite((float)x->valuedouble)) {
            s = focal_fail(FOCAL_ERR_FORMAT, "%s: metadata \"%s\" element %d is not a finite number", path, key, *n);
            goto out;
        }
        v[(*n)++] = (float)x->valuedouble;
    }
out:
    cJSON_Delete(a);
    return s;
}

/* Fills meta from the checkpoint's metadata (epoch, seed, normalisation,
 * class names) for a model with in_c input channels and `classes` outputs.
 * On failure meta holds nothing to free. */
static focal_status ckpt_meta_read(const struct focal_st *st, const char *path, int in_c, int classes,
                                   struct focal_ckpt_meta *meta)
{
    focal_status s;
    long epoch;
    const char *seed, *names_text;
    int nstd = 0;
    cJSON *names = NULL;

    memset(meta, 0, sizeof *meta);
    if ((s = meta_long(st, path, "epoch", 0, INT_MAX, &epoch)) != FOCAL_OK ||
        (s = meta_get(st, path, "seed", &seed)) != FOCAL_OK)
        return s;
    meta->epoch = (int)epoch;
    if (parse_u64(seed, &meta->seed) != 0)
        return focal_fail(FOCAL_ERR_FORMAT, "%s: metadata \"seed\" is '%.40s'; expected an unsigned integer", path,
                          seed);
    if ((s = meta_floats(st, path, "mean", meta->mean, &meta->channels)) != FOCAL_OK ||
        (s = meta_floats(st, path, "std", meta->std, &nstd)) != FOCAL_OK)
        goto fail;
    for (int i = 0; i < nstd; i++)
        if (!std_ok(meta->std[i])) {
            s = focal_fail(FOCAL_ERR_FORMAT, "%s: metadata \"std\" element %d is %g; expected a number > 0 and not below %g, "
                           "the smallest normal float", path, i, (double)meta->std[i], (double)FLT_MIN);
            goto fail;
        }
    if (nstd != meta->channels || (meta->channels != 0 && meta->channels != in_c)) {
        s = focal_fail(FOCAL_ERR_FORMAT, "%s: normalisation has %d means and %d stds for %d input channels", path,
                       meta->channels, nstd, in_c);
        goto fail;
    }

    meta->num_classes = classes;
    if ((s = meta_get(st, path, "class_names", &names_text)) != FOCAL_OK)
        goto fail;
    names = meta_json(names_text);
    int nn = cJSON_IsArray(names) ? cJSON_GetArraySize(names) : -1;
    if (nn != 0 && nn != classes) {
        s = focal_fail(FOCAL_ERR_FORMAT, "%s: metadata \"class_names\" is not a JSON array of %d names (or [])", path,
                       classes);
        goto fail;
    }
    if (nn > 0) {
        meta->class_names = calloc((size_t)classes, sizeof *meta->class_names);
        if (!meta->class_names) {
            s = focal_fail(FOCAL_ERR_NOMEM, "%s: out of memory", path);
            goto fail;
        }
        int i = 0;
        const cJSON *x;
        cJSON_ArrayForEach(x, names) {
            if (!cJSON_IsString(x)) {
                s = focal_fail(FOCAL_ERR_FORMAT, "%s: class name %d is not a string", path, i);
                goto fail;
            }
            meta->class_names[i] = strdup(x->valuestring);
            if (!meta->class_names[i]) {
                s = focal_fail(FOCAL_ERR_NOMEM, "%s: out of memory", path);
                goto fail;
            }
            i++;
        }
    }
    cJSON_Delete(names);
    names = NULL;
    const char *extra = focal_st_meta(st, "extra");
    if (extra && !(meta->extra = strdup(extra))) {
        s = focal_fail(FOCAL_ERR_NOMEM, "%s: out of memory", path);
        goto fail;
    }
    return FOCAL_OK;
fail:
    cJSON_Delete(names);
    focal_ckpt_meta_release(meta);
    return s;
}

/* Copies every model tensor from the file, by name, checking dtype and shape;
 * refuses a missing, mis-shaped or extra tensor with FOCAL_ERR_FORMAT. */
static focal_status ckpt_copy_tensors(const struct focal_st *st, const char *path, struct focal_model *m)
{
    size_t nt = focal_model_num_tensors(m);
    for (size_t i = 0; i < nt; i++) {
        struct focal_tensor_info ti;
        focal_model_tensor(m, i, &ti);
        const struct focal_st_tensor *t = focal_st_find(st, ti.name);
        if (!t)
            return focal_fail(FOCAL_ERR_FORMAT, "%s: tensor '%s' of the network is missing", path, ti.name);
        if (t->dtype != FOCAL_ST_F32)
            return focal_fail(FOCAL_ERR_FORMAT, "%s: tensor '%s' is not F32", path, ti.name);
        int same = t->ndim == ti.ndim;
        for (int d = 0; same && d < ti.ndim; d++)
            same = t->shape[d] == ti.shape[d];
        if (!same) {
            char want[64] = "", got[160] = "";
            size_t k = 0;
            for (int d = 0; d < ti.ndim; d++)
                k += (size_t)snprintf(want + k, sizeof want - k, "%s%d", d ? "," : "", ti.shape[d]);
            k = 0;
            for (int d = 0; d < t->ndim && k < sizeof got; d++)
                k += (size_t)snprintf(got + k, sizeof got - k, "%s%lld", d ? "," : "", (long long)t->shape[d]);
            return focal_fail(FOCAL_ERR_FORMAT, "%s: tensor '%s' has shape [%s]; the network needs [%s]", path,
                              ti.name, got, want);
        }
        if (ti.numel)
            memcpy(ti.data, t->data, ti.numel * sizeof(float));
    }
    if (st->n != nt) {
        /* Every model tensor was found and names are unique, so the file has more. */
        for (size_t j = 0; j < st->n; j++) {
            int found = 0;
            for (size_t i = 0; i < nt && !found; i++) {
                struct focal_tensor_info ti;
                focal_model_tensor(m, i, &ti);
                found = strcmp(ti.name, st->t[j].name) == 0;
            }
            if (!found)
                return focal_fail(FOCAL_ERR_FORMAT, "%s: tensor '%s' is not part of the network", path,
                                  st->t[j].name);
        }
    }
    return FOCAL_OK;
}

/* Reads a checkpoint, builds its network for max_batch samples and copies
 * every tensor in by name; seeds the dropout generator from the saved seed
 * and epoch (focal_optim_load restores the exact one). On failure *m is NULL,
 * meta is zeroed and the message names the file and the problem. */
focal_status focal_checkpoint_load(const char *path, int max_batch, struct focal_model **m,
                                   struct focal_ckpt_meta *meta)
{
    struct focal_st st;
    struct focal_model *model = NULL;
    struct focal_ckpt_meta tmp;
    const char *desc, *input, *head_s;
    long classes;
    int c, h, w;
    enum focal_head head;
    focal_status s;

    *m = NULL;
    if (meta)
        memset(meta, 0, sizeof *meta);
    s = focal_st_read(path, &st);
    if (s != FOCAL_OK)
        return s;
    if ((s = meta_check_format(&st, path, CKPT_FORMAT, "checkpoint")) != FOCAL_OK ||
        (s = meta_get(&st, path, "description", &desc)) != FOCAL_OK ||
        (s = meta_get(&st, path, "input", &input)) != FOCAL_OK ||
        (s = meta_long(&st, path, "classes", 1, INT_MAX, &classes)) != FOCAL_OK ||
        (s = meta_get(&st, path, "head", &head_s)) != FOCAL_OK)
        goto out;
    if (parse_shape(input, &c, &h, &w) != 0) {
        s = focal_fail(FOCAL_ERR_FORMAT, "%s: metadata \"input\" is '%.40s'; expected C,H,W", path, input);
        goto out;
    }
    /* no input the library can make is larger: refuse before the model's
     * activations are sized from it */
    if (c > FOCAL_MAX_NORM_CHANNELS || h > FOCAL_IMAGE_MAX_SIDE || w > FOCAL_IMAGE_MAX_SIDE ||
        (uint64_t)h * (uint64_t)w > FOCAL_IMAGE_MAX_PIXELS) {
        s = focal_fail(FOCAL_ERR_FORMAT, "%s: metadata \"input\" is %d,%d,%d; expected at most %d channels (or "
                       "features) and images of at most %d pixels a side and %llu in all", path, c, h, w,
                       FOCAL_MAX_NORM_CHANNELS, FOCAL_IMAGE_MAX_SIDE, (unsigned long long)FOCAL_IMAGE_MAX_PIXELS);
        goto out;
    }
    if (strcmp(head_s, "sigmoid") == 0) {
        head = FOCAL_HEAD_SIGMOID;
    } else if (strcmp(head_s, "softmax") == 0) {
        head = FOCAL_HEAD_SOFTMAX;
    } else {
        s = focal_fail(FOCAL_ERR_FORMAT, "%s: metadata \"head\" is '%.40s'; expected sigmoid or softmax", path, head_s);
        goto out;
    }
    s = ckpt_meta_read(&st, path, c, (int)classes, &tmp);
    if (s != FOCAL_OK)
        goto out;
    /* every parameter and buffer is a tensor of the file: no more than its bytes */
    s = focal_model_create_from(&model, desc, path, c, h, w, (int)classes, head, max_batch, st.size);
    if (s == FOCAL_OK)
        s = ckpt_copy_tensors(&st, path, model);
    if (s != FOCAL_OK) {
        focal_model_free(model);
        focal_ckpt_meta_release(&tmp);
        goto out;
    }
    /* A valid dropout generator for callers that continue training without
     * the optimiser state; focal_optim_load replaces it with the saved one. */
    focal_rng_seed(focal_model_rng(model), tmp.seed ^ (0x9e3779b97f4a7c15ull * (uint64_t)(tmp.epoch + 1)));
    *m = model;
    if (meta)
        *meta = tmp;
    else
        focal_ckpt_meta_release(&tmp);
out:
    focal_st_release(&st);
    return s;
}

/* ------------------------------------------------------------------------ */
/* Optimiser state                                                           */
/* ------------------------------------------------------------------------ */

/* The layout of m's parameter buffer as text, "name:d0xd1...,..." over the
 * trained tensors in order (NULL when out of memory; free it). Saved with
 * the optimiser state, whose buffers follow that layout, so that a state is
 * never loaded into a different network of the same size. */
static char *optim_layout(struct focal_model *m)
{
    size_t nt = focal_model_num_tensors(m), cap = 64, len = 0;
    char *out = malloc(cap);
    if (!out)
        return NULL;
    out[0] = '\0';
    for (size_t i = 0; i < nt; i++) {
        struct focal_tensor_info ti;
        focal_model_tensor(m, i, &ti);
        if (ti.role == FOCAL_TENSOR_BUFFER)
            continue;
        char item[160];
        int k = snprintf(item, sizeof item, "%s%s:", len ? "," : "", ti.name);
        for (int d = 0; d < ti.ndim && k > 0 && (size_t)k < sizeof item; d++)
            k += snprintf(item + k, sizeof item - (size_t)k, "%s%d", d ? "x" : "", ti.shape[d]);
        if (k < 0 || (size_t)k >= sizeof item)
            k = (int)strlen(item);
        if (len + (size_t)k + 1 > cap) {
            while (len + (size_t)k + 1 > cap)
                cap *= 2;
            char *q = realloc(out, cap);
            if (!q) {
                free(out);
                return NULL;
            }
            out = q;
        }
        memcpy(out + len, item, (size_t)k + 1);
        len += (size_t)k;
    }
    return out;
}

/* The first comma-separated item where layouts a and b differ, copied into
 * buf ("(end)" past the last item of a). */
static const char *layout_diff(const char *a, const char *b, char *buf, size_t n)
{
    while (*a && *b) {
        size_t la = strcspn(a, ","), lb = strcspn(b, ",");
        if (la != lb || memcmp(a, b, la) != 0)
            break;
        a += la + (a[la] == ',');
        b += lb + (b[lb] == ',');
    }
    size_t la = strcspn(a, ",");
    snprintf(buf, n, "%.*s", (int)(la < 100 ? la : 100), *a ? a : "(end)");
    return buf;
}

static const char *const optim_kind_names[] = { "sgd", "adam", "adamw" };
static const char *const schedule_names[] = { "constant", "step", "cosine" };

/* A 64-bit FNV-1a fingerprint of the model's parameter bytes, as hex: ties an
 * optimiser state to the weights it was saved with. */
static void weights_fingerprint(struct focal_model *m, char hex[17])
{
    const unsigned char *b = (const unsigned char *)focal_model_params(m);
    const size_t n = focal_model_num_params(m) * sizeof(float);
    uint64_t h = 0xcbf29ce484222325ull;
    for (size_t i = 0; i < n; i++) {
        h ^= b[i];
        h *= 0x100000001b3ull;
    }
    snprintf(hex, 17, "%016llx", (unsigned long long)h);
}

/* Saves o's buffers, step count and configuration and its model's dropout
 * generator atomically; FOCAL_ERR_IO if the write fails. */
focal_status focal_optim_save(const char *path, const struct focal_optim *o)
{
    const struct focal_optim_config *c = &o->cfg;
    struct focal_rng *rng = focal_model_rng(o->model);
    struct ckpt_kv kv = { 0 };
    struct focal_st_out out[3];
    size_t nt = 0;
    int64_t words[4];
    focal_status s;

    const float *bufs[2] = { o->buf1, o->buf2 };
    const char *names[2] = { "buf1", "buf2" };
    for (int b = 0; b < 2; b++) {
        if (!bufs[b])
            continue;
        out[nt].name = names[b];
        out[nt].dtype = FOCAL_ST_F32;
        out[nt].ndim = 1;
        out[nt].shape[0] = (int64_t)o->n;
        out[nt].data = bufs[b];
        nt++;
    }
    memcpy(words, rng->s, sizeof words);
    out[nt].name = "rng";
    out[nt].dtype = FOCAL_ST_I64;
    out[nt].ndim = 1;
    out[nt].shape[0] = 4;
    out[nt].data = words;
    nt++;

    kv_add(&kv, "format", OPTIM_FORMAT);
    kv_add(&kv, "version", CKPT_VERSION);
    kv_add(&kv, "kind", optim_kind_names[c->kind]);
    kv_addf(&kv, "params", "%zu", o->n);
    char *layout = optim_layout(o->model);
    if (layout)
        kv_add(&kv, "layout", layout);
    else
        kv.failed = 1;
    free(layout);
    char fp[17];
    weights_fingerprint(o->model, fp);
    kv_add(&kv, "weights", fp);
    kv_addf(&kv, "step", "%ld", o->step);
    kv_addf(&kv, "lr", "%.17g", c->lr);
    kv_addf(&kv, "momentum", "%.17g", c->momentum);
    kv_addf(&kv, "nesterov", "%d", c->nesterov);
    kv_addf(&kv, "weight_decay", "%.17g", c->weight_decay);
    kv_addf(&kv, "beta1", "%.17g", c->beta1);
    kv_addf(&kv, "beta2", "%.17g", c->beta2);
    kv_addf(&kv, "eps", "%.17g", c->eps);
    kv_add(&kv, "schedule", schedule_names[c->schedule]);
    kv_addf(&kv, "step_size", "%ld", c->step_size);
    kv_addf(&kv, "step_gamma", "%.17g", c->step_gamma);
    kv_addf(&kv, "total_steps", "%ld", c->total_steps);
    kv_addf(&kv, "min_lr", "%.17g", c->min_lr);
    kv_addf(&kv, "warmup_steps", "%ld", c->warmup_steps);
    kv_addf(&kv, "clip_norm", "%.17g", c->clip_norm);
    kv_addf(&kv, "decay_all", "%d", c->decay_all);
    if (kv.failed)
        s = focal_fail(FOCAL_ERR_NOMEM, "%s: out of memory", path);
    else
        s = focal_st_write(path, out, nt, kv.key, (const char *const *)kv.val, kv.n);
    kv_free(&kv);
    return s;
}

/* Checks that the file's tensor `name` is F32 of shape [n] when want is set,
 * and absent otherwise (`why` says what decides its presence). */
static focal_status optim_check_buf(const struct focal_st *st, const char *path, const char *name, int want,
                                    size_t n, const char *why)
{
    const struct focal_st_tensor *t = focal_st_find(st, name);
    if (!want && t)
        return focal_fail(FOCAL_ERR_FORMAT, "%s: the saved state has '%s' but this optimiser has none (%s)", path,
                          name, why);
    if (want && !t)
        return focal_fail(FOCAL_ERR_FORMAT, "%s: the saved state has no '%s' but this optimiser needs one (%s)", path,
                          name, why);
    if (t && (t->dtype != FOCAL_ST_F32 || t->ndim != 1 || (uint64_t)t->shape[0] != (uint64_t)n))
        return focal_fail(FOCAL_ERR_FORMAT, "%s: tensor '%s' is not F32 of shape [%zu]", path, name, n);
    return FOCAL_OK;
}

/* Restores a state saved by focal_optim_save into o (and o's model's
 * generator). Refuses, with FOCAL_ERR_FORMAT and o unchanged, a file of
 * another optimiser kind or network, one saved with other weights, one
 * missing a buffer o keeps or holding a tensor it does not, and a generator
 * state that is malformed or all zero. The other configuration fields are not
 * compared: o's own are used from here on. */
focal_status focal_optim_load(const char *path, struct focal_optim *o)
{
    struct focal_st st;
    const char *kind;
    long step;
    uint64_t params;
    uint64_t words[4];
    focal_status s;

    s = focal_st_read(path, &st);
    if (s != FOCAL_OK)
        return s;
    if ((s = meta_check_format(&st, path, OPTIM_FORMAT, "optimiser state")) != FOCAL_OK ||
        (s = meta_get(&st, path, "kind", &kind)) != FOCAL_OK ||
        (s = meta_long(&st, path, "step", 0, LONG_MAX, &step)) != FOCAL_OK)
        goto out;
    const char *want_kind = optim_kind_names[o->cfg.kind];
    if (strcmp(kind, want_kind) != 0) {
        s = focal_fail(FOCAL_ERR_FORMAT, "%s: saved by a '%.20s' optimiser; this one is '%s'", path, kind, want_kind);
        goto out;
    }
    const char *pv = focal_st_meta(&st, "params");
    if (parse_u64(pv, &params) != 0) {
        s = focal_fail(FOCAL_ERR_FORMAT, "%s: metadata \"params\" is missing or not a count", path);
        goto out;
    }
    if (params != (uint64_t)o->n) {
        s = focal_fail(FOCAL_ERR_FORMAT, "%s: saved for %llu parameters; this model has %zu (a different network?)",
                       path, (unsigned long long)params, o->n);
        goto out;
    }
    const char *saved_layout = focal_st_meta(&st, "layout");
    char *layout = optim_layout(o->model);
    if (!layout) {
        s = focal_fail(FOCAL_ERR_NOMEM, "%s: out of memory", path);
        goto out;
    }
    if (!saved_layout || strcmp(saved_layout, layout) != 0) {
        char d1[128], d2[128];
        if (saved_layout)
            s = focal_fail(FOCAL_ERR_FORMAT, "%s: saved for another network: its parameter '%s' is '%s' here", path,
                           layout_diff(saved_layout, layout, d1, sizeof d1),
                           layout_diff(layout, saved_layout, d2, sizeof d2));
        else
            s = focal_fail(FOCAL_ERR_FORMAT, "%s: metadata has no \"layout\"", path);
        free(layout);
        goto out;
    }
    free(layout);
    const char *saved_fp = focal_st_meta(&st, "weights");
    char fp[17];
    weights_fingerprint(o->model, fp);
    if (!saved_fp || strcmp(saved_fp, fp) != 0) {
        s = focal_fail(FOCAL_ERR_FORMAT,
                       "%s: saved with other weights than the model's (fingerprint %.16s, model %s): load the "
                       "checkpoint saved with it first", path, saved_fp ? saved_fp : "missing", fp);
        goto out;
    }
    const char *why = o->cfg.kind == FOCAL_OPTIM_SGD ? "SGD keeps a buffer only with momentum"
                                                     : "Adam keeps two moment buffers";
    if ((s = optim_check_buf(&st, path, "buf1", o->buf1 != NULL, o->n, why)) != FOCAL_OK ||
        (s = optim_check_buf(&st, path, "buf2", o->buf2 != NULL, o->n, why)) != FOCAL_OK)
        goto out;
    const struct focal_st_tensor *r = focal_st_find(&st, "rng");
    if (!r || r->dtype != FOCAL_ST_I64 || r->ndim != 1 || r->shape[0] != 4) {
        s = focal_fail(FOCAL_ERR_FORMAT, "%s: tensor 'rng' is missing or not I64 of shape [4]", path);
        goto out;
    }
    memcpy(words, r->data, sizeof words);
    if ((words[0] | words[1] | words[2] | words[3]) == 0) {
        s = focal_fail(FOCAL_ERR_FORMAT, "%s: tensor 'rng' is all zeros, not a valid generator state", path);
        goto out;
    }
    for (size_t u = 0; u < st.n; u++) {
        const char *nm = st.t[u].name;
        if (strcmp(nm, "buf1") != 0 && strcmp(nm, "buf2") != 0 && strcmp(nm, "rng") != 0) {
            s = focal_fail(FOCAL_ERR_FORMAT, "%s: unexpected tensor '%s' in optimiser state", path, nm);
            goto out;
        }
    }

    /* Everything checked: commit. */
    if (o->buf1)
        memcpy(o->buf1, focal_st_find(&st, "buf1")->data, o->n * sizeof(float));
    if (o->buf2)
        memcpy(o->buf2, focal_st_find(&st, "buf2")->data, o->n * sizeof(float));
    memcpy(focal_model_rng(o->model)->s, words, sizeof words);
    o->step = step;
out:
    focal_st_release(&st);
    return s;
}
