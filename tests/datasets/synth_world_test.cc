// The synthetic drive's world model (datasets/synth.c): random streams, clocks, geodesy, motion,
// frames and checksums, the truth writer, and whole drives (determinism, manifest, files).
#include <jansson.h>
#include <pcap/pcap.h>

#include <cmath>
#include <cstdio>
#include <cstring>
#include <map>
#include <string>
#include <vector>

#include "synth.h"
#include "test_util.h"
#include "vxs_manifest.h"

namespace {

TEST(SynthWorld, RandomStreamsAreReproducibleAndIndependent) {
    synth_rng_t a, b, c;
    synth_rng_seed(&a, 7, 1);
    synth_rng_seed(&b, 7, 1);
    synth_rng_seed(&c, 7, 2);
    int same_c = 0;
    for (int i = 0; i < 1000; i++) {
        const uint64_t x = synth_rng_u64(&a);
        EXPECT_EQ(x, synth_rng_u64(&b));
        same_c += x == synth_rng_u64(&c);
    }
    EXPECT_EQ(same_c, 0);
    // Distribution sanity: uniform in [0, 1), exponential mean, normal moments (200k draws).
    double su = 0, se = 0, sn = 0, sn2 = 0;
    const int n = 200000;
    for (int i = 0; i < n; i++) {
        const double u = synth_rng_uniform(&a);
        ASSERT_GE(u, 0.0);
        ASSERT_LT(u, 1.0);
        su += u;
        se += synth_rng_exp(&a, 2.5);
        const double z = synth_rng_normal(&a);
        sn += z;
        sn2 += z * z;
    }
    EXPECT_NEAR(su / n, 0.5, 0.005);
    EXPECT_NEAR(se / n, 2.5, 0.03);
    EXPECT_NEAR(sn / n, 0.0, 0.01);
    EXPECT_NEAR(sn2 / n, 1.0, 0.015);
}

TEST(SynthWorld, ClockMapsAndInvertsExactly) {
    synth_clock_t c = {};
    c.offset_ns = INT64_C(-1234567890);
    c.drift_ppm = 37.5;
    c.epoch_ns = INT64_C(1718181000000000000);
    c.jump_at_ns = INT64_MAX;
    const int64_t t0 = c.epoch_ns;
    // offset + drift: 37.5 ppm over 100 s is 3.75 ms
    EXPECT_EQ(synth_clock_local(&c, t0), t0 - 1234567890);
    EXPECT_EQ(synth_clock_local(&c, t0 + INT64_C(100000000000)),
              t0 + INT64_C(100000000000) - 1234567890 + 3750000);
    for (int64_t dt = -INT64_C(5000000000); dt < INT64_C(3600000000000); dt += 7777777777) {
        const int64_t t = t0 + dt;
        EXPECT_EQ(synth_clock_true(&c, synth_clock_local(&c, t)), t) << dt;
    }
    // A backward step of 200 ms at t0 + 10 s: readings repeat; the later instant wins, and every
    // instant still maps back from its own reading once past the ambiguous window.
    c.jump_at_ns = t0 + INT64_C(10000000000);
    c.jump_ns = -200000000;
    const int64_t before = c.jump_at_ns - 1, at = c.jump_at_ns;
    EXPECT_EQ(synth_clock_local(&c, at) - synth_clock_local(&c, before), -200000000 + 1);
    EXPECT_EQ(synth_clock_true(&c, synth_clock_local(&c, at)), at);
    EXPECT_EQ(synth_clock_true(&c, synth_clock_local(&c, at + 5000000000)), at + 5000000000);
    EXPECT_EQ(synth_clock_true(&c, synth_clock_local(&c, at - 5000000000)), at - 5000000000);
    // A forward step: readings inside the gap map to the step's instant.
    c.jump_ns = 300000000;
    EXPECT_EQ(synth_clock_true(&c, synth_clock_local(&c, before) + 1000), at);
    EXPECT_EQ(synth_clock_true(&c, synth_clock_local(&c, at + 123)), at + 123);
    EXPECT_EQ(synth_clock_true(&c, synth_clock_local(&c, before)), before);
}

TEST(SynthWorld, GeodesyRoundTripsAndScales) {
    synth_world_t w;
    ASSERT_EQ(synth_world_init(&w, 1, SYNTH_PROFILE_ETSI, 10.0), VXS_OK);
    double lat, lon, alt;
    synth_enu_to_geo(&w, 0, 0, 0, &lat, &lon, &alt);
    EXPECT_NEAR(lat, w.lat0_deg, 1e-11);
    EXPECT_NEAR(lon, w.lon0_deg, 1e-11);
    EXPECT_NEAR(alt, w.alt0_m, 1e-6);
    // 1 km north / east on the tangent plane: the meridian and prime-vertical radii of
    // curvature (WGS-84) at the origin's latitude and height give the angles to ~1 cm.
    const double e2 = (1 / 298.257223563) * (2 - 1 / 298.257223563);
    const double sl = std::sin(w.lat0_deg * M_PI / 180), cl = std::cos(w.lat0_deg * M_PI / 180);
    const double N = 6378137.0 / std::sqrt(1 - e2 * sl * sl);
    const double M = 6378137.0 * (1 - e2) / std::pow(1 - e2 * sl * sl, 1.5);
    synth_enu_to_geo(&w, 0, 1000, 0, &lat, &lon, &alt);
    EXPECT_NEAR(lat - w.lat0_deg, 1000.0 / (M + w.alt0_m) * 180 / M_PI, 1e-7);
    synth_enu_to_geo(&w, 1000, 0, 0, &lat, &lon, &alt);
    EXPECT_NEAR(lon - w.lon0_deg, 1000.0 / ((N + w.alt0_m) * cl) * 180 / M_PI, 1e-7);
    for (double x : {-50.0, 0.0, 22.0, 300.0})
        for (double y : {-29.0, 0.0, 77.7}) {
            double xx, yy, zz;
            synth_enu_to_geo(&w, x, y, 1.5, &lat, &lon, &alt);
            synth_geo_to_enu(&w, lat, lon, alt, &xx, &yy, &zz);
            EXPECT_NEAR(xx, x, 1e-6);
            EXPECT_NEAR(yy, y, 1e-6);
            EXPECT_NEAR(zz, 1.5, 1e-6);
        }
}

TEST(SynthWorld, MotionIsConsistentAndCollisionFree) {
    synth_world_t w;
    ASSERT_EQ(synth_world_init(&w, 42, SYNTH_PROFILE_MIXED, 600.0), VXS_OK);
    const int64_t h = 1000000; // 1 ms central differences
    for (size_t a = 0; a < w.n_agents; a++) {
        for (int64_t t = w.start_ns; t < w.start_ns + w.duration_ns; t += INT64_C(1700000000)) {
            synth_pose_t p, m, q;
            synth_pose(&w, a, t, &p);
            synth_pose(&w, a, t - h, &m);
            synth_pose(&w, a, t + h, &q);
            EXPECT_NEAR((q.x - m.x) / 2e-3, p.vx, 1e-3) << w.agents[a].id;
            EXPECT_NEAR((q.y - m.y) / 2e-3, p.vy, 1e-3) << w.agents[a].id;
            EXPECT_NEAR(std::hypot(p.vx, p.vy), p.speed, 1e-9);
            EXPECT_NEAR((q.speed - m.speed) / 2e-3, p.accel_long, 1e-3);
            if (p.speed > 0.1) { // heading follows the velocity
                EXPECT_NEAR(std::remainder(std::atan2(p.vy, p.vx) - p.yaw, 2 * M_PI), 0.0, 1e-9);
                EXPECT_NEAR(std::remainder(q.yaw - m.yaw, 2 * M_PI) / 2e-3, p.yaw_rate, 1e-4);
            }
        }
    }
    // The two cars never come closer than their lengths allow (bumper gap > 3 m), the phone stays
    // on the sidewalk outside the ring, and speeds stay in their ranges.
    for (int64_t t = w.start_ns; t < w.start_ns + w.duration_ns; t += INT64_C(50000000)) {
        synth_pose_t e, v, ph;
        synth_pose(&w, SYNTH_EGO, t, &e);
        synth_pose(&w, SYNTH_VEHICLE2, t, &v);
        synth_pose(&w, SYNTH_PHONE, t, &ph);
        ASSERT_GT(std::hypot(e.x - v.x, e.y - v.y), 4.6 / 2 + 4.2 / 2 + 3.0);
        ASSERT_NEAR(std::hypot(e.x, e.y), 22.0, 1e-9);
        ASSERT_GE(e.speed, 5.9);
        ASSERT_LE(e.speed, 10.1);
        ASSERT_LT(ph.y, -22.0 - 3.0);
        ASSERT_LE(ph.speed, 1.4 + 1e-12);
    }
}

TEST(SynthWorld, ExtrinsicsPointTheSensorsWhereTheySay) {
    synth_world_t w;
    ASSERT_EQ(synth_world_init(&w, 3, SYNTH_PROFILE_ETSI, 10.0), VXS_OK);
    // Velodyne azimuth 180 deg is the sensor's -x axis. Mounted with yaw 180, it looks forward.
    const double back[3] = {-1, 0, 0};
    double out[3];
    synth_quat_rotate(w.agents[SYNTH_EGO].lidar.quat, back, out);
    EXPECT_NEAR(out[0], 1.0, 1e-12);
    EXPECT_NEAR(out[1], 0.0, 1e-12);
    EXPECT_NEAR(out[2], 0.0, 1e-12);
    // The RSU's sensor looks east and 12 degrees down.
    synth_quat_rotate(w.agents[SYNTH_RSU].lidar.quat, back, out);
    EXPECT_NEAR(out[0], std::cos(12 * M_PI / 180), 1e-12);
    EXPECT_NEAR(out[1], 0.0, 1e-12);
    EXPECT_NEAR(out[2], -std::sin(12 * M_PI / 180), 1e-12);
    // body -> world: a point 1 m ahead of a car heading north is 1 m north of it.
    synth_pose_t p = {};
    p.x = 5;
    p.y = 7;
    p.yaw = M_PI / 2;
    const double ahead[3] = {1, 0, 2};
    synth_body_to_world(&p, ahead, out);
    EXPECT_NEAR(out[0], 5.0, 1e-12);
    EXPECT_NEAR(out[1], 8.0, 1e-12);
    EXPECT_NEAR(out[2], 2.0, 1e-12);
}

TEST(SynthWorld, InitIsAFunctionOfItsArguments) {
    synth_world_t a, b, c;
    ASSERT_EQ(synth_world_init(&a, 9, SYNTH_PROFILE_US, 30.0), VXS_OK);
    ASSERT_EQ(synth_world_init(&b, 9, SYNTH_PROFILE_US, 30.0), VXS_OK);
    ASSERT_EQ(synth_world_init(&c, 10, SYNTH_PROFILE_US, 30.0), VXS_OK);
    EXPECT_EQ(std::memcmp(&a, &b, sizeof a), 0);
    EXPECT_NE(a.agents[SYNTH_EGO].logger.offset_ns, c.agents[SYNTH_EGO].logger.offset_ns);
    // Clock ranges the truth promises: tens of ms to seconds, tens of ppm; one stepped logger;
    // one free-running lidar.
    for (uint64_t seed = 0; seed < 50; seed++) {
        ASSERT_EQ(synth_world_init(&a, seed, SYNTH_PROFILE_ETSI, 60.0), VXS_OK);
        int stepped = 0, free_running = 0;
        for (const synth_agent_t &g : a.agents) {
            EXPECT_GE(std::llabs(g.logger.offset_ns), 20000000) << g.id;
            EXPECT_LE(std::llabs(g.logger.offset_ns), 3000000000) << g.id;
            EXPECT_LE(std::fabs(g.logger.drift_ppm), 50.0) << g.id;
            stepped += g.logger.jump_at_ns != INT64_MAX;
            free_running += g.lidar.present && !g.lidar.gps_locked;
        }
        EXPECT_EQ(stepped, 1);
        EXPECT_EQ(free_running, 1);
    }
    EXPECT_EQ(synth_world_init(&a, 1, SYNTH_PROFILE_ETSI, 0.5), VXS_E_ARG);
    EXPECT_EQ(synth_world_init(&a, 1, SYNTH_PROFILE_ETSI, 7201.0), VXS_E_ARG);
    EXPECT_EQ(synth_world_init(&a, 1, SYNTH_PROFILE_ETSI, NAN), VXS_E_ARG);
    EXPECT_EQ(synth_world_init(&a, 1, (synth_profile_t)3, 10.0), VXS_E_ARG);
    EXPECT_EQ(synth_world_init(NULL, 1, SYNTH_PROFILE_ETSI, 10.0), VXS_E_ARG);
}

TEST(SynthWorld, LeapSecondsSince2004) {
    EXPECT_EQ(synth_leap_seconds_since_2004(INT64_C(1072915200) * 1000000000), 0); // 2004-01-01
    EXPECT_EQ(synth_leap_seconds_since_2004(INT64_C(1136073599) * 1000000000), 0);
    EXPECT_EQ(synth_leap_seconds_since_2004(INT64_C(1136073600) * 1000000000), 1); // 2006-01-01
    EXPECT_EQ(synth_leap_seconds_since_2004(INT64_C(1483228800) * 1000000000), 5); // 2017-01-01
    EXPECT_EQ(synth_leap_seconds_since_2004(INT64_C(1718181000) * 1000000000), 5);
}

// Internet checksum over `n` bytes: 0 when the stored checksum is right (RFC 1071).
unsigned Fold(const uint8_t *p, size_t n, uint32_t sum = 0) {
    for (size_t i = 0; i + 1 < n; i += 2) sum += (uint32_t)(p[i] << 8 | p[i + 1]);
    if (n & 1) sum += (uint32_t)(p[n - 1] << 8);
    while (sum >> 16) sum = (sum & 0xFFFF) + (sum >> 16);
    return (~sum) & 0xFFFF;
}

TEST(SynthWorld, UdpFramesCarryValidChecksums) {
    const uint8_t mac[6] = {2, 0, 0, 0, 0, 1};
    std::vector<uint8_t> payload(1206), f(1206 + 42);
    for (size_t i = 0; i < payload.size(); i++) payload[i] = (uint8_t)(i * 7);
    const size_t n = synth_udp_frame(f.data(), mac, 0xC0A801C9, 0xFFFFFFFF, 2368, 2368, 77,
                                     payload.data(), payload.size());
    ASSERT_EQ(n, payload.size() + 42);
    EXPECT_EQ(f[12], 0x08);
    EXPECT_EQ(f[13], 0x00);
    EXPECT_EQ(Fold(&f[14], 20), 0u);
    uint8_t pseudo[12];
    std::memcpy(pseudo, &f[26], 8);
    pseudo[8] = 0;
    pseudo[9] = 17;
    pseudo[10] = f[38];
    pseudo[11] = f[39];
    uint32_t sum = 0;
    for (int i = 0; i < 12; i += 2) sum += (uint32_t)(pseudo[i] << 8 | pseudo[i + 1]);
    EXPECT_EQ(Fold(&f[34], 8 + payload.size(), sum), 0u);
    EXPECT_EQ(std::memcmp(&f[42], payload.data(), payload.size()), 0);
}

TEST(SynthWorld, PcapKeepsNanoseconds) {
    const std::string dir = vxs_test::TempDir();
    char err[256] = "";
    synth_pcap_t *p = NULL;
    ASSERT_EQ(synth_pcap_open(&p, (dir + "/x.pcap").c_str(), err, sizeof err), VXS_OK) << err;
    const uint8_t frame[60] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
    const int64_t ts[3] = {INT64_C(1718181000123456789), INT64_C(1718181000123456790),
                           INT64_C(1718181001000000000)};
    for (int64_t t : ts) ASSERT_EQ(synth_pcap_write(p, t, frame, sizeof frame), VXS_OK);
    ASSERT_EQ(synth_pcap_close(p, err, sizeof err), VXS_OK) << err;
    char ebuf[PCAP_ERRBUF_SIZE];
    pcap_t *r = pcap_open_offline_with_tstamp_precision((dir + "/x.pcap").c_str(),
                                                        PCAP_TSTAMP_PRECISION_NANO, ebuf);
    ASSERT_TRUE(r) << ebuf;
    EXPECT_EQ(pcap_datalink(r), DLT_EN10MB);
    struct pcap_pkthdr *h;
    const u_char *d;
    for (int64_t t : ts) {
        ASSERT_EQ(pcap_next_ex(r, &h, &d), 1);
        EXPECT_EQ((int64_t)h->ts.tv_sec * 1000000000 + h->ts.tv_usec, t);
        EXPECT_EQ(h->caplen, sizeof frame);
    }
    pcap_close(r);
    // A folder that cannot exist is an error with the path in it.
    EXPECT_EQ(synth_pcap_open(&p, "/nonexistent-dir/x.pcap", err, sizeof err), VXS_E_IO);
    EXPECT_NE(std::string(err).find("/nonexistent-dir/x.pcap"), std::string::npos) << err;
}

TEST(SynthWorld, TruthWriterStreamsValidJson) {
    synth_world_t w;
    ASSERT_EQ(synth_world_init(&w, 5, SYNTH_PROFILE_ETSI, 2.0), VXS_OK);
    const std::string path = vxs_test::TempDir() + "/truth.json";
    char err[256] = "";
    synth_truth_t *t = NULL;
    ASSERT_EQ(synth_truth_open(&t, path.c_str(), &w, err, sizeof err), VXS_OK) << err;
    ASSERT_EQ(synth_truth_section(t, "things"), VXS_OK);
    for (int i = 0; i < 3; i++) ASSERT_EQ(synth_truth_item(t, json_pack("{s:i}", "i", i)), VXS_OK);
    ASSERT_EQ(synth_truth_section(t, "empty"), VXS_OK);
    ASSERT_EQ(synth_truth_close(t, err, sizeof err), VXS_OK) << err;
    json_error_t je;
    json_t *j = json_load_file(path.c_str(), 0, &je);
    ASSERT_TRUE(j) << je.text << " line " << je.line;
    EXPECT_EQ(json_integer_value(json_object_get(j, "seed")), 5);
    EXPECT_STREQ(json_string_value(json_object_get(j, "profile")), "etsi");
    EXPECT_EQ(json_array_size(json_object_get(j, "agents")), 4u);
    // clocks: a logger and a V2X (GNSS) domain per agent, a device domain per lidar
    EXPECT_EQ(json_array_size(json_object_get(j, "clocks")), 4u * 2 + 3);
    // trajectories every 100 ms including both ends: 21 instants x 4 agents
    json_t *tr = json_object_get(j, "trajectories");
    ASSERT_EQ(json_array_size(tr), 21u * 4);
    json_t *last = json_array_get(tr, 21 * 4 - 4);
    EXPECT_EQ(json_integer_value(json_object_get(last, "t_ns")), w.start_ns + w.duration_ns);
    synth_pose_t p;
    synth_pose(&w, SYNTH_EGO, w.start_ns + w.duration_ns, &p);
    EXPECT_NEAR(json_real_value(json_object_get(last, "x")), p.x, 1e-9);
    EXPECT_EQ(json_array_size(json_object_get(j, "things")), 3u);
    EXPECT_EQ(json_array_size(json_object_get(j, "empty")), 0u);
    json_decref(j);
}

// ==== realism (synth_realism_t) ==============================================================

synth_realism_t Realism(const char *spec) {
    synth_realism_t r = {};
    char err[512] = "";
    EXPECT_EQ(synth_realism_parse(&r, spec, err, sizeof err), VXS_OK) << spec << ": " << err;
    return r;
}

TEST(SynthRealism, ParsesClassicFullNamesAndNegations) {
    synth_realism_t r = Realism("classic");
    EXPECT_FALSE(synth_realism_any(&r));
    r = Realism("full");
    for (size_t i = 0; i < SYNTH_REALISM_N; i++) EXPECT_TRUE(*synth_realism_flag(&r, i)) << i;
    r = Realism("full,-slew,-sidecar-names");
    EXPECT_FALSE(r.slew);
    EXPECT_FALSE(r.sidecar_names);
    EXPECT_TRUE(r.link_floors && r.tx_log && r.rx_only && r.camera_latency && r.logger_steps &&
                r.lidar_behind);
    r = Realism("link-floors,tx-log");
    EXPECT_TRUE(r.link_floors && r.tx_log);
    EXPECT_FALSE(r.rx_only || r.slew);
    for (size_t i = 0; i < SYNTH_REALISM_N; i++) {
        const synth_realism_t one = Realism(synth_realism_name(i));
        synth_realism_t c = one;
        for (size_t k = 0; k < SYNTH_REALISM_N; k++)
            EXPECT_EQ(*synth_realism_flag(&c, k), k == i) << synth_realism_name(i);
    }
    EXPECT_EQ(synth_realism_name(SYNTH_REALISM_N), nullptr);
    char err[512] = "";
    EXPECT_EQ(synth_realism_parse(&r, "full,slow", err, sizeof err), VXS_E_ARG);
    EXPECT_NE(std::string(err).find("unknown realism 'slow'"), std::string::npos) << err;
    EXPECT_EQ(synth_realism_parse(&r, "-full", err, sizeof err), VXS_E_ARG);
    EXPECT_EQ(synth_realism_parse(&r, "", err, sizeof err), VXS_E_ARG);
}

// The classic world whatever the way it is asked for; each option's parameters are the same
// alone as with every other option on (its own random stream), and an option changes nothing
// of what it does not own.
TEST(SynthRealism, OptionsDrawFromStreamsOfTheirOwn) {
    synth_world_t plain, classic, full, one;
    const synth_realism_t none = Realism("classic"), all = Realism("full");
    ASSERT_EQ(synth_world_init(&plain, 8, SYNTH_PROFILE_MIXED, 30.0), VXS_OK);
    ASSERT_EQ(synth_world_init_ex(&classic, 8, SYNTH_PROFILE_MIXED, 30.0, &none), VXS_OK);
    ASSERT_EQ(synth_world_init_ex(&full, 8, SYNTH_PROFILE_MIXED, 30.0, &all), VXS_OK);
    EXPECT_EQ(std::memcmp(&plain, &classic, sizeof plain), 0);

    synth_realism_t r = Realism("link-floors");
    ASSERT_EQ(synth_world_init_ex(&one, 8, SYNTH_PROFILE_MIXED, 30.0, &r), VXS_OK);
    EXPECT_EQ(std::memcmp(one.link.floor_ms, full.link.floor_ms, sizeof one.link.floor_ms), 0);
    EXPECT_EQ(std::memcmp(one.agents, plain.agents, sizeof one.agents), 0);
    for (const bool steps : {true, false}) { // logger-steps, then slew: each alone as in full
        r = Realism(steps ? "logger-steps" : "slew");
        ASSERT_EQ(synth_world_init_ex(&one, 8, SYNTH_PROFILE_MIXED, 30.0, &r), VXS_OK);
        for (size_t a = 0; a < SYNTH_N_AGENTS; a++) {
            const synth_clock_t &x = one.agents[a].logger, &y = full.agents[a].logger;
            EXPECT_EQ(x.n_steps, steps ? y.n_steps : 0u);
            EXPECT_EQ(x.n_slews, steps ? 0u : y.n_slews);
            EXPECT_EQ(steps ? std::memcmp(x.steps, y.steps, sizeof x.steps)
                            : std::memcmp(x.slews, y.slews, sizeof x.slews),
                      0);
        }
    }
    r = Realism("lidar-behind");
    ASSERT_EQ(synth_world_init_ex(&one, 8, SYNTH_PROFILE_MIXED, 30.0, &r), VXS_OK);
    EXPECT_EQ(one.agents[SYNTH_VEHICLE2].lidar.device.offset_ns,
              full.agents[SYNTH_VEHICLE2].lidar.device.offset_ns);
    EXPECT_EQ(std::memcmp(&one.link, &plain.link, sizeof one.link), 0);

    // gnss, ref-point and motion: each alone draws what it draws in full, and the world is the
    // classic one but for what the option owns (the GNSS figures; vehicle2's and the phone's
    // motion laws; nothing: the reference point is a rule of the writer).
    for (const char *spec : {"gnss", "ref-point", "motion"}) {
        SCOPED_TRACE(spec);
        r = Realism(spec);
        ASSERT_EQ(synth_world_init_ex(&one, 8, SYNTH_PROFILE_MIXED, 30.0, &r), VXS_OK);
        synth_world_t rest = one;
        rest.realism = plain.realism;
        for (size_t a = 0; a < SYNTH_N_AGENTS; a++) {
            synth_agent_t &x = rest.agents[a];
            const synth_agent_t &f = full.agents[a], &c = plain.agents[a];
            if (r.gnss) {
                EXPECT_EQ(x.pos_sd_m, f.pos_sd_m);
                EXPECT_EQ(x.pos_tau_s, f.pos_tau_s);
                EXPECT_EQ(x.speed_sd_mps, f.speed_sd_mps);
                EXPECT_EQ(x.heading_sd_deg, f.heading_sd_deg);
                EXPECT_GT(x.pos_sd_m, 0.0);
                x.pos_sd_m = x.pos_tau_s = x.speed_sd_mps = x.heading_sd_deg = 0.0;
            }
            if (r.motion) {
                EXPECT_EQ(x.law, f.law);
                double synth_agent_t::*const law[] = {
                    &synth_agent_t::s0,       &synth_agent_t::v0,     &synth_agent_t::dv,
                    &synth_agent_t::omega,    &synth_agent_t::phi,    &synth_agent_t::walk_mps,
                    &synth_agent_t::ramp_s,   &synth_agent_t::walk_s, &synth_agent_t::pause_s,
                    &synth_agent_t::cycle_off_s};
                for (double synth_agent_t::*k : law) {
                    EXPECT_EQ(x.*k, f.*k);
                    x.*k = c.*k;
                }
                x.law = c.law;
            }
        }
        EXPECT_EQ(std::memcmp(&rest, &plain, sizeof rest), 0);
    }
}

// Every drawn parameter in the range synth.h promises, over many seeds and the three profiles.
TEST(SynthRealism, ParametersStayInTheirRanges) {
    const synth_realism_t all = Realism("full");
    std::map<std::string, int> sidecars, stems;
    int with_slews = 0, back = 0, fwd = 0;
    for (uint64_t seed = 0; seed < 60; seed++) {
        const synth_profile_t profile = (synth_profile_t)(seed % 3);
        const double secs = 20.0 + (double)(seed % 5) * 10.0;
        synth_world_t w;
        ASSERT_EQ(synth_world_init_ex(&w, seed, profile, secs, &all), VXS_OK);
        SCOPED_TRACE("seed " + std::to_string(seed));
        const int64_t t0 = w.start_ns, d = w.duration_ns;
        for (size_t a = 0; a < SYNTH_N_AGENTS; a++)
            for (size_t b = 0; b < SYNTH_N_AGENTS; b++) {
                if (a == b) continue;
                EXPECT_GE(w.link.floor_ms[a][b], 1.5);
                EXPECT_LT(w.link.floor_ms[a][b], 6.5);
                EXPECT_NE(w.link.floor_ms[a][b], w.link.floor_ms[b][a]); // asymmetric
            }
        for (const synth_agent_t &g : w.agents) {
            SCOPED_TRACE(g.id);
            for (int st = 0; st < SYNTH_N_STACKS; st++) {
                EXPECT_GE(g.tx_log_ms[st], 0.05);
                EXPECT_LT(g.tx_log_ms[st], 1.5);
                EXPECT_GE(g.tx_jitter_ms[st], 0.02);
                EXPECT_LT(g.tx_jitter_ms[st], 0.1);
            }
            const synth_clock_t &c = g.logger;
            if (&g == &w.agents[SYNTH_PHONE]) {
                EXPECT_GE(c.n_steps, 2u);
                EXPECT_LE(c.n_steps, 4u);
            }
            for (size_t k = 0; k < c.n_steps; k++) {
                const int64_t at = c.steps[k].at_ns, ms = std::llabs(c.steps[k].step_ns);
                EXPECT_GE(ms, 5000000);
                EXPECT_LE(ms, 60000000);
                EXPECT_GE(at, t0 + d / 10);
                EXPECT_LT(at, t0 + d * 9 / 10);
                if (c.jump_at_ns != INT64_MAX) {
                    EXPECT_GE(std::llabs(at - c.jump_at_ns), 1500000000);
                }
                if (k) {
                    EXPECT_GE(at - c.steps[k - 1].at_ns, 1500000000); // in order, apart
                    EXPECT_NE(c.steps[k].step_ns < 0, c.steps[k - 1].step_ns < 0); // both ways
                }
                (c.steps[k].step_ns < 0 ? back : fwd)++;
            }
            for (size_t k = 0; k < c.n_slews; k++) {
                const synth_slew_t &s = c.slews[k];
                if (s.end_ns == INT64_MAX) { // a lasting drift change
                    EXPECT_GE(std::fabs(s.rate_ppm), 2.0);
                    EXPECT_LT(std::fabs(s.rate_ppm), 20.0);
                } else {
                    EXPECT_GE(std::fabs(s.rate_ppm), 100.0);
                    EXPECT_LT(std::fabs(s.rate_ppm), 500.0);
                    EXPECT_GE(s.end_ns - s.start_ns, 2000000000);
                    EXPECT_LE(s.end_ns - s.start_ns, 10000000000);
                }
                EXPECT_GE(s.start_ns, t0 + d / 10);
                EXPECT_LE(s.start_ns, t0 + d * 8 / 10);
            }
            with_slews += c.n_slews > 0;
            // The model inverts exactly, across the slews, but for the instants whose reading
            // comes again after a backward step (the later one is given).
            auto shared = [](int64_t t, int64_t at, int64_t step) {
                return step < 0 && t < at && t >= at + step - 1000000;
            };
            for (int64_t t = t0; t < t0 + d; t += 97654321) {
                bool skip = c.jump_at_ns != INT64_MAX && shared(t, c.jump_at_ns, c.jump_ns);
                for (size_t k = 0; k < c.n_steps; k++)
                    skip = skip || shared(t, c.steps[k].at_ns, c.steps[k].step_ns);
                if (!skip) { // a rate below 1 reads the same for two ns now and then
                    EXPECT_LE(std::llabs(synth_clock_true(&c, synth_clock_local(&c, t)) - t), 1);
                }
            }
        }
        EXPECT_FALSE(w.agents[SYNTH_RSU].tx_etsi || w.agents[SYNTH_RSU].tx_us);
        EXPECT_EQ(w.agents[SYNTH_PHONE].tx_us, profile == SYNTH_PROFILE_US);
        EXPECT_EQ(w.agents[SYNTH_PHONE].tx_etsi, profile != SYNTH_PROFILE_US);
        const synth_camera_t &cm = w.agents[SYNTH_EGO].camera;
        EXPECT_GE(cm.stamp_latency_ms, 4.0);
        EXPECT_LT(cm.stamp_latency_ms, 15.0);
        EXPECT_EQ(cm.stamp_jitter_ms, 0.5);
        const int64_t dev = w.agents[SYNTH_VEHICLE2].lidar.device.offset_ns;
        EXPECT_LE(dev, INT64_C(-5000000000));
        EXPECT_GE(dev, INT64_C(-1500000000000));
        EXPECT_EQ(w.agents[SYNTH_EGO].lidar.device.offset_ns, 0); // locked ones stay locked
        std::string times = cm.times, file = cm.file;
        const std::string stem = file.substr(0, file.size() - 4);
        ASSERT_EQ(file.substr(file.size() - 4), ".mp4");
        stems[stem]++;
        if (times.compare(0, stem.size(), stem) == 0) times = "<stem>" + times.substr(stem.size());
        sidecars[times]++;
    }
    EXPECT_GT(with_slews, 60);
    EXPECT_GT(back, 20);
    EXPECT_GT(fwd, 20);
    EXPECT_EQ(stems.size(), 3u);
    EXPECT_EQ(sidecars, (std::map<std::string, int>{{"<stem>.timestamps.txt", 12},
                                                    {"<stem>_timestamps.txt", 12},
                                                    {"timestamps.txt", 12},
                                                    {"<stem>.txt", 12},
                                                    {"<stem>.csv", 12}}));
}

// Steps both ways and slews: readings across a slew move by its rate x its length; a reading
// shared around a backward step maps to the later instant, one in a forward step's gap to the
// step.
TEST(SynthRealism, ClockWithStepsAndSlewsMapsAndInverts) {
    synth_clock_t c = {};
    const int64_t t0 = INT64_C(1718181000000000000), s = 1000000000;
    c.offset_ns = 500000000;
    c.drift_ppm = -20.0;
    c.epoch_ns = t0;
    c.jump_at_ns = INT64_MAX;
    c.n_steps = 2;
    c.steps[0] = {t0 + 10 * s, -30000000};
    c.steps[1] = {t0 + 20 * s, 45000000};
    c.n_slews = 2;
    c.slews[0] = {t0 + 12 * s, t0 + 17 * s, 400.0}; // 2 ms over 5 s
    c.slews[1] = {t0 + 25 * s, INT64_MAX, -8.0};
    auto off = [&](int64_t t) { return synth_clock_local(&c, t) - t; };
    EXPECT_EQ(off(t0), 500000000);
    EXPECT_EQ(off(t0 + 10 * s) - off(t0 + 10 * s - 1), -30000000);
    EXPECT_EQ(off(t0 + 20 * s) - off(t0 + 20 * s - 1), 45000000);
    // 5 s of slew at 400 ppm on top of -20 ppm
    EXPECT_EQ(off(t0 + 17 * s) - off(t0 + 12 * s), 2000000 - 100000);
    EXPECT_EQ(off(t0 + 18 * s) - off(t0 + 17 * s), -20000);
    EXPECT_EQ(off(t0 + 30 * s) - off(t0 + 25 * s), -100000 - 40000);
    for (int64_t t = t0 - 3 * s; t < t0 + 40 * s; t += 12345677) {
        if (std::llabs(t - t0 - 10 * s) < 40000000) continue; // the backward step's double
        EXPECT_LE(std::llabs(synth_clock_true(&c, synth_clock_local(&c, t)) - t), 1) << (t - t0);
    }
    const int64_t at = t0 + 10 * s;
    EXPECT_EQ(synth_clock_true(&c, synth_clock_local(&c, at - 1000)), at + 30000000 - 1000 +
                                                                            /* drift */ 600);
    EXPECT_EQ(synth_clock_true(&c, synth_clock_local(&c, t0 + 20 * s - 1) + 1000000),
              t0 + 20 * s);
}

} // namespace
