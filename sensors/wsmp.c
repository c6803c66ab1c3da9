/*
 * wsmp.c: the US stack below the message: WSMP (IEEE 1609.3-2016) and IEEE 1609.2 data
 * (C-OER, unsecured and signed). Layouts: ../shared/specs/v2x-wire-formats.md §1.
 *
 * 1609.2 is walked as C-OER, not searched for byte patterns: sequence preambles (extension and
 * presence bits), OER lengths, CHOICE tags. Only what leads to the payload and the HeaderInfo's
 * psid and generationTime is read; the signer and signature that follow are not needed.
 */
#include <string.h>

#include "vxs_core.h"
#include "vxs_core_int.h"
#include "vxs_v2x.h"
#include "v2x_int.h"

/* ---- WSMP ---------------------------------------------------------------------------------- */

/* psid_p reads a p-encoded PSID (1609.3 §8.1.3: 1 to 4 bytes, the leading 1 bits giving the
 * length, each longer form offset by the range of the shorter ones). */
static bool psid_p(vxs_rd_t *r, uint32_t *out) {
    uint8_t b0, b;
    if (!vxs_rd_u8(r, &b0)) return false;
    if ((b0 & 0x80) == 0) {
        *out = b0;
        return true;
    }
    int n = (b0 & 0xC0) == 0x80 ? 1 : (b0 & 0xE0) == 0xC0 ? 2 : (b0 & 0xF0) == 0xE0 ? 3 : -1;
    if (n < 0) return false;
    uint32_t v = b0 & (0x3Fu >> (n - 1));
    for (int i = 0; i < n; i++) {
        if (!vxs_rd_u8(r, &b)) return false;
        v = v << 8 | b;
    }
    static const uint32_t offset[4] = {0, 0x80, 0x4080, 0x204080};
    *out = v + offset[n];
    return true;
}

/* count_p reads a 1609.3 count / length: one byte 0xxxxxxx, or two 10xxxxxx xxxxxxxx. */
static bool count_p(vxs_rd_t *r, size_t *out) {
    uint8_t b0, b1;
    if (!vxs_rd_u8(r, &b0)) return false;
    if ((b0 & 0x80) == 0) {
        *out = b0;
        return true;
    }
    if ((b0 & 0xC0) != 0x80 || !vxs_rd_u8(r, &b1)) return false;
    *out = (size_t)(b0 & 0x3F) << 8 | b1;
    return true;
}

vxs_status_t vxs_v2x_decode_wsmp(vxs_v2x_msg_t *out, const uint8_t *p, size_t len, char *err,
                                 size_t err_len) {
    vxs_rd_t r = vxs_rd_init(p, len);
    uint8_t b0, tpid;
    size_t wsm_len;
    const uint8_t *wsm, *inner = NULL;
    size_t inner_len = 0;
    VXS_RETURN_IF(out == NULL || (p == NULL && len), VXS_E_ARG);
    vxs_v2x_msg_init(out);
    out->protocol = VXS_V2X_PROTO_J2735;
    if (!vxs_rd_u8(&r, &b0)) {
        vxsi_fmt(err, err_len, "WSMP: byte 0: empty");
        return VXS_E_TRUNCATED;
    }
    if ((b0 & 0x07) != 3) {
        vxsi_fmt(err, err_len, "WSMP: byte 0: version %u (3 expected)", b0 & 0x07);
        return VXS_E_MALFORMED;
    }
    out->has_wsmp = true;
    if (b0 & 0x08) {
        /* WAVE Information Element Extension (N-header): count, then {id, length, data}. */
        size_t n, l;
        if (!count_p(&r, &n)) goto cut;
        for (size_t i = 0; i < n; i++) {
            uint8_t id, v = 0;
            size_t at = len - vxs_rd_left(&r);
            if (!vxs_rd_u8(&r, &id) || !count_p(&r, &l)) goto cut;
            if (l == 1 && !vxs_rd_u8(&r, &v)) goto cut;
            if (l != 1 && !vxs_rd_skip(&r, l)) goto cut;
            /* 1609.3 Annex: 15 channel number, 16 data rate (500 kb/s units), 4 transmit
             * power used (dBm, signed) */
            if (l == 1 && id == 15) out->wsmp_channel = v;
            else if (l == 1 && id == 16) out->wsmp_data_rate = v;
            else if (l == 1 && id == 4) out->wsmp_tx_power = (int8_t)v;
            (void)at;
        }
    }
    if (!vxs_rd_u8(&r, &tpid)) goto cut;
    if (tpid > 1) {
        vxsi_fmt(err, err_len, "WSMP: byte %zu: TPID %u not supported (0 or 1)",
                 len - vxs_rd_left(&r) - 1, tpid);
        return VXS_E_UNSUPPORTED;
    }
    if (!psid_p(&r, &out->psid)) goto cut;
    if (tpid == 1 && !vxs_rd_skip(&r, 4)) goto cut; /* source and destination ports */
    if (!count_p(&r, &wsm_len)) goto cut;
    if (!vxs_rd_ptr(&r, &wsm, wsm_len)) {
        vxsi_fmt(err, err_len, "WSMP: WSM length %zu but %zu bytes follow", wsm_len,
                 vxs_rd_left(&r));
        return VXS_E_TRUNCATED;
    }
    VXS_FORWARD(vxs_v2x_decode_1609dot2(out, &inner, &inner_len, wsm, wsm_len, err, err_len));
    {
        /* The MessageFrame decoder starts from a fresh message; keep what the lower layers
         * said. */
        vxs_v2x_msg_t low;
        vxsi_v2x_keep_lower(&low, out);
        vxs_status_t st = vxs_v2x_decode_j2735(out, inner, inner_len, err, err_len);
        vxsi_v2x_keep_lower(out, &low);
        return st;
    }
cut:
    vxsi_fmt(err, err_len, "WSMP: byte %zu: header cut short", len - vxs_rd_left(&r));
    return VXS_E_TRUNCATED;
}

