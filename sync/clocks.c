/*
 * clocks.c: the solver that estimates every clock domain of a scenario from the fitted envelopes
 * of the relations between them (vxs_sync.h section 4; ../shared/specs/sync-and-clocks.md
 * section 3). The clock models it produces, and the functions applying them, are core's
 * (vxs_frame.h section 1: every module maps times with them).
 *
 * The solver in brief. Node i has local = ref + theta_i + beta_i (ref - epoch) (+ its jumps).
 * An edge src -> dst is the envelope of y = local_dst - local_src sampled at x = local_src; its
 * line a + b (x - epoch) says, once x is written in reference time (x = ref + theta_src + ...):
 *
 *     theta_dst - theta_src + delay(class) = a + b * theta_src       beta_dst - beta_src = b
 *
 * Anchored nodes (and nodes with a known offset) are fixed; the other thetas, and the minimum
 * delays of the TX_LOG and AIR classes, are the weighted least-squares solution of all edges
 * (weights 1 / sd^2 from the fits, with a floor), with weak priors: TX_LOG ~ 0 +- 1 ms,
 * AIR ~ 0 +- 20 ms, every theta ~ 0 +- 1000 s (only to keep the system regular; a node no edge
 * ties to a fixed one is reported unknown instead), every drift ~ 0 +- 200 ppm (what any clock
 * crystal holds: a few seconds of noisy data cannot claim more). The b * theta_src term needs theta_src: the
 * solve runs twice, the second time with the first one's thetas.
 */
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "vxs_sync.h"

#define SD_FLOOR_NS 20000.0   /* no relation is trusted to better than 20 µs */
#define SLOPE_SD_FLOOR 1e-9   /* ... or 0.001 ppm */
#define PRIOR_THETA_SD 1e12   /* ns: 1000 s */
#define PRIOR_BETA_SD 2e-4    /* 200 ppm: any crystal; data of a few minutes outweighs it */
#define PRIOR_TX_SD 1e6       /* ns */
#define PRIOR_AIR_SD 2e7
#define REJECT_MIN_NS 2e6     /* a hint is rejected when the data disagree by more than this */
#define REJECT_SIGMAS 5.0
#define JUMP_MATCH_NS 2e6     /* jumps seen by two relations of one clock are the same when
                                 their sizes agree within this (or 5 %) ... */
#define JUMP_NEAR_NS 2000000000LL /* ... and their positions within 2 s + the jump */

/* ==== the solver ============================================================================ */

/* A jump of a node: where (its reading just before), how much, how well seen (samples). */
typedef struct {
    double local_pre; /* the middle of the gap between the last sample before and the first
                         after, as the clock would have read it without the jump */
    double size_ns;
    double gap_ns;    /* that gap: how well the instant is known */
} jump_t;

typedef struct {
    jump_t j[VXS_SERIES_MAX_PIECES - 1];
    size_t n;
} node_jumps_t;

/* An edge reduced to one line at the epoch, jumps of its destination taken out. */
typedef struct {
    double a, b;       /* offset at epoch (jump-free, level of the destination's first piece) */
    double a_sd, b_sd;
    uint64_t samples;
    bool usable;
} edge_line_t;

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
    double *theta, *beta, *theta_sd, *beta_sd;
    double delay[VXS_DELAY_CLASSES], delay_sd[VXS_DELAY_CLASSES];
    bool delay_used[VXS_DELAY_CLASSES];
    double *mat; /* scratch: (n + 2)^2 */
    double *rhs, *col;
} solver_t;

static double line_at(const vxs_series_piece_t *p, vxs_time_t x0, double x) {
    return p->offset_ns + p->slope * (x - (double)x0);
}

/* collect_jumps gives every jump an edge's fit found to the edge's destination, merging the ones
 * several edges saw; then reduces each edge to one jump-free line. */
