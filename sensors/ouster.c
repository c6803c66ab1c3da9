/*
 * ouster.c: Ouster metadata JSON, lidar packet header and decode to points, legacy IMU packets.
 *
 * specification: ../shared/specs/lidar-packet-formats.md §3, checked against ouster-sdk
 * (ouster_core/src/parsing.cpp field tables, xyzlut.cpp make_xyz_lut, metadata.cpp and
 * sensor_info.cpp defaults) and the captures in ../shared/datasets/lidar/ouster.
 *
 * Lidar packet (all little-endian):
 *
 *   LEGACY:      [column 0][column 1]...                           no packet header / footer
 *     column:    ts u64 | measurement_id u16 | frame_id u16 | encoder u32 | H x 12 B | status u32
 *   profiles:    [packet header 32 B][column 0]...[packet footer 32 B]
 *     standard:  packet_type u16 | frame_id u16 | init_id u24 | prod_sn u40 | alerts ...
 *     FUSA:      packet_type u8 | init_id u24 | frame_id u32 | alerts u8 | - u16 | prod_sn u40 ...
 *     column:    ts u64 | measurement_id u16 | status u16 (bit 0 = valid) | H x pixel
 *
 *   pixel       bytes  range (mm)             reflectivity   second return
 *   LEGACY      12     bits 0-19              bits 32-39     -
 *   RNG19 single 12    bits 0-18              bits 32-39     -
 *   RNG19 dual  16     bits 0-18              bits 24-31     range 32-50, refl 56-63
 *   RNG15       4      bits 0-14, x 8 mm      bits 16-23     -
 *   FUSA dual   8      bits 0-14, x 8 mm      bits 16-23     range 32-46 x 8, refl 48-55
 *
 * RNG19 single return: the spec note puts reflectivity at bits 24-31; the OS-2-128 capture
 * (byte 3 only ever 0x00/0x10, byte 4 spread over 249 values) and ouster-sdk's
 * SINGLE_FIELD_INFO agree on bits 32-39, so that is what is read.
 *
 * XYZ: make_xyz_lut's formula is evaluated once per (column, row) at metadata load into a
 * float table (direction in m per mm of range, offset in m, both already through
 * lidar_to_sensor_transform), so a point costs one multiply-add per axis.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "vxs_core.h"
#include "vxs_core_int.h"
#include "vxs_lidar.h"

/* Caps on sizes read from metadata before the XYZ table is allocated: Ouster modes go up to
 * 4096 columns and 128 beams; the packet must fit a UDP datagram (parsing.cpp checks 65535). */
#define OS_MAX_W 4096u
#define OS_MAX_H 256u
#define OS_MAX_PACKET 65535u
#define OS_MAX_FILE (16u << 20)

/* Numbers from ouster-sdk sensor_info.cpp / metadata.cpp used when the metadata is silent. */
#define OS_GEN1_BEAM_ORIGIN_MM 12.163 /* default_lidar_origin_to_beam_origin: no prod_line */
#define OS_LIDAR_TO_SENSOR_Z_MM 36.18 /* DEFAULT_LIDAR_TO_SENSOR: 180° yaw, z 36.18 mm */

struct vxs_ouster_meta {
    vxs_ouster_info_t info;
    bool fusa;         /* FUSA packet header layout */
    size_t pkt_header; /* bytes before column 0 */
    size_t col_header; /* bytes before pixel 0 of a column */
    size_t px_size;
    size_t col_size;
    unsigned returns; /* 1, or 2 for dual profiles */
    float *lut;       /* W x H x {dx, dy, dz, ox, oy, oz}, column-major like the packets */
};

/* ---- little-endian loads (no struct casts over packet bytes) -------------------------------- */

static inline uint16_t ld16(const uint8_t *p) { return (uint16_t)(p[0] | (unsigned)p[1] << 8); }
static inline uint32_t ld32(const uint8_t *p) {
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}
static inline uint64_t ld64(const uint8_t *p) { return (uint64_t)ld32(p + 4) << 32 | ld32(p); }

const char *vxs_ouster_profile_name(vxs_ouster_profile_t p) {
    switch (p) {
    case VXS_OUSTER_LEGACY: return "LEGACY";
    case VXS_OUSTER_RNG19_RFL8_SIG16_NIR16: return "RNG19_RFL8_SIG16_NIR16";
    case VXS_OUSTER_RNG19_RFL8_SIG16_NIR16_DUAL: return "RNG19_RFL8_SIG16_NIR16_DUAL";
    case VXS_OUSTER_RNG15_RFL8_NIR8: return "RNG15_RFL8_NIR8";
    case VXS_OUSTER_FUSA_RNG15_RFL8_NIR8_DUAL: return "FUSA_RNG15_RFL8_NIR8_DUAL";
    }
    return "unknown";
}

/* ---- metadata JSON -------------------------------------------------------------------------- */

/* A key path: `sec` is the enclosing object of the nested/flat form (NULL = top level). */
typedef struct {
    const char *sec;
    const char *key;
} jpath_t;

