/*
 * vxs_frame.h: what the sync job produces, as core types every module can use.
 *
 * The pipeline (DESIGN.md "The pipeline"): sensors/ readers are sources (vxs_source_t), sync/
 * consumes them and feeds sinks, export/ writes. This header is the seam between sync/ and
 * export/: neither includes the other, both include this. It holds
 *
 *   1. clock models and what the solver says about each clock (an estimate), and the
 *      functions that apply a model: every time written anywhere is the model applied to the
 *      record's own time (DESIGN.md "One mapping");
 *   2. the run: the scenario's sources in the job's order, the frame streams (the sensors whose
 *      records become frame members) and the clock report (every clock domain, every relation
 *      between two clocks, the minimum delays, the two-way pairs);
 *   3. the frame: a reference time T, one member per stream with its record, clock, times and
 *      status (and the reason when it is missing), and the V2X messages each receiving agent
 *      had within the window before T, with the state of each of its links;
 *   4. the run's summary;
 *   5. the frame-shaped sink every writer of synchronized output implements (begin with the
 *      run, one call per frame with a way to fetch the members' payloads, finish with the
 *      summary), and its wrapper.
 *
 * Lifetimes: everything a sink is given is borrowed. The run (vxs_run_info_t and everything it
 * points to) stays valid from begin until finish returns; a frame and everything it points to
 * only for the call that receives it; the summary for the finish call.
 */
#ifndef VXS_FRAME_H
#define VXS_FRAME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vxs_core.h"
#include "vxs_manifest.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ==== 1. Clock models and estimates ===================================================== */

/* VXS_CLOCK_MAX_PIECES is the most stretches a clock model has: a jump (an NTP step) begins a
 * new one. */
#define VXS_CLOCK_MAX_PIECES 16

/* A clock model maps a clock domain onto the reference timeline:
 *
 *     local = ref + offset_ns[piece] + (drift + drift_delta[piece]) * (ref - epoch)
 *
 * where a piece is a stretch between two changes of the clock: a jump (an NTP step of a logger:
 * the reading steps at from_ref) or a change of its rate (NTP slewing an offset away, or a new
 * frequency correction: the reading goes on continuously at another rate). pieces[0].from_ref is
 * INT64_MIN and pieces[0].drift_delta 0; piece k >= 1 begins at reference time
 * pieces[k].from_ref. vxs_clock_piece_step gives how far the reading steps there. */
typedef struct {
    vxs_time_t from_ref;
    double offset_ns;
    int64_t from_span_ns; /* how well from_ref is known: the change happened within from_span_ns
                             around it (the gap between the samples around a step; 0 for piece
                             0) */
    double drift_delta;   /* the piece's rate minus `drift` (dimensionless) */
} vxs_clock_piece_t;

typedef struct {
    vxs_time_t epoch;
    double drift;    /* dimensionless: 1e-6 is 1 ppm (the clock gains 1 µs per second) */
    size_t n_pieces; /* >= 1 */
    vxs_clock_piece_t pieces[VXS_CLOCK_MAX_PIECES];
} vxs_clock_model_t;

/* vxs_clock_model_identity sets `m` to local = ref (one piece, no drift). */
void vxs_clock_model_identity(vxs_clock_model_t *m, vxs_time_t epoch);

/* vxs_clock_piece_step returns how far the clock's reading steps where piece k (1 <= k <
 * m->n_pieces) begins, in ns: piece k's reading at pieces[k].from_ref minus piece k-1's (0 for a
 * change of rate alone; 0 for k out of range). */
double vxs_clock_piece_step(const vxs_clock_model_t *m, size_t k);

/* vxs_clock_to_local maps a reference time to the clock's reading. VXS_TIME_NONE in,
 * VXS_TIME_NONE out. */
vxs_time_t vxs_clock_to_local(const vxs_clock_model_t *m, vxs_time_t ref);

/* vxs_clock_cursor_t follows one stream of readings through the pieces of a model. After a
 * backward jump the same reading occurs twice (before and after the step); a stream read in order
 * tells them apart: the cursor moves to the next piece when the readings step back by more than
 * half the jump, or when a reading maps past the piece's end. Zero-initialize it. */
typedef struct {
    size_t piece;
    vxs_time_t last_local;
    bool started;
} vxs_clock_cursor_t;

/* vxs_clock_to_reference maps a clock reading to the reference timeline. With `cur` NULL, the
 * latest piece whose stretch holds the result is used. VXS_TIME_NONE in, VXS_TIME_NONE out. */
vxs_time_t vxs_clock_to_reference(const vxs_clock_model_t *m, vxs_time_t local,
                                  vxs_clock_cursor_t *cur);

/* vxs_clock_piece_to_reference maps a reading of the clock to the reference timeline on piece
 * `k` (< m->n_pieces) of the model, whichever stretch the result falls in. */
vxs_time_t vxs_clock_piece_to_reference(const vxs_clock_model_t *m, size_t k, vxs_time_t local);

/* Minimum-delay classes of a relation between two clocks. A relation's envelope is the clocks'
 * offset plus its floor, the minimum delay of the path: WIRE from a sensor stamping a packet to
 * its logger capturing it (a LiDAR on Ethernet: a tenth of a millisecond or so), TX_LOG from a
 * V2X stack generating a message to its own logger logging it as sent, AIR from generating it
 * to another agent's logger capturing it. Every relation has a floor of its own (links are
 * asymmetric, stacks and capture paths differ); vxs_clock_solve measures it where both clocks
 * are tied to the reference otherwise, else takes it from its class's prior (README "How clocks
 * are estimated"). */
