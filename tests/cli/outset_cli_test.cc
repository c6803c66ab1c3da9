// A run's outputs appear as a set (vxs_export.h "A run's outputs as one set"; README "How
// outputs appear"): sync and report write into a staging folder beside OUT and put it in place
// with one rename or exchange. Killed at named points (VXS_TEST_KILL_AT) and at random moments,
// OUT holds the old complete set or the new one, never a mix, and the next run removes what the
// killed one left; -o is checked before any input is read, never in a folder of inputs; a
// killed bundle run is resumed from its staging folder.
#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <map>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "test_util.h"

namespace {

using vxs_test::Cli;
using vxs_test::RunCli;

const char *const kSyncFiles[] = {"clocks.json", "frames.jsonl", "links.json",
                                  "v2x_messages.jsonl", "run.json"};

bool Exists(const std::string &p) {
    struct stat st;
    return lstat(p.c_str(), &st) == 0;
}

std::string Slurp(const std::string &p) {
    std::ifstream f(p, std::ios::binary);
    std::stringstream ss;
    ss << f.rdbuf();
    return ss.str();
}

// Names returns the entries of `dir` (hidden ones too), sorted.
std::set<std::string> Names(const std::string &dir) {
    std::set<std::string> v;
    DIR *d = opendir(dir.c_str());
    if (!d) return v;
    while (struct dirent *e = readdir(d)) {
        const std::string n = e->d_name;
        if (n != "." && n != "..") v.insert(n);
    }
    closedir(d);
    return v;
}

// Leftovers returns what runs on `parent`/`name` left beside it: staging folders and the lock.
std::set<std::string> Leftovers(const std::string &parent, const std::string &name) {
    std::set<std::string> v;
    for (const auto &n : Names(parent))
        if (n.rfind("." + name + ".v2xsync-", 0) == 0) v.insert(n);
    return v;
}

// Set is the content of the files `names` of `dir` ("" for a missing one).
using Set = std::map<std::string, std::string>;
Set ReadSet(const std::string &dir, const std::vector<std::string> &names) {
    Set s;
    for (const auto &n : names) s[n] = Exists(dir + "/" + n) ? Slurp(dir + "/" + n) : "";
    return s;
}
std::vector<std::string> SyncNames() {
    return std::vector<std::string>(std::begin(kSyncFiles), std::end(kSyncFiles));
}

// Killed runs `v2xsync ARGS` with VXS_TEST_KILL_AT=point; true when it died of SIGKILL.
bool Killed(const std::string &point, const std::string &args, std::string *log) {
    const int rc = vxs_test::Run("VXS_TEST_KILL_AT=" + point + " '" + Cli() + "' " + args +
                                     " >/dev/null 2>&1; echo $?",
                                 log);
    return rc == 0 && log->find("137") != std::string::npos;
}

class OutsetCli : public ::testing::Test {
  protected:
    static void SetUpTestSuite() {
        dir_ = new std::string(vxs_test::TempDir());
        std::string log;
        for (int seed : {1, 2})
            ASSERT_EQ(RunCli("synth -q --seed " + std::to_string(seed) + " --duration 3 -o " +
                                 *dir_ + "/d" + std::to_string(seed),
                             &log),
                      0)
                << log;
    }
    static void TearDownTestSuite() { delete dir_; }
    static std::string Scen(int seed) { return *dir_ + "/d" + std::to_string(seed) + "/scenario.json"; }
    static std::string *dir_;
};
std::string *OutsetCli::dir_ = nullptr;

// -o inside a folder of inputs (a source's folder, under it, the manifest's folder, through
// ".." or a symbolic link) is refused with exit 2 naming the folder, and nothing is created;
// --allow-output-in-input lets it.
TEST_F(OutsetCli, OutputInAnInputFolderIsRefusedUnlessAllowed) {
    const std::string d = *dir_ + "/d1";
    std::string log;
    ASSERT_EQ(symlink((d + "/ego").c_str(), (*dir_ + "/egolink").c_str()), 0);
    const auto before_d = Names(d), before_ego = Names(d + "/ego");
    const std::vector<std::string> outs = {d + "/ego/sub",         d + "/ego",
                                           d + "/sub",             d + "/x/../ego/sub",
                                           *dir_ + "/egolink/sub", d + "/ego/new/deeper"};
    for (const std::string &out : outs) {
        const int rc = RunCli("sync -q " + Scen(1) + " -o " + out, &log);
        EXPECT_EQ(rc, 2) << out << "\n" << log;
        if (out.find("deeper") == std::string::npos) {
            EXPECT_NE(log.find("holds input recordings"), std::string::npos) << out << log;
        }
        EXPECT_NE(log.find(d), std::string::npos) << "names the input folder: " << log;
    }
    EXPECT_NE(log.find("does not exist"), std::string::npos) << "a missing parent: " << log;
    ASSERT_EQ(RunCli("sync -q " + Scen(1) + " -o " + d + "/ego/sub", &log), 2);
    EXPECT_NE(log.find("is inside " + d + "/ego,"), std::string::npos) << log;
    EXPECT_NE(log.find("--allow-output-in-input"), std::string::npos) << log;
    EXPECT_EQ(Names(d), before_d) << "nothing created in the drive";
    EXPECT_EQ(Names(d + "/ego"), before_ego) << "nothing created in the source's folder";
    // the flag allows it
    ASSERT_EQ(RunCli("sync -q --allow-output-in-input " + Scen(1) + " -o " + d + "/sub", &log), 0)
        << log;
    for (const char *f : kSyncFiles) EXPECT_TRUE(Exists(d + "/sub/" + f)) << f;
    EXPECT_TRUE(Leftovers(d, "sub").empty());
    ASSERT_EQ(RunCli("sync --help", &log), 0);
    EXPECT_NE(log.find("--allow-output-in-input"), std::string::npos);
}

// -o naming a regular file fails at once, before the manifest's sources are read (a manifest
// whose sources do not exist still gets the -o message), and leaves nothing; a manifest whose
// source cannot be opened fails before any folder is created.
TEST_F(OutsetCli, OutputNamingAFileFailsBeforeAnyInputIsRead) {
    const std::string dir = vxs_test::TempDir();
    std::string log;
    std::ofstream(dir + "/file") << "not a folder";
    ASSERT_EQ(mkdir((dir + "/m").c_str(), 0777), 0);
    std::ofstream(dir + "/m/s.json") << R"({"version": 1, "agents": [{"id": "a", "sources": [
        {"path": "nothere.pcap", "kind": "lidar"}]}]})";
    const auto before = Names(dir);
    const auto t0 = std::chrono::steady_clock::now();
    EXPECT_EQ(RunCli("sync -q " + Scen(1) + " -o " + dir + "/file", &log), 2);
    const double secs =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    EXPECT_NE(log.find(dir + "/file exists and is not a folder"), std::string::npos) << log;
    EXPECT_LT(secs, 5.0);
    EXPECT_EQ(RunCli("sync -q " + dir + "/m/s.json -o " + dir + "/file", &log), 2);
    EXPECT_NE(log.find("is not a folder"), std::string::npos) << log;
    EXPECT_EQ(log.find("nothere"), std::string::npos) << "the source was read first: " << log;
    EXPECT_EQ(RunCli("sync -q --bundle " + Scen(1) + " -o " + dir + "/file", &log), 2);
    EXPECT_EQ(RunCli("report " + dir + "/file", &log), 2);
    EXPECT_EQ(Slurp(dir + "/file"), "not a folder");
    // the source is checked before the output folder is created
    EXPECT_EQ(RunCli("sync -q " + dir + "/m/s.json -o " + dir + "/new", &log), 2);
    EXPECT_NE(log.find("nothere.pcap"), std::string::npos) << log;
    EXPECT_EQ(Names(dir), before) << "no folder, staging folder or lock left";
}

