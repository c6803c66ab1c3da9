/*
 * fuzz_j2735.c: libFuzzer target for vxs_v2x_decode_j2735: the J2735 MessageFrame and every
 * message decoded behind it; see fuzz_layer_body.h.
 */
#include "fuzz_layer_body.h"

VXS_LAYER_FUZZ_TARGET(vxs_v2x_decode_j2735)
