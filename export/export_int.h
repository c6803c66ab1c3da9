/*
 * export_int.h: what the export module's frame sinks share (library-internal, vxsi_ symbols).
 */
#ifndef VXS_EXPORT_INT_H
#define VXS_EXPORT_INT_H

#include <jansson.h>

#include "vxs_export.h"

/* vxsi_file_sink_t is the state every single-file frame sink starts with: its atomic file, the
 * run it was begun with, its last error. A sink's own state embeds it first. */
typedef struct {
    vxs_afile_t *f;
    const vxs_run_info_t *run;
    char err[640];
    char *line; /* vxsi_file_sink_write_line's buffer: the longest line yet */
    size_t line_cap;
} vxsi_file_sink_t;

/* vxsi_file_sink_create allocates `size` bytes of zeroed state (a struct starting with
 * vxsi_file_sink_t), opens the atomic file `path` in it and wraps it behind `ops` (whose
 * destroy must be vxsi_file_sink_destroy or call it). */
vxs_status_t vxsi_file_sink_create(vxs_frame_sink_t **out, const vxs_frame_sink_ops_t *ops,
                                   size_t size, const char *path, char *err, size_t err_len);

/* vxsi_file_sink_begin keeps the run; _errmsg returns the last error; _destroy abandons the
 * file (nothing under its name) and frees the state. For the vtables. */
vxs_status_t vxsi_file_sink_begin(void *impl, const vxs_run_info_t *run);
const char *vxsi_file_sink_errmsg(const void *impl);
void vxsi_file_sink_destroy(void *impl);

/* vxsi_file_sink_commit completes the file (flush, fsync, rename); the file is gone from the
 * state either way. */
vxs_status_t vxsi_file_sink_commit(vxsi_file_sink_t *s);

/* vxsi_file_sink_write_line writes `o` as one compact JSON line: serialised into the sink's
 * buffer (grown to the longest line) and written with one call, not token by token.
 * VXS_E_IO with the file's message in s->err, VXS_E_NOMEM. */
vxs_status_t vxsi_file_sink_write_line(vxsi_file_sink_t *s, const json_t *o);

/* vxsi_file_sink_no_frame is the frame function of sinks written at finish (they take the
 * summary only). */
vxs_status_t vxsi_file_sink_no_frame(void *impl, const vxs_frame_t *f, const vxs_fetcher_t *fetch);

/* vxsi_file_sink_write_doc writes `doc` (taken: freed here; NULL for out of memory) indented,
 * with a final newline, and commits the file; `what` names the file in messages. */
vxs_status_t vxsi_file_sink_write_doc(vxsi_file_sink_t *s, json_t *doc, const char *what);

/* vxsi_json_time returns `t` as an ISO 8601 string, JSON null for VXS_TIME_NONE. */
json_t *vxsi_json_time(vxs_time_t t);

/* vxsi_json_locator returns a record's locator as {source, index, offset, count}. */
json_t *vxsi_json_locator(const vxs_locator_t *l);

/* vxsi_json_text returns s as a JSON string (null for NULL); bytes of s that are not UTF-8 (a
 * path in another encoding) become '?' rather than the value being lost. NULL: out of memory. */
json_t *vxsi_json_text(const char *s);

/* vxsi_json_round returns v rounded to a multiple of `unit` (1e-3: millimetres), JSON null
 * when v is not finite. Lines are written with 12 significant digits, so the rounded value is
 * what appears. */
json_t *vxsi_json_round(double v, double unit);

/* vxsi_json_msg_state returns the sender state a message reports (vxs_frame_msg_t.state: ENU,
 * speed, heading, yaw rate, acceleration, size, the accuracy used) as README documents it
 * under v2x_messages.jsonl "state"; JSON null when the message has no position. */
json_t *vxsi_json_msg_state(const vxs_msg_state_t *st);

/* vxsi_json_flags returns a message's flags (VXS_MSG_*) as an array of their names. */
json_t *vxsi_json_flags(uint32_t flags);