typedef enum {
    VXS_DELAY_WIRE = 0,
    VXS_DELAY_TX_LOG = 1,
    VXS_DELAY_AIR = 2,
    VXS_DELAY_CLASSES = 3
} vxs_delay_class_t;

/* vxs_delay_class_name returns "none", "tx_log" or "air" ("unknown"). Never NULL. */
const char *vxs_delay_class_name(vxs_delay_class_t c);

/* How a clock's model was obtained. */
typedef enum {
    VXS_CLOCK_M_UNKNOWN = 0,   /* nothing ties it to the reference: identity, not to be trusted */
    VXS_CLOCK_M_ANCHOR = 1,    /* anchored (GNSS/PPS), confirmed or unchecked */
    VXS_CLOCK_M_HINT = 2,      /* the given offset, confirmed or unchecked */
    VXS_CLOCK_M_ESTIMATED = 3, /* estimated from its relations */
    VXS_CLOCK_M_REFERENCE = 4  /* nothing was anchored: this clock defines the reference */
} vxs_clock_method_t;

/* vxs_clock_method_name returns "unknown", "anchor", "hint", "estimated" or "reference". Never
 * NULL. */
const char *vxs_clock_method_name(vxs_clock_method_t m);

/* What pins a clock to the reference timeline, and so how far its estimate can be trusted. */
typedef enum {
    VXS_IDENT_UNKNOWN = 0,     /* nothing ties it to the reference */
    VXS_IDENT_ANCHOR = 1,      /* anchored itself (GNSS/PPS-locked, GNSS-timed generation) */
    VXS_IDENT_HINT = 2,        /* a known offset given in the manifest */
    VXS_IDENT_REFERENCE = 3,   /* it defines the reference (nothing is anchored) */
    VXS_IDENT_PINNED = 4,      /* tied to an anchor through wire relations (a LiDAR's device
                                  clock and its logger): as good as the fits and the wire
                                  delay's prior */
    VXS_IDENT_FLOOR_PRIOR = 5  /* tied only through V2X relations whose minimum delay (the link's
                                  latency floor, a stack's logging delay) no pinned clock
                                  measures: the offset carries the spread of those floors */
} vxs_clock_ident_t;

/* vxs_clock_ident_name returns "unknown", "anchor", "hint", "reference", "pinned" or
 * "floor_prior". Never NULL. */
const char *vxs_clock_ident_name(vxs_clock_ident_t i);

/* vxs_clock_result_t is what the solver says about one clock. */
typedef struct {
    vxs_clock_model_t model;
    vxs_clock_method_t method;
    vxs_clock_ident_t ident;  /* what pins it */
    size_t limited_by;        /* the relation (the solver's edge index) whose unknown floor
                                 limits it (VXS_IDENT_FLOOR_PRIOR), SIZE_MAX otherwise */
    double offset_sd_ns;     /* 1 sigma, from the weighted least squares */
    double drift_sd;
    uint64_t samples;        /* samples of the relations touching it */
    uint32_t edges;          /* relations touching it */
    uint32_t jumps;          /* steps of its reading (model pieces that begin with one) */
    uint32_t rate_changes;   /* changes of its rate (the other model pieces after the first) */
    bool hint_checked;       /* an anchor or offset hint could be compared with another path */
    bool hint_rejected;      /* ... and the data disagreed: the hint was dropped */
    double hint_residual_ns; /* what the other paths say minus what the hint said */
} vxs_clock_result_t;

/* ==== 2. The run ========================================================================= */

/* VXS_STREAMS_PER_SOURCE is how many sensor numbers each source of a job owns: the source with
 * index i (vxs_manifest_source_order) numbers its records' sensors from i * 8 (a LiDAR capture
 * holding several sensors numbers them i * 8, i * 8 + 1, ...), so a sensor number names its
 * source. */
#define VXS_STREAMS_PER_SOURCE 8

/* VXS_STREAM_TOP_GAPS is how many of the largest intervals a stream keeps exactly. */
#define VXS_STREAM_TOP_GAPS 16

/* vxs_gap_t is one interval between consecutive in-order arrivals. */
typedef struct {
    vxs_time_t start;   /* time of the arrival before the gap */
    int64_t length_ns;  /* interval length */
    uint64_t unit;      /* unit of the arrival that ended the gap */
} vxs_gap_t;

/* vxs_stream_summary_t is what vxs_stream_stats_summarize computes. Times are VXS_TIME_NONE and
 * intervals 0 while the stream has fewer than the arrivals they need. */
typedef struct {
    uint64_t count;             /* arrivals with a time */
    uint64_t untimed;           /* arrivals without a time */
    vxs_time_t first;           /* first arrival's time (arrival order) */
    vxs_time_t last;            /* last arrival's time */
    vxs_time_t min;             /* earliest time */
    vxs_time_t max;             /* latest time */
    uint64_t intervals;         /* in-order intervals measured (count - 1 - out_of_order) */
    double rate_hz;             /* (count - 1) / (max - min), 0 if undefined */
    int64_t median_interval_ns; /* the mean of the histogram bin holding the median: exact when
                                   the intervals around the median are equal, else within 0.2 % */
    double mean_interval_ns;    /* mean of all intervals, gaps included */
    double jitter_ns;           /* standard deviation of the intervals that are not gaps */
    int64_t min_interval_ns;    /* smallest non-zero interval, 0 if none */
    int64_t max_interval_ns;    /* largest interval */
    uint64_t gaps;              /* intervals > 1.5 x median: exact unless intervals lie within
                                   0.4 % on both sides of the threshold (then split by the
                                   middle of their histogram bin) */
    int64_t gap_threshold_ns;   /* 1.5 x median */
    uint64_t out_of_order;      /* arrivals earlier than the latest time before them */
    uint64_t first_out_of_order_unit;
    int64_t max_backstep_ns;    /* how far back the worst out-of-order arrival went */
    uint64_t duplicates;        /* arrivals whose time equals the previous arrival's */
    uint64_t first_duplicate_unit;
} vxs_stream_summary_t;

