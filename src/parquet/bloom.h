/*
 * bloom.h — Parquet split-block bloom filters (xxhash64, seed 0), as the
 * format's BloomFilter.md defines them: 256-bit blocks of eight 32-bit
 * words, block chosen by the hash's high 32 bits, bits by the low 32.
 */
#ifndef LKS_PARQUET_BLOOM_H
#define LKS_PARQUET_BLOOM_H

#include "core/core.h"

/* Filter size in bytes for ndv distinct values at false-positive rate fpp:
 * a power of two between 32 bytes and 128 MiB. */
size_t lks_pq_bloom_size(uint64_t ndv, double fpp);
/* Hash of a physical value as the spec defines it (plain encoding of the
 * value without length prefix for byte arrays). */
uint64_t lks_pq_bloom_hash(const void *p, size_t len);
/* bits: num_bytes (multiple of 32) of filter; insert / test a hash. */
void lks_pq_bloom_insert(uint8_t *bits, size_t num_bytes, uint64_t hash);
int lks_pq_bloom_check(const uint8_t *bits, size_t num_bytes, uint64_t hash);

#endif
