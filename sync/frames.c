/*
 * frames.c: the job's frame pass (vxs_sync.h section 5, step 4). The sources are read again;
 * every record is mapped onto the reference timeline by its clock's model; the reference
 * sensor's records (or a fixed rate) give the frame times T; the matcher (section 3) picks each
 * other LiDAR's and camera's member; each V2X source's messages received in (T - window, T] are
 * attached with their links' state; every frame goes to every sink as a vxs_frame_t.
 *
 * Memory: each member stream keeps the items the matcher may still need (released once far
 * older than T), each V2X source the messages of one window. Nothing grows with the drive.
 */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "job_int.h"
#include "kin.h"

#define MAX_LINKS 64 /* links kept per receiving V2X source */
#define REASON_LEN 256

/* item_t is one record of a member stream, on the reference timeline. */
typedef struct {
    vxs_time_t t_ref, t_local;
    uint32_t piece;  /* the piece of its clock's model t_ref was read on */
    uint64_t index;  /* its number among the stream's records */
    vxs_record_t rec;
} item_t;

/* fix_t is an agent's latest GNSS fix from its LiDAR's NMEA ($GPRMC: position, speed and
 * course over ground, at the fix's UTC time). */
typedef struct {
    bool valid;
    vxs_time_t t;
    double lat_deg, lon_deg, speed_mps, course_deg;
    /* from the fix before (within FIX_MAX_AGE_NS): the turn and the change of speed between
     * them, NaN without one */
    double yaw_rate_dps, accel_mps2;
} fix_t;

/* mstream_t is one stream of frame members (or the fixed-rate clock, with src NULL). */
typedef struct {
    fix_t *fix; /* LiDARs: the agent's latest fix, kept as position packets go by */
    jsrc_t *src;
    vxs_source_kind_t kind;
    const vxs_clock_model_t *model;
    size_t clock;
    vxs_clock_cursor_t cur;
    vxs_time_t prev_ref, prev_device; /* the last record's times: cameras step with pts */
    vxs_time_t prev_local;
    int64_t period_ns; /* the stream's median interval (0 unknown) */
    uint64_t next_index;
    bool eof;
    vxsi_ring_t q; /* item_t: q_first_id is the id of its first element */
    uint64_t q_first_id, next_id;
    int64_t tol_ns;
    int64_t stamp_latency_ns; /* cameras: stamp - exposure (manifest) */
    vxs_time_t last_pushed;
    char name[200];
    char reason[REASON_LEN];
} mstream_t;

/* link_t is one sender a V2X source heard over the drive. */
typedef struct {
    int sender_agent; /* or -1 with station */
    uint64_t station;
    vxs_time_t last_rx;
    vxs_time_t newest_gen; /* the latest generation (reference timeline) received so far */
    int64_t dropout_ns;    /* a silence this long is a dropout (the manifest's
                              v2x_dropout_intervals of the sender's shortest interval here);
                              0: no interval known, the window decides */
    double interval_s;
    char reason[REASON_LEN];
} link_t;

/* sender_t is what a V2X source received of one sender's messages of one type: the latest
 * generation time and the last few, for the duplicate and reordered flags. */
#define RECENT_GENS 16
typedef struct {
    uint64_t station;
    uint16_t protocol, msg_type;
    vxs_time_t max_gen;
    vxs_time_t recent[RECENT_GENS];
    size_t n_recent, i_recent;
    long report; /* its link in the summary (j->link_reports), -1 when not counted */
} sender_t;

/* pend_t is a received message read ahead of the frames (with its link, -1 when not counted). */
typedef struct {
    vxs_frame_msg_t m;
    long report;
} pend_t;

/* own_t is one message the feed's own agent sent: where it said it was. */
typedef struct {
    vxs_time_t t; /* its generation on the reference timeline */
    vxs_msg_state_t st;
} own_t;

#define OWN_KEEP 32          /* own messages kept (the ones around T) */
#define OWN_MAX_GAP_NS (1000 * VXS_NS_PER_MS) /* a pose is taken from own messages this close */
#define LOOKAHEAD_MAX 4096   /* received messages read ahead while looking for an own one */

/* vfeed_t is one V2X source's window of received messages. */
typedef struct {
    jsrc_t *src;
    vxs_clock_cursor_t cur;
    bool eof;
    vxsi_ring_t pending; /* pend_t: received, read ahead of T */
    vxsi_ring_t q; /* vxs_frame_msg_t, received up to T, in capture order */
    own_t own[OWN_KEEP]; /* the latest own messages, oldest first */
    size_t n_own;
    int agent_type;      /* the receiving agent's manifest type */
    bool sends;          /* the agent logged messages of its own (the index pass saw them) */
    char pose_reason[REASON_LEN];
    char fix_reason[96];
    uint64_t index;
    link_t links[MAX_LINKS];
    size_t n_links;
    sender_t *senders; /* by first reception */
    size_t n_senders, cap_senders;
    /* the frame being given */
    vxs_frame_msg_t *msgs;
    size_t n_msgs, cap_msgs;
    vxs_frame_link_t flinks[MAX_LINKS];
} vfeed_t;

typedef struct {
    vxs_job_t *j;
    mstream_t *ms;
    size_t nm;
    vfeed_t *vf;
    size_t nv;
    vxs_matcher_t *mt;
    int64_t *tol;
    vxs_frame_member_t *members;
    vxs_frame_v2x_t *v2x;
    const char **reasons;
    bool fixed_rate;
    bool has_enu;
    vxsi_enu_t enu;
    vxs_frame_sink_t *const *sinks;
    size_t n_sinks;
    vxs_status_t sink_st; /* a message sink failed (j->err says why): the pass stops */
    vxs_buf_t objects;    /* the current CPM's objects, for the message sinks */
    fix_t *fixes;         /* per agent: the latest fix of its LiDARs' NMEA */
} pass_t;

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static const vxs_clock_model_t *model_of(const vxs_job_t *j, size_t node) {
    return &j->res[node].model;
}

/* ---- one mapping through the steps of a clock ------------------------------------------------ */

/* STEP_SLACK_NS widens each piece of a stepped clock: where the step happened is known only to
 * within the samples around it, and readings around a backward step occur twice. */
#define STEP_SLACK_NS (1000 * VXS_NS_PER_MS)
/* PTS_AGREE_NS: a camera's pts and stamps advancing by this little apart are one clock */
#define PTS_AGREE_NS (2 * VXS_NS_PER_MS)

/* map_reading maps `local` on `m` to the reference timeline and says on which piece (*piece).
 * A clock with one piece is a formula. A stepped one may give a reading near a step two
 * readings: each piece whose stretch (widened by STEP_SLACK_NS and the step) holds its
 * mapping is a candidate, and the record's other clock decides, as the relations showed the
 * step in the first place:
 *   - `not_before` (a V2X message's generation time): the candidate on or after it, the
 *     earliest of them (the smallest latency the link allows: a reception before the
 *     generation is the wrong side of the step; one a step's size too late is too);
 *   - `expect` (a camera frame: the previous frame plus the pts advance): the nearest to it;
 *     with `period` > 0 (`expect` is then the previous frame itself: its pts were written from
 *     the stamps and step with them), the one whose advance from it is nearest a whole number
 *     of periods (frames come a period apart; a frame dropped is two), a candidate outside its
 *     own piece's stretch paying 1 ms more, so that a step of a whole period is not misread;
 *   - neither: the cursor's rule (the readings stepping back, else the latest piece holding
 *     the mapping).
 * Every time written is vxs_clock_piece_to_reference(m, *piece, local) (README "frames.jsonl":
 * the piece is written beside it when the clock has more than one). */
