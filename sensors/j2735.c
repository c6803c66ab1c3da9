/*
 * j2735.c: SAE J2735 (2016 / 2020) messages in UPER: the MessageFrame; the BasicSafetyMessage's
 * core data and Part II presence; the PersonalSafetyMessage up to its heading; SPaT (every
 * intersection walked: ids, revision, status, times); MAP (the whole MapData walked: every
 * intersection's id, the first one's refPoint; lanes, nodes, road segments etc. skipped);
 * TIM up to its data frame count. SPaT and MAP must end within their padding octet. Field
 * order and widths: ../shared/specs/v2x-wire-formats.md §1 (the 290-bit coreData table,
 * verified on three independent vectors) and J2735's ASN.1 (facts only); for the MAP walk the
 * J2735 2020 modules in usdot-jpo-ode/asn1_codec @ asn1c_combined/j2735-asn-files/2020/
 * J2735-MapData.asn and J2735-Common.asn (commit 31ab0738dbbc), checked against asn1c's decode
 * of the jpo-ode sample MAP. Other message ids are returned with their id (decoded = false).
 */
#include <math.h>
#include <string.h>

#include "vxs_core.h"
#include "vxs_core_int.h"
#include "vxs_v2x.h"
#include "v2x_int.h"
#include "j2735_int.h"

#define FIELD VXSI_UPER
#define unavail vxsi_unavail
/* VALUE reads a value of the message (vxsi_value): out of range, it is absent and counted, and
 * the message goes on; only the end of the input fails. */
#define VALUE(var, lo, hi, name)                                                                 \
    do {                                                                                         \
        if (!vxsi_value(b, &(var), (lo), (hi), m, (name))) {                                    \
            vxsi_fmt(err, err_len, "%s: bit %zu: %s cut short", what, b->pos, (name));           \
            return VXS_E_TRUNCATED;                                                              \
        }                                                                                        \
    } while (0)
#define OK_VALUE(v) ((v) != VXSI_OUT_OF_RANGE)

/* ---- UPER skipping (each returns false when the input ends first) -------------------------- */

/* skip_open skips an open type: a length determinant and that many octets. */
static bool skip_open(vxs_br_t *b) {
    size_t l;
    return vxs_br_length(b, &l) && l <= vxs_br_left(b) / 8 && vxs_br_skip(b, l * 8);
}

/* skip_ext skips the extension additions of a SEQUENCE whose extension bit was set
 * (X.691 §19.7): a normally small length n, n presence bits, an open type per present one. */
static bool skip_ext(vxs_br_t *b) {
    uint64_t n1, bits;
    if (!vxs_br_nsnn(b, &n1) || n1 >= 64 || !vxs_br_bits(b, &bits, (unsigned)n1 + 1))
        return false;
    for (unsigned i = 0; i <= n1; i++)
        if ((bits >> (n1 - i) & 1) && !skip_open(b)) return false;
    return true;
}

/* skip_regional skips SEQUENCE (SIZE(1..4)) OF RegionalExtension { regionId 0..255, regExtValue
 * open type }. */
static bool skip_regional(vxs_br_t *b) {
    int64_t n;
    if (!vxs_br_cons(b, &n, 1, 4)) return false;
    for (int64_t i = 0; i < n; i++)
        if (!vxs_br_skip(b, 8) || !skip_open(b)) return false;
    return true;
}

/* skip_ia5 skips an IA5String (SIZE(lo..hi)): the length, then 7 bits per character. */
static bool skip_ia5(vxs_br_t *b, int64_t lo, int64_t hi) {
    int64_t n;
    return vxs_br_cons(b, &n, lo, hi) && vxs_br_skip(b, (size_t)n * 7);
}

/* skip_enum_ext skips an extensible ENUMERATED with `root_bits` bits for its root values. */
static bool skip_enum_ext(vxs_br_t *b, unsigned root_bits) {
    bool e;
    uint64_t v;
    if (!vxs_br_bool(b, &e)) return false;
    return e ? vxs_br_nsnn(b, &v) : vxs_br_skip(b, root_bits);
}

/* presence reads an extension bit (when `ext`) and `n` presence bits, first optional field
 * in the highest bit of *opt. */
static bool presence(vxs_br_t *b, bool ext, unsigned n, bool *out_ext, uint64_t *opt) {
    *out_ext = false;
    if (ext && !vxs_br_bool(b, out_ext)) return false;
    return vxs_br_bits(b, opt, n);
}

#define HAS(opt, n, i) (((opt) >> ((n) - 1 - (i))) & 1) /* i-th of n optional fields */

/* accuracy sets the claimed PositionalAccuracy: semi-axes in 0.05 m (254: 12.7 m or more, 255:
 * unavailable), orientation in 360/65535 deg (65535: unavailable); one standard deviation. */
static void accuracy(vxs_v2x_msg_t *m, int64_t smaj, int64_t smin, int64_t ori) {
    m->pos_semi_major_m = smaj == 255 || !OK_VALUE(smaj) ? NAN : (double)smaj * 0.05;
    m->pos_semi_minor_m = smin == 255 || !OK_VALUE(smin) ? NAN : (double)smin * 0.05;
    m->pos_orientation_deg =
        ori == 65535 || !OK_VALUE(ori) ? NAN : (double)ori * (360.0 / 65535.0);
    m->pos_confidence_95 = false;
}

