/* rand.c — random bytes from the kernel and random (version 4) UUIDs. */
#include "core/core.h"

#include <errno.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

void lks_random_bytes(void *p, size_t n) {
    uint8_t *q = p;
    while (n > 0) {
        ssize_t got = getrandom(q, n, 0);
        if (got < 0 && errno == EINTR)
            continue;
        if (got <= 0) {
            /* no entropy source: a clock-seeded mix, unique enough for names */
            static uint64_t state;
            struct timespec ts;
            clock_gettime(CLOCK_REALTIME, &ts);
            state ^= (uint64_t)ts.tv_nsec * 0x9E3779B97F4A7C15ULL ^ (uint64_t)ts.tv_sec;
            for (; n > 0; n--) {
                state = state * 6364136223846793005ULL + 1442695040888963407ULL;
                *q++ = (uint8_t)(state >> 56);
            }
            return;
        }
        q += got;
        n -= (size_t)got;
    }
}

void lks_uuid_format(char out[37], const uint8_t b[16]) {
    static const char hex[] = "0123456789abcdef";
    int o = 0;
    for (int i = 0; i < 16; i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10)
            out[o++] = '-';
        out[o++] = hex[b[i] >> 4];
        out[o++] = hex[b[i] & 15];
    }
    out[o] = 0;
}

void lks_uuid4(char out[37]) {
    uint8_t b[16];
    lks_random_bytes(b, sizeof b);
    b[6] = (uint8_t)((b[6] & 0x0f) | 0x40);
    b[8] = (uint8_t)((b[8] & 0x3f) | 0x80);
    lks_uuid_format(out, b);
}
