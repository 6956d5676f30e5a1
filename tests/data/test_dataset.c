/* test_dataset.c — the dataset readers behind focal_dataset_open: RFMiD label
 * CSVs (fixtures and the real files), class folders, MedMNIST .npz, MNIST idx
 * and numeric CSV tables; format detection; every malformed-input message with
 * the file and the line, column, key or value it names; the text table reader
 * of csv.c. Values of the committed fixtures and of the real data come from
 * tests/fixtures/datasets/expected.txt (tools/gen_dataset_fixtures.py). Tests that
 * need ../shared/data print "skip: ..." when it is absent. */
#define _POSIX_C_SOURCE 200809L

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "focal.h"
#include "data/dataset_internal.h"
#include "check.h"
#include "testfs.h"

static const char *source_dir;   /* the source tree */
static const char *shared_dir;   /* ../shared/data, or NULL when absent */

/* ---- helpers ----------------------------------------------------------------- */

/* put() for a NUL-terminated text; returns the path. */
static const char *put_text(const char *name, const char *text)
{
    return put(name, text, strlen(text));
}

/* "<root>/<rel>" in one of four static buffers used in turn. */
static const char *join(const char *root, const char *rel)
{
    static char buf[4][768];
    static int k;
    k = (k + 1) % 4;
    snprintf(buf[k], sizeof buf[k], "%s/%s", root, rel);
    return buf[k];
}

/* The committed fixture tests/fixtures/datasets/<name>. */
static const char *fixture(const char *name)
{
    return join(source_dir, name[0] ? join("tests/fixtures/datasets", name) : "tests/fixtures/datasets");
}

/* Opens path with opt (NULL: defaults); checks FOCAL_OK. Returns the dataset or NULL. */
static struct focal_dataset *open_ok(const char *path, const struct focal_data_options *opt)
{
    struct focal_dataset *d = (struct focal_dataset *)1;
    focal_status st = focal_dataset_open(path, opt, &d);
    CHECKF(st == FOCAL_OK, "%s: status %d: %s", path, (int)st, focal_last_error());
    if (st != FOCAL_OK)
        return NULL;
    CHECK(d != NULL);
    return d;
}

/* Opens path and expects status want with a message that contains each of
 * the (up to three, NULL-terminated) strings; checks *out is left NULL. */
static void open_fail(const char *path, const struct focal_data_options *opt, focal_status want, const char *a,
                      const char *b, const char *c)
{
    struct focal_dataset *d = (struct focal_dataset *)1;
    focal_status st = focal_dataset_open(path, opt, &d);
    const char *msg = focal_last_error();
    CHECKF(st == want, "%s: status %d, expected %d (%s)", path, (int)st, (int)want, msg);
    CHECK(d == NULL);
    const char *want_parts[3] = { a, b, c };
    for (int k = 0; k < 3; k++)
        if (want_parts[k])
            CHECKF(strstr(msg, want_parts[k]) != NULL, "%s: message '%s' lacks '%s'", path, msg, want_parts[k]);
    if (st == FOCAL_OK)
        focal_dataset_free(d);
}

/* Reads the integers after "<key> " (and after a '|' separator, if any) on
 * the line of expected.txt that starts with key into v (up to max); returns
 * how many, or −1 when the line is missing. */
static int expected_ints(const char *key, long *v, int max)
{
    size_t len;
    char *text = (char *)read_file(fixture("expected.txt"), &len);
    int n = -1;
    const size_t k = strlen(key);
    for (char *line = text; line && *line;) {
        char *next = strchr(line, '\n');
        if (next)
            *next++ = '\0';
        if (strncmp(line, key, k) == 0 && line[k] == ' ') {
            n = 0;
            for (char *p = line + k; *p && n < max;) {
                char *end;
                long x = strtol(p, &end, 10);
                if (end == p) {
                    p++;
                    continue;
                }
                v[n++] = x;
                p = end;
            }
            break;
        }
        line = next;
    }
    free(text);
    return n;
}

/* The words after "<key> " on expected.txt's line for key, in buf (NUL-separated
 * pointers in words, up to max); returns how many, or −1 when missing. */
static int expected_words(const char *key, char *buf, size_t cap, const char **words, int max)
{
    size_t len;
    char *text = (char *)read_file(fixture("expected.txt"), &len);
    int n = -1;
    const size_t k = strlen(key);
    for (char *line = text; line && *line;) {
        char *next = strchr(line, '\n');
        if (next)
            *next++ = '\0';
        if (strncmp(line, key, k) == 0 && line[k] == ' ' && strlen(line + k + 1) < cap) {
            strcpy(buf, line + k + 1);
            n = 0;
            for (char *w = strtok(buf, " "); w && n < max; w = strtok(NULL, " "))
                words[n++] = w;
            break;
        }
        line = next;
    }
    free(text);
    return n;
}

/* The index of the class named name, or −1. */
static int class_index(const struct focal_dataset *d, const char *name)
{
    for (int j = 0; j < d->num_classes; j++)
        if (strcmp(d->class_names[j], name) == 0)
            return j;
    return -1;
}

/* Positives of label j of a multi-label dataset over the samples of split s
 * (−1: all). */
static int label_count(const struct focal_dataset *d, int j, int s)
{
    int n = 0;
    for (int i = 0; i < d->n; i++)
        if (s < 0 || (d->split && d->split[i] == s))
            n += d->labels[(size_t)i * (size_t)d->num_classes + (size_t)j];
    return n;
}

/* Samples of split s. */
static int split_count(const struct focal_dataset *d, int s)
{
    int n = 0;
    for (int i = 0; i < d->n; i++)
        n += d->split && d->split[i] == s;
    return n;
}

/* Copies the first keep bytes of src to dir/name; returns the path. */
static const char *put_prefix(const char *name, const char *src, size_t keep)
{
    size_t len;
    unsigned char *b = read_file(src, &len);
    const char *p = put(name, b, keep < len ? keep : len);
    free(b);
    return p;
}

/* A malformed input: a file name, its text, and what the message says after
 * the file's path. */
struct bad_input {
    const char *name, *text, *after_path;
};

/* Writes each input to the scratch directory and expects focal_dataset_open
 * to fail with status want and a message that starts with the file's path
 * followed by after_path. */
static void expect_bad_inputs(const struct bad_input *bad, size_t n, const struct focal_data_options *opt,
                              focal_status want)
{
    for (size_t k = 0; k < n; k++) {
        const char *p = put_text(bad[k].name, bad[k].text);
        char msg[700];
        snprintf(msg, sizeof msg, "%s%s", p, bad[k].after_path);
        open_fail(p, opt, want, msg, NULL, NULL);
        CHECKF(strncmp(focal_last_error(), msg, strlen(msg)) == 0, "%s: message '%s'", bad[k].name,
               focal_last_error());
    }
}

/* ---- the text table reader --------------------------------------------------- */

