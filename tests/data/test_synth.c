/* test_synth.c — the synthetic fundus dataset: the condition table, split
 * sizes, label frequencies against the configured prevalences (binomial
 * tolerance), determinism (same seed and index give the same pixels; the
 * thread count does not change a byte of the written files), the files'
 * layout, CSV contents (Disease_Risk = OR of the conditions), image sizes,
 * and the refusals: options out of range, a non-empty folder without force,
 * force on a folder focal synth did not write, nothing left behind. */
#define _POSIX_C_SOURCE 200809L

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "focal.h"
#include "check.h"
#include "testfs.h"

#define NAME "test_synth"

static void test_conditions(void)
{
    const struct focal_synth_condition *c = focal_synth_conditions();
    CHECK(c != NULL);
    for (int j = 0; j < FOCAL_SYNTH_CONDITIONS; j++) {
        CHECKF(c[j].name && *c[j].name && c[j].sign && *c[j].sign, "condition %d has no name or sign", j);
        CHECKF(c[j].prevalence > 0 && c[j].prevalence < 0.5, "%s: prevalence %g", c[j].name, c[j].prevalence);
        if (j > 0)
            CHECKF(c[j].prevalence < c[j - 1].prevalence, "%s is not rarer than %s", c[j].name, c[j - 1].name);
        for (int k = 0; k < j; k++)
            CHECKF(strcmp(c[j].name, c[k].name) != 0, "column %s twice", c[j].name);
    }
    /* the long tail: the rarest is at least 30 times rarer than the commonest */
    CHECK(c[0].prevalence / c[FOCAL_SYNTH_CONDITIONS - 1].prevalence >= 30);
}

static void test_split_sizes(void)
{
    int k[3];
    focal_synth_split_sizes(2000, k);
    CHECK(k[FOCAL_SPLIT_TRAIN] == 1200 && k[FOCAL_SPLIT_VAL] == 400 && k[FOCAL_SPLIT_TEST] == 400);
    focal_synth_split_sizes(10, k);
    CHECK(k[0] == 6 && k[1] == 2 && k[2] == 2);
    int bad = 0;
    for (int n = FOCAL_SYNTH_MIN_N; n < 500; n++) {
        focal_synth_split_sizes(n, k);
        bad += k[0] + k[1] + k[2] != n || k[1] < 2 || k[2] < 2 || k[0] < k[1] || abs(5 * k[1] - n) > 5;
    }
    CHECKF(bad == 0, "%d sizes split wrongly", bad);
}

/* Label frequencies over many samples lie within 5 binomial standard
 * deviations of the prevalences; so does Disease_Risk, whose rate for
 * independent conditions is 1 − Π(1 − p_j). */
static void test_label_frequencies(void)
{
    enum { N = 200000 };
    const struct focal_synth_condition *c = focal_synth_conditions();
    long count[FOCAL_SYNTH_CONDITIONS] = { 0 }, risk = 0, both = 0, failed = 0;
    uint8_t l[FOCAL_SYNTH_CONDITIONS];
    for (int i = 0; i < N; i++) {
        failed += focal_synth_sample(77, i, 0, l, NULL) != FOCAL_OK;
        int any = 0;
        for (int j = 0; j < FOCAL_SYNTH_CONDITIONS; j++) {
            count[j] += l[j];
            any |= l[j];
        }
        risk += any;
        both += l[0] && l[1];
    }
    CHECK(failed == 0);
    double p_none = 1;
    for (int j = 0; j < FOCAL_SYNTH_CONDITIONS; j++) {
        const double p = c[j].prevalence, sd = sqrt(N * p * (1 - p));
        CHECKF(fabs((double)count[j] - N * p) <= 5 * sd, "%s: %ld of %d, expected %.0f +- %.0f", c[j].name, count[j],
               N, N * p, 5 * sd);
        p_none *= 1 - p;
    }
    const double pr = 1 - p_none, pb = c[0].prevalence * c[1].prevalence;
    CHECKF(fabs((double)risk - N * pr) <= 5 * sqrt(N * pr * (1 - pr)), "Disease_Risk %ld of %d, expected %.0f", risk,
           N, N * pr);
    CHECKF(fabs((double)both - N * pb) <= 5 * sqrt(N * pb * (1 - pb)), "DR and MH together %ld, expected %.0f",
           both, N * pb);
}