typedef struct {
    json_t *root;
    const char *name;
    char *err;
    size_t err_len;
    bool nested;
} jctx_t;

#define NPATHS(a) (sizeof(a) / sizeof((a)[0]))

static void path_text(char *buf, size_t len, const jpath_t *p) {
    if (p->sec)
        vxsi_fmt(buf, len, "$.%s.%s", p->sec, p->key);
    else
        vxsi_fmt(buf, len, "$.%s", p->key);
}

static vxs_status_t jfail(const jctx_t *c, vxs_status_t st, const jpath_t *p, const char *what) {
    char path[96];
    path_text(path, sizeof path, p);
    vxsi_fmt(c->err, c->err_len, "%s: %s: %s", c->name, path, what);
    return st;
}

/* jfind returns the value at the first of `paths` present (null counts as absent), and which
 * path matched in *hit. A section that is present but not an object is an error of its own. */
static vxs_status_t jfind(const jctx_t *c, const jpath_t *paths, size_t n, json_t **out,
                          const jpath_t **hit) {
    *out = NULL;
    *hit = NULL;
    for (size_t i = 0; i < n; i++) {
        json_t *obj = c->root;
        if (paths[i].sec) {
            obj = json_object_get(c->root, paths[i].sec);
            if (!obj || json_is_null(obj)) continue;
            if (!json_is_object(obj)) {
                jpath_t sec = {NULL, paths[i].sec};
                return jfail(c, VXS_E_MALFORMED, &sec, "expected an object");
            }
        }
        json_t *v = json_object_get(obj, paths[i].key);
        if (v && !json_is_null(v)) {
            *out = v;
            *hit = &paths[i];
            return VXS_OK;
        }
    }
    return VXS_OK;
}

/* The path to name when a required field is missing: the nested spelling for nested files. */
static const jpath_t *missing_path(const jctx_t *c, const jpath_t *paths, size_t n) {
    return c->nested ? &paths[0] : &paths[n - 1];
}

/* jint reads an integer in [lo, hi]; *present says whether it was there at all. A real number
 * with an integral value is accepted (some tools write 1024.0). */
static vxs_status_t jint(const jctx_t *c, const jpath_t *paths, size_t n, int64_t lo, int64_t hi,
                         int64_t *out, bool *present) {
    json_t *v;
    const jpath_t *hit;
    VXS_FORWARD(jfind(c, paths, n, &v, &hit));
    *present = v != NULL;
    if (!v) return VXS_OK;
    int64_t x;
    if (json_is_integer(v)) {
        x = (int64_t)json_integer_value(v);
    } else if (json_is_real(v) && fabs(json_real_value(v)) < 9e15 &&
               json_real_value(v) == floor(json_real_value(v))) {
        x = (int64_t)json_real_value(v);
    } else {
        return jfail(c, VXS_E_MALFORMED, hit, "expected an integer");
    }
    if (x < lo || x > hi) {
        char what[96];
        vxsi_fmt(what, sizeof what, "%lld outside %lld..%lld", (long long)x, (long long)lo,
                 (long long)hi);
        return jfail(c, VXS_E_MALFORMED, hit, what);
    }
    *out = x;
    return VXS_OK;
}

static vxs_status_t jnum(const jctx_t *c, const jpath_t *paths, size_t n, double *out,
                         bool *present) {
    json_t *v;
    const jpath_t *hit;
    VXS_FORWARD(jfind(c, paths, n, &v, &hit));
    *present = v != NULL;
    if (!v) return VXS_OK;
    if (!json_is_number(v)) return jfail(c, VXS_E_MALFORMED, hit, "expected a number");
    *out = json_number_value(v);
    return VXS_OK;
}

static vxs_status_t jstr(const jctx_t *c, const jpath_t *paths, size_t n, const char **out,
                         const jpath_t **hit) {
    json_t *v;
    VXS_FORWARD(jfind(c, paths, n, &v, hit));
    *out = NULL;
    if (!v) return VXS_OK;
    if (!json_is_string(v)) return jfail(c, VXS_E_MALFORMED, *hit, "expected a string");
    *out = json_string_value(v);
    return VXS_OK;
}

/* jarray reads an array of numbers. want > 0: exactly that many; else 1..max, count in *count.
 * Absent: *count = 0. */
static vxs_status_t jarray(const jctx_t *c, const jpath_t *paths, size_t n, double *out,
                           size_t want, size_t max, size_t *count) {
    json_t *v;
    const jpath_t *hit;
    VXS_FORWARD(jfind(c, paths, n, &v, &hit));
    *count = 0;
    if (!v) return VXS_OK;
    if (!json_is_array(v)) return jfail(c, VXS_E_MALFORMED, hit, "expected an array of numbers");
    size_t len = json_array_size(v);
    if ((want && len != want) || (!want && (len == 0 || len > max))) {
        char what[96];
        if (want)
            vxsi_fmt(what, sizeof what, "expected %zu numbers, found %zu", want, len);
        else
            vxsi_fmt(what, sizeof what, "expected 1..%zu numbers, found %zu", max, len);
        return jfail(c, VXS_E_MALFORMED, hit, what);
    }
    for (size_t i = 0; i < len; i++) {
        json_t *e = json_array_get(v, i);
        if (!json_is_number(e)) {
            char what[64];
            vxsi_fmt(what, sizeof what, "element %zu: expected a number", i);
            return jfail(c, VXS_E_MALFORMED, hit, what);
        }
        out[i] = json_number_value(e);
        if (!isfinite(out[i])) return jfail(c, VXS_E_MALFORMED, hit, "number out of range");
    }
    *count = len;
    return VXS_OK;
}

