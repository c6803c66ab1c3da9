/*
 * j2735_int.h: the J2735 decoders other sensor files share: the MessageFrame decoder without
 * its message init (the WSMP decoder and the V2X reader have already initialised the message
 * and filled the lower-layer fields), and the SPAT and MapData walks (ETSI SPATEM / MAPEM).
 */
#ifndef VXS_J2735_INT_H
#define VXS_J2735_INT_H

#include <stddef.h>
#include <stdint.h>

#include "vxs_core.h"
#include "vxs_v2x.h"

/* vxsi_j2735_frame decodes a MessageFrame into `m`, which must hold absent values in every
 * message field (vxs_v2x_msg_init); lower-layer fields are left as they are. Same results as
 * vxs_v2x_decode_j2735. */
vxs_status_t vxsi_j2735_frame(vxs_v2x_msg_t *m, const uint8_t *p, size_t len, char *err,
                              size_t err_len);

/* vxsi_j2735_spat and vxsi_j2735_map decode a SPAT / MapData value from `b` (J2735's, which
 * ETSI's SPATEM and MAPEM carry too: ISO TS 19091 uses the same modules), to the end of the
 * value, which must follow within the padding octet. Errors read "<what>: bit N: ...", N
 * counted from the start of `b`. */
vxs_status_t vxsi_j2735_spat(vxs_v2x_msg_t *m, vxs_br_t *b, const char *what, char *err,
                             size_t err_len);
vxs_status_t vxsi_j2735_map(vxs_v2x_msg_t *m, vxs_br_t *b, const char *what, char *err,
                            size_t err_len);

#endif
