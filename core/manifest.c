/*
 * manifest.c: reads and validates the scenario manifest (schema in vxs_manifest.h).
 *
 * jansson builds the tree; everything we keep is copied out through vxs_malloc, so allocation
 * failures can be injected in tests and no jansson type escapes. jansson keeps its own
 * allocator: redirecting it with json_set_alloc_funcs is process-wide and would race with
 * sensors/ and export/ parsing JSON on other threads.
 *
 * Every error names the key path ("agents[1].sources[0].clock"), kept in ctx_t as we descend.
 * Objects are checked for unknown keys before their values, so a typo is reported as a typo and
 * not as the missing key it was meant to be.
 */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "vxs_core.h"
#include "vxs_core_int.h"
#include "vxs_manifest.h"

#define PATH_MAX_LEN 256
#define QUAT_TOL 1e-6
#define ID_MAX_LEN 64

typedef struct {
    const char *name;     /* file label that starts every message */
    const char *base_dir; /* "" : none */
    char *err;
    size_t err_len;
    char path[PATH_MAX_LEN]; /* current key path */
    size_t plen;
} ctx_t;

static const char *const k_agent_types[] = {"vehicle", "rsu", "vru", NULL};
static const char *const k_kinds[] = {"lidar", "camera", "v2x", NULL};
static const char *const k_sweep[] = {"start", "middle", "end", NULL};
static const char *const k_v2x_fmt[] = {"auto", "pcap", "wydot", "hex", NULL};
static const char *const k_creation[] = {"end", "start", "ignore", NULL};
static const char *const k_policies[] = {"reference_sensor", "fixed_rate", NULL};
static const char *const k_export_fmt[] = {"bundle", NULL};

static const char *const k_top_keys[] = {"version", "name",   "agents", "reference",
                                         "frames",  "export", "origin", NULL};
static const char *const k_agent_keys[] = {"id", "type", "sources", "pose", NULL};
static const char *const k_origin_keys[] = {"lat_deg", "lon_deg", "alt_m", NULL};
static const char *const k_pose_keys[] = {"lat_deg", "lon_deg", "alt_m", "heading_deg", NULL};
static const char *const k_ref_keys[] = {"agent", "sensor", NULL};
static const char *const k_frames_keys[] = {"policy", "rate_hz", "match", "tolerance_ms",
                                             "v2x_window_ms", "v2x_late_ms",
                                             "v2x_dropout_intervals", NULL};
static const char *const k_match[] = {"nearest", "approximate", "exact", NULL};
static const char *const k_tol_keys[] = {"lidar", "camera", "v2x", NULL};
static const char *const k_export_keys[] = {"format", "out", "png_level", NULL};
static const char *const k_extr_keys[] = {"translation", "rotation", NULL};
static const char *const k_rpy_keys[] = {"roll_deg", "pitch_deg", "yaw_deg", NULL};
static const char *const k_clock_keys[] = {"offset_ns", "gps_locked", "sweep_time",
                                           "stamp_latency_ms", NULL};

/* Source keys and the kinds each is valid for (bit i = vxs_source_kind_t i). */
#define K_L (1u << VXS_SOURCE_LIDAR)
#define K_C (1u << VXS_SOURCE_CAMERA)
#define K_V (1u << VXS_SOURCE_V2X)
static const char *const k_source_keys[] = {
    "path",   "kind",           "sensor",   "model",      "calibration", "metadata", "extrinsics",
    "clock",  "own_station_id", "own_macs", "format",     "timestamps",  "creation", NULL};
static const unsigned k_source_kinds[] = {
    K_L | K_C | K_V, K_L | K_C | K_V, K_L | K_C | K_V, K_L | K_C | K_V, K_L | K_C, K_L,
    K_L | K_C | K_V, K_L | K_C | K_V, K_V,             K_V,             K_V,       K_C, K_C};

/* ---- messages ------------------------------------------------------------------------------- */

