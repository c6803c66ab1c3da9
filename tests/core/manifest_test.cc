// manifest_test.cc: the scenario manifest: a full document field by field, the defaults, the path
// rules, the rotation conversion, allocation failure, and every error with the exact message.
#include <cmath>
#include <cstring>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "test_util.h"
#include "vxs_core.h"
#include "vxs_manifest.h"

namespace {

struct Result {
    vxs_status_t st;
    std::string err;
    vxs_manifest_t *m;
};

Result Parse(const std::string &json, const char *base = "/data/run1") {
    char err[VXS_MANIFEST_ERR_LEN];
    vxs_manifest_t *m = nullptr;
    vxs_status_t st =
        vxs_manifest_parse(&m, json.data(), json.size(), base, "scenario.json", err, sizeof err);
    return {st, err, m};
}

// ParseErr parses a document that must fail and returns "STATUS_NAME|message".
std::string ParseErr(const std::string &json) {
    Result r = Parse(json);
    EXPECT_EQ(r.m, nullptr);
    vxs_manifest_free(r.m);
    return std::string(vxs_status_name(r.st)) + "|" + r.err;
}

// Src wraps the body of one source of agent "ego"; Top adds top-level keys to a minimal manifest.
std::string Src(const std::string &body) {
    return R"({"version": 1, "agents": [{"id": "ego", "sources": [{)" + body + "}]}]}";
}
std::string Top(const std::string &extra) {
    return R"({"version": 1, "agents": [{"id": "ego", "sources": [{"path": "l.pcap", "kind": "lidar"}]}], )" +
           extra + "}";
}
const char kLidar[] = R"("path": "l.pcap", "kind": "lidar", )";
const char kV2x[] = R"("path": "v.pcap", "kind": "v2x", )";
const char kCam[] = R"("path": "c.mp4", "kind": "camera", )";

const char kFull[] = R"({
  "version": 1,
  "name": "intersection-42",
  "agents": [
    {"id": "ego", "type": "vehicle", "sources": [
      {"path": "ego/lidar.pcap", "kind": "lidar", "sensor": "top", "model": "VLP-16",
       "calibration": "cal/vlp16.yaml",
       "extrinsics": {"translation": [0.5, 0, 1.8], "rotation": [1, 0, 0, 0]},
       "clock": {"offset_ns": -1500, "gps_locked": true, "sweep_time": "middle"}},
      {"path": "ego/front.mp4", "kind": "camera", "sensor": "front", "model": "GoPro",
       "calibration": "cal/front.yaml", "timestamps": "ego/front.csv", "creation": "start",
       "extrinsics": {"translation": [1.2, 0, 1.4], "rotation": {"roll_deg": 0, "pitch_deg": 0, "yaw_deg": 90}},
       "clock": {"offset_ns": 2.5e9, "stamp_latency_ms": 8.5}},
      {"path": "./ego//obu.pcap", "kind": "v2x", "format": "pcap", "own_station_id": 305419896,
       "own_macs": ["00:1a:2B:3c:4d:5e", "ff:ff:ff:ff:ff:fe"], "clock": {"gps_locked": true}}
    ]},
    {"id": "car2", "type": "vehicle", "sources": [
      {"path": "/abs/car2/os1.pcap", "kind": "lidar", "model": "OS1-64", "metadata": "car2/os1.json",
       "clock": {"sweep_time": "end"}}]},
    {"id": "rsu_1", "type": "rsu", "pose": {"lat_deg": 41.1, "lon_deg": -104.8, "alt_m": 1850.5, "heading_deg": 270},
     "sources": [
      {"path": "rsu/log.bin", "kind": "v2x", "format": "wydot", "own_station_id": 4294967295}]},
    {"id": "phone.a", "type": "vru", "sources": [
      {"path": "phone/msgs.txt", "kind": "v2x", "format": "hex", "sensor": "app"}]}
  ],
  "reference": {"agent": "ego", "sensor": "top"},
  "frames": {"policy": "fixed_rate", "rate_hz": 10, "match": "approximate", "v2x_window_ms": 500, "v2x_late_ms": 250, "v2x_dropout_intervals": 5,
             "tolerance_ms": {"lidar": 40, "camera": 17.5, "v2x": 0}},
  "export": {"format": "bundle", "out": "out/bundle", "png_level": 3},
  "origin": {"lat_deg": 41.09, "lon_deg": -104.79}
})";

