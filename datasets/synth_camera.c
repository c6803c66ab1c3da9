/*
 * synth_camera.c: the camera writer. For every agent with a camera (today the ego) it renders
 * what a forward pinhole camera sees, encodes it with libx264 into <id>/camera.mp4 and writes
 * the capture times into <id>/camera.timestamps, the way a dashcam logger does (with realism
 * sidecar-names the two are named camera.file and camera.times instead, e.g.
 * <id>/camera_front.mp4 and <id>/camera_front_timestamps.txt: synth.h).
 *
 * Frames. Nominal capture k (k = 0, 1, ...) happens at true time
 *     true_k = start + phase + round(k * 1e9 / fps)        while true_k < start + duration,
 * phase uniform in [0, 1/fps) from the agent's stream. Frame k > 0 is dropped with probability
 * camera.drop_prob; a drive of >= 3 s also drops one frame chosen uniformly in each third of
 * the drive (never frame 0), so there are always >= 3 drops to test against. With fault
 * camera-drops the camera fault.drop_agent (the ego's) also drops every frame whose exposure
 * true_k lies in [fault.drop_start_ns, fault.drop_end_ns) (1.5 s from the middle of the drive;
 * its draws are made as always). A dropped frame is neither encoded nor listed in the sidecar,
 * so the sidecar's line i stays the video's frame i (the camera reader pairs them by index).
 *
 * Times (shared/specs/camera-timestamps.md). Sidecar line i is the logger-clock reading of the
 * instant the i-th written frame was stamped, integer ns since 1970 (the reader's AUTO unit takes
 * values >= 1e17 as ns). Classic: a frame is stamped at its exposure (true_k). With realism
 * camera-latency the logger stamps it later, as real pipelines do (exposure, readout, ISP,
 * delivery to the logging process): stamp_k = true_k + round((stamp_latency_ms + stamp_jitter_ms
 * * N(0, 1)) * 1e6), at least 1 ms after the exposure, the normal draw from the agent's stream
 * STREAM_LATENCY (drawn for every nominal frame, dropped ones included). The MP4 time base is
 * 1/90000 and
 *     pts = round((local_written - local_first_written) * 90000 / 1e9),
 * so a dropped frame leaves a gap and the drift of the logger shows in the pts, as in a real
 * variable-frame-rate dashcam (strictly increasing: a clock that steps back would get pts =
 * previous + 1). The container has no creation_time: the sidecar is the only absolute time.
 *
 * Image (what a test may rely on). Pinhole camera at camera.mount in the body frame, looking
 * along body +x, level (the ground is flat): f = (width / 2) / tan(hfov / 2) px, principal point
 * (width / 2, height / 2), pixel (u, v) covers [u, u+1) x [v, v+1); a body-frame point d
 * relative to the mount projects to u = cx - f * d.y / d.x, v = cy - f * d.z / d.x. Sky above
 * the horizon; ground: grass in a world-fixed 2 m checkerboard, the two-lane ring road (the
 * vehicles in the middle of the outer lane) with edge lines and a dashed lane divider; rows
 * whose depth step exceeds a checker cell are drawn in a flat haze colour (no aliasing for the
 * encoder to chew on). The RSU pole stands at the ring's centre, always 90 deg to the left of a
 * vehicle on the ring, so it is never in view of a 90 deg camera. Other agents' boxes are
 * filled flat with their colour (BOX_RGB below), far to near, clipped at 0.1 m in front of the
 * camera. Barcode: a grey strip over the bottom rows; 32 blocks of BAR_BLOCK x BAR_BLOCK px
 * (white = 1, black = 0) on row bar_y = the largest multiple of 16 with bar_y + BAR_BLOCK + 4 <=
 * height, from x = bar_x = (width - 32 * BAR_BLOCK) / 2 rounded down to a multiple of 16. Bits,
 * most significant first: k & 0xffff (16 bits), then (true_k / 1e6) mod 65536 (16 bits).
 *
 * Encoding: libx264 (x264 documentation, `x264 --fullhelp`): preset superfast (veryfast
 * doubles the encode time of a 60 s drive, ~2.3 s against ~1.1 s on 2 cores, for a 1.5x smaller
 * file), crf 28, exactly 2 B-frames (b-adapt 0, so decode order always differs from
 * presentation order), closed GOPs of round(2 * fps) written frames (scenecut 0), 2 frame
 * threads. x264 is deterministic for a given thread count (b_deterministic defaults to on), but
 * its default count is 1.5 x the machine's cores, which changes the bytes from one machine to
 * the next; fixing it makes the same seed give the same bytes everywhere with the same libx264
 * (checked: identical files under `taskset -c 0` and on 2 cores, and at -O0 and -O2). The
 * muxer runs with AVFMT_FLAG_BITEXACT (no "Lavf..." encoder tag). BT.601 limited-range YUV
 * 4:2:0, signalled in the VUI.
 *
 * Truth section "camera_frames", one item per nominal frame, dropped ones included, in capture
 * order (agent by agent):
 *   agent     string  the agent's id ("ego")
 *   sensor    string  "camera"
 *   index     int     k, the nominal capture index (also in the barcode, mod 65536)
 *   true_ns   int     true capture (exposure) time, ns since 1970 (GNSS time)
 *   local_ns  int     the agent's logger clock at the stamp's true time (true_ns, or
 *                     stamp_true_ns with camera-latency): the sidecar value when written
 *   stamp_true_ns    int  (camera-latency only) true time the logger stamped the frame
 *   stamp_latency_ns int  (camera-latency only) stamp_true_ns - true_ns
 *   dropped   bool    the frame was dropped (not encoded, no sidecar line)
 *   fault     string  (fault camera-drops only) "camera-drops" on the frames it dropped
 *   frame     int     index among the written frames (= line of the sidecar, = presentation
 *                     order in camera.mp4); null when dropped
 *   pts       int     presentation timestamp in the 1/90000 time base; null when dropped
 *
 * Memory is bounded by one frame of each buffer plus the MP4 sample tables libavformat keeps
 * until the trailer (tens of bytes per frame: about 3 MB for an hour at 20 fps; the moov box
 * needs them all).
 */
