/*
 * bloom.c — Parquet split-block bloom filters, as BloomFilter.md defines
 * them: the filter is an array of 32-byte blocks of eight little-endian
 * 32-bit words; a 64-bit XXH64 hash (seed 0) picks a block with its high
 * 32 bits and one bit in each word with its low 32 bits and eight salts.
 */
#include "parquet/bloom.h"

#include <math.h>
#include <string.h>

#define BLOOM_MIN_BYTES ((size_t)32)
#define BLOOM_MAX_BYTES ((size_t)128 << 20)

static const uint32_t SALT[8] = {0x47b6137bu, 0x44974d91u, 0x8824ad5bu, 0xa2b7289du,
                                 0x705495c7u, 0x2df1424bu, 0x9efc4947u, 0x5c6bfb31u};

size_t lks_pq_bloom_size(uint64_t ndv, double fpp) {
    if (ndv == 0 || fpp >= 1.0)
        return BLOOM_MIN_BYTES;
    if (!(fpp > 0.0)) /* zero, negative or NaN: as exact as allowed */
        return BLOOM_MAX_BYTES;
    /* bits per distinct value: c = -8 / ln(1 - p^(1/8)) */
    double c = -8.0 / log(1.0 - pow(fpp, 1.0 / 8.0));
    double bytes = (double)ndv * c / 8.0;
    if (!(bytes < (double)BLOOM_MAX_BYTES))
        return BLOOM_MAX_BYTES;
    size_t size = BLOOM_MIN_BYTES;
    while ((double)size < bytes)
        size <<= 1;
    return size;
}

/* XXH64 (seed 0) of 4 or 8 bytes, the integer columns' values, inline: the
 * library's general entry costs more than the hash itself for these. */
#define P1 0x9E3779B185EBCA87ull
#define P2 0xC2B2AE3D27D4EB4Full
#define P3 0x165667B19E3779F9ull
#define P4 0x85EBCA77C2B2AE63ull
#define P5 0x27D4EB2F165667C5ull

static inline uint64_t rotl64(uint64_t x, int r) { return x << r | x >> (64 - r); }

static inline uint64_t xxh64_short(const uint8_t *p, size_t len) {
    uint64_t h = P5 + len;
    if (len == 8) {
        uint64_t k = rotl64(lks_load_le64(p) * P2, 31) * P1;
        h = rotl64(h ^ k, 27) * P1 + P4;
    } else { /* 4 */
        h ^= (uint64_t)lks_load_le32(p) * P1;
        h = rotl64(h, 23) * P2 + P3;
    }
    h ^= h >> 33;
    h *= P2;
    h ^= h >> 29;
    h *= P3;
    return h ^ h >> 32;
}

uint64_t lks_pq_bloom_hash(const void *p, size_t len) {
    if (len == 8 || len == 4)
        return xxh64_short(p, len);
    return lks_xxh64(p, len, 0);
}

static inline size_t block_of(uint64_t hash, size_t num_bytes) {
    uint64_t num_blocks = num_bytes / 32;
    return (size_t)(((hash >> 32) * num_blocks) >> 32);
}

void lks_pq_bloom_insert(uint8_t *bits, size_t num_bytes, uint64_t hash) {
    if (num_bytes < 32 || num_bytes / 32 > UINT32_MAX)
        return;
    uint8_t *blk = bits + block_of(hash, num_bytes) * 32;
    uint32_t key = (uint32_t)hash;
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    uint32_t w[8]; /* the block's words as they are stored: whole-word loads */
    memcpy(w, blk, sizeof w);
    for (int i = 0; i < 8; i++)
        w[i] |= (uint32_t)1 << ((key * SALT[i]) >> 27);
    memcpy(blk, w, sizeof w);
#else
    for (int i = 0; i < 8; i++) {
        uint32_t word = lks_load_le32(blk + 4 * i);
        word |= (uint32_t)1 << ((key * SALT[i]) >> 27);
        lks_store_le32(blk + 4 * i, word);
    }
#endif
}

int lks_pq_bloom_check(const uint8_t *bits, size_t num_bytes, uint64_t hash) {
    if (num_bytes < 32 || num_bytes / 32 > UINT32_MAX)
        return 1; /* no usable filter: the value may be present */
    const uint8_t *blk = bits + block_of(hash, num_bytes) * 32;
    uint32_t key = (uint32_t)hash;
    for (int i = 0; i < 8; i++) {
        uint32_t mask = (uint32_t)1 << ((key * SALT[i]) >> 27);
        if (!(lks_load_le32(blk + 4 * i) & mask))
            return 0;
    }
    return 1;
}
