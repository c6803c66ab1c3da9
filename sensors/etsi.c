/*
 * etsi.c: the ETSI ITS-G5 stack: GeoNetworking (basic, secured, common and extended headers
 * with the position vectors), BTP-A/B, the ITS PDU header, and the messages behind it in UPER:
 * CAM (v1.3 as protocolVersion 1, EN 302 637-2 v1.4.1 and TS 103 900 Release 2 as
 * protocolVersion 2), DENM, CPM (TS 103 324 v2.1.1), VAM, and SPATEM and MAPEM (their SPAT and
 * MapData walked by j2735.c). Layouts: ../shared/specs/v2x-wire-formats.md §2. Other messages
 * are returned with their ITS PDU header (decoded = false).
 *
 * Every decoder reads fields in the order of the ASN.1 and stops as soon as what v2xsync reports
 * has been read, except where a later field can only be reached by parsing everything before it
 * (the CAM's optional high-frequency fields, low-frequency and special-vehicle containers, before
 * a Release 2 extension; every perceived object before the next). Nothing is allocated.
 */
#include <math.h>
#include <string.h>

#include "vxs_core.h"
#include "vxs_core_int.h"
#include "vxs_v2x.h"
#include "v2x_int.h"
#include "j2735_int.h"

static vxs_status_t its_pdu(vxs_v2x_msg_t *out, const uint8_t *p, size_t len, char *err,
                            size_t err_len);

/* ---- GeoNetworking ------------------------------------------------------------------------- */

/* lpv reads a long position vector (24 bytes) into the message's source PV fields. */
static bool lpv(vxs_v2x_msg_t *m, vxs_rd_t *r) {
    uint32_t tst, lat, lon;
    uint16_t spd, hdg;
    if (!vxs_rd_bytes(r, m->gn_addr, 8) || !vxs_rd_u32be(r, &tst) || !vxs_rd_u32be(r, &lat) ||
        !vxs_rd_u32be(r, &lon) || !vxs_rd_u16be(r, &spd) || !vxs_rd_u16be(r, &hdg))
        return false;
    m->gn_tst = tst;
    m->gn_lat_deg = (int32_t)lat * 1e-7;
    m->gn_lon_deg = (int32_t)lon * 1e-7;
    /* speed: 15-bit signed after the PAI bit (Wireshark reads it as signed; vanetza as
     * unsigned: the sign only matters for reversing vehicles), 0.01 m/s */
    int v = spd & 0x7FFF;
    if (v & 0x4000) v -= 0x8000;
    m->gn_speed_mps = v * 0.01;
    m->gn_heading_deg = hdg * 0.1;
    return true;
}

/* GN_AT is the byte offset of r in the whole GN packet: `base` is the offset of the first byte
 * r was made over (4 for the common header after the basic header; the secured payload's offset
 * inside the packet otherwise), `len` its length. */
#define GN_AT(r) (base + len - vxs_rd_left(r))

/* append_at appends " (<layer> at byte N)" to an error message written by an inner decoder. */
static void append_at(char *err, size_t err_len, const char *layer, size_t at) {
    if (!err || err_len == 0) return;
    size_t n = strnlen(err, err_len);
    if (n + 1 < err_len) vxsi_fmt(err + n, err_len - n, " (%s at byte %zu)", layer, at);
}

/* common_and_rest decodes the common header, the extended header, BTP and the ITS PDU from r
 * (`len` bytes starting at byte `base` of the GN packet, for offsets in messages). */
static vxs_status_t common_and_rest(vxs_v2x_msg_t *m, vxs_rd_t *r, size_t base, size_t len,
                                    char *err, size_t err_len) {
    uint8_t nh, ht, tc, flags, mhl, res;
    uint16_t pl, sn;
    if (!vxs_rd_u8(r, &nh) || !vxs_rd_u8(r, &ht) || !vxs_rd_u8(r, &tc) ||
        !vxs_rd_u8(r, &flags) || !vxs_rd_u16be(r, &pl) || !vxs_rd_u8(r, &mhl) ||
        !vxs_rd_u8(r, &res)) {
        vxsi_fmt(err, err_len, "GeoNetworking: byte %zu: common header cut short", GN_AT(r));
        return VXS_E_TRUNCATED;
    }
    /* traffic class, flags, MHL and PL are forwarding matters; PL is not checked against the
     * bytes left because secured packets and padded frames legitimately differ */
    (void)tc, (void)flags, (void)mhl, (void)res, (void)pl;
    m->gn_header_type = ht;
    switch (ht >> 4) {
    case 1: /* beacon: SO LPV only */
        if (!lpv(m, r)) goto cut;
        return VXS_OK; /* a beacon carries no payload */
    case 2: /* GUC: SN, reserved, SO LPV, DE short PV */
        if (!vxs_rd_u16be(r, &sn) || !vxs_rd_skip(r, 2) || !lpv(m, r) || !vxs_rd_skip(r, 20))
            goto cut;
        m->gn_sn = sn;
        break;
    case 3: /* GAC */
    case 4: /* GBC: SN, reserved, SO LPV, area position, distances, angle, reserved */
        if ((ht & 0x0F) > 2) goto bad_type;
        if (!vxs_rd_u16be(r, &sn) || !vxs_rd_skip(r, 2) || !lpv(m, r) || !vxs_rd_skip(r, 16))
            goto cut;
        m->gn_sn = sn;
        break;
    case 5:
        if ((ht & 0x0F) == 0) { /* SHB: SO LPV + 4 bytes DCC / reserved */
            if (!lpv(m, r) || !vxs_rd_skip(r, 4)) goto cut;
        } else if ((ht & 0x0F) == 1) { /* TSB: SN, reserved, SO LPV */
            if (!vxs_rd_u16be(r, &sn) || !vxs_rd_skip(r, 2) || !lpv(m, r)) goto cut;
            m->gn_sn = sn;
        } else {
            goto bad_type;
        }
        break;
    case 6: /* location service request (SN, reserved, SO LPV, request GN_ADDR) / reply (SN,
               reserved, SO LPV, DE short PV): no upper-layer payload */
        if (!vxs_rd_u16be(r, &sn) || !vxs_rd_skip(r, 2) || !lpv(m, r)) goto cut;
        m->gn_sn = sn;
        return VXS_OK;
    default:
        goto bad_type;
    }
    uint8_t upper = nh >> 4;
    if (upper != 1 && upper != 2) return VXS_OK; /* IPv6 or "any": not an ITS message */
    uint16_t dport, other;
    if (!vxs_rd_u16be(r, &dport) || !vxs_rd_u16be(r, &other)) {
        vxsi_fmt(err, err_len, "BTP: byte %zu: header cut short", GN_AT(r));
        return VXS_E_TRUNCATED;
    }
    m->gn_btp_port = dport;
    size_t at = GN_AT(r), left = vxs_rd_left(r);
    /* the message fields are still absent (vxs_v2x_decode_gn initialised m): decode the PDU
     * into m directly, beside the GN layer's fields */
    vxs_status_t st = its_pdu(m, r->p, left, err, err_len);
    if (st != VXS_OK) append_at(err, err_len, "ITS PDU", at);
    return st;
cut:
    vxsi_fmt(err, err_len, "GeoNetworking: byte %zu: extended header (type 0x%02x) cut short",
             GN_AT(r), ht);
    return VXS_E_TRUNCATED;
bad_type:
    vxsi_fmt(err, err_len, "GeoNetworking: byte %zu: header type 0x%02x unknown", base + 1, ht);
    return VXS_E_MALFORMED;
}

