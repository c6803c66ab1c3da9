// `v2xsync sync --bundle`: the labeled bundle's labels against a synthetic drive's truth (where
// each V2X sender truly was, which agents each LiDAR truly hit), a run killed with SIGKILL at
// several moments and resumed against an uninterrupted one byte for byte, and the folder rules
// and options. The Python loader's tests (tests/python) read the same bundles through an
// independent path: Python's LZ4 and PIL, ffmpeg's decode, `dump --points`, xxhsum, the
// OpenLABEL schema.
#include <dirent.h>
#include <jansson.h>
#include <sys/stat.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "test_util.h"
#include "truth_util.h"

namespace {

using vxs_test::Cli;
using vxs_test::RunCli;
using namespace vxs_truth;

// Files returns every regular file under `dir`, relative to it, sorted.
void Walk(const std::string &dir, const std::string &rel, std::vector<std::string> *out) {
    DIR *d = opendir((dir + "/" + rel).c_str());
    if (!d) return;
    while (struct dirent *e = readdir(d)) {
        const std::string n = e->d_name;
        if (n == "." || n == "..") continue;
        const std::string r = rel.empty() ? n : rel + "/" + n;
        struct stat st;
        if (stat((dir + "/" + r).c_str(), &st) != 0) continue;
        if (S_ISDIR(st.st_mode))
            Walk(dir, r, out);
        else
            out->push_back(r);
    }
    closedir(d);
}
std::vector<std::string> Files(const std::string &dir) {
    std::vector<std::string> v;
    Walk(dir, "", &v);
    std::sort(v.begin(), v.end());
    return v;
}

// FrameNames returns the exported frames' names ("00000042": frames/00000042.json), sorted.
std::vector<std::string> FrameNames(const std::string &out) {
    std::vector<std::string> v;
    for (const auto &f : Files(out + "/frames")) v.push_back(f.substr(0, f.find('.')));
    return v;
}

std::string Text(json_t *attrs, const char *kind, const std::string &name) {
    size_t i;
    json_t *a;
    json_array_foreach(json_object_get(attrs, kind), i, a) if (S(a, "name") == name) {
        json_t *v = json_object_get(a, "val");
        return json_is_string(v) ? json_string_value(v) : std::to_string(json_number_value(v));
    }
    return "";
}

// CheckLabels: every cuboid of a V2X sender an agent owns, against where that sender truly was at T seen
// from where the receiver truly was (GNSS error behind honest claims, varied motion, ETSI's
// front-of-box reference point): inside the cuboid's stated 95 % circle (2.45 position_sd_m) for
// >= 95 %. And every LiDAR check against the truth's ray casting: a cuboid is "seen" when the
// receiver's sweep at T truly hit the sender at least 3 times, "not_seen" when it hit it less
// (occlusion, the sensor's field of view), for >= 95 % of the checks, with both outcomes common.
struct LabelCounts {
    size_t placed = 0, inside = 0, checks = 0, agree = 0, seen = 0, not_seen = 0;
};

void CheckLabels(int seed, LabelCounts *n) {
    const std::string dir = vxs_test::TempDir() + "/" + std::to_string(seed);
    ASSERT_EQ(mkdir(dir.c_str(), 0777), 0) << dir;
    json_t *truth = nullptr;
    ASSERT_NO_FATAL_FAILURE(SyncFullDrive(seed, 20, dir, false, &truth, " --bundle"));
    const auto tracks = Tracks(truth);
    // the truth's sweeps: "agent/lidar" -> sweep number -> hits per agent (the reader numbers
    // sweeps as the generator does: same index, same points)
    std::map<std::string, std::map<int64_t, std::map<std::string, int64_t>>> sweeps;
    std::map<std::string, std::map<int64_t, int64_t>> sweep_points;
    size_t i, k;
    json_t *sw;
    json_array_foreach(json_object_get(truth, "sweeps"), i, sw) {
        const std::string name = S(sw, "agent") + "/" + S(sw, "sensor");
        sweep_points[name][I(sw, "index")] = I(sw, "points");
        auto &h = sweeps[name][I(sw, "index")];
        const char *key;
        json_t *v;
        json_object_foreach(json_object_get(sw, "hits"), key, v) h[key] = json_integer_value(v);
    }
    json_decref(truth);
    for (const std::string &fd : FrameNames(dir + "/out")) {
        json_t *fr = LoadJson(dir + "/out/frames/" + fd + ".json");
        json_t *lab = LoadJson(dir + "/out/labels/" + fd + ".json");
        ASSERT_TRUE(fr && lab);
        const int64_t T = I(fr, "t_ns");
        std::map<std::string, int64_t> lidar_item; // receiver -> its sweep's number
        json_t *m;
        json_array_foreach(json_object_get(fr, "members"), i, m) {
            if (S(m, "kind") != "lidar" || !json_is_string(json_object_get(m, "file"))) continue;
            lidar_item.emplace(S(m, "agent"), I(m, "item"));
            EXPECT_EQ(I(m, "points"), sweep_points[S(m, "stream")][I(m, "item")]) << fd;
        }
        json_t *ol = json_object_get(lab, "openlabel");
        json_t *objs = json_object_get(ol, "objects");
        json_t *fobjs =
            json_object_get(json_object_get(json_object_get(ol, "frames"),
                                            std::to_string(I(fr, "frame")).c_str()),
                            "objects");
        const char *uid;
        json_t *fo;
        json_object_foreach(fobjs, uid, fo) {
            const std::string sender = S(json_object_get(objs, uid), "name");
            auto st = tracks.find(sender);
            if (st == tracks.end()) continue; // a station no agent owns, a CPM object
            json_t *c;
            json_array_foreach(json_object_get(json_object_get(fo, "object_data"), "cuboid"), k,
                               c) {
                const std::string rx = S(c, "name");
                json_t *val = json_object_get(c, "val"), *attrs = json_object_get(c, "attributes");
                double sx, sy, syaw, rxx, rxy, ryaw;
                At(st->second, T, &sx, &sy, &syaw);
                At(tracks.at(rx), T, &rxx, &rxy, &ryaw);
                const double bx = std::cos(ryaw) * (sx - rxx) + std::sin(ryaw) * (sy - rxy);
                const double by = -std::sin(ryaw) * (sx - rxx) + std::cos(ryaw) * (sy - rxy);
                const double sd = std::stod(Text(attrs, "num", "position_sd_m"));
                const double d = std::hypot(bx - json_number_value(json_array_get(val, 0)),
                                            by - json_number_value(json_array_get(val, 1)));
                n->placed++;
                n->inside += d <= 2.4477 * sd;
                const std::string status = Text(attrs, "text", "lidar_status");
                if (status != "seen" && status != "not_seen") continue;
                auto li = lidar_item.find(rx);
                ASSERT_NE(li, lidar_item.end()) << fd << ": a LiDAR status without a sweep";
                const auto &hits = sweeps[rx + "/lidar"][li->second];
                auto h = hits.find(sender);
                const bool truly = h != hits.end() && h->second >= 3;
                n->checks++;
                n->agree += truly == (status == "seen");
                n->seen += status == "seen";
                n->not_seen += status == "not_seen";
            }
        }
        json_decref(fr);
        json_decref(lab);
    }
}

// Pooled over five drives: a sender's GNSS error is correlated over tens of seconds, so one
// 20 s drive is a handful of independent samples (seed 3's phone spends it near 2.4 sigma).
TEST(BundleLabels, CuboidsAndLidarChecksAgainstTheTruth) {
    LabelCounts n;
    for (int seed = 1; seed <= 5; seed++) ASSERT_NO_FATAL_FAILURE(CheckLabels(seed, &n));
    ASSERT_GT(n.placed, 2500u);
    EXPECT_GE(n.inside, n.placed * 95 / 100) << n.inside << " of " << n.placed << " cuboids";
    ASSERT_GT(n.checks, 1000u);
    EXPECT_GE(n.agree, n.checks * 95 / 100) << n.agree << " of " << n.checks << " LiDAR checks";
    EXPECT_GT(n.seen, 250u);
    EXPECT_GT(n.not_seen, 250u);
    std::printf("cuboids inside 2.45 sigma: %zu of %zu; LiDAR checks agreeing: %zu of %zu (%zu seen, "
                "%zu not seen)\n",
                n.inside, n.placed, n.agree, n.checks, n.seen, n.not_seen);
}

// SyncBundle runs sync --bundle on `scen` into `out` with `args`; returns the exit status.
int SyncBundle(const std::string &scen, const std::string &out, const std::string &args,
               std::string *log) {
    return RunCli("sync -q " + scen + " -o " + out + " --bundle " + args, log);
}

// A run killed with SIGKILL at several moments (in the index pass, after a few frames, late)
// and started again with --resume each time ends byte for byte the same as an uninterrupted
// run, with no temporary file left; and two runs with different thread counts are the same.
TEST(BundleCli, KilledAndResumedEndsByteIdentical) {
    const std::string dir = vxs_test::TempDir();
    std::string log;
    ASSERT_EQ(RunCli("synth -q --duration 8 -o " + dir + "/drive", &log), 0) << log;
    const std::string scen = dir + "/drive/scenario.json";
    ASSERT_EQ(SyncBundle(scen, dir + "/A", "--threads 1", &log), 0) << log;
    ASSERT_EQ(SyncBundle(scen, dir + "/C", "--threads 3", &log), 0) << log;
    // kill when the run has completed `at` frames in its staging folder (0: 50 ms after it
    // starts)
    const int at[] = {0, 15, 45};
    for (size_t r = 0; r < 3; r++) {
        const std::string wait =
            at[r] == 0 ? "sleep 0.05"
                       : "n=0; while [ \"$(ls " + dir +
                             "/.B.v2xsync-*/frames 2>/dev/null | wc -l)\" -lt " +
                             std::to_string(at[r]) +
                             " ] && kill -0 $p 2>/dev/null && [ $n -lt 3000 ]; do sleep 0.01; "
                             "n=$((n+1)); done";
        const std::string cmd = "( '" + Cli() + "' sync -q " + scen + " -o " + dir +
                                "/B --bundle" + (r ? " --resume" : "") +
                                " >/dev/null 2>&1 & p=$!; " + wait +
                                "; kill -9 $p 2>/dev/null; wait $p; true ) 2>/dev/null";
        ASSERT_EQ(vxs_test::Run(cmd, &log), 0);
    }
    ASSERT_EQ(SyncBundle(scen, dir + "/B", "--resume", &log), 0) << log;
    const auto a = Files(dir + "/A"), b = Files(dir + "/B"), c = Files(dir + "/C");
    ASSERT_GT(a.size(), 300u);
    EXPECT_TRUE(std::find(a.begin(), a.end(), "bundle.json") != a.end());
    EXPECT_EQ(a, b);
    EXPECT_EQ(a, c);
    for (const auto &f : a) {
        EXPECT_EQ(f.find(".tmp."), std::string::npos) << f;
        if (f == "bundle.json") continue; // it names its output folder's files only: same too
        EXPECT_TRUE(vxs_test::ReadFile(dir + "/A/" + f) == vxs_test::ReadFile(dir + "/B/" + f))
            << f << " differs after kill and resume";
        EXPECT_TRUE(vxs_test::ReadFile(dir + "/A/" + f) == vxs_test::ReadFile(dir + "/C/" + f))
            << f << " differs with another thread count";
    }
    EXPECT_TRUE(vxs_test::ReadFile(dir + "/A/bundle.json") ==
                vxs_test::ReadFile(dir + "/B/bundle.json"));
}

// The output folder: another scenario's bundle is refused unless --force; the same bundle again
// needs --resume or --force; a frames/ folder that no bundle made is never touched; options
// that only a bundle takes, and names the scenario does not have, are usage errors.
TEST(BundleCli, RefusesForeignFoldersAndBadOptions) {
    const std::string dir = vxs_test::TempDir();
    std::string log;
    ASSERT_EQ(RunCli("synth -q --duration 3 -o " + dir + "/d1", &log), 0) << log;
    ASSERT_EQ(RunCli("synth -q --seed 2 --duration 3 -o " + dir + "/d2", &log), 0) << log;
    const std::string s1 = dir + "/d1/scenario.json", s2 = dir + "/d2/scenario.json";
    ASSERT_EQ(SyncBundle(s1, dir + "/out", "", &log), 0) << log;
    json_t *b1 = LoadJson(dir + "/out/bundle.json");
    EXPECT_EQ(SyncBundle(s2, dir + "/out", "", &log), 2);
    EXPECT_NE(log.find("another scenario"), std::string::npos) << log;
    EXPECT_EQ(SyncBundle(s1, dir + "/out", "", &log), 2);
    EXPECT_NE(log.find("--resume continues it"), std::string::npos) << log;
    EXPECT_EQ(SyncBundle(s1, dir + "/out", "--every 2", &log), 2) << "other settings";
    EXPECT_EQ(SyncBundle(s2, dir + "/out", "--force", &log), 0) << log;
    json_t *b2 = LoadJson(dir + "/out/bundle.json");
    EXPECT_NE(S(b1, "identity"), S(b2, "identity"));
    EXPECT_NE(S(json_object_get(b2, "scenario"), "name").find("seed 2"), std::string::npos);
    json_decref(b1);
    json_decref(b2);
    ASSERT_EQ(vxs_test::Run("mkdir -p " + dir + "/other/sensors/keep && touch " + dir +
                                "/other/sensors/keep/mine",
                            &log),
              0);
    EXPECT_EQ(SyncBundle(s1, dir + "/other", "--force", &log), 2);
    EXPECT_NE(log.find("belongs to no v2xsync bundle"), std::string::npos) << log;
    EXPECT_EQ(vxs_test::Run("test -f " + dir + "/other/sensors/keep/mine", &log), 0);
    // a plain sync into a bundle's folder would leave bundle.json describing other files
    EXPECT_EQ(RunCli("sync -q --force " + s1 + " -o " + dir + "/out", &log), 2);
    EXPECT_NE(log.find("holds a bundle"), std::string::npos) << log;
    // a bundle.json that is no v2xsync bundle's is never replaced, --force or not; a file of
    // the user's named like a temporary survives
    ASSERT_EQ(vxs_test::Run("mkdir -p " + dir + "/foreign && echo '{\"identity\": "
                                "\"0123456789abcdef\"}' > " + dir + "/foreign/bundle.json && echo hi > " +
                                dir + "/foreign/notes.tmp.txt",
                            &log),
              0);
    EXPECT_EQ(SyncBundle(s1, dir + "/foreign", "--force", &log), 2);
    EXPECT_NE(log.find("is not a v2xsync bundle's"), std::string::npos) << log;
    ASSERT_EQ(vxs_test::Run("rm " + dir + "/foreign/bundle.json", &log), 0);
    EXPECT_EQ(SyncBundle(s1, dir + "/foreign", "", &log), 0) << log;
    EXPECT_EQ(vxs_test::Run("test -f " + dir + "/foreign/notes.tmp.txt", &log), 0);
    EXPECT_EQ(RunCli("sync -q " + s1 + " -o " + dir + "/o3 --resume", &log), 2);
    EXPECT_NE(log.find("options of --bundle"), std::string::npos) << log;
    EXPECT_EQ(SyncBundle(s1, dir + "/o4", "--agents nosuch", &log), 2);
    EXPECT_NE(log.find("no agent 'nosuch'"), std::string::npos) << log;
    EXPECT_EQ(SyncBundle(s1, dir + "/o5", "--sensors ego/v2x", &log), 2);
    EXPECT_EQ(SyncBundle(s1, dir + "/o6", "--png-level 10", &log), 2);
    EXPECT_EQ(SyncBundle(s1, dir + "/o7", "--agents ''", &log), 2);
    EXPECT_NE(log.find("an empty name"), std::string::npos) << log;
    EXPECT_EQ(SyncBundle(s1, dir + "/o8", "--agents ego --sensors rsu/lidar", &log), 2);
    EXPECT_NE(log.find("not in --agents"), std::string::npos) << log;
}

// --every, --agents, --sensors, --from and --to choose what is exported: every 4th frame of
// those in the time range, only the members of the streams asked for, only those agents'
// coordinate systems and receivers in the labels; frames.jsonl holds the range's frames.
TEST(BundleCli, OptionsChooseFramesAgentsSensorsAndTimes) {
    const std::string dir = vxs_test::TempDir();
    std::string log;
    ASSERT_EQ(RunCli("synth -q --duration 6 -o " + dir + "/drive", &log), 0) << log;
    ASSERT_EQ(SyncBundle(dir + "/drive/scenario.json", dir + "/out",
                         "--every 4 --agents ego,vehicle2 --sensors ego/camera,vehicle2/lidar "
                         "--from 1 --to 4 --png-level 0",
                         &log),
              0)
        << log;
    std::vector<json_t *> frames = LoadLines(dir + "/out/frames.jsonl");
    ASSERT_GT(frames.size(), 20u);
    std::vector<std::string> want;
    for (size_t i = 0; i < frames.size(); i += 4) {
        char b[16];
        snprintf(b, sizeof b, "%08lld", (long long)I(frames[i], "frame"));
        want.push_back(b);
    }
    json_t *clocks = LoadJson(dir + "/out/clocks.json");
    const int64_t epoch = I(clocks, "epoch_ns");
    json_decref(clocks);
    for (json_t *f : frames) {
        const int64_t t = I(f, "t_ref_ns");
        if (epoch) {
            EXPECT_GE(t, epoch + 1000000000);
            EXPECT_LT(t, epoch + 4000000000);
        }
        json_decref(f);
    }
    EXPECT_EQ(FrameNames(dir + "/out"), want);
    size_t pngs = 0;
    for (const auto &f : Files(dir + "/out/sensors")) {
        const std::string stream = f.substr(0, f.rfind('/')), leaf = f.substr(f.rfind('/') + 1);
        const std::string frame = leaf.substr(0, leaf.find('.'));
        EXPECT_TRUE(std::find(want.begin(), want.end(), frame) != want.end()) << f;
        EXPECT_TRUE(stream == "ego/camera" || stream == "vehicle2/lidar") << f;
        pngs += stream == "ego/camera";
    }
    EXPECT_GT(pngs, 0u);
    EXPECT_EQ(Files(dir + "/out/labels").size(), want.size());
    json_t *lab = LoadJson(dir + "/out/labels/" + want[0] + ".json");
    json_t *cs = json_object_get(json_object_get(lab, "openlabel"), "coordinate_systems");
    EXPECT_TRUE(json_object_get(cs, "ego") && json_object_get(cs, "vehicle2") &&
                json_object_get(cs, "ego/camera") && json_object_get(cs, "vehicle2/lidar"));
    EXPECT_FALSE(json_object_get(cs, "rsu") || json_object_get(cs, "ego/lidar"));
    json_decref(lab);
    // PNG levels: 9 (zlib's strategy) writes smaller files than 1 (Z_RLE), 0 stores
    ASSERT_EQ(SyncBundle(dir + "/drive/scenario.json", dir + "/l1", "--sensors ego/camera --to 1",
                         &log),
              0)
        << log;
    ASSERT_EQ(SyncBundle(dir + "/drive/scenario.json", dir + "/l9",
                         "--sensors ego/camera --to 1 --png-level 9", &log),
              0)
        << log;
    const auto p1 = vxs_test::ReadFile(dir + "/l1/sensors/ego/camera/" + FrameNames(dir + "/l1")[3] + ".png");
    const auto p9 = vxs_test::ReadFile(dir + "/l9/sensors/ego/camera/" + FrameNames(dir + "/l9")[3] + ".png");
    EXPECT_LT(p9.size(), p1.size());
    json_t *b = LoadJson(dir + "/out/bundle.json");
    EXPECT_EQ(I(json_object_get(b, "settings"), "every"), 4);
    EXPECT_EQ(I(json_object_get(b, "frames"), "exported"), (json_int_t)want.size());
    json_decref(b);
}

} // namespace