static vxs_status_t fail(ctx_t *c, vxs_status_t st, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

static vxs_status_t fail(ctx_t *c, vxs_status_t st, const char *fmt, ...) {
    char msg[VXS_MANIFEST_ERR_LEN];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (c->err != NULL && c->err_len > 0) {
        if (c->plen > 0)
            vxsi_fmt(c->err, c->err_len, "%s: %s: %s", c->name, c->path, msg);
        else
            vxsi_fmt(c->err, c->err_len, "%s: %s", c->name, msg);
    }
    return st;
}

static size_t push_key(ctx_t *c, const char *key) {
    const size_t old = c->plen;
    c->plen += vxsi_fmt(c->path + c->plen, sizeof c->path - c->plen, old > 0 ? ".%s" : "%s", key);
    return old;
}

static size_t push_index(ctx_t *c, size_t i) {
    const size_t old = c->plen;
    c->plen += vxsi_fmt(c->path + c->plen, sizeof c->path - c->plen, "[%zu]", i);
    return old;
}

static void pop(ctx_t *c, size_t old) {
    c->plen = old;
    c->path[old] = '\0';
}

static const char *type_name(const json_t *v) {
    switch (json_typeof(v)) {
    case JSON_OBJECT: return "an object";
    case JSON_ARRAY: return "an array";
    case JSON_STRING: return "a string";
    case JSON_INTEGER: return "an integer";
    case JSON_REAL: return "a number";
    case JSON_TRUE:
    case JSON_FALSE: return "a boolean";
    case JSON_NULL: return "null";
    }
    return "a value";
}

/* show copies at most 40 characters of `s` into `buf` for a message, '?' for control bytes, and
 * marks a cut with "...". */
static const char *show(char *buf, size_t buf_len, const char *s) {
    size_t n = 0;
    for (; s[n] != '\0' && n < 40 && n + 4 < buf_len; n++)
        buf[n] = ((unsigned char)s[n] < 0x20 || s[n] == 0x7f) ? '?' : s[n];
    if (s[n] != '\0' && n + 4 <= buf_len) {
        memcpy(buf + n, "...", 3);
        n += 3;
    }
    buf[n] = '\0';
    return buf;
}

static vxs_status_t fail_type(ctx_t *c, const char *expected, const json_t *v) {
    return fail(c, VXS_E_MALFORMED, "expected %s, got %s", expected, type_name(v));
}

/* ---- generic getters ------------------------------------------------------------------------ */

/* check_keys fails on the first key of `obj` (document order) not in `allowed`. */
static vxs_status_t check_keys(ctx_t *c, const json_t *obj, const char *const *allowed) {
    const char *key;
    json_t *v;
    json_object_foreach((json_t *)obj, key, v) {
        size_t i = 0;
        while (allowed[i] != NULL && strcmp(allowed[i], key) != 0) i++;
        if (allowed[i] != NULL) continue;
        char list[400];
        size_t n = 0;
        for (i = 0; allowed[i] != NULL; i++)
            n += vxsi_fmt(list + n, sizeof list - n, "%s%s", i > 0 ? ", " : "", allowed[i]);
        char shown[48];
        const size_t old = push_key(c, show(shown, sizeof shown, key));
        const vxs_status_t st =
            fail(c, VXS_E_MALFORMED, "unknown key (expected one of: %s)", list);
        pop(c, old);
        return st;
    }
    return VXS_OK;
}

/* get_object fetches obj[key] as an object; *out stays NULL when the key is absent. */
static vxs_status_t get_object(ctx_t *c, const json_t *obj, const char *key,
                               const char *const *allowed, const json_t **out) {
    const json_t *v = json_object_get(obj, key);
    *out = NULL;
    if (v == NULL) return VXS_OK;
    const size_t old = push_key(c, key);
    vxs_status_t st = json_is_object(v) ? check_keys(c, v, allowed) : fail_type(c, "an object", v);
    pop(c, old);
    if (st == VXS_OK) *out = v;
    return st;
}

/* get_string fetches obj[key] as a string (borrowed from the tree); *out stays NULL when absent,
 * which is an error if `required`. */
static vxs_status_t get_string(ctx_t *c, const json_t *obj, const char *key, bool required,
                               const char **out) {
    const json_t *v = json_object_get(obj, key);
    *out = NULL;
    if (v == NULL) {
        if (required) return fail(c, VXS_E_MALFORMED, "missing required key \"%s\"", key);
        return VXS_OK;
    }
    if (!json_is_string(v)) {
        const size_t old = push_key(c, key);
        const vxs_status_t st = fail_type(c, "a string", v);
        pop(c, old);
        return st;
    }
    *out = json_string_value(v);
    return VXS_OK;
}

/* get_enum maps obj[key] onto the index of `names`; *out is kept when the key is absent. */
static vxs_status_t get_enum(ctx_t *c, const json_t *obj, const char *key,
                             const char *const *names, int *out) {
    const char *s;
    VXS_FORWARD(get_string(c, obj, key, false, &s));
    if (s == NULL) return VXS_OK;
    for (int i = 0; names[i] != NULL; i++) {
        if (strcmp(s, names[i]) == 0) {
            *out = i;
            return VXS_OK;
        }
    }
    char list[200], shown[48];
    size_t n = 0;
    for (int i = 0; names[i] != NULL; i++)
        n += vxsi_fmt(list + n, sizeof list - n, "%s\"%s\"", i > 0 ? ", " : "", names[i]);
    const size_t old = push_key(c, key);
    const vxs_status_t st = fail(c, VXS_E_MALFORMED, "expected one of %s, got \"%s\"", list,
                                 show(shown, sizeof shown, s));
    pop(c, old);
    return st;
}

/* get_number fetches obj[key] (integer or real) into *out, kept when absent, checking
 * lo <= v <= hi, or lo < v when `lo_open`. */
static vxs_status_t get_number(ctx_t *c, const json_t *obj, const char *key, double lo,
                               bool lo_open, double hi, double *out, bool *present) {
    const json_t *v = json_object_get(obj, key);
    if (present != NULL) *present = v != NULL;
    if (v == NULL) return VXS_OK;
    const size_t old = push_key(c, key);
    vxs_status_t st = VXS_OK;
    if (!json_is_number(v)) {
        st = fail_type(c, "a number", v);
    } else {
        const double d = json_number_value(v);
        if (!(lo_open ? d > lo : d >= lo) || !(d <= hi))
            st = fail(c, VXS_E_MALFORMED, "expected a number %s %g and <= %g, got %g",
                      lo_open ? ">" : ">=", lo, hi, d);
        else
            *out = d;
    }
    pop(c, old);
    return st;
}

/* get_int fetches obj[key] as an integer in [lo, hi] into *out, kept when absent. */
static vxs_status_t get_int(ctx_t *c, const json_t *obj, const char *key, json_int_t lo,
                            json_int_t hi, json_int_t *out, bool *present) {
    const json_t *v = json_object_get(obj, key);
    if (present != NULL) *present = v != NULL;
    if (v == NULL) return VXS_OK;
    const size_t old = push_key(c, key);
    vxs_status_t st = VXS_OK;
    char want[80];
    vxsi_fmt(want, sizeof want, "an integer %" JSON_INTEGER_FORMAT "..%" JSON_INTEGER_FORMAT, lo,
             hi);
    if (!json_is_integer(v)) {
        st = fail_type(c, want, v);
    } else if (json_integer_value(v) < lo || json_integer_value(v) > hi) {
        st = fail(c, VXS_E_MALFORMED, "expected %s, got %" JSON_INTEGER_FORMAT, want,
                  json_integer_value(v));
    } else {
        *out = json_integer_value(v);
    }
    pop(c, old);
    return st;
}

static vxs_status_t get_bool(ctx_t *c, const json_t *obj, const char *key, bool *out) {
    const json_t *v = json_object_get(obj, key);
    if (v == NULL) return VXS_OK;
    if (!json_is_boolean(v)) {
        const size_t old = push_key(c, key);
        const vxs_status_t st = fail_type(c, "true or false", v);
        pop(c, old);
        return st;
    }
    *out = json_is_true(v);
    return VXS_OK;
}

/* valid_id: 1..ID_MAX_LEN of [A-Za-z0-9_.-], not starting with '.', so ids can name output
 * folders without ever meaning "." or "..". */
static bool valid_id(const char *s) {
    size_t n = strlen(s);
    if (n == 0 || n > ID_MAX_LEN || s[0] == '.') return false;
    for (size_t i = 0; i < n; i++) {
        const char ch = s[i];
        if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
              ch == '_' || ch == '-' || ch == '.'))
            return false;
    }
    return true;
}

