// The sweep reader (sensors/lidar.c) on the real captures: sweeps, times, locators and fetched
// points; damaged captures.
#include <algorithm>
#include <climits>
#include <cmath>
#include <cstring>
#include <set>
#include <string>
#include <vector>

#include "test_util.h"
#include "vxs_lidar.h"
#include "vxs_sensors.h"

namespace {

struct Diags {
    std::vector<std::string> msgs;
    std::vector<uint64_t> units;
    static void Fn(void *user, const vxs_diag_t *d) {
        auto *self = static_cast<Diags *>(user);
        self->msgs.push_back(d->msg);
        self->units.push_back(d->unit);
    }
};

struct Read {
    std::vector<vxs_record_t> sweeps;
    std::vector<vxs_record_t> imu;
    vxs_lidar_counts_t counts;
};

// ReadAll runs the index pass over `path` and keeps every record; the reader stays open in *out
// for fetches when out is not NULL.
Read ReadAll(const std::string &path, vxs_lidar_options_t *opt, Diags *diags,
             vxs_lidar_t **out = nullptr) {
    Read r;
    vxs_lidar_options_t o;
    vxs_diag_sink_t sink = {Diags::Fn, diags};
    if (opt) o = *opt; else vxs_lidar_options_init(&o);
    if (diags) o.diag = &sink;
    vxs_lidar_t *l = nullptr;
    char err[512] = "";
    EXPECT_EQ(vxs_lidar_open(&l, path.c_str(), &o, err, sizeof err), VXS_OK) << err;
    if (!l) return r;
    const vxs_record_t *rec;
    vxs_status_t st;
    while ((st = vxs_lidar_next(l, &rec)) == VXS_OK) {
        if (rec->kind == VXS_REC_LIDAR_SWEEP) r.sweeps.push_back(*rec);
        else r.imu.push_back(*rec);
    }
    EXPECT_EQ(st, VXS_EOF);
    vxs_lidar_get_counts(l, &r.counts);
    if (out) *out = l; else vxs_lidar_close(l);
    return r;
}

vxs_ouster_meta_t *Meta(const std::string &path) {
    vxs_ouster_meta_t *m = nullptr;
    char err[512] = "";
    EXPECT_EQ(vxs_ouster_meta_load(&m, path.c_str(), err, sizeof err), VXS_OK) << err;
    return m;
}

TEST(LidarReader, Vlp16GpsTimesFromGprmcAndPpsLocked) {
    VXS_SHARED_OR_SKIP(path, "datasets/lidar/velodyne/mrpt_vlp16_gps.pcap");
    Diags d;
    vxs_lidar_t *l = nullptr;
    Read r = ReadAll(path, nullptr, &d, &l);
    EXPECT_TRUE(d.msgs.empty()) << d.msgs[0];
    EXPECT_EQ(r.counts.lidar_packets, 293u);
    EXPECT_EQ(r.counts.position_packets, 57u);
    EXPECT_EQ(r.counts.streams, 1u);
    ASSERT_EQ(r.imu.size(), 57u);
    // Position packets: device time = GPRMC date + hour + µs past the hour. The first one says
    // $GPRMC,081802.00,...,210116 (SOURCES.md): 2016-01-21 08:18:02 UTC, to within the ~1 s
    // between the PPS edge and the sentence.
    const vxs_time_t rmc = vxs_time_from_civil(2016, 1, 21, 8, 18, 2, 0);
    bool found = false;
    for (const auto &p : r.imu) {
        EXPECT_EQ(p.u.imu.pps, 2);
        EXPECT_TRUE(p.u.imu.has_nmea_time);
        if (std::llabs(p.device_time - rmc) < 1500000000LL) found = true;
    }
    EXPECT_TRUE(found);
    // 293 packets at ~754/s ≈ 0.39 s: a partial first sweep, three or four full ones, a
    // partial last one.
    ASSERT_GE(r.sweeps.size(), 4u);
    int complete = 0;
    for (size_t i = 0; i < r.sweeps.size(); i++) {
        const vxs_record_t &s = r.sweeps[i];
        EXPECT_EQ(s.seq, i);
        EXPECT_EQ(s.u.sweep.pps, 2);
        // The capture clock runs ≈ 0.37 s behind... ahead of the PPS-locked device clock.
        double off = static_cast<double>(s.capture_time - s.device_time) / 1e9;
        EXPECT_NEAR(off, 0.37, 0.05) << "sweep " << i;
        // The device times are in 2016 (from GPRMC), not the capture's hour by accident.
        EXPECT_NEAR(static_cast<double>(s.device_time - rmc) / 1e9, 0.0, 2.0);
        if (s.u.sweep.complete) {
            complete++;
            EXPECT_NEAR(s.u.sweep.az_coverage_deg, 360.0, 1.0);
            EXPECT_EQ(s.u.sweep.packets_missing, 0u);
            // 600 rpm: 0.1 s per turn.
            EXPECT_NEAR(static_cast<double>(s.u.sweep.device_end - s.device_time) / 1e6, 100.0,
                        3.0);
        }
    }
    EXPECT_FALSE(r.sweeps.front().u.sweep.complete); // began mid-rotation
    EXPECT_FALSE(r.sweeps.back().u.sweep.complete);  // the capture ends mid-rotation
    EXPECT_GE(complete, 3);
    // Fetch: the points the summary counted, on the device clock within the sweep's span,
    // every one of the 16 lasers.
    vxs_points_t pts = {nullptr, 0, 0};
    for (const auto &s : r.sweeps) {
        ASSERT_EQ(vxs_lidar_fetch_points(l, &pts, &s), VXS_OK) << vxs_lidar_errmsg(l);
        EXPECT_EQ(pts.len, s.u.sweep.points);
        std::set<int> lasers;
        for (size_t i = 0; i < pts.len; i++) {
            EXPECT_GE(pts.pts[i].t_ns, s.device_time);
            EXPECT_LE(pts.pts[i].t_ns, s.u.sweep.device_end);
            lasers.insert(pts.pts[i].laser);
            EXPECT_EQ(pts.pts[i].ret, VXS_RET_STRONGEST);
        }
        if (s.u.sweep.complete) {
            EXPECT_EQ(lasers.size(), 16u);
        }
    }
    vxs_points_free(&pts);
    vxs_lidar_close(l);
}

// Consecutive sweeps share the packet that straddles the cut but never a point; together they
// hold every point of every packet exactly once.
TEST(LidarReader, SweepsPartitionThePoints) {
    VXS_SHARED_OR_SKIP(path, "datasets/lidar/velodyne/nebula_vlp16_dual.pcap");
    for (double cut : {0.0, 90.0, 271.5}) {
        vxs_lidar_options_t o;
        vxs_lidar_options_init(&o);
        o.cut_azimuth_deg = cut;
        vxs_lidar_t *l = nullptr;
        Read r = ReadAll(path, &o, nullptr, &l);
        ASSERT_GE(r.sweeps.size(), 3u);
        uint64_t total = 0;
        vxs_points_t pts = {nullptr, 0, 0};
        for (size_t i = 0; i < r.sweeps.size(); i++) {
            const vxs_record_t &s = r.sweeps[i];
            ASSERT_EQ(vxs_lidar_fetch_points(l, &pts, &s), VXS_OK);
            EXPECT_EQ(pts.len, s.u.sweep.points);
            total += pts.len;
            if (i > 0) {
                const vxs_record_t &p = r.sweeps[i - 1];
                // Sweeps follow each other: the next starts at or just before the packet that
                // ended the previous one.
                EXPECT_LE(s.loc.index, p.loc.index + p.loc.count);
                EXPECT_GE(s.device_time, p.u.sweep.device_end);
                // Each sweep starts at the cut.
                double d = std::fmod(s.u.sweep.az_start_deg - cut + 360.0, 360.0);
                EXPECT_LT(d, 1.0) << "cut " << cut << " sweep " << i;
            }
            uint8_t bits = 0;
            for (size_t k = 0; k < pts.len; k++) bits |= pts.pts[k].ret;
            EXPECT_EQ(bits, VXS_RET_STRONGEST | VXS_RET_LAST) << "dual return: both kinds";
        }
        // All points of all packets, decoded packet by packet, equal the sum over sweeps.
        vxs_pcap_t *p = nullptr;
        ASSERT_EQ(vxs_pcap_open_file(&p, path.c_str(), nullptr, nullptr, nullptr, 0), VXS_OK);
        vxs_velo_config_t cfg = {};
        vxs_velo_t *v = nullptr;
        ASSERT_EQ(vxs_velo_create(&v, &cfg, nullptr, 0), VXS_OK);
        const vxs_packet_t *pkt;
        uint64_t all = 0;
        vxs_time_t near = r.sweeps[0].device_time;
        while (vxs_pcap_next(p, &pkt) == VXS_OK) {
            const vxs_pkt_info_t *pl = vxs_packet_payload(pkt);
            vxs_velo_header_t h;
            if (!pl || vxs_velo_parse_header(&h, pl->payload, pl->payload_len) != VXS_OK) continue;
            vxs_time_t t;
            ASSERT_EQ(vxs_time_from_toh(&t, h.usec_toh, near), VXS_OK);
            near = t;
            pts.len = 0;
            ASSERT_EQ(vxs_velo_decode(v, &pts, pl->payload, pl->payload_len, t, -1), VXS_OK);
            all += pts.len;
        }
        EXPECT_EQ(total, all) << "cut " << cut;
        vxs_velo_destroy(v);
        vxs_pcap_close(p);
        vxs_points_free(&pts);
        vxs_lidar_close(l);
    }
}

TEST(LidarReader, FetchIsRepeatableInAnyOrder) {
    VXS_SHARED_OR_SKIP(path, "datasets/lidar/velodyne/nebula_vlp32c.pcap");
    vxs_lidar_t *l = nullptr;
    Read r = ReadAll(path, nullptr, nullptr, &l);
    ASSERT_GE(r.sweeps.size(), 2u);
    std::vector<std::vector<vxs_point_t>> fwd;
    vxs_points_t pts = {nullptr, 0, 0};
    for (const auto &s : r.sweeps) {
        ASSERT_EQ(vxs_lidar_fetch_points(l, &pts, &s), VXS_OK);
        fwd.emplace_back(pts.pts, pts.pts + pts.len);
    }
    for (size_t i = r.sweeps.size(); i-- > 0;) {
        ASSERT_EQ(vxs_lidar_fetch_points(l, &pts, &r.sweeps[i]), VXS_OK);
        ASSERT_EQ(pts.len, fwd[i].size());
        EXPECT_EQ(0, std::memcmp(pts.pts, fwd[i].data(), pts.len * sizeof(vxs_point_t)));
    }
    vxs_points_free(&pts);
    vxs_lidar_close(l);
}

// VLS-128 / Alpha Prime (nebula_vls128.pcap: 2193 packets of three 128-laser firing sequences,
// 0.363 s, GPS-synced device clock): the sweeps hold every point of every packet exactly once,
// 765,932; three complete 100 ms turns between a partial first and last sweep.
TEST(LidarReader, Vls128SweepsHoldEveryPoint) {
    VXS_SHARED_OR_SKIP(path, "datasets/lidar/velodyne/nebula_vls128.pcap");
    VXS_SHARED_OR_SKIP(cal, "datasets/lidar/calib/velodyne/VLS128.yaml");
    vxs_velo_calib_t calib;
    char err[512] = "";
    ASSERT_EQ(vxs_velo_calib_load(&calib, cal.c_str(), err, sizeof err), VXS_OK) << err;
    vxs_lidar_options_t o;
    vxs_lidar_options_init(&o);
    o.velo_calib = &calib;
    vxs_lidar_t *l = nullptr;
    Diags d;
    Read r = ReadAll(path, &o, &d, &l);
    EXPECT_TRUE(d.msgs.empty()) << d.msgs[0];
    EXPECT_EQ(r.counts.lidar_packets, 2193u);
    vxs_lidar_stream_t st;
    ASSERT_EQ(vxs_lidar_get_stream(l, &st, 0), VXS_OK);
    EXPECT_EQ(st.velo_model, VXS_VELO_VLS128);
    ASSERT_EQ(r.sweeps.size(), 5u);
    uint64_t counted = 0, fetched = 0;
    int complete = 0;
    vxs_points_t pts = {nullptr, 0, 0};
    for (const auto &s : r.sweeps) {
        counted += s.u.sweep.points;
        ASSERT_EQ(vxs_lidar_fetch_points(l, &pts, &s), VXS_OK) << vxs_lidar_errmsg(l);
        EXPECT_EQ(pts.len, s.u.sweep.points);
        fetched += pts.len;
        // The device clock is GPS-synced: ~1-2 ms behind the capture clock (SOURCES.md).
        EXPECT_NEAR(static_cast<double>(s.capture_time - s.device_time) / 1e6, 1.5, 1.0);
        if (!s.u.sweep.complete) continue;
        complete++;
        EXPECT_NEAR(static_cast<double>(s.u.sweep.device_end - s.device_time) / 1e6, 100.0, 0.5);
        EXPECT_EQ(s.u.sweep.packets_missing, 0u);
        // Laser 82 of this unit never returns (its distance counts are 0 in every packet).
        std::set<int> lasers;
        for (size_t i = 0; i < pts.len; i++) lasers.insert(pts.pts[i].laser);
        EXPECT_EQ(lasers.size(), 127u);
        EXPECT_EQ(lasers.count(82), 0u);
    }
    EXPECT_EQ(complete, 3);
    EXPECT_FALSE(r.sweeps.front().u.sweep.complete);
    EXPECT_FALSE(r.sweeps.back().u.sweep.complete);
    EXPECT_EQ(counted, 765932u);
    EXPECT_EQ(fetched, 765932u);
    vxs_points_free(&pts);
    vxs_lidar_close(l);
}

TEST(LidarReader, Hdl32eWithItsCalibration) {
    VXS_SHARED_OR_SKIP(path, "datasets/lidar/velodyne/mrpt_hdl32e.pcap");
    VXS_SHARED_OR_SKIP(cal, "datasets/lidar/calib/velodyne/mrpt_HDL-32.xml");
    vxs_velo_calib_t calib;
    char err[512] = "";
    ASSERT_EQ(vxs_velo_calib_load(&calib, cal.c_str(), err, sizeof err), VXS_OK) << err;
    vxs_lidar_options_t o;
    vxs_lidar_options_init(&o);
    o.velo_calib = &calib;
    vxs_lidar_t *l = nullptr;
    Diags d;
    Read r = ReadAll(path, &o, &d, &l);
    EXPECT_TRUE(d.msgs.empty());
    EXPECT_EQ(r.counts.lidar_packets, 500u);
    vxs_lidar_stream_t st;
    ASSERT_EQ(vxs_lidar_get_stream(l, &st, 0), VXS_OK);
    EXPECT_EQ(st.velo_model, VXS_VELO_HDL32E);
    // HDL-32E: 1808 packets/s (12 firings of 32 lasers each); this unit turns at ~9 Hz, so a
    // turn is ~201 packets. Channel 11 of this 2011 recording never returns (all its distance
    // counts are 0 in every packet), so 31 lasers show up.
    int complete = 0;
    vxs_points_t pts = {nullptr, 0, 0};
    for (const auto &s : r.sweeps) {
        if (!s.u.sweep.complete) continue;
        complete++;
        double dur = static_cast<double>(s.u.sweep.device_end - s.device_time) / 1e9;
        EXPECT_NEAR(s.u.sweep.packets, dur * 1808.0, 3.0);
        EXPECT_LE(s.u.sweep.points, s.u.sweep.packets * 12u * 31u);
        EXPECT_GE(s.u.sweep.points, s.u.sweep.packets * 12u * 31u / 3);
        ASSERT_EQ(vxs_lidar_fetch_points(l, &pts, &s), VXS_OK);
        std::set<int> lasers;
        for (size_t i = 0; i < pts.len; i++) lasers.insert(pts.pts[i].laser);
        EXPECT_EQ(lasers.size(), 31u);
        EXPECT_EQ(lasers.count(11), 0u);
        // The device clock is ≈ 12.9 s behind the capture clock (SOURCES.md).
        EXPECT_NEAR(static_cast<double>(s.capture_time - s.device_time) / 1e9, 12.9, 0.3);
    }
    EXPECT_GE(complete, 1);
    vxs_points_free(&pts);
    vxs_lidar_close(l);
}

TEST(LidarReader, OusterOneFramePerCapture) {
    struct Case {
        const char *pcap, *meta;
        uint32_t rows;
    } cases[] = {
        {"datasets/lidar/ouster/OS-1-64_1024x10_fw20.pcap",
         "datasets/lidar/ouster/OS-1-64_1024x10_fw20.json", 64},
        {"datasets/lidar/ouster/OS-2-128-U1_v2.3.0_1024x10.pcap",
         "datasets/lidar/ouster/OS-2-128-U1_v2.3.0_1024x10.json", 128},
    };
    for (const auto &c : cases) {
        VXS_SHARED_OR_SKIP(path, c.pcap);
        VXS_SHARED_OR_SKIP(mpath, c.meta);
        vxs_ouster_meta_t *m = Meta(mpath);
        ASSERT_NE(m, nullptr);
        const vxs_ouster_meta_t *metas[] = {m};
        vxs_lidar_options_t o;
        vxs_lidar_options_init(&o);
        o.ouster_meta = metas;
        o.ouster_meta_count = 1;
        vxs_lidar_t *l = nullptr;
        Diags d;
        Read r = ReadAll(path, &o, &d, &l);
        EXPECT_TRUE(d.msgs.empty()) << d.msgs[0];
        ASSERT_EQ(r.sweeps.size(), 1u) << c.pcap;
        const vxs_record_t &s = r.sweeps[0];
        EXPECT_EQ(s.u.sweep.columns, 1024u);
        EXPECT_EQ(s.u.sweep.packets, 64u);
        EXPECT_EQ(s.u.sweep.packets_missing, 0u);
        EXPECT_TRUE(s.u.sweep.complete);
        EXPECT_NEAR(s.u.sweep.az_coverage_deg, 360.0, 1e-9);
        vxs_points_t pts = {nullptr, 0, 0};
        ASSERT_EQ(vxs_lidar_fetch_points(l, &pts, &s), VXS_OK);
        EXPECT_EQ(pts.len, s.u.sweep.points);
        EXPECT_GT(pts.len, 1024u * c.rows / 4);
        for (size_t i = 0; i < pts.len; i++) {
            EXPECT_GE(pts.pts[i].t_ns, s.device_time);
            EXPECT_LE(pts.pts[i].t_ns, s.u.sweep.device_end);
            ASSERT_LT(pts.pts[i].laser, c.rows);
        }
        // 10 Hz: the frame spans ~ 100 ms of column timestamps.
        EXPECT_NEAR(static_cast<double>(s.u.sweep.device_end - s.device_time) / 1e6, 100.0, 1.0);
        vxs_points_free(&pts);
        vxs_lidar_close(l);
        vxs_ouster_meta_destroy(m);
    }
}

TEST(LidarReader, OusterTwoSensorsOnTheSamePortsFromFragments) {
    VXS_SHARED_OR_SKIP(path, "datasets/lidar/ouster/same_ports_legacy.pcap");
    VXS_SHARED_OR_SKIP(m1p, "datasets/lidar/ouster/same_ports_legacy.1.json");
    VXS_SHARED_OR_SKIP(m2p, "datasets/lidar/ouster/same_ports_legacy.2.json");
    vxs_ouster_meta_t *m1 = Meta(m1p), *m2 = Meta(m2p);
    ASSERT_TRUE(m1 && m2);
    const vxs_ouster_meta_t *metas[] = {m1, m2};
    vxs_lidar_options_t o;
    vxs_lidar_options_init(&o);
    o.ouster_meta = metas;
    o.ouster_meta_count = 2;
    vxs_lidar_t *l = nullptr;
    Diags d;
    Read r = ReadAll(path, &o, &d, &l);
    EXPECT_EQ(r.counts.streams, 2u);
    // Two datagrams (one per sensor), each reassembled from IPv4 fragments.
    EXPECT_EQ(r.counts.lidar_packets, 2u);
    ASSERT_EQ(r.sweeps.size(), 2u);
    EXPECT_NE(r.sweeps[0].sensor, r.sweeps[1].sensor);
    for (const auto &s : r.sweeps) {
        EXPECT_EQ(s.u.sweep.packets, 1u);
        EXPECT_FALSE(s.u.sweep.complete); // one packet of 16 columns out of 1024
        EXPECT_GT(s.loc.count, 1u) << "the locator spans the fragments";
        vxs_points_t pts = {nullptr, 0, 0};
        ASSERT_EQ(vxs_lidar_fetch_points(l, &pts, &s), VXS_OK);
        EXPECT_EQ(pts.len, s.u.sweep.points);
        vxs_points_free(&pts);
    }
    vxs_lidar_close(l);
    vxs_ouster_meta_destroy(m1);
    vxs_ouster_meta_destroy(m2);
}

TEST(LidarReader, OusterWithoutMetadataIsReportedNotDropped) {
    VXS_SHARED_OR_SKIP(path, "datasets/lidar/ouster/OS-1-64_1024x10_fw20.pcap");
    Diags d;
    Read r = ReadAll(path, nullptr, &d);
    EXPECT_EQ(r.sweeps.size(), 0u);
    ASSERT_EQ(d.msgs.size(), 1u); // once per stream, not per packet
    EXPECT_NE(d.msgs[0].find("match no metadata"), std::string::npos) << d.msgs[0];
    EXPECT_NE(d.msgs[0].find("OS-1-64_1024x10_fw20.pcap: packet 1"), std::string::npos);
    EXPECT_EQ(r.counts.bad_packets, 64u);
}

// A copy of the VLP-16 capture with damaged packets and a cut end: each bad packet reported
// with its number and offset, every other packet still used.
TEST(LidarReader, DamagedPacketsAreReportedAndSkipped) {
    VXS_SHARED_OR_SKIP(path, "datasets/lidar/velodyne/mrpt_vlp16_gps.pcap");
    std::vector<uint8_t> bytes = vxs_test::ReadFile(path);
    ASSERT_GT(bytes.size(), 100000u);
    // Walk the classic pcap records; damage the block flag of data packets 10 and 20 (by
    // their number among all records) and an azimuth of packet 30.
    std::vector<size_t> rec_off;
    for (size_t off = 24; off + 16 <= bytes.size();) {
        uint32_t incl;
        std::memcpy(&incl, &bytes[off + 8], 4);
        rec_off.push_back(off);
        off += 16 + incl;
    }
    auto payload = [&](size_t rec) { return rec_off[rec] + 16 + 14 + 20 + 8; };
    auto size_of = [&](size_t rec) {
        uint32_t incl;
        std::memcpy(&incl, &bytes[rec_off[rec] + 8], 4);
        return incl - 42u;
    };
    std::vector<size_t> bad;
    for (size_t i = 0; i < rec_off.size() && bad.size() < 3; i++)
        if (size_of(i) == 1206 && i >= 10 + bad.size() * 10) bad.push_back(i);
    ASSERT_EQ(bad.size(), 3u);
    bytes[payload(bad[0])] = 0x12;                 // block flag
    bytes[payload(bad[1]) + 100 * 5 + 2] = 0xFF;   // azimuth of block 5 ≥ 36000
    bytes[payload(bad[1]) + 100 * 5 + 3] = 0xFF;
    bytes[payload(bad[2]) + 100 * 11] = 0x00;      // last block flag
    size_t cut = rec_off[rec_off.size() - 5] + 700; // inside the 5th-last record
    bytes.resize(cut);
    std::string dir = vxs_test::TempDir();
    std::string dmg = dir + "/damaged.pcap";
    ASSERT_TRUE(vxs_test::WriteFile(dmg, bytes));
    Diags d;
    vxs_lidar_t *l = nullptr;
    Read r = ReadAll(dmg, nullptr, &d, &l);
    ASSERT_EQ(d.msgs.size(), 4u);
    for (size_t k = 0; k < 3; k++) {
        EXPECT_EQ(d.units[k], bad[k] + 1);
        std::string want = "damaged.pcap: packet " + std::to_string(bad[k] + 1) +
                           " (byte offset " + std::to_string(rec_off[bad[k]]) + ")";
        EXPECT_NE(d.msgs[k].find(want), std::string::npos) << d.msgs[k];
    }
    EXPECT_NE(d.msgs[3].find("byte offset " + std::to_string(rec_off[rec_off.size() - 5])),
              std::string::npos) << d.msgs[3];
    EXPECT_EQ(r.counts.bad_packets, 4u);
    // Every data packet before the cut but the three bad ones was used.
    uint64_t data_before_cut = 0;
    for (size_t i = 0; i + 5 < rec_off.size(); i++) data_before_cut += size_of(i) == 1206;
    EXPECT_EQ(r.counts.lidar_packets, data_before_cut - 3);
    // Sweeps around a bad packet report it missing.
    uint32_t missing = 0;
    for (const auto &s : r.sweeps) missing += s.u.sweep.packets_missing;
    EXPECT_GE(missing, 3u);
    vxs_points_t pts = {nullptr, 0, 0};
    for (const auto &s : r.sweeps) {
        ASSERT_EQ(vxs_lidar_fetch_points(l, &pts, &s), VXS_OK);
        EXPECT_EQ(pts.len, s.u.sweep.points);
    }
    vxs_points_free(&pts);
    vxs_lidar_close(l);
}

TEST(LidarReader, OpenErrorsNameTheFile) {
    vxs_lidar_t *l = nullptr;
    char err[512] = "";
    EXPECT_NE(vxs_lidar_open(&l, "/nonexistent/x.pcap", nullptr, err, sizeof err), VXS_OK);
    EXPECT_EQ(l, nullptr);
    EXPECT_NE(std::string(err).find("/nonexistent/x.pcap"), std::string::npos) << err;
}

// An allocation that fails while a capture is read must show: the open fails with VXS_E_NOMEM,
// a fetch returns VXS_E_NOMEM, or a bad unit is reported. Where none of these shows, the reader
// must have got over it: the same sweeps and points as an undisturbed read.
TEST(LidarReader, AllocationFailuresAreReportedNotCrashes) {
    VXS_SHARED_OR_SKIP(path, "datasets/lidar/velodyne/nebula_vlp32c.pcap");
    struct Outcome {
        vxs_status_t open = VXS_OK;
        std::vector<vxs_status_t> fetches;
        size_t diags = 0;
        uint64_t sweeps = 0, points = 0;
    };
    long total = 0;
    auto read = [&](long fail_at, bool *failed) {
        Outcome r;
        Diags d;
        vxs_diag_sink_t sink = {Diags::Fn, &d};
        vxs_lidar_options_t o;
        vxs_lidar_options_init(&o);
        o.diag = &sink;
        vxs_test::FailAllocAfter fail(fail_at);
        vxs_lidar_t *l = nullptr;
        r.open = vxs_lidar_open(&l, path.c_str(), &o, nullptr, 0);
        if (r.open == VXS_OK) {
            const vxs_record_t *rec;
            vxs_points_t pts = {nullptr, 0, 0};
            while (vxs_lidar_next(l, &rec) == VXS_OK) {
                if (rec->kind != VXS_REC_LIDAR_SWEEP) continue;
                r.sweeps++;
                r.fetches.push_back(vxs_lidar_fetch_points(l, &pts, rec));
                if (r.fetches.back() == VXS_OK) r.points += pts.len;
            }
            vxs_points_free(&pts);
            vxs_lidar_close(l);
        }
        r.diags = d.msgs.size();
        *failed = vxs_test::FailAllocAfter::Failed();
        total = vxs_test::FailAllocAfter::AllocCount();
        return r;
    };
    bool failed = false;
    const Outcome ref = read(LONG_MAX, &failed);
    ASSERT_EQ(ref.open, VXS_OK);
    ASSERT_FALSE(failed);
    ASSERT_GT(ref.sweeps, 0u);
    const long all = total;
    ASSERT_GT(all, 20); // open, decoder tables, fetch buffers...
    int shown = 0, tried = 0;
    for (long n = 1; n <= all; n += n < 40 ? 1 : all / 40 + 1) {
        const Outcome r = read(n, &failed);
        if (!failed) continue;
        tried++;
        bool visible = false;
        if (r.open != VXS_OK) {
            EXPECT_EQ(r.open, VXS_E_NOMEM) << "allocation " << n;
            visible = true;
        }
        for (vxs_status_t st : r.fetches) {
            if (st == VXS_OK) continue;
            EXPECT_EQ(st, VXS_E_NOMEM) << "allocation " << n;
            visible = true;
        }
        visible = visible || r.diags > 0;
        shown += visible;
        if (!visible) {
            EXPECT_EQ(r.sweeps, ref.sweeps) << "allocation " << n << " failed unseen";
            EXPECT_EQ(r.points, ref.points) << "allocation " << n << " failed unseen";
        }
    }
    EXPECT_GT(shown, 0);
    // every allocation of the read was failed once (the first 40 each, then a spread)
    EXPECT_GE(tried, (int)std::min<long>(all, 40)) << all << " allocations";
}

} // namespace

