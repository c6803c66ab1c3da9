/*
 * clocks.c: the solver that estimates every clock domain of a scenario from the fitted envelopes
 * of the relations between them (vxs_sync.h section 4; ../shared/specs/sync-and-clocks.md
 * section 3). The clock models it produces, and the functions applying them, are core's
 * (vxs_frame.h section 1: every module maps times with them).
 *
 * The solver in brief. Node i has local = ref + theta_i + beta_i (ref - epoch) (+ its jumps).
 * An edge src -> dst is the envelope of y = local_dst - local_src sampled at x = local_src. At
 * the centre xc of its samples its line says, with t = the reference time of xc:
 *
 *     theta_dst - theta_src + (beta_dst - beta_src) (t - epoch) + floor_e = envelope(xc)
 *     beta_dst - beta_src = slope
 *
 * (t - epoch = (xc - epoch - theta_src) / (1 + beta_src): the solve is repeated with the
 * previous thetas, so a free-running clock seconds off and tens of ppm fast is not biased.)
 * Anchored nodes (and nodes with a known offset) are fixed. The unknowns are every other node's
 * theta and beta and every relation's floor: its minimum delay, its own (links are
 * asymmetric, stacks differ). Weak priors keep the system regular: every theta ~ 0 +- 1000 s
 * (a node no edge ties to a fixed one is reported unknown instead), every beta ~ 0 +- 200 ppm
 * (what any crystal holds: a few seconds of noisy data cannot claim more). Floors have the
 * prior of their class: floor_e = psi_g + delta_e with psi_g ~ N(0, sigma^2 / 2) shared by the
 * relations into one receiver (its radio and capture path) and delta_e ~ N(mu, sigma^2 / 2).
 * mu and sigma come from the floors the data measure (both ends pinned), else the defaults; a
 * wire floor (a LiDAR to its logger) is never measured, no recording tells it from the logger's
 * offset, so its class keeps the default (VXS_CLOCK_WIRE_PRIOR_*).
 * Where a floor is measured the data outweigh the prior; where it is not, the prior's spread
 * goes into the offsets that depend on it: the stated uncertainty covers what is not known.
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "linalg.h"
#include "vxs_sync.h"

#define SD_FLOOR_NS 20000.0   /* no relation is trusted to better than 20 µs */
#define SLOPE_SD_FLOOR 1e-9   /* ... or 0.001 ppm */
#define PRIOR_THETA_SD 1e12   /* ns: 1000 s */
#define PRIOR_BETA_SD 2e-4    /* 200 ppm: any crystal; data of a few minutes outweighs it */
#define CLAMP_SD_NS 1e3       /* a floor held at 0 */
#define REJECT_MIN_NS 2e6     /* a hint is rejected when the data disagree by more than this */
#define REJECT_SIGMAS 5.0
#define ITERATIONS 3          /* solves per pass, each with the previous thetas */
#define FEW_WINDOWS 8         /* a stretch of fewer inlier windows takes its relation's noise */
#define PRIOR_RATE_SD 1e-3    /* a change of rate: NTP slews at 500 ppm at most */
#define ROW_MAX (5 + 2 * VXS_RATE_CHANGES_MAX) /* unknowns in one row */

/* ==== the solver ============================================================================ */

/* A jump of a node: where (its reading just before), how much, how well seen (samples). */
typedef struct {
    double local_pre; /* the middle of the gap between the last sample before and the first
                         after, as the clock would have read it without the jump */
    double size_ns;
    double gap_ns;    /* that gap: how well the instant is known */
    double lo, hi;    /* the gap's ends, as the clock would have read them without the jump */
} jump_t;

typedef struct {
    jump_t j[VXS_SERIES_MAX_PIECES - 1];
    size_t n;
} node_jumps_t;

/* An edge reduced to its pieces freed of the destination's jumps: each piece's centre, its level
 * there as if the destination had not jumped, and its slope. The solve combines the pieces of
 * each stretch between two changes of the destination's rate into one line at their centre. */
typedef struct {
    size_t np;
    double xk[VXS_SERIES_MAX_PIECES]; /* a piece's centre: a source reading, minus the epoch */
    double ok[VXS_SERIES_MAX_PIECES]; /* the envelope there, less the jumps before it */
    double wk[VXS_SERIES_MAX_PIECES]; /* 1 / its variance */
    double bk[VXS_SERIES_MAX_PIECES]; /* its slope ... */
    double bw[VXS_SERIES_MAX_PIECES]; /* ... and 1 / the slope's variance (0: a piece of one
                                         window says nothing of the slope) */
    double xs[VXS_SERIES_MAX_PIECES], xe[VXS_SERIES_MAX_PIECES]; /* its first and last x */
    uint32_t nw[VXS_SERIES_MAX_PIECES];                           /* its inlier windows */
    double noise; /* the relation's noise scale (one window's lowest sample), from its pieces of
                     FEW_WINDOWS or more; 0 unknown */
    uint64_t samples;
    bool usable;
} edge_line_t;

/* One stretch of an edge between two changes of its destination's rate, as one line. */
typedef struct {
    double xc, ac, b, ac_sd, b_sd;
    size_t seg;     /* the destination's rate changes before it */
    size_t seg_src; /* the source's */
} seg_line_t;

