/*
 * cmd_sync.c: `v2xsync sync SCENARIO -o OUT` runs the whole job on a scenario manifest:
 *
 *   1. the index pass reads every source once with its reader: each LiDAR packet's device time
 *      against its capture time, each V2X message's generation time against its capture time
 *      (received: relation sender -> receiver's logger, class AIR; sent: sender -> own logger,
 *      class TX_LOG) go into offset series (sync/ "Offset series", bounded memory);
 *   2. the series are fitted and the clock solver (sync/ "Clock models") estimates every clock
 *      domain against the reference timeline, anchors and hints checked; pairs of agents whose
 *      messages flow both ways get their two-way offset and minimum latency;
 *   3. the frame pass reads the sources again, maps every record to the reference timeline and
 *      streams frames: the reference sensor's records (or a fixed rate) give T, the matcher
 *      (sync/ "Frame matching") picks each other sensor's member, and the V2X messages each
 *      agent received within the window before T are attached, with links gone silent marked.
 *
 * Output (README "v2xsync sync"): OUT/clocks.json and OUT/frames.jsonl, each written to a
 * temporary name and renamed into place when complete.
 */
#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "vxs_camera.h"
#include "vxs_lidar.h"
#include "vxs_manifest.h"
#include "vxs_sync.h"
#include "vxs_v2x.h"

enum { OPT_OUT = 1, OPT_FORCE, OPT_JSON, OPT_QUIET };

static const vxs_cli_opt_t sync_opts[] = {
    {"out", 'o', "DIR", "output folder (created; required unless the manifest gives export.out)",
     OPT_OUT},
    {"force", 'f', NULL, "replace clocks.json / frames.jsonl already in DIR", OPT_FORCE},
    {"json", 0, NULL, "print a JSON summary on stdout", OPT_JSON},
    {"quiet", 'q', NULL, "no progress bar on stderr", OPT_QUIET},
    {NULL, 0, NULL, NULL, 0}};

typedef struct {
    const char *out;
    bool force, json, quiet;
} sync_opts_t;

#define MAX_LIDAR_STREAMS 8   /* LiDAR streams per capture sampled for clocks */
#define MAX_IMPOSSIBLE_LISTED 20

/* ==== the job's state ======================================================================= */

typedef struct {
    char name[160];
    vxs_clock_kind_t kind;
    int agent;          /* logger, device: the recording agent; sender: its owner (-1 unknown) */
    uint32_t sensor;    /* device: the record's sensor number */
    uint64_t station;   /* sender */
    uint32_t layer;
    const char *hint;   /* "gps_locked", "gnss", "offset_ns" or NULL */
    bool anchored, has_offset;
    int64_t offset_ns;
} node_t;

typedef struct {
    size_t src, dst;
    vxs_delay_class_t delay;
    vxs_series_t *series;
    vxs_series_fit_t fit;
} edge_t;

typedef struct {
    size_t agent;
    const vxs_manifest_source_t *ms;
    uint32_t flat; /* index in the job (locators' source) */
    uint32_t sensor_base;
    uint64_t records, bad;
    vxs_stream_stats_t *period; /* record times: sweep device starts, frame capture times */
    uint64_t pps_seen, pps_locked;
    size_t dev_node[MAX_LIDAR_STREAMS]; /* SIZE_MAX: none yet */
    size_t dev_edge[MAX_LIDAR_STREAMS];
    char first_error[512];
} src_t;

typedef struct {
    uint64_t station;
    int agent;
} owner_t;

typedef struct {
    size_t agent;    /* receiving agent */
    uint64_t station;
    uint64_t count;
} heard_t;

typedef struct job job_t;
struct job {
    const sync_opts_t *o;
    vxs_manifest_t *man;
    src_t *srcs;
    size_t n_srcs;
    node_t *nodes;
    size_t n_nodes, cap_nodes;
    edge_t *edges;
    size_t n_edges, cap_edges;
    size_t *logger_node; /* per agent */
    vxs_clock_result_t *res;
    vxs_clock_solution_t sol;
    vxs_time_t epoch;
    owner_t *owners;
    size_t n_owners, cap_owners;
    heard_t *heard;
    size_t n_heard, cap_heard;
    vxs_cli_progress_t prog;
    uint64_t bytes_total, bytes_done;
    uint64_t bad_units;
    bool oom;
    src_t *cur_src;       /* the source being read (diag counting) */
    vxs_diag_sink_t diag; /* count_diag on this job, given to every reader */
    double t_index, t_solve, t_frames;
    vxs_time_t t_first; /* the earliest capture time sampled */
    /* frame pass results */
    uint64_t frames, partial_frames, v2x_attached, impossible, out_of_order;
    json_t *impossible_list;
};

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static bool grow(void **p, size_t *cap, size_t need, size_t elem) {
    if (need <= *cap) return true;
    size_t c = *cap ? *cap * 2 : 16;
    while (c < need) c *= 2;
    void *q = vxs_realloc(*p, c * elem);
    if (!q) return false;
    *p = q;
    *cap = c;
    return true;
}

static const char *layer_name(uint32_t layer) {
    static const char *const names[] = {"none", "1609.2", "generationDeltaTime", "secMark",
                                        "TimestampIts", "GN-TST"};
    return layer < 6 ? names[layer] : "unknown";
}

/* add_node returns the node index for the domain, creating it. SIZE_MAX on no memory. */
static size_t find_node(job_t *j, vxs_clock_kind_t kind, int agent, uint32_t sensor,
                        uint64_t station, uint32_t layer) {
    for (size_t i = 0; i < j->n_nodes; i++) {
        const node_t *n = &j->nodes[i];
        if (n->kind != kind) continue;
        if (kind == VXS_CLOCK_SENDER ? (n->station == station && n->layer == layer)
                                     : (n->agent == agent && n->sensor == sensor))
            return i;
    }
    if (!grow((void **)&j->nodes, &j->cap_nodes, j->n_nodes + 1, sizeof *j->nodes)) {
        j->oom = true;
        return SIZE_MAX;
    }
    node_t *n = &j->nodes[j->n_nodes];
    memset(n, 0, sizeof *n);
    n->kind = kind;
    n->agent = agent;
    n->sensor = sensor;
    n->station = station;
    n->layer = layer;
    return j->n_nodes++;
}

