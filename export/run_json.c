/*
 * run_json.c: the run.json sink (README "run.json"): what the run read and made, written at the
 * end of the run through an atomic file. Per source: its file, its records, the timing of its
 * records (rate, intervals, jitter, gaps, order, duplicates) and its damaged units with their
 * positions; the frames' streams; the run's totals. The QA report (qa.c) reads it beside
 * clocks.json, links.json and frames.jsonl. The keys and their order are a documented output
 * format: never reorder them.
 */
#include "export_int.h"

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef vxsi_file_sink_t run_sink_t;

static json_t *ms_or_null(double ns) { return ns > 0 ? json_real(ns / 1e6) : json_null(); }

static json_t *unit_or_null(uint64_t u, uint64_t count) {
    return count ? json_integer((json_int_t)u) : json_null();
}

/* timing_json: the source's record times (vxs_stream_summary_t), null when it has none */
static json_t *timing_json(const vxs_run_source_t *s) {
    if (!s->timing_of) return json_null();
    const vxs_stream_summary_t *t = &s->timing;
    json_t *o = json_object();
    json_object_set_new(o, "of", json_string(s->timing_of));
    json_object_set_new(o, "count", json_integer((json_int_t)t->count));
    json_object_set_new(o, "untimed", json_integer((json_int_t)t->untimed));
    json_object_set_new(o, "first", vxsi_json_time(t->first));
    json_object_set_new(o, "last", vxsi_json_time(t->last));
    json_object_set_new(o, "first_ns", t->first != VXS_TIME_NONE ? json_integer(t->first)
                                                                 : json_null());
    json_object_set_new(o, "last_ns", t->last != VXS_TIME_NONE ? json_integer(t->last)
                                                               : json_null());
    json_object_set_new(o, "min_ns", t->min != VXS_TIME_NONE ? json_integer(t->min)
                                                             : json_null());
    json_object_set_new(o, "max_ns", t->max != VXS_TIME_NONE ? json_integer(t->max)
                                                             : json_null());
    json_object_set_new(o, "span_s", t->min != VXS_TIME_NONE && t->max != VXS_TIME_NONE
                                         ? json_real((double)(t->max - t->min) / 1e9)
                                         : json_null());
    json_object_set_new(o, "rate_hz", json_real(t->rate_hz));
    json_object_set_new(o, "median_interval_ms", ms_or_null((double)t->median_interval_ns));
    json_object_set_new(o, "mean_interval_ms", ms_or_null(t->mean_interval_ns));
    json_object_set_new(o, "jitter_ms", json_real(t->jitter_ns / 1e6));
    json_object_set_new(o, "min_interval_ms", ms_or_null((double)t->min_interval_ns));
    json_object_set_new(o, "max_interval_ms", ms_or_null((double)t->max_interval_ns));
    json_object_set_new(o, "gaps", json_integer((json_int_t)t->gaps));
    json_object_set_new(o, "gap_threshold_ms", ms_or_null((double)t->gap_threshold_ns));
    json_object_set_new(o, "out_of_order", json_integer((json_int_t)t->out_of_order));
    json_object_set_new(o, "first_out_of_order_unit",
                        unit_or_null(t->first_out_of_order_unit, t->out_of_order));
    json_object_set_new(o, "max_backstep_ms", json_real((double)t->max_backstep_ns / 1e6));
    json_object_set_new(o, "duplicates", json_integer((json_int_t)t->duplicates));
    json_object_set_new(o, "first_duplicate_unit",
                        unit_or_null(t->first_duplicate_unit, t->duplicates));
    json_t *gaps = json_array();
    for (size_t k = 0; k < s->n_gaps; k++) {
        const vxs_gap_t *g = &s->gaps[k];
        json_array_append_new(
            gaps, json_pack("{s:o,s:I,s:f,s:I}", "start", vxsi_json_time(g->start), "start_ns",
                            (json_int_t)g->start, "length_ms", (double)g->length_ns / 1e6,
                            "unit", (json_int_t)g->unit));
    }
    json_object_set_new(o, "largest_gaps", gaps);
    return o;
}

