// Clock models and the clock solver (vxs_sync.h section 4).
//
// Every expectation is derived here from the clocks' definition
//     local = ref + offset[piece] + drift * (ref - epoch)
// and, for the solver, from the relation an edge src -> dst measures: y = local_dst - local_src
// sampled at x = local_src. Fits are built by hand (one line per piece, as vxs_series_fit would
// give for noiseless data) or, where the point is the whole chain, by feeding a real series with
// samples generated from known clocks.
#include <algorithm>
#include <climits>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <vector>

#include "test_util.h"
#include "vxs_sync.h"

namespace {

const vxs_time_t kT0 = INT64_C(1700000000000000000); // 2023-11-14T22:13:20Z
const int64_t kUs = VXS_NS_PER_US, kMs = VXS_NS_PER_MS, kS = VXS_NS_PER_S;
// Every LiDAR's wire delay to its logger in these worlds: the prior's mean, so that the clocks
// it pins come out exact (WireDelayOffItsPriorIsCovered takes others).
const double kWire = VXS_CLOCK_WIRE_PRIOR_MEAN_NS;

// Local is the exact reading (rounded to the ns) of a clock with the given piece offset; the
// product is formed on times relative to the epoch so that doubles keep sub-ns precision.
vxs_time_t Local(vxs_time_t epoch, double off, double drift, vxs_time_t ref) {
    return ref + (vxs_time_t)llround(off + drift * (double)(ref - epoch));
}

// RefOf inverts Local for one piece: ref - epoch = (local - epoch - off) / (1 + drift).
vxs_time_t RefOf(vxs_time_t epoch, double off, double drift, vxs_time_t local) {
    return epoch + (vxs_time_t)llround(((double)(local - epoch) - off) / (1.0 + drift));
}

vxs_clock_model_t TwoPieces(vxs_time_t epoch, double off, double drift, vxs_time_t jump_at,
                            double jump_ns) {
    vxs_clock_model_t m;
    vxs_clock_model_identity(&m, epoch);
    m.drift = drift;
    m.pieces[0].offset_ns = off;
    m.pieces[1].from_ref = jump_at;
    m.pieces[1].offset_ns = off + jump_ns;
    m.n_pieces = 2;
    return m;
}

// Piece is one envelope stretch as a clean fit reports it: 10 windows, 1 µs / 0.001 ppm sd.
vxs_series_piece_t Piece(vxs_time_t xs, vxs_time_t xe, double a, double b) {
    vxs_series_piece_t p;
    memset(&p, 0, sizeof p);
    p.x_start = xs;
    p.x_end = xe;
    p.offset_ns = a;
    p.slope = b;
    p.samples = 1000;
    p.windows = 10;
    p.inliers = 10;
    p.offset_sd_ns = 1e3;
    p.slope_sd = 1e-9;
    p.x_center = xs + (xe - xs) / 2;
    p.center_sd_ns = 1e3;
    return p;
}

// Line is a one-piece fit over a minute either side of the epoch.
vxs_series_fit_t Line(vxs_time_t x0, double a, double b) {
    vxs_series_fit_t f;
    memset(&f, 0, sizeof f);
    f.x0 = x0;
    f.n_pieces = 1;
    f.pieces[0] = Piece(x0 - 60 * kS, x0 + 60 * kS, a, b);
    f.samples = 1000;
    f.windows = 10;
    return f;
}

vxs_clock_node_t Node(const char *name, bool anchored) {
    vxs_clock_node_t n;
    memset(&n, 0, sizeof n);
    n.name = name;
    n.anchored = anchored;
    return n;
}

vxs_clock_edge_t Edge(size_t src, size_t dst, vxs_delay_class_t d, const vxs_series_fit_t *f,
                      double resolution_ns = 0) {
    vxs_clock_edge_t e;
    memset(&e, 0, sizeof e);
    e.src = src;
    e.dst = dst;
    e.delay = d;
    e.fit = f;
    e.resolution_ns = resolution_ns;
    return e;
}

struct Solved {
    std::vector<vxs_clock_result_t> r;
    std::vector<vxs_clock_edge_result_t> er;
    vxs_clock_solution_t sol;
    vxs_status_t st;
};

Solved Solve(const std::vector<vxs_clock_node_t> &nodes, const std::vector<vxs_clock_edge_t> &edges,
             vxs_time_t epoch, size_t fallback_ref = 0) {
    Solved s;
    s.r.resize(nodes.size());
    s.er.resize(edges.size() + 1);
    memset(&s.sol, 0, sizeof s.sol);
    s.st = vxs_clock_solve(nodes.data(), nodes.size(), edges.empty() ? nullptr : edges.data(),
                           edges.size(), epoch, fallback_ref, s.r.data(), s.er.data(), &s.sol);
    return s;
}

// ==== models ====================================================================================

TEST(ClockModel, IdentityAndNames) {
    vxs_clock_model_t m;
    memset(&m, 0x5a, sizeof m); // identity must overwrite everything that matters
    vxs_clock_model_identity(&m, kT0);
    EXPECT_EQ(m.epoch, kT0);
    EXPECT_EQ(m.drift, 0.0);
    ASSERT_EQ(m.n_pieces, 1u);
    EXPECT_EQ(m.pieces[0].from_ref, INT64_MIN);
    EXPECT_EQ(m.pieces[0].offset_ns, 0.0);
    // times on the 256 ns grid of a double at 1.7e18 (see the disabled test below)
    for (vxs_time_t t : {kT0, kT0 - 3600 * kS, kT0 + 123456768, INT64_C(0)}) {
        EXPECT_EQ(vxs_clock_to_local(&m, t), t);
        EXPECT_EQ(vxs_clock_to_reference(&m, t, nullptr), t);
    }
    EXPECT_EQ(vxs_clock_to_local(&m, VXS_TIME_NONE), VXS_TIME_NONE);
    vxs_clock_cursor_t cur = {};
    EXPECT_EQ(vxs_clock_to_reference(&m, VXS_TIME_NONE, &cur), VXS_TIME_NONE);
    EXPECT_EQ(vxs_clock_to_reference(&m, VXS_TIME_NONE, nullptr), VXS_TIME_NONE);

    EXPECT_STREQ(vxs_delay_class_name(VXS_DELAY_WIRE), "wire");
    EXPECT_STREQ(vxs_delay_class_name(VXS_DELAY_TX_LOG), "tx_log");
    EXPECT_STREQ(vxs_delay_class_name(VXS_DELAY_AIR), "air");
    EXPECT_STREQ(vxs_delay_class_name(VXS_DELAY_CLASSES), "unknown");
    EXPECT_STREQ(vxs_clock_method_name(VXS_CLOCK_M_UNKNOWN), "unknown");
    EXPECT_STREQ(vxs_clock_method_name(VXS_CLOCK_M_ANCHOR), "anchor");
    EXPECT_STREQ(vxs_clock_method_name(VXS_CLOCK_M_HINT), "hint");
    EXPECT_STREQ(vxs_clock_method_name(VXS_CLOCK_M_ESTIMATED), "estimated");
    EXPECT_STREQ(vxs_clock_method_name(VXS_CLOCK_M_REFERENCE), "reference");
    EXPECT_STREQ(vxs_clock_method_name((vxs_clock_method_t)99), "unknown");
}

// Readings -> reference is exact to the ns with a large offset and drift (the library works on
// times relative to the epoch there).
TEST(ClockModel, ToReferenceWithOffsetAndDrift) {
    const double off = 2.3e9, drift = 40e-6;
    vxs_clock_model_t m;
    vxs_clock_model_identity(&m, kT0);
    m.drift = drift;
    m.pieces[0].offset_ns = off;
    for (int64_t d : {-3600 * kS, -7 * kS - 1, INT64_C(0), INT64_C(1), 123456789 * INT64_C(7),
                      3600 * kS + 333}) {
        const vxs_time_t ref = kT0 + d;
        const vxs_time_t local = Local(kT0, off, drift, ref);
        EXPECT_NEAR((double)(vxs_clock_to_reference(&m, local, nullptr) - ref), 0.0, 1.0) << d;
        vxs_clock_cursor_t cur = {};
        EXPECT_NEAR((double)(vxs_clock_to_reference(&m, local, &cur) - ref), 0.0, 1.0) << d;
    }
}

// BUG (clocks.c local_in): vxs_clock_to_local computes (double)ref + offset + drift*(ref-epoch)
// in absolute terms; at present-day times (1.7e18 ns) a double's quantum is 256 ns, so the
// reading is off by up to 128 ns (even the identity: kT0 + 123456789 -> kT0 + 123456768; with
// offset 2.3 s, drift 40 ppm, ref = kT0 - 7 s - 1 reads 63 ns early). Disabled until fixed.
TEST(ClockModel, ToLocalRoundTripToTheNanosecond) {
    const double off = 2.3e9, drift = 40e-6;
    vxs_clock_model_t m;
    vxs_clock_model_identity(&m, kT0);
    m.drift = drift;
    m.pieces[0].offset_ns = off;
    // 40 ppm of 100 s is 4 ms
    EXPECT_EQ(vxs_clock_to_local(&m, kT0 + 100 * kS), kT0 + 100 * kS + 2304 * kMs);
    EXPECT_EQ(vxs_clock_to_local(&m, kT0 + 100 * kS + 1), kT0 + 100 * kS + 2304 * kMs + 1);
    vxs_clock_model_t id;
    vxs_clock_model_identity(&id, kT0);
    EXPECT_EQ(vxs_clock_to_local(&id, kT0 + 123456789), kT0 + 123456789);
    for (int64_t d : {-3600 * kS, -7 * kS - 1, INT64_C(0), INT64_C(1), 123456789 * INT64_C(7),
                      3600 * kS + 333}) {
        const vxs_time_t ref = kT0 + d;
        const vxs_time_t local = vxs_clock_to_local(&m, ref);
        EXPECT_NEAR((double)(local - Local(kT0, off, drift, ref)), 0.0, 1.0) << d;
        EXPECT_NEAR((double)(vxs_clock_to_reference(&m, local, nullptr) - ref), 0.0, 1.0) << d;
    }
}

// The precision that to_local does give today (|error| <= half a double quantum at 1.7e18 ns
// plus rounding): pins the mapping itself (piece choice, sign of offset and drift).
TEST(ClockModel, ToLocalPicksThePieceOfTheReferenceTime) {
    const double off = 2.3e9, drift = 40e-6;
    const vxs_time_t J = kT0 + 10 * kS;
    const vxs_clock_model_t m = TwoPieces(kT0, off, drift, J, -107.0 * kMs);
    EXPECT_NEAR((double)(vxs_clock_to_local(&m, J - 1) - Local(kT0, off, drift, J - 1)), 0, 260);
    EXPECT_NEAR((double)(vxs_clock_to_local(&m, J) - Local(kT0, off - 107e6, drift, J)), 0, 260);
    EXPECT_NEAR((double)(vxs_clock_to_local(&m, kT0 - 60 * kS) -
                         Local(kT0, off, drift, kT0 - 60 * kS)),
                0, 260);
}

// A forward step (+150 ms): readings every ms of reference time through it map back to their
// true times, with a cursor and without.
// A clock slewing at +300 ppm for 5 s (1.5 ms gained) and then stepping 20 ms: the slew's
// pieces begin without a step (the reading goes on at another rate), the step's with one.
// Readings map back to the reference to the ns, through a stream and one at a time.
TEST(ClockModel, RateChangesAreContinuous) {
    const double off = 40.0 * kMs, drift = 10e-6, slew = 300e-6, step = 20.0 * kMs;
    const vxs_time_t s0 = kT0 + 10 * kS, s1 = kT0 + 15 * kS, j = kT0 + 20 * kS;
    vxs_clock_model_t m;
    vxs_clock_model_identity(&m, kT0);
    m.drift = drift;
    m.pieces[0].offset_ns = off;
    // piece 1: rate drift + slew from s0, continuous there: off + slew * (s0 - epoch) less
    m.pieces[1] = {s0, off - slew * (double)(s0 - kT0), 0, slew};
    // piece 2: the slew over, its 1.5 ms kept
    m.pieces[2] = {s1, off + slew * (double)(s1 - s0), 0, 0.0};
    // piece 3: a step
    m.pieces[3] = {j, off + slew * (double)(s1 - s0) + step, 0, 0.0};
    m.n_pieces = 4;
    EXPECT_NEAR(vxs_clock_piece_step(&m, 1), 0.0, 1e-6);
    EXPECT_NEAR(vxs_clock_piece_step(&m, 2), 0.0, 1e-6);
    EXPECT_NEAR(vxs_clock_piece_step(&m, 3), step, 1e-6);
    EXPECT_EQ(vxs_clock_piece_step(&m, 0), 0.0);
    EXPECT_EQ(vxs_clock_piece_step(&m, 4), 0.0);
    // the reading against the truth written out
    auto truth = [&](vxs_time_t ref) {
        const double u = (double)(ref - kT0);
        double o = off + drift * u;
        if (ref >= s0) o += slew * (double)(std::min(ref, s1) - s0);
        if (ref >= j) o += step;
        return ref + (vxs_time_t)llround(o);
    };
    vxs_clock_cursor_t cur;
    memset(&cur, 0, sizeof cur);
    for (vxs_time_t ref = kT0; ref < kT0 + 30 * kS; ref += 100 * kMs + 17) {
        const vxs_time_t local = vxs_clock_to_local(&m, ref);
        EXPECT_NEAR((double)(local - truth(ref)), 0.0, 1.0) << ref - kT0;
        EXPECT_NEAR((double)(vxs_clock_to_reference(&m, local, &cur) - ref), 0.0, 1.0)
            << ref - kT0;
        EXPECT_NEAR((double)(vxs_clock_to_reference(&m, local, nullptr) - ref), 0.0, 1.0)
            << ref - kT0;
    }
}

// A change of rate whose offset rounds to a step a hair below zero (the solver's offsets are
// doubles, and moving the epoch rounds them again) is still no backward step: a stream read in
// order takes the new rate at the change, not up to a second later.
TEST(ClockModel, RateChangeRoundedBelowZeroIsNoStepBack) {
    const double slew = 300e-6;
    const vxs_time_t s0 = kT0 + 10 * kS;
    vxs_clock_model_t m;
    vxs_clock_model_identity(&m, kT0);
    m.pieces[1] = {s0, -slew * (double)(s0 - kT0) - 1e-7, 0, slew};
    m.n_pieces = 2;
    ASSERT_LT(vxs_clock_piece_step(&m, 1), 0.0);
    vxs_clock_cursor_t cur;
    memset(&cur, 0, sizeof cur);
    for (vxs_time_t ref = s0 - kS; ref < s0 + 2 * kS; ref += 10 * kMs + 3) {
        const vxs_time_t local = vxs_clock_to_local(&m, ref);
        EXPECT_NEAR((double)(vxs_clock_to_reference(&m, local, &cur) - ref), 0.0, 1.0)
            << ref - s0;
    }
}

TEST(ClockModel, ForwardJumpStream) {
    const double off = 2.3e9, drift = 40e-6, jump = 150.0 * kMs;
    const vxs_time_t J = kT0 + 10 * kS + 377 * kUs;
    const vxs_clock_model_t m = TwoPieces(kT0, off, drift, J, jump);
    vxs_clock_cursor_t cur = {};
    for (vxs_time_t ref = J - 500 * kMs; ref <= J + 500 * kMs; ref += kMs) {
        const double o = ref < J ? off : off + jump;
        const vxs_time_t local = Local(kT0, o, drift, ref);
        EXPECT_NEAR((double)(vxs_clock_to_reference(&m, local, &cur) - ref), 0.0, 1.0) << ref - J;
        EXPECT_NEAR((double)(vxs_clock_to_reference(&m, local, nullptr) - ref), 0.0, 1.0)
            << ref - J;
    }
    EXPECT_EQ(cur.piece, 1u);
}

// A backward step (-107 ms): the readings of the 107 ms before it occur again right after it.
// A cursor following the stream tells the two apart; without one, the later piece is chosen.
TEST(ClockModel, BackwardJumpStream) {
    const double off = 2.3e9, jump = -107.0 * kMs;
    const vxs_time_t J = kT0 + 10 * kS;
    for (double drift : {0.0, 40e-6}) {
        SCOPED_TRACE(drift);
        const vxs_clock_model_t m = TwoPieces(kT0, off, drift, J, jump);
        vxs_clock_cursor_t cur = {};
        size_t twice = 0;
        vxs_time_t max_before = INT64_MIN;
        for (vxs_time_t ref = J - 500 * kMs; ref <= J + 500 * kMs; ref += kMs) {
            const double o = ref < J ? off : off + jump;
            const vxs_time_t local = Local(kT0, o, drift, ref);
            if (ref < J) max_before = local;
            else if (local <= max_before) twice++;
            EXPECT_NEAR((double)(vxs_clock_to_reference(&m, local, &cur) - ref), 0.0, 1.0)
                << ref - J;
        }
        EXPECT_EQ(cur.piece, 1u);
        // the stream really went through readings that occur twice (107 of them at 1 ms)
        EXPECT_GE(twice, 106u);

        // with drift 0, the reading 7 ms before the step is exactly the one 100 ms after it
        if (drift == 0.0) {
            vxs_clock_cursor_t c2 = {};
            const vxs_time_t l1 = Local(kT0, off, 0, J - 200 * kMs);
            const vxs_time_t dup = Local(kT0, off, 0, J - 7 * kMs);
            ASSERT_EQ(dup, Local(kT0, off + jump, 0, J + 100 * kMs));
            EXPECT_EQ(vxs_clock_to_reference(&m, l1, &c2), J - 200 * kMs);
            EXPECT_EQ(vxs_clock_to_reference(&m, dup, &c2), J - 7 * kMs);
            EXPECT_EQ(vxs_clock_to_reference(&m, dup - 107 * kMs + 5 * kMs, &c2), J - 2 * kMs);
            // after the step the stream steps back by ~the jump: the second occurrence
            EXPECT_EQ(vxs_clock_to_reference(&m, dup, &c2), J + 100 * kMs);
        }

        // NULL cursor: an ambiguous reading (50 ms before the step) goes to the later piece, an
        // unambiguous one (300 ms before) to the first
        const vxs_time_t amb = Local(kT0, off, drift, J - 50 * kMs);
        EXPECT_NEAR((double)(vxs_clock_to_reference(&m, amb, nullptr) -
                             RefOf(kT0, off + jump, drift, amb)),
                    0.0, 1.0);
        EXPECT_GE(RefOf(kT0, off + jump, drift, amb), J);
        const vxs_time_t early = Local(kT0, off, drift, J - 300 * kMs);
        EXPECT_NEAR((double)(vxs_clock_to_reference(&m, early, nullptr) - (J - 300 * kMs)), 0.0,
                    1.0);
    }
}

// ==== the solver ================================================================================

// A logger (0) related to a GNSS-anchored LiDAR (1): the LiDAR's readings are reference time,
// so the envelope line is directly the logger's offset and drift, plus the wire delay.
TEST(ClockSolve, AnchorsOnly) {
    const double a = 241.75 * kMs, b = -32.7e-6;
    const vxs_series_fit_t f = Line(kT0, a + kWire, b);
    const Solved s = Solve({Node("ego/logger", false), Node("ego/lidar", true)},
                           {Edge(1, 0, VXS_DELAY_WIRE, &f)}, kT0);
    ASSERT_EQ(s.st, VXS_OK);
    EXPECT_EQ(s.sol.reference_node, SIZE_MAX);
    EXPECT_EQ(s.sol.hints_rejected, 0u);
    EXPECT_TRUE(s.sol.delay_used[VXS_DELAY_WIRE]);
    EXPECT_FALSE(s.sol.delay_used[VXS_DELAY_TX_LOG]);
    EXPECT_FALSE(s.sol.delay_used[VXS_DELAY_AIR]);
    EXPECT_EQ(s.sol.delay_ns[VXS_DELAY_WIRE], VXS_CLOCK_WIRE_PRIOR_MEAN_NS);
    EXPECT_EQ(s.sol.delay_sd_ns[VXS_DELAY_WIRE], VXS_CLOCK_WIRE_PRIOR_SD_NS);
    EXPECT_EQ(s.sol.floors_measured[VXS_DELAY_WIRE], 0u);
    EXPECT_FALSE(s.er[0].measured); // the wire's floor is its prior
    EXPECT_NEAR(s.er[0].floor_ns, kWire, 1.0);

    const vxs_clock_result_t &log = s.r[0], &lid = s.r[1];
    EXPECT_EQ(log.method, VXS_CLOCK_M_ESTIMATED);
    ASSERT_EQ(log.model.n_pieces, 1u);
    EXPECT_EQ(log.model.epoch, kT0);
    EXPECT_NEAR(log.model.pieces[0].offset_ns, a, 1.0);
    EXPECT_NEAR(log.model.drift, b, 1e-12);
    EXPECT_EQ(log.edges, 1u);
    EXPECT_EQ(log.samples, 1000u);
    EXPECT_EQ(log.jumps, 0u);
    // one relation at the 20 µs floor, and the wire delay's prior
    EXPECT_NEAR(log.offset_sd_ns, std::hypot(20.0 * kUs, VXS_CLOCK_WIRE_PRIOR_SD_NS), 100.0);
    EXPECT_EQ(log.ident, VXS_IDENT_PINNED);
    EXPECT_GT(log.drift_sd, 0.0);

    EXPECT_EQ(lid.method, VXS_CLOCK_M_ANCHOR);
    EXPECT_EQ(lid.model.pieces[0].offset_ns, 0.0);
    EXPECT_EQ(lid.model.drift, 0.0);
    EXPECT_EQ(lid.offset_sd_ns, 0.0);
    // no other path reaches it: nothing to check against
    EXPECT_FALSE(lid.hint_checked);
    EXPECT_FALSE(lid.hint_rejected);
}

// The wire delay from a LiDAR to its logger is not in any recording: a logger pinned by its
// LiDAR is off by the true delay minus the prior's mean, and its stated uncertainty covers that
// for delays from 0 to a few tenths of a millisecond (a direct link to a busy switch).
TEST(ClockSolve, WireDelayOffItsPriorIsCovered) {
    const double a = 241.75 * kMs, b = -32.7e-6;
    for (double wire : {0.0, 0.05 * kMs, 0.15 * kMs, 0.6 * kMs}) {
        const vxs_series_fit_t f = Line(kT0, a + wire, b);
        const Solved s = Solve({Node("ego/logger", false), Node("ego/lidar", true)},
                               {Edge(1, 0, VXS_DELAY_WIRE, &f)}, kT0);
        ASSERT_EQ(s.st, VXS_OK);
        const vxs_clock_result_t &log = s.r[0];
        const double err = log.model.pieces[0].offset_ns - a;
        EXPECT_NEAR(err, wire - kWire, 1.0) << wire;
        EXPECT_LE(std::fabs(err), 3 * log.offset_sd_ns) << wire;
        EXPECT_NEAR(s.er[0].floor_ns, kWire, 1.0) << wire;
        EXPECT_FALSE(s.er[0].clamped) << wire;
    }
}

// A free-running device (2) 18.97 s ahead, related to the logger (0) only. The envelope's x is
// the device's reading, so its line a + b (x - epoch) holds the device's own offset through b:
// theta_log - theta_dev = a + b * theta_dev, which the solver must honour (ignoring b*theta_dev
// would be off by |b| * 18.97 s = 0.86 ms here).
TEST(ClockSolve, FreeRunningDeviceUsesTheSlopeTimesItsOffset) {
    const double th_log = 241.75 * kMs, be_log = -32.7e-6;
    const double th_dev = 18.97 * kS, be_dev = 12.5e-6;
    // the envelope of y = local_log - local_dev against x = local_dev, from the two clocks:
    // ref - epoch = (x - epoch - th_dev) / (1 + be_dev)
    const double b = (be_log - be_dev) / (1 + be_dev);
    const double a = (th_log - th_dev) - b * th_dev;
    const vxs_series_fit_t f_lid = Line(kT0, th_log + kWire, be_log);
    const vxs_series_fit_t f_dev = Line(kT0, a + kWire, b);
    const Solved s = Solve({Node("ego/logger", false), Node("ego/lidar", true),
                            Node("ego/radar", false)},
                           {Edge(1, 0, VXS_DELAY_WIRE, &f_lid), Edge(2, 0, VXS_DELAY_WIRE, &f_dev)},
                           kT0);
    ASSERT_EQ(s.st, VXS_OK);
    // theta_dev = theta_log - a - b theta_dev  =>  theta_dev = (theta_log - a) / (1 + b)
    const double want = (th_log - a) / (1 + b);
    ASSERT_NEAR(want, th_dev, 1e-3); // the two derivations agree
    EXPECT_EQ(s.r[2].method, VXS_CLOCK_M_ESTIMATED);
    // two fixed-point passes leave b^2 * theta_dev = 39 ns
    EXPECT_NEAR(s.r[2].model.pieces[0].offset_ns, want, 100.0);
    EXPECT_NEAR(s.r[2].model.drift, be_log - b, 1e-12);
    EXPECT_NEAR(s.r[2].model.drift, be_dev, 1e-9);
    EXPECT_NEAR(s.r[0].model.pieces[0].offset_ns, th_log, 1.0);
    EXPECT_NEAR(s.r[0].model.drift, be_log, 1e-12);
    EXPECT_EQ(s.r[0].edges, 2u);
    EXPECT_EQ(s.r[0].samples, 2000u);
}

// The same, through a real series: samples generated from the two clocks every 10 ms of the
// device's time for two minutes, the fit, then the solve.
TEST(ClockSolve, FreeRunningDeviceThroughARealSeries) {
    const double th_log = 241.75 * kMs, be_log = -32.7e-6;
    const double th_dev = 18.97 * kS, be_dev = 12.5e-6;
    vxs_series_t *ser = nullptr;
    ASSERT_EQ(vxs_series_create(&ser, nullptr), VXS_OK);
    for (int64_t i = -6000; i <= 6000; i++) {
        const vxs_time_t ref = kT0 + i * 10 * kMs;
        const vxs_time_t x = Local(kT0, th_dev, be_dev, ref);
        const vxs_time_t y = Local(kT0, th_log, be_log, ref) - x + (vxs_time_t)kWire;
        ASSERT_EQ(vxs_series_add(ser, x, y), VXS_OK);
    }
    vxs_series_fit_t f_dev;
    ASSERT_EQ(vxs_series_fit(ser, kT0, &f_dev), VXS_OK);
    vxs_series_destroy(ser);
    ASSERT_EQ(f_dev.n_pieces, 1u);
    const vxs_series_fit_t f_lid = Line(kT0, th_log + kWire, be_log);
    const Solved s = Solve({Node("ego/logger", false), Node("ego/lidar", true),
                            Node("ego/radar", false)},
                           {Edge(1, 0, VXS_DELAY_WIRE, &f_lid), Edge(2, 0, VXS_DELAY_WIRE, &f_dev)},
                           kT0);
    ASSERT_EQ(s.st, VXS_OK);
    EXPECT_EQ(s.r[2].method, VXS_CLOCK_M_ESTIMATED);
    // the samples carry 0.5 ns of rounding; the solve's two passes 39 ns
    EXPECT_NEAR(s.r[2].model.pieces[0].offset_ns, th_dev, 100.0);
    EXPECT_NEAR(s.r[2].model.drift, be_dev, 1e-9);
    EXPECT_EQ(s.r[2].samples, 12001u);
}

// Two loggers: A tied to the reference by its LiDAR, B by V2X only. GNSS-timed senders of both
// agents: each is logged as sent by its own logger (TX_LOG) and received by the other (AIR).
struct TwoAgents {
    static constexpr double kThA = 241.75 * kMs, kBeA = -32.7e-6;
    static constexpr double kThB = -1.5 * kS + 12345.0, kBeB = 15e-6;
    static constexpr double kTx = 0.25 * kMs, kAir = 1.2 * kMs;
    enum { LOG_A, LIDAR_A, LOG_B, SEND_A, SEND_B, SEND_A2 };
    std::vector<vxs_series_fit_t> fits;
    std::vector<vxs_clock_node_t> nodes;
    std::vector<vxs_clock_edge_t> edges;
    // sender `src` whose clock is `err` ahead of the reference (0: truly GNSS-timed), drift-free:
    // x = ref + err, so y = local_dst - x = theta_dst + delay - err + beta_dst (x - epoch - err)
    void Sender(size_t src, bool of_a, double err) {
        const double th_own = of_a ? kThA : kThB, be_own = of_a ? kBeA : kBeB;
        const double th_oth = of_a ? kThB : kThA, be_oth = of_a ? kBeB : kBeA;
        fits.push_back(Line(kT0, th_own + kTx - err - be_own * err, be_own));
        fits.push_back(Line(kT0, th_oth + kAir - err - be_oth * err, be_oth));
        edges.push_back(Edge(src, of_a ? LOG_A : LOG_B, VXS_DELAY_TX_LOG, nullptr, 1e3));
        edges.push_back(Edge(src, of_a ? LOG_B : LOG_A, VXS_DELAY_AIR, nullptr, 1e3));
    }
    TwoAgents(double err_b, bool third_sender) {
        fits.reserve(8); // the edges point into it
        nodes = {Node("a/logger", false), Node("a/lidar", true), Node("b/logger", false),
                 Node("a/obu", true), Node("b/obu", true)};
        fits.push_back(Line(kT0, kThA + kWire, kBeA));
        edges.push_back(Edge(LIDAR_A, LOG_A, VXS_DELAY_WIRE, nullptr));
        Sender(SEND_A, true, 0);
        Sender(SEND_B, false, err_b);
        if (third_sender) {
            nodes.push_back(Node("a/rsu", true));
            Sender(SEND_A2, true, 0);
        }
        for (size_t e = 0; e < edges.size(); e++) edges[e].fit = &fits[e];
    }
};

// Agent A is pinned by its LiDAR, so the floors of the relations into A are measured: A's own
// stack's logging delay and the air latency floor from B. B is tied only through V2X: its
// offset rests on floors nobody measures (A -> B, B's own stack), drawn from the priors the
// measured ones give; its uncertainty says so and covers its error.
TEST(ClockSolve, FloorsAreMeasuredWherePinnedAndPriorsCarryTheRest) {
    TwoAgents t(0, false);
    const Solved s = Solve(t.nodes, t.edges, kT0);
    ASSERT_EQ(s.st, VXS_OK);
    EXPECT_EQ(s.sol.hints_rejected, 0u);
    const vxs_clock_result_t &a = s.r[TwoAgents::LOG_A], &b = s.r[TwoAgents::LOG_B];
    EXPECT_EQ(a.ident, VXS_IDENT_PINNED);
    // the wire's prior leaves A's offset 0.2 ms uncertain, so the V2X floors' priors pull it
    // by a few µs
    EXPECT_NEAR(a.model.pieces[0].offset_ns, TwoAgents::kThA, 10.0 * kUs);
    EXPECT_GE(a.offset_sd_ns, VXS_CLOCK_WIRE_PRIOR_SD_NS * 0.9);
    EXPECT_EQ(a.limited_by, SIZE_MAX);
    // edges: 0 lidar->A, 1 SA->A tx, 2 SA->B air, 3 SB->B tx, 4 SB->A air
    EXPECT_TRUE(s.er[1].measured);
    EXPECT_NEAR(s.er[1].floor_ns, TwoAgents::kTx, 10.0 * kUs);
    EXPECT_TRUE(s.er[4].measured);
    EXPECT_NEAR(s.er[4].floor_ns, TwoAgents::kAir, 10.0 * kUs);
    EXPECT_FALSE(s.er[2].measured);
    EXPECT_FALSE(s.er[3].measured);
    EXPECT_EQ(s.sol.floors_measured[VXS_DELAY_TX_LOG], 1u);
    EXPECT_EQ(s.sol.floors_measured[VXS_DELAY_AIR], 1u);
    // (the priors are taken from the first pass, whose default priors pull A further)
    EXPECT_NEAR(s.sol.delay_ns[VXS_DELAY_TX_LOG], TwoAgents::kTx, 50.0 * kUs);
    EXPECT_NEAR(s.sol.delay_ns[VXS_DELAY_AIR], TwoAgents::kAir, 50.0 * kUs);
    // one measured floor says nothing of the spread: the default spreads
    EXPECT_EQ(s.sol.delay_sd_ns[VXS_DELAY_TX_LOG], VXS_CLOCK_TX_PRIOR_SD_NS);
    EXPECT_EQ(s.sol.delay_sd_ns[VXS_DELAY_AIR], VXS_CLOCK_AIR_PRIOR_SD_NS);
    EXPECT_EQ(s.sol.delay_ns[VXS_DELAY_WIRE], VXS_CLOCK_WIRE_PRIOR_MEAN_NS);
    for (int c = 0; c < VXS_DELAY_CLASSES; c++) EXPECT_TRUE(s.sol.delay_used[c]) << c;
    EXPECT_EQ(b.method, VXS_CLOCK_M_ESTIMATED);
    EXPECT_EQ(b.ident, VXS_IDENT_FLOOR_PRIOR);
    EXPECT_TRUE(b.limited_by == 2 || b.limited_by == 3) << b.limited_by;
    EXPECT_GT(b.offset_sd_ns, 0.25 * kMs); // no better than the floors' spread
    EXPECT_LE(std::fabs(b.model.pieces[0].offset_ns - TwoAgents::kThB), 3 * b.offset_sd_ns);
    EXPECT_NEAR(b.model.drift, TwoAgents::kBeB, 1e-12); // drift does not depend on floors
    for (size_t v : {TwoAgents::SEND_A, TwoAgents::SEND_B}) {
        EXPECT_EQ(s.r[v].method, VXS_CLOCK_M_ANCHOR) << v;
        EXPECT_TRUE(s.r[v].hint_checked) << v;
        EXPECT_FALSE(s.r[v].hint_rejected) << v;
        EXPECT_LT(std::fabs(s.r[v].hint_residual_ns), 1.0 * kMs) << v;
        EXPECT_EQ(s.r[v].edges, 2u);
    }
    EXPECT_EQ(s.r[TwoAgents::LOG_A].edges, 3u);
    EXPECT_EQ(s.r[TwoAgents::LOG_B].edges, 2u);
}

// Asymmetric links: the floors into the pinned agent differ from the ones out of it. Nothing
// measured comes out negative, and B's uncertainty covers the difference.
TEST(ClockSolve, AsymmetricFloorsStayHonest) {
    for (double air_ab : {0.5 * kMs, 4.0 * kMs, 6.5 * kMs}) {
        TwoAgents t(0, false);
        // SA -> B (edge 2) with its own floor: B's captures of A's messages come later
        t.fits[2] = Line(kT0, TwoAgents::kThB + air_ab, TwoAgents::kBeB);
        const Solved s = Solve(t.nodes, t.edges, kT0);
        ASSERT_EQ(s.st, VXS_OK);
        const vxs_clock_result_t &b = s.r[TwoAgents::LOG_B];
        EXPECT_LE(std::fabs(b.model.pieces[0].offset_ns - TwoAgents::kThB), 3 * b.offset_sd_ns)
            << air_ab;
        for (size_t e = 1; e < t.edges.size(); e++) EXPECT_GE(s.er[e].floor_ns, 0.0) << e;
    }
}

// sender B's clock is in fact 300 ms ahead although it is declared GNSS-timed. The other paths
// to it (its own agent's logger, tied through V2X; agent A's logger, pinned) disagree with it
// by far more than any floor's spread, so it is the one rejected.
TEST(ClockSolve, WrongAnchorIsRejected) {
    const double err = 300.0 * kMs;
    TwoAgents t(err, true);
    const Solved s = Solve(t.nodes, t.edges, kT0);
    ASSERT_EQ(s.st, VXS_OK);
    EXPECT_EQ(s.sol.hints_rejected, 1u);
    const vxs_clock_result_t &bad = s.r[TwoAgents::SEND_B];
    EXPECT_EQ(bad.method, VXS_CLOCK_M_ESTIMATED);
    EXPECT_TRUE(bad.hint_checked);
    EXPECT_TRUE(bad.hint_rejected);
    EXPECT_LE(std::fabs(bad.model.pieces[0].offset_ns - err), 3 * bad.offset_sd_ns);
    for (size_t v : {TwoAgents::SEND_A, TwoAgents::SEND_A2, TwoAgents::LIDAR_A}) {
        EXPECT_EQ(s.r[v].method, VXS_CLOCK_M_ANCHOR) << v;
        EXPECT_TRUE(s.r[v].hint_checked) << v;
        EXPECT_FALSE(s.r[v].hint_rejected) << v;
        EXPECT_LT(std::fabs(s.r[v].hint_residual_ns), 2.0 * kMs) << v;
    }
    const vxs_clock_result_t &b = s.r[TwoAgents::LOG_B];
    EXPECT_LE(std::fabs(b.model.pieces[0].offset_ns - TwoAgents::kThB), 3 * b.offset_sd_ns);
    EXPECT_NEAR(s.r[TwoAgents::LOG_A].model.pieces[0].offset_ns, TwoAgents::kThA, 50.0 * kUs);
}

// An offset hint: reference = local + offset_ns, i.e. the model's offset is -offset_ns.
TEST(ClockSolve, OffsetHintIsFixedAndChecked) {
    const double a = 241.75 * kMs, b = -32.7e-6;
    const vxs_series_fit_t f = Line(kT0, a + kWire, b);
    std::vector<vxs_clock_node_t> nodes = {Node("ego/logger", false), Node("ego/lidar", true),
                                           Node("ego/cam", false)};
    nodes[2].has_offset = true;
    nodes[2].offset_ns = 40 * kMs; // the camera reads 40 ms behind
    // camera -> logger, x = local_cam = ref - 40 ms (camera drift-free):
    // y = a + b (ref - epoch) + 40 ms = a + 40 ms + b * 40 ms + b (x - epoch)
    const vxs_series_fit_t fc = Line(kT0, a + 40.0 * kMs + b * 40.0 * kMs + kWire, b);
    const Solved s = Solve(nodes, {Edge(1, 0, VXS_DELAY_WIRE, &f), Edge(2, 0, VXS_DELAY_WIRE, &fc)},
                           kT0);
    ASSERT_EQ(s.st, VXS_OK);
    EXPECT_EQ(s.r[2].method, VXS_CLOCK_M_HINT);
    EXPECT_EQ(s.r[2].model.pieces[0].offset_ns, -40.0 * kMs);
    EXPECT_TRUE(s.r[2].hint_checked);
    EXPECT_FALSE(s.r[2].hint_rejected);
    // freed, theta_cam = theta_log - a_cam - b theta_cam gives -40 ms again: residual ~0
    EXPECT_NEAR(s.r[2].hint_residual_ns, 0.0, 10.0);
}

TEST(ClockSolve, NothingAnchoredUsesTheFallbackReference) {
    const double a = 50.0 * kMs, b = 10e-6;
    const vxs_series_fit_t f = Line(kT0, a + kWire, b);
    const vxs_series_fit_t empty = [] {
        vxs_series_fit_t e;
        memset(&e, 0, sizeof e);
        e.x0 = kT0;
        return e;
    }();
    const Solved s = Solve({Node("a/logger", false), Node("b/logger", false),
                            Node("c/logger", false), Node("d/logger", false)},
                           {Edge(0, 1, VXS_DELAY_WIRE, &f), Edge(3, 0, VXS_DELAY_WIRE, &empty)},
                           kT0, 0);
    ASSERT_EQ(s.st, VXS_OK);
    EXPECT_EQ(s.sol.reference_node, 0u);
    EXPECT_EQ(s.sol.hints_rejected, 0u);
    EXPECT_EQ(s.r[0].method, VXS_CLOCK_M_REFERENCE);
    EXPECT_EQ(s.r[0].model.pieces[0].offset_ns, 0.0);
    EXPECT_EQ(s.r[0].model.drift, 0.0);
    EXPECT_FALSE(s.r[0].hint_checked);
    EXPECT_EQ(s.r[1].method, VXS_CLOCK_M_ESTIMATED);
    EXPECT_NEAR(s.r[1].model.pieces[0].offset_ns, a, 1.0);
    EXPECT_NEAR(s.r[1].model.drift, b, 1e-12);
    // node 2 has no relation at all, node 3 only one whose fit has no piece (ignored)
    for (size_t v : {2u, 3u}) {
        EXPECT_EQ(s.r[v].method, VXS_CLOCK_M_UNKNOWN) << v;
        EXPECT_EQ(s.r[v].model.epoch, kT0);
        EXPECT_EQ(s.r[v].model.n_pieces, 1u);
        EXPECT_EQ(s.r[v].model.pieces[0].from_ref, INT64_MIN);
        EXPECT_EQ(s.r[v].model.pieces[0].offset_ns, 0.0);
        EXPECT_EQ(s.r[v].model.drift, 0.0);
        EXPECT_EQ(s.r[v].edges, 0u);
    }

    // the same with the fallback on node 1: node 0 is then -a, drift -b
    const Solved s1 = Solve({Node("a/logger", false), Node("b/logger", false)},
                            {Edge(0, 1, VXS_DELAY_WIRE, &f)}, kT0, 1);
    ASSERT_EQ(s1.st, VXS_OK);
    EXPECT_EQ(s1.sol.reference_node, 1u);
    EXPECT_EQ(s1.r[1].method, VXS_CLOCK_M_REFERENCE);
    EXPECT_EQ(s1.r[0].method, VXS_CLOCK_M_ESTIMATED);
    // theta_1 - theta_0 = a + b theta_0 with theta_1 = 0  =>  theta_0 = -a / (1 + b)
    EXPECT_NEAR(s1.r[0].model.pieces[0].offset_ns, -a / (1 + b), 1.0);
    EXPECT_NEAR(s1.r[0].model.drift, -b, 1e-12);
}

// A logger stepped back by 107 ms (an NTP step) between two samples 10 ms apart of its anchored
// LiDAR's relation: the logger's model gets two pieces, the step in the middle of the bracket.
TEST(ClockSolve, JumpGivesTheDestinationTwoPieces) {
    const double a = 241.75 * kMs, b = -32.7e-6, jump = -107.0 * kMs;
    const vxs_time_t xe = kT0 + 5 * kS + 333 * kUs, xs = xe + 10 * kMs;
    vxs_series_fit_t f;
    memset(&f, 0, sizeof f);
    f.x0 = kT0;
    f.n_pieces = 2;
    f.pieces[0] = Piece(kT0 - 30 * kS, xe, a + kWire, b);
    f.pieces[1] = Piece(xs, kT0 + 30 * kS, a + kWire + jump, b);
    f.samples = 2000;
    f.windows = 20;
    const Solved s = Solve({Node("ego/logger", false), Node("ego/lidar", true)},
                           {Edge(1, 0, VXS_DELAY_WIRE, &f)}, kT0);
    ASSERT_EQ(s.st, VXS_OK);
    const vxs_clock_model_t &m = s.r[0].model;
    EXPECT_EQ(s.r[0].method, VXS_CLOCK_M_ESTIMATED);
    EXPECT_EQ(s.r[0].jumps, 1u);
    ASSERT_EQ(m.n_pieces, 2u);
    EXPECT_EQ(m.pieces[0].from_ref, INT64_MIN);
    EXPECT_NEAR(m.pieces[0].offset_ns, a, 1.0);
    EXPECT_NEAR(m.pieces[1].offset_ns - m.pieces[0].offset_ns, jump, 1.0);
    EXPECT_NEAR(m.drift, b, 1e-12);
    // x is reference time (anchored source), each sample captured a wire delay later: the step
    // lies in the middle of [xe, xs] + kWire; the solver carries the reading through absolute
    // doubles (256 ns quantum at 1.7e18 ns)
    const vxs_time_t mid = xe + (xs - xe) / 2 + (vxs_time_t)kWire;
    EXPECT_NEAR((double)(m.pieces[1].from_ref - mid), 0.0, 1.0 * kUs);
    // the source keeps one piece
    EXPECT_EQ(s.r[1].model.n_pieces, 1u);
    EXPECT_EQ(s.r[1].jumps, 0u);
}

// Two steps, a large one forward and then a small one back (a logger stepped by NTP, then
// corrected): each piece of the relation sheds exactly the steps before it, so every piece says
// the same offset and the logger's model has three pieces, each where the truth is.
TEST(ClockSolve, EveryPieceShedsTheStepsBeforeIt) {
    const double a = -1706.4 * kMs, b = 25.9e-6, up = 232.18 * kMs, back = -12.37 * kMs;
    const vxs_time_t e1 = kT0 + 7 * kS + 333 * kUs, s1 = e1 + 10 * kMs;
    const vxs_time_t e2 = kT0 + 14 * kS + 777 * kUs, s2 = e2 + 10 * kMs;
    vxs_series_fit_t f;
    memset(&f, 0, sizeof f);
    f.x0 = kT0;
    f.n_pieces = 3;
    f.pieces[0] = Piece(kT0 - 10 * kS, e1, a + kWire, b);
    f.pieces[1] = Piece(s1, e2, a + kWire + up, b);
    f.pieces[2] = Piece(s2, kT0 + 20 * kS, a + kWire + up + back, b);
    f.samples = 3000;
    f.windows = 30;
    const Solved s = Solve({Node("veh/logger", false), Node("veh/lidar", true)},
                           {Edge(1, 0, VXS_DELAY_WIRE, &f)}, kT0);
    ASSERT_EQ(s.st, VXS_OK);
    const vxs_clock_model_t &m = s.r[0].model;
    ASSERT_EQ(m.n_pieces, 3u);
    EXPECT_NEAR(m.pieces[0].offset_ns, a, 1.0);
    EXPECT_NEAR(m.pieces[1].offset_ns - m.pieces[0].offset_ns, up, 1.0);
    EXPECT_NEAR(m.pieces[2].offset_ns - m.pieces[1].offset_ns, back, 1.0);
    EXPECT_NEAR((double)(m.pieces[1].from_ref - (e1 + 5 * kMs + (vxs_time_t)kWire)), 0.0, 1.0 * kUs);
    EXPECT_NEAR((double)(m.pieces[2].from_ref - (e2 + 5 * kMs + (vxs_time_t)kWire)), 0.0, 1.0 * kUs);
    EXPECT_NEAR(s.er[0].floor_ns, kWire, 1.0);
}

// SlewFit is a relation's fit (a LiDAR's to its logger) of two pieces from 10 s before the epoch
// to `end`, continuous at t1 where the logger's rate changes from b0 to b1.
vxs_series_fit_t SlewFit(double a, double b0, vxs_time_t t1, vxs_time_t end, double b1) {
    vxs_series_fit_t f;
    memset(&f, 0, sizeof f);
    f.x0 = kT0;
    f.n_pieces = 2;
    f.pieces[0] = Piece(kT0 - 10 * kS, t1, a + kWire, b0);
    f.pieces[1] = Piece(t1, end, a + kWire - (b1 - b0) * (double)(t1 - kT0), b1);
    f.samples = 2000;
    f.windows = 20;
    return f;
}

// A logger slewed by NTP: its rate changes by 300 ppm at t1 while its reading goes on without a
// step. Given the change's time (vxs_rate_changes finds it), the relation's two pieces, one per
// rate, give a model of two pieces: the first rate as the drift, the change as the second
// piece's drift_delta, and readings continuous at t1 and right to the ns either side.
TEST(ClockSolve, RateChangeGivesAPieceOfItsOwnRate) {
    const double a = 37.25 * kMs, b0 = 20e-6, b1 = b0 + 300e-6;
    const vxs_time_t t1 = kT0 + 10 * kS + 250 * kMs;
    const vxs_series_fit_t f = SlewFit(a, b0, t1, kT0 + 30 * kS, b1);
    vxs_clock_node_t logger = Node("ego/logger", false);
    logger.n_rates = 1;
    logger.rate_at[0] = t1;
    const Solved s =
        Solve({logger, Node("ego/lidar", true)}, {Edge(1, 0, VXS_DELAY_WIRE, &f)}, kT0);
    ASSERT_EQ(s.st, VXS_OK);
    const vxs_clock_model_t &m = s.r[0].model;
    EXPECT_EQ(s.r[0].jumps, 0u);
    EXPECT_EQ(s.r[0].rate_changes, 1u);
    ASSERT_EQ(m.n_pieces, 2u);
    EXPECT_NEAR(m.drift, b0, 1e-12);
    EXPECT_EQ(m.pieces[1].from_ref, t1);
    EXPECT_NEAR(m.pieces[1].drift_delta, b1 - b0, 1e-12);
    EXPECT_NEAR(vxs_clock_piece_step(&m, 1), 0.0, 1.0);
    for (vxs_time_t ref : {kT0 - 5 * kS, t1 - kMs, t1, t1 + kMs, kT0 + 25 * kS}) {
        const double want = a + b0 * (double)(ref - kT0) + (b1 - b0) * fmax(0.0, (double)(ref - t1));
        EXPECT_NEAR((double)(vxs_clock_to_local(&m, ref) - ref), want, 2.0) << ref - kT0;
    }
    // the lidar, whose relation carries the change, keeps one piece
    EXPECT_EQ(s.r[1].model.n_pieces, 1u);
    EXPECT_EQ(s.r[1].rate_changes, 0u);
    // a change of rate that no relation reaches past is held by its prior, not invented
    vxs_clock_node_t late = logger;
    late.rate_at[0] = kT0 + 50 * kS;
    const Solved s2 =
        Solve({late, Node("ego/lidar", true)}, {Edge(1, 0, VXS_DELAY_WIRE, &f)}, kT0);
    ASSERT_EQ(s2.st, VXS_OK);
    ASSERT_EQ(s2.r[0].model.n_pieces, 2u);
    EXPECT_LT(fabs(s2.r[0].model.pieces[1].drift_delta), 1e-6);
    // changes out of order, or more than VXS_RATE_CHANGES_MAX
    vxs_clock_node_t bad = logger;
    bad.n_rates = 2;
    bad.rate_at[1] = t1 - kS;
    EXPECT_EQ(Solve({bad, Node("ego/lidar", true)}, {Edge(1, 0, VXS_DELAY_WIRE, &f)}, kT0).st,
              VXS_E_ARG);
    bad.n_rates = VXS_RATE_CHANGES_MAX + 1;
    EXPECT_EQ(Solve({bad, Node("ego/lidar", true)}, {Edge(1, 0, VXS_DELAY_WIRE, &f)}, kT0).st,
              VXS_E_ARG);
}

// A stretch of few windows between a change of rate and the end cannot tell its own noise: its
// lowest samples lie on the line fitted through them, so its slope's sd comes out 0. Such a
// stretch (an RSU's sparse messages, 3 windows, 60 ppm off) must not outweigh a dense relation
// over the same stretch: it takes its relation's noise, from the relation's long pieces.
TEST(ClockSolve, AStretchOfFewWindowsTakesItsRelationsNoise) {
    const double a = 12.5 * kMs, b0 = 30e-6, b1 = b0 - 350e-6;
    const vxs_time_t t1 = kT0 + 20 * kS;
    auto two = [&](double noise_sd, uint32_t late_windows, double late_slope, double late_sd) {
        vxs_series_fit_t f = SlewFit(a, b0, t1, kT0 + 25 * kS, late_slope);
        f.pieces[0].center_sd_ns = noise_sd / sqrt(30.0);
        f.pieces[0].inliers = f.pieces[0].windows = 30;
        f.pieces[0].slope_sd = 0.01e-6;
        f.pieces[1].windows = f.pieces[1].inliers = late_windows;
        f.pieces[1].slope_sd = late_sd;
        f.pieces[1].center_sd_ns = late_sd > 0 ? noise_sd / sqrt((double)late_windows) : 0.0;
        return f;
    };
    // the dense relation (a LiDAR, 1 us of noise) sees the true rate after the change; the
    // sparse one (0.3 ms of noise) 3 windows 60 ppm off, with a slope sd of 0
    const vxs_series_fit_t dense = two(1e3, 50, b1, 0.05e-6);
    const vxs_series_fit_t sparse = two(0.3e6, 3, b1 + 60e-6, 0.0);
    vxs_clock_node_t logger = Node("ego/logger", false);
    logger.n_rates = 1;
    logger.rate_at[0] = t1;
    const Solved s = Solve({logger, Node("ego/lidar", true), Node("sender:rsu", true)},
                           {Edge(1, 0, VXS_DELAY_WIRE, &dense), Edge(2, 0, VXS_DELAY_AIR, &sparse)},
                           kT0);
    ASSERT_EQ(s.st, VXS_OK);
    const vxs_clock_model_t &m = s.r[0].model;
    ASSERT_EQ(m.n_pieces, 2u);
    EXPECT_NEAR(m.drift + m.pieces[1].drift_delta, b1, 1e-6);
    EXPECT_NEAR(m.drift, b0, 1e-7);
}

TEST(ClockSolve, BadArguments) {
    const vxs_series_fit_t f = Line(kT0, 1.0 * kMs, 0);
    const std::vector<vxs_clock_node_t> nodes = {Node("x", true), Node("y", false)};
    vxs_clock_result_t out[2];
    vxs_clock_solution_t sol;
    const vxs_clock_edge_t ok = Edge(0, 1, VXS_DELAY_WIRE, &f);
    EXPECT_EQ(vxs_clock_solve(nodes.data(), 2, &ok, 1, kT0, 0, out, nullptr, &sol), VXS_OK);
    for (vxs_clock_edge_t e : {Edge(2, 1, VXS_DELAY_WIRE, &f), Edge(0, 2, VXS_DELAY_WIRE, &f),
                               Edge(SIZE_MAX, 1, VXS_DELAY_WIRE, &f),
                               Edge(1, 1, VXS_DELAY_WIRE, &f),
                               Edge(0, 1, VXS_DELAY_CLASSES, &f)}) {
        EXPECT_EQ(vxs_clock_solve(nodes.data(), 2, &e, 1, kT0, 0, out, nullptr, &sol), VXS_E_ARG)
            << e.src << "->" << e.dst;
    }
    EXPECT_EQ(vxs_clock_solve(nodes.data(), 2, &ok, 1, kT0, 0, nullptr, nullptr, &sol), VXS_E_ARG);
    EXPECT_EQ(vxs_clock_solve(nodes.data(), 2, &ok, 1, kT0, 0, out, nullptr, nullptr), VXS_E_ARG);
    EXPECT_EQ(vxs_clock_solve(nullptr, 2, &ok, 1, kT0, 0, out, nullptr, &sol), VXS_E_ARG);
    EXPECT_EQ(vxs_clock_solve(nodes.data(), 0, nullptr, 0, kT0, 0, out, nullptr, &sol), VXS_E_ARG);
    EXPECT_EQ(vxs_clock_solve(nodes.data(), 2, nullptr, 1, kT0, 0, out, nullptr, &sol), VXS_E_ARG);
    // nothing anchored and the fallback reference out of range
    const std::vector<vxs_clock_node_t> free_nodes = {Node("x", false), Node("y", false)};
    EXPECT_EQ(vxs_clock_solve(free_nodes.data(), 2, &ok, 1, kT0, 2, out, nullptr, &sol), VXS_E_ARG);
    // no edges at all is fine: every free node unknown
    EXPECT_EQ(vxs_clock_solve(nodes.data(), 2, nullptr, 0, kT0, 0, out, nullptr, &sol), VXS_OK);
    EXPECT_EQ(out[0].method, VXS_CLOCK_M_ANCHOR);
    EXPECT_EQ(out[1].method, VXS_CLOCK_M_UNKNOWN);
}

} // namespace
