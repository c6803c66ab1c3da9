// Changes of a clock's rate (vxs_sync.h section 4, vxs_rate_changes).
//
// The points are what the job hands over: every window's lowest sample of each
// relation into a clock, less the relation's line. Here they are made from a
// known offset curve (a line, plus the slews and frequency changes under test),
// plus each relation's own line and delay noise.
#include <cmath>
#include <cstdint>
#include <random>
#include <vector>

#include "test_util.h"
#include "vxs_sync.h"

namespace {

struct Bend {
    double t0, t1; // s; t1 = INFINITY: for good
    double rate;   // dimensionless
};

// Offset gained by the bends at t (ns).
double Gained(const std::vector<Bend> &bends, double t) {
    double o = 0;
    for (const Bend &b : bends)
        if (t > b.t0) o += b.rate * 1e9 * (std::min(t, b.t1) - b.t0);
    return o;
}

struct Relation {
    double rate_hz;  // windows' lowest samples per second
    double noise_ns; // mean of the exponential delay above the floor in a
                     // window's lowest
    double a_ns, b;  // the relation's own line (any)
};

std::vector<vxs_rate_point_t> Points(const std::vector<Relation> &rels,
                                     const std::vector<Bend> &bends, double dur_s, uint64_t seed,
                                     double outliers = 0.0) {
    std::mt19937_64 g(seed);
    std::uniform_real_distribution<double> u(0.0, 1.0);
    std::vector<vxs_rate_point_t> v;
    for (uint32_t k = 0; k < rels.size(); k++) {
        const Relation &r = rels[k];
        for (double t = 0; t < dur_s; t += 1.0 / r.rate_hz) {
            double y = r.a_ns + r.b * 1e9 * t + Gained(bends, t) - r.noise_ns * std::log1p(-u(g));
            if (outliers > 0 && u(g) < outliers) y += 3e6 * (u(g) - 0.3);
            v.push_back({t, y, k, 0});
        }
    }
    return v;
}

std::vector<vxs_rate_change_t> Find(const std::vector<vxs_rate_point_t> &p, uint32_t groups,
                                    const vxs_rate_opts_t *o = nullptr) {
    vxs_rate_change_t out[VXS_RATE_CHANGES_MAX];
    size_t n = 99;
    EXPECT_EQ(vxs_rate_changes(p.data(), p.size(), groups, o, out, &n), VXS_OK);
    return std::vector<vxs_rate_change_t>(out, out + (n <= VXS_RATE_CHANGES_MAX ? n : 0));
}

const Relation kLidar{10.0, 3e3, 241.75e6, -32.7e-6}; // 100 ms windows of a 1.5 kHz LiDAR
const Relation kV2x{10.0, 300e3, -1705.2e6, 25.9e-6}; // a 10 Hz sender, one per window

// A logger slewing at +300 ppm from 20 to 25 s (1.5 ms gained): two changes,
// where and as large as the slew, from its LiDAR's relation.
TEST(RateChanges, SlewIsTwoChanges) {
    for (uint64_t seed = 1; seed <= 3; seed++) {
        SCOPED_TRACE(seed);
        const auto c = Find(Points({kLidar}, {{20.0, 25.0, 300e-6}}, 60.0, seed), 1);
        ASSERT_EQ(c.size(), 2u);
        EXPECT_NEAR(c[0].t, 20.0, 0.15);
        EXPECT_NEAR(c[1].t, 25.0, 0.15);
        EXPECT_NEAR(c[0].rate, 300e-6, 5e-6);
        EXPECT_NEAR(c[1].rate, -300e-6, 5e-6);
        EXPECT_GT(c[0].rate_sd, 0.0);
        EXPECT_LT(c[0].rate_sd, 5e-6);
    }
}

// A new frequency correction of -5 ppm from 30 s on: one change.
TEST(RateChanges, FrequencyChangeIsOneChange) {
    for (uint64_t seed = 4; seed <= 6; seed++) {
        SCOPED_TRACE(seed);
        const auto c = Find(Points({kLidar}, {{30.0, INFINITY, -5e-6}}, 60.0, seed), 1);
        ASSERT_EQ(c.size(), 1u);
        EXPECT_NEAR(c[0].t, 30.0, 2.0);
        EXPECT_NEAR(c[0].rate, -5e-6, 0.5e-6);
        EXPECT_LE(std::fabs(c[0].rate + 5e-6), 4 * c[0].rate_sd);
    }
}

// A straight clock: no change, whatever the noise, with 1 % of the points far
// off (corrupted stamps, a window of delay spikes), and on a V2X relation's 0.3
// ms delays.
TEST(RateChanges, StraightClockHasNone) {
    for (uint64_t seed = 7; seed <= 16; seed++) {
        SCOPED_TRACE(seed);
        EXPECT_EQ(Find(Points({kLidar}, {}, 60.0, seed, 0.01), 1).size(), 0u);
        EXPECT_EQ(Find(Points({kV2x, kV2x, kLidar}, {}, 40.0, seed, 0.01), 3).size(), 0u);
    }
}

// A phone tied by V2X alone: three 10 Hz senders' relations, each with its own
// line and 0.3 ms of delay noise, see a 200 ppm slew over 4 s together.
TEST(RateChanges, RelationsSeeTheBendTogether) {
    Relation a = kV2x, b = kV2x, c = kV2x;
    b.a_ns += 3e6;
    b.b += 0.4e-6;
    c.a_ns -= 1e6;
    for (uint64_t seed = 17; seed <= 19; seed++) {
        SCOPED_TRACE(seed);
        const auto r = Find(Points({a, b, c}, {{12.0, 16.0, -200e-6}}, 40.0, seed), 3);
        ASSERT_EQ(r.size(), 2u);
        // 0.3 ms of noise against 0.2 ms gained per second: where it bends is known to a
        // fraction of a second
        EXPECT_NEAR(r[0].t, 12.0, 1.0);
        EXPECT_NEAR(r[1].t, 16.0, 1.0);
        EXPECT_NEAR(r[0].rate, -200e-6, 60e-6);
        EXPECT_NEAR(r[1].rate, 200e-6, 60e-6);
    }
}

// Too small to matter: a 0.5 ppm change 10 s before the end moves the reading 5
// µs.
TEST(RateChanges, TooSmallToMatterIsNoChange) {
    EXPECT_EQ(Find(Points({kLidar}, {{50.0, INFINITY, 0.5e-6}}, 60.0, 21), 1).size(), 0u);
    vxs_rate_opts_t o;
    vxs_rate_opts_init(&o);
    EXPECT_EQ(o.max_changes, 6u);
    o.max_changes = 1; // a slew's second bend is not looked for
    EXPECT_EQ(Find(Points({kLidar}, {{20.0, 25.0, 300e-6}}, 60.0, 1), 1, &o).size(), 1u);
}

// A bend 1.8 s before a step of the clock (a logger slewed by NTP at -20 ppm from 9 s on, then
// stepped +54 ms at 10.8 s), as the job hands it over: the windows within 0.5 s of the step
// left out, the pieces either side of it given, each less its own level. The bend is where
// it began, not seconds later: the piece after the step shows the new rate against the
// relation's one slope (with one level for the whole relation the piece's own level, taken off
// by its fit, was a jump the hinge could not follow: the change came out 5 s late).
TEST(RateChanges, BendBeforeAStepIsWhereItBegan) {
    for (uint64_t seed = 31; seed <= 33; seed++) {
        SCOPED_TRACE(seed);
        std::vector<vxs_rate_point_t> v;
        for (const vxs_rate_point_t &q : Points({kLidar}, {{9.0, INFINITY, -20e-6}}, 23.0, seed)) {
            if (std::fabs(q.t - 10.8) < 0.5) continue;
            vxs_rate_point_t w = q;
            w.piece = q.t > 10.8 ? 7 : 3; // any numbers
            w.r += q.t > 10.8 ? 54e6 : 0.0;
            v.push_back(w);
        }
        // each piece less its own mean, as the relation's fit leaves it
        for (uint32_t piece : {3u, 7u}) {
            double sum = 0;
            size_t n = 0;
            for (const vxs_rate_point_t &q : v)
                if (q.piece == piece) sum += q.r, n++;
            for (vxs_rate_point_t &q : v)
                if (q.piece == piece) q.r -= sum / (double)n;
        }
        const auto c = Find(v, 1);
        ASSERT_EQ(c.size(), 1u);
        EXPECT_NEAR(c[0].t, 9.0, 0.3);
        EXPECT_NEAR(c[0].rate, -20e-6, 2e-6);
    }
}

// A steep slew on sparse points: a relation with one envelope point a second and 0.3 µs of
// noise, its clock slewed at 400 ppm from 31 to 36 s (0.4 ms between two points) and stepped
// in between (the windows from 30 to 33 s left out, a piece either side): the piece after
// the step begins on the ramp. Its points on the ramp lie between their neighbours before and
// after, or on the line of the next two at the piece's start, and are kept (judged against
// the median of all their neighbours at once, the plateau's, they were left out as outliers
// and the slew was not seen at all); a point sticking out of both sides still goes.
TEST(RateChanges, SteepSlewOnSparsePointsIsKept) {
    const Relation sparse{1.0, 300.0, 12e6, 3e-6};
    for (uint64_t seed = 41; seed <= 43; seed++) {
        SCOPED_TRACE(seed);
        std::vector<vxs_rate_point_t> v;
        for (vxs_rate_point_t q : Points({sparse}, {{31.0, 36.0, 400e-6}}, 60.0, seed)) {
            if (q.t > 29.5 && q.t < 32.5) continue;
            q.piece = q.t > 31.0;
            q.r += q.piece ? 75e6 : 0.0; // the step
            v.push_back(q);
        }
        v[10].r += 2e6; // a late window
        const auto c = Find(v, 1);
        ASSERT_EQ(c.size(), 2u);
        EXPECT_GE(c[0].t, 29.0); // between the last point before the step and the first after
        EXPECT_LE(c[0].t, 33.5);
        EXPECT_NEAR(c[1].t, 36.0, 0.5);
        EXPECT_NEAR(c[0].rate, 400e-6, 40e-6);
        EXPECT_NEAR(c[1].rate, -400e-6, 40e-6);
    }
}

TEST(RateChanges, BadArgumentsAndTooFewPoints) {
    vxs_rate_change_t out[VXS_RATE_CHANGES_MAX];
    size_t n = 7;
    const vxs_rate_point_t p[2] = {{0.0, 1.0, 0, 0}, {1.0, 2.0, 1, 0}};
    EXPECT_EQ(vxs_rate_changes(p, 2, 2, nullptr, out, &n), VXS_OK);
    EXPECT_EQ(n, 0u);
    EXPECT_EQ(vxs_rate_changes(p, 2, 1, nullptr, out, &n),
              VXS_OK); // too few: not looked at
    EXPECT_EQ(vxs_rate_changes(nullptr, 2, 1, nullptr, out, &n), VXS_E_ARG);
    EXPECT_EQ(vxs_rate_changes(p, 2, 2, nullptr, nullptr, &n), VXS_E_ARG);
    EXPECT_EQ(vxs_rate_changes(p, 2, 2, nullptr, out, nullptr), VXS_E_ARG);
    std::vector<vxs_rate_point_t> many = Points({kLidar}, {}, 5.0, 1);
    many[3].group = 1;
    EXPECT_EQ(vxs_rate_changes(many.data(), many.size(), 1, nullptr, out, &n), VXS_E_ARG);
    many[3].group = 0;
    many[4].r = NAN;
    EXPECT_EQ(vxs_rate_changes(many.data(), many.size(), 1, nullptr, out, &n), VXS_E_ARG);
}

} // namespace
