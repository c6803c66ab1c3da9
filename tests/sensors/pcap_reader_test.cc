// pcap_reader_test.cc: vxs_pcap_* against the real recordings and the independent references
// (tshark, capinfos, editcap), plus truncation, corruption, fetch-by-locator and open errors.
#include <algorithm>
#include <cstring>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "test_util.h"
#include "vxs_core.h"
#include "vxs_sensors.h"

namespace {

struct Diag {
    uint64_t unit, offset;
    vxs_status_t status;
    std::string msg;
};

void CollectDiag(void *user, const vxs_diag_t *d) {
    static_cast<std::vector<Diag> *>(user)->push_back({d->unit, d->offset, d->status, d->msg});
}

struct Rec {
    uint64_t index, offset;
    vxs_time_t ts;
    uint32_t caplen, wirelen;
    std::vector<uint8_t> bytes;
    vxs_status_t decode_status;
    vxs_pkt_class_info_t cls;
    bool has_dgram;
    uint64_t dgram_first_index;
};

struct Result {
    vxs_status_t open_status = VXS_OK;
    std::string open_err;
    std::vector<Rec> recs;
    std::vector<Diag> diags;
    vxs_status_t end_status = VXS_OK; // the first non-OK status of next
    std::string errmsg;
    bool eof_after = false; // next returned VXS_EOF after end_status (twice)
    vxs_pcap_counts_t counts{};
    vxs_pcap_info_t info{};
};

// Drain reads every record of an open reader.
void Drain(vxs_pcap_t *p, Result *r) {
    const vxs_packet_t *k = nullptr;
    vxs_status_t st;
    while ((st = vxs_pcap_next(p, &k)) == VXS_OK) {
        Rec rec;
        rec.index = k->index;
        rec.offset = k->offset;
        rec.ts = k->ts;
        rec.caplen = k->caplen;
        rec.wirelen = k->wirelen;
        rec.bytes.assign(k->data, k->data + k->caplen);
        rec.decode_status = k->decode_status;
        vxs_classify(&rec.cls, k);
        rec.has_dgram = k->dgram != nullptr;
        rec.dgram_first_index = k->dgram_first_index;
        r->recs.push_back(std::move(rec));
    }
    r->end_status = st;
    r->errmsg = vxs_pcap_errmsg(p);
    r->eof_after = vxs_pcap_next(p, &k) == VXS_EOF && vxs_pcap_next(p, &k) == VXS_EOF;
    vxs_pcap_get_counts(p, &r->counts);
    vxs_pcap_get_info(p, &r->info);
}

Result ReadPath(const std::string &path, const vxs_limits_t *lim = nullptr) {
    Result r;
    char err[512] = "";
    vxs_diag_sink_t sink = {CollectDiag, &r.diags};
    vxs_pcap_t *p = nullptr;
    r.open_status = vxs_pcap_open_file(&p, path.c_str(), lim, &sink, err, sizeof err);
    r.open_err = err;
    if (r.open_status != VXS_OK) return r;
    Drain(p, &r);
    vxs_pcap_close(p);
    return r;
}

Result ReadMem(const std::vector<uint8_t> &data, const std::string &name,
               const vxs_limits_t *lim = nullptr) {
    Result r;
    char err[512] = "";
    vxs_diag_sink_t sink = {CollectDiag, &r.diags};
    vxs_pcap_t *p = nullptr;
    r.open_status = vxs_pcap_open_mem(&p, data.data(), data.size(), name.c_str(), lim, &sink, err,
                                      sizeof err);
    r.open_err = err;
    if (r.open_status != VXS_OK) return r;
    Drain(p, &r);
    vxs_pcap_close(p);
    return r;
}



class PcapDatasetTest : public ::testing::TestWithParam<const char *> {};

// (1) every capture: record count and every timestamp equal tshark's, count equals capinfos'.
TEST_P(PcapDatasetTest, MatchesTsharkAndCapinfos) {
    VXS_SHARED_OR_SKIP(path, GetParam());
    VXS_TOOL_OR_SKIP("tshark");
    VXS_TOOL_OR_SKIP("capinfos");
    Result r = ReadPath(path);
    ASSERT_EQ(r.open_status, VXS_OK) << r.open_err;
    EXPECT_EQ(r.end_status, VXS_EOF) << r.errmsg;
    EXPECT_TRUE(r.eof_after);
    std::vector<int64_t> want = vxs_test::TsharkTimes(path);
    ASSERT_EQ(r.recs.size(), want.size());
    EXPECT_EQ(r.recs.size(), vxs_test::CapinfosCount(path));
    ASSERT_FALSE(want.empty());
    EXPECT_EQ(r.recs.front().ts, want.front());
    EXPECT_EQ(r.recs.back().ts, want.back());
    for (size_t i = 0; i < want.size(); i++) {
        ASSERT_EQ(r.recs[i].ts, want[i]) << "record " << i;
        ASSERT_EQ(r.recs[i].index, i);
    }
    EXPECT_EQ(r.counts.records, want.size());
    EXPECT_EQ(r.counts.capture_errors, 0u);
    EXPECT_EQ(r.counts.decode_errors, 0u);
    EXPECT_TRUE(r.diags.empty()) << r.diags.front().msg;
    EXPECT_EQ(r.info.linktype, static_cast<uint32_t>(VXS_LINKTYPE_ETHERNET));
    EXPECT_FALSE(r.info.pcapng);
    // Classic pcap: the first record header follows the 24-byte file header, and records are
    // contiguous.
    EXPECT_EQ(r.recs.front().offset, 24u);
    for (size_t i = 1; i < r.recs.size(); i++)
        ASSERT_EQ(r.recs[i].offset, r.recs[i - 1].offset + 16 + r.recs[i - 1].caplen);
}

INSTANTIATE_TEST_SUITE_P(PcapDatasets, PcapDatasetTest, ::testing::ValuesIn(vxs_test::kSharedCaptures));

std::map<vxs_pkt_class_t, size_t> ClassCounts(const Result &r) {
    std::map<vxs_pkt_class_t, size_t> m;
    for (const auto &x : r.recs) m[x.cls.cls]++;
    return m;
}

// Hard-coded facts from datasets/SOURCES.md, as a second check independent of tshark.
TEST(PcapDatasetFacts, VelodyneVlp16Gps) {
    VXS_SHARED_OR_SKIP(path, "datasets/lidar/velodyne/mrpt_vlp16_gps.pcap");
    Result r = ReadPath(path);
    ASSERT_EQ(r.open_status, VXS_OK) << r.open_err;
    ASSERT_EQ(r.recs.size(), 350u);
    auto m = ClassCounts(r);
    EXPECT_EQ(m[VXS_CLS_VELODYNE_DATA], 293u);
    EXPECT_EQ(m[VXS_CLS_VELODYNE_POSITION], 57u);
    for (const auto &x : r.recs) {
        if (x.cls.cls == VXS_CLS_VELODYNE_DATA) {
            EXPECT_EQ(x.cls.velodyne_product, 0x22);
            EXPECT_EQ(x.cls.velodyne_return_mode, 0x37);
            EXPECT_EQ(x.cls.flow.dst_port, 2368);
        } else {
            EXPECT_STREQ(x.cls.nmea, "$GPRMC");
            EXPECT_EQ(x.cls.velodyne_pps, 2);
            EXPECT_EQ(x.cls.flow.dst_port, 8308);
        }
    }
    EXPECT_STREQ(vxs_velodyne_product_name(0x22), "VLP-16");
}

void ExpectAllVelodyne(const char *rel, size_t n, uint8_t product, uint8_t mode) {
    std::string path = vxs_test::SharedPath(rel);
    ASSERT_FALSE(path.empty());
    Result r = ReadPath(path);
    ASSERT_EQ(r.open_status, VXS_OK) << r.open_err;
    ASSERT_EQ(r.recs.size(), n);
    for (const auto &x : r.recs) {
        ASSERT_EQ(x.cls.cls, VXS_CLS_VELODYNE_DATA) << rel << " record " << x.index;
        ASSERT_EQ(x.cls.velodyne_product, product);
        ASSERT_EQ(x.cls.velodyne_return_mode, mode);
    }
}

TEST(PcapDatasetFacts, VelodyneOthers) {
    VXS_SHARED_OR_SKIP(a, "datasets/lidar/velodyne/mrpt_hdl32e.pcap");
    ExpectAllVelodyne("datasets/lidar/velodyne/mrpt_hdl32e.pcap", 500, 0x21, 0x37);
    ExpectAllVelodyne("datasets/lidar/velodyne/nebula_vlp16_dual.pcap", 603, 0x22, 0x39);
    ExpectAllVelodyne("datasets/lidar/velodyne/nebula_vlp32c.pcap", 379, 0x28, 0x37);
    EXPECT_STREQ(vxs_velodyne_return_name(0x39), "dual");
}

TEST(PcapDatasetFacts, OusterLegacyOs1_64) {
    VXS_SHARED_OR_SKIP(path, "datasets/lidar/ouster/OS-1-64_1024x10_fw20.pcap");
    Result r = ReadPath(path);
    ASSERT_EQ(r.open_status, VXS_OK) << r.open_err;
    auto m = ClassCounts(r);
    EXPECT_EQ(r.recs.size(), 75u);
    EXPECT_EQ(m[VXS_CLS_OUSTER_LIDAR], 64u);
    EXPECT_EQ(m[VXS_CLS_OUSTER_IMU], 11u);
    for (const auto &x : r.recs) {
        if (x.cls.cls != VXS_CLS_OUSTER_LIDAR) continue;
        EXPECT_EQ(x.cls.ouster_legacy, 1);
        EXPECT_EQ(x.cls.ouster_pixels, 64);
        EXPECT_EQ(x.cls.ouster_columns, 16);
    }
}

TEST(PcapDatasetFacts, OusterProfileOs2_128) {
    VXS_SHARED_OR_SKIP(path, "datasets/lidar/ouster/OS-2-128-U1_v2.3.0_1024x10.pcap");
    Result r = ReadPath(path);
    ASSERT_EQ(r.open_status, VXS_OK) << r.open_err;
    auto m = ClassCounts(r);
    EXPECT_EQ(r.recs.size(), 74u);
    EXPECT_EQ(m[VXS_CLS_OUSTER_LIDAR], 64u);
    EXPECT_EQ(m[VXS_CLS_OUSTER_IMU], 10u);
    for (const auto &x : r.recs) {
        if (x.cls.cls != VXS_CLS_OUSTER_LIDAR) continue;
        EXPECT_EQ(x.cls.ouster_legacy, 0);
        EXPECT_EQ(x.cls.ouster_pixels, 128);
        EXPECT_EQ(x.cls.ouster_profile_px, 12);
        EXPECT_EQ(x.cls.ouster_columns, 16);
    }
}

// same_ports_legacy.pcap: two legacy Ouster sensors on the same ports, lidar packets sent as
// real IPv4 fragments. tshark: two source addresses (169.254.92.158 and 169.254.238.111).
TEST(PcapDatasetFacts, OusterSamePortsFragments) {
    VXS_SHARED_OR_SKIP(path, "datasets/lidar/ouster/same_ports_legacy.pcap");
    Result r = ReadPath(path);
    ASSERT_EQ(r.open_status, VXS_OK) << r.open_err;
    ASSERT_EQ(r.recs.size(), 26u);
    auto m = ClassCounts(r);
    std::set<std::vector<uint8_t>> sources;
    std::set<std::vector<uint8_t>> lidar_flows;
    size_t dgrams = 0;
    for (const auto &x : r.recs) {
        if (x.has_dgram) {
            dgrams++;
            EXPECT_LT(x.dgram_first_index, x.index);
        }
        if (x.cls.cls == VXS_CLS_OUSTER_LIDAR) {
            EXPECT_TRUE(x.has_dgram);
            EXPECT_EQ(x.cls.ouster_legacy, 1);
            const uint8_t *k = reinterpret_cast<const uint8_t *>(&x.cls.flow);
            lidar_flows.insert(std::vector<uint8_t>(k, k + sizeof x.cls.flow));
            sources.insert(std::vector<uint8_t>(x.cls.flow.src_addr, x.cls.flow.src_addr + 16));
        }
    }
    EXPECT_EQ(m[VXS_CLS_OUSTER_LIDAR], dgrams);
    EXPECT_EQ(m[VXS_CLS_FRAGMENT] + dgrams, 26u);
    EXPECT_GE(dgrams, 1u);
    EXPECT_EQ(sources.size(), 2u);     // two sensors ...
    EXPECT_EQ(lidar_flows.size(), 2u); // ... told apart by flow key although the ports match
    EXPECT_EQ(r.counts.reasm.datagrams, dgrams);
    EXPECT_EQ(r.counts.reasm.pending, 0u);
    // The trailing fragments of an unfinished datagram are reported at the end, if any.
    for (const auto &d : r.diags) EXPECT_NE(d.msg.find("same_ports_legacy.pcap: packet "), std::string::npos);
}

TEST(PcapDatasetFacts, EtsiCamCpm) {
    VXS_SHARED_OR_SKIP(path, "datasets/v2x/etsi/msvan3t_cam_cpm.pcap");
    Result r = ReadPath(path);
    ASSERT_EQ(r.open_status, VXS_OK) << r.open_err;
    ASSERT_EQ(r.recs.size(), 929u);
    std::map<uint16_t, size_t> ports;
    for (const auto &x : r.recs) {
        ASSERT_EQ(x.cls.cls, VXS_CLS_ETSI_GN);
        EXPECT_EQ(x.cls.gn_next_header, 1);
        EXPECT_EQ(x.cls.gn_header_type, 0x50); // SHB
        EXPECT_EQ(x.cls.flow.ethertype, VXS_ETHERTYPE_GEONET);
        ports[x.cls.btp_dst_port]++;
    }
    EXPECT_EQ(ports[2001], 367u);
    EXPECT_EQ(ports[2009], 562u);
    EXPECT_EQ(ports.size(), 2u);
}

TEST(PcapDatasetFacts, WydotWsmp) {
    VXS_SHARED_OR_SKIP(path, "datasets/v2x/us/wydot_bsm_wsmp_rewrapped.pcap");
    Result r = ReadPath(path);
    ASSERT_EQ(r.open_status, VXS_OK) << r.open_err;
    ASSERT_EQ(r.recs.size(), 222u);
    std::map<uint8_t, size_t> by_mac;
    for (const auto &x : r.recs) {
        ASSERT_EQ(x.cls.cls, VXS_CLS_WSMP);
        EXPECT_EQ(x.cls.wsmp_version, 3);
        EXPECT_EQ(x.cls.wsmp_psid, 0x20u);
        EXPECT_EQ(x.cls.flow.ethertype, VXS_ETHERTYPE_WSMP);
        by_mac[x.cls.flow.src_addr[5]]++;
    }
    EXPECT_EQ(by_mac[1], 129u); // own BSMs sent (tshark eth.src 02:00:00:00:00:01)
    EXPECT_EQ(by_mac[2], 93u);  // received
}

// ---- (2) pcapng and nanosecond pcap copies made by editcap ----------------------------------

std::string Editcap(const std::string &args, const std::string &in, const std::string &name) {
    std::string dir = vxs_test::TempDir(), out = dir + "/" + name, o;
    if (vxs_test::Run("editcap " + args + " '" + in + "' '" + out + "' 2>&1", &o) != 0) {
        ADD_FAILURE() << "editcap failed: " << o;
        return "";
    }
    return out;
}

void ExpectSameRecords(const Result &a, const Result &b) {
    ASSERT_EQ(a.recs.size(), b.recs.size());
    for (size_t i = 0; i < a.recs.size(); i++) {
        ASSERT_EQ(a.recs[i].ts, b.recs[i].ts) << i;
        ASSERT_EQ(a.recs[i].caplen, b.recs[i].caplen) << i;
        ASSERT_EQ(a.recs[i].wirelen, b.recs[i].wirelen) << i;
        ASSERT_EQ(a.recs[i].bytes, b.recs[i].bytes) << i;
        ASSERT_EQ(a.recs[i].index, b.recs[i].index) << i;
        ASSERT_EQ(a.recs[i].cls.cls, b.recs[i].cls.cls) << i;
    }
}

TEST(PcapFormats, PcapngAndNanosecondCopies) {
    VXS_SHARED_OR_SKIP(path, "datasets/lidar/velodyne/mrpt_vlp16_gps.pcap");
    VXS_TOOL_OR_SKIP("editcap");
    Result ref = ReadPath(path);
    std::string ng = Editcap("-F pcapng", path, "copy.pcapng");
    std::string ns = Editcap("-F nsecpcap", path, "copy_ns.pcap");
    ASSERT_FALSE(ng.empty());
    ASSERT_FALSE(ns.empty());
    Result a = ReadPath(ng), b = ReadPath(ns);
    ASSERT_EQ(a.open_status, VXS_OK) << a.open_err;
    ASSERT_EQ(b.open_status, VXS_OK) << b.open_err;
    EXPECT_TRUE(a.info.pcapng);
    EXPECT_FALSE(b.info.pcapng);
    EXPECT_TRUE(b.info.nanosecond_file);
    EXPECT_FALSE(ref.info.nanosecond_file);
    EXPECT_EQ(a.end_status, VXS_EOF);
    EXPECT_EQ(b.end_status, VXS_EOF);
    ExpectSameRecords(ref, a);
    ExpectSameRecords(ref, b);
    // The same bytes from memory.
    Result c = ReadMem(vxs_test::ReadFile(ng), "copy.pcapng");
    ExpectSameRecords(ref, c);
    vxs_file_kind_t kind;
    char err[256];
    ASSERT_EQ(vxs_detect_file(&kind, ng.c_str(), err, sizeof err), VXS_OK);
    EXPECT_EQ(kind, VXS_FILE_PCAPNG);
}

// ---- (3) fetch by locator -------------------------------------------------------------------

void CheckFetch(const std::string &label, vxs_pcap_t *p, const Result &ref) {
    // Read sequentially; every 7th record fetch a sample of earlier and later records by
    // locator, then check that sequential reading went on undisturbed.
    const vxs_packet_t *k = nullptr;
    vxs_buf_t buf = {};
    size_t n = 0;
    while (vxs_pcap_next(p, &k) == VXS_OK) {
        ASSERT_LT(n, ref.recs.size());
        ASSERT_EQ(k->index, ref.recs[n].index) << label;
        ASSERT_EQ(k->offset, ref.recs[n].offset) << label;
        ASSERT_TRUE(std::equal(k->data, k->data + k->caplen, ref.recs[n].bytes.begin(),
                               ref.recs[n].bytes.end()))
            << label << " record " << n;
        if (n % 7 == 0) {
            for (size_t j : {size_t{0}, n / 2, n, (n * 13 + 5) % ref.recs.size(),
                             ref.recs.size() - 1}) {
                vxs_time_t ts = 0;
                ASSERT_EQ(vxs_pcap_fetch(p, &buf, &ts, ref.recs[j].index, ref.recs[j].offset),
                          VXS_OK)
                    << label << " " << vxs_pcap_errmsg(p);
                ASSERT_EQ(std::vector<uint8_t>(buf.data, buf.data + buf.len), ref.recs[j].bytes)
                    << label << " fetched record " << j;
                ASSERT_EQ(ts, ref.recs[j].ts);
            }
        }
        n++;
    }
    EXPECT_EQ(n, ref.recs.size()) << label;
    // After EOF fetching still works, and offsets where no record starts are refused.
    ASSERT_EQ(vxs_pcap_fetch(p, &buf, nullptr, 0, ref.recs[0].offset), VXS_OK);
    EXPECT_EQ(std::vector<uint8_t>(buf.data, buf.data + buf.len), ref.recs[0].bytes);
    EXPECT_EQ(vxs_pcap_fetch(p, &buf, nullptr, 0, 0), VXS_E_NOTFOUND);
    EXPECT_EQ(vxs_pcap_fetch(p, &buf, nullptr, 999, UINT64_C(1) << 40), VXS_E_NOTFOUND);
    EXPECT_NE(std::string(vxs_pcap_errmsg(p)).find("packet 1000"), std::string::npos);
    EXPECT_EQ(vxs_pcap_next(p, &k), VXS_EOF);
    vxs_buf_free(&buf);
}

TEST(PcapFetch, FileAndMemoryPcapAndPcapng) {
    VXS_SHARED_OR_SKIP(path, "datasets/lidar/ouster/same_ports_legacy.pcap");
    VXS_SHARED_OR_SKIP(path2, "datasets/v2x/etsi/msvan3t_cam_cpm.pcap");
    std::vector<std::string> files = {path, path2};
    if (vxs_test::HaveTool("editcap")) {
        files.push_back(Editcap("-F pcapng", path, "a.pcapng"));
        files.push_back(Editcap("-F pcapng", path2, "b.pcapng"));
    }
    for (const auto &f : files) {
        Result ref = ReadPath(f);
        ASSERT_EQ(ref.open_status, VXS_OK);
        ASSERT_FALSE(ref.recs.empty());
        char err[256];
        vxs_pcap_t *p = nullptr;
        ASSERT_EQ(vxs_pcap_open_file(&p, f.c_str(), nullptr, nullptr, err, sizeof err), VXS_OK);
        CheckFetch(f + " (file)", p, ref);
        vxs_pcap_close(p);
        std::vector<uint8_t> bytes = vxs_test::ReadFile(f);
        ASSERT_EQ(vxs_pcap_open_mem(&p, bytes.data(), bytes.size(), "mem", nullptr, nullptr, err,
                                    sizeof err),
                  VXS_OK);
        CheckFetch(f + " (memory)", p, ref);
        vxs_pcap_close(p);
    }
}

TEST(PcapFetch, SourceAdapter) {
    VXS_SHARED_OR_SKIP(path, "datasets/lidar/ouster/same_ports_legacy.pcap");
    Result ref = ReadPath(path);
    char err[256];
    vxs_pcap_t *p = nullptr;
    ASSERT_EQ(vxs_pcap_open_file(&p, path.c_str(), nullptr, nullptr, err, sizeof err), VXS_OK);
    vxs_source_t *src = nullptr;
    ASSERT_EQ(vxs_pcap_source_create(&src, p, 3, 1, 2), VXS_OK);
    const vxs_record_t *rec = nullptr;
    vxs_buf_t buf = {};
    size_t n = 0, with_ports = 0;
    while (vxs_source_next(src, &rec) == VXS_OK) {
        ASSERT_LT(n, ref.recs.size());
        EXPECT_EQ(rec->kind, VXS_REC_PACKET);
        EXPECT_EQ(rec->agent, 1u);
        EXPECT_EQ(rec->sensor, 2u);
        EXPECT_EQ(rec->capture_time, ref.recs[n].ts);
        EXPECT_EQ(rec->loc.source, 3u);
        EXPECT_EQ(rec->loc.index, ref.recs[n].index);
        EXPECT_EQ(rec->loc.offset, ref.recs[n].offset);
        EXPECT_EQ(rec->u.packet.caplen, ref.recs[n].caplen);
        EXPECT_EQ(rec->u.packet.ip_version, 4);
        if (rec->u.packet.dst_port == 7502) with_ports++;
        ASSERT_EQ(vxs_source_fetch(src, &buf, rec), VXS_OK);
        EXPECT_EQ(std::vector<uint8_t>(buf.data, buf.data + buf.len), ref.recs[n].bytes);
        n++;
    }
    EXPECT_EQ(n, ref.recs.size());
    EXPECT_GE(with_ports, 1u); // completed datagrams carry the UDP ports
    EXPECT_STREQ(vxs_source_errmsg(src), "");
    vxs_buf_free(&buf);
    vxs_source_destroy(src);
}

// ---- (4) truncation -------------------------------------------------------------------------

void CheckCut(const std::vector<uint8_t> &full, const Result &ref, size_t cut,
              const std::string &name) {
    SCOPED_TRACE("cut at " + std::to_string(cut));
    std::vector<uint8_t> part(full.begin(), full.begin() + static_cast<long>(cut));
    Result r = ReadMem(part, name);
    if (cut < 24) { // not even a file header: a clear open error naming the input
        EXPECT_NE(r.open_status, VXS_OK);
        EXPECT_NE(r.open_err.find(name), std::string::npos) << r.open_err;
        return;
    }
    ASSERT_EQ(r.open_status, VXS_OK) << r.open_err;
    size_t complete = 0;
    while (complete < ref.recs.size() &&
           ref.recs[complete].offset + 16 + ref.recs[complete].caplen <= cut)
        complete++;
    ASSERT_EQ(r.recs.size(), complete);
    for (size_t i = 0; i < complete; i++) ASSERT_EQ(r.recs[i].bytes, ref.recs[i].bytes);
    bool boundary = complete == ref.recs.size() ? cut == full.size()
                                                : ref.recs[complete].offset == cut;
    if (boundary) {
        EXPECT_EQ(r.end_status, VXS_EOF) << r.errmsg;
        EXPECT_EQ(r.counts.capture_errors, 0u);
    } else {
        EXPECT_EQ(r.end_status, VXS_E_TRUNCATED) << r.errmsg;
        std::string want = name + ": packet " + std::to_string(complete + 1) + " (byte offset " +
                           std::to_string(ref.recs[complete].offset) + "): ";
        EXPECT_EQ(r.errmsg.compare(0, want.size(), want), 0) << r.errmsg;
        ASSERT_FALSE(r.diags.empty());
        EXPECT_EQ(r.diags.back().unit, complete + 1);
        EXPECT_EQ(r.diags.back().offset, ref.recs[complete].offset);
        EXPECT_EQ(r.counts.capture_errors, 1u);
    }
    EXPECT_TRUE(r.eof_after);
}

TEST(PcapTruncation, EveryCutOfARealCapture) {
    VXS_SHARED_OR_SKIP(path, "datasets/lidar/velodyne/mrpt_vlp16_gps.pcap");
    std::vector<uint8_t> full = vxs_test::ReadFile(path);
    Result ref = ReadMem(full, "vlp16.pcap");
    ASSERT_EQ(ref.recs.size(), 350u);
    for (size_t cut = 0; cut <= 200; cut++) CheckCut(full, ref, cut, "vlp16.pcap");
    for (size_t i = 1; i <= 100; i++) CheckCut(full, ref, full.size() * i / 101 + i, "vlp16.pcap");
    // Cuts right at and just after record boundaries.
    for (size_t i = 100; i < 110; i++) {
        CheckCut(full, ref, ref.recs[i].offset, "vlp16.pcap");
        CheckCut(full, ref, ref.recs[i].offset + 15, "vlp16.pcap");
        CheckCut(full, ref, ref.recs[i].offset + 16, "vlp16.pcap");
    }
    CheckCut(full, ref, full.size(), "vlp16.pcap");
}

TEST(PcapTruncation, FileAndPcapngCut) {
    VXS_SHARED_OR_SKIP(path, "datasets/v2x/us/wydot_bsm_wsmp_rewrapped.pcap");
    std::vector<uint8_t> full = vxs_test::ReadFile(path);
    std::string dir = vxs_test::TempDir(), cutf = dir + "/cut.pcap";
    Result ref = ReadPath(path);
    std::vector<uint8_t> part(full.begin(), full.begin() + static_cast<long>(ref.recs[50].offset + 20));
    ASSERT_TRUE(vxs_test::WriteFile(cutf, part));
    Result r = ReadPath(cutf);
    ASSERT_EQ(r.open_status, VXS_OK);
    EXPECT_EQ(r.recs.size(), 50u);
    EXPECT_EQ(r.end_status, VXS_E_TRUNCATED);
    EXPECT_NE(r.errmsg.find(cutf + ": packet 51 (byte offset " + std::to_string(ref.recs[50].offset)),
              std::string::npos)
        << r.errmsg;
    EXPECT_TRUE(r.eof_after);
    if (!vxs_test::HaveTool("editcap")) return;
    std::string ng = Editcap("-F pcapng", path, "w.pcapng");
    std::vector<uint8_t> ngb = vxs_test::ReadFile(ng);
    Result nref = ReadMem(ngb, "w.pcapng");
    ASSERT_EQ(nref.recs.size(), 222u);
    // Cut inside record 101's block: 100 records, then a truncation error at its start.
    size_t cut = static_cast<size_t>(nref.recs[100].offset + 30);
    std::vector<uint8_t> ngpart(ngb.begin(), ngb.begin() + static_cast<long>(cut));
    Result nr = ReadMem(ngpart, "w.pcapng");
    ASSERT_EQ(nr.open_status, VXS_OK);
    EXPECT_EQ(nr.recs.size(), 100u);
    EXPECT_EQ(nr.end_status, VXS_E_TRUNCATED) << nr.errmsg;
    EXPECT_NE(nr.errmsg.find("w.pcapng: packet 101 (byte offset " +
                             std::to_string(nref.recs[100].offset)),
              std::string::npos)
        << nr.errmsg;
    for (size_t c = 0; c < 300; c += 3) { // and never crash on the pcapng headers either
        std::vector<uint8_t> q(ngb.begin(), ngb.begin() + static_cast<long>(c));
        Result x = ReadMem(q, "w.pcapng");
        if (x.open_status != VXS_OK) {
            EXPECT_NE(x.open_err.find("w.pcapng"), std::string::npos);
        }
    }
}

// ---- (5) corruption -------------------------------------------------------------------------

void PutU32Le(std::vector<uint8_t> *b, size_t at, uint32_t v) {
    for (int i = 0; i < 4; i++) (*b)[at + static_cast<size_t>(i)] = static_cast<uint8_t>(v >> (8 * i));
}

// A record header whose length libpcap refuses costs that record only: the reader reports it
// (packet number, byte offset, libpcap's reason, where it resynchronised) and reads on from the
// next plausible record. Records before it and after it are all there, byte for byte.
TEST(PcapCorruption, HugeCaplenCostsOneRecord) {
    VXS_SHARED_OR_SKIP(path, "datasets/lidar/velodyne/mrpt_vlp16_gps.pcap");
    std::vector<uint8_t> full = vxs_test::ReadFile(path);
    Result ref = ReadMem(full, "x.pcap");
    ASSERT_EQ(ref.recs.size(), 350u);
    for (size_t k : {size_t{0}, size_t{1}, size_t{77}, size_t{349}}) {
        SCOPED_TRACE(k);
        std::vector<uint8_t> bad = full;
        PutU32Le(&bad, static_cast<size_t>(ref.recs[k].offset) + 8, 0x7FFFFF00u); // incl_len
        Result r = ReadMem(bad, "x.pcap");
        ASSERT_EQ(r.open_status, VXS_OK);
        if (k == 349) { // the last record: nothing follows, the capture ends there
            EXPECT_EQ(r.recs.size(), k);
            EXPECT_EQ(r.end_status, VXS_E_MALFORMED) << r.errmsg;
            EXPECT_EQ(r.counts.resyncs, 0u);
        } else {
            ASSERT_EQ(r.recs.size(), ref.recs.size() - 1);
            EXPECT_EQ(r.end_status, VXS_EOF) << r.errmsg;
            EXPECT_EQ(r.counts.resyncs, 1u);
            for (size_t i = 0, j = 0; i < ref.recs.size(); i++) {
                if (i == k) continue;
                EXPECT_EQ(r.recs[j].offset, ref.recs[i].offset);
                EXPECT_EQ(r.recs[j].bytes, ref.recs[i].bytes);
                j++;
            }
        }
        EXPECT_EQ(r.counts.capture_errors, 1u);
        ASSERT_EQ(r.diags.size(), 1u);
        std::string want = "x.pcap: packet " + std::to_string(k + 1) + " (byte offset " +
                           std::to_string(ref.recs[k].offset) + "): ";
        EXPECT_EQ(r.diags[0].msg.compare(0, want.size(), want), 0) << r.diags[0].msg;
        if (k != 349) {
            std::string next = "resynchronised at byte " + std::to_string(ref.recs[k + 1].offset) +
                               " (skipped " +
                               std::to_string(ref.recs[k + 1].offset - ref.recs[k].offset) +
                               " bytes)";
            EXPECT_NE(r.diags[0].msg.find(next), std::string::npos) << r.diags[0].msg;
        }
        EXPECT_TRUE(r.eof_after);
    }
}

// A length field too short: the record it belongs to is read short (the unit hit), libpcap then
// refuses the misaligned header after it, and the reader goes back inside the record to the true
// next header. Too long: the captured length exceeds the original one and no plausible header
// follows, so the record itself is the damage, skipped. Either way every other record is read.
TEST(PcapCorruption, OffByOneCaplenResynchronisesBack) {
    VXS_SHARED_OR_SKIP(path, "datasets/lidar/velodyne/mrpt_vlp16_gps.pcap");
    std::vector<uint8_t> full = vxs_test::ReadFile(path);
    Result ref = ReadMem(full, "x.pcap");
    for (int delta : {-1, 1, 5000}) {
        SCOPED_TRACE(delta);
        const size_t k = 10;
        std::vector<uint8_t> bad = full;
        PutU32Le(&bad, static_cast<size_t>(ref.recs[k].offset) + 8,
                 static_cast<uint32_t>(static_cast<int>(ref.recs[k].caplen) + delta));
        Result r = ReadMem(bad, "x.pcap");
        const bool kept = delta < 0;
        ASSERT_EQ(r.recs.size(), ref.recs.size() - (kept ? 0 : 1)) << r.errmsg;
        for (size_t i = 0, j = 0; i < ref.recs.size(); i++) {
            if (i == k && !kept) continue;
            EXPECT_EQ(r.recs[j].offset, ref.recs[i].offset);
            if (i != k) {
                EXPECT_EQ(r.recs[j].bytes, ref.recs[i].bytes);
            }
            j++;
        }
        EXPECT_EQ(r.counts.resyncs, 1u);
        ASSERT_EQ(r.diags.size(), 1u);
        EXPECT_NE(r.diags[0].msg.find("resynchronised at byte " +
                                      std::to_string(ref.recs[k + 1].offset)),
                  std::string::npos)
            << r.diags[0].msg;
    }
}

TEST(PcapCorruption, MaxRecordLimitSkipsBadUnits) {
    VXS_SHARED_OR_SKIP(path, "datasets/lidar/velodyne/mrpt_vlp16_gps.pcap");
    vxs_limits_t lim;
    vxs_limits_default(&lim);
    lim.max_record = 1000; // data frames are 1248 bytes, position frames 554
    Result r = ReadPath(path, &lim);
    ASSERT_EQ(r.open_status, VXS_OK);
    EXPECT_EQ(r.end_status, VXS_EOF);
    EXPECT_EQ(r.recs.size(), 57u);
    EXPECT_EQ(r.diags.size(), 293u);
    for (const auto &x : r.recs) EXPECT_EQ(x.cls.cls, VXS_CLS_VELODYNE_POSITION);
    ASSERT_FALSE(r.diags.empty());
    EXPECT_EQ(r.diags[0].status, VXS_E_LIMIT);
    EXPECT_NE(r.diags[0].msg.find("packet 1 (byte offset 24): "), std::string::npos)
        << r.diags[0].msg;
    // Record numbers keep counting the skipped records (tshark frame numbers), and so do the
    // counts, so a file's packet count still equals capinfos'.
    EXPECT_GT(r.recs.back().index, 56u);
    EXPECT_EQ(r.counts.records, 350u);
    EXPECT_EQ(r.counts.decode_errors, 293u);
}

// ClassicPcap builds a classic µs pcap (snaplen `snap`) of non-IP Ethernet frames whose
// stored lengths are `lens`; frame i is filled with byte i+1. Record i has time 1000+i s plus
// `usec[i]` (default 0) in its sub-second field.
std::vector<uint8_t> ClassicPcap(uint32_t snap, const std::vector<uint32_t> &lens,
                                 const std::vector<uint32_t> &usec = {}) {
    std::vector<uint8_t> b;
    auto u32 = [&b](uint32_t v) {
        for (int i = 0; i < 4; i++) b.push_back(static_cast<uint8_t>(v >> (8 * i)));
    };
    u32(0xa1b2c3d4);
    b.push_back(2), b.push_back(0), b.push_back(4), b.push_back(0); // version 2.4
    u32(0), u32(0), u32(snap), u32(1);                              // linktype ethernet
    for (size_t i = 0; i < lens.size(); i++) {
        u32(1000 + static_cast<uint32_t>(i));
        u32(i < usec.size() ? usec[i] : 0);
        u32(lens[i]), u32(lens[i]);
        size_t at = b.size();
        b.insert(b.end(), lens[i], static_cast<uint8_t>(i + 1));
        if (lens[i] >= 14) b[at + 12] = 0x88, b[at + 13] = 0xB5; // IEEE local experimental
    }
    return b;
}

TEST(PcapOffsets, RecordLongerThanSnaplenKeepsLaterOffsetsAndFetchExact) {
    // libpcap cuts record 2 (242 bytes) to the file's snaplen of 100 and skips the rest: the
    // byte offsets of the records after it must still be the real ones.
    std::vector<uint32_t> lens = {52, 242, 52, 52};
    std::vector<uint8_t> file = ClassicPcap(100, lens);
    vxs_pcap_t *p = nullptr;
    char err[256];
    ASSERT_EQ(vxs_pcap_open_mem(&p, file.data(), file.size(), "snap.pcap", nullptr, nullptr, err,
                                sizeof err),
              VXS_OK)
        << err;
    const uint64_t expect[] = {24, 24 + 16 + 52, 24 + 16 + 52 + 16 + 242,
                               24 + 16 + 52 + 16 + 242 + 16 + 52};
    const vxs_packet_t *k;
    std::vector<uint64_t> offsets;
    while (vxs_pcap_next(p, &k) == VXS_OK) offsets.push_back(k->offset);
    ASSERT_EQ(offsets.size(), 4u);
    for (size_t i = 0; i < 4; i++) EXPECT_EQ(offsets[i], expect[i]) << "record " << i;
    vxs_buf_t buf = {};
    for (size_t i = 0; i < 4; i++) {
        ASSERT_EQ(vxs_pcap_fetch(p, &buf, nullptr, i, expect[i]), VXS_OK) << "record " << i;
        ASSERT_EQ(buf.len, std::min<size_t>(lens[i], 100));
        EXPECT_EQ(buf.data[0], i + 1);
    }
    vxs_buf_free(&buf);
    vxs_pcap_close(p);
}

TEST(PcapTimestamps, SubSecondFieldOfASecondOrMoreIsCarriedAndReported) {
    // Record 2's µs field says 2000000: malformed; tshark reads it as 1001 + 2 s.
    std::vector<uint8_t> file = ClassicPcap(65535, {60, 60, 60}, {5, 2000000, 7});
    Result r;
    vxs_pcap_t *p = nullptr;
    char err[256];
    vxs_diag_sink_t sink = {CollectDiag, &r.diags};
    ASSERT_EQ(vxs_pcap_open_mem(&p, file.data(), file.size(), "usec.pcap", nullptr, &sink, err,
                                sizeof err),
              VXS_OK);
    Drain(p, &r);
    vxs_pcap_close(p);
    ASSERT_EQ(r.recs.size(), 3u);
    EXPECT_EQ(r.recs[0].ts, INT64_C(1000000005000));
    EXPECT_EQ(r.recs[1].ts, INT64_C(1003000000000));
    EXPECT_EQ(r.recs[2].ts, INT64_C(1002000007000));
    ASSERT_EQ(r.diags.size(), 1u);
    EXPECT_EQ(r.diags[0].status, VXS_E_MALFORMED);
    EXPECT_NE(r.diags[0].msg.find("usec.pcap: packet 2 (byte offset 100): sub-second timestamp "
                                  "field 2000000"),
              std::string::npos)
        << r.diags[0].msg;
}

TEST(PcapCorruption, BadIpHeaderInOneRecord) {
    VXS_SHARED_OR_SKIP(path, "datasets/lidar/velodyne/mrpt_hdl32e.pcap");
    std::vector<uint8_t> full = vxs_test::ReadFile(path);
    Result ref = ReadMem(full, "h.pcap");
    const size_t k = 123;
    std::vector<uint8_t> bad = full;
    size_t ip = static_cast<size_t>(ref.recs[k].offset) + 16 + 14; // record header + Ethernet
    ASSERT_EQ(bad[ip], 0x45);
    bad[ip] = 0x95; // IP version 9
    Result r = ReadMem(bad, "h.pcap");
    ASSERT_EQ(r.recs.size(), 500u);
    EXPECT_EQ(r.end_status, VXS_EOF);
    EXPECT_EQ(r.counts.decode_errors, 1u);
    for (size_t i = 0; i < r.recs.size(); i++) {
        if (i == k) {
            EXPECT_NE(r.recs[i].decode_status, VXS_OK);
            EXPECT_EQ(r.recs[i].cls.cls, VXS_CLS_UNDECODED);
        } else {
            EXPECT_EQ(r.recs[i].decode_status, VXS_OK);
            EXPECT_EQ(r.recs[i].cls.cls, VXS_CLS_VELODYNE_DATA);
        }
    }
    ASSERT_EQ(r.diags.size(), 1u);
    EXPECT_EQ(r.diags[0].unit, k + 1);
    std::string want = "h.pcap: packet 124 (byte offset " + std::to_string(ref.recs[k].offset) + "): ";
    EXPECT_EQ(r.diags[0].msg.compare(0, want.size(), want), 0) << r.diags[0].msg;
}

TEST(PcapCorruption, RandomByteFlipsNeverCrash) {
    VXS_SHARED_OR_SKIP(path, "datasets/lidar/ouster/same_ports_legacy.pcap");
    std::vector<uint8_t> full = vxs_test::ReadFile(path);
    uint32_t seed = 12345;
    auto rnd = [&seed]() { return seed = seed * 1103515245u + 12345u, (seed >> 8); };
    for (int iter = 0; iter < 200; iter++) {
        std::vector<uint8_t> bad = full;
        for (int f = 0; f < 1 + iter % 8; f++) bad[rnd() % bad.size()] ^= static_cast<uint8_t>(1 + rnd() % 255);
        Result r = ReadMem(bad, "flip.pcap");
        if (r.open_status != VXS_OK) {
            EXPECT_NE(r.open_err.find("flip.pcap"), std::string::npos);
            continue;
        }
        EXPECT_TRUE(r.end_status == VXS_EOF || r.end_status == VXS_E_TRUNCATED ||
                    r.end_status == VXS_E_MALFORMED);
        EXPECT_TRUE(r.eof_after);
        for (const auto &d : r.diags) EXPECT_EQ(d.msg.rfind("flip.pcap: ", 0), 0u) << d.msg;
    }
}

// ---- (6) open errors ------------------------------------------------------------------------

TEST(PcapOpen, ErrorsNameTheFile) {
    std::string dir = vxs_test::TempDir();
    char err[512];
    vxs_pcap_t *p = nullptr;
    std::string missing = dir + "/missing.pcap";
    EXPECT_EQ(vxs_pcap_open_file(&p, missing.c_str(), nullptr, nullptr, err, sizeof err), VXS_E_IO);
    EXPECT_EQ(p, nullptr);
    EXPECT_NE(std::string(err).find(missing), std::string::npos) << err;

    std::string text = dir + "/notes.txt";
    std::string s = "this is not a capture file, just some text\n";
    ASSERT_TRUE(vxs_test::WriteFile(text, std::vector<uint8_t>(s.begin(), s.end())));
    EXPECT_EQ(vxs_pcap_open_file(&p, text.c_str(), nullptr, nullptr, err, sizeof err),
              VXS_E_UNSUPPORTED);
    EXPECT_NE(std::string(err).find(text), std::string::npos) << err;

    std::string empty = dir + "/empty.pcap";
    ASSERT_TRUE(vxs_test::WriteFile(empty, {}));
    EXPECT_EQ(vxs_pcap_open_file(&p, empty.c_str(), nullptr, nullptr, err, sizeof err),
              VXS_E_MALFORMED);
    EXPECT_NE(std::string(err).find(empty), std::string::npos) << err;
    EXPECT_EQ(vxs_pcap_open_file(&p, dir.c_str(), nullptr, nullptr, err, sizeof err), VXS_E_IO);

    EXPECT_EQ(vxs_pcap_open_mem(&p, "", 0, "buf", nullptr, nullptr, err, sizeof err),
              VXS_E_MALFORMED);
    EXPECT_NE(std::string(err).find("buf"), std::string::npos);
    vxs_pcap_close(nullptr);
}

TEST(PcapOpen, AllocationFailuresAreClean) {
    VXS_SHARED_OR_SKIP(path, "datasets/lidar/ouster/same_ports_legacy.pcap");
    std::vector<uint8_t> bytes = vxs_test::ReadFile(path);
    for (long n = 1; n < 200; n++) {
        vxs_test::FailAllocAfter guard(n);
        char err[256];
        vxs_pcap_t *p = nullptr;
        std::vector<Diag> diags;
        vxs_diag_sink_t sink = {CollectDiag, &diags};
        vxs_status_t st = vxs_pcap_open_mem(&p, bytes.data(), bytes.size(), "m", nullptr, &sink,
                                            err, sizeof err);
        if (st != VXS_OK) {
            EXPECT_EQ(p, nullptr);
            continue;
        }
        const vxs_packet_t *k;
        while ((st = vxs_pcap_next(p, &k)) == VXS_OK) {
        }
        vxs_pcap_close(p);
        if (!vxs_test::FailAllocAfter::Failed()) break;
    }
}

} // namespace
