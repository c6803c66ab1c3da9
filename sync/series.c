/*
 * series.c: offset series between two clocks and the robust fit of their lower envelope.
 *
 * specification: ../shared/specs/sync-and-clocks.md section 3 (one-way logs: Paxson SIGMETRICS '98,
 * Moon-Skelly-Towsley INFOCOM '99, Zhang-Liu-Xia INFOCOM '02).
 *
 * A sample is (x, y) with y = offset + slope * (x - x0) + delay, delay >= a floor. Three stages:
 *
 *   add     jump detector -> window folding.  Samples wait in a ring of 4 x (jump_confirm + 1)
 *           samples before they are committed to a window, so the detector sees enough of the
 *           future to decide whether the oldest one starts a new level; nothing ever has to be
 *           taken back out of a window.
 *
 *             x ─────────────────────────────────────────────────────────────▶
 *             [ w0 ][ w1 ][ w2 ]...[ w(n-1) open ]  ◀── commit ──  [ ring ]  ◀── add
 *                   (lowest, hull<=8, n, Σ(x-x_first))
 *
 *   windows each keep their lowest sample, the lower convex hull of their samples (thinned to
 *           VXS_SERIES_HULL_MAX points), the sample count and the sum of x relative to their
 *           first x (the exact mean x the LP needs). At max_windows, adjacent pairs merge (never
 *           across a jump) and new windows get twice as wide.
 *
 *   fit     Theil-Sen over the windows' lowest samples (pairs within a piece, jointly over
 *           pieces) -> inlier band -> joint lower-hull LP on the inliers: one slope for every
 *           piece, one offset per piece.
 */
#include "vxs_sync.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define HULL_MAX VXS_SERIES_HULL_MAX
/* The open window's hull may grow to twice the kept size before it is thinned: thinning then
 * runs once per HULL_MAX appended vertices instead of at every one. */
#define OPEN_HULL_MAX (2 * HULL_MAX)

/* Floor tracker of the jump detector: the minimum of the last few blocks of committed samples.
 * A block closes after 16 samples or 1 s, whichever first; 4 closed blocks plus the current one
 * make the floor the minimum over the last 64..80 samples or ~5 s. Why time-bounded: at 100 ppm
 * 5 s of drift move the floor 0.5 ms, a tenth of the default 5 ms jump threshold. */
#define FB_N 5
#define FB_SAMPLES 16
#define FB_SPAN_NS VXS_NS_PER_S
#define FLOOR_LIVE_NS (5 * VXS_NS_PER_S)
/* After a gap longer than FLOOR_LIVE_NS the floor is stale: the clocks may have drifted apart by
 * up to 200 ppm (two +-100 ppm crystals) times the gap, so the threshold grows by that much for
 * the first decision after the gap, and the floor is then re-seeded from the samples in hand. */
#define DRIFT_ALLOW 2e-4

/* Inlier band of the fit, in units of the noise scale (1.4826 x MAD of the window minima around
 * the Theil-Sen line, the Gaussian-consistent sigma). The 1 ms floors keep a zero-noise series
 * from rejecting windows over a nanosecond. Above, the band is wide: exponential delays have a
 * long upper tail (a window minimum 10 sigma up happens once in a few thousand windows), and a
 * window left out above costs the fit little anyway; it is meant for windows made of spikes. */
#define MAD_TO_SD 1.4826
#define BELOW_K 5.0
#define BELOW_MIN_NS 1e6
#define ABOVE_K 20.0
#define ABOVE_MIN_NS 1e6
/* slope_sd when no piece has two inlier windows and the slope is taken as 0: the tolerance of a
 * common crystal oscillator, 100 ppm, is what is honestly known then. */
#define SLOPE_PRIOR_SD 1e-4

typedef struct {
    int64_t x, y;
} pt_t;

typedef struct {
    vxs_time_t x_first, x_last; /* smallest and largest x of its samples */
    pt_t lo;                    /* lowest sample (leftmost of equal lowest) */
    uint64_t n;
    double sum_dx;              /* sum of (x - x_first) over its samples */
    uint8_t nh;
    bool starts_piece;          /* first window of a piece (the first window, or a jump's) */
    pt_t h[HULL_MAX];           /* lower hull, increasing x (open window: see wset_t.oh) */
} window_t;

/* wset_t is the window list; the last window is open (receiving samples) while `open`, and its
 * hull is then in `oh`, which may hold up to OPEN_HULL_MAX vertices. */
typedef struct {
    window_t *w;
    size_t nw, cap;
    size_t max_windows;
    int64_t width;  /* width of new windows: window_ns doubled at every merge pass */
    bool open;
    pt_t oh[OPEN_HULL_MAX + 1];
    size_t onh;
    uint32_t n_pieces;
    uint64_t out_of_order;
} wset_t;

typedef struct {
    int64_t min_y;
    vxs_time_t x_first, x_last;
    uint32_t n;
} fblock_t;

struct vxs_series {
    vxs_series_opts_t o;
    uint64_t count;
    wset_t ws;
    pt_t *ring; /* samples not yet committed, oldest at ring_head */
    size_t ring_cap, ring_head, ring_len;
    int64_t *scratch; /* ring_cap values, for medians */
    fblock_t fb[FB_N];
    size_t fb_cur, fb_n;
    uint32_t jumps_merged;
    uint64_t low_rejected; /* samples far below the floor that were not a jump */
};

/* ---- small arithmetic ------------------------------------------------------------------------ */

/* Times and offsets are arbitrary int64: differences saturate instead of overflowing. */
static int64_t sat_sub(int64_t a, int64_t b) {
    int64_t r;
    if (__builtin_sub_overflow(a, b, &r)) return a < b ? INT64_MIN : INT64_MAX;
    return r;
}

static int64_t sat_add(int64_t a, int64_t b) {
    int64_t r;
    if (__builtin_add_overflow(a, b, &r)) return b > 0 ? INT64_MAX : INT64_MIN;
    return r;
}

/* cross > 0 when a -> b -> c turns left (c above the line a-b extended), the lower-hull case. In
 * double: a rounding error here only matters for nearly collinear points, whose vertical distance
 * to the chord is then far below a nanosecond. */
static double cross(pt_t a, pt_t b, pt_t c) {
    return (double)sat_sub(b.x, a.x) * (double)sat_sub(c.y, a.y) -
           (double)sat_sub(b.y, a.y) * (double)sat_sub(c.x, a.x);
}

