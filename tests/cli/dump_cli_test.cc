// `v2xsync dump` for LiDAR captures, end to end: --sweeps --json, --points CSV, exit codes.
#include <jansson.h>

#include <cstdio>
#include <cstdlib>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "test_util.h"

namespace {

using vxs_test::Cli;

std::vector<std::string> Lines(const std::string &s) {
    std::vector<std::string> v;
    std::istringstream in(s);
    std::string l;
    while (std::getline(in, l)) v.push_back(l);
    return v;
}

struct JsonDel {
    void operator()(json_t *j) const { json_decref(j); }
};

TEST(DumpCli, SweepsJsonVlp16Gps) {
    VXS_SHARED_OR_SKIP(path, "datasets/lidar/velodyne/mrpt_vlp16_gps.pcap");
    std::string out;
    int rc = vxs_test::Run("'" + Cli() + "' dump --sweeps --json -q '" + path + "'", &out);
    EXPECT_EQ(rc, 0);
    auto lines = Lines(out);
    ASSERT_GE(lines.size(), 4u);
    int complete = 0;
    for (size_t i = 0; i < lines.size(); i++) {
        json_error_t e;
        std::unique_ptr<json_t, JsonDel> o(json_loads(lines[i].c_str(), 0, &e));
        ASSERT_TRUE(o) << e.text << ": " << lines[i];
        EXPECT_EQ(json_integer_value(json_object_get(o.get(), "sweep")), (json_int_t)i);
        EXPECT_STREQ(json_string_value(json_object_get(o.get(), "lidar")), "VLP-16");
        EXPECT_STREQ(json_string_value(json_object_get(o.get(), "pps")), "locked");
        // The device-vs-capture offset SOURCES.md gives: ≈ 0.37 s.
        double off = (double)json_integer_value(json_object_get(o.get(), "capture_minus_device_ns"));
        EXPECT_NEAR(off / 1e9, 0.37, 0.05);
        const char *ds = json_string_value(json_object_get(o.get(), "device_start"));
        ASSERT_NE(ds, nullptr);
        EXPECT_EQ(std::string(ds).substr(0, 16), "2016-01-21T08:18");
        for (const char *k : {"device_start_ns", "device_end_ns", "capture_start_ns",
                              "capture_end_ns", "packets", "packets_missing", "points",
                              "az_start_deg", "az_end_deg", "az_coverage_deg", "complete",
                              "locator", "returns"})
            EXPECT_NE(json_object_get(o.get(), k), nullptr) << k;
        json_t *loc = json_object_get(o.get(), "locator");
        EXPECT_TRUE(json_is_integer(json_object_get(loc, "index")));
        EXPECT_TRUE(json_is_integer(json_object_get(loc, "offset")));
        EXPECT_TRUE(json_is_integer(json_object_get(loc, "count")));
        complete += json_is_true(json_object_get(o.get(), "complete"));
    }
    EXPECT_GE(complete, 3);
}

TEST(DumpCli, PointsCsvOfOneSweepMatchesItsCount) {
    VXS_SHARED_OR_SKIP(path, "datasets/lidar/velodyne/nebula_vlp16_dual.pcap");
    std::string sw, pts;
    ASSERT_EQ(vxs_test::Run("'" + Cli() + "' dump --sweeps --json -q '" + path + "'", &sw), 0);
    auto sweeps = Lines(sw);
    ASSERT_GE(sweeps.size(), 2u);
    json_error_t e;
    std::unique_ptr<json_t, JsonDel> s1(json_loads(sweeps[1].c_str(), 0, &e));
    ASSERT_TRUE(s1);
    json_int_t n = json_integer_value(json_object_get(s1.get(), "points"));
    json_int_t t0 = json_integer_value(json_object_get(s1.get(), "device_start_ns"));
    json_int_t t1 = json_integer_value(json_object_get(s1.get(), "device_end_ns"));
    ASSERT_EQ(vxs_test::Run("'" + Cli() + "' dump --points --sweep 1 -q '" + path + "'", &pts), 0);
    auto lines = Lines(pts);
    ASSERT_FALSE(lines.empty());
    EXPECT_EQ(lines[0], "x,y,z,intensity,laser,return,t_ns");
    EXPECT_EQ((json_int_t)lines.size() - 1, n);
    bool strongest = false, last = false;
    for (size_t i = 1; i < lines.size(); i++) {
        double x, y, z, inten;
        unsigned laser, ret;
        long long t;
        ASSERT_EQ(std::sscanf(lines[i].c_str(), "%lf,%lf,%lf,%lf,%u,%u,%lld", &x, &y, &z, &inten,
                              &laser, &ret, &t), 7) << lines[i];
        EXPECT_LT(laser, 16u);
        EXPECT_GE(t, t0);
        EXPECT_LE(t, t1);
        EXPECT_LT(x * x + y * y + z * z, 200.0 * 200.0);
        strongest |= (ret & 1) != 0;
        last |= (ret & 2) != 0;
    }
    EXPECT_TRUE(strongest && last);
}

TEST(DumpCli, V2xMessagesJsonEtsiCapture) {
    VXS_SHARED_OR_SKIP(path, "datasets/v2x/etsi/msvan3t_cam_cpm.pcap");
    std::string out;
    ASSERT_EQ(vxs_test::Run("'" + Cli() + "' dump --json -q '" + path + "'", &out), 0);
    auto lines = Lines(out);
    ASSERT_EQ(lines.size(), 929u);
    int cams = 0;
    for (const auto &l : lines) {
        std::unique_ptr<json_t, JsonDel> o(json_loads(l.c_str(), 0, nullptr));
        ASSERT_TRUE(o) << l;
        for (const char *k : {"t_capture_ns", "proto", "type", "station_id", "gen_delta_time",
                              "sec_mark", "msg_cnt", "lat_deg", "lon_deg", "speed_mps",
                              "heading_deg", "t_gen_ns"})
            ASSERT_NE(json_object_get(o.get(), k), nullptr) << k << " in " << l;
        EXPECT_STREQ(json_string_value(json_object_get(o.get(), "proto")), "etsi");
        EXPECT_EQ(json_integer_value(json_object_get(o.get(), "station_id")), 100);
        EXPECT_TRUE(json_is_null(json_object_get(o.get(), "sec_mark")));
        EXPECT_TRUE(json_is_integer(json_object_get(o.get(), "t_gen_ns")));
        if (std::string(json_string_value(json_object_get(o.get(), "type"))) == "CAM") {
            cams++;
            EXPECT_TRUE(json_is_integer(json_object_get(o.get(), "gen_delta_time")));
        }
    }
    EXPECT_EQ(cams, 367);
}

TEST(DumpCli, V2xMessagesJsonWydotLog) {
    VXS_SHARED_OR_SKIP(path, "datasets/v2x/us/jpo-ode/data/bsmLogDuringEvent.bin");
    std::string out;
    ASSERT_EQ(vxs_test::Run("'" + Cli() + "' dump --json -q '" + path + "'", &out), 0);
    auto lines = Lines(out);
    ASSERT_EQ(lines.size(), 222u);
    int rx = 0;
    for (const auto &l : lines) {
        std::unique_ptr<json_t, JsonDel> o(json_loads(l.c_str(), 0, nullptr));
        ASSERT_TRUE(o) << l;
        EXPECT_STREQ(json_string_value(json_object_get(o.get(), "proto")), "j2735");
        EXPECT_STREQ(json_string_value(json_object_get(o.get(), "type")), "BSM");
        EXPECT_TRUE(json_is_integer(json_object_get(o.get(), "msg_cnt")));
        EXPECT_TRUE(json_is_integer(json_object_get(o.get(), "sec_mark")));
        EXPECT_TRUE(json_is_null(json_object_get(o.get(), "gen_delta_time")));
        EXPECT_TRUE(json_is_integer(json_object_get(o.get(), "t_gen_ns")));
        rx += std::string(json_string_value(json_object_get(o.get(), "direction"))) == "received";
    }
    EXPECT_EQ(rx, 93);
}

TEST(DumpCli, NonLidarCaptureGivesHeaderOnly) {
    VXS_SHARED_OR_SKIP(path, "datasets/v2x/etsi/msvan3t_cam_cpm.pcap");
    std::string out;
    int rc = vxs_test::Run("'" + Cli() + "' dump --points -q '" + path + "' 2>/dev/null", &out);
    EXPECT_EQ(rc, 0);
    EXPECT_EQ(out, "x,y,z,intensity,laser,return,t_ns\n");
}

// The demo's sample: vxs_mksample writes the Ouster metadata beside the capture, and dump finds
// it there: both sensors' sweeps, the Velodyne's 50 ms hole counted missing, exit 0.
TEST(DumpCli, SampleCaptureWithMetadataBesideIt) {
    const char *mk = std::getenv("VXS_MKSAMPLE");
    std::string dir = vxs_test::TempDir(), pcap = dir + "/sample.pcap", out;
    ASSERT_EQ(vxs_test::Run(std::string("'") + (mk ? mk : VXS_BINARY_DIR "/vxs_mksample") +
                                "' '" + pcap + "' 2>/dev/null", &out), 0);
    ASSERT_EQ(vxs_test::Run("'" + Cli() + "' dump --sweeps --json -q '" + pcap + "'", &out), 0);
    int velo = 0, ouster = 0, missing = 0;
    for (const auto &l : Lines(out)) {
        std::unique_ptr<json_t, JsonDel> o(json_loads(l.c_str(), 0, nullptr));
        ASSERT_TRUE(o) << l;
        std::string lidar = json_string_value(json_object_get(o.get(), "lidar"));
        missing += (int)json_integer_value(json_object_get(o.get(), "packets_missing"));
        if (lidar == "ouster") {
            ouster++;
            EXPECT_GT(json_integer_value(json_object_get(o.get(), "points")), 0);
        } else {
            EXPECT_EQ(lidar, "VLP-16");
            velo++;
        }
    }
    EXPECT_GE(velo, 20);
    EXPECT_GE(ouster, 19);
    EXPECT_GE(missing, 37); // the 50 ms hole at 754 packets/s
}

TEST(DumpCli, UsageErrors) {
    std::string out;
    EXPECT_EQ(vxs_test::Run("'" + Cli() + "' dump 2>/dev/null", &out), 2);
    EXPECT_EQ(vxs_test::Run("'" + Cli() + "' dump --sweeps /nonexistent.pcap 2>/dev/null", &out),
              2);
    EXPECT_EQ(vxs_test::Run("'" + Cli() + "' dump --points --model VLP-99 x.pcap 2>/dev/null",
                            &out), 2);
    EXPECT_EQ(vxs_test::Run("'" + Cli() + "' dump --sweep 3 x.pcap 2>/dev/null", &out), 2);
    EXPECT_EQ(vxs_test::Run("'" + Cli() + "' dump --help", &out), 0);
    EXPECT_NE(out.find("x,y,z,intensity,laser,return,t_ns"), std::string::npos);
}

TEST(DumpCli, MissingSweepIsAnError) {
    VXS_SHARED_OR_SKIP(path, "datasets/lidar/velodyne/nebula_vlp32c.pcap");
    std::string out;
    EXPECT_EQ(vxs_test::Run("'" + Cli() + "' dump --points --sweep 999 -q '" + path +
                            "' 2>/dev/null", &out), 2);
}

} // namespace

