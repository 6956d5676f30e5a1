/* test_safetensors.c — the safetensors reader and writer: round trip of every
 * dtype with metadata; every prefix of a file and every byte corrupted (none
 * may crash or read past the end — run this under the sanitizer build too);
 * hand-made headers for each malformation the reader must name; and writes
 * that fail, which must leave an existing file untouched and no temporary
 * file behind. */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "focal.h"
#include "nn/safetensors.h"
#include "check.h"
#include "testfs.h"

/* Builds a file: the 8-byte length of hdr (or `len` if nonzero), hdr, then
 * ndata bytes 0, 1, 2, ...; returns its path. */
static const char *make_file(const char *name, const char *hdr, uint64_t len, size_t ndata)
{
    size_t hn = strlen(hdr);
    unsigned char *b = malloc(8 + hn + ndata + 1);
    uint64_t l = len ? len : hn;
    for (int i = 0; i < 8; i++)
        b[i] = (unsigned char)(l >> (8 * i));
    memcpy(b + 8, hdr, hn);
    for (size_t i = 0; i < ndata; i++)
        b[8 + hn + i] = (unsigned char)i;
    const char *p = put(name, b, 8 + hn + ndata);
    free(b);
    return p;
}

/* Reads a file expected to be refused with `want` and a message containing
 * both the file's path and `text`. */
static void expect_refused(const char *p, focal_status want, const char *text, int line)
{
    struct focal_st st;
    focal_status s = focal_st_read(p, &st);
    const char *msg = focal_last_error();
    CHECKF(s == want, "line %d: status %d, want %d (%s)", line, (int)s, (int)want, msg);
    CHECKF(strstr(msg, p) != NULL, "line %d: message does not name the file: %s", line, msg);
    CHECKF(strstr(msg, text) != NULL, "line %d: message lacks '%s': %s", line, text, msg);
    CHECK(st.n == 0 && st.t == NULL && st.bytes == NULL && st.nmeta == 0);
    if (s == FOCAL_OK)
        focal_st_release(&st);
}
#define REFUSED(p, want, text) expect_refused(p, want, text, __LINE__)

/* Test data written by write_sample(). */
static float f32[2][3] = { { 1.5f, -2.25f, 3.0f }, { 1e-30f, -0.0f, 65504.0f } };
static double f64[4] = { 3.141592653589793, -1e300, 0.1, 5e-324 };
static int32_t i32[2][2] = { { 1, -2 }, { INT32_MAX, INT32_MIN } };
static int64_t i64[3] = { INT64_MAX, INT64_MIN, -1 };
static uint8_t u8[5] = { 0, 1, 127, 128, 255 };
static float scalar = 42.0f;
static const char *meta_keys[] = { "format", "quote\"and\\slash", "unicode", "newline" };
static const char *meta_vals[] = { "test", "a,b \"c\"", "αβγ — 漢字 🙂", "line1\nline2\ttab\x01" };

/* Writes the sample tensors (every dtype, odd sizes, a scalar, an empty
 * tensor) and metadata to dir/name; returns the status. */
static focal_status write_sample(const char *name)
{
    struct focal_st_out t[] = {
        { "weights.f32", FOCAL_ST_F32, 2, { 2, 3 }, f32 },
        { "u8", FOCAL_ST_U8, 1, { 5 }, u8 },
        { "f64", FOCAL_ST_F64, 1, { 4 }, f64 },
        { "i32", FOCAL_ST_I32, 2, { 2, 2 }, i32 },
        { "i64 \"quoted\"", FOCAL_ST_I64, 1, { 3 }, i64 },
        { "scalar", FOCAL_ST_F32, 0, { 0 }, &scalar },
        { "empty", FOCAL_ST_F32, 2, { 0, 3 }, NULL },
    };
    return focal_st_write(path_in(name), t, sizeof t / sizeof t[0], meta_keys, meta_vals, 4);
}