TEST(Manifest, FullDocumentEveryField) {
    Result r = Parse(kFull);
    ASSERT_EQ(r.st, VXS_OK) << r.err;
    EXPECT_EQ(r.err, "");
    const vxs_manifest_t *m = r.m;
    EXPECT_EQ(m->version, 1);
    EXPECT_STREQ(m->name, "intersection-42");
    EXPECT_STREQ(m->base_dir, "/data/run1");
    ASSERT_EQ(m->n_agents, 4u);
    EXPECT_TRUE(m->origin.present);
    EXPECT_EQ(m->origin.lat_deg, 41.09);
    EXPECT_EQ(m->origin.lon_deg, -104.79);
    EXPECT_EQ(m->origin.alt_m, 0.0);
    EXPECT_FALSE(m->agents[0].pose.present);
    EXPECT_TRUE(m->agents[2].pose.present);
    EXPECT_EQ(m->agents[2].pose.alt_m, 1850.5);
    EXPECT_TRUE(m->agents[2].pose.has_heading);
    EXPECT_EQ(m->agents[2].pose.heading_deg, 270.0);

    const vxs_manifest_agent_t &ego = m->agents[0];
    EXPECT_STREQ(ego.id, "ego");
    EXPECT_EQ(ego.type, VXS_AGENT_VEHICLE);
    ASSERT_EQ(ego.n_sources, 3u);
    const vxs_manifest_source_t &l = ego.sources[0];
    EXPECT_STREQ(l.path, "/data/run1/ego/lidar.pcap");
    EXPECT_EQ(l.kind, VXS_SOURCE_LIDAR);
    EXPECT_STREQ(l.sensor, "top");
    EXPECT_STREQ(l.model, "VLP-16");
    EXPECT_STREQ(l.calibration, "/data/run1/cal/vlp16.yaml");
    EXPECT_EQ(l.metadata, nullptr);
    EXPECT_EQ(l.timestamps, nullptr);
    EXPECT_DOUBLE_EQ(l.extrinsics.translation[0], 0.5);
    EXPECT_DOUBLE_EQ(l.extrinsics.translation[1], 0.0);
    EXPECT_DOUBLE_EQ(l.extrinsics.translation[2], 1.8);
    EXPECT_DOUBLE_EQ(l.extrinsics.rotation[0], 1.0);
    EXPECT_DOUBLE_EQ(l.extrinsics.rotation[3], 0.0);
    EXPECT_TRUE(l.clock.has_offset);
    EXPECT_EQ(l.clock.offset_ns, -1500);
    EXPECT_TRUE(l.clock.gps_locked);
    EXPECT_EQ(l.clock.sweep_time, VXS_SWEEP_MIDDLE);

    const vxs_manifest_source_t &c = ego.sources[1];
    EXPECT_STREQ(c.path, "/data/run1/ego/front.mp4");
    EXPECT_EQ(c.kind, VXS_SOURCE_CAMERA);
    EXPECT_STREQ(c.sensor, "front");
    EXPECT_STREQ(c.model, "GoPro");
    EXPECT_STREQ(c.calibration, "/data/run1/cal/front.yaml");
    EXPECT_STREQ(c.timestamps, "/data/run1/ego/front.csv");
    EXPECT_EQ(c.creation, VXS_MANIFEST_CREATION_START);
    EXPECT_DOUBLE_EQ(c.extrinsics.translation[0], 1.2);
    EXPECT_DOUBLE_EQ(c.extrinsics.translation[2], 1.4);
    EXPECT_NEAR(c.extrinsics.rotation[0], std::sqrt(0.5), 1e-12);
    EXPECT_NEAR(c.extrinsics.rotation[3], std::sqrt(0.5), 1e-12);
    EXPECT_TRUE(c.clock.has_offset);
    EXPECT_EQ(c.clock.offset_ns, INT64_C(2500000000));
    EXPECT_FALSE(c.clock.gps_locked);
    EXPECT_EQ(c.clock.sweep_time, VXS_SWEEP_START);
    EXPECT_EQ(c.clock.stamp_latency_ms, 8.5);
    EXPECT_EQ(l.clock.stamp_latency_ms, 0.0);

    const vxs_manifest_source_t &v = ego.sources[2];
    EXPECT_STREQ(v.path, "/data/run1/ego/obu.pcap");
    EXPECT_EQ(v.kind, VXS_SOURCE_V2X);
    EXPECT_STREQ(v.sensor, "v2x");
    EXPECT_EQ(v.model, nullptr);
    EXPECT_EQ(v.v2x_format, VXS_MANIFEST_V2X_PCAP);
    EXPECT_TRUE(v.has_own_station_id);
    EXPECT_EQ(v.own_station_id, 305419896u);
    ASSERT_EQ(v.n_own_macs, 2u);
    const uint8_t mac0[6] = {0x00, 0x1a, 0x2b, 0x3c, 0x4d, 0x5e};
    const uint8_t mac1[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xfe};
    EXPECT_EQ(0, std::memcmp(v.own_macs[0], mac0, 6));
    EXPECT_EQ(0, std::memcmp(v.own_macs[1], mac1, 6));
    EXPECT_FALSE(v.clock.has_offset);
    EXPECT_TRUE(v.clock.gps_locked);

    const vxs_manifest_agent_t &car2 = m->agents[1];
    EXPECT_STREQ(car2.id, "car2");
    ASSERT_EQ(car2.n_sources, 1u);
    EXPECT_STREQ(car2.sources[0].path, "/abs/car2/os1.pcap");
    EXPECT_STREQ(car2.sources[0].model, "OS1-64");
    EXPECT_STREQ(car2.sources[0].metadata, "/data/run1/car2/os1.json");
    EXPECT_STREQ(car2.sources[0].sensor, "lidar");
    EXPECT_EQ(car2.sources[0].clock.sweep_time, VXS_SWEEP_END);

    const vxs_manifest_agent_t &rsu = m->agents[2];
    EXPECT_STREQ(rsu.id, "rsu_1");
    EXPECT_EQ(rsu.type, VXS_AGENT_RSU);
    EXPECT_EQ(rsu.sources[0].v2x_format, VXS_MANIFEST_V2X_WYDOT);
    EXPECT_EQ(rsu.sources[0].own_station_id, 4294967295u);
    EXPECT_EQ(rsu.sources[0].n_own_macs, 0u);
    EXPECT_EQ(rsu.sources[0].own_macs, nullptr);

    const vxs_manifest_agent_t &vru = m->agents[3];
    EXPECT_STREQ(vru.id, "phone.a");
    EXPECT_EQ(vru.type, VXS_AGENT_VRU);
    EXPECT_STREQ(vru.sources[0].sensor, "app");
    EXPECT_EQ(vru.sources[0].v2x_format, VXS_MANIFEST_V2X_HEX);
    EXPECT_FALSE(vru.sources[0].has_own_station_id);

    EXPECT_EQ(m->ref_agent, 0u);
    EXPECT_EQ(m->ref_source, 0u);
    EXPECT_EQ(m->frames.policy, VXS_FRAMES_FIXED_RATE);
    EXPECT_DOUBLE_EQ(m->frames.rate_hz, 10.0);
    EXPECT_DOUBLE_EQ(m->frames.tolerance_ms[VXS_SOURCE_LIDAR], 40.0);
    EXPECT_DOUBLE_EQ(m->frames.tolerance_ms[VXS_SOURCE_CAMERA], 17.5);
    EXPECT_DOUBLE_EQ(m->frames.tolerance_ms[VXS_SOURCE_V2X], 0.0);
    EXPECT_EQ(m->frames.match, VXS_MATCH_POLICY_APPROXIMATE);
    EXPECT_DOUBLE_EQ(m->frames.v2x_window_ms, 500.0);
    EXPECT_DOUBLE_EQ(m->frames.v2x_late_ms, 250.0);
    EXPECT_DOUBLE_EQ(m->frames.v2x_dropout_intervals, 5.0);
    EXPECT_STREQ(m->export_opts.out, "/data/run1/out/bundle");
    EXPECT_EQ(m->export_opts.png_level, 3);
    vxs_manifest_free(r.m);
}