typedef struct {
    const vxs_clock_node_t *nodes;
    size_t n;
    const vxs_clock_edge_t *edges;
    size_t ne;
    vxs_time_t epoch;
    edge_line_t *lines;
    node_jumps_t *jumps;
    bool *fixed;       /* theta and beta known */
    double *fix_theta; /* the value when fixed */
    bool *reach;       /* tied to a fixed node */
    bool *pinned;      /* tied to a fixed node through NONE relations */
    /* unknowns: theta (n), beta (n), floors (nf), shared parts (ng), rate changes (nr) */
    size_t nf, ng, nr, m;
    size_t *roff;      /* per node: the index of its first rate change among the nr */
    double *ru;        /* per rate change: its reference time minus the epoch */
    size_t *fidx;      /* per edge: its floor's index among the floors, SIZE_MAX for NONE */
    size_t *gidx;      /* per floor: its shared part's index */
    bool *clamped;     /* per floor */
    double mu[VXS_DELAY_CLASSES], sigma[VXS_DELAY_CLASSES];
    uint32_t measured[VXS_DELAY_CLASSES];
    double *x, *sd;    /* the solution and its sd (m each) */
    double *sd_free;   /* the sd before any floor was held at 0 */
    double *N, *r, *L; /* scratch: normal matrix, right-hand side, its Cholesky factor */
} solver_t;

static double line_at(const vxs_series_piece_t *p, vxs_time_t x0, double x) {
    return p->offset_ns + p->slope * (x - (double)x0);
}

/* A jump one relation saw, before the node's jumps are settled. */
typedef struct {
    size_t dst;
    jump_t j;
} cand_t;

static int cmp_cand_gap(const void *a, const void *b) {
    const double x = ((const cand_t *)a)->j.gap_ns, y = ((const cand_t *)b)->j.gap_ns;
    return (x > y) - (x < y);
}

/* collect_jumps gives the jumps the edges' fits found to the edges' destinations, then reduces
 * each edge to one jump-free line at the centre of its samples.
 *
 * The relations of one clock see its jumps with different precision: a LiDAR's 1 ms samples
 * bracket a step tightly, a 1 Hz V2X sender loosely, and a sparse relation whose samples straddle
 * two steps sees only their sum. So the candidates are taken from the tightest bracket up: one
 * whose bracket overlaps an accepted jump's is the same jump seen again, or several steps seen
 * as one where the tighter relations told them apart: nothing new; one whose bracket overlaps
 * none is a jump of its own. Jumps under the series' threshold are dropped: a fit's pieces can differ by less where
 * a relation's floor moved, and that is not the clock stepping. */
static bool collect_jumps(solver_t *s) {
    size_t nc = 0, cap = 0;
    for (size_t e = 0; e < s->ne; e++)
        if (s->edges[e].fit && s->edges[e].fit->n_pieces > 1) cap += s->edges[e].fit->n_pieces - 1;
    cand_t *c = cap ? vxs_calloc(cap, sizeof *c) : NULL;
    if (cap && !c) return false;
    for (size_t e = 0; c && e < s->ne; e++) {
        const vxs_series_fit_t *f = s->edges[e].fit;
        if (!f) continue;
        for (size_t k = 1; k < f->n_pieces; k++) {
            const double x = (double)f->pieces[k].x_start;
            const double xe = (double)f->pieces[k - 1].x_end;
            const double xm = xe + (x - xe) / 2;
            const double size = line_at(&f->pieces[k], f->x0, x) - line_at(&f->pieces[k - 1], f->x0, x);
            if (fabs(size) < VXS_CLOCK_JUMP_MIN_NS) continue;
            cand_t *q = &c[nc++];
            q->dst = s->edges[e].dst;
            q->j = (jump_t){xm + line_at(&f->pieces[k - 1], f->x0, xm), size, x - xe,
                            xe + line_at(&f->pieces[k - 1], f->x0, xe),
                            x + line_at(&f->pieces[k - 1], f->x0, x)};
        }
    }
    if (nc) qsort(c, nc, sizeof *c, cmp_cand_gap);
    for (size_t i = 0; i < nc; i++) {
        node_jumps_t *nj = &s->jumps[c[i].dst];
        const double slack = 1e6; /* the brackets' ends are samples: 1 ms either way */
        size_t inside = 0;
        /* the step lies inside every bracket that saw it: brackets that overlap saw the same */
        for (size_t k = 0; k < nj->n; k++)
            if (nj->j[k].hi >= c[i].j.lo - slack && nj->j[k].lo <= c[i].j.hi + slack) {
                inside++;
            }
        if (inside == 0 && nj->n < VXS_SERIES_MAX_PIECES - 1) nj->j[nj->n++] = c[i].j;
        /* inside > 0: seen again, or a sum of steps seen better: nothing new */
    }
    vxs_free(c);
    /* in order of position */
    for (size_t v = 0; v < s->n; v++) {
        node_jumps_t *nj = &s->jumps[v];
        for (size_t i = 1; i < nj->n; i++)
            for (size_t k = i; k > 0 && nj->j[k].local_pre < nj->j[k - 1].local_pre; k--) {
                const jump_t t = nj->j[k];
                nj->j[k] = nj->j[k - 1];
                nj->j[k - 1] = t;
            }
    }
    for (size_t e = 0; e < s->ne; e++) {
        const vxs_series_fit_t *f = s->edges[e].fit;
        edge_line_t *L = &s->lines[e];
        memset(L, 0, sizeof *L);
        if (!f || f->n_pieces == 0) continue;
        const node_jumps_t *nj = &s->jumps[s->edges[e].dst];
        double wa = 0;
        for (size_t k = 0; k < f->n_pieces && k < VXS_SERIES_MAX_PIECES; k++) {
            const vxs_series_piece_t *p = &f->pieces[k];
            /* the destination's jumps before this piece: those whose bracket begins before the
             * piece's first reading (a backward jump's piece begins below its "pre" reading,
             * so compare with the reading the piece would have had without the jump). The
             * bracket is the tightest any relation saw, so this relation's first sample after
             * the jump may lie inside it, before its middle: compare with its beginning. The
             * readings include the jumps before: `here` and every local_pre alike. */
            const double x = (double)p->x_start;
            double cum = 0;
            if (k > 0) {
                const double here = x + line_at(p, f->x0, x);
                for (size_t i = 0; i < nj->n; i++) {
                    const double before = here - nj->j[i].size_ns;
                    if (nj->j[i].local_pre - nj->j[i].gap_ns / 2 <= before + 1e6)
                        cum += nj->j[i].size_ns;
                }
            }
            const double sd = fmax(p->center_sd_ns, SD_FLOOR_NS);
            const size_t q = L->np++;
            L->wk[q] = 1.0 / (sd * sd) * (p->windows >= 2 ? 1.0 : 0.01);
            L->xk[q] = (double)(p->x_center - s->epoch);
            L->ok[q] = line_at(p, f->x0, (double)p->x_center) - cum;
            L->bk[q] = p->slope;
            const double bsd = fmax(p->slope_sd, SLOPE_SD_FLOOR);
            L->bw[q] = p->windows >= 2 ? 1.0 / (bsd * bsd) : 0.0;
            L->xs[q] = (double)(p->x_start - s->epoch);
            L->xe[q] = (double)(p->x_end - s->epoch);
            L->nw[q] = p->inliers;
            if (p->inliers >= FEW_WINDOWS)
                L->noise = fmax(L->noise, p->center_sd_ns * sqrt((double)p->inliers));
            wa += L->wk[q];
            L->samples += p->samples;
        }
        L->usable = wa > 0;
    }
    return true;
}