/* focal_table_read: quotes, header detection, columns, bad rows. */
static void test_table(void)
{
    struct focal_table t;
    const char *p = put_text("t1.csv", "\xEF\xBB\xBF" "a, \"b,c\" ,d\r\n\r\n1,\"say \"\"hi\"\"\",?\n2,,x\n");
    CHECK(focal_table_read(p, -1, &t) == FOCAL_OK);
    CHECK(t.rows == 2 && t.cols == 3 && t.header != NULL && t.header_line == 1);
    if (t.rows == 2 && t.cols == 3 && t.header) {
        CHECK(strcmp(t.header[0], "a") == 0 && strcmp(t.header[1], "b,c") == 0 && strcmp(t.header[2], "d") == 0);
        CHECK(strcmp(focal_table_at(&t, 0, 1), "say \"hi\"") == 0);
        CHECK(strcmp(focal_table_at(&t, 1, 1), "") == 0 && strcmp(focal_table_at(&t, 1, 2), "x") == 0);
        CHECK(t.line[0] == 3 && t.line[1] == 4);
        CHECK(focal_table_column(&t, 1, 2) == 4);
        double x = 0;
        CHECK(focal_table_number(&t, 0, 2, 1, &x) == FOCAL_OK && isnan(x));
        CHECK(focal_table_number(&t, 1, 2, 1, &x) == FOCAL_ERR_FORMAT);
        char want[600];
        snprintf(want, sizeof want, "%s:4:4: column 'd' has value 'x'; expected a number", p);
        CHECKF(strncmp(focal_last_error(), want, strlen(want)) == 0, "message '%s'", focal_last_error());
    }
    focal_table_release(&t);
    CHECK(t.cell == NULL && t.text == NULL);

    p = put_text("t2.csv", "1,2\n?,4\n");   /* numbers and ? only: no header */
    CHECK(focal_table_read(p, -1, &t) == FOCAL_OK && t.header == NULL && t.rows == 2);
    focal_table_release(&t);
    CHECK(focal_table_read(p, 1, &t) == FOCAL_OK && t.header != NULL && t.rows == 1);
    focal_table_release(&t);

    struct { const char *name, *text, *where, *what; } bad[] = {
        { "t3.csv", "a,b\n1,2\n3\n", ":3:", "row has 1 field; expected 2" },
        { "t4.csv", "a,b\n1,\"2\n", ":2:3:", "quote not closed" },
        { "t5.csv", "a,b\n1,\"2\"x\n", ":2:6:", "text after a closing quote" },
        { "t6.csv", "a,b\n", ":", "no data rows" },
        { "t7.csv", "", ":", "no data rows" },
    };
    for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
        p = put_text(bad[k].name, bad[k].text);
        char want[600];
        snprintf(want, sizeof want, "%s%s", p, bad[k].where);
        CHECKF(focal_table_read(p, -1, &t) == FOCAL_ERR_FORMAT, "%s", bad[k].name);
        CHECKF(strncmp(focal_last_error(), want, strlen(want)) == 0 && strstr(focal_last_error(), bad[k].what),
               "%s: message '%s'", bad[k].name, focal_last_error());
        CHECK(t.cell == NULL && t.rows == 0);
    }
}

/* ---- RFMiD fixtures ---------------------------------------------------------- */

#define RF_HEAD "ID,Disease_Risk,DR,MH,ODC,TV\n"

/* Writes the three label files of a small RFMiD layout in dir/rf with
 * Training/ and images/ image folders. */
static void write_rfmid_layout(void)
{
    mkdir_in("rf");
    mkdir_in("rf/Training");
    mkdir_in("rf/images");
    /* training with a byte-order mark; TV is never positive in training */
    put_text("rf/RFMiD_Training_Labels.csv", "\xEF\xBB\xBF" RF_HEAD
             "1,1,1,0,0,0\n2,0,0,0,0,0\n3,1,1,1,0,0\n4,1,0,1,1,0\n5,1,0,0,1,0\n");
    put_text("rf/RFMiD_Validation_Labels.csv", RF_HEAD "1,1,0,1,0,1\r\n2,0,0,0,0,0\r\n");
    put_text("rf/RFMiD_Testing_Labels.csv", RF_HEAD "7,1,0,0,0,1\n");
    put_text("rf/Training/1.png", "x");
    put_text("rf/Training/2.jpg", "x");
    put_text("rf/Training/3.jpeg", "x");
    put_text("rf/images/7.jpg", "x");
    put_text("rf/notes.csv", "a,b\n1,2\n");   /* not a label file: no ID column */
}

/* Label files of several splits whose images share one folder: an image
 * that exists for an ID of two splits would be trained on and evaluated;
 * refused, naming the file, both label files and the layout to use. IDs
 * whose files are missing do not count (they fail when loading). */
static void test_rfmid_leak(void)
{
    mkdir_in("rfleak");
    mkdir_in("rfleak/images");
    put_text("rfleak/RFMiD_Training_Labels.csv", RF_HEAD "1,1,1,0,0,0\n2,0,0,0,0,0\n");
    put_text("rfleak/RFMiD_Validation_Labels.csv", RF_HEAD "1,1,0,1,0,1\n3,0,0,0,0,0\n");
    put_text("rfleak/images/2.png", "x");
    put_text("rfleak/images/3.png", "x");
    struct focal_dataset *d = open_ok(path_in("rfleak"), NULL);   /* ID 1 has no file: not a leak */
    focal_dataset_free(d);
    put_text("rfleak/images/1.png", "x");
    open_fail(path_in("rfleak"), NULL, FOCAL_ERR_FORMAT, "rfleak/images/1.png would serve ID '1' of both",
              "RFMiD_Training_Labels.csv and ", "put them in Training/, Validation/ and Test/");
    mkdir_in("rfleak/Training");
    mkdir_in("rfleak/Validation");
    d = open_ok(path_in("rfleak"), NULL);   /* split folders: nothing shared */
    focal_dataset_free(d);
}