static size_t find_edge(job_t *j, size_t src, size_t dst, vxs_delay_class_t delay) {
    for (size_t i = 0; i < j->n_edges; i++)
        if (j->edges[i].src == src && j->edges[i].dst == dst && j->edges[i].delay == delay)
            return i;
    if (!grow((void **)&j->edges, &j->cap_edges, j->n_edges + 1, sizeof *j->edges)) {
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

static void add_sample(job_t *j, size_t e, vxs_time_t x, vxs_time_t capture) {
    if (e == SIZE_MAX || x == VXS_TIME_NONE || capture == VXS_TIME_NONE) return;
    if (j->t_first == VXS_TIME_NONE || capture < j->t_first) j->t_first = capture;
    if (vxs_series_add(j->edges[e].series, x, capture - x) == VXS_E_NOMEM) j->oom = true;
}

static void note_owner(job_t *j, uint64_t station, int agent) {
    for (size_t i = 0; i < j->n_owners; i++)
        if (j->owners[i].station == station) return;
    if (!grow((void **)&j->owners, &j->cap_owners, j->n_owners + 1, sizeof *j->owners)) {
        j->oom = true;
        return;
    }
    j->owners[j->n_owners++] = (owner_t){station, agent};
}

static int owner_of(const job_t *j, uint64_t station) {
    for (size_t i = 0; i < j->n_owners; i++)
        if (j->owners[i].station == station) return j->owners[i].agent;
    return -1;
}

static void note_heard(job_t *j, size_t agent, uint64_t station) {
    for (size_t i = 0; i < j->n_heard; i++)
        if (j->heard[i].agent == agent && j->heard[i].station == station) {
            j->heard[i].count++;
            return;
        }
    if (!grow((void **)&j->heard, &j->cap_heard, j->n_heard + 1, sizeof *j->heard)) {
        j->oom = true;
        return;
    }
    j->heard[j->n_heard++] = (heard_t){agent, station, 1};
}

static void count_diag(void *user, const vxs_diag_t *d) {
    job_t *j = user;
    j->bad_units++;
    if (j->cur_src) {
        if (j->cur_src->bad++ == 0)
            snprintf(j->cur_src->first_error, sizeof j->cur_src->first_error, "%s", d->msg);
    }
    if (!j->o->json) {
        vxs_cli_progress_end(&j->prog);
        fprintf(stderr, "v2xsync sync: %s\n", d->msg);
    }
}

static void progress(job_t *j, uint64_t pos) {
    vxs_cli_progress_fn(&j->prog, j->bytes_done + pos, j->bytes_total);
}

static uint64_t file_size(const char *path) {
    struct stat st;
    return stat(path, &st) == 0 ? (uint64_t)st.st_size : 0;
}

/* ==== opening sources ======================================================================= */

typedef struct {
    vxs_velo_calib_t calib;
    vxs_ouster_meta_t *meta;
} lidar_extra_t;

static vxs_status_t open_lidar(job_t *j, const src_t *s, vxs_lidar_t **out, lidar_extra_t *x,
                               void (*on_packet)(void *, uint32_t, vxs_time_t, vxs_time_t),
                               void *user, char *err, size_t err_len) {
    vxs_lidar_options_t o;
    vxs_lidar_options_init(&o);
    o.agent = (uint32_t)s->agent;
    o.sensor = s->sensor_base;
    o.source_index = s->flat;
    o.diag = &j->diag;
    o.on_packet = on_packet;
    o.on_packet_user = user;
    memset(x, 0, sizeof *x);
    if (s->ms->calibration) {
        vxs_status_t st = vxs_velo_calib_load(&x->calib, s->ms->calibration, err, err_len);
        if (st != VXS_OK) return st;
        o.velo_calib = &x->calib;
    }
    if (s->ms->metadata) {
        vxs_status_t st = vxs_ouster_meta_load(&x->meta, s->ms->metadata, err, err_len);
        if (st != VXS_OK) return st;
        o.ouster_meta = (const vxs_ouster_meta_t *const *)&x->meta;
        o.ouster_meta_count = 1;
    }
    vxs_status_t st = vxs_lidar_open(out, s->ms->path, &o, err, err_len);
    if (st != VXS_OK) vxs_ouster_meta_destroy(x->meta), x->meta = NULL;
    return st;
}

static vxs_status_t open_camera(job_t *j, const src_t *s, vxs_camera_t **out, char *err,
                                size_t err_len) {
    vxs_camera_options_t o;
    vxs_camera_options_init(&o);
    o.agent = (uint32_t)s->agent;
    o.sensor = s->sensor_base;
    o.source_index = s->flat;
    o.sidecar = s->ms->timestamps;
    o.creation = (vxs_cam_creation_t)s->ms->creation;
    o.diag = &j->diag;
    return vxs_camera_open(out, s->ms->path, &o, err, err_len);
}

static vxs_status_t open_v2x(job_t *j, const src_t *s, vxs_v2x_reader_t **out, char *err,
                             size_t err_len) {
    vxs_v2x_reader_options_t o;
    memset(&o, 0, sizeof o);
    o.agent = (uint32_t)s->agent;
    o.sensor = s->sensor_base;
    o.source_index = s->flat;
    o.format = (vxs_v2x_format_t)s->ms->v2x_format;
    o.own_station_id = s->ms->has_own_station_id ? (int64_t)s->ms->own_station_id : -1;
    o.own_macs = (const uint8_t(*)[6])s->ms->own_macs;
    o.n_own_macs = s->ms->n_own_macs;
    o.diag = &j->diag;
    return vxs_v2x_reader_open(out, s->ms->path, &o, err, err_len);
}

/* ==== pass 1: samples for the clocks ====================================================== */

typedef struct {
    job_t *j;
    src_t *s;
} packet_ctx_t;

static void on_packet(void *user, uint32_t sensor, vxs_time_t capture, vxs_time_t device) {
    packet_ctx_t *c = user;
    src_t *s = c->s;
    const uint32_t k = sensor - s->sensor_base;
    if (k >= MAX_LIDAR_STREAMS) return;
    if (s->dev_edge[k] == SIZE_MAX) {
        job_t *j = c->j;
        const size_t dev = find_node(j, VXS_CLOCK_DEVICE, (int)s->agent, sensor, 0, 0);
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
        s->dev_edge[k] = find_edge(j, dev, j->logger_node[s->agent], VXS_DELAY_NONE);
        if (s->dev_edge[k] == SIZE_MAX) return;
    }
    add_sample(c->j, s->dev_edge[k], device, capture);
}

static vxs_status_t index_lidar(job_t *j, src_t *s, char *err, size_t err_len) {
    packet_ctx_t ctx = {j, s};
    vxs_lidar_t *l = NULL;
    lidar_extra_t x;
    vxs_status_t st = open_lidar(j, s, &l, &x, on_packet, &ctx, err, err_len);
    if (st != VXS_OK) return st;
    const vxs_record_t *rec;
    uint64_t n = 0;
    while ((st = vxs_lidar_next(l, &rec)) == VXS_OK) {
        if ((++n & 63) == 0) progress(j, vxs_lidar_position(l, NULL));
        if (rec->kind == VXS_REC_IMU) {
            if (rec->u.imu.pps != 0xFF && rec->sensor == s->sensor_base) {
                s->pps_seen++;
                s->pps_locked += rec->u.imu.pps == 2;
            }
            continue;
        }
        if (rec->kind != VXS_REC_LIDAR_SWEEP || rec->sensor != s->sensor_base) continue;
        s->records++;
        vxs_stream_stats_add(s->period, rec->device_time, s->records);
    }
    if (st != VXS_EOF) {
        snprintf(err, err_len, "%s", vxs_lidar_errmsg(l));
        j->bad_units++;
        s->bad++;
    }
    vxs_lidar_close(l);
    vxs_ouster_meta_destroy(x.meta);
    return VXS_OK;
}

static vxs_status_t index_camera(job_t *j, src_t *s, char *err, size_t err_len) {
    vxs_camera_t *c = NULL;
    vxs_status_t st = open_camera(j, s, &c, err, err_len);
    if (st != VXS_OK) return st;
    const vxs_record_t *rec;
    while ((st = vxs_camera_next(c, &rec)) != VXS_EOF) {
        if (st != VXS_OK) continue; /* reported to the sink, counted */
        s->records++;
        const vxs_time_t t =
            rec->capture_time != VXS_TIME_NONE ? rec->capture_time : rec->device_time;
        vxs_stream_stats_add(s->period, t, s->records);
    }
    vxs_camera_close(c);
    return VXS_OK;
}

static size_t sender_node(job_t *j, const vxs_record_t *rec) {
    const size_t v = find_node(j, VXS_CLOCK_SENDER, -1, 0, rec->device_clock.station,
                               rec->device_clock.layer);
    if (v != SIZE_MAX && j->nodes[v].name[0] == '\0') {
        node_t *n = &j->nodes[v];
        /* GNSS-timed generation: ETSI and SAE stacks take it from the GNSS receiver; used as
         * an anchor and checked against the other paths (vxs_clock_solve). */
        n->anchored = true;
        n->hint = "gnss";
        snprintf(n->name, sizeof n->name, "sender:%" PRIu64 "/%s", n->station,
                 layer_name(n->layer));
    }
    return v;
}

static vxs_status_t index_v2x(job_t *j, src_t *s, char *err, size_t err_len) {
    vxs_v2x_reader_t *r = NULL;
    vxs_status_t st = open_v2x(j, s, &r, err, err_len);
    if (st != VXS_OK) return st;
    const vxs_record_t *rec;
    uint64_t n = 0;
    const size_t logger = j->logger_node[s->agent];
    while ((st = vxs_v2x_reader_next(r, &rec)) == VXS_OK) {
        if ((++n & 255) == 0) progress(j, vxs_v2x_reader_position(r, NULL));
        s->records++;
        if (rec->device_time == VXS_TIME_NONE || rec->capture_time == VXS_TIME_NONE) continue;
        const size_t v = sender_node(j, rec);
        if (v == SIZE_MAX) continue;
        const bool sent = rec->u.v2x.sent;
        if (sent) note_owner(j, rec->device_clock.station, (int)s->agent);
        else note_heard(j, s->agent, rec->device_clock.station);
        /* DENM and CPM referenceTime (layer 4) is the event's time, repeated unchanged by
         * every repetition: not a transmission time, so it says nothing about the clocks */
        if (rec->device_clock.layer == 4) continue;
        const size_t e = find_edge(j, v, logger, sent ? VXS_DELAY_TX_LOG : VXS_DELAY_AIR);
        add_sample(j, e, rec->device_time, rec->capture_time);
    }
    if (st != VXS_EOF) {
        snprintf(err, err_len, "%s", vxs_v2x_reader_errmsg(r));
        j->bad_units++;
        s->bad++;
    }
    vxs_v2x_reader_close(r);
    return VXS_OK;
}

static vxs_time_t first_time(const job_t *j) {
    vxs_time_t t = j->t_first;
    for (size_t i = 0; i < j->n_srcs; i++) {
        vxs_stream_summary_t sum;
        vxs_stream_stats_summarize(j->srcs[i].period, &sum);
        if (sum.min != VXS_TIME_NONE && (t == VXS_TIME_NONE || sum.min < t)) t = sum.min;
    }
    return t;
}

/* ==== the clock solve ======================================================================= */

static vxs_status_t solve(job_t *j) {
    /* Senders owned by an agent get named after it. */
    for (size_t i = 0; i < j->n_nodes; i++) {
        node_t *n = &j->nodes[i];
        if (n->kind != VXS_CLOCK_SENDER) continue;
        n->agent = owner_of(j, n->station);
        if (n->agent >= 0)
            snprintf(n->name, sizeof n->name, "sender:%s/%" PRIu64 "/%s",
                     j->man->agents[n->agent].id, n->station, layer_name(n->layer));
    }
    /* Nodes in the order of their names, so the solve and clocks.json do not depend on the
     * order sources were read in. */
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
        for (int q = 0; q < MAX_LIDAR_STREAMS; q++)
            if (j->srcs[i].dev_node[q] != SIZE_MAX) j->srcs[i].dev_node[q] = inv[j->srcs[i].dev_node[q]];
    vxs_free(perm);
    vxs_free(inv);
    vxs_free(sorted);
    /* edges likewise, by (from, to, class) */
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
        for (int q = 0; q < MAX_LIDAR_STREAMS; q++) j->srcs[i].dev_edge[q] = SIZE_MAX; /* stale */

    /* The epoch: the first whole second of the drive on any clock (the sweeps' and frames'
     * times, else the first sample of any series). */
    vxs_time_t t0 = first_time(j);
    if (t0 == VXS_TIME_NONE) t0 = 0;
    j->epoch = t0 - ((t0 % 1000000000 + 1000000000) % 1000000000);
    for (size_t e = 0; e < j->n_edges; e++) {
        edge_t *E = &j->edges[e];
        if (vxs_series_count(E->series) < 2 ||
            vxs_series_fit(E->series, j->epoch, &E->fit) != VXS_OK)
            memset(&E->fit, 0, sizeof E->fit);
    }
    vxs_clock_node_t *cn = vxs_calloc(j->n_nodes, sizeof *cn);
    vxs_clock_edge_t *ce = vxs_calloc(j->n_edges ? j->n_edges : 1, sizeof *ce);
    j->res = vxs_calloc(j->n_nodes, sizeof *j->res);
    if (!cn || !ce || !j->res) {
        vxs_free(cn);
        vxs_free(ce);
        return VXS_E_NOMEM;
    }
    for (size_t i = 0; i < j->n_nodes; i++)
        cn[i] = (vxs_clock_node_t){j->nodes[i].name, j->nodes[i].anchored,
                                   j->nodes[i].has_offset, j->nodes[i].offset_ns};
    for (size_t e = 0; e < j->n_edges; e++) {
        const node_t *src = &j->nodes[j->edges[e].src];
        /* 1609.2 generationTime counts µs; every other V2X time field ms; LiDARs ns */
        const double res = src->kind != VXS_CLOCK_SENDER ? 0.0 : src->layer == 1 ? 1e3 : 1e6;
        ce[e] = (vxs_clock_edge_t){j->edges[e].src, j->edges[e].dst, j->edges[e].delay,
                                   &j->edges[e].fit, res};
    }
    const size_t fallback = j->logger_node[j->man->ref_agent];
    vxs_status_t st =
        vxs_clock_solve(cn, j->n_nodes, ce, j->n_edges, j->epoch, fallback, j->res, &j->sol);
    vxs_free(cn);
    vxs_free(ce);
    return st;
}

/* ==== clocks.json ========================================================================== */

static const char *kind_name(vxs_clock_kind_t k) {
    switch (k) {
    case VXS_CLOCK_LOGGER: return "logger";
    case VXS_CLOCK_DEVICE: return "device";
    case VXS_CLOCK_SENDER: return "sender";
    default: return "reference";
    }
}

static json_t *jtime(vxs_time_t t) {
    if (t == VXS_TIME_NONE) return json_null();
    char b[VXS_TIME_STRLEN];
    return json_string(vxs_time_format(b, sizeof b, t));
}

static json_t *jnum(double v) { return isfinite(v) ? json_real(v) : json_null(); }

/* pair_t: two agents whose V2X messages flow both ways, compared through their loggers. */
typedef struct {
    double ow_ab, ow_ba; /* min over senders of (rx by b - tx log by a), and reverse */
    bool has_ab, has_ba;
} pair_t;

/* one_way returns the envelope offset of (b's capture - a's own tx log) through a sender of a
 * heard by both: fit(sender -> logger b, AIR) - fit(sender -> logger a, TX_LOG). */
static bool one_way(const job_t *j, size_t a, size_t b, double *out) {
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

static json_t *clocks_json(job_t *j) {
    json_t *root = json_object();
    json_object_set_new(root, "version", json_integer(1));
    json_object_set_new(root, "scenario", json_string(j->man->name));
    json_object_set_new(root, "epoch_ns", json_integer(j->epoch));
    json_object_set_new(root, "epoch", jtime(j->epoch));
    if (j->sol.reference_node != SIZE_MAX)
        json_object_set_new(root, "reference",
                            json_pack("{s:s,s:s}", "kind", "clock", "domain",
                                      j->nodes[j->sol.reference_node].name));
    else
        json_object_set_new(root, "reference",
                            json_pack("{s:s}", "kind", "anchors (GNSS/PPS time, known offsets)"));
    json_object_set_new(root, "hints_rejected", json_integer(j->sol.hints_rejected));
    json_t *delays = json_object();
    for (int c = 1; c < VXS_DELAY_CLASSES; c++)
        if (j->sol.delay_used[c])
            json_object_set_new(delays, vxs_delay_class_name((vxs_delay_class_t)c),
                                json_pack("{s:o,s:o}", "min_ns", jnum(j->sol.delay_ns[c]),
                                          "sd_ns", jnum(j->sol.delay_sd_ns[c])));
    json_object_set_new(root, "min_delays", delays);

    json_t *doms = json_array();
    for (size_t i = 0; i < j->n_nodes; i++) {
        const node_t *n = &j->nodes[i];
        const vxs_clock_result_t *r = &j->res[i];
        json_t *d = json_object();
        json_object_set_new(d, "name", json_string(n->name));
        json_object_set_new(d, "kind", json_string(kind_name(n->kind)));
        if (n->agent >= 0)
            json_object_set_new(d, "agent", json_string(j->man->agents[n->agent].id));
        if (n->kind == VXS_CLOCK_SENDER) {
            json_object_set_new(d, "station", json_integer((json_int_t)n->station));
            json_object_set_new(d, "time_field", json_string(layer_name(n->layer)));
        }
        json_object_set_new(d, "method", json_string(vxs_clock_method_name(r->method)));
        json_object_set_new(d, "offset_ns", jnum(r->model.pieces[0].offset_ns));
        json_object_set_new(d, "drift_ppm", jnum(r->model.drift * 1e6));
        json_object_set_new(d, "offset_sd_ns", jnum(r->offset_sd_ns));
        json_object_set_new(d, "drift_sd_ppm", jnum(r->drift_sd * 1e6));
        json_t *pieces = json_array();
        for (size_t k = 0; k < r->model.n_pieces; k++)
            json_array_append_new(
                pieces, json_pack("{s:o,s:o}", "from_ref_ns",
                                  k ? json_integer(r->model.pieces[k].from_ref) : json_null(),
                                  "offset_ns", jnum(r->model.pieces[k].offset_ns)));
        json_object_set_new(d, "pieces", pieces);
        json_object_set_new(d, "samples", json_integer((json_int_t)r->samples));
        json_object_set_new(d, "relations", json_integer(r->edges));
        if (n->hint) {
            json_t *h = json_object();
            json_object_set_new(h, "kind", json_string(n->hint));
            if (n->has_offset) json_object_set_new(h, "offset_ns", json_integer(n->offset_ns));
            json_object_set_new(h, "checked", json_boolean(r->hint_checked));
            json_object_set_new(h, "rejected", json_boolean(r->hint_rejected));
            if (r->hint_checked)
                json_object_set_new(h, "residual_ns", jnum(r->hint_residual_ns));
            json_object_set_new(d, "hint", h);
        }
        json_array_append_new(doms, d);
    }
    json_object_set_new(root, "domains", doms);

    json_t *rels = json_array();
    for (size_t e = 0; e < j->n_edges; e++) {
        const edge_t *E = &j->edges[e];
        const vxs_series_fit_t *f = &E->fit;
        json_t *r = json_object();
        json_object_set_new(r, "from", json_string(j->nodes[E->src].name));
        json_object_set_new(r, "to", json_string(j->nodes[E->dst].name));
        json_object_set_new(r, "delay_class", json_string(vxs_delay_class_name(E->delay)));
        json_object_set_new(r, "samples", json_integer((json_int_t)vxs_series_count(E->series)));
        json_object_set_new(r, "windows", json_integer(f->windows));
        json_object_set_new(r, "windows_below", json_integer(f->windows_below));
        json_object_set_new(r, "windows_above", json_integer(f->windows_above));
        json_t *pieces = json_array();
        for (size_t k = 0; k < f->n_pieces; k++) {
            const vxs_series_piece_t *p = &f->pieces[k];
            json_array_append_new(
                pieces,
                json_pack("{s:I,s:I,s:o,s:o,s:I,s:i,s:o,s:o,s:o}", "x_start_ns",
                          (json_int_t)p->x_start, "x_end_ns", (json_int_t)p->x_end, "offset_ns",
                          jnum(p->offset_ns), "slope_ppm", jnum(p->slope * 1e6), "samples",
                          (json_int_t)p->samples, "inlier_windows", (int)p->inliers,
                          "resid_median_ns", jnum(p->resid_median_ns), "offset_sd_ns",
                          jnum(p->offset_sd_ns), "slope_sd_ppm", jnum(p->slope_sd * 1e6)));
        }
        json_object_set_new(r, "pieces", pieces);
        /* what the solved models say the envelope should be at the epoch, minus what it is */
        if (f->n_pieces) {
            const vxs_clock_result_t *a = &j->res[E->src], *b = &j->res[E->dst];
            const double pred = b->model.pieces[0].offset_ns - a->model.pieces[0].offset_ns +
                                j->sol.delay_ns[E->delay] -
                                f->pieces[0].slope * a->model.pieces[0].offset_ns;
            json_object_set_new(r, "residual_ns", jnum(f->pieces[0].offset_ns - pred));
        }
        json_array_append_new(rels, r);
    }
    json_object_set_new(root, "relations", rels);

    json_t *pairs = json_array();
    /* agents in the order of their ids */
    const size_t na = j->man->n_agents;
    size_t *ord = vxs_calloc(na, sizeof *ord);
    if (!ord) {
        json_decref(root);
        json_decref(pairs);
        return NULL;
    }
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
            json_array_append_new(
                pairs, json_pack("{s:s,s:s,s:o,s:o,s:o}", "a", j->man->agents[a].id, "b",
                                 j->man->agents[b].id, "offset_ns", jnum((ab - ba) / 2),
                                 "min_latency_ns", jnum((ab + ba) / 2), "solver_offset_ns",
                                 jnum(solved)));
        }
    vxs_free(ord);
    json_object_set_new(root, "pairs", pairs);
    json_object_set_new(root, "impossible_messages",
                        json_pack("{s:I,s:O}", "count", (json_int_t)j->impossible, "first",
                                  j->impossible_list));
    return root;
}

/* ==== pass 2: frames ======================================================================== */

typedef struct {
    vxs_time_t t_ref, t_local;
    uint64_t index;
    vxs_locator_t loc;
    uint32_t points;
    bool complete;
    int64_t pts;
} item_t;

typedef struct {
    src_t *src;
    vxs_source_kind_t kind;
    vxs_lidar_t *lidar;
    lidar_extra_t lx;
    vxs_camera_t *cam;
    const vxs_clock_model_t *model;
    const char *clock_name;
    vxs_clock_cursor_t cur;
    uint64_t next_index;
    bool eof;
    vxs_time_t last_t;
    item_t *q;
    size_t q_head, q_len, q_cap;
    uint64_t q_first_id, next_id;
    int64_t tol_ns;
    vxs_time_t last_pushed;
    char name[200];
} mstream_t;

typedef struct {
    vxs_time_t rx_ref, capture, gen, gen_ref;
    uint64_t station;
    int sender_agent;
    uint16_t protocol, type;
    uint64_t index;
    vxs_locator_t loc;
} msg_t;

typedef struct {
    int sender_agent;   /* or -1 with station */
    uint64_t station;
    vxs_time_t last_rx;
} link_t;

typedef struct {
    src_t *src;
    vxs_v2x_reader_t *rd;
    vxs_clock_cursor_t cur;
    bool eof, has_next;
    msg_t next;
    msg_t *q;
    size_t q_head, q_len, q_cap;
    uint64_t index;
    link_t links[64];
    size_t n_links;
} vfeed_t;

static const vxs_clock_model_t *model_of(const job_t *j, size_t node) {
    return &j->res[node].model;
}

/* pull_item reads the stream's next record and maps it to the reference timeline. */
static bool pull_item(mstream_t *m, item_t *it) {
    const vxs_record_t *rec;
    vxs_status_t st;
    for (;;) {
        if (m->kind == VXS_SOURCE_LIDAR) {
            st = vxs_lidar_next(m->lidar, &rec);
            if (st == VXS_OK && (rec->kind != VXS_REC_LIDAR_SWEEP ||
                                 rec->sensor != m->src->sensor_base))
                continue;
        } else {
            st = vxs_camera_next(m->cam, &rec);
            if (st != VXS_OK && st != VXS_EOF) continue; /* reported, counted in pass 1 */
        }
        if (st != VXS_OK) return false;
        break;
    }
    memset(it, 0, sizeof *it);
    it->index = m->next_index++;
    it->loc = rec->loc;
    if (m->kind == VXS_SOURCE_LIDAR) {
        const vxs_sweep_summary_t *w = &rec->u.sweep;
        const vxs_sweep_time_t conv = m->src->ms->clock.sweep_time;
        vxs_time_t t = rec->device_time;
        if (conv == VXS_SWEEP_END) t = w->device_end;
        else if (conv == VXS_SWEEP_MIDDLE) t = rec->device_time + (w->device_end - rec->device_time) / 2;
        it->t_local = t;
        it->points = w->points;
        it->complete = w->complete;
    } else {
        it->t_local = rec->capture_time != VXS_TIME_NONE ? rec->capture_time : rec->device_time;
        it->pts = rec->u.frame.pts;
    }
    it->t_ref = vxs_clock_to_reference(m->model, it->t_local, &m->cur);
    return true;
}

static bool q_push(mstream_t *m, const item_t *it) {
    if (m->q_len == m->q_cap) {
        const size_t cap = m->q_cap ? m->q_cap * 2 : 64;
        item_t *q = vxs_malloc(cap * sizeof *q);
        if (!q) return false;
        for (size_t i = 0; i < m->q_len; i++) q[i] = m->q[(m->q_head + i) % m->q_cap];
        vxs_free(m->q);
        m->q = q;
        m->q_cap = cap;
        m->q_head = 0;
    }
    m->q[(m->q_head + m->q_len++) % m->q_cap] = *it;
    return true;
}

static const item_t *q_get(const mstream_t *m, uint64_t id) {
    if (id < m->q_first_id || id - m->q_first_id >= m->q_len) return NULL;
    return &m->q[(m->q_head + (id - m->q_first_id)) % m->q_cap];
}

/* q_release drops items far older than T (no frame can need them any more). */
static void q_release(mstream_t *m, vxs_time_t T, int64_t keep_ns) {
    while (m->q_len > 1 && m->q[m->q_head].t_ref < T - keep_ns) {
        m->q_head = (m->q_head + 1) % m->q_cap;
        m->q_len--;
        m->q_first_id++;
    }
}

/* feed pushes the stream's next item into the matcher; false at its end. */
static bool feed(job_t *j, vxs_matcher_t *mt, size_t si, mstream_t *m) {
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
            j->out_of_order++;
            continue;
        }
        break;
    }
    if (!q_push(m, &it)) {
        j->oom = true;
        return false;
    }
    m->last_pushed = it.t_ref;
    m->last_t = it.t_ref;
    if (vxs_matcher_push(mt, si, it.t_ref, m->next_id++) != VXS_OK) j->oom = true;
    return true;
}

