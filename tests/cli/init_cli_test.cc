// `v2xsync init DIR` end to end: a synthetic drive's folder drafted back into the manifest the
// generator wrote, real recordings recognised by content (symlinked, never copied), refusals and
// exit codes.
#include <jansson.h>
#include <limits.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cctype>
#include <cstdlib>
#include <map>
#include <string>

#include "test_util.h"
#include "vxs_manifest.h"

namespace {

using vxs_test::Cli;

// RunCli runs `v2xsync ARGS`; stdout goes to *out, stderr to *err (when err is not NULL).
int RunCli(const std::string &args, std::string *out, std::string *err = nullptr) {
    if (!err) return vxs_test::Run("'" + Cli() + "' " + args + " 2>/dev/null", out);
    const std::string errfile = vxs_test::TempDir() + "/stderr";
    int rc = vxs_test::Run("'" + Cli() + "' " + args + " 2>'" + errfile + "'", out);
    std::vector<uint8_t> e = vxs_test::ReadFile(errfile);
    err->assign(e.begin(), e.end());
    return rc;
}

// Listing: every entry under `dir` with its type, size and modification time, sorted, so any
// file written, removed or touched shows up as a difference.
std::string Listing(const std::string &dir) {
    std::string out;
    vxs_test::Run("cd '" + dir + "' && find . -printf '%p %y %s %T@\\n' | LC_ALL=C sort", &out);
    return out;
}

json_t *LoadJson(const std::string &path) {
    json_error_t e;
    json_t *j = json_load_file(path.c_str(), 0, &e);
    EXPECT_NE(j, nullptr) << path << ": " << e.text;
    return j;
}

std::string Str(json_t *o, const char *key) {
    const char *s = json_string_value(json_object_get(o, key));
    return s ? s : "";
}

// Resolve turns a manifest path (relative to the manifest's folder, or absolute) into the real
// path of the file, so two manifests written in different folders can be compared.
std::string Resolve(const std::string &manifest_dir, const std::string &p) {
    std::string full = !p.empty() && p[0] == '/' ? p : manifest_dir + "/" + p;
    char buf[PATH_MAX];
    return realpath(full.c_str(), buf) ? std::string(buf) : "(missing) " + full;
}

json_t *AgentById(json_t *manifest, const std::string &id) {
    size_t i;
    json_t *a;
    json_array_foreach(json_object_get(manifest, "agents"), i, a) if (Str(a, "id") == id) return a;
    return nullptr;
}

json_t *SourceOfKind(json_t *agent, const std::string &kind, int nth = 0) {
    size_t i;
    json_t *s;
    json_array_foreach(json_object_get(agent, "sources"), i, s) {
        if (Str(s, "kind") == kind && nth-- == 0) return s;
    }
    return nullptr;
}

// Scalar renders an optional JSON value for comparison ("(absent)" when missing).
std::string Scalar(json_t *v) {
    if (!v) return "(absent)";
    char *s = json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT);
    std::string r = s ? s : "";
    free(s);
    return r;
}

TEST(InitCli, HelpExplainsTheRules) {
    std::string out;
    ASSERT_EQ(RunCli("init --help", &out), 0);
    for (const char *s : {"--out", "--force", "--json", "--quiet", "gps_locked", "own_station_id",
                          "0.2 ms", "_timestamps.txt", "receive-only", "not in an agent folder",
                          "Example:", "Exit status"})
        EXPECT_NE(out.find(s), std::string::npos) << s;
    ASSERT_EQ(RunCli("--help", &out), 0);
    EXPECT_NE(out.find("init"), std::string::npos);
}

