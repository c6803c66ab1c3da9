/*
 * bench_index.c: throughput of the capture index pass, side by side with a bare libpcap loop in
 * the same run (a benchmark program, not a test: README "Benchmarks").
 *
 * It builds a capture of at least --size-mb MB in /tmp by repeating the records of a real
 * capture (timestamps shifted so time keeps increasing), then times, each after one warm-up
 * read so all runs read from the page cache:
 *   1. bare:    pcap_next_ex over every record, touching nothing (the ceiling);
 *   2. index:   vxs_pcap_next (link/IP/UDP decode, fragment reassembly) + vxs_classify + the
 *               per-stream timing statistics, i.e. the work `inspect` does per packet;
 *   3. inspect: the whole `v2xsync inspect --json -q` command, if --cli is given.
 * It prints MB/s and packets/s for each and the ratios to the bare loop, and removes the file.
 *
 * Usage: bench_index SOURCE.pcap [--size-mb N] [--cli PATH/v2xsync] [--keep]
 */
#include <pcap/pcap.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bench_capture.h"
#include "vxs_sensors.h"
#include "vxs_sync.h"

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int bare_loop(const char *path, uint64_t *pkts, uint64_t *bytes) {
    char eb[PCAP_ERRBUF_SIZE];
    pcap_t *p = pcap_open_offline_with_tstamp_precision(path, PCAP_TSTAMP_PRECISION_NANO, eb);
    if (!p) return -1;
    struct pcap_pkthdr *h;
    const u_char *d;
    uint64_t np = 0, nb = 0;
    while (pcap_next_ex(p, &h, &d) == 1) {
        np++;
        nb += h->caplen;
    }
    pcap_close(p);
    *pkts = np;
    *bytes = nb;
    return 0;
}

/* index_pass: the per-packet work of `inspect`, with one stats accumulator per class (the
 * flow table lookup in the CLI is a hash probe on top of this). */
static int index_pass(const char *path, uint64_t *pkts, uint64_t *bytes) {
    vxs_pcap_t *p = NULL;
    char err[256];
    vxs_stream_stats_t *stats[VXS_CLS_COUNT_] = {0};
    if (vxs_pcap_open_file(&p, path, NULL, NULL, err, sizeof err) != VXS_OK) {
        fprintf(stderr, "bench: %s\n", err);
        return -1;
    }
    for (int i = 0; i < VXS_CLS_COUNT_; i++) vxs_stream_stats_create(&stats[i]);
    const vxs_packet_t *pkt;
    uint64_t np = 0, nb = 0;
    while (vxs_pcap_next(p, &pkt) == VXS_OK) {
        vxs_pkt_class_info_t ci;
        vxs_classify(&ci, pkt);
        vxs_stream_stats_add(stats[ci.cls], pkt->ts, pkt->index + 1);
        np++;
        nb += pkt->caplen;
    }
    for (int i = 0; i < VXS_CLS_COUNT_; i++) vxs_stream_stats_destroy(stats[i]);
    vxs_pcap_close(p);
    *pkts = np;
    *bytes = nb;
    return 0;
}

static long child_maxrss_kb(void) {
    struct rusage ru;
    getrusage(RUSAGE_CHILDREN, &ru);
    return ru.ru_maxrss;
}

int main(int argc, char **argv) {
    const char *src = NULL, *cli = NULL;
    long size_mb = 1024;
    int keep = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--size-mb") == 0 && i + 1 < argc)
            size_mb = strtol(argv[++i], NULL, 10);
        else if (strcmp(argv[i], "--cli") == 0 && i + 1 < argc)
            cli = argv[++i];
        else if (strcmp(argv[i], "--keep") == 0)
            keep = 1;
        else
            src = argv[i];
    }
    if (!src || size_mb <= 0) {
        fprintf(stderr, "usage: bench_index SOURCE.pcap [--size-mb N] [--cli v2xsync] [--keep]\n");
        return 2;
    }
    char path[256];
    snprintf(path, sizeof path, "/tmp/vxs_bench_%ld.pcap", (long)getpid());
    uint64_t size = 0;
    double t = now_s();
    if (bench_build_capture(src, path, (uint64_t)size_mb * 1000000, &size, NULL) != 0) return 1;
    printf("capture: %s, %.1f MB built from %s in %.1f s\n", path, (double)size / 1e6, src,
           now_s() - t);

    uint64_t pk = 0, by = 0, pk2 = 0, by2 = 0;
    bare_loop(path, &pk, &by); /* warm the page cache */
    double best_bare = 1e30, best_idx = 1e30;
    for (int rep = 0; rep < 3; rep++) {
        t = now_s();
        bare_loop(path, &pk, &by);
        double d = now_s() - t;
        if (d < best_bare) best_bare = d;
        t = now_s();
        if (index_pass(path, &pk2, &by2) != 0) return 1;
        d = now_s() - t;
        if (d < best_idx) best_idx = d;
    }
    if (pk != pk2) {
        fprintf(stderr, "bench: packet counts differ: bare %llu, index %llu\n",
                (unsigned long long)pk, (unsigned long long)pk2);
        return 1;
    }
    double fsz = (double)size / 1e6;
    printf("%-28s %10s %12s %8s\n", "run (best of 3)", "MB/s", "packets/s", "ratio");
    printf("%-28s %10.0f %12.0f %7.0f%%\n", "bare pcap_next_ex loop", fsz / best_bare,
           (double)pk / best_bare, 100.0);
    printf("%-28s %10.0f %12.0f %7.0f%%\n", "v2xsync index pass", fsz / best_idx,
           (double)pk / best_idx, 100.0 * best_bare / best_idx);
    if (cli) {
        char cmd[1024];
        snprintf(cmd, sizeof cmd, "'%s' inspect --json -q '%s' > /dev/null", cli, path);
        t = now_s();
        int rc = system(cmd);
        double d = now_s() - t;
        printf("%-28s %10.0f %12.0f %7.0f%%   (exit %d, peak RSS %.1f MB)\n",
               "v2xsync inspect (process)", fsz / d, (double)pk / d, 100.0 * best_bare / d,
               WIFEXITED(rc) ? WEXITSTATUS(rc) : -1, (double)child_maxrss_kb() / 1024.0);
    }
    printf("packets: %llu, captured bytes: %llu\n", (unsigned long long)pk,
           (unsigned long long)by);
    if (!keep) unlink(path);
    return 0;
}
