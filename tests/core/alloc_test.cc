// alloc_test.cc: allocator hooks and allocation-failure injection (c-ares SetAllocFail).
#include <cstdint>
#include <cstdlib>
#include <cstring>

#include <gtest/gtest.h>

#include "test_util.h"
#include "vxs_core.h"

namespace {

struct Counts {
    int malloc_calls = 0, realloc_calls = 0, free_calls = 0;
};

void *CMalloc(void *opaque, size_t n) {
    static_cast<Counts *>(opaque)->malloc_calls++;
    return std::malloc(n);
}
void *CRealloc(void *opaque, void *p, size_t n) {
    static_cast<Counts *>(opaque)->realloc_calls++;
    return std::realloc(p, n);
}
void CFree(void *opaque, void *p) {
    static_cast<Counts *>(opaque)->free_calls++;
    std::free(p);
}

TEST(Alloc, HooksSeeEveryAllocation) {
    Counts c;
    const vxs_alloc_t a = {CMalloc, CRealloc, CFree, &c};
    vxs_set_allocator(&a);
    void *p = vxs_malloc(10);
    p = vxs_realloc(p, 20);
    char *s = vxs_strdup("abc");
    void *z = vxs_calloc(4, 4);
    vxs_free(p);
    vxs_free(s);
    vxs_free(z);
    vxs_free(nullptr); // not forwarded
    vxs_set_allocator(nullptr);
    EXPECT_EQ(c.malloc_calls, 3);
    EXPECT_EQ(c.realloc_calls, 1);
    EXPECT_EQ(c.free_calls, 3);
    // Restored: no more counting.
    vxs_free(vxs_malloc(1));
    EXPECT_EQ(c.malloc_calls, 3);
}

TEST(Alloc, IncompleteHooksFallBackToDefault) {
    Counts c;
    const vxs_alloc_t a = {CMalloc, nullptr, CFree, &c};
    vxs_set_allocator(&a);
    vxs_free(vxs_malloc(1));
    vxs_set_allocator(nullptr);
    EXPECT_EQ(c.malloc_calls, 0);
}

TEST(Alloc, ZeroSizesAndOverflow) {
    EXPECT_EQ(vxs_malloc(0), nullptr);
    EXPECT_EQ(vxs_calloc(0, 8), nullptr);
    EXPECT_EQ(vxs_calloc(8, 0), nullptr);
    EXPECT_EQ(vxs_calloc(SIZE_MAX / 2, 3), nullptr); // n*size wraps
    EXPECT_EQ(vxs_calloc(SIZE_MAX, SIZE_MAX), nullptr);
    auto *z = static_cast<unsigned char *>(vxs_calloc(16, 4));
    ASSERT_NE(z, nullptr);
    for (int i = 0; i < 64; i++) EXPECT_EQ(z[i], 0);
    // realloc(p, 0) frees and returns NULL (ASan would flag a leak otherwise).
    EXPECT_EQ(vxs_realloc(z, 0), nullptr);
    EXPECT_EQ(vxs_strdup(nullptr), nullptr);
    char *s = vxs_strdup("");
    ASSERT_NE(s, nullptr);
    EXPECT_STREQ(s, "");
    vxs_free(s);
}

TEST(Alloc, FailureInjection) {
    {
        vxs_test::FailAllocAfter fail(1);
        EXPECT_EQ(vxs_malloc(8), nullptr);
        EXPECT_EQ(vxs_strdup("x"), nullptr);
        EXPECT_EQ(vxs_calloc(2, 2), nullptr);
        EXPECT_TRUE(vxs_test::FailAllocAfter::Failed());
    }
    {
        vxs_test::FailAllocAfter fail(2);
        void *p = vxs_malloc(8);
        ASSERT_NE(p, nullptr);
        std::memcpy(p, "12345678", 8);
        void *q = vxs_realloc(p, 1 << 20); // fails: p stays valid and ours
        EXPECT_EQ(q, nullptr);
        EXPECT_EQ(std::memcmp(p, "12345678", 8), 0);
        vxs_free(p);
    }
}

// A failing reserve leaves the buffer exactly as it was.
TEST(Alloc, BufReserveFailureLeavesBufferIntact) {
    vxs_buf_t b = {nullptr, 0, 0};
    ASSERT_EQ(vxs_buf_set(&b, "keep me", 7), VXS_OK);
    const vxs_buf_t before = b;
    {
        vxs_test::FailAllocAfter fail(1);
        EXPECT_EQ(vxs_buf_reserve(&b, 1 << 16), VXS_E_NOMEM);
        EXPECT_EQ(vxs_buf_append(&b, "0123456789012345678901234567890123456789012345678901234567890123456789", 70),
                  VXS_E_NOMEM);
        std::string big(4096, 'z');
        EXPECT_EQ(vxs_buf_set(&b, big.data(), big.size()), VXS_E_NOMEM);
    }
    EXPECT_EQ(b.data, before.data);
    EXPECT_EQ(b.len, before.len);
    EXPECT_EQ(b.cap, before.cap);
    EXPECT_EQ(std::memcmp(b.data, "keep me", 7), 0);
    // A growing append fails whatever the attempt number, and the buffer survives each time.
    for (long n = 1; n <= 3; n++) {
        vxs_test::FailAllocAfter fail(n);
        std::string big(1000, 'q');
        for (int i = 0; i < 4 && vxs_buf_append(&b, big.data(), big.size()) == VXS_OK; i++) {
        }
        ASSERT_NE(b.data, nullptr);
        EXPECT_EQ(std::memcmp(b.data, "keep me", 7), 0);
    }
    vxs_buf_free(&b);
}

int g_impl_destroyed = 0;
vxs_status_t NextEof(void *, const vxs_record_t **) { return VXS_EOF; }
const char *NoMsg(const void *) { return ""; }
void CountDestroy(void *) { g_impl_destroyed++; }
vxs_status_t WriteOk(void *, const vxs_record_t *, const void *, size_t) { return VXS_OK; }
vxs_status_t FinishOk(void *) { return VXS_OK; }

// On allocation failure the impl is NOT destroyed: it stays the caller's.
TEST(Alloc, SourceAndSinkCreateFailureKeepsImpl) {
    static const vxs_source_ops_t src_ops = {"t", NextEof, nullptr, nullptr, nullptr, NoMsg, CountDestroy};
    static const vxs_sink_ops_t sink_ops = {"t", WriteOk, FinishOk, NoMsg, CountDestroy};
    int impl = 0;
    g_impl_destroyed = 0;
    {
        vxs_test::FailAllocAfter fail(1);
        vxs_source_t *s = reinterpret_cast<vxs_source_t *>(0x1);
        EXPECT_EQ(vxs_source_create(&s, &src_ops, &impl), VXS_E_NOMEM);
        EXPECT_EQ(s, nullptr);
        vxs_sink_t *k = reinterpret_cast<vxs_sink_t *>(0x1);
        EXPECT_EQ(vxs_sink_create(&k, &sink_ops, &impl), VXS_E_NOMEM);
        EXPECT_EQ(k, nullptr);
    }
    EXPECT_EQ(g_impl_destroyed, 0);
    vxs_source_t *s = nullptr;
    ASSERT_EQ(vxs_source_create(&s, &src_ops, &impl), VXS_OK);
    vxs_source_destroy(s);
    EXPECT_EQ(g_impl_destroyed, 1);
}

} // namespace