static vxs_status_t check_id(ctx_t *c, const char *key, const char *s) {
    if (valid_id(s)) return VXS_OK;
    char shown[48];
    const size_t old = push_key(c, key);
    const vxs_status_t st =
        fail(c, VXS_E_MALFORMED,
             "expected 1-64 characters of A-Z a-z 0-9 _ - . not starting with '.', got \"%s\"",
             show(shown, sizeof shown, s));
    pop(c, old);
    return st;
}

/* ---- paths ---------------------------------------------------------------------------------- */

/* resolve normalises the relative path `p` and joins it to c->base_dir into *out (vxs_malloc'd);
 * absolute paths are copied as written. Fails if `p` climbs above the base folder. */
static vxs_status_t resolve(ctx_t *c, const char *key, const char *p, char **out) {
    char shown[48];
    vxs_status_t st = VXS_OK;
    const size_t old = push_key(c, key);
    *out = NULL;
    if (p[0] == '\0') {
        st = fail(c, VXS_E_MALFORMED, "expected a non-empty path");
        goto end;
    }
    if (p[0] == '/') {
        *out = vxs_strdup(p);
        st = *out == NULL ? VXS_E_NOMEM : VXS_OK;
        goto end;
    }
    const size_t blen = strlen(c->base_dir), plen = strlen(p);
    char *buf = vxs_malloc(blen + 1 + plen + 1);
    if (buf == NULL) {
        st = VXS_E_NOMEM;
        goto end;
    }
    size_t n = blen, root = blen;
    memcpy(buf, c->base_dir, blen);
    if (blen > 0 && buf[blen - 1] != '/') {
        buf[n++] = '/';
        root = n;
    }
    for (const char *s = p; *s != '\0';) {
        const char *e = strchr(s, '/');
        const size_t seg = e != NULL ? (size_t)(e - s) : strlen(s);
        if (seg == 2 && s[0] == '.' && s[1] == '.') {
            if (n == root) {
                vxs_free(buf);
                st = fail(c, VXS_E_MALFORMED,
                          "\"%s\" leaves the manifest's folder (use an absolute path for files "
                          "outside it)",
                          show(shown, sizeof shown, p));
                goto end;
            }
            n--; /* the '/' ending the previous segment */
            while (n > root && buf[n - 1] != '/') n--;
        } else if (!(seg == 0 || (seg == 1 && s[0] == '.'))) {
            memcpy(buf + n, s, seg);
            n += seg;
            buf[n++] = '/';
        }
        s += seg;
        if (*s == '/') s++;
    }
    if (n > root)
        n--; /* the '/' after the last segment */
    else if (root == 0)
        buf[n++] = '.'; /* no base, no segment: "." */
    else if (root == blen + 1)
        n--; /* the base folder itself, without the '/' we added */
    buf[n] = '\0';
    *out = buf;
end:
    pop(c, old);
    return st;
}

/* get_path fetches obj[key] as a path and resolves it; *out stays NULL when absent. */
static vxs_status_t get_path(ctx_t *c, const json_t *obj, const char *key, bool required,
                             const char **out) {
    const char *s;
    char *r = NULL;
    VXS_FORWARD(get_string(c, obj, key, required, &s));
    if (s != NULL) VXS_FORWARD(resolve(c, key, s, &r));
    *out = r;
    return VXS_OK;
}

/* ---- sources -------------------------------------------------------------------------------- */

static vxs_status_t parse_vec(ctx_t *c, const json_t *v, double *out, size_t n) {
    for (size_t i = 0; i < n; i++) {
        const json_t *e = json_array_get(v, i);
        if (!json_is_number(e)) {
            const size_t old = push_index(c, i);
            const vxs_status_t st = fail_type(c, "a number", e);
            pop(c, old);
            return st;
        }
        out[i] = json_number_value(e);
    }
    return VXS_OK;
}

static void quat_from_rpy(double roll_deg, double pitch_deg, double yaw_deg, double q[4]) {
    const double d2r = 3.14159265358979323846 / 180.0;
    const double cr = cos(roll_deg * d2r / 2), sr = sin(roll_deg * d2r / 2);
    const double cp = cos(pitch_deg * d2r / 2), sp = sin(pitch_deg * d2r / 2);
    const double cy = cos(yaw_deg * d2r / 2), sy = sin(yaw_deg * d2r / 2);
    q[0] = cr * cp * cy + sr * sp * sy;
    q[1] = sr * cp * cy - cr * sp * sy;
    q[2] = cr * sp * cy + sr * cp * sy;
    q[3] = cr * cp * sy - sr * sp * cy;
}

