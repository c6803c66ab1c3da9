// Whole synthetic drives (synth_generate): every file present, byte-identical for the same seed,
// a manifest the parser accepts that points at every file, and the size budget.
#include <dirent.h>
#include <jansson.h>
#include <sys/stat.h>

#include <cmath>
#include <cstring>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "synth.h"
#include "test_util.h"
#include "vxs_manifest.h"

namespace {

// Files lists every regular file under `dir`, relative, with its bytes.
void Files(const std::string &dir, const std::string &rel, std::map<std::string, std::vector<uint8_t>> *out) {
    DIR *d = opendir((dir + "/" + rel).c_str());
    ASSERT_TRUE(d) << dir << "/" << rel;
    while (struct dirent *e = readdir(d)) {
        const std::string name = e->d_name;
        if (name == "." || name == "..") continue;
        const std::string r = rel.empty() ? name : rel + "/" + name;
        struct stat st;
        ASSERT_EQ(stat((dir + "/" + r).c_str(), &st), 0);
        if (S_ISDIR(st.st_mode)) Files(dir, r, out);
        else (*out)[r] = vxs_test::ReadFile(dir + "/" + r);
    }
    closedir(d);
}

std::string Generate(uint64_t seed, synth_profile_t profile, double seconds,
                     const synth_realism_t *realism = nullptr) {
    synth_world_t w;
    EXPECT_EQ(synth_world_init_ex(&w, seed, profile, seconds, realism), VXS_OK);
    const std::string dir = vxs_test::TempDir() + "/drive";
    char err[512] = "";
    EXPECT_EQ(synth_generate(&w, dir.c_str(), vxs_progress_t{NULL, NULL}, err, sizeof err), VXS_OK)
        << err;
    return dir;
}

const char *const kExpected[] = {"scenario.json",     "truth.json",         "ego/v2x.pcap",
                                 "ego/lidar.pcap",    "ego/camera.mp4",     "ego/camera.timestamps",
                                 "vehicle2/v2x.pcap", "vehicle2/lidar.pcap", "rsu/v2x.pcap",
                                 "rsu/lidar.pcap",    "phone/v2x.pcap"};

TEST(SynthDrive, SameSeedSameBytesOtherSeedOtherBytes) {
    std::map<std::string, std::vector<uint8_t>> a, b, c;
    Files(Generate(11, SYNTH_PROFILE_MIXED, 3.0), "", &a);
    Files(Generate(11, SYNTH_PROFILE_MIXED, 3.0), "", &b);
    Files(Generate(12, SYNTH_PROFILE_MIXED, 3.0), "", &c);
    ASSERT_EQ(a.size(), sizeof kExpected / sizeof kExpected[0]);
    for (const char *f : kExpected) {
        ASSERT_TRUE(a.count(f)) << f << " missing";
        EXPECT_GT(a[f].size(), 0u) << f;
        EXPECT_TRUE(a[f] == b[f]) << f << " differs between two runs with the same seed";
    }
    // Another seed moves clocks and phases: every capture changes.
    for (const char *f : {"truth.json", "ego/v2x.pcap", "vehicle2/lidar.pcap", "ego/camera.mp4"})
        EXPECT_FALSE(a[f] == c[f]) << f << " is the same for seeds 11 and 12";
}

// Fnv is FNV-1a (64 bits) of a file's bytes; truth.json without its "generator" line (it names
// the version).
uint64_t Fnv(const std::string &name, const std::vector<uint8_t> &bytes) {
    std::string text(bytes.begin(), bytes.end());
    if (name == "truth.json") {
        const size_t at = text.find("\n\"generator\": ");
        if (at != std::string::npos) text.erase(at, text.find('\n', at + 1) - at);
    }
    uint64_t h = UINT64_C(0xcbf29ce484222325);
    for (unsigned char c : text) h = (h ^ c) * UINT64_C(0x100000001b3);
    return h;
}

// The classic drive is byte for byte what it has always been, and so is the drive with every
// realism option older than gnss, ref-point and motion (each new option draws from streams of its
// own and its writers draw nothing when it is off): FNV-1a of every file of the seed-7 mixed 6 s
// drives but the video (libx264's bytes are its own), as v2xsync 0.1.0 wrote them. A change here
// changes every existing drive: it must be meant, and the figures updated with the reason.
TEST(SynthDrive, ClassicBytesAreTheClassicOnes) {
    const std::map<std::string, uint64_t> classic = {
        {"scenario.json", UINT64_C(0x7e63776d237105e5)},
        {"truth.json", UINT64_C(0xc70a2fdb3ae32036)},
        {"ego/camera.timestamps", UINT64_C(0x46699e5b0666014b)},
        {"ego/lidar.pcap", UINT64_C(0xe733029b2500f993)},
        {"ego/v2x.pcap", UINT64_C(0xc7dfff78cf3297c0)},
        {"phone/v2x.pcap", UINT64_C(0xa1661174baf790d0)},
        {"rsu/lidar.pcap", UINT64_C(0x325302af1751c446)},
        {"rsu/v2x.pcap", UINT64_C(0x41f847c7131aee9a)},
        {"vehicle2/lidar.pcap", UINT64_C(0x20d1282135ff1f5c)},
        {"vehicle2/v2x.pcap", UINT64_C(0xb928089528027d54)}};
    const std::map<std::string, uint64_t> older_options = {
        {"scenario.json", UINT64_C(0x6ddcddb5b7f62656)},
        {"truth.json", UINT64_C(0x68208a666b829508)},
        {"ego/lidar.pcap", UINT64_C(0x97e62c63238f8ff9)},
        {"ego/timestamps.txt", UINT64_C(0xac4e424ad4d9efb4)},
        {"ego/v2x.pcap", UINT64_C(0x667b80326acf49c6)},
        {"phone/v2x.pcap", UINT64_C(0x9b91711042812dfb)},
        {"rsu/lidar.pcap", UINT64_C(0xa530038dabf05958)},
        {"rsu/v2x.pcap", UINT64_C(0x7aa3dadb26be8ef9)},
        {"vehicle2/lidar.pcap", UINT64_C(0xaa26818c57f0432c)},
        {"vehicle2/v2x.pcap", UINT64_C(0x0ef47e52e67536a4)}};
    synth_realism_t older = {};
    char err[512] = "";
    ASSERT_EQ(synth_realism_parse(&older, "full,-gnss,-ref-point,-motion", err, sizeof err),
              VXS_OK)
        << err;
    for (const bool classic_drive : {true, false}) {
        SCOPED_TRACE(classic_drive ? "classic" : "full,-gnss,-ref-point,-motion");
        std::map<std::string, std::vector<uint8_t>> f;
        Files(Generate(7, SYNTH_PROFILE_MIXED, 6.0, classic_drive ? nullptr : &older), "", &f);
        std::map<std::string, uint64_t> got;
        for (const auto &kv : f)
            if (kv.first.size() < 4 || kv.first.compare(kv.first.size() - 4, 4, ".mp4") != 0)
                got[kv.first] = Fnv(kv.first, kv.second);
        const auto &want = classic_drive ? classic : older_options;
        for (const auto &kv : want) {
            ASSERT_TRUE(got.count(kv.first)) << kv.first;
            EXPECT_EQ(got[kv.first], kv.second) << kv.first << " is not the classic bytes";
        }
        EXPECT_EQ(got.size(), want.size());
    }
}

TEST(SynthDrive, ManifestLoadsAndDescribesTheDrive) {
    const std::string dir = Generate(4, SYNTH_PROFILE_ETSI, 2.0);
    synth_world_t w;
    ASSERT_EQ(synth_world_init(&w, 4, SYNTH_PROFILE_ETSI, 2.0), VXS_OK);
    vxs_manifest_t *m = NULL;
    char err[VXS_MANIFEST_ERR_LEN] = "";
    ASSERT_EQ(vxs_manifest_load(&m, (dir + "/scenario.json").c_str(), err, sizeof err), VXS_OK)
        << err;
    ASSERT_EQ(m->n_agents, 4u);
    EXPECT_STREQ(m->agents[m->ref_agent].id, "ego");
    EXPECT_EQ(m->agents[m->ref_agent].sources[m->ref_source].kind, VXS_SOURCE_LIDAR);
    const vxs_agent_type_t types[4] = {VXS_AGENT_VEHICLE, VXS_AGENT_VEHICLE, VXS_AGENT_RSU,
                                       VXS_AGENT_VRU};
    const size_t nsrc[4] = {3, 2, 2, 1};
    for (size_t a = 0; a < 4; a++) {
        const vxs_manifest_agent_t &g = m->agents[a];
        EXPECT_STREQ(g.id, w.agents[a].id);
        EXPECT_EQ(g.type, types[a]);
        ASSERT_EQ(g.n_sources, nsrc[a]) << g.id;
        for (size_t k = 0; k < g.n_sources; k++) {
            const vxs_manifest_source_t &s = g.sources[k];
            struct stat st;
            EXPECT_EQ(stat(s.path, &st), 0) << s.path;
            if (s.kind == VXS_SOURCE_LIDAR) {
                const synth_lidar_t &l = w.agents[a].lidar;
                EXPECT_EQ(s.clock.gps_locked, l.gps_locked) << g.id;
                EXPECT_STREQ(s.model, l.model == 32 ? "VLP-32C" : "VLP-16");
                for (int i = 0; i < 3; i++) EXPECT_NEAR(s.extrinsics.translation[i], l.mount[i], 1e-12);
                for (int i = 0; i < 4; i++) EXPECT_NEAR(s.extrinsics.rotation[i], l.quat[i], 1e-9);
                EXPECT_FALSE(s.clock.has_offset); // offsets are for the engine to find
            } else if (s.kind == VXS_SOURCE_CAMERA) {
                ASSERT_TRUE(s.timestamps);
                EXPECT_EQ(stat(s.timestamps, &st), 0) << s.timestamps;
            } else {
                EXPECT_FALSE(g.pose.present) << "a pose only with realism gnss";
                EXPECT_TRUE(s.has_own_station_id);
                EXPECT_EQ(s.own_station_id, w.agents[a].station_id);
                ASSERT_EQ(s.n_own_macs, 1u);
                EXPECT_EQ(std::memcmp(s.own_macs[0], w.agents[a].mac, 6), 0);
            }
        }
    }
    vxs_manifest_free(m);
}

TEST(SynthDrive, TruthHasEverySection) {
    const std::string dir = Generate(6, SYNTH_PROFILE_US, 2.0);
    json_error_t je;
    json_t *t = json_load_file((dir + "/truth.json").c_str(), 0, &je);
    ASSERT_TRUE(t) << je.text;
    for (const char *k : {"version", "seed", "profile", "start_ns", "duration_ns", "origin",
                          "agents", "clocks", "link_model", "shadow", "trajectories", "messages",
                          "sweeps", "camera_frames"})
        EXPECT_TRUE(json_object_get(t, k)) << k;
    EXPECT_GT(json_array_size(json_object_get(t, "messages")), 0u);
    EXPECT_GT(json_array_size(json_object_get(t, "sweeps")), 0u);
    EXPECT_GT(json_array_size(json_object_get(t, "camera_frames")), 0u);
    json_decref(t);
}

// Realism gnss: the manifest gives the RSU its surveyed mounting pose (its true position and
// heading, east: 90 deg from north) and nobody else one, and no "origin"; truth.json states every
// agent's claims; the messages carry their true and reported states (gnss, ref-point and motion
// each bring them; a classic truth has none of these keys).
TEST(SynthDrive, GnssSurveysTheRsuAndTheTruthStatesTheClaims) {
    for (const char *spec : {"gnss", "ref-point", "motion", "classic"}) {
        SCOPED_TRACE(spec);
        synth_realism_t r = {};
        char err[VXS_MANIFEST_ERR_LEN] = "";
        ASSERT_EQ(synth_realism_parse(&r, spec, err, sizeof err), VXS_OK) << err;
        synth_world_t w;
        ASSERT_EQ(synth_world_init_ex(&w, 5, SYNTH_PROFILE_MIXED, 2.0, &r), VXS_OK);
        const std::string dir = Generate(5, SYNTH_PROFILE_MIXED, 2.0, &r);
        vxs_manifest_t *m = NULL;
        ASSERT_EQ(vxs_manifest_load(&m, (dir + "/scenario.json").c_str(), err, sizeof err),
                  VXS_OK)
            << err;
        EXPECT_FALSE(m->origin.present);
        for (size_t a = 0; a < m->n_agents; a++) {
            const vxs_manifest_geo_t &g = m->agents[a].pose;
            ASSERT_EQ(g.present, r.gnss && a == SYNTH_RSU) << m->agents[a].id;
            if (!g.present) continue;
            double lat, lon, alt;
            synth_enu_to_geo(&w, 0.0, 0.0, 0.0, &lat, &lon, &alt);
            EXPECT_NEAR(g.lat_deg, lat, 1e-12);
            EXPECT_NEAR(g.lon_deg, lon, 1e-12);
            EXPECT_NEAR(g.alt_m, alt, 1e-6);
            EXPECT_TRUE(g.has_heading);
            EXPECT_NEAR(g.heading_deg, 90.0, 1e-12);
        }
        vxs_manifest_free(m);

        json_error_t je;
        json_t *t = json_load_file((dir + "/truth.json").c_str(), 0, &je);
        ASSERT_TRUE(t) << je.text;
        json_t *agents = json_object_get(t, "agents");
        for (size_t a = 0; a < json_array_size(agents); a++) {
            json_t *cl = json_object_get(json_array_get(agents, a), "claimed");
            ASSERT_EQ(cl != nullptr, r.gnss);
            if (!cl) continue;
            EXPECT_NEAR(json_number_value(json_object_get(cl, "pos_sd_m")), w.agents[a].pos_sd_m,
                        1e-9);
            EXPECT_NEAR(json_number_value(json_object_get(cl, "speed_sd_mps")),
                        w.agents[a].speed_sd_mps, 1e-9);
            EXPECT_NEAR(json_number_value(json_object_get(cl, "heading_sd_deg")),
                        w.agents[a].heading_sd_deg, 1e-9);
        }
        json_t *msgs = json_object_get(t, "messages");
        ASSERT_GT(json_array_size(msgs), 10u);
        const bool annotated = r.gnss || r.ref_point || r.motion;
        for (size_t i = 0; i < json_array_size(msgs); i++) {
            json_t *msg = json_array_get(msgs, i), *tr = json_object_get(msg, "true"),
                   *rp = json_object_get(msg, "reported");
            ASSERT_EQ(tr != nullptr, annotated);
            ASSERT_EQ(rp != nullptr, annotated);
            if (!annotated) continue;
            for (const char *k : {"x", "y", "z", "yaw", "speed", "accel_long", "yaw_rate"})
                EXPECT_TRUE(json_is_number(json_object_get(tr, k))) << k;
            for (const char *k : {"x", "y", "z", "speed", "heading_deg"})
                EXPECT_TRUE(json_is_number(json_object_get(rp, k))) << k;
        }
        json_decref(t);
    }
}

// The budget: a 60 s drive of 4 agents under ~100 MB. Measured on 6 s (the content rates
// are constant), so the test stays quick under the sanitizers.
TEST(SynthDrive, SixtySecondsFitInAHundredMegabytes) {
    std::map<std::string, std::vector<uint8_t>> f;
    Files(Generate(1, SYNTH_PROFILE_MIXED, 6.0), "", &f);
    double total = 0;
    for (const auto &kv : f) total += (double)kv.second.size();
    EXPECT_LT(total * 10, 100e6) << "6 s drive: " << total / 1e6 << " MB";
}

// Realism: the same seed and options give the same bytes; the classic options asked for
// explicitly give the classic drive; every option on changes the captures and the truth.
TEST(SynthDrive, SameSeedAndRealismSameBytes) {
    synth_realism_t full = {}, classic = {};
    synth_realism_set(&full, true);
    std::map<std::string, std::vector<uint8_t>> a, b, c, p;
    Files(Generate(11, SYNTH_PROFILE_MIXED, 3.0, &full), "", &a);
    Files(Generate(11, SYNTH_PROFILE_MIXED, 3.0, &full), "", &b);
    Files(Generate(11, SYNTH_PROFILE_MIXED, 3.0, &classic), "", &c);
    Files(Generate(11, SYNTH_PROFILE_MIXED, 3.0), "", &p);
    ASSERT_EQ(a.size(), sizeof kExpected / sizeof kExpected[0]);
    EXPECT_TRUE(a == b) << "two runs with the same seed and options differ";
    EXPECT_TRUE(c == p) << "the classic options differ from no options";
    for (const char *f : {"truth.json", "ego/v2x.pcap", "phone/v2x.pcap", "rsu/v2x.pcap",
                          "vehicle2/lidar.pcap", "ego/lidar.pcap", "scenario.json"})
        EXPECT_FALSE(a[f] == p[f]) << f << " is the same with every realism option on";
}

// Realism sidecar-names: each of the five patterns, the video and the sidecar under the names
// the world gives, the manifest naming them (no classic name left behind), and truth.json
// recording them.
TEST(SynthDrive, ManifestNamesTheSidecarsRigsWrite) {
    synth_realism_t r = {};
    r.sidecar_names = true;
    std::set<std::string> patterns;
    for (uint64_t seed = 20; seed < 25; seed++) {
        SCOPED_TRACE(seed);
        synth_world_t w;
        ASSERT_EQ(synth_world_init_ex(&w, seed, SYNTH_PROFILE_ETSI, 1.0, &r), VXS_OK);
        const synth_camera_t &cm = w.agents[SYNTH_EGO].camera;
        const std::string dir = Generate(seed, SYNTH_PROFILE_ETSI, 1.0, &r);
        std::map<std::string, std::vector<uint8_t>> f;
        Files(dir, "", &f);
        EXPECT_TRUE(f.count(std::string("ego/") + cm.file)) << cm.file;
        EXPECT_TRUE(f.count(std::string("ego/") + cm.times)) << cm.times;
        EXPECT_FALSE(f.count("ego/" SYNTH_CAMERA_TIMES));
        EXPECT_EQ(f.size(), sizeof kExpected / sizeof kExpected[0]);
        std::string p = cm.times;
        const std::string stem = std::string(cm.file).substr(0, strlen(cm.file) - 4);
        if (p.compare(0, stem.size(), stem) == 0) p = "<stem>" + p.substr(stem.size());
        patterns.insert(p);

        vxs_manifest_t *m = NULL;
        char err[VXS_MANIFEST_ERR_LEN] = "";
        ASSERT_EQ(vxs_manifest_load(&m, (dir + "/scenario.json").c_str(), err, sizeof err),
                  VXS_OK) << err;
        const vxs_manifest_agent_t &g = m->agents[SYNTH_EGO];
        bool found = false;
        for (size_t k = 0; k < g.n_sources; k++) {
            const vxs_manifest_source_t &s = g.sources[k];
            if (s.kind != VXS_SOURCE_CAMERA) continue;
            found = true;
            EXPECT_EQ(std::string(s.path), dir + "/ego/" + cm.file);
            ASSERT_TRUE(s.timestamps);
            EXPECT_EQ(std::string(s.timestamps), dir + "/ego/" + cm.times);
        }
        EXPECT_TRUE(found);
        vxs_manifest_free(m);

        json_error_t je;
        json_t *t = json_load_file((dir + "/truth.json").c_str(), 0, &je);
        ASSERT_TRUE(t) << je.text;
        json_t *cam = json_array_get(json_object_get(json_array_get(json_object_get(t, "agents"),
                                                                   0), "sensors"), 1);
        EXPECT_STREQ(json_string_value(json_object_get(cam, "path")), cm.file);
        EXPECT_STREQ(json_string_value(json_object_get(cam, "timestamps")), cm.times);
        json_decref(t);
    }
    EXPECT_EQ(patterns, (std::set<std::string>{"<stem>.timestamps.txt", "<stem>_timestamps.txt",
                                               "timestamps.txt", "<stem>.txt", "<stem>.csv"}));
}

// `v2xsync synth` switches the options on by --realism (a list, negations) or one flag each,
// says which in its JSON summary and truth.json, and refuses an unknown name.
TEST(SynthDrive, CliRealismOptions) {
    const std::string dir = vxs_test::TempDir();
    std::string out;
    ASSERT_EQ(vxs_test::RunCli("synth -q --duration 2 --realism full,-slew -o " + dir +
                                   "/a --json",
                               &out),
              0)
        << out;
    auto names = [](json_t *arr) {
        std::vector<std::string> v;
        for (size_t i = 0; i < json_array_size(arr); i++)
            v.push_back(json_string_value(json_array_get(arr, i)));
        return v;
    };
    const std::vector<std::string> want = {
        "link-floors",  "tx-log",        "rx-only", "camera-latency", "logger-steps",
        "lidar-behind", "sidecar-names", "gnss",    "ref-point",      "motion"};
    json_error_t je;
    json_t *j = json_loads(out.c_str(), 0, &je);
    ASSERT_TRUE(j) << je.text << "\n" << out;
    EXPECT_EQ(names(json_object_get(j, "realism")), want);
    json_decref(j);
    json_t *t = json_load_file((dir + "/a/truth.json").c_str(), 0, &je);
    ASSERT_TRUE(t) << je.text;
    EXPECT_EQ(names(json_object_get(t, "realism")), want);
    json_decref(t);

    ASSERT_EQ(vxs_test::RunCli("synth -q --duration 2 --slew --lidar-behind -o " + dir + "/b",
                               &out),
              0)
        << out;
    t = json_load_file((dir + "/b/truth.json").c_str(), 0, &je);
    ASSERT_TRUE(t) << je.text;
    EXPECT_EQ(names(json_object_get(t, "realism")),
              (std::vector<std::string>{"slew", "lidar-behind"}));
    json_decref(t);

    ASSERT_EQ(vxs_test::RunCli("synth -q --duration 2 --realism classic -o " + dir + "/c", &out),
              0)
        << out;
    t = json_load_file((dir + "/c/truth.json").c_str(), 0, &je);
    ASSERT_TRUE(t) << je.text;
    EXPECT_EQ(json_object_get(t, "realism"), nullptr); // a classic truth is as it always was
    json_decref(t);

    EXPECT_EQ(vxs_test::RunCli("synth -q --duration 2 --realism fast -o " + dir + "/d", &out), 2);
    EXPECT_NE(out.find("--realism: unknown realism 'fast'"), std::string::npos) << out;
    ASSERT_EQ(vxs_test::RunCli("synth --help", &out), 0);
    for (size_t i = 0; i < SYNTH_REALISM_N; i++)
        EXPECT_NE(out.find(std::string("--") + synth_realism_name(i)), std::string::npos)
            << synth_realism_name(i);
}

TEST(SynthDrive, UnwritableFolderIsAnErrorNamingIt) {
    synth_world_t w;
    ASSERT_EQ(synth_world_init(&w, 1, SYNTH_PROFILE_ETSI, 1.0), VXS_OK);
    char err[512] = "";
    EXPECT_EQ(synth_generate(&w, "/proc/v2xsync-cannot-be-here", vxs_progress_t{NULL, NULL}, err,
                             sizeof err),
              VXS_E_IO);
    EXPECT_NE(std::string(err).find("/proc/v2xsync-cannot-be-here"), std::string::npos) << err;
}

} // namespace
