/*
 * openlabel.c: one frame's labels as an ASAM OpenLABEL 1.0.0 document (README "labels.json"),
 * for the bundle writer (bundle.c).
 *
 * Coordinate systems: "enu" (the scenario's east-north-up frame), one per agent (its body frame:
 * x forward, y left, z up, origin on the ground under its reference point; its pose in "enu"
 * where the job knows it at T) and one per exported sensor (its mounting in the agent's frame).
 * Streams: the exported sensors, with each member's file and its sync (stream frame number and
 * time). Objects: every road user a receiving agent knows of from V2X at T: the senders of the
 * messages it had in the window and the objects their CPMs perceived. Each gets, per receiving
 * agent whose pose is known, a cuboid at the position predicted at T in that agent's frame, with
 * the annotations (latency, age, uncertainty, distance moved, link state, the message) and what
 * the receiver's own LiDAR says: the points of its sweep inside the box grown by 2.45 sigma.
 */
#include "export_int.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

/* A perceived object's own uncertainty, beyond its sender's: CPMs give no usable one in the
 * fields the reader keeps, so 1 m of position and 1 m/s of velocity (1 sigma per axis). */
#define OBJ_POS_SD_M 1.0
#define OBJ_VEL_SD_MPS 1.0
/* The box a LiDAR check counts points in: the cuboid grown by GROW_SIGMAS sigma of the
 * position (2.45 sigma: 95 % of a 2-D Gaussian) on each side, from GROUND_CLEAR_M above the
 * receiver's ground plane (points below are the road) to the top of the box plus TOP_MARGIN_M. */
#define GROW_SIGMAS 2.4477
#define GROUND_CLEAR_M 0.3
#define TOP_MARGIN_M 0.5

/* the kind of road user and its default box (length, width, height m) */
typedef struct {
    const char *type;
    double l, w, h;
} kind_t;

static const kind_t K_CAR = {"car", 4.5, 1.8, 1.5};
static const kind_t K_VEHICLE = {"vehicle", 4.5, 1.8, 1.5};
static const kind_t K_BUS = {"bus", 12.0, 2.55, 3.2};
static const kind_t K_TRUCK = {"truck", 8.0, 2.5, 3.5};
static const kind_t K_TRAILER = {"trailer", 8.0, 2.5, 3.5};
static const kind_t K_TRAM = {"tram", 30.0, 2.65, 3.4};
static const kind_t K_MOTO = {"motorcycle", 2.2, 0.8, 1.5};
static const kind_t K_PED = {"pedestrian", 0.6, 0.6, 1.75};
static const kind_t K_CYCLIST = {"cyclist", 1.8, 0.6, 1.7};
static const kind_t K_ANIMAL = {"animal", 1.5, 0.6, 1.0};
static const kind_t K_RSU = {"roadside_unit", 0.6, 0.6, 4.0};
static const kind_t K_UNKNOWN = {"unknown", 1.0, 1.0, 1.5};

/* etsi_kind: ETSI StationType / TrafficParticipantType (CDD: both number these alike 0..15) */
static const kind_t *etsi_kind(int t) {
    switch (t) {
    case 1: return &K_PED;
    case 2: case 12: return &K_CYCLIST;
    case 3: case 4: return &K_MOTO;
    case 5: case 10: case 14: return &K_CAR;
    case 6: return &K_BUS;
    case 7: case 8: return &K_TRUCK;
    case 9: return &K_TRAILER;
    case 11: return &K_TRAM;
    case 13: return &K_ANIMAL;
    case 15: return &K_RSU;
    default: return NULL;
    }
}

/* sender_kind: what a message's sender is: its agent's type when an agent of the scenario owns
 * it, else what the message says (a PSM's basicType, an ETSI station type; a BSM is a vehicle) */
