/*
 * benchcommon.h — support code shared by the benchmark programs
 * (tools/bench_*.c): random numbers, clocks, medians, aligned allocation,
 * a description of the machine, command-line helpers and running a helper
 * process (the PyTorch peer, a child) through popen.
 *
 * Not part of the library. tools/CMakeLists.txt compiles benchcommon.c into
 * every bench program; the functions print nothing unless their comment says
 * so, and none of them keeps state between calls.
 */
#ifndef FOCAL_BENCHCOMMON_H
#define FOCAL_BENCHCOMMON_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* The interpreter every peer script runs under, and how to get what a peer
 * needs when it reports itself unavailable. */
#define BENCH_PYTHON "/usr/bin/python3"
#define BENCH_PEER_INSTALL "apt-get install python3-torch python3-torchvision"

/* Explicit RNG state (splitmix64). Any value of s is a valid seed. */
struct bench_rng {
    uint64_t s;
};

/* The next 64 random bits of r; advances r. */
uint64_t bench_rng_next(struct bench_rng *r);

/* Uniform in (0, 1): never 0 nor 1, so its logarithm is finite. Draws one
 * value from r. */
double bench_rng_uniform(struct bench_rng *r);

/* Standard normal (Box–Muller; one value of the pair is used, for
 * simplicity). Draws two values from r. */
double bench_rng_normal(struct bench_rng *r);

/* Seconds on the monotonic clock; only differences are meaningful. */
double bench_now(void);

/* The median of t[0..n), n >= 1 (the mean of the middle two for even n).
 * Sorts t in place, so afterwards t[0] is the minimum and t[n-1] the maximum. */
double bench_median(double *t, size_t n);

/* count×size bytes aligned to 64 (a zero-byte request gets 64), or NULL on
 * overflow or allocation failure. The caller frees with free(). */
void *bench_alloc(size_t count, size_t size);

/* Copies src into dst (size cap >= 1) up to its first '\r' or '\n', truncated
 * to cap - 1 bytes; dst is always NUL-terminated. */
void bench_copy_line(char *dst, size_t cap, const char *src);

/* Appends s to buf (of size cap, holding len bytes plus a NUL) as one POSIX
 * shell word in single quotes followed by a space. Returns the new length, or
 * cap if it did not fit (and for any len >= cap, so a chain of appends can be
 * checked once at the end). Newlines inside s survive the quoting. */
size_t bench_shell_quote(char *buf, size_t len, size_t cap, const char *s);

/* Appends plain text (no quoting, no space) to buf as bench_shell_quote does:
 * returns the new length, or cap if it did not fit or len >= cap. */
size_t bench_append(char *buf, size_t len, size_t cap, const char *s);

/* A wait status from pclose (or -1 from a failed pclose, described with the
 * current errno) as words, e.g. "exited with status 1", into buf. */
void bench_describe_status(int status, char *buf, size_t cap);

/* The CPU's model name from /proc/cpuinfo into buf, or "unknown". */
void bench_cpu_model(char *buf, size_t cap);

/* The size of cpu0's last-level cache as sysfs states it (e.g. "32768K") into
 * buf, or "unknown": a working set near that size runs partly from cache. */
void bench_llc_size(char *buf, size_t cap);

/* The 1-minute load average from /proc/loadavg as text into buf, or
 * "unknown": other work on the machine during the run makes every figure less
 * trustworthy. */
void bench_loadavg(char *buf, size_t cap);

/* The local date and time now as "YYYY-MM-DD HH:MM:SS ZONE" into buf, or
 * "unknown" if it cannot be had. */
void bench_date(char *buf, size_t cap);

/* Parses s, the value of option opt, as a decimal integer in [lo, hi] into
 * *out and returns 0. Otherwise (s NULL or empty, not a number, out of range)
 * prints "<prog>: <opt>: expected an integer in [lo, hi], got '<s>'" to
 * stderr, leaves *out alone and returns -1. */
int bench_parse_long(const char *prog, const char *opt, const char *s, long lo, long hi, long *out);

/* "yes"/"no" for a figure against its target (value >= target), or "n/a" if
 * there is no figure (have == 0). */
const char *bench_verdict(int have, double value, double target);

/* Starts a peer command line in cmd (size cap): BENCH_PYTHON and the script
 * at FOCAL_SOURCE_DIR + script_rel (e.g. "/tools/bench_loss_torch.py"), each
 * shell-quoted and followed by a space, ready for the caller to append its
 * arguments. Returns the length of cmd (cap if it did not fit), or 0 with why
 * saying why the peer cannot be run (the path is too long, the interpreter is
 * not executable, the script is not readable). */
size_t bench_peer_command(char *cmd, size_t cap, const char *script_rel, char *why, size_t why_cap);

/* Flushes every output stream (so nothing buffered is written twice or out of
 * order) and starts cmd with popen for reading. Returns the stream, or NULL
 * with why = "cannot start <what>: <reason>". The caller pcloses it. */
FILE *bench_popen(const char *cmd, const char *what, char *why, size_t why_cap);

/* Starts the peer command line cmd (size cap) of length len, as built by
 * bench_peer_command and the appends after it, with bench_popen. Returns the
 * stream, or NULL with why saying why: the command line is too long
 * (len >= cap) or it could not be started. The caller pcloses it. */
FILE *bench_peer_start(const char *cmd, size_t len, size_t cap, char *why, size_t why_cap);

/* Handles the lines every peer may print: "info <text>" fills info and
 * "unavailable=<reason>" fills why (each without its newline). Returns 1 if
 * line was one of them, 0 otherwise (and then touches nothing). */
int bench_peer_line(const char *line, char *info, size_t info_cap, char *why, size_t why_cap);

/* Prints the report's "peer:" line(s) on stdout: not run (peer == 0),
 * unavailable with why and how to install what it needs (npeer == 0), or
 * info (default "PyTorch") followed by why if why is not empty. */
void bench_print_peer(int peer, int npeer, const char *info, const char *why);

#endif
