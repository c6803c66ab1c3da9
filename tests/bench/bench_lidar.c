/*
 * bench_lidar.c: LiDAR decode throughput, side by side in the same run with the TypeScript
 * decoder @foxglove/velodyne-cloud (a benchmark program, not a test: README "Benchmarks").
 *
 * It builds a capture of at least --size-mb MB in /tmp by repeating the records of a real
 * Velodyne capture (capture times and the packets' µs-past-the-hour shifted so both clocks keep
 * increasing), then, after a warm-up read, times:
 *   1. pipeline: the sweep reader end to end from the file: index pass (sweeps cut, points
 *      counted) + vxs_lidar_fetch_points of every sweep (packets re-read, XYZ computed) —
 *      what `v2xsync dump --points` does minus the printing;
 *   2. decode:   the same packets preloaded in memory, vxs_velo_decode of each into a sweep
 *      buffer reset every sweep — the work the TypeScript decoder does below;
 *   3. reference: `node velodyne_cloud_bench.cjs FILE` (Transformer.unpack into PointClouds of
 *      packetRate/10 packets), when --node-modules names a folder holding the npm package.
 * It prints points/s and packets/s of each, the ratios, and the peak RSS, and removes the file.
 *
 * Usage: bench_lidar SOURCE.pcap [--size-mb N] [--node-modules DIR] [--script PATH] [--keep]
 */
#include <pcap/pcap.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "bench_capture.h"
#include "vxs_lidar.h"
#include "vxs_sensors.h"

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

#define ETH_IP_UDP 42 /* Ethernet + IPv4 without options + UDP: every Velodyne capture here */

static int is_velo_data(const struct pcap_pkthdr *h, const u_char *d) {
    return h->caplen == ETH_IP_UDP + 1206 && d[12] == 0x08 && d[13] == 0x00 && d[14] == 0x45 &&
           d[23] == 17;
}

/* shift_device_clock moves a Velodyne data packet's µs-past-the-hour by the repetition's
 * shift, modulo the hour, so the device clock keeps running like the capture clock. */
