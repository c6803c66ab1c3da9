/*
 * synth_v2x.c: the V2X writer of the synthetic drive generator. For every agent it writes
 * <id>/v2x.pcap, what that agent's radio sent and received, as its logger recorded it, and the
 * truth section "messages". See synth.h for the world model.
 *
 * Senders are GNSS-timed: every generation time is TRUE time (ns since 1970 UTC), and every
 * time field a message carries is derived from it. Capture timestamps are the receiving (or
 * sending) agent's LOGGER clock readings (synth_clock_local).
 *
 * ---- What is sent ------------------------------------------------------------------------
 *
 * ETSI stack (agent.etsi), EtherType 0x8947:
 *   Ethernet II (dst ff:ff:ff:ff:ff:ff, src = sender's MAC)
 *   GeoNetworking basic header (EN 302 636-4-1 §9.6): version 1, NH 1 (common header),
 *     lifetime 1 s, RHL 1
 *   common header (§9.7): NH 2 (BTP-B), HT/HST 0x50 (TSB single-hop = SHB), traffic class,
 *     flags (mobile bit for vehicles and the phone), PL = BTP + PDU octets, MHL 1
 *   SHB extended header (§9.8.4): source long position vector (GN_ADDR: M 0, station type,
 *     MAC; TST = TimestampIts mod 2^32; lat/lon 1e-7 deg; PAI 1 + speed 0.01 m/s, 15-bit
 *     signed; heading 0.1 deg) + 4 octets DCC-MCO / reserved (zero)
 *   BTP-B (EN 302 636-5-1 §7.3): destination port 2001 CAM, 2002 DENM, 2018 VAM; port info 0
 *   ITS PDU, UPER (X.691 unaligned PER), padded to the octet:
 *     CAM  EN 302 637-2 v1.4.1, protocolVersion 2 (ITS-Container v2 = CDD TS 102 894-2 v1.3.1)
 *     DENM EN 302 637-3 v1.3.1, protocolVersion 2
 *     VAM  TS 103 300-3 v2.2.1, protocolVersion 3 (VamParameters with a mandatory
 *          VRU high-frequency container: the layout sensors/etsi.c reads)
 *   Vehicles send CAMs under the generation rules of EN 302 637-2 §6.1.3, checked every
 *   T_CheckCamGen = 100 ms of the sender's time from a random phase: a CAM is sent when the
 *   heading changed by more than 4 deg, the position by more than 4 m or the speed by more than
 *   0.5 m/s since the last CAM, or when 1 s (T_GenCamMax) has elapsed (the true motion's
 *   changes, whatever realism gnss makes the CAMs say). (The standard's
 *   T_GenCam adaptation, which repeats a dynamics-triggered interval for N_GenCam = 3 CAMs,
 *   changes nothing here: the vehicles turn continuously, so the heading rule fires at every
 *   second check.) The low-frequency container is in the first CAM and then in the next CAM at
 *   least 500 ms after the previous one that had it (§6.1.3). The RSU sends CAMs at 1 Hz with
 *   the RSU high-frequency container, and one DENM event (roadworks) with repetitions; the
 *   phone (a pedestrian) sends VAMs at 5 Hz.
 *   Accuracy claims: PosConfidenceEllipse semi-axes 1 m, AltitudeConfidence 2 m, heading and
 *   speed confidence 1 deg and 0.1 m/s in the classic drive; with realism gnss the sender's
 *   honest figures (synth.h synth_realism_t gnss).
 *
 * US stack (agent.us), EtherType 0x88DC:
 *   WSMP v3 (IEEE 1609.3-2016 §8.3): N-header 0x0B (subtype 0, option indicator, version 3)
 *     with the WAVE information element extension: channel number 172 (element 15), data rate
 *     12 x 500 kb/s (16), transmit power used 20 dBm (4); TPID 0; PSID p-encoded; WSM length
 *   IEEE 1609.2-2016 Ieee1609Dot2Data (C-OER), protocolVersion 3, signedData: hashId sha256,
 *     tbsData { payload { data = unsecuredData (the MessageFrame) }, headerInfo { psid,
 *     generationTime = Time64, µs since 2004-01-01 TAI } }, signer digest (HashedId8, fixed
 *     per sender), signature ecdsaNistP256Signature (x-only r, s: 64 random octets, not a real
 *     signature)
 *   J2735 MessageFrame (UPER, J2735 2016 and later): BSM (DSRCmsgID 20, PSID 0x20) from the
 *     vehicles every 100 ms +- 5 ms; PSM (32, PSID 0x27, "vulnerable road users safety
 *     application", SAE J2945/9, as registered in the ISO 5345 / IEEE 1609.12 ITS-AID list)
 *     from the phone every 200 ms +- 5 ms. The RSU sends nothing on the US stack.
 *     PositionalAccuracy: 1 m (BSM) and 2 m (PSM), orientation 0, in the classic drive; with
 *     realism gnss the sender's 1-sigma figure, orientation unavailable (65535).
 *   J2735 uses the SAE J670 vehicle axes (x forward, y right, z down): the BSM's lateral
 *   acceleration is positive to the right and its yaw rate positive clockwise, the opposite
 *   signs of synth_pose_t's.
 *
 * Profile mixed: every agent runs both stacks. A receiver only receives a stack it runs. An
 * agent sends on the stacks of agent.tx_etsi / agent.tx_us only: with realism rx-only the RSU
 * sends nothing at all and, in the mixed profile, the phone nothing on the US stack; their
 * captures then hold receptions only (on that stack).
 *
 * ---- The links ----------------------------------------------------------------------------
 *
 * Each directed link sender -> receiver has a random stream of its own and a Gilbert-Elliott
 * state (shared by both stacks: one radio environment), updated once per message on the link
 * (w->link): first the state transition, then the loss draw with the new state's probability.
 * A message between shadow_a and shadow_b (either way) generated in [shadow_start_ns,
 * shadow_end_ns) is lost whatever the draws said (with --clean there is no shadow). With fault
 * dead-link a message on the link dead_from -> dead_to (vehicle2 -> ego) is lost whatever the
 * draws said (cause "dead-link") when it was generated at or after fault.dead_start_ns or a
 * copy of it would arrive at or after it, so the receiver's capture holds nothing of the sender
 * from then on; its draws are made as always. A delivered message arrives after floor +
 * Exp(jitter_mean), or, with spike_prob, floor + U(spike_min, spike_max), where floor is the
 * link's own minimum latency link.floor_ms[sender][receiver] (classic: base_latency_ms on every
 * link; realism link-floors: drawn per directed link, truth "link_floors"); with dup_prob a
 * second copy arrives U(dup_delay_min, dup_delay_max) after the first. Every message draws the
 * same six numbers on every link, so one outcome never shifts the draws of another. The sender
 * logs its own message agent.tx_log_ms[stack] + Exp(mean agent.tx_jitter_ms[stack]) after
 * generation (classic: tx_log_delay_ms + Exp(tx_log_delay_ms / 5) for every agent and stack;
 * realism tx-log: drawn per agent and stack, truth agents[].tx_log).
 *
 * Records are written in the order the events happen in true time (ties: the order they were
 * produced), each stamped with the agent's logger clock. Messages are produced in generation
 * order by merging every sender's schedule; each agent keeps a min-heap of pending records, and
 * everything at or before the current generation time is written (no later message can produce
 * an earlier record: every delay is positive). Memory is bounded by the records pending within
 * the longest delay (spike_max + dup_delay_max), not by the drive's length.
 *
 * ---- Truth: section "messages", one item per generated message, in generation order ----
 *
 *   msg              global index from 0, in generation order
 *   sender           agent id ("ego", "vehicle2", "rsu", "phone")
 *   family           "etsi" | "us"
 *   type             "CAM" | "DENM" | "VAM" | "BSM" | "PSM"
 *   station_id       ETSI stationID / J2735 TemporaryID read as a big-endian integer
 *   gen_ns           true generation time (ns since 1970 UTC)
 *   lat, lon, alt    the position the message carries: the sender's reference position at
 *                    gen_ns (DENM: the event position), WGS-84 deg and ellipsoidal height m,
 *                    unquantized: the true one in the classic drive; with realism gnss the
 *                    reported one (+ the sender's GNSS error), with ref-point that of a
 *                    vehicle's front centre in its ETSI messages
 *   speed            the speed it carries, m/s: the sender's true speed at gen_ns (gnss: +
 *                    its speed error, at least 0)
 *   heading_deg      the heading it carries, deg clockwise from north, [0, 360): the true one
 *                    (gnss: + its heading error)
 *   frame_len        octets of the Ethernet frame
 *   tx_ns            true time the sender logged its own message (gen_ns + its stack's logging
 *                    delay: tx_ns - gen_ns >= agents[].tx_log.<family>.delay_ms)
 *   tx_capture_ns    the sender's logger reading of that record (its pcap timestamp)
 *   true             (realism gnss, ref-point or motion) the sender's true state at gen_ns:
 *                    {x, y, z, yaw, speed, accel_long, yaw_rate} (world ENU m of its box
 *                    centre, rad counter-clockwise from east, m/s, m/s^2, rad/s); a DENM's
 *                    also event_x, event_y, event_z, the event's true position
 *   reported         (the same options) what the message reports: {x, y, z} the world ENU of
 *                    lat, lon, alt (unquantized), speed, heading_deg; ref_body_x_m, the body x
 *                    of the point whose position it is (0 the box centre, length / 2 a
 *                    vehicle's front centre with ref-point; a DENM has none: its position is
 *                    the event's, moved by the sender's GNSS error). Reported minus true
 *                    position = the sender's synth_gnss_t error at gen_ns (+ the reference
 *                    point's offset)
 *   ETSI messages:
 *     sender_lat, sender_lon  the sender's position as its GN source position vector carries it
 *                      (the true box centre in the classic drive; the reported reference point
 *                      with gnss / ref-point)
 *     gn_tst           GN source PV timestamp as sent: TimestampIts mod 2^32
 *     gen_delta_time   CAM / VAM generationDeltaTime as sent: TimestampIts mod 65536
 *     its_ms           TimestampIts of gen_ns (ms since 2004-01-01 TAI) the fields come from
 *     low_freq         CAM: the low-frequency container is present
 *     path_points      CAM with a low-frequency container: path history points
 *   DENM:
 *     detection_ns, reference_ns   true detectionTime and referenceTime
 *     detection_ms, its_time_ms    detectionTime, referenceTime as sent (TimestampIts)
 *     action_seq       actionID.sequenceNumber (originatingStationID = station_id)
 *     cause_code, sub_cause_code, validity_s, transmission_interval_ms
 *     repetition       0 for the first transmission, then 1, 2...
 *   US messages:
 *     psid             WSMP and 1609.2 PSID
 *     msg_cnt          J2735 msgCnt (0..127, per sender and message type)
 *     sec_mark         J2735 secMark: ms within the UTC minute of gen_ns
 *     ieee_gen_time_us 1609.2 generationTime: µs since 2004-01-01 TAI
 *   rx               one entry per potential receiver (every other agent running the stack):
 *     agent          its id
 *     delivered      bool
 *     cause          when lost: "shadow" (the shadowed link), "burst" (lost in the bad
 *                    state), "random" (lost in the good state), "dead-link" (fault dead-link)
 *     latency_ns     true arrival - gen_ns (delivered only, as the rest; at least the link's
 *                    floor, link_floors[] or link_model.base_latency_ms)
 *     arrival_ns     true arrival time of the first copy
 *     spike          the latency is a spike
 *     duplicate      a second copy arrived
 *     dup_arrival_ns true arrival of the second copy (duplicate only)
 *     capture_ns     array: the receiver's logger readings of each copy written (2 entries for
 *                    a duplicate)
 */
