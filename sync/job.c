/*
 * job.c: the sync job (vxs_sync.h section 5) up to the clocks: opening the sources, the index
 * pass that turns records into a clock graph (nodes: clock domains; edges: offset series between
 * two of them), the solve, and the clock report every sink receives. The frame pass is in
 * frames.c.
 */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <stdlib.h>
#include <time.h>

#include "job_int.h"
#include "kin.h"

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

bool vxsi_job_grow(void **p, size_t *cap, size_t need, size_t elem) {
    if (need <= *cap) return true;
    size_t c = *cap ? *cap * 2 : 16;
    while (c < need) c *= 2;
    void *q = vxs_realloc(*p, c * elem);
    if (!q) return false;
    *p = q;
    *cap = c;
    return true;
}

/* ==== the clock graph ======================================================================= */

/* find_node returns the node of the domain, creating it; SIZE_MAX on no memory. */
static size_t find_node(vxs_job_t *j, vxs_clock_kind_t kind, int agent, uint32_t sensor,
                        uint64_t station, vxs_v2x_time_field_t field) {
    for (size_t i = 0; i < j->n_nodes; i++) {
        const node_t *n = &j->nodes[i];
        if (n->kind != kind) continue;
        if (kind == VXS_CLOCK_SENDER ? (n->station == station && n->field == field)
                                     : (n->agent == agent && n->sensor == sensor))
            return i;
    }
    if (!vxsi_job_grow((void **)&j->nodes, &j->cap_nodes, j->n_nodes + 1, sizeof *j->nodes)) {
        j->oom = true;
        return SIZE_MAX;
    }
    node_t *n = &j->nodes[j->n_nodes];
    memset(n, 0, sizeof *n);
    n->kind = kind;
    n->agent = agent;
    n->sensor = sensor;
    n->station = station;
    n->field = field;
    return j->n_nodes++;
}

static size_t find_edge(vxs_job_t *j, size_t src, size_t dst, vxs_delay_class_t delay) {
    for (size_t i = 0; i < j->n_edges; i++)
        if (j->edges[i].src == src && j->edges[i].dst == dst && j->edges[i].delay == delay)
            return i;
    if (!vxsi_job_grow((void **)&j->edges, &j->cap_edges, j->n_edges + 1, sizeof *j->edges)) {
        j->oom = true;
        return SIZE_MAX;
    }
    edge_t *e = &j->edges[j->n_edges];
    memset(e, 0, sizeof *e);
    e->src = src;
    e->dst = dst;
    e->delay = delay;
    if (vxs_series_create(&e->series, NULL) != VXS_OK) {
        j->oom = true;
        return SIZE_MAX;
    }
    return j->n_edges++;
}

static void add_sample(vxs_job_t *j, size_t e, vxs_time_t x, vxs_time_t capture) {
    if (e == SIZE_MAX || x == VXS_TIME_NONE || capture == VXS_TIME_NONE) return;
    if (vxs_series_add(j->edges[e].series, x, capture - x) == VXS_E_NOMEM) j->oom = true;
}

static void note_owner(vxs_job_t *j, uint64_t station, int agent) {
    for (size_t i = 0; i < j->n_owners; i++)
        if (j->owners[i].station == station) return;
    if (!vxsi_job_grow((void **)&j->owners, &j->cap_owners, j->n_owners + 1, sizeof *j->owners)) {
        j->oom = true;
        return;
    }
    j->owners[j->n_owners++] = (owner_t){station, agent};
}

int vxsi_job_owner_of(const vxs_job_t *j, uint64_t station) {
    for (size_t i = 0; i < j->n_owners; i++)
        if (j->owners[i].station == station) return j->owners[i].agent;
    return -1;
}

static void note_heard(vxs_job_t *j, size_t agent, uint64_t station) {
    for (size_t i = 0; i < j->n_heard; i++)
        if (j->heard[i].agent == agent && j->heard[i].station == station) {
            j->heard[i].count++;
            return;
        }
    if (!vxsi_job_grow((void **)&j->heard, &j->cap_heard, j->n_heard + 1, sizeof *j->heard)) {
        j->oom = true;
        return;
    }
    j->heard[j->n_heard++] = (heard_t){agent, station, 1};
}

size_t vxsi_job_sender_node(const vxs_job_t *j, uint64_t station, vxs_v2x_time_field_t field) {
    for (size_t i = 0; i < j->n_nodes; i++)
        if (j->nodes[i].kind == VXS_CLOCK_SENDER && j->nodes[i].station == station &&
            j->nodes[i].field == field)
            return i;
    return SIZE_MAX;
}

/* ==== sources, diagnostics, progress ======================================================== */

/* utf8_cut drops a UTF-8 character that cutting s to its buffer left incomplete at its end (a
 * file name in a message), so the message stays valid text for the JSON written from it */
static void utf8_cut(char *s) {
    size_t n = strlen(s), k = n;
    while (k > 0 && ((unsigned char)s[k - 1] & 0xC0) == 0x80) k--;
    if (k == 0) return;
    const unsigned char lead = (unsigned char)s[k - 1];
    const size_t want = lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : lead >= 0xC0 ? 2 : 1;
    if (lead >= 0x80 && n - (k - 1) < want) s[k - 1] = '\0';
}

/* job_diag counts one bad unit of its source and passes it on (the index pass only: the frame
 * pass meets the same units again). */
static void job_diag(void *user, const vxs_diag_t *d) {
    jsrc_t *s = user;
    vxs_job_t *j = s->job;
    if (j->quiet_diag) return;
    j->sum.damaged_units++;
    s->bad++;
    if (s->n_damaged < VXS_DAMAGE_LISTED) {
        if (!s->damaged) s->damaged = vxs_calloc(VXS_DAMAGE_LISTED, sizeof *s->damaged);
        if (s->damaged) {
            vxs_damage_t *x = &s->damaged[s->n_damaged++];
            x->unit = d->unit;
            x->offset = d->offset;
            x->status = d->status;
            snprintf(x->msg, sizeof x->msg, "%s", d->msg ? d->msg : "");
            utf8_cut(x->msg);
        } else {
            j->oom = true;
        }
    }
    vxs_diag_emit(j->opt.diag, d);
}

void vxsi_job_progress(vxs_job_t *j, uint64_t pos) {
    if (vxs_progress_report(&j->opt.progress, j->bytes_done + pos, j->bytes_total) != VXS_OK)
        j->canceled = true;
}

void vxs_job_options_init(vxs_job_options_t *o) {
    if (o) memset(o, 0, sizeof *o);
}

vxs_status_t vxs_job_create(vxs_job_t **out, const vxs_manifest_t *man,
                            const vxs_job_options_t *o, char *err, size_t err_len) {
    vxs_job_t *j;
    vxs_source_ref_t *order = NULL;
    vxs_status_t st = VXS_E_NOMEM;
    if (err && err_len) err[0] = '\0';
    VXS_RETURN_IF(!out, VXS_E_ARG);
    *out = NULL;
    if (!man || !o || !o->open_source) {
        vxsi_fmt(err, err_len, "a job needs a manifest and a source opener");
        return VXS_E_ARG;
    }
    j = vxs_calloc(1, sizeof *j);
    if (!j) return VXS_E_NOMEM;
    j->opt = *o;
    j->man = man;
    j->t_first = VXS_TIME_NONE;
    j->epoch = VXS_TIME_NONE;
    const size_t n = vxs_manifest_source_count(man);
    j->srcs = vxs_calloc(n ? n : 1, sizeof *j->srcs);
    j->run_srcs = vxs_calloc(n ? n : 1, sizeof *j->run_srcs);
    j->logger_node = vxs_calloc(man->n_agents ? man->n_agents : 1, sizeof *j->logger_node);
    j->agent_first = vxs_calloc(man->n_agents ? man->n_agents : 1, sizeof *j->agent_first);
    order = vxs_calloc(n ? n : 1, sizeof *order);
    if (!j->srcs || !j->run_srcs || !j->logger_node || !j->agent_first || !order) goto fail;
    for (size_t a = 0; a < man->n_agents; a++) j->agent_first[a] = VXS_TIME_NONE;
    /* each agent's logger clock first, in manifest order (the names sort them later) */
    for (size_t a = 0; a < man->n_agents; a++) {
        const size_t v = find_node(j, VXS_CLOCK_LOGGER, (int)a, 0, 0, VXS_V2X_TF_NONE);
        if (v == SIZE_MAX) goto fail;
        snprintf(j->nodes[v].name, sizeof j->nodes[v].name, "%s/logger", man->agents[a].id);
        j->logger_node[a] = v;
    }
    /* sources in the order of (agent id, sensor id): locators, sensor numbers and output do not
     * depend on the order the manifest lists them in */
    vxs_manifest_source_order(man, order);
    for (size_t i = 0; i < n; i++) {
        jsrc_t *s = &j->srcs[i];
        s->job = j;
        s->index = i;
        s->agent = order[i].agent;
        s->ms = &man->agents[order[i].agent].sources[order[i].source];
        s->sensor_base = (uint32_t)i * VXS_STREAMS_PER_SOURCE;
        s->diag = (vxs_diag_sink_t){job_diag, s};
        for (int q = 0; q < JOB_STREAMS; q++) s->dev_node[q] = s->dev_edge[q] = SIZE_MAX;
        if (vxs_stream_stats_create(&s->period) != VXS_OK) goto fail;
        j->n_srcs++;
        st = o->open_source(o->open_user, &s->src, man, order[i], (uint32_t)i, &s->diag, err,
                            err_len);
        if (st != VXS_OK) {
            if (err && err_len && !err[0]) vxsi_fmt(err, err_len, "%s: %s", s->ms->path,
                                                    vxs_strerror(st));
            goto fail;
        }
        (void)vxs_source_position(s->src, &s->size);
        j->bytes_total += 2 * s->size;
    }
    vxs_free(order);
    *out = j;
    return VXS_OK;
fail:
    if (st == VXS_E_NOMEM && err && err_len && !err[0]) vxsi_fmt(err, err_len, "out of memory");
    vxs_free(order);
    vxs_job_destroy(j);
    return st;
}

