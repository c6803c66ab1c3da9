/*
 * clocks_json.c: the clocks.json sink (README "clocks.json"): every clock domain with its
 * estimate, every relation with its fitted envelope and residual, the minimum delays, the
 * two-way pairs and the impossible messages, written at the end of the run (the impossible
 * messages are found by the frame pass) through an atomic file. The keys and their order are a
 * documented output format: never reorder them.
 */
#include "export_int.h"

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef vxsi_file_sink_t clocks_sink_t;

static json_t *jnum(double v) { return isfinite(v) ? json_real(v) : json_null(); }

static const char *kind_name(vxs_clock_kind_t k) {
    switch (k) {
    case VXS_CLOCK_LOGGER: return "logger";
    case VXS_CLOCK_DEVICE: return "device";
    case VXS_CLOCK_SENDER: return "sender";
    default: return "reference";
    }
}

static json_t *domain_json(const vxs_manifest_t *man, const vxs_clock_report_t *R,
                           const vxs_clock_info_t *n) {
    const vxs_clock_result_t *r = &n->est;
    json_t *d = json_object();
    json_object_set_new(d, "name", json_string(n->name));
    json_object_set_new(d, "kind", json_string(kind_name(n->kind)));
    if (n->agent >= 0) json_object_set_new(d, "agent", json_string(man->agents[n->agent].id));
    if (n->kind == VXS_CLOCK_SENDER) {
        json_object_set_new(d, "station", json_integer((json_int_t)n->station));
        json_object_set_new(d, "time_field", json_string(vxs_v2x_time_field_name(n->field)));
    }
    json_object_set_new(d, "method", json_string(vxs_clock_method_name(r->method)));
    json_object_set_new(d, "identifiability", json_string(vxs_clock_ident_name(r->ident)));
    if (r->limited_by < R->n_relations) {
        const vxs_clock_relation_t *E = &R->relations[r->limited_by];
        json_object_set_new(d, "limited_by",
                            json_sprintf("%s -> %s (%s)", R->clocks[E->from].name,
                                         R->clocks[E->to].name, vxs_delay_class_name(E->delay)));
    }
    json_object_set_new(d, "offset_ns", jnum(r->model.pieces[0].offset_ns));
    json_object_set_new(d, "drift_ppm", jnum(r->model.drift * 1e6));
    json_object_set_new(d, "offset_sd_ns", jnum(r->offset_sd_ns));
    json_object_set_new(d, "drift_sd_ppm", jnum(r->drift_sd * 1e6));
    json_t *pieces = json_array();
    for (size_t k = 0; k < r->model.n_pieces; k++)
        json_array_append_new(
            pieces, json_pack("{s:o,s:o,s:o,s:o,s:o}", "from_ref_ns",
                              k ? json_integer(r->model.pieces[k].from_ref) : json_null(),
                              "from_span_ns",
                              k ? json_integer(r->model.pieces[k].from_span_ns) : json_null(),
                              "offset_ns", jnum(r->model.pieces[k].offset_ns), "drift_ppm",
                              jnum((r->model.drift + r->model.pieces[k].drift_delta) * 1e6),
                              "step_ns", jnum(vxs_clock_piece_step(&r->model, k))));
    json_object_set_new(d, "pieces", pieces);
    json_object_set_new(d, "jumps", json_integer(r->jumps));
    json_object_set_new(d, "rate_changes", json_integer(r->rate_changes));
    json_object_set_new(d, "samples", json_integer((json_int_t)r->samples));
    json_object_set_new(d, "relations", json_integer(r->edges));
    if (n->hint) {
        json_t *h = json_object();
        json_object_set_new(h, "kind", json_string(n->hint));
        if (n->has_offset) json_object_set_new(h, "offset_ns", json_integer(n->offset_ns));
        json_object_set_new(h, "checked", json_boolean(r->hint_checked));
        json_object_set_new(h, "rejected", json_boolean(r->hint_rejected));
        if (r->hint_checked) json_object_set_new(h, "residual_ns", jnum(r->hint_residual_ns));
        json_object_set_new(d, "hint", h);
    }
    return d;
}

