// time_test.cc: the leap-second table and every time conversion.
//
// Every expected number below was computed independently of the code under test, with GNU
// date and Python's datetime (both POSIX, no leap seconds), e.g.
//   date -u -d 2017-01-01 +%s                          -> 1483228800
//   python3 -c "import datetime as d; print(int(d.datetime(2004,1,1,
//               tzinfo=d.timezone.utc).timestamp()))"   -> 1072915200
// and TimestampIts = (posix_ms - 1072915200000) + (TAI-UTC - 32) * 1000 (TAI-UTC from IERS
// Bulletin C: 32 s in 1999..2005, 33 from 2006, 34 from 2009, 35 from 2012-07, 36 from 2015-07,
// 37 from 2017).
#include <cstdint>
#include <cstring>
#include <ctime>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "vxs_core.h"

namespace {

constexpr int64_t kS = VXS_NS_PER_S;
constexpr int64_t kMs = VXS_NS_PER_MS;

// 2017-01-01T00:00:00Z (date -u -d 2017-01-01 +%s); a leap second 2016-12-31T23:59:60 precedes it.
constexpr int64_t kT2017 = INT64_C(1483228800) * kS;
// TimestampIts of 2017-01-01T00:00:00Z: (1483228800 - 1072915200) * 1000 + (37 - 32) * 1000.
constexpr uint64_t kIts2017 = UINT64_C(410313605000);
// 2009-01-01T00:00:00Z (date -u -d 2009-01-01 +%s), after the 2008-12-31 leap second.
constexpr int64_t kT2009 = INT64_C(1230768000) * kS;
// (1230768000 - 1072915200) * 1000 + (34 - 32) * 1000.
constexpr uint64_t kIts2009 = UINT64_C(157852802000);

// Leap instants since 2004 (the first instant after each inserted second), POSIX seconds:
// date -u -d 2006-01-01 +%s, ... 2009-01-01, 2012-07-01, 2015-07-01, 2017-01-01.
const int64_t kLeaps2004[] = {INT64_C(1136073600), INT64_C(1230768000), INT64_C(1341100800),
                              INT64_C(1435708800), INT64_C(1483228800)};

std::string Fmt(vxs_time_t t) {
    char buf[VXS_TIME_STRLEN];
    return vxs_time_format(buf, sizeof buf, t);
}

// ---- leap-second table -----------------------------------------------------------------------

TEST(Leap, TaiUtcOffset) {
    EXPECT_EQ(vxs_tai_utc_offset(INT64_MIN + 1), 10);
    EXPECT_EQ(vxs_tai_utc_offset(0), 10);                          // 1970: before the table
    EXPECT_EQ(vxs_tai_utc_offset(INT64_C(63072000) * kS), 10);     // 1972-01-01
    EXPECT_EQ(vxs_tai_utc_offset(INT64_C(78796800) * kS - 1), 10); // 1972-06-30T23:59:59.999...
    EXPECT_EQ(vxs_tai_utc_offset(INT64_C(78796800) * kS), 11);     // 1972-07-01
    EXPECT_EQ(vxs_tai_utc_offset(VXS_EPOCH_GPS), 19);              // 1980-01-06
    EXPECT_EQ(vxs_tai_utc_offset(VXS_EPOCH_2004), 32);
    EXPECT_EQ(vxs_tai_utc_offset(INT64_C(1136073600) * kS - 1), 32);
    EXPECT_EQ(vxs_tai_utc_offset(INT64_C(1136073600) * kS), 33);
    EXPECT_EQ(vxs_tai_utc_offset(kT2017 - 1), 36);
    EXPECT_EQ(vxs_tai_utc_offset(kT2017), 37);
    EXPECT_EQ(vxs_tai_utc_offset(INT64_C(1750000000) * kS), 37); // 2025-06-15
    EXPECT_EQ(vxs_tai_utc_offset(INT64_MAX), 37);
}

TEST(Leap, TableExpiry) {
    // leap-seconds.list (tzdata 2025b): "File expires on 28 June 2026";
    // date -u -d 2026-06-28 +%s -> 1782604800.
    EXPECT_EQ(vxs_leap_table_expires(), INT64_C(1782604800) * kS);
    EXPECT_EQ(Fmt(vxs_leap_table_expires()), "2026-06-28T00:00:00.000000000Z");
    // The table must cover at least the present.
    EXPECT_GT(vxs_leap_table_expires(), static_cast<int64_t>(std::time(nullptr)) * kS - 366 * 86400 * kS);
}

// ---- TimestampIts ----------------------------------------------------------------------------

TEST(Its, Epoch) {
    EXPECT_EQ(vxs_time_to_its(VXS_EPOCH_2004), 0u);
    EXPECT_EQ(vxs_time_from_its(0), VXS_EPOCH_2004);
    EXPECT_EQ(vxs_time_from_its(1), VXS_EPOCH_2004 + kMs);
    // Before 2004: 0.
    EXPECT_EQ(vxs_time_to_its(VXS_EPOCH_2004 - 1), 0u);
    EXPECT_EQ(vxs_time_to_its(0), 0u);
    EXPECT_EQ(vxs_time_to_its(-5 * kS), 0u);
    EXPECT_EQ(vxs_time_to_its(VXS_TIME_NONE), 0u);
}

TEST(Its, WorkedExamples) {
    EXPECT_EQ(vxs_time_to_its(kT2017), kIts2017);
    EXPECT_EQ(vxs_time_from_its(kIts2017), kT2017);
    // 2006-01-01: (1136073600 - 1072915200) * 1000 + 1000 = 63158401000.
    EXPECT_EQ(vxs_time_to_its(INT64_C(1136073600) * kS), UINT64_C(63158401000));
    // 2005-12-31T23:59:59.999: offset still 32: 63158399999.
    EXPECT_EQ(vxs_time_to_its(INT64_C(1136073600) * kS - kMs), UINT64_C(63158399999));
    // 2020-01-01 (date -u -d 2020-01-01 +%s = 1577836800): (1577836800 - 1072915200) * 1000 + 5000.
    EXPECT_EQ(vxs_time_to_its(INT64_C(1577836800) * kS), UINT64_C(504921605000));
    EXPECT_EQ(vxs_time_from_its(UINT64_C(504921605000)), INT64_C(1577836800) * kS);
    EXPECT_EQ(vxs_time_to_its(kT2009), kIts2009);
}

TEST(Its, TruncatesTowardEarlierMillisecond) {
    EXPECT_EQ(vxs_time_to_its(kT2017 + 999999), kIts2017);
    EXPECT_EQ(vxs_time_to_its(kT2017 + kMs), kIts2017 + 1);
    // 1 ns before the leap instant: 2016-12-31T23:59:59.999999999, offset 36 ->
    // (1483228799999 - 1072915200000) + 4000 = 410313603999.
    EXPECT_EQ(vxs_time_to_its(kT2017 - 1), UINT64_C(410313603999));
}

// 2016-12-31T23:59:60.000 .. .999 is TimestampIts 410313604000 .. 410313604999: all of it maps
// onto 2017-01-01T00:00:00.000, with the last ms before and the first after continuous.
TEST(Its, InsideLeapSecond2016) {
    EXPECT_EQ(vxs_time_from_its(UINT64_C(410313603999)), kT2017 - kMs); // 23:59:59.999
    for (uint64_t x : {UINT64_C(410313604000), UINT64_C(410313604001), UINT64_C(410313604500),
                       UINT64_C(410313604998), UINT64_C(410313604999)}) {
        EXPECT_EQ(vxs_time_from_its(x), kT2017) << x;
    }
    EXPECT_EQ(vxs_time_from_its(kIts2017), kT2017);          // 00:00:00.000
    EXPECT_EQ(vxs_time_from_its(kIts2017 + 1), kT2017 + kMs); // 00:00:00.001
    EXPECT_EQ(Fmt(vxs_time_from_its(UINT64_C(410313604500))), "2017-01-01T00:00:00.000000000Z");
}

TEST(Its, InsideLeapSecond2008) {
    // 2008-12-31T23:59:60 = [kIts2009 - 1000, kIts2009) = [157852801000, 157852802000).
    EXPECT_EQ(vxs_time_from_its(UINT64_C(157852800999)), kT2009 - kMs);
    EXPECT_EQ(vxs_time_from_its(UINT64_C(157852801000)), kT2009);
    EXPECT_EQ(vxs_time_from_its(UINT64_C(157852801777)), kT2009);
    EXPECT_EQ(vxs_time_from_its(UINT64_C(157852801999)), kT2009);
    EXPECT_EQ(vxs_time_from_its(UINT64_C(157852802000)), kT2009);
    EXPECT_EQ(vxs_time_from_its(UINT64_C(157852802001)), kT2009 + kMs);
}

bool InLeapSecond(uint64_t its) {
    for (int64_t s : kLeaps2004) {
        const uint64_t at = vxs_time_to_its(s * kS);
        if (its >= at - 1000 && its < at) return true;
    }
    return false;
}

TEST(Its, MonotonicAndRoundTripAroundEveryLeap) {
    for (int64_t s : kLeaps2004) {
        const uint64_t at = vxs_time_to_its(s * kS);
        vxs_time_t prev = vxs_time_from_its(at - 3000);
        for (uint64_t x = at - 3000; x <= at + 3000; x++) {
            const vxs_time_t t = vxs_time_from_its(x);
            ASSERT_GE(t, prev) << x;
            prev = t;
            if (!InLeapSecond(x)) {
                ASSERT_EQ(vxs_time_to_its(t), x) << x;
            }
        }
        // Every ms-aligned t round-trips.
        for (int64_t t = s * kS - 3 * kS; t <= s * kS + 3 * kS; t += kMs) {
            ASSERT_EQ(vxs_time_from_its(vxs_time_to_its(t)), t) << t;
        }
        // The POSIX time scale never repeats across the leap: 23:59:59.999 -> 00:00:00.000.
        EXPECT_EQ(vxs_time_to_its(s * kS) - vxs_time_to_its(s * kS - kMs), 1001u);
    }
}

TEST(Its, RoundTripSampled) {
    // 2004 .. 2200 in irregular steps (prime number of ms).
    for (int64_t t = VXS_EPOCH_2004; t < INT64_C(7258118400) * kS; t += INT64_C(7919) * 1000 * kS + 13 * kMs) {
        ASSERT_EQ(vxs_time_from_its(vxs_time_to_its(t)), t) << Fmt(t);
    }
}

TEST(Its, SaturatesBeyondRange) {
    EXPECT_EQ(vxs_time_from_its(UINT64_MAX), INT64_MAX);
    EXPECT_EQ(vxs_time_from_time64(UINT64_MAX), INT64_MAX);
    // The last representable instant converts without overflow.
    const uint64_t its_max = vxs_time_to_its(INT64_MAX);
    EXPECT_LE(vxs_time_from_its(its_max), INT64_MAX);
    EXPECT_GT(vxs_time_from_its(its_max), INT64_MAX - kMs);
}

// ---- Time64 ----------------------------------------------------------------------------------

TEST(Time64, WorkedExamplesAndLeap) {
    // Same scale in µs: 410313605000 * 1000.
    EXPECT_EQ(vxs_time_to_time64(kT2017), UINT64_C(410313605000000));
    EXPECT_EQ(vxs_time_from_time64(UINT64_C(410313605000000)), kT2017);
    EXPECT_EQ(vxs_time_to_time64(kT2017 + 999), UINT64_C(410313605000000)); // truncates
    EXPECT_EQ(vxs_time_to_time64(kT2017 - 1), UINT64_C(410313603999999));
    EXPECT_EQ(vxs_time_from_time64(UINT64_C(410313603999999)), kT2017 - 1000);
    EXPECT_EQ(vxs_time_from_time64(UINT64_C(410313604000000)), kT2017);
    EXPECT_EQ(vxs_time_from_time64(UINT64_C(410313604999999)), kT2017);
    EXPECT_EQ(vxs_time_from_time64(UINT64_C(410313605000001)), kT2017 + 1000);
    EXPECT_EQ(vxs_time_to_time64(VXS_EPOCH_2004 - 1), 0u);
    EXPECT_EQ(vxs_time_from_time64(0), VXS_EPOCH_2004);
    for (int64_t t = kT2017 - 2 * kS; t < kT2017 + 2 * kS; t += 997 * 1000) {
        ASSERT_EQ(vxs_time_from_time64(vxs_time_to_time64(t)), t);
    }
}

// ---- GeoNetworking TST (TimestampIts mod 2^32) -------------------------------------------------

// W = 118 * 2^32 = 506806140928 is a TST wrap; as UTC (offset 37):
// 1072915200000 + 506806140928 - 5000 = 1579721335928 ms = 2020-01-22T19:28:55.928Z.
constexpr int64_t kWrapW = INT64_C(1579721335928) * kMs;

TEST(GnTst, UnwrapAcrossWrap) {
    vxs_time_t t = 0;
    // near just after the wrap (W + 100 ms), tst just before it (2^32 - 50): W - 50 ms.
    ASSERT_EQ(vxs_time_from_gn_tst(&t, UINT32_C(4294967246), kWrapW + 100 * kMs), VXS_OK);
    EXPECT_EQ(t, INT64_C(1579721335878000000));
    // near just before the wrap (W - 50 ms), tst just after (100): W + 100 ms.
    ASSERT_EQ(vxs_time_from_gn_tst(&t, 100, kWrapW - 50 * kMs), VXS_OK);
    EXPECT_EQ(t, INT64_C(1579721336028000000));
    // No wrap: near W + 100, tst 200 -> W + 200.
    ASSERT_EQ(vxs_time_from_gn_tst(&t, 200, kWrapW + 100 * kMs), VXS_OK);
    EXPECT_EQ(t, INT64_C(1579721336128000000));
    // Days away (the sender's clock wrong by 3 days) still resolves into the near period.
    ASSERT_EQ(vxs_time_from_gn_tst(&t, 200, kWrapW + 3 * 86400 * kS), VXS_OK);
    EXPECT_EQ(t, INT64_C(1579721336128000000));
    EXPECT_EQ(vxs_time_from_gn_tst(&t, 200, VXS_TIME_NONE), VXS_E_ARG);
    EXPECT_EQ(vxs_time_from_gn_tst(nullptr, 200, kWrapW), VXS_E_ARG);
}

TEST(GnTst, AgreesWithFullTimestamp) {
    for (int64_t t = kT2017 - 5 * kS; t < kT2017 + 5 * kS; t += 333 * kMs) {
        const uint32_t tst = static_cast<uint32_t>(vxs_time_to_its(t));
        vxs_time_t got = 0;
        ASSERT_EQ(vxs_time_from_gn_tst(&got, tst, t + 1234 * kMs), VXS_OK);
        EXPECT_EQ(got, t);
    }
}

// ---- CAM generationDeltaTime (TimestampIts mod 65536) -------------------------------------------

// B = 7704493 * 65536 = 504921653248 (a multiple of 65536); as UTC:
// 1072915200000 + 504921653248 - 5000 = 1577836848248 ms = 2020-01-01T00:00:48.248Z.
constexpr int64_t kGdtB = INT64_C(1577836848248) * kMs;

TEST(Gdt, UnwrapAcrossWrap) {
    vxs_time_t t = 0;
    // near 10 ms after the boundary, gdt 65530 = B - 6: 16 ms before near.
    ASSERT_EQ(vxs_time_from_gdt(&t, 65530, kGdtB + 10 * kMs), VXS_OK);
    EXPECT_EQ(t, INT64_C(1577836848242000000));
    EXPECT_EQ(t, kGdtB + 10 * kMs - 16 * kMs);
    // near 6 ms before the boundary, gdt 10: 16 ms after near.
    ASSERT_EQ(vxs_time_from_gdt(&t, 10, kGdtB - 6 * kMs), VXS_OK);
    EXPECT_EQ(t, INT64_C(1577836848258000000));
    // 31.99 s after near, in the next period.
    ASSERT_EQ(vxs_time_from_gdt(&t, 32000, kGdtB + 10 * kMs), VXS_OK);
    EXPECT_EQ(t, kGdtB + 32000 * kMs);
    // near B + 32 s, gdt 65000: B + 65 s is 33 s after near, B - 536 ms is 32.536 s before
    // it: the earlier one is nearer.
    ASSERT_EQ(vxs_time_from_gdt(&t, 65000, kGdtB + 32000 * kMs), VXS_OK);
    EXPECT_EQ(t, kGdtB - 536 * kMs);
    EXPECT_EQ(vxs_time_from_gdt(&t, 1, VXS_TIME_NONE), VXS_E_ARG);
}

TEST(Gdt, AgreesWithFullTimestampAcrossLeap) {
    for (int64_t t = kT2017 - 5 * kS; t < kT2017 + 5 * kS; t += 111 * kMs) {
        const uint16_t gdt = static_cast<uint16_t>(vxs_time_to_its(t) % 65536);
        vxs_time_t got = 0;
        ASSERT_EQ(vxs_time_from_gdt(&got, gdt, t - 20 * kS), VXS_OK);
        EXPECT_EQ(got, t) << Fmt(t);
        ASSERT_EQ(vxs_time_from_gdt(&got, gdt, t + 20 * kS), VXS_OK);
        EXPECT_EQ(got, t) << Fmt(t);
    }
}

// ---- J2735 secMark -------------------------------------------------------------------------

// 2020-06-01T12:00:00Z: date -u -d '2020-06-01 12:00:00' +%s -> 1591012800.
constexpr int64_t kNoon = INT64_C(1591012800) * kS;

TEST(SecMark, MinuteRollover) {
    vxs_time_t t = 0;
    // near 12:00:00.100, secmark 59950 -> 11:59:59.950.
    ASSERT_EQ(vxs_time_from_secmark(&t, 59950, kNoon + 100 * kMs), VXS_OK);
    EXPECT_EQ(t, kNoon - 50 * kMs);
    EXPECT_EQ(Fmt(t), "2020-06-01T11:59:59.950000000Z");
    // near 11:59:59.900, secmark 50 -> 12:00:00.050.
    ASSERT_EQ(vxs_time_from_secmark(&t, 50, kNoon - 100 * kMs), VXS_OK);
    EXPECT_EQ(t, kNoon + 50 * kMs);
    // Same minute.
    ASSERT_EQ(vxs_time_from_secmark(&t, 30500, kNoon + 30 * kS), VXS_OK);
    EXPECT_EQ(t, kNoon + 30500 * kMs);
    // WYDOT-like: secMark 100 ms behind the capture clock.
    ASSERT_EQ(vxs_time_from_secmark(&t, 12345, kNoon + 12445 * kMs), VXS_OK);
    EXPECT_EQ(t, kNoon + 12345 * kMs);
    // Before 1970: near 1969-12-31T23:59:59.900 (-100 ms), secmark 50 -> +50 ms.
    ASSERT_EQ(vxs_time_from_secmark(&t, 50, -100 * kMs), VXS_OK);
    EXPECT_EQ(t, 50 * kMs);
    ASSERT_EQ(vxs_time_from_secmark(&t, 59900, 50 * kMs), VXS_OK);
    EXPECT_EQ(t, -100 * kMs);
}

TEST(SecMark, LeapSecondAndReservedValues) {
    vxs_time_t t = 0;
    // 2016-12-31T23:59:60.500 (secMark 60500 in the 61-s minute): next minute's start.
    ASSERT_EQ(vxs_time_from_secmark(&t, 60500, kT2017 - 500 * kMs), VXS_OK);
    EXPECT_EQ(t, kT2017);
    ASSERT_EQ(vxs_time_from_secmark(&t, 60000, kT2017 + 200 * kMs), VXS_OK);
    EXPECT_EQ(t, kT2017);
    ASSERT_EQ(vxs_time_from_secmark(&t, 60999, kT2017 - 2 * kS), VXS_OK);
    EXPECT_EQ(t, kT2017);
    t = 42;
    EXPECT_EQ(vxs_time_from_secmark(&t, 61000, kNoon), VXS_E_MALFORMED);
    EXPECT_EQ(vxs_time_from_secmark(&t, 65534, kNoon), VXS_E_MALFORMED);
    EXPECT_EQ(vxs_time_from_secmark(&t, 65535, kNoon), VXS_E_NOTFOUND);
    EXPECT_EQ(t, 42);
    EXPECT_EQ(vxs_time_from_secmark(&t, 0, VXS_TIME_NONE), VXS_E_ARG);
    EXPECT_EQ(vxs_time_from_secmark(nullptr, 0, kNoon), VXS_E_ARG);
}

TEST(SecMark, RangeEdgesDoNotOverflow) {
    vxs_time_t t = 0;
    // INT64_MAX = 9223372036854775807 is 16.854775807 s into the minute starting at
    // 9223372020000000000 (153722867 * 60 s); the next minute is out of range, so the
    // candidate 1 ms before that minute wins.
    ASSERT_EQ(vxs_time_from_secmark(&t, 59999, INT64_MAX), VXS_OK);
    EXPECT_EQ(t, INT64_C(9223372019999000000));
    // INT64_MIN + 1's minute starts below INT64_MIN: an argument error, not overflow.
    EXPECT_EQ(vxs_time_from_secmark(&t, 0, INT64_MIN + 1), VXS_E_ARG);
}

// ---- GPS -------------------------------------------------------------------------------------

TEST(Gps, WorkedExample) {
    vxs_time_t t = 0;
    // GPS week 2087 starts 2020-01-05T00:00:00 GPS: 315964800 + 2087 * 604800 = 1578182400
    // (date -u -d @1578182400 -> Sun Jan 5 2020). GPS - UTC = 18 s:
    // 2020-01-04T23:59:42Z = 1578182382.
    ASSERT_EQ(vxs_time_from_gps(&t, 2087, 0), VXS_OK);
    EXPECT_EQ(t, INT64_C(1578182382) * kS);
    EXPECT_EQ(Fmt(t), "2020-01-04T23:59:42.000000000Z");
    // Week 2086 starts a week earlier: 2019-12-29 GPS = 2019-12-28T23:59:42Z.
    ASSERT_EQ(vxs_time_from_gps(&t, 2086, 0), VXS_OK);
    EXPECT_EQ(Fmt(t), "2019-12-28T23:59:42.000000000Z");
    // The epoch: GPS - UTC was 0 on 1980-01-06.
    ASSERT_EQ(vxs_time_from_gps(&t, 0, 0), VXS_OK);
    EXPECT_EQ(t, VXS_EPOCH_GPS);
    uint32_t week = 0;
    int64_t ns = -1;
    // 2020-01-01T00:00:00Z: 1577836800 + 18 - 315964800 = 1261872018 s = week 2086 + 259218 s.
    vxs_time_to_gps(&week, &ns, INT64_C(1577836800) * kS);
    EXPECT_EQ(week, 2086u);
    EXPECT_EQ(ns, INT64_C(259218) * kS);
    vxs_time_to_gps(&week, &ns, VXS_EPOCH_GPS - 1);
    EXPECT_EQ(week, 0u);
    EXPECT_EQ(ns, 0);
    vxs_time_to_gps(nullptr, nullptr, VXS_EPOCH_GPS); // outputs are optional
}

// GPS week 1930 starts at GPS label 2017-01-01T00:00:00 (315964800 + 1930 * 604800 =
// 1483228800). Before the leap GPS - UTC = 17 s, after it 18 s, so TOW 17 s is 23:59:60 UTC.
TEST(Gps, LeapBoundary) {
    vxs_time_t t = 0;
    ASSERT_EQ(vxs_time_from_gps(&t, 1930, 0), VXS_OK);
    EXPECT_EQ(t, kT2017 - 17 * kS); // 2016-12-31T23:59:43Z
    ASSERT_EQ(vxs_time_from_gps(&t, 1930, 17 * kS - kMs), VXS_OK);
    EXPECT_EQ(t, kT2017 - kMs); // 23:59:59.999
    for (int64_t ns : {17 * kS, 17 * kS + 1, 17 * kS + 500 * kMs, 18 * kS - 1, 18 * kS}) {
        ASSERT_EQ(vxs_time_from_gps(&t, 1930, ns), VXS_OK);
        EXPECT_EQ(t, kT2017) << ns; // the inserted second and the instant after it
    }
    ASSERT_EQ(vxs_time_from_gps(&t, 1930, 18 * kS + kMs), VXS_OK);
    EXPECT_EQ(t, kT2017 + kMs);
    uint32_t week = 0;
    int64_t ns = 0;
    vxs_time_to_gps(&week, &ns, kT2017);
    EXPECT_EQ(week, 1930u);
    EXPECT_EQ(ns, 18 * kS);
    vxs_time_to_gps(&week, &ns, kT2017 - kMs);
    EXPECT_EQ(week, 1930u);
    EXPECT_EQ(ns, 17 * kS - kMs);
}

TEST(Gps, RoundTripAndArguments) {
    for (int64_t t = VXS_EPOCH_GPS; t < INT64_C(4102444800) * kS; t += INT64_C(86399) * 997 * kMs) {
        uint32_t week;
        int64_t ns;
        vxs_time_t back = 0;
        vxs_time_to_gps(&week, &ns, t);
        ASSERT_EQ(vxs_time_from_gps(&back, week, ns), VXS_OK);
        ASSERT_EQ(back, t) << Fmt(t);
    }
    vxs_time_t t = 0;
    EXPECT_EQ(vxs_time_from_gps(&t, 2000, -1), VXS_E_ARG);
    EXPECT_EQ(vxs_time_from_gps(&t, 2000, 604800 * kS), VXS_E_ARG);
    EXPECT_EQ(vxs_time_from_gps(&t, UINT32_MAX, 0), VXS_E_ARG); // beyond year 2262
    EXPECT_EQ(vxs_time_from_gps(nullptr, 2000, 0), VXS_E_ARG);
    ASSERT_EQ(vxs_time_from_gps(&t, 2000, 604800 * kS - 1), VXS_OK);
}

// ---- Velodyne time of hour -------------------------------------------------------------------

// 2019-03-05T11:00:00Z: date -u -d '2019-03-05 11:00:00' +%s -> 1551783600.
constexpr int64_t kEleven = INT64_C(1551783600) * kS;

TEST(Toh, HourAmbiguity) {
    vxs_time_t t = 0;
    // near 10:59:50, device says 5 s past the hour: it is already 11:00:05.
    ASSERT_EQ(vxs_time_from_toh(&t, 5000000, kEleven - 10 * kS), VXS_OK);
    EXPECT_EQ(t, kEleven + 5 * kS);
    // near 11:00:05, device says 59 min 58 s: still 10:59:58.
    ASSERT_EQ(vxs_time_from_toh(&t, 3598000000u, kEleven + 5 * kS), VXS_OK);
    EXPECT_EQ(t, kEleven - 2 * kS);
    EXPECT_EQ(Fmt(t), "2019-03-05T10:59:58.000000000Z");
    // Mid-hour, device 0.37 s ahead of the capture clock (as in mrpt_vlp16_gps.pcap):
    // near 11:20:00.000, usec 20 min + 0.37 s.
    ASSERT_EQ(vxs_time_from_toh(&t, 1200370000u, kEleven + 1200 * kS), VXS_OK);
    EXPECT_EQ(t, kEleven + 1200 * kS + 370 * kMs);
    // Exactly 30 min apart is not "more than 30 min": no move either way.
    ASSERT_EQ(vxs_time_from_toh(&t, 1800000000u, kEleven), VXS_OK);
    EXPECT_EQ(t, kEleven + 1800 * kS);
    ASSERT_EQ(vxs_time_from_toh(&t, 0, kEleven + 1800 * kS), VXS_OK);
    EXPECT_EQ(t, kEleven);
    ASSERT_EQ(vxs_time_from_toh(&t, 1, kEleven + 1800 * kS), VXS_OK);
    EXPECT_EQ(t, kEleven + 1000);
    ASSERT_EQ(vxs_time_from_toh(&t, 1800000001u, kEleven), VXS_OK);
    EXPECT_EQ(t, kEleven - 1800 * kS + 1000);
    // Before 1970 (floor, not truncation): near 1969-12-31T23:59:50, usec 5 s -> 00:00:05.
    ASSERT_EQ(vxs_time_from_toh(&t, 5000000, -10 * kS), VXS_OK);
    EXPECT_EQ(t, 5 * kS);
}

TEST(Toh, Errors) {
    vxs_time_t t = 7;
    EXPECT_EQ(vxs_time_from_toh(&t, 3600000000u, kEleven), VXS_E_MALFORMED);
    EXPECT_EQ(vxs_time_from_toh(&t, UINT32_MAX, kEleven), VXS_E_MALFORMED);
    EXPECT_EQ(vxs_time_from_toh(&t, 0, VXS_TIME_NONE), VXS_E_ARG);
    EXPECT_EQ(vxs_time_from_toh(nullptr, 0, kEleven), VXS_E_ARG);
    EXPECT_EQ(t, 7);
    ASSERT_EQ(vxs_time_from_toh(&t, 3599999999u, kEleven), VXS_OK);
    EXPECT_EQ(t, kEleven - 1000);
    // At the very top of the range the next hour does not exist: an error, not overflow.
    EXPECT_EQ(vxs_time_from_toh(&t, 3599999999u, INT64_MAX), VXS_E_ARG);
}

// ---- format / parse / civil ------------------------------------------------------------------

TEST(Format, WorkedExamples) {
    EXPECT_EQ(Fmt(0), "1970-01-01T00:00:00.000000000Z");
    EXPECT_EQ(Fmt(-1), "1969-12-31T23:59:59.999999999Z");
    // python3: datetime(1970,1,1) + timedelta(seconds=-9223372037, ...) for INT64_MIN+1 etc.
    EXPECT_EQ(Fmt(INT64_MIN + 1), "1677-09-21T00:12:43.145224193Z");
    EXPECT_EQ(Fmt(INT64_MAX), "2262-04-11T23:47:16.854775807Z");
    // date -u -d @1715933882 -> 2024-05-17 08:18:02.
    EXPECT_EQ(Fmt(INT64_C(1715933882123456789)), "2024-05-17T08:18:02.123456789Z");
    // date -u -d @-2208988800 -> 1900-01-01 (not a leap year).
    EXPECT_EQ(Fmt(INT64_C(-2208988800) * kS), "1900-01-01T00:00:00.000000000Z");
    // date -u -d @951827696 -> 2000-02-29 12:34:56 (a leap year: divisible by 400).
    EXPECT_EQ(Fmt(INT64_C(951827696) * kS), "2000-02-29T12:34:56.000000000Z");
    EXPECT_EQ(Fmt(VXS_TIME_NONE), "none");
    char small[11];
    EXPECT_STREQ(vxs_time_format(small, sizeof small, 0), "1970-01-01");
    EXPECT_EQ(vxs_time_format(nullptr, 0, 0), nullptr);
}

// Every day from 1901 to 2099 against the C library's gmtime_r, an independent implementation.
TEST(Format, AgreesWithGmtime) {
    for (int64_t s = INT64_C(-2177452800); s < INT64_C(4102444800); s += 86400 - 7) {
        const time_t tt = static_cast<time_t>(s);
        struct tm tm;
        ASSERT_NE(gmtime_r(&tt, &tm), nullptr);
        char want[64];
        std::strftime(want, sizeof want, "%Y-%m-%dT%H:%M:%S.000000042Z", &tm);
        ASSERT_EQ(Fmt(s * kS + 42), want);
        ASSERT_EQ(vxs_time_from_civil(tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
                                      tm.tm_min, tm.tm_sec, 42),
                  s * kS + 42);
    }
}

TEST(Civil, Examples) {
    EXPECT_EQ(vxs_time_from_civil(1970, 1, 1, 0, 0, 0, 0), 0);
    EXPECT_EQ(vxs_time_from_civil(1969, 12, 31, 23, 59, 59, 999999999), -1);
    EXPECT_EQ(vxs_time_from_civil(2000, 2, 29, 12, 34, 56, 0), INT64_C(951827696) * kS);
    EXPECT_EQ(vxs_time_from_civil(2004, 1, 1, 0, 0, 0, 0), VXS_EPOCH_2004);
    EXPECT_EQ(vxs_time_from_civil(1980, 1, 6, 0, 0, 0, 0), VXS_EPOCH_GPS);
    // python3: datetime(1678,1,1,tzinfo=utc).timestamp() -> -9214560000;
    // datetime(2261,12,31,23,59,59,...) -> 9214646399.
    EXPECT_EQ(vxs_time_from_civil(1678, 1, 1, 0, 0, 0, 0), INT64_C(-9214560000) * kS);
    EXPECT_EQ(vxs_time_from_civil(2261, 12, 31, 23, 59, 59, 0), INT64_C(9214646399) * kS);
    // 60 s is the next minute's start; month 13 is January of the next year.
    EXPECT_EQ(vxs_time_from_civil(2016, 12, 31, 23, 59, 60, 0), kT2017);
    EXPECT_EQ(vxs_time_from_civil(2016, 13, 1, 0, 0, 0, 0), kT2017);
    EXPECT_EQ(vxs_time_from_civil(2017, 0, 1, 0, 0, 0, 0),
              vxs_time_from_civil(2016, 12, 1, 0, 0, 0, 0));
    // Outside the vxs_time_t range: VXS_TIME_NONE, never overflow.
    EXPECT_EQ(vxs_time_from_civil(3000, 1, 1, 0, 0, 0, 0), VXS_TIME_NONE);
    EXPECT_EQ(vxs_time_from_civil(1000, 1, 1, 0, 0, 0, 0), VXS_TIME_NONE);
    EXPECT_EQ(vxs_time_from_civil(2262, 4, 11, 23, 47, 16, 854775807), INT64_MAX);
    EXPECT_EQ(vxs_time_from_civil(2262, 4, 11, 23, 47, 16, 854775808), VXS_TIME_NONE);
    EXPECT_EQ(vxs_time_from_civil(1677, 9, 21, 0, 12, 43, 145224193), INT64_MIN + 1);
    EXPECT_EQ(vxs_time_from_civil(1677, 9, 21, 0, 12, 43, 145224192), VXS_TIME_NONE);
    // nsec carries into seconds in both directions.
    EXPECT_EQ(vxs_time_from_civil(1970, 1, 1, 0, 0, 1, -1), 999999999);
    EXPECT_EQ(vxs_time_from_civil(1970, 1, 1, 0, 0, 0, 3 * kS + 5), 3 * kS + 5);
    EXPECT_EQ(vxs_time_from_civil(1969, 12, 31, 23, 59, 59, 2 * kS), kS);
    EXPECT_EQ(vxs_time_from_civil(INT32_MAX, INT32_MAX, INT32_MAX, INT32_MAX, INT32_MAX,
                                  INT32_MAX, INT64_MAX),
              VXS_TIME_NONE);
}

TEST(Parse, Accepts) {
    vxs_time_t t = 0;
    ASSERT_EQ(vxs_time_parse(&t, "2024-05-17T08:18:02.123456789Z"), VXS_OK);
    EXPECT_EQ(t, INT64_C(1715933882123456789));
    ASSERT_EQ(vxs_time_parse(&t, "2024-05-17 08:18:02.123456789"), VXS_OK);
    EXPECT_EQ(t, INT64_C(1715933882123456789));
    ASSERT_EQ(vxs_time_parse(&t, "2024-05-17T08:18:02Z"), VXS_OK);
    EXPECT_EQ(t, INT64_C(1715933882) * kS);
    ASSERT_EQ(vxs_time_parse(&t, "2024-05-17T08:18:02"), VXS_OK);
    EXPECT_EQ(t, INT64_C(1715933882) * kS);
    ASSERT_EQ(vxs_time_parse(&t, "2024-05-17T08:18:02.5"), VXS_OK);
    EXPECT_EQ(t, INT64_C(1715933882) * kS + 500 * kMs);
    ASSERT_EQ(vxs_time_parse(&t, "2024-05-17T08:18:02.000001Z"), VXS_OK);
    EXPECT_EQ(t, INT64_C(1715933882) * kS + 1000);
    ASSERT_EQ(vxs_time_parse(&t, "1969-12-31T23:59:59.999999999Z"), VXS_OK);
    EXPECT_EQ(t, -1);
    ASSERT_EQ(vxs_time_parse(&t, "2024-02-29T00:00:00Z"), VXS_OK);
    ASSERT_EQ(vxs_time_parse(&t, "2000-02-29T00:00:00Z"), VXS_OK);
    ASSERT_EQ(vxs_time_parse(&t, "1678-01-01T00:00:00Z"), VXS_OK);
    EXPECT_EQ(t, INT64_C(-9214560000) * kS);
    ASSERT_EQ(vxs_time_parse(&t, "2261-12-31T23:59:59.999999999Z"), VXS_OK);
    ASSERT_EQ(vxs_time_parse(&t, "1677-09-21T00:12:43.145224193Z"), VXS_OK);
    EXPECT_EQ(t, INT64_MIN + 1);
    ASSERT_EQ(vxs_time_parse(&t, "2262-04-11T23:47:16.854775807Z"), VXS_OK);
    EXPECT_EQ(t, INT64_MAX);
    // A real leap second maps onto the next day's start.
    ASSERT_EQ(vxs_time_parse(&t, "2016-12-31T23:59:60Z"), VXS_OK);
    EXPECT_EQ(t, kT2017);
    ASSERT_EQ(vxs_time_parse(&t, "2016-12-31T23:59:60.75Z"), VXS_OK);
    EXPECT_EQ(t, kT2017);
    ASSERT_EQ(vxs_time_parse(&t, "1972-06-30T23:59:60Z"), VXS_OK);
    EXPECT_EQ(t, INT64_C(78796800) * kS);
}

TEST(Parse, RoundTripsFormat) {
    for (vxs_time_t t : {int64_t{0}, int64_t{-1}, INT64_MIN + 1, INT64_MAX,
                         INT64_C(1715933882123456789), INT64_C(-2208988800) * kS}) {
        vxs_time_t back = 0;
        ASSERT_EQ(vxs_time_parse(&back, Fmt(t).c_str()), VXS_OK) << Fmt(t);
        EXPECT_EQ(back, t);
    }
}

TEST(Parse, Rejects) {
    const char *bad[] = {
        "",
        "2024",
        "2024-05-17",
        "2024-05-17T",
        "2024-05-17T08:18",
        "2024-05-17T08:18:02.",           // no digit after the point
        "2024-05-17T08:18:02.1234567890", // 10 digits
        "2024-05-17T08:18:02Zjunk",       // trailing junk
        "2024-05-17T08:18:02 ",
        "2024-05-17T08:18:02ZZ",
        "2024-05-17T08:18:02+01:00",
        " 2024-05-17T08:18:02",
        "2024-5-17T08:18:02",
        "2024/05/17T08:18:02",
        "2024-05-17t08:18:02",
        "2024-05-17X08:18:02",
        "2024-00-17T08:18:02",
        "2024-13-01T00:00:00",
        "2024-04-31T00:00:00",
        "2023-02-29T00:00:00", // not a leap year
        "1900-02-29T00:00:00", // not a leap year (divisible by 100)
        "2024-05-00T00:00:00",
        "2024-05-17T24:00:00",
        "2024-05-17T23:60:00",
        "2024-05-17T23:59:61",
        "2017-12-31T23:59:60Z", // no leap second that day
        "2016-12-31T22:59:60Z", // 60 s only in the day's last minute
        "1677-09-21T00:12:43.145224192Z", // INT64_MIN: the VXS_TIME_NONE marker
        "1677-09-21T00:12:43Z",           // before INT64_MIN
        "2262-04-11T23:47:16.854775808Z", // after INT64_MAX
        "1000-01-01T00:00:00Z",
        "9999-12-31T23:59:59Z",
        "+024-05-17T08:18:02",
        "2024-05-17T08:18:0a",
        "2024-05-17T08:18:02.12a",
        "garbage",
    };
    for (const char *s : bad) {
        vxs_time_t t = 12345;
        EXPECT_EQ(vxs_time_parse(&t, s), VXS_E_MALFORMED) << s;
        EXPECT_EQ(t, 12345) << s;
    }
    vxs_time_t t = 0;
    EXPECT_EQ(vxs_time_parse(&t, nullptr), VXS_E_ARG);
    EXPECT_EQ(vxs_time_parse(nullptr, "2024-05-17T08:18:02"), VXS_E_ARG);
}

} // namespace
