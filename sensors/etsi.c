/*
 * etsi.c: the ETSI ITS-G5 stack: GeoNetworking (basic, secured, common and extended headers
 * with the position vectors), BTP-A/B, the ITS PDU header and the CAM (UPER). Layouts:
 * ../shared/specs/v2x-wire-formats.md §2 (GN, BTP and the CAM v1.4.1 bit table verified on
 * real captures against tshark). Messages other than the CAM are returned with their ITS PDU
 * header (decoded = false).
 */
#include <math.h>
#include <string.h>

#include "vxs_core.h"
#include "vxs_core_int.h"
#include "vxs_v2x.h"
#include "v2x_int.h"

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

#define GN_AT(r) (len - vxs_rd_left(r))

/* common_and_rest decodes the common header, the extended header, BTP and the ITS PDU from r
 * (whose bytes start at `base`, `len` long, for offsets in messages). */
static vxs_status_t common_and_rest(vxs_v2x_msg_t *m, vxs_rd_t *r, size_t len, char *err,
                                    size_t err_len) {
    uint8_t nh, ht, tc, flags, mhl, res;
    uint16_t pl, sn;
    if (!vxs_rd_u8(r, &nh) || !vxs_rd_u8(r, &ht) || !vxs_rd_u8(r, &tc) ||
        !vxs_rd_u8(r, &flags) || !vxs_rd_u16be(r, &pl) || !vxs_rd_u8(r, &mhl) ||
        !vxs_rd_u8(r, &res))
        goto cut;
    (void)tc, (void)flags, (void)mhl, (void)res;
    m->gn_header_type = ht;
    switch (ht >> 4) {
    case 1: /* beacon */
        if (!lpv(m, r)) goto cut;
        break;
    case 2: /* GUC: SN, reserved, SO LPV, DE short PV */
        if (!vxs_rd_u16be(r, &sn) || !vxs_rd_skip(r, 2) || !lpv(m, r) || !vxs_rd_skip(r, 20))
            goto cut;
        m->gn_sn = sn;
        break;
    case 3: /* GAC */
    case 4: /* GBC: SN, reserved, SO LPV, area position, distances, angle, reserved */
        if (!vxs_rd_u16be(r, &sn) || !vxs_rd_skip(r, 2) || !lpv(m, r) || !vxs_rd_skip(r, 16))
            goto cut;
        m->gn_sn = sn;
        break;
    case 5:
        if ((ht & 0x0F) == 0) { /* SHB: SO LPV + 4 bytes DCC / reserved */
            if (!lpv(m, r) || !vxs_rd_skip(r, 4)) goto cut;
        } else { /* TSB: SN, reserved, SO LPV */
            if (!vxs_rd_u16be(r, &sn) || !vxs_rd_skip(r, 2) || !lpv(m, r)) goto cut;
            m->gn_sn = sn;
        }
        break;
    case 6: /* location service: no upper-layer payload */
        if (!vxs_rd_u16be(r, &sn) || !vxs_rd_skip(r, 2) || !lpv(m, r)) goto cut;
        m->gn_sn = sn;
        return VXS_OK;
    default:
        vxsi_fmt(err, err_len, "GeoNetworking: byte %zu: header type 0x%02x unknown",
                 GN_AT(r) - 7, ht);
        return VXS_E_MALFORMED;
    }
    if (ht == 0x10) return VXS_OK; /* a beacon carries no payload */
    uint8_t upper = nh >> 4;
    if (upper == 1 || upper == 2) { /* BTP-A / BTP-B: destination port first */
        uint16_t dport, other;
        if (!vxs_rd_u16be(r, &dport) || !vxs_rd_u16be(r, &other)) goto cut;
        m->gn_btp_port = dport;
    } else {
        return VXS_OK; /* IPv6 or "any": not an ITS message */
    }
    size_t at = GN_AT(r), left = vxs_rd_left(r);
    const uint8_t *pdu;
    if (!vxs_rd_ptr(r, &pdu, left)) goto cut;
    vxs_v2x_msg_t lower;
    vxsi_v2x_keep_lower(&lower, m); /* only the lower-layer fields, not the whole message */
    vxs_status_t st = vxs_v2x_decode_its_pdu(m, pdu, left, err, err_len);
    /* the PDU decoder starts from a fresh message: put the GN layer's fields back */
    vxsi_v2x_keep_lower(m, &lower);
    m->has_gn = true;
    if (st != VXS_OK) {
        /* say where the PDU began in the GN packet */
        size_t n = strlen(err);
        if (err && n + 32 < err_len) vxsi_fmt(err + n, err_len - n, " (ITS PDU at byte %zu)", at);
    }
    return st;
cut:
    vxsi_fmt(err, err_len, "GeoNetworking: byte %zu: headers cut short", GN_AT(r));
    return VXS_E_TRUNCATED;
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
        vxsi_fmt(err, err_len, "GeoNetworking: basic header cut short (%zu bytes)", len);
        return VXS_E_TRUNCATED;
    }
    (void)res, (void)lt, (void)rhl;
    if ((vnh >> 4) > 1) {
        vxsi_fmt(err, err_len, "GeoNetworking: byte 0: version %u (0 or 1 expected)", vnh >> 4);
        return VXS_E_MALFORMED;
    }
    switch (vnh & 0x0F) {
    case 1: return common_and_rest(out, &r, len, err, err_len);
    case 2: {
        /* Secured packet (TS 103 097 = IEEE 1609.2 data): its payload is the common header
         * onwards. */
        const uint8_t *inner;
        size_t inner_len;
        out->gn_secured = true;
        VXS_FORWARD(vxs_v2x_decode_1609dot2(out, &inner, &inner_len, p + 4, len - 4, err,
                                            err_len));
        vxs_rd_t ir = vxs_rd_init(inner, inner_len);
        return common_and_rest(out, &ir, inner_len, err, err_len);
    }
    default:
        vxsi_fmt(err, err_len, "GeoNetworking: byte 0: next header %u (common or secured "
                 "expected)", vnh & 0x0F);
        return VXS_E_MALFORMED;
    }
}

