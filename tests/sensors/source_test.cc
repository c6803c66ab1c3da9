// A manifest's source opened with its reader as a vxs_source_t (vxs_source_open_manifest): the
// one mapping from a manifest entry to reader options. Each source is compared with the reader
// opened by hand with the options the entry implies (calibration, metadata, sidecar, own
// station), through rewinds, kind masks, payload fetches and the rule on bad units.
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "test_util.h"
#include "vxs_camera.h"
#include "vxs_frame.h"
#include "vxs_lidar.h"
#include "vxs_manifest.h"
#include "vxs_sensors.h"
#include "vxs_v2x.h"

namespace {

struct Diags {
    std::vector<std::string> msgs;
    static void Fn(void *user, const vxs_diag_t *d) {
        static_cast<Diags *>(user)->msgs.push_back(d->msg);
    }
};

vxs_manifest_t *Parse(const std::string &json) {
    vxs_manifest_t *m = nullptr;
    char err[VXS_MANIFEST_ERR_LEN];
    EXPECT_EQ(vxs_manifest_parse(&m, json.data(), json.size(), nullptr, "m.json", err, sizeof err),
              VXS_OK)
        << err;
    return m;
}

// OpenSource opens agents[0].sources[k] of `m` as the job's source number `index`.
vxs_source_t *OpenSource(const vxs_manifest_t *m, size_t k, uint32_t index, Diags *d,
                         uint32_t kinds = 0, std::string *err_out = nullptr,
                         vxs_status_t *st_out = nullptr) {
    static thread_local vxs_diag_sink_t sink;
    sink = {Diags::Fn, d};
    const vxs_source_open_options_t o = {kinds, nullptr};
    vxs_source_t *s = nullptr;
    char err[1024] = "";
    const vxs_status_t st = vxs_source_open_manifest((void *)&o, &s, m, vxs_source_ref_t{0, k},
                                                     index, &sink, err, sizeof err);
    if (err_out) *err_out = err;
    if (st_out) *st_out = st;
    if (!st_out) {
        EXPECT_EQ(st, VXS_OK) << err;
    }
    return s;
}

std::vector<vxs_record_t> All(vxs_source_t *s) {
    std::vector<vxs_record_t> v;
    const vxs_record_t *r;
    vxs_status_t st;
    while ((st = vxs_source_next(s, &r)) == VXS_OK) v.push_back(*r);
    EXPECT_EQ(st, VXS_EOF);
    return v;
}

bool SameRecord(const vxs_record_t &a, const vxs_record_t &b) {
    return a.kind == b.kind && a.agent == b.agent && a.sensor == b.sensor &&
           a.capture_time == b.capture_time && a.device_time == b.device_time &&
           a.loc.index == b.loc.index && a.loc.offset == b.loc.offset &&
           a.loc.count == b.loc.count && a.loc.source == b.loc.source;
}

TEST(ManifestSource, LidarWithCalibrationPacketsSweepsAndPoints) {
    VXS_SHARED_OR_SKIP(pcap, "datasets/lidar/velodyne/nebula_vlp32c.pcap");
    VXS_SHARED_OR_SKIP(cal, "datasets/lidar/calib/velodyne/VLP32.yaml");
    vxs_manifest_t *m = Parse(R"({"version": 1, "agents": [{"id": "car", "sources": [
        {"path": ")" + pcap + R"(", "kind": "lidar", "model": "VLP-32C", "calibration": ")" +
                              cal + R"("}]}]})");
    ASSERT_NE(m, nullptr);
    Diags d;
    vxs_source_t *s = OpenSource(m, 0, 3, &d);
    ASSERT_NE(s, nullptr);
    std::vector<vxs_record_t> recs = All(s);
    // the reader by hand, with the same calibration, sensor numbers and packet records
    vxs_velo_calib_t calib;
    char err[512];
    ASSERT_EQ(vxs_velo_calib_load(&calib, cal.c_str(), err, sizeof err), VXS_OK) << err;
    vxs_lidar_options_t o;
    vxs_lidar_options_init(&o);
    o.sensor = 3 * VXS_STREAMS_PER_SOURCE;
    o.source_index = 3;
    o.velo_model = VXS_VELO_VLP32C;
    o.velo_calib = &calib;
    o.packet_records = true;
    vxs_lidar_t *l = nullptr;
    ASSERT_EQ(vxs_lidar_open(&l, pcap.c_str(), &o, err, sizeof err), VXS_OK) << err;
    std::vector<vxs_record_t> ref;
    const vxs_record_t *r;
    while (vxs_lidar_next(l, &r) == VXS_OK) ref.push_back(*r);
    vxs_lidar_counts_t counts;
    vxs_lidar_get_counts(l, &counts);
    ASSERT_EQ(recs.size(), ref.size());
    size_t packets = 0, sweeps = 0;
    for (size_t i = 0; i < recs.size(); i++) {
        EXPECT_TRUE(SameRecord(recs[i], ref[i])) << "record " << i;
        packets += recs[i].kind == VXS_REC_LIDAR_PACKET;
        sweeps += recs[i].kind == VXS_REC_LIDAR_SWEEP;
        if (recs[i].kind == VXS_REC_LIDAR_PACKET) {
            // the packet left the sensor at its last firing, before it was captured
            EXPECT_EQ(recs[i].sensor, 24u);
            EXPECT_EQ(recs[i].device_clock.kind, VXS_CLOCK_DEVICE);
            EXPECT_EQ(recs[i].u.packet.dst_port, 2368);
        }
    }
    // every data packet but those whose azimuth jumps (this unit's field of view is limited:
    // they leave after the pause, and say nothing about the clocks)
    EXPECT_LE(packets, counts.lidar_packets);
    EXPECT_GE(packets + 10, counts.lidar_packets);
    EXPECT_GT(sweeps, 5u);
    // a sweep's payload through the source: the reader's points, byte for byte
    vxs_buf_t buf = {};
    vxs_points_t pts = {};
    for (const vxs_record_t &w : recs) {
        if (w.kind != VXS_REC_LIDAR_SWEEP) continue;
        ASSERT_EQ(vxs_source_fetch(s, &buf, &w), VXS_OK) << vxs_source_errmsg(s);
        ASSERT_EQ(vxs_lidar_fetch_points(l, &pts, &w), VXS_OK);
        ASSERT_EQ(buf.len, pts.len * sizeof(vxs_point_t));
        EXPECT_EQ(std::memcmp(buf.data, pts.pts, buf.len), 0);
        EXPECT_EQ(pts.len, w.u.sweep.points);
    }
    // rewound to sweeps only: the same sweeps, nothing else
    ASSERT_EQ(vxs_source_rewind(s, VXS_REC_KIND_BIT(VXS_REC_LIDAR_SWEEP)), VXS_OK);
    std::vector<vxs_record_t> again = All(s);
    ASSERT_EQ(again.size(), sweeps);
    for (size_t i = 0, k = 0; i < recs.size(); i++) {
        if (recs[i].kind == VXS_REC_LIDAR_SWEEP) {
            EXPECT_TRUE(SameRecord(again[k++], recs[i]));
        }
    }
    // progress: the whole file was read
    uint64_t size = 0;
    EXPECT_EQ(vxs_source_position(s, &size), size);
    EXPECT_GT(size, 0u);
    // no payload for packets
    vxs_record_t pkt = recs[0];
    EXPECT_EQ(vxs_source_fetch(s, &buf, &pkt), VXS_E_UNSUPPORTED);
    EXPECT_NE(std::string(vxs_source_errmsg(s)).find("no payload"), std::string::npos);
    EXPECT_TRUE(d.msgs.empty());
    vxs_buf_free(&buf);
    vxs_points_free(&pts);
    vxs_lidar_close(l);
    vxs_source_destroy(s);
    vxs_manifest_free(m);
}

