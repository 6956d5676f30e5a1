/* safetensors.h — reading and writing the safetensors format: an 8-byte
 * little-endian header length, a JSON header mapping tensor names to dtype,
 * shape and byte offsets (plus an optional "__metadata__" object of string
 * values), then the raw little-endian tensor data. Internal: checkpoint.c
 * builds model checkpoints on it, and the tests read reference files with it. */
#ifndef FOCAL_SAFETENSORS_H
#define FOCAL_SAFETENSORS_H

#include <stddef.h>
#include <stdint.h>

#include "focal/nn.h"

enum focal_st_dtype { FOCAL_ST_F32, FOCAL_ST_F64, FOCAL_ST_I32, FOCAL_ST_I64, FOCAL_ST_U8 };

struct focal_st_tensor {
    char *name;
    enum focal_st_dtype dtype;
    int ndim;
    int64_t shape[8];
    size_t numel;
    const void *data;        /* into the file's bytes held by the reader */
};

struct focal_st {
    size_t n;
    struct focal_st_tensor *t;
    size_t nmeta;
    char **meta_key, **meta_val;
    void *bytes;             /* the whole file */
    size_t size;
};

/* Reads a whole safetensors file. Every offset, shape and length is checked
 * against the file size and the dtype before use; a malformed or truncated
 * file gives FOCAL_ERR_FORMAT with a message naming the file and what is
 * wrong. On failure *st is left empty. */
focal_status focal_st_read(const char *path, struct focal_st *st);
void focal_st_release(struct focal_st *st);
/* The tensor called name, or NULL. */
const struct focal_st_tensor *focal_st_find(const struct focal_st *st, const char *name);
/* The metadata value for key, or NULL. */
const char *focal_st_meta(const struct focal_st *st, const char *key);

/* One tensor to write. */
struct focal_st_out {
    const char *name;
    enum focal_st_dtype dtype;
    int ndim;
    int64_t shape[8];
    const void *data;
};

/* Writes n tensors and nmeta metadata pairs (keys meta_key[i], values
 * meta_val[i]) atomically: temporary file beside path, fsync, rename. */
focal_status focal_st_write(const char *path, const struct focal_st_out *t, size_t n,
                            const char *const *meta_key, const char *const *meta_val, size_t nmeta);

#endif