static json_t *source_json(const vxs_run_info_t *run, size_t i) {
    const vxs_run_source_t *s = &run->sources[i];
    json_t *o = json_object();
    json_object_set_new(o, "index", json_integer((json_int_t)i));
    json_object_set_new(o, "agent", json_string(run->manifest->agents[s->agent].id));
    json_object_set_new(o, "sensor", json_string(s->ms->sensor));
    json_object_set_new(o, "kind", json_string(vxs_source_kind_name(s->ms->kind)));
    json_object_set_new(o, "path", vxsi_json_text(s->ms->path));
    json_object_set_new(o, "records", json_integer((json_int_t)s->records));
    json_object_set_new(o, "timing", timing_json(s));
    json_t *d = json_object(), *first = json_array();
    json_object_set_new(d, "count", json_integer((json_int_t)s->bad_units));
    for (size_t k = 0; k < s->n_damaged; k++) {
        const vxs_damage_t *x = &s->damaged[k];
        json_array_append_new(
            first, json_pack("{s:o,s:I,s:s,s:o}", "unit",
                             x->unit ? json_integer((json_int_t)x->unit) : json_null(),
                             "byte_offset", (json_int_t)x->offset, "status",
                             vxs_status_name(x->status), "message", vxsi_json_text(x->msg)));
    }
    json_object_set_new(d, "first", first);
    json_object_set_new(o, "damaged", d);
    return o;
}

/* run_json builds the whole document. */
static json_t *run_json(const vxs_run_info_t *run, const vxs_run_summary_t *sum) {
    const vxs_manifest_t *man = run->manifest;
    json_t *root = json_object();
    if (!root) return NULL;
    json_object_set_new(root, "version", json_integer(1));
    json_object_set_new(root, "scenario", json_string(man->name));
    json_t *agents = json_array();
    for (size_t a = 0; a < man->n_agents; a++)
        json_array_append_new(agents, json_pack("{s:s,s:s}", "id", man->agents[a].id, "type",
                                                vxs_agent_type_name(man->agents[a].type)));
    json_object_set_new(root, "agents", agents);
    json_t *srcs = json_array();
    for (size_t i = 0; i < run->n_sources; i++) json_array_append_new(srcs, source_json(run, i));
    json_object_set_new(root, "sources", srcs);
    json_t *streams = json_array();
    for (size_t k = 0; k < run->n_streams; k++) {
        const vxs_frame_stream_t *st = &run->streams[k];
        json_array_append_new(
            streams,
            json_pack("{s:s,s:s,s:I,s:s,s:f,s:b}", "name", st->name, "kind",
                      vxs_source_kind_name(st->kind), "source", (json_int_t)st->source, "clock",
                      run->clocks->clocks[st->clock].name, "tolerance_ms",
                      (double)st->tolerance_ns / 1e6, "reference", st->reference));
    }
    json_object_set_new(root, "streams", streams);
    json_t *fr = json_object();
    json_object_set_new(fr, "policy", json_string(run->fixed_rate ? "fixed_rate"
                                                                  : "reference_sensor"));
    json_object_set_new(fr, "from", vxsi_json_time(run->t_from));
    json_object_set_new(fr, "to", vxsi_json_time(run->t_to));
    json_object_set_new(fr, "count", json_integer((json_int_t)sum->frames));
    json_object_set_new(fr, "partial", json_integer((json_int_t)sum->partial_frames));
    json_object_set_new(fr, "v2x_window_ms", json_real((double)run->v2x_window_ns / 1e6));
    json_object_set_new(fr, "v2x_attached", json_integer((json_int_t)sum->v2x_attached));
    json_object_set_new(fr, "members_out_of_order", json_integer((json_int_t)sum->out_of_order));
    json_object_set_new(root, "frames", fr);
    json_t *tot = json_object();
    json_object_set_new(tot, "damaged_units", json_integer((json_int_t)sum->damaged_units));
    json_object_set_new(tot, "impossible_messages", json_integer((json_int_t)sum->impossible));
    json_object_set_new(tot, "v2x_out_of_range", json_integer((json_int_t)sum->v2x_out_of_range));
    json_object_set_new(tot, "rate_changes_dropped", json_integer(sum->rate_changes_dropped));
    json_object_set_new(tot, "links", json_integer((json_int_t)sum->n_links));
    json_object_set_new(root, "totals", tot);
    return root;
}

static vxs_status_t rs_finish(void *impl, const vxs_run_summary_t *sum) {
    run_sink_t *s = impl;
    return vxsi_file_sink_write_doc(s, run_json(s->run, sum), "run.json");
}

static const vxs_frame_sink_ops_t run_ops = {"run.json",         vxsi_file_sink_begin,
                                             vxsi_file_sink_no_frame, rs_finish,
                                             vxsi_file_sink_errmsg, vxsi_file_sink_destroy, NULL};

vxs_status_t vxs_run_json_sink_create(vxs_frame_sink_t **out, const char *path, char *err,
                                      size_t err_len) {
    return vxsi_file_sink_create(out, &run_ops, sizeof(run_sink_t), path, err, err_len);
}
