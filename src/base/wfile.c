/* wfile.c — files written atomically: write a temporary file beside the target,
 * then flush, fsync and rename it over the target, so readers see either the
 * old file or the complete new one, never a partial write. The stream writes
 * through a small sink that keeps the errno of the first failed write, so a
 * full disk is reported as "No space left on device", not as a bare stream
 * error. Two test hooks live here (see base/internal.h): FOCAL_CRASH_AFTER
 * and FOCAL_FAIL_WRITE_AFTER. */
#define _GNU_SOURCE

#include <errno.h>
#include <stddef.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include "focal/base.h"
#include "base/internal.h"

/* How many temporary names "<path>.tmp.<pid>.<k>" are tried before giving up. */
#define WFILE_TRIES 1000

/* ---- test hooks ---------------------------------------------------------------------- */

/* A non-negative whole number from the environment variable `name`, or -1. */
static long long env_count(const char *name)
{
    const char *s = getenv(name);
    if (!s || !*s)
        return -1;
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    return errno || *end || v < 0 ? -1 : v;
}

void focal_fs_step(void)
{
    /* read once: the hook is a property of the process */
    static long long crash_after = -2, steps = 0;
    if (crash_after == -2)
        crash_after = env_count("FOCAL_CRASH_AFTER");
    if (crash_after >= 0 && ++steps >= crash_after) {
        raise(SIGKILL);
        _exit(137);
    }
}

/* 0 if n more bytes may be written, else ENOSPC (FOCAL_FAIL_WRITE_AFTER). */
static int fs_space(size_t n)
{
    static long long budget = -2, used = 0;
    if (budget == -2)
        budget = env_count("FOCAL_FAIL_WRITE_AFTER");
    if (budget < 0)
        return 0;
    if (used + (long long)n > budget)
        return ENOSPC;
    used += (long long)n;
    return 0;
}

/* ---- the sink: a file descriptor that remembers its first error ------------------------ */

struct wfile_sink {
    int fd;
    int err;         /* errno of the first failed write or close; 0 if none */
    char tmp[];      /* the temporary file's name: wf->tmp points here */
};

/* The sink whose name wf->tmp is (one allocation, so struct focal_wfile
 * keeps its public three members). */
static struct wfile_sink *sink_of(const struct focal_wfile *wf)
{
    return wf->tmp ? (struct wfile_sink *)(void *)(wf->tmp - offsetof(struct wfile_sink, tmp)) : NULL;
}

static ssize_t sink_write(void *cookie, const char *buf, size_t n)
{
    struct wfile_sink *s = cookie;
    size_t done = 0;
    if (s->err)
        return -1;
    if ((s->err = fs_space(n)) != 0) {
        errno = s->err;
        return -1;
    }
    while (done < n) {
        ssize_t w = write(s->fd, buf + done, n - done);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            s->err = w < 0 ? errno : EIO;
            errno = s->err;
            return -1;
        }
        done += (size_t)w;
    }
    return (ssize_t)n;
}

static int sink_close(void *cookie)
{
    struct wfile_sink *s = cookie;
    if (s->fd >= 0 && close(s->fd) != 0 && !s->err)
        s->err = errno;
    s->fd = -1;
    return s->err ? -1 : 0;
}

/* ---- the writer ---------------------------------------------------------------------- */

/* Frees wf's strings and sink and zeroes it. Does not touch the file system. */
static void wfile_release(struct focal_wfile *wf)
{
    free(wf->path);
    free(sink_of(wf));
    wf->fp = NULL;
    wf->path = NULL;
    wf->tmp = NULL;
}

focal_status focal_sync_dir_of(const char *path)
{
    const char *slash = strrchr(path, '/');
    char *dir;
    size_t n = !slash ? 1 : slash == path ? 1 : (size_t)(slash - path);
    if (!(dir = malloc(n + 1)))
        return focal_fail(FOCAL_ERR_NOMEM, "out of memory");
    memcpy(dir, slash ? path : ".", n);
    dir[n] = '\0';
    focal_status st = focal_sync_dir(dir);
    free(dir);
    return st;
}