/* Key paths, nested spelling first (sensor_info.cpp to_json_string), then the flat one
 * (json_calibration_version 4 and the reduced legacy form). */
static const jpath_t P_ALT[] = {{"beam_intrinsics", "beam_altitude_angles"},
                                {NULL, "beam_altitude_angles"}};
static const jpath_t P_AZI[] = {{"beam_intrinsics", "beam_azimuth_angles"},
                                {NULL, "beam_azimuth_angles"}};
static const jpath_t P_ORIGIN[] = {{"beam_intrinsics", "lidar_origin_to_beam_origin_mm"},
                                   {NULL, "lidar_origin_to_beam_origin_mm"}};
static const jpath_t P_B2L[] = {{"beam_intrinsics", "beam_to_lidar_transform"},
                                {NULL, "beam_to_lidar_transform"}};
static const jpath_t P_L2S[] = {{"lidar_intrinsics", "lidar_to_sensor_transform"},
                                {NULL, "lidar_to_sensor_transform"}};
static const jpath_t P_MODE[] = {{"config_params", "lidar_mode"}, {NULL, "lidar_mode"}};
static const jpath_t P_W[] = {{"lidar_data_format", "columns_per_frame"},
                              {"data_format", "columns_per_frame"}};
static const jpath_t P_CPP[] = {{"lidar_data_format", "columns_per_packet"},
                                {"config_params", "columns_per_packet"},
                                {"data_format", "columns_per_packet"}};
static const jpath_t P_H[] = {{"lidar_data_format", "pixels_per_column"},
                              {"data_format", "pixels_per_column"}};
static const jpath_t P_WINDOW[] = {{"lidar_data_format", "column_window"},
                                   {"data_format", "column_window"}};
static const jpath_t P_PROFILE[] = {{"lidar_data_format", "udp_profile_lidar"},
                                    {"config_params", "udp_profile_lidar"},
                                    {"data_format", "udp_profile_lidar"}};
static const jpath_t P_HEADER[] = {{"lidar_data_format", "header_type"},
                                   {"config_params", "header_type"},
                                   {"data_format", "header_type"}};
static const jpath_t P_PORT_L[] = {{"config_params", "udp_port_lidar"}, {NULL, "udp_port_lidar"}};
static const jpath_t P_PORT_I[] = {{"config_params", "udp_port_imu"}, {NULL, "udp_port_imu"}};
static const jpath_t P_SN[] = {{"sensor_info", "prod_sn"}, {NULL, "prod_sn"}};
static const jpath_t P_LINE[] = {{"sensor_info", "prod_line"}, {NULL, "prod_line"}};
static const jpath_t P_INIT[] = {{"sensor_info", "initialization_id"},
                                 {NULL, "initialization_id"}};

/* parse_mode reads the columns of a lidar_mode "WxF" ("1024x10"); 0 if it is not that form. */
static uint32_t parse_mode(const char *s) {
    uint32_t w = 0;
    size_t i = 0;
    while (s[i] >= '0' && s[i] <= '9' && w <= OS_MAX_W) w = w * 10 + (uint32_t)(s[i++] - '0');
    if (i == 0 || s[i] != 'x' || s[i + 1] < '1' || s[i + 1] > '9') return 0;
    for (i += 1; s[i] >= '0' && s[i] <= '9'; i++) {
    }
    return s[i] == '\0' ? w : 0;
}

static bool profile_from_name(const char *s, vxs_ouster_profile_t *out) {
    for (int p = VXS_OUSTER_LEGACY; p <= VXS_OUSTER_FUSA_RNG15_RFL8_NIR8_DUAL; p++) {
        if (strcmp(s, vxs_ouster_profile_name((vxs_ouster_profile_t)p)) == 0) {
            *out = (vxs_ouster_profile_t)p;
            return true;
        }
    }
    return false;
}

/* Packet geometry from parsing.cpp PacketFormat::Impl. */
static void set_layout(vxs_ouster_meta_t *m) {
    static const size_t px[] = {12, 12, 16, 4, 8};
    bool legacy = m->info.profile == VXS_OUSTER_LEGACY;
    m->pkt_header = legacy ? 0 : 32;
    m->col_header = legacy ? 16 : 12;
    m->px_size = px[m->info.profile];
    m->col_size = m->col_header + m->info.pixels_per_column * m->px_size + (legacy ? 4 : 0);
    m->info.lidar_packet_size =
        m->pkt_header + m->info.columns_per_packet * m->col_size + (legacy ? 0 : 32);
    m->returns = (m->info.profile == VXS_OUSTER_RNG19_RFL8_SIG16_NIR16_DUAL ||
                  m->info.profile == VXS_OUSTER_FUSA_RNG15_RFL8_NIR8_DUAL)
                     ? 2
                     : 1;
}

