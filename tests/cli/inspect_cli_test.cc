// `v2xsync inspect` end to end: every capture in ../shared/datasets against capinfos and tshark,
// the crafted sample, damaged files, exit codes, --records and --help.
#include <jansson.h>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "test_util.h"

namespace {

using vxs_test::Cli;

std::string MkSample() {
    const char *p = std::getenv("VXS_MKSAMPLE");
    return p ? p : VXS_BINARY_DIR "/vxs_mksample";
}

// RunJson runs `v2xsync inspect --json -q ARGS` and parses stdout.
json_t *RunJson(const std::string &args, int *rc) {
    std::string out;
    *rc = vxs_test::Run("'" + Cli() + "' inspect --json -q " + args + " 2>/dev/null", &out);
    json_error_t e;
    json_t *doc = json_loads(out.c_str(), 0, &e);
    EXPECT_NE(doc, nullptr) << "not JSON: " << e.text << "\n" << out.substr(0, 500);
    return doc;
}


std::vector<std::string> Lines(const std::string &s) {
    std::vector<std::string> v;
    std::istringstream in(s);
    std::string l;
    while (std::getline(in, l))
        if (!l.empty()) v.push_back(l);
    return v;
}


class InspectDataset : public ::testing::TestWithParam<const char *> {};

TEST_P(InspectDataset, CountsAndSpanEqualCapinfosAndTshark) {
    VXS_SHARED_OR_SKIP(path, GetParam());
    VXS_TOOL_OR_SKIP("tshark");
    VXS_TOOL_OR_SKIP("capinfos");
    int rc;
    json_t *doc = RunJson("'" + path + "'", &rc);
    ASSERT_NE(doc, nullptr);
    EXPECT_EQ(rc, 0) << "a real capture read cleanly must exit 0";
    json_t *f = json_array_get(json_object_get(doc, "files"), 0);
    json_int_t packets = json_integer_value(json_object_get(f, "packets"));

    EXPECT_EQ((uint64_t)packets, vxs_test::CapinfosCount(path));
    std::vector<int64_t> times = vxs_test::TsharkTimes(path);
    ASSERT_EQ((json_int_t)times.size(), packets);
    json_t *t = json_object_get(f, "timing");
    EXPECT_EQ(json_integer_value(json_object_get(t, "first_ns")), times.front());
    EXPECT_EQ(json_integer_value(json_object_get(t, "last_ns")), times.back());

    // Every packet lands in exactly one flow, or is a fragment counted with its datagram.
    json_int_t in_flows = 0;
    size_t i;
    json_t *fl;
    json_array_foreach(json_object_get(f, "flows"), i, fl) in_flows +=
        json_integer_value(json_object_get(fl, "packets"));
    json_int_t frags = json_integer_value(json_object_get(f, "fragments"));
    json_int_t dgrams = json_integer_value(json_object_get(f, "reassembled"));
    EXPECT_EQ(in_flows, packets - frags + dgrams);
    json_decref(doc);
}

INSTANTIATE_TEST_SUITE_P(AllCaptures, InspectDataset, ::testing::ValuesIn(vxs_test::kSharedCaptures));

// flow_of returns the first flow of `kind` in file 0 of `doc`.
json_t *FlowOf(json_t *doc, const char *kind, int nth = 0) {
    json_t *f = json_array_get(json_object_get(doc, "files"), 0);
    size_t i;
    json_t *fl;
    json_array_foreach(json_object_get(f, "flows"), i, fl) {
        if (strcmp(json_string_value(json_object_get(fl, "kind")), kind) == 0 && nth-- == 0)
            return fl;
    }
    return nullptr;
}

TEST(InspectCli, VelodyneModelReturnModeAndPositionPackets) {
    VXS_SHARED_OR_SKIP(path, "datasets/lidar/velodyne/mrpt_vlp16_gps.pcap");
    int rc;
    json_t *doc = RunJson("'" + path + "'", &rc);
    ASSERT_NE(doc, nullptr);
    json_t *data = FlowOf(doc, "velodyne-data"), *pos = FlowOf(doc, "velodyne-position");
    ASSERT_NE(data, nullptr);
    ASSERT_NE(pos, nullptr);
    EXPECT_EQ(json_integer_value(json_object_get(data, "packets")), 293); // SOURCES.md
    EXPECT_EQ(json_integer_value(json_object_get(pos, "packets")), 57);
    EXPECT_STREQ(json_string_value(json_object_get(data, "velodyne_model")), "VLP-16");
    EXPECT_STREQ(json_string_value(json_object_get(data, "velodyne_return_mode")), "strongest");
    EXPECT_EQ(json_integer_value(json_object_get(data, "dst_port")), 2368);
    json_decref(doc);

    VXS_SHARED_OR_SKIP(dual, "datasets/lidar/velodyne/nebula_vlp16_dual.pcap");
    doc = RunJson("'" + dual + "'", &rc);
    data = FlowOf(doc, "velodyne-data");
    ASSERT_NE(data, nullptr);
    EXPECT_STREQ(json_string_value(json_object_get(data, "velodyne_return_mode")), "dual");
    EXPECT_EQ(json_integer_value(json_object_get(data, "packets")), 603);
    json_decref(doc);
}

TEST(InspectCli, EtsiCamAndCpmAreOneGeoNetworkingFlowWithBothPorts) {
    VXS_SHARED_OR_SKIP(path, "datasets/v2x/etsi/msvan3t_cam_cpm.pcap");
    int rc;
    json_t *doc = RunJson("'" + path + "'", &rc);
    ASSERT_NE(doc, nullptr);
    json_t *f = json_array_get(json_object_get(doc, "files"), 0);
    EXPECT_EQ(json_integer_value(json_object_get(json_object_get(f, "classes"),
                                                 "etsi-geonetworking")),
              929); // 367 CAM + 562 CPM (SOURCES.md)
    json_decref(doc);
}

TEST(InspectCli, OusterFragmentsAreReassembledAndSensorsToldApart) {
    VXS_SHARED_OR_SKIP(path, "datasets/lidar/ouster/same_ports_legacy.pcap");
    VXS_TOOL_OR_SKIP("tshark");
    int rc;
    json_t *doc = RunJson("'" + path + "'", &rc);
    ASSERT_NE(doc, nullptr);
    json_t *f = json_array_get(json_object_get(doc, "files"), 0);
    json_int_t frags = json_integer_value(json_object_get(f, "fragments"));
    EXPECT_GT(frags, 0);
    // tshark: number of reassembled UDP datagrams = packets carrying a complete UDP header
    // with the last fragment (ip.flags.mf == 0 and ip.frag_offset > 0) plus unfragmented UDP.
    std::string out;
    ASSERT_EQ(vxs_test::Run("tshark -n -r '" + path +
                                "' -Y 'udp && !(ip.flags.mf == 1)' -T fields -e ip.src 2>/dev/null | sort | uniq -c",
                            &out),
              0);
    std::vector<std::string> srcs = Lines(out);
    // Two sensors on the same ports must be two flows.
    int ouster_flows = 0;
    json_int_t ouster_pkts = 0;
    size_t i;
    json_t *fl;
    json_array_foreach(json_object_get(f, "flows"), i, fl) {
        const char *k = json_string_value(json_object_get(fl, "kind"));
        if (strncmp(k, "ouster", 6) == 0) {
            ouster_flows++;
            ouster_pkts += json_integer_value(json_object_get(fl, "packets"));
        }
    }
    EXPECT_GE(ouster_flows, 2) << out;
    json_int_t tshark_dgrams = 0;
    for (const auto &l : srcs) tshark_dgrams += std::stoll(l);
    EXPECT_EQ(ouster_pkts, tshark_dgrams) << out;
    json_decref(doc);
}

TEST(InspectCli, PhoneVideoIsDetectedByContent) {
    VXS_SHARED_OR_SKIP(path, "datasets/camera/phone_vfr_1080p.mp4");
    // Copy under a misleading name: detection must not use the extension.
    std::string dir = vxs_test::TempDir(), copy = dir + "/not_a_video.pcap";
    ASSERT_TRUE(vxs_test::WriteFile(copy, vxs_test::ReadFile(path)));
    int rc;
    json_t *doc = RunJson("'" + copy + "'", &rc);
    ASSERT_NE(doc, nullptr);
    EXPECT_EQ(rc, 0);
    json_t *f = json_array_get(json_object_get(doc, "files"), 0);
    EXPECT_STREQ(json_string_value(json_object_get(f, "kind")), "video");
    EXPECT_EQ(json_integer_value(json_object_get(f, "frames")), 41);
    EXPECT_STREQ(json_string_value(json_object_get(f, "codec")), "h264");
    EXPECT_STREQ(json_string_value(json_object_get(f, "creation_time")),
                 "2019-12-20T20:08:34.000000000Z");
    // First gap 184.6 ms, then 33.3 ms frames: one gap above 1.5 x median.
    json_t *t = json_object_get(f, "timing");
    EXPECT_NEAR((double)json_integer_value(json_object_get(t, "median_interval_ns")), 33.32e6,
                0.2e6);
    EXPECT_EQ(json_integer_value(json_object_get(t, "gaps")), 1);
    json_decref(doc);
}

TEST(InspectCli, CutVideoCountsEachProblemOnceAndLocatesIt) {
    VXS_SHARED_OR_SKIP(path, "datasets/camera/phone_vfr_1080p.mp4");
    std::vector<uint8_t> bytes = vxs_test::ReadFile(path);
    bytes.resize(1500000);
    std::string dir = vxs_test::TempDir(), cut = dir + "/cut.mp4";
    ASSERT_TRUE(vxs_test::WriteFile(cut, bytes));
    int rc;
    json_t *doc = RunJson("'" + cut + "'", &rc);
    ASSERT_NE(doc, nullptr);
    EXPECT_EQ(rc, 1);
    json_t *f = json_array_get(json_object_get(doc, "files"), 0);
    json_int_t frames = json_integer_value(json_object_get(f, "frames"));
    EXPECT_GT(frames, 0);
    EXPECT_LT(frames, 41);
    json_t *errs = json_object_get(f, "errors");
    json_t *msgs = json_object_get(errs, "messages");
    // Every counted problem has its own message, each naming the file and a byte offset.
    EXPECT_EQ(json_integer_value(json_object_get(errs, "count")), (json_int_t)json_array_size(msgs));
    ASSERT_GE(json_array_size(msgs), 1u);
    size_t i;
    json_t *m;
    json_array_foreach(msgs, i, m) {
        std::string text = json_string_value(json_object_get(m, "message"));
        EXPECT_NE(text.find(cut), std::string::npos) << text;
        EXPECT_NE(text.find("byte offset"), std::string::npos) << text;
    }
    json_decref(doc);
}

TEST(InspectCli, CraftedSampleHasEveryKindAndTheGap) {
    std::string dir = vxs_test::TempDir(), pcap = dir + "/sample.pcap", out;
    ASSERT_EQ(vxs_test::Run("'" + MkSample() + "' '" + pcap + "' 2>/dev/null", &out), 0);
    int rc;
    json_t *doc = RunJson("'" + pcap + "'", &rc);
    ASSERT_NE(doc, nullptr);
    EXPECT_EQ(rc, 0);
    for (const char *k : {"velodyne-data", "velodyne-position", "ouster-lidar",
                          "etsi-geonetworking", "wsmp"})
        EXPECT_NE(FlowOf(doc, k), nullptr) << k;
    json_t *v = FlowOf(doc, "velodyne-data");
    ASSERT_NE(v, nullptr);
    json_t *t = json_object_get(v, "timing");
    EXPECT_EQ(json_integer_value(json_object_get(t, "gaps")), 1); // 38 packets removed
    json_t *g = json_array_get(json_object_get(t, "largest_gaps"), 0);
    EXPECT_EQ(json_integer_value(json_object_get(g, "length_ns")), 39 * 1327000);
    EXPECT_NEAR((double)json_integer_value(json_object_get(t, "median_interval_ns")), 1327000,
                1327000 * 0.002);
    json_t *w = FlowOf(doc, "wsmp");
    EXPECT_EQ(json_integer_value(json_object_get(w, "wsmp_psid")), 0x20);
    json_t *gn = FlowOf(doc, "etsi-geonetworking");
    EXPECT_EQ(json_integer_value(json_object_get(gn, "btp_dst_port")), 2001);
    json_decref(doc);
}

TEST(InspectCli, TruncatedCaptureReportsPositionAndKeepsEarlierPackets) {
    VXS_SHARED_OR_SKIP(path, "datasets/v2x/us/wydot_bsm_wsmp_rewrapped.pcap");
    std::vector<uint8_t> bytes = vxs_test::ReadFile(path);
    std::string dir = vxs_test::TempDir(), cut = dir + "/cut.pcap";
    bytes.resize(bytes.size() / 2);
    ASSERT_TRUE(vxs_test::WriteFile(cut, bytes));
    int rc;
    json_t *doc = RunJson("'" + cut + "'", &rc);
    ASSERT_NE(doc, nullptr);
    EXPECT_EQ(rc, 1) << "damage found: exit status 1";
    json_t *f = json_array_get(json_object_get(doc, "files"), 0);
    json_int_t packets = json_integer_value(json_object_get(f, "packets"));
    EXPECT_GT(packets, 90);
    EXPECT_LT(packets, 222);
    json_t *errs = json_object_get(f, "errors");
    EXPECT_EQ(json_integer_value(json_object_get(errs, "count")), 1);
    json_t *m = json_array_get(json_object_get(errs, "messages"), 0);
    std::string msg = json_string_value(json_object_get(m, "message"));
    EXPECT_NE(msg.find(cut), std::string::npos) << msg;
    EXPECT_NE(msg.find("packet " + std::to_string(packets + 1)), std::string::npos) << msg;
    EXPECT_NE(msg.find("offset"), std::string::npos) << msg;
    json_decref(doc);
    VXS_TOOL_OR_SKIP("capinfos");
    EXPECT_EQ((uint64_t)packets, vxs_test::CapinfosCount(cut));
}

TEST(InspectCli, UnreadableAndUnknownFilesExitTwoButOthersAreStillInspected) {
    std::string dir = vxs_test::TempDir(), txt = dir + "/notes.txt", pcap = dir + "/s.pcap", out;
    ASSERT_TRUE(vxs_test::WriteFile(txt, {'h', 'e', 'l', 'l', 'o', '\n'}));
    ASSERT_EQ(vxs_test::Run("'" + MkSample() + "' '" + pcap + "' 1 2>/dev/null", &out), 0);
    int rc;
    json_t *doc = RunJson("'" + dir + "/missing.pcap' '" + txt + "' '" + pcap + "'", &rc);
    ASSERT_NE(doc, nullptr);
    EXPECT_EQ(rc, 2);
    json_t *files = json_object_get(doc, "files");
    ASSERT_EQ(json_array_size(files), 3u);
    std::string e0 = json_string_value(json_object_get(json_array_get(files, 0), "error"));
    EXPECT_NE(e0.find("missing.pcap"), std::string::npos) << e0;
    std::string e1 = json_string_value(json_object_get(json_array_get(files, 1), "error"));
    EXPECT_NE(e1.find("notes.txt"), std::string::npos) << e1;
    EXPECT_GT(json_integer_value(json_object_get(json_array_get(files, 2), "packets")), 0);
    json_decref(doc);
}

TEST(InspectCli, RecordsOutputHasOneLinePerPacket) {
    std::string dir = vxs_test::TempDir(), pcap = dir + "/s.pcap", jl = dir + "/rec.jsonl", out;
    ASSERT_EQ(vxs_test::Run("'" + MkSample() + "' '" + pcap + "' 1 2>/dev/null", &out), 0);
    int rc;
    json_t *doc = RunJson("--records '" + jl + "' '" + pcap + "'", &rc);
    ASSERT_NE(doc, nullptr);
    EXPECT_EQ(rc, 0);
    json_int_t packets =
        json_integer_value(json_object_get(json_array_get(json_object_get(doc, "files"), 0), "packets"));
    std::ifstream in(jl);
    std::string line;
    json_int_t n = 0;
    while (std::getline(in, line)) {
        json_t *o = json_loads(line.c_str(), 0, nullptr);
        ASSERT_NE(o, nullptr) << line;
        EXPECT_EQ(json_integer_value(json_object_get(json_object_get(o, "locator"), "index")), n);
        json_decref(o);
        n++;
    }
    EXPECT_EQ(n, packets);
    json_decref(doc);
}

// UdpFlowsPcap writes a classic pcap of `n` Ethernet/IPv4/UDP packets, each from its own
// source port (so each is its own flow), 1 ms apart.
void UdpFlowsPcap(const std::string &path, int n) {
    std::vector<uint8_t> b;
    auto le32 = [&b](uint32_t v) {
        for (int i = 0; i < 4; i++) b.push_back(static_cast<uint8_t>(v >> (8 * i)));
    };
    le32(0xa1b2c3d4);
    b.insert(b.end(), {2, 0, 4, 0});
    le32(0), le32(0), le32(65535), le32(1);
    for (int i = 0; i < n; i++) {
        const uint8_t frame[] = {
            0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 2, 0, 0, 0, 0, 1, 0x08, 0x00, // [0:14) Ethernet
            0x45, 0, 0, 29, 0, 0, 0, 0, 64, 17, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2, // [14:34) IPv4
            static_cast<uint8_t>((1024 + i) >> 8), static_cast<uint8_t>(1024 + i), 0x13, 0x88,
            0, 9, 0, 0, // [34:42) UDP, src port 1024+i, dst 5000, length 9
            0x42};      // [42:43) payload
        le32(1700000000 + static_cast<uint32_t>(i) / 1000);
        le32(static_cast<uint32_t>(i) % 1000 * 1000);
        le32(sizeof frame), le32(sizeof frame);
        b.insert(b.end(), frame, frame + sizeof frame);
    }
    ASSERT_TRUE(vxs_test::WriteFile(path, b));
}

TEST(InspectCli, MoreFlowsThanTheTableArePooledNotLost) {
    std::string dir = vxs_test::TempDir(), pcap = dir + "/flows.pcap";
    UdpFlowsPcap(pcap, 5000);
    int rc;
    json_t *doc = RunJson("'" + pcap + "'", &rc);
    ASSERT_NE(doc, nullptr);
    EXPECT_EQ(rc, 0);
    json_t *f = json_array_get(json_object_get(doc, "files"), 0);
    EXPECT_EQ(json_integer_value(json_object_get(f, "packets")), 5000);
    json_t *flows = json_object_get(f, "flows");
    ASSERT_EQ(json_array_size(flows), 4097u); // 4096 flows + the pooled rest
    json_t *other = json_array_get(flows, 4096);
    EXPECT_STREQ(json_string_value(json_object_get(other, "kind")), "other-flows");
    EXPECT_EQ(json_integer_value(json_object_get(other, "packets")), 5000 - 4096);
    json_decref(doc);
}

TEST(InspectCli, HelpAndUsageErrors) {
    std::string out;
    EXPECT_EQ(vxs_test::Run("'" + Cli() + "' inspect --help", &out), 0);
    EXPECT_NE(out.find("--json"), std::string::npos);
    EXPECT_NE(out.find("Exit status"), std::string::npos);
    EXPECT_EQ(vxs_test::Run("'" + Cli() + "' --help", &out), 0);
    EXPECT_NE(out.find("inspect"), std::string::npos);
    EXPECT_EQ(vxs_test::Run("'" + Cli() + "' inspect 2>/dev/null", &out), 2);
    EXPECT_EQ(vxs_test::Run("'" + Cli() + "' inspect --bogus x 2>/dev/null", &out), 2);
    EXPECT_EQ(vxs_test::Run("'" + Cli() + "' nosuchcommand 2>/dev/null", &out), 2);
    EXPECT_EQ(vxs_test::Run("'" + Cli() + "' --version", &out), 0);
    EXPECT_EQ(out.rfind("v2xsync ", 0), 0u);
}

} // namespace
