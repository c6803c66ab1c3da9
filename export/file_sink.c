/*
 * file_sink.c: the part of a single-file frame sink every one of them shares (export_int.h).
 */
#include "export_int.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

vxs_status_t vxsi_file_sink_create(vxs_frame_sink_t **out, const vxs_frame_sink_ops_t *ops,
                                   size_t size, const char *path, char *err, size_t err_len) {
    vxsi_file_sink_t *s;
    vxs_status_t st;
    if (!out || !path || size < sizeof *s) return VXS_E_ARG;
    *out = NULL;
    s = vxs_calloc(1, size);
    if (!s) return VXS_E_NOMEM;
    if ((st = vxs_afile_open(&s->f, path, err, err_len)) != VXS_OK) {
        vxs_free(s);
        return st;
    }
    if ((st = vxs_frame_sink_create(out, ops, s)) != VXS_OK) vxsi_file_sink_destroy(s);
    return st;
}

vxs_status_t vxsi_file_sink_begin(void *impl, const vxs_run_info_t *run) {
    ((vxsi_file_sink_t *)impl)->run = run;
    return VXS_OK;
}

const char *vxsi_file_sink_errmsg(const void *impl) {
    return ((const vxsi_file_sink_t *)impl)->err;
}

void vxsi_file_sink_destroy(void *impl) {
    vxsi_file_sink_t *s = impl;
    if (!s) return;
    vxs_afile_abort(s->f);
    vxs_free(s->line);
    vxs_free(s);
}

vxs_status_t vxsi_file_sink_no_frame(void *impl, const vxs_frame_t *f,
                                     const vxs_fetcher_t *fetch) {
    (void)impl;
    (void)f;
    (void)fetch;
    return VXS_OK;
}

vxs_status_t vxsi_file_sink_write_doc(vxsi_file_sink_t *s, json_t *doc, const char *what) {
    char *text = doc ? json_dumps(doc, JSON_INDENT(2) | JSON_PRESERVE_ORDER) : NULL;
    json_decref(doc);
    if (!text) {
        vxs_afile_abort(s->f);
        s->f = NULL;
        snprintf(s->err, sizeof s->err, "%s: out of memory", what);
        return VXS_E_NOMEM;
    }
    /* a failed write fails the commit */
    (void)vxs_afile_write(s->f, text, strlen(text));
    (void)vxs_afile_write(s->f, "\n", 1);
    free(text);
    return vxsi_file_sink_commit(s);
}

vxs_status_t vxsi_file_sink_write_line(vxsi_file_sink_t *s, const json_t *o) {
    const size_t flags = JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(12);
    size_t n = json_dumpb(o, s->line, s->line_cap, flags);
    if (n > 0 && n + 1 > s->line_cap) { /* too long for the buffer: grow it, serialise again */
        size_t cap = s->line_cap ? s->line_cap : 4096;
        while (cap < n + 1) cap *= 2;
        char *b = vxs_realloc(s->line, cap);
        if (!b) n = 0;
        else {
            s->line = b;
            s->line_cap = cap;
            n = json_dumpb(o, s->line, s->line_cap, flags);
        }
    }
    if (n == 0 || n + 1 > s->line_cap) {
        snprintf(s->err, sizeof s->err, "out of memory writing a JSON line");
        return VXS_E_NOMEM;
    }
    s->line[n] = '\n';
    if (vxs_afile_write(s->f, s->line, n + 1) != VXS_OK) {
        snprintf(s->err, sizeof s->err, "%s", vxs_afile_errmsg(s->f));
        return VXS_E_IO;
    }
    return VXS_OK;
}

vxs_status_t vxsi_file_sink_commit(vxsi_file_sink_t *s) {
    vxs_afile_t *f = s->f;
    s->f = NULL;
    return vxs_afile_commit(f, s->err, sizeof s->err);
}

json_t *vxsi_json_time(vxs_time_t t) {
    if (t == VXS_TIME_NONE) return json_null();
    char b[VXS_TIME_STRLEN];
    return json_string(vxs_time_format(b, sizeof b, t));
}

json_t *vxsi_json_text(const char *s) {
    if (!s) return json_null();
    json_t *j = json_string(s);
    if (j) return j;
    char *c = strdup(s);
    if (!c) return NULL;
    for (char *p = c; *p; p++)
        if ((unsigned char)*p >= 0x80) *p = '?';
    j = json_string(c);
    free(c);
    return j;
}

json_t *vxsi_json_round(double v, double unit) {
    if (!isfinite(v)) return json_null();
    return json_real(round(v / unit) * unit + 0.0); /* + 0.0: no "-0.0" */
}

json_t *vxsi_json_flags(uint32_t flags) {
    static const char *const names[] = {"duplicate", "reordered", "late", "impossible",
                                        "out_of_range"};
    json_t *fl = json_array();
    for (unsigned b = 0; b < sizeof names / sizeof names[0]; b++)
        if (flags & (1u << b)) json_array_append_new(fl, json_string(names[b]));
    return fl;
}

json_t *vxsi_json_msg_state(const vxs_msg_state_t *st) {
    static const char *const cls[] = {"vehicle", "pedestrian", "static"};
    if (!st->valid) return json_null();
    const double deg = 180.0 / M_PI;
    json_t *o = json_object();
    json_object_set_new(o, "class", json_string(cls[st->cls]));
    json_object_set_new(o, "x", vxsi_json_round(st->x, 1e-3));
    json_object_set_new(o, "y", vxsi_json_round(st->y, 1e-3));
    json_object_set_new(o, "z", vxsi_json_round(st->z, 1e-3));
    if (st->ref_shift_m > 0) json_object_set_new(o, "ref_shift_m", vxsi_json_round(st->ref_shift_m, 1e-3));
    json_object_set_new(o, "speed_mps", st->has_speed ? vxsi_json_round(st->speed, 1e-3) : json_null());
    json_object_set_new(o, "yaw_rad", st->has_heading ? vxsi_json_round(st->yaw, 1e-6) : json_null());
    json_object_set_new(o, "yaw_rate_dps",
                        st->has_yaw_rate ? vxsi_json_round(st->yaw_rate * deg, 1e-3) : json_null());
    json_object_set_new(o, "accel_mps2", st->has_accel ? vxsi_json_round(st->accel, 1e-3) : json_null());
    json_object_set_new(o, "length_m", vxsi_json_round(st->length, 1e-3));
    json_object_set_new(o, "width_m", vxsi_json_round(st->width, 1e-3));
    json_object_set_new(o, "pos_sd_m", vxsi_json_round(st->pos_sd, 1e-3));
    json_object_set_new(o, "pos_sd_claimed", json_boolean(st->pos_sd_claimed));
    json_object_set_new(o, "speed_sd_mps", vxsi_json_round(st->speed_sd, 1e-4));
    json_object_set_new(o, "speed_sd_claimed", json_boolean(st->speed_sd_claimed));
    json_object_set_new(o, "heading_sd_deg", vxsi_json_round(st->yaw_sd * deg, 1e-3));
    json_object_set_new(o, "heading_sd_claimed", json_boolean(st->yaw_sd_claimed));
    return o;
}

json_t *vxsi_json_locator(const vxs_locator_t *l) {
    return json_pack("{s:i,s:I,s:I,s:i}", "source", (int)l->source, "index", (json_int_t)l->index,
                     "offset", (json_int_t)l->offset, "count", (int)l->count);
}