// A --force rerun killed after its set is complete but before the exchange leaves the old set;
// killed after the exchange, before the old set is removed, the new one; either way the files
// are one run's, and the next run removes the staging folder and the lock the killed one left.
TEST_F(OutsetCli, KilledAtNamedPointsLeavesTheOldOrTheNewSet) {
    const std::string dir = vxs_test::TempDir();
    std::string log;
    ASSERT_EQ(RunCli("sync -q " + Scen(1) + " -o " + dir + "/ref1", &log), 0) << log;
    ASSERT_EQ(RunCli("sync -q " + Scen(2) + " -o " + dir + "/ref2", &log), 0) << log;
    const Set ref1 = ReadSet(dir + "/ref1", SyncNames()), ref2 = ReadSet(dir + "/ref2", SyncNames());
    ASSERT_NE(ref1, ref2);
    ASSERT_EQ(RunCli("sync -q " + Scen(1) + " -o " + dir + "/out", &log), 0) << log;
    std::ofstream(dir + "/out/notes.txt") << "mine";
    const std::string rerun = "sync -q --force " + Scen(2) + " -o " + dir + "/out";
    ASSERT_TRUE(Killed("staged", rerun, &log)) << log;
    EXPECT_EQ(ReadSet(dir + "/out", SyncNames()), ref1) << "killed before the exchange";
    EXPECT_EQ(Leftovers(dir, "out").size(), 2u) << "its staging folder and the lock";
    ASSERT_TRUE(Killed("exchanged", rerun, &log)) << log;
    EXPECT_EQ(ReadSet(dir + "/out", SyncNames()), ref2) << "killed after the exchange";
    EXPECT_EQ(Slurp(dir + "/out/notes.txt"), "mine") << "the user's file is carried over";
    EXPECT_EQ(Leftovers(dir, "out").size(), 2u) << "the old set under a staging name, the lock";
    const auto names = Names(dir + "/out");
    for (const auto &n : names) EXPECT_EQ(n.find(".tmp."), std::string::npos) << n;
    // the next run cleans up
    ASSERT_EQ(RunCli("sync -q --force " + Scen(1) + " -o " + dir + "/out", &log), 0) << log;
    EXPECT_EQ(ReadSet(dir + "/out", SyncNames()), ref1);
    EXPECT_TRUE(Leftovers(dir, "out").empty());
    EXPECT_EQ(Names(dir + "/out"), names);
    // without --force a rerun is refused and changes nothing
    EXPECT_EQ(RunCli("sync -q " + Scen(2) + " -o " + dir + "/out", &log), 2);
    EXPECT_NE(log.find("already exists"), std::string::npos) << log;
    // a first run killed before its rename leaves no folder at all
    ASSERT_TRUE(Killed("staged", "sync -q " + Scen(1) + " -o " + dir + "/fresh", &log));
    EXPECT_FALSE(Exists(dir + "/fresh"));
    ASSERT_EQ(RunCli("sync -q " + Scen(1) + " -o " + dir + "/fresh", &log), 0) << log;
    EXPECT_EQ(ReadSet(dir + "/fresh", SyncNames()), ref1);
    EXPECT_TRUE(Leftovers(dir, "fresh").empty());
}