/* build_lut evaluates xyzlut.cpp make_xyz_lut for every (column, row). `b2l` is the
 * beam_to_lidar transform (mm), `l2s` lidar_to_sensor (mm), both row-major 4x4. */
static vxs_status_t build_lut(vxs_ouster_meta_t *m, const double *alt, const double *azi,
                              const double *b2l, const double *l2s) {
    const uint32_t w = m->info.columns_per_frame, h = m->info.pixels_per_column;
    m->lut = vxs_calloc((size_t)w * h * 6, sizeof(float));
    VXS_RETURN_IF(!m->lut, VXS_E_NOMEM);
    /* The beam origin sits off the lidar axis by b2l(0,3) radially; a z offset, when present,
     * lengthens the lever arm the range is measured along (xyzlut.cpp). */
    const double bx = b2l[3], bz = b2l[11];
    const double arm = bz != 0.0 ? sqrt(bx * bx + bz * bz) : bx;
    const double two_pi = 2.0 * M_PI;
    float *L = m->lut;
    for (uint32_t col = 0; col < w; col++) {
        const double enc = two_pi - (double)col * two_pi / (double)w;
        for (uint32_t r = 0; r < h; r++, L += 6) {
            const double a = enc - azi[r] * M_PI / 180.0, phi = alt[r] * M_PI / 180.0;
            const double d[3] = {cos(a) * cos(phi), sin(a) * cos(phi), sin(phi)};
            const double o[3] = {cos(enc) * bx - d[0] * arm, sin(enc) * bx - d[1] * arm,
                                 -d[2] * arm + bz};
            for (int i = 0; i < 3; i++) {
                const double *row = l2s + 4 * i;
                double dr = row[0] * d[0] + row[1] * d[1] + row[2] * d[2];
                double of = row[0] * o[0] + row[1] * o[1] + row[2] * o[2] + row[3];
                L[i] = (float)(dr * 0.001);
                L[3 + i] = (float)(of * 0.001);
            }
        }
    }
    return VXS_OK;
}