#include "synth.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* job_err writes a message into the job's error buffer. */
#define job_err(job, ...) synth_seterr((job)->err, (job)->err_len, __VA_ARGS__)

#ifndef M_PI
#define M_PI 3.14159265358979323846
#endif

#define MS INT64_C(1000000)
#define SEC INT64_C(1000000000)

/* FRAME_MAX bounds one frame: the largest (a BSM in signed 1609.2 data) is about 170 octets. */
#define FRAME_MAX 320
#define MAX_STREAMS 8 /* at most two message types per agent */

/* TRY returns the status of `expr` from the enclosing function when it is not VXS_OK. */
#define TRY(expr)                                                                              \
    do {                                                                                       \
        const vxs_status_t try_st_ = (expr);                                                   \
        if (try_st_ != VXS_OK) return try_st_;                                                 \
    } while (0)

/* Fault unpinned-clock: the agent fault.unpinned_agent (vehicle2) records no V2X: no pcap is
 * written for it (one left in the folder by an earlier drive is removed), though it sends and
 * receives as always and truth "messages" is unchanged (its tx_capture_ns and capture_ns are
 * what its logger would have stamped). */

/* ==== message types and their constants ================================================ */

enum { MT_CAM, MT_DENM, MT_VAM, MT_BSM, MT_PSM };
static const char *const MT_NAMES[] = {"CAM", "DENM", "VAM", "BSM", "PSM"};

/* Stream ids of this writer (SYNTH_STREAM_V2X + k, k < 100). */
#define STREAM_SENDER(a, t) (10u + 8u * (unsigned)(a) + (unsigned)(t)) /* 10..41 */
#define STREAM_LINK(s, r) (50u + 4u * (unsigned)(s) + (unsigned)(r))    /* 50..65 */
#define STREAM_NOISE(a) (70u + (unsigned)(a)) /* 70..73: realism gnss speed / heading errors */

/* Schedules. */
#define CAM_CHECK_NS (100 * MS)     /* T_CheckCamGen, EN 302 637-2 §6.1.3 */
#define CAM_MAX_NS (1000 * MS)      /* T_GenCamMax */
#define CAM_LF_NS (500 * MS)        /* low-frequency container at most every 500 ms */
#define CAM_DHEADING_DEG 4.0        /* dynamics thresholds of §6.1.3 */
#define CAM_DPOS_M 4.0
#define CAM_DSPEED_MPS 0.5
#define VAM_PERIOD_NS (200 * MS)    /* 5 Hz */
#define BSM_PERIOD_NS (100 * MS)    /* 10 Hz, SAE J2945/1 */
#define PSM_PERIOD_NS (200 * MS)    /* 5 Hz */
#define US_JITTER_NS (5 * MS)       /* +- per message */
#define DENM_REPEAT_NS (1000 * MS)  /* transmissionInterval */
#define DENM_MAX_SENDS 10
#define DENM_PROCESSING_NS (20 * MS) /* detection -> first DENM (its referenceTime) */

/* ETSI ports (EN 302 636-5-1 Annex B / TS 103 248) and ITS PDU ids (CDD messageID). */
#define PORT_CAM 2001
#define PORT_DENM 2002
#define PORT_VAM 2018
#define ITS_ID_DENM 1
#define ITS_ID_CAM 2
#define ITS_ID_VAM 16

/* The DENM event: roadworks (causeCode 3) / shortTermStationaryRoadworks (subCauseCode 4),
 * CDD TS 102 894-2 v1.3.1 A.10, at angle 90 deg on the ring. */
#define DENM_CAUSE 3
#define DENM_SUB_CAUSE 4
#define DENM_VALIDITY_S 120          /* not the default (600): encoded */
#define DENM_EVENT_ANGLE_DEG 90.0

/* J2735 DSRCmsgID and PSIDs (IEEE 1609.12 / ISO 5345 ITS-AID registry). */
#define J2735_BSM 20
#define J2735_PSM 32
#define PSID_BSM 0x20 /* vehicle-to-vehicle safety and awareness (SAE J2945/1) */
#define PSID_PSM 0x27 /* vulnerable road users safety application (SAE J2945/9) */

/* ==== the UPER bit writer (ITU-T X.691 unaligned, MSB first) ============================ */

typedef struct {
    uint8_t *p;
    size_t cap_bits;
    size_t pos; /* bits written; > cap_bits means the buffer was too small */
} bw_t;

static void bw_init(bw_t *b, uint8_t *buf, size_t cap) {
    memset(buf, 0, cap);
    b->p = buf;
    b->cap_bits = cap * 8;
    b->pos = 0;
}

static void bw_put(bw_t *b, uint64_t v, unsigned n) {
    for (unsigned i = n; i-- > 0; b->pos++)
        if (b->pos < b->cap_bits && ((v >> i) & 1u))
            b->p[b->pos >> 3] |= (uint8_t)(0x80u >> (b->pos & 7u));
}

/* bw_cons writes a constrained whole number (X.691 §11.5.7): v - lo in the fewest bits that hold
 * hi - lo. Values outside [lo, hi] are clamped (a physical value beyond the field's range is
 * sent as its limit, as a real encoder's caller does). */
static void bw_cons(bw_t *b, int64_t v, int64_t lo, int64_t hi) {
    unsigned n = 0;
    for (uint64_t r = (uint64_t)(hi - lo); r; r >>= 1) n++;
    if (v < lo) v = lo;
    if (v > hi) v = hi;
    bw_put(b, (uint64_t)(v - lo), n);
}

static size_t bw_octets(const bw_t *b) { return (b->pos + 7) / 8; }

/* ==== byte helpers ========================================================================== */

static size_t put_u16(uint8_t *p, uint32_t v) {
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
    return 2;
}

static size_t put_u32(uint8_t *p, uint32_t v) {
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
    return 4;
}

/* ==== times ================================================================================ */

/* its_ms is TimestampIts (CDD: ms since 2004-01-01T00:00:00 on the TAI scale, i.e. UTC + the
 * leap seconds since 2004) of true time t, truncated. */
static int64_t its_ms(int64_t t) {
    return (t - VXS_EPOCH_2004) / MS + 1000 * (int64_t)synth_leap_seconds_since_2004(t);
}

/* time64_us is the IEEE 1609.2 Time64 (µs since 2004-01-01 TAI) of true time t, truncated. */
static int64_t time64_us(int64_t t) {
    return (t - VXS_EPOCH_2004) / 1000 + INT64_C(1000000) * synth_leap_seconds_since_2004(t);
}

/* sec_mark is J2735 DSecond: ms within the UTC minute. */
static int sec_mark(int64_t t) { return (int)((t % (60 * SEC)) / MS); }

/* heading_deg converts a yaw (rad, counter-clockwise from east) to a heading (deg clockwise
 * from north) in [0, 360). */
static double heading_deg(double yaw) {
    double h = fmod(90.0 - yaw * 180.0 / M_PI, 360.0);
    if (h < 0) h += 360.0;
    if (h >= 360.0) h -= 360.0;
    return h;
}