static bool vq_push(vfeed_t *f, const msg_t *m) {
    if (f->q_len == f->q_cap) {
        const size_t cap = f->q_cap ? f->q_cap * 2 : 64;
        msg_t *q = vxs_malloc(cap * sizeof *q);
        if (!q) return false;
        for (size_t i = 0; i < f->q_len; i++) q[i] = f->q[(f->q_head + i) % f->q_cap];
        vxs_free(f->q);
        f->q = q;
        f->q_cap = cap;
        f->q_head = 0;
    }
    f->q[(f->q_head + f->q_len++) % f->q_cap] = *m;
    return true;
}

static size_t sender_node_of(const job_t *j, uint64_t station, uint32_t layer) {
    for (size_t i = 0; i < j->n_nodes; i++)
        if (j->nodes[i].kind == VXS_CLOCK_SENDER && j->nodes[i].station == station &&
            j->nodes[i].layer == layer)
            return i;
    return SIZE_MAX;
}

/* v2x_next reads the feed's next received message into f->next. */
static bool v2x_next(job_t *j, vfeed_t *f) {
    const vxs_record_t *rec;
    for (;;) {
        vxs_status_t st = vxs_v2x_reader_next(f->rd, &rec);
        if (st != VXS_OK) {
            f->eof = true;
            f->has_next = false;
            return false;
        }
        const uint64_t index = f->index++;
        if (rec->u.v2x.sent || rec->capture_time == VXS_TIME_NONE) continue;
        msg_t *m = &f->next;
        memset(m, 0, sizeof *m);
        m->index = index;
        m->loc = rec->loc;
        m->capture = rec->capture_time;
        m->gen = rec->device_time;
        m->station = rec->device_clock.station;
        m->sender_agent = owner_of(j, m->station);
        m->protocol = rec->u.v2x.protocol;
        m->type = rec->u.v2x.msg_type;
        m->rx_ref = vxs_clock_to_reference(model_of(j, j->logger_node[f->src->agent]),
                                           m->capture, &f->cur);
        const size_t sn = sender_node_of(j, m->station, rec->device_clock.layer);
        m->gen_ref = m->gen == VXS_TIME_NONE || sn == SIZE_MAX
                         ? VXS_TIME_NONE
                         : vxs_clock_to_reference(model_of(j, sn), m->gen, NULL);
        if (m->gen_ref != VXS_TIME_NONE) {
            /* received before it was sent, beyond what the clocks' uncertainty explains */
            const double sd = j->res[j->logger_node[f->src->agent]].offset_sd_ns +
                              (sn != SIZE_MAX ? j->res[sn].offset_sd_ns : 0);
            if ((double)(m->rx_ref - m->gen_ref) < -fmax(1e6, 5 * sd)) {
                j->impossible++;
                if (json_array_size(j->impossible_list) < MAX_IMPOSSIBLE_LISTED)
                    json_array_append_new(
                        j->impossible_list,
                        json_pack("{s:s,s:I,s:I,s:I}", "file", f->src->ms->path, "record",
                                  (json_int_t)(rec->loc.index + 1), "byte_offset",
                                  (json_int_t)rec->loc.offset, "latency_ns",
                                  (json_int_t)(m->rx_ref - m->gen_ref)));
            }
        }
        f->has_next = true;
        return true;
    }
}