vxs_status_t vxs_v2x_decode_gn(vxs_v2x_msg_t *out, const uint8_t *p, size_t len, char *err,
                               size_t err_len) {
    vxs_rd_t r = vxs_rd_init(p, len);
    uint8_t vnh, res, lt, rhl;
    VXS_RETURN_IF(out == NULL || (p == NULL && len), VXS_E_ARG);
    vxs_v2x_msg_init(out);
    out->protocol = VXS_V2X_PROTO_ETSI;
    out->has_gn = true;
    if (!vxs_rd_u8(&r, &vnh) || !vxs_rd_u8(&r, &res) || !vxs_rd_u8(&r, &lt) ||
        !vxs_rd_u8(&r, &rhl)) {
        vxsi_fmt(err, err_len, "GeoNetworking: byte %zu: basic header cut short", len);
        return VXS_E_TRUNCATED;
    }
    (void)res, (void)lt, (void)rhl;
    if ((vnh >> 4) > 1) {
        vxsi_fmt(err, err_len, "GeoNetworking: byte 0: version %u (0 or 1 expected)", vnh >> 4);
        return VXS_E_MALFORMED;
    }
    switch (vnh & 0x0F) {
    case 1: return common_and_rest(out, &r, 4, len - 4, err, err_len);
    case 2: {
        /* Secured packet (TS 103 097 = IEEE 1609.2 data): its payload is the common header
         * onwards. The signature is not verified; generationTime is kept. */
        const uint8_t *inner = NULL;
        size_t inner_len = 0;
        out->gn_secured = true;
        vxs_status_t st =
            vxs_v2x_decode_1609dot2(out, &inner, &inner_len, p + 4, len - 4, err, err_len);
        if (st != VXS_OK) {
            append_at(err, err_len, "GeoNetworking secured packet", 4);
            return st;
        }
        if (inner < p || inner + inner_len > p + len) { /* defensive: must point into p */
            vxsi_fmt(err, err_len, "GeoNetworking: byte 4: secured payload outside the packet");
            return VXS_E_MALFORMED;
        }
        vxs_rd_t ir = vxs_rd_init(inner, inner_len);
        return common_and_rest(out, &ir, (size_t)(inner - p), inner_len, err, err_len);
    }
    default:
        vxsi_fmt(err, err_len, "GeoNetworking: byte 0: next header %u (common or secured "
                 "expected)", vnh & 0x0F);
        return VXS_E_MALFORMED;
    }
}

/* ---- the UPER field reader ------------------------------------------------------------------ */

/* px_t is one UPER parse: the bit reader, the message name for errors ("CAM") and the caller's
 * error buffer. Every read below fails with "<what>: bit N: <field> cut short" (truncated) or
 * "... out of range" (malformed), N counted from the start of the ITS PDU. */
typedef struct {
    vxs_br_t b;
    size_t bit0;      /* bit offset of b's first bit in the ITS PDU (open-type sub-readers) */
    const char *what;
    char *err;
    size_t err_len;
} px_t;

#if defined(__GNUC__)
#define PX_COLD __attribute__((cold, noinline))
#else
#define PX_COLD
#endif

static PX_COLD vxs_status_t px_fail(px_t *x, bool cut, const char *name) {
    vxsi_fmt(x->err, x->err_len, "%s: bit %zu: %s %s", x->what, x->bit0 + x->b.pos, name,
             cut ? "cut short" : "out of range");
    return cut ? VXS_E_TRUNCATED : VXS_E_MALFORMED;
}

/* px_int_fail says why a constrained whole number could not be read: cut short or out of
 * range. Kept out of line so that px_int, called for every field, inlines to a few
 * instructions. */
static PX_COLD vxs_status_t px_int_fail(px_t *x, int64_t lo, int64_t hi, const char *name) {
    uint64_t range = (uint64_t)hi - (uint64_t)lo;
    size_t n = 0;
    while (range) n++, range >>= 1;
    return px_fail(x, vxs_br_left(&x->b) < n, name);
}

/* px_int reads a constrained whole number in [lo, hi]. */
static inline vxs_status_t px_int(px_t *x, int64_t *out, int64_t lo, int64_t hi,
                                  const char *name) {
    if (vxs_br_cons(&x->b, out, lo, hi)) return VXS_OK;
    return px_int_fail(x, lo, hi, name);
}

static inline vxs_status_t px_bits(px_t *x, uint64_t *out, unsigned n, const char *name) {
    if (vxs_br_bits(&x->b, out, n)) return VXS_OK;
    return px_fail(x, true, name);
}

static inline vxs_status_t px_bool(px_t *x, bool *out, const char *name) {
    if (vxs_br_bool(&x->b, out)) return VXS_OK;
    return px_fail(x, true, name);
}

static inline vxs_status_t px_skip(px_t *x, size_t n, const char *name) {
    if (vxs_br_skip(&x->b, n)) return VXS_OK;
    return px_fail(x, true, name);
}

