/*
 * bench_png.c: PNG write speed and size for each zlib level, row filter and deflate strategy, on
 * real camera frames (a benchmark program, not a test: README "Benchmarks").
 *
 * It decodes --frames frames spread over the clip (every 5th) to RGB24 with the ffmpeg CLI into a
 * temporary raw file, loads them, then:
 *   1. table: for every level (1,2,3,6) x filter (none,sub,up,avg,paeth,adaptive) x strategy
 *      (default,rle,filtered), encodes every frame to memory with vxs_png_encode_mem and prints
 *      ms/frame (best of --reps passes of the mean over the frames) and MB/frame;
 *   2. files: the default options through vxs_png_write (temporary file, fsync, rename) to show
 *      what the atomic file adds;
 *   3. threads: N = 1, 2 threads writing different frames concurrently (files, then memory),
 *      frames/s, each PNG checked to be non-empty.
 *
 * Usage: bench_png [VIDEO] [--frames N] [--reps R] [--no-table] [--per-thread K]
 */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "vxs_export.h"

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

typedef struct {
    uint8_t *rgb;
    uint32_t w, h;
    size_t frame_len;
    int n;
} frames_t;

static const uint8_t *frame(const frames_t *f, int i) {
    return f->rgb + (size_t)(i % f->n) * f->frame_len;
}

static int load_frames(frames_t *f, const char *video, int want, const char *tmpdir) {
    char cmd[4096], raw[1024];
    FILE *p;
    unsigned w = 0, h = 0;
    snprintf(
        cmd, sizeof cmd,
        "ffprobe -v error -select_streams v:0 -show_entries stream=width,height -of csv=p=0 '%s'",
        video);
    if (!(p = popen(cmd, "r")) || fscanf(p, "%u,%u", &w, &h) != 2) {
        fprintf(stderr, "bench_png: ffprobe cannot read %s\n", video);
        if (p) pclose(p);
        return -1;
    }
    pclose(p);
    snprintf(raw, sizeof raw, "%s/frames.rgb", tmpdir);
    snprintf(cmd, sizeof cmd,
             "ffmpeg -v error -y -i '%s' -vf 'select=not(mod(n\\,5))' -fps_mode passthrough "
             "-frames:v %d -f rawvideo -pix_fmt rgb24 '%s'",
             video, want, raw);
    if (system(cmd) != 0) {
        fprintf(stderr, "bench_png: ffmpeg failed: %s\n", cmd);
        return -1;
    }
    struct stat st;
    if (stat(raw, &st) != 0 || st.st_size == 0) return -1;
    f->w = w;
    f->h = h;
    f->frame_len = (size_t)w * h * 3;
    if ((size_t)st.st_size % f->frame_len != 0) {
        /* autorotated by ffmpeg (display matrix): the frame is h x w */
        fprintf(stderr, "bench_png: raw size %lld is not a multiple of %ux%u frames\n",
                (long long)st.st_size, w, h);
        return -1;
    }
    f->n = (int)((size_t)st.st_size / f->frame_len);
    f->rgb = malloc((size_t)st.st_size);
    FILE *in = fopen(raw, "rb");
    if (!f->rgb || !in || fread(f->rgb, 1, (size_t)st.st_size, in) != (size_t)st.st_size) {
        fprintf(stderr, "bench_png: cannot load %s\n", raw);
        if (in) fclose(in);
        return -1;
    }
    fclose(in);
    unlink(raw);
    return 0;
}

static const char *const kFilterName[] = {"default", "none",  "sub",     "up",
                                          "avg",     "paeth", "adaptive"};
static const char *const kStrategyName[] = {"default*", "default", "rle", "filtered", "huffman"};

