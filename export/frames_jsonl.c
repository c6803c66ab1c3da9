/*
 * frames_jsonl.c: the frames.jsonl sink (README "frames.jsonl"): one JSON object per frame and
 * line, built with jansson and written through an atomic file (temporary name, fsync, rename
 * at finish). The keys and their order are a documented output format: never reorder them.
 */
#include "export_int.h"

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

typedef vxsi_file_sink_t frames_sink_t;

static const char *agent_id(const vxs_run_info_t *run, int32_t agent) {
    return agent >= 0 ? run->manifest->agents[agent].id : "unknown";
}

static json_t *member_json(const vxs_run_info_t *run, const vxs_frame_stream_t *st,
                           const vxs_frame_member_t *mb) {
    const vxs_manifest_t *man = run->manifest;
    json_t *e = json_object();
    json_object_set_new(e, "agent", json_string(man->agents[st->agent].id));
    json_object_set_new(e, "sensor", json_string(run->sources[st->source].ms->sensor));
    json_object_set_new(e, "kind", json_string(vxs_source_kind_name(st->kind)));
    json_object_set_new(e, "status", json_string(vxs_member_status_name(mb->status)));
    if (mb->status == VXS_MEMBER_OK && mb->record) {
        const vxs_record_t *r = mb->record;
        json_object_set_new(e, st->kind == VXS_SOURCE_LIDAR ? "sweep" : "frame",
                            json_integer((json_int_t)mb->item));
        json_object_set_new(e, "locator", vxsi_json_locator(&r->loc));
        json_object_set_new(e, "clock", json_string(run->clocks->clocks[st->clock].name));
        json_object_set_new(e, "time_ns", json_integer(mb->t_local));
        json_object_set_new(e, "t_ref_ns", json_integer(mb->t_ref));
        if (mb->piece) json_object_set_new(e, "piece", json_integer(mb->piece));
        json_object_set_new(e, "dt_ns", json_integer(mb->dt_ns));
        if (st->kind == VXS_SOURCE_LIDAR) {
            json_object_set_new(e, "complete", json_boolean(r->u.sweep.complete));
            json_object_set_new(e, "points", json_integer(r->u.sweep.points));
        } else {
            json_object_set_new(e, "pts", json_integer(r->u.frame.pts));
            /* the stamp itself, when the manifest's stamp_latency_ms moved time_ns from it */
            if (r->capture_time != VXS_TIME_NONE && r->capture_time != mb->t_local)
                json_object_set_new(e, "stamp_ns", json_integer(r->capture_time));
        }
    } else if (mb->t_ref != VXS_TIME_NONE) {
        json_object_set_new(e,
                            mb->status == VXS_MEMBER_SET_BEYOND_TOLERANCE ? "set_dt_ns"
                                                                          : "nearest_dt_ns",
                            json_integer(mb->dt_ns));
    }
    return e;
}

/* pred_json: where the message's sender is predicted at T (README "The annotation model") */
static json_t *pred_json(const vxs_msg_pred_t *p) {
    if (p->model == VXS_PRED_NONE) return json_null();
    json_t *o = json_object();
    json_object_set_new(o, "model", json_string(vxs_pred_model_name(p->model)));
    json_object_set_new(o, "x", vxsi_json_round(p->x, 1e-3));
    json_object_set_new(o, "y", vxsi_json_round(p->y, 1e-3));
    json_object_set_new(o, "z", vxsi_json_round(p->z, 1e-3));
    json_object_set_new(o, "yaw_rad", vxsi_json_round(p->yaw, 1e-6));
    json_object_set_new(o, "speed_mps", vxsi_json_round(p->speed, 1e-3));
    json_object_set_new(o, "moved_m", vxsi_json_round(p->moved_m, 1e-3));
    json_object_set_new(o, "sd_m", vxsi_json_round(p->sd, 1e-3));
    json_object_set_new(o, "sd_along_m", vxsi_json_round(p->sd_along, 1e-3));
    json_object_set_new(o, "sd_across_m", vxsi_json_round(p->sd_across, 1e-3));
    return o;
}

/* body_json: the prediction in the receiver's body frame at T */
static json_t *body_json(const vxs_msg_body_t *b) {
    json_t *o = json_object();
    json_object_set_new(o, "x", vxsi_json_round(b->x, 1e-3));
    json_object_set_new(o, "y", vxsi_json_round(b->y, 1e-3));
    json_object_set_new(o, "z", vxsi_json_round(b->z, 1e-3));
    json_object_set_new(o, "yaw_rad", vxsi_json_round(b->yaw, 1e-6));
    json_object_set_new(o, "range_m", vxsi_json_round(b->range, 1e-3));
    json_object_set_new(o, "sd_m", vxsi_json_round(b->sd, 1e-3));
    return o;
}

static json_t *pose_json(const vxs_frame_v2x_t *v) {
    if (!v->pose.valid) return json_null();
    json_t *o = json_object();
    json_object_set_new(o, "from", json_string(v->pose_from ? v->pose_from : ""));
    json_object_set_new(o, "x", vxsi_json_round(v->pose.x, 1e-3));
    json_object_set_new(o, "y", vxsi_json_round(v->pose.y, 1e-3));
    json_object_set_new(o, "z", vxsi_json_round(v->pose.z, 1e-3));
    json_object_set_new(o, "yaw_rad", vxsi_json_round(v->pose.yaw, 1e-6));
    json_object_set_new(o, "sd_m", vxsi_json_round(v->pose.sd, 1e-3));
    json_object_set_new(o, "yaw_sd_rad", vxsi_json_round(v->pose.yaw_sd, 1e-6));
    return o;
}

