/*
 * match.c: frame matching, which item of every stream belongs with each reference time
 * (vxs_sync.h section 3).
 *
 * Every stream keeps its items in a ring buffer addressed by absolute item number (base = number
 * of the ring's first item), so the matcher state is a handful of indices per stream and memory
 * holds only the items some undecided frame may still need.
 *
 * APPROXIMATE follows ROS message_filters ApproximateTime (sync_policies/approximate_time.hpp,
 * see ../shared/specs/sync-and-clocks.md section 1) with age penalty 0, no inter-message lower
 * bounds and no queue limit: ROS's deque and "past" vector of a stream are the index ranges
 * [fr, total) and [pb, fr) of its ring, and the candidate member is item pb. Two extensions:
 * a stream that ended with its deque empty counts as having its next item at +infinity (so the
 * last candidate is proven optimal instead of waiting forever), and once no set can be formed
 * any more (an ended stream ran dry) the search stops.
 */
#include "vxs_sync.h"

#include <assert.h>
#include <string.h>

#include "vxs_core_int.h"

typedef struct {
    vxs_time_t t;
    uint64_t id;
} item_t;

/* A published ApproximateTime set: the reference item's number and one item per stream. Copied
 * out, so the items themselves can be released before the frame pops. */
typedef struct {
    uint64_t ref;
    item_t m[];
} set_rec_t;

typedef struct {
    vxsi_ring_t items;     /* item_t, in time order */
    uint64_t base;    /* absolute number of items' first element */
    uint64_t total;   /* items stored so far: base + items.len */
    uint64_t count;   /* items pushed so far (NEAREST/EXACT do not store repeated times) */
    vxs_time_t first_t, last_t;
    int64_t tol;
    bool ended;
    uint64_t fr, pb;  /* ApproximateTime: deque [fr, total), past [pb, fr), candidate pb */
} stream_t;

struct vxs_matcher {
    vxs_match_policy_t policy;
    size_t n;
    stream_t *st;
    vxs_member_t *out;   /* members of the frame last popped */
    uint64_t next_frame; /* number of the next reference item to pop */
    /* ApproximateTime state */
    vxsi_ring_t sets;         /* set_rec_t, published and not yet popped, in reference order */
    uint64_t *saved;     /* fr of every stream before a virtual search */
    bool has_pivot, ros_done;
    size_t pivot;
    vxs_time_t pivot_t, cand_start, cand_end;
};

const char *vxs_match_policy_name(vxs_match_policy_t p) {
    switch (p) {
    case VXS_MATCH_NEAREST: return "nearest";
    case VXS_MATCH_APPROXIMATE: return "approximate";
    case VXS_MATCH_EXACT: return "exact";
    }
    return "unknown";
}

/* ---- time arithmetic that cannot overflow ------------------------------------------------ */

/* span returns hi - lo (hi >= lo) exactly: the difference of two int64 times may not fit one. */
static uint64_t span(vxs_time_t lo, vxs_time_t hi) {
    assert(hi >= lo);
    return (uint64_t)hi - (uint64_t)lo;
}

static uint64_t dist(vxs_time_t a, vxs_time_t b) { return a < b ? span(a, b) : span(b, a); }

/* diff returns a - b, wrapping instead of overflowing for times 2^63 ns apart. */
static int64_t diff(vxs_time_t a, vxs_time_t b) { return (int64_t)((uint64_t)a - (uint64_t)b); }

/* ---- per-stream helpers ------------------------------------------------------------------ */

static const item_t *item_rel(const stream_t *s, size_t i) { return vxsi_ring_at(&s->items, i); }

static const item_t *item_abs(const stream_t *s, uint64_t n) {
    assert(n >= s->base && n < s->total);
    return item_rel(s, (size_t)(n - s->base));
}

/* decided says whether the member of stream s for a frame at T can no longer change: an item
 * later than T + tol exists (later items are farther still), or the stream ended. */
