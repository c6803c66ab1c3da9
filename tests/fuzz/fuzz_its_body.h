/*
 * fuzz_its_body.h: the body of the per-message ETSI fuzz targets (fuzz_cam.c, fuzz_denm.c,
 * fuzz_cpm.c): the input is an ITS PDU whose messageID byte is forced to the target's message,
 * so every input reaches that message's body rather than stopping at the header. The decoder
 * must return an error or a decode, never read past the input; after an error the message must
 * still be safe to read.
 */
#ifndef VXS_FUZZ_ITS_BODY_H
#define VXS_FUZZ_ITS_BODY_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "vxs_v2x.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static volatile double g_sink;

static int fuzz_its_body(int msg_id, const uint8_t *data, size_t size) {
    static uint8_t buf[4096];
    vxs_v2x_msg_t m;
    vxs_v2x_times_t t;
    char err[256];
    if (size > sizeof buf) size = sizeof buf;
    if (size > 0) memcpy(buf, data, size);
    if (size > 1) buf[1] = (uint8_t)msg_id; /* messageID: the ItsPduHeader's second octet */
    (void)vxs_v2x_decode_its_pdu(&m, buf, size, err, sizeof err);
    vxs_v2x_resolve_times(&t, &m, (vxs_time_t)1700000000000000000LL);
    g_sink = m.lat_deg + m.lon_deg + m.speed_mps + (double)t.gen + (double)m.n_objects;
    for (int i = 0; i < m.n_objects_kept; i++) g_sink += m.objects[i].x_m + m.objects[i].vx_mps;
    return 0;
}

#define VXS_ITS_FUZZ_TARGET(id)                                                                \
    int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {                             \
        return fuzz_its_body((id), data, size);                                                \
    }

#endif
