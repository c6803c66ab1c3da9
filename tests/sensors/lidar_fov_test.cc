// Limited field of view on a real VLP-32C (nebula_vlp32c.pcap, window ~270..91 deg): the packet
// open when the window closes carries the first blocks of the next window, which fired a whole
// pause after its timestamp (vxs_lidar.h "Limited field of view"; sensors/velodyne.c
// decode_common; sensors/lidar.c velo_data / vxs_lidar_fetch_points).
#include <algorithm>
#include <cstring>
#include <string>
#include <vector>

#include "test_util.h"
#include "vxs_lidar.h"
#include "vxs_sensors.h"

namespace {

struct DataPacket {
    std::vector<uint8_t> bytes;
    vxs_velo_header_t h;
};

// The capture's Velodyne data packets, in record order (every record of this capture is one).
std::vector<DataPacket> DataPackets(const std::string &path) {
    std::vector<DataPacket> out;
    vxs_pcap_t *p = nullptr;
    EXPECT_EQ(vxs_pcap_open_file(&p, path.c_str(), nullptr, nullptr, nullptr, 0), VXS_OK);
    if (!p) return out;
    const vxs_packet_t *pkt;
    while (vxs_pcap_next(p, &pkt) == VXS_OK) {
        const vxs_pkt_info_t *pl = vxs_packet_payload(pkt);
        DataPacket d;
        if (!pl || vxs_velo_parse_header(&d.h, pl->payload, pl->payload_len) != VXS_OK) continue;
        d.bytes.assign(pl->payload, pl->payload + pl->payload_len);
        out.push_back(d);
    }
    vxs_pcap_close(p);
    return out;
}

constexpr int64_t kSeqNs = 55296; // VLP-32C: one block = one firing sequence

// Packet 75 (0-based) jumps from 90.95 to 270.17 deg after block 7; packet 76 is stamped
// 50375 µs later. Blocks 8-11 fired 4..1 sequences before packet 76's first firing, i.e. 907
// sequences (to the µs of the stamps) after packet 75's timestamp, not 8..11.
TEST(LidarFov, Vlp32cBlocksAfterTheJumpAreTimedByTheNextPacket) {
    VXS_SHARED_OR_SKIP(path, "datasets/lidar/velodyne/nebula_vlp32c.pcap");
    std::vector<DataPacket> pk = DataPackets(path);
    ASSERT_GT(pk.size(), 77u);
    const DataPacket &p = pk[75], &n = pk[76];
    const vxs_time_t t0 = static_cast<vxs_time_t>(p.h.usec_toh) * 1000;
    const vxs_time_t t1 = static_cast<vxs_time_t>(n.h.usec_toh) * 1000;
    ASSERT_EQ(t1 - t0, 50375000);
    vxs_velo_config_t cfg = {};
    vxs_velo_t *v = nullptr;
    ASSERT_EQ(vxs_velo_create(&v, &cfg, nullptr, 0), VXS_OK);
    vxs_points_t naive = {nullptr, 0, 0}, timed = {nullptr, 0, 0};
    ASSERT_EQ(vxs_velo_decode(v, &naive, p.bytes.data(), p.bytes.size(), t0, -1), VXS_OK);
    const vxs_velo_next_t next = {t1, n.h.az_first};
    vxs_velo_jump_t j;
    ASSERT_EQ(vxs_velo_decode_next(v, &timed, p.bytes.data(), p.bytes.size(), t0, -1, &next, &j),
              VXS_OK);
    EXPECT_EQ(j.block, 8);
    EXPECT_EQ(j.az_stop, 9095);
    EXPECT_EQ(j.az_resume, 27017);
    EXPECT_EQ(j.step, 20);
    // shift = (t1 - t0) - 12 sequences = 899 sequences, to the µs of the two stamps.
    EXPECT_NEAR(static_cast<double>(j.shift_ns), 50375000.0 - 12 * kSeqNs, 1000.0);
    EXPECT_NEAR(static_cast<double>(j.shift_ns) / kSeqNs, 899.0, 0.02);
    // Same points, same XYZ; only the times of blocks 8-11 (azimuths past the jump) move.
    ASSERT_EQ(timed.len, naive.len);
    size_t after = 0;
    for (size_t i = 0; i < naive.len; i++) {
        const vxs_point_t &a = naive.pts[i], &b = timed.pts[i];
        EXPECT_EQ(a.x, b.x);
        EXPECT_EQ(a.azimuth, b.azimuth);
        if (a.azimuth < 20000) {
            EXPECT_EQ(b.t_ns, a.t_ns);
            continue;
        }
        after++;
        // Block k (8..11) fired (12 - k) sequences before packet 76's first firing.
        const int64_t off = a.t_ns - t0; // the manual's offset: 55.296 k + 2.304 (c / 2) µs
        const int64_t k = off / kSeqNs, within = off - k * kSeqNs;
        ASSERT_GE(k, 8);
        EXPECT_NEAR(static_cast<double>(b.t_ns - (t1 - (12 - k) * kSeqNs + within)), 0.0, 1000.0);
    }
    EXPECT_GT(after, 100u);
    // Without a usable next packet (unknown, or one packet lost after it), the packet's time.
    const vxs_velo_next_t lost = {t1 + 12 * kSeqNs, n.h.az_first + 240};
    for (const vxs_velo_next_t *nx : {static_cast<const vxs_velo_next_t *>(nullptr), &lost}) {
        timed.len = 0;
        ASSERT_EQ(vxs_velo_decode_next(v, &timed, p.bytes.data(), p.bytes.size(), t0, -1, nx, &j),
                  VXS_OK);
        EXPECT_EQ(j.block, 8);
        EXPECT_EQ(j.shift_ns, 0);
        ASSERT_EQ(timed.len, naive.len);
        EXPECT_EQ(0, std::memcmp(timed.pts, naive.pts, naive.len * sizeof(vxs_point_t)));
    }
    // A packet without a jump reports none and is not moved by a next packet.
    timed.len = naive.len = 0;
    const vxs_velo_next_t after76 = {t1 + 12 * kSeqNs, pk[77].h.az_first};
    ASSERT_EQ(vxs_velo_decode_next(v, &timed, n.bytes.data(), n.bytes.size(), t1, -1, &after76, &j),
              VXS_OK);
    ASSERT_EQ(vxs_velo_decode(v, &naive, n.bytes.data(), n.bytes.size(), t1, -1), VXS_OK);
    EXPECT_EQ(j.block, -1);
    ASSERT_EQ(timed.len, naive.len);
    EXPECT_EQ(0, std::memcmp(timed.pts, naive.pts, naive.len * sizeof(vxs_point_t)));
    vxs_points_free(&naive);
    vxs_points_free(&timed);
    vxs_velo_destroy(v);
}

// Index pass and fetch agree on every sweep: the fetched points' earliest time is the record's
// device_time and the latest its device_end, whatever the cut (0: the jump is inside the
// sweeps; 180: the cut is in the pause, so sweeps start with the blocks after a jump; 90.5: the
// cut is just before the window closes).
TEST(LidarFov, FetchTimesMatchTheIndexPass) {
    for (const char *rel : {"datasets/lidar/velodyne/nebula_vlp32c.pcap",
                            "datasets/lidar/velodyne/nebula_vlp16_dual.pcap",
                            "datasets/lidar/velodyne/mrpt_vlp16_gps.pcap"}) {
        VXS_SHARED_OR_SKIP(path, rel);
        for (double cut : {0.0, 90.5, 180.0, 271.5}) {
            SCOPED_TRACE(std::string(rel) + " cut " + std::to_string(cut));
            vxs_lidar_options_t o;
            vxs_lidar_options_init(&o);
            o.cut_azimuth_deg = cut;
            vxs_lidar_t *l = nullptr;
            char err[512] = "";
            ASSERT_EQ(vxs_lidar_open(&l, path.c_str(), &o, err, sizeof err), VXS_OK) << err;
            std::vector<vxs_record_t> sweeps;
            const vxs_record_t *r;
            while (vxs_lidar_next(l, &r) == VXS_OK)
                if (r->kind == VXS_REC_LIDAR_SWEEP) sweeps.push_back(*r);
            ASSERT_GE(sweeps.size(), 3u);
            vxs_points_t pts = {nullptr, 0, 0};
            for (const auto &s : sweeps) {
                SCOPED_TRACE(s.seq);
                ASSERT_EQ(vxs_lidar_fetch_points(l, &pts, &s), VXS_OK);
                ASSERT_EQ(pts.len, s.u.sweep.points);
                ASSERT_GT(pts.len, 0u);
                vxs_time_t lo = pts.pts[0].t_ns, hi = lo;
                for (size_t i = 0; i < pts.len; i++) {
                    lo = std::min(lo, pts.pts[i].t_ns);
                    hi = std::max(hi, pts.pts[i].t_ns);
                }
                EXPECT_EQ(lo, s.device_time);
                EXPECT_EQ(hi, s.u.sweep.device_end);
                EXPECT_EQ(s.u.sweep.packets_missing, 0u);
                // One turn at 600 rpm at most (VLP-32C: the window's ~181 deg of it).
                EXPECT_LT(s.u.sweep.device_end - s.device_time, 101000000);
            }
            vxs_points_free(&pts);
            vxs_lidar_close(l);
        }
    }
}

// Cut at 180 deg (in the pause): a VLP-32C sweep starts with the blocks after the jump, so it
// starts 4..11 sequences before the next packet (not at the straddling packet's timestamp +
// offsets, which would be ~50 ms early) and follows the previous sweep's end by a pause.
TEST(LidarFov, SweepsStartingAfterAJumpStartOnTime) {
    VXS_SHARED_OR_SKIP(path, "datasets/lidar/velodyne/nebula_vlp32c.pcap");
    std::vector<DataPacket> pk = DataPackets(path);
    vxs_lidar_options_t o;
    vxs_lidar_options_init(&o);
    o.cut_azimuth_deg = 180.0;
    vxs_lidar_t *l = nullptr;
    ASSERT_EQ(vxs_lidar_open(&l, path.c_str(), &o, nullptr, 0), VXS_OK);
    std::vector<vxs_record_t> sweeps;
    const vxs_record_t *r;
    while (vxs_lidar_next(l, &r) == VXS_OK)
        if (r->kind == VXS_REC_LIDAR_SWEEP) sweeps.push_back(*r);
    vxs_lidar_close(l);
    ASSERT_GE(sweeps.size(), 4u);
    int checked = 0;
    for (size_t i = 1; i + 1 < sweeps.size(); i++) {
        const vxs_record_t &s = sweeps[i];
        const size_t first = s.loc.index; // every record is a data packet
        ASSERT_LT(first + 1, pk.size());
        const int64_t t_first = s.device_time % 3600000000000LL; // µs past the hour, in ns
        const int64_t t_next = static_cast<int64_t>(pk[first + 1].h.usec_toh) * 1000;
        const int64_t t_pkt = static_cast<int64_t>(pk[first].h.usec_toh) * 1000;
        EXPECT_GT(t_first - t_pkt, 40000000) << "sweep " << i << " starts a pause early";
        EXPECT_LE(t_first, t_next - kSeqNs + 1000);
        EXPECT_GE(t_first, t_next - 11 * kSeqNs - 1000);
        EXPECT_GT(s.device_time - sweeps[i - 1].u.sweep.device_end, 40000000);
        checked++;
    }
    EXPECT_GE(checked, 2);
}

} // namespace
