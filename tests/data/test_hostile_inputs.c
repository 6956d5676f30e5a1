/* test_hostile_inputs.c — files of a few bytes or megabytes that claim far
 * more than they hold must be refused without costing what they claim:
 * compressed members and streams are checked against their headers before
 * they are inflated. Each case runs in a child process of its own and
 * measures its peak resident memory (getrusage) around the call. */
#define _POSIX_C_SOURCE 200809L /* mkdtemp */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <zlib.h>

#include "check.h"
#include "focal.h"

/* What a file claims beyond its header, inflated: 128 MiB of zeros. */
#define BOMB ((size_t)128 << 20)
/* The most a refusal may add to the peak resident memory. */
#define ALLOWED_KB (24L << 10)

static char dir[] = "/tmp/focal-hostile-XXXXXX";

static long peak_kb(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_maxrss;
}

static void put32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v, p[1] = (uint8_t)(v >> 8), p[2] = (uint8_t)(v >> 16), p[3] = (uint8_t)(v >> 24);
}

static void put16(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v, p[1] = (uint8_t)(v >> 8);
}

/* A .npy v1.0 array of `descr` and `shape` whose header is followed by
 * `data` bytes of zeros (whatever the shape needs), as one raw deflate
 * stream in *out (caller frees), with its CRC-32 and uncompressed size. */
static size_t deflate_npy(const char *descr, const char *shape, size_t data, uint8_t **out, uint32_t *crc,
                          size_t *usize)
{
    char hdr[128];
    int hl = snprintf(hdr, sizeof hdr, "{'descr': '%s', 'fortran_order': False, 'shape': %s, }", descr, shape);
    while ((10 + hl + 1) % 64)
        hdr[hl++] = ' ';
    hdr[hl++] = '\n';
    uint8_t head[10 + 128];
    memcpy(head, "\x93NUMPY\x01\x00", 8);
    put16(head + 8, (uint32_t)hl);
    memcpy(head + 10, hdr, (size_t)hl);
    z_stream zs;
    memset(&zs, 0, sizeof zs);
    deflateInit2(&zs, 9, Z_DEFLATED, -MAX_WBITS, 9, Z_DEFAULT_STRATEGY);
    size_t cap = 1 << 20, n = 0;
    uint8_t *buf = malloc(cap), *zeros = calloc(1, 1 << 20);
    *crc = crc32(0L, Z_NULL, 0);
    *crc = crc32(*crc, head, (uInt)(10 + hl));
    *usize = (size_t)(10 + hl) + data;
    for (int phase = 0; phase < 2; phase++) {
        size_t left = phase == 0 ? (size_t)(10 + hl) : data;
        while (left > 0 || phase == 1) {
            const size_t chunk = left < (1u << 20) ? left : (1u << 20);
            zs.next_in = phase == 0 ? head + (size_t)(10 + hl) - left : zeros;
            zs.avail_in = (uInt)chunk;
            if (phase == 1)
                *crc = crc32(*crc, zeros, (uInt)chunk);
            left -= chunk;
            const int flush = phase == 1 && left == 0 ? Z_FINISH : Z_NO_FLUSH;
            int r;
            do {
                if (cap - n < 65536)
                    buf = realloc(buf, cap *= 2);
                zs.next_out = buf + n;
                zs.avail_out = (uInt)(cap - n);
                r = deflate(&zs, flush);
                n = cap - zs.avail_out;
            } while (zs.avail_out == 0 || (flush == Z_FINISH && r != Z_STREAM_END));
            if (phase == 1 && left == 0)
                break;
        }
    }
    deflateEnd(&zs);
    free(zeros);
    *out = buf;
    return n;
}

/* Writes a zip archive of the members (names, deflated bytes, CRC, sizes). */
static void write_zip(const char *path, int k, const char *const *names, uint8_t *const *data, const size_t *csize,
                      const uint32_t *crc, const size_t *usize)
{
    FILE *f = fopen(path, "wb");
    uint8_t h[64];
    long offs[4];
    for (int i = 0; i < k; i++) {
        offs[i] = ftell(f);
        memset(h, 0, 30);
        put32(h, 0x04034b50), put16(h + 4, 20), put16(h + 8, 8), put32(h + 14, crc[i]);
        put32(h + 18, (uint32_t)csize[i]), put32(h + 22, (uint32_t)usize[i]), put16(h + 26, (uint32_t)strlen(names[i]));
        fwrite(h, 1, 30, f), fwrite(names[i], 1, strlen(names[i]), f), fwrite(data[i], 1, csize[i], f);
    }
    const long cd = ftell(f);
    for (int i = 0; i < k; i++) {
        memset(h, 0, 46);
        put32(h, 0x02014b50), put16(h + 4, 20), put16(h + 6, 20), put16(h + 10, 8), put32(h + 16, crc[i]);
        put32(h + 20, (uint32_t)csize[i]), put32(h + 24, (uint32_t)usize[i]), put16(h + 28, (uint32_t)strlen(names[i]));
        put32(h + 42, (uint32_t)offs[i]);
        fwrite(h, 1, 46, f), fwrite(names[i], 1, strlen(names[i]), f);
    }
    const long end = ftell(f);
    memset(h, 0, 22);
    put32(h, 0x06054b50), put16(h + 8, (uint32_t)k), put16(h + 10, (uint32_t)k);
    put32(h + 12, (uint32_t)(end - cd)), put32(h + 16, (uint32_t)cd);
    fwrite(h, 1, 22, f);
    fclose(f);
}

/* An npz whose train_images member is a (1,28,28) uint8 array by its header
 * but inflates to BOMB bytes of data: refused by its header, not inflated. */