/* ---- IEEE 1609.2 ------------------------------------------------------------------------- */

/* oer_len reads an OER length determinant: short form < 128, or 0x8N + N big-endian bytes. */
static bool oer_len(vxs_rd_t *r, size_t *out) {
    uint8_t b;
    if (!vxs_rd_u8(r, &b)) return false;
    if (!(b & 0x80)) {
        *out = b;
        return true;
    }
    unsigned n = b & 0x7F;
    if (n == 0 || n > 4) return false;
    size_t v = 0;
    for (unsigned i = 0; i < n; i++) {
        if (!vxs_rd_u8(r, &b)) return false;
        v = v << 8 | b;
    }
    *out = v;
    return true;
}

/* skip_extensions skips the extension additions of an extensible OER sequence whose
 * extension bit was set: a length-prefixed presence bitmap, then one open type (length +
 * value) per present addition. */
static bool skip_extensions(vxs_rd_t *r) {
    size_t blen, l;
    const uint8_t *bm;
    if (!oer_len(r, &blen) || blen == 0 || !vxs_rd_ptr(r, &bm, blen)) return false;
    unsigned unused = bm[0];
    if (unused > 7) return false;
    for (size_t i = 1; i < blen; i++)
        for (int bit = 7; bit >= 0; bit--) {
            if (i == blen - 1 && bit < (int)unused) break;
            if (bm[i] >> bit & 1) {
                if (!oer_len(r, &l) || !vxs_rd_skip(r, l)) return false;
            }
        }
    return true;
}

#define AT(r) (len - vxs_rd_left(r))

