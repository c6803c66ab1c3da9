/*
 * velo_calib.c: Velodyne calibrations (vxs_lidar.h section 1): ROS velodyne_pointcloud and
 * nebula YAML through libyaml, Velodyne db.xml and MRPT's copy of it (a boost::serialization
 * XML archive) through expat, and built-in nominal calibrations.
 *
 * YAML (ROS velodyne_pointcloud calibration.cc, nebula velodyne_calibration_decoder.cpp):
 *   lasers: [{laser_id, rot_correction, vert_correction (rad), dist_correction,
 *             dist_correction_x/_y, vert_offset_correction, horiz_offset_correction (m),
 *             focal_distance, focal_slope, min_intensity, max_intensity}, ...]
 *   num_lasers: N          distance_resolution: m per count
 * db.xml (Velodyne's own file, MRPT mrpt_data *.xml): <DB><distLSB_> (cm per count),
 *   <enabled_> / <minIntensity_> / <maxIntensity_> lists of <item>, and <points_> with one
 *   <item><px> per laser: <id_>, <rotCorrection_>, <vertCorrection_> (degrees),
 *   <distCorrection_>, <distCorrectionX_/Y_>, <vertOffsetCorrection_>, <horizOffsetCorrection_>
 *   (cm), <focalDistance_>, <focalSlope_>. The archive always holds 64 <px>; the lasers in use
 *   are the enabled ones. Units were checked against the YAML files of the same models
 *   (mrpt_VLP-16.xml laser 0: vertCorrection_ -15 = VLP16.yaml -0.2618 rad). focalDistance_ is
 *   kept as written: ROS's intensity formula divides it by 13100 in the db.xml unit.
 */
#include <errno.h>
#include <expat.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "vxs_core_int.h"
#include "vxs_lidar.h"

#define MAX_CALIB_FILE (16u << 20) /* a 128-laser YAML is ~40 KB */

/* ---- built-in nominal calibrations ---------------------------------------------------- */

/* Vertical angles, degrees, by laser id. VLP-16: manual 63-9243 Table 9-1; Puck Hi-Res: manual
 * 63-9318 (±10°, 1.33° apart); HDL-32E: manual 63-9113 (-30.67..+10.67, 1.33° apart,
 * interleaved); VLP-32C: manual 63-9325 Table 9-1 with its azimuth offsets; VLS-128: manual
 * 63-9480 laser table (the values of nebula's VLS128.yaml). The built-in calibration uses
 * rot_correction = -azimuth offset, as ROS's and nebula's VLP-32C files do. */
static const double k_vlp16_vert[16] = {-15, 1, -13, 3, -11, 5, -9, 7, -7, 9, -5, 11, -3, 13, -1,
                                        15};
static const double k_hires_vert[16] = {-10,   0.67, -8.67, 2,  -7.33, 3.33, -6,   4.67,
                                        -4.67, 6,    -3.33, 7.33, -2,  8.67, -0.67, 10};
static const double k_hdl32_vert[32] = {
    -30.67, -9.33, -29.33, -8.00, -28.00, -6.67, -26.67, -5.33, -25.33, -4.00, -24.00,
    -2.67,  -22.67, -1.33, -21.33, 0.00,  -20.00, 1.33,  -18.67, 2.67,  -17.33, 4.00,
    -16.00, 5.33,  -14.67, 6.67,  -13.33, 8.00,  -12.00, 9.33,  -10.67, 10.67};
static const double k_vlp32_vert[32] = {
    -25,    -1,    -1.667, -15.639, -11.31, 0,      -0.667, -8.843, -7.254, 0.333, -0.333,
    -6.148, -5.333, 1.333, 0.667,   -4,     -4.667, 1.667,  1,      -3.667, -3.333, 3.333,
    2.333,  -2.667, -3,    7,       4.667,  -2.333, -2,     15,     10.333, -1.333};
