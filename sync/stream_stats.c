/*
 * stream_stats.c: constant-memory timing statistics of one stream of arrivals.
 *
 * Why a histogram and not a sorted array of intervals: `inspect` and the QA report must run over
 * drives of hundreds of hours without memory growing with their length. A logarithmic histogram
 * with 256 bins per octave reads the median interval to within 0.2 %, which is far finer than
 * the 1.5 x median rule that defines a gap, and costs 9 KiB per octave actually used.
 */
#include "vxs_sync.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define OCTAVES 63    /* intervals are positive int64: leading bit 0..62 */
#define BINS_PER_OCT 256
#define MANT_BITS 8

/* octave_t holds one octave of the interval histogram (9 KiB). Each bin keeps the sum and the sum
 * of squares of its intervals too, so the median of a regular stream (all intervals in one bin)
 * is exact, and the jitter over the non-gap intervals is exact as well. */
typedef struct {
    uint32_t n[BINS_PER_OCT];
    double sum[BINS_PER_OCT];
    double sq[BINS_PER_OCT];
    int64_t lo[BINS_PER_OCT]; /* smallest and largest interval in the bin: the gap count is */
    int64_t hi[BINS_PER_OCT]; /* exact unless one bin holds intervals on both sides of it */
} octave_t;

struct vxs_stream_stats {
    uint64_t count, untimed;
    vxs_time_t first, last, min, max;
    vxs_time_t prev;   /* previous arrival's time (for duplicates) */
    vxs_time_t latest; /* latest time so far (for order) */
    uint64_t out_of_order, first_ooo_unit, duplicates, first_dup_unit;
    int64_t max_backstep;
    uint64_t intervals, hist_total, zeros; /* zeros: intervals of exactly 0, kept out of bins */
    double sum_iv; /* sum of all in-order intervals, for the mean */
    int64_t min_iv, max_iv;
    octave_t *oct[OCTAVES];
    vxs_gap_t top[VXS_STREAM_TOP_GAPS];
    size_t ntop, top_min;
};

vxs_status_t vxs_stream_stats_create(vxs_stream_stats_t **out) {
    vxs_stream_stats_t *s = vxs_calloc(1, sizeof *s);
    if (!s) return VXS_E_NOMEM;
    s->first = s->last = s->min = s->max = s->prev = s->latest = VXS_TIME_NONE;
    *out = s;
    return VXS_OK;
}

void vxs_stream_stats_destroy(vxs_stream_stats_t *s) {
    if (!s) return;
    for (int i = 0; i < OCTAVES; i++) vxs_free(s->oct[i]);
    vxs_free(s);
}

static int leading_bit(uint64_t v) { return 63 - __builtin_clzll(v); }

/* bin_of splits d > 0 into its octave (leading bit) and the 8 bits below the leading bit. */
static void bin_of(int64_t d, int *oct, unsigned *mant) {
    uint64_t u = (uint64_t)d;
    int e = leading_bit(u);
    *oct = e;
    if (e >= MANT_BITS)
        *mant = (unsigned)((u >> (e - MANT_BITS)) & (BINS_PER_OCT - 1));
    else
        *mant = (unsigned)((u << (MANT_BITS - e)) & (BINS_PER_OCT - 1));
}

/* bin_mid returns the middle of bin (e, m): the bin covers [(256+m), (257+m)) * 2^(e-8). */
static double bin_mid(int e, unsigned m) {
    return ldexp((double)(BINS_PER_OCT + m) + 0.5, e - MANT_BITS);
}

/* keep_top keeps the VXS_STREAM_TOP_GAPS largest intervals. top_min is the smallest kept, so
 * the common case (an interval no larger than that) costs one comparison. */
static void keep_top(vxs_stream_stats_t *s, vxs_time_t start, int64_t len, uint64_t unit) {
    size_t slot;
    if (s->ntop < VXS_STREAM_TOP_GAPS) {
        slot = s->ntop++;
    } else {
        if (len <= s->top[s->top_min].length_ns) return;
        slot = s->top_min;
    }
    s->top[slot].start = start;
    s->top[slot].length_ns = len;
    s->top[slot].unit = unit;
    s->top_min = 0;
    for (size_t i = 1; i < s->ntop; i++)
        if (s->top[i].length_ns < s->top[s->top_min].length_ns) s->top_min = i;
}