static vxs_status_t parse_meta(vxs_ouster_meta_t *m, const jctx_t *c) {
    vxs_ouster_info_t *info = &m->info;
    bool have;
    int64_t v;
    const char *s;
    const jpath_t *hit;

    /* Product line first: the beam origin default depends on it. */
    VXS_FORWARD(jstr(c, P_LINE, NPATHS(P_LINE), &s, &hit));
    if (s) vxsi_fmt(info->prod_line, sizeof info->prod_line, "%s", s);

    /* prod_sn is a decimal string in every form ouster-sdk writes; accept an integer too. */
    json_t *sn;
    VXS_FORWARD(jfind(c, P_SN, NPATHS(P_SN), &sn, &hit));
    if (sn && json_is_integer(sn) && json_integer_value(sn) >= 0) {
        info->prod_sn = (uint64_t)json_integer_value(sn);
    } else if (sn && json_is_string(sn)) {
        const char *t = json_string_value(sn);
        for (size_t i = 0; t[i]; i++) {
            if (t[i] < '0' || t[i] > '9' || i >= 19)
                return jfail(c, VXS_E_MALFORMED, hit, "expected a decimal serial number");
            info->prod_sn = info->prod_sn * 10 + (uint64_t)(t[i] - '0');
        }
    } else if (sn) {
        return jfail(c, VXS_E_MALFORMED, hit, "expected a decimal serial number");
    }
    VXS_FORWARD(jint(c, P_INIT, NPATHS(P_INIT), 0, 0xFFFFFF, &v, &have));
    if (have) info->init_id = (uint32_t)v;
    VXS_FORWARD(jint(c, P_PORT_L, NPATHS(P_PORT_L), 0, 65535, &v, &have));
    if (have) info->udp_port_lidar = (uint16_t)v;
    VXS_FORWARD(jint(c, P_PORT_I, NPATHS(P_PORT_I), 0, 65535, &v, &have));
    if (have) info->udp_port_imu = (uint16_t)v;

    /* Profile: absent means LEGACY (metadata written before profiles existed). */
    info->profile = VXS_OUSTER_LEGACY;
    VXS_FORWARD(jstr(c, P_PROFILE, NPATHS(P_PROFILE), &s, &hit));
    if (s && !profile_from_name(s, &info->profile)) {
        char what[96];
        vxsi_fmt(what, sizeof what, "unsupported lidar profile \"%.60s\"", s);
        return jfail(c, VXS_E_UNSUPPORTED, hit, what);
    }
    /* header_type came with firmware 3.2; before it the FUSA profile implied the FUSA header
     * (metadata.cpp parse_and_validate_data_format). LEGACY has no packet header at all. */
    m->fusa = info->profile == VXS_OUSTER_FUSA_RNG15_RFL8_NIR8_DUAL;
    VXS_FORWARD(jstr(c, P_HEADER, NPATHS(P_HEADER), &s, &hit));
    if (s) {
        if (strcmp(s, "FUSA") == 0)
            m->fusa = info->profile != VXS_OUSTER_LEGACY;
        else if (strcmp(s, "STANDARD") == 0)
            m->fusa = false;
        else
            return jfail(c, VXS_E_UNSUPPORTED, hit, "unsupported header type");
    }

    /* Columns per frame: the data format, else the lidar mode (reduced form). */
    uint32_t mode_w = 0;
    VXS_FORWARD(jstr(c, P_MODE, NPATHS(P_MODE), &s, &hit));
    if (s) {
        mode_w = parse_mode(s);
        if (mode_w == 0 || mode_w > OS_MAX_W)
            return jfail(c, VXS_E_MALFORMED, hit, "expected a lidar mode like \"1024x10\"");
    }
    VXS_FORWARD(jint(c, P_W, NPATHS(P_W), 1, OS_MAX_W, &v, &have));
    if (have)
        info->columns_per_frame = (uint32_t)v;
    else if (mode_w)
        info->columns_per_frame = mode_w;
    else
        return jfail(c, VXS_E_MALFORMED, missing_path(c, P_W, NPATHS(P_W)),
                     "missing (and no lidar_mode to take it from)");

    VXS_FORWARD(jint(c, P_CPP, NPATHS(P_CPP), 1, info->columns_per_frame, &v, &have));
    /* default_data_format's 16, but never more columns than the frame has */
    info->columns_per_packet = have ? (uint32_t)v
                                    : (info->columns_per_frame < 16 ? info->columns_per_frame : 16);

    /* Beam angles: required; their count is H when the data format does not say. */
    double alt[OS_MAX_H], azi[OS_MAX_H];
    size_t n_alt, n_azi;
    VXS_FORWARD(jarray(c, P_ALT, NPATHS(P_ALT), alt, 0, OS_MAX_H, &n_alt));
    if (n_alt == 0) return jfail(c, VXS_E_MALFORMED, missing_path(c, P_ALT, 2), "missing");
    VXS_FORWARD(jint(c, P_H, NPATHS(P_H), 1, OS_MAX_H, &v, &have));
    info->pixels_per_column = have ? (uint32_t)v : (uint32_t)n_alt;
    if (n_alt != info->pixels_per_column) {
        VXS_FORWARD(jfind(c, P_ALT, NPATHS(P_ALT), &sn, &hit));
        char what[96];
        vxsi_fmt(what, sizeof what, "%zu angles for %u pixels per column", n_alt,
                 info->pixels_per_column);
        return jfail(c, VXS_E_MALFORMED, hit, what);
    }
    VXS_FORWARD(jarray(c, P_AZI, NPATHS(P_AZI), azi, info->pixels_per_column, 0, &n_azi));
    if (n_azi == 0) return jfail(c, VXS_E_MALFORMED, missing_path(c, P_AZI, 2), "missing");

    double win[2];
    size_t n_win;
    VXS_FORWARD(jarray(c, P_WINDOW, NPATHS(P_WINDOW), win, 2, 0, &n_win));
    info->column_first = 0;
    info->column_last = info->columns_per_frame - 1;
    if (n_win) {
        for (int i = 0; i < 2; i++) {
            if (win[i] < 0 || win[i] >= info->columns_per_frame || win[i] != floor(win[i])) {
                VXS_FORWARD(jfind(c, P_WINDOW, NPATHS(P_WINDOW), &sn, &hit));
                return jfail(c, VXS_E_MALFORMED, hit, "column outside the frame");
            }
        }
        info->column_first = (uint32_t)win[0];
        info->column_last = (uint32_t)win[1];
    }

    set_layout(m);
    if (info->lidar_packet_size > OS_MAX_PACKET)
        return jfail(c, VXS_E_MALFORMED, missing_path(c, P_CPP, NPATHS(P_CPP)),
                     "lidar packet would exceed 65535 bytes");

    /* Geometry defaults: ouster-sdk sensor_info.cpp default_lidar_origin_to_beam_origin and
     * DEFAULT_LIDAR_TO_SENSOR; beam_to_lidar defaults to a pure x offset of the beam origin. */
    double origin = OS_GEN1_BEAM_ORIGIN_MM;
    if (strncmp(info->prod_line, "OS-0-", 5) == 0) origin = 27.67;
    if (strncmp(info->prod_line, "OS-1-", 5) == 0) origin = 15.806;
    if (strncmp(info->prod_line, "OS-2-", 5) == 0) origin = 13.762;
    VXS_FORWARD(jnum(c, P_ORIGIN, NPATHS(P_ORIGIN), &origin, &have));
    double b2l[16] = {1, 0, 0, origin, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1};
    size_t n16;
    VXS_FORWARD(jarray(c, P_B2L, NPATHS(P_B2L), b2l, 16, 0, &n16));
    double l2s[16] = {-1, 0, 0, 0, 0, -1, 0, 0, 0, 0, 1, OS_LIDAR_TO_SENSOR_Z_MM, 0, 0, 0, 1};
    VXS_FORWARD(jarray(c, P_L2S, NPATHS(P_L2S), l2s, 16, 0, &n16));

    return build_lut(m, alt, azi, b2l, l2s);
}

