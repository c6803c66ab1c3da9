/*
 * fuzz_cam.c: libFuzzer target for the CAM decoder (sensors/etsi.c): the input is an ITS PDU
 * whose messageID byte is forced to CAM, so every input reaches the CAM body rather than
 * stopping at the header. The decoder must return an error or a decode, never read past the
 * input; after an error the message must still be safe to read.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "vxs_v2x.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static volatile double g_sink;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    uint8_t buf[4096];
    vxs_v2x_msg_t m;
    vxs_v2x_times_t t;
    char err[256];
    if (size > sizeof buf) size = sizeof buf;
    if (size > 0) memcpy(buf, data, size);
    if (size > 1) buf[1] = VXS_ETSI_CAM; /* messageID: the second octet of the ItsPduHeader */
    (void)vxs_v2x_decode_its_pdu(&m, buf, size, err, sizeof err);
    vxs_v2x_resolve_times(&t, &m, (vxs_time_t)1700000000000000000LL);
    g_sink = m.lat_deg + m.lon_deg + m.speed_mps + (double)t.gen + (double)m.n_objects;
    for (int i = 0; i < m.n_objects_kept; i++) g_sink += m.objects[i].x_m + m.objects[i].vx_mps;
    return 0;
}
