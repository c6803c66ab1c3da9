// The sync job's writers (export/): frames.jsonl and clocks.json as frame sinks, fed by hand with
// a run, frames and a summary built here, so every key and value of the documented formats
// (README "frames.jsonl", "clocks.json") is checked against what was given. Both are atomic:
// nothing appears under the final name before finish, and nothing at all when the sink is
// destroyed unfinished.
#include <jansson.h>
#include <dirent.h>
#include <sys/stat.h>

#include <cmath>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "test_util.h"
#include "vxs_export.h"

namespace {

std::string Slurp(const std::string &path) {
    std::ifstream f(path);
    std::stringstream ss;
    ss << f.rdbuf();
    return ss.str();
}

bool Exists(const std::string &p) {
    struct stat sb;
    return stat(p.c_str(), &sb) == 0;
}

size_t FilesIn(const std::string &dir) {
    size_t n = 0;
    DIR *d = opendir(dir.c_str());
    if (!d) return 0;
    while (const dirent *e = readdir(d)) n += e->d_name[0] != '.';
    closedir(d);
    return n;
}

// SmallRun is a small run: agents ego and veh; ego/camera and ego/lidar member streams; ego/v2x.
struct SmallRun {
    vxs_manifest_t *man = nullptr;
    std::vector<vxs_run_source_t> srcs;
    std::vector<vxs_frame_stream_t> streams;
    std::vector<vxs_clock_info_t> clocks;
    std::vector<vxs_clock_relation_t> rels;
    vxs_clock_pair_t pair{};
    vxs_clock_report_t report{};
    vxs_run_info_t run{};
    SmallRun() {
        const char text[] = R"({"version": 1, "name": "small", "agents": [
            {"id": "ego", "sources": [{"path": "ego/c.mp4", "kind": "camera"},
                                      {"path": "ego/l.pcap", "kind": "lidar"},
                                      {"path": "ego/v.pcap", "kind": "v2x"}]},
            {"id": "veh", "sources": [{"path": "veh/v.pcap", "kind": "v2x"}]}]})";
        char err[VXS_MANIFEST_ERR_LEN];
        EXPECT_EQ(vxs_manifest_parse(&man, text, strlen(text), nullptr, "m", err, sizeof err),
                  VXS_OK)
            << err;
        const vxs_manifest_agent_t *ego = &man->agents[0];
        const std::pair<uint32_t, const vxs_manifest_source_t *> which[] = {
            {0, &ego->sources[0]},
            {0, &ego->sources[1]},
            {0, &ego->sources[2]},
            {1, &man->agents[1].sources[0]}};
        const uint64_t records[] = {10, 5, 7, 9}, bad[] = {0, 0, 1, 0};
        srcs.resize(4);
        for (size_t i = 0; i < 4; i++) {
            std::memset(&srcs[i], 0, sizeof srcs[i]);
            srcs[i].agent = which[i].first;
            srcs[i].ms = which[i].second;
            srcs[i].records = records[i];
            srcs[i].bad_units = bad[i];
        }
        clocks.resize(3);
        for (vxs_clock_info_t &c : clocks) {
            std::memset(&c, 0, sizeof c);
            vxs_clock_model_identity(&c.est.model, 1000000000);
            c.est.model.n_pieces = 1;
        }
        clocks[0].name = "ego/lidar";
        clocks[0].kind = VXS_CLOCK_DEVICE;
        clocks[0].agent = 0;
        clocks[0].hint = "gps_locked";
        clocks[0].est.method = VXS_CLOCK_M_ANCHOR;
        clocks[0].est.hint_checked = true;
        clocks[0].est.hint_residual_ns = 12.5;
        clocks[1].name = "ego/logger";
        clocks[1].kind = VXS_CLOCK_LOGGER;
        clocks[1].agent = 0;
        clocks[1].est.method = VXS_CLOCK_M_ESTIMATED;
        clocks[1].est.model.pieces[0].offset_ns = 1500.5;
        clocks[1].est.model.drift = 2e-6;
        clocks[1].est.model.n_pieces = 2;
        clocks[1].est.model.pieces[1] = {1000000500, 2500.5, 70000000, 0.0};
        clocks[1].est.offset_sd_ns = NAN; // not finite: written as null
        clocks[1].est.samples = 99;
        clocks[1].est.edges = 1;
        clocks[1].est.jumps = 1;
        clocks[1].est.ident = VXS_IDENT_PINNED;
        clocks[0].est.ident = VXS_IDENT_ANCHOR;
        clocks[0].est.limited_by = SIZE_MAX;
        clocks[1].est.limited_by = SIZE_MAX;
        clocks[2].est.ident = VXS_IDENT_FLOOR_PRIOR;
        clocks[2].est.limited_by = 1;
        clocks[2].name = "sender:1234/secMark";
        clocks[2].kind = VXS_CLOCK_SENDER;
        clocks[2].agent = -1;
        clocks[2].station = 1234;
        clocks[2].field = VXS_V2X_TF_SEC_MARK;
        clocks[2].hint = "offset_ns";
        clocks[2].has_offset = true;
        clocks[2].offset_ns = -7;
        clocks[2].est.method = VXS_CLOCK_M_HINT;
        rels.resize(2);
        std::memset(&rels[0], 0, sizeof rels[0]);
        std::memset(&rels[1], 0, sizeof rels[1]);
        rels[1].from = 2;
        rels[1].to = 1;
        rels[1].delay = VXS_DELAY_AIR;
        rels[1].floor_ns = 2.5e6;
        rels[1].floor_sd_ns = 1e6;
        rels[0].from = 0;
        rels[0].to = 1;
        rels[0].delay = VXS_DELAY_WIRE;
        rels[0].samples = 99;
        rels[0].windows = 3;
        rels[0].n_pieces = 1;
        rels[0].pieces[0] = {10, 20, 1500.5, 2e-6, 99, 3, 1.5, 2.5, 1e-9};
        rels[0].has_residual = true;
        rels[0].residual_ns = -0.5;
        pair = {0, 1, 100.0, 200.0, 101.0};
        report.epoch = 1000000000;
        report.clocks = clocks.data();
        report.n_clocks = clocks.size();
        report.reference_clock = SIZE_MAX;
        report.hints_rejected = 0;
        report.delay_used[VXS_DELAY_AIR] = true;
        report.delay_ns[VXS_DELAY_AIR] = 1500000.0;
        report.delay_sd_ns[VXS_DELAY_AIR] = 50.0;
        report.floors_measured[VXS_DELAY_AIR] = 2;
        report.relations = rels.data();
        report.n_relations = rels.size();
        report.pairs = &pair;
        report.n_pairs = 1;
        streams = {{1, 0, 8, VXS_SOURCE_LIDAR, "ego/lidar", 0, 50000000, true},
                   {0, 0, 0, VXS_SOURCE_CAMERA, "ego/camera", 1, 25000000, false}};
        run.manifest = man;
        run.sources = srcs.data();
        run.n_sources = srcs.size();
        run.streams = streams.data();
        run.n_streams = streams.size();
        run.clocks = &report;
        run.v2x_window_ns = 1000000000;
        run.t_from = run.t_to = VXS_TIME_NONE;
    }
    ~SmallRun() { vxs_manifest_free(man); }
};

