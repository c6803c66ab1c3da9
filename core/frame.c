/*
 * frame.c: core's part of the job's output types (vxs_frame.h): clock models and the functions
 * applying them, the names of delay classes, clock methods and member statuses, the payload
 * fetcher and the frame-sink wrapper.
 */
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "vxs_core_int.h"
#include "vxs_frame.h"

/* ==== clock models ================================================================================ */

void vxs_clock_model_identity(vxs_clock_model_t *m, vxs_time_t epoch) {
    memset(m, 0, sizeof *m);
    m->epoch = epoch;
    m->n_pieces = 1;
    m->pieces[0].from_ref = INT64_MIN;
}

/* rate_of returns piece k's drift. */
static double rate_of(const vxs_clock_model_t *m, size_t k) {
    return m->drift + m->pieces[k].drift_delta;
}

double vxs_clock_piece_step(const vxs_clock_model_t *m, size_t k) {
    if (!m || k == 0 || k >= m->n_pieces) return 0.0;
    const double u = (double)(m->pieces[k].from_ref - m->epoch);
    return (m->pieces[k].offset_ns + rate_of(m, k) * u) -
           (m->pieces[k - 1].offset_ns + rate_of(m, k - 1) * u);
}

vxs_time_t vxs_clock_piece_to_reference(const vxs_clock_model_t *m, size_t k, vxs_time_t local) {
    /* local = ref + off + drift (ref - epoch)  =>  ref - epoch = (local - epoch - off) / (1 + d) */
    const double r = ((double)(local - m->epoch) - m->pieces[k].offset_ns) / (1.0 + rate_of(m, k));
    return m->epoch + (vxs_time_t)llround(r);
}

static size_t piece_of_ref(const vxs_clock_model_t *m, vxs_time_t ref) {
    size_t k = 0;
    while (k + 1 < m->n_pieces && ref >= m->pieces[k + 1].from_ref) k++;
    return k;
}

vxs_time_t vxs_clock_to_local(const vxs_clock_model_t *m, vxs_time_t ref) {
    if (ref == VXS_TIME_NONE) return VXS_TIME_NONE;
    /* the correction in double, the absolute time in integers (a double near 1.7e18 ns holds
     * multiples of 256 ns only) */
    const size_t k = piece_of_ref(m, ref);
    return ref +
           (vxs_time_t)llround(m->pieces[k].offset_ns + rate_of(m, k) * (double)(ref - m->epoch));
}

static bool in_piece(const vxs_clock_model_t *m, size_t k, vxs_time_t ref) {
    return (k == 0 || ref >= m->pieces[k].from_ref) &&
           (k + 1 >= m->n_pieces || ref < m->pieces[k + 1].from_ref);
}

vxs_time_t vxs_clock_to_reference(const vxs_clock_model_t *m, vxs_time_t local,
                                  vxs_clock_cursor_t *cur) {
    if (local == VXS_TIME_NONE) return VXS_TIME_NONE;
    if (!cur) {
        for (size_t k = m->n_pieces; k-- > 0;) {
            const vxs_time_t r = vxs_clock_piece_to_reference(m, k, local);
            if (in_piece(m, k, r)) return r;
        }
        return vxs_clock_piece_to_reference(m, 0, local);
    }
    size_t k = cur->piece < m->n_pieces ? cur->piece : m->n_pieces - 1;
    while (k + 1 < m->n_pieces) {
        const double jump = vxs_clock_piece_step(m, k + 1);
        const double from = (double)m->pieces[k + 1].from_ref;
        const double r_here = (double)vxs_clock_piece_to_reference(m, k, local);
        const double r_next = (double)vxs_clock_piece_to_reference(m, k + 1, local);
        bool adv;
        if (jump > -1.0) {
            /* forward: the readings after it are `jump` ahead; the instant is known to within
             * the gap around it, so split the difference. A piece that changes the rate alone
             * steps by 0, give or take the rounding of its offset: continuous, not backward */
            adv = r_here >= from + jump / 2;
        } else if (!cur->started) {
            adv = r_next >= from;
        } else {
            /* backward: readings within `jump` before it occur again after it. A stream read in
             * order steps back there (its readings never decrease otherwise); one that does
             * not (a gap around the jump) is past it once the old piece cannot hold it. The
             * instant itself is known to within the gap around it: 1 s of slack both ways. */
            const bool stepped = local < cur->last_local;
            adv = (stepped && r_next >= from - 1e9) || r_here >= from + 1e9;
        }
        if (!adv) break;
        k++;
    }
    cur->piece = k;
    cur->last_local = local;
    cur->started = true;
    return vxs_clock_piece_to_reference(m, k, local);
}

const char *vxs_delay_class_name(vxs_delay_class_t c) {
    switch (c) {
    case VXS_DELAY_WIRE: return "wire";
    case VXS_DELAY_TX_LOG: return "tx_log";
    case VXS_DELAY_AIR: return "air";
    default: return "unknown";
    }
}

const char *vxs_clock_method_name(vxs_clock_method_t m) {
    switch (m) {
    case VXS_CLOCK_M_UNKNOWN: return "unknown";
    case VXS_CLOCK_M_ANCHOR: return "anchor";
    case VXS_CLOCK_M_HINT: return "hint";
    case VXS_CLOCK_M_ESTIMATED: return "estimated";
    case VXS_CLOCK_M_REFERENCE: return "reference";
    default: return "unknown";
    }
}