/* bsm_core reads BSMcoreData (290 bits, no preamble). */
static vxs_status_t bsm_core(vxs_v2x_msg_t *m, vxs_br_t *b, const char *what, char *err,
                             size_t err_len) {
    int64_t cnt, id, sec, lat, lon, elev, smaj, smin, ori, trans, speed, heading, angle, along,
        alat, avert, ayaw, wheel, trac, abs_, scs, boost, aux, width, length;
    FIELD(cnt, 0, 127, "msgCnt");
    FIELD(id, 0, 0xFFFFFFFFLL, "id");
    FIELD(sec, 0, 65535, "secMark");
    VALUE(lat, -900000000, 900000001, "lat");
    VALUE(lon, -1799999999, 1800000001, "long");
    VALUE(elev, -4096, 61439, "elev");
    VALUE(smaj, 0, 255, "accuracy.semiMajor");
    VALUE(smin, 0, 255, "accuracy.semiMinor");
    VALUE(ori, 0, 65535, "accuracy.orientation");
    FIELD(trans, 0, 7, "transmission");
    VALUE(speed, 0, 8191, "speed");
    VALUE(heading, 0, 28800, "heading");
    FIELD(angle, -126, 127, "angle");
    VALUE(along, -2000, 2001, "accelSet.long");
    VALUE(alat, -2000, 2001, "accelSet.lat");
    VALUE(avert, -127, 127, "accelSet.vert");
    VALUE(ayaw, -32767, 32767, "accelSet.yaw");
    FIELD(wheel, 0, 31, "brakes.wheelBrakes");
    FIELD(trac, 0, 3, "brakes.traction");
    FIELD(abs_, 0, 3, "brakes.abs");
    FIELD(scs, 0, 3, "brakes.scs");
    FIELD(boost, 0, 2, "brakes.brakeBoost");
    FIELD(aux, 0, 3, "brakes.auxBrakes");
    VALUE(width, 0, 1023, "size.width");
    VALUE(length, 0, 4095, "size.length");
    (void)trans, (void)angle, (void)wheel, (void)trac, (void)abs_, (void)scs, (void)boost,
        (void)aux;
    accuracy(m, smaj, smin, ori);
    m->msg_cnt = (int)cnt;
    m->station_id = id;
    m->sec_mark = sec == 65535 ? -1 : (int32_t)sec;
    /* one coordinate without the other is no position */
    const bool pos = OK_VALUE(lat) && OK_VALUE(lon);
    m->lat_deg = pos ? unavail(lat, 900000001, 1e-7) : NAN;
    m->lon_deg = pos ? unavail(lon, 1800000001, 1e-7) : NAN;
    m->elev_m = unavail(elev, -4096, 0.1);
    m->speed_mps = unavail(speed, 8191, 0.02);
    m->heading_deg = unavail(heading, 28800, 0.0125);
    m->accel_long_mps2 = unavail(along, 2001, 0.01);
    m->accel_lat_mps2 = unavail(alat, 2001, 0.01);
    m->accel_vert_mps2 = unavail(avert, -127, 0.02 * 9.80665);
    m->yaw_rate_dps = OK_VALUE(ayaw) ? (double)ayaw * 0.01 : NAN;
    m->width_m = width == 0 || !OK_VALUE(width) ? NAN : (double)width * 0.01;
    m->length_m = length == 0 || !OK_VALUE(length) ? NAN : (double)length * 0.01;
    return VXS_OK;
}

static vxs_status_t bsm(vxs_v2x_msg_t *m, vxs_br_t *b, char *err, size_t err_len) {
    const char *what = "BSM";
    bool ext, part2, regional;
    if (!vxs_br_bool(b, &ext) || !vxs_br_bool(b, &part2) || !vxs_br_bool(b, &regional)) {
        vxsi_fmt(err, err_len, "BSM: bit %zu: preamble cut short", b->pos);
        return VXS_E_TRUNCATED;
    }
    VXS_FORWARD(bsm_core(m, b, what, err, err_len));
    m->bsm_has_part2 = part2;
    if (part2) {
        int64_t count;
        FIELD(count, 1, 8, "partII count");
        for (int64_t i = 0; i < count; i++) {
            int64_t pid;
            size_t l;
            FIELD(pid, 0, 63, "partII-Id");
            if (!vxs_br_length(b, &l) || !vxs_br_skip(b, l * 8)) {
                vxsi_fmt(err, err_len, "BSM: bit %zu: partII value cut short", b->pos);
                return VXS_E_TRUNCATED;
            }
            if (pid < 16) m->bsm_part2_ids |= (uint16_t)(1u << pid);
        }
    }
    m->decoded = true;
    return VXS_OK;
}

/* psm reads a PersonalSafetyMessage up to its heading: preamble (extension bit and 18
 * presence bits of the optional fields that follow), basicType (extensible ENUMERATED),
 * secMark, msgCnt, id, position (Position3D: extension bit, elevation and regional presence),
 * accuracy, speed, heading. */
