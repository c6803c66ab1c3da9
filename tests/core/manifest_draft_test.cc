// manifest_draft_test.cc: the draft writer (vxs_manifest_draft_json): the exact text (key order,
// sensor numbering, the reference), paths relative to the drafted folder or to an output folder,
// refusal of drafts the parser refuses, the round trip through vxs_manifest_parse, allocation
// failure.
#include <cstring>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "test_util.h"
#include "vxs_core.h"
#include "vxs_manifest.h"

namespace {

// Draft builds a draft out of vxs_malloc'd memory, as a scan does, freed with
// vxs_manifest_draft_free.
struct Src {
    vxs_source_kind_t kind;
    const char *path, *model, *calibration, *metadata, *timestamps;
    int gps;                        // -1 unknown, 0, 1
    vxs_manifest_v2x_format_t fmt;
    long long own;                  // -1 none
    std::vector<std::vector<uint8_t>> macs;
};
struct Agent {
    const char *id;
    vxs_agent_type_t type;
    std::vector<Src> sources;
};

char *Dup(const char *s) { return s ? vxs_strdup(s) : nullptr; }

vxs_manifest_draft_t *Draft(const char *dir_real, const char *name,
                            const std::vector<Agent> &agents) {
    auto *d = static_cast<vxs_manifest_draft_t *>(vxs_calloc(1, sizeof(vxs_manifest_draft_t)));
    d->dir_real = Dup(dir_real);
    d->name = Dup(name);
    d->n_agents = agents.size();
    d->agents = static_cast<vxs_draft_agent_t *>(
        vxs_calloc(agents.size() + 1, sizeof(vxs_draft_agent_t)));
    for (size_t i = 0; i < agents.size(); i++) {
        vxs_draft_agent_t &a = d->agents[i];
        a.id = Dup(agents[i].id);
        a.type = agents[i].type;
        a.n_sources = agents[i].sources.size();
        a.sources = static_cast<vxs_draft_source_t *>(
            vxs_calloc(a.n_sources + 1, sizeof(vxs_draft_source_t)));
        for (size_t k = 0; k < a.n_sources; k++) {
            const Src &s = agents[i].sources[k];
            vxs_draft_source_t &o = a.sources[k];
            o.kind = s.kind;
            o.path = Dup(s.path);
            o.model = Dup(s.model);
            o.calibration = Dup(s.calibration);
            o.metadata = Dup(s.metadata);
            o.timestamps = Dup(s.timestamps);
            o.has_gps_locked = s.gps >= 0;
            o.gps_locked = s.gps == 1;
            o.v2x_format = s.fmt;
            o.has_own_station_id = s.own >= 0;
            o.own_station_id = s.own >= 0 ? static_cast<uint32_t>(s.own) : 0;
            o.n_own_macs = s.macs.size();
            for (size_t m = 0; m < s.macs.size(); m++) memcpy(o.own_macs[m], s.macs[m].data(), 6);
        }
    }
    return d;
}

const Src kCamera{VXS_SOURCE_CAMERA, "p/front.mp4", nullptr, nullptr, nullptr,
                  "p/front.timestamps", -1, VXS_MANIFEST_V2X_AUTO, -1, {}};
const Src kHexLog{VXS_SOURCE_V2X, "p/radio.txt", nullptr, nullptr, nullptr, nullptr, -1,
                  VXS_MANIFEST_V2X_HEX, -1, {}};
const Src kVelodyne{VXS_SOURCE_LIDAR, "ego/a.pcap", "VLP-16", "ego/VLP16.yaml", nullptr, nullptr,
                    1, VXS_MANIFEST_V2X_AUTO, -1, {}};
const Src kOuster{VXS_SOURCE_LIDAR, "ego/b.pcap", "OS-1-64", nullptr, "ego/b.json", nullptr, -1,
                  VXS_MANIFEST_V2X_AUTO, -1, {}};
const Src kCam2{VXS_SOURCE_CAMERA, "ego/c.mp4", nullptr, nullptr, nullptr, nullptr, -1,
                VXS_MANIFEST_V2X_AUTO, -1, {}};
const Src kCapture{VXS_SOURCE_V2X, "ego/v.pcap", nullptr, nullptr, nullptr, nullptr, -1,
                   VXS_MANIFEST_V2X_PCAP, 4294967295LL,
                   {{0x02, 0x56, 0x58, 0x53, 0x10, 0x01}, {0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0xff}}};
const Src kWydot{VXS_SOURCE_V2X, "ego/w.bin", nullptr, nullptr, nullptr, nullptr, -1,
                 VXS_MANIFEST_V2X_WYDOT, 0, {}};

// kTwoAgents: the first agent has no lidar, so the reference is the second's first lidar.
std::vector<Agent> TwoAgents() {
    return {{"cam-only", VXS_AGENT_VRU, {kCamera, kHexLog}},
            {"ego", VXS_AGENT_VEHICLE, {kVelodyne, kOuster, kCam2, kCamera, kCapture, kWydot}}};
}

struct Out {
    vxs_status_t st;
    std::string text, err;
};

Out Write(const vxs_manifest_draft_t *d, const char *out_dir_real = nullptr) {
    char *text = nullptr, err[VXS_MANIFEST_ERR_LEN];
    size_t len = 0;
    vxs_status_t st = vxs_manifest_draft_json(&text, &len, d, out_dir_real, err, sizeof err);
    Out o{st, text ? std::string(text, len) : "", st == VXS_OK ? "" : err};
    if (st == VXS_OK) EXPECT_EQ(strlen(text), len);
    else EXPECT_EQ(text, nullptr);
    vxs_free(text);
    return o;
}

TEST(ManifestDraft, TextInTheSchemasKeyOrder) {
    vxs_manifest_draft_t *d = Draft("/data/drives/d1", "d1", TwoAgents());
    Out o = Write(d);
    ASSERT_EQ(o.st, VXS_OK) << o.err;
    EXPECT_EQ(o.text, R"({
  "version": 1,
  "name": "d1",
  "agents": [
    {
      "id": "cam-only",
      "type": "vru",
      "sources": [
        {
          "path": "p/front.mp4",
          "kind": "camera",
          "sensor": "camera",
          "timestamps": "p/front.timestamps"
        },
        {
          "path": "p/radio.txt",
          "kind": "v2x",
          "sensor": "v2x",
          "format": "hex"
        }
      ]
    },
    {
      "id": "ego",
      "type": "vehicle",
      "sources": [
        {
          "path": "ego/a.pcap",
          "kind": "lidar",
          "sensor": "lidar",
          "model": "VLP-16",
          "calibration": "ego/VLP16.yaml",
          "clock": {
            "gps_locked": true
          }
        },
        {
          "path": "ego/b.pcap",
          "kind": "lidar",
          "sensor": "lidar2",
          "model": "OS-1-64",
          "metadata": "ego/b.json"
        },
        {
          "path": "ego/c.mp4",
          "kind": "camera",
          "sensor": "camera"
        },
        {
          "path": "p/front.mp4",
          "kind": "camera",
          "sensor": "camera2",
          "timestamps": "p/front.timestamps"
        },
        {
          "path": "ego/v.pcap",
          "kind": "v2x",
          "sensor": "v2x",
          "format": "pcap",
          "own_station_id": 4294967295,
          "own_macs": [
            "02:56:58:53:10:01",
            "0a:0b:0c:0d:0e:ff"
          ]
        },
        {
          "path": "ego/w.bin",
          "kind": "v2x",
          "sensor": "v2x2",
          "format": "wydot",
          "own_station_id": 0
        }
      ]
    }
  ],
  "reference": {
    "agent": "ego",
    "sensor": "lidar"
  }
}
)");
    vxs_manifest_draft_free(d);
}

