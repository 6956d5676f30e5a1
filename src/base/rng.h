/* rng.h — the library's random number generator (rng.c). Internal to the library; not installed. */
#ifndef FOCAL_RNG_H
#define FOCAL_RNG_H

#include <stdint.h>

/* ---- random numbers (rng.c) ----------------------------------------------- */

/* xoshiro256** state; seeded explicitly, saved with checkpoints. */
struct focal_rng {
    uint64_t s[4];
};

/* Seeds the generator from one 64-bit seed (splitmix64 expansion). */
void focal_rng_seed(struct focal_rng *r, uint64_t seed);
uint64_t focal_rng_next(struct focal_rng *r);
/* Uniform in [0, 1) with 24 random bits. */
float focal_rng_uniform(struct focal_rng *r);
/* Uniform integer in [0, k), k >= 1 (multiply-shift on 32 random bits). */
int focal_rng_below(struct focal_rng *r, int k);

#endif