vxs_status_t vxs_stream_stats_add(vxs_stream_stats_t *s, vxs_time_t t, uint64_t unit) {
    vxs_status_t st = VXS_OK;
    if (t == VXS_TIME_NONE) {
        s->untimed++;
        return VXS_OK;
    }
    if (s->count == 0) {
        s->first = s->min = s->max = s->latest = t;
    } else {
        if (t == s->prev && s->duplicates++ == 0) s->first_dup_unit = unit;
        if (t < s->latest) {
            if (s->out_of_order++ == 0) s->first_ooo_unit = unit;
            if (s->latest - t > s->max_backstep) s->max_backstep = s->latest - t;
        } else {
            int64_t d = t - s->latest;
            s->intervals++;
            s->sum_iv += (double)d;
            if (d > s->max_iv) s->max_iv = d;
            if (d > 0 && (s->min_iv == 0 || d < s->min_iv)) s->min_iv = d;
            keep_top(s, s->latest, d, unit);
            if (d > 0) {
                int e;
                unsigned m;
                bin_of(d, &e, &m);
                if (!s->oct[e]) s->oct[e] = vxs_calloc(1, sizeof(octave_t));
                if (s->oct[e] && s->oct[e]->n[m] < UINT32_MAX) {
                    octave_t *o = s->oct[e];
                    if (o->n[m] == 0 || d < o->lo[m]) o->lo[m] = d;
                    if (o->n[m] == 0 || d > o->hi[m]) o->hi[m] = d;
                    s->oct[e]->n[m]++;
                    s->oct[e]->sum[m] += (double)d;
                    s->oct[e]->sq[m] += (double)d * (double)d;
                    s->hist_total++;
                } else if (!s->oct[e]) {
                    st = VXS_E_NOMEM;
                }
            } else {
                s->zeros++; /* zero intervals (duplicates) count toward the median */
                s->hist_total++;
            }
            s->latest = t;
        }
        if (t < s->min) s->min = t;
        if (t > s->max) s->max = t;
    }
    s->prev = t;
    s->last = t;
    s->count++;
    return st;
}

uint64_t vxs_stream_stats_count(const vxs_stream_stats_t *s) { return s->count + s->untimed; }


void vxs_stream_stats_summarize(const vxs_stream_stats_t *s, vxs_stream_summary_t *out) {
    memset(out, 0, sizeof *out);
    out->count = s->count;
    out->untimed = s->untimed;
    out->first = s->first;
    out->last = s->last;
    out->min = s->min;
    out->max = s->max;
    out->intervals = s->intervals;
    out->out_of_order = s->out_of_order;
    out->first_out_of_order_unit = s->first_ooo_unit;
    out->max_backstep_ns = s->max_backstep;
    out->duplicates = s->duplicates;
    out->first_duplicate_unit = s->first_dup_unit;
    if (s->count >= 2 && s->max > s->min)
        out->rate_hz = (double)(s->count - 1) / ((double)(s->max - s->min) / 1e9);
    if (s->intervals == 0) return;
    out->mean_interval_ns = s->sum_iv / (double)s->intervals;
    out->min_interval_ns = s->min_iv;
    out->max_interval_ns = s->max_iv;

    /* Median: the bin holding the middle interval; zero intervals sort first. */
    uint64_t half = (s->hist_total + 1) / 2, seen = s->zeros;
    double median = 0.0;
    if (seen < half) {
        for (int e = 0; e < OCTAVES && median == 0.0; e++) {
            if (!s->oct[e]) continue;
            for (unsigned m = 0; m < BINS_PER_OCT; m++) {
                seen += s->oct[e]->n[m];
                if (seen >= half) {
                    median = s->oct[e]->sum[m] / s->oct[e]->n[m]; /* the bin's own mean */
                    break;
                }
            }
        }
    }
    out->median_interval_ns = (int64_t)llround(median);
    out->gap_threshold_ns = (int64_t)llround(1.5 * median);
    /* Gaps: intervals above the threshold. A bin whose smallest interval is above it counts
     * whole, one whose largest is not counts not at all; only a bin straddling the threshold
     * (intervals within 0.4 % on both sides of it) is split by its middle. Jitter: the standard deviation of
     * every other interval, zero intervals included, so one dropout does not swamp it. With a
     * median of 0 (mostly duplicate times) there are no gaps. */
    double thr = median > 0.0 ? 1.5 * median : HUGE_VAL, n = (double)s->zeros, sum = 0.0, sq = 0.0;
    for (int e = 0; e < OCTAVES; e++) {
        const octave_t *o = s->oct[e];
        if (!o) continue;
        for (unsigned m = 0; m < BINS_PER_OCT; m++) {
            if (!o->n[m]) continue;
            bool gap = (double)o->lo[m] > thr || ((double)o->hi[m] > thr && bin_mid(e, m) > thr);
            if (gap) {
                out->gaps += o->n[m];
            } else {
                n += o->n[m];
                sum += o->sum[m];
                sq += o->sq[m];
            }
        }
    }
    if (n > 1) {
        double var = (sq - sum * sum / n) / (n - 1);
        out->jitter_ns = var > 0 ? sqrt(var) : 0.0;
    }
}

static int cmp_gap_time(const void *a, const void *b) {
    const vxs_gap_t *x = a, *y = b;
    return (x->start > y->start) - (x->start < y->start);
}

size_t vxs_stream_stats_largest_gaps(const vxs_stream_stats_t *s, vxs_gap_t *out, size_t out_len) {
    vxs_stream_summary_t sum;
    vxs_stream_stats_summarize(s, &sum);
    size_t n = 0;
    if (sum.median_interval_ns <= 0) return 0;
    for (size_t i = 0; i < s->ntop && n < out_len; i++)
        if (s->top[i].length_ns > sum.gap_threshold_ns) out[n++] = s->top[i];
    qsort(out, n, sizeof *out, cmp_gap_time);
    return n;
}