void vxs_job_destroy(vxs_job_t *j) {
    if (!j) return;
    for (size_t e = 0; e < j->n_edges; e++) vxs_series_destroy(j->edges[e].series);
    for (size_t i = 0; i < j->n_srcs; i++) {
        vxs_stream_stats_destroy(j->srcs[i].period);
        vxs_free(j->srcs[i].damaged);
        vxs_source_destroy(j->srcs[i].src);
    }
    vxs_free(j->edges);
    vxs_free(j->nodes);
    vxs_free(j->srcs);
    vxs_free(j->run_srcs);
    vxs_free(j->resid);
    vxs_free(j->logger_node);
    vxs_free(j->agent_first);
    vxs_free(j->res);
    vxs_free(j->eres);
    vxs_free(j->owners);
    vxs_free(j->heard);
    vxs_free(j->links);
    vxs_free(j->link_reports);
    vxs_free(j->link_lat);
    vxs_free(j->clocks);
    vxs_free(j->rels);
    vxs_free(j->pairs);
    vxs_free(j->streams);
    vxs_free(j->stream_names);
    vxs_free(j);
}

/* ==== the index pass ======================================================================= */

/* lidar_packet samples one LiDAR data packet: its stream's device clock against the logger. */
static void lidar_packet(vxs_job_t *j, jsrc_t *s, const vxs_record_t *rec) {
    const uint32_t k = rec->sensor - s->sensor_base;
    if (rec->sensor < s->sensor_base || k >= JOB_STREAMS) return;
    if (s->dev_edge[k] == SIZE_MAX) {
        const size_t dev =
            find_node(j, VXS_CLOCK_DEVICE, (int)s->agent, rec->sensor, 0, VXS_V2X_TF_NONE);
        if (dev == SIZE_MAX) return;
        node_t *n = &j->nodes[dev];
        if (k == 0)
            snprintf(n->name, sizeof n->name, "%s/%s", j->man->agents[s->agent].id,
                     s->ms->sensor);
        else
            snprintf(n->name, sizeof n->name, "%s/%s#%u", j->man->agents[s->agent].id,
                     s->ms->sensor, k);
        if (s->ms->clock.gps_locked) {
            n->anchored = true;
            n->hint = "gps_locked";
        }
        if (s->ms->clock.has_offset) {
            n->has_offset = true;
            n->offset_ns = s->ms->clock.offset_ns;
            n->hint = "offset_ns";
        }
        s->dev_node[k] = dev;
        s->dev_edge[k] = find_edge(j, dev, j->logger_node[s->agent], VXS_DELAY_WIRE);
        if (s->dev_edge[k] == SIZE_MAX) return;
    }
    add_sample(j, s->dev_edge[k], rec->device_time, rec->capture_time);
}

static size_t sender_node(vxs_job_t *j, const vxs_record_t *rec) {
    const size_t v = find_node(j, VXS_CLOCK_SENDER, -1, 0, rec->device_clock.station,
                               rec->device_clock.field);
    if (v != SIZE_MAX && j->nodes[v].name[0] == '\0') {
        node_t *n = &j->nodes[v];
        /* GNSS-timed generation: ETSI and SAE stacks take it from the GNSS receiver; used as
         * an anchor and checked against the other paths (vxs_clock_solve). */
        n->anchored = true;
        n->hint = "gnss";
        snprintf(n->name, sizeof n->name, "sender:%" PRIu64 "/%s", n->station,
                 vxs_v2x_time_field_name(n->field));
    }
    return v;
}

/* J2735 DSRCmsgIDs whose msgCnt steps with every message of a sender that names itself (BSM,
 * PSM). MAP's and TIM's count revisions of their content, and SPaT, MAP and TIM carry no
 * sender id: not counted. */
#define J2735_BSM 20
#define J2735_PSM 32

#define OWN_POS_MAX_AGE_NS (2 * VXS_NS_PER_S) /* a receiver's own position this old is used */

/* rx_distance returns how far the receiving agent was from where the message says its sender
 * is (horizontal, m; NaN when either end is unknown): the receiver's fixed pose, else the last
 * position it sent itself within OWN_POS_MAX_AGE_NS of the reception. */
static double rx_distance(const vxs_job_t *j, const jsrc_t *s, const vxs_record_t *rec) {
    const vxs_v2x_summary_t *v = &rec->u.v2x;
    const vxs_manifest_geo_t *pose = &j->man->agents[s->agent].pose;
    double lat, lon;
    if (!v->has_position || isnan(v->lat_deg) || isnan(v->lon_deg)) return NAN;
    if (pose->present) {
        lat = pose->lat_deg;
        lon = pose->lon_deg;
    } else if (s->has_own && rec->capture_time != VXS_TIME_NONE &&
               llabs(rec->capture_time - s->own_capture) <= OWN_POS_MAX_AGE_NS) {
        lat = s->own_lat;
        lon = s->own_lon;
    } else {
        return NAN;
    }
    vxsi_enu_t e;
    double p[3];
    vxsi_enu_init(&e, lat, lon, 0.0);
    vxsi_enu_from_geo(&e, v->lat_deg, v->lon_deg, 0.0, p);
    return hypot(p[0], p[1]);
}

/* counted_type says how a received message is counted on its link: by its counter (a BSM's or
 * PSM's msgCnt counts the sender's messages of that type: 1; a DENM's actionID sequenceNumber
 * counts its sender's events, whose repetitions share it and its referenceTime: 3, so a
 * repetition is a duplicate and a lost event one no repetition of which arrived), by
 * generation times (an ETSI CAM, VAM or CPM numbers nothing: 2), or not at all (0: MAP's and
 * TIM's msgCnt count revisions; SPaT, MAP and TIM name no sender). */
static int counted_type(const vxs_record_t *rec) {
    const vxs_v2x_summary_t *v = &rec->u.v2x;
    if (v->sent) return 0;
    if (v->protocol == VXS_V2X_PROTO_J2735)
        return rec->has_seq && (v->msg_type == J2735_BSM || v->msg_type == J2735_PSM) ? 1 : 0;
    if (v->protocol == VXS_V2X_PROTO_ETSI && v->msg_type == VXS_ETSI_DENM && rec->has_seq)
        return 3;
    if (v->protocol == VXS_V2X_PROTO_ETSI && rec->device_time != VXS_TIME_NONE &&
        rec->device_clock.field != VXS_V2X_TF_ITS_TIME &&
        (v->msg_type == VXS_ETSI_CAM || v->msg_type == VXS_ETSI_VAM || v->msg_type == VXS_ETSI_CPM))
        return 2;
    return 0;
}