// Real SIGKILLs at random moments of runs that replace one set by another (each run writes the
// scenario OUT does not hold, with --report): OUT always holds one of the two complete sets, and
// a last run leaves no staging folder or lock behind.
TEST_F(OutsetCli, RandomKillsNeverMixTwoSets) {
    const std::string dir = vxs_test::TempDir();
    std::string log;
    const std::vector<std::string> names = {"clocks.json", "frames.jsonl", "links.json",
                                            "v2x_messages.jsonl", "run.json", "report.json"};
    for (int s : {1, 2})
        ASSERT_EQ(RunCli("sync -q --report " + Scen(s) + " -o " + dir + "/ref" +
                             std::to_string(s),
                         &log),
                  0)
            << log;
    // report.json names its folder: the references are compared with it named "out"
    ASSERT_EQ(RunCli("sync -q --report " + Scen(1) + " -o " + dir + "/out", &log), 0) << log;
    const Set ref1 = ReadSet(dir + "/out", names);
    ASSERT_EQ(RunCli("sync -q --force --report " + Scen(2) + " -o " + dir + "/out", &log), 0);
    const Set ref2 = ReadSet(dir + "/out", names);
    for (const auto &f : SyncNames()) {
        ASSERT_EQ(ref1.at(f), Slurp(dir + "/ref1/" + f)) << f;
        ASSERT_EQ(ref2.at(f), Slurp(dir + "/ref2/" + f)) << f;
    }
    const auto t0 = std::chrono::steady_clock::now();
    ASSERT_EQ(RunCli("sync -q --force --report " + Scen(1) + " -o " + dir + "/out", &log), 0);
    const double run_s =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    std::mt19937 rng((unsigned)std::chrono::system_clock::now().time_since_epoch().count());
    std::uniform_real_distribution<double> at(0.0, run_s * 1.1);
    int held = 1;
    for (int k = 0; k < 8; k++) {
        const double delay = at(rng);
        const int next = 3 - held;
        const std::string cmd = "( '" + Cli() + "' sync -q --force --report " + Scen(next) +
                                " -o " + dir + "/out >/dev/null 2>&1 & p=$!; sleep " +
                                std::to_string(delay) + "; kill -9 $p 2>/dev/null; wait $p; true)";
        ASSERT_EQ(vxs_test::Run(cmd, &log), 0);
        const Set now = ReadSet(dir + "/out", names);
        const bool old_set = now == (held == 1 ? ref1 : ref2);
        const bool new_set = now == (next == 1 ? ref1 : ref2);
        ASSERT_TRUE(old_set || new_set) << "a mixed set after a kill at " << delay << " s of "
                                        << run_s << " s";
        if (new_set) held = next;
    }
    ASSERT_EQ(RunCli("sync -q --force --report " + Scen(1) + " -o " + dir + "/out", &log), 0);
    EXPECT_EQ(ReadSet(dir + "/out", names), ref1);
    EXPECT_TRUE(Leftovers(dir, "out").empty());
    for (const auto &n : Names(dir + "/out")) EXPECT_EQ(n.find(".tmp."), std::string::npos) << n;
}