/* A small RFMiD layout: splits, image lookup, options, class counts. */
static void test_rfmid_fixture(void)
{
    write_rfmid_layout();
    char root[512];
    snprintf(root, sizeof root, "%s", path_in("rf"));
    struct focal_data_options opt;
    memset(&opt, 0, sizeof opt);
    struct focal_dataset *d = open_ok(root, &opt);
    if (!d)
        return;
    CHECK(d->format == FOCAL_FORMAT_RFMID && d->task == FOCAL_TASK_MULTILABEL);
    CHECK(d->n == 8 && d->num_classes == 4);
    CHECK(d->label == NULL && d->labels != NULL && d->risk != NULL && d->split != NULL);
    CHECK(d->features == NULL && d->pixels == NULL);
    const char *names[4] = { "DR", "MH", "ODC", "TV" };
    for (int j = 0; j < 4 && j < d->num_classes; j++)
        CHECKF(strcmp(d->class_names[j], names[j]) == 0, "class %d is %s", j, d->class_names[j]);
    CHECK(split_count(d, FOCAL_SPLIT_TRAIN) == 5 && split_count(d, FOCAL_SPLIT_VAL) == 2 &&
          split_count(d, FOCAL_SPLIT_TEST) == 1);
    if (d->n == 8 && d->num_classes == 4) {
        CHECK(d->split[0] == FOCAL_SPLIT_TRAIN && d->split[5] == FOCAL_SPLIT_VAL && d->split[7] == FOCAL_SPLIT_TEST);
        CHECK(strcmp(d->ids[3], "4") == 0 && strcmp(d->ids[7], "7") == 0);
        CHECK(label_count(d, 0, FOCAL_SPLIT_TRAIN) == 2 && label_count(d, 1, FOCAL_SPLIT_TRAIN) == 2);
        CHECK(label_count(d, 3, FOCAL_SPLIT_TRAIN) == 0 && label_count(d, 3, -1) == 2);  /* TV: none in training */
        CHECK(d->risk[0] == 1 && d->risk[1] == 0 && d->risk[5] == 1);
        /* images: Training/ for training, images/ for the others; .png, .jpg, .jpeg; missing → .png */
        CHECK(strcmp(d->paths[0], join(root, "Training/1.png")) == 0);
        CHECK(strcmp(d->paths[1], join(root, "Training/2.jpg")) == 0);
        CHECK(strcmp(d->paths[2], join(root, "Training/3.jpeg")) == 0);
        CHECK(strcmp(d->paths[3], join(root, "Training/4.png")) == 0);
        CHECK(strcmp(d->paths[5], join(root, "images/1.png")) == 0);
        CHECK(strcmp(d->paths[7], join(root, "images/7.jpg")) == 0);
        double counts[4];
        focal_dataset_class_counts(d, NULL, 0, counts);
        CHECK(counts[0] == 2 && counts[1] == 3 && counts[2] == 2 && counts[3] == 2);
        int idx[2] = { 0, 5 };
        focal_dataset_class_counts(d, idx, 2, counts);
        CHECK(counts[0] == 1 && counts[1] == 1 && counts[2] == 0 && counts[3] == 1);
    }
    focal_dataset_free(d);

    /* the same files as a list, in another order; an explicit image folder */
    char list[1600];
    snprintf(list, sizeof list, "%s,%s,%s", join(root, "RFMiD_Testing_Labels.csv"),
             join(root, "RFMiD_Training_Labels.csv"), join(root, "RFMiD_Validation_Labels.csv"));
    opt.images = join(root, "images");
    if ((d = open_ok(list, &opt)) != NULL) {
        CHECK(d->n == 8 && d->split && d->split[0] == FOCAL_SPLIT_TRAIN && d->split[7] == FOCAL_SPLIT_TEST);
        if (d->n == 8)
            CHECK(strcmp(d->paths[0], join(root, "images/1.png")) == 0);
        focal_dataset_free(d);
    }
    opt.images = NULL;

    /* one file: no splits */
    if ((d = open_ok(join(root, "RFMiD_Validation_Labels.csv"), &opt)) != NULL) {
        CHECK(d->n == 2 && d->split == NULL && d->num_classes == 4);
        focal_dataset_free(d);
    }

    /* include_risk, label_columns, merge_rare */
    opt.include_risk = 1;
    if ((d = open_ok(root, &opt)) != NULL) {
        CHECK(d->num_classes == 5 && d->risk == NULL && strcmp(d->class_names[0], "Disease_Risk") == 0);
        CHECK(label_count(d, 0, FOCAL_SPLIT_TRAIN) == 4);
        focal_dataset_free(d);
    }
    opt.label_columns = "ODC, DR";
    if ((d = open_ok(root, &opt)) != NULL) {
        CHECK(d->num_classes == 3);
        if (d->num_classes == 3)
            CHECK(strcmp(d->class_names[0], "Disease_Risk") == 0 && strcmp(d->class_names[1], "ODC") == 0 &&
                  strcmp(d->class_names[2], "DR") == 0);
        focal_dataset_free(d);
    }
    opt.include_risk = 0;
    opt.label_columns = "MH,Disease_Risk";
    if ((d = open_ok(root, &opt)) != NULL) {
        CHECK(d->num_classes == 2 && d->risk == NULL && strcmp(d->class_names[1], "Disease_Risk") == 0);
        focal_dataset_free(d);
    }
    opt.label_columns = NULL;
    opt.merge_rare = 2;      /* training counts DR 2, MH 2, ODC 2, TV 0: keep DR, MH (earlier columns) */
    if ((d = open_ok(root, &opt)) != NULL) {
        CHECK(d->num_classes == 3);
        if (d->num_classes == 3 && d->n == 8) {
            CHECK(strcmp(d->class_names[0], "DR") == 0 && strcmp(d->class_names[1], "MH") == 0 &&
                  strcmp(d->class_names[2], "OTHER") == 0);
            /* OTHER = ODC or TV */
            const int want[8] = { 0, 0, 0, 1, 1, 1, 0, 1 };
            for (int i = 0; i < 8; i++)
                CHECKF(d->labels[i * 3 + 2] == want[i], "OTHER of sample %d", i);
        }
        focal_dataset_free(d);
    }
    opt.merge_rare = 4;
    open_fail(root, &opt, FOCAL_ERR_ARG, "merge_rare = 4", "expected 1 to 3", NULL);
    opt.merge_rare = -1;
    open_fail(root, &opt, FOCAL_ERR_ARG, "merge_rare = -1", NULL, NULL);
    opt.merge_rare = 0;
    opt.label_columns = "DR,FOO";
    open_fail(root, &opt, FOCAL_ERR_ARG, "label column 'FOO'", "Disease_Risk, DR, MH, ODC, TV", NULL);
    opt.label_columns = "DR,DR";
    open_fail(root, &opt, FOCAL_ERR_ARG, "'DR' is listed twice", NULL, NULL);
    opt.label_columns = NULL;
    opt.images = path_in("no-such-folder");
    open_fail(root, &opt, FOCAL_ERR_IO, "no-such-folder", "image folder not found", NULL);
}

/* Every malformed RFMiD input: the message names the file and the line
 * (and column, name and value where there is one). */