vxs_status_t vxs_ouster_meta_parse(vxs_ouster_meta_t **out, const char *json, size_t len,
                                   const char *name, char *err, size_t err_len) {
    VXS_RETURN_IF(!out, VXS_E_ARG);
    *out = NULL;
    if (err && err_len) err[0] = '\0';
    if (!name) name = "metadata";
    VXS_RETURN_IF(!json && len, VXS_E_ARG);

    json_error_t jerr;
    json_t *root = json_loadb(json ? json : "", len, JSON_REJECT_DUPLICATES, &jerr);
    if (!root) {
        vxsi_fmt(err, err_len, "%s: line %d column %d: %s", name, jerr.line, jerr.column,
                 jerr.text);
        return VXS_E_MALFORMED;
    }
    if (!json_is_object(root)) {
        json_decref(root);
        vxsi_fmt(err, err_len, "%s: $: expected an object", name);
        return VXS_E_MALFORMED;
    }
    jctx_t c = {root, name, err, err_len, false};
    /* The nested form is recognized by any of its sections (metadata.cpp requires them all,
     * but a partial file still says where its keys are). */
    static const char *const sections[] = {"sensor_info",   "beam_intrinsics", "lidar_data_format",
                                           "config_params", "lidar_intrinsics", "data_format"};
    for (size_t i = 0; i < sizeof sections / sizeof sections[0]; i++) {
        json_t *sec = json_object_get(root, sections[i]);
        if (sec && !json_is_object(sec) && !json_is_null(sec)) {
            json_decref(root);
            vxsi_fmt(err, err_len, "%s: $.%s: expected an object", name, sections[i]);
            return VXS_E_MALFORMED;
        }
        if (sec && i < 5) c.nested = true;
    }

    vxs_ouster_meta_t *m = vxs_calloc(1, sizeof *m);
    vxs_status_t st = VXS_E_NOMEM;
    if (m) st = parse_meta(m, &c);
    json_decref(root);
    if (st != VXS_OK) {
        if (st == VXS_E_NOMEM) vxsi_fmt(err, err_len, "%s: out of memory", name);
        vxs_ouster_meta_destroy(m);
        return st;
    }
    *out = m;
    return VXS_OK;
}

vxs_status_t vxs_ouster_meta_load(vxs_ouster_meta_t **out, const char *path, char *err,
                                  size_t err_len) {
    VXS_RETURN_IF(!out || !path, VXS_E_ARG);
    *out = NULL;
    FILE *f = fopen(path, "rb");
    if (!f) {
        vxsi_fmt(err, err_len, "%s: cannot open: %s", path, strerror(errno));
        return VXS_E_IO;
    }
    char *buf = NULL;
    size_t len = 0;
    vxs_status_t st = VXS_OK;
    buf = vxs_malloc(OS_MAX_FILE + 1);
    if (!buf) {
        st = VXS_E_NOMEM;
        vxsi_fmt(err, err_len, "%s: out of memory", path);
        goto end;
    }
    len = fread(buf, 1, OS_MAX_FILE + 1, f);
    if (ferror(f)) {
        st = VXS_E_IO;
        vxsi_fmt(err, err_len, "%s: read error", path);
        goto end;
    }
    if (len > OS_MAX_FILE) {
        st = VXS_E_LIMIT;
        vxsi_fmt(err, err_len, "%s: larger than %u bytes: not Ouster metadata", path,
                 OS_MAX_FILE);
        goto end;
    }
    st = vxs_ouster_meta_parse(out, buf, len, path, err, err_len);
end:
    vxs_free(buf);
    fclose(f);
    return st;
}

void vxs_ouster_meta_destroy(vxs_ouster_meta_t *m) {
    if (!m) return;
    vxs_free(m->lut);
    vxs_free(m);
}

void vxs_ouster_meta_get_info(const vxs_ouster_meta_t *m, vxs_ouster_info_t *out) {
    if (!out) return;
    if (!m) {
        memset(out, 0, sizeof *out);
        return;
    }
    *out = m->info;
}

/* ---- lidar packets -------------------------------------------------------------------------- */

/* col_valid reads a column's status: LEGACY keeps an all-ones word after the pixels, the
 * profiles bit 0 of the u16 after measurement_id. */
