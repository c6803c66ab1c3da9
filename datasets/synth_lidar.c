/*
 * synth_lidar.c: the LiDAR writer of `v2xsync synth`: one Velodyne capture per agent with a
 * lidar (<id>/lidar.pcap), ray-cast against the true world, and the "sweeps" truth section.
 *
 * specification: VLP-16 user manual 63-9243 Rev. E §9 (packet layout, Table 9-1 vertical
 * angles, §9.7 firing timing, §9.3.3 position packet); VLP-32C user manual 63-9325 Rev. C §9
 * (Table 9-2 elevations and azimuth offsets, Figure 9-7 timing, §9.5 precision azimuth);
 * ../shared/specs/lidar-packet-formats.md §1-2. The laser tables below are the manuals' nominal
 * values, which are also the reader's built-in calibrations (sensors/velo_calib.c).
 *
 * Data packet (UDP 2368, 1206 bytes, little-endian):
 *
 *   0          2        4                                   100
 *   +----------+--------+-----------------------------------+  x 12 blocks
 *   | FF EE    | az u16 | 32 x (distance u16, reflectivity u8) |
 *   +----------+--------+-----------------------------------+
 *   1200: µs past the hour (device clock) | 1204: 0x37 strongest | 1205: 0x22 / 0x28
 *
 * Position packet (UDP 8308, 512 bytes): 0..197 zero, 198 µs past the hour (u32 LE), 202 PPS
 * status, 206 NMEA $GPRMC ending in CR LF, zero padded.
 *
 * The sensor model
 * ----------------
 * Firing. The laser fires on a fixed grid of TRUE time from the drive's start: a firing sequence
 * every 55.296 µs (16 lasers 2.304 µs apart, then an 18.432 µs recharge; VLP-32C: 16 pairs
 * 2.304 µs apart). A data block holds 2 sequences (VLP-16) or 1 (VLP-32C), so a block starts every
 * 110.592 µs / 55.296 µs. The motor is phase-locked: the encoder azimuth at true time t is
 * phase_deg + 360 * rpm / 60 * (t - start), whatever the device clock says.
 *
 * Field of view. A block is kept iff the encoder azimuth at its first firing (the azimuth the
 * block reports) lies in [fov_start_deg, fov_end_deg] (clockwise, may wrap). The sensor fills
 * its packets with consecutive KEPT blocks, so the packet open when the window closes carries
 * the first blocks of the next turn: its azimuth jumps inside the packet and it leaves only when
 * its last block has fired, at the start of the next window. That is what a real VLP-32C with a
 * limited FOV does: in ../shared/datasets/lidar/velodyne/nebula_vlp32c.pcap (window ~270..91 deg)
 * packet 75 holds blocks 89.56..90.95 deg then 270.17.. deg, and the next packet's timestamp is
 * 50.375 ms later, exactly 907 + 4 sequences of 55.296 µs after packet 75's first block: the
 * firing grid runs on through the pause and only in-window blocks are packed. Outside the
 * window no packet is sent. Such a "straddling" packet belongs to two sweeps (its timestamp is
 * its first block's, so the firing times of the blocks after the jump are NOT the packet time
 * plus the manual's offsets: they fired one pause later).
 *
 * Timestamps. A data packet's timestamp is the device clock at the first firing of its first
 * block, truncated to the µs (manual §9.3.1.6); the device clock is true time when gps_locked,
 * else synth_clock_local(&lidar.device, t). A packet leaves when its last firing is done and
 * reaches the logger 0.15 ms + Exp(mean 0.03 ms) later, with probability 0.002 U(2, 8) ms later;
 * the logger's queue keeps arrivals in order, at least 1 µs apart. The pcap stamp is the
 * logger's clock at arrival.
 *
 * Position packets. One every 14 data-packet periods of a full turn (the manuals' "ratio of data
 * packets to position packets is about 14 to 1"), through the same queue, stamped with the
 * device time at assembly. GPS-locked: PPS status 2 and the $GPRMC of the last whole UTC second
 * (a receiver outputs it NMEA_LAG_NS after the PPS edge) with the agent's position at that
 * second, speed and course. Free-running: no receiver, so PPS 0 and no sentence (all zero), as
 * the VLP-32C manual §9.3.3 says.
 *
 * Ray casting. Each firing's ray leaves the sensor at its exact true time: encoder azimuth plus
 * the rotation since the block's first firing plus the laser's azimuth offset (VLP-32C), its
 * vertical angle; the sensor frame is the reader's (x = cos w cos a, y = -cos w sin a,
 * z = sin w); body = R(quat) sensor + mount; world = the agent's pose at that instant (poses are
 * evaluated per block and carried to each firing with the pose's velocity and yaw rate: the
 * error over 110 µs is below 1e-7 m). The ray hits the nearest of the ground (z = 0) and the
 * boxes of all other agents at their poses at that instant, within 100 m (VLP-16) / 200 m
 * (VLP-32C); the distance is rounded to the unit (2 mm / 4 mm), else 0 (no return).
 * Reflectivity: REFL_GROUND for the ground, REFL_BOX_BASE + agent index for a box.
 *
 * Truth section "sweeps": one item per sweep of each lidar, as sensors/lidar.c cuts Velodyne
 * sweeps at its default cut azimuth 0: the sweep of a firing is the turn its encoder azimuth is
 * in, counted from azimuth 0 (the FOV windows of synth_world_init do not contain 0, so a sweep is
 * the kept blocks of one turn). Keys:
 *   agent            agent id ("ego", "vehicle2", "rsu")
 *   sensor           "lidar"
 *   index            0-based per lidar, in file order (the reader's sweep sequence number)
 *   start_true_ns    true time of the sweep's first firing that returned (the reader's sweep
 *   end_true_ns      start/end are its first/last POINT; a sweep without any return uses its
 *                    first / last block's first firing)
 *   start_device_ns  start_true_ns / end_true_ns on the device clock, exact ns since 1970 (the
 *   end_device_ns    packets carry µs, so a reader lands up to 1 µs (plus drift * 1.3 ms) early)
 *   start_capture_ns pcap stamps (logger clock) of the first and last packet holding a block of
 *   end_capture_ns   the sweep
 *   packets          data packets holding at least one block of the sweep (a straddling packet
 *                    counts in both of its sweeps)
 *   points           firings with a return (distance > 0)
 *   hits             {agent id: returns from that agent's box}, agents with none omitted
 *   starts_mid_packet true when the sweep's first packet began in the previous turn (its first
 *                    blocks fired a whole pause after that packet's timestamp)
 *   first_packet_index, last_packet_index  0-based pcap record numbers (position packets
 *                    included) of the first / last packet of the sweep
 */
