/*
 * vxs_sync.h: the public API of v2xsync's sync module.
 *
 * sync/ turns timestamps into knowledge about clocks and streams. It depends on core/ only: it
 * never sees a pcap record, an AVPacket or a file format, just times and counters.
 *
 * This revision holds the per-stream timing statistics that QA reports and `v2xsync inspect`
 * print for every flow (DESIGN.md "QA engineers ... Per stream: rate, gaps, jitter, duplicates,
 * out-of-order and jumping timestamps"). Clock models, frame planning and link annotation build
 * on it in later revisions.
 */
#ifndef VXS_SYNC_H
#define VXS_SYNC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vxs_core.h"

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

/* VXS_STREAM_TOP_GAPS is how many of the largest intervals a stream keeps exactly. */
#define VXS_STREAM_TOP_GAPS 16

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
#define VXS_SERIES_MAX_PIECES 16

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
 * "no_exact", "before_start", "after_end", "set_beyond_tolerance" ("unknown"). */
const char *vxs_member_status_name(vxs_member_status_t s);

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

/* A clock model maps a clock domain onto the reference timeline:
 *
 *     local = ref + offset_ns[piece] + drift * (ref - epoch)
 *
 * where the piece is the stretch between two jumps (an NTP step of a logger). pieces[0].from_ref
 * is INT64_MIN; piece k >= 1 begins at reference time pieces[k].from_ref. */
typedef struct {
    vxs_time_t from_ref;
    double offset_ns;
} vxs_clock_piece_t;

typedef struct {
    vxs_time_t epoch;
    double drift;     /* dimensionless: 1e-6 is 1 ppm (the clock gains 1 µs per second) */
    size_t n_pieces;  /* >= 1 */
    vxs_clock_piece_t pieces[VXS_SERIES_MAX_PIECES];
} vxs_clock_model_t;

/* vxs_clock_model_identity sets `m` to local = ref (one piece, no drift). */
void vxs_clock_model_identity(vxs_clock_model_t *m, vxs_time_t epoch);

/* vxs_clock_to_local maps a reference time to the clock's reading. */
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

/* Minimum-delay classes of a relation between two clocks. A relation's envelope is the clocks'
 * offset plus the minimum delay of its class: NONE is taken as 0 (a LiDAR on a wire to its
 * logger: tens of µs), TX_LOG is the time from generating a V2X message to logging it as sent,
 * AIR from generating it to another agent's logger capturing it. TX_LOG and AIR are estimated
 * from the data when some logger is tied to the reference by other means (a LiDAR, a hint),
 * else AIR - TX_LOG is, from messages flowing both ways, and TX_LOG is taken as 0. */
typedef enum {
    VXS_DELAY_NONE = 0,
    VXS_DELAY_TX_LOG = 1,
    VXS_DELAY_AIR = 2,
    VXS_DELAY_CLASSES = 3
} vxs_delay_class_t;

/* vxs_delay_class_name returns "none", "tx_log" or "air". */
const char *vxs_delay_class_name(vxs_delay_class_t c);

/* vxs_clock_node_t is one clock domain given to the solver, with what the user or the data's
 * nature says about it. */
typedef struct {
    const char *name;      /* for messages and output ("ego/logger"); borrowed */
    bool anchored;         /* its readings are reference time (GNSS/PPS-locked, GNSS-timed V2X):
                              used, then checked against the other paths to it */
    bool has_offset;       /* a known offset: reference = local + offset_ns (checked alike) */
    int64_t offset_ns;
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

/* How a node's model was obtained. */
typedef enum {
    VXS_CLOCK_M_UNKNOWN = 0,   /* nothing ties it to the reference: identity, not to be trusted */
    VXS_CLOCK_M_ANCHOR = 1,    /* anchored (GNSS/PPS), confirmed or unchecked */
    VXS_CLOCK_M_HINT = 2,      /* the given offset, confirmed or unchecked */
    VXS_CLOCK_M_ESTIMATED = 3, /* estimated from its relations */
    VXS_CLOCK_M_REFERENCE = 4  /* nothing was anchored: this node defines the reference */
} vxs_clock_method_t;

/* vxs_clock_method_name returns "unknown", "anchor", "hint", "estimated" or "reference". */
const char *vxs_clock_method_name(vxs_clock_method_t m);

/* vxs_clock_result_t is what the solver says about one node. */
typedef struct {
    vxs_clock_model_t model;
    vxs_clock_method_t method;
    double offset_sd_ns;    /* 1 sigma, from the weighted least squares */
    double drift_sd;
    uint64_t samples;       /* samples of the relations touching it */
    uint32_t edges;         /* relations touching it */
    uint32_t jumps;         /* model pieces - 1 */
    bool hint_checked;      /* an anchor or offset hint could be compared with another path */
    bool hint_rejected;     /* ... and the data disagreed: the hint was dropped */
    double hint_residual_ns; /* what the other paths say minus what the hint said */
} vxs_clock_result_t;

/* vxs_clock_solution_t is what the solver says about the whole. */
typedef struct {
    double delay_ns[VXS_DELAY_CLASSES];    /* estimated minimum delays (NONE: 0) */
    double delay_sd_ns[VXS_DELAY_CLASSES];
    bool delay_used[VXS_DELAY_CLASSES];
    size_t reference_node;                 /* node defining the reference when nothing is
                                              anchored; SIZE_MAX otherwise */
    uint32_t hints_rejected;
} vxs_clock_solution_t;

/* vxs_clock_solve estimates every node's model from the edges: jumps found by the fits are
 * given to the destination clock (the logger: loggers are what NTP steps); drift and offset
 * at `epoch` by weighted least squares over all relations, anchors and hints (every relation
 * weighted by its fit's uncertainty), with the minimum delays of TX_LOG and AIR as unknowns;
 * the relation between a free-running clock and its anchor is evaluated at the right reference
 * time (iterated twice, so an offset of seconds and a drift of tens of ppm do not bias it).
 * Anchors and offset hints are then checked: one whose relations disagree with the rest by more
 * than max(2 ms, 5 sigma) is rejected and the solve repeated without it. Nodes that no relation
 * connects to an anchor get VXS_CLOCK_M_UNKNOWN. When no node is anchored, `fallback_ref` is
 * (it defines the reference timeline: VXS_CLOCK_M_REFERENCE). `out` has n_nodes entries.
 * VXS_E_ARG for bad indexes, VXS_E_NOMEM. */
vxs_status_t vxs_clock_solve(const vxs_clock_node_t *nodes, size_t n_nodes,
                             const vxs_clock_edge_t *edges, size_t n_edges, vxs_time_t epoch,
                             size_t fallback_ref, vxs_clock_result_t *out,
                             vxs_clock_solution_t *sol);

#ifdef __cplusplus
}
#endif
#endif /* VXS_SYNC_H */
