/*
 * v2x_messages_jsonl.c: the v2x_messages.jsonl sink (README "v2x_messages.jsonl"): one JSON
 * object per received message and receiver, in each source's reception order, with its times,
 * latency, flags, what it reports as decoded and the sender's state in the scenario's ENU frame,
 * written through an atomic file like frames.jsonl. The keys and their order are a documented
 * output format: never reorder them.
 */
#include "export_int.h"

#include <jansson.h>
#include <math.h>
#include <stdio.h>

typedef vxsi_file_sink_t messages_sink_t;

/* reported_json: the sender's fields as the message carries them (units converted, nothing
 * else: absent and "unavailable" values are null) */
static json_t *reported_json(const vxs_v2x_summary_t *v) {
    json_t *o = json_object(), *acc = json_object();
    json_object_set_new(o, "lat_deg", vxsi_json_round(v->has_position ? v->lat_deg : NAN, 1e-9));
    json_object_set_new(o, "lon_deg", vxsi_json_round(v->has_position ? v->lon_deg : NAN, 1e-9));
    json_object_set_new(o, "alt_m", vxsi_json_round(v->elev_m, 1e-3));
    json_object_set_new(o, "speed_mps", vxsi_json_round(v->speed_mps, 1e-4));
    json_object_set_new(o, "heading_deg", vxsi_json_round(v->heading_deg, 1e-4));
    json_object_set_new(o, "yaw_rate_dps", vxsi_json_round(v->yaw_rate_dps, 1e-4));
    json_object_set_new(o, "accel_mps2", vxsi_json_round(v->accel_long_mps2, 1e-4));
    json_object_set_new(o, "length_m", vxsi_json_round(v->length_m, 1e-3));
    json_object_set_new(o, "width_m", vxsi_json_round(v->width_m, 1e-3));
    json_object_set_new(o, "station_type",
                        v->station_type >= 0 ? json_integer(v->station_type) : json_null());
    json_object_set_new(acc, "semi_major_m", vxsi_json_round(v->pos_semi_major_m, 1e-3));
    json_object_set_new(acc, "semi_minor_m", vxsi_json_round(v->pos_semi_minor_m, 1e-3));
    json_object_set_new(acc, "orientation_deg", vxsi_json_round(v->pos_orientation_deg, 1e-4));
    json_object_set_new(acc, "confidence",
                        isnan(v->pos_semi_major_m)
                            ? json_null()
                            : json_string(v->pos_confidence_95 ? "95%" : "1sigma"));
    json_object_set_new(acc, "speed_conf_mps", vxsi_json_round(v->speed_conf_mps, 1e-3));
    json_object_set_new(acc, "heading_conf_deg", vxsi_json_round(v->heading_conf_deg, 1e-3));
    json_object_set_new(o, "accuracy", acc);
    json_object_set_new(o, "out_of_range",
                        v->out_of_range ? json_string(v->out_of_range_field) : json_null());
    return o;
}

/* objects_json: a CPM's perceived objects as its sender reports them, each with its measurement
 * time on the reference timeline and, where the sender's frame is known (a roadside unit's is
 * east-north; a vehicle's turns with its heading), its position in the scenario's ENU frame */
static json_t *objects_json(const vxs_frame_msg_t *m) {
    json_t *a = json_array();
    const vxs_msg_state_t *st = &m->state;
    const bool enu = st->valid && st->ref_shift_m == 0 &&
                     (st->cls == VXS_KIN_STATIC || st->has_heading);
    const double yaw = st->cls == VXS_KIN_STATIC ? 0.0 : st->yaw; /* an RSU's x is east */
    for (size_t k = 0; m->objects && k < m->v2x.n_objects; k++) {
        const vxs_v2x_object_t *ob = &m->objects[k];
        json_t *o = json_object();
        json_object_set_new(o, "id", json_integer(ob->object_id));
        json_object_set_new(o, "measurement_delta_ms", json_integer(ob->measurement_delta_ms));
        json_object_set_new(o, "t_ref_ns",
                            m->gen_ref != VXS_TIME_NONE
                                ? json_integer(m->gen_ref +
                                               (int64_t)ob->measurement_delta_ms * 1000000)
                                : json_null());
        json_object_set_new(o, "x_m", vxsi_json_round(ob->x_m, 1e-3));
        json_object_set_new(o, "y_m", vxsi_json_round(ob->y_m, 1e-3));
        json_object_set_new(o, "z_m", vxsi_json_round(ob->z_m, 1e-3));
        json_object_set_new(o, "vx_mps", vxsi_json_round(ob->vx_mps, 1e-3));
        json_object_set_new(o, "vy_mps", vxsi_json_round(ob->vy_mps, 1e-3));
        json_object_set_new(o, "class",
                            ob->classification >= 0 ? json_integer(ob->classification)
                                                    : json_null());
        json_object_set_new(o, "class_confidence", ob->class_confidence >= 0
                                                        ? json_integer(ob->class_confidence)
                                                        : json_null());
        if (enu && !isnan(ob->x_m) && !isnan(ob->y_m)) {
            const double c = cos(yaw), s = sin(yaw);
            json_object_set_new(o, "enu",
                                json_pack("{s:o,s:o}", "x",
                                          vxsi_json_round(st->x + c * ob->x_m - s * ob->y_m, 1e-3),
                                          "y",
                                          vxsi_json_round(st->y + s * ob->x_m + c * ob->y_m, 1e-3)));
        } else {
            json_object_set_new(o, "enu", json_null());
        }
        json_array_append_new(a, o);
    }
    return a;
}

