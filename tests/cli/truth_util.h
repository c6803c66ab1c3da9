// truth_util.h: what the CLI tests that check outputs against a synthetic drive's truth share:
// JSON files and lines, the truth's trajectories, and a full-realism drive synced.
#ifndef VXS_TESTS_TRUTH_UTIL_H
#define VXS_TESTS_TRUTH_UTIL_H

#include <gtest/gtest.h>
#include <jansson.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include "test_util.h"

namespace vxs_truth {

inline json_t *LoadJson(const std::string &path) {
    json_error_t e;
    json_t *j = json_load_file(path.c_str(), 0, &e);
    EXPECT_TRUE(j) << path << ": " << e.text;
    return j;
}

inline std::vector<json_t *> LoadLines(const std::string &path) {
    std::vector<json_t *> v;
    std::ifstream in(path);
    std::string line;
    while (std::getline(in, line)) {
        json_error_t e;
        json_t *j = json_loads(line.c_str(), 0, &e);
        EXPECT_TRUE(j) << path << ": " << e.text;
        if (j) v.push_back(j);
    }
    return v;
}

inline int64_t I(json_t *o, const char *k) { return json_integer_value(json_object_get(o, k)); }
inline double D(json_t *o, const char *k) { return json_number_value(json_object_get(o, k)); }
inline std::string S(json_t *o, const char *k) {
    const char *s = json_string_value(json_object_get(o, k));
    return s ? s : "";
}

// Truth trajectories (every agent every 100 ms), interpolated: a few mm from the exact path at
// these speeds and curvatures, far below the metres of GNSS error the messages carry.
struct Track {
    std::vector<int64_t> t;
    std::vector<double> x, y, yaw;
};
inline std::map<std::string, Track> Tracks(json_t *truth) {
    std::map<std::string, Track> m;
    size_t i;
    json_t *p;
    json_array_foreach(json_object_get(truth, "trajectories"), i, p) {
        Track &k = m[S(p, "agent")];
        k.t.push_back(I(p, "t_ns"));
        k.x.push_back(D(p, "x"));
        k.y.push_back(D(p, "y"));
        k.yaw.push_back(D(p, "yaw"));
    }
    return m;
}
inline void At(const Track &k, int64_t t, double *x, double *y, double *yaw) {
    size_t i = std::upper_bound(k.t.begin(), k.t.end(), t) - k.t.begin();
    i = std::min(std::max<size_t>(i, 1), k.t.size() - 1) - 1;
    const double w = (double)(t - k.t[i]) / (double)(k.t[i + 1] - k.t[i]);
    *x = k.x[i] + w * (k.x[i + 1] - k.x[i]);
    *y = k.y[i] + w * (k.y[i + 1] - k.y[i]);
    *yaw = k.yaw[i] + w * std::remainder(k.yaw[i + 1] - k.yaw[i], 2 * M_PI);
}

// SyncFullDrive writes the full-realism mixed drive of `seed` (`seconds` long) into dir/drive,
// gives its scenario the truth's origin (so ENU is the truth's frame) and, with `strip_ego`,
// takes the ego's own V2X ids away, syncs it into dir/out (with sync_args) and returns the
// truth (the caller's).
inline void SyncFullDrive(int seed, int seconds, const std::string &dir, bool strip_ego,
                          json_t **truth, const std::string &sync_args = "") {
    std::string out;
    ASSERT_EQ(vxs_test::RunCli("synth -q --seed " + std::to_string(seed) +
                         " --profile mixed --realism full --duration " + std::to_string(seconds) +
                         " -o " + dir + "/drive",
                     &out),
              0)
        << out;
    *truth = LoadJson(dir + "/drive/truth.json");
    json_t *scen = LoadJson(dir + "/drive/scenario.json");
    ASSERT_TRUE(*truth && scen);
    json_object_set(scen, "origin", json_object_get(*truth, "origin"));
    size_t i, k;
    json_t *ag, *src;
    json_array_foreach(json_object_get(scen, "agents"), i, ag) {
        if (!strip_ego || S(ag, "id") != "ego") continue;
        json_array_foreach(json_object_get(ag, "sources"), k, src) {
            json_object_del(src, "own_station_id");
            json_object_del(src, "own_macs");
        }
    }
    ASSERT_EQ(json_dump_file(scen, (dir + "/drive/scenario_o.json").c_str(), 0), 0);
    json_decref(scen);
    ASSERT_EQ(vxs_test::RunCli("sync -q " + dir + "/drive/scenario_o.json -o " + dir + "/out" +
                                   sync_args,
                               &out),
              0)
        << out;
}

} // namespace vxs_truth

#endif // VXS_TESTS_TRUTH_UTIL_H