/* VXS_DAMAGE_LISTED is how many of a source's bad units the run lists with their messages (all
 * are counted); VXS_DAMAGE_MSG_MAX the room for each message. */
#define VXS_DAMAGE_LISTED 16
#define VXS_DAMAGE_MSG_MAX 320

/* vxs_damage_t is one bad unit of a source, as its reader reported it (vxs_diag_t). */
typedef struct {
    uint64_t unit;                 /* its number in the file, from 1; 0: not inside a unit */
    uint64_t offset;               /* byte offset where it (or the damage) starts */
    vxs_status_t status;
    char msg[VXS_DAMAGE_MSG_MAX];  /* the reader's message (file, unit, offset, what is wrong),
                                      cut to fit */
} vxs_damage_t;

/* vxs_run_source_t is one source of the job, in the job's order (its index is the locators'
 * `source`). */
typedef struct {
    uint32_t agent;                  /* index into the manifest's agents */
    const vxs_manifest_source_t *ms; /* its manifest entry (path, kind, sensor id...) */
    uint64_t records;                /* records the index pass read (sweeps, frames, messages) */
    uint64_t bad_units;              /* bad units reported for it (both passes) */
    const char *timing_of;           /* what `timing` measures: "sweep device time", "frame
                                        capture time", "message capture time"; NULL: nothing */
    vxs_stream_summary_t timing;     /* those times' rate, intervals, gaps, order, duplicates */
    vxs_gap_t gaps[VXS_STREAM_TOP_GAPS]; /* its largest gaps, in time order */
    size_t n_gaps;
    const vxs_damage_t *damaged;     /* the first VXS_DAMAGE_LISTED bad units, in file order */
    size_t n_damaged;
} vxs_run_source_t;

/* vxs_frame_stream_t is one stream whose records become frame members: a LiDAR's sweeps (its
 * first sensor) or a camera's frames. The streams are in the order of the frames' members: the
 * reference sensor first (unless frames come at a fixed rate), then the others by (agent id,
 * sensor id). */
typedef struct {
    uint32_t source;          /* index into vxs_run_info_t.sources */
    uint32_t agent;
    uint32_t sensor;          /* the records' sensor number */
    vxs_source_kind_t kind;   /* VXS_SOURCE_LIDAR or VXS_SOURCE_CAMERA */
    const char *name;         /* "ego/lidar": agent id / sensor id */
    size_t clock;             /* index into the clock report's clocks: the domain the records'
                                 own times are read on (the LiDAR's device clock, the camera's
                                 logger) */
    int64_t tolerance_ns;     /* how far a member may be from T */
    bool reference;           /* this stream gives the frame times */
} vxs_frame_stream_t;

/* vxs_clock_info_t is one clock domain and its estimate. */
typedef struct {
    const char *name;        /* stable, unique: "ego/logger", "ego/lidar" (device),
                                "sender:ego/1234/generationDeltaTime", "sender:5678/secMark" */
    vxs_clock_kind_t kind;   /* LOGGER, DEVICE or SENDER */
    int32_t agent;           /* the recording agent (logger, device) or the agent owning the
                                sender (it logs the sender's messages as sent); -1 unknown */
    uint32_t sensor;         /* device clocks: the sensor number */
    uint64_t station;        /* sender clocks: the station / temporary id */
    vxs_v2x_time_field_t field; /* sender clocks: the time field read */
    const char *hint;        /* what anchors or ties it: "gps_locked", "gnss", "offset_ns" or
                                NULL */
    bool has_offset;         /* a known offset was given (hint "offset_ns") */
    int64_t offset_ns;       /* ... reference = local + offset_ns */
    vxs_clock_result_t est;  /* the solver's estimate */
} vxs_clock_info_t;

/* vxs_relation_piece_t is one unbroken stretch of a relation's lower envelope, fitted as
 *     y(x) = offset_ns + slope * (x - epoch)
 * where x is a reading of the relation's `from` clock and y (the `to` clock's reading) - x. */
typedef struct {
    vxs_time_t x_start;     /* x of its first sample */
    vxs_time_t x_end;       /* x of its last sample */
    double offset_ns;
    double slope;           /* dimensionless (1e-6 is 1 ppm) */
    uint64_t samples;
    uint32_t inliers;       /* windows the final fit used */
    double resid_median_ns; /* median over inlier windows of (window's lowest y - line) */
    double offset_sd_ns;    /* 1 sigma of the line at the epoch */
    double slope_sd;
} vxs_relation_piece_t;

/* VXS_RELATION_RESID_MAX is the most points a relation's residual series has: the fit's windows
 * (bounded by the series) merged in runs of consecutive ones, each point the lowest of its run,
 * so the series plots the envelope whatever the drive's length. */
#define VXS_RELATION_RESID_MAX 240