/* time_mem returns the best over `reps` passes of the mean ms per frame; *mb gets MB/frame. */
static double time_mem(const frames_t *f, const vxs_png_options_t *o, int reps, double *mb) {
    vxs_buf_t buf = {0};
    char err[256];
    double best = 1e30, bytes = 0;
    for (int r = 0; r < reps; r++) {
        double t0 = now_s();
        bytes = 0;
        for (int i = 0; i < f->n; i++) {
            if (vxs_png_encode_mem(&buf, frame(f, i), f->w, f->h, (size_t)f->w * 3, o, err,
                                   sizeof err) != VXS_OK) {
                fprintf(stderr, "bench_png: %s\n", err);
                exit(2);
            }
            bytes += (double)buf.len;
        }
        double ms = (now_s() - t0) * 1e3 / f->n;
        if (ms < best) best = ms;
    }
    vxs_buf_free(&buf);
    *mb = bytes / f->n / 1e6;
    return best;
}

typedef struct {
    const frames_t *f;
    const char *dir;
    int first, step, count, to_file, failed;
    double cpu_s; /* this thread's CPU time: flat from N=1 to N=2 means no serialization */
} job_t;

static double thread_cpu_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void *worker(void *arg) {
    job_t *j = arg;
    vxs_buf_t buf = {0};
    char path[1024], err[512];
    double c0 = thread_cpu_s();
    for (int k = 0; k < j->count; k++) {
        int i = j->first + k * j->step;
        vxs_status_t st;
        if (j->to_file) {
            snprintf(path, sizeof path, "%s/t%d_%d.png", j->dir, j->first, k);
            st = vxs_png_write(path, frame(j->f, i), j->f->w, j->f->h, (size_t)j->f->w * 3, NULL,
                               err, sizeof err);
            struct stat sb;
            if (st == VXS_OK && (stat(path, &sb) != 0 || sb.st_size < 100)) st = VXS_E_IO;
            unlink(path);
        } else {
            st = vxs_png_encode_mem(&buf, frame(j->f, i), j->f->w, j->f->h, (size_t)j->f->w * 3,
                                    NULL, err, sizeof err);
            if (st == VXS_OK && buf.len < 100) st = VXS_E_IO;
        }
        if (st != VXS_OK) {
            fprintf(stderr, "bench_png: thread %d: %s\n", j->first, err);
            j->failed = 1;
        }
    }
    vxs_buf_free(&buf);
    j->cpu_s = thread_cpu_s() - c0;
    return NULL;
}

static double run_threads(const frames_t *f, const char *dir, int n, int per_thread, int to_file,
                          double *cpu_ms) {
    pthread_t th[8];
    job_t jobs[8];
    double t0 = now_s();
    for (int t = 0; t < n; t++) {
        jobs[t] = (job_t){f, dir, t, n, per_thread, to_file, 0, 0};
        pthread_create(&th[t], NULL, worker, &jobs[t]);
    }
    int failed = 0;
    double cpu = 0;
    for (int t = 0; t < n; t++) {
        pthread_join(th[t], NULL);
        failed |= jobs[t].failed;
        cpu += jobs[t].cpu_s;
    }
    if (cpu_ms) *cpu_ms = cpu * 1e3 / (n * per_thread);
    double dt = now_s() - t0;
    if (failed) exit(2);
    return n * per_thread / dt;
}

