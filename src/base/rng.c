/* rng.c — the library's pseudo-random generator: xoshiro256** (Blackman and
 * Vigna), seeded by expanding one 64-bit seed with splitmix64. The whole state
 * is the struct the caller owns, so a run is reproducible from its seed and a
 * checkpoint can save and restore it. */
#include "focal/base.h"
#include "base/rng.h"

/* x rotated left by k bits, 0 < k < 64. */
static inline uint64_t rotl64(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

/* One splitmix64 step: advances *x by the golden-ratio increment and returns
 * the mixed value. */
static uint64_t splitmix64_next(uint64_t *x)
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

/* Fills the four state words with four consecutive splitmix64 outputs of
 * `seed`; never yields the all-zero state xoshiro cannot leave (splitmix64 is
 * a bijection of its counter, so four consecutive outputs are not all zero). */
void focal_rng_seed(struct focal_rng *r, uint64_t seed)
{
    uint64_t x = seed;
    for (int i = 0; i < 4; i++)
        r->s[i] = splitmix64_next(&x);
}

/* Returns the next 64-bit output and advances the state. */
uint64_t focal_rng_next(struct focal_rng *r)
{
    uint64_t *s = r->s;
    const uint64_t out = rotl64(s[1] * 5, 7) * 9;
    const uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl64(s[3], 45);
    return out;
}

/* Uniform float in [0, 1): the top 24 bits of one output times 2^-24, so
 * every value is exactly representable and 1 is never returned. */
float focal_rng_uniform(struct focal_rng *r)
{
    return (float)(focal_rng_next(r) >> 40) * 0x1.0p-24f;
}

int focal_rng_below(struct focal_rng *r, int k)
{
    return (int)(((focal_rng_next(r) >> 32) * (uint64_t)k) >> 32);
}
