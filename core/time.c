/*
 * time.c: the one time type (int64 ns since 1970, POSIX) and every conversion between it and
 * the time fields found in recordings. See DESIGN.md "Time" and
 * specs/v2x-wire-formats.md §3 for where each field comes from.
 *
 * Scales. POSIX/UTC time (vxs_time_t) does not count leap seconds; TAI, GPS time, ETSI
 * TimestampIts and 1609.2 Time64 do. Every leap-counting scale S here can be written as
 *
 *     S(t) = t + (TAI-UTC(t) - base) s                    (t = POSIX ns of the instant)
 *
 * with base = 32 for TimestampIts/Time64 (TAI-UTC was 32 s at their 2004 epoch) and base = 19
 * for GPS (TAI - GPS = 19 s by definition). So one function, utc_from_scale(), inverts all of
 * them, and it is the only place that has to think about the inserted second.
 *
 * Overflow. vxs_time_t spans 1677-09-21 .. 2262-04-11. Every sum or product that could leave
 * that range on hostile input is checked (UBSan runs in CI); conversions that cannot report an
 * error saturate, as documented in vxs_core.h.
 */
#include <stdint.h>

#include "vxs_core.h"
#include "vxs_core_int.h"

#define NS_PER_MIN (60 * VXS_NS_PER_S)
#define NS_PER_HOUR (3600 * VXS_NS_PER_S)
#define NS_PER_DAY (86400 * VXS_NS_PER_S)
#define NS_PER_WEEK (7 * NS_PER_DAY)

/* TAI - UTC at the ITS epoch 2004-01-01 (in force since 1999-01-01) and TAI - GPS. */
#define ITS_BASE_OFFSET 32
#define GPS_BASE_OFFSET 19

/* The leap-second table: the UTC instants at which TAI - UTC changed, and its value from then on.
 *
 * source: IERS Bulletin C, as published in leap-seconds.list (IETF/NIST format, here the copy
 * shipped by Debian tzdata 2025b as /usr/share/zoneinfo/leap-seconds.list: "Updated through IERS
 * Bulletin C", last update NTP 3960835200 = 2025-07-07, i.e. Bulletin C 70 of July 2025, which
 * announced no leap second at the end of December 2025). The file lists NTP seconds since 1900;
 * the values below are those minus 2208988800 (NTP 1900 -> POSIX 1970). Each change so far is
 * +1 s, inserted as 23:59:60 before the listed date.
 *
 * When IERS announces a new leap second, append it here and move k_leap_expires. */
typedef struct {
    vxs_time_t start; /* first POSIX instant with this offset */
    int tai_utc;      /* TAI - UTC, seconds */
} leap_entry_t;

