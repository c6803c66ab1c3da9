// video_probe_test.cc: vxs_video_probe on the real phone clip, against ffprobe and SOURCES.md.
#include <algorithm>
#include <string>
#include <vector>

#include "test_util.h"
#include "vxs_core.h"
#include "vxs_sensors.h"

namespace {

struct Pts {
    std::vector<int64_t> ns;
    std::vector<uint64_t> idx;
    size_t keys = 0;
};

void OnPts(void *user, uint64_t index, int64_t pts_ns, bool key) {
    Pts *p = static_cast<Pts *>(user);
    p->ns.push_back(pts_ns);
    p->idx.push_back(index);
    if (key) p->keys++;
}

TEST(VideoProbe, PhoneClipFacts) {
    VXS_SHARED_OR_SKIP(path, "datasets/camera/phone_vfr_1080p.mp4");
    vxs_video_info_t info;
    Pts pts;
    char err[512] = "";
    ASSERT_EQ(vxs_video_probe(&info, path.c_str(), OnPts, &pts, err, sizeof err), VXS_OK) << err;
    EXPECT_EQ(info.packets, 41u);
    EXPECT_STREQ(info.codec, "h264");
    EXPECT_EQ(std::string(info.format).rfind("mov,mp4", 0), 0u) << info.format;
    EXPECT_EQ(info.width, 1920u);
    EXPECT_EQ(info.height, 1080u);
    EXPECT_EQ(info.tb_num, 1);
    EXPECT_EQ(info.tb_den, 90000);
    vxs_time_t want;
    ASSERT_EQ(vxs_time_parse(&want, "2019-12-20T20:08:34Z"), VXS_OK);
    EXPECT_EQ(info.creation_time, want);
    EXPECT_EQ(info.corrupt_packets, 0u);
    EXPECT_EQ(info.first_corrupt_offset, -1);
    EXPECT_GE(info.key_frames, 1u);
    EXPECT_EQ(pts.keys, info.key_frames);
    ASSERT_EQ(pts.ns.size(), 41u);
    for (size_t i = 0; i < pts.idx.size(); i++) EXPECT_EQ(pts.idx[i], i);
    // SOURCES.md: first gap 16610 ticks (184.6 ms), then 39 x 2999 ticks.
    std::vector<int64_t> s = pts.ns;
    std::sort(s.begin(), s.end());
    EXPECT_NEAR(static_cast<double>(s[1] - s[0]), 16610 * 1e9 / 90000, 1.0);
    for (size_t i = 2; i < s.size(); i++)
        EXPECT_NEAR(static_cast<double>(s[i] - s[i - 1]), 2999 * 1e9 / 90000, 1.0) << i;
    EXPECT_EQ(info.last_pts - info.first_pts, 16610 + 39 * 2999);
}

TEST(VideoProbe, PtsMatchFfprobe) {
    VXS_SHARED_OR_SKIP(path, "datasets/camera/phone_vfr_1080p.mp4");
    VXS_TOOL_OR_SKIP("ffprobe");
    std::string out;
    ASSERT_EQ(vxs_test::Run("ffprobe -v error -select_streams v:0 -show_entries packet=pts -of "
                            "csv=p=0 '" + path + "'",
                            &out),
              0);
    std::vector<int64_t> want;
    size_t pos = 0;
    while (pos < out.size()) {
        size_t nl = out.find('\n', pos);
        if (nl == std::string::npos) nl = out.size();
        std::string line = out.substr(pos, nl - pos);
        pos = nl + 1;
        if (line.empty()) continue;
        int64_t v = 0;
        for (char c : line)
            if (c >= '0' && c <= '9') v = v * 10 + (c - '0');
        // time base 1/90000 -> ns, rounded to nearest like av_rescale_q
        want.push_back((v * 1000000000 + 45000) / 90000);
    }
    vxs_video_info_t info;
    Pts pts;
    char err[512] = "";
    ASSERT_EQ(vxs_video_probe(&info, path.c_str(), OnPts, &pts, err, sizeof err), VXS_OK) << err;
    std::sort(want.begin(), want.end());
    std::sort(pts.ns.begin(), pts.ns.end());
    EXPECT_EQ(pts.ns, want);
}

TEST(VideoProbe, TruncatedCopy) {
    VXS_SHARED_OR_SKIP(path, "datasets/camera/phone_vfr_1080p.mp4");
    std::vector<uint8_t> full = vxs_test::ReadFile(path);
    std::string cut = vxs_test::TempDir() + "/half.mp4";
    ASSERT_TRUE(vxs_test::WriteFile(cut, std::vector<uint8_t>(full.begin(),
                                                               full.begin() + static_cast<long>(full.size() / 2))));
    vxs_video_info_t info;
    Pts pts;
    char err[512] = "";
    vxs_status_t st = vxs_video_probe(&info, cut.c_str(), OnPts, &pts, err, sizeof err);
    EXPECT_TRUE(st == VXS_E_TRUNCATED || st == VXS_E_MALFORMED) << vxs_status_name(st);
    EXPECT_NE(std::string(err).find(cut), std::string::npos) << err;
    EXPECT_NE(std::string(err).find("byte offset"), std::string::npos) << err;
    EXPECT_GT(info.packets, 0u);
    EXPECT_LT(info.packets, 41u);
    EXPECT_EQ(pts.ns.size(), info.packets);
    // The packet the cut went through may be flagged corrupt; it is located when it is.
    if (info.corrupt_packets) {
        EXPECT_GE(info.first_corrupt_offset, 0);
        EXPECT_LT(info.first_corrupt_offset, static_cast<int64_t>(full.size() / 2));
    }
}

TEST(VideoProbe, Errors) {
    std::string dir = vxs_test::TempDir();
    vxs_video_info_t info;
    char err[512] = "";
    std::string missing = dir + "/none.mp4";
    EXPECT_EQ(vxs_video_probe(&info, missing.c_str(), nullptr, nullptr, err, sizeof err), VXS_E_IO);
    EXPECT_NE(std::string(err).find(missing), std::string::npos) << err;
    std::string txt = dir + "/t.mp4";
    std::string s = "not a video at all\n";
    ASSERT_TRUE(vxs_test::WriteFile(txt, std::vector<uint8_t>(s.begin(), s.end())));
    EXPECT_EQ(vxs_video_probe(&info, txt.c_str(), nullptr, nullptr, err, sizeof err),
              VXS_E_UNSUPPORTED);
    EXPECT_NE(std::string(err).find(txt), std::string::npos) << err;
    // The moov box alone (mdat cut off entirely): header fine, no packet readable.
    std::string p = vxs_test::SharedPath("datasets/camera/phone_vfr_1080p.mp4");
    if (p.empty()) return;
    std::vector<uint8_t> full = vxs_test::ReadFile(p);
    std::string head = dir + "/head.mp4";
    ASSERT_TRUE(vxs_test::WriteFile(head, std::vector<uint8_t>(full.begin(), full.begin() + 1794)));
    vxs_status_t st = vxs_video_probe(&info, head.c_str(), nullptr, nullptr, err, sizeof err);
    EXPECT_TRUE(st == VXS_E_TRUNCATED || st == VXS_E_MALFORMED) << vxs_status_name(st);
    EXPECT_EQ(info.packets, 0u);
    EXPECT_NE(std::string(err).find(head), std::string::npos) << err;
}

} // namespace