TEST(ManifestDraft, NoLidarNoReferenceNoName) {
    vxs_manifest_draft_t *d = Draft("/d", nullptr, {{"obu", VXS_AGENT_VEHICLE, {kHexLog}}});
    Out o = Write(d);
    ASSERT_EQ(o.st, VXS_OK) << o.err;
    EXPECT_EQ(o.text.find("\"reference\""), std::string::npos) << o.text;
    EXPECT_EQ(o.text.find("\"name\""), std::string::npos) << o.text;
    EXPECT_EQ(o.text.rfind("{\n  \"version\": 1,\n  \"agents\": [", 0), 0u) << o.text;
    vxs_manifest_draft_free(d);
}

// The first path of the written text.
std::string FirstPath(const std::string &text) {
    const std::string key = "\"path\": \"";
    size_t a = text.find(key);
    if (a == std::string::npos) return "(none)";
    a += key.size();
    return text.substr(a, text.find('"', a) - a);
}

TEST(ManifestDraft, PathsRelativeToTheOutputFolderWhenBelowIt) {
    const std::vector<Agent> ego = {{"ego", VXS_AGENT_VEHICLE, {kVelodyne}}};
    vxs_manifest_draft_t *d = Draft("/data/drives/d1", "d1", ego);
    struct {
        const char *out_dir, *path;
    } cases[] = {
        {nullptr, "ego/a.pcap"},                        // a manifest kept in the drafted folder
        {"/data/drives/d1", "ego/a.pcap"},              // the drafted folder itself
        {"/data/drives", "d1/ego/a.pcap"},              // beside it
        {"/data", "drives/d1/ego/a.pcap"},
        {"/", "data/drives/d1/ego/a.pcap"},             // the root
        {"/data/drives/d", "/data/drives/d1/ego/a.pcap"}, // a prefix of the name, not a folder
        {"/elsewhere", "/data/drives/d1/ego/a.pcap"},   // not below: absolute
        {"/data/drives/d1/ego", "a.pcap"},              // inside it (the program refuses)
    };
    for (const auto &c : cases) {
        SCOPED_TRACE(c.out_dir ? c.out_dir : "(null)");
        Out o = Write(d, c.out_dir);
        ASSERT_EQ(o.st, VXS_OK) << o.err;
        EXPECT_EQ(FirstPath(o.text), c.path);
        // Side files follow the same rule.
        EXPECT_NE(o.text.find("\"calibration\": \"" +
                              FirstPath(o.text).substr(0, FirstPath(o.text).size() - 6) +
                              "VLP16.yaml\""),
                  std::string::npos)
            << o.text;
    }
    vxs_manifest_draft_free(d);

    // A drafted folder at the root.
    d = Draft("/", "/", ego);
    EXPECT_EQ(FirstPath(Write(d, "/elsewhere").text), "/ego/a.pcap");
    EXPECT_EQ(FirstPath(Write(d, "/").text), "ego/a.pcap");
    EXPECT_EQ(FirstPath(Write(d).text), "ego/a.pcap");
    vxs_manifest_draft_free(d);
}