static vxs_status_t parse_extrinsics(ctx_t *c, const json_t *src, vxs_extrinsics_t *x) {
    const json_t *e;
    VXS_FORWARD(get_object(c, src, "extrinsics", k_extr_keys, &e));
    if (e == NULL) return VXS_OK;
    const size_t old = push_key(c, "extrinsics");
    vxs_status_t st = VXS_OK;
    const json_t *t = json_object_get(e, "translation");
    if (t != NULL) {
        const size_t o2 = push_key(c, "translation");
        if (!json_is_array(t))
            st = fail(c, VXS_E_MALFORMED, "expected 3 numbers [x, y, z] in metres, got %s",
                      type_name(t));
        else if (json_array_size(t) != 3)
            st = fail(c, VXS_E_MALFORMED,
                      "expected 3 numbers [x, y, z] in metres, got an array of %zu",
                      json_array_size(t));
        else
            st = parse_vec(c, t, x->translation, 3);
        pop(c, o2);
        if (st != VXS_OK) goto end;
    }
    const json_t *r = json_object_get(e, "rotation");
    if (r == NULL) goto end;
    const size_t o2 = push_key(c, "rotation");
    static const char want[] = "expected 4 numbers [w, x, y, z] or {roll_deg, pitch_deg, yaw_deg}";
    if (json_is_array(r)) {
        double q[4];
        if (json_array_size(r) != 4) {
            st = fail(c, VXS_E_MALFORMED, "%s, got an array of %zu", want, json_array_size(r));
        } else if ((st = parse_vec(c, r, q, 4)) == VXS_OK) {
            const double norm = sqrt(q[0] * q[0] + q[1] * q[1] + q[2] * q[2] + q[3] * q[3]);
            if (!(fabs(norm - 1.0) <= QUAT_TOL)) {
                st = fail(c, VXS_E_MALFORMED,
                          "expected a unit quaternion [w, x, y, z] (|norm - 1| <= 1e-6), got "
                          "norm %.9g",
                          norm);
            } else {
                for (int i = 0; i < 4; i++) x->rotation[i] = q[i] / norm;
            }
        }
    } else if (json_is_object(r)) {
        double rpy[3] = {0, 0, 0};
        st = check_keys(c, r, k_rpy_keys);
        for (int i = 0; i < 3 && st == VXS_OK; i++)
            st = get_number(c, r, k_rpy_keys[i], -1e6, false, 1e6, &rpy[i], NULL);
        if (st == VXS_OK) quat_from_rpy(rpy[0], rpy[1], rpy[2], x->rotation);
    } else {
        st = fail(c, VXS_E_MALFORMED, "%s, got %s", want, type_name(r));
    }
    pop(c, o2);
end:
    pop(c, old);
    return st;
}

static vxs_status_t parse_clock(ctx_t *c, const json_t *src, vxs_source_kind_t kind,
                                vxs_clock_hints_t *h) {
    const json_t *k;
    VXS_FORWARD(get_object(c, src, "clock", k_clock_keys, &k));
    if (k == NULL) return VXS_OK;
    const size_t old = push_key(c, "clock");
    vxs_status_t st = VXS_OK;
    const json_t *off = json_object_get(k, "offset_ns");
    if (off != NULL) {
        const size_t o2 = push_key(c, "offset_ns");
        if (json_is_integer(off)) {
            h->offset_ns = (int64_t)json_integer_value(off);
            h->has_offset = true;
        } else if (json_is_real(off)) {
            /* 9.2e18 stays below INT64_MAX after rounding. */
            const double d = json_real_value(off);
            if (!(fabs(d) <= 9.2e18)) {
                st = fail(c, VXS_E_MALFORMED,
                          "expected nanoseconds between -9.2e18 and 9.2e18, got %g", d);
            } else {
                h->offset_ns = (int64_t)llround(d);
                h->has_offset = true;
            }
        } else {
            st = fail_type(c, "a number of nanoseconds", off);
        }
        pop(c, o2);
    }
    if (st == VXS_OK) st = get_bool(c, k, "gps_locked", &h->gps_locked);
    if (st == VXS_OK && json_object_get(k, "sweep_time") != NULL) {
        if (kind != VXS_SOURCE_LIDAR) {
            const size_t o2 = push_key(c, "sweep_time");
            st = fail(c, VXS_E_MALFORMED, "not valid for a \"%s\" source (only for \"lidar\")",
                      k_kinds[kind]);
            pop(c, o2);
        } else {
            int v = (int)h->sweep_time;
            st = get_enum(c, k, "sweep_time", k_sweep, &v);
            h->sweep_time = (vxs_sweep_time_t)v;
        }
    }
    if (st == VXS_OK && json_object_get(k, "stamp_latency_ms") != NULL) {
        if (kind != VXS_SOURCE_CAMERA) {
            const size_t o2 = push_key(c, "stamp_latency_ms");
            st = fail(c, VXS_E_MALFORMED, "not valid for a \"%s\" source (only for \"camera\")",
                      k_kinds[kind]);
            pop(c, o2);
        } else {
            st = get_number(c, k, "stamp_latency_ms", -1000, false, 1000, &h->stamp_latency_ms,
                            NULL);
        }
    }
    pop(c, old);
    return st;
}

/* parse_mac reads "aa:bb:cc:dd:ee:ff" (either case) exactly. */
static bool parse_mac(const char *s, uint8_t mac[6]) {
    for (int i = 0; i < 6; i++) {
        unsigned v = 0;
        for (int j = 0; j < 2; j++) {
            const char ch = *s++;
            unsigned d;
            if (ch >= '0' && ch <= '9') d = (unsigned)(ch - '0');
            else if (ch >= 'a' && ch <= 'f') d = (unsigned)(ch - 'a' + 10);
            else if (ch >= 'A' && ch <= 'F') d = (unsigned)(ch - 'A' + 10);
            else return false;
            v = v << 4 | d;
        }
        mac[i] = (uint8_t)v;
        if (*s++ != (i < 5 ? ':' : '\0')) return false;
    }
    return true;
}

static vxs_status_t parse_macs(ctx_t *c, const json_t *src, vxs_manifest_source_t *s) {
    const json_t *a = json_object_get(src, "own_macs");
    if (a == NULL) return VXS_OK;
    const size_t old = push_key(c, "own_macs");
    vxs_status_t st = VXS_OK;
    if (!json_is_array(a)) {
        st = fail_type(c, "an array of MAC addresses", a);
        goto end;
    }
    if (json_array_size(a) == 0) goto end;
    s->own_macs = vxs_calloc(json_array_size(a), sizeof *s->own_macs);
    if (s->own_macs == NULL) {
        st = VXS_E_NOMEM;
        goto end;
    }
    for (size_t i = 0; i < json_array_size(a); i++) {
        const json_t *e = json_array_get(a, i);
        const size_t o2 = push_index(c, i);
        char shown[48];
        if (!json_is_string(e))
            st = fail_type(c, "a MAC address string", e);
        else if (!parse_mac(json_string_value(e), s->own_macs[i]))
            st = fail(c, VXS_E_MALFORMED,
                      "expected a MAC address like \"aa:bb:cc:dd:ee:ff\", got \"%s\"",
                      show(shown, sizeof shown, json_string_value(e)));
        pop(c, o2);
        if (st != VXS_OK) goto end;
        s->n_own_macs = i + 1;
    }
end:
    pop(c, old);
    return st;
}