/* Same (seed, index, size), same pixels; labels do not depend on size; the
 * pictures look like fundus photographs: black corners, orange centre. */
static void test_samples(void)
{
    uint8_t la[FOCAL_SYNTH_CONDITIONS], lb[FOCAL_SYNTH_CONDITIONS], lc[FOCAL_SYNTH_CONDITIONS];
    struct focal_image a, b, other;
    int differ = 0, orange = 0, corners = 0;
    for (int i = 0; i < 40; i++) {
        const int size = 16 + 8 * (i % 6);
        CHECK(focal_synth_sample(5, i, size, la, &a) == FOCAL_OK);
        CHECK(focal_synth_sample(5, i, size, lb, &b) == FOCAL_OK);
        CHECK(focal_synth_sample(5, i, 0, lc, NULL) == FOCAL_OK);
        CHECK(a.width == size && a.height == size && a.channels == 3);
        CHECK(a.data && b.data && memcmp(a.data, b.data, (size_t)size * size * 3) == 0);
        CHECK(memcmp(la, lb, sizeof la) == 0 && memcmp(la, lc, sizeof la) == 0);
        CHECK(focal_synth_sample(6, i, size, lb, &other) == FOCAL_OK);
        differ += memcmp(a.data, other.data, (size_t)size * size * 3) != 0;
        const uint8_t *corner[4] = { a.data, a.data + (size - 1) * 3, a.data + (size_t)(size - 1) * size * 3,
                                     a.data + ((size_t)size * size - 1) * 3 };
        int dark = 1;
        for (int k = 0; k < 4; k++)
            dark &= corner[k][0] <= 3 && corner[k][1] <= 3 && corner[k][2] <= 3;
        corners += dark;
        long sum[3] = { 0 };
        for (int y = size / 3; y < 2 * size / 3; y++)
            for (int x = size / 3; x < 2 * size / 3; x++)
                for (int k = 0; k < 3; k++)
                    sum[k] += a.data[((size_t)y * size + x) * 3 + k];
        orange += sum[0] > sum[1] && sum[1] > sum[2] && sum[0] > 60L * (size / 3) * (size / 3);
        focal_image_release(&a);
        focal_image_release(&b);
        focal_image_release(&other);
    }
    CHECKF(differ == 40, "%d of 40 images changed with the seed", differ);
    CHECKF(corners == 40, "%d of 40 images have black corners", corners);
    CHECKF(orange == 40, "%d of 40 images have an orange-red centre", orange);
    CHECK(focal_synth_sample(5, 0, FOCAL_SYNTH_MIN_SIZE - 1, la, &a) == FOCAL_ERR_ARG && a.data == NULL);
    CHECK(focal_synth_sample(5, 0, FOCAL_SYNTH_MAX_SIZE + 1, la, &a) == FOCAL_ERR_ARG);
}

/* ---- the written dataset ------------------------------------------------------ */

struct progress_log {
    int calls, last, total, ordered;
};

static void log_progress(void *ctx, int done, int total)
{
    struct progress_log *p = ctx;
    p->ordered &= done == p->last + 1;
    p->calls++;
    p->last = done;
    p->total = total;
}

static const char *const csv_names[3] = { "RFMiD_Training_Labels.csv", "RFMiD_Validation_Labels.csv",
                                          "RFMiD_Testing_Labels.csv" };
static const char *const image_dirs[3] = { "Training", "Validation", "Test" };

/* The scratch folder's "<root>/<rel>" (a path_in() buffer). */
static const char *under(const char *root, const char *rel)
{
    char name[256];
    snprintf(name, sizeof name, "%s/%s", root, rel);
    return path_in(name);
}

/* Checks the dataset written to the scratch folder's root with seed and n images of size: CSV
 * headers, IDs, labels equal to focal_synth_sample's, Disease_Risk, image
 * sizes and pixels, and the summary. */
