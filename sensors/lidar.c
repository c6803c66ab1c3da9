/*
 * lidar.c: the sweep reader. A capture in; sweep records (times, locators, counts) and IMU /
 * position records out in one streaming pass; a sweep's points computed on demand by re-reading
 * the packets its locator spans.
 *
 * Streams. Every LiDAR sensor in the capture is one stream: Velodyne streams are keyed by source
 * address (data and position packets of one unit share it); Ouster streams by source address
 * and payload size, so that two sensors sending to the same ports (ouster-sdk's
 * same_ports_legacy.pcap) stay apart, each matched to the metadata whose packet size fits.
 *
 * Velodyne sweeps. Each packet's first-block azimuth is unwrapped into a running azimuth U
 * (0.01 degree, counting whole turns; a device-time gap longer than half a turn adds the turns
 * the rotation rate says were missed). A point at firing azimuth a in a packet whose first block
 * is at a0 sits at u = U + (a - a0) mod 36000, and belongs to sweep floor((u - cut) / 36000): a
 * sweep starts with the first firing at or past the cut azimuth. A packet straddling the cut
 * belongs to both sweeps; each takes its own points. The record keeps the first packet's phase
 * (U - cut - 36000 k) so a fetch re-applies the same cut from the packets alone.
 *
 * Velodyne time. µs past the hour is resolved with the ±30 min rule against, in order: the
 * previous packet of the stream (carried forward), else the first $GPRMC found in the first
 * seconds of the capture (shifted by the capture time elapsed since), else the capture time.
 * A fetch resolves each packet against the sweep's start time, which gives the same hours.
 *
 * Limited field of view (vxs_lidar.h). The packet open when the window closes carries, after an
 * azimuth jump, the first blocks of the next window, fired a pause later: the index pass holds
 * such a packet until the next packet of its stream arrives, whose timestamp times those blocks
 * (vxs_velo_scan_next); a fetch reads on past the sweep's records for it alike, so both give the
 * same times. Without a next packet (end of the capture, one captured more than NEXT_MAX_NS
 * later, or one lost right after) those blocks keep the packet's time, a pause early. The
 * pause is not loss: after a jump the azimuth resumes where it showed; when the window closes
 * exactly on a packet boundary (no jump), a gap from about where the stream's jumps stopped to
 * about where they resumed, with a duration that fits the rotation, is a pause too (velo_pause;
 * before the first jump such a gap still counts as loss).
 *
 * Ouster sweeps are cut by frame_id; the device time is the column timestamp as sent.
 */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "vxs_core.h"
#include "vxs_core_int.h"
#include "vxs_lidar.h"
#include "vxs_sensors.h"
#include "pcap_int.h"

#define MAX_STREAMS 16
#define TURN 36000              /* 0.01 degree units per turn */
#define PRESCAN_RECORDS 20000   /* how far the $GPRMC pre-scan looks ... */
#define PRESCAN_NS 3000000000LL /* ... and for how long, on the capture clock */
#define ERR_LEN 768
#define MAX_GAP_TURNS 1048576.0   /* turns one gap may add (hostile timestamps) */
#define MAX_SWEEP_PACKETS 131072  /* a sweep is closed (partial) after this many packets: a
                                     sensor that does not turn, or a frame id that never
                                     changes, must not make one sweep of a whole drive */
