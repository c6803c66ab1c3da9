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
#include "j2735_int.h"

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

/* prefix_err puts "WSMP: byte N: " before the message of an inner layer, so that its offset
 * (counted from the start of that layer) can be placed in the packet. */
static void prefix_err(char *err, size_t err_len, size_t at) {
    char inner[256];
    if (err == NULL || err_len == 0) return;
    vxsi_fmt(inner, sizeof inner, "%s", err);
    vxsi_fmt(err, err_len, "WSMP: byte %zu: %s", at, inner);
}

/* wave_ie_ext reads a WAVE Information Element Extension (1609.3 §8.1.4): a count, then
 * that many {element id, length, data}. The N-header may carry channel number (15), data
 * rate (16, in 500 kb/s) and transmit power used (4, dBm, two's complement); anything else,
 * or the same ids in the T-header, is skipped. */
static bool wave_ie_ext(vxs_rd_t *r, vxs_v2x_msg_t *out, bool keep) {
    size_t n, l;
    if (!count_p(r, &n)) return false;
    for (size_t i = 0; i < n; i++) {
        uint8_t id, v = 0;
        if (!vxs_rd_u8(r, &id) || !count_p(r, &l)) return false;
        if (l == 1) {
            if (!vxs_rd_u8(r, &v)) return false;
        } else if (!vxs_rd_skip(r, l)) {
            return false;
        }
        if (!keep || l != 1) continue;
        if (id == 15) out->wsmp_channel = v;
        else if (id == 16) out->wsmp_data_rate = v;
        else if (id == 4) out->wsmp_tx_power = (int8_t)v;
    }
    return true;
}

/*
 * WSMP v3 (IEEE 1609.3-2016 §8.3):
 *
 *   N-header: subtype(4) | option indicator(1) | version(3) = 3
 *             [WAVE IE extension, when the option indicator is set]
 *   T-header: TPID | address info: PSID p-encoded (TPID 0, 1) or source + destination
 *             ITS port, 2 bytes each (TPID 2, 3) | [WAVE IE extension: TPID 1, 3]
 *             | WSM length (count encoding)
 *   WSM data: Ieee1609Dot2Data
 *
 * TPID 4 and 5 (LPP mode) carry no PSID this decoder could use and are refused.
 */
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
    if ((b0 & 0x08) && !wave_ie_ext(&r, out, true)) goto cut;
    if (!vxs_rd_u8(&r, &tpid)) goto cut;
    if (tpid > 3) {
        vxsi_fmt(err, err_len, "WSMP: byte %zu: TPID %u not supported (0 to 3)",
                 len - vxs_rd_left(&r) - 1, tpid);
        return VXS_E_UNSUPPORTED;
    }
    if (tpid <= 1) {
        if (!psid_p(&r, &out->psid)) {
            uint8_t first;
            if (vxs_rd_peek_u8(&r, 0, &first) && (first & 0xF0) == 0xF0) {
                vxsi_fmt(err, err_len, "WSMP: byte %zu: PSID 0x%02x is not p-encoded",
                         len - vxs_rd_left(&r), first);
                return VXS_E_MALFORMED;
            }
            goto cut;
        }
    } else if (!vxs_rd_skip(&r, 4)) {
        goto cut;
    }
    if ((tpid & 1) && !wave_ie_ext(&r, out, false)) goto cut;
    if (!count_p(&r, &wsm_len)) goto cut;
    if (!vxs_rd_ptr(&r, &wsm, wsm_len)) {
        vxsi_fmt(err, err_len, "WSMP: byte %zu: WSM length %zu but %zu bytes follow",
                 len - vxs_rd_left(&r), wsm_len, vxs_rd_left(&r));
        return VXS_E_TRUNCATED;
    }
    const size_t wsm_at = len - vxs_rd_left(&r) - wsm_len;
    vxs_status_t st = vxs_v2x_decode_1609dot2(out, &inner, &inner_len, wsm, wsm_len, err, err_len);
    if (st != VXS_OK) {
        prefix_err(err, err_len, wsm_at);
        return st;
    }
    /* `out` was initialised above and the message fields are still absent: decode the
     * MessageFrame into it directly (no second init, no copy of the lower-layer fields). */
    st = vxsi_j2735_frame(out, inner, inner_len, err, err_len);
    if (st != VXS_OK) prefix_err(err, err_len, (size_t)(inner - p));
    return st;
