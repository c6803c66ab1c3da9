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
    const std::vector<std::string> want = {"link-floors",  "tx-log", "rx-only", "camera-latency",
                                           "logger-steps", "lidar-behind", "sidecar-names"};
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