static void link_seen(vfeed_t *f, const msg_t *m) {
    for (size_t i = 0; i < f->n_links; i++) {
        link_t *l = &f->links[i];
        if (m->sender_agent >= 0 ? l->sender_agent == m->sender_agent
                                 : (l->sender_agent < 0 && l->station == m->station)) {
            if (l->last_rx == VXS_TIME_NONE || m->rx_ref > l->last_rx) l->last_rx = m->rx_ref;
            return;
        }
    }
}

/* v2x_advance moves every message received by T into the window queue and drops the ones older
 * than T - window. */
static void v2x_advance(job_t *j, vfeed_t *f, vxs_time_t T, int64_t window) {
    for (;;) {
        if (!f->has_next && (f->eof || !v2x_next(j, f))) break;
        if (f->next.rx_ref > T) break;
        if (!vq_push(f, &f->next)) j->oom = true;
        link_seen(f, &f->next);
        f->has_next = false;
    }
    while (f->q_len && f->q[f->q_head].rx_ref <= T - window) {
        f->q_head = (f->q_head + 1) % f->q_cap;
        f->q_len--;
    }
}

static json_t *jloc(const vxs_locator_t *l) {
    return json_pack("{s:i,s:I,s:I,s:i}", "source", (int)l->source, "index", (json_int_t)l->index,
                     "offset", (json_int_t)l->offset, "count", (int)l->count);
}

