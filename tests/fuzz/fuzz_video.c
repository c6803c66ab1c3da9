/*
 * fuzz_video.c: libFuzzer target for the camera reader's container probe and index pass
 * (sensors/camera.c) through vxs_camera_open_mem, a custom AVIOContext over the input. Every
 * frame record is read (the reorder window, the MPEG rule for missing pts, the truncation
 * checks), then the first frames are decoded (seek, decode, swscale). Nothing may crash, read
 * out of bounds, overflow a timestamp or allocate without bound.
 */
#include <stddef.h>
#include <stdint.h>

#include "vxs_camera.h"

#define VXS_FUZZ_MAX (1u << 20)
#define MAX_FRAMES 4096
#define MAX_FETCH 3

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static volatile uint64_t g_sink; /* unsigned: the sums may wrap (VXS_TIME_NONE is INT64_MIN) */

/* Diagnostics are the expected outcome of most inputs: count them instead of logging. */
static void on_diag(void *user, const vxs_diag_t *d) {
    (void)user;
    g_sink += d->offset;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    vxs_camera_t *c = NULL;
    vxs_camera_options_t o;
    vxs_diag_sink_t sink = {on_diag, NULL};
    vxs_limits_t lim;
    vxs_record_t first[MAX_FETCH];
    vxs_buf_t buf = {NULL, 0, 0};
    size_t n_first = 0;
    char err[256];
    if (size > VXS_FUZZ_MAX) return 0;
    vxs_camera_options_init(&o);
    vxs_limits_default(&lim);
    lim.max_frame = 16u << 20; /* 16 MiB of RGB: hostile dimensions must not exhaust memory */
    o.limits = &lim;
    o.reorder_window = 8;
    o.diag = &sink;
    if (vxs_camera_open_mem(&c, data, size, "fuzz", &o, err, sizeof err) == VXS_OK) {
        for (int i = 0; i < MAX_FRAMES; i++) {
            const vxs_record_t *r = NULL;
            vxs_camera_frame_info_t fi;
            vxs_status_t st = vxs_camera_next(c, &r);
            if (st == VXS_EOF) break;
            if (st != VXS_OK) continue;
            if (vxs_camera_frame_info(c, &fi) == VXS_OK)
                g_sink += (uint64_t)fi.duration_ns + (uint64_t)fi.pts_ns +
                          (uint64_t)r->capture_time;
            if (n_first < MAX_FETCH) first[n_first++] = *r;
        }
        for (size_t i = n_first; i > 0; i--) /* decreasing: exercises the seek path */
            (void)vxs_camera_fetch_rgb(c, &buf, NULL, NULL, &first[i - 1]);
        (void)vxs_camera_fetch_rgb_index(c, &buf, NULL, NULL, 1);
        g_sink += buf.len;
    }
    vxs_buf_free(&buf);
    vxs_camera_close(c);
    return 0;
}