static vxs_status_t psm(vxs_v2x_msg_t *m, vxs_br_t *b, char *err, size_t err_len) {
    const char *what = "PSM";
    int64_t pre, type, sec, cnt, id, lat, lon, elev = -4096, smaj, smin, ori, speed, heading;
    bool text, pext, has_elev, has_reg;
    FIELD(pre, 0, (1 << 19) - 1, "preamble");
    if (!vxs_br_bool(b, &text)) goto cut;
    if (text) {
        uint64_t idx;
        if (!vxs_br_nsnn(b, &idx)) goto cut;
        if (idx > 1000) { /* an index no J2735 revision can add: the bits are not a PSM */
            vxsi_fmt(err, err_len, "PSM: bit %zu: basicType extension index %llu out of range",
                     b->pos, (unsigned long long)idx);
            return VXS_E_MALFORMED;
        }
        type = 5 + (int64_t)idx; /* an extension value */
    } else {
        FIELD(type, 0, 4, "basicType");
    }
    FIELD(sec, 0, 65535, "secMark");
    FIELD(cnt, 0, 127, "msgCnt");
    FIELD(id, 0, 0xFFFFFFFFLL, "id");
    if (!vxs_br_bool(b, &pext) || !vxs_br_bool(b, &has_elev) || !vxs_br_bool(b, &has_reg))
        goto cut;
    /* Position3D's extension additions follow its root, after the regional list */
    VALUE(lat, -900000000, 900000001, "position.lat");
    VALUE(lon, -1799999999, 1800000001, "position.long");
    if (has_elev) VALUE(elev, -4096, 61439, "position.elevation");
    if (has_reg && !skip_regional(b)) goto cut;
    if (pext && !skip_ext(b)) goto cut;
    VALUE(smaj, 0, 255, "accuracy.semiMajor");
    VALUE(smin, 0, 255, "accuracy.semiMinor");
    VALUE(ori, 0, 65535, "accuracy.orientation");
    VALUE(speed, 0, 8191, "speed");
    VALUE(heading, 0, 28800, "heading");
    (void)pre;
    accuracy(m, smaj, smin, ori);
    m->station_type = (int)type;
    m->sec_mark = sec == 65535 ? -1 : (int32_t)sec;
    m->msg_cnt = (int)cnt;
    m->station_id = id;
    const bool pos = OK_VALUE(lat) && OK_VALUE(lon);
    m->lat_deg = pos ? unavail(lat, 900000001, 1e-7) : NAN;
    m->lon_deg = pos ? unavail(lon, 1800000001, 1e-7) : NAN;
    m->elev_m = unavail(elev, -4096, 0.1);
    m->speed_mps = unavail(speed, 8191, 0.02);
    m->heading_deg = unavail(heading, 28800, 0.0125);
    m->decoded = true;
    return VXS_OK;
cut:
    vxsi_fmt(err, err_len, "PSM: bit %zu: cut short", b->pos);
    return VXS_E_TRUNCATED;
}

/* ---- SPaT --------------------------------------------------------------------------------- */

/* The SPaT walk returns false when the input ends (or a field is out of range) at b->pos. */

/* maneuver_assist skips a ManeuverAssistList: 1..16 ConnectionManeuverAssist { connectionID,
 * queueLength, availableStorageLength, waitOnStop, pedBicycleDetect, regional, ... }. */
static bool maneuver_assist(vxs_br_t *b) {
    int64_t n;
    if (!vxs_br_cons(b, &n, 1, 16)) return false;
    for (int64_t i = 0; i < n; i++) {
        bool ext;
        uint64_t o;
        if (!presence(b, true, 5, &ext, &o) || !vxs_br_skip(b, 8)) return false;
        if (HAS(o, 5, 0) && !vxs_br_skip(b, 14)) return false; /* ZoneLength 0..10000 */
        if (HAS(o, 5, 1) && !vxs_br_skip(b, 14)) return false;
        if (HAS(o, 5, 2) && !vxs_br_skip(b, 1)) return false;  /* BOOLEAN */
        if (HAS(o, 5, 3) && !vxs_br_skip(b, 1)) return false;
        if (HAS(o, 5, 4) && !skip_regional(b)) return false;
        if (ext && !skip_ext(b)) return false;
    }
    return true;
}

/* movement_event skips a MovementEvent { eventState (4 bits), timing TimeChangeDetails,
 * speeds AdvisorySpeedList, regional, ... }. */
static bool movement_event(vxs_br_t *b) {
    bool ext;
    uint64_t o;
    if (!presence(b, true, 3, &ext, &o) || !vxs_br_skip(b, 4)) return false;
    if (HAS(o, 3, 0)) { /* TimeChangeDetails: no extension; minEndTime always there */
        uint64_t t;
        if (!vxs_br_bits(b, &t, 5)) return false;
        size_t bits = 16 + (HAS(t, 5, 0) + HAS(t, 5, 1) + HAS(t, 5, 2) + HAS(t, 5, 4)) * 16 +
                      HAS(t, 5, 3) * 4;
        if (!vxs_br_skip(b, bits)) return false;
    }
    if (HAS(o, 3, 1)) { /* AdvisorySpeedList 1..16 */
        int64_t n;
        if (!vxs_br_cons(b, &n, 1, 16)) return false;
        for (int64_t i = 0; i < n; i++) {
            bool e2;
            uint64_t a;
            if (!presence(b, true, 5, &e2, &a) || !skip_enum_ext(b, 2)) return false;
            size_t bits = HAS(a, 5, 0) * 9 + HAS(a, 5, 1) * 3 + HAS(a, 5, 2) * 14 +
                          HAS(a, 5, 3) * 8;
            if (!vxs_br_skip(b, bits)) return false;
            if (HAS(a, 5, 4) && !skip_regional(b)) return false;
            if (e2 && !skip_ext(b)) return false;
        }
    }
    if (HAS(o, 3, 2) && !skip_regional(b)) return false;
    return !ext || skip_ext(b);
}

/* movement_state skips a MovementState { movementName, signalGroup, state-time-speed,
 * maneuverAssistList, regional, ... }. */
static bool movement_state(vxs_br_t *b) {
    bool ext;
    uint64_t o;
    int64_t n;
    if (!presence(b, true, 3, &ext, &o)) return false;
    if (HAS(o, 3, 0) && !skip_ia5(b, 1, 63)) return false;
    if (!vxs_br_skip(b, 8) || !vxs_br_cons(b, &n, 1, 16)) return false;
    for (int64_t i = 0; i < n; i++)
        if (!movement_event(b)) return false;
    if (HAS(o, 3, 1) && !maneuver_assist(b)) return false;
    if (HAS(o, 3, 2) && !skip_regional(b)) return false;
    return !ext || skip_ext(b);
}

/* intersection_ref reads an IntersectionReferenceID { region OPTIONAL, id } as
 * region << 16 | id. */