static vxs_time_t map_reading(const vxs_clock_model_t *m, vxs_time_t local, vxs_time_t not_before,
                              vxs_time_t expect, int64_t period, vxs_clock_cursor_t *cur,
                              uint32_t *piece) {
    *piece = 0;
    if (local == VXS_TIME_NONE) return VXS_TIME_NONE;
    if (m->n_pieces > 1 && (not_before != VXS_TIME_NONE || expect != VXS_TIME_NONE)) {
        vxs_time_t best = VXS_TIME_NONE;
        size_t best_k = 0;
        double best_cost = INFINITY;
        for (size_t k = 0; k < m->n_pieces; k++) {
            const vxs_time_t r = vxs_clock_piece_to_reference(m, k, local);
            const double jump_in = fabs(vxs_clock_piece_step(m, k));
            const double jump_out = fabs(vxs_clock_piece_step(m, k + 1));
            if (k > 0 && (double)r < (double)m->pieces[k].from_ref - STEP_SLACK_NS - jump_in)
                continue;
            if (k + 1 < m->n_pieces &&
                (double)r >= (double)m->pieces[k + 1].from_ref + STEP_SLACK_NS + jump_out)
                continue;
            double cost;
            if (not_before != VXS_TIME_NONE)
                cost = r >= not_before ? (double)(r - not_before)
                                       : 1e18 + (double)(not_before - r); /* the least wrong */
            else if (period > 0) {
                const double adv = (double)(r - expect), p = (double)period;
                cost = fabs(adv - p * fmax(1.0, round(adv / p)));
                const bool own = (k == 0 || r >= m->pieces[k].from_ref) &&
                                 (k + 1 >= m->n_pieces || r < m->pieces[k + 1].from_ref);
                if (!own) cost += (double)VXS_NS_PER_MS;
            } else
                cost = fabs((double)(r - expect));
            if (cost < best_cost) {
                best_cost = cost;
                best = r;
                best_k = k;
            }
        }
        if (best != VXS_TIME_NONE) {
            *piece = (uint32_t)best_k;
            /* the stream goes on from there */
            cur->piece = best_k;
            cur->last_local = local;
            cur->started = true;
            return best;
        }
    }
    const vxs_time_t r = vxs_clock_to_reference(m, local, cur);
    *piece = (uint32_t)cur->piece;
    return r;
}

/* ---- member streams ------------------------------------------------------------------------ */

#define FIX_MAX_AGE_NS (2000 * VXS_NS_PER_MS) /* a LiDAR fix this old still gives a pose */
#define FIX_MIN_SPEED 1.0 /* m/s: below it a course over ground is no heading */

/* note_fix makes a position packet's fix the agent's latest, with the turn rate and the
 * acceleration since the one before (course and speed over ground change between fixes). */
static void note_fix(fix_t *x, const vxs_imu_summary_t *u) {
    fix_t n = {true, u->fix_time, u->lat_deg, u->lon_deg, u->speed_mps, u->course_deg, NAN, NAN};
    /* both moving: a course at a standstill is noise, not a turn */
    if (x->valid && u->fix_time - x->t <= FIX_MAX_AGE_NS && !isnan(x->course_deg) &&
        !isnan(n.course_deg) && x->speed_mps >= FIX_MIN_SPEED && n.speed_mps >= FIX_MIN_SPEED) {
        const double dt = (double)(u->fix_time - x->t) / 1e9;
        /* course turns clockwise, yaw counter-clockwise */
        n.yaw_rate_dps = -remainder(n.course_deg - x->course_deg, 360.0) / dt;
        n.accel_mps2 = (n.speed_mps - x->speed_mps) / dt;
    }
    *x = n;
}

/* pull_item reads the stream's next record and maps it to the reference timeline. */
static bool pull_item(mstream_t *m, item_t *it) {
    const vxs_record_t *rec;
    for (;;) {
        /* errors end the source (the rule on bad units): reported in the index pass */
        if (vxs_source_next(m->src->src, &rec) != VXS_OK) return false;
        if (m->kind == VXS_SOURCE_LIDAR && rec->kind == VXS_REC_IMU) {
            const vxs_imu_summary_t *u = &rec->u.imu;
            if (m->fix && u->fix_time != VXS_TIME_NONE && !isnan(u->lat_deg) &&
                !isnan(u->lon_deg) && (!m->fix->valid || u->fix_time > m->fix->t))
                note_fix(m->fix, u);
            continue;
        }
        if (m->kind == VXS_SOURCE_LIDAR &&
            (rec->kind != VXS_REC_LIDAR_SWEEP || rec->sensor != m->src->sensor_base))
            continue;
        if (m->kind == VXS_SOURCE_CAMERA && rec->kind != VXS_REC_CAMERA_FRAME) continue;
        break;
    }
    memset(it, 0, sizeof *it);
    it->index = m->next_index++;
    it->rec = *rec;
    if (m->kind == VXS_SOURCE_LIDAR) {
        const vxs_sweep_summary_t *w = &rec->u.sweep;
        const vxs_sweep_time_t conv = m->src->ms->clock.sweep_time;
        vxs_time_t t = rec->device_time;
        if (conv == VXS_SWEEP_END)
            t = w->device_end;
        else if (conv == VXS_SWEEP_MIDDLE)
            t = rec->device_time + (w->device_end - rec->device_time) / 2;
        it->t_local = t;
    } else {
        /* the exposure, on the logger clock: the stamp less the camera's stamp latency */
        const vxs_time_t stamp =
            rec->capture_time != VXS_TIME_NONE ? rec->capture_time : rec->device_time;
        it->t_local = stamp == VXS_TIME_NONE ? VXS_TIME_NONE : stamp - m->stamp_latency_ns;
    }
    /* a camera frame is expected where the previous one was plus its pts advance (the camera's
     * own clock: it does not step when the logger does). A recorder that wrote the pts from
     * the stamps (their advances agree) makes them step with the logger: then the frame is
     * expected a whole number of periods after the previous one */
    vxs_time_t expect = VXS_TIME_NONE;
    int64_t period = 0;
    if (m->kind == VXS_SOURCE_CAMERA && m->prev_ref != VXS_TIME_NONE &&
        rec->device_time != VXS_TIME_NONE && m->prev_device != VXS_TIME_NONE) {
        const int64_t pts_adv = rec->device_time - m->prev_device;
        const bool with_stamps = m->period_ns > 0 && it->t_local != VXS_TIME_NONE &&
                                 m->prev_local != VXS_TIME_NONE &&
                                 llabs((it->t_local - m->prev_local) - pts_adv) < PTS_AGREE_NS;
        expect = with_stamps ? m->prev_ref : m->prev_ref + pts_adv;
        period = with_stamps ? m->period_ns : 0;
    }
    it->t_ref =
        map_reading(m->model, it->t_local, VXS_TIME_NONE, expect, period, &m->cur, &it->piece);
    m->prev_ref = it->t_ref;
    m->prev_device = rec->device_time;
    m->prev_local = it->t_local;
    return true;
}

static const item_t *q_get(const mstream_t *m, uint64_t id) {
    if (id < m->q_first_id || id - m->q_first_id >= m->q.len) return NULL;
    return vxsi_ring_at(&m->q, (size_t)(id - m->q_first_id));
}

/* q_release drops items far older than T (no frame can need them any more). */
static void q_release(mstream_t *m, vxs_time_t T, int64_t keep_ns) {
    while (m->q.len > 1 && ((const item_t *)vxsi_ring_at(&m->q, 0))->t_ref < T - keep_ns) {
        vxsi_ring_drop(&m->q, 1);
        m->q_first_id++;
    }
}

