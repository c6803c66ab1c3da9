#include "test_util.h"

#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "vxs_core.h"

namespace vxs_test {

std::string SharedPath(const std::string &rel) {
    const char *env = std::getenv("VXS_SHARED_DIR");
    std::string base = env && *env ? env : VXS_SHARED_DIR;
    std::string p = base + "/" + rel;
    struct stat st;
    return stat(p.c_str(), &st) == 0 ? p : std::string();
}

bool HaveTool(const std::string &name) {
    std::string out;
    return Run("command -v " + name + " >/dev/null 2>&1", &out) == 0;
}

int Run(const std::string &cmd, std::string *out) {
    out->clear();
    FILE *f = popen(cmd.c_str(), "r");
    if (!f) return -1;
    char buf[65536];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, f)) > 0) out->append(buf, n);
    int st = pclose(f);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

std::string Cli() {
    const char *p = std::getenv("VXS_CLI");
    return p ? p : VXS_BINARY_DIR "/v2xsync";
}

int RunCli(const std::string &args, std::string *out) {
    return Run("'" + Cli() + "' " + args + " 2>&1", out);
}

std::vector<uint8_t> ReadFile(const std::string &path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        ADD_FAILURE() << "cannot read " << path;
        return {};
    }
    return std::vector<uint8_t>(std::istreambuf_iterator<char>(in), {});
}

std::vector<uint8_t> HexBytes(const std::string &hex) {
    std::vector<uint8_t> v;
    int hi = -1;
    for (char c : hex) {
        if (std::isspace(static_cast<unsigned char>(c))) continue;
        if (!std::isxdigit(static_cast<unsigned char>(c))) {
            ADD_FAILURE() << "not a hex digit: '" << c << "'";
            return {};
        }
        int d = std::isdigit(static_cast<unsigned char>(c)) ? c - '0' : (std::tolower(c) - 'a' + 10);
        if (hi < 0) {
            hi = d;
        } else {
            v.push_back(static_cast<uint8_t>(hi << 4 | d));
            hi = -1;
        }
    }
    if (hi >= 0) ADD_FAILURE() << "odd number of hex digits";
    return v;
}

std::string XmlText(const std::string &xml, const std::string &tag, size_t from) {
    size_t a = xml.find("<" + tag + ">", from);
    if (a == std::string::npos) {
        ADD_FAILURE() << "no <" << tag << "> after offset " << from;
        return "";
    }
    a += tag.size() + 2;
    return xml.substr(a, xml.find('<', a) - a);
}

long XmlLong(const std::string &xml, const std::string &tag, size_t from) {
    std::string t = XmlText(xml, tag, from);
    return t.empty() ? 0 : std::stol(t);
}

bool WriteFile(const std::string &path, const std::vector<uint8_t> &data) {
    std::ofstream o(path, std::ios::binary);
    o.write(reinterpret_cast<const char *>(data.data()), static_cast<std::streamsize>(data.size()));
    return static_cast<bool>(o);
}

const char *const kSharedCaptures[9] = {
    "datasets/lidar/velodyne/mrpt_vlp16_gps.pcap",
    "datasets/lidar/velodyne/mrpt_hdl32e.pcap",
    "datasets/lidar/velodyne/nebula_vlp16_dual.pcap",
    "datasets/lidar/velodyne/nebula_vlp32c.pcap",
    "datasets/lidar/ouster/OS-1-64_1024x10_fw20.pcap",
    "datasets/lidar/ouster/OS-2-128-U1_v2.3.0_1024x10.pcap",
    "datasets/lidar/ouster/same_ports_legacy.pcap",
    "datasets/v2x/etsi/msvan3t_cam_cpm.pcap",
    "datasets/v2x/us/wydot_bsm_wsmp_rewrapped.pcap",
};

namespace {
// TsharkNs parses tshark's frame.time_epoch ("1319768048.284089000") into ns, exactly.
int64_t TsharkNs(const std::string &s) {
    size_t dot = s.find('.');
    std::string sec = s.substr(0, dot), frac = dot == std::string::npos ? "" : s.substr(dot + 1);
    frac.resize(9, '0');
    int64_t v = 0, f = 0;
    for (char c : sec) v = v * 10 + (c - '0');
    for (size_t i = 0; i < 9; i++) f = f * 10 + (frac[i] - '0');
    return v * 1000000000 + f;
}
} // namespace

std::vector<int64_t> TsharkTimes(const std::string &path) {
    std::string out;
    std::vector<int64_t> t;
    EXPECT_EQ(Run("tshark -n -r '" + path + "' -T fields -e frame.time_epoch 2>/dev/null", &out), 0);
    size_t pos = 0;
    while (pos < out.size()) {
        size_t nl = out.find('\n', pos);
        if (nl == std::string::npos) nl = out.size();
        if (nl > pos) t.push_back(TsharkNs(out.substr(pos, nl - pos)));
        pos = nl + 1;
    }
    return t;
}

uint64_t CapinfosCount(const std::string &path) {
    std::string out;
    // capinfos exits 1 on a capture cut short but still prints how many packets it read.
    Run("capinfos -c -M '" + path + "' 2>/dev/null", &out);
    size_t at = out.find("Number of packets:");
    if (at == std::string::npos) return 0;
    uint64_t n = 0;
    for (size_t i = at + 18; i < out.size(); i++) {
        if (out[i] >= '0' && out[i] <= '9') n = n * 10 + static_cast<uint64_t>(out[i] - '0');
        else if (n > 0) break;
    }
    return n;
}

namespace {
std::vector<std::string> g_dirs;
void CleanDirs() {
    for (const auto &d : g_dirs) {
        std::string out;
        Run("rm -rf '" + d + "'", &out);
    }
}
long g_count = 0, g_fail_at = -1;
bool g_failed = false;
void *FMalloc(void *, size_t n) {
    if (g_fail_at > 0 && ++g_count >= g_fail_at) {
        g_failed = true;
        return nullptr;
    }
    return std::malloc(n);
}
void *FRealloc(void *, void *p, size_t n) {
    if (g_fail_at > 0 && ++g_count >= g_fail_at) {
        g_failed = true;
        return nullptr;
    }
    return std::realloc(p, n);
}
void FFree(void *, void *p) { std::free(p); }
} // namespace

std::string TempDir() {
    const char *t = std::getenv("TMPDIR");
    std::string tmpl = std::string(t && *t ? t : "/tmp") + "/vxs_test_XXXXXX";
    std::vector<char> b(tmpl.begin(), tmpl.end());
    b.push_back('\0');
    if (!mkdtemp(b.data())) return "";
    if (g_dirs.empty()) std::atexit(CleanDirs);
    g_dirs.emplace_back(b.data());
    return g_dirs.back();
}

FailAllocAfter::FailAllocAfter(long n) {
    g_count = 0;
    g_fail_at = n;
    g_failed = false;
    vxs_alloc_t a = {FMalloc, FRealloc, FFree, nullptr};
    vxs_set_allocator(&a);
}
FailAllocAfter::~FailAllocAfter() {
    g_fail_at = -1;
    vxs_set_allocator(nullptr);
}
long FailAllocAfter::AllocCount() { return g_count; }
bool FailAllocAfter::Failed() { return g_failed; }

} // namespace vxs_test
