/*
 * bench_camera.c: the camera reader side by side with FFmpeg's command-line tools, in the same
 * run (a benchmark program, not a test: README "Benchmarks").
 *
 *   1. Index pass: a long clip (the source repeated with `ffmpeg -stream_loop N -c copy`) read
 *      by vxs_camera_next (packets demuxed, reordered into presentation order, absolute times)
 *      against `ffprobe -show_packets` on the same file. Frames/s for both and the ratio.
 *   2. PNG export of every third frame of the source: v2xsync decodes in the main thread
 *      (vxs_camera_fetch_rgb, frames in increasing order so the decoder never re-seeks) and
 *      encodes PNGs in worker threads (vxs_png_write, the measured default settings); ffmpeg
 *      does `-vf select=not(mod(n\,3)) -pix_fmt rgb24 %06d.png` with its own threads. Seconds
 *      for both, the ratio, and whether the PNGs hold the same pixels (every written frame of
 *      both decoded back with ffmpeg to raw RGB and compared).
 *
 * Usage: bench_camera SOURCE.mp4 [--loops N (index pass, default 300)] [--export-loops N
 *        (PNG export, default 5)] [--threads T (PNG encoders, default 2)]
 */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "vxs_camera.h"
#include "vxs_export.h"

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int run(const char *cmd) {
    int st = system(cmd);
    return st == 0 ? 0 : -1;
}

/* index_pass reads every frame record of `path`; returns the seconds, sets *frames. */
static double index_pass(const char *path, uint64_t *frames) {
    vxs_camera_options_t o;
    vxs_camera_t *c = NULL;
    const vxs_record_t *rec;
    char err[1024];
    double sink = 0;
    vxs_camera_options_init(&o);
    double t0 = now_s();
    if (vxs_camera_open(&c, path, &o, err, sizeof err) != VXS_OK) {
        fprintf(stderr, "bench: %s\n", err);
        exit(2);
    }
    *frames = 0;
    vxs_status_t st;
    while ((st = vxs_camera_next(c, &rec)) != VXS_EOF) {
        if (st != VXS_OK) continue;
        sink += (double)rec->capture_time;
        (*frames)++;
    }
    vxs_camera_close(c);
    if (sink == 1.0) printf(" ");
    return now_s() - t0;
}

/* ---- PNG export: one decoding thread, T encoding threads ----------------------------------- */

#define SLOTS 8

typedef struct {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    vxs_buf_t buf[SLOTS];
    uint32_t w[SLOTS], h[SLOTS];
    uint64_t index[SLOTS];
    int state[SLOTS]; /* 0 free, 1 full (to encode), 2 being encoded */
    int done;
    const char *dir;
    int failed;
} pipe_t;

static void *encoder(void *arg) {
    pipe_t *p = arg;
    char path[4096], err[512];
    for (;;) {
        int s = -1;
        pthread_mutex_lock(&p->mu);
        for (;;) {
            for (int i = 0; i < SLOTS && s < 0; i++)
                if (p->state[i] == 1) s = i;
            if (s >= 0 || p->done) break;
            pthread_cond_wait(&p->cv, &p->mu);
        }
        if (s < 0) {
            pthread_mutex_unlock(&p->mu);
            return NULL;
        }
        p->state[s] = 2;
        pthread_mutex_unlock(&p->mu);
        snprintf(path, sizeof path, "%s/%06llu.png", p->dir, (unsigned long long)p->index[s]);
        if (vxs_png_write(path, p->buf[s].data, p->w[s], p->h[s], (size_t)p->w[s] * 3, NULL, err,
                          sizeof err) != VXS_OK) {
            fprintf(stderr, "bench: %s\n", err);
            p->failed = 1;
        }
        pthread_mutex_lock(&p->mu);
        p->state[s] = 0;
        pthread_cond_broadcast(&p->cv);
        pthread_mutex_unlock(&p->mu);
    }
}

