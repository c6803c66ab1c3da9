// Frame matching: NEAREST against a brute-force search over whole streams, ApproximateTime
// against the outputs published in ROS's own tests and a brute-force statement of its rule,
// EXACT, argument errors, allocation failures and memory in flight.
#include <algorithm>
#include <climits>
#include <random>
#include <vector>

#include "test_util.h"
#include "vxs_sync.h"

namespace {

const vxs_time_t kT0 = INT64_C(1453364282000000000); // 2016-01-21T08:18:02Z
const int64_t kMs = VXS_NS_PER_MS;
const int64_t kS = VXS_NS_PER_S;

struct Item {
    vxs_time_t t;
    uint64_t id;
};
using Streams = std::vector<std::vector<Item>>;

struct Member {
    int status;
    vxs_time_t t;
    uint64_t id;
    int64_t dt;
    bool operator==(const Member &o) const {
        return status == o.status && t == o.t && id == o.id && dt == o.dt;
    }
};

struct Frame {
    vxs_time_t t;
    uint64_t id;
    std::vector<Member> m; // streams 1.. (members[0] is checked when popped)
    bool operator==(const Frame &o) const { return t == o.t && id == o.id && m == o.m; }
};

std::ostream &operator<<(std::ostream &os, const Member &m) {
    return os << "{" << vxs_member_status_name((vxs_member_status_t)m.status) << " t=" << m.t
              << " id=" << m.id << " dt=" << m.dt << "}";
}
std::ostream &operator<<(std::ostream &os, const Frame &f) {
    os << "frame t=" << f.t << " id=" << f.id;
    for (const Member &m : f.m) os << " " << m;
    return os;
}

Member Mem(vxs_member_status_t st, vxs_time_t t, uint64_t id, vxs_time_t T) {
    return Member{(int)st, t, id, t - T};
}
Member NoItems() { return Member{VXS_MEMBER_NO_ITEMS, VXS_TIME_NONE, 0, 0}; }

struct Matcher {
    vxs_matcher_t *m = nullptr;
    Matcher(vxs_match_policy_t p, const std::vector<int64_t> &tol) {
        EXPECT_EQ(vxs_matcher_create(&m, p, tol.size(), tol.data()), VXS_OK);
    }
    ~Matcher() { vxs_matcher_destroy(m); }
};

// Drain pops every frame that can be decided, checking the reference member.
void Drain(vxs_matcher_t *m, std::vector<Frame> *out) {
    vxs_match_frame_t f;
    while (vxs_matcher_pop(m, &f)) {
        Frame r{f.t, f.id, {}};
        EXPECT_EQ(f.members[0].status, VXS_MEMBER_OK);
        EXPECT_EQ(f.members[0].t, f.t);
        EXPECT_EQ(f.members[0].id, f.id);
        EXPECT_EQ(f.members[0].dt_ns, 0);
        for (size_t s = 1; s < f.n_members; s++)
            r.m.push_back(Member{(int)f.members[s].status, f.members[s].t, f.members[s].id,
                                 f.members[s].dt_ns});
        out->push_back(r);
    }
}

enum class Order { kStreamByStream, kRoundRobin, kRandom };

// Feed feeds `streams` to a matcher in the given interleaving, ends every stream and returns all
// frames.
std::vector<Frame> Feed(vxs_match_policy_t p, const std::vector<int64_t> &tol,
                       const Streams &streams, Order order, uint64_t seed = 1) {
    Matcher mt(p, tol);
    std::vector<Frame> out;
    const size_t n = streams.size();
    std::vector<size_t> next(n, 0);
    auto push = [&](size_t s) {
        const Item &it = streams[s][next[s]++];
        EXPECT_EQ(vxs_matcher_push(mt.m, s, it.t, it.id), VXS_OK);
        if (next[s] == streams[s].size()) vxs_matcher_end(mt.m, s);
    };
    for (size_t s = 0; s < n; s++)
        if (streams[s].empty()) vxs_matcher_end(mt.m, s);
    if (order == Order::kStreamByStream) {
        for (size_t s = 0; s < n; s++)
            while (next[s] < streams[s].size()) {
                push(s);
                Drain(mt.m, &out);
            }
    } else if (order == Order::kRoundRobin) {
        for (bool any = true; any;) {
            any = false;
            for (size_t s = 0; s < n; s++)
                if (next[s] < streams[s].size()) {
                    push(s);
                    any = true;
                }
            Drain(mt.m, &out);
        }
    } else {
        std::mt19937_64 rng(seed);
        size_t left = 0;
        for (size_t s = 0; s < n; s++) left += streams[s].size();
        for (; left > 0; left--) {
            uint64_t k = rng() % left; // stream chosen in proportion to the items it has left
            size_t s = 0;
            for (; k >= streams[s].size() - next[s]; s++) k -= streams[s].size() - next[s];
            push(s);
            if (rng() % 3 == 0) Drain(mt.m, &out);
        }
    }
    Drain(mt.m, &out);
    EXPECT_EQ(vxs_matcher_pending(mt.m), 0u); // everything ended and popped: nothing held
    return out;
}

// ---- brute force ------------------------------------------------------------------------------

// NearestIndex returns the index of the item nearest T over the whole stream, the first one on
// ties (so the earlier in time), or -1 for an empty stream.
long NearestIndex(const std::vector<Item> &s, vxs_time_t T) {
    long best = -1;
    for (size_t j = 0; j < s.size(); j++)
        if (best < 0 || std::llabs(s[j].t - T) < std::llabs(s[(size_t)best].t - T)) best = (long)j;
    return best;
}

Member Describe(const std::vector<Item> &s, vxs_time_t T, vxs_member_status_t st) {
    long j = NearestIndex(s, T);
    if (j < 0) return NoItems();
    return Mem(st, s[(size_t)j].t, s[(size_t)j].id, T);
}

// BruteNearest states NEAREST from the contract: the nearest item if within tolerance; else
// the reason, T outside the stream's item span by more than the tolerance or a gap inside it.
Member BruteNearest(const std::vector<Item> &s, vxs_time_t T, int64_t tol) {
    if (s.empty()) return NoItems();
    Member m = Describe(s, T, VXS_MEMBER_OK);
    if (std::llabs(m.dt) <= tol) return m;
    if (T < s.front().t - tol)
        m.status = VXS_MEMBER_BEFORE_START;
    else if (T > s.back().t + tol)
        m.status = VXS_MEMBER_AFTER_END;
    else
        m.status = VXS_MEMBER_NONE_WITHIN_TOLERANCE;
    return m;
}

std::vector<Frame> ExpectNearest(const Streams &st, const std::vector<int64_t> &tol) {
    std::vector<Frame> out;
    for (const Item &r : st[0]) {
        Frame f{r.t, r.id, {}};
        for (size_t s = 1; s < st.size(); s++) f.m.push_back(BruteNearest(st[s], r.t, tol[s]));
        out.push_back(f);
    }
    return out;
}

// BruteApproxSets states ApproximateTime's rule over complete streams: after the previous set
// (initially before everything), the pivot is the latest of the first unused items; among the
// sets made, for a start time L up to the pivot's time, of the first unused item >= L of every
// stream, take the one of smallest span, the earliest L on ties. Stop when a stream runs out.
// Returns the sets as item indices per stream.
std::vector<std::vector<size_t>> BruteApproxSets(const Streams &st) {
    const size_t n = st.size();
    std::vector<size_t> h(n, 0);
    std::vector<std::vector<size_t>> sets;
    for (;;) {
        for (size_t s = 0; s < n; s++)
            if (h[s] >= st[s].size()) return sets;
        vxs_time_t P = st[0][h[0]].t;
        for (size_t s = 1; s < n; s++) P = std::max(P, st[s][h[s]].t);
        std::vector<vxs_time_t> starts;
        for (size_t s = 0; s < n; s++)
            for (size_t j = h[s]; j < st[s].size() && st[s][j].t <= P; j++)
                starts.push_back(st[s][j].t);
        std::sort(starts.begin(), starts.end());
        bool found = false;
        int64_t best_span = 0;
        std::vector<size_t> best;
        for (vxs_time_t L : starts) {
            std::vector<size_t> tup(n);
            vxs_time_t hi = L;
            bool ok = true;
            for (size_t s = 0; s < n && ok; s++) {
                size_t j = h[s];
                while (j < st[s].size() && st[s][j].t < L) j++;
                ok = j < st[s].size();
                if (ok) {
                    tup[s] = j;
                    hi = std::max(hi, st[s][j].t);
                }
            }
            if (!ok) break;
            if (!found || hi - L < best_span) {
                found = true;
                best_span = hi - L;
                best = tup;
            }
        }
        EXPECT_TRUE(found);
        if (!found) return sets;
        sets.push_back(best);
        for (size_t s = 0; s < n; s++) h[s] = best[s] + 1;
    }
}

std::vector<Frame> ExpectApprox(const Streams &st, const std::vector<int64_t> &tol) {
    std::vector<std::vector<size_t>> sets = BruteApproxSets(st);
    std::vector<Frame> out;
    size_t k = 0;
    for (size_t r = 0; r < st[0].size(); r++) {
        const Item &ref = st[0][r];
        Frame f{ref.t, ref.id, {}};
        bool in_set = k < sets.size() && sets[k][0] == r;
        for (size_t s = 1; s < st.size(); s++) {
            if (!in_set) {
                f.m.push_back(st[s].empty() ? NoItems()
                                            : Describe(st[s], ref.t, VXS_MEMBER_NOT_IN_SET));
                continue;
            }
            const Item &it = st[s][sets[k][s]];
            if (std::llabs(it.t - ref.t) <= tol[s])
                f.m.push_back(Mem(VXS_MEMBER_OK, it.t, it.id, ref.t));
            else
                f.m.push_back(Mem(VXS_MEMBER_SET_BEYOND_TOLERANCE, it.t, it.id, ref.t));
        }
        if (in_set) k++;
        out.push_back(f);
    }
    return out;
}

void ExpectFramesEq(const std::vector<Frame> &got, const std::vector<Frame> &want) {
    ASSERT_EQ(got.size(), want.size());
    for (size_t i = 0; i < got.size(); i++) ASSERT_EQ(got[i], want[i]) << "frame " << i;
}

// ---- names --------------------------------------------------------------------------------

TEST(Match, Names) {
    EXPECT_STREQ(vxs_match_policy_name(VXS_MATCH_NEAREST), "nearest");
    EXPECT_STREQ(vxs_match_policy_name(VXS_MATCH_APPROXIMATE), "approximate");
    EXPECT_STREQ(vxs_match_policy_name(VXS_MATCH_EXACT), "exact");
    EXPECT_STREQ(vxs_match_policy_name((vxs_match_policy_t)9), "unknown");
    const char *names[] = {"ok",       "no_items",     "none_within_tolerance", "not_in_set",
                           "no_exact", "before_start", "after_end",
                           "set_beyond_tolerance"};
    for (int i = 0; i < 8; i++)
        EXPECT_STREQ(vxs_member_status_name((vxs_member_status_t)i), names[i]);
    EXPECT_STREQ(vxs_member_status_name((vxs_member_status_t)8), "unknown");
}

// ---- NEAREST ------------------------------------------------------------------------------

// Test drive: reference LiDAR 10 Hz with jitter for 60 s; camera 20 Hz with 1 % of frames
// dropped; a second LiDAR 10 Hz from 2 s to 57 s with a 1 s hole at 30 s; a stream that never
// gets an item; a 5 Hz stream whose every time comes twice (ties go to the first id).
Streams TestDrive(uint64_t seed) {
    std::mt19937_64 rng(seed);
    auto jit = [&](int64_t amp) { return (int64_t)(rng() % (uint64_t)(2 * amp + 1)) - amp; };
    Streams st(5);
    for (uint64_t i = 0; i < 600; i++)
        st[0].push_back({kT0 + (int64_t)i * 100 * kMs + jit(3 * kMs), i});
    for (uint64_t i = 0; i < 1200; i++) {
        vxs_time_t t = kT0 + 10 * kMs + (int64_t)i * 50 * kMs + jit(1 * kMs);
        if (rng() % 100 != 0) st[1].push_back({t, 1000000 + i});
    }
    for (uint64_t i = 0; i < 550; i++) {
        vxs_time_t t = kT0 + 2 * kS + 37 * kMs + (int64_t)i * 100 * kMs + jit(2 * kMs);
        if (t >= kT0 + 57 * kS) break;
        if (t >= kT0 + 30 * kS && t < kT0 + 31 * kS) continue;
        st[2].push_back({t, 2000000 + i});
    }
    for (uint64_t i = 0; i < 300; i++) {
        vxs_time_t t = kT0 + 63 * kMs + (int64_t)i * 200 * kMs;
        st[4].push_back({t, 4000000 + 2 * i});
        st[4].push_back({t, 4000000 + 2 * i + 1});
    }
    return st;
}

TEST(Match, NearestMatchesBruteForceWhateverTheInterleaving) {
    const std::vector<int64_t> tol = {0, 20 * kMs, 50 * kMs, 50 * kMs, 100 * kMs};
    for (uint64_t seed = 1; seed <= 3; seed++) {
        Streams st = TestDrive(seed);
        std::vector<Frame> want = ExpectNearest(st, tol);
        // The drive must exercise every NEAREST outcome, or the comparison proves little.
        int seen[8] = {0};
        for (const Frame &f : want)
            for (const Member &m : f.m) seen[m.status]++;
        EXPECT_GT(seen[VXS_MEMBER_OK], 0);
        EXPECT_GT(seen[VXS_MEMBER_BEFORE_START], 0);
        EXPECT_GT(seen[VXS_MEMBER_AFTER_END], 0);
        EXPECT_GT(seen[VXS_MEMBER_NONE_WITHIN_TOLERANCE], 0);
        EXPECT_EQ(seen[VXS_MEMBER_NO_ITEMS], 600);
        ExpectFramesEq(Feed(VXS_MATCH_NEAREST, tol, st, Order::kStreamByStream), want);
        ExpectFramesEq(Feed(VXS_MATCH_NEAREST, tol, st, Order::kRoundRobin), want);
        ExpectFramesEq(Feed(VXS_MATCH_NEAREST, tol, st, Order::kRandom, seed * 7), want);
    }
}

TEST(Match, NearestHandCases) {
    // Reference at 100; stream 1 items at 90 and 110 (equally near: the earlier wins); stream 2
    // items 100 twice (the first id wins); stream 3 tolerance 9 refuses both of stream 1's.
    Matcher mt(VXS_MATCH_NEAREST, {0, 10, 0, 9});
    ASSERT_EQ(vxs_matcher_push(mt.m, 0, 100, 1), VXS_OK);
    ASSERT_EQ(vxs_matcher_push(mt.m, 1, 90, 11), VXS_OK);
    ASSERT_EQ(vxs_matcher_push(mt.m, 2, 100, 21), VXS_OK);
    ASSERT_EQ(vxs_matcher_push(mt.m, 2, 100, 22), VXS_OK);
    ASSERT_EQ(vxs_matcher_push(mt.m, 3, 90, 31), VXS_OK);
    vxs_match_frame_t f;
    ASSERT_FALSE(vxs_matcher_pop(mt.m, &f)); // nothing past T + tolerance yet
    ASSERT_EQ(vxs_matcher_push(mt.m, 2, 101, 23), VXS_OK); // stream 2 decided: 101 > 100 + 0
    ASSERT_EQ(vxs_matcher_push(mt.m, 3, 110, 32), VXS_OK); // stream 3 decided: 110 > 100 + 9
    ASSERT_FALSE(vxs_matcher_pop(mt.m, &f));
    ASSERT_EQ(vxs_matcher_push(mt.m, 1, 110, 12), VXS_OK);
    ASSERT_FALSE(vxs_matcher_pop(mt.m, &f)); // 110 is T + 10 exactly: 100 + 10 could come again
    ASSERT_EQ(vxs_matcher_push(mt.m, 1, 111, 13), VXS_OK);
    ASSERT_TRUE(vxs_matcher_pop(mt.m, &f));
    EXPECT_EQ(f.t, 100);
    EXPECT_EQ(f.id, 1u);
    ASSERT_EQ(f.n_members, 4u);
    EXPECT_EQ(f.members[1].status, VXS_MEMBER_OK);
    EXPECT_EQ(f.members[1].id, 11u);
    EXPECT_EQ(f.members[1].dt_ns, -10);
    EXPECT_EQ(f.members[2].status, VXS_MEMBER_OK);
    EXPECT_EQ(f.members[2].id, 21u);
    EXPECT_EQ(f.members[2].dt_ns, 0);
    EXPECT_EQ(f.members[3].status, VXS_MEMBER_NONE_WITHIN_TOLERANCE);
    EXPECT_EQ(f.members[3].id, 31u);
    EXPECT_EQ(f.members[3].t, 90);
    EXPECT_EQ(f.members[3].dt_ns, -10);
    EXPECT_FALSE(vxs_matcher_pop(mt.m, &f));
}

TEST(Match, SlowStreamServesSeveralFrames) {
    // Reference 0, 10, ..., 50; stream 1 only at 22: frames 10..30 all take it (tolerance 12),
    // 0 is before its start and 40, 50 after its end once it has ended.
    Matcher mt(VXS_MATCH_NEAREST, {0, 12});
    for (int i = 0; i < 6; i++) ASSERT_EQ(vxs_matcher_push(mt.m, 0, 10 * i, (uint64_t)i), VXS_OK);
    ASSERT_EQ(vxs_matcher_push(mt.m, 1, 22, 7), VXS_OK);
    std::vector<Frame> got;
    Drain(mt.m, &got);
    EXPECT_EQ(got.size(), 1u); // only frame 0 is decided: 22 > 0 + 12
    vxs_matcher_end(mt.m, 1);
    vxs_matcher_end(mt.m, 0);
    Drain(mt.m, &got);
    std::vector<Frame> want = {
        {0, 0, {Mem(VXS_MEMBER_BEFORE_START, 22, 7, 0)}},
        {10, 1, {Mem(VXS_MEMBER_OK, 22, 7, 10)}},
        {20, 2, {Mem(VXS_MEMBER_OK, 22, 7, 20)}},
        {30, 3, {Mem(VXS_MEMBER_OK, 22, 7, 30)}},
        {40, 4, {Mem(VXS_MEMBER_AFTER_END, 22, 7, 40)}},
        {50, 5, {Mem(VXS_MEMBER_AFTER_END, 22, 7, 50)}},
    };
    ExpectFramesEq(got, want);
}

// ---- memory in flight -----------------------------------------------------------------------

TEST(Match, MemoryInFlightStaysBounded) {
    // 1e6 items in time order: reference 10 Hz, camera 30 Hz, LiDAR 10 Hz 40 ms later, CAN 50 Hz.
    struct Src {
        size_t stream;
        int64_t period, phase;
    };
    const Src srcs[] = {{0, 100 * kMs, 0}, {1, 33 * kMs, 5 * kMs}, {2, 100 * kMs, 40 * kMs},
                        {3, 20 * kMs, 1 * kMs}};
    const vxs_match_policy_t policies[] = {VXS_MATCH_NEAREST, VXS_MATCH_APPROXIMATE,
                                           VXS_MATCH_EXACT};
    for (vxs_match_policy_t p : policies) {
        Matcher mt(p, {0, 17 * kMs, 50 * kMs, 10 * kMs});
        uint64_t next[4] = {0, 0, 0, 0}, frames = 0, pushed = 0;
        size_t max_pending = 0;
        vxs_match_frame_t f;
        while (pushed < 1000000) {
            size_t best = 0; // the source whose next item is earliest
            for (size_t s = 1; s < 4; s++)
                if (srcs[s].phase + (int64_t)next[s] * srcs[s].period <
                    srcs[best].phase + (int64_t)next[best] * srcs[best].period)
                    best = s;
            vxs_time_t t = kT0 + srcs[best].phase + (int64_t)next[best] * srcs[best].period;
            ASSERT_EQ(vxs_matcher_push(mt.m, srcs[best].stream, t, next[best]++), VXS_OK);
            pushed++;
            while (vxs_matcher_pop(mt.m, &f)) frames++;
            max_pending = std::max(max_pending, vxs_matcher_pending(mt.m));
        }
        for (size_t s = 0; s < 4; s++) vxs_matcher_end(mt.m, s);
        while (vxs_matcher_pop(mt.m, &f)) frames++;
        EXPECT_LT(max_pending, 100u) << vxs_match_policy_name(p);
        EXPECT_EQ(frames, next[0]) << vxs_match_policy_name(p);
        EXPECT_EQ(vxs_matcher_pending(mt.m), 0u);
    }
}

// ---- APPROXIMATE ----------------------------------------------------------------------------

// The ROS cases (ros2/message_filters test/test_approximate_time_policy.cpp, queue size 10, one
// time unit = 1 s there). ROS never publishes its last candidate; here the streams end, which
// proves it optimal, so each case may add sets after ROS's outputs: those are worked out by hand
// in the comments. Tolerance is 100 units, so every set member is accepted.
struct RosCase {
    const char *name;
    Streams st;
    std::vector<std::vector<int>> sets; // per set: the member's index in every stream
};

Streams Units(const std::vector<std::vector<int>> &times) {
    Streams st(times.size());
    for (size_t s = 0; s < times.size(); s++)
        for (size_t j = 0; j < times[s].size(); j++)
            st[s].push_back({kT0 + times[s][j] * kS, (uint64_t)(100 * s + j)});
    return st;
}

TEST(Match, ApproximateRosCases) {
    const std::vector<RosCase> cases = {
        // ROS: (0,0) (3,3) (6,6).
        {"ExactMatch", Units({{0, 3, 6}, {0, 3, 6}}), {{0, 0}, {1, 1}, {2, 2}}},
        // ROS: (0,1) (3,4); ended: c and C, the last heads, form the last set (6,7).
        {"PerfectMatch", Units({{0, 3, 6}, {1, 4, 7}}), {{0, 0}, {1, 1}, {2, 2}}},
        // ROS: (a0,A1) (c6,B5); x2 and b3 are dropped; after that A is empty and ended.
        {"ImperfectMatch", Units({{0, 2, 3, 6}, {1, 5, 7}}), {{0, 0}, {3, 1}}},
        // ROS: (b12,A7) (c17,C18); a0 dropped.
        {"Acceleration", Units({{0, 12, 17}, {7, 15, 18}}), {{1, 0}, {2, 2}}},
        // ROS: (0,1) (3,3).
        {"DoublePublish", Units({{0, 3}, {1, 3}}), {{0, 0}, {1, 1}}},
        // ROS: (a,b,c,d) (e,g,h,f) (m,j,k,l); i dropped; then stream C is empty and ended.
        {"FourTopics", Units({{0, 5, 8, 10, 13}, {1, 6, 9, 14}, {2, 6, 10}, {3, 5, 11}}),
         {{0, 0, 0, 0}, {1, 1, 1, 1}, {3, 2, 2, 2}}},
        // ROS: (a,b,c,d); e gets no set.
        {"EarlyPublish", Units({{0, 7}, {1}, {2}, {3}}), {{0, 0, 0, 0}}},
    };
    for (const RosCase &c : cases) {
        SCOPED_TRACE(c.name);
        std::vector<int64_t> tol(c.st.size(), 100 * kS);
        std::vector<Frame> want;
        size_t k = 0;
        for (size_t r = 0; r < c.st[0].size(); r++) {
            const Item &ref = c.st[0][r];
            Frame f{ref.t, ref.id, {}};
            bool in_set = k < c.sets.size() && c.sets[k][0] == (int)r;
            for (size_t s = 1; s < c.st.size(); s++) {
                if (in_set) {
                    const Item &it = c.st[s][(size_t)c.sets[k][s]];
                    f.m.push_back(Mem(VXS_MEMBER_OK, it.t, it.id, ref.t));
                } else {
                    f.m.push_back(Describe(c.st[s], ref.t, VXS_MEMBER_NOT_IN_SET));
                }
            }
            k += in_set;
            want.push_back(f);
        }
        ExpectFramesEq(Feed(VXS_MATCH_APPROXIMATE, tol, c.st, Order::kStreamByStream), want);
        ExpectFramesEq(Feed(VXS_MATCH_APPROXIMATE, tol, c.st, Order::kRoundRobin), want);
        for (uint64_t seed = 1; seed <= 5; seed++)
            ExpectFramesEq(Feed(VXS_MATCH_APPROXIMATE, tol, c.st, Order::kRandom, seed), want);
        // The hand-written sets agree with the brute-force statement of the rule.
        ExpectFramesEq(ExpectApprox(c.st, tol), want);
    }
}

TEST(Match, ApproximatePublishesBeforeTheStreamsEnd) {
    // ROS's FourTopics pushed in ROS's order. With tolerance 1.5 units, frames a, e, i are
    // decided as soon as every stream shows an item 1.5 units past them; m waits for stream C
    // (its last item, 10, is not past 11.5) until C ends.
    Streams st = Units({{0, 5, 8, 10, 13}, {1, 6, 9, 14}, {2, 6, 10}, {3, 5, 11}});
    const int order[][2] = {{0, 0}, {1, 0}, {2, 0}, {3, 0}, {0, 1}, {3, 1}, {1, 1}, {2, 1},
                            {0, 2}, {1, 2}, {2, 2}, {3, 2}, {0, 3}, {0, 4}, {1, 3}};
    Matcher mt(VXS_MATCH_APPROXIMATE, {0, 1500 * kMs, 1500 * kMs, 1500 * kMs});
    for (const auto &o : order) {
        const Item &it = st[(size_t)o[0]][(size_t)o[1]];
        ASSERT_EQ(vxs_matcher_push(mt.m, (size_t)o[0], it.t, it.id), VXS_OK);
    }
    std::vector<Frame> got;
    Drain(mt.m, &got);
    ASSERT_EQ(got.size(), 3u);
    // a (0) with (b 1, c 2, d 3): c and d are farther than 1.5 and refused, each described.
    vxs_time_t T = st[0][0].t;
    EXPECT_EQ(got[0], (Frame{T, 0, {Mem(VXS_MEMBER_OK, st[1][0].t, 100, T),
                                    Mem(VXS_MEMBER_SET_BEYOND_TOLERANCE, st[2][0].t, 200, T),
                                    Mem(VXS_MEMBER_SET_BEYOND_TOLERANCE, st[3][0].t, 300, T)}}));
    // e (5) with (g 6, h 6, f 5): all within 1.5.
    T = st[0][1].t;
    EXPECT_EQ(got[1], (Frame{T, 1, {Mem(VXS_MEMBER_OK, st[1][1].t, 101, T),
                                    Mem(VXS_MEMBER_OK, st[2][1].t, 201, T),
                                    Mem(VXS_MEMBER_OK, st[3][1].t, 301, T)}}));
    // i (8) is in no set; nearest: B 9, C 6 and 10 tie (the earlier), D 5 and 11 tie.
    T = st[0][2].t;
    EXPECT_EQ(got[2], (Frame{T, 2, {Mem(VXS_MEMBER_NOT_IN_SET, st[1][2].t, 102, T),
                                    Mem(VXS_MEMBER_NOT_IN_SET, st[2][1].t, 201, T),
                                    Mem(VXS_MEMBER_NOT_IN_SET, st[3][1].t, 301, T)}}));
    for (size_t s = 0; s < 4; s++) vxs_matcher_end(mt.m, s);
    Drain(mt.m, &got);
    ASSERT_EQ(got.size(), 5u);
    // m (10) with (j 9, k 10, l 11): all within 1.5.
    T = st[0][3].t;
    EXPECT_EQ(got[3], (Frame{T, 3, {Mem(VXS_MEMBER_OK, st[1][2].t, 102, T),
                                    Mem(VXS_MEMBER_OK, st[2][2].t, 202, T),
                                    Mem(VXS_MEMBER_OK, st[3][2].t, 302, T)}}));
    // n (13): no set; nearest B 14, C 10, D 11.
    T = st[0][4].t;
    EXPECT_EQ(got[4], (Frame{T, 4, {Mem(VXS_MEMBER_NOT_IN_SET, st[1][3].t, 103, T),
                                    Mem(VXS_MEMBER_NOT_IN_SET, st[2][2].t, 202, T),
                                    Mem(VXS_MEMBER_NOT_IN_SET, st[3][2].t, 302, T)}}));
}

TEST(Match, ApproximateRefusesMembersOutsideTolerance) {
    // Set (a0, A1) has A one unit away: with tolerance 0.5 it is refused, and described.
    Streams st = Units({{0, 3}, {1, 3}});
    std::vector<Frame> got =
        Feed(VXS_MATCH_APPROXIMATE, {0, 500 * kMs}, st, Order::kRoundRobin);
    std::vector<Frame> want = {
        {st[0][0].t, 0, {Mem(VXS_MEMBER_SET_BEYOND_TOLERANCE, st[1][0].t, 100, st[0][0].t)}},
        {st[0][1].t, 1, {Mem(VXS_MEMBER_OK, st[1][1].t, 101, st[0][1].t)}},
    };
    ExpectFramesEq(got, want);
    // The minimal-span set need not hold the item nearest T: reference 20, camera 18 and 23,
    // LiDAR 24. {20, 23, 24} spans 4, {18, 20, 24} spans 6, so the camera's member is 23, three
    // units away, refused at a tolerance of 2.5 although 18 (two away) would have passed. The
    // refused member is the set's (23), not the nearest item.
    Streams st2 = Units({{20}, {18, 23}, {24}});
    got = Feed(VXS_MATCH_APPROXIMATE, {0, 2500 * kMs, 5000 * kMs}, st2, Order::kRoundRobin);
    const vxs_time_t T = st2[0][0].t;
    want = {{T, 0, {Mem(VXS_MEMBER_SET_BEYOND_TOLERANCE, st2[1][1].t, 101, T),
                    Mem(VXS_MEMBER_OK, st2[2][0].t, 200, T)}}};
    ExpectFramesEq(got, want);
}

TEST(Match, ApproximateNotInSetDescribesTheFirstOfEqualTimes) {
    // A: 0 6 7 8 30, B: 0 5 5 30. Sets by hand: (0,0); pivot A6: L=5 gives (6, first 5) span 1;
    // pivot A7: (7, second 5) span 2; pivot B30: L=8 gives (8,30) span 22, L=30 (30,30) span 0.
    // A8 is in no set; B's items nearest it are the two 5s (3 away): the first is described.
    Streams st = Units({{0, 6, 7, 8, 30}, {0, 5, 5, 30}});
    const std::vector<int64_t> tol = {0, 100 * kS};
    auto ok = [&](size_t r, size_t j) {
        return Frame{st[0][r].t, r, {Mem(VXS_MEMBER_OK, st[1][j].t, 100 + j, st[0][r].t)}};
    };
    std::vector<Frame> want = {ok(0, 0), ok(1, 1), ok(2, 2),
                               {st[0][3].t, 3, {Mem(VXS_MEMBER_NOT_IN_SET, st[1][1].t, 101,
                                                    st[0][3].t)}},
                               ok(4, 3)};
    ExpectFramesEq(ExpectApprox(st, tol), want);
    ExpectFramesEq(Feed(VXS_MATCH_APPROXIMATE, tol, st, Order::kStreamByStream), want);
    ExpectFramesEq(Feed(VXS_MATCH_APPROXIMATE, tol, st, Order::kRoundRobin), want);
    for (uint64_t seed = 1; seed <= 5; seed++)
        ExpectFramesEq(Feed(VXS_MATCH_APPROXIMATE, tol, st, Order::kRandom, seed), want);
}

TEST(Match, ApproximateMatchesBruteForceOnRandomStreams) {
    std::mt19937_64 rng(12345);
    int sets_seen = 0, not_in_set = 0, refused = 0;
    for (int trial = 0; trial < 400; trial++) {
        Streams st(3);
        const uint64_t range = 10 + rng() % 60; // narrow ranges repeat times often
        for (size_t s = 0; s < 3; s++) {
            size_t len = (size_t)(rng() % 20); // about 30 items in all, sometimes none
            std::vector<int64_t> times;
            for (size_t j = 0; j < len; j++) times.push_back((int64_t)(rng() % range));
            std::sort(times.begin(), times.end()); // repeated times included
            for (size_t j = 0; j < len; j++)
                st[s].push_back({kT0 + times[j] * kMs, (uint64_t)(1000 * s + j)});
        }
        std::vector<int64_t> tol = {0, (int64_t)(rng() % 12) * kMs, (int64_t)(rng() % 12) * kMs};
        if (trial % 4 == 0) tol = {0, 100 * kMs, 100 * kMs};
        std::vector<Frame> want = ExpectApprox(st, tol);
        sets_seen += (int)BruteApproxSets(st).size();
        for (const Frame &f : want)
            for (const Member &m : f.m) {
                not_in_set += m.status == VXS_MEMBER_NOT_IN_SET;
                refused += m.status == VXS_MEMBER_SET_BEYOND_TOLERANCE;
            }
        SCOPED_TRACE(trial);
        ExpectFramesEq(Feed(VXS_MATCH_APPROXIMATE, tol, st, Order::kStreamByStream), want);
        ExpectFramesEq(Feed(VXS_MATCH_APPROXIMATE, tol, st, Order::kRoundRobin), want);
        ExpectFramesEq(Feed(VXS_MATCH_APPROXIMATE, tol, st, Order::kRandom, (uint64_t)trial), want);
        if (tol[1] == 100 * kMs) {
            // Every set member is accepted: items are used once and sets never cross.
            std::vector<Frame> got = Feed(VXS_MATCH_APPROXIMATE, tol, st, Order::kRoundRobin);
            for (size_t s = 0; s < 2; s++) {
                long last = -1;
                for (const Frame &f : got)
                    if (f.m[s].status == VXS_MEMBER_OK) {
                        EXPECT_GT((long)(f.m[s].id - 1000 * (s + 1)), last);
                        last = (long)(f.m[s].id - 1000 * (s + 1));
                    }
            }
        }
    }
    EXPECT_GT(sets_seen, 400); // the cases are not degenerate
    EXPECT_GT(not_in_set, 100);
    EXPECT_GT(refused, 100);
}

// ---- EXACT ----------------------------------------------------------------------------------

TEST(Match, ExactMatchesEqualTimesOnly) {
    // Reference 0, 10, 20, 30, 40; stream 1 at 10, 20, 20, 25, 40 (tolerance ignored); stream 2
    // never gets an item.
    Streams st(3);
    for (int i = 0; i < 5; i++) st[0].push_back({10 * i, (uint64_t)i});
    const int times[] = {10, 20, 20, 25, 40};
    for (int j = 0; j < 5; j++) st[1].push_back({times[j], (uint64_t)(100 + j)});
    std::vector<Frame> want = {
        {0, 0, {Mem(VXS_MEMBER_NO_EXACT, 10, 100, 0), NoItems()}},
        {10, 1, {Mem(VXS_MEMBER_OK, 10, 100, 10), NoItems()}},
        {20, 2, {Mem(VXS_MEMBER_OK, 20, 101, 20), NoItems()}},
        {30, 3, {Mem(VXS_MEMBER_NO_EXACT, 25, 103, 30), NoItems()}},
        {40, 4, {Mem(VXS_MEMBER_OK, 40, 104, 40), NoItems()}},
    };
    const std::vector<int64_t> tol = {0, 1000, 1000};
    ExpectFramesEq(Feed(VXS_MATCH_EXACT, tol, st, Order::kStreamByStream), want);
    ExpectFramesEq(Feed(VXS_MATCH_EXACT, tol, st, Order::kRoundRobin), want);
    ExpectFramesEq(Feed(VXS_MATCH_EXACT, tol, st, Order::kRandom, 3), want);
}

// ---- errors and allocation failures -----------------------------------------------------------

TEST(Match, ArgumentErrors) {
    vxs_matcher_t *m = nullptr;
    const int64_t tol[] = {0, 10, 10};
    const int64_t neg[] = {0, 10, -1};
    EXPECT_EQ(vxs_matcher_create(nullptr, VXS_MATCH_NEAREST, 3, tol), VXS_E_ARG);
    EXPECT_EQ(vxs_matcher_create(&m, VXS_MATCH_NEAREST, 0, tol), VXS_E_ARG);
    EXPECT_EQ(vxs_matcher_create(&m, VXS_MATCH_NEAREST, 3, nullptr), VXS_E_ARG);
    EXPECT_EQ(vxs_matcher_create(&m, VXS_MATCH_NEAREST, 3, neg), VXS_E_ARG);
    EXPECT_EQ(vxs_matcher_create(&m, (vxs_match_policy_t)3, 3, tol), VXS_E_ARG);
    EXPECT_EQ(m, nullptr);
    vxs_matcher_destroy(nullptr);

    ASSERT_EQ(vxs_matcher_create(&m, VXS_MATCH_NEAREST, 3, tol), VXS_OK);
    EXPECT_EQ(vxs_matcher_push(m, 1, 100, 1), VXS_OK);
    EXPECT_EQ(vxs_matcher_push(m, 1, 99, 2), VXS_E_ARG);   // time went back: refused
    EXPECT_EQ(vxs_matcher_push(m, 1, 100, 3), VXS_OK);     // equal time is fine
    EXPECT_EQ(vxs_matcher_push(m, 3, 100, 4), VXS_E_ARG);  // no such stream
    EXPECT_EQ(vxs_matcher_push(m, 2, VXS_TIME_NONE, 5), VXS_E_ARG);
    vxs_matcher_end(m, 2);
    EXPECT_EQ(vxs_matcher_push(m, 2, 200, 6), VXS_E_STATE);
    vxs_matcher_end(m, 2); // twice is harmless
    vxs_matcher_end(m, 7); // so is a stream that does not exist
    // The refused item left no trace: the reference at 99 gets 100 (id 1), not 99.
    EXPECT_EQ(vxs_matcher_push(m, 0, 99, 10), VXS_OK);
    vxs_matcher_end(m, 0);
    vxs_matcher_end(m, 1);
    vxs_match_frame_t f;
    ASSERT_TRUE(vxs_matcher_pop(m, &f));
    EXPECT_EQ(f.members[1].status, VXS_MEMBER_OK);
    EXPECT_EQ(f.members[1].id, 1u);
    EXPECT_EQ(f.members[1].dt_ns, 1);
    EXPECT_EQ(f.members[2].status, VXS_MEMBER_NO_ITEMS);
    EXPECT_EQ(f.members[2].t, VXS_TIME_NONE);
    EXPECT_FALSE(vxs_matcher_pop(m, &f));
    vxs_matcher_destroy(m);
}

TEST(Match, AllocationFailuresLeaveTheMatcherUsable) {
    const int64_t tol[] = {0, 1000};
    for (long n = 1;; n++) { // fail each allocation of create in turn
        vxs_matcher_t *m = nullptr;
        vxs_status_t st;
        {
            vxs_test::FailAllocAfter fail(n);
            st = vxs_matcher_create(&m, VXS_MATCH_APPROXIMATE, 2, tol);
        }
        if (st == VXS_OK) {
            vxs_matcher_destroy(m);
            break;
        }
        EXPECT_EQ(st, VXS_E_NOMEM);
        EXPECT_EQ(m, nullptr);
        ASSERT_LT(n, 20);
    }
    const vxs_match_policy_t policies[] = {VXS_MATCH_NEAREST, VXS_MATCH_APPROXIMATE};
    for (vxs_match_policy_t p : policies) {
        vxs_matcher_t *m = nullptr;
        ASSERT_EQ(vxs_matcher_create(&m, p, 2, tol), VXS_OK);
        {
            vxs_test::FailAllocAfter fail(1);
            EXPECT_EQ(vxs_matcher_push(m, 0, 100, 1), VXS_E_NOMEM);
            EXPECT_EQ(vxs_matcher_push(m, 1, 100, 2), VXS_E_NOMEM);
        }
        EXPECT_EQ(vxs_matcher_pending(m), 0u);
        if (p == VXS_MATCH_APPROXIMATE) { // the set buffer fails after the item buffer grew
            vxs_test::FailAllocAfter fail(2);
            EXPECT_EQ(vxs_matcher_push(m, 0, 100, 1), VXS_E_NOMEM);
        }
        EXPECT_EQ(vxs_matcher_pending(m), 0u);
        ASSERT_EQ(vxs_matcher_push(m, 0, 100, 3), VXS_OK);
        ASSERT_EQ(vxs_matcher_push(m, 1, 101, 4), VXS_OK);
        vxs_matcher_end(m, 0);
        vxs_matcher_end(m, 1);
        vxs_match_frame_t f;
        ASSERT_TRUE(vxs_matcher_pop(m, &f));
        EXPECT_EQ(f.id, 3u);
        EXPECT_EQ(f.members[1].status, VXS_MEMBER_OK);
        EXPECT_EQ(f.members[1].id, 4u);
        EXPECT_FALSE(vxs_matcher_pop(m, &f));
        vxs_matcher_destroy(m);
    }
}

} // namespace