static void test_rfmid_errors(void)
{
    struct focal_data_options opt;
    memset(&opt, 0, sizeof opt);
    opt.format = FOCAL_FORMAT_RFMID;
    static const struct bad_input bad[] = {
        { "cols.csv", RF_HEAD "1,0,0,0,0,0\n2,0,0,0,0\n", ":3: row has 5 fields; expected 6" },
        { "two.csv", "\xEF\xBB\xBF" RF_HEAD "1,0,0,0,0,0\n2,1,0,2,0,0\n",
          ":3:7: column 'MH' has value '2'; expected 0 or 1" },
        { "dup.csv", RF_HEAD "1,0,0,0,0,0\n2,0,0,0,0,0\n\n1,1,1,0,0,0\n", ":5: duplicate ID '1' (also on line 2)" },
        { "noid.csv", "Name,DR\n1,0\n", ":1: no ID column" },
        { "slash.csv", RF_HEAD "a/b,0,0,0,0,0\n", ":2:1: ID 'a/b'" },
        { "dupcol.csv", "ID,DR,DR\n1,0,0\n", ":1: column name 'DR' appears twice" },
        { "empty.csv", "", ": no data rows" },
        { "header_only.csv", RF_HEAD, ": no data rows" },
        { "riskonly.csv", "ID,Disease_Risk\n1,0\n2,1\n", ":1: no condition columns, only ID and Disease_Risk" },
    };
    expect_bad_inputs(bad, sizeof bad / sizeof bad[0], &opt, FOCAL_ERR_FORMAT);
    char want[700];
    const char *p;

    /* files with different columns */
    mkdir_in("mix");
    put_text("mix/a_train.csv", RF_HEAD "1,0,0,0,0,0\n");
    p = put_text("mix/a_test.csv", "ID,Disease_Risk,DR,MH,ODC\n1,0,0,0,0\n");
    snprintf(want, sizeof want, "%s:1: no column 'TV'", p);
    open_fail(path_in("mix"), NULL, FOCAL_ERR_FORMAT, want, "a_train.csv", NULL);

    /* a list whose file names tell no split, or the same split twice */
    char list[1600];
    snprintf(list, sizeof list, "%s,%s", path_in("cols.csv"), path_in("two.csv"));
    open_fail(list, NULL, FOCAL_ERR_ARG, "cannot tell which split", "cols.csv", NULL);
    put_text("x_train.csv", RF_HEAD "1,0,0,0,0,0\n");
    put_text("y_train.csv", RF_HEAD "1,0,0,0,0,0\n");
    snprintf(list, sizeof list, "%s,%s", path_in("x_train.csv"), path_in("y_train.csv"));
    open_fail(list, NULL, FOCAL_ERR_ARG, "both hold the Training split", NULL, NULL);
    snprintf(list, sizeof list, "%s,%s", path_in("x_train.csv"), path_in("missing_test.csv"));
    open_fail(list, NULL, FOCAL_ERR_IO, "missing_test.csv", "cannot open", NULL);
    opt.include_risk = 1;
    p = put_text("norisk_train.csv", "ID,DR\n1,0\n");
    open_fail(p, &opt, FOCAL_ERR_ARG, "norisk_train.csv", "no Disease_Risk column", NULL);
    /* Disease_Risk alone is a valid one-label task when asked for */
    p = put_text("riskonly_train.csv", "ID,Disease_Risk\n1,0\n2,1\n");
    struct focal_dataset *d = NULL;
    CHECK(focal_dataset_open(p, &opt, &d) == FOCAL_OK);
    CHECK(d && d->num_classes == 1 && d->n == 2 && strcmp(d->class_names[0], "Disease_Risk") == 0);
    focal_dataset_free(d);
}

/* ---- the real RFMiD label files --------------------------------------------- */

static void test_rfmid_real(void)
{
    if (!shared_dir) {
        printf("skip: real RFMiD label files (../shared/data not found)\n");
        return;
    }
    char root[512];
    snprintf(root, sizeof root, "%s/rfmid", shared_dir);
    char wbuf[1024];
    const char *cols[64], *top[64];
    long counts[64];
    const int ncols = expected_words("rfmid-train columns", wbuf, sizeof wbuf, cols, 64);
    char tbuf[1024];
    const int ntop = expected_words("rfmid-train top27", tbuf, sizeof tbuf, top, 64);
    const int ncounts = expected_ints("rfmid-train counts", counts, 64);
    long other = -1, normal = -1;
    expected_ints("rfmid-train other", &other, 1);
    expected_ints("rfmid-train normal", &normal, 1);
    CHECKF(ncols == 45 && ncounts == 45 && ntop == 27, "expected.txt: %d columns, %d counts, %d top", ncols, ncounts,
           ntop);

    struct focal_data_options opt;
    memset(&opt, 0, sizeof opt);
    /* the shared folder keeps ten training photographs in one images/
     * folder: as laid out, validation and test IDs 1..10 would read them too */
    open_fail(root, &opt, FOCAL_ERR_FORMAT, "images/1.png would serve ID '1' of both",
              "put them in Training/, Validation/ and Test/", NULL);
    /* the labels alone, with an image folder laid out by split */
    mkdir_in("rfreal");
    mkdir_in("rfreal/Training");
    mkdir_in("rfreal/Validation");
    mkdir_in("rfreal/Test");
    opt.images = path_in("rfreal");
    struct focal_dataset *d = open_ok(root, &opt);   /* the folder, detected */
    if (d) {
        CHECK(d->format == FOCAL_FORMAT_RFMID && d->n == 3200 && d->num_classes == 45 && d->risk);
        CHECK(split_count(d, FOCAL_SPLIT_TRAIN) == 1920 && split_count(d, FOCAL_SPLIT_VAL) == 640 &&
              split_count(d, FOCAL_SPLIT_TEST) == 640);
        for (int j = 0; j < ncols && j < d->num_classes; j++) {
            CHECKF(strcmp(d->class_names[j], cols[j]) == 0, "column %d: %s, expected %s", j, d->class_names[j], cols[j]);
            CHECKF(label_count(d, j, FOCAL_SPLIT_TRAIN) == counts[j], "%s: %d positives, expected %ld", cols[j],
                   label_count(d, j, FOCAL_SPLIT_TRAIN), counts[j]);
        }
        const int dr = class_index(d, "DR");
        CHECK(dr == 0 && label_count(d, dr, FOCAL_SPLIT_TRAIN) == 376);
        int risk = 0, none = 0;
        for (int i = 0; i < d->n; i++) {
            if (d->split[i] != FOCAL_SPLIT_TRAIN)
                continue;
            risk += d->risk[i];
            int any = 0;
            for (int j = 0; j < d->num_classes; j++)
                any |= d->labels[(size_t)i * 45 + (size_t)j];
            none += !any;
        }
        CHECK(risk == 1519 && none == normal && normal == 401);
        CHECK(label_count(d, class_index(d, "HR"), FOCAL_SPLIT_TRAIN) == 0);   /* no training examples: kept */
        CHECK(strcmp(d->paths[0], join(opt.images, "Training/1.png")) == 0 && strcmp(d->ids[1919], "1920") == 0);
        focal_dataset_free(d);
    }

    opt.merge_rare = 27;
    if ((d = open_ok(root, &opt)) != NULL) {
        CHECK(d->num_classes == 28 && strcmp(d->class_names[27], "OTHER") == 0);
        for (int j = 0; j < ntop && j < d->num_classes; j++)
            CHECKF(strcmp(d->class_names[j], top[j]) == 0, "kept %d: %s, expected %s", j, d->class_names[j], top[j]);
        CHECK(d->num_classes == 28 && label_count(d, 27, FOCAL_SPLIT_TRAIN) == other && other == 34);
        focal_dataset_free(d);
    }
    opt.include_risk = 1;
    if ((d = open_ok(root, &opt)) != NULL) {
        CHECK(d->num_classes == 29 && d->risk == NULL && strcmp(d->class_names[0], "Disease_Risk") == 0);
        CHECK(label_count(d, 0, FOCAL_SPLIT_TRAIN) == 1519);
        focal_dataset_free(d);
    }
    opt.merge_rare = 0;
    opt.include_risk = 0;
    opt.label_columns = "MH,DR,ODC";
    opt.images = NULL;   /* one split: its images may be anywhere */
    if ((d = open_ok(join(root, "RFMiD_Training_Labels.csv"), &opt)) != NULL) {  /* one file, detected by its ID column */
        CHECK(d->n == 1920 && d->split == NULL && d->num_classes == 3);
        CHECK(label_count(d, 0, -1) == 317 && label_count(d, 1, -1) == 376 && label_count(d, 2, -1) == 282);
        CHECK(strcmp(d->paths[9], join(root, "images/10.png")) == 0);
        focal_dataset_free(d);
    }
    opt.label_columns = "DR,XYZ";
    open_fail(root, &opt, FOCAL_ERR_ARG, "label column 'XYZ'", "DR, ARMD, MH", NULL);
}

