/*
 * velodyne.c: Velodyne data and position packets (vxs_lidar.h section 1).
 *
 * specification: the manufacturers' user manuals (VLP-16 63-9243 Rev. E §9; Puck Hi-Res
 * 63-9318; VLP-32C 63-9325 Rev. B §9; HDL-32E 63-9113 and application note 63-9277 Rev. D;
 * HDL-64E S2 / S3 manuals; VLS-128 63-9480), summarized with the public decoders' choices in
 * ../shared/specs/lidar-packet-formats.md §1-2.
 *
 * Data packet, 1206 bytes (all little-endian):
 *
 *   0          2        4                                   100
 *   +----------+--------+-----------------------------------+  x 12 blocks
 *   | flag FFEE| az u16 | 32 x (distance u16, intensity u8) |
 *   +----------+--------+-----------------------------------+
 *   1200: usec_toh u32 | 1204: return mode | 1205: product id
 *
 * Speed: every per-laser and per-(block, channel) quantity is precomputed at create time
 * (trigonometry of the vertical angle, rotation correction in 0.01 degree, firing-time offsets
 * in ns, the azimuth-interpolation fraction), azimuth sine/cosine come from a 36000-entry table
 * indexed in integer 0.01 degree (as ROS and nebula round it), the inner loop is float, and the
 * model is resolved once into a function pointer.
 */
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vxs_core_int.h"
#include "vxs_lidar.h"

/* A VLS-128 dual-return packet holds one firing sequence, so the packet alone gives no
 * azimuth step to interpolate with. Without the next packet's azimuth the step of one 53.3 µs
 * sequence at the nominal 600 rpm is used (0.19 degree), the same in every pass: decoding stays
 * a function of the packet, so an index pass and a later fetch agree. */
#define VLS128_NOMINAL_STEP (36000.0f * 10.0f * 53.3e-6f)
#define AZ_UNITS 36000
#define BLOCKS 12
#define CHANNELS 32
#define POS_USEC_AT 198
#define POS_PPS_AT 202
#define POS_NMEA_AT 206
#define POS_NMEA_MAX 128

/* ---- models -------------------------------------------------------------------------- */

static const char *const k_model_names[VXS_VELO_MODEL_COUNT_] = {
    "auto", "VLP-16", "Puck-Hi-Res", "VLP-32C", "HDL-32E", "HDL-64E-S2", "HDL-64E-S3", "VLS-128",
};

const char *vxs_velo_model_name(vxs_velo_model_t m) {
    if ((int)m < 0 || m >= VXS_VELO_MODEL_COUNT_) return "auto";
    return k_model_names[m];
}

/* norm_name lowercases `s` into `out` without dashes, underscores and spaces. */
static void norm_name(char *out, size_t out_len, const char *s) {
    size_t n = 0;
    for (; *s && n + 1 < out_len; s++) {
        char c = *s;
        if (c == '-' || c == '_' || c == ' ') continue;
        if (c >= 'A' && c <= 'Z') c = (char)(c - 'A' + 'a');
        out[n++] = c;
    }
    out[n] = '\0';
}

vxs_status_t vxs_velo_model_parse(vxs_velo_model_t *out, const char *name) {
    static const struct {
        const char *name;
        vxs_velo_model_t m;
    } k_alias[] = {
        {"auto", VXS_VELO_AUTO},        {"vlp16", VXS_VELO_VLP16},
        {"pucklite", VXS_VELO_VLP16},   {"puckhires", VXS_VELO_PUCK_HIRES},
        {"vlp16hires", VXS_VELO_PUCK_HIRES}, {"vlp32c", VXS_VELO_VLP32C},
        {"vlp32", VXS_VELO_VLP32C},     {"hdl32e", VXS_VELO_HDL32E},
        {"hdl32", VXS_VELO_HDL32E},     {"hdl64es2", VXS_VELO_HDL64E_S2},
        {"hdl64es21", VXS_VELO_HDL64E_S2}, {"hdl64es3", VXS_VELO_HDL64E_S3},
        {"vls128", VXS_VELO_VLS128},    {"alphaprime", VXS_VELO_VLS128},
    };
    char buf[32];
    VXS_RETURN_IF(out == NULL || name == NULL, VXS_E_ARG);
    norm_name(buf, sizeof buf, name);
    for (size_t i = 0; i < sizeof k_alias / sizeof k_alias[0]; i++)
        if (strcmp(buf, k_alias[i].name) == 0) {
            *out = k_alias[i].m;
            return VXS_OK;
        }
    return VXS_E_ARG;
}

vxs_velo_model_t vxs_velo_model_from_product(uint8_t product) {
    switch (product) {
    case 0x21: return VXS_VELO_HDL32E;
    case 0x22: return VXS_VELO_VLP16;
    case 0x23: return VXS_VELO_VLP32C; /* VLP-32A/B share the VLP-32C layout */
    case 0x24: return VXS_VELO_PUCK_HIRES;
    case 0x28: return VXS_VELO_VLP32C;
    case 0xA1: return VXS_VELO_VLS128;
    default: return VXS_VELO_AUTO;
    }
}

int vxs_velo_model_lasers(vxs_velo_model_t m) {
    switch (m) {
    case VXS_VELO_VLP16:
    case VXS_VELO_PUCK_HIRES: return 16;
    case VXS_VELO_VLP32C:
    case VXS_VELO_HDL32E: return 32;
    case VXS_VELO_HDL64E_S2:
    case VXS_VELO_HDL64E_S3: return 64;
    case VXS_VELO_VLS128: return 128;
    default: return 0;
    }
}

static bool is_hdl64(vxs_velo_model_t m) {
    return m == VXS_VELO_HDL64E_S2 || m == VXS_VELO_HDL64E_S3;
}

/* ---- header --------------------------------------------------------------------------- */