static void check_dataset(const char *root, uint64_t seed, int n, int size, const struct focal_synth_summary *sum)
{
    const struct focal_synth_condition *c = focal_synth_conditions();
    char header[512] = "ID,Disease_Risk";
    for (int j = 0; j < FOCAL_SYNTH_CONDITIONS; j++)
        snprintf(header + strlen(header), sizeof header - strlen(header), ",%s", c[j].name);
    strcat(header, "\n");
    int counts[3], index = 0, bad_rows = 0, bad_images = 0, risk_seen = 0;
    focal_synth_split_sizes(n, counts);
    for (int s = 0; s < 3; s++) {
        size_t len;
        char *text = (char *)try_read_file(under(root, csv_names[s]), &len);
        CHECKF(text != NULL, "%s missing", csv_names[s]);
        if (!text)
            return;
        CHECKF(strncmp(text, header, strlen(header)) == 0, "%s: header '%.80s'", csv_names[s], text);
        char *line = strchr(text, '\n');
        int rows = 0, risk = 0, pos[FOCAL_SYNTH_CONDITIONS] = { 0 };
        while (line && line[1]) {
            line++;
            uint8_t want[FOCAL_SYNTH_CONDITIONS];
            focal_synth_sample(seed, index, 0, want, NULL);
            int id, r, v, off, any = 0, ok = sscanf(line, "%d,%d%n", &id, &r, &off) == 2 && id == rows + 1;
            char *p = line + (ok ? off : 0);
            for (int j = 0; ok && j < FOCAL_SYNTH_CONDITIONS; j++) {
                ok = sscanf(p, ",%d%n", &v, &off) == 1 && v == want[j];
                p += off;
                any |= v;
                pos[j] += v;
            }
            ok = ok && *p == '\n' && r == any;
            risk += r;
            bad_rows += !ok;
            /* every image is size × size RGB with exactly the sampled pixels */
            char rel[64];
            snprintf(rel, sizeof rel, "%s/%d.png", image_dirs[s], rows + 1);
            struct focal_image img, ref;
            if (focal_image_read(under(root, rel), &img) != FOCAL_OK) {
                bad_images++;
            } else {
                focal_synth_sample(seed, index, size, want, &ref);
                bad_images += img.width != size || img.height != size || img.channels != 3 || !ref.data ||
                              memcmp(img.data, ref.data, (size_t)size * size * 3) != 0;
                focal_image_release(&img);
                focal_image_release(&ref);
            }
            rows++;
            index++;
            line = strchr(line, '\n');
        }
        CHECKF(rows == counts[s], "%s: %d rows, expected %d", csv_names[s], rows, counts[s]);
        if (sum) {
            CHECK(sum->images[s] == rows && sum->risk[s] == risk);
            for (int j = 0; j < FOCAL_SYNTH_CONDITIONS; j++)
                CHECKF(sum->positives[s][j] == pos[j], "%s %s: summary %d, file %d", csv_names[s], c[j].name,
                       sum->positives[s][j], pos[j]);
        }
        risk_seen += risk;
        free(text);
    }
    CHECKF(bad_rows == 0, "%d CSV rows are malformed or disagree with the sampler", bad_rows);
    CHECKF(bad_images == 0, "%d images are missing, malformed or differ from the sampler", bad_images);
    CHECK(risk_seen > 0);
    struct stat sb;
    CHECK(stat(under(root, "synth.json"), &sb) == 0 && S_ISREG(sb.st_mode));
    char extra[64];
    snprintf(extra, sizeof extra, "Training/%d.png", counts[0] + 1);
    CHECK(stat(under(root, extra), &sb) != 0);
}

/* 1 if the files of two datasets of n images in the scratch folder are
 * byte-identical. */
static int same_dataset(const char *a, const char *b, int n)
{
    int counts[3], same = 1;
    focal_synth_split_sizes(n, counts);
    char rel[64];
    for (int s = 0; s < 3 && same; s++)
        for (int id = 0; id <= counts[s] && same; id++) {
            if (id == 0)
                snprintf(rel, sizeof rel, "%s", csv_names[s]);
            else
                snprintf(rel, sizeof rel, "%s/%d.png", image_dirs[s], id);
            size_t la, lb;
            unsigned char *fa = try_read_file(under(a, rel), &la), *fb = try_read_file(under(b, rel), &lb);
            same = fa && fb && la == lb && memcmp(fa, fb, la) == 0;
            free(fa);
            free(fb);
        }
    return same;
}

