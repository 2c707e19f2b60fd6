/* hash.c — XXH64 (libxxhash), an in-memory table hash and CRC-32 (zlib). */
#include "core/core.h"

#include <xxhash.h>
#include <zlib.h>

uint64_t lks_xxh64(const void *p, size_t len, uint64_t seed) { return (uint64_t)XXH64(p, len, seed); }

uint64_t lks_hash(const void *p, size_t len) { return (uint64_t)XXH3_64bits(p, len); }

uint32_t lks_crc32(uint32_t crc, const void *p, size_t len) {
    const Bytef *q = p;
    uLong c = crc;
    /* zlib takes uInt lengths: feed large inputs in slices */
    while (len > 0) {
        uInt n = len > (1u << 30) ? (1u << 30) : (uInt)len;
        c = crc32(c, q, n);
        q += n;
        len -= n;
    }
    return (uint32_t)c;
}
