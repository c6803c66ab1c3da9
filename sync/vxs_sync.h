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

#ifdef __cplusplus
}
#endif
#endif /* VXS_SYNC_H */
