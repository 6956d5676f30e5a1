/* stats.c — summaries over repeated runs: the mean ± standard deviation that
 * the experiment tables and the report's per-class charts show. */
#include <math.h>
#include <stddef.h>

#include "focal/eval.h"

size_t focal_mean_std(double *mean, double *std, const double *v, size_t n, size_t stride)
{
    double s = 0.0, ss = 0.0;
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (isfinite(v[i * stride])) {
            s += v[i * stride];
            k++;
        }
    *mean = k ? s / (double)k : NAN;
    for (size_t i = 0; i < n; i++)
        if (isfinite(v[i * stride]))
            ss += (v[i * stride] - *mean) * (v[i * stride] - *mean);
    *std = k > 1 ? sqrt(ss / (double)(k - 1)) : NAN;
    return k;
}