vxs_status_t vxs_v2x_decode_1609dot2(vxs_v2x_msg_t *out, const uint8_t **payload,
                                     size_t *payload_len, const uint8_t *p, size_t len,
                                     char *err, size_t err_len) {
    vxs_rd_t r = vxs_rd_init(p, len);
    uint8_t ver, tag, b;
    size_t n;
    VXS_RETURN_IF(out == NULL || payload == NULL || payload_len == NULL || (p == NULL && len),
                  VXS_E_ARG);
    *payload = NULL;
    *payload_len = 0;
    if (!vxs_rd_u8(&r, &ver) || !vxs_rd_u8(&r, &tag)) goto cut;
    if (ver != 3) {
        vxsi_fmt(err, err_len, "IEEE 1609.2: byte 0: protocolVersion %u (3 expected)", ver);
        return VXS_E_MALFORMED;
    }
    if (tag == 0x80) { /* unsecuredData: Opaque */
        out->ieee_content = 0;
        if (!oer_len(&r, &n) || !vxs_rd_ptr(&r, payload, n)) goto cut;
        *payload_len = n;
        return VXS_OK;
    }
    if (tag == 0x82) {
        out->ieee_content = 2;
        vxsi_fmt(err, err_len, "IEEE 1609.2: encrypted data cannot be read");
        return VXS_E_UNSUPPORTED;
    }
    if (tag != 0x81) {
        vxsi_fmt(err, err_len, "IEEE 1609.2: byte 1: content tag 0x%02x unknown", tag);
        return VXS_E_MALFORMED;
    }
    out->ieee_content = 1;
    /* SignedData: hashId (ENUMERATED, one byte), tbsData { payload SignedDataPayload,
     * headerInfo HeaderInfo }, signer, signature. */
    if (!vxs_rd_u8(&r, &b)) goto cut;
    /* SignedDataPayload ::= SEQUENCE { data OPTIONAL, extDataHash OPTIONAL, ..., omitted
     * OPTIONAL }: preamble ext|data|extDataHash. */
    if (!vxs_rd_u8(&r, &b)) goto cut;
    bool ext = b & 0x80, has_data = b & 0x40, has_hash = b & 0x20;
    if (has_data) {
        /* Ieee1609Dot2Data inside: version 3 and unsecuredData (signed-in-signed is not used
         * by any profile; refuse it rather than recurse). */
        uint8_t v2, t2;
        if (!vxs_rd_u8(&r, &v2) || !vxs_rd_u8(&r, &t2)) goto cut;
        if (v2 != 3 || t2 != 0x80) {
            vxsi_fmt(err, err_len, "IEEE 1609.2: byte %zu: signed data holds version %u, "
                     "content 0x%02x (unsecured data expected)", AT(&r) - 2, v2, t2);
            return VXS_E_UNSUPPORTED;
        }
        if (!oer_len(&r, &n) || !vxs_rd_ptr(&r, payload, n)) goto cut;
        *payload_len = n;
    }
    if (has_hash) {
        uint8_t h;
        if (!vxs_rd_u8(&r, &h)) goto cut;
        size_t hl = h == 0x81 ? 48 : 32; /* sha256 / sm3: 32 bytes; sha384: 48 */
        if (!vxs_rd_skip(&r, hl)) goto cut;
    }
    if (ext && !skip_extensions(&r)) goto cut;
    /* HeaderInfo ::= SEQUENCE { psid, generationTime OPTIONAL, expiryTime OPTIONAL,
     * generationLocation OPTIONAL, p2pcdLearningRequest OPTIONAL, missingCrlIdentifier
     * OPTIONAL, encryptionKey OPTIONAL, ... }: preamble ext + 6 presence bits. */
    if (!vxs_rd_u8(&r, &b)) goto cut;
    bool has_gen = b & 0x40;
    /* psid: OER integer, a length byte and that many big-endian bytes */
    if (!vxs_rd_u8(&r, &ver) || ver == 0 || ver > 4) goto bad_psid;
    {
        uint32_t psid = 0;
        for (unsigned i = 0; i < ver; i++) {
            if (!vxs_rd_u8(&r, &tag)) goto cut;
            psid = psid << 8 | tag;
        }
        out->ieee_psid = psid;
    }
    if (has_gen) {
        uint64_t t;
        if (!vxs_rd_u64be(&r, &t)) goto cut;
        if (t > (uint64_t)INT64_MAX) {
            vxsi_fmt(err, err_len, "IEEE 1609.2: byte %zu: generationTime out of range",
                     AT(&r) - 8);
            return VXS_E_MALFORMED;
        }
        out->ieee_gen_time_us = (int64_t)t;
    }
    if (!has_data) {
        vxsi_fmt(err, err_len, "IEEE 1609.2: signed data without a payload (external data)");
        return VXS_E_UNSUPPORTED;
    }
    return VXS_OK;
bad_psid:
    vxsi_fmt(err, err_len, "IEEE 1609.2: byte %zu: bad psid length", AT(&r));
    return VXS_E_MALFORMED;
cut:
    vxsi_fmt(err, err_len, "IEEE 1609.2: byte %zu: data cut short", AT(&r));
    return VXS_E_TRUNCATED;
}
