// Issue 21's reproductions through the program: what `inspect` and `dump` say and exit with on
// an empty file, a damaged hex log, a cut MP4, a damaged Wyoming log and a file of no known kind.
// (The damage sweep, tests/python/damage_sweep.py, runs thousands of such cases; these are the
// named ones, each asserted exactly.)
#include <unistd.h>

#include <string>
#include <vector>

#include "test_util.h"

namespace {

using vxs_test::Cli;

// RunBoth runs `cmd` with stderr folded into *out.
int RunBoth(const std::string &args, std::string *out) {
    return vxs_test::Run("'" + Cli() + "' " + args + " 2>&1", out);
}

size_t Count(const std::string &s, const std::string &what) {
    size_t n = 0;
    for (size_t at = s.find(what); at != std::string::npos; at = s.find(what, at + 1)) n++;
    return n;
}

TEST(DamageCli, EmptyFileIsExit2InEveryCommand) {
    std::string dir = vxs_test::TempDir();
    std::string f = dir + "/empty.pcap";
    ASSERT_TRUE(vxs_test::WriteFile(f, {}));
    std::string out;
    EXPECT_EQ(RunBoth("dump -q '" + f + "'", &out), 2) << out;
    EXPECT_NE(out.find(f + ": not a recording v2xsync reads: empty file (0 bytes)"),
              std::string::npos)
        << out;
    EXPECT_EQ(RunBoth("dump -q --sweeps '" + f + "'", &out), 2) << out;
    EXPECT_EQ(RunBoth("inspect -q '" + f + "'", &out), 2) << out;
    EXPECT_NE(out.find("empty file (0 bytes)"), std::string::npos) << out;
    EXPECT_EQ(RunBoth("inspect -q '" + dir + "/missing.pcap'", &out), 2) << out;
    EXPECT_NE(out.find("cannot open"), std::string::npos) << out;
}

TEST(DamageCli, UnknownFileSaysWhatWasTried) {
    VXS_SHARED_OR_SKIP(yaml, "datasets/lidar/calib/velodyne/VLP16.yaml");
    std::string out;
    EXPECT_EQ(RunBoth("dump -q '" + yaml + "'", &out), 2) << out;
    for (const char *w : {"not a recording v2xsync reads", "tried: pcap/pcapng (no capture magic)",
                          "Wyoming OBU log (at byte 0: direction byte 108", "hex log (0 of"})
        EXPECT_NE(out.find(w), std::string::npos) << w << "\n" << out;
}

// The reproduction: a NUL at byte 10 of a hex log with two BSMs gave 0 messages (read as a
// Wyoming log); a NUL in a message line costs that line, and exit 1 says so.
TEST(DamageCli, HexLogWithANulKeepsItsMessages) {
    VXS_SHARED_OR_SKIP(hex, "datasets/v2x/us/v2x-hub/bsm_vectors.txt");
    std::string dir = vxs_test::TempDir();
    std::vector<uint8_t> b = vxs_test::ReadFile(hex);
    b[10] = 0;
    ASSERT_TRUE(vxs_test::WriteFile(dir + "/nul10.txt", b));
    std::string out;
    EXPECT_EQ(vxs_test::RunCli("dump -q --json '" + dir + "/nul10.txt'", &out), 0);
    EXPECT_EQ(Count(out, "\"type\":\"BSM\""), 2u) << out;
    EXPECT_EQ(vxs_test::RunCli("inspect -q --json '" + dir + "/nul10.txt'", &out), 0);
    EXPECT_NE(out.find("\"kind\": \"v2x-log\""), std::string::npos) << out;
    EXPECT_NE(out.find("\"messages\": 2"), std::string::npos) << out;
    // a NUL inside the first message's hex
    b = vxs_test::ReadFile(hex);
    std::string text(b.begin(), b.end());
    size_t line = text.find("\n0014");
    ASSERT_NE(line, std::string::npos);
    b[line + 5] = 0;
    ASSERT_TRUE(vxs_test::WriteFile(dir + "/nulmsg.txt", b));
    EXPECT_EQ(RunBoth("dump -q --json '" + dir + "/nulmsg.txt'", &out), 1) << out;
    EXPECT_EQ(Count(out, "\"type\":\"BSM\""), 1u) << out;
    EXPECT_NE(out.find("nulmsg.txt: line "), std::string::npos) << out;
    EXPECT_NE(out.find("(byte offset " + std::to_string(line + 1) + "): column 5"),
              std::string::npos)
        << out;
}

// The reproduction: a damaged or cut MP4 was read by `dump` as a Wyoming log. A 'fast start' MP4
// (the real clip: its index, moov, before the media) cut in the middle of its media is a video
// with the frames before the cut (exit 1: the cut is reported); one whose index comes after the
// media, cut, cannot be read at all (exit 2, saying why), and `--frame 0 --png` says the same,
// not "not a camera".
TEST(DamageCli, CutMp4StaysAVideo) {
    VXS_SHARED_OR_SKIP(mp4, "datasets/camera/phone_vfr_1080p.mp4");
    std::string dir = vxs_test::TempDir();
    std::vector<uint8_t> m = vxs_test::ReadFile(mp4);
    ASSERT_EQ(std::string(m.begin() + 28, m.begin() + 32), "moov");
    std::vector<uint8_t> cut(m.begin(), m.begin() + 1500000);
    ASSERT_TRUE(vxs_test::WriteFile(dir + "/fastcut.mp4", cut));
    std::string out;
    EXPECT_EQ(vxs_test::RunCli("dump -q --json '" + dir + "/fastcut.mp4'", &out), 1);
    EXPECT_EQ(Count(out, "\"pts\":"), 21u) << out; // the frames wholly before the cut
    EXPECT_EQ(Count(out, "\"station_id\""), 0u);    // never a V2X message
    EXPECT_EQ(RunBoth("dump -q '" + dir + "/fastcut.mp4'", &out), 1);
    EXPECT_NE(out.find("fastcut.mp4: byte offset 1500000: truncated"), std::string::npos) << out;
    EXPECT_EQ(RunBoth("inspect -q '" + dir + "/fastcut.mp4'", &out), 1) << out;

    std::vector<uint8_t> late; // ftyp, then the media box alone: the index would follow it
    late.reserve(24 + 1000000);
    late.insert(late.end(), m.begin(), m.begin() + 24);
    late.insert(late.end(), m.begin() + 405173, m.begin() + 405173 + 1000000);
    ASSERT_TRUE(vxs_test::WriteFile(dir + "/late.mp4", late));
    for (const char *args : {"dump -q", "dump -q --frame 0 --png x.png", "inspect -q"}) {
        EXPECT_EQ(RunBoth(std::string(args) + " '" + dir + "/late.mp4'", &out), 2) << args;
        EXPECT_NE(out.find("late.mp4: a damaged video: MP4/QuickTime boxes: ftyp@0 mdat@24"),
                  std::string::npos)
            << out;
        EXPECT_NE(out.find("no 'moov' box (the index of the frames)"), std::string::npos) << out;
    }
}

// A Wyoming record whose length field is damaged costs that record: the reader reports it with
// its number and byte offset, resynchronises, and every other message is printed.
TEST(DamageCli, WyomingDamagedLengthCostsOneRecord) {
    VXS_SHARED_OR_SKIP(bin, "datasets/v2x/us/jpo-ode/data/bsmLogDuringEvent.bin");
    std::string dir = vxs_test::TempDir();
    std::vector<uint8_t> b = vxs_test::ReadFile(bin);
    std::string out;
    ASSERT_EQ(vxs_test::RunCli("dump -q --json '" + bin + "'", &out), 0);
    const size_t all = Count(out, "\"station_id\"");
    ASSERT_EQ(all, 222u);
    b[1090 + 24] = 0xFF; // record 6 (byte offset 1090): payload length 0xFFFF
    b[1090 + 25] = 0xFF;
    ASSERT_TRUE(vxs_test::WriteFile(dir + "/wy.bin", b));
    EXPECT_EQ(RunBoth("dump -q --json '" + dir + "/wy.bin'", &out), 1);
    EXPECT_EQ(Count(out, "\"station_id\""), all - 1);
    EXPECT_NE(out.find("wy.bin: record 6 (byte offset 1090): payload length 65535 (1..32768); "
                       "resynchronised at byte 1308 (skipped 218 bytes)"),
              std::string::npos)
        << out;
}

// The job uses the same detection: a manifest source whose content is not its declared kind (an
// empty file, a video named lidar.pcap) stops sync before anything is written, exit 2, naming
// the file and what it is.
TEST(DamageCli, SyncRefusesASourceThatIsNotItsKind) {
    std::string dir = vxs_test::TempDir();
    std::string out;
    ASSERT_EQ(vxs_test::RunCli("synth -q --duration 3 -o '" + dir + "/drive'", &out), 0);
    ASSERT_TRUE(vxs_test::WriteFile(dir + "/drive/ego/lidar.pcap", {}));
    EXPECT_EQ(RunBoth("sync -q '" + dir + "/drive/scenario.json' -o '" + dir + "/out'", &out), 2);
    EXPECT_NE(out.find("ego/lidar.pcap: a lidar source, but the file is of no kind v2xsync "
                       "reads (empty file (0 bytes))"),
              std::string::npos)
        << out;
    EXPECT_NE(access((dir + "/out").c_str(), F_OK), 0);
    std::vector<uint8_t> mp4 = vxs_test::ReadFile(dir + "/drive/ego/camera.mp4");
    ASSERT_TRUE(vxs_test::WriteFile(dir + "/drive/ego/lidar.pcap", mp4));
    EXPECT_EQ(RunBoth("sync -q '" + dir + "/drive/scenario.json' -o '" + dir + "/out'", &out), 2);
    EXPECT_NE(out.find("ego/lidar.pcap: a lidar source, but the file is video (MP4/QuickTime "
                       "boxes: ftyp@0"),
              std::string::npos)
        << out;
    EXPECT_NE(access((dir + "/out").c_str(), F_OK), 0);
}

} // namespace