// `v2xsync dump` on the real phone clip: one JSON object per frame with the documented keys,
// pts equal to ffprobe's (through the expected file the camera tests use), absolute times
// anchored on creation_time at the end of the recording.
TEST(DumpCli, VideoFramesJsonPhoneClip) {
    VXS_SHARED_OR_SKIP(path, "datasets/camera/phone_vfr_1080p.mp4");
    std::string out;
    int rc = vxs_test::Run("'" + Cli() + "' dump --json -q '" + path + "'", &out);
    EXPECT_EQ(rc, 0);
    auto lines = Lines(out);
    ASSERT_EQ(lines.size(), 41u);
    long long prev_pts = -1, last_t = 0, last_dur = 0;
    for (size_t i = 0; i < lines.size(); i++) {
        json_error_t e;
        std::unique_ptr<json_t, JsonDel> o(json_loads(lines[i].c_str(), 0, &e));
        ASSERT_TRUE(o) << e.text << ": " << lines[i];
        for (const char *k : {"index", "pts", "t_ns", "key", "size"})
            EXPECT_NE(json_object_get(o.get(), k), nullptr) << k;
        EXPECT_EQ(json_integer_value(json_object_get(o.get(), "index")), (json_int_t)i);
        long long pts = json_integer_value(json_object_get(o.get(), "pts"));
        EXPECT_GT(pts, prev_pts);
        if (i == 1) {
            EXPECT_EQ(pts - prev_pts, 16610); // 184.6 ms at 1/90000
        }
        prev_pts = pts;
        EXPECT_STREQ(json_string_value(json_object_get(o.get(), "time_source")),
                     "creation_time_end");
        last_t = json_integer_value(json_object_get(o.get(), "t_ns"));
        last_dur = json_integer_value(json_object_get(o.get(), "duration_ns"));
        if (i == 0) {
            EXPECT_TRUE(json_is_true(json_object_get(o.get(), "key")));
        }
    }
    // creation_time 2019-12-20T20:08:34Z is the end of the last frame
    EXPECT_EQ(last_t + last_dur, 1576872514000000000LL);
}

