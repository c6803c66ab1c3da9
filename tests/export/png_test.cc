// The PNG writer: round trips through two independent decoders (the ffmpeg CLI and libpng's
// simplified reader), every option, errors that leave nothing behind, threads, allocation failure.
#include <png.h>

#include <csignal>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "test_util.h"
#include "vxs_export.h"

namespace {

bool Exists(const std::string &p) {
    struct stat st;
    return stat(p.c_str(), &st) == 0;
}

int CountFiles(const std::string &dir) {
    std::string out;
    vxs_test::Run("ls -A '" + dir + "' | wc -l", &out);
    return std::stoi(out);
}

unsigned BytesPerPixel(vxs_png_format_t f) {
    return f == VXS_PNG_GRAY8 ? 1 : f == VXS_PNG_RGBA32 ? 4 : 3;
}

// Image is a synthetic picture: gradients plus noise, rows `stride` bytes apart with the padding
// filled with 0xEE so a writer that reads it would show up in the comparison.
struct Image {
    uint32_t w, h;
    size_t stride;
    vxs_png_format_t fmt;
    std::vector<uint8_t> px;
    Image(uint32_t w_, uint32_t h_, size_t pad, uint32_t seed, vxs_png_format_t f = VXS_PNG_RGB24,
          int noise = 24)
        : w(w_), h(h_), stride(w_ * BytesPerPixel(f) + pad), fmt(f), px(stride * h_, 0xEE) {
        uint32_t s = seed * 2654435761u + 1;
        unsigned bpp = BytesPerPixel(f);
        for (uint32_t y = 0; y < h; y++)
            for (uint32_t x = 0; x < w; x++)
                for (unsigned c = 0; c < bpp; c++) {
                    s ^= s << 13, s ^= s >> 17, s ^= s << 5; // xorshift32
                    int v = c == 0   ? (int)(x * 255 / w)
                            : c == 1 ? (int)(y * 255 / h)
                                     : (int)((x + y + seed) & 255);
                    if (noise) v += (int)(s % (unsigned)noise) - noise / 2;
                    px[y * stride + x * bpp + c] = (uint8_t)(v < 0 ? 0 : v > 255 ? 255 : v);
                }
    }
    // Packed returns the pixels without row padding, as decoders return them.
    std::vector<uint8_t> Packed() const {
        size_t row = (size_t)w * BytesPerPixel(fmt);
        std::vector<uint8_t> out;
        for (uint32_t y = 0; y < h; y++)
            out.insert(out.end(), px.begin() + (long)(y * stride),
                       px.begin() + (long)(y * stride + row));
        return out;
    }
};

vxs_png_options_t Opts(int level, vxs_png_filter_t f, vxs_png_strategy_t s,
                       vxs_png_format_t fmt = VXS_PNG_RGB24) {
    vxs_png_options_t o;
    std::memset(&o, 0, sizeof o);
    o.format = fmt;
    o.level = level;
    o.filter = f;
    o.strategy = s;
    return o;
}

uint32_t LibpngFormat(vxs_png_format_t f) {
    return f == VXS_PNG_GRAY8    ? PNG_FORMAT_GRAY
           : f == VXS_PNG_RGBA32 ? PNG_FORMAT_RGBA
                                 : PNG_FORMAT_RGB;
}

// LibpngDecode decodes with libpng's simplified API (a different code path from the writer's),
// from a file when `path` is set, else from `mem`. Checks the size; empty on error.
std::vector<uint8_t> LibpngDecode(const std::string &path, const std::vector<uint8_t> &mem,
                                  const Image &img) {
    png_image pi;
    std::memset(&pi, 0, sizeof pi);
    pi.version = PNG_IMAGE_VERSION;
    int ok = path.empty() ? png_image_begin_read_from_memory(&pi, mem.data(), mem.size())
                          : png_image_begin_read_from_file(&pi, path.c_str());
    if (!ok) {
        ADD_FAILURE() << "libpng: " << pi.message;
        return {};
    }
    EXPECT_EQ(pi.width, img.w);
    EXPECT_EQ(pi.height, img.h);
    pi.format = LibpngFormat(img.fmt);
    std::vector<uint8_t> out(PNG_IMAGE_SIZE(pi));
    if (pi.width != img.w || pi.height != img.h ||
        !png_image_finish_read(&pi, nullptr, out.data(), 0, nullptr)) {
        ADD_FAILURE() << "libpng: " << pi.message;
        png_image_free(&pi);
        return {};
    }
    return out;
}

// FfmpegDecode decodes `path` with the ffmpeg CLI to packed pixels of `pix_fmt`.
std::vector<uint8_t> FfmpegDecode(const std::string &path, const char *pix_fmt) {
    std::string out;
    int rc = vxs_test::Run(std::string("ffmpeg -nostdin -v error -i '") + path +
                               "' -f rawvideo -pix_fmt " + pix_fmt + " -",
                           &out);
    EXPECT_EQ(rc, 0) << "ffmpeg failed on " << path;
    return std::vector<uint8_t>(out.begin(), out.end());
}

TEST(PngWrite, RoundTripOddWidthPaddedStrideFfmpegAndLibpng) {
    std::string dir = vxs_test::TempDir(), path = dir + "/out.png";
    Image img(1921, 17, 13, 7); // odd width, stride = 1921*3 + 13
    char err[512] = "";
    ASSERT_EQ(vxs_png_write(path.c_str(), img.px.data(), img.w, img.h, img.stride, nullptr, err,
                            sizeof err),
              VXS_OK)
        << err;
    EXPECT_EQ(CountFiles(dir), 1); // no temporary file left beside it
    std::vector<uint8_t> want = img.Packed();
    std::vector<uint8_t> got = LibpngDecode(path, {}, img);
    EXPECT_TRUE(got == want) << "libpng decodes different pixels";

    VXS_TOOL_OR_SKIP("ffmpeg");
    got = FfmpegDecode(path, "rgb24");
    ASSERT_EQ(got.size(), want.size());
    EXPECT_TRUE(got == want) << "ffmpeg decodes different pixels";
}

TEST(PngWrite, GrayAndRgbaRoundTrip) {
    std::string dir = vxs_test::TempDir();
    const struct {
        vxs_png_format_t fmt;
        const char *ff;
    } cases[] = {{VXS_PNG_GRAY8, "gray"}, {VXS_PNG_RGBA32, "rgba"}, {VXS_PNG_RGB24, "rgb24"}};
    for (const auto &c : cases) {
        SCOPED_TRACE(c.ff);
        std::string path = dir + "/" + c.ff + ".png";
        Image img(333, 29, 5, 3, c.fmt);
        vxs_png_options_t o = Opts(0, VXS_PNG_FILTER_DEFAULT, VXS_PNG_STRATEGY_DEFAULT, c.fmt);
        char err[512] = "";
        ASSERT_EQ(vxs_png_write(path.c_str(), img.px.data(), img.w, img.h, img.stride, &o, err,
                                sizeof err),
                  VXS_OK)
            << err;
        EXPECT_TRUE(LibpngDecode(path, {}, img) == img.Packed());
        if (vxs_test::HaveTool("ffmpeg")) {
            EXPECT_TRUE(FfmpegDecode(path, c.ff) == img.Packed());
        }
    }
}

TEST(PngWrite, EveryLevelFilterStrategyRoundTrips) {
    Image img(97, 23, 3, 11);
    std::vector<uint8_t> want = img.Packed();
    vxs_buf_t buf = {};
    char err[256] = "";
    int n = 0;
    for (int level = VXS_PNG_LEVEL_STORE; level <= 9; level++)
        for (int f = VXS_PNG_FILTER_DEFAULT; f <= VXS_PNG_FILTER_ADAPTIVE; f++)
            for (int s = VXS_PNG_STRATEGY_DEFAULT; s <= VXS_PNG_STRATEGY_HUFFMAN; s++) {
                SCOPED_TRACE("level " + std::to_string(level) + " filter " + std::to_string(f) +
                             " strategy " + std::to_string(s));
                vxs_png_options_t o = Opts(level, (vxs_png_filter_t)f, (vxs_png_strategy_t)s);
                ASSERT_EQ(vxs_png_encode_mem(&buf, img.px.data(), img.w, img.h, img.stride, &o, err,
                                             sizeof err),
                          VXS_OK)
                    << err;
                std::vector<uint8_t> png(buf.data, buf.data + buf.len);
                ASSERT_TRUE(LibpngDecode("", png, img) == want);
                n++;
            }
    EXPECT_EQ(n, 11 * 7 * 5);
    vxs_buf_free(&buf);
}

TEST(PngWrite, OptionsChangeTheOutputAndNullMeansDefaults) {
    Image img(200, 40, 0, 5);
    vxs_buf_t a = {}, b = {};
    auto enc = [&](vxs_buf_t *out, const vxs_png_options_t *o) {
        ASSERT_EQ(vxs_png_encode_mem(out, img.px.data(), img.w, img.h, img.stride, o, nullptr, 0),
                  VXS_OK);
    };
    vxs_png_options_t zero = Opts(0, VXS_PNG_FILTER_DEFAULT, VXS_PNG_STRATEGY_DEFAULT);
    vxs_png_options_t dflt =
        Opts(VXS_PNG_DEFAULT_LEVEL, VXS_PNG_DEFAULT_FILTER, VXS_PNG_DEFAULT_STRATEGY);
    enc(&a, nullptr);
    enc(&b, &zero);
    EXPECT_EQ(std::vector<uint8_t>(a.data, a.data + a.len),
              std::vector<uint8_t>(b.data, b.data + b.len));
    enc(&b, &dflt);
    EXPECT_EQ(std::vector<uint8_t>(a.data, a.data + a.len),
              std::vector<uint8_t>(b.data, b.data + b.len));
    // The options reach libpng: stored is larger than level 9, and filters differ in output.
    vxs_png_options_t store = Opts(VXS_PNG_LEVEL_STORE, VXS_PNG_FILTER_NONE, VXS_PNG_STRATEGY_ZLIB);
    vxs_png_options_t best = Opts(9, VXS_PNG_FILTER_ADAPTIVE, VXS_PNG_STRATEGY_ZLIB);
    enc(&a, &store);
    EXPECT_GT(a.len, (size_t)img.w * img.h * 3);
    enc(&b, &best);
    EXPECT_LT(b.len, a.len * 3 / 4);
    vxs_png_options_t sub = Opts(1, VXS_PNG_FILTER_SUB, VXS_PNG_STRATEGY_ZLIB);
    vxs_png_options_t up = Opts(1, VXS_PNG_FILTER_UP, VXS_PNG_STRATEGY_ZLIB);
    enc(&a, &sub);
    enc(&b, &up);
    EXPECT_NE(std::vector<uint8_t>(a.data, a.data + a.len),
              std::vector<uint8_t>(b.data, b.data + b.len));
    vxs_buf_free(&a);
    vxs_buf_free(&b);
}

TEST(PngWrite, BadArgumentsAreRejectedBeforeAnythingIsCreated) {
    std::string dir = vxs_test::TempDir(), path = dir + "/x.png";
    Image img(8, 8, 0, 1);
    const uint8_t *p = img.px.data();
    char err[256];
    vxs_png_options_t bad_level = Opts(10, VXS_PNG_FILTER_DEFAULT, VXS_PNG_STRATEGY_DEFAULT);
    vxs_png_options_t bad_filter = Opts(1, (vxs_png_filter_t)7, VXS_PNG_STRATEGY_DEFAULT);
    vxs_png_options_t bad_strategy = Opts(1, VXS_PNG_FILTER_UP, (vxs_png_strategy_t)5);
    vxs_png_options_t bad_format =
        Opts(1, VXS_PNG_FILTER_UP, VXS_PNG_STRATEGY_RLE, (vxs_png_format_t)3);
    vxs_png_options_t rgba =
        Opts(0, VXS_PNG_FILTER_DEFAULT, VXS_PNG_STRATEGY_DEFAULT, VXS_PNG_RGBA32);
    EXPECT_EQ(vxs_png_write(path.c_str(), p, 0, 8, 24, nullptr, err, sizeof err), VXS_E_ARG);
    EXPECT_NE(std::string(err).find(path), std::string::npos) << err;
    EXPECT_EQ(vxs_png_write(path.c_str(), p, 8, 0, 24, nullptr, err, sizeof err), VXS_E_ARG);
    EXPECT_EQ(vxs_png_write(path.c_str(), p, 8, 8, 23, nullptr, err, sizeof err), VXS_E_ARG);
    EXPECT_EQ(vxs_png_write(path.c_str(), p, 8, 2, 24, &rgba, err, sizeof err), VXS_E_ARG);
    EXPECT_EQ(vxs_png_write(path.c_str(), nullptr, 8, 8, 24, nullptr, err, sizeof err), VXS_E_ARG);
    EXPECT_EQ(vxs_png_write(nullptr, p, 8, 8, 24, nullptr, err, sizeof err), VXS_E_ARG);
    EXPECT_EQ(
        vxs_png_write(path.c_str(), p, VXS_PNG_MAX_DIM + 1, 1, SIZE_MAX, nullptr, err, sizeof err),
        VXS_E_ARG);
    for (const vxs_png_options_t *o : {&bad_level, &bad_filter, &bad_strategy, &bad_format})
        EXPECT_EQ(vxs_png_write(path.c_str(), p, 8, 8, 24, o, err, sizeof err), VXS_E_ARG);
    EXPECT_EQ(CountFiles(dir), 0);

    vxs_buf_t buf = {};
    EXPECT_EQ(vxs_png_encode_mem(&buf, p, 0, 0, 24, nullptr, nullptr, 0), VXS_E_ARG);
    EXPECT_EQ(vxs_png_encode_mem(nullptr, p, 8, 8, 24, nullptr, err, sizeof err), VXS_E_ARG);
    EXPECT_EQ(buf.len, 0u);
    vxs_buf_free(&buf);
}

TEST(PngWrite, MissingFolderNamesThePathAndLeavesNothing) {
    std::string dir = vxs_test::TempDir(), path = dir + "/no/such/folder/out.png";
    Image img(16, 16, 0, 2);
    char err[512] = "";
    EXPECT_EQ(vxs_png_write(path.c_str(), img.px.data(), img.w, img.h, img.stride, nullptr, err,
                            sizeof err),
              VXS_E_IO);
    EXPECT_NE(std::string(err).find(path), std::string::npos) << err;
    EXPECT_FALSE(Exists(dir + "/no"));
    EXPECT_EQ(CountFiles(dir), 0);
}

// WriteAs writes into `dir` as it is (or, when running as root, which ignores permissions, in a
// child that drops to uid/gid 65534 first); returns the status and the message.
std::pair<int, std::string> WriteInReadOnlyDir(const std::string &dir, const Image &img) {
    std::string path = dir + "/out.png";
    char err[512] = "";
    if (geteuid() != 0) {
        vxs_status_t st = vxs_png_write(path.c_str(), img.px.data(), img.w, img.h, img.stride,
                                        nullptr, err, sizeof err);
        return {st, err};
    }
    int fd[2];
    if (pipe(fd) != 0) return {-1, "pipe"};
    pid_t pid = fork();
    if (pid == 0) {
        close(fd[0]);
        int st = -1;
        if (setgid(65534) == 0 && setuid(65534) == 0)
            st = vxs_png_write(path.c_str(), img.px.data(), img.w, img.h, img.stride, nullptr, err,
                               sizeof err);
        else
            std::snprintf(err, sizeof err, "cannot drop privileges");
        if (write(fd[1], &st, sizeof st) != sizeof st) _exit(1);
        if (write(fd[1], err, sizeof err) != sizeof err) _exit(1);
        _exit(0);
    }
    close(fd[1]);
    int st = -1;
    if (read(fd[0], &st, sizeof st) != sizeof st || read(fd[0], err, sizeof err) != sizeof err)
        std::snprintf(err, sizeof err, "child died");
    close(fd[0]);
    waitpid(pid, nullptr, 0);
    err[sizeof err - 1] = '\0';
    return {st, err};
}

TEST(PngWrite, ReadOnlyFolderFailsAndLeavesNoTemporaryFile) {
    std::string dir = vxs_test::TempDir() + "/ro";
    ASSERT_EQ(mkdir(dir.c_str(), 0755), 0);
    std::string parent = dir.substr(0, dir.rfind('/'));
    chmod(parent.c_str(), 0755); // let an unprivileged child reach it
    ASSERT_EQ(chmod(dir.c_str(), 0555), 0);
    Image img(64, 64, 0, 4);
    auto r = WriteInReadOnlyDir(dir, img);
    chmod(dir.c_str(), 0755);
    EXPECT_EQ(r.first, VXS_E_IO) << r.second;
    EXPECT_NE(r.second.find(dir + "/out.png"), std::string::npos) << r.second;
    EXPECT_EQ(CountFiles(dir), 0);
}

// A write failing in the middle of the image (file size limit, as a full disk would): the error
// comes back through libpng's error callback and longjmp, the temporary file is removed.
TEST(PngWrite, WriteFailureMidImageLeavesNothing) {
    std::string dir = vxs_test::TempDir(), path = dir + "/big.png";
    Image img(512, 512, 0, 9, VXS_PNG_RGB24, 256); // noise: ~800 kB whatever the options
    struct rlimit old;
    ASSERT_EQ(getrlimit(RLIMIT_FSIZE, &old), 0);
    void (*prev)(int) = signal(SIGXFSZ, SIG_IGN);
    struct rlimit lim = old;
    lim.rlim_cur = 64 * 1024;
    ASSERT_EQ(setrlimit(RLIMIT_FSIZE, &lim), 0);
    char err[512] = "";
    vxs_status_t st = vxs_png_write(path.c_str(), img.px.data(), img.w, img.h, img.stride, nullptr,
                                    err, sizeof err);
    setrlimit(RLIMIT_FSIZE, &old);
    signal(SIGXFSZ, prev);
    EXPECT_EQ(st, VXS_E_IO);
    EXPECT_NE(std::string(err).find(path), std::string::npos) << err;
    EXPECT_FALSE(Exists(path));
    EXPECT_EQ(CountFiles(dir), 0);
}

TEST(PngWrite, EightThreadsTwentyImagesEachDecodeToTheirOwnPixels) {
    std::string dir = vxs_test::TempDir();
    const int kThreads = 8, kPer = 20;
    auto name = [&](int t, int i) {
        return dir + "/t" + std::to_string(t) + "_" + std::to_string(i) + ".png";
    };
    auto image = [](int t, int i) {
        // Sizes and formats vary too, so a mixed-up state would not go unnoticed.
        return Image((uint32_t)(61 + 7 * t), (uint32_t)(9 + i), (size_t)(i % 4),
                     (uint32_t)(t * 100 + i), (vxs_png_format_t)((t + i) % 3));
    };
    std::vector<int> failures(kThreads, 0);
    std::vector<std::thread> th;
    for (int t = 0; t < kThreads; t++)
        th.emplace_back([&, t] {
            for (int i = 0; i < kPer; i++) {
                Image img = image(t, i);
                vxs_png_options_t o = Opts(1 + (i % 9), (vxs_png_filter_t)(i % 7),
                                           (vxs_png_strategy_t)(t % 5), img.fmt);
                char err[512];
                if (vxs_png_write(name(t, i).c_str(), img.px.data(), img.w, img.h, img.stride, &o,
                                  err, sizeof err) != VXS_OK)
                    failures[t]++;
            }
        });
    for (auto &x : th) x.join();
    for (int t = 0; t < kThreads; t++) EXPECT_EQ(failures[t], 0) << "thread " << t;
    EXPECT_EQ(CountFiles(dir), kThreads * kPer);
    for (int t = 0; t < kThreads; t++)
        for (int i = 0; i < kPer; i++) {
            Image img = image(t, i);
            EXPECT_TRUE(LibpngDecode(name(t, i), {}, img) == img.Packed()) << name(t, i);
        }
}

// Every allocation, libpng's and zlib's included, goes through vxs_malloc: failing each in turn
// gives VXS_E_NOMEM with a message, no file and (under ASan) no leak.
TEST(PngWrite, AllocationFailureAtEveryPointIsCleanedUp) {
    std::string dir = vxs_test::TempDir(), path = dir + "/a.png";
    Image img(300, 20, 2, 6);
    long total;
    {
        vxs_test::FailAllocAfter probe(1L << 30); // counts without failing
        char err[512];
        ASSERT_EQ(vxs_png_write(path.c_str(), img.px.data(), img.w, img.h, img.stride, nullptr, err,
                                sizeof err),
                  VXS_OK);
        total = vxs_test::FailAllocAfter::AllocCount();
    }
    ASSERT_GE(total, 4) << "libpng/zlib allocations do not go through vxs_malloc";
    ASSERT_EQ(unlink(path.c_str()), 0);
    for (long n = 1; n <= total; n++) {
        SCOPED_TRACE("allocation " + std::to_string(n));
        char err[512] = "";
        vxs_status_t st;
        {
            vxs_test::FailAllocAfter fail(n);
            st = vxs_png_write(path.c_str(), img.px.data(), img.w, img.h, img.stride, nullptr, err,
                               sizeof err);
        }
        EXPECT_EQ(st, VXS_E_NOMEM);
        EXPECT_NE(std::string(err).find(path), std::string::npos) << err;
        EXPECT_EQ(CountFiles(dir), 0);
    }
    for (long n = 1;; n++) { // the memory encoder, until it no longer fails
        vxs_buf_t buf = {};
        vxs_status_t st;
        {
            vxs_test::FailAllocAfter fail(n);
            st = vxs_png_encode_mem(&buf, img.px.data(), img.w, img.h, img.stride, nullptr, nullptr,
                                    0);
        }
        vxs_buf_free(&buf);
        if (st == VXS_OK) break;
        ASSERT_EQ(st, VXS_E_NOMEM) << "allocation " << n;
        ASSERT_LT(n, 1000);
    }
}

} // namespace