/* quant_wrap rounds x / lsb to the nearest integer modulo `wrap` (angles). */
static int64_t quant_wrap(double x, double lsb, int64_t wrap) {
    int64_t v = llround(x / lsb) % wrap;
    return v < 0 ? v + wrap : v;
}

/* ==== the state of the writer ============================================================== */

/* claims_t is the accuracy one agent's messages claim, as encoded (realism gnss: its receiver's
 * honest 1-sigma figures; classic: the fixed values of the encoders). */
typedef struct {
    int64_t etsi_semi_cm; /* PosConfidenceEllipse semi-axes, cm, 95 % (4094: out of range) */
    int64_t alt_conf;     /* AltitudeConfidence (CDD: 0 alt-000-01 .. 13 alt-200-00, 14 out of
                             range) */
    int64_t speed_conf;   /* SpeedConfidence, 0.01 m/s, 95 % (126: out of range) */
    int64_t heading_conf; /* HeadingConfidence, 0.1 deg, 95 % (126: out of range) */
    int64_t j2735_semi;   /* PositionalAccuracy semi-axes, 0.05 m, one sigma (254: 12.7 m or
                             more) */
    int64_t j2735_orient; /* its orientation, 360/65535 deg (65535: unavailable) */
} claims_t;

/* stream_t is one message schedule of one sender. */
typedef struct {
    int type;           /* MT_* */
    size_t agent;
    synth_rng_t rng;    /* phase, jitters, signatures of this stream */
    int64_t next_ns;    /* next check (CAM) or generation time; INT64_MAX when done */
    int64_t nominal_ns; /* BSM / PSM: the jitter-free schedule */
    int64_t period_ns;
    unsigned msg_cnt;   /* J2735 msgCnt */
    /* CAM generation rules: the state at the last CAM */
    bool have_last;
    int64_t last_ns, last_lf_ns;
    double last_x, last_y, last_heading, last_speed;
    /* DENM */
    int n_sent;
    int64_t detect_ns, ref_ns;
    uint16_t denm_seq;
    uint8_t signer[8];  /* 1609.2 HashedId8 of the sender's (pseudonym) certificate */
} stream_t;

typedef struct {
    bool bad; /* Gilbert-Elliott state */
    synth_rng_t rng;
} link_t;

/* A pending record: a frame (slot) to be written into an agent's pcap at true time t. */
typedef struct {
    int64_t t, local_ns;
    uint64_t order;
    uint32_t slot;
} ev_t;

typedef struct {
    ev_t *v;
    size_t n, cap;
} heap_t;

typedef struct {
    uint8_t frame[FRAME_MAX];
    uint16_t len;
    uint16_t refs; /* records still to write */
} slot_t;

typedef struct {
    const synth_job_t *job;
    const synth_world_t *w;
    stream_t streams[MAX_STREAMS];
    size_t n_streams;
    link_t links[SYNTH_N_AGENTS][SYNTH_N_AGENTS];
    heap_t heaps[SYNTH_N_AGENTS];
    synth_pcap_t *pcap[SYNTH_N_AGENTS];
    char paths[SYNTH_N_AGENTS][1024];
    slot_t *slots;
    size_t n_slots, cap_slots;
    uint32_t *free_slots;
    size_t n_free;
    uint64_t order;
    uint64_t n_msgs;
    claims_t claims[SYNTH_N_AGENTS];
    synth_gnss_t gnss[SYNTH_N_AGENTS]; /* realism gnss: each sender's position error ... */
    synth_rng_t noise[SYNTH_N_AGENTS]; /* ... and its speed and heading errors */
} v2x_t;

/* msg_t is one generated message: what it says and its frame. */
typedef struct {
    int type;
    size_t sender;
    int64_t gen_ns;
    synth_pose_t pose;          /* the sender's true pose */
    const claims_t *claims;     /* the sender's */
    double ref_x;               /* body x of the point its position is of (ref-point) */
    double err[3];              /* the sender's GNSS error (gnss), world ENU m */
    double pos[3];              /* its reported position, world ENU m: that point + err */
    double event[3];            /* DENM: the event's true position, world ENU m ... */
    double event_rep[3];        /* ... and where the sender puts it: + err */
    double lat, lon, alt;       /* carried position (DENM: the event's, + err) */
    double s_lat, s_lon, s_alt; /* the sender's: pos */
    double heading;             /* reported heading, deg from north */
    double speed;               /* reported speed, m/s */
    int64_t its;                /* TimestampIts of gen_ns */
    bool low_freq;
    int path_points;
    /* DENM */
    int repetition;
    /* US */
    int msg_cnt, sec_mark;
    int64_t ieee_us;
    uint8_t frame[FRAME_MAX];
    size_t len;
} msg_t;

/* ==== min-heaps of pending records ======================================================= */

static bool ev_less(const ev_t *a, const ev_t *b) {
    return a->t < b->t || (a->t == b->t && a->order < b->order);
}

static vxs_status_t heap_push(heap_t *h, ev_t e) {
    if (h->n == h->cap) {
        size_t cap = h->cap ? 2 * h->cap : 64;
        ev_t *v = vxs_realloc(h->v, cap * sizeof *v);
        if (!v) return VXS_E_NOMEM;
        h->v = v;
        h->cap = cap;
    }
    size_t i = h->n++;
    while (i > 0 && ev_less(&e, &h->v[(i - 1) / 2])) {
        h->v[i] = h->v[(i - 1) / 2];
        i = (i - 1) / 2;
    }
    h->v[i] = e;
    return VXS_OK;
}

static ev_t heap_pop(heap_t *h) {
    ev_t top = h->v[0], last = h->v[--h->n];
    size_t i = 0;
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= h->n) break;
        if (c + 1 < h->n && ev_less(&h->v[c + 1], &h->v[c])) c++;
        if (!ev_less(&h->v[c], &last)) break;
        h->v[i] = h->v[c];
        i = c;
    }
    if (h->n) h->v[i] = last;
    return top;
}

/* slot_new stores a frame for `refs` records and returns its index in *out. */
static vxs_status_t slot_new(v2x_t *c, const uint8_t *frame, size_t len, uint16_t refs,
                             uint32_t *out) {
    uint32_t i;
    if (c->n_free) {
        i = c->free_slots[--c->n_free];
    } else {
        if (c->n_slots == c->cap_slots) {
            size_t cap = c->cap_slots ? 2 * c->cap_slots : 64;
            slot_t *s = vxs_realloc(c->slots, cap * sizeof *s);
            if (!s) return VXS_E_NOMEM;
            c->slots = s;
            uint32_t *f = vxs_realloc(c->free_slots, cap * sizeof *f);
            if (!f) return VXS_E_NOMEM;
            c->free_slots = f;
            c->cap_slots = cap;
        }
        i = (uint32_t)c->n_slots++;
    }
    memcpy(c->slots[i].frame, frame, len);
    c->slots[i].len = (uint16_t)len;
    c->slots[i].refs = refs;
    *out = i;
    return VXS_OK;
}

/* flush writes every pending record of every agent at or before true time t (INT64_MAX: all). */
static vxs_status_t flush(v2x_t *c, int64_t t) {
    for (size_t a = 0; a < c->w->n_agents; a++) {
        heap_t *h = &c->heaps[a];
        while (h->n && h->v[0].t <= t) {
            const ev_t e = heap_pop(h);
            slot_t *s = &c->slots[e.slot];
            if (c->pcap[a]) /* none: fault unpinned-clock, the agent records nothing */
                TRY(synth_pcap_write(c->pcap[a], e.local_ns, s->frame, s->len));
            if (--s->refs == 0) c->free_slots[c->n_free++] = e.slot;
        }
    }
    return VXS_OK;
}

/* ==== what a sender reports (realism gnss, ref-point) ===================================== */

/* report_point gives where message m's sender reports a pose q of its own: the point of its box
 * its stack reports (ref-point: a vehicle's ETSI reference point, the front centre) plus its
 * GNSS error at m's generation (gnss). The classic drive reports the pose exactly. */
static void report_point(const synth_world_t *w, const msg_t *m, const synth_pose_t *q,
                         double out[3]) {
    out[0] = q->x, out[1] = q->y, out[2] = q->z;
    if (m->ref_x != 0.0) {
        const double body[3] = {m->ref_x, 0.0, 0.0};
        synth_body_to_world(q, body, out);
    }
    if (w->realism.gnss)
        for (int i = 0; i < 3; i++) out[i] += m->err[i];
}

/* conf_code is a 95 % confidence in units of `lsb`, at least 1, 126 ("out of range") above 125
 * (CDD SpeedConfidence, HeadingConfidence). */
static int64_t conf_code(double v95, double lsb) {
    const int64_t c = llround(v95 / lsb);
    return c < 1 ? 1 : c > 125 ? 126 : c;
}