// OneFrame: the LiDAR member ok, the camera refused, one message and two links at ego.
struct OneFrame {
    vxs_record_t sweep;
    vxs_frame_member_t members[2];
    vxs_frame_msg_t msg;
    vxs_frame_link_t links[2];
    vxs_frame_v2x_t v2x;
    const char *reasons[2];
    vxs_frame_t f;
    OneFrame() {
        vxs_record_init(&sweep, VXS_REC_LIDAR_SWEEP);
        sweep.loc = {1, 3, 40, 4096};
        sweep.u.sweep.points = 777;
        sweep.u.sweep.complete = true;
        members[0] = {VXS_MEMBER_OK, &sweep, 4, 2000000000, 2000000001, 0, 0, nullptr};
        members[1] = {VXS_MEMBER_NONE_WITHIN_TOLERANCE, nullptr, 0, VXS_TIME_NONE, 2031000001,
                      31000000, 0, "ego/camera: none_within_tolerance (nearest 31.0 ms away, "
                                   "tolerance 25.0 ms)"};
        std::memset(&msg, 0, sizeof msg);
        msg.source = 2;
        msg.message = 17;
        msg.loc = {2, 1, 17, 999};
        msg.sender_agent = 1;
        msg.station = 1002;
        msg.protocol = VXS_V2X_PROTO_ETSI;
        msg.msg_type = VXS_ETSI_CAM;
        msg.capture = 1999000000;
        msg.rx_ref = 1999500000;
        msg.gen = 1998000000;
        msg.gen_ref = 1998000100;
        msg.field = VXS_V2X_TF_GEN_DELTA;
        msg.has_latency = true;
        msg.latency_ns = 1499900 - 500000; // half a ms: the field truncates
        msg.latency_sd_ns = 301234.4;
        msg.flags = VXS_MSG_REORDERED | VXS_MSG_LATE;
        links[0] = {1, 1002, false, 1999500000, true, 1999000001, nullptr};
        links[1] = {-1, 5555, true, VXS_TIME_NONE, false, 0,
                    "link unknown -> ego silent: no message received in the last 1.000 s"};
        msg.has_age = true;
        msg.age_ns = 1499901;
        msg.pred = {VXS_PRED_CTRA, 10.00049, -2.5, NAN, 1.25, 8.0, 0.012, 1.1, 0.9, 1.0050, 0.02};
        msg.has_body = true;
        msg.body = {3.5, -0.25, NAN, -0.5, 1.5, 3.5089};
        std::memset(&v2x, 0, sizeof v2x);
        v2x.agent = 0;
        v2x.source = 2;
        v2x.pose = {true, 1, 2, -0.0, 0.5, 1, 0.05};
        v2x.pose_from = "own messages";
        v2x.msgs = &msg;
        v2x.n_msgs = 1;
        v2x.links = links;
        v2x.n_links = 2;
        reasons[0] = members[1].reason;
        reasons[1] = links[1].reason;
        f = {7, 2000000001, members, 2, &v2x, 1, true, reasons, 2};
    }
};