/* ---- class folders -------------------------------------------------------------- */

/* Class folders, with and without train/ val/ test/ splits. */
static void test_folders(void)
{
    mkdir_in("cf");
    mkdir_in("cf/dog");
    mkdir_in("cf/cat");
    mkdir_in("cf/empty");
    mkdir_in("cf/.hidden");
    put_text("cf/dog/b.jpg", "x");
    put_text("cf/dog/a.PNG", "x");
    put_text("cf/dog/notes.txt", "x");
    put_text("cf/cat/z.jpeg", "x");
    put_text("cf/.hidden/q.png", "x");
    put_text("cf/readme.txt", "x");
    /* two classes are a binary task whose positive class is the rarer (cat: 1 of 3) */
    struct focal_dataset *d = open_ok(path_in("cf"), NULL);
    if (d) {
        CHECK(d->format == FOCAL_FORMAT_FOLDERS && d->task == FOCAL_TASK_BINARY);
        CHECK(d->n == 3 && d->num_classes == 2 && d->split == NULL && d->label && !d->labels);
        if (d->n == 3 && d->num_classes == 2) {
            CHECK(strcmp(d->class_names[0], "dog") == 0 && strcmp(d->class_names[1], "cat") == 0);
            CHECK(d->label[0] == 1 && d->label[1] == 0 && d->label[2] == 0);
            CHECK(strcmp(d->ids[0], "cat/z.jpeg") == 0 && strcmp(d->ids[1], "dog/a.PNG") == 0);
            CHECK(strcmp(d->paths[2], join(path_in("cf"), "dog/b.jpg")) == 0);
        }
        focal_dataset_free(d);
    }
    /* the positive class by name; a two-way softmax keeps the sorted classes */
    struct focal_data_options two;
    memset(&two, 0, sizeof two);
    two.positive = "dog";
    if ((d = open_ok(path_in("cf"), &two)) != NULL) {
        CHECK(d->task == FOCAL_TASK_BINARY && strcmp(d->class_names[1], "dog") == 0);
        CHECK(d->label[0] == 0 && d->label[1] == 1 && d->label[2] == 1);
        focal_dataset_free(d);
    }
    two.positive = NULL;
    two.two_class_softmax = 1;
    if ((d = open_ok(path_in("cf"), &two)) != NULL) {
        CHECK(d->task == FOCAL_TASK_MULTICLASS);
        CHECK(strcmp(d->class_names[0], "cat") == 0 && strcmp(d->class_names[1], "dog") == 0);
        CHECK(d->label[0] == 0 && d->label[1] == 1 && d->label[2] == 1);
        focal_dataset_free(d);
    }
    two.two_class_softmax = 0;
    two.positive = "cow";
    open_fail(path_in("cf"), &two, FOCAL_ERR_ARG, "no class 'cow' to be the positive one; expected cat or dog",
              NULL, NULL);

    mkdir_in("sp");
    const char *dirs[] = { "sp/train", "sp/val", "sp/test", "sp/train/a", "sp/train/b", "sp/val/a", "sp/test/c" };
    for (size_t k = 0; k < sizeof dirs / sizeof dirs[0]; k++)
        mkdir_in(dirs[k]);
    put_text("sp/train/a/1.png", "x");
    put_text("sp/train/a/2.png", "x");
    put_text("sp/train/b/1.png", "x");
    put_text("sp/val/a/9.png", "x");
    put_text("sp/test/c/5.jpg", "x");
    if ((d = open_ok(path_in("sp"), NULL)) != NULL) {
        CHECK(d->n == 5 && d->num_classes == 3 && d->split != NULL);
        if (d->n == 5 && d->split) {
            CHECK(d->split[0] == FOCAL_SPLIT_TRAIN && d->split[2] == FOCAL_SPLIT_TRAIN &&
                  d->split[3] == FOCAL_SPLIT_VAL && d->split[4] == FOCAL_SPLIT_TEST);
            CHECK(d->label[2] == 1 && d->label[3] == 0 && d->label[4] == 2);
            CHECK(strcmp(d->ids[3], "val/a/9.png") == 0);
        }
        focal_dataset_free(d);
    }
    mkdir_in("sp/extra");
    char want[600];
    snprintf(want, sizeof want, "%s: unexpected folder beside train/", path_in("sp/extra"));
    open_fail(path_in("sp"), NULL, FOCAL_ERR_FORMAT, want, NULL, NULL);

    mkdir_in("none");
    mkdir_in("none/a");
    snprintf(want, sizeof want, "%s: no images", path_in("none"));
    open_fail(path_in("none"), NULL, FOCAL_ERR_FORMAT, want, "root/<class>/<image>", NULL);
}

/* ---- MedMNIST .npz ---------------------------------------------------------------- */

/* Checks split `split` of a dataset read from fixture `file` (samples first
 * .. first + count) against the shapes and first values expected.txt lists;
 * ldims is the number of dimensions of the labels array. */
static void check_npz_values(const struct focal_dataset *d, const char *file, const char *split, int first, int count,
                             int ldims)
{
    long v[32];
    char key[96];
    snprintf(key, sizeof key, "%s %s_images", file, split);
    int n = expected_ints(key, v, 32);
    const int dims = d->channels == 3 ? 4 : 3;
    CHECKF(n > dims && v[0] == count && v[1] == d->height && v[2] == d->width, "expected.txt: %s", key);
    const size_t base = (size_t)first * (size_t)d->height * (size_t)d->width * (size_t)d->channels;
    for (int k = dims; k < n; k++)
        CHECKF(d->pixels[base + (size_t)(k - dims)] == v[k], "%s pixel %d", key, k - dims);
    snprintf(key, sizeof key, "%s %s_labels", file, split);
    n = expected_ints(key, v, 32);
    CHECKF(n > ldims && v[0] == count, "expected.txt: %s", key);
    for (int k = ldims; k < n; k++) {
        const int got = d->labels ? d->labels[(size_t)first * (size_t)d->num_classes + (size_t)(k - ldims)]
                                  : d->label[first + k - ldims];
        CHECKF(got == v[k], "%s label %d: %d, expected %ld", key, k - ldims, got, v[k]);
    }
}