static const kind_t *sender_kind(const vxs_run_info_t *run, const vxs_frame_msg_t *m,
                                 const char **why) {
    const vxs_v2x_summary_t *v = &m->v2x;
    const kind_t *k = NULL;
    *why = "message";
    if (v->protocol == VXS_V2X_PROTO_ETSI) k = etsi_kind(v->station_type);
    if (v->protocol == VXS_V2X_PROTO_J2735 && v->msg_type == VXS_J2735_PSM)
        k = v->station_type == 2 ? &K_CYCLIST : v->station_type == 4 ? &K_ANIMAL : &K_PED;
    if (m->sender_agent >= 0) {
        switch (run->manifest->agents[m->sender_agent].type) {
        case VXS_AGENT_RSU: *why = "scenario agent type"; return &K_RSU;
        case VXS_AGENT_VRU:
            if (k == &K_CYCLIST) return k;
            *why = "scenario agent type";
            return &K_PED;
        default:
            if (k && k != &K_PED && k != &K_CYCLIST && k != &K_RSU) return k;
            *why = "scenario agent type";
            return &K_CAR;
        }
    }
    if (k) return k;
    *why = "message type";
    if (m->state.cls == VXS_KIN_STATIC) return &K_RSU;
    if (m->state.cls == VXS_KIN_PEDESTRIAN) return &K_PED;
    return v->protocol == VXS_V2X_PROTO_J2735 ? &K_CAR : &K_VEHICLE;
}

static void add_num(json_t *a, const char *name, double v, double unit) {
    if (!isfinite(v)) return;
    json_array_append_new(a, json_pack("{s:s,s:o}", "name", name, "val", vxsi_json_round(v, unit)));
}

static void add_text(json_t *a, const char *name, const char *v) {
    json_array_append_new(a, json_pack("{s:s,s:s}", "name", name, "val", v));
}

/* pose_json: a transform_data: the quaternion as OpenLABEL orders it (x, y, z, w) and the
 * translation */
static json_t *pose_json(double x, double y, double z, const double q_wxyz[4]) {
    return json_pack("{s:[o,o,o,o],s:[o,o,o]}", "quaternion", vxsi_json_round(q_wxyz[1], 1e-9),
                     vxsi_json_round(q_wxyz[2], 1e-9), vxsi_json_round(q_wxyz[3], 1e-9),
                     vxsi_json_round(q_wxyz[0], 1e-9), "translation", vxsi_json_round(x, 1e-4),
                     vxsi_json_round(y, 1e-4), vxsi_json_round(z, 1e-4));
}

/* count_in_box: points of the receiver's sweep (body frame, xyz triples) inside the box centred
 * at (cx, cy) turned by yaw with half sizes hl, hw, from GROUND_CLEAR_M to top */
static uint64_t count_in_box(const float *xyz, size_t n, double cx, double cy, double yaw,
                             double hl, double hw, double top) {
    const double c = cos(yaw), s = sin(yaw);
    uint64_t k = 0;
    for (size_t i = 0; i < n; i++) {
        const double z = xyz[3 * i + 2];
        if (z < GROUND_CLEAR_M || z > top) continue;
        const double dx = xyz[3 * i] - cx, dy = xyz[3 * i + 1] - cy;
        const double u = c * dx + s * dy, v = -s * dx + c * dy;
        if (fabs(u) <= hl && fabs(v) <= hw) k++;
    }
    return k;
}

/* place: one road user's predicted box in a receiver's body frame, and what the receiver's LiDAR
 * says of it */
typedef struct {
    double x, y, yaw, l, w, h, sd, range;
} place_t;

static void lidar_check(const vxsi_label_lidar_t *ld, const place_t *p, json_t *num, json_t *text) {
    if (!ld || !ld->xyz) {
        add_text(text, "lidar_status", "no_lidar");
        return;
    }
    if (p->range > ld->range_m) {
        add_text(text, "lidar_status", "out_of_range");
        return;
    }
    const double g = GROW_SIGMAS * p->sd;
    const uint64_t n = count_in_box(ld->xyz, ld->n, p->x, p->y, p->yaw, 0.5 * p->l + g,
                                    0.5 * p->w + g, p->h + TOP_MARGIN_M);
    add_num(num, "lidar_points", (double)n, 1);
    add_text(text, "lidar_status", n >= VXSI_SEEN_POINTS ? "seen" : "not_seen");
    add_text(text, "lidar_stream", ld->stream);
}