TEST(ManifestSource, OusterNeedsItsMetadataAndBadSideFilesNameTheFile) {
    VXS_SHARED_OR_SKIP(pcap, "datasets/lidar/ouster/OS-1-64_1024x10_fw20.pcap");
    VXS_SHARED_OR_SKIP(meta, "datasets/lidar/ouster/OS-1-64_1024x10_fw20.json");
    vxs_manifest_t *m = Parse(R"({"version": 1, "agents": [{"id": "car", "sources": [
        {"path": ")" + pcap + R"(", "kind": "lidar", "metadata": ")" + meta + R"("},
        {"path": ")" + pcap + R"(", "kind": "lidar", "sensor": "nometa"},
        {"path": ")" + pcap + R"(", "kind": "lidar", "sensor": "badcal", "calibration": ")" +
                              meta + R"("}]}]})");
    ASSERT_NE(m, nullptr);
    Diags d;
    vxs_source_t *s = OpenSource(m, 0, 0, &d, VXS_REC_KIND_BIT(VXS_REC_LIDAR_SWEEP));
    ASSERT_NE(s, nullptr);
    std::vector<vxs_record_t> sweeps = All(s);
    ASSERT_GE(sweeps.size(), 1u);
    for (const vxs_record_t &w : sweeps) EXPECT_EQ(w.kind, VXS_REC_LIDAR_SWEEP);
    uint64_t with_points = 0;
    for (const vxs_record_t &w : sweeps) with_points += w.u.sweep.points > 0;
    EXPECT_EQ(with_points, sweeps.size()); // decoded with the metadata
    vxs_source_destroy(s);
    // without it nothing decodes into points: the reader says so
    Diags d2;
    s = OpenSource(m, 1, 1, &d2);
    ASSERT_NE(s, nullptr);
    All(s);
    vxs_source_destroy(s);
    // a calibration that is not one: the open fails and names the file
    std::string err;
    vxs_status_t st;
    s = OpenSource(m, 2, 2, &d, 0, &err, &st);
    EXPECT_EQ(s, nullptr);
    EXPECT_NE(st, VXS_OK);
    EXPECT_NE(err.find(meta), std::string::npos) << err;
    vxs_manifest_free(m);
}

