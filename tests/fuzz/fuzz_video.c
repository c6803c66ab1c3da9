/*
 * fuzz_video.c: libFuzzer target for the camera reader's container probe and index pass
 * (sensors/camera.c) through vxs_camera_open_mem, a custom AVIOContext over the input. Every
 * frame record is read (the reorder window, the MPEG rule for missing pts, the truncation
 * checks), then the first frames are decoded (seek, decode, swscale). Nothing may crash, read
 * out of bounds, overflow a timestamp or allocate without bound.
 *
 * Speed: the target is camera.c, not FFmpeg's demuxers. Bytes that no longer look like one of
 * the containers a camera writes (MP4/MOV, Matroska/WebM, AVI, MPEG-TS) are rejected before
 * libavformat sees them (looks_like_video): otherwise a mutation that breaks the magic is
 * offered to every demuxer FFmpeg has, some of which take it for a raw audio or video stream
 * and decode frames to find its parameters (avformat_find_stream_info), the slowest path
 * there is, for code that is not ours. Inputs above VXS_FUZZ_MAX are rejected too: the seeds
 * are a few kB, and the index pass and decoding cost grows with the input. Run with
 * -max_len=65536. Frames are decoded only when the container says they are at most
 * FETCH_MAX_PIXELS, two by record in decreasing order (the second seeks back) and one by
 * index; the index pass runs on every input.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "vxs_camera.h"

#define VXS_FUZZ_MAX (64u << 10)
#define MAX_FRAMES 4096
#define MAX_FETCH 2 /* decoded in decreasing order: the second fetch seeks back */
#define FETCH_MAX_PIXELS (256u * 256u) /* decode only pictures the container says are small */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
const char *__asan_default_options(void);

/* ASan's default quarantine keeps the last 256 MB freed unusable. FFmpeg allocates and frees
 * its contexts, buffers and frame pools per open (up to four opens an input), so under the
 * default nearly every allocation gets fresh pages: page faults and TLB shootdowns were a third
 * of the run time. 32 MB still keeps memory freed during one input poisoned for long after;
 * ASAN_OPTIONS in the environment overrides this. */
const char *__asan_default_options(void) { return "quarantine_size_mb=32"; }

static volatile uint64_t g_sink; /* unsigned: the sums may wrap (VXS_TIME_NONE is INT64_MIN) */

/* Diagnostics are the expected outcome of most inputs: count them instead of logging. */
static void on_diag(void *user, const vxs_diag_t *d) {
    (void)user;
    g_sink += d->offset;
}

static uint32_t be32(const uint8_t *p) {
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* is_box_type says whether the 4 bytes at `p` can be an ISO BMFF box type: printable ASCII
 * (ISO/IEC 14496-12 4.2; Apple's (c)xyz user-data atoms are inside moov, never top level). */
static int is_box_type(const uint8_t *p) {
    for (int i = 0; i < 4; i++)
        if (p[i] < 0x20 || p[i] > 0x7E) return 0;
    return 1;
}

/* looks_like_mp4 walks the top-level boxes (ISO/IEC 14496-12 4.2: size u32 BE, type, with size
 * 1 a 64-bit size after the type, size 0 "to the end of the file"): every box read has a
 * printable type and a size of at least its header, and a moov box starts among them (the mov
 * demuxer finds no stream without one). The last box may run past the end: truncated files
 * are what the reader's truncation checks are for. */
static int looks_like_mp4(const uint8_t *d, size_t n) {
    size_t at = 0;
    while (n - at >= 8) {
        uint64_t box = be32(d + at);
        size_t head = 8;
        if (!is_box_type(d + at + 4)) return 0;
        if (memcmp(d + at + 4, "moov", 4) == 0) return 1;
        if (box == 1) {
            if (n - at < 16) return 0;
            box = (uint64_t)be32(d + at + 8) << 32 | be32(d + at + 12);
            head = 16;
        } else if (box == 0) {
            return 0; /* the last box, and it was not moov */
        }
        if (box < head || box > n - at) return 0;
        at += (size_t)box;
    }
    return 0;
}

/* looks_like_video is the cheap gate in front of libavformat: the container magics of the
 * formats a camera records. */
static int looks_like_video(const uint8_t *d, size_t n) {
    if (n < 16) return 0;
    if (be32(d) == 0x1A45DFA3u) return 1;                                 /* EBML: MKV, WebM */
    if (memcmp(d, "RIFF", 4) == 0 && memcmp(d + 8, "AVI ", 4) == 0) return 1; /* AVI */
    if (d[0] == 0x47 && n >= 189 && d[188] == 0x47) return 1;              /* MPEG-TS */
    return looks_like_mp4(d, n);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    vxs_camera_t *c = NULL;
    vxs_camera_options_t o;
    vxs_diag_sink_t sink = {on_diag, NULL};
    vxs_limits_t lim;
    vxs_record_t first[MAX_FETCH];
    vxs_buf_t buf = {NULL, 0, 0};
    size_t n_first = 0;
    char err[256];
    if (size > VXS_FUZZ_MAX || !looks_like_video(data, size)) return 0;
    vxs_camera_options_init(&o);
    vxs_limits_default(&lim);
    /* 32 KiB: above the seeds' pictures (64x48 RGB is 9 kB), below the largest packet an input
     * can hold and the pictures FETCH_MAX_PIXELS lets through, so both limit checks (packet in
     * the index pass, RGB picture in a fetch) are reachable. */
    lim.max_frame = 32u << 10;
    o.limits = &lim;
    o.reorder_window = 8;
    o.diag = &sink;
    if (vxs_camera_open_mem(&c, data, size, "fuzz", &o, err, sizeof err) == VXS_OK) {
        vxs_camera_info_t info;
        vxs_camera_get_info(c, &info);
        for (int i = 0; i < MAX_FRAMES; i++) {
            const vxs_record_t *r = NULL;
            vxs_camera_frame_info_t fi;
            vxs_status_t st = vxs_camera_next(c, &r);
            if (st == VXS_EOF) break;
            if (st != VXS_OK) continue;
            if (vxs_camera_frame_info(c, &fi) == VXS_OK)
                g_sink += (uint64_t)fi.duration_ns + (uint64_t)fi.pts_ns +
                          (uint64_t)r->capture_time;
            if (n_first < MAX_FETCH) first[n_first++] = *r;
        }
        /* Decoding is the costly part and FFmpeg's, not ours: a mutated header that claims a
         * large picture would have the decoder allocate and fill it for every fetch. */
        if ((uint64_t)info.width * info.height <= FETCH_MAX_PIXELS) {
            for (size_t i = n_first; i > 0; i--) /* decreasing: exercises the seek path */
                (void)vxs_camera_fetch_rgb(c, &buf, NULL, NULL, &first[i - 1]);
            (void)vxs_camera_fetch_rgb_index(c, &buf, NULL, NULL, 1);
        }
        g_sink += buf.len;
    }
    vxs_buf_free(&buf);
    vxs_camera_close(c);
    return 0;
}
