/*
 * vxs_sync.h: the public API of v2xsync's sync module.
 *
 * sync/ turns timestamps into knowledge about clocks and streams. It depends on core/ only: it
 * never sees a pcap record, an AVPacket or a file format, just times and counters.
 *
 * Sections: 1. per-stream timing statistics (rate, gaps, jitter, duplicates, out-of-order and
 * jumping timestamps: what QA reports and `v2xsync inspect` print for every flow); 2. offset
 * series, one clock against another with their lower envelope; 3. frame matching; 4. the clock
 * solver; 5. the job, which runs a scenario manifest through all of them: sources in (core's
 * vxs_source_t), frames out (core's vxs_frame_sink_t, vxs_frame.h); 6. link quality, what a
 * receiver got of what a sender sent, from the sender's message counter.
 */
#ifndef VXS_SYNC_H
#define VXS_SYNC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vxs_core.h"
#include "vxs_frame.h"
#include "vxs_manifest.h"

#ifdef __cplusplus
extern "C" {
#endif

/* vxs_stream_stats_t accumulates the arrival times of one stream (a flow of a capture, the
 * frames of a video) in constant memory, whatever the stream's length:
 *
 *   - count, first/last time in arrival order, min/max time;
 *   - out-of-order arrivals (a time earlier than the latest seen so far) and duplicates (a time
 *     equal to the previous one), with the unit number of the first of each;
 *   - the intervals between consecutive in-order arrivals: their mean, a logarithmic histogram
 *     with 256 bins per octave (bin width 0.27 %, each bin with the sum and sum of squares of
 *     its intervals) from which the median interval and the jitter are read, and the largest
 *     intervals kept exactly with their position;
 *   - gaps: intervals longer than 1.5 x the median interval.
 *
 * The histogram is allocated one octave (9 KiB) at a time as intervals land in it, so a regular
 * stream costs a few tens of kilobytes. Out-of-order arrivals do not contribute an interval
 * (their distance to
 * the latest time is counted in max_backstep_ns instead). */
typedef struct vxs_stream_stats vxs_stream_stats_t;

/* vxs_stream_stats_create allocates an empty accumulator. The caller destroys it with
 * vxs_stream_stats_destroy. Returns VXS_E_NOMEM on allocation failure. */
vxs_status_t vxs_stream_stats_create(vxs_stream_stats_t **out);

/* vxs_stream_stats_destroy frees `s`. Accepts NULL. */
void vxs_stream_stats_destroy(vxs_stream_stats_t *s);

/* vxs_stream_stats_add records one arrival at time `t` (VXS_TIME_NONE is ignored and counted in
 * `untimed`). `unit` is the caller's position of the arrival (a packet number), reported back
 * with gaps and the first out-of-order arrival. Returns VXS_E_NOMEM if a histogram octave could
 * not be allocated; the arrival is still counted, only its interval is left out of the median. */
vxs_status_t vxs_stream_stats_add(vxs_stream_stats_t *s, vxs_time_t t, uint64_t unit);

/* vxs_stream_stats_count returns how many arrivals (timed or not) were added. */
uint64_t vxs_stream_stats_count(const vxs_stream_stats_t *s);

/* vxs_gap_t and vxs_stream_summary_t are core's (vxs_frame.h): the run's sources carry them. */

/* vxs_stream_stats_summarize fills *out from everything added so far. */
void vxs_stream_stats_summarize(const vxs_stream_stats_t *s, vxs_stream_summary_t *out);

/* vxs_stream_stats_largest_gaps copies into `out` (room for `out_len` entries) the largest
 * intervals that are gaps (longer than 1.5 x the median), at most VXS_STREAM_TOP_GAPS, in time
 * order, and returns how many it copied. */
size_t vxs_stream_stats_largest_gaps(const vxs_stream_stats_t *s, vxs_gap_t *out, size_t out_len);


/* ==== 2. Offset series: one clock against another, and its lower envelope =============== */

/* A series relates two clocks through samples (x, y): x is a reading of the "source" clock when
 * something was emitted (a LiDAR packet's device time, a V2X message's generation time) and
 * y = (reading of the "destination" clock when it was recorded, e.g. the logger's capture time)
 * - x, in ns. Every y is the clocks' offset at x plus a delay that is never negative and is
 * often near its minimum:
 *
 *     y_i = offset + slope * (x_i - x0) + delay_i,   delay_i >= delay_min
 *
 * so the *lower envelope* of the points is the offset line (plus the minimum delay), as in
 * ../shared/specs/sync-and-clocks.md section 3. The destination clock may jump (an NTP step):
 * the envelope is then a line broken into pieces with the same slope.
 *
 * Memory is bounded whatever the series' length: samples are folded, as they arrive, into
 * windows of `window_ns` of x that keep only their lowest sample, the lower convex hull of their
 * samples (at most VXS_SERIES_HULL_MAX points) and counts; when there are more than
 * `max_windows` windows, adjacent windows are merged pairwise (never across a detected jump), so
 * a long drive gets wider windows, not more of them. Samples must come in roughly increasing x
 * (file order); a sample with x earlier than the current window's start is folded into the
 * window it belongs to when that window is still kept, else into the oldest kept one.
 *
 * Jumps are detected online: a sustained step of the envelope by at least `jump_min_ns` (after
 * `jump_confirm` further samples, all at the new level within the noise) is a jump; a single
 * late sample (a delay spike) or a few are not. A confirmed jump closes the current window at the
 * first sample of the new level, so its x is known to within the spacing of two samples. */

#define VXS_SERIES_HULL_MAX 8
#define VXS_SERIES_MAX_PIECES VXS_CLOCK_MAX_PIECES

/* vxs_series_opts_t configures a series; vxs_series_opts_init sets the defaults shown. */
typedef struct {
    int64_t window_ns;    /* 100 ms: window width before any merging */
    size_t max_windows;   /* 2048: windows kept before merging pairs */
    int64_t jump_min_ns;  /* 5 ms: smallest envelope step reported as a jump */
    uint32_t jump_confirm; /* 8: samples after the step that must stay at the new level */
} vxs_series_opts_t;

void vxs_series_opts_init(vxs_series_opts_t *o);

typedef struct vxs_series vxs_series_t;

/* vxs_series_create allocates an empty series (`o` NULL: defaults). VXS_E_ARG for a window <= 0,
 * max_windows < 4 or jump_confirm < 1; VXS_E_NOMEM. */
vxs_status_t vxs_series_create(vxs_series_t **out, const vxs_series_opts_t *o);

/* vxs_series_destroy frees `s`. Accepts NULL. */
void vxs_series_destroy(vxs_series_t *s);

/* vxs_series_add adds one sample. x must not be VXS_TIME_NONE (VXS_E_ARG, nothing added).
 * VXS_E_NOMEM leaves the series as it was. */
vxs_status_t vxs_series_add(vxs_series_t *s, vxs_time_t x, int64_t y);

/* vxs_series_count returns how many samples were added. */
uint64_t vxs_series_count(const vxs_series_t *s);

/* vxs_series_piece_t is one unbroken stretch of the envelope. Offsets are in ns and slopes
 * dimensionless (ns per ns: 1e-6 is 1 ppm); the piece's line is
 *     y(x) = offset_ns + slope * (x - x0)      (x0: the fit's, shared by every piece) */
typedef struct {
    vxs_time_t x_start;        /* x of its first sample */
    vxs_time_t x_end;          /* x of its last sample */
    double offset_ns;
    double slope;
    uint64_t samples;
    uint32_t windows;          /* windows in the piece */
    uint32_t inliers;          /* windows the final fit used */
    double resid_median_ns;    /* median over inlier windows of (window's lowest y - line): how
                                  close to the envelope the typical window gets */
    double offset_sd_ns;       /* uncertainty (1 sigma) of the line at x0 */
    double slope_sd;           /* uncertainty (1 sigma) of the slope */
    vxs_time_t x_center;       /* the x where the line's offset and slope are uncorrelated (the
                                  mean x of the inlier windows' minima): fits combine there, so
                                  nothing depends on where x0 lies */
    double center_sd_ns;       /* uncertainty (1 sigma) of the line at x_center */
} vxs_series_piece_t;

/* vxs_series_fit_t is the fitted envelope. */
typedef struct {
    vxs_time_t x0;
    size_t n_pieces;                                /* 0 when there were too few samples */
    vxs_series_piece_t pieces[VXS_SERIES_MAX_PIECES];
    uint64_t samples;
    uint32_t windows;
    uint32_t windows_below;  /* windows whose lowest sample lies under the fitted line by more
                                than max(1 ms, 5 x the noise scale): samples that would mean a
                                negative delay (reported as impossible) */
    uint32_t windows_above;  /* windows left out of the fit as outliers above the envelope */
    uint32_t jumps_merged;   /* jumps beyond VXS_SERIES_MAX_PIECES - 1, folded into the last
                                piece (its fit is then poor; reported) */
} vxs_series_fit_t;

/* vxs_series_fit fits the envelope of everything added so far, piece by piece: Theil-Sen (the
 * median of pairwise slopes) on the windows' lowest samples, inliers = windows whose lowest
 * sample lies within a robust band around that line, then the lower-hull fit on the inliers'
 * hull points: the line under all of them that minimises the summed vertical distance to all
 * samples (the hull edge over their mean x, Zhang-Liu-Xia), which is exact for a noise floor.
 * Pieces with one window get the slope of their neighbours. Needs >= 2 samples per piece;
 * VXS_E_STATE if the series has fewer than 2 samples (out->n_pieces = 0). Does not change the
 * series (may be called again after more samples). */
vxs_status_t vxs_series_fit(const vxs_series_t *s, vxs_time_t x0, vxs_series_fit_t *out);

/* vxs_series_fit_split fits like vxs_series_fit, but with the pieces given instead of the jumps
 * the series detected itself: the clock's steps, known from all its relations (a sparse relation
 * may miss a step or see two as one). Step i happened somewhere in [lo[i], hi[i]] (x of this
 * series, increasing, not overlapping): windows reaching into that span are left out (they may
 * mix both levels) and the first window after it begins a new piece. A piece left with no window
 * is not reported (the fit has fewer pieces). Same errors as vxs_series_fit. */
vxs_status_t vxs_series_fit_split(const vxs_series_t *s, vxs_time_t x0, const vxs_time_t *lo,
                                  const vxs_time_t *hi, size_t n, vxs_series_fit_t *out);

/* vxs_series_fit_cut fits like vxs_series_fit_split, and besides the steps the destination
 * clock's changes of rate: cuts[] (x of this series, increasing) split the series into segments
 * that each get a slope of their own (pieces within one segment share theirs); a window holding
 * a cut is left out, a segment of fewer than two windows too. n_cuts = 0 is
 * vxs_series_fit_split. Same errors. */
vxs_status_t vxs_series_fit_cut(const vxs_series_t *s, vxs_time_t x0, const vxs_time_t *lo,
                                const vxs_time_t *hi, size_t n, const vxs_time_t *cuts,
                                size_t n_cuts, vxs_series_fit_t *out);

/* A window's lowest sample: where the envelope is, window by window. */
typedef struct {
    vxs_time_t x;
    int64_t y;
    uint64_t n; /* samples in its window */
} vxs_series_point_t;

/* vxs_series_minima gives every window's lowest sample in x order (the samples still in the
 * detector's ring committed as vxs_series_fit does): *out (freed with vxs_free; NULL when the
 * series is empty) and *n. Does not change the series. VXS_E_ARG, VXS_E_NOMEM. */
vxs_status_t vxs_series_minima(const vxs_series_t *s, vxs_series_point_t **out, size_t *n);

/* vxs_series_piece_at returns the index of the piece that covers x (the last piece whose x_start
 * <= x; 0 before the first). */
size_t vxs_series_piece_at(const vxs_series_fit_t *f, vxs_time_t x);

/* ==== 3. Frame matching: which record of every stream belongs with each reference time == */

/* A matcher takes time-ordered items (a time on the reference timeline and the caller's id) of
 * several streams; stream 0 is the reference: each of its items is one frame time T. For every
 * frame it picks at most one member per other stream by policy:
 *
 *   NEAREST      the item nearest T, if |t - T| <= tolerance of the stream (ties: the earlier);
 *                an item may serve several frames (a slow stream).
 *   APPROXIMATE  ROS message_filters ApproximateTime over all streams (age penalty 0): sets of
 *                one item per stream, each item in at most one set, sets never crossing, each of
 *                minimal span among those contiguous with the previous; a frame takes the set
 *                holding its reference item, a member of it farther than the tolerance is refused
 *                (status SET_BEYOND_TOLERANCE, describing that member), a reference item in no
 *                set gets NOT_IN_SET.
 *   EXACT        the item with t == T exactly (tolerances ignored).
 *
 * Frames come out in the order of stream 0, as soon as every stream has shown an item past
 * T + tolerance (or has ended), so memory holds the items in flight only. Every reference item
 * gives exactly one frame: a frame missing a member is still given, with the reason. */

typedef enum {
    VXS_MATCH_NEAREST = 0,
    VXS_MATCH_APPROXIMATE = 1,
    VXS_MATCH_EXACT = 2
} vxs_match_policy_t;

/* vxs_match_policy_name returns "nearest", "approximate" or "exact" ("unknown"). */
const char *vxs_match_policy_name(vxs_match_policy_t p);

/* vxs_member_status_t and its names are core's (vxs_frame.h): frames carry them. */

/* vxs_member_t is one stream's member of a frame. When status is OK, t/id/dt_ns are the member;
 * SET_BEYOND_TOLERANCE: the refused set member; otherwise they describe the item nearest T all
 * the same (id/dt_ns meaningless and t VXS_TIME_NONE when the stream has no item at all). */
typedef struct {
    vxs_member_status_t status;
    vxs_time_t t;
    uint64_t id;
    int64_t dt_ns; /* t - T */
} vxs_member_t;

/* vxs_match_frame_t is one decided frame; members[0] is the reference item itself. Lent until
 * the next call on the matcher. */
typedef struct {
    vxs_time_t t;
    uint64_t id;
    size_t n_members;
    const vxs_member_t *members;
} vxs_match_frame_t;

typedef struct vxs_matcher vxs_matcher_t;

/* vxs_matcher_create makes a matcher over `n_streams` (>= 1) streams; tolerance_ns[s] (>= 0) for
 * each (index 0 is ignored). VXS_E_ARG, VXS_E_NOMEM. */
vxs_status_t vxs_matcher_create(vxs_matcher_t **out, vxs_match_policy_t policy, size_t n_streams,
                                const int64_t *tolerance_ns);

void vxs_matcher_destroy(vxs_matcher_t *m);

/* vxs_matcher_push adds an item to `stream`. Times within a stream must not decrease
 * (VXS_E_ARG, item refused); VXS_E_STATE after the stream ended; VXS_E_NOMEM. */
vxs_status_t vxs_matcher_push(vxs_matcher_t *m, size_t stream, vxs_time_t t, uint64_t id);

/* vxs_matcher_end says `stream` will get no more items. */
void vxs_matcher_end(vxs_matcher_t *m, size_t stream);

/* vxs_matcher_pop returns true and fills *out with the next decided frame, false when no frame
 * can be decided yet (push more, or end streams). After every stream has ended it returns every
 * remaining frame. */
bool vxs_matcher_pop(vxs_matcher_t *m, vxs_match_frame_t *out);

/* vxs_matcher_pending returns how many items the matcher holds (memory in flight). */
size_t vxs_matcher_pending(const vxs_matcher_t *m);


/* ==== 4. Clock models and the solver that estimates them ================================= */

/* Clock models (vxs_clock_model_t), the functions applying them, delay classes, clock methods
 * and the solver's result per clock (vxs_clock_result_t) are core's (vxs_frame.h section 1):
 * every module maps times with them. */

/* VXS_RATE_CHANGES_MAX is the most changes of rate one clock is given (vxs_rate_changes). */
#define VXS_RATE_CHANGES_MAX 8

/* vxs_clock_node_t is one clock domain given to the solver, with what the user or the data's
 * nature says about it. */
typedef struct {
    const char *name;      /* for messages and output ("ego/logger"); borrowed */
    bool anchored;         /* its readings are reference time (GNSS/PPS-locked, GNSS-timed V2X):
                              used, then checked against the other paths to it */
    bool has_offset;       /* a known offset: reference = local + offset_ns (checked alike) */
    int64_t offset_ns;
    size_t n_rates;        /* changes of its rate (vxs_rate_changes), at most
                              VXS_RATE_CHANGES_MAX: each one unknown more */
    vxs_time_t rate_at[VXS_RATE_CHANGES_MAX]; /* ... their reference times, increasing */
} vxs_clock_node_t;

/* vxs_clock_edge_t is one fitted relation: samples x on node `src`, y = reading of `dst` - x. */
typedef struct {
    size_t src, dst;
    vxs_delay_class_t delay;
    const vxs_series_fit_t *fit; /* borrowed; an edge whose fit has no piece is ignored */
    double resolution_ns;        /* the source time field's quantum (1 ms for CAM
                                    generationDeltaTime, 1 µs for 1609.2 generationTime, 0 for
                                    ns clocks): truncation leaves the envelope up to one quantum
                                    high, so the edge weighs no more than resolution / 2 allows */
} vxs_clock_edge_t;

/* vxs_clock_edge_result_t is what the solver says about one relation: its minimum delay (the
 * latency floor of a V2X link, the logging delay of a radio stack; 0 for class NONE). */
typedef struct {
    double floor_ns;
    double floor_sd_ns;  /* 1 sigma; for an unmeasured floor, the prior's spread */
    bool measured;       /* both clocks are pinned without this relation: the data measure the
                            floor; otherwise it comes from the prior of its class */
    bool clamped;        /* the data put it below 0: held at 0 */
} vxs_clock_edge_result_t;

/* vxs_clock_solution_t is what the solver says about the whole. */
typedef struct {
    double delay_ns[VXS_DELAY_CLASSES];    /* per class, the prior mean of the floors no pinned
                                              clock measures: the mean of the measured ones,
                                              else the default (NONE: 0) */
    double delay_sd_ns[VXS_DELAY_CLASSES]; /* ... and its spread (1 sigma) */
    bool delay_used[VXS_DELAY_CLASSES];
    uint32_t floors_measured[VXS_DELAY_CLASSES]; /* relations whose floor the data measure */
    size_t reference_node;                 /* node defining the reference when nothing is
                                              anchored; SIZE_MAX otherwise */
    uint32_t hints_rejected;
} vxs_clock_solution_t;

/* vxs_clock_solve estimates every node's model and every edge's minimum delay.
 *
 * Jumps found by the fits are given to the destination clock (the logger: loggers are what NTP
 * steps), those under VXS_CLOCK_JUMP_MIN_NS dropped as noise. Then one weighted least squares
 * over offsets at `epoch`, drifts and floors: every relation src -> dst measured at the centre of
 * its samples (where offset and slope are uncorrelated, so nothing depends on where `epoch`
 * lies) says
 *
 *     theta_dst - theta_src + (beta_dst - beta_src) (t - epoch) + floor = envelope(t)
 *     beta_dst - beta_src = slope
 *
 * Every relation of class TX_LOG or AIR has a floor of its own (links are asymmetric, stacks
 * differ). A floor is measured when both clocks are pinned otherwise (anchors, and relations of
 * class NONE from them); a floor nobody measures is drawn from its class's prior: the mean and
 * spread of the measured floors of the class (the spread never below 0.5 ms for AIR and
 * 0.25 ms for TX_LOG; with one measured floor, the default spread), else the defaults
 * VXS_CLOCK_AIR_PRIOR_* / VXS_CLOCK_TX_PRIOR_*. Half of that spread is shared by every floor
 * into one receiver (its own radio and capture path), so many links into one receiver do not
 * make its offset more certain than that. The offset of a clock tied only through such floors
 * carries their uncertainty (VXS_IDENT_FLOOR_PRIOR). A floor the solution puts below 0 is
 * held at 0 and the solve repeated. The relation between a free-running clock and its anchor
 * is evaluated at the right reference time (iterated).
 *
 * Anchors and offset hints are then checked: one whose relations disagree with the rest by more
 * than max(2 ms, 5 sigma) is rejected and the solve repeated without it. Nodes that no relation
 * connects to an anchor get VXS_CLOCK_M_UNKNOWN. When no node is anchored, `fallback_ref` is
 * (it defines the reference timeline: VXS_CLOCK_M_REFERENCE). `out` has n_nodes entries,
 * `edge_out` (may be NULL) n_edges. VXS_E_ARG for bad indexes, VXS_E_NOMEM. */
vxs_status_t vxs_clock_solve(const vxs_clock_node_t *nodes, size_t n_nodes,
                             const vxs_clock_edge_t *edges, size_t n_edges, vxs_time_t epoch,
                             size_t fallback_ref, vxs_clock_result_t *out,
                             vxs_clock_edge_result_t *edge_out, vxs_clock_solution_t *sol);

/* ---- changes of a clock's rate ---- */

/* NTP slews a clock (runs it up to 500 ppm fast or slow for seconds to work an offset off) and
 * corrects its frequency now and then: the clock's offset against the reference is then a
 * continuous broken line. vxs_rate_changes finds the bends from the envelope points of every
 * relation into the clock (vxs_series_minima), each less its relation's line: a point is
 * (t: its reference time, in s from any origin; r: the window's lowest y minus the relation's
 * line, ns; group: its relation, < n_groups; piece: its piece of the relation, between steps of
 * either clock). The model is r = a_gp + b_g t + sum_k c_k (t - t_k)+: a level per piece (a
 * step moves the reading, not its rate), a slope per relation, fitted by least squares weighted
 * by each relation's noise (from neighbouring points' differences within a piece; points far
 * from their neighbours left out); changes are added where they lower the residual most
 * (binary segmentation, each moved again with the others in place) while the gain reaches
 * min_gain (the square of the change's t-statistic) and the change moves the reading by
 * min_effect_ns by the last point. */
typedef struct {
    double t;       /* s */
    double r;       /* ns */
    uint32_t group;
    uint32_t piece; /* any number; points of one group and piece share a level */
} vxs_rate_point_t;

typedef struct {
    double min_gain;      /* 100: a change of 10 sigma */
    double min_effect_ns; /* 30 µs by the last point */
    size_t max_changes;   /* 6 (at most VXS_RATE_CHANGES_MAX) */
} vxs_rate_opts_t;

void vxs_rate_opts_init(vxs_rate_opts_t *o);

typedef struct {
    double t;       /* where, in the points' time (s) */
    double rate;    /* the change of rate (dimensionless: 1e-6 is 1 ppm) */
    double rate_sd; /* its uncertainty */
} vxs_rate_change_t;

/* vxs_rate_changes writes the changes found into out (room for VXS_RATE_CHANGES_MAX), in time
 * order, and their number into *n_out (0 for too few points). opts NULL: defaults. VXS_E_ARG for
 * a group out of range or a time or value not finite; VXS_E_NOMEM. */
vxs_status_t vxs_rate_changes(const vxs_rate_point_t *pts, size_t n, uint32_t n_groups,
                              const vxs_rate_opts_t *opts, vxs_rate_change_t *out,
                              size_t *n_out);

/* The solver's defaults (README "How clocks are estimated"). */
#define VXS_CLOCK_JUMP_MIN_NS 5e6     /* the series' jump threshold: smaller "jumps" are noise */
#define VXS_CLOCK_AIR_PRIOR_MEAN_NS 3e6 /* V2X air latency floor when no link measures one ... */
#define VXS_CLOCK_AIR_PRIOR_SD_NS 2e6   /* ... and its spread: real links have 1-7 ms */
#define VXS_CLOCK_AIR_SD_MIN_NS 0.5e6
#define VXS_CLOCK_TX_PRIOR_MEAN_NS 0.5e6 /* a stack's own-message logging delay, likewise */
#define VXS_CLOCK_TX_PRIOR_SD_NS 0.75e6
#define VXS_CLOCK_TX_SD_MIN_NS 0.25e6
/* A sensor's wire delay to its logger (a LiDAR packet stamped when its last firing left the
 * sensor, captured by the logger's NIC and kernel): no recording tells it from the logger's
 * offset, so every such relation's floor is drawn from this prior. 100 Mbit/s Ethernet
 * serializes a 1.2 kB packet in 0.1 ms; interrupt moderation and switches add up to a few
 * tenths. The spread goes into every clock a LiDAR pins. */
#define VXS_CLOCK_WIRE_PRIOR_MEAN_NS 0.2e6
#define VXS_CLOCK_WIRE_PRIOR_SD_NS 0.2e6

/* ==== 5. The job: a scenario from its recordings to synchronized frames ================= */

/* A job runs a scenario manifest through the whole pipeline (DESIGN.md "Plan, then stream"):
 *
 *   1. vxs_job_create opens every source of the manifest through the caller's opener (the
 *      sensors module's vxs_source_open_manifest for real recordings), numbered in the order of
 *      vxs_manifest_source_order;
 *   2. vxs_job_index reads every source once: each VXS_REC_LIDAR_PACKET's device time against
 *      its capture time (relation device -> the agent's logger, delay class NONE), each V2X
 *      message's generation time against its capture time (received: sender -> receiver's
 *      logger, AIR; sent: sender -> own logger, TX_LOG; DENM / CPM referenceTime is not a
 *      transmission time and is not sampled) into offset series (section 2), and the records'
 *      times into per-stream statistics (section 1) for the tolerances and the epoch;
 *   3. vxs_job_solve fits the series and estimates every clock (section 4): the epoch is the
 *      first whole second of the drive on any clock; senders an agent logs as sent are named
 *      after it; anchors are GPS-locked LiDARs and GNSS-timed V2X generation times; the result
 *      is the clock report (vxs_frame.h), two-way pairs included;
 *   4. vxs_job_frames reads the sources again (vxs_source_rewind) and streams frames into the
 *      sinks: one per record of the reference sensor (or at the manifest's fixed rate), the
 *      member of every other LiDAR (its first sensor) and camera chosen by the manifest's policy
 *      (section 3; tolerance: the manifest's, else half the sensor's median period), and for
 *      every V2X source the messages its agent received in (T - window, T] with the state of
 *      each link it heard over the drive. Frames in [t_from, t_to) go to the sinks; every sink
 *      is finished when the drive ends.
 *
 * Memory: the series are bounded (section 2), the matcher and the V2X window hold the records
 * in flight only; nothing grows with the length of the drive. A job is single-threaded; two
 * jobs share nothing. */

typedef struct vxs_job vxs_job_t;

/* vxs_job_options_t configures a job; vxs_job_options_init sets the defaults. */
typedef struct {
    vxs_source_open_fn open_source; /* required: opens each manifest source (vxs_manifest.h) */
    void *open_user;                /* passed to open_source */
    const vxs_diag_sink_t *diag;    /* every bad unit the sources report goes here once (the
                                       index pass's; the frame pass reads the same units again
                                       and does not repeat them); NULL: logged as warnings. Must
                                       outlive the job. */
    vxs_progress_t progress;        /* bytes read over both passes; returning non-zero cancels
                                       (VXS_E_CANCELED) */
} vxs_job_options_t;

/* vxs_job_options_init zeroes `o` (no opener, no diag sink: warnings logged, no progress). */
void vxs_job_options_init(vxs_job_options_t *o);

/* vxs_job_create opens every source of `man` (borrowed: it must outlive the job) with
 * o->open_source and returns the job in *out, which the caller must vxs_job_destroy. Errors:
 * VXS_E_ARG (no opener), an opener's error (the source cannot be opened: a missing file, a
 * calibration that does not parse...) with `err` naming the file, VXS_E_NOMEM. */
vxs_status_t vxs_job_create(vxs_job_t **out, const vxs_manifest_t *man,
                            const vxs_job_options_t *o, char *err, size_t err_len);

/* vxs_job_index runs the index pass (step 2). VXS_E_STATE when called twice; VXS_E_CANCELED;
 * VXS_E_NOMEM. Bad units are reported and counted, never an error. */
vxs_status_t vxs_job_index(vxs_job_t *job);

/* vxs_job_solve estimates the clocks (step 3), after vxs_job_index. */
vxs_status_t vxs_job_solve(vxs_job_t *job);

/* vxs_job_clocks returns the clock report after vxs_job_solve (NULL before). Valid until the
 * job is destroyed. */
const vxs_clock_report_t *vxs_job_clocks(const vxs_job_t *job);

/* vxs_job_clock_index returns the index in the report's clocks of the clock named `name`
 * ("ego/logger"), SIZE_MAX if there is none. */
size_t vxs_job_clock_index(const vxs_job_t *job, const char *name);

/* vxs_job_frames runs the frame pass (step 4) after vxs_job_solve: begins every sink with the
 * run, gives each the frames with T in [t_from, t_to) (VXS_TIME_NONE: unbounded) in time
 * order, and finishes every sink with the summary, in the order given. On an error no further
 * sink is called and the unfinished ones are the caller's to destroy (which leaves nothing under
 * their final names). Errors: a sink's (vxs_job_errmsg names it), VXS_E_MALFORMED when the
 * reference sensor has no record to cut frames on, VXS_E_CANCELED, VXS_E_NOMEM. A scenario
 * without LiDAR or camera has no frames: the sinks are begun and finished all the same
 * (vxs_run_info_t.n_streams is 0). */
vxs_status_t vxs_job_frames(vxs_job_t *job, vxs_time_t t_from, vxs_time_t t_to,
                            vxs_frame_sink_t *const *sinks, size_t n_sinks);

/* vxs_job_run is index, solve and frames over the whole drive. */
vxs_status_t vxs_job_run(vxs_job_t *job, vxs_frame_sink_t *const *sinks, size_t n_sinks);

/* vxs_job_run_info returns the run (sources in the job's order with their counts, streams,
 * clocks) as the sinks see it; available after vxs_job_solve (NULL before). */
const vxs_run_info_t *vxs_job_run_info(const vxs_job_t *job);

/* vxs_job_summary returns what the job found so far (frames, impossible messages, damaged units,
 * the seconds each step took). Never NULL for a job. */
const vxs_run_summary_t *vxs_job_summary(const vxs_job_t *job);

/* vxs_job_errmsg returns the message of the last error ("" if none). Never NULL. */
const char *vxs_job_errmsg(const vxs_job_t *job);

/* vxs_job_destroy closes every source and frees the job. Accepts NULL. */
void vxs_job_destroy(vxs_job_t *job);

/* ==== 6. Link quality: what a receiver got of what a sender sent ========================= */

/* VXS_LINK_WINDOW is how many counter positions behind the newest a message may still arrive
 * and fill its place (reordered): a place that falls out of the window unfilled is lost. */
#define VXS_LINK_WINDOW 256
/* VXS_LINK_BURSTS: bursts[k] counts runs of exactly k messages lost in a row for k below it;
 * bursts[VXS_LINK_BURSTS] the longer runs. */
#define VXS_LINK_BURSTS VXS_LINK_BURST_BINS

/* A link's delivery against the sender-receiver distance (VXS_LINK_DIST_BINS bins of
 * VXS_LINK_DIST_BIN_M metres, the last open, then one for unknown distances: vxs_frame.h) and
 * over time: at most VXS_LINK_TIME_BINS bins, VXS_LINK_TIME_BIN_NS wide at first, doubling as
 * the drive goes on (constant memory). */
#define VXS_LINK_TIME_BIN_NS 10000000000LL

/* vxs_link_t accounts one directed link (one sender's messages at one receiver) from the
 * sender's message counter (J2735 msgCnt 0..127, a DENM sequence number...), in constant memory
 * whatever the drive's length. Messages are given in the order they were received. A counter
 * that wraps is unwrapped by the generation times: each message's place is the one nearest to
 * what its generation time says, at the sender's interval (the median of the last intervals
 * per counter step), so a silence longer than a whole counter cycle is counted whole. Loss is
 * counted between the first and the last message received (what came before or after is
 * unknown to the receiver). All counts are final after vxs_link_finish. */
typedef struct {
    /* counts */
    uint64_t received;    /* messages given, duplicates included */
    uint64_t delivered;   /* distinct messages */
    uint64_t duplicates;  /* a place already received, with the same generation time */
    uint64_t reordered;   /* received after a message the sender sent later */
    uint64_t stale;       /* ... so late its place had left the window (and counted lost) */
    uint64_t reused;      /* a place already received with another generation time: the
                             sender did not step its counter (kept, not a duplicate) */
    uint64_t lost;        /* places between the first and the last received never filled */
    uint64_t sent;        /* delivered + lost - stale */
    uint64_t bursts[VXS_LINK_BURSTS + 1];
    uint64_t longest_burst;
    double interval_s;    /* the sender's interval per counter step (0: not known yet) */
    /* state */
    uint32_t modulus;
    bool started;
    int64_t top;          /* the newest place received (unwrapped) */
    int64_t first;        /* the first place received: loss is counted from it */
    int64_t ref_place;    /* the newest place received with a generation time ... */
    vxs_time_t ref_gen;   /* ... and that time */
    int64_t done;         /* places below this are settled */
    vxs_time_t top_gen;   /* its generation time (VXS_TIME_NONE: unknown) */
    int64_t run;          /* unfilled places settled in a row */
    uint8_t have[VXS_LINK_WINDOW / 8];
    vxs_time_t gen[VXS_LINK_WINDOW]; /* generation time per place in the window */
    float dist[VXS_LINK_WINDOW];     /* sender-receiver distance per place (NaN: unknown) */
    double steps[15];     /* the last intervals per counter step (s) */
    size_t n_steps, i_steps;
    bool inferred;        /* places come from generation times alone (no counter) */
    /* settled places by distance (VXS_LINK_DIST_BIN_M wide, the last bin open; a lost place
     * takes the distance of the last one received before it) and by generation time (on the
     * sender's clock, from the first place; the bins double in width to stay VXS_LINK_TIME_BINS) */
    uint64_t dist_sent[VXS_LINK_DIST_BINS + 1], dist_delivered[VXS_LINK_DIST_BINS + 1];
    double last_dist;
    uint64_t time_sent[VXS_LINK_TIME_BINS], time_delivered[VXS_LINK_TIME_BINS];
    vxs_time_t time_t0;   /* the first bin's start (VXS_TIME_NONE: no place yet) */
    int64_t time_bin_ns;  /* the bins' width */
} vxs_link_t;

/* vxs_link_init starts an empty link for a counter counting modulo `modulus` (128 for msgCnt;
 * at least 2). */
void vxs_link_init(vxs_link_t *l, uint32_t modulus);

/* vxs_link_add gives the next message received: its counter (0..modulus-1) and its generation
 * time on the sender's clock (VXS_TIME_NONE when the message has none: places then follow the
 * counter alone: the smaller step, forward or back, but back only onto a gap still open in
 * the window). Returns what the message was:
 * VXS_LINK_NEW, VXS_LINK_DUPLICATE, VXS_LINK_REORDERED (older than one received, filling its
 * place), VXS_LINK_STALE, VXS_LINK_REUSED; VXS_LINK_BAD for a counter out of range (counted in
 * nothing). */
typedef enum {
    VXS_LINK_NEW = 0,
    VXS_LINK_DUPLICATE,
    VXS_LINK_REORDERED,
    VXS_LINK_STALE,
    VXS_LINK_REUSED,
    VXS_LINK_BAD
} vxs_link_event_t;
vxs_link_event_t vxs_link_add(vxs_link_t *l, int64_t counter, vxs_time_t gen);

/* vxs_link_add_at is vxs_link_add with the sender-receiver distance at the message's reception
 * (m, NaN when unknown) for the distance bins. */
vxs_link_event_t vxs_link_add_at(vxs_link_t *l, int64_t counter, vxs_time_t gen, double dist_m);

/* vxs_link_add_inferred accounts a message of a sender without a counter (an ETSI CAM, VAM,
 * CPM): its place is inferred from its generation time at the sender's interval (the median of
 * the last 15 intervals per place), so what is lost is inferred too (README "links.json").
 * Every message of the link must be given this way; VXS_LINK_BAD without a generation time. */
vxs_link_event_t vxs_link_add_inferred(vxs_link_t *l, vxs_time_t gen, double dist_m);

/* vxs_link_finish settles every place up to the newest received (no more can arrive). */
void vxs_link_finish(vxs_link_t *l);

#ifdef __cplusplus
}
#endif
#endif /* VXS_SYNC_H */
