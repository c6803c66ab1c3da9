// Link quality (vxs_sync.h section 6, vxs_link_t): what a receiver got of what a sender sent,
// from the sender's message counter; on made-up sequences whose loss is known by construction,
// and on the Wyoming OBU log, whose received BSMs' msgCnt gaps SOURCES.md lists.
#include <cmath>
#include <cstring>
#include <set>
#include <string>
#include <vector>

#include "test_util.h"
#include "vxs_sync.h"
#include "vxs_v2x.h"

namespace {

constexpr vxs_time_t kT0 = 1718181000000000000LL;
constexpr vxs_time_t kMs = 1000000LL;

// Feed gives messages i = 0..n-1 of a 10 Hz sender (counter i mod 128, generated every 100 ms)
// but those in `lost`, in order, and finishes.
vxs_link_t Feed(int n, const std::set<int> &lost, bool times = true) {
    vxs_link_t l;
    vxs_link_init(&l, 128);
    for (int i = 0; i < n; i++) {
        if (lost.count(i)) continue;
        EXPECT_EQ(vxs_link_add(&l, i % 128, times ? kT0 + i * 100 * kMs : VXS_TIME_NONE),
                  VXS_LINK_NEW)
            << i;
    }
    vxs_link_finish(&l);
    return l;
}

TEST(Link, LossAndBurstsAcrossCounterWraps) {
    // 600 messages (the counter wraps four times); lost: 5 single, a run of 3, a run of 20.
    std::set<int> lost = {10, 130, 131, 132, 200, 255, 256, 400, 599 /* after the last */};
    for (int i = 300; i < 320; i++) lost.insert(i);
    for (bool times : {true, false}) {
        SCOPED_TRACE(times ? "with generation times" : "counters alone");
        const vxs_link_t l = Feed(600, lost, times);
        EXPECT_EQ(l.received, 600u - lost.size());
        EXPECT_EQ(l.delivered, l.received);
        EXPECT_EQ(l.lost, lost.size() - 1) << "the last message's loss is unknown to the receiver";
        EXPECT_EQ(l.sent, 599u);
        EXPECT_EQ(l.bursts[1], 3u); // 10, 200, 400
        EXPECT_EQ(l.bursts[2], 1u); // 255-256
        EXPECT_EQ(l.bursts[3], 1u); // 130-132
        EXPECT_EQ(l.bursts[VXS_LINK_BURSTS], 1u); // 20 in a row
        EXPECT_EQ(l.longest_burst, 20u);
        EXPECT_EQ(l.duplicates + l.reordered + l.stale + l.reused, 0u);
    }
}

// A silence longer than a counter cycle (30 s of a 10 Hz sender: 300 messages, the counter
// round more than twice) is counted whole by the generation times; by the counter alone it
// could not be.
TEST(Link, SilenceLongerThanACycleIsCountedWhole) {
    std::set<int> lost;
    for (int i = 100; i < 400; i++) lost.insert(i);
    const vxs_link_t l = Feed(500, lost);
    EXPECT_EQ(l.lost, 300u);
    EXPECT_EQ(l.sent, 500u);
    EXPECT_EQ(l.longest_burst, 300u);
    EXPECT_EQ(l.bursts[VXS_LINK_BURSTS], 1u);
    EXPECT_NEAR(l.interval_s, 0.1, 1e-9);
}

TEST(Link, DuplicatesReorderedStaleAndReusedCounters) {
    vxs_link_t l;
    vxs_link_init(&l, 128);
    auto add = [&](int i, vxs_time_t gen) { return vxs_link_add(&l, i % 128, gen); };
    auto at = [](int i) { return kT0 + i * 100 * kMs; };
    for (int i = 0; i < 10; i++) EXPECT_EQ(add(i, at(i)), VXS_LINK_NEW);
    EXPECT_EQ(add(9, at(9)), VXS_LINK_DUPLICATE);             // received twice
    EXPECT_EQ(add(11, at(11)), VXS_LINK_NEW);                 // 10 late...
    EXPECT_EQ(add(10, at(10)), VXS_LINK_REORDERED);           // ...fills its place: not lost
    EXPECT_EQ(add(10, at(10)), VXS_LINK_DUPLICATE);
    EXPECT_EQ(add(11, at(11) + 40 * kMs), VXS_LINK_REUSED);   // the counter did not step
    for (int i = 12; i < 12 + VXS_LINK_WINDOW + 10; i++) {
        if (i == 20) continue;
        EXPECT_EQ(add(i, at(i)), VXS_LINK_NEW) << i;
    }
    EXPECT_EQ(add(20, at(20)), VXS_LINK_STALE); // its place left the window: counted lost
    EXPECT_EQ(vxs_link_add(&l, 128, at(0)), VXS_LINK_BAD);
    EXPECT_EQ(vxs_link_add(&l, -1, at(0)), VXS_LINK_BAD);
    vxs_link_finish(&l);
    const uint64_t places = 12 + VXS_LINK_WINDOW + 10;
    EXPECT_EQ(l.duplicates, 2u);
    EXPECT_EQ(l.reordered, 2u); // 10, and the stale 20
    EXPECT_EQ(l.stale, 1u);
    EXPECT_EQ(l.reused, 1u);
    EXPECT_EQ(l.lost, 1u);     // 20, settled before it came
    EXPECT_EQ(l.delivered, places + 1); // every place, and the reused counter's message
    EXPECT_EQ(l.received, l.delivered + l.duplicates);
    EXPECT_EQ(l.sent, places + 1);
    EXPECT_EQ(l.bursts[1], 1u);
}

// Counters alone: a message a few places late is reordered, not 120 lost.
TEST(Link, CountersAloneTakeTheSmallerStep) {
    vxs_link_t l;
    vxs_link_init(&l, 128);
    for (int i : {125, 126, 127, 1, 0, 2, 3}) vxs_link_add(&l, i, VXS_TIME_NONE);
    vxs_link_finish(&l);
    EXPECT_EQ(l.delivered, 7u);
    EXPECT_EQ(l.reordered, 1u);
    EXPECT_EQ(l.lost, 0u);
    EXPECT_EQ(l.sent, 7u);
}

// What a review found: a message from before the first one received is outside the counted
// span (not stale: nothing was counted lost for it, and sent never falls below delivered); a
// burst of more than half a counter cycle without generation times is a burst, not a step
// back that turns every following message into a duplicate.
TEST(Link, BeforeTheFirstAndLongBurstsWithoutTimes) {
    vxs_link_t l;
    vxs_link_init(&l, 128);
    EXPECT_EQ(vxs_link_add(&l, 10, kT0 + 1000 * kMs), VXS_LINK_NEW);
    EXPECT_EQ(vxs_link_add(&l, 9, kT0 + 900 * kMs), VXS_LINK_REORDERED);
    EXPECT_EQ(vxs_link_add(&l, 11, kT0 + 1100 * kMs), VXS_LINK_NEW);
    vxs_link_finish(&l);
    EXPECT_EQ(l.delivered, 3u);
    EXPECT_EQ(l.stale, 0u);
    EXPECT_EQ(l.lost, 0u);
    EXPECT_GE(l.sent, 2u);
    EXPECT_LE(l.delivered, l.sent + 1); // the one before the span

    vxs_link_t b;
    vxs_link_init(&b, 128);
    for (int i = 0; i < 20; i++) EXPECT_EQ(vxs_link_add(&b, i, VXS_TIME_NONE), VXS_LINK_NEW);
    for (int i = 100; i < 160; i++) // 80 lost, then 60 more
        EXPECT_EQ(vxs_link_add(&b, i % 128, VXS_TIME_NONE), VXS_LINK_NEW) << i;
    vxs_link_finish(&b);
    EXPECT_EQ(b.delivered, 80u);
    EXPECT_EQ(b.lost, 80u);
    EXPECT_EQ(b.duplicates + b.stale + b.reordered, 0u);
    EXPECT_EQ(b.longest_burst, 80u);
}

// The Wyoming OBU log (jpo-ode): its 93 received BSMs, in the order the log holds them, with
// their msgCnt and secMark. SOURCES.md: gaps 1 x68, 2 x15, 3 x6, 4 x3, about 73 % delivered.
TEST(Link, WyomingReceivedBsmsAsSourcesSays) {
    VXS_SHARED_OR_SKIP(path, "datasets/v2x/us/jpo-ode/data/bsmLogDuringEvent.bin");
    vxs_v2x_reader_options_t o;
    std::memset(&o, 0, sizeof o);
    o.own_station_id = -1;
    vxs_v2x_reader_t *r = nullptr;
    char err[512] = "";
    ASSERT_EQ(vxs_v2x_reader_open(&r, path.c_str(), &o, err, sizeof err), VXS_OK) << err;
    vxs_link_t l;
    vxs_link_init(&l, 128);
    const vxs_record_t *rec;
    std::set<int64_t> senders;
    while (vxs_v2x_reader_next(r, &rec) == VXS_OK) {
        if (rec->u.v2x.sent) continue;
        const vxs_v2x_msg_t *m = vxs_v2x_reader_msg(r);
        vxs_v2x_times_t t;
        vxs_v2x_reader_times(r, &t);
        senders.insert(m->station_id);
        EXPECT_NE(vxs_link_add(&l, m->msg_cnt, t.sec_mark), VXS_LINK_BAD);
    }
    vxs_v2x_reader_close(r);
    vxs_link_finish(&l);
    ASSERT_EQ(senders.size(), 1u) << "one sender heard: one link";
    EXPECT_EQ(l.delivered, 93u);
    EXPECT_EQ(l.bursts[1], 15u);
    EXPECT_EQ(l.bursts[2], 6u);
    EXPECT_EQ(l.bursts[3], 3u);
    EXPECT_EQ(l.longest_burst, 3u);
    EXPECT_EQ(l.lost, 15u + 2 * 6 + 3 * 3);
    EXPECT_EQ(l.sent, 93u + 36u);
    EXPECT_NEAR(100.0 * (double)l.delivered / (double)l.sent, 72.1, 0.1); // "about 73 %"
    EXPECT_EQ(l.duplicates + l.reordered + l.reused, 0u);
    EXPECT_NEAR(l.interval_s, 0.1, 0.01) << "BSMs at 10 Hz";
}

} // namespace

