// test_util.h: helpers shared by every test binary.
#ifndef VXS_TEST_UTIL_H
#define VXS_TEST_UTIL_H

#include <cstdint>
#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace vxs_test {

// SharedPath returns the absolute path of `rel` under ../shared (the real recordings), or "" if
// the file is absent (a fresh clone without ../shared). Use VXS_SHARED_OR_SKIP in tests.
std::string SharedPath(const std::string &rel);

// HaveTool says whether `name` (tshark, capinfos, ffprobe...) is on PATH.
bool HaveTool(const std::string &name);

// Run runs `cmd` through /bin/sh, returns its exit status and puts its stdout in *out.
int Run(const std::string &cmd, std::string *out);

// Cli returns the path of the v2xsync program under test ($VXS_CLI, set by ctest, else the
// build folder's). RunCli runs `v2xsync ARGS` (ARGS as the shell reads them), returns its exit
// status and puts its stdout and stderr, merged, in *out.
std::string Cli();
int RunCli(const std::string &args, std::string *out);

// ReadFile returns the bytes of `path` (empty and ADD_FAILURE on error).
std::vector<uint8_t> ReadFile(const std::string &path);

// HexBytes decodes hex digits into bytes, skipping whitespace (ADD_FAILURE on anything else).
std::vector<uint8_t> HexBytes(const std::string &hex);

// XmlLong returns the integer inside the first <tag>...</tag> at or after `from` in `xml`
// (ADD_FAILURE and 0 when there is none). XmlText returns the raw text instead.
long XmlLong(const std::string &xml, const std::string &tag, size_t from = 0);
std::string XmlText(const std::string &xml, const std::string &tag, size_t from = 0);

// WriteFile writes `data` to `path`; false on error.
bool WriteFile(const std::string &path, const std::vector<uint8_t> &data);

// kSharedCaptures lists every capture in ../shared/datasets (paths relative to ../shared).
extern const char *const kSharedCaptures[9];

// TsharkTimes returns every record's frame.time_epoch from tshark, parsed to ns exactly.
std::vector<int64_t> TsharkTimes(const std::string &path);

// CapinfosCount returns capinfos' packet count of `path` (0 if it cannot tell); for a capture
// cut short, the packets before the cut.
uint64_t CapinfosCount(const std::string &path);

// TempDir returns a fresh directory under $TMPDIR (or /tmp) removed at process exit.
std::string TempDir();

// FailAllocAfter makes the n-th vxs_ allocation from now on (1 = the next one) and every one
// after it fail, until the returned guard is destroyed. Counts allocations in AllocCount().
class FailAllocAfter {
  public:
    explicit FailAllocAfter(long n);
    ~FailAllocAfter();
    FailAllocAfter(const FailAllocAfter &) = delete;
    FailAllocAfter &operator=(const FailAllocAfter &) = delete;
    static long AllocCount();
    static bool Failed(); // did any allocation fail while installed?
};

} // namespace vxs_test

// VXS_SHARED_OR_SKIP(var, rel): declare std::string var = SharedPath(rel) or skip the test with
// a message that names the missing file.
#define VXS_SHARED_OR_SKIP(var, rel)                                                             \
    std::string var = vxs_test::SharedPath(rel);                                                 \
    if (var.empty()) GTEST_SKIP() << "skipped: ../shared/" << (rel)                              \
                                  << " not found (needs the shared datasets; CI has them)"

// VXS_TOOL_OR_SKIP(name): skip when an external reference tool is not installed.
#define VXS_TOOL_OR_SKIP(name)                                                                   \
    if (!vxs_test::HaveTool(name)) GTEST_SKIP() << "skipped: reference tool '" << (name)         \
                                                << "' not installed (CI installs it)"

#endif
