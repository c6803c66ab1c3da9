#include "test_util.h"

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

std::vector<uint8_t> ReadFile(const std::string &path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        ADD_FAILURE() << "cannot read " << path;
        return {};
    }
    return std::vector<uint8_t>(std::istreambuf_iterator<char>(in), {});
}

bool WriteFile(const std::string &path, const std::vector<uint8_t> &data) {
    std::ofstream o(path, std::ios::binary);
    o.write(reinterpret_cast<const char *>(data.data()), static_cast<std::streamsize>(data.size()));
    return static_cast<bool>(o);
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
