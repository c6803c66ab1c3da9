// The camera writer (datasets/synth_camera.c): ego/camera.mp4 + ego/camera.timestamps read back
// with the project's camera reader (sensors/vxs_camera.h) and ffprobe, against truth.json.
#include <jansson.h>
#include <sys/stat.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "synth.h"
#include "test_util.h"
#include "vxs_camera.h"

namespace {

// One "camera_frames" item of truth.json.
struct TruthFrame {
    uint64_t index;
    int64_t true_ns, local_ns;
    int64_t stamp_ns; // stamp_true_ns (camera-latency), else true_ns
    bool dropped;
    int64_t frame, pts; // -1 when dropped (null in the JSON)
};

struct Drive {
    std::string dir, mp4, times;
    synth_world_t w;
    std::vector<TruthFrame> frames;  // every nominal frame
    std::vector<TruthFrame> written; // the written ones, in order
};

int64_t JsonInt(json_t *o, const char *key) {
    json_t *v = json_object_get(o, key);
    EXPECT_TRUE(json_is_integer(v)) << key;
    return (int64_t)json_integer_value(v);
}

// MakeDrive runs the camera writer alone on a drive of `seconds` (realism: NULL for classic)
// and loads its truth.
void MakeDrive(Drive *d, uint64_t seed, double seconds, const synth_realism_t *realism = nullptr) {
    ASSERT_EQ(synth_world_init_ex(&d->w, seed, SYNTH_PROFILE_MIXED, seconds, realism), VXS_OK);
    d->dir = vxs_test::TempDir();
    d->mp4 = d->dir + "/ego/" + d->w.agents[SYNTH_EGO].camera.file;
    d->times = d->dir + "/ego/" + d->w.agents[SYNTH_EGO].camera.times;
    char err[512] = "";
    synth_truth_t *t = nullptr;
    ASSERT_EQ(synth_truth_open(&t, (d->dir + "/truth.json").c_str(), &d->w, err, sizeof err),
              VXS_OK)
        << err;
    synth_job_t job = {&d->w, d->dir.c_str(), t, {nullptr, nullptr}, err, sizeof err};
    const vxs_status_t st = synth_write_camera(&job);
    ASSERT_EQ(synth_truth_close(t, err, sizeof err), VXS_OK) << err;
    ASSERT_EQ(st, VXS_OK) << err;

    json_error_t je;
    json_t *root = json_load_file((d->dir + "/truth.json").c_str(), 0, &je);
    ASSERT_TRUE(root) << je.text << " line " << je.line;
    json_t *arr = json_object_get(root, "camera_frames");
    ASSERT_TRUE(json_is_array(arr));
    size_t i;
    json_t *it;
    json_array_foreach(arr, i, it) {
        EXPECT_STREQ(json_string_value(json_object_get(it, "agent")), "ego");
        EXPECT_STREQ(json_string_value(json_object_get(it, "sensor")), "camera");
        TruthFrame f;
        f.index = (uint64_t)JsonInt(it, "index");
        f.true_ns = JsonInt(it, "true_ns");
        f.local_ns = JsonInt(it, "local_ns");
        f.stamp_ns = json_object_get(it, "stamp_true_ns") ? JsonInt(it, "stamp_true_ns")
                                                           : f.true_ns;
        json_t *dr = json_object_get(it, "dropped");
        EXPECT_TRUE(json_is_boolean(dr));
        f.dropped = json_is_true(dr);
        if (f.dropped) {
            EXPECT_TRUE(json_is_null(json_object_get(it, "frame")));
            EXPECT_TRUE(json_is_null(json_object_get(it, "pts")));
            f.frame = f.pts = -1;
        } else {
            f.frame = JsonInt(it, "frame");
            f.pts = JsonInt(it, "pts");
            d->written.push_back(f);
        }
        d->frames.push_back(f);
    }
    json_decref(root);
}

vxs_camera_t *OpenWithSidecar(const Drive &d) {
    vxs_camera_options_t o;
    vxs_camera_options_init(&o);
    o.sidecar = d.times.c_str();
    vxs_camera_t *c = nullptr;
    char err[1024] = "";
    EXPECT_EQ(vxs_camera_open(&c, d.mp4.c_str(), &o, err, sizeof err), VXS_OK) << err;
    return c;
}

// Barcode layout of synth_camera.c: 32 blocks of 16x16 px, MSB first, k then true ms.
constexpr int kBlock = 16;
int BarX(int w) { return (w - 32 * kBlock) / 2 / 16 * 16; }
int BarY(int h) { return (h - kBlock - 4) / 16 * 16; }

// ReadBarcode returns the 32 bits; each block's centre 8x8 must be clearly black or white.
uint32_t ReadBarcode(const std::vector<uint8_t> &rgb, int w, int h) {
    uint32_t code = 0;
    for (int b = 0; b < 32; b++) {
        const int x0 = BarX(w) + b * kBlock + 4, y0 = BarY(h) + 4;
        int sum = 0;
        for (int y = y0; y < y0 + 8; y++)
            for (int x = x0; x < x0 + 8; x++)
                for (int c = 0; c < 3; c++) sum += rgb[((size_t)(y * w + x)) * 3 + (size_t)c];
        const double mean = sum / 192.0;
        EXPECT_TRUE(mean < 40.0 || mean > 215.0) << "barcode block " << b << " mean " << mean;
        code = (code << 1) | (mean > 128.0 ? 1u : 0u);
    }
    return code;
}

std::vector<uint8_t> Fetch(vxs_camera_t *c, uint64_t index, int *w, int *h) {
    vxs_buf_t buf = {};
    uint32_t bw = 0, bh = 0;
    EXPECT_EQ(vxs_camera_fetch_rgb_index(c, &buf, &bw, &bh, index), VXS_OK)
        << "frame " << index << ": " << vxs_camera_errmsg(c);
    std::vector<uint8_t> out(buf.data, buf.data + buf.len);
    vxs_buf_free(&buf);
    *w = (int)bw;
    *h = (int)bh;
    return out;
}

// Project: the camera model of synth_camera.c; returns false behind the camera.
bool Project(const synth_world_t &w, int64_t t, const double world[3], double *u, double *v) {
    const synth_camera_t &cm = w.agents[SYNTH_EGO].camera;
    synth_pose_t p;
    synth_pose(&w, SYNTH_EGO, t, &p);
    double cam[3];
    synth_body_to_world(&p, cm.mount, cam);
    const double d[3] = {world[0] - cam[0], world[1] - cam[1], world[2] - cam[2]};
    const double x = d[0] * std::cos(p.yaw) + d[1] * std::sin(p.yaw);
    const double y = -d[0] * std::sin(p.yaw) + d[1] * std::cos(p.yaw);
    if (x < 0.1) return false;
    const double f = 0.5 * cm.width / std::tan(0.5 * cm.hfov_deg * M_PI / 180.0);
    *u = 0.5 * cm.width - f * y / x;
    *v = 0.5 * cm.height - f * d[2] / x;
    return true;
}

// BoxBounds gives the pixel bounding box of agent a's box (false if any corner is behind).
bool BoxBounds(const synth_world_t &w, size_t a, int64_t t, double bb[4]) {
    const synth_agent_t &g = w.agents[a];
    synth_pose_t p;
    synth_pose(&w, a, t, &p);
    bb[0] = bb[1] = 1e18;
    bb[2] = bb[3] = -1e18;
    for (int i = 0; i < 8; i++) {
        const double body[3] = {(i & 1 ? 0.5 : -0.5) * g.length, (i & 2 ? 0.5 : -0.5) * g.width,
                                i & 4 ? g.height : 0.0};
        double wp[3], u, v;
        synth_body_to_world(&p, body, wp);
        if (!Project(w, t, wp, &u, &v)) return false;
        bb[0] = std::min(bb[0], u);
        bb[1] = std::min(bb[1], v);
        bb[2] = std::max(bb[2], u);
        bb[3] = std::max(bb[3], v);
    }
    return true;
}

TEST(SynthCamera, ReaderSeesEveryWrittenFrameAtItsSidecarTime) {
    Drive d;
    ASSERT_NO_FATAL_FAILURE(MakeDrive(&d, 7, 3.0));
    const synth_camera_t &cm = d.w.agents[SYNTH_EGO].camera;
    const double period = 1e9 / cm.fps;

    // The nominal grid: consecutive indexes, start + phase + round(k period), phase < period,
    // the logger clock applied exactly, frame 0 kept, >= 3 drops on a 3 s drive.
    ASSERT_FALSE(d.frames.empty());
    const int64_t phase = d.frames[0].true_ns - d.w.start_ns;
    EXPECT_GE(phase, 0);
    EXPECT_LT(phase, (int64_t)period);
    std::set<uint64_t> dropped;
    for (size_t i = 0; i < d.frames.size(); i++) {
        const TruthFrame &f = d.frames[i];
        EXPECT_EQ(f.index, i);
        EXPECT_EQ(f.true_ns, d.w.start_ns + phase + std::llround((double)i * period)) << i;
        EXPECT_LT(f.true_ns, d.w.start_ns + d.w.duration_ns);
        EXPECT_EQ(f.local_ns, synth_clock_local(&d.w.agents[SYNTH_EGO].logger, f.true_ns));
        if (f.dropped) dropped.insert(f.index);
    }
    EXPECT_GE(d.frames.back().true_ns + (int64_t)period, d.w.start_ns + d.w.duration_ns);
    EXPECT_EQ(d.frames.size(), 60u);
    EXPECT_FALSE(d.frames[0].dropped);
    EXPECT_GE(dropped.size(), 3u);
    EXPECT_EQ(d.written.size() + dropped.size(), d.frames.size());

    vxs_camera_t *c = OpenWithSidecar(d);
    ASSERT_TRUE(c);
    vxs_camera_info_t info;
    vxs_camera_get_info(c, &info);
    EXPECT_STREQ(info.codec, "h264");
    EXPECT_EQ(info.width, (uint32_t)cm.width);
    EXPECT_EQ(info.height, (uint32_t)cm.height);
    EXPECT_EQ(info.tb_num, 1);
    EXPECT_EQ(info.tb_den, 90000);
    EXPECT_EQ(info.time_source, VXS_CAM_TIME_SIDECAR);
    EXPECT_EQ(info.creation_time, VXS_TIME_NONE); // the sidecar is the only absolute time
    EXPECT_EQ(info.frames_expected, d.written.size());

    std::vector<int64_t> pts;
    for (;;) {
        const vxs_record_t *r = nullptr;
        const vxs_status_t st = vxs_camera_next(c, &r);
        if (st == VXS_EOF) break;
        ASSERT_EQ(st, VXS_OK) << vxs_camera_errmsg(c);
        vxs_camera_frame_info_t fi;
        ASSERT_EQ(vxs_camera_frame_info(c, &fi), VXS_OK);
        const size_t i = pts.size();
        ASSERT_LT(i, d.written.size()) << "more frames than written";
        const TruthFrame &t = d.written[i];
        EXPECT_EQ(t.frame, (int64_t)i);
        EXPECT_EQ(fi.index, i);
        EXPECT_EQ(fi.time_source, VXS_CAM_TIME_SIDECAR);
        EXPECT_EQ(r->capture_time, t.local_ns) << "frame " << i;
        EXPECT_EQ(r->u.frame.pts, t.pts) << "frame " << i;
        EXPECT_EQ(fi.pts, t.pts) << "frame " << i;
        // device_time: pts in ns from the first frame (within the 1 ns of the rescale's rounding)
        EXPECT_NEAR((double)r->device_time, (double)t.pts * 1e9 / 90000.0, 1.0) << "frame " << i;
        // pts = round((local - local_first) * 90000 / 1e9): within half a tick of exact.
        EXPECT_NEAR((double)t.pts, (double)(t.local_ns - d.written[0].local_ns) * 9e-5, 0.5);
        EXPECT_EQ(r->u.frame.key, i % (size_t)std::lround(2 * cm.fps) == 0) << "frame " << i;
        pts.push_back(r->u.frame.pts);
    }
    EXPECT_EQ(pts.size(), d.written.size());
    vxs_camera_counts_t counts;
    vxs_camera_get_counts(c, &counts);
    EXPECT_EQ(counts.bad, 0u);
    EXPECT_EQ(counts.duplicates, 0u);
    EXPECT_GT(counts.reordered, 0u) << "no B-frames: decode order == presentation order";
    vxs_camera_close(c);

    // The drops, seen from the video alone: a pts gap of m periods means m - 1 missing frames.
    std::set<uint64_t> from_gaps;
    uint64_t k = 0;
    for (size_t i = 1; i < pts.size(); i++) {
        const double m = (double)(pts[i] - pts[i - 1]) / (period * 9e-5);
        const long steps = std::lround(m);
        EXPECT_NEAR(m, (double)steps, 0.01) << "frame " << i; // drift is ppm, pts 11 µs
        for (long s = 1; s < steps; s++) from_gaps.insert(k + (uint64_t)s);
        k += (uint64_t)steps;
    }
    EXPECT_EQ(from_gaps, dropped);
}

TEST(SynthCamera, BarcodeCarriesIndexAndTime) {
    Drive d;
    ASSERT_NO_FATAL_FAILURE(MakeDrive(&d, 7, 3.0));
    vxs_camera_t *c = OpenWithSidecar(d);
    ASSERT_TRUE(c);
    // Every frame in order: the barcodes are exactly the written captures, so no dropped
    // frame was encoded; then first, last, both sides of every drop and a few scattered ones
    // again, out of order (each fetch seeks).
    const size_t n = d.written.size();
    std::vector<size_t> want;
    for (size_t i = 0; i < n; i++) want.push_back(i);
    want.push_back(0);
    want.push_back(n - 1);
    for (size_t i = 1; i < n; i++)
        if (d.written[i].index != d.written[i - 1].index + 1) {
            want.push_back(i - 1);
            want.push_back(i);
        }
    for (size_t i : std::vector<size_t>{n / 2, n / 3, 5, n - 2, 1, 2 * n / 3, 41, 39, 40})
        want.push_back(i);
    for (size_t i : want) {
        ASSERT_LT(i, n);
        int w = 0, h = 0;
        const std::vector<uint8_t> rgb = Fetch(c, i, &w, &h);
        ASSERT_EQ(rgb.size(), (size_t)w * (size_t)h * 3);
        const uint32_t code = ReadBarcode(rgb, w, h);
        const TruthFrame &t = d.written[i];
        EXPECT_EQ(code >> 16, t.index & 0xffff) << "frame " << i;
        EXPECT_EQ(code & 0xffff, (uint64_t)(t.true_ns / 1000000) & 0xffff) << "frame " << i;
    }
    vxs_camera_close(c);
}

// Realism camera-latency (with sidecar-names): the sidecar holds the logger's stamp, taken
// stamp_latency_ms (+- 0.5 ms) after the exposure; the picture (its barcode) is the exposure's.
// Read back through the sidecar under the rig's name.
TEST(SynthCamera, StampsComeAfterTheExposureTheImageShows) {
    synth_realism_t r = {};
    r.camera_latency = r.sidecar_names = true;
    Drive d;
    ASSERT_NO_FATAL_FAILURE(MakeDrive(&d, 13, 3.0, &r));
    const synth_camera_t &cm = d.w.agents[SYNTH_EGO].camera;
    const synth_clock_t &logger = d.w.agents[SYNTH_EGO].logger;
    EXPECT_EQ(std::string(cm.times), "front.txt"); // seed 13: stem 13 / 5 % 3, pattern 13 % 5
    EXPECT_EQ(std::string(cm.file), "front.mp4");
    struct stat st;
    ASSERT_EQ(stat(d.times.c_str(), &st), 0) << d.times;
    ASSERT_EQ(stat((d.dir + "/ego/" SYNTH_CAMERA_TIMES).c_str(), &st), -1);
    double sum = 0, sum2 = 0;
    for (const TruthFrame &f : d.frames) {
        const double lat = (double)(f.stamp_ns - f.true_ns) / 1e6;
        EXPECT_GE(lat, 1.0) << f.index;
        EXPECT_NEAR(lat, cm.stamp_latency_ms, 2.5) << f.index; // 5 sigma
        EXPECT_EQ(f.local_ns, synth_clock_local(&logger, f.stamp_ns)) << f.index;
        sum += lat;
        sum2 += lat * lat;
    }
    const double n = (double)d.frames.size(), mean = sum / n;
    EXPECT_NEAR(mean, cm.stamp_latency_ms, 0.25);
    EXPECT_NEAR(std::sqrt(sum2 / n - mean * mean), 0.5, 0.2);

    vxs_camera_t *c = OpenWithSidecar(d);
    ASSERT_TRUE(c);
    for (size_t i = 0; i < d.written.size(); i++) {
        const vxs_record_t *rec = nullptr;
        ASSERT_EQ(vxs_camera_next(c, &rec), VXS_OK) << vxs_camera_errmsg(c);
        const TruthFrame &t = d.written[i];
        EXPECT_EQ(rec->capture_time, t.local_ns) << "frame " << i;
        // the stamp, mapped back through the logger clock: exposure + latency
        EXPECT_EQ(synth_clock_true(&logger, rec->capture_time), t.stamp_ns) << "frame " << i;
    }
    vxs_camera_close(c);
    c = OpenWithSidecar(d);
    ASSERT_TRUE(c);
    for (size_t i : {(size_t)0, d.written.size() / 2, d.written.size() - 1}) {
        int w = 0, h = 0;
        const std::vector<uint8_t> rgb = Fetch(c, i, &w, &h);
        const uint32_t code = ReadBarcode(rgb, w, h);
        const TruthFrame &t = d.written[i];
        EXPECT_EQ(code & 0xffff, (uint64_t)(t.true_ns / 1000000) & 0xffff) << "frame " << i;
        EXPECT_NE(code & 0xffff, (uint64_t)(t.stamp_ns / 1000000) & 0xffff) << "frame " << i;
    }
    vxs_camera_close(c);
}

TEST(SynthCamera, PicturesShowTheMovingWorldAndVehicle2) {
    Drive d;
    ASSERT_NO_FATAL_FAILURE(MakeDrive(&d, 7, 3.0));
    vxs_camera_t *c = OpenWithSidecar(d);
    ASSERT_TRUE(c);
    const synth_agent_t &v2 = d.w.agents[SYNTH_VEHICLE2];
    std::vector<uint8_t> prev;
    int checked = 0;
    for (size_t i = 0; i < d.written.size(); i++) {
        int w = 0, h = 0;
        const std::vector<uint8_t> rgb = Fetch(c, i, &w, &h);
        ASSERT_EQ(rgb.size(), (size_t)w * (size_t)h * 3);
        // Above the barcode strip the ground pattern moves: consecutive frames differ.
        if (!prev.empty()) {
            const size_t end = (size_t)(BarY(h) - 4) * (size_t)w * 3;
            uint64_t diff = 0;
            for (size_t p = 0; p < end; p++) diff += (uint64_t)std::abs(rgb[p] - prev[p]);
            // Measured >= 2.5 at 8 m/s; H.264 noise on a still scene stays well under 1.
            EXPECT_GT((double)diff / (double)end, 1.0) << "frame " << i << " hardly changed";
        }
        prev = rgb;
        // Sky at the top centre (blue dominates), ground below the horizon.
        const uint8_t *top = &rgb[((size_t)2 * (size_t)w + (size_t)w / 2) * 3];
        EXPECT_GT(top[2], top[0] + 60) << "frame " << i << ": no sky";
        // vehicle2's box centre shows its colour (200, 30, 30), unless the phone covers it.
        const int64_t t = d.written[i].true_ns;
        synth_pose_t p;
        synth_pose(&d.w, SYNTH_VEHICLE2, t, &p);
        const double body[3] = {0, 0, 0.5 * v2.height};
        double wc[3], u, v, bb[4], pb[4];
        synth_body_to_world(&p, body, wc);
        if (!Project(d.w, t, wc, &u, &v) || !BoxBounds(d.w, SYNTH_VEHICLE2, t, bb)) continue;
        if (u < 10 || u > w - 10 || v < 10 || v > BarY(h) - 14) continue;
        if (bb[2] - bb[0] < 12 || bb[3] - bb[1] < 12) continue;
        if (BoxBounds(d.w, SYNTH_PHONE, t, pb) && pb[0] < u + 5 && pb[2] > u - 5 &&
            pb[1] < v + 5 && pb[3] > v - 5)
            continue;
        for (int dy = -2; dy <= 2; dy++)
            for (int dx = -2; dx <= 2; dx++) {
                const long py = std::lround(v) + dy, pxl = std::lround(u) + dx;
                const uint8_t *px = &rgb[((size_t)py * (size_t)w + (size_t)pxl) * 3];
                // Flat colour inside a >= 12 px box: H.264 + 4:2:0 + bicubic RGB within 8.
                EXPECT_NEAR(px[0], 200, 8) << "frame " << i;
                EXPECT_NEAR(px[1], 30, 8) << "frame " << i;
                EXPECT_NEAR(px[2], 30, 8) << "frame " << i;
            }
        checked++;
    }
    EXPECT_GT(checked, 10) << "vehicle2 was hardly ever in view";
    vxs_camera_close(c);
}

TEST(SynthCamera, FfprobeAgrees) {
    VXS_TOOL_OR_SKIP("ffprobe");
    Drive d;
    ASSERT_NO_FATAL_FAILURE(MakeDrive(&d, 7, 3.0));
    std::string out;
    ASSERT_EQ(vxs_test::Run("ffprobe -v error -select_streams v:0 -show_entries "
                            "stream=codec_name,time_base,has_b_frames -of csv=p=0 '" + d.mp4 + "'",
                            &out),
              0);
    EXPECT_EQ(out, "h264,2,1/90000\n");
    ASSERT_EQ(vxs_test::Run("ffprobe -v error -select_streams v:0 -show_entries "
                            "frame=pts,pict_type -of csv=p=0 '" + d.mp4 + "'",
                            &out),
              0);
    std::istringstream is(out);
    std::string line;
    std::vector<int64_t> pts;
    int b_frames = 0;
    while (std::getline(is, line)) {
        if (line.empty()) continue;
        pts.push_back(std::strtoll(line.c_str(), nullptr, 10));
        if (line.find(",B") != std::string::npos) b_frames++;
    }
    ASSERT_EQ(pts.size(), d.written.size());
    for (size_t i = 0; i < pts.size(); i++) EXPECT_EQ(pts[i], d.written[i].pts) << "frame " << i;
    EXPECT_GT(b_frames, (int)pts.size() / 3);
}

TEST(SynthCamera, SameSeedSameBytes) {
    Drive a, b, c;
    ASSERT_NO_FATAL_FAILURE(MakeDrive(&a, 21, 2.0));
    ASSERT_NO_FATAL_FAILURE(MakeDrive(&b, 21, 2.0));
    ASSERT_NO_FATAL_FAILURE(MakeDrive(&c, 22, 2.0));
    EXPECT_TRUE(vxs_test::ReadFile(a.mp4) == vxs_test::ReadFile(b.mp4));
    EXPECT_TRUE(vxs_test::ReadFile(a.times) == vxs_test::ReadFile(b.times));
    EXPECT_FALSE(vxs_test::ReadFile(a.mp4) == vxs_test::ReadFile(c.mp4));
    EXPECT_FALSE(vxs_test::ReadFile(a.times) == vxs_test::ReadFile(c.times));
}

// CancelAtOnce asks to stop at the first report.
int CancelAtOnce(void *user, uint64_t done, uint64_t total) {
    EXPECT_LE(done, total);
    ++*static_cast<int *>(user);
    return 1;
}

TEST(SynthCamera, ProgressCanCancel) {
    synth_world_t w;
    ASSERT_EQ(synth_world_init(&w, 3, SYNTH_PROFILE_ETSI, 6.0), VXS_OK); // reports every 5 s
    const std::string dir = vxs_test::TempDir();
    char err[512] = "";
    synth_truth_t *t = nullptr;
    ASSERT_EQ(synth_truth_open(&t, (dir + "/truth.json").c_str(), &w, err, sizeof err), VXS_OK);
    int calls = 0;
    synth_job_t job = {&w, dir.c_str(), t, {CancelAtOnce, &calls}, err, sizeof err};
    EXPECT_EQ(synth_write_camera(&job), VXS_E_CANCELED);
    EXPECT_EQ(calls, 1);
    EXPECT_NE(std::string(err).find("camera.mp4"), std::string::npos) << err;
    synth_truth_close(t, nullptr, 0);
}

// A path that cannot be created is an error naming it (and frees everything: ASan checks).
TEST(SynthCamera, UncreatableFileIsAnErrorNamingIt) {
    synth_world_t w;
    ASSERT_EQ(synth_world_init(&w, 3, SYNTH_PROFILE_ETSI, 2.0), VXS_OK);
    for (const char *blocked : {SYNTH_CAMERA_FILE, SYNTH_CAMERA_TIMES}) {
        const std::string dir = vxs_test::TempDir();
        ASSERT_EQ(mkdir((dir + "/ego").c_str(), 0777), 0);
        ASSERT_EQ(mkdir((dir + "/ego/" + blocked).c_str(), 0777), 0); // a folder in the way
        char err[512] = "";
        synth_truth_t *t = nullptr;
        ASSERT_EQ(synth_truth_open(&t, (dir + "/truth.json").c_str(), &w, err, sizeof err),
                  VXS_OK);
        synth_job_t job = {&w, dir.c_str(), t, {nullptr, nullptr}, err, sizeof err};
        EXPECT_EQ(synth_write_camera(&job), VXS_E_IO) << blocked;
        EXPECT_NE(std::string(err).find(dir + "/ego/" + blocked), std::string::npos) << err;
        synth_truth_close(t, nullptr, 0);
    }
}

} // namespace