/* feed pushes the stream's next item into the matcher; false at its end. */
static bool feed(vxs_job_t *j, vxs_matcher_t *mt, size_t si, mstream_t *m) {
    item_t it;
    for (;;) {
        if (m->eof || !pull_item(m, &it)) {
            if (!m->eof) vxs_matcher_end(mt, si);
            m->eof = true;
            return false;
        }
        if (it.t_ref == VXS_TIME_NONE ||
            (m->last_pushed != VXS_TIME_NONE && it.t_ref < m->last_pushed)) {
            /* not on the timeline in order: counted (summary "out_of_order"), not matched */
            j->sum.out_of_order++;
            continue;
        }
        break;
    }
    if (vxsi_ring_append(&m->q, &it) != VXS_OK) {
        j->oom = true;
        return false;
    }
    m->last_pushed = it.t_ref;
    if (vxs_matcher_push(mt, si, it.t_ref, m->next_id++) != VXS_OK) j->oom = true;
    return true;
}

/* ---- V2X feeds ----------------------------------------------------------------------------- */

/* annotate_latency sets the message's latency and its uncertainty, and the late flag. A field
 * counting whole ms (or µs) truncates: the message left on average half a count after its
 * stamp, with a spread of a count / sqrt(12). A DENM's referenceTime is the event's time: the
 * message has no latency. */
static void annotate_latency(const vxs_job_t *j, vxs_frame_msg_t *m, double sd_rx,
                             double sd_tx) {
    if (m->field == VXS_V2X_TF_ITS_TIME || m->field == VXS_V2X_TF_NONE) return;
    const double res = vxs_v2x_time_field_resolution_ns(m->field);
    m->has_latency = true;
    m->latency_ns = m->rx_ref - m->gen_ref - (int64_t)llround(res / 2);
    m->latency_sd_ns = sqrt(sd_rx * sd_rx + sd_tx * sd_tx + res * res / 12);
    if ((double)m->latency_ns > j->man->frames.v2x_late_ms * 1e6) m->flags |= VXS_MSG_LATE;
}

/* sender_of returns the feed's record of the message's sender and type (created at its first
 * message; NULL when out of memory, which ends the pass). */
static sender_t *sender_of(vxs_job_t *j, vfeed_t *f, const vxs_frame_msg_t *m) {
    for (size_t i = f->n_senders; i-- > 0;)
        if (f->senders[i].station == m->station && f->senders[i].protocol == m->protocol &&
            f->senders[i].msg_type == m->msg_type)
            return &f->senders[i];
    if (!vxsi_job_grow((void **)&f->senders, &f->cap_senders, f->n_senders + 1,
                       sizeof *f->senders)) {
        j->oom = true;
        return NULL;
    }
    sender_t *s = &f->senders[f->n_senders++];
    *s = (sender_t){m->station, m->protocol, m->msg_type, VXS_TIME_NONE, {0}, 0, 0, -1};
    for (size_t i = 0; i < j->sum.n_links; i++) {
        const vxs_link_report_t *r = &j->sum.links[i];
        if (r->source == m->source && r->station == m->station && r->protocol == m->protocol &&
            r->msg_type == m->msg_type)
            s->report = (long)i;
    }
    return s;
}

/* flag_order flags a message received again (the same sender, type and generation time as one
 * of the last RECENT_GENS received) or out of order (older than the newest received). A DENM's
 * referenceTime is shared by its repetitions: not compared. */
static void flag_order(sender_t *s, vxs_frame_msg_t *m) {
    /* messages naming no sender (SPaT, MAP, TIM: station 0) would mix intersections */
    if (!s || m->gen == VXS_TIME_NONE || m->field == VXS_V2X_TF_ITS_TIME || m->station == 0)
        return;
    if (m->flags & VXS_MSG_IMPOSSIBLE) return; /* its time is not to be compared with */
    if (s->max_gen != VXS_TIME_NONE) {
        for (size_t i = 0; i < s->n_recent; i++)
            if (s->recent[i] == m->gen) {
                m->flags |= VXS_MSG_DUPLICATE;
                return;
            }
        if (m->gen < s->max_gen) m->flags |= VXS_MSG_REORDERED;
    }
    if (s->max_gen == VXS_TIME_NONE || m->gen > s->max_gen) s->max_gen = m->gen;
    s->recent[s->i_recent] = m->gen;
    s->i_recent = (s->i_recent + 1) % RECENT_GENS;
    if (s->n_recent < RECENT_GENS) s->n_recent++;
}

static int agent_type_of(const vxs_job_t *j, int agent) {
    return agent >= 0 ? (int)j->man->agents[agent].type : -1;
}

/* count_sent counts a message its sender logged as sent on every link that counts its type in
 * a span holding its generation time: what was sent, exactly, where the counters only say what
 * they can (links.json "sent_logged"). Every V2X source is read whole (v2x_drain), so every
 * message logged is seen once. */
static void count_sent(vxs_job_t *j, const vxs_record_t *rec) {
    const vxs_time_t g = rec->device_time;
    if (g == VXS_TIME_NONE) return;
    for (size_t i = 0; i < j->sum.n_links; i++) {
        vxs_link_report_t *r = &j->link_reports[i];
        if (r->station != rec->device_clock.station || r->protocol != rec->u.v2x.protocol ||
            r->msg_type != rec->u.v2x.msg_type)
            continue;
        /* a DENM link counts events, its sender's log transmissions: not comparable */
        if (r->protocol == VXS_V2X_PROTO_ETSI && r->msg_type == VXS_ETSI_DENM) continue;
        r->has_sent_logged = true;
        if (r->first_gen != VXS_TIME_NONE && g >= r->first_gen && g <= r->last_gen)
            r->sent_logged++;
    }
}

/* own_note keeps what the feed's agent said of itself in a message it sent. */
static void own_note(vxs_job_t *j, pass_t *p, vfeed_t *f, const vxs_record_t *rec) {
    if (!p->has_enu || !rec->u.v2x.has_position || rec->device_time == VXS_TIME_NONE ||
        rec->device_clock.field == VXS_V2X_TF_ITS_TIME)
        return;
    const size_t sn = vxsi_job_sender_node(j, rec->device_clock.station, rec->device_clock.field);
    if (sn == SIZE_MAX) return;
    own_t o;
    o.t = vxs_clock_to_reference(model_of(j, sn), rec->device_time, NULL);
    if (o.t == VXS_TIME_NONE) return;
    vxsi_state_from_summary(&o.st, &rec->u.v2x, &p->enu, f->agent_type);
    if (!o.st.valid) return;
    /* logged in about generation order; a late one goes to its place */
    if (f->n_own == OWN_KEEP) {
        memmove(f->own, f->own + 1, (OWN_KEEP - 1) * sizeof *f->own);
        f->n_own--;
    }
    size_t k = f->n_own;
    while (k > 0 && f->own[k - 1].t > o.t) k--;
    memmove(f->own + k + 1, f->own + k, (f->n_own - k) * sizeof *f->own);
    f->own[k] = o;
    f->n_own++;
}

/* give_message hands a message, with a CPM's objects (fetched while its record is current), to
 * every message sink; false (p->sink_st set) when one fails. */
static bool give_message(pass_t *p, vfeed_t *f, const vxs_record_t *rec, vxs_frame_msg_t *m) {
    vxs_job_t *j = p->j;
    m->objects = NULL;
    if (rec->u.v2x.n_objects) {
        if (vxs_source_fetch(f->src->src, &p->objects, rec) == VXS_OK &&
            p->objects.len == rec->u.v2x.n_objects * sizeof *m->objects)
            m->objects = (const vxs_v2x_object_t *)(const void *)p->objects.data;
        else
            m->v2x.n_objects = 0; /* said with the message: none could be read back */
    }
    for (size_t s = 0; s < p->n_sinks; s++) {
        const vxs_status_t st = vxs_frame_sink_message(p->sinks[s], m);
        if (st != VXS_OK) {
            vxsi_fmt(j->err, sizeof j->err, "%s", vxs_frame_sink_errmsg(p->sinks[s]));
            p->sink_st = st;
            m->objects = NULL;
            return false;
        }
    }
    m->objects = NULL; /* the frames do not carry them */
    return true;
}

