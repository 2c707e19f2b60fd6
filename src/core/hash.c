/* hash.c — XXH64 (libxxhash), an in-memory table hash and CRC-32 (zlib,
 * with a carry-less multiplication path on x86-64 CPUs that have one). */
#include "core/core.h"

#include <xxhash.h>
#include <zlib.h>

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define LKS_CRC_CLMUL 1
#endif

uint64_t lks_xxh64(const void *p, size_t len, uint64_t seed) { return (uint64_t)XXH64(p, len, seed); }

uint64_t lks_hash(const void *p, size_t len) { return (uint64_t)XXH3_64bits(p, len); }

#ifdef LKS_CRC_CLMUL
/* CRC-32 by folding: the message polynomial M(x) is reduced 128 bits at a
 * time, A(x)·x^D + B(x) ≡ A_hi(x)·(x^(D+63) mod P)·x + A_lo(x)·(x^(D-1) mod P)·x
 * + B(x), where A_hi is A's first eight bytes (its high-degree half in the
 * bit-reflected order CRC-32 reads bits in) and the products come from
 * PCLMULQDQ (the extra factor x is the one bit a reflected 64x64 product
 * falls short of 128).  The constants are x^n mod P reflected into the top
 * 32 bits of a 64-bit word, for D = 512 (four lanes of 16 bytes) and D = 128.
 * What is left, 16 folded bytes and a tail, has the CRC the message has
 * (a CRC that starts from a zero register ignores leading zeros), which zlib
 * computes.  The register's start value ~crc is XORed into the first four
 * bytes, as a CRC register is. */
__attribute__((target("pclmul,sse4.1"))) static uint32_t crc32_fold(uint32_t crc, const uint8_t *p, size_t len) {
    const __m128i k512 = _mm_set_epi64x((long long)0xcad38e8f00000000ull,  /* x^511 mod P */
                                        (long long)0x653d982200000000ull); /* x^575 mod P */
    const __m128i k128 = _mm_set_epi64x((long long)0x9ba54c6f00000000ull,  /* x^127 mod P */
                                        (long long)0x65673b4600000000ull); /* x^191 mod P */
#define FOLD(a, k, next)                                                                                               \
    _mm_xor_si128(_mm_xor_si128(_mm_clmulepi64_si128(a, k, 0x00), _mm_clmulepi64_si128(a, k, 0x11)), next)
    __m128i a0 = _mm_loadu_si128((const __m128i *)p), a1 = _mm_loadu_si128((const __m128i *)(p + 16)),
            a2 = _mm_loadu_si128((const __m128i *)(p + 32)), a3 = _mm_loadu_si128((const __m128i *)(p + 48));
    a0 = _mm_xor_si128(a0, _mm_cvtsi32_si128((int)~crc));
    for (p += 64, len -= 64; len >= 64; p += 64, len -= 64) {
        a0 = FOLD(a0, k512, _mm_loadu_si128((const __m128i *)p));
        a1 = FOLD(a1, k512, _mm_loadu_si128((const __m128i *)(p + 16)));
        a2 = FOLD(a2, k512, _mm_loadu_si128((const __m128i *)(p + 32)));
        a3 = FOLD(a3, k512, _mm_loadu_si128((const __m128i *)(p + 48)));
    }
    __m128i a = FOLD(FOLD(FOLD(a0, k128, a1), k128, a2), k128, a3);
    for (; len >= 16; p += 16, len -= 16)
        a = FOLD(a, k128, _mm_loadu_si128((const __m128i *)p));
#undef FOLD
    uint8_t rest[16];
    _mm_storeu_si128((__m128i *)rest, a);
    return (uint32_t)crc32(crc32(0xffffffffu, rest, 16), p, (uInt)len);
}
#endif

uint32_t lks_crc32(uint32_t crc, const void *p, size_t len) {
#ifdef LKS_CRC_CLMUL
    if (len >= 64 && __builtin_cpu_supports("pclmul") && __builtin_cpu_supports("sse4.1")) {
        const uint8_t *b = p;
        while (len >= 64) { /* slices as zlib takes them: the tail length is a uInt */
            size_t n = len > (1u << 30) ? (1u << 30) : len;
            crc = crc32_fold(crc, b, n);
            b += n, len -= n;
        }
        return len ? (uint32_t)crc32(crc, b, (uInt)len) : crc;
    }
#endif
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