namespace {

// Records of a classic pcap, to build damaged copies of a real capture.
struct Pcap {
    std::vector<uint8_t> header;
    std::vector<std::vector<uint8_t>> recs; // each: 16-byte record header + bytes
    static Pcap Load(const std::string &path) {
        Pcap p;
        std::vector<uint8_t> b = vxs_test::ReadFile(path);
        p.header.assign(b.begin(), b.begin() + 24);
        for (size_t off = 24; off + 16 <= b.size();) {
            uint32_t incl;
            std::memcpy(&incl, &b[off + 8], 4);
            p.recs.emplace_back(b.begin() + (long)off, b.begin() + (long)(off + 16 + incl));
            off += 16 + incl;
        }
        return p;
    }
    std::string Save(const std::string &name) const {
        std::vector<uint8_t> b = header;
        for (const auto &r : recs) b.insert(b.end(), r.begin(), r.end());
        std::string path = vxs_test::TempDir() + "/" + name;
        EXPECT_TRUE(vxs_test::WriteFile(path, b));
        return path;
    }
};

// Every sweep's fetch gives exactly the points the index pass counted; returns the sweeps.
std::vector<vxs_record_t> ExpectFetchMatchesIndex(const std::string &path, Diags *d) {
    vxs_lidar_t *l = nullptr;
    Read r = ReadAll(path, nullptr, d, &l);
    vxs_points_t pts = {nullptr, 0, 0};
    for (const auto &s : r.sweeps) {
        EXPECT_EQ(vxs_lidar_fetch_points(l, &pts, &s), VXS_OK);
        EXPECT_EQ(pts.len, s.u.sweep.points) << path << " sweep " << s.seq;
    }
    vxs_points_free(&pts);
    vxs_lidar_close(l);
    return r.sweeps;
}

// Found by review: a packet that decodes in no model (product byte of another model) with its
// azimuths moved must not shift the fetch's running azimuth.
TEST(LidarReader, UndecodablePacketMidSweepKeepsFetchInStep) {
    VXS_SHARED_OR_SKIP(path, "datasets/lidar/velodyne/nebula_vlp16_dual.pcap");
    Pcap p = Pcap::Load(path);
    ASSERT_GT(p.recs.size(), 300u);
    std::vector<uint8_t> &r = p.recs[220];
    const size_t pl = 16 + 42;
    r[pl + 1205] = 0x28; // VLP-32C's product byte in a VLP-16 stream
    for (int b = 0; b < 12; b++) {
        uint16_t az = (uint16_t)(r[pl + 100 * b + 2] | r[pl + 100 * b + 3] << 8);
        az = (uint16_t)((az + 36000 - 3000) % 36000);
        r[pl + 100 * b + 2] = (uint8_t)az;
        r[pl + 100 * b + 3] = (uint8_t)(az >> 8);
    }
    Diags d;
    ExpectFetchMatchesIndex(p.Save("undecodable.pcap"), &d);
    ASSERT_EQ(d.msgs.size(), 1u);
    EXPECT_NE(d.msgs[0].find("packet 221 "), std::string::npos) << d.msgs[0];
}

// Found by review: a gap of about one turn after a packet straddling the cut.
TEST(LidarReader, GapOfAboutOneTurnKeepsFetchInStep) {
    VXS_SHARED_OR_SKIP(path, "datasets/lidar/velodyne/nebula_vlp16_dual.pcap");
    Pcap p = Pcap::Load(path);
    p.recs.erase(p.recs.begin() + 151, p.recs.begin() + 301);
    auto sweeps = ExpectFetchMatchesIndex(p.Save("gap.pcap"), nullptr);
    uint32_t missing = 0;
    for (const auto &s : sweeps) missing += s.u.sweep.packets_missing;
    EXPECT_NEAR(missing, 150.0, 2.0);
}

// Found by review: one packet captured out of order must not make a fake sweep.
TEST(LidarReader, OutOfOrderPacketIsReportedNotASweep) {
    VXS_SHARED_OR_SKIP(path, "datasets/lidar/velodyne/nebula_vlp16_dual.pcap");
    size_t n_orig = ExpectFetchMatchesIndex(path, nullptr).size();
    Pcap p = Pcap::Load(path);
    std::swap(p.recs[220], p.recs[221]);
    Diags d;
    auto sweeps = ExpectFetchMatchesIndex(p.Save("swap.pcap"), &d);
    EXPECT_EQ(sweeps.size(), n_orig);
    ASSERT_EQ(d.msgs.size(), 1u);
    EXPECT_NE(d.msgs[0].find("out of order"), std::string::npos) << d.msgs[0];
}

// A calibration for another laser count is a configuration error, reported once.
TEST(LidarReader, CalibrationOfTheWrongModelIsReportedOnce) {
    VXS_SHARED_OR_SKIP(path, "datasets/lidar/velodyne/mrpt_vlp16_gps.pcap");
    VXS_SHARED_OR_SKIP(cal, "datasets/lidar/calib/velodyne/HDL32.yaml");
    vxs_velo_calib_t calib;
    ASSERT_EQ(vxs_velo_calib_load(&calib, cal.c_str(), nullptr, 0), VXS_OK);
    vxs_lidar_options_t o;
    vxs_lidar_options_init(&o);
    o.velo_calib = &calib;
    Diags d;
    Read r = ReadAll(path, &o, &d);
    EXPECT_EQ(r.sweeps.size(), 0u);
    ASSERT_EQ(d.msgs.size(), 1u);
    EXPECT_NE(d.msgs[0].find("32 lasers"), std::string::npos) << d.msgs[0];
    EXPECT_EQ(r.counts.config_errors, 1u);
    EXPECT_EQ(r.counts.bad_packets, 293u);
}

} // namespace