#include "synth.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/opt.h>

/* job_err writes a message into the job's error buffer. */
#define job_err(job, ...) synth_seterr((job)->err, (job)->err_len, __VA_ARGS__)

#ifndef M_PI
#define M_PI 3.14159265358979323846
#endif

/* ---- constants ------------------------------------------------------------------------------ */

#define TIME_BASE 90000            /* MP4 / MPEG-TS video clock (ISO/IEC 13818-1 90 kHz) */
#define X264_PRESET "superfast"
#define X264_CRF "28"
#define X264_BFRAMES 2
/* No scene-cut I-frames (GOPs stay fixed), always X264_BFRAMES B-frames, closed GOPs. */
#define X264_PARAMS "scenecut=0:b-adapt=0:open-gop=0"
#define X264_THREADS 2             /* fixed: x264 output depends on the thread count */
#define GOP_SECONDS 2.0
#define NEAR_M 0.1                 /* near clipping plane in front of the camera */
/* The scene: illustrative sizes, chosen to read well at 640x360. The ring road has two 3.5 m
 * lanes (a common lane width); vehicles drive on the ring radius, the centre of the outer lane,
 * so the dashed lane divider is on the camera's left. */
#define CELL_M 2.0                 /* ground checkerboard cell */
#define LANE_M 3.5
#define EDGE_LINE_M 0.2            /* edge lines, inside both road edges */
#define DIVIDER_HALF_M 0.075       /* dashed lane divider: 0.15 m wide... */
#define DASH_M 3.0                 /* ...3 m dashes, 3 m gaps (arc length on the ring) */
#define BAR_BLOCK 16               /* barcode block: one H.264 macroblock */
#define BAR_BITS 32
/* Drive time between progress reports: the writer runs at ~40x real time, so ~8 a second. */
#define PROGRESS_EVERY_NS INT64_C(5000000000)
#define FORCED_DROPS 3
#define FORCED_DROPS_MIN_NS INT64_C(3000000000)
#define FIX_ONE 4294967296.0       /* 2^32: 32.32 fixed point of the checker cells */
#define CELL_BIAS 1048576.0        /* 2^20 cells */

/* Random streams of this file: SYNTH_STREAM_CAMERA + 10 * agent + one of these. */
enum { STREAM_TIMING = 0, STREAM_DROPS = 1, STREAM_LATENCY = 2 };

/* Palette: the renderer draws palette indexes, converted to YUV at the end. */
enum {
    PAL_SKY = 0, /* PAL_SKY .. PAL_SKY + SKY_LEVELS - 1: gradient, zenith to horizon */
    SKY_LEVELS = 64,
    PAL_HAZE = PAL_SKY + SKY_LEVELS,
    PAL_GRASS_A,
    PAL_GRASS_B,
    PAL_ROAD_A,
    PAL_ROAD_B,
    PAL_LINE,
    PAL_BAR_BG,
    PAL_BLACK,
    PAL_WHITE,
    PAL_BOX, /* + agent index */
    PAL_COUNT = PAL_BOX + SYNTH_N_AGENTS
};

/* Box colours by agent (ego unused: the camera sits inside it). */
static const uint8_t BOX_RGB[SYNTH_N_AGENTS][3] = {
    {255, 255, 255}, /* ego */
    {200, 30, 30},   /* vehicle2: red */
    {230, 200, 40},  /* rsu pole: yellow */
    {170, 60, 200}   /* phone (pedestrian): purple */
};

/* ---- small helpers --------------------------------------------------------------------------- */


static const char *averr(int rc, char *buf, size_t len) {
    if (av_strerror(rc, buf, len) < 0) snprintf(buf, len, "libav error %d", rc);
    return buf;
}

static uint8_t clamp_u8(double v) {
    return (uint8_t)(v < 0.0 ? 0.0 : v > 255.0 ? 255.0 : v + 0.5);
}

/* ---- the camera model ---------------------------------------------------------------------- */

typedef struct {
    int w, h;
    double f, cx, cy;
    double cam[3];            /* optical centre, world */
    double fwd[3], left[3];   /* camera axes in the world (up is world +z) */
} view_t;