/* count_link gives a received message its link's account (counted_type). */
static void count_link(vxs_job_t *j, jsrc_t *s, const vxs_record_t *rec) {
    const vxs_v2x_summary_t *v = &rec->u.v2x;
    const int how = counted_type(rec);
    if (!how) return;
    const uint64_t station = rec->device_clock.station;
    jlink_t *L = NULL;
    for (size_t i = j->n_links; i-- > 0;)
        if (j->links[i].src == s->index && j->links[i].station == station &&
            j->links[i].protocol == v->protocol && j->links[i].msg_type == v->msg_type) {
            L = &j->links[i];
            break;
        }
    if (!L) {
        if (!vxsi_job_grow((void **)&j->links, &j->cap_links, j->n_links + 1, sizeof *j->links)) {
            j->oom = true;
            return;
        }
        L = &j->links[j->n_links++];
        memset(L, 0, sizeof *L);
        L->src = s->index;
        L->station = station;
        L->protocol = v->protocol;
        L->msg_type = v->msg_type;
        L->first_rx = L->last_rx = VXS_TIME_NONE;
        L->first_gen = L->last_gen = VXS_TIME_NONE;
        L->field = rec->device_clock.field;
        vxs_link_init(&L->acc, how == 3 ? 65536 : 128); /* sequenceNumber: 0..65535 */
    }
    const double dist = rx_distance(j, s, rec);
    const vxs_link_event_t ev =
        how != 2 ? vxs_link_add_at(&L->acc, (int64_t)rec->seq, rec->device_time, dist)
                 : vxs_link_add_inferred(&L->acc, rec->device_time, dist);
    if (ev == VXS_LINK_BAD) return;
    const vxs_time_t g = rec->device_time;
    if (g != VXS_TIME_NONE) {
        if (L->first_gen == VXS_TIME_NONE || g < L->first_gen) L->first_gen = g;
        if (L->last_gen == VXS_TIME_NONE || g > L->last_gen) L->last_gen = g;
    }
    const vxs_time_t c = rec->capture_time;
    if (c == VXS_TIME_NONE) return;
    /* a silence longer than so many of the sender's intervals: a dropout */
    const double gap_s = L->last_rx == VXS_TIME_NONE ? 0 : (double)(c - L->last_rx) * 1e-9;
    if (L->acc.interval_s > 0 && gap_s > j->man->frames.v2x_dropout_intervals * L->acc.interval_s) {
        if (L->n_dropout_listed < VXS_LINK_DROPOUTS_LISTED)
            L->dropout_listed[L->n_dropout_listed++] = (vxs_link_dropout_t){L->last_rx, c};
        L->dropouts++;
        L->dropout_total_s += gap_s;
        if (gap_s > L->dropout_longest_s) L->dropout_longest_s = gap_s;
    }
    if (L->first_rx == VXS_TIME_NONE) L->first_rx = c;
    if (L->last_rx == VXS_TIME_NONE || c > L->last_rx) L->last_rx = c;
}

/* note_fix keeps a source's earliest position fix; one with an altitude beats one without. */
static void note_fix(jsrc_t *s, const vxs_record_t *rec, double lat, double lon, double alt) {
    if (isnan(lat) || isnan(lon) || rec->capture_time == VXS_TIME_NONE) return;
    const bool has_alt = !isnan(alt);
    if (s->has_fix && (s->fix_has_alt > has_alt ||
                       (s->fix_has_alt == has_alt && s->fix_capture <= rec->capture_time)))
        return;
    s->has_fix = true;
    s->fix_has_alt = has_alt;
    s->fix_lat = lat;
    s->fix_lon = lon;
    s->fix_alt = has_alt ? alt : 0.0;
    s->fix_capture = rec->capture_time;
    s->fix_record = rec->loc.index + 1;
}

/* out_of_range reports a message kept without a field whose value its standard does not
 * allow: counted (summary v2x_out_of_range) and named with its position, as a bad unit is, but
 * the message is not skipped. */
static void out_of_range(vxs_job_t *j, jsrc_t *s, const vxs_record_t *rec) {
    const vxs_v2x_summary_t *v = &rec->u.v2x;
    char msg[600];
    j->sum.v2x_out_of_range++;
    vxsi_fmt(msg, sizeof msg,
             "%s: record %" PRIu64 " (byte offset %" PRIu64 "): %s: %s out of range%s; the "
             "message is kept without %s",
             s->ms->path, rec->loc.index + 1, rec->loc.offset,
             vxs_v2x_type_name(v->protocol, v->msg_type), v->out_of_range_field,
             v->out_of_range > 1 ? " (and more fields)" : "",
             v->out_of_range > 1 ? "them" : "it");
    const vxs_diag_t d = {s->ms->path, rec->loc.index + 1, rec->loc.offset, VXS_E_MALFORMED, msg};
    vxs_diag_emit(j->opt.diag, &d);
}

static void v2x_message(vxs_job_t *j, jsrc_t *s, const vxs_record_t *rec) {
    s->records++;
    if (vxs_stream_stats_add(s->period, rec->capture_time, s->records) == VXS_E_NOMEM)
        j->oom = true;
    if (rec->u.v2x.out_of_range) out_of_range(j, s, rec);
    if (rec->u.v2x.has_position) {
        note_fix(s, rec, rec->u.v2x.lat_deg, rec->u.v2x.lon_deg, rec->u.v2x.elev_m);
        const vxs_v2x_summary_t *v = &rec->u.v2x;
        const bool own_pos = v->protocol == VXS_V2X_PROTO_J2735
                                 ? v->msg_type == J2735_BSM || v->msg_type == J2735_PSM
                                 : v->msg_type == VXS_ETSI_CAM || v->msg_type == VXS_ETSI_VAM ||
                                       v->msg_type == VXS_ETSI_CPM;
        /* where the agent is: a message giving its sender's position (not a DENM's event, a
         * MAP's intersection) */
        if (v->sent && own_pos && rec->capture_time != VXS_TIME_NONE) {
            s->has_own = true;
            s->own_lat = rec->u.v2x.lat_deg;
            s->own_lon = rec->u.v2x.lon_deg;
            s->own_capture = rec->capture_time;
        }
    }
    count_link(j, s, rec);
    if (rec->device_time == VXS_TIME_NONE || rec->capture_time == VXS_TIME_NONE) return;
    const size_t v = sender_node(j, rec);
    if (v == SIZE_MAX) return;
    const bool sent = rec->u.v2x.sent;
    if (sent)
        note_owner(j, rec->device_clock.station, (int)s->agent);
    else
        note_heard(j, s->agent, rec->device_clock.station);
    /* DENM and CPM referenceTime is the event's time, repeated unchanged by every repetition:
     * not a transmission time, so it says nothing about the clocks */
    if (rec->device_clock.field == VXS_V2X_TF_ITS_TIME) return;
    const size_t e = find_edge(j, v, j->logger_node[s->agent],
                               sent ? VXS_DELAY_TX_LOG : VXS_DELAY_AIR);
    add_sample(j, e, rec->device_time, rec->capture_time);
}

static void index_record(vxs_job_t *j, jsrc_t *s, const vxs_record_t *rec) {
    const vxs_time_t c = rec->capture_time;
    if (c != VXS_TIME_NONE) {
        if (j->t_first == VXS_TIME_NONE || c < j->t_first) j->t_first = c;
        vxs_time_t *af = &j->agent_first[s->agent];
        if (*af == VXS_TIME_NONE || c < *af) *af = c;
    }
    switch (rec->kind) {
    case VXS_REC_LIDAR_PACKET: lidar_packet(j, s, rec); break;
    case VXS_REC_IMU:
        note_fix(s, rec, rec->u.imu.lat_deg, rec->u.imu.lon_deg, NAN);
        if (rec->u.imu.pps != 0xFF && rec->sensor == s->sensor_base) {
            s->pps_seen++;
            s->pps_locked += rec->u.imu.pps == 2;
        }
        break;
    case VXS_REC_LIDAR_SWEEP:
        if (rec->sensor != s->sensor_base) break;
        s->records++;
        if (vxs_stream_stats_add(s->period, rec->device_time, s->records) == VXS_E_NOMEM)
            j->oom = true;
        break;
    case VXS_REC_CAMERA_FRAME: {
        s->records++;
        const vxs_time_t t =
            rec->capture_time != VXS_TIME_NONE ? rec->capture_time : rec->device_time;
        if (vxs_stream_stats_add(s->period, t, s->records) == VXS_E_NOMEM) j->oom = true;
        break;
    }
    case VXS_REC_V2X: v2x_message(j, s, rec); break;
    default: break;
    }
}

