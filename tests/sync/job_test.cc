// The sync job through the library (vxs_sync.h section 5): the clock graph built from records,
// the solve, the frame plan and the V2X window, with in-memory sources behind the job's opener
// and a sink that keeps what it is given. No file is read: every record is made here from a
// world whose clocks, latencies and losses the test knows, so every expectation is the truth.
//
// The world (20 s): "ego" has a GPS-locked LiDAR (10 Hz sweeps, a packet every ms), a camera on
// its logger (20 Hz, one frame dropped) and a V2X radio; "veh" has a V2X radio only. Loggers:
// ego +50 ms and +10 ppm, veh -30 ms and -20 ppm against true time. Each radio sends a message
// every 100 ms (1609.2 generation time, GNSS time), logs its own 0.1 ms after generation, and
// the other one captures it 1.5 ms (+ up to 0.4 ms jitter) after generation. veh -> ego is lost
// from 10 s to 12.5 s; one message veh -> ego carries a generation time 80 ms after its capture.
#include <algorithm>
#include <climits>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <map>
#include <string>
#include <vector>

#include "fake_world.h"
#include "test_util.h"
#include "vxs_sync.h"

namespace {

using namespace vxs_fake;

const vxs_time_t kEpoch = INT64_C(1700000000000000000);
const vxs_time_t kT0 = kEpoch + 300 * VXS_NS_PER_MS; // the drive starts at 0.3 s past a second
const int64_t kMs = VXS_NS_PER_MS, kUs = VXS_NS_PER_US, kS = VXS_NS_PER_S;
const int64_t kDrive = 20 * kS;

struct Clock {
    double off_ns, drift;
    vxs_time_t Local(vxs_time_t t) const {
        return t + (vxs_time_t)llround(off_ns + drift * (double)(t - kEpoch));
    }
};
const Clock kEgo = {50e6, 10e-6}, kVeh = {-30e6, -20e-6};

// Lcg is a small deterministic generator (jitter), the same on every machine.
struct Lcg {
    uint64_t s;
    double Next() { // [0, 1)
        s = s * 6364136223846793005ULL + 1442695040888963407ULL;
        return (double)(s >> 11) / 9007199254740992.0;
    }
};

// A message of the world, with where it was received.
struct Msg {
    std::string from, to;
    vxs_time_t gen, rx_true;
    bool lost;
};

std::vector<Msg> Messages() {
    std::vector<Msg> v;
    Lcg r{7};
    for (int k = 0; k < 200; k++) {
        for (int who = 0; who < 2; who++) {
            Msg m;
            m.from = who ? "veh" : "ego";
            m.to = who ? "ego" : "veh";
            m.gen = kT0 + k * 100 * kMs + (who ? 37 * kMs : 11 * kMs);
            m.rx_true = m.gen + 1500 * kUs + (int64_t)(r.Next() * 400e3);
            m.lost = who && m.gen >= kT0 + 10 * kS && m.gen < kT0 + 12500 * kMs;
            v.push_back(m);
        }
    }
    return v;
}

vxs_record_t Rec(vxs_record_kind_t kind, uint32_t agent, uint32_t index) {
    vxs_record_t r;
    vxs_record_init(&r, kind);
    r.agent = agent;
    r.sensor = index * VXS_STREAMS_PER_SOURCE;
    r.loc.source = index;
    r.loc.count = 1;
    return r;
}

// Records of each source of the world, as the readers would give them.
std::vector<vxs_record_t> LidarRecords(uint32_t agent, uint32_t index) {
    std::vector<vxs_record_t> v;
    Lcg r{3};
    uint64_t unit = 0;
    for (int s = 0; s < 200; s++) {
        const vxs_time_t start = kT0 + s * 100 * kMs;
        for (int p = 0; p < 100; p++) {
            vxs_record_t k = Rec(VXS_REC_LIDAR_PACKET, agent, index);
            k.device_time = start + p * kMs + 900 * kUs; // its last firing
            k.device_clock = {VXS_CLOCK_DEVICE, agent, k.sensor, 0, VXS_V2X_TF_NONE};
            // a wire delay of 0.2 ms minimum (the prior's mean: ClockSolve tests others)
            k.capture_time = kEgo.Local(k.device_time) + 200 * kUs + (int64_t)(r.Next() * 200e3);
            k.loc.index = unit++;
            v.push_back(k);
        }
        vxs_record_t w = Rec(VXS_REC_LIDAR_SWEEP, agent, index);
        w.device_time = start;
        w.device_clock = {VXS_CLOCK_DEVICE, agent, w.sensor, 0, VXS_V2X_TF_NONE};
        w.capture_time = kEgo.Local(start);
        w.u.sweep.device_end = start + 99900 * kUs;
        w.u.sweep.points = 1000 + (uint32_t)s;
        w.u.sweep.complete = true;
        w.seq = (uint64_t)s;
        w.has_seq = true;
        w.loc.index = unit - 100;
        w.loc.count = 100;
        v.push_back(w);
    }
    return v;
}

std::vector<vxs_record_t> CameraRecords(uint32_t agent, uint32_t index) {
    std::vector<vxs_record_t> v;
    for (int f = 0; f < 400; f++) {
        if (f == 40) continue; // dropped: the sweep at 2.0 s has no camera frame near it
        vxs_record_t r = Rec(VXS_REC_CAMERA_FRAME, agent, index);
        const vxs_time_t t = kT0 + 3 * kMs + f * 50 * kMs;
        r.capture_time = kEgo.Local(t);
        r.device_time = f * 50 * kMs;
        r.u.frame.pts = f * 1500;
        r.u.frame.width = 64;
        r.u.frame.height = 48;
        r.loc.index = (uint64_t)v.size();
        v.push_back(r);
    }
    return v;
}

const uint64_t kEgoStation = 1001, kVehStation = 1002;

std::vector<vxs_record_t> V2xRecords(const std::string &agent_id, uint32_t agent,
                                     uint32_t index) {
    const Clock &c = agent_id == "ego" ? kEgo : kVeh;
    std::vector<vxs_record_t> v;
    std::vector<Msg> all = Messages();
    for (const Msg &m : all) {
        const bool own = m.from == agent_id;
        if (!own && (m.to != agent_id || m.lost)) continue;
        vxs_record_t r = Rec(VXS_REC_V2X, agent, index);
        r.device_time = m.gen;
        r.device_clock = {VXS_CLOCK_SENDER, agent, 0, m.from == "ego" ? kEgoStation : kVehStation,
                          VXS_V2X_TF_1609_GEN};
        r.capture_time = c.Local(own ? m.gen + 100 * kUs : m.rx_true);
        r.u.v2x.protocol = VXS_V2X_PROTO_J2735;
        r.u.v2x.msg_type = VXS_J2735_BSM;
        r.u.v2x.sender_id = r.device_clock.station;
        r.u.v2x.sent = own;
        v.push_back(r);
    }
    // captures are in capture order
    std::stable_sort(v.begin(), v.end(), [](const vxs_record_t &a, const vxs_record_t &b) {
        return a.capture_time < b.capture_time;
    });
    if (agent_id == "ego") {
        // one received message whose generation time lies 80 ms after its capture
        for (vxs_record_t &r : v)
            if (!r.u.v2x.sent && r.capture_time > kEgo.Local(kT0 + 15 * kS)) {
                r.device_time += 81900 * kUs; // received 80.0..80.4 ms before it was sent
                r.loc.offset = 4242;
                break;
            }
    }
    for (size_t i = 0; i < v.size(); i++) v[i].loc.index = i;
    return v;
}

// Records gives each source of the world its records.
std::vector<vxs_record_t> Records(const vxs_manifest_source_t *ms, const std::string &agent,
                                  uint32_t agent_index, uint32_t index) {
    if (ms->kind == VXS_SOURCE_LIDAR) return LidarRecords(agent_index, index);
    if (ms->kind == VXS_SOURCE_CAMERA) return CameraRecords(agent_index, index);
    return V2xRecords(agent, agent_index, index);
}

World JobWorld() {
    World w;
    w.records = Records;
    return w;
}

const char kManifest[] = R"({
  "version": 1, "name": "world",
  "agents": [
    {"id": "veh", "sources": [{"path": "veh/v2x", "kind": "v2x"}]},
    {"id": "ego", "sources": [
      {"path": "ego/v2x", "kind": "v2x"},
      {"path": "ego/camera", "kind": "camera"%s},
      {"path": "ego/lidar", "kind": "lidar", "clock": {"gps_locked": true}}]}
  ],
  "reference": {"agent": "ego", "sensor": "lidar"}%s
})";

