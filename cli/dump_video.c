/*
 * dump_video.c: `v2xsync dump` for cameras (a video file or a folder of images): one line per
 * frame in presentation order from the camera reader's index pass (sensors/camera.c; nothing
 * is decoded), or, with --frame N --png OUT.png, frame N decoded and written as a PNG
 * (export/png.c). The option parsing lives with the other dump options in cmd_dump.c.
 */
#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "dump_video.h"
#include "vxs_camera.h"
#include "vxs_export.h"

static void on_diag(void *user, const vxs_diag_t *d) {
    uint64_t *printed = user;
    if ((*printed)++ < 50) fprintf(stderr, "v2xsync dump: %s\n", d->msg);
}

static json_t *ns_or_null(int64_t t) {
    return t == VXS_TIME_NONE ? json_null() : json_integer((json_int_t)t);
}

static void print_frame(const vxs_record_t *rec, const vxs_camera_frame_info_t *fi, bool json) {
    const vxs_frame_summary_t *f = &rec->u.frame;
    if (json) {
        json_t *o = json_object();
        json_object_set_new(o, "index", json_integer((json_int_t)fi->index));
        json_object_set_new(o, "pts", json_integer((json_int_t)f->pts));
        json_object_set_new(o, "pts_ns", ns_or_null(fi->pts_ns));
        json_object_set_new(o, "duration_ns", json_integer((json_int_t)fi->duration_ns));
        json_object_set_new(o, "t_ns", ns_or_null(rec->capture_time));
        json_object_set_new(o, "time_source",
                            json_string(vxs_cam_time_source_name(fi->time_source)));
        json_object_set_new(o, "key", json_boolean(f->key));
        json_object_set_new(o, "size", json_integer((json_int_t)f->size));
        json_object_set_new(o, "width", json_integer((json_int_t)f->width));
        json_object_set_new(o, "height", json_integer((json_int_t)f->height));
        json_object_set_new(o, "offset", json_integer((json_int_t)fi->offset));
        if (fi->pts_from_dts) json_object_set_new(o, "pts_from_dts", json_true());
        if (fi->duplicate) json_object_set_new(o, "duplicate", json_true());
        char *line = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
        if (line) {
            fputs(line, stdout);
            fputc('\n', stdout);
            free(line);
        }
        json_decref(o);
        return;
    }
    char t[VXS_TIME_STRLEN];
    printf("%8" PRIu64 " %12" PRId64 " %12.3f %9.3f %-30s %-3s %9" PRIu32 "\n", fi->index, f->pts,
           fi->pts_ns == VXS_TIME_NONE ? 0.0 : (double)fi->pts_ns / 1e6,
           (double)fi->duration_ns / 1e6,
           rec->capture_time == VXS_TIME_NONE ? "-"
                                              : vxs_time_format(t, sizeof t, rec->capture_time),
           f->key ? "key" : "", f->size);
}

/* write_png decodes frame `index` and writes it to `png`. */
static int write_png(vxs_camera_t *cam, uint64_t index, const char *png) {
    vxs_buf_t rgb = {0};
    uint32_t w = 0, h = 0;
    char err[1024];
    vxs_status_t st = vxs_camera_fetch_rgb_index(cam, &rgb, &w, &h, index);
    if (st != VXS_OK) {
        fprintf(stderr, "v2xsync dump: %s\n", vxs_camera_errmsg(cam));
        vxs_buf_free(&rgb);
        return st == VXS_E_NOTFOUND ? VXS_EXIT_USAGE : VXS_EXIT_FINDINGS;
    }
    st = vxs_png_write(png, rgb.data, w, h, (size_t)w * 3, NULL, err, sizeof err);
    vxs_buf_free(&rgb);
    if (st != VXS_OK) {
        fprintf(stderr, "v2xsync dump: %s\n", err);
        return VXS_EXIT_USAGE;
    }
    fprintf(stderr, "v2xsync dump: frame %" PRIu64 " (%" PRIu32 "x%" PRIu32 ") written to %s\n",
            index, w, h, png);
    return VXS_EXIT_OK;
}

int vxs_dump_video(const char *path, const vxs_dump_video_opts_t *o) {
    vxs_camera_options_t copt;
    vxs_camera_t *cam = NULL;
    uint64_t printed = 0;
    vxs_diag_sink_t sink = {on_diag, &printed};
    vxs_cli_progress_t bar;
    vxs_camera_counts_t n;
    vxs_camera_info_t info;
    const vxs_record_t *rec;
    char err[1024];
    vxs_status_t st;
    int rc = VXS_EXIT_OK;

    vxs_camera_options_init(&copt);
    copt.sidecar = o->timestamps;
    copt.sidecar_unit = o->sidecar_unit;
    copt.creation = o->creation;
    copt.has_offset = o->has_offset;
    copt.offset = o->offset;
    copt.image_fps = o->fps;
    copt.diag = &sink;
    if (vxs_camera_open(&cam, path, &copt, err, sizeof err) != VXS_OK) {
        fprintf(stderr, "v2xsync dump: %s\n", err);
        return VXS_EXIT_USAGE;
    }
    if (o->frame >= 0) {
        rc = write_png(cam, (uint64_t)o->frame, o->png);
        vxs_camera_close(cam);
        return rc;
    }
    vxs_camera_get_info(cam, &info);
    if (!o->json) {
        printf("# %s: %s %s %" PRIu32 "x%" PRIu32 ", time base %" PRId32 "/%" PRId32
               ", absolute time from %s\n",
               path, info.format, info.codec, info.width, info.height, info.tb_num, info.tb_den,
               vxs_cam_time_source_name(info.time_source));
        printf("%8s %12s %12s %9s %-30s %-3s %9s\n", "frame", "pts", "pts_ms", "dur_ms", "t",
               "key", "size");
    }
    vxs_cli_progress_begin(&bar, "dump", o->quiet);
    for (;;) {
        vxs_camera_frame_info_t fi;
        st = vxs_camera_next(cam, &rec);
        if (st == VXS_EOF) break;
        if (st != VXS_OK) continue; /* reported through the diag sink, counted */
        if (vxs_camera_frame_info(cam, &fi) != VXS_OK) continue;
        vxs_cli_progress_fn(&bar, fi.index + 1, info.frames_expected);
        print_frame(rec, &fi, o->json);
    }
    vxs_cli_progress_end(&bar);
    vxs_camera_get_counts(cam, &n);
    if (n.bad > 0) {
        fprintf(stderr, "v2xsync dump: %s: %" PRIu64 " bad frame(s) or damage (see above)\n",
                path, n.bad);
        rc = VXS_EXIT_FINDINGS;
    }
    if (n.duplicates > 0 || n.missing_pts > 0 || n.late > 0)
        fprintf(stderr,
                "v2xsync dump: %s: %" PRIu64 " duplicate pts, %" PRIu64 " without pts, %" PRIu64
                " out of order beyond the reorder window\n",
                path, n.duplicates, n.missing_pts, n.late);
    vxs_camera_close(cam);
    return rc;
}
