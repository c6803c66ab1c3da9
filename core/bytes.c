/*
 * bytes.c: the out-of-line part of the bounded byte reader and the unaligned-PER bit reader.
 *
 * specification: ITU-T X.691 (02/2021), the "unaligned" variant (UPER) used by SAE J2735 and
 * ETSI ITS. Everything is MSB-first, with no padding to octet boundaries:
 *
 *   byte:   p[0]                    p[1]
 *   bit:    7 6 5 4 3 2 1 0         7 6 5 4 3 2 1 0
 *   pos:    0 1 2 3 4 5 6 7         8 9 ...
 *
 * Every function checks the remaining length before touching the bytes and commits the new
 * position only on success, so a failed read leaves the reader exactly as it was (tcpdump's
 * rule that checked reads cover all packet data).
 */
#include <string.h>

#include "vxs_core.h"

vxs_br_t vxs_br_init(const void *p, size_t len) {
    vxs_br_t b;
    b.p = (const uint8_t *)p;
    /* Cap so nbits cannot wrap; nobody decodes a 2^61-byte message. */
    if (p == NULL) len = 0;
    if (len > SIZE_MAX / 8) len = SIZE_MAX / 8;
    b.nbits = len * 8;
    b.pos = 0;
    return b;
}

/* read_length decodes an X.691 §11.9.3.6-8 unconstrained length determinant starting at *pos
 * (unaligned: no octet alignment before it) and advances *pos; false if truncated or
 * fragmented.
 *   0xxxxxxx                    0..127
 *   10xxxxxx xxxxxxxx           0..16383
 *   11xxxxxx                    fragment of 16K * xxxxxx items: rejected (header comment) */
static bool read_length(const vxs_br_t *b, size_t *pos, size_t *out) {
    const size_t left = b->nbits - *pos;
    uint64_t prefix;
    if (left < 8) return false;
    prefix = vxs_br_peek_(b, *pos, 2);
    if ((prefix & 2u) == 0) {
        *out = (size_t)vxs_br_peek_(b, *pos + 1, 7);
        *pos += 8;
        return true;
    }
    if (prefix == 3u || left < 16) return false;
    *out = (size_t)vxs_br_peek_(b, *pos + 2, 14);
    *pos += 16;
    return true;
}

bool vxs_br_length(vxs_br_t *b, size_t *out) {
    size_t pos = b->pos, n;
    if (!read_length(b, &pos, &n)) return false;
    b->pos = pos;
    *out = n;
    return true;
}

bool vxs_br_nsnn(vxs_br_t *b, uint64_t *out) {
    size_t pos = b->pos, n_octets;
    uint64_t v;
    if (vxs_br_left(b) < 1) return false;
    if (vxs_br_peek_(b, pos, 1) == 0) {
        /* X.691 §11.6.1: n <= 63 is a 0 bit and n in a 6-bit field. */
        if (vxs_br_left(b) < 7) return false;
        *out = vxs_br_peek_(b, pos + 1, 6);
        b->pos = pos + 7;
        return true;
    }
    /* §11.6.2: a 1 bit, then n as a semi-constrained whole number with lb 0 (§11.7): a length
     * determinant counting octets, then the value in that many octets. Zero octets is not a
     * number, and more than 8 do not fit the output: both are rejected. Non-minimal encodings
     * (a long form for n <= 63, leading zero octets) are accepted, as decoders do. */
    pos += 1;
    if (!read_length(b, &pos, &n_octets)) return false;
    if (n_octets == 0 || n_octets > 8) return false;
    if (b->nbits - pos < n_octets * 8) return false;
    v = vxs_br_peek_(b, pos, (unsigned)(n_octets * 8));
    b->pos = pos + n_octets * 8;
    *out = v;
    return true;
}

bool vxs_br_octets(vxs_br_t *b, void *out, size_t n) {
    uint8_t *dst = out;
    size_t i;
    if (vxs_br_left(b) / 8 < n) return false;
    if (n == 0) return true;
    if ((b->pos & 7u) == 0) {
        memcpy(dst, b->p + (b->pos >> 3), n); /* aligned: the common case for open types */
    } else {
        for (i = 0; i < n; i++) dst[i] = (uint8_t)vxs_br_peek_(b, b->pos + i * 8, 8);
    }
    b->pos += n * 8;
    return true;
}
