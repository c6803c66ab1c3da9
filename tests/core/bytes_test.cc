// bytes_test.cc: the byte reader (vxs_rd_*) and the unaligned-PER bit reader (vxs_br_*).
#include <cstdint>
#include <cstring>
#include <functional>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "vxs_core.h"

namespace {

// ---- byte reader -----------------------------------------------------------------------------

struct Reader {
    const char *name;
    size_t need; // bytes the read consumes
    std::function<bool(vxs_rd_t *)> read;
};

std::vector<Reader> AllReaders() {
    return {
        {"u8", 1, [](vxs_rd_t *r) { uint8_t v; return vxs_rd_u8(r, &v); }},
        {"u16be", 2, [](vxs_rd_t *r) { uint16_t v; return vxs_rd_u16be(r, &v); }},
        {"u16le", 2, [](vxs_rd_t *r) { uint16_t v; return vxs_rd_u16le(r, &v); }},
        {"u24be", 3, [](vxs_rd_t *r) { uint32_t v; return vxs_rd_u24be(r, &v); }},
        {"u32be", 4, [](vxs_rd_t *r) { uint32_t v; return vxs_rd_u32be(r, &v); }},
        {"u32le", 4, [](vxs_rd_t *r) { uint32_t v; return vxs_rd_u32le(r, &v); }},
        {"u64be", 8, [](vxs_rd_t *r) { uint64_t v; return vxs_rd_u64be(r, &v); }},
        {"u64le", 8, [](vxs_rd_t *r) { uint64_t v; return vxs_rd_u64le(r, &v); }},
        {"skip5", 5, [](vxs_rd_t *r) { return vxs_rd_skip(r, 5); }},
        {"bytes7", 7, [](vxs_rd_t *r) { uint8_t b[7]; return vxs_rd_bytes(r, b, 7); }},
        {"ptr6", 6, [](vxs_rd_t *r) { const uint8_t *p; return vxs_rd_ptr(r, &p, 6); }},
        {"sub9", 9, [](vxs_rd_t *r) { vxs_rd_t s; return vxs_rd_sub(r, &s, 9); }},
        {"bytes0", 0, [](vxs_rd_t *r) { return vxs_rd_bytes(r, nullptr, 0); }},
    };
}

// Every reader at every length: success with exactly n bytes (and more), failure with n-1 or
// fewer, and a failed read leaves the reader unchanged.
TEST(ByteReader, EveryReaderAtEveryLength) {
    std::vector<uint8_t> data(16);
    for (size_t i = 0; i < data.size(); i++) data[i] = static_cast<uint8_t>(0xA0 + i);
    for (const auto &rd : AllReaders()) {
        for (size_t len = 0; len <= rd.need + 2; len++) {
            vxs_rd_t r = vxs_rd_init(data.data(), len);
            const vxs_rd_t before = r;
            const bool ok = rd.read(&r);
            if (len >= rd.need) {
                EXPECT_TRUE(ok) << rd.name << " len " << len;
                EXPECT_EQ(r.p, before.p + rd.need) << rd.name;
                EXPECT_EQ(r.len, len - rd.need) << rd.name;
            } else {
                EXPECT_FALSE(ok) << rd.name << " len " << len;
                EXPECT_EQ(r.p, before.p) << rd.name << " moved on failure";
                EXPECT_EQ(r.len, before.len) << rd.name << " changed on failure";
            }
        }
    }
}

TEST(ByteReader, Values) {
    // [0:8) 01 02 03 04 05 06 07 08
    const uint8_t d[] = {0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08};
    vxs_rd_t r = vxs_rd_init(d, sizeof d);
    uint16_t u16;
    uint32_t u32;
    uint64_t u64;
    uint8_t u8;
    ASSERT_TRUE(vxs_rd_u16be(&r, &u16));
    EXPECT_EQ(u16, 0x0102u);
    ASSERT_TRUE(vxs_rd_u16le(&r, &u16));
    EXPECT_EQ(u16, 0x0403u);
    ASSERT_TRUE(vxs_rd_u24be(&r, &u32));
    EXPECT_EQ(u32, 0x050607u);
    ASSERT_TRUE(vxs_rd_peek_u8(&r, 0, &u8));
    EXPECT_EQ(u8, 0x08u);
    EXPECT_FALSE(vxs_rd_peek_u8(&r, 1, &u8));
    EXPECT_EQ(vxs_rd_left(&r), 1u);

    r = vxs_rd_init(d, sizeof d);
    ASSERT_TRUE(vxs_rd_u32be(&r, &u32));
    EXPECT_EQ(u32, 0x01020304u);
    ASSERT_TRUE(vxs_rd_u32le(&r, &u32));
    EXPECT_EQ(u32, 0x08070605u);
    r = vxs_rd_init(d, sizeof d);
    ASSERT_TRUE(vxs_rd_u64be(&r, &u64));
    EXPECT_EQ(u64, UINT64_C(0x0102030405060708));
    r = vxs_rd_init(d, sizeof d);
    ASSERT_TRUE(vxs_rd_u64le(&r, &u64));
    EXPECT_EQ(u64, UINT64_C(0x0807060504030201));

    r = vxs_rd_init(d, sizeof d);
    uint8_t out[3];
    ASSERT_TRUE(vxs_rd_bytes(&r, out, 3));
    EXPECT_EQ(std::memcmp(out, d, 3), 0);
    const uint8_t *p = nullptr;
    ASSERT_TRUE(vxs_rd_ptr(&r, &p, 2));
    EXPECT_EQ(p, d + 3);
}

TEST(ByteReader, NullInitIsEmpty) {
    vxs_rd_t r = vxs_rd_init(nullptr, 100);
    EXPECT_EQ(vxs_rd_left(&r), 0u);
    uint8_t v;
    EXPECT_FALSE(vxs_rd_u8(&r, &v));
    EXPECT_TRUE(vxs_rd_skip(&r, 0));
}

// A nested parser given a sub-reader cannot read past its record, and the outer reader
// continues after it.
TEST(ByteReader, SubReaderIsBounded) {
    // [0:2) length 0x0003, [2:5) body, [5:7) next field 0xBEEF
    const uint8_t d[] = {0x00, 0x03, 0x11, 0x22, 0x33, 0xBE, 0xEF};
    vxs_rd_t r = vxs_rd_init(d, sizeof d), body;
    uint16_t n, next;
    ASSERT_TRUE(vxs_rd_u16be(&r, &n));
    ASSERT_TRUE(vxs_rd_sub(&r, &body, n));
    EXPECT_EQ(vxs_rd_left(&body), 3u);
    uint32_t u32;
    EXPECT_FALSE(vxs_rd_u32be(&body, &u32)); // 4 > 3 although the outer buffer has more
    EXPECT_EQ(vxs_rd_left(&body), 3u);
    ASSERT_TRUE(vxs_rd_u24be(&body, &u32));
    EXPECT_EQ(u32, 0x112233u);
    uint8_t b;
    EXPECT_FALSE(vxs_rd_u8(&body, &b));
    ASSERT_TRUE(vxs_rd_u16be(&r, &next));
    EXPECT_EQ(next, 0xBEEFu);
    // A length field larger than what is left: the sub-read fails and nothing moves.
    vxs_rd_t r2 = vxs_rd_init(d, sizeof d), body2 = {nullptr, 0};
    EXPECT_FALSE(vxs_rd_sub(&r2, &body2, 8));
    EXPECT_EQ(r2.len, sizeof d);
    EXPECT_EQ(body2.p, nullptr);
    // Zero-length sub-reader.
    ASSERT_TRUE(vxs_rd_sub(&r2, &body2, 0));
    EXPECT_EQ(vxs_rd_left(&body2), 0u);
    EXPECT_EQ(r2.len, sizeof d);
}

// ---- bit reader ------------------------------------------------------------------------------

// BitWriter builds UPER test vectors MSB first, independently of the reader.
class BitWriter {
  public:
    void Put(uint64_t v, unsigned n) {
        for (unsigned i = n; i-- > 0;) PutBit((v >> i) & 1u);
    }
    void PutBit(uint64_t bit) {
        if (nbits_ % 8 == 0) bytes_.push_back(0);
        if (bit) bytes_.back() = static_cast<uint8_t>(bytes_.back() | (0x80u >> (nbits_ % 8)));
        nbits_++;
    }
    const std::vector<uint8_t> &bytes() const { return bytes_; }
    size_t nbits() const { return nbits_; }

