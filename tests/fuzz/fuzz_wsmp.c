/*
 * fuzz_wsmp.c: libFuzzer target for vxs_v2x_decode_wsmp: WSMP, IEEE 1609.2 and the J2735
 * MessageFrame behind them; see fuzz_layer_body.h.
 */
#include "fuzz_layer_body.h"

VXS_LAYER_FUZZ_TARGET(vxs_v2x_decode_wsmp)