static const leap_entry_t k_leap[] = {
    {INT64_C(63072000) * VXS_NS_PER_S, 10},   /* 1972-01-01 */
    {INT64_C(78796800) * VXS_NS_PER_S, 11},   /* 1972-07-01 */
    {INT64_C(94694400) * VXS_NS_PER_S, 12},   /* 1973-01-01 */
    {INT64_C(126230400) * VXS_NS_PER_S, 13},  /* 1974-01-01 */
    {INT64_C(157766400) * VXS_NS_PER_S, 14},  /* 1975-01-01 */
    {INT64_C(189302400) * VXS_NS_PER_S, 15},  /* 1976-01-01 */
    {INT64_C(220924800) * VXS_NS_PER_S, 16},  /* 1977-01-01 */
    {INT64_C(252460800) * VXS_NS_PER_S, 17},  /* 1978-01-01 */
    {INT64_C(283996800) * VXS_NS_PER_S, 18},  /* 1979-01-01 */
    {INT64_C(315532800) * VXS_NS_PER_S, 19},  /* 1980-01-01 */
    {INT64_C(362793600) * VXS_NS_PER_S, 20},  /* 1981-07-01 */
    {INT64_C(394329600) * VXS_NS_PER_S, 21},  /* 1982-07-01 */
    {INT64_C(425865600) * VXS_NS_PER_S, 22},  /* 1983-07-01 */
    {INT64_C(489024000) * VXS_NS_PER_S, 23},  /* 1985-07-01 */
    {INT64_C(567993600) * VXS_NS_PER_S, 24},  /* 1988-01-01 */
    {INT64_C(631152000) * VXS_NS_PER_S, 25},  /* 1990-01-01 */
    {INT64_C(662688000) * VXS_NS_PER_S, 26},  /* 1991-01-01 */
    {INT64_C(709948800) * VXS_NS_PER_S, 27},  /* 1992-07-01 */
    {INT64_C(741484800) * VXS_NS_PER_S, 28},  /* 1993-07-01 */
    {INT64_C(773020800) * VXS_NS_PER_S, 29},  /* 1994-07-01 */
    {INT64_C(820454400) * VXS_NS_PER_S, 30},  /* 1996-01-01 */
    {INT64_C(867715200) * VXS_NS_PER_S, 31},  /* 1997-07-01 */
    {INT64_C(915148800) * VXS_NS_PER_S, 32},  /* 1999-01-01 */
    {INT64_C(1136073600) * VXS_NS_PER_S, 33}, /* 2006-01-01 */
    {INT64_C(1230768000) * VXS_NS_PER_S, 34}, /* 2009-01-01 */
    {INT64_C(1341100800) * VXS_NS_PER_S, 35}, /* 2012-07-01 */
    {INT64_C(1435708800) * VXS_NS_PER_S, 36}, /* 2015-07-01 */
    {INT64_C(1483228800) * VXS_NS_PER_S, 37}, /* 2017-01-01 */
};
#define N_LEAP (sizeof k_leap / sizeof k_leap[0])

/* "File expires on 28 June 2026" (NTP 3991593600 - 2208988800 = 1782604800) in the
 * leap-seconds.list above: IERS has said nothing yet about the end of June 2026. */
static const vxs_time_t k_leap_expires = INT64_C(1782604800) * VXS_NS_PER_S;

/* ---- checked arithmetic ------------------------------------------------------------------- */

static bool add_i64(int64_t a, int64_t b, int64_t *out) {
    if ((b > 0 && a > INT64_MAX - b) || (b < 0 && a < INT64_MIN - b)) return false;
    *out = a + b;
    return true;
}

/* floor_to sets *out to the largest multiple of `period` (> 0) not after `t`; false if that is
 * below INT64_MIN. C division truncates toward zero, so negative times need the adjustment. */
static bool floor_to(int64_t t, int64_t period, int64_t *out) {
    int64_t r = t % period;
    if (r < 0) r += period;
    return add_i64(t, -r, out);
}

/* abs_diff returns |a - b| without overflow: the true difference always fits in uint64. */
static uint64_t abs_diff(int64_t a, int64_t b) {
    return a >= b ? (uint64_t)a - (uint64_t)b : (uint64_t)b - (uint64_t)a;
}

/* ---- leap seconds ------------------------------------------------------------------------- */

int vxs_tai_utc_offset(vxs_time_t t) {
    size_t i;
    /* Newest first: almost every recording is after 2017, so this returns at once. */
    for (i = N_LEAP; i-- > 0;) {
        if (t >= k_leap[i].start) return k_leap[i].tai_utc;
    }
    return k_leap[0].tai_utc; /* before 1972 UTC was not offset in whole seconds; documented */
}

vxs_time_t vxs_leap_table_expires(void) { return k_leap_expires; }

/* utc_from_scale inverts S(t) = t + (TAI-UTC(t) - base) s for x = S(t) in ns since 1970.
 *
 * Entry i applies when t >= k_leap[i].start, i.e. x >= start_i + shift_i. The inserted second
 * before entry i+1 is the range [start_{i+1} + shift_i, start_{i+1} + shift_{i+1}): there the
 * old offset would already give t >= start_{i+1}. POSIX time has no value for 23:59:60, so the
 * whole second is mapped onto start_{i+1} (00:00:00.000 of the next day): the result is
 * monotonic and never repeats a value, at the price of a 1 s plateau.
 * `start + shift` is a small number, so the comparison cannot overflow; x - shift is computed
 * only for the matching entry, where it lies inside the int64 range. */
