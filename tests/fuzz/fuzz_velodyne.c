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
 *
 * Speed: the decoders of the seven fixed models (with and without a range limit) are built
 * once, on the first input: a ready decoder is not changed by decoding, so sharing it keeps
 * every input's result a function of the input alone. Only the auto decoder, which takes its
 * model from the first packet it sees, is created per input. Inputs above FUZZ_MAX are
 * rejected (the largest real calibration, an MRPT db.xml, is 46 kB; packets are 1206 and 512
 * bytes): run with -max_len=2048 for packets, -max_len=65536 to grow calibrations.
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

#define FUZZ_MAX 65537 /* selector + a 64 KiB calibration */
#define RANGES 2        /* max_range_m 0 (none) and 100 m, chosen by the input's length */

static vxs_velo_calib_t g_c64;
static vxs_velo_t *g_dec[VXS_VELO_MODEL_COUNT_][RANGES]; /* [model][range], AUTO left NULL */

static vxs_status_t make_decoder(vxs_velo_t **out, vxs_velo_model_t m, int range) {
    vxs_velo_config_t cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.model = m;
    if (m == VXS_VELO_HDL64E_S2 || m == VXS_VELO_HDL64E_S3) cfg.calib = &g_c64;
    cfg.max_range_m = range ? 100.0 : 0.0;
    return vxs_velo_create(out, &cfg, NULL, 0);
}

/* init_once builds the HDL-64E calibration and the fixed models' decoders. */
static void init_once(void) {
    static int done;
    if (done) return;
    done = 1;
    g_c64.num_lasers = 64;
    for (int i = 0; i < 64; i++) {
        g_c64.laser[i].vert_correction = -0.4 + 0.01 * i;
        g_c64.laser[i].rot_correction = 0.1 - 0.003 * i;
        g_c64.laser[i].dist_correction = 1.2;
        g_c64.laser[i].dist_correction_x = 1.1;
        g_c64.laser[i].dist_correction_y = 1.3;
        g_c64.laser[i].vert_offset = 0.2;
        g_c64.laser[i].horiz_offset = 0.026;
        g_c64.laser[i].focal_distance = 1500;
        g_c64.laser[i].focal_slope = 1.2;
        g_c64.laser[i].min_intensity = 10;
        g_c64.laser[i].max_intensity = 230;
    }
    for (int m = VXS_VELO_AUTO + 1; m < VXS_VELO_MODEL_COUNT_; m++)
        for (int r = 0; r < RANGES; r++)
            if (make_decoder(&g_dec[m][r], (vxs_velo_model_t)m, r) != VXS_OK) __builtin_trap();
}

static void decode(vxs_velo_model_t m, const uint8_t *b, size_t n) {
    const int range = (int)(n & 1);
    vxs_velo_t *own = NULL, *v = g_dec[m][range];
    if (!v) {
        if (make_decoder(&own, m, range) != VXS_OK) return;
        v = own;
    }
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
    vxs_velo_destroy(own);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 1 || size > FUZZ_MAX) return 0;
    init_once();
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
    /* freed every time: a fresh buffer per input keeps ASan's bound right at the reservation */
    vxs_points_free(&g_pts);
    return 0;
}