/* The committed .npz fixtures (deflated, stored, multi-label), their bad
 * variants, and the real RetinaMNIST file. */
static void test_npz(void)
{
    struct focal_dataset *d = open_ok(fixture("tiny.npz"), NULL);
    if (d) {
        CHECK(d->format == FOCAL_FORMAT_NPZ && d->task == FOCAL_TASK_MULTICLASS);
        CHECK(d->n == 11 && d->height == 5 && d->width == 4 && d->channels == 3 && d->num_classes == 3);
        CHECK(d->paths == NULL && d->split && d->label);
        if (d->n == 11) {
            CHECK(split_count(d, FOCAL_SPLIT_TRAIN) == 6 && split_count(d, FOCAL_SPLIT_VAL) == 2 &&
                  split_count(d, FOCAL_SPLIT_TEST) == 3);
            CHECK(strcmp(d->ids[0], "train/0") == 0 && strcmp(d->ids[7], "val/1") == 0 &&
                  strcmp(d->ids[10], "test/2") == 0);
            CHECK(strcmp(d->class_names[2], "2") == 0);
            check_npz_values(d, "tiny.npz", "train", 0, 6, 2);
            check_npz_values(d, "tiny.npz", "val", 6, 2, 2);
            check_npz_values(d, "tiny.npz", "test", 8, 3, 2);
        }
        focal_dataset_free(d);
    }
    if ((d = open_ok(fixture("tiny_stored.npz"), NULL)) != NULL) {   /* stored members, gray, int64 (N,) labels */
        CHECK(d->n == 5 && d->channels == 1 && d->height == 3 && d->width == 2 && d->num_classes == 4);
        CHECK(split_count(d, FOCAL_SPLIT_VAL) == 0 && split_count(d, FOCAL_SPLIT_TEST) == 1);
        if (d->n == 5) {
            check_npz_values(d, "tiny_stored.npz", "train", 0, 4, 1);
            check_npz_values(d, "tiny_stored.npz", "test", 4, 1, 1);
        }
        focal_dataset_free(d);
    }
    if ((d = open_ok(fixture("tiny_multilabel.npz"), NULL)) != NULL) {
        CHECK(d->task == FOCAL_TASK_MULTILABEL && d->n == 5 && d->num_classes == 3 && d->labels && !d->label);
        if (d->n == 5)
            check_npz_values(d, "tiny_multilabel.npz", "train", 0, 5, 2);
        focal_dataset_free(d);
    }

    char want[700];
    const char *p = fixture("npz_missing_key.npz");
    snprintf(want, sizeof want, "%s: no 'val_labels' array", p);
    open_fail(p, NULL, FOCAL_ERR_FORMAT, want, "val_images.npy", NULL);
    p = fixture("npz_wrong_dtype.npz");
    snprintf(want, sizeof want, "%s: 'train_images' has dtype '<f4'; expected '|u1'", p);
    open_fail(p, NULL, FOCAL_ERR_FORMAT, want, NULL, NULL);

    /* truncated at several places, and one flipped byte inside a member */
    size_t len;
    unsigned char *b = read_file(fixture("tiny.npz"), &len);
    const size_t cuts[] = { 0, 3, 30, len / 2, len - 30, len - 1 };
    for (size_t k = 0; k < sizeof cuts / sizeof cuts[0]; k++) {
        p = put("cut.npz", b, cuts[k]);
        struct focal_dataset *x = (struct focal_dataset *)1;
        focal_status st = focal_dataset_open(p, NULL, &x);
        CHECKF(st == FOCAL_ERR_FORMAT && x == NULL, "cut at %zu: status %d", cuts[k], (int)st);
        CHECKF(strncmp(focal_last_error(), p, strlen(p)) == 0, "cut at %zu: '%s'", cuts[k], focal_last_error());
    }
    /* the first central directory entry: ZIP64 sizes, an unsupported method */
    size_t cd = 0;
    while (cd + 4 < len && memcmp(b + cd, "PK\1\2", 4) != 0)
        cd++;
    CHECK(cd + 46 < len);
    unsigned char saved[4];
    memcpy(saved, b + cd + 20, 4);
    memset(b + cd + 20, 0xff, 4);
    p = put("zip64.npz", b, len);
    snprintf(want, sizeof want, "%s: member 'train_images.npy' uses ZIP64 sizes", p);
    open_fail(p, NULL, FOCAL_ERR_FORMAT, want, NULL, NULL);
    memcpy(b + cd + 20, saved, 4);
    b[cd + 10] = 12;
    p = put("bzip2.npz", b, len);
    snprintf(want, sizeof want, "%s: member 'train_images.npy' uses compression method 12", p);
    open_fail(p, NULL, FOCAL_ERR_FORMAT, want, "expected 0 (stored) or 8 (deflate)", NULL);
    b[cd + 10] = 8;
    b[200] ^= 0x55;
    p = put("flip.npz", b, len);
    snprintf(want, sizeof want, "%s: member 'train_images.npy'", p);
    open_fail(p, NULL, FOCAL_ERR_FORMAT, want, "corrupt", NULL);
    free(b);
    p = put_text("notzip.npz", "hello, world\n");
    snprintf(want, sizeof want, "%s: not a zip archive", p);
    open_fail(p, NULL, FOCAL_ERR_FORMAT, want, NULL, NULL);

    if (!shared_dir) {
        printf("skip: real RetinaMNIST (../shared/data not found)\n");
        return;
    }
    if ((d = open_ok(join(shared_dir, "medmnist/retinamnist.npz"), NULL)) != NULL) {
        CHECK(d->n == 1600 && d->height == 28 && d->width == 28 && d->channels == 3 && d->num_classes == 5);
        const char *splits[3] = { "train", "val", "test" };
        const int sizes[3] = { 1080, 120, 400 };
        int first = 0;
        for (int s = 0; s < 3; s++) {
            long want_counts[5];
            char key[64];
            snprintf(key, sizeof key, "retinamnist %s counts", splits[s]);
            CHECK(expected_ints(key, want_counts, 5) == 5);
            CHECK(split_count(d, s) == sizes[s]);
            int *idx = malloc((size_t)sizes[s] * sizeof *idx);
            for (int i = 0; i < sizes[s]; i++)
                idx[i] = first + i;
            double c[5];
            focal_dataset_class_counts(d, idx, sizes[s], c);
            for (int j = 0; j < 5; j++)
                CHECKF(c[j] == want_counts[j], "%s class %d: %g, expected %ld", splits[s], j, c[j], want_counts[j]);
            free(idx);
            first += sizes[s];
        }
        double c[5];
        int idx[1] = { 0 };
        focal_dataset_class_counts(d, idx, 1, c);
        CHECK(c[0] + c[1] + c[2] + c[3] + c[4] == 1);
        focal_dataset_free(d);
    }
}

/* ---- MNIST idx -------------------------------------------------------------------------- */

