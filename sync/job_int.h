/*
 * job_int.h: the sync job's state, shared by job.c (sources, the index pass, the clock graph
 * and its solve) and frames.c (the frame pass). Library-internal: vxsi_ symbols only.
 */
#ifndef VXS_JOB_INT_H
#define VXS_JOB_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vxs_core_int.h"
#include "vxs_sync.h"

#define JOB_STREAMS VXS_STREAMS_PER_SOURCE /* LiDAR streams per capture sampled for clocks */
#define JOB_ERR_LEN 1024

/* node_t is one clock domain of the graph. */
typedef struct {
    char name[160];
    vxs_clock_kind_t kind;
    int agent;        /* logger, device: the recording agent; sender: its owner (-1 unknown) */
    uint32_t sensor;  /* device: the record's sensor number */
    uint64_t station; /* sender */
    vxs_v2x_time_field_t field;
    const char *hint; /* "gps_locked", "gnss", "offset_ns" or NULL */
    bool anchored, has_offset;
    int64_t offset_ns;
} node_t;

/* edge_t is one relation: samples of `src` against `dst` in an offset series. */
typedef struct {
    size_t src, dst;
    vxs_delay_class_t delay;
    vxs_series_t *series;
    vxs_series_fit_t fit;
    bool refit; /* fit is vxs_series_fit_cut's (steps' spans or cuts), not vxs_series_fit's */
} edge_t;

/* jsrc_t is one source of the job, in the job's order. */
typedef struct {
    vxs_job_t *job;
    size_t index;
    size_t agent;
    const vxs_manifest_source_t *ms;
    vxs_source_t *src;
    vxs_diag_sink_t diag;        /* job_diag on this source */
    uint32_t sensor_base;        /* index * VXS_STREAMS_PER_SOURCE */
    uint64_t size;               /* bytes, for progress */
    uint64_t records, bad;
    vxs_stream_stats_t *period;  /* record times: sweep device starts, frame and message
                                    capture times */
    vxs_damage_t *damaged;       /* the first VXS_DAMAGE_LISTED bad units (allocated at the
                                    first) */
    size_t n_damaged;
    uint64_t pps_seen, pps_locked;
    /* its first position fix (V2X messages, LiDAR NMEA): the ENU origin's candidates */
    bool has_fix, fix_has_alt;
    double fix_lat, fix_lon, fix_alt;
    vxs_time_t fix_capture; /* on the agent's logger clock */
    uint64_t fix_record;    /* its unit number in the file, from 1 */
    /* the agent's latest position it sent (V2X sources): the receiver's end of a distance */
    bool has_own;
    double own_lat, own_lon;
    vxs_time_t own_capture;
    size_t dev_node[JOB_STREAMS]; /* SIZE_MAX: none yet */
    size_t dev_edge[JOB_STREAMS];
} jsrc_t;

typedef struct {
    uint64_t station;
    int agent;
} owner_t;

typedef struct {
    size_t agent; /* receiving agent */
    uint64_t station;
    uint64_t count;
} heard_t;

/* lat_hist_t is one link's latencies in constant memory: bins 1 % wide from 10 µs to about 220 s
 * (bin 0: below 10 µs, negative ones too), the exact extremes, and the change between
 * consecutive messages for the jitter. */
#define LAT_BINS 1700
typedef struct {
    uint32_t bins[LAT_BINS];
    uint64_t n;
    double min_ns, max_ns, prev_ns, sum_abs_change_ns;
} lat_hist_t;

/* vxsi_lat_add gives a latency (ns) to the histogram; vxsi_lat_quantile returns its q-quantile
 * in ms (links.c). */
void vxsi_lat_add(lat_hist_t *h, int64_t latency_ns);
double vxsi_lat_quantile(const lat_hist_t *h, double q);

/* vxsi_job_grow makes *p (an array of *cap elements of `elem` bytes) hold at least `need`,
 * doubling; false when out of memory (the array left as it was). */
bool vxsi_job_grow(void **p, size_t *cap, size_t need, size_t elem);

