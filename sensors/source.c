/*
 * source.c: a scenario manifest's source opened as a vxs_source_t with the reader of its kind
 * (vxs_sensors.h section 6). This is the one place that turns a manifest entry into reader
 * options: the sync job, the demo's read-back and every other caller go through it.
 *
 * The wrapper keeps what it needs to open the reader again (rewind), enforces the rule on bad
 * units (vxs_core.h section 7: reported once to the diag sink, skipped, never an error from
 * next), filters the record kinds asked for, and serves payloads (sweep points, RGB frames).
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "vxs_camera.h"
#include "vxs_core_int.h"
#include "vxs_frame.h"
#include "vxs_lidar.h"
#include "vxs_sensors.h"
#include "vxs_v2x.h"

#define ERR_LEN 640

typedef struct {
    const vxs_manifest_t *man;
    const vxs_manifest_source_t *ms;
    uint32_t agent, source_index;
    vxs_diag_sink_t diag;
    bool has_diag;
    vxs_limits_t limits;
    uint32_t kinds;       /* wanted kinds; 0: all */
    /* lidar */
    vxs_velo_calib_t calib;
    bool has_calib;
    vxs_ouster_meta_t *meta;
    vxs_velo_model_t model;
    vxs_lidar_t *lidar;
    vxs_points_t pts;
    /* camera */
    vxs_camera_t *cam;
    uint64_t cam_pos, cam_size;
    /* v2x */
    vxs_v2x_reader_t *v2x;
    bool stopped;         /* reading cannot go on (the rule's one error was returned) */
    char err[ERR_LEN];
} msrc_t;

static bool wanted(const msrc_t *s, vxs_record_kind_t k) {
    return s->kinds == 0 || (s->kinds & VXS_REC_KIND_BIT(k)) != 0;
}

/* report_stop reports to the diag sink the error that stops a source (the rule's one error). */
static void report_stop(msrc_t *s, vxs_status_t st, const char *msg) {
    vxs_diag_t d;
    vxsi_fmt(s->err, sizeof s->err, "%s: reading stopped: %s", s->ms->path,
             msg && msg[0] ? msg : vxs_strerror(st));
    d.file = s->ms->path;
    d.unit = 0;
    d.offset = 0;
    d.status = st;
    d.msg = s->err;
    vxs_diag_emit(s->has_diag ? &s->diag : NULL, &d);
}

static void close_reader(msrc_t *s) {
    vxs_lidar_close(s->lidar);
    vxs_camera_close(s->cam);
    vxs_v2x_reader_close(s->v2x);
    s->lidar = NULL;
    s->cam = NULL;
    s->v2x = NULL;
}

/* open_reader opens the entry's reader afresh (first open and every rewind). */
static vxs_status_t open_reader(msrc_t *s, char *err, size_t err_len) {
    const vxs_manifest_source_t *ms = s->ms;
    const uint32_t sensor = s->source_index * VXS_STREAMS_PER_SOURCE;
    const vxs_diag_sink_t *diag = s->has_diag ? &s->diag : NULL;
    close_reader(s);
    s->stopped = false;
    s->cam_pos = 0;
    switch (ms->kind) {
    case VXS_SOURCE_LIDAR: {
        vxs_lidar_options_t o;
        vxs_lidar_options_init(&o);
        o.agent = s->agent;
        o.sensor = sensor;
        o.source_index = s->source_index;
        o.velo_model = s->model;
        o.velo_calib = s->has_calib ? &s->calib : NULL;
        o.ouster_meta = s->meta ? (const vxs_ouster_meta_t *const *)&s->meta : NULL;
        o.ouster_meta_count = s->meta ? 1 : 0;
        o.limits = &s->limits;
        o.diag = diag;
        o.packet_records = wanted(s, VXS_REC_LIDAR_PACKET);
        return vxs_lidar_open(&s->lidar, ms->path, &o, err, err_len);
    }
    case VXS_SOURCE_CAMERA: {
        vxs_camera_options_t o;
        vxs_camera_options_init(&o);
        o.agent = s->agent;
        o.sensor = sensor;
        o.source_index = s->source_index;
        o.sidecar = ms->timestamps;
        o.creation = (vxs_cam_creation_t)ms->creation;
        o.limits = &s->limits;
        o.diag = diag;
        return vxs_camera_open(&s->cam, ms->path, &o, err, err_len);
    }
    case VXS_SOURCE_V2X: {
        vxs_v2x_reader_options_t o;
        memset(&o, 0, sizeof o);
        o.agent = s->agent;
        o.sensor = sensor;
        o.source_index = s->source_index;
        o.format = (vxs_v2x_format_t)ms->v2x_format;
        o.own_station_id = ms->has_own_station_id ? (int64_t)ms->own_station_id : -1;
        o.own_macs = (const uint8_t(*)[6])ms->own_macs;
        o.n_own_macs = ms->n_own_macs;
        o.limits = &s->limits;
        o.diag = diag;
        return vxs_v2x_reader_open(&s->v2x, ms->path, &o, err, err_len);
    }
    default:
        vxsi_fmt(err, err_len, "%s: unknown source kind %d", ms->path, (int)ms->kind);
        return VXS_E_ARG;
    }
}