// `v2xsync report OUT` makes report.json and report.html appear as a pair: killed before the
// exchange OUT keeps the previous pair, after it the new one; the outputs it reads stay the same
// files (hard links: the same inode), the user's files stay, and the next run cleans up.
TEST_F(OutsetCli, ReportPairAppearsTogether) {
    const std::string dir = vxs_test::TempDir();
    std::string log;
    const std::string out = dir + "/out";
    ASSERT_EQ(RunCli("sync -q --report " + Scen(1) + " -o " + out, &log), 0) << log;
    std::ofstream(out + "/notes.txt") << "mine";
    const std::vector<std::string> pair = {"report.json", "report.html"};
    const Set r1 = ReadSet(out, pair);
    std::ofstream(dir + "/limits.json")
        << R"({"partial_share": {"warn": 0.999, "error": null}, "damaged_units": {"warn": null, "error": null}})";
    struct stat before;
    ASSERT_EQ(stat((out + "/frames.jsonl").c_str(), &before), 0);
    const std::string cfg = "report -q --config " + dir + "/limits.json " + out;
    ASSERT_TRUE(Killed("staged", cfg, &log)) << log;
    EXPECT_EQ(ReadSet(out, pair), r1);
    EXPECT_FALSE(Leftovers(dir, "out").empty());
    ASSERT_TRUE(Killed("exchanged", cfg, &log)) << log;
    const Set r2 = ReadSet(out, pair);
    EXPECT_NE(r2.at("report.json"), r1.at("report.json")) << "the limits changed the report";
    EXPECT_NE(r2.at("report.html"), r1.at("report.html"));
    ASSERT_EQ(RunCli(cfg, &log), 0) << log;
    EXPECT_EQ(ReadSet(out, pair), r2) << "the complete run writes the same pair";
    EXPECT_TRUE(Leftovers(dir, "out").empty());
    struct stat after;
    ASSERT_EQ(stat((out + "/frames.jsonl").c_str(), &after), 0);
    EXPECT_EQ(before.st_ino, after.st_ino) << "carried over as a hard link";
    EXPECT_EQ(Slurp(out + "/notes.txt"), "mine");
    // sync --report killed before its exchange: OUT keeps the old outputs and their report
    const Set all1 = ReadSet(out, {"frames.jsonl", "report.json", "report.html"});
    ASSERT_TRUE(Killed("staged", "sync -q --force --report " + Scen(2) + " -o " + out, &log));
    EXPECT_EQ(ReadSet(out, {"frames.jsonl", "report.json", "report.html"}), all1);
    // a rerun without --report drops the report with the outputs it replaces
    ASSERT_EQ(RunCli("sync --force " + Scen(2) + " -o " + out, &log), 0) << log;
    EXPECT_NE(log.find("Removed the QA report"), std::string::npos) << log;
    EXPECT_FALSE(Exists(out + "/report.json"));
    EXPECT_FALSE(Exists(out + "/report.html"));
    EXPECT_TRUE(Leftovers(dir, "out").empty());
}

