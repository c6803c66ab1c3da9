/*
 * kin.c: the V2X annotations' kinematics (kin.h; README "The annotation model").
 */
#include "kin.h"

#include <math.h>
#include <string.h>

#define DEG (M_PI / 180.0)

/* WGS-84 */
#define WGS_A 6378137.0
#define WGS_F (1.0 / 298.257223563)
#define WGS_E2 (WGS_F * (2.0 - WGS_F))

/* The 2-D 95 % ellipse is 2.4477 sigma (chi-square, 2 degrees of freedom: sqrt(5.991)); a
 * 95 % interval of one value 1.96 sigma. */
#define ELLIPSE95 2.4477
#define ONE95 1.96

static void geo_to_ecef(double lat_deg, double lon_deg, double h, double out[3]) {
    const double sp = sin(lat_deg * DEG), cp = cos(lat_deg * DEG);
    const double sl = sin(lon_deg * DEG), cl = cos(lon_deg * DEG);
    const double n = WGS_A / sqrt(1.0 - WGS_E2 * sp * sp);
    out[0] = (n + h) * cp * cl;
    out[1] = (n + h) * cp * sl;
    out[2] = (n * (1.0 - WGS_E2) + h) * sp;
}

void vxsi_enu_init(vxsi_enu_t *e, double lat_deg, double lon_deg, double alt_m) {
    e->lat_deg = lat_deg;
    e->lon_deg = lon_deg;
    e->alt_m = alt_m;
    geo_to_ecef(lat_deg, lon_deg, alt_m, e->ecef0);
    e->sp = sin(lat_deg * DEG);
    e->cp = cos(lat_deg * DEG);
    e->sl = sin(lon_deg * DEG);
    e->cl = cos(lon_deg * DEG);
}

void vxsi_enu_from_geo(const vxsi_enu_t *e, double lat_deg, double lon_deg, double alt_m,
                       double out[3]) {
    double p[3];
    geo_to_ecef(lat_deg, lon_deg, alt_m, p);
    const double dx = p[0] - e->ecef0[0], dy = p[1] - e->ecef0[1], dz = p[2] - e->ecef0[2];
    out[0] = -e->sl * dx + e->cl * dy;
    out[1] = -e->sp * e->cl * dx - e->sp * e->sl * dy + e->cp * dz;
    out[2] = e->cp * e->cl * dx + e->cp * e->sl * dy + e->sp * dz;
}

/* ---- the model's constants (README "The annotation model" lists them) ------------------------ */

/* what a message that claims no accuracy is assumed to have, per class */
static const double DEFAULT_POS_SD[3] = {3.0, 5.0, 1.0};  /* m */
static const double DEFAULT_SPEED_SD[3] = {0.3, 0.3, 0.0}; /* m/s */
static const double DEFAULT_YAW_SD[3] = {3.0 * DEG, 20.0 * DEG, 0.0};
/* what the motion model leaves out, per class: the acceleration it does not know (with and
 * without a reported one), the yaw rate's error (with and without a reported one) and the yaw
 * rate's change */
static const double ACCEL_SD[3][2] = {{2.5, 1.5}, {1.0, 0.7}, {0, 0}};   /* m/s^2 */
static const double YAW_RATE_SD[3][2] = {{0.15, 0.02}, {0.5, 0.1}, {0, 0}}; /* rad/s */
static const double YAW_ACCEL_SD[3] = {0.3, 1.0, 0};                      /* rad/s^2 */

/* ETSI stationType: 3 moped .. 11 tram are vehicles with a box; 1 pedestrian, 2 cyclist;
 * 15 roadSideUnit */
static vxs_kin_class_t class_of(int agent_type, int station_type) {
    if (agent_type == VXS_AGENT_RSU) return VXS_KIN_STATIC;
    if (agent_type == VXS_AGENT_VRU) return VXS_KIN_PEDESTRIAN;
    if (agent_type == VXS_AGENT_VEHICLE) return VXS_KIN_VEHICLE;
    if (station_type == 15) return VXS_KIN_STATIC;
    if (station_type == 1 || station_type == 2) return VXS_KIN_PEDESTRIAN;
    return VXS_KIN_VEHICLE;
}