/* find_reach marks the nodes tied to a fixed one over usable edges (reach), and over usable
 * NONE edges only (pinned). */
static void find_reach(solver_t *s) {
    for (size_t v = 0; v < s->n; v++) s->reach[v] = s->pinned[v] = s->fixed[v];
    for (int pass = 0; pass < 2; pass++) {
        bool *mark = pass ? s->pinned : s->reach;
        for (bool grew = true; grew;) {
            grew = false;
            for (size_t e = 0; e < s->ne; e++) {
                if (!s->lines[e].usable || (pass && s->edges[e].delay != VXS_DELAY_WIRE))
                    continue;
                const size_t a = s->edges[e].src, b = s->edges[e].dst;
                if (mark[a] != mark[b]) {
                    mark[a] = mark[b] = true;
                    grew = true;
                }
            }
        }
    }
}

/* The unknowns' indexes. */
static size_t i_theta(size_t v) { return v; }
static size_t i_beta(const solver_t *s, size_t v) { return s->n + v; }
static size_t i_floor(const solver_t *s, size_t f) { return 2 * s->n + f; }
static size_t i_group(const solver_t *s, size_t g) { return 2 * s->n + s->nf + g; }
static size_t i_rate(const solver_t *s, size_t v, size_t j) {
    return 2 * s->n + s->nf + s->ng + s->roff[v] + j;
}

/* seg_of counts node v's rate changes at or before u (reference time minus the epoch). */
static size_t seg_of(const solver_t *s, size_t v, double u) {
    size_t g = 0;
    while (g < s->nodes[v].n_rates && s->ru[s->roff[v] + g] <= u) g++;
    return g;
}

/* edge_segments combines edge e's pieces into one line per stretch between two changes of rate
 * of its source or destination, each piece placed by its centre's reference time under the
 * source's current estimate (pieces are in order, so a stretch's pieces are consecutive).
 * Returns how many (in out[]). */
