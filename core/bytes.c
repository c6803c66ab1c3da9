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

/* peek_bits reads `n` (<= 64) bits at `pos` without bounds checks; callers check first. It takes
 * up to 8 bits per step: the part of the current byte from the bit position on. */
static uint64_t peek_bits(const vxs_br_t *b, size_t pos, unsigned n) {
    uint64_t v = 0;
    while (n > 0) {
        const unsigned avail = 8u - (unsigned)(pos & 7u);
        const unsigned take = n < avail ? n : avail;
        const unsigned byte = b->p[pos >> 3];
        const unsigned chunk = (byte >> (avail - take)) & ((1u << take) - 1u);
        v = (v << take) | chunk;
        pos += take;
        n -= take;
    }
    return v;
}

bool vxs_br_bits(vxs_br_t *b, uint64_t *out, unsigned n) {
    if (n > 64 || vxs_br_left(b) < n) return false;
    *out = peek_bits(b, b->pos, n);
    b->pos += n;
    return true;
}

bool vxs_br_bool(vxs_br_t *b, bool *out) {
    if (vxs_br_left(b) < 1) return false;
    *out = peek_bits(b, b->pos, 1) != 0;
    b->pos += 1;
    return true;
}

bool vxs_br_skip(vxs_br_t *b, size_t n) {
    if (vxs_br_left(b) < n) return false;
    b->pos += n;
    return true;
}

/* bit_length returns the number of bits needed to write v (0 for 0). */
static unsigned bit_length(uint64_t v) {
    unsigned n = 0;
    while (v != 0) {
        n++;
        v >>= 1;
    }
    return n;
}

bool vxs_br_cons(vxs_br_t *b, int64_t *out, int64_t lo, int64_t hi) {
    uint64_t range, v;
    unsigned nbits;
    if (lo > hi) return false;
    /* X.691 §11.5.7.1: "range" is hi - lo + 1 and the offset takes ceil(log2(range)) bits,
     * which is the bit length of hi - lo. Unsigned subtraction is exact because hi >= lo. */
    range = (uint64_t)hi - (uint64_t)lo;
    nbits = bit_length(range);
    if (nbits > 63) return false;
    if (vxs_br_left(b) < nbits) return false;
    v = peek_bits(b, b->pos, nbits);
    /* A range that is not a power of two leaves unused codes above hi: those are malformed. */
    if (v > range) return false;
    b->pos += nbits;
    /* v <= range < 2^63, and lo + v <= hi, so neither the cast nor the sum overflows. */
    *out = lo + (int64_t)v;
    return true;
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
    prefix = peek_bits(b, *pos, 2);
    if ((prefix & 2u) == 0) {
        *out = (size_t)peek_bits(b, *pos + 1, 7);
        *pos += 8;
        return true;
    }
    if (prefix == 3u || left < 16) return false;
    *out = (size_t)peek_bits(b, *pos + 2, 14);
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
    if (peek_bits(b, pos, 1) == 0) {
        /* X.691 §11.6.1: n <= 63 is a 0 bit and n in a 6-bit field. */
        if (vxs_br_left(b) < 7) return false;
        *out = peek_bits(b, pos + 1, 6);
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
    v = peek_bits(b, pos, (unsigned)(n_octets * 8));
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
        for (i = 0; i < n; i++) dst[i] = (uint8_t)peek_bits(b, b->pos + i * 8, 8);
    }
    b->pos += n * 8;
    return true;
}