const char *vxs_clock_ident_name(vxs_clock_ident_t i) {
    switch (i) {
    case VXS_IDENT_UNKNOWN: return "unknown";
    case VXS_IDENT_ANCHOR: return "anchor";
    case VXS_IDENT_HINT: return "hint";
    case VXS_IDENT_REFERENCE: return "reference";
    case VXS_IDENT_PINNED: return "pinned";
    case VXS_IDENT_FLOOR_PRIOR: return "floor_prior";
    }
    return "unknown";
}

const char *vxs_member_status_name(vxs_member_status_t s) {
    switch (s) {
    case VXS_MEMBER_OK: return "ok";
    case VXS_MEMBER_NO_ITEMS: return "no_items";
    case VXS_MEMBER_NONE_WITHIN_TOLERANCE: return "none_within_tolerance";
    case VXS_MEMBER_NOT_IN_SET: return "not_in_set";
    case VXS_MEMBER_SET_BEYOND_TOLERANCE: return "set_beyond_tolerance";
    case VXS_MEMBER_NO_EXACT: return "no_exact";
    case VXS_MEMBER_BEFORE_START: return "before_start";
    case VXS_MEMBER_AFTER_END: return "after_end";
    }
    return "unknown";
}

/* ==== payloads ============================================================================== */

vxs_status_t vxs_fetcher_fetch(const vxs_fetcher_t *f, vxs_buf_t *out, const vxs_record_t *rec) {
    VXS_RETURN_IF(f == NULL || f->fn == NULL || out == NULL || rec == NULL, VXS_E_ARG);
    return f->fn(f->user, out, rec);
}

/* ==== frame sinks =========================================================================== */

typedef enum { FS_NEW = 0, FS_BEGUN = 1, FS_FINISHED = 2 } fs_state_t;

struct vxs_frame_sink {
    const vxs_frame_sink_ops_t *ops;
    void *impl;
    fs_state_t state;
    bool state_err; /* the last call was refused here, not by the impl */
};

/* The message for a call refused by the wrapper; the impl's errmsg knows nothing of it. */
static const char k_fsink_state_msg[] =
    "frame sink called out of order (begin, frames, finish; then only destroy)";

vxs_status_t vxs_frame_sink_create(vxs_frame_sink_t **out, const vxs_frame_sink_ops_t *ops,
                                   void *impl) {
    vxs_frame_sink_t *s;
    VXS_RETURN_IF(out == NULL, VXS_E_ARG);
    *out = NULL;
    VXS_RETURN_IF(ops == NULL || ops->begin == NULL || ops->frame == NULL || ops->finish == NULL,
                  VXS_E_ARG);
    s = vxs_calloc(1, sizeof *s);
    VXS_RETURN_IF(s == NULL, VXS_E_NOMEM);
    s->ops = ops;
    s->impl = impl;
    *out = s;
    return VXS_OK;
}

vxs_status_t vxs_frame_sink_begin(vxs_frame_sink_t *s, const vxs_run_info_t *run) {
    VXS_RETURN_IF(s == NULL || run == NULL, VXS_E_ARG);
    s->state_err = s->state != FS_NEW;
    VXS_RETURN_IF(s->state_err, VXS_E_STATE);
    s->state = FS_BEGUN;
    return s->ops->begin(s->impl, run);
}

vxs_status_t vxs_frame_sink_frame(vxs_frame_sink_t *s, const vxs_frame_t *f,
                                  const vxs_fetcher_t *fetch) {
    VXS_RETURN_IF(s == NULL || f == NULL, VXS_E_ARG);
    s->state_err = s->state != FS_BEGUN;
    VXS_RETURN_IF(s->state_err, VXS_E_STATE);
    return s->ops->frame(s->impl, f, fetch);
}

vxs_status_t vxs_frame_sink_message(vxs_frame_sink_t *s, const vxs_frame_msg_t *m) {
    VXS_RETURN_IF(s == NULL || m == NULL, VXS_E_ARG);
    s->state_err = s->state != FS_BEGUN;
    VXS_RETURN_IF(s->state_err, VXS_E_STATE);
    return s->ops->message ? s->ops->message(s->impl, m) : VXS_OK;
}

vxs_status_t vxs_frame_sink_finish(vxs_frame_sink_t *s, const vxs_run_summary_t *sum) {
    VXS_RETURN_IF(s == NULL || sum == NULL, VXS_E_ARG);
    s->state_err = s->state != FS_BEGUN;
    VXS_RETURN_IF(s->state_err, VXS_E_STATE);
    /* Set before the call: a failed finish has already flushed, renamed or abandoned part of
     * the output, and calling it again would not be idempotent in any writer. */
    s->state = FS_FINISHED;
    return s->ops->finish(s->impl, sum);
}

const char *vxs_frame_sink_errmsg(const vxs_frame_sink_t *s) {
    const char *msg;
    if (s == NULL) return "";
    if (s->state_err) return k_fsink_state_msg;
    if (s->ops->errmsg == NULL) return "";
    msg = s->ops->errmsg(s->impl);
    return msg != NULL ? msg : "";
}

void vxs_frame_sink_destroy(vxs_frame_sink_t *s) {
    if (s == NULL) return;
    if (s->ops->destroy != NULL) s->ops->destroy(s->impl);
    vxs_free(s);
}

const char *vxs_pred_model_name(vxs_pred_model_t m) {
    static const char *const n[] = {"none", "static", "cv", "ca", "ctrv", "ctra"};
    return (unsigned)m < sizeof n / sizeof n[0] ? n[m] : "none";
}