static int cmp_pt(const void *pa, const void *pb) {
    const pt_t *a = pa, *b = pb;
    if (a->x != b->x) return a->x < b->x ? -1 : 1;
    return (a->y > b->y) - (a->y < b->y);
}

static int cmp_i64(const void *pa, const void *pb) {
    int64_t a = *(const int64_t *)pa, b = *(const int64_t *)pb;
    return (a > b) - (a < b);
}

static int cmp_dbl(const void *pa, const void *pb) {
    double a = *(const double *)pa, b = *(const double *)pb;
    return (a > b) - (a < b);
}

/* median_dbl sorts v and returns its upper median (0 for an empty set). */
static double median_dbl(double *v, size_t n) {
    if (!n) return 0.0;
    qsort(v, n, sizeof *v, cmp_dbl);
    return v[n / 2];
}

/* ---- lower hulls -------------------------------------------------------------------------------- */

/* hull_build turns p (sorted by x, then y) into its lower convex hull in place (Andrew's monotone
 * chain) and returns the vertex count. Of points with equal x only the lowest can be on a lower
 * hull, and keeping one makes every edge's dx > 0. Collinear vertices are dropped. */
static size_t hull_build(pt_t *p, size_t n) {
    size_t k = 0;
    int64_t prev_x = 0;
    for (size_t i = 0; i < n; i++) {
        pt_t q = p[i];
        if (i > 0 && q.x == prev_x) continue;
        prev_x = q.x;
        while (k >= 2 && cross(p[k - 2], p[k - 1], q) <= 0) k--;
        p[k++] = q;
    }
    return k;
}

/* hull_thin drops vertices until at most `max` remain. Each step drops the interior vertex
 * closest to the chord of its neighbours (its removal raises the hull by that distance and by no
 * more anywhere), never the two ends (they carry the window's x extent, which the LP's mean-x
 * argument needs) nor the lowest vertex (the window's lowest sample, which the Theil-Sen stage
 * and the below-the-line test use). So the kept hull lies above the dropped samples by at most
 * the depth of the shallowest corners: for samples near a line that is nanoseconds. */
static size_t hull_thin(pt_t *h, size_t n, size_t max) {
    while (n > max) {
        size_t low = 0, best = 0;
        double best_d = HUGE_VAL;
        for (size_t i = 1; i < n; i++)
            if (h[i].y < h[low].y) low = i;
        for (size_t i = 1; i + 1 < n; i++) {
            if (i == low) continue;
            double dx = (double)sat_sub(h[i + 1].x, h[i - 1].x);
            double t = (double)sat_sub(h[i].x, h[i - 1].x) / dx;
            double d = (double)sat_sub(h[i + 1].y, h[i - 1].y) * t - (double)sat_sub(h[i].y, h[i - 1].y);
            if (d < best_d) {
                best_d = d;
                best = i;
            }
        }
        if (best == 0) break; /* only the ends and the lowest left (max < 3 never happens) */
        memmove(h + best, h + best + 1, (n - best - 1) * sizeof *h);
        n--;
    }
    return n;
}

/* ---- windows ------------------------------------------------------------------------------------ */

static void win_stats_add(window_t *w, pt_t p) {
    if (p.x < w->x_first) { /* out of order: re-base the sum on the new first x */
        w->sum_dx += (double)w->n * (double)sat_sub(w->x_first, p.x);
        w->x_first = p.x;
    }
    if (p.x > w->x_last) w->x_last = p.x;
    w->sum_dx += (double)sat_sub(p.x, w->x_first);
    w->n++;
    if (p.y < w->lo.y || (p.y == w->lo.y && p.x < w->lo.x)) w->lo = p;
}

/* open_hull_add adds p to the open window's hull. In x order (the normal case) this is one step
 * of the monotone chain, O(1) amortised; a sample earlier than the hull's right end rebuilds the
 * (at most 16-point) hull. */
static void open_hull_add(wset_t *ws, pt_t p) {
    size_t n = ws->onh;
    if (n > 0 && p.x < ws->oh[n - 1].x) {
        ws->oh[n] = p;
        qsort(ws->oh, n + 1, sizeof(pt_t), cmp_pt);
        n = hull_build(ws->oh, n + 1);
    } else {
        if (n > 0 && p.x == ws->oh[n - 1].x) {
            if (p.y >= ws->oh[n - 1].y) return;
            n--;
        }
        while (n >= 2 && cross(ws->oh[n - 2], ws->oh[n - 1], p) <= 0) n--;
        ws->oh[n++] = p;
    }
    if (n >= OPEN_HULL_MAX) n = hull_thin(ws->oh, n, HULL_MAX);
    ws->onh = n;
}

/* win_fold_point adds p to a closed window (an out-of-order sample). */
static void win_fold_point(window_t *w, pt_t p) {
    pt_t tmp[HULL_MAX + 1];
    memcpy(tmp, w->h, w->nh * sizeof(pt_t));
    tmp[w->nh] = p;
    qsort(tmp, (size_t)w->nh + 1, sizeof(pt_t), cmp_pt);
    size_t n = hull_thin(tmp, hull_build(tmp, (size_t)w->nh + 1), HULL_MAX);
    memcpy(w->h, tmp, n * sizeof(pt_t));
    w->nh = (uint8_t)n;
    win_stats_add(w, p);
}

/* win_merge folds window b (the right neighbour) into a: hull of the union of both hulls,
 * re-thinned; counts and sums added, the sum re-based on the earlier first x. */
static void win_merge(window_t *a, const window_t *b) {
    pt_t tmp[2 * HULL_MAX];
    memcpy(tmp, a->h, a->nh * sizeof(pt_t));
    memcpy(tmp + a->nh, b->h, b->nh * sizeof(pt_t));
    size_t n = (size_t)a->nh + b->nh;
    qsort(tmp, n, sizeof(pt_t), cmp_pt);
    n = hull_thin(tmp, hull_build(tmp, n), HULL_MAX);
    memcpy(a->h, tmp, n * sizeof(pt_t));
    a->nh = (uint8_t)n;
    vxs_time_t xf = a->x_first < b->x_first ? a->x_first : b->x_first;
    a->sum_dx = a->sum_dx + (double)a->n * (double)sat_sub(a->x_first, xf) + b->sum_dx +
                (double)b->n * (double)sat_sub(b->x_first, xf);
    a->x_first = xf;
    if (b->x_last > a->x_last) a->x_last = b->x_last;
    if (b->lo.y < a->lo.y || (b->lo.y == a->lo.y && b->lo.x < a->lo.x)) a->lo = b->lo;
    a->n += b->n;
}

