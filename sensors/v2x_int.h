/*
 * v2x_int.h: what the V2X decoders share privately: the UPER field reader with its error
 * message, the "unavailable" value rule, and carrying lower-layer fields over a fresh decode.
 */
#ifndef VXS_V2X_INT_H
#define VXS_V2X_INT_H

#include <math.h>

#include "vxs_core.h"
#include "vxs_core_int.h"
#include "vxs_v2x.h"

/* VXSI_UPER reads a constrained whole number from the bit reader `b` into `var`; when the
 * input ends first it writes "<what>: bit N: <name> cut short" to err and returns
 * VXS_E_TRUNCATED from the enclosing function (which has `b`, `what`, `err`, `err_len`). */
#define VXSI_UPER(var, lo, hi, name)                                                             \
    do {                                                                                         \
        if (!vxs_br_cons(b, &(var), (lo), (hi))) {                                               \
            vxsi_fmt(err, err_len, "%s: bit %zu: %s cut short", what, b->pos, (name));           \
            return VXS_E_TRUNCATED;                                                              \
        }                                                                                        \
    } while (0)

/* VXSI_OUT_OF_RANGE is what vxsi_value reads for a value its constraint does not allow. */
#define VXSI_OUT_OF_RANGE INT64_MIN

/* vxsi_value reads a constrained whole number that is a value of the message (a speed, a
 * position), not its structure: one the bits hold above `hi` is not the end of the message but
 * a field it does not have: *out = VXSI_OUT_OF_RANGE, the message counts it and names the first
 * (m->n_out_of_range, m->out_of_range_field), and reading goes on. false only when the input
 * ends first. */
static inline bool vxsi_value(vxs_br_t *b, int64_t *out, int64_t lo, int64_t hi,
                              vxs_v2x_msg_t *m, const char *name) {
    if (vxs_br_cons(b, out, lo, hi)) return true;
    uint64_t range = (uint64_t)hi - (uint64_t)lo;
    size_t n = 0;
    while (range) n++, range >>= 1;
    if (vxs_br_left(b) < n) return false;
    b->pos += n;
    *out = VXSI_OUT_OF_RANGE;
    if (m->n_out_of_range++ == 0)
        vxsi_fmt(m->out_of_range_field, sizeof m->out_of_range_field, "%s", name);
    return true;
}

/* vxsi_unavail scales a raw value, or gives NaN for the standard's "unavailable" value and for
 * one out of range. */
static inline double vxsi_unavail(int64_t v, int64_t unavailable, double scale) {
    return v == unavailable || v == VXSI_OUT_OF_RANGE ? NAN : (double)v * scale;
}

/* vxsi_v2x_payload_plausible says whether a log's payload starts like 1609.2 data or a J2735
 * MessageFrame with an assigned id, at its start or behind a forwarding header of at most 64
 * bytes (v2x_reader.c; content detection uses it for hex lines and Wyoming records). */
bool vxsi_v2x_payload_plausible(const uint8_t *p, size_t n);

#endif