// The generator writes a drive and the manifest that describes it: `init` must find the same
// sources, models, clock locks, sidecars and own V2X identities from the files alone.
TEST(InitCli, SyntheticDriveGivesTheGeneratorsManifest) {
    const std::string drive = vxs_test::TempDir() + "/drive";
    const std::string outdir = vxs_test::TempDir(); // outside the drive
    std::string out, err;
    ASSERT_EQ(RunCli("synth -q --duration 3 --out '" + drive + "'", &out), 0) << out;
    const std::string before = Listing(drive);
    const std::string draft_path = outdir + "/draft.json";
    ASSERT_EQ(RunCli("init '" + drive + "' -o '" + draft_path + "'", &out, &err), 0) << err;
    EXPECT_EQ(Listing(drive), before) << "init wrote into its input folder";
    std::string left;
    vxs_test::Run("ls -A '" + outdir + "'", &left);
    EXPECT_EQ(left, "draft.json\n") << "no temporary file may be left behind";
    // The two files directly in the drive folder are reported, not taken as an agent.
    EXPECT_NE(err.find(drive + "/scenario.json: not in an agent folder, skipped"),
              std::string::npos) << err;
    EXPECT_NE(err.find(drive + "/truth.json: not in an agent folder, skipped"), std::string::npos);

    json_t *draft = LoadJson(draft_path), *gen = LoadJson(drive + "/scenario.json");
    json_t *truth = LoadJson(drive + "/truth.json");
    ASSERT_TRUE(draft && gen && truth);
    EXPECT_EQ(json_integer_value(json_object_get(draft, "version")), 1);

    // Messages each agent sent, from the generator's truth: the own-identity rule needs 10.
    std::map<std::string, int> sent;
    size_t i;
    json_t *m;
    json_array_foreach(json_object_get(truth, "messages"), i, m) sent[Str(m, "sender")]++;

    json_t *ga;
    size_t n_gen = json_array_size(json_object_get(gen, "agents"));
    EXPECT_EQ(json_array_size(json_object_get(draft, "agents")), n_gen);
    json_array_foreach(json_object_get(gen, "agents"), i, ga) {
        const std::string id = Str(ga, "id");
        SCOPED_TRACE(id);
        json_t *da = AgentById(draft, id);
        ASSERT_NE(da, nullptr);
        EXPECT_EQ(Str(da, "type"), Str(ga, "type")); // ego, vehicle2: vehicle; rsu; phone: vru
        EXPECT_EQ(json_array_size(json_object_get(da, "sources")),
                  json_array_size(json_object_get(ga, "sources")));
        size_t k;
        json_t *gs;
        json_array_foreach(json_object_get(ga, "sources"), k, gs) {
            const std::string kind = Str(gs, "kind");
            SCOPED_TRACE(kind);
            json_t *ds = SourceOfKind(da, kind);
            ASSERT_NE(ds, nullptr);
            EXPECT_EQ(Resolve(outdir, Str(ds, "path")), Resolve(drive, Str(gs, "path")));
            EXPECT_EQ(Str(ds, "sensor"), Str(gs, "sensor"));
            EXPECT_EQ(Scalar(json_object_get(ds, "model")), Scalar(json_object_get(gs, "model")));
            EXPECT_EQ(Scalar(json_object_get(json_object_get(ds, "clock"), "gps_locked")),
                      Scalar(json_object_get(json_object_get(gs, "clock"), "gps_locked")));
            if (json_object_get(gs, "timestamps"))
                EXPECT_EQ(Resolve(outdir, Str(ds, "timestamps")),
                          Resolve(drive, Str(gs, "timestamps")));
            else
                EXPECT_EQ(json_object_get(ds, "timestamps"), nullptr);
            if (kind != "v2x") continue;
            EXPECT_EQ(Str(ds, "format"), "pcap");
            if (sent[id] >= 10) {
                EXPECT_EQ(Scalar(json_object_get(ds, "own_station_id")),
                          Scalar(json_object_get(gs, "own_station_id")));
                EXPECT_EQ(Scalar(json_object_get(ds, "own_macs")),
                          Scalar(json_object_get(gs, "own_macs")));
            } else {
                // Too few messages of its own to be sure (the roadside unit sends a CAM and a
                // DENM a second): left out, and said so.
                EXPECT_EQ(json_object_get(ds, "own_station_id"), nullptr);
                EXPECT_EQ(json_object_get(ds, "own_macs"), nullptr);
                EXPECT_NE(err.find(id + "/v2x.pcap: own station not recognised"),
                          std::string::npos) << err;
            }
        }
    }
    EXPECT_EQ(Scalar(json_object_get(draft, "reference")),
              Scalar(json_object_get(gen, "reference")));
    json_decref(draft);
    json_decref(gen);
    json_decref(truth);

    vxs_manifest_t *mf = nullptr;
    char merr[VXS_MANIFEST_ERR_LEN];
    ASSERT_EQ(vxs_manifest_load(&mf, draft_path.c_str(), merr, sizeof merr), VXS_OK) << merr;
    EXPECT_EQ(mf->n_agents, n_gen);
    vxs_manifest_free(mf);
}