/* vxs_relation_resid_t is one point of a relation's lower envelope over time. */
typedef struct {
    vxs_time_t x;       /* the lowest sample's x, on the relation's `from` clock */
    vxs_time_t t_ref;   /* x on the reference timeline (the solved model of `from`) */
    double fit_ns;      /* its y minus the relation's own fitted line (the piece holding x) */
    double model_ns;    /* its y minus what the solved clock models and the relation's floor
                           say the envelope is at x: how well the solution explains the data */
    uint32_t windows;   /* fit windows merged into the point */
} vxs_relation_resid_t;

/* vxs_clock_relation_t is one relation between two clocks measured by the data: samples (x on
 * `from`, y = reading of `to` - x), their fitted lower envelope, and how far the solved models
 * are from it. */
typedef struct {
    size_t from, to;          /* indexes into the clock report's clocks */
    vxs_delay_class_t delay;
    uint64_t samples;
    uint32_t windows;         /* windows of the fit */
    uint32_t windows_below;   /* windows under the line beyond the noise (impossible stamps) */
    uint32_t windows_above;   /* windows left out as outliers above the envelope */
    size_t n_pieces;          /* 0 when there were too few samples to fit */
    vxs_relation_piece_t pieces[VXS_CLOCK_MAX_PIECES];
    bool has_residual;        /* n_pieces > 0 */
    double residual_ns;       /* the first piece's offset minus what the solved models and the
                                 floor say it should be at the epoch */
    double floor_ns;          /* the relation's minimum delay: a V2X link's latency floor, a
                                 radio stack's own-message logging delay; 0 for NONE */
    double floor_sd_ns;       /* its uncertainty (1 sigma) */
    bool floor_measured;      /* both clocks are pinned otherwise, so the data measure it; if
                                 not, it comes from its class's prior (vxs_clock_report_t) */
    bool floor_clamped;       /* the data put it below 0: held at 0 */
    const vxs_relation_resid_t *resid; /* its envelope over time (n_resid points, x order) */
    size_t n_resid;
} vxs_clock_relation_t;

/* vxs_clock_pair_t is two agents whose V2X messages flow both ways, compared through their
 * loggers: the two one-way envelopes separate the offset from the minimum latency (NTP's
 * two-way combination). */
typedef struct {
    uint32_t a, b;              /* agent indexes, a's id before b's */
    double offset_ns;           /* b's logger - a's logger, from the two envelopes */
    double min_latency_ns;      /* the minimum latency, assumed the same both ways */
    double solver_offset_ns;    /* b's logger - a's logger, as the solver estimated them */
} vxs_clock_pair_t;

/* vxs_clock_report_t is everything the clock estimation found. */
typedef struct {
    vxs_time_t epoch;              /* the first whole second of the drive: models' epoch */
    const vxs_clock_info_t *clocks; /* sorted by name */
    size_t n_clocks;
    size_t reference_clock;        /* the clock defining the reference when nothing was anchored;
                                      SIZE_MAX when anchors (GNSS/PPS time, known offsets) do */
    uint32_t hints_rejected;
    double delay_ns[VXS_DELAY_CLASSES]; /* per class, the prior of the floors the data do not
                                           measure: the mean of the measured ones, else the
                                           default (NONE: 0) */
    double delay_sd_ns[VXS_DELAY_CLASSES]; /* ... and its spread */
    bool delay_used[VXS_DELAY_CLASSES];
    uint32_t floors_measured[VXS_DELAY_CLASSES]; /* relations whose floor the data measure */
    const vxs_clock_relation_t *relations; /* sorted by (from name, to name, delay class) */
    size_t n_relations;
    const vxs_clock_pair_t *pairs;         /* by (a id, b id) */
    size_t n_pairs;
} vxs_clock_report_t;

/* vxs_run_info_t is what a sink learns at the beginning of a run. */
typedef struct {
    const vxs_manifest_t *manifest;
    const vxs_run_source_t *sources; /* n_sources, the job's order */
    size_t n_sources;
    const vxs_frame_stream_t *streams; /* the frames' members, in order */
    size_t n_streams;
    bool fixed_rate;                 /* frame times tick at manifest->frames.rate_hz instead of
                                        coming from a reference stream */
    const vxs_clock_report_t *clocks;
    int64_t v2x_window_ns;           /* messages received in (T - window, T] are attached */
    bool has_origin;                 /* the ENU frame's origin is known (any position at all) */
    double origin_lat_deg, origin_lon_deg, origin_alt_m; /* WGS-84 */
    const char *origin_from;         /* "manifest", or the first fix: "first fix: <path> record
                                        N" */
    vxs_time_t t_from, t_to;         /* frames are given for T in [t_from, t_to); VXS_TIME_NONE:
                                        unbounded on that side */
} vxs_run_info_t;

/* ==== 3. The frame ====================================================================== */

/* vxs_member_status_t says whether a frame got a member of a stream, and if not, why. */
typedef enum {
    VXS_MEMBER_OK = 0,
    VXS_MEMBER_NO_ITEMS = 1,              /* the stream had no item at all */
    VXS_MEMBER_NONE_WITHIN_TOLERANCE = 2, /* nearest item farther than the tolerance */
    VXS_MEMBER_NOT_IN_SET = 3,            /* APPROXIMATE: the reference item is in no set */
    VXS_MEMBER_NO_EXACT = 4,              /* EXACT: no item at T */
    VXS_MEMBER_BEFORE_START = 5,          /* T is earlier than the stream's first item by more
                                             than the tolerance */
    VXS_MEMBER_AFTER_END = 6,             /* T is later than the stream's last item by more than
                                             the tolerance */
    VXS_MEMBER_SET_BEYOND_TOLERANCE = 7   /* APPROXIMATE: the set's member is farther than the
                                             tolerance (a minimal-span set need not hold the item
                                             nearest T) */
} vxs_member_status_t;