#include "synth.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifndef M_PI
#define M_PI 3.14159265358979323846
#endif
#define DEG (M_PI / 180.0)

/* ---- packet format and timing (manuals §9) ---------------------------------------------- */

#define DATA_PORT 2368        /* manuals §9.3.2 */
#define POSITION_PORT 8308    /* manuals §9.3.3 */
#define DATA_SIZE 1206        /* 12 blocks x 100 + timestamp 4 + factory bytes 2 */
#define POSITION_SIZE 512
#define BLOCKS 12
#define CHANNELS 32
#define RETURN_STRONGEST 0x37 /* factory byte 1 (manuals Table 9-2 "Factory Byte Values") */
#define PRODUCT_VLP16 0x22
#define PRODUCT_VLP32C 0x28
#define POS_USEC_AT 198       /* position packet field offsets (VLP-32C manual Table 9-3) */
#define POS_PPS_AT 202
#define POS_NMEA_AT 206
#define PPS_ABSENT 0          /* VLP-16 manual Table 9-4 */
#define PPS_LOCKED 2
#define SEQ_NS INT64_C(55296) /* one firing sequence: 16 x 2.304 µs + 18.432 µs recharge */
#define FIRE_NS INT64_C(2304) /* between firings (VLP-16) / firing pairs (VLP-32C) */
#define HOUR_US INT64_C(3600000000)
#define POS_EVERY_PACKETS 14  /* "the ratio of data packets to position packets is about 14:1" */
#define NMEA_LAG_NS INT64_C(100000000) /* RMC of second S is output 100 ms after its PPS edge */

/* ---- the world as the writer models it ---------------------------------------------------- */

#define REFL_GROUND 30        /* reflectivity of the road */
#define REFL_BOX_BASE 100     /* reflectivity of agent k's box: REFL_BOX_BASE + k */
#define LINK_BASE_NS 150000   /* sensor -> logger: 0.15 ms ... */
#define LINK_JITTER_NS 30000.0 /* ... + Exp(mean 0.03 ms) ... */
#define LINK_SPIKE_PROB 0.002 /* ... and rarely a spike of U(2, 8) ms */
#define LINK_SPIKE_MIN_NS 2e6
#define LINK_SPIKE_MAX_NS 8e6
#define QUEUE_GAP_NS 1000     /* the logger's queue keeps arrivals >= 1 µs apart */
#define PROGRESS_STEP_NS INT64_C(500000000)

/* Vertical angles (deg) by laser id: VLP-16 manual Table 9-1; VLP-32C manual Table 9-2, with
 * its azimuth offsets delta (deg; the precise azimuth of a firing is the block's + delta, §9.5). */
static const double VLP16_VERT[16] = {-15, 1, -13, 3, -11, 5, -9, 7,
                                     -7,  9, -5,  11, -3, 13, -1, 15};
