// Clean drives and injected faults (`v2xsync synth --clean`, `--fault`): a clean drive has no
// logger step and no shadowed link, in its truth and in its captures; each fault does what it
// says and nothing else (the drive's other files are the fault-free ones); without either the
// drive is byte for byte the one synth_world_init_ex gives. These drives are what the QA check's
// tests are built on: a check reads OK on the clean drive and WARN or ERROR with its fault.
#include <jansson.h>
#include <sys/stat.h>

#include <algorithm>
#include <cstring>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "json_get.h"
#include "synth.h"
#include "test_util.h"
#include "vxs_camera.h"
#include "vxs_manifest.h"
#include "vxs_v2x.h"

namespace {

using vxs_test::I;
using vxs_test::S;

constexpr uint64_t kSeed = 5;
constexpr double kSeconds = 12.0; // the shadow 5.4-7.4 s, the step at 7.2 s, faults from 4.8 s

synth_faults_t Faults(const char *spec) {
    synth_faults_t f = {};
    char err[512] = "";
    EXPECT_EQ(synth_faults_parse(&f, spec, err, sizeof err), VXS_OK) << spec << ": " << err;
    return f;
}

// Drive is a whole generated drive with its truth.
struct Drive {
    synth_world_t w;
    std::string dir;
    json_t *truth = nullptr;
    Drive() = default;
    Drive(const Drive &) = delete;
    Drive &operator=(const Drive &) = delete;
    ~Drive() { json_decref(truth); }
    std::string Path(const std::string &rel) const { return dir + "/" + rel; }
};

// Make writes the drive of kSeed (mixed profile) with `clean` and the faults of `spec` ("" for
// none) into a fresh folder, or into `dir` when given.
void Make(Drive *d, bool clean, const char *spec, const synth_realism_t *realism = nullptr,
          const std::string &dir = "") {
    const synth_faults_t f = Faults(*spec ? spec : "none");
    ASSERT_EQ(
        synth_world_init_faults(&d->w, kSeed, SYNTH_PROFILE_MIXED, kSeconds, realism, clean, &f),
        VXS_OK);
    d->dir = dir.empty() ? vxs_test::TempDir() + "/drive" : dir;
    char err[512] = "";
    ASSERT_EQ(synth_generate(&d->w, d->dir.c_str(), vxs_progress_t{NULL, NULL}, err, sizeof err),
              VXS_OK)
        << err;
    json_error_t je;
    d->truth = json_load_file(d->Path("truth.json").c_str(), 0, &je);
    ASSERT_TRUE(d->truth) << je.text << " at line " << je.line;
}

// Rx is one V2X record of an agent's capture, as the project's reader decodes it.
struct Rx {
    int64_t station, capture, gen, ieee_gen; // ieee_gen: 1609.2 generationTime (US) or NONE
    bool sent;
};

// ReadV2x reads agent a's v2x.pcap with the reader told the agent's own MAC and station.
std::vector<Rx> ReadV2x(const Drive &d, size_t a) {
    const synth_agent_t &ag = d.w.agents[a];
    vxs_v2x_reader_options_t opt;
    std::memset(&opt, 0, sizeof opt);
    opt.own_macs = &ag.mac;
    opt.n_own_macs = 1;
    opt.own_station_id = ag.station_id;
    vxs_v2x_reader_t *r = nullptr;
    char err[512] = "";
    const std::string path = d.Path(std::string(ag.id) + "/" + SYNTH_V2X_FILE);
    EXPECT_EQ(vxs_v2x_reader_open(&r, path.c_str(), &opt, err, sizeof err), VXS_OK) << err;
    std::vector<Rx> out;
    if (!r) return out;
    const vxs_record_t *rec;
    while (vxs_v2x_reader_next(r, &rec) == VXS_OK) {
        vxs_v2x_times_t tm;
        vxs_v2x_reader_times(r, &tm);
        out.push_back({(int64_t)vxs_v2x_reader_msg(r)->station_id, rec->capture_time, tm.gen,
                       tm.ieee_gen, rec->u.v2x.sent});
    }
    vxs_v2x_reader_close(r);
    return out;
}

// LongestSilence is the longest time between two receptions from `station` in `rx` (capture
// clock), the drive's ends included.
int64_t LongestSilence(const std::vector<Rx> &rx, int64_t station) {
    std::vector<int64_t> t;
    for (const Rx &x : rx)
        if (!x.sent && x.station == station) t.push_back(x.capture);
    std::sort(t.begin(), t.end());
    int64_t gap = 0;
    for (size_t i = 1; i < t.size(); i++) gap = std::max(gap, t[i] - t[i - 1]);
    return t.empty() ? INT64_MAX : gap;
}

// LargestStep is the largest change of capture - generation time between two consecutive own
// US transmissions in `rx` (1609.2 generationTime is exact to the µs: a logger step shows
// whole; drift and the logging jitter stay well below 2 ms).
int64_t LargestStep(const std::vector<Rx> &rx) {
    int64_t prev = INT64_MIN, step = 0;
    for (const Rx &x : rx) {
        if (!x.sent || x.ieee_gen == VXS_TIME_NONE) continue;
        const int64_t d = x.capture - x.ieee_gen;
        if (prev != INT64_MIN) step = std::max(step, (int64_t)std::llabs(d - prev));
        prev = d;
    }
    return step;
}

std::string Iso(int64_t t) {
    char buf[VXS_TIME_STRLEN];
    return vxs_time_format(buf, sizeof buf, t);
}

bool Exists(const std::string &path) {
    struct stat st;
    return stat(path.c_str(), &st) == 0;
}

TEST(SynthFault, ParsesNamesAndRejectsTheUnknown) {
    synth_faults_t f = Faults("dead-link,camera-drops");
    EXPECT_TRUE(f.dead_link && f.camera_drops);
    EXPECT_FALSE(f.unpinned_clock);
    EXPECT_TRUE(synth_faults_any(&f));
    f = Faults("none");
    EXPECT_FALSE(synth_faults_any(&f));
    for (size_t i = 0; i < SYNTH_FAULT_N; i++) {
        synth_faults_t one = Faults(synth_fault_name(i));
        for (size_t k = 0; k < SYNTH_FAULT_N; k++)
            EXPECT_EQ(*synth_fault_flag(&one, k), k == i) << synth_fault_name(i);
    }
    EXPECT_EQ(synth_fault_name(SYNTH_FAULT_N), nullptr);
    EXPECT_EQ(synth_fault_flag(&f, SYNTH_FAULT_N), nullptr);
    char err[512] = "";
    EXPECT_EQ(synth_faults_parse(&f, "dead-link,slow", err, sizeof err), VXS_E_ARG);
    EXPECT_NE(std::string(err).find("unknown fault 'slow'"), std::string::npos) << err;
    EXPECT_EQ(synth_faults_parse(&f, "", err, sizeof err), VXS_E_ARG);
    EXPECT_EQ(synth_faults_parse(&f, "dead-link,", err, sizeof err), VXS_E_ARG);
}

// --clean drops the jump and the shadow and nothing else: every other parameter is the classic
// world's, and realism logger-steps keeps exactly the steps it has without --clean (its draws
// do not move), so the only clock steps of `--clean --realism logger-steps` are its own. The
// faults change no parameter of the world at all.
TEST(SynthFault, CleanAndFaultsMoveNoDraw) {
    const synth_faults_t none = {}, all = Faults("dead-link,camera-drops,unpinned-clock");
    synth_realism_t steps = {};
    steps.logger_steps = true;
    for (const synth_realism_t *re :
         {(const synth_realism_t *)nullptr, (const synth_realism_t *)&steps}) {
        SCOPED_TRACE(re ? "logger-steps" : "classic");
        synth_world_t base, same, clean;
        ASSERT_EQ(synth_world_init_ex(&base, 9, SYNTH_PROFILE_MIXED, 30.0, re), VXS_OK);
        ASSERT_EQ(synth_world_init_faults(&same, 9, SYNTH_PROFILE_MIXED, 30.0, re, false, &none),
                  VXS_OK);
        EXPECT_EQ(std::memcmp(&base, &same, sizeof base), 0);
        ASSERT_EQ(synth_world_init_faults(&clean, 9, SYNTH_PROFILE_MIXED, 30.0, re, true, &all),
                  VXS_OK);
        EXPECT_TRUE(clean.clean);
        EXPECT_EQ(clean.link.shadow_a, -1);
        EXPECT_EQ(clean.link.shadow_b, -1);
        EXPECT_NE(base.agents[SYNTH_VEHICLE2].logger.jump_at_ns, INT64_MAX);
        size_t n_steps = 0;
        for (size_t a = 0; a < SYNTH_N_AGENTS; a++) {
            synth_agent_t x, y; // memcpy: padding bytes too
            std::memcpy(&x, &clean.agents[a], sizeof x);
            std::memcpy(&y, &base.agents[a], sizeof y);
            EXPECT_EQ(x.logger.jump_at_ns, INT64_MAX) << x.id;
            EXPECT_EQ(x.logger.jump_ns, 0) << x.id;
            y.logger.jump_at_ns = INT64_MAX;
            y.logger.jump_ns = 0;
            EXPECT_EQ(std::memcmp(&x, &y, sizeof x), 0) << x.id << ": only the jump may differ";
            n_steps += x.logger.n_steps;
        }
        EXPECT_EQ(n_steps > 0, re != nullptr);
        synth_link_model_t k;
        std::memcpy(&k, &base.link, sizeof k);
        k.shadow_a = k.shadow_b = -1;
        k.shadow_start_ns = k.shadow_end_ns = 0;
        EXPECT_EQ(std::memcmp(&k, &clean.link, sizeof k), 0);
    }
    // where and when the faults strike: fixed
    synth_world_t w;
    ASSERT_EQ(synth_world_init_faults(&w, 9, SYNTH_PROFILE_MIXED, 30.0, nullptr, false, &all),
              VXS_OK);
    EXPECT_EQ(w.fault.dead_from, (size_t)SYNTH_VEHICLE2);
    EXPECT_EQ(w.fault.dead_to, (size_t)SYNTH_EGO);
    EXPECT_EQ(w.fault.dead_start_ns, w.start_ns + INT64_C(12000000000));
    EXPECT_EQ(w.fault.drop_agent, (size_t)SYNTH_EGO);
    EXPECT_EQ(w.fault.drop_start_ns, w.start_ns + INT64_C(15000000000));
    EXPECT_EQ(w.fault.drop_end_ns, w.start_ns + INT64_C(16500000000));
    EXPECT_EQ(w.fault.unpinned_agent, (size_t)SYNTH_VEHICLE2);
}

// A clean drive: truth.json says so ("clean", "shadow": null, no clock with a jump, no message
// lost to a shadow), and so do the captures: the ego hears the phone throughout (the classic
// drive has a silence of 2 s), and vehicle2's own stamps never step (the classic drive's step
// by jump_ns shows whole).
TEST(SynthFault, CleanDriveHasNoStepAndNoShadow) {
    Drive classic, clean;
    ASSERT_NO_FATAL_FAILURE(Make(&classic, false, ""));
    ASSERT_NO_FATAL_FAILURE(Make(&clean, true, ""));
    EXPECT_EQ(json_object_get(classic.truth, "clean"), nullptr);
    EXPECT_TRUE(json_is_object(json_object_get(classic.truth, "shadow")));
    EXPECT_EQ(json_object_get(classic.truth, "faults"), nullptr);
    EXPECT_TRUE(json_is_true(json_object_get(clean.truth, "clean")));
    EXPECT_TRUE(json_is_null(json_object_get(clean.truth, "shadow")));
    EXPECT_EQ(json_object_get(clean.truth, "faults"), nullptr);
    size_t i;
    json_t *it;
    json_array_foreach(json_object_get(clean.truth, "clocks"), i, it) {
        EXPECT_EQ(json_object_get(it, "jump_ns"), nullptr) << S(it, "domain");
        EXPECT_EQ(json_object_get(it, "jump_at_true_ns"), nullptr) << S(it, "domain");
        EXPECT_EQ(json_object_get(it, "steps"), nullptr) << S(it, "domain");
    }
    size_t lost_to_shadow = 0, messages = 0;
    json_array_foreach(json_object_get(clean.truth, "messages"), i, it) {
        size_t k;
        json_t *rx;
        messages++;
        json_array_foreach(json_object_get(it, "rx"), k, rx) {
            const json_t *cause = json_object_get(rx, "cause");
            lost_to_shadow += cause && std::string(json_string_value(cause)) == "shadow";
        }
    }
    EXPECT_GT(messages, 300u);
    EXPECT_EQ(lost_to_shadow, 0u);

    const int64_t phone = clean.w.agents[SYNTH_PHONE].station_id;
    const int64_t sec = INT64_C(1000000000);
    EXPECT_GE(LongestSilence(ReadV2x(classic, SYNTH_EGO), phone), 19 * sec / 10);
    EXPECT_LT(LongestSilence(ReadV2x(clean, SYNTH_EGO), phone), 12 * sec / 10);
    EXPECT_LT(LongestSilence(ReadV2x(clean, SYNTH_PHONE), clean.w.agents[SYNTH_EGO].station_id),
              12 * sec / 10);

    const int64_t jump = classic.w.agents[SYNTH_VEHICLE2].logger.jump_ns;
    EXPECT_NEAR((double)LargestStep(ReadV2x(classic, SYNTH_VEHICLE2)), (double)std::llabs(jump),
                2e6);
    for (size_t a = 0; a < SYNTH_N_AGENTS; a++)
        EXPECT_LT(LargestStep(ReadV2x(clean, a)), 2000000) << clean.w.agents[a].id;

    // Everything but the shadowed link's deliveries and vehicle2's stamps is the classic drive:
    // the LiDARs and the camera of the agents the clean drive changes nothing for.
    for (const char *f :
         {"ego/lidar.pcap", "rsu/lidar.pcap", "ego/camera.timestamps", "rsu/v2x.pcap"})
        EXPECT_TRUE(vxs_test::ReadFile(classic.Path(f)) == vxs_test::ReadFile(clean.Path(f))) << f;
}

// dead-link: the ego hears vehicle2 on both stacks before 40 % of the drive and nothing after
// (in the captures, by capture and generation time; in the truth, cause "dead-link"); vehicle2's
// other receivers still hear it; nothing else of the ego's capture changes.
TEST(SynthFault, DeadLinkSilencesVehicle2AtTheEgo) {
    Drive clean, dead;
    ASSERT_NO_FATAL_FAILURE(Make(&clean, true, ""));
    ASSERT_NO_FATAL_FAILURE(Make(&dead, true, "dead-link"));
    const int64_t cut = dead.w.start_ns + (int64_t)std::llround(0.4 * kSeconds * 1e9);
    ASSERT_EQ(dead.w.fault.dead_start_ns, cut);
    const json_t *f = json_object_get(json_object_get(dead.truth, "faults"), "dead-link");
    ASSERT_TRUE(json_is_object(f));
    EXPECT_EQ(S(f, "from"), "vehicle2");
    EXPECT_EQ(S(f, "to"), "ego");
    EXPECT_EQ(I(f, "start_ns"), cut);
    EXPECT_EQ(S(f, "start"), Iso(cut));
    EXPECT_EQ(I(f, "end_ns"), dead.w.start_ns + dead.w.duration_ns);
    EXPECT_EQ(S(f, "end"), Iso(dead.w.start_ns + dead.w.duration_ns));

    // the truth: every vehicle2 -> ego delivery after the cut is gone, and only those
    const json_t *a = json_object_get(clean.truth, "messages");
    const json_t *b = json_object_get(dead.truth, "messages");
    ASSERT_EQ(json_array_size(a), json_array_size(b));
    size_t killed = 0;
    for (size_t i = 0; i < json_array_size(a); i++) {
        const json_t *ma = json_array_get(a, i), *mb = json_array_get(b, i);
        const json_t *rxa = json_object_get(ma, "rx"), *rxb = json_object_get(mb, "rx");
        ASSERT_EQ(json_array_size(rxa), json_array_size(rxb));
        for (size_t k = 0; k < json_array_size(rxa); k++) {
            const json_t *ea = json_array_get(rxa, k), *eb = json_array_get(rxb, k);
            const bool link = S(mb, "sender") == "vehicle2" && S(eb, "agent") == "ego";
            const bool late = I(mb, "gen_ns") >= cut ||
                              (json_is_true(json_object_get(ea, "delivered")) &&
                               std::max(I(ea, "arrival_ns"), json_object_get(ea, "dup_arrival_ns")
                                                                 ? I(ea, "dup_arrival_ns")
                                                                 : INT64_C(0)) >= cut);
            if (link && late) {
                EXPECT_FALSE(json_is_true(json_object_get(eb, "delivered")));
                EXPECT_EQ(S(eb, "cause"), "dead-link") << "msg " << i;
                killed++;
            } else if (link && !json_is_true(json_object_get(ea, "delivered"))) {
                // lost anyway; its copy would have arrived after the cut: "dead-link" then
                EXPECT_FALSE(json_is_true(json_object_get(eb, "delivered")));
                const std::string cause = S(eb, "cause");
                EXPECT_TRUE(cause == S(ea, "cause") || cause == "dead-link") << cause;
            } else {
                EXPECT_TRUE(json_equal(ea, eb)) << "msg " << i << " to " << S(eb, "agent");
            }
        }
    }
    EXPECT_GT(killed, 50u);

    // the captures
    const int64_t v2 = dead.w.agents[SYNTH_VEHICLE2].station_id;
    const int64_t cut_local = synth_clock_local(&dead.w.agents[SYNTH_EGO].logger, cut);
    size_t before = 0, after = 0;
    for (const Rx &x : ReadV2x(dead, SYNTH_EGO)) {
        if (x.sent || x.station != v2) continue;
        (x.capture < cut_local ? before : after)++;
        EXPECT_LT(x.gen, cut);
    }
    EXPECT_GT(before, 50u);
    EXPECT_EQ(after, 0u) << "the ego received vehicle2 after the link died";
    size_t clean_after = 0;
    for (const Rx &x : ReadV2x(clean, SYNTH_EGO))
        clean_after += !x.sent && x.station == v2 && x.capture >= cut_local;
    EXPECT_GT(clean_after, 50u) << "the clean drive must hear vehicle2 after the cut";
    for (const size_t r : {(size_t)SYNTH_RSU, (size_t)SYNTH_PHONE}) {
        const int64_t cl = synth_clock_local(&dead.w.agents[r].logger, cut);
        size_t heard = 0;
        for (const Rx &x : ReadV2x(dead, r)) heard += !x.sent && x.station == v2 && x.capture >= cl;
        EXPECT_GT(heard, 50u) << dead.w.agents[r].id;
    }
    std::vector<Rx> others_clean, others_dead;
    for (const Rx &x : ReadV2x(clean, SYNTH_EGO))
        if (x.station != v2) others_clean.push_back(x);
    for (const Rx &x : ReadV2x(dead, SYNTH_EGO))
        if (x.station != v2) others_dead.push_back(x);
    ASSERT_EQ(others_clean.size(), others_dead.size());
    for (size_t i = 0; i < others_clean.size(); i++)
        EXPECT_EQ(others_clean[i].capture, others_dead[i].capture) << i;
    for (const char *file : {"vehicle2/v2x.pcap", "rsu/v2x.pcap", "phone/v2x.pcap",
                             "ego/camera.timestamps", "vehicle2/lidar.pcap"})
        EXPECT_TRUE(vxs_test::ReadFile(clean.Path(file)) == vxs_test::ReadFile(dead.Path(file)))
            << file;
}

// camera-drops: the frames exposed in [50 %, 50 % + 1.5 s) are in neither the video nor the
// sidecar, which still agree frame for frame (the reader pairs line i with frame i: every
// frame's time is its truth's, no unit is bad); the video's pts and the sidecar show one gap
// of 1.5 s; every other frame is the clean drive's.
TEST(SynthFault, CameraDropsLeaveOneGapInVideoAndSidecarAlike) {
    Drive clean, drops;
    ASSERT_NO_FATAL_FAILURE(Make(&clean, true, ""));
    ASSERT_NO_FATAL_FAILURE(Make(&drops, true, "camera-drops"));
    const int64_t t0 = drops.w.start_ns + (int64_t)std::llround(0.5 * kSeconds * 1e9);
    const int64_t t1 = t0 + INT64_C(1500000000);
    const json_t *f = json_object_get(json_object_get(drops.truth, "faults"), "camera-drops");
    ASSERT_TRUE(json_is_object(f));
    EXPECT_EQ(S(f, "agent"), "ego");
    EXPECT_EQ(I(f, "start_ns"), t0);
    EXPECT_EQ(I(f, "end_ns"), t1);
    EXPECT_EQ(S(f, "start"), Iso(t0));
    EXPECT_EQ(S(f, "end"), Iso(t1));

    // truth: the window's frames dropped by the fault, the rest as in the clean drive
    const json_t *fa = json_object_get(clean.truth, "camera_frames");
    const json_t *fb = json_object_get(drops.truth, "camera_frames");
    ASSERT_EQ(json_array_size(fa), json_array_size(fb));
    std::vector<int64_t> want; // the sidecar the faulty drive must have
    size_t in_window = 0;
    for (size_t i = 0; i < json_array_size(fb); i++) {
        const json_t *a = json_array_get(fa, i), *b = json_array_get(fb, i);
        const int64_t t = I(b, "true_ns");
        const bool window = t >= t0 && t < t1;
        in_window += window;
        EXPECT_EQ(json_object_get(b, "fault") != nullptr, window) << "frame " << i;
        if (window) {
            EXPECT_TRUE(json_is_true(json_object_get(b, "dropped"))) << "frame " << i;
            EXPECT_EQ(S(b, "fault"), "camera-drops");
        } else {
            EXPECT_EQ(json_is_true(json_object_get(a, "dropped")),
                      json_is_true(json_object_get(b, "dropped")))
                << "frame " << i;
        }
        if (!json_is_true(json_object_get(b, "dropped"))) want.push_back(I(b, "local_ns"));
    }
    EXPECT_EQ(in_window, 30u); // 1.5 s at 20 fps

    // the sidecar: the written frames' stamps, exactly
    std::vector<int64_t> side;
    {
        const std::vector<uint8_t> bytes = vxs_test::ReadFile(drops.Path("ego/camera.timestamps"));
        const std::string text(bytes.begin(), bytes.end());
        size_t at = 0;
        while (at < text.size()) {
            const size_t nl = text.find('\n', at);
            side.push_back(std::stoll(text.substr(at, nl - at)));
            at = nl == std::string::npos ? text.size() : nl + 1;
        }
    }
    EXPECT_EQ(side, want);

    // the video, read with the sidecar: one frame per line, each at its line's time
    vxs_camera_options_t o;
    vxs_camera_options_init(&o);
    const std::string times = drops.Path("ego/camera.timestamps");
    o.sidecar = times.c_str();
    vxs_camera_t *c = nullptr;
    char err[1024] = "";
    ASSERT_EQ(vxs_camera_open(&c, drops.Path("ego/camera.mp4").c_str(), &o, err, sizeof err),
              VXS_OK)
        << err;
    vxs_camera_info_t info;
    vxs_camera_get_info(c, &info);
    EXPECT_EQ(info.time_source, VXS_CAM_TIME_SIDECAR);
    EXPECT_EQ(info.frames_expected, want.size());
    std::vector<int64_t> cap, pts;
    for (;;) {
        const vxs_record_t *r = nullptr;
        const vxs_status_t st = vxs_camera_next(c, &r);
        if (st == VXS_EOF) break;
        ASSERT_EQ(st, VXS_OK) << vxs_camera_errmsg(c);
        cap.push_back(r->capture_time);
        pts.push_back(r->u.frame.pts);
    }
    vxs_camera_counts_t counts;
    vxs_camera_get_counts(c, &counts);
    vxs_camera_close(c);
    EXPECT_EQ(counts.bad, 0u);
    EXPECT_EQ(counts.duplicates, 0u);
    EXPECT_EQ(cap, want);
    // one gap of about 1.55 s (the window and the frame period) in both times, none near it
    size_t long_gaps = 0;
    for (size_t i = 1; i < cap.size(); i++) {
        const int64_t dc = cap[i] - cap[i - 1];
        const double dp = (double)(pts[i] - pts[i - 1]) / 90000.0 * 1e9;
        EXPECT_NEAR(dp, (double)dc, 20000.0) << "frame " << i; // pts are 11 µs ticks
        if (dc > INT64_C(1000000000)) {
            long_gaps++;
            EXPECT_NEAR((double)dc, 1.55e9, 0.06e9);
        }
    }
    EXPECT_EQ(long_gaps, 1u);
}

// unpinned-clock: no vehicle2/v2x.pcap (not even one an earlier drive left in the folder), none
// in scenario.json, whose vehicle2 keeps its LiDAR; the others still hear vehicle2.
TEST(SynthFault, UnpinnedClockRecordsNoV2xOfVehicle2) {
    Drive first, d;
    ASSERT_NO_FATAL_FAILURE(Make(&first, true, ""));
    ASSERT_TRUE(Exists(first.Path("vehicle2/v2x.pcap")));
    ASSERT_NO_FATAL_FAILURE(Make(&d, true, "unpinned-clock", nullptr, first.dir)); // overwrite
    EXPECT_FALSE(Exists(d.Path("vehicle2/v2x.pcap")));
    EXPECT_TRUE(Exists(d.Path("vehicle2/lidar.pcap")));
    const json_t *f = json_object_get(json_object_get(d.truth, "faults"), "unpinned-clock");
    ASSERT_TRUE(json_is_object(f));
    EXPECT_EQ(S(f, "agent"), "vehicle2");
    EXPECT_EQ(S(f, "path"), "vehicle2/v2x.pcap");
    EXPECT_TRUE(json_is_false(json_object_get(f, "v2x_recorded")));
    const json_t *domains = json_object_get(f, "domains");
    ASSERT_EQ(json_array_size(domains), 2u);
    EXPECT_STREQ(json_string_value(json_array_get(domains, 0)), "vehicle2/logger");
    EXPECT_STREQ(json_string_value(json_array_get(domains, 1)), "vehicle2/lidar");

    vxs_manifest_t *m = nullptr;
    char err[VXS_MANIFEST_ERR_LEN] = "";
    ASSERT_EQ(vxs_manifest_load(&m, d.Path("scenario.json").c_str(), err, sizeof err), VXS_OK)
        << err;
    const size_t nsrc[4] = {3, 1, 2, 1};
    for (size_t a = 0; a < m->n_agents; a++) {
        const vxs_manifest_agent_t &g = m->agents[a];
        ASSERT_EQ(g.n_sources, nsrc[a]) << g.id;
        size_t v2x = 0;
        for (size_t k = 0; k < g.n_sources; k++) v2x += g.sources[k].kind == VXS_SOURCE_V2X;
        EXPECT_EQ(v2x, a == SYNTH_VEHICLE2 ? 0u : 1u) << g.id;
        if (a == SYNTH_VEHICLE2) {
            EXPECT_EQ(g.sources[0].kind, VXS_SOURCE_LIDAR);
        }
    }
    vxs_manifest_free(m);

    const int64_t v2 = d.w.agents[SYNTH_VEHICLE2].station_id;
    for (const size_t r : {(size_t)SYNTH_EGO, (size_t)SYNTH_RSU, (size_t)SYNTH_PHONE}) {
        size_t heard = 0;
        for (const Rx &x : ReadV2x(d, r)) heard += !x.sent && x.station == v2;
        EXPECT_GT(heard, 100u) << d.w.agents[r].id;
    }
    for (const char *file : {"ego/v2x.pcap", "rsu/v2x.pcap", "phone/v2x.pcap",
                             "vehicle2/lidar.pcap", "ego/camera.timestamps"})
        EXPECT_TRUE(vxs_test::ReadFile(first.Path(file)) == vxs_test::ReadFile(d.Path(file)))
            << file;
}

// What the faults are for, through the real `v2xsync sync`: with unpinned-clock nothing ties
// vehicle2's logger and free-running LiDAR to the reference, and clocks.json says so
// (identifiability "unknown"); the clean drive identifies both.
TEST(SynthFault, SyncCannotPlaceAnUnpinnedClock) {
    for (const bool unpinned : {false, true}) {
        SCOPED_TRACE(unpinned ? "unpinned-clock" : "clean");
        Drive d;
        ASSERT_NO_FATAL_FAILURE(Make(&d, true, unpinned ? "unpinned-clock" : ""));
        std::string out;
        const std::string synced = d.dir + "-synced"; // beside the drive, not in it
        const int rc =
            vxs_test::RunCli("sync -q '" + d.Path("scenario.json") + "' -o '" + synced + "'", &out);
        ASSERT_LE(rc, 1) << out;
        json_error_t je;
        json_t *clocks = json_load_file((synced + "/clocks.json").c_str(), 0, &je);
        ASSERT_TRUE(clocks) << je.text;
        std::map<std::string, std::string> ident;
        size_t i;
        json_t *it;
        json_array_foreach(json_object_get(clocks, "domains"), i, it) {
            const json_t *id = json_object_get(it, "identifiability");
            ident[S(it, "name")] = json_is_string(id) ? json_string_value(id) : "";
        }
        json_decref(clocks);
        for (const char *dom : {"vehicle2/logger", "vehicle2/lidar"}) {
            ASSERT_TRUE(ident.count(dom)) << dom;
            if (unpinned)
                EXPECT_EQ(ident[dom], "unknown") << dom;
            else
                EXPECT_NE(ident[dom], "unknown") << dom;
        }
        EXPECT_NE(ident["ego/logger"], "unknown");
        EXPECT_NE(ident["phone/logger"], "unknown");
    }
}

// Without --clean and --fault the drive is synth_world_init_ex's, byte for byte (the classic
// hashes themselves are pinned by SynthDrive.ClassicBytesAreTheClassicOnes).
TEST(SynthFault, WithoutThemTheBytesAreUnchanged) {
    synth_realism_t full = {};
    synth_realism_set(&full, true);
    for (const synth_realism_t *re :
         {(const synth_realism_t *)nullptr, (const synth_realism_t *)&full}) {
        SCOPED_TRACE(re ? "full" : "classic");
        synth_world_t w;
        ASSERT_EQ(synth_world_init_ex(&w, 21, SYNTH_PROFILE_MIXED, 4.0, re), VXS_OK);
        const std::string a = vxs_test::TempDir() + "/drive";
        char err[512] = "";
        ASSERT_EQ(synth_generate(&w, a.c_str(), vxs_progress_t{NULL, NULL}, err, sizeof err),
                  VXS_OK)
            << err;
        const synth_faults_t none = {};
        ASSERT_EQ(synth_world_init_faults(&w, 21, SYNTH_PROFILE_MIXED, 4.0, re, false, &none),
                  VXS_OK);
        const std::string b = vxs_test::TempDir() + "/drive";
        ASSERT_EQ(synth_generate(&w, b.c_str(), vxs_progress_t{NULL, NULL}, err, sizeof err),
                  VXS_OK)
            << err;
        for (size_t i = 0; i < SYNTH_N_AGENTS; i++) {
            const synth_agent_t &g = w.agents[i];
            std::vector<std::string> files = {std::string(g.id) + "/" + SYNTH_V2X_FILE};
            if (g.lidar.present) files.push_back(std::string(g.id) + "/" + SYNTH_LIDAR_FILE);
            if (g.camera.present) {
                files.push_back(std::string(g.id) + "/" + g.camera.file);
                files.push_back(std::string(g.id) + "/" + g.camera.times);
            }
            for (const std::string &f : files)
                EXPECT_TRUE(vxs_test::ReadFile(a + "/" + f) == vxs_test::ReadFile(b + "/" + f))
                    << f;
        }
        for (const char *f : {"scenario.json", "truth.json"})
            EXPECT_TRUE(vxs_test::ReadFile(a + "/" + f) == vxs_test::ReadFile(b + "/" + f)) << f;
    }
}

} // namespace