/* px_len reads an unconstrained length determinant. */
static vxs_status_t px_len(px_t *x, size_t *out, const char *name) {
    if (vxs_br_length(&x->b, out)) return VXS_OK;
    /* 11xxxxxx (fragmented) is refused by vxs_br_length: malformed here, not truncated */
    uint64_t first;
    vxs_br_t peek = x->b;
    bool cut = !vxs_br_bits(&peek, &first, 2) || first != 3;
    return px_fail(x, cut, name);
}

/* px_open skips an open type (length determinant + octets): a field of a type this decoder
 * does not read, or an extension addition. */
static vxs_status_t px_open(px_t *x, const char *name) {
    size_t n;
    VXS_FORWARD(px_len(x, &n, name));
    return px_skip(x, n * 8, name);
}

/* px_exts skips the extension additions of a SEQUENCE whose extension bit was set: a normally
 * small length, that many presence bits, then one open type per present addition. */
static vxs_status_t px_exts(px_t *x, const char *name) {
    uint64_t n1, bit;
    if (!vxs_br_nsnn(&x->b, &n1)) return px_fail(x, true, name);
    if (n1 >= vxs_br_left(&x->b)) return px_fail(x, true, name); /* more bits than remain */
    size_t present = 0;
    for (uint64_t i = 0; i <= n1; i++) {
        VXS_FORWARD(px_bits(x, &bit, 1, name));
        present += (size_t)bit;
    }
    for (size_t i = 0; i < present; i++) VXS_FORWARD(px_open(x, name));
    return VXS_OK;
}

/* px_enum_ext reads an extensible ENUMERATED / CHOICE index: extension bit, then the root
 * index in `root_bits`, or a normally small index of an addition (*is_ext set). */
static vxs_status_t px_enum_ext(px_t *x, int64_t *out, int64_t root_hi, bool *is_ext,
                                const char *name) {
    bool e;
    VXS_FORWARD(px_bool(x, &e, name));
    *is_ext = e;
    if (!e) return px_int(x, out, 0, root_hi, name);
    uint64_t v;
    if (!vxs_br_nsnn(&x->b, &v)) return px_fail(x, true, name);
    *out = (int64_t)(v > INT32_MAX ? INT32_MAX : v);
    return VXS_OK;
}

/* px_int_ext reads an INTEGER (lo..hi, ...): in the root, or an unconstrained value in
 * length-prefixed octets (skipped: reported as hi + 1, never a real value). */
static vxs_status_t px_int_ext(px_t *x, int64_t *out, int64_t lo, int64_t hi, const char *name) {
    bool e;
    VXS_FORWARD(px_bool(x, &e, name));
    if (!e) return px_int(x, out, lo, hi, name);
    *out = hi + 1;
    return px_open(x, name);
}

/* px_count reads the element count of SEQUENCE (SIZE(lo..hi[, ...])) OF. */
static vxs_status_t px_count(px_t *x, size_t *out, int64_t lo, int64_t hi, bool extensible,
                             const char *name) {
    int64_t v;
    if (extensible) {
        bool e;
        VXS_FORWARD(px_bool(x, &e, name));
        if (e) return px_len(x, out, name);
    }
    VXS_FORWARD(px_int(x, &v, lo, hi, name));
    *out = (size_t)v;
    return VXS_OK;
}

#define INT(var, lo, hi, name) VXS_FORWARD(px_int(x, &(var), (lo), (hi), (name)))
/* VAL reads a value of the message (vxsi_value): out of range, it is absent and counted, and
 * the message goes on; only the end of the input fails. */
#define VAL(var, lo, hi, name)                                                                   \
    do {                                                                                         \
        if (!vxsi_value(&x->b, &(var), (lo), (hi), m, (name))) return px_fail(x, true, (name)); \
    } while (0)
#define BOOL(var, name) VXS_FORWARD(px_bool(x, &(var), (name)))
#define SKIP(n, name) VXS_FORWARD(px_skip(x, (n), (name)))
#define EXTS(name) VXS_FORWARD(px_exts(x, (name)))

#define na vxsi_unavail

/* ---- pieces shared by the messages ---------------------------------------------------------- */

/* ref_position reads a ReferencePosition (CDD v1: latitude, longitude, PosConfidenceEllipse,
 * Altitude; the v2 ReferencePositionWithConfidence has the same bits) into lat/lon/elev. */
static vxs_status_t ref_position(px_t *x, vxs_v2x_msg_t *m) {
    int64_t lat, lon, alt, smaj, smin, v;
    VAL(lat, -900000000, 900000001, "latitude");
    VAL(lon, -1800000000, 1800000001, "longitude");
    INT(smaj, 0, 4095, "semiMajorConfidence");
    INT(smin, 0, 4095, "semiMinorConfidence");
    VAL(v, 0, 3601, "semiMajorOrientation");
    VAL(alt, -100000, 800001, "altitudeValue");
    SKIP(4, "altitudeConfidence");
    /* one coordinate without the other is no position */
    const bool pos = lat != VXSI_OUT_OF_RANGE && lon != VXSI_OUT_OF_RANGE;
    m->lat_deg = pos ? na(lat, 900000001, 1e-7) : NAN;
    m->lon_deg = pos ? na(lon, 1800000001, 1e-7) : NAN;
    m->elev_m = na(alt, 800001, 0.01);
    /* SemiAxisLength: 4094 out of range, 4095 unavailable: neither is a size */
    m->pos_semi_major_m = smaj >= 4094 ? NAN : (double)smaj * 0.01;
    m->pos_semi_minor_m = smin >= 4094 ? NAN : (double)smin * 0.01;
    m->pos_orientation_deg = na(v, 3601, 0.1);
    m->pos_confidence_95 = true;
    return VXS_OK;
}

/* cause_code reads a CauseCode: CDD v1.3.1 (protocolVersion >= 2) made it extensible. */
static vxs_status_t cause_code(px_t *x, int ver, int *cause, int *sub) {
    bool e = false;
    int64_t c, s;
    if (ver >= 2) BOOL(e, "CauseCode extension bit");
    INT(c, 0, 255, "causeCode");
    INT(s, 0, 255, "subCauseCode");
    if (cause) *cause = (int)c;
    if (sub) *sub = (int)s;
    if (e) EXTS("CauseCode extensions");
    return VXS_OK;
}

