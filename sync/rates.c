/*
 * rates.c: where a clock changes its rate (vxs_sync.h section 4,
 * vxs_rate_changes).
 *
 * NTP does not only step a clock: it slews it (runs it up to 500 ppm fast or
 * slow for seconds to work an offset off) and corrects its frequency now and
 * then. The clock's reading then bends: its offset against the reference is a
 * continuous broken line. Every relation into the clock shows the bend on its
 * envelope, so the relations are searched together.
 *
 * The points are the windows' lowest samples of every relation into the clock,
 * less the relation's own line (r, ns), at reference times t (s). The model is
 *
 *     r_i = a_gp + b_g t_i + sum_k c_k (t_i - tau_k)+       (g: the relation of
 * point i, p: its piece)
 *
 * A step of either clock moves a relation's reading, not its rate: each piece
 * between steps gets a level of its own and the pieces of a relation share its
 * slope, so a bend just before a step is seen on both sides of it (with one
 * level per relation, the re-levelled piece after the step pulled the bend
 * seconds late).
 *
 * fitted by weighted least squares (each relation weighted by its noise,
 * estimated from the differences of neighbouring points, which a slow bend does
 * not move). Changes are added one at a time (binary segmentation), each where
 * it lowers the weighted residual sum most, then each is moved again with the
 * others in place. A change is kept when it lowers the sum by at least min_gain
 * (the square of its t-statistic) and moves the reading by at least
 * min_effect_ns by the end of the drive: a bend too small to matter is not a
 * change of rate.
 *
 * For a candidate tau the new column's products with the others are sums over
 * the points after tau of w, w t, w t^2, w r, w t r (per piece for the a_gp
 * columns, per relation for the b_g ones), so one pass from the last point to
 * the first prices every candidate in O(pieces + relations + changes) plus a
 * solve with the factor of the system without it (Schur complement): the whole
 * search is O(n (p + g + k)^2).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "linalg.h"
#include "vxs_sync.h"

#define MAD_TO_SD 1.4826
#define NOISE_MIN_NS 1000.0 /* no relation's windows are trusted to better than 1 µs */
#define OUTLIER_K 8.0       /* a point this many sigmas from its neighbours' median is left out */
#define NEIGHBOURS 4        /* on each side, for that median */
#define MIN_SIDE 5          /* points on each side of a change, at the least */
#define REFINE_ROUNDS 30     /* rounds of moving the changes again, at the most */
#define SUBSTEPS 4 /* places tried between two points */
#define MIN_SEP_S 0.5 /* changes closer than this are one (a shorter slew moves the reading by \
                         0.25 ms at NTP's 500 ppm at most) */

typedef struct {
    double t, r, w;
    uint32_t g, piece;
    uint32_t l; /* its level: the (g, piece) it is on, numbered */
} pt_t;

typedef struct {
    const pt_t *p;
    size_t n;
    uint32_t ng, nl;
    double tau[VXS_RATE_CHANGES_MAX];
    size_t nk;
    size_t m;          /* unknowns: nl levels, ng slopes, nk changes */
    double *N, *L, *b; /* the system without the candidate */
    double *v, *col;   /* scratch (m) */
} search_t;

void vxs_rate_opts_init(vxs_rate_opts_t *o) {
    o->min_gain = 100.0;
    o->min_effect_ns = 30e3;
    o->max_changes = 6;
}

static int cmp_pt(const void *a, const void *b) {
    const pt_t *x = a, *y = b;
    if (x->g != y->g) return x->g < y->g ? -1 : 1;
    if (x->piece != y->piece) return x->piece < y->piece ? -1 : 1;
    return (x->t > y->t) - (x->t < y->t);
}

static int cmp_pt_t(const void *a, const void *b) {
    const pt_t *x = a, *y = b;
    return (x->t > y->t) - (x->t < y->t);
}