/* v2x_read reads the feed's next record: a received message goes to f->pending, with its
 * times, latency, flags and state; one the agent sent, to its own poses. false at the end. */
static bool v2x_read(vxs_job_t *j, pass_t *p, vfeed_t *f) {
    const vxs_record_t *rec;
    for (;;) {
        if (f->eof) return false;
        if (vxs_source_next(f->src->src, &rec) != VXS_OK) {
            f->eof = true;
            return false;
        }
        const uint64_t index = f->index++;
        if (rec->kind != VXS_REC_V2X || rec->capture_time == VXS_TIME_NONE) continue;
        if (rec->u.v2x.sent) {
            count_sent(j, rec);
            own_note(j, p, f, rec);
            return true;
        }
        pend_t e;
        vxs_frame_msg_t *m = &e.m;
        const size_t logger = j->logger_node[f->src->agent];
        memset(&e, 0, sizeof e);
        m->source = (uint32_t)f->src->index;
        m->message = index;
        m->loc = rec->loc;
        m->capture = rec->capture_time;
        m->gen = rec->device_time;
        m->station = rec->device_clock.station;
        m->sender_agent = vxsi_job_owner_of(j, m->station);
        m->protocol = rec->u.v2x.protocol;
        m->msg_type = rec->u.v2x.msg_type;
        m->has_counter = rec->has_seq;
        m->counter = rec->seq;
        m->v2x = rec->u.v2x;
        if (rec->u.v2x.out_of_range) m->flags |= VXS_MSG_OUT_OF_RANGE;
        if (p->has_enu)
            vxsi_state_from_summary(&m->state, &rec->u.v2x, &p->enu,
                                    agent_type_of(j, m->sender_agent));
        const size_t sn = vxsi_job_sender_node(j, m->station, rec->device_clock.field);
        m->gen_ref = m->gen == VXS_TIME_NONE || sn == SIZE_MAX
                         ? VXS_TIME_NONE
                         : vxs_clock_to_reference(model_of(j, sn), m->gen, NULL);
        m->rx_ref = map_reading(model_of(j, logger), m->capture, m->gen_ref, VXS_TIME_NONE, 0,
                                &f->cur, &m->rx_piece);
        m->field = rec->device_clock.field;
        if (m->gen_ref != VXS_TIME_NONE) {
            /* received before it was sent, beyond what the clocks' uncertainty explains */
            const double sd_rx = j->res[logger].offset_sd_ns;
            const double sd_tx = sn != SIZE_MAX ? j->res[sn].offset_sd_ns : 0;
            const double sd = sd_rx + sd_tx;
            if ((double)(m->rx_ref - m->gen_ref) < -fmax(1e6, 5 * sd)) {
                if (j->sum.impossible < VXS_IMPOSSIBLE_LISTED)
                    j->impossible[j->sum.impossible] = (vxs_impossible_msg_t){
                        (uint32_t)f->src->index, rec->loc.index + 1, rec->loc.offset,
                        m->rx_ref - m->gen_ref};
                j->sum.impossible++;
                m->flags |= VXS_MSG_IMPOSSIBLE;
            }
            annotate_latency(j, m, sd_rx, sd_tx);
        }
        sender_t *snd = sender_of(j, f, m);
        flag_order(snd, m);
        e.report = snd && m->has_latency ? snd->report : -1;
        /* the link's latencies and the message sinks: every message, once, as it is read */
        if (e.report >= 0) vxsi_lat_add(&j->link_lat[e.report], m->latency_ns);
        if (!give_message(p, f, rec, m)) {
            f->eof = true; /* the pass stops: p->sink_st */
            return false;
        }
        if (vxsi_ring_append(&f->pending, &e) != VXS_OK) {
            j->oom = true;
            f->eof = true;
            return false;
        }
        return true;
    }
}

static void link_seen(vfeed_t *f, const vxs_frame_msg_t *m) {
    for (size_t i = 0; i < f->n_links; i++) {
        link_t *l = &f->links[i];
        if (m->sender_agent >= 0 ? l->sender_agent == m->sender_agent
                                 : (l->sender_agent < 0 && l->station == m->station)) {
            if (l->last_rx == VXS_TIME_NONE || m->rx_ref > l->last_rx) l->last_rx = m->rx_ref;
            if (m->has_latency && !(m->flags & VXS_MSG_IMPOSSIBLE)) {
                const vxs_time_t g = m->rx_ref - m->latency_ns; /* the generation it stands for */
                if (l->newest_gen == VXS_TIME_NONE || g > l->newest_gen) l->newest_gen = g;
            }
            return;
        }
    }
}

/* enter puts a received message into the window queue (a frame will see it). */
static void enter(pass_t *p, vfeed_t *f, const pend_t *e) {
    if (vxsi_ring_append(&f->q, &e->m) != VXS_OK) p->j->oom = true;
    link_seen(f, &e->m);
}

/* v2x_advance moves every message received by T into the window queue and drops the ones older
 * than T - window. */
static vxs_status_t v2x_advance(pass_t *p, vfeed_t *f, vxs_time_t T, int64_t window) {
    for (;;) {
        while (f->pending.len == 0 && v2x_read(p->j, p, f)) {
        }
        if (f->pending.len == 0) break;
        const pend_t *e = vxsi_ring_at(&f->pending, 0);
        if (e->m.rx_ref > T) break;
        enter(p, f, e);
        vxsi_ring_drop(&f->pending, 1);
    }
    if (p->sink_st != VXS_OK) return p->sink_st;
    while (f->q.len && ((const vxs_frame_msg_t *)vxsi_ring_at(&f->q, 0))->rx_ref <= T - window)
        vxsi_ring_drop(&f->q, 1);
    return VXS_OK;
}

/* v2x_drain reads every V2X source to its end: the messages no frame got (after the last
 * frame, or every one when there are no frames) go to the link accounts and the message
 * sinks, the own messages to the links' sent_logged. */
static vxs_status_t v2x_drain(pass_t *p) {
    for (size_t fi = 0; fi < p->nv; fi++) {
        vfeed_t *f = &p->vf[fi];
        while (v2x_read(p->j, p, f)) vxsi_ring_drop(&f->pending, f->pending.len);
        vxsi_ring_drop(&f->pending, f->pending.len);
        if (p->sink_st != VXS_OK) return p->sink_st;
    }
    return p->j->oom ? VXS_E_NOMEM : VXS_OK;
}

/* pose_from_fix gives the feed's agent a pose from its LiDAR's latest NMEA fix: its position,
 * its course over ground as the heading, advanced to T at its speed, turning and accelerating as
 * it did since the fix before (CTRA; constant velocity without one), with the class's default
 * accuracy (NMEA's RMC claims none; the antenna's unknown place on the body is in it). The fix's UTC time is taken as the reference timeline's (GNSS-anchored). false
 * (with f->fix_reason) when there is none, it is old, or the agent stands too still for a
 * course. */