/* The committed idx fixtures (gzip and plain), bad ones, and MNIST t10k. */
static void test_idx(void)
{
    long img[32], lab[16];
    const int ni = expected_ints("tiny-idx images", img, 32), nl = expected_ints("tiny-idx labels", lab, 16);
    CHECK(ni > 3 && nl == 6);
    const char *paths[2] = { fixture("tiny-images-idx3-ubyte.gz"), fixture("plain/tiny-images-idx3-ubyte") };
    for (int k = 0; k < 2; k++) {
        struct focal_dataset *d = open_ok(paths[k], NULL);
        if (!d)
            continue;
        CHECK(d->format == FOCAL_FORMAT_IDX && d->task == FOCAL_TASK_MULTICLASS && d->split == NULL);
        CHECK(d->n == img[0] && d->height == img[1] && d->width == img[2] && d->channels == 1);
        CHECK(d->num_classes == 10 && strcmp(d->class_names[9], "9") == 0 && strcmp(d->ids[4], "4") == 0);
        for (int i = 3; i < ni; i++)
            CHECK(d->pixels[i - 3] == img[i]);
        for (int i = 0; i < d->n && i + 1 < nl; i++)
            CHECK(d->label[i] == lab[i + 1]);
        focal_dataset_free(d);
    }
    /* the labels file with and without .gz beside a plain images file */
    put_prefix("x-images-idx3-ubyte", fixture("plain/tiny-images-idx3-ubyte"), 1000);
    put_prefix("x-labels-idx1-ubyte.gz", fixture("tiny-labels-idx1-ubyte.gz"), 1000);
    struct focal_dataset *d = open_ok(path_in("x-images-idx3-ubyte"), NULL);
    CHECK(d && d->n == 5);
    focal_dataset_free(d);

    char want[700];
    const char *p = fixture("short-images-idx3-ubyte.gz");
    snprintf(want, sizeof want, "%s: 4 labels for the 5 images of %s", fixture("short-labels-idx1-ubyte.gz"), p);
    open_fail(p, NULL, FOCAL_ERR_FORMAT, want, NULL, NULL);

    size_t len;
    unsigned char *b = read_file(fixture("tiny-images-idx3-ubyte.gz"), &len);
    put_prefix("y-labels-idx1-ubyte.gz", fixture("tiny-labels-idx1-ubyte.gz"), 1000);
    for (size_t cut = 5; cut < len; cut += 9) {
        p = put("y-images-idx3-ubyte.gz", b, cut);
        struct focal_dataset *x = (struct focal_dataset *)1;
        focal_status st = focal_dataset_open(p, NULL, &x);
        CHECKF(st == FOCAL_ERR_FORMAT && x == NULL, "gzip cut at %zu: status %d (%s)", cut, (int)st,
               focal_last_error());
        CHECKF(strncmp(focal_last_error(), p, strlen(p)) == 0 && strstr(focal_last_error(), "truncated"),
               "gzip cut at %zu: '%s'", cut, focal_last_error());
    }
    free(b);
    b = read_file(fixture("plain/tiny-images-idx3-ubyte"), &len);
    p = put("z-images-idx3-ubyte", b, len - 1);
    put_prefix("z-labels-idx1-ubyte", fixture("plain/tiny-labels-idx1-ubyte"), 1000);
    snprintf(want, sizeof want, "%s: holds 29 bytes of data; its header's dimensions need 30 (truncated)", p);
    open_fail(p, NULL, FOCAL_ERR_FORMAT, want, NULL, NULL);
    b[3] = 1;
    p = put("w-images-idx3-ubyte", b, len);
    snprintf(want, sizeof want, "%s: not an idx3 file", p);
    open_fail(p, NULL, FOCAL_ERR_FORMAT, want, "0x00000803", NULL);
    free(b);
    p = put_text("lonely-images-idx3-ubyte", "x");
    open_fail(p, NULL, FOCAL_ERR_FORMAT, "lonely-images-idx3-ubyte", NULL, NULL);
    open_fail(path_in("q-images-idx3-ubyte.gz"), NULL, FOCAL_ERR_IO, "q-images-idx3-ubyte.gz", "cannot open", NULL);

    if (!shared_dir) {
        printf("skip: real MNIST t10k (../shared/data not found)\n");
        return;
    }
    long want_counts[10];
    CHECK(expected_ints("mnist-t10k counts", want_counts, 10) == 10);
    if ((d = open_ok(join(shared_dir, "mnist/t10k-images-idx3-ubyte.gz"), NULL)) != NULL) {
        CHECK(d->n == 10000 && d->height == 28 && d->width == 28 && d->num_classes == 10);
        double c[10];
        focal_dataset_class_counts(d, NULL, 0, c);
        for (int j = 0; j < 10; j++)
            CHECKF(c[j] == want_counts[j], "digit %d: %g, expected %ld", j, c[j], want_counts[j]);
        focal_dataset_free(d);
    }
}

/* ---- CSV tables --------------------------------------------------------------------------- */