/* ---- CAM ------------------------------------------------------------------------------------ */

/* cam_vehicle_hf reads BasicVehicleContainerHighFrequency: no extension marker, 7 optional
 * fields after the 9 mandatory ones. CAM v1.3 (CDD v1.2.1) differs only in CurvatureValue's
 * range (-30000..30001, unavailable 30001) against v1.4.1's (-1023..1023). */
static vxs_status_t cam_vehicle_hf(px_t *x, vxs_v2x_msg_t *m, int ver) {
    uint64_t opt;
    int64_t hv, sp, lv, wv, av, cv, yv, v;
    bool e;
    VXS_FORWARD(px_bits(x, &opt, 7, "vehicle HF presence bits"));
    int64_t hc, sc;
    VAL(hv, 0, 3601, "heading");
    VAL(hc, 1, 127, "headingConfidence");
    VAL(sp, 0, 16383, "speed");
    VAL(sc, 1, 127, "speedConfidence");
    /* 126: out of range, 127: unavailable */
    m->heading_conf_deg = hc >= 126 || hc < 0 ? NAN : (double)hc * 0.1;
    m->speed_conf_mps = sc >= 126 || sc < 0 ? NAN : (double)sc * 0.01;
    INT(v, 0, 2, "driveDirection");
    VAL(lv, 1, 1023, "vehicleLength");
    INT(v, 0, 4, "vehicleLengthConfidenceIndication");
    VAL(wv, 1, 62, "vehicleWidth");
    VAL(av, -160, 161, "longitudinalAcceleration");
    INT(v, 0, 102, "longitudinalAccelerationConfidence");
    if (ver == 1)
        INT(cv, -30000, 30001, "curvature");
    else
        INT(cv, -1023, 1023, "curvature");
    SKIP(3, "curvatureConfidence");
    VXS_FORWARD(px_enum_ext(x, &v, 2, &e, "curvatureCalculationMode"));
    VAL(yv, -32766, 32767, "yawRate");
    INT(v, 0, 8, "yawRateConfidence");
    m->heading_deg = na(hv, 3601, 0.1);
    m->speed_mps = na(sp, 16383, 0.01);
    m->length_m = na(lv, 1023, 0.1);
    m->width_m = na(wv, 62, 0.1);
    m->accel_long_mps2 = na(av, 161, 0.1);
    m->yaw_rate_dps = na(yv, 32767, 0.01);
    if (opt & 0x40) SKIP(7, "accelerationControl");
    if (opt & 0x20) INT(v, -1, 14, "lanePosition");
    if (opt & 0x10) {
        INT(v, -511, 512, "steeringWheelAngle");
        INT(v, 1, 127, "steeringWheelAngleConfidence");
    }
    if (opt & 0x08) {
        INT(v, -160, 161, "lateralAcceleration");
        m->accel_lat_mps2 = na(v, 161, 0.1);
        INT(v, 0, 102, "lateralAccelerationConfidence");
    }
    if (opt & 0x04) {
        INT(v, -160, 161, "verticalAcceleration");
        m->accel_vert_mps2 = na(v, 161, 0.1);
        INT(v, 0, 102, "verticalAccelerationConfidence");
    }
    if (opt & 0x02) INT(v, 0, 7, "performanceClass");
    if (opt & 0x01) { /* CenDsrcTollingZone { lat, lon, cenDsrcTollingZoneID OPTIONAL, ... } */
        bool id;
        BOOL(e, "cenDsrcTollingZone extension bit");
        BOOL(id, "cenDsrcTollingZoneID presence");
        INT(v, -900000000, 900000001, "cenDsrcTollingZone latitude");
        INT(v, -1800000000, 1800000001, "cenDsrcTollingZone longitude");
        if (id) INT(v, 0, 134217727, "cenDsrcTollingZoneID");
        if (e) EXTS("cenDsrcTollingZone extensions");
    }
    return VXS_OK;
}

/* cam_rsu_hf reads RSUContainerHighFrequency { protectedCommunicationZonesRSU OPTIONAL, ... }. */
static vxs_status_t cam_rsu_hf(px_t *x) {
    bool e, has;
    int64_t v;
    size_t n;
    BOOL(e, "RSU container extension bit");
    BOOL(has, "protectedCommunicationZonesRSU presence");
    if (has) {
        VXS_FORWARD(px_count(x, &n, 1, 16, false, "protectedCommunicationZonesRSU count"));
        for (size_t i = 0; i < n; i++) {
            bool ze, exp, rad, id, te;
            uint64_t pres;
            BOOL(ze, "protectedCommunicationZone extension bit");
            VXS_FORWARD(px_bits(x, &pres, 3, "protectedCommunicationZone presence bits"));
            exp = pres & 4, rad = pres & 2, id = pres & 1;
            /* ProtectedZoneType ::= ENUMERATED { permanentCenDsrcTolling (0), ...,
             * temporaryCenDsrcTolling (1) }: one root value, so no index bits in the root */
            VXS_FORWARD(px_enum_ext(x, &v, 0, &te, "protectedZoneType"));
            if (exp) INT(v, 0, INT64_C(4398046511103), "expiryTime");
            INT(v, -900000000, 900000001, "protectedZoneLatitude");
            INT(v, -1800000000, 1800000001, "protectedZoneLongitude");
            if (rad) VXS_FORWARD(px_int_ext(x, &v, 1, 255, "protectedZoneRadius"));
            if (id) INT(v, 0, 134217727, "protectedZoneID");
            if (ze) EXTS("protectedCommunicationZone extensions");
        }
    }
    if (e) EXTS("RSU container extensions");
    return VXS_OK;
}

/* cam_low_freq reads LowFrequencyContainer (CHOICE { basicVehicleContainerLowFrequency, ... }):
 * vehicleRole, exteriorLights, pathHistory (SIZE(0..40) OF PathPoint). */