static vxs_status_t dup_opt(const char *s, const char **out) {
    *out = NULL;
    if (s == NULL) return VXS_OK;
    *out = vxs_strdup(s);
    return *out == NULL ? VXS_E_NOMEM : VXS_OK;
}

static vxs_status_t parse_source(ctx_t *c, const json_t *src, vxs_manifest_source_t *s) {
    const char *str;
    int v;
    if (!json_is_object(src)) return fail_type(c, "an object", src);
    VXS_FORWARD(check_keys(c, src, k_source_keys));
    /* kind first: it decides which other keys are allowed */
    VXS_FORWARD(get_string(c, src, "kind", true, &str));
    v = -1;
    VXS_FORWARD(get_enum(c, src, "kind", k_kinds, &v));
    s->kind = (vxs_source_kind_t)v;
    for (size_t i = 0; k_source_keys[i] != NULL; i++) {
        if ((k_source_kinds[i] & (1u << s->kind)) != 0) continue;
        if (json_object_get(src, k_source_keys[i]) == NULL) continue;
        char only[64];
        size_t n = 0;
        for (int k = 0; k < VXS_SOURCE_KIND_COUNT; k++)
            if ((k_source_kinds[i] & (1u << k)) != 0)
                n += vxsi_fmt(only + n, sizeof only - n, "%s\"%s\"", n > 0 ? ", " : "", k_kinds[k]);
        const size_t old = push_key(c, k_source_keys[i]);
        const vxs_status_t st = fail(c, VXS_E_MALFORMED,
                                     "not valid for a \"%s\" source (only for %s)",
                                     k_kinds[s->kind], only);
        pop(c, old);
        return st;
    }
    VXS_FORWARD(get_path(c, src, "path", true, &s->path));
    VXS_FORWARD(get_string(c, src, "sensor", false, &str));
    if (str != NULL) VXS_FORWARD(check_id(c, "sensor", str));
    VXS_FORWARD(dup_opt(str != NULL ? str : k_kinds[s->kind], &s->sensor));
    VXS_FORWARD(get_string(c, src, "model", false, &str));
    VXS_FORWARD(dup_opt(str, &s->model));
    VXS_FORWARD(get_path(c, src, "calibration", false, &s->calibration));
    VXS_FORWARD(get_path(c, src, "metadata", false, &s->metadata));
    VXS_FORWARD(parse_extrinsics(c, src, &s->extrinsics));
    VXS_FORWARD(parse_clock(c, src, s->kind, &s->clock));
    v = (int)s->v2x_format;
    VXS_FORWARD(get_enum(c, src, "format", k_v2x_fmt, &v));
    s->v2x_format = (vxs_manifest_v2x_format_t)v;
    json_int_t id = 0;
    VXS_FORWARD(get_int(c, src, "own_station_id", 0, 4294967295LL, &id, &s->has_own_station_id));
    s->own_station_id = (uint32_t)id;
    VXS_FORWARD(parse_macs(c, src, s));
    VXS_FORWARD(get_path(c, src, "timestamps", false, &s->timestamps));
    v = (int)s->creation;
    VXS_FORWARD(get_enum(c, src, "creation", k_creation, &v));
    s->creation = (vxs_manifest_creation_t)v;
    return VXS_OK;
}

/* ---- agents and the top level --------------------------------------------------------------- */

/* parse_geo reads {lat_deg*, lon_deg*, alt_m, heading_deg} (heading only with `heading`) from
 * obj[key] into *g; g->present stays false when the key is absent. */
static vxs_status_t parse_geo(ctx_t *c, const json_t *obj, const char *key, bool heading,
                              vxs_manifest_geo_t *g) {
    const json_t *o;
    VXS_FORWARD(get_object(c, obj, key, heading ? k_pose_keys : k_origin_keys, &o));
    if (o == NULL) return VXS_OK;
    const size_t old = push_key(c, key);
    bool has_lat = false, has_lon = false;
    vxs_status_t st = get_number(c, o, "lat_deg", -90, false, 90, &g->lat_deg, &has_lat);
    if (st == VXS_OK) st = get_number(c, o, "lon_deg", -180, false, 180, &g->lon_deg, &has_lon);
    if (st == VXS_OK) st = get_number(c, o, "alt_m", -1000, false, 100000, &g->alt_m, NULL);
    if (st == VXS_OK && heading)
        st = get_number(c, o, "heading_deg", 0, false, 360, &g->heading_deg, &g->has_heading);
    if (st == VXS_OK && (!has_lat || !has_lon))
        st = fail(c, VXS_E_MALFORMED, "missing required key \"%s\"", has_lat ? "lon_deg" : "lat_deg");
    pop(c, old);
    g->present = st == VXS_OK;
    return st;
}