static json_t *cuboid_json(const char *receiver, const place_t *p, json_t *num, json_t *text) {
    json_t *attrs = json_pack("{s:o,s:o}", "num", num, "text", text);
    return json_pack("{s:s,s:s,s:[o,o,o,i,i,o,o,o,o],s:o}", "name", receiver, "coordinate_system",
                     receiver, "val", vxsi_json_round(p->x, 1e-3), vxsi_json_round(p->y, 1e-3),
                     vxsi_json_round(0.5 * p->h, 1e-3), 0, 0, vxsi_json_round(p->yaw, 1e-6),
                     vxsi_json_round(p->l, 1e-3), vxsi_json_round(p->w, 1e-3),
                     vxsi_json_round(p->h, 1e-3), "attributes", attrs);
}

/* object_entry returns the frame's entry of object `uid` in `fobjs`, creating it (and its
 * static entry in `objs`, with `name` and `type`) when new */
static json_t *object_entry(json_t *objs, json_t *fobjs, uint64_t uid, const char *name,
                            const char *type, uint64_t frame, json_t *static_text) {
    char key[32];
    snprintf(key, sizeof key, "%" PRIu64, uid);
    json_t *e = json_object_get(fobjs, key);
    if (e) {
        json_decref(static_text);
        return e;
    }
    json_object_set_new(objs, key,
                        json_pack("{s:s,s:s,s:[{s:I,s:I}],s:{s:o}}", "name", name, "type", type,
                                  "frame_intervals", "frame_start", (json_int_t)frame, "frame_end",
                                  (json_int_t)frame, "object_data", "text", static_text));
    e = json_pack("{s:{s:[],s:[]}}", "object_data", "cuboid", "text");
    json_object_set_new(fobjs, key, e);
    return e;
}

static void unplaced(json_t *e, const char *receiver, const char *why) {
    char name[96];
    snprintf(name, sizeof name, "unplaced:%s", receiver);
    add_text(json_object_get(json_object_get(e, "object_data"), "text"), name, why);
}

/* link_state: "dropout" when the receiver's link from this sender is silent at T, else "ok" */
static const char *link_state(const vxs_frame_v2x_t *fv, const vxs_frame_msg_t *m) {
    for (size_t i = 0; i < fv->n_links; i++) {
        const vxs_frame_link_t *l = &fv->links[i];
        const bool same = m->sender_agent >= 0 ? l->sender_agent == m->sender_agent
                                               : l->sender_agent < 0 && l->station == m->station;
        if (same) return l->silent ? "dropout" : "ok";
    }
    return "ok";
}

static void message_ref(char *buf, size_t n, const vxs_run_info_t *run, const vxs_frame_msg_t *m) {
    const vxs_run_source_t *src = &run->sources[m->source];
    snprintf(buf, n, "%s/%s message %" PRIu64 " (record %" PRIu64 ", byte %" PRIu64 ")",
             run->manifest->agents[src->agent].id, src->ms->sensor, m->message,
             m->loc.index + 1, m->loc.offset);
}