TEST(Manifest, MinimalDocumentDefaults) {
    Result r = Parse(R"({"version": 1, "agents": [{"id": "a", "sources": [{"path": "v.log", "kind": "v2x"}]}]})",
                     nullptr);
    ASSERT_EQ(r.st, VXS_OK) << r.err;
    const vxs_manifest_t *m = r.m;
    EXPECT_STREQ(m->name, "scenario");
    EXPECT_STREQ(m->base_dir, "");
    ASSERT_EQ(m->n_agents, 1u);
    EXPECT_EQ(m->agents[0].type, VXS_AGENT_VEHICLE);
    const vxs_manifest_source_t &s = m->agents[0].sources[0];
    EXPECT_STREQ(s.path, "v.log");
    EXPECT_STREQ(s.sensor, "v2x");
    EXPECT_EQ(s.model, nullptr);
    EXPECT_EQ(s.calibration, nullptr);
    EXPECT_EQ(s.metadata, nullptr);
    EXPECT_EQ(s.timestamps, nullptr);
    for (int i = 0; i < 3; i++) EXPECT_EQ(s.extrinsics.translation[i], 0.0);
    EXPECT_EQ(s.extrinsics.rotation[0], 1.0);
    for (int i = 1; i < 4; i++) EXPECT_EQ(s.extrinsics.rotation[i], 0.0);
    EXPECT_FALSE(s.clock.has_offset);
    EXPECT_EQ(s.clock.offset_ns, 0);
    EXPECT_FALSE(s.clock.gps_locked);
    EXPECT_EQ(s.clock.sweep_time, VXS_SWEEP_START);
    EXPECT_EQ(s.v2x_format, VXS_MANIFEST_V2X_AUTO);
    EXPECT_FALSE(s.has_own_station_id);
    EXPECT_EQ(s.n_own_macs, 0u);
    EXPECT_EQ(s.creation, VXS_MANIFEST_CREATION_END);
    EXPECT_EQ(m->ref_agent, 0u);
    EXPECT_EQ(m->ref_source, 0u);
    EXPECT_EQ(m->frames.policy, VXS_FRAMES_REFERENCE_SENSOR);
    EXPECT_EQ(m->frames.rate_hz, 0.0);
    EXPECT_EQ(m->frames.tolerance_ms[VXS_SOURCE_LIDAR], -1.0); /* half the period */
    EXPECT_EQ(m->frames.tolerance_ms[VXS_SOURCE_CAMERA], -1.0);
    EXPECT_EQ(m->frames.match, VXS_MATCH_POLICY_NEAREST);
    EXPECT_EQ(m->frames.v2x_window_ms, 1000.0);
    EXPECT_EQ(m->frames.v2x_late_ms, 100.0);
    EXPECT_EQ(m->frames.v2x_dropout_intervals, 10.0);
    EXPECT_EQ(m->frames.tolerance_ms[VXS_SOURCE_V2X], 100.0);
    EXPECT_EQ(m->export_opts.out, nullptr);
    EXPECT_EQ(m->export_opts.png_level, 1);
    vxs_manifest_free(r.m);
}

TEST(Manifest, DefaultReferenceIsFirstLidar) {
    Result r = Parse(R"({"version": 1, "agents": [
        {"id": "phone", "type": "vru", "sources": [{"path": "p.txt", "kind": "v2x"}]},
        {"id": "car", "sources": [{"path": "c.mp4", "kind": "camera"}, {"path": "l.pcap", "kind": "lidar"}]}]})");
    ASSERT_EQ(r.st, VXS_OK) << r.err;
    EXPECT_EQ(r.m->ref_agent, 1u);
    EXPECT_EQ(r.m->ref_source, 1u);
    vxs_manifest_free(r.m);
    // Without any lidar: agents[0], its first source. With only "agent": its first lidar.
    r = Parse(R"({"version": 1, "agents": [{"id": "a", "sources": [{"path": "p.txt", "kind": "v2x"}]},
        {"id": "b", "sources": [{"path": "c.mp4", "kind": "camera"}, {"path": "l.pcap", "kind": "lidar"}]}],
        "reference": {"agent": "b"}})");
    ASSERT_EQ(r.st, VXS_OK) << r.err;
    EXPECT_EQ(r.m->ref_agent, 1u);
    EXPECT_EQ(r.m->ref_source, 1u);
    vxs_manifest_free(r.m);
    r = Parse(R"({"version": 1, "agents": [{"id": "a", "sources": [{"path": "p.txt", "kind": "v2x"}]}]})");
    ASSERT_EQ(r.st, VXS_OK) << r.err;
    EXPECT_EQ(r.m->ref_agent, 0u);
    EXPECT_EQ(r.m->ref_source, 0u);
    vxs_manifest_free(r.m);
}

std::string PathOf(const std::string &p, const char *base) {
    Result r = Parse(Src(R"("kind": "lidar", "path": ")" + p + "\""), base);
    std::string out = r.st == VXS_OK ? r.m->agents[0].sources[0].path : "ERR " + r.err;
    vxs_manifest_free(r.m);
    return out;
}

TEST(Manifest, PathRules) {
    EXPECT_EQ(PathOf("a/b.pcap", "/d"), "/d/a/b.pcap");
    EXPECT_EQ(PathOf("a/b.pcap", "/d/"), "/d/a/b.pcap");
    EXPECT_EQ(PathOf("a/b.pcap", "/"), "/a/b.pcap");
    EXPECT_EQ(PathOf("a/b.pcap", "rel/dir"), "rel/dir/a/b.pcap");
    EXPECT_EQ(PathOf("./a/./x/../b.pcap", "/d"), "/d/a/b.pcap");
    EXPECT_EQ(PathOf("a//b.pcap/", "/d"), "/d/a/b.pcap");
    EXPECT_EQ(PathOf("a/..", "/d"), "/d");
    EXPECT_EQ(PathOf("a/..", ""), ".");
    EXPECT_EQ(PathOf("b.pcap", nullptr), "b.pcap");
    EXPECT_EQ(PathOf("/abs/../x.pcap", "/d"), "/abs/../x.pcap"); // absolute: kept as written
    EXPECT_EQ(PathOf("../x.pcap", "/d"),
              "ERR scenario.json: agents[0].sources[0].path: \"../x.pcap\" leaves the manifest's "
              "folder (use an absolute path for files outside it)");
    EXPECT_EQ(PathOf("a/../../x.pcap", "/d"),
              "ERR scenario.json: agents[0].sources[0].path: \"a/../../x.pcap\" leaves the "
              "manifest's folder (use an absolute path for files outside it)");
    EXPECT_EQ(PathOf("..", ""),
              "ERR scenario.json: agents[0].sources[0].path: \"..\" leaves the manifest's folder "
              "(use an absolute path for files outside it)");
}

TEST(Manifest, RollPitchYawToQuaternion) {
    auto quat = [](const std::string &rot) {
        Result r = Parse(Src(std::string(kLidar) + R"("extrinsics": {"rotation": )" + rot + "}"));
        EXPECT_EQ(r.st, VXS_OK) << r.err;
        std::vector<double> q(4, NAN);
        if (r.m) q.assign(r.m->agents[0].sources[0].extrinsics.rotation,
                          r.m->agents[0].sources[0].extrinsics.rotation + 4);
        vxs_manifest_free(r.m);
        return q;
    };
    const double c45 = std::cos(M_PI / 4), s45 = std::sin(M_PI / 4);
    std::vector<double> q = quat(R"({"yaw_deg": 90})");
    EXPECT_NEAR(q[0], c45, 1e-12);
    EXPECT_NEAR(q[1], 0, 1e-12);
    EXPECT_NEAR(q[2], 0, 1e-12);
    EXPECT_NEAR(q[3], s45, 1e-12);
    q = quat(R"({"roll_deg": 90})");
    EXPECT_NEAR(q[0], c45, 1e-12);
    EXPECT_NEAR(q[1], s45, 1e-12);
    q = quat(R"({"pitch_deg": -90})");
    EXPECT_NEAR(q[0], c45, 1e-12);
    EXPECT_NEAR(q[2], -s45, 1e-12);
    // yaw 90 then pitch 90 (R = Rz Ry): q = qz * qy = [1/2, -1/2, 1/2, 1/2].
    q = quat(R"({"pitch_deg": 90, "yaw_deg": 90})");
    EXPECT_NEAR(q[0], 0.5, 1e-12);
    EXPECT_NEAR(q[1], -0.5, 1e-12);
    EXPECT_NEAR(q[2], 0.5, 1e-12);
    EXPECT_NEAR(q[3], 0.5, 1e-12);
    // A quaternion within 1e-6 of unit norm is accepted and renormalised.
    q = quat("[1.0000005, 0, 0, 0]");
    EXPECT_DOUBLE_EQ(q[0], 1.0);
}

