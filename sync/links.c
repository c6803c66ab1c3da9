/*
 * links.c: what a receiver got of what a sender sent (vxs_sync.h section 6, vxs_link_t).
 *
 * A sender numbers its messages with a counter that wraps (J2735 msgCnt counts 0..127). Each
 * message received is given a place on the unwrapped count: the one nearest to what its
 * generation time says at the sender's interval, so a silence of more than a counter cycle is
 * not read as a few messages lost. The places of the last VXS_LINK_WINDOW counts are kept as a
 * bitmap: a late message (reordered) fills its place while it is in the window, and a place is
 * settled, received or lost, when it leaves the window or at the end. Lost places in a row are
 * a burst. Memory is the struct itself, whatever the drive's length.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "job_int.h"

#define W VXS_LINK_WINDOW
#define SAME_GEN_NS 1000000 /* generation times this close are the same message's (1 ms: the
                               coarsest field, secMark and generationDeltaTime, counts ms) */
#define MAX_STEP_FOR_RATE 8 /* counter steps across which an interval is measured */

static size_t slot(int64_t place) { return (size_t)(((place % W) + W) % W); }

static bool has(const vxs_link_t *l, int64_t place) {
    const size_t i = slot(place);
    return (l->have[i / 8] >> (i % 8)) & 1u;
}

static void set_have(vxs_link_t *l, int64_t place, bool on) {
    const size_t i = slot(place);
    if (on)
        l->have[i / 8] |= (uint8_t)(1u << (i % 8));
    else
        l->have[i / 8] &= (uint8_t) ~(1u << (i % 8));
}

static void end_run(vxs_link_t *l) {
    if (l->run <= 0) return;
    const uint64_t k = (uint64_t)l->run;
    l->bursts[k < VXS_LINK_BURSTS ? k : VXS_LINK_BURSTS]++;
    if (k > l->longest_burst) l->longest_burst = k;
    l->run = 0;
}

/* bin_place counts a settled place in the distance and time bins. */
static void bin_places(vxs_link_t *l, int64_t place, bool received, vxs_time_t t, double dist,
                       uint64_t n) {
    const size_t d = isnan(dist) ? VXS_LINK_DIST_BINS
                     : dist / VXS_LINK_DIST_BIN_M >= VXS_LINK_DIST_BINS - 1
                         ? VXS_LINK_DIST_BINS - 1
                         : (size_t)(dist / VXS_LINK_DIST_BIN_M);
    l->dist_sent[d] += n;
    l->dist_delivered[d] += received ? n : 0;
    if (t == VXS_TIME_NONE && l->ref_gen != VXS_TIME_NONE && l->interval_s > 0)
        t = l->ref_gen + (vxs_time_t)llround((double)(place - l->ref_place) * l->interval_s * 1e9);
    if (t == VXS_TIME_NONE) return; /* no time at all: the totals have it */
    if (l->time_t0 == VXS_TIME_NONE) l->time_t0 = t;
    int64_t k = t < l->time_t0 ? 0 : (t - l->time_t0) / l->time_bin_ns;
    while (k >= VXS_LINK_TIME_BINS) { /* twice as wide: pairs merge */
        for (size_t i = 0; i < VXS_LINK_TIME_BINS / 2; i++) {
            l->time_sent[i] = l->time_sent[2 * i] + l->time_sent[2 * i + 1];
            l->time_delivered[i] = l->time_delivered[2 * i] + l->time_delivered[2 * i + 1];
        }
        memset(l->time_sent + VXS_LINK_TIME_BINS / 2, 0,
               VXS_LINK_TIME_BINS / 2 * sizeof *l->time_sent);
        memset(l->time_delivered + VXS_LINK_TIME_BINS / 2, 0,
               VXS_LINK_TIME_BINS / 2 * sizeof *l->time_delivered);
        l->time_bin_ns *= 2;
        k = (t - l->time_t0) / l->time_bin_ns;
    }
    l->time_sent[k] += n;
    l->time_delivered[k] += received ? n : 0;
}