vxs_manifest_t *ParseQuietly(const std::string &extra, char *err, size_t err_len,
                             const std::string &camera = "") {
    char text[2048];
    snprintf(text, sizeof text, kManifest, camera.c_str(), extra.c_str());
    vxs_manifest_t *m = nullptr;
    return vxs_manifest_parse(&m, text, strlen(text), nullptr, "world.json", err, err_len) ==
                   VXS_OK
               ? m
               : nullptr;
}

vxs_manifest_t *Manifest(const std::string &extra = "", const std::string &camera = "") {
    char err[VXS_MANIFEST_ERR_LEN] = "";
    vxs_manifest_t *m = ParseQuietly(extra, err, sizeof err, camera);
    EXPECT_NE(m, nullptr) << err;
    return m;
}

// Run runs a whole job of the world into one Kept sink.
struct JobRun {
    vxs_manifest_t *man = nullptr;
    vxs_job_t *job = nullptr;
    World world;
    Kept kept;
    vxs_frame_sink_t *sink = nullptr;
    uint64_t diags = 0;
    vxs_status_t st = VXS_E_STATE;

    static void CountDiag(void *user, const vxs_diag_t *) { ++*static_cast<uint64_t *>(user); }

    explicit JobRun(const std::string &extra = "", vxs_time_t from = VXS_TIME_NONE,
                 vxs_time_t to = VXS_TIME_NONE, int fail_at_frame = -1,
                 std::map<std::string, long> bad = {}, const std::string &empty = "",
                    const std::string &camera = "") {
        man = Manifest(extra, camera);
        if (!man) return;
        world.records = Records;
        world.bad_at = bad;
        world.empty_path = empty;
        kept.fail_at_frame = fail_at_frame;
        static thread_local vxs_diag_sink_t diag;
        diag = {CountDiag, &diags};
        vxs_job_options_t o = FakeOptions(&world);
        o.diag = &diag;
        char err[256];
        EXPECT_EQ(vxs_job_create(&job, man, &o, err, sizeof err), VXS_OK) << err;
        EXPECT_EQ(vxs_frame_sink_create(&sink, &kKeptOps, &kept), VXS_OK);
        if (!job || !sink) return;
        st = vxs_job_index(job);
        if (st == VXS_OK) st = vxs_job_solve(job);
        if (st == VXS_OK) st = vxs_job_frames(job, from, to, &sink, 1);
    }
    ~JobRun() {
        vxs_frame_sink_destroy(sink);
        vxs_job_destroy(job);
        vxs_manifest_free(man);
    }
    const vxs_clock_info_t *Clock(const char *name) const {
        const size_t i = vxs_job_clock_index(job, name);
        return i == SIZE_MAX ? nullptr : &vxs_job_clocks(job)->clocks[i];
    }
};