static size_t edge_segments(const solver_t *s, size_t e, seg_line_t *out) {
    const edge_line_t *L = &s->lines[e];
    const size_t a = s->edges[e].src, b = s->edges[e].dst;
    double L_scale[VXS_SERIES_MAX_PIECES];
    for (size_t k = 0; k < VXS_SERIES_MAX_PIECES; k++) L_scale[k] = 1.0;
    size_t n = 0, k0 = 0;
    while (k0 < L->np) {
        const double u0 = (L->xk[k0] - s->x[i_theta(a)]) / (1.0 + s->x[i_beta(s, a)]);
        const size_t ga = seg_of(s, a, u0), gb = seg_of(s, b, u0);
        double wa = 0, swx = 0, wb = 0, sb = 0;
        size_t k1 = k0;
        for (; k1 < L->np; k1++) {
            const double u = (L->xk[k1] - s->x[i_theta(a)]) / (1.0 + s->x[i_beta(s, a)]);
            if (seg_of(s, a, u) != ga || seg_of(s, b, u) != gb) break;
            wa += L->wk[k1];
            swx += L->wk[k1] * L->xk[k1];
            wb += L->bw[k1];
            sb += L->bw[k1] * L->bk[k1];
        }
        /* a stretch of few windows cannot tell its own noise (its lowest samples lie on the
         * line it fits them with): it gets the relation's, as least squares would, over its
         * span and windows */
        uint32_t nwin = 0;
        for (size_t k = k0; k < k1; k++) nwin += L->nw[k];
        if (wa > 0 && nwin < FEW_WINDOWS && L->noise > 0 && k1 > k0) {
            const double span = L->xe[k1 - 1] - L->xs[k0], nn = fmax((double)nwin, 1.0);
            const double a_sd = L->noise / sqrt(nn);
            if (1.0 / wa < a_sd * a_sd) {
                /* every piece's weight scaled so that the stretch's level has a_sd */
                const double f = 1.0 / (wa * a_sd * a_sd);
                swx *= f;
                wa *= f;
                for (size_t k = k0; k < k1; k++) L_scale[k] = f;
            }
            if (span > 0 && nwin >= 2) {
                const double b_sd = L->noise * sqrt(12.0 / nn) / span;
                if (wb > 0 && 1.0 / wb < b_sd * b_sd) {
                    sb *= 1.0 / (wb * b_sd * b_sd);
                    wb = 1.0 / (b_sd * b_sd);
                }
            }
        }
        if (wa > 0) {
            seg_line_t *S = &out[n++];
            S->seg_src = ga;
            S->seg = gb;
            S->b = wb > 0 ? sb / wb : 0.0;
            S->b_sd = wb > 0 ? 1.0 / sqrt(wb) : 1e-3;
            S->xc = swx / wa;
            double sa = 0;
            for (size_t k = k0; k < k1; k++)
                sa += L_scale[k] * L->wk[k] * (L->ok[k] + S->b * (S->xc - L->xk[k]));
            S->ac = sa / wa;
            S->ac_sd = 1.0 / sqrt(wa);
        }
        k0 = k1;
    }
    return n;
}

/* is_fixed_idx says whether unknown `i` is a fixed node's theta or beta, and its value. */
static bool is_fixed_idx(const solver_t *s, size_t i, double *val) {
    if (i < s->n && s->fixed[i]) {
        *val = s->fix_theta[i];
        return true;
    }
    if (i >= s->n && i < 2 * s->n && s->fixed[i - s->n]) {
        *val = 0.0;
        return true;
    }
    return false;
}

/* add_row adds the weighted row sum(coef x[idx]) = b to the normal equations, the fixed
 * unknowns moved to the right-hand side. */
static void add_row(solver_t *s, const size_t *idx, const double *coef, size_t k, double b,
                    double w) {
    size_t fi[ROW_MAX];
    double fc[ROW_MAX], val;
    size_t kk = 0;
    for (size_t i = 0; i < k; i++) {
        if (is_fixed_idx(s, idx[i], &val)) {
            b -= coef[i] * val;
        } else {
            fi[kk] = idx[i];
            fc[kk++] = coef[i];
        }
    }
    const size_t m = s->m;
    for (size_t i = 0; i < kk; i++) {
        s->r[fi[i]] += w * fc[i] * b;
        for (size_t j = 0; j < kk; j++) s->N[fi[i] * m + fi[j]] += w * fc[i] * fc[j];
    }
}

/* solve_once builds and solves the system with the current x for the nonlinear terms; with
 * `variances`, also the sd of every unknown (the diagonal of the inverse: O(m^3)). */