static vxs_status_t cam_low_freq(px_t *x) {
    bool e;
    int64_t v;
    size_t n;
    BOOL(e, "LowFrequencyContainer extension bit");
    if (e) { /* a later kind of container: its index, then the open type */
        uint64_t idx;
        if (!vxs_br_nsnn(&x->b, &idx)) return px_fail(x, true, "LowFrequencyContainer choice");
        return px_open(x, "LowFrequencyContainer");
    }
    INT(v, 0, 15, "vehicleRole");
    SKIP(8, "exteriorLights");
    VXS_FORWARD(px_count(x, &n, 0, 40, false, "pathHistory count"));
    for (size_t i = 0; i < n; i++) {
        bool dt;
        BOOL(dt, "pathDeltaTime presence");
        INT(v, -131071, 131072, "pathPosition deltaLatitude");
        INT(v, -131071, 131072, "pathPosition deltaLongitude");
        INT(v, -12700, 12800, "pathPosition deltaAltitude");
        if (dt) VXS_FORWARD(px_int_ext(x, &v, 1, 65535, "pathDeltaTime"));
    }
    return VXS_OK;
}

/* closed_lanes reads ClosedLanes: CDD v1.3.1 { innerhardShoulderStatus OPTIONAL,
 * outerhardShoulderStatus OPTIONAL, drivingLaneStatus (SIZE(1..13)) OPTIONAL, ... }; CDD v1.2.1
 * { hardShoulderStatus OPTIONAL, drivingLaneStatus (SIZE(1..14)), ... }. */
static vxs_status_t closed_lanes(px_t *x, int ver) {
    bool e;
    uint64_t pres;
    int64_t v;
    BOOL(e, "closedLanes extension bit");
    if (ver >= 2) {
        VXS_FORWARD(px_bits(x, &pres, 3, "closedLanes presence bits"));
        if (pres & 4) INT(v, 0, 2, "innerhardShoulderStatus");
        if (pres & 2) INT(v, 0, 2, "outerhardShoulderStatus");
        if (pres & 1) {
            INT(v, 1, 13, "drivingLaneStatus size");
            SKIP((size_t)v, "drivingLaneStatus");
        }
    } else {
        VXS_FORWARD(px_bits(x, &pres, 1, "closedLanes presence bits"));
        if (pres & 1) INT(v, 0, 2, "hardShoulderStatus");
        INT(v, 1, 14, "drivingLaneStatus size");
        SKIP((size_t)v, "drivingLaneStatus");
    }
    if (e) EXTS("closedLanes extensions");
    return VXS_OK;
}

/* cam_special reads SpecialVehicleContainer (CHOICE of 7, extensible). */
static vxs_status_t cam_special(px_t *x, int ver) {
    int64_t idx, v;
    bool e;
    uint64_t pres;
    VXS_FORWARD(px_enum_ext(x, &idx, 6, &e, "SpecialVehicleContainer choice"));
    if (e) return px_open(x, "SpecialVehicleContainer");
    switch (idx) {
    case 0: /* publicTransport { embarkationStatus, ptActivation OPTIONAL } */
        VXS_FORWARD(px_bits(x, &pres, 2, "publicTransportContainer"));
        if (pres & 2) {
            INT(v, 0, 255, "ptActivationType");
            INT(v, 1, 20, "ptActivationData size");
            SKIP((size_t)v * 8, "ptActivationData");
        }
        break;
    case 1: SKIP(4 + 2, "specialTransportContainer"); break;
    case 2: INT(v, 0, 19, "dangerousGoodsBasic"); break;
    case 3: /* roadWorks { roadworksSubCauseCode OPT, lightBarSirenInUse, closedLanes OPT } */
        VXS_FORWARD(px_bits(x, &pres, 2, "roadWorksContainerBasic presence bits"));
        if (pres & 2) INT(v, 0, 255, "roadworksSubCauseCode");
        SKIP(2, "lightBarSirenInUse");
        if (pres & 1) VXS_FORWARD(closed_lanes(x, ver));
        break;
    case 4: SKIP(2, "rescueContainer"); break;
    case 5: /* emergency { lightBarSirenInUse, incidentIndication OPT, emergencyPriority OPT } */
        VXS_FORWARD(px_bits(x, &pres, 2, "emergencyContainer presence bits"));
        SKIP(2, "lightBarSirenInUse");
        if (pres & 2) VXS_FORWARD(cause_code(x, ver, NULL, NULL));
        if (pres & 1) SKIP(2, "emergencyPriority");
        break;
    default: /* safetyCar { lightBarSirenInUse, incidentIndication OPT, trafficRule OPT,
                speedLimit OPT } */
        VXS_FORWARD(px_bits(x, &pres, 3, "safetyCarContainer presence bits"));
        SKIP(2, "lightBarSirenInUse");
        if (pres & 4) VXS_FORWARD(cause_code(x, ver, NULL, NULL));
        if (pres & 2) VXS_FORWARD(px_enum_ext(x, &v, 3, &e, "trafficRule"));
        if (pres & 1) INT(v, 1, 255, "speedLimit");
        break;
    }
    return VXS_OK;
}

/* cam decodes a CAM after the ITS PDU header. protocolVersion 1 is EN 302 637-2 v1.3 (CDD
 * v1.2.1), 2 is v1.4.1 and TS 103 900 Release 2, whose extension containers sit after the
 * CamParameters extension marker: the whole base part is parsed so that they can be skipped as
 * the open types they are. */
static vxs_status_t cam(px_t *x, vxs_v2x_msg_t *m, int ver) {
    int64_t gdt, st, idx;
    bool ext, lf, sv, bext, hfext;
    INT(gdt, 0, 65535, "generationDeltaTime");
    BOOL(ext, "CamParameters extension bit");
    BOOL(lf, "lowFrequencyContainer presence");
    BOOL(sv, "specialVehicleContainer presence");
    BOOL(bext, "BasicContainer extension bit");
    INT(st, 0, 255, "stationType");
    m->gen_delta_time = (int32_t)gdt;
    m->station_type = (int)st;
    VXS_FORWARD(ref_position(x, m));
    if (bext) EXTS("BasicContainer extensions");
    VXS_FORWARD(px_enum_ext(x, &idx, 1, &hfext, "HighFrequencyContainer choice"));
    if (hfext) {
        VXS_FORWARD(px_open(x, "HighFrequencyContainer of a later kind"));
    } else if (idx == 1) {
        m->cam_rsu = true;
        VXS_FORWARD(cam_rsu_hf(x));
    } else {
        VXS_FORWARD(cam_vehicle_hf(x, m, ver));
    }
    m->cam_low_freq = lf;
    if (lf) VXS_FORWARD(cam_low_freq(x));
    if (sv) VXS_FORWARD(cam_special(x, ver));
    if (ext) EXTS("CamParameters extensions (Release 2 extension containers)");
    m->decoded = true;
    return VXS_OK;
}