static const double k_vlp32_azoff[32] = {1.4,  -4.2, 1.4,  -1.4, 1.4,  -1.4, 4.2, -1.4,
                                         1.4,  -4.2, 1.4,  -1.4, 4.2,  -1.4, 4.2, -1.4,
                                         1.4,  -4.2, 1.4,  -4.2, 4.2,  -1.4, 1.4, -1.4,
                                         1.4,  -1.4, 1.4,  -4.2, 4.2,  -1.4, 1.4, -1.4};
static const double k_vls128_vert[128] = {
    -11.742, -1.99,  3.4,   -5.29,   -0.78, 4.61,    -4.08, 1.31,  -6.5,  -1.11, 4.28,
    -4.41,   0.1,    6.48,  -3.2,    2.19,  -3.86,   1.53,  -9.244, -1.77, 2.74, -5.95,
    -0.56,   4.83,   -2.98, 2.41,    -6.28, -0.89,   3.62,  -5.07, 0.32,  7.58,  -0.34,
    5.18,    -3.64,  1.75,  -25,     -2.43, 2.96,    -5.73, 0.54,  9.7,   -2.76, 2.63,
    -7.65,   -1.55,  3.84,  -4.85,   3.18,  -5.51,   -0.12, 5.73,  -4.3,  1.09,  -16.042,
    -2.21,   4.06,   -4.63, 0.76,    15,    -3.42,   1.97,  -6.85, -1.33, -5.62, -0.23,
    5.43,    -3.53,  0.98,  -19.582, -2.32, 3.07,    -4.74, 0.65,  11.75, -2.65, 1.86,
    -7.15,   -1.44,  3.95,  -2.1,    3.29,  -5.4,    -0.01, 4.5,   -4.19, 1.2,   -13.565,
    -1.22,   4.17,   -4.52, 0.87,    6.08,  -3.31,   2.08,  -6.65, 1.42,  -10.346, -1.88,
    3.51,    -6.06,  -0.67, 4.72,    -3.97, 2.3,     -6.39, -1,    4.39,  -5.18, 0.21,
    6.98,    -3.09,  4.98,  -3.75,   1.64,  -8.352,  -2.54, 2.85,  -5.84, -0.45, 8.43,
    -2.87,   2.52,   -6.17, -1.66,   3.73,  -4.96,   0.43};
/* VLS-128 azimuth offsets repeat every 8 lasers (one firing group). */
static const double k_vls128_rot[8] = {-6.354, -4.548, -2.732, -0.911, 0.911, 2.732, 4.548, 6.354};

static double deg2rad(double d) { return d * (M_PI / 180.0); }

static void calib_clear(vxs_velo_calib_t *c) {
    memset(c, 0, sizeof *c);
    for (int i = 0; i < VXS_VELO_MAX_LASERS; i++) c->laser[i].max_intensity = 255;
}

vxs_status_t vxs_velo_calib_default(vxs_velo_calib_t *out, vxs_velo_model_t model) {
    VXS_RETURN_IF(out == NULL, VXS_E_ARG);
    const double *vert = NULL;
    int n = 0;
    switch (model) {
    case VXS_VELO_VLP16: vert = k_vlp16_vert; n = 16; break;
    case VXS_VELO_PUCK_HIRES: vert = k_hires_vert; n = 16; break;
    case VXS_VELO_VLP32C: vert = k_vlp32_vert; n = 32; break;
    case VXS_VELO_HDL32E: vert = k_hdl32_vert; n = 32; break;
    case VXS_VELO_VLS128: vert = k_vls128_vert; n = 128; break;
    default: return VXS_E_UNSUPPORTED; /* HDL-64E: per-unit calibration only; AUTO */
    }
    calib_clear(out);
    out->num_lasers = n;
    out->distance_resolution =
        (model == VXS_VELO_VLP32C || model == VXS_VELO_VLS128) ? 0.004 : 0.002;
    for (int i = 0; i < n; i++) {
        out->laser[i].vert_correction = deg2rad(vert[i]);
        if (model == VXS_VELO_VLP32C) out->laser[i].rot_correction = deg2rad(-k_vlp32_azoff[i]);
        if (model == VXS_VELO_VLS128) out->laser[i].rot_correction = deg2rad(k_vls128_rot[i % 8]);
    }
    return VXS_OK;
}