static bool solve_once(solver_t *s, bool variances) {
    const size_t n = s->n, m = s->m;
    memset(s->N, 0, m * m * sizeof *s->N);
    memset(s->r, 0, m * sizeof *s->r);
    for (size_t v = 0; v < n; v++) {
        const double one = 1.0;
        size_t i = i_theta(v);
        add_row(s, &i, &one, 1, 0.0, 1.0 / (PRIOR_THETA_SD * PRIOR_THETA_SD));
        i = i_beta(s, v);
        add_row(s, &i, &one, 1, 0.0, 1.0 / (PRIOR_BETA_SD * PRIOR_BETA_SD));
    }
    for (size_t v = 0; v < n; v++)
        for (size_t j = 0; j < s->nodes[v].n_rates; j++) {
            const double one = 1.0;
            const size_t i = i_rate(s, v, j);
            add_row(s, &i, &one, 1, 0.0, 1.0 / (PRIOR_RATE_SD * PRIOR_RATE_SD));
        }
    for (size_t e = 0; e < s->ne; e++) {
        const edge_line_t *L = &s->lines[e];
        const size_t a = s->edges[e].src, b = s->edges[e].dst;
        if (!L->usable || !s->reach[a] || !s->reach[b]) continue;
        seg_line_t seg[VXS_SERIES_MAX_PIECES];
        const size_t ns = edge_segments(s, e, seg);
        for (size_t q = 0; q < ns; q++) {
            const seg_line_t *S = &seg[q];
            size_t idx[ROW_MAX];
            double coef[ROW_MAX];
            /* drift: the destination's rate in this stretch against the source's */
            idx[0] = i_beta(s, b);
            idx[1] = i_beta(s, a);
            coef[0] = 1.0;
            coef[1] = -1.0;
            size_t k = 2;
            for (size_t j = 0; j < S->seg; j++) {
                idx[k] = i_rate(s, b, j);
                coef[k++] = 1.0;
            }
            for (size_t j = 0; j < S->seg_src; j++) {
                idx[k] = i_rate(s, a, j);
                coef[k++] = -1.0;
            }
            const double bsd = fmax(S->b_sd, SLOPE_SD_FLOOR);
            add_row(s, idx, coef, k, S->b, 1.0 / (bsd * bsd));
            /* offset at the centre: t - epoch from the source's current estimate */
            const double u = (S->xc - s->x[i_theta(a)]) / (1.0 + s->x[i_beta(s, a)]);
            idx[0] = i_theta(b);
            idx[1] = i_theta(a);
            idx[2] = i_beta(s, b);
            idx[3] = i_beta(s, a);
            coef[0] = 1.0;
            coef[1] = -1.0;
            coef[2] = u;
            coef[3] = -u;
            k = 4;
            if (s->fidx[e] != SIZE_MAX) {
                idx[k] = i_floor(s, s->fidx[e]);
                coef[k++] = 1.0;
            }
            for (size_t j = 0; j < S->seg; j++) {
                idx[k] = i_rate(s, b, j);
                coef[k++] = u - s->ru[s->roff[b] + j];
            }
            for (size_t j = 0; j < S->seg_src; j++) {
                idx[k] = i_rate(s, a, j);
                coef[k++] = -(u - s->ru[s->roff[a] + j]);
            }
            const double sd = fmax(fmax(S->ac_sd, SD_FLOOR_NS), s->edges[e].resolution_ns / 2);
            add_row(s, idx, coef, k, S->ac, 1.0 / (sd * sd));
        }
    }
    for (size_t e = 0; e < s->ne; e++) {
        const size_t f = s->fidx[e];
        if (f == SIZE_MAX) continue;
        const int c = (int)s->edges[e].delay;
        const double half = s->sigma[c] * s->sigma[c] / 2;
        if (s->clamped[f]) {
            const size_t i = i_floor(s, f);
            const double one = 1.0;
            add_row(s, &i, &one, 1, 0.0, 1.0 / (CLAMP_SD_NS * CLAMP_SD_NS));
        }
        const size_t idx[2] = {i_floor(s, f), i_group(s, s->gidx[f])};
        const double coef[2] = {1.0, -1.0};
        add_row(s, idx, coef, 2, s->mu[c], 1.0 / half);
    }
    for (size_t g = 0; g < s->ng; g++) {
        /* the shared part's spread: that of the first floor of the group's class */
        double sg = 0;
        for (size_t e = 0; e < s->ne && sg == 0; e++)
            if (s->fidx[e] != SIZE_MAX && s->gidx[s->fidx[e]] == g)
                sg = s->sigma[s->edges[e].delay];
        const size_t i = i_group(s, g);
        const double one = 1.0;
        add_row(s, &i, &one, 1, 0.0, 2.0 / (sg * sg));
    }
    /* fixed unknowns: identity rows with their value */
    for (size_t i = 0; i < 2 * n; i++) {
        double val;
        if (!is_fixed_idx(s, i, &val)) continue;
        for (size_t j = 0; j < m; j++) s->N[i * m + j] = s->N[j * m + i] = 0.0;
        s->N[i * m + i] = 1.0;
        s->r[i] = val;
    }
    if (!vxsi_cholesky(s->L, s->N, m)) return false;
    memcpy(s->x, s->r, m * sizeof *s->x);
    vxsi_chol_solve(s->L, s->x, m);
    if (!variances) return true;
    /* the variances: the diagonal of N^-1, one column at a time */
    double *col = s->r; /* no longer needed */
    for (size_t i = 0; i < m; i++) {
        double val;
        if (is_fixed_idx(s, i, &val)) {
            s->sd[i] = 0.0;
            continue;
        }
        memset(col, 0, m * sizeof *col);
        col[i] = 1.0;
        vxsi_chol_solve(s->L, col, m);
        s->sd[i] = col[i] > 0 ? sqrt(col[i]) : 0.0;
    }
    return true;
}

/* solve_pass repeats solve_once with the previous thetas for the nonlinear terms (starting from
 * the last solution: the terms only need the source's offset to within seconds). */
static bool solve_pass(solver_t *s) {
    for (int it = 0; it < ITERATIONS; it++)
        if (!solve_once(s, it == ITERATIONS - 1)) return false;
    return true;
}

/* set_priors takes each V2X class's floor prior from the floors the data measure (both ends
 * pinned), else the defaults. Wire floors are never measured (the clocks they pin are pinned by
 * them): always the default. */
static void set_priors(solver_t *s, bool from_data) {
    static const double mean[VXS_DELAY_CLASSES] = {
        VXS_CLOCK_WIRE_PRIOR_MEAN_NS, VXS_CLOCK_TX_PRIOR_MEAN_NS, VXS_CLOCK_AIR_PRIOR_MEAN_NS};
    static const double sdv[VXS_DELAY_CLASSES] = {
        VXS_CLOCK_WIRE_PRIOR_SD_NS, VXS_CLOCK_TX_PRIOR_SD_NS, VXS_CLOCK_AIR_PRIOR_SD_NS};
    static const double sdmin[VXS_DELAY_CLASSES] = {VXS_CLOCK_WIRE_PRIOR_SD_NS,
                                                    VXS_CLOCK_TX_SD_MIN_NS,
                                                    VXS_CLOCK_AIR_SD_MIN_NS};
    for (int c = 0; c < VXS_DELAY_CLASSES; c++) {
        s->mu[c] = mean[c];
        s->sigma[c] = sdv[c];
        s->measured[c] = 0;
        if (!from_data || c == VXS_DELAY_WIRE) continue;
        double sum = 0, sum2 = 0;
        uint32_t k = 0;
        for (size_t e = 0; e < s->ne; e++) {
            const size_t f = s->fidx[e];
            if (f == SIZE_MAX || (int)s->edges[e].delay != c || !s->lines[e].usable) continue;
            if (!s->pinned[s->edges[e].src] || !s->pinned[s->edges[e].dst]) continue;
            const double v = fmax(s->x[i_floor(s, f)], 0.0);
            sum += v;
            sum2 += v * v;
            k++;
        }
        s->measured[c] = k;
        if (k == 0) continue;
        s->mu[c] = sum / k;
        if (k >= 2) {
            const double var = (sum2 - sum * sum / k) / (k - 1);
            /* a spread estimated from few links is itself uncertain: widened by 1 + 1/sqrt(k) */
            const double sd = sqrt(fmax(var, 0.0)) * (1.0 + 1.0 / sqrt((double)k));
            s->sigma[c] = fmax(sd, sdmin[c]);
        }
    }
}