void vxsi_state_from_summary(vxs_msg_state_t *st, const vxs_v2x_summary_t *s, const vxsi_enu_t *enu,
                             int agent_type) {
    memset(st, 0, sizeof *st);
    st->length = s->length_m;
    st->width = s->width_m;
    if (!s->has_position || isnan(s->lat_deg) || isnan(s->lon_deg)) return;
    /* the messages whose position is their sender's: a DENM's is its event's, a MAP's or
     * SPaT's its intersection's (protocol NONE: no message, an agent's own fix) */
    const bool sender = s->protocol == VXS_V2X_PROTO_NONE ? true
                        : s->protocol == VXS_V2X_PROTO_J2735
                            ? s->msg_type == VXS_J2735_BSM || s->msg_type == VXS_J2735_PSM
                            : s->msg_type == VXS_ETSI_CAM || s->msg_type == VXS_ETSI_VAM ||
                                  s->msg_type == VXS_ETSI_CPM;
    if (!sender) return;
    /* a PSM's basicType and a VAM's stationType say pedestrian; a CAM's says what it is */
    int stype = s->station_type;
    if (s->protocol == VXS_V2X_PROTO_J2735 && s->msg_type == VXS_J2735_PSM) stype = 1;
    if (s->protocol == VXS_V2X_PROTO_ETSI && s->msg_type == VXS_ETSI_VAM) stype = 1;
    st->cls = class_of(agent_type, stype);
    const int c = (int)st->cls;
    double p[3];
    const bool has_alt = !isnan(s->elev_m);
    vxsi_enu_from_geo(enu, s->lat_deg, s->lon_deg, has_alt ? s->elev_m : enu->alt_m, p);
    st->valid = true;
    st->x = p[0];
    st->y = p[1];
    st->z = has_alt ? p[2] : NAN;
    st->has_speed = !isnan(s->speed_mps);
    st->speed = st->has_speed ? s->speed_mps : 0.0;
    st->has_heading = !isnan(s->heading_deg);
    st->yaw = st->has_heading ? remainder((90.0 - s->heading_deg) * DEG, 2 * M_PI) : 0.0;
    st->has_yaw_rate = !isnan(s->yaw_rate_dps);
    st->yaw_rate = st->has_yaw_rate ? s->yaw_rate_dps * DEG : 0.0;
    st->has_accel = !isnan(s->accel_long_mps2);
    st->accel = st->has_accel ? s->accel_long_mps2 : 0.0;
    if (st->cls == VXS_KIN_STATIC) { /* a roadside unit stands still whatever it says */
        st->has_speed = true;
        st->speed = 0.0;
    }
    /* An ETSI vehicle's reference point is the centre of the front of its box (EN 302 637-2);
     * the labels want the box's centre: half a length back along the heading */
    const bool etsi_vehicle = s->protocol == VXS_V2X_PROTO_ETSI && s->msg_type == VXS_ETSI_CAM &&
                              st->cls == VXS_KIN_VEHICLE;
    if (etsi_vehicle && !isnan(s->length_m) && st->has_heading) {
        st->ref_shift_m = s->length_m / 2;
        st->x -= st->ref_shift_m * cos(st->yaw);
        st->y -= st->ref_shift_m * sin(st->yaw);
    }
    /* the claimed accuracy: J2735's semi-major axis is one sigma, ETSI's ellipse 95 % */
    if (!isnan(s->pos_semi_major_m)) {
        st->pos_sd = s->pos_confidence_95 ? s->pos_semi_major_m / ELLIPSE95 : s->pos_semi_major_m;
        st->pos_sd_claimed = true;
    } else {
        st->pos_sd = DEFAULT_POS_SD[c];
    }
    st->speed_sd_claimed = !isnan(s->speed_conf_mps);
    st->speed_sd = st->speed_sd_claimed ? s->speed_conf_mps / ONE95 : DEFAULT_SPEED_SD[c];
    st->yaw_sd_claimed = !isnan(s->heading_conf_deg);
    st->yaw_sd = st->yaw_sd_claimed ? s->heading_conf_deg / ONE95 * DEG : DEFAULT_YAW_SD[c];
}

/* advance moves (x, y, yaw) by t seconds at speed v + a s (held at 0 once it reaches it: a
 * vehicle braking to a stop does not reverse; it stops turning too) turning at w. Closed form
 * of the constant turn rate and acceleration model; a nearly straight path (|w t| < 1e-6) takes
 * its limit. Returns the distance travelled (>= 0). */
static double advance(double *x, double *y, double *yaw, double v, double a, double w,
                      double t) {
    double te = t;
    if (a != 0.0 && v + a * t < 0) te = -v / a; /* the speed reaches 0 first (or is 0) */
    const double th0 = *yaw, th1 = th0 + w * te, v1 = v + a * te;
    double dx, dy;
    if (fabs(w * te) < 1e-6) {
        const double d = v * te + 0.5 * a * te * te;
        const double thm = th0 + 0.5 * w * te;
        dx = d * cos(thm);
        dy = d * sin(thm);
    } else {
        dx = (v1 * w * sin(th1) + a * cos(th1) - v * w * sin(th0) - a * cos(th0)) / (w * w);
        dy = (-v1 * w * cos(th1) + a * sin(th1) + v * w * cos(th0) - a * sin(th0)) / (w * w);
    }
    *x += dx;
    *y += dy;
    *yaw = remainder(th1, 2 * M_PI);
    return fabs(v * te + 0.5 * a * te * te);
}

