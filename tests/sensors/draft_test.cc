// draft_test.cc: vxs_draft_scan on a synthetic drive (written by `v2xsync synth`, an encoder
// independent of the readers) against the manifest and truth the generator wrote; on junk, odd
// folders and real recordings; its errors and allocation failures.
#include <jansson.h>
#include <limits.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <map>
#include <string>
#include <vector>

#include "test_util.h"
#include "vxs_manifest.h"
#include "vxs_sensors.h"
#include "vxs_v2x.h"

namespace {

struct Skip {
    std::string what, detail; // detail "(null)" when the scan gave none
};

// Report collects what a scan reports, by path.
struct Report {
    std::map<std::string, Skip> skipped;
    std::vector<std::string> notes;
    vxs_draft_report_t r{OnSkipped, OnNote, this};
    static void OnSkipped(void *user, const char *path, const char *what, const char *detail) {
        static_cast<Report *>(user)->skipped[path] = Skip{what, detail ? detail : "(null)"};
    }
    static void OnNote(void *user, const char *msg) {
        static_cast<Report *>(user)->notes.push_back(msg);
    }
    bool Noted(const std::string &s) const {
        for (const auto &n : notes)
            if (n.find(s) != std::string::npos) return true;
        return false;
    }
};

// Drive writes a synthetic drive of `seconds` into a fresh folder (once per length and process).
std::string Drive(int seconds) {
    static std::map<int, std::string> made;
    if (made.count(seconds)) return made[seconds];
    const std::string d = vxs_test::TempDir() + "/drive";
    std::string out;
    EXPECT_EQ(vxs_test::RunCli("synth -q --duration " + std::to_string(seconds) + " --out '" + d +
                               "'", &out), 0) << out;
    return made[seconds] = d;
}

// SynthDrive writes `v2xsync synth -q ARGS` into a fresh folder.
std::string SynthDrive(const std::string &args) {
    const std::string d = vxs_test::TempDir() + "/drive";
    std::string out;
    EXPECT_EQ(vxs_test::RunCli("synth -q " + args + " --out '" + d + "'", &out), 0) << out;
    return d;
}

// CopyDrive copies the drive into a fresh folder the test may change.
std::string CopyDrive(int seconds) {
    const std::string d = vxs_test::TempDir() + "/copy";
    std::string out;
    EXPECT_EQ(vxs_test::Run("cp -r '" + Drive(seconds) + "' '" + d + "'", &out), 0);
    return d;
}

const vxs_draft_agent_t *AgentById(const vxs_manifest_draft_t *d, const std::string &id) {
    for (size_t i = 0; i < d->n_agents; i++)
        if (id == d->agents[i].id) return &d->agents[i];
    return nullptr;
}

const vxs_draft_source_t *SourceOfKind(const vxs_draft_agent_t *a, vxs_source_kind_t kind,
                                       int nth = 0) {
    for (size_t i = 0; i < a->n_sources; i++)
        if (a->sources[i].kind == kind && nth-- == 0) return &a->sources[i];
    return nullptr;
}

std::string Opt(const char *s) { return s ? s : "(null)"; }

std::string Real(const std::string &p) {
    char buf[PATH_MAX];
    return realpath(p.c_str(), buf) ? buf : "(missing) " + p;
}

// Sent counts the messages each agent sent, from the generator's truth.json.
std::map<std::string, int> Sent(const std::string &drive) {
    std::map<std::string, int> sent;
    json_error_t e;
    json_t *truth = json_load_file((drive + "/truth.json").c_str(), 0, &e);
    EXPECT_NE(truth, nullptr) << e.text;
    size_t i;
    json_t *m;
    json_array_foreach(json_object_get(truth, "messages"), i, m) {
        const char *s = json_string_value(json_object_get(m, "sender"));
        if (s) sent[s]++;
    }
    json_decref(truth);
    return sent;
}

// The generator's own manifest says what the drive holds: the scan must find the same sources,
// models, clock locks, sidecars and own V2X identities from the files alone.
TEST(DraftScan, SyntheticDriveGivesTheGeneratorsManifest) {
    const std::string drive = Drive(3);
    Report rep;
    vxs_manifest_draft_t *d = nullptr;
    char err[256];
    ASSERT_EQ(vxs_draft_scan(&d, drive.c_str(), &rep.r, err, sizeof err), VXS_OK) << err;
    EXPECT_EQ(Opt(d->dir_real), Real(drive));
    EXPECT_EQ(Opt(d->name), "drive");

    vxs_manifest_t *gen = nullptr;
    char merr[VXS_MANIFEST_ERR_LEN];
    ASSERT_EQ(vxs_manifest_load(&gen, (drive + "/scenario.json").c_str(), merr, sizeof merr),
              VXS_OK) << merr;
    const std::map<std::string, int> sent = Sent(drive);
    ASSERT_EQ(d->n_agents, gen->n_agents);
    for (size_t i = 0; i < gen->n_agents; i++) {
        const vxs_manifest_agent_t &ga = gen->agents[i];
        SCOPED_TRACE(ga.id);
        const vxs_draft_agent_t *da = AgentById(d, ga.id);
        ASSERT_NE(da, nullptr);
        EXPECT_EQ(da->type, ga.type); // ego, vehicle2: vehicle; rsu; phone: vru
        ASSERT_EQ(da->n_sources, ga.n_sources);
        std::map<int, int> nth;
        for (size_t k = 0; k < ga.n_sources; k++) {
            const vxs_manifest_source_t &gs = ga.sources[k];
            SCOPED_TRACE(gs.path);
            const vxs_draft_source_t *ds = SourceOfKind(da, gs.kind, nth[gs.kind]++);
            ASSERT_NE(ds, nullptr);
            EXPECT_EQ(drive + "/" + ds->path, gs.path);
            EXPECT_EQ(Opt(ds->model), Opt(gs.model));
            EXPECT_EQ(ds->calibration, nullptr);
            EXPECT_EQ(ds->metadata, nullptr);
            if (gs.kind == VXS_SOURCE_LIDAR) {
                EXPECT_TRUE(ds->has_gps_locked); // the generator's LiDARs are Velodynes
                EXPECT_EQ(ds->gps_locked, gs.clock.gps_locked);
            } else {
                EXPECT_FALSE(ds->has_gps_locked);
            }
            if (gs.timestamps) EXPECT_EQ(drive + "/" + Opt(ds->timestamps), gs.timestamps);
            else EXPECT_EQ(ds->timestamps, nullptr);
            if (gs.kind != VXS_SOURCE_V2X) continue;
            EXPECT_EQ(ds->v2x_format, VXS_MANIFEST_V2X_PCAP);
            if (sent.at(ga.id) >= 10) {
                ASSERT_TRUE(ds->has_own_station_id);
                EXPECT_EQ(ds->own_station_id, gs.own_station_id);
                ASSERT_EQ(ds->n_own_macs, gs.n_own_macs);
                for (size_t m = 0; m < gs.n_own_macs; m++)
                    EXPECT_EQ(0, memcmp(ds->own_macs[m], gs.own_macs[m], 6));
            } else {
                // Too few of its own messages to be sure: left out, and said why.
                EXPECT_FALSE(ds->has_own_station_id);
                EXPECT_EQ(ds->n_own_macs, 0u);
                EXPECT_TRUE(rep.Noted(std::string(ga.id) + "/v2x.pcap: own station not recognised"));
            }
        }
    }
    // The two files directly in the drive folder are reported, not taken as agents.
    EXPECT_EQ(rep.skipped.size(), 2u);
    EXPECT_EQ(rep.skipped[drive + "/scenario.json"].what, "not in an agent folder");
    EXPECT_EQ(rep.skipped[drive + "/scenario.json"].detail, "(null)");
    EXPECT_EQ(rep.skipped[drive + "/truth.json"].what, "not in an agent folder");
    vxs_manifest_free(gen);
    vxs_manifest_draft_free(d);
}

// Files and folders the draft cannot use are each reported once with why; the rest is drafted.
TEST(DraftScan, JunkIsSkippedWithReasons) {
    const std::string drive = CopyDrive(1);
    auto write = [](const std::string &p, const std::string &s) {
        ASSERT_TRUE(vxs_test::WriteFile(p, std::vector<uint8_t>(s.begin(), s.end()))) << p;
    };
    write(drive + "/ego/notes.txt", "hi\n");
    write(drive + "/ego/empty.bin", "");
    write(drive + "/ego/.hidden", "x\n");
    mkdir((drive + "/ego/sub").c_str(), 0755);
    mkdir((drive + "/junk agent").c_str(), 0755);
    write(drive + "/junk agent/readme.md", "# nothing\n");
    // The sidecar one line short: it no longer has one line per frame.
    std::vector<uint8_t> ts = vxs_test::ReadFile(drive + "/ego/camera.timestamps");
    size_t lines = 0;
    for (uint8_t ch : ts) lines += ch == '\n';
    ASSERT_GT(lines, 2u);
    ts.pop_back();
    ts.resize(std::string(ts.begin(), ts.end()).rfind('\n') + 1);
    ASSERT_TRUE(vxs_test::WriteFile(drive + "/ego/camera.timestamps", ts));

    Report rep;
    vxs_manifest_draft_t *d = nullptr;
    char err[256];
    // A trailing '/' does not double the separator in reported paths.
    ASSERT_EQ(vxs_draft_scan(&d, (drive + "//").c_str(), &rep.r, err, sizeof err), VXS_OK) << err;
    std::map<std::string, Skip> &s = rep.skipped;
    EXPECT_EQ(s[drive + "/ego/notes.txt"].what, "unrecognised");
    EXPECT_EQ(s[drive + "/ego/notes.txt"].detail.rfind("not a capture, a video, a V2X log", 0), 0u)
        << s[drive + "/ego/notes.txt"].detail;
    EXPECT_EQ(s[drive + "/ego/empty.bin"].what, "unrecognised");
    EXPECT_EQ(s[drive + "/ego/empty.bin"].detail, "empty file");
    EXPECT_EQ(s[drive + "/ego/.hidden"].what, "hidden");
    EXPECT_EQ(s[drive + "/ego/.hidden"].detail, "(null)");
    EXPECT_EQ(s[drive + "/ego/sub"].what, "a folder inside an agent folder");
    EXPECT_EQ(s[drive + "/junk agent/readme.md"].what, "unrecognised");
    const Skip &side = s[drive + "/ego/camera.timestamps"];
    EXPECT_EQ(side.what, "unrecognised");
    EXPECT_EQ(side.detail.rfind(std::to_string(lines - 1) + " timestamp lines, but the video "
                                "camera.mp4 has " + std::to_string(lines) + " frames", 0), 0u)
        << side.detail;
    EXPECT_TRUE(rep.Noted("/ego/camera.timestamps: " + std::to_string(lines - 1) +
                          " timestamp lines"));
    EXPECT_TRUE(rep.Noted(drive + "/junk agent: no recognised recording; the agent is left out"));
    EXPECT_EQ(s.size(), 8u); // the above and scenario.json, truth.json

    // Every agent with a recording is still there; the camera lost its sidecar only.
    EXPECT_EQ(d->n_agents, 4u);
    EXPECT_EQ(AgentById(d, "junk_agent"), nullptr);
    const vxs_draft_source_t *cam = SourceOfKind(AgentById(d, "ego"), VXS_SOURCE_CAMERA);
    ASSERT_NE(cam, nullptr);
    EXPECT_EQ(Opt(cam->path), "ego/camera.mp4");
    EXPECT_EQ(cam->timestamps, nullptr);
    vxs_manifest_draft_free(d);
}

// Agent ids are sanitized folder names, unique; types are guessed from the names.
TEST(DraftScan, AgentIdsAndTypesFromFolderNames) {
    const std::string src = Drive(1), dir = vxs_test::TempDir() + "/names";
    const char *folders[] = {"a b", "a_b", "Bike 1", "RSU-north", "ped.x", "car"};
    mkdir(dir.c_str(), 0755);
    for (const char *f : folders) {
        const std::string a = dir + "/" + f;
        mkdir(a.c_str(), 0755);
        ASSERT_EQ(symlink((src + "/phone/v2x.pcap").c_str(), (a + "/radio").c_str()), 0);
    }
    vxs_manifest_draft_t *d = nullptr;
    char err[256];
    ASSERT_EQ(vxs_draft_scan(&d, dir.c_str(), nullptr, err, sizeof err), VXS_OK) << err;
    ASSERT_EQ(d->n_agents, 6u);
    // Bytewise name order: "Bike 1", "RSU-north", "a b", "a_b", "car", "ped.x".
    const char *ids[] = {"Bike_1", "RSU-north", "a_b", "a_b_2", "car", "ped.x"};
    const vxs_agent_type_t types[] = {VXS_AGENT_VRU,     VXS_AGENT_RSU,     VXS_AGENT_VEHICLE,
                                      VXS_AGENT_VEHICLE, VXS_AGENT_VEHICLE, VXS_AGENT_VRU};
    for (size_t i = 0; i < 6; i++) {
        EXPECT_STREQ(d->agents[i].id, ids[i]);
        EXPECT_EQ(d->agents[i].type, types[i]) << ids[i];
        ASSERT_EQ(d->agents[i].n_sources, 1u);
        EXPECT_EQ(d->agents[i].sources[0].kind, VXS_SOURCE_V2X);
    }
    EXPECT_STREQ(d->agents[2].sources[0].path, "a b/radio");
    vxs_manifest_draft_free(d);
}

TEST(DraftScan, ErrorsSayWhy) {
    const std::string tmp = vxs_test::TempDir();
    vxs_manifest_draft_t *d = nullptr;
    char err[256];
    Report rep;
    EXPECT_EQ(vxs_draft_scan(&d, (tmp + "/nowhere").c_str(), &rep.r, err, sizeof err), VXS_E_IO);
    EXPECT_EQ(d, nullptr);
    EXPECT_EQ(std::string(err).rfind(tmp + "/nowhere: ", 0), 0u) << err;

    ASSERT_TRUE(vxs_test::WriteFile(tmp + "/loose.pcap", std::vector<uint8_t>{1, 2, 3}));
    EXPECT_EQ(vxs_draft_scan(&d, (tmp + "/loose.pcap").c_str(), &rep.r, err, sizeof err),
              VXS_E_IO);
    EXPECT_NE(std::string(err).find("not a folder"), std::string::npos) << err;

    EXPECT_EQ(vxs_draft_scan(&d, tmp.c_str(), &rep.r, err, sizeof err), VXS_E_NOTFOUND);
    EXPECT_EQ(std::string(err), tmp + " has no agent folder (DIR holds one subfolder per agent, "
                                      "named after it)");
    EXPECT_EQ(rep.skipped[tmp + "/loose.pcap"].what, "not in an agent folder");

    mkdir((tmp + "/agent").c_str(), 0755);
    ASSERT_TRUE(vxs_test::WriteFile(tmp + "/agent/notes.txt", std::vector<uint8_t>{'x', '\n'}));
    EXPECT_EQ(vxs_draft_scan(&d, tmp.c_str(), &rep.r, err, sizeof err), VXS_E_UNSUPPORTED);
    EXPECT_EQ(std::string(err), "no recognised recording in " + tmp);
    EXPECT_EQ(d, nullptr);

    EXPECT_EQ(vxs_draft_scan(nullptr, tmp.c_str(), nullptr, err, sizeof err), VXS_E_ARG);
    EXPECT_EQ(vxs_draft_scan(&d, nullptr, nullptr, err, sizeof err), VXS_E_ARG);
    vxs_manifest_draft_free(nullptr);
}

// Real recordings under names that say nothing: Ouster metadata by name and by packet size, a
// Velodyne calibration by laser count, the Wyoming log's own id from its sent records.
TEST(DraftScan, RealRecordingsGetTheirSideFiles) {
    VXS_SHARED_OR_SKIP(ds, "datasets");
    const std::string dir = vxs_test::TempDir() + "/rec";
    struct Link {
        const char *agent, *name, *target;
    } links[] = {
        {"car", "capture.bin", "lidar/velodyne/mrpt_vlp16_gps.pcap"},
        {"car", "laser-table.yaml", "lidar/calib/velodyne/VLP16.yaml"},
        {"car", "other-table.yaml", "lidar/calib/velodyne/HDL32.yaml"},
        {"rsu", "scan.pcap", "lidar/ouster/OS-1-64_1024x10_fw20.pcap"},
        {"rsu", "scan.json", "lidar/ouster/OS-1-64_1024x10_fw20.json"},
        {"rsu", "os2.pcap", "lidar/ouster/OS-2-128-U1_v2.3.0_1024x10.pcap"},
        {"rsu", "sensor-meta.json", "lidar/ouster/OS-2-128-U1_v2.3.0_1024x10.json"},
        {"obu", "drive.log", "v2x/us/jpo-ode/data/bsmLogDuringEvent.bin"},
    };
    mkdir(dir.c_str(), 0755);
    for (const Link &l : links) {
        mkdir((dir + "/" + l.agent).c_str(), 0755);
        ASSERT_EQ(symlink((ds + "/" + l.target).c_str(),
                          (dir + "/" + l.agent + "/" + l.name).c_str()), 0) << l.name;
    }
    Report rep;
    vxs_manifest_draft_t *d = nullptr;
    char err[256];
    ASSERT_EQ(vxs_draft_scan(&d, dir.c_str(), &rep.r, err, sizeof err), VXS_OK) << err;
    ASSERT_EQ(d->n_agents, 3u);

    const vxs_draft_source_t *velo = SourceOfKind(AgentById(d, "car"), VXS_SOURCE_LIDAR);
    ASSERT_NE(velo, nullptr);
    EXPECT_EQ(Opt(velo->model), "VLP-16");
    EXPECT_TRUE(velo->has_gps_locked);
    EXPECT_TRUE(velo->gps_locked);
    EXPECT_EQ(Opt(velo->calibration), "car/laser-table.yaml");
    EXPECT_EQ(rep.skipped[dir + "/car/other-table.yaml"].what, "unused");

    const vxs_draft_agent_t *rsu = AgentById(d, "rsu");
    ASSERT_NE(rsu, nullptr);
    EXPECT_EQ(rsu->type, VXS_AGENT_RSU);
    const vxs_draft_source_t *os2 = SourceOfKind(rsu, VXS_SOURCE_LIDAR, 0);
    const vxs_draft_source_t *os1 = SourceOfKind(rsu, VXS_SOURCE_LIDAR, 1);
    ASSERT_TRUE(os1 && os2);
    EXPECT_EQ(Opt(os2->path), "rsu/os2.pcap"); // name order
    EXPECT_EQ(Opt(os2->metadata), "rsu/sensor-meta.json");
    EXPECT_EQ(Opt(os1->metadata), "rsu/scan.json");
    EXPECT_FALSE(os1->has_gps_locked);

    const vxs_draft_source_t *log = SourceOfKind(AgentById(d, "obu"), VXS_SOURCE_V2X);
    ASSERT_NE(log, nullptr);
    EXPECT_EQ(log->v2x_format, VXS_MANIFEST_V2X_WYDOT);
    ASSERT_TRUE(log->has_own_station_id);
    EXPECT_EQ(log->own_station_id, 0x31325433u); // tests/cli/init_cli_test.cc: jpo-ode's decode
    vxs_manifest_draft_free(d);
}

// The camera's sidecar under every name rigs give it (synth --sidecar-names: the pattern is the
// seed mod 5, the stem (seed / 5) mod 3): found, and no note about it.
TEST(DraftScan, SidecarUnderEveryRigName) {
    for (int seed : {10, 6, 2, 13, 4}) { // .timestamps.txt, _timestamps.txt, timestamps.txt, .txt,
                                         // .csv; stems front, camera_front, camera, front, camera
        SCOPED_TRACE(seed);
        const std::string drive =
            SynthDrive("--seed " + std::to_string(seed) + " --duration 2 --sidecar-names");
        vxs_manifest_t *gen = nullptr;
        char merr[VXS_MANIFEST_ERR_LEN], err[256];
        ASSERT_EQ(vxs_manifest_load(&gen, (drive + "/scenario.json").c_str(), merr, sizeof merr),
                  VXS_OK) << merr;
        const vxs_manifest_source_t *gcam = nullptr;
        for (size_t i = 0; i < gen->n_agents; i++)
            for (size_t k = 0; k < gen->agents[i].n_sources; k++)
                if (gen->agents[i].sources[k].kind == VXS_SOURCE_CAMERA)
                    gcam = &gen->agents[i].sources[k];
        ASSERT_NE(gcam, nullptr);
        ASSERT_NE(gcam->timestamps, nullptr);
        Report rep;
        vxs_manifest_draft_t *d = nullptr;
        ASSERT_EQ(vxs_draft_scan(&d, drive.c_str(), &rep.r, err, sizeof err), VXS_OK) << err;
        const vxs_draft_source_t *cam = SourceOfKind(AgentById(d, "ego"), VXS_SOURCE_CAMERA);
        ASSERT_NE(cam, nullptr);
        EXPECT_EQ(drive + "/" + Opt(cam->path), gcam->path);
        EXPECT_EQ(drive + "/" + Opt(cam->timestamps), gcam->timestamps);
        EXPECT_FALSE(rep.Noted("timestamp")) << rep.notes.size();
        vxs_manifest_draft_free(d);
        vxs_manifest_free(gen);
    }
}

// Candidates are taken in a fixed order (exact stem first, the folder's timestamps.txt last); a
// second that fits is noted and skipped; a CSV with a header is read as the camera reader reads
// it; a file named like a sidecar that is none is skipped with the sidecar's error.
TEST(DraftScan, SidecarChoiceIsInOrderAndSaid) {
    const std::string drive = CopyDrive(1);
    const std::string ego = drive + "/ego";
    std::vector<uint8_t> ts = vxs_test::ReadFile(ego + "/camera.timestamps");
    const std::string text(ts.begin(), ts.end());
    size_t frames = 0;
    for (char ch : text) frames += ch == '\n';
    ASSERT_GT(frames, 2u);
    ASSERT_TRUE(vxs_test::WriteFile(ego + "/timestamps.txt", ts));
    char err[256];
    {
        Report rep;
        vxs_manifest_draft_t *d = nullptr;
        ASSERT_EQ(vxs_draft_scan(&d, drive.c_str(), &rep.r, err, sizeof err), VXS_OK) << err;
        const vxs_draft_source_t *cam = SourceOfKind(AgentById(d, "ego"), VXS_SOURCE_CAMERA);
        ASSERT_NE(cam, nullptr);
        EXPECT_EQ(Opt(cam->timestamps), "ego/camera.timestamps");
        EXPECT_TRUE(rep.Noted(ego + "/timestamps.txt: " + std::to_string(frames) +
                              " timestamp lines, one per frame of " + ego + "/camera.mp4 too, "
                              "but camera.timestamps comes first"));
        EXPECT_EQ(rep.skipped[ego + "/timestamps.txt"].what, "unrecognised");
        EXPECT_EQ(rep.skipped[ego + "/timestamps.txt"].detail,
                  "one line per frame of the video camera.mp4, whose timestamps are "
                  "camera.timestamps");
        vxs_manifest_draft_free(d);
    }
    // A rig's CSV: a header naming the column, the frame number first. And a camera.txt that is
    // no sidecar at all.
    std::string csv = "frame,timestamp_ns\n";
    size_t at = 0;
    for (size_t i = 0; i < frames; i++) {
        size_t nl = text.find('\n', at);
        csv += std::to_string(i) + "," + text.substr(at, nl - at) + "\n";
        at = nl + 1;
    }
    ASSERT_EQ(unlink((ego + "/camera.timestamps").c_str()), 0);
    ASSERT_TRUE(vxs_test::WriteFile(ego + "/camera.csv", std::vector<uint8_t>(csv.begin(),
                                                                              csv.end())));
    const std::string hello = "hello\n";
    ASSERT_TRUE(vxs_test::WriteFile(ego + "/camera.txt", std::vector<uint8_t>(hello.begin(),
                                                                              hello.end())));
    Report rep;
    vxs_manifest_draft_t *d = nullptr;
    ASSERT_EQ(vxs_draft_scan(&d, drive.c_str(), &rep.r, err, sizeof err), VXS_OK) << err;
    const vxs_draft_source_t *cam = SourceOfKind(AgentById(d, "ego"), VXS_SOURCE_CAMERA);
    ASSERT_NE(cam, nullptr);
    EXPECT_EQ(Opt(cam->timestamps), "ego/camera.csv");
    EXPECT_TRUE(rep.Noted(ego + "/timestamps.txt: " + std::to_string(frames) +
                          " timestamp lines, one per frame of " + ego + "/camera.mp4 too, but "
                          "camera.csv comes first"));
    const Skip &txt = rep.skipped[ego + "/camera.txt"];
    EXPECT_EQ(txt.what, "unrecognised");
    EXPECT_EQ(txt.detail.rfind("as the timestamps of the video camera.mp4: " + ego +
                               "/camera.txt: line 1: \"hello\" is neither", 0), 0u) << txt.detail;
    vxs_manifest_draft_free(d);
}

// GenOwn reads the generator's manifest: agent id -> own_station_id and own MACs.
std::map<std::string, std::pair<uint32_t, std::vector<std::string>>> GenOwn(
    const std::string &drive) {
    std::map<std::string, std::pair<uint32_t, std::vector<std::string>>> own;
    vxs_manifest_t *gen = nullptr;
    char merr[VXS_MANIFEST_ERR_LEN];
    EXPECT_EQ(vxs_manifest_load(&gen, (drive + "/scenario.json").c_str(), merr, sizeof merr),
              VXS_OK) << merr;
    for (size_t i = 0; gen && i < gen->n_agents; i++)
        for (size_t k = 0; k < gen->agents[i].n_sources; k++) {
            const vxs_manifest_source_t &s = gen->agents[i].sources[k];
            if (s.kind != VXS_SOURCE_V2X) continue;
            auto &o = own[gen->agents[i].id];
            o.first = s.own_station_id;
            for (size_t m = 0; m < s.n_own_macs; m++)
                o.second.push_back(std::string(reinterpret_cast<const char *>(s.own_macs[m]), 6));
        }
    vxs_manifest_free(gen);
    return own;
}

// A receive-only RSU hears its neighbours on links whose latency floors differ by milliseconds:
// the one it hears best has the lowest latency, as an own station would. The other captures show
// it only received that station (they hold messages of it the RSU lacks): no id, and a note
// naming the file and why. Every agent that sends keeps its own id and MAC.
TEST(DraftScan, ReceiveOnlyAgentGetsNoStationId) {
    for (const char *profile : {"etsi", "mixed"}) {
        SCOPED_TRACE(profile);
        const std::string drive = SynthDrive(std::string("--seed 2 --duration 20 --profile ") +
                                             profile + " --realism rx-only,link-floors");
        auto own = GenOwn(drive);
        Report rep;
        vxs_manifest_draft_t *d = nullptr;
        char err[256];
        ASSERT_EQ(vxs_draft_scan(&d, drive.c_str(), &rep.r, err, sizeof err), VXS_OK) << err;
        for (const char *id : {"ego", "vehicle2", "phone", "rsu"}) {
            SCOPED_TRACE(id);
            const vxs_draft_source_t *v = SourceOfKind(AgentById(d, id), VXS_SOURCE_V2X);
            ASSERT_NE(v, nullptr);
            if (std::string(id) == "rsu") {
                EXPECT_FALSE(v->has_own_station_id) << v->own_station_id;
                EXPECT_EQ(v->n_own_macs, 0u);
                continue;
            }
            ASSERT_TRUE(v->has_own_station_id);
            EXPECT_EQ(v->own_station_id, own[id].first);
            ASSERT_EQ(v->n_own_macs, own[id].second.size());
            for (size_t m = 0; m < v->n_own_macs; m++)
                EXPECT_EQ(std::string(reinterpret_cast<const char *>(v->own_macs[m]), 6),
                          own[id].second[m]);
        }
        // seed 2: the RSU hears the ego best; the ego's capture holds ego messages it lacks
        EXPECT_TRUE(rep.Noted(drive + "/rsu/v2x.pcap: own station not recognised (sender " +
                              std::to_string(own["ego"].first) + " has the lowest latency, but " +
                              drive + "/ego/v2x.pcap holds "));
        vxs_manifest_draft_free(d);
    }
}

// A capture alone cannot tell its own station from the neighbour it hears best: an agent folder
// with no other agent's capture to compare with gets no id, and two agent folders holding the
// same capture cannot tell which of them sent it.
TEST(DraftScan, OwnStationNeedsAnotherAgentsCapture) {
    const std::string src = Drive(3), dir = vxs_test::TempDir() + "/alone";
    mkdir(dir.c_str(), 0755);
    mkdir((dir + "/ego").c_str(), 0755);
    ASSERT_EQ(symlink((src + "/ego/v2x.pcap").c_str(), (dir + "/ego/v2x.pcap").c_str()), 0);
    char err[256];
    {
        Report rep;
        vxs_manifest_draft_t *d = nullptr;
        ASSERT_EQ(vxs_draft_scan(&d, dir.c_str(), &rep.r, err, sizeof err), VXS_OK) << err;
        EXPECT_FALSE(d->agents[0].sources[0].has_own_station_id);
        EXPECT_TRUE(rep.Noted(dir + "/ego/v2x.pcap: own station not recognised (sender 1001 has "
                              "the lowest latency, but no other agent's capture holds 10 of its "
                              "messages"));
        vxs_manifest_draft_free(d);
    }
    mkdir((dir + "/copy").c_str(), 0755);
    ASSERT_EQ(symlink((src + "/ego/v2x.pcap").c_str(), (dir + "/copy/v2x.pcap").c_str()), 0);
    Report rep;
    vxs_manifest_draft_t *d = nullptr;
    ASSERT_EQ(vxs_draft_scan(&d, dir.c_str(), &rep.r, err, sizeof err), VXS_OK) << err;
    ASSERT_EQ(d->n_agents, 2u);
    EXPECT_FALSE(d->agents[0].sources[0].has_own_station_id);
    EXPECT_FALSE(d->agents[1].sources[0].has_own_station_id);
    EXPECT_TRUE(rep.Noted(dir + "/copy/v2x.pcap: own station not recognised (sender 1001 has the "
                          "lowest latency here and in " + dir + "/ego/v2x.pcap"));
    EXPECT_TRUE(rep.Noted(dir + "/ego/v2x.pcap: own station not recognised (sender 1001 has the "
                          "lowest latency here and in " + dir + "/copy/v2x.pcap"));
    vxs_manifest_draft_free(d);
}

// A station another agent's log marks as sent is never this capture's own, however low its
// latency here. The Wyoming log marks its BSMs sent; a hex log of the same messages (as another
// agent's radio would log them: the log's station 1 ms after its log time, the neighbour 5 ms
// after its generation) claims the log's station by latency and loses it to the log.
TEST(DraftScan, StationMarkedSentElsewhereIsNotClaimed) {
    VXS_SHARED_OR_SKIP(bin, "datasets/v2x/us/jpo-ode/data/bsmLogDuringEvent.bin");
    const std::string dir = vxs_test::TempDir() + "/marked";
    mkdir(dir.c_str(), 0755);
    mkdir((dir + "/obu").c_str(), 0755);
    mkdir((dir + "/rx").c_str(), 0755);
    ASSERT_EQ(symlink(bin.c_str(), (dir + "/obu/drive.log").c_str()), 0);
    const std::vector<uint8_t> log = vxs_test::ReadFile(bin);
    std::string hex;
    size_t pos = 0;
    vxs_wydot_record_t rec;
    while (vxs_wydot_next(&rec, &pos, log.data(), log.size()) == VXS_OK) {
        // sent: generated at its log time; received: the neighbour's secMark runs 100 ms ahead
        const int64_t t = rec.log_time + (rec.direction == 0 ? 1000000 : 105000000);
        char stamp[64];
        std::snprintf(stamp, sizeof stamp, "%lld.%09lld ", (long long)(t / 1000000000),
                      (long long)(t % 1000000000));
        hex += stamp;
        for (size_t i = 0; i < rec.payload_len; i++) {
            char b[3];
            std::snprintf(b, sizeof b, "%02x", rec.payload[i]);
            hex += b;
        }
        hex += "\n";
    }
    ASSERT_GT(hex.size(), 1000u);
    ASSERT_TRUE(vxs_test::WriteFile(dir + "/rx/radio.hex", std::vector<uint8_t>(hex.begin(),
                                                                                hex.end())));
    Report rep;
    vxs_manifest_draft_t *d = nullptr;
    char err[256];
    ASSERT_EQ(vxs_draft_scan(&d, dir.c_str(), &rep.r, err, sizeof err), VXS_OK) << err;
    const vxs_draft_source_t *obu = SourceOfKind(AgentById(d, "obu"), VXS_SOURCE_V2X);
    const vxs_draft_source_t *rx = SourceOfKind(AgentById(d, "rx"), VXS_SOURCE_V2X);
    ASSERT_TRUE(obu && rx);
    EXPECT_EQ(rx->v2x_format, VXS_MANIFEST_V2X_HEX);
    ASSERT_TRUE(obu->has_own_station_id);
    EXPECT_EQ(obu->own_station_id, 0x31325433u);
    EXPECT_FALSE(rx->has_own_station_id);
    EXPECT_TRUE(rep.Noted(dir + "/rx/radio.hex: own station not recognised (sender 825381939 has "
                          "the lowest latency, but " + dir + "/obu/drive.log marks its messages "
                          "as sent"));
    vxs_manifest_draft_free(d);
}

// Every allocation failure ends the scan with VXS_E_NOMEM and nothing half-drafted; with enough
// memory the draft is the full one.
TEST(DraftScan, AllocationFailureIsNoMem) {
    const std::string src = Drive(1), dir = vxs_test::TempDir() + "/small";
    // Small enough to fail at every allocation: a camera with its sidecar, a V2X capture, junk.
    mkdir(dir.c_str(), 0755);
    mkdir((dir + "/ego").c_str(), 0755);
    for (const char *f : {"camera.mp4", "camera.timestamps", "v2x.pcap"})
        ASSERT_EQ(symlink((src + "/ego/" + f).c_str(), (dir + "/ego/" + f).c_str()), 0);
    ASSERT_TRUE(vxs_test::WriteFile(dir + "/ego/notes.txt", std::vector<uint8_t>{'h', '\n'}));
    char err[256];
    vxs_manifest_draft_t *ref = nullptr;
    ASSERT_EQ(vxs_draft_scan(&ref, dir.c_str(), nullptr, err, sizeof err), VXS_OK) << err;
    ASSERT_EQ(ref->n_agents, 1u);
    ASSERT_EQ(ref->agents[0].n_sources, 2u);
    EXPECT_EQ(Opt(ref->agents[0].sources[0].timestamps), "ego/camera.timestamps");
    long n = 1;
    for (;; n++) {
        vxs_manifest_draft_t *d = nullptr;
        vxs_status_t st;
        bool failed;
        {
            vxs_test::FailAllocAfter fail(n);
            st = vxs_draft_scan(&d, dir.c_str(), nullptr, err, sizeof err);
            failed = vxs_test::FailAllocAfter::Failed();
        }
        if (failed) {
            ASSERT_EQ(st, VXS_E_NOMEM) << "allocation " << n << ": " << err;
            EXPECT_EQ(d, nullptr);
            EXPECT_STREQ(err, "out of memory");
            continue;
        }
        ASSERT_EQ(st, VXS_OK) << err;
        ASSERT_EQ(d->n_agents, 1u);
        const vxs_draft_agent_t *a = &d->agents[0], *ra = &ref->agents[0];
        ASSERT_EQ(a->n_sources, ra->n_sources);
        for (size_t k = 0; k < a->n_sources; k++) {
            EXPECT_EQ(Opt(a->sources[k].path), Opt(ra->sources[k].path));
            EXPECT_EQ(Opt(a->sources[k].timestamps), Opt(ra->sources[k].timestamps));
            EXPECT_EQ(a->sources[k].has_own_station_id, ra->sources[k].has_own_station_id);
            EXPECT_EQ(a->sources[k].own_station_id, ra->sources[k].own_station_id);
        }
        vxs_manifest_draft_free(d);
        break;
    }
    EXPECT_GT(n, 10);
    vxs_manifest_draft_free(ref);
}

} // namespace