static const char *agent_id(const job_t *j, int agent) {
    return agent >= 0 ? j->man->agents[agent].id : "unknown";
}

static int64_t tol_ns_for(const job_t *j, const src_t *s) {
    const double ms = j->man->frames.tolerance_ms[s->ms->kind];
    if (ms >= 0) return (int64_t)llround(ms * 1e6);
    vxs_stream_summary_t sum;
    vxs_stream_stats_summarize(s->period, &sum);
    return sum.median_interval_ns > 0 ? sum.median_interval_ns / 2 : 50000000;
}


static vxs_status_t frame_pass(job_t *j, FILE *out, char *err, size_t err_len) {
    const vxs_manifest_t *man = j->man;
    mstream_t *ms = vxs_calloc(j->n_srcs + 1, sizeof *ms);
    vfeed_t *vf = vxs_calloc(j->n_srcs, sizeof *vf);
    vxs_matcher_t *mt = NULL;
    int64_t *tol = vxs_calloc(j->n_srcs + 1, sizeof *tol);
    size_t nm = 0, nv = 0, *order = NULL;
    vxs_status_t st = VXS_OK;
    if (!ms || !vf || !tol) {
        st = VXS_E_NOMEM;
        goto done;
    }
    /* stream 0: the reference sensor; then the other LiDARs and cameras, agents and sensors in
     * the order of their ids (so output does not depend on the manifest's order) */
    size_t ref_src = SIZE_MAX;
    for (size_t i = 0; i < j->n_srcs; i++)
        if (j->srcs[i].agent == man->ref_agent &&
            j->srcs[i].ms == &man->agents[man->ref_agent].sources[man->ref_source])
            ref_src = i;
    /* j->srcs is in (agent id, sensor id) order already (run) */
    order = vxs_calloc(j->n_srcs + 1, sizeof *order);
    if (!order) {
        st = VXS_E_NOMEM;
        goto done;
    }
    const size_t no = j->n_srcs;
    for (size_t i = 0; i < no; i++) order[i] = i;
    const bool fixed_rate = man->frames.policy == VXS_FRAMES_FIXED_RATE;
    for (size_t k = 0; k <= no; k++) {
        size_t i;
        if (k == 0) {
            if (fixed_rate || ref_src == SIZE_MAX) continue;
            i = ref_src;
        } else {
            i = order[k - 1];
            if (i == ref_src && !fixed_rate) continue;
        }
        src_t *s = &j->srcs[i];
        if (s->ms->kind == VXS_SOURCE_V2X) {
            vfeed_t *f = &vf[nv];
            f->src = s;
            if ((st = open_v2x(j, s, &f->rd, err, err_len)) != VXS_OK) goto done;
            for (size_t h = 0; h < j->n_heard && f->n_links < 64; h++) {
                if (j->heard[h].agent != s->agent) continue;
                const int ag = owner_of(j, j->heard[h].station);
                bool dup = false;
                for (size_t l = 0; l < f->n_links; l++)
                    dup |= ag >= 0 ? f->links[l].sender_agent == ag
                                   : f->links[l].station == j->heard[h].station;
                if (!dup)
                    f->links[f->n_links++] = (link_t){ag, j->heard[h].station, VXS_TIME_NONE};
            }
            nv++;
            continue;
        }
        mstream_t *m = &ms[nm];
        m->src = s;
        m->kind = s->ms->kind;
        m->last_pushed = VXS_TIME_NONE;
        m->tol_ns = tol_ns_for(j, s);
        snprintf(m->name, sizeof m->name, "%s/%s", man->agents[s->agent].id, s->ms->sensor);
        if (m->kind == VXS_SOURCE_LIDAR) {
            if (s->dev_node[0] == SIZE_MAX) continue; /* no packet at all: nothing to match */
            st = open_lidar(j, s, &m->lidar, &m->lx, NULL, NULL, err, err_len);
            m->model = model_of(j, s->dev_node[0]);
            m->clock_name = j->nodes[s->dev_node[0]].name;
        } else {
            st = open_camera(j, s, &m->cam, err, err_len);
            m->model = model_of(j, j->logger_node[s->agent]);
            m->clock_name = j->nodes[j->logger_node[s->agent]].name;
        }
        if (st != VXS_OK) goto done;
        tol[nm] = m->tol_ns;
        nm++;
    }
    if (nm == 0) {
        /* V2X only: nothing to cut frames on; the clocks are the result */
        vxs_cli_progress_end(&j->prog);
        if (!j->o->json)
            fprintf(stderr, "v2xsync sync: %s: no LiDAR or camera source to cut frames on; "
                            "frames.jsonl is empty\n", man->name);
        goto done;
    }
    if (ms[0].src != &j->srcs[ref_src] && !fixed_rate) {
        snprintf(err, err_len, "%s: the reference sensor %s/%s has no records to cut frames on",
                 man->name, man->agents[man->ref_agent].id,
                 man->agents[man->ref_agent].sources[man->ref_source].sensor);
        st = VXS_E_MALFORMED;
        goto done;
    }
    /* fixed rate: stream 0 is a clock of its own, ticking over the reference sensor's span */
    vxs_time_t t_first = VXS_TIME_NONE, t_last = VXS_TIME_NONE;
    if (fixed_rate) {
        /* the span of every stream on the reference timeline */
        for (size_t k = 0; k < nm; k++) {
            vxs_stream_summary_t sum;
            vxs_stream_stats_summarize(ms[k].src->period, &sum);
            const vxs_time_t a = vxs_clock_to_reference(ms[k].model, sum.min, NULL);
            const vxs_time_t b = vxs_clock_to_reference(ms[k].model, sum.max, NULL);
            if (a != VXS_TIME_NONE && (t_first == VXS_TIME_NONE || a < t_first)) t_first = a;
            if (b != VXS_TIME_NONE && (t_last == VXS_TIME_NONE || b > t_last)) t_last = b;
        }
        memmove(ms + 1, ms, nm * sizeof *ms);
        memmove(tol + 1, tol, nm * sizeof *tol);
        memset(&ms[0], 0, sizeof ms[0]);
        snprintf(ms[0].name, sizeof ms[0].name, "rate %.6g Hz", man->frames.rate_hz);
        nm++;
    }
    tol[0] = 0;
    if ((st = vxs_matcher_create(&mt, (vxs_match_policy_t)man->frames.match, nm, tol)) != VXS_OK)
        goto done;
    const int64_t window = (int64_t)llround(man->frames.v2x_window_ms * 1e6);
    int64_t keep = window;
    for (size_t k = 0; k < nm; k++) keep = keep > 4 * tol[k] ? keep : 4 * tol[k];
    keep += 1000000000;
    uint64_t tick_n = 0;
    const double period_ns = fixed_rate ? 1e9 / man->frames.rate_hz : 0;
    bool ref_done = false, ended = false;
    uint64_t nref = 0;
    while (!j->oom) {
        /* one reference item, then every other stream until it is past T + tolerance */
        vxs_time_t T = VXS_TIME_NONE;
        if (!ref_done) {
            if (fixed_rate) {
                if (t_first == VXS_TIME_NONE ||
                    t_first + (vxs_time_t)llround(period_ns * (double)tick_n) > t_last) {
                    vxs_matcher_end(mt, 0);
                    ref_done = true;
                } else {
                    item_t it;
                    memset(&it, 0, sizeof it);
                    it.t_ref = it.t_local = t_first + (vxs_time_t)llround(period_ns * (double)tick_n);
                    it.index = tick_n++;
                    q_push(&ms[0], &it);
                    vxs_matcher_push(mt, 0, it.t_ref, ms[0].next_id++);
                    T = it.t_ref;
                }
            } else if (feed(j, mt, 0, &ms[0])) {
                T = ms[0].last_pushed;
            } else {
                ref_done = true;
            }
            if (!ref_done && (++nref & 15) == 0 && ms[fixed_rate ? 1 : 0].lidar)
                progress(j, vxs_lidar_position(ms[fixed_rate ? 1 : 0].lidar, NULL));
        }
        for (size_t k = 1; k < nm && !ref_done; k++) {
            mstream_t *m = &ms[k];
            while (!m->eof && (m->last_pushed == VXS_TIME_NONE || m->last_pushed <= T + m->tol_ns))
                if (!feed(j, mt, k, m)) break;
        }
        vxs_match_frame_t fr;
        while (vxs_matcher_pop(mt, &fr)) {
            json_t *o = json_object();
            json_object_set_new(o, "frame", json_integer((json_int_t)j->frames));
            json_object_set_new(o, "t_ref_ns", json_integer(fr.t));
            json_object_set_new(o, "t_ref", jtime(fr.t));
            json_t *mem = json_array(), *reasons = json_array();
            for (size_t k = 0; k < nm; k++) {
                const mstream_t *m = &ms[k];
                if (fixed_rate && k == 0) continue;
                const vxs_member_t *mb = &fr.members[k];
                json_t *e = json_object();
                json_object_set_new(e, "agent", json_string(man->agents[m->src->agent].id));
                json_object_set_new(e, "sensor", json_string(m->src->ms->sensor));
                json_object_set_new(e, "kind", json_string(vxs_source_kind_name(m->kind)));
                json_object_set_new(e, "status", json_string(vxs_member_status_name(mb->status)));
                const item_t *it = mb->t != VXS_TIME_NONE ? q_get(m, mb->id) : NULL;
                if (mb->status == VXS_MEMBER_OK && it) {
                    json_object_set_new(e, m->kind == VXS_SOURCE_LIDAR ? "sweep" : "frame",
                                        json_integer((json_int_t)it->index));
                    json_object_set_new(e, "locator", jloc(&it->loc));
                    json_object_set_new(e, "clock", json_string(m->clock_name));
                    json_object_set_new(e, "time_ns", json_integer(it->t_local));
                    json_object_set_new(e, "t_ref_ns", json_integer(it->t_ref));
                    json_object_set_new(e, "dt_ns", json_integer(mb->dt_ns));
                    if (m->kind == VXS_SOURCE_LIDAR) {
                        json_object_set_new(e, "complete", json_boolean(it->complete));
                        json_object_set_new(e, "points", json_integer(it->points));
                    } else {
                        json_object_set_new(e, "pts", json_integer(it->pts));
                    }
                } else {
                    char why[256];
                    const bool set = mb->status == VXS_MEMBER_SET_BEYOND_TOLERANCE;
                    if (mb->t != VXS_TIME_NONE) {
                        json_object_set_new(e, set ? "set_dt_ns" : "nearest_dt_ns",
                                            json_integer(mb->dt_ns));
                        snprintf(why, sizeof why, "%s: %s (%s %.1f ms away, tolerance %.1f ms)",
                                 m->name, vxs_member_status_name(mb->status),
                                 set ? "set member" : "nearest", (double)mb->dt_ns / 1e6,
                                 (double)m->tol_ns / 1e6);
                    } else {
                        snprintf(why, sizeof why, "%s: %s", m->name,
                                 vxs_member_status_name(mb->status));
                    }
                    json_array_append_new(reasons, json_string(why));
                }
                json_array_append_new(mem, e);
            }
            json_object_set_new(o, "members", mem);
            json_t *v2x = json_array();
            for (size_t f = 0; f < nv; f++) {
                vfeed_t *F = &vf[f];
                v2x_advance(j, F, fr.t, window);
                json_t *ag = json_object(), *msgs = json_array(), *links = json_array();
                json_object_set_new(ag, "agent", json_string(man->agents[F->src->agent].id));
                for (size_t q = 0; q < F->q_len; q++) {
                    const msg_t *m = &F->q[(F->q_head + q) % F->q_cap];
                    /* captured out of order: the queue's head is not always the oldest */
                    if (m->rx_ref <= fr.t - window || m->rx_ref > fr.t) continue;
                    json_t *x = json_object();
                    json_object_set_new(x, "sender", json_string(agent_id(j, m->sender_agent)));
                    json_object_set_new(x, "station", json_integer((json_int_t)m->station));
                    json_object_set_new(x, "type", json_string(vxs_v2x_type_name(m->protocol, m->type)));
                    json_object_set_new(x, "message", json_integer((json_int_t)m->index));
                    json_object_set_new(x, "locator", jloc(&m->loc));
                    json_object_set_new(x, "capture_ns", json_integer(m->capture));
                    json_object_set_new(x, "rx_ref_ns", json_integer(m->rx_ref));
                    if (m->gen != VXS_TIME_NONE) {
                        json_object_set_new(x, "gen_ns", json_integer(m->gen));
                        json_object_set_new(x, "gen_ref_ns", json_integer(m->gen_ref));
                        json_object_set_new(x, "latency_ns", json_integer(m->rx_ref - m->gen_ref));
                        json_object_set_new(x, "age_ns", json_integer(fr.t - m->gen_ref));
                    }
                    json_array_append_new(msgs, x);
                    j->v2x_attached++;
                }
                for (size_t l = 0; l < F->n_links; l++) {
                    const link_t *L = &F->links[l];
                    const bool silent = L->last_rx == VXS_TIME_NONE || L->last_rx <= fr.t - window;
                    json_t *x = json_object();
                    json_object_set_new(x, "sender", json_string(agent_id(j, L->sender_agent)));
                    if (L->sender_agent < 0)
                        json_object_set_new(x, "station", json_integer((json_int_t)L->station));
                    json_object_set_new(x, "status", json_string(silent ? "silent" : "ok"));
                    json_object_set_new(x, "last_rx_ref_ns", L->last_rx == VXS_TIME_NONE
                                                                 ? json_null()
                                                                 : json_integer(L->last_rx));
                    json_array_append_new(links, x);
                    if (silent) {
                        char why[256];
                        snprintf(why, sizeof why,
                                 "link %s -> %s silent: no message received in the last %.3f s",
                                 agent_id(j, L->sender_agent), man->agents[F->src->agent].id,
                                 (double)window / 1e9);
                        json_array_append_new(reasons, json_string(why));
                    }
                }
                json_object_set_new(ag, "messages", msgs);
                json_object_set_new(ag, "links", links);
                json_array_append_new(v2x, ag);
            }
            json_object_set_new(o, "v2x", v2x);
            const bool partial = json_array_size(reasons) > 0;
            json_object_set_new(o, "status", json_string(partial ? "partial" : "complete"));
            json_object_set_new(o, "reasons", reasons);
            if (json_dumpf(o, out, JSON_COMPACT | JSON_PRESERVE_ORDER) != 0 ||
                fputc('\n', out) == EOF) {
                json_decref(o);
                snprintf(err, err_len, "writing frames.jsonl: %s", strerror(errno));
                st = VXS_E_IO;
                goto done;
            }
            json_decref(o);
            j->frames++;
            j->partial_frames += partial;
            for (size_t k = 0; k < nm; k++) q_release(&ms[k], fr.t, keep);
        }
        if (ref_done) {
            if (ended) break;
            /* the last frames: every member it can have was fed (past its T + tolerance) */
            for (size_t k = 1; k < nm; k++)
                if (!ms[k].eof) {
                    vxs_matcher_end(mt, k);
                    ms[k].eof = true;
                }
            ended = true;
        }
    }
    if (j->oom) st = VXS_E_NOMEM;
done:
    vxs_matcher_destroy(mt);
    for (size_t k = 0; ms && k < j->n_srcs + 1; k++) {
        vxs_lidar_close(ms[k].lidar);
        vxs_ouster_meta_destroy(ms[k].lx.meta);
        vxs_camera_close(ms[k].cam);
        vxs_free(ms[k].q);
    }
    for (size_t k = 0; vf && k < j->n_srcs; k++) {
        vxs_v2x_reader_close(vf[k].rd);
        vxs_free(vf[k].q);
    }
    vxs_free(ms);
    vxs_free(vf);
    vxs_free(tol);
    vxs_free(order);
    return st;
}