/* ws_close stores the open window's hull, thinned, into its slot. */
static void ws_close(wset_t *ws) {
    if (!ws->open) return;
    window_t *w = &ws->w[ws->nw - 1];
    size_t n = hull_thin(ws->oh, ws->onh, HULL_MAX);
    memcpy(w->h, ws->oh, n * sizeof(pt_t));
    w->nh = (uint8_t)n;
    ws->onh = 0;
    ws->open = false;
}

/* ws_merge_pass merges adjacent pairs of windows within each piece; every window is closed. */
static void ws_merge_pass(wset_t *ws) {
    size_t i = 0, j = 0;
    bool merged = false;
    while (i < ws->nw) {
        if (j != i) ws->w[j] = ws->w[i];
        if (i + 1 < ws->nw && !ws->w[i + 1].starts_piece) {
            win_merge(&ws->w[j], &ws->w[i + 1]);
            merged = true;
            i += 2;
        } else {
            i++;
        }
        j++;
    }
    ws->nw = j;
    /* New windows as wide as the merged ones, so the merging does not repeat at the end only. */
    if (merged && ws->width <= INT64_MAX / 2) ws->width *= 2;
}

/* ws_open starts a window at p. The caller made room (ws->nw < ws->cap). */
static void ws_open(wset_t *ws, pt_t p, bool starts_piece) {
    window_t *w = &ws->w[ws->nw++];
    memset(w, 0, sizeof *w);
    w->x_first = w->x_last = p.x;
    w->lo = p;
    w->n = 1;
    w->starts_piece = starts_piece;
    if (starts_piece) ws->n_pieces++;
    ws->oh[0] = p;
    ws->onh = 1;
    ws->open = true;
}

/* ws_reserve makes room for `need` windows. The first call reserves the most the series can
 * ever hold (merging keeps nw below it), once: a buffer grown by doubling leaves, at every step,
 * a freed block behind that the C library may keep resident (glibc moves blocks of this size
 * from their own mappings into the heap once it has seen larger ones freed), so the peak grew
 * with the drive's length. Reserved is not resident: pages are touched only as windows fill
 * them, and adds are then allocation-free. */
static vxs_status_t ws_reserve(wset_t *ws, size_t need) {
    if (need <= ws->cap) return VXS_OK;
    size_t cap = ws->max_windows + VXS_SERIES_MAX_PIECES + 4;
    if (cap < need) cap = need;
    if (cap > SIZE_MAX / sizeof(window_t)) return VXS_E_NOMEM;
    window_t *w = vxs_realloc(ws->w, cap * sizeof(window_t));
    if (!w) return VXS_E_NOMEM;
    ws->w = w;
    ws->cap = cap;
    return VXS_OK;
}

/* ws_commit folds one sample into the windows; new_piece starts a piece at it. Returns whether a
 * piece was started. Needs room for one more window (ws_reserve(nw + 1)). */
static bool ws_commit(wset_t *ws, pt_t p, bool new_piece) {
    if (ws->nw == 0) {
        ws_open(ws, p, true);
        return false;
    }
    window_t *cur = &ws->w[ws->nw - 1];
    if (ws->open && p.x < cur->x_first) {
        /* Earlier than the open window: the window it belongs to (windows are in x order), or the
         * oldest. A jump cannot start there: pieces must stay in x order. */
        ws->out_of_order++;
        if (ws->nw == 1) {
            win_stats_add(cur, p);
            open_hull_add(ws, p);
            return false;
        }
        size_t lo = 0, hi = ws->nw - 1; /* find the last closed window with x_first <= p.x */
        while (hi - lo > 1) {
            size_t mid = lo + (hi - lo) / 2;
            if (ws->w[mid].x_first <= p.x)
                lo = mid;
            else
                hi = mid;
        }
        win_fold_point(&ws->w[lo], p);
        return false;
    }
    if (!new_piece && ws->open && sat_sub(p.x, cur->x_first) < ws->width) {
        win_stats_add(cur, p);
        open_hull_add(ws, p);
        return false;
    }
    ws_close(ws);
    if (ws->nw >= ws->max_windows) ws_merge_pass(ws);
    ws_open(ws, p, new_piece);
    return new_piece;
}

/* ---- jump detector ------------------------------------------------------------------------------ */

static pt_t ring_at(const vxs_series_t *s, size_t i) {
    return s->ring[(s->ring_head + i) % s->ring_cap];
}

static void floor_push(vxs_series_t *s, pt_t p) {
    fblock_t *b = &s->fb[s->fb_cur];
    if (s->fb_n == 0 || b->n >= FB_SAMPLES || sat_sub(p.x, b->x_first) >= FB_SPAN_NS) {
        s->fb_cur = (s->fb_cur + 1) % FB_N;
        if (s->fb_n < FB_N) s->fb_n++;
        b = &s->fb[s->fb_cur];
        b->min_y = p.y;
        b->x_first = b->x_last = p.x;
        b->n = 1;
        return;
    }
    if (p.y < b->min_y) b->min_y = p.y;
    if (p.x > b->x_last) b->x_last = p.x;
    b->n++;
}

static void floor_seed(vxs_series_t *s, vxs_time_t x, int64_t y) {
    s->fb_n = 0;
    pt_t p = {x, y};
    floor_push(s, p);
}

/* floor_get returns false when there is no floor yet. *live says whether a block is recent enough
 * for x; if none is, *floor is the stale floor and *x_newest the last x it saw. */
static bool floor_get(const vxs_series_t *s, vxs_time_t x, int64_t *floor, bool *live,
                      vxs_time_t *x_newest) {
    if (!s->fb_n) return false;
    int64_t f_live = INT64_MAX, f_all = INT64_MAX;
    vxs_time_t newest = INT64_MIN;
    bool any = false;
    for (size_t k = 0; k < s->fb_n; k++) {
        const fblock_t *b = &s->fb[(s->fb_cur + FB_N - k) % FB_N];
        if (b->min_y < f_all) f_all = b->min_y;
        if (b->x_last > newest) newest = b->x_last;
        if (sat_sub(x, b->x_last) <= FLOOR_LIVE_NS) {
            any = true;
            if (b->min_y < f_live) f_live = b->min_y;
        }
    }
    *live = any;
    *floor = any ? f_live : f_all;
    *x_newest = newest;
    return true;
}

