/*
 * fuzz_its_pdu.c: libFuzzer target for vxs_v2x_decode_its_pdu: the ITS PDU header and every ETSI
 * message body; see fuzz_layer_body.h.
 */
#include "fuzz_layer_body.h"

VXS_LAYER_FUZZ_TARGET(vxs_v2x_decode_its_pdu)