static void test_npz_bomb(void)
{
    const char *names[2] = {"train_images.npy", "train_labels.npy"};
    uint8_t *data[2];
    size_t csize[2], usize[2];
    uint32_t crc[2];
    csize[0] = deflate_npy("|u1", "(1, 28, 28)", BOMB, &data[0], &crc[0], &usize[0]);
    csize[1] = deflate_npy("|u1", "(1, 1)", 1, &data[1], &crc[1], &usize[1]);
    char path[128];
    snprintf(path, sizeof path, "%s/bomb.npz", dir);
    write_zip(path, 2, names, data, csize, crc, usize);
    free(data[0]), free(data[1]);
    const long before = peak_kb();
    struct focal_dataset *d = NULL;
    struct focal_data_options opt = {.format = FOCAL_FORMAT_NPZ, .header = -1};
    const focal_status st = focal_dataset_open(path, &opt, &d);
    const long grew = peak_kb() - before;
    CHECKF(st == FOCAL_ERR_FORMAT && d == NULL, "npz bomb: status %d", (int)st);
    CHECKF(strstr(focal_last_error(), "train_images") && strstr(focal_last_error(), "need 784"),
           "npz bomb: message '%s'", focal_last_error());
    CHECKF(grew < ALLOWED_KB, "npz bomb (%zu compressed bytes claiming %zu): peak memory grew by %ld KiB", csize[0],
           usize[0], grew);
    printf("npz member of %zu bytes claiming %zu: refused, peak memory +%ld KiB: %s\n", csize[0], usize[0], grew,
           focal_last_error());
    focal_dataset_free(d);
}

/* A gzip'd idx whose header says 1×1×1 followed by BOMB bytes: refused after
 * reading at most the header's values and one more byte. */
static void test_idx_bomb(void)
{
    char img[160], lab[160];
    snprintf(img, sizeof img, "%s/bomb-images-idx3-ubyte.gz", dir);
    snprintf(lab, sizeof lab, "%s/bomb-labels-idx1-ubyte.gz", dir);
    gzFile g = gzopen(img, "wb9");
    const uint8_t head[16] = {0, 0, 8, 3, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1};
    gzwrite(g, head, sizeof head);
    uint8_t *zeros = calloc(1, 1 << 20);
    for (size_t left = BOMB; left; left -= 1 << 20)
        gzwrite(g, zeros, 1 << 20);
    gzclose(g);
    free(zeros);
    g = gzopen(lab, "wb");
    const uint8_t lhead[9] = {0, 0, 8, 1, 0, 0, 0, 1, 0};
    gzwrite(g, lhead, sizeof lhead);
    gzclose(g);
    const long before = peak_kb();
    struct focal_dataset *d = NULL;
    struct focal_data_options opt = {.format = FOCAL_FORMAT_IDX, .header = -1};
    const focal_status st = focal_dataset_open(img, &opt, &d);
    const long grew = peak_kb() - before;
    CHECKF(st == FOCAL_ERR_FORMAT && d == NULL, "idx bomb: status %d", (int)st);
    CHECKF(strstr(focal_last_error(), "trailing data") != NULL, "idx bomb: message '%s'", focal_last_error());
    CHECKF(grew < ALLOWED_KB, "idx bomb claiming %zu bytes: peak memory grew by %ld KiB", BOMB, grew);
    printf("gzip idx of 1x1x1 followed by %zu bytes: refused, peak memory +%ld KiB: %s\n", BOMB, grew,
           focal_last_error());
    focal_dataset_free(d);
}

/* An RFMiD labels file whose header has 100,000 columns: comparing the names
 * with each other took minutes; it is refused at once, naming the limit. */
static void test_wide_labels(void)
{
    char path[160];
    snprintf(path, sizeof path, "%s/wide_labels.csv", dir);
    FILE *f = fopen(path, "w");
    fputs("ID,Disease_Risk", f);
    for (int c = 0; c < 100000; c++)
        fprintf(f, ",C%d", c);
    fputs("\n1,0", f);
    for (int c = 0; c < 100000; c++)
        fputs(",0", f);
    fputs("\n", f);
    fclose(f);
    struct focal_dataset *d = NULL;
    struct focal_data_options opt = {.format = FOCAL_FORMAT_RFMID, .header = -1};
    const focal_status st = focal_dataset_open(path, &opt, &d);
    CHECKF(st == FOCAL_ERR_FORMAT && d == NULL, "wide labels: status %d", (int)st);
    CHECKF(strstr(focal_last_error(), "100002 columns; expected at most 4096") != NULL, "wide labels: message '%s'",
           focal_last_error());
    printf("labels file of 100002 columns: %s\n", focal_last_error());
    focal_dataset_free(d);
}

/* Runs one case in a child process, so that its peak memory is its own. */
static void in_child(void (*fn)(void), const char *name)
{
    fflush(stdout);
    const pid_t pid = fork();
    if (pid == 0) {
        fn();
        fflush(stdout);
        _exit(check_failed != 0);
    }
    int status = 0;
    CHECKF(pid > 0 && waitpid(pid, &status, 0) == pid && WIFEXITED(status) && WEXITSTATUS(status) == 0,
           "%s: the case failed (status %d)", name, status);
}

int main(void)
{
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        return 1;
    }
    in_child(test_idx_bomb, "idx bomb");
    in_child(test_npz_bomb, "npz bomb");
    in_child(test_wide_labels, "wide labels");
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", dir);
    printf("test_hostile_inputs: %d checks, %d failed\n", check_count, check_failed);
    return check_failed != 0;
}
