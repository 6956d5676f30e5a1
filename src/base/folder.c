/* folder.c — a folder's files replaced together (a staging folder, a
 * manifest as the commit point, renames that a recovery can finish) and an
 * advisory lock per folder, so that a crash or a second writer never leaves
 * files of two states side by side. */
#define _GNU_SOURCE

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "focal/base.h"
#include "base/internal.h"

#define STAGE_NAME ".commit"
#define MANIFEST_NAME "MANIFEST"
#define MANIFEST_MAGIC "focal-commit 1"
#define LOCK_NAME ".lock"

/* dir/name, malloc'd; NULL when out of memory. */
static char *join(const char *dir, const char *name)
{
    size_t a = strlen(dir), b = strlen(name);
    char *p = malloc(a + b + 2);
    if (p) {
        memcpy(p, dir, a);
        p[a] = '/';
        memcpy(p + a + 1, name, b + 1);
    }
    return p;
}

/* Removes the folder stage and every file in it (it holds no folders). */
static focal_status remove_stage(const char *stage)
{
    DIR *dp = opendir(stage);
    if (!dp)
        return errno == ENOENT ? FOCAL_OK
                               : focal_fail(FOCAL_ERR_IO, "%s: cannot open: %s", stage, strerror(errno));
    struct dirent *e;
    while ((e = readdir(dp)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        char *p = join(stage, e->d_name);
        if (p)
            unlink(p);
        free(p);
    }
    closedir(dp);
    if (rmdir(stage) != 0 && errno != ENOENT)
        return focal_fail(FOCAL_ERR_IO, "%s: cannot remove: %s", stage, strerror(errno));
    focal_fs_step();
    return FOCAL_OK;
}

/* The manifest's file names: one per line after the magic line. */
static focal_status apply_manifest(const char *dir, const char *stage, const char *text)
{
    const char *line = strchr(text, '\n');
    if (strncmp(text, MANIFEST_MAGIC "\n", sizeof MANIFEST_MAGIC) != 0 || !line)
        return focal_fail(FOCAL_ERR_FORMAT, "%s/" MANIFEST_NAME ": not a focal commit manifest", stage);
    for (line++; *line;) {
        const char *end = strchr(line, '\n');
        size_t n = end ? (size_t)(end - line) : strlen(line);
        char name[256];
        if (n == 0 || n >= sizeof name || memchr(line, '/', n))
            return focal_fail(FOCAL_ERR_FORMAT, "%s/" MANIFEST_NAME ": bad file name", stage);
        memcpy(name, line, n);
        name[n] = '\0';
        char *from = join(stage, name), *to = join(dir, name);
        int rc = from && to ? rename(from, to) : -1, err = from && to ? errno : ENOMEM;
        free(from);
        free(to);
        /* a file no longer in the stage was renamed before a crash */
        if (rc != 0 && err != ENOENT)
            return focal_fail(FOCAL_ERR_IO, "%s/%s: cannot move into place: %s", dir, name, strerror(err));
        if (rc == 0)
            focal_fs_step();
        line += n + (end != NULL);
    }
    focal_status st = focal_sync_dir(dir);
    if (st != FOCAL_OK)
        return st;
    char *m = join(stage, MANIFEST_NAME);
    if (!m)
        return focal_fail(FOCAL_ERR_NOMEM, "out of memory");
    if (unlink(m) != 0) {
        st = focal_fail(FOCAL_ERR_IO, "%s: cannot remove: %s", m, strerror(errno));
        free(m);
        return st;
    }
    free(m);
    focal_fs_step();
    if ((st = remove_stage(stage)) != FOCAL_OK)
        return st;
    return focal_sync_dir(dir);
}

focal_status focal_commit_recover(const char *dir, int *forward)
{
    char *stage = join(dir, STAGE_NAME), *m = stage ? join(stage, MANIFEST_NAME) : NULL;
    char *text = NULL;
    size_t len;
    focal_status st = FOCAL_OK;
    struct stat sb;
    if (forward)
        *forward = 0;
    if (!stage || !m) {
        st = focal_fail(FOCAL_ERR_NOMEM, "out of memory");
        goto out;
    }
    if (stat(stage, &sb) != 0)
        goto out;   /* nothing staged */
    if (stat(m, &sb) != 0) {
        /* the commit never reached its manifest: undo it */
        if ((st = remove_stage(stage)) == FOCAL_OK)
            st = focal_sync_dir(dir);
        goto out;
    }
    if ((st = focal_read_file(m, 1, &text, &len)) != FOCAL_OK)
        goto out;
    if ((st = apply_manifest(dir, stage, text)) == FOCAL_OK && forward)
        *forward = 1;
out:
    free(text);
    free(m);
    free(stage);
    return st;
}

focal_status focal_commit_begin(struct focal_commit *c, const char *dir)
{
    focal_status st = focal_commit_recover(dir, NULL);
    c->dir = c->stage = NULL;
    if (st != FOCAL_OK)
        return st;
    c->dir = strdup(dir);
    c->stage = join(dir, STAGE_NAME);
    if (!c->dir || !c->stage) {
        focal_commit_abort(c);
        return focal_fail(FOCAL_ERR_NOMEM, "out of memory");
    }
    if (mkdir(c->stage, 0777) != 0) {
        st = focal_fail(FOCAL_ERR_IO, "%s: cannot create the staging folder: %s", c->stage, strerror(errno));
        free(c->dir);
        free(c->stage);
        c->dir = c->stage = NULL;
        return st;
    }
    focal_fs_step();
    return FOCAL_OK;
}

static int by_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

focal_status focal_commit_end(struct focal_commit *c)
{
    focal_status st = FOCAL_OK;
    char **names = NULL;
    size_t n = 0, cap = 0;
    struct focal_wfile wf;
    DIR *dp = opendir(c->stage);
    if (!dp) {
        st = focal_fail(FOCAL_ERR_IO, "%s: cannot open: %s", c->stage, strerror(errno));
        goto fail;
    }
    struct dirent *e;
    while ((e = readdir(dp)) != NULL) {
        if (e->d_name[0] == '.' || strstr(e->d_name, ".tmp.") || strcmp(e->d_name, MANIFEST_NAME) == 0)
            continue;
        if (n == cap) {
            cap = cap ? 2 * cap : 16;
            char **p = realloc(names, cap * sizeof *p);
            if (!p) {
                closedir(dp);
                st = focal_fail(FOCAL_ERR_NOMEM, "out of memory");
                goto fail;
            }
            names = p;
        }
        if (!(names[n] = strdup(e->d_name))) {
            closedir(dp);
            st = focal_fail(FOCAL_ERR_NOMEM, "out of memory");
            goto fail;
        }
        n++;
    }
    closedir(dp);
    if (n > 1)
        qsort(names, n, sizeof *names, by_name);
    /* every staged file is durable (focal_wfile); the manifest is the commit point */
    char *m = join(c->stage, MANIFEST_NAME);
    if (!m) {
        st = focal_fail(FOCAL_ERR_NOMEM, "out of memory");
        goto fail;
    }
    st = focal_wfile_open(&wf, m);
    free(m);
    if (st != FOCAL_OK)
        goto fail;
    fputs(MANIFEST_MAGIC "\n", wf.fp);
    for (size_t i = 0; i < n; i++)
        fprintf(wf.fp, "%s\n", names[i]);
    if ((st = focal_wfile_commit(&wf)) != FOCAL_OK)
        goto fail;
    /* committed: from here on a failure is finished by focal_commit_recover */
    st = focal_commit_recover(c->dir, NULL);
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    free(names);
    free(c->dir);
    free(c->stage);
    c->dir = c->stage = NULL;
    return st;
fail:
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    free(names);
    {
        /* keep the first error's message */
        char msg[1024];
        snprintf(msg, sizeof msg, "%s", focal_last_error());
        focal_commit_abort(c);
        focal_fail(st, "%s", msg);
    }
    return st;
}

void focal_commit_abort(struct focal_commit *c)
{
    if (!c)
        return;
    if (c->stage) {
        /* the last error names a staged file as the file it would have replaced */
        char msg[1024];
        const char *e = focal_last_error(), *at = strstr(e, c->stage);
        size_t n = strlen(c->stage);
        if (at && at[n] == '/') {
            snprintf(msg, sizeof msg, "%.*s%s%s", (int)(at - e), e, c->dir, at + n);
            (void)remove_stage(c->stage);
            focal_fail(FOCAL_ERR_IO, "%s", msg);
        } else {
            (void)remove_stage(c->stage);
        }
    }
    free(c->dir);
    free(c->stage);
    c->dir = c->stage = NULL;
}

/* ---- the lock ------------------------------------------------------------------------ */

focal_status focal_dir_lock(struct focal_dir_lock *l, const char *dir)
{
    l->fd = -1;
    l->path = join(dir, LOCK_NAME);
    if (!l->path)
        return focal_fail(FOCAL_ERR_NOMEM, "out of memory");
    for (int tries = 0; tries < 100; tries++) {
        int fd = open(l->path, O_RDWR | O_CREAT | O_CLOEXEC, 0666);
        if (fd < 0) {
            focal_status st = focal_fail(FOCAL_ERR_IO, "%s: cannot create the lock file: %s", l->path,
                                         strerror(errno));
            free(l->path);
            l->path = NULL;
            return st;
        }
        if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
            int err = errno;
            char buf[32] = "";
            ssize_t k = pread(fd, buf, sizeof buf - 1, 0);
            buf[k > 0 ? k : 0] = '\0';
            close(fd);
            long pid = strtol(buf, NULL, 10);
            focal_status st;
            if (err == EWOULDBLOCK) {
                if (pid > 0)
                    st = focal_fail(FOCAL_ERR_BUSY, "%s: in use by another focal process (pid %ld); wait for it "
                                    "to finish, or stop it", dir, pid);
                else
                    st = focal_fail(FOCAL_ERR_BUSY, "%s: in use by another focal process; wait for it to finish, "
                                    "or stop it", dir);
            } else {
                st = focal_fail(FOCAL_ERR_IO, "%s: cannot lock: %s", l->path, strerror(err));
            }
            free(l->path);
            l->path = NULL;
            return st;
        }
        /* the holder before us may have removed the file after we opened it: lock the file that is there */
        struct stat a, b;
        if (fstat(fd, &a) == 0 && stat(l->path, &b) == 0 && a.st_dev == b.st_dev && a.st_ino == b.st_ino) {
            char pid[32];
            int n = snprintf(pid, sizeof pid, "%ld\n", (long)getpid());
            if (ftruncate(fd, 0) != 0 || pwrite(fd, pid, (size_t)n, 0) != n) {
                /* the lock holds without the pid; only the message of a second writer loses it */
            }
            l->fd = fd;
            return FOCAL_OK;
        }
        close(fd);
    }
    free(l->path);
    l->path = NULL;
    return focal_fail(FOCAL_ERR_BUSY, "%s: its lock file keeps changing; is another focal process starting?", dir);
}

void focal_dir_unlock(struct focal_dir_lock *l)
{
    if (!l)
        return;
    if (l->fd >= 0) {
        /* removed while still held, so that no one locks the old file after we let go */
        if (l->path)
            unlink(l->path);
        close(l->fd);
    }
    free(l->path);
    l->fd = -1;
    l->path = NULL;
}