static vxs_status_t ms_message(void *impl, const vxs_frame_msg_t *m) {
    messages_sink_t *s = impl;
    const vxs_run_info_t *run = s->run;
    const vxs_manifest_t *man = run->manifest;
    const vxs_run_source_t *src = m->source < run->n_sources ? &run->sources[m->source] : NULL;
    json_t *o = json_object();
    json_object_set_new(o, "receiver", json_string(src ? man->agents[src->agent].id : "unknown"));
    json_object_set_new(o, "source", json_string(src ? src->ms->sensor : "unknown"));
    json_object_set_new(o, "message", json_integer((json_int_t)m->message));
    json_object_set_new(o, "locator", vxsi_json_locator(&m->loc));
    json_object_set_new(o, "sender",
                        json_string(m->sender_agent >= 0 ? man->agents[m->sender_agent].id
                                                         : "unknown"));
    json_object_set_new(o, "station", json_integer((json_int_t)m->station));
    json_object_set_new(o, "type", json_string(vxs_v2x_type_name(m->protocol, m->msg_type)));
    json_object_set_new(o, "counter",
                        m->has_counter ? json_integer((json_int_t)m->counter) : json_null());
    json_object_set_new(o, "capture_ns", json_integer(m->capture));
    json_object_set_new(o, "rx_ref_ns", json_integer(m->rx_ref));
    json_object_set_new(o, "rx_ref", vxsi_json_time(m->rx_ref));
    const bool gen = m->gen != VXS_TIME_NONE && m->gen_ref != VXS_TIME_NONE;
    json_object_set_new(o, "gen_ns", gen ? json_integer(m->gen) : json_null());
    json_object_set_new(o, "gen_field",
                        gen ? json_string(vxs_v2x_time_field_name(m->field)) : json_null());
    json_object_set_new(o, "gen_ref_ns", gen ? json_integer(m->gen_ref) : json_null());
    json_object_set_new(o, "latency_ns", m->has_latency ? json_integer(m->latency_ns) : json_null());
    json_object_set_new(o, "latency_sd_ns",
                        m->has_latency ? json_integer(llround(m->latency_sd_ns)) : json_null());
    json_object_set_new(o, "flags", vxsi_json_flags(m->flags));
    json_object_set_new(o, "reported", reported_json(&m->v2x));
    json_object_set_new(o, "state", vxsi_json_msg_state(&m->state));
    if (m->protocol == VXS_V2X_PROTO_ETSI && m->msg_type == VXS_ETSI_CPM)
        json_object_set_new(o, "objects", objects_json(m));
    const vxs_status_t st = vxsi_file_sink_write_line(s, o);
    json_decref(o);
    return st;
}

static vxs_status_t ms_finish(void *impl, const vxs_run_summary_t *sum) {
    (void)sum;
    return vxsi_file_sink_commit(impl);
}

static const vxs_frame_sink_ops_t messages_ops = {
    "v2x_messages.jsonl",    vxsi_file_sink_begin,  vxsi_file_sink_no_frame, ms_finish,
    vxsi_file_sink_errmsg,   vxsi_file_sink_destroy, ms_message};

vxs_status_t vxs_v2x_messages_jsonl_sink_create(vxs_frame_sink_t **out, const char *path,
                                                char *err, size_t err_len) {
    return vxsi_file_sink_create(out, &messages_ops, sizeof(messages_sink_t), path, err, err_len);
}