vxs_status_t vxs_job_index(vxs_job_t *j) {
    VXS_RETURN_IF(!j, VXS_E_ARG);
    if (j->stage != STAGE_NEW) {
        vxsi_fmt(j->err, sizeof j->err, "the index pass has already run");
        return VXS_E_STATE;
    }
    const double t0 = now_s();
    for (size_t i = 0; i < j->n_srcs && !j->oom && !j->canceled; i++) {
        jsrc_t *s = &j->srcs[i];
        const vxs_record_t *rec;
        uint64_t n = 0;
        /* errors end the source and were reported to its diag sink (the rule on bad units) */
        while (vxs_source_next(s->src, &rec) == VXS_OK) {
            index_record(j, s, rec);
            if ((++n & 1023) == 0) {
                vxsi_job_progress(j, vxs_source_position(s->src, NULL));
                if (j->canceled || j->oom) break;
            }
        }
        j->bytes_done += s->size;
        vxsi_job_progress(j, 0);
    }
    j->sum.seconds_index = now_s() - t0;
    if (j->oom) {
        vxsi_fmt(j->err, sizeof j->err, "out of memory in the index pass");
        return VXS_E_NOMEM;
    }
    if (j->canceled) {
        vxsi_fmt(j->err, sizeof j->err, "canceled");
        return VXS_E_CANCELED;
    }
    for (size_t i = 0; i < j->n_links; i++) vxs_link_finish(&j->links[i].acc);
    j->stage = STAGE_INDEXED;
    return VXS_OK;
}

/* ==== the solve ============================================================================= */

/* whole_second_at_or_after rounds `t` up to a whole second. */
static vxs_time_t whole_second_at_or_after(vxs_time_t t) {
    const vxs_time_t r = (t % 1000000000 + 1000000000) % 1000000000;
    return r ? t + (1000000000 - r) : t;
}

/* move_epoch re-expresses every solved model at the epoch `e` (the models are the same
 * functions: offset_k += drift (e - old epoch)), and the relations' fits with it. */
static void move_epoch(vxs_job_t *j, vxs_time_t e) {
    const double d = (double)(e - j->epoch);
    for (size_t i = 0; i < j->n_nodes; i++) {
        vxs_clock_result_t *r = &j->res[i];
        for (size_t k = 0; k < r->model.n_pieces; k++)
            r->model.pieces[k].offset_ns +=
                (r->model.drift + r->model.pieces[k].drift_delta) * d;
        r->model.epoch = e;
        r->offset_sd_ns = sqrt(r->offset_sd_ns * r->offset_sd_ns + d * d * r->drift_sd * r->drift_sd);
    }
    for (size_t k = 0; k < j->n_edges; k++) {
        vxs_series_fit_t *f = &j->edges[k].fit;
        for (size_t p = 0; p < f->n_pieces; p++) {
            vxs_series_piece_t *pc = &f->pieces[p];
            pc->offset_ns += pc->slope * d;
            pc->offset_sd_ns = sqrt(pc->offset_sd_ns * pc->offset_sd_ns + d * d * pc->slope_sd * pc->slope_sd);
        }
        if (f->n_pieces) f->x0 = e;
    }
    j->epoch = e;
}

/* STEP_MARGIN_NS widens a step's span when refitting: the samples on either side were captured
 * with their delays, so the step's instant is known a little less well than the gap says. */
#define STEP_MARGIN_NS (5 * VXS_NS_PER_MS)
/* RATE_BIN_NS: the envelope points a clock's changes of rate are found from are each relation's
 * lowest sample per this much reference time. */
#define RATE_BIN_NS VXS_NS_PER_S
/* RATE_STEP_GUARD_NS: no change of rate is looked for this near a step of the same clock. */
#define RATE_STEP_GUARD_NS (VXS_NS_PER_S / 2)
/* RATE_REFINE_NS: how far a change found on the bins is placed again on the windows near it. */
#define RATE_REFINE_NS (1.5e9)

/* refit_with_steps fits every relation touching a stepped clock, or a clock whose rate changes,
 * again with that clock's steps and changes of rate, as all its relations together located
 * them (a sparse relation may have missed a step, or seen two as one): a span around each step
 * of the destination is left out, and the series is cut at every change of rate of either end
 * (vxs_series_fit_cut), each segment getting its own slope. Returns 1 when a relation was
 * fitted again, 0 when none, -1 when out of memory. */
static int refit_with_steps(vxs_job_t *j, const vxs_clock_node_t *cn) {
    int any = 0;
    for (size_t e = 0; e < j->n_edges; e++) {
        edge_t *E = &j->edges[e];
        const vxs_clock_model_t *md = &j->res[E->dst].model, *ms = &j->res[E->src].model;
        if (vxs_series_count(E->series) < 2) continue;
        vxs_time_t lo[VXS_CLOCK_MAX_PIECES], hi[VXS_CLOCK_MAX_PIECES];
        size_t n = 0;
        for (size_t k = 1; k < md->n_pieces; k++) {
            /* a piece for a change of rate alone is no step */
            if (md->pieces[k].from_span_ns == 0 && fabs(vxs_clock_piece_step(md, k)) < 1.0)
                continue;
            const int64_t half = md->pieces[k].from_span_ns / 2 + STEP_MARGIN_NS;
            lo[n] = vxs_clock_to_local(ms, md->pieces[k].from_ref - half);
            hi[n] = vxs_clock_to_local(ms, md->pieces[k].from_ref + half);
            if (n > 0 && lo[n] <= hi[n - 1]) { /* overlapping spans: one */
                hi[n - 1] = hi[n];
                continue;
            }
            n++;
        }
        /* the changes of rate of both ends, as readings of the source, in order */
        vxs_time_t cuts[2 * VXS_RATE_CHANGES_MAX];
        size_t nc = 0;
        for (int end = 0; end < 2; end++) {
            const vxs_clock_node_t *v = &cn[end ? E->dst : E->src];
            for (size_t k = 0; k < v->n_rates; k++) {
                const vxs_time_t c = vxs_clock_to_local(ms, v->rate_at[k]);
                size_t i = nc++;
                for (; i > 0 && cuts[i - 1] > c; i--) cuts[i] = cuts[i - 1];
                cuts[i] = c;
            }
        }
        size_t w = 0;
        for (size_t i = 0; i < nc; i++)
            if (w == 0 || cuts[i] > cuts[w - 1]) cuts[w++] = cuts[i];
        nc = w;
        vxs_series_fit_t f;
        if (n == 0 && nc == 0) {
            /* nothing to leave out or cut (any more): the series' own fit */
            if (!E->refit) continue;
            if (vxs_series_fit(E->series, j->epoch, &f) != VXS_OK) memset(&f, 0, sizeof f);
            E->fit = f;
            E->refit = false;
            any = 1;
            continue;
        }
        const vxs_status_t st = vxs_series_fit_cut(E->series, j->epoch, lo, hi, n, cuts, nc, &f);
        if (st == VXS_E_NOMEM) return -1;
        if (st != VXS_OK) continue; /* too few samples clear of the steps: the old fit stays */
        E->fit = f;
        E->refit = true;
        any = 1;
    }
    return any;
}

/* rate_bin_t is one window's lowest sample as find_rate_changes bins it. */
typedef struct {
    int64_t bin;  /* (reference time - epoch) / RATE_BIN_NS */
    size_t piece; /* the relation's fitted piece that holds it */
    bool bad;
    double t, r;  /* as a vxs_rate_point_t */
} rate_bin_t;

/* near_step says whether reference time t is within RATE_STEP_GUARD_NS of a step of the model
 * (a step's neighbourhood is left to the step: the windows around it straddle two pieces). */
static bool near_step(const vxs_clock_model_t *m, vxs_time_t t) {
    for (size_t k = 1; k < m->n_pieces; k++)
        if ((m->pieces[k].from_span_ns > 0 || fabs(vxs_clock_piece_step(m, k)) >= 1.0) &&
            llabs(t - m->pieces[k].from_ref) < RATE_STEP_GUARD_NS + m->pieces[k].from_span_ns / 2)
            return true;
    return false;
}

/* find_rate_changes looks for changes of every logger's and sender's rate (NTP slewing it, or correcting its
 * frequency) in the envelope of all its relations at once: each window's lowest sample less its
 * relation's fitted piece, at the reference time the current models give it (vxs_rate_changes).
 * Anchored clocks and clocks with a known offset are taken as given. Returns how many changes
 * were found in all (cn[v].n_rates, rate_at set), -1 when out of memory. */