/* vxs_member_status_name returns "ok", "no_items", "none_within_tolerance", "not_in_set",
 * "no_exact", "before_start", "after_end", "set_beyond_tolerance" ("unknown"). Never NULL. */
const char *vxs_member_status_name(vxs_member_status_t s);

/* vxs_frame_member_t is one stream's member of a frame. */
typedef struct {
    vxs_member_status_t status;
    const vxs_record_t *record; /* OK: the member's record (its locator, summary, own times);
                                   NULL otherwise */
    uint64_t item;              /* OK: the record's number in its stream from 0 (sweep or frame
                                   index among the records the frame pass read) */
    vxs_time_t t_local;         /* OK: the time standing for the record on its own clock (the
                                   LiDAR's sweep_time convention on its device clock; the
                                   camera frame's stamp less the manifest's stamp_latency_ms:
                                   its exposure, on the logger clock) */
    vxs_time_t t_ref;           /* OK: t_local on the reference timeline. Otherwise the item
                                   that was refused (the nearest one, or APPROXIMATE's set
                                   member), VXS_TIME_NONE when the stream had no item at all */
    int64_t dt_ns;              /* t_ref - T (when t_ref is not VXS_TIME_NONE) */
    uint32_t piece;             /* OK: the piece of the clock's model t_ref was read on:
                                   t_ref = vxs_clock_piece_to_reference(model, piece, t_local) */
    const char *reason;         /* NULL when OK; else "ego/camera: none_within_tolerance
                                   (nearest 31.2 ms away, tolerance 25.0 ms)" */
} vxs_frame_member_t;

/* ---- the V2X annotations' kinematics (README "The annotation model") ----------------------
 * Frames and signs. ENU: the scenario's local east-north-up frame (x east, y north, z up,
 * metres; its origin is vxs_run_info_t.origin). A yaw is radians counter-clockwise from east (a
 * heading of 0 deg, north, is a yaw of pi/2), a yaw rate positive counter-clockwise. A body
 * frame: x forward, y left, z up, its origin the agent's reference point (the centre of its box
 * on the ground). */

/* Classes of road user: the motion model's unmodelled terms depend on them. */
typedef enum { VXS_KIN_VEHICLE = 0, VXS_KIN_PEDESTRIAN = 1, VXS_KIN_STATIC = 2 } vxs_kin_class_t;

/* vxs_msg_state_t is a sender's state as one message reports it, in ENU. */
typedef struct {
    bool valid;              /* the message has a position (nothing else is set without one) */
    vxs_kin_class_t cls;
    double x, y, z;          /* the reference point (box centre), m; z NaN without an altitude */
    double ref_shift_m;      /* how far the reported point was moved back to the box centre (an
                                ETSI vehicle reports the centre of its box's front); else 0 */
    bool has_speed, has_heading, has_yaw_rate, has_accel;
    double speed, yaw, yaw_rate, accel; /* m/s, rad, rad/s, m/s^2 (0 when absent) */
    double length, width;    /* m, NaN when absent */
    double pos_sd;           /* claimed 1-sigma horizontal position error per axis, m */
    bool pos_sd_claimed;     /* false: the message claims none; pos_sd is the class default */
    double speed_sd;         /* m/s, 1 sigma (claimed, else the class default) */
    double yaw_sd;           /* rad, 1 sigma (claimed, else the class default) */
    bool speed_sd_claimed, yaw_sd_claimed;
} vxs_msg_state_t;

/* Motion models a prediction used. */
typedef enum {
    VXS_PRED_NONE = 0, /* no prediction: no position, or a mover without speed or heading */
    VXS_PRED_STATIC,   /* a roadside unit: it does not move */
    VXS_PRED_CV,       /* constant velocity */
    VXS_PRED_CA,       /* constant acceleration along a straight line */
    VXS_PRED_CTRV,     /* constant turn rate and velocity */
    VXS_PRED_CTRA      /* constant turn rate and acceleration */
} vxs_pred_model_t;

/* vxs_pred_model_name returns "none", "static", "cv", "ca", "ctrv" or "ctra". */
const char *vxs_pred_model_name(vxs_pred_model_t m);

/* vxs_msg_pred_t is a message's state advanced to the frame time, with its uncertainty. */
typedef struct {
    vxs_pred_model_t model;
    double x, y, z, yaw, speed;  /* ENU */
    double moved_m;              /* distance travelled since generation (along the path) */
    double sd_along, sd_across;  /* 1 sigma along and across the predicted heading, m */
    double sd;                   /* sqrt((sd_along^2 + sd_across^2) / 2): per axis, RMS */
    double yaw_sd;               /* of the predicted yaw, rad */
} vxs_msg_pred_t;

/* vxs_pose_t is where an agent is at one instant, in ENU. */
typedef struct {
    bool valid;
    double x, y, z, yaw;
    double sd, yaw_sd; /* 1 sigma per axis (m), of the yaw (rad) */
} vxs_pose_t;

