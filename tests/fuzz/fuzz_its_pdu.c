/*
 * fuzz_its_pdu.c: libFuzzer target for vxs_v2x_decode_its_pdu (sensors/): the whole input is one message of that
 * layer. The decoder must return an error or a decode, never read past the input; after an
 * error the message must still be safe to read (the fields decoded so far).
 */
#include <math.h>
#include <stddef.h>
#include <stdint.h>

#include "vxs_v2x.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static volatile double g_sink;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    vxs_v2x_msg_t m;
    vxs_v2x_times_t t;
    char err[256];
    (void)vxs_v2x_decode_its_pdu(&m, data, size, err, sizeof err);
    vxs_v2x_resolve_times(&t, &m, (vxs_time_t)1700000000000000000LL);
    g_sink = m.lat_deg + m.lon_deg + m.speed_mps + (double)t.gen + (double)m.n_objects;
    return 0;
}