static int find_rate_changes(vxs_job_t *j, vxs_clock_node_t *cn) {
    int total = 0;
    for (size_t v = 0; v < j->n_nodes; v++) {
        cn[v].n_rates = 0;
        const node_t *N = &j->nodes[v];
        if ((N->kind != VXS_CLOCK_LOGGER && N->kind != VXS_CLOCK_SENDER) || N->anchored ||
            N->has_offset)
            continue;
        size_t n_pts = 0, n_raw = 0, cap = 0;
        vxs_rate_point_t *pts = NULL, *raw = NULL; /* binned; every good window */
        uint32_t groups = 0;
        for (size_t e = 0; e < j->n_edges; e++) {
            const edge_t *E = &j->edges[e];
            if ((E->dst != v && E->src != v) || E->fit.n_pieces == 0) continue;
            vxs_series_point_t *mp = NULL;
            size_t m = 0;
            if (vxs_series_minima(E->series, &mp, &m) != VXS_OK) {
                vxs_free(pts);
                vxs_free(raw);
                return -1;
            }
            rate_bin_t *bins = m >= 4 ? vxs_calloc(m, sizeof *bins) : NULL;
            if (m < 4 || !bins) {
                vxs_free(mp);
                if (m < 4) continue;
                vxs_free(pts);
                vxs_free(raw);
                return -1;
            }
            if (n_raw + m > cap) { /* n_pts <= n_raw */
                const size_t nc = (n_raw + m) * 2;
                vxs_rate_point_t *np = vxs_realloc(pts, nc * sizeof *np);
                if (np) pts = np;
                vxs_rate_point_t *nr = np ? vxs_realloc(raw, nc * sizeof *nr) : NULL;
                if (nr) raw = nr;
                if (!np || !nr) {
                    vxs_free(mp);
                    vxs_free(bins);
                    vxs_free(pts);
                    vxs_free(raw);
                    return -1;
                }
                cap = nc;
            }
            /* y = destination reading - source reading: a bend of the source shows inverted.
             * A window's lowest sample is still one message's latency where messages are
             * sparse; the envelope is the lowest over RATE_BIN_NS of one piece, so the points
             * are those bins' lowest (a bin crossing a step, or a window in a step's span or
             * beyond the pieces, gives none). */
            const double sign = E->dst == v ? 1.0 : -1.0;
            const vxs_clock_model_t *ms = &j->res[E->src].model;
            /* each window: its bin, piece and residual, or bad (in a step's span or
             * neighbourhood, beyond the pieces) */
            for (size_t i = 0; i < m; i++) {
                const size_t k = vxs_series_piece_at(&E->fit, mp[i].x);
                const vxs_series_piece_t *p = &E->fit.pieces[k];
                const vxs_time_t t = vxs_clock_to_reference(ms, mp[i].x, NULL);
                const bool bad = mp[i].x < p->x_start || mp[i].x > p->x_end ||
                                 t == VXS_TIME_NONE || near_step(&j->res[v].model, t);
                bins[i] = (rate_bin_t){
                    t == VXS_TIME_NONE ? INT64_MIN : (t - j->epoch) / RATE_BIN_NS, k, bad,
                    t == VXS_TIME_NONE ? 0.0 : (double)(t - j->epoch) / 1e9,
                    sign * ((double)mp[i].y - p->offset_ns -
                            p->slope * (double)(mp[i].x - E->fit.x0))};
                if (!bad)
                    raw[n_raw++] = (vxs_rate_point_t){bins[i].t, bins[i].r, groups,
                                                      (uint32_t)k};
            }
            /* a bin's lowest point (the lower envelope of y), when none of its windows is bad
             * and all are on one piece */
            for (size_t i = 0; i < m;) {
                size_t q = i + 1, lo = i;
                bool bad = bins[i].bad;
                for (; q < m && bins[q].bin == bins[i].bin; q++) {
                    bad |= bins[q].bad || bins[q].piece != bins[i].piece;
                    if (sign * bins[q].r < sign * bins[lo].r) lo = q;
                }
                if (!bad)
                    pts[n_pts++] = (vxs_rate_point_t){bins[lo].t, bins[lo].r, groups,
                                                      (uint32_t)bins[lo].piece};
                i = q;
            }
            vxs_free(bins);
            groups++;
            vxs_free(mp);
        }
        vxs_rate_change_t ch[VXS_RATE_CHANGES_MAX];
        size_t nch = 0;
        vxs_status_t st = groups ? vxs_rate_changes(pts, n_pts, groups, NULL, ch, &nch) : VXS_OK;
        /* each change placed again on every window near it (the bins place it to within their
         * second): one change looked for among the windows between its neighbours, within
         * RATE_REFINE_NS of it */
        for (size_t k = 0; st == VXS_OK && k < nch; k++) {
            const double lo = fmax(ch[k].t - RATE_REFINE_NS / 1e9,
                                   k ? (ch[k - 1].t + ch[k].t) / 2 : -INFINITY);
            const double hi = fmin(ch[k].t + RATE_REFINE_NS / 1e9,
                                   k + 1 < nch ? (ch[k].t + ch[k + 1].t) / 2 : INFINITY);
            size_t n = 0;
            for (size_t i = 0; i < n_raw; i++)
                if (raw[i].t >= lo && raw[i].t <= hi) pts[n++] = raw[i];
            vxs_rate_opts_t o;
            vxs_rate_opts_init(&o);
            o.min_gain = 1.0;
            o.min_effect_ns = 0.0;
            o.max_changes = 1;
            vxs_rate_change_t one;
            size_t n1 = 0;
            st = vxs_rate_changes(pts, n, groups, &o, &one, &n1);
            if (st == VXS_OK && n1 == 1 && fabs(one.t - ch[k].t) < RATE_REFINE_NS / 1e9)
                ch[k].t = one.t;
            if (st != VXS_E_NOMEM) st = VXS_OK;
        }
        vxs_free(pts);
        vxs_free(raw);
        if (st == VXS_E_NOMEM) return -1;
        if (st != VXS_OK) continue;
        for (size_t k = 0; k < nch && k < VXS_RATE_CHANGES_MAX; k++) {
            const vxs_time_t at = j->epoch + (vxs_time_t)llround(ch[k].t * 1e9);
            if (near_step(&j->res[v].model, at)) continue;
            /* the model's pieces: the first, every jump, every change of rate */
            if (1 + j->res[v].jumps + cn[v].n_rates + 1 > VXS_CLOCK_MAX_PIECES) break;
            if (cn[v].n_rates && at <= cn[v].rate_at[cn[v].n_rates - 1]) continue;
            cn[v].rate_at[cn[v].n_rates++] = at;
            total++;
        }
    }
    return total;
}

/* sort_graph puts the nodes in the order of their names and the edges in the order of (from,
 * to, class), so the solve and every output do not depend on the order sources were read in. */
static vxs_status_t sort_graph(vxs_job_t *j) {
    size_t *perm = vxs_calloc(j->n_nodes, sizeof *perm), *inv = vxs_calloc(j->n_nodes, sizeof *inv);
    node_t *sorted = vxs_calloc(j->n_nodes, sizeof *sorted);
    if (!perm || !inv || !sorted) {
        vxs_free(perm);
        vxs_free(inv);
        vxs_free(sorted);
        return VXS_E_NOMEM;
    }
    for (size_t i = 0; i < j->n_nodes; i++) perm[i] = i;
    for (size_t a = 1; a < j->n_nodes; a++)
        for (size_t b = a; b > 0 && strcmp(j->nodes[perm[b - 1]].name, j->nodes[perm[b]].name) > 0;
             b--) {
            const size_t t = perm[b];
            perm[b] = perm[b - 1];
            perm[b - 1] = t;
        }
    for (size_t i = 0; i < j->n_nodes; i++) {
        sorted[i] = j->nodes[perm[i]];
        inv[perm[i]] = i;
    }
    memcpy(j->nodes, sorted, j->n_nodes * sizeof *sorted);
    for (size_t e = 0; e < j->n_edges; e++) {
        j->edges[e].src = inv[j->edges[e].src];
        j->edges[e].dst = inv[j->edges[e].dst];
    }
    for (size_t a = 0; a < j->man->n_agents; a++) j->logger_node[a] = inv[j->logger_node[a]];
    for (size_t i = 0; i < j->n_srcs; i++)
        for (int q = 0; q < JOB_STREAMS; q++)
            if (j->srcs[i].dev_node[q] != SIZE_MAX)
                j->srcs[i].dev_node[q] = inv[j->srcs[i].dev_node[q]];
    vxs_free(perm);
    vxs_free(inv);
    vxs_free(sorted);
    for (size_t a = 1; a < j->n_edges; a++)
        for (size_t b = a; b > 0; b--) {
            const edge_t *x = &j->edges[b - 1], *y = &j->edges[b];
            int c = strcmp(j->nodes[x->src].name, j->nodes[y->src].name);
            if (!c) c = strcmp(j->nodes[x->dst].name, j->nodes[y->dst].name);
            if (!c) c = (int)x->delay - (int)y->delay;
            if (c <= 0) break;
            const edge_t t = j->edges[b];
            j->edges[b] = j->edges[b - 1];
            j->edges[b - 1] = t;
        }
    for (size_t i = 0; i < j->n_srcs; i++)
        for (int q = 0; q < JOB_STREAMS; q++) j->srcs[i].dev_edge[q] = SIZE_MAX; /* stale */
    return VXS_OK;
}