static vxs_time_t utc_from_scale(int64_t x, int base) {
    size_t i;
    for (i = N_LEAP; i-- > 0;) {
        const int64_t shift = (int64_t)(k_leap[i].tai_utc - base) * VXS_NS_PER_S;
        if (x >= k_leap[i].start + shift) {
            const vxs_time_t t = x - shift;
            if (i + 1 < N_LEAP && t >= k_leap[i + 1].start) return k_leap[i + 1].start;
            return t;
        }
    }
    return x - (int64_t)(k_leap[0].tai_utc - base) * VXS_NS_PER_S;
}

/* ---- TimestampIts and Time64 (ETSI TS 102 894-2, IEEE 1609.2) ----------------------------- */

/* its_units_from_time converts t to units of `unit` ns on the ITS scale, truncating (t is at or
 * after the epoch here, so truncation is toward the earlier unit). */
static uint64_t its_units_from_time(vxs_time_t t, int64_t unit) {
    int64_t since;
    if (t < VXS_EPOCH_2004) return 0;
    since = (t - VXS_EPOCH_2004) / unit;
    /* TAI-UTC >= 32 from 1999 on, so the leap term is never negative here. */
    return (uint64_t)since +
           (uint64_t)(vxs_tai_utc_offset(t) - ITS_BASE_OFFSET) * (uint64_t)(VXS_NS_PER_S / unit);
}

static vxs_time_t time_from_its_units(uint64_t x, int64_t unit) {
    /* Values past year 2262 do not fit vxs_time_t: saturate (vxs_core.h). */
    const uint64_t max = (uint64_t)((INT64_MAX - VXS_EPOCH_2004) / unit);
    if (x > max) return INT64_MAX;
    return utc_from_scale(VXS_EPOCH_2004 + (int64_t)x * unit, ITS_BASE_OFFSET);
}

vxs_time_t vxs_time_from_its(uint64_t its_ms) { return time_from_its_units(its_ms, VXS_NS_PER_MS); }

uint64_t vxs_time_to_its(vxs_time_t t) { return its_units_from_time(t, VXS_NS_PER_MS); }

vxs_time_t vxs_time_from_time64(uint64_t time64_us) {
    return time_from_its_units(time64_us, VXS_NS_PER_US);
}

uint64_t vxs_time_to_time64(vxs_time_t t) { return its_units_from_time(t, VXS_NS_PER_US); }

/* unwrap_its resolves `value` = TimestampIts mod 2^bits to the candidate nearest `near`. near's
 * own TimestampIts is k0 * 2^bits + r; the nearest candidate on the ITS scale is within half a
 * period of it, so k0 - 1, k0, k0 + 1 cover it. Distances are compared after conversion to
 * vxs_time_t, as the header promises; ties go to the earlier candidate. */
static vxs_status_t unwrap_its(uint64_t value, unsigned bits, vxs_time_t near, vxs_time_t *out) {
    vxs_time_t best = VXS_TIME_NONE;
    uint64_t best_d = UINT64_MAX;
    uint64_t k0, k;
    VXS_RETURN_IF(out == NULL || near == VXS_TIME_NONE, VXS_E_ARG);
    k0 = vxs_time_to_its(near) >> bits;
    for (k = k0 > 0 ? k0 - 1 : 0; k <= k0 + 1; k++) {
        const vxs_time_t t = vxs_time_from_its((k << bits) + value);
        const uint64_t d = abs_diff(t, near);
        if (d < best_d) {
            best_d = d;
            best = t;
        }
    }
    *out = best;
    return VXS_OK;
}

vxs_status_t vxs_time_from_gn_tst(vxs_time_t *out, uint32_t tst, vxs_time_t near) {
    return unwrap_its(tst, 32, near, out);
}

vxs_status_t vxs_time_from_gdt(vxs_time_t *out, uint16_t gdt, vxs_time_t near) {
    return unwrap_its(gdt, 16, near, out);
}

/* ---- J2735 DSecond ------------------------------------------------------------------------ */