/* vxs_msg_body_t is a prediction in a receiver's body frame at the frame time. */
typedef struct {
    double x, y, z; /* m; z NaN when either altitude is unknown */
    double yaw;     /* the sender's predicted yaw relative to the receiver's, (-pi, pi] */
    double sd;      /* 1 sigma per axis: the prediction's and the receiver pose's */
    double range;   /* horizontal distance, m */
} vxs_msg_body_t;

/* vxs_frame_msg_t is one V2X message a receiving agent had in the window before T, on the
 * reference timeline, with its annotations: those of the message (set once) and those of the
 * frame it is attached to (age, prediction, body frame: set for each frame). */
typedef struct {
    uint32_t source;        /* the receiver's V2X source (index into the run's sources) */
    uint64_t message;       /* the message's number among that source's records, from 0 */
    vxs_locator_t loc;
    int32_t sender_agent;   /* the agent owning the sender station, -1 when none does */
    uint64_t station;
    uint16_t protocol;      /* VXS_V2X_PROTO_* */
    uint16_t msg_type;      /* J2735 DSRCmsgID or ETSI messageID */
    bool has_counter;       /* the message's counter (J2735 msgCnt, DENM sequenceNumber) */
    uint64_t counter;
    vxs_time_t capture;     /* on the receiver's logger clock */
    vxs_time_t rx_ref;      /* reception on the reference timeline: the receiver logger's
                               model on piece rx_piece applied to `capture` */
    uint32_t rx_piece;
    vxs_time_t gen;         /* generation on the sender's clock; VXS_TIME_NONE when the
                               message has no time field */
    vxs_time_t gen_ref;     /* generation on the reference timeline (when gen is known) */
    vxs_v2x_time_field_t field; /* which of the sender's fields `gen` is */
    bool has_latency;       /* latency_ns is known: gen is the message's own generation time
                               (a DENM's referenceTime is the event's, repeated unchanged by
                               every repetition: it dates the event, not the transmission) */
    int64_t latency_ns;     /* rx_ref - gen_ref - half the field's resolution (a field counting
                               whole ms truncates: the message left on average 0.5 ms after
                               its stamp) */
    double latency_sd_ns;   /* its uncertainty: both clocks' offset sd and the field's
                               resolution / sqrt(12) */
    uint32_t flags;         /* VXS_MSG_* */
    vxs_v2x_summary_t v2x;  /* what the message says, as decoded (the record's summary) */
    const vxs_v2x_object_t *objects; /* a CPM's perceived objects (v2x.n_objects): only in a
                                        sink's message call, NULL in frames */
    vxs_msg_state_t state;  /* the sender's state it reports, in ENU */
    /* -- at the frame time T (vxs_frame_t.t) -------------------------------------------- */
    bool has_age;           /* the message has a generation time (gen_ref known) */
    int64_t age_ns;         /* T - generation: latency_ns + (T - rx_ref) when has_latency */
    vxs_msg_pred_t pred;    /* state advanced by the age (model NONE: not predicted) */
    bool has_body;          /* pred in the receiver's body frame: body */
    vxs_msg_body_t body;
} vxs_frame_msg_t;

/* Flags of a received message (vxs_frame_msg_t.flags). */
enum {
    VXS_MSG_DUPLICATE = 1u << 0,  /* the same sender, type and generation time received before */
    VXS_MSG_REORDERED = 1u << 1,  /* older than one already received from that sender and type */
    VXS_MSG_LATE = 1u << 2,       /* latency above the manifest's frames.v2x_late_ms */
    VXS_MSG_IMPOSSIBLE = 1u << 3, /* received before it was sent beyond what the clocks'
                                     uncertainty explains: rx_ref - gen_ref < -max(1 ms,
                                     5 (sd_rx + sd_tx)), the clocks.json count's rule */
    VXS_MSG_OUT_OF_RANGE = 1u << 4 /* a field's value is one its standard does not allow: the
                                      message is annotated without it (v2x.out_of_range) */
};

/* vxs_frame_link_t is the state of one link (a sender heard by a receiver over the drive) at T:
 * silent when it is in a dropout (links.json's: nothing received for longer than the manifest's
 * frames.v2x_dropout_intervals of the sender's shortest interval at this receiver), or, for a
 * sender none of whose messages is counted, when nothing was received within the window. */
typedef struct {
    int32_t sender_agent;   /* -1: a station no agent owns */
    uint64_t station;       /* when sender_agent is -1 */
    bool silent;
    vxs_time_t last_rx_ref; /* last reception up to T; VXS_TIME_NONE: none yet */
    bool has_aoi;           /* a message with a generation time was received by T */
    int64_t aoi_ns;         /* age of information at T: T - the generation of the newest
                               message received by T (its generation as the latency takes it;
                               below 0 when that message's latency was, within the clocks'
                               noise) */
    const char *reason;     /* silent: "link vehicle2 -> ego silent: a dropout, no message
                               received in the last 1.000 s (10 of its 0.100 s intervals)", or
                               (no counted type) "... silent: no message received in the last
                               1.000 s"; else NULL */
} vxs_frame_link_t;

/* vxs_frame_v2x_t is what one receiving agent's V2X source had at T. */
typedef struct {
    uint32_t agent;
    uint32_t source;
    vxs_pose_t pose;          /* the receiving agent at T (valid false: unknown, see pose_reason) */
    const char *pose_from;    /* "manifest" (its fixed pose), "own messages" (what it sent around
                                 T, interpolated), "lidar gnss" (its LiDAR's NMEA fixes); NULL
                                 when unknown */
    const char *pose_reason;  /* why it is unknown (no body-frame positions then); else NULL */
    const vxs_frame_msg_t *msgs; /* received in (T - window, T], in capture order */
    size_t n_msgs;
    const vxs_frame_link_t *links;
    size_t n_links;
} vxs_frame_v2x_t;