int main(int argc, char **argv) {
    const char *video = VXS_SHARED_DIR "/datasets/camera/phone_vfr_1080p.mp4";
    int nframes = 8, reps = 1, table = 1, per_thread = 16;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--frames") == 0 && i + 1 < argc)
            nframes = atoi(argv[++i]);
        else if (strcmp(argv[i], "--reps") == 0 && i + 1 < argc)
            reps = atoi(argv[++i]);
        else if (strcmp(argv[i], "--per-thread") == 0 && i + 1 < argc)
            per_thread = atoi(argv[++i]);
        else if (strcmp(argv[i], "--no-table") == 0)
            table = 0;
        else if (argv[i][0] != '-')
            video = argv[i];
        else {
            fprintf(stderr, "usage: bench_png [VIDEO] [--frames N] [--reps R] [--no-table] "
                            "[--per-thread K]\n");
            return 2;
        }
    }
    char dir[] = "/tmp/bench_png.XXXXXX";
    if (!mkdtemp(dir)) return 2;
    frames_t f = {0};
    if (load_frames(&f, video, nframes, dir) != 0) {
        rmdir(dir);
        return 2;
    }
    printf("bench_png: %d frames %ux%u RGB24 (%.2f MB raw each) from %s\n", f.n, f.w, f.h,
           (double)f.frame_len / 1e6, video);

    vxs_png_options_t o;
    double mb;
    if (table) {
        static const int levels[] = {1, 2, 3, 6};
        static const vxs_png_strategy_t strategies[] = {VXS_PNG_STRATEGY_ZLIB, VXS_PNG_STRATEGY_RLE,
                                                        VXS_PNG_STRATEGY_FILTERED};
        printf("\n%-5s %-9s %-9s %9s %9s %7s\n", "level", "filter", "strategy", "ms/frame",
               "MB/frame", "ratio");
        for (size_t l = 0; l < 4; l++)
            for (int flt = VXS_PNG_FILTER_NONE; flt <= VXS_PNG_FILTER_ADAPTIVE; flt++)
                for (size_t s = 0; s < 3; s++) {
                    memset(&o, 0, sizeof o);
                    o.level = levels[l];
                    o.filter = (vxs_png_filter_t)flt;
                    o.strategy = strategies[s];
                    double ms = time_mem(&f, &o, reps, &mb);
                    printf("%-5d %-9s %-9s %9.1f %9.2f %7.2f\n", o.level, kFilterName[flt],
                           kStrategyName[o.strategy], ms, mb, (double)f.frame_len / 1e6 / mb);
                    fflush(stdout);
                }
        memset(&o, 0, sizeof o);
        o.level = VXS_PNG_LEVEL_STORE;
        o.filter = VXS_PNG_FILTER_NONE;
        double ms = time_mem(&f, &o, reps, &mb);
        printf("%-5s %-9s %-9s %9.1f %9.2f %7.2f  (reference: no compression)\n", "store", "none",
               "-", ms, mb, (double)f.frame_len / 1e6 / mb);
    }

    double ms = time_mem(&f, NULL, reps > 1 ? reps : 2, &mb);
    printf("\ndefault (NULL options: level %d, %s, %s): memory %.1f ms/frame, %.2f MB/frame\n",
           VXS_PNG_DEFAULT_LEVEL, kFilterName[VXS_PNG_DEFAULT_FILTER],
           kStrategyName[VXS_PNG_DEFAULT_STRATEGY], ms, mb);
    double fps1 = run_threads(&f, dir, 1, f.n, 1, NULL);
    printf("default via vxs_png_write (tmp file + fsync + rename, %s): %.1f ms/frame\n", dir,
           1e3 / fps1);

    double load[3] = {0, 0, 0};
    FILE *la = fopen("/proc/loadavg", "r");
    if (la) {
        if (fscanf(la, "%lf %lf %lf", &load[0], &load[1], &load[2]) != 3) load[0] = -1;
        fclose(la);
    }
    printf("\nthreads (default options, %d frames per thread; %ld CPUs online, load average "
           "%.2f before):\n",
           per_thread, sysconf(_SC_NPROCESSORS_ONLN), load[0]);
    for (int to_file = 1; to_file >= 0; to_file--)
        for (int n = 1; n <= 2; n++) {
            double cpu_ms;
            double fps = run_threads(&f, dir, n, per_thread, to_file, &cpu_ms);
            printf("  %-6s N=%d: %6.2f frames/s (%.1f ms CPU per frame in the writing threads)\n",
                   to_file ? "files" : "memory", n, fps, cpu_ms);
            fflush(stdout);
        }
    free(f.rgb);
    rmdir(dir);
    return 0;
}