static int cmp_dbl(const void *a, const void *b) {
    const double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* median of v[0..n) (reorders v) */
static double median(double *v, size_t n) {
    if (!n) return 0.0;
    qsort(v, n, sizeof *v, cmp_dbl);
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

static double hinge(double t, double tau) { return t > tau ? t - tau : 0.0; }

/* design fills the row of point p: its level, its relation's slope, then the changes'
 * hinges. */
static void design(const search_t *s, const pt_t *p, double *row) {
    memset(row, 0, s->m * sizeof *row);
    row[p->l] = 1.0;
    row[s->nl + p->g] = p->t;
    for (size_t k = 0; k < s->nk; k++)
        row[s->nl + s->ng + k] = hinge(p->t, s->tau[k]);
}

/* build_base sets up and factors the system of the current changes; false when
 * singular. A weak prior keeps a relation with points at one instant regular.
 */
static bool build_base(search_t *s) {
    const size_t m = s->m = s->nl + s->ng + s->nk;
    memset(s->N, 0, m * m * sizeof *s->N);
    memset(s->b, 0, m * sizeof *s->b);
    for (size_t i = 0; i < s->n; i++) {
        const pt_t *p = &s->p[i];
        design(s, p, s->col);
        for (size_t a = 0; a < m; a++) {
            if (s->col[a] == 0.0) continue;
            s->b[a] += p->w * s->col[a] * p->r;
            for (size_t c = 0; c < m; c++)
                s->N[a * m + c] += p->w * s->col[a] * s->col[c];
        }
    }
    for (size_t a = 0; a < m; a++)
        s->N[a * m + a] += 1e-12 * (1.0 + s->N[a * m + a]);
    return vxsi_cholesky(s->L, s->N, m);
}

/* scan prices every candidate tau (each point's time) given the current
 * changes, skipping `skip` (SIZE_MAX: none), and returns the best gain, its tau
 * and its coefficient. */
static double scan(search_t *s, double *best_tau, double *best_c) {
    const size_t m = s->m, ng = s->ng, nl = s->nl;
    /* over the points after: per level, w and w t; per relation, w t and w t^2 */
    double *L0 = s->v + m, *L1 = L0 + nl, *G1 = L1 + nl, *G2 = G1 + ng;
    memset(L0, 0, (2 * nl + 2 * ng) * sizeof *L0);
    double A0 = 0, A1 = 0, A2 = 0, Ar = 0, Atr = 0; /* over every point after */
    /* per change k: the sums over the points after tau_k of w (t - tau_k) and w t
     * (t - tau_k) */
    double V0[VXS_RATE_CHANGES_MAX] = {0}, V1[VXS_RATE_CHANGES_MAX] = {0};
    for (size_t i = 0; i < s->n; i++)
        for (size_t k = 0; k < s->nk; k++) {
            const double h = hinge(s->p[i].t, s->tau[k]);
            V0[k] += s->p[i].w * h;
            V1[k] += s->p[i].w * s->p[i].t * h;
        }
    double best = 0.0;
    *best_tau = NAN;
    *best_c = 0.0;
    size_t after = 0;
    for (size_t i = s->n; i-- > 0;) {
        const pt_t *p = &s->p[i];
        /* candidates: tau in [t_i, t_i+1), the points after t_i beyond it (equal
         * times go together), at SUBSTEPS places in between: a bend between two
         * points */
        if (after >= MIN_SIDE && i + 1 >= MIN_SIDE && (i + 1 == s->n || s->p[i + 1].t > p->t))
            for (int q = 0; q < SUBSTEPS; q++) {
                const double tau = p->t + (s->p[i + 1].t - p->t) * q / SUBSTEPS;
                bool near = false;
                for (size_t k = 0; k < s->nk; k++) near |= fabs(tau - s->tau[k]) < MIN_SEP_S;
                if (near) continue;
                double *n = s->col;
                for (uint32_t l = 0; l < nl; l++)
                    n[l] = L1[l] - tau * L0[l];
                for (uint32_t g = 0; g < ng; g++)
                    n[nl + g] = G2[g] - tau * G1[g];
                for (size_t k = 0; k < s->nk; k++)
                    n[nl + ng + k] = tau >= s->tau[k]
                                        ? A2 - (tau + s->tau[k]) * A1 + tau * s->tau[k] * A0
                                        : V1[k] - tau * V0[k];
                const double nn = A2 - 2 * tau * A1 + tau * tau * A0;
                const double bn = Atr - tau * Ar;
                memcpy(s->v, n, m * sizeof *n);
                vxsi_chol_solve(s->L, s->v, m);
                double nv = 0, vb = 0;
                for (size_t a = 0; a < m; a++) {
                    nv += n[a] * s->v[a];
                    vb += s->v[a] * s->b[a];
                }
                const double sc = nn - nv;
                if (sc > 1e-12 * (1.0 + nn)) {
                    const double d = bn - vb, gain = d * d / sc;
                    if (gain > best) {
                        best = gain;
                        *best_tau = tau;
                        *best_c = d / sc;
                    }
                }
            }
        L0[p->l] += p->w;
        L1[p->l] += p->w * p->t;
        G1[p->g] += p->w * p->t;
        G2[p->g] += p->w * p->t * p->t;
        A0 += p->w;
        A1 += p->w * p->t;
        A2 += p->w * p->t * p->t;
        Ar += p->w * p->r;
        Atr += p->w * p->t * p->r;
        after++;
    }
    return best;
}

/* sticks_out says whether point i of the piece p[pa..pb) lies more than `thr` beyond its
 * neighbours (NEIGHBOURS on each side): above (or below) the median of those before it and of
 * those after it alike. A point on a bend or a steep stretch (a slew of 400 ppm moves a
 * relation 0.4 ms between two points a second apart) lies between the two and is kept; a
 * stamp gone wrong or a window of late messages sticks out of both. At the ends of a piece the
 * two nearest points on the one side give a line to judge it by. */
static bool sticks_out(const pt_t *p, size_t pa, size_t pb, size_t i, double thr, double *tmp) {
    const size_t lo = i - pa >= NEIGHBOURS ? i - NEIGHBOURS : pa;
    const size_t hi = pb - i > NEIGHBOURS ? i + NEIGHBOURS + 1 : pb;
    const size_t nl = i - lo, nr = hi - i - 1;
    if (nl && nr) {
        size_t nn = 0;
        for (size_t q = lo; q < i; q++)
            tmp[nn++] = p[q].r;
        const double dl = p[i].r - median(tmp, nn);
        nn = 0;
        for (size_t q = i + 1; q < hi; q++)
            tmp[nn++] = p[q].r;
        const double dr = p[i].r - median(tmp, nn);
        return (dl > thr && dr > thr) || (dl < -thr && dr < -thr);
    }
    if (nl + nr < 2) return false; /* a piece of one or two points: nothing to judge by */
    const pt_t *a = nl ? &p[i - 1] : &p[i + 1], *b = nl ? &p[i - 2] : &p[i + 2];
    const double pred =
        b->t != a->t ? a->r + (a->r - b->r) * (p[i].t - a->t) / (a->t - b->t) : a->r;
    return fabs(p[i].r - pred) > thr;
}

/* noise_and_outliers weights every relation's points by its noise and leaves
 * out (w = 0) the points far from their neighbours, both within a piece (a
 * step between two points is no noise). `p` is sorted by (g, piece, t).
 * Returns the points kept. */
static size_t noise_and_outliers(pt_t *p, size_t n, double *tmp) {
    size_t kept = 0;
    for (size_t a = 0; a < n;) {
        size_t b = a;
        while (b < n && p[b].g == p[a].g)
            b++;
        const size_t k = b - a;
        double sd = NOISE_MIN_NS;
        /* the differences less their median (the line's own slope), then their MAD */
        size_t nd = 0;
        for (size_t i = a + 1; i < b; i++)
            if (p[i].piece == p[i - 1].piece) tmp[nd++] = p[i].r - p[i - 1].r;
        if (nd >= 2) {
            const double md = median(tmp, nd);
            nd = 0;
            for (size_t i = a + 1; i < b; i++)
                if (p[i].piece == p[i - 1].piece) tmp[nd++] = fabs(p[i].r - p[i - 1].r - md);
            sd = fmax(NOISE_MIN_NS, MAD_TO_SD * median(tmp, nd) / sqrt(2.0));
        }
        for (size_t pa = a; pa < b;) {
            size_t pb = pa;
            while (pb < b && p[pb].piece == p[pa].piece)
                pb++;
            for (size_t i = pa; i < pb; i++) {
                const bool out = k < 3 || sticks_out(p, pa, pb, i, OUTLIER_K * sd, tmp);
                p[i].w = out ? 0.0 : 1.0 / (sd * sd);
                kept += !out;
            }
            pa = pb;
        }
        /* less each piece's mean and the relation's slope (which the levels and b_g take up
         * anyway): the sums then hold small numbers, not a relation's offset of seconds
         * against its noise of µs */
        double sxx = 0, sxy = 0;
        for (int pass = 0; pass < 2; pass++)
            for (size_t pa = a; pa < b;) {
                size_t pb = pa;
                while (pb < b && p[pb].piece == p[pa].piece)
                    pb++;
                double s0 = 0, s1 = 0, sr = 0;
                for (size_t i = pa; i < pb; i++) {
                    s0 += p[i].w;
                    s1 += p[i].w * p[i].t;
                    sr += p[i].w * p[i].r;
                }
                if (s0 > 0) {
                    const double tc = s1 / s0, rc = sr / s0;
                    const double slope = pass && sxx > 1e-18 ? sxy / sxx : 0.0;
                    for (size_t i = pa; i < pb; i++) {
                        if (!pass) {
                            sxx += p[i].w * (p[i].t - tc) * (p[i].t - tc);
                            sxy += p[i].w * (p[i].t - tc) * (p[i].r - rc);
                        } else {
                            p[i].r -= rc + slope * (p[i].t - tc);
                        }
                    }
                }
                pa = pb;
            }
        a = b;
    }
    return kept;
}

vxs_status_t vxs_rate_changes(const vxs_rate_point_t *pts, size_t n, uint32_t n_groups,
                              const vxs_rate_opts_t *opts, vxs_rate_change_t *out, size_t *n_out) {
    if (!n_out || (n && !pts) || !out) return VXS_E_ARG;
    *n_out = 0;
    vxs_rate_opts_t o;
    if (opts)
        o = *opts;
    else
        vxs_rate_opts_init(&o);
    if (o.max_changes > VXS_RATE_CHANGES_MAX) o.max_changes = VXS_RATE_CHANGES_MAX;
    if (n < 2 * MIN_SIDE + 1 || n_groups == 0 || o.max_changes == 0) return VXS_OK;
    for (size_t i = 0; i < n; i++)
        if (pts[i].group >= n_groups || !isfinite(pts[i].t) || !isfinite(pts[i].r))
            return VXS_E_ARG;
    pt_t *p = vxs_malloc(n * sizeof *p);
    double *tmp = vxs_malloc(n * sizeof *tmp);
    search_t s;
    memset(&s, 0, sizeof s);
    vxs_status_t st = VXS_OK;
    if (!p || !tmp) {
        st = VXS_E_NOMEM;
        goto done;
    }
    /* times relative to their mean: the sums stay well scaled */
    double t_mean = 0;
    for (size_t i = 0; i < n; i++)
        t_mean += pts[i].t / (double)n;
    for (size_t i = 0; i < n; i++)
        p[i] = (pt_t){pts[i].t - t_mean, pts[i].r, 0.0, pts[i].group, pts[i].piece, 0};
    qsort(p, n, sizeof *p, cmp_pt);
    const size_t kept = noise_and_outliers(p, n, tmp);
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (p[i].w > 0) p[k++] = p[i];
    if (kept < 2 * MIN_SIDE + 1) goto done;
    /* the levels: each (relation, piece) that kept a point, in (g, piece) order */
    uint32_t nl = 0;
    for (size_t i = 0; i < k; i++) {
        if (i && (p[i].g != p[i - 1].g || p[i].piece != p[i - 1].piece)) nl++;
        p[i].l = nl;
    }
    nl++;
    const size_t mmax = (size_t)nl + n_groups + VXS_RATE_CHANGES_MAX;
    s.N = vxs_malloc(mmax * mmax * sizeof *s.N);
    s.L = vxs_malloc(mmax * mmax * sizeof *s.L);
    s.b = vxs_malloc(mmax * sizeof *s.b);
    s.v = vxs_malloc((mmax + 2 * (size_t)nl + 2 * (size_t)n_groups) * sizeof *s.v);
    s.col = vxs_malloc(mmax * sizeof *s.col);
    if (!s.N || !s.L || !s.b || !s.v || !s.col) {
        st = VXS_E_NOMEM;
        goto done;
    }
    qsort(p, k, sizeof *p, cmp_pt_t);
    s.p = p;
    s.n = k;
    s.ng = n_groups;
    s.nl = nl;
    const double t_end = p[k - 1].t;
    double coef[VXS_RATE_CHANGES_MAX];
    while (s.nk < o.max_changes) {
        if (!build_base(&s)) break;
        double tau, c;
        const double gain = scan(&s, &tau, &c);
        if (!(gain >= o.min_gain) || fabs(c) * (t_end - tau) < o.min_effect_ns) break;
        s.tau[s.nk] = tau;
        coef[s.nk++] = c;
        /* each change again with the others in place, until none moves (each move lowers
         * the residual sum: coordinate descent) */
        bool moved = true;
        for (int round = 0; moved && round < REFINE_ROUNDS && s.nk > 1; round++)
            for (size_t q = (moved = false, 0); q < s.nk; q++) {
                const double keep_tau = s.tau[q], keep_c = coef[q];
                s.tau[q] = s.tau[s.nk - 1];
                coef[q] = coef[s.nk - 1];
                s.nk--;
                double t2 = keep_tau, c2 = keep_c;
                if (build_base(&s)) {
                    const double g2 = scan(&s, &t2, &c2);
                    if (!(g2 >= o.min_gain) || !isfinite(t2)) {
                        t2 = keep_tau;
                        c2 = keep_c;
                    }
                }
                s.tau[s.nk] = s.tau[q];
                coef[s.nk] = coef[q];
                moved |= fabs(t2 - keep_tau) > 1e-9;
                s.tau[q] = t2;
                coef[q] = c2;
                s.nk++;
            }
    }
    /* the changes in time order, with their coefficients from one last fit */
    for (size_t i = 1; i < s.nk; i++)
        for (size_t q = i; q > 0 && s.tau[q] < s.tau[q - 1]; q--) {
            const double t = s.tau[q];
            s.tau[q] = s.tau[q - 1];
            s.tau[q - 1] = t;
        }
    if (s.nk && build_base(&s)) {
        memcpy(s.v, s.b, s.m * sizeof *s.v);
        vxsi_chol_solve(s.L, s.v, s.m);
        for (size_t q = 0; q < s.nk; q++) {
            /* the sd of a coefficient: the diagonal of N^-1 */
            memset(s.col, 0, s.m * sizeof *s.col);
            s.col[s.nl + s.ng + q] = 1.0;
            vxsi_chol_solve(s.L, s.col, s.m);
            out[q].t = s.tau[q] + t_mean;
            out[q].rate = s.v[s.nl + s.ng + q] * 1e-9;
            out[q].rate_sd = sqrt(fmax(s.col[s.nl + s.ng + q], 0.0)) * 1e-9;
        }
        *n_out = s.nk;
    }
done:
    vxs_free(p);
    vxs_free(tmp);
    vxs_free(s.N);
    vxs_free(s.L);
    vxs_free(s.b);
    vxs_free(s.v);
    vxs_free(s.col);
    return st;
}