void vxsi_predict(const vxs_msg_state_t *st, double dt, double dt_sd, vxs_msg_pred_t *out) {
    memset(out, 0, sizeof *out);
    if (!st->valid) return;
    const int c = (int)st->cls;
    out->x = st->x;
    out->y = st->y;
    out->z = st->z;
    out->yaw = st->yaw;
    out->speed = st->speed;
    if (st->cls == VXS_KIN_STATIC) {
        out->model = VXS_PRED_STATIC;
        out->sd_along = out->sd_across = out->sd = st->pos_sd;
        out->yaw_sd = st->yaw_sd;
        return;
    }
    if (!st->has_speed || !st->has_heading) return; /* VXS_PRED_NONE: where to, unknown */
    const double w = st->yaw_rate, a = st->accel;
    out->model = st->has_yaw_rate ? (st->has_accel ? VXS_PRED_CTRA : VXS_PRED_CTRV)
                                  : (st->has_accel ? VXS_PRED_CA : VXS_PRED_CV);
    out->moved_m = advance(&out->x, &out->y, &out->yaw, st->speed, a, w, dt);
    out->speed = fmax(0.0, st->speed + a * dt);
    /* What the model leaves out, over the age tau (README): along the path the age's own
     * uncertainty at this speed, the speed's error and the unknown acceleration; across it the
     * heading's error over the distance moved, the yaw rate's error and its change. */
    const double tau = fabs(dt), v = fmax(st->speed, out->speed);
    const double sa = ACCEL_SD[c][st->has_accel], sw = YAW_RATE_SD[c][st->has_yaw_rate];
    const double sal = YAW_ACCEL_SD[c];
    const double along_dt = v * dt_sd, along_v = st->speed_sd * tau,
                 along_a = 0.5 * sa * tau * tau;
    const double across_h = out->moved_m * st->yaw_sd, across_w = 0.5 * v * sw * tau * tau,
                 across_al = v * sal * tau * tau * tau / 6.0;
    const double p2 = st->pos_sd * st->pos_sd;
    out->sd_along = sqrt(p2 + along_dt * along_dt + along_v * along_v + along_a * along_a);
    out->sd_across =
        sqrt(p2 + across_h * across_h + across_w * across_w + across_al * across_al);
    out->sd = sqrt((out->sd_along * out->sd_along + out->sd_across * out->sd_across) / 2);
    const double yw = sw * tau, ya = 0.5 * sal * tau * tau;
    out->yaw_sd = sqrt(st->yaw_sd * st->yaw_sd + yw * yw + ya * ya);
}

void vxsi_to_body(const vxs_msg_pred_t *p, const vxs_pose_t *pose, vxs_msg_body_t *out) {
    const double dx = p->x - pose->x, dy = p->y - pose->y;
    const double c = cos(pose->yaw), s = sin(pose->yaw);
    out->x = c * dx + s * dy;
    out->y = -s * dx + c * dy;
    out->z = isnan(p->z) || isnan(pose->z) ? NAN : p->z - pose->z;
    out->yaw = remainder(p->yaw - pose->yaw, 2 * M_PI);
    out->range = hypot(dx, dy);
    /* the prediction's ellipse is symmetric enough to carry as its per-axis RMS; the receiver's
     * position error adds to both axes, its heading error across the line of sight */
    const double rot = out->range * pose->yaw_sd;
    out->sd = sqrt(p->sd * p->sd + pose->sd * pose->sd + rot * rot / 2);
}

void vxsi_pose_between(const vxs_msg_state_t *a, double ta, const vxs_msg_state_t *b, double tb,
                       double t, vxs_pose_t *out) {
    vxs_msg_pred_t pa, pb;
    memset(out, 0, sizeof *out);
    vxsi_predict(a, t - ta, 0.0, &pa);
    if (pa.model == VXS_PRED_NONE || !a->has_heading) return; /* no heading: no body frame */
    out->valid = true;
    out->x = pa.x;
    out->y = pa.y;
    out->z = pa.z;
    out->yaw = pa.yaw;
    out->sd = pa.sd;
    out->yaw_sd = pa.yaw_sd;
    if (!b || !(tb > ta)) return;
    vxsi_predict(b, t - tb, 0.0, &pb);
    if (pb.model == VXS_PRED_NONE) return;
    const double wb = (t - ta) / (tb - ta), wa = 1.0 - wb;
    out->x = wa * pa.x + wb * pb.x;
    out->y = wa * pa.y + wb * pb.y;
    out->z = isnan(pa.z) || isnan(pb.z) ? (isnan(pa.z) ? pb.z : pa.z) : wa * pa.z + wb * pb.z;
    out->yaw = remainder(pa.yaw + wb * remainder(pb.yaw - pa.yaw, 2 * M_PI), 2 * M_PI);
    out->sd = wa * pa.sd + wb * pb.sd;
    out->yaw_sd = wa * pa.yaw_sd + wb * pb.yaw_sd;
}
