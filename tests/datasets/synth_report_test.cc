// What senders report and how they move (datasets/synth.c, synth_v2x.c with realism gnss,
// ref-point and motion): the motion laws are exact and collision-free, the GNSS error is the
// honest Gauss-Markov process the messages claim, the claims decode as claimed, and a vehicle's
// CAM gives its front centre.
#include <jansson.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <map>
#include <string>
#include <vector>

#include "json_get.h"
#include "synth.h"
#include "test_util.h"
#include "vxs_v2x.h"

namespace {

const int64_t kMs = 1000000, kSec = 1000000000;

synth_realism_t Realism(const char *spec) {
    synth_realism_t r = {};
    char err[512] = "";
    EXPECT_EQ(synth_realism_parse(&r, spec, err, sizeof err), VXS_OK) << spec << ": " << err;
    return r;
}

double Wrap(double rad) { return std::remainder(rad, 2 * M_PI); }

// ==== motion ===================================================================================

// A central difference over [t - h, t + h] is exact to O(h^2) only where the law is smooth: a
// track's joins (curvature steps) and the phone's ramp edges (jerk steps) are kept out of it.
bool SmoothAround(const synth_world_t &w, size_t a, int64_t t, int64_t h) {
    synth_pose_t m, q;
    synth_pose(&w, a, t - h, &m);
    synth_pose(&w, a, t + h, &q);
    const double km = m.speed > 0 ? m.yaw_rate / m.speed : 0;
    const double kq = q.speed > 0 ? q.yaw_rate / q.speed : 0;
    if (std::fabs(km - kq) > 1e-9) return false;
    const synth_agent_t &g = w.agents[a];
    if (g.law != SYNTH_LAW_BLOCK) return true;
    const double T = g.walk_s + 2 * g.ramp_s + g.pause_s;
    const double edges[4] = {0, g.walk_s, g.walk_s + g.ramp_s, g.walk_s + g.ramp_s + g.pause_s};
    const double ts = (double)(t - w.start_ns) * 1e-9 + g.cycle_off_s;
    for (double e : edges) {
        const double d = std::remainder(ts - e, T);
        if (std::fabs(d) < 2.0 * (double)h * 1e-9) return false;
    }
    return true;
}

// Finite differences of synth_pose match its derivatives for every agent, including just before
// and after the joins of the stadium and the block, where the yaw rate jumps.
TEST(SynthMotion, PosesAreTheirOwnDerivatives) {
    const synth_realism_t r = Realism("motion");
    for (uint64_t seed : {1, 2, 3}) {
        synth_world_t w;
        ASSERT_EQ(synth_world_init_ex(&w, seed, SYNTH_PROFILE_MIXED, 600.0, &r), VXS_OK);
        EXPECT_EQ(w.agents[SYNTH_EGO].law, SYNTH_LAW_RING);
        EXPECT_EQ(w.agents[SYNTH_VEHICLE2].law, SYNTH_LAW_STADIUM);
        EXPECT_EQ(w.agents[SYNTH_RSU].law, SYNTH_LAW_STATIC);
        EXPECT_EQ(w.agents[SYNTH_PHONE].law, SYNTH_LAW_BLOCK);
        const int64_t h = 1000000; // 1 ms
        int checked = 0, near_join = 0, turning = 0, straight = 0;
        for (size_t a = 0; a < w.n_agents; a++) {
            SCOPED_TRACE(std::string(w.agents[a].id) + " seed " + std::to_string(seed));
            for (int64_t t = w.start_ns; t < w.start_ns + w.duration_ns; t += 37 * kMs) {
                synth_pose_t p, m, q;
                synth_pose(&w, a, t, &p);
                EXPECT_NEAR(std::hypot(p.vx, p.vy), p.speed, 1e-9);
                EXPECT_GE(p.speed, 0.0);
                EXPECT_NEAR(p.accel_lat, p.speed * p.yaw_rate, 1e-9);
                EXPECT_DOUBLE_EQ(p.z, 0.0);
                if (p.speed > 0.05) { // the heading follows the velocity
                    EXPECT_NEAR(Wrap(std::atan2(p.vy, p.vx) - p.yaw), 0.0, 1e-9);
                }
                if (a == SYNTH_VEHICLE2) (p.yaw_rate == 0.0 ? straight : turning)++;
                if (!SmoothAround(w, a, t, h)) {
                    near_join++;
                    continue;
                }
                synth_pose(&w, a, t - h, &m);
                synth_pose(&w, a, t + h, &q);
                EXPECT_NEAR((q.x - m.x) / 2e-3, p.vx, 2e-5) << t;
                EXPECT_NEAR((q.y - m.y) / 2e-3, p.vy, 2e-5) << t;
                EXPECT_NEAR((q.speed - m.speed) / 2e-3, p.accel_long, 2e-5) << t;
                EXPECT_NEAR(Wrap(q.yaw - m.yaw) / 2e-3, p.yaw_rate, 2e-5) << t;
                checked++;
            }
        }
        EXPECT_GT(checked, 60000);
        EXPECT_GT(near_join, 0) << "the sampling crossed no join";
        EXPECT_GT(straight, 1000); // vehicle2 spends time on both kinds of segment
        EXPECT_GT(turning, 1000);
    }
}

// Right at a join of the stadium the yaw rate steps between 0 and v / 40 m, and one-sided
// differences on each side give each side's rate: constant turn rate is wrong across it.
TEST(SynthMotion, StadiumYawRateStepsAtTheJoins) {
    const synth_realism_t r = Realism("motion");
    synth_world_t w;
    ASSERT_EQ(synth_world_init_ex(&w, 5, SYNTH_PROFILE_ETSI, 300.0, &r), VXS_OK);
    int steps = 0;
    synth_pose_t prev;
    synth_pose(&w, SYNTH_VEHICLE2, w.start_ns, &prev);
    for (int64_t t = w.start_ns + 10 * kMs; t < w.start_ns + w.duration_ns; t += 10 * kMs) {
        synth_pose_t p;
        synth_pose(&w, SYNTH_VEHICLE2, t, &p);
        EXPECT_TRUE(p.yaw_rate == 0.0 || std::fabs(p.yaw_rate - p.speed / 40.0) < 1e-12);
        EXPECT_GE(p.speed, 6.0 - 1e-9);
        EXPECT_LE(p.speed, 18.0 + 1e-9);
        EXPECT_LE(std::fabs(p.accel_long), 3.0 + 1e-9);
        if ((prev.yaw_rate == 0.0) != (p.yaw_rate == 0.0)) {
            steps++;
            // bisect the join to 1 µs, then differences 5 ms on either side of it
            int64_t lo = t - 10 * kMs, hi = t;
            while (hi - lo > 1000) {
                const int64_t mid = lo + (hi - lo) / 2;
                synth_pose_t x;
                synth_pose(&w, SYNTH_VEHICLE2, mid, &x);
                ((x.yaw_rate == 0.0) == (prev.yaw_rate == 0.0) ? lo : hi) = mid;
            }
            for (const int64_t side : {-1, 1}) {
                const int64_t t1 = side < 0 ? lo - 6 * kMs : hi + 1 * kMs, t2 = t1 + 5 * kMs;
                synth_pose_t a, b;
                synth_pose(&w, SYNTH_VEHICLE2, t1, &a);
                synth_pose(&w, SYNTH_VEHICLE2, t2, &b);
                EXPECT_NEAR(Wrap(b.yaw - a.yaw) / 5e-3, 0.5 * (a.yaw_rate + b.yaw_rate), 1e-4);
                EXPECT_EQ(a.yaw_rate == 0.0, side < 0 ? prev.yaw_rate == 0.0 : p.yaw_rate == 0.0);
            }
            // the position is continuous through the join
            synth_pose_t a, b;
            synth_pose(&w, SYNTH_VEHICLE2, lo, &a);
            synth_pose(&w, SYNTH_VEHICLE2, hi, &b);
            EXPECT_LT(std::hypot(b.x - a.x, b.y - a.y), 18.0 * 1e-6 + 1e-9);
        }
        prev = p;
    }
    EXPECT_GE(steps, 8) << "four joins a lap, several laps in 300 s";
}

// No two boxes come near each other: their bounding circles stay 2 m apart, for every pair, on
// many seeds (the tracks are placed clear of the ring and of each other).
TEST(SynthMotion, NobodyOverlaps) {
    const synth_realism_t r = Realism("motion");
    for (uint64_t seed = 0; seed < 8; seed++) {
        synth_world_t w;
        ASSERT_EQ(synth_world_init_ex(&w, seed, SYNTH_PROFILE_MIXED, 900.0, &r), VXS_OK);
        double closest = INFINITY;
        for (int64_t t = w.start_ns; t < w.start_ns + w.duration_ns; t += 50 * kMs) {
            synth_pose_t p[SYNTH_N_AGENTS];
            for (size_t a = 0; a < w.n_agents; a++) synth_pose(&w, a, t, &p[a]);
            for (size_t a = 0; a < w.n_agents; a++)
                for (size_t b = a + 1; b < w.n_agents; b++) {
                    const synth_agent_t &ga = w.agents[a], &gb = w.agents[b];
                    const double gap = std::hypot(p[a].x - p[b].x, p[a].y - p[b].y) -
                                       0.5 * std::hypot(ga.length, ga.width) -
                                       0.5 * std::hypot(gb.length, gb.width);
                    closest = std::min(closest, gap);
                    ASSERT_GT(gap, 2.0) << ga.id << " and " << gb.id << " at " << t;
                }
            // the ego keeps the ring; the phone stays on its block's sidewalk
            ASSERT_NEAR(std::hypot(p[SYNTH_EGO].x, p[SYNTH_EGO].y), w.ring_radius_m, 1e-9);
            ASSERT_GE(p[SYNTH_PHONE].x, -14.0 - 1e-9);
            ASSERT_LE(p[SYNTH_PHONE].x, 14.0 + 1e-9);
            ASSERT_GE(p[SYNTH_PHONE].y, -40.0 - 1e-9);
            ASSERT_LE(p[SYNTH_PHONE].y, -28.0 + 1e-9);
        }
        EXPECT_LT(closest, 6.0) << "seed " << seed << ": the tracks share the space";
    }
}

// The phone walks at its pace, stops for its pauses (speed exactly 0, position and heading
// kept), and turns the block's corners (every heading of the four sides).
TEST(SynthMotion, PhoneStopsAndTurns) {
    const synth_realism_t r = Realism("motion");
    for (uint64_t seed : {4, 9}) {
        synth_world_t w;
        ASSERT_EQ(synth_world_init_ex(&w, seed, SYNTH_PROFILE_MIXED, 400.0, &r), VXS_OK);
        const synth_agent_t &g = w.agents[SYNTH_PHONE];
        EXPECT_GE(g.walk_mps, 1.0);
        EXPECT_LT(g.walk_mps, 1.6);
        const double T = g.walk_s + 2 * g.ramp_s + g.pause_s;
        int paused = 0, pauses = 0;
        bool was_paused = false;
        synth_pose_t at_stop = {};
        std::map<int, int> sides; // heading / 90 deg while walking straight
        for (int64_t t = w.start_ns; t < w.start_ns + w.duration_ns; t += 20 * kMs) {
            synth_pose_t p;
            synth_pose(&w, SYNTH_PHONE, t, &p);
            EXPECT_LE(p.speed, g.walk_mps + 1e-12);
            EXPECT_LE(std::fabs(p.accel_long), 1.7);
            const double c = std::fmod((double)(t - w.start_ns) * 1e-9 + g.cycle_off_s, T);
            const bool pause = c >= g.walk_s + g.ramp_s + 1e-6 &&
                               c < g.walk_s + g.ramp_s + g.pause_s - 1e-6;
            if (pause) {
                paused++;
                EXPECT_EQ(p.speed, 0.0);
                EXPECT_EQ(p.vx, 0.0);
                EXPECT_EQ(p.vy, 0.0);
                EXPECT_EQ(p.yaw_rate, 0.0);
                if (!was_paused) {
                    pauses++;
                    at_stop = p;
                }
                EXPECT_NEAR(p.x, at_stop.x, 1e-9);
                EXPECT_NEAR(p.y, at_stop.y, 1e-9);
                EXPECT_EQ(p.yaw, at_stop.yaw); // the heading is kept
            } else if (c < g.walk_s - 1e-6 && c > 1e-6) {
                EXPECT_NEAR(p.speed, g.walk_mps, 1e-12);
                if (p.yaw_rate == 0.0) sides[(int)std::lround(p.yaw / (M_PI / 2)) & 3]++;
            }
            was_paused = pause;
        }
        EXPECT_GE(pauses, 5) << "seed " << seed;
        EXPECT_GT(paused, 5 * 150);
        EXPECT_EQ(sides.size(), 4u) << "seed " << seed << ": it walks round the block";
    }
}

// ==== GNSS =====================================================================================

// The error process alone, over a long span: per axis its standard deviation is the claim
// (x, y: pos_sd_m; z: 1.5 x), its mean near 0, and its correlation at the lag pos_tau_s is
// e^-1; the same (seed, agent, time) gives the same error whoever asks.
TEST(SynthGnss, ErrorIsTheClaimedGaussMarkovProcess) {
    const synth_realism_t r = Realism("gnss");
    for (uint64_t seed = 0; seed < 6; seed++) {
        synth_world_t w;
        ASSERT_EQ(synth_world_init_ex(&w, seed, SYNTH_PROFILE_MIXED, 60.0, &r), VXS_OK);
        for (size_t a = 0; a < w.n_agents; a++) {
            const synth_agent_t &g = w.agents[a];
            SCOPED_TRACE(std::string(g.id) + " seed " + std::to_string(seed));
            // parameters in their ranges
            const bool vru = g.type == SYNTH_TYPE_VRU, rsu = g.type == SYNTH_TYPE_RSU;
            const double lo = vru ? 2.0 : rsu ? 0.05 : 0.3, hi = vru ? 6.0 : rsu ? 0.3 : 2.5;
            EXPECT_GE(g.pos_sd_m, lo);
            EXPECT_LT(g.pos_sd_m, hi);
            EXPECT_GE(g.pos_tau_s, 5.0);
            EXPECT_LT(g.pos_tau_s, 60.0);
            EXPECT_GE(g.speed_sd_mps, 0.02);
            EXPECT_LT(g.speed_sd_mps, 0.3);
            EXPECT_GE(g.heading_sd_deg, g.type == SYNTH_TYPE_VRU ? 5.0 : 0.3);
            EXPECT_LT(g.heading_sd_deg, g.type == SYNTH_TYPE_VRU ? 20.0 : 3.0);
            // 40000 s sampled every 0.25 s: ~330 correlation times at most
            synth_gnss_t p, p2;
            synth_gnss_init(&p, &w, a);
            synth_gnss_init(&p2, &w, a);
            const int64_t step = 250 * kMs, n = 160000;
            const int64_t lag = (int64_t)std::llround(g.pos_tau_s * 4); // in samples
            std::vector<double> x((size_t)n);
            double s[3] = {0, 0, 0}, s2[3] = {0, 0, 0};
            for (int64_t i = 0; i < n; i++) {
                double e[3];
                synth_gnss_error(&p, w.start_ns + i * step, e);
                for (int k = 0; k < 3; k++) {
                    s[k] += e[k];
                    s2[k] += e[k] * e[k];
                }
                x[(size_t)i] = e[0];
                if (i % 997 == 0) { // another walker asking at other times lands on the same
                    double f[3];
                    synth_gnss_error(&p2, w.start_ns + i * step, f);
                    for (int k = 0; k < 3; k++) ASSERT_EQ(e[k], f[k]);
                }
            }
            for (int k = 0; k < 3; k++) {
                const double sd = (k == 2 ? 1.5 : 1.0) * g.pos_sd_m;
                const double mean = s[k] / (double)n, var = s2[k] / (double)n - mean * mean;
                EXPECT_NEAR(std::sqrt(var), sd, 0.15 * sd) << "axis " << k;
                EXPECT_NEAR(mean, 0.0, 0.3 * sd) << "axis " << k;
            }
            double c = 0, v = 0;
            const double mx = s[0] / (double)n;
            for (int64_t i = 0; i + lag < n; i++)
                c += (x[(size_t)i] - mx) * (x[(size_t)(i + lag)] - mx);
            for (int64_t i = 0; i < n; i++) v += (x[(size_t)i] - mx) * (x[(size_t)i] - mx);
            EXPECT_NEAR(c / (double)(n - lag) / (v / (double)n), std::exp(-1.0), 0.12);
        }
    }
}

using vxs_test::I;
using vxs_test::R;
using vxs_test::S;

// Drive is a world with its V2X captures and truth (header and "messages").
struct Drive {
    synth_world_t w;
    std::string dir;
    json_t *root = nullptr;
    std::vector<const json_t *> msgs;
    Drive() = default;
    Drive(const Drive &) = delete;
    Drive &operator=(const Drive &) = delete;
    ~Drive() { json_decref(root); }
    size_t Agent(const std::string &id) const {
        for (size_t a = 0; a < w.n_agents; a++)
            if (id == w.agents[a].id) return a;
        ADD_FAILURE() << "unknown agent " << id;
        return 0;
    }
};

void MakeDrive(Drive *d, uint64_t seed, synth_profile_t profile, double seconds,
               const synth_realism_t &r) {
    ASSERT_EQ(synth_world_init_ex(&d->w, seed, profile, seconds, &r), VXS_OK);
    d->dir = vxs_test::TempDir();
    char err[512] = "";
    synth_truth_t *t = NULL;
    ASSERT_EQ(synth_truth_open(&t, (d->dir + "/truth.json").c_str(), &d->w, err, sizeof err),
              VXS_OK)
        << err;
    synth_job_t job = {&d->w, d->dir.c_str(), t, vxs_progress_t{NULL, NULL}, err, sizeof err};
    EXPECT_EQ(synth_write_v2x(&job), VXS_OK) << err;
    ASSERT_EQ(synth_truth_close(t, err, sizeof err), VXS_OK) << err;
    json_error_t je;
    d->root = json_load_file((d->dir + "/truth.json").c_str(), 0, &je);
    ASSERT_TRUE(d->root) << je.text << " at line " << je.line;
    const json_t *arr = json_object_get(d->root, "messages");
    for (size_t i = 0; i < json_array_size(arr); i++) d->msgs.push_back(json_array_get(arr, i));
    ASSERT_FALSE(d->msgs.empty());
}

// Decoded is one record of a capture, decoded by the project's V2X reader.
struct Decoded {
    vxs_v2x_msg_t m;
    bool own;
};

std::vector<Decoded> Decode(const Drive &d, size_t a) {
    const synth_agent_t &ag = d.w.agents[a];
    vxs_v2x_reader_options_t opt;
    memset(&opt, 0, sizeof opt);
    opt.own_macs = &ag.mac;
    opt.n_own_macs = 1;
    opt.own_station_id = ag.station_id;
    vxs_v2x_reader_t *r = NULL;
    char err[512] = "";
    const std::string path = d.dir + "/" + ag.id + "/v2x.pcap";
    EXPECT_EQ(vxs_v2x_reader_open(&r, path.c_str(), &opt, err, sizeof err), VXS_OK) << err;
    std::vector<Decoded> out;
    if (!r) return out;
    const vxs_record_t *rec;
    while (vxs_v2x_reader_next(r, &rec) == VXS_OK) {
        vxs_v2x_link_t link;
        vxs_v2x_reader_link(r, &link);
        out.push_back({*vxs_v2x_reader_msg(r), link.direction == 0});
    }
    vxs_v2x_counts_t counts;
    vxs_v2x_reader_counts(r, &counts);
    EXPECT_EQ(counts.bad, 0u) << vxs_v2x_reader_errmsg(r);
    vxs_v2x_reader_close(r);
    return out;
}

// The truth message a decoded one is: by type, station and its unique time field.
const json_t *Find(const std::map<std::string, const json_t *> &by_key, const vxs_v2x_msg_t &m) {
    const std::string k = std::string(vxs_v2x_type_name(m.protocol, m.msg_id)) + "/" +
                          std::to_string(m.station_id) + "/" +
                          std::to_string(m.protocol == VXS_V2X_PROTO_ETSI ? m.gn_tst
                                                                          : m.ieee_gen_time_us);
    auto it = by_key.find(k);
    return it == by_key.end() ? nullptr : it->second;
}

std::map<std::string, const json_t *> ByKey(const Drive &d) {
    std::map<std::string, const json_t *> by_key;
    for (const json_t *t : d.msgs) {
        const bool etsi = S(t, "family") == "etsi";
        by_key[S(t, "type") + "/" + std::to_string(I(t, "station_id")) + "/" +
               std::to_string(etsi ? I(t, "gn_tst") : I(t, "ieee_gen_time_us"))] = t;
    }
    return by_key;
}

double AngleDiffDeg(double a, double b) { return std::remainder(a - b, 360.0); }

// Over a drive: every message reports its sender's true position (its box centre: no
// ref-point here) plus exactly the sender's synth_gnss_t error at its generation time, and the
// carried lat/lon/alt are that reported point; the normalised errors of the drive have unit
// standard deviation; speed and heading errors have the claimed standard deviations; and the
// header states each agent's claims.
TEST(SynthGnss, MessagesReportTheProcessAndClaimIt) {
    Drive d;
    MakeDrive(&d, 21, SYNTH_PROFILE_MIXED, 600.0, Realism("gnss"));
    if (HasFatalFailure()) return;
    const json_t *agents = json_object_get(d.root, "agents");
    ASSERT_EQ(json_array_size(agents), (size_t)SYNTH_N_AGENTS);
    for (size_t a = 0; a < d.w.n_agents; a++) {
        const json_t *cl = json_object_get(json_array_get(agents, a), "claimed");
        ASSERT_TRUE(cl);
        EXPECT_NEAR(R(cl, "pos_sd_m"), d.w.agents[a].pos_sd_m, 1e-9); // 15 digits
        EXPECT_NEAR(R(cl, "speed_sd_mps"), d.w.agents[a].speed_sd_mps, 1e-9); // 15 digits
        EXPECT_NEAR(R(cl, "heading_sd_deg"), d.w.agents[a].heading_sd_deg, 1e-9); // 15 digits
    }
    synth_gnss_t gn[SYNTH_N_AGENTS];
    for (size_t a = 0; a < d.w.n_agents; a++) synth_gnss_init(&gn[a], &d.w, a);
    double z2 = 0;
    size_t nz = 0;
    std::map<size_t, std::vector<double>> dspeed, dhead;
    std::map<std::string, int> types;
    for (const json_t *t : d.msgs) {
        const size_t a = d.Agent(S(t, "sender"));
        const synth_agent_t &g = d.w.agents[a];
        const std::string type = S(t, "type");
        types[type]++;
        SCOPED_TRACE(type + " msg " + std::to_string(I(t, "msg")));
        const json_t *tr = json_object_get(t, "true"), *rp = json_object_get(t, "reported");
        ASSERT_TRUE(tr && rp);
        synth_pose_t p;
        const int64_t gen = I(t, "gen_ns");
        synth_pose(&d.w, a, gen, &p);
        EXPECT_NEAR(R(tr, "x"), p.x, 1e-9); // 15 digits
        EXPECT_NEAR(R(tr, "y"), p.y, 1e-9); // 15 digits
        EXPECT_NEAR(R(tr, "yaw"), p.yaw, 1e-9); // 15 digits
        EXPECT_NEAR(R(tr, "speed"), p.speed, 1e-9); // 15 digits
        EXPECT_NEAR(R(tr, "accel_long"), p.accel_long, 1e-9); // 15 digits
        EXPECT_NEAR(R(tr, "yaw_rate"), p.yaw_rate, 1e-9); // 15 digits
        double e[3];
        synth_gnss_error(&gn[a], gen, e);
        const bool denm = type == "DENM";
        const double base[3] = {denm ? R(tr, "event_x") : p.x, denm ? R(tr, "event_y") : p.y,
                                denm ? R(tr, "event_z") : p.z};
        double rep[3] = {R(rp, "x"), R(rp, "y"), R(rp, "z")};
        for (int k = 0; k < 3; k++) EXPECT_NEAR(rep[k] - base[k], e[k], 1e-9) << "axis " << k;
        if (!denm) {
            EXPECT_EQ(R(rp, "ref_body_x_m"), 0.0);
        }
        double x, y, z;
        synth_geo_to_enu(&d.w, R(t, "lat"), R(t, "lon"), R(t, "alt"), &x, &y, &z);
        EXPECT_NEAR(x, rep[0], 1e-6);
        EXPECT_NEAR(y, rep[1], 1e-6);
        EXPECT_NEAR(z, rep[2], 1e-6);
        EXPECT_EQ(R(t, "speed"), R(rp, "speed"));
        EXPECT_EQ(R(t, "heading_deg"), R(rp, "heading_deg"));
        for (int k = 0; k < 3; k++) {
            const double sd = (k == 2 ? 1.5 : 1.0) * g.pos_sd_m;
            z2 += (e[k] / sd) * (e[k] / sd);
            nz++;
        }
        if (p.speed > 4 * g.speed_sd_mps) dspeed[a].push_back(R(rp, "speed") - p.speed);
        const double th = std::fmod(450.0 - p.yaw * 180.0 / M_PI, 360.0);
        dhead[a].push_back(AngleDiffDeg(R(rp, "heading_deg"), th));
    }
    EXPECT_GT(types["CAM"], 1000);
    EXPECT_GT(types["BSM"], 10000);
    EXPECT_GT(types["PSM"], 2000);
    EXPECT_GT(types["VAM"], 2000);
    EXPECT_GT(types["DENM"], 5);
    // Every axis of every agent, normalised by its claim: unit variance over the drive (the
    // per-agent figure, over a span long enough for it, is the test above).
    EXPECT_NEAR(std::sqrt(z2 / (double)nz), 1.0, 0.15);
    auto sd = [](const std::vector<double> &v) {
        double m = 0, s2 = 0;
        for (double x : v) m += x;
        m /= (double)v.size();
        for (double x : v) s2 += (x - m) * (x - m);
        return std::sqrt(s2 / (double)v.size());
    };
    for (size_t a = 0; a < d.w.n_agents; a++) {
        const synth_agent_t &g = d.w.agents[a];
        SCOPED_TRACE(g.id);
        if (a != SYNTH_RSU) { // still: its speed error is clamped at 0
            ASSERT_GT(dspeed[a].size(), 500u);
            EXPECT_NEAR(sd(dspeed[a]), g.speed_sd_mps, 0.15 * g.speed_sd_mps);
        }
        ASSERT_GT(dhead[a].size(), 500u);
        EXPECT_NEAR(sd(dhead[a]), g.heading_sd_deg, 0.15 * g.heading_sd_deg);
    }

    // The claims as the project's decoders read them back from every capture.
    const auto by_key = ByKey(d);
    std::map<std::string, int> checked;
    for (size_t a = 0; a < d.w.n_agents; a++) {
        for (const Decoded &x : Decode(d, a)) {
            const vxs_v2x_msg_t &m = x.m;
            const json_t *t = Find(by_key, m);
            ASSERT_TRUE(t) << "a record that is no generated message";
            const synth_agent_t &g = d.w.agents[d.Agent(S(t, "sender"))];
            const std::string type = S(t, "type");
            SCOPED_TRACE(type + " from " + g.id + " read by " + d.w.agents[a].id);
            EXPECT_NEAR(m.lat_deg, R(t, "lat"), 0.5e-7 + 1e-12);
            EXPECT_NEAR(m.lon_deg, R(t, "lon"), 0.5e-7 + 1e-12);
            if (m.protocol == VXS_V2X_PROTO_J2735) { // one sigma, 0.05 m
                EXPECT_FALSE(m.pos_confidence_95);
                EXPECT_NEAR(m.pos_semi_major_m, g.pos_sd_m, 0.025 + 1e-9);
                EXPECT_NEAR(m.pos_semi_minor_m, g.pos_sd_m, 0.025 + 1e-9);
                EXPECT_TRUE(std::isnan(m.pos_orientation_deg));
                EXPECT_NEAR(m.speed_mps, R(t, "speed"), 0.01 + 1e-9);
                EXPECT_LE(std::fabs(AngleDiffDeg(m.heading_deg, R(t, "heading_deg"))),
                          0.00625 + 1e-9);
            } else { // the 95 % ellipse, 1 cm
                EXPECT_TRUE(m.pos_confidence_95);
                EXPECT_NEAR(m.pos_semi_major_m, 2.4477 * g.pos_sd_m, 0.005 + 1e-9);
                EXPECT_NEAR(m.pos_semi_minor_m, 2.4477 * g.pos_sd_m, 0.005 + 1e-9);
                EXPECT_NEAR(m.pos_orientation_deg, 0.0, 1e-9);
                EXPECT_NEAR(m.gn_speed_mps, R(t, "speed"), 0.005 + 1e-9);
                if (type == "CAM" && g.type == SYNTH_TYPE_VEHICLE) { // 95 %: 1.96 sigma
                    EXPECT_NEAR(m.speed_conf_mps, 1.96 * g.speed_sd_mps, 0.005 + 1e-9);
                    EXPECT_NEAR(m.heading_conf_deg, 1.96 * g.heading_sd_deg, 0.05 + 1e-9);
                    EXPECT_NEAR(m.speed_mps, R(t, "speed"), 0.005 + 1e-9);
                }
            }
            checked[type]++;
        }
    }
    for (const char *type : {"CAM", "DENM", "VAM", "BSM", "PSM"})
        EXPECT_GT(checked[type], 5) << type;
}

// Every drawn claim fits its field, over many seeds: none is "out of range" or saturated (but the
// phone's 95 % heading confidence, 9.8-39 deg, above HeadingConfidence's 12.5 deg: its VAMs say
// "out of range", 126, as a phone's would).
TEST(SynthGnss, ClaimsFitTheirFields) {
    const synth_realism_t r = Realism("gnss");
    for (uint64_t seed = 0; seed < 200; seed++) {
        synth_world_t w;
        ASSERT_EQ(synth_world_init_ex(&w, seed, SYNTH_PROFILE_MIXED, 10.0, &r), VXS_OK);
        for (const synth_agent_t &g : w.agents) {
            EXPECT_LT(2.4477 * g.pos_sd_m * 100.0, 4093.5); // SemiAxisLength, not out of range
            EXPECT_LT(g.pos_sd_m / 0.05, 253.5);            // J2735 semi-axes below 12.7 m
            EXPECT_LT(1.96 * g.speed_sd_mps * 100.0, 125.5); // SpeedConfidence
            if (g.type != SYNTH_TYPE_VRU) {
                EXPECT_LT(1.96 * g.heading_sd_deg * 10.0, 125.5);
            }
        }
    }
}

// ==== the ETSI reference point =================================================================

// With ref-point, a vehicle's CAM (as decoded, and its GN position vector) is half its length
// ahead of its box centre along its heading, to 2 cm; its BSMs keep the centre; the phone's
// and the RSU's positions are theirs.
TEST(SynthRefPoint, CamsGiveTheFrontCentre) {
    Drive d;
    MakeDrive(&d, 33, SYNTH_PROFILE_MIXED, 20.0, Realism("ref-point,motion"));
    if (HasFatalFailure()) return;
    const auto by_key = ByKey(d);
    std::map<std::string, int> checked;
    for (const Decoded &x : Decode(d, SYNTH_RSU)) { // everything the RSU heard
        const vxs_v2x_msg_t &m = x.m;
        const json_t *t = Find(by_key, m);
        ASSERT_TRUE(t);
        const size_t a = d.Agent(S(t, "sender"));
        const synth_agent_t &g = d.w.agents[a];
        const std::string type = S(t, "type");
        if (type == "DENM") continue; // the event's position
        SCOPED_TRACE(type + " from " + g.id + " msg " + std::to_string(I(t, "msg")));
        synth_pose_t p;
        synth_pose(&d.w, a, I(t, "gen_ns"), &p);
        const double ahead = type == "CAM" && g.type == SYNTH_TYPE_VEHICLE ? 0.5 * g.length : 0.0;
        const double want_x = p.x + ahead * std::cos(p.yaw), want_y = p.y + ahead * std::sin(p.yaw);
        double ex, ey, ez;
        synth_geo_to_enu(&d.w, m.lat_deg, m.lon_deg, m.elev_m, &ex, &ey, &ez);
        EXPECT_LT(std::hypot(ex - want_x, ey - want_y), 0.02);
        if (m.has_gn) { // the GN source position vector: the same point
            synth_geo_to_enu(&d.w, m.gn_lat_deg, m.gn_lon_deg, m.elev_m, &ex, &ey, &ez);
            EXPECT_LT(std::hypot(ex - want_x, ey - want_y), 0.02);
        }
        const json_t *rp = json_object_get(t, "reported");
        ASSERT_TRUE(rp);
        EXPECT_EQ(R(rp, "ref_body_x_m"), ahead);
        EXPECT_NEAR(R(rp, "x"), want_x, 1e-9);
        EXPECT_NEAR(R(rp, "y"), want_y, 1e-9);
        checked[type + (ahead > 0 ? " front" : " centre")]++;
    }
    EXPECT_GT(checked["CAM front"], 50);
    EXPECT_GT(checked["BSM centre"], 200);
    EXPECT_GT(checked["VAM centre"], 50);
    EXPECT_GT(checked["PSM centre"], 50);
}

} // namespace