static json_t *relation_json(const vxs_clock_report_t *R, const vxs_clock_relation_t *E) {
    json_t *r = json_object();
    json_object_set_new(r, "from", json_string(R->clocks[E->from].name));
    json_object_set_new(r, "to", json_string(R->clocks[E->to].name));
    json_object_set_new(r, "delay_class", json_string(vxs_delay_class_name(E->delay)));
    json_object_set_new(r, "samples", json_integer((json_int_t)E->samples));
    json_object_set_new(r, "windows", json_integer(E->windows));
    json_object_set_new(r, "windows_below", json_integer(E->windows_below));
    json_object_set_new(r, "windows_above", json_integer(E->windows_above));
    json_t *pieces = json_array();
    for (size_t k = 0; k < E->n_pieces; k++) {
        const vxs_relation_piece_t *p = &E->pieces[k];
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
    if (E->has_residual) json_object_set_new(r, "residual_ns", jnum(E->residual_ns));
    json_object_set_new(r, "floor_ns", jnum(E->floor_ns));
    json_object_set_new(r, "floor_sd_ns", jnum(E->floor_sd_ns));
    json_object_set_new(r, "floor", json_string(E->floor_clamped    ? "clamped"
                                                : E->floor_measured ? "measured"
                                                                    : "prior"));
    /* the envelope over time: one row per point, the columns named once */
    json_t *env = json_object(), *rows = json_array();
    json_object_set_new(env, "columns",
                        json_pack("[s,s,s,s,s]", "t_ref_ns", "x_ns", "fit_resid_ns",
                                  "model_resid_ns", "windows"));
    for (size_t k = 0; k < E->n_resid; k++) {
        const vxs_relation_resid_t *p = &E->resid[k];
        json_array_append_new(
            rows, json_pack("[o,I,o,o,i]",
                            p->t_ref != VXS_TIME_NONE ? json_integer(p->t_ref) : json_null(),
                            (json_int_t)p->x, vxsi_json_round(p->fit_ns, 1.0),
                            vxsi_json_round(p->model_ns, 1.0), (int)p->windows));
    }
    json_object_set_new(env, "points", rows);
    json_object_set_new(r, "envelope", env);
    return r;
}

/* clocks_json builds the whole document. NULL when out of memory. */
static json_t *clocks_json(const vxs_run_info_t *run, const vxs_run_summary_t *sum) {
    const vxs_manifest_t *man = run->manifest;
    const vxs_clock_report_t *R = run->clocks;
    json_t *root = json_object();
    if (!root) return NULL;
    json_object_set_new(root, "version", json_integer(1));
    json_object_set_new(root, "scenario", json_string(man->name));
    json_object_set_new(root, "epoch_ns", json_integer(R->epoch));
    json_object_set_new(root, "epoch", vxsi_json_time(R->epoch));
    if (R->reference_clock != SIZE_MAX)
        json_object_set_new(root, "reference",
                            json_pack("{s:s,s:s}", "kind", "clock", "domain",
                                      R->clocks[R->reference_clock].name));
    else
        json_object_set_new(root, "reference",
                            json_pack("{s:s}", "kind", "anchors (GNSS/PPS time, known offsets)"));
    json_object_set_new(root, "hints_rejected", json_integer(R->hints_rejected));
    json_t *delays = json_object();
    for (int c = 0; c < VXS_DELAY_CLASSES; c++)
        if (R->delay_used[c])
            json_object_set_new(delays, vxs_delay_class_name((vxs_delay_class_t)c),
                                json_pack("{s:o,s:o,s:i}", "prior_ns", jnum(R->delay_ns[c]),
                                          "prior_sd_ns", jnum(R->delay_sd_ns[c]),
                                          "measured_links", (int)R->floors_measured[c]));
    json_object_set_new(root, "min_delays", delays);
    json_t *doms = json_array();
    for (size_t i = 0; i < R->n_clocks; i++) json_array_append_new(doms, domain_json(man, R, &R->clocks[i]));
    json_object_set_new(root, "domains", doms);
    json_t *rels = json_array();
    for (size_t e = 0; e < R->n_relations; e++)
        json_array_append_new(rels, relation_json(R, &R->relations[e]));
    json_object_set_new(root, "relations", rels);
    json_t *pairs = json_array();
    for (size_t p = 0; p < R->n_pairs; p++) {
        const vxs_clock_pair_t *P = &R->pairs[p];
        json_array_append_new(
            pairs, json_pack("{s:s,s:s,s:o,s:o,s:o}", "a", man->agents[P->a].id, "b",
                             man->agents[P->b].id, "offset_ns", jnum(P->offset_ns),
                             "min_latency_ns", jnum(P->min_latency_ns), "solver_offset_ns",
                             jnum(P->solver_offset_ns)));
    }
    json_object_set_new(root, "pairs", pairs);
    json_t *first = json_array();
    for (size_t i = 0; i < sum->n_impossible_listed; i++) {
        const vxs_impossible_msg_t *m = &sum->impossible_listed[i];
        json_array_append_new(
            first, json_pack("{s:s,s:I,s:I,s:I}", "file", run->sources[m->source].ms->path,
                             "record", (json_int_t)m->record, "byte_offset",
                             (json_int_t)m->byte_offset, "latency_ns", (json_int_t)m->latency_ns));
    }
    json_object_set_new(root, "impossible_messages",
                        json_pack("{s:I,s:o}", "count", (json_int_t)sum->impossible, "first",
                                  first));
    return root;
}

static vxs_status_t cs_finish(void *impl, const vxs_run_summary_t *sum) {
    clocks_sink_t *s = impl;
    return vxsi_file_sink_write_doc(s, clocks_json(s->run, sum), "clocks.json");
}

static const vxs_frame_sink_ops_t clocks_ops = {"clocks.json",         vxsi_file_sink_begin,
                                                   vxsi_file_sink_no_frame, cs_finish,
                                                   vxsi_file_sink_errmsg, vxsi_file_sink_destroy, NULL};

vxs_status_t vxs_clocks_json_sink_create(vxs_frame_sink_t **out, const char *path, char *err,
                                         size_t err_len) {
    return vxsi_file_sink_create(out, &clocks_ops, sizeof(clocks_sink_t), path, err, err_len);
}
