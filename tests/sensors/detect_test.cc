// detect_test.cc: vxs_classify on crafted payloads (layouts from shared/specs) and
// vxs_detect_file on real and crafted files.
#include <cstring>
#include <set>
#include <string>
#include <vector>

#include "test_util.h"
#include "vxs_v2x.h"
#include "vxs_core.h"
#include "vxs_sensors.h"

namespace {

// A decoded packet whose UDP or EtherType payload is `pl` (the layers below are not under test
// here; pcap_reader_test covers them on real captures).
struct Fake {
    vxs_packet_t pkt{};
    std::vector<uint8_t> pl;
    Fake(std::vector<uint8_t> payload, uint16_t dst_port, uint16_t ethertype = 0)
        : pl(std::move(payload)) {
        pkt.decode_status = VXS_OK;
        vxs_pkt_info_t &i = pkt.info;
        i.linktype = VXS_LINKTYPE_ETHERNET;
        i.has_mac = true;
        for (int b = 0; b < 6; b++) i.src_mac[b] = static_cast<uint8_t>(0x10 + b);
        if (ethertype) {
            i.kind = VXS_PL_ETHERTYPE;
            i.ethertype = ethertype;
        } else {
            i.kind = VXS_PL_UDP;
            i.ethertype = VXS_ETHERTYPE_IPV4;
            i.ip_version = 4;
            i.ip_proto = 17;
            i.src_addr[10] = i.src_addr[11] = 0xff;
            i.src_addr[12] = 192;
            i.src_addr[15] = 7;
            i.src_port = 1234;
            i.dst_port = dst_port;
        }
        i.payload = pl.data();
        i.payload_len = pl.size();
    }
    vxs_pkt_class_info_t Classify() const {
        vxs_pkt_class_info_t c;
        vxs_classify(&c, &pkt);
        return c;
    }
};

void Le16(std::vector<uint8_t> *b, size_t at, uint16_t v) {
    (*b)[at] = static_cast<uint8_t>(v);
    (*b)[at + 1] = static_cast<uint8_t>(v >> 8);
}
void Le32(std::vector<uint8_t> *b, size_t at, uint32_t v) {
    for (int i = 0; i < 4; i++) (*b)[at + static_cast<size_t>(i)] = static_cast<uint8_t>(v >> (8 * i));
}
void Le64(std::vector<uint8_t> *b, size_t at, uint64_t v) {
    for (int i = 0; i < 8; i++) (*b)[at + static_cast<size_t>(i)] = static_cast<uint8_t>(v >> (8 * i));
}

std::vector<uint8_t> VelodyneData(uint16_t flag = 0xEEFF, uint16_t az = 12345) {
    std::vector<uint8_t> b(1206, 0x11);
    for (size_t blk = 0; blk < 12; blk++) {
        Le16(&b, 100 * blk, flag);         // [100b, 100b+2) block flag
        Le16(&b, 100 * blk + 2, az);       // [100b+2, 100b+4) azimuth
    }
    b[1204] = 0x39; // dual
    b[1205] = 0x28; // VLP-32C
    return b;
}

TEST(DetectClassify, VelodyneData) {
    auto c = Fake(VelodyneData(), 9999).Classify(); // any port: content decides
    EXPECT_EQ(c.cls, VXS_CLS_VELODYNE_DATA);
    EXPECT_EQ(c.velodyne_product, 0x28);
    EXPECT_EQ(c.velodyne_return_mode, 0x39);
    EXPECT_STREQ(vxs_velodyne_product_name(c.velodyne_product), "VLP-32C");
    EXPECT_EQ(Fake(VelodyneData(0xBBFF, 35999), 2368).Classify().cls, VXS_CLS_VELODYNE_DATA);
    EXPECT_EQ(Fake(VelodyneData(0xAAFF), 2368).Classify().cls, VXS_CLS_UDP_OTHER);
    EXPECT_EQ(Fake(VelodyneData(0xEEFF, 36000), 2368).Classify().cls, VXS_CLS_UDP_OTHER);
    auto short_pkt = VelodyneData();
    short_pkt.pop_back();
    EXPECT_EQ(Fake(short_pkt, 2368).Classify().cls, VXS_CLS_UDP_OTHER);
}

TEST(DetectClassify, VelodynePosition) {
    std::vector<uint8_t> b(512, 0);
    b[202] = 2; // PPS locked
    const char *nmea = "$GNGGA,081802.00,3649.7478558,N,00224.4542928,W,1,08,0.9,10.0,M,,*47";
    std::memcpy(&b[206], nmea, std::strlen(nmea));
    auto c = Fake(b, 1111).Classify();
    EXPECT_EQ(c.cls, VXS_CLS_VELODYNE_POSITION);
    EXPECT_STREQ(c.nmea, "$GNGGA");
    EXPECT_EQ(c.velodyne_pps, 2);
    std::vector<uint8_t> z(512, 0); // no GPS: recognized on the position port only
    z[202] = 0;
    EXPECT_EQ(Fake(z, 8308).Classify().cls, VXS_CLS_VELODYNE_POSITION);
    EXPECT_EQ(Fake(z, 8309).Classify().cls, VXS_CLS_UDP_OTHER);
    z[202] = 4; // PPS status out of range
    EXPECT_EQ(Fake(z, 8308).Classify().cls, VXS_CLS_UDP_OTHER);
}

std::vector<uint8_t> OusterLegacy(size_t h, size_t cols, uint32_t status = 0xFFFFFFFFu) {
    size_t col_len = 16 + 12 * h + 4;
    std::vector<uint8_t> b(cols * col_len, 0x5A);
    for (size_t c = 0; c < cols; c++) {
        size_t o = c * col_len;
        Le64(&b, o, 1000000000ull + c);                   // [0,8) timestamp
        Le16(&b, o + 8, static_cast<uint16_t>(512 + c));  // [8,10) measurement_id
        Le32(&b, o + col_len - 4, status);                // column status at the end
    }
    return b;
}

TEST(DetectClassify, OusterLegacy) {
    for (size_t h : {16, 32, 64, 128}) {
        auto c = Fake(OusterLegacy(h, 16), 7502).Classify();
        EXPECT_EQ(c.cls, VXS_CLS_OUSTER_LIDAR) << h;
        EXPECT_EQ(c.ouster_legacy, 1);
        EXPECT_EQ(c.ouster_pixels, h);
        EXPECT_EQ(c.ouster_columns, 16);
    }
    EXPECT_EQ(Fake(OusterLegacy(64, 16, 0), 7502).Classify().cls, VXS_CLS_OUSTER_LIDAR);
    EXPECT_EQ(Fake(OusterLegacy(64, 16, 0x1234), 7502).Classify().cls, VXS_CLS_UDP_OTHER);
    auto bad = OusterLegacy(64, 16);
    Le16(&bad, 8, 5000); // measurement_id out of range
    EXPECT_EQ(Fake(bad, 7502).Classify().cls, VXS_CLS_UDP_OTHER);
}

// A profile packet: 32-byte header (packet_type u16 = 1), cols x (12-byte column header + H*px
// pixel bytes), 32-byte footer. `fill(i)` gives pixel-area byte i.
template <class F>
std::vector<uint8_t> OusterProfile(size_t h, size_t px, size_t cols, F fill) {
    size_t col_len = 12 + h * px;
    std::vector<uint8_t> b(64 + cols * col_len, 0);
    Le16(&b, 0, 1);
    for (size_t c = 0; c < cols; c++) {
        size_t o = 32 + c * col_len;
        Le64(&b, o, 5000000000ull + c);
        Le16(&b, o + 8, static_cast<uint16_t>(c));
        Le16(&b, o + 10, 1);
        for (size_t i = 0; i < h * px; i++) b[o + 12 + i] = fill(i);
    }
    return b;
}

TEST(DetectClassify, OusterProfileAmbiguousSizes) {
    // RNG19_RFL8_SIG16_NIR16, 128 px: unambiguous (24832 bytes).
    auto rng19 = OusterProfile(128, 12, 16, [](size_t i) { return static_cast<uint8_t>(i % 8 ? 7 : 0); });
    auto c = Fake(rng19, 7502).Classify();
    EXPECT_EQ(c.cls, VXS_CLS_OUSTER_LIDAR);
    EXPECT_EQ(c.ouster_legacy, 0);
    EXPECT_EQ(c.ouster_pixels, 128);
    EXPECT_EQ(c.ouster_profile_px, 12);
    // 8448 bytes: RNG15 (4 B) with H=128, or DUAL (16 B) with H=32.
    auto rng15 = OusterProfile(128, 4, 16, [](size_t i) { return static_cast<uint8_t>(1 + i % 200); });
    ASSERT_EQ(rng15.size(), 8448u);
    c = Fake(rng15, 7502).Classify();
    EXPECT_EQ(c.cls, VXS_CLS_OUSTER_LIDAR);
    EXPECT_EQ(c.ouster_pixels, 128);
    EXPECT_EQ(c.ouster_profile_px, 4);
    auto dual = OusterProfile(32, 16, 16, [](size_t i) {
        return static_cast<uint8_t>(i % 16 >= 14 ? 0 : 1 + i % 13); // bytes 14-15: padding
    });
    ASSERT_EQ(dual.size(), 8448u);
    c = Fake(dual, 7502).Classify();
    EXPECT_EQ(c.cls, VXS_CLS_OUSTER_LIDAR);
    EXPECT_EQ(c.ouster_pixels, 32);
    EXPECT_EQ(c.ouster_profile_px, 16);
    // All pixels zero: nothing tells the readings apart; report the class, leave pixels open.
    auto zero = OusterProfile(32, 16, 16, [](size_t) { return static_cast<uint8_t>(0); });
    c = Fake(zero, 7502).Classify();
    EXPECT_EQ(c.cls, VXS_CLS_OUSTER_LIDAR);
    EXPECT_EQ(c.ouster_columns, 16);
    EXPECT_EQ(c.ouster_pixels, 0);
    EXPECT_EQ(c.ouster_profile_px, 0);
    // Wrong packet type.
    Le16(&dual, 0, 2);
    EXPECT_EQ(Fake(dual, 7502).Classify().cls, VXS_CLS_UDP_OTHER);
}

TEST(DetectClassify, OusterImu) {
    std::vector<uint8_t> b(48, 0);
    Le64(&b, 0, 278000000000ull);
    Le64(&b, 8, 278000001000ull);
    Le64(&b, 16, 278000002000ull);
    EXPECT_EQ(Fake(b, 7503).Classify().cls, VXS_CLS_OUSTER_IMU);
    Le64(&b, 16, 280000002000ull); // 2 s apart
    EXPECT_EQ(Fake(b, 7503).Classify().cls, VXS_CLS_UDP_OTHER);
    Le64(&b, 16, 0);
    EXPECT_EQ(Fake(b, 7503).Classify().cls, VXS_CLS_UDP_OTHER);
}

// GeoNetworking SHB + BTP-B (EN 302 636-4-1): basic header, common header, SHB extended header
// (28 bytes), BTP-B destination port.
std::vector<uint8_t> GeoNet(uint8_t basic0, uint8_t ch_nh, uint8_t ht, uint16_t port) {
    std::vector<uint8_t> b = {basic0, 0x00, 0x1A, 0x01,               // [0,4) basic header
                              static_cast<uint8_t>(ch_nh << 4), ht, 0x02, 0x00, 0x00, 0x20, 0x01,
                              0x00};                                  // [4,12) common header
    size_t ext = ht == 0x20 ? 48 : (ht >= 0x30 && ht <= 0x42) ? 44 : 28;
    b.resize(12 + ext, 0xAB);                                         // extended header
    b.push_back(static_cast<uint8_t>(port >> 8));                     // BTP destination port
    b.push_back(static_cast<uint8_t>(port));
    b.push_back(0);
    b.push_back(0);
    b.resize(b.size() + 20, 0x42);
    return b;
}

TEST(DetectClassify, GeoNetworking) {
    auto c = Fake(GeoNet(0x11, 2, 0x50, 2001), 0, VXS_ETHERTYPE_GEONET).Classify();
    EXPECT_EQ(c.cls, VXS_CLS_ETSI_GN);
    EXPECT_EQ(c.gn_next_header, 1);
    EXPECT_EQ(c.gn_header_type, 0x50);
    EXPECT_EQ(c.btp_dst_port, 2001);
    EXPECT_EQ(c.flow.ethertype, VXS_ETHERTYPE_GEONET);
    EXPECT_EQ(c.flow.src_addr[0], 0x10);
    EXPECT_EQ(c.flow.ip_version, 0);
    c = Fake(GeoNet(0x01, 1, 0x40, 2002), 0, VXS_ETHERTYPE_GEONET).Classify(); // v0, GBC, BTP-A
    EXPECT_EQ(c.cls, VXS_CLS_ETSI_GN);
    EXPECT_EQ(c.btp_dst_port, 2002);
    c = Fake(GeoNet(0x11, 1, 0x20, 2009), 0, VXS_ETHERTYPE_GEONET).Classify(); // GUC
    EXPECT_EQ(c.btp_dst_port, 2009);
    c = Fake(GeoNet(0x12, 2, 0x50, 2001), 0, VXS_ETHERTYPE_GEONET).Classify(); // secured
    EXPECT_EQ(c.cls, VXS_CLS_ETSI_GN);
    EXPECT_EQ(c.gn_next_header, 2);
    EXPECT_EQ(c.gn_header_type, 0);
    EXPECT_EQ(c.btp_dst_port, 0);
    c = Fake(GeoNet(0x11, 3, 0x50, 2001), 0, VXS_ETHERTYPE_GEONET).Classify(); // IPv6 over GN
    EXPECT_EQ(c.btp_dst_port, 0);
    EXPECT_EQ(Fake(GeoNet(0x21, 2, 0x50, 2001), 0, VXS_ETHERTYPE_GEONET).Classify().cls,
              VXS_CLS_NONIP_OTHER); // version 2
    EXPECT_EQ(Fake(GeoNet(0x13, 2, 0x50, 2001), 0, VXS_ETHERTYPE_GEONET).Classify().cls,
              VXS_CLS_NONIP_OTHER); // NH 3
    EXPECT_EQ(Fake({0x11}, 0, VXS_ETHERTYPE_GEONET).Classify().cls, VXS_CLS_ETSI_GN);
    EXPECT_EQ(Fake({0x11, 2, 3}, 0, 0x88B5).Classify().cls, VXS_CLS_NONIP_OTHER);
}

TEST(DetectClassify, Wsmp) {
    // v3, no extensions, TPID 0, PSID 0x20, length, data.
    auto c = Fake({0x03, 0x00, 0x20, 0x02, 0xAA, 0xBB}, 0, VXS_ETHERTYPE_WSMP).Classify();
    EXPECT_EQ(c.cls, VXS_CLS_WSMP);
    EXPECT_EQ(c.wsmp_version, 3);
    EXPECT_EQ(c.wsmp_psid, 0x20u);
    // p-encoded 2-byte PSID 0x80 0x02 = 130 (intersection safety).
    EXPECT_EQ(Fake({0x03, 0x00, 0x80, 0x02, 0x00}, 0, VXS_ETHERTYPE_WSMP).Classify().wsmp_psid,
              130u);
    // 3-byte form: 0xC0 0x00 0x01 = 0x4081; 4-byte: 0xE0 0 0 0 = 0x204080.
    EXPECT_EQ(Fake({0x03, 0x00, 0xC0, 0x00, 0x01}, 0, VXS_ETHERTYPE_WSMP).Classify().wsmp_psid,
              0x4081u);
    EXPECT_EQ(Fake({0x03, 0x00, 0xE0, 0x00, 0x00, 0x00}, 0, VXS_ETHERTYPE_WSMP).Classify().wsmp_psid,
              0x204080u);
    // Option bit: one extension (channel number 15, length 1, 172), then TPID 0, PSID 0x20.
    c = Fake({0x0B, 0x01, 0x0F, 0x01, 0xAC, 0x00, 0x20, 0x00}, 0, VXS_ETHERTYPE_WSMP).Classify();
    EXPECT_EQ(c.wsmp_version, 3);
    EXPECT_EQ(c.wsmp_psid, 0x20u);
    // Cut inside the extensions: class still WSMP, PSID not reached.
    c = Fake({0x0B, 0x02, 0x0F, 0x01}, 0, VXS_ETHERTYPE_WSMP).Classify();
    EXPECT_EQ(c.cls, VXS_CLS_WSMP);
    EXPECT_EQ(c.wsmp_psid, 0u);
}

TEST(DetectClassify, OtherKindsAndFlows) {
    Fake u({1, 2, 3}, 5000);
    auto a = u.Classify();
    EXPECT_EQ(a.cls, VXS_CLS_UDP_OTHER);
    EXPECT_EQ(a.flow.dst_port, 5000);
    EXPECT_EQ(a.flow.ip_version, 4);
    EXPECT_EQ(a.flow.ip_proto, 17);
    auto b = Fake({9, 9, 9, 9}, 5000).Classify();
    EXPECT_EQ(std::memcmp(&a.flow, &b.flow, sizeof a.flow), 0); // same flow, other content
    auto d = Fake({1, 2, 3}, 5001).Classify();
    EXPECT_NE(std::memcmp(&a.flow, &d.flow, sizeof a.flow), 0);

    Fake f({1, 2, 3}, 0);
    f.pkt.info.kind = VXS_PL_FRAGMENT;
    EXPECT_EQ(f.Classify().cls, VXS_CLS_FRAGMENT);
    f.pkt.info.kind = VXS_PL_IP;
    f.pkt.info.ip_proto = 6;
    EXPECT_EQ(f.Classify().cls, VXS_CLS_IP_OTHER);
    f.pkt.info.kind = VXS_PL_NONE;
    f.pkt.info.payload = nullptr;
    EXPECT_EQ(f.Classify().cls, VXS_CLS_LINK_ONLY);
    f.pkt.decode_status = VXS_E_MALFORMED;
    EXPECT_EQ(f.Classify().cls, VXS_CLS_UNDECODED);

    // A reassembled datagram wins over the record's own (fragment) decode.
    Fake g({0}, 0);
    g.pkt.info.kind = VXS_PL_FRAGMENT;
    Fake whole(VelodyneData(), 2368);
    g.pkt.dgram = &whole.pkt.info;
    EXPECT_EQ(g.Classify().cls, VXS_CLS_VELODYNE_DATA);

    vxs_pkt_class_info_t z;
    vxs_classify(&z, nullptr);
    EXPECT_EQ(z.cls, VXS_CLS_UNDECODED);
}

TEST(DetectClassify, Names) {
    std::set<std::string> names;
    for (int c = 0; c < VXS_CLS_COUNT_; c++) {
        const char *n = vxs_pkt_class_name(static_cast<vxs_pkt_class_t>(c));
        ASSERT_NE(n, nullptr);
        EXPECT_STRNE(n, "unknown");
        names.insert(n);
    }
    EXPECT_EQ(names.size(), static_cast<size_t>(VXS_CLS_COUNT_));
    EXPECT_STREQ(vxs_pkt_class_name(VXS_CLS_VELODYNE_DATA), "velodyne-data");
    EXPECT_STREQ(vxs_pkt_class_name(VXS_CLS_ETSI_GN), "etsi-geonetworking");
    EXPECT_STREQ(vxs_pkt_class_name(static_cast<vxs_pkt_class_t>(99)), "unknown");
    EXPECT_STREQ(vxs_velodyne_product_name(0x21), "HDL-32E");
    EXPECT_STREQ(vxs_velodyne_product_name(0x77), "unknown");
    EXPECT_STREQ(vxs_velodyne_return_name(0x37), "strongest");
    EXPECT_STREQ(vxs_velodyne_return_name(0x00), "unknown");
}

TEST(DetectFile, Kinds) {
    std::string dir = vxs_test::TempDir();
    char err[512];
    vxs_file_kind_t k;
    auto write = [&](const std::string &name, std::vector<uint8_t> b) {
        std::string p = dir + "/" + name;
        EXPECT_TRUE(vxs_test::WriteFile(p, b));
        return p;
    };
    std::string le = write("le.pcap", {0xd4, 0xc3, 0xb2, 0xa1, 2, 0, 4, 0});
    std::string be = write("be.pcap", {0xa1, 0xb2, 0xc3, 0xd4, 0, 2, 0, 4});
    std::string ns = write("ns.pcap", {0x4d, 0x3c, 0xb2, 0xa1, 2, 0, 4, 0});
    std::string ng = write("x.pcapng", {0x0a, 0x0d, 0x0d, 0x0a, 28, 0, 0, 0});
    std::string txt = write("t.txt", {'h', 'e', 'l', 'l', 'o', '\n'});
    std::string empty = write("e.bin", {});
    ASSERT_EQ(vxs_detect_file(&k, le.c_str(), err, sizeof err), VXS_OK);
    EXPECT_EQ(k, VXS_FILE_PCAP);
    ASSERT_EQ(vxs_detect_file(&k, be.c_str(), err, sizeof err), VXS_OK);
    EXPECT_EQ(k, VXS_FILE_PCAP);
    ASSERT_EQ(vxs_detect_file(&k, ns.c_str(), err, sizeof err), VXS_OK);
    EXPECT_EQ(k, VXS_FILE_PCAP);
    ASSERT_EQ(vxs_detect_file(&k, ng.c_str(), err, sizeof err), VXS_OK);
    EXPECT_EQ(k, VXS_FILE_PCAPNG);
    ASSERT_EQ(vxs_detect_file(&k, txt.c_str(), err, sizeof err), VXS_OK);
    EXPECT_EQ(k, VXS_FILE_UNKNOWN);
    ASSERT_EQ(vxs_detect_file(&k, empty.c_str(), err, sizeof err), VXS_OK);
    EXPECT_EQ(k, VXS_FILE_UNKNOWN);
    std::string missing = dir + "/nope.mp4";
    EXPECT_EQ(vxs_detect_file(&k, missing.c_str(), err, sizeof err), VXS_E_IO);
    EXPECT_NE(std::string(err).find(missing), std::string::npos);
}

TEST(DetectFile, RealFiles) {
    VXS_SHARED_OR_SKIP(mp4, "datasets/camera/phone_vfr_1080p.mp4");
    VXS_SHARED_OR_SKIP(pcap, "datasets/v2x/etsi/msvan3t_cam_cpm.pcap");
    VXS_SHARED_OR_SKIP(json, "datasets/lidar/ouster/OS-1-64_1024x10_fw20.json");
    char err[512];
    vxs_file_kind_t k;
    ASSERT_EQ(vxs_detect_file(&k, mp4.c_str(), err, sizeof err), VXS_OK);
    EXPECT_EQ(k, VXS_FILE_VIDEO);
    ASSERT_EQ(vxs_detect_file(&k, pcap.c_str(), err, sizeof err), VXS_OK);
    EXPECT_EQ(k, VXS_FILE_PCAP);
    ASSERT_EQ(vxs_detect_file(&k, json.c_str(), err, sizeof err), VXS_OK);
    EXPECT_EQ(k, VXS_FILE_UNKNOWN);
}

// ---- issue 21: detection by evidence; a damaged file keeps its kind ------------------------

vxs_file_probe_t Probe(const std::string &path) {
    vxs_file_probe_t pr;
    char err[512] = "";
    EXPECT_EQ(vxs_probe_file(&pr, path.c_str(), err, sizeof err), VXS_OK) << err;
    return pr;
}

TEST(DetectFile, EveryKindByItsOwnEvidence) {
    VXS_SHARED_OR_SKIP(wy, "datasets/v2x/us/jpo-ode/data/bsmTx.bin");
    VXS_SHARED_OR_SKIP(hex, "datasets/v2x/us/v2x-hub/bsm_vectors.txt");
    VXS_SHARED_OR_SKIP(udp, "datasets/v2x/us/jpo-ode/udp/PsmReceiverTest_ValidPSM.txt");
    VXS_SHARED_OR_SKIP(yaml, "datasets/lidar/calib/velodyne/VLP16.yaml");
    VXS_SHARED_OR_SKIP(mp4, "datasets/camera/phone_vfr_1080p.mp4");
    EXPECT_EQ(Probe(wy).kind, VXS_FILE_WYDOT_LOG);
    EXPECT_FALSE(Probe(wy).damaged);
    EXPECT_EQ(Probe(hex).kind, VXS_FILE_HEX_LOG);
    EXPECT_EQ(Probe(udp).kind, VXS_FILE_HEX_LOG);
    vxs_file_probe_t v = Probe(mp4);
    EXPECT_EQ(v.kind, VXS_FILE_VIDEO);
    EXPECT_FALSE(v.damaged);
    EXPECT_NE(std::string(v.detail).find("ftyp@0 moov@24"), std::string::npos) << v.detail;
    // What fits nothing says what was tried and why each failed.
    vxs_file_probe_t y = Probe(yaml);
    EXPECT_EQ(y.kind, VXS_FILE_UNKNOWN);
    for (const char *w : {"pcap/pcapng", "MP4", "Wyoming OBU log (at byte 0: direction byte",
                          "hex log (0 of", "libavformat"})
        EXPECT_NE(std::string(y.detail).find(w), std::string::npos) << w << ": " << y.detail;
    // A camera's time stamp sidecar (decimal numbers) is not a hex log, nor is an empty file
    // anything.
    std::string dir = vxs_test::TempDir();
    std::string ts = dir + "/camera.timestamps";
    std::string txt;
    for (int i = 0; i < 50; i++) txt += std::to_string(1700000000123456789LL + i * 33333333LL) + "\n";
    ASSERT_TRUE(vxs_test::WriteFile(ts, std::vector<uint8_t>(txt.begin(), txt.end())));
    EXPECT_EQ(Probe(ts).kind, VXS_FILE_UNKNOWN) << Probe(ts).detail;
    ASSERT_TRUE(vxs_test::WriteFile(dir + "/empty", {}));
    EXPECT_EQ(Probe(dir + "/empty").kind, VXS_FILE_UNKNOWN);
    EXPECT_STREQ(Probe(dir + "/empty").detail, "empty file (0 bytes)");
}

TEST(DetectFile, DamagedFilesKeepTheirKind) {
    VXS_SHARED_OR_SKIP(wy, "datasets/v2x/us/jpo-ode/data/bsmLogDuringEvent.bin");
    VXS_SHARED_OR_SKIP(hex, "datasets/v2x/us/v2x-hub/bsm_vectors.txt");
    VXS_SHARED_OR_SKIP(mp4, "datasets/camera/phone_vfr_1080p.mp4");
    std::string dir = vxs_test::TempDir();
    // The reproduction: a NUL at byte 10 of the hex log (a comment line) used to make it a
    // Wyoming log; a NUL in a message line costs that line only.
    std::vector<uint8_t> h = vxs_test::ReadFile(hex);
    std::vector<uint8_t> b = h;
    b[10] = 0;
    ASSERT_TRUE(vxs_test::WriteFile(dir + "/nul10.txt", b));
    EXPECT_EQ(Probe(dir + "/nul10.txt").kind, VXS_FILE_HEX_LOG);
    // Every byte of the file in turn: a NUL never changes the kind.
    for (size_t at = 0; at < h.size(); at += 7) {
        b = h;
        b[at] = 0;
        ASSERT_TRUE(vxs_test::WriteFile(dir + "/nul.txt", b));
        EXPECT_EQ(Probe(dir + "/nul.txt").kind, VXS_FILE_HEX_LOG) << "NUL at " << at;
    }
    // A Wyoming log whose first record is damaged is still one, found further on.
    std::vector<uint8_t> w = vxs_test::ReadFile(wy);
    w[0] = 9;
    ASSERT_TRUE(vxs_test::WriteFile(dir + "/first.bin", w));
    vxs_file_probe_t pw = Probe(dir + "/first.bin");
    EXPECT_EQ(pw.kind, VXS_FILE_WYDOT_LOG);
    EXPECT_TRUE(pw.damaged);
    EXPECT_NE(std::string(pw.detail).find("plausible records from byte 218"), std::string::npos)
        << pw.detail;
    // A 'fast start' MP4 (its index, moov, before the media: the real clip is one) cut in the
    // middle of its media is a readable video; one whose index comes after the media, cut,
    // is a damaged video saying why. Neither is ever a V2X log.
    std::vector<uint8_t> m = vxs_test::ReadFile(mp4);
    ASSERT_EQ(std::string(m.begin() + 28, m.begin() + 32), "moov");
    std::vector<uint8_t> cut(m.begin(), m.begin() + 1500000);
    ASSERT_TRUE(vxs_test::WriteFile(dir + "/fastcut.mp4", cut));
    vxs_file_probe_t pf = Probe(dir + "/fastcut.mp4");
    EXPECT_EQ(pf.kind, VXS_FILE_VIDEO);
    EXPECT_FALSE(pf.damaged) << pf.detail;
    EXPECT_NE(std::string(pf.detail).find("the file ends"), std::string::npos) << pf.detail;
    std::vector<uint8_t> late; // ftyp, then the mdat box alone
    late.reserve(24 + 1000000);
    late.insert(late.end(), m.begin(), m.begin() + 24);
    late.insert(late.end(), m.begin() + 405173, m.begin() + 405173 + 1000000);
    ASSERT_TRUE(vxs_test::WriteFile(dir + "/late.mp4", late));
    vxs_file_probe_t pl = Probe(dir + "/late.mp4");
    EXPECT_EQ(pl.kind, VXS_FILE_VIDEO);
    EXPECT_TRUE(pl.damaged);
    EXPECT_NE(std::string(pl.detail).find("no 'moov' box"), std::string::npos) << pl.detail;
    for (const std::string &f : {dir + "/fastcut.mp4", dir + "/late.mp4"}) {
        vxs_v2x_reader_t *r = nullptr;
        vxs_v2x_reader_options_t o;
        std::memset(&o, 0, sizeof o);
        o.own_station_id = -1;
        char err[1024] = "";
        EXPECT_EQ(vxs_v2x_reader_open(&r, f.c_str(), &o, err, sizeof err), VXS_E_UNSUPPORTED);
        EXPECT_EQ(r, nullptr);
        EXPECT_NE(std::string(err).find("not a V2X capture or log (video: "), std::string::npos)
            << err;
    }
}

} // namespace
