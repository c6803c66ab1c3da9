// reasm_test.cc: the bounded IPv4 reassembler, fed with fragments decoded by vxs_pkt_decode
// from crafted raw IPv4 frames.
#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "test_util.h"
#include "vxs_sensors.h"

namespace {

using Bytes = std::vector<uint8_t>;

const vxs_time_t kT0 = INT64_C(1700000000000000000);
const int64_t kMs = VXS_NS_PER_MS;

// Datagram returns a UDP datagram (8-byte header + n payload bytes) 7502 -> 7502, the payload a
// counting pattern distinct per `seed`.
Bytes Datagram(size_t n, uint8_t seed) {
    Bytes d = {0x1d, 0x4e, 0x1d, 0x4e, 0, 0, 0, 0}; // [0:4) ports 7502 -> 7502
    size_t len = 8 + n;
    d[4] = static_cast<uint8_t>(len >> 8); // [4:6) UDP length
    d[5] = static_cast<uint8_t>(len);
    for (size_t i = 0; i < n; i++) d.push_back(static_cast<uint8_t>(i * 7 + seed));
    return d;
}

// Fragment builds a raw IPv4 frame carrying data[off, off+len) of the datagram.
Bytes Fragment(const Bytes &data, size_t off, size_t len, bool more, uint16_t id = 0x4242,
               uint8_t src_last = 2) {
    size_t total = 20 + len;
    uint16_t ff = static_cast<uint16_t>((more ? 0x2000 : 0) | (off / 8));
    Bytes f = {0x45, 0x00, static_cast<uint8_t>(total >> 8), static_cast<uint8_t>(total), // [0:4)
               static_cast<uint8_t>(id >> 8), static_cast<uint8_t>(id),                    // [4:6)
               static_cast<uint8_t>(ff >> 8), static_cast<uint8_t>(ff),                    // [6:8)
               0x40, 0x11, 0x00, 0x00,                                                     // [8:12)
               10, 0, 0, src_last,                                                         // [12:16)
               10, 0, 0, 1};                                                               // [16:20)
    f.insert(f.end(), data.begin() + static_cast<long>(off),
             data.begin() + static_cast<long>(off + len));
    return f;
}

// Frag is one fragment frame and its decode (whose payload points into `frame`).
struct Frag {
    Bytes frame;
    vxs_pkt_info_t info;
};

Frag MakeFrag(const Bytes &data, size_t off, size_t len, bool more, uint16_t id = 0x4242,
              uint8_t src_last = 2) {
    Frag f;
    f.frame = Fragment(data, off, len, more, id, src_last);
    char err[128];
    EXPECT_EQ(vxs_pkt_decode(&f.info, VXS_LINKTYPE_RAW, f.frame.data(), f.frame.size(),
                             f.frame.size(), err, sizeof err),
              VXS_OK)
        << err;
    EXPECT_EQ(f.info.kind, VXS_PL_FRAGMENT);
    return f;
}

// Split cuts `data` into fragments of `step` bytes (a multiple of 8).
std::vector<Frag> Split(const Bytes &data, size_t step, uint16_t id = 0x4242,
                        uint8_t src_last = 2) {
    std::vector<Frag> out;
    for (size_t off = 0; off < data.size(); off += step) {
        size_t len = std::min(step, data.size() - off);
        out.push_back(MakeFrag(data, off, len, off + len < data.size(), id, src_last));
    }
    return out;
}

class Reasm {
  public:
    explicit Reasm(const vxs_limits_t *lim = nullptr) {
        EXPECT_EQ(vxs_reasm_create(&r_, lim), VXS_OK);
    }
    ~Reasm() { vxs_reasm_destroy(r_); }
    vxs_reasm_t *get() { return r_; }

    // Add feeds one fragment; `index` doubles as its byte offset * 100.
    vxs_status_t Add(const Frag &f, uint64_t index, vxs_time_t ts = kT0) {
        done = false;
        err[0] = '\0';
        first_index = first_offset = ~0ull;
        return vxs_reasm_add(r_, &out, &done, &first_index, &first_offset, ts, index, index * 100,
                             &f.info, err, sizeof err);
    }
    vxs_reasm_stats_t Stats() const {
        vxs_reasm_stats_t s;
        vxs_reasm_get_stats(r_, &s);
        return s;
    }