static bool decided(const stream_t *s, vxs_time_t T, int64_t tol) {
    if (s->ended) return true;
    return s->count > 0 && s->last_t > T && span(T, s->last_t) > (uint64_t)tol;
}

/* nearest returns the ring position of the stored item nearest T (ties: the earlier, and the
 * first of equal times), or SIZE_MAX when nothing is stored. */
static size_t nearest(const stream_t *s, vxs_time_t T) {
    size_t lo = 0, hi = s->items.len;
    if (hi == 0) return SIZE_MAX;
    while (lo < hi) { /* first item later than T */
        size_t mid = lo + (hi - lo) / 2;
        if (item_rel(s, mid)->t <= T)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo == 0) return 0;
    size_t before = lo - 1;
    while (before > 0 && item_rel(s, before - 1)->t == item_rel(s, before)->t) before--;
    if (lo == s->items.len) return before;
    return span(item_rel(s, before)->t, T) <= span(T, item_rel(s, lo)->t) ? before : lo;
}

/* describe fills `mb` with `status` and the item of `s` nearest T. */
static void describe(vxs_member_t *mb, const stream_t *s, vxs_time_t T, vxs_member_status_t status) {
    size_t j = nearest(s, T);
    mb->status = status;
    if (j == SIZE_MAX) {
        mb->t = VXS_TIME_NONE;
        mb->id = 0;
        mb->dt_ns = 0;
    } else {
        const item_t *it = item_rel(s, j);
        mb->t = it->t;
        mb->id = it->id;
        mb->dt_ns = diff(it->t, T);
    }
}

/* ---- ApproximateTime ------------------------------------------------------------------------ */

static bool ros_empty(const stream_t *s) { return s->fr == s->total; }

static void ros_make_candidate(vxs_matcher_t *m) {
    /* ROS clears the past vectors here: the items moved past since the last candidate are
     * dropped for good, which is what makes them NOT_IN_SET. */
    for (size_t s = 0; s < m->n; s++) m->st[s].pb = m->st[s].fr;
}

static void ros_publish(vxs_matcher_t *m) {
    set_rec_t *r = vxsi_ring_push(&m->sets); /* room reserved by every push to stream 0 */
    r->ref = m->st[0].pb;
    for (size_t s = 0; s < m->n; s++) {
        stream_t *st = &m->st[s];
        r->m[s] = *item_abs(st, st->pb);
        st->fr = st->pb = st->pb + 1;
    }
    m->has_pivot = false;
}

/* ros_virtual is ROS's search for a proof that the candidate is optimal while some deque is
 * empty. An empty deque's next item is at the pivot time at the earliest (lower bound 0), or
 * never if its stream ended. Returns true if the candidate was published; otherwise the deques
 * are as before. */
static bool ros_virtual(vxs_matcher_t *m) {
    for (size_t s = 0; s < m->n; s++) m->saved[s] = m->st[s].fr;
    for (;;) {
        size_t start_i = 0;
        vxs_time_t end_t = 0, start_t = 0;
        bool end_inf = false, start_inf = false;
        for (size_t s = 0; s < m->n; s++) {
            const stream_t *st = &m->st[s];
            bool inf = false;
            vxs_time_t t = 0;
            if (!ros_empty(st)) {
                t = item_abs(st, st->fr)->t;
            } else if (st->ended) {
                inf = true;
            } else {
                t = item_abs(st, st->fr - 1)->t;
                if (t < m->pivot_t) t = m->pivot_t;
            }
            if (s == 0 || inf || (!end_inf && t >= end_t)) {
                end_inf = inf;
                end_t = t;
            }
            if (s == 0 || (!inf && (start_inf || t < start_t))) {
                start_inf = inf;
                start_t = t;
                start_i = s;
            }
        }
        if (end_inf || span(m->cand_end, end_t) >= span(m->cand_start, m->pivot_t)) {
            ros_publish(m);
            return true;
        }
        assert(!start_inf);
        if (span(m->cand_end, end_t) < span(m->cand_start, start_t)) {
            for (size_t s = 0; s < m->n; s++) m->st[s].fr = m->saved[s];
            return false;
        }
        /* start_t < pivot_t here (else one of the two tests holds), so it is a real item. */
        assert(start_i != m->pivot && !ros_empty(&m->st[start_i]));
        m->st[start_i].fr++;
    }
}