static uint16_t le16(const uint8_t *p) { return (uint16_t)(p[0] | (unsigned)p[1] << 8); }
static uint32_t le32(const uint8_t *p) {
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* bank_of maps a block flag to its bank of 32 lasers (0xEEFF 0, 0xDDFF 1, 0xCCFF 2, 0xBBFF 3),
 * -1 for anything else. */
static int bank_of(uint16_t flag) {
    switch (flag) {
    case 0xEEFF: return 0;
    case 0xDDFF: return 1;
    case 0xCCFF: return 2;
    case 0xBBFF: return 3;
    default: return -1;
    }
}

/* blocks_in_use: VLS-128 dual return fills blocks 0-7 and pads 8-11 (ROS/FG
 * `blockCount = 12 - 4*dual`), so the padding is neither checked nor decoded. */
static int blocks_in_use(uint8_t return_mode, uint8_t product) {
    return (product == 0xA1 && return_mode == 0x39) ? 8 : BLOCKS;
}

vxs_status_t vxs_velo_parse_header(vxs_velo_header_t *out, const uint8_t *pkt, size_t len) {
    VXS_RETURN_IF(out == NULL, VXS_E_ARG);
    VXS_RETURN_IF(pkt == NULL || len != VXS_VELO_PACKET_SIZE, VXS_E_MALFORMED);
    int nb = blocks_in_use(pkt[1204], pkt[1205]);
    for (int b = 0; b < nb; b++) {
        VXS_RETURN_IF(bank_of(le16(pkt + 100 * b)) < 0, VXS_E_MALFORMED);
        VXS_RETURN_IF(le16(pkt + 100 * b + 2) >= AZ_UNITS, VXS_E_MALFORMED);
    }
    out->usec_toh = le32(pkt + 1200);
    out->return_mode = pkt[1204];
    out->product = pkt[1205];
    out->blocks = (uint8_t)nb;
    out->az_first = le16(pkt + 2);
    out->az_last = le16(pkt + 100 * (nb - 1) + 2);
    return VXS_OK;
}

/* ---- firing times -------------------------------------------------------------------- */

/* firing_us returns the firing time of (block b, channel c) after the packet timestamp, in µs,
 * and through *frac the fraction of the azimuth step of its firing group (the blocks sharing
 * one azimuth reading) at which the laser fired. Sources per model:
 *
 * VLP-16 / Puck Hi-Res (VLP-16 manual §9.7, Table 9-2): a block holds two firing sequences of
 * 16 lasers, 2.304 µs apart, one sequence every 55.296 µs. In dual return the two blocks of a
 * pair hold the two returns of the SAME two sequences, so the row is 2*(b/2), not 2*b.
 *
 * VLP-32C (VLP-32C manual §9, firing timing table): lasers fire in pairs, 2.304 µs apart,
 * 55.296 µs per sequence: 55.296*b + 2.304*(c/2); dual pairs share b/2.
 *
 * HDL-32E (HDL-32E application note 63-9277 Rev. D, p. 20; user's manual "Firing timing"): the
 * 32 lasers fire one after another every 1.152 µs, and a firing cycle including the recharge
 * (9.216 µs) lasts 46.08 µs, so laser c of block b fires at 46.08*b + 1.152*c. ROS rawdata.cc
 * uses 1.152*floor(c/2), which would pair lasers the way the VLP-32C fires; the HDL-32E never
 * fires two at once. foxglove's Calibration.ts divides c/2 in floating point, the same half
 * rate. velodyne_decoder follows the application note, as we do.
 *
 * HDL-64E S2 / S3 (velodyne_decoder packet_decoder.cpp after the HDL-64E S2 and S3 manuals'
 * timing tables; spec §1.2): upper and lower blocks of a pair fire together; S2 48 µs per cycle,
 * groups of 4 lasers 6 µs apart with {0, 1.26, 2.46, 3.66} µs inside a group; S3 57.6 / 7.2 /
 * {0, 1.3, 2.5, 3.7}.
 *
 * VLS-128 (VLS-128 User Manual 63-9483 Rev A §9.4, p. 61: "FiringGroupIndex = (DataPointIndex
 * / 8) + (DataPointIndex / 64)", "ExactPointTime = Timestamp + TimeOffset - 8.7"; §9.5, p. 64:
 * the block's azimuth is "the azimuth reported at the moment the first firing group of 8 lasers
 * in the sequence was fired", to be interpolated over the 53.3 µs sequence at constant speed; the
 * same as nebula's and ROS's timing tables): four blocks (banks) of one azimuth reading are one
 * sequence of 53.3 µs
 * = 20 slots of 2.665 µs; laser l belongs to firing group g = l/8 (8 lasers fire at once), fired
 * in slot g + g/8 (a maintenance slot between groups 7 and 8); the timestamp is taken 8.7 µs
 * after the first firing. The reading is the azimuth at the sequence's first firing, so the
 * laser's azimuth is that fraction (slot / 20) of the step to the next sequence's reading
 * (VXS_VELO_AZ_FIRING; nebula and ROS interpolate over the step to the next *block*, which is
 * 0 inside a sequence: VXS_VELO_AZ_BLOCK_STEP, set in decode_common). Dual return: one sequence
 * per packet, both returns share its times. */
static double firing_us(vxs_velo_model_t model, bool dual, int b, int c, double *frac) {
    double t = 0, f = 0;
    switch (model) {
    case VXS_VELO_VLP16:
    case VXS_VELO_PUCK_HIRES: {
        int row = dual ? 2 * (b / 2) : 2 * b;
        t = 55.296 * (row + c / 16) + 2.304 * (c % 16);
        f = (55.296 * (c / 16) + 2.304 * (c % 16)) / 110.592;
        break;
    }
    case VXS_VELO_VLP32C:
        t = 55.296 * (dual ? b / 2 : b) + 2.304 * (c / 2);
        f = 2.304 * (c / 2) / 55.296;
        break;
    case VXS_VELO_HDL32E:
        t = 46.08 * (dual ? b / 2 : b) + 1.152 * c;
        f = 1.152 * c / 46.08;
        break;
    case VXS_VELO_HDL64E_S2: {
        static const double k_in[4] = {0, 1.26, 2.46, 3.66};
        double in = 6.0 * (c / 4) + k_in[c % 4];
        t = 48.0 * (b / 2) + in;
        f = in / 48.0;
        break;
    }
    case VXS_VELO_HDL64E_S3: {
        static const double k_in[4] = {0, 1.3, 2.5, 3.7};
        double in = 7.2 * (c / 4) + k_in[c % 4];
        t = 57.6 * (b / 2) + in;
        f = in / 57.6;
        break;
    }
    case VXS_VELO_VLS128: {
        int laser = (b % 4) * 32 + c, g = laser / 8, slot = g + g / 8;
        int seq = dual ? 0 : b / 4;
        t = 53.3 * seq + 2.665 * slot - 8.7;
        f = 2.665 * slot / 53.3;
        break;
    }
    default: break;
    }
    if (frac) *frac = f;
    return t;
}

int64_t vxs_velo_firing_offset_ns(vxs_velo_model_t model, uint8_t return_mode, int block,
                                  int channel) {
    if (block < 0 || block >= BLOCKS || channel < 0 || channel >= CHANNELS) return 0;
    bool dual = return_mode == 0x39 && !is_hdl64(model);
    return (int64_t)llround(firing_us(model, dual, block, channel, NULL) * 1000.0);
}

/* ---- decoder -------------------------------------------------------------------------- */

typedef struct {
    float cos_v, sin_v;
    float rot_cdeg; /* rotation correction, 0.01 degree, in [-18000, 18000) */
    float dist_corr, vert_off, horiz_off;
    /* HDL-64E only */
    float dcx, dcy, focal_offset, focal_slope, min_i, max_i;
    bool two_pt;
} laser_t;

/* layout_t is how one packet's blocks group, computed per packet from model + return mode. */
typedef struct {
    int nb;         /* blocks in use */
    int group;      /* blocks per azimuth reading (firing group) */
    int pair_xor;   /* dual: partner block = b ^ pair_xor (0: single) */
    int dual;
    uint8_t ret;    /* flag of single-return points */
} layout_t;

struct vxs_velo;
typedef void (*decode_fn)(const struct vxs_velo *v, const layout_t *lay, const uint8_t *pkt,
                          const float *az, const float *step, const vxs_time_t *t_block,
                          vxs_point_t *out, size_t *n);

struct vxs_velo {
    vxs_velo_model_t model;
    vxs_velo_azimuth_t az_mode;
    bool ready;
    bool have_calib;
    vxs_velo_calib_t calib;
    float min_range, max_range;
    float dist_res;
    int lasers;
    char errmsg[192]; /* why the tables could not be built (first packet, model AUTO) */
    decode_fn fn;      /* points with XYZ */
    decode_fn scan_fn; /* the same points without XYZ (index pass) */
    uint8_t lmap[CHANNELS];           /* channel -> laser within a bank */
    laser_t laser[VXS_VELO_MAX_LASERS];
    int32_t toff[2][BLOCKS][CHANNELS]; /* [dual][block][channel], ns */
    float frac[2][BLOCKS][CHANNELS];
    /* cos and sin of every 0.01 degree side by side: one cache line per lookup, not two
     * (the table does not fit L1, so the lookup is the inner loop's main stall). Shared by
     * every decoder: see az_table. */
    const float (*cs_az)[2];
};

/* The azimuth table depends on nothing but AZ_UNITS: it is built once per process (288 kB and
 * 72000 sin/cos), not once per decoder, so a reader creating a decoder per stream, per fetch
 * or per packet pays nothing for it. */
static float g_cs_az[AZ_UNITS][2];
static pthread_once_t g_cs_az_once = PTHREAD_ONCE_INIT;

static void az_table_build(void) {
    for (int i = 0; i < AZ_UNITS; i++) {
        /* the angle is computed in double from the integer, so table entries are exact to
         * float rounding, as ROS's and nebula's tables */
        double a = i * (M_PI / 18000.0);
        g_cs_az[i][0] = (float)cos(a);
        g_cs_az[i][1] = (float)sin(a);
    }
}

static const float (*az_table(void))[2] {
    (void)pthread_once(&g_cs_az_once, az_table_build);
    return (const float (*)[2])g_cs_az;
}

static void decode_generic(const vxs_velo_t *v, const layout_t *lay, const uint8_t *pkt,
                           const float *az, const float *step, const vxs_time_t *t_block,
                           vxs_point_t *out, size_t *n_io);
static void decode_hdl64(const vxs_velo_t *v, const layout_t *lay, const uint8_t *pkt,
                         const float *az, const float *step, const vxs_time_t *t_block,
                         vxs_point_t *out, size_t *n_io);
static void scan_generic(const vxs_velo_t *v, const layout_t *lay, const uint8_t *pkt,
                         const float *az, const float *step, const vxs_time_t *t_block,
                         vxs_point_t *out, size_t *n_io);
static void scan_hdl64(const vxs_velo_t *v, const layout_t *lay, const uint8_t *pkt,
                       const float *az, const float *step, const vxs_time_t *t_block,
                       vxs_point_t *out, size_t *n_io);

/* setup builds every table for `model` with `calib` (NULL: built-in default). */
static vxs_status_t setup(vxs_velo_t *v, vxs_velo_model_t model, char *err, size_t err_len) {
    int need = vxs_velo_model_lasers(model);
    VXS_RETURN_IF(need == 0, VXS_E_UNSUPPORTED);
    if (!v->have_calib) {
        vxs_status_t st = vxs_velo_calib_default(&v->calib, model);
        if (st != VXS_OK) {
            vxsi_fmt(err, err_len, "velodyne: no built-in calibration for %s: pass one",
                     vxs_velo_model_name(model));
            return st;
        }
    }
    if (v->calib.num_lasers != need) {
        vxsi_fmt(err, err_len, "velodyne: calibration has %d lasers, %s needs %d",
                 v->calib.num_lasers, vxs_velo_model_name(model), need);
        return VXS_E_ARG;
    }
    v->model = model;
    v->lasers = need;
    double res = v->calib.distance_resolution;
    /* ROS's VLS128.yaml says 0.007 m, but the sensor's unit is 4 mm (ROS's and foxglove's code
     * hard-code 0.004 and ignore the file): for the VLS-128 the model's unit wins. */
    if (!(res > 0 && res < 1) || model == VXS_VELO_VLS128)
        res = (model == VXS_VELO_VLP32C || model == VXS_VELO_VLS128) ? 0.004 : 0.002;
    v->dist_res = (float)res;
    for (int c = 0; c < CHANNELS; c++)
        v->lmap[c] = (uint8_t)((model == VXS_VELO_VLP16 || model == VXS_VELO_PUCK_HIRES) ? c % 16
                                                                                          : c);
    for (int i = 0; i < need; i++) {
        const vxs_velo_laser_calib_t *k = &v->calib.laser[i];
        laser_t *l = &v->laser[i];
        l->cos_v = (float)cos(k->vert_correction);
        l->sin_v = (float)sin(k->vert_correction);
        double rc = fmod(k->rot_correction * 18000.0 / M_PI, 36000.0);
        if (!isfinite(rc)) rc = 0;
        if (rc >= 18000) rc -= 36000;
        if (rc < -18000) rc += 36000;
        l->rot_cdeg = (float)rc;
        l->dist_corr = (float)k->dist_correction;
        l->vert_off = (float)k->vert_offset;
        l->horiz_off = (float)k->horiz_offset;
        l->dcx = (float)k->dist_correction_x;
        l->dcy = (float)k->dist_correction_y;
        l->two_pt = k->dist_correction_x != 0 || k->dist_correction_y != 0;
        double fo = 1.0 - k->focal_distance / 13100.0;
        l->focal_offset = (float)(256.0 * fo * fo);
        l->focal_slope = (float)k->focal_slope;
        l->min_i = (float)k->min_intensity;
        l->max_i = k->max_intensity > 0 ? (float)k->max_intensity : 255.0f;
    }
    for (int d = 0; d < 2; d++)
        for (int b = 0; b < BLOCKS; b++)
            for (int c = 0; c < CHANNELS; c++) {
                double f = 0;
                double us = firing_us(model, d != 0 && !is_hdl64(model), b, c, &f);
                v->toff[d][b][c] = (int32_t)llround(us * 1000.0);
                v->frac[d][b][c] = (float)f;
            }
    v->fn = is_hdl64(model) ? decode_hdl64 : decode_generic;
    v->scan_fn = is_hdl64(model) ? scan_hdl64 : scan_generic;
    v->ready = true;
    return VXS_OK;
}


vxs_status_t vxs_velo_create(vxs_velo_t **out, const vxs_velo_config_t *cfg, char *err,
                             size_t err_len) {
    if (err && err_len) err[0] = '\0';
    VXS_RETURN_IF(out == NULL || cfg == NULL, VXS_E_ARG);
    *out = NULL;
    if ((int)cfg->model < 0 || cfg->model >= VXS_VELO_MODEL_COUNT_) {
        vxsi_fmt(err, err_len, "velodyne: unknown model %d", (int)cfg->model);
        return VXS_E_ARG;
    }
    if (!(cfg->min_range_m >= 0) || !(cfg->max_range_m >= 0)) {
        vxsi_fmt(err, err_len, "velodyne: range limits must be >= 0");
        return VXS_E_ARG;
    }
    if (cfg->azimuth != VXS_VELO_AZ_FIRING && cfg->azimuth != VXS_VELO_AZ_BLOCK_STEP) {
        vxsi_fmt(err, err_len, "velodyne: unknown azimuth convention %d", (int)cfg->azimuth);
        return VXS_E_ARG;
    }
    vxs_velo_t *v = vxs_calloc(1, sizeof *v);
    VXS_RETURN_IF(v == NULL, VXS_E_NOMEM);
    v->cs_az = az_table();
    v->min_range = (float)cfg->min_range_m;
    v->max_range = cfg->max_range_m > 0 ? (float)cfg->max_range_m : INFINITY;
    v->model = cfg->model;
    v->az_mode = cfg->azimuth;
    if (cfg->calib) {
        v->calib = *cfg->calib;
        v->have_calib = true;
        if (v->calib.num_lasers <= 0 || v->calib.num_lasers > VXS_VELO_MAX_LASERS) {
            vxsi_fmt(err, err_len, "velodyne: calibration has %d lasers", v->calib.num_lasers);
            vxs_free(v);
            return VXS_E_ARG;
        }
    }
    if (cfg->model != VXS_VELO_AUTO) {
        vxs_status_t st = setup(v, cfg->model, err, err_len);
        if (st != VXS_OK) {
            vxs_free(v);
            return st == VXS_E_UNSUPPORTED ? VXS_E_ARG : st;
        }
    }
    *out = v;
    return VXS_OK;
}

void vxs_velo_destroy(vxs_velo_t *v) { vxs_free(v); }

const char *vxs_velo_errmsg(const vxs_velo_t *v) { return v ? v->errmsg : ""; }

vxs_velo_model_t vxs_velo_get_model(const vxs_velo_t *v) { return v ? v->model : VXS_VELO_AUTO; }

/* make_layout says how the packet's blocks group for the decoder's model. */
static vxs_status_t make_layout(const vxs_velo_t *v, uint8_t mode, layout_t *lay) {
    memset(lay, 0, sizeof *lay);
    bool hdl64 = is_hdl64(v->model);
    if (!hdl64) {
        VXS_RETURN_IF(mode != 0x37 && mode != 0x38 && mode != 0x39, VXS_E_MALFORMED);
        lay->dual = mode == 0x39;
    }
    lay->ret = (!hdl64 && mode == 0x38) ? VXS_RET_LAST : VXS_RET_STRONGEST;
    lay->nb = BLOCKS;
    switch (v->model) {
    case VXS_VELO_VLS128:
        lay->group = lay->dual ? 8 : 4;
        lay->pair_xor = lay->dual ? 4 : 0;
        lay->nb = lay->dual ? 8 : BLOCKS;
        break;
    case VXS_VELO_HDL64E_S2:
    case VXS_VELO_HDL64E_S3: lay->group = 2; break;
    default:
        lay->group = lay->dual ? 2 : 1;
        lay->pair_xor = lay->dual ? 1 : 0;
        break;
    }
    return VXS_OK;
}

/* expected_bank is the bank block b must carry: VLS-128 EE,DD,CC,BB repeating; HDL-64E upper /
 * lower alternating; the others upper only. */
static int expected_bank(vxs_velo_model_t m, int b) {
    if (m == VXS_VELO_VLS128) return b % 4;
    if (is_hdl64(m)) return b % 2;
    return 0;
}

static vxs_status_t decode_common(vxs_velo_t *v, vxs_points_t *out, const uint8_t *pkt,
                                  size_t len, vxs_time_t t_packet, int next_az,
                                  const vxs_velo_next_t *next, vxs_velo_jump_t *jump, bool xyz) {
    if (jump) {
        memset(jump, 0, sizeof *jump);
        jump->block = -1;
    }
    VXS_RETURN_IF(v == NULL || out == NULL, VXS_E_ARG);
    VXS_RETURN_IF(pkt == NULL || len != VXS_VELO_PACKET_SIZE, VXS_E_MALFORMED);
    uint8_t mode = pkt[1204], product = pkt[1205];
    if (!v->ready) {
        vxs_velo_model_t m = v->model;
        if (m == VXS_VELO_AUTO) m = vxs_velo_model_from_product(product);
        VXS_RETURN_IF(m == VXS_VELO_AUTO, VXS_E_UNSUPPORTED);
        VXS_FORWARD(setup(v, m, v->errmsg, sizeof v->errmsg));
    }
    if (!is_hdl64(v->model)) {
        vxs_velo_model_t pm = vxs_velo_model_from_product(product);
        VXS_RETURN_IF(pm != VXS_VELO_AUTO && pm != v->model, VXS_E_UNSUPPORTED);
    }
    layout_t lay;
    VXS_FORWARD(make_layout(v, mode, &lay));

    float az[BLOCKS], step[BLOCKS];
    for (int b = 0; b < lay.nb; b++) {
        VXS_RETURN_IF(bank_of(le16(pkt + 100 * b)) != expected_bank(v->model, b),
                      VXS_E_MALFORMED);
        VXS_RETURN_IF(le16(pkt + 100 * b + 2) >= AZ_UNITS, VXS_E_MALFORMED);
    }
    /* Each firing group's azimuth step to the next group: the interpolation base. The last
     * group uses the next packet's first azimuth when known, else the previous step (ROS's and
     * nebula's "RPM doesn't change much" rule). */
    int ng = lay.nb / lay.group;
    float gaz[BLOCKS], gstep[BLOCKS];
    for (int g = 0; g < ng; g++) gaz[g] = (float)le16(pkt + 100 * g * lay.group + 2);
    for (int g = 0; g + 1 < ng; g++) gstep[g] = fmodf(gaz[g + 1] - gaz[g] + AZ_UNITS, AZ_UNITS);
    if (next_az >= 0 && next_az < AZ_UNITS)
        gstep[ng - 1] = fmodf((float)next_az - gaz[ng - 1] + AZ_UNITS, AZ_UNITS);
    else
        gstep[ng - 1] = ng > 1 ? gstep[ng - 2] : VLS128_NOMINAL_STEP;
    /* A step far larger than the packet's typical one is not rotation but a jump: a sensor
     * with a limited field of view stops firing and resumes ~180 degrees later, inside one
     * packet. Interpolating across it would scatter the firings before the jump over the gap
     * (and wrap the last block's past the next turn when the jump is the last step, which ROS's
     * "previous step" rule does). Such steps take the packet's median step instead. The first
     * such step between two groups of this packet is the jump reported (jg: the group after). */
    float med = 0;
    int jg = -1;
    if (ng > 2) {
        float sorted[BLOCKS];
        int m = ng - 1; /* the last step is a copy or the next packet's: not part of the vote */
        for (int g = 0; g < m; g++) sorted[g] = gstep[g];
        for (int i = 1; i < m; i++)
            for (int j = i; j > 0 && sorted[j - 1] > sorted[j]; j--) {
                float t = sorted[j];
                sorted[j] = sorted[j - 1];
                sorted[j - 1] = t;
            }
        med = sorted[m / 2];
        for (int g = 0; g < ng; g++)
            if (gstep[g] > 4.0f * med + 10.0f) {
                if (jg < 0 && g + 1 < ng) jg = g + 1;
                gstep[g] = med;
            }
    }
    /* Time base of each block: the packet's, but a whole pause later after a jump when the
     * next packet says how long the pause was (vxs_lidar.h, "Limited field of view"). The
     * firing grid runs on through the pause, so the pause is a whole number N of group periods
     * G (rounded from shift = t_next - t_packet - ng G) and group g >= jg fired (N + g) / (N + ng)
     * of the way from this packet's first firing to the next packet's. Interpolating so between
     * the two timestamps is the shift of the manual's offsets (shift = N G) on a clock that runs
     * at the nominal rate, and stays exact on one that drifts (the offsets are nominal: over the
     * up to 1.3 ms from a block to the next packet, 60 ppm would put it 80 ns late). */
    int64_t group_ns = 0, dt = 0, npause = -1;
    if (jg >= 0 && next && next->t != VXS_TIME_NONE && next->az >= 0 && next->az < AZ_UNITS &&
        med >= 1.0f) {
        float last = fmodf((float)next->az - gaz[ng - 1] + AZ_UNITS, AZ_UNITS);
        /* the group period, from the firing table: group 1's first firing after group 0's */
        group_ns = (int64_t)v->toff[lay.dual][lay.group][0] - v->toff[lay.dual][0][0];
        double turn_ns = (double)AZ_UNITS / med * (double)group_ns;
        if (group_ns > 0 && last <= 4.0f * med + 10.0f &&
            !__builtin_sub_overflow(next->t, t_packet, &dt)) {
            int64_t sh = dt - (int64_t)ng * group_ns;
            if (sh > 0 && (double)sh < turn_ns) npause = llround((double)sh / (double)group_ns);
        }
    }
    /* VXS_VELO_AZ_BLOCK_STEP (vxs_lidar.h): ROS's and nebula's step to the next block, which
     * for the VLS-128 is the step to the next sequence for its last bank (0xBBFF) and 0 for the
     * other banks, whose next block shares the reading, and for the packet's last block. */
    const bool block_step = v->az_mode == VXS_VELO_AZ_BLOCK_STEP && v->model == VXS_VELO_VLS128;
    vxs_time_t tb[BLOCKS];
    for (int b = 0; b < lay.nb; b++) {
        int64_t g = b / lay.group;
        az[b] = gaz[g];
        step[b] = gstep[g];
        if (block_step && (b % lay.group != lay.group - 1 || g + 1 >= ng)) step[b] = 0;
        tb[b] = t_packet;
        if (npause >= 0 && g >= jg) tb[b] += (npause + g) * dt / (npause + ng) - g * group_ns;
    }
    if (jump && jg >= 0) {
        jump->block = jg * lay.group;
        jump->az_stop = (uint16_t)gaz[jg - 1];
        jump->az_resume = (uint16_t)gaz[jg];
        jump->step = (uint16_t)lroundf(med);
        jump->shift_ns = tb[jump->block] - t_packet;
    }

    VXS_FORWARD(vxs_points_reserve(out, out->len + (size_t)lay.nb * CHANNELS));
    size_t n = 0;
    (xyz ? v->fn : v->scan_fn)(v, &lay, pkt, az, step, tb, out->pts + out->len, &n);
    out->len += n;
    return VXS_OK;
}

vxs_status_t vxs_velo_decode(vxs_velo_t *v, vxs_points_t *out, const uint8_t *pkt, size_t len,
                             vxs_time_t t_packet, int next_az) {
    return decode_common(v, out, pkt, len, t_packet, next_az, NULL, NULL, true);
}

vxs_status_t vxs_velo_scan(vxs_velo_t *v, vxs_points_t *out, const uint8_t *pkt, size_t len,
                           vxs_time_t t_packet) {
    /* Same azimuth interpolation as vxs_velo_decode with next_az unknown, so that the index
     * pass and a fetch (which both pass -1) agree point for point. */
    return decode_common(v, out, pkt, len, t_packet, -1, NULL, NULL, false);
}

vxs_status_t vxs_velo_decode_next(vxs_velo_t *v, vxs_points_t *out, const uint8_t *pkt,
                                  size_t len, vxs_time_t t_packet, int next_az,
                                  const vxs_velo_next_t *next, vxs_velo_jump_t *jump) {
    return decode_common(v, out, pkt, len, t_packet, next_az, next, jump, true);
}

vxs_status_t vxs_velo_scan_next(vxs_velo_t *v, vxs_points_t *out, const uint8_t *pkt, size_t len,
                                vxs_time_t t_packet, const vxs_velo_next_t *next,
                                vxs_velo_jump_t *jump) {
    return decode_common(v, out, pkt, len, t_packet, -1, next, jump, false);
}

#if defined(__GNUC__)
#define VXS_INLINE static inline __attribute__((always_inline))
#else
#define VXS_INLINE static inline
#endif

/* generic_body: VLP-16, Puck Hi-Res, VLP-32C, HDL-32E, VLS-128. XYZ by spec §1.1 (ROS
 * rawdata.cc compute_xyz): α = azimuth - rot_correction, ω = vertical angle,
 *   xy = d cosω - vo sinω;  vx = xy sinα - ho cosα;  vy = xy cosα + ho sinα;  z = d sinω + vo cosω
 * in Velodyne's frame (y forward, x right), output (vy, -vx, z) = x forward, y left, z up. */
VXS_INLINE void generic_body(const vxs_velo_t *v, const layout_t *lay, const uint8_t *pkt,
                             const float *az, const float *step, const vxs_time_t *t_block,
                             vxs_point_t *out, size_t *n_io, const bool xyz) {
    size_t n = *n_io;
    const float res = v->dist_res, rmin = v->min_range, rmax = v->max_range;
    for (int b = 0; b < lay->nb; b++) {
        const uint8_t *blk = pkt + 100 * b + 4;
        const uint8_t *other = lay->pair_xor ? pkt + 100 * (b ^ lay->pair_xor) + 4 : NULL;
        /* In a dual pair the first block holds the last return and the second the strongest
         * (second-strongest when the strongest is the last); the same echo shows up twice with
         * equal distance counts, and is emitted once, from the first block, with both flags. */
        const bool second = other && (b & lay->pair_xor);
        const uint8_t own_ret = other ? (second ? VXS_RET_STRONGEST : VXS_RET_LAST) : lay->ret;
        const int base = (v->model == VXS_VELO_VLS128) ? (b % 4) * 32 : 0;
        const float baz = az[b], bstep = step[b];
        const vxs_time_t tb = t_block[b]; /* the block's time base */
        const float *frac = v->frac[lay->dual][b];
        const int32_t *toff = v->toff[lay->dual][b];
        for (int c = 0; c < CHANNELS; c++) {
            const uint8_t *p = blk + 3 * c;
            unsigned raw = (unsigned)p[0] | (unsigned)p[1] << 8;
            if (raw == 0) continue;
            uint8_t ret = own_ret;
            if (other) {
                unsigned o = (unsigned)other[3 * c] | (unsigned)other[3 * c + 1] << 8;
                if (o == raw) {
                    if (second) continue;
                    ret = VXS_RET_LAST | VXS_RET_STRONGEST;
                } else if (o == 0) {
                    ret = VXS_RET_LAST | VXS_RET_STRONGEST;
                }
            }
            const int li = base + v->lmap[c];
            const laser_t *L = &v->laser[li];
            const float d = (float)raw * res + L->dist_corr;
            if (!(d > rmin && d < rmax)) continue;
            const float af = baz + bstep * frac[c];
            int fa = (int)(af + 0.5f);
            if (fa >= AZ_UNITS) fa -= AZ_UNITS;
            vxs_point_t *q = &out[n++];
            if (xyz) {
                const int ai = (int)(af - L->rot_cdeg + (float)AZ_UNITS + 0.5f) % AZ_UNITS;
                const float sa = v->cs_az[ai][1], ca = v->cs_az[ai][0];
                const float xy = d * L->cos_v - L->vert_off * L->sin_v;
                const float vx = xy * sa - L->horiz_off * ca;
                const float vy = xy * ca + L->horiz_off * sa;
                q->x = vy;
                q->y = -vx;
                q->z = d * L->sin_v + L->vert_off * L->cos_v;
            } else {
                q->x = q->y = q->z = 0.0f;
            }
            q->intensity = (float)p[2];
            q->t_ns = tb + toff[c];
            q->laser = (uint16_t)li;
            q->azimuth = (uint16_t)fa;
            q->ret = ret;
            q->reserved[0] = q->reserved[1] = q->reserved[2] = 0;
        }
    }
    *n_io = n;
}

/* decode_hdl64: HDL-64E S2/S3, upper block lasers 0-31, lower 32-63. Adds the two-point
 * distance correction (HDL-64E S2 manual, "Two-point calibration"; ROS rawdata.cc): the
 * correction is interpolated linearly between its value at 2.4 m (x) / 1.93 m (y) and the
 * far value dist_correction at 25.04 m, separately for x and y; and the intensity focal
 * correction (ROS rawdata.cc, foxglove computeIntensity):
 *   i += focal_slope * |256 (1 - focal_distance/13100)^2 - 256 (1 - raw/65535)^2|, clamped. */
VXS_INLINE void hdl64_body(const vxs_velo_t *v, const layout_t *lay, const uint8_t *pkt,
                           const float *az, const float *step, const vxs_time_t *t_block,
                           vxs_point_t *out, size_t *n_io, const bool xyz) {
    size_t n = *n_io;
    const float res = v->dist_res, rmin = v->min_range, rmax = v->max_range;
    for (int b = 0; b < lay->nb; b++) {
        const uint8_t *blk = pkt + 100 * b + 4;
        const int base = (b % 2) * 32;
        const float baz = az[b], bstep = step[b];
        const vxs_time_t tb = t_block[b];
        const float *frac = v->frac[0][b];
        const int32_t *toff = v->toff[0][b];
        for (int c = 0; c < CHANNELS; c++) {
            const uint8_t *p = blk + 3 * c;
            unsigned raw = (unsigned)p[0] | (unsigned)p[1] << 8;
            if (raw == 0) continue;
            const int li = base + c;
            const laser_t *L = &v->laser[li];
            const float d = (float)raw * res + L->dist_corr;
            if (!(d > rmin && d < rmax)) continue;
            const float af = baz + bstep * frac[c];
            int fa = (int)(af + 0.5f);
            if (fa >= AZ_UNITS) fa -= AZ_UNITS;
            vxs_point_t *q = &out[n++];
            if (!xyz) {
                q->x = q->y = q->z = 0.0f;
                q->intensity = (float)p[2];
            } else {
                const int ai = (int)(af - L->rot_cdeg + (float)AZ_UNITS + 0.5f) % AZ_UNITS;
                const float sa = v->cs_az[ai][1], ca = v->cs_az[ai][0];
                float dx = d, dy = d;
                if (L->two_pt) {
                    float xy = d * L->cos_v - L->vert_off * L->sin_v;
                    float xx = fabsf(xy * sa - L->horiz_off * ca);
                    float yy = fabsf(xy * ca + L->horiz_off * sa);
                    dx += (L->dist_corr - L->dcx) * (xx - 2.4f) / (25.04f - 2.4f) + L->dcx -
                          L->dist_corr;
                    dy += (L->dist_corr - L->dcy) * (yy - 1.93f) / (25.04f - 1.93f) + L->dcy -
                          L->dist_corr;
                }
                const float xyx = dx * L->cos_v - L->vert_off * L->sin_v;
                const float xyy = dy * L->cos_v - L->vert_off * L->sin_v;
                const float vx = xyx * sa - L->horiz_off * ca;
                const float vy = xyy * ca + L->horiz_off * sa;
                float s = 1.0f - (float)raw / 65535.0f;
                float inten = (float)p[2] + L->focal_slope * fabsf(L->focal_offset - 256.0f * s * s);
                if (inten < L->min_i) inten = L->min_i;
                if (inten > L->max_i) inten = L->max_i;
                q->x = vy;
                q->y = -vx;
                q->z = dy * L->sin_v + L->vert_off * L->cos_v;
                q->intensity = inten;
            }
            q->t_ns = tb + toff[c];
            q->laser = (uint16_t)li;
            q->azimuth = (uint16_t)fa;
            q->ret = lay->ret;
            q->reserved[0] = q->reserved[1] = q->reserved[2] = 0;
        }
    }
    *n_io = n;
}

static void decode_generic(const vxs_velo_t *v, const layout_t *lay, const uint8_t *pkt,
                           const float *az, const float *step, const vxs_time_t *t_block,
                           vxs_point_t *out, size_t *n_io) {
    generic_body(v, lay, pkt, az, step, t_block, out, n_io, true);
}
static void scan_generic(const vxs_velo_t *v, const layout_t *lay, const uint8_t *pkt,
                         const float *az, const float *step, const vxs_time_t *t_block,
                         vxs_point_t *out, size_t *n_io) {
    generic_body(v, lay, pkt, az, step, t_block, out, n_io, false);
}
static void decode_hdl64(const vxs_velo_t *v, const layout_t *lay, const uint8_t *pkt,
                         const float *az, const float *step, const vxs_time_t *t_block,
                         vxs_point_t *out, size_t *n_io) {
    hdl64_body(v, lay, pkt, az, step, t_block, out, n_io, true);
}
static void scan_hdl64(const vxs_velo_t *v, const layout_t *lay, const uint8_t *pkt,
                       const float *az, const float *step, const vxs_time_t *t_block,
                       vxs_point_t *out, size_t *n_io) {
    hdl64_body(v, lay, pkt, az, step, t_block, out, n_io, false);
}

/* ---- position packets ------------------------------------------------------------------ */

static int hexval(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
}

/* nmea_checksum_ok checks "$...*hh": the XOR of every character between '$' and '*'. */
static bool nmea_checksum_ok(const char *s, const char **out_star) {
    if (s[0] != '$') return false;
    unsigned x = 0;
    const char *p = s + 1;
    for (; *p && *p != '*'; p++) x ^= (unsigned char)*p;
    if (*p != '*') return false;
    int h = hexval(p[1]), l = hexval(p[2]);
    if (h < 0 || l < 0) return false;
    *out_star = p;
    return (unsigned)(h << 4 | l) == x;
}

/* field copies the i-th comma-separated field (0 = the sentence id) of the sentence body
 * [s, end) into buf; false if absent. */
static bool field(const char *s, const char *end, int i, char *buf, size_t buf_len) {
    const char *p = s;
    for (int k = 0; k < i; k++) {
        while (p < end && *p != ',') p++;
        if (p >= end) return false;
        p++;
    }
    size_t n = 0;
    while (p < end && *p != ',') {
        if (n + 1 >= buf_len) return false;
        buf[n++] = *p++;
    }
    buf[n] = '\0';
    return true;
}

/* digits parses exactly `n` decimal digits at s. */
static bool digits(const char *s, int n, int *out) {
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9') return false;
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return true;
}

/* decimal parses "123.4567" (no sign, no exponent) into *out. */
static bool decimal(const char *s, double *out) {
    double v = 0, scale = 1;
    bool any = false, dot = false;
    for (; *s; s++) {
        if (*s == '.' && !dot) {
            dot = true;
            continue;
        }
        if (*s < '0' || *s > '9') return false;
        any = true;
        if (dot) {
            scale /= 10;
            v += (*s - '0') * scale;
        } else {
            v = v * 10 + (*s - '0');
        }
    }
    *out = v;
    return any;
}

/* latlon parses NMEA "ddmm.mmmm" / "dddmm.mmmm" with hemisphere into degrees. */
static bool latlon(const char *val, const char *hemi, double *out) {
    double x;
    if (!val[0] || !decimal(val, &x)) return false;
    double deg = floor(x / 100.0);
    double min = x - deg * 100.0;
    if (min >= 60.0) return false;
    double r = deg + min / 60.0;
    if (hemi[0] == 'S' || hemi[0] == 'W') r = -r;
    else if (hemi[0] != 'N' && hemi[0] != 'E') return false;
    *out = r;
    return true;
}

static void parse_nmea(vxs_velo_position_t *out) {
    const char *star = NULL;
    const char *s = out->nmea;
    if (!nmea_checksum_ok(s, &star)) return;
    char id[16], a[32], b[32], c[32], d[32];
    if (!field(s, star, 0, id, sizeof id) || strlen(id) != 6) return;
    if (strcmp(id + 3, "RMC") == 0) {
        /* $GPRMC,hhmmss.ss,A,llll.ll,a,yyyyy.yy,a,speed,course,ddmmyy,... */
        if (field(s, star, 2, a, sizeof a)) out->rmc_valid = a[0] == 'A';
        if (field(s, star, 3, a, sizeof a) && field(s, star, 4, b, sizeof b) &&
            field(s, star, 5, c, sizeof c) && field(s, star, 6, d, sizeof d)) {
            double lat, lon;
            if (latlon(a, b, &lat) && latlon(c, d, &lon) && lat <= 90 && lon <= 180) {
                out->lat_deg = lat;
                out->lon_deg = lon;
            }
        }
        /* speed over ground (knots) and course over ground (degrees true); empty when the
         * receiver has none */
        if (field(s, star, 7, a, sizeof a) && field(s, star, 8, b, sizeof b) && a[0] && b[0]) {
            char *e1, *e2;
            const double kn = strtod(a, &e1), co = strtod(b, &e2);
            if (*e1 == '\0' && *e2 == '\0' && kn >= 0 && kn < 1000 && co >= 0 && co <= 360) {
                out->speed_mps = kn * (1852.0 / 3600.0);
                out->course_deg = co;
            }
        }
        int hh, mi, ss, dd, mo, yy;
        if (!field(s, star, 1, a, sizeof a) || !field(s, star, 9, b, sizeof b)) return;
        if (strlen(a) < 6 || !digits(a, 2, &hh) || !digits(a + 2, 2, &mi) ||
            !digits(a + 4, 2, &ss))
            return;
        int64_t frac_ns = 0;
        if (a[6] == '.') {
            int64_t scale = 100000000;
            for (const char *p = a + 7; *p; p++) {
                if (*p < '0' || *p > '9') return;
                frac_ns += (*p - '0') * scale;
                scale /= 10;
            }
        } else if (a[6] != '\0') {
            return;
        }
        if (strlen(b) != 6 || !digits(b, 2, &dd) || !digits(b + 2, 2, &mo) ||
            !digits(b + 4, 2, &yy))
            return;
        if (hh > 23 || mi > 59 || ss > 60 || dd < 1 || dd > 31 || mo < 1 || mo > 12) return;
        /* two-digit year: GPS receivers of these sensors postdate 1980 */
        int year = yy < 80 ? 2000 + yy : 1900 + yy;
        vxs_time_t t = vxs_time_from_civil(year, mo, dd, hh, mi, ss, frac_ns);
        if (t == VXS_TIME_NONE) return;
        out->rmc_time = t;
        out->has_rmc_time = true;
    } else if (strcmp(id + 3, "GGA") == 0) {
        /* $GPGGA,hhmmss.ss,llll.ll,a,yyyyy.yy,a,quality,... */
        if (field(s, star, 2, a, sizeof a) && field(s, star, 3, b, sizeof b) &&
            field(s, star, 4, c, sizeof c) && field(s, star, 5, d, sizeof d)) {
            double lat, lon;
            if (latlon(a, b, &lat) && latlon(c, d, &lon) && lat <= 90 && lon <= 180) {
                out->lat_deg = lat;
                out->lon_deg = lon;
            }
        }
    }
}

vxs_status_t vxs_velo_parse_position(vxs_velo_position_t *out, const uint8_t *pkt, size_t len) {
    VXS_RETURN_IF(out == NULL, VXS_E_ARG);
    VXS_RETURN_IF(pkt == NULL || len != VXS_VELO_POSITION_SIZE, VXS_E_MALFORMED);
    memset(out, 0, sizeof *out);
    out->lat_deg = NAN;
    out->lon_deg = NAN;
    out->speed_mps = NAN;
    out->course_deg = NAN;
    out->usec_toh = le32(pkt + POS_USEC_AT);
    out->pps = pkt[POS_PPS_AT];
    size_t n = 0;
    while (n < POS_NMEA_MAX && pkt[POS_NMEA_AT + n] != 0) n++;
    memcpy(out->nmea, pkt + POS_NMEA_AT, n);
    out->nmea[n] = '\0';
    /* strip the line end some firmware keeps */
    while (n > 0 && (out->nmea[n - 1] == '\r' || out->nmea[n - 1] == '\n')) out->nmea[--n] = '\0';
    parse_nmea(out);
    return VXS_OK;
}