// own_id_from_decodes returns the most frequent BSM id of the sent ("EV") records in jpo-ode's
// JSON decode of the Wyoming log (concatenated JSON documents), as the big-endian integer.
long long OwnIdFromDecodes(const std::string &path) {
    std::vector<uint8_t> b = vxs_test::ReadFile(path);
    std::map<std::string, int> count;
    size_t pos = 0;
    while (pos < b.size()) {
        while (pos < b.size() && isspace(b[pos])) pos++;
        if (pos >= b.size()) break;
        json_error_t e;
        json_t *o = json_loadb(reinterpret_cast<const char *>(b.data()) + pos, b.size() - pos,
                               JSON_DISABLE_EOF_CHECK, &e);
        if (!o) {
            ADD_FAILURE() << path << ": " << e.text;
            break;
        }
        pos += e.position;
        json_t *core = json_object_get(
            json_object_get(json_object_get(json_object_get(o, "payload"), "data"), "coreData"),
            "id");
        if (Str(json_object_get(o, "metadata"), "bsmSource") == "EV" && json_is_string(core))
            count[json_string_value(core)]++;
        json_decref(o);
    }
    std::string best;
    for (const auto &kv : count)
        if (best.empty() || kv.second > count[best]) best = kv.first;
    return best.empty() ? -1 : std::stoll(best, nullptr, 16);
}