/* claims_init sets what agent a's messages claim. */
static void claims_init(const synth_world_t *w, size_t a, claims_t *cl) {
    const synth_agent_t *g = &w->agents[a];
    if (!w->realism.gnss) {
        *cl = (claims_t){100, 7, 10, 10, g->type == SYNTH_TYPE_VRU ? 40 : 20, 0};
        return;
    }
    /* ETSI: the 95 % ellipse of a circular 2-D normal has the radius sqrt(-2 ln 0.05) sigma =
     * 2.4477 sigma; a 1-D 95 % interval (speed, heading, altitude) is 1.96 sigma. */
    const int64_t semi = llround(2.4477 * g->pos_sd_m * 100.0);
    cl->etsi_semi_cm = semi < 1 ? 1 : semi > 4093 ? 4094 : semi;
    static const double alt_m[14] = {0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0,
                                     2.0,  5.0,  10.0, 20.0, 50.0, 100.0, 200.0};
    const double alt95 = 1.96 * 1.5 * g->pos_sd_m;
    cl->alt_conf = 14;
    for (int i = 13; i >= 0 && alt95 <= alt_m[i]; i--) cl->alt_conf = i;
    cl->speed_conf = conf_code(1.96 * g->speed_sd_mps, 0.01);
    cl->heading_conf = conf_code(1.96 * g->heading_sd_deg, 0.1);
    /* J2735: one standard deviation, 0.05 m; 254 is "12.7 m or more" */
    const int64_t js = llround(g->pos_sd_m / 0.05);
    cl->j2735_semi = js < 0 ? 0 : js > 254 ? 254 : js;
    cl->j2735_orient = 65535; /* a circle: no orientation */
}

/* ==== ETSI: GeoNetworking + BTP + ITS PDU ================================================== */

/* ref_position writes a ReferencePosition (CDD v1.3.1; ReferencePositionWithConfidence of CDD
 * v2 has the same bits): latitude, longitude (1e-7 deg), PosConfidenceEllipse (semi-axes in cm,
 * 95 %; orientation 0.1 deg from north), Altitude (0.01 m, AltitudeConfidence): the claims of
 * `cl` (classic: 1 m = 100 cm, north, alt-002-00 = 7). */
static void ref_position(bw_t *b, const claims_t *cl, double lat, double lon, double alt) {
    bw_cons(b, llround(lat * 1e7), -900000000, 900000001);
    bw_cons(b, llround(lon * 1e7), -1800000000, 1800000001);
    bw_cons(b, cl->etsi_semi_cm, 0, 4095); /* semiMajorConfidence, cm */
    bw_cons(b, cl->etsi_semi_cm, 0, 4095); /* semiMinorConfidence */
    bw_cons(b, 0, 0, 3601);                /* semiMajorOrientation, 0.1 deg */
    bw_cons(b, llround(alt * 100.0), -100000, 800001);
    bw_put(b, (uint64_t)cl->alt_conf, 4); /* AltitudeConfidence (16 values, no extension) */
}

static void its_header(bw_t *b, int version, int id, uint32_t station) {
    bw_cons(b, version, 0, 255);
    bw_cons(b, id, 0, 255);
    bw_cons(b, station, 0, INT64_C(4294967295));
}

/* heading_speed writes Heading and Speed ({value, confidence} each): 0.1 deg (0..3601,
 * confidence 0.1 deg, 95 %), 0.01 m/s (0..16383, confidence 0.01 m/s, 95 %); confidences of
 * `cl` (classic: 1 deg = 10, 0.1 m/s = 10). */
static void heading_speed(bw_t *b, const claims_t *cl, double heading, double speed) {
    bw_cons(b, quant_wrap(heading, 0.1, 3600), 0, 3601);
    bw_cons(b, cl->heading_conf, 1, 127);
    bw_cons(b, llround(speed * 100.0), 0, 16383);
    bw_cons(b, cl->speed_conf, 1, 127);
}

static void long_accel(bw_t *b, double a) {
    bw_cons(b, llround(a * 10.0), -160, 161); /* 0.1 m/s^2; 161 unavailable */
    bw_cons(b, 5, 0, 102);                    /* confidence 0.5 m/s^2 */
}

/* cam_pdu encodes a CAM (EN 302 637-2 v1.4.1 Annex A). */
static void cam_pdu(bw_t *b, const synth_world_t *w, const msg_t *m) {
    const synth_agent_t *g = &w->agents[m->sender];
    const synth_pose_t *p = &m->pose;
    const bool rsu = g->type == SYNTH_TYPE_RSU;
    its_header(b, 2, ITS_ID_CAM, g->station_id);
    bw_cons(b, m->its & 0xFFFF, 0, 65535); /* generationDeltaTime */
    /* CamParameters: extension bit, lowFrequencyContainer and specialVehicleContainer
     * presence */
    bw_put(b, 0, 1);
    bw_put(b, m->low_freq ? 1 : 0, 1);
    bw_put(b, 0, 1);
    /* BasicContainer { stationType, referencePosition, ... } */
    bw_put(b, 0, 1);
    bw_cons(b, g->etsi_station_type, 0, 255);
    ref_position(b, m->claims, m->lat, m->lon, m->alt);
    /* HighFrequencyContainer CHOICE { basicVehicleContainerHighFrequency,
     * rsuContainerHighFrequency, ... }: extension bit + 1-bit index */
    bw_put(b, 0, 1);
    bw_put(b, rsu ? 1 : 0, 1);
    if (rsu) {
        /* RSUContainerHighFrequency { protectedCommunicationZonesRSU OPTIONAL, ... } */
        bw_put(b, 0, 2);
        return;
    }
    /* BasicVehicleContainerHighFrequency: 7 OPTIONAL fields, none present, no extension */
    bw_put(b, 0, 7);
    heading_speed(b, m->claims, m->heading, m->speed);
    bw_cons(b, 0, 0, 2); /* driveDirection forward */
    bw_cons(b, llround(g->length * 10.0), 1, 1023); /* vehicleLengthValue, 0.1 m */
    bw_cons(b, 0, 0, 4); /* noTrailerPresent */
    bw_cons(b, llround(g->width * 10.0), 1, 62); /* vehicleWidth, 0.1 m */
    long_accel(b, p->accel_long);
    /* curvature: 1/R in 1/10000 m^-1 (CDD v1.3.1 CurvatureValue), positive to the left; the
     * path's curvature is yaw rate / speed */
    const double curv = p->speed > 0.1 ? p->yaw_rate / p->speed : 0.0;
    bw_cons(b, llround(curv * 10000.0), -1023, 1023);
    bw_put(b, 7, 3); /* curvatureConfidence unavailable */
    bw_put(b, 0, 1); /* CurvatureCalculationMode: extension bit, yawRateUsed (0) */
    bw_cons(b, 0, 0, 2);
    /* yawRate: 0.01 deg/s, positive counter-clockwise (degSec-000-01ToLeft) */
    bw_cons(b, llround(p->yaw_rate * 180.0 / M_PI * 100.0), -32766, 32767);
    bw_cons(b, 2, 0, 8); /* YawRateConfidence degSec-000-10 */
    if (!m->low_freq) return;
    /* LowFrequencyContainer CHOICE { basicVehicleContainerLowFrequency, ... }: extension bit,
     * one root alternative (no index bits) */
    bw_put(b, 0, 1);
    bw_cons(b, 0, 0, 15);       /* vehicleRole default */
    bw_put(b, 0x08, 8);         /* exteriorLights: daytimeRunningLightsOn (bit 4) */
    bw_cons(b, m->path_points, 0, 40);
    /* PathHistory: each PathPoint relative to the one before (the first to the reference
     * position), 1 s apart: deltaLatitude / deltaLongitude 1e-7 deg, deltaAltitude 0.01 m,
     * pathDeltaTime (1..65535, ...) in 10 ms. The points are where the same point of the box
     * was, with the GNSS error of now (realism gnss; its correlation time is 5 s or more, so
     * the history's shape is what a receiver's own history would show). */
    int64_t prev_lat = llround(m->lat * 1e7), prev_lon = llround(m->lon * 1e7);
    int64_t prev_alt = llround(m->alt * 100.0);
    for (int i = 1; i <= m->path_points; i++) {
        synth_pose_t q;
        double lat, lon, alt;
        double pt[3];
        synth_pose(w, m->sender, m->gen_ns - i * SEC, &q);
        report_point(w, m, &q, pt);
        synth_enu_to_geo(w, pt[0], pt[1], pt[2], &lat, &lon, &alt);
        const int64_t la = llround(lat * 1e7), lo = llround(lon * 1e7), al = llround(alt * 100);
        bw_put(b, 1, 1); /* pathDeltaTime present */
        bw_cons(b, la - prev_lat, -131071, 131072);
        bw_cons(b, lo - prev_lon, -131071, 131072);
        bw_cons(b, al - prev_alt, -12700, 12800);
        bw_put(b, 0, 1); /* PathDeltaTime extension bit */
        bw_cons(b, 100, 1, 65535);
        prev_lat = la, prev_lon = lo, prev_alt = al;
    }
}

/* denm_pdu encodes a DENM (EN 302 637-3 v1.3.1 Annex A): management, situation and location
 * containers. */