/* solve_all: a pass with the default priors, the priors from the measured floors, a pass with
 * them, and, with `clamp`, floors below 0 held at 0 until none is. The checks of the hints do
 * not clamp: a wrong anchor makes some floor negative, and holding it at 0 would hand its error
 * to the clocks around it, which would then look wrong in its place. */
static bool solve_all(solver_t *s, bool clamp) {
    find_reach(s);
    memset(s->clamped, 0, (s->nf ? s->nf : 1) * sizeof *s->clamped);
    set_priors(s, false);
    if (!solve_pass(s)) return false;
    set_priors(s, true);
    if (!solve_pass(s)) return false;
    /* Holding a floor at 0 moves the estimates, but does not make them more certain than they
     * were: the bound is an inequality (the truth may be anywhere above it), not a measurement.
     * So the uncertainties are those of the free solve where larger. */
    bool any_clamped = false;
    for (size_t round = 0; clamp && round <= s->nf; round++) {
        bool any = false;
        for (size_t f = 0; f < s->nf; f++)
            if (!s->clamped[f] && s->x[i_floor(s, f)] < 0) {
                s->clamped[f] = true;
                any = true;
            }
        if (!any) break;
        if (!any_clamped) memcpy(s->sd_free, s->sd, s->m * sizeof *s->sd);
        any_clamped = true;
        if (!solve_pass(s)) return false;
    }
    if (any_clamped)
        for (size_t i = 0; i < s->m; i++) s->sd[i] = fmax(s->sd[i], s->sd_free[i]);
    return true;
}

/* limiting_edge returns, for a node tied only through floors it cannot measure, the V2X
 * relation of its NONE-connected group whose floor is the least uncertain (the one that limits
 * it least badly: the best it can do); SIZE_MAX when there is none. */
static size_t limiting_edge(const solver_t *s, size_t v, bool *group) {
    memset(group, 0, s->n * sizeof *group);
    group[v] = true;
    for (bool grew = true; grew;) {
        grew = false;
        for (size_t e = 0; e < s->ne; e++) {
            if (!s->lines[e].usable || s->edges[e].delay != VXS_DELAY_WIRE) continue;
            const size_t a = s->edges[e].src, b = s->edges[e].dst;
            if (group[a] != group[b]) {
                group[a] = group[b] = true;
                grew = true;
            }
        }
    }
    size_t best = SIZE_MAX;
    double best_sd = INFINITY;
    for (size_t e = 0; e < s->ne; e++) {
        const size_t f = s->fidx[e];
        if (f == SIZE_MAX || !s->lines[e].usable || s->edges[e].delay == VXS_DELAY_WIRE)
            continue;
        if (!group[s->edges[e].src] && !group[s->edges[e].dst]) continue;
        const double sd = s->sd[i_floor(s, f)];
        if (sd < best_sd) {
            best_sd = sd;
            best = e;
        }
    }
    return best;
}