/* jlink_t counts one sender's messages of one type at one receiving V2X source (vxs_link_t). */
typedef struct {
    size_t src;       /* the receiving source */
    uint64_t station;
    uint16_t protocol, msg_type;
    vxs_time_t first_rx, last_rx;
    vxs_time_t first_gen, last_gen; /* of the messages received (sender's clock) */
    vxs_v2x_time_field_t field;     /* the time field they were read from (the first's) */
    uint64_t sent_logged;           /* the frame pass: the sender's own log in that span */
    vxs_link_t acc;
    uint64_t dropouts;
    double dropout_total_s, dropout_longest_s;
    vxs_link_dropout_t dropout_listed[VXS_LINK_DROPOUTS_LISTED]; /* on the logger clock */
    size_t n_dropout_listed;
} jlink_t;

enum { STAGE_NEW = 0, STAGE_INDEXED = 1, STAGE_SOLVED = 2, STAGE_FRAMED = 3 };

struct vxs_job {
    vxs_job_options_t opt;
    const vxs_manifest_t *man;
    int stage;
    jsrc_t *srcs;
    size_t n_srcs;
    /* the clock graph */
    node_t *nodes;
    size_t n_nodes, cap_nodes;
    edge_t *edges;
    size_t n_edges, cap_edges;
    size_t *logger_node; /* per agent */
    vxs_clock_result_t *res;
    vxs_clock_edge_result_t *eres;
    vxs_clock_solution_t sol;
    vxs_time_t epoch;
    vxs_time_t t_first;       /* the earliest capture time read */
    vxs_time_t *agent_first;  /* per agent, the earliest capture time on its logger */
    owner_t *owners;
    size_t n_owners, cap_owners;
    heard_t *heard;
    size_t n_heard, cap_heard;
    jlink_t *links; /* counted links, in the order first heard */
    size_t n_links, cap_links;
    vxs_link_report_t *link_reports; /* the summary's, by (source, station, type) */
    lat_hist_t *link_lat;            /* ... their latencies, the frame pass's */
    bool oom;
    bool quiet_diag; /* the frame pass: its bad units were reported by the index pass */
    /* progress */
    uint64_t bytes_total, bytes_done;
    bool canceled;
    /* what sinks see */
    vxs_clock_info_t *clocks;
    vxs_clock_relation_t *rels;
    vxs_clock_pair_t *pairs;
    size_t n_pairs;
    vxs_clock_report_t report;
    vxs_run_source_t *run_srcs;
    vxs_relation_resid_t *resid; /* every relation's residual series, VXS_RELATION_RESID_MAX
                                    each */
    vxs_frame_stream_t *streams; /* filled by the frame pass */
    char (*stream_names)[200];   /* their names ("ego/lidar"), as long as the job */
    vxs_run_info_t run;
    char origin_from[600];       /* run.origin_from */
    vxs_run_summary_t sum;
    vxs_impossible_msg_t impossible[VXS_IMPOSSIBLE_LISTED];
    char err[JOB_ERR_LEN];
};

/* vxsi_job_progress reports `pos` bytes of the current source on top of the finished ones; sets
 * job->canceled when the callback asks to stop. */
void vxsi_job_progress(vxs_job_t *job, uint64_t pos);

/* vxsi_job_owner_of returns the agent logging `station` as sent, -1 when none does. */
int vxsi_job_owner_of(const vxs_job_t *job, uint64_t station);

/* vxsi_job_sender_node returns the node of the sender clock (station, field), SIZE_MAX if none. */
size_t vxsi_job_sender_node(const vxs_job_t *job, uint64_t station, vxs_v2x_time_field_t field);

/* vxsi_job_frame_pass runs the frame pass into the sinks (vxs_job_frames). */
vxs_status_t vxsi_job_frame_pass(vxs_job_t *job, vxs_time_t t_from, vxs_time_t t_to,
                                 vxs_frame_sink_t *const *sinks, size_t n_sinks);

#endif /* VXS_JOB_INT_H */