// What the parser reads back is what the draft says.
TEST(ManifestDraft, RoundTripThroughTheParser) {
    vxs_manifest_draft_t *d = Draft("/data/drives/d1", "d1", TwoAgents());
    Out o = Write(d, "/data");
    ASSERT_EQ(o.st, VXS_OK) << o.err;
    vxs_manifest_t *m = nullptr;
    char err[VXS_MANIFEST_ERR_LEN];
    ASSERT_EQ(vxs_manifest_parse(&m, o.text.data(), o.text.size(), "/data", "t", err, sizeof err),
              VXS_OK)
        << err;
    EXPECT_STREQ(m->name, "d1");
    ASSERT_EQ(m->n_agents, d->n_agents);
    EXPECT_EQ(m->ref_agent, 1u);
    EXPECT_EQ(m->ref_source, 0u);
    for (size_t i = 0; i < d->n_agents; i++) {
        const vxs_draft_agent_t &da = d->agents[i];
        const vxs_manifest_agent_t &ma = m->agents[i];
        EXPECT_STREQ(ma.id, da.id);
        EXPECT_EQ(ma.type, da.type);
        ASSERT_EQ(ma.n_sources, da.n_sources);
        for (size_t k = 0; k < da.n_sources; k++) {
            const vxs_draft_source_t &ds = da.sources[k];
            const vxs_manifest_source_t &ms = ma.sources[k];
            SCOPED_TRACE(ds.path);
            auto full = [&](const char *p) {
                return p ? "/data/drives/d1/" + std::string(p) : std::string("(null)");
            };
            auto opt = [](const char *p) { return p ? std::string(p) : std::string("(null)"); };
            EXPECT_EQ(ms.kind, ds.kind);
            EXPECT_EQ(ms.path, full(ds.path));
            EXPECT_EQ(opt(ms.calibration), full(ds.calibration));
            EXPECT_EQ(opt(ms.metadata), full(ds.metadata));
            EXPECT_EQ(opt(ms.timestamps), full(ds.timestamps));
            EXPECT_EQ(opt(ms.model), opt(ds.model));
            EXPECT_EQ(ms.clock.gps_locked, ds.has_gps_locked && ds.gps_locked);
            if (ds.kind != VXS_SOURCE_V2X) continue;
            EXPECT_EQ(ms.v2x_format, ds.v2x_format);
            EXPECT_EQ(ms.has_own_station_id, ds.has_own_station_id);
            EXPECT_EQ(ms.own_station_id, ds.own_station_id);
            ASSERT_EQ(ms.n_own_macs, ds.n_own_macs);
            for (size_t n = 0; n < ds.n_own_macs; n++)
                EXPECT_EQ(memcmp(ms.own_macs[n], ds.own_macs[n], 6), 0);
        }
    }
    vxs_manifest_free(m);
    vxs_manifest_draft_free(d);
}