static void bin_place(vxs_link_t *l, int64_t place, bool received, vxs_time_t t, double dist) {
    bin_places(l, place, received, t, dist, 1);
}

/* settle decides every place below `upto`: received (ends a run of lost ones) or lost. A lost
 * place is binned at the distance of the last one received before it. */
static void settle(vxs_link_t *l, int64_t upto) {
    if (upto <= l->done) return;
    /* the bitmap holds the window, [done, done + W): a place beyond it was never received */
    const int64_t look_end = upto - l->done > W ? l->done + W : upto;
    for (int64_t p = l->done; p < look_end; p++) {
        if (has(l, p)) {
            end_run(l);
            set_have(l, p, false);
            l->last_dist = l->dist[slot(p)];
            bin_place(l, p, true, l->gen[slot(p)], l->last_dist);
        } else {
            l->lost++;
            l->run++;
            bin_place(l, p, false, VXS_TIME_NONE, l->last_dist);
        }
    }
    /* beyond the window: none was received; binned one by one up to a window's worth, the rest
     * (a generation time far ahead: a corrupted one) at once, at the middle place's time */
    const int64_t each = upto - look_end < W ? upto - look_end : W;
    for (int64_t p = look_end; p < look_end + each; p++) bin_place(l, p, false, VXS_TIME_NONE, l->last_dist);
    if (upto - look_end > each)
        bin_places(l, look_end + each + (upto - look_end - each) / 2, false, VXS_TIME_NONE,
                   l->last_dist, (uint64_t)(upto - look_end - each));
    l->lost += (uint64_t)(upto - look_end);
    l->run += upto - look_end;
    l->done = upto;
}