/* sender_object: the sender of message m (the newest of its sender in the receiver's window) */
static void sender_object(const vxsi_label_ctx_t *c, const vxs_frame_t *f,
                          const vxs_frame_v2x_t *fv, const vxs_frame_msg_t *m, json_t *objs,
                          json_t *fobjs) {
    const vxs_run_info_t *run = c->run;
    const char *receiver = run->manifest->agents[fv->agent].id;
    const char *class_source;
    const kind_t *k = sender_kind(run, m, &class_source);
    char name[64], buf[160];
    if (m->sender_agent >= 0)
        snprintf(name, sizeof name, "%s", run->manifest->agents[m->sender_agent].id);
    else
        snprintf(name, sizeof name, "station %" PRIu64, m->station);
    json_t *st = json_array();
    snprintf(buf, sizeof buf, "%" PRIu64, m->station);
    add_text(st, "station_id", buf);
    add_text(st, "source", "v2x sender");
    if (m->sender_agent >= 0) add_text(st, "agent", run->manifest->agents[m->sender_agent].id);
    json_t *e = object_entry(objs, fobjs, m->station, name, k->type, f->index, st);
    if (!m->has_body) {
        unplaced(e, receiver,
                 !fv->pose.valid && fv->pose_reason ? fv->pose_reason
                 : m->pred.model == VXS_PRED_NONE   ? "the message gives no position to predict"
                                                    : "no body-frame position");
        return;
    }
    const bool l_known = isfinite(m->state.length), w_known = isfinite(m->state.width);
    place_t p = {m->body.x, m->body.y, m->body.yaw, l_known ? m->state.length : k->l,
                 w_known ? m->state.width : k->w, k->h, m->body.sd, m->body.range};
    json_t *num = json_array(), *text = json_array();
    if (m->has_latency) {
        add_num(num, "latency_ms", (double)m->latency_ns / 1e6, 1e-3);
        add_num(num, "latency_sd_ms", m->latency_sd_ns / 1e6, 1e-3);
    }
    if (m->has_age) add_num(num, "age_ms", (double)m->age_ns / 1e6, 1e-3);
    add_num(num, "position_sd_m", p.sd, 1e-3);
    add_num(num, "sd_along_m", m->pred.sd_along, 1e-3);
    add_num(num, "sd_across_m", m->pred.sd_across, 1e-3);
    add_num(num, "moved_m", m->pred.moved_m, 1e-3);
    add_num(num, "range_m", p.range, 1e-3);
    add_num(num, "altitude_diff_m", m->body.z, 1e-3);
    add_text(text, "link", link_state(fv, m));
    add_text(text, "message_type", vxs_v2x_type_name(m->protocol, m->msg_type));
    message_ref(buf, sizeof buf, run, m);
    add_text(text, "message", buf);
    add_text(text, "prediction_model", vxs_pred_model_name(m->pred.model));
    add_text(text, "class_source", class_source);
    add_text(text, "size_source", l_known && w_known ? "message" : "class default");
    lidar_check(c->lidar ? &c->lidar[fv->agent] : NULL, &p, num, text);
    json_array_append_new(json_object_get(json_object_get(e, "object_data"), "cuboid"),
                          cuboid_json(receiver, &p, num, text));
}

/* cpm_objects: the objects the CPM m perceived, predicted to T at their velocity and placed in
 * the receiver's frame */
