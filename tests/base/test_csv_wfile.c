/* test_csv_wfile.c — focal_csv_read (happy path, CRLF, blank lines, byte-order
 * mark, every malformed-input message with its path:line:column) and
 * focal_wfile (commit, abort, failure cases, no temporary files left behind). */
#define _POSIX_C_SOURCE 200809L

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "focal.h"
#include "check.h"
#include "testfs.h"

/* put() for a NUL-terminated text. */
static const char *puts_file(const char *name, const char *text)
{
    return put(name, text, strlen(text));
}

/* The whole content of a file into buf (size n) as text, cut to n − 1 bytes;
 * "" if it cannot be read. */
static const char *slurp(const char *p, char *buf, size_t n)
{
    size_t len;
    unsigned char *b = try_read_file(p, &len);
    if (len > n - 1)
        len = n - 1;
    if (b)
        memcpy(buf, b, len);
    buf[len] = '\0';
    free(b);
    return buf;
}

/* Reads text as a CSV file and expects FOCAL_ERR_FORMAT with a message that
 * starts "<path>:<where>" and contains `contains`; checks *m is left empty. */
static void expect_format(const char *name, const char *text, const char *where, const char *contains)
{
    struct focal_csv_matrix m = { 7, 7, NULL };
    const char *p = puts_file(name, text);
    char prefix[600];
    snprintf(prefix, sizeof prefix, "%s:%s", p, where);
    focal_status st = focal_csv_read(p, &m);
    CHECKF(st == FOCAL_ERR_FORMAT, "%s: status %d", name, (int)st);
    const char *msg = focal_last_error();
    CHECKF(strncmp(msg, prefix, strlen(prefix)) == 0, "%s: message '%s', expected prefix '%s'",
           name, msg, prefix);
    CHECKF(strstr(msg, contains) != NULL, "%s: message '%s' lacks '%s'", name, msg, contains);
    CHECK(m.rows == 0 && m.cols == 0 && m.data == NULL);
    focal_csv_release(&m);
}

/* Well-formed inputs, including CRLF, blank lines and a byte-order mark. */
static void test_csv_ok(void)
{
    struct focal_csv_matrix m;
    const char *p = puts_file("a.csv", "1,2,3\n4,5.5,-6e-1\n");
    CHECK(focal_csv_read(p, &m) == FOCAL_OK);
    CHECK(m.rows == 2 && m.cols == 3);
    if (m.data && m.rows == 2 && m.cols == 3) {
        CHECK(m.data[0] == 1.0 && m.data[2] == 3.0 && m.data[4] == 5.5);
        CHECK(check_close(m.data[5], -0.6, 0, 1e-15));
    }
    focal_csv_release(&m);
    CHECK(m.data == NULL && m.rows == 0);

    p = puts_file("b.csv", "\xEF\xBB\xBF" "1.5, -2\r\n\r\n  \t\r\n\n3e2 ,\t4\r\n\n");
    CHECK(focal_csv_read(p, &m) == FOCAL_OK);
    CHECK(m.rows == 2 && m.cols == 2);
    if (m.data && m.rows == 2 && m.cols == 2)
        CHECK(m.data[0] == 1.5 && m.data[1] == -2.0 && m.data[2] == 300.0 && m.data[3] == 4.0);
    focal_csv_release(&m);

    p = puts_file("c.csv", "7");   /* one value, no line end */
    CHECK(focal_csv_read(p, &m) == FOCAL_OK);
    CHECK(m.rows == 1 && m.cols == 1 && m.data && m.data[0] == 7.0);
    focal_csv_release(&m);

    /* a larger file, to exercise growth of the buffers */
    FILE *fp = fopen(path_in("big.csv"), "w");
    CHECK(fp != NULL);
    if (fp) {
        for (int i = 0; i < 5000; i++)
            fprintf(fp, "%d,%d.25,-%d\n", i, i, i);
        fclose(fp);
        CHECK(focal_csv_read(path_in("big.csv"), &m) == FOCAL_OK);
        CHECK(m.rows == 5000 && m.cols == 3);
        if (m.data && m.rows == 5000)
            CHECK(m.data[3 * 4999 + 1] == 4999.25 && m.data[3 * 4999 + 2] == -4999.0);
        focal_csv_release(&m);
    }
    focal_csv_release(NULL);
}