TEST(ManifestSource, V2xOwnStationAndHexLogs) {
    VXS_SHARED_OR_SKIP(hex, "datasets/v2x/us/v2x-hub/bsm_vectors.txt");
    VXS_SHARED_OR_SKIP(bin, "datasets/v2x/us/jpo-ode/data/bsmLogDuringEvent.bin");
    vxs_manifest_t *m = Parse(R"({"version": 1, "agents": [{"id": "obu", "sources": [
        {"path": ")" + hex + R"(", "kind": "v2x", "sensor": "hexlog", "format": "hex"},
        {"path": ")" + bin + R"(", "kind": "v2x", "sensor": "wydot"}]}]})");
    ASSERT_NE(m, nullptr);
    Diags d;
    vxs_source_t *s = OpenSource(m, 0, 5, &d);
    ASSERT_NE(s, nullptr);
    std::vector<vxs_record_t> recs = All(s);
    EXPECT_EQ(recs.size(), 2u); // the two BSMs of the file
    for (const vxs_record_t &r : recs) {
        EXPECT_EQ(r.kind, VXS_REC_V2X);
        EXPECT_EQ(r.sensor, 40u);
        EXPECT_EQ(r.loc.source, 5u);
        EXPECT_EQ(r.u.v2x.msg_type, VXS_J2735_BSM);
    }
    // a message's payload is fetched while it is the current record: a BSM has no objects
    vxs_buf_t buf = {};
    EXPECT_EQ(vxs_source_fetch(s, &buf, &recs[0]), VXS_E_UNSUPPORTED);
    EXPECT_NE(std::string(vxs_source_errmsg(s)).find("bsm_vectors.txt: record 6: a V2X "
                                                     "message's objects are fetched while it "
                                                     "is the source's current record"),
              std::string::npos)
        << vxs_source_errmsg(s);
    EXPECT_EQ(vxs_source_fetch(s, &buf, &recs.back()), VXS_OK);
    EXPECT_EQ(buf.len, 0u);
    vxs_source_destroy(s);
    // the Wyoming log, against the reader by hand: the same messages, sent as the log says
    s = OpenSource(m, 1, 0, &d);
    ASSERT_NE(s, nullptr);
    recs = All(s);
    vxs_v2x_reader_options_t o;
    std::memset(&o, 0, sizeof o);
    o.own_station_id = -1;
    vxs_v2x_reader_t *v = nullptr;
    char err[512];
    ASSERT_EQ(vxs_v2x_reader_open(&v, bin.c_str(), &o, err, sizeof err), VXS_OK) << err;
    const vxs_record_t *r;
    size_t n = 0, sent = 0;
    while (vxs_v2x_reader_next(v, &r) == VXS_OK) {
        ASSERT_LT(n, recs.size());
        EXPECT_TRUE(SameRecord(recs[n], *r)) << "message " << n;
        EXPECT_EQ(recs[n].u.v2x.sent, r->u.v2x.sent);
        EXPECT_EQ(recs[n].device_clock.field, r->device_clock.field);
        sent += r->u.v2x.sent;
        n++;
    }
    EXPECT_EQ(n, recs.size());
    EXPECT_GT(sent, 0u);
    vxs_v2x_reader_close(v);
    vxs_source_destroy(s);
    vxs_buf_free(&buf);
    vxs_manifest_free(m);
}

