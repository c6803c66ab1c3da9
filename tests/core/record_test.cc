// record_test.cc: records, buffers, the source/sink seams through fake vtables, clock domains.
#include <cmath>
#include <cstring>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "vxs_core.h"

namespace {

TEST(Record, KindNames) {
    EXPECT_STREQ(vxs_record_kind_name(VXS_REC_PACKET), "packet");
    EXPECT_STREQ(vxs_record_kind_name(VXS_REC_LIDAR_PACKET), "lidar_packet");
    EXPECT_STREQ(vxs_record_kind_name(VXS_REC_LIDAR_SWEEP), "lidar_sweep");
    EXPECT_STREQ(vxs_record_kind_name(VXS_REC_CAMERA_FRAME), "camera_frame");
    EXPECT_STREQ(vxs_record_kind_name(VXS_REC_V2X), "v2x");
    EXPECT_STREQ(vxs_record_kind_name(VXS_REC_IMU), "imu");
    EXPECT_STREQ(vxs_record_kind_name(VXS_REC_KIND_COUNT_), "unknown");
    EXPECT_STREQ(vxs_record_kind_name(static_cast<vxs_record_kind_t>(-1)), "unknown");
}

TEST(Record, Init) {
    vxs_record_t r;
    std::memset(&r, 0xAB, sizeof r);
    vxs_record_init(&r, VXS_REC_V2X);
    EXPECT_EQ(r.kind, VXS_REC_V2X);
    EXPECT_EQ(r.capture_time, VXS_TIME_NONE);
    EXPECT_EQ(r.device_time, VXS_TIME_NONE);
    EXPECT_EQ(r.agent, 0u);
    EXPECT_EQ(r.seq, 0u);
    EXPECT_FALSE(r.has_seq);
    EXPECT_EQ(r.loc.offset, 0u);
    EXPECT_EQ(r.u.v2x.sender_id, 0u);
    vxs_record_init(nullptr, VXS_REC_PACKET); // no crash
}

// ---- buffers ---------------------------------------------------------------------------------

TEST(Buf, SetAppendReserve) {
    vxs_buf_t b = {nullptr, 0, 0};
    ASSERT_EQ(vxs_buf_set(&b, "hello", 5), VXS_OK);
    EXPECT_EQ(b.len, 5u);
    EXPECT_GE(b.cap, 5u);
    EXPECT_EQ(std::memcmp(b.data, "hello", 5), 0);
    ASSERT_EQ(vxs_buf_append(&b, " world", 6), VXS_OK);
    EXPECT_EQ(std::string(reinterpret_cast<char *>(b.data), b.len), "hello world");
    ASSERT_EQ(vxs_buf_set(&b, "x", 1), VXS_OK);
    EXPECT_EQ(b.len, 1u);
    ASSERT_EQ(vxs_buf_set(&b, nullptr, 0), VXS_OK);
    EXPECT_EQ(b.len, 0u);
    ASSERT_EQ(vxs_buf_append(&b, nullptr, 0), VXS_OK);
    const size_t cap = b.cap;
    ASSERT_EQ(vxs_buf_reserve(&b, cap), VXS_OK);
    EXPECT_EQ(b.cap, cap);
    ASSERT_EQ(vxs_buf_reserve(&b, 100000), VXS_OK);
    EXPECT_GE(b.cap, 100000u);
    EXPECT_EQ(vxs_buf_set(&b, nullptr, 3), VXS_E_ARG);
    EXPECT_EQ(vxs_buf_append(nullptr, "a", 1), VXS_E_ARG);
    EXPECT_EQ(vxs_buf_reserve(nullptr, 1), VXS_E_ARG);
    vxs_buf_free(&b);
    EXPECT_EQ(b.data, nullptr);
    EXPECT_EQ(b.len, 0u);
    EXPECT_EQ(b.cap, 0u);
    vxs_buf_free(&b);      // twice is fine
    vxs_buf_free(nullptr); // NULL is fine
}

TEST(Buf, ManySmallAppends) {
    vxs_buf_t b = {nullptr, 0, 0};
    std::string expect;
    for (int i = 0; i < 5000; i++) {
        const char c = static_cast<char>('a' + i % 26);
        ASSERT_EQ(vxs_buf_append(&b, &c, 1), VXS_OK);
        expect.push_back(c);
    }
    EXPECT_EQ(std::string(reinterpret_cast<char *>(b.data), b.len), expect);
    vxs_buf_free(&b);
}

// Appending or setting from the buffer's own bytes works even when it has to grow.
TEST(Buf, SelfAliasing) {
    vxs_buf_t b = {nullptr, 0, 0};
    ASSERT_EQ(vxs_buf_set(&b, "abcdefgh", 8), VXS_OK);
    for (int i = 0; i < 6; i++) ASSERT_EQ(vxs_buf_append(&b, b.data, b.len), VXS_OK);
    ASSERT_EQ(b.len, 8u << 6);
    for (size_t i = 0; i < b.len; i++) ASSERT_EQ(b.data[i], "abcdefgh"[i % 8]) << i;
    ASSERT_EQ(vxs_buf_set(&b, b.data + 2, 3), VXS_OK);
    EXPECT_EQ(std::string(reinterpret_cast<char *>(b.data), b.len), "cde");
    vxs_buf_free(&b);
}

// ---- a fake source ---------------------------------------------------------------------------

struct FakeSource {
    std::vector<vxs_status_t> script; // what next returns, in order; then VXS_EOF
    size_t pos = 0;
    vxs_record_t rec;
    std::string msg;
    int *destroyed = nullptr;
    uint32_t kinds = 0;
};

vxs_status_t FakeNext(void *impl, const vxs_record_t **out) {
    auto *f = static_cast<FakeSource *>(impl);
    if (f->pos >= f->script.size()) return VXS_EOF;
    const vxs_status_t st = f->script[f->pos];
    vxs_record_init(&f->rec, VXS_REC_PACKET);
    f->rec.loc.index = f->pos;
    f->pos++;
    if (st != VXS_OK) {
        f->msg = "fake: unit " + std::to_string(f->pos) + ": " + vxs_strerror(st);
        return st;
    }
    *out = &f->rec;
    return VXS_OK;
}

vxs_status_t FakeFetch(void *impl, vxs_buf_t *out, const vxs_record_t *rec) {
    (void)impl;
    const std::string payload = "payload " + std::to_string(rec->loc.index);
    return vxs_buf_set(out, payload.data(), payload.size());
}

vxs_status_t FakeRewind(void *impl, uint32_t kinds) {
    auto *f = static_cast<FakeSource *>(impl);
    f->pos = 0;
    f->kinds = kinds;
    return VXS_OK;
}

uint64_t FakePosition(const void *impl, uint64_t *size) {
    auto *f = static_cast<const FakeSource *>(impl);
    if (size) *size = 100;
    return f->pos * 10;
}

const char *FakeErrmsg(const void *impl) { return static_cast<const FakeSource *>(impl)->msg.c_str(); }
const char *NullErrmsg(const void *) { return nullptr; }

void FakeDestroy(void *impl) {
    auto *f = static_cast<FakeSource *>(impl);
    if (f->destroyed) ++*f->destroyed;
    delete f;
}

const vxs_source_ops_t kFakeOps = {"fake",       FakeNext,   FakeFetch, FakeRewind,
                                   FakePosition, FakeErrmsg, FakeDestroy};
const vxs_source_ops_t kNoFetchOps = {"nofetch", FakeNext,   nullptr,    nullptr,
                                      nullptr,   NullErrmsg, FakeDestroy};

TEST(Source, ForwardsAndCountsErrors) {
    int destroyed = 0;
    auto *f = new FakeSource;
    f->script = {VXS_OK, VXS_E_MALFORMED, VXS_OK, VXS_E_TRUNCATED, VXS_OK};
    f->destroyed = &destroyed;
    vxs_source_t *s = nullptr;
    ASSERT_EQ(vxs_source_create(&s, &kFakeOps, f), VXS_OK);
    EXPECT_STREQ(vxs_source_name(s), "fake");
    EXPECT_EQ(vxs_source_impl(s), f);
    EXPECT_STREQ(vxs_source_errmsg(s), "");
    std::vector<uint64_t> indices;
    const vxs_record_t *rec = nullptr;
    vxs_status_t st;
    int errors = 0;
    while ((st = vxs_source_next(s, &rec)) != VXS_EOF) {
        if (st == VXS_OK) {
            indices.push_back(rec->loc.index);
        } else {
            errors++;
            EXPECT_NE(std::string(vxs_source_errmsg(s)).find("fake: unit"), std::string::npos);
        }
    }
    EXPECT_EQ(errors, 2);
    EXPECT_EQ(vxs_source_error_count(s), 2u);
    EXPECT_EQ(indices, (std::vector<uint64_t>{0, 2, 4}));
    // EOF again does not count.
    EXPECT_EQ(vxs_source_next(s, &rec), VXS_EOF);
    EXPECT_EQ(vxs_source_error_count(s), 2u);
    EXPECT_STREQ(vxs_source_errmsg(s), "fake: unit 4: input truncated");

    vxs_record_t r7;
    vxs_record_init(&r7, VXS_REC_PACKET);
    r7.loc = {0, 1, 7, 0};
    vxs_buf_t buf = {nullptr, 0, 0};
    ASSERT_EQ(vxs_source_fetch(s, &buf, &r7), VXS_OK);
    EXPECT_EQ(std::string(reinterpret_cast<char *>(buf.data), buf.len), "payload 7");
    EXPECT_EQ(vxs_source_fetch(s, &buf, nullptr), VXS_E_ARG);
    EXPECT_EQ(vxs_source_next(s, nullptr), VXS_E_ARG);
    // position and rewind forward to the vtable; rewind starts the script again.
    uint64_t size = 0;
    EXPECT_EQ(vxs_source_position(s, &size), 50u);
    EXPECT_EQ(size, 100u);
    ASSERT_EQ(vxs_source_rewind(s, VXS_REC_KIND_BIT(VXS_REC_PACKET)), VXS_OK);
    EXPECT_EQ(f->kinds, VXS_REC_KIND_BIT(VXS_REC_PACKET));
    ASSERT_EQ(vxs_source_next(s, &rec), VXS_OK);
    EXPECT_EQ(rec->loc.index, 0u);
    vxs_buf_free(&buf);
    EXPECT_EQ(destroyed, 0);
    vxs_source_destroy(s);
    EXPECT_EQ(destroyed, 1);
}

TEST(Source, NoFetchAndNullErrmsg) {
    int destroyed = 0;
    auto *f = new FakeSource;
    f->destroyed = &destroyed;
    vxs_source_t *s = nullptr;
    ASSERT_EQ(vxs_source_create(&s, &kNoFetchOps, f), VXS_OK);
    vxs_record_t r0;
    vxs_record_init(&r0, VXS_REC_PACKET);
    vxs_buf_t buf = {nullptr, 0, 0};
    EXPECT_EQ(vxs_source_fetch(s, &buf, &r0), VXS_E_UNSUPPORTED);
    EXPECT_EQ(vxs_source_rewind(s, 0), VXS_E_UNSUPPORTED);
    uint64_t size = 7;
    EXPECT_EQ(vxs_source_position(s, &size), 0u);
    EXPECT_EQ(size, 0u);
    EXPECT_STREQ(vxs_source_errmsg(s), ""); // impl returned NULL: still never NULL
    vxs_source_destroy(s);
    EXPECT_EQ(destroyed, 1);
}

TEST(Source, CreateArgumentsAndNullHandle) {
    auto *f = new FakeSource;
    vxs_source_t *s = reinterpret_cast<vxs_source_t *>(0x1);
    EXPECT_EQ(vxs_source_create(&s, nullptr, f), VXS_E_ARG);
    EXPECT_EQ(s, nullptr);
    const vxs_source_ops_t no_next = {"x", nullptr, nullptr, nullptr, nullptr, nullptr, FakeDestroy};
    EXPECT_EQ(vxs_source_create(&s, &no_next, f), VXS_E_ARG);
    EXPECT_EQ(vxs_source_create(nullptr, &kFakeOps, f), VXS_E_ARG);
    delete f; // still ours after every failure
    vxs_source_destroy(nullptr);
    EXPECT_STREQ(vxs_source_errmsg(nullptr), "");
    EXPECT_EQ(vxs_source_error_count(nullptr), 0u);
    EXPECT_EQ(vxs_source_impl(nullptr), nullptr);
}

// ---- a fake sink -----------------------------------------------------------------------------

struct FakeSink {
    std::vector<std::string> written;
    int finished = 0;
    bool committed = false; // "renamed into place"
    bool *abandoned = nullptr;
    bool fail_finish = false;
    std::string msg = "out.jsonl: ok";
};

vxs_status_t SinkWrite(void *impl, const vxs_record_t *rec, const void *payload, size_t len) {
    auto *k = static_cast<FakeSink *>(impl);
    k->written.push_back(std::string(vxs_record_kind_name(rec->kind)) + ":" +
                         std::string(static_cast<const char *>(payload ? payload : ""), len));
    return VXS_OK;
}

vxs_status_t SinkFinish(void *impl) {
    auto *k = static_cast<FakeSink *>(impl);
    k->finished++;
    if (k->fail_finish) {
        k->msg = "out.jsonl: fsync failed";
        return VXS_E_IO;
    }
    k->committed = true;
    return VXS_OK;
}

const char *SinkErrmsg(const void *impl) { return static_cast<const FakeSink *>(impl)->msg.c_str(); }

void SinkDestroy(void *impl) {
    auto *k = static_cast<FakeSink *>(impl);
    if (k->abandoned) *k->abandoned = !k->committed;
    delete k;
}

const vxs_sink_ops_t kSinkOps = {"fake_sink", SinkWrite, SinkFinish, SinkErrmsg, SinkDestroy};

TEST(Sink, WriteFinishOnce) {
    bool abandoned = true;
    auto *k = new FakeSink;
    k->abandoned = &abandoned;
    vxs_sink_t *s = nullptr;
    ASSERT_EQ(vxs_sink_create(&s, &kSinkOps, k), VXS_OK);
    EXPECT_EQ(vxs_sink_impl(s), k);
    vxs_record_t r;
    vxs_record_init(&r, VXS_REC_V2X);
    ASSERT_EQ(vxs_sink_write(s, &r, "abc", 3), VXS_OK);
    ASSERT_EQ(vxs_sink_write(s, &r, nullptr, 0), VXS_OK);
    EXPECT_EQ(vxs_sink_write(s, &r, nullptr, 4), VXS_E_ARG);
    EXPECT_EQ(vxs_sink_write(s, nullptr, "a", 1), VXS_E_ARG);
    EXPECT_EQ(k->written, (std::vector<std::string>{"v2x:abc", "v2x:"}));
    EXPECT_STREQ(vxs_sink_errmsg(s), "out.jsonl: ok");
    ASSERT_EQ(vxs_sink_finish(s), VXS_OK);
    EXPECT_EQ(vxs_sink_finish(s), VXS_E_STATE); // finish twice
    EXPECT_EQ(k->finished, 1);                  // the impl saw it once
    EXPECT_NE(std::string(vxs_sink_errmsg(s)).find("finished"), std::string::npos);
    EXPECT_EQ(vxs_sink_write(s, &r, "x", 1), VXS_E_STATE); // write after finish
    EXPECT_EQ(k->written.size(), 2u);
    vxs_sink_destroy(s);
    EXPECT_FALSE(abandoned);
}

TEST(Sink, FailedFinishStillEndsTheSink) {
    auto *k = new FakeSink;
    k->fail_finish = true;
    vxs_sink_t *s = nullptr;
    ASSERT_EQ(vxs_sink_create(&s, &kSinkOps, k), VXS_OK);
    EXPECT_EQ(vxs_sink_finish(s), VXS_E_IO);
    EXPECT_STREQ(vxs_sink_errmsg(s), "out.jsonl: fsync failed");
    EXPECT_EQ(vxs_sink_finish(s), VXS_E_STATE);
    EXPECT_EQ(k->finished, 1);
    vxs_sink_destroy(s);
}

TEST(Sink, DestroyBeforeFinishAbandons) {
    bool abandoned = false;
    auto *k = new FakeSink;
    k->abandoned = &abandoned;
    vxs_sink_t *s = nullptr;
    ASSERT_EQ(vxs_sink_create(&s, &kSinkOps, k), VXS_OK);
    vxs_record_t r;
    vxs_record_init(&r, VXS_REC_IMU);
    ASSERT_EQ(vxs_sink_write(s, &r, "p", 1), VXS_OK);
    vxs_sink_destroy(s); // impl destroyed exactly once, output not committed
    EXPECT_TRUE(abandoned);
    vxs_sink_destroy(nullptr);
    EXPECT_STREQ(vxs_sink_errmsg(nullptr), "");
    EXPECT_EQ(vxs_sink_finish(nullptr), VXS_E_ARG);
}

TEST(Sink, CreateArguments) {
    auto *k = new FakeSink;
    vxs_sink_t *s = reinterpret_cast<vxs_sink_t *>(0x1);
    EXPECT_EQ(vxs_sink_create(&s, nullptr, k), VXS_E_ARG);
    EXPECT_EQ(s, nullptr);
    const vxs_sink_ops_t no_finish = {"x", SinkWrite, nullptr, SinkErrmsg, SinkDestroy};
    EXPECT_EQ(vxs_sink_create(&s, &no_finish, k), VXS_E_ARG);
    delete k;
}

// ---- clock domains ---------------------------------------------------------------------------

TEST(ClockDomain, EqualAndFormat) {
    vxs_clock_domain_t a, b;
    std::memset(&a, 0, sizeof a);
    std::memset(&b, 0xEE, sizeof b); // different padding must not matter
    b.kind = VXS_CLOCK_SENDER;
    b.agent = 0;
    b.sensor = 0;
    b.station = 0x1234abcd;
    b.field = VXS_V2X_TF_1609_GEN;
    a.kind = VXS_CLOCK_SENDER;
    a.station = 0x1234abcd;
    a.field = VXS_V2X_TF_1609_GEN;
    EXPECT_TRUE(vxs_clock_domain_equal(&a, &b));
    b.field = VXS_V2X_TF_GEN_DELTA;
    EXPECT_FALSE(vxs_clock_domain_equal(&a, &b));
    EXPECT_TRUE(vxs_clock_domain_equal(nullptr, nullptr));
    EXPECT_FALSE(vxs_clock_domain_equal(&a, nullptr));

    char buf[64];
    EXPECT_STREQ(vxs_clock_domain_format(buf, sizeof buf, &a), "sender:0x1234abcd/1");
    vxs_clock_domain_t d = {VXS_CLOCK_REFERENCE, 0, 0, 0, VXS_V2X_TF_NONE};
    EXPECT_STREQ(vxs_clock_domain_format(buf, sizeof buf, &d), "reference");
    d = {VXS_CLOCK_LOGGER, 2, 0, 0, VXS_V2X_TF_NONE};
    EXPECT_STREQ(vxs_clock_domain_format(buf, sizeof buf, &d), "logger:2");
    d = {VXS_CLOCK_DEVICE, 2, 0, 0, VXS_V2X_TF_NONE};
    EXPECT_STREQ(vxs_clock_domain_format(buf, sizeof buf, &d), "device:2/0");
    d = {VXS_CLOCK_SENDER, 0, 0, UINT64_MAX, VXS_V2X_TF_GN_TST};
    EXPECT_STREQ(vxs_clock_domain_format(buf, sizeof buf, &d), "sender:0xffffffffffffffff/5");
    // the time fields' names, as clocks.json writes them
    EXPECT_STREQ(vxs_v2x_time_field_name(VXS_V2X_TF_NONE), "none");
    EXPECT_STREQ(vxs_v2x_time_field_name(VXS_V2X_TF_1609_GEN), "1609.2");
    EXPECT_STREQ(vxs_v2x_time_field_name(VXS_V2X_TF_GEN_DELTA), "generationDeltaTime");
    EXPECT_STREQ(vxs_v2x_time_field_name(VXS_V2X_TF_SEC_MARK), "secMark");
    EXPECT_STREQ(vxs_v2x_time_field_name(VXS_V2X_TF_ITS_TIME), "TimestampIts");
    EXPECT_STREQ(vxs_v2x_time_field_name(VXS_V2X_TF_GN_TST), "GN-TST");
    EXPECT_STREQ(vxs_v2x_time_field_name(VXS_V2X_TF_COUNT_), "unknown");
    EXPECT_EQ(vxs_v2x_time_field_resolution_ns(VXS_V2X_TF_1609_GEN), 1e3);
    EXPECT_EQ(vxs_v2x_time_field_resolution_ns(VXS_V2X_TF_SEC_MARK), 1e6);
    EXPECT_EQ(vxs_v2x_time_field_resolution_ns(VXS_V2X_TF_NONE), 0.0);
    char small[7];
    EXPECT_STREQ(vxs_clock_domain_format(small, sizeof small, &a), "sender");
    EXPECT_EQ(vxs_clock_domain_format(nullptr, 10, &a), nullptr);
}

TEST(AddrFormat, IPv4MappedAndIPv6) {
    char buf[VXS_ADDR_STRLEN];
    const uint8_t v4[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 192, 168, 1, 201};
    EXPECT_STREQ(vxs_addr_format(buf, sizeof buf, v4), "192.168.1.201");
    const uint8_t v6[16] = {0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
    EXPECT_STREQ(vxs_addr_format(buf, sizeof buf, v6), "fe80::1");
    const uint8_t longest[16] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
                                 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xfe};
    EXPECT_STREQ(vxs_addr_format(buf, sizeof buf, longest),
                 "ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffe");
    char tiny[4] = "xyz";
    EXPECT_STREQ(vxs_addr_format(tiny, sizeof tiny, v4), ""); // does not fit: empty, not cut
}

} // namespace