/* Every malformed input gets FOCAL_ERR_FORMAT and a path:line:column message. */
static void test_csv_errors(void)
{
    expect_format("num.csv", "1,2\n3,abc\n", "2:3: 'abc' is not a number", "expected a decimal number");
    expect_format("num2.csv", "1,2\n\n3,  4x\n", "3:5: '4x' is not a number", "expected");
    expect_format("num3.csv", "\xEF\xBB\xBF" "1,zz\r\n", "1:3: 'zz' is not a number", "expected");
    expect_format("nan.csv", "1,nan\n", "1:3: 'nan' is not a finite number", "no nan or inf");
    expect_format("inf.csv", "-inf,1\n", "1:1: '-inf' is not a finite number", "no nan or inf");
    expect_format("big.csv", "1e999\n", "1:1: '1e999' is not a finite number", "expected");
    expect_format("empty_field.csv", "1,,2\n", "1:3: empty field 2", "expected a number");
    expect_format("trailing.csv", "1,2,\n", "1:5: empty field 3", "expected a number");
    expect_format("short.csv", "1,2\n\n3\n", "3:2: row has 1 field;", "expected 2 on every row (as on line 1)");
    expect_format("long.csv", "1,2\n3,4,5\n", "2:5: row has more than 2 fields", "expected 2 on every row");
    {
        static const char nul[] = { '1', ',', '2', '\n', '3', ',', '4', '\0', '5', '\n' };
        struct focal_csv_matrix m;
        const char *p = put("nul.csv", nul, sizeof nul);
        CHECK(focal_csv_read(p, &m) == FOCAL_ERR_FORMAT);
        CHECKF(strstr(focal_last_error(), ":2:3: '4?5' is not a number") != NULL, "%s",
               focal_last_error());
    }

    struct focal_csv_matrix m = { 1, 1, NULL };
    const char *p = puts_file("empty.csv", "");
    CHECK(focal_csv_read(p, &m) == FOCAL_ERR_FORMAT);
    CHECKF(strstr(focal_last_error(), "no data") != NULL, "%s", focal_last_error());
    CHECK(m.rows == 0 && m.cols == 0 && m.data == NULL);
    p = puts_file("blank.csv", "\n  \r\n\n");
    CHECK(focal_csv_read(p, &m) == FOCAL_ERR_FORMAT);
    p = path_in("no-such-file.csv");
    CHECK(focal_csv_read(p, &m) == FOCAL_ERR_IO);
    CHECKF(strncmp(focal_last_error(), p, strlen(p)) == 0, "%s", focal_last_error());
    CHECK(m.rows == 0 && m.cols == 0 && m.data == NULL);
}

/* Atomic writes: commit creates or replaces, abort leaves everything as it
 * was, and no temporary file survives either. */
/* focal_csv_locate finds a value where focal_csv_read read it from: past a
 * byte-order mark and blank lines, with CRLF and blanks around fields. */
static void test_csv_locate(void)
{
    const char *p = puts_file("loc.csv", "\xEF\xBB\xBF\r\n1, 2 ,3\r\n\n  \n4,\t5.5e0  , 6\r\n");
    struct focal_csv_matrix m;
    CHECK(focal_csv_read(p, &m) == FOCAL_OK && m.rows == 2 && m.cols == 3 && m.data[4] == 5.5);
    focal_csv_release(&m);
    size_t line = 0, col = 0;
    char q[FOCAL_CSV_QUOTE_SIZE];
    CHECK(focal_csv_locate(p, 1, 1, &line, &col, q) == FOCAL_OK);
    CHECKF(line == 5 && col == 4 && strcmp(q, "5.5e0") == 0, "line %zu col %zu '%s'", line, col, q);
    CHECK(focal_csv_locate(p, 0, 0, &line, &col, q) == FOCAL_OK && line == 2 && col == 1 && strcmp(q, "1") == 0);
    CHECK(focal_csv_locate(p, 1, 2, &line, &col, q) == FOCAL_OK && line == 5 && col == 13 && strcmp(q, "6") == 0);
    CHECK(focal_csv_locate(p, 1, 3, &line, &col, q) == FOCAL_ERR_ARG);
    CHECK(focal_csv_locate(p, 2, 0, &line, &col, q) == FOCAL_ERR_ARG);
    CHECK(focal_csv_locate(path_in("none.csv"), 0, 0, &line, &col, q) == FOCAL_ERR_IO);
}

