// Atomic output files and the JSON-lines records sink.
#include <jansson.h>
#include <csignal>
#include <cstring>
#include <sys/resource.h>
#include <sys/stat.h>

#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "test_util.h"
#include "vxs_export.h"

namespace {

bool Exists(const std::string &p) {
    struct stat st;
    return stat(p.c_str(), &st) == 0;
}

std::string Slurp(const std::string &p) {
    std::ifstream in(p);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

int CountFiles(const std::string &dir) {
    std::string out;
    vxs_test::Run("ls -A '" + dir + "' | wc -l", &out);
    return std::stoi(out);
}

TEST(AtomicFile, NothingUnderFinalNameUntilCommit) {
    std::string dir = vxs_test::TempDir(), path = dir + "/out.json";
    vxs_afile_t *f = nullptr;
    char err[256];
    ASSERT_EQ(vxs_afile_open(&f, path.c_str(), err, sizeof err), VXS_OK);
    ASSERT_EQ(vxs_afile_printf(f, "{\"n\": %d}\n", 42), VXS_OK);
    EXPECT_FALSE(Exists(path)); // a crash here leaves only the temporary file
    EXPECT_EQ(CountFiles(dir), 1);
    ASSERT_EQ(vxs_afile_commit(f, nullptr, 0), VXS_OK);
    EXPECT_EQ(Slurp(path), "{\"n\": 42}\n");
    struct stat sb;
    ASSERT_EQ(stat(path.c_str(), &sb), 0);
    mode_t mask = umask(0);
    umask(mask);
    EXPECT_EQ(sb.st_mode & 0777, 0666 & ~mask); // as fopen would create it, not mkstemp's 0600
    EXPECT_EQ(CountFiles(dir), 1); // the temporary file was renamed, not copied
}

TEST(AtomicFile, AbortLeavesNothing) {
    std::string dir = vxs_test::TempDir(), path = dir + "/out.json";
    vxs_afile_t *f = nullptr;
    ASSERT_EQ(vxs_afile_open(&f, path.c_str(), nullptr, 0), VXS_OK);
    ASSERT_EQ(vxs_afile_write(f, "partial", 7), VXS_OK);
    vxs_afile_abort(f);
    EXPECT_EQ(CountFiles(dir), 0);
    vxs_afile_abort(nullptr);
}

TEST(AtomicFile, CommitReplacesOldFileWhole) {
    std::string dir = vxs_test::TempDir(), path = dir + "/out.txt";
    ASSERT_TRUE(vxs_test::WriteFile(path, {'o', 'l', 'd'}));
    vxs_afile_t *f = nullptr;
    ASSERT_EQ(vxs_afile_open(&f, path.c_str(), nullptr, 0), VXS_OK);
    ASSERT_EQ(vxs_afile_write(f, "new", 3), VXS_OK);
    EXPECT_EQ(Slurp(path), "old");
    ASSERT_EQ(vxs_afile_commit(f, nullptr, 0), VXS_OK);
    EXPECT_EQ(Slurp(path), "new");
}

TEST(AtomicFile, MissingFolderIsAClearError) {
    vxs_afile_t *f = nullptr;
    char err[256] = "";
    EXPECT_EQ(vxs_afile_open(&f, "/nonexistent-dir/x/out.json", err, sizeof err), VXS_E_IO);
    EXPECT_EQ(f, nullptr);
    EXPECT_NE(std::string(err).find("/nonexistent-dir/x/out.json"), std::string::npos) << err;
}

TEST(AtomicFile, WriteErrorPreventsPublishing) {
    // A file-size limit makes writes fail with EFBIG (a full disk behaves the same way).
    std::string dir = vxs_test::TempDir(), path = dir + "/out.bin";
    vxs_afile_t *f = nullptr;
    ASSERT_EQ(vxs_afile_open(&f, path.c_str(), nullptr, 0), VXS_OK);
    struct rlimit old;
    ASSERT_EQ(getrlimit(RLIMIT_FSIZE, &old), 0);
    void (*prev)(int) = signal(SIGXFSZ, SIG_IGN);
    struct rlimit lim = old;
    lim.rlim_cur = 64 * 1024;
    ASSERT_EQ(setrlimit(RLIMIT_FSIZE, &lim), 0);
    std::string big(1 << 20, 'x');
    vxs_status_t st = vxs_afile_write(f, big.data(), big.size());
    char err[512] = "";
    vxs_status_t cst = vxs_afile_commit(f, err, sizeof err);
    setrlimit(RLIMIT_FSIZE, &old);
    signal(SIGXFSZ, prev);
    EXPECT_EQ(st, VXS_E_IO);
    EXPECT_EQ(cst, VXS_E_IO);
    EXPECT_NE(std::string(err).find(path), std::string::npos) << err;
    EXPECT_FALSE(Exists(path));
    EXPECT_EQ(CountFiles(dir), 0); // the temporary file is removed too
}

// The file gets the mode a plain fopen would give (0666 less the umask), from threads too:
// nothing reads or changes the process umask.
TEST(AtomicFile, ModeIsTheUmasksFromManyThreads) {
    std::string dir = vxs_test::TempDir();
    mode_t old = umask(027);
    std::vector<std::thread> ts;
    for (int t = 0; t < 8; t++)
        ts.emplace_back([&dir, t] {
            for (int i = 0; i < 20; i++) {
                std::string path = dir + "/m" + std::to_string(t) + "_" + std::to_string(i);
                vxs_afile_t *f = nullptr;
                ASSERT_EQ(vxs_afile_open(&f, path.c_str(), nullptr, 0), VXS_OK);
                ASSERT_EQ(vxs_afile_write(f, "x", 1), VXS_OK);
                ASSERT_EQ(vxs_afile_commit(f, nullptr, 0), VXS_OK);
            }
        });
    for (auto &t : ts) t.join();
    umask(old);
    for (int t = 0; t < 8; t++)
        for (int i = 0; i < 20; i++) {
            struct stat st;
            std::string path = dir + "/m" + std::to_string(t) + "_" + std::to_string(i);
            ASSERT_EQ(stat(path.c_str(), &st), 0) << path;
            EXPECT_EQ(st.st_mode & 0777, 0640u) << path;
        }
}

TEST(JsonlSink, WritesOneObjectPerRecord) {
    std::string dir = vxs_test::TempDir(), path = dir + "/records.jsonl";
    vxs_sink_t *sink = nullptr;
    char err[256];
    ASSERT_EQ(vxs_jsonl_sink_create(&sink, path.c_str(), err, sizeof err), VXS_OK) << err;
    vxs_record_t r;
    vxs_record_init(&r, VXS_REC_PACKET);
    r.agent = 2;
    r.capture_time = INT64_C(1453364282123456789);
    r.loc.index = 7;
    r.loc.offset = 4242;
    r.loc.count = 1;
    r.u.packet.caplen = 1248;
    r.u.packet.wirelen = 1248;
    r.u.packet.ethertype = 0x0800;
    r.u.packet.ip_version = 4;
    r.u.packet.ip_proto = 17;
    const uint8_t src[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 192, 168, 1, 201};
    memcpy(r.u.packet.src_addr, src, 16);
    r.u.packet.src_port = 2368;
    r.u.packet.dst_port = 2368;
    ASSERT_EQ(vxs_sink_write(sink, &r, nullptr, 0), VXS_OK);
    r.loc.index = 8;
    ASSERT_EQ(vxs_sink_write(sink, &r, nullptr, 0), VXS_OK);
    EXPECT_FALSE(Exists(path));
    ASSERT_EQ(vxs_sink_finish(sink), VXS_OK);
    vxs_sink_destroy(sink);

    std::ifstream in(path);
    std::string line;
    int n = 0;
    while (std::getline(in, line)) {
        json_error_t je;
        json_t *o = json_loads(line.c_str(), 0, &je);
        ASSERT_NE(o, nullptr) << je.text;
        EXPECT_STREQ(json_string_value(json_object_get(o, "kind")), "packet");
        EXPECT_EQ(json_integer_value(json_object_get(o, "capture_ns")), INT64_C(1453364282123456789));
        json_t *loc = json_object_get(o, "locator");
        EXPECT_EQ(json_integer_value(json_object_get(loc, "index")), 7 + n);
        EXPECT_EQ(json_integer_value(json_object_get(loc, "offset")), 4242);
        json_t *sum = json_object_get(o, "summary");
        EXPECT_STREQ(json_string_value(json_object_get(sum, "src")), "192.168.1.201");
        EXPECT_EQ(json_integer_value(json_object_get(sum, "dst_port")), 2368);
        json_decref(o);
        n++;
    }
    EXPECT_EQ(n, 2);
}

TEST(JsonlSink, DestroyBeforeFinishLeavesNothing) {
    std::string dir = vxs_test::TempDir(), path = dir + "/records.jsonl";
    vxs_sink_t *sink = nullptr;
    ASSERT_EQ(vxs_jsonl_sink_create(&sink, path.c_str(), nullptr, 0), VXS_OK);
    vxs_record_t r;
    vxs_record_init(&r, VXS_REC_CAMERA_FRAME);
    ASSERT_EQ(vxs_sink_write(sink, &r, nullptr, 0), VXS_OK);
    vxs_sink_destroy(sink);
    EXPECT_EQ(CountFiles(dir), 0);
}

} // namespace