// At mid-drive, the estimate of a logger against the truth (ns).
double ErrorAtMid(const vxs_clock_info_t *c, const Clock &truth) {
    const vxs_time_t mid = kT0 + kDrive / 2;
    return (double)(vxs_clock_to_local(&c->est.model, mid) - truth.Local(mid));
}

// ---- the clock graph and the solve -----------------------------------------------------------

TEST(SyncJob, ClockGraphFromRecordsAndTheSolve) {
    JobRun r;
    ASSERT_EQ(r.st, VXS_OK) << vxs_job_errmsg(r.job);
    const vxs_clock_report_t *R = vxs_job_clocks(r.job);
    ASSERT_NE(R, nullptr);
    // the first whole second inside the drive, on the reference timeline
    EXPECT_EQ(R->epoch, kEpoch + kS);
    // nodes, named and sorted: loggers, the LiDAR's device clock, the senders named after the
    // agents that log them as sent
    std::vector<std::string> names;
    for (size_t i = 0; i < R->n_clocks; i++) names.push_back(R->clocks[i].name);
    EXPECT_EQ(names, (std::vector<std::string>{"ego/lidar", "ego/logger",
                                               "sender:ego/1001/1609.2",
                                               "sender:veh/1002/1609.2", "veh/logger"}));
    const vxs_clock_info_t *lidar = r.Clock("ego/lidar"), *ego = r.Clock("ego/logger"),
                           *veh = r.Clock("veh/logger"), *s1 = r.Clock("sender:ego/1001/1609.2");
    ASSERT_TRUE(lidar && ego && veh && s1);
    EXPECT_EQ(lidar->est.method, VXS_CLOCK_M_ANCHOR);
    EXPECT_STREQ(lidar->hint, "gps_locked");
    EXPECT_EQ(s1->kind, VXS_CLOCK_SENDER);
    EXPECT_EQ(s1->field, VXS_V2X_TF_1609_GEN);
    EXPECT_EQ(s1->station, kEgoStation);
    EXPECT_STREQ(s1->hint, "gnss");
    EXPECT_EQ(ego->est.method, VXS_CLOCK_M_ESTIMATED);
    EXPECT_EQ(veh->est.method, VXS_CLOCK_M_ESTIMATED);
    // ego through its LiDAR, whose wire delay (0.2 ms minimum here) no recording measures: the
    // estimate takes the prior's mean and says so in its uncertainty; veh through the V2X
    // relations; drifts within 0.2 ppm
    const double ego_err = ErrorAtMid(ego, kEgo);
    EXPECT_NEAR(ego_err, 200e3 - VXS_CLOCK_WIRE_PRIOR_MEAN_NS, 30e3);
    EXPECT_LE(std::fabs(ego_err), 3 * ego->est.offset_sd_ns);
    EXPECT_GE(ego->est.offset_sd_ns, 0.5 * VXS_CLOCK_WIRE_PRIOR_SD_NS);
    EXPECT_EQ(ego->est.ident, VXS_IDENT_PINNED);
    EXPECT_NEAR(ErrorAtMid(veh, kVeh), ego_err, 100e3);
    EXPECT_LE(std::fabs(ErrorAtMid(veh, kVeh)), 3 * veh->est.offset_sd_ns);
    EXPECT_NEAR(ego->est.model.drift, kEgo.drift, 0.2e-6);
    EXPECT_NEAR(veh->est.model.drift, kVeh.drift, 0.2e-6);
    EXPECT_EQ(ego->agent, 1); // manifest order: veh is agent 0
    EXPECT_EQ(veh->agent, 0);
    // the minimum delays of the two V2X delay classes: own log 0.1 ms, air 1.5 ms, measured
    // against ego's logger, so off by as much as it is
    ASSERT_TRUE(R->delay_used[VXS_DELAY_TX_LOG] && R->delay_used[VXS_DELAY_AIR]);
    EXPECT_NEAR(R->delay_ns[VXS_DELAY_TX_LOG], 100e3 - ego_err, 60e3);
    EXPECT_NEAR(R->delay_ns[VXS_DELAY_AIR], 1500e3 - ego_err, 100e3);
    // relations: device -> logger (NONE), and per sender its own log (TX_LOG) and the other's
    // capture (AIR); each fitted, with a residual
    size_t none = 0, tx = 0, air = 0;
    for (size_t e = 0; e < R->n_relations; e++) {
        const vxs_clock_relation_t *E = &R->relations[e];
        none += E->delay == VXS_DELAY_WIRE;
        tx += E->delay == VXS_DELAY_TX_LOG;
        air += E->delay == VXS_DELAY_AIR;
        EXPECT_GE(E->n_pieces, 1u) << R->clocks[E->from].name << " -> " << R->clocks[E->to].name;
        EXPECT_TRUE(E->has_residual);
        EXPECT_LT(std::fabs(E->residual_ns), 100e3);
    }
    EXPECT_EQ(none, 1u);
    EXPECT_EQ(tx, 2u);
    EXPECT_EQ(air, 2u);
    // messages flow both ways: one pair, ego before veh; offset veh - ego = -80 ms, latency
    // (air + own log) / 2 halves: the two-way combination sees 1.5 - 0.1 = 1.4 ms
    ASSERT_EQ(R->n_pairs, 1u);
    EXPECT_EQ(R->pairs[0].a, 1u);
    EXPECT_EQ(R->pairs[0].b, 0u);
    const double true_pair = kVeh.off_ns - kEgo.off_ns;
    EXPECT_NEAR(R->pairs[0].offset_ns, true_pair, 0.2e6);
    EXPECT_NEAR(R->pairs[0].min_latency_ns, 1.4e6, 0.2e6);
    EXPECT_NEAR(R->pairs[0].solver_offset_ns, true_pair, 0.2e6);
}