static void collect_jumps(solver_t *s) {
    for (size_t e = 0; e < s->ne; e++) {
        const vxs_series_fit_t *f = s->edges[e].fit;
        if (!f) continue;
        node_jumps_t *nj = &s->jumps[s->edges[e].dst];
        for (size_t k = 1; k < f->n_pieces; k++) {
            const double x = (double)f->pieces[k].x_start;
            const double xe = (double)f->pieces[k - 1].x_end;
            const double xm = xe + (x - xe) / 2;
            const double size = line_at(&f->pieces[k], f->x0, x) - line_at(&f->pieces[k - 1], f->x0, x);
            const jump_t c = {xm + line_at(&f->pieces[k - 1], f->x0, xm), size, x - xe};
            size_t i = 0;
            for (; i < nj->n; i++) {
                const double tol = fmax(JUMP_MATCH_NS, 0.05 * fabs(size));
                if (fabs(nj->j[i].size_ns - size) <= tol &&
                    fabs(nj->j[i].local_pre - c.local_pre) <= JUMP_NEAR_NS + fabs(size))
                    break;
            }
            if (i < nj->n) {
                if (c.gap_ns < nj->j[i].gap_ns) nj->j[i] = c; /* the tighter bracket */
            } else if (nj->n < VXS_SERIES_MAX_PIECES - 1) {
                nj->j[nj->n++] = c;
            }
        }
    }
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
        double wa = 0, sa = 0, wb = 0, sb = 0;
        for (size_t k = 0; k < f->n_pieces; k++) {
            const vxs_series_piece_t *p = &f->pieces[k];
            /* the destination's jumps before this piece: those whose reading precedes the
             * piece's first reading (a backward jump's piece begins below its "pre" reading,
             * so compare with the reading the piece would have had without the jump) */
            const double x = (double)p->x_start;
            double cum = 0;
            if (k > 0) {
                const double here = x + line_at(p, f->x0, x);
                for (size_t i = 0; i < nj->n; i++) {
                    const double before = here - cum - nj->j[i].size_ns;
                    if (nj->j[i].local_pre <= before + 1e6) cum += nj->j[i].size_ns;
                }
            }
            const double sd = fmax(p->offset_sd_ns, SD_FLOOR_NS);
            const double w = 1.0 / (sd * sd) * (p->windows >= 2 ? 1.0 : 0.01);
            wa += w;
            sa += w * (p->offset_ns - cum);
            const double bsd = fmax(p->slope_sd, SLOPE_SD_FLOOR);
            if (p->windows >= 2) {
                wb += 1.0 / (bsd * bsd);
                sb += p->slope / (bsd * bsd);
            }
            L->samples += p->samples;
        }
        if (wa <= 0) continue;
        L->a = sa / wa;
        L->a_sd = 1.0 / sqrt(wa);
        L->b = wb > 0 ? sb / wb : 0.0;
        L->b_sd = wb > 0 ? 1.0 / sqrt(wb) : 1e-3;
        L->usable = true;
    }
}

/* reachability from the fixed nodes over usable edges */
static void find_reach(solver_t *s) {
    for (size_t v = 0; v < s->n; v++) s->reach[v] = s->fixed[v];
    for (bool grew = true; grew;) {
        grew = false;
        for (size_t e = 0; e < s->ne; e++) {
            if (!s->lines[e].usable) continue;
            const size_t a = s->edges[e].src, b = s->edges[e].dst;
            if (s->reach[a] != s->reach[b]) {
                s->reach[a] = s->reach[b] = true;
                grew = true;
            }
        }
    }
}

/* solve_dense solves the symmetric positive definite m x m system A x = r in place (Gaussian
 * elimination with partial pivoting; A and r are destroyed, x returned in r). */
static bool solve_dense(double *A, double *r, size_t m) {
    for (size_t c = 0; c < m; c++) {
        size_t piv = c;
        for (size_t i = c + 1; i < m; i++)
            if (fabs(A[i * m + c]) > fabs(A[piv * m + c])) piv = i;
        if (A[piv * m + c] == 0.0) return false;
        if (piv != c) {
            for (size_t k = 0; k < m; k++) {
                const double t = A[c * m + k];
                A[c * m + k] = A[piv * m + k];
                A[piv * m + k] = t;
            }
            const double t = r[c];
            r[c] = r[piv];
            r[piv] = t;
        }
        for (size_t i = c + 1; i < m; i++) {
            const double f = A[i * m + c] / A[c * m + c];
            if (f == 0.0) continue;
            for (size_t k = c; k < m; k++) A[i * m + k] -= f * A[c * m + k];
            r[i] -= f * r[c];
        }
    }
    for (size_t c = m; c-- > 0;) {
        double v = r[c];
        for (size_t k = c + 1; k < m; k++) v -= A[c * m + k] * r[k];
        r[c] = v / A[c * m + c];
    }
    return true;
}

/* One weighted least-squares system over the free nodes (and, for offsets, the two delay
 * classes). Unknown index: node v -> v; TX_LOG -> n; AIR -> n + 1. */
typedef struct {
    double *N; /* normal matrix (m x m) */
    double *r;
    size_t m;
} normal_t;

static void add_row(normal_t *q, const size_t *idx, const double *coef, size_t k, double b,
                    double w) {
    for (size_t i = 0; i < k; i++) {
        q->r[idx[i]] += w * coef[i] * b;
        for (size_t j = 0; j < k; j++) q->N[idx[i] * q->m + idx[j]] += w * coef[i] * coef[j];
    }
}

/* solve_pass solves drift (offsets = false) or offsets (true) and writes s->beta / s->theta and
 * their sd. */