static bool intersection_ref(vxs_br_t *b, int64_t *out) {
    bool has_region;
    int64_t region = 0, id;
    if (!vxs_br_bool(b, &has_region)) return false;
    if (has_region && !vxs_br_cons(b, &region, 0, 65535)) return false;
    if (!vxs_br_cons(b, &id, 0, 65535)) return false;
    *out = region << 16 | id;
    return true;
}

/* intersection_state reads an IntersectionState { name, id, revision, status, moy,
 * timeStamp, enabledLanes, states, maneuverAssistList, regional, ... }: the id, and for the
 * first intersection the time fields when the SPaT itself has none. */
static bool intersection_state(vxs_v2x_msg_t *m, vxs_br_t *b, int64_t index) {
    bool ext;
    uint64_t o;
    int64_t id, moy, ts, n;
    if (!presence(b, true, 6, &ext, &o)) return false;
    if (HAS(o, 6, 0) && !skip_ia5(b, 1, 63)) return false;
    if (!intersection_ref(b, &id)) return false;
    if (index < VXS_V2X_MAX_INTERSECTIONS) m->intersection_ids[index] = id;
    if (!vxs_br_skip(b, 7 + 16)) return false; /* revision MsgCount, status BIT STRING(16) */
    if (HAS(o, 6, 1)) {
        if (!vxs_br_cons(b, &moy, 0, 527040)) return false;
        if (index == 0 && m->moy < 0) m->moy = (int32_t)moy;
    }
    if (HAS(o, 6, 2)) {
        if (!vxs_br_cons(b, &ts, 0, 65535)) return false;
        if (index == 0 && ts != 65535) m->sec_mark = (int32_t)ts;
    }
    if (HAS(o, 6, 3)) { /* EnabledLaneList: 1..16 LaneIDs */
        if (!vxs_br_cons(b, &n, 1, 16) || !vxs_br_skip(b, (size_t)n * 8)) return false;
    }
    if (!vxs_br_cons(b, &n, 1, 255)) return false;
    for (int64_t i = 0; i < n; i++)
        if (!movement_state(b)) return false;
    if (HAS(o, 6, 4) && !maneuver_assist(b)) return false;
    if (HAS(o, 6, 5) && !skip_regional(b)) return false;
    return !ext || skip_ext(b);
}

/* vxsi_j2735_spat reads a SPAT { timeStamp MinuteOfTheYear, name, intersections, regional, ... }:
 * timeStamp → moy; every intersection walked (their ids kept, up to
 * VXS_V2X_MAX_INTERSECTIONS); the first intersection's moy / timeStamp (DSecond) → moy (when
 * the SPaT has none) / sec_mark. The value must end within the padding octet. */
vxs_status_t vxsi_j2735_spat(vxs_v2x_msg_t *m, vxs_br_t *b, const char *what, char *err,
                             size_t err_len) {
    bool ext;
    uint64_t o;
    int64_t moy, n;
    if (!presence(b, true, 3, &ext, &o)) goto cut;
    if (HAS(o, 3, 0)) {
        FIELD(moy, 0, 527040, "timeStamp");
        m->moy = (int32_t)moy;
    }
    if (HAS(o, 3, 1) && !skip_ia5(b, 1, 63)) goto cut;
    FIELD(n, 1, 32, "intersections count");
    m->n_intersections = (int)n;
    for (int64_t i = 0; i < n; i++) {
        if (!intersection_state(m, b, i)) {
            vxsi_fmt(err, err_len, "%s: bit %zu: intersection %d cut short or malformed", what,
                     b->pos, (int)i);
            return VXS_E_TRUNCATED;
        }
    }
    if (HAS(o, 3, 2) && !skip_regional(b)) goto cut;
    if (ext && !skip_ext(b)) goto cut;
    if (vxs_br_left(b) >= 8) { /* only the padding to the octet may follow */
        vxsi_fmt(err, err_len, "%s: bit %zu: value ends but %zu bits left over", what, b->pos,
                 vxs_br_left(b));
        return VXS_E_MALFORMED;
    }
    m->decoded = true;
    return VXS_OK;
cut:
    vxsi_fmt(err, err_len, "%s: bit %zu: cut short", what, b->pos);
    return VXS_E_TRUNCATED;
}

/* ---- MAP ---------------------------------------------------------------------------------- */

/* The MAP walk, like the SPaT one, returns false when the input ends (or a field is out of
 * range) at b->pos. Types, field order, OPTIONAL / extension markers and ranges are those of
 * J2735's MapData and Common modules (see the header comment); every SEQUENCE OF is read with
 * its SIZE constraint, so every loop is bounded and every iteration consumes input. */

/* enum_ext reads an extensible ENUMERATED with `n_root` root values: the extension bit, then
 * the root index as a constrained number 0..n_root-1 (unused codes rejected), or a normally
 * small index for an extension value. */
static bool enum_ext(vxs_br_t *b, int64_t n_root) {
    bool e;
    int64_t v;
    uint64_t x;
    if (!vxs_br_bool(b, &e)) return false;
    return e ? vxs_br_nsnn(b, &x) : vxs_br_cons(b, &v, 0, n_root - 1);
}

/* skip_ext_alt skips the extension alternative of an extensible CHOICE whose extension bit
 * was set (X.691 §23.8): a normally small index and an open type. */
static bool skip_ext_alt(vxs_br_t *b) {
    uint64_t idx;
    return vxs_br_nsnn(b, &idx) && skip_open(b);
}

/* skip_reg_ext skips one RegionalExtension { regionId 0..255, regExtValue open type }. */
static bool skip_reg_ext(vxs_br_t *b) { return vxs_br_skip(b, 8) && skip_open(b); }