vxs_status_t vxs_time_from_secmark(vxs_time_t *out, uint16_t secmark, vxs_time_t near) {
    int64_t minute, offset, c;
    vxs_time_t best = VXS_TIME_NONE;
    uint64_t best_d = UINT64_MAX;
    VXS_RETURN_IF(out == NULL || near == VXS_TIME_NONE, VXS_E_ARG);
    /* J2735 DSecond: 0..60999 ms, 65535 = unavailable, the rest reserved. */
    if (secmark == 65535) return VXS_E_NOTFOUND;
    VXS_RETURN_IF(secmark >= 61000, VXS_E_MALFORMED);
    /* 60000..60999 exist only in the 61-second minute ending in a leap second; POSIX time has
     * no 23:59:60, so like TimestampIts they collapse onto the next minute's start. */
    offset = (secmark >= 60000 ? 60000 : (int64_t)secmark) * VXS_NS_PER_MS;
    VXS_RETURN_IF(!floor_to(near, NS_PER_MIN, &minute), VXS_E_ARG);
    /* near's minute and its neighbours: the true minute is one of them when |error| < 30 s. */
    for (c = -1; c <= 1; c++) {
        int64_t start, t;
        if (!add_i64(minute, c * NS_PER_MIN, &start) || !add_i64(start, offset, &t)) continue;
        if (t == VXS_TIME_NONE) continue;
        if (abs_diff(t, near) < best_d) {
            best_d = abs_diff(t, near);
            best = t;
        }
    }
    VXS_RETURN_IF(best == VXS_TIME_NONE, VXS_E_ARG); /* near at the very edge of the range */
    *out = best;
    return VXS_OK;
}

/* ---- GPS time ----------------------------------------------------------------------------- */

vxs_status_t vxs_time_from_gps(vxs_time_t *out, uint32_t week, int64_t ns_of_week) {
    int64_t room;
    VXS_RETURN_IF(out == NULL || ns_of_week < 0 || ns_of_week >= NS_PER_WEEK, VXS_E_ARG);
    /* GPS weeks past 2262 do not fit vxs_time_t. */
    VXS_RETURN_IF(week > (uint64_t)((INT64_MAX - VXS_EPOCH_GPS) / NS_PER_WEEK), VXS_E_ARG);
    room = INT64_MAX - VXS_EPOCH_GPS - (int64_t)week * NS_PER_WEEK;
    VXS_RETURN_IF(ns_of_week > room, VXS_E_ARG);
    /* GPS time as a count since 1970 that includes leap seconds after 1980: S(t) with
     * base 19. utc_from_scale looks the offset up at the UTC instant, not at the GPS label
     * (they differ by up to 18 s), and maps GPS labels of an inserted second onto 00:00:00. */
    *out = utc_from_scale(VXS_EPOCH_GPS + (int64_t)week * NS_PER_WEEK + ns_of_week,
                          GPS_BASE_OFFSET);
    return VXS_OK;
}

void vxs_time_to_gps(uint32_t *out_week, int64_t *out_ns_of_week, vxs_time_t t) {
    int64_t g = 0;
    /* GPS time does not exist before its epoch; report week 0, ns 0 (vxs_core.h). */
    if (t >= VXS_EPOCH_GPS) {
        /* t - epoch <= INT64_MAX - epoch, so adding the <= 18 s offset cannot overflow. */
        g = (t - VXS_EPOCH_GPS) +
            (int64_t)(vxs_tai_utc_offset(t) - GPS_BASE_OFFSET) * VXS_NS_PER_S;
    }
    if (out_week != NULL) *out_week = (uint32_t)(g / NS_PER_WEEK);
    if (out_ns_of_week != NULL) *out_ns_of_week = g % NS_PER_WEEK;
}

/* ---- Velodyne time past the hour ---------------------------------------------------------- */