static void view_set(view_t *v, const synth_camera_t *cm, const synth_pose_t *p) {
    v->w = cm->width;
    v->h = cm->height;
    v->f = 0.5 * cm->width / tan(0.5 * cm->hfov_deg * M_PI / 180.0);
    v->cx = 0.5 * cm->width;
    v->cy = 0.5 * cm->height;
    synth_body_to_world(p, cm->mount, v->cam);
    const double c = cos(p->yaw), s = sin(p->yaw);
    v->fwd[0] = c;
    v->fwd[1] = s;
    v->fwd[2] = 0.0;
    v->left[0] = -s;
    v->left[1] = c;
    v->left[2] = 0.0;
}

/* to_camera: world point -> (depth along the optical axis, left, up) relative to the camera. */
static void to_camera(const view_t *v, const double wpt[3], double out[3]) {
    const double d[3] = {wpt[0] - v->cam[0], wpt[1] - v->cam[1], wpt[2] - v->cam[2]};
    out[0] = d[0] * v->fwd[0] + d[1] * v->fwd[1];
    out[1] = d[0] * v->left[0] + d[1] * v->left[1];
    out[2] = d[2];
}

/* ---- rendering ------------------------------------------------------------------------------- */

/* render_ground fills every row: sky above the horizon, the ground pattern below. */
static void render_ground(const view_t *v, const synth_world_t *w, uint8_t *img) {
    const double R = w->ring_radius_m;
    const double r_in = R - 1.5 * LANE_M, r_out = R + 0.5 * LANE_M, r_div = R - 0.5 * LANE_M;
    const double road_in2 = r_in * r_in, road_out2 = r_out * r_out;
    const double line_in2 = (r_in + EDGE_LINE_M) * (r_in + EDGE_LINE_M);
    const double line_out2 = (r_out - EDGE_LINE_M) * (r_out - EDGE_LINE_M);
    const double mid_in2 = (r_div - DIVIDER_HALF_M) * (r_div - DIVIDER_HALF_M);
    const double mid_out2 = (r_div + DIVIDER_HALF_M) * (r_div + DIVIDER_HALF_M);
    const double inv_cell = 1.0 / CELL_M;
    const double cam_h = v->cam[2];
    for (int y = 0; y < v->h; y++) {
        uint8_t *row = img + (size_t)y * (size_t)v->w;
        const double a = (y + 0.5 - v->cy) / v->f; /* tan of the angle below the horizon */
        if (a <= 0.0) {
            const int lvl = (int)((SKY_LEVELS - 1) * (y + 0.5) / v->cy);
            memset(row, PAL_SKY + (lvl < SKY_LEVELS ? lvl : SKY_LEVELS - 1), (size_t)v->w);
            continue;
        }
        const double t = cam_h / a; /* depth of this row on the ground */
        /* One row further down moves t by t^2 / (h f): beyond a cell, the pattern aliases. */
        if (t * t / (cam_h * v->f) > CELL_M) {
            memset(row, PAL_HAZE, (size_t)v->w);
            continue;
        }
        /* Ground point of pixel centre uc: cam + t fwd + t (cx - uc) / f left, linear in uc. */
        const double k = t / v->f;
        double gx = v->cam[0] + t * v->fwd[0] + (v->cx - 0.5) * k * v->left[0];
        double gy = v->cam[1] + t * v->fwd[1] + (v->cx - 0.5) * k * v->left[1];
        const double dx = -k * v->left[0], dy = -k * v->left[1];
        /* Incremental per pixel (this loop is most of the rendering time): r^2 by its constant
         * second difference; checker cells in 32.32 fixed point biased by 2^20 cells, so the
         * shift is a floor for |coordinates| < 2 km (visible ground is within ~60 m). */
        double r2 = gx * gx + gy * gy;
        double dr2 = 2.0 * (gx * dx + gy * dy) + dx * dx + dy * dy;
        const double ddr2 = 2.0 * (dx * dx + dy * dy);
        int64_t fx = (int64_t)((gx * inv_cell + CELL_BIAS) * FIX_ONE);
        int64_t fy = (int64_t)((gy * inv_cell + CELL_BIAS) * FIX_ONE);
        const int64_t sx = (int64_t)(dx * inv_cell * FIX_ONE);
        const int64_t sy = (int64_t)(dy * inv_cell * FIX_ONE);
        for (int x = 0; x < v->w;
             x++, gx += dx, gy += dy, r2 += dr2, dr2 += ddr2, fx += sx, fy += sy) {
            const int odd = (int)(((fx >> 32) + (fy >> 32)) & 1);
            uint8_t p;
            if (r2 < road_in2 || r2 > road_out2) {
                p = (uint8_t)(odd ? PAL_GRASS_B : PAL_GRASS_A);
            } else if (r2 < line_in2 || r2 > line_out2) {
                p = PAL_LINE;
            } else if (r2 > mid_in2 && r2 < mid_out2 &&
                       fmod(atan2(gy, gx) * r_div + 4.0 * M_PI * r_div, 2.0 * DASH_M) < DASH_M) {
                p = PAL_LINE;
            } else {
                p = (uint8_t)(odd ? PAL_ROAD_B : PAL_ROAD_A);
            }
            row[x] = p;
        }
    }
}

typedef struct {
    double x, y;
} pt2_t;