TEST(FramesJsonl, WritesTheDocumentedLine) {
    SmallRun r;
    OneFrame one;
    const std::string dir = vxs_test::TempDir(), path = dir + "/frames.jsonl";
    vxs_frame_sink_t *s = nullptr;
    char err[512];
    ASSERT_EQ(vxs_frames_jsonl_sink_create(&s, path.c_str(), err, sizeof err), VXS_OK) << err;
    ASSERT_EQ(vxs_frame_sink_begin(s, &r.run), VXS_OK);
    ASSERT_EQ(vxs_frame_sink_frame(s, &one.f, nullptr), VXS_OK);
    one.f.index = 8;
    one.f.partial = false;
    one.f.n_reasons = 0;
    one.v2x.n_msgs = 0;
    one.v2x.n_links = 0;
    ASSERT_EQ(vxs_frame_sink_frame(s, &one.f, nullptr), VXS_OK);
    EXPECT_FALSE(Exists(path)); // not before finish
    vxs_run_summary_t sum{};
    ASSERT_EQ(vxs_frame_sink_finish(s, &sum), VXS_OK) << vxs_frame_sink_errmsg(s);
    vxs_frame_sink_destroy(s);
    const std::string want =
        R"j({"frame":7,"t_ref_ns":2000000001,"t_ref":"1970-01-01T00:00:02.000000001Z","members":[)j"
        R"j({"agent":"ego","sensor":"lidar","kind":"lidar","status":"ok","sweep":4,)j"
        R"j("locator":{"source":1,"index":40,"offset":4096,"count":3},"clock":"ego/lidar",)j"
        R"j("time_ns":2000000000,"t_ref_ns":2000000001,"dt_ns":0,"complete":true,"points":777},)j"
        R"j({"agent":"ego","sensor":"camera","kind":"camera","status":"none_within_tolerance",)j"
        R"j("nearest_dt_ns":31000000}],"v2x":[{"agent":"ego","pose":{"from":"own messages",)j"
        R"j("x":1.0,"y":2.0,"z":0.0,"yaw_rad":0.5,"sd_m":1.0,"yaw_sd_rad":0.05},)j"
        R"j("messages":[{"sender":"veh",)j"
        R"j("station":1002,"type":"CAM","message":17,"locator":{"source":2,"index":17,)j"
        R"j("offset":999,"count":1},"capture_ns":1999000000,"rx_ref_ns":1999500000,)j"
        R"j("gen_ns":1998000000,"gen_field":"generationDeltaTime","gen_ref_ns":1998000100,)j"
        R"j("latency_ns":999900,"latency_sd_ns":301234,"age_ns":1499901,)j"
        R"j("flags":["reordered","late"],"predicted":{"model":"ctra","x":10.0,"y":-2.5,)j"
        R"j("z":null,"yaw_rad":1.25,"speed_mps":8.0,"moved_m":0.012,"sd_m":1.005,)j"
        R"j("sd_along_m":1.1,"sd_across_m":0.9},"body":{"x":3.5,"y":-0.25,"z":null,)j"
        R"j("yaw_rad":-0.5,"range_m":3.509,"sd_m":1.5}}],)j"
        R"j("links":[{"sender":"veh","status":"ok",)j"
        R"j("last_rx_ref_ns":1999500000,"aoi_ns":1999000001},{"sender":"unknown",)j"
        R"j("station":5555,"status":"silent","last_rx_ref_ns":null,"aoi_ns":null}]}],)j"
        R"j("status":"partial","reasons":["ego/camera: )j"
        R"j(none_within_tolerance (nearest 31.0 ms away, tolerance 25.0 ms)","link unknown -> )j"
        R"j(ego silent: no message received in the last 1.000 s"]})j"
        "\n"
        R"j({"frame":8,"t_ref_ns":2000000001,"t_ref":"1970-01-01T00:00:02.000000001Z","members":[)j"
        R"j({"agent":"ego","sensor":"lidar","kind":"lidar","status":"ok","sweep":4,)j"
        R"j("locator":{"source":1,"index":40,"offset":4096,"count":3},"clock":"ego/lidar",)j"
        R"j("time_ns":2000000000,"t_ref_ns":2000000001,"dt_ns":0,"complete":true,"points":777},)j"
        R"j({"agent":"ego","sensor":"camera","kind":"camera","status":"none_within_tolerance",)j"
        R"j("nearest_dt_ns":31000000}],"v2x":[{"agent":"ego","pose":{"from":"own messages",)j"
        R"j("x":1.0,"y":2.0,"z":0.0,"yaw_rad":0.5,"sd_m":1.0,"yaw_sd_rad":0.05},)j"
        R"j("messages":[],"links":[]}],)j"
        R"j("status":"complete","reasons":[]})j"
        "\n";
    EXPECT_EQ(Slurp(path), want);
    EXPECT_EQ(FilesIn(dir), 1u); // no temporary file left
}