static int cmp_src_name(const void *a, const void *b, const vxs_manifest_t *m) {
    const src_t *x = a, *y = b;
    const int c = strcmp(m->agents[x->agent].id, m->agents[y->agent].id);
    return c ? c : strcmp(x->ms->sensor, y->ms->sensor);
}

/* ==== the command =========================================================================== */

static int on_opt(void *user, int id, const char *arg) {
    sync_opts_t *o = user;
    switch (id) {
    case OPT_OUT: o->out = arg; break;
    case OPT_FORCE: o->force = true; break;
    case OPT_JSON: o->json = true; break;
    case OPT_QUIET: o->quiet = true; break;
    default: break;
    }
    return 0;
}

/* vxs_cli_fmt_err writes "PATH: cannot write: REASON" (cut to fit). */
static void vxs_cli_fmt_err(char *err, size_t err_len, const char *path, int e) {
    const int n = snprintf(err, err_len, "%.*s", (int)(err_len > 64 ? err_len - 64 : 0), path);
    if (n >= 0 && (size_t)n < err_len)
        snprintf(err + n, err_len - (size_t)n, ": cannot write: %s", strerror(e));
}

/* write_json writes `doc` (JSON) to dir/name through dir/name.tmp. */
static vxs_status_t write_json(const char *dir, const char *name, json_t *doc, char *err,
                               size_t err_len) {
    char path[4096], tmp[4200];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    if (json_dump_file(doc, tmp, JSON_INDENT(2) | JSON_PRESERVE_ORDER) != 0 ||
        rename(tmp, path) != 0) {
        const int e = errno;
        vxs_cli_fmt_err(err, err_len, path, e);
        remove(tmp);
        return VXS_E_IO;
    }
    return VXS_OK;
}

