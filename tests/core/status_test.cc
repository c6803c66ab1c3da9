// status_test.cc: the status list, messages, names, version, log, progress, diagnostics, limits
// and the internal helpers of vxs_core_int.h.
#include <cstring>
#include <set>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "test_util.h"
#include "vxs_core.h"
#include "vxs_core_int.h"

namespace {

struct StatusInfo {
    vxs_status_t st;
    int value;
    const char *msg;
};

const std::vector<StatusInfo> &AllStatuses() {
    static const std::vector<StatusInfo> v = {
#define X(name, value, msg) {name, value, msg},
        VXS_STATUS_LIST(X)
#undef X
    };
    return v;
}

// Every code has a distinct, non-empty message and name (the idea of curl's test1477.pl).
TEST(Status, EveryCodeHasDistinctMessageAndName) {
    std::set<std::string> msgs, names;
    std::set<int> values;
    for (const auto &s : AllStatuses()) {
        const char *m = vxs_strerror(s.st);
        const char *n = vxs_status_name(s.st);
        ASSERT_NE(m, nullptr);
        ASSERT_NE(n, nullptr);
        EXPECT_GT(std::strlen(m), 0u);
        EXPECT_STREQ(m, s.msg);
        EXPECT_STRNE(m, "unknown status") << n;
        EXPECT_EQ(std::strncmp(n, "VXS_", 4), 0) << n;
        EXPECT_TRUE(msgs.insert(m).second) << "duplicate message " << m;
        EXPECT_TRUE(names.insert(n).second) << "duplicate name " << n;
        EXPECT_TRUE(values.insert(s.value).second) << "duplicate number " << s.value;
        EXPECT_EQ(static_cast<int>(s.st), s.value);
    }
    EXPECT_EQ(msgs.size(), AllStatuses().size());
}

TEST(Status, KnownValues) {
    EXPECT_STREQ(vxs_strerror(VXS_E_TRUNCATED), "input truncated");
    EXPECT_STREQ(vxs_status_name(VXS_E_TRUNCATED), "VXS_E_TRUNCATED");
    EXPECT_STREQ(vxs_status_name(VXS_OK), "VXS_OK");
    EXPECT_STREQ(vxs_strerror(VXS_EOF), "end of stream");
}

TEST(Status, UnknownValues) {
    for (int v : {-1, 2, 9, 99, 1000}) {
        EXPECT_STREQ(vxs_strerror(static_cast<vxs_status_t>(v)), "unknown status") << v;
        EXPECT_STREQ(vxs_status_name(static_cast<vxs_status_t>(v)), "VXS_E_UNKNOWN") << v;
    }
}

TEST(Version, MatchesCMakeProjectVersion) {
    const char *v = vxs_version();
    ASSERT_NE(v, nullptr);
    EXPECT_STREQ(v, VXS_VERSION_STRING);
    int a = -1, b = -1, c = -1;
    char tail = 0;
    EXPECT_EQ(std::sscanf(v, "%d.%d.%d%c", &a, &b, &c, &tail), 3) << v;
}

// ---- logging -----------------------------------------------------------------------------

struct Captured {
    std::vector<std::pair<vxs_log_level_t, std::string>> msgs;
};

void Capture(void *user, vxs_log_level_t level, const char *msg) {
    static_cast<Captured *>(user)->msgs.emplace_back(level, msg);
}

class LogTest : public ::testing::Test {
  protected:
    void SetUp() override {
        saved_ = vxs_log_get_level();
        vxs_log_set_handler(Capture, &cap_);
    }
    void TearDown() override {
        vxs_log_set_handler(nullptr, nullptr);
        vxs_log_set_level(saved_);
    }
    Captured cap_;
    vxs_log_level_t saved_ = VXS_LOG_WARN;
};

TEST_F(LogTest, DefaultLevelIsWarn) {
    // No test in this binary changes the level without restoring it.
    EXPECT_EQ(vxs_log_get_level(), VXS_LOG_WARN);
}

TEST_F(LogTest, LevelFilters) {
    vxs_log_set_level(VXS_LOG_WARN);
    vxs_log(VXS_LOG_ERROR, "e %d", 1);
    vxs_log(VXS_LOG_WARN, "w %s", "x");
    vxs_log(VXS_LOG_INFO, "i");
    vxs_log(VXS_LOG_DEBUG, "d");
    ASSERT_EQ(cap_.msgs.size(), 2u);
    EXPECT_EQ(cap_.msgs[0].first, VXS_LOG_ERROR);
    EXPECT_EQ(cap_.msgs[0].second, "e 1");
    EXPECT_EQ(cap_.msgs[1].first, VXS_LOG_WARN);
    EXPECT_EQ(cap_.msgs[1].second, "w x");
    vxs_log_set_level(VXS_LOG_DEBUG);
    EXPECT_EQ(vxs_log_get_level(), VXS_LOG_DEBUG);
    vxs_log(VXS_LOG_DEBUG, "d");
    EXPECT_EQ(cap_.msgs.size(), 3u);
    vxs_log_set_level(VXS_LOG_ERROR);
    vxs_log(VXS_LOG_WARN, "w");
    EXPECT_EQ(cap_.msgs.size(), 3u);
}

TEST_F(LogTest, LongMessagesAreCutAt1023Bytes) {
    const std::string big(5000, 'a');
    vxs_log(VXS_LOG_ERROR, "%s", big.c_str());
    ASSERT_EQ(cap_.msgs.size(), 1u);
    EXPECT_EQ(cap_.msgs[0].second, std::string(1023, 'a'));
}

TEST_F(LogTest, LevelNames) {
    EXPECT_STREQ(vxs_level_name(VXS_LOG_ERROR), "error");
    EXPECT_STREQ(vxs_level_name(VXS_LOG_WARN), "warning");
    EXPECT_STREQ(vxs_level_name(VXS_LOG_INFO), "info");
    EXPECT_STREQ(vxs_level_name(VXS_LOG_DEBUG), "debug");
    EXPECT_NE(vxs_level_name(static_cast<vxs_log_level_t>(42)), nullptr);
}

TEST(LogDefault, WritesToStderrWithPrefix) {
    vxs_log_set_handler(nullptr, nullptr);
    testing::internal::CaptureStderr();
    vxs_log(VXS_LOG_WARN, "disk %s", "full");
    vxs_log(VXS_LOG_DEBUG, "hidden");
    const std::string err = testing::internal::GetCapturedStderr();
    EXPECT_EQ(err, "v2xsync: warning: disk full\n");
}

// ---- progress, diagnostics, limits -------------------------------------------------------------

int StopAfter(void *user, uint64_t done, uint64_t total) {
    auto *calls = static_cast<std::vector<std::pair<uint64_t, uint64_t>> *>(user);
    calls->emplace_back(done, total);
    return done >= 10 ? 1 : 0;
}

TEST(Progress, Report) {
    std::vector<std::pair<uint64_t, uint64_t>> calls;
    const vxs_progress_t p = {StopAfter, &calls};
    EXPECT_EQ(vxs_progress_report(&p, 5, 100), VXS_OK);
    EXPECT_EQ(vxs_progress_report(&p, 10, 0), VXS_E_CANCELED);
    ASSERT_EQ(calls.size(), 2u);
    EXPECT_EQ(calls[0], std::make_pair(uint64_t{5}, uint64_t{100}));
    EXPECT_EQ(calls[1], std::make_pair(uint64_t{10}, uint64_t{0}));
    const vxs_progress_t none = {nullptr, nullptr};
    EXPECT_EQ(vxs_progress_report(&none, 99, 1), VXS_OK);
    EXPECT_EQ(vxs_progress_report(nullptr, 99, 1), VXS_OK);
}

void CollectDiag(void *user, const vxs_diag_t *d) {
    static_cast<std::vector<std::string> *>(user)->push_back(std::string(d->msg) + "|" +
                                                            std::to_string(d->unit));
}

TEST(Diag, GoesToSinkOrToWarningLog) {
    std::vector<std::string> got;
    const vxs_diag_sink_t sink = {CollectDiag, &got};
    const vxs_diag_t d = {"f.pcap", 12, 1844, VXS_E_TRUNCATED,
                          "f.pcap: packet 12 (byte offset 1844): caplen 70000 > limit 65535"};
    vxs_diag_emit(&sink, &d);
    ASSERT_EQ(got.size(), 1u);
    EXPECT_EQ(got[0], std::string(d.msg) + "|12");

    Captured cap;
    vxs_log_set_handler(Capture, &cap);
    const vxs_diag_sink_t no_fn = {nullptr, nullptr};
    vxs_diag_emit(&no_fn, &d);
    vxs_diag_emit(nullptr, &d);
    vxs_diag_emit(&sink, nullptr); // ignored
    vxs_log_set_handler(nullptr, nullptr);
    ASSERT_EQ(cap.msgs.size(), 2u);
    EXPECT_EQ(cap.msgs[0].first, VXS_LOG_WARN);
    EXPECT_EQ(cap.msgs[0].second, d.msg);
    EXPECT_EQ(got.size(), 1u);
}

TEST(Limits, Defaults) {
    vxs_limits_t l;
    std::memset(&l, 0xff, sizeof l);
    vxs_limits_default(&l);
    EXPECT_EQ(l.max_record, 262144u);
    EXPECT_EQ(l.max_frame, 256u * 1024u * 1024u);
    EXPECT_EQ(l.max_sources, 1024u);
    EXPECT_EQ(l.reasm_max_bytes, 65535u);
    EXPECT_EQ(l.reasm_max_pending, 256u);
    EXPECT_EQ(l.reasm_timeout_ns, 5 * VXS_NS_PER_S);
    vxs_limits_default(nullptr); // no crash
}

// ---- vxs_core_int.h --------------------------------------------------------------------------

TEST(Internal, FmtTruncatesAndReportsStored) {
    char buf[8];
    EXPECT_EQ(vxsi_fmt(buf, sizeof buf, "%d", 12345), 5u);
    EXPECT_STREQ(buf, "12345");
    EXPECT_EQ(vxsi_fmt(buf, sizeof buf, "%s", "0123456789"), 7u);
    EXPECT_STREQ(buf, "0123456");
    size_t n = vxsi_fmt(buf, sizeof buf, "ab");
    n += vxsi_fmt(buf + n, sizeof buf - n, "cdefghij");
    EXPECT_EQ(n, 7u);
    EXPECT_STREQ(buf, "abcdefg");
    EXPECT_EQ(vxsi_fmt(buf + n, sizeof buf - n, "x"), 0u); // only the NUL fits
    EXPECT_EQ(vxsi_fmt(nullptr, 0, "x"), 0u);
}

vxs_status_t ReturnIf(int x) {
    VXS_RETURN_IF(x < 0, VXS_E_ARG);
    VXS_RETURN_IF(x > 100, VXS_E_LIMIT);
    return VXS_OK;
}

int g_evaluated = 0;
vxs_status_t Counted(vxs_status_t st) {
    g_evaluated++;
    return st;
}

vxs_status_t Forward(vxs_status_t st) {
    VXS_FORWARD(Counted(st));
    return VXS_E_IO; // marks "did not return early"
}

TEST(Internal, ReturnIfAndForward) {
    EXPECT_EQ(ReturnIf(-1), VXS_E_ARG);
    EXPECT_EQ(ReturnIf(101), VXS_E_LIMIT);
    EXPECT_EQ(ReturnIf(5), VXS_OK);
    g_evaluated = 0;
    EXPECT_EQ(Forward(VXS_OK), VXS_E_IO);
    EXPECT_EQ(Forward(VXS_E_MALFORMED), VXS_E_MALFORMED);
    EXPECT_EQ(Forward(VXS_EOF), VXS_EOF);
    EXPECT_EQ(g_evaluated, 3); // once per call, never twice
}

#ifndef NDEBUG
TEST(Internal, DebugBuildsLogTheFailingCondition) {
    Captured cap;
    vxs_log_set_handler(Capture, &cap);
    vxs_log_set_level(VXS_LOG_DEBUG);
    EXPECT_EQ(ReturnIf(-1), VXS_E_ARG);
    EXPECT_EQ(Forward(VXS_E_MALFORMED), VXS_E_MALFORMED);
    vxs_log_set_level(VXS_LOG_WARN);
    vxs_log_set_handler(nullptr, nullptr);
    ASSERT_EQ(cap.msgs.size(), 2u);
    EXPECT_NE(cap.msgs[0].second.find("status_test.cc:"), std::string::npos);
    EXPECT_NE(cap.msgs[0].second.find("x < 0 -> VXS_E_ARG"), std::string::npos);
    EXPECT_NE(cap.msgs[1].second.find("Counted(st) -> VXS_E_MALFORMED"), std::string::npos);
}
#endif

} // namespace
