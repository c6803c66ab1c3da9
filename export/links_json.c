/*
 * links_json.c: the links.json sink (README "links.json"): every directed link the run counted
 * (a sender's messages of one type at one receiving V2X source) with what was delivered, lost,
 * duplicated and reordered, and its loss bursts, written at the end of the run through an
 * atomic file. The keys and their order are a documented output format: never reorder them.
 */
#include "export_int.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef vxsi_file_sink_t links_sink_t;

static json_t *ratio(uint64_t delivered, uint64_t sent) {
    return sent ? json_real((double)delivered / (double)sent) : json_null();
}

/* by_distance: delivery against the sender-receiver distance, the bins that counted anything */
static json_t *by_distance(const vxs_link_report_t *l) {
    json_t *o = json_object(), *bins = json_array(), *unknown = json_object();
    json_object_set_new(o, "bin_m", json_real(VXS_LINK_DIST_BIN_M));
    for (size_t k = 0; k < VXS_LINK_DIST_BINS; k++) {
        if (!l->dist_sent[k]) continue;
        json_t *b = json_object();
        json_object_set_new(b, "from_m", json_real((double)k * VXS_LINK_DIST_BIN_M));
        json_object_set_new(b, "to_m", k + 1 < VXS_LINK_DIST_BINS
                                           ? json_real((double)(k + 1) * VXS_LINK_DIST_BIN_M)
                                           : json_null());
        json_object_set_new(b, "sent", json_integer((json_int_t)l->dist_sent[k]));
        json_object_set_new(b, "delivered", json_integer((json_int_t)l->dist_delivered[k]));
        json_object_set_new(b, "ratio", ratio(l->dist_delivered[k], l->dist_sent[k]));
        json_array_append_new(bins, b);
    }
    json_object_set_new(o, "bins", bins);
    json_object_set_new(unknown, "sent",
                        json_integer((json_int_t)l->dist_sent[VXS_LINK_DIST_BINS]));
    json_object_set_new(unknown, "delivered",
                        json_integer((json_int_t)l->dist_delivered[VXS_LINK_DIST_BINS]));
    json_object_set_new(o, "unknown", unknown);
    return o;
}

/* by_time: delivery over the drive, bins from the span's first place */
static json_t *by_time(const vxs_link_report_t *l) {
    json_t *o = json_object(), *bins = json_array();
    json_object_set_new(o, "bin_s", json_real((double)l->time_bin_ns / 1e9));
    for (size_t k = 0; k < l->n_time_bins; k++) {
        const vxs_time_t t = l->time_t0 + (vxs_time_t)k * l->time_bin_ns;
        json_t *b = json_object();
        json_object_set_new(b, "start", vxsi_json_time(t));
        json_object_set_new(b, "start_ns", json_integer(t));
        json_object_set_new(b, "sent", json_integer((json_int_t)l->time_sent[k]));
        json_object_set_new(b, "delivered", json_integer((json_int_t)l->time_delivered[k]));
        json_object_set_new(b, "ratio", ratio(l->time_delivered[k], l->time_sent[k]));
        json_array_append_new(bins, b);
    }
    json_object_set_new(o, "bins", bins);
    return o;
}