static bool pose_from_fix(pass_t *p, vfeed_t *f, vxs_time_t T, vxs_frame_v2x_t *v) {
    const fix_t *x = &p->fixes[f->src->agent];
    f->fix_reason[0] = '\0';
    if (!x->valid) return false;
    if (llabs(T - x->t) > FIX_MAX_AGE_NS) {
        snprintf(f->fix_reason, sizeof f->fix_reason, "; its LiDAR's last GNSS fix is %.1f s old",
                 (double)(T - x->t) / 1e9);
        return false;
    }
    if (isnan(x->course_deg) || isnan(x->speed_mps) || x->speed_mps < FIX_MIN_SPEED) {
        snprintf(f->fix_reason, sizeof f->fix_reason,
                 "; its LiDAR's GNSS fix gives no heading (speed below %.1f m/s)", FIX_MIN_SPEED);
        return false;
    }
    vxs_v2x_summary_t sum;
    memset(&sum, 0, sizeof sum);
    sum.has_position = true;
    sum.lat_deg = x->lat_deg;
    sum.lon_deg = x->lon_deg;
    sum.elev_m = sum.length_m = sum.width_m = NAN;
    sum.yaw_rate_dps = x->yaw_rate_dps;
    sum.accel_long_mps2 = x->accel_mps2;
    sum.pos_semi_major_m = sum.pos_semi_minor_m = sum.pos_orientation_deg = NAN;
    sum.speed_conf_mps = sum.heading_conf_deg = NAN;
    sum.speed_mps = x->speed_mps;
    sum.heading_deg = x->course_deg;
    sum.station_type = -1;
    vxs_msg_state_t st;
    vxsi_state_from_summary(&st, &sum, &p->enu, f->agent_type);
    vxsi_pose_between(&st, (double)(x->t - T) / 1e9, NULL, 0.0, 0.0, &v->pose);
    if (!v->pose.valid) return false;
    v->pose_from = "lidar gnss";
    v->pose_reason = NULL;
    return true;
}

/* feed_pose finds where the feed's agent is at T: its fixed pose in the manifest, else its own
 * messages around T (read ahead until one is after T). */
static void feed_pose(pass_t *p, vfeed_t *f, vxs_time_t T, vxs_frame_v2x_t *v) {
    vxs_job_t *j = p->j;
    const vxs_manifest_agent_t *ag = &j->man->agents[f->src->agent];
    memset(&v->pose, 0, sizeof v->pose);
    v->pose_from = NULL;
    v->pose_reason = f->pose_reason;
    if (!p->has_enu) {
        snprintf(f->pose_reason, sizeof f->pose_reason, "no position anywhere in the drive");
        return;
    }
    if (ag->pose.present) {
        if (!ag->pose.has_heading) {
            snprintf(f->pose_reason, sizeof f->pose_reason,
                     "agent %s: its fixed pose in the manifest has no heading_deg", ag->id);
            return;
        }
        double e[3];
        vxsi_enu_from_geo(&p->enu, ag->pose.lat_deg, ag->pose.lon_deg, ag->pose.alt_m, e);
        v->pose = (vxs_pose_t){true, e[0], e[1], e[2],
                               remainder((90.0 - ag->pose.heading_deg) * M_PI / 180, 2 * M_PI),
                               0.0, 0.0};
        v->pose_from = "manifest";
        v->pose_reason = NULL;
        return;
    }
    /* read on until an own message after T, but not past what could be within reach of T (a
     * receiver that sends nothing would otherwise read its whole look-ahead for nothing) */
    while (f->sends && !f->eof && f->pending.len < LOOKAHEAD_MAX &&
           (f->n_own == 0 || f->own[f->n_own - 1].t <= T) &&
           (f->pending.len == 0 ||
            ((const pend_t *)vxsi_ring_at(&f->pending, f->pending.len - 1))->m.rx_ref <=
                T + OWN_MAX_GAP_NS))
        v2x_read(j, p, f);
    const own_t *a = NULL, *b = NULL;
    for (size_t k = 0; k < f->n_own; k++) {
        if (f->own[k].t <= T) a = &f->own[k];
        else if (!b) b = &f->own[k];
    }
    if (a && T - a->t > OWN_MAX_GAP_NS) a = NULL;
    if (b && b->t - T > OWN_MAX_GAP_NS) b = NULL;
    if (!a && b) { /* before its first message: back from the next one */
        a = b;
        b = NULL;
    }
    if (!a) {
        if (pose_from_fix(p, f, T, v)) return;
        if (f->n_own)
            snprintf(f->pose_reason, sizeof f->pose_reason,
                     "agent %s: no message of its own within %.1f s of T%s", ag->id,
                     (double)OWN_MAX_GAP_NS / 1e9, f->fix_reason);
        else
            snprintf(f->pose_reason, sizeof f->pose_reason,
                     "agent %s: no fixed pose in the manifest, no message of its own with a "
                     "position%s",
                     ag->id, f->fix_reason[0] ? f->fix_reason : ", no LiDAR GNSS fix");
        return;
    }
    vxsi_pose_between(&a->st, (double)(a->t - T) / 1e9, b ? &b->st : NULL,
                      b ? (double)(b->t - T) / 1e9 : 0.0, 0.0, &v->pose);
    if (!v->pose.valid) {
        snprintf(f->pose_reason, sizeof f->pose_reason,
                 "agent %s: its own messages give no speed or heading", ag->id);
        return;
    }
    v->pose_from = "own messages";
    v->pose_reason = NULL;
}

/* annotate_at sets a message's annotations at the frame time T. */
static void annotate_at(vxs_frame_msg_t *m, vxs_time_t T, const vxs_pose_t *pose) {
    m->has_age = m->has_latency;
    m->has_body = false;
    memset(&m->pred, 0, sizeof m->pred);
    if (!m->has_age) return;
    m->age_ns = m->latency_ns + (T - m->rx_ref);
    vxsi_predict(&m->state, (double)m->age_ns / 1e9, m->latency_sd_ns / 1e9, &m->pred);
    if (m->pred.model == VXS_PRED_NONE || !pose->valid) return;
    vxsi_to_body(&m->pred, pose, &m->body);
    m->has_body = true;
}

static const char *agent_id(const vxs_job_t *j, int agent) {
    return agent >= 0 ? j->man->agents[agent].id : "unknown";
}

/* ---- setting up ---------------------------------------------------------------------------- */

/* median_interval_of gives a source's median record interval, 0 when unknown. */
static int64_t median_interval_of(const jsrc_t *s) {
    vxs_stream_summary_t sum;
    vxs_stream_stats_summarize(s->period, &sum);
    return sum.median_interval_ns > 0 ? sum.median_interval_ns : 0;
}

static int64_t tol_ns_for(const vxs_job_t *j, const jsrc_t *s) {
    const double ms = j->man->frames.tolerance_ms[s->ms->kind];
    if (ms >= 0) return (int64_t)llround(ms * 1e6);
    vxs_stream_summary_t sum;
    vxs_stream_stats_summarize(s->period, &sum);
    return sum.median_interval_ns > 0 ? sum.median_interval_ns / 2 : 50000000;
}

static void pass_free(pass_t *p) {
    vxs_matcher_destroy(p->mt);
    for (size_t k = 0; p->ms && k < p->j->n_srcs + 1; k++) vxsi_ring_free(&p->ms[k].q);
    for (size_t k = 0; p->vf && k < p->j->n_srcs; k++) {
        vxsi_ring_free(&p->vf[k].q);
        vxsi_ring_free(&p->vf[k].pending);
        vxs_free(p->vf[k].msgs);
        vxs_free(p->vf[k].senders);
    }
    vxs_buf_free(&p->objects);
    vxs_free(p->fixes);
    vxs_free(p->ms);
    vxs_free(p->vf);
    vxs_free(p->tol);
    vxs_free(p->members);
    vxs_free(p->v2x);
    vxs_free(p->reasons);
}

/* set_origin places the ENU frame: the manifest's origin, else the first position fix of the
 * drive (of each source's first, the earliest on the reference timeline). */
