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

/* vxsi_unavail scales a raw value, or gives NaN for the standard's "unavailable" value. */
static inline double vxsi_unavail(int64_t v, int64_t unavailable, double scale) {
    return v == unavailable ? NAN : (double)v * scale;
}

#endif