static double cross2(pt2_t o, pt2_t a, pt2_t b) {
    return (a.x - o.x) * (b.y - o.y) - (a.y - o.y) * (b.x - o.x);
}

/* convex_hull: Andrew's monotone chain; sorts pts in place, writes the hull (counter-clockwise
 * in a y-up frame) to out and returns its size. n <= 20. */
static size_t convex_hull(pt2_t *pts, size_t n, pt2_t *out) {
    for (size_t i = 1; i < n; i++) { /* insertion sort by (x, y): n is tiny */
        const pt2_t p = pts[i];
        size_t j = i;
        while (j > 0 && (pts[j - 1].x > p.x || (pts[j - 1].x == p.x && pts[j - 1].y > p.y))) {
            pts[j] = pts[j - 1];
            j--;
        }
        pts[j] = p;
    }
    if (n < 3) return 0;
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        while (k >= 2 && cross2(out[k - 2], out[k - 1], pts[i]) <= 0) k--;
        out[k++] = pts[i];
    }
    for (size_t i = n - 1, lo = k + 1; i-- > 0;) {
        while (k >= lo && cross2(out[k - 2], out[k - 1], pts[i]) <= 0) k--;
        out[k++] = pts[i];
    }
    return k - 1; /* the last point repeats the first */
}

/* fill_convex paints palette index `c` into every pixel whose centre lies inside the convex
 * polygon `poly` (pixel coordinates). */
static void fill_convex(uint8_t *img, int w, int h, const pt2_t *poly, size_t n, uint8_t c) {
    double ymin = poly[0].y, ymax = poly[0].y;
    for (size_t i = 1; i < n; i++) {
        ymin = fmin(ymin, poly[i].y);
        ymax = fmax(ymax, poly[i].y);
    }
    /* Clamp before converting: projections near the clipping plane can be huge. */
    const int y0 = (int)ceil(fmax(ymin, -1.0) - 0.5), y1 = (int)ceil(fmin(ymax, h + 1.0) - 0.5);
    for (int y = y0 < 0 ? 0 : y0; y < y1 && y < h; y++) {
        const double yc = y + 0.5;
        double xl = INFINITY, xr = -INFINITY;
        for (size_t i = 0; i < n; i++) {
            const pt2_t p = poly[i], q = poly[(i + 1) % n];
            if ((p.y <= yc && yc < q.y) || (q.y <= yc && yc < p.y)) {
                const double x = p.x + (yc - p.y) * (q.x - p.x) / (q.y - p.y);
                xl = fmin(xl, x);
                xr = fmax(xr, x);
            }
        }
        if (!(xl < xr)) continue;
        const int x0 = (int)ceil(fmax(xl, -1.0) - 0.5), x1 = (int)ceil(fmin(xr, w + 1.0) - 0.5);
        const int a = x0 < 0 ? 0 : x0, b = x1 > w ? w : x1;
        if (a < b) memset(img + (size_t)y * (size_t)w + a, c, (size_t)(b - a));
    }
}

/* render_box fills the silhouette of agent b's box: the box clipped by the near plane is a
 * convex polyhedron (corners in front plus the points where the 12 edges cross the plane), and
 * its projection is the convex hull of its projected vertices. */
static void render_box(const view_t *v, const synth_agent_t *g, const synth_pose_t *p,
                       uint8_t *img, uint8_t colour) {
    double cc[8][3];
    for (int i = 0; i < 8; i++) {
        const double body[3] = {(i & 1 ? 0.5 : -0.5) * g->length, (i & 2 ? 0.5 : -0.5) * g->width,
                                i & 4 ? g->height : 0.0};
        double wpt[3];
        synth_body_to_world(p, body, wpt);
        to_camera(v, wpt, cc[i]);
    }
    double vert[20][3];
    size_t n = 0;
    for (int i = 0; i < 8; i++)
        if (cc[i][0] >= NEAR_M) memcpy(vert[n++], cc[i], sizeof vert[0]);
    for (int i = 0; i < 8; i++) {
        for (int bit = 1; bit < 8; bit <<= 1) { /* edges join corners differing in one bit */
            const int j = i | bit;
            if (j == i) continue;
            const double *a = cc[i], *b = cc[j];
            if ((a[0] >= NEAR_M) == (b[0] >= NEAR_M)) continue;
            const double s = (NEAR_M - a[0]) / (b[0] - a[0]);
            vert[n][0] = NEAR_M;
            vert[n][1] = a[1] + s * (b[1] - a[1]);
            vert[n][2] = a[2] + s * (b[2] - a[2]);
            n++;
        }
    }
    if (n < 3) return;
    pt2_t pts[20], hull[21];
    for (size_t i = 0; i < n; i++) {
        pts[i].x = v->cx - v->f * vert[i][1] / vert[i][0];
        pts[i].y = v->cy - v->f * vert[i][2] / vert[i][0];
    }
    const size_t m = convex_hull(pts, n, hull);
    if (m >= 3) fill_convex(img, v->w, v->h, hull, m, colour);
}