static void print_summary(const job_t *j, const char *out_dir) {
    printf("%s: %zu agents, %zu sources, %" PRIu64 " frames (%" PRIu64 " partial), %" PRIu64
           " V2X attachments\n",
           j->man->name, j->man->n_agents, j->n_srcs, j->frames, j->partial_frames,
           j->v2x_attached);
    printf("\nClock domains (local = reference + offset + drift x (t - %s)):\n",
           j->man->name);
    printf("  %-34s %-10s %16s %10s %10s %6s\n", "domain", "method", "offset ms", "drift ppm",
           "+-ms", "jumps");
    for (size_t i = 0; i < j->n_nodes; i++) {
        const vxs_clock_result_t *r = &j->res[i];
        printf("  %-34s %-10s %16.3f %10.3f %10.3f %6u%s\n", j->nodes[i].name,
               vxs_clock_method_name(r->method), r->model.pieces[0].offset_ns / 1e6,
               r->model.drift * 1e6, r->offset_sd_ns / 1e6, r->jumps,
               r->hint_rejected ? "  hint rejected" : "");
    }
    for (int c = 1; c < VXS_DELAY_CLASSES; c++)
        if (j->sol.delay_used[c])
            printf("  minimum delay %-8s %.3f ms (+-%.3f)\n",
                   vxs_delay_class_name((vxs_delay_class_t)c), j->sol.delay_ns[c] / 1e6,
                   j->sol.delay_sd_ns[c] / 1e6);
    if (j->impossible)
        printf("  %" PRIu64 " messages received before they were sent (clocks.json "
               "\"impossible_messages\")\n",
               j->impossible);
    if (j->out_of_order)
        printf("  %" PRIu64 " records out of order on the reference timeline, not matched\n",
               j->out_of_order);
    if (j->bad_units) printf("  %" PRIu64 " damaged units reported and skipped\n", j->bad_units);
    printf("\nWrote %s/clocks.json and %s/frames.jsonl (index %.2f s, clocks %.3f s, frames "
           "%.2f s)\n",
           out_dir, out_dir, j->t_index, j->t_solve, j->t_frames);
}

static void job_free(job_t *j) {
    for (size_t e = 0; e < j->n_edges; e++) vxs_series_destroy(j->edges[e].series);
    for (size_t i = 0; i < j->n_srcs; i++) vxs_stream_stats_destroy(j->srcs[i].period);
    vxs_free(j->edges);
    vxs_free(j->nodes);
    vxs_free(j->srcs);
    vxs_free(j->logger_node);
    vxs_free(j->res);
    vxs_free(j->owners);
    vxs_free(j->heard);
    json_decref(j->impossible_list);
    vxs_manifest_free(j->man);
}

/* is_input_dir says whether `dir` is the folder of one of the sources (never written to). */
static bool is_input_dir(const job_t *j, const char *dir) {
    char rd[PATH_MAX], rs[PATH_MAX];
    if (!realpath(dir, rd)) return false;
    for (size_t i = 0; i < j->n_srcs; i++) {
        if (!realpath(j->srcs[i].ms->path, rs)) continue;
        char *slash = strrchr(rs, '/');
        if (slash) *slash = '\0';
        if (strcmp(rs, rd) == 0) return true;
    }
    return false;
}