// One message with what it reports and its ENU state; one with nothing but its times.
TEST(V2xMessagesJsonl, WritesTheDocumentedLines) {
    SmallRun r;
    OneFrame one;
    const std::string dir = vxs_test::TempDir(), path = dir + "/v2x_messages.jsonl";
    vxs_frame_sink_t *s = nullptr;
    char err[512];
    ASSERT_EQ(vxs_v2x_messages_jsonl_sink_create(&s, path.c_str(), err, sizeof err), VXS_OK)
        << err;
    ASSERT_EQ(vxs_frame_sink_begin(s, &r.run), VXS_OK);
    vxs_frame_msg_t m = one.msg;
    vxs_v2x_summary_t &v = m.v2x;
    v.has_position = true;
    v.lat_deg = 48.123456789;
    v.lon_deg = 11.5;
    v.elev_m = 512.25;
    v.speed_mps = 13.89;
    v.heading_deg = 271.3;
    v.yaw_rate_dps = -1.5;
    v.accel_long_mps2 = NAN;
    v.length_m = 4.6;
    v.width_m = 1.8;
    v.station_type = 5;
    v.pos_confidence_95 = true;
    v.pos_semi_major_m = 2.5;
    v.pos_semi_minor_m = 1.5;
    v.pos_orientation_deg = 30;
    v.speed_conf_mps = 0.2;
    v.heading_conf_deg = NAN;
    m.state = {true, VXS_KIN_VEHICLE, 12.3456, -7.0, 0.5, 2.3, true, true, true, false, 13.89,
               3.1186, -0.02618, 0, 4.6, 1.8, 1.0214, true, 0.102, 0.0524, true, false};
    ASSERT_EQ(vxs_frame_sink_message(s, &m), VXS_OK);
    vxs_frame_msg_t bare{};
    bare.source = 2;
    bare.sender_agent = -1;
    bare.station = 77;
    bare.protocol = VXS_V2X_PROTO_J2735;
    bare.msg_type = VXS_J2735_SPAT;
    bare.has_counter = true;
    bare.counter = 3;
    bare.capture = 5;
    bare.rx_ref = 6;
    bare.gen = bare.gen_ref = VXS_TIME_NONE;
    bare.v2x.elev_m = bare.v2x.speed_mps = bare.v2x.heading_deg = bare.v2x.yaw_rate_dps = NAN;
    bare.v2x.accel_long_mps2 = bare.v2x.length_m = bare.v2x.width_m = NAN;
    bare.v2x.pos_semi_major_m = bare.v2x.pos_semi_minor_m = bare.v2x.pos_orientation_deg = NAN;
    bare.v2x.speed_conf_mps = bare.v2x.heading_conf_deg = NAN;
    bare.v2x.station_type = -1;
    ASSERT_EQ(vxs_frame_sink_message(s, &bare), VXS_OK);
    vxs_run_summary_t sum{};
    ASSERT_EQ(vxs_frame_sink_finish(s, &sum), VXS_OK) << vxs_frame_sink_errmsg(s);
    vxs_frame_sink_destroy(s);
    const std::string want =
        R"j({"receiver":"ego","source":"v2x","message":17,"locator":{"source":2,"index":17,)j"
        R"j("offset":999,"count":1},"sender":"veh","station":1002,"type":"CAM","counter":null,)j"
        R"j("capture_ns":1999000000,"rx_ref_ns":1999500000,"rx_ref":"1970-01-01T00:00:01.999500000Z",)j"
        R"j("gen_ns":1998000000,"gen_field":"generationDeltaTime","gen_ref_ns":1998000100,)j"
        R"j("latency_ns":999900,"latency_sd_ns":301234,"flags":["reordered","late"],)j"
        R"j("reported":{"lat_deg":48.123456789,"lon_deg":11.5,"alt_m":512.25,"speed_mps":13.89,)j"
        R"j("heading_deg":271.3,"yaw_rate_dps":-1.5,"accel_mps2":null,"length_m":4.6,"width_m":1.8,)j"
        R"j("station_type":5,"accuracy":{"semi_major_m":2.5,"semi_minor_m":1.5,)j"
        R"j("orientation_deg":30.0,"confidence":"95%","speed_conf_mps":0.2,)j"
        R"j("heading_conf_deg":null},"out_of_range":null},"state":{"class":"vehicle",)j"
        R"j("x":12.346,"y":-7.0,"z":0.5,)j"
        R"j("ref_shift_m":2.3,"speed_mps":13.89,"yaw_rad":3.1186,"yaw_rate_dps":-1.5,)j"
        R"j("accel_mps2":null,"length_m":4.6,"width_m":1.8,"pos_sd_m":1.021,)j"
        R"j("pos_sd_claimed":true,"speed_sd_mps":0.102,"speed_sd_claimed":true,)j"
        R"j("heading_sd_deg":3.002,"heading_sd_claimed":false}})j"
        "\n"
        R"j({"receiver":"ego","source":"v2x","message":0,"locator":{"source":0,"index":0,)j"
        R"j("offset":0,"count":0},"sender":"unknown","station":77,"type":"SPAT","counter":3,)j"
        R"j("capture_ns":5,)j"
        R"j("rx_ref_ns":6,"rx_ref":"1970-01-01T00:00:00.000000006Z","gen_ns":null,)j"
        R"j("gen_field":null,"gen_ref_ns":null,"latency_ns":null,"latency_sd_ns":null,)j"
        R"j("flags":[],"reported":{"lat_deg":null,"lon_deg":null,"alt_m":null,"speed_mps":null,)j"
        R"j("heading_deg":null,"yaw_rate_dps":null,"accel_mps2":null,"length_m":null,)j"
        R"j("width_m":null,"station_type":null,"accuracy":{"semi_major_m":null,)j"
        R"j("semi_minor_m":null,"orientation_deg":null,"confidence":null,"speed_conf_mps":null,)j"
        R"j("heading_conf_deg":null},"out_of_range":null},"state":null})j"
        "\n";
    EXPECT_EQ(Slurp(path), want);
    EXPECT_EQ(FilesIn(dir), 1u);
}