/* ring_median returns the median y of ring[from, to) restricted to y < below (INT64_MAX: all). */
static int64_t ring_median(vxs_series_t *s, size_t from, size_t to, int64_t below) {
    size_t n = 0;
    for (size_t i = from; i < to; i++) {
        int64_t y = ring_at(s, i).y;
        if (below == INT64_MAX || y < below) s->scratch[n++] = y;
    }
    if (!n) return ring_at(s, from).y;
    qsort(s->scratch, n, sizeof *s->scratch, cmp_i64);
    return s->scratch[n / 2];
}

/* fwd_confirmed: ring[0] starts a higher level when it and the next jump_confirm samples all lie
 * above floor + thr (delays only add, so at a genuinely higher level no sample can be lower), and
 * the rest of the ring does not come back: at most 1 in 16 of them (a corrupted sample) below
 * floor + thr/2. The second test is what keeps exponential delay noise as large as the threshold
 * (the spec's 5 ms mean) from faking a step: nine delays above 5 ms happen once in ~8000
 * samples, and 27 more that mostly stay above 2.5 ms essentially never. */
static bool fwd_confirmed(vxs_series_t *s, int64_t floor, int64_t thr) {
    size_t c = s->o.jump_confirm;
    int64_t hi = sat_add(floor, thr), half = sat_add(floor, thr / 2);
    int64_t under = sat_sub(floor, thr / 2);
    for (size_t i = 1; i <= c; i++)
        if (ring_at(s, i).y <= hi) return false;
    /* "Coming back" is coming back to the old floor: samples far under it are a further step
     * back (loggers stepped twice within the ring's span), not a burst of delays ending. */
    size_t late = 0, allow = (s->ring_len - c - 1) / 16;
    for (size_t i = c + 1; i < s->ring_len; i++) {
        const int64_t y = ring_at(s, i).y;
        if (y < half && y >= under && ++late > allow) return false;
    }
    return true;
}

/* bwd_confirmed: ring[0] starts a lower level when most of it and the next jump_confirm samples
 * lie below floor - thr, and most of the rest below floor - thr/2. "Most", not "all": at the lower
 * level delay spikes still rise above the old floor. One corrupted sample, or a few, are a
 * minority and are not a jump. */
static bool bwd_confirmed(vxs_series_t *s, int64_t floor, int64_t thr) {
    size_t c = s->o.jump_confirm, n_low = 0, n_back = 0;
    int64_t lo = sat_sub(floor, thr), half = sat_sub(floor, thr / 2);
    int64_t over = sat_add(floor, thr / 2);
    for (size_t i = 0; i <= c; i++)
        if (ring_at(s, i).y < lo) n_low++;
    /* the rest must not come back to the old floor (a further step forward, within the ring's
     * span, takes it well above it: that is not coming back) */
    for (size_t i = c + 1; i < s->ring_len; i++) {
        const int64_t y = ring_at(s, i).y;
        if (y >= half && y <= over) n_back++;
    }
    return 2 * n_low > c + 1 && 2 * n_back < s->ring_len - c - 1;
}

/* decide_oldest runs when the ring is full: decides whether its oldest sample starts a new level,
 * updates the floor, commits the sample and drops it from the ring. */
static void decide_oldest(vxs_series_t *s) {
    pt_t p = ring_at(s, 0);
    int64_t floor = 0, thr = s->o.jump_min_ns;
    bool live = true;
    vxs_time_t x_newest = 0;
    if (!floor_get(s, p.x, &floor, &live, &x_newest)) {
        /* First decision: the median of the ring is a floor estimate no spike or corrupted
         * sample can move; the committed samples then lower it to the envelope. */
        floor = ring_median(s, 0, s->ring_len, INT64_MAX);
        floor_seed(s, p.x, floor);
        live = true;
    } else if (!live) {
        double grow = DRIFT_ALLOW * (double)sat_sub(p.x, x_newest);
        thr = sat_add(thr, grow < 4.0e18 ? (int64_t)grow : INT64_MAX / 2);
    }
    int dir = 0;
    bool low_outlier = false;
    if (s->o.jump_min_ns > 0) {
        if (p.y > sat_add(floor, thr)) {
            if (fwd_confirmed(s, floor, thr)) dir = 1;
        } else if (p.y < sat_sub(floor, thr)) {
            if (bwd_confirmed(s, floor, thr))
                dir = -1;
            else
                low_outlier = true;
        }
    }
    bool split = false;
    if (dir != 0) {
        /* The new level's floor: the median of its first samples (for a backward step only the
         * low ones; a spike among them cannot move a median). */
        size_t c = s->o.jump_confirm;
        int64_t seed = dir > 0 ? ring_median(s, 0, c + 1, INT64_MAX)
                               : ring_median(s, 0, c + 1, sat_sub(floor, thr));
        floor_seed(s, p.x, seed);
        if (s->ws.n_pieces < VXS_SERIES_MAX_PIECES)
            split = true;
        else
            s->jumps_merged++;
    } else {
        if (!live) floor_seed(s, p.x, ring_median(s, 0, s->ring_len, INT64_MAX));
        if (low_outlier)
            s->low_rejected++; /* kept out of the floor: one bad sample must not drag it down */
        else
            floor_push(s, p);
    }
    ws_commit(&s->ws, p, split);
    s->ring_head = (s->ring_head + 1) % s->ring_cap;
    s->ring_len--;
}

/* ---- public: build ------------------------------------------------------------------------------ */

void vxs_series_opts_init(vxs_series_opts_t *o) {
    o->window_ns = 100 * VXS_NS_PER_MS;
    o->max_windows = 2048;
    o->jump_min_ns = 5 * VXS_NS_PER_MS;
    o->jump_confirm = 8;
}

/* A jump_min_ns <= 0 turns jump detection off (one piece whatever happens). */
vxs_status_t vxs_series_create(vxs_series_t **out, const vxs_series_opts_t *o) {
    vxs_series_opts_t opts;
    if (!out) return VXS_E_ARG;
    if (o)
        opts = *o;
    else
        vxs_series_opts_init(&opts);
    if (opts.window_ns <= 0 || opts.max_windows < 4 || opts.jump_confirm < 1) return VXS_E_ARG;
    if (opts.max_windows > SIZE_MAX / sizeof(window_t) - VXS_SERIES_MAX_PIECES - 4) return VXS_E_ARG;
    size_t c1 = (size_t)opts.jump_confirm + 1;
    if (c1 > SIZE_MAX / 4 / sizeof(pt_t)) return VXS_E_NOMEM;
    vxs_series_t *s = vxs_calloc(1, sizeof *s);
    if (!s) return VXS_E_NOMEM;
    s->o = opts;
    s->ring_cap = 4 * c1; /* the candidate, jump_confirm to confirm, 3x that to verify */
    s->ring = vxs_calloc(s->ring_cap, sizeof *s->ring);
    s->scratch = vxs_calloc(s->ring_cap, sizeof *s->scratch);
    if (!s->ring || !s->scratch) {
        vxs_series_destroy(s);
        return VXS_E_NOMEM;
    }
    s->ws.max_windows = opts.max_windows;
    s->ws.width = opts.window_ns;
    *out = s;
    return VXS_OK;
}

