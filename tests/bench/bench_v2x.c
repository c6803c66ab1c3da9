/*
 * bench_v2x.c: V2X decoding throughput, side by side in the same run with tshark (a benchmark
 * program, not a test: README "Benchmarks").
 *
 * It builds a capture of at least --size-mb MB in /tmp by repeating the records of a real V2X
 * capture, then, after a warm-up read, times:
 *   1. v2xsync: the V2X reader over the file: every frame through the link layer,
 *      GeoNetworking/BTP or WSMP/1609.2, the message decoded (CAM, CPM, BSM...), its time
 *      fields resolved against the capture time;
 *   2. tshark -T fields extracting the same fields (frame time, station id, generation time,
 *      latitude, longitude, speed, heading) from the same file, to /dev/null.
 * It prints messages/s for both and the ratio, and removes the file.
 *
 * Usage: bench_v2x SOURCE.pcap [--size-mb N] [--no-tshark] [--keep]
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bench_capture.h"
#include "vxs_v2x.h"

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double run_reader(const char *path, uint64_t *msgs, uint64_t *decoded) {
    vxs_v2x_reader_t *r = NULL;
    vxs_v2x_reader_options_t o;
    const vxs_record_t *rec;
    vxs_v2x_counts_t c;
    char err[512];
    double sink = 0;
    memset(&o, 0, sizeof o);
    o.own_station_id = -1;
    double t0 = now_s();
    if (vxs_v2x_reader_open(&r, path, &o, err, sizeof err) != VXS_OK) {
        fprintf(stderr, "bench: %s\n", err);
        exit(2);
    }
    while (vxs_v2x_reader_next(r, &rec) == VXS_OK) sink += (double)rec->device_time;
    double t = now_s() - t0;
    vxs_v2x_reader_counts(r, &c);
    *msgs = c.messages;
    *decoded = c.decoded;
    vxs_v2x_reader_close(r);
    if (sink == 1.0) printf(" ");
    return t;
}

static double run_tshark(const char *path, bool etsi, uint64_t *lines) {
    char cmd[2048];
    const char *fields =
        etsi ? "-e frame.time_epoch -e its.stationID -e cam.generationDeltaTime -e its.latitude "
               "-e its.longitude -e its.speedValue -e its.headingValue -Y its"
             : "-e frame.time_epoch -e wsmp.psid -e wsmp.wsmlength -e ieee1609dot2.protocolVersion "
               "-Y wsmp";
    snprintf(cmd, sizeof cmd, "tshark -n -r '%s' -T fields -E separator=, %s | wc -l", path,
             fields);
    double t0 = now_s();
    FILE *f = popen(cmd, "r");
    if (!f) return -1;
    unsigned long long n = 0;
    if (fscanf(f, "%llu", &n) != 1) n = 0;
    int st = pclose(f);
    *lines = n;
    return st == 0 ? now_s() - t0 : -1;
}

int main(int argc, char **argv) {
    const char *src = NULL;
    double size_mb = 64;
    int keep = 0, tshark = 1;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--size-mb") == 0 && i + 1 < argc) size_mb = strtod(argv[++i], NULL);
        else if (strcmp(argv[i], "--keep") == 0) keep = 1;
        else if (strcmp(argv[i], "--no-tshark") == 0) tshark = 0;
        else src = argv[i];
    }
    if (!src) {
        fprintf(stderr, "usage: bench_v2x SOURCE.pcap [--size-mb N] [--no-tshark] [--keep]\n");
        return 2;
    }
    char path[] = "/tmp/vxs_bench_v2x_XXXXXX";
    int fd = mkstemp(path);
    if (fd < 0) return 2;
    close(fd);
    uint64_t size = 0;
    if (bench_build_capture(src, path, (uint64_t)(size_mb * 1048576.0), &size, NULL) != 0)
        return 2;
    printf("capture: %s repeated to %.1f MB\n", src, (double)size / 1048576.0);
    uint64_t n, dec;
    run_reader(path, &n, &dec); /* warm-up: page cache */
    double best = 1e30;
    for (int i = 0; i < 3; i++) {
        double t = run_reader(path, &n, &dec);
        if (t < best) best = t;
    }
    printf("v2xsync reader: %llu messages (%llu decoded) in %.3f s: %.2f M messages/s\n",
           (unsigned long long)n, (unsigned long long)dec, best, (double)n / best / 1e6);
    if (tshark) {
        uint64_t lines = 0;
        bool etsi = strstr(src, "etsi") != NULL || strstr(src, "cam") != NULL;
        double t = run_tshark(path, etsi, &lines);
        if (t > 0) {
            printf("tshark -T fields: %llu lines in %.3f s: %.3f M messages/s\n",
                   (unsigned long long)lines, t, (double)lines / t / 1e6);
            printf("ratio: %.0fx tshark's messages/s\n", ((double)n / best) / ((double)lines / t));
        } else {
            printf("tshark: could not run\n");
        }
    }
    if (!keep) unlink(path);
    else printf("kept %s\n", path);
    return 0;
}
