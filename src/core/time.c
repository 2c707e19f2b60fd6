/* time.c — clocks, proleptic Gregorian calendar arithmetic over the whole
 * int64 day range, ISO-8601 formatting and timestamp parsing. */
#include "core/core.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

int64_t lks_now_us(void) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

uint64_t lks_mono_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Floor division and the matching non-negative remainder (b > 0). */
static int64_t floor_div(int64_t a, int64_t b) {
    int64_t q = a / b;
    return (a % b < 0) ? q - 1 : q;
}
static int64_t floor_mod(int64_t a, int64_t b) {
    int64_t r = a % b;
    return r < 0 ? r + b : r;
}

#define DAYS_PER_ERA 146097 /* 400 Gregorian years */
#define EPOCH_SHIFT 719468  /* days from 0000-03-01 to 1970-01-01 */

/* Days since 1970-01-01.  Months 1..12, days 1..31 are expected (others give
 * a meaningless but defined result).  Computed in 128 bits; dates beyond the
 * int64 day range saturate to INT64_MAX / INT64_MIN. */
int64_t lks_days_from_civil(int64_t y, unsigned m, unsigned d) {
    if (m < 1 || m > 12)
        m = 1;
    if (y > -(INT64_C(1) << 40) && y < (INT64_C(1) << 40)) { /* the same in 64 bits: no overflow here */
        int64_t yy = y - (m <= 2);
        int64_t era = (yy >= 0 ? yy : yy - 399) / 400;
        int64_t yoe = yy - era * 400;
        int64_t mp = m > 2 ? (int64_t)m - 3 : (int64_t)m + 9;
        int64_t doy = (153 * mp + 2) / 5 + (int64_t)d - 1;
        int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
        return era * DAYS_PER_ERA + doe - EPOCH_SHIFT;
    }
    __int128 yy = (__int128)y - (m <= 2);
    __int128 era = (yy >= 0 ? yy : yy - 399) / 400;
    int64_t yoe = (int64_t)(yy - era * 400);              /* [0, 399] */
    int64_t mp = m > 2 ? (int64_t)m - 3 : (int64_t)m + 9; /* March = 0 */
    int64_t doy = (153 * mp + 2) / 5 + (int64_t)d - 1;    /* [0, 365] for valid days */
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;  /* [0, 146096] */
    __int128 days = era * DAYS_PER_ERA + doe - EPOCH_SHIFT;
    if (days > INT64_MAX)
        return INT64_MAX;
    if (days < INT64_MIN)
        return INT64_MIN;
    return (int64_t)days;
}

void lks_civil_from_days(int64_t days, int64_t *y, unsigned *m, unsigned *d) {
    /* days + EPOCH_SHIFT could overflow: split into eras first. */
    int64_t era = floor_div(days, DAYS_PER_ERA);
    int64_t doe = floor_mod(days, DAYS_PER_ERA) + EPOCH_SHIFT;
    era += doe / DAYS_PER_ERA;
    doe %= DAYS_PER_ERA;                                                 /* [0, 146096] */
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365; /* [0, 399] */
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);               /* [0, 365] */
    int64_t mp = (5 * doy + 2) / 153;                                    /* [0, 11] */
    *d = (unsigned)(doy - (153 * mp + 2) / 5 + 1);
    *m = (unsigned)(mp < 10 ? mp + 3 : mp - 9);
    *y = yoe + era * 400 + (*m <= 2);
}

/* Writes the year: 4 digits for 0..9999, "+NNNNN" past 9999, "-NNNN" below 0. */
static int fmt_year(char *out, int64_t y) {
    if (y >= 0 && y <= 9999)
        return sprintf(out, "%04" PRId64, y);
    if (y > 9999)
        return sprintf(out, "+%" PRId64, y);
    uint64_t mag = (uint64_t)0 - (uint64_t)y;
    return sprintf(out, "-%04" PRIu64, mag);
}

int lks_fmt_date(char *out, int64_t days) {
    int64_t y;
    unsigned m, d;
    lks_civil_from_days(days, &y, &m, &d);
    int n = fmt_year(out, y);
    n += sprintf(out + n, "-%02u-%02u", m, d);
    return n;
}

#define US_PER_DAY INT64_C(86400000000)

int lks_fmt_timestamp_us(char *out, int64_t us, int utc) {
    int64_t days = floor_div(us, US_PER_DAY);
    int64_t tod = floor_mod(us, US_PER_DAY);
    int n = lks_fmt_date(out, days);
    out[n++] = 'T';
    n += lks_fmt_time_us(out + n, tod);
    if (utc) {
        out[n++] = 'Z';
        out[n] = 0;
    }
    return n;
}

