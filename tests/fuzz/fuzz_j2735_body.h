/*
 * fuzz_j2735_body.h: the body of the per-message J2735 fuzz targets (fuzz_bsm.c, fuzz_psm.c,
 * fuzz_spat.c, fuzz_map.c, fuzz_tim.c). The input is a message's value; the target wraps it in
 * a MessageFrame with its messageId and a correct length, so every input reaches that
 * message's decoder instead of stopping at the frame. The decoder must return an error or a
 * decode, never read past the input; after an error the message must still be safe to read.
 */
#ifndef VXS_FUZZ_J2735_BODY_H
#define VXS_FUZZ_J2735_BODY_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "vxs_v2x.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static volatile double g_sink;

static int fuzz_j2735_body(int msg_id, const uint8_t *data, size_t size) {
    static uint8_t frame[4 + 16383];
    vxs_v2x_msg_t m;
    vxs_v2x_times_t t;
    char err[256];
    size_t hdr;
    if (size > 16383) size = 16383;
    frame[0] = (uint8_t)(msg_id >> 8);
    frame[1] = (uint8_t)msg_id;
    if (size < 128) {
        frame[2] = (uint8_t)size;
        hdr = 3;
    } else {
        frame[2] = (uint8_t)(0x80 | size >> 8);
        frame[3] = (uint8_t)size;
        hdr = 4;
    }
    if (size > 0) memcpy(frame + hdr, data, size);
    (void)vxs_v2x_decode_j2735(&m, frame, hdr + size, err, sizeof err);
    vxs_v2x_resolve_times(&t, &m, (vxs_time_t)1700000000000000000LL);
    g_sink = m.lat_deg + m.lon_deg + m.elev_m + m.speed_mps + m.heading_deg + (double)t.gen +
             (double)m.n_intersections + (double)m.tim_frames;
    for (int i = 0; i < m.n_intersections && i < VXS_V2X_MAX_INTERSECTIONS; i++)
        g_sink += (double)m.intersection_ids[i];
    return 0;
}

#define VXS_J2735_FUZZ_TARGET(id)                                                              \
    int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {                             \
        return fuzz_j2735_body((id), data, size);                                              \
    }

#endif