static void test_write(void)
{
    struct focal_synth_options o = { 30, 24, 2024, 0 };
    struct focal_synth_summary sum;
    struct progress_log log = { 0, 0, 0, 1 };
    char one[512];
    snprintf(one, sizeof one, "%s", path_in("one"));

    focal_set_threads(1);
    CHECKF(focal_synth_write(one, &o, log_progress, &log, &sum) == FOCAL_OK, "%s", focal_last_error());
    CHECK(log.calls == 30 && log.last == 30 && log.total == 30 && log.ordered);
    check_dataset("one", o.seed, o.n, o.size, &sum);

    /* two threads, a trailing slash, no progress, no summary: the same bytes */
    focal_set_threads(2);
    char slashed[520];
    snprintf(slashed, sizeof slashed, "%s//", path_in("two"));
    CHECKF(focal_synth_write(slashed, &o, NULL, NULL, NULL) == FOCAL_OK, "%s", focal_last_error());
    CHECK(same_dataset("one", "two", o.n));

    /* a non-empty folder is refused, and left as it was */
    o.seed = 1;
    CHECK(focal_synth_write(one, &o, NULL, NULL, NULL) == FOCAL_ERR_IO);
    CHECK(strstr(focal_last_error(), one) && strstr(focal_last_error(), "not empty"));
    CHECK(same_dataset("one", "two", o.n));
    /* force replaces a dataset focal synth wrote */
    o.force = 1;
    CHECKF(focal_synth_write(one, &o, NULL, NULL, &sum) == FOCAL_OK, "%s", focal_last_error());
    check_dataset("one", 1, o.n, o.size, &sum);
    CHECK(!same_dataset("one", "two", o.n));
    /* ... but not any other folder */
    mkdir(path_in("mine"), 0777);
    put("mine/notes.txt", "keep me\n", 8);
    CHECK(focal_synth_write(path_in("mine"), &o, NULL, NULL, NULL) == FOCAL_ERR_IO);
    CHECK(strstr(focal_last_error(), "synth.json") != NULL);
    size_t len;
    unsigned char *kept = try_read_file(path_in("mine/notes.txt"), &len);
    CHECK(kept && len == 8);
    free(kept);
    /* an empty folder is filled */
    o.force = 0;
    mkdir(path_in("empty"), 0777);
    CHECKF(focal_synth_write(path_in("empty"), &o, NULL, NULL, NULL) == FOCAL_OK, "%s", focal_last_error());
    check_dataset("empty", 1, o.n, o.size, NULL);

    /* a file where the folder should be; a parent that does not exist */
    put("afile", "x", 1);
    CHECK(focal_synth_write(path_in("afile"), &o, NULL, NULL, NULL) == FOCAL_ERR_IO);
    CHECK(strstr(focal_last_error(), "not a directory") != NULL);
    CHECK(focal_synth_write(path_in("no/such/parent"), &o, NULL, NULL, NULL) == FOCAL_ERR_IO);
    CHECK(strstr(focal_last_error(), "no/such/parent") != NULL);

    /* options out of range */
    struct focal_synth_options bad[] = {
        { FOCAL_SYNTH_MIN_N - 1, 24, 1, 0 }, { FOCAL_SYNTH_MAX_N + 1, 24, 1, 0 },
        { 30, FOCAL_SYNTH_MIN_SIZE - 1, 1, 0 }, { 30, FOCAL_SYNTH_MAX_SIZE + 1, 1, 0 },
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        CHECKF(focal_synth_write(path_in("bad"), &bad[i], NULL, NULL, NULL) == FOCAL_ERR_ARG, "case %zu", i);
    CHECK(strstr(focal_last_error(), "size") != NULL);
    CHECK(focal_synth_write("", &o, NULL, NULL, NULL) == FOCAL_ERR_ARG);

    /* nothing else was created, and no temporary folder is left */
    int tmp;
    CHECKF(dir_entries(&tmp) == 5 && !tmp, "%d entries in the scratch folder (temporary: %d)", dir_entries(&tmp),
           tmp);
}

int main(void)
{
    if (make_scratch_dir(NAME) != 0)
        return 1;
    test_conditions();
    test_split_sizes();
    test_label_frequencies();
    test_samples();
    test_write();
    remove_tree(dir);
    return check_done(NAME);
}