/* render_agents draws every other agent's box, far to near. */
static void render_agents(const view_t *v, const synth_world_t *w, size_t self, int64_t t,
                          uint8_t *img) {
    size_t order[SYNTH_N_AGENTS];
    double dist[SYNTH_N_AGENTS];
    synth_pose_t pose[SYNTH_N_AGENTS];
    size_t n = 0;
    for (size_t a = 0; a < w->n_agents && a < SYNTH_N_AGENTS; a++) {
        if (a == self) continue;
        synth_pose(w, a, t, &pose[a]);
        dist[a] = hypot(pose[a].x - v->cam[0], pose[a].y - v->cam[1]);
        size_t j = n++;
        while (j > 0 && dist[order[j - 1]] < dist[a]) { /* farthest first */
            order[j] = order[j - 1];
            j--;
        }
        order[j] = a;
    }
    for (size_t i = 0; i < n; i++)
        render_box(v, &w->agents[order[i]], &pose[order[i]], img, (uint8_t)(PAL_BOX + order[i]));
}

/* Barcode geometry (see the top of the file). */
static int bar_x(int width) { return (width - BAR_BITS * BAR_BLOCK) / 2 / 16 * 16; }
static int bar_y(int height) { return (height - BAR_BLOCK - 4) / 16 * 16; }

static void render_barcode(uint8_t *img, int w, int h, uint64_t k, int64_t true_ns) {
    const uint32_t code = ((uint32_t)(k & 0xffff) << 16) |
                          (uint32_t)((uint64_t)(true_ns / 1000000) & 0xffff);
    const int x0 = bar_x(w), y0 = bar_y(h);
    for (int y = y0 - 4; y < h; y++) memset(img + (size_t)y * (size_t)w, PAL_BAR_BG, (size_t)w);
    for (int b = 0; b < BAR_BITS; b++) {
        const uint8_t c = (code >> (BAR_BITS - 1 - b)) & 1 ? PAL_WHITE : PAL_BLACK;
        for (int y = y0; y < y0 + BAR_BLOCK; y++)
            memset(img + (size_t)y * (size_t)w + x0 + b * BAR_BLOCK, c, BAR_BLOCK);
    }
}

/* ---- palette -> YUV 4:2:0 ------------------------------------------------------------------- */

typedef struct {
    uint8_t y[PAL_COUNT], u[PAL_COUNT], v[PAL_COUNT];
} palette_t;

static void pal_set(palette_t *p, int i, double r, double g, double b) {
    /* ITU-R BT.601-7 2.5: luma and colour differences, limited range (Y 16..235, C 16..240). */
    p->y[i] = clamp_u8(16.0 + 219.0 * (0.299 * r + 0.587 * g + 0.114 * b) / 255.0);
    p->u[i] = clamp_u8(128.0 + 224.0 * (-0.168736 * r - 0.331264 * g + 0.5 * b) / 255.0);
    p->v[i] = clamp_u8(128.0 + 224.0 * (0.5 * r - 0.418688 * g - 0.081312 * b) / 255.0);
}

static void palette_init(palette_t *p) {
    for (int i = 0; i < SKY_LEVELS; i++) { /* deep blue overhead to pale at the horizon */
        const double s = (double)i / (SKY_LEVELS - 1);
        pal_set(p, PAL_SKY + i, 60 + 130 * s, 120 + 90 * s, 200 + 30 * s);
    }
    pal_set(p, PAL_HAZE, 150, 165, 150);
    pal_set(p, PAL_GRASS_A, 70, 140, 60);
    pal_set(p, PAL_GRASS_B, 95, 170, 80);
    pal_set(p, PAL_ROAD_A, 80, 80, 85);
    pal_set(p, PAL_ROAD_B, 100, 100, 105);
    pal_set(p, PAL_LINE, 235, 235, 235);
    pal_set(p, PAL_BAR_BG, 128, 128, 128);
    pal_set(p, PAL_BLACK, 0, 0, 0);
    pal_set(p, PAL_WHITE, 255, 255, 255);
    for (int a = 0; a < SYNTH_N_AGENTS; a++)
        pal_set(p, PAL_BOX + a, BOX_RGB[a][0], BOX_RGB[a][1], BOX_RGB[a][2]);
}

/* to_yuv420 converts the palette image; chroma is the mean of each 2x2 block. */
static void to_yuv420(const palette_t *p, const uint8_t *img, int w, int h, AVFrame *f) {
    for (int y = 0; y < h; y++) {
        const uint8_t *s = img + (size_t)y * (size_t)w;
        uint8_t *d = f->data[0] + (ptrdiff_t)y * f->linesize[0];
        for (int x = 0; x < w; x++) d[x] = p->y[s[x]];
    }
    for (int y = 0; y < h / 2; y++) {
        const uint8_t *s0 = img + (size_t)(2 * y) * (size_t)w, *s1 = s0 + w;
        uint8_t *du = f->data[1] + (ptrdiff_t)y * f->linesize[1];
        uint8_t *dv = f->data[2] + (ptrdiff_t)y * f->linesize[2];
        for (int x = 0; x < w / 2; x++) {
            const uint8_t a = s0[2 * x], b = s0[2 * x + 1], c = s1[2 * x], d = s1[2 * x + 1];
            du[x] = (uint8_t)((p->u[a] + p->u[b] + p->u[c] + p->u[d] + 2) >> 2);
            dv[x] = (uint8_t)((p->v[a] + p->v[b] + p->v[c] + p->v[d] + 2) >> 2);
        }
    }
}