static int run(int argc, char **argv) {
    sync_opts_t o = {0};
    int npos = 0, ex = 0;
    if (vxs_cli_parse(&vxs_cmd_sync_def, argc, argv, on_opt, &o, &npos, &ex) != 0) return ex;
    if (npos != 1) return vxs_cli_usage_error("sync", "expected one SCENARIO file");
    job_t j;
    memset(&j, 0, sizeof j);
    j.o = &o;
    j.t_first = VXS_TIME_NONE;
    j.diag = (vxs_diag_sink_t){count_diag, &j};
    char err[VXS_MANIFEST_ERR_LEN + 512];
    int rc = VXS_EXIT_USAGE;
    FILE *frames = NULL;
    char frames_path[4096] = "", frames_tmp[4200] = "";
    if (vxs_manifest_load(&j.man, argv[0], err, sizeof err) != VXS_OK) {
        fprintf(stderr, "v2xsync sync: %s\n", err);
        return VXS_EXIT_USAGE;
    }
    const char *out_dir = o.out ? o.out : j.man->export_opts.out;
    if (!out_dir) {
        vxs_manifest_free(j.man);
        return vxs_cli_usage_error("sync", "no output folder: give -o DIR");
    }
    /* sources, flattened; each agent's logger clock first */
    size_t total = 0;
    for (size_t a = 0; a < j.man->n_agents; a++) total += j.man->agents[a].n_sources;
    j.srcs = vxs_calloc(total, sizeof *j.srcs);
    j.logger_node = vxs_calloc(j.man->n_agents, sizeof *j.logger_node);
    j.impossible_list = json_array();
    if (!j.srcs || !j.logger_node || !j.impossible_list) goto oom;
    for (size_t a = 0; a < j.man->n_agents; a++) {
        const size_t v = find_node(&j, VXS_CLOCK_LOGGER, (int)a, 0, 0, 0);
        if (v == SIZE_MAX) goto oom;
        snprintf(j.nodes[v].name, sizeof j.nodes[v].name, "%s/logger", j.man->agents[a].id);
        j.logger_node[a] = v;
        for (size_t k = 0; k < j.man->agents[a].n_sources; k++) {
            src_t *s = &j.srcs[j.n_srcs++];
            s->agent = a;
            s->ms = &j.man->agents[a].sources[k];
        }
    }
    /* sources in the order of (agent id, sensor id): locators, sensor numbers and output do not
     * depend on the order the manifest lists them in */
    for (size_t a = 1; a < j.n_srcs; a++)
        for (size_t b = a; b > 0 && cmp_src_name(&j.srcs[b - 1], &j.srcs[b], j.man) > 0; b--) {
            const src_t t = j.srcs[b];
            j.srcs[b] = j.srcs[b - 1];
            j.srcs[b - 1] = t;
        }
    for (size_t i = 0; i < j.n_srcs; i++) {
        src_t *s = &j.srcs[i];
        s->flat = (uint32_t)i;
        s->sensor_base = (uint32_t)i * MAX_LIDAR_STREAMS;
        for (int q = 0; q < MAX_LIDAR_STREAMS; q++) s->dev_node[q] = s->dev_edge[q] = SIZE_MAX;
        if (vxs_stream_stats_create(&s->period) != VXS_OK) goto oom;
        j.bytes_total += 2 * file_size(s->ms->path);
    }
    if (mkdir(out_dir, 0777) != 0 && errno != EEXIST) {
        fprintf(stderr, "v2xsync sync: %s: cannot create: %s\n", out_dir, strerror(errno));
        goto fail;
    }
    if (is_input_dir(&j, out_dir)) {
        fprintf(stderr,
                "v2xsync sync: %s holds input recordings; nothing is written into input folders "
                "(choose another -o)\n",
                out_dir);
        goto fail;
    }
    snprintf(frames_path, sizeof frames_path, "%s/frames.jsonl", out_dir);
    if (!o.force && access(frames_path, F_OK) == 0) {
        fprintf(stderr, "v2xsync sync: %s already exists (--force replaces it)\n", frames_path);
        goto fail;
    }

    /* pass 1 */
    vxs_cli_progress_begin(&j.prog, "sync: reading", o.quiet || o.json);
    double t = now_s();
    for (size_t i = 0; i < j.n_srcs; i++) {
        src_t *s = &j.srcs[i];
        j.cur_src = s;
        vxs_status_t st = s->ms->kind == VXS_SOURCE_LIDAR    ? index_lidar(&j, s, err, sizeof err)
                          : s->ms->kind == VXS_SOURCE_CAMERA ? index_camera(&j, s, err, sizeof err)
                                                             : index_v2x(&j, s, err, sizeof err);
        j.bytes_done += file_size(s->ms->path);
        if (st != VXS_OK) {
            vxs_cli_progress_end(&j.prog);
            fprintf(stderr, "v2xsync sync: %s\n", err);
            goto fail;
        }
        if (j.oom) goto oom;
    }
    j.cur_src = NULL;
    j.t_index = now_s() - t;
    t = now_s();
    if (solve(&j) != VXS_OK) goto oom;
    j.t_solve = now_s() - t;

    /* pass 2 */
    t = now_s();
    snprintf(frames_tmp, sizeof frames_tmp, "%s.tmp", frames_path);
    frames = fopen(frames_tmp, "w");
    if (!frames) {
        fprintf(stderr, "v2xsync sync: %s: cannot write: %s\n", frames_tmp, strerror(errno));
        goto fail;
    }
    vxs_status_t st = frame_pass(&j, frames, err, sizeof err);
    vxs_cli_progress_end(&j.prog);
    if (st != VXS_OK) {
        fprintf(stderr, "v2xsync sync: %s\n", err);
        goto fail;
    }
    if (fclose(frames) != 0) {
        frames = NULL;
        fprintf(stderr, "v2xsync sync: %s: cannot write: %s\n", frames_tmp, strerror(errno));
        goto fail;
    }
    frames = NULL;
    j.t_frames = now_s() - t;
    json_t *clocks = clocks_json(&j);
    if (!clocks) goto oom;
    st = write_json(out_dir, "clocks.json", clocks, err, sizeof err);
    json_decref(clocks);
    if (st != VXS_OK || rename(frames_tmp, frames_path) != 0) {
        fprintf(stderr, "v2xsync sync: %s\n", st != VXS_OK ? err : strerror(errno));
        goto fail;
    }
    frames_tmp[0] = '\0';
    if (o.json) {
        json_t *sum = json_pack(
            "{s:s,s:s,s:s,s:I,s:I,s:I,s:I,s:I,s:I,s:{s:f,s:f,s:f}}", "scenario", j.man->name,
            "clocks", "clocks.json", "frames_file", "frames.jsonl", "frames", (json_int_t)j.frames,
            "partial_frames", (json_int_t)j.partial_frames, "v2x_attached",
            (json_int_t)j.v2x_attached, "impossible_messages", (json_int_t)j.impossible,
            "out_of_order", (json_int_t)j.out_of_order, "damaged_units", (json_int_t)j.bad_units,
            "seconds", "index", j.t_index, "clocks", j.t_solve, "frames", j.t_frames);
        json_t *doms = json_array();
        for (size_t i = 0; i < j.n_nodes; i++)
            json_array_append_new(
                doms, json_pack("{s:s,s:s,s:o,s:o,s:o,s:i}", "name", j.nodes[i].name, "method",
                                vxs_clock_method_name(j.res[i].method), "offset_ns",
                                jnum(j.res[i].model.pieces[0].offset_ns), "drift_ppm",
                                jnum(j.res[i].model.drift * 1e6), "offset_sd_ns",
                                jnum(j.res[i].offset_sd_ns), "jumps", (int)j.res[i].jumps));
        json_object_set_new(sum, "domains", doms);
        json_object_set_new(sum, "out", json_string(out_dir));
        json_dumpf(sum, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
        putchar('\n');
        json_decref(sum);
    } else {
        print_summary(&j, out_dir);
    }
    rc = j.bad_units ? VXS_EXIT_FINDINGS : VXS_EXIT_OK;
    goto fail; /* cleanup */
oom:
    fprintf(stderr, "v2xsync sync: out of memory\n");
    rc = VXS_EXIT_USAGE;
fail:
    vxs_cli_progress_end(&j.prog);
    if (frames) fclose(frames);
    if (frames_tmp[0]) remove(frames_tmp);
    job_free(&j);
    return rc;
}

const vxs_cli_cmd_t vxs_cmd_sync_def = {
    "sync",
    "[options] SCENARIO",
    "put every recording of a scenario on one timeline: clocks.json, frames.jsonl",
    "Reads every source of the scenario manifest (README \"The scenario manifest\"; draft one\n"
    "with 'v2xsync init DIR') twice. The first pass samples each LiDAR packet's device time\n"
    "against its capture time and each V2X message's generation time against its capture time\n"
    "(messages received, and the agent's own messages as it logged them). Every clock domain\n"
    "(each agent's logger, each LiDAR's device clock, each V2X sender's clock) is then\n"
    "estimated against the reference timeline: offset, drift and jumps, with their uncertainty\n"
    "(robust lower-envelope fits, then one weighted least-squares solve; GPS-locked LiDARs and\n"
    "GNSS-timed V2X generation times anchor true time; hints are used and checked).\n"
    "The second pass cuts frames: one per record of the reference sensor (or at a fixed rate),\n"
    "with the member of every other LiDAR and camera chosen by the manifest's policy (nearest\n"
    "within tolerance by default: half the sensor's period), each with its time in its own\n"
    "clock and on the reference timeline and its dt, and the V2X messages each agent received\n"
    "in the window before the frame. A frame missing a member, or in which a V2X link fell\n"
    "silent for the whole window, is kept and marked partial with the reasons.\n\n"
    "Output: DIR/clocks.json and DIR/frames.jsonl (formats in README \"v2xsync sync\"); DIR may\n"
    "not be a folder holding input recordings. Damaged units in the inputs are reported on\n"
    "stderr with file and position, counted, and skipped.\n\n"
    "Example:\n  v2xsync synth --out drive --duration 60\n"
    "  v2xsync sync drive/scenario.json -o drive-synced\n\n"
    "Exit status: 0 ok, 1 damaged units were found (everything else was processed), 2 usage or\n"
    "input error (bad manifest, a source that cannot be opened, no output folder).\n",
    sync_opts,
    run};