void vxs_series_destroy(vxs_series_t *s) {
    if (!s) return;
    vxs_free(s->ws.w);
    vxs_free(s->ring);
    vxs_free(s->scratch);
    vxs_free(s);
}

vxs_status_t vxs_series_add(vxs_series_t *s, vxs_time_t x, int64_t y) {
    if (!s || x == VXS_TIME_NONE) return VXS_E_ARG;
    /* The only allocation, done before anything changes, so VXS_E_NOMEM leaves s as it was. */
    if (s->ring_len + 1 == s->ring_cap) {
        vxs_status_t st = ws_reserve(&s->ws, s->ws.nw + 1);
        if (st != VXS_OK) return st;
    }
    pt_t p = {x, y};
    s->ring[(s->ring_head + s->ring_len) % s->ring_cap] = p;
    s->ring_len++;
    s->count++;
    if (s->ring_len == s->ring_cap) decide_oldest(s);
    return VXS_OK;
}

uint64_t vxs_series_count(const vxs_series_t *s) { return s ? s->count : 0; }

/* ---- public: fit -------------------------------------------------------------------------------- */

typedef struct {
    double x, y;
} dpt_t;

typedef struct {
    double slope, weight;
} edge_t;

static int cmp_dpt(const void *pa, const void *pb) {
    const dpt_t *a = pa, *b = pb;
    if (a->x != b->x) return a->x < b->x ? -1 : 1;
    return (a->y > b->y) - (a->y < b->y);
}

static int cmp_edge(const void *pa, const void *pb) {
    const edge_t *a = pa, *b = pb;
    return (a->slope > b->slope) - (a->slope < b->slope);
}

/* inversions counts pairs i < j with r[j] < r[i] (bottom-up merge sort; sorts r). */
static uint64_t inversions(double *r, double *tmp, size_t n) {
    uint64_t inv = 0;
    for (size_t width = 1; width < n; width *= 2) {
        for (size_t lo = 0; lo < n; lo += 2 * width) {
            size_t mid = lo + width < n ? lo + width : n, hi = lo + 2 * width < n ? lo + 2 * width : n;
            size_t i = lo, j = mid, k = lo;
            while (i < mid && j < hi) {
                if (r[j] < r[i]) {
                    inv += mid - i;
                    tmp[k++] = r[j++];
                } else {
                    tmp[k++] = r[i++];
                }
            }
            while (i < mid) tmp[k++] = r[i++];
            while (j < hi) tmp[k++] = r[j++];
            memcpy(r + lo, tmp + lo, (hi - lo) * sizeof *r);
        }
    }
    return inv;
}

/* fit_ctx_t holds the fit's working arrays: m windows, np pieces, window range of piece p is
 * [ps[p], ps[p + 1]). */
typedef struct {
    const window_t *w;
    size_t m, np;
    size_t ps[VXS_SERIES_MAX_PIECES + 1];
    vxs_time_t xref;
    int64_t yref;
    dpt_t *lo;      /* windows' lowest samples relative to (xref, yref), sorted within pieces */
    double *r, *tmp;
} fit_ctx_t;

/* ts_below counts the within-piece pairs of lowest samples whose slope is < b: with the points
 * sorted by (x, y), slope(i, j) < b exactly when r_j < r_i for r = y - b x, an inversion. Pairs
 * of equal x are never inversions, so they are left out as they should be. */
static uint64_t ts_below(fit_ctx_t *c, double b) {
    uint64_t n = 0;
    for (size_t p = 0; p < c->np; p++) {
        size_t a = c->ps[p], k = c->ps[p + 1] - a;
        if (k < 2) continue;
        for (size_t i = 0; i < k; i++) c->r[i] = c->lo[a + i].y - b * c->lo[a + i].x;
        n += inversions(c->r, c->tmp, k);
    }
    return n;
}

/* theil_sen returns false when no piece has a pair of windows at distinct x; else *b is the
 * median of all within-piece pairwise slopes (lower median), found by bisection on the slope
 * value with an O(m log m) count per step: exact to 1e-14 (1e-8 ppm) whatever max_windows is,
 * without the m^2/2 slopes in memory. */
static bool theil_sen(fit_ctx_t *c, double *b) {
    uint64_t pairs = 0;
    for (size_t p = 0; p < c->np; p++) {
        size_t a = c->ps[p], k = c->ps[p + 1] - a;
        if (k < 2) continue;
        pairs += (uint64_t)k * (k - 1) / 2;
        for (size_t i = 0; i < k;) { /* runs of equal x give no slope */
            size_t j = i + 1;
            while (j < k && c->lo[a + j].x == c->lo[a + i].x) j++;
            pairs -= (uint64_t)(j - i) * (j - i - 1) / 2;
            i = j;
        }
    }
    if (!pairs) return false;
    uint64_t want = (pairs + 1) / 2; /* the want-th smallest slope lies in [lo, hi) */
    double lo = -1e-3, hi = 1e-3;
    for (int i = 0; i < 60 && ts_below(c, lo) >= want; i++) lo *= 4;
    for (int i = 0; i < 60 && ts_below(c, hi) < want; i++) hi *= 4;
    for (int i = 0; i < 200 && hi - lo > 1e-14; i++) {
        double mid = lo + (hi - lo) / 2;
        if (mid <= lo || mid >= hi) break;
        if (ts_below(c, mid) >= want)
            hi = mid;
        else
            lo = mid;
    }
    *b = lo + (hi - lo) / 2;
    return true;
}

enum { CLS_IN = 0, CLS_BELOW = 1, CLS_ABOVE = 2 };

