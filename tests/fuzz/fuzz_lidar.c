/*
 * fuzz_lidar.c: libFuzzer target for the sweep reader (sensors/lidar.c) over a whole capture in
 * memory: the index pass (streams, unwrapping, cuts, gaps, position packets, Ouster frames with
 * a built-in legacy metadata) and a fetch of every sweep it yields, checking that a fetch gives
 * exactly the points the index pass counted.
 *
 * Input: [0] option selector (cut azimuth, Velodyne model), then a pcap file.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "vxs_lidar.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char k_meta[] =
    "{\"lidar_mode\":\"1024x10\",\"beam_altitude_angles\":[2,1,0,-1],"
    "\"beam_azimuth_angles\":[-1,0,1,0]}";

static void quiet(void *user, const vxs_diag_t *d) {
    (void)user;
    (void)d;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static const vxs_velo_model_t models[] = {VXS_VELO_AUTO, VXS_VELO_VLP16, VXS_VELO_HDL64E_S3,
                                              VXS_VELO_VLS128};
    vxs_lidar_options_t o;
    vxs_lidar_t *l = NULL;
    vxs_ouster_meta_t *m = NULL;
    const vxs_ouster_meta_t *metas[1];
    vxs_diag_sink_t sink = {quiet, NULL};
    vxs_points_t pts = {NULL, 0, 0};
    vxs_velo_calib_t calib;
    const vxs_record_t *r;
    if (size < 1) return 0;
    vxs_lidar_options_init(&o);
    o.cut_azimuth_deg = (data[0] & 0x0F) * 22.5;
    o.velo_model = models[(data[0] >> 4) & 3];
    if (o.velo_model == VXS_VELO_HDL64E_S3) {
        /* HDL-64E has no built-in calibration: give it a flat one. */
        memset(&calib, 0, sizeof calib);
        calib.num_lasers = 64;
        for (int i = 0; i < 64; i++) {
            calib.laser[i].vert_correction = (i - 32) * 0.01;
            calib.laser[i].max_intensity = 255;
        }
        o.velo_calib = &calib;
    }
    if (vxs_ouster_meta_parse(&m, k_meta, sizeof k_meta - 1, "fuzz.json", NULL, 0) == VXS_OK) {
        metas[0] = m;
        o.ouster_meta = metas;
        o.ouster_meta_count = 1;
    }
    o.diag = &sink;
    if (vxs_lidar_open_mem(&l, data + 1, size - 1, "fuzz.pcap", &o, NULL, 0) == VXS_OK) {
        while (vxs_lidar_next(l, &r) == VXS_OK) {
            if (r->kind != VXS_REC_LIDAR_SWEEP) continue;
            if (vxs_lidar_fetch_points(l, &pts, r) == VXS_OK && pts.len != r->u.sweep.points)
                abort(); /* the index pass and the fetch disagree */
        }
        vxs_lidar_close(l);
    }
    vxs_points_free(&pts);
    vxs_ouster_meta_destroy(m);
    return 0;
}