/* one_way returns the envelope offset of (b's capture - a's own tx log) through a sender of a
 * heard by both: fit(sender -> logger b, AIR) - fit(sender -> logger a, TX_LOG). */
static bool one_way(const vxs_job_t *j, size_t a, size_t b, double *out) {
    bool have = false;
    for (size_t e = 0; e < j->n_edges; e++) {
        const edge_t *rx = &j->edges[e];
        if (rx->delay != VXS_DELAY_AIR || rx->dst != j->logger_node[b] || !rx->fit.n_pieces)
            continue;
        if (j->nodes[rx->src].agent != (int)a) continue;
        for (size_t f = 0; f < j->n_edges; f++) {
            const edge_t *tx = &j->edges[f];
            if (tx->delay != VXS_DELAY_TX_LOG || tx->src != rx->src ||
                tx->dst != j->logger_node[a] || !tx->fit.n_pieces)
                continue;
            const double v = rx->fit.pieces[0].offset_ns - tx->fit.pieces[0].offset_ns;
            if (!have || v < *out) *out = v;
            have = true;
        }
    }
    return have;
}

/* build_report turns the solved graph into the clock report (vxs_frame.h). */
static int cmp_link(const void *a, const void *b) {
    const vxs_link_report_t *x = a, *y = b;
    if (x->source != y->source) return x->source < y->source ? -1 : 1;
    if (x->station != y->station) return x->station < y->station ? -1 : 1;
    return (x->msg_type > y->msg_type) - (x->msg_type < y->msg_type);
}

/* link_reports gives the summary every counted link (its sender named now that owners are
 * known), in the order of (source, station, type). */
static vxs_status_t link_reports(vxs_job_t *j) {
    if (!j->n_links) return VXS_OK;
    j->link_reports = vxs_calloc(j->n_links, sizeof *j->link_reports);
    j->link_lat = vxs_calloc(j->n_links, sizeof *j->link_lat);
    if (!j->link_reports || !j->link_lat) return VXS_E_NOMEM;
    for (size_t i = 0; i < j->n_links; i++) {
        const jlink_t *L = &j->links[i];
        const vxs_link_t *a = &L->acc;
        vxs_link_report_t *r = &j->link_reports[i];
        memset(r, 0, sizeof *r); /* latency: the frame pass's */
        r->source = (uint32_t)L->src;
        r->agent = (uint32_t)j->srcs[L->src].agent;
        r->sender_agent = vxsi_job_owner_of(j, L->station);
        r->station = L->station;
        r->protocol = L->protocol;
        r->msg_type = L->msg_type;
        r->counter = a->inferred                      ? "interval"
                     : L->msg_type == VXS_ETSI_DENM &&
                             L->protocol == VXS_V2X_PROTO_ETSI ? "sequenceNumber"
                                                               : "msgCnt";
        r->inferred = a->inferred;
        r->first_rx = L->first_rx;
        r->last_rx = L->last_rx;
        r->first_gen = L->first_gen;
        r->last_gen = L->last_gen;
        r->received = a->received;
        r->delivered = a->delivered;
        r->duplicates = a->duplicates;
        r->reordered = a->reordered;
        r->stale = a->stale;
        r->reused = a->reused;
        r->lost = a->lost;
        r->sent = a->sent;
        r->longest_burst = a->longest_burst;
        r->interval_s = a->interval_s;
        r->dropouts = L->dropouts;
        r->dropout_total_s = L->dropout_total_s;
        r->dropout_longest_s = L->dropout_longest_s;
        r->n_dropout_listed = L->n_dropout_listed;
        memcpy(r->dist_sent, a->dist_sent, sizeof r->dist_sent);
        memcpy(r->dist_delivered, a->dist_delivered, sizeof r->dist_delivered);
        memcpy(r->time_sent, a->time_sent, sizeof r->time_sent);
        memcpy(r->time_delivered, a->time_delivered, sizeof r->time_delivered);
        r->time_bin_ns = a->time_bin_ns;
        for (size_t k = 0; k < VXS_LINK_TIME_BINS; k++)
            if (a->time_sent[k]) r->n_time_bins = k + 1;
        /* the bins' start on the reference timeline, through the sender's clock */
        const size_t sn = vxsi_job_sender_node(j, L->station, L->field);
        r->time_t0 = a->time_t0 == VXS_TIME_NONE || sn == SIZE_MAX
                         ? a->time_t0
                         : vxs_clock_to_reference(&j->res[sn].model, a->time_t0, NULL);
        memcpy(r->bursts, a->bursts, sizeof r->bursts);
        /* the dropouts on the reference timeline, through the receiver's logger clock */
        const vxs_clock_model_t *lm = &j->res[j->logger_node[j->srcs[L->src].agent]].model;
        for (size_t k = 0; k < L->n_dropout_listed; k++)
            r->dropout_listed[k] = (vxs_link_dropout_t){
                vxs_clock_to_reference(lm, L->dropout_listed[k].start, NULL),
                vxs_clock_to_reference(lm, L->dropout_listed[k].end, NULL)};
    }
    qsort(j->link_reports, j->n_links, sizeof *j->link_reports, cmp_link);
    j->sum.links = j->link_reports;
    j->sum.n_links = j->n_links;
    return VXS_OK;
}

/* relation_resid fills the residual series of relation e (VXS_RELATION_RESID_MAX points at most
 * in `out`): the fit's windows in runs of ceil(windows / MAX) consecutive ones, each point the
 * lowest window of its run, against the relation's own line and against the solved models. */
static vxs_status_t relation_resid(const vxs_job_t *j, size_t e, vxs_relation_resid_t *out,
                                   size_t *n_out) {
    const edge_t *E = &j->edges[e];
    const vxs_series_fit_t *f = &E->fit;
    *n_out = 0;
    if (f->n_pieces == 0) return VXS_OK;
    vxs_series_point_t *mp = NULL;
    size_t m = 0;
    VXS_FORWARD(vxs_series_minima(E->series, &mp, &m));
    const size_t run = (m + VXS_RELATION_RESID_MAX - 1) / VXS_RELATION_RESID_MAX;
    const vxs_clock_model_t *a = &j->res[E->src].model, *b = &j->res[E->dst].model;
    const double floor_ns = j->eres[e].floor_ns;
    vxs_clock_cursor_t cur = {0};
    size_t n = 0;
    for (size_t i = 0; i < m; i += run) {
        size_t lo = i;
        const size_t end = i + run < m ? i + run : m;
        for (size_t k = i + 1; k < end; k++)
            if (mp[k].y < mp[lo].y) lo = k;
        const vxs_series_point_t *p = &mp[lo];
        const vxs_series_piece_t *pc = &f->pieces[vxs_series_piece_at(f, p->x)];
        const vxs_time_t t = vxs_clock_to_reference(a, p->x, &cur);
        const vxs_time_t dst = t != VXS_TIME_NONE ? vxs_clock_to_local(b, t) : VXS_TIME_NONE;
        out[n] = (vxs_relation_resid_t){
            .x = p->x,
            .t_ref = t,
            .fit_ns = (double)p->y - (pc->offset_ns + pc->slope * (double)(p->x - f->x0)),
            .model_ns = dst != VXS_TIME_NONE ? (double)p->y - ((double)(dst - p->x) + floor_ns)
                                             : NAN,
            .windows = (uint32_t)(end - i)};
        n++;
    }
    vxs_free(mp);
    *n_out = n;
    return VXS_OK;
}