static bool solve_pass(solver_t *s, bool offsets) {
    const size_t n = s->n, m = offsets ? n + 2 : n;
    normal_t q = {s->mat, s->rhs, m};
    memset(q.N, 0, m * m * sizeof *q.N);
    memset(q.r, 0, m * sizeof *q.r);
    for (size_t v = 0; v < n; v++) {
        const size_t i = v;
        const double one = 1.0;
        if (s->fixed[v]) {
            add_row(&q, &i, &one, 1, offsets ? s->fix_theta[v] : 0.0, 1.0); /* exact below */
        } else {
            const double sd = offsets ? PRIOR_THETA_SD : PRIOR_BETA_SD;
            add_row(&q, &i, &one, 1, 0.0, 1.0 / (sd * sd));
        }
    }
    if (offsets) {
        const size_t itx = n, iair = n + 1;
        const double one = 1.0;
        add_row(&q, &itx, &one, 1, 0.0, 1.0 / (PRIOR_TX_SD * PRIOR_TX_SD));
        add_row(&q, &iair, &one, 1, 0.0, 1.0 / (PRIOR_AIR_SD * PRIOR_AIR_SD));
    }
    for (size_t e = 0; e < s->ne; e++) {
        const edge_line_t *L = &s->lines[e];
        const size_t a = s->edges[e].src, b = s->edges[e].dst;
        if (!L->usable || !s->reach[a] || !s->reach[b]) continue;
        size_t idx[3] = {b, a, 0};
        double coef[3] = {1.0, -1.0, 1.0};
        size_t k = 2;
        double val, sd;
        if (offsets) {
            val = L->a + L->b * s->theta[a];
            sd = fmax(fmax(L->a_sd, SD_FLOOR_NS), s->edges[e].resolution_ns / 2);
            if (s->edges[e].delay == VXS_DELAY_TX_LOG) idx[k++] = n;
            if (s->edges[e].delay == VXS_DELAY_AIR) idx[k++] = n + 1;
        } else {
            val = L->b;
            sd = fmax(L->b_sd, SLOPE_SD_FLOOR);
        }
        /* fixed nodes move to the right-hand side */
        size_t ki = 0;
        size_t fidx[3];
        double fcoef[3];
        for (size_t i = 0; i < k; i++) {
            if (idx[i] < n && s->fixed[idx[i]]) {
                val -= coef[i] * (offsets ? s->fix_theta[idx[i]] : 0.0);
            } else {
                fidx[ki] = idx[i];
                fcoef[ki++] = coef[i];
            }
        }
        if (ki) add_row(&q, fidx, fcoef, ki, val, 1.0 / (sd * sd));
    }
    /* fixed nodes: their rows carry only the unit weight added above, and no edge term, so the
     * solution gives them exactly their value */
    for (size_t v = 0; v < n; v++)
        if (s->fixed[v]) {
            for (size_t j = 0; j < m; j++) q.N[v * m + j] = q.N[j * m + v] = 0.0;
            q.N[v * m + v] = 1.0;
            q.r[v] = offsets ? s->fix_theta[v] : 0.0;
        }
    /* keep the matrix for the variances: solve for each unit vector too */
    double *A = s->col; /* (m*m) copy + r */
    memcpy(A, q.N, m * m * sizeof *A);
    double *x = A + m * m;
    memcpy(x, q.r, m * sizeof *x);
    if (!solve_dense(A, x, m)) return false;
    double *out = offsets ? s->theta : s->beta;
    double *out_sd = offsets ? s->theta_sd : s->beta_sd;
    for (size_t v = 0; v < n; v++) out[v] = x[v];
    if (offsets)
        for (int c = 1; c < VXS_DELAY_CLASSES; c++) s->delay[c] = x[n + (size_t)c - 1];
    for (size_t i = 0; i < m; i++) {
        double *e = x;
        memcpy(A, q.N, m * m * sizeof *A);
        memset(e, 0, m * sizeof *e);
        e[i] = 1.0;
        if (!solve_dense(A, e, m)) return false;
        const double var = e[i] > 0 ? sqrt(e[i]) : 0.0;
        const bool fixed = i < n && s->fixed[i];
        if (i < n) out_sd[i] = fixed ? 0.0 : var;
        else s->delay_sd[i - n + 1] = var;
    }
    return true;
}

static bool solve_all(solver_t *s) {
    find_reach(s);
    if (!solve_pass(s, false)) return false;
    for (size_t v = 0; v < s->n; v++) s->theta[v] = 0.0;
    for (int it = 0; it < 2; it++)
        if (!solve_pass(s, true)) return false;
    return true;
}