static vxs_status_t parse_agent(ctx_t *c, const json_t *a, vxs_manifest_agent_t *ag) {
    const char *str;
    int v = VXS_AGENT_VEHICLE;
    if (!json_is_object(a)) return fail_type(c, "an object", a);
    VXS_FORWARD(check_keys(c, a, k_agent_keys));
    VXS_FORWARD(get_string(c, a, "id", true, &str));
    VXS_FORWARD(check_id(c, "id", str));
    VXS_FORWARD(dup_opt(str, &ag->id));
    VXS_FORWARD(get_enum(c, a, "type", k_agent_types, &v));
    ag->type = (vxs_agent_type_t)v;
    VXS_FORWARD(parse_geo(c, a, "pose", true, &ag->pose));

    const json_t *srcs = json_object_get(a, "sources");
    if (srcs == NULL) return fail(c, VXS_E_MALFORMED, "missing required key \"sources\"");
    const size_t old = push_key(c, "sources");
    vxs_status_t st = VXS_OK;
    const size_t n = json_is_array(srcs) ? json_array_size(srcs) : 0;
    if (!json_is_array(srcs)) {
        st = fail_type(c, "an array of sources", srcs);
    } else if (n == 0) {
        st = fail(c, VXS_E_MALFORMED, "expected a non-empty array of sources");
    } else if (n > VXS_MANIFEST_MAX_SOURCES) {
        st = fail(c, VXS_E_LIMIT, "%zu sources, more than the limit of %d", n,
                  VXS_MANIFEST_MAX_SOURCES);
    } else if ((ag->sources = vxs_calloc(n, sizeof *ag->sources)) == NULL) {
        st = VXS_E_NOMEM;
    }
    for (size_t i = 0; i < n && st == VXS_OK; i++) {
        vxs_manifest_source_t *s = &ag->sources[i];
        s->extrinsics.rotation[0] = 1.0;
        ag->n_sources = i + 1;
        const size_t o2 = push_index(c, i);
        st = parse_source(c, json_array_get(srcs, i), s);
        for (size_t j = 0; j < i && st == VXS_OK; j++) {
            if (strcmp(ag->sources[j].sensor, s->sensor) != 0) continue;
            const size_t o3 = push_key(c, "sensor");
            st = fail(c, VXS_E_MALFORMED,
                      "duplicate sensor id \"%s\" in agent \"%s\" (first at sources[%zu])",
                      s->sensor, ag->id, j);
            pop(c, o3);
        }
        pop(c, o2);
    }
    pop(c, old);
    return st;
}

/* default_source is the agent's first lidar, else its first source. */
static size_t default_source(const vxs_manifest_agent_t *ag) {
    for (size_t i = 0; i < ag->n_sources; i++)
        if (ag->sources[i].kind == VXS_SOURCE_LIDAR) return i;
    return 0;
}

static vxs_status_t parse_reference(ctx_t *c, const json_t *root, vxs_manifest_t *m) {
    const json_t *r;
    VXS_FORWARD(get_object(c, root, "reference", k_ref_keys, &r));
    if (r == NULL) {
        for (size_t i = 0; i < m->n_agents; i++) {
            const vxs_manifest_agent_t *ag = &m->agents[i];
            if (ag->sources[default_source(ag)].kind == VXS_SOURCE_LIDAR) {
                m->ref_agent = i;
                break;
            }
        }
        m->ref_source = default_source(&m->agents[m->ref_agent]);
        return VXS_OK;
    }
    const size_t old = push_key(c, "reference");
    const char *agent, *sensor;
    char list[300], shown[48];
    size_t n = 0;
    vxs_status_t st = get_string(c, r, "agent", true, &agent);
    if (st == VXS_OK) st = get_string(c, r, "sensor", false, &sensor);
    if (st != VXS_OK) goto end;
    size_t a = 0;
    while (a < m->n_agents && strcmp(m->agents[a].id, agent) != 0) a++;
    if (a == m->n_agents) {
        for (size_t i = 0; i < m->n_agents; i++)
            n += vxsi_fmt(list + n, sizeof list - n, "%s%s", i > 0 ? ", " : "", m->agents[i].id);
        const size_t o2 = push_key(c, "agent");
        st = fail(c, VXS_E_MALFORMED, "no agent \"%s\" (agents: %s)",
                  show(shown, sizeof shown, agent), list);
        pop(c, o2);
        goto end;
    }
    const vxs_manifest_agent_t *ag = &m->agents[a];
    m->ref_agent = a;
    m->ref_source = default_source(ag);
    if (sensor == NULL) goto end;
    size_t s = 0;
    while (s < ag->n_sources && strcmp(ag->sources[s].sensor, sensor) != 0) s++;
    if (s == ag->n_sources) {
        for (size_t i = 0; i < ag->n_sources; i++)
            n += vxsi_fmt(list + n, sizeof list - n, "%s%s", i > 0 ? ", " : "",
                          ag->sources[i].sensor);
        const size_t o2 = push_key(c, "sensor");
        st = fail(c, VXS_E_MALFORMED, "agent \"%s\" has no sensor \"%s\" (sensors: %s)", ag->id,
                  show(shown, sizeof shown, sensor), list);
        pop(c, o2);
        goto end;
    }
    m->ref_source = s;
end:
    pop(c, old);
    return st;
}

static vxs_status_t parse_frames(ctx_t *c, const json_t *root, vxs_manifest_t *m) {
    const json_t *f, *t;
    int v = VXS_FRAMES_REFERENCE_SENSOR;
    bool has_rate;
    VXS_FORWARD(get_object(c, root, "frames", k_frames_keys, &f));
    if (f == NULL) return VXS_OK;
    const size_t old = push_key(c, "frames");
    vxs_status_t st = get_enum(c, f, "policy", k_policies, &v);
    m->frames.policy = (vxs_frame_policy_t)v;
    if (st == VXS_OK) st = get_number(c, f, "rate_hz", 0, true, 1000, &m->frames.rate_hz, &has_rate);
    if (st == VXS_OK && has_rate && m->frames.policy != VXS_FRAMES_FIXED_RATE) {
        const size_t o2 = push_key(c, "rate_hz");
        st = fail(c, VXS_E_MALFORMED, "only valid with policy \"fixed_rate\"");
        pop(c, o2);
    } else if (st == VXS_OK && !has_rate && m->frames.policy == VXS_FRAMES_FIXED_RATE) {
        st = fail(c, VXS_E_MALFORMED, "missing required key \"rate_hz\" (policy \"fixed_rate\")");
    }
    if (st == VXS_OK) {
        int mv = (int)m->frames.match;
        st = get_enum(c, f, "match", k_match, &mv);
        m->frames.match = (vxs_frame_match_t)mv;
    }
    if (st == VXS_OK)
        st = get_number(c, f, "v2x_window_ms", 0, false, 600000, &m->frames.v2x_window_ms, NULL);
    if (st == VXS_OK)
        st = get_number(c, f, "v2x_late_ms", 0, false, 600000, &m->frames.v2x_late_ms, NULL);
    if (st == VXS_OK)
        st = get_number(c, f, "v2x_dropout_intervals", 1, false, 100000,
                        &m->frames.v2x_dropout_intervals, NULL);
    if (st == VXS_OK) st = get_object(c, f, "tolerance_ms", k_tol_keys, &t);
    if (st == VXS_OK && t != NULL) {
        const size_t o2 = push_key(c, "tolerance_ms");
        for (int k = 0; k < VXS_SOURCE_KIND_COUNT && st == VXS_OK; k++)
            st = get_number(c, t, k_tol_keys[k], 0, false, 60000, &m->frames.tolerance_ms[k],
                            NULL);
        pop(c, o2);
    }
    pop(c, old);
    return st;
}