static void set_origin(pass_t *p) {
    vxs_job_t *j = p->j;
    const vxs_manifest_t *man = j->man;
    if (man->origin.present) {
        vxsi_enu_init(&p->enu, man->origin.lat_deg, man->origin.lon_deg, man->origin.alt_m);
        vxsi_fmt(j->origin_from, sizeof j->origin_from, "manifest");
    } else {
        const jsrc_t *best = NULL;
        vxs_time_t best_t = VXS_TIME_NONE;
        for (size_t i = 0; i < j->n_srcs; i++) {
            const jsrc_t *s = &j->srcs[i];
            if (!s->has_fix) continue;
            const vxs_time_t t = vxs_clock_to_reference(model_of(j, j->logger_node[s->agent]),
                                                        s->fix_capture, NULL);
            /* one with an altitude first: the frame's z is then heights above the road */
            if (best && (best->fix_has_alt > s->fix_has_alt ||
                         (best->fix_has_alt == s->fix_has_alt && best_t <= t)))
                continue;
            best = s;
            best_t = t;
        }
        if (!best) return;
        vxsi_enu_init(&p->enu, best->fix_lat, best->fix_lon, best->fix_alt);
        vxsi_fmt(j->origin_from, sizeof j->origin_from, "first fix: %s record %" PRIu64,
                 best->ms->path, best->fix_record);
    }
    p->has_enu = true;
    j->run.has_origin = true;
    j->run.origin_lat_deg = p->enu.lat_deg;
    j->run.origin_lon_deg = p->enu.lon_deg;
    j->run.origin_alt_m = p->enu.alt_m;
    j->run.origin_from = j->origin_from;
}

/* link_interval sets a frame link's dropout threshold: a silence is a dropout (and the link
 * silent at T) after the manifest's v2x_dropout_intervals of the sender's shortest interval
 * among its counted message types at this receiver (links.json "interval_ms"), as links.json
 * counts dropouts; a sender with no counted type is silent after the window. */
static void link_interval(const vxs_job_t *j, const jsrc_t *s, link_t *L) {
    double iv = 0;
    for (size_t i = 0; i < j->sum.n_links; i++) {
        const vxs_link_report_t *r = &j->link_reports[i];
        if (r->source != s->index || r->interval_s <= 0) continue;
        if (L->sender_agent >= 0 ? r->sender_agent != L->sender_agent : r->station != L->station)
            continue;
        if (iv == 0 || r->interval_s < iv) iv = r->interval_s;
    }
    L->interval_s = iv;
    L->dropout_ns = (int64_t)llround(iv * j->man->frames.v2x_dropout_intervals * 1e9);
}

/* setup opens the passes' streams: the reference sensor first, then the other LiDARs and
 * cameras, agents and sensors in the order of their ids (the job's source order), and a feed per
 * V2X source with the links its agent heard in the index pass. */
static vxs_status_t setup(pass_t *p) {
    vxs_job_t *j = p->j;
    const vxs_manifest_t *man = j->man;
    const size_t n = j->n_srcs;
    vxs_status_t st;
    p->ms = vxs_calloc(n + 1, sizeof *p->ms);
    p->vf = vxs_calloc(n ? n : 1, sizeof *p->vf);
    p->tol = vxs_calloc(n + 1, sizeof *p->tol);
    p->members = vxs_calloc(n + 1, sizeof *p->members);
    p->v2x = vxs_calloc(n ? n : 1, sizeof *p->v2x);
    p->reasons = vxs_calloc(n + 1 + n * MAX_LINKS, sizeof *p->reasons);
    p->fixes = vxs_calloc(man->n_agents, sizeof *p->fixes);
    j->streams = vxs_calloc(n + 1, sizeof *j->streams);
    j->stream_names = vxs_calloc(n + 1, sizeof *j->stream_names);
    if (!p->ms || !p->vf || !p->tol || !p->members || !p->v2x || !p->reasons || !j->streams ||
        !j->stream_names || !p->fixes)
        return VXS_E_NOMEM;
    set_origin(p);
    size_t ref_src = SIZE_MAX;
    for (size_t i = 0; i < n; i++)
        if (j->srcs[i].ms == &man->agents[man->ref_agent].sources[man->ref_source]) ref_src = i;
    p->fixed_rate = man->frames.policy == VXS_FRAMES_FIXED_RATE;
    for (size_t k = 0; k <= n; k++) {
        size_t i;
        if (k == 0) {
            if (p->fixed_rate || ref_src == SIZE_MAX) continue;
            i = ref_src;
        } else {
            i = k - 1;
            if (i == ref_src && !p->fixed_rate) continue;
        }
        jsrc_t *s = &j->srcs[i];
        if (s->ms->kind == VXS_SOURCE_V2X) {
            vfeed_t *f = &p->vf[p->nv];
            f->src = s;
            f->q.esize = sizeof(vxs_frame_msg_t);
            f->pending.esize = sizeof(pend_t);
            f->agent_type = (int)man->agents[s->agent].type;
            for (size_t o = 0; o < j->n_owners; o++) f->sends |= j->owners[o].agent == (int)s->agent;
            st = vxs_source_rewind(s->src, VXS_REC_KIND_BIT(VXS_REC_V2X));
            if (st != VXS_OK) goto rewind_failed;
            for (size_t h = 0; h < j->n_heard && f->n_links < MAX_LINKS; h++) {
                if (j->heard[h].agent != s->agent) continue;
                const int ag = vxsi_job_owner_of(j, j->heard[h].station);
                bool dup = false;
                for (size_t l = 0; l < f->n_links; l++)
                    dup |= ag >= 0 ? f->links[l].sender_agent == ag
                                   : f->links[l].station == j->heard[h].station;
                if (!dup) {
                    link_t *L = &f->links[f->n_links++];
                    L->sender_agent = ag;
                    L->station = j->heard[h].station;
                    L->last_rx = VXS_TIME_NONE;
                    L->newest_gen = VXS_TIME_NONE;
                    link_interval(j, s, L);
                }
            }
            p->nv++;
            continue;
        }
        mstream_t *m = &p->ms[p->nm];
        m->src = s;
        m->kind = s->ms->kind;
        m->last_pushed = VXS_TIME_NONE;
        m->prev_ref = m->prev_device = m->prev_local = VXS_TIME_NONE;
        m->tol_ns = tol_ns_for(j, s);
        m->period_ns = median_interval_of(s);
        m->stamp_latency_ns = (int64_t)llround(s->ms->clock.stamp_latency_ms * 1e6);
        m->q.esize = sizeof(item_t);
        snprintf(m->name, sizeof m->name, "%s/%s", man->agents[s->agent].id, s->ms->sensor);
        if (m->kind == VXS_SOURCE_LIDAR) {
            if (s->dev_node[0] == SIZE_MAX) continue; /* no packet at all: nothing to match */
            m->clock = s->dev_node[0];
            m->fix = &p->fixes[s->agent];
            /* sweeps, and position packets for the agent's fixes (receiver poses) */
            st = vxs_source_rewind(s->src, VXS_REC_KIND_BIT(VXS_REC_LIDAR_SWEEP) |
                                               VXS_REC_KIND_BIT(VXS_REC_IMU));
        } else {
            m->clock = j->logger_node[s->agent];
            st = vxs_source_rewind(s->src, VXS_REC_KIND_BIT(VXS_REC_CAMERA_FRAME));
        }
        if (st != VXS_OK) goto rewind_failed;
        m->model = model_of(j, m->clock);
        p->tol[p->nm] = m->tol_ns;
        p->nm++;
        continue;
    rewind_failed:
        vxsi_fmt(j->err, sizeof j->err, "%s", vxs_source_errmsg(s->src));
        if (!j->err[0]) vxsi_fmt(j->err, sizeof j->err, "%s: %s", s->ms->path, vxs_strerror(st));
        return st;
    }
    if (p->nm > 0 && p->ms[0].src != (ref_src < n ? &j->srcs[ref_src] : NULL) &&
        !p->fixed_rate) {
        vxsi_fmt(j->err, sizeof j->err,
                 "%s: the reference sensor %s/%s has no records to cut frames on", man->name,
                 man->agents[man->ref_agent].id,
                 man->agents[man->ref_agent].sources[man->ref_source].sensor);
        return VXS_E_MALFORMED;
    }
    /* the run's streams: the members, in order */
    for (size_t k = 0; k < p->nm; k++) {
        const mstream_t *m = &p->ms[k];
        memcpy(j->stream_names[k], m->name, sizeof j->stream_names[k]);
        j->streams[k] = (vxs_frame_stream_t){(uint32_t)m->src->index,
                                             (uint32_t)m->src->agent,
                                             m->src->sensor_base,
                                             m->kind,
                                             j->stream_names[k],
                                             m->clock,
                                             m->tol_ns,
                                             k == 0 && !p->fixed_rate};
    }
    j->run.streams = j->streams;
    j->run.n_streams = p->nm;
    if (p->nm > 0 && p->fixed_rate) {
        /* stream 0 of the matcher is a clock of its own, ticking over the streams' span */
        memmove(p->ms + 1, p->ms, p->nm * sizeof *p->ms);
        memmove(p->tol + 1, p->tol, p->nm * sizeof *p->tol);
        memset(&p->ms[0], 0, sizeof p->ms[0]);
        p->ms[0].q.esize = sizeof(item_t);
        snprintf(p->ms[0].name, sizeof p->ms[0].name, "rate %.6g Hz", man->frames.rate_hz);
        p->nm++;
    }
    return VXS_OK;
}