/* ros_process runs ApproximateTime as far as the items present allow. It never allocates. */
static void ros_process(vxs_matcher_t *m) {
    while (!m->ros_done) {
        bool all = true;
        for (size_t s = 0; s < m->n; s++)
            if (ros_empty(&m->st[s])) all = false;
        if (!all) {
            if (!m->has_pivot) {
                for (size_t s = 0; s < m->n; s++)
                    if (ros_empty(&m->st[s]) && m->st[s].ended) m->ros_done = true;
                return;
            }
            if (!ros_virtual(m)) return;
            continue;
        }
        /* End: the latest head (ties: the last stream); start: the earliest (ties: the first). */
        size_t end_i = 0, start_i = 0;
        vxs_time_t end_t = item_abs(&m->st[0], m->st[0].fr)->t, start_t = end_t;
        for (size_t s = 1; s < m->n; s++) {
            vxs_time_t t = item_abs(&m->st[s], m->st[s].fr)->t;
            if (t >= end_t) {
                end_t = t;
                end_i = s;
            }
            if (t < start_t) {
                start_t = t;
                start_i = s;
            }
        }
        if (!m->has_pivot) {
            ros_make_candidate(m);
            m->cand_start = start_t;
            m->cand_end = end_t;
            m->has_pivot = true;
            m->pivot = end_i;
            m->pivot_t = end_t;
        } else if (span(m->cand_end, end_t) < span(m->cand_start, start_t)) {
            ros_make_candidate(m); /* a strictly shorter span: the better candidate */
            m->cand_start = start_t;
            m->cand_end = end_t;
        }
        m->st[start_i].fr++;
        /* Every later candidate contains [pivot_t, end_t]: once that is no shorter than the
         * candidate's span, or the pivot itself moved past, the candidate is optimal. */
        if (start_i == m->pivot || span(m->cand_end, end_t) >= span(m->cand_start, m->pivot_t))
            ros_publish(m);
    }
}

/* ---- memory release -------------------------------------------------------------------------- */

/* release drops the items no undecided frame can need. Every future frame time is >= T_low (the
 * oldest unpopped frame's, else the last reference time), so an item with a later one at or
 * before T_low is never nearest again; ApproximateTime also needs everything from pb on. */
static void release(vxs_matcher_t *m) {
    stream_t *s0 = &m->st[0];
    size_t popped = (size_t)(m->next_frame - s0->base);
    vxsi_ring_drop(&s0->items, popped);
    s0->base += popped;

    vxs_time_t t_low;
    if (m->next_frame < s0->total) {
        t_low = item_abs(s0, m->next_frame)->t;
    } else if (s0->ended) {
        /* Every frame popped and no more to come: nothing is needed any more (the search cannot
         * be holding a candidate either, as that would include an unpopped reference item). */
        assert(m->policy != VXS_MATCH_APPROXIMATE || m->ros_done);
        for (size_t i = 1; i < m->n; i++) {
            m->st[i].base += m->st[i].items.len;
            vxsi_ring_drop(&m->st[i].items, m->st[i].items.len);
        }
        return;
    } else if (s0->count > 0) {
        t_low = s0->last_t;
    } else {
        return;
    }
    for (size_t i = 1; i < m->n; i++) {
        stream_t *s = &m->st[i];
        size_t limit = s->items.len, drop = 0;
        if (m->policy == VXS_MATCH_APPROXIMATE && !m->ros_done && s->pb - s->base < limit)
            limit = (size_t)(s->pb - s->base);
        while (drop < limit) {
            vxs_time_t t = item_rel(s, drop)->t;
            size_t k = drop + 1;
            if (t >= t_low) break;
            while (k < s->items.len && item_rel(s, k)->t == t) k++; /* equal times go together */
            if (k == s->items.len || item_rel(s, k)->t > t_low) break;
            drop = k < limit ? k : limit;
        }
        vxsi_ring_drop(&s->items, drop);
        s->base += drop;
    }
}

