/*
 * fuzz_v2xlog.c: libFuzzer target for the V2X log parsers (sensors/v2x_reader.c): the input is
 * read as a Wyoming OBU binary log (records walked with vxs_wydot_next, each payload decoded as
 * 1609.2 + MessageFrame) and as a text log (lines through vxs_hexlog_parse_line, each message
 * decoded).
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "vxs_v2x.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void decode(const uint8_t *p, size_t n) {
    vxs_v2x_msg_t m;
    const uint8_t *inner = NULL;
    size_t inner_len = 0;
    char err[256];
    vxs_v2x_msg_init(&m);
    if (vxs_v2x_decode_1609dot2(&m, &inner, &inner_len, p, n, err, sizeof err) == VXS_OK)
        (void)vxs_v2x_decode_j2735(&m, inner, inner_len, err, sizeof err);
    (void)vxs_v2x_decode_j2735(&m, p, n, err, sizeof err);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    size_t pos = 0;
    vxs_wydot_record_t w;
    while (vxs_wydot_next(&w, &pos, data, size) == VXS_OK) decode(w.payload, w.payload_len);
    static uint8_t buf[4096];
    size_t start = 0;
    for (size_t i = 0; i <= size; i++) {
        if (i < size && data[i] != '\n') continue;
        size_t n = 0;
        vxs_time_t t;
        char err[128];
        if (vxs_hexlog_parse_line(buf, &n, &t, (const char *)data + start, i - start, sizeof buf,
                                  err, sizeof err) == VXS_OK)
            decode(buf, n);
        start = i + 1;
    }
    return 0;
}
