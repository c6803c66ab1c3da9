/*
 * fuzz_link.c: libFuzzer target for the link/network/transport decoder and the IPv4
 * reassembler (sensors/pkt_decode.c, sensors/reasm.c).
 *
 * Input: [0:2) big-endian link-type selector, then the frame. The whole frame is decoded with
 * a few caplen/wirelen combinations; then the frame is read again as a sequence of records
 * [u16 BE length][bytes], each decoded and, when it is an IPv4 fragment, fed to one
 * reassembler with small limits, with capture times stepping so expiry runs too.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "vxs_sensors.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const uint32_t k_linktypes[] = {
    VXS_LINKTYPE_NULL,       VXS_LINKTYPE_ETHERNET,   VXS_LINKTYPE_RAW,
    VXS_LINKTYPE_IEEE802_11, VXS_LINKTYPE_LOOP,       VXS_LINKTYPE_LINUX_SLL,
    VXS_LINKTYPE_IEEE802_11_RADIOTAP, VXS_LINKTYPE_IPV4, VXS_LINKTYPE_IPV6,
    VXS_LINKTYPE_LINUX_SLL2,
};
#define N_LT (sizeof k_linktypes / sizeof k_linktypes[0])

static volatile uint8_t g_sink;

/* touch reads every payload byte so ASan checks the range the decoder returned. */
static void touch(const vxs_pkt_info_t *info) {
    uint8_t acc = 0;
    if (info->payload)
        for (size_t i = 0; i < info->payload_len; i++) acc ^= info->payload[i];
    g_sink = acc;
}

static void decode(uint32_t lt, const uint8_t *f, size_t caplen, size_t wirelen,
                   vxs_pkt_info_t *info) {
    char err[128];
    vxs_status_t st = vxs_pkt_decode(info, lt, f, caplen, wirelen, err, sizeof err);
    if (st != VXS_OK && strstr(err, "offset") == NULL && st != VXS_E_UNSUPPORTED)
        __builtin_trap(); /* every error names its offset */
    if (st != VXS_OK && (info->kind != VXS_PL_NONE || info->payload != NULL)) __builtin_trap();
    if (info->payload && info->payload_offset + info->payload_len > caplen) __builtin_trap();
    touch(info);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    vxs_pkt_info_t info;
    if (size < 2 || size > 65535 + 2) return 0;
    uint32_t sel = (uint32_t)data[0] << 8 | data[1];
    uint32_t lt = k_linktypes[sel % N_LT];
    for (size_t i = 0; i < N_LT; i++)
        if (k_linktypes[i] == sel) lt = sel; /* the seeds use real LINKTYPE_ numbers */
    const uint8_t *f = data + 2;
    size_t n = size - 2;

    decode(lt, f, n, n, &info);
    decode(lt, f, n, n + 1500, &info);
    decode(lt, f, n / 2, n, &info);

    vxs_limits_t lim;
    vxs_limits_default(&lim);
    lim.reasm_max_bytes = 4096;
    lim.reasm_max_pending = 4;
    lim.reasm_timeout_ns = 1000;
    vxs_reasm_t *r = NULL;
    if (vxs_reasm_create(&r, &lim) != VXS_OK) return 0;
    vxs_time_t ts = 1000000;
    uint64_t index = 0;
    size_t pos = 0;
    while (n - pos >= 2) {
        size_t len = (size_t)f[pos] << 8 | f[pos + 1];
        pos += 2;
        if (len > n - pos) len = n - pos;
        const uint8_t *rec = f + pos;
        pos += len;
        vxs_pkt_decode(&info, lt, rec, len, len, NULL, 0);
        if (info.kind == VXS_PL_FRAGMENT) {
            vxs_pkt_info_t out;
            bool done = false;
            uint64_t fi = 0, fo = 0;
            char err[256];
            vxs_status_t st = vxs_reasm_add(r, &out, &done, &fi, &fo, ts, index, pos, &info, err,
                                            sizeof err);
            if (st == VXS_OK && done) {
                if (fi > index) __builtin_trap();
                touch(&out);
            }
        }
        vxs_reasm_lost_t lost;
        ts += 300;
        index++;
        if (index % 4 == 0)
            while (vxs_reasm_pop_expired(r, &lost, ts)) g_sink = (uint8_t)lost.fragments;
    }
    vxs_reasm_stats_t st;
    vxs_reasm_get_stats(r, &st);
    vxs_reasm_lost_t lost;
    while (vxs_reasm_pop_expired(r, &lost, VXS_TIME_NONE)) g_sink = (uint8_t)lost.bytes;
    vxs_reasm_get_stats(r, &st);
    if (st.pending != 0 || st.pending_bytes != 0) __builtin_trap();
    vxs_reasm_destroy(r);
    return 0;
}