/* ---- one frame ----------------------------------------------------------------------------- */

static vxs_status_t fetch_payload(void *user, vxs_buf_t *out, const vxs_record_t *rec) {
    vxs_job_t *j = user;
    if (rec->loc.source >= j->n_srcs) return VXS_E_ARG;
    return vxs_source_fetch(j->srcs[rec->loc.source].src, out, rec);
}

/* give builds the frame the matcher decided and hands it to every sink (T in range). */
static vxs_status_t give(pass_t *p, const vxs_match_frame_t *fr, uint64_t index, bool in_range,
                         int64_t window, vxs_frame_sink_t *const *sinks, size_t n_sinks) {
    vxs_job_t *j = p->j;
    const vxs_manifest_t *man = j->man;
    vxs_frame_t f;
    size_t nr = 0, nmem = 0;
    memset(&f, 0, sizeof f);
    f.index = index;
    f.t = fr->t;
    for (size_t k = 0; k < p->nm; k++) {
        mstream_t *m = &p->ms[k];
        if (p->fixed_rate && k == 0) continue;
        const vxs_member_t *mb = &fr->members[k];
        vxs_frame_member_t *e = &p->members[nmem++];
        memset(e, 0, sizeof *e);
        e->status = mb->status;
        const item_t *it = mb->t != VXS_TIME_NONE ? q_get(m, mb->id) : NULL;
        if (mb->status == VXS_MEMBER_OK && it) {
            e->record = &it->rec;
            e->item = it->index;
            e->t_local = it->t_local;
            e->t_ref = it->t_ref;
            e->piece = it->piece;
            e->dt_ns = mb->dt_ns;
            continue;
        }
        const bool set = mb->status == VXS_MEMBER_SET_BEYOND_TOLERANCE;
        e->t_local = VXS_TIME_NONE;
        e->t_ref = mb->t;
        e->dt_ns = mb->t != VXS_TIME_NONE ? mb->dt_ns : 0;
        if (mb->t != VXS_TIME_NONE)
            snprintf(m->reason, sizeof m->reason, "%s: %s (%s %.1f ms away, tolerance %.1f ms)",
                     m->name, vxs_member_status_name(mb->status),
                     set ? "set member" : "nearest", (double)mb->dt_ns / 1e6,
                     (double)m->tol_ns / 1e6);
        else
            snprintf(m->reason, sizeof m->reason, "%s: %s", m->name,
                     vxs_member_status_name(mb->status));
        e->reason = m->reason;
        p->reasons[nr++] = m->reason;
    }
    for (size_t fi = 0; fi < p->nv; fi++) {
        vfeed_t *F = &p->vf[fi];
        vxs_frame_v2x_t *v = &p->v2x[fi];
        const vxs_status_t ast = v2x_advance(p, F, fr->t, window);
        if (ast != VXS_OK) return ast;
        feed_pose(p, F, fr->t, v);
        if (p->sink_st != VXS_OK) return p->sink_st;
        F->n_msgs = 0;
        if (F->q.len > F->cap_msgs) {
            vxs_frame_msg_t *nmsgs = vxs_realloc(F->msgs, F->q.len * sizeof *nmsgs);
            if (!nmsgs) return VXS_E_NOMEM;
            F->msgs = nmsgs;
            F->cap_msgs = F->q.len;
        }
        for (size_t q = 0; q < F->q.len; q++) {
            const vxs_frame_msg_t *m = vxsi_ring_at(&F->q, q);
            /* captured out of order: the queue's head is not always the oldest */
            if (m->rx_ref <= fr->t - window || m->rx_ref > fr->t) continue;
            F->msgs[F->n_msgs] = *m;
            annotate_at(&F->msgs[F->n_msgs++], fr->t, &v->pose);
        }
        for (size_t l = 0; l < F->n_links; l++) {
            link_t *L = &F->links[l];
            vxs_frame_link_t *x = &F->flinks[l];
            x->sender_agent = L->sender_agent;
            x->station = L->station;
            const int64_t limit = L->dropout_ns > 0 ? L->dropout_ns : window;
            x->silent = L->last_rx == VXS_TIME_NONE || L->last_rx <= fr->t - limit;
            x->last_rx_ref = L->last_rx;
            x->has_aoi = L->newest_gen != VXS_TIME_NONE;
            x->aoi_ns = x->has_aoi ? fr->t - L->newest_gen : 0;
            x->reason = NULL;
            if (x->silent && L->dropout_ns > 0)
                snprintf(L->reason, sizeof L->reason,
                         "link %s -> %s silent: a dropout, no message received in the last "
                         "%.3f s (%g of its %.3f s intervals)",
                         agent_id(j, L->sender_agent), man->agents[F->src->agent].id,
                         (double)limit / 1e9, man->frames.v2x_dropout_intervals, L->interval_s);
            else if (x->silent)
                snprintf(L->reason, sizeof L->reason,
                         "link %s -> %s silent: no message received in the last %.3f s",
                         agent_id(j, L->sender_agent), man->agents[F->src->agent].id,
                         (double)window / 1e9);
            if (x->silent) {
                x->reason = L->reason;
                p->reasons[nr++] = L->reason;
            }
        }
        v->agent = (uint32_t)F->src->agent;
        v->source = (uint32_t)F->src->index;
        v->msgs = F->msgs;
        v->n_msgs = F->n_msgs;
        v->links = F->flinks;
        v->n_links = F->n_links;
    }
    f.members = p->members;
    f.n_members = nmem;
    f.v2x = p->v2x;
    f.n_v2x = p->nv;
    f.partial = nr > 0;
    f.reasons = p->reasons;
    f.n_reasons = nr;
    if (!in_range) return VXS_OK;
    const vxs_fetcher_t fetcher = {fetch_payload, j};
    for (size_t s = 0; s < n_sinks; s++) {
        const vxs_status_t st = vxs_frame_sink_frame(sinks[s], &f, &fetcher);
        if (st != VXS_OK) {
            vxsi_fmt(j->err, sizeof j->err, "%s", vxs_frame_sink_errmsg(sinks[s]));
            return st;
        }
    }
    j->sum.frames++;
    j->sum.partial_frames += f.partial;
    for (size_t fi = 0; fi < p->nv; fi++) j->sum.v2x_attached += p->vf[fi].n_msgs;
    return VXS_OK;
}

