// Stream statistics: rate, median interval, gaps, jitter, order and duplicates.
#include <climits>
#include <cmath>

#include "test_util.h"
#include "vxs_sync.h"

namespace {

struct Stats {
    vxs_stream_stats_t *s = nullptr;
    Stats() { EXPECT_EQ(vxs_stream_stats_create(&s), VXS_OK); }
    ~Stats() { vxs_stream_stats_destroy(s); }
    vxs_stream_summary_t Sum() const {
        vxs_stream_summary_t out;
        vxs_stream_stats_summarize(s, &out);
        return out;
    }
};

const vxs_time_t kT0 = INT64_C(1453364282000000000); // 2016-01-21T08:18:02Z

TEST(StreamStats, EmptyAndSingle) {
    Stats st;
    vxs_stream_summary_t s = st.Sum();
    EXPECT_EQ(s.count, 0u);
    EXPECT_EQ(s.first, VXS_TIME_NONE);
    EXPECT_EQ(s.median_interval_ns, 0);
    EXPECT_EQ(vxs_stream_stats_add(st.s, kT0, 1), VXS_OK);
    EXPECT_EQ(vxs_stream_stats_add(st.s, VXS_TIME_NONE, 2), VXS_OK);
    s = st.Sum();
    EXPECT_EQ(s.count, 1u);
    EXPECT_EQ(s.untimed, 1u);
    EXPECT_EQ(s.first, kT0);
    EXPECT_EQ(s.last, kT0);
    EXPECT_EQ(s.rate_hz, 0.0);
    EXPECT_EQ(s.intervals, 0u);
}

TEST(StreamStats, RegularStreamWithOneGap) {
    // 10 Hz for 100 arrivals, a 1 s hole after arrival 50 (units are 1-based).
    Stats st;
    vxs_time_t t = kT0;
    for (uint64_t i = 1; i <= 100; i++) {
        ASSERT_EQ(vxs_stream_stats_add(st.s, t, i), VXS_OK);
        t += (i == 50) ? VXS_NS_PER_S : 100 * VXS_NS_PER_MS;
    }
    vxs_stream_summary_t s = st.Sum();
    EXPECT_EQ(s.count, 100u);
    EXPECT_EQ(s.intervals, 99u);
    EXPECT_EQ(s.median_interval_ns, 100 * VXS_NS_PER_MS); // exact: all in one bin
    EXPECT_EQ(s.gaps, 1u);
    EXPECT_EQ(s.jitter_ns, 0.0); // the one dropout is a gap, not jitter
    EXPECT_EQ(s.max_interval_ns, VXS_NS_PER_S);
    EXPECT_EQ(s.min_interval_ns, 100 * VXS_NS_PER_MS);
    EXPECT_EQ(s.out_of_order, 0u);
    EXPECT_EQ(s.duplicates, 0u);
    // 99 intervals over 98 * 0.1 + 1 = 10.8 s
    EXPECT_NEAR(s.rate_hz, 99.0 / 10.8, 1e-9);
    EXPECT_NEAR(s.mean_interval_ns, 10.8e9 / 99, 1.0);
    vxs_gap_t gaps[4];
    ASSERT_EQ(vxs_stream_stats_largest_gaps(st.s, gaps, 4), 1u);
    EXPECT_EQ(gaps[0].length_ns, VXS_NS_PER_S);
    EXPECT_EQ(gaps[0].unit, 51u);
    EXPECT_EQ(gaps[0].start, kT0 + 49 * 100 * VXS_NS_PER_MS);
}

TEST(StreamStats, ExactlyOneAndAHalfTimesTheMedianIsNotAGap) {
    // 100 intervals of 100 ms, then one of exactly 150 ms and one of 152 ms: only the last is
    // longer than 1.5 x the median, and the count agrees with the listed gaps.
    Stats st;
    vxs_time_t t = kT0;
    uint64_t u = 1;
    ASSERT_EQ(vxs_stream_stats_add(st.s, t, u++), VXS_OK);
    for (int i = 0; i < 100; i++) ASSERT_EQ(vxs_stream_stats_add(st.s, t += 100 * VXS_NS_PER_MS, u++), VXS_OK);
    ASSERT_EQ(vxs_stream_stats_add(st.s, t += 150 * VXS_NS_PER_MS, u++), VXS_OK);
    ASSERT_EQ(vxs_stream_stats_add(st.s, t += 152 * VXS_NS_PER_MS, u++), VXS_OK);
    vxs_stream_summary_t s = st.Sum();
    EXPECT_EQ(s.median_interval_ns, 100 * VXS_NS_PER_MS);
    EXPECT_EQ(s.gap_threshold_ns, 150 * VXS_NS_PER_MS);
    EXPECT_EQ(s.gaps, 1u);
    vxs_gap_t gaps[4];
    ASSERT_EQ(vxs_stream_stats_largest_gaps(st.s, gaps, 4), 1u);
    EXPECT_EQ(gaps[0].length_ns, 152 * VXS_NS_PER_MS);
}

TEST(StreamStats, JitterLeavesGapsOut) {
    // 60 % of intervals are 10 ms and 40 % are 30 ms: the median is 10 ms, so every 30 ms
    // interval is a gap and the remaining intervals are all equal: jitter 0.
    Stats st;
    vxs_time_t t = kT0;
    ASSERT_EQ(vxs_stream_stats_add(st.s, t, 1), VXS_OK);
    for (int i = 0; i < 1000; i++)
        ASSERT_EQ(vxs_stream_stats_add(st.s, t += (i % 5 < 3 ? 10 : 30) * VXS_NS_PER_MS, (uint64_t)i + 2),
                  VXS_OK);
    vxs_stream_summary_t s = st.Sum();
    EXPECT_EQ(s.median_interval_ns, 10 * VXS_NS_PER_MS);
    EXPECT_EQ(s.gaps, 400u);
    EXPECT_EQ(s.jitter_ns, 0.0);
    EXPECT_NEAR(s.mean_interval_ns, 18e6, 1.0); // the mean keeps every interval
}

TEST(StreamStats, JitterIsStandardDeviationOfIntervals) {
    // Intervals alternate 90 / 110 ms: mean 100 ms, sample std dev = 10 ms * sqrt(n/(n-1)).
    Stats st;
    vxs_time_t t = kT0;
    const int n = 1000;
    for (int i = 0; i <= n; i++) {
        ASSERT_EQ(vxs_stream_stats_add(st.s, t, (uint64_t)i + 1), VXS_OK);
        t += (i % 2 ? 110 : 90) * VXS_NS_PER_MS;
    }
    vxs_stream_summary_t s = st.Sum();
    EXPECT_NEAR(s.mean_interval_ns, 100e6, 1.0);
    EXPECT_NEAR(s.jitter_ns, 10e6 * std::sqrt((double)n / (n - 1)), 1.0);
    EXPECT_EQ(s.gaps, 0u);
}

TEST(StreamStats, OutOfOrderAndDuplicates) {
    Stats st;
    const vxs_time_t ms = VXS_NS_PER_MS;
    vxs_time_t times[] = {kT0, kT0 + 10 * ms, kT0 + 10 * ms, kT0 + 20 * ms, kT0 + 5 * ms,
                          kT0 + 30 * ms};
    for (size_t i = 0; i < 6; i++) ASSERT_EQ(vxs_stream_stats_add(st.s, times[i], i + 1), VXS_OK);
    vxs_stream_summary_t s = st.Sum();
    EXPECT_EQ(s.duplicates, 1u);
    EXPECT_EQ(s.first_duplicate_unit, 3u);
    EXPECT_EQ(s.out_of_order, 1u);
    EXPECT_EQ(s.first_out_of_order_unit, 5u);
    EXPECT_EQ(s.max_backstep_ns, 15 * ms);
    EXPECT_EQ(s.min, kT0);
    EXPECT_EQ(s.max, kT0 + 30 * ms);
    EXPECT_EQ(s.last, kT0 + 30 * ms);
    EXPECT_EQ(s.intervals, 4u); // 10, 0, 10, 10 (the late arrival adds none)
}

TEST(StreamStats, MedianWithinHistogramResolution) {
    // Irregular intervals: the true median of {1..999} µs steps is 500 µs.
    Stats st;
    vxs_time_t t = kT0;
    ASSERT_EQ(vxs_stream_stats_add(st.s, t, 1), VXS_OK);
    for (int k = 1; k <= 999; k++) {
        t += (vxs_time_t)((k * 379) % 999 + 1) * VXS_NS_PER_US;
        ASSERT_EQ(vxs_stream_stats_add(st.s, t, (uint64_t)k + 1), VXS_OK);
    }
    vxs_stream_summary_t s = st.Sum();
    EXPECT_NEAR((double)s.median_interval_ns, 500e3, 500e3 * 0.002);
}

TEST(StreamStats, MemoryDoesNotGrowWithStreamLength) {
    Stats st;
    vxs_time_t t = kT0;
    long before = 0;
    {
        vxs_test::FailAllocAfter count(LONG_MAX); // counts, never fails
        for (uint64_t i = 0; i < 2000000; i++) {
            ASSERT_EQ(vxs_stream_stats_add(st.s, t, i + 1), VXS_OK);
            t += 1327 * VXS_NS_PER_US + (vxs_time_t)(i % 7) * 1000;
            if (i == 1000) before = vxs_test::FailAllocAfter::AllocCount();
        }
        EXPECT_EQ(vxs_test::FailAllocAfter::AllocCount(), before);
    }
    EXPECT_EQ(st.Sum().count, 2000000u);
}

TEST(StreamStats, AllocationFailureIsReportedNotFatal) {
    vxs_stream_stats_t *s = nullptr;
    {
        vxs_test::FailAllocAfter fail(1);
        EXPECT_EQ(vxs_stream_stats_create(&s), VXS_E_NOMEM);
    }
    ASSERT_EQ(vxs_stream_stats_create(&s), VXS_OK);
    {
        vxs_test::FailAllocAfter fail(1);
        EXPECT_EQ(vxs_stream_stats_add(s, kT0, 1), VXS_OK);
        EXPECT_EQ(vxs_stream_stats_add(s, kT0 + 1000, 2), VXS_E_NOMEM);
    }
    vxs_stream_summary_t sum;
    vxs_stream_stats_summarize(s, &sum);
    EXPECT_EQ(sum.count, 2u); // counted even though its interval could not be binned
    vxs_stream_stats_destroy(s);
}

} // namespace