/* ---- DENM ----------------------------------------------------------------------------------- */

/* denm decodes the management container and the situation container's eventType (EN 302 637-3
 * v1.2 as protocolVersion 1, v1.3 as 2); location and à-la-carte containers are not read. */
static vxs_status_t denm(px_t *x, vxs_v2x_msg_t *m, int ver) {
    uint64_t top, mp;
    int64_t v, det, ref;
    bool mext;
    /* DENM body: situation, location, alacarte OPTIONAL; no extension marker */
    VXS_FORWARD(px_bits(x, &top, 3, "DENM presence bits"));
    BOOL(mext, "ManagementContainer extension bit");
    /* termination, relevanceDistance, relevanceTrafficDirection, validityDuration (DEFAULT),
     * transmissionInterval */
    VXS_FORWARD(px_bits(x, &mp, 5, "ManagementContainer presence bits"));
    INT(v, 0, 4294967295LL, "actionID originatingStationID");
    m->denm_origin = v;
    INT(v, 0, 65535, "actionID sequenceNumber");
    m->denm_seq = v;
    INT(det, 0, INT64_C(4398046511103), "detectionTime");
    m->denm_detection_ms = det;
    INT(ref, 0, INT64_C(4398046511103), "referenceTime");
    m->its_time_ms = ref;
    if (mp & 0x10) INT(v, 0, 1, "termination");
    VXS_FORWARD(ref_position(x, m));
    if (mp & 0x08) INT(v, 0, 7, "relevanceDistance");
    if (mp & 0x04) INT(v, 0, 3, "relevanceTrafficDirection");
    m->denm_validity_s = 600; /* defaultValidity */
    if (mp & 0x02) {
        INT(v, 0, 86400, "validityDuration");
        m->denm_validity_s = (int32_t)v;
    }
    if (mp & 0x01) INT(v, 1, 10000, "transmissionInterval");
    INT(v, 0, 255, "stationType");
    m->station_type = (int)v;
    if (mext) EXTS("ManagementContainer extensions");
    if (top & 4) { /* SituationContainer { informationQuality, eventType, linkedCause OPT,
                      eventHistory OPT, ... }: stop after eventType */
        bool sext;
        uint64_t sp;
        BOOL(sext, "SituationContainer extension bit");
        VXS_FORWARD(px_bits(x, &sp, 2, "SituationContainer presence bits"));
        INT(v, 0, 7, "informationQuality");
        VXS_FORWARD(cause_code(x, ver, &m->cause_code, &m->sub_cause_code));
    }
    m->decoded = true;
    return VXS_OK;
}

/* ---- CPM (TS 103 324 v2.1.1) ---------------------------------------------------------------- */

/* The CPM ASN.1 is the one ms-van3t encodes with (src/automotive/model/ASN1/full-v1-v2/
 * CPM-all.asn: CPM-PDU-Descriptions major 1 minor 1 over ETSI-ITS-CDD major 3 minor 1):
 * CpmPayload { managementContainer { referenceTime, referencePosition, segmentationInfo OPT,
 * messageRateRange OPT, ... }, cpmContainers SIZE(1..8, ...) OF { containerId (1..16),
 * containerData open type }, ... }. Only the perceived object container (id 5) is read; the
 * others are skipped by their open-type length. */

/* po_speed_comp reads a VelocityComponent (value -16383..16383, unavailable 16383, 0.01 m/s). */
static vxs_status_t po_vel_comp(px_t *x, double *out, const char *name) {
    int64_t v, c;
    INT(v, -16383, 16383, name);
    INT(c, 1, 127, "speedConfidence");
    if (out) *out = na(v, 16383, 0.01);
    return VXS_OK;
}

static vxs_status_t po_accel_comp(px_t *x) {
    int64_t v;
    INT(v, -160, 161, "AccelerationComponent value");
    INT(v, 0, 102, "AccelerationComponent confidence");
    return VXS_OK;
}

static vxs_status_t po_angle(px_t *x, int64_t *out) {
    int64_t v;
    INT(v, 0, 3601, "CartesianAngle value");
    if (out) *out = v;
    INT(v, 1, 127, "CartesianAngle confidence");
    return VXS_OK;
}

/* po_coord reads a CartesianCoordinateWithConfidence (value -131072..131071 cm, confidence
 * 1..4096). */
static vxs_status_t po_coord(px_t *x, double *out, const char *name) {
    int64_t v, c;
    INT(v, -131072, 131071, name);
    INT(c, 1, 4096, "coordinate confidence");
    *out = (double)v * 0.01;
    return VXS_OK;
}

/* perceived_object reads one PerceivedObject into *o. It sets *stop when it meets a component
 * this decoder does not parse (correlation matrices, a VRU / group / other classification, a map
 * position): what came before is kept and the caller skips the rest of the container. */