static const double VLP32_VERT[32] = {
    -25,    -1,    -1.667, -15.639, -11.31, 0,      -0.667, -8.843, -7.254, 0.333, -0.333,
    -6.148, -5.333, 1.333, 0.667,   -4,     -4.667, 1.667,  1,      -3.667, -3.333, 3.333,
    2.333,  -2.667, -3,    7,       4.667,  -2.333, -2,     15,     10.333, -1.333};
static const double VLP32_AZOFF[32] = {1.4, -4.2, 1.4, -1.4, 1.4, -1.4, 4.2, -1.4, 1.4, -4.2, 1.4,
                                       -1.4, 4.2, -1.4, 4.2, -1.4, 1.4, -4.2, 1.4, -4.2, 4.2, -1.4,
                                       1.4, -1.4, 1.4, -1.4, 1.4, -4.2, 4.2, -1.4, 1.4, -1.4};


/* chan_t is what one (block-relative) channel of the packet fires. */
typedef struct {
    int64_t toff_ns;   /* after the block's first firing */
    double cos_w, sin_w; /* vertical angle */
    double cos_d, sin_d; /* azimuth advance since the block's first firing + the laser's offset */
} chan_t;

/* block_t: one kept block, before its packet is complete. */
typedef struct {
    int64_t t_ns;        /* true time of its first firing */
    int64_t turn;        /* the sweep (turn) it belongs to */
    uint32_t points;
    uint32_t hits[SYNTH_N_AGENTS];
    int64_t first_ret_ns, last_ret_ns; /* INT64_MIN: no return */
} block_t;

/* sweep_t accumulates one sweep's truth. */
typedef struct {
    bool open;
    int64_t turn;
    int64_t start_ns, end_ns; /* first / last return, true time (INT64_MIN: none yet) */
    int64_t first_block_ns, last_block_ns;
    int64_t cap_start, cap_end;
    uint64_t first_rec, last_rec;
    uint32_t packets, points;
    uint32_t hits[SYNTH_N_AGENTS];
    bool mid_packet;
} sweep_t;

/* gen_t is one lidar's writer state: fixed size, whatever the drive's length. */
typedef struct {
    const synth_job_t *job;
    const synth_world_t *w;
    size_t a;                   /* the agent */
    const synth_agent_t *g;
    const synth_lidar_t *l;
    int lasers;
    int64_t block_ns;           /* time between blocks */
    int64_t last_fire_ns;       /* last firing of a block after its first */
    double unit_m, max_range_m;
    uint8_t product;
    double deg_per_ns;          /* rotation rate */
    double span_sin;            /* sine of the widest angle a block's rays leave its azimuth */
    double rm[3][3];            /* sensor -> body rotation */
    chan_t ch[CHANNELS];
    synth_rng_t rng;            /* link latency */
    synth_pcap_t *pcap;
    uint16_t ip_id;
    uint64_t records;           /* pcap records written */
    int64_t last_arrival;       /* true time, INT64_MIN before the first */
    int64_t end_ns;             /* the drive's end (true) */
    int64_t pos_period_ns, next_pos_ns;
    /* the packet being filled */
    uint8_t payload[DATA_SIZE];
    block_t blk[BLOCKS];
    int nblk;
    sweep_t sw;                 /* the open sweep */
    uint64_t sweeps_written;
    uint64_t packets_written;
    uint8_t frame[64 + DATA_SIZE];
} gen_t;

/* ---- little helpers ------------------------------------------------------------------------ */

static void put_le16(uint8_t *p, unsigned v) {
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}

static void put_le32(uint8_t *p, uint32_t v) {
    for (int i = 0; i < 4; i++) p[i] = (uint8_t)(v >> (8 * i));
}