TEST(ClocksJson, WritesEveryClockRelationPairAndImpossibleMessage) {
    SmallRun r;
    const std::string dir = vxs_test::TempDir(), path = dir + "/clocks.json";
    vxs_frame_sink_t *s = nullptr;
    char err[512];
    ASSERT_EQ(vxs_clocks_json_sink_create(&s, path.c_str(), err, sizeof err), VXS_OK) << err;
    ASSERT_EQ(vxs_frame_sink_begin(s, &r.run), VXS_OK);
    const vxs_impossible_msg_t imp[1] = {{2, 18, 1234, -5000000}};
    vxs_run_summary_t sum{};
    sum.impossible = 3;
    sum.impossible_listed = imp;
    sum.n_impossible_listed = 1;
    ASSERT_EQ(vxs_frame_sink_finish(s, &sum), VXS_OK) << vxs_frame_sink_errmsg(s);
    vxs_frame_sink_destroy(s);
    json_error_t je;
    json_t *doc = json_load_file(path.c_str(), 0, &je);
    ASSERT_NE(doc, nullptr) << je.text;
    // keys in the documented order
    std::vector<std::string> keys;
    const char *k;
    json_t *v;
    json_object_foreach(doc, k, v) keys.push_back(k);
    EXPECT_EQ(keys, (std::vector<std::string>{"version", "scenario", "epoch_ns", "epoch",
                                              "reference", "hints_rejected", "min_delays",
                                              "domains", "relations", "pairs",
                                              "impossible_messages"}));
    EXPECT_EQ(json_integer_value(json_object_get(doc, "epoch_ns")), 1000000000);
    EXPECT_STREQ(json_string_value(json_object_get(doc, "epoch")), "1970-01-01T00:00:01.000000000Z");
    EXPECT_STREQ(json_string_value(json_object_get(json_object_get(doc, "reference"), "kind")),
                 "anchors (GNSS/PPS time, known offsets)");
    json_t *air = json_object_get(json_object_get(doc, "min_delays"), "air");
    EXPECT_EQ(json_real_value(json_object_get(air, "prior_ns")), 1500000.0);
    EXPECT_EQ(json_real_value(json_object_get(air, "prior_sd_ns")), 50.0);
    EXPECT_EQ(json_integer_value(json_object_get(air, "measured_links")), 2);
    EXPECT_EQ(json_object_get(json_object_get(doc, "min_delays"), "tx_log"), nullptr);
    json_t *doms = json_object_get(doc, "domains");
    ASSERT_EQ(json_array_size(doms), 3u);
    json_t *lidar = json_array_get(doms, 0), *logger = json_array_get(doms, 1),
           *sender = json_array_get(doms, 2);
    EXPECT_STREQ(json_string_value(json_object_get(lidar, "kind")), "device");
    EXPECT_STREQ(json_string_value(json_object_get(lidar, "agent")), "ego");
    json_t *hint = json_object_get(lidar, "hint");
    EXPECT_STREQ(json_string_value(json_object_get(hint, "kind")), "gps_locked");
    EXPECT_TRUE(json_is_true(json_object_get(hint, "checked")));
    EXPECT_EQ(json_real_value(json_object_get(hint, "residual_ns")), 12.5);
    EXPECT_STREQ(json_string_value(json_object_get(logger, "method")), "estimated");
    EXPECT_STREQ(json_string_value(json_object_get(logger, "identifiability")), "pinned");
    EXPECT_EQ(json_object_get(logger, "limited_by"), nullptr);
    EXPECT_STREQ(json_string_value(json_object_get(sender, "identifiability")), "floor_prior");
    EXPECT_STREQ(json_string_value(json_object_get(sender, "limited_by")),
                 "sender:1234/secMark -> ego/logger (air)");
    EXPECT_EQ(json_real_value(json_object_get(logger, "offset_ns")), 1500.5);
    EXPECT_NEAR(json_real_value(json_object_get(logger, "drift_ppm")), 2.0, 1e-12);
    EXPECT_TRUE(json_is_null(json_object_get(logger, "offset_sd_ns")));
    json_t *pieces = json_object_get(logger, "pieces");
    ASSERT_EQ(json_array_size(pieces), 2u);
    EXPECT_TRUE(json_is_null(json_object_get(json_array_get(pieces, 0), "from_ref_ns")));
    EXPECT_EQ(json_integer_value(json_object_get(json_array_get(pieces, 1), "from_ref_ns")),
              1000000500);
    EXPECT_EQ(json_integer_value(json_object_get(json_array_get(pieces, 1), "from_span_ns")),
              70000000);
    EXPECT_EQ(json_object_get(logger, "hint"), nullptr);
    EXPECT_EQ(json_object_get(sender, "agent"), nullptr); // no agent owns it
    EXPECT_EQ(json_integer_value(json_object_get(sender, "station")), 1234);
    EXPECT_STREQ(json_string_value(json_object_get(sender, "time_field")), "secMark");
    EXPECT_EQ(json_integer_value(json_object_get(json_object_get(sender, "hint"), "offset_ns")),
              -7);
    json_t *rel = json_array_get(json_object_get(doc, "relations"), 0);
    EXPECT_STREQ(json_string_value(json_object_get(rel, "from")), "ego/lidar");
    EXPECT_STREQ(json_string_value(json_object_get(rel, "to")), "ego/logger");
    EXPECT_STREQ(json_string_value(json_object_get(rel, "delay_class")), "wire");
    EXPECT_EQ(json_real_value(json_object_get(rel, "residual_ns")), -0.5);
    EXPECT_STREQ(json_string_value(json_object_get(rel, "floor")), "prior"); // a wire's
    json_t *air_rel = json_array_get(json_object_get(doc, "relations"), 1);
    EXPECT_EQ(json_real_value(json_object_get(air_rel, "floor_ns")), 2.5e6);
    EXPECT_EQ(json_real_value(json_object_get(air_rel, "floor_sd_ns")), 1e6);
    EXPECT_STREQ(json_string_value(json_object_get(air_rel, "floor")), "prior");
    json_t *piece = json_array_get(json_object_get(rel, "pieces"), 0);
    EXPECT_EQ(json_integer_value(json_object_get(piece, "x_end_ns")), 20);
    EXPECT_NEAR(json_real_value(json_object_get(piece, "slope_ppm")), 2.0, 1e-12);
    EXPECT_EQ(json_integer_value(json_object_get(piece, "inlier_windows")), 3);
    json_t *pair = json_array_get(json_object_get(doc, "pairs"), 0);
    EXPECT_STREQ(json_string_value(json_object_get(pair, "a")), "ego");
    EXPECT_STREQ(json_string_value(json_object_get(pair, "b")), "veh");
    EXPECT_EQ(json_real_value(json_object_get(pair, "min_latency_ns")), 200.0);
    json_t *imps = json_object_get(doc, "impossible_messages");
    EXPECT_EQ(json_integer_value(json_object_get(imps, "count")), 3);
    json_t *first = json_array_get(json_object_get(imps, "first"), 0);
    EXPECT_STREQ(json_string_value(json_object_get(first, "file")), "ego/v.pcap");
    EXPECT_EQ(json_integer_value(json_object_get(first, "record")), 18);
    EXPECT_EQ(json_integer_value(json_object_get(first, "byte_offset")), 1234);
    EXPECT_EQ(json_integer_value(json_object_get(first, "latency_ns")), -5000000);
    json_decref(doc);
    EXPECT_EQ(FilesIn(dir), 1u);
}

