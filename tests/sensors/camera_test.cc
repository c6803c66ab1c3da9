// camera_test.cc: the camera reader (sensors/vxs_camera.h) against ffprobe / ffmpeg's own
// decode, on the real phone clip and on clips generated here with the ffmpeg CLI.
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "test_util.h"
#include "vxs_camera.h"
#include "vxs_core.h"

namespace {

using vxs_test::ReadFile;
using vxs_test::TempDir;
using vxs_test::WriteFile;

struct Frame {
    vxs_record_t rec;
    vxs_camera_frame_info_t info;
};

struct Diags {
    std::vector<std::string> msgs;
};

void OnDiag(void *user, const vxs_diag_t *d) {
    static_cast<Diags *>(user)->msgs.push_back(d->msg ? d->msg : "");
}

// ReadAll runs the index pass to the end; errors are collected in *errors.
std::vector<Frame> ReadAll(vxs_camera_t *c, std::vector<std::string> *errors = nullptr) {
    std::vector<Frame> out;
    for (int guard = 0; guard < 1000000; guard++) {
        const vxs_record_t *r = nullptr;
        vxs_status_t st = vxs_camera_next(c, &r);
        if (st == VXS_EOF) break;
        if (st != VXS_OK) {
            if (errors) errors->push_back(vxs_camera_errmsg(c));
            continue;
        }
        Frame f;
        f.rec = *r;
        EXPECT_EQ(vxs_camera_frame_info(c, &f.info), VXS_OK);
        out.push_back(f);
    }
    return out;
}

vxs_camera_t *Open(const std::string &path, const vxs_camera_options_t *o = nullptr,
                   std::string *err_out = nullptr, vxs_status_t *st_out = nullptr) {
    vxs_camera_t *c = nullptr;
    char err[1024] = "";
    vxs_status_t st = vxs_camera_open(&c, path.c_str(), o, err, sizeof err);
    if (err_out) *err_out = err;
    if (st_out) *st_out = st;
    if (!st_out) {
        EXPECT_EQ(st, VXS_OK) << err;
    }
    return c;
}

// FfprobePts returns best_effort_timestamp of every frame (presentation order).
std::vector<int64_t> FfprobePts(const std::string &path) {
    std::string out;
    std::vector<int64_t> v;
    vxs_test::Run("ffprobe -v error -select_streams v:0 -show_entries "
                  "frame=best_effort_timestamp -of csv=p=0 '" + path + "'",
        &out);
    std::istringstream is(out);
    std::string line;
    while (std::getline(is, line)) {
        if (line.empty() || line[0] == '#') continue;
        // "N/A": ffmpeg cannot time the frame (the last P frame of an AVI with B-frames).
        v.push_back(line.rfind("N/A", 0) == 0 ? INT64_MIN
                                               : std::strtoll(line.c_str(), nullptr, 10));
    }
    return v;
}

std::vector<int64_t> CsvPts(const std::string &path) {
    std::ifstream is(path);
    std::vector<int64_t> v;
    std::string line;
    while (std::getline(is, line)) {
        if (line.empty() || line[0] == '#') continue;
        v.push_back(std::strtoll(line.c_str(), nullptr, 10));
    }
    return v;
}

// Ffmpeg runs the ffmpeg CLI quietly; true on success.
bool Ffmpeg(const std::string &args) {
    std::string out;
    return vxs_test::Run("ffmpeg -nostdin -v error -y " + args + " 2>&1", &out) == 0;
}

// FfmpegRgb decodes frame n of `clip` with the ffmpeg CLI to raw RGB24.
std::vector<uint8_t> FfmpegRgb(const std::string &clip, uint64_t n, const std::string &dir) {
    std::string out = dir + "/ref_" + std::to_string(n) + ".rgb";
    std::string cmd = "-i '" + clip + "' -vf 'select=eq(n\\," + std::to_string(n) +
                      ")' -vframes 1 -f rawvideo -pix_fmt rgb24 '" + out + "'";
    if (!Ffmpeg(cmd)) return {};
    return ReadFile(out);
}

int MaxAbsDiff(const std::vector<uint8_t> &a, const uint8_t *b, size_t n) {
    int m = 0;
    for (size_t i = 0; i < n && i < a.size(); i++) m = std::max(m, std::abs(int(a[i]) - int(b[i])));
    return m;
}

// MakeClip generates a 64x48 test clip of `frames` frames with B-frames.
std::string MakeClip(const std::string &dir, const std::string &name, int frames,
                     const std::string &codec = "-c:v mpeg4 -bf 2 -g 12 -q:v 4") {
    std::string path = dir + "/" + name;
    bool ok = Ffmpeg("-f lavfi -i testsrc=size=64x48:rate=25 -frames:v " +
                     std::to_string(frames) + " " + codec + " '" + path + "'");
    EXPECT_TRUE(ok) << "ffmpeg could not write " << path;
    return ok ? path : "";
}

TEST(CameraPhone, PtsEqualFfprobeAndTimesAnchoredOnCreationEnd) {
    VXS_SHARED_OR_SKIP(path, "datasets/camera/phone_vfr_1080p.mp4");
    vxs_camera_t *c = Open(path);
    ASSERT_NE(c, nullptr);
    vxs_camera_info_t info;
    vxs_camera_get_info(c, &info);
    EXPECT_EQ(info.time_source, VXS_CAM_TIME_CREATION_END);
    EXPECT_EQ(info.width, 1920u);
    EXPECT_EQ(info.tb_den, 90000);
    EXPECT_EQ(info.frames_expected, 41u);
    std::vector<Frame> fr = ReadAll(c);
    ASSERT_EQ(fr.size(), 41u);

    std::vector<int64_t> want;
    if (vxs_test::HaveTool("ffprobe")) {
        want = FfprobePts(path);
    } else {
        std::printf("ffprobe not installed: comparing with tests/sensors/data/phone_vfr_pts.csv\n");
        want = CsvPts(std::string(VXS_SOURCE_DIR) + "/tests/sensors/data/phone_vfr_pts.csv");
    }
    ASSERT_EQ(want.size(), 41u);
    for (size_t i = 0; i < fr.size(); i++) {
        EXPECT_EQ(fr[i].rec.u.frame.pts, want[i]) << "frame " << i;
        EXPECT_EQ(fr[i].rec.loc.index, i);
        EXPECT_EQ(fr[i].rec.seq, i);
        EXPECT_EQ(fr[i].rec.kind, VXS_REC_CAMERA_FRAME);
        EXPECT_EQ(fr[i].rec.device_clock.kind, VXS_CLOCK_DEVICE);
        EXPECT_GT(fr[i].rec.loc.offset, 0u);
        if (i + 1 < fr.size()) {
            EXPECT_EQ(fr[i].info.duration, want[i + 1] - want[i]);
        }
    }
    // The checked-in expectation agrees with ffprobe too.
    EXPECT_EQ(CsvPts(std::string(VXS_SOURCE_DIR) + "/tests/sensors/data/phone_vfr_pts.csv"), want);
    EXPECT_TRUE(fr[0].rec.u.frame.key);
    // VFR: first gap 16610 ticks of 1/90000 = 184.6 ms, then 2999 ticks.
    EXPECT_EQ(fr[1].rec.u.frame.pts - fr[0].rec.u.frame.pts, 16610);
    EXPECT_EQ(fr[1].rec.device_time, 184555556); // 16610 / 90000 s, rounded to the ns
    EXPECT_EQ(fr[0].info.duration_ns, 184555556);
    EXPECT_EQ(fr[2].rec.u.frame.pts - fr[1].rec.u.frame.pts, 2999);
    EXPECT_EQ(fr[40].info.duration, 2999); // the last frame: its packet duration

    vxs_time_t ct;
    ASSERT_EQ(vxs_time_parse(&ct, "2019-12-20T20:08:34Z"), VXS_OK);
    EXPECT_EQ(info.creation_time, ct);
    EXPECT_EQ(fr[40].rec.capture_time + fr[40].info.duration_ns, ct); // END convention
    EXPECT_EQ(fr[0].rec.capture_time, ct - 1517444444);              // 136570 ticks earlier
    for (size_t i = 1; i < fr.size(); i++)
        EXPECT_NEAR(double(fr[i].rec.capture_time - fr[0].rec.capture_time),
                    double(fr[i].rec.device_time), 1.0); // each rounded to the ns once
    EXPECT_EQ(fr[5].info.time_source, VXS_CAM_TIME_CREATION_END);
    vxs_camera_counts_t n;
    vxs_camera_get_counts(c, &n);
    EXPECT_EQ(n.frames, 41u);
    EXPECT_EQ(n.bad + n.duplicates + n.missing_pts + n.late, 0u);
    vxs_camera_close(c);

    // START convention: frame 0 is creation_time.
    vxs_camera_options_t o;
    vxs_camera_options_init(&o);
    o.creation = VXS_CAM_CREATION_START;
    c = Open(path, &o);
    ASSERT_NE(c, nullptr);
    fr = ReadAll(c);
    ASSERT_EQ(fr.size(), 41u);
    EXPECT_EQ(fr[0].rec.capture_time, ct);
    EXPECT_EQ(fr[0].info.time_source, VXS_CAM_TIME_CREATION_START);
    vxs_camera_close(c);

    // IGNORE + scenario offset.
    o.creation = VXS_CAM_CREATION_IGNORE;
    o.has_offset = true;
    o.offset = 1700000000000000000LL;
    c = Open(path, &o);
    ASSERT_NE(c, nullptr);
    fr = ReadAll(c);
    ASSERT_EQ(fr.size(), 41u);
    EXPECT_EQ(fr[1].rec.capture_time, o.offset + 184555556);
    EXPECT_EQ(fr[1].info.time_source, VXS_CAM_TIME_SCENARIO);
    vxs_camera_close(c);
}

TEST(CameraPhone, DecodeMatchesFfmpeg) {
    VXS_SHARED_OR_SKIP(path, "datasets/camera/phone_vfr_1080p.mp4");
    VXS_TOOL_OR_SKIP("ffmpeg");
    std::string dir = TempDir();
    vxs_camera_t *c = Open(path);
    ASSERT_NE(c, nullptr);
    std::vector<Frame> fr = ReadAll(c);
    ASSERT_EQ(fr.size(), 41u);
    vxs_buf_t buf = {};
    for (uint64_t n : {0u, 1u, 17u, 40u, 3u}) {
        uint32_t w = 0, h = 0;
        ASSERT_EQ(vxs_camera_fetch_rgb(c, &buf, &w, &h, &fr[n].rec), VXS_OK)
            << vxs_camera_errmsg(c);
        ASSERT_EQ(w, 1920u);
        ASSERT_EQ(h, 1080u);
        std::vector<uint8_t> ref = FfmpegRgb(path, n, dir);
        ASSERT_EQ(ref.size(), buf.len) << "frame " << n;
        EXPECT_EQ(MaxAbsDiff(ref, buf.data, buf.len), 0) << "frame " << n;
    }
    vxs_buf_free(&buf);
    vxs_camera_close(c);
}

class CameraContainer : public ::testing::TestWithParam<const char *> {};

// B-frames in MP4, MKV and AVI: presentation order, pts as ffprobe reports them, and decoded
// pixels equal to ffmpeg's own decode of the same frame, fetched in increasing and random order.
TEST_P(CameraContainer, BFramesOrderAndPixels) {
    VXS_TOOL_OR_SKIP("ffmpeg");
    VXS_TOOL_OR_SKIP("ffprobe");
    std::string dir = TempDir();
    std::string clip = MakeClip(dir, std::string("b.") + GetParam(), 40);
    ASSERT_FALSE(clip.empty());
    vxs_camera_t *c = Open(clip);
    ASSERT_NE(c, nullptr);
    std::vector<std::string> errs;
    std::vector<Frame> fr = ReadAll(c, &errs);
    EXPECT_TRUE(errs.empty()) << errs[0];
    ASSERT_EQ(fr.size(), 40u);
    // At the end the reader releases its demuxer (the file's sample index); it stays at the
    // end, and the fetches below still decode every frame.
    const vxs_record_t *again = nullptr;
    EXPECT_EQ(vxs_camera_next(c, &again), VXS_EOF);
    EXPECT_EQ(vxs_camera_next(c, &again), VXS_EOF);
    EXPECT_EQ(again, nullptr);
    std::vector<int64_t> want = FfprobePts(clip);
    ASSERT_EQ(want.size(), 40u);
    for (size_t i = 0; i < fr.size(); i++) {
        if (want[i] != INT64_MIN) {
            EXPECT_EQ(fr[i].rec.u.frame.pts, want[i]) << "frame " << i;
        }
        if (i) {
            EXPECT_GT(fr[i].rec.device_time, fr[i - 1].rec.device_time);
        }
        EXPECT_EQ(fr[i].rec.device_time, int64_t(i) * 40000000) << "25 fps, frame " << i;
    }
    vxs_camera_counts_t n;
    vxs_camera_get_counts(c, &n);
    // B-frames: MP4/MKV carry every pts (demuxed out of order); AVI leaves the I/P frames
    // pts unset (the MPEG rule times them).
    EXPECT_GT(n.reordered + n.missing_pts, 0u) << "the clip has B-frames";
    EXPECT_EQ(n.late, 0u);
    EXPECT_EQ(n.duplicates, 0u);

    vxs_buf_t buf = {};
    auto check = [&](uint64_t k) {
        uint32_t w = 0, h = 0;
        ASSERT_EQ(vxs_camera_fetch_rgb(c, &buf, &w, &h, &fr[k].rec), VXS_OK)
            << vxs_camera_errmsg(c);
        ASSERT_EQ(w, 64u);
        ASSERT_EQ(h, 48u);
        std::vector<uint8_t> ref = FfmpegRgb(clip, k, dir);
        ASSERT_EQ(ref.size(), buf.len);
        EXPECT_EQ(MaxAbsDiff(ref, buf.data, buf.len), 0) << GetParam() << " frame " << k;
    };
    for (uint64_t k : {0u, 1u, 2u, 3u, 5u, 12u, 13u, 26u, 39u}) check(k);
    for (uint64_t k : {13u, 2u, 39u, 0u, 25u, 7u, 7u}) check(k);
    // The same frames through the index-addressed fetch (what vxs_source_fetch uses).
    for (uint64_t k : {4u, 20u, 1u}) {
        vxs_buf_t b2 = {};
        ASSERT_EQ(vxs_camera_fetch_rgb(c, &buf, nullptr, nullptr, &fr[k].rec), VXS_OK);
        ASSERT_EQ(vxs_camera_fetch_rgb_index(c, &b2, nullptr, nullptr, k), VXS_OK)
            << vxs_camera_errmsg(c);
        ASSERT_EQ(b2.len, buf.len);
        EXPECT_EQ(std::vector<uint8_t>(b2.data, b2.data + b2.len),
                  std::vector<uint8_t>(buf.data, buf.data + buf.len))
            << "frame " << k;
        vxs_buf_free(&b2);
    }
    EXPECT_EQ(vxs_camera_fetch_rgb_index(c, &buf, nullptr, nullptr, 40), VXS_E_NOTFOUND);
    vxs_buf_free(&buf);
    vxs_camera_close(c);
}

INSTANTIATE_TEST_SUITE_P(Camera, CameraContainer, ::testing::Values("mp4", "mkv", "avi"),
                         [](const ::testing::TestParamInfo<const char *> &i) {
                             return std::string(i.param);
                         });

TEST(CameraClip, H264BFramesAndSourceAdapter) {
    VXS_TOOL_OR_SKIP("ffmpeg");
    VXS_TOOL_OR_SKIP("ffprobe");
    std::string dir = TempDir();
    std::string clip = MakeClip(dir, "x.mp4", 30, "-c:v libx264 -bf 2 -g 10 -pix_fmt yuv420p");
    if (clip.empty()) GTEST_SKIP() << "ffmpeg has no libx264";
    vxs_camera_t *c = Open(clip);
    ASSERT_NE(c, nullptr);
    vxs_source_t *src = nullptr;
    ASSERT_EQ(vxs_camera_source_create(&src, c), VXS_OK);
    std::vector<int64_t> want = FfprobePts(clip);
    std::vector<vxs_record_t> recs;
    const vxs_record_t *r;
    while (vxs_source_next(src, &r) == VXS_OK) recs.push_back(*r);
    ASSERT_EQ(recs.size(), want.size());
    for (size_t i = 0; i < recs.size(); i++) EXPECT_EQ(recs[i].u.frame.pts, want[i]);
    vxs_buf_t buf = {};
    for (uint64_t k : {0u, 9u, 10u, 29u, 11u}) {
        ASSERT_EQ(vxs_source_fetch(src, &buf, &recs[k]), VXS_OK) << vxs_source_errmsg(src);
        std::vector<uint8_t> ref = FfmpegRgb(clip, k, dir);
        ASSERT_EQ(ref.size(), buf.len);
        EXPECT_EQ(MaxAbsDiff(ref, buf.data, buf.len), 0) << "frame " << k;
    }
    vxs_buf_free(&buf);
    vxs_source_destroy(src);
}

TEST(CameraSidecar, KittiAndNanosecondsAndWrongCount) {
    VXS_TOOL_OR_SKIP("ffmpeg");
    std::string dir = TempDir();
    std::string clip = MakeClip(dir, "s.mkv", 10);
    ASSERT_FALSE(clip.empty());
    // KITTI style, with ns precision.
    std::string kitti = dir + "/timestamps.txt", ns = dir + "/ns.txt", bad = dir + "/bad.txt";
    {
        std::ofstream k(kitti), n(ns), b(bad);
        for (int i = 0; i < 10; i++) {
            char line[64];
            std::snprintf(line, sizeof line, "2011-09-26 13:02:%02d.%09d\n", 25 + i / 10,
                          100000000 * (i % 10) + 123);
            k << line;
            n << (1700000000000000000LL + i * 33333333LL) << "\n";
            b << (1700000000000000000LL + i * 33333333LL) << "\n";
        }
        b << "1700000001000000000\n"; // one line too many
    }
    vxs_camera_options_t o;
    vxs_camera_options_init(&o);
    o.sidecar = kitti.c_str();
    vxs_camera_t *c = Open(clip, &o);
    ASSERT_NE(c, nullptr);
    std::vector<Frame> fr = ReadAll(c);
    ASSERT_EQ(fr.size(), 10u);
    vxs_time_t t0;
    ASSERT_EQ(vxs_time_parse(&t0, "2011-09-26T13:02:25.000000123Z"), VXS_OK);
    for (size_t i = 0; i < 10; i++) {
        EXPECT_EQ(fr[i].rec.capture_time, t0 + int64_t(i) * 100000000) << i;
        EXPECT_EQ(fr[i].info.time_source, VXS_CAM_TIME_SIDECAR);
    }
    vxs_camera_close(c);

    o.sidecar = ns.c_str();
    c = Open(clip, &o);
    ASSERT_NE(c, nullptr);
    fr = ReadAll(c);
    ASSERT_EQ(fr.size(), 10u);
    for (size_t i = 0; i < 10; i++)
        EXPECT_EQ(fr[i].rec.capture_time, 1700000000000000000LL + int64_t(i) * 33333333LL);
    vxs_camera_close(c);

    // Seconds with a fraction, unit detected; and the unit given.
    std::string sec = dir + "/sec.txt";
    {
        std::ofstream s(sec);
        s << "# seconds\n";
        for (int i = 0; i < 10; i++) s << "1700000000." << (100 + i) << "000000\n";
    }
    o.sidecar = sec.c_str();
    o.sidecar_unit = VXS_CAM_UNIT_S;
    c = Open(clip, &o);
    ASSERT_NE(c, nullptr);
    fr = ReadAll(c);
    ASSERT_EQ(fr.size(), 10u);
    EXPECT_EQ(fr[3].rec.capture_time, 1700000000103000000LL);
    vxs_camera_close(c);
    o.sidecar_unit = VXS_CAM_UNIT_AUTO;

    std::string err;
    vxs_status_t st;
    o.sidecar = bad.c_str();
    c = Open(clip, &o, &err, &st);
    EXPECT_EQ(c, nullptr);
    EXPECT_EQ(st, VXS_E_MALFORMED);
    EXPECT_NE(err.find("11 timestamp lines"), std::string::npos) << err;
    EXPECT_NE(err.find("10 frames"), std::string::npos) << err;
    EXPECT_NE(err.find(bad), std::string::npos) << err;

    // A line that does not parse: file and line number.
    std::string junk = dir + "/junk.txt";
    {
        std::ofstream j(junk);
        j << "1700000000\n1700000001\nhello\n";
    }
    o.sidecar = junk.c_str();
    c = Open(clip, &o, &err, &st);
    EXPECT_EQ(c, nullptr);
    EXPECT_EQ(st, VXS_E_MALFORMED);
    EXPECT_NE(err.find(junk + ": line 3"), std::string::npos) << err;
}

// What rigs write beside a video besides one value a line: CSV with a header naming the time
// column (any case, "stamp" before "time"), ROS's `rostopic echo -p` rows, EuRoC's rows after a
// '#' header, a frame number before the time, quotes, ';', a byte order mark and CRLF.
TEST(CameraSidecar, CsvLayouts) {
    VXS_TOOL_OR_SKIP("ffmpeg");
    const std::string dir = TempDir();
    const std::string clip = MakeClip(dir, "c.mkv", 10);
    ASSERT_FALSE(clip.empty());
    const int64_t t0 = 1700000000000000000LL, dt = 33333333LL;
    struct Layout {
        const char *name, *head;
        std::string (*row)(int i, int64_t t);
    } layouts[] = {
        {"header.csv", "\xEF\xBB\xBF" "frame,timestamp_ns\r\n",
         [](int i, int64_t t) { return std::to_string(i) + "," + std::to_string(t) + "\r\n"; }},
        {"ros.csv", "%time,field.header.seq,field.header.stamp,field.header.frame_id\n",
         [](int i, int64_t t) {
             return std::to_string(t + 5000000) + "," + std::to_string(i) + "," +
                    std::to_string(t) + ",camera\n";
         }},
        {"euroc.csv", "#timestamp [ns],filename\n",
         [](int, int64_t t) { return std::to_string(t) + "," + std::to_string(t) + ".png\n"; }},
        {"frame-first.csv", "",
         [](int i, int64_t t) {
             char v[64];
             std::snprintf(v, sizeof v, "%d, %lld.%09lld\n", i, (long long)(t / 1000000000),
                           (long long)(t % 1000000000));
             return std::string(v);
         }},
        {"quoted.csv", "\"Frame\";\"Time (s)\"\n",
         [](int i, int64_t t) {
             char v[64];
             std::snprintf(v, sizeof v, "\"%d\";\"%lld.%09lld\"\n", i,
                           (long long)(t / 1000000000), (long long)(t % 1000000000));
             return std::string(v);
         }},
        {"single.txt", "timestamp\n", [](int, int64_t t) { return std::to_string(t) + "\n"; }},
    };
    for (const Layout &l : layouts) {
        SCOPED_TRACE(l.name);
        const std::string path = dir + "/" + l.name;
        {
            std::ofstream f(path, std::ios::binary);
            f << l.head;
            for (int i = 0; i < 10; i++) f << l.row(i, t0 + i * dt);
        }
        uint64_t n = 0;
        char err[512];
        ASSERT_EQ(vxs_camera_sidecar_count(&n, path.c_str(), VXS_CAM_UNIT_AUTO, err, sizeof err),
                  VXS_OK) << err;
        EXPECT_EQ(n, 10u); // the header is not a frame
        vxs_camera_options_t o;
        vxs_camera_options_init(&o);
        o.sidecar = path.c_str();
        std::string e;
        vxs_camera_t *c = Open(clip, &o, &e);
        ASSERT_NE(c, nullptr) << e;
        std::vector<Frame> fr = ReadAll(c);
        ASSERT_EQ(fr.size(), 10u);
        for (size_t i = 0; i < 10; i++) EXPECT_EQ(fr[i].rec.capture_time, t0 + int64_t(i) * dt);
        vxs_camera_close(c);
    }

    // The unit given is the unit used (AUTO would read 1.7e15 as microseconds).
    const std::string us = dir + "/unit.txt";
    {
        std::ofstream f(us);
        for (int i = 0; i < 10; i++) f << (1700000000000000LL + i) << "\n";
    }
    vxs_camera_options_t o;
    vxs_camera_options_init(&o);
    o.sidecar = us.c_str();
    o.sidecar_unit = VXS_CAM_UNIT_NS;
    vxs_camera_t *c = Open(clip, &o);
    ASSERT_NE(c, nullptr);
    std::vector<Frame> fr = ReadAll(c);
    ASSERT_EQ(fr.size(), 10u);
    EXPECT_EQ(fr[2].rec.capture_time, 1700000000000002LL);
    vxs_camera_close(c);

    // Errors name the file, the line and the field.
    struct Bad {
        const char *name, *text, *want;
    } bads[] = {
        {"nameless.csv", "a,b\n0,1\n", ": line 1: no field is a time"},
        {"short.csv", "frame,time\n0,1700000000\n1\n", ": line 3: no field 2 (the time column)"},
        {"value.csv", "frame,time\n0,1700000000\n1,soon\n", ": line 3: field 2, \"soon\", is "},
        {"words.txt", "hello\n", ": line 1: \"hello\" is neither"},
    };
    for (const Bad &b : bads) {
        SCOPED_TRACE(b.name);
        const std::string path = dir + "/" + b.name;
        {
            std::ofstream f(path);
            f << b.text;
        }
        uint64_t n = 7;
        char err[512];
        EXPECT_EQ(vxs_camera_sidecar_count(&n, path.c_str(), VXS_CAM_UNIT_AUTO, err, sizeof err),
                  VXS_E_MALFORMED);
        EXPECT_EQ(n, 0u);
        EXPECT_EQ(std::string(err).find(path + b.want), 0u) << err;
    }
    uint64_t n = 0;
    char err[512];
    EXPECT_EQ(vxs_camera_sidecar_count(&n, (dir + "/none.csv").c_str(), VXS_CAM_UNIT_AUTO, err,
                                       sizeof err), VXS_E_IO);
    EXPECT_EQ(vxs_camera_sidecar_count(nullptr, us.c_str(), VXS_CAM_UNIT_AUTO, err, sizeof err),
              VXS_E_ARG);
}

TEST(CameraImages, IndexAndTimestampNamesAndCorruptFile) {
    VXS_TOOL_OR_SKIP("ffmpeg");
    std::string dir = TempDir();
    std::string seq = dir + "/seq", ts = dir + "/ts";
    std::string sh;
    ASSERT_EQ(vxs_test::Run("mkdir -p '" + seq + "' '" + ts + "'", &sh), 0);
    ASSERT_TRUE(Ffmpeg("-f lavfi -i testsrc=size=64x48:rate=10 -frames:v 12 -f image2 '" + seq +
                       "/%06d.png'"));
    // Timestamp-named copies: seconds with 9 decimals (some) and ns integers (others) would be
    // mixed kinds; use one kind per folder: "S.nnnnnnnnn.png". Listed out of order on purpose.
    for (int i = 1; i <= 12; i++) {
        char src[64], dst[64];
        std::snprintf(src, sizeof src, "%06d.png", i);
        std::snprintf(dst, sizeof dst, "17000000%02d.%09d.png", i, 5 * i);
        ASSERT_EQ(vxs_test::Run("cp '" + seq + "/" + src + "' '" + ts + "/" + dst + "'", &sh), 0);
    }
    vxs_camera_t *c = Open(seq);
    ASSERT_NE(c, nullptr);
    vxs_camera_info_t info;
    vxs_camera_get_info(c, &info);
    EXPECT_TRUE(info.image_sequence);
    EXPECT_EQ(info.frames_expected, 12u);
    std::vector<Frame> fr = ReadAll(c);
    ASSERT_EQ(fr.size(), 12u);
    EXPECT_EQ(fr[0].rec.u.frame.width, 64u);
    EXPECT_EQ(fr[0].rec.u.frame.height, 48u);
    EXPECT_TRUE(fr[3].rec.u.frame.key);
    EXPECT_EQ(fr[3].rec.capture_time, VXS_TIME_NONE);
    EXPECT_EQ(fr[3].rec.u.frame.size, ReadFile(seq + "/000004.png").size());
    // Pixels: the PNG decoded by ffmpeg.
    vxs_buf_t buf = {};
    uint32_t w = 0, h = 0;
    ASSERT_EQ(vxs_camera_fetch_rgb(c, &buf, &w, &h, &fr[4].rec), VXS_OK) << vxs_camera_errmsg(c);
    std::string ref = dir + "/ref.rgb";
    ASSERT_TRUE(Ffmpeg("-i '" + seq + "/000005.png' -f rawvideo -pix_fmt rgb24 '" + ref + "'"));
    std::vector<uint8_t> rb = ReadFile(ref);
    ASSERT_EQ(rb.size(), buf.len);
    EXPECT_EQ(MaxAbsDiff(rb, buf.data, buf.len), 0);
    vxs_camera_close(c);

    c = Open(ts);
    ASSERT_NE(c, nullptr);
    fr = ReadAll(c);
    ASSERT_EQ(fr.size(), 12u);
    for (size_t i = 0; i < 12; i++) {
        int64_t want = (1700000000LL + int64_t(i) + 1) * 1000000000LL + 5 * int64_t(i + 1);
        EXPECT_EQ(fr[i].rec.capture_time, want) << i;
        EXPECT_EQ(fr[i].info.time_source, VXS_CAM_TIME_FILENAME);
    }
    vxs_camera_close(c);

    // A corrupt file in the middle: an error naming it, the others still listed.
    std::vector<uint8_t> junk(300, 0x5a);
    ASSERT_TRUE(WriteFile(seq + "/000006.png", junk));
    Diags diags;
    vxs_diag_sink_t sink = {OnDiag, &diags};
    vxs_camera_options_t o;
    vxs_camera_options_init(&o);
    o.diag = &sink;
    c = Open(seq, &o);
    ASSERT_NE(c, nullptr);
    std::vector<std::string> errs;
    fr = ReadAll(c, &errs);
    EXPECT_EQ(fr.size(), 11u);
    ASSERT_EQ(errs.size(), 1u);
    EXPECT_NE(errs[0].find("000006.png"), std::string::npos) << errs[0];
    EXPECT_NE(errs[0].find("frame 5"), std::string::npos) << errs[0];
    ASSERT_EQ(diags.msgs.size(), 1u);
    EXPECT_EQ(fr[5].rec.loc.index, 6u) << "later frames keep their index";
    vxs_camera_counts_t n;
    vxs_camera_get_counts(c, &n);
    EXPECT_EQ(n.bad, 1u);
    // Damage in the pixel data only: the header reads, the decode fails with the name.
    std::vector<uint8_t> png = ReadFile(seq + "/000008.png");
    ASSERT_GT(png.size(), 100u);
    for (size_t i = 60; i < png.size() - 12; i++) png[i] ^= 0xA5;
    ASSERT_TRUE(WriteFile(seq + "/000008.png", png));
    vxs_status_t st = vxs_camera_fetch_rgb_index(c, &buf, nullptr, nullptr, 7);
    EXPECT_NE(st, VXS_OK);
    EXPECT_NE(std::string(vxs_camera_errmsg(c)).find("000008.png"), std::string::npos)
        << vxs_camera_errmsg(c);
    EXPECT_EQ(vxs_camera_fetch_rgb_index(c, &buf, nullptr, nullptr, 8), VXS_OK);
    vxs_buf_free(&buf);
    vxs_camera_close(c);
}

TEST(CameraDamage, TruncatedAndBitFlippedContainers) {
    VXS_TOOL_OR_SKIP("ffmpeg");
    std::string dir = TempDir();
    std::string mp4 = MakeClip(dir, "t.mp4", 40, "-c:v mpeg4 -bf 2 -g 12 -movflags +faststart");
    std::string mkv = MakeClip(dir, "t.mkv", 40);
    ASSERT_FALSE(mp4.empty());
    ASSERT_FALSE(mkv.empty());
    for (const std::string &clip : {mp4, mkv}) {
        std::vector<uint8_t> all = ReadFile(clip);
        for (double frac : {0.3, 0.5, 0.8, 0.97}) {
            size_t cut = size_t(double(all.size()) * frac);
            std::string path = clip + ".cut" + std::to_string(cut);
            std::vector<uint8_t> head(all.begin(), all.begin() + long(cut));
            ASSERT_TRUE(WriteFile(path, head));
            std::string err;
            vxs_status_t st;
            vxs_camera_t *c = Open(path, nullptr, &err, &st);
            if (!c) {
                // The cut took the header: the error names the file.
                EXPECT_NE(err.find(path), std::string::npos) << err;
                continue;
            }
            std::vector<std::string> errs;
            std::vector<Frame> fr = ReadAll(c, &errs);
            EXPECT_LT(fr.size(), 40u) << path;
            EXPECT_GT(fr.size(), 0u) << path;
            ASSERT_GE(errs.size(), 1u) << path << ": no error for a cut file";
            EXPECT_NE(errs.back().find(path), std::string::npos) << errs.back();
            EXPECT_NE(errs.back().find("byte offset"), std::string::npos) << errs.back();
            for (size_t i = 0; i < fr.size(); i++) EXPECT_EQ(fr[i].rec.loc.index, i);
            // Frames before the damage still decode.
            vxs_buf_t buf = {};
            EXPECT_EQ(vxs_camera_fetch_rgb(c, &buf, nullptr, nullptr, &fr[0].rec), VXS_OK)
                << vxs_camera_errmsg(c);
            vxs_buf_free(&buf);
            vxs_camera_close(c);
        }
        // Bit flips: anything but a crash.
        uint32_t seed = 12345;
        for (int round = 0; round < 12; round++) {
            std::vector<uint8_t> b = all;
            for (int k = 0; k < 1 + round; k++) {
                seed = seed * 1103515245u + 12345u;
                b[(seed >> 8) % b.size()] ^= uint8_t(1u << ((seed >> 4) % 8));
            }
            vxs_camera_t *c = nullptr;
            char err[512];
            if (vxs_camera_open_mem(&c, b.data(), b.size(), "flipped", nullptr, err,
                                    sizeof err) != VXS_OK)
                continue;
            std::vector<Frame> fr = ReadAll(c);
            vxs_buf_t buf = {};
            for (size_t i = 0; i < fr.size(); i += 7)
                (void)vxs_camera_fetch_rgb(c, &buf, nullptr, nullptr, &fr[i].rec);
            vxs_buf_free(&buf);
            vxs_camera_close(c);
        }
    }
    // A file that is not a video at all.
    std::string txt = dir + "/not_video.mp4";
    ASSERT_TRUE(WriteFile(txt, std::vector<uint8_t>(1000, 'x')));
    std::string err;
    vxs_status_t st;
    EXPECT_EQ(Open(txt, nullptr, &err, &st), nullptr);
    EXPECT_NE(st, VXS_OK);
    EXPECT_NE(err.find(txt), std::string::npos) << err;
}

TEST(CameraMemory, LongClipBoundedIndexPass) {
    VXS_TOOL_OR_SKIP("ffmpeg");
    std::string dir = TempDir();
    std::string clip = MakeClip(dir, "long.mkv", 3000, "-c:v mpeg4 -bf 2 -g 25 -q:v 10");
    ASSERT_FALSE(clip.empty());
    std::vector<uint8_t> bytes = ReadFile(clip);
    vxs_camera_t *c = nullptr;
    char err[512] = "";
    vxs_test::FailAllocAfter counter(1L << 40); // counts vxs_ allocations, never fails
    ASSERT_EQ(vxs_camera_open_mem(&c, bytes.data(), bytes.size(), "long.mkv", nullptr, err,
                                  sizeof err),
              VXS_OK)
        << err;
    long after_open = vxs_test::FailAllocAfter::AllocCount();
    uint64_t n = 0;
    int64_t prev = INT64_MIN;
    const vxs_record_t *r;
    vxs_status_t st;
    while ((st = vxs_camera_next(c, &r)) == VXS_OK) {
        EXPECT_GT(r->u.frame.pts, prev);
        prev = r->u.frame.pts;
        n++;
    }
    EXPECT_EQ(st, VXS_EOF) << vxs_camera_errmsg(c);
    EXPECT_EQ(n, 3000u);
    // The index pass allocates nothing per frame: everything is sized at open.
    EXPECT_EQ(vxs_test::FailAllocAfter::AllocCount(), after_open);
    vxs_camera_close(c);
}

TEST(CameraApi, ArgumentsAndNames) {
    vxs_camera_t *c = nullptr;
    EXPECT_EQ(vxs_camera_open(&c, nullptr, nullptr, nullptr, 0), VXS_E_ARG);
    EXPECT_EQ(vxs_camera_open(nullptr, "x", nullptr, nullptr, 0), VXS_E_ARG);
    char err[256];
    EXPECT_EQ(vxs_camera_open(&c, "/nonexistent/clip.mp4", nullptr, err, sizeof err), VXS_E_IO);
    EXPECT_NE(std::string(err).find("/nonexistent/clip.mp4"), std::string::npos) << err;
    EXPECT_EQ(vxs_camera_open_mem(&c, "abc", 3, "m", nullptr, err, sizeof err), VXS_E_UNSUPPORTED);
    EXPECT_EQ(c, nullptr);
    vxs_camera_close(nullptr);
    EXPECT_STREQ(vxs_camera_errmsg(nullptr), "");
    EXPECT_STREQ(vxs_cam_time_source_name(VXS_CAM_TIME_CREATION_END), "creation_time_end");
    EXPECT_STREQ(vxs_cam_time_source_name(VXS_CAM_TIME_SIDECAR), "sidecar");
    vxs_camera_options_t o;
    vxs_camera_options_init(&o);
    o.reorder_window = 1000;
    EXPECT_EQ(vxs_camera_open(&c, "x", &o, err, sizeof err), VXS_E_ARG);
}

} // namespace