/* ---- the vtable --------------------------------------------------------------------------- */

static vxs_status_t ms_next(void *impl, const vxs_record_t **out) {
    msrc_t *s = impl;
    vxs_status_t st;
    *out = NULL;
    if (s->stopped) return VXS_EOF;
    for (;;) {
        if (s->lidar) {
            st = vxs_lidar_next(s->lidar, out); /* reports and skips bad packets itself */
        } else if (s->cam) {
            st = vxs_camera_next(s->cam, out);
            /* every error but running out of memory is one bad unit the camera reader has
             * reported: skip it */
            if (st != VXS_OK && st != VXS_EOF && st != VXS_E_NOMEM && st != VXS_E_ARG) continue;
            if (st == VXS_OK) s->cam_pos = (*out)->loc.offset;
        } else if (s->v2x) {
            st = vxs_v2x_reader_next(s->v2x, out); /* errors are reported and end the stream */
            if (st != VXS_OK && st != VXS_EOF) {
                s->stopped = true;
                return st;
            }
        } else {
            return VXS_EOF;
        }
        if (st == VXS_EOF) return VXS_EOF;
        if (st != VXS_OK) {
            /* the reader cannot go on (the camera ran out of memory): reported, then EOF */
            report_stop(s, st, s->cam ? vxs_camera_errmsg(s->cam) : NULL);
            s->stopped = true;
            return st;
        }
        if (wanted(s, (*out)->kind)) return VXS_OK;
    }
}

static vxs_status_t ms_fetch(void *impl, vxs_buf_t *out, const vxs_record_t *rec) {
    msrc_t *s = impl;
    vxs_status_t st;
    if (rec->kind == VXS_REC_LIDAR_SWEEP && s->lidar) {
        st = vxs_lidar_fetch_points(s->lidar, &s->pts, rec);
        if (st != VXS_OK) {
            vxsi_fmt(s->err, sizeof s->err, "%s", vxs_lidar_errmsg(s->lidar));
            return st;
        }
        return vxs_buf_set(out, s->pts.pts, s->pts.len * sizeof *s->pts.pts);
    }
    if (rec->kind == VXS_REC_CAMERA_FRAME && s->cam) {
        st = vxs_camera_fetch_rgb(s->cam, out, NULL, NULL, rec);
        if (st != VXS_OK) vxsi_fmt(s->err, sizeof s->err, "%s", vxs_camera_errmsg(s->cam));
        return st;
    }
    if (rec->kind == VXS_REC_V2X && s->v2x) {
        /* a message's payload (a CPM's perceived objects) while it is the current record: the
         * reader holds its decode until the next one */
        const vxs_v2x_msg_t *m = vxs_v2x_reader_msg(s->v2x);
        const vxs_record_t *cur = vxs_v2x_reader_record(s->v2x);
        if (cur && cur->loc.index == rec->loc.index && cur->loc.offset == rec->loc.offset)
            return vxs_buf_set(out, m->objects,
                               (size_t)(m->n_objects_kept > 0 ? m->n_objects_kept : 0) *
                                   sizeof *m->objects);
        vxsi_fmt(s->err, sizeof s->err,
                 "%s: record %" PRIu64 ": a V2X message's objects are fetched while it is the "
                 "source's current record",
                 s->ms->path, rec->loc.index + 1);
        return VXS_E_UNSUPPORTED;
    }
    vxsi_fmt(s->err, sizeof s->err, "%s: %s records have no payload to fetch", s->ms->path,
             vxs_record_kind_name(rec->kind));
    return VXS_E_UNSUPPORTED;
}

static vxs_status_t ms_rewind(void *impl, uint32_t kinds) {
    msrc_t *s = impl;
    s->kinds = kinds;
    return open_reader(s, s->err, sizeof s->err);
}

static uint64_t ms_position(const void *impl, uint64_t *size) {
    const msrc_t *s = impl;
    if (s->lidar) return vxs_lidar_position(s->lidar, size);
    if (s->v2x) return vxs_v2x_reader_position(s->v2x, size);
    if (size) *size = s->cam_size;
    return s->cam_pos; /* the byte offset of the last frame read */
}

static const char *ms_errmsg(const void *impl) {
    const msrc_t *s = impl;
    if (s->err[0]) return s->err;
    if (s->lidar) return vxs_lidar_errmsg(s->lidar);
    if (s->cam) return vxs_camera_errmsg(s->cam);
    if (s->v2x) return vxs_v2x_reader_errmsg(s->v2x);
    return "";
}

static void ms_destroy(void *impl) {
    msrc_t *s = impl;
    if (!s) return;
    close_reader(s);
    vxs_ouster_meta_destroy(s->meta);
    vxs_points_free(&s->pts);
    vxs_free(s);
}

