// `v2xsync sync` must not grow with the length of a drive: the peak resident memory of the whole
// job on a 10-minute and on a 60-minute synthetic drive (about 0.9 and 5.6 GB of recordings) are
// within 20 % of each other. Measured with wait4's rusage of the sync process alone. Skipped
// under AddressSanitizer, whose quarantine and shadow memory say nothing about ours.
#include <spawn.h>
#include <sys/resource.h>
#include <sys/wait.h>

#include <cstdlib>
#include <string>
#include <vector>

#include "test_util.h"

extern char **environ;

namespace {

#if defined(__SANITIZE_ADDRESS__)
#define VXS_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define VXS_ASAN 1
#endif
#endif

using vxs_test::Cli;

// PeakKb runs the CLI with `args` and returns its peak RSS in kB (-1 on failure).
long PeakKb(const std::vector<std::string> &args) {
    std::vector<char *> argv;
    std::string cli = Cli();
    argv.push_back(cli.data());
    std::vector<std::string> copy = args;
    for (std::string &a : copy) argv.push_back(a.data());
    argv.push_back(nullptr);
    pid_t pid;
    if (posix_spawn(&pid, cli.c_str(), nullptr, nullptr, argv.data(), environ) != 0) return -1;
    int status = 0;
    struct rusage ru;
    if (wait4(pid, &status, 0, &ru) != pid || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
        return -1;
    return ru.ru_maxrss;
}

// What still grows: libavformat keeps an MP4's sample index, about 80 bytes per frame (5 MB
// for an hour of 20 Hz video), a cost of the file rather than of the frames in flight; the
// camera reader releases it at the end of each pass, and the job releases the offset series
// (about 12 MB at their window cap) once the clocks are solved, so neither adds to the other
// pass's peak. The program does not tune the C library's allocator (no mallopt): what it
// measures is what any user of the library gets. Measured on 2026-12-06: 45.9 MB for 10 min,
// 47.9 MB for 60 min (+4 %). Before those two releases it was 46.4 and 52.0 MB here and up to
// 56.1 MB on CI (+20.4 %, the test failed once the search for changes of rate added its arrays
// to the solve's peak); before the offset series reserved their cap at once instead of
// doubling, it took the CLI's mallopt(M_MMAP_THRESHOLD) to stay under the bound; before the
// camera reader stopped holding two demuxers at once, it was 45.7 and 55.6 MB (+21.6 %).
TEST(SyncMemory, TenAndSixtyMinuteDrivesPeakWithinTwentyPercent) {
#ifdef VXS_ASAN
    GTEST_SKIP() << "skipped under AddressSanitizer: its shadow memory and quarantine dominate "
                    "the peak (the normal build runs this test)";
#endif
    const std::string dir = vxs_test::TempDir();
    long peak[2];
    const int minutes[2] = {10, 60};
    for (int i = 0; i < 2; i++) {
        const std::string d = dir + "/drive" + std::to_string(minutes[i]);
        std::string out;
        ASSERT_EQ(vxs_test::Run("'" + Cli() + "' synth -q --duration " +
                                    std::to_string(minutes[i] * 60) + " -o " + d,
                                &out),
                  0)
            << out;
        peak[i] = PeakKb({"sync", "-q", d + "/scenario.json", "-o", d + "-out"});
        ASSERT_GT(peak[i], 0) << "sync failed on the " << minutes[i] << "-minute drive";
        vxs_test::Run("rm -rf '" + d + "'", &out); // 5.6 GB: not kept past its use
        RecordProperty("peak_kb_" + std::to_string(minutes[i]), std::to_string(peak[i]));
    }
    EXPECT_LT((double)peak[1], 1.2 * (double)peak[0])
        << "10 min: " << peak[0] << " kB, 60 min: " << peak[1] << " kB";
    EXPECT_GT((double)peak[1], 0.8 * (double)peak[0]);
}

} // namespace