// Real recordings, under names that say nothing about what they are: the content decides.
TEST(InitCli, RealRecordingsAreRecognisedByContent) {
    VXS_SHARED_OR_SKIP(ds, "datasets");
    const std::string dir = vxs_test::TempDir() + "/rec", outdir = vxs_test::TempDir();
    struct Link {
        const char *agent, *name, *target;
    } links[] = {
        {"car", "capture.bin", "lidar/velodyne/mrpt_vlp16_gps.pcap"},
        {"car", "laser-table.yaml", "lidar/calib/velodyne/VLP16.yaml"},
        {"car", "front.mp4", "camera/phone_vfr_1080p.mp4"},
        {"RSU-north", "scan.pcap", "lidar/ouster/OS-1-64_1024x10_fw20.pcap"},
        {"RSU-north", "scan.json", "lidar/ouster/OS-1-64_1024x10_fw20.json"},
        {"RSU-north", "os2.pcap", "lidar/ouster/OS-2-128-U1_v2.3.0_1024x10.pcap"},
        {"RSU-north", "sensor-meta.json", "lidar/ouster/OS-2-128-U1_v2.3.0_1024x10.json"},
        {"obu", "drive.log", "v2x/us/jpo-ode/data/bsmLogDuringEvent.bin"},
        {"obu", "radio.cap", "v2x/us/wydot_bsm_wsmp_rewrapped.pcap"},
    };
    for (const Link &l : links) {
        const std::string folder = dir + "/" + l.agent;
        mkdir(dir.c_str(), 0755);
        mkdir(folder.c_str(), 0755);
        ASSERT_EQ(symlink((ds + "/" + l.target).c_str(), (folder + "/" + l.name).c_str()), 0)
            << l.name;
    }
    ASSERT_TRUE(vxs_test::WriteFile(dir + "/car/README.txt",
                                    std::vector<uint8_t>{'d', 'r', 'i', 'v', 'e', '\n'}));
    const std::string before = Listing(dir), draft_path = outdir + "/scenario.json";
    std::string out, err;
    ASSERT_EQ(RunCli("init --json -o '" + draft_path + "' '" + dir + "'", &out, &err), 0) << err;
    EXPECT_EQ(Listing(dir), before);
    json_error_t je;
    json_t *doc = json_loads(out.c_str(), 0, &je);
    ASSERT_NE(doc, nullptr) << je.text << "\n" << out;
    json_t *draft = LoadJson(draft_path);
    ASSERT_NE(draft, nullptr);
    // --json carries the manifest that was written.
    EXPECT_TRUE(json_equal(json_object_get(doc, "manifest"), draft));

    // SOURCES.md: VLP-16 (product 0x22) with position packets showing PPS locked and $GPRMC.
    json_t *car = AgentById(draft, "car");
    ASSERT_NE(car, nullptr);
    EXPECT_EQ(Str(car, "type"), "vehicle");
    json_t *velo = SourceOfKind(car, "lidar");
    ASSERT_NE(velo, nullptr);
    EXPECT_EQ(Resolve(outdir, Str(velo, "path")), Resolve(dir, "car/capture.bin"));
    EXPECT_EQ(Str(velo, "model"), "VLP-16");
    EXPECT_TRUE(json_is_true(json_object_get(json_object_get(velo, "clock"), "gps_locked")));
    EXPECT_EQ(Resolve(outdir, Str(velo, "calibration")), Resolve(dir, "car/laser-table.yaml"));
    json_t *cam = SourceOfKind(car, "camera");
    ASSERT_NE(cam, nullptr);
    EXPECT_EQ(Resolve(outdir, Str(cam, "path")), Resolve(dir, "car/front.mp4"));
    EXPECT_EQ(json_object_get(cam, "timestamps"), nullptr);
    EXPECT_EQ(json_array_size(json_object_get(car, "sources")), 2u);

    // Two Ouster sensors: one metadata file by name, the other by content (packet size).
    json_t *rsu = AgentById(draft, "RSU-north");
    ASSERT_NE(rsu, nullptr);
    EXPECT_EQ(Str(rsu, "type"), "rsu");
    json_t *os2 = SourceOfKind(rsu, "lidar", 0), *os1 = SourceOfKind(rsu, "lidar", 1);
    ASSERT_TRUE(os1 && os2);
    EXPECT_EQ(Str(os2, "sensor"), "lidar"); // files in name order: os2.pcap before scan.pcap
    EXPECT_EQ(Str(os1, "sensor"), "lidar2");
    EXPECT_EQ(Resolve(outdir, Str(os2, "path")), Resolve(dir, "RSU-north/os2.pcap"));
    EXPECT_EQ(Resolve(outdir, Str(os2, "metadata")), Resolve(dir, "RSU-north/sensor-meta.json"));
    EXPECT_EQ(Resolve(outdir, Str(os1, "path")), Resolve(dir, "RSU-north/scan.pcap"));
    EXPECT_EQ(Resolve(outdir, Str(os1, "metadata")), Resolve(dir, "RSU-north/scan.json"));
    EXPECT_EQ(json_object_get(os1, "clock"), nullptr);

    // The Wyoming log marks its sent records: own id = the sent BSMs' id in jpo-ode's decode.
    json_t *obu = AgentById(draft, "obu");
    ASSERT_NE(obu, nullptr);
    json_t *v2x = SourceOfKind(obu, "v2x");
    ASSERT_NE(v2x, nullptr);
    EXPECT_EQ(Str(v2x, "format"), "wydot");
    long long own = OwnIdFromDecodes(ds + "/v2x/us/jpo-ode/data/bsmLogDuringEvent.json");
    EXPECT_EQ(own, 0x31325433LL);
    EXPECT_EQ(json_integer_value(json_object_get(v2x, "own_station_id")), own);
    // The same messages re-wrapped in a capture say nothing about direction, and the received
    // vehicle's secMark runs 100 ms ahead of the log (SOURCES.md): its median "latency" is the
    // lowest by far more than any air latency, so init must not name it (or anyone) as own.
    json_t *cap = SourceOfKind(obu, "v2x", 1);
    ASSERT_NE(cap, nullptr);
    EXPECT_EQ(Resolve(outdir, Str(cap, "path")), Resolve(dir, "obu/radio.cap"));
    EXPECT_EQ(Str(cap, "format"), "pcap");
    EXPECT_EQ(json_object_get(cap, "own_station_id"), nullptr);
    EXPECT_EQ(json_object_get(cap, "own_macs"), nullptr);
    EXPECT_NE(err.find(dir + "/obu/radio.cap: own station not recognised"), std::string::npos)
        << err;

    // Sorted bytewise, "RSU-north" comes first and has a lidar: it is the reference.
    EXPECT_EQ(Str(json_array_get(json_object_get(draft, "agents"), 0), "id"), "RSU-north");
    json_t *ref = json_object_get(draft, "reference");
    EXPECT_EQ(Str(ref, "agent"), "RSU-north");
    EXPECT_EQ(Str(ref, "sensor"), "lidar");

    // The README is listed as skipped, with why.
    bool listed = false;
    size_t i;
    json_t *s;
    json_array_foreach(json_object_get(doc, "skipped"), i, s) {
        if (Str(s, "path") == dir + "/car/README.txt") {
            listed = true;
            EXPECT_EQ(Str(s, "reason").rfind("unrecognised: ", 0), 0u) << Str(s, "reason");
        }
    }
    EXPECT_TRUE(listed) << out;

    vxs_manifest_t *mf = nullptr;
    char merr[VXS_MANIFEST_ERR_LEN];
    ASSERT_EQ(vxs_manifest_load(&mf, draft_path.c_str(), merr, sizeof merr), VXS_OK) << merr;
    ASSERT_EQ(mf->n_agents, 3u);
    // car's files in name order: capture.bin (the lidar), then front.mp4.
    EXPECT_EQ(mf->agents[1].sources[0].kind, VXS_SOURCE_LIDAR);
    EXPECT_STREQ(mf->agents[1].sources[0].model, "VLP-16");
    EXPECT_TRUE(mf->agents[1].sources[0].clock.gps_locked);
    EXPECT_EQ(mf->agents[1].sources[1].kind, VXS_SOURCE_CAMERA);
    EXPECT_EQ(mf->agents[2].sources[0].v2x_format, VXS_MANIFEST_V2X_WYDOT);
    vxs_manifest_free(mf);
    json_decref(draft);
    json_decref(doc);
}