static json_t *link_json(const vxs_run_info_t *run, const vxs_link_report_t *l) {
    const vxs_manifest_t *man = run->manifest;
    json_t *o = json_object(), *bursts = json_object();
    json_object_set_new(o, "receiver", json_string(man->agents[l->agent].id));
    json_object_set_new(o, "source",
                        json_string(l->source < run->n_sources
                                        ? run->sources[l->source].ms->sensor
                                        : "unknown"));
    json_object_set_new(o, "sender",
                        l->sender_agent >= 0 ? json_string(man->agents[l->sender_agent].id)
                                             : json_null());
    json_object_set_new(o, "station", json_integer((json_int_t)l->station));
    json_object_set_new(o, "message", json_string(vxs_v2x_type_name(l->protocol, l->msg_type)));
    json_object_set_new(o, "counted_by", json_string(l->counter));
    json_object_set_new(o, "inferred", json_boolean(l->inferred));
    json_object_set_new(o, "first_capture", vxsi_json_time(l->first_rx));
    json_object_set_new(o, "last_capture", vxsi_json_time(l->last_rx));
    json_object_set_new(o, "first_capture_ns", l->first_rx != VXS_TIME_NONE
                                                   ? json_integer(l->first_rx)
                                                   : json_null());
    json_object_set_new(o, "last_capture_ns", l->last_rx != VXS_TIME_NONE
                                                  ? json_integer(l->last_rx)
                                                  : json_null());
    json_object_set_new(o, "received", json_integer((json_int_t)l->received));
    json_object_set_new(o, "delivered", json_integer((json_int_t)l->delivered));
    json_object_set_new(o, "lost", json_integer((json_int_t)l->lost));
    json_object_set_new(o, "sent", json_integer((json_int_t)l->sent));
    json_object_set_new(o, "delivery_ratio",
                        l->sent ? json_real((double)l->delivered / (double)l->sent)
                                : json_null());
    json_object_set_new(o, "sent_logged",
                        l->has_sent_logged ? json_integer((json_int_t)l->sent_logged)
                                           : json_null());
    json_object_set_new(o, "lost_logged",
                        l->has_sent_logged && l->sent_logged + l->stale >= l->delivered
                            ? json_integer((json_int_t)(l->sent_logged + l->stale - l->delivered))
                            : json_null());
    json_object_set_new(o, "delivery_ratio_logged",
                        l->has_sent_logged && l->sent_logged
                            ? json_real((double)(l->delivered - l->stale) / (double)l->sent_logged)
                            : json_null());
    json_object_set_new(o, "duplicates", json_integer((json_int_t)l->duplicates));
    json_object_set_new(o, "reordered", json_integer((json_int_t)l->reordered));
    json_object_set_new(o, "stale", json_integer((json_int_t)l->stale));
    json_object_set_new(o, "reused", json_integer((json_int_t)l->reused));
    for (size_t k = 1; k <= VXS_LINK_BURST_BINS; k++) {
        if (!l->bursts[k]) continue;
        char key[16];
        snprintf(key, sizeof key, k < VXS_LINK_BURST_BINS ? "%zu" : "%zu+", k);
        json_object_set_new(bursts, key, json_integer((json_int_t)l->bursts[k]));
    }
    json_object_set_new(o, "loss_bursts", bursts);
    json_object_set_new(o, "longest_burst", json_integer((json_int_t)l->longest_burst));
    json_object_set_new(o, "interval_ms",
                        l->interval_s > 0 ? json_real(l->interval_s * 1e3) : json_null());
    json_t *d = json_object(), *first = json_array();
    json_object_set_new(d, "count", json_integer((json_int_t)l->dropouts));
    json_object_set_new(d, "total_s", json_real(l->dropout_total_s));
    json_object_set_new(d, "longest_s", json_real(l->dropout_longest_s));
    for (size_t k = 0; k < l->n_dropout_listed; k++) {
        const vxs_link_dropout_t *x = &l->dropout_listed[k];
        json_t *e = json_object();
        json_object_set_new(e, "start", vxsi_json_time(x->start));
        json_object_set_new(e, "end", vxsi_json_time(x->end));
        json_object_set_new(e, "start_ns", json_integer(x->start));
        json_object_set_new(e, "end_ns", json_integer(x->end));
        json_object_set_new(e, "duration_ms", json_real((double)(x->end - x->start) / 1e6));
        json_array_append_new(first, e);
    }
    json_object_set_new(d, "first", first);
    json_object_set_new(o, "dropouts", d);
    json_object_set_new(o, "by_distance", by_distance(l));
    json_object_set_new(o, "by_time", by_time(l));
    if (l->latency_n) {
        json_t *lat = json_object();
        json_object_set_new(lat, "messages", json_integer((json_int_t)l->latency_n));
        json_object_set_new(lat, "min", json_real(l->latency_min_ms));
        json_object_set_new(lat, "p50", json_real(l->latency_p50_ms));
        json_object_set_new(lat, "p95", json_real(l->latency_p95_ms));
        json_object_set_new(lat, "p99", json_real(l->latency_p99_ms));
        json_object_set_new(lat, "max", json_real(l->latency_max_ms));
        json_object_set_new(lat, "jitter", json_real(l->jitter_ms));
        json_object_set_new(o, "latency_ms", lat);
    } else {
        json_object_set_new(o, "latency_ms", json_null());
    }
    return o;
}

static vxs_status_t ls_finish(void *impl, const vxs_run_summary_t *sum) {
    links_sink_t *s = impl;
    json_t *root = json_object(), *links = json_array();
    json_object_set_new(root, "version", json_integer(1));
    json_object_set_new(root, "scenario", json_string(s->run->manifest->name));
    for (size_t i = 0; i < sum->n_links; i++)
        json_array_append_new(links, link_json(s->run, &sum->links[i]));
    json_object_set_new(root, "links", links);
    return vxsi_file_sink_write_doc(s, root, "links.json");
}

static const vxs_frame_sink_ops_t links_ops = {"links.json",         vxsi_file_sink_begin,
                                                   vxsi_file_sink_no_frame, ls_finish,
                                                   vxsi_file_sink_errmsg, vxsi_file_sink_destroy, NULL};

vxs_status_t vxs_links_json_sink_create(vxs_frame_sink_t **out, const char *path, char *err,
                                        size_t err_len) {
    return vxsi_file_sink_create(out, &links_ops, sizeof(links_sink_t), path, err, err_len);
}