// What OUT may hold: files of the user's (kept), but no folder a bundle did not make (refused,
// nothing changed); and a second run on OUT while one holds its lock is refused.
TEST_F(OutsetCli, ForeignFoldersAndConcurrentRunsAreRefused) {
    const std::string dir = vxs_test::TempDir();
    std::string log;
    const std::string out = dir + "/out";
    ASSERT_EQ(RunCli("sync -q " + Scen(1) + " -o " + out, &log), 0) << log;
    ASSERT_EQ(mkdir((out + "/mine").c_str(), 0777), 0);
    const std::string frames = Slurp(out + "/frames.jsonl");
    EXPECT_EQ(RunCli("sync -q --force " + Scen(2) + " -o " + out, &log), 2);
    EXPECT_NE(log.find("holds the folder 'mine'"), std::string::npos) << log;
    EXPECT_EQ(Slurp(out + "/frames.jsonl"), frames);
    EXPECT_TRUE(Leftovers(dir, "out").empty());
    ASSERT_EQ(rmdir((out + "/mine").c_str()), 0);
    if (!vxs_test::HaveTool("flock")) GTEST_SKIP() << "skipped: flock(1) not installed";
    ASSERT_EQ(vxs_test::Run("flock -n " + dir + "/.out.v2xsync-lock '" + Cli() + "' sync -q --force " +
                                Scen(2) + " -o " + out + " 2>&1",
                            &log),
              2)
        << log;
    EXPECT_NE(log.find("being written by another v2xsync run"), std::string::npos) << log;
    EXPECT_EQ(Slurp(out + "/frames.jsonl"), frames);
}

// KillWhileWriting starts `v2xsync ARGS` and kills it with SIGKILL once its staging folder
// ".<out>.v2xsync-*" holds `frames` frame files (or it ended).
void KillWhileWriting(const std::string &dir, const std::string &out, int frames,
                      const std::string &args) {
    const std::string wait = "n=0; while [ \"$(ls " + dir + "/." + out +
                             ".v2xsync-*/frames 2>/dev/null | wc -l)\" -lt " +
                             std::to_string(frames) +
                             " ] && kill -0 $p 2>/dev/null && [ $n -lt 3000 ]; do sleep 0.01; "
                             "n=$((n+1)); done";
    std::string log;
    ASSERT_EQ(vxs_test::Run("( '" + Cli() + "' " + args + " >/dev/null 2>&1 & p=$!; " + wait +
                                "; kill -9 $p 2>/dev/null; wait $p; true ) 2>/dev/null",
                            &log),
              0);
}