static void cpm_objects(const vxsi_label_ctx_t *c, const vxs_frame_t *f,
                        const vxs_frame_v2x_t *fv, const vxs_frame_msg_t *m, json_t *objs,
                        json_t *fobjs) {
    const vxs_run_info_t *run = c->run;
    const char *receiver = run->manifest->agents[fv->agent].id;
    size_t n = 0;
    const vxs_v2x_object_t *ob = c->cpm_lookup ? c->cpm_lookup(c->cpm_user, m->source, m->message,
                                                               &n)
                                               : NULL;
    const vxs_msg_state_t *st = &m->state;
    const bool framed = st->valid && st->ref_shift_m == 0 &&
                        (st->cls == VXS_KIN_STATIC || st->has_heading);
    const double syaw = st->cls == VXS_KIN_STATIC ? 0.0 : st->yaw;
    const double cs = cos(syaw), sn = sin(syaw);
    char name[96], buf[160];
    if (!ob && m->v2x.n_objects > 0) { /* never silently: say so on the sender */
        char key[32], text[256];
        snprintf(key, sizeof key, "%" PRIu64, m->station);
        json_t *e = json_object_get(fobjs, key);
        message_ref(buf, sizeof buf, run, m);
        snprintf(name, sizeof name, "cpm_objects_unavailable:%s", receiver);
        snprintf(text, sizeof text, "%u perceived objects of %s were no longer kept",
                 (unsigned)m->v2x.n_objects, buf);
        if (e) add_text(json_object_get(json_object_get(e, "object_data"), "text"), name, text);
    }
    for (size_t i = 0; ob && i < n; i++) {
        const vxs_v2x_object_t *o = &ob[i];
        const kind_t *k = o->classification >= 0 ? etsi_kind(o->classification) : NULL;
        if (!k) k = &K_UNKNOWN;
        const uint64_t uid = (1ull << 32) + (m->station & 0xFFFFFFFFull) * 65536u + o->object_id;
        snprintf(name, sizeof name, "station %" PRIu64 " object %u", m->station, o->object_id);
        json_t *stt = json_array();
        snprintf(buf, sizeof buf, "%" PRIu64, m->station);
        add_text(stt, "perceived_by_station", buf);
        add_text(stt, "source", "cpm perceived object");
        json_t *e = object_entry(objs, fobjs, uid, name, k->type, f->index, stt);
        if (!framed || isnan(o->x_m) || isnan(o->y_m) || m->gen_ref == VXS_TIME_NONE) {
            unplaced(e, receiver, "the CPM's frame or the object's position is unknown");
            continue;
        }
        if (!fv->pose.valid) {
            unplaced(e, receiver, fv->pose_reason ? fv->pose_reason : "receiver pose unknown");
            continue;
        }
        const double age =
            (double)(f->t - (m->gen_ref + (int64_t)o->measurement_delta_ms * 1000000)) / 1e9;
        double ex = st->x + cs * o->x_m - sn * o->y_m, ey = st->y + sn * o->x_m + cs * o->y_m;
        double yaw_enu = NAN, moved = 0;
        const bool has_v = !isnan(o->vx_mps) && !isnan(o->vy_mps);
        if (has_v) {
            const double vx = cs * o->vx_mps - sn * o->vy_mps, vy = sn * o->vx_mps + cs * o->vy_mps;
            ex += vx * age;
            ey += vy * age;
            moved = hypot(vx, vy) * fabs(age);
            if (hypot(vx, vy) > 0.5) yaw_enu = atan2(vy, vx);
        }
        const double pc = cos(fv->pose.yaw), ps = sin(fv->pose.yaw);
        const double dx = ex - fv->pose.x, dy = ey - fv->pose.y;
        place_t p;
        p.x = pc * dx + ps * dy;
        p.y = -ps * dx + pc * dy;
        p.yaw = isnan(yaw_enu) ? 0.0 : remainder(yaw_enu - fv->pose.yaw, 2 * M_PI);
        p.l = k->l;
        p.w = k->w;
        p.h = k->h;
        p.range = hypot(p.x, p.y);
        const double vel_sd = has_v ? OBJ_VEL_SD_MPS * fabs(age) : 0.0;
        p.sd = sqrt(st->pos_sd * st->pos_sd + OBJ_POS_SD_M * OBJ_POS_SD_M + vel_sd * vel_sd +
                    fv->pose.sd * fv->pose.sd +
                    (fv->pose.yaw_sd * p.range) * (fv->pose.yaw_sd * p.range));
        json_t *num = json_array(), *text = json_array();
        add_num(num, "age_ms", age * 1e3, 1e-3);
        if (m->has_latency) add_num(num, "latency_ms", (double)m->latency_ns / 1e6, 1e-3);
        add_num(num, "position_sd_m", p.sd, 1e-3);
        add_num(num, "moved_m", moved, 1e-3);
        add_num(num, "range_m", p.range, 1e-3);
        add_text(text, "link", link_state(fv, m));
        add_text(text, "message_type", "CPM");
        message_ref(buf, sizeof buf, run, m);
        add_text(text, "message", buf);
        add_text(text, "prediction_model", has_v ? "cv" : "static");
        add_text(text, "class_source", o->classification >= 0 ? "cpm classification" : "none");
        add_text(text, "size_source", "class default");
        add_text(text, "yaw_source", isnan(yaw_enu) ? "unknown (0)" : "velocity");
        lidar_check(c->lidar ? &c->lidar[fv->agent] : NULL, &p, num, text);
        json_array_append_new(json_object_get(json_object_get(e, "object_data"), "cuboid"),
                              cuboid_json(receiver, &p, num, text));
    }
}

