// The V2X reader (sensors/v2x_reader.c) on the real logs: Wyoming OBU binary logs, the
// rewrapped WSMP capture, the ETSI capture, hex-per-line logs; damaged logs.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <map>
#include <string>
#include <vector>

#include "test_util.h"
#include "vxs_v2x.h"

namespace {

struct Diags {
    std::vector<std::string> msgs;
    static void Fn(void *user, const vxs_diag_t *d) {
        static_cast<Diags *>(user)->msgs.push_back(d->msg);
    }
};

struct Msg {
    vxs_record_t rec;
    vxs_v2x_msg_t msg;
    vxs_v2x_link_t link;
    vxs_v2x_times_t times;
};

std::vector<Msg> ReadAll(const std::string &path, vxs_v2x_reader_options_t *opt, Diags *d,
                         vxs_v2x_counts_t *counts = nullptr) {
    std::vector<Msg> out;
    vxs_v2x_reader_options_t o;
    std::memset(&o, 0, sizeof o);
    o.own_station_id = -1;
    if (opt) o = *opt;
    vxs_diag_sink_t sink = {Diags::Fn, d};
    if (d) o.diag = &sink;
    vxs_v2x_reader_t *r = nullptr;
    char err[512] = "";
    EXPECT_EQ(vxs_v2x_reader_open(&r, path.c_str(), &o, err, sizeof err), VXS_OK) << err;
    if (!r) return out;
    const vxs_record_t *rec;
    vxs_status_t st;
    while ((st = vxs_v2x_reader_next(r, &rec)) == VXS_OK) {
        Msg m;
        m.rec = *rec;
        m.msg = *vxs_v2x_reader_msg(r);
        vxs_v2x_reader_link(r, &m.link);
        vxs_v2x_reader_times(r, &m.times);
        out.push_back(m);
    }
    EXPECT_EQ(st, VXS_EOF);
    if (counts) vxs_v2x_reader_counts(r, counts);
    vxs_v2x_reader_close(r);
    return out;
}

TEST(V2xReader, WydotLogReceivedBsmsAndTheirLoss) {
    VXS_SHARED_OR_SKIP(path, "datasets/v2x/us/jpo-ode/data/bsmLogDuringEvent.bin");
    Diags d;
    vxs_v2x_counts_t c;
    auto msgs = ReadAll(path, nullptr, &d, &c);
    EXPECT_TRUE(d.msgs.empty()) << d.msgs[0];
    ASSERT_EQ(msgs.size(), 222u);
    EXPECT_EQ(c.units, 222u);
    std::vector<int> rx;
    for (const auto &m : msgs) {
        EXPECT_EQ(m.msg.protocol, VXS_V2X_PROTO_J2735);
        EXPECT_EQ(m.msg.msg_id, VXS_J2735_BSM);
        EXPECT_TRUE(m.msg.decoded);
        EXPECT_EQ(m.rec.kind, VXS_REC_V2X);
        EXPECT_EQ(m.rec.u.v2x.sent, m.link.direction == 0);
        // secMark resolved against the log time: within a second of it (SOURCES.md: -100 ms).
        ASSERT_NE(m.times.sec_mark, VXS_TIME_NONE);
        EXPECT_LT(std::llabs(m.times.sec_mark - m.rec.capture_time), 1000000000LL);
        if (m.link.direction == 1) rx.push_back(m.msg.msg_cnt);
    }
    ASSERT_EQ(rx.size(), 93u);
    std::map<int, int> gaps;
    for (size_t i = 1; i < rx.size(); i++) gaps[(rx[i] - rx[i - 1] + 128) % 128]++;
    EXPECT_EQ(gaps[1], 68);
    EXPECT_EQ(gaps[2], 15);
    EXPECT_EQ(gaps[3], 6);
    EXPECT_EQ(gaps[4], 3);
    // The log time minus secMark of received BSMs: ≈ -100 ms (SOURCES.md).
    std::vector<double> d_ms;
    for (const auto &m : msgs)
        if (m.link.direction == 1)
            d_ms.push_back(static_cast<double>(m.rec.capture_time - m.times.sec_mark) / 1e6);
    std::sort(d_ms.begin(), d_ms.end());
    EXPECT_NEAR(d_ms[d_ms.size() / 2], -100.0, 20.0);
}

// The rewrapped capture carries the same payloads as the binary log: the same BSMs in the same
// order; MAC ..:01 is the logging vehicle's own.
TEST(V2xReader, RewrappedCaptureEqualsTheBinaryLog) {
    VXS_SHARED_OR_SKIP(bin, "datasets/v2x/us/jpo-ode/data/bsmLogDuringEvent.bin");
    VXS_SHARED_OR_SKIP(pcap, "datasets/v2x/us/wydot_bsm_wsmp_rewrapped.pcap");
    auto a = ReadAll(bin, nullptr, nullptr);
    // Learn the own MAC from the first frame (SOURCES.md: ..:01 = own BSMs sent).
    auto plain = ReadAll(pcap, nullptr, nullptr);
    ASSERT_EQ(plain.size(), a.size());
    uint8_t own[1][6];
    bool found = false;
    for (const auto &m : plain)
        if (m.link.has_mac && m.link.src_mac[5] == 0x01) {
            std::memcpy(own[0], m.link.src_mac, 6);
            found = true;
            break;
        }
    ASSERT_TRUE(found);
    vxs_v2x_reader_options_t o;
    std::memset(&o, 0, sizeof o);
    o.own_station_id = -1;
    o.own_macs = own;
    o.n_own_macs = 1;
    auto b = ReadAll(pcap, &o, nullptr);
    ASSERT_EQ(a.size(), b.size());
    for (size_t i = 0; i < a.size(); i++) {
        EXPECT_EQ(a[i].msg.msg_cnt, b[i].msg.msg_cnt) << i;
        EXPECT_EQ(a[i].msg.station_id, b[i].msg.station_id) << i;
        EXPECT_EQ(a[i].msg.sec_mark, b[i].msg.sec_mark) << i;
        EXPECT_EQ(a[i].msg.lat_deg, b[i].msg.lat_deg) << i;
        EXPECT_EQ(a[i].msg.lon_deg, b[i].msg.lon_deg) << i;
        EXPECT_EQ(a[i].link.direction, b[i].link.direction) << i;
        EXPECT_TRUE(b[i].msg.has_wsmp);
        EXPECT_EQ(b[i].msg.psid, 0x20u);
    }
}

TEST(V2xReader, EtsiCaptureCamsAndCpms) {
    VXS_SHARED_OR_SKIP(path, "datasets/v2x/etsi/msvan3t_cam_cpm.pcap");
    Diags d;
    auto msgs = ReadAll(path, nullptr, &d);
    EXPECT_TRUE(d.msgs.empty()) << d.msgs[0];
    int cam = 0, cpm = 0;
    for (const auto &m : msgs) {
        EXPECT_EQ(m.msg.protocol, VXS_V2X_PROTO_ETSI);
        EXPECT_EQ(m.msg.station_id, 100);
        cam += m.msg.msg_id == VXS_ETSI_CAM;
        cpm += m.msg.msg_id == VXS_ETSI_CPM;
        // A generation time resolved for every message, near the capture time (emulated:
        // the clocks agree to within seconds).
        ASSERT_NE(m.rec.device_time, VXS_TIME_NONE);
        EXPECT_LT(std::llabs(m.rec.device_time - m.rec.capture_time), 10000000000LL);
        EXPECT_EQ(m.rec.device_clock.kind, VXS_CLOCK_SENDER);
    }
    EXPECT_EQ(cam, 367);
    EXPECT_EQ(cpm, 562);
}

// A text log made from the binary log's payloads: one hex MessageFrame per line, some lines
// with a timestamp, a comment, a blank line and a damaged line.
TEST(V2xReader, HexLogLines) {
    VXS_SHARED_OR_SKIP(bin, "datasets/v2x/us/jpo-ode/data/bsmLogDuringEvent.bin");
    std::vector<uint8_t> b = vxs_test::ReadFile(bin);
    std::string text = "# hex log made by the test\n\n";
    size_t pos = 0;
    int n = 0;
    vxs_wydot_record_t w;
    std::vector<int> cnt;
    while (vxs_wydot_next(&w, &pos, b.data(), b.size()) == VXS_OK && n < 20) {
        char hex[3];
        std::string line = n % 2 ? "" : "2018-05-01T16:04:10." + std::to_string(100 + n) + "Z ";
        for (size_t i = 0; i < w.payload_len; i++) {
            std::snprintf(hex, sizeof hex, "%02x", w.payload[i]);
            line += hex;
        }
        text += line + "\n";
        if (n == 5) text += "0314zz\n"; // damaged: line 9
        n++;
    }
    std::string path = vxs_test::TempDir() + "/log.hex";
    ASSERT_TRUE(vxs_test::WriteFile(path, std::vector<uint8_t>(text.begin(), text.end())));
    Diags d;
    vxs_v2x_reader_options_t o;
    std::memset(&o, 0, sizeof o);
    o.own_station_id = -1;
    auto msgs = ReadAll(path, &o, &d);
    ASSERT_EQ(msgs.size(), 20u);
    ASSERT_EQ(d.msgs.size(), 1u);
    EXPECT_NE(d.msgs[0].find("log.hex: line 9 (byte offset"), std::string::npos) << d.msgs[0];
    EXPECT_NE(d.msgs[0].find("not a hex digit"), std::string::npos) << d.msgs[0];
    auto ref = ReadAll(bin, nullptr, nullptr);
    for (size_t i = 0; i < msgs.size(); i++) {
        EXPECT_EQ(msgs[i].msg.msg_cnt, ref[i].msg.msg_cnt);
        EXPECT_EQ(msgs[i].rec.capture_time == VXS_TIME_NONE, i % 2 == 1);
        if (i % 2 == 0) {
            EXPECT_EQ(msgs[i].rec.capture_time,
                      vxs_time_from_civil(2018, 5, 1, 16, 4, 10, 0) +
                          (int64_t)(100 + i) * 1000000);
        }
    }
}

TEST(V2xReader, HexLineParser) {
    uint8_t out[8];
    size_t n;
    vxs_time_t t;
    char err[128];
    const char *l1 = "1525190650.894 00 14 25\n";
    ASSERT_EQ(vxs_hexlog_parse_line(out, &n, &t, l1, std::strlen(l1), sizeof out, err, sizeof err),
              VXS_OK);
    EXPECT_EQ(n, 3u);
    EXPECT_EQ(out[1], 0x14);
    EXPECT_EQ(t, 1525190650894000000LL);
    const char *l2 = "001425";
    ASSERT_EQ(vxs_hexlog_parse_line(out, &n, &t, l2, std::strlen(l2), sizeof out, err, sizeof err),
              VXS_OK);
    EXPECT_EQ(t, VXS_TIME_NONE);
    const char *l3 = "00142";
    EXPECT_EQ(vxs_hexlog_parse_line(out, &n, &t, l3, std::strlen(l3), sizeof out, err, sizeof err),
              VXS_E_MALFORMED);
    EXPECT_NE(std::string(err).find("odd number"), std::string::npos);
    const char *l4 = "001122334455667788";
    EXPECT_EQ(vxs_hexlog_parse_line(out, &n, &t, l4, std::strlen(l4), sizeof out, err, sizeof err),
              VXS_E_LIMIT);
    const char *l5 = "   # comment";
    EXPECT_EQ(vxs_hexlog_parse_line(out, &n, &t, l5, std::strlen(l5), sizeof out, err, sizeof err),
              VXS_EOF);
}

// A binary log cut inside a record: every record before it, then a message that names the
// record and its byte offset.
TEST(V2xReader, TruncatedWydotLog) {
    VXS_SHARED_OR_SKIP(bin, "datasets/v2x/us/jpo-ode/data/bsmLogDuringEvent.bin");
    std::vector<uint8_t> b = vxs_test::ReadFile(bin);
    size_t pos = 0, rec_off = 0;
    vxs_wydot_record_t w;
    for (int i = 0; i < 100; i++) {
        rec_off = pos;
        ASSERT_EQ(vxs_wydot_next(&w, &pos, b.data(), b.size()), VXS_OK);
    }
    b.resize(rec_off + 40); // inside record 100's payload
    std::string path = vxs_test::TempDir() + "/cut.bin";
    ASSERT_TRUE(vxs_test::WriteFile(path, b));
    Diags d;
    vxs_v2x_reader_options_t o;
    std::memset(&o, 0, sizeof o);
    o.format = VXS_V2X_FMT_WYDOT;
    o.own_station_id = -1;
    auto msgs = ReadAll(path, &o, &d);
    EXPECT_EQ(msgs.size(), 99u);
    ASSERT_EQ(d.msgs.size(), 1u);
    EXPECT_NE(d.msgs[0].find("cut.bin: record 100 (byte offset " + std::to_string(rec_off) + ")"),
              std::string::npos) << d.msgs[0];
    // And a record cut in its header.
    b.resize(rec_off + 10);
    ASSERT_TRUE(vxs_test::WriteFile(path, b));
    d.msgs.clear();
    msgs = ReadAll(path, &o, &d);
    EXPECT_EQ(msgs.size(), 99u);
    EXPECT_EQ(d.msgs.size(), 1u);
}

// A damaged record costs that record: a length field set to nothing, to too much, or one byte
// off, a direction byte no log writes. The reader reports the record (number, byte offset, what
// is implausible, where it resynchronised) and reads every other record.
TEST(V2xReader, WydotDamageCostsOneRecord) {
    VXS_SHARED_OR_SKIP(bin, "datasets/v2x/us/jpo-ode/data/bsmLogDuringEvent.bin");
    const std::vector<uint8_t> full = vxs_test::ReadFile(bin);
    std::vector<size_t> offs;
    for (size_t p = 0; p + 26 <= full.size(); p += 26 + (full[p + 24] | full[p + 25] << 8))
        offs.push_back(p);
    ASSERT_EQ(offs.size(), 222u);
    vxs_v2x_reader_options_t o;
    std::memset(&o, 0, sizeof o);
    o.own_station_id = -1;
    std::string path = vxs_test::TempDir() + "/d.bin";
    const size_t k = 6;
    struct Case {
        const char *what;
        int at;     // byte of record k changed
        int value;  // new value of a u16 LE at `at` (or of the byte, for at 0)
        size_t lost;
    };
    for (const Case &c : {Case{"length 0", 24, 0, 1}, Case{"length 65535", 24, 65535, 1},
                          Case{"length 1", 24, 1, 1}, Case{"length - 1", 24, 191, 1},
                          Case{"length + 1", 24, 193, 0}, Case{"direction 7", 0, 7, 1}}) {
        SCOPED_TRACE(c.what);
        std::vector<uint8_t> b = full;
        if (c.at == 0) {
            b[offs[k]] = static_cast<uint8_t>(c.value);
        } else {
            b[offs[k] + 24] = static_cast<uint8_t>(c.value & 0xFF);
            b[offs[k] + 25] = static_cast<uint8_t>(c.value >> 8);
        }
        ASSERT_TRUE(vxs_test::WriteFile(path, b));
        Diags d;
        vxs_v2x_counts_t counts;
        auto msgs = ReadAll(path, &o, &d, &counts);
        EXPECT_EQ(msgs.size(), 222u - c.lost);
        // every record but the damaged one is read, at its own offset
        size_t j = 0;
        for (size_t i = 0; i < offs.size() && j < msgs.size(); i++) {
            if (i == k && c.lost) continue;
            EXPECT_EQ(msgs[j].rec.loc.offset, offs[i]) << i;
            j++;
        }
        ASSERT_FALSE(d.msgs.empty());
        bool resync = false;
        for (const std::string &m : d.msgs) {
            EXPECT_EQ(m.find(path + ": record "), 0u) << m;
            EXPECT_NE(m.find("(byte offset "), std::string::npos) << m;
            resync |= m.find("resynchronised at byte " + std::to_string(offs[k + 1])) !=
                      std::string::npos;
        }
        EXPECT_TRUE(resync) << d.msgs[0];
    }
}

// Lines are read whole, NUL bytes and all: a NUL in a message line costs that line, and the
// line numbers and byte offsets of the lines after it stay right.
TEST(V2xReader, HexLogNulCostsItsLine) {
    VXS_SHARED_OR_SKIP(hex, "datasets/v2x/us/v2x-hub/bsm_vectors.txt");
    std::vector<uint8_t> b = vxs_test::ReadFile(hex);
    std::string path = vxs_test::TempDir() + "/h.txt";
    ASSERT_TRUE(vxs_test::WriteFile(path, b));
    Diags d0;
    auto ref = ReadAll(path, nullptr, &d0);
    ASSERT_EQ(ref.size(), 2u);
    b[10] = 0; // the reproduction: byte 10 is in the comment at the top
    ASSERT_TRUE(vxs_test::WriteFile(path, b));
    Diags d1;
    auto m1 = ReadAll(path, nullptr, &d1);
    EXPECT_EQ(m1.size(), 2u);
    EXPECT_TRUE(d1.msgs.empty());
    // a NUL in the first message's hex digits
    b = vxs_test::ReadFile(hex);
    const size_t at = static_cast<size_t>(ref[0].rec.loc.offset) + 8;
    b[at] = 0;
    ASSERT_TRUE(vxs_test::WriteFile(path, b));
    Diags d2;
    auto m2 = ReadAll(path, nullptr, &d2);
    ASSERT_EQ(m2.size(), 1u);
    EXPECT_EQ(m2[0].rec.loc.offset, ref[1].rec.loc.offset);
    EXPECT_EQ(m2[0].rec.loc.index, ref[1].rec.loc.index);
    ASSERT_EQ(d2.msgs.size(), 1u);
    EXPECT_NE(d2.msgs[0].find("(byte offset " + std::to_string(ref[0].rec.loc.offset) + ")"),
              std::string::npos)
        << d2.msgs[0];
}

TEST(V2xReader, TimesResolveAgainstTheReference) {
    vxs_v2x_msg_t m;
    vxs_v2x_msg_init(&m);
    m.sec_mark = 59990; // 10 ms before the minute
    vxs_time_t ref = vxs_time_from_civil(2024, 5, 1, 12, 1, 0, 20000000); // 12:01:00.020
    vxs_v2x_times_t t;
    vxs_v2x_resolve_times(&t, &m, ref);
    EXPECT_EQ(t.sec_mark, vxs_time_from_civil(2024, 5, 1, 12, 0, 59, 990000000));
    EXPECT_EQ(t.gen, t.sec_mark);
    m.moy = 0; // the first minute of the year, against a reference on 31 December
    m.sec_mark = 500;
    ref = vxs_time_from_civil(2023, 12, 31, 23, 59, 59, 900000000);
    vxs_v2x_resolve_times(&t, &m, ref);
    EXPECT_EQ(t.sec_mark, vxs_time_from_civil(2024, 1, 1, 0, 0, 0, 500000000));
    vxs_v2x_msg_init(&m);
    vxs_v2x_resolve_times(&t, &m, ref);
    EXPECT_EQ(t.gen, VXS_TIME_NONE);
}

} // namespace