/* Round trip: every tensor and metadata value comes back exactly. */
static void test_round_trip(void)
{
    CHECKF(write_sample("a.safetensors") == FOCAL_OK, "%s", focal_last_error());
    const char *p = path_in("a.safetensors");
    size_t n;
    unsigned char *b = read_file(p, &n);
    uint64_t hlen = 0;
    for (int i = 7; i >= 0; i--)
        hlen = hlen << 8 | b[i];
    CHECK(hlen % 8 == 0);
    CHECK(8 + hlen <= n);
    size_t data_bytes = sizeof f32 + sizeof u8 + sizeof f64 + sizeof i32 + sizeof i64 + sizeof scalar;
    CHECKF(n == 8 + hlen + data_bytes, "file %zu bytes, header %llu", n, (unsigned long long)hlen);
    CHECK(b[8] == '{');
    free(b);

    struct focal_st st;
    CHECKF(focal_st_read(p, &st) == FOCAL_OK, "%s", focal_last_error());
    CHECK(st.n == 7);
    const char *order[] = { "weights.f32", "u8", "f64", "i32", "i64 \"quoted\"", "scalar", "empty" };
    for (size_t i = 0; i < st.n && i < 7; i++)
        CHECKF(strcmp(st.t[i].name, order[i]) == 0, "tensor %zu is %s", i, st.t[i].name);
    const struct focal_st_tensor *t;
    t = focal_st_find(&st, "weights.f32");
    CHECK(t && t->dtype == FOCAL_ST_F32 && t->ndim == 2 && t->shape[0] == 2 && t->shape[1] == 3 && t->numel == 6);
    CHECK(t && memcmp(t->data, f32, sizeof f32) == 0);
    t = focal_st_find(&st, "u8");
    CHECK(t && t->dtype == FOCAL_ST_U8 && t->numel == 5 && memcmp(t->data, u8, sizeof u8) == 0);
    t = focal_st_find(&st, "f64");
    CHECK(t && t->dtype == FOCAL_ST_F64 && t->numel == 4 && memcmp(t->data, f64, sizeof f64) == 0);
    t = focal_st_find(&st, "i32");
    CHECK(t && t->dtype == FOCAL_ST_I32 && t->numel == 4 && memcmp(t->data, i32, sizeof i32) == 0);
    t = focal_st_find(&st, "i64 \"quoted\"");
    CHECK(t && t->dtype == FOCAL_ST_I64 && t->numel == 3 && memcmp(t->data, i64, sizeof i64) == 0);
    t = focal_st_find(&st, "scalar");
    CHECK(t && t->ndim == 0 && t->numel == 1 && memcmp(t->data, &scalar, 4) == 0);
    t = focal_st_find(&st, "empty");
    CHECK(t && t->ndim == 2 && t->shape[0] == 0 && t->shape[1] == 3 && t->numel == 0);
    CHECK(focal_st_find(&st, "nothing") == NULL);
    CHECK(st.nmeta == 4);
    for (int i = 0; i < 4; i++) {
        const char *v = focal_st_meta(&st, meta_keys[i]);
        CHECKF(v && strcmp(v, meta_vals[i]) == 0, "metadata '%s' = '%s'", meta_keys[i], v ? v : "(null)");
    }
    CHECK(focal_st_meta(&st, "absent") == NULL);
    focal_st_release(&st);
    CHECK(st.n == 0 && st.bytes == NULL);
    focal_st_release(&st);

    /* No tensors, no metadata: "{}" padded to 8 bytes. */
    CHECK(focal_st_write(path_in("none.safetensors"), NULL, 0, NULL, NULL, 0) == FOCAL_OK);
    CHECK(focal_st_read(path_in("none.safetensors"), &st) == FOCAL_OK);
    CHECK(st.n == 0 && st.nmeta == 0 && st.size == 16);
    focal_st_release(&st);

    /* Overwriting replaces the file. */
    float one = 1.0f;
    struct focal_st_out o = { "x", FOCAL_ST_F32, 1, { 1 }, &one };
    CHECK(focal_st_write(p, &o, 1, NULL, NULL, 0) == FOCAL_OK);
    CHECK(focal_st_read(p, &st) == FOCAL_OK);
    CHECK(st.n == 1 && st.nmeta == 0);
    focal_st_release(&st);
    int tmp;
    dir_entries(&tmp);
    CHECK(!tmp);
}