static bool is_cpm(const vxs_frame_msg_t *m) {
    return m->protocol == VXS_V2X_PROTO_ETSI && m->msg_type == VXS_ETSI_CPM;
}

/* newest: whether msgs[i] is the message the labels take for its sender in the window: among
 * that station's messages giving its position (only its CPMs with cpm_only), one placed in the
 * receiver's frame first, then the latest generation, then the last received */
static bool newest(const vxs_frame_v2x_t *fv, size_t i, bool cpm_only) {
    const vxs_frame_msg_t *m = &fv->msgs[i];
    if (!m->state.valid || (cpm_only && !is_cpm(m))) return false;
    const vxs_time_t gm = m->gen_ref == VXS_TIME_NONE ? m->rx_ref : m->gen_ref;
    for (size_t j = 0; j < fv->n_msgs; j++) {
        const vxs_frame_msg_t *o = &fv->msgs[j];
        if (j == i || o->station != m->station || !o->state.valid || (cpm_only && !is_cpm(o)))
            continue;
        if (!cpm_only && o->has_body != m->has_body) {
            if (o->has_body) return false;
            continue;
        }
        const vxs_time_t go = o->gen_ref == VXS_TIME_NONE ? o->rx_ref : o->gen_ref;
        if (go > gm || (go == gm && j > i)) return false;
    }
    return true;
}