/* fit_windows fits closed, x-ordered windows into out (whose x0/samples/jumps_merged are set). */
static vxs_status_t fit_windows(const wset_t *ws, vxs_series_fit_t *out) {
    vxs_status_t st = VXS_E_NOMEM;
    fit_ctx_t c;
    memset(&c, 0, sizeof c);
    c.w = ws->w;
    c.m = ws->nw;
    for (size_t i = 0; i < c.m; i++)
        if (i == 0 || (ws->w[i].starts_piece && c.np < VXS_SERIES_MAX_PIECES)) c.ps[c.np++] = i;
    c.ps[c.np] = c.m;
    c.xref = ws->w[0].x_first;
    c.yref = ws->w[0].lo.y;
    size_t m = c.m, npts = m * HULL_MAX;
    double *res = NULL;
    dpt_t *los = NULL;
    uint8_t *cls = NULL;
    pt_t *pts = NULL;
    dpt_t *hv = NULL;
    edge_t *edges = NULL;
    c.lo = vxs_malloc(m * sizeof *c.lo);
    c.r = vxs_malloc(m * sizeof *c.r);
    c.tmp = vxs_malloc(m * sizeof *c.tmp);
    res = vxs_malloc(m * sizeof *res);
    los = vxs_malloc(m * sizeof *los);
    cls = vxs_malloc(m);
    pts = vxs_malloc(npts * sizeof *pts);
    hv = vxs_malloc(npts * sizeof *hv);
    edges = vxs_malloc(npts * sizeof *edges);
    if (!c.lo || !c.r || !c.tmp || !res || !los || !cls || !pts || !hv || !edges) goto end;

    out->n_pieces = c.np;
    out->windows = (uint32_t)m;
    for (size_t i = 0; i < m; i++) {
        c.lo[i].x = (double)sat_sub(ws->w[i].lo.x, c.xref);
        c.lo[i].y = (double)sat_sub(ws->w[i].lo.y, c.yref);
    }
    /* los keeps window order; c.lo is sorted within pieces for Theil-Sen (window order is x
     * order, but the windows' lowest samples after out-of-order folds need not be). */
    memcpy(los, c.lo, m * sizeof *los);
    for (size_t p = 0; p < c.np; p++) qsort(c.lo + c.ps[p], c.ps[p + 1] - c.ps[p], sizeof(dpt_t), cmp_dpt);

    /* 1. Theil-Sen slope over within-piece pairs (a step between pieces must not tilt it), each
     *    piece's robust intercept = median residual, noise scale = 1.4826 x MAD of the residuals
     *    in pieces of 2+ windows (a one-window piece's residual is 0 by construction). */
    double b_ts = 0.0;
    bool have_ts = theil_sen(&c, &b_ts);
    double a_ts[VXS_SERIES_MAX_PIECES];
    size_t nres = 0;
    for (size_t p = 0; p < c.np; p++) {
        size_t a = c.ps[p], k = c.ps[p + 1] - a;
        for (size_t i = 0; i < k; i++) c.r[i] = los[a + i].y - b_ts * los[a + i].x;
        a_ts[p] = median_dbl(c.r, k);
        if (k < 2) continue;
        for (size_t i = 0; i < k; i++) res[nres++] = fabs(los[a + i].y - b_ts * los[a + i].x - a_ts[p]);
    }
    double sigma = MAD_TO_SD * median_dbl(res, nres);
    double t_below = fmax(BELOW_MIN_NS, BELOW_K * sigma), t_above = fmax(ABOVE_MIN_NS, ABOVE_K * sigma);

    /* 2. Inliers: within [-t_below, +t_above] of the Theil-Sen line. Windows far below hold
     *    impossible samples (a negative delay: corrupted stamps) and would drag the hull down
     *    with them; windows far above are all spikes and only skew the mean x. windows_below
     *    counts the windows left out below. The header words it against the fitted line: that
     *    line runs under the Theil-Sen one by about resid_median, so the two readings differ
     *    only for a window within that much of the threshold, and measuring from the robust line
     *    keeps the decision from depending on the fit it feeds. */
    for (size_t p = 0; p < c.np; p++) {
        for (size_t i = c.ps[p]; i < c.ps[p + 1]; i++) {
            double r = los[i].y - (a_ts[p] + b_ts * los[i].x);
            cls[i] = (uint8_t)(r < -t_below ? CLS_BELOW : r > t_above ? CLS_ABOVE : CLS_IN);
            if (cls[i] == CLS_BELOW) out->windows_below++;
            if (cls[i] == CLS_ABOVE) out->windows_above++;
        }
    }

    /* 3. Per piece: lower hull of the inliers' hull points, inlier sample count and mean x. */
    size_t hs[VXS_SERIES_MAX_PIECES + 1], nin_w[VXS_SERIES_MAX_PIECES];
    double nin[VXS_SERIES_MAX_PIECES], mx[VXS_SERIES_MAX_PIECES];
    size_t nh_all = 0;
    for (size_t p = 0; p < c.np; p++) {
        size_t k = 0;
        double n = 0, sx = 0;
        nin_w[p] = 0;
        for (size_t i = c.ps[p]; i < c.ps[p + 1]; i++) {
            const window_t *w = &ws->w[i];
            if (cls[i] != CLS_IN) continue;
            nin_w[p]++;
            memcpy(pts + k, w->h, w->nh * sizeof(pt_t));
            k += w->nh;
            n += (double)w->n;
            sx += w->sum_dx + (double)w->n * (double)sat_sub(w->x_first, c.xref);
        }
        qsort(pts, k, sizeof(pt_t), cmp_pt);
        k = hull_build(pts, k);
        hs[p] = nh_all;
        for (size_t i = 0; i < k; i++) {
            hv[nh_all].x = (double)sat_sub(pts[i].x, c.xref);
            hv[nh_all].y = (double)sat_sub(pts[i].y, c.yref);
            nh_all++;
        }
        nin[p] = n;
        mx[p] = n > 0 ? sx / n : 0.0;
    }
    hs[c.np] = nh_all;

    /* 4. Joint lower-hull LP: maximise sum_p n_p * (a_p + b * mean_x_p) subject to the line of
     *    piece p lying under its hull points (that is, minimise the summed vertical distance of
     *    every inlier sample to its piece's line). For a fixed slope b, a_p(b) is the supporting
     *    line of the hull, touching the vertex v_p(b), so the objective is concave in b with
     *    derivative sum_p n_p * (mean_x_p - x(v_p(b))). Sweeping the hull edges of all pieces by
     *    increasing slope moves each touching vertex right along its hull; the optimum is the
     *    edge at which the derivative turns <= 0. With one piece this is Zhang-Liu-Xia's rule:
     *    the hull edge over the mean x. Pieces with fewer than 2 inlier windows do not vote on
     *    the slope (the contract: they take their neighbours'). */
    double b = 0.0, d = 0.0;
    size_t ne = 0;
    for (size_t p = 0; p < c.np; p++) {
        size_t a = hs[p], k = hs[p + 1] - a;
        if (nin_w[p] < 2 || k < 2) continue;
        d += nin[p] * (mx[p] - hv[a].x);
        for (size_t i = 0; i + 1 < k; i++) {
            double dx = hv[a + i + 1].x - hv[a + i].x;
            edges[ne].slope = (hv[a + i + 1].y - hv[a + i].y) / dx;
            edges[ne].weight = nin[p] * dx;
            ne++;
        }
    }
    bool have_slope = ne > 0;
    if (ne) {
        qsort(edges, ne, sizeof *edges, cmp_edge);
        b = edges[ne - 1].slope;
        for (size_t i = 0; i < ne; i++) {
            d -= edges[i].weight;
            if (d <= 0) {
                b = edges[i].slope;
                break;
            }
        }
    } else if (have_ts) {
        b = b_ts;
        have_slope = true;
    }

    /* 5. Offsets (the supporting line of slope b under each piece's inlier hull), residuals. */
    double a_fit[VXS_SERIES_MAX_PIECES];
    for (size_t p = 0; p < c.np; p++) {
        double a = HUGE_VAL;
        for (size_t i = hs[p]; i < hs[p + 1]; i++) a = fmin(a, hv[i].y - b * hv[i].x);
        a_fit[p] = a;
    }

    /* 6. Uncertainty. The envelope is fitted by an LP, which has no closed-form variance; we use
     *    the least-squares formulas with the window minima as the data: noise scale s = 1.4826 x
     *    MAD of the inlier minima's residuals to the fitted line (pooled over pieces of 2+
     *    inlier windows), var(slope) = s^2 / Sxx with Sxx = sum over those pieces of the squared
     *    deviations of the minima's x from their piece mean, and
     *    var(offset_p at x0) = s^2 / k_p + (x0 - mean x_p)^2 var(slope). This is honest in the
     *    sense the brief asks: exactly 0 for noise-free data, growing with the noise, and
     *    conservative, since an envelope estimator converges like 1/k (order statistics) where
     *    this formula shrinks only like 1/sqrt(k). */
    size_t ndev = 0;
    double sxx = 0.0;
    double rmed[VXS_SERIES_MAX_PIECES], lmx[VXS_SERIES_MAX_PIECES];
    for (size_t p = 0; p < c.np; p++) {
        size_t k = 0;
        double sx = 0;
        for (size_t i = c.ps[p]; i < c.ps[p + 1]; i++) {
            if (cls[i] != CLS_IN) continue;
            c.r[k++] = los[i].y - (a_fit[p] + b * los[i].x);
            sx += los[i].x;
        }
        rmed[p] = median_dbl(c.r, k);
        lmx[p] = k ? sx / (double)k : 0.0;
        if (k < 2) continue;
        for (size_t i = 0; i < k; i++) res[ndev++] = fabs(c.r[i] - rmed[p]);
        for (size_t i = c.ps[p]; i < c.ps[p + 1]; i++)
            if (cls[i] == CLS_IN) sxx += (los[i].x - lmx[p]) * (los[i].x - lmx[p]);
    }
    double s = MAD_TO_SD * median_dbl(res, ndev);
    double slope_var = have_slope && sxx > 0 ? s * s / sxx : SLOPE_PRIOR_SD * SLOPE_PRIOR_SD;

    double dx0 = (double)sat_sub(out->x0, c.xref);
    for (size_t p = 0; p < c.np; p++) {
        vxs_series_piece_t *pc = &out->pieces[p];
        pc->x_start = INT64_MAX;
        pc->x_end = INT64_MIN;
        for (size_t i = c.ps[p]; i < c.ps[p + 1]; i++) {
            const window_t *w = &ws->w[i];
            if (w->x_first < pc->x_start) pc->x_start = w->x_first;
            if (w->x_last > pc->x_end) pc->x_end = w->x_last;
            pc->samples += w->n;
        }
        pc->windows = (uint32_t)(c.ps[p + 1] - c.ps[p]);
        pc->inliers = (uint32_t)nin_w[p];
        pc->slope = b;
        pc->offset_ns = (double)c.yref + a_fit[p] + b * dx0;
        pc->resid_median_ns = rmed[p];
        pc->slope_sd = sqrt(slope_var);
        double k = nin_w[p] ? (double)nin_w[p] : 1.0;
        pc->offset_sd_ns = sqrt(s * s / k + (dx0 - lmx[p]) * (dx0 - lmx[p]) * slope_var);
        pc->x_center = sat_add(c.xref, (int64_t)llround(lmx[p]));
        if (nin_w[p] == 0) pc->x_center = sat_add(pc->x_start, sat_sub(pc->x_end, pc->x_start) / 2);
        pc->center_sd_ns = s / sqrt(k);
    }
    st = VXS_OK;
end:
    vxs_free(c.lo);
    vxs_free(c.r);
    vxs_free(c.tmp);
    vxs_free(res);
    vxs_free(los);
    vxs_free(cls);
    vxs_free(pts);
    vxs_free(hv);
    vxs_free(edges);
    return st;
}

