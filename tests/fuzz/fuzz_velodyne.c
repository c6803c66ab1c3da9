/*
 * fuzz_velodyne.c: libFuzzer target for the Velodyne decoder (sensors/velodyne.c) and the
 * calibration parsers (sensors/velo_calib.c).
 *
 * Input: [0] selector, then the body. selector % 10:
 *   0..7  a data packet decoded under model (selector % 8; 0 = auto from the product byte), as
 *         given and zero-padded/cut to 1206 bytes, with a next azimuth taken from byte [1..2];
 *         HDL-64E gets a made-up 64-laser calibration with two-point and focal terms;
 *   8     a position packet, as given and padded/cut to 512 bytes;
 *   9     a calibration (YAML or db.xml, told apart by content).
 * Invariants: an error leaves the output unchanged; points are finite with azimuth < 36000.
 */
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "vxs_lidar.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static vxs_points_t g_pts;

static void check(vxs_status_t st, size_t before) {
    if (st != VXS_OK && g_pts.len != before) __builtin_trap();
    for (size_t i = before; i < g_pts.len; i++) {
        const vxs_point_t *p = &g_pts.pts[i];
        if (!isfinite(p->x) || !isfinite(p->y) || !isfinite(p->z) || p->azimuth >= 36000)
            __builtin_trap();
    }
}

static void decode(vxs_velo_model_t m, const uint8_t *b, size_t n) {
    static vxs_velo_calib_t c64;
    vxs_velo_config_t cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.model = m;
    if (m == VXS_VELO_HDL64E_S2 || m == VXS_VELO_HDL64E_S3) {
        memset(&c64, 0, sizeof c64);
        c64.num_lasers = 64;
        for (int i = 0; i < 64; i++) {
            c64.laser[i].vert_correction = -0.4 + 0.01 * i;
            c64.laser[i].rot_correction = 0.1 - 0.003 * i;
            c64.laser[i].dist_correction = 1.2;
            c64.laser[i].dist_correction_x = 1.1;
            c64.laser[i].dist_correction_y = 1.3;
            c64.laser[i].vert_offset = 0.2;
            c64.laser[i].horiz_offset = 0.026;
            c64.laser[i].focal_distance = 1500;
            c64.laser[i].focal_slope = 1.2;
            c64.laser[i].min_intensity = 10;
            c64.laser[i].max_intensity = 230;
        }
        cfg.calib = &c64;
    }
    cfg.max_range_m = (n & 1) ? 100.0 : 0.0;
    vxs_velo_t *v = NULL;
    if (vxs_velo_create(&v, &cfg, NULL, 0) != VXS_OK) return;
    uint8_t pkt[VXS_VELO_PACKET_SIZE];
    memset(pkt, 0, sizeof pkt);
    memcpy(pkt, b, n < sizeof pkt ? n : sizeof pkt);
    int next_az = n >= 2 ? ((b[0] | b[1] << 8) % 40000) - 2000 : -1;
    for (int pass = 0; pass < 2; pass++) {
        size_t before = g_pts.len;
        check(vxs_velo_decode(v, &g_pts, b, n, 1000, next_az), before);
        before = g_pts.len;
        check(vxs_velo_decode(v, &g_pts, pkt, sizeof pkt, 1000, next_az), before);
        vxs_velo_header_t h;
        if (vxs_velo_parse_header(&h, pkt, sizeof pkt) == VXS_OK &&
            (h.blocks != 8 && h.blocks != 12))
            __builtin_trap();
        if (g_pts.len > 100000) g_pts.len = 0;
    }
    vxs_velo_destroy(v);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 1 || size > 1 << 20) return 0;
    unsigned sel = data[0] % 10u;
    const uint8_t *b = data + 1;
    size_t n = size - 1;
    if (sel < 8) {
        decode((vxs_velo_model_t)sel, b, n);
    } else if (sel == 8) {
        vxs_velo_position_t pos;
        uint8_t pkt[VXS_VELO_POSITION_SIZE];
        memset(pkt, 0, sizeof pkt);
        memcpy(pkt, b, n < sizeof pkt ? n : sizeof pkt);
        (void)vxs_velo_parse_position(&pos, b, n);
        if (vxs_velo_parse_position(&pos, pkt, sizeof pkt) != VXS_OK) __builtin_trap();
        if (strlen(pos.nmea) > 128) __builtin_trap();
    } else {
        vxs_velo_calib_t c;
        char err[256];
        if (vxs_velo_calib_parse(&c, b, n, "fuzz", err, sizeof err) == VXS_OK &&
            (c.num_lasers < 1 || c.num_lasers > VXS_VELO_MAX_LASERS))
            __builtin_trap();
    }
    vxs_points_free(&g_pts);
    return 0;
}
