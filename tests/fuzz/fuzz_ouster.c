/*
 * fuzz_ouster.c: libFuzzer target for the Ouster metadata parser, lidar packet header parse
 * and decode, and IMU packets (sensors/ouster.c).
 *
 * Input: byte 0 selects what the rest is.
 *   bits 0-1: 0 metadata JSON; 1 a lidar packet as is; 2 a lidar packet whose bytes are the
 *             rest repeated up to the metadata's exact packet size (so mutations reach the
 *             column parser without having to guess a 12608-byte length); 3 an IMU packet.
 *   bits 2-4: which built-in metadata a packet is decoded with (table below).
 * The built-in metadata cover every profile and the three JSON forms.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vxs_lidar.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

typedef struct {
    const char *form;    /* "flat", "nested" or "reduced" */
    const char *profile; /* NULL: no profile key (legacy) */
    unsigned w, h, cpp;
} builtin_t;

static const builtin_t k_builtin[] = {
    {"reduced", NULL, 1024, 64, 16},
    {"flat", "RNG19_RFL8_SIG16_NIR16", 1024, 128, 16},
    {"nested", "RNG15_RFL8_NIR8", 512, 32, 16},
    {"nested", "RNG19_RFL8_SIG16_NIR16_DUAL", 2048, 16, 8},
    {"flat", "FUSA_RNG15_RFL8_NIR8_DUAL", 1024, 32, 16},
    {"nested", "LEGACY", 512, 16, 4},
};
#define N_BUILTIN (sizeof k_builtin / sizeof k_builtin[0])

static vxs_ouster_meta_t *g_meta[N_BUILTIN];
static volatile float g_sink;

/* angles writes a JSON array of h beam angles spread over +-span degrees. */
static size_t angles(char *buf, size_t len, unsigned h, double span, double wobble) {
    size_t n = (size_t)snprintf(buf, len, "[");
    for (unsigned i = 0; i < h && n < len; i++) {
        double a = span - 2.0 * span * (double)i / (double)(h > 1 ? h - 1 : 1);
        n += (size_t)snprintf(buf + n, len - n, "%s%.3f", i ? "," : "",
                              a + wobble * (double)(i % 4));
    }
    if (n < len) n += (size_t)snprintf(buf + n, len - n, "]");
    return n;
}

/* build_json writes the metadata document of `b` in its form. */
static void build_json(char *buf, size_t len, const builtin_t *b) {
    char alt[4096], azi[4096], prof[96] = "";
    angles(alt, sizeof alt, b->h, 22.5, 0.0);
    angles(azi, sizeof azi, b->h, 0.0, 1.05);
    if (b->profile) snprintf(prof, sizeof prof, ",\"udp_profile_lidar\":\"%s\"", b->profile);
    if (strcmp(b->form, "reduced") == 0) {
        snprintf(buf, len,
                 "{\"beam_altitude_angles\":%s,\"beam_azimuth_angles\":%s,"
                 "\"lidar_mode\":\"%ux10\"}",
                 alt, azi, b->w);
    } else if (strcmp(b->form, "flat") == 0) {
        snprintf(buf, len,
                 "{\"beam_altitude_angles\":%s,\"beam_azimuth_angles\":%s,\"lidar_mode\":\"%ux10\","
                 "\"lidar_origin_to_beam_origin_mm\":13.762,\"prod_line\":\"OS-2-%u\","
                 "\"prod_sn\":\"992210000957\",\"initialization_id\":5431293,"
                 "\"udp_port_lidar\":7502,\"udp_port_imu\":7503,"
                 "\"lidar_to_sensor_transform\":[-1,0,0,0,0,-1,0,0,0,0,1,38.195,0,0,0,1],"
                 "\"data_format\":{\"columns_per_frame\":%u,\"columns_per_packet\":%u,"
                 "\"pixels_per_column\":%u,\"column_window\":[0,%u]%s}}",
                 alt, azi, b->w, b->h, b->w, b->cpp, b->h, b->w - 1, prof);
    } else {
        snprintf(buf, len,
                 "{\"sensor_info\":{\"prod_line\":\"OS-0-%u\",\"prod_sn\":\"122247000785\","
                 "\"initialization_id\":15278603},"
                 "\"beam_intrinsics\":{\"beam_altitude_angles\":%s,\"beam_azimuth_angles\":%s,"
                 "\"beam_to_lidar_transform\":[1,0,0,27.116,0,1,0,0,0,0,1,3.5,0,0,0,1]},"
                 "\"lidar_intrinsics\":{\"lidar_to_sensor_transform\":"
                 "[-1,0,0,0,0,-1,0,0,0,0,1,36.18,0,0,0,1]},"
                 "\"config_params\":{\"lidar_mode\":\"%ux10\",\"udp_port_lidar\":7502},"
                 "\"lidar_data_format\":{\"columns_per_frame\":%u,\"columns_per_packet\":%u,"
                 "\"pixels_per_column\":%u%s}}",
                 b->h, alt, azi, b->w, b->w, b->cpp, b->h, prof);
    }
}