// A bundle run killed (by a real SIGKILL while it writes frames, or at the named point before
// its rename) leaves its staging folder, not OUT; a bundle run without --resume refuses to pass
// a bundle in progress; --resume takes it over and ends byte for byte as an uninterrupted run;
// --force discards it; a plain sync elsewhere leaves it alone.
TEST_F(OutsetCli, KilledBundleRunIsResumedFromItsStagingFolder) {
    const std::string dir = vxs_test::TempDir();
    std::string log;
    ASSERT_EQ(RunCli("synth -q --duration 8 -o " + dir + "/drive", &log), 0) << log;
    const std::string scen = dir + "/drive/scenario.json";
    ASSERT_EQ(RunCli("sync -q " + scen + " -o " + dir + "/A --bundle", &log), 0) << log;
    std::vector<std::string> files;
    for (const auto &n : Names(dir + "/A")) files.push_back(n);
    for (const auto &n : Names(dir + "/A/frames")) files.push_back("frames/" + n);
    for (const auto &n : Names(dir + "/A/labels")) files.push_back("labels/" + n);
    ASSERT_GT(files.size(), 160u);
    const Set whole = ReadSet(dir + "/A", files);
    // real SIGKILLs while frames are written, then --resume
    KillWhileWriting(dir, "C", 10, "sync -q " + scen + " -o " + dir + "/C --bundle");
    EXPECT_FALSE(Exists(dir + "/C")) << "nothing appears before the run ends";
    ASSERT_EQ(Leftovers(dir, "C").size(), 2u) << "its staging folder and the lock";
    EXPECT_EQ(RunCli("sync -q " + scen + " -o " + dir + "/C --bundle", &log), 2);
    EXPECT_NE(log.find("--resume continues it"), std::string::npos) << log;
    EXPECT_EQ(RunCli("sync -q " + scen + " -o " + dir + "/C --bundle --every 2 --resume", &log),
              2);
    EXPECT_NE(log.find("another scenario"), std::string::npos) << log;
    KillWhileWriting(dir, "C", 40, "sync -q " + scen + " -o " + dir + "/C --bundle --resume");
    EXPECT_FALSE(Exists(dir + "/C"));
    ASSERT_EQ(Leftovers(dir, "C").size(), 2u) << "the second attempt took the first one over";
    ASSERT_EQ(RunCli("sync -q --force " + scen + " -o " + dir + "/C2", &log), 0) << log;
    ASSERT_EQ(RunCli("sync " + scen + " -o " + dir + "/C --bundle --resume", &log), 0) << log;
    EXPECT_NE(log.find("Continuing the bundle a killed run left"), std::string::npos) << log;
    EXPECT_EQ(log.find("(0 kept"), std::string::npos) << log;
    EXPECT_EQ(ReadSet(dir + "/C", files), whole);
    EXPECT_TRUE(Leftovers(dir, "C").empty());
    // killed with its set complete, before the rename: --resume keeps every frame
    ASSERT_TRUE(Killed("staged", "sync -q " + scen + " -o " + dir + "/B --bundle", &log));
    EXPECT_FALSE(Exists(dir + "/B"));
    ASSERT_EQ(RunCli("sync " + scen + " -o " + dir + "/B --bundle --resume", &log), 0) << log;
    EXPECT_NE(log.find("80 frames (80 kept"), std::string::npos) << log;
    EXPECT_EQ(ReadSet(dir + "/B", files), whole);
    EXPECT_TRUE(Leftovers(dir, "B").empty());
    // --force discards a bundle in progress
    KillWhileWriting(dir, "D", 5, "sync -q " + scen + " -o " + dir + "/D --bundle --every 3");
    ASSERT_EQ(Leftovers(dir, "D").size(), 2u);
    EXPECT_EQ(RunCli("sync -q " + scen + " -o " + dir + "/D --bundle", &log), 2);
    ASSERT_EQ(RunCli("sync -q --force " + scen + " -o " + dir + "/D --bundle", &log), 0) << log;
    EXPECT_EQ(ReadSet(dir + "/D", files), whole);
    EXPECT_TRUE(Leftovers(dir, "D").empty());
    // --resume on the finished bundle in OUT: its frames are carried over, checked and kept
    ASSERT_EQ(RunCli("sync " + scen + " -o " + dir + "/D --bundle --resume", &log), 0) << log;
    EXPECT_NE(log.find("80 frames (80 kept"), std::string::npos) << log;
    EXPECT_EQ(ReadSet(dir + "/D", files), whole);
}

} // namespace