    vxs_pkt_info_t out{};
    bool done = false;
    uint64_t first_index = 0, first_offset = 0;
    char err[256] = {};

  private:
    vxs_reasm_t *r_ = nullptr;
};

void ExpectDatagram(const Reasm &r, const Bytes &data) {
    ASSERT_TRUE(r.done);
    EXPECT_EQ(r.out.kind, VXS_PL_UDP);
    EXPECT_EQ(r.out.ip_version, 4);
    EXPECT_EQ(r.out.ip_proto, 17);
    EXPECT_EQ(r.out.src_port, 7502);
    EXPECT_EQ(r.out.dst_port, 7502);
    EXPECT_EQ(r.out.src_addr[10], 0xff);
    EXPECT_EQ(r.out.src_addr[12], 10);
    EXPECT_EQ(r.out.dst_addr[15], 1);
    ASSERT_EQ(r.out.payload_len, data.size() - 8);
    EXPECT_EQ(0, std::memcmp(r.out.payload, data.data() + 8, data.size() - 8));
    EXPECT_FALSE(r.out.snap_truncated);
}

TEST(ReasmOrder, InOrder) {
    Bytes data = Datagram(3000, 1);
    std::vector<Frag> fr = Split(data, 1480); // 1480 + 1480 + 48
    ASSERT_EQ(fr.size(), 3u);
    Reasm r;
    for (size_t i = 0; i < fr.size(); i++) {
        ASSERT_EQ(r.Add(fr[i], 10 + i), VXS_OK) << r.err;
        EXPECT_EQ(r.done, i + 1 == fr.size());
    }
    ExpectDatagram(r, data);
    EXPECT_EQ(r.out.ip_id, 0x4242);
    EXPECT_EQ(r.out.linktype, static_cast<uint32_t>(VXS_LINKTYPE_RAW));
    EXPECT_EQ(r.first_index, 10u);
    EXPECT_EQ(r.first_offset, 1000u);
    vxs_reasm_stats_t s = r.Stats();
    EXPECT_EQ(s.fragments, 3u);
    EXPECT_EQ(s.datagrams, 1u);
    EXPECT_EQ(s.pending, 0u);
    EXPECT_EQ(s.pending_bytes, 0u);
    EXPECT_EQ(s.dropped, 0u);
}

TEST(ReasmOrder, Reversed) {
    Bytes data = Datagram(4000, 2);
    std::vector<Frag> fr = Split(data, 1000);
    Reasm r;
    uint64_t idx = 20;
    for (size_t i = fr.size(); i-- > 0;) ASSERT_EQ(r.Add(fr[i], idx++), VXS_OK) << r.err;
    ExpectDatagram(r, data);
    EXPECT_EQ(r.first_index, 20u); // the earliest record, not the offset-0 fragment
}

TEST(ReasmOrder, EveryPermutationOfFour) {
    Bytes data = Datagram(3992, 3); // 4000 bytes: 4 fragments of 1000
    std::vector<Frag> fr = Split(data, 1000);
    ASSERT_EQ(fr.size(), 4u);
    std::vector<size_t> perm = {0, 1, 2, 3};
    int count = 0;
    Reasm r;
    do {
        for (size_t k = 0; k < perm.size(); k++) {
            ASSERT_EQ(r.Add(fr[perm[k]], 100 + perm[k]), VXS_OK) << r.err;
            EXPECT_EQ(r.done, k == 3);
        }
        ExpectDatagram(r, data);
        EXPECT_EQ(r.first_index, 100u);
        count++;
    } while (std::next_permutation(perm.begin(), perm.end()));
    EXPECT_EQ(count, 24);
    EXPECT_EQ(r.Stats().datagrams, 24u);
    EXPECT_EQ(r.Stats().pending, 0u);
}

TEST(ReasmOverlap, ConsistentOverlapAccepted) {
    Bytes data = Datagram(2992, 4); // 3000 bytes
    Reasm r;
    ASSERT_EQ(r.Add(MakeFrag(data, 0, 1480, true), 1), VXS_OK);
    ASSERT_EQ(r.Add(MakeFrag(data, 800, 1200, true), 2), VXS_OK); // [800, 2000) overlaps
    EXPECT_FALSE(r.done);
    ASSERT_EQ(r.Add(MakeFrag(data, 1600, 1400, false), 3), VXS_OK) << r.err;
    ExpectDatagram(r, data);
}

TEST(ReasmOverlap, ConflictingOverlapOneError) {
    Bytes data = Datagram(2992, 5);
    Bytes evil = data;
    evil[1000] ^= 0xff;
    Reasm r;
    ASSERT_EQ(r.Add(MakeFrag(data, 0, 1480, true), 1), VXS_OK);
    EXPECT_EQ(r.Add(MakeFrag(evil, 800, 1200, true), 2), VXS_E_MALFORMED);
    std::string err = r.err;
    EXPECT_NE(err.find("overlapping fragments disagree"), std::string::npos) << err;
    EXPECT_NE(err.find("id 0x4242"), std::string::npos) << err;
    EXPECT_NE(err.find("10.0.0.2 -> 10.0.0.1"), std::string::npos) << err;
    EXPECT_NE(err.find("packet 2"), std::string::npos) << err;
    // The rest of the datagram is swallowed silently.
    EXPECT_EQ(r.Add(MakeFrag(data, 1480, 1520, false), 3), VXS_OK);
    EXPECT_FALSE(r.done);
    EXPECT_EQ(r.Add(MakeFrag(data, 0, 1480, true), 4), VXS_OK);
    EXPECT_FALSE(r.done);
    vxs_reasm_stats_t s = r.Stats();
    EXPECT_EQ(s.dropped, 1u);
    EXPECT_EQ(s.pending, 0u);
    EXPECT_EQ(s.pending_bytes, 0u);
    vxs_reasm_lost_t lost;
    EXPECT_FALSE(vxs_reasm_pop_expired(r.get(), &lost, VXS_TIME_NONE));
    // After the timeout the same id is a new datagram again.
    std::vector<Frag> fr = Split(data, 1480);
    for (size_t i = 0; i < fr.size(); i++)
        ASSERT_EQ(r.Add(fr[i], 50 + i, kT0 + 6000 * kMs), VXS_OK) << r.err;
    ExpectDatagram(r, data);
}

TEST(ReasmOverlap, DifferentLastFragmentsMalformed) {
    Bytes data = Datagram(2992, 6);
    Reasm r;
    ASSERT_EQ(r.Add(MakeFrag(data, 1480, 1520, false), 1), VXS_OK);
    EXPECT_EQ(r.Add(MakeFrag(data, 1480, 800, false), 2), VXS_E_MALFORMED);
    EXPECT_NE(std::string(r.err).find("last fragment"), std::string::npos) << r.err;
    Reasm r2; // data past the end of a known last fragment
    ASSERT_EQ(r2.Add(MakeFrag(data, 800, 800, false), 1), VXS_OK); // "last" ends at 1600
    EXPECT_EQ(r2.Add(MakeFrag(data, 1600, 800, true), 2), VXS_E_MALFORMED);
    Reasm r3; // a last fragment ending before data already received
    ASSERT_EQ(r3.Add(MakeFrag(data, 0, 2400, true), 1), VXS_OK);
    EXPECT_EQ(r3.Add(MakeFrag(data, 800, 800, false), 2), VXS_E_MALFORMED);
    EXPECT_NE(std::string(r3.err).find("data past the last fragment's end"), std::string::npos)
        << r3.err;
}

TEST(ReasmOverlap, DuplicateFragment) {
    Bytes data = Datagram(2992, 7);
    std::vector<Frag> fr = Split(data, 1480);
    Reasm r;
    ASSERT_EQ(r.Add(fr[0], 1), VXS_OK);
    ASSERT_EQ(r.Add(fr[0], 2), VXS_OK); // retransmitted / captured twice
    ASSERT_EQ(r.Add(fr[1], 3), VXS_OK);
    EXPECT_FALSE(r.done);
    ASSERT_EQ(r.Add(fr[2], 4), VXS_OK);
    ExpectDatagram(r, data);
    EXPECT_EQ(r.Stats().datagrams, 1u);
}

TEST(ReasmExpiry, MissingLastFragmentReportedAfterTimeout) {
    Bytes data = Datagram(2992, 8);
    std::vector<Frag> fr = Split(data, 1480);
    vxs_limits_t lim;
    vxs_limits_default(&lim);
    lim.reasm_timeout_ns = 1000 * kMs;
    Reasm r(&lim);
    ASSERT_EQ(r.Add(fr[1], 7, kT0 + 10 * kMs), VXS_OK);
    ASSERT_EQ(r.Add(fr[0], 9, kT0 + 20 * kMs), VXS_OK);
    EXPECT_EQ(r.Stats().pending, 1u);
    EXPECT_GT(r.Stats().pending_bytes, 0u);
    vxs_reasm_lost_t lost;
    EXPECT_FALSE(vxs_reasm_pop_expired(r.get(), &lost, kT0 + 1010 * kMs)); // not older yet
    ASSERT_TRUE(vxs_reasm_pop_expired(r.get(), &lost, kT0 + 1011 * kMs));
    EXPECT_EQ(lost.first_index, 7u);
    EXPECT_EQ(lost.first_offset, 700u);
    EXPECT_EQ(lost.first_ts, kT0 + 10 * kMs);
    EXPECT_EQ(lost.ip_id, 0x4242);
    EXPECT_EQ(lost.fragments, 2u);
    EXPECT_EQ(lost.bytes, 2960u);
    EXPECT_EQ(lost.src_addr[15], 2);
    EXPECT_FALSE(vxs_reasm_pop_expired(r.get(), &lost, kT0 + 5000 * kMs));
    vxs_reasm_stats_t s = r.Stats();
    EXPECT_EQ(s.expired, 1u);
    EXPECT_EQ(s.pending, 0u);
    EXPECT_EQ(s.pending_bytes, 0u);
}

TEST(ReasmExpiry, EndOfInputPopsAllInFileOrder) {
    Bytes a = Datagram(2992, 9), b = Datagram(2992, 10);
    Reasm r;
    ASSERT_EQ(r.Add(MakeFrag(b, 0, 1480, true, 2), 30), VXS_OK);
    ASSERT_EQ(r.Add(MakeFrag(a, 0, 1480, true, 1), 12), VXS_OK);
    vxs_reasm_lost_t lost;
    ASSERT_TRUE(vxs_reasm_pop_expired(r.get(), &lost, VXS_TIME_NONE));
    EXPECT_EQ(lost.first_index, 12u);
    ASSERT_TRUE(vxs_reasm_pop_expired(r.get(), &lost, VXS_TIME_NONE));
    EXPECT_EQ(lost.first_index, 30u);
    EXPECT_FALSE(vxs_reasm_pop_expired(r.get(), &lost, VXS_TIME_NONE));
}

TEST(ReasmExpiry, SnapTruncatedLastFragmentNeverCompletes) {
    Bytes data = Datagram(2992, 11);
    std::vector<Frag> fr = Split(data, 1480);
    Reasm r;
    ASSERT_EQ(r.Add(fr[0], 1), VXS_OK);
    ASSERT_EQ(r.Add(fr[1], 2), VXS_OK);
    Frag cut;
    cut.frame = fr[2].frame;
    ASSERT_EQ(vxs_pkt_decode(&cut.info, VXS_LINKTYPE_RAW, cut.frame.data(), 30, cut.frame.size(),
                             nullptr, 0),
              VXS_OK);
    ASSERT_TRUE(cut.info.snap_truncated);
    ASSERT_EQ(r.Add(cut, 3), VXS_OK);
    EXPECT_FALSE(r.done);
    vxs_reasm_lost_t lost;
    ASSERT_TRUE(vxs_reasm_pop_expired(r.get(), &lost, VXS_TIME_NONE));
    EXPECT_EQ(lost.fragments, 3u);
}

// Largest resize seen by the allocator hooks below: datagram buffers (and the slot array) grow
// through vxs_realloc; plain mallocs are the fixed-size reassembler object.
size_t g_max_alloc = 0;
void *CountMalloc(void *, size_t n) { return std::malloc(n); }
void *CountRealloc(void *, void *p, size_t n) {
    g_max_alloc = std::max(g_max_alloc, n);
    return std::realloc(p, n);
}
void CountFree(void *, void *p) { std::free(p); }

TEST(ReasmLimits, OversizedDatagramRejectedBeforeAllocating) {
    vxs_limits_t lim;
    vxs_limits_default(&lim);
    lim.reasm_max_bytes = 2000;
    lim.reasm_max_pending = 2; // keeps the slot array itself small
    Bytes data = Datagram(2992, 12);
    vxs_alloc_t a = {CountMalloc, CountRealloc, CountFree, nullptr};
    g_max_alloc = 0;
    vxs_set_allocator(&a);
    {
        Reasm r(&lim);
        ASSERT_EQ(r.Add(MakeFrag(data, 0, 1480, true), 1), VXS_OK);
        EXPECT_EQ(r.Add(MakeFrag(data, 1480, 1480, true), 2), VXS_E_LIMIT);
        EXPECT_NE(std::string(r.err).find("limit 2000"), std::string::npos) << r.err;
        EXPECT_EQ(r.Add(MakeFrag(data, 2960, 40, false), 3), VXS_OK); // swallowed
        EXPECT_FALSE(r.done);
        // A single fragment claiming the top of the offset space is refused outright.
        EXPECT_EQ(r.Add(MakeFrag(data, 0, 8, true, 0x9999), 4), VXS_OK);
        Frag far = MakeFrag(data, 0, 64, true, 0x7777);
        far.info.frag_offset = 65528;
        EXPECT_EQ(r.Add(far, 5), VXS_E_LIMIT);
        vxs_reasm_stats_t s = r.Stats();
        EXPECT_EQ(s.dropped, 2u);
        EXPECT_EQ(s.pending, 1u);
    }
    vxs_set_allocator(nullptr);
    EXPECT_LE(g_max_alloc, 2000u);
    EXPECT_GT(g_max_alloc, 0u);
}

TEST(ReasmLimits, TooManyPending) {
    vxs_limits_t lim;
    vxs_limits_default(&lim);
    lim.reasm_max_pending = 2;
    Bytes a = Datagram(2992, 13), b = Datagram(2992, 14), c = Datagram(2992, 15);
    std::vector<Frag> fa = Split(a, 1480, 1), fb = Split(b, 1480, 2), fc = Split(c, 1480, 3);
    Reasm r(&lim);
    ASSERT_EQ(r.Add(fa[0], 1), VXS_OK);
    ASSERT_EQ(r.Add(fb[0], 2), VXS_OK);
    EXPECT_EQ(r.Add(fc[0], 3), VXS_E_LIMIT);
    EXPECT_NE(std::string(r.err).find("2 datagrams already pending"), std::string::npos)
        << r.err;
    EXPECT_EQ(r.Add(fc[1], 4), VXS_OK); // the dropped datagram does not error twice
    ASSERT_EQ(r.Add(fa[1], 5), VXS_OK);
    ASSERT_EQ(r.Add(fa[2], 6), VXS_OK);
    ExpectDatagram(r, a);
    ASSERT_EQ(r.Add(fb[1], 7), VXS_OK);
    ASSERT_EQ(r.Add(fb[2], 8), VXS_OK);
    ExpectDatagram(r, b);
    EXPECT_EQ(r.Add(fc[2], 9), VXS_OK);
    EXPECT_FALSE(r.done);
    vxs_reasm_stats_t s = r.Stats();
    EXPECT_EQ(s.dropped, 1u);
    EXPECT_EQ(s.datagrams, 2u);
    EXPECT_EQ(s.pending, 0u);
}

TEST(ReasmKeys, InterleavedSourcesSameId) {
    Bytes a = Datagram(4000, 16), b = Datagram(4000, 17);
    std::vector<Frag> fa = Split(a, 1480, 0x1111, 2), fb = Split(b, 1480, 0x1111, 3);
    ASSERT_EQ(fa.size(), fb.size());
    Reasm r;
    int done = 0;
    for (size_t i = 0; i < fa.size(); i++) {
        ASSERT_EQ(r.Add(fb[i], 2 * i), VXS_OK) << r.err;
        if (r.done) {
            ExpectDatagram(r, b);
            EXPECT_EQ(r.out.src_addr[15], 3);
            EXPECT_EQ(r.first_index, 0u);
            done++;
        }
        ASSERT_EQ(r.Add(fa[i], 2 * i + 1), VXS_OK) << r.err;
        if (r.done) {
            ExpectDatagram(r, a);
            EXPECT_EQ(r.out.src_addr[15], 2);
            EXPECT_EQ(r.first_index, 1u);
            done++;
        }
    }
    EXPECT_EQ(done, 2);
}

TEST(ReasmErrors, BadArgumentsAndBadDatagram) {
    Reasm r;
    vxs_pkt_info_t info;
    std::memset(&info, 0, sizeof info);
    vxs_pkt_info_t out;
    bool done;
    EXPECT_EQ(vxs_reasm_add(r.get(), &out, &done, nullptr, nullptr, kT0, 0, 0, &info, nullptr, 0),
              VXS_E_ARG);
    // Fragments of a datagram whose UDP length lies: the completed datagram fails to decode.
    Bytes data = Datagram(2992, 18);
    data[4] = 0xff;
    std::vector<Frag> fr = Split(data, 1480);
    ASSERT_EQ(r.Add(fr[0], 1), VXS_OK);
    ASSERT_EQ(r.Add(fr[1], 2), VXS_OK);
    EXPECT_EQ(r.Add(fr[2], 3), VXS_E_TRUNCATED);
    EXPECT_FALSE(r.done);
    EXPECT_NE(std::string(r.err).find("UDP header at frame offset 20"), std::string::npos)
        << r.err;
    EXPECT_EQ(r.Stats().pending, 0u);
    vxs_reasm_destroy(nullptr);
}

TEST(ReasmAlloc, FailureGivesNomemAndNoLeak) {
    Bytes data = Datagram(6000, 19);
    std::vector<Frag> fr = Split(data, 1480);
    bool saw_nomem = false, saw_success = false;
    for (long n = 1; n < 40 && !saw_success; n++) {
        vxs_test::FailAllocAfter fail(n);
        vxs_reasm_t *r = nullptr;
        vxs_status_t st = vxs_reasm_create(&r, nullptr);
        if (st == VXS_E_NOMEM) {
            EXPECT_EQ(r, nullptr);
            saw_nomem = true;
            continue;
        }
        ASSERT_EQ(st, VXS_OK);
        bool done = false;
        vxs_pkt_info_t out;
        for (size_t i = 0; i < fr.size(); i++) {
            st = vxs_reasm_add(r, &out, &done, nullptr, nullptr, kT0, i, i, &fr[i].info, nullptr,
                               0);
            if (st == VXS_E_NOMEM) {
                saw_nomem = true;
                // Retrying after a failure (allocation still failing) keeps failing cleanly.
                EXPECT_EQ(vxs_reasm_add(r, &out, &done, nullptr, nullptr, kT0, i, i,
                                        &fr[i].info, nullptr, 0),
                          VXS_E_NOMEM);
                break;
            }
            ASSERT_EQ(st, VXS_OK);
        }
        if (done) saw_success = true;
        vxs_reasm_destroy(r); // LeakSanitizer checks the rest
    }
    EXPECT_TRUE(saw_nomem);
    EXPECT_TRUE(saw_success);
}

} // namespace
