/* replay.c — the main() that turns a libFuzzer harness into a regression test
 * of the normal build: runs LLVMFuzzerTestOneInput on every file of the
 * folders (or files) named on the command line, each in a child process so
 * that an abort, a sanitizer report or a signal counts as one failure and the
 * others still run. Prints each failing input, then "N passed, M failed";
 * exits 1 if any failed or no input was found. A folder that does not exist
 * is skipped (git keeps no empty crashes/ folder). */
#define _POSIX_C_SOURCE 200809L

#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int passed, failed;

/* Runs the harness on the file at path in a child process and counts it. */
static void replay_file(const char *path)
{
    fflush(stdout);
    fflush(stderr);
    const pid_t pid = fork();
    if (pid < 0) {
        perror("fork");
        failed++;
        return;
    }
    if (pid == 0) {
        FILE *f = fopen(path, "rb");
        if (!f) {
            perror(path);
            _exit(2);
        }
        uint8_t *buf = NULL;
        size_t len = 0, cap = 0, got;
        do {
            if (len == cap) {
                cap = cap ? 2 * cap : 4096;
                uint8_t *nb = realloc(buf, cap);
                if (!nb)
                    _exit(2);
                buf = nb;
            }
            got = fread(buf + len, 1, cap - len, f);
            len += got;
        } while (got > 0);
        fclose(f);
        LLVMFuzzerTestOneInput(buf, len);
        free(buf);
        exit(0); /* runs the harness's atexit clean-up */
    }
    int status;
    while (waitpid(pid, &status, 0) < 0)
        if (errno != EINTR) {
            perror("waitpid");
            failed++;
            return;
        }
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
        passed++;
    } else {
        failed++;
        if (WIFSIGNALED(status))
            fprintf(stderr, "FAILED %s: signal %d\n", path, WTERMSIG(status));
        else
            fprintf(stderr, "FAILED %s: exit status %d\n", path, WEXITSTATUS(status));
    }
}

static int by_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Replays every regular file of the folder at path, in name order. */
static void replay_dir(const char *path)
{
    DIR *d = opendir(path);
    if (!d) {
        perror(path);
        failed++;
        return;
    }
    char **names = NULL;
    size_t n = 0, cap = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.')
            continue;
        if (n == cap) {
            cap = cap ? 2 * cap : 64;
            char **nn = realloc(names, cap * sizeof *names);
            if (!nn)
                abort();
            names = nn;
        }
        if (!(names[n++] = strdup(e->d_name)))
            abort();
    }
    closedir(d);
    if (n)
        qsort(names, n, sizeof *names, by_name);
    for (size_t i = 0; i < n; i++) {
        char full[4096];
        struct stat sb;
        if ((size_t)snprintf(full, sizeof full, "%s/%s", path, names[i]) < sizeof full && stat(full, &sb) == 0 &&
            S_ISREG(sb.st_mode))
            replay_file(full);
        free(names[i]);
    }
    free(names);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: %s FOLDER|FILE...\n", argv[0]);
        return 2;
    }
    for (int i = 1; i < argc; i++) {
        struct stat sb;
        if (stat(argv[i], &sb) != 0)
            continue;
        if (S_ISDIR(sb.st_mode))
            replay_dir(argv[i]);
        else
            replay_file(argv[i]);
    }
    printf("%d passed, %d failed\n", passed, failed);
    return failed || passed == 0 ? 1 : 0;
}