TEST(InitCli, MissingOrFlatFolderIsAUsageError) {
    std::string out, err;
    const std::string tmp = vxs_test::TempDir();
    EXPECT_EQ(RunCli("init '" + tmp + "/nowhere'", &out, &err), 2);
    EXPECT_NE(err.find(tmp + "/nowhere"), std::string::npos) << err;
    EXPECT_EQ(out, "");

    ASSERT_TRUE(vxs_test::WriteFile(tmp + "/loose.pcap", std::vector<uint8_t>{1, 2, 3}));
    EXPECT_EQ(RunCli("init '" + tmp + "'", &out, &err), 2);
    EXPECT_NE(err.find("no agent folder"), std::string::npos) << err;
    EXPECT_NE(err.find(tmp + "/loose.pcap: not in an agent folder, skipped"), std::string::npos);

    // An agent folder with nothing recognisable: still nothing to draft.
    mkdir((tmp + "/agent").c_str(), 0755);
    ASSERT_TRUE(vxs_test::WriteFile(tmp + "/agent/notes.txt", std::vector<uint8_t>{'x', '\n'}));
    EXPECT_EQ(RunCli("init '" + tmp + "'", &out, &err), 2);
    EXPECT_NE(err.find("no recognised recording"), std::string::npos) << err;

    EXPECT_EQ(RunCli("init", &out, &err), 2);
    EXPECT_NE(err.find("no DIR given"), std::string::npos) << err;
    EXPECT_EQ(RunCli("init '" + tmp + "' '" + tmp + "'", &out, &err), 2);
}