#define NEXT_MAX_NS 2000000000LL  /* a packet with an azimuth jump is timed with the next packet
                                     of its stream only if that one was captured at most this
                                     long after it (capture clock; bounds a fetch's look-ahead) */
#define QCAP 8                    /* output queue: a packet adds its packet record and finishes
                                     at most two sweeps, and a delayed packet with a jump is
                                     accounted just before it (two more) */

typedef struct {
    bool open;
    uint64_t first_index, first_offset; /* locator of the first record used */
    uint64_t last_index;                /* last record used */
    vxs_time_t dev_start, dev_end;      /* point times (or packet times without points) */
    vxs_time_t cap_start, cap_end;
    uint32_t packets, missing, points, columns;
    int64_t sweep_no;                   /* Velodyne: floor((u - cut) / TURN); Ouster frame_id */
    int32_t phase;                      /* Velodyne: first packet's U - cut - TURN * sweep_no */
    int32_t az_first, az_last;          /* first / last point azimuth, 0.01 degree, -1 none */
    int64_t covered;                    /* azimuth swept, 0.01 degree */
    uint8_t ret_bits;
    bool cut_start;                     /* began at a cut (not at the capture start / a gap) */
} sweep_acc_t;

typedef struct {
    bool used;
    bool ouster;
    bool has_data;       /* Velodyne: data packets seen (else only position packets) */
    uint32_t sensor;
    uint8_t src[16];
    uint16_t dst_port;
    size_t payload_len;  /* Ouster: lidar payload size */
    /* Velodyne */
    vxs_velo_t *velo;
    uint8_t return_mode;
    uint8_t product;
    uint8_t pps;          /* last position packet's PPS status, 0xFF none */
    bool have_prev;
    vxs_time_t prev_dev;  /* device time of the data packet accounted last */
    uint16_t prev_a0;
    int64_t U;            /* running unwrapped azimuth of the previous packet's first block */
    double period_ns;     /* packet period estimate (EMA over regular intervals) */
    double adv_cdeg;      /* azimuth advance per packet estimate */
    int64_t first_sweep;  /* sweep number of the first sweep (numbering from 0) */
    int64_t last_k;       /* sweep of the previous packet's last point */
    uint64_t sweeps_emitted;
    bool config_error;    /* the decoder cannot be set up for this stream (reported once) */
    uint32_t last_closed_frame; /* Ouster: frame id of the sweep closed last */
    bool have_closed_frame;
    uint16_t prev_alast;  /* the previous packet's last block azimuth */
    bool prev_jump;       /* the previous packet's azimuth jumped inside it (limited field of
                             view: the sensor paused firing), so the device-time gap after it
                             is a pause, not lost packets */
    bool have_last;
    vxs_time_t last_dev;  /* device time of the last data packet accepted (pending included):
                             the reference of the ±30 min rule and of the order check */
    /* Limited field of view (vxs_lidar.h "Limited field of view"). A packet whose azimuth
     * jumps is accounted only when the next packet of the stream arrives, whose timestamp
     * times the blocks after the jump (at the end of the capture: without it). */
    bool pend;
    uint8_t pend_pkt[VXS_VELO_PACKET_SIZE];
    vxs_velo_header_t pend_h;
    vxs_time_t pend_t, pend_cap;
    uint64_t pend_idx, pend_off, pend_index; /* its locator and record number */
    /* The pause the jumps showed: where the azimuth stops and resumes (0.01 degree) and the
     * packets' regular step, so that a pause beginning exactly on a packet boundary (no jump
     * shows it) is told from loss. Unknown until the first jump. */
    bool have_pause;
    uint16_t pause_stop, pause_resume, pause_step;
    bool first_sweep_set;
    /* Ouster */
    const vxs_ouster_meta_t *meta;
    vxs_ouster_info_t oinfo;
    bool no_meta_reported;
    uint64_t unmatched;
    sweep_acc_t cur;
} stream_t;

struct vxs_lidar {
    char *path;
    const void *mem;        /* vxs_lidar_open_mem: the capture in memory (borrowed) */
    size_t mem_len;
    vxs_pcap_t *pcap;       /* index pass */
    vxs_pcap_t *fpcap;      /* fetch pass, opened on first fetch */
    vxs_lidar_options_t opt;
    vxs_velo_calib_t calib; /* copy of opt.velo_calib when given */
    bool has_calib;
    const vxs_ouster_meta_t **metas;
    vxs_limits_t lim;
    vxs_diag_sink_t diag;
    const vxs_diag_sink_t *diag_ptr;
    stream_t streams[MAX_STREAMS];
    size_t nstreams;
    bool streams_full_reported;
    /* $GPRMC anchor from the pre-scan */
    bool have_anchor;
    vxs_time_t anchor_dev, anchor_cap;
    vxs_record_t rec;       /* the record lent by vxs_lidar_next */
    vxs_record_t q[QCAP];   /* finished records waiting */
    size_t qhead, qlen;
    vxs_points_t scratch;   /* index pass: the points of the packet being read ... */
    vxs_points_t pscratch;  /* ... and of a delayed packet with a jump */
    vxs_points_t fscratch;  /* fetch: a packet read while one with a jump waits */
    vxs_lidar_counts_t counts;
    bool eof;
    size_t flush_next;     /* EOF: next stream whose open sweep to yield */
    char errmsg[ERR_LEN];
};

/* ---- helpers ------------------------------------------------------------------------------ */

static int32_t mod_turn(int64_t v) {
    int64_t m = v % TURN;
    return (int32_t)(m < 0 ? m + TURN : m);
}

/* sat_add / sat_sub: time arithmetic on values from untrusted captures, saturating instead of
 * overflowing (an extreme timestamp then simply fails the ±30 min resolution). */
static int64_t sat_add(int64_t a, int64_t b) {
    int64_t r;
    if (__builtin_add_overflow(a, b, &r)) return b > 0 ? INT64_MAX : INT64_MIN + 1;
    return r;
}

static int64_t sat_sub(int64_t a, int64_t b) {
    int64_t r;
    if (__builtin_sub_overflow(a, b, &r)) return b < 0 ? INT64_MAX : INT64_MIN + 1;
    return r;
}

static uint32_t add_sat32(uint32_t a, uint32_t b) { return a > UINT32_MAX - b ? UINT32_MAX : a + b; }

static int64_t floor_div(int64_t a, int64_t b) {
    int64_t q = a / b;
    return (a % b != 0 && ((a < 0) != (b < 0))) ? q - 1 : q;
}

#if defined(__GNUC__)
#define VXS_PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#define VXS_PRINTF(a, b)
#endif

static void report(vxs_lidar_t *l, uint64_t index, uint64_t offset, vxs_status_t st,
                   const char *fmt, ...) VXS_PRINTF(5, 6);

static void report(vxs_lidar_t *l, uint64_t index, uint64_t offset, vxs_status_t st,
                   const char *fmt, ...) {
    char detail[512];
    va_list ap;
    vxs_diag_t d;
    va_start(ap, fmt);
    vsnprintf(detail, sizeof detail, fmt, ap);
    va_end(ap);
    snprintf(l->errmsg, sizeof l->errmsg, "%s: packet %llu (byte offset %llu): %s", l->path,
             (unsigned long long)index + 1, (unsigned long long)offset, detail);
    d.file = l->path;
    d.unit = index + 1;
    d.offset = offset;
    d.status = st;
    d.msg = l->errmsg;
    vxs_diag_emit(l->diag_ptr, &d);
}

static void acc_reset(sweep_acc_t *a) {
    memset(a, 0, sizeof *a);
    a->dev_start = a->dev_end = a->cap_start = a->cap_end = VXS_TIME_NONE;
    a->az_first = a->az_last = -1;
}

/* acc_packet accounts one packet (its records [first..last]) into an open or new sweep. */
static void acc_packet(sweep_acc_t *a, uint64_t first_index, uint64_t first_offset,
                       uint64_t last_index, vxs_time_t cap) {
    if (!a->open) {
        a->open = true;
        a->first_index = first_index;
        a->first_offset = first_offset;
        a->cap_start = cap;
    }
    a->last_index = last_index;
    a->cap_end = cap;
    a->packets++;
}

static void acc_time(sweep_acc_t *a, vxs_time_t t) {
    if (a->dev_start == VXS_TIME_NONE || t < a->dev_start) a->dev_start = t;
    if (a->dev_end == VXS_TIME_NONE || t > a->dev_end) a->dev_end = t;
}

/* enqueue returns the next free slot of the output queue (never full: every packet adds at
 * most two records, plus two of a delayed packet accounted before it, and next() drains the
 * queue before reading on). */
static vxs_record_t *enqueue(vxs_lidar_t *l) {
    vxs_record_t *r = &l->q[(l->qhead + l->qlen) % QCAP];
    l->qlen++;
    return r;
}

/* emit turns a finished accumulator into a queued record. */
static void emit(vxs_lidar_t *l, stream_t *s, const sweep_acc_t *a, bool complete) {
    vxs_record_t *r = enqueue(l);
    vxs_sweep_summary_t *w = &r->u.sweep;
    vxs_record_init(r, VXS_REC_LIDAR_SWEEP);
    r->agent = l->opt.agent;
    r->sensor = s->sensor;
    r->capture_time = a->cap_start;
    r->device_time = a->dev_start;
    r->device_clock.kind = VXS_CLOCK_DEVICE;
    r->device_clock.agent = l->opt.agent;
    r->device_clock.sensor = s->sensor;
    r->loc.source = l->opt.source_index;
    r->loc.index = a->first_index;
    r->loc.offset = a->first_offset;
    r->loc.count = (uint32_t)(a->last_index - a->first_index + 1);
    w->device_end = a->dev_end;
    w->capture_end = a->cap_end;
    w->az_start_deg = a->az_first < 0 ? NAN : a->az_first / 100.0;
    w->az_end_deg = a->az_last < 0 ? NAN : a->az_last / 100.0;
    w->az_coverage_deg = (double)(a->covered > TURN ? TURN : a->covered) / 100.0;
    w->packets = a->packets;
    w->packets_missing = a->missing;
    w->points = a->points;
    w->columns = a->columns;
    w->return_mode = a->ret_bits;
    w->pps = s->ouster ? 0xFF : s->pps;
    w->phase_cdeg = a->phase;
    /* Sweeps are numbered per stream in the order they complete; Ouster keeps its frame id
     * beside the number (a fetch selects the frame's packets by it). */
    r->seq = s->sweeps_emitted++;
    w->frame_id = s->ouster ? (uint32_t)a->sweep_no : (uint32_t)r->seq;
    r->has_seq = true;
    w->complete = complete;
    l->counts.sweeps++;
}

/* ---- streams ------------------------------------------------------------------------------ */

static stream_t *find_stream(vxs_lidar_t *l, bool ouster, const uint8_t src[16], size_t plen) {
    for (size_t i = 0; i < l->nstreams; i++) {
        stream_t *s = &l->streams[i];
        if (s->ouster == ouster && memcmp(s->src, src, 16) == 0 &&
            (!ouster || s->payload_len == plen))
            return s;
    }
    return NULL;
}

static stream_t *new_stream(vxs_lidar_t *l, bool ouster, const uint8_t src[16], uint16_t dport,
                            size_t plen, uint64_t index, uint64_t offset) {
    stream_t *s;
    if (l->nstreams == MAX_STREAMS) {
        if (!l->streams_full_reported) {
            report(l, index, offset, VXS_E_LIMIT,
                   "more than %d LiDAR streams in one capture; further ones are ignored",
                   MAX_STREAMS);
            l->streams_full_reported = true;
        }
        return NULL;
    }
    s = &l->streams[l->nstreams];
    memset(s, 0, sizeof *s);
    s->used = true;
    s->ouster = ouster;
    memcpy(s->src, src, 16);
    s->dst_port = dport;
    s->payload_len = plen;
    s->pps = 0xFF;
    s->sensor = l->opt.sensor + (uint32_t)l->nstreams;
    acc_reset(&s->cur);
    l->nstreams++;
    return s;
}

/* device_record queues a record of `kind` of stream `s` (NULL: the first sensor number) for the
 * packet whose records start at idx/off, timed on the device clock; the caller fills the
 * summary. */
static vxs_record_t *device_record(vxs_lidar_t *l, vxs_record_kind_t kind, const stream_t *s,
                                   const vxs_packet_t *pkt, vxs_time_t device_time, uint64_t idx,
                                   uint64_t off) {
    vxs_record_t *r = enqueue(l);
    vxs_record_init(r, kind);
    r->agent = l->opt.agent;
    r->sensor = s ? s->sensor : l->opt.sensor;
    r->capture_time = pkt->ts;
    r->device_time = device_time;
    r->device_clock.kind = VXS_CLOCK_DEVICE;
    r->device_clock.agent = l->opt.agent;
    r->device_clock.sensor = r->sensor;
    r->loc.source = l->opt.source_index;
    r->loc.index = idx;
    r->loc.offset = off;
    r->loc.count = (uint32_t)(pkt->index - idx + 1);
    return r;
}

/* imu_record queues an IMU / position record; the caller fills the summary. */
static vxs_record_t *imu_record(vxs_lidar_t *l, const stream_t *s, const vxs_packet_t *pkt,
                                vxs_time_t device_time, uint64_t idx, uint64_t off) {
    return device_record(l, VXS_REC_IMU, s, pkt, device_time, idx, off);
}

/* packet_record queues the VXS_REC_LIDAR_PACKET record of a data packet of stream `s`, when the
 * options ask for them: the capture time against the device time it left the sensor (`device`,
 * its last firing), the clock estimation's sample. */
static void packet_record(vxs_lidar_t *l, const stream_t *s, const vxs_packet_t *pkt,
                          const vxs_pkt_info_t *pl, vxs_time_t device, uint64_t idx,
                          uint64_t off) {
    if (!l->opt.packet_records) return;
    vxs_record_t *r = device_record(l, VXS_REC_LIDAR_PACKET, s, pkt, device, idx, off);
    vxsi_packet_summary(&r->u.packet, pkt, pl);
}

/* ---- Velodyne ----------------------------------------------------------------------------- */

/* velo_stream finds or starts the Velodyne stream of a packet's source address (data and
 * position packets of one unit share it); NULL when the stream table is full. */
static stream_t *velo_stream(vxs_lidar_t *l, const vxs_pkt_info_t *pl, uint64_t idx,
                             uint64_t off) {
    stream_t *s = find_stream(l, false, pl->src_addr, 0);
    return s ? s : new_stream(l, false, pl->src_addr, pl->dst_port, 0, idx, off);
}

static vxs_status_t velo_ensure_decoder(vxs_lidar_t *l, stream_t *s, uint64_t index,
                                        uint64_t offset) {
    vxs_velo_config_t cfg;
    char err[256] = "";
    vxs_status_t st;
    if (s->velo) return VXS_OK;
    memset(&cfg, 0, sizeof cfg);
    cfg.model = l->opt.velo_model;
    cfg.calib = l->has_calib ? &l->calib : NULL;
    cfg.min_range_m = l->opt.min_range_m;
    cfg.max_range_m = l->opt.max_range_m;
    st = vxs_velo_create(&s->velo, &cfg, err, sizeof err);
    if (st != VXS_OK) report(l, index, offset, st, "Velodyne decoder: %s", err);
    return st;
}

/* velo_near is the reference the ±30 min rule resolves a packet against. */
static vxs_time_t velo_near(const vxs_lidar_t *l, const stream_t *s, vxs_time_t cap) {
    if (s->have_last) return s->last_dev;
    if (l->have_anchor && cap != VXS_TIME_NONE)
        return sat_add(l->anchor_dev, sat_sub(cap, l->anchor_cap));
    return cap;
}

static void velo_position(vxs_lidar_t *l, const vxs_packet_t *pkt, const vxs_pkt_info_t *pl,
                          uint64_t idx, uint64_t off) {
    vxs_velo_position_t pos;
    vxs_status_t st = vxs_velo_parse_position(&pos, pl->payload, pl->payload_len);
    stream_t *s;
    vxs_record_t *r;
    vxs_time_t t = VXS_TIME_NONE;
    if (st != VXS_OK) {
        report(l, idx, off, st, "Velodyne position packet of %zu bytes", pl->payload_len);
        l->counts.bad_packets++;
        return;
    }
    s = velo_stream(l, pl, idx, off);
    if (s) s->pps = pos.pps;
    l->counts.position_packets++;
    if (pos.has_rmc_time && pos.rmc_valid) {
        if (vxs_time_from_toh(&t, pos.usec_toh, pos.rmc_time) != VXS_OK) t = VXS_TIME_NONE;
    }
    if (t == VXS_TIME_NONE && s && vxs_time_from_toh(&t, pos.usec_toh,
                                                     velo_near(l, s, pkt->ts)) != VXS_OK)
        t = VXS_TIME_NONE;
    r = imu_record(l, s, pkt, t, idx, off);
    for (int i = 0; i < 3; i++) r->u.imu.accel_mps2[i] = r->u.imu.gyro_dps[i] = NAN;
    r->u.imu.lat_deg = pos.lat_deg;
    r->u.imu.lon_deg = pos.lon_deg;
    r->u.imu.pps = pos.pps;
    r->u.imu.has_nmea_time = pos.has_rmc_time && pos.rmc_valid;
    r->u.imu.fix_time = r->u.imu.has_nmea_time ? pos.rmc_time : VXS_TIME_NONE;
    r->u.imu.speed_mps = pos.speed_mps;
    r->u.imu.course_deg = pos.course_deg;
}

/* velo_point_sweep is the sweep number of a point at azimuth `az` in a packet whose first block
 * (azimuth a0) sits at running azimuth U. */
static int64_t velo_point_sweep(int64_t U, uint16_t a0, uint16_t az, int64_t cut) {
    int64_t u = U + mod_turn((int64_t)az - a0);
    return floor_div(u - cut, TURN);
}

static bool velo_complete(const stream_t *s, const sweep_acc_t *a) {
    double need = TURN - 2.0 * (s->adv_cdeg > 0 ? s->adv_cdeg : 100.0);
    return a->cut_start && a->missing == 0 && (double)a->covered >= need;
}

/* velo_account adds this packet's share of sweep k (its points `pts`) to the open
 * accumulator. `whole`: every point of the packet is in sweep k (the common case: no per-point
 * test needed). */
static void velo_account(stream_t *s, sweep_acc_t *a, const vxs_points_t *pts, int64_t k,
                         int64_t U, const vxs_velo_header_t *h, vxs_time_t t_pkt, int64_t cut,
                         bool whole) {
    int64_t start = U - cut - (int64_t)TURN * k;
    int64_t span = s->adv_cdeg > 0 ? (int64_t)llround(s->adv_cdeg)
                                    : mod_turn((int64_t)h->az_last - h->az_first);
    int64_t lo = start < 0 ? 0 : start, hi = start + span > TURN ? TURN : start + span;
    const vxs_point_t *p = pts->pts, *end = p + pts->len;
    vxs_time_t tmin = a->dev_start, tmax = a->dev_end;
    uint8_t bits = a->ret_bits;
    int32_t first = -1, last = -1;
    uint32_t n = 0;
    for (; p < end; p++) {
        if (!whole && velo_point_sweep(U, h->az_first, p->azimuth, cut) != k) continue;
        n++;
        if (tmin == VXS_TIME_NONE || p->t_ns < tmin) tmin = p->t_ns;
        if (tmax == VXS_TIME_NONE || p->t_ns > tmax) tmax = p->t_ns;
        bits |= p->ret;
        if (first < 0) first = p->azimuth;
        last = p->azimuth;
    }
    a->points += n;
    a->dev_start = tmin;
    a->dev_end = tmax;
    a->ret_bits = bits;
    if (a->az_first < 0) a->az_first = first;
    if (last >= 0) a->az_last = last;
    /* Azimuth this packet sweeps inside sweep k: one regular advance from its first block. */
    if (hi > lo) a->covered += hi - lo;
    if (a->dev_start == VXS_TIME_NONE) acc_time(a, t_pkt);
}

/* near_az says whether azimuths a and b (0.01 degree) are at most tol apart, across 0. */
static bool near_az(int64_t a, int64_t b, int64_t tol) {
    int32_t d = mod_turn(a - b);
    return d <= tol || TURN - d <= tol;
}

/* velo_pause says whether the device-time gap `dt` and azimuth advance `adv` (first block to
 * first block) before packet h are a limited field of view's pause that began exactly on a
 * packet boundary, so that no packet's azimuth jumped to show it: the previous packet ended
 * within a couple of steps of where the stream's pauses stop, this one begins within a couple
 * of steps of where they resume, and the time fits the rotation rate over that azimuth. It
 * needs a pause seen in a jump before: until then (the first turns of a capture) such a gap
 * still counts as loss. Loss at either edge of the window moves an azimuth by a whole packet
 * and still counts. */
static bool velo_pause(const stream_t *s, const vxs_velo_header_t *h, int64_t dt, int64_t adv) {
    int64_t tol = 2 * (int64_t)s->pause_step + 1;
    if (!s->have_pause || !(s->period_ns > 0 && s->adv_cdeg > 0)) return false;
    if (!near_az(s->prev_alast, s->pause_stop, tol) || !near_az(h->az_first, s->pause_resume, tol))
        return false;
    double expect = (double)adv / s->adv_cdeg * s->period_ns;
    return fabs((double)dt - expect) <= 0.1 * expect + 2.0 * s->period_ns;
}

/* velo_use accounts one accepted data packet (header h, device time t_pkt, its points pts,
 * its azimuth jump j; locator idx/off, last record `index`, capture time `cap`): unwrapping,
 * loss, the sweeps it touches. Packets come here in stream order. */
static void velo_use(vxs_lidar_t *l, stream_t *s, const vxs_velo_header_t *hp, vxs_time_t t_pkt,
                     const vxs_points_t *pts, const vxs_velo_jump_t *j, uint64_t idx,
                     uint64_t off, uint64_t index, vxs_time_t cap) {
    const vxs_velo_header_t h = *hp;
    int64_t cut = (int64_t)llround(l->opt.cut_azimuth_deg * 100.0);
    int64_t U, s_lo, s_hi;
    uint32_t gap_missing = 0;
    bool turned = false; /* whole turns were added for a gap */

    /* Unwrap: azimuth advance since the previous packet, plus whole turns a long device-time
     * gap implies. Gaps also count missing packets (time and azimuth, whichever says more). */
    if (!s->have_prev) {
        U = h.az_first;
    } else {
        int64_t dt = t_pkt - s->prev_dev;
        int64_t adv = mod_turn((int64_t)h.az_first - s->prev_a0);
        bool paused = false; /* a field-of-view pause began on a packet boundary */
        if (s->period_ns > 0 && s->adv_cdeg > 0) {
            double turn_ns = s->period_ns * TURN / s->adv_cdeg;
            if ((double)dt > turn_ns / 2) {
                double turns = ((double)dt / turn_ns) - (double)adv / TURN;
                if (turns > 0.5) {
                    adv += (int64_t)llround(turns < MAX_GAP_TURNS ? turns : MAX_GAP_TURNS) * TURN;
                    turned = true;
                }
            }
            if (s->prev_jump &&
                (double)mod_turn((int64_t)h.az_first - s->prev_alast) <= 1.5 * s->adv_cdeg) {
                /* The pause began inside the previous packet and the azimuth carries on from
                 * where it resumed: nothing was lost. */
            } else if (!turned && velo_pause(s, &h, dt, adv)) {
                paused = true;
            } else if ((double)dt > 1.5 * s->period_ns || (double)adv > 1.5 * s->adv_cdeg) {
                double by_t = (double)dt / s->period_ns, by_a = (double)adv / s->adv_cdeg;
                double m = by_t > by_a ? by_t : by_a;
                gap_missing = m > 1.5 ? (uint32_t)llround(m) - 1 : 0;
            }
        }
        /* The regular period and advance: a slow average over intervals that are not gaps. */
        if (dt > 0 && adv > 0 && gap_missing == 0 && !s->prev_jump && !paused) {
            if (s->period_ns <= 0) {
                s->period_ns = (double)dt;
                s->adv_cdeg = (double)adv;
            } else {
                s->period_ns += ((double)dt - s->period_ns) / 16.0;
                s->adv_cdeg += ((double)adv - s->adv_cdeg) / 16.0;
            }
        }
        U = s->U + adv;
        /* After missed turns this packet must begin a new sweep: a fetch, which sees only the
         * packets, cannot know about the turns, so no sweep may span such a gap. */
        if (turned && s->cur.open)
            while (floor_div(U - cut, TURN) <= s->cur.sweep_no) U += TURN;
    }

    /* Sweeps this packet touches: its first block's and its points'. A packet spans less than
     * a turn, so at most two. */
    {
        int32_t maxrel = mod_turn((int64_t)h.az_last - h.az_first);
        for (size_t i = 0; i < pts->len; i++) {
            int32_t rel = (int32_t)pts->pts[i].azimuth - h.az_first;
            if (rel < 0) rel += TURN;
            if (rel > maxrel) maxrel = rel;
        }
        s_lo = floor_div(U - cut, TURN);
        s_hi = floor_div(U + maxrel - cut, TURN);
    }
    if (s_hi > s_lo + 1) s_hi = s_lo + 1;
    if (!s->first_sweep_set) {
        s->first_sweep = s_lo;
        s->first_sweep_set = true;
    }
    for (int64_t k = s_lo; k <= s_hi; k++) {
        sweep_acc_t *a = &s->cur;
        if (a->open && a->sweep_no == k && a->packets >= MAX_SWEEP_PACKETS) {
            emit(l, s, a, false);
            acc_reset(a);
        }
        if (a->open && a->sweep_no != k) {
            /* Closed by a cut only when this packet carries on from it without a gap. */
            bool closed = k == a->sweep_no + 1 && gap_missing == 0;
            emit(l, s, a, closed && velo_complete(s, a));
            acc_reset(a);
        }
        if (!a->open) {
            acc_packet(a, idx, off, index, cap);
            a->sweep_no = k;
            a->phase = (int32_t)(U - cut - (int64_t)TURN * k);
            a->cut_start = k > s_lo || (s->have_prev && s->last_k == k - 1 && gap_missing == 0);
            a->missing = k == s_lo ? gap_missing : 0;
        } else {
            a->last_index = index;
            a->cap_end = cap;
            a->packets++;
            if (k == s_lo) a->missing = add_sat32(a->missing, gap_missing);
        }
        velo_account(s, a, pts, k, U, &h, t_pkt, cut, s_lo == s_hi);
    }
    s->last_k = s_hi;
    s->prev_alast = h.az_last;
    s->prev_jump = j->block >= 0;
    if (j->block >= 0) {
        s->have_pause = true;
        s->pause_stop = j->az_stop;
        s->pause_resume = j->az_resume;
        s->pause_step = j->step;
    }
    s->have_prev = true;
    s->prev_dev = t_pkt;
    s->prev_a0 = h.az_first;
    s->U = U;
}

/* velo_next_of is what the decoder may use of the packet (header h, device time t, capture
 * time cap) that follows a packet with a jump captured at pend_cap: nothing when there is no
 * such packet or it came too long after. The index pass and fetches apply the same rule. */
static vxs_velo_next_t velo_next_of(vxs_time_t pend_cap, const vxs_velo_header_t *h,
                                    vxs_time_t t, vxs_time_t cap) {
    vxs_velo_next_t nx = {VXS_TIME_NONE, -1};
    if (h && pend_cap != VXS_TIME_NONE && cap != VXS_TIME_NONE &&
        sat_sub(cap, pend_cap) <= NEXT_MAX_NS) {
        nx.t = t;
        nx.az = h->az_first;
    }
    return nx;
}

/* velo_pending accounts the stream's delayed packet with a jump, now that the next packet of
 * the stream (h, t, cap; h NULL at the end of the capture) is known. */
static void velo_pending(vxs_lidar_t *l, stream_t *s, const vxs_velo_header_t *h, vxs_time_t t,
                         vxs_time_t cap) {
    vxs_velo_next_t nx = velo_next_of(s->pend_cap, h, t, cap);
    vxs_velo_jump_t j;
    vxs_status_t st;
    s->pend = false;
    l->pscratch.len = 0;
    st = vxs_velo_scan_next(s->velo, &l->pscratch, s->pend_pkt, sizeof s->pend_pkt, s->pend_t,
                            &nx, &j);
    if (st != VXS_OK) { /* it decoded when it came, so only memory can fail here */
        report(l, s->pend_idx, s->pend_off, st, "Velodyne data packet: %s", vxs_status_name(st));
        l->counts.lidar_packets--;
        l->counts.bad_packets++;
        return;
    }
    velo_use(l, s, &s->pend_h, s->pend_t, &l->pscratch, &j, s->pend_idx, s->pend_off,
             s->pend_index, s->pend_cap);
}

/* velo_data handles one Velodyne data packet; finished sweeps go to the output queue. */
static void velo_data(vxs_lidar_t *l, const vxs_packet_t *pkt, const vxs_pkt_info_t *pl,
                      uint64_t idx, uint64_t off) {
    vxs_velo_header_t h;
    vxs_velo_jump_t j;
    stream_t *s;
    vxs_status_t st;
    vxs_time_t t_pkt;

    st = vxs_velo_parse_header(&h, pl->payload, pl->payload_len);
    if (st != VXS_OK) {
        report(l, idx, off, st, "malformed Velodyne data packet (%zu bytes)", pl->payload_len);
        l->counts.bad_packets++;
        return;
    }
    s = velo_stream(l, pl, idx, off);
    if (!s) {
        l->counts.other_packets++;
        return;
    }
    if (!s->has_data) {
        s->has_data = true;
        s->dst_port = pl->dst_port;
        s->return_mode = h.return_mode;
        s->product = h.product;
        l->counts.streams++;
    }
    if (s->config_error) {
        l->counts.bad_packets++; /* covered by the one report below */
        return;
    }
    if (velo_ensure_decoder(l, s, idx, off) != VXS_OK) {
        s->config_error = true;
        l->counts.config_errors++;
        l->counts.bad_packets++;
        return;
    }
    st = vxs_time_from_toh(&t_pkt, h.usec_toh, velo_near(l, s, pkt->ts));
    if (st != VXS_OK) {
        report(l, idx, off, st, "Velodyne timestamp %u µs past the hour is out of range",
               h.usec_toh);
        l->counts.bad_packets++;
        return;
    }
    /* Each point's azimuth, time and return, for the cut and the counts. */
    l->scratch.len = 0;
    st = vxs_velo_scan_next(s->velo, &l->scratch, pl->payload, pl->payload_len, t_pkt, NULL, &j);
    if (st != VXS_OK && vxs_velo_errmsg(s->velo)[0] != '\0') {
        /* The tables could not be built for the model this packet names: a configuration
         * error, reported once; every packet of the stream is skipped and counted. */
        report(l, idx, off, st, "%s; every packet of this Velodyne stream is skipped",
               vxs_velo_errmsg(s->velo));
        s->config_error = true;
        l->counts.config_errors++;
        l->counts.bad_packets++;
        return;
    }
    if (st != VXS_OK) {
        report(l, idx, off, st, "Velodyne data packet does not decode as %s: %s",
               vxs_velo_model_name(vxs_velo_get_model(s->velo)), vxs_status_name(st));
        l->counts.bad_packets++;
        return;
    }
    l->counts.lidar_packets++;
    if (s->have_last && t_pkt < s->last_dev) {
        /* The device clock went back: a packet captured out of order (or a duplicate). It is
         * reported and skipped, here and by fetches alike, so sweeps stay consistent. */
        report(l, idx, off, VXS_E_MALFORMED,
               "Velodyne data packet out of order: its timestamp is %lld µs before the previous "
               "packet's; skipped",
               (long long)((s->last_dev - t_pkt) / 1000));
        l->counts.bad_packets++;
        return;
    }
    s->have_last = true;
    s->last_dev = t_pkt;
    /* a packet whose azimuth jumps leaves after the sensor's pause: its capture says nothing
     * about the clocks */
    if (j.block < 0)
        packet_record(l, s, pkt, pl,
                      t_pkt + vxs_velo_firing_offset_ns(vxs_velo_get_model(s->velo),
                                                        h.return_mode, 11, 31),
                      idx, off);
    /* A delayed packet with a jump is accounted first, timed by this one. */
    if (s->pend) velo_pending(l, s, &h, t_pkt, pkt->ts);
    if (j.block >= 0) {
        /* This packet's azimuth jumps: it waits for the next packet of the stream. */
        s->pend = true;
        memcpy(s->pend_pkt, pl->payload, sizeof s->pend_pkt);
        s->pend_h = h;
        s->pend_t = t_pkt;
        s->pend_cap = pkt->ts;
        s->pend_idx = idx;
        s->pend_off = off;
        s->pend_index = pkt->index;
        return;
    }
    velo_use(l, s, &h, t_pkt, &l->scratch, &j, idx, off, pkt->index, pkt->ts);
}

/* ---- Ouster ------------------------------------------------------------------------------- */

/* meta_used says whether another stream already decodes with `m`. */
static bool meta_used(const vxs_lidar_t *l, const vxs_ouster_meta_t *m) {
    for (size_t i = 0; i < l->nstreams; i++)
        if (l->streams[i].ouster && l->streams[i].meta == m) return true;
    return false;
}

/* ouster_match picks the metadata of a new stream: its packet size and port must fit; among
 * those, profile packets carrying a serial number and initialization id pick the metadata
 * that names them, and otherwise metadata no other stream uses yet is preferred. Two sensors
 * of one model in legacy format cannot be told apart by their packets: *ambiguous is set so
 * the caller says so. */
static const vxs_ouster_meta_t *ouster_match(const vxs_lidar_t *l, const vxs_pkt_info_t *pl,
                                             vxs_ouster_info_t *info, bool *ambiguous) {
    const vxs_ouster_meta_t *fit = NULL, *unused = NULL;
    size_t nfit = 0, nunused = 0;
    *ambiguous = false;
    for (size_t i = 0; i < l->opt.ouster_meta_count; i++) {
        vxs_ouster_info_t in;
        vxs_ouster_header_t h;
        vxs_ouster_meta_get_info(l->metas[i], &in);
        if (in.lidar_packet_size != pl->payload_len ||
            (in.udp_port_lidar != 0 && in.udp_port_lidar != pl->dst_port))
            continue;
        if (in.profile != VXS_OUSTER_LEGACY && in.prod_sn != 0 &&
            vxs_ouster_parse_header(&h, l->metas[i], pl->payload, pl->payload_len) == VXS_OK &&
            h.prod_sn == in.prod_sn && (in.init_id == 0 || h.init_id == in.init_id)) {
            *info = in;
            return l->metas[i];
        }
        nfit++;
        if (!fit) fit = l->metas[i];
        if (!meta_used(l, l->metas[i])) {
            nunused++;
            if (!unused) unused = l->metas[i];
        }
    }
    const vxs_ouster_meta_t *m = unused ? unused : fit;
    *ambiguous = unused ? nunused > 1 : nfit > 0;
    if (m) vxs_ouster_meta_get_info(m, info);
    return m;
}

/* window_width is the number of columns the metadata's column window holds (it may wrap
 * through column 0). */
static uint32_t window_width(const vxs_ouster_info_t *in) {
    if (in->column_first <= in->column_last) return in->column_last - in->column_first + 1;
    return in->columns_per_frame - in->column_first + in->column_last + 1;
}

static bool ouster_complete(const stream_t *s, const sweep_acc_t *a) {
    return a->columns >= window_width(&s->oinfo) && a->missing == 0;
}

static void ouster_finish_missing(const stream_t *s, sweep_acc_t *a) {
    uint32_t cpp = s->oinfo.columns_per_packet ? s->oinfo.columns_per_packet : 16;
    uint32_t want = (window_width(&s->oinfo) + cpp - 1) / cpp;
    a->missing = a->packets < want ? want - a->packets : 0;
}

static void ouster_data(vxs_lidar_t *l, const vxs_packet_t *pkt, const vxs_pkt_info_t *pl,
                        uint64_t idx, uint64_t off) {
    stream_t *s = find_stream(l, true, pl->src_addr, pl->payload_len);
    vxs_ouster_header_t h;
    vxs_status_t st;
    if (!s) {
        s = new_stream(l, true, pl->src_addr, pl->dst_port, pl->payload_len, idx, off);
        if (!s) {
            l->counts.other_packets++;
            return;
        }
        bool ambiguous;
        s->meta = ouster_match(l, pl, &s->oinfo, &ambiguous);
        l->counts.streams++;
        if (s->meta && ambiguous) {
            char a[VXS_ADDR_STRLEN];
            vxs_log(VXS_LOG_WARN,
                    "%s: Ouster packets from %s: several metadata files fit %zu-byte packets; "
                    "using %s %llu (give the sensors' metadata in the order they first appear)",
                    l->path, vxs_addr_format(a, sizeof a, pl->src_addr), pl->payload_len,
                    s->oinfo.prod_line, (unsigned long long)s->oinfo.prod_sn);
        }
    }
    if (!s->meta) {
        s->unmatched++;
        l->counts.bad_packets++;
        if (!s->no_meta_reported) {
            char a[VXS_ADDR_STRLEN];
            report(l, idx, off, VXS_E_NOTFOUND,
                   "Ouster lidar packets of %zu bytes from %s match no metadata given "
                   "(--meta FILE.json); they are counted, not decoded",
                   pl->payload_len, vxs_addr_format(a, sizeof a, pl->src_addr));
            s->no_meta_reported = true;
        }
        return;
    }
    st = vxs_ouster_parse_header(&h, s->meta, pl->payload, pl->payload_len);
    if (st != VXS_OK) {
        report(l, idx, off, st, "malformed Ouster lidar packet (%zu bytes)", pl->payload_len);
        l->counts.bad_packets++;
        return;
    }
    if (s->cur.open && (uint32_t)s->cur.sweep_no != h.frame_id && s->have_closed_frame &&
        h.frame_id == s->last_closed_frame) {
        /* A late packet of the frame already closed: reopening it would split the current
         * frame in two. Reported and skipped (a fetch filters by frame id alike). */
        report(l, idx, off, VXS_E_MALFORMED,
               "Ouster lidar packet of frame %u arrived after frame %u had begun; skipped",
               h.frame_id, (unsigned)s->cur.sweep_no);
        l->counts.bad_packets++;
        return;
    }
    l->counts.lidar_packets++;
    if (h.columns_valid > 0) packet_record(l, s, pkt, pl, (vxs_time_t)h.ts_last, idx, off);
    if (s->cur.open && ((uint32_t)s->cur.sweep_no != h.frame_id ||
                        s->cur.packets >= MAX_SWEEP_PACKETS)) {
        ouster_finish_missing(s, &s->cur);
        emit(l, s, &s->cur, ouster_complete(s, &s->cur));
        s->last_closed_frame = (uint32_t)s->cur.sweep_no;
        s->have_closed_frame = true;
        acc_reset(&s->cur);
    }
    {
        sweep_acc_t *a = &s->cur;
        if (!a->open) {
            acc_packet(a, idx, off, pkt->index, pkt->ts);
            a->sweep_no = h.frame_id;
            a->cut_start = true;
        } else {
            a->last_index = pkt->index;
            a->cap_end = pkt->ts;
            a->packets++;
        }
        if (h.columns_valid > 0) {
            acc_time(a, (vxs_time_t)h.ts_first);
            acc_time(a, (vxs_time_t)h.ts_last);
            if (a->az_first < 0) a->az_first = (int32_t)((uint64_t)h.mid_first * TURN /
                                                         s->oinfo.columns_per_frame);
            a->az_last = (int32_t)((uint64_t)h.mid_last * TURN / s->oinfo.columns_per_frame);
            /* Points counted by the decoder's own rule (range != 0), without XYZ. */
            a->points += vxs_ouster_count_points(s->meta, &a->ret_bits, pl->payload,
                                                 pl->payload_len);
            a->columns += h.columns_valid;
            a->covered = (int64_t)a->columns * TURN / s->oinfo.columns_per_frame;
        }
    }
}

static void ouster_imu(vxs_lidar_t *l, const vxs_packet_t *pkt, const vxs_pkt_info_t *pl,
                       uint64_t idx, uint64_t off) {
    vxs_ouster_imu_t imu;
    vxs_record_t *r;
    stream_t *s = NULL;
    if (vxs_ouster_parse_imu(&imu, pl->payload, pl->payload_len) != VXS_OK) {
        report(l, idx, off, VXS_E_MALFORMED, "malformed Ouster IMU packet (%zu bytes)",
               pl->payload_len);
        l->counts.bad_packets++;
        return;
    }
    for (size_t i = 0; i < l->nstreams; i++)
        if (l->streams[i].ouster && memcmp(l->streams[i].src, pl->src_addr, 16) == 0)
            s = &l->streams[i];
    l->counts.position_packets++;
    r = imu_record(l, s, pkt, (vxs_time_t)imu.sys_ts, idx, off);
    for (int i = 0; i < 3; i++) {
        r->u.imu.accel_mps2[i] = (double)imu.accel_g[i] * 9.80665;
        r->u.imu.gyro_dps[i] = (double)imu.gyro_dps[i];
    }
    r->u.imu.lat_deg = r->u.imu.lon_deg = NAN;
    r->u.imu.pps = 0xFF;
    r->u.imu.fix_time = VXS_TIME_NONE;
    r->u.imu.speed_mps = r->u.imu.course_deg = NAN;
}

/* ---- open / next -------------------------------------------------------------------------- */

void vxs_lidar_options_init(vxs_lidar_options_t *o) {
    if (!o) return;
    memset(o, 0, sizeof *o);
    o->velo_model = VXS_VELO_AUTO;
}

static void silent_diag(void *user, const vxs_diag_t *d) {
    (void)user;
    (void)d;
}

/* open_pcap opens another reader on the same capture (file or memory). */
static vxs_status_t open_pcap(const vxs_lidar_t *l, vxs_pcap_t **out, const vxs_diag_sink_t *diag,
                              char *err, size_t err_len) {
    if (l->mem)
        return vxs_pcap_open_mem(out, l->mem, l->mem_len, l->path, &l->lim, diag, err, err_len);
    return vxs_pcap_open_file(out, l->path, &l->lim, diag, err, err_len);
}

/* prescan looks for the first $GPRMC in the first seconds of the capture: it fixes the hour of
 * every Velodyne timestamp from the start, even before the first position packet. */
static void prescan(vxs_lidar_t *l) {
    vxs_pcap_t *p = NULL;
    const vxs_packet_t *pkt;
    vxs_diag_sink_t quiet = {silent_diag, NULL};
    vxs_time_t t0 = VXS_TIME_NONE;
    if (open_pcap(l, &p, &quiet, NULL, 0) != VXS_OK) return;
    for (int n = 0; n < PRESCAN_RECORDS && vxs_pcap_next(p, &pkt) == VXS_OK; n++) {
        vxs_pkt_class_info_t c;
        const vxs_pkt_info_t *pl;
        vxs_velo_position_t pos;
        if (pkt->ts == VXS_TIME_NONE) continue;
        if (t0 == VXS_TIME_NONE) t0 = pkt->ts;
        if (sat_sub(pkt->ts, t0) > PRESCAN_NS) break;
        vxs_classify(&c, pkt);
        if (c.cls != VXS_CLS_VELODYNE_POSITION) continue;
        pl = vxs_packet_payload(pkt);
        /* Status 'V' (no fix): the receiver's date and time may be a default; not an anchor. */
        if (!pl || vxs_velo_parse_position(&pos, pl->payload, pl->payload_len) != VXS_OK ||
            !pos.has_rmc_time || !pos.rmc_valid)
            continue;
        if (vxs_time_from_toh(&l->anchor_dev, pos.usec_toh, pos.rmc_time) == VXS_OK) {
            l->anchor_cap = pkt->ts;
            l->have_anchor = true;
            break;
        }
    }
    vxs_pcap_close(p);
}

static vxs_status_t open_common(vxs_lidar_t **out, const char *path, const void *mem,
                                size_t mem_len, const vxs_lidar_options_t *opt, char *err,
                                size_t err_len) {
    vxs_lidar_t *l;
    vxs_status_t st;
    if (!out || !path) return VXS_E_ARG;
    *out = NULL;
    l = vxs_calloc(1, sizeof *l);
    if (!l) return VXS_E_NOMEM;
    l->mem = mem;
    l->mem_len = mem_len;
    if (opt)
        l->opt = *opt;
    else
        vxs_lidar_options_init(&l->opt);
    if (l->opt.limits)
        l->lim = *l->opt.limits;
    else
        vxs_limits_default(&l->lim);
    l->opt.limits = NULL;
    if (l->opt.diag) {
        l->diag = *l->opt.diag;
        l->diag_ptr = &l->diag;
    }
    l->opt.diag = NULL;
    if (l->opt.velo_calib) {
        l->calib = *l->opt.velo_calib;
        l->has_calib = true;
    }
    l->opt.velo_calib = NULL;
    /* Any cut angle names a direction: bring it into [0, 360). */
    if (!isfinite(l->opt.cut_azimuth_deg)) l->opt.cut_azimuth_deg = 0;
    l->opt.cut_azimuth_deg = fmod(l->opt.cut_azimuth_deg, 360.0);
    if (l->opt.cut_azimuth_deg < 0) l->opt.cut_azimuth_deg += 360.0;
    l->path = vxs_strdup(path);
    if (!l->path) {
        vxs_free(l);
        return VXS_E_NOMEM;
    }
    if (l->opt.ouster_meta_count) {
        l->metas = vxs_calloc(l->opt.ouster_meta_count, sizeof *l->metas);
        if (!l->metas) {
            vxs_lidar_close(l);
            return VXS_E_NOMEM;
        }
        for (size_t i = 0; i < l->opt.ouster_meta_count; i++) l->metas[i] = l->opt.ouster_meta[i];
    }
    l->opt.ouster_meta = NULL;
    st = open_pcap(l, &l->pcap, l->diag_ptr, err, err_len);
    if (st != VXS_OK) {
        vxs_lidar_close(l);
        return st;
    }
    prescan(l);
    *out = l;
    return VXS_OK;
}

vxs_status_t vxs_lidar_open(vxs_lidar_t **out, const char *path, const vxs_lidar_options_t *opt,
                            char *err, size_t err_len) {
    return open_common(out, path, NULL, 0, opt, err, err_len);
}

vxs_status_t vxs_lidar_open_mem(vxs_lidar_t **out, const void *data, size_t len, const char *name,
                                const vxs_lidar_options_t *opt, char *err, size_t err_len) {
    if (!data && len) return VXS_E_ARG;
    return open_common(out, name ? name : "(memory)", data, len, opt, err, err_len);
}

/* flush queues the open sweeps at the end of the capture, one per call. A stream's delayed
 * packet with a jump is accounted first, without a next packet: the blocks after its jump keep
 * the packet's time (vxs_velo_scan's), which may be a pause early. */
static bool flush(vxs_lidar_t *l) {
    while (l->flush_next < l->nstreams) {
        stream_t *s = &l->streams[l->flush_next];
        if (!s->ouster && s->pend) {
            velo_pending(l, s, NULL, VXS_TIME_NONE, VXS_TIME_NONE);
            if (l->qlen > 0) return true;
        }
        l->flush_next++;
        if (!s->cur.open) continue;
        if (s->ouster) ouster_finish_missing(s, &s->cur);
        /* A sweep the capture ends in: complete only if Ouster says every column arrived; a
         * Velodyne sweep never reached its closing cut. */
        emit(l, s, &s->cur, s->ouster && ouster_complete(s, &s->cur));
        acc_reset(&s->cur);
        return true;
    }
    return false;
}

/* other_udp looks again at UDP packets content detection did not recognise: one that arrives
 * from a LiDAR stream's address to its port is a damaged LiDAR packet and is reported as such,
 * not ignored as unrelated traffic. */
static void other_udp(vxs_lidar_t *l, const vxs_packet_t *pkt, const vxs_pkt_info_t *pl,
                      uint64_t idx, uint64_t off) {
    for (size_t i = 0; pl && i < l->nstreams; i++) {
        const stream_t *s = &l->streams[i];
        if (memcmp(s->src, pl->src_addr, 16) != 0 || s->dst_port != pl->dst_port) continue;
        if (!s->ouster && s->has_data && pl->payload_len == VXS_VELO_PACKET_SIZE) {
            velo_data(l, pkt, pl, idx, off); /* reports what is wrong with it */
            return;
        }
    }
    for (size_t i = 0; pl && i < l->nstreams; i++) {
        const stream_t *s = &l->streams[i];
        uint16_t aux = s->ouster ? (s->oinfo.udp_port_imu ? s->oinfo.udp_port_imu : 7503) : 8308;
        if (memcmp(s->src, pl->src_addr, 16) != 0) continue;
        if (pl->dst_port == aux) {
            report(l, idx, off, VXS_E_MALFORMED, "%zu-byte UDP packet to the %s port %u "
                   "(expected %d bytes)", pl->payload_len,
                   s->ouster ? "Ouster IMU" : "Velodyne position", aux,
                   s->ouster ? 48 : VXS_VELO_POSITION_SIZE);
            l->counts.bad_packets++;
            return;
        }
        if (s->dst_port != pl->dst_port) continue;
        report(l, idx, off, VXS_E_MALFORMED,
               "%zu-byte UDP packet in the %s stream to port %u (expected %zu bytes)",
               pl->payload_len, s->ouster ? "Ouster lidar" : "Velodyne data", pl->dst_port,
               s->ouster ? s->payload_len : (size_t)VXS_VELO_PACKET_SIZE);
        l->counts.bad_packets++;
        return;
    }
    l->counts.other_packets++;
}

/* pop lends the oldest queued record. */
static const vxs_record_t *pop(vxs_lidar_t *l) {
    l->rec = l->q[l->qhead];
    l->qhead = (l->qhead + 1) % QCAP;
    l->qlen--;
    return &l->rec;
}

vxs_status_t vxs_lidar_next(vxs_lidar_t *l, const vxs_record_t **out) {
    const vxs_packet_t *pkt;
    vxs_status_t st;
    if (!l || !out) return VXS_E_ARG;
    *out = NULL;
    while (l->qlen == 0 && !l->eof) {
        vxs_pkt_class_info_t c;
        const vxs_pkt_info_t *pl;
        uint64_t idx, off;
        st = vxs_pcap_next(l->pcap, &pkt);
        if (st == VXS_EOF) {
            l->eof = true;
            for (size_t i = 0; i < l->nstreams; i++) {
                stream_t *s = &l->streams[i];
                if (s->unmatched) {
                    snprintf(l->errmsg, sizeof l->errmsg,
                             "%s: %llu Ouster lidar packets of %zu bytes were not decoded "
                             "(no matching metadata)",
                             l->path, (unsigned long long)s->unmatched, s->payload_len);
                    vxs_log(VXS_LOG_WARN, "%s", l->errmsg);
                }
            }
            break;
        }
        if (st != VXS_OK) {
            /* The capture itself is damaged: reported by the pcap reader; what was read stays
             * and the next call returns VXS_EOF. */
            snprintf(l->errmsg, sizeof l->errmsg, "%s", vxs_pcap_errmsg(l->pcap));
            l->counts.bad_packets++;
            continue;
        }
        l->counts.packets++;
        vxs_classify(&c, pkt);
        pl = vxs_packet_payload(pkt);
        idx = pkt->dgram ? pkt->dgram_first_index : pkt->index;
        off = pkt->dgram ? pkt->dgram_first_offset : pkt->offset;
        switch (c.cls) {
        case VXS_CLS_VELODYNE_DATA: velo_data(l, pkt, pl, idx, off); break;
        case VXS_CLS_VELODYNE_POSITION: velo_position(l, pkt, pl, idx, off); break;
        case VXS_CLS_OUSTER_LIDAR: ouster_data(l, pkt, pl, idx, off); break;
        case VXS_CLS_OUSTER_IMU: ouster_imu(l, pkt, pl, idx, off); break;
        case VXS_CLS_UDP_OTHER: other_udp(l, pkt, pl, idx, off); break;
        default: l->counts.other_packets++; break;
        }
    }
    if (l->qlen == 0 && l->eof) flush(l);
    if (l->qlen == 0) return VXS_EOF;
    *out = pop(l);
    return VXS_OK;
}

/* ---- fetch -------------------------------------------------------------------------------- */

static stream_t *stream_of(vxs_lidar_t *l, uint32_t sensor) {
    for (size_t i = 0; i < l->nstreams; i++)
        if (l->streams[i].sensor == sensor) return &l->streams[i];
    return NULL;
}

/* velo_fetch_t is a Velodyne fetch's state: the cut re-applied packet by packet from the
 * sweep's phase, and the packet with a jump waiting for the next one (as in the index pass). */
typedef struct {
    const vxs_record_t *sweep;
    bool cut_any;         /* a packet went through the cut yet */
    int64_t V;            /* the last such packet's first block relative to the sweep's start */
    uint16_t prev_a0;
    bool accepted_any;    /* a packet was accepted yet (the order check) */
    vxs_time_t near;      /* the last accepted packet's time (the ±30 min rule) */
    bool pend;
    uint8_t pend_pkt[VXS_VELO_PACKET_SIZE];
    vxs_velo_header_t pend_h;
    vxs_time_t pend_t, pend_cap;
} velo_fetch_t;

/* fetch_cut keeps, of the points out->pts[from..] of one packet (header h), those of the
 * sweep: 0 <= V + (a - a0) mod TURN < TURN. */
static void fetch_cut(velo_fetch_t *f, vxs_points_t *out, size_t from,
                      const vxs_velo_header_t *h) {
    size_t keep;
    if (!f->cut_any) {
        f->V = f->sweep->u.sweep.phase_cdeg;
        f->cut_any = true;
    } else {
        f->V += mod_turn((int64_t)h->az_first - f->prev_a0);
    }
    f->prev_a0 = h->az_first;
    /* A packet well inside the sweep keeps them all without the per-point test. */
    {
        int32_t maxrel = mod_turn((int64_t)h->az_last - h->az_first);
        for (size_t i = from; i < out->len; i++) {
            int32_t rel = (int32_t)out->pts[i].azimuth - h->az_first;
            if (rel < 0) rel += TURN;
            if (rel > maxrel) maxrel = rel;
        }
        if (f->V >= 0 && f->V + maxrel < TURN) return;
    }
    keep = from;
    for (size_t i = from; i < out->len; i++) {
        int64_t v = f->V + mod_turn((int64_t)out->pts[i].azimuth - h->az_first);
        if (v >= 0 && v < TURN) out->pts[keep++] = out->pts[i];
    }
    out->len = keep;
}

/* fetch_pending decodes the waiting packet with a jump into `out`, timed by the next packet
 * (h, t, cap; h NULL: none), and applies the cut. */
static vxs_status_t fetch_pending(vxs_lidar_t *l, stream_t *s, velo_fetch_t *f,
                                  vxs_points_t *out, const vxs_velo_header_t *h, vxs_time_t t,
                                  vxs_time_t cap) {
    vxs_velo_next_t nx = velo_next_of(f->pend_cap, h, t, cap);
    size_t from = out->len;
    vxs_status_t st;
    f->pend = false;
    st = vxs_velo_decode_next(s->velo, out, f->pend_pkt, sizeof f->pend_pkt, f->pend_t, -1, &nx,
                              NULL);
    if (st != VXS_OK) { /* it decoded a moment ago: only memory can fail */
        snprintf(l->errmsg, sizeof l->errmsg, "%s: %s", l->path, vxs_status_name(st));
        return st;
    }
    fetch_cut(f, out, from, &f->pend_h);
    return VXS_OK;
}

/* fetch_velo handles one record of a Velodyne fetch; `beyond`: past the sweep's locator, read
 * only to time a waiting packet with a jump. *done is set when the fetch may stop. */
static vxs_status_t fetch_velo(vxs_lidar_t *l, stream_t *s, velo_fetch_t *f, vxs_points_t *out,
                               const vxs_packet_t *pkt, bool beyond, bool *done) {
    const vxs_pkt_info_t *pl = vxs_packet_payload(pkt);
    vxs_pkt_class_info_t c;
    vxs_velo_header_t h;
    vxs_velo_jump_t j;
    vxs_time_t t_pkt;
    vxs_points_t *dst;
    size_t from;
    vxs_status_t st;
    if (beyond && (f->pend_cap == VXS_TIME_NONE ||
                   (pkt->ts != VXS_TIME_NONE && sat_sub(pkt->ts, f->pend_cap) > NEXT_MAX_NS))) {
        *done = true; /* too late to time it: velo_next_of would refuse anything from here */
        return VXS_OK;
    }
    if (!pl || memcmp(pl->src_addr, s->src, 16) != 0) return VXS_OK;
    vxs_classify(&c, pkt);
    if (c.cls != VXS_CLS_VELODYNE_DATA) return VXS_OK;
    if (vxs_velo_parse_header(&h, pl->payload, pl->payload_len) != VXS_OK) return VXS_OK;
    if (vxs_time_from_toh(&t_pkt, h.usec_toh, f->near) != VXS_OK) return VXS_OK;
    /* Skipped exactly as the index pass skips: out of order, or not decodable. */
    if (f->accepted_any && t_pkt < f->near) return VXS_OK;
    /* While a packet with a jump waits, this one goes to the side: the waiting one's points
     * come first. Past the locator it is only checked (no XYZ). */
    dst = f->pend ? &l->fscratch : out;
    if (f->pend) l->fscratch.len = 0;
    from = dst->len;
    st = beyond ? vxs_velo_scan_next(s->velo, dst, pl->payload, pl->payload_len, t_pkt, NULL, &j)
                : vxs_velo_decode_next(s->velo, dst, pl->payload, pl->payload_len, t_pkt, -1,
                                       NULL, &j);
    if (st != VXS_OK) {
        dst->len = from;
        return VXS_OK;
    }
    f->accepted_any = true;
    f->near = t_pkt;
    if (f->pend) {
        VXS_FORWARD(fetch_pending(l, s, f, out, &h, t_pkt, pkt->ts));
        if (beyond) {
            *done = true;
            return VXS_OK;
        }
    }
    if (j.block >= 0) {
        /* This packet's azimuth jumps: it waits for the next one (its points are dropped). */
        dst->len = from;
        f->pend = true;
        memcpy(f->pend_pkt, pl->payload, sizeof f->pend_pkt);
        f->pend_h = h;
        f->pend_t = t_pkt;
        f->pend_cap = pkt->ts;
        return VXS_OK;
    }
    if (dst != out) {
        from = out->len;
        VXS_FORWARD(vxs_points_reserve(out, out->len + dst->len));
        memcpy(out->pts + out->len, dst->pts, dst->len * sizeof *dst->pts);
        out->len += dst->len;
    }
    fetch_cut(f, out, from, &h);
    return VXS_OK;
}

vxs_status_t vxs_lidar_fetch_points(vxs_lidar_t *l, vxs_points_t *out, const vxs_record_t *sweep) {
    stream_t *s;
    const vxs_packet_t *pkt;
    vxs_status_t st;
    velo_fetch_t fv, *f = NULL;
    uint64_t end, next_index;
    bool done = false;
    if (!l || !out || !sweep || sweep->kind != VXS_REC_LIDAR_SWEEP) return VXS_E_ARG;
    s = stream_of(l, sweep->sensor);
    if (!s) {
        snprintf(l->errmsg, sizeof l->errmsg, "%s: no LiDAR stream for sensor %u", l->path,
                 sweep->sensor);
        return VXS_E_NOTFOUND;
    }
    if (!l->fpcap) {
        vxs_diag_sink_t quiet = {silent_diag, NULL}; /* the index pass reported everything */
        char err[256];
        st = open_pcap(l, &l->fpcap, &quiet, err, sizeof err);
        if (st != VXS_OK) {
            snprintf(l->errmsg, sizeof l->errmsg, "%s", err);
            return st;
        }
    }
    st = vxs_pcap_seek(l->fpcap, sweep->loc.index, sweep->loc.offset);
    if (st != VXS_OK) {
        snprintf(l->errmsg, sizeof l->errmsg, "%s", vxs_pcap_errmsg(l->fpcap));
        return st;
    }
    if (!s->ouster) {
        memset(&fv, 0, sizeof fv);
        fv.sweep = sweep;
        fv.near = sweep->device_time;
        f = &fv;
    }
    out->len = 0;
    end = sweep->loc.index + sweep->loc.count;
    next_index = sweep->loc.index;
    /* The sweep's own records; past them only while a packet with a jump waits for the next
     * packet of the stream (the index pass timed it with that one). */
    while (!done) {
        bool beyond;
        st = vxs_pcap_next(l->fpcap, &pkt);
        if (st != VXS_OK) {
            /* A damaged capture ends the index pass there: past the sweep's records, it ends
             * the look-ahead alike. */
            if (st == VXS_EOF || (f && f->pend && next_index >= end)) break;
            snprintf(l->errmsg, sizeof l->errmsg, "%s", vxs_pcap_errmsg(l->fpcap));
            return st;
        }
        next_index = pkt->index + 1;
        beyond = pkt->index >= end;
        if (beyond && !(f && f->pend)) break;
        if (f) {
            VXS_FORWARD(fetch_velo(l, s, f, out, pkt, beyond, &done));
        } else {
            vxs_pkt_class_info_t c;
            vxs_ouster_header_t h;
            const vxs_pkt_info_t *pl = vxs_packet_payload(pkt);
            if (!pl || memcmp(pl->src_addr, s->src, 16) != 0) continue;
            vxs_classify(&c, pkt);
            if (c.cls != VXS_CLS_OUSTER_LIDAR || pl->payload_len != s->payload_len) continue;
            if (vxs_ouster_parse_header(&h, s->meta, pl->payload, pl->payload_len) != VXS_OK ||
                h.frame_id != sweep->u.sweep.frame_id)
                continue;
            VXS_FORWARD(vxs_ouster_decode(s->meta, out, pl->payload, pl->payload_len));
        }
    }
    /* At the end of the capture (or too late for a next packet) a waiting packet with a jump
     * keeps its own time, as in the index pass. */
    if (f && f->pend) VXS_FORWARD(fetch_pending(l, s, f, out, NULL, VXS_TIME_NONE, VXS_TIME_NONE));
    return VXS_OK;
}

/* ---- queries ------------------------------------------------------------------------------ */

void vxs_lidar_get_counts(const vxs_lidar_t *l, vxs_lidar_counts_t *out) {
    if (!out) return;
    memset(out, 0, sizeof *out);
    if (l) *out = l->counts;
}

vxs_status_t vxs_lidar_get_stream(const vxs_lidar_t *l, vxs_lidar_stream_t *out, size_t i) {
    size_t n = 0;
    if (!l || !out) return VXS_E_ARG;
    for (size_t j = 0; j < l->nstreams; j++) {
        const stream_t *s = &l->streams[j];
        if (!s->ouster && !s->has_data) continue;
        if (n++ != i) continue;
        memset(out, 0, sizeof *out);
        out->sensor = s->sensor;
        out->ouster = s->ouster;
        out->velo_model = s->velo ? vxs_velo_get_model(s->velo) : VXS_VELO_AUTO;
        out->return_mode = s->return_mode;
        out->meta = s->meta;
        memcpy(out->src_addr, s->src, 16);
        out->dst_port = s->dst_port;
        return VXS_OK;
    }
    return VXS_E_NOTFOUND;
}

const char *vxs_lidar_errmsg(const vxs_lidar_t *l) { return l ? l->errmsg : ""; }

uint64_t vxs_lidar_position(const vxs_lidar_t *l, uint64_t *file_size) {
    vxs_pcap_info_t info;
    if (!l) return 0;
    if (file_size) {
        vxs_pcap_get_info(l->pcap, &info);
        *file_size = info.file_size;
    }
    return vxs_pcap_position(l->pcap);
}

void vxs_lidar_close(vxs_lidar_t *l) {
    if (!l) return;
    for (size_t i = 0; i < l->nstreams; i++) vxs_velo_destroy(l->streams[i].velo);
    vxs_pcap_close(l->pcap);
    vxs_pcap_close(l->fpcap);
    vxs_points_free(&l->scratch);
    vxs_points_free(&l->pscratch);
    vxs_points_free(&l->fscratch);
    vxs_free(l->metas);
    vxs_free(l->path);
    vxs_free(l);
}
