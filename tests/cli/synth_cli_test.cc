// `v2xsync synth` and `v2xsync demo`, end to end: options, refusals, exit codes, JSON output.
#include <jansson.h>
#include <sys/stat.h>

#include <cstdlib>
#include <string>

#include "test_util.h"

namespace {

using vxs_test::Cli;
using vxs_test::RunCli;

bool Exists(const std::string &p) {
    struct stat st;
    return stat(p.c_str(), &st) == 0;
}

TEST(SynthCli, HelpListsEveryOption) {
    std::string out;
    ASSERT_EQ(RunCli("synth --help", &out), 0);
    for (const char *o : {"--seed", "--out", "--duration", "--profile", "--force", "--json",
                          "--quiet", "Exit status"})
        EXPECT_NE(out.find(o), std::string::npos) << o;
    ASSERT_EQ(RunCli("demo --help", &out), 0);
    EXPECT_NE(out.find("--seed"), std::string::npos);
    EXPECT_NE(out.find("Exit status"), std::string::npos);
}

TEST(SynthCli, UsageErrorsSayWhat) {
    std::string out;
    EXPECT_EQ(RunCli("synth", &out), 2);
    EXPECT_NE(out.find("--out DIR is required"), std::string::npos) << out;
    const std::string dir = vxs_test::TempDir();
    EXPECT_EQ(RunCli("synth -o " + dir + "/d --profile eu", &out), 2);
    EXPECT_NE(out.find("--profile: expected etsi, us or mixed, got 'eu'"), std::string::npos) << out;
    EXPECT_EQ(RunCli("synth -o " + dir + "/d --duration 0.2", &out), 2);
    EXPECT_NE(out.find("--duration: expected seconds in [1, 7200], got '0.2'"), std::string::npos)
        << out;
    EXPECT_EQ(RunCli("synth -o " + dir + "/d --seed -3", &out), 2);
    EXPECT_NE(out.find("--seed: expected a non-negative integer, got '-3'"), std::string::npos)
        << out;
    EXPECT_EQ(RunCli("synth -o " + dir + "/d extra", &out), 2);
    EXPECT_NE(out.find("unexpected argument 'extra'"), std::string::npos) << out;
    EXPECT_FALSE(Exists(dir + "/d")) << "nothing is written on a usage error";
}

TEST(SynthCli, WritesADriveAndWillNotOverwriteItUnasked) {
    const std::string dir = vxs_test::TempDir() + "/drive";
    std::string out;
    ASSERT_EQ(RunCli("synth -q --seed 3 --duration 2 --profile etsi -o " + dir + " --json", &out),
              0)
        << out;
    json_error_t je;
    json_t *j = json_loads(out.c_str(), 0, &je);
    ASSERT_TRUE(j) << je.text << "\n" << out;
    EXPECT_EQ(json_integer_value(json_object_get(j, "seed")), 3);
    EXPECT_STREQ(json_string_value(json_object_get(j, "profile")), "etsi");
    json_t *files = json_object_get(j, "files");
    EXPECT_EQ(json_array_size(files), 11u);
    size_t i;
    json_t *f;
    long long total = 0;
    json_array_foreach(files, i, f) {
        const std::string p = json_string_value(json_object_get(f, "path"));
        EXPECT_TRUE(Exists(dir + "/" + p)) << p;
        EXPECT_GT(json_integer_value(json_object_get(f, "bytes")), 0) << p;
        total += json_integer_value(json_object_get(f, "bytes"));
    }
    EXPECT_EQ(json_integer_value(json_object_get(j, "bytes")), total);
    json_decref(j);

    EXPECT_EQ(RunCli("synth -q --duration 2 -o " + dir, &out), 2);
    EXPECT_NE(out.find("already holds a drive"), std::string::npos) << out;
    EXPECT_EQ(RunCli("synth -q --duration 2 --force -o " + dir, &out), 0) << out;
    EXPECT_NE(out.find("scenario.json"), std::string::npos) << out;
}

TEST(SynthCli, DemoReadsEverythingBackAsTheTruthSays) {
    const std::string tmp = vxs_test::TempDir();
    std::string out;
    // Default folder: a new one under $TMPDIR.
    ASSERT_EQ(vxs_test::Run("TMPDIR='" + tmp + "' '" + Cli() + "' demo -q --duration 3 2>&1", &out),
              0)
        << out;
    EXPECT_NE(out.find(tmp + "/v2xsync-demo-"), std::string::npos) << out;
    EXPECT_EQ(out.find("DIFFERS"), std::string::npos) << out;
    for (const char *s : {"ego", "vehicle2", "rsu", "phone", "lidar", "camera", "v2x", "Look at:",
                          "v2xsync dump --sweeps"})
        EXPECT_NE(out.find(s), std::string::npos) << s;

    ASSERT_EQ(RunCli("demo -q --json --duration 3 --seed 8 -o " + tmp + "/d", &out), 0) << out;
    json_error_t je;
    json_t *j = json_loads(out.c_str(), 0, &je);
    ASSERT_TRUE(j) << je.text << "\n" << out;
    EXPECT_TRUE(json_is_true(json_object_get(j, "all_match")));
    json_t *src = json_object_get(j, "sources");
    ASSERT_EQ(json_array_size(src), 8u); // ego: lidar camera v2x; vehicle2, rsu: lidar v2x; phone
    size_t i;
    json_t *s;
    json_array_foreach(src, i, s) {
        EXPECT_TRUE(json_is_true(json_object_get(s, "matches")))
            << json_string_value(json_object_get(s, "agent")) << " "
            << json_string_value(json_object_get(s, "kind"));
        EXPECT_GT(json_integer_value(json_object_get(s, "records")), 0);
        EXPECT_EQ(json_integer_value(json_object_get(s, "bad")), 0);
    }
    json_decref(j);
}

} // namespace