// A CPM's perceived objects are its payload: fetched while it is the current record.
TEST(ManifestSource, CpmObjectsAreFetchedWhileCurrent) {
    VXS_SHARED_OR_SKIP(pcap, "datasets/v2x/etsi/msvan3t_cam_cpm.pcap");
    vxs_manifest_t *m = Parse(R"({"version": 1, "agents": [{"id": "obu", "sources": [
        {"path": ")" + pcap + R"(", "kind": "v2x"}]}]})");
    ASSERT_NE(m, nullptr);
    Diags d;
    vxs_source_t *s = OpenSource(m, 0, 0, &d);
    ASSERT_NE(s, nullptr);
    const vxs_record_t *r;
    ASSERT_EQ(vxs_source_next(s, &r), VXS_OK);
    ASSERT_EQ(r->u.v2x.msg_type, VXS_ETSI_CPM); // the capture's first frame (FirstCpmByHand)
    ASSERT_EQ(r->u.v2x.n_objects, 1u);
    vxs_buf_t buf = {};
    ASSERT_EQ(vxs_source_fetch(s, &buf, r), VXS_OK) << vxs_source_errmsg(s);
    ASSERT_EQ(buf.len, sizeof(vxs_v2x_object_t));
    vxs_v2x_object_t ob;
    std::memcpy(&ob, buf.data, sizeof ob);
    EXPECT_EQ(ob.object_id, 800u);
    EXPECT_EQ(ob.measurement_delta_ms, 19);
    EXPECT_DOUBLE_EQ(ob.x_m, -35.04);
    const vxs_record_t first = *r;
    ASSERT_EQ(vxs_source_next(s, &r), VXS_OK);
    EXPECT_EQ(vxs_source_fetch(s, &buf, &first), VXS_E_UNSUPPORTED); // no longer current
    vxs_buf_free(&buf);
    vxs_source_destroy(s);
    vxs_manifest_free(m);
}