// ---- the frame plan ---------------------------------------------------------------------------

TEST(SyncJob, OneFramePerSweepWithTheNearestCameraFrame) {
    JobRun r;
    ASSERT_EQ(r.st, VXS_OK) << vxs_job_errmsg(r.job);
    EXPECT_TRUE(r.kept.begun && r.kept.finished);
    EXPECT_EQ(r.kept.n_sources, 4u);
    EXPECT_EQ(r.kept.streams, (std::vector<std::string>{"ego/lidar", "ego/camera"}));
    ASSERT_EQ(r.kept.frames.size(), 200u);
    EXPECT_EQ(r.kept.sum.frames, 200u);
    const vxs_clock_info_t *lidar = r.Clock("ego/lidar");
    for (size_t i = 0; i < r.kept.frames.size(); i++) {
        const KeptFrame &f = r.kept.frames[i];
        EXPECT_EQ(f.index, i);
        // T: each sweep's start (sweep_time "start") on the reference timeline (locked: itself)
        EXPECT_EQ(f.t, vxs_clock_to_reference(&lidar->est.model, kT0 + (int64_t)i * 100 * kMs,
                                              nullptr));
        ASSERT_EQ(f.members.size(), 2u);
        EXPECT_EQ(f.members[0].status, VXS_MEMBER_OK);
        EXPECT_EQ(f.members[0].item, i);
        EXPECT_EQ(f.members[0].dt, 0);
        // the payload of a member comes through its source
        EXPECT_EQ(f.payload0, "payload of " + std::to_string(f.members[0].loc_index));
        const KeptMember &cam = f.members[1];
        if (i == 20) {
            // camera frame 40 (2.003 s) was dropped: its neighbours are 47 and 53 ms away, the
            // tolerance half the camera's period, 25 ms
            EXPECT_EQ(cam.status, VXS_MEMBER_NONE_WITHIN_TOLERANCE);
            EXPECT_FALSE(cam.has_record);
            EXPECT_NEAR((double)cam.dt, -47e6, 0.2e6);
            EXPECT_NE(cam.reason.find("ego/camera: none_within_tolerance (nearest -47."),
                      std::string::npos)
                << cam.reason;
            EXPECT_NE(cam.reason.find("tolerance 25.0 ms"), std::string::npos) << cam.reason;
            continue;
        }
        EXPECT_EQ(cam.status, VXS_MEMBER_OK) << "frame " << i;
        EXPECT_EQ(cam.item, 2 * i - (i > 20)); // the frames' numbers count the ones read
        EXPECT_NEAR((double)cam.dt, 3e6, 0.1e6); // 3 ms after the sweep, on the timeline
    }
}