/* ---- ITS PDU and CAM ----------------------------------------------------------------------- */

#define UPER VXSI_UPER

#define BIT(var, name)                                                                           \
    do {                                                                                         \
        if (!vxs_br_bool(b, &(var))) {                                                           \
            vxsi_fmt(err, err_len, "%s: bit %zu: %s cut short", what, b->pos, (name));           \
            return VXS_E_TRUNCATED;                                                              \
        }                                                                                        \
    } while (0)

#define na vxsi_unavail

/* cam decodes a CAM after the ITS PDU header: EN 302 637-2 v1.4.1 (protocolVersion 2) and the
 * v1.3 form (protocolVersion 1), which share the root layout read here; Release 2 (TS 103 900)
 * also shares it, its extension containers sitting after the CamParameters extension marker,
 * past everything read here. Decoding stops after the high-frequency container's mandatory
 * fields: every field v2xsync reports has been read by then. */
static vxs_status_t cam(vxs_v2x_msg_t *m, vxs_br_t *b, char *err, size_t err_len) {
    const char *what = "CAM";
    int64_t gdt, st, lat, lon, smaj, smin, ori, alt, altc;
    bool ext, lf, sv, bext, hfext, rsu;
    UPER(gdt, 0, 65535, "generationDeltaTime");
    BIT(ext, "CamParameters extension bit");
    BIT(lf, "lowFrequencyContainer presence");
    BIT(sv, "specialVehicleContainer presence");
    BIT(bext, "BasicContainer extension bit");
    UPER(st, 0, 255, "stationType");
    UPER(lat, -900000000, 900000001, "latitude");
    UPER(lon, -1800000000, 1800000001, "longitude");
    UPER(smaj, 0, 4095, "semiMajorConfidence");
    UPER(smin, 0, 4095, "semiMinorConfidence");
    UPER(ori, 0, 3601, "semiMajorOrientation");
    UPER(alt, -100000, 800001, "altitudeValue");
    UPER(altc, 0, 15, "altitudeConfidence");
    (void)ext, (void)sv, (void)bext, (void)smaj, (void)smin, (void)ori, (void)altc;
    m->gen_delta_time = (int32_t)gdt;
    m->station_type = (int)st;
    m->lat_deg = na(lat, 900000001, 1e-7);
    m->lon_deg = na(lon, 1800000001, 1e-7);
    m->elev_m = na(alt, 800001, 0.01);
    m->cam_low_freq = lf;
    BIT(hfext, "HighFrequencyContainer extension bit");
    if (hfext) {
        vxsi_fmt(err, err_len, "CAM: bit %zu: high-frequency container of an unknown kind",
                 b->pos);
        return VXS_E_UNSUPPORTED;
    }
    BIT(rsu, "HighFrequencyContainer choice");
    m->cam_rsu = rsu;
    if (rsu) {
        m->decoded = true;
        return VXS_OK;
    }
    int64_t opt, hv, hc, sp, sc, dd, lv, lc, wv, av, ac, cv, cc, cm_, yv, yc;
    if (!vxs_br_cons(b, &opt, 0, 127)) {
        vxsi_fmt(err, err_len, "CAM: bit %zu: vehicle HF presence bits cut short", b->pos);
        return VXS_E_TRUNCATED;
    }
    UPER(hv, 0, 3601, "heading");
    UPER(hc, 1, 127, "headingConfidence");
    UPER(sp, 0, 16383, "speed");
    UPER(sc, 1, 127, "speedConfidence");
    UPER(dd, 0, 2, "driveDirection");
    UPER(lv, 1, 1023, "vehicleLength");
    UPER(lc, 0, 4, "vehicleLengthConfidenceIndication");
    UPER(wv, 1, 62, "vehicleWidth");
    UPER(av, -160, 161, "longitudinalAcceleration");
    UPER(ac, 0, 102, "longitudinalAccelerationConfidence");
    UPER(cv, -1023, 1023, "curvature");
    UPER(cc, 0, 7, "curvatureConfidence");
    bool cext;
    BIT(cext, "curvatureCalculationMode extension bit");
    if (cext) {
        uint64_t idx;
        if (!vxs_br_nsnn(b, &idx)) {
            vxsi_fmt(err, err_len, "CAM: bit %zu: curvatureCalculationMode cut short", b->pos);
            return VXS_E_TRUNCATED;
        }
    } else {
        UPER(cm_, 0, 2, "curvatureCalculationMode");
    }
    UPER(yv, -32766, 32767, "yawRate");
    UPER(yc, 0, 8, "yawRateConfidence");
    (void)opt, (void)hc, (void)sc, (void)dd, (void)lc, (void)ac, (void)cv, (void)cc, (void)yc;
    m->heading_deg = na(hv, 3601, 0.1);
    m->speed_mps = na(sp, 16383, 0.01);
    m->length_m = na(lv, 1023, 0.1);
    m->width_m = na(wv, 62, 0.1);
    m->accel_long_mps2 = na(av, 161, 0.1);
    m->yaw_rate_dps = na(yv, 32767, 0.01);
    m->decoded = true;
    return VXS_OK;
}

vxs_status_t vxs_v2x_decode_its_pdu(vxs_v2x_msg_t *out, const uint8_t *p, size_t len, char *err,
                                    size_t err_len) {
    vxs_br_t br;
    vxs_br_t *b = &br;
    const char *what = "ITS PDU header";
    int64_t ver, id, station;
    VXS_RETURN_IF(out == NULL || (p == NULL && len), VXS_E_ARG);
    vxs_v2x_msg_init(out);
    out->protocol = VXS_V2X_PROTO_ETSI;
    out->payload_len = len;
    br = vxs_br_init(p, len);
    UPER(ver, 0, 255, "protocolVersion");
    UPER(id, 0, 255, "messageID");
    UPER(station, 0, 4294967295LL, "stationID");
    out->protocol_version = (int)ver;
    out->msg_id = (int)id;
    out->station_id = station;
    if (id == VXS_ETSI_CAM && (ver == 1 || ver == 2)) return cam(out, b, err, err_len);
    return VXS_OK; /* other messages: header fields only */
}