vxs_status_t vxs_time_from_toh(vxs_time_t *out, uint32_t usec_toh, vxs_time_t near) {
    int64_t hour, t;
    VXS_RETURN_IF(out == NULL || near == VXS_TIME_NONE, VXS_E_ARG);
    VXS_RETURN_IF(usec_toh >= UINT32_C(3600000000), VXS_E_MALFORMED);
    /* The device counts µs since the top of its own hour; its clock may be off by seconds
     * from `near` (e.g. ≈0.37 s in mrpt_vlp16_gps.pcap), which near a full hour puts the two
     * in different hours. velodyne_driver/velodyne_decoder: if the result lands more than
     * half an hour from the reference, it belongs to the neighbouring hour. */
    VXS_RETURN_IF(!floor_to(near, NS_PER_HOUR, &hour), VXS_E_ARG);
    VXS_RETURN_IF(!add_i64(hour, (int64_t)usec_toh * VXS_NS_PER_US, &t), VXS_E_ARG);
    /* |t - near| < 1 h here, so the differences cannot overflow. */
    if (t - near > NS_PER_HOUR / 2) {
        VXS_RETURN_IF(!add_i64(t, -NS_PER_HOUR, &t), VXS_E_ARG);
    } else if (near - t > NS_PER_HOUR / 2) {
        VXS_RETURN_IF(!add_i64(t, NS_PER_HOUR, &t), VXS_E_ARG);
    }
    VXS_RETURN_IF(t == VXS_TIME_NONE, VXS_E_ARG);
    *out = t;
    return VXS_OK;
}

/* ---- civil time (proleptic Gregorian) ------------------------------------------------------ */

/* days_from_civil and civil_from_days are Howard Hinnant's algorithms ("chrono-Compatible
 * Low-Level Date Algorithms", howardhinnant.github.io/date_algorithms.html): exact for any
 * date, using March-based years so the leap day is the last day of the year. No timegm():
 * it is not C11, and mktime depends on TZ. */
static int64_t days_from_civil(int64_t y, int64_t m, int64_t d) {
    int64_t era, yoe, doy, doe;
    y -= m <= 2;
    era = (y >= 0 ? y : y - 399) / 400;
    yoe = y - era * 400;                                       /* [0, 399] */
    doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;     /* [0, 365] */
    doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;               /* [0, 146096] */
    return era * 146097 + doe - 719468;
}

static void civil_from_days(int64_t z, int64_t *y, int64_t *m, int64_t *d) {
    int64_t era, doe, yoe, doy, mp;
    z += 719468;
    era = (z >= 0 ? z : z - 146096) / 146097;
    doe = z - era * 146097;
    yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    mp = (5 * doy + 2) / 153;
    *d = doy - (153 * mp + 2) / 5 + 1;
    *m = mp < 10 ? mp + 3 : mp - 9;
    *y = yoe + era * 400 + (*m <= 2);
}

vxs_time_t vxs_time_from_civil(int year, int month, int day, int hour, int min, int sec,
                               int64_t nsec) {
    int64_t y = year, m = month, secs, rem, t;
    /* Carry months outside 1..12 into the year (floor division), so month 13 is next January
     * and month 0 the previous December; the other fields carry through the sum below. */
    const int64_t carry = (m - 1 >= 0 ? (m - 1) / 12 : -((12 - m) / 12));
    y += carry;
    m -= carry * 12;
    /* |days| < 2^31 * 366 and each field < 2^31 * 3600 s: the second count stays far inside
     * int64; only the scaling to ns and the nsec addition can overflow. */
    secs = days_from_civil(y, m, day) * 86400 + (int64_t)hour * 3600 + (int64_t)min * 60 + sec;
    /* Fold nsec into secs + rem, rem in (-1 s, 1 s) with the sign of secs, so secs * 1e9 stays
     * in range at both ends: INT64_MIN + 1 is -9223372036 s - 854775807 ns, and
     * -9223372037 s alone would not fit. */
    secs += nsec / VXS_NS_PER_S;
    rem = nsec % VXS_NS_PER_S;
    if (secs < 0 && rem > 0) {
        secs += 1;
        rem -= VXS_NS_PER_S;
    } else if (secs > 0 && rem < 0) {
        secs -= 1;
        rem += VXS_NS_PER_S;
    }
    if (secs > INT64_MAX / VXS_NS_PER_S || secs < INT64_MIN / VXS_NS_PER_S) return VXS_TIME_NONE;
    if (!add_i64(secs * VXS_NS_PER_S, rem, &t)) return VXS_TIME_NONE;
    return t;
}