/* ws_with_ring gives a copy of the windows into which the samples still in the detector's ring
 * are committed, the series left as it is. While the ring holds a candidate, its jump_confirm
 * confirmations and as many samples again to verify them, the oldest is decided as it would be
 * when more samples came (the verification over what there is): a step in the drive's last
 * seconds is a step. The last 2 x (jump_confirm + 1) - 1 samples are committed as they stand
 * (usually as a window above or below). false when out of memory. */
static bool ws_with_ring(const vxs_series_t *s, wset_t *out) {
    vxs_series_t t = *s;
    t.ws.cap = s->ws.nw + s->ring_len + 1;
    t.ws.w = vxs_malloc(t.ws.cap * sizeof *t.ws.w);
    t.ring = s->ring_len ? vxs_malloc(s->ring_cap * sizeof *t.ring) : NULL;
    t.scratch = s->ring_len ? vxs_malloc(s->ring_cap * sizeof *t.scratch) : NULL;
    if (!t.ws.w || (s->ring_len && (!t.ring || !t.scratch))) {
        vxs_free(t.ws.w);
        vxs_free(t.ring);
        vxs_free(t.scratch);
        return false;
    }
    if (s->ws.nw) memcpy(t.ws.w, s->ws.w, s->ws.nw * sizeof *t.ws.w);
    if (s->ring_len) memcpy(t.ring, s->ring, s->ring_cap * sizeof *t.ring);
    const size_t c1 = (size_t)s->o.jump_confirm + 1;
    while (t.ring_len >= 2 * c1) decide_oldest(&t);
    for (size_t i = 0; i < t.ring_len; i++) ws_commit(&t.ws, ring_at(&t, i), false);
    ws_close(&t.ws);
    vxs_free(t.ring);
    vxs_free(t.scratch);
    *out = t.ws;
    return true;
}

