/* test_folder.c — folder commits and folder locks: an interrupted commit is
 * undone before its manifest and finished after it; a commit replaces its
 * files together; a second lock on a folder fails naming the holder's pid and
 * a dead holder's lock is taken over; a write that fails with ENOSPC says so
 * and leaves the target as it was. */
#define _POSIX_C_SOURCE 200809L
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "focal.h"
#include "check.h"
#include "testfs.h"

/* Writes text to path through focal_wfile. */
static focal_status write_text(const char *path, const char *text)
{
    struct focal_wfile wf;
    focal_status st = focal_wfile_open(&wf, path);
    if (st != FOCAL_OK)
        return st;
    fputs(text, wf.fp);
    return focal_wfile_commit(&wf);
}

/* The text of path (up to 255 bytes), or "" when it cannot be read. */
static const char *text_of(const char *path)
{
    static char buf[256];
    FILE *fp = fopen(path, "r");
    size_t n = fp ? fread(buf, 1, sizeof buf - 1, fp) : 0;
    buf[n] = '\0';
    if (fp)
        fclose(fp);
    return buf;
}

static int exists(const char *path)
{
    struct stat sb;
    return stat(path, &sb) == 0;
}

/* In a child (the write hook is read once per process): writes fail with
 * ENOSPC after 4 bytes (the old file's); the commit fails with the errno text and the old
 * file stays. Exit status 0 when all of that held. */
static int full_disk_child(const char *path)
{
    setenv("FOCAL_FAIL_WRITE_AFTER", "4", 1);
    if (write_text(path, "old\n") != FOCAL_OK)
        return 1;
    struct focal_wfile wf;
    if (focal_wfile_open(&wf, path) != FOCAL_OK)
        return 2;
    for (int i = 0; i < 10000; i++)
        fputs("a longer text than four bytes\n", wf.fp);
    if (focal_wfile_commit(&wf) != FOCAL_ERR_IO)
        return 3;
    if (!strstr(focal_last_error(), "write failed: No space left on device")) {
        fprintf(stderr, "message: %s\n", focal_last_error());
        return 4;
    }
    return strcmp(text_of(path), "old\n") == 0 ? 0 : 5;
}

int main(void)
{
    if (make_scratch_dir("test_folder") != 0)
        return 1;
    char path[1024], stage[512];

    /* a full disk: the real cause, the old file kept */
    pid_t pid = fork();
    if (pid == 0)
        _exit(full_disk_child(path_in("full.txt")));
    int status = -1;
    waitpid(pid, &status, 0);
    CHECKF(WIFEXITED(status) && WEXITSTATUS(status) == 0, "full-disk child: status %d", status);

    char d[256];
    snprintf(d, sizeof d, "%s", mkdir_in("run"));
    snprintf(stage, sizeof stage, "%s/.commit", d);

    /* a commit replaces its files together */
    struct focal_commit c;
    CHECK(focal_commit_begin(&c, d) == FOCAL_OK);
    snprintf(path, sizeof path, "%s/a.txt", c.stage);
    CHECK(write_text(path, "a1") == FOCAL_OK);
    snprintf(path, sizeof path, "%s/b.txt", c.stage);
    CHECK(write_text(path, "b1") == FOCAL_OK);
    snprintf(path, sizeof path, "%s/a.txt", d);
    CHECK(!exists(path));   /* nothing visible before the end */
    CHECK(focal_commit_end(&c) == FOCAL_OK);
    CHECK(strcmp(text_of(path_in("run/a.txt")), "a1") == 0 && strcmp(text_of(path_in("run/b.txt")), "b1") == 0);
    CHECK(!exists(stage));

    /* interrupted before the manifest (the process died): undone */
    CHECK(focal_commit_begin(&c, d) == FOCAL_OK);
    snprintf(path, sizeof path, "%s/a.txt", c.stage);
    CHECK(write_text(path, "a2") == FOCAL_OK);
    free(c.dir);     /* as if the process had died here */
    free(c.stage);
    int forward = -1;
    CHECK(focal_commit_recover(d, &forward) == FOCAL_OK && forward == 0);
    CHECK(strcmp(text_of(path_in("run/a.txt")), "a1") == 0);
    CHECK(!exists(stage));

    /* interrupted after the manifest, one rename done: finished */
    CHECK(mkdir(stage, 0777) == 0);
    CHECK(put("run/.commit/a.txt", "a3", 2) != NULL);
    CHECK(put("run/b.txt", "b3", 2) != NULL);   /* b.txt was moved before the crash */
    const char *manifest = "focal-commit 1\na.txt\nb.txt\n";
    snprintf(path, sizeof path, "%s/MANIFEST", stage);
    CHECK(write_text(path, manifest) == FOCAL_OK);
    CHECK(focal_commit_recover(d, &forward) == FOCAL_OK && forward == 1);
    CHECK(strcmp(text_of(path_in("run/a.txt")), "a3") == 0 && strcmp(text_of(path_in("run/b.txt")), "b3") == 0);
    CHECK(!exists(stage));

    /* a failed write inside a commit names the folder's file, and is undone */
    CHECK(focal_commit_begin(&c, d) == FOCAL_OK);
    snprintf(path, sizeof path, "%s/sub/x.txt", c.stage);
    CHECK(write_text(path, "x") == FOCAL_ERR_IO);
    focal_commit_abort(&c);
    CHECKF(strstr(focal_last_error(), "run/sub/x.txt") && !strstr(focal_last_error(), ".commit"), "message: %s",
           focal_last_error());
    CHECK(!exists(stage));

    /* the lock: a second holder is refused, naming the pid; a dead holder's lock is free */
    int ready[2];
    CHECK(pipe(ready) == 0);
    pid = fork();
    if (pid == 0) {
        struct focal_dir_lock l;
        char ok = focal_dir_lock(&l, d) == FOCAL_OK ? 'y' : 'n';
        if (write(ready[1], &ok, 1) != 1)
            _exit(1);
        pause();
        _exit(0);
    }
    char got = 0;
    CHECK(read(ready[0], &got, 1) == 1 && got == 'y');
    struct focal_dir_lock l;
    CHECK(focal_dir_lock(&l, d) == FOCAL_ERR_BUSY);
    char want[64];
    snprintf(want, sizeof want, "(pid %ld)", (long)pid);
    CHECKF(strstr(focal_last_error(), want) && strstr(focal_last_error(), d), "message: %s", focal_last_error());
    kill(pid, SIGKILL);
    waitpid(pid, &status, 0);
    CHECK(exists(path_in("run/.lock")));   /* left behind by the dead holder */
    CHECK(focal_dir_lock(&l, d) == FOCAL_OK);
    snprintf(want, sizeof want, "%ld\n", (long)getpid());
    CHECK(strcmp(text_of(path_in("run/.lock")), want) == 0);
    focal_dir_unlock(&l);
    CHECK(!exists(path_in("run/.lock")));
    focal_dir_unlock(&l);   /* twice is safe */
    close(ready[0]);
    close(ready[1]);

    remove_tree(dir);
    return check_done("test_folder");
}