TEST(Manifest, LoadJoinsToTheManifestFolder) {
    std::string dir = vxs_test::TempDir();
    ASSERT_FALSE(dir.empty());
    std::string doc = Src(R"("path": "rec/l.pcap", "kind": "lidar")");
    ASSERT_TRUE(vxs_test::WriteFile(dir + "/scenario.json",
                                    std::vector<uint8_t>(doc.begin(), doc.end())));
    char err[VXS_MANIFEST_ERR_LEN];
    vxs_manifest_t *m = nullptr;
    ASSERT_EQ(vxs_manifest_load(&m, (dir + "/scenario.json").c_str(), err, sizeof err), VXS_OK)
        << err;
    EXPECT_EQ(std::string(m->agents[0].sources[0].path), dir + "/rec/l.pcap");
    EXPECT_EQ(std::string(m->base_dir), dir);
    vxs_manifest_free(m);

    std::string bad = Src(R"("path": "../l.pcap", "kind": "lidar")");
    ASSERT_TRUE(vxs_test::WriteFile(dir + "/bad.json", std::vector<uint8_t>(bad.begin(), bad.end())));
    EXPECT_EQ(vxs_manifest_load(&m, (dir + "/bad.json").c_str(), err, sizeof err), VXS_E_MALFORMED);
    EXPECT_EQ(m, nullptr);
    EXPECT_EQ(std::string(err), dir + "/bad.json: agents[0].sources[0].path: \"../l.pcap\" leaves "
                                      "the manifest's folder (use an absolute path for files "
                                      "outside it)");

    EXPECT_EQ(vxs_manifest_load(&m, (dir + "/nope.json").c_str(), err, sizeof err), VXS_E_IO);
    EXPECT_EQ(std::string(err), dir + "/nope.json: cannot open: No such file or directory");
    EXPECT_EQ(vxs_manifest_load(&m, dir.c_str(), err, sizeof err), VXS_E_IO);
    EXPECT_EQ(std::string(err), dir + ": cannot read: Is a directory");
}

TEST(Manifest, AllocationFailureIsNomemWithoutLeaks) {
    const std::string doc = kFull;
    long n = 1;
    for (;; n++) {
        vxs_manifest_t *m = nullptr;
        char err[VXS_MANIFEST_ERR_LEN];
        vxs_status_t st;
        bool failed;
        {
            vxs_test::FailAllocAfter f(n);
            st = vxs_manifest_parse(&m, doc.data(), doc.size(), "/d", "s.json", err, sizeof err);
            failed = vxs_test::FailAllocAfter::Failed();
        }
        if (!failed) {
            ASSERT_EQ(st, VXS_OK) << err;
            vxs_manifest_free(m);
            break;
        }
        EXPECT_EQ(st, VXS_E_NOMEM) << "allocation " << n;
        EXPECT_EQ(m, nullptr);
    }
    EXPECT_GT(n, 30); // every string and array is one allocation
}

TEST(Manifest, FreeAcceptsNullAndNames) {
    vxs_manifest_free(nullptr);
    EXPECT_STREQ(vxs_agent_type_name(VXS_AGENT_RSU), "rsu");
    EXPECT_STREQ(vxs_agent_type_name(static_cast<vxs_agent_type_t>(9)), "unknown");
    EXPECT_STREQ(vxs_source_kind_name(VXS_SOURCE_CAMERA), "camera");
    EXPECT_STREQ(vxs_source_kind_name(VXS_SOURCE_KIND_COUNT), "unknown");
}

// ---- every error, with its exact message ------------------------------------------------------

#define EXPECT_ERR(json, status, msg) EXPECT_EQ(ParseErr(json), std::string(#status "|") + (msg))