static json_t *v2x_json(const vxs_run_info_t *run, const vxs_frame_t *f, const vxs_frame_v2x_t *v) {
    json_t *ag = json_object(), *msgs = json_array(), *links = json_array();
    json_object_set_new(ag, "agent", json_string(run->manifest->agents[v->agent].id));
    json_object_set_new(ag, "pose", pose_json(v));
    if (!v->pose.valid && v->pose_reason)
        json_object_set_new(ag, "pose_reason", json_string(v->pose_reason));
    for (size_t q = 0; q < v->n_msgs; q++) {
        const vxs_frame_msg_t *m = &v->msgs[q];
        json_t *x = json_object();
        json_object_set_new(x, "sender", json_string(agent_id(run, m->sender_agent)));
        json_object_set_new(x, "station", json_integer((json_int_t)m->station));
        json_object_set_new(x, "type", json_string(vxs_v2x_type_name(m->protocol, m->msg_type)));
        json_object_set_new(x, "message", json_integer((json_int_t)m->message));
        json_object_set_new(x, "locator", vxsi_json_locator(&m->loc));
        json_object_set_new(x, "capture_ns", json_integer(m->capture));
        json_object_set_new(x, "rx_ref_ns", json_integer(m->rx_ref));
        if (m->rx_piece) json_object_set_new(x, "rx_piece", json_integer(m->rx_piece));
        if (m->gen != VXS_TIME_NONE && m->gen_ref != VXS_TIME_NONE) {
            json_object_set_new(x, "gen_ns", json_integer(m->gen));
            json_object_set_new(x, "gen_field", json_string(vxs_v2x_time_field_name(m->field)));
            json_object_set_new(x, "gen_ref_ns", json_integer(m->gen_ref));
            if (m->has_latency) {
                json_object_set_new(x, "latency_ns", json_integer(m->latency_ns));
                json_object_set_new(x, "latency_sd_ns", json_integer(llround(m->latency_sd_ns)));
                json_object_set_new(x, "age_ns", json_integer(m->age_ns));
            } else {
                json_object_set_new(x, "latency_ns", json_null()); /* the event's time */
                json_object_set_new(x, "age_ns", json_integer(f->t - m->gen_ref));
            }
        }
        json_object_set_new(x, "flags", vxsi_json_flags(m->flags));
        json_object_set_new(x, "predicted", pred_json(&m->pred));
        json_object_set_new(x, "body", m->has_body ? body_json(&m->body) : json_null());
        json_array_append_new(msgs, x);
    }
    for (size_t l = 0; l < v->n_links; l++) {
        const vxs_frame_link_t *L = &v->links[l];
        json_t *x = json_object();
        json_object_set_new(x, "sender", json_string(agent_id(run, L->sender_agent)));
        if (L->sender_agent < 0)
            json_object_set_new(x, "station", json_integer((json_int_t)L->station));
        json_object_set_new(x, "status", json_string(L->silent ? "silent" : "ok"));
        json_object_set_new(x, "last_rx_ref_ns", L->last_rx_ref == VXS_TIME_NONE
                                                     ? json_null()
                                                     : json_integer(L->last_rx_ref));
        json_object_set_new(x, "aoi_ns", L->has_aoi ? json_integer(L->aoi_ns) : json_null());
        json_array_append_new(links, x);
    }
    json_object_set_new(ag, "messages", msgs);
    json_object_set_new(ag, "links", links);
    return ag;
}

static vxs_status_t fs_frame(void *impl, const vxs_frame_t *f, const vxs_fetcher_t *fetch) {
    frames_sink_t *s = impl;
    const vxs_run_info_t *run = s->run;
    (void)fetch; /* locators only: payloads are the bundle's */
    json_t *o = json_object(), *mem = json_array(), *v2x = json_array(), *reasons = json_array();
    json_object_set_new(o, "frame", json_integer((json_int_t)f->index));
    json_object_set_new(o, "t_ref_ns", json_integer(f->t));
    json_object_set_new(o, "t_ref", vxsi_json_time(f->t));
    for (size_t k = 0; k < f->n_members; k++)
        json_array_append_new(mem, member_json(run, &run->streams[k], &f->members[k]));
    json_object_set_new(o, "members", mem);
    for (size_t v = 0; v < f->n_v2x; v++) json_array_append_new(v2x, v2x_json(run, f, &f->v2x[v]));
    json_object_set_new(o, "v2x", v2x);
    json_object_set_new(o, "status", json_string(f->partial ? "partial" : "complete"));
    for (size_t r = 0; r < f->n_reasons; r++)
        json_array_append_new(reasons, json_string(f->reasons[r]));
    json_object_set_new(o, "reasons", reasons);
    const vxs_status_t st = vxsi_file_sink_write_line(s, o);
    json_decref(o);
    return st;
}

static vxs_status_t fs_finish(void *impl, const vxs_run_summary_t *sum) {
    (void)sum;
    return vxsi_file_sink_commit(impl);
}

static const vxs_frame_sink_ops_t frames_ops = {
    "frames.jsonl", vxsi_file_sink_begin,   fs_frame, fs_finish, vxsi_file_sink_errmsg,
    vxsi_file_sink_destroy, NULL};

vxs_status_t vxs_frames_jsonl_sink_create(vxs_frame_sink_t **out, const char *path, char *err,
                                          size_t err_len) {
    return vxsi_file_sink_create(out, &frames_ops, sizeof(frames_sink_t), path, err, err_len);
}