/* speed_limits skips a SpeedLimitList: 1..9 RegulatorySpeedLimit { type SpeedLimitType
 * (extensible, 13 root values), speed Velocity 0..8191 } (no extension marker). */
static bool speed_limits(vxs_br_t *b) {
    int64_t n, v;
    if (!vxs_br_cons(b, &n, 1, 9)) return false;
    for (int64_t i = 0; i < n; i++)
        if (!enum_ext(b, 13) || !vxs_br_cons(b, &v, 0, 8191)) return false;
    return true;
}

/* position3d reads a Position3D { lat, long, elevation OPTIONAL, regional OPTIONAL, ... };
 * *elev is -4096 (unavailable) when the elevation is absent. */
static bool position3d(vxs_br_t *b, int64_t *lat, int64_t *lon, int64_t *elev) {
    bool ext;
    uint64_t o;
    *elev = -4096;
    if (!presence(b, true, 2, &ext, &o)) return false;
    if (!vxs_br_cons(b, lat, -900000000, 900000001)) return false;
    if (!vxs_br_cons(b, lon, -1799999999, 1800000001)) return false;
    if (HAS(o, 2, 0) && !vxs_br_cons(b, elev, -4096, 61439)) return false;
    if (HAS(o, 2, 1) && !skip_regional(b)) return false;
    return !ext || skip_ext(b);
}

/* lane_type skips a LaneTypeAttributes CHOICE { vehicle, crosswalk, bikeLane, sidewalk,
 * median, striping, trackedVehicle, parking, ... }: BIT STRINGs of SIZE(16), except vehicle,
 * LaneAttributes-Vehicle ::= BIT STRING (SIZE(8, ...)): an extension bit, then 8 bits, or a
 * length determinant and that many bits. */
static bool lane_type(vxs_br_t *b) {
    bool e, big;
    int64_t alt;
    size_t l;
    if (!vxs_br_bool(b, &e)) return false;
    if (e) return skip_ext_alt(b);
    if (!vxs_br_cons(b, &alt, 0, 7)) return false;
    if (alt != 0) return vxs_br_skip(b, 16);
    if (!vxs_br_bool(b, &big)) return false;
    if (!big) return vxs_br_skip(b, 8);
    return vxs_br_length(b, &l) && vxs_br_skip(b, l);
}

/* lane_attributes skips a LaneAttributes { directionalUse BIT STRING(2), sharedWith BIT
 * STRING(10), laneType, regional RegionalExtension OPTIONAL } (no extension marker; one
 * RegionalExtension, not a list). */
static bool lane_attributes(vxs_br_t *b) {
    bool reg;
    if (!vxs_br_bool(b, &reg) || !vxs_br_skip(b, 2 + 10) || !lane_type(b)) return false;
    return !reg || skip_reg_ext(b);
}

/* lane_data_attribute skips a LaneDataAttribute CHOICE { pathEndPointAngle DeltaAngle
 * -150..150, laneCrownPointCenter / Left / Right RoadwayCrownAngle -128..127, laneAngle
 * MergeDivergeNodeAngle -180..180, speedLimits, regional (1..4), ... }. */
static bool lane_data_attribute(vxs_br_t *b) {
    bool e;
    int64_t alt, v;
    if (!vxs_br_bool(b, &e)) return false;
    if (e) return skip_ext_alt(b);
    if (!vxs_br_cons(b, &alt, 0, 6)) return false;
    switch (alt) {
    case 0: return vxs_br_cons(b, &v, -150, 150);
    case 1:
    case 2:
    case 3: return vxs_br_skip(b, 8);
    case 4: return vxs_br_cons(b, &v, -180, 180);
    case 5: return speed_limits(b);
    default: return skip_regional(b);
    }
}

/* node_attributes skips a NodeAttributeSetXY { localNode (1..8 NodeAttributeXY, extensible
 * ENUMERATED of 12), disabled, enabled (1..8 SegmentAttributeXY, extensible ENUMERATED of 38),
 * data (1..8 LaneDataAttribute), dWidth Offset-B10, dElevation Offset-B10, regional, ... }. */
static bool node_attributes(vxs_br_t *b) {
    bool ext;
    uint64_t o;
    int64_t n;
    static const int64_t n_root[3] = {12, 38, 38}; /* localNode, disabled, enabled */
    if (!presence(b, true, 7, &ext, &o)) return false;
    for (unsigned f = 0; f < 3; f++) {
        if (!HAS(o, 7, f)) continue;
        if (!vxs_br_cons(b, &n, 1, 8)) return false;
        for (int64_t i = 0; i < n; i++)
            if (!enum_ext(b, n_root[f])) return false;
    }
    if (HAS(o, 7, 3)) {
        if (!vxs_br_cons(b, &n, 1, 8)) return false;
        for (int64_t i = 0; i < n; i++)
            if (!lane_data_attribute(b)) return false;
    }
    if (HAS(o, 7, 4) && !vxs_br_skip(b, 10)) return false; /* dWidth -512..511 */
    if (HAS(o, 7, 5) && !vxs_br_skip(b, 10)) return false; /* dElevation -512..511 */
    if (HAS(o, 7, 6) && !skip_regional(b)) return false;
    return !ext || skip_ext(b);
}

/* node_xy skips a NodeXY { delta NodeOffsetPointXY, attributes OPTIONAL, ... }. The delta is a
 * CHOICE without extension marker of node-XY1..6 (x, y pairs of Offset-B10, -B11, -B12, -B13,
 * -B14, -B16: ranges -2^(k-1)..2^(k-1)-1, k bits each), node-LatLon Node-LLmD-64b { lon, lat }
 * and regional (one RegionalExtension). */