namespace {

// A sender without a counter (a CAM) whose interval changes as ETSI's generation rules change
// it (200 ms for a while, then 300, then 100), losing the messages in `lost`: every place is
// inferred from the generation times, and here exactly. (A loss that straddles a change of
// interval cannot be told from it: 3 lost at 200 ms then a 300 ms interval look like 5 lost at
// 200 ms; README "links.json" says so.)
TEST(LinkInferred, ChangingIntervalsAndLossCountedFromGenerationTimes) {
    vxs_link_t l;
    vxs_link_init(&l, 128);
    const std::set<int> lost = {5, 17, 18, 50, 51, 52, 70, 99};
    vxs_time_t t = kT0;
    int delivered = 0;
    for (int i = 0; i < 120; i++) {
        t += (i < 40 ? 200 : i < 80 ? 300 : 100) * kMs + (i % 3) * kMs; // +-ms jitter
        if (lost.count(i)) continue;
        EXPECT_EQ(vxs_link_add_inferred(&l, t, 10.0 * i), VXS_LINK_NEW) << i;
        delivered++;
    }
    EXPECT_EQ(vxs_link_add_inferred(&l, t, 1.0), VXS_LINK_DUPLICATE); // the last one again
    EXPECT_EQ(vxs_link_add(&l, 3, t), VXS_LINK_BAD);                 // no counters on it
    vxs_link_finish(&l);
    EXPECT_TRUE(l.inferred);
    EXPECT_EQ(l.delivered, (uint64_t)delivered);
    EXPECT_EQ(l.lost, lost.size());
    EXPECT_EQ(l.bursts[1], 3u); // 5, 70, 99
    EXPECT_EQ(l.bursts[2], 1u);
    EXPECT_EQ(l.bursts[3], 1u);
    EXPECT_EQ(l.duplicates, 1u);
    // the distance bins: delivered at 10 m per message, each lost one at the one before it
    uint64_t sent = 0, got = 0;
    for (size_t k = 0; k <= VXS_LINK_DIST_BINS; k++) {
        sent += l.dist_sent[k];
        got += l.dist_delivered[k];
    }
    EXPECT_EQ(sent, l.sent);
    EXPECT_EQ(got, l.delivered);
    EXPECT_EQ(l.dist_sent[0], 3u);      // places 0, 1, 2 (0, 10, 20 m)
    EXPECT_EQ(l.dist_sent[0 + 1], 3u);  // 30, 40 m and the lost place 5 (at 40 m)
    EXPECT_EQ(l.dist_delivered[1], 2u);
    EXPECT_EQ(l.dist_sent[VXS_LINK_DIST_BINS - 1], 120u - 98u); // from 975 m: places 98..119
    // and over time: 10 s bins from the first place, every place in one
    uint64_t ts = 0;
    for (size_t k = 0; k < VXS_LINK_TIME_BINS; k++) ts += l.time_sent[k];
    EXPECT_EQ(ts, l.sent);
    EXPECT_EQ(l.time_bin_ns, VXS_LINK_TIME_BIN_NS);
}

// A car that stops: its CAMs slow from 200 ms to ETSI's 1 s (T_GenCamMax), a whole multiple.
// The interval follows the gaps as they come: a few messages are misread while it adapts,
// then none, however long the stop (it used to count 4 lost per second for good).
TEST(LinkInferred, ASenderSlowingToAMultipleIsANewIntervalNotLossForever) {
    vxs_link_t l;
    vxs_link_init(&l, 128);
    vxs_time_t t = kT0;
    for (int i = 0; i < 50; i++) vxs_link_add_inferred(&l, t += 200 * kMs, NAN);
    for (int i = 0; i < 120; i++) vxs_link_add_inferred(&l, t += 1000 * kMs, NAN); // 2 minutes
    vxs_link_finish(&l);
    EXPECT_LE(l.lost, 12u) << "lost " << l.lost;
    EXPECT_NEAR(l.interval_s, 1.0, 1e-9);
    // a late message between two received ones is reordered (no counter to reuse)
    vxs_link_t m;
    vxs_link_init(&m, 128);
    vxs_link_add_inferred(&m, kT0, NAN);
    vxs_link_add_inferred(&m, kT0 + 200 * kMs, NAN);
    EXPECT_EQ(vxs_link_add_inferred(&m, kT0 + 100 * kMs, NAN), VXS_LINK_REORDERED);
    EXPECT_EQ(m.reused, 0u);
}

// A corrupted generation time years ahead: its places are counted lost at once, not one by one.
TEST(LinkInferred, AGenerationTimeYearsAheadIsCountedAtOnce) {
    vxs_link_t l;
    vxs_link_init(&l, 128);
    for (int i = 0; i < 10; i++) vxs_link_add(&l, i, kT0 + i * 100 * kMs);
    const vxs_time_t years = 5LL * 365 * 86400 * 1000000000LL;
    vxs_link_add(&l, 10, kT0 + years); // ~1.6e9 places ahead
    vxs_link_finish(&l);
    EXPECT_GT(l.lost, 1000000000u);
    uint64_t sent = 0;
    for (size_t k = 0; k <= VXS_LINK_DIST_BINS; k++) sent += l.dist_sent[k];
    EXPECT_EQ(sent, l.sent);
}

// A long drive: the time bins double in width instead of growing in number.
TEST(LinkInferred, TimeBinsStayBoundedOverHours) {
    vxs_link_t l;
    vxs_link_init(&l, 128);
    for (int i = 0; i < 10 * 3600 * 3; i++) // 3 hours at 10 Hz
        vxs_link_add(&l, i % 128, kT0 + i * 100 * kMs);
    vxs_link_finish(&l);
    uint64_t ts = 0;
    for (size_t k = 0; k < VXS_LINK_TIME_BINS; k++) ts += l.time_sent[k];
    EXPECT_EQ(ts, l.sent);
    EXPECT_EQ(l.time_bin_ns, 32 * VXS_LINK_TIME_BIN_NS); // 64 bins of 320 s hold 3 h
    EXPECT_EQ(l.time_sent[0], 3200u);
}

} // namespace