cut:
    vxsi_fmt(err, err_len, "WSMP: byte %zu: header cut short", len - vxs_rd_left(&r));
    return VXS_E_TRUNCATED;
}

/* ---- IEEE 1609.2 ------------------------------------------------------------------------- */

/*
 * Ieee1609Dot2Data (IEEE 1609.2-2016 §6.3, C-OER; ETSI TS 103 097 uses the same):
 *
 *   protocolVersion (3) | content CHOICE tag: 0x80 unsecuredData (length + payload),
 *   0x81 signedData, 0x82 encryptedData, 0x83 signedCertificateRequest
 *   SignedData: hashId | tbsData { payload SignedDataPayload, headerInfo HeaderInfo } |
 *               signer SignerIdentifier | signature Signature
 *   SignedDataPayload: preamble ext|data|extDataHash | [data Ieee1609Dot2Data, nested]
 *                      | [extDataHash HashedData] | [extensions]
 *   HeaderInfo: preamble ext + 6 presence bits | psid (OER integer) | [generationTime]
 *               [expiryTime] [generationLocation] [p2pcdLearningRequest]
 *               [missingCrlIdentifier] [encryptionKey] | [extensions]
 *
 * Offsets in error messages are from the start of the outermost Ieee1609Dot2Data.
 */

#define IEEE_MAX_DEPTH 4 /* signed data inside signed data: no profile nests deeper */

typedef struct {
    vxs_rd_t r;
    const uint8_t *base; /* start of the outermost data, for offsets in messages */
    char *err;
    size_t err_len;
} ieee_ctx_t;

#define AT(c) ((size_t)((c)->r.p - (c)->base))

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

/* skip_open reads an OER open type (length + value) and skips its value. */
static bool skip_open(vxs_rd_t *r) {
    size_t l;
    return oer_len(r, &l) && vxs_rd_skip(r, l);
}

/* skip_extensions skips the extension additions of an extensible OER sequence whose
 * extension bit was set: a length-prefixed presence bitmap (first byte: unused bits of the
 * last), then one open type per present addition. */
static bool skip_extensions(vxs_rd_t *r) {
    size_t blen;
    const uint8_t *bm;
    if (!oer_len(r, &blen) || blen < 2 || !vxs_rd_ptr(r, &bm, blen)) return false;
    unsigned unused = bm[0];
    if (unused > 7) return false;
    for (size_t i = 1; i < blen; i++)
        for (int bit = 7; bit >= 0; bit--) {
            if (i == blen - 1 && bit < (int)unused) break;
            if ((bm[i] >> bit & 1) && !skip_open(r)) return false;
        }
    return true;
}

/* skip_choice_ext skips the value of a CHOICE alternative that is an extension addition: an
 * open type. */
#define skip_choice_ext skip_open

/* skip_p256_point skips an EccP256CurvePoint: x-only, compressed-y-0/1 (32 bytes), fill
 * (NULL), uncompressed (64 bytes). */
static bool skip_p256_point(vxs_rd_t *r) {
    uint8_t t;
    if (!vxs_rd_u8(r, &t)) return false;
    switch (t) {
    case 0x80: case 0x82: case 0x83: return vxs_rd_skip(r, 32);
    case 0x81: return true;
    case 0x84: return vxs_rd_skip(r, 64);
    default: return false;
    }
}

/* skip_encryption_key skips an EncryptionKey: public { supportedSymmAlg, publicKey
 * BasePublicEncryptionKey } or symmetric SymmetricEncryptionKey. */
static bool skip_encryption_key(vxs_rd_t *r) {
    uint8_t t, alg;
    if (!vxs_rd_u8(r, &t)) return false;
    if (t == 0x81) { /* symmetric: aes128Ccm (16 bytes); later alternatives are open types */
        if (!vxs_rd_u8(r, &t)) return false;
        return t == 0x80 ? vxs_rd_skip(r, 16) : skip_choice_ext(r);
    }
    if (t != 0x80 || !vxs_rd_u8(r, &alg) || !vxs_rd_u8(r, &t)) return false;
    if (t == 0x80 || t == 0x81) return skip_p256_point(r); /* eciesNistP256 / BrainpoolP256r1 */
    return skip_choice_ext(r);
}

/* skip_signer skips a SignerIdentifier: digest (HashedId8) or self. Certificates are not
 * walked (a certificate chain would be the only reason to), so they are refused. */