/* vxs_frame_t is one synchronized frame. */
typedef struct {
    uint64_t index;                     /* frames counted from 0 over the whole drive */
    vxs_time_t t;                       /* T on the reference timeline */
    const vxs_frame_member_t *members;  /* one per run stream, in the run's order */
    size_t n_members;
    const vxs_frame_v2x_t *v2x;         /* one per V2X source, in the run's order */
    size_t n_v2x;
    bool partial;                       /* a member is missing or a link is silent */
    const char *const *reasons;         /* why it is partial: the members' reasons in order,
                                           then the silent links' */
    size_t n_reasons;
} vxs_frame_t;

/* vxs_fetcher_t fetches the payload of a record through the source that produced it
 * (vxs_source_fetch: LiDAR sweep points, camera RGB24; vxs_core.h "vxs_source_ops_t"). A sink
 * calls vxs_fetcher_fetch only for the frames and members it writes, so nothing else is decoded. */
typedef struct {
    vxs_status_t (*fn)(void *user, vxs_buf_t *out, const vxs_record_t *rec);
    void *user;
} vxs_fetcher_t;

/* vxs_fetcher_fetch fetches the payload of `rec` (a frame member's record) into `out`. */
vxs_status_t vxs_fetcher_fetch(const vxs_fetcher_t *f, vxs_buf_t *out, const vxs_record_t *rec);

/* ==== 4. The run's summary ============================================================== */

/* VXS_IMPOSSIBLE_LISTED is how many impossible messages a summary lists with their position. */
#define VXS_IMPOSSIBLE_LISTED 20

/* vxs_impossible_msg_t is a message received before it was sent, beyond what the clocks'
 * uncertainty explains. */
typedef struct {
    uint32_t source;        /* index into the run's sources */
    uint64_t record;        /* its unit number in the file, from 1 */
    uint64_t byte_offset;
    int64_t latency_ns;     /* reception - generation on the reference timeline (< 0) */
} vxs_impossible_msg_t;

/* VXS_LINK_BURST_BINS: a link report counts runs of 1 .. VXS_LINK_BURST_BINS - 1 messages lost
 * in a row each, the longer runs together. */
#define VXS_LINK_BURST_BINS 16

/* Distance and time bins of a link report (sync's vxs_link_t, vxs_sync.h, keeps them): 40 bins
 * of 25 m, the last open, then one for unknown distances; at most 64 time bins. */
#define VXS_LINK_DIST_BINS 40
#define VXS_LINK_DIST_BIN_M 25.0
#define VXS_LINK_TIME_BINS 64

/* VXS_LINK_DROPOUTS_LISTED is how many dropouts a link report lists with their times. */
#define VXS_LINK_DROPOUTS_LISTED 16

/* vxs_link_dropout_t is one silence of a link: from the last message received before it to the
 * first after, on the reference timeline. */
typedef struct {
    vxs_time_t start, end;
} vxs_link_dropout_t;

/* vxs_link_report_t is one directed link over the drive: a sender's messages of one type at one
 * receiving V2X source, counted by the sender's message counter (J2735 msgCnt, which counts each
 * sender's messages of each type 0..127) between the first and the last message received. */
typedef struct {
    uint32_t source;        /* the receiving V2X source (index into the run's sources) */
    uint32_t agent;         /* the receiving agent */
    int32_t sender_agent;   /* the agent owning the station, -1 when none does */
    uint64_t station;
    uint16_t protocol;      /* VXS_V2X_PROTO_* */
    uint16_t msg_type;      /* J2735 DSRCmsgID or ETSI messageID */
    const char *counter;    /* what the messages were counted by: "msgCnt" */
    vxs_time_t first_rx, last_rx; /* capture times of the first and last received (receiver's
                                     logger clock) */
    uint64_t received;      /* messages in the capture, duplicates included */
    uint64_t delivered;     /* distinct messages */
    uint64_t duplicates;    /* a message received again (same counter and generation time) */
    uint64_t reordered;     /* received after one the sender sent later */
    uint64_t stale;         /* reordered so late (256 messages) it had been counted lost */
    uint64_t reused;        /* a counter received again with another generation time */
    uint64_t lost;          /* counted messages never received */
    uint64_t sent;          /* delivered + lost - stale */
    uint64_t bursts[VXS_LINK_BURST_BINS + 1]; /* [k]: runs of k lost in a row; [BINS]: longer */
    uint64_t longest_burst;
    double interval_s;      /* the sender's interval between two counts (0: unknown) */
    uint64_t dropouts;      /* silences longer than the manifest's frames.v2x_dropout_intervals
                               sender intervals (between two messages received) */
    double dropout_total_s, dropout_longest_s; /* on the receiver's logger clock */
    vxs_link_dropout_t dropout_listed[VXS_LINK_DROPOUTS_LISTED]; /* the first ones */
    size_t n_dropout_listed;
    /* latency of the messages the frame pass read (up to the last frame), as frames.jsonl
       gives it; quantiles to 1 % of their value */
    uint64_t latency_n;     /* 0: none (no frames, or no generation times) */
    double latency_min_ms, latency_p50_ms, latency_p95_ms, latency_p99_ms, latency_max_ms;
    double jitter_ms;       /* mean absolute change of latency between consecutive messages */
    /* -- the counted span and what the sender's own log says of it ------------------------- */
    bool inferred;          /* no counter: places inferred from generation times ("interval") */
    vxs_time_t first_gen, last_gen; /* the span's first and last generation (sender's clock) */
    bool has_sent_logged;   /* the sender is an agent of the scenario that logs what it sends */
    uint64_t sent_logged;   /* ... and it logged this many of this type generated in the span */
    /* -- delivery by sender-receiver distance and over time (vxs_link_t's bins) ------------- */
    uint64_t dist_sent[VXS_LINK_DIST_BINS + 1], dist_delivered[VXS_LINK_DIST_BINS + 1];
    uint64_t time_sent[VXS_LINK_TIME_BINS], time_delivered[VXS_LINK_TIME_BINS];
    vxs_time_t time_t0;     /* the first bin's start on the reference timeline */
    int64_t time_bin_ns;
    size_t n_time_bins;     /* bins used */
} vxs_link_report_t;