json_t *vxsi_openlabel_frame(const vxsi_label_ctx_t *c, const vxs_frame_t *f) {
    const vxs_run_info_t *run = c->run;
    const vxs_manifest_t *man = run->manifest;
    char tb[VXS_TIME_STRLEN];
    json_t *cs = json_object(), *streams = json_object(), *fstreams = json_object();
    json_t *objs = json_object(), *fobjs = json_object();
    /* coordinate systems: enu, then each agent with its exported sensors */
    json_t *enu_children = json_array();
    json_object_set_new(cs, "enu", json_pack("{s:s,s:s,s:o}", "type", "scene_cs", "parent", "",
                                             "children", enu_children));
    for (size_t a = 0; a < man->n_agents; a++) {
        if (c->agent_on && !c->agent_on[a]) continue;
        json_array_append_new(enu_children, json_string(man->agents[a].id));
        json_t *children = json_array();
        json_t *acs = json_pack("{s:s,s:s,s:o}", "type", "local_cs", "parent", "enu", "children",
                                children);
        for (size_t i = 0; i < f->n_v2x; i++) {
            const vxs_pose_t *po = &f->v2x[i].pose;
            if (f->v2x[i].agent != a || !po->valid) continue;
            const double q[4] = {cos(0.5 * po->yaw), 0, 0, sin(0.5 * po->yaw)};
            json_object_set_new(acs, "pose_wrt_parent",
                                pose_json(po->x, po->y, isfinite(po->z) ? po->z : 0.0, q));
            break;
        }
        for (size_t s = 0; s < run->n_streams; s++) {
            const vxs_frame_stream_t *fs = &run->streams[s];
            if (fs->agent != a || (c->stream_on && !c->stream_on[s])) continue;
            const vxs_extrinsics_t *ex = &run->sources[fs->source].ms->extrinsics;
            json_array_append_new(children, json_string(fs->name));
            json_object_set_new(cs, fs->name,
                                json_pack("{s:s,s:s,s:o}", "type", "sensor_cs", "parent",
                                          man->agents[a].id, "pose_wrt_parent",
                                          pose_json(ex->translation[0], ex->translation[1],
                                                    ex->translation[2], ex->rotation)));
        }
        json_object_set_new(cs, man->agents[a].id, acs);
    }
    /* streams and this frame's members */
    for (size_t s = 0; s < run->n_streams; s++) {
        const vxs_frame_stream_t *fs = &run->streams[s];
        if (c->stream_on && !c->stream_on[s]) continue;
        const vxs_frame_member_t *mb = &f->members[s];
        const vxs_manifest_source_t *ms = run->sources[fs->source].ms;
        char desc[160], uri[200];
        snprintf(desc, sizeof desc, "%s%s%s of %s", fs->kind == VXS_SOURCE_LIDAR ? "LiDAR" : "camera",
                 ms->model ? " " : "", ms->model ? ms->model : "", man->agents[fs->agent].id);
        snprintf(uri, sizeof uri, "sensors/%s/%s/", man->agents[fs->agent].id, ms->sensor);
        json_t *sobj = json_pack("{s:s,s:s,s:s}", "type",
                                 fs->kind == VXS_SOURCE_LIDAR ? "lidar" : "camera", "uri", uri,
                                 "description", desc);
        json_object_set_new(streams, fs->name, sobj);
        if (mb->status == VXS_MEMBER_OK && c->member_files && c->member_files[s]) {
            json_object_set_new(
                fstreams, fs->name,
                json_pack("{s:s,s:{s:{s:I,s:s}}}", "uri", c->member_files[s], "stream_properties",
                          "sync", "frame_stream", (json_int_t)mb->item, "timestamp",
                          vxs_time_format(tb, sizeof tb, mb->t_ref)));
        } else {
            json_object_set_new(fstreams, fs->name,
                                json_pack("{s:s}", "description",
                                          mb->reason ? mb->reason
                                                     : vxs_member_status_name(mb->status)));
        }
    }
    /* objects: per receiving agent, the newest message of each sender */
    for (size_t i = 0; i < f->n_v2x; i++) {
        const vxs_frame_v2x_t *fv = &f->v2x[i];
        if (c->agent_on && !c->agent_on[fv->agent]) continue;
        for (size_t j = 0; j < fv->n_msgs; j++) {
            const vxs_frame_msg_t *m = &fv->msgs[j];
            /* its own messages; a DENM's event or a MAP's intersection is not a sender's place */
            if ((m->sender_agent >= 0 && (uint32_t)m->sender_agent == fv->agent) ||
                !m->state.valid)
                continue;
            if (newest(fv, j, false)) sender_object(c, f, fv, m, objs, fobjs);
            if (newest(fv, j, true)) cpm_objects(c, f, fv, m, objs, fobjs);
        }
    }
    json_t *fprops = json_pack("{s:s,s:I,s:b,s:o}", "timestamp",
                               vxs_time_format(tb, sizeof tb, f->t), "t_ns", (json_int_t)f->t,
                               "partial", f->partial, "streams", fstreams);
    char fkey[32];
    snprintf(fkey, sizeof fkey, "%" PRIu64, f->index);
    json_t *frames = json_object();
    json_object_set_new(frames, fkey, json_pack("{s:o,s:o}", "frame_properties", fprops,
                                                "objects", fobjs));
    json_t *meta = json_pack("{s:s,s:s,s:s}", "schema_version", "1.0.0", "annotator",
                             c->annotator, "name", man->name);
    return json_pack("{s:{s:o,s:o,s:o,s:o,s:o,s:[{s:I,s:I}]}}", "openlabel", "metadata", meta,
                     "coordinate_systems", cs, "streams", streams, "frames", frames, "objects",
                     objs, "frame_intervals", "frame_start", (json_int_t)f->index, "frame_end",
                     (json_int_t)f->index);
}