/* ---- shared helpers --------------------------------------------------------------------- */

/* parse_num parses a whole string as a finite double. */
static bool parse_num(const char *s, double *out) {
    char *end = NULL;
    while (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r') s++;
    if (!*s) return false;
    errno = 0;
    double v = strtod(s, &end);
    while (end && (*end == ' ' || *end == '\t' || *end == '\n' || *end == '\r')) end++;
    if (end == s || !end || *end != '\0' || !isfinite(v)) return false;
    *out = v;
    return true;
}

typedef struct {
    vxs_velo_calib_t *out;
    bool seen[VXS_VELO_MAX_LASERS];
    int max_id;
    int num_lasers; /* from the file, 0 if absent */
    const char *name;
    char *err;
    size_t err_len;
} builder_t;

/* finish checks that lasers 0..n-1 are all present. */
static vxs_status_t finish(builder_t *b) {
    int n = b->num_lasers > 0 ? b->num_lasers : b->max_id + 1;
    if (n <= 0) {
        vxsi_fmt(b->err, b->err_len, "%s: no lasers in the calibration", b->name);
        return VXS_E_MALFORMED;
    }
    if (n > VXS_VELO_MAX_LASERS || b->max_id >= n) {
        vxsi_fmt(b->err, b->err_len, "%s: num_lasers %d does not cover laser id %d", b->name, n,
                 b->max_id);
        return VXS_E_MALFORMED;
    }
    for (int i = 0; i < n; i++)
        if (!b->seen[i]) {
            vxsi_fmt(b->err, b->err_len, "%s: laser %d missing (num_lasers %d)", b->name, i, n);
            return VXS_E_MALFORMED;
        }
    b->out->num_lasers = n;
    return VXS_OK;
}

/* ---- YAML ------------------------------------------------------------------------------- */

static const char *scalar(yaml_node_t *n) {
    return (n && n->type == YAML_SCALAR_NODE) ? (const char *)n->data.scalar.value : NULL;
}

static vxs_status_t yaml_err(builder_t *b, const yaml_node_t *n, const char *what) {
    vxsi_fmt(b->err, b->err_len, "%s:%lu: %s", b->name,
             n ? (unsigned long)n->start_mark.line + 1 : 0UL, what);
    return VXS_E_MALFORMED;
}

static vxs_status_t yaml_laser(builder_t *b, yaml_document_t *doc, yaml_node_t *m) {
    if (m->type != YAML_MAPPING_NODE) return yaml_err(b, m, "a laser entry must be a mapping");
    vxs_velo_laser_calib_t l;
    memset(&l, 0, sizeof l);
    l.max_intensity = 255;
    int id = -1;
    for (yaml_node_pair_t *p = m->data.mapping.pairs.start; p < m->data.mapping.pairs.top; p++) {
        yaml_node_t *kn = yaml_document_get_node(doc, p->key);
        yaml_node_t *vn = yaml_document_get_node(doc, p->value);
        const char *k = scalar(kn), *vs = scalar(vn);
        if (!k) return yaml_err(b, kn, "laser keys must be scalars");
        double v;
        if (!vs || !parse_num(vs, &v)) {
            char msg[96];
            vxsi_fmt(msg, sizeof msg, "laser key '%s' is not a number", k);
            return yaml_err(b, vn ? vn : kn, msg);
        }
        if (strcmp(k, "laser_id") == 0) {
            if (v < 0 || v >= VXS_VELO_MAX_LASERS || v != floor(v))
                return yaml_err(b, vn, "laser_id out of range 0..127");
            id = (int)v;
        } else if (strcmp(k, "rot_correction") == 0) l.rot_correction = v;
        else if (strcmp(k, "vert_correction") == 0) l.vert_correction = v;
        else if (strcmp(k, "dist_correction") == 0) l.dist_correction = v;
        else if (strcmp(k, "dist_correction_x") == 0) l.dist_correction_x = v;
        else if (strcmp(k, "dist_correction_y") == 0) l.dist_correction_y = v;
        else if (strcmp(k, "vert_offset_correction") == 0) l.vert_offset = v;
        else if (strcmp(k, "horiz_offset_correction") == 0) l.horiz_offset = v;
        else if (strcmp(k, "focal_distance") == 0) l.focal_distance = v;
        else if (strcmp(k, "focal_slope") == 0) l.focal_slope = v;
        else if (strcmp(k, "min_intensity") == 0) {
            if (v < 0 || v > 255) return yaml_err(b, vn, "min_intensity out of range 0..255");
            l.min_intensity = (int)v;
        } else if (strcmp(k, "max_intensity") == 0) {
            if (v < 0 || v > 255) return yaml_err(b, vn, "max_intensity out of range 0..255");
            l.max_intensity = (int)v;
        }
        /* other keys (laser_ring...) are not needed */
    }
    if (id < 0) return yaml_err(b, m, "laser entry without laser_id");
    if (b->seen[id]) return yaml_err(b, m, "duplicate laser_id");
    b->seen[id] = true;
    if (id > b->max_id) b->max_id = id;
    b->out->laser[id] = l;
    return VXS_OK;
}

static vxs_status_t parse_yaml(builder_t *b, const void *data, size_t len) {
    yaml_parser_t parser;
    yaml_document_t doc;
    vxs_status_t st = VXS_OK;
    if (!yaml_parser_initialize(&parser)) return VXS_E_NOMEM;
    yaml_parser_set_input_string(&parser, (const unsigned char *)data, len);
    if (!yaml_parser_load(&parser, &doc)) {
        vxsi_fmt(b->err, b->err_len, "%s:%lu:%lu: YAML error: %s", b->name,
                 (unsigned long)parser.problem_mark.line + 1,
                 (unsigned long)parser.problem_mark.column + 1,
                 parser.problem ? parser.problem : "unknown");
        yaml_parser_delete(&parser);
        return parser.error == YAML_MEMORY_ERROR ? VXS_E_NOMEM : VXS_E_MALFORMED;
    }
    yaml_node_t *root = yaml_document_get_root_node(&doc);
    bool have_lasers = false;
    if (!root || root->type != YAML_MAPPING_NODE) {
        st = yaml_err(b, root, "the calibration must be a mapping with a 'lasers' list");
        goto end;
    }
    for (yaml_node_pair_t *p = root->data.mapping.pairs.start; p < root->data.mapping.pairs.top;
         p++) {
        yaml_node_t *kn = yaml_document_get_node(&doc, p->key);
        yaml_node_t *vn = yaml_document_get_node(&doc, p->value);
        const char *k = scalar(kn);
        if (!k || !vn) continue;
        double v;
        if (strcmp(k, "lasers") == 0) {
            if (vn->type != YAML_SEQUENCE_NODE) {
                st = yaml_err(b, vn, "'lasers' must be a list");
                goto end;
            }
            have_lasers = true;
            for (yaml_node_item_t *it = vn->data.sequence.items.start;
                 it < vn->data.sequence.items.top; it++) {
                yaml_node_t *ln = yaml_document_get_node(&doc, *it);
                if (!ln) continue;
                st = yaml_laser(b, &doc, ln);
                if (st != VXS_OK) goto end;
            }
        } else if (strcmp(k, "num_lasers") == 0) {
            if (!scalar(vn) || !parse_num(scalar(vn), &v) || v < 1 ||
                v > VXS_VELO_MAX_LASERS || v != floor(v)) {
                st = yaml_err(b, vn, "num_lasers must be an integer 1..128");
                goto end;
            }
            b->num_lasers = (int)v;
        } else if (strcmp(k, "distance_resolution") == 0) {
            if (!scalar(vn) || !parse_num(scalar(vn), &v) || v < 0 || v >= 1) {
                st = yaml_err(b, vn, "distance_resolution must be a number in [0, 1) m");
                goto end;
            }
            b->out->distance_resolution = v;
        }
    }
    if (!have_lasers) {
        st = yaml_err(b, root, "no 'lasers' list");
        goto end;
    }
    st = finish(b);
end:
    yaml_document_delete(&doc);
    yaml_parser_delete(&parser);
    return st;
}

/* ---- db.xml ----------------------------------------------------------------------------- */

enum { X_NONE, X_ENABLED, X_MININT, X_MAXINT, X_POINTS };

typedef struct {
    builder_t *b;
    XML_Parser xp;
    vxs_status_t st;
    int depth;
    int db_depth;        /* depth of <DB> (1 in Velodyne's file, 2 under <boost_serialization>) */
    bool in_db;
    int list;            /* X_* of the list being read (depth 2 element) */
    int list_index;      /* item counter in enabled_/min/max lists */
    int enabled_count;   /* lasers marked enabled */
    bool enabled_seen;
    int px_depth;        /* depth of the open <px>, 0 if none */
    vxs_velo_laser_calib_t px;
    int px_id;
    int min_i[VXS_VELO_MAX_LASERS], max_i[VXS_VELO_MAX_LASERS];
    char text[64];
    size_t text_len;
    bool text_overflow;
} xml_t;

static void xml_fail(xml_t *x, const char *what) {
    if (x->st != VXS_OK) return;
    vxsi_fmt(x->b->err, x->b->err_len, "%s:%lu: %s", x->b->name,
             (unsigned long)XML_GetCurrentLineNumber(x->xp), what);
    x->st = VXS_E_MALFORMED;
    XML_StopParser(x->xp, XML_FALSE);
}

static void XMLCALL xml_start(void *ud, const XML_Char *name, const XML_Char **atts) {
    xml_t *x = ud;
    (void)atts;
    x->depth++;
    x->text_len = 0;
    x->text_overflow = false;
    if (!x->in_db) {
        if (x->depth <= 2 && strcmp(name, "DB") == 0) {
            x->in_db = true;
            x->db_depth = x->depth;
        }
        return;
    }
    if (x->depth == x->db_depth + 1) {
        x->list = strcmp(name, "enabled_") == 0       ? X_ENABLED
                  : strcmp(name, "minIntensity_") == 0 ? X_MININT
                  : strcmp(name, "maxIntensity_") == 0 ? X_MAXINT
                  : strcmp(name, "points_") == 0       ? X_POINTS
                                                       : X_NONE;
        x->list_index = 0;
        if (x->list == X_ENABLED) x->enabled_seen = true;
    } else if (x->list == X_POINTS && strcmp(name, "px") == 0 && x->px_depth == 0) {
        x->px_depth = x->depth;
        memset(&x->px, 0, sizeof x->px);
        x->px_id = -1;
    }
}

static void XMLCALL xml_text(void *ud, const XML_Char *s, int len) {
    xml_t *x = ud;
    if (len <= 0) return;
    if (x->text_len + (size_t)len >= sizeof x->text) {
        x->text_overflow = true;
        return;
    }
    memcpy(x->text + x->text_len, s, (size_t)len);
    x->text_len += (size_t)len;
}

static void XMLCALL xml_end(void *ud, const XML_Char *name) {
    xml_t *x = ud;
    x->text[x->text_len] = '\0';
    const bool leaf_ok = !x->text_overflow;
    double v = 0;
    const int rd = x->in_db ? x->depth - x->db_depth : -1; /* depth below <DB> */
    if (rd == 1 && strcmp(name, "distLSB_") == 0) {
        if (!leaf_ok || !parse_num(x->text, &v) || v < 0 || v >= 100)
            xml_fail(x, "distLSB_ is not a number in cm");
        else
            x->b->out->distance_resolution = v * 0.01; /* cm -> m */
    } else if (rd == 2 && strcmp(name, "item") == 0 &&
               (x->list == X_ENABLED || x->list == X_MININT || x->list == X_MAXINT)) {
        if (!leaf_ok || !parse_num(x->text, &v)) {
            xml_fail(x, "list item is not a number");
        } else if (x->list_index < VXS_VELO_MAX_LASERS) {
            int i = x->list_index;
            if (x->list == X_ENABLED && v != 0) x->enabled_count = i + 1;
            if (x->list == X_MININT) x->min_i[i] = v < 0 ? 0 : v > 255 ? 255 : (int)v;
            if (x->list == X_MAXINT) x->max_i[i] = v < 0 ? 0 : v > 255 ? 255 : (int)v;
        }
        x->list_index++;
    } else if (x->px_depth && x->depth == x->px_depth + 1) {
        if (!leaf_ok || !parse_num(x->text, &v)) {
            char msg[96];
            vxsi_fmt(msg, sizeof msg, "<%s> is not a number", name);
            xml_fail(x, msg);
        } else if (strcmp(name, "id_") == 0) {
            if (v < 0 || v >= VXS_VELO_MAX_LASERS || v != floor(v))
                xml_fail(x, "<id_> out of range 0..127");
            else
                x->px_id = (int)v;
        } else if (strcmp(name, "rotCorrection_") == 0) x->px.rot_correction = deg2rad(v);
        else if (strcmp(name, "vertCorrection_") == 0) x->px.vert_correction = deg2rad(v);
        else if (strcmp(name, "distCorrection_") == 0) x->px.dist_correction = v * 0.01;
        else if (strcmp(name, "distCorrectionX_") == 0) x->px.dist_correction_x = v * 0.01;
        else if (strcmp(name, "distCorrectionY_") == 0) x->px.dist_correction_y = v * 0.01;
        else if (strcmp(name, "vertOffsetCorrection_") == 0) x->px.vert_offset = v * 0.01;
        else if (strcmp(name, "horizOffsetCorrection_") == 0) x->px.horiz_offset = v * 0.01;
        else if (strcmp(name, "focalDistance_") == 0) x->px.focal_distance = v;
        else if (strcmp(name, "focalSlope_") == 0) x->px.focal_slope = v;
    } else if (x->px_depth && x->depth == x->px_depth) {
        if (x->px_id < 0) {
            xml_fail(x, "<px> without <id_>");
        } else if (x->b->seen[x->px_id]) {
            xml_fail(x, "duplicate <id_>");
        } else {
            x->b->seen[x->px_id] = true;
            if (x->px_id > x->b->max_id) x->b->max_id = x->px_id;
            x->b->out->laser[x->px_id] = x->px;
        }
        x->px_depth = 0;
    }
    if (rd == 1) x->list = X_NONE;
    if (rd == 0) x->in_db = false;
    x->text_len = 0;
    x->text_overflow = false;
    x->depth--;
}

static vxs_status_t parse_xml(builder_t *b, const void *data, size_t len) {
    VXS_RETURN_IF(len > (size_t)0x7fffffff, VXS_E_LIMIT);
    xml_t *x = vxs_calloc(1, sizeof *x);
    VXS_RETURN_IF(x == NULL, VXS_E_NOMEM);
    x->b = b;
    x->st = VXS_OK;
    for (int i = 0; i < VXS_VELO_MAX_LASERS; i++) x->max_i[i] = 255;
    x->xp = XML_ParserCreate(NULL);
    if (!x->xp) {
        vxs_free(x);
        return VXS_E_NOMEM;
    }
    XML_SetUserData(x->xp, x);
    XML_SetElementHandler(x->xp, xml_start, xml_end);
    XML_SetCharacterDataHandler(x->xp, xml_text);
    vxs_status_t st;
    if (XML_Parse(x->xp, data, (int)len, XML_TRUE) == XML_STATUS_ERROR && x->st == VXS_OK) {
        vxsi_fmt(b->err, b->err_len, "%s:%lu: XML error: %s", b->name,
                 (unsigned long)XML_GetCurrentLineNumber(x->xp),
                 XML_ErrorString(XML_GetErrorCode(x->xp)));
        st = XML_GetErrorCode(x->xp) == XML_ERROR_NO_MEMORY ? VXS_E_NOMEM : VXS_E_MALFORMED;
    } else if (x->st != VXS_OK) {
        st = x->st;
    } else {
        /* The archive holds 64 slots; the enabled flags say how many lasers the unit has. */
        if (x->enabled_seen && x->enabled_count > 0) {
            b->num_lasers = x->enabled_count;
            for (int i = x->enabled_count; i < VXS_VELO_MAX_LASERS; i++) b->seen[i] = false;
            if (b->max_id >= x->enabled_count) b->max_id = x->enabled_count - 1;
        }
        for (int i = 0; i < VXS_VELO_MAX_LASERS; i++) {
            b->out->laser[i].min_intensity = x->min_i[i];
            b->out->laser[i].max_intensity = x->max_i[i];
        }
        st = finish(b);
        /* lasers past num_lasers were parsed but are not part of the unit */
        for (int i = b->out->num_lasers; st == VXS_OK && i < VXS_VELO_MAX_LASERS; i++) {
            memset(&b->out->laser[i], 0, sizeof b->out->laser[i]);
            b->out->laser[i].max_intensity = 255;
        }
    }
    XML_ParserFree(x->xp);
    vxs_free(x);
    return st;
}

/* ---- entry points ----------------------------------------------------------------------- */

vxs_status_t vxs_velo_calib_parse(vxs_velo_calib_t *out, const void *data, size_t len,
                                  const char *name, char *err, size_t err_len) {
    if (err && err_len) err[0] = '\0';
    VXS_RETURN_IF(out == NULL || (data == NULL && len > 0), VXS_E_ARG);
    if (!name) name = "calibration";
    vxs_velo_calib_t *tmp = vxs_malloc(sizeof *tmp);
    builder_t *b = vxs_calloc(1, sizeof *b);
    if (!tmp || !b) {
        vxs_free(tmp);
        vxs_free(b);
        return VXS_E_NOMEM;
    }
    calib_clear(tmp);
    b->out = tmp;
    b->max_id = -1;
    b->name = name;
    b->err = err;
    b->err_len = err_len;
    /* told apart by content: an XML archive starts with '<' after optional BOM/space */
    const unsigned char *p = data;
    size_t i = 0;
    if (len >= 3 && p[0] == 0xEF && p[1] == 0xBB && p[2] == 0xBF) i = 3;
    while (i < len && (p[i] == ' ' || p[i] == '\t' || p[i] == '\r' || p[i] == '\n')) i++;
    vxs_status_t st;
    if (i < len && p[i] == '<')
        st = parse_xml(b, data, len);
    else
        st = parse_yaml(b, data, len);
    if (st == VXS_OK) *out = *tmp;
    vxs_free(tmp);
    vxs_free(b);
    return st;
}

vxs_status_t vxs_velo_calib_load(vxs_velo_calib_t *out, const char *path, char *err,
                                 size_t err_len) {
    if (err && err_len) err[0] = '\0';
    VXS_RETURN_IF(out == NULL || path == NULL, VXS_E_ARG);
    FILE *f = fopen(path, "rb");
    if (!f) {
        vxsi_fmt(err, err_len, "%s: cannot open: %s", path, strerror(errno));
        return VXS_E_IO;
    }
    size_t cap = 65536, len = 0;
    unsigned char *buf = vxs_malloc(cap);
    vxs_status_t st = VXS_OK;
    if (!buf) st = VXS_E_NOMEM;
    while (st == VXS_OK) {
        if (len == cap) {
            if (cap >= MAX_CALIB_FILE) {
                vxsi_fmt(err, err_len, "%s: larger than %u bytes: not a calibration", path,
                         MAX_CALIB_FILE);
                st = VXS_E_LIMIT;
                break;
            }
            unsigned char *nb = vxs_realloc(buf, cap * 2);
            if (!nb) {
                st = VXS_E_NOMEM;
                break;
            }
            buf = nb;
            cap *= 2;
        }
        size_t n = fread(buf + len, 1, cap - len, f);
        len += n;
        if (n == 0) {
            if (ferror(f)) {
                vxsi_fmt(err, err_len, "%s: read error", path);
                st = VXS_E_IO;
            }
            break;
        }
    }
    fclose(f);
    if (st == VXS_OK) st = vxs_velo_calib_parse(out, buf, len, path, err, err_len);
    vxs_free(buf);
    return st;
}