static inline bool col_valid(const vxs_ouster_meta_t *m, const uint8_t *col) {
    if (m->info.profile == VXS_OUSTER_LEGACY) return ld32(col + m->col_size - 4) == 0xFFFFFFFFu;
    return (ld16(col + 10) & 1u) != 0;
}

vxs_status_t vxs_ouster_parse_header(vxs_ouster_header_t *out, const vxs_ouster_meta_t *m,
                                     const uint8_t *pkt, size_t len) {
    VXS_RETURN_IF(!out || !m, VXS_E_ARG);
    memset(out, 0, sizeof *out);
    VXS_RETURN_IF(!pkt || len != m->info.lidar_packet_size, VXS_E_MALFORMED);
    const bool legacy = m->info.profile == VXS_OUSTER_LEGACY;
    if (!legacy && m->fusa) {
        out->init_id = ld32(pkt) >> 8;
        out->frame_id = ld32(pkt + 4);
        out->prod_sn = ld64(pkt + 11) & 0xFFFFFFFFFFull;
    } else if (!legacy) {
        /* packet_type 1 = lidar data: anything else is a packet of another stream or the
         * wrong metadata, whose pixels would decode to nonsense. */
        VXS_RETURN_IF(ld16(pkt) != 1, VXS_E_MALFORMED);
        out->frame_id = ld16(pkt + 2);
        out->init_id = ld32(pkt + 4) & 0xFFFFFFu;
        out->prod_sn = ld64(pkt + 7) & 0xFFFFFFFFFFull;
    }
    const uint8_t *col = pkt + m->pkt_header;
    for (uint32_t i = 0; i < m->info.columns_per_packet; i++, col += m->col_size) {
        if (legacy && i == 0) out->frame_id = ld16(col + 10);
        if (!col_valid(m, col)) continue;
        const uint64_t ts = ld64(col);
        const uint16_t mid = ld16(col + 8);
        VXS_RETURN_IF(mid >= m->info.columns_per_frame, VXS_E_MALFORMED);
        /* points carry int64 times: a timestamp past that is a corrupt column */
        VXS_RETURN_IF(ts > (uint64_t)INT64_MAX, VXS_E_MALFORMED);
        if (legacy) {
            const uint16_t fid = ld16(col + 10);
            if (out->columns_valid == 0)
                out->frame_id = fid;
            else
                VXS_RETURN_IF(fid != out->frame_id, VXS_E_MALFORMED);
        }
        if (out->columns_valid == 0) {
            out->mid_first = mid;
            out->ts_first = ts;
        }
        out->mid_last = mid;
        out->ts_last = ts;
        out->columns_valid++;
    }
    return VXS_OK;
}

/* put writes one point; `tmpl` carries the column's time, azimuth and return flag. */
static inline vxs_point_t *put(vxs_point_t *dst, const vxs_point_t *tmpl, uint32_t range_mm,
                               const float *L, uint8_t refl, uint32_t row) {
    const float r = (float)range_mm;
    *dst = *tmpl;
    dst->x = r * L[0] + L[3];
    dst->y = r * L[1] + L[4];
    dst->z = r * L[2] + L[5];
    dst->intensity = (float)refl;
    dst->laser = (uint16_t)row;
    return dst + 1;
}

vxs_status_t vxs_ouster_decode(const vxs_ouster_meta_t *m, vxs_points_t *out, const uint8_t *pkt,
                               size_t len) {
    VXS_RETURN_IF(!m || !out, VXS_E_ARG);
    vxs_ouster_header_t h;
    VXS_FORWARD(vxs_ouster_parse_header(&h, m, pkt, len));
    if (h.columns_valid == 0) return VXS_OK;
    const uint32_t H = m->info.pixels_per_column, W = m->info.columns_per_frame;
    const size_t most = (size_t)h.columns_valid * H * m->returns;
    VXS_RETURN_IF(out->len > SIZE_MAX - most, VXS_E_NOMEM);
    VXS_FORWARD(vxs_points_reserve(out, out->len + most));

    vxs_point_t *dst = out->pts + out->len;
    const uint8_t *col = pkt + m->pkt_header;
    for (uint32_t i = 0; i < m->info.columns_per_packet; i++, col += m->col_size) {
        if (!col_valid(m, col)) continue;
        const uint16_t mid = ld16(col + 8);
        vxs_point_t t1, t2;
        memset(&t1, 0, sizeof t1);
        t1.t_ns = (int64_t)ld64(col);
        t1.azimuth = (uint16_t)((uint32_t)mid * 36000u / W);
        t1.ret = VXS_RET_STRONGEST;
        t2 = t1;
        t2.ret = VXS_RET_SECOND;
        const float *L = m->lut + (size_t)mid * H * 6;
        const uint8_t *px = col + m->col_header;
        switch (m->info.profile) {
        case VXS_OUSTER_LEGACY:
            for (uint32_t r = 0; r < H; r++, px += 12, L += 6) {
                const uint32_t rng = ld32(px) & 0xFFFFFu;
                if (rng) dst = put(dst, &t1, rng, L, px[4], r);
            }
            break;
        case VXS_OUSTER_RNG19_RFL8_SIG16_NIR16:
            for (uint32_t r = 0; r < H; r++, px += 12, L += 6) {
                const uint32_t rng = ld32(px) & 0x7FFFFu;
                if (rng) dst = put(dst, &t1, rng, L, px[4], r);
            }
            break;
        case VXS_OUSTER_RNG19_RFL8_SIG16_NIR16_DUAL:
            for (uint32_t r = 0; r < H; r++, px += 16, L += 6) {
                const uint32_t r1 = ld32(px) & 0x7FFFFu, r2 = ld32(px + 4) & 0x7FFFFu;
                if (r1) dst = put(dst, &t1, r1, L, px[3], r);
                if (r2) dst = put(dst, &t2, r2, L, px[7], r);
            }
            break;
        case VXS_OUSTER_RNG15_RFL8_NIR8:
            for (uint32_t r = 0; r < H; r++, px += 4, L += 6) {
                const uint32_t rng = (uint32_t)(ld16(px) & 0x7FFFu) << 3;
                if (rng) dst = put(dst, &t1, rng, L, px[2], r);
            }
            break;
        case VXS_OUSTER_FUSA_RNG15_RFL8_NIR8_DUAL:
            for (uint32_t r = 0; r < H; r++, px += 8, L += 6) {
                const uint32_t r1 = (uint32_t)(ld16(px) & 0x7FFFu) << 3;
                const uint32_t r2 = (uint32_t)(ld16(px + 4) & 0x7FFFu) << 3;
                if (r1) dst = put(dst, &t1, r1, L, px[2], r);
                if (r2) dst = put(dst, &t2, r2, L, px[6], r);
            }
            break;
        }
    }
    out->len = (size_t)(dst - out->pts);
    return VXS_OK;
}