// ---- the V2X window ---------------------------------------------------------------------------

TEST(SyncJob, V2xWindowLinksAndImpossibleMessages) {
    JobRun r;
    ASSERT_EQ(r.st, VXS_OK) << vxs_job_errmsg(r.job);
    std::vector<Msg> all = Messages();
    size_t silent_frames = 0;
    for (const KeptFrame &f : r.kept.frames) {
        ASSERT_EQ(f.msgs.size(), 2u); // the V2X sources in the job's order: ego, veh
        // ego's window: messages from veh received in (T - 1 s, T], against the truth (the
        // clocks are within 0.1 ms: frames near a window edge may differ by one)
        size_t lo = 0, hi = 0;
        for (const Msg &m : all) {
            if (m.from != "veh" || m.lost) continue;
            lo += m.rx_true > f.t - kS + kMs && m.rx_true <= f.t - kMs;
            hi += m.rx_true > f.t - kS - kMs && m.rx_true <= f.t + kMs;
        }
        size_t from_veh = 0;
        for (const KeptMsg &m : f.msgs[0]) {
            EXPECT_GT(m.rx_ref, f.t - kS);
            EXPECT_LE(m.rx_ref, f.t);
            from_veh += m.station == kVehStation;
            EXPECT_EQ(m.sender_agent, 0); // veh logs 1002 as sent
        }
        EXPECT_GE(from_veh, lo) << "frame " << f.index;
        EXPECT_LE(from_veh, hi) << "frame " << f.index;
        // the link veh -> ego: silent when nothing came in the last second
        ASSERT_EQ(f.links[0].size(), 1u);
        const vxs_frame_link_t &L = f.links[0][0];
        const vxs_time_t rel = f.t - kT0;
        const bool in_gap = rel > 11050 * kMs && rel < 12500 * kMs;
        const bool clear = rel < 10900 * kMs || rel > 12600 * kMs;
        if (in_gap) {
            EXPECT_TRUE(L.silent) << "frame at " << rel / 1e6 << " ms";
        }
        if (clear && rel > 1100 * kMs) {
            EXPECT_FALSE(L.silent) << "frame at " << rel / 1e6 << " ms";
        }
        if (L.silent) {
            silent_frames++;
            EXPECT_TRUE(f.partial);
            EXPECT_NE(std::find(f.reasons.begin(), f.reasons.end(),
                                "link veh -> ego silent: no message received in the last 1.000 s"),
                      f.reasons.end());
        }
    }
    EXPECT_GE(silent_frames, 14u);
    EXPECT_LE(silent_frames, 17u);
    // partial frames: the silent ones and the one without a camera frame
    EXPECT_EQ(r.kept.sum.partial_frames, silent_frames + 1);
    // the message received 80 ms before it was sent: counted once, listed with its position
    EXPECT_EQ(r.kept.sum.impossible, 1u);
    ASSERT_EQ(r.kept.impossible.size(), 1u);
    EXPECT_EQ(r.kept.impossible[0].byte_offset, 4242u);
    EXPECT_NEAR((double)r.kept.impossible[0].latency_ns, -80.2e6, 0.3e6);
    EXPECT_EQ(r.kept.impossible[0].source, 2u); // ego/v2x: after ego/camera and ego/lidar
    uint64_t attached = 0;
    for (const KeptFrame &f : r.kept.frames)
        for (const auto &v : f.msgs) attached += v.size();
    EXPECT_EQ(r.kept.sum.v2x_attached, attached);
}