  private:
    std::vector<uint8_t> bytes_;
    size_t nbits_ = 0;
};

void ExpectUnchanged(const vxs_br_t &a, const vxs_br_t &b) {
    EXPECT_EQ(a.p, b.p);
    EXPECT_EQ(a.nbits, b.nbits);
    EXPECT_EQ(a.pos, b.pos);
}

TEST(BitReader, BitsAcrossByteBoundaries) {
    // 1010 0101 | 0011 1100
    const uint8_t d[] = {0xA5, 0x3C};
    vxs_br_t b = vxs_br_init(d, sizeof d);
    EXPECT_EQ(b.nbits, 16u);
    uint64_t v;
    ASSERT_TRUE(vxs_br_bits(&b, &v, 3));
    EXPECT_EQ(v, 5u); // 101
    ASSERT_TRUE(vxs_br_bits(&b, &v, 7));
    EXPECT_EQ(v, 20u); // 00101 00 = 0010100
    EXPECT_EQ(vxs_br_left(&b), 6u);
    const vxs_br_t before = b;
    EXPECT_FALSE(vxs_br_bits(&b, &v, 7));
    ExpectUnchanged(b, before);
    ASSERT_TRUE(vxs_br_bits(&b, &v, 6));
    EXPECT_EQ(v, 60u); // 111100
    ASSERT_TRUE(vxs_br_bits(&b, &v, 0));
    EXPECT_EQ(v, 0u);
    bool bit;
    EXPECT_FALSE(vxs_br_bool(&b, &bit));
}

TEST(BitReader, SixtyFourBitReads) {
    // 4 bits 1111, then 0x0123456789ABCDEF across 9 bytes, then 4 bits 0000
    const uint8_t d[] = {0xF0, 0x12, 0x34, 0x56, 0x78, 0x9A, 0xBC, 0xDE, 0xF0};
    vxs_br_t b = vxs_br_init(d, sizeof d);
    uint64_t v;
    ASSERT_TRUE(vxs_br_skip(&b, 4));
    ASSERT_TRUE(vxs_br_bits(&b, &v, 64));
    EXPECT_EQ(v, UINT64_C(0x0123456789ABCDEF));
    EXPECT_EQ(vxs_br_left(&b), 4u);
    // Aligned 64-bit read of all ones.
    const uint8_t ones[8] = {0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF};
    vxs_br_t b2 = vxs_br_init(ones, 8);
    ASSERT_TRUE(vxs_br_bits(&b2, &v, 64));
    EXPECT_EQ(v, UINT64_MAX);
    // More than 64 bits at once is refused, even with the bits available.
    vxs_br_t b3 = vxs_br_init(d, sizeof d);
    EXPECT_FALSE(vxs_br_bits(&b3, &v, 65));
    EXPECT_EQ(b3.pos, 0u);
}

TEST(BitReader, BoolAndSkip) {
    const uint8_t d[] = {0x40}; // 0100 0000
    vxs_br_t b = vxs_br_init(d, 1);
    bool bit = true;
    ASSERT_TRUE(vxs_br_bool(&b, &bit));
    EXPECT_FALSE(bit);
    ASSERT_TRUE(vxs_br_bool(&b, &bit));
    EXPECT_TRUE(bit);
    EXPECT_FALSE(vxs_br_skip(&b, 7));
    EXPECT_EQ(b.pos, 2u);
    EXPECT_TRUE(vxs_br_skip(&b, 6));
    EXPECT_EQ(vxs_br_left(&b), 0u);
    vxs_br_t e = vxs_br_init(nullptr, 10);
    EXPECT_EQ(vxs_br_left(&e), 0u);
}

// Every fixed-width read at every length: exactly n bits succeed, n-1 fail unchanged.
TEST(BitReader, EveryWidthAtEveryLength) {
    const std::vector<uint8_t> d(9, 0x5A);
    for (unsigned n = 1; n <= 64; n++) {
        for (unsigned start = 0; start < 8; start++) {
            vxs_br_t b = vxs_br_init(d.data(), d.size());
            b.nbits = start + n; // exactly enough
            b.pos = start;
            uint64_t v;
            EXPECT_TRUE(vxs_br_bits(&b, &v, n)) << n << "@" << start;
            b.nbits = start + n - 1;
            b.pos = start;
            const vxs_br_t before = b;
            EXPECT_FALSE(vxs_br_bits(&b, &v, n)) << n << "@" << start;
            ExpectUnchanged(b, before);
        }
    }
}

// X.691 §11.5.7.1: latitude in J2735/ETSI is INTEGER (-900000000..900000001): range
// 1800000002 values, ceil(log2(1800000002)) = 31 bits (2^30 = 1073741824 < range <= 2^31).
TEST(BitReader, ConsLatitude31Bits) {
    const int64_t lo = -900000000, hi = 900000001;
    for (int64_t lat : {lo, int64_t{-1}, int64_t{0}, int64_t{487654321}, hi}) {
        BitWriter w;
        w.Put(1, 1); // a presence bit in front, so the field is unaligned
        w.Put(static_cast<uint64_t>(lat - lo), 31);
        vxs_br_t b = vxs_br_init(w.bytes().data(), w.bytes().size());
        ASSERT_TRUE(vxs_br_skip(&b, 1));
        int64_t v = 12345;
        ASSERT_TRUE(vxs_br_cons(&b, &v, lo, hi)) << lat;
        EXPECT_EQ(v, lat);
        EXPECT_EQ(b.pos, 32u);
    }
    // 0 (lat 0) encodes as offset 900000000 = 0x35A4E900 in 31 bits: 0011 0101 1010 0100 1110
    // 1001 0000 000 -> shifted left by one bit into four bytes: 6B 49 D2 00.
    const uint8_t zero[] = {0x6B, 0x49, 0xD2, 0x00};
    vxs_br_t b = vxs_br_init(zero, sizeof zero);
    int64_t v;
    ASSERT_TRUE(vxs_br_cons(&b, &v, lo, hi));
    EXPECT_EQ(v, 0);
    EXPECT_EQ(vxs_br_left(&b), 1u);
}

TEST(BitReader, ConsValueAboveHiFails) {
    // Offset 1800000002 fits in 31 bits but is hi + 1.
    BitWriter w;
    w.Put(1800000002u, 31);
    vxs_br_t b = vxs_br_init(w.bytes().data(), w.bytes().size());
    const vxs_br_t before = b;
    int64_t v = 7;
    EXPECT_FALSE(vxs_br_cons(&b, &v, -900000000, 900000001));
    ExpectUnchanged(b, before);
    EXPECT_EQ(v, -900000000); // on failure the output is lo, never left unset
    // Heading 0..28800: 15 bits; 32767 is out of range.
    const uint8_t d[] = {0xFF, 0xFE};
    vxs_br_t b2 = vxs_br_init(d, 2);
    EXPECT_FALSE(vxs_br_cons(&b2, &v, 0, 28800));
    EXPECT_EQ(b2.pos, 0u);
}

TEST(BitReader, ConsLoEqualsHiReadsNothing) {
    const uint8_t d[] = {0xFF};
    vxs_br_t b = vxs_br_init(d, 1);
    int64_t v = 0;
    ASSERT_TRUE(vxs_br_cons(&b, &v, 42, 42));
    EXPECT_EQ(v, 42);
    EXPECT_EQ(b.pos, 0u);
    // Even with no bits left.
    vxs_br_t e = vxs_br_init(nullptr, 0);
    ASSERT_TRUE(vxs_br_cons(&e, &v, -5, -5));
    EXPECT_EQ(v, -5);
}

TEST(BitReader, ConsEdges) {
    const uint8_t d[] = {0x80, 0, 0, 0, 0, 0, 0, 0, 0};
    int64_t v;
    vxs_br_t b = vxs_br_init(d, sizeof d);
    EXPECT_FALSE(vxs_br_cons(&b, &v, 5, 4));                    // lo > hi
    EXPECT_FALSE(vxs_br_cons(&b, &v, INT64_MIN, INT64_MAX));    // needs 64 bits
    EXPECT_FALSE(vxs_br_cons(&b, &v, -1, INT64_MAX));           // range 2^63: 64 bits
    EXPECT_EQ(b.pos, 0u);
    ASSERT_TRUE(vxs_br_cons(&b, &v, 0, INT64_MAX)); // 63 bits: 1000...0 -> 2^62
    EXPECT_EQ(v, INT64_C(1) << 62);
    EXPECT_EQ(b.pos, 63u);
    vxs_br_t b2 = vxs_br_init(d, sizeof d);
    ASSERT_TRUE(vxs_br_cons(&b2, &v, INT64_MIN, -1)); // 63 bits, negative range
    EXPECT_EQ(v, INT64_MIN + (INT64_C(1) << 62));
    // Power-of-two range (0..3): 2 bits; 1 bit range (0..1).
    const uint8_t e[] = {0xC0}; // 11 0...
    vxs_br_t b3 = vxs_br_init(e, 1);
    ASSERT_TRUE(vxs_br_cons(&b3, &v, 0, 3));
    EXPECT_EQ(v, 3);
    ASSERT_TRUE(vxs_br_cons(&b3, &v, 10, 11));
    EXPECT_EQ(v, 10);
    // Truncated: 31 bits wanted, 30 available.
    vxs_br_t b4 = vxs_br_init(d, 4);
    b4.nbits = 30;
    EXPECT_FALSE(vxs_br_cons(&b4, &v, -900000000, 900000001));
    EXPECT_EQ(b4.pos, 0u);
}

TEST(BitReader, LengthDeterminant) {
    size_t n = 0;
    // One-octet form 0xxxxxxx.
    const uint8_t one[] = {0x05};
    vxs_br_t b = vxs_br_init(one, 1);
    ASSERT_TRUE(vxs_br_length(&b, &n));
    EXPECT_EQ(n, 5u);
    EXPECT_EQ(b.pos, 8u);
    const uint8_t max1[] = {0x7F};
    b = vxs_br_init(max1, 1);
    ASSERT_TRUE(vxs_br_length(&b, &n));
    EXPECT_EQ(n, 127u);
    // Two-octet form 10xxxxxx xxxxxxxx: 0x80 0x81 -> 129; 0xBF 0xFF -> 16383.
    const uint8_t two[] = {0x80, 0x81};
    b = vxs_br_init(two, 2);
    ASSERT_TRUE(vxs_br_length(&b, &n));
    EXPECT_EQ(n, 129u);
    EXPECT_EQ(b.pos, 16u);
    const uint8_t max2[] = {0xBF, 0xFF};
    b = vxs_br_init(max2, 2);
    ASSERT_TRUE(vxs_br_length(&b, &n));
    EXPECT_EQ(n, 16383u);
    // Truncated two-octet form fails unchanged.
    b = vxs_br_init(two, 1);
    vxs_br_t before = b;
    EXPECT_FALSE(vxs_br_length(&b, &n));
    ExpectUnchanged(b, before);
    // Fragmented form 11xxxxxx is rejected.
    const uint8_t frag[] = {0xC1, 0x00, 0x00};
    b = vxs_br_init(frag, 3);
    before = b;
    n = 99;
    EXPECT_FALSE(vxs_br_length(&b, &n));
    ExpectUnchanged(b, before);
    EXPECT_EQ(n, 99u);
    // Unaligned: 3 bits 101, then length 200 = 10 000000 11001000, then 5 bits.
    BitWriter w;
    w.Put(5, 3);
    w.Put(0x8000u | 200u, 16);
    w.Put(0, 5);
    b = vxs_br_init(w.bytes().data(), w.bytes().size());
    ASSERT_TRUE(vxs_br_skip(&b, 3));
    ASSERT_TRUE(vxs_br_length(&b, &n));
    EXPECT_EQ(n, 200u);
    EXPECT_EQ(b.pos, 19u);
    // Empty.
    b = vxs_br_init(nullptr, 0);
    EXPECT_FALSE(vxs_br_length(&b, &n));
}

TEST(BitReader, NormallySmallNonNegative) {
    uint64_t v = 0;
    // Short form: 0 + 6 bits (42 = 101010) -> 0101 010x
    const uint8_t s[] = {0x54};
    vxs_br_t b = vxs_br_init(s, 1);
    ASSERT_TRUE(vxs_br_nsnn(&b, &v));
    EXPECT_EQ(v, 42u);
    EXPECT_EQ(b.pos, 7u);
    // Truncated short form: 6 bits available after the 0.
    b = vxs_br_init(s, 1);
    b.nbits = 6;
    vxs_br_t before = b;
    EXPECT_FALSE(vxs_br_nsnn(&b, &v));
    ExpectUnchanged(b, before);
    // Long form: 1, length 1, octet 100 -> 1 0000000 1 0110010 0 (17 bits).
    BitWriter w;
    w.Put(1, 1);
    w.Put(1, 8);
    w.Put(100, 8);
    b = vxs_br_init(w.bytes().data(), w.bytes().size());
    ASSERT_TRUE(vxs_br_nsnn(&b, &v));
    EXPECT_EQ(v, 100u);
    EXPECT_EQ(b.pos, 17u);
    // Long form, 2 octets: 0x1234.
    BitWriter w2;
    w2.Put(1, 1);
    w2.Put(2, 8);
    w2.Put(0x1234, 16);
    b = vxs_br_init(w2.bytes().data(), w2.bytes().size());
    ASSERT_TRUE(vxs_br_nsnn(&b, &v));
    EXPECT_EQ(v, 0x1234u);
    // Truncated long form (one octet missing) fails unchanged.
    b = vxs_br_init(w2.bytes().data(), w2.bytes().size());
    b.nbits = 1 + 8 + 15;
    before = b;
    EXPECT_FALSE(vxs_br_nsnn(&b, &v));
    ExpectUnchanged(b, before);
    // Zero octets and more than 8 octets are rejected.
    for (unsigned len : {0u, 9u}) {
        BitWriter w3;
        w3.Put(1, 1);
        w3.Put(len, 8);
        for (unsigned i = 0; i < len; i++) w3.Put(0xAB, 8);
        b = vxs_br_init(w3.bytes().data(), w3.bytes().size());
        before = b;
        EXPECT_FALSE(vxs_br_nsnn(&b, &v)) << len;
        ExpectUnchanged(b, before);
    }
    // 8 octets: the maximum.
    BitWriter w4;
    w4.Put(1, 1);
    w4.Put(8, 8);
    w4.Put(UINT64_C(0xFEDCBA9876543210), 64);
    b = vxs_br_init(w4.bytes().data(), w4.bytes().size());
    ASSERT_TRUE(vxs_br_nsnn(&b, &v));
    EXPECT_EQ(v, UINT64_C(0xFEDCBA9876543210));
}

TEST(BitReader, OctetsAtUnalignedPosition) {
    // 3 bits 111, then DE AD BE, then 5 bits 00000.
    BitWriter w;
    w.Put(7, 3);
    w.Put(0xDEADBE, 24);
    w.Put(0, 5);
    vxs_br_t b = vxs_br_init(w.bytes().data(), w.bytes().size());
    ASSERT_TRUE(vxs_br_skip(&b, 3));
    uint8_t out[4] = {0, 0, 0, 0};
    vxs_br_t before = b;
    EXPECT_FALSE(vxs_br_octets(&b, out, 4)); // 29 bits left: 3 octets, not 4
    ExpectUnchanged(b, before);
    ASSERT_TRUE(vxs_br_octets(&b, out, 3));
    EXPECT_EQ(out[0], 0xDE);
    EXPECT_EQ(out[1], 0xAD);
    EXPECT_EQ(out[2], 0xBE);
    EXPECT_EQ(b.pos, 27u);
    ASSERT_TRUE(vxs_br_octets(&b, out, 0));
    // Aligned.
    const uint8_t d[] = {1, 2, 3};
    b = vxs_br_init(d, 3);
    ASSERT_TRUE(vxs_br_octets(&b, out, 3));
    EXPECT_EQ(std::memcmp(out, d, 3), 0);
    EXPECT_EQ(vxs_br_left(&b), 0u);
}

} // namespace