static vxs_status_t perceived_object(px_t *x, vxs_v2x_object_t *o, bool *stop) {
    bool e, zp;
    uint64_t opt;
    int64_t v;
    o->object_id = 0;
    o->measurement_delta_ms = 0;
    o->x_m = o->y_m = o->z_m = o->vx_mps = o->vy_mps = NAN;
    o->classification = o->class_confidence = -1;
    BOOL(e, "PerceivedObject extension bit");
    VXS_FORWARD(px_bits(x, &opt, 14, "PerceivedObject presence bits"));
    if (opt & (1u << 13)) {
        INT(v, 0, 65535, "objectId");
        o->object_id = (uint32_t)v;
    }
    INT(v, -2048, 2047, "measurementDeltaTime");
    o->measurement_delta_ms = (int32_t)v;
    BOOL(zp, "zCoordinate presence");
    VXS_FORWARD(po_coord(x, &o->x_m, "xCoordinate"));
    VXS_FORWARD(po_coord(x, &o->y_m, "yCoordinate"));
    if (zp) VXS_FORWARD(po_coord(x, &o->z_m, "zCoordinate"));
    if (opt & (1u << 12)) { /* Velocity3dWithConfidence ::= CHOICE { polar, cartesian } */
        bool cart;
        BOOL(cart, "velocity choice");
        BOOL(zp, "zVelocity presence");
        if (cart) {
            VXS_FORWARD(po_vel_comp(x, &o->vx_mps, "xVelocity"));
            VXS_FORWARD(po_vel_comp(x, &o->vy_mps, "yVelocity"));
        } else { /* magnitude (Speed) and direction (CartesianAngle from the x axis) */
            int64_t sp, dir;
            INT(sp, 0, 16383, "velocityMagnitude");
            INT(v, 1, 127, "velocityMagnitude confidence");
            VXS_FORWARD(po_angle(x, &dir));
            if (sp != 16383 && dir != 3601) {
                double a = (double)dir * 0.1 * (3.14159265358979323846 / 180.0);
                o->vx_mps = (double)sp * 0.01 * cos(a);
                o->vy_mps = (double)sp * 0.01 * sin(a);
            }
        }
        if (zp) VXS_FORWARD(po_vel_comp(x, NULL, "zVelocity"));
    }
    if (opt & (1u << 11)) { /* Acceleration3dWithConfidence ::= CHOICE { polar, cartesian } */
        bool cart;
        BOOL(cart, "acceleration choice");
        BOOL(zp, "zAcceleration presence");
        if (cart) {
            VXS_FORWARD(po_accel_comp(x));
            VXS_FORWARD(po_accel_comp(x));
        } else {
            INT(v, 0, 161, "accelerationMagnitude");
            INT(v, 0, 102, "accelerationMagnitude confidence");
            VXS_FORWARD(po_angle(x, NULL));
        }
        if (zp) VXS_FORWARD(po_accel_comp(x));
    }
    if (opt & (1u << 10)) { /* EulerAnglesWithConfidence { zAngle, yAngle OPT, xAngle OPT } */
        uint64_t ap;
        VXS_FORWARD(px_bits(x, &ap, 2, "angles presence bits"));
        VXS_FORWARD(po_angle(x, NULL));
        if (ap & 2) VXS_FORWARD(po_angle(x, NULL));
        if (ap & 1) VXS_FORWARD(po_angle(x, NULL));
    }
    if (opt & (1u << 9)) {
        INT(v, -255, 256, "zAngularVelocity");
        INT(v, 0, 7, "zAngularVelocity confidence");
    }
    if (opt & (1u << 8)) { /* lowerTriangularCorrelationMatrices: not parsed */
        *stop = true;
        return VXS_OK;
    }
    for (unsigned d = 7; d >= 5; d--) { /* objectDimensionZ, Y, X { value, confidence } */
        if (opt & (1u << d)) {
            INT(v, 1, 256, "objectDimension value");
            INT(v, 1, 32, "objectDimension confidence");
        }
    }
    if (opt & (1u << 4)) INT(v, 0, 2047, "objectAge");
    if (opt & (1u << 3)) INT(v, 0, 15, "objectPerceptionQuality");
    if (opt & (1u << 2)) { /* sensorIdList SIZE(1..128, ...) OF Identifier1B */
        size_t n;
        VXS_FORWARD(px_count(x, &n, 1, 128, true, "sensorIdList count"));
        if (n > vxs_br_left(&x->b) / 8) return px_fail(x, true, "sensorIdList");
        SKIP(n * 8, "sensorIdList");
    }
    if (opt & (1u << 1)) { /* classification SIZE(1..8) OF { objectClass, confidence } */
        size_t n;
        VXS_FORWARD(px_count(x, &n, 1, 8, false, "classification count"));
        for (size_t i = 0; i < n; i++) {
            bool ce;
            int64_t idx, cls = -1, conf;
            VXS_FORWARD(px_enum_ext(x, &idx, 3, &ce, "objectClass choice"));
            if (ce) {
                VXS_FORWARD(px_open(x, "objectClass"));
            } else if (idx == 0) {
                /* vehicleSubClass: TrafficParticipantType constrained to unknown |
                 * passengerCar..tram | agricultural: a PER-visible range 0..14 */
                INT(cls, 0, 14, "vehicleSubClass");
            } else { /* VRU profile, VRU group, other: not parsed */
                *stop = true;
                return VXS_OK;
            }
            INT(conf, 1, 101, "objectClass confidence");
            if (i == 0 && cls >= 0) {
                o->classification = (int)cls;
                o->class_confidence = (int)conf;
            }
        }
    }
    if (opt & 1u) { /* mapPosition: not parsed; it is the last root component */
        *stop = true;
        return VXS_OK;
    }
    if (e) EXTS("PerceivedObject extensions");
    return VXS_OK;
}

/* cpm_objects reads a PerceivedObjectContainer { numberOfPerceivedObjects, perceivedObjects
 * SIZE(0..255, ...) OF PerceivedObject, ... } from the container's own reader. */
static vxs_status_t cpm_objects(px_t *x, vxs_v2x_msg_t *m) {
    bool e, stop = false;
    int64_t v;
    size_t n;
    BOOL(e, "PerceivedObjectContainer extension bit");
    INT(v, 0, 255, "numberOfPerceivedObjects");
    VXS_FORWARD(px_count(x, &n, 0, 255, true, "perceivedObjects count"));
    m->n_objects += (int)(n > 65535 ? 65535 : n);
    for (size_t i = 0; i < n && !stop; i++) {
        vxs_v2x_object_t scratch, *o = &scratch;
        if (m->n_objects_kept < VXS_V2X_MAX_OBJECTS) o = &m->objects[m->n_objects_kept];
        VXS_FORWARD(perceived_object(x, o, &stop));
        if (o != &scratch) m->n_objects_kept++;
    }
    if (!stop && e) EXTS("PerceivedObjectContainer extensions");
    return VXS_OK;
}