/* pixel_ranges returns the first return's range field of a pixel (0 = no return) and the
 * second's in *r2 (0 for single-return profiles), unscaled: only zero matters to the count. */
static inline uint32_t pixel_ranges(vxs_ouster_profile_t p, const uint8_t *px, uint32_t *r2) {
    *r2 = 0;
    switch (p) {
    case VXS_OUSTER_LEGACY: return ld32(px) & 0xFFFFFu;
    case VXS_OUSTER_RNG19_RFL8_SIG16_NIR16: return ld32(px) & 0x7FFFFu;
    case VXS_OUSTER_RNG19_RFL8_SIG16_NIR16_DUAL:
        *r2 = ld32(px + 4) & 0x7FFFFu;
        return ld32(px) & 0x7FFFFu;
    case VXS_OUSTER_RNG15_RFL8_NIR8: return ld16(px) & 0x7FFFu;
    case VXS_OUSTER_FUSA_RNG15_RFL8_NIR8_DUAL:
        *r2 = ld16(px + 4) & 0x7FFFu;
        return ld16(px) & 0x7FFFu;
    }
    return 0;
}

uint32_t vxs_ouster_count_points(const vxs_ouster_meta_t *m, uint8_t *ret_bits,
                                 const uint8_t *pkt, size_t len) {
    vxs_ouster_header_t h;
    if (!m || vxs_ouster_parse_header(&h, m, pkt, len) != VXS_OK) return 0;
    uint32_t n1 = 0, n2 = 0;
    const uint8_t *col = pkt + m->pkt_header;
    for (uint32_t i = 0; i < m->info.columns_per_packet; i++, col += m->col_size) {
        if (!col_valid(m, col)) continue;
        const uint8_t *px = col + m->col_header;
        for (uint32_t r = 0; r < m->info.pixels_per_column; r++, px += m->px_size) {
            uint32_t r2;
            n1 += pixel_ranges(m->info.profile, px, &r2) != 0;
            n2 += r2 != 0;
        }
    }
    if (ret_bits) *ret_bits |= (uint8_t)((n1 ? VXS_RET_STRONGEST : 0) | (n2 ? VXS_RET_SECOND : 0));
    return n1 + n2;
}

/* ---- IMU ------------------------------------------------------------------------------------ */

static float ldf32(const uint8_t *p) {
    const uint32_t u = ld32(p);
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}

vxs_status_t vxs_ouster_parse_imu(vxs_ouster_imu_t *out, const uint8_t *pkt, size_t len) {
    VXS_RETURN_IF(!out, VXS_E_ARG);
    memset(out, 0, sizeof *out);
    VXS_RETURN_IF(!pkt || len != 48, VXS_E_MALFORMED);
    /* sys_ts, accel_ts, gyro_ts u64; accel x,y,z f32 (g); gyro x,y,z f32 (deg/s) */
    out->sys_ts = ld64(pkt);
    out->accel_ts = ld64(pkt + 8);
    out->gyro_ts = ld64(pkt + 16);
    for (int i = 0; i < 3; i++) {
        out->accel_g[i] = ldf32(pkt + 24 + 4 * i);
        out->gyro_dps[i] = ldf32(pkt + 36 + 4 * i);
    }
    return VXS_OK;
}
