/*
 * fuzz_layer_body.h: the body of the per-layer V2X fuzz targets (fuzz_gn.c, fuzz_its_pdu.c,
 * fuzz_wsmp.c, fuzz_j2735.c): the whole input is one message of that layer, given to its
 * decoder. The decoder must return an error or a decode, never read past the input; after an
 * error the message must still be safe to read (the fields decoded so far), times included.
 */
#ifndef VXS_FUZZ_LAYER_BODY_H
#define VXS_FUZZ_LAYER_BODY_H

#include <stddef.h>
#include <stdint.h>

#include "vxs_v2x.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static volatile double g_sink;

typedef vxs_status_t (*layer_decode_fn)(vxs_v2x_msg_t *, const uint8_t *, size_t, char *, size_t);

static int fuzz_layer_body(layer_decode_fn decode, const uint8_t *data, size_t size) {
    vxs_v2x_msg_t m;
    vxs_v2x_times_t t;
    char err[256];
    (void)decode(&m, data, size, err, sizeof err);
    vxs_v2x_resolve_times(&t, &m, (vxs_time_t)1700000000000000000LL);
    g_sink = m.lat_deg + m.lon_deg + m.speed_mps + (double)t.gen + (double)m.n_objects;
    return 0;
}

#define VXS_LAYER_FUZZ_TARGET(fn)                                                              \
    int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {                             \
        return fuzz_layer_body((fn), data, size);                                              \
    }

#endif