/* Every proper prefix of a valid file is refused; none crashes. */
static void test_prefixes(void)
{
    CHECK(write_sample("full.safetensors") == FOCAL_OK);
    size_t n;
    unsigned char *b = read_file(path_in("full.safetensors"), &n);
    uint64_t hlen = 0;
    for (int i = 7; i >= 0; i--)
        hlen = hlen << 8 | b[i];
    int refused = 0, named = 0, truncated = 0;
    for (size_t len = 0; len < n; len++) {
        const char *p = put("prefix.safetensors", b, len);
        struct focal_st st;
        focal_status s = focal_st_read(p, &st);
        refused += s == FOCAL_ERR_FORMAT;
        named += strstr(focal_last_error(), p) != NULL;
        if (len < 8 || len >= 8 + hlen)
            truncated += strstr(focal_last_error(), "truncated") != NULL;
        if (s == FOCAL_OK)
            focal_st_release(&st);
    }
    size_t expect_trunc = 8 + (n - 8 - (size_t)hlen);
    CHECKF(refused == (int)n, "%d of %zu prefixes refused", refused, n);
    CHECKF(named == (int)n, "%d of %zu messages name the file", named, n);
    CHECKF(truncated == (int)expect_trunc, "%d of %zu messages say truncated", truncated, expect_trunc);
    REFUSED(put("prefix.safetensors", b, 8 + (size_t)hlen + 3), FOCAL_ERR_FORMAT, "truncated: header says");
    free(b);
}

/* Every byte of a valid file replaced by several values: the reader accepts
 * or refuses, but never crashes or reads out of bounds (the sanitizer build
 * checks the latter). A corrupted byte in the data section is accepted. */
static void test_corrupt_bytes(void)
{
    size_t n;
    unsigned char *b = read_file(path_in("full.safetensors"), &n);
    uint64_t hlen = 0;
    for (int i = 7; i >= 0; i--)
        hlen = hlen << 8 | b[i];
    static const unsigned char vals[] = { 0x00, 0xff, '"', '9', '-', '[', '}', ' ', '0', 0x80 };
    int ok_data = 0, bad_status = 0;
    for (size_t i = 0; i < n; i++) {
        for (size_t v = 0; v < sizeof vals; v++) {
            if (b[i] == vals[v])
                continue;
            unsigned char keep = b[i];
            b[i] = vals[v];
            const char *p = put("corrupt.safetensors", b, n);
            b[i] = keep;
            struct focal_st st;
            focal_status s = focal_st_read(p, &st);
            if (s == FOCAL_OK) {
                ok_data += i >= 8 + hlen;
                focal_st_release(&st);
            } else if (s != FOCAL_ERR_FORMAT) {
                bad_status++;
            }
        }
    }
    CHECK(bad_status == 0);
    CHECKF(ok_data > 0, "no data-section corruption was accepted");
    free(b);
}