static void test_wfile(void)
{
    char buf[256];
    int tmp_seen, n0;
    struct focal_wfile wf;

    clear_dir(dir);
    const char *out = path_in("out.csv");
    char outp[512];
    snprintf(outp, sizeof outp, "%s", out);

    CHECK(focal_wfile_open(&wf, outp) == FOCAL_OK);
    CHECK(wf.fp != NULL);
    if (wf.fp)
        fputs("a,b\n1,2\n", wf.fp);
    CHECK(access(outp, F_OK) != 0);   /* nothing at the path before commit */
    CHECK(focal_wfile_commit(&wf) == FOCAL_OK);
    CHECK(wf.fp == NULL && wf.tmp == NULL && wf.path == NULL);
    CHECK(strcmp(slurp(outp, buf, sizeof buf), "a,b\n1,2\n") == 0);
    CHECK(dir_entries(&tmp_seen) == 1 && !tmp_seen);

    /* abort leaves the existing file untouched */
    CHECK(focal_wfile_open(&wf, outp) == FOCAL_OK);
    if (wf.fp)
        fputs("partial", wf.fp);
    focal_wfile_abort(&wf);
    CHECK(wf.fp == NULL && wf.tmp == NULL && wf.path == NULL);
    CHECK(strcmp(slurp(outp, buf, sizeof buf), "a,b\n1,2\n") == 0);
    CHECK(dir_entries(&tmp_seen) == 1 && !tmp_seen);

    /* commit replaces the existing file and keeps its permission bits */
    chmod(outp, 0640);
    CHECK(focal_wfile_open(&wf, outp) == FOCAL_OK);
    if (wf.fp)
        fputs("new\n", wf.fp);
    CHECK(focal_wfile_commit(&wf) == FOCAL_OK);
    CHECK(strcmp(slurp(outp, buf, sizeof buf), "new\n") == 0);
    struct stat sb;
    CHECK(stat(outp, &sb) == 0 && (sb.st_mode & 0777) == 0640);
    CHECK(dir_entries(&tmp_seen) == 1 && !tmp_seen);

    /* abort on a zeroed wfile is safe */
    struct focal_wfile z = { NULL, NULL, NULL };
    focal_wfile_abort(&z);
    focal_wfile_abort(&z);

    /* failures: a missing directory, a directory as the target */
    n0 = dir_entries(&tmp_seen);
    CHECK(focal_wfile_open(&wf, path_in("missing-dir/x.csv")) == FOCAL_ERR_IO);
    CHECKF(strstr(focal_last_error(), "missing-dir/x.csv") != NULL, "%s", focal_last_error());
    CHECK(wf.fp == NULL && wf.tmp == NULL && wf.path == NULL);
    focal_wfile_abort(&wf);
    char sub[512];
    snprintf(sub, sizeof sub, "%s/sub", dir);
    CHECK(mkdir(sub, 0700) == 0);
    CHECK(focal_wfile_open(&wf, sub) == FOCAL_ERR_IO);
    CHECKF(strstr(focal_last_error(), "is a directory") != NULL, "%s", focal_last_error());
    CHECK(dir_entries(&tmp_seen) == n0 + 1 && !tmp_seen);
    rmdir(sub);

    /* a write into a full device fails at commit and leaves no file */
    if (access("/dev/full", W_OK) == 0) {
        FILE *full = fopen("/dev/full", "w");
        CHECK(full != NULL);
        if (full) {
            CHECK(focal_wfile_open(&wf, path_in("never.csv")) == FOCAL_OK);
            /* write through a stream that fails, then hand it to commit */
            if (wf.fp) {
                FILE *good = wf.fp;
                setvbuf(full, NULL, _IONBF, 0);
                fputs("x", full);   /* sets the error indicator of `full` */
                wf.fp = full;
                fclose(good);
            }
            CHECK(focal_wfile_commit(&wf) == FOCAL_ERR_IO);
            CHECK(access(path_in("never.csv"), F_OK) != 0);
            CHECK(dir_entries(&tmp_seen) == n0 && !tmp_seen);
        }
    }
}

/* Runs every test in a fresh temporary directory, removed afterwards. */
int main(void)
{
    if (make_scratch_dir("focal-test") != 0)
        return 1;
    test_csv_ok();
    test_csv_errors();
    test_csv_locate();
    test_wfile();
    remove_tree(dir);
    return check_done("test_csv_wfile");
}