/* vxs_series_fit works on a copy of the windows into which the samples still in the detector's
 * ring are committed (ws_with_ring: a jump is decided until the last 2 x (jump_confirm + 1) - 1
 * samples, which land in the current piece). */
vxs_status_t vxs_series_fit(const vxs_series_t *s, vxs_time_t x0, vxs_series_fit_t *out) {
    if (!out) return VXS_E_ARG;
    memset(out, 0, sizeof *out);
    out->x0 = x0;
    if (!s) return VXS_E_ARG;
    out->samples = s->count;
    out->jumps_merged = s->jumps_merged;
    if (s->count < 2) return VXS_E_STATE;
    wset_t ws;
    if (!ws_with_ring(s, &ws)) return VXS_E_NOMEM;
    vxs_status_t st = fit_windows(&ws, out);
    vxs_free(ws.w);
    if (st != VXS_OK) {
        memset(out, 0, sizeof *out);
        out->x0 = x0;
    }
    return st;
}

/* fit_segment fits windows [a, b) of `ws` (their own slope) and appends the pieces to `out`. */
static vxs_status_t fit_segment(const wset_t *ws, size_t a, size_t b, vxs_series_fit_t *out) {
    wset_t sub = *ws;
    sub.w = ws->w + a;
    sub.nw = b - a;
    sub.w[0].starts_piece = true;
    vxs_series_fit_t f;
    memset(&f, 0, sizeof f);
    f.x0 = out->x0;
    const vxs_status_t st = fit_windows(&sub, &f);
    if (st != VXS_OK) return st;
    for (size_t k = 0; k < f.n_pieces && out->n_pieces < VXS_SERIES_MAX_PIECES; k++)
        out->pieces[out->n_pieces++] = f.pieces[k];
    out->windows += f.windows;
    out->windows_below += f.windows_below;
    out->windows_above += f.windows_above;
    return VXS_OK;
}

vxs_status_t vxs_series_fit_cut(const vxs_series_t *s, vxs_time_t x0, const vxs_time_t *lo,
                                const vxs_time_t *hi, size_t n, const vxs_time_t *cuts,
                                size_t n_cuts, vxs_series_fit_t *out) {
    if (!out) return VXS_E_ARG;
    memset(out, 0, sizeof *out);
    out->x0 = x0;
    if (!s || (n && (!lo || !hi)) || (n_cuts && !cuts)) return VXS_E_ARG;
    out->samples = s->count;
    if (s->count < 2) return VXS_E_STATE;
    wset_t ws;
    if (!ws_with_ring(s, &ws)) return VXS_E_NOMEM;
    /* keep the windows clear of every step's span and of every cut; a piece begins after each
     * span, a segment (a slope of its own) at each cut */
    uint32_t *seg = vxs_malloc((ws.nw ? ws.nw : 1) * sizeof *seg);
    if (!seg) {
        vxs_free(ws.w);
        return VXS_E_NOMEM;
    }
    size_t kept = 0, step = 0, cut = 0;
    bool new_piece = true;
    for (size_t i = 0; i < ws.nw; i++) {
        window_t w = ws.w[i];
        while (step < n && w.x_first > hi[step]) {
            step++;
            new_piece = true;
        }
        while (cut < n_cuts && w.x_first >= cuts[cut]) {
            cut++;
            new_piece = true;
        }
        if (step < n && w.x_last >= lo[step]) continue; /* reaches into a step's span */
        if (cut < n_cuts && w.x_last >= cuts[cut]) continue; /* holds a cut */
        w.starts_piece = new_piece;
        new_piece = false;
        seg[kept] = (uint32_t)cut;
        ws.w[kept++] = w;
    }
    ws.nw = kept;
    vxs_status_t st = kept ? VXS_OK : VXS_E_STATE;
    /* each segment of two windows or more on its own; shorter ones are left out */
    for (size_t a = 0; st == VXS_OK && a < kept;) {
        size_t b = a + 1;
        while (b < kept && seg[b] == seg[a]) b++;
        if (b - a >= 2 || n_cuts == 0) st = fit_segment(&ws, a, b, out);
        a = b;
    }
    if (st == VXS_OK && out->n_pieces == 0) st = VXS_E_STATE;
    vxs_free(seg);
    vxs_free(ws.w);
    if (st != VXS_OK) {
        memset(out, 0, sizeof *out);
        out->x0 = x0;
    } else {
        out->samples = s->count;
    }
    return st;
}

vxs_status_t vxs_series_fit_split(const vxs_series_t *s, vxs_time_t x0, const vxs_time_t *lo,
                                  const vxs_time_t *hi, size_t n, vxs_series_fit_t *out) {
    return vxs_series_fit_cut(s, x0, lo, hi, n, NULL, 0, out);
}

vxs_status_t vxs_series_minima(const vxs_series_t *s, vxs_series_point_t **out, size_t *n) {
    if (!out || !n) return VXS_E_ARG;
    *out = NULL;
    *n = 0;
    if (!s) return VXS_E_ARG;
    if (s->count == 0) return VXS_OK;
    wset_t ws;
    if (!ws_with_ring(s, &ws)) return VXS_E_NOMEM;
    vxs_series_point_t *p = vxs_malloc((ws.nw ? ws.nw : 1) * sizeof *p);
    if (!p) {
        vxs_free(ws.w);
        return VXS_E_NOMEM;
    }
    for (size_t i = 0; i < ws.nw; i++)
        p[i] = (vxs_series_point_t){ws.w[i].lo.x, ws.w[i].lo.y, ws.w[i].n};
    *out = p;
    *n = ws.nw;
    vxs_free(ws.w);
    return VXS_OK;
}

size_t vxs_series_piece_at(const vxs_series_fit_t *f, vxs_time_t x) {
    size_t k = 0;
    if (!f) return 0;
    for (size_t i = 1; i < f->n_pieces && i < VXS_SERIES_MAX_PIECES; i++)
        if (f->pieces[i].x_start <= x) k = i;
    return k;
}