vxs_status_t vxs_clock_solve(const vxs_clock_node_t *nodes, size_t n_nodes,
                             const vxs_clock_edge_t *edges, size_t n_edges, vxs_time_t epoch,
                             size_t fallback_ref, vxs_clock_result_t *out,
                             vxs_clock_edge_result_t *edge_out, vxs_clock_solution_t *sol) {
    if (!nodes || !out || !sol || n_nodes == 0 || (n_edges && !edges)) return VXS_E_ARG;
    for (size_t e = 0; e < n_edges; e++)
        if (edges[e].src >= n_nodes || edges[e].dst >= n_nodes || edges[e].src == edges[e].dst ||
            (unsigned)edges[e].delay >= VXS_DELAY_CLASSES)
            return VXS_E_ARG;
    for (size_t v = 0; v < n_nodes; v++) {
        if (nodes[v].n_rates > VXS_RATE_CHANGES_MAX) return VXS_E_ARG;
        for (size_t j = 1; j < nodes[v].n_rates; j++)
            if (nodes[v].rate_at[j] <= nodes[v].rate_at[j - 1]) return VXS_E_ARG;
    }
    const size_t n = n_nodes;
    solver_t s;
    memset(&s, 0, sizeof s);
    s.nodes = nodes;
    s.n = n;
    s.edges = edges;
    s.ne = n_edges;
    s.epoch = epoch;
    const size_t ne1 = n_edges ? n_edges : 1;
    s.lines = vxs_calloc(ne1, sizeof *s.lines);
    s.roff = vxs_calloc(n, sizeof *s.roff);
    s.jumps = vxs_calloc(n, sizeof *s.jumps);
    s.fixed = vxs_calloc(n, sizeof *s.fixed);
    s.reach = vxs_calloc(n, sizeof *s.reach);
    s.pinned = vxs_calloc(n, sizeof *s.pinned);
    s.fix_theta = vxs_calloc(n, sizeof *s.fix_theta);
    s.fidx = vxs_calloc(ne1, sizeof *s.fidx);
    s.gidx = vxs_calloc(ne1, sizeof *s.gidx);
    s.clamped = vxs_calloc(ne1, sizeof *s.clamped);
    bool *rejected = vxs_calloc(n, sizeof *rejected);
    bool *group = vxs_calloc(n, sizeof *group);
    double *resid = vxs_calloc(2 * n, sizeof *resid), *resid_sd = resid ? resid + n : NULL;
    size_t *gkey = vxs_calloc(2 * ne1, sizeof *gkey); /* (dst, class) of each group */
    vxs_status_t st = VXS_OK;
    if (!s.lines || !s.roff || !s.jumps || !s.fixed || !s.reach || !s.pinned || !s.fix_theta || !s.fidx ||
        !s.gidx || !s.clamped || !rejected || !group || !resid || !gkey) {
        st = VXS_E_NOMEM;
        goto done;
    }
    memset(sol, 0, sizeof *sol);
    sol->reference_node = SIZE_MAX;
    if (!collect_jumps(&s)) {
        st = VXS_E_NOMEM;
        goto done;
    }

    /* the floors' unknowns: one per usable relation, grouped by (receiver, class) */
    for (size_t e = 0; e < n_edges; e++) {
        s.fidx[e] = SIZE_MAX;
        if (!s.lines[e].usable) continue;
        size_t g = 0;
        while (g < s.ng && !(gkey[2 * g] == edges[e].dst && gkey[2 * g + 1] == edges[e].delay))
            g++;
        if (g == s.ng) {
            gkey[2 * g] = edges[e].dst;
            gkey[2 * g + 1] = edges[e].delay;
            s.ng++;
        }
        s.gidx[s.nf] = g;
        s.fidx[e] = s.nf++;
    }
    for (size_t v = 0; v < n; v++) {
        s.roff[v] = s.nr;
        s.nr += nodes[v].n_rates;
    }
    s.ru = vxs_calloc(s.nr ? s.nr : 1, sizeof *s.ru);
    if (!s.ru) {
        st = VXS_E_NOMEM;
        goto done;
    }
    for (size_t v = 0; v < n; v++)
        for (size_t j = 0; j < nodes[v].n_rates; j++)
            s.ru[s.roff[v] + j] = (double)(nodes[v].rate_at[j] - epoch);
    s.m = 2 * n + s.nf + s.ng + s.nr;
    s.x = vxs_calloc(3 * s.m, sizeof *s.x);
    s.N = vxs_calloc(s.m * s.m, sizeof *s.N);
    s.L = vxs_calloc(s.m * s.m, sizeof *s.L);
    s.r = vxs_calloc(s.m, sizeof *s.r);
    if (!s.x || !s.N || !s.L || !s.r) {
        st = VXS_E_NOMEM;
        goto done;
    }
    s.sd = s.x + s.m;
    s.sd_free = s.x + 2 * s.m;

    bool any_fixed = false;
    for (size_t v = 0; v < n; v++) {
        s.fixed[v] = nodes[v].anchored || nodes[v].has_offset;
        /* hint: reference = local + offset  =>  local - ref = -offset */
        s.fix_theta[v] = nodes[v].has_offset ? -(double)nodes[v].offset_ns : 0.0;
        any_fixed |= s.fixed[v];
    }
    if (!any_fixed) {
        if (fallback_ref >= n) {
            st = VXS_E_ARG;
            goto done;
        }
        s.fixed[fallback_ref] = true;
        sol->reference_node = fallback_ref;
    }

    /* Check every hint against the other paths: free it, solve, compare. Reject the worst
     * disagreement beyond the threshold and start over, until none is left. */
    for (;;) {
        double worst = 0;
        size_t worst_v = SIZE_MAX;
        for (size_t v = 0; v < n; v++) {
            resid[v] = 0;
            resid_sd[v] = -1;
            if (!s.fixed[v] || v == sol->reference_node) continue;
            bool has_edge = false;
            for (size_t e = 0; e < s.ne && !has_edge; e++)
                has_edge = s.lines[e].usable && (edges[e].src == v || edges[e].dst == v);
            if (!has_edge) continue;
            s.fixed[v] = false;
            find_reach(&s);
            const bool checkable = s.reach[v];
            if (checkable && solve_all(&s, false)) {
                resid[v] = s.x[i_theta(v)] - s.fix_theta[v];
                resid_sd[v] = s.sd[i_theta(v)];
                const double lim = fmax(REJECT_MIN_NS, REJECT_SIGMAS * s.sd[i_theta(v)]);
                if (fabs(resid[v]) > lim && fabs(resid[v]) / lim > worst) {
                    worst = fabs(resid[v]) / lim;
                    worst_v = v;
                }
            }
            s.fixed[v] = true;
        }
        if (worst_v == SIZE_MAX) break;
        s.fixed[worst_v] = false;
        rejected[worst_v] = true;
        sol->hints_rejected++;
        bool left = false;
        for (size_t v = 0; v < n; v++) left |= s.fixed[v];
        if (!left) {
            s.fixed[fallback_ref < n ? fallback_ref : 0] = true;
            sol->reference_node = fallback_ref < n ? fallback_ref : 0;
        }
    }
    if (!solve_all(&s, true)) {
        st = VXS_E_STATE;
        goto done;
    }

    for (int c = 0; c < VXS_DELAY_CLASSES; c++) {
        sol->delay_ns[c] = s.mu[c];
        sol->delay_sd_ns[c] = s.sigma[c];
        sol->floors_measured[c] = s.measured[c];
    }
    for (size_t e = 0; e < s.ne; e++) {
        if (s.lines[e].usable && s.reach[edges[e].src]) sol->delay_used[edges[e].delay] = true;
        if (!edge_out) continue;
        vxs_clock_edge_result_t *er = &edge_out[e];
        memset(er, 0, sizeof *er);
        const size_t f = s.fidx[e];
        if (f == SIZE_MAX) {
            er->measured = s.lines[e].usable;
            continue;
        }
        er->floor_ns = s.clamped[f] ? 0.0 : s.x[i_floor(&s, f)];
        er->floor_sd_ns = s.sd[i_floor(&s, f)];
        er->measured = edges[e].delay != VXS_DELAY_WIRE && s.pinned[edges[e].src] &&
                       s.pinned[edges[e].dst];
        er->clamped = s.clamped[f];
    }

    for (size_t v = 0; v < n; v++) {
        vxs_clock_result_t *r = &out[v];
        memset(r, 0, sizeof *r);
        vxs_clock_model_identity(&r->model, epoch);
        r->limited_by = SIZE_MAX;
        for (size_t e = 0; e < s.ne; e++)
            if (s.lines[e].usable && (edges[e].src == v || edges[e].dst == v)) {
                r->edges++;
                r->samples += s.lines[e].samples;
            }
        r->hint_checked = resid_sd[v] >= 0 || rejected[v];
        r->hint_rejected = rejected[v];
        r->hint_residual_ns = resid[v];
        if (!s.reach[v]) {
            r->method = VXS_CLOCK_M_UNKNOWN;
            r->ident = VXS_IDENT_UNKNOWN;
            continue;
        }
        r->method = v == sol->reference_node ? VXS_CLOCK_M_REFERENCE
                    : s.fixed[v]             ? (nodes[v].has_offset ? VXS_CLOCK_M_HINT
                                                                    : VXS_CLOCK_M_ANCHOR)
                                             : VXS_CLOCK_M_ESTIMATED;
        r->ident = v == sol->reference_node ? VXS_IDENT_REFERENCE
                   : s.fixed[v]             ? (nodes[v].has_offset ? VXS_IDENT_HINT
                                                                   : VXS_IDENT_ANCHOR)
                   : s.pinned[v]            ? VXS_IDENT_PINNED
                                            : VXS_IDENT_FLOOR_PRIOR;
        if (r->ident == VXS_IDENT_FLOOR_PRIOR) r->limited_by = limiting_edge(&s, v, group);
        r->model.drift = s.x[i_beta(&s, v)];
        r->model.pieces[0].offset_ns = s.x[i_theta(v)];
        r->offset_sd_ns = s.sd[i_theta(v)];
        r->drift_sd = s.sd[i_beta(&s, v)];
        const node_jumps_t *nj = &s.jumps[v];
        const size_t nr = nodes[v].n_rates;
        if (!s.fixed[v] || nr) {
            /* the jumps and the changes of rate in the order they happened: a jump when the
             * clock, still on the piece before, reads its local_pre; a change of rate at its
             * reference time, the reading going on continuously */
            vxs_clock_model_t *md = &r->model;
            size_t ij = s.fixed[v] ? nj->n : 0, ir = 0;
            while ((ij < nj->n || ir < nr) && md->n_pieces < VXS_CLOCK_MAX_PIECES) {
                const size_t k = md->n_pieces;
                const vxs_clock_piece_t *prev = &md->pieces[k - 1];
                const vxs_time_t jat =
                    ij < nj->n ? vxs_clock_piece_to_reference(
                                     md, k - 1, (vxs_time_t)llround(nj->j[ij].local_pre))
                               : INT64_MAX;
                const vxs_time_t rat =
                    ir < nr ? nodes[v].rate_at[ir] : INT64_MAX;
                vxs_clock_piece_t *pc = &md->pieces[k];
                if (jat <= rat) {
                    pc->from_ref = jat;
                    pc->offset_ns = prev->offset_ns + nj->j[ij].size_ns;
                    pc->drift_delta = prev->drift_delta;
                    pc->from_span_ns = (int64_t)llround(nj->j[ij].gap_ns);
                    ij++;
                    r->jumps++;
                } else {
                    const double dr = s.x[i_rate(&s, v, ir)];
                    pc->from_ref = rat;
                    pc->offset_ns = prev->offset_ns - dr * (double)(rat - epoch);
                    pc->drift_delta = prev->drift_delta + dr;
                    pc->from_span_ns = 0;
                    ir++;
                    r->rate_changes++;
                }
                md->n_pieces++;
            }
        }
    }
done:
    vxs_free(s.lines);
    vxs_free(s.roff);
    vxs_free(s.ru);
    vxs_free(s.jumps);
    vxs_free(s.fixed);
    vxs_free(s.reach);
    vxs_free(s.pinned);
    vxs_free(s.fix_theta);
    vxs_free(s.fidx);
    vxs_free(s.gidx);
    vxs_free(s.clamped);
    vxs_free(s.x);
    vxs_free(s.N);
    vxs_free(s.L);
    vxs_free(s.r);
    vxs_free(rejected);
    vxs_free(group);
    vxs_free(resid);
    vxs_free(gkey);
    return st;
}