static void denm_pdu(bw_t *b, const synth_world_t *w, const stream_t *s, const msg_t *m) {
    const synth_agent_t *g = &w->agents[m->sender];
    its_header(b, 2, ITS_ID_DENM, g->station_id);
    bw_put(b, 0x6, 3); /* situation, location present; alacarte absent */
    /* ManagementContainer: extension bit; termination, relevanceDistance,
     * relevanceTrafficDirection, validityDuration (DEFAULT), transmissionInterval */
    bw_put(b, 0, 1);
    bw_put(b, 0x0F, 5);
    bw_cons(b, g->station_id, 0, INT64_C(4294967295)); /* actionID */
    bw_cons(b, s->denm_seq, 0, 65535);
    bw_cons(b, its_ms(s->detect_ns), 0, INT64_C(4398046511103));
    bw_cons(b, its_ms(s->ref_ns), 0, INT64_C(4398046511103));
    ref_position(b, m->claims, m->lat, m->lon, m->alt);
    bw_cons(b, 1, 0, 7); /* relevanceDistance lessThan100m */
    bw_cons(b, 0, 0, 3); /* relevanceTrafficDirection allTrafficDirections */
    bw_cons(b, DENM_VALIDITY_S, 0, 86400);
    bw_cons(b, DENM_REPEAT_NS / MS, 1, 10000);
    bw_cons(b, g->etsi_station_type, 0, 255);
    /* SituationContainer: extension bit, linkedCause and eventHistory absent */
    bw_put(b, 0, 3);
    bw_cons(b, 4, 0, 7); /* informationQuality */
    bw_put(b, 0, 1);     /* CauseCode extension bit (CDD v1.3.1) */
    bw_cons(b, DENM_CAUSE, 0, 255);
    bw_cons(b, DENM_SUB_CAUSE, 0, 255);
    /* LocationContainer: extension bit; eventSpeed, eventPositionHeading absent, roadType
     * present; traces: one empty PathHistory */
    bw_put(b, 0, 1);
    bw_put(b, 0x1, 3);
    bw_cons(b, 1, 1, 7);  /* traces SIZE(1..7) */
    bw_cons(b, 0, 0, 40); /* PathHistory SIZE(0..40) */
    bw_cons(b, 0, 0, 3);  /* RoadType urban-NoStructuralSeparationToOppositeLanes */
}

/* vam_pdu encodes a VAM (TS 103 300-3 v2.2.1): basic container and VRU high-frequency
 * container. */
static void vam_pdu(bw_t *b, const synth_world_t *w, const msg_t *m) {
    const synth_agent_t *g = &w->agents[m->sender];
    its_header(b, 3, ITS_ID_VAM, g->station_id);
    bw_cons(b, m->its & 0xFFFF, 0, 65535);
    bw_put(b, 0, 1 + 4); /* VamParameters: extension bit, 4 OPTIONAL containers absent */
    bw_put(b, 0, 1);     /* BasicContainer extension bit */
    bw_cons(b, g->etsi_station_type, 0, 255);
    ref_position(b, m->claims, m->lat, m->lon, m->alt);
    bw_put(b, 0, 1 + 11); /* VruHighFrequencyContainer: extension bit, 11 OPTIONAL absent */
    heading_speed(b, m->claims, m->heading, m->speed); /* Wgs84Angle has Heading's bits */
    long_accel(b, m->pose.accel_long);
}