TEST(FrameSinks, UnfinishedLeaveNothingAndCallsKeepTheirOrder) {
    SmallRun r;
    OneFrame one;
    const std::string dir = vxs_test::TempDir();
    char err[512];
    vxs_frame_sink_t *f = nullptr, *c = nullptr;
    ASSERT_EQ(vxs_frames_jsonl_sink_create(&f, (dir + "/frames.jsonl").c_str(), err, sizeof err),
              VXS_OK);
    ASSERT_EQ(vxs_clocks_json_sink_create(&c, (dir + "/clocks.json").c_str(), err, sizeof err),
              VXS_OK);
    vxs_run_summary_t sum{};
    // out of order: frame or finish before begin, begin twice, anything after finish
    EXPECT_EQ(vxs_frame_sink_frame(f, &one.f, nullptr), VXS_E_STATE);
    EXPECT_NE(std::string(vxs_frame_sink_errmsg(f)).find("out of order"), std::string::npos);
    EXPECT_EQ(vxs_frame_sink_finish(c, &sum), VXS_E_STATE);
    ASSERT_EQ(vxs_frame_sink_begin(f, &r.run), VXS_OK);
    EXPECT_EQ(vxs_frame_sink_begin(f, &r.run), VXS_E_STATE);
    ASSERT_EQ(vxs_frame_sink_frame(f, &one.f, nullptr), VXS_OK);
    EXPECT_STREQ(vxs_frame_sink_errmsg(f), "");
    EXPECT_GE(FilesIn(dir), 1u); // the temporary files
    // destroyed before finish: nothing, not even the temporary files
    vxs_frame_sink_destroy(f);
    vxs_frame_sink_destroy(c);
    EXPECT_EQ(FilesIn(dir), 0u);
    // a folder that does not exist: a clear error naming the file
    EXPECT_EQ(vxs_frames_jsonl_sink_create(&f, (dir + "/no/frames.jsonl").c_str(), err, sizeof err),
              VXS_E_IO);
    EXPECT_NE(std::string(err).find(dir + "/no/frames.jsonl"), std::string::npos) << err;
    EXPECT_EQ(f, nullptr);
    // arguments
    EXPECT_EQ(vxs_frame_sink_create(&f, nullptr, nullptr), VXS_E_ARG);
    EXPECT_EQ(vxs_frame_sink_begin(nullptr, &r.run), VXS_E_ARG);
    vxs_fetcher_t none = {nullptr, nullptr};
    vxs_buf_t b = {};
    vxs_record_t rec;
    vxs_record_init(&rec, VXS_REC_LIDAR_SWEEP);
    EXPECT_EQ(vxs_fetcher_fetch(&none, &b, &rec), VXS_E_ARG);
    vxs_frame_sink_destroy(nullptr);
}

} // namespace
