/*
 * fuzz_gn.c: libFuzzer target for vxs_v2x_decode_gn: GeoNetworking (basic, secured, common and
 * extended headers, BTP, ITS PDU); see fuzz_layer_body.h.
 */
#include "fuzz_layer_body.h"

VXS_LAYER_FUZZ_TARGET(vxs_v2x_decode_gn)