static vxs_status_t skip_signer(ieee_ctx_t *c) {
    uint8_t t;
    if (!vxs_rd_u8(&c->r, &t)) return VXS_E_TRUNCATED;
    if (t == 0x80) return vxs_rd_skip(&c->r, 8) ? VXS_OK : VXS_E_TRUNCATED;
    if (t == 0x82) return VXS_OK;
    vxsi_fmt(c->err, c->err_len, "IEEE 1609.2: byte %zu: nested signed data signed with a "
             "certificate (not walked)", AT(c) - 1);
    return VXS_E_UNSUPPORTED;
}

/* skip_signature skips a Signature: ECDSA P-256 (NIST or Brainpool: point + 32-byte s);
 * the P-384 and SM2 alternatives are extensions (open types). */
static bool skip_signature(vxs_rd_t *r) {
    uint8_t t;
    if (!vxs_rd_u8(r, &t)) return false;
    if (t == 0x80 || t == 0x81) return skip_p256_point(r) && vxs_rd_skip(r, 32);
    return (t & 0x80) && skip_choice_ext(r);
}

static vxs_status_t ieee_data(ieee_ctx_t *c, vxs_v2x_msg_t *out, const uint8_t **payload,
                              size_t *payload_len, int depth);

/* header_info walks HeaderInfo, keeping psid and generationTime. */
static vxs_status_t header_info(ieee_ctx_t *c, vxs_v2x_msg_t *out) {
    uint8_t pre, n, b;
    if (!vxs_rd_u8(&c->r, &pre)) goto cut;
    if (pre & 0x01) {
        vxsi_fmt(c->err, c->err_len, "IEEE 1609.2: byte %zu: HeaderInfo preamble 0x%02x has "
                 "padding bits set", AT(c) - 1, pre);
        return VXS_E_MALFORMED;
    }
    /* psid: OER unbounded unsigned integer, a length byte and that many bytes */
    if (!vxs_rd_u8(&c->r, &n)) goto cut;
    if (n == 0 || n > 4) {
        vxsi_fmt(c->err, c->err_len, "IEEE 1609.2: byte %zu: psid of %u bytes", AT(c) - 1, n);
        return VXS_E_MALFORMED;
    }
    uint32_t psid = 0;
    for (unsigned i = 0; i < n; i++) {
        if (!vxs_rd_u8(&c->r, &b)) goto cut;
        psid = psid << 8 | b;
    }
    out->ieee_psid = psid;
    if (pre & 0x40) { /* generationTime: Time64, µs since 2004-01-01 TAI */
        uint64_t t;
        if (!vxs_rd_u64be(&c->r, &t)) goto cut;
        if (t > (uint64_t)INT64_MAX) {
            vxsi_fmt(c->err, c->err_len, "IEEE 1609.2: byte %zu: generationTime out of range",
                     AT(c) - 8);
            return VXS_E_MALFORMED;
        }
        out->ieee_gen_time_us = (int64_t)t;
    }
    if ((pre & 0x20) && !vxs_rd_skip(&c->r, 8)) goto cut;  /* expiryTime */
    if ((pre & 0x10) && !vxs_rd_skip(&c->r, 10)) goto cut; /* ThreeDLocation 4+4+2 */
    if ((pre & 0x08) && !vxs_rd_skip(&c->r, 3)) goto cut;  /* p2pcdLearningRequest */
    if (pre & 0x04) { /* MissingCrlIdentifier { cracaId HashedId3, crlSeries, ... } */
        uint8_t mp;
        if (!vxs_rd_u8(&c->r, &mp) || !vxs_rd_skip(&c->r, 5)) goto cut;
        if ((mp & 0x80) && !skip_extensions(&c->r)) goto cut;
    }
    if ((pre & 0x02) && !skip_encryption_key(&c->r)) goto cut;
    if ((pre & 0x80) && !skip_extensions(&c->r)) goto cut;
    return VXS_OK;
cut:
    vxsi_fmt(c->err, c->err_len, "IEEE 1609.2: byte %zu: HeaderInfo cut short or malformed",
             AT(c));
    return VXS_E_TRUNCATED;
}

/* signed_data walks SignedData up to the end of its HeaderInfo; when `whole` (nested data,
 * where the outer HeaderInfo follows), on through signer and signature. */