/* ---- the encoder ---------------------------------------------------------------------------- */

typedef struct {
    const synth_job_t *job;
    char path[4096];       /* camera.mp4, for messages */
    AVFormatContext *fc;
    AVCodecContext *enc;
    AVStream *st;
    AVFrame *frame;
    AVPacket *pkt;
    bool header_written;
} encoder_t;

static vxs_status_t enc_fail(encoder_t *e, const char *what, int rc) {
    char b[AV_ERROR_MAX_STRING_SIZE];
    job_err(e->job, "%s: %s: %s", e->path, what, averr(rc, b, sizeof b));
    return rc == AVERROR(ENOMEM) ? VXS_E_NOMEM : VXS_E_IO;
}

static vxs_status_t enc_open(encoder_t *e, const synth_camera_t *cm) {
    int rc;
    /* libav* messages would duplicate ours (which name the file); the readers do the same. */
    av_log_set_level(AV_LOG_QUIET);
    const AVCodec *codec = avcodec_find_encoder_by_name("libx264");
    if (!codec) {
        job_err(e->job, "%s: this FFmpeg has no libx264 encoder (Debian's libavcodec59 has it)",
               e->path);
        return VXS_E_UNSUPPORTED;
    }
    rc = avformat_alloc_output_context2(&e->fc, NULL, "mp4", e->path);
    if (rc < 0 || !e->fc)
        return enc_fail(e, "cannot set up the MP4 muxer", rc < 0 ? rc : AVERROR_UNKNOWN);
    e->fc->flags |= AVFMT_FLAG_BITEXACT;
    e->st = avformat_new_stream(e->fc, NULL);
    e->enc = avcodec_alloc_context3(codec);
    e->frame = av_frame_alloc();
    e->pkt = av_packet_alloc();
    if (!e->st || !e->enc || !e->frame || !e->pkt) return enc_fail(e, "setup", AVERROR(ENOMEM));

    AVCodecContext *c = e->enc;
    c->width = cm->width;
    c->height = cm->height;
    c->pix_fmt = AV_PIX_FMT_YUV420P;
    c->time_base = (AVRational){1, TIME_BASE};
    /* The nominal rate drives x264's rate control; timestamps stay variable (b_vfr_input). */
    c->framerate = av_d2q(cm->fps, 100000);
    c->gop_size = (int)lround(GOP_SECONDS * cm->fps);
    c->max_b_frames = X264_BFRAMES;
    c->thread_count = X264_THREADS;
    c->flags |= AV_CODEC_FLAG_BITEXACT;
    c->color_range = AVCOL_RANGE_MPEG;
    c->colorspace = AVCOL_SPC_SMPTE170M;
    c->color_primaries = AVCOL_PRI_SMPTE170M;
    c->color_trc = AVCOL_TRC_SMPTE170M;
    if (e->fc->oformat->flags & AVFMT_GLOBALHEADER) c->flags |= AV_CODEC_FLAG_GLOBAL_HEADER;
    if ((rc = av_opt_set(c->priv_data, "preset", X264_PRESET, 0)) < 0 ||
        (rc = av_opt_set(c->priv_data, "crf", X264_CRF, 0)) < 0 ||
        (rc = av_opt_set(c->priv_data, "x264-params", X264_PARAMS, 0)) < 0)
        return enc_fail(e, "libx264 options", rc);
    if ((rc = avcodec_open2(c, codec, NULL)) < 0) return enc_fail(e, "cannot open libx264", rc);

    e->st->time_base = c->time_base;
    if ((rc = avcodec_parameters_from_context(e->st->codecpar, c)) < 0)
        return enc_fail(e, "codec parameters", rc);
    if ((rc = avio_open(&e->fc->pb, e->path, AVIO_FLAG_WRITE)) < 0)
        return enc_fail(e, "cannot create", rc);
    if ((rc = avformat_write_header(e->fc, NULL)) < 0)
        return enc_fail(e, "cannot write the MP4 header", rc);
    e->header_written = true;

    e->frame->format = c->pix_fmt;
    e->frame->width = c->width;
    e->frame->height = c->height;
    if ((rc = av_frame_get_buffer(e->frame, 0)) < 0) return enc_fail(e, "frame buffer", rc);
    return VXS_OK;
}

/* enc_send encodes `f` (NULL: flush) and muxes every packet that comes out. */
static vxs_status_t enc_send(encoder_t *e, const AVFrame *f) {
    int rc = avcodec_send_frame(e->enc, f);
    if (rc < 0) return enc_fail(e, "libx264 refused a frame", rc);
    for (;;) {
        rc = avcodec_receive_packet(e->enc, e->pkt);
        if (rc == AVERROR(EAGAIN) || rc == AVERROR_EOF) return VXS_OK;
        if (rc < 0) return enc_fail(e, "libx264 failed", rc);
        av_packet_rescale_ts(e->pkt, e->enc->time_base, e->st->time_base);
        e->pkt->stream_index = e->st->index;
        rc = av_write_frame(e->fc, e->pkt); /* one stream: nothing to interleave */
        av_packet_unref(e->pkt);
        if (rc < 0) return enc_fail(e, "write failed", rc);
    }
}