static double export_pngs(const char *src, const char *dir, int threads, uint64_t *written) {
    vxs_camera_options_t o;
    vxs_camera_t *c = NULL;
    const vxs_record_t *rec;
    char err[1024];
    pipe_t p;
    pthread_t th[16];
    memset(&p, 0, sizeof p);
    pthread_mutex_init(&p.mu, NULL);
    pthread_cond_init(&p.cv, NULL);
    p.dir = dir;
    vxs_camera_options_init(&o);
    double t0 = now_s();
    if (vxs_camera_open(&c, src, &o, err, sizeof err) != VXS_OK) {
        fprintf(stderr, "bench: %s\n", err);
        exit(2);
    }
    for (int i = 0; i < threads; i++) pthread_create(&th[i], NULL, encoder, &p);
    *written = 0;
    vxs_status_t st;
    while ((st = vxs_camera_next(c, &rec)) != VXS_EOF) {
        if (st != VXS_OK || rec->loc.index % 3 != 0) continue;
        int s = -1;
        pthread_mutex_lock(&p.mu);
        for (;;) {
            for (int i = 0; i < SLOTS && s < 0; i++)
                if (p.state[i] == 0) s = i;
            if (s >= 0) break;
            pthread_cond_wait(&p.cv, &p.mu);
        }
        pthread_mutex_unlock(&p.mu);
        if (vxs_camera_fetch_rgb(c, &p.buf[s], &p.w[s], &p.h[s], rec) != VXS_OK) {
            fprintf(stderr, "bench: %s\n", vxs_camera_errmsg(c));
            exit(2);
        }
        pthread_mutex_lock(&p.mu);
        p.index[s] = rec->loc.index;
        p.state[s] = 1;
        pthread_cond_broadcast(&p.cv);
        pthread_mutex_unlock(&p.mu);
        (*written)++;
    }
    pthread_mutex_lock(&p.mu);
    p.done = 1;
    pthread_cond_broadcast(&p.cv);
    pthread_mutex_unlock(&p.mu);
    for (int i = 0; i < threads; i++) pthread_join(th[i], NULL);
    double t = now_s() - t0;
    vxs_camera_close(c);
    for (int i = 0; i < SLOTS; i++) vxs_buf_free(&p.buf[i]);
    if (p.failed) exit(2);
    return t;
}