TEST(ManifestSource, CameraWithSidecarFetchesRgb) {
    VXS_TOOL_OR_SKIP("ffmpeg");
    const std::string dir = vxs_test::TempDir(), clip = dir + "/c.mp4";
    std::string out;
    ASSERT_EQ(vxs_test::Run("ffmpeg -v error -f lavfi -i testsrc=size=64x48:rate=10 -frames:v 12 "
                            "-pix_fmt yuv420p -y '" + clip + "'",
                            &out),
              0)
        << out;
    FILE *f = std::fopen((dir + "/c.timestamps").c_str(), "w");
    ASSERT_NE(f, nullptr);
    for (int i = 0; i < 12; i++) std::fprintf(f, "%lld\n", 1700000000000000000LL + i * 100000000LL);
    std::fclose(f);
    vxs_manifest_t *m = Parse(R"({"version": 1, "agents": [{"id": "car", "sources": [
        {"path": ")" + clip + R"(", "kind": "camera", "timestamps": ")" + dir +
                              R"(/c.timestamps"}]}]})");
    ASSERT_NE(m, nullptr);
    Diags d;
    vxs_source_t *s = OpenSource(m, 0, 2, &d);
    ASSERT_NE(s, nullptr);
    std::vector<vxs_record_t> recs = All(s);
    ASSERT_EQ(recs.size(), 12u);
    vxs_camera_options_t co;
    vxs_camera_options_init(&co);
    co.sidecar = (dir + "/c.timestamps").c_str();
    vxs_camera_t *c = nullptr;
    char err[512];
    const std::string sc = dir + "/c.timestamps";
    co.sidecar = sc.c_str();
    ASSERT_EQ(vxs_camera_open(&c, clip.c_str(), &co, err, sizeof err), VXS_OK) << err;
    vxs_buf_t a = {}, b = {};
    for (size_t i = 0; i < recs.size(); i++) {
        EXPECT_EQ(recs[i].capture_time, 1700000000000000000LL + (int64_t)i * 100000000LL);
        EXPECT_EQ(recs[i].sensor, 16u);
        if (i % 5) continue;
        ASSERT_EQ(vxs_source_fetch(s, &a, &recs[i]), VXS_OK) << vxs_source_errmsg(s);
        ASSERT_EQ(vxs_camera_fetch_rgb(c, &b, nullptr, nullptr, &recs[i]), VXS_OK);
        ASSERT_EQ(a.len, 64u * 48u * 3u);
        EXPECT_EQ(a.len, b.len);
        EXPECT_EQ(std::memcmp(a.data, b.data, a.len), 0);
    }
    uint64_t size = 0;
    EXPECT_GT(vxs_source_position(s, &size), 0u);
    EXPECT_GT(size, 0u);
    vxs_buf_free(&a);
    vxs_buf_free(&b);
    vxs_camera_close(c);
    vxs_source_destroy(s);
    vxs_manifest_free(m);
}

TEST(ManifestSource, BadUnitsAreReportedOnceAndNeverReturned) {
    // a real capture cut in the middle of a record: every complete record comes out, the cut is
    // reported through the diag sink with its position, and next ends with VXS_EOF
    VXS_SHARED_OR_SKIP(pcap, "datasets/lidar/velodyne/mrpt_vlp16_gps.pcap");
    std::vector<uint8_t> bytes = vxs_test::ReadFile(pcap);
    ASSERT_GT(bytes.size(), 100000u);
    bytes.resize(bytes.size() / 2 + 7);
    const std::string cut = vxs_test::TempDir() + "/cut.pcap";
    ASSERT_TRUE(vxs_test::WriteFile(cut, bytes));
    vxs_manifest_t *m = Parse(R"({"version": 1, "agents": [{"id": "car", "sources": [
        {"path": ")" + cut + R"(", "kind": "lidar"}]}]})");
    ASSERT_NE(m, nullptr);
    Diags d;
    vxs_source_t *s = OpenSource(m, 0, 0, &d);
    ASSERT_NE(s, nullptr);
    std::vector<vxs_record_t> recs = All(s); // asserts VXS_EOF, never an error
    EXPECT_GT(recs.size(), 100u);
    ASSERT_EQ(d.msgs.size(), 1u);
    EXPECT_NE(d.msgs[0].find(cut), std::string::npos) << d.msgs[0];
    EXPECT_NE(d.msgs[0].find("byte offset"), std::string::npos) << d.msgs[0];
    EXPECT_EQ(vxs_source_error_count(s), 0u);
    // rewound, the same again (and the damage is reported again: the job mutes that pass)
    ASSERT_EQ(vxs_source_rewind(s, 0), VXS_OK);
    EXPECT_EQ(All(s).size(), recs.size());
    EXPECT_EQ(d.msgs.size(), 2u);
    vxs_source_destroy(s);
    // a missing file fails the open and names it; a bad reference is refused
    vxs_manifest_t *gone = Parse(R"({"version": 1, "agents": [{"id": "car", "sources": [
        {"path": "/nonexistent/x.pcap", "kind": "v2x"}]}]})");
    std::string err;
    vxs_status_t st;
    EXPECT_EQ(OpenSource(gone, 0, 0, &d, 0, &err, &st), nullptr);
    EXPECT_EQ(st, VXS_E_IO);
    EXPECT_NE(err.find("/nonexistent/x.pcap"), std::string::npos) << err;
    EXPECT_EQ(OpenSource(gone, 3, 0, &d, 0, &err, &st), nullptr);
    EXPECT_EQ(st, VXS_E_ARG);
    vxs_manifest_free(gone);
    vxs_manifest_free(m);
}

} // namespace