/* enc_close flushes (when `finish`), writes the trailer and frees everything. */
static vxs_status_t enc_close(encoder_t *e, bool finish) {
    if (!e->header_written) finish = false; /* enc_open failed: nothing to finish */
    vxs_status_t st = VXS_OK;
    if (finish) {
        st = enc_send(e, NULL);
        if (st == VXS_OK) {
            const int rc = av_write_trailer(e->fc);
            if (rc < 0) st = enc_fail(e, "cannot write the MP4 index", rc);
        }
    }
    if (e->fc && e->fc->pb) {
        const int rc = avio_closep(&e->fc->pb);
        if (rc < 0 && st == VXS_OK && finish) st = enc_fail(e, "close failed", rc);
    }
    avformat_free_context(e->fc);
    avcodec_free_context(&e->enc);
    av_frame_free(&e->frame);
    av_packet_free(&e->pkt);
    e->fc = NULL;
    return st;
}

/* ---- the writer ----------------------------------------------------------------------------- */

/* frame_true_ns: true capture time of nominal frame k. */
static int64_t frame_true_ns(const synth_world_t *w, int64_t phase_ns, double period_ns,
                             uint64_t k) {
    return w->start_ns + phase_ns + (int64_t)llround((double)k * period_ns);
}

/* frame_item is the truth of nominal frame k; stamp_ns (the true time it was stamped) is
 * written when the camera has a stamp latency. */
static json_t *frame_item(const synth_agent_t *g, uint64_t k, int64_t true_ns, int64_t stamp_ns,
                          int64_t local_ns, bool dropped, uint64_t frame, int64_t pts) {
    json_t *o = json_pack("{s:s, s:s, s:I, s:I, s:I, s:b, s:o, s:o}", "agent", g->id, "sensor",
                          "camera", "index", (json_int_t)k, "true_ns", (json_int_t)true_ns,
                          "local_ns", (json_int_t)local_ns, "dropped", dropped, "frame",
                          dropped ? json_null() : json_integer((json_int_t)frame), "pts",
                          dropped ? json_null() : json_integer((json_int_t)pts));
    if (o && g->camera.stamp_latency_ms > 0.0) {
        json_object_set_new(o, "stamp_true_ns", json_integer(stamp_ns));
        json_object_set_new(o, "stamp_latency_ns", json_integer(stamp_ns - true_ns));
    }
    return o;
}