// --frame N --png OUT writes a PNG that ffmpeg decodes to the same pixels as its own decode of
// frame N.
TEST(DumpCli, VideoFrameToPngEqualsFfmpeg) {
    VXS_SHARED_OR_SKIP(path, "datasets/camera/phone_vfr_1080p.mp4");
    VXS_TOOL_OR_SKIP("ffmpeg");
    std::string dir = vxs_test::TempDir(), out;
    std::string png = dir + "/f7.png";
    ASSERT_EQ(vxs_test::Run("'" + Cli() + "' dump -q --frame 7 --png '" + png + "' '" + path +
                                "' 2>/dev/null",
                            &out),
              0);
    std::string ours, ref;
    ASSERT_EQ(vxs_test::Run("ffmpeg -v error -i '" + png + "' -f rawvideo -pix_fmt rgb24 - > '" +
                                dir + "/ours.rgb'",
                            &out),
              0);
    ASSERT_EQ(vxs_test::Run("ffmpeg -v error -i '" + path +
                                "' -vf 'select=eq(n\\,7)' -vframes 1 -f rawvideo -pix_fmt rgb24 - "
                                "> '" + dir + "/ref.rgb'",
                            &out),
              0);
    auto a = vxs_test::ReadFile(dir + "/ours.rgb"), b = vxs_test::ReadFile(dir + "/ref.rgb");
    ASSERT_EQ(a.size(), 1920u * 1080u * 3u);
    EXPECT_TRUE(a == b) << "frame 7 pixels differ from ffmpeg's decode";
}

TEST(DumpCli, VideoUsageErrors) {
    VXS_SHARED_OR_SKIP(path, "datasets/camera/phone_vfr_1080p.mp4");
    VXS_SHARED_OR_SKIP(pcap, "datasets/v2x/etsi/msvan3t_cam_cpm.pcap");
    std::string out;
    EXPECT_EQ(vxs_test::Run("'" + Cli() + "' dump --frame 3 '" + path + "' 2>/dev/null", &out), 2);
    EXPECT_EQ(vxs_test::Run("'" + Cli() + "' dump --sweeps '" + path + "' 2>/dev/null", &out), 2);
    EXPECT_EQ(vxs_test::Run("'" + Cli() + "' dump --timestamps x.txt '" + pcap + "' 2>/dev/null",
                            &out),
              2);
    EXPECT_EQ(vxs_test::Run("'" + Cli() + "' dump --frame 99 --png /tmp/x.png '" + path +
                                "' 2>/dev/null",
                            &out),
              2); // no frame 99
}