static int64_t floor_div64(int64_t a, int64_t b) {
    int64_t q = a / b;
    return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

/* usec_toh: µs past the top of the hour of a device-clock reading (truncated, as the sensor's
 * µs counter reads it). */
static uint32_t usec_toh(int64_t dev_ns) {
    const int64_t us = floor_div64(dev_ns, 1000);
    int64_t r = us % HOUR_US;
    if (r < 0) r += HOUR_US;
    return (uint32_t)r;
}

static int64_t device_ns(const gen_t *s, int64_t true_ns) {
    return synth_clock_local(&s->l->device, true_ns);
}

/* in_fov: is azimuth `az` (deg, [0, 360)) inside the clockwise window [a, b]? */
static bool in_fov(double az, double a, double b) {
    return a <= b ? (az >= a && az <= b) : (az >= a || az <= b);
}

/* small_rot gives cos/sin of (c0, s0)'s angle plus a tiny e (|e| < 1e-3 rad) without libm:
 * the series to e^4 is exact to double precision there. */
static void small_rot(double c0, double s0, double e, double *c, double *s) {
    const double e2 = e * e;
    const double ce = 1.0 - e2 * 0.5 + e2 * e2 * (1.0 / 24.0), se = e - e * e2 * (1.0 / 6.0);
    *c = c0 * ce - s0 * se;
    *s = s0 * ce + c0 * se;
}

/* ---- setup --------------------------------------------------------------------------------- */

static void gen_setup(gen_t *s, const synth_job_t *job, size_t a) {
    const synth_world_t *w = job->w;
    memset(s, 0, sizeof *s);
    s->job = job;
    s->w = w;
    s->a = a;
    s->g = &w->agents[a];
    s->l = &s->g->lidar;
    const bool v32 = s->l->model == 32;
    s->lasers = v32 ? 32 : 16;
    /* VLP-16: two sequences per block; VLP-32C: one (manuals §9.3.1.5 "Data Block"). */
    s->block_ns = v32 ? SEQ_NS : 2 * SEQ_NS;
    s->last_fire_ns = v32 ? 15 * FIRE_NS : SEQ_NS + 15 * FIRE_NS;
    s->unit_m = v32 ? 0.004 : 0.002;     /* distance unit: VLP-32C manual §9.3.1.3, VLP-16 2 mm */
    s->max_range_m = v32 ? 200.0 : 100.0; /* datasheets' measurement range */
    s->product = v32 ? PRODUCT_VLP32C : PRODUCT_VLP16;
    s->deg_per_ns = 360.0 * s->l->rpm / 60.0 * 1e-9;
    double max_off = 0.0;
    for (int c = 0; c < CHANNELS; c++) {
        chan_t *k = &s->ch[c];
        int laser;
        double off;
        if (v32) { /* lasers fire in pairs, channel = laser id (Figure 9-7) */
            laser = c;
            k->toff_ns = FIRE_NS * (c / 2);
            off = VLP32_AZOFF[laser];
        } else {   /* channel c: laser c % 16 of sequence c / 16 (Table 9-1 firing order) */
            laser = c % 16;
            k->toff_ns = SEQ_NS * (c / 16) + FIRE_NS * (c % 16);
            off = 0.0;
        }
        const double vert = v32 ? VLP32_VERT[laser] : VLP16_VERT[laser];
        k->cos_w = cos(vert * DEG);
        k->sin_w = sin(vert * DEG);
        const double d = s->deg_per_ns * (double)k->toff_ns + off;
        k->cos_d = cos(d * DEG);
        k->sin_d = sin(d * DEG);
        if (fabs(d) > max_off) max_off = fabs(d);
    }
    /* Box culling margin: the farthest any ray of a block leaves the block's azimuth, + 0.5 deg. */
    s->span_sin = sin((max_off + 0.5) * DEG);
    /* R(quat), column j = R e_j. */
    for (int j = 0; j < 3; j++) {
        const double e[3] = {j == 0, j == 1, j == 2};
        double r[3];
        synth_quat_rotate(s->l->quat, e, r);
        for (int i = 0; i < 3; i++) s->rm[i][j] = r[i];
    }
    synth_rng_seed(&s->rng, w->seed, SYNTH_STREAM_LIDAR + (uint64_t)a);
    s->last_arrival = INT64_MIN;
    s->end_ns = w->start_ns + w->duration_ns;
    /* a full turn's data packet period x 14 */
    s->pos_period_ns = POS_EVERY_PACKETS * BLOCKS * s->block_ns;
    s->next_pos_ns = w->start_ns;
}

/* ---- output -------------------------------------------------------------------------------- */

/* send: one frame leaves the sensor at true time `depart`; through the link and the logger's
 * queue into the pcap. Returns the pcap stamp through *stamp. */
static vxs_status_t send(gen_t *s, int64_t depart, uint16_t dport, const uint8_t *payload,
                         size_t len, int64_t *stamp) {
    double lat = LINK_BASE_NS + synth_rng_exp(&s->rng, LINK_JITTER_NS);
    if (synth_rng_uniform(&s->rng) < LINK_SPIKE_PROB)
        lat += synth_rng_range(&s->rng, LINK_SPIKE_MIN_NS, LINK_SPIKE_MAX_NS);
    int64_t arrival = depart + (int64_t)llround(lat);
    if (s->last_arrival != INT64_MIN && arrival < s->last_arrival + QUEUE_GAP_NS)
        arrival = s->last_arrival + QUEUE_GAP_NS;
    s->last_arrival = arrival;
    const uint32_t bcast = 0xFFFFFFFFu;
    const size_t n = synth_udp_frame(s->frame, s->l->mac, s->l->ip, bcast, dport, dport,
                                     s->ip_id++, payload, len);
    *stamp = synth_clock_local(&s->g->logger, arrival);
    s->records++;
    return synth_pcap_write(s->pcap, *stamp, s->frame, n);
}

/* nmea_rmc writes the $GPRMC sentence (NMEA 0183 v2.3, with mode indicator) of true UTC second
 * `sec_ns` for the agent, CR LF terminated, into buf. */
static void nmea_rmc(const gen_t *s, int64_t sec_ns, char *buf, size_t len) {
    synth_pose_t p;
    synth_pose(s->w, s->a, sec_ns, &p);
    double lat, lon, alt;
    synth_enu_to_geo(s->w, p.x, p.y, p.z, &lat, &lon, &alt);
    const int64_t sec = sec_ns / 1000000000;
    const int64_t days = sec / 86400, tod = sec % 86400;
    /* civil date from days since 1970 (H. Hinnant's days_from_civil inverse) */
    const int64_t z = days + 719468, era = (z >= 0 ? z : z - 146096) / 146097;
    const int64_t doe = z - era * 146097;
    const int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    const int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    const int64_t mp = (5 * doy + 2) / 153;
    const int64_t d = doy - (153 * mp + 2) / 5 + 1, m = mp < 10 ? mp + 3 : mp - 9;
    const int64_t y = yoe + era * 400 + (m <= 2);
    /* ddmm.mmmmmmm in whole 1e-7 minutes, so that rounding never prints 60 minutes */
    const long long lat_u = llround(fabs(lat) * 60e7), lon_u = llround(fabs(lon) * 60e7);
    const long long per_deg = 600000000LL, per_min = 10000000LL;
    const double knots = p.speed * 3600.0 / 1852.0;
    double course = fmod(90.0 - p.yaw / DEG, 360.0);
    if (course < 0) course += 360.0;
    char body[128];
    snprintf(body, sizeof body,
             "GPRMC,%02d%02d%02d.00,A,%02lld%02lld.%07lld,%c,%03lld%02lld.%07lld,%c,%.3f,%.1f,"
             "%02d%02d%02d,0.0,E,A",
             (int)(tod / 3600), (int)(tod / 60 % 60), (int)(tod % 60), lat_u / per_deg,
             lat_u % per_deg / per_min, lat_u % per_min, lat >= 0 ? 'N' : 'S', lon_u / per_deg,
             lon_u % per_deg / per_min, lon_u % per_min, lon >= 0 ? 'E' : 'W', knots, course,
             (int)d, (int)m, (int)(y % 100));
    unsigned x = 0;
    for (const char *c = body; *c; c++) x ^= (unsigned char)*c;
    snprintf(buf, len, "$%s*%02X\r\n", body, x);
}

/* send_position sends the position packet assembled at true time t. */
static vxs_status_t send_position(gen_t *s, int64_t t) {
    uint8_t pl[POSITION_SIZE];
    memset(pl, 0, sizeof pl);
    put_le32(pl + POS_USEC_AT, usec_toh(device_ns(s, t)));
    if (s->l->gps_locked) {
        pl[POS_PPS_AT] = PPS_LOCKED;
        char rmc[POSITION_SIZE - POS_NMEA_AT];
        const int64_t sec_ns = floor_div64(t - NMEA_LAG_NS, 1000000000) * 1000000000;
        nmea_rmc(s, sec_ns, rmc, sizeof rmc);
        memcpy(pl + POS_NMEA_AT, rmc, strlen(rmc));
    } else {
        pl[POS_PPS_AT] = PPS_ABSENT;
    }
    int64_t stamp;
    return send(s, t, POSITION_PORT, pl, sizeof pl, &stamp);
}

/* positions_until sends every position packet due before true time t. */
static vxs_status_t positions_until(gen_t *s, int64_t t) {
    vxs_status_t st = VXS_OK;
    while (st == VXS_OK && s->next_pos_ns <= t && s->next_pos_ns < s->end_ns) {
        st = send_position(s, s->next_pos_ns);
        s->next_pos_ns += s->pos_period_ns;
    }
    return st;
}

/* ---- truth ----------------------------------------------------------------------------------- */

static vxs_status_t sweep_write(gen_t *s, const sweep_t *k) {
    const int64_t t0 = k->start_ns != INT64_MIN ? k->start_ns : k->first_block_ns;
    const int64_t t1 = k->end_ns != INT64_MIN ? k->end_ns : k->last_block_ns;
    json_t *o = json_object();
    json_t *hits = json_object();
    if (!o || !hits) {
        json_decref(o);
        json_decref(hits);
        return VXS_E_NOMEM;
    }
    json_object_set_new(o, "agent", json_string(s->g->id));
    json_object_set_new(o, "sensor", json_string("lidar"));
    json_object_set_new(o, "index", json_integer((json_int_t)s->sweeps_written));
    json_object_set_new(o, "start_true_ns", json_integer(t0));
    json_object_set_new(o, "end_true_ns", json_integer(t1));
    json_object_set_new(o, "start_device_ns", json_integer(device_ns(s, t0)));
    json_object_set_new(o, "end_device_ns", json_integer(device_ns(s, t1)));
    json_object_set_new(o, "start_capture_ns", json_integer(k->cap_start));
    json_object_set_new(o, "end_capture_ns", json_integer(k->cap_end));
    json_object_set_new(o, "packets", json_integer(k->packets));
    json_object_set_new(o, "points", json_integer(k->points));
    for (size_t b = 0; b < s->w->n_agents; b++)
        if (k->hits[b]) json_object_set_new(hits, s->w->agents[b].id, json_integer(k->hits[b]));
    json_object_set_new(o, "hits", hits);
    json_object_set_new(o, "starts_mid_packet", json_boolean(k->mid_packet));
    json_object_set_new(o, "first_packet_index", json_integer((json_int_t)k->first_rec));
    json_object_set_new(o, "last_packet_index", json_integer((json_int_t)k->last_rec));
    s->sweeps_written++;
    return synth_truth_item(s->job->truth, o);
}

/* sweep_at makes the open sweep the one of `turn`: blocks come in time order, so a block of a
 * later turn completes the open sweep (its last packet was already counted), which is written. */
static vxs_status_t sweep_at(gen_t *s, int64_t turn) {
    sweep_t *k = &s->sw;
    if (k->open && k->turn == turn) return VXS_OK;
    vxs_status_t st = k->open ? sweep_write(s, k) : VXS_OK;
    memset(k, 0, sizeof *k);
    k->open = true;
    k->turn = turn;
    k->start_ns = k->end_ns = INT64_MIN;
    return st;
}

/* ---- ray casting ----------------------------------------------------------------------------- */

/* other_t is another agent's box near one block. */
typedef struct {
    size_t a;
    double x, y, vx, vy, c, sn, yr; /* centre of its footprint, velocity, yaw (cos/sin), rate */
    double hl, hw, h;               /* half length, half width, height */
} other_t;

/* slab returns the entry distance of the ray (o, d) into the box |x| <= hl, |y| <= hw,
 * 0 <= z <= h, or +inf if it misses (or starts inside). */
static double slab(const double o[3], const double d[3], double hl, double hw, double h) {
    const double lo[3] = {-hl, -hw, 0.0}, hi[3] = {hl, hw, h};
    double tin = -INFINITY, tout = INFINITY;
    for (int i = 0; i < 3; i++) {
        if (d[i] == 0.0) {
            if (o[i] < lo[i] || o[i] > hi[i]) return INFINITY;
            continue;
        }
        const double inv = 1.0 / d[i];
        double t0 = (lo[i] - o[i]) * inv, t1 = (hi[i] - o[i]) * inv;
        if (t0 > t1) {
            const double t = t0;
            t0 = t1;
            t1 = t;
        }
        if (t0 > tin) tin = t0;
        if (t1 < tout) tout = t1;
    }
    return (tin <= tout && tin > 0.0) ? tin : INFINITY;
}

/* cast_block fills block `b` of the payload: the firings of the block whose first firing is at
 * true time t, encoder azimuth az (deg). */
static void cast_block(gen_t *s, int b, int64_t t, double az, int64_t turn) {
    const synth_world_t *w = s->w;
    synth_pose_t po;
    synth_pose(w, s->a, t, &po);
    const double cyo = cos(po.yaw), syo = sin(po.yaw);
    const double ca = cos(az * DEG), sa = sin(az * DEG);
    const double *m = s->l->mount;
    /* Other agents whose box a ray of this block can reach (the rays of a block stay within
     * span of the plane through the sensor's z axis at the block's azimuth, in front). */
    other_t ob[SYNTH_N_AGENTS];
    size_t nob = 0;
    const double sox = po.x + cyo * m[0] - syo * m[1], soy = po.y + syo * m[0] + cyo * m[1];
    for (size_t k = 0; k < w->n_agents; k++) {
        if (k == s->a) continue;
        const synth_agent_t *gk = &w->agents[k];
        synth_pose_t pk;
        synth_pose(w, k, t, &pk);
        const double q[3] = {pk.x - sox, pk.y - soy, gk->height * 0.5 - m[2]};
        /* world -> body (Rz(-yaw)) -> sensor (R^T) */
        const double qb[3] = {cyo * q[0] + syo * q[1], -syo * q[0] + cyo * q[1], q[2]};
        double qs[3];
        for (int i = 0; i < 3; i++)
            qs[i] = s->rm[0][i] * qb[0] + s->rm[1][i] * qb[1] + s->rm[2][i] * qb[2];
        /* + 5 cm: motion of either agent within a block (< 2 mm at these speeds) */
        const double r = 0.5 * sqrt(gk->length * gk->length + gk->width * gk->width +
                                    gk->height * gk->height) + 0.05;
        const double dist = sqrt(qs[0] * qs[0] + qs[1] * qs[1] + qs[2] * qs[2]);
        const double front = ca * qs[0] - sa * qs[1], side = -sa * qs[0] - ca * qs[1];
        if (dist - r > s->max_range_m || front < -r || fabs(side) > r + (dist + r) * s->span_sin)
            continue;
        other_t *o = &ob[nob++];
        o->a = k;
        o->x = pk.x;
        o->y = pk.y;
        o->vx = pk.vx;
        o->vy = pk.vy;
        o->c = cos(pk.yaw);
        o->sn = sin(pk.yaw);
        o->yr = pk.yaw_rate;
        o->hl = gk->length * 0.5;
        o->hw = gk->width * 0.5;
        o->h = gk->height;
    }

    block_t *bk = &s->blk[b];
    bk->t_ns = t;
    bk->turn = turn;
    bk->points = 0;
    memset(bk->hits, 0, sizeof bk->hits);
    bk->first_ret_ns = bk->last_ret_ns = INT64_MIN;
    uint8_t *blk = s->payload + 100 * b;
    blk[0] = 0xFF; /* flag 0xEEFF, "FF EE" on the wire */
    blk[1] = 0xEE;
    put_le16(blk + 2, (unsigned)(llround(az * 100.0) % 36000));
    const double unit = s->unit_m, maxr = s->max_range_m;
    for (int c = 0; c < CHANNELS; c++) {
        const chan_t *k = &s->ch[c];
        const double dt = (double)k->toff_ns * 1e-9;
        /* ray in the sensor frame: azimuth az + delta, clockwise from x seen from above */
        const double cal = ca * k->cos_d - sa * k->sin_d, sal = sa * k->cos_d + ca * k->sin_d;
        const double ds[3] = {k->cos_w * cal, -k->cos_w * sal, k->sin_w};
        double db[3];
        for (int i = 0; i < 3; i++)
            db[i] = s->rm[i][0] * ds[0] + s->rm[i][1] * ds[1] + s->rm[i][2] * ds[2];
        double cy, sy;
        small_rot(cyo, syo, po.yaw_rate * dt, &cy, &sy);
        const double ow[3] = {po.x + po.vx * dt + cy * m[0] - sy * m[1],
                              po.y + po.vy * dt + sy * m[0] + cy * m[1], po.z + m[2]};
        const double dw[3] = {cy * db[0] - sy * db[1], sy * db[0] + cy * db[1], db[2]};
        double best = INFINITY;
        int who = -1;
        if (dw[2] < 0.0) best = -ow[2] / dw[2];
        for (size_t i = 0; i < nob; i++) {
            const other_t *o = &ob[i];
            double oc, os;
            small_rot(o->c, o->sn, o->yr * dt, &oc, &os);
            const double rx = ow[0] - (o->x + o->vx * dt), ry = ow[1] - (o->y + o->vy * dt);
            const double ol[3] = {oc * rx + os * ry, -os * rx + oc * ry, ow[2]};
            const double dl[3] = {oc * dw[0] + os * dw[1], -os * dw[0] + oc * dw[1], dw[2]};
            const double tb = slab(ol, dl, o->hl, o->hw, o->h);
            if (tb < best) {
                best = tb;
                who = (int)o->a;
            }
        }
        unsigned raw = 0;
        if (best <= maxr) {
            const double q = nearbyint(best / unit);
            raw = (q >= 1.0 && q <= 65535.0) ? (unsigned)q : 0;
        }
        uint8_t *p = blk + 4 + 3 * c;
        put_le16(p, raw);
        p[2] = raw ? (uint8_t)(who < 0 ? REFL_GROUND : REFL_BOX_BASE + who) : 0;
        if (raw) {
            const int64_t tf = t + k->toff_ns;
            bk->points++;
            if (who >= 0) bk->hits[who]++;
            if (bk->first_ret_ns == INT64_MIN) bk->first_ret_ns = tf;
            bk->last_ret_ns = tf;
        }
    }
}

/* finish_packet sends the full packet (its last block fired last_block_t) and folds its blocks
 * into the sweeps. */
static vxs_status_t finish_packet(gen_t *s) {
    const int64_t t_first = s->blk[0].t_ns;
    put_le32(s->payload + 1200, usec_toh(device_ns(s, t_first)));
    s->payload[1204] = RETURN_STRONGEST;
    s->payload[1205] = s->product;
    const int64_t depart = s->blk[BLOCKS - 1].t_ns + s->last_fire_ns;
    vxs_status_t st = positions_until(s, depart);
    if (st != VXS_OK) return st;
    int64_t stamp;
    st = send(s, depart, DATA_PORT, s->payload, DATA_SIZE, &stamp);
    if (st != VXS_OK) return st;
    s->packets_written++;
    const uint64_t rec = s->records - 1;
    for (int b = 0; b < BLOCKS && st == VXS_OK; b++) {
        const block_t *bk = &s->blk[b];
        st = sweep_at(s, bk->turn);
        sweep_t *k = &s->sw;
        if (k->packets == 0 || k->last_rec != rec) { /* first block of this packet in k */
            if (k->packets == 0) {
                k->cap_start = stamp;
                k->first_rec = rec;
                k->first_block_ns = bk->t_ns;
                k->mid_packet = b > 0;
            }
            k->packets++;
            k->cap_end = stamp;
            k->last_rec = rec;
        }
        k->last_block_ns = bk->t_ns;
        k->points += bk->points;
        for (size_t i = 0; i < SYNTH_N_AGENTS; i++) k->hits[i] += bk->hits[i];
        if (bk->first_ret_ns != INT64_MIN) {
            if (k->start_ns == INT64_MIN) k->start_ns = bk->first_ret_ns;
            k->end_ns = bk->last_ret_ns;
        }
    }
    s->nblk = 0;
    return st;
}

/* ---- one lidar ------------------------------------------------------------------------------- */

static vxs_status_t write_one(gen_t *s, size_t nth, size_t count) {
    const synth_job_t *job = s->job;
    const synth_world_t *w = s->w;
    char rel[256], path[4096];
    snprintf(rel, sizeof rel, "%s/%s", s->g->id, SYNTH_LIDAR_FILE);
    vxs_status_t st = synth_path(path, sizeof path, job->out_dir, rel, job->err, job->err_len);
    if (st != VXS_OK) return st;
    st = synth_pcap_open(&s->pcap, path, job->err, job->err_len);
    if (st != VXS_OK) return st;

    int64_t next_report = w->start_ns;
    const double fa = s->l->fov_start_deg, fb = s->l->fov_end_deg;
    for (int64_t j = 0; st == VXS_OK; j++) {
        const int64_t t = w->start_ns + j * s->block_ns;
        /* a packet holding this block (or a later one) would leave after the drive's end */
        if (t >= s->end_ns) break;
        if (t >= next_report) {
            const uint64_t done = ((uint64_t)nth * (uint64_t)w->duration_ns +
                                   (uint64_t)(t - w->start_ns)) / count;
            if (vxs_progress_report(&job->progress, done, (uint64_t)w->duration_ns) != VXS_OK) {
                synth_seterr(job->err, job->err_len, "%s: canceled", path);
                st = VXS_E_CANCELED;
                break;
            }
            next_report += PROGRESS_STEP_NS;
        }
        const double unwrapped = s->l->phase_deg + s->deg_per_ns * (double)(t - w->start_ns);
        const double turns = floor(unwrapped / 360.0);
        double az = unwrapped - 360.0 * turns;
        if (az >= 360.0) az -= 360.0;
        if (!in_fov(az, fa, fb)) continue;
        /* a reported azimuth that rounds up to 36000 is azimuth 0 of the next turn */
        cast_block(s, s->nblk, t, az, (int64_t)turns + (llround(az * 100.0) >= 36000));
        if (++s->nblk == BLOCKS) {
            const int64_t depart = s->blk[BLOCKS - 1].t_ns + s->last_fire_ns;
            if (depart >= s->end_ns) break; /* it would leave after the drive */
            st = finish_packet(s);
        }
    }
    if (st == VXS_OK) st = positions_until(s, s->end_ns);
    if (st == VXS_OK && s->sw.open) st = sweep_write(s, &s->sw);
    if (st != VXS_OK && st != VXS_E_CANCELED && job->err && job->err[0] == '\0')
        synth_seterr(job->err, job->err_len, "%s: cannot write the truth: %s", path,
               vxs_status_name(st));
    char err2[512] = "";
    const vxs_status_t st2 = synth_pcap_close(s->pcap, err2, sizeof err2);
    s->pcap = NULL;
    if (st == VXS_OK && st2 != VXS_OK) {
        synth_seterr(job->err, job->err_len, "%s", err2);
        st = st2;
    }
    return st;
}

vxs_status_t synth_write_lidar(const synth_job_t *job) {
    const synth_world_t *w = job->w;
    if (job->err && job->err_len) job->err[0] = '\0';
    vxs_status_t st = synth_truth_section(job->truth, "sweeps");
    if (st != VXS_OK) {
        synth_seterr(job->err, job->err_len, "truth.json: cannot start the sweeps section");
        return st;
    }
    size_t count = 0, nth = 0;
    for (size_t a = 0; a < w->n_agents; a++) count += w->agents[a].lidar.present;
    gen_t *s = malloc(sizeof *s);
    if (!s) {
        synth_seterr(job->err, job->err_len, "synth lidar: out of memory");
        return VXS_E_NOMEM;
    }
    for (size_t a = 0; a < w->n_agents && st == VXS_OK; a++) {
        if (!w->agents[a].lidar.present) continue;
        gen_setup(s, job, a);
        st = write_one(s, nth++, count);
    }
    free(s);
    return st;
}