vxs_status_t vxs_clock_solve(const vxs_clock_node_t *nodes, size_t n_nodes,
                             const vxs_clock_edge_t *edges, size_t n_edges, vxs_time_t epoch,
                             size_t fallback_ref, vxs_clock_result_t *out,
                             vxs_clock_solution_t *sol) {
    if (!nodes || !out || !sol || n_nodes == 0 || (n_edges && !edges)) return VXS_E_ARG;
    for (size_t e = 0; e < n_edges; e++)
        if (edges[e].src >= n_nodes || edges[e].dst >= n_nodes || edges[e].src == edges[e].dst ||
            (unsigned)edges[e].delay >= VXS_DELAY_CLASSES)
            return VXS_E_ARG;
    const size_t n = n_nodes, m = n + 2;
    solver_t s;
    memset(&s, 0, sizeof s);
    s.nodes = nodes;
    s.n = n;
    s.edges = edges;
    s.ne = n_edges;
    s.epoch = epoch;
    s.lines = vxs_calloc(n_edges ? n_edges : 1, sizeof *s.lines);
    s.jumps = vxs_calloc(n, sizeof *s.jumps);
    s.fixed = vxs_calloc(n, sizeof *s.fixed);
    s.reach = vxs_calloc(n, sizeof *s.reach);
    s.fix_theta = vxs_calloc(n, sizeof *s.fix_theta);
    s.theta = vxs_calloc(6 * n, sizeof *s.theta);
    s.mat = vxs_calloc(m * m, sizeof *s.mat);
    s.rhs = vxs_calloc(m, sizeof *s.rhs);
    s.col = vxs_calloc(m * m + m, sizeof *s.col);
    bool *rejected = vxs_calloc(n, sizeof *rejected);
    vxs_status_t st = VXS_OK;
    if (!s.lines || !s.jumps || !s.fixed || !s.reach || !s.fix_theta || !s.theta || !s.mat ||
        !s.rhs || !s.col || !rejected) {
        st = VXS_E_NOMEM;
        goto done;
    }
    s.beta = s.theta + n;
    s.theta_sd = s.theta + 2 * n;
    s.beta_sd = s.theta + 3 * n;
    double *resid = s.theta + 4 * n, *resid_sd = s.theta + 5 * n;
    memset(sol, 0, sizeof *sol);
    sol->reference_node = SIZE_MAX;
    collect_jumps(&s);

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
            if (checkable && solve_all(&s)) {
                resid[v] = s.theta[v] - s.fix_theta[v];
                resid_sd[v] = s.theta_sd[v];
                const double lim = fmax(REJECT_MIN_NS, REJECT_SIGMAS * s.theta_sd[v]);
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
    if (!solve_all(&s)) {
        st = VXS_E_STATE;
        goto done;
    }

    for (int c = 0; c < VXS_DELAY_CLASSES; c++) {
        sol->delay_ns[c] = c ? s.delay[c] : 0.0;
        sol->delay_sd_ns[c] = c ? s.delay_sd[c] : 0.0;
    }
    for (size_t e = 0; e < s.ne; e++)
        if (s.lines[e].usable && s.reach[edges[e].src]) sol->delay_used[edges[e].delay] = true;

    for (size_t v = 0; v < n; v++) {
        vxs_clock_result_t *r = &out[v];
        memset(r, 0, sizeof *r);
        vxs_clock_model_identity(&r->model, epoch);
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
            continue;
        }
        r->method = v == sol->reference_node ? VXS_CLOCK_M_REFERENCE
                    : s.fixed[v]             ? (nodes[v].has_offset ? VXS_CLOCK_M_HINT
                                                                    : VXS_CLOCK_M_ANCHOR)
                                             : VXS_CLOCK_M_ESTIMATED;
        r->model.drift = s.beta[v];
        r->model.pieces[0].offset_ns = s.theta[v];
        r->offset_sd_ns = s.theta_sd[v];
        r->drift_sd = s.beta_sd[v];
        const node_jumps_t *nj = &s.jumps[v];
        if (!s.fixed[v]) {
            double cum = s.theta[v];
            for (size_t i = 0; i < nj->n; i++) {
                vxs_clock_model_t *md = &r->model;
                const size_t k = md->n_pieces;
                /* the jump happens when the clock, still on piece k-1, reads local_pre */
                const vxs_time_t at = vxs_clock_piece_to_reference(md, k - 1, (vxs_time_t)llround(nj->j[i].local_pre));
                cum += nj->j[i].size_ns;
                md->pieces[k].from_ref = at;
                md->pieces[k].offset_ns = cum;
                md->n_pieces++;
            }
            r->jumps = (uint32_t)nj->n;
        }
    }
done:
    vxs_free(s.lines);
    vxs_free(s.jumps);
    vxs_free(s.fixed);
    vxs_free(s.reach);
    vxs_free(s.fix_theta);
    vxs_free(s.theta);
    vxs_free(s.mat);
    vxs_free(s.rhs);
    vxs_free(s.col);
    vxs_free(rejected);
    return st;
}
