/*
 * fuzz_lidar.c: libFuzzer target for the sweep reader (sensors/lidar.c) over a whole capture in
 * memory: the index pass (streams, unwrapping, cuts, gaps, position packets, Ouster frames with
 * a built-in legacy metadata) and a fetch of every sweep it yields, checking that a fetch gives
 * exactly the points the index pass counted.
 *
 * Input: [0] option selector (cut azimuth, Velodyne model), then a pcap file.
 *
 * Speed: the metadata is parsed once (parsing builds its direction table), and captures above
 * FUZZ_MAX are rejected: every sweep is fetched, which decodes the capture a second time, so
 * cost grows with the capture while a dozen packets already hold wraps, cuts, gaps and frames.
 * Run with -max_len=16385. The built-in metadata is an Ouster legacy sensor of 16 beams (the
 * OS-1-64's first 16) sending 4 columns a packet (848 bytes, a size the packet classifier
 * recognizes) with a column window of 12 columns: three packets make a complete frame.
 * Seeds are a few packets each cut from the recordings in ../shared/datasets/lidar.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "vxs_lidar.h"

#define FUZZ_MAX 16385 /* selector + 16 KiB of capture; see the header comment */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
const char *__asan_default_options(void);

/* ASan's default quarantine keeps the last 256 MB freed unusable, so every input's reader (tens
 * of kB of stream state, a capture buffer) lands on fresh pages: page faults and TLB shootdowns
 * were a third of the run time. 32 MB still keeps memory freed during one input poisoned long
 * after it; ASAN_OPTIONS in the environment overrides this. */
const char *__asan_default_options(void) { return "quarantine_size_mb=32"; }

static const char k_meta[] =
    "{\"lidar_mode\":\"1024x10\",\"lidar_data_format\":{\"columns_per_packet\":4,"
    "\"pixels_per_column\":16,\"column_window\":[0,11]},\"beam_intrinsics\":{"
    "\"beam_altitude_angles\":[16.46,15.88,15.32,14.8,14.29,13.71,13.17,12.63,12.15,11.58,"
    "11.05,10.52,10.05,9.49,8.95,8.43],"
    "\"beam_azimuth_angles\":[3.12,0.97,-1.18,-3.3,3.09,0.97,-1.15,-3.25,3.09,0.98,-1.12,"
    "-3.21,3.08,0.99,-1.09,-3.17]}}";

static vxs_ouster_meta_t *g_meta;
static vxs_velo_calib_t g_calib64;

static void quiet(void *user, const vxs_diag_t *d) {
    (void)user;
    (void)d;
}

/* init_once parses the metadata and fills the flat HDL-64E calibration: both are the same for
 * every input, and parsing the metadata builds a 1024 x 16 direction table. */
static void init_once(void) {
    static int done;
    if (done) return;
    done = 1;
    if (vxs_ouster_meta_parse(&g_meta, k_meta, sizeof k_meta - 1, "fuzz.json", NULL, 0) !=
        VXS_OK)
        __builtin_trap();
    /* HDL-64E has no built-in calibration: give it a flat one. */
    g_calib64.num_lasers = 64;
    for (int i = 0; i < 64; i++) {
        g_calib64.laser[i].vert_correction = (i - 32) * 0.01;
        g_calib64.laser[i].max_intensity = 255;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static const vxs_velo_model_t models[] = {VXS_VELO_AUTO, VXS_VELO_VLP16, VXS_VELO_HDL64E_S3,
                                              VXS_VELO_VLS128};
    vxs_lidar_options_t o;
    vxs_lidar_t *l = NULL;
    const vxs_ouster_meta_t *metas[1];
    vxs_diag_sink_t sink = {quiet, NULL};
    vxs_points_t pts = {NULL, 0, 0};
    const vxs_record_t *r;
    if (size < 1 || size > FUZZ_MAX) return 0;
    init_once();
    vxs_lidar_options_init(&o);
    o.cut_azimuth_deg = (data[0] & 0x0F) * 22.5;
    o.velo_model = models[(data[0] >> 4) & 3];
    if (o.velo_model == VXS_VELO_HDL64E_S3) o.velo_calib = &g_calib64;
    metas[0] = g_meta;
    o.ouster_meta = metas;
    o.ouster_meta_count = 1;
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
    return 0;
}