/* CSV tables: targets, missing values, bad values, the real tables. */
static void test_tables(void)
{
    const char *p = put_text("iris.csv", "sl,sw,species\n5.1,3.5,setosa\n?,3.0,virginica\n6.3,,versicolor\n"
                                         "5.0,3.4,setosa\n");
    struct focal_dataset *d = open_ok(p, NULL);
    if (d) {
        CHECK(d->format == FOCAL_FORMAT_CSV && d->task == FOCAL_TASK_MULTICLASS && d->n == 4 && d->n_features == 2);
        CHECK(d->num_classes == 3 && d->feature_names && d->paths == NULL && d->pixels == NULL);
        if (d->n == 4 && d->num_classes == 3 && d->feature_names) {
            CHECK(strcmp(d->class_names[0], "setosa") == 0 && strcmp(d->class_names[2], "virginica") == 0);
            CHECK(d->label[0] == 0 && d->label[1] == 2 && d->label[2] == 1 && d->label[3] == 0);
            CHECK(isnan(d->features[2]) && isnan(d->features[5]) && d->features[0] == 5.1f);
            CHECK(strcmp(d->feature_names[1], "sw") == 0 && strcmp(d->ids[0], "2") == 0);
        }
        focal_dataset_free(d);
    }
    struct focal_data_options opt;
    memset(&opt, 0, sizeof opt);
    opt.header = -1;
    char want[700];
    p = put_text("num.csv", "a,b,c\n1,2,0\n?,3,1\n4,2,1\n5,3.5,0\n");
    opt.target = "a";    /* by name; the target must have a value on every row */
    snprintf(want, sizeof want, "%s:3:1: target column 'a' has no value", p);
    open_fail(p, &opt, FOCAL_ERR_FORMAT, want, NULL, NULL);
    opt.target = "2";    /* by index: numeric classes sorted by value */
    if ((d = open_ok(p, &opt)) != NULL) {
        CHECK(d->task == FOCAL_TASK_MULTICLASS && d->num_classes == 3 && d->n_features == 2);
        if (d->num_classes == 3 && d->n == 4 && d->feature_names && d->n_features == 2) {
            CHECK(strcmp(d->class_names[0], "2") == 0 && strcmp(d->class_names[2], "3.5") == 0);
            CHECK(d->label[0] == 0 && d->label[1] == 1 && d->label[3] == 2);
            CHECK(strcmp(d->feature_names[0], "a") == 0 && strcmp(d->feature_names[1], "c") == 0);
            CHECK(isnan(d->features[2]) && d->features[3] == 1.0f);
        }
        focal_dataset_free(d);
    }
    opt.target = "3";
    opt.header = 0;
    snprintf(want, sizeof want, "%s:1:1: column 1 has value 'a'", p);
    open_fail(p, &opt, FOCAL_ERR_FORMAT, want, "expected a number", NULL);
    opt.header = -1;
    opt.target = "petal";
    open_fail(p, &opt, FOCAL_ERR_ARG, "no target column 'petal'", "a, b, c", NULL);
    p = put_text("iris2.csv", "sl,species\n1,setosa\n2,virginica\n");
    opt.target = "1";
    snprintf(want, sizeof want, "%s:2:3: column 'species' has value 'setosa'", p);
    open_fail(p, &opt, FOCAL_ERR_FORMAT, want, NULL, NULL);

    static const struct bad_input bad[] = {
        { "bad.csv", "1,2,0\n3,abc,1\n",
          ":2:3: column 2 has value 'abc'; expected a number (or ? or an empty field" },
        { "cols2.csv", "1,2,0\n3,1\n", ":2: row has 2 fields; expected 3" },
        { "blank.csv", "\n  \n", ": no data rows" },
        { "one.csv", "1,0\n2,0\n", ": the target column holds only the value '0'" },
        { "huge.csv", "1e39,0\n2,1\n", ":1:1: value '1e39' is beyond the float range" },
    };
    expect_bad_inputs(bad, sizeof bad / sizeof bad[0], NULL, FOCAL_ERR_FORMAT);
    p = put_text("data.txt", "1,0\n2,1\n");   /* any other name: by content, a table */
    if ((d = open_ok(p, NULL)) != NULL) {
        CHECK(d->format == FOCAL_FORMAT_CSV && d->task == FOCAL_TASK_BINARY && d->feature_names == NULL);
        focal_dataset_free(d);
    }

    if (!shared_dir) {
        printf("skip: real tabular CSVs (../shared/data not found)\n");
        return;
    }
    if ((d = open_ok(join(shared_dir, "tabular/pima-indians-diabetes.csv"), NULL)) != NULL) {
        CHECK(d->task == FOCAL_TASK_BINARY && d->n == 768 && d->n_features == 8 && d->num_classes == 2);
        CHECK(d->feature_names == NULL && strcmp(d->class_names[1], "1") == 0);
        double c[2];
        focal_dataset_class_counts(d, NULL, 0, c);
        CHECK(c[0] == 500 && c[1] == 268);
        CHECK(d->features[0] == 6.0f && d->features[5] == 33.6f);
        focal_dataset_free(d);
    }
    const char *bc = join(shared_dir, "tabular/breast-cancer-wisconsin.csv");
    if ((d = open_ok(bc, NULL)) != NULL) {
        CHECK(d->task == FOCAL_TASK_BINARY && d->n == 699 && d->n_features == 9);
        CHECK(strcmp(d->class_names[0], "2") == 0 && strcmp(d->class_names[1], "4") == 0);
        size_t len, marks = 0, nans = 0;
        unsigned char *text = read_file(bc, &len);
        for (size_t k = 0; k < len; k++)
            marks += text[k] == '?';
        free(text);
        for (size_t k = 0; k < (size_t)d->n * (size_t)d->n_features; k++)
            nans += isnan(d->features[k]);
        CHECK(nans == marks && marks == 16);
        double c[2];
        focal_dataset_class_counts(d, NULL, 0, c);
        CHECK(c[0] == 458 && c[1] == 241);
        focal_dataset_free(d);
    }
    if ((d = open_ok(join(shared_dir, "tabular/haberman.csv"), NULL)) != NULL) {
        double c[2];
        focal_dataset_class_counts(d, NULL, 0, c);
        CHECK(d->n == 306 && d->n_features == 3 && c[0] == 225 && c[1] == 81);
        focal_dataset_free(d);
    }
}

/* ---- detection and forcing ------------------------------------------------------------------ */

/* Format detection by content, forced formats, paths that are nothing. */
static void test_detect(void)
{
    struct focal_data_options opt;
    memset(&opt, 0, sizeof opt);
    opt.header = -1;
    /* by content when the name says nothing */
    put_prefix("archive.bin", fixture("tiny.npz"), 1u << 20);
    struct focal_dataset *d = open_ok(path_in("archive.bin"), &opt);
    CHECK(d && d->format == FOCAL_FORMAT_NPZ);
    focal_dataset_free(d);
    /* forcing a format the file is not */
    opt.format = FOCAL_FORMAT_NPZ;
    open_fail(path_in("iris.csv"), &opt, FOCAL_ERR_FORMAT, "iris.csv: not a zip archive", NULL, NULL);
    opt.format = FOCAL_FORMAT_CSV;
    opt.target = "DR";
    if ((d = open_ok(path_in("rf/RFMiD_Training_Labels.csv"), &opt)) != NULL) {   /* an RFMiD file read as a table */
        CHECK(d->format == FOCAL_FORMAT_CSV && d->task == FOCAL_TASK_BINARY && d->n == 5 && d->n_features == 5);
        CHECK(d->feature_names && strcmp(d->feature_names[0], "ID") == 0);
        focal_dataset_free(d);
    }
    opt.target = NULL;
    opt.format = (enum focal_format)99;
    open_fail(path_in("iris.csv"), &opt, FOCAL_ERR_ARG, "unknown dataset format 99", NULL, NULL);
    opt.format = FOCAL_FORMAT_AUTO;
    open_fail(path_in("nothing-here"), &opt, FOCAL_ERR_IO, "nothing-here: cannot open", NULL, NULL);
    open_fail("", &opt, FOCAL_ERR_ARG, "dataset path is empty", NULL, NULL);
    /* a folder of neither kind */
    mkdir_in("plainfolder");
    put_text("plainfolder/a.csv", "1,2\n");
    open_fail(path_in("plainfolder"), &opt, FOCAL_ERR_FORMAT, "no images", "or RFMiD label CSVs", NULL);
}

int main(void)
{
    source_dir = check_source_dir("test_dataset");
    if (!source_dir)
        return 1;
    const char *shared = getenv("FOCAL_SHARED_DATA");
    struct stat sb;
    shared_dir = shared && *shared && stat(shared, &sb) == 0 && S_ISDIR(sb.st_mode) ? shared : NULL;
    if (make_scratch_dir("focal-dataset") != 0)
        return 1;
    test_table();
    test_rfmid_fixture();
    test_rfmid_errors();
    test_rfmid_leak();
    test_rfmid_real();
    test_folders();
    test_npz();
    test_idx();
    test_tables();
    test_detect();
    remove_tree(dir);
    return check_done("test_dataset");
}