// ---- sources, ranges, errors --------------------------------------------------------------

TEST(SyncJob, SourcesAreNumberedByAgentAndSensorAndRewoundOnce) {
    JobRun r;
    ASSERT_EQ(r.st, VXS_OK);
    const vxs_run_info_t *run = vxs_job_run_info(r.job);
    ASSERT_EQ(run->n_sources, 4u);
    // (agent id, sensor id): ego/camera, ego/lidar, ego/v2x, veh/v2x
    EXPECT_STREQ(run->sources[0].ms->sensor, "camera");
    EXPECT_STREQ(run->sources[1].ms->sensor, "lidar");
    EXPECT_STREQ(run->sources[2].ms->sensor, "v2x");
    EXPECT_STREQ(run->manifest->agents[run->sources[3].agent].id, "veh");
    EXPECT_EQ(run->sources[1].records, 200u); // sweeps (packets are samples, not records)
    EXPECT_EQ(run->sources[0].records, 399u);
    for (FakeSource *f : r.world.opened) EXPECT_EQ(f->rewinds, 1) << f->path;
}

TEST(SyncJob, RangeGivesTheFramesInItWithTheirDriveWideNumbers) {
    JobRun r("", kT0 + 5 * kS, kT0 + 7 * kS);
    ASSERT_EQ(r.st, VXS_OK);
    ASSERT_EQ(r.kept.frames.size(), 20u);
    EXPECT_EQ(r.kept.frames.front().index, 50u);
    EXPECT_EQ(r.kept.frames.back().index, 69u);
    EXPECT_EQ(r.kept.sum.frames, 20u);
    EXPECT_TRUE(r.kept.finished);
}