/* Hand-made malformed files, each refused with a message naming the problem. */
static void test_malformed(void)
{
    const char *F32_2 = "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}";
    struct focal_st st;
    CHECK(focal_st_read(make_file("ok.st", F32_2, 0, 8), &st) == FOCAL_OK);
    focal_st_release(&st);

    REFUSED(put("short.st", "\x08\0\0", 3), FOCAL_ERR_FORMAT, "truncated");
    REFUSED(make_file("huge.st", F32_2, UINT64_MAX, 8), FOCAL_ERR_FORMAT, "header length");
    REFUSED(make_file("huge2.st", F32_2, (uint64_t)1 << 40, 8), FOCAL_ERR_FORMAT, "header length");
    REFUSED(make_file("long.st", F32_2, strlen(F32_2) + 9, 8), FOCAL_ERR_FORMAT, "truncated");
    REFUSED(make_file("zero.st", "", 0, 0), FOCAL_ERR_FORMAT, "'{'");
    REFUSED(make_file("json.st", "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}", 0, 8),
            FOCAL_ERR_FORMAT, "not valid JSON");
    REFUSED(make_file("json2.st", "{\"a\": nope}", 0, 0), FOCAL_ERR_FORMAT, "not valid JSON");
    REFUSED(make_file("after.st", "{} x", 0, 0), FOCAL_ERR_FORMAT, "after the header");
    REFUSED(make_file("arr.st", "[1,2]", 0, 0), FOCAL_ERR_FORMAT, "'{'");
    REFUSED(make_file("notobj.st", "{\"a\":3}", 0, 0), FOCAL_ERR_FORMAT, "expected an object");
    {
        /* Deep nesting stops at the JSON parser's limit instead of the stack. */
        size_t depth = 100000;
        char *deep = malloc(depth * 2 + 8);
        strcpy(deep, "{\"a\":");
        memset(deep + 5, '[', depth);
        deep[5 + depth] = '\0';
        REFUSED(make_file("deep.st", deep, 0, 0), FOCAL_ERR_FORMAT, "not valid JSON");
        free(deep);
    }
    /* Offsets. */
    REFUSED(make_file("range.st", F32_2, 0, 4), FOCAL_ERR_FORMAT, "truncated: header says 8 bytes of data, file has 4");
    REFUSED(make_file("order.st", "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[8,0]}}", 0, 8),
            FOCAL_ERR_FORMAT, "end before");
    REFUSED(make_file("mism.st", "{\"a\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,8]}}", 0, 8),
            FOCAL_ERR_FORMAT, "needs 12");
    REFUSED(make_file("mism2.st", "{\"a\":{\"dtype\":\"F64\",\"shape\":[2],\"data_offsets\":[0,8]}}", 0, 8),
            FOCAL_ERR_FORMAT, "needs 16");
    REFUSED(make_file("overlap.st",
                      "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
                      "\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}", 0, 12),
            FOCAL_ERR_FORMAT, "overlaps");
    REFUSED(make_file("same.st",
                      "{\"a\":{\"dtype\":\"U8\",\"shape\":[4],\"data_offsets\":[0,4]},"
                      "\"b\":{\"dtype\":\"I32\",\"shape\":[1],\"data_offsets\":[0,4]}}", 0, 4),
            FOCAL_ERR_FORMAT, "overlaps");
    REFUSED(make_file("gap.st", "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}", 0, 12),
            FOCAL_ERR_FORMAT, "unused bytes");
    REFUSED(make_file("trail.st", F32_2, 0, 9), FOCAL_ERR_FORMAT, "1 bytes after the last tensor");
    REFUSED(make_file("neg.st", "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[-4,8]}}", 0, 8),
            FOCAL_ERR_FORMAT, "data_offsets");
    REFUSED(make_file("frac.st", "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8.5]}}", 0, 8),
            FOCAL_ERR_FORMAT, "data_offsets");
    REFUSED(make_file("big.st", "{\"a\":{\"dtype\":\"U8\",\"shape\":[1e300],\"data_offsets\":[0,8]}}", 0, 8),
            FOCAL_ERR_FORMAT, "shape[0]");
    REFUSED(make_file("three.st", "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,4,8]}}", 0, 8),
            FOCAL_ERR_FORMAT, "data_offsets");
    REFUSED(make_file("hugeoff.st",
                      "{\"a\":{\"dtype\":\"U8\",\"shape\":[9007199254740992],"
                      "\"data_offsets\":[0,9007199254740992]}}", 0, 8),
            FOCAL_ERR_FORMAT, "truncated");
    /* Shapes. */
    REFUSED(make_file("negshape.st", "{\"a\":{\"dtype\":\"F32\",\"shape\":[-2],\"data_offsets\":[0,8]}}", 0, 8),
            FOCAL_ERR_FORMAT, "shape[0] is not a non-negative integer");
    REFUSED(make_file("strshape.st", "{\"a\":{\"dtype\":\"F32\",\"shape\":[\"2\"],\"data_offsets\":[0,8]}}", 0, 8),
            FOCAL_ERR_FORMAT, "shape[0]");
    REFUSED(make_file("overflow.st",
                      "{\"a\":{\"dtype\":\"F64\",\"shape\":[4294967296,4294967296,4294967296],"
                      "\"data_offsets\":[0,8]}}", 0, 8),
            FOCAL_ERR_FORMAT, "too large");
    REFUSED(make_file("overflow2.st",
                      "{\"a\":{\"dtype\":\"F64\",\"shape\":[4503599627370496,8192],\"data_offsets\":[0,8]}}", 0, 8),
            FOCAL_ERR_FORMAT, "too large");
    REFUSED(make_file("rank.st", "{\"a\":{\"dtype\":\"U8\",\"shape\":[1,1,1,1,1,1,1,1,1],\"data_offsets\":[0,1]}}",
                      0, 1),
            FOCAL_ERR_FORMAT, "9 dimensions");
    REFUSED(make_file("noshape.st", "{\"a\":{\"dtype\":\"F32\",\"data_offsets\":[0,8]}}", 0, 8), FOCAL_ERR_FORMAT,
            "missing \"shape\"");
    /* Dtypes. */
    REFUSED(make_file("f16.st", "{\"a\":{\"dtype\":\"F16\",\"shape\":[4],\"data_offsets\":[0,8]}}", 0, 8),
            FOCAL_ERR_FORMAT, "unsupported dtype \"F16\"");
    REFUSED(make_file("nodtype.st", "{\"a\":{\"shape\":[4],\"data_offsets\":[0,8]}}", 0, 8), FOCAL_ERR_FORMAT,
            "missing \"dtype\"");
    REFUSED(make_file("numdtype.st", "{\"a\":{\"dtype\":4,\"shape\":[4],\"data_offsets\":[0,8]}}", 0, 8),
            FOCAL_ERR_FORMAT, "dtype is not a string");
    /* Names and metadata. */
    REFUSED(make_file("dup.st",
                      "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},"
                      "\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}", 0, 8),
            FOCAL_ERR_FORMAT, "'a' appears twice");
    REFUSED(make_file("metanum.st", "{\"__metadata__\":{\"epoch\":3}}", 0, 0), FOCAL_ERR_FORMAT,
            "'epoch' is not a string");
    REFUSED(make_file("metaarr.st", "{\"__metadata__\":[]}", 0, 0), FOCAL_ERR_FORMAT, "not an object");
    REFUSED(make_file("metadup.st", "{\"__metadata__\":{\"k\":\"1\",\"k\":\"2\"}}", 0, 0), FOCAL_ERR_FORMAT,
            "'k' appears twice");
    REFUSED(make_file("meta2.st", "{\"__metadata__\":{},\"__metadata__\":{}}", 0, 0), FOCAL_ERR_FORMAT,
            "appears twice");
    /* Padding spaces after the object and an empty file are fine / refused. */
    CHECK(focal_st_read(make_file("pad.st", "{\"__metadata__\":{\"k\":\"v\"}}     ", 0, 0), &st) == FOCAL_OK);
    CHECK(st.nmeta == 1 && strcmp(focal_st_meta(&st, "k"), "v") == 0);
    focal_st_release(&st);
    REFUSED(put("empty.st", "", 0), FOCAL_ERR_FORMAT, "truncated");
    REFUSED(path_in("missing.st"), FOCAL_ERR_IO, "cannot open");
    REFUSED(dir, FOCAL_ERR_IO, "not a regular file");
}

