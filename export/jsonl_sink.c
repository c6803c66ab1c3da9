/*
 * jsonl_sink.c: a sink writing one JSON object per record and line (JSON Lines). jansson builds
 * and escapes each object; the output goes through an atomic file.
 */
#include "vxs_export.h"

#include <jansson.h>
#include <stdio.h>
#include <string.h>

typedef struct {
    vxs_afile_t *f;
    char err[512];
} jsonl_sink_t;

static int set_int(json_t *o, const char *k, json_int_t v) {
    return json_object_set_new(o, k, json_integer(v));
}

static json_t *summary_json(const vxs_record_t *r) {
    json_t *o = json_object();
    char a[64];
    if (!o) return NULL;
    switch (r->kind) {
    case VXS_REC_PACKET: {
        const vxs_packet_summary_t *p = &r->u.packet;
        set_int(o, "caplen", p->caplen);
        set_int(o, "wirelen", p->wirelen);
        set_int(o, "ethertype", p->ethertype);
        set_int(o, "ip_version", p->ip_version);
        if (p->ip_version) {
            set_int(o, "ip_proto", p->ip_proto);
            vxs_addr_format(a, sizeof a, p->src_addr);
            json_object_set_new(o, "src", json_string(a));
            vxs_addr_format(a, sizeof a, p->dst_addr);
            json_object_set_new(o, "dst", json_string(a));
            if (p->ip_proto == 17) {
                set_int(o, "src_port", p->src_port);
                set_int(o, "dst_port", p->dst_port);
            }
        }
        break;
    }
    case VXS_REC_LIDAR_PACKET:
    case VXS_REC_LIDAR_SWEEP: {
        const vxs_sweep_summary_t *s = &r->u.sweep;
        json_object_set_new(o, "az_start_deg", json_real(s->az_start_deg));
        json_object_set_new(o, "az_end_deg", json_real(s->az_end_deg));
        json_object_set_new(o, "az_coverage_deg", json_real(s->az_coverage_deg));
        set_int(o, "packets", s->packets);
        set_int(o, "packets_missing", s->packets_missing);
        set_int(o, "points", s->points);
        set_int(o, "frame_id", s->frame_id);
        json_object_set_new(o, "complete", json_boolean(s->complete));
        break;
    }
    case VXS_REC_IMU: {
        const vxs_imu_summary_t *m = &r->u.imu;
        if (m->lat_deg == m->lat_deg) {
            json_object_set_new(o, "lat_deg", json_real(m->lat_deg));
            json_object_set_new(o, "lon_deg", json_real(m->lon_deg));
        }
        if (m->pps != 0xFF) set_int(o, "pps", m->pps);
        break;
    }
    case VXS_REC_CAMERA_FRAME: {
        const vxs_frame_summary_t *f = &r->u.frame;
        set_int(o, "pts", f->pts);
        set_int(o, "size", f->size);
        set_int(o, "width", f->width);
        set_int(o, "height", f->height);
        json_object_set_new(o, "key", json_boolean(f->key));
        break;
    }
    case VXS_REC_V2X: {
        const vxs_v2x_summary_t *v = &r->u.v2x;
        set_int(o, "protocol", v->protocol);
        set_int(o, "msg_type", v->msg_type);
        set_int(o, "sender_id", (json_int_t)v->sender_id);
        set_int(o, "size", v->size);
        json_object_set_new(o, "sent", json_boolean(v->sent));
        if (v->has_position) {
            json_object_set_new(o, "lat_deg", json_real(v->lat_deg));
            json_object_set_new(o, "lon_deg", json_real(v->lon_deg));
        }
        if (v->speed_mps == v->speed_mps) json_object_set_new(o, "speed_mps", json_real(v->speed_mps));
        if (v->heading_deg == v->heading_deg)
            json_object_set_new(o, "heading_deg", json_real(v->heading_deg));
        break;
    }
    default:
        break;
    }
    return o;
}

static vxs_status_t jsonl_write(void *impl, const vxs_record_t *r, const void *payload,
                                size_t len) {
    jsonl_sink_t *s = impl;
    char clk[96];
    (void)payload;
    (void)len;
    json_t *o = json_object(), *loc = json_object(), *sum = summary_json(r);
    vxs_status_t st = VXS_E_NOMEM;
    if (!o || !loc || !sum) goto end;
    json_object_set_new(o, "kind", json_string(vxs_record_kind_name(r->kind)));
    set_int(o, "agent", r->agent);
    set_int(o, "sensor", r->sensor);
    if (r->capture_time != VXS_TIME_NONE) set_int(o, "capture_ns", r->capture_time);
    if (r->device_time != VXS_TIME_NONE) {
        set_int(o, "device_ns", r->device_time);
        json_object_set_new(o, "device_clock",
                            json_string(vxs_clock_domain_format(clk, sizeof clk, &r->device_clock)));
    }
    if (r->has_seq) set_int(o, "seq", (json_int_t)r->seq);
    set_int(loc, "source", r->loc.source);
    set_int(loc, "index", (json_int_t)r->loc.index);
    set_int(loc, "offset", (json_int_t)r->loc.offset);
    set_int(loc, "count", r->loc.count);
    json_object_set(o, "locator", loc);
    json_object_set(o, "summary", sum);
    char *line = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
    if (!line) goto end;
    st = vxs_afile_write(s->f, line, strlen(line));
    if (st == VXS_OK) st = vxs_afile_write(s->f, "\n", 1);
    if (st != VXS_OK) snprintf(s->err, sizeof s->err, "%s", vxs_afile_errmsg(s->f));
    free(line);
end:
    json_decref(o);
    json_decref(loc);
    json_decref(sum);
    return st;
}

static vxs_status_t jsonl_finish(void *impl) {
    jsonl_sink_t *s = impl;
    vxs_afile_t *f = s->f;
    s->f = NULL;
    return vxs_afile_commit(f, s->err, sizeof s->err);
}

static const char *jsonl_errmsg(const void *impl) { return ((const jsonl_sink_t *)impl)->err; }

static void jsonl_destroy(void *impl) {
    jsonl_sink_t *s = impl;
    vxs_afile_abort(s->f);
    vxs_free(s);
}

static const vxs_sink_ops_t jsonl_ops = {"jsonl", jsonl_write, jsonl_finish, jsonl_errmsg,
                                         jsonl_destroy};

vxs_status_t vxs_jsonl_sink_create(vxs_sink_t **out, const char *path, char *err,
                                   size_t err_len) {
    jsonl_sink_t *s = vxs_calloc(1, sizeof *s);
    vxs_status_t st;
    *out = NULL;
    if (!s) return VXS_E_NOMEM;
    if ((st = vxs_afile_open(&s->f, path, err, err_len)) != VXS_OK) {
        vxs_free(s);
        return st;
    }
    if ((st = vxs_sink_create(out, &jsonl_ops, s)) != VXS_OK) jsonl_destroy(s);
    return st;
}