static vxs_status_t write_agent(const synth_job_t *job, size_t a) {
    const synth_world_t *w = job->w;
    const synth_agent_t *g = &w->agents[a];
    const synth_camera_t *cm = &g->camera;
    const synth_fault_plan_t *fp = &w->fault;
    encoder_t e;
    memset(&e, 0, sizeof e);
    e.job = job;
    char times_path[4096];
    char rel[256];
    vxs_status_t st, st_close;

    if (cm->width < BAR_BITS * BAR_BLOCK || cm->height < 4 * BAR_BLOCK || cm->width % 2 ||
        cm->height % 2 || !(cm->fps > 0.0 && cm->fps <= 1000.0) ||
        !(cm->hfov_deg > 1.0 && cm->hfov_deg < 179.0) || !(cm->mount[2] > 0.0)) {
        job_err(job, "%s/%s: unsupported camera (%dx%d px, even sizes >= %dx%d, %.3f fps, "
               "hfov %.1f deg, mount height %.2f m)", g->id, cm->file, cm->width,
               cm->height, BAR_BITS * BAR_BLOCK, 4 * BAR_BLOCK, cm->fps, cm->hfov_deg,
               cm->mount[2]);
        return VXS_E_ARG;
    }
    snprintf(rel, sizeof rel, "%s/%s", g->id, cm->file);
    st = synth_path(e.path, sizeof e.path, job->out_dir, rel, job->err, job->err_len);
    if (st != VXS_OK) return st;
    snprintf(rel, sizeof rel, "%s/%s", g->id, cm->times);
    st = synth_path(times_path, sizeof times_path, job->out_dir, rel, job->err, job->err_len);
    if (st != VXS_OK) return st;

    /* Timing and the forced drops (STREAM_TIMING); per-frame drop draws (STREAM_DROPS). */
    synth_rng_t rt, rd, rl;
    synth_rng_seed(&rt, w->seed, SYNTH_STREAM_CAMERA + 10 * (uint64_t)a + STREAM_TIMING);
    synth_rng_seed(&rd, w->seed, SYNTH_STREAM_CAMERA + 10 * (uint64_t)a + STREAM_DROPS);
    synth_rng_seed(&rl, w->seed, SYNTH_STREAM_CAMERA + 10 * (uint64_t)a + STREAM_LATENCY);
    const double period_ns = 1e9 / cm->fps;
    const int64_t phase_ns = (int64_t)(synth_rng_uniform(&rt) * period_ns);
    const int64_t end_ns = w->start_ns + w->duration_ns;
    uint64_t n = 0;
    while (frame_true_ns(w, phase_ns, period_ns, n) < end_ns) n++;
    uint64_t forced[FORCED_DROPS] = {0};
    if (w->duration_ns >= FORCED_DROPS_MIN_NS && n > 2 * FORCED_DROPS) {
        for (uint64_t i = 0; i < FORCED_DROPS; i++) { /* one in each third, never frame 0 */
            uint64_t lo = n * i / FORCED_DROPS, hi = n * (i + 1) / FORCED_DROPS;
            if (lo == 0) lo = 1;
            forced[i] = lo + (uint64_t)(synth_rng_uniform(&rt) * (double)(hi - lo));
        }
    }

    palette_t pal;
    palette_init(&pal);
    const size_t npix = (size_t)cm->width * (size_t)cm->height;
    uint8_t *img = vxs_malloc(npix);
    FILE *times = NULL;
    if (!img) {
        job_err(job, "%s: out of memory", e.path);
        return VXS_E_NOMEM;
    }
    st = enc_open(&e, cm);
    if (st != VXS_OK) goto done;
    times = fopen(times_path, "wb");
    if (!times) {
        job_err(job, "%s: cannot create: %s", times_path, strerror(errno));
        st = VXS_E_IO;
        goto done;
    }

    int64_t local_first = 0, last_pts = -1, next_report = w->start_ns + PROGRESS_EVERY_NS;
    uint64_t written = 0;
    for (uint64_t k = 0; k < n; k++) {
        const int64_t t = frame_true_ns(w, phase_ns, period_ns, k);
        int64_t stamp = t; /* the true time the logger stamps the frame */
        if (cm->stamp_latency_ms > 0.0) {
            const double ms = cm->stamp_latency_ms + cm->stamp_jitter_ms * synth_rng_normal(&rl);
            stamp += llround((ms > 1.0 ? ms : 1.0) * 1e6);
        }
        const int64_t local = synth_clock_local(&g->logger, stamp);
        bool dropped = synth_rng_uniform(&rd) < cm->drop_prob;
        for (int i = 0; i < FORCED_DROPS; i++) dropped = dropped || forced[i] == k;
        dropped = dropped && k > 0;
        const bool fault_drop = fp->on.camera_drops && a == fp->drop_agent &&
                                t >= fp->drop_start_ns && t < fp->drop_end_ns;
        dropped = dropped || fault_drop;
        int64_t pts = 0;
        if (!dropped) {
            if (written == 0) local_first = local;
            /* round((local - first) * 90000 / 1e9) in integers, half away from zero. */
            const int64_t d = local - local_first;
            pts = d >= 0 ? (d * 9 + 50000) / 100000 : -((-d * 9 + 50000) / 100000);
            if (pts <= last_pts) pts = last_pts + 1;
            last_pts = pts;

            synth_pose_t pose;
            view_t view;
            synth_pose(w, a, t, &pose);
            view_set(&view, cm, &pose);
            render_ground(&view, w, img);
            render_agents(&view, w, a, t, img);
            render_barcode(img, cm->width, cm->height, k, t);
            int rc = av_frame_make_writable(e.frame);
            if (rc < 0) {
                st = enc_fail(&e, "frame buffer", rc);
                goto done;
            }
            to_yuv420(&pal, img, cm->width, cm->height, e.frame);
            e.frame->pts = pts;
            st = enc_send(&e, e.frame);
            if (st != VXS_OK) goto done;
            if (fprintf(times, "%" PRId64 "\n", local) < 0) {
                job_err(job, "%s: write failed: %s", times_path, strerror(errno));
                st = VXS_E_IO;
                goto done;
            }
        }
        json_t *item = frame_item(g, k, t, stamp, local, dropped, written, pts);
        if (item && fault_drop) json_object_set_new(item, "fault", json_string("camera-drops"));
        st = synth_truth_item(job->truth, item);
        if (st != VXS_OK) {
            job_err(job, "truth.json: cannot write camera frame %" PRIu64 " of %s", k, g->id);
            goto done;
        }
        if (!dropped) written++;
        if (t >= next_report) {
            next_report += PROGRESS_EVERY_NS;
            if (vxs_progress_report(&job->progress, (uint64_t)(t - w->start_ns),
                                    (uint64_t)w->duration_ns) != VXS_OK) {
                job_err(job, "%s: canceled", e.path);
                st = VXS_E_CANCELED;
                goto done;
            }
        }
    }
done:
    /* On success this flushes the encoder and writes the MP4 index; on failure it only frees. */
    st_close = enc_close(&e, st == VXS_OK);
    if (st == VXS_OK) st = st_close;
    if (times) {
        const bool bad = ferror(times) != 0;
        if ((fclose(times) != 0 || bad) && st == VXS_OK) {
            job_err(job, "%s: write failed: %s", times_path, strerror(errno));
            st = VXS_E_IO;
        }
    }
    vxs_free(img);
    return st;
}

vxs_status_t synth_write_camera(const synth_job_t *job) {
    const synth_world_t *w = job->w;
    vxs_status_t st = synth_truth_section(job->truth, "camera_frames");
    if (st != VXS_OK) {
        job_err(job, "truth.json: cannot start the camera_frames section");
        return st;
    }
    for (size_t a = 0; a < w->n_agents && st == VXS_OK; a++)
        if (w->agents[a].camera.present) st = write_agent(job, a);
    return st;
}