// A draft the parser refuses is never handed out: the parser's message says why.
TEST(ManifestDraft, InvalidDraftsAreRefused) {
    struct {
        std::vector<Agent> agents;
        vxs_status_t st;
        const char *msg;
    } cases[] = {
        {{{"bad id", VXS_AGENT_VEHICLE, {kVelodyne}}}, VXS_E_MALFORMED, "draft: agents[0].id: "},
        {{{".hidden", VXS_AGENT_VEHICLE, {kVelodyne}}}, VXS_E_MALFORMED, "draft: agents[0].id: "},
        {{{"a", VXS_AGENT_VEHICLE, {kVelodyne}}, {"a", VXS_AGENT_RSU, {kHexLog}}},
         VXS_E_MALFORMED, "draft: agents[1].id: "},
        {{{"empty", VXS_AGENT_VEHICLE, {}}}, VXS_E_MALFORMED, "draft: agents[0].sources: "},
        {{}, VXS_E_MALFORMED, "draft: agents: "},
    };
    for (const auto &c : cases) {
        vxs_manifest_draft_t *d = Draft("/d", "d", c.agents);
        Out o = Write(d);
        EXPECT_EQ(o.st, c.st) << vxs_status_name(o.st) << " " << o.err;
        EXPECT_EQ(o.err.rfind(c.msg, 0), 0u) << o.err;
        vxs_manifest_draft_free(d);
    }
    // A string that is not UTF-8 cannot be written: its key is missing, and the parser says so.
    Src bad = kVelodyne;
    bad.path = "ego/\xff.pcap";
    vxs_manifest_draft_t *d = Draft("/d", "d", {{"ego", VXS_AGENT_VEHICLE, {bad}}});
    Out o = Write(d);
    EXPECT_EQ(o.st, VXS_E_MALFORMED);
    EXPECT_NE(o.err.find("agents[0].sources[0]"), std::string::npos) << o.err;
    vxs_manifest_draft_free(d);

    char *text = reinterpret_cast<char *>(1);
    size_t len = 1;
    char err[64];
    EXPECT_EQ(vxs_manifest_draft_json(&text, &len, nullptr, nullptr, err, sizeof err), VXS_E_ARG);
    EXPECT_EQ(text, nullptr);
    EXPECT_EQ(vxs_manifest_draft_json(nullptr, &len, nullptr, nullptr, err, sizeof err),
              VXS_E_ARG);
    vxs_manifest_draft_free(nullptr);
}

// Every allocation failure, in the writer or the parser checking it, is VXS_E_NOMEM and hands
// nothing out; with enough memory the text is the full one.
TEST(ManifestDraft, AllocationFailureIsNoMem) {
    vxs_manifest_draft_t *d = Draft("/data/drives/d1", "d1", TwoAgents());
    const std::string want = Write(d, "/data").text;
    ASSERT_FALSE(want.empty());
    for (long n = 1;; n++) {
        char *text = nullptr, err[VXS_MANIFEST_ERR_LEN];
        size_t len = 0;
        vxs_status_t st;
        bool failed;
        {
            vxs_test::FailAllocAfter fail(n);
            st = vxs_manifest_draft_json(&text, &len, d, "/data", err, sizeof err);
            failed = vxs_test::FailAllocAfter::Failed();
        }
        if (failed) {
            ASSERT_EQ(st, VXS_E_NOMEM) << "allocation " << n << ": " << err;
            EXPECT_EQ(text, nullptr);
            continue;
        }
        ASSERT_EQ(st, VXS_OK) << err;
        EXPECT_EQ(std::string(text, len), want);
        vxs_free(text);
        EXPECT_GT(n, 5);
        break;
    }
    vxs_manifest_draft_free(d);
}

} // namespace
