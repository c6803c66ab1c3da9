/*
 * kin.h: the V2X annotations' kinematics (internal to sync/): WGS-84 positions in the scenario's
 * local east-north-up frame, the sender's state as a message reports it, its prediction to a
 * frame time with the uncertainty that implies, and the result in a receiving agent's body
 * frame. README "The annotation model" states the model; this is its one implementation. The
 * types are vxs_frame.h's (section 3: what sinks see of a message).
 *
 * Frames and signs. ENU: x east, y north, z up, metres from the origin (vxsi_enu_t), on the
 * origin's tangent plane. A yaw is radians counter-clockwise from east (a heading of 0 deg,
 * north, is a yaw of pi/2); a yaw rate is positive counter-clockwise. A body frame: x forward,
 * y left, z up, its origin at the agent's reference point (the centre of its box on the ground).
 */
#ifndef VXS_KIN_H
#define VXS_KIN_H

#include <stdbool.h>

#include "vxs_core.h"
#include "vxs_frame.h"

#ifdef __cplusplus
extern "C" {
#endif

/* vxsi_enu_t is the local frame: its origin on the WGS-84 ellipsoid and its ECEF rotation. */
typedef struct {
    double lat_deg, lon_deg, alt_m;
    double ecef0[3];
    double sl, cl, sp, cp; /* sin/cos of longitude and latitude */
} vxsi_enu_t;

/* vxsi_enu_init places the origin; vxsi_enu_from_geo maps a WGS-84 point (degrees, ellipsoidal
 * height in m) to ENU metres, exactly (geodetic -> ECEF -> rotation), so distances are right to
 * the millimetre at any range the scenario has. */
void vxsi_enu_init(vxsi_enu_t *e, double lat_deg, double lon_deg, double alt_m);
void vxsi_enu_from_geo(const vxsi_enu_t *e, double lat_deg, double lon_deg, double alt_m,
                       double out[3]);

/* vxsi_state_from_summary reads a message's state (vxs_v2x_summary_t) into *st on `enu`: for
 * a BSM, PSM, CAM, VAM or CPM (the messages whose position is their sender's; st->valid false
 * for others), or a summary of protocol VXS_V2X_PROTO_NONE standing for an agent's own fix;
 * `agent_type` is the sending agent's manifest type (vxs_agent_type_t), -1 when no agent owns
 * it (the station type decides then). */
void vxsi_state_from_summary(vxs_msg_state_t *st, const vxs_v2x_summary_t *s, const vxsi_enu_t *enu,
                             int agent_type);

/* vxsi_predict advances `st` by dt_s (the message's age at the frame time; negative works too)
 * with the model its fields allow; dt_sd_s is the age's uncertainty (the latency's). */
void vxsi_predict(const vxs_msg_state_t *st, double dt_s, double dt_sd_s, vxs_msg_pred_t *out);

/* vxsi_to_body expresses prediction p in the body frame of `pose`. */
void vxsi_to_body(const vxs_msg_pred_t *p, const vxs_pose_t *pose, vxs_msg_body_t *out);

/* vxsi_pose_between gives the pose at t from the states a (generated at ta, before t) and b
 * (at tb, after; NULL: none), times in s on one axis: each is predicted to t and the two are
 * blended by time, so the pose moves between two messages as the motion between them did. */
void vxsi_pose_between(const vxs_msg_state_t *a, double ta, const vxs_msg_state_t *b, double tb,
                       double t, vxs_pose_t *out);

#ifdef __cplusplus
}
#endif

#endif /* VXS_KIN_H */
