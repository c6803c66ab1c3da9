// ouster_test.cc: Ouster metadata (flat, nested, reduced), lidar packets of every profile
// (real captures and synthetic packets laid out from shared/specs §3), XYZ against the
// xyzlut.cpp formula evaluated here by hand, IMU packets, and damaged input.
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <map>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "test_util.h"
#include "vxs_core.h"
#include "vxs_lidar.h"
#include "vxs_sensors.h"

namespace {

const char *const kDir = "datasets/lidar/ouster/";

struct Meta {
    vxs_ouster_meta_t *m = nullptr;
    vxs_ouster_info_t info{};
    ~Meta() { vxs_ouster_meta_destroy(m); }
};

// LoadMeta loads a metadata file of ../shared or fails the test.
void LoadMeta(Meta *out, const std::string &path) {
    char err[256];
    ASSERT_EQ(vxs_ouster_meta_load(&out->m, path.c_str(), err, sizeof err), VXS_OK) << err;
    vxs_ouster_meta_get_info(out->m, &out->info);
}

vxs_status_t ParseJson(const std::string &json, std::string *err, vxs_ouster_meta_t **out) {
    char buf[256];
    vxs_status_t st = vxs_ouster_meta_parse(out, json.data(), json.size(), "x.json", buf,
                                            sizeof buf);
    *err = buf;
    return st;
}

struct Udp {
    std::vector<uint8_t> pl;
    uint16_t dst_port;
    uint8_t src[16];
};

// ReadUdp returns every UDP payload of a capture (reassembled datagrams included).
std::vector<Udp> ReadUdp(const std::string &path) {
    std::vector<Udp> r;
    vxs_pcap_t *p = nullptr;
    char err[256];
    if (vxs_pcap_open_file(&p, path.c_str(), nullptr, nullptr, err, sizeof err) != VXS_OK) {
        ADD_FAILURE() << err;
        return r;
    }
    const vxs_packet_t *k;
    while (vxs_pcap_next(p, &k) == VXS_OK) {
        const vxs_pkt_info_t *i = vxs_packet_payload(k);
        if (!i || i->kind != VXS_PL_UDP) continue;
        Udp u;
        u.pl.assign(i->payload, i->payload + i->payload_len);
        u.dst_port = i->dst_port;
        memcpy(u.src, i->src_addr, 16);
        r.push_back(std::move(u));
    }
    vxs_pcap_close(p);
    return r;
}

std::vector<std::vector<uint8_t>> LidarPackets(const std::vector<Udp> &udp, size_t size) {
    std::vector<std::vector<uint8_t>> r;
    for (const Udp &u : udp)
        if (u.pl.size() == size) r.push_back(u.pl);
    return r;
}

uint32_t Le32(const uint8_t *p) {
    return static_cast<uint32_t>(p[0]) | static_cast<uint32_t>(p[1]) << 8 |
           static_cast<uint32_t>(p[2]) << 16 | static_cast<uint32_t>(p[3]) << 24;
}
uint16_t Le16(const uint8_t *p) { return static_cast<uint16_t>(p[0] | p[1] << 8); }
void Put(std::vector<uint8_t> *b, size_t at, uint64_t v, int bytes) {
    for (int i = 0; i < bytes; i++) (*b)[at + static_cast<size_t>(i)] = static_cast<uint8_t>(v >> (8 * i));
}

// Every lidar packet of a single-frame capture: 64 packets x 16 columns, each measurement_id
// once, one frame id; returns the points of the whole frame.
void CheckFrame(const Meta &meta, const std::vector<std::vector<uint8_t>> &pkts,
                vxs_points_t *pts) {
    ASSERT_EQ(pkts.size(), 64u);
    std::set<uint32_t> frames;
    std::vector<int> seen(meta.info.columns_per_frame, 0);
    uint64_t prev_ts = 0;
    for (const auto &p : pkts) {
        vxs_ouster_header_t h;
        ASSERT_EQ(vxs_ouster_parse_header(&h, meta.m, p.data(), p.size()), VXS_OK);
        EXPECT_EQ(h.columns_valid, 16);
        EXPECT_EQ(h.mid_last - h.mid_first, 15);
        EXPECT_GT(h.ts_last, h.ts_first);
        EXPECT_GT(h.ts_first, prev_ts);
        prev_ts = h.ts_last;
        frames.insert(h.frame_id);
        for (int c = 0; c < 16; c++) seen[h.mid_first + static_cast<unsigned>(c)]++;
        if (meta.info.profile != VXS_OUSTER_LEGACY) {
            EXPECT_EQ(h.init_id, meta.info.init_id);
            EXPECT_EQ(h.prod_sn, meta.info.prod_sn);
        }
        size_t before = pts->len;
        ASSERT_EQ(vxs_ouster_decode(meta.m, pts, p.data(), p.size()), VXS_OK);
        uint8_t bits = 0;
        EXPECT_EQ(vxs_ouster_count_points(meta.m, &bits, p.data(), p.size()), pts->len - before);
        EXPECT_EQ(bits, pts->len > before ? VXS_RET_STRONGEST : 0);
        EXPECT_LE(pts->len - before, 16u * meta.info.pixels_per_column);
        for (size_t i = before; i < pts->len; i++) {
            const vxs_point_t &q = pts->pts[i];
            ASSERT_LT(q.laser, meta.info.pixels_per_column);
            ASSERT_LT(q.azimuth, 36000);
            ASSERT_EQ(q.ret, VXS_RET_STRONGEST);
            ASSERT_GE(q.t_ns, static_cast<int64_t>(h.ts_first));
            ASSERT_LE(q.t_ns, static_cast<int64_t>(h.ts_last));
            ASSERT_TRUE(std::isfinite(q.x) && std::isfinite(q.y) && std::isfinite(q.z));
            ASSERT_LT(std::sqrt(q.x * q.x + q.y * q.y + q.z * q.z), 1100.0f);
        }
    }
    EXPECT_EQ(frames.size(), 1u);
    for (uint32_t c = 0; c < meta.info.columns_per_frame; c++) ASSERT_EQ(seen[c], 1) << c;
}

// HandXyz evaluates shared/specs §3.1 (xyzlut.cpp) for one pixel, in metres.
struct Xyz {
    double x, y, z;
};
Xyz HandXyz(double range_mm, uint32_t mid, uint32_t w, double alt_deg, double az_deg, double n_mm,
            const double l2s[16], double b2l_z = 0) {
    const double pi = 3.14159265358979323846;
    double te = 2 * pi - mid * 2 * pi / w, ta = -az_deg * pi / 180, phi = alt_deg * pi / 180;
    double arm = b2l_z != 0 ? std::sqrt(n_mm * n_mm + b2l_z * b2l_z) : n_mm;
    double d[3] = {std::cos(te + ta) * std::cos(phi), std::sin(te + ta) * std::cos(phi),
                   std::sin(phi)};
    double o[3] = {std::cos(te) * n_mm - d[0] * arm, std::sin(te) * n_mm - d[1] * arm,
                   -d[2] * arm + b2l_z};
    double p[3];
    for (int i = 0; i < 3; i++) p[i] = range_mm * d[i] + o[i];
    double s[3];
    for (int i = 0; i < 3; i++)
        s[i] = l2s[4 * i] * p[0] + l2s[4 * i + 1] * p[1] + l2s[4 * i + 2] * p[2] + l2s[4 * i + 3];
    return {s[0] / 1000, s[1] / 1000, s[2] / 1000};
}

// FindPoint returns the point of (mid, row, ret) in `pts`, or nullptr.
const vxs_point_t *FindPoint(const vxs_points_t &pts, uint32_t mid, uint32_t w, uint16_t row,
                             uint8_t ret = VXS_RET_STRONGEST) {
    const uint16_t az = static_cast<uint16_t>(mid * 36000u / w);
    for (size_t i = 0; i < pts.len; i++)
        if (pts.pts[i].azimuth == az && pts.pts[i].laser == row && pts.pts[i].ret == ret)
            return &pts.pts[i];
    return nullptr;
}

void ExpectNear(const vxs_point_t *p, const Xyz &e) {
    ASSERT_NE(p, nullptr);
    EXPECT_NEAR(p->x, e.x, 0.001);
    EXPECT_NEAR(p->y, e.y, 0.001);
    EXPECT_NEAR(p->z, e.z, 0.001);
}

// Damage runs every truncation and random byte flips of `pkt` through the decoder: an error
// with nothing appended, or a valid decode.
void Damage(const vxs_ouster_meta_t *m, const std::vector<uint8_t> &pkt, unsigned seed) {
    vxs_points_t pts{};
    vxs_ouster_header_t h;
    vxs_ouster_info_t info;
    vxs_ouster_meta_get_info(m, &info);
    for (size_t n = 0; n < pkt.size(); n++) {
        std::vector<uint8_t> cut(pkt.begin(), pkt.begin() + static_cast<long>(n));
        ASSERT_EQ(vxs_ouster_parse_header(&h, m, cut.data(), n), VXS_E_MALFORMED);
        ASSERT_EQ(vxs_ouster_decode(m, &pts, cut.data(), n), VXS_E_MALFORMED);
        ASSERT_EQ(pts.len, 0u);
    }
    std::mt19937 rng(seed);
    for (int trial = 0; trial < 300; trial++) {
        std::vector<uint8_t> b = pkt;
        int flips = 1 + static_cast<int>(rng() % 8);
        for (int f = 0; f < flips; f++) b[rng() % b.size()] ^= static_cast<uint8_t>(1 + rng() % 255);
        pts.len = 0;
        vxs_status_t st = vxs_ouster_decode(m, &pts, b.data(), b.size());
        ASSERT_TRUE(st == VXS_OK || st == VXS_E_MALFORMED) << vxs_status_name(st);
        ASSERT_EQ(vxs_ouster_count_points(m, nullptr, b.data(), b.size()), pts.len);
        if (st != VXS_OK) {
            ASSERT_EQ(pts.len, 0u);
        }
        for (size_t i = 0; i < pts.len; i++) {
            ASSERT_LT(pts.pts[i].laser, info.pixels_per_column);
            ASSERT_LT(pts.pts[i].azimuth, 36000);
            ASSERT_GE(pts.pts[i].t_ns, 0);
        }
    }
    vxs_points_free(&pts);
}

// ---- metadata ------------------------------------------------------------------------------

TEST(OusterMeta, ProfileNames) {
    EXPECT_STREQ(vxs_ouster_profile_name(VXS_OUSTER_LEGACY), "LEGACY");
    EXPECT_STREQ(vxs_ouster_profile_name(VXS_OUSTER_RNG19_RFL8_SIG16_NIR16),
                 "RNG19_RFL8_SIG16_NIR16");
    EXPECT_STREQ(vxs_ouster_profile_name(VXS_OUSTER_RNG19_RFL8_SIG16_NIR16_DUAL),
                 "RNG19_RFL8_SIG16_NIR16_DUAL");
    EXPECT_STREQ(vxs_ouster_profile_name(VXS_OUSTER_RNG15_RFL8_NIR8), "RNG15_RFL8_NIR8");
    EXPECT_STREQ(vxs_ouster_profile_name(VXS_OUSTER_FUSA_RNG15_RFL8_NIR8_DUAL),
                 "FUSA_RNG15_RFL8_NIR8_DUAL");
    EXPECT_STREQ(vxs_ouster_profile_name(static_cast<vxs_ouster_profile_t>(99)), "unknown");
}

TEST(OusterMeta, ReducedLegacyForm) {
    VXS_SHARED_OR_SKIP(path, std::string(kDir) + "OS-1-64_1024x10_fw20.json");
    Meta m;
    LoadMeta(&m, path);
    EXPECT_EQ(m.info.profile, VXS_OUSTER_LEGACY);
    EXPECT_EQ(m.info.columns_per_frame, 1024u);
    EXPECT_EQ(m.info.columns_per_packet, 16u);
    EXPECT_EQ(m.info.pixels_per_column, 64u);
    EXPECT_EQ(m.info.column_first, 0u);
    EXPECT_EQ(m.info.column_last, 1023u);
    EXPECT_EQ(m.info.udp_port_lidar, 0);
    EXPECT_EQ(m.info.udp_port_imu, 0);
    EXPECT_EQ(m.info.prod_sn, 0u);
    EXPECT_EQ(m.info.init_id, 0u);
    EXPECT_STREQ(m.info.prod_line, "");
    EXPECT_EQ(m.info.lidar_packet_size, 12608u);
}

TEST(OusterMeta, FlatForm) {
    VXS_SHARED_OR_SKIP(path, std::string(kDir) + "OS-2-128-U1_v2.3.0_1024x10.json");
    Meta m;
    LoadMeta(&m, path);
    EXPECT_EQ(m.info.profile, VXS_OUSTER_RNG19_RFL8_SIG16_NIR16);
    EXPECT_EQ(m.info.columns_per_frame, 1024u);
    EXPECT_EQ(m.info.columns_per_packet, 16u);
    EXPECT_EQ(m.info.pixels_per_column, 128u);
    EXPECT_EQ(m.info.column_last, 1023u);
    EXPECT_EQ(m.info.udp_port_lidar, 7502);
    EXPECT_EQ(m.info.udp_port_imu, 7503);
    EXPECT_EQ(m.info.prod_sn, 992210000957u);
    EXPECT_EQ(m.info.init_id, 5431293u);
    EXPECT_STREQ(m.info.prod_line, "OS-2-128");
    EXPECT_EQ(m.info.lidar_packet_size, 24832u);
}

TEST(OusterMeta, NestedForm) {
    VXS_SHARED_OR_SKIP(p1, std::string(kDir) + "same_ports_legacy.1.json");
    VXS_SHARED_OR_SKIP(p2, std::string(kDir) + "same_ports_legacy.2.json");
    Meta a, b;
    LoadMeta(&a, p1);
    LoadMeta(&b, p2);
    EXPECT_EQ(a.info.profile, VXS_OUSTER_LEGACY);
    EXPECT_EQ(a.info.pixels_per_column, 128u);
    EXPECT_EQ(a.info.columns_per_frame, 1024u);
    EXPECT_EQ(a.info.columns_per_packet, 16u);
    EXPECT_EQ(a.info.udp_port_lidar, 7502);
    EXPECT_EQ(a.info.udp_port_imu, 7502);
    EXPECT_EQ(a.info.prod_sn, 122247000785u);
    EXPECT_EQ(a.info.init_id, 15278603u);
    EXPECT_STREQ(a.info.prod_line, "OS-0-128");
    EXPECT_EQ(a.info.lidar_packet_size, 24896u);
    EXPECT_EQ(b.info.pixels_per_column, 64u);
    EXPECT_EQ(b.info.prod_sn, 122239000672u);
    EXPECT_EQ(b.info.init_id, 9342168u);
    EXPECT_STREQ(b.info.prod_line, "OS-1-64-AH");
    EXPECT_EQ(b.info.lidar_packet_size, 12608u);
}

// A small metadata document for synthetic tests: H beams at known angles.
std::string SmallJson(const std::string &profile, int h = 4, const std::string &extra = "") {
    std::string alt = "[", azi = "[";
    for (int i = 0; i < h; i++) {
        alt += (i ? "," : "") + std::to_string(10 - 5 * i);
        azi += (i ? "," : "") + std::to_string(i % 2 ? -1.5 : 2.25);
    }
    alt += "]";
    azi += "]";
    return "{\"beam_altitude_angles\":" + alt + ",\"beam_azimuth_angles\":" + azi +
           ",\"lidar_mode\":\"512x10\",\"lidar_origin_to_beam_origin_mm\":15.806,"
           "\"lidar_to_sensor_transform\":[-1,0,0,0,0,-1,0,0,0,0,1,36.18,0,0,0,1],"
           "\"prod_sn\":\"122\",\"initialization_id\":77,"
           "\"data_format\":{\"columns_per_frame\":512,\"columns_per_packet\":4,"
           "\"pixels_per_column\":" + std::to_string(h) + ",\"column_window\":[0,511]," +
           (profile.empty() ? "" : "\"udp_profile_lidar\":\"" + profile + "\",") +
           "\"udp_profile_imu\":\"LEGACY\"}" + extra + "}";
}

TEST(OusterMeta, Errors) {
    vxs_ouster_meta_t *m = nullptr;
    std::string err;
    struct Case {
        std::string json;
        vxs_status_t st;
        const char *msg;
    } cases[] = {
        {"{\"beam_altitude_angles\":[1],\"beam_azimuth_angles\":[1],"
         "\"data_format\":{\"columns_per_frame\":\"1024\"}}",
         VXS_E_MALFORMED, "x.json: $.data_format.columns_per_frame: expected an integer"},
        {SmallJson("RNG99_NOPE"), VXS_E_UNSUPPORTED,
         "x.json: $.data_format.udp_profile_lidar: unsupported lidar profile \"RNG99_NOPE\""},
        {"{\"lidar_data_format\":{\"udp_profile_lidar\":\"DUAL_SOMETHING\"}}", VXS_E_UNSUPPORTED,
         "x.json: $.lidar_data_format.udp_profile_lidar: unsupported"},
        {"{\"lidar_data_format\":{\"pixels_per_column\":-1,\"columns_per_frame\":1024},"
         "\"beam_intrinsics\":{\"beam_altitude_angles\":[1],\"beam_azimuth_angles\":[1]}}",
         VXS_E_MALFORMED, "x.json: $.lidar_data_format.pixels_per_column: -1 outside 1..256"},
        {"{\"lidar_data_format\":{\"columns_per_frame\":1024},"
         "\"beam_intrinsics\":{\"beam_altitude_angles\":[1, \"a\"],\"beam_azimuth_angles\":[1]}}",
         VXS_E_MALFORMED,
         "x.json: $.beam_intrinsics.beam_altitude_angles: element 1: expected a number"},
        {"{\"lidar_data_format\":{\"columns_per_frame\":1024}}", VXS_E_MALFORMED,
         "x.json: $.beam_intrinsics.beam_altitude_angles: missing"},
        {"{\"beam_altitude_angles\":[1,2],\"beam_azimuth_angles\":[1],\"lidar_mode\":\"1024x10\"}",
         VXS_E_MALFORMED, "x.json: $.beam_azimuth_angles: expected 2 numbers, found 1"},
        {"{\"beam_altitude_angles\":[1],\"beam_azimuth_angles\":[1]}", VXS_E_MALFORMED,
         "x.json: $.data_format.columns_per_frame: missing"},
        {"{\"beam_altitude_angles\":[1],\"beam_azimuth_angles\":[1],\"lidar_mode\":\"fast\"}",
         VXS_E_MALFORMED, "x.json: $.lidar_mode: expected a lidar mode"},
        {"{\"beam_intrinsics\":7}", VXS_E_MALFORMED, "x.json: $.beam_intrinsics: expected an object"},
        {"{\"beam_altitude_angles\":[1],\"beam_azimuth_angles\":[1],\"lidar_mode\":\"1024x10\","
         "\"lidar_to_sensor_transform\":[1,0,0]}",
         VXS_E_MALFORMED, "x.json: $.lidar_to_sensor_transform: expected 16 numbers, found 3"},
        {"{\"sensor_info\":{\"prod_sn\":\"12x\"}}", VXS_E_MALFORMED,
         "x.json: $.sensor_info.prod_sn: expected a decimal serial number"},
        {"{\"config_params\":{\"udp_port_lidar\":70000}}", VXS_E_MALFORMED,
         "x.json: $.config_params.udp_port_lidar: 70000 outside 0..65535"},
        {SmallJson("", 4, ",\"udp_port_imu\":true"), VXS_E_MALFORMED,
         "x.json: $.udp_port_imu: expected an integer"},
        {"{\"beam_altitude_angles\":[1],\"beam_azimuth_angles\":[1],"
         "\"data_format\":{\"columns_per_frame\":1024,\"pixels_per_column\":2}}",
         VXS_E_MALFORMED, "x.json: $.beam_altitude_angles: 1 angles for 2 pixels per column"},
        {"{\"beam_altitude_angles\":[1],\"beam_azimuth_angles\":[1],"
         "\"data_format\":{\"columns_per_frame\":1024,\"column_window\":[0,1024]}}",
         VXS_E_MALFORMED, "x.json: $.data_format.column_window: column outside the frame"},
        {"{\"beam_altitude_angles\":[1],", VXS_E_MALFORMED, "x.json: line 1 column"},
        {"[1,2]", VXS_E_MALFORMED, "x.json: $: expected an object"},
        {"", VXS_E_MALFORMED, "x.json: line"},
        {SmallJson("LEGACY", 4, ",\"lidar_data_format\":{\"header_type\":\"X\"}"),
         VXS_E_UNSUPPORTED, "x.json: $.lidar_data_format.header_type: unsupported header type"},
    };
    for (const Case &c : cases) {
        EXPECT_EQ(ParseJson(c.json, &err, &m), c.st) << c.json;
        EXPECT_EQ(m, nullptr);
        EXPECT_EQ(err.rfind(c.msg, 0), 0u) << "got: " << err << "\nwant: " << c.msg;
    }
    char buf[256];
    EXPECT_EQ(vxs_ouster_meta_load(&m, "/nonexistent/x.json", buf, sizeof buf), VXS_E_IO);
    EXPECT_NE(std::string(buf).find("/nonexistent/x.json"), std::string::npos);
    // No message buffer at all is fine.
    EXPECT_EQ(vxs_ouster_meta_parse(&m, "{}", 2, nullptr, nullptr, 0), VXS_E_MALFORMED);
}

TEST(OusterMeta, DefaultsAndProfiles) {
    vxs_ouster_meta_t *m = nullptr;
    std::string err;
    struct {
        const char *profile;
        vxs_ouster_profile_t p;
        size_t size;
    } cases[] = {
        {"", VXS_OUSTER_LEGACY, 4 * (16 + 4 * 12 + 4)},
        {"LEGACY", VXS_OUSTER_LEGACY, 4 * (16 + 4 * 12 + 4)},
        {"RNG19_RFL8_SIG16_NIR16", VXS_OUSTER_RNG19_RFL8_SIG16_NIR16, 64 + 4 * (12 + 4 * 12)},
        {"RNG19_RFL8_SIG16_NIR16_DUAL", VXS_OUSTER_RNG19_RFL8_SIG16_NIR16_DUAL,
         64 + 4 * (12 + 4 * 16)},
        {"RNG15_RFL8_NIR8", VXS_OUSTER_RNG15_RFL8_NIR8, 64 + 4 * (12 + 4 * 4)},
        {"FUSA_RNG15_RFL8_NIR8_DUAL", VXS_OUSTER_FUSA_RNG15_RFL8_NIR8_DUAL, 64 + 4 * (12 + 4 * 8)},
    };
    for (const auto &c : cases) {
        ASSERT_EQ(ParseJson(SmallJson(c.profile), &err, &m), VXS_OK) << err;
        vxs_ouster_info_t info;
        vxs_ouster_meta_get_info(m, &info);
        EXPECT_EQ(info.profile, c.p);
        EXPECT_EQ(info.lidar_packet_size, c.size) << c.profile;
        EXPECT_EQ(info.columns_per_packet, 4u);
        EXPECT_EQ(info.prod_sn, 122u);
        EXPECT_EQ(info.init_id, 77u);
        vxs_ouster_meta_destroy(m);
    }
    // Reference size table (spec §3): H = 64/32/128 legacy, 128 RNG19.
    const int sizes[][3] = {{64, 0, 12608}, {32, 0, 6464}, {128, 0, 24896}, {128, 1, 24832}};
    for (const auto &s : sizes) {
        std::string j = "{\"lidar_data_format\":{\"columns_per_frame\":1024,\"columns_per_packet\":16,"
                        "\"pixels_per_column\":" + std::to_string(s[0]) +
                        (s[1] ? ",\"udp_profile_lidar\":\"RNG19_RFL8_SIG16_NIR16\"" : "") +
                        "},\"beam_intrinsics\":{\"beam_altitude_angles\":[";
        std::string a;
        for (int i = 0; i < s[0]; i++) a += (i ? ",1" : "1");
        j += a + "],\"beam_azimuth_angles\":[" + a + "]}}";
        ASSERT_EQ(ParseJson(j, &err, &m), VXS_OK) << err;
        vxs_ouster_info_t info;
        vxs_ouster_meta_get_info(m, &info);
        EXPECT_EQ(info.lidar_packet_size, static_cast<size_t>(s[2]));
        vxs_ouster_meta_destroy(m);
    }
    vxs_ouster_meta_get_info(nullptr, nullptr);
    vxs_ouster_meta_destroy(nullptr);
}

TEST(OusterMeta, AllocationFailures) {
    const std::string j = SmallJson("RNG15_RFL8_NIR8");
    for (long n = 1;; n++) {
        vxs_ouster_meta_t *m = nullptr;
        vxs_status_t st;
        {
            vxs_test::FailAllocAfter f(n);
            st = vxs_ouster_meta_parse(&m, j.data(), j.size(), "x.json", nullptr, 0);
            if (!vxs_test::FailAllocAfter::Failed()) {
                ASSERT_EQ(st, VXS_OK);
                vxs_ouster_meta_destroy(m);
                break;
            }
        }
        EXPECT_EQ(st, VXS_E_NOMEM);
        EXPECT_EQ(m, nullptr);
    }
}

// ---- synthetic packets of every profile ------------------------------------------------------

// Synth builds a packet of `meta` (SmallJson: W 512, 4 columns, H 4) whose column c has
// measurement_id mid0 + c, timestamp 1000 + c, and pixel (c, r) range 1000 * (r + 1) + 8 * c mm
// (a multiple of 8 so the 8 mm profiles carry it exactly), reflectivity 10 * r + c; the second
// return (dual) range + 4000 mm, reflectivity + 100. Row 3 of column 1 has range 0.
std::vector<uint8_t> Synth(const vxs_ouster_meta_t *m, uint16_t mid0, bool fusa) {
    vxs_ouster_info_t info;
    vxs_ouster_meta_get_info(m, &info);
    std::vector<uint8_t> b(info.lidar_packet_size, 0);
    const bool legacy = info.profile == VXS_OUSTER_LEGACY;
    const size_t px = info.lidar_packet_size == 0 ? 0 : [&] {
        switch (info.profile) {
        case VXS_OUSTER_RNG19_RFL8_SIG16_NIR16_DUAL: return 16;
        case VXS_OUSTER_RNG15_RFL8_NIR8: return 4;
        case VXS_OUSTER_FUSA_RNG15_RFL8_NIR8_DUAL: return 8;
        default: return 12;
        }
    }();
    const size_t hdr = legacy ? 0 : 32, colh = legacy ? 16 : 12;
    const size_t cs = colh + 4 * px + (legacy ? 4 : 0);
    if (fusa) {
        b[0] = 1;
        Put(&b, 1, 77, 3);         // init_id
        Put(&b, 4, 0x12345678, 4); // frame_id u32
        Put(&b, 11, 122, 5);       // prod_sn
    } else if (!legacy) {
        Put(&b, 0, 1, 2);
        Put(&b, 2, 4242, 2);
        Put(&b, 4, 77, 3);
        Put(&b, 7, 122, 5);
    }
    for (size_t c = 0; c < 4; c++) {
        size_t col = hdr + c * cs;
        Put(&b, col, 1000 + c, 8);
        Put(&b, col + 8, mid0 + c, 2);
        if (legacy) {
            Put(&b, col + 10, 4242, 2);
            Put(&b, col + cs - 4, 0xFFFFFFFF, 4);
        } else {
            Put(&b, col + 10, 1, 2);
        }
        for (size_t r = 0; r < 4; r++) {
            size_t p = col + colh + r * px;
            uint32_t range = (c == 1 && r == 3) ? 0 : static_cast<uint32_t>(1000 * (r + 1) + 8 * c);
            uint8_t refl = static_cast<uint8_t>(10 * r + c);
            switch (info.profile) {
            case VXS_OUSTER_LEGACY:
            case VXS_OUSTER_RNG19_RFL8_SIG16_NIR16:
                Put(&b, p, range | 0xF0000000u, 4); // flags/reserved bits above the range
                b[p + 4] = refl;
                b[p + 3] = legacy ? b[p + 3] : 0xE0; // RNG19 flags / reserved
                break;
            case VXS_OUSTER_RNG19_RFL8_SIG16_NIR16_DUAL:
                Put(&b, p, range | 0x00F80000u, 3);
                b[p + 3] = refl;
                Put(&b, p + 4, (range ? range + 4000 : 0) | 0x00F80000u, 3);
                b[p + 7] = static_cast<uint8_t>(refl + 100);
                break;
            case VXS_OUSTER_RNG15_RFL8_NIR8:
                Put(&b, p, (range >> 3) | 0x8000u, 2);
                b[p + 2] = refl;
                b[p + 3] = 0x55;
                break;
            case VXS_OUSTER_FUSA_RNG15_RFL8_NIR8_DUAL:
                Put(&b, p, (range >> 3) | 0x8000u, 2);
                b[p + 2] = refl;
                Put(&b, p + 4, ((range ? range + 4000 : 0) >> 3) | 0x8000u, 2);
                b[p + 6] = static_cast<uint8_t>(refl + 100);
                break;
            }
        }
    }
    return b;
}

TEST(OusterDecode, SyntheticProfiles) {
    const char *profiles[] = {"LEGACY", "RNG19_RFL8_SIG16_NIR16", "RNG19_RFL8_SIG16_NIR16_DUAL",
                              "RNG15_RFL8_NIR8", "FUSA_RNG15_RFL8_NIR8_DUAL"};
    const double l2s[16] = {-1, 0, 0, 0, 0, -1, 0, 0, 0, 0, 1, 36.18, 0, 0, 0, 1};
    for (const char *prof : profiles) {
        SCOPED_TRACE(prof);
        std::string err;
        vxs_ouster_meta_t *m = nullptr;
        ASSERT_EQ(ParseJson(SmallJson(prof), &err, &m), VXS_OK) << err;
        vxs_ouster_info_t info;
        vxs_ouster_meta_get_info(m, &info);
        const bool fusa = info.profile == VXS_OUSTER_FUSA_RNG15_RFL8_NIR8_DUAL;
        const bool dual = fusa || info.profile == VXS_OUSTER_RNG19_RFL8_SIG16_NIR16_DUAL;
        std::vector<uint8_t> pkt = Synth(m, 100, fusa);

        vxs_ouster_header_t h;
        ASSERT_EQ(vxs_ouster_parse_header(&h, m, pkt.data(), pkt.size()), VXS_OK);
        EXPECT_EQ(h.columns_valid, 4);
        EXPECT_EQ(h.mid_first, 100);
        EXPECT_EQ(h.mid_last, 103);
        EXPECT_EQ(h.ts_first, 1000u);
        EXPECT_EQ(h.ts_last, 1003u);
        EXPECT_EQ(h.frame_id, fusa ? 0x12345678u : 4242u);
        EXPECT_EQ(h.init_id, info.profile == VXS_OUSTER_LEGACY ? 0u : 77u);
        EXPECT_EQ(h.prod_sn, info.profile == VXS_OUSTER_LEGACY ? 0u : 122u);

        vxs_points_t pts{};
        ASSERT_EQ(vxs_ouster_decode(m, &pts, pkt.data(), pkt.size()), VXS_OK);
        EXPECT_EQ(pts.len, (dual ? 2u : 1u) * 15u);
        uint8_t bits = 0;
        EXPECT_EQ(vxs_ouster_count_points(m, &bits, pkt.data(), pkt.size()), pts.len);
        EXPECT_EQ(bits, dual ? VXS_RET_STRONGEST | VXS_RET_SECOND : VXS_RET_STRONGEST);
        EXPECT_EQ(FindPoint(pts, 101, 512, 3), nullptr); // range 0 is not emitted
        for (uint32_t c = 0; c < 4; c++) {
            for (uint16_t r = 0; r < 4; r++) {
                if (c == 1 && r == 3) continue;
                const double alt = 10 - 5 * r, az = r % 2 ? -1.5 : 2.25;
                const double range = 1000 * (r + 1) + 8 * c;
                const vxs_point_t *p = FindPoint(pts, 100 + c, 512, r);
                ExpectNear(p, HandXyz(range, 100 + c, 512, alt, az, 15.806, l2s));
                EXPECT_EQ(p->intensity, static_cast<float>(10 * r + c));
                EXPECT_EQ(p->t_ns, static_cast<int64_t>(1000 + c));
                EXPECT_EQ(p->azimuth, (100 + c) * 36000 / 512);
                if (!dual) continue;
                const vxs_point_t *q = FindPoint(pts, 100 + c, 512, r, VXS_RET_SECOND);
                ExpectNear(q, HandXyz(range + 4000, 100 + c, 512, alt, az, 15.806, l2s));
                EXPECT_EQ(q->intensity, static_cast<float>(10 * r + c + 100));
            }
        }

        // Invalid columns are skipped; a packet of none is no error.
        const bool legacy = info.profile == VXS_OUSTER_LEGACY;
        const size_t cs = (info.lidar_packet_size - (legacy ? 0 : 64)) / 4;
        std::vector<uint8_t> b = pkt;
        for (size_t c = 0; c < 4; c++) {
            size_t col = (legacy ? 0 : 32) + c * cs;
            if (legacy)
                Put(&b, col + cs - 4, c == 2 ? 0xFFFFFFFF : 0, 4);
            else
                Put(&b, col + 10, c == 2 ? 1 : 0xFFFE, 2);
        }
        pts.len = 0;
        ASSERT_EQ(vxs_ouster_decode(m, &pts, b.data(), b.size()), VXS_OK);
        EXPECT_EQ(pts.len, (dual ? 2u : 1u) * 4u);
        ASSERT_EQ(vxs_ouster_parse_header(&h, m, b.data(), b.size()), VXS_OK);
        EXPECT_EQ(h.columns_valid, 1);
        EXPECT_EQ(h.mid_first, 102);
        EXPECT_EQ(h.mid_last, 102);

        // measurement_id >= W is rejected, and nothing is appended.
        std::vector<uint8_t> bad = Synth(m, 509, fusa); // columns 509..512
        size_t keep = pts.len;
        EXPECT_EQ(vxs_ouster_parse_header(&h, m, bad.data(), bad.size()), VXS_E_MALFORMED);
        EXPECT_EQ(vxs_ouster_decode(m, &pts, bad.data(), bad.size()), VXS_E_MALFORMED);
        EXPECT_EQ(pts.len, keep);
        bits = 0;
        EXPECT_EQ(vxs_ouster_count_points(m, &bits, bad.data(), bad.size()), 0u);
        EXPECT_EQ(bits, 0);
        EXPECT_EQ(vxs_ouster_count_points(m, nullptr, pkt.data(), pkt.size() - 1), 0u);
        Damage(m, pkt, 7);
        vxs_points_free(&pts);
        vxs_ouster_meta_destroy(m);
    }
}

TEST(OusterDecode, LegacyFrameIdsMustAgree) {
    std::string err;
    vxs_ouster_meta_t *m = nullptr;
    ASSERT_EQ(ParseJson(SmallJson("LEGACY"), &err, &m), VXS_OK) << err;
    std::vector<uint8_t> pkt = Synth(m, 0, false);
    vxs_ouster_info_t info;
    vxs_ouster_meta_get_info(m, &info);
    Put(&pkt, 2 * (info.lidar_packet_size / 4) + 10, 4243, 2);
    vxs_ouster_header_t h;
    EXPECT_EQ(vxs_ouster_parse_header(&h, m, pkt.data(), pkt.size()), VXS_E_MALFORMED);
    vxs_ouster_meta_destroy(m);
}

TEST(OusterDecode, PacketTypeChecked) {
    std::string err;
    vxs_ouster_meta_t *m = nullptr;
    ASSERT_EQ(ParseJson(SmallJson("RNG15_RFL8_NIR8"), &err, &m), VXS_OK) << err;
    std::vector<uint8_t> pkt = Synth(m, 0, false);
    pkt[0] = 2;
    vxs_ouster_header_t h;
    EXPECT_EQ(vxs_ouster_parse_header(&h, m, pkt.data(), pkt.size()), VXS_E_MALFORMED);
    vxs_ouster_meta_destroy(m);
}

// beam_to_lidar_transform with a z term: the lever arm becomes sqrt(x^2 + z^2) and z shifts
// (spec §3.1 note, xyzlut.cpp).
TEST(OusterDecode, BeamToLidarZTerm) {
    std::string j = SmallJson("LEGACY", 4,
                              ",\"beam_intrinsics\":{\"beam_to_lidar_transform\":"
                              "[1,0,0,20,0,1,0,0,0,0,1,7.5,0,0,0,1]}");
    std::string err;
    vxs_ouster_meta_t *m = nullptr;
    // The nested section is preferred over the flat lidar_origin_to_beam_origin_mm (15.806).
    ASSERT_EQ(ParseJson(j, &err, &m), VXS_OK) << err;
    std::vector<uint8_t> pkt = Synth(m, 7, false);
    vxs_points_t pts{};
    ASSERT_EQ(vxs_ouster_decode(m, &pts, pkt.data(), pkt.size()), VXS_OK);
    const double l2s[16] = {-1, 0, 0, 0, 0, -1, 0, 0, 0, 0, 1, 36.18, 0, 0, 0, 1};
    ExpectNear(FindPoint(pts, 9, 512, 2), HandXyz(3016, 9, 512, 0, 2.25, 20, l2s, 7.5));
    vxs_points_free(&pts);
    vxs_ouster_meta_destroy(m);
}

// Defaults when the metadata has no geometry: origin by product line, the default
// lidar_to_sensor transform (180° yaw, z 36.18 mm).
TEST(OusterDecode, GeometryDefaults) {
    struct {
        const char *line;
        double n;
    } cases[] = {{"", 12.163}, {"OS-0-128", 27.67}, {"OS-1-64", 15.806}, {"OS-2-32", 13.762}};
    for (const auto &c : cases) {
        std::string j = std::string("{\"prod_line\":\"") + c.line +
                        "\",\"beam_altitude_angles\":[5,-5],\"beam_azimuth_angles\":[1,-1],"
                        "\"lidar_mode\":\"512x20\"}";
        std::string err;
        vxs_ouster_meta_t *m = nullptr;
        ASSERT_EQ(ParseJson(j, &err, &m), VXS_OK) << err;
        vxs_ouster_info_t info;
        vxs_ouster_meta_get_info(m, &info);
        ASSERT_EQ(info.columns_per_packet, 16u);
        ASSERT_EQ(info.pixels_per_column, 2u);
        std::vector<uint8_t> pkt(info.lidar_packet_size, 0);
        const size_t cs = 16 + 2 * 12 + 4;
        for (size_t col = 0; col < 16; col++) {
            Put(&pkt, col * cs + 8, 200 + col, 2);
            Put(&pkt, col * cs + 16, 5000, 4);
            Put(&pkt, col * cs + 28, 7000, 4);
            Put(&pkt, col * cs + cs - 4, 0xFFFFFFFF, 4);
        }
        vxs_points_t pts{};
        ASSERT_EQ(vxs_ouster_decode(m, &pts, pkt.data(), pkt.size()), VXS_OK);
        EXPECT_EQ(pts.len, 32u);
        const double l2s[16] = {-1, 0, 0, 0, 0, -1, 0, 0, 0, 0, 1, 36.18, 0, 0, 0, 1};
        ExpectNear(FindPoint(pts, 203, 512, 1), HandXyz(7000, 203, 512, -5, -1, c.n, l2s));
        vxs_points_free(&pts);
        vxs_ouster_meta_destroy(m);
    }
}

TEST(OusterImu, Synthetic) {
    std::vector<uint8_t> b(48, 0);
    Put(&b, 0, 11, 8);
    Put(&b, 8, 22, 8);
    Put(&b, 16, 33, 8);
    const float v[6] = {0.5f, -0.25f, 1.0f, 10.0f, -20.5f, 3.0f};
    for (int i = 0; i < 6; i++) {
        uint32_t u;
        memcpy(&u, &v[i], 4);
        Put(&b, 24 + 4 * static_cast<size_t>(i), u, 4);
    }
    vxs_ouster_imu_t imu;
    ASSERT_EQ(vxs_ouster_parse_imu(&imu, b.data(), b.size()), VXS_OK);
    EXPECT_EQ(imu.sys_ts, 11u);
    EXPECT_EQ(imu.accel_ts, 22u);
    EXPECT_EQ(imu.gyro_ts, 33u);
    for (int i = 0; i < 3; i++) {
        EXPECT_EQ(imu.accel_g[i], v[i]);
        EXPECT_EQ(imu.gyro_dps[i], v[3 + i]);
    }
    for (size_t n = 0; n < 48; n++) EXPECT_EQ(vxs_ouster_parse_imu(&imu, b.data(), n), VXS_E_MALFORMED);
    b.push_back(0);
    EXPECT_EQ(vxs_ouster_parse_imu(&imu, b.data(), b.size()), VXS_E_MALFORMED);
    EXPECT_EQ(vxs_ouster_parse_imu(&imu, nullptr, 48), VXS_E_MALFORMED);
}

// ---- real captures ---------------------------------------------------------------------------

void CheckImu(const std::vector<Udp> &udp, uint16_t port, size_t want) {
    size_t n = 0;
    uint64_t prev = 0;
    for (const Udp &u : udp) {
        if (u.pl.size() != 48 || u.dst_port != port) continue;
        vxs_ouster_imu_t imu;
        ASSERT_EQ(vxs_ouster_parse_imu(&imu, u.pl.data(), u.pl.size()), VXS_OK);
        double g = std::sqrt(imu.accel_g[0] * imu.accel_g[0] + imu.accel_g[1] * imu.accel_g[1] +
                             imu.accel_g[2] * imu.accel_g[2]);
        EXPECT_NEAR(g, 1.0, 0.1);
        for (int i = 0; i < 3; i++) EXPECT_LT(std::fabs(imu.gyro_dps[i]), 20.0f);
        EXPECT_GT(imu.sys_ts, prev);
        EXPECT_GT(imu.accel_ts, 0u);
        prev = imu.sys_ts;
        n++;
    }
    EXPECT_EQ(n, want);
}

TEST(OusterCapture, Os1LegacyReduced) {
    VXS_SHARED_OR_SKIP(json, std::string(kDir) + "OS-1-64_1024x10_fw20.json");
    VXS_SHARED_OR_SKIP(pcap, std::string(kDir) + "OS-1-64_1024x10_fw20.pcap");
    Meta m;
    LoadMeta(&m, json);
    std::vector<Udp> udp = ReadUdp(pcap);
    auto pkts = LidarPackets(udp, m.info.lidar_packet_size);
    vxs_points_t pts{};
    CheckFrame(m, pkts, &pts);
    EXPECT_EQ(pts.len, 16749u); // pixels with a range, counted with a separate script
    CheckImu(udp, 7503, 11);

    // Hand XYZ: reduced metadata, so n = 12.163 mm (no prod_line) and the default transform.
    const double l2s[16] = {-1, 0, 0, 0, 0, -1, 0, 0, 0, 0, 1, 36.18, 0, 0, 0, 1};
    const struct {
        uint16_t row;
        double alt, az;
    } beams[] = {{31, 0.12, -3.09}, {63, -16.75, -3.17}};
    int checked = 0;
    for (const auto &p : pkts) {
        vxs_points_t one{};
        ASSERT_EQ(vxs_ouster_decode(m.m, &one, p.data(), p.size()), VXS_OK);
        const size_t cs = 16 + 64 * 12 + 4;
        for (size_t c = 0; c < 16; c += 5) {
            const uint8_t *col = p.data() + c * cs;
            uint16_t mid = Le16(col + 8);
            for (const auto &b : beams) {
                uint32_t range = Le32(col + 16 + b.row * 12u) & 0xFFFFF;
                const vxs_point_t *q = FindPoint(one, mid, 1024, b.row);
                if (range == 0) {
                    EXPECT_EQ(q, nullptr);
                    continue;
                }
                ExpectNear(q, HandXyz(range, mid, 1024, b.alt, b.az, 12.163, l2s));
                EXPECT_EQ(q->intensity, static_cast<float>(col[16 + b.row * 12u + 4]));
                checked++;
            }
        }
        vxs_points_free(&one);
    }
    EXPECT_GT(checked, 50);
    Damage(m.m, pkts[10], 1);
    vxs_points_free(&pts);
}

TEST(OusterCapture, Os2Rng19Flat) {
    VXS_SHARED_OR_SKIP(json, std::string(kDir) + "OS-2-128-U1_v2.3.0_1024x10.json");
    VXS_SHARED_OR_SKIP(pcap, std::string(kDir) + "OS-2-128-U1_v2.3.0_1024x10.pcap");
    Meta m;
    LoadMeta(&m, json);
    std::vector<Udp> udp = ReadUdp(pcap);
    auto pkts = LidarPackets(udp, m.info.lidar_packet_size);
    vxs_points_t pts{};
    CheckFrame(m, pkts, &pts);
    EXPECT_EQ(pts.len, 119682u);
    CheckImu(udp, 7503, 10);

    // Hand XYZ with the file's numbers: n = 13.762 mm, lidar_to_sensor z = 78.296 mm.
    const double l2s[16] = {-1, 0, 0, 0, 0, -1, 0, 0, 0, 0, 1, 78.296, 0, 0, 0, 1};
    const struct {
        uint16_t row;
        double alt, az;
    } beams[] = {{0, 10.76, 2.07}, {64, -0.25, 2.07}, {127, -11.09, -2.04}};
    int checked = 0;
    std::map<int, int> refl_hist;
    for (const auto &p : pkts) {
        vxs_points_t one{};
        ASSERT_EQ(vxs_ouster_decode(m.m, &one, p.data(), p.size()), VXS_OK);
        const size_t cs = 12 + 128 * 12;
        for (size_t c = 0; c < 16; c += 3) {
            const uint8_t *col = p.data() + 32 + c * cs;
            uint16_t mid = Le16(col + 8);
            for (const auto &b : beams) {
                const uint8_t *px = col + 12 + b.row * 12u;
                uint32_t range = Le32(px) & 0x7FFFF;
                const vxs_point_t *q = FindPoint(one, mid, 1024, b.row);
                if (range == 0) {
                    EXPECT_EQ(q, nullptr);
                    continue;
                }
                ExpectNear(q, HandXyz(range, mid, 1024, b.alt, b.az, 13.762, l2s));
                EXPECT_EQ(q->intensity, static_cast<float>(px[4]));
                checked++;
            }
        }
        for (size_t i = 0; i < one.len; i++) refl_hist[static_cast<int>(one.pts[i].intensity)]++;
        vxs_points_free(&one);
    }
    EXPECT_GT(checked, 100);
    EXPECT_GT(refl_hist.size(), 100u); // reflectivity is a real 8-bit field, not flag bits
    Damage(m.m, pkts[20], 2);
    vxs_points_free(&pts);
}

TEST(OusterCapture, SamePortsTwoLegacySensors) {
    VXS_SHARED_OR_SKIP(j1, std::string(kDir) + "same_ports_legacy.1.json");
    VXS_SHARED_OR_SKIP(j2, std::string(kDir) + "same_ports_legacy.2.json");
    VXS_SHARED_OR_SKIP(pcap, std::string(kDir) + "same_ports_legacy.pcap");
    Meta a, b;
    LoadMeta(&a, j1);
    LoadMeta(&b, j2);
    std::vector<Udp> udp = ReadUdp(pcap);
    // The capture holds one reassembled lidar packet of each sensor (both on port 7502).
    int got_a = 0, got_b = 0;
    std::set<std::string> sources;
    for (const Udp &u : udp) {
        const Meta *m = u.pl.size() == a.info.lidar_packet_size   ? &a
                        : u.pl.size() == b.info.lidar_packet_size ? &b
                                                                  : nullptr;
        if (!m) continue;
        EXPECT_EQ(u.dst_port, 7502);
        sources.insert(std::string(reinterpret_cast<const char *>(u.src), 16));
        vxs_ouster_header_t h;
        ASSERT_EQ(vxs_ouster_parse_header(&h, m->m, u.pl.data(), u.pl.size()), VXS_OK);
        EXPECT_EQ(h.columns_valid, 16);
        EXPECT_EQ(h.mid_last - h.mid_first, 15);
        vxs_points_t pts{};
        ASSERT_EQ(vxs_ouster_decode(m->m, &pts, u.pl.data(), u.pl.size()), VXS_OK);
        EXPECT_EQ(pts.len, m == &a ? 486u : 63u);
        // Cross-check one beam per packet (one that has returns), with the file's numbers
        // (beam_to_lidar x offset, lidar_to_sensor z).
        const double l2s1[16] = {-1, 0, 0, 0, 0, -1, 0, 0, 0, 0, 1, 38.195, 0, 0, 0, 1};
        const double l2s2[16] = {-1, 0, 0, 0, 0, -1, 0, 0, 0, 0, 1, 36.18, 0, 0, 0, 1};
        const bool first = m == &a;
        const size_t cs = 16 + m->info.pixels_per_column * 12 + 4;
        int checked = 0;
        const uint16_t row = first ? 10 : 24;
        for (size_t c = 0; c < 16; c++) {
            const uint8_t *col = u.pl.data() + c * cs;
            uint32_t range = Le32(col + 16 + row * 12u) & 0xFFFFF;
            if (!range) continue;
            uint16_t mid = Le16(col + 8);
            ExpectNear(FindPoint(pts, mid, 1024, row),
                       first ? HandXyz(range, mid, 1024, 37.87, -3.37, 27.116, l2s1)
                             : HandXyz(range, mid, 1024, 13.33, 4.18, 15.806, l2s2));
            checked++;
        }
        EXPECT_GT(checked, 0);
        (first ? got_a : got_b)++;
        vxs_points_free(&pts);
    }
    EXPECT_EQ(got_a, 1);
    EXPECT_EQ(got_b, 1);
    EXPECT_EQ(sources.size(), 2u);
}

// A speed measurement, not a test: run with --gtest_also_run_disabled_tests.
TEST(OusterSpeed, DISABLED_DecodePointsPerSecond) {
    VXS_SHARED_OR_SKIP(json, std::string(kDir) + "OS-2-128-U1_v2.3.0_1024x10.json");
    VXS_SHARED_OR_SKIP(pcap, std::string(kDir) + "OS-2-128-U1_v2.3.0_1024x10.pcap");
    Meta m;
    LoadMeta(&m, json);
    auto pkts = LidarPackets(ReadUdp(pcap), m.info.lidar_packet_size);
    vxs_points_t pts{};
    size_t points = 0;
    auto t0 = std::chrono::steady_clock::now();
    const int rounds = 200;
    for (int r = 0; r < rounds; r++) {
        for (const auto &p : pkts) {
            pts.len = 0;
            ASSERT_EQ(vxs_ouster_decode(m.m, &pts, p.data(), p.size()), VXS_OK);
            points += pts.len;
        }
    }
    double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    printf("ouster decode: %zu points in %.3f s = %.1f M points/s (%.1f M pixels/s)\n", points, s,
           points / s / 1e6, rounds * 64.0 * 16 * 128 / s / 1e6);
    vxs_points_free(&pts);
}

} // namespace