/* vxsi_afile_nosync makes vxs_afile_commit skip the file's and its folder's fsync (the rename
 * stays atomic): for the bundle's many frame files, made durable together by one syncfs(2)
 * before bundle.json, the bundle's completion record, is committed. */
void vxsi_afile_nosync(vxs_afile_t *f);

/* ==== the bundle's folder (bundle.c), as the output set (outset.c) sees it =============== */

/* VXSI_BUNDLE_MARKER is the file a bundle run in progress keeps in its folder (its identity);
 * bundle.json replaces it when the bundle is complete. */
#define VXSI_BUNDLE_MARKER ".v2xsync-bundle"

/* vxsi_bundle_rec_t is what a folder's bundle record says: none; a v2xsync bundle in progress
 * (the marker) or finished (bundle.json); a marker or a bundle.json that is no v2xsync
 * bundle's. */
typedef enum {
    VXSI_BUNDLE_NONE = 0,
    VXSI_BUNDLE_RUNNING,
    VXSI_BUNDLE_DONE,
    VXSI_BUNDLE_FOREIGN_MARKER,
    VXSI_BUNDLE_FOREIGN
} vxsi_bundle_rec_t;

/* vxsi_bundle_record reads the record of the folder `dir` (the marker first) and, for a v2xsync
 * bundle's, its identity into `id` (16 hex digits; "" otherwise). */
vxsi_bundle_rec_t vxsi_bundle_record(const char *dir, char id[17]);

/* ==== the bundle's labels (openlabel.c) ================================================== */

/* VXSI_SEEN_POINTS: a road user is "seen" by a receiver's LiDAR when at least this many points
 * of its sweep fall inside the predicted box grown by the position's uncertainty. */
#define VXSI_SEEN_POINTS 3

/* vxsi_label_lidar_t is one receiving agent's LiDAR sweep at T for the labels' check: its points
 * in the agent's body frame as x, y, z triples. */
typedef struct {
    const float *xyz; /* NULL: the agent has no exported LiDAR member in this frame */
    size_t n;
    double range_m;     /* the sensor's range: farther objects are "out_of_range" */
    const char *stream; /* "ego/lidar" */
} vxsi_label_lidar_t;

/* vxsi_cpm_lookup_fn returns the perceived objects of message `message` of V2X source `source`
 * (a CPM the sink was given through its message function) and their number in *n, NULL when
 * they are no longer kept. */
typedef const vxs_v2x_object_t *(*vxsi_cpm_lookup_fn)(void *user, uint32_t source,
                                                      uint64_t message, size_t *n);

/* vxsi_label_ctx_t is what one frame's labels are built from, besides the frame. */
typedef struct {
    const vxs_run_info_t *run;
    const bool *agent_on;             /* per manifest agent: exported; NULL: all */
    const bool *stream_on;            /* per run stream: exported; NULL: all */
    const char *const *member_files;  /* per run stream: the member's file in the frame folder,
                                         NULL when none */
    const vxsi_label_lidar_t *lidar;  /* per manifest agent; NULL: no LiDAR check */
    vxsi_cpm_lookup_fn cpm_lookup;    /* NULL: no CPM objects */
    void *cpm_user;
    const char *annotator;            /* "v2xsync 0.1.0" */
} vxsi_label_ctx_t;

/* vxsi_openlabel_frame returns frame f's labels as an OpenLABEL 1.0.0 document (README
 * "labels.json"); NULL when out of memory. */
json_t *vxsi_openlabel_frame(const vxsi_label_ctx_t *c, const vxs_frame_t *f);

/* vxsi_qa_html writes the QA report `rep` (the document report.json holds:
 * export/report.schema.json) to `f` as one self-contained HTML page: no script, no network,
 * every chart an inline SVG (qa_html.c). VXS_E_IO when a write fails. */
vxs_status_t vxsi_qa_html(const json_t *rep, vxs_afile_t *f);

/* vxsi_remove_tree removes `path` and everything under it, a file or a folder, following no
 * symbolic link (outset.c). 0 on success or when `path` does not exist, -1 with errno. */
int vxsi_remove_tree(const char *path);

#endif /* VXS_EXPORT_INT_H */