focal_status focal_sync_dir(const char *dir)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return focal_fail(FOCAL_ERR_IO, "%s: cannot open the folder to sync it: %s", dir, strerror(errno));
    int rc = fsync(fd), err = errno;
    close(fd);
    /* some file systems cannot fsync a directory; the rename is then as durable as they make it */
    if (rc != 0 && err != EINVAL && err != ENOTSUP)
        return focal_fail(FOCAL_ERR_IO, "%s: fsync of the folder failed: %s", dir, strerror(err));
    focal_fs_step();
    return FOCAL_OK;
}

focal_status focal_wfile_open(struct focal_wfile *wf, const char *path)
{
    struct stat sb;
    int have_old = 0;

    wf->fp = NULL;
    wf->path = NULL;
    wf->tmp = NULL;
    if (!path || !*path)
        return focal_fail(FOCAL_ERR_ARG, "output path is empty; expected a file name");
    if (stat(path, &sb) == 0) {
        if (S_ISDIR(sb.st_mode))
            return focal_fail(FOCAL_ERR_IO, "%s: is a directory; expected a file name", path);
        have_old = S_ISREG(sb.st_mode);
    }

    size_t n = strlen(path);
    size_t cap = n + 64;
    struct wfile_sink *sink = malloc(sizeof *sink + cap);
    wf->tmp = sink ? sink->tmp : NULL;
    wf->path = malloc(n + 1);
    if (!wf->path || !sink) {
        wfile_release(wf);
        return focal_fail(FOCAL_ERR_NOMEM, "%s: out of memory", path);
    }
    memcpy(wf->path, path, n + 1);

    int fd = -1, err = 0;
    for (int k = 0; k < WFILE_TRIES && fd < 0; k++) {
        snprintf(wf->tmp, cap, "%s.tmp.%ld.%d", path, (long)getpid(), k);
        fd = open(wf->tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
        err = errno;
        if (fd < 0 && err != EEXIST)
            break;
    }
    if (fd < 0) {
        focal_status st = focal_fail(FOCAL_ERR_IO, "%s: cannot create a temporary file beside it: %s",
                                     path, strerror(err));
        wfile_release(wf);
        return st;
    }
    /* Replacing a file keeps its permission bits; a new file gets 0666 & ~umask. */
    if (have_old)
        (void)fchmod(fd, sb.st_mode & 07777);
    sink->fd = fd;
    sink->err = 0;
    cookie_io_functions_t io = { .read = NULL, .write = sink_write, .seek = NULL, .close = sink_close };
    wf->fp = fopencookie(sink, "w", io);
    if (!wf->fp) {
        err = errno;
        close(fd);
        unlink(wf->tmp);
        focal_status st = focal_fail(FOCAL_ERR_IO, "%s: cannot open a stream: %s", path, strerror(err));
        wfile_release(wf);
        return st;
    }
    return FOCAL_OK;
}

focal_status focal_wfile_commit(struct focal_wfile *wf)
{
    focal_status st = FOCAL_OK;
    int err = 0;
    const char *what = NULL;
    struct wfile_sink *sink = sink_of(wf);

    if (!wf->fp || !wf->tmp || !wf->path || !sink) {
        focal_wfile_abort(wf);
        return focal_fail(FOCAL_ERR_ARG, "output file was not opened");
    }
    /* the first failure wins: its errno is the cause the user can act on */
    if (fflush(wf->fp) != 0 || ferror(wf->fp) || sink->err) {
        what = "write";
        err = sink->err ? sink->err : EIO;
    } else if (fsync(sink->fd) != 0) {
        what = "fsync";
        err = errno;
    } else {
        focal_fs_step();
    }
    if (fclose(wf->fp) != 0 && !what) {
        what = "close";
        err = sink->err ? sink->err : EIO;
    }
    wf->fp = NULL;
    if (!what && rename(wf->tmp, wf->path) != 0) {
        what = "rename";
        err = errno;
    }
    if (what) {
        unlink(wf->tmp);
        st = focal_fail(FOCAL_ERR_IO, "%s: %s failed: %s; the file was not written",
                        wf->path, what, strerror(err));
    } else {
        focal_fs_step();
        /* the data is in place; a folder that cannot be synced loses at most the rename on power loss */
        (void)focal_sync_dir_of(wf->path);
    }
    wfile_release(wf);
    return st;
}

void focal_wfile_abort(struct focal_wfile *wf)
{
    if (!wf)
        return;
    if (wf->fp)
        fclose(wf->fp);
    if (wf->tmp)
        unlink(wf->tmp);
    wfile_release(wf);
}