static vxs_status_t build_report(vxs_job_t *j) {
    VXS_FORWARD(link_reports(j));
    const size_t na = j->man->n_agents;
    j->clocks = vxs_calloc(j->n_nodes ? j->n_nodes : 1, sizeof *j->clocks);
    j->rels = vxs_calloc(j->n_edges ? j->n_edges : 1, sizeof *j->rels);
    j->pairs = vxs_calloc(na * na / 2 + 1, sizeof *j->pairs);
    j->resid = vxs_calloc((j->n_edges ? j->n_edges : 1) * VXS_RELATION_RESID_MAX,
                          sizeof *j->resid);
    size_t *ord = vxs_calloc(na ? na : 1, sizeof *ord);
    if (!j->clocks || !j->rels || !j->pairs || !j->resid || !ord) {
        vxs_free(ord);
        return VXS_E_NOMEM;
    }
    for (size_t i = 0; i < j->n_nodes; i++) {
        const node_t *n = &j->nodes[i];
        vxs_clock_info_t *c = &j->clocks[i];
        c->name = n->name;
        c->kind = n->kind;
        c->agent = n->agent;
        c->sensor = n->sensor;
        c->station = n->station;
        c->field = n->field;
        c->hint = n->hint;
        c->has_offset = n->has_offset;
        c->offset_ns = n->offset_ns;
        c->est = j->res[i];
    }
    for (size_t e = 0; e < j->n_edges; e++) {
        const edge_t *E = &j->edges[e];
        const vxs_series_fit_t *f = &E->fit;
        vxs_clock_relation_t *r = &j->rels[e];
        r->from = E->src;
        r->to = E->dst;
        r->delay = E->delay;
        r->samples = vxs_series_count(E->series);
        r->windows = f->windows;
        r->windows_below = f->windows_below;
        r->windows_above = f->windows_above;
        r->n_pieces = f->n_pieces;
        for (size_t k = 0; k < f->n_pieces; k++) {
            const vxs_series_piece_t *p = &f->pieces[k];
            r->pieces[k] = (vxs_relation_piece_t){p->x_start,  p->x_end,           p->offset_ns,
                                                  p->slope,    p->samples,         p->inliers,
                                                  p->resid_median_ns, p->offset_sd_ns,
                                                  p->slope_sd};
        }
        const vxs_clock_edge_result_t *er = &j->eres[e];
        r->floor_ns = er->floor_ns;
        r->floor_sd_ns = er->floor_sd_ns;
        r->floor_measured = er->measured;
        r->floor_clamped = er->clamped;
        /* what the solved models say the envelope should be at the epoch, minus what it is */
        if (f->n_pieces) {
            const vxs_clock_result_t *a = &j->res[E->src], *b = &j->res[E->dst];
            const double pred = b->model.pieces[0].offset_ns - a->model.pieces[0].offset_ns +
                                er->floor_ns - f->pieces[0].slope * a->model.pieces[0].offset_ns;
            r->has_residual = true;
            r->residual_ns = f->pieces[0].offset_ns - pred;
        }
        vxs_relation_resid_t *rs = &j->resid[e * VXS_RELATION_RESID_MAX];
        const vxs_status_t st = relation_resid(j, e, rs, &r->n_resid);
        if (st != VXS_OK) {
            vxs_free(ord);
            return st;
        }
        r->resid = rs;
    }
    /* two-way pairs, agents in the order of their ids */
    for (size_t i = 0; i < na; i++) ord[i] = i;
    for (size_t x = 1; x < na; x++)
        for (size_t y = x; y > 0 && strcmp(j->man->agents[ord[y - 1]].id,
                                           j->man->agents[ord[y]].id) > 0; y--) {
            const size_t t = ord[y];
            ord[y] = ord[y - 1];
            ord[y - 1] = t;
        }
    for (size_t ia = 0; ia < na; ia++)
        for (size_t ib = ia + 1; ib < na; ib++) {
            const size_t a = ord[ia], b = ord[ib];
            double ab, ba;
            if (!one_way(j, a, b, &ab) || !one_way(j, b, a, &ba)) continue;
            const double solved = j->res[j->logger_node[b]].model.pieces[0].offset_ns -
                                  j->res[j->logger_node[a]].model.pieces[0].offset_ns;
            j->pairs[j->n_pairs++] =
                (vxs_clock_pair_t){(uint32_t)a, (uint32_t)b, (ab - ba) / 2, (ab + ba) / 2, solved};
        }
    vxs_free(ord);
    vxs_clock_report_t *R = &j->report;
    R->epoch = j->epoch;
    R->clocks = j->clocks;
    R->n_clocks = j->n_nodes;
    R->reference_clock = j->sol.reference_node;
    R->hints_rejected = j->sol.hints_rejected;
    for (int c = 0; c < VXS_DELAY_CLASSES; c++) {
        R->delay_ns[c] = j->sol.delay_ns[c];
        R->delay_sd_ns[c] = j->sol.delay_sd_ns[c];
        R->delay_used[c] = j->sol.delay_used[c];
        R->floors_measured[c] = j->sol.floors_measured[c];
    }
    R->relations = j->rels;
    R->n_relations = j->n_edges;
    R->pairs = j->pairs;
    R->n_pairs = j->n_pairs;
    for (size_t i = 0; i < j->n_srcs; i++) {
        const jsrc_t *s = &j->srcs[i];
        vxs_run_source_t *r = &j->run_srcs[i];
        memset(r, 0, sizeof *r);
        r->agent = (uint32_t)s->agent;
        r->ms = s->ms;
        r->records = s->records;
        r->bad_units = s->bad;
        switch (s->ms->kind) {
        case VXS_SOURCE_LIDAR: r->timing_of = "sweep device time"; break;
        case VXS_SOURCE_CAMERA: r->timing_of = "frame capture time"; break;
        case VXS_SOURCE_V2X: r->timing_of = "message capture time"; break;
        default: break;
        }
        vxs_stream_stats_summarize(s->period, &r->timing);
        r->n_gaps = vxs_stream_stats_largest_gaps(s->period, r->gaps, VXS_STREAM_TOP_GAPS);
        r->damaged = s->damaged;
        r->n_damaged = s->n_damaged;
    }
    vxs_run_info_t *run = &j->run;
    run->manifest = j->man;
    run->sources = j->run_srcs;
    run->n_sources = j->n_srcs;
    run->clocks = R;
    run->v2x_window_ns = (int64_t)llround(j->man->frames.v2x_window_ms * 1e6);
    run->fixed_rate = j->man->frames.policy == VXS_FRAMES_FIXED_RATE;
    run->t_from = run->t_to = VXS_TIME_NONE;
    return VXS_OK;
}

/* solve_rate_changes: see vxs_job_solve. j->res, eres and sol hold the solve without changes of
 * rate on entry and the accepted solve on return. */
static vxs_status_t solve_rate_changes(vxs_job_t *j, vxs_clock_node_t *cn,
                                       const vxs_clock_edge_t *ce, size_t fallback) {
    const int nr = find_rate_changes(j, cn);
    if (nr < 0) return VXS_E_NOMEM;
    if (nr == 0) return VXS_OK;
    const size_t nn = j->n_nodes, ne = j->n_edges ? j->n_edges : 1;
    vxs_clock_node_t *found = vxs_calloc(nn, sizeof *found);
    vxs_clock_result_t *res = vxs_calloc(nn, sizeof *res);
    vxs_clock_edge_result_t *eres = vxs_calloc(ne, sizeof *eres);
    vxs_series_fit_t *fits = NULL;
    bool *refit = NULL;
    vxs_status_t st = VXS_OK;
    if (!found || !res || !eres) {
        st = VXS_E_NOMEM;
        goto done;
    }
    memcpy(found, cn, nn * sizeof *cn);
    /* the accepted fits, restored when a trial is not kept */
    fits = vxs_calloc(ne, sizeof *fits);
    refit = vxs_calloc(ne, sizeof *refit);
    if (!fits || !refit) {
        st = VXS_E_NOMEM;
        goto done;
    }
    for (size_t v = 0; v < nn; v++) cn[v].n_rates = 0;
    /* the accepted solve so far */
    memcpy(res, j->res, nn * sizeof *res);
    memcpy(eres, j->eres, j->n_edges * sizeof *eres);
    vxs_clock_solution_t sol = j->sol;
    for (size_t v = 0; v < nn; v++) {
        if (!found[v].n_rates) continue;
        for (size_t e = 0; e < j->n_edges; e++) {
            fits[e] = j->edges[e].fit;
            refit[e] = j->edges[e].refit;
        }
        cn[v].n_rates = found[v].n_rates;
        memcpy(cn[v].rate_at, found[v].rate_at, sizeof cn[v].rate_at);
        const int r = refit_with_steps(j, cn);
        if (r < 0) {
            st = VXS_E_NOMEM;
            goto done;
        }
        st = vxs_clock_solve(cn, nn, ce, j->n_edges, j->epoch, fallback, j->res, j->eres, &j->sol);
        if (st == VXS_E_NOMEM) goto done;
        if (st == VXS_OK && j->sol.hints_rejected <= sol.hints_rejected) {
            memcpy(res, j->res, nn * sizeof *res);
            memcpy(eres, j->eres, j->n_edges * sizeof *eres);
            sol = j->sol;
        } else {
            j->sum.rate_changes_dropped += (uint32_t)cn[v].n_rates;
            cn[v].n_rates = 0;
            memcpy(j->res, res, nn * sizeof *res);
            memcpy(j->eres, eres, j->n_edges * sizeof *eres);
            j->sol = sol;
            for (size_t e = 0; e < j->n_edges; e++) {
                j->edges[e].fit = fits[e];
                j->edges[e].refit = refit[e];
            }
        }
        st = VXS_OK;
    }
done:
    vxs_free(fits);
    vxs_free(refit);
    vxs_free(found);
    vxs_free(res);
    vxs_free(eres);
    return st;
}