int lks_fmt_time_us(char *out, int64_t us) {
    int n = 0;
    uint64_t mag = (uint64_t)us;
    if (us < 0) {
        out[n++] = '-';
        mag = (uint64_t)0 - mag;
    }
    uint64_t frac = mag % 1000000, secs = mag / 1000000;
    n += sprintf(out + n, "%02" PRIu64 ":%02" PRIu64 ":%02" PRIu64 ".%06" PRIu64, secs / 3600, secs / 60 % 60,
                 secs % 60, frac);
    return n;
}

/* ---- parsing ----------------------------------------------------------- */

/* Reads exactly n digits; -1 when they are not all digits or run out. */
static int64_t digits(const char *s, size_t len, size_t *pos, int n) {
    if (len - *pos < (size_t)n)
        return -1;
    int64_t v = 0;
    for (int i = 0; i < n; i++) {
        char c = s[*pos + (size_t)i];
        if (c < '0' || c > '9')
            return -1;
        v = v * 10 + (c - '0');
    }
    *pos += (size_t)n;
    return v;
}

static int is_leap(int64_t y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

static unsigned days_in_month(int64_t y, unsigned m) {
    static const unsigned dim[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return m == 2 && is_leap(y) ? 29 : dim[m - 1];
}

int lks_parse_timestamp_us(const char *s, size_t len, int64_t *us) {
    size_t p = 0;
    int neg = 0, sign = 0;
    if (p < len && (s[p] == '+' || s[p] == '-')) {
        sign = 1;
        neg = s[p] == '-';
        p++;
    }
    /* year: 4 digits, or with a sign 4 to 9 digits */
    size_t ystart = p;
    int64_t year = 0;
    while (p < len && s[p] >= '0' && s[p] <= '9' && p - ystart < 10) {
        year = year * 10 + (s[p] - '0');
        p++;
    }
    size_t ylen = p - ystart;
    if (ylen < 4 || (!sign && ylen != 4) || ylen > 9)
        return LKS_ECORRUPT;
    if (neg)
        year = -year;
    if (p >= len || s[p++] != '-')
        return LKS_ECORRUPT;
    int64_t mon = digits(s, len, &p, 2);
    if (mon < 1 || mon > 12 || p >= len || s[p++] != '-')
        return LKS_ECORRUPT;
    int64_t day = digits(s, len, &p, 2);
    if (day < 1 || day > (int64_t)days_in_month(year, (unsigned)mon))
        return LKS_ECORRUPT;
    int64_t hh = 0, mm = 0, ss = 0, frac_us = 0;
    if (p < len && (s[p] == 'T' || s[p] == 't' || s[p] == ' ')) {
        p++;
        hh = digits(s, len, &p, 2);
        if (hh < 0 || hh > 23 || p >= len || s[p++] != ':')
            return LKS_ECORRUPT;
        mm = digits(s, len, &p, 2);
        if (mm < 0 || mm > 59)
            return LKS_ECORRUPT;
        if (p < len && s[p] == ':') {
            p++;
            ss = digits(s, len, &p, 2);
            if (ss < 0 || ss > 59)
                return LKS_ECORRUPT;
            if (p < len && s[p] == '.') {
                p++;
                static const int32_t scale[9] = {100000, 10000, 1000, 100, 10, 1, 0, 0, 0};
                int nd = 0;
                while (p < len && s[p] >= '0' && s[p] <= '9') {
                    if (nd == 9)
                        return LKS_ECORRUPT;
                    frac_us += (s[p] - '0') * scale[nd++]; /* digits past micros truncate */
                    p++;
                }
                if (nd == 0)
                    return LKS_ECORRUPT;
            }
        }
    }
    int64_t off_s = 0;
    if (p < len && (s[p] == 'Z' || s[p] == 'z')) {
        p++;
    } else if (p < len && (s[p] == '+' || s[p] == '-')) {
        int oneg = s[p++] == '-';
        int64_t oh = digits(s, len, &p, 2), om = 0;
        if (oh < 0 || oh > 23)
            return LKS_ECORRUPT;
        if (p < len && s[p] == ':') {
            p++;
            om = digits(s, len, &p, 2);
            if (om < 0)
                return LKS_ECORRUPT;
        } else if (p < len) {
            om = digits(s, len, &p, 2);
            if (om < 0)
                return LKS_ECORRUPT;
        }
        if (om > 59)
            return LKS_ECORRUPT;
        off_s = (oh * 3600 + om * 60) * (oneg ? -1 : 1);
    }
    if (p != len)
        return LKS_ECORRUPT;
    /* |year| < 1e9 keeps days*86400 within int64; microseconds may not fit. */
    int64_t days = lks_days_from_civil(year, (unsigned)mon, (unsigned)day);
    int64_t secs = days * 86400 + hh * 3600 + mm * 60 + ss - off_s;
    __int128 r = (__int128)secs * 1000000 + frac_us;
    if (r > INT64_MAX || r < INT64_MIN)
        return LKS_ECORRUPT;
    *us = (int64_t)r;
    return LKS_OK;
}