/* etsi_frame builds Ethernet + GeoNetworking SHB + BTP-B + the ITS PDU of m. */
static vxs_status_t etsi_frame(const v2x_t *c, const stream_t *s, msg_t *m) {
    static const uint8_t bcast[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
    const synth_world_t *w = c->w;
    const synth_agent_t *g = &w->agents[m->sender];
    uint8_t *f = m->frame;
    size_t n = synth_eth_header(f, bcast, g->mac, 0x8947);
    const size_t hdr = n + 4 + 8 + 28 + 4;
    bw_t b;
    bw_init(&b, f + hdr, FRAME_MAX - hdr);
    uint16_t port = PORT_CAM;
    uint8_t tc = 2; /* traffic class 2 for periodic awareness messages */
    switch (m->type) {
    case MT_CAM: cam_pdu(&b, w, m); break;
    case MT_DENM:
        denm_pdu(&b, w, s, m);
        port = PORT_DENM;
        tc = 1; /* event-driven warnings get the higher priority class */
        break;
    default:
        vam_pdu(&b, w, m);
        port = PORT_VAM;
        break;
    }
    if (b.pos > b.cap_bits) return VXS_E_LIMIT;
    const size_t pdu = bw_octets(&b);
    /* basic header: version 1 | NH 1 (common header); reserved; lifetime 1 s (multiplier 1,
     * base 1 s); remaining hop limit 1 */
    f[n++] = 0x11;
    f[n++] = 0;
    f[n++] = (1u << 2) | 1u;
    f[n++] = 1;
    /* common header: NH 2 (BTP-B) | reserved; HT 5 | HST 0 (SHB); TC; flags (bit 7: mobile);
     * PL (BTP + payload); MHL 1; reserved */
    f[n++] = 0x20;
    f[n++] = 0x50;
    f[n++] = tc;
    f[n++] = g->type == SYNTH_TYPE_RSU ? 0x00 : 0x80;
    n += put_u16(f + n, (uint32_t)(4 + pdu));
    f[n++] = 1;
    f[n++] = 0;
    /* SHB: source long position vector (EN 302 636-4-1 §9.5.2) */
    f[n++] = (uint8_t)((g->etsi_station_type & 0x1F) << 2); /* M 0 | ST | reserved */
    f[n++] = 0;
    memcpy(f + n, g->mac, 6);
    n += 6;
    n += put_u32(f + n, (uint32_t)(m->its & 0xFFFFFFFF));
    n += put_u32(f + n, (uint32_t)(int32_t)llround(m->s_lat * 1e7));
    n += put_u32(f + n, (uint32_t)(int32_t)llround(m->s_lon * 1e7));
    int64_t spd = llround(m->speed * 100.0);
    if (spd > 16383) spd = 16383;
    n += put_u16(f + n, 0x8000u | (uint32_t)spd); /* PAI 1 | speed */
    n += put_u16(f + n, (uint32_t)quant_wrap(m->heading, 0.1, 3600));
    memset(f + n, 0, 4); /* DCC-MCO / reserved */
    n += 4;
    /* BTP-B: destination port, destination port info */
    n += put_u16(f + n, port);
    n += put_u16(f + n, 0);
    m->len = n + pdu;
    return VXS_OK;
}

/* ==== US: WSMP + IEEE 1609.2 + J2735 ===================================================== */

/* bsm_value encodes a BasicSafetyMessage (J2735 2016: coreData only). */
static void bsm_value(bw_t *b, const synth_world_t *w, const msg_t *m) {
    const synth_agent_t *g = &w->agents[m->sender];
    const synth_pose_t *p = &m->pose;
    bw_put(b, 0, 3); /* extension bit, partII and regional absent */
    bw_cons(b, m->msg_cnt, 0, 127);
    bw_put(b, g->station_id, 32); /* TemporaryID OCTET STRING (SIZE(4)) */
    bw_cons(b, m->sec_mark, 0, 65535);
    bw_cons(b, llround(m->lat * 1e7), -900000000, 900000001);
    bw_cons(b, llround(m->lon * 1e7), -1799999999, 1800000001);
    bw_cons(b, llround(m->alt * 10.0), -4096, 61439); /* elevation 0.1 m */
    bw_cons(b, m->claims->j2735_semi, 0, 255);      /* semiMajor, 0.05 m (classic 1 m) */
    bw_cons(b, m->claims->j2735_semi, 0, 255);      /* semiMinor */
    bw_cons(b, m->claims->j2735_orient, 0, 65535); /* orientation */
    bw_cons(b, 2, 0, 7);    /* transmission forwardGears */
    bw_cons(b, llround(m->speed / 0.02), 0, 8191);
    bw_cons(b, quant_wrap(m->heading, 0.0125, 28800), 0, 28800);
    bw_cons(b, 127, -126, 127); /* steering wheel angle unavailable */
    /* accelSet (AccelerationSet4Way, SAE J670 axes): long, lat 0.01 m/s^2; vert 0.02 G; yaw
     * 0.01 deg/s clockwise */
    bw_cons(b, llround(p->accel_long * 100.0), -2000, 2001);
    bw_cons(b, llround(-p->accel_lat * 100.0), -2000, 2001);
    bw_cons(b, 0, -127, 127);
    bw_cons(b, llround(-p->yaw_rate * 180.0 / M_PI * 100.0), -32767, 32767);
    /* brakes: no wheel braking (bit 0 "unavailable" clear), traction control on, ABS on,
     * stability control on, brake boost off, auxiliary brakes off */
    bw_put(b, 0, 5);
    bw_cons(b, 2, 0, 3);
    bw_cons(b, 2, 0, 3);
    bw_cons(b, 2, 0, 3);
    bw_cons(b, 1, 0, 2);
    bw_cons(b, 1, 0, 3);
    bw_cons(b, llround(g->width * 100.0), 0, 1023); /* size, cm */
    bw_cons(b, llround(g->length * 100.0), 0, 4095);
}

/* psm_value encodes a PersonalSafetyMessage (J2735 2016) up to its heading: no optional field. */
static void psm_value(bw_t *b, const synth_world_t *w, const msg_t *m) {
    const synth_agent_t *g = &w->agents[m->sender];
    bw_put(b, 0, 1 + 18); /* extension bit, 18 OPTIONAL fields absent */
    bw_put(b, 0, 1);      /* PersonalDeviceUserType extension bit */
    bw_cons(b, 1, 0, 4);  /* aPEDESTRIAN */
    bw_cons(b, m->sec_mark, 0, 65535);
    bw_cons(b, m->msg_cnt, 0, 127);
    bw_put(b, g->station_id, 32);
    bw_put(b, 0x2, 3); /* Position3D: extension bit, elevation present, regional absent */
    bw_cons(b, llround(m->lat * 1e7), -900000000, 900000001);
    bw_cons(b, llround(m->lon * 1e7), -1799999999, 1800000001);
    bw_cons(b, llround(m->alt * 10.0), -4096, 61439);
    bw_cons(b, m->claims->j2735_semi, 0, 255); /* semiMajor (classic 2 m: a phone's GNSS) */
    bw_cons(b, m->claims->j2735_semi, 0, 255);
    bw_cons(b, m->claims->j2735_orient, 0, 65535);
    bw_cons(b, llround(m->speed / 0.02), 0, 8191);
    bw_cons(b, quant_wrap(m->heading, 0.0125, 28800), 0, 28800);
}

/* oer_len writes an OER length determinant (X.696 §8.6): short form below 128, else 0x81 + 1
 * octet (frames here stay below 256). */
static size_t oer_len(uint8_t *p, size_t len) {
    if (len < 128) {
        p[0] = (uint8_t)len;
        return 1;
    }
    p[0] = 0x81;
    p[1] = (uint8_t)len;
    return 2;
}

/* us_frame builds Ethernet + WSMP + 1609.2 signed data + the MessageFrame of m. */
static vxs_status_t us_frame(const v2x_t *c, stream_t *s, msg_t *m) {
    static const uint8_t bcast[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
    const synth_world_t *w = c->w;
    const synth_agent_t *g = &w->agents[m->sender];
    const bool bsm = m->type == MT_BSM;
    const uint32_t psid = bsm ? PSID_BSM : PSID_PSM;
    uint8_t val[64], mf[80], sd[200];
    /* the message value, then the MessageFrame { messageId, value open type, ... } */
    bw_t b;
    bw_init(&b, val, sizeof val);
    if (bsm)
        bsm_value(&b, w, m);
    else
        psm_value(&b, w, m);
    if (b.pos > b.cap_bits) return VXS_E_LIMIT;
    const size_t vlen = bw_octets(&b);
    size_t mlen = 0;
    mf[mlen++] = (uint8_t)((bsm ? J2735_BSM : J2735_PSM) >> 8); /* ext bit 0 | id, 15 bits */
    mf[mlen++] = (uint8_t)(bsm ? J2735_BSM : J2735_PSM);
    mf[mlen++] = (uint8_t)vlen; /* length determinant (X.691 §11.9.3.6): < 128 */
    memcpy(mf + mlen, val, vlen);
    mlen += vlen;
    /* Ieee1609Dot2Data { protocolVersion 3, content signedData } */
    size_t n = 0;
    sd[n++] = 3;
    sd[n++] = 0x81;  /* content CHOICE: signedData */
    sd[n++] = 0x00;  /* hashId sha256 */
    sd[n++] = 0x40;  /* SignedDataPayload preamble: data present */
    sd[n++] = 3;     /* data: Ieee1609Dot2Data { 3, unsecuredData } */
    sd[n++] = 0x80;
    n += oer_len(sd + n, mlen);
    memcpy(sd + n, mf, mlen);
    n += mlen;
    sd[n++] = 0x40;  /* HeaderInfo preamble: generationTime present */
    sd[n++] = 1;     /* psid: OER integer, 1 octet */
    sd[n++] = (uint8_t)psid;
    for (int i = 7; i >= 0; i--) sd[n++] = (uint8_t)((uint64_t)m->ieee_us >> (8 * i));
    sd[n++] = 0x80; /* signer: digest (HashedId8) */
    memcpy(sd + n, s->signer, 8);
    n += 8;
    sd[n++] = 0x80; /* signature: ecdsaNistP256Signature */
    sd[n++] = 0x80; /* rSig: x-only */
    for (int i = 0; i < 8; i++) { /* r and s: 64 random octets */
        const uint64_t r = synth_rng_u64(&s->rng);
        for (int k = 0; k < 8; k++) sd[n++] = (uint8_t)(r >> (8 * k));
    }
    /* Ethernet + WSMP */
    uint8_t *f = m->frame;
    size_t k = synth_eth_header(f, bcast, g->mac, 0x88DC);
    f[k++] = 0x0B; /* subtype 0 | option indicator | version 3 */
    f[k++] = 3;    /* WAVE information element extension: 3 elements */
    f[k++] = 15, f[k++] = 1, f[k++] = 172; /* channel number: 172 (CCH for safety) */
    f[k++] = 16, f[k++] = 1, f[k++] = 12;  /* data rate: 6 Mb/s in 500 kb/s */
    f[k++] = 4, f[k++] = 1, f[k++] = 20;   /* transmit power used: 20 dBm */
    f[k++] = 0;                            /* TPID 0: PSID only */
    f[k++] = (uint8_t)psid;                /* p-encoded PSID (below 0x80: one octet) */
    if (n < 128) {                         /* WSM length (1609.3 count encoding) */
        f[k++] = (uint8_t)n;
    } else {
        f[k++] = (uint8_t)(0x80 | (n >> 8));
        f[k++] = (uint8_t)n;
    }
    if (k + n > FRAME_MAX) return VXS_E_LIMIT;
    memcpy(f + k, sd, n);
    m->len = k + n;
    return VXS_OK;
}

/* ==== truth =============================================================================== */

static vxs_status_t set(json_t *o, const char *key, json_t *v) {
    return v && json_object_set_new(o, key, v) == 0 ? VXS_OK : VXS_E_NOMEM;
}

/* ==== the links ========================================================================== */

/* last_arrival is the true arrival of the last copy of m over s -> r that deliver's draws give
 * (the first's if there is no duplicate), as deliver computes them (fault dead-link). */
static int64_t last_arrival(const synth_link_model_t *k, const msg_t *m, size_t s, size_t r,
                            double u_spike, double u_lat, double u_dup, double u_dd) {
    const bool spike = u_spike < k->spike_prob, dup = u_dup < k->dup_prob;
    const double lat_ms =
        k->floor_ms[s][r] + (spike ? k->spike_min_ms + (k->spike_max_ms - k->spike_min_ms) * u_lat
                                    : -k->jitter_mean_ms * log(1.0 - u_lat));
    int64_t t = m->gen_ns + llround(lat_ms * 1e6);
    if (dup)
        t += llround((k->dup_delay_min_ms + (k->dup_delay_max_ms - k->dup_delay_min_ms) * u_dd) *
                     1e6);
    return t;
}

/* deliver runs message m over the link s -> r: adds its rx entry to `rx` and schedules the
 * receiver's records. */
static vxs_status_t deliver(v2x_t *c, const msg_t *m, size_t r, uint32_t slot, json_t *rx,
                            int *n_records) {
    const synth_world_t *w = c->w;
    const synth_link_model_t *k = &w->link;
    const size_t s = m->sender;
    link_t *l = &c->links[s][r];
    /* six draws per message, whatever happens */
    const double u_state = synth_rng_uniform(&l->rng), u_loss = synth_rng_uniform(&l->rng);
    const double u_spike = synth_rng_uniform(&l->rng), u_lat = synth_rng_uniform(&l->rng);
    const double u_dup = synth_rng_uniform(&l->rng), u_dd = synth_rng_uniform(&l->rng);
    l->bad = l->bad ? !(u_state < k->p_bad_to_good) : u_state < k->p_good_to_bad;
    bool lost = u_loss < (l->bad ? k->loss_bad : k->loss_good);
    const char *cause = l->bad ? "burst" : "random";
    const bool on_shadow_link = ((int)s == k->shadow_a && (int)r == k->shadow_b) ||
                                ((int)s == k->shadow_b && (int)r == k->shadow_a);
    if (on_shadow_link && m->gen_ns >= k->shadow_start_ns && m->gen_ns < k->shadow_end_ns) {
        lost = true;
        cause = "shadow";
    }
    const synth_fault_plan_t *fp = &w->fault;
    if (fp->on.dead_link && s == fp->dead_from && r == fp->dead_to &&
        last_arrival(k, m, s, r, u_spike, u_lat, u_dup, u_dd) >= fp->dead_start_ns) {
        lost = true;
        cause = "dead-link";
    }
    json_t *e = json_object();
    if (!e || json_array_append_new(rx, e) != 0) return VXS_E_NOMEM;
    TRY(set(e, "agent", json_string(w->agents[r].id)));
    TRY(set(e, "delivered", json_boolean(!lost)));
    if (lost) return set(e, "cause", json_string(cause));

    const bool spike = u_spike < k->spike_prob, dup = u_dup < k->dup_prob;
    const double lat_ms =
        k->floor_ms[s][r] + (spike ? k->spike_min_ms + (k->spike_max_ms - k->spike_min_ms) * u_lat
                                    : -k->jitter_mean_ms * log(1.0 - u_lat));
    const int64_t arrival = m->gen_ns + llround(lat_ms * 1e6);
    const synth_clock_t *clk = &w->agents[r].logger;
    json_t *caps = json_array();
    if (!caps || json_object_set_new(e, "capture_ns", caps) != 0) return VXS_E_NOMEM;
    TRY(set(e, "latency_ns", json_integer(arrival - m->gen_ns)));
    TRY(set(e, "arrival_ns", json_integer(arrival)));
    TRY(set(e, "spike", json_boolean(spike)));
    TRY(set(e, "duplicate", json_boolean(dup)));
    for (int copy = 0; copy < (dup ? 2 : 1); copy++) {
        int64_t t = arrival;
        if (copy) {
            const double dd_ms =
                k->dup_delay_min_ms + (k->dup_delay_max_ms - k->dup_delay_min_ms) * u_dd;
            t += llround(dd_ms * 1e6);
            TRY(set(e, "dup_arrival_ns", json_integer(t)));
        }
        const ev_t ev = {t, synth_clock_local(clk, t), c->order++, slot};
        TRY(heap_push(&c->heaps[r], ev));
        if (json_array_append_new(caps, json_integer(ev.local_ns)) != 0) return VXS_E_NOMEM;
        (*n_records)++;
    }
    return VXS_OK;
}

/* ==== messages ============================================================================ */

/* emit builds message m's frame, its truth item and every record it causes. */
static vxs_status_t emit(v2x_t *c, stream_t *s, msg_t *m) {
    const synth_world_t *w = c->w;
    const synth_agent_t *g = &w->agents[m->sender];
    const bool etsi = m->type <= MT_VAM;
    const synth_realism_t *re = &w->realism;
    synth_pose(w, m->sender, m->gen_ns, &m->pose);
    m->claims = &c->claims[m->sender];
    m->heading = heading_deg(m->pose.yaw);
    m->speed = m->pose.speed;
    if (re->ref_point && etsi && g->type == SYNTH_TYPE_VEHICLE) m->ref_x = 0.5 * g->length;
    if (re->gnss) { /* five draws per message: the error process walks on its own grid */
        synth_gnss_error(&c->gnss[m->sender], m->gen_ns, m->err);
        const double ds = synth_rng_normal(&c->noise[m->sender]) * g->speed_sd_mps;
        const double dh = synth_rng_normal(&c->noise[m->sender]) * g->heading_sd_deg;
        m->speed = m->speed + ds > 0.0 ? m->speed + ds : 0.0;
        m->heading = fmod(m->heading + dh, 360.0);
        if (m->heading < 0.0) m->heading += 360.0;
        if (m->heading >= 360.0) m->heading -= 360.0;
    }
    report_point(w, m, &m->pose, m->pos);
    synth_enu_to_geo(w, m->pos[0], m->pos[1], m->pos[2], &m->s_lat, &m->s_lon, &m->s_alt);
    m->lat = m->s_lat, m->lon = m->s_lon, m->alt = m->s_alt;
    m->its = its_ms(m->gen_ns);
    if (m->type == MT_DENM) { /* located by the sender: its error is the event's */
        const double ang = DENM_EVENT_ANGLE_DEG * M_PI / 180.0;
        m->event[0] = w->ring_radius_m * cos(ang);
        m->event[1] = w->ring_radius_m * sin(ang);
        m->event[2] = 0.0;
        for (int i = 0; i < 3; i++) m->event_rep[i] = m->event[i] + (re->gnss ? m->err[i] : 0.0);
        synth_enu_to_geo(w, m->event_rep[0], m->event_rep[1], m->event_rep[2], &m->lat, &m->lon,
                         &m->alt);
    }
    if (!etsi) {
        m->msg_cnt = (int)(s->msg_cnt++ % 128u);
        m->sec_mark = sec_mark(m->gen_ns);
        m->ieee_us = time64_us(m->gen_ns);
    }
    vxs_status_t st = etsi ? etsi_frame(c, s, m) : us_frame(c, s, m);
    if (st != VXS_OK) {
        job_err(c->job, "synth v2x: %s frame of %s does not fit %d octets", MT_NAMES[m->type],
               g->id, FRAME_MAX);
        return st;
    }

    /* the sender's own record: logged tx_log_ms + Exp(tx_jitter_ms) of the stack after
     * generation (classic: 0.25 ms + Exp(0.05 ms) everywhere) */
    const int stack = etsi ? SYNTH_STACK_ETSI : SYNTH_STACK_US;
    const double tx_ms = g->tx_log_ms[stack] + synth_rng_exp(&s->rng, g->tx_jitter_ms[stack]);
    const int64_t tx_ns = m->gen_ns + llround(tx_ms * 1e6);
    const int64_t tx_local = synth_clock_local(&g->logger, tx_ns);

    json_t *o = json_object(), *rx = json_array();
    if (!o || !rx) {
        json_decref(o);
        json_decref(rx);
        return VXS_E_NOMEM;
    }
#define SETI(k, v) if (st == VXS_OK) st = set(o, (k), json_integer(v))
#define SETR(k, v) if (st == VXS_OK) st = set(o, (k), json_real(v))
#define SETS(k, v) if (st == VXS_OK) st = set(o, (k), json_string(v))
#define SETB(k, v) if (st == VXS_OK) st = set(o, (k), json_boolean(v))
    SETI("msg", (json_int_t)c->n_msgs++);
    SETS("sender", g->id);
    SETS("family", etsi ? "etsi" : "us");
    SETS("type", MT_NAMES[m->type]);
    SETI("station_id", (json_int_t)g->station_id);
    SETI("gen_ns", m->gen_ns);
    SETR("lat", m->lat);
    SETR("lon", m->lon);
    SETR("alt", m->alt);
    SETR("speed", m->speed);
    SETR("heading_deg", m->heading);
    SETI("frame_len", (json_int_t)m->len);
    SETI("tx_ns", tx_ns);
    SETI("tx_capture_ns", tx_local);
    if (st == VXS_OK && (re->gnss || re->ref_point || re->motion)) {
        const synth_pose_t *p = &m->pose;
        json_t *tr = json_pack("{s:f, s:f, s:f, s:f, s:f, s:f, s:f}", "x", p->x, "y", p->y, "z",
                               p->z, "yaw", p->yaw, "speed", p->speed, "accel_long",
                               p->accel_long, "yaw_rate", p->yaw_rate);
        json_t *rp = json_pack("{s:f, s:f, s:f, s:f, s:f}", "x", m->pos[0], "y", m->pos[1], "z",
                               m->pos[2], "speed", m->speed, "heading_deg", m->heading);
        if (tr && rp && m->type == MT_DENM) { /* the position is the event's */
            json_object_set_new(tr, "event_x", json_real(m->event[0]));
            json_object_set_new(tr, "event_y", json_real(m->event[1]));
            json_object_set_new(tr, "event_z", json_real(m->event[2]));
            json_object_set_new(rp, "x", json_real(m->event_rep[0]));
            json_object_set_new(rp, "y", json_real(m->event_rep[1]));
            json_object_set_new(rp, "z", json_real(m->event_rep[2]));
        } else if (rp) {
            json_object_set_new(rp, "ref_body_x_m", json_real(m->ref_x));
        }
        st = set(o, "true", tr);
        if (st == VXS_OK)
            st = set(o, "reported", rp);
        else
            json_decref(rp);
    }
    if (etsi) {
        SETR("sender_lat", m->s_lat);
        SETR("sender_lon", m->s_lon);
        SETI("its_ms", m->its);
        SETI("gn_tst", m->its & 0xFFFFFFFF);
        if (m->type != MT_DENM) SETI("gen_delta_time", m->its & 0xFFFF);
        if (m->type == MT_CAM) SETB("low_freq", m->low_freq);
        if (m->type == MT_CAM && m->low_freq) SETI("path_points", m->path_points);
        if (m->type == MT_DENM) {
            SETI("detection_ns", s->detect_ns);
            SETI("reference_ns", s->ref_ns);
            SETI("detection_ms", its_ms(s->detect_ns));
            SETI("its_time_ms", its_ms(s->ref_ns));
            SETI("action_seq", s->denm_seq);
            SETI("cause_code", DENM_CAUSE);
            SETI("sub_cause_code", DENM_SUB_CAUSE);
            SETI("validity_s", DENM_VALIDITY_S);
            SETI("transmission_interval_ms", DENM_REPEAT_NS / MS);
            SETI("repetition", m->repetition);
        }
    } else {
        SETI("psid", m->type == MT_BSM ? PSID_BSM : PSID_PSM);
        SETI("msg_cnt", m->msg_cnt);
        SETI("sec_mark", m->sec_mark);
        SETI("ieee_gen_time_us", m->ieee_us);
    }
#undef SETI
#undef SETR
#undef SETS
#undef SETB
    /* the records: the sender's own, then each receiver's copies */
    uint32_t slot = 0;
    int n_records = 1;
    if (st == VXS_OK) st = slot_new(c, m->frame, m->len, 1, &slot);
    if (st == VXS_OK) {
        const ev_t ev = {tx_ns, tx_local, c->order++, slot};
        st = heap_push(&c->heaps[m->sender], ev);
    }
    for (size_t r = 0; r < w->n_agents && st == VXS_OK; r++) {
        const synth_agent_t *a = &w->agents[r];
        if (r == m->sender || !(etsi ? a->etsi : a->us)) continue;
        st = deliver(c, m, r, slot, rx, &n_records);
    }
    if (st == VXS_OK) c->slots[slot].refs = (uint16_t)n_records;
    const vxs_status_t st_rx = set(o, "rx", rx); /* last: receivers after the message */
    if (st == VXS_OK) st = st_rx;
    if (st != VXS_OK) {
        json_decref(o);
        job_err(c->job, "synth v2x: out of memory at message %llu",
               (unsigned long long)c->n_msgs);
        return st;
    }
    st = synth_truth_item(c->job->truth, o);
    if (st != VXS_OK) job_err(c->job, "truth.json: write failed (message %llu)",
                             (unsigned long long)(c->n_msgs - 1));
    return st;
}

/* cam_due applies the CAM generation rules at check time t (EN 302 637-2 §6.1.3). */
static bool cam_due(const synth_world_t *w, const stream_t *s, int64_t t) {
    if (!s->have_last || t - s->last_ns >= CAM_MAX_NS) return true;
    synth_pose_t p;
    synth_pose(w, s->agent, t, &p);
    double dh = fabs(heading_deg(p.yaw) - s->last_heading);
    if (dh > 180.0) dh = 360.0 - dh;
    return dh > CAM_DHEADING_DEG || hypot(p.x - s->last_x, p.y - s->last_y) > CAM_DPOS_M ||
           fabs(p.speed - s->last_speed) > CAM_DSPEED_MPS;
}

/* step handles stream s's next event (a CAM check or a generation) and advances it. */
static vxs_status_t step(v2x_t *c, stream_t *s, msg_t *m) {
    const synth_world_t *w = c->w;
    const int64_t end = w->start_ns + w->duration_ns, t = s->next_ns;
    memset(m, 0, offsetof(msg_t, frame));
    m->type = s->type;
    m->sender = s->agent;
    m->gen_ns = t;
    bool send = true;
    switch (s->type) {
    case MT_CAM:
        send = cam_due(w, s, t);
        if (send) {
            const bool vehicle = w->agents[s->agent].type == SYNTH_TYPE_VEHICLE;
            m->low_freq = vehicle && (!s->have_last || t - s->last_lf_ns >= CAM_LF_NS);
            m->path_points = m->low_freq ? 3 : 0;
        }
        s->next_ns = t + CAM_CHECK_NS;
        break;
    case MT_DENM:
        m->repetition = s->n_sent++;
        s->next_ns = s->n_sent < DENM_MAX_SENDS ? s->ref_ns + s->n_sent * DENM_REPEAT_NS
                                                : INT64_MAX;
        break;
    case MT_VAM: s->next_ns = t + s->period_ns; break;
    default: /* BSM, PSM: a nominal schedule with a jitter drawn per message */
        s->nominal_ns += s->period_ns;
        s->next_ns = s->nominal_ns +
                     llround(synth_rng_range(&s->rng, -1.0, 1.0) * (double)US_JITTER_NS);
        break;
    }
    if (s->next_ns >= end) s->next_ns = INT64_MAX;
    if (!send) return VXS_OK;
    TRY(emit(c, s, m));
    if (s->type == MT_CAM) {
        s->have_last = true;
        s->last_ns = t;
        if (m->low_freq) s->last_lf_ns = t;
        s->last_x = m->pose.x; /* the rules watch the true motion (m->heading may be GNSS's) */
        s->last_y = m->pose.y;
        s->last_heading = heading_deg(m->pose.yaw);
        s->last_speed = m->pose.speed;
    }
    return VXS_OK;
}

/* add_stream sets up a schedule of `type` for agent a. */
static void add_stream(v2x_t *c, size_t a, int type) {
    const synth_world_t *w = c->w;
    stream_t *s = &c->streams[c->n_streams++];
    memset(s, 0, sizeof *s);
    s->type = type;
    s->agent = a;
    synth_rng_seed(&s->rng, w->seed, SYNTH_STREAM_V2X + STREAM_SENDER(a, type));
    const uint64_t id = synth_rng_u64(&s->rng);
    for (int i = 0; i < 8; i++) s->signer[i] = (uint8_t)(id >> (8 * i));
    const int64_t end = w->start_ns + w->duration_ns;
    switch (type) {
    case MT_CAM:
        s->period_ns = CAM_CHECK_NS;
        s->next_ns = w->start_ns + (int64_t)(synth_rng_uniform(&s->rng) * (double)CAM_CHECK_NS);
        break;
    case MT_VAM:
        s->period_ns = VAM_PERIOD_NS;
        s->next_ns = w->start_ns + (int64_t)(synth_rng_uniform(&s->rng) * (double)VAM_PERIOD_NS);
        break;
    case MT_DENM: {
        int64_t det = w->start_ns + (int64_t)llround(0.3 * (double)w->duration_ns);
        if (det < w->start_ns + SEC / 2) det = w->start_ns + SEC / 2;
        s->detect_ns = det;
        s->ref_ns = det + DENM_PROCESSING_NS;
        s->denm_seq = (uint16_t)(synth_rng_u64(&s->rng) & 0xFFFF);
        s->next_ns = s->ref_ns;
        break;
    }
    default:
        /* the phase keeps the first jittered time after the start */
        s->period_ns = type == MT_BSM ? BSM_PERIOD_NS : PSM_PERIOD_NS;
        s->nominal_ns = w->start_ns + US_JITTER_NS +
                        (int64_t)(synth_rng_uniform(&s->rng) * (double)s->period_ns);
        s->next_ns = s->nominal_ns +
                     llround(synth_rng_range(&s->rng, -1.0, 1.0) * (double)US_JITTER_NS);
        break;
    }
    if (s->next_ns >= end) s->next_ns = INT64_MAX;
}

static void v2x_free(v2x_t *c) {
    for (size_t a = 0; a < SYNTH_N_AGENTS; a++) {
        vxs_free(c->heaps[a].v);
        synth_pcap_close(c->pcap[a], NULL, 0);
    }
    vxs_free(c->slots);
    vxs_free(c->free_slots);
}

vxs_status_t synth_write_v2x(const synth_job_t *job) {
    const synth_world_t *w = job->w;
    v2x_t *c = vxs_calloc(1, sizeof *c);
    msg_t *m = vxs_malloc(sizeof *m);
    vxs_status_t st = VXS_OK;
    if (!c || !m) {
        vxs_free(c);
        vxs_free(m);
        job_err(job, "synth v2x: out of memory");
        return VXS_E_NOMEM;
    }
    c->job = job;
    c->w = w;

    /* who sends what */
    for (size_t a = 0; a < w->n_agents; a++) {
        const synth_agent_t *g = &w->agents[a];
        if (g->tx_etsi) {
            add_stream(c, a, g->type == SYNTH_TYPE_VRU ? MT_VAM : MT_CAM);
            if (g->type == SYNTH_TYPE_RSU) add_stream(c, a, MT_DENM);
        }
        if (g->tx_us) add_stream(c, a, g->type == SYNTH_TYPE_VRU ? MT_PSM : MT_BSM);
    }
    for (size_t s = 0; s < w->n_agents; s++)
        for (size_t r = 0; r < w->n_agents; r++)
            synth_rng_seed(&c->links[s][r].rng, w->seed, SYNTH_STREAM_V2X + STREAM_LINK(s, r));
    for (size_t a = 0; a < w->n_agents; a++) {
        claims_init(w, a, &c->claims[a]);
        if (!w->realism.gnss) continue;
        synth_gnss_init(&c->gnss[a], w, a);
        synth_rng_seed(&c->noise[a], w->seed, SYNTH_STREAM_V2X + STREAM_NOISE(a));
    }

    for (size_t a = 0; a < w->n_agents && st == VXS_OK; a++) {
        char rel[256];
        snprintf(rel, sizeof rel, "%s/%s", w->agents[a].id, SYNTH_V2X_FILE);
        if (w->fault.on.unpinned_clock && a == w->fault.unpinned_agent) {
            /* not recorded: a capture left by an earlier drive in the folder would lie */
            char path[4096];
            snprintf(path, sizeof path, "%s/%s", job->out_dir, rel);
            if (remove(path) != 0 && errno != ENOENT) {
                job_err(job, "%s: cannot remove: %s", path, strerror(errno));
                st = VXS_E_IO;
            }
            continue;
        }
        st = synth_path(c->paths[a], sizeof c->paths[a], job->out_dir, rel, job->err,
                        job->err_len);
        if (st == VXS_OK) st = synth_pcap_open(&c->pcap[a], c->paths[a], job->err, job->err_len);
    }
    if (st == VXS_OK) {
        st = synth_truth_section(job->truth, "messages");
        if (st != VXS_OK) job_err(job, "truth.json: write failed (section \"messages\")");
    }

    /* merge the schedules in generation order */
    int64_t next_report = w->start_ns + SEC / 2;
    while (st == VXS_OK) {
        stream_t *s = NULL;
        for (size_t i = 0; i < c->n_streams; i++)
            if (c->streams[i].next_ns != INT64_MAX && (!s || c->streams[i].next_ns < s->next_ns))
                s = &c->streams[i];
        if (!s) break;
        const int64_t t = s->next_ns;
        /* nothing generated from t on can be recorded before t: write what is due */
        st = flush(c, t);
        if (st == VXS_OK) st = step(c, s, m);
        if (st == VXS_OK && t >= next_report) {
            next_report = t + SEC / 2;
            st = vxs_progress_report(&job->progress, (uint64_t)(t - w->start_ns),
                                     (uint64_t)w->duration_ns);
            if (st != VXS_OK) job_err(job, "%s: V2X writer canceled", job->out_dir);
        }
    }
    if (st == VXS_OK) st = flush(c, INT64_MAX);
    if (st == VXS_E_NOMEM && job->err && !job->err[0]) job_err(job, "synth v2x: out of memory");
    for (size_t a = 0; a < SYNTH_N_AGENTS; a++) {
        char err[512] = "";
        const vxs_status_t st2 = synth_pcap_close(c->pcap[a], err, sizeof err);
        c->pcap[a] = NULL;
        if (st == VXS_OK && st2 != VXS_OK) {
            job_err(job, "%s", err);
            st = st2;
        }
    }
    if (st == VXS_OK) {
        st = vxs_progress_report(&job->progress, (uint64_t)w->duration_ns,
                                 (uint64_t)w->duration_ns);
        if (st != VXS_OK) job_err(job, "%s: V2X writer canceled", job->out_dir);
    }
    v2x_free(c);
    vxs_free(c);
    vxs_free(m);
    return st;
}
