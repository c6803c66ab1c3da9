// The V2X annotations' kinematics (sync/kin.c): the local east-north-up frame against the
// ellipsoid's own radii of curvature; the motion models against paths whose end is known in
// closed form (a circle closes, a braking car stops where v^2 / 2a says); the uncertainty's
// terms; the body frame on hand-worked cases; the state a summary gives (signs, units, ETSI's
// front-of-box reference point).
#include <cmath>

#include <gtest/gtest.h>

#include "kin.h"

namespace {

constexpr double kDeg = M_PI / 180.0;

// The ellipsoid's radii of curvature at latitude phi (WGS-84): meridian M, prime vertical N.
void Radii(double phi, double *m, double *n) {
    const double a = 6378137.0, f = 1 / 298.257223563, e2 = f * (2 - f);
    const double w = 1 - e2 * std::sin(phi) * std::sin(phi);
    *m = a * (1 - e2) / std::pow(w, 1.5);
    *n = a / std::sqrt(w);
}

TEST(KinEnu, OriginUpNorthAndEastMatchTheRadiiOfCurvature) {
    vxsi_enu_t e;
    const double lat = 41.14, lon = -104.82, h = 1850;
    vxsi_enu_init(&e, lat, lon, h);
    double p[3];
    vxsi_enu_from_geo(&e, lat, lon, h, p);
    EXPECT_NEAR(p[0], 0, 1e-6);
    EXPECT_NEAR(p[1], 0, 1e-6);
    EXPECT_NEAR(p[2], 0, 1e-6);
    vxsi_enu_from_geo(&e, lat, lon, h + 100, p); // straight up
    EXPECT_NEAR(p[0], 0, 1e-6);
    EXPECT_NEAR(p[1], 0, 1e-6);
    EXPECT_NEAR(p[2], 100, 1e-6);
    double m, n;
    Radii(lat * kDeg, &m, &n);
    // 1e-4 rad north (about 636 m): the arc M dphi (the chord differs by under a micrometre),
    // below the tangent plane by about north^2 / 2 (M + h)
    const double dphi = 1e-4;
    vxsi_enu_from_geo(&e, lat + dphi / kDeg, lon, h, p);
    EXPECT_NEAR(p[0], 0, 1e-6);
    EXPECT_NEAR(p[1], (m + h) * dphi, 2e-3);
    EXPECT_NEAR(p[2], -p[1] * p[1] / (2 * (m + h)), 2e-3);
    // 1e-4 rad east: the parallel's radius (N + h) cos(phi)
    vxsi_enu_from_geo(&e, lat, lon + dphi / kDeg, h, p);
    EXPECT_NEAR(p[0], (n + h) * std::cos(lat * kDeg) * dphi, 2e-3);
    // the parallel bends toward the pole: east^2 tan(phi) / 2N north of the tangent plane
    EXPECT_NEAR(p[1], p[0] * p[0] * std::tan(lat * kDeg) / (2 * n), 1e-3);
}

vxs_msg_state_t Mover(double v, double yaw, double w, double a) {
    vxs_msg_state_t s{};
    s.valid = true;
    s.cls = VXS_KIN_VEHICLE;
    s.has_speed = s.has_heading = s.has_yaw_rate = s.has_accel = true;
    s.speed = v;
    s.yaw = yaw;
    s.yaw_rate = w;
    s.accel = a;
    s.z = NAN;
    s.pos_sd = 1.0;
    s.speed_sd = 0.1;
    s.yaw_sd = 1 * kDeg;
    return s;
}

TEST(KinPredict, ConstantTurnRateGoesRoundTheCircle) {
    const vxs_msg_state_t s = Mover(10, 0, 0.5, 0); // radius 20 m, centre (0, 20)
    vxs_msg_pred_t p;
    vxsi_predict(&s, M_PI / 0.5, 0, &p); // half a turn
    EXPECT_EQ(p.model, VXS_PRED_CTRA);
    EXPECT_NEAR(p.x, 0, 1e-9);
    EXPECT_NEAR(p.y, 40, 1e-9);
    EXPECT_NEAR(std::fabs(p.yaw), M_PI, 1e-12);
    EXPECT_NEAR(p.moved_m, 10 * M_PI / 0.5, 1e-9);
    vxsi_predict(&s, 2 * M_PI / 0.5, 0, &p); // a whole one: back where it began
    EXPECT_NEAR(p.x, 0, 1e-9);
    EXPECT_NEAR(p.y, 0, 1e-9);
    // accelerating round a turn, then back by the same time: the start again
    const vxs_msg_state_t t = Mover(8, 0.3, -0.2, 1.5);
    vxsi_predict(&t, 1.7, 0, &p);
    vxs_msg_state_t back = Mover(p.speed, p.yaw, -0.2, 1.5);
    back.x = p.x;
    back.y = p.y;
    vxsi_predict(&back, -1.7, 0, &p);
    EXPECT_NEAR(p.x, 0, 1e-9);
    EXPECT_NEAR(p.y, 0, 1e-9);
    EXPECT_NEAR(p.yaw, 0.3, 1e-12);
}

TEST(KinPredict, BrakingStopsAndDoesNotReverse) {
    vxs_msg_state_t s = Mover(10, M_PI / 2, 0, -2); // north at 10 m/s braking at 2 m/s^2
    s.has_yaw_rate = false;
    vxs_msg_pred_t p;
    vxsi_predict(&s, 3, 0, &p);
    EXPECT_EQ(p.model, VXS_PRED_CA);
    EXPECT_NEAR(p.y, 10 * 3 - 0.5 * 2 * 9, 1e-9);
    EXPECT_NEAR(p.x, 0, 1e-9);
    EXPECT_NEAR(p.speed, 4, 1e-12);
    vxsi_predict(&s, 10, 0, &p); // stopped at 5 s after 25 m
    EXPECT_NEAR(p.y, 25, 1e-9);
    EXPECT_EQ(p.speed, 0);
    EXPECT_NEAR(p.moved_m, 25, 1e-9);
}

TEST(KinPredict, AStandingVehicleDoesNotRollBackEitherWay) {
    vxs_msg_state_t s = Mover(0, 0.5, 0.2, -1.0); // stopped, braking, a yaw rate: stays put
    vxs_msg_pred_t p;
    vxsi_predict(&s, 1.0, 0, &p);
    EXPECT_EQ(p.x, 0);
    EXPECT_EQ(p.y, 0);
    EXPECT_NEAR(p.yaw, 0.5, 1e-12);
    EXPECT_EQ(p.moved_m, 0);
    s.accel = 1.0; // starting off: back in time it was standing, not reversing
    vxsi_predict(&s, -1.0, 0, &p);
    EXPECT_EQ(p.x, 0);
    EXPECT_EQ(p.y, 0);
    vxsi_predict(&s, 2.0, 0, &p); // and forward it starts: 2 m
    EXPECT_NEAR(p.moved_m, 2.0, 1e-12);
}

TEST(KinPredict, ModelFollowsTheFieldsAndUnknownMotionIsNotPredicted) {
    vxs_msg_state_t s = Mover(5, 0, 0, 0);
    vxs_msg_pred_t p;
    s.has_accel = false;
    vxsi_predict(&s, 1, 0, &p);
    EXPECT_EQ(p.model, VXS_PRED_CTRV);
    s.has_yaw_rate = false;
    vxsi_predict(&s, 1, 0, &p);
    EXPECT_EQ(p.model, VXS_PRED_CV);
    EXPECT_NEAR(p.x, 5, 1e-12);
    s.has_heading = false;
    vxsi_predict(&s, 1, 0, &p);
    EXPECT_EQ(p.model, VXS_PRED_NONE);
    s.cls = VXS_KIN_STATIC; // a roadside unit stays where it is
    vxsi_predict(&s, 1, 0, &p);
    EXPECT_EQ(p.model, VXS_PRED_STATIC);
    EXPECT_EQ(p.x, 0);
    s.valid = false;
    vxsi_predict(&s, 1, 0, &p);
    EXPECT_EQ(p.model, VXS_PRED_NONE);
}

TEST(KinPredict, UncertaintyStartsAtTheClaimAndGrowsWithAgeAndTimingError) {
    const vxs_msg_state_t s = Mover(20, 0, 0.1, 0.5);
    vxs_msg_pred_t p0, p1, p2, pt;
    vxsi_predict(&s, 0, 0, &p0);
    EXPECT_NEAR(p0.sd_along, 1.0, 1e-12);
    EXPECT_NEAR(p0.sd_across, 1.0, 1e-12);
    vxsi_predict(&s, 0.2, 0, &p1);
    vxsi_predict(&s, 1.0, 0, &p2);
    EXPECT_GT(p1.sd, p0.sd);
    EXPECT_GT(p2.sd, p1.sd);
    // a timing error of 10 ms at 20 m/s is 0.2 m along the path
    vxsi_predict(&s, 0, 0.010, &pt);
    EXPECT_NEAR(pt.sd_along, std::sqrt(1.0 + 0.2 * 0.2), 1e-9);
    EXPECT_NEAR(pt.sd_across, 1.0, 1e-12);
    // across the path: the heading's error over the distance moved, at least
    EXPECT_GE(p2.sd_across, std::hypot(1.0, p2.moved_m * s.yaw_sd));
}

TEST(KinBody, ReceiverFacingNorthSeesAheadAndLeft) {
    vxs_pose_t rx{true, 10, 0, 1, M_PI / 2, 0.5, 0};
    vxs_msg_pred_t p{};
    p.sd = 1.0;
    p.x = 10;
    p.y = 5;
    p.z = 2;
    p.yaw = M_PI; // heading west
    vxs_msg_body_t b;
    vxsi_to_body(&p, &rx, &b);
    EXPECT_NEAR(b.x, 5, 1e-12); // ahead
    EXPECT_NEAR(b.y, 0, 1e-12);
    EXPECT_NEAR(b.z, 1, 1e-12);
    EXPECT_NEAR(b.yaw, M_PI / 2, 1e-12); // crossing from right to left
    EXPECT_NEAR(b.range, 5, 1e-12);
    EXPECT_NEAR(b.sd, std::hypot(1.0, 0.5), 1e-12);
    p.x = 5;
    p.y = 0;
    vxsi_to_body(&p, &rx, &b);
    EXPECT_NEAR(b.x, 0, 1e-12);
    EXPECT_NEAR(b.y, 5, 1e-12); // west of a north-facing receiver: its left
    rx.yaw_sd = 0.1; // the receiver's heading error moves it across the line of sight
    vxsi_to_body(&p, &rx, &b);
    EXPECT_NEAR(b.sd, std::sqrt(1.0 + 0.25 + 0.5 * 0.5 * 0.5), 1e-12);
}

TEST(KinPose, BetweenTwoOwnMessagesOnAStraightRoad) {
    vxs_msg_state_t a = Mover(10, 0, 0, 0), b = Mover(10, 0, 0, 0);
    b.x = 1.0; // 100 ms later at 10 m/s
    vxs_pose_t p;
    vxsi_pose_between(&a, -0.03, &b, 0.07, 0.0, &p);
    ASSERT_TRUE(p.valid);
    EXPECT_NEAR(p.x, 0.3, 1e-12);
    EXPECT_NEAR(p.y, 0, 1e-12);
    vxsi_pose_between(&a, -0.05, nullptr, 0, 0.0, &p); // only before: ahead by 50 ms
    EXPECT_NEAR(p.x, 0.5, 1e-12);
    a.has_heading = false;
    vxsi_pose_between(&a, -0.05, nullptr, 0, 0.0, &p);
    EXPECT_FALSE(p.valid);
    a.cls = VXS_KIN_STATIC; // a roadside unit that gives no heading has no body frame either
    vxsi_pose_between(&a, -0.05, nullptr, 0, 0.0, &p);
    EXPECT_FALSE(p.valid);
}

vxs_v2x_summary_t Summary(uint16_t proto, uint16_t type) {
    vxs_v2x_summary_t s{};
    s.protocol = proto;
    s.msg_type = type;
    s.has_position = true;
    s.lat_deg = 48.0;
    s.lon_deg = 11.0;
    s.elev_m = 500;
    s.speed_mps = 10;
    s.heading_deg = 90; // east
    s.yaw_rate_dps = 5;
    s.accel_long_mps2 = NAN;
    s.length_m = 4.0;
    s.width_m = 1.8;
    s.station_type = 5;
    s.pos_semi_major_m = 2.4477;
    s.pos_semi_minor_m = 2.4477;
    s.pos_orientation_deg = 0;
    s.pos_confidence_95 = true;
    s.speed_conf_mps = 0.196;
    s.heading_conf_deg = 1.96;
    return s;
}

TEST(KinState, EtsiCamVehicleIsMovedBackToItsBoxCentreAndConfidencesAreSigmas) {
    vxsi_enu_t e;
    vxsi_enu_init(&e, 48.0, 11.0, 500);
    const vxs_v2x_summary_t s = Summary(VXS_V2X_PROTO_ETSI, VXS_ETSI_CAM);
    vxs_msg_state_t st;
    vxsi_state_from_summary(&st, &s, &e, -1);
    ASSERT_TRUE(st.valid);
    EXPECT_EQ(st.cls, VXS_KIN_VEHICLE);
    EXPECT_NEAR(st.yaw, 0, 1e-12);            // heading 90 (east) is yaw 0
    EXPECT_NEAR(st.x, -2.0, 1e-6);            // half its 4 m back from the front
    EXPECT_NEAR(st.ref_shift_m, 2.0, 1e-12);
    EXPECT_NEAR(st.z, 0, 1e-6);
    EXPECT_NEAR(st.yaw_rate, 5 * kDeg, 1e-12);
    EXPECT_FALSE(st.has_accel);
    EXPECT_NEAR(st.pos_sd, 1.0, 1e-4);        // a 95 % ellipse is 2.4477 sigma
    EXPECT_NEAR(st.speed_sd, 0.1, 1e-12);     // a 95 % interval 1.96
    EXPECT_NEAR(st.yaw_sd, 1 * kDeg, 1e-12);
    EXPECT_TRUE(st.pos_sd_claimed && st.speed_sd_claimed && st.yaw_sd_claimed);
}

TEST(KinState, J2735BsmIsAtItsCentreAndOneSigmaAsSent) {
    vxsi_enu_t e;
    vxsi_enu_init(&e, 48.0, 11.0, 500);
    vxs_v2x_summary_t s = Summary(VXS_V2X_PROTO_J2735, VXS_J2735_BSM);
    s.pos_confidence_95 = false;
    s.pos_semi_major_m = 1.5;
    s.speed_conf_mps = s.heading_conf_deg = NAN;
    s.elev_m = NAN;
    vxs_msg_state_t st;
    vxsi_state_from_summary(&st, &s, &e, VXS_AGENT_VEHICLE);
    EXPECT_NEAR(st.x, 0, 1e-6);
    EXPECT_EQ(st.ref_shift_m, 0);
    EXPECT_TRUE(std::isnan(st.z)); // no altitude: none invented
    EXPECT_EQ(st.pos_sd, 1.5);
    EXPECT_FALSE(st.speed_sd_claimed);
    EXPECT_GT(st.speed_sd, 0); // the class default, said to be one
    // a PSM is a pedestrian whatever its basicType; a roadside unit stands still
    s.msg_type = VXS_J2735_PSM;
    vxsi_state_from_summary(&st, &s, &e, -1);
    EXPECT_EQ(st.cls, VXS_KIN_PEDESTRIAN);
    vxsi_state_from_summary(&st, &s, &e, VXS_AGENT_RSU);
    EXPECT_EQ(st.cls, VXS_KIN_STATIC);
    EXPECT_EQ(st.speed, 0);
    s.has_position = false;
    vxsi_state_from_summary(&st, &s, &e, -1);
    EXPECT_FALSE(st.valid);
    // a DENM's position is its event's, a MAP's its intersection's: no sender state
    vxs_v2x_summary_t d = Summary(VXS_V2X_PROTO_ETSI, VXS_ETSI_DENM);
    vxsi_state_from_summary(&st, &d, &e, -1);
    EXPECT_FALSE(st.valid);
    d = Summary(VXS_V2X_PROTO_J2735, VXS_J2735_MAP);
    vxsi_state_from_summary(&st, &d, &e, -1);
    EXPECT_FALSE(st.valid);
}

} // namespace