/* vxs_run_summary_t is what a run found, given to a sink's finish. */
typedef struct {
    uint64_t frames;
    uint64_t partial_frames;
    uint64_t v2x_attached;      /* messages attached to frames, counted once per frame */
    uint64_t impossible;        /* messages received before they were sent */
    const vxs_impossible_msg_t *impossible_listed; /* the first VXS_IMPOSSIBLE_LISTED */
    size_t n_impossible_listed;
    uint64_t out_of_order;      /* member records out of order on the reference timeline, not
                                   matched */
    uint64_t damaged_units;     /* bad units the sources reported (both passes) */
    uint64_t v2x_out_of_range;  /* V2X messages kept without a field whose value was out of
                                   range (each reported, with its position, to the diag sink) */
    uint32_t rate_changes_dropped; /* changes of a clock's rate found but not kept: the solve
                                      with them rejected an anchor or hint the solve without
                                      them kept */
    double seconds_index, seconds_clocks, seconds_frames;
    const vxs_link_report_t *links; /* every counted link, by (source, station, type) */
    size_t n_links;
} vxs_run_summary_t;

/* ==== 5. The frame sink ================================================================= */

/* vxs_frame_sink_ops_t is the vtable a writer of synchronized output implements.
 *   begin:   the run starts (after the clocks are estimated): what it holds stays valid until
 *            finish returns.
 *   frame:   one frame, in time order; `fetch` gets the members' payloads. Borrowed for the
 *            call only.
 *   finish:  the run ended: complete the output (flush, fsync, rename into place). After
 *            finish only destroy may be called.
 *   errmsg:  the last error, naming the output file; never NULL.
 *   destroy: free the state; a sink destroyed before finish abandons its output, leaving nothing
 *            under the final name.
 *   message: (optional, NULL: none) one received V2X message with its annotations (those of the
 *            message: the frame-time fields are unset), once per message and receiver, whether
 *            or not a frame gets it; between begin and finish, each source's in reception
 *            order. Borrowed for the call only. */
typedef struct {
    const char *name;
    vxs_status_t (*begin)(void *impl, const vxs_run_info_t *run);
    vxs_status_t (*frame)(void *impl, const vxs_frame_t *f, const vxs_fetcher_t *fetch);
    vxs_status_t (*finish)(void *impl, const vxs_run_summary_t *sum);
    const char *(*errmsg)(const void *impl);
    void (*destroy)(void *impl);
    vxs_status_t (*message)(void *impl, const vxs_frame_msg_t *m);
} vxs_frame_sink_ops_t;

/* vxs_frame_sink_t is an opaque handle pairing a frame-sink vtable with its state. */
typedef struct vxs_frame_sink vxs_frame_sink_t;

/* vxs_frame_sink_create wraps `impl` behind `ops` (which must outlive the sink; normally
 * static; every function but errmsg and destroy must be set). On success *out owns impl:
 * vxs_frame_sink_destroy calls ops->destroy(impl). On failure (VXS_E_ARG, VXS_E_NOMEM) impl is
 * NOT destroyed and stays the caller's. */
vxs_status_t vxs_frame_sink_create(vxs_frame_sink_t **out, const vxs_frame_sink_ops_t *ops,
                                   void *impl);

/* vxs_frame_sink_begin / _frame / _finish forward to the vtable, in the order begin, frame...,
 * finish, each at most once but frame: a call out of that order returns VXS_E_STATE. A run that
 * fails destroys its sinks unfinished, so nothing appears under their final names. */
vxs_status_t vxs_frame_sink_begin(vxs_frame_sink_t *s, const vxs_run_info_t *run);
vxs_status_t vxs_frame_sink_frame(vxs_frame_sink_t *s, const vxs_frame_t *f,
                                  const vxs_fetcher_t *fetch);
vxs_status_t vxs_frame_sink_finish(vxs_frame_sink_t *s, const vxs_run_summary_t *sum);
/* vxs_frame_sink_message forwards one message between begin and finish (VXS_OK without doing
 * anything for a sink with no message function). */
vxs_status_t vxs_frame_sink_message(vxs_frame_sink_t *s, const vxs_frame_msg_t *m);

/* vxs_frame_sink_errmsg returns the last error message; never NULL. */
const char *vxs_frame_sink_errmsg(const vxs_frame_sink_t *s);

/* vxs_frame_sink_destroy destroys the sink and its impl (abandoning unfinished output). Accepts
 * NULL. */
void vxs_frame_sink_destroy(vxs_frame_sink_t *s);

#ifdef __cplusplus
}
#endif
#endif /* VXS_FRAME_H */