int main(int argc, char **argv) {
    const char *src = NULL;
    int loops = 300, export_loops = 5, threads = 2;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--loops") == 0 && i + 1 < argc) loops = atoi(argv[++i]);
        else if (strcmp(argv[i], "--threads") == 0 && i + 1 < argc) threads = atoi(argv[++i]);
        else if (strcmp(argv[i], "--export-loops") == 0 && i + 1 < argc)
            export_loops = atoi(argv[++i]);
        else src = argv[i];
    }
    if (!src || loops < 1 || export_loops < 1 || threads < 1 || threads > 16) {
        fprintf(stderr, "usage: bench_camera SOURCE.mp4 [--loops N] [--export-loops N] "
                        "[--threads T (1..16)]\n");
        return 2;
    }
    char dir[] = "/tmp/vxs_bench_cam_XXXXXX";
    if (!mkdtemp(dir)) return 2;
    char cmd[8192], longclip[4200], clip[4200], ours[4200], theirs[4200];
    snprintf(longclip, sizeof longclip, "%s/long.mp4", dir);
    snprintf(clip, sizeof clip, "%s/clip.mp4", dir);
    snprintf(ours, sizeof ours, "%s/ours", dir);
    snprintf(theirs, sizeof theirs, "%s/ffmpeg", dir);

    /* 1. index pass: without the container's metadata (no creation_time: one pass over the
     * packets), then with it (a phone clip's creation_time marks the end: open pre-scans) */
    for (int meta = 0; meta < 2; meta++) {
        snprintf(cmd, sizeof cmd,
                 "ffmpeg -nostdin -v error -y -stream_loop %d -i '%s' -map 0:v %s -c copy '%s'",
                 loops - 1, src, meta ? "-map_metadata 0" : "-map_metadata -1", longclip);
        if (run(cmd) != 0) {
            fprintf(stderr, "bench: ffmpeg could not build the long clip\n");
            return 2;
        }
        uint64_t frames = 0;
        index_pass(longclip, &frames); /* warm-up: page cache */
        double best = 1e30;
        for (int i = 0; i < 3; i++) {
            double t = index_pass(longclip, &frames);
            if (t < best) best = t;
        }
        snprintf(cmd, sizeof cmd,
                 "ffprobe -v error -select_streams v:0 -show_packets -of csv '%s' > /dev/null",
                 longclip);
        double tp = 1e30;
        for (int i = 0; i < 3; i++) {
            double t0 = now_s();
            if (run(cmd) != 0) {
                fprintf(stderr, "bench: ffprobe failed\n");
                return 2;
            }
            double t = now_s() - t0;
            if (t < tp) tp = t;
        }
        printf("index pass: %s repeated %d times, %s, %llu frames\n", src, loops,
               meta ? "creation_time kept (end anchor: open pre-scans the packets)"
                    : "no creation_time (one pass)",
               (unsigned long long)frames);
        printf("  v2xsync camera reader: %.4f s, %.0f frames/s\n", best, (double)frames / best);
        printf("  ffprobe -show_packets: %.4f s, %.0f frames/s\n", tp, (double)frames / tp);
        printf("  ratio: %.1fx ffprobe\n", tp / best);
    }

    /* 2. PNG export of every third frame */
    snprintf(cmd, sizeof cmd,
             "ffmpeg -nostdin -v error -y -stream_loop %d -i '%s' -map 0:v -c copy '%s' && "
             "mkdir -p '%s' '%s'",
             export_loops - 1, src, clip, ours, theirs);
    if (run(cmd) != 0) return 2;
    uint64_t written = 0;
    double te = export_pngs(clip, ours, threads, &written);
    snprintf(cmd, sizeof cmd,
             "ffmpeg -nostdin -v error -y -i '%s' -vf 'select=not(mod(n\\,3))' -vsync 0 -pix_fmt rgb24 "
             "-start_number 0 '%s/%%06d.png'",
             clip, theirs);
    double t0 = now_s();
    if (run(cmd) != 0) {
        fprintf(stderr, "bench: ffmpeg PNG export failed\n");
        return 2;
    }
    double tf = now_s() - t0;
    printf("PNG export of every third frame of %s repeated %d times: %llu frames\n", src,
           export_loops,
           (unsigned long long)written);
    printf("  v2xsync (decode + %d PNG threads): %.3f s, %.1f frames/s\n", threads, te,
           (double)written / te);
    printf("  ffmpeg -vf select ... %%06d.png:  %.3f s, %.1f frames/s\n", tf,
           (double)written / tf);
    printf("  ratio: %.2fx ffmpeg\n", tf / te);
    /* same pixels: ffmpeg numbers its outputs 0, 1, 2...; ours are named by frame index */
    int same = 1;
    for (uint64_t k = 0; k < written; k++) {
        snprintf(cmd, sizeof cmd,
                 "ffmpeg -nostdin -v error -i '%s/%06llu.png' -f rawvideo -pix_fmt rgb24 - | cmp -s - "
                 "<(ffmpeg -nostdin -v error -i '%s/%06llu.png' -f rawvideo -pix_fmt rgb24 -)",
                 ours, (unsigned long long)(k * 3), theirs, (unsigned long long)k);
        char bash[8400];
        snprintf(bash, sizeof bash, "bash -c \"%s\"", cmd);
        if (run(bash) != 0) {
            printf("  frame %llu: pixels differ\n", (unsigned long long)(k * 3));
            same = 0;
        }
    }
    printf("  pixels: %s\n", same ? "identical in every exported frame" : "DIFFER (see above)");
    if (same) {
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
        run(cmd);
    } else {
        printf("  kept %s for a look\n", dir);
    }
    return same ? 0 : 1;
}
