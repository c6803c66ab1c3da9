/*
 * bench_capture.h: shared by the benchmark programs: build a long capture by repeating the
 * records of a real one, so throughput is measured on gigabytes, not on the few hundred
 * kilobytes of a sample.
 */
#ifndef VXS_BENCH_CAPTURE_H
#define VXS_BENCH_CAPTURE_H

#include <pcap/pcap.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* bench_patch_fn may rewrite a record's bytes (a copy) before it is written; `shift_ns` is how
 * far this repetition is moved in time. */
typedef void (*bench_patch_fn)(u_char *data, const struct pcap_pkthdr *h, int64_t shift_ns);

/* bench_build_capture repeats the records of `src` into `dst` (ns pcap) until it holds
 * `target` bytes; each repetition starts 1 ms after the previous one ends. `patch` may be
 * NULL. Returns 0, or -1 after a message on stderr. */
static int bench_build_capture(const char *src, const char *dst, uint64_t target,
                               uint64_t *out_size, bench_patch_fn patch) {
    char eb[PCAP_ERRBUF_SIZE];
    pcap_t *in = pcap_open_offline_with_tstamp_precision(src, PCAP_TSTAMP_PRECISION_NANO, eb);
    struct rec {
        struct pcap_pkthdr h;
        u_char *data;
    } *recs = NULL;
    size_t n = 0, cap = 0;
    struct pcap_pkthdr *h;
    const u_char *d;
    u_char *tmp = NULL;
    if (!in) {
        fprintf(stderr, "bench: %s: %s\n", src, eb);
        return -1;
    }
    while (pcap_next_ex(in, &h, &d) == 1) {
        if (n == cap) {
            cap = cap ? cap * 2 : 1024;
            recs = realloc(recs, cap * sizeof *recs);
            if (!recs) return -1;
        }
        recs[n].h = *h;
        recs[n].data = malloc(h->caplen);
        if (!recs[n].data) return -1;
        memcpy(recs[n].data, d, h->caplen);
        n++;
    }
    pcap_t *dead = pcap_open_dead_with_tstamp_precision(pcap_datalink(in), 262144,
                                                         PCAP_TSTAMP_PRECISION_NANO);
    pcap_dumper_t *out = pcap_dump_open(dead, dst);
    tmp = malloc(262144);
    if (!out || n == 0 || !tmp) {
        fprintf(stderr, "bench: cannot write %s or empty source\n", dst);
        return -1;
    }
    int64_t first = (int64_t)recs[0].h.ts.tv_sec * 1000000000 + recs[0].h.ts.tv_usec;
    int64_t last = (int64_t)recs[n - 1].h.ts.tv_sec * 1000000000 + recs[n - 1].h.ts.tv_usec;
    int64_t period = last - first + 1000000;
    uint64_t written = 24;
    for (int64_t rep = 0; written < target; rep++) {
        for (size_t i = 0; i < n; i++) {
            struct pcap_pkthdr hh = recs[i].h;
            int64_t t = (int64_t)hh.ts.tv_sec * 1000000000 + hh.ts.tv_usec + rep * period;
            hh.ts.tv_sec = (time_t)(t / 1000000000);
            hh.ts.tv_usec = (suseconds_t)(t % 1000000000);
            const u_char *bytes = recs[i].data;
            if (patch && hh.caplen <= 262144) {
                memcpy(tmp, recs[i].data, hh.caplen);
                patch(tmp, &recs[i].h, rep * period);
                bytes = tmp;
            }
            pcap_dump((u_char *)out, &hh, bytes);
            written += 16 + hh.caplen;
        }
    }
    pcap_dump_close(out);
    pcap_close(dead);
    pcap_close(in);
    for (size_t i = 0; i < n; i++) free(recs[i].data);
    free(recs);
    free(tmp);
    *out_size = written;
    return 0;
}

#endif