// jpo-ode's UDP receiver tests: payloads as roadside units forward them, one hex line each. The
// BSM comes behind a 26-byte forwarding header and IEEE 1609.2 data, the PSM behind 3 bytes;
// the reader must find the same MessageFrame jpo-ode extracts (its "asn1" in *_expected.json)
// and decode it as if it had been given that frame alone.
TEST(V2xReader, ForwardedUdpPayloadsGiveTheFrameJpoOdeFinds) {
    const struct {
        const char *payload, *expected;
        int msg_id;
        uint32_t skipped;
    } cases[] = {
        {"BsmReceiverTest_ValidBSM.txt", "BsmReceiverTest_ValidBSM_expected.json", 20, 26},
        {"PsmReceiverTest_ValidPSM.txt", "PsmReceiverTest_ValidPSM_expected.json", 32, 3},
        {"SpatReceiverTest_ValidSPAT.txt", "SpatReceiverTest_ValidSPAT_expected.json", 19, 0},
        {"MapReceiverTest_ValidMAP.txt", "MapReceiverTest_ValidMAP_expected.json", 18, 0},
        {"TimReceiverTest_ValidTIM.txt", "TimReceiverTest_ValidTIM_expected.json", 31, 0},
        {"SsmReceiverTest_ValidSSM.txt", "SsmReceiverTest_ValidSSM_expected.json", 30, 0},
        {"SrmReceiverTest_ValidData.txt", "SrmReceiverTest_ExpectedOutput.json", 29, 0},
        {"SdsmReceiverTest_ValidSDSM.txt", "SdsmReceiverTest_ValidSDSM_expected.json", 41, 0},
    };
    for (const auto &c : cases) {
        VXS_SHARED_OR_SKIP(path, std::string("datasets/v2x/us/jpo-ode/udp/") + c.payload);
        VXS_SHARED_OR_SKIP(exp, std::string("datasets/v2x/us/jpo-ode/udp/") + c.expected);
        std::vector<uint8_t> j = vxs_test::ReadFile(exp);
        std::string js(j.begin(), j.end());
        size_t a = js.find("\"asn1\"");
        ASSERT_NE(a, std::string::npos) << c.expected;
        a = js.find('"', js.find(':', a)) + 1;
        std::vector<uint8_t> frame = vxs_test::HexBytes(js.substr(a, js.find('"', a) - a));
        ASSERT_FALSE(frame.empty());

        Diags d;
        vxs_v2x_counts_t counts;
        auto msgs = ReadAll(path, nullptr, &d, &counts);
        ASSERT_EQ(msgs.size(), 1u) << c.payload;
        EXPECT_TRUE(d.msgs.empty()) << c.payload << ": " << d.msgs[0];
        const vxs_v2x_msg_t &got = msgs[0].msg;
        EXPECT_EQ(got.msg_id, c.msg_id) << c.payload;
        EXPECT_EQ(msgs[0].link.header_skipped, c.skipped) << c.payload;

        // The frame jpo-ode extracted sits in the payload at or after the skipped header.
        std::vector<uint8_t> line = vxs_test::ReadFile(path);
        std::vector<uint8_t> payload = vxs_test::HexBytes(std::string(line.begin(), line.end()));
        auto at = std::search(payload.begin(), payload.end(), frame.begin(), frame.end());
        ASSERT_NE(at, payload.end()) << c.payload;
        EXPECT_GE(at - payload.begin(), (long)c.skipped) << c.payload;

        vxs_v2x_msg_t ref;
        char err[256] = "";
        ASSERT_EQ(vxs_v2x_decode_j2735(&ref, frame.data(), frame.size(), err, sizeof err), VXS_OK)
            << c.expected << ": " << err;
        EXPECT_EQ(got.decoded, ref.decoded) << c.payload;
        EXPECT_EQ(got.msg_cnt, ref.msg_cnt) << c.payload;
        EXPECT_EQ(got.sec_mark, ref.sec_mark) << c.payload;
        EXPECT_EQ(got.moy, ref.moy) << c.payload;
        EXPECT_EQ(got.station_id, ref.station_id) << c.payload;
        EXPECT_EQ(got.n_intersections, ref.n_intersections) << c.payload;
        EXPECT_EQ(std::isnan(got.lat_deg), std::isnan(ref.lat_deg)) << c.payload;
        if (!std::isnan(ref.lat_deg)) {
            EXPECT_EQ(got.lat_deg, ref.lat_deg) << c.payload;
        }
        const bool decodable = c.msg_id == 18 || c.msg_id == 19 || c.msg_id == 20 ||
                               c.msg_id == 31 || c.msg_id == 32;
        EXPECT_EQ(got.decoded, decodable) << c.payload;
    }
}