static bool node_xy(vxs_br_t *b) {
    static const unsigned xy_bits[6] = {10, 11, 12, 13, 14, 16};
    bool ext;
    uint64_t o;
    int64_t alt, lon, lat;
    if (!presence(b, true, 1, &ext, &o) || !vxs_br_cons(b, &alt, 0, 7)) return false;
    if (alt < 6) {
        if (!vxs_br_skip(b, 2 * xy_bits[alt])) return false;
    } else if (alt == 6) {
        if (!vxs_br_cons(b, &lon, -1799999999, 1800000001) ||
            !vxs_br_cons(b, &lat, -900000000, 900000001))
            return false;
    } else if (!skip_reg_ext(b)) {
        return false;
    }
    if (HAS(o, 1, 0) && !node_attributes(b)) return false;
    return !ext || skip_ext(b);
}

/* computed_lane skips a ComputedLane { referenceLaneId, offsetXaxis, offsetYaxis (each a
 * CHOICE { small -2047..2047, large -32767..32767 }), rotateXY Angle 0..28800 OPTIONAL,
 * scaleXaxis, scaleYaxis Scale-B12 OPTIONAL, regional OPTIONAL, ... }. */
static bool computed_lane(vxs_br_t *b) {
    bool ext, large;
    uint64_t o;
    int64_t v;
    if (!presence(b, true, 4, &ext, &o) || !vxs_br_skip(b, 8)) return false;
    for (int axis = 0; axis < 2; axis++) {
        if (!vxs_br_bool(b, &large)) return false;
        if (!(large ? vxs_br_cons(b, &v, -32767, 32767) : vxs_br_cons(b, &v, -2047, 2047)))
            return false;
    }
    if (HAS(o, 4, 0) && !vxs_br_cons(b, &v, 0, 28800)) return false;
    if (HAS(o, 4, 1) && !vxs_br_skip(b, 12)) return false; /* -2048..2047 */
    if (HAS(o, 4, 2) && !vxs_br_skip(b, 12)) return false;
    if (HAS(o, 4, 3) && !skip_regional(b)) return false;
    return !ext || skip_ext(b);
}

/* node_list skips a NodeListXY CHOICE { nodes NodeSetXY (2..63 NodeXY), computed, ... }. */
static bool node_list(vxs_br_t *b) {
    bool e;
    int64_t alt, n;
    if (!vxs_br_bool(b, &e)) return false;
    if (e) return skip_ext_alt(b);
    if (!vxs_br_cons(b, &alt, 0, 1)) return false;
    if (alt == 1) return computed_lane(b);
    if (!vxs_br_cons(b, &n, 2, 63)) return false;
    for (int64_t i = 0; i < n; i++)
        if (!node_xy(b)) return false;
    return true;
}

/* connects_to skips a ConnectsToList: 1..16 Connection { connectingLane ConnectingLane { lane,
 * maneuver AllowedManeuvers (12 bits) OPTIONAL }, remoteIntersection, signalGroup, userClass,
 * connectionID, all OPTIONAL } (neither has an extension marker). */
static bool connects_to(vxs_br_t *b) {
    int64_t n, ref;
    if (!vxs_br_cons(b, &n, 1, 16)) return false;
    for (int64_t i = 0; i < n; i++) {
        uint64_t o, man;
        if (!vxs_br_bits(b, &o, 4) || !vxs_br_bits(b, &man, 1)) return false;
        if (!vxs_br_skip(b, 8 + (man ? 12 : 0))) return false;
        if (HAS(o, 4, 0) && !intersection_ref(b, &ref)) return false;
        size_t bits = (HAS(o, 4, 1) + HAS(o, 4, 2) + HAS(o, 4, 3)) * 8;
        if (!vxs_br_skip(b, bits)) return false;
    }
    return true;
}

/* generic_lane skips a GenericLane { laneID, name, ingressApproach, egressApproach (0..15),
 * laneAttributes, maneuvers, nodeList, connectsTo, overlays (1..5 LaneIDs), regional, ... }. */
static bool generic_lane(vxs_br_t *b) {
    bool ext;
    uint64_t o;
    int64_t n;
    if (!presence(b, true, 7, &ext, &o) || !vxs_br_skip(b, 8)) return false;
    if (HAS(o, 7, 0) && !skip_ia5(b, 1, 63)) return false;
    if (!vxs_br_skip(b, (HAS(o, 7, 1) + HAS(o, 7, 2)) * 4)) return false;
    if (!lane_attributes(b)) return false;
    if (HAS(o, 7, 3) && !vxs_br_skip(b, 12)) return false;
    if (!node_list(b)) return false;
    if (HAS(o, 7, 4) && !connects_to(b)) return false;
    if (HAS(o, 7, 5)) {
        if (!vxs_br_cons(b, &n, 1, 5) || !vxs_br_skip(b, (size_t)n * 8)) return false;
    }
    if (HAS(o, 7, 6) && !skip_regional(b)) return false;
    return !ext || skip_ext(b);
}

/* lane_list skips a LaneList / RoadLaneSetList: 1..255 GenericLane. */
static bool lane_list(vxs_br_t *b) {
    int64_t n;
    if (!vxs_br_cons(b, &n, 1, 255)) return false;
    for (int64_t i = 0; i < n; i++)
        if (!generic_lane(b)) return false;
    return true;
}

/* intersection_geometry reads an IntersectionGeometry { name, id, revision, refPoint,
 * laneWidth 0..32767, speedLimits, laneSet, preemptPriorityData (1..32 SignalControlZone
 * { zone RegionalExtension, ... }), regional, ... }: its id, and for the first intersection
 * its refPoint. */