TEST(SyncJob, BadUnitsAreCountedOnceAndPassedOn) {
    JobRun r("", VXS_TIME_NONE, VXS_TIME_NONE, -1, {{"ego/camera", 5}, {"veh/v2x", 10}});
    ASSERT_EQ(r.st, VXS_OK);
    // each source reports its bad unit in both passes; the job counts and passes on the first
    EXPECT_EQ(vxs_job_summary(r.job)->damaged_units, 2u);
    EXPECT_EQ(r.diags, 2u);
    const vxs_run_info_t *run = vxs_job_run_info(r.job);
    EXPECT_EQ(run->sources[0].bad_units, 1u);
    EXPECT_EQ(run->sources[3].bad_units, 1u);
}

TEST(SyncJob, CameraStampLatencyMovesFramesToTheirExposure) {
    // the world's camera stamps are 3 ms after the sweeps; told they are taken 8 ms after the
    // exposure, the frames are matched 5 ms before the sweeps, and say their stamp
    JobRun r("", VXS_TIME_NONE, VXS_TIME_NONE, -1, {}, "", R"(, "clock": {"stamp_latency_ms": 8})");
    ASSERT_EQ(r.st, VXS_OK) << vxs_job_errmsg(r.job);
    ASSERT_EQ(r.kept.frames.size(), 200u);
    for (const KeptFrame &f : r.kept.frames) {
        if (f.members[1].status != VXS_MEMBER_OK) continue;
        EXPECT_NEAR((double)f.members[1].dt, -5e6, 0.1e6) << "frame " << f.index;
    }
}

TEST(SyncJob, FixedRateTicksOverTheStreams) {
    JobRun r(R"(, "frames": {"policy": "fixed_rate", "rate_hz": 4})");
    ASSERT_EQ(r.st, VXS_OK) << vxs_job_errmsg(r.job);
    // the LiDAR and the camera both become members; T every 250 ms over their span
    EXPECT_EQ(r.kept.streams, (std::vector<std::string>{"ego/camera", "ego/lidar"}));
    ASSERT_GE(r.kept.frames.size(), 79u);
    ASSERT_LE(r.kept.frames.size(), 81u);
    for (size_t i = 1; i < r.kept.frames.size(); i++)
        EXPECT_EQ(r.kept.frames[i].t - r.kept.frames[i - 1].t, 250 * kMs);
}

TEST(SyncJob, ErrorsSayWhatAndLeaveSinksUnfinished) {
    {
        // an opener failure names the file and fails the creation
        vxs_manifest_t *man = Manifest();
        World w = JobWorld();
        w.fail_path = "ego/lidar";
        vxs_job_options_t o = FakeOptions(&w);
        vxs_job_t *job = reinterpret_cast<vxs_job_t *>(0x1);
        char err[256];
        EXPECT_EQ(vxs_job_create(&job, man, &o, err, sizeof err), VXS_E_IO);
        EXPECT_EQ(job, nullptr);
        EXPECT_STREQ(err, "ego/lidar: cannot open: no such file");
        o.open_source = nullptr;
        EXPECT_EQ(vxs_job_create(&job, man, &o, err, sizeof err), VXS_E_ARG);
        vxs_manifest_free(man);
    }
    {
        // a sink error stops the pass: no finish, the message names the sink
        JobRun r("", VXS_TIME_NONE, VXS_TIME_NONE, 3);
        EXPECT_EQ(r.st, VXS_E_IO);
        EXPECT_STREQ(vxs_job_errmsg(r.job), "kept: cannot write");
        EXPECT_EQ(r.kept.frames.size(), 3u);
        EXPECT_FALSE(r.kept.finished);
        // steps out of order
        EXPECT_EQ(vxs_job_index(r.job), VXS_E_STATE);
        EXPECT_EQ(vxs_job_solve(r.job), VXS_E_STATE);
    }
    {
        // the reference sensor has no record: nothing to cut frames on, and no sink begun
        JobRun r("", VXS_TIME_NONE, VXS_TIME_NONE, -1, {}, "ego/lidar");
        EXPECT_EQ(r.st, VXS_E_MALFORMED);
        EXPECT_STREQ(vxs_job_errmsg(r.job),
                     "world: the reference sensor ego/lidar has no records to cut frames on");
        EXPECT_FALSE(r.kept.begun);
    }
}