static vxs_status_t cpm(px_t *x, vxs_v2x_msg_t *m) {
    bool pext, mext;
    uint64_t mp;
    int64_t v;
    size_t n;
    BOOL(pext, "CpmPayload extension bit");
    BOOL(mext, "ManagementContainer extension bit");
    VXS_FORWARD(px_bits(x, &mp, 2, "ManagementContainer presence bits"));
    INT(v, 0, INT64_C(4398046511103), "referenceTime");
    /* ms-van3t writes TimestampIts mod 65536 here (a generationDeltaTime in the 42-bit field).
     * A real TimestampIts below 65536 would be in the first 66 s of 2004, so such a value is
     * kept as what it is, a generationDeltaTime, which the reader unwraps against the capture
     * time, instead of a time in 2004. */
    if (v < 65536)
        m->gen_delta_time = (int32_t)v;
    else
        m->its_time_ms = v;
    VXS_FORWARD(ref_position(x, m));
    if (mp & 2) { /* segmentationInfo { totalMsgNo (1..8), thisMsgNo (1..8) } */
        INT(v, 1, 8, "totalMsgNo");
        INT(v, 1, 8, "thisMsgNo");
    }
    if (mp & 1) SKIP(2 * (7 + 3), "messageRateRange");
    if (mext) EXTS("ManagementContainer extensions");
    VXS_FORWARD(px_count(x, &n, 1, 8, true, "cpmContainers count"));
    for (size_t i = 0; i < n; i++) {
        int64_t id;
        size_t len;
        INT(id, 1, 16, "containerId");
        VXS_FORWARD(px_len(x, &len, "containerData length"));
        if (len > vxs_br_left(&x->b) / 8) return px_fail(x, true, "containerData");
        if (id == 5) {
            /* a reader of its own over the open type: the objects cannot run past it, and
             * the next container starts at its end whatever was parsed inside */
            px_t sub = *x;
            sub.b.nbits = x->b.pos + len * 8;
            VXS_FORWARD(cpm_objects(&sub, m));
        }
        SKIP(len * 8, "containerData");
    }
    (void)pext; /* payload extensions follow the containers: nothing is read after them */
    m->decoded = true;
    return VXS_OK;
}

/* ---- VAM, SPATEM, MAPEM --------------------------------------------------------------------- */

/* vam reads VruAwareness { generationDeltaTime, vamParameters { basicContainer { stationType,
 * referencePosition, ... }, ... } } (TS 103 300-3). */
static vxs_status_t vam(px_t *x, vxs_v2x_msg_t *m) {
    int64_t gdt, st;
    uint64_t pres;
    bool bext;
    INT(gdt, 0, 65535, "generationDeltaTime");
    m->gen_delta_time = (int32_t)gdt;
    /* VamParameters: extension bit + 4 optional containers */
    VXS_FORWARD(px_bits(x, &pres, 5, "VamParameters preamble"));
    BOOL(bext, "BasicContainer extension bit");
    INT(st, 0, 255, "stationType");
    m->station_type = (int)st;
    VXS_FORWARD(ref_position(x, m));
    /* VruHighFrequencyContainer (mandatory): extension bit, 11 presence bits, then heading
     * (Wgs84Angle: Heading's bits), speed and longitudinal acceleration, each {value,
     * confidence}; nothing after them is read */
    uint64_t hf;
    int64_t hv, hc, sp, sc, av, ac;
    VXS_FORWARD(px_bits(x, &hf, 12, "VruHighFrequencyContainer preamble"));
    VAL(hv, 0, 3601, "heading");
    VAL(hc, 1, 127, "headingConfidence");
    VAL(sp, 0, 16383, "speed");
    VAL(sc, 1, 127, "speedConfidence");
    VAL(av, -160, 161, "longitudinalAcceleration");
    VAL(ac, 0, 102, "longitudinalAccelerationConfidence");
    m->heading_deg = na(hv, 3601, 0.1);
    m->speed_mps = na(sp, 16383, 0.01);
    m->accel_long_mps2 = na(av, 161, 0.1);
    m->heading_conf_deg = hc >= 126 || hc < 0 ? NAN : (double)hc * 0.1;
    m->speed_conf_mps = sc >= 126 || sc < 0 ? NAN : (double)sc * 0.01;
    (void)pres, (void)bext, (void)hf, (void)ac;
    m->decoded = true;
    return VXS_OK;
}

/* SPATEM and MAPEM carry ISO TS 19091's SPAT and MapData, the J2735 types: j2735.c walks them
 * (every intersection's id, the times, the first MAP intersection's reference point). */

/* ---- the ITS PDU ---------------------------------------------------------------------------- */

/* its_pdu decodes an ITS PDU into `out`, whose message fields must be absent
 * (vxs_v2x_msg_init); lower-layer fields are left as they are. */
static vxs_status_t its_pdu(vxs_v2x_msg_t *out, const uint8_t *p, size_t len, char *err,
                            size_t err_len) {
    px_t px, *x = &px;
    int64_t ver, id, station;
    out->protocol = VXS_V2X_PROTO_ETSI;
    out->payload_len = len;
    px.b = vxs_br_init(p, len);
    px.bit0 = 0;
    px.what = "ITS PDU header";
    px.err = err;
    px.err_len = err_len;
    INT(ver, 0, 255, "protocolVersion");
    INT(id, 0, 255, "messageID");
    INT(station, 0, 4294967295LL, "stationID");
    out->protocol_version = (int)ver;
    out->msg_id = (int)id;
    out->station_id = station;
    switch (id) {
    case VXS_ETSI_CAM:
        if (ver != 1 && ver != 2) return VXS_OK;
        px.what = "CAM";
        return cam(x, out, (int)ver);
    case VXS_ETSI_DENM:
        if (ver != 1 && ver != 2) return VXS_OK;
        px.what = "DENM";
        return denm(x, out, (int)ver);
    case VXS_ETSI_CPM:
        if (ver != 2) return VXS_OK; /* v1 (TR 103 562) is a different message */
        px.what = "CPM";
        return cpm(x, out);
    case VXS_ETSI_VAM: px.what = "VAM"; return vam(x, out);
    case VXS_ETSI_SPATEM: return vxsi_j2735_spat(out, &x->b, "SPATEM", err, err_len);
    case VXS_ETSI_MAPEM: return vxsi_j2735_map(out, &x->b, "MAPEM", err, err_len);
    default: return VXS_OK; /* other messages: header fields only */
    }
}

vxs_status_t vxs_v2x_decode_its_pdu(vxs_v2x_msg_t *out, const uint8_t *p, size_t len, char *err,
                                    size_t err_len) {
    VXS_RETURN_IF(out == NULL || (p == NULL && len), VXS_E_ARG);
    vxs_v2x_msg_init(out);
    return its_pdu(out, p, len, err, err_len);
}