static bool intersection_geometry(vxs_v2x_msg_t *m, vxs_br_t *b, int64_t index) {
    bool ext;
    uint64_t o;
    int64_t id, lat, lon, elev, v, n;
    if (!presence(b, true, 5, &ext, &o)) return false;
    if (HAS(o, 5, 0) && !skip_ia5(b, 1, 63)) return false;
    if (!intersection_ref(b, &id)) return false;
    if (index < VXS_V2X_MAX_INTERSECTIONS) m->intersection_ids[index] = id;
    if (!vxs_br_skip(b, 7) || !position3d(b, &lat, &lon, &elev)) return false;
    if (index == 0) {
        m->lat_deg = unavail(lat, 900000001, 1e-7);
        m->lon_deg = unavail(lon, 1800000001, 1e-7);
        m->elev_m = unavail(elev, -4096, 0.1);
    }
    if (HAS(o, 5, 1) && !vxs_br_cons(b, &v, 0, 32767)) return false;
    if (HAS(o, 5, 2) && !speed_limits(b)) return false;
    if (!lane_list(b)) return false;
    if (HAS(o, 5, 3)) {
        if (!vxs_br_cons(b, &n, 1, 32)) return false;
        for (int64_t i = 0; i < n; i++) {
            bool zext;
            if (!vxs_br_bool(b, &zext) || !skip_reg_ext(b)) return false;
            if (zext && !skip_ext(b)) return false;
        }
    }
    if (HAS(o, 5, 4) && !skip_regional(b)) return false;
    return !ext || skip_ext(b);
}

/* road_segments skips a RoadSegmentList: 1..32 RoadSegment { name, id RoadSegmentReferenceID
 * (same layout as IntersectionReferenceID), revision, refPoint, laneWidth, speedLimits,
 * roadLaneSet, regional, ... }. */
static bool road_segments(vxs_br_t *b) {
    int64_t n, id, lat, lon, elev, v;
    if (!vxs_br_cons(b, &n, 1, 32)) return false;
    for (int64_t i = 0; i < n; i++) {
        bool ext;
        uint64_t o;
        if (!presence(b, true, 4, &ext, &o)) return false;
        if (HAS(o, 4, 0) && !skip_ia5(b, 1, 63)) return false;
        if (!intersection_ref(b, &id) || !vxs_br_skip(b, 7)) return false;
        if (!position3d(b, &lat, &lon, &elev)) return false;
        if (HAS(o, 4, 1) && !vxs_br_cons(b, &v, 0, 32767)) return false;
        if (HAS(o, 4, 2) && !speed_limits(b)) return false;
        if (!lane_list(b)) return false;
        if (HAS(o, 4, 3) && !skip_regional(b)) return false;
        if (ext && !skip_ext(b)) return false;
    }
    return true;
}

/* data_parameters skips a DataParameters { processMethod, processAgency, lastCheckedDate,
 * geoidUsed (each IA5String (SIZE(1..255)) OPTIONAL), ... }. */
static bool data_parameters(vxs_br_t *b) {
    bool ext;
    uint64_t o;
    if (!presence(b, true, 4, &ext, &o)) return false;
    for (unsigned i = 0; i < 4; i++)
        if (HAS(o, 4, i) && !skip_ia5(b, 1, 255)) return false;
    return !ext || skip_ext(b);
}

/* restriction_list skips a RestrictionClassList: 1..254 RestrictionClassAssignment { id
 * 0..255, users (1..16 RestrictionUserType CHOICE { basicType RestrictionAppliesTo
 * (extensible ENUMERATED of 14), regional (1..4), ... }) }. */
static bool restriction_list(vxs_br_t *b) {
    int64_t n, users, alt;
    if (!vxs_br_cons(b, &n, 1, 254)) return false;
    for (int64_t i = 0; i < n; i++) {
        if (!vxs_br_skip(b, 8) || !vxs_br_cons(b, &users, 1, 16)) return false;
        for (int64_t u = 0; u < users; u++) {
            bool e;
            if (!vxs_br_bool(b, &e)) return false;
            if (e) {
                if (!skip_ext_alt(b)) return false;
                continue;
            }
            if (!vxs_br_cons(b, &alt, 0, 1)) return false;
            if (!(alt == 0 ? enum_ext(b, 14) : skip_regional(b))) return false;
        }
    }
    return true;
}

/* vxsi_j2735_map reads a MapData { timeStamp, msgIssueRevision, layerType, layerID, intersections,
 * roadSegments, dataParameters, restrictionList, regional, ... } walking the whole value:
 * msgIssueRevision → msg_cnt, timeStamp → moy, every intersection's id (up to
 * VXS_V2X_MAX_INTERSECTIONS; n_intersections counts them all), the first intersection's
 * refPoint → lat_deg / lon_deg / elev_m. The value must end within the padding octet. */
vxs_status_t vxsi_j2735_map(vxs_v2x_msg_t *m, vxs_br_t *b, const char *what, char *err,
                            size_t err_len) {
    const char *part = "preamble";
    bool ext;
    uint64_t o;
    int64_t moy, rev, layer, n;
    if (!presence(b, true, 8, &ext, &o)) goto cut;
    if (HAS(o, 8, 0)) {
        FIELD(moy, 0, 527040, "timeStamp");
        m->moy = (int32_t)moy;
    }
    FIELD(rev, 0, 127, "msgIssueRevision");
    m->msg_cnt = (int)rev;
    part = "layerType";
    if (HAS(o, 8, 1) && !enum_ext(b, 8)) goto cut;
    if (HAS(o, 8, 2)) FIELD(layer, 0, 100, "layerID");
    (void)layer;
    m->n_intersections = 0;
    if (HAS(o, 8, 3)) {
        FIELD(n, 1, 32, "intersections count");
        m->n_intersections = (int)n;
        for (int64_t i = 0; i < n; i++) {
            if (!intersection_geometry(m, b, i)) {
                vxsi_fmt(err, err_len, "%s: bit %zu: intersection %d cut short or malformed", what,
                         b->pos, (int)i);
                return VXS_E_TRUNCATED;
            }
        }
    }
    part = "roadSegments";
    if (HAS(o, 8, 4) && !road_segments(b)) goto cut;
    part = "dataParameters";
    if (HAS(o, 8, 5) && !data_parameters(b)) goto cut;
    part = "restrictionList";
    if (HAS(o, 8, 6) && !restriction_list(b)) goto cut;
    part = "regional";
    if (HAS(o, 8, 7) && !skip_regional(b)) goto cut;
    part = "extension additions";
    if (ext && !skip_ext(b)) goto cut;
    if (vxs_br_left(b) >= 8) {
        vxsi_fmt(err, err_len, "%s: bit %zu: value ends but %zu bits left over", what, b->pos,
                 vxs_br_left(b));
        return VXS_E_MALFORMED;
    }
    m->decoded = true;
    return VXS_OK;
cut:
    vxsi_fmt(err, err_len, "%s: bit %zu: %s cut short or malformed", what, b->pos, part);
    return VXS_E_TRUNCATED;
}