// A synthetic drive plus a stray file and a sidecar that does not fit: both skipped with a
// reason, the run succeeds; output file refusals.
TEST(InitCli, SkipsWhatItCannotUseAndRefusesToOverwrite) {
    const std::string drive = vxs_test::TempDir() + "/drive", outdir = vxs_test::TempDir();
    std::string out, err;
    ASSERT_EQ(RunCli("synth -q --duration 1 --out '" + drive + "'", &out), 0);
    ASSERT_TRUE(vxs_test::WriteFile(drive + "/ego/notes.txt",
                                    std::vector<uint8_t>{'h', 'i', '\n'}));
    // Drop the sidecar's last line: it no longer has one line per frame.
    std::vector<uint8_t> ts = vxs_test::ReadFile(drive + "/ego/camera.timestamps");
    size_t lines = 0;
    for (uint8_t ch : ts) lines += ch == '\n';
    ASSERT_GT(lines, 2u);
    ts.pop_back();
    ts.erase(ts.begin() + static_cast<long>(std::string(ts.begin(), ts.end()).rfind('\n') + 1),
             ts.end());
    ASSERT_TRUE(vxs_test::WriteFile(drive + "/ego/camera.timestamps", ts));
    const std::string short_lines = std::to_string(lines - 1) + " timestamp lines";

    ASSERT_EQ(RunCli("init --json '" + drive + "'", &out, &err), 0) << err;
    json_error_t je;
    json_t *doc = json_loads(out.c_str(), 0, &je);
    ASSERT_NE(doc, nullptr) << je.text;
    std::map<std::string, std::string> skipped;
    size_t i;
    json_t *s;
    json_array_foreach(json_object_get(doc, "skipped"), i, s) skipped[Str(s, "path")] =
        Str(s, "reason");
    EXPECT_EQ(skipped[drive + "/scenario.json"], "not in an agent folder");
    EXPECT_EQ(skipped[drive + "/ego/notes.txt"].rfind("unrecognised: ", 0), 0u)
        << skipped[drive + "/ego/notes.txt"];
    EXPECT_NE(skipped[drive + "/ego/camera.timestamps"].find(short_lines), std::string::npos)
        << skipped[drive + "/ego/camera.timestamps"];
    EXPECT_NE(err.find(drive + "/ego/notes.txt: unrecognised, skipped ("), std::string::npos)
        << err;
    json_t *cam = SourceOfKind(AgentById(json_object_get(doc, "manifest"), "ego"), "camera");
    ASSERT_NE(cam, nullptr);
    EXPECT_EQ(json_object_get(cam, "timestamps"), nullptr);
    // Without -o, paths are relative to DIR.
    EXPECT_EQ(Str(cam, "path"), "ego/camera.mp4");
    json_decref(doc);

    // -o onto an existing file: refused unless --force, and the file is left alone.
    const std::string dest = outdir + "/draft.json";
    ASSERT_TRUE(vxs_test::WriteFile(dest, std::vector<uint8_t>{'k', 'e', 'e', 'p'}));
    EXPECT_EQ(RunCli("init -q '" + drive + "' -o '" + dest + "'", &out, &err), 2);
    EXPECT_NE(err.find("exists"), std::string::npos) << err;
    EXPECT_EQ(vxs_test::ReadFile(dest), (std::vector<uint8_t>{'k', 'e', 'e', 'p'}));
    EXPECT_EQ(RunCli("init -q --force '" + drive + "' -o '" + dest + "'", &out, &err), 0) << err;
    EXPECT_EQ(out, "") << "with -o the manifest goes to the file only";
    vxs_manifest_t *mf = nullptr;
    char merr[VXS_MANIFEST_ERR_LEN];
    ASSERT_EQ(vxs_manifest_load(&mf, dest.c_str(), merr, sizeof merr), VXS_OK) << merr;
    vxs_manifest_free(mf);

    // Never into DIR, not even with --force.
    const std::string before = Listing(drive);
    EXPECT_EQ(RunCli("init --force '" + drive + "' -o '" + drive + "/ego/draft.json'", &out,
                     &err), 2);
    EXPECT_NE(err.find("nothing is written into the input folder"), std::string::npos) << err;
    EXPECT_EQ(Listing(drive), before);
}

} // namespace