static const vxs_ouster_meta_t *builtin(size_t i) {
    if (!g_meta[i]) {
        static char json[12000];
        char err[256];
        build_json(json, sizeof json, &k_builtin[i]);
        if (vxs_ouster_meta_parse(&g_meta[i], json, strlen(json), "builtin", err, sizeof err) !=
            VXS_OK) {
            fprintf(stderr, "fuzz_ouster: built-in metadata %zu: %s\n", i, err);
            __builtin_trap();
        }
    }
    return g_meta[i];
}

static void fuzz_json(const uint8_t *d, size_t n) {
    vxs_ouster_meta_t *m = NULL;
    char err[256];
    err[0] = 'X';
    vxs_status_t st = vxs_ouster_meta_parse(&m, (const char *)d, n, "f.json", err, sizeof err);
    if (st != VXS_OK) {
        if (m || strncmp(err, "f.json: ", 8) != 0) __builtin_trap(); /* named, nothing leaked */
        return;
    }
    vxs_ouster_info_t info;
    vxs_ouster_meta_get_info(m, &info);
    if (info.columns_per_frame == 0 || info.pixels_per_column == 0 ||
        info.columns_per_packet == 0 || info.columns_per_packet > info.columns_per_frame ||
        info.lidar_packet_size > 65535 || info.column_first >= info.columns_per_frame ||
        info.column_last >= info.columns_per_frame)
        __builtin_trap();
    vxs_ouster_meta_destroy(m);
}

static void fuzz_packet(const vxs_ouster_meta_t *m, const uint8_t *d, size_t n) {
    vxs_ouster_info_t info;
    vxs_ouster_meta_get_info(m, &info);
    vxs_ouster_header_t h;
    vxs_status_t sh = vxs_ouster_parse_header(&h, m, d, n);
    vxs_points_t pts = {0};
    /* A point already in the array must survive a failed decode untouched. */
    if (vxs_points_reserve(&pts, 1) != VXS_OK) return;
    memset(&pts.pts[0], 0xAB, sizeof pts.pts[0]);
    pts.len = 1;
    vxs_status_t sd = vxs_ouster_decode(m, &pts, d, n);
    uint8_t bits = 0;
    uint32_t count = vxs_ouster_count_points(m, &bits, d, n);
    if (sh != sd || count != pts.len - 1) __builtin_trap();
    if (sd != VXS_OK) {
        if (pts.len != 1 || pts.pts[0].laser != 0xABAB) __builtin_trap();
    } else {
        size_t most = (size_t)h.columns_valid * info.pixels_per_column * 2;
        if (pts.len - 1 > most || h.columns_valid > info.columns_per_packet) __builtin_trap();
        float acc = 0;
        for (size_t i = 1; i < pts.len; i++) {
            const vxs_point_t *p = &pts.pts[i];
            if (p->laser >= info.pixels_per_column || p->azimuth >= 36000 || p->t_ns < 0 ||
                (p->ret != VXS_RET_STRONGEST && p->ret != VXS_RET_SECOND))
                __builtin_trap();
            acc += p->x + p->y + p->z + p->intensity;
        }
        g_sink = acc;
    }
    vxs_points_free(&pts);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 1) return 0;
    const unsigned mode = data[0] & 3u;
    const size_t which = (size_t)(data[0] >> 2 & 7u) % N_BUILTIN;
    const uint8_t *d = data + 1;
    size_t n = size - 1;
    if (mode == 0) {
        fuzz_json(d, n);
        return 0;
    }
    if (mode == 3) {
        vxs_ouster_imu_t imu;
        if (vxs_ouster_parse_imu(&imu, d, n) == VXS_OK) g_sink = imu.accel_g[0] + imu.gyro_dps[2];
        return 0;
    }
    const vxs_ouster_meta_t *m = builtin(which);
    if (mode == 2 && n > 0) {
        /* an exact-size heap copy, so ASan sees any read past the packet */
        vxs_ouster_info_t info;
        vxs_ouster_meta_get_info(m, &info);
        uint8_t *tiled = malloc(info.lidar_packet_size);
        if (!tiled) return 0;
        for (size_t i = 0; i < info.lidar_packet_size; i++) tiled[i] = d[i % n];
        fuzz_packet(m, tiled, info.lidar_packet_size);
        free(tiled);
        return 0;
    }
    fuzz_packet(m, d, n);
    return 0;
}