/* ---- public API ------------------------------------------------------------------------------ */

void vxs_matcher_destroy(vxs_matcher_t *m) {
    if (!m) return;
    if (m->st)
        for (size_t s = 0; s < m->n; s++) vxs_free(m->st[s].items.buf);
    vxs_free(m->st);
    vxs_free(m->out);
    vxs_free(m->saved);
    vxs_free(m->sets.buf);
    vxs_free(m);
}

vxs_status_t vxs_matcher_create(vxs_matcher_t **out, vxs_match_policy_t policy, size_t n_streams,
                                const int64_t *tolerance_ns) {
    VXS_RETURN_IF(!out, VXS_E_ARG);
    *out = NULL;
    switch (policy) {
    case VXS_MATCH_NEAREST:
    case VXS_MATCH_APPROXIMATE:
    case VXS_MATCH_EXACT: break;
    default: return VXS_E_ARG;
    }
    VXS_RETURN_IF(n_streams == 0 || (n_streams > 1 && !tolerance_ns), VXS_E_ARG);
    for (size_t s = 1; s < n_streams; s++) VXS_RETURN_IF(tolerance_ns[s] < 0, VXS_E_ARG);
    VXS_RETURN_IF(n_streams > (SIZE_MAX - sizeof(set_rec_t)) / sizeof(item_t), VXS_E_ARG);

    vxs_matcher_t *m = vxs_calloc(1, sizeof *m);
    VXS_RETURN_IF(!m, VXS_E_NOMEM);
    m->policy = policy;
    m->n = n_streams;
    m->st = vxs_calloc(n_streams, sizeof *m->st);
    m->out = vxs_calloc(n_streams, sizeof *m->out);
    m->saved = vxs_calloc(n_streams, sizeof *m->saved);
    if (!m->st || !m->out || !m->saved) {
        vxs_matcher_destroy(m);
        return VXS_E_NOMEM;
    }
    m->sets.esize = sizeof(set_rec_t) + n_streams * sizeof(item_t);
    for (size_t s = 0; s < n_streams; s++) {
        m->st[s].items.esize = sizeof(item_t);
        m->st[s].first_t = m->st[s].last_t = VXS_TIME_NONE;
        m->st[s].tol = s == 0 ? 0 : tolerance_ns[s];
    }
    *out = m;
    return VXS_OK;
}

vxs_status_t vxs_matcher_push(vxs_matcher_t *m, size_t stream, vxs_time_t t, uint64_t id) {
    VXS_RETURN_IF(!m || stream >= m->n || t == VXS_TIME_NONE, VXS_E_ARG);
    stream_t *s = &m->st[stream];
    VXS_RETURN_IF(s->ended, VXS_E_STATE);
    VXS_RETURN_IF(s->count > 0 && t < s->last_t, VXS_E_ARG);
    /* NEAREST and EXACT never pick the second of two equal times (ties go to the earlier item),
     * so only ApproximateTime, which uses every item once, and the reference store them. */
    bool store = stream == 0 || m->policy == VXS_MATCH_APPROXIMATE || s->count == 0 ||
                 t != s->last_t;
    if (store) {
        VXS_FORWARD(vxsi_ring_reserve(&s->items, s->items.len + 1));
        /* Every reference item not yet settled may still get a set: keep room for all of them,
         * so ros_process never has to allocate halfway. */
        if (stream == 0 && m->policy == VXS_MATCH_APPROXIMATE)
            VXS_FORWARD(vxsi_ring_reserve(&m->sets, m->sets.len + (size_t)(s->total - s->pb) + 1));
        item_t *it = vxsi_ring_push(&s->items);
        it->t = t;
        it->id = id;
        s->total++;
    }
    if (s->count++ == 0) s->first_t = t;
    s->last_t = t;
    if (m->policy == VXS_MATCH_APPROXIMATE) ros_process(m);
    release(m);
    return VXS_OK;
}

