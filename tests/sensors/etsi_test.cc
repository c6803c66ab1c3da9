// The ETSI decoders (sensors/etsi.c): GeoNetworking and every CAM / CPM of the ms-van3t capture
// against tshark (live, and the expected file made from it once), and messages encoded here bit
// by bit from the ASN.1 (CAM v1.3, v1.4.1 RSU and vehicle with every optional field, Release 2
// with an extension container, DENM, CPM, VAM, SPATEM, MAPEM; GN beacon, TSB, GBC, GUC,
// secured), each also cut at every length and damaged by random bit flips.
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <map>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "test_util.h"
#include "vxs_sensors.h"
#include "vxs_v2x.h"

namespace {

// Bw writes UPER fields MSB first, as the decoder reads them.
struct Bw {
    std::vector<uint8_t> v;
    size_t n = 0;
    Bw &put(uint64_t x, unsigned bits) {
        for (int i = (int)bits - 1; i >= 0; --i) {
            if (n % 8 == 0) v.push_back(0);
            if ((x >> i) & 1) v.back() = (uint8_t)(v.back() | (0x80 >> (n % 8)));
            n++;
        }
        return *this;
    }
    Bw &cons(int64_t x, int64_t lo, int64_t hi) {
        uint64_t r = (uint64_t)(hi - lo);
        unsigned b = 0;
        while (r) b++, r >>= 1;
        return put((uint64_t)(x - lo), b);
    }
    Bw &bit(bool b) { return put(b ? 1 : 0, 1); }
    Bw &header(int ver, int id, uint32_t station) { return put((uint64_t)ver, 8).put((uint64_t)id, 8).put(station, 32); }
    // ReferencePosition: lat, lon (1e-7 deg), confidence ellipse, altitude (cm)
    Bw &refpos(int64_t lat, int64_t lon, int64_t alt, int64_t smaj = 500, int64_t smin = 400,
                int64_t ori = 900) {
        cons(lat, -900000000, 900000001).cons(lon, -1800000000, 1800000001);
        cons(smaj, 0, 4095).cons(smin, 0, 4095).cons(ori, 0, 3601);
        return cons(alt, -100000, 800001).put(3, 4);
    }
};

struct CamOpts {
    int ver = 2;
    bool rsu = false;
    bool all_optional = false; // every optional HF field
    bool low_freq = false;
    bool special = false;
    bool release2_ext = false;
};

std::vector<uint8_t> Cam(const CamOpts &o) {
    Bw w;
    w.header(o.ver, 2, 4242);
    w.cons(12345, 0, 65535);
    w.bit(o.release2_ext).bit(o.low_freq).bit(o.special);
    w.bit(false).cons(5, 0, 255).refpos(481234567, 115678901, 52050);
    w.bit(false).put(o.rsu ? 1 : 0, 1); // HF choice
    if (o.rsu) {
        w.bit(false).bit(true).cons(2, 1, 16); // two protected zones
        for (int i = 0; i < 2; i++) {
            w.bit(false).put(i == 0 ? 7 : 0, 3); // expiry, radius, id present on the first
            w.bit(false);                          // zone type (root: no index bits)
            if (i == 0) w.cons(123456789, 0, 4398046511103LL);
            w.cons(481000000, -900000000, 900000001).cons(115000000, -1800000000, 1800000001);
            if (i == 0) w.bit(false).cons(50, 1, 255).cons(77, 0, 134217727);
        }
    } else {
        w.put(o.all_optional ? 0x7F : 0, 7);
        w.cons(1234, 0, 3601).cons(10, 1, 127);
        w.cons(1389, 0, 16383).cons(5, 1, 127);
        w.cons(0, 0, 2).cons(45, 1, 1023).cons(1, 0, 4).cons(18, 1, 62);
        w.cons(-12, -160, 161).cons(3, 0, 102);
        if (o.ver == 1)
            w.cons(30001, -30000, 30001);
        else
            w.cons(1023, -1023, 1023);
        w.put(7, 3);
        w.bit(false).cons(2, 0, 2); // curvatureCalculationMode
        w.cons(-150, -32766, 32767).cons(8, 0, 8);
        if (o.all_optional) {
            w.put(0x55, 7);                                   // accelerationControl
            w.cons(2, -1, 14);                                // lanePosition
            w.cons(-30, -511, 512).cons(4, 1, 127);           // steeringWheelAngle
            w.cons(7, -160, 161).cons(2, 0, 102);             // lateralAcceleration
            w.cons(-3, -160, 161).cons(2, 0, 102);            // verticalAcceleration
            w.cons(1, 0, 7);                                  // performanceClass
            w.bit(false).bit(true).cons(480000000, -900000000, 900000001);
            w.cons(110000000, -1800000000, 1800000001).cons(99, 0, 134217727);
        }
    }
    if (o.low_freq) {
        w.bit(false).cons(0, 0, 15).put(0xA5, 8).cons(3, 0, 40);
        for (int i = 0; i < 3; i++) {
            w.bit(i != 1).cons(-100 * i, -131071, 131072).cons(50, -131071, 131072).cons(12800, -12700, 12800);
            if (i != 1) w.bit(false).cons(10 + i, 1, 65535);
        }
    }
    if (o.special) { // emergency: lightBar, incidentIndication, emergencyPriority
        w.bit(false).cons(5, 0, 6).put(3, 2).put(1, 2);
        if (o.ver >= 2) w.bit(false);
        w.cons(95, 0, 255).cons(1, 0, 255).put(2, 2);
    }
    if (o.release2_ext) { // one extension addition: extensionContainers, an open type
        w.bit(false).put(0, 6).bit(true);
        w.put(4, 8).put(0x01020304, 32);
    }
    return w.v;
}

struct DenmOpts {
    bool optional = true;
    bool situation = true;
};

std::vector<uint8_t> Denm(const DenmOpts &o) {
    Bw w;
    w.header(2, 1, 777);
    w.put(o.situation ? 4 : 0, 3);
    w.bit(false).put(o.optional ? 0x1F : 0, 5);
    w.cons(888, 0, 4294967295LL).cons(17, 0, 65535);
    w.cons(600000000000LL, 0, 4398046511103LL).cons(600000000500LL, 0, 4398046511103LL);
    if (o.optional) w.cons(1, 0, 1);
    w.refpos(-335000000, 1512345678, 800001);
    if (o.optional) w.cons(3, 0, 7).cons(1, 0, 3).cons(120, 0, 86400).cons(1000, 1, 10000);
    w.cons(15, 0, 255);
    if (o.situation) w.bit(false).put(0, 2).cons(4, 0, 7).bit(false).cons(94, 0, 255).cons(2, 0, 255);
    return w.v;
}

std::vector<uint8_t> Cpm(int n_objects) {
    Bw w;
    w.header(2, 14, 100);
    w.bit(false).bit(false).put(2, 2); // segmentationInfo present
    w.cons(654000000000LL, 0, 4398046511103LL).refpos(450147653, 75684908, 800001);
    w.cons(1, 1, 8).cons(1, 1, 8);
    w.bit(false).cons(2, 1, 8); // two containers
    // originatingVehicleContainer: 3 arbitrary octets
    w.cons(1, 1, 16).put(3, 8).put(0xABCDEF, 24);
    Bw c; // the perceived object container
    c.bit(false).cons(n_objects, 0, 255).bit(false).cons(n_objects, 0, 255);
    for (int i = 0; i < n_objects; i++) {
        bool polar = i % 2 == 1;
        // objectId, velocity, acceleration, angles, zAngVel, dims Y X, age, quality, sensors, class
        c.bit(false).put(0x3C00 | 0x0060 | 0x001E | (i % 3 == 0 ? 0x200 : 0), 14);
        c.cons(100 + i, 0, 65535).cons(-5 * i, -2048, 2047);
        c.bit(true).cons(-3504 + i, -131072, 131071).cons(10, 1, 4096).cons(809, -131072, 131071).cons(10, 1, 4096);
        c.cons(150, -131072, 131071).cons(10, 1, 4096);
        if (polar) {
            c.bit(false).bit(false).cons(1000, 0, 16383).cons(5, 1, 127).cons(900, 0, 3601).cons(5, 1, 127);
        } else {
            c.bit(true).bit(true).cons(1, -16383, 16383).cons(5, 1, 127).cons(-22, -16383, 16383).cons(5, 1, 127);
            c.cons(0, -16383, 16383).cons(5, 1, 127);
        }
        c.bit(true).bit(false).cons(3, -160, 161).cons(2, 0, 102).cons(-1, -160, 161).cons(2, 0, 102);
        c.put(2, 2).cons(2712, 0, 3601).cons(5, 1, 127).cons(10, 0, 3601).cons(5, 1, 127);
        if (i % 3 == 0) c.cons(-12, -255, 256).cons(7, 0, 7);
        c.cons(13, 1, 256).cons(3, 1, 32).cons(42, 1, 256).cons(3, 1, 32);
        c.cons(1500, 0, 2047).cons(15, 0, 15);
        c.bit(false).cons(2, 1, 128).put(0x0102, 16);
        c.cons(2, 1, 8).bit(false).put(0, 2).cons(5, 0, 14).cons(90, 1, 101);
        c.bit(false).put(0, 2).cons(7, 0, 14).cons(10, 1, 101);
    }
    w.cons(5, 1, 16);
    if (c.v.size() < 128)
        w.put(c.v.size(), 8);
    else
        w.put(0x8000 | c.v.size(), 16);
    for (uint8_t b : c.v) w.put(b, 8);
    return w.v;
}

std::vector<uint8_t> Vam() {
    Bw w;
    w.header(3, 16, 31337);
    w.cons(4321, 0, 65535).put(0, 5).bit(false).cons(1, 0, 255).refpos(10000000, 20000000, 1000);
    // VruHighFrequencyContainer: no extension, 11 optional fields absent; heading 270.5 deg,
    // speed 1.42 m/s, acceleration -0.3 m/s^2, each with its confidence
    w.put(0, 12).cons(2705, 0, 3601).cons(30, 1, 127).cons(142, 0, 16383).cons(8, 1, 127);
    w.cons(-3, -160, 161).cons(5, 0, 102);
    return w.v;
}

// MovementState { ext 0, no name / maneuverAssistList / regional; signalGroup; one
// MovementEvent { ext 0, timing only; eventState; TimeChangeDetails: minEndTime and maxEndTime } }
void PutMovementState(Bw &w, int signal_group) {
    w.bit(false).put(0, 3).cons(signal_group, 0, 255).cons(1, 1, 16);
    w.bit(false).put(0x4, 3).cons(3, 0, 9); // timing present; stop-And-Remain
    w.put(0x08, 5).cons(22120, 0, 36001).cons(22121, 0, 36001);
}
std::vector<uint8_t> Spatem() {
    Bw w;
    w.header(2, 4, 55);
    w.put(0x6, 4).cons(200000, 0, 527040); // timeStamp and name present
    w.cons(3, 1, 63).put('A', 7).put('B', 7).put('C', 7);
    w.cons(2, 1, 32);
    // intersection 1: moy and timeStamp present, region 3 id 1234, two movement states
    w.put(0x18, 7);
    w.bit(true).cons(3, 0, 65535).cons(1234, 0, 65535);
    w.cons(5, 0, 127).put(0, 16).cons(200001, 0, 527040).cons(45000, 0, 65535);
    w.cons(2, 1, 255);
    PutMovementState(w, 2);
    PutMovementState(w, 4);
    // intersection 2: nothing optional, id 99, one movement state
    w.put(0, 7).bit(false).cons(99, 0, 65535).cons(0, 0, 127).put(0, 16).cons(1, 1, 255);
    PutMovementState(w, 6);
    return w.v;
}
std::vector<uint8_t> Mapem() {
    Bw w;
    w.header(2, 5, 56);
    w.put(0x0F0, 9); // ext 0, timeStamp, layerType, layerID, intersections
    w.cons(300000, 0, 527040).cons(9, 0, 127).bit(false).cons(3, 0, 7).cons(4, 0, 100);
    // IntersectionGeometry: ext 0, no name / laneWidth / speedLimits / preempt / regional;
    // id 4321; revision 1; refPoint { ext 0, elevation present, no regional; lat, long, elev }
    w.cons(1, 1, 32).put(0, 6).bit(false).cons(4321, 0, 65535).cons(1, 0, 127);
    w.bit(false).bit(true).bit(false).cons(480000000, -900000000, 900000001);
    w.cons(110000000, -1799999999, 1800000001).cons(345, -4096, 61439);
    // laneSet: one GenericLane { ext 0, no name / ingress / egress / maneuvers / connectsTo /
    // overlays / regional; laneID 1; laneAttributes { no regional; directionalUse 2 bits,
    // sharedWith 10 bits,
    // laneType vehicle (CHOICE 0 of 8, not extended) BIT STRING (SIZE(8, ...)) root }; nodeList
    // nodes (CHOICE 0 of 2, not extended): two NodeXY { ext 0, no attributes; node-XY1 } }
    w.cons(1, 1, 255);
    w.bit(false).put(0, 7).cons(1, 0, 255);
    w.bit(false).put(0x2, 2).put(0, 10).bit(false).cons(0, 0, 7).bit(false).put(0, 8);
    w.bit(false).cons(0, 0, 1).cons(2, 2, 63);
    for (int i = 0; i < 2; i++)
        w.bit(false).bit(false).cons(0, 0, 7).cons(100 * i, -512, 511).cons(-50, -512, 511);
    return w.v;
}

// Gn wraps an ITS PDU: basic header, common header with header type ht, the extended header,
// BTP-B with port.
std::vector<uint8_t> Gn(uint8_t ht, uint16_t port, const std::vector<uint8_t> &pdu, bool secured_body = false) {
    std::vector<uint8_t> g;
    auto u16 = [&](unsigned x) { g.push_back((uint8_t)(x >> 8)); g.push_back((uint8_t)x); };
    auto u32 = [&](uint32_t x) { u16(x >> 16); u16(x & 0xFFFF); };
    auto lpv = [&]() {
        g.insert(g.end(), {0x14, 0x00, 0x48, 0xa9, 0x8a, 0x90, 0x82, 0x7f});
        u32(311205100);
        u32((uint32_t)450147653);
        u32((uint32_t)-75684908);
        u16(0x8000 | 0x7FF6); // PAI set, speed -10 (0.01 m/s)
        u16(2700);
    };
    if (!secured_body) g.insert(g.end(), {0x11, 0x00, 0x50, 0x01});
    g.insert(g.end(), {0x20, ht, 0x02, 0x80});
    u16((unsigned)(pdu.size() + 4));
    g.insert(g.end(), {0x01, 0x00});
    switch (ht >> 4) {
    case 1: lpv(); return g;
    case 2: u16(4711); u16(0); lpv(); g.insert(g.end(), 20, 0x11); break;
    case 4: u16(4712); u16(0); lpv(); g.insert(g.end(), 16, 0x22); break;
    case 5:
        if (ht == 0x51) { u16(4713); u16(0); lpv(); } else { lpv(); u32(0); }
        break;
    }
    u16(port);
    u16(0);
    g.insert(g.end(), pdu.begin(), pdu.end());
    return g;
}

// Every cut and some bit flips: a clear error or a valid decode, never a crash (ASan/UBSan
// builds make reads out of bounds fatal).
template <class F> void Damage(const std::vector<uint8_t> &good, F decode, const char *layer) {
    vxs_v2x_msg_t m;
    char err[256];
    for (size_t n = 0; n < good.size(); n++) {
        std::vector<uint8_t> cut(good.begin(), good.begin() + (long)n);
        err[0] = '\0';
        vxs_status_t st = decode(&m, cut.data(), cut.size(), err, sizeof err);
        if (st != VXS_OK) {
            EXPECT_TRUE(st == VXS_E_TRUNCATED || st == VXS_E_MALFORMED) << layer << " cut " << n;
            EXPECT_TRUE(std::strstr(err, "bit ") != nullptr || std::strstr(err, "byte ") != nullptr)
                << layer << " cut " << n << ": " << err;
        }
    }
    std::mt19937 rng(12345);
    for (int k = 0; k < 2000; k++) {
        std::vector<uint8_t> f = good;
        int flips = 1 + (int)(rng() % 4);
        for (int j = 0; j < flips; j++) f[rng() % f.size()] ^= (uint8_t)(1u << (rng() % 8));
        err[0] = '\0';
        vxs_status_t st = decode(&m, f.data(), f.size(), err, sizeof err);
        EXPECT_TRUE(st == VXS_OK || st == VXS_E_TRUNCATED || st == VXS_E_MALFORMED ||
                    st == VXS_E_UNSUPPORTED) << layer << ": " << vxs_status_name(st);
        if (st != VXS_OK) {
            EXPECT_NE(err[0], '\0') << layer;
        }
        EXPECT_LE(m.n_objects_kept, VXS_V2X_MAX_OBJECTS);
    }
}

vxs_status_t Pdu(vxs_v2x_msg_t *m, const std::vector<uint8_t> &b, std::string *err = nullptr) {
    char e[256] = "";
    vxs_status_t st = vxs_v2x_decode_its_pdu(m, b.data(), b.size(), e, sizeof e);
    if (err) *err = e;
    return st;
}

// ---- the capture -----------------------------------------------------------------------------

struct Frame {
    long number;
    vxs_time_t time;
    std::vector<uint8_t> gn;
};

std::vector<Frame> GnFrames(const std::string &path) {
    std::vector<Frame> out;
    vxs_pcap_t *p = nullptr;
    char err[512];
    EXPECT_EQ(vxs_pcap_open_file(&p, path.c_str(), nullptr, nullptr, err, sizeof err), VXS_OK) << err;
    const vxs_packet_t *pkt;
    while (p && vxs_pcap_next(p, &pkt) == VXS_OK) {
        const vxs_pkt_info_t *pl = vxs_packet_payload(pkt);
        if (!pl || pl->ethertype != VXS_ETHERTYPE_GEONET) continue;
        out.push_back({(long)pkt->index + 1, pkt->ts, std::vector<uint8_t>(pl->payload, pl->payload + pl->payload_len)});
    }
    vxs_pcap_close(p);
    return out;
}

std::map<long, std::vector<long>> ParseCsv(const std::string &text) {
    std::map<long, std::vector<long>> rows;
    std::istringstream in(text);
    std::string line;
    while (std::getline(in, line)) {
        if (line.empty() || line[0] == '#') continue;
        std::vector<long> f;
        std::stringstream ls(line);
        std::string cell;
        while (std::getline(ls, cell, ',')) f.push_back(cell.empty() ? 0 : std::stol(cell));
        if (!f.empty()) rows[f[0]] = std::vector<long>(f.begin() + 1, f.end());
    }
    return rows;
}

const char *kCapture = "datasets/v2x/etsi/msvan3t_cam_cpm.pcap";

// Compares every CAM with rows {station, gdt, lat, lon, speed, heading, tst}.
void CompareCams(const std::vector<Frame> &frames, const std::map<long, std::vector<long>> &ref) {
    size_t cams = 0, accuracies = 0;
    for (const Frame &f : frames) {
        vxs_v2x_msg_t m;
        char err[256] = "";
        ASSERT_EQ(vxs_v2x_decode_gn(&m, f.gn.data(), f.gn.size(), err, sizeof err), VXS_OK) << f.number << ": " << err;
        if (m.msg_id != VXS_ETSI_CAM) {
            EXPECT_EQ(ref.count(f.number), 0u) << f.number;
            continue;
        }
        cams++;
        auto it = ref.find(f.number);
        ASSERT_NE(it, ref.end()) << f.number;
        const std::vector<long> &r = it->second;
        ASSERT_GE(r.size(), 7u);
        EXPECT_TRUE(m.decoded);
        EXPECT_EQ(m.station_id, r[0]) << f.number;
        EXPECT_EQ(m.gen_delta_time, r[1]) << f.number;
        EXPECT_EQ(std::lround(m.lat_deg * 1e7), r[2]) << f.number;
        EXPECT_EQ(std::lround(m.lon_deg * 1e7), r[3]) << f.number;
        EXPECT_EQ(std::lround(m.speed_mps * 100), r[4]) << f.number;
        EXPECT_EQ(std::lround(m.heading_deg * 10), r[5]) << f.number;
        EXPECT_EQ(m.gn_tst, r[6]) << f.number;
        EXPECT_EQ(m.gn_btp_port, 2001);
        if (r.size() >= 12) { // the claimed accuracy, where the reference has it
            auto same = [&](double v, double unit, long want, long unavailable) {
                if (want >= unavailable) return std::isnan(v);
                return std::lround(v / unit) == want;
            };
            EXPECT_TRUE(same(m.pos_semi_major_m, 0.01, r[7], 4094)) << f.number;
            EXPECT_TRUE(same(m.pos_semi_minor_m, 0.01, r[8], 4094)) << f.number;
            EXPECT_TRUE(same(m.pos_orientation_deg, 0.1, r[9], 3601)) << f.number;
            EXPECT_TRUE(same(m.speed_conf_mps, 0.01, r[10], 126)) << f.number;
            EXPECT_TRUE(same(m.heading_conf_deg, 0.1, r[11], 126)) << f.number;
            accuracies++;
        }
    }
    EXPECT_EQ(cams, 367u);
    EXPECT_EQ(cams, ref.size());
    if (accuracies) {
        EXPECT_EQ(accuracies, cams);
    }
}

TEST(Etsi, CaptureCamsEqualExpectedFile) {
    VXS_SHARED_OR_SKIP(path, kCapture);
    std::vector<uint8_t> csv = vxs_test::ReadFile(std::string(VXS_SOURCE_DIR) + "/tests/sensors/data/etsi_cam_expected.csv");
    ASSERT_FALSE(csv.empty());
    CompareCams(GnFrames(path), ParseCsv(std::string(csv.begin(), csv.end())));
}

TEST(Etsi, CaptureCamsEqualLiveTshark) {
    VXS_SHARED_OR_SKIP(path, kCapture);
    VXS_TOOL_OR_SKIP("tshark");
    std::string out;
    ASSERT_EQ(vxs_test::Run("tshark -r '" + path + "' -T fields -E separator=, -e frame.number -e its.stationID "
                            "-e cam.generationDeltaTime -e its.latitude -e its.longitude -e its.speedValue "
                            "-e its.headingValue -e geonw.src_pos.tst -e its.semiMajorConfidence "
                            "-e its.semiMinorConfidence -e its.semiMajorOrientation -e its.speedConfidence "
                            "-e its.headingConfidence -Y cam.generationDeltaTime 2>/dev/null", &out), 0);
    CompareCams(GnFrames(path), ParseCsv(out));
}

// The GN source position vector of every frame (CAM and CPM) against tshark's geonw fields.
TEST(Etsi, CaptureGnHeadersEqualLiveTshark) {
    VXS_SHARED_OR_SKIP(path, kCapture);
    VXS_TOOL_OR_SKIP("tshark");
    std::string out;
    ASSERT_EQ(vxs_test::Run("tshark -r '" + path + "' -T fields -E separator=, -e frame.number -e geonw.src_pos.tst "
                            "-e geonw.src_pos.lat -e geonw.src_pos.long -e geonw.src_pos.hdg -e btpb.dstport "
                            "-Y gnw 2>/dev/null", &out), 0);
    auto ref = ParseCsv(out);
    std::vector<Frame> frames = GnFrames(path);
    ASSERT_EQ(frames.size(), ref.size());
    for (const Frame &f : frames) {
        vxs_v2x_msg_t m;
        char err[256] = "";
        ASSERT_EQ(vxs_v2x_decode_gn(&m, f.gn.data(), f.gn.size(), err, sizeof err), VXS_OK) << err;
        const std::vector<long> &r = ref[f.number];
        ASSERT_EQ(r.size(), 5u) << f.number;
        EXPECT_EQ(m.gn_tst, r[0]) << f.number;
        EXPECT_EQ(std::lround(m.gn_lat_deg * 1e7), r[1]) << f.number;
        EXPECT_EQ(std::lround(m.gn_lon_deg * 1e7), r[2]) << f.number;
        EXPECT_EQ(std::lround(m.gn_heading_deg * 10), r[3]) << f.number;
        EXPECT_EQ(m.gn_btp_port, r[4]) << f.number;
        EXPECT_EQ(m.gn_header_type, 0x50);
        EXPECT_TRUE(m.has_gn);
    }
}

// Every CPM (562, which tshark 4.0 cannot dissect) decodes; ms-van3t writes referenceTime as
// TimestampIts mod 65536 (a generationDeltaTime in a 42-bit field), which the decoder returns as
// gen_delta_time: it is compared with the capture time on that circle, UTC-based like the
// capture's GN timestamps.
TEST(Etsi, CaptureCpmsDecode) {
    VXS_SHARED_OR_SKIP(path, kCapture);
    size_t cpms = 0, objects = 0;
    for (const Frame &f : GnFrames(path)) {
        vxs_v2x_msg_t m;
        char err[256] = "";
        ASSERT_EQ(vxs_v2x_decode_gn(&m, f.gn.data(), f.gn.size(), err, sizeof err), VXS_OK) << f.number << ": " << err;
        if (m.msg_id != VXS_ETSI_CPM) continue;
        cpms++;
        EXPECT_TRUE(m.decoded) << f.number;
        EXPECT_EQ(m.protocol_version, 2);
        EXPECT_EQ(m.station_id, 100);
        EXPECT_EQ(m.gn_btp_port, 2009);
        int64_t cap_ms = (f.time - VXS_EPOCH_2004) / VXS_NS_PER_MS;
        EXPECT_EQ(m.its_time_ms, -1);
        int64_t d = ((m.gen_delta_time - cap_ms) % 65536 + 65536 + 32768) % 65536 - 32768;
        EXPECT_LT(std::llabs(d), 200) << f.number << " referenceTime " << m.gen_delta_time;
        // the station stays within a few tens of metres (the GN source position vector is no
        // reference: some frames carry 0x80000000 there)
        EXPECT_NEAR(m.lat_deg, 45.01477, 1e-3) << f.number;
        EXPECT_NEAR(m.lon_deg, 7.56849, 1e-3) << f.number;
        EXPECT_LE(m.n_objects, 16) << f.number;
        EXPECT_EQ(m.n_objects_kept, m.n_objects);
        for (int i = 0; i < m.n_objects_kept; i++) {
            const vxs_v2x_object_t &o = m.objects[i];
            EXPECT_LE(o.object_id, 1000u);
            EXPECT_LT(std::fabs(o.x_m), 200.0);
            EXPECT_LT(std::fabs(o.y_m), 200.0);
            EXPECT_TRUE(std::isnan(o.z_m));
            EXPECT_LT(std::fabs(o.vx_mps), 60.0);
            EXPECT_LT(std::fabs(o.vy_mps), 60.0);
            EXPECT_LE(std::abs(o.measurement_delta_ms), 2048);
            objects++;
        }
    }
    EXPECT_EQ(cpms, 562u);
    EXPECT_GT(objects, 300u);
}

// First CPM of the capture, decoded by hand from the bits (see the report): object 800 at
// (-35.04, 8.09) m moving (0.01, 0.22) m/s, measured 19 ms after referenceTime 40172.
TEST(Etsi, FirstCpmByHand) {
    VXS_SHARED_OR_SKIP(path, kCapture);
    std::vector<Frame> frames = GnFrames(path);
    ASSERT_FALSE(frames.empty());
    vxs_v2x_msg_t m;
    char err[256] = "";
    ASSERT_EQ(vxs_v2x_decode_gn(&m, frames[0].gn.data(), frames[0].gn.size(), err, sizeof err), VXS_OK) << err;
    ASSERT_EQ(m.msg_id, VXS_ETSI_CPM);
    EXPECT_EQ(m.gen_delta_time, 40172);
    ASSERT_EQ(m.n_objects, 1);
    EXPECT_EQ(m.objects[0].object_id, 800u);
    EXPECT_EQ(m.objects[0].measurement_delta_ms, 19);
    EXPECT_NEAR(m.objects[0].x_m, -35.04, 1e-9);
    EXPECT_NEAR(m.objects[0].y_m, 8.09, 1e-9);
    EXPECT_NEAR(m.objects[0].vx_mps, 0.01, 1e-9);
    EXPECT_NEAR(m.objects[0].vy_mps, 0.22, 1e-9);
    EXPECT_EQ(m.objects[0].classification, -1);
}

// ---- messages built here ----------------------------------------------------------------------

TEST(Etsi, CamV141EveryOptionalField) {
    CamOpts o;
    o.all_optional = o.low_freq = o.special = true;
    vxs_v2x_msg_t m;
    std::string err;
    ASSERT_EQ(Pdu(&m, Cam(o), &err), VXS_OK) << err;
    EXPECT_TRUE(m.decoded);
    EXPECT_EQ(m.station_id, 4242);
    EXPECT_EQ(m.gen_delta_time, 12345);
    EXPECT_EQ(m.station_type, 5);
    EXPECT_NEAR(m.lat_deg, 48.1234567, 1e-9);
    EXPECT_NEAR(m.lon_deg, 11.5678901, 1e-9);
    EXPECT_NEAR(m.elev_m, 520.50, 1e-9);
    EXPECT_NEAR(m.heading_deg, 123.4, 1e-9);
    EXPECT_NEAR(m.speed_mps, 13.89, 1e-9);
    EXPECT_NEAR(m.length_m, 4.5, 1e-9);
    EXPECT_NEAR(m.width_m, 1.8, 1e-9);
    EXPECT_NEAR(m.accel_long_mps2, -1.2, 1e-9);
    EXPECT_NEAR(m.yaw_rate_dps, -1.5, 1e-9);
    EXPECT_NEAR(m.accel_lat_mps2, 0.7, 1e-9);
    EXPECT_NEAR(m.accel_vert_mps2, -0.3, 1e-9);
    // the claimed accuracy: a 95 % ellipse of 5.00 x 4.00 m at 90.0 deg, 1.0 deg, 0.05 m/s
    EXPECT_NEAR(m.pos_semi_major_m, 5.0, 1e-9);
    EXPECT_NEAR(m.pos_semi_minor_m, 4.0, 1e-9);
    EXPECT_NEAR(m.pos_orientation_deg, 90.0, 1e-9);
    EXPECT_TRUE(m.pos_confidence_95);
    EXPECT_NEAR(m.heading_conf_deg, 1.0, 1e-9);
    EXPECT_NEAR(m.speed_conf_mps, 0.05, 1e-9);
    EXPECT_TRUE(m.cam_low_freq);
    EXPECT_FALSE(m.cam_rsu);
    // one bit missing at the very end (inside the emergency priority): truncated, named
    std::vector<uint8_t> b = Cam(o);
    b.resize(b.size() - 1);
    EXPECT_EQ(Pdu(&m, b, &err), VXS_E_TRUNCATED);
    EXPECT_EQ(err.rfind("CAM: bit ", 0), 0u) << err;
}

TEST(Etsi, CamV13UsesTheOldCurvatureRange) {
    CamOpts o;
    o.ver = 1;
    o.low_freq = o.special = true;
    vxs_v2x_msg_t m;
    std::string err;
    ASSERT_EQ(Pdu(&m, Cam(o), &err), VXS_OK) << err;
    EXPECT_EQ(m.protocol_version, 1);
    EXPECT_TRUE(m.decoded);
    EXPECT_NEAR(m.yaw_rate_dps, -1.5, 1e-9); // after the 15-bit curvature
    EXPECT_TRUE(m.cam_low_freq);
    // read as v1.4.1 the same bits give other values
    std::vector<uint8_t> b = Cam(o);
    b[0] = 2;
    vxs_v2x_msg_t m2;
    vxs_status_t st = Pdu(&m2, b, &err);
    EXPECT_TRUE(st != VXS_OK || std::fabs(m2.yaw_rate_dps + 1.5) > 1e-6);
}

TEST(Etsi, CamRsu) {
    CamOpts o;
    o.rsu = true;
    o.low_freq = false;
    vxs_v2x_msg_t m;
    std::string err;
    ASSERT_EQ(Pdu(&m, Cam(o), &err), VXS_OK) << err;
    EXPECT_TRUE(m.cam_rsu);
    EXPECT_TRUE(m.decoded);
    EXPECT_TRUE(std::isnan(m.speed_mps));
    EXPECT_NEAR(m.lat_deg, 48.1234567, 1e-9);
}

TEST(Etsi, CamRelease2ExtensionContainerIsSkipped) {
    CamOpts o;
    o.release2_ext = o.low_freq = true;
    std::vector<uint8_t> b = Cam(o);
    vxs_v2x_msg_t m;
    std::string err;
    ASSERT_EQ(Pdu(&m, b, &err), VXS_OK) << err;
    EXPECT_TRUE(m.decoded);
    EXPECT_NEAR(m.speed_mps, 13.89, 1e-9);
    // the open type is read: cutting into it is an error
    b.resize(b.size() - 2);
    EXPECT_EQ(Pdu(&m, b, &err), VXS_E_TRUNCATED);
    EXPECT_NE(err.find("extension"), std::string::npos) << err;
}

TEST(Etsi, UnavailableValuesAreNaN) {
    Bw w;
    w.header(2, 2, 1).cons(0, 0, 65535).put(0, 3).bit(false).cons(0, 0, 255);
    w.refpos(900000001, 1800000001, 800001, 4095, 4094, 3601); // unavailable, out of range
    w.put(0, 2).put(0, 7).cons(3601, 0, 3601).cons(127, 1, 127).cons(16383, 0, 16383).cons(126, 1, 127);
    w.cons(2, 0, 2).cons(1023, 1, 1023).cons(4, 0, 4).cons(62, 1, 62).cons(161, -160, 161).cons(102, 0, 102);
    w.cons(1023, -1023, 1023).put(7, 3).bit(false).cons(2, 0, 2).cons(32767, -32766, 32767).cons(8, 0, 8);
    vxs_v2x_msg_t m;
    std::string err;
    ASSERT_EQ(Pdu(&m, w.v, &err), VXS_OK) << err;
    for (double d : {m.lat_deg, m.lon_deg, m.elev_m, m.heading_deg, m.speed_mps, m.length_m, m.width_m,
                     m.accel_long_mps2, m.yaw_rate_dps, m.pos_semi_major_m, m.pos_semi_minor_m,
                     m.pos_orientation_deg, m.heading_conf_deg, m.speed_conf_mps})
        EXPECT_TRUE(std::isnan(d));
}

// A value the bits hold but the standard does not allow (a latitude of 900000002, a heading of
// 3602) is a field the message does not have: the message is kept with everything else,
// counted and the first field named. One in the message's structure (a driveDirection of 3)
// still ends it, malformed, with the bit.
TEST(Etsi, OutOfRangeValuesAreAbsentAndCountedStructureIsMalformed) {
    Bw w;
    w.header(2, 2, 1).cons(0, 0, 65535).put(0, 3).bit(false).cons(5, 0, 255);
    w.put(1800000002, 31).cons(115678901, -1800000000, 1800000001); // latitude out of range
    w.cons(100, 0, 4095).cons(100, 0, 4095).cons(0, 0, 3601).cons(52050, -100000, 800001).put(0, 4);
    w.put(0, 2).put(0, 7).put(3602, 12).cons(10, 1, 127); // heading out of range
    w.cons(1389, 0, 16383).cons(5, 1, 127);
    w.cons(0, 0, 2).cons(45, 1, 1023).cons(1, 0, 4).cons(18, 1, 62);
    w.cons(-12, -160, 161).cons(3, 0, 102).cons(1023, -1023, 1023).put(7, 3).bit(false);
    w.cons(2, 0, 2).cons(-150, -32766, 32767).cons(8, 0, 8);
    vxs_v2x_msg_t m;
    std::string err;
    ASSERT_EQ(Pdu(&m, w.v, &err), VXS_OK) << err;
    EXPECT_TRUE(m.decoded);
    EXPECT_EQ(m.n_out_of_range, 2u);
    EXPECT_STREQ(m.out_of_range_field, "latitude");
    EXPECT_TRUE(std::isnan(m.lat_deg));
    EXPECT_TRUE(std::isnan(m.lon_deg)); // one coordinate is no position
    EXPECT_TRUE(std::isnan(m.heading_deg));
    EXPECT_NEAR(m.speed_mps, 13.89, 1e-9); // the rest is there
    EXPECT_NEAR(m.elev_m, 520.5, 1e-9);
    EXPECT_NEAR(m.yaw_rate_dps, -1.5, 1e-9);
    Bw s;
    s.header(2, 2, 1).cons(0, 0, 65535).put(0, 3).bit(false).cons(5, 0, 255);
    s.refpos(481234567, 115678901, 52050).put(0, 2).put(0, 7);
    s.cons(1234, 0, 3601).cons(10, 1, 127).cons(1389, 0, 16383).cons(5, 1, 127);
    s.put(3, 2); // driveDirection 3 does not exist
    s.put(0, 64);
    EXPECT_EQ(Pdu(&m, s.v, &err), VXS_E_MALFORMED);
    EXPECT_EQ(err, "CAM: bit 248: driveDirection out of range"); // 76 + 123 + 2 + 7 + 19 + 21
}

TEST(Etsi, DenmWithAndWithoutOptionalFields) {
    vxs_v2x_msg_t m;
    std::string err;
    ASSERT_EQ(Pdu(&m, Denm({}), &err), VXS_OK) << err;
    EXPECT_TRUE(m.decoded);
    EXPECT_EQ(m.msg_id, VXS_ETSI_DENM);
    EXPECT_EQ(m.denm_origin, 888);
    EXPECT_EQ(m.denm_seq, 17);
    EXPECT_EQ(m.denm_detection_ms, 600000000000LL);
    EXPECT_EQ(m.its_time_ms, 600000000500LL);
    EXPECT_NEAR(m.lat_deg, -33.5, 1e-9);
    EXPECT_NEAR(m.lon_deg, 151.2345678, 1e-9);
    EXPECT_TRUE(std::isnan(m.elev_m));
    EXPECT_EQ(m.denm_validity_s, 120);
    EXPECT_EQ(m.station_type, 15);
    EXPECT_EQ(m.cause_code, 94);
    EXPECT_EQ(m.sub_cause_code, 2);
    DenmOpts o;
    o.optional = o.situation = false;
    ASSERT_EQ(Pdu(&m, Denm(o), &err), VXS_OK) << err;
    EXPECT_EQ(m.denm_validity_s, 600); // DEFAULT defaultValidity
    EXPECT_EQ(m.station_type, 15);
    EXPECT_EQ(m.cause_code, -1);
}

TEST(Etsi, CpmSynthetic) {
    vxs_v2x_msg_t m;
    std::string err;
    ASSERT_EQ(Pdu(&m, Cpm(3), &err), VXS_OK) << err;
    EXPECT_TRUE(m.decoded);
    EXPECT_EQ(m.its_time_ms, 654000000000LL);
    ASSERT_EQ(m.n_objects, 3);
    ASSERT_EQ(m.n_objects_kept, 3);
    for (int i = 0; i < 3; i++) {
        const vxs_v2x_object_t &o = m.objects[i];
        EXPECT_EQ(o.object_id, 100u + (unsigned)i);
        EXPECT_EQ(o.measurement_delta_ms, -5 * i);
        EXPECT_NEAR(o.x_m, -35.04 + 0.01 * i, 1e-9);
        EXPECT_NEAR(o.y_m, 8.09, 1e-9);
        EXPECT_NEAR(o.z_m, 1.5, 1e-9);
        if (i % 2) { // polar: 10 m/s at 90 degrees
            EXPECT_NEAR(o.vx_mps, 0.0, 1e-9);
            EXPECT_NEAR(o.vy_mps, 10.0, 1e-9);
        } else {
            EXPECT_NEAR(o.vx_mps, 0.01, 1e-9);
            EXPECT_NEAR(o.vy_mps, -0.22, 1e-9);
        }
        EXPECT_EQ(o.classification, 5);
        EXPECT_EQ(o.class_confidence, 90);
    }
    // more objects than kept: all counted
    ASSERT_EQ(Pdu(&m, Cpm(70), &err), VXS_OK) << err;
    EXPECT_EQ(m.n_objects, 70);
    EXPECT_EQ(m.n_objects_kept, VXS_V2X_MAX_OBJECTS);
    EXPECT_EQ(m.objects[63].object_id, 163u);
}

TEST(Etsi, VamSpatemMapem) {
    vxs_v2x_msg_t m;
    std::string err;
    ASSERT_EQ(Pdu(&m, Vam(), &err), VXS_OK) << err;
    EXPECT_TRUE(m.decoded);
    EXPECT_EQ(m.gen_delta_time, 4321);
    EXPECT_EQ(m.station_type, 1);
    EXPECT_NEAR(m.lat_deg, 1.0, 1e-9);
    EXPECT_NEAR(m.lon_deg, 2.0, 1e-9);
    EXPECT_NEAR(m.heading_deg, 270.5, 1e-9);
    EXPECT_NEAR(m.speed_mps, 1.42, 1e-9);
    EXPECT_NEAR(m.accel_long_mps2, -0.3, 1e-9);
    EXPECT_NEAR(m.heading_conf_deg, 3.0, 1e-9);
    EXPECT_NEAR(m.speed_conf_mps, 0.08, 1e-9);
    ASSERT_EQ(Pdu(&m, Spatem(), &err), VXS_OK) << err;
    EXPECT_TRUE(m.decoded);
    EXPECT_EQ(m.moy, 200000);
    EXPECT_EQ(m.sec_mark, 45000);
    ASSERT_EQ(m.n_intersections, 2);
    EXPECT_EQ(m.intersection_ids[0], (3LL << 16) | 1234);
    EXPECT_EQ(m.intersection_ids[1], 99);
    ASSERT_EQ(Pdu(&m, Mapem(), &err), VXS_OK) << err;
    EXPECT_TRUE(m.decoded);
    EXPECT_EQ(m.moy, 300000);
    EXPECT_EQ(m.msg_cnt, 9);
    ASSERT_EQ(m.n_intersections, 1);
    EXPECT_EQ(m.intersection_ids[0], 4321);
    EXPECT_NEAR(m.lat_deg, 48.0, 1e-9);
    EXPECT_NEAR(m.lon_deg, 11.0, 1e-9);
    EXPECT_NEAR(m.elev_m, 34.5, 1e-9);
    // a byte too many after the MapData: not the padding of its last octet
    std::vector<uint8_t> longer = Mapem();
    longer.push_back(0);
    EXPECT_EQ(Pdu(&m, longer, &err), VXS_E_MALFORMED);
    EXPECT_NE(err.find("MAPEM: bit"), std::string::npos) << err;
    EXPECT_NE(err.find("left over"), std::string::npos) << err;
}

TEST(Etsi, OtherMessagesGiveTheHeader) {
    Bw w;
    w.header(2, 6, 99).put(0xFFFF, 16);
    vxs_v2x_msg_t m;
    ASSERT_EQ(Pdu(&m, w.v), VXS_OK);
    EXPECT_FALSE(m.decoded);
    EXPECT_EQ(m.msg_id, VXS_ETSI_IVIM);
    EXPECT_EQ(m.station_id, 99);
}

TEST(Etsi, GnHeaderTypes) {
    std::vector<uint8_t> denm = Denm({});
    struct { uint8_t ht; int sn; } cases[] = {{0x51, 4713}, {0x40, 4712}, {0x20, 4711}, {0x50, -1}};
    for (auto c : cases) {
        std::vector<uint8_t> g = Gn(c.ht, 2002, denm);
        vxs_v2x_msg_t m;
        char err[256] = "";
        ASSERT_EQ(vxs_v2x_decode_gn(&m, g.data(), g.size(), err, sizeof err), VXS_OK) << err;
        EXPECT_EQ(m.gn_header_type, c.ht);
        EXPECT_EQ(m.gn_sn, c.sn);
        EXPECT_EQ(m.gn_btp_port, 2002);
        EXPECT_EQ(m.gn_tst, 311205100);
        EXPECT_NEAR(m.gn_lat_deg, 45.0147653, 1e-9);
        EXPECT_NEAR(m.gn_lon_deg, -7.5684908, 1e-9);
        EXPECT_NEAR(m.gn_speed_mps, -0.10, 1e-9); // signed 15 bits, PAI masked
        EXPECT_NEAR(m.gn_heading_deg, 270.0, 1e-9);
        EXPECT_EQ(m.gn_addr[2], 0x48);
        EXPECT_EQ(m.denm_seq, 17);
        EXPECT_TRUE(m.has_gn);
        Damage(g, vxs_v2x_decode_gn, "GN");
    }
    std::vector<uint8_t> beacon = Gn(0x10, 0, {});
    vxs_v2x_msg_t m;
    char err[256] = "";
    ASSERT_EQ(vxs_v2x_decode_gn(&m, beacon.data(), beacon.size(), err, sizeof err), VXS_OK) << err;
    EXPECT_EQ(m.gn_header_type, 0x10);
    EXPECT_EQ(m.msg_id, -1);
    EXPECT_EQ(m.gn_tst, 311205100);
    // an error inside the PDU says where the PDU began
    std::vector<uint8_t> g = Gn(0x50, 2002, denm);
    g.resize(g.size() - 3);
    EXPECT_EQ(vxs_v2x_decode_gn(&m, g.data(), g.size(), err, sizeof err), VXS_E_TRUNCATED);
    EXPECT_NE(std::strstr(err, "DENM: bit "), nullptr) << err;
    EXPECT_NE(std::strstr(err, "(ITS PDU at byte 44)"), nullptr) << err;
}

// A secured GN packet: basic header NH = 2, then 1609.2 signed data whose payload is the common
// header onwards.
TEST(Etsi, GnSecured) {
    CamOpts o;
    std::vector<uint8_t> inner = Gn(0x50, 2001, Cam(o), true);
    std::vector<uint8_t> g = {0x12, 0x00, 0x50, 0x01};
    std::vector<uint8_t> d = {0x03, 0x81, 0x00, 0x40, 0x03, 0x80, (uint8_t)inner.size()};
    d.insert(d.end(), inner.begin(), inner.end());
    d.insert(d.end(), {0x40, 0x01, 0x24});
    for (int i = 7; i >= 0; i--) d.push_back((uint8_t)(0x0005F5E100ULL >> (8 * i)));
    d.insert(d.end(), {0x80, 0x01, 0x02});
    g.insert(g.end(), d.begin(), d.end());
    vxs_v2x_msg_t m;
    char err[256] = "";
    ASSERT_EQ(vxs_v2x_decode_gn(&m, g.data(), g.size(), err, sizeof err), VXS_OK) << err;
    EXPECT_TRUE(m.gn_secured);
    EXPECT_EQ(m.ieee_content, 1);
    EXPECT_EQ(m.ieee_psid, 0x24u);
    EXPECT_EQ(m.ieee_gen_time_us, 100000000);
    EXPECT_EQ(m.gn_header_type, 0x50);
    EXPECT_EQ(m.gn_btp_port, 2001);
    EXPECT_EQ(m.msg_id, VXS_ETSI_CAM);
    EXPECT_TRUE(m.decoded);
    EXPECT_NEAR(m.speed_mps, 13.89, 1e-9);
    Damage(g, vxs_v2x_decode_gn, "secured GN");
}

// The synthetic messages above, named as their fuzz seeds are (corpus/<target>/<name>).
std::vector<std::pair<std::string, std::vector<uint8_t>>> SyntheticMessages() {
    CamOpts all;
    all.all_optional = all.low_freq = all.special = all.release2_ext = true;
    CamOpts v1 = all;
    v1.ver = 1;
    v1.release2_ext = false;
    CamOpts rsu;
    rsu.rsu = true;
    DenmOpts bare;
    bare.optional = bare.situation = false;
    return {{"cam/v141-all-optional", Cam(all)}, {"cam/v13-low-freq", Cam(v1)},
            {"cam/rsu", Cam(rsu)},               {"denm/full", Denm({})},
            {"denm/bare", Denm(bare)},           {"cpm/three-objects", Cpm(3)},
            {"cpm/seventy-objects", Cpm(70)},    {"its_pdu/vam", Vam()},
            {"its_pdu/spatem", Spatem()},        {"its_pdu/mapem", Mapem()}};
}

TEST(Etsi, DamagedMessagesGiveErrorsNotCrashes) {
    for (auto &p : SyntheticMessages()) Damage(p.second, vxs_v2x_decode_its_pdu, p.first.c_str());
}

TEST(Etsi, DamagedCaptureFrames) {
    VXS_SHARED_OR_SKIP(path, kCapture);
    std::vector<Frame> frames = GnFrames(path);
    for (size_t i = 0; i < frames.size() && i < 40; i += 3) Damage(frames[i].gn, vxs_v2x_decode_gn, "capture GN");
}

// Not a test: writes the synthetic messages above as fuzz seeds (run once by hand with
// --gtest_also_run_disabled_tests --gtest_filter=Etsi.DISABLED_WriteFuzzSeeds).
TEST(Etsi, DISABLED_WriteFuzzSeeds) {
    std::string dir = std::string(VXS_SOURCE_DIR) + "/tests/fuzz/corpus/";
    auto put = [&](const std::string &name, const std::vector<uint8_t> &b) {
        std::ofstream(dir + name, std::ios::binary).write((const char *)b.data(), (std::streamsize)b.size());
    };
    for (auto &p : SyntheticMessages()) put(p.first, p.second);
    put("gn/guc-denm", Gn(0x20, 2002, Denm({})));
    put("gn/gbc-cpm", Gn(0x40, 2009, Cpm(2)));
    put("gn/beacon", Gn(0x10, 0, {}));
    put("gn/shb-vam", Gn(0x50, 2018, Vam()));
    put("gn/tsb-spatem", Gn(0x51, 2004, Spatem()));
}

} // namespace