static const vxs_source_ops_t manifest_source_ops = {"manifest", ms_next,     ms_fetch,
                                                     ms_rewind,  ms_position, ms_errmsg,
                                                     ms_destroy};

/* check_kind tells the file's kind by its content (vxs_probe_file, the detection inspect and
 * dump use) and refuses one that the source's declared kind cannot read, naming both: a video
 * given as a LiDAR capture, an empty file, a video libavformat cannot open. A camera's folder of
 * images is left to the camera reader, a V2X log whose format the manifest names to its reader.
 */
static vxs_status_t check_kind(const vxs_manifest_source_t *ms, char *err, size_t err_len) {
    vxs_file_probe_t pr;
    struct stat sb;
    if (ms->kind == VXS_SOURCE_CAMERA && stat(ms->path, &sb) == 0 && S_ISDIR(sb.st_mode))
        return VXS_OK;
    if (ms->kind == VXS_SOURCE_V2X && ms->v2x_format != VXS_MANIFEST_V2X_AUTO)
        return VXS_OK; /* the manifest names the format: its reader says what does not fit */
    VXS_FORWARD(vxs_probe_file(&pr, ms->path, err, err_len));
    const bool capture = pr.kind == VXS_FILE_PCAP || pr.kind == VXS_FILE_PCAPNG;
    const bool fits = ms->kind == VXS_SOURCE_LIDAR ? capture
                      : ms->kind == VXS_SOURCE_V2X
                          ? capture || pr.kind == VXS_FILE_WYDOT_LOG || pr.kind == VXS_FILE_HEX_LOG
                          : pr.kind == VXS_FILE_VIDEO && !pr.damaged;
    if (fits) return VXS_OK;
    if (pr.kind == VXS_FILE_VIDEO && pr.damaged && ms->kind == VXS_SOURCE_CAMERA)
        vxsi_fmt(err, err_len, "%s: a damaged video: %s", ms->path, pr.detail);
    else
        vxsi_fmt(err, err_len, "%s: a %s source, but the file is %s (%s)", ms->path,
                 vxs_source_kind_name(ms->kind),
                 pr.kind == VXS_FILE_UNKNOWN ? "of no kind v2xsync reads"
                                             : vxs_file_kind_name(pr.kind),
                 pr.detail);
    return VXS_E_UNSUPPORTED;
}

vxs_status_t vxs_source_open_manifest(void *user, vxs_source_t **out, const vxs_manifest_t *man,
                                      vxs_source_ref_t ref, uint32_t source_index,
                                      const vxs_diag_sink_t *diag, char *err, size_t err_len) {
    const vxs_source_open_options_t *opt = user;
    msrc_t *s;
    vxs_status_t st;
    if (!out) return VXS_E_ARG;
    *out = NULL;
    if (!man || ref.agent >= man->n_agents || ref.source >= man->agents[ref.agent].n_sources ||
        source_index > UINT32_MAX / VXS_STREAMS_PER_SOURCE) {
        vxsi_fmt(err, err_len, "no such source in the manifest");
        return VXS_E_ARG;
    }
    s = vxs_calloc(1, sizeof *s);
    if (!s) return VXS_E_NOMEM;
    s->man = man;
    s->ms = &man->agents[ref.agent].sources[ref.source];
    s->agent = (uint32_t)ref.agent;
    s->source_index = source_index;
    if (diag) {
        s->diag = *diag;
        s->has_diag = true;
    }
    if (opt && opt->limits)
        s->limits = *opt->limits;
    else
        vxs_limits_default(&s->limits);
    s->kinds = opt ? opt->kinds : 0;
    s->model = VXS_VELO_AUTO;
    if (s->ms->kind == VXS_SOURCE_LIDAR) {
        vxs_velo_model_t m;
        /* a model name that is not a Velodyne's (an Ouster's) leaves detection to the packets */
        if (s->ms->model && vxs_velo_model_parse(&m, s->ms->model) == VXS_OK) s->model = m;
        if (s->ms->calibration) {
            st = vxs_velo_calib_load(&s->calib, s->ms->calibration, err, err_len);
            if (st != VXS_OK) goto fail;
            s->has_calib = true;
        }
        if (s->ms->metadata) {
            st = vxs_ouster_meta_load(&s->meta, s->ms->metadata, err, err_len);
            if (st != VXS_OK) goto fail;
        }
    }
    if (s->ms->kind == VXS_SOURCE_CAMERA) {
        struct stat sb;
        s->cam_size = stat(s->ms->path, &sb) == 0 ? (uint64_t)sb.st_size : 0;
    }
    if ((st = check_kind(s->ms, err, err_len)) != VXS_OK) goto fail;
    if ((st = open_reader(s, err, err_len)) != VXS_OK) goto fail;
    if ((st = vxs_source_create(out, &manifest_source_ops, s)) != VXS_OK) goto fail;
    return VXS_OK;
fail:
    ms_destroy(s);
    return st;
}