static void shift_device_clock(u_char *d, const struct pcap_pkthdr *h, int64_t shift_ns) {
    if (!is_velo_data(h, d)) return;
    u_char *p = d + ETH_IP_UDP + 1200;
    uint32_t us = (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
                  (uint32_t)p[3] << 24;
    uint64_t v = ((uint64_t)us + (uint64_t)(shift_ns / 1000)) % 3600000000u;
    p[0] = (u_char)v;
    p[1] = (u_char)(v >> 8);
    p[2] = (u_char)(v >> 16);
    p[3] = (u_char)(v >> 24);
}

/* pipeline runs the sweep reader over the file; returns seconds. */
static double pipeline(const char *path, uint64_t *pkts, uint64_t *points, uint64_t *sweeps) {
    vxs_lidar_t *l = NULL;
    vxs_points_t pts = {NULL, 0, 0};
    const vxs_record_t *r;
    vxs_lidar_counts_t c;
    char err[512];
    double t0 = now_s();
    *points = 0;
    if (vxs_lidar_open(&l, path, NULL, err, sizeof err) != VXS_OK) {
        fprintf(stderr, "bench: %s\n", err);
        exit(2);
    }
    while (vxs_lidar_next(l, &r) == VXS_OK) {
        if (r->kind != VXS_REC_LIDAR_SWEEP) continue;
        if (vxs_lidar_fetch_points(l, &pts, r) != VXS_OK) {
            fprintf(stderr, "bench: %s\n", vxs_lidar_errmsg(l));
            exit(2);
        }
        *points += pts.len;
    }
    double t = now_s() - t0;
    vxs_lidar_get_counts(l, &c);
    *pkts = c.lidar_packets;
    *sweeps = c.sweeps;
    vxs_lidar_close(l);
    vxs_points_free(&pts);
    return t;
}

/* decode_mem decodes preloaded packets into per-sweep buffers; returns seconds. */
static double decode_mem(const char *path, uint64_t *pkts, uint64_t *points) {
    char eb[PCAP_ERRBUF_SIZE];
    pcap_t *in = pcap_open_offline_with_tstamp_precision(path, PCAP_TSTAMP_PRECISION_NANO, eb);
    struct pcap_pkthdr *h;
    const u_char *d;
    uint8_t *data = NULL;
    size_t n = 0, cap = 0;
    vxs_velo_config_t cfg;
    vxs_velo_t *v = NULL;
    vxs_points_t pts = {NULL, 0, 0};
    if (!in) {
        fprintf(stderr, "bench: %s\n", eb);
        exit(2);
    }
    while (pcap_next_ex(in, &h, &d) == 1) {
        if (!is_velo_data(h, d)) continue;
        if (n == cap) {
            cap = cap ? cap * 2 : 4096;
            data = realloc(data, cap * 1206);
            if (!data) exit(2);
        }
        memcpy(data + n * 1206, d + ETH_IP_UDP, 1206);
        n++;
    }
    pcap_close(in);
    memset(&cfg, 0, sizeof cfg);
    if (vxs_velo_create(&v, &cfg, NULL, 0) != VXS_OK) exit(2);
    /* Sweeps of ~0.1 s worth of packets, as the reference groups them (its packetRate / 10:
     * VLP-16 754/s, HDL-32E 1808/s, VLP-32C 1507/s, VLS-128 6253.9/s). */
    vxs_velo_header_t hd;
    if (n == 0 || vxs_velo_parse_header(&hd, data, 1206) != VXS_OK) exit(2);
    size_t per = hd.product == 0x22 || hd.product == 0x24 ? 75
                 : hd.product == 0x21                     ? 181
                 : hd.product == 0xA1                     ? 625
                                                          : 151;
    vxs_points_reserve(&pts, per * 384);
    double t0 = now_s();
    *points = 0;
    for (size_t i = 0; i < n; i++) {
        if (i % per == 0) {
            *points += pts.len;
            pts.len = 0;
        }
        vxs_velo_decode(v, &pts, data + i * 1206, 1206, (vxs_time_t)i * 1327000, -1);
    }
    *points += pts.len;
    double t = now_s() - t0;
    *pkts = n;
    vxs_velo_destroy(v);
    vxs_points_free(&pts);
    free(data);
    return t;
}

static int reference(const char *script, const char *modules, const char *path,
                     uint64_t *pkts, uint64_t *points, double *secs) {
    char cmd[4096], line[1024];
    FILE *f;
    snprintf(cmd, sizeof cmd, "NODE_PATH='%s' node '%s' '%s'", modules, script, path);
    f = popen(cmd, "r");
    if (!f) return -1;
    if (!fgets(line, sizeof line, f)) {
        pclose(f);
        return -1;
    }
    pclose(f);
    const char *p = strstr(line, "\"packets\":"), *q = strstr(line, "\"points\":"),
               *s = strstr(line, "\"seconds\":");
    if (!p || !q || !s) return -1;
    *pkts = strtoull(p + 10, NULL, 10);
    *points = strtoull(q + 9, NULL, 10);
    *secs = strtod(s + 10, NULL);
    return 0;
}

int main(int argc, char **argv) {
    const char *src = NULL, *modules = NULL, *script = NULL;
    double size_mb = 256;
    int keep = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--size-mb") == 0 && i + 1 < argc) size_mb = strtod(argv[++i], NULL);
        else if (strcmp(argv[i], "--node-modules") == 0 && i + 1 < argc) modules = argv[++i];
        else if (strcmp(argv[i], "--script") == 0 && i + 1 < argc) script = argv[++i];
        else if (strcmp(argv[i], "--keep") == 0) keep = 1;
        else src = argv[i];
    }
    if (!src) {
        fprintf(stderr, "usage: bench_lidar SOURCE.pcap [--size-mb N] [--node-modules DIR] "
                        "[--script velodyne_cloud_bench.cjs] [--keep]\n");
        return 2;
    }
    char path[] = "/tmp/vxs_bench_lidar_XXXXXX";
    int fd = mkstemp(path);
    if (fd < 0) return 2;
    close(fd);
    uint64_t size = 0;
    if (bench_build_capture(src, path, (uint64_t)(size_mb * 1048576.0), &size, shift_device_clock) != 0)
        return 2;
    printf("capture: %s repeated to %.0f MB\n", src, (double)size / 1048576.0);

    uint64_t pk, pt, sw;
    pipeline(path, &pk, &pt, &sw); /* warm-up: page cache */
    double tp = pipeline(path, &pk, &pt, &sw);
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    printf("pipeline (file: index + fetch + XYZ): %llu packets, %llu sweeps, %llu points in "
           "%.3f s: %.1f M points/s, %.0f k packets/s; peak RSS %.1f MB\n",
           (unsigned long long)pk, (unsigned long long)sw, (unsigned long long)pt, tp,
           (double)pt / tp / 1e6, (double)pk / tp / 1e3, (double)ru.ru_maxrss / 1024.0);
    uint64_t dk, dp;
    double td = decode_mem(path, &dk, &dp);
    printf("decode   (memory: packets -> sweep points): %llu packets, %llu points in %.3f s: "
           "%.1f M points/s, %.0f k packets/s\n",
           (unsigned long long)dk, (unsigned long long)dp, td, (double)dp / td / 1e6,
           (double)dk / td / 1e3);
    if (modules && script) {
        uint64_t rk, rp;
        double tr;
        if (reference(script, modules, path, &rk, &rp, &tr) == 0) {
            printf("reference @foxglove/velodyne-cloud (node %s): %llu packets, %llu points in "
                   "%.3f s: %.1f M points/s, %.0f k packets/s\n",
                   "", (unsigned long long)rk, (unsigned long long)rp, tr, (double)rp / tr / 1e6,
                   (double)rk / tr / 1e3);
            printf("ratio: decode %.1fx, pipeline %.1fx the reference's points/s\n",
                   ((double)dp / td) / ((double)rp / tr), ((double)pt / tp) / ((double)rp / tr));
        } else {
            printf("reference: could not run node with %s\n", script);
        }
    }
    if (!keep) unlink(path);
    else printf("kept %s\n", path);
    return 0;
}