/* Writes that fail leave an existing file as it was and no temporary file. */
static void test_failed_writes(void)
{
    float v[1024];
    for (int i = 0; i < 1024; i++)
        v[i] = (float)i;
    struct focal_st_out big = { "v", FOCAL_ST_F32, 1, { 1024 }, v };
    char nodir[600];
    snprintf(nodir, sizeof nodir, "%s/no/such/dir/x.safetensors", dir);
    CHECK(focal_st_write(nodir, &big, 1, NULL, NULL, 0) == FOCAL_ERR_IO);
    CHECKF(strstr(focal_last_error(), nodir) != NULL, "%s", focal_last_error());

    remove_tree(dir);
    CHECK(mkdir(dir, 0700) == 0);
    const char *p = path_in("keep.safetensors");
    CHECK(write_sample("keep.safetensors") == FOCAL_OK);
    size_t n0, n1;
    unsigned char *before = read_file(p, &n0);

    /* A file-size limit makes the data write fail after the temporary file exists. */
    struct rlimit old, lim;
    void (*old_handler)(int) = signal(SIGXFSZ, SIG_IGN);
    CHECK(getrlimit(RLIMIT_FSIZE, &old) == 0);
    lim = old;
    lim.rlim_cur = 512;
    CHECK(setrlimit(RLIMIT_FSIZE, &lim) == 0);
    focal_status s = focal_st_write(p, &big, 1, NULL, NULL, 0);
    CHECK(setrlimit(RLIMIT_FSIZE, &old) == 0);
    signal(SIGXFSZ, old_handler);
    CHECKF(s == FOCAL_ERR_IO, "status %d: %s", (int)s, focal_last_error());
    CHECKF(strstr(focal_last_error(), p) != NULL, "%s", focal_last_error());
    unsigned char *after = read_file(p, &n1);
    CHECK(n0 == n1 && memcmp(before, after, n0) == 0);
    free(after);
    int tmp;
    CHECK(dir_entries(&tmp) == 1);
    CHECK(!tmp);

    /* A read-only directory (not enforced for root, so only checked otherwise). */
    if (geteuid() != 0) {
        CHECK(chmod(dir, 0500) == 0);
        s = focal_st_write(p, &big, 1, NULL, NULL, 0);
        CHECK(chmod(dir, 0700) == 0);
        CHECK(s == FOCAL_ERR_IO);
        after = read_file(p, &n1);
        CHECK(n0 == n1 && memcmp(before, after, n0) == 0);
        free(after);
        CHECK(dir_entries(&tmp) == 1 && !tmp);
    }

    /* Bad arguments are refused before anything is written. */
    struct focal_st_out twice[2] = { big, big };
    CHECK(focal_st_write(p, twice, 2, NULL, NULL, 0) == FOCAL_ERR_ARG);
    struct focal_st_out reserved = { "__metadata__", FOCAL_ST_U8, 0, { 0 }, v };
    CHECK(focal_st_write(p, &reserved, 1, NULL, NULL, 0) == FOCAL_ERR_ARG);
    struct focal_st_out negative = { "n", FOCAL_ST_U8, 1, { -1 }, v };
    CHECK(focal_st_write(p, &negative, 1, NULL, NULL, 0) == FOCAL_ERR_ARG);
    after = read_file(p, &n1);
    CHECK(n0 == n1 && memcmp(before, after, n0) == 0);
    free(after);
    CHECK(dir_entries(&tmp) == 1 && !tmp);
    free(before);
}

int main(void)
{
    if (make_scratch_dir("focal-st") != 0)
        return 1;
    test_round_trip();
    test_prefixes();
    test_corrupt_bytes();
    test_malformed();
    test_failed_writes();
    remove_tree(dir);
    return check_done("test_safetensors");
}