TEST(ManifestError, JsonSyntax) {
    EXPECT_ERR("{\"version\": 1,\n  \"agents\": [\n      {\"id\": }", VXS_E_MALFORMED,
               "scenario.json: line 3, column 14: unexpected token near '}'");
    EXPECT_ERR("", VXS_E_MALFORMED,
               "scenario.json: line 1, column 0: '[' or '{' expected near end of file");
}
TEST(ManifestError, DuplicateJsonKey) {
    EXPECT_ERR("{\"version\": 1,\n \"version\": 1}", VXS_E_MALFORMED,
               "scenario.json: line 2, column 10: duplicate object key near '\"version\"'");
}
TEST(ManifestError, TopLevelNotObject) {
    EXPECT_ERR("[1]", VXS_E_MALFORMED,
               "scenario.json: expected an object at the top level, got an array");
}
TEST(ManifestError, UnknownTopLevelKey) {
    EXPECT_ERR(Top(R"("agentz": 1)"), VXS_E_MALFORMED,
               "scenario.json: agentz: unknown key (expected one of: version, name, agents, "
               "reference, frames, export, origin)");
}
TEST(ManifestError, UnknownAgentKey) {
    EXPECT_ERR(R"({"version": 1, "agents": [{"id": "a", "sorces": []}]})", VXS_E_MALFORMED,
               "scenario.json: agents[0].sorces: unknown key (expected one of: id, type, sources, pose)");
    EXPECT_EQ(ParseErr(Top(R"("origin": {"lat_deg": 41})")),
              "VXS_E_MALFORMED|scenario.json: origin: missing required key \"lon_deg\"");
    EXPECT_EQ(ParseErr(Top(R"("origin": {"lat_deg": 91, "lon_deg": 0})")),
              "VXS_E_MALFORMED|scenario.json: origin.lat_deg: expected a number >= -90 and <= 90, got 91");
    EXPECT_EQ(ParseErr(Top(R"("origin": {"lat_deg": 1, "lon_deg": 0, "heading_deg": 3})")),
              "VXS_E_MALFORMED|scenario.json: origin.heading_deg: unknown key (expected one of: "
              "lat_deg, lon_deg, alt_m)");
}
TEST(ManifestError, MissingVersion) {
    EXPECT_ERR(R"({"agents": []})", VXS_E_MALFORMED,
               "scenario.json: missing required key \"version\" (1)");
}
TEST(ManifestError, VersionNotInteger) {
    EXPECT_ERR(R"({"version": "1"})", VXS_E_MALFORMED,
               "scenario.json: version: expected the integer 1, got a string");
}
TEST(ManifestError, VersionUnsupported) {
    EXPECT_ERR(R"({"version": 2})", VXS_E_UNSUPPORTED,
               "scenario.json: version: unsupported version 2 (this v2xsync reads 1)");
}
TEST(ManifestError, NameNotString) {
    EXPECT_ERR(Top(R"("name": 5)"), VXS_E_MALFORMED,
               "scenario.json: name: expected a string, got an integer");
}
TEST(ManifestError, MissingAgents) {
    EXPECT_ERR(R"({"version": 1})", VXS_E_MALFORMED,
               "scenario.json: missing required key \"agents\"");
}
TEST(ManifestError, AgentsNotArray) {
    EXPECT_ERR(R"({"version": 1, "agents": {}})", VXS_E_MALFORMED,
               "scenario.json: agents: expected an array of agents, got an object");
}
TEST(ManifestError, AgentsEmpty) {
    EXPECT_ERR(R"({"version": 1, "agents": []})", VXS_E_MALFORMED,
               "scenario.json: agents: expected a non-empty array of agents");
}
TEST(ManifestError, TooManyAgents) {
    std::string doc = R"({"version": 1, "agents": [)";
    for (int i = 0; i <= VXS_MANIFEST_MAX_AGENTS; i++) doc += i ? ", 0" : "0";
    EXPECT_ERR(doc + "]}", VXS_E_LIMIT,
               "scenario.json: agents: 257 agents, more than the limit of 256");
}
TEST(ManifestError, TooManySources) {
    std::string doc = R"({"version": 1, "agents": [{"id": "a", "sources": [)";
    for (int i = 0; i <= VXS_MANIFEST_MAX_SOURCES; i++) doc += i ? ", 0" : "0";
    EXPECT_ERR(doc + "]}]}", VXS_E_LIMIT,
               "scenario.json: agents[0].sources: 65 sources, more than the limit of 64");
}
TEST(ManifestError, TooLarge) {
    std::string doc(VXS_MANIFEST_MAX_BYTES + 1, ' ');
    EXPECT_ERR(doc, VXS_E_LIMIT, "scenario.json: 16777217 bytes, more than the limit of 16777216");
}
TEST(ManifestError, AgentNotObject) {
    EXPECT_ERR(R"({"version": 1, "agents": ["ego"]})", VXS_E_MALFORMED,
               "scenario.json: agents[0]: expected an object, got a string");
}
TEST(ManifestError, MissingAgentId) {
    EXPECT_ERR(R"({"version": 1, "agents": [{"sources": []}]})", VXS_E_MALFORMED,
               "scenario.json: agents[0]: missing required key \"id\"");
}
TEST(ManifestError, AgentIdNotString) {
    EXPECT_ERR(R"({"version": 1, "agents": [{"id": 7}]})", VXS_E_MALFORMED,
               "scenario.json: agents[0].id: expected a string, got an integer");
}
TEST(ManifestError, AgentIdBadCharacters) {
    EXPECT_ERR(R"({"version": 1, "agents": [{"id": "../x"}]})", VXS_E_MALFORMED,
               "scenario.json: agents[0].id: expected 1-64 characters of A-Z a-z 0-9 _ - . not "
               "starting with '.', got \"../x\"");
    EXPECT_ERR(R"({"version": 1, "agents": [{"id": ""}]})", VXS_E_MALFORMED,
               "scenario.json: agents[0].id: expected 1-64 characters of A-Z a-z 0-9 _ - . not "
               "starting with '.', got \"\"");
}
TEST(ManifestError, BadAgentType) {
    EXPECT_ERR(R"({"version": 1, "agents": [{"id": "a", "type": "car"}]})", VXS_E_MALFORMED,
               "scenario.json: agents[0].type: expected one of \"vehicle\", \"rsu\", \"vru\", got "
               "\"car\"");
}
TEST(ManifestError, DuplicateAgentId) {
    EXPECT_ERR(R"({"version": 1, "agents": [
        {"id": "ego", "sources": [{"path": "a", "kind": "lidar"}]},
        {"id": "b", "sources": [{"path": "b", "kind": "lidar"}]},
        {"id": "ego", "sources": [{"path": "c", "kind": "lidar"}]}]})",
               VXS_E_MALFORMED,
               "scenario.json: agents[2].id: duplicate agent id \"ego\" (first at agents[0])");
}
TEST(ManifestError, MissingSources) {
    EXPECT_ERR(R"({"version": 1, "agents": [{"id": "a"}]})", VXS_E_MALFORMED,
               "scenario.json: agents[0]: missing required key \"sources\"");
}
TEST(ManifestError, SourcesNotArray) {
    EXPECT_ERR(R"({"version": 1, "agents": [{"id": "a", "sources": "x"}]})", VXS_E_MALFORMED,
               "scenario.json: agents[0].sources: expected an array of sources, got a string");
}
TEST(ManifestError, SourcesEmpty) {
    EXPECT_ERR(R"({"version": 1, "agents": [{"id": "a", "sources": []}]})", VXS_E_MALFORMED,
               "scenario.json: agents[0].sources: expected a non-empty array of sources");
}
TEST(ManifestError, SourceNotObject) {
    EXPECT_ERR(R"({"version": 1, "agents": [{"id": "a", "sources": [null]}]})", VXS_E_MALFORMED,
               "scenario.json: agents[0].sources[0]: expected an object, got null");
}
TEST(ManifestError, UnknownSourceKey) {
    EXPECT_ERR(Src(R"("path": "l", "kind": "lidar", "calib": "x")"), VXS_E_MALFORMED,
               "scenario.json: agents[0].sources[0].calib: unknown key (expected one of: path, "
               "kind, sensor, model, calibration, metadata, extrinsics, clock, own_station_id, "
               "own_macs, format, timestamps, creation)");
}
TEST(ManifestError, MissingKind) {
    EXPECT_ERR(Src(R"("path": "l")"), VXS_E_MALFORMED,
               "scenario.json: agents[0].sources[0]: missing required key \"kind\"");
}
TEST(ManifestError, BadKind) {
    EXPECT_ERR(Src(R"("path": "l", "kind": "radar")"), VXS_E_MALFORMED,
               "scenario.json: agents[0].sources[0].kind: expected one of \"lidar\", \"camera\", "
               "\"v2x\", got \"radar\"");
}
TEST(ManifestError, MissingPath) {
    EXPECT_ERR(Src(R"("kind": "lidar")"), VXS_E_MALFORMED,
               "scenario.json: agents[0].sources[0]: missing required key \"path\"");
}
TEST(ManifestError, PathNotString) {
    EXPECT_ERR(Src(R"("kind": "lidar", "path": ["a"])"), VXS_E_MALFORMED,
               "scenario.json: agents[0].sources[0].path: expected a string, got an array");
}
TEST(ManifestError, EmptyPath) {
    EXPECT_ERR(Src(R"("kind": "lidar", "path": "")"), VXS_E_MALFORMED,
               "scenario.json: agents[0].sources[0].path: expected a non-empty path");
}
TEST(ManifestError, PathEscapes) {
    EXPECT_ERR(Src(R"("kind": "lidar", "path": "x/./../../y")"), VXS_E_MALFORMED,
               "scenario.json: agents[0].sources[0].path: \"x/./../../y\" leaves the manifest's "
               "folder (use an absolute path for files outside it)");
}
TEST(ManifestError, CalibrationEscapes) {
    EXPECT_ERR(Src(std::string(kLidar) + R"("calibration": "../cal.yaml")"), VXS_E_MALFORMED,
               "scenario.json: agents[0].sources[0].calibration: \"../cal.yaml\" leaves the "
               "manifest's folder (use an absolute path for files outside it)");
}
TEST(ManifestError, SensorBadId) {
    EXPECT_ERR(Src(std::string(kLidar) + R"("sensor": "a b")"), VXS_E_MALFORMED,
               "scenario.json: agents[0].sources[0].sensor: expected 1-64 characters of A-Z a-z "
               "0-9 _ - . not starting with '.', got \"a b\"");
}
TEST(ManifestError, DuplicateSensorId) {
    EXPECT_ERR(R"({"version": 1, "agents": [{"id": "ego", "sources": [
        {"path": "a", "kind": "lidar"}, {"path": "b", "kind": "camera"},
        {"path": "c", "kind": "lidar"}]}]})",
               VXS_E_MALFORMED,
               "scenario.json: agents[0].sources[2].sensor: duplicate sensor id \"lidar\" in agent "
               "\"ego\" (first at sources[0])");
}
TEST(ManifestError, ModelNotString) {
    EXPECT_ERR(Src(std::string(kLidar) + R"("model": 16)"), VXS_E_MALFORMED,
               "scenario.json: agents[0].sources[0].model: expected a string, got an integer");
}
TEST(ManifestError, KeyNotValidForKind) {
    EXPECT_ERR(Src(std::string(kLidar) + R"("own_macs": [])"), VXS_E_MALFORMED,
               "scenario.json: agents[0].sources[0].own_macs: not valid for a \"lidar\" source "
               "(only for \"v2x\")");
    EXPECT_ERR(Src(std::string(kV2x) + R"("calibration": "c.yaml")"), VXS_E_MALFORMED,
               "scenario.json: agents[0].sources[0].calibration: not valid for a \"v2x\" source "
               "(only for \"lidar\", \"camera\")");
    EXPECT_ERR(Src(std::string(kCam) + R"("metadata": "m.json")"), VXS_E_MALFORMED,
               "scenario.json: agents[0].sources[0].metadata: not valid for a \"camera\" source "
               "(only for \"lidar\")");
    EXPECT_ERR(Src(std::string(kLidar) + R"("creation": "end")"), VXS_E_MALFORMED,
               "scenario.json: agents[0].sources[0].creation: not valid for a \"lidar\" source "
               "(only for \"camera\")");
}
TEST(ManifestError, ExtrinsicsNotObject) {
    EXPECT_ERR(Src(std::string(kLidar) + R"("extrinsics": [0, 0, 0])"), VXS_E_MALFORMED,
               "scenario.json: agents[0].sources[0].extrinsics: expected an object, got an array");
}
TEST(ManifestError, ExtrinsicsUnknownKey) {
    EXPECT_ERR(Src(std::string(kLidar) + R"("extrinsics": {"rot": [1, 0, 0, 0]})"), VXS_E_MALFORMED,
               "scenario.json: agents[0].sources[0].extrinsics.rot: unknown key (expected one of: "
               "translation, rotation)");
}
TEST(ManifestError, TranslationNotArray) {
    EXPECT_ERR(Src(std::string(kLidar) + R"("extrinsics": {"translation": 1})"), VXS_E_MALFORMED,
               "scenario.json: agents[0].sources[0].extrinsics.translation: expected 3 numbers "
               "[x, y, z] in metres, got an integer");
}
TEST(ManifestError, TranslationWrongLength) {
    EXPECT_ERR(Src(std::string(kLidar) + R"("extrinsics": {"translation": [1, 2]})"),
               VXS_E_MALFORMED,
               "scenario.json: agents[0].sources[0].extrinsics.translation: expected 3 numbers "
               "[x, y, z] in metres, got an array of 2");
}
TEST(ManifestError, TranslationElementNotNumber) {
    EXPECT_ERR(Src(std::string(kLidar) + R"("extrinsics": {"translation": [1, "2", 3]})"),
               VXS_E_MALFORMED,
               "scenario.json: agents[0].sources[0].extrinsics.translation[1]: expected a number, "
               "got a string");
}
TEST(ManifestError, RotationWrongType) {
    EXPECT_ERR(R"({"version": 1, "agents": [{"id": "a", "sources": [{"path": "l", "kind": "lidar"}]},
        {"id": "b", "sources": [{"path": "m", "kind": "lidar", "extrinsics": {"rotation": "identity"}}]}]})",
               VXS_E_MALFORMED,
               "scenario.json: agents[1].sources[0].extrinsics.rotation: expected 4 numbers [w, x, "
               "y, z] or {roll_deg, pitch_deg, yaw_deg}, got a string");
}
TEST(ManifestError, RotationWrongLength) {
    EXPECT_ERR(Src(std::string(kLidar) + R"("extrinsics": {"rotation": [0, 0, 90]})"),
               VXS_E_MALFORMED,
               "scenario.json: agents[0].sources[0].extrinsics.rotation: expected 4 numbers [w, x, "
               "y, z] or {roll_deg, pitch_deg, yaw_deg}, got an array of 3");
}
TEST(ManifestError, RotationElementNotNumber) {
    EXPECT_ERR(Src(std::string(kLidar) + R"("extrinsics": {"rotation": [1, 0, null, 0]})"),
               VXS_E_MALFORMED,
               "scenario.json: agents[0].sources[0].extrinsics.rotation[2]: expected a number, "
               "got null");
}
TEST(ManifestError, NonUnitQuaternion) {
    EXPECT_ERR(Src(std::string(kLidar) + R"("extrinsics": {"rotation": [1, 0, 0, 0.01]})"),
               VXS_E_MALFORMED,
               "scenario.json: agents[0].sources[0].extrinsics.rotation: expected a unit "
               "quaternion [w, x, y, z] (|norm - 1| <= 1e-6), got norm 1.00005");
    EXPECT_ERR(Src(std::string(kLidar) + R"("extrinsics": {"rotation": [0, 0, 0, 0]})"),
               VXS_E_MALFORMED,
               "scenario.json: agents[0].sources[0].extrinsics.rotation: expected a unit "
               "quaternion [w, x, y, z] (|norm - 1| <= 1e-6), got norm 0");
}
TEST(ManifestError, RollPitchYawUnknownKey) {
    EXPECT_ERR(Src(std::string(kLidar) + R"("extrinsics": {"rotation": {"yaw": 90}})"),
               VXS_E_MALFORMED,
               "scenario.json: agents[0].sources[0].extrinsics.rotation.yaw: unknown key "
               "(expected one of: roll_deg, pitch_deg, yaw_deg)");
}
TEST(ManifestError, RollPitchYawNotNumber) {
    EXPECT_ERR(Src(std::string(kLidar) + R"("extrinsics": {"rotation": {"pitch_deg": "90"}})"),
               VXS_E_MALFORMED,
               "scenario.json: agents[0].sources[0].extrinsics.rotation.pitch_deg: expected a "
               "number, got a string");
}
TEST(ManifestError, ClockNotObject) {
    EXPECT_ERR(Src(std::string(kLidar) + R"("clock": 5)"), VXS_E_MALFORMED,
               "scenario.json: agents[0].sources[0].clock: expected an object, got an integer");
}
TEST(ManifestError, ClockUnknownKey) {
    EXPECT_ERR(Src(std::string(kLidar) + R"("clock": {"offset": 5})"), VXS_E_MALFORMED,
               "scenario.json: agents[0].sources[0].clock.offset: unknown key (expected one of: "
               "offset_ns, gps_locked, sweep_time, stamp_latency_ms)");
}
TEST(ManifestError, OffsetNotNumber) {
    EXPECT_ERR(Src(std::string(kLidar) + R"("clock": {"offset_ns": "5"})"), VXS_E_MALFORMED,
               "scenario.json: agents[0].sources[0].clock.offset_ns: expected a number of "
               "nanoseconds, got a string");
}
TEST(ManifestError, OffsetOutOfRange) {
    EXPECT_ERR(Src(std::string(kLidar) + R"("clock": {"offset_ns": 1e19})"), VXS_E_MALFORMED,
               "scenario.json: agents[0].sources[0].clock.offset_ns: expected nanoseconds between "
               "-9.2e18 and 9.2e18, got 1e+19");
}
TEST(ManifestError, GpsLockedNotBoolean) {
    EXPECT_ERR(Src(std::string(kLidar) + R"("clock": {"gps_locked": 1})"), VXS_E_MALFORMED,
               "scenario.json: agents[0].sources[0].clock.gps_locked: expected true or false, got "
               "an integer");
}
TEST(ManifestError, SweepTimeNotForThisKind) {
    EXPECT_ERR(Src(std::string(kCam) + R"("clock": {"sweep_time": "end"})"), VXS_E_MALFORMED,
               "scenario.json: agents[0].sources[0].clock.sweep_time: not valid for a \"camera\" "
               "source (only for \"lidar\")");
}
TEST(ManifestError, StampLatencyOnlyForCamerasAndInRange) {
    EXPECT_ERR(Src(std::string(kLidar) + R"("clock": {"stamp_latency_ms": 5})"), VXS_E_MALFORMED,
               "scenario.json: agents[0].sources[0].clock.stamp_latency_ms: not valid for a "
               "\"lidar\" source (only for \"camera\")");
    EXPECT_ERR(Src(std::string(kCam) + R"("clock": {"stamp_latency_ms": 1500})"), VXS_E_MALFORMED,
               "scenario.json: agents[0].sources[0].clock.stamp_latency_ms: expected a number >= "
               "-1000 and <= 1000, got 1500");
    EXPECT_ERR(Src(std::string(kCam) + R"("clock": {"stamp_latency_ms": "8"})"), VXS_E_MALFORMED,
               "scenario.json: agents[0].sources[0].clock.stamp_latency_ms: expected a number, "
               "got a string");
}
TEST(ManifestError, BadSweepTime) {
    EXPECT_ERR(Src(std::string(kLidar) + R"("clock": {"sweep_time": "center"})"), VXS_E_MALFORMED,
               "scenario.json: agents[0].sources[0].clock.sweep_time: expected one of \"start\", "
               "\"middle\", \"end\", got \"center\"");
}
TEST(ManifestError, BadV2xFormat) {
    EXPECT_ERR(Src(std::string(kV2x) + R"("format": "pcapng")"), VXS_E_MALFORMED,
               "scenario.json: agents[0].sources[0].format: expected one of \"auto\", \"pcap\", "
               "\"wydot\", \"hex\", got \"pcapng\"");
}
TEST(ManifestError, StationIdOutOfRange) {
    EXPECT_ERR(Src(std::string(kV2x) + R"("own_station_id": 4294967296)"), VXS_E_MALFORMED,
               "scenario.json: agents[0].sources[0].own_station_id: expected an integer "
               "0..4294967295, got 4294967296");
    EXPECT_ERR(Src(std::string(kV2x) + R"("own_station_id": -1)"), VXS_E_MALFORMED,
               "scenario.json: agents[0].sources[0].own_station_id: expected an integer "
               "0..4294967295, got -1");
}
TEST(ManifestError, StationIdNotInteger) {
    EXPECT_ERR(Src(std::string(kV2x) + R"("own_station_id": "0x12")"), VXS_E_MALFORMED,
               "scenario.json: agents[0].sources[0].own_station_id: expected an integer "
               "0..4294967295, got a string");
}
TEST(ManifestError, OwnMacsNotArray) {
    EXPECT_ERR(Src(std::string(kV2x) + R"("own_macs": "aa:bb:cc:dd:ee:ff")"), VXS_E_MALFORMED,
               "scenario.json: agents[0].sources[0].own_macs: expected an array of MAC addresses, "
               "got a string");
}
TEST(ManifestError, OwnMacMalformed) {
    EXPECT_ERR(Src(std::string(kV2x) + R"("own_macs": ["aa:bb:cc:dd:ee:ff", "aa:bb:cc:dd:ee"])"),
               VXS_E_MALFORMED,
               "scenario.json: agents[0].sources[0].own_macs[1]: expected a MAC address like "
               "\"aa:bb:cc:dd:ee:ff\", got \"aa:bb:cc:dd:ee\"");
    EXPECT_ERR(Src(std::string(kV2x) + R"("own_macs": ["aa:bb:cc:dd:ee:ff:00"])"),
               VXS_E_MALFORMED,
               "scenario.json: agents[0].sources[0].own_macs[0]: expected a MAC address like "
               "\"aa:bb:cc:dd:ee:ff\", got \"aa:bb:cc:dd:ee:ff:00\"");
}
TEST(ManifestError, OwnMacNotString) {
    EXPECT_ERR(Src(std::string(kV2x) + R"("own_macs": [12])"), VXS_E_MALFORMED,
               "scenario.json: agents[0].sources[0].own_macs[0]: expected a MAC address string, "
               "got an integer");
}
TEST(ManifestError, BadCreation) {
    EXPECT_ERR(Src(std::string(kCam) + R"("creation": "middle")"), VXS_E_MALFORMED,
               "scenario.json: agents[0].sources[0].creation: expected one of \"end\", \"start\", "
               "\"ignore\", got \"middle\"");
}
TEST(ManifestError, TimestampsEscape) {
    EXPECT_ERR(Src(std::string(kCam) + R"("timestamps": "../t.csv")"), VXS_E_MALFORMED,
               "scenario.json: agents[0].sources[0].timestamps: \"../t.csv\" leaves the "
               "manifest's folder (use an absolute path for files outside it)");
}
TEST(ManifestError, ReferenceNotObject) {
    EXPECT_ERR(Top(R"("reference": "ego")"), VXS_E_MALFORMED,
               "scenario.json: reference: expected an object, got a string");
}
TEST(ManifestError, ReferenceUnknownKey) {
    EXPECT_ERR(Top(R"("reference": {"agent": "ego", "source": "lidar"})"), VXS_E_MALFORMED,
               "scenario.json: reference.source: unknown key (expected one of: agent, sensor)");
}
TEST(ManifestError, ReferenceMissingAgent) {
    EXPECT_ERR(Top(R"("reference": {"sensor": "lidar"})"), VXS_E_MALFORMED,
               "scenario.json: reference: missing required key \"agent\"");
}
TEST(ManifestError, ReferenceUnknownAgent) {
    EXPECT_ERR(Top(R"("reference": {"agent": "car9"})"), VXS_E_MALFORMED,
               "scenario.json: reference.agent: no agent \"car9\" (agents: ego)");
}
TEST(ManifestError, ReferenceUnknownSensor) {
    EXPECT_ERR(Top(R"("reference": {"agent": "ego", "sensor": "radar"})"), VXS_E_MALFORMED,
               "scenario.json: reference.sensor: agent \"ego\" has no sensor \"radar\" (sensors: "
               "lidar)");
}
TEST(ManifestError, FramesNotObject) {
    EXPECT_ERR(Top(R"("frames": [])"), VXS_E_MALFORMED,
               "scenario.json: frames: expected an object, got an array");
}
TEST(ManifestError, FramesUnknownKey) {
    EXPECT_ERR(Top(R"("frames": {"rate": 10})"), VXS_E_MALFORMED,
               "scenario.json: frames.rate: unknown key (expected one of: policy, rate_hz, "
               "match, tolerance_ms, v2x_window_ms, v2x_late_ms, v2x_dropout_intervals)");
    EXPECT_ERR(Top(R"("frames": {"match": "closest"})"), VXS_E_MALFORMED,
               "scenario.json: frames.match: expected one of \"nearest\", \"approximate\", "
               "\"exact\", got \"closest\"");
}
TEST(ManifestError, BadFramePolicy) {
    EXPECT_ERR(Top(R"("frames": {"policy": "every_sweep"})"), VXS_E_MALFORMED,
               "scenario.json: frames.policy: expected one of \"reference_sensor\", "
               "\"fixed_rate\", got \"every_sweep\"");
}
TEST(ManifestError, NegativeRate) {
    EXPECT_ERR(Top(R"("frames": {"policy": "fixed_rate", "rate_hz": -5})"), VXS_E_MALFORMED,
               "scenario.json: frames.rate_hz: expected a number > 0 and <= 1000, got -5");
    EXPECT_ERR(Top(R"("frames": {"policy": "fixed_rate", "rate_hz": 0})"), VXS_E_MALFORMED,
               "scenario.json: frames.rate_hz: expected a number > 0 and <= 1000, got 0");
}
TEST(ManifestError, RateNotNumber) {
    EXPECT_ERR(Top(R"("frames": {"policy": "fixed_rate", "rate_hz": "10"})"), VXS_E_MALFORMED,
               "scenario.json: frames.rate_hz: expected a number, got a string");
}
TEST(ManifestError, RateWithoutFixedRate) {
    EXPECT_ERR(Top(R"("frames": {"rate_hz": 10})"), VXS_E_MALFORMED,
               "scenario.json: frames.rate_hz: only valid with policy \"fixed_rate\"");
}
TEST(ManifestError, FixedRateWithoutRate) {
    EXPECT_ERR(Top(R"("frames": {"policy": "fixed_rate"})"), VXS_E_MALFORMED,
               "scenario.json: frames: missing required key \"rate_hz\" (policy \"fixed_rate\")");
}
TEST(ManifestError, ToleranceUnknownKind) {
    EXPECT_ERR(Top(R"("frames": {"tolerance_ms": {"radar": 5}})"), VXS_E_MALFORMED,
               "scenario.json: frames.tolerance_ms.radar: unknown key (expected one of: lidar, "
               "camera, v2x)");
}
TEST(ManifestError, NegativeTolerance) {
    EXPECT_ERR(Top(R"("frames": {"tolerance_ms": {"camera": -1}})"), VXS_E_MALFORMED,
               "scenario.json: frames.tolerance_ms.camera: expected a number >= 0 and <= 60000, "
               "got -1");
}
TEST(ManifestError, ToleranceNotNumber) {
    EXPECT_ERR(Top(R"("frames": {"tolerance_ms": {"v2x": true}})"), VXS_E_MALFORMED,
               "scenario.json: frames.tolerance_ms.v2x: expected a number, got a boolean");
}
TEST(ManifestError, ExportUnknownKey) {
    EXPECT_ERR(Top(R"("export": {"dir": "out"})"), VXS_E_MALFORMED,
               "scenario.json: export.dir: unknown key (expected one of: format, out, png_level)");
}
TEST(ManifestError, BadExportFormat) {
    EXPECT_ERR(Top(R"("export": {"format": "kitti"})"), VXS_E_MALFORMED,
               "scenario.json: export.format: expected one of \"bundle\", got \"kitti\"");
}
TEST(ManifestError, ExportOutEscapes) {
    EXPECT_ERR(Top(R"("export": {"out": "../out"})"), VXS_E_MALFORMED,
               "scenario.json: export.out: \"../out\" leaves the manifest's folder (use an "
               "absolute path for files outside it)");
}
TEST(ManifestError, PngLevelOutOfRange) {
    EXPECT_ERR(Top(R"("export": {"png_level": 12})"), VXS_E_MALFORMED,
               "scenario.json: export.png_level: expected an integer 0..9, got 12");
}
TEST(ManifestError, PngLevelNotInteger) {
    EXPECT_ERR(Top(R"("export": {"png_level": 6.5})"), VXS_E_MALFORMED,
               "scenario.json: export.png_level: expected an integer 0..9, got a number");
}
TEST(ManifestError, LongValuesAreCutInMessages) {
    EXPECT_ERR(Src(std::string(kLidar) + R"("sensor": "0123456789012345678901234567890123456789_too_long_and\u0001bad")"),
               VXS_E_MALFORMED,
               "scenario.json: agents[0].sources[0].sensor: expected 1-64 characters of A-Z a-z "
               "0-9 _ - . not starting with '.', got \"0123456789012345678901234567890123456789...\"");
}
TEST(ManifestError, ArgumentErrors) {
    vxs_manifest_t *m = nullptr;
    char err[8];
    EXPECT_EQ(vxs_manifest_parse(nullptr, "{}", 2, nullptr, nullptr, err, sizeof err), VXS_E_ARG);
    EXPECT_EQ(vxs_manifest_load(&m, nullptr, err, sizeof err), VXS_E_ARG);
    // A small buffer gets a cut, NUL-terminated message; a NULL one is fine.
    EXPECT_EQ(vxs_manifest_parse(&m, "[", 1, nullptr, nullptr, err, sizeof err), VXS_E_MALFORMED);
    EXPECT_STREQ(err, "manifes");
    EXPECT_EQ(vxs_manifest_parse(&m, "[", 1, nullptr, nullptr, nullptr, 0), VXS_E_MALFORMED);
    EXPECT_EQ(m, nullptr);
}

} // namespace