static vxs_status_t parse_export(ctx_t *c, const json_t *root, vxs_manifest_t *m) {
    const json_t *e;
    int fmt = 0;
    json_int_t level = 1; /* the PNG writer's measured default (VXS_PNG_DEFAULT_LEVEL) */
    VXS_FORWARD(get_object(c, root, "export", k_export_keys, &e));
    if (e == NULL) return VXS_OK;
    const size_t old = push_key(c, "export");
    vxs_status_t st = get_enum(c, e, "format", k_export_fmt, &fmt);
    if (st == VXS_OK) st = get_path(c, e, "out", false, &m->export_opts.out);
    if (st == VXS_OK) st = get_int(c, e, "png_level", 0, 9, &level, NULL);
    m->export_opts.png_level = (int)level;
    pop(c, old);
    return st;
}

static vxs_status_t parse_root(ctx_t *c, const json_t *root, vxs_manifest_t *m) {
    const char *str;
    if (!json_is_object(root))
        return fail(c, VXS_E_MALFORMED, "expected an object at the top level, got %s",
                    type_name(root));
    VXS_FORWARD(check_keys(c, root, k_top_keys));
    const json_t *ver = json_object_get(root, "version");
    if (ver == NULL) return fail(c, VXS_E_MALFORMED, "missing required key \"version\" (1)");
    if (!json_is_integer(ver))
        return fail(c, VXS_E_MALFORMED, "version: expected the integer 1, got %s",
                    type_name(ver));
    if (json_integer_value(ver) != 1)
        return fail(c, VXS_E_UNSUPPORTED,
                    "version: unsupported version %" JSON_INTEGER_FORMAT " (this v2xsync reads 1)",
                    json_integer_value(ver));
    m->version = 1;
    VXS_FORWARD(get_string(c, root, "name", false, &str));
    VXS_FORWARD(dup_opt(str != NULL ? str : "scenario", &m->name));

    const json_t *agents = json_object_get(root, "agents");
    if (agents == NULL) return fail(c, VXS_E_MALFORMED, "missing required key \"agents\"");
    const size_t old = push_key(c, "agents");
    vxs_status_t st = VXS_OK;
    const size_t n = json_is_array(agents) ? json_array_size(agents) : 0;
    if (!json_is_array(agents)) {
        st = fail_type(c, "an array of agents", agents);
    } else if (n == 0) {
        st = fail(c, VXS_E_MALFORMED, "expected a non-empty array of agents");
    } else if (n > VXS_MANIFEST_MAX_AGENTS) {
        st = fail(c, VXS_E_LIMIT, "%zu agents, more than the limit of %d", n,
                  VXS_MANIFEST_MAX_AGENTS);
    } else if ((m->agents = vxs_calloc(n, sizeof *m->agents)) == NULL) {
        st = VXS_E_NOMEM;
    }
    for (size_t i = 0; i < n && st == VXS_OK; i++) {
        m->n_agents = i + 1;
        const size_t o2 = push_index(c, i);
        st = parse_agent(c, json_array_get(agents, i), &m->agents[i]);
        for (size_t j = 0; j < i && st == VXS_OK; j++) {
            if (strcmp(m->agents[j].id, m->agents[i].id) != 0) continue;
            const size_t o3 = push_key(c, "id");
            st = fail(c, VXS_E_MALFORMED, "duplicate agent id \"%s\" (first at agents[%zu])",
                      m->agents[i].id, j);
            pop(c, o3);
        }
        pop(c, o2);
    }
    pop(c, old);
    VXS_FORWARD(st);
    VXS_FORWARD(parse_reference(c, root, m));
    VXS_FORWARD(parse_frames(c, root, m));
    VXS_FORWARD(parse_geo(c, root, "origin", false, &m->origin));
    VXS_FORWARD(parse_export(c, root, m));
    return VXS_OK;
}

/* ---- entry points --------------------------------------------------------------------------- */