char *vxs_time_format(char *buf, size_t buf_len, vxs_time_t t) {
    int64_t secs, ns, days, sod, y, m, d;
    if (buf == NULL || buf_len == 0) return buf;
    if (t == VXS_TIME_NONE) {
        (void)vxsi_fmt(buf, buf_len, "none");
        return buf;
    }
    /* Floor division: -1 ns is 1969-12-31T23:59:59.999999999Z, not 1970-01-01 minus a bit. */
    ns = t % VXS_NS_PER_S;
    secs = t / VXS_NS_PER_S;
    if (ns < 0) {
        ns += VXS_NS_PER_S;
        secs -= 1;
    }
    sod = secs % 86400;
    days = secs / 86400;
    if (sod < 0) {
        sod += 86400;
        days -= 1;
    }
    civil_from_days(days, &y, &m, &d);
    (void)vxsi_fmt(buf, buf_len, "%04d-%02d-%02dT%02d:%02d:%02d.%09dZ", (int)y, (int)m, (int)d,
                   (int)(sod / 3600), (int)(sod / 60 % 60), (int)(sod % 60), (int)ns);
    return buf;
}

/* digits reads exactly `n` decimal digits at *p into *out and advances *p. */
static bool digits(const char **p, int n, int *out) {
    int v = 0, i;
    for (i = 0; i < n; i++) {
        const char c = (*p)[i];
        if (c < '0' || c > '9') return false; /* also stops at the NUL */
        v = v * 10 + (c - '0');
    }
    *p += n;
    *out = v;
    return true;
}

static bool is_leap_year(int y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

static int days_in_month(int y, int m) {
    static const int k_days[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return m == 2 && is_leap_year(y) ? 29 : k_days[m - 1];
}

vxs_status_t vxs_time_parse(vxs_time_t *out, const char *s) {
    const char *p = s;
    int year, mon, day, hour, min, sec;
    int64_t frac = 0, scale = VXS_NS_PER_S;
    vxs_time_t t;
    VXS_RETURN_IF(s == NULL || out == NULL, VXS_E_ARG);
    if (!digits(&p, 4, &year) || *p++ != '-' || !digits(&p, 2, &mon) || *p++ != '-' ||
        !digits(&p, 2, &day))
        return VXS_E_MALFORMED;
    if (*p != 'T' && *p != ' ') return VXS_E_MALFORMED;
    p++;
    if (!digits(&p, 2, &hour) || *p++ != ':' || !digits(&p, 2, &min) || *p++ != ':' ||
        !digits(&p, 2, &sec))
        return VXS_E_MALFORMED;
    if (*p == '.') {
        /* ISO 8601 needs at least one digit after the decimal sign; more than 9 would be
         * below our resolution, and silently rounding an input is worse than refusing it. */
        int n = 0;
        p++;
        while (*p >= '0' && *p <= '9') {
            if (++n > 9) return VXS_E_MALFORMED;
            scale /= 10;
            frac += (*p - '0') * scale;
            p++;
        }
        if (n == 0) return VXS_E_MALFORMED;
    }
    if (*p == 'Z') p++;
    if (*p != '\0') return VXS_E_MALFORMED;
    if (mon < 1 || mon > 12 || day < 1 || day > days_in_month(year, mon) || hour > 23 ||
        min > 59 || sec > 60)
        return VXS_E_MALFORMED;
    /* Outside 1677-09-21 .. 2262-04-11 (and the VXS_TIME_NONE instant itself) does not fit. */
    t = vxs_time_from_civil(year, mon, day, hour, min, sec, frac);
    if (t == VXS_TIME_NONE) return VXS_E_MALFORMED;
    if (sec == 60) {
        /* 23:59:60 is a real UTC label only at the end of a day the table inserts a second
         * after; it then maps onto the next day's start like every other leap-second input. */
        const vxs_time_t next_day = vxs_time_from_civil(year, mon, day + 1, 0, 0, 0, 0);
        if (hour != 23 || min != 59 ||
            vxs_tai_utc_offset(next_day) == vxs_tai_utc_offset(next_day - 1))
            return VXS_E_MALFORMED;
        t = next_day;
    }
    *out = t;
    return VXS_OK;
}
