/*
 * j2735.c: SAE J2735 messages (UPER): the MessageFrame and the BasicSafetyMessage's core data
 * and Part II presence, and the PersonalSafetyMessage up to its heading. Field order and widths: ../shared/specs/v2x-wire-formats.md §1 (the
 * 290-bit coreData table, verified on three independent vectors). Other message ids are
 * returned with their id (decoded = false).
 */
#include <math.h>
#include <string.h>

#include "vxs_core.h"
#include "vxs_core_int.h"
#include "vxs_v2x.h"
#include "v2x_int.h"

#define FIELD VXSI_UPER
#define unavail vxsi_unavail

/* bsm_core reads BSMcoreData (290 bits, no preamble). */
static vxs_status_t bsm_core(vxs_v2x_msg_t *m, vxs_br_t *b, const char *what, char *err,
                             size_t err_len) {
    int64_t cnt, id, sec, lat, lon, elev, smaj, smin, ori, trans, speed, heading, angle, along,
        alat, avert, ayaw, wheel, trac, abs_, scs, boost, aux, width, length;
    FIELD(cnt, 0, 127, "msgCnt");
    FIELD(id, 0, 0xFFFFFFFFLL, "id");
    FIELD(sec, 0, 65535, "secMark");
    FIELD(lat, -900000000, 900000001, "lat");
    FIELD(lon, -1799999999, 1800000001, "long");
    FIELD(elev, -4096, 61439, "elev");
    FIELD(smaj, 0, 255, "accuracy.semiMajor");
    FIELD(smin, 0, 255, "accuracy.semiMinor");
    FIELD(ori, 0, 65535, "accuracy.orientation");
    FIELD(trans, 0, 7, "transmission");
    FIELD(speed, 0, 8191, "speed");
    FIELD(heading, 0, 28800, "heading");
    FIELD(angle, -126, 127, "angle");
    FIELD(along, -2000, 2001, "accelSet.long");
    FIELD(alat, -2000, 2001, "accelSet.lat");
    FIELD(avert, -127, 127, "accelSet.vert");
    FIELD(ayaw, -32767, 32767, "accelSet.yaw");
    FIELD(wheel, 0, 31, "brakes.wheelBrakes");
    FIELD(trac, 0, 3, "brakes.traction");
    FIELD(abs_, 0, 3, "brakes.abs");
    FIELD(scs, 0, 3, "brakes.scs");
    FIELD(boost, 0, 2, "brakes.brakeBoost");
    FIELD(aux, 0, 3, "brakes.auxBrakes");
    FIELD(width, 0, 1023, "size.width");
    FIELD(length, 0, 4095, "size.length");
    (void)smaj, (void)smin, (void)ori, (void)trans, (void)angle, (void)wheel, (void)trac,
        (void)abs_, (void)scs, (void)boost, (void)aux;
    m->msg_cnt = (int)cnt;
    m->station_id = id;
    m->sec_mark = sec == 65535 ? -1 : (int32_t)sec;
    m->lat_deg = unavail(lat, 900000001, 1e-7);
    m->lon_deg = unavail(lon, 1800000001, 1e-7);
    m->elev_m = unavail(elev, -4096, 0.1);
    m->speed_mps = unavail(speed, 8191, 0.02);
    m->heading_deg = unavail(heading, 28800, 0.0125);
    m->accel_long_mps2 = unavail(along, 2001, 0.01);
    m->accel_lat_mps2 = unavail(alat, 2001, 0.01);
    m->accel_vert_mps2 = unavail(avert, -127, 0.02 * 9.80665);
    m->yaw_rate_dps = (double)ayaw * 0.01;
    m->width_m = width == 0 ? NAN : (double)width * 0.01;
    m->length_m = length == 0 ? NAN : (double)length * 0.01;
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
        type = 5 + (int64_t)idx; /* an extension value */
    } else {
        FIELD(type, 0, 4, "basicType");
    }
    FIELD(sec, 0, 65535, "secMark");
    FIELD(cnt, 0, 127, "msgCnt");
    FIELD(id, 0, 0xFFFFFFFFLL, "id");
    if (!vxs_br_bool(b, &pext) || !vxs_br_bool(b, &has_elev) || !vxs_br_bool(b, &has_reg))
        goto cut;
    FIELD(lat, -900000000, 900000001, "position.lat");
    FIELD(lon, -1799999999, 1800000001, "position.long");
    if (has_elev) FIELD(elev, -4096, 61439, "position.elevation");
    if (has_reg) {
        vxsi_fmt(err, err_len, "PSM: bit %zu: regional position extension not supported",
                 b->pos);
        return VXS_E_UNSUPPORTED;
    }
    FIELD(smaj, 0, 255, "accuracy.semiMajor");
    FIELD(smin, 0, 255, "accuracy.semiMinor");
    FIELD(ori, 0, 65535, "accuracy.orientation");
    FIELD(speed, 0, 8191, "speed");
    FIELD(heading, 0, 28800, "heading");
    (void)pre, (void)pext, (void)smaj, (void)smin, (void)ori;
    m->station_type = (int)type;
    m->sec_mark = sec == 65535 ? -1 : (int32_t)sec;
    m->msg_cnt = (int)cnt;
    m->station_id = id;
    m->lat_deg = unavail(lat, 900000001, 1e-7);
    m->lon_deg = unavail(lon, 1800000001, 1e-7);
    m->elev_m = unavail(elev, -4096, 0.1);
    m->speed_mps = unavail(speed, 8191, 0.02);
    m->heading_deg = unavail(heading, 28800, 0.0125);
    m->decoded = true;
    return VXS_OK;
cut:
    vxsi_fmt(err, err_len, "PSM: bit %zu: cut short", b->pos);
    return VXS_E_TRUNCATED;
}

vxs_status_t vxs_v2x_decode_j2735(vxs_v2x_msg_t *out, const uint8_t *p, size_t len, char *err,
                                  size_t err_len) {
    vxs_br_t br;
    vxs_br_t *b = &br;
    bool ext;
    int64_t id;
    size_t vlen;
    const char *what = "MessageFrame";
    VXS_RETURN_IF(out == NULL || (p == NULL && len), VXS_E_ARG);
    vxs_v2x_msg_init(out);
    out->protocol = VXS_V2X_PROTO_J2735;
    out->payload_len = len;
    br = vxs_br_init(p, len);
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
    if (vlen * 8 > vxs_br_left(b)) {
        vxsi_fmt(err, err_len, "MessageFrame: value of %zu bytes but %zu bits follow", vlen,
                 vxs_br_left(b));
        return VXS_E_TRUNCATED;
    }
    /* The value is an open type: decode it from its own octets, so a message that ends early
     * cannot read into what follows. */
    uint8_t tmp[4096];
    const uint8_t *val = p + (b->pos / 8);
    if (b->pos % 8 != 0) {
        if (vlen > sizeof tmp || !vxs_br_octets(b, tmp, vlen)) {
            vxsi_fmt(err, err_len, "MessageFrame: value of %zu bytes too long", vlen);
            return VXS_E_LIMIT;
        }
        val = tmp;
    }
    vxs_br_t vb = vxs_br_init(val, vlen);
    switch (id) {
    case VXS_J2735_BSM: return bsm(out, &vb, err, err_len);
    case VXS_J2735_PSM: return psm(out, &vb, err, err_len);
    default: return VXS_OK; /* kept with its id, not decoded */
    }
}