void vxs_matcher_end(vxs_matcher_t *m, size_t stream) {
    if (!m || stream >= m->n || m->st[stream].ended) return;
    m->st[stream].ended = true;
    if (m->policy == VXS_MATCH_APPROXIMATE) ros_process(m);
    release(m);
}

bool vxs_matcher_pop(vxs_matcher_t *m, vxs_match_frame_t *out) {
    if (!m || !out) return false;
    const stream_t *s0 = &m->st[0];
    if (m->next_frame >= s0->total) return false;
    const item_t ref = *item_abs(s0, m->next_frame);
    for (size_t i = 1; i < m->n; i++) {
        int64_t tol = m->policy == VXS_MATCH_EXACT ? 0 : m->st[i].tol;
        if (!decided(&m->st[i], ref.t, tol)) return false;
    }
    const set_rec_t *rec = NULL;
    if (m->policy == VXS_MATCH_APPROXIMATE) {
        if (!m->ros_done && m->next_frame >= s0->pb) return false; /* may still join a set */
        if (m->sets.len > 0) {
            rec = vxsi_ring_at(&m->sets, 0);
            assert(rec->ref >= m->next_frame);
            if (rec->ref != m->next_frame) rec = NULL;
        }
    }

    m->out[0] = (vxs_member_t){VXS_MEMBER_OK, ref.t, ref.id, 0};
    for (size_t i = 1; i < m->n; i++) {
        const stream_t *s = &m->st[i];
        vxs_member_t *mb = &m->out[i];
        if (m->policy == VXS_MATCH_APPROXIMATE) {
            if (rec && dist(rec->m[i].t, ref.t) <= (uint64_t)s->tol)
                *mb = (vxs_member_t){VXS_MEMBER_OK, rec->m[i].t, rec->m[i].id,
                                     diff(rec->m[i].t, ref.t)};
            else if (rec)
                *mb = (vxs_member_t){VXS_MEMBER_SET_BEYOND_TOLERANCE, rec->m[i].t, rec->m[i].id,
                                     diff(rec->m[i].t, ref.t)};
            else
                describe(mb, s, ref.t, s->count ? VXS_MEMBER_NOT_IN_SET : VXS_MEMBER_NO_ITEMS);
            continue;
        }
        if (s->count == 0) {
            describe(mb, s, ref.t, VXS_MEMBER_NO_ITEMS);
            continue;
        }
        describe(mb, s, ref.t, VXS_MEMBER_OK);
        if (m->policy == VXS_MATCH_EXACT) {
            if (mb->t != ref.t) mb->status = VXS_MEMBER_NO_EXACT;
        } else if (dist(mb->t, ref.t) > (uint64_t)s->tol) {
            /* Out of tolerance: say whether T is outside the stream's span or inside a gap. */
            if (ref.t < s->first_t)
                mb->status = VXS_MEMBER_BEFORE_START;
            else if (ref.t > s->last_t)
                mb->status = VXS_MEMBER_AFTER_END;
            else
                mb->status = VXS_MEMBER_NONE_WITHIN_TOLERANCE;
        }
    }
    if (rec) vxsi_ring_drop(&m->sets, 1);
    out->t = ref.t;
    out->id = ref.id;
    out->n_members = m->n;
    out->members = m->out;
    m->next_frame++;
    release(m);
    return true;
}

size_t vxs_matcher_pending(const vxs_matcher_t *m) {
    size_t n = 0;
    if (!m) return 0;
    for (size_t s = 0; s < m->n; s++) n += m->st[s].items.len;
    return n;
}