static vxs_status_t signed_data(ieee_ctx_t *c, vxs_v2x_msg_t *out, const uint8_t **payload,
                                size_t *payload_len, int depth, bool whole) {
    uint8_t hash, pre;
    if (!vxs_rd_u8(&c->r, &hash) || !vxs_rd_u8(&c->r, &pre)) goto cut;
    if (pre & 0x1F) {
        vxsi_fmt(c->err, c->err_len, "IEEE 1609.2: byte %zu: SignedDataPayload preamble 0x%02x "
                 "has padding bits set", AT(c) - 1, pre);
        return VXS_E_MALFORMED;
    }
    const bool has_data = pre & 0x40;
    if (has_data) VXS_FORWARD(ieee_data(c, out, payload, payload_len, depth + 1));
    if (pre & 0x20) { /* extDataHash: HashedData CHOICE, sha256HashedData 32 bytes */
        uint8_t t;
        if (!vxs_rd_u8(&c->r, &t)) goto cut;
        if (t == 0x80 ? !vxs_rd_skip(&c->r, 32) : !skip_choice_ext(&c->r)) goto cut;
    }
    if ((pre & 0x80) && !skip_extensions(&c->r)) goto cut;
    /* The outermost signedData decides the ieee_* fields: read its HeaderInfo last. */
    out->ieee_content = 1;
    VXS_FORWARD(header_info(c, out));
    if (!has_data) {
        vxsi_fmt(c->err, c->err_len,
                 "IEEE 1609.2: signed data without a payload (external data)");
        return VXS_E_UNSUPPORTED;
    }
    if (whole) {
        VXS_FORWARD(skip_signer(c));
        if (!skip_signature(&c->r)) goto cut;
    }
    return VXS_OK;
cut:
    vxsi_fmt(c->err, c->err_len, "IEEE 1609.2: byte %zu: signed data cut short", AT(c));
    return VXS_E_TRUNCATED;
}

/* ieee_data walks one Ieee1609Dot2Data; depth 0 is the outermost. */
static vxs_status_t ieee_data(ieee_ctx_t *c, vxs_v2x_msg_t *out, const uint8_t **payload,
                              size_t *payload_len, int depth) {
    uint8_t ver, tag;
    size_t n;
    if (depth >= IEEE_MAX_DEPTH) {
        vxsi_fmt(c->err, c->err_len, "IEEE 1609.2: byte %zu: data nested %d deep", AT(c),
                 depth);
        return VXS_E_MALFORMED;
    }
    if (!vxs_rd_u8(&c->r, &ver)) goto cut;
    if (ver != 3) {
        vxsi_fmt(c->err, c->err_len, "IEEE 1609.2: byte %zu: protocolVersion %u (3 expected)",
                 AT(c) - 1, ver);
        return VXS_E_MALFORMED;
    }
    if (!vxs_rd_u8(&c->r, &tag)) goto cut;
    switch (tag) {
    case 0x80: /* unsecuredData: Opaque */
        if (depth == 0) out->ieee_content = 0;
        if (!oer_len(&c->r, &n) || !vxs_rd_ptr(&c->r, payload, n)) goto cut;
        *payload_len = n;
        return VXS_OK;
    case 0x81: return signed_data(c, out, payload, payload_len, depth, depth > 0);
    case 0x82:
        out->ieee_content = 2;
        vxsi_fmt(c->err, c->err_len, "IEEE 1609.2: byte %zu: encrypted data cannot be read",
                 AT(c) - 1);
        return VXS_E_UNSUPPORTED;
    default:
        vxsi_fmt(c->err, c->err_len, "IEEE 1609.2: byte %zu: content tag 0x%02x unknown",
                 AT(c) - 1, tag);
        return VXS_E_MALFORMED;
    }
cut:
    vxsi_fmt(c->err, c->err_len, "IEEE 1609.2: byte %zu: data cut short", AT(c));
    return VXS_E_TRUNCATED;
}

vxs_status_t vxs_v2x_decode_1609dot2(vxs_v2x_msg_t *out, const uint8_t **payload,
                                     size_t *payload_len, const uint8_t *p, size_t len,
                                     char *err, size_t err_len) {
    VXS_RETURN_IF(out == NULL || payload == NULL || payload_len == NULL || (p == NULL && len),
                  VXS_E_ARG);
    *payload = NULL;
    *payload_len = 0;
    ieee_ctx_t c = {vxs_rd_init(p, len), p, err, err_len};
    vxs_status_t st = ieee_data(&c, out, payload, payload_len, 0);
    if (st != VXS_OK) {
        *payload = NULL;
        *payload_len = 0;
    }
    return st;
}