/* ---- TIM ---------------------------------------------------------------------------------- */

/* tim reads a TravelerInformation { msgCnt, timeStamp MinuteOfTheYear, packetID
 * UniqueMSGID (9 octets), urlB URL-Base, dataFrames (1..8), regional, ... } up to the count
 * of its data frames (→ tim_frames); the frames themselves are not walked. */
static vxs_status_t tim(vxs_v2x_msg_t *m, vxs_br_t *b, char *err, size_t err_len) {
    const char *what = "TIM";
    bool ext;
    uint64_t o;
    int64_t cnt, moy, n;
    if (!presence(b, true, 4, &ext, &o)) goto cut;
    FIELD(cnt, 0, 127, "msgCnt");
    m->msg_cnt = (int)cnt;
    if (HAS(o, 4, 0)) {
        FIELD(moy, 0, 527040, "timeStamp");
        m->moy = (int32_t)moy;
    }
    if (HAS(o, 4, 1)) { /* packetID: OCTET STRING (SIZE(9)), unaligned */
        if (!vxs_br_octets(b, m->tim_packet_id, sizeof m->tim_packet_id)) goto cut;
        m->has_tim_packet_id = true;
    }
    if (HAS(o, 4, 2)) { /* urlB: IA5String (SIZE(1..45)) */
        if (!skip_ia5(b, 1, 45)) goto cut;
        m->tim_has_url = true;
    }
    FIELD(n, 1, 8, "dataFrames count");
    m->tim_frames = (int)n;
    m->decoded = true;
    return VXS_OK;
cut:
    vxsi_fmt(err, err_len, "TIM: bit %zu: cut short", b->pos);
    return VXS_E_TRUNCATED;
}

/* ---- MessageFrame ------------------------------------------------------------------------- */

/*
 * MessageFrame ::= SEQUENCE { messageId (0..32767), value open type, ... }:
 *   ext(1) | messageId(15) | length determinant (8 or 16 bits) | value octets
 * The value therefore always starts on an octet boundary; it is decoded from its own octets,
 * so a message that ends early cannot read into what follows.
 */
vxs_status_t vxsi_j2735_frame(vxs_v2x_msg_t *out, const uint8_t *p, size_t len, char *err,
                              size_t err_len) {
    vxs_br_t br = vxs_br_init(p, len);
    vxs_br_t *b = &br;
    bool ext;
    int64_t id;
    size_t vlen;
    const char *what = "MessageFrame";
    out->protocol = VXS_V2X_PROTO_J2735;
    out->payload_len = len;
    if (!vxs_br_bool(b, &ext)) {
        vxsi_fmt(err, err_len, "MessageFrame: empty");
        return VXS_E_TRUNCATED;
    }
    FIELD(id, 0, 32767, "messageId");
    out->msg_id = (int)id;
    if (!vxs_br_length(b, &vlen)) {
        vxsi_fmt(err, err_len, "MessageFrame: bit %zu: value length cut short", b->pos);
        return VXS_E_TRUNCATED;
    }
    if (b->pos % 8 != 0 || vlen > 16383) { /* fragmented (>= 16K) value */
        vxsi_fmt(err, err_len, "MessageFrame: bit %zu: value of %zu bytes (fragmented) not "
                 "supported", b->pos, vlen);
        return VXS_E_UNSUPPORTED;
    }
    if (vlen > vxs_br_left(b) / 8) {
        vxsi_fmt(err, err_len, "MessageFrame: byte %zu: value of %zu bytes but %zu follow",
                 b->pos / 8, vlen, vxs_br_left(b) / 8);
        return VXS_E_TRUNCATED;
    }
    vxs_br_t vb = vxs_br_init(p + b->pos / 8, vlen);
    switch (id) {
    case VXS_J2735_BSM: return bsm(out, &vb, err, err_len);
    case VXS_J2735_PSM: return psm(out, &vb, err, err_len);
    case VXS_J2735_SPAT: return vxsi_j2735_spat(out, &vb, "SPaT", err, err_len);
    case VXS_J2735_MAP: return vxsi_j2735_map(out, &vb, "MAP", err, err_len);
    case VXS_J2735_TIM: return tim(out, &vb, err, err_len);
    default: return VXS_OK; /* kept with its id, not decoded */
    }
}

vxs_status_t vxs_v2x_decode_j2735(vxs_v2x_msg_t *out, const uint8_t *p, size_t len, char *err,
                                  size_t err_len) {
    VXS_RETURN_IF(out == NULL || (p == NULL && len), VXS_E_ARG);
    vxs_v2x_msg_init(out);
    return vxsi_j2735_frame(out, p, len, err, err_len);
}