TEST(SyncJob, V2xOnlyScenarioHasClocksAndNoFrames) {
    const char text[] = R"({"version": 1, "agents": [
        {"id": "veh", "sources": [{"path": "veh/v2x", "kind": "v2x"}]},
        {"id": "ego", "sources": [{"path": "ego/v2x", "kind": "v2x"}]}]})";
    vxs_manifest_t *man = nullptr;
    char err[VXS_MANIFEST_ERR_LEN];
    ASSERT_EQ(vxs_manifest_parse(&man, text, strlen(text), nullptr, "m", err, sizeof err), VXS_OK)
        << err;
    World w = JobWorld();
    Kept kept;
    vxs_job_options_t o = FakeOptions(&w);
    vxs_job_t *job = nullptr;
    vxs_frame_sink_t *sink = nullptr;
    ASSERT_EQ(vxs_job_create(&job, man, &o, err, sizeof err), VXS_OK);
    ASSERT_EQ(vxs_frame_sink_create(&sink, &kKeptOps, &kept), VXS_OK);
    EXPECT_EQ(vxs_job_clocks(job), nullptr); // not before the solve
    ASSERT_EQ(vxs_job_run(job, &sink, 1), VXS_OK) << vxs_job_errmsg(job);
    EXPECT_TRUE(kept.begun && kept.finished);
    EXPECT_TRUE(kept.streams.empty());
    EXPECT_TRUE(kept.frames.empty());
    // nothing anchors the loggers but GNSS-timed senders: both are estimated
    EXPECT_EQ(vxs_job_clocks(job)->clocks[vxs_job_clock_index(job, "ego/logger")].est.method,
              VXS_CLOCK_M_ESTIMATED);
    vxs_frame_sink_destroy(sink);
    vxs_job_destroy(job);
    vxs_manifest_free(man);
    EXPECT_EQ(kept.destroyed, 1);
}

TEST(SyncJob, AllocationFailuresFailCleanly) {
    // every allocation of a whole run, failed in turn: an error status, never a crash or leak
    // (ASan's leak checker watches the last part)
    long total;
    {
        vxs_test::FailAllocAfter count(LONG_MAX);
        JobRun r;
        ASSERT_EQ(r.st, VXS_OK);
        total = vxs_test::FailAllocAfter::AllocCount();
    }
    ASSERT_GT(total, 10);
    for (long n = 1; n <= total; n += (n < 200 ? 1 : 97)) {
        vxs_test::FailAllocAfter fail(n);
        char perr[VXS_MANIFEST_ERR_LEN];
        vxs_manifest_t *man = ParseQuietly("", perr, sizeof perr); // may fail itself
        if (!man) continue;
        World w = JobWorld();
        Kept kept;
        vxs_job_options_t o = FakeOptions(&w);
        vxs_job_t *job = nullptr;
        vxs_frame_sink_t *sink = nullptr;
        char err[256];
        vxs_status_t st = vxs_job_create(&job, man, &o, err, sizeof err);
        if (st == VXS_OK) st = vxs_frame_sink_create(&sink, &kKeptOps, &kept);
        if (st == VXS_OK) st = vxs_job_run(job, &sink, 1);
        if (vxs_test::FailAllocAfter::Failed()) {
            EXPECT_NE(st, VXS_OK) << "allocation " << n;
        }
        vxs_frame_sink_destroy(sink);
        vxs_job_destroy(job);
        vxs_manifest_free(man);
    }
}

} // namespace
