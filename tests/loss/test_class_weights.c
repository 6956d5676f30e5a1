/* test_weights.c — class weights and the prior bias against the values that
 * tools/gen_weights_reference.py computed with scikit-learn and numpy. */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "focal.h"

#define MAXC 64

/* Parses "v1 v2 ... vn" into out (n values); returns the end or NULL. */
static char *parse_values(char *s, double *out, int n)
{
    for (int i = 0; i < n; i++) {
        char *end;
        out[i] = strtod(s, &end);
        if (end == s)
            return NULL;
        s = end;
    }
    return s;
}

int main(void)
{
    const char *src = check_source_dir("test_weights");
    if (!src)
        return 1;
    char path[4096];
    snprintf(path, sizeof path, "%s/tests/fixtures/weights_reference.txt", src);
    FILE *f = fopen(path, "r");
    CHECKF(f != NULL, "cannot open %s", path);
    if (!f)
        return check_done("test_weights");
    char line[8192];
    int expected = -1, seen = 0;
    while (fgets(line, sizeof line, f)) {
        char kind[32], name[64];
        int c, off = 0;
        double counts[MAXC], want[MAXC], got[MAXC], beta = 0;
        if (line[0] == '#')
            continue;
        if (sscanf(line, "count %d", &expected) == 1)
            continue;
        if (sscanf(line, "%31s", kind) != 1)
            continue;
        if (strcmp(kind, "prior") == 0) {
            double pi, b, bias = 0;
            CHECK(sscanf(line, "prior %lf %lf", &pi, &b) == 2);
            CHECK(focal_prior_bias(pi, &bias) == FOCAL_OK);
            CHECKF(check_close(bias, b, 1e-14, 1e-15), "prior %g: %.17g vs %.17g", pi, bias, b);
            seen++;
            continue;
        }
        const int eff = strcmp(kind, "effective") == 0;
        int ok = eff ? sscanf(line, "effective %63s %d %lf %n", name, &c, &beta, &off) == 3
                     : sscanf(line, "balanced %63s %d %n", name, &c, &off) == 2;
        CHECKF(ok && c > 0 && c <= MAXC, "malformed line: %s", line);
        if (!ok || c <= 0 || c > MAXC)
            continue;
        char *p = parse_values(line + off, counts, c);
        p = p ? strchr(p, '|') : NULL;
        p = p ? parse_values(p + 1, want, c) : NULL;
        CHECKF(p != NULL, "malformed values: %s", line);
        if (!p)
            continue;
        const focal_status st = eff ? focal_weights_effective(got, counts, (size_t)c, beta)
                                    : focal_weights_balanced(got, counts, (size_t)c);
        CHECKF(st == FOCAL_OK, "%s %s: %s", kind, name, focal_last_error());
        for (int j = 0; j < c; j++)
            CHECKF(check_close(got[j], want[j], 1e-12, 0), "%s %s beta=%g class %d: %.17g vs %.17g", kind, name,
                   beta, j, got[j], want[j]);
        seen++;
    }
    fclose(f);
    CHECKF(expected > 0 && seen == expected, "read %d reference lines, header says %d", seen, expected);

    /* failure paths */
    double w[3], bias;
    const double zero[3] = {5, 0, 2};
    CHECK(focal_weights_balanced(w, zero, 3) == FOCAL_ERR_ARG && strstr(focal_last_error(), "class 1"));
    CHECK(focal_weights_effective(w, zero, 3, 0.99) == FOCAL_ERR_ARG && strstr(focal_last_error(), "class 1"));
    const double ok3[3] = {5, 1, 2};
    CHECK(focal_weights_effective(w, ok3, 3, 1.0) == FOCAL_ERR_ARG && strstr(focal_last_error(), "beta"));
    CHECK(focal_prior_bias(0, &bias) == FOCAL_ERR_ARG);
    CHECK(focal_prior_bias(1, &bias) == FOCAL_ERR_ARG);
    return check_done("test_weights");
}