vxs_status_t vxs_job_solve(vxs_job_t *j) {
    VXS_RETURN_IF(!j, VXS_E_ARG);
    if (j->stage != STAGE_INDEXED) {
        vxsi_fmt(j->err, sizeof j->err, "the clocks are solved once, after the index pass");
        return VXS_E_STATE;
    }
    const double t0 = now_s();
    /* Senders owned by an agent get named after it. */
    for (size_t i = 0; i < j->n_nodes; i++) {
        node_t *n = &j->nodes[i];
        if (n->kind != VXS_CLOCK_SENDER) continue;
        n->agent = vxsi_job_owner_of(j, n->station);
        if (n->agent >= 0)
            snprintf(n->name, sizeof n->name, "sender:%s/%" PRIu64 "/%s",
                     j->man->agents[n->agent].id, n->station, vxs_v2x_time_field_name(n->field));
    }
    if (sort_graph(j) != VXS_OK) goto oom;
    /* A provisional epoch near the drive: the first whole second of the earliest capture time
     * (loggers are within seconds of true time; a free-running device clock may be hours off).
     * The models are moved to the final one once solved. */
    j->epoch = whole_second_at_or_after(j->t_first == VXS_TIME_NONE ? 0 : j->t_first);
    for (size_t e = 0; e < j->n_edges; e++) {
        edge_t *E = &j->edges[e];
        if (vxs_series_count(E->series) < 2 ||
            vxs_series_fit(E->series, j->epoch, &E->fit) != VXS_OK)
            memset(&E->fit, 0, sizeof E->fit);
    }
    vxs_clock_node_t *cn = vxs_calloc(j->n_nodes ? j->n_nodes : 1, sizeof *cn);
    vxs_clock_edge_t *ce = vxs_calloc(j->n_edges ? j->n_edges : 1, sizeof *ce);
    j->res = vxs_calloc(j->n_nodes ? j->n_nodes : 1, sizeof *j->res);
    j->eres = vxs_calloc(j->n_edges ? j->n_edges : 1, sizeof *j->eres);
    if (!cn || !ce || !j->res || !j->eres) {
        vxs_free(cn);
        vxs_free(ce);
        goto oom;
    }
    for (size_t i = 0; i < j->n_nodes; i++)
        cn[i] = (vxs_clock_node_t){j->nodes[i].name, j->nodes[i].anchored,
                                   j->nodes[i].has_offset, j->nodes[i].offset_ns, 0, {0}};
    for (size_t e = 0; e < j->n_edges; e++) {
        const node_t *src = &j->nodes[j->edges[e].src];
        /* 1609.2 generationTime counts µs; every other V2X time field ms; LiDARs ns */
        const double res =
            src->kind != VXS_CLOCK_SENDER ? 0.0 : vxs_v2x_time_field_resolution_ns(src->field);
        ce[e] = (vxs_clock_edge_t){j->edges[e].src, j->edges[e].dst, j->edges[e].delay,
                                   &j->edges[e].fit, res};
    }
    const size_t fallback = j->logger_node[j->man->ref_agent];
    vxs_status_t st = vxs_clock_solve(cn, j->n_nodes, ce, j->n_edges, j->epoch, fallback,
                                      j->res, j->eres, &j->sol);
    /* Every relation of a stepped clock is fitted again with the clock's steps, as all its
     * relations together located them (a sparse relation may have missed one, or seen two as
     * one), and the clocks solved again. */
    if (st == VXS_OK) {
        const int r = refit_with_steps(j, cn);
        if (r < 0) st = VXS_E_NOMEM;
        if (r > 0)
            st = vxs_clock_solve(cn, j->n_nodes, ce, j->n_edges, j->epoch, fallback, j->res,
                                 j->eres, &j->sol);
    }
    /* Then the clocks' changes of rate, found in the envelope of all their relations less
     * their fits. They are taken one clock at a time: the relations touching it are fitted again
     * with a slope per stretch and the clocks solved again with its changes as unknowns; a
     * clock's changes are kept only when that solve rejects no more hints than the solve
     * without them (changes that contradict the anchors are the detector's error, not the
     * clock's), otherwise the solve before stands. */
    if (st == VXS_OK) st = solve_rate_changes(j, cn, ce, fallback);
    vxs_free(cn);
    vxs_free(ce);
    if (st != VXS_OK) {
        vxsi_fmt(j->err, sizeof j->err, "clock solve: %s", vxs_strerror(st));
        return st;
    }
    /* The epoch: the first whole second of the drive on the reference timeline (each agent's
     * earliest capture through its logger's model). */
    vxs_time_t r_min = VXS_TIME_NONE;
    for (size_t a = 0; a < j->man->n_agents; a++) {
        if (j->agent_first[a] == VXS_TIME_NONE) continue;
        const vxs_time_t r =
            vxs_clock_to_reference(&j->res[j->logger_node[a]].model, j->agent_first[a], NULL);
        if (r != VXS_TIME_NONE && (r_min == VXS_TIME_NONE || r < r_min)) r_min = r;
    }
    if (r_min != VXS_TIME_NONE) move_epoch(j, whole_second_at_or_after(r_min));
    if (build_report(j) != VXS_OK) goto oom;
    /* The relations' samples are not needed past the solve (their counts and fits are in the
     * report): their windows, about 12 MB once a drive fills them, are released before the
     * frame pass opens its readers, so the two passes' peaks do not add up. */
    for (size_t e = 0; e < j->n_edges; e++) {
        vxs_series_destroy(j->edges[e].series);
        j->edges[e].series = NULL;
    }
    j->sum.seconds_clocks = now_s() - t0;
    j->stage = STAGE_SOLVED;
    return VXS_OK;
oom:
    vxsi_fmt(j->err, sizeof j->err, "out of memory in the clock solve");
    return VXS_E_NOMEM;
}

/* ==== accessors and the whole run ========================================================== */

const vxs_clock_report_t *vxs_job_clocks(const vxs_job_t *j) {
    return j && j->stage >= STAGE_SOLVED ? &j->report : NULL;
}

size_t vxs_job_clock_index(const vxs_job_t *j, const char *name) {
    for (size_t i = 0; j && name && j->stage >= STAGE_SOLVED && i < j->n_nodes; i++)
        if (strcmp(j->nodes[i].name, name) == 0) return i;
    return SIZE_MAX;
}

const vxs_run_info_t *vxs_job_run_info(const vxs_job_t *j) {
    return j && j->stage >= STAGE_SOLVED ? &j->run : NULL;
}

const vxs_run_summary_t *vxs_job_summary(const vxs_job_t *j) { return j ? &j->sum : NULL; }

const char *vxs_job_errmsg(const vxs_job_t *j) { return j ? j->err : ""; }

vxs_status_t vxs_job_frames(vxs_job_t *j, vxs_time_t t_from, vxs_time_t t_to,
                            vxs_frame_sink_t *const *sinks, size_t n_sinks) {
    VXS_RETURN_IF(!j || (n_sinks && !sinks), VXS_E_ARG);
    if (j->stage != STAGE_SOLVED) {
        vxsi_fmt(j->err, sizeof j->err, "the frame pass runs once, after the clock solve");
        return VXS_E_STATE;
    }
    j->stage = STAGE_FRAMED;
    return vxsi_job_frame_pass(j, t_from, t_to, sinks, n_sinks);
}

vxs_status_t vxs_job_run(vxs_job_t *j, vxs_frame_sink_t *const *sinks, size_t n_sinks) {
    VXS_FORWARD(vxs_job_index(j));
    VXS_FORWARD(vxs_job_solve(j));
    return vxs_job_frames(j, VXS_TIME_NONE, VXS_TIME_NONE, sinks, n_sinks);
}