/* ---- the pass ------------------------------------------------------------------------------ */

static bool in_range(vxs_time_t t, vxs_time_t from, vxs_time_t to) {
    return (from == VXS_TIME_NONE || t >= from) && (to == VXS_TIME_NONE || t < to);
}

static vxs_status_t finish_all(vxs_job_t *j, vxs_frame_sink_t *const *sinks, size_t n_sinks) {
    for (size_t i = 0; i < j->sum.n_links; i++) {
        const lat_hist_t *h = &j->link_lat[i];
        vxs_link_report_t *r = &j->link_reports[i];
        r->latency_n = h->n;
        if (!h->n) continue;
        r->latency_min_ms = h->min_ns / 1e6;
        r->latency_p50_ms = vxsi_lat_quantile(h, 0.50);
        r->latency_p95_ms = vxsi_lat_quantile(h, 0.95);
        r->latency_p99_ms = vxsi_lat_quantile(h, 0.99);
        r->latency_max_ms = h->max_ns / 1e6;
        r->jitter_ms = h->n > 1 ? h->sum_abs_change_ns / (double)(h->n - 1) / 1e6 : 0.0;
    }
    j->sum.impossible_listed = j->impossible;
    j->sum.n_impossible_listed =
        j->sum.impossible < VXS_IMPOSSIBLE_LISTED ? (size_t)j->sum.impossible
                                                  : VXS_IMPOSSIBLE_LISTED;
    for (size_t s = 0; s < n_sinks; s++) {
        const vxs_status_t st = vxs_frame_sink_finish(sinks[s], &j->sum);
        if (st != VXS_OK) {
            vxsi_fmt(j->err, sizeof j->err, "%s", vxs_frame_sink_errmsg(sinks[s]));
            return st;
        }
    }
    return VXS_OK;
}

vxs_status_t vxsi_job_frame_pass(vxs_job_t *j, vxs_time_t t_from, vxs_time_t t_to,
                                 vxs_frame_sink_t *const *sinks, size_t n_sinks) {
    const vxs_manifest_t *man = j->man;
    const double t0 = now_s();
    pass_t p;
    vxs_status_t st;
    memset(&p, 0, sizeof p);
    p.j = j;
    j->quiet_diag = true;
    j->bytes_done = j->bytes_total / 2;
    j->run.t_from = t_from;
    j->run.t_to = t_to;
    if ((st = setup(&p)) != VXS_OK) {
        if (st == VXS_E_NOMEM) vxsi_fmt(j->err, sizeof j->err, "out of memory");
        goto done;
    }
    for (size_t s = 0; s < n_sinks; s++) {
        if ((st = vxs_frame_sink_begin(sinks[s], &j->run)) != VXS_OK) {
            vxsi_fmt(j->err, sizeof j->err, "%s", vxs_frame_sink_errmsg(sinks[s]));
            goto done;
        }
    }
    p.sinks = sinks;
    p.n_sinks = n_sinks;
    if (p.nm == 0) { /* V2X only: nothing to cut frames on; the messages and clocks are it */
        if ((st = v2x_drain(&p)) != VXS_OK) goto done;
        j->sum.seconds_frames = now_s() - t0;
        st = finish_all(j, sinks, n_sinks);
        goto done;
    }
    /* fixed rate: the span of every stream on the reference timeline */
    vxs_time_t t_first = VXS_TIME_NONE, t_last = VXS_TIME_NONE;
    if (p.fixed_rate) {
        for (size_t k = 1; k < p.nm; k++) {
            vxs_stream_summary_t sum;
            vxs_stream_stats_summarize(p.ms[k].src->period, &sum);
            const vxs_time_t a = vxs_clock_to_reference(p.ms[k].model, sum.min, NULL);
            const vxs_time_t b = vxs_clock_to_reference(p.ms[k].model, sum.max, NULL);
            if (a != VXS_TIME_NONE && (t_first == VXS_TIME_NONE || a < t_first)) t_first = a;
            if (b != VXS_TIME_NONE && (t_last == VXS_TIME_NONE || b > t_last)) t_last = b;
        }
    }
    p.tol[0] = 0;
    st = vxs_matcher_create(&p.mt, (vxs_match_policy_t)man->frames.match, p.nm, p.tol);
    if (st != VXS_OK) goto done;
    const int64_t window = j->run.v2x_window_ns;
    int64_t keep = window;
    for (size_t k = 0; k < p.nm; k++) keep = keep > 4 * p.tol[k] ? keep : 4 * p.tol[k];
    keep += 1000000000;
    uint64_t tick_n = 0, nref = 0, index = 0;
    const double period_ns = p.fixed_rate ? 1e9 / man->frames.rate_hz : 0;
    const jsrc_t *prog_src = p.ms[p.fixed_rate ? 1 : 0].src;
    bool ref_done = false, ended = false;
    while (!j->oom && !j->canceled) {
        /* one reference item, then every other stream until it is past T + tolerance */
        vxs_time_t T = VXS_TIME_NONE;
        if (!ref_done) {
            if (p.fixed_rate) {
                if (t_first == VXS_TIME_NONE ||
                    t_first + (vxs_time_t)llround(period_ns * (double)tick_n) > t_last) {
                    vxs_matcher_end(p.mt, 0);
                    ref_done = true;
                } else {
                    item_t it;
                    memset(&it, 0, sizeof it);
                    it.t_ref = it.t_local =
                        t_first + (vxs_time_t)llround(period_ns * (double)tick_n);
                    it.index = tick_n++;
                    if (vxsi_ring_append(&p.ms[0].q, &it) != VXS_OK ||
                        vxs_matcher_push(p.mt, 0, it.t_ref, p.ms[0].next_id++) != VXS_OK)
                        j->oom = true;
                    T = it.t_ref;
                }
            } else if (feed(j, p.mt, 0, &p.ms[0])) {
                T = p.ms[0].last_pushed;
            } else {
                ref_done = true;
            }
            if (!ref_done && (++nref & 15) == 0)
                vxsi_job_progress(j, vxs_source_position(prog_src->src, NULL));
        }
        for (size_t k = 1; k < p.nm && !ref_done; k++) {
            mstream_t *m = &p.ms[k];
            while (!m->eof && (m->last_pushed == VXS_TIME_NONE || m->last_pushed <= T + m->tol_ns))
                if (!feed(j, p.mt, k, m)) break;
        }
        vxs_match_frame_t fr;
        while (!j->oom && vxs_matcher_pop(p.mt, &fr)) {
            st = give(&p, &fr, index, in_range(fr.t, t_from, t_to), window, sinks, n_sinks);
            if (st != VXS_OK) goto done;
            index++;
            for (size_t k = 0; k < p.nm; k++) q_release(&p.ms[k], fr.t, keep);
        }
        if (ref_done) {
            if (ended) break;
            /* the last frames: every member it can have was fed (past its T + tolerance) */
            for (size_t k = 1; k < p.nm; k++)
                if (!p.ms[k].eof) {
                    vxs_matcher_end(p.mt, k);
                    p.ms[k].eof = true;
                }
            ended = true;
        }
    }
    if (j->oom) {
        vxsi_fmt(j->err, sizeof j->err, "out of memory in the frame pass");
        st = VXS_E_NOMEM;
        goto done;
    }
    if (j->canceled) {
        vxsi_fmt(j->err, sizeof j->err, "canceled");
        st = VXS_E_CANCELED;
        goto done;
    }
    if ((st = v2x_drain(&p)) != VXS_OK) goto done;
    j->sum.seconds_frames = now_s() - t0;
    st = finish_all(j, sinks, n_sinks);
done:
    pass_free(&p);
    return st;
}