vxs_status_t vxs_manifest_parse(vxs_manifest_t **out, const char *json_text, size_t len,
                                const char *base_dir, const char *name, char *err,
                                size_t err_len) {
    ctx_t c = {name != NULL ? name : "manifest", base_dir != NULL ? base_dir : "", err, err_len,
               "", 0};
    json_error_t jerr;
    json_t *root = NULL;
    vxs_manifest_t *m = NULL;
    vxs_status_t st;
    if (err != NULL && err_len > 0) err[0] = '\0';
    if (out == NULL) return VXS_E_ARG;
    *out = NULL;
    if (json_text == NULL && len > 0) return VXS_E_ARG;
    if (len > VXS_MANIFEST_MAX_BYTES)
        return fail(&c, VXS_E_LIMIT, "%zu bytes, more than the limit of %u", len,
                    VXS_MANIFEST_MAX_BYTES);
    m = vxs_calloc(1, sizeof *m);
    if (m == NULL) return VXS_E_NOMEM;
    m->frames.tolerance_ms[VXS_SOURCE_LIDAR] = -1; /* half the sensor's period */
    m->frames.tolerance_ms[VXS_SOURCE_CAMERA] = -1;
    m->frames.tolerance_ms[VXS_SOURCE_V2X] = 100;
    m->frames.v2x_window_ms = 1000;
    m->frames.v2x_late_ms = 100;
    m->frames.v2x_dropout_intervals = 10;
    m->export_opts.png_level = 1;
    m->base_dir = vxs_strdup(c.base_dir);
    if (m->base_dir == NULL) {
        st = VXS_E_NOMEM;
        goto end;
    }
    root = json_loadb(json_text != NULL ? json_text : "", len, JSON_REJECT_DUPLICATES, &jerr);
    if (root == NULL) {
        st = fail(&c, VXS_E_MALFORMED, "line %d, column %d: %s", jerr.line, jerr.column,
                  jerr.text);
        goto end;
    }
    st = parse_root(&c, root, m);
end:
    json_decref(root);
    if (st != VXS_OK) {
        vxs_manifest_free(m);
        return st;
    }
    if (m->frames.policy != VXS_FRAMES_FIXED_RATE) m->frames.rate_hz = 0;
    *out = m;
    return VXS_OK;
}

vxs_status_t vxs_manifest_load(vxs_manifest_t **out, const char *path, char *err, size_t err_len) {
    ctx_t c = {path, "", err, err_len, "", 0};
    char *buf = NULL, *dir = NULL;
    size_t len = 0;
    vxs_status_t st = VXS_OK;
    if (err != NULL && err_len > 0) err[0] = '\0';
    if (out == NULL || path == NULL) return VXS_E_ARG;
    *out = NULL;
    FILE *f = fopen(path, "rb");
    if (f == NULL) return fail(&c, VXS_E_IO, "cannot open: %s", strerror(errno));
    /* Read in chunks up to the cap instead of trusting a size from fseek: pipes have none. */
    size_t cap = 0;
    for (;;) {
        if (len == cap) {
            if (cap > VXS_MANIFEST_MAX_BYTES) {
                st = fail(&c, VXS_E_LIMIT, "larger than the limit of %u bytes",
                          VXS_MANIFEST_MAX_BYTES);
                goto end;
            }
            const size_t ncap = cap == 0 ? 4096 : cap * 2;
            char *nb = vxs_realloc(buf, ncap + 1);
            if (nb == NULL) {
                st = VXS_E_NOMEM;
                goto end;
            }
            buf = nb;
            cap = ncap;
        }
        const size_t got = fread(buf + len, 1, cap - len, f);
        len += got;
        if (got == 0) break;
    }
    if (ferror(f)) {
        st = fail(&c, VXS_E_IO, "cannot read: %s", strerror(errno));
        goto end;
    }
    const char *slash = strrchr(path, '/');
    const size_t dlen = slash == NULL ? 0 : (slash == path ? 1 : (size_t)(slash - path));
    dir = vxs_malloc(dlen + 1);
    if (dir == NULL) {
        st = VXS_E_NOMEM;
        goto end;
    }
    memcpy(dir, path, dlen);
    dir[dlen] = '\0';
    st = vxs_manifest_parse(out, buf, len, dir, path, err, err_len);
end:
    fclose(f);
    vxs_free(buf);
    vxs_free(dir);
    return st;
}

static void free_source(vxs_manifest_source_t *s) {
    vxs_free((void *)s->path);
    vxs_free((void *)s->sensor);
    vxs_free((void *)s->model);
    vxs_free((void *)s->calibration);
    vxs_free((void *)s->metadata);
    vxs_free(s->own_macs);
    vxs_free((void *)s->timestamps);
}

void vxs_manifest_free(vxs_manifest_t *m) {
    if (m == NULL) return;
    for (size_t i = 0; i < m->n_agents; i++) {
        vxs_manifest_agent_t *ag = &m->agents[i];
        for (size_t j = 0; j < ag->n_sources; j++) free_source(&ag->sources[j]);
        vxs_free(ag->sources);
        vxs_free((void *)ag->id);
    }
    vxs_free(m->agents);
    vxs_free((void *)m->name);
    vxs_free((void *)m->base_dir);
    vxs_free((void *)m->export_opts.out);
    vxs_free(m);
}

const char *vxs_agent_type_name(vxs_agent_type_t t) {
    return (unsigned)t < 3 ? k_agent_types[t] : "unknown";
}

const char *vxs_source_kind_name(vxs_source_kind_t k) {
    return (unsigned)k < VXS_SOURCE_KIND_COUNT ? k_kinds[k] : "unknown";
}

/* ---- the job's source order --------------------------------------------------------------- */

size_t vxs_manifest_source_count(const vxs_manifest_t *m) {
    size_t n = 0;
    for (size_t a = 0; m && a < m->n_agents; a++) n += m->agents[a].n_sources;
    return n;
}

static int cmp_ref(const vxs_manifest_t *m, const vxs_source_ref_t *x, const vxs_source_ref_t *y) {
    const int c = strcmp(m->agents[x->agent].id, m->agents[y->agent].id);
    return c ? c : strcmp(m->agents[x->agent].sources[x->source].sensor,
                          m->agents[y->agent].sources[y->source].sensor);
}

void vxs_manifest_source_order(const vxs_manifest_t *m, vxs_source_ref_t *out) {
    size_t n = 0;
    if (!m || !out) return;
    for (size_t a = 0; a < m->n_agents; a++)
        for (size_t k = 0; k < m->agents[a].n_sources; k++) out[n++] = (vxs_source_ref_t){a, k};
    /* insertion sort: stable, and a scenario has at most a few hundred sources */
    for (size_t i = 1; i < n; i++)
        for (size_t j = i; j > 0 && cmp_ref(m, &out[j - 1], &out[j]) > 0; j--) {
            const vxs_source_ref_t t = out[j];
            out[j] = out[j - 1];
            out[j - 1] = t;
        }
}
