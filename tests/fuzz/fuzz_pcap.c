/* fuzz_pcap.c: the capture reader on arbitrary bytes (libpcap's testprogs/fuzz/fuzz_pcap.c does
 * the same with a temp file; we have a memory entry point). Opens the input with
 * vxs_pcap_open_mem under small limits, reads every record, classifies each, fetches a few by
 * locator (first, middle, last and a bogus offset), reads on, then closes. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "vxs_core.h"
#include "vxs_sensors.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_MAX_INPUT (1u << 20)
#define FUZZ_MAX_RECORDS 4096

static void ignore_diag(void *user, const vxs_diag_t *d) {
    size_t *n = user;
    /* Touch the message: a dangling or unterminated string shows up under ASan. */
    *n += strlen(d->msg) + (d->file ? strlen(d->file) : 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    vxs_limits_t lim;
    vxs_diag_sink_t sink;
    vxs_pcap_t *p = NULL;
    vxs_buf_t buf;
    char err[256];
    size_t diag_bytes = 0, n = 0;
    uint64_t first_off = 0, mid_off = 0, mid_idx = 0, last_off = 0;
    const vxs_packet_t *k;

    if (size > FUZZ_MAX_INPUT) return 0;
    memset(&buf, 0, sizeof buf);
    vxs_limits_default(&lim);
    lim.max_record = 16384;
    lim.reasm_max_bytes = 8192;
    lim.reasm_max_pending = 4;
    sink.fn = ignore_diag;
    sink.user = &diag_bytes;
    if (vxs_pcap_open_mem(&p, data, size, "fuzz", &lim, &sink, err, sizeof err) != VXS_OK)
        return 0;
    while (n < FUZZ_MAX_RECORDS && vxs_pcap_next(p, &k) == VXS_OK) {
        vxs_pkt_class_info_t c;
        const vxs_pkt_info_t *pl = vxs_packet_payload(k);
        vxs_classify(&c, k);
        /* Every byte the decode points at must be readable. */
        if (pl && pl->payload_len > 0) diag_bytes += pl->payload[pl->payload_len - 1];
        if (k->caplen > 0) diag_bytes += k->data[k->caplen - 1];
        if (n == 0) first_off = k->offset;
        if (n % 2 == 0) {
            mid_off = k->offset;
            mid_idx = k->index;
        }
        last_off = k->offset;
        n++;
        if (n == 3) {
            /* Fetch mid-stream, then keep reading sequentially. */
            (void)vxs_pcap_fetch(p, &buf, NULL, 0, first_off);
        }
    }
    if (n > 0) {
        vxs_time_t ts;
        (void)vxs_pcap_fetch(p, &buf, &ts, 0, first_off);
        (void)vxs_pcap_fetch(p, &buf, &ts, mid_idx, mid_off);
        (void)vxs_pcap_fetch(p, &buf, &ts, n - 1, last_off);
        (void)vxs_pcap_fetch(p, &buf, &ts, n, last_off + 1);
    }
    (void)vxs_pcap_next(p, &k);
    vxs_buf_free(&buf);
    vxs_pcap_close(p);
    return diag_bytes == SIZE_MAX; /* keep diag_bytes observable; always 0 */
}