static double median_step(const vxs_link_t *l) {
    double v[sizeof l->steps / sizeof l->steps[0]];
    const size_t n = l->n_steps;
    memcpy(v, l->steps, n * sizeof *v);
    for (size_t i = 1; i < n; i++) /* insertion sort: at most 15 */
        for (size_t j = i; j > 0 && v[j] < v[j - 1]; j--) {
            const double t = v[j];
            v[j] = v[j - 1];
            v[j - 1] = t;
        }
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

void vxs_link_init(vxs_link_t *l, uint32_t modulus) {
    if (!l) return;
    memset(l, 0, sizeof *l);
    l->modulus = modulus < 2 ? 2 : modulus;
    l->top_gen = l->ref_gen = VXS_TIME_NONE;
    l->last_dist = NAN;
    l->time_t0 = VXS_TIME_NONE;
    l->time_bin_ns = VXS_LINK_TIME_BIN_NS;
}

/* place_of returns the unwrapped place of a message with counter c and generation time gen. */
static int64_t place_of(const vxs_link_t *l, int64_t c, vxs_time_t gen) {
    const int64_t m = l->modulus;
    const int64_t d = ((c - l->top % m) % m + m) % m; /* steps forward, 0..m-1 */
    if (gen != VXS_TIME_NONE && l->ref_gen != VXS_TIME_NONE) {
        /* the time since the last place whose generation time is known */
        const double dt = (double)(gen - l->ref_gen) * 1e-9;
        if (l->interval_s > 0) {
            /* the whole cycles k that bring top + d nearest to the place the time says */
            const double want = (double)(l->ref_place - l->top) + dt / l->interval_s;
            const double k = floor((want - (double)d) / (double)m + 0.5);
            return l->top + d + (int64_t)k * m;
        }
        /* no interval yet: later is forward (a counter that did not move: the same place),
         * earlier is back */
        if (dt < 0 && (d > 0 || llabs(gen - l->ref_gen) > SAME_GEN_NS)) return l->top + d - m;
        return l->top + d;
    }
    /* no times: the smaller step, back only onto a gap still open in the window (a late
     * message), so a burst of more than half a cycle reads as one */
    const int64_t back = l->top + d - m;
    return d > m / 2 && back >= l->done && back >= l->first && !has(l, back) ? back
                                                                             : l->top + d;
}

/* add_at gives the link a message received at `place`. */
static vxs_link_event_t add_at(vxs_link_t *l, int64_t place, vxs_time_t gen, double dist) {
    l->received++;
    if (!l->started) {
        l->started = true;
        l->top = l->done = l->first = place;
        l->top_gen = gen;
        l->ref_place = place;
        l->ref_gen = gen;
        set_have(l, place, true);
        l->gen[slot(place)] = gen;
        l->dist[slot(place)] = (float)dist;
        l->delivered++;
        return VXS_LINK_NEW;
    }
    if (place > l->top) {
        const int64_t a = place - l->top;
        if (!l->inferred && gen != VXS_TIME_NONE && l->top_gen != VXS_TIME_NONE &&
            a <= MAX_STEP_FOR_RATE && gen > l->top_gen) {
            /* a counter's interval is the sender's rate: the median of 15 steps */
            const size_t cap = sizeof l->steps / sizeof l->steps[0];
            l->steps[l->i_steps] = (double)(gen - l->top_gen) * 1e-9 / (double)a;
            l->i_steps = (l->i_steps + 1) % cap;
            if (l->n_steps < cap) l->n_steps++;
            l->interval_s = median_step(l);
        }
        settle(l, place - W + 1);
        set_have(l, place, true);
        l->gen[slot(place)] = gen;
        l->dist[slot(place)] = (float)dist;
        l->top = place;
        l->top_gen = gen;
        if (gen != VXS_TIME_NONE) {
            l->ref_place = place;
            l->ref_gen = gen;
        }
        l->delivered++;
        return VXS_LINK_NEW;
    }
    if (place < l->first) { /* before the first received: outside the counted span */
        l->reordered++;
        l->delivered++;
        return VXS_LINK_REORDERED;
    }
    if (place < l->done) {
        /* its place was settled: counted lost already, as far as places were (a late copy of
         * one settled received is a duplicate, but its mark is gone: never more stale
         * messages than lost places) */
        if (l->stale >= l->lost) {
            l->duplicates++;
            return VXS_LINK_DUPLICATE;
        }
        l->stale++;
        l->reordered++;
        l->delivered++;
        return VXS_LINK_STALE;
    }
    if (has(l, place)) {
        const vxs_time_t g0 = l->gen[slot(place)];
        if (gen == VXS_TIME_NONE || g0 == VXS_TIME_NONE || llabs(gen - g0) <= SAME_GEN_NS) {
            l->duplicates++;
            return VXS_LINK_DUPLICATE;
        }
        if (l->inferred) {
            /* no counter to reuse: a late message its time put on a place already taken (the
             * inference gave the message there a place too few): sent and delivered, binned
             * at once */
            l->reordered++;
            l->delivered++;
            bin_place(l, place, true, gen, dist);
            return VXS_LINK_REORDERED;
        }
        l->reused++;
        l->delivered++;
        return VXS_LINK_REUSED;
    }
    set_have(l, place, true);
    l->gen[slot(place)] = gen;
    l->dist[slot(place)] = (float)dist;
    l->reordered++;
    l->delivered++;
    return VXS_LINK_REORDERED;
}

vxs_link_event_t vxs_link_add_at(vxs_link_t *l, int64_t counter, vxs_time_t gen, double dist_m) {
    if (!l || l->inferred || counter < 0 || counter >= (int64_t)l->modulus) return VXS_LINK_BAD;
    return add_at(l, l->started ? place_of(l, counter, gen) : counter, gen, dist_m);
}

vxs_link_event_t vxs_link_add(vxs_link_t *l, int64_t counter, vxs_time_t gen) {
    return vxs_link_add_at(l, counter, gen, NAN);
}

/* INFER_SLACK: a gap this far (in intervals) from a whole number of intervals is the sender
 * changing its interval, not messages lost */
#define INFER_SLACK 0.25
#define INFER_GAPS 5 /* gaps the inferred interval is the median of */

vxs_link_event_t vxs_link_add_inferred(vxs_link_t *l, vxs_time_t gen, double dist_m) {
    if (!l || gen == VXS_TIME_NONE || (l->started && !l->inferred)) return VXS_LINK_BAD;
    l->inferred = true;
    if (!l->started) return add_at(l, 0, gen, dist_m);
    const int64_t g = gen - l->top_gen;
    int64_t place;
    if (llabs(g) <= SAME_GEN_NS) {
        place = l->top; /* the newest again: a duplicate (or the sender reusing a time) */
    } else if (g > 0) {
        /* k intervals after the newest: k - 1 lost; a gap that is no whole number of
         * intervals (or shorter than one) is a new interval, nothing lost */
        const double r = l->interval_s > 0 ? (double)g * 1e-9 / l->interval_s : 1.0;
        int64_t k = llround(r);
        if (k < 1 || fabs(r - (double)k) > INFER_SLACK) k = 1;
        place = l->top + k;
        /* the interval is the median of the last INFER_GAPS gaps between messages as they
         * come, not per place: a sender that slows down to a multiple of its interval (a
         * stopped car's CAMs: 1 s) is a new interval after a few messages, not a loss forever
         * (a CAM keeps a new interval for 3 messages, EN 302 637-2 T_GenCam) */
        l->steps[l->i_steps] = (double)g * 1e-9;
        l->i_steps = (l->i_steps + 1) % INFER_GAPS;
        if (l->n_steps < INFER_GAPS) l->n_steps++;
        l->interval_s = median_step(l);
    } else {
        /* older than the newest: at its place behind it, or the same time as one received */
        place = l->top;
        for (int64_t p = l->top; p >= l->done && p > l->top - W; p--) {
            if (has(l, p) && llabs(l->gen[slot(p)] - gen) <= SAME_GEN_NS) {
                place = p;
                break;
            }
            if (has(l, p) && l->gen[slot(p)] < gen) { /* the gap just after p */
                place = p + 1 < l->top ? p + 1 : l->top;
                break;
            }
            place = p;
        }
    }
    return add_at(l, place, gen, dist_m);
}

void vxs_link_finish(vxs_link_t *l) {
    if (!l || !l->started) return;
    settle(l, l->top + 1);
    end_run(l);
    l->sent = l->delivered + l->lost - l->stale;
}

/* ---- a link's latencies (job_int.h lat_hist_t) ---- */

/* vxsi_lat_add gives a message's latency to its link's histogram. */
void vxsi_lat_add(lat_hist_t *h, int64_t latency_ns) {
    const double l = (double)latency_ns;
    size_t b = 0;
    if (l >= 1e4) {
        const double k = floor(log(l / 1e4) / log(1.01)) + 1;
        b = k >= LAT_BINS - 1 ? LAT_BINS - 1 : (size_t)k;
    }
    h->bins[b]++;
    if (h->n) h->sum_abs_change_ns += fabs(l - h->prev_ns);
    if (!h->n || l < h->min_ns) h->min_ns = l;
    if (!h->n || l > h->max_ns) h->max_ns = l;
    h->prev_ns = l;
    h->n++;
}

/* vxsi_lat_quantile returns the q-quantile of the histogram (ms): the geometric middle of its bin,
 * held within the exact extremes. */
double vxsi_lat_quantile(const lat_hist_t *h, double q) {
    const uint64_t rank = (uint64_t)ceil(q * (double)h->n);
    uint64_t seen = 0;
    size_t b = 0;
    for (; b < LAT_BINS; b++)
        if ((seen += h->bins[b]) >= (rank ? rank : 1)) break;
    double v = b == 0 ? h->min_ns : 1e4 * pow(1.01, (double)b - 0.5);
    if (v < h->min_ns) v = h->min_ns;
    if (v > h->max_ns) v = h->max_ns;
    return v / 1e6;
}
