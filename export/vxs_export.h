/*
 * vxs_export.h: the public API of v2xsync's export module (the writers).
 *
 * Every output v2xsync writes goes through an atomic file: bytes go to a temporary file beside
 * the final one, which is flushed, fsync()ed and renamed into place only when complete, so a
 * crash or an error never leaves a half-written file under its final name (DESIGN.md
 * "Outputs"). Writers of records implement the core sink interface (vxs_sink_ops_t); writers of
 * the sync job's output implement the frame sink (vxs_frame.h vxs_frame_sink_ops_t) and are fed
 * by the job (vxs_sync.h section 5) without knowing it: export/ includes core/ only.
 *
 * Here: the atomic file, the records sink (`v2xsync inspect --records`), the frames.jsonl and
 * clocks.json sinks (`v2xsync sync`), and the PNG writer.
 */
#ifndef VXS_EXPORT_H
#define VXS_EXPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vxs_core.h"
#include "vxs_frame.h"

#ifdef __cplusplus
extern "C" {
#endif

/* vxs_afile_t is an output file written atomically. */
typedef struct vxs_afile vxs_afile_t;

/* vxs_afile_open creates a temporary file "<path>.tmp.<unique suffix>" (mode 0666 less the
 * umask) in the folder of `path` (which must exist) and returns a handle on it in *out. Nothing exists under `path` until
 * vxs_afile_commit succeeds. Errors: VXS_E_IO (message in `err`, naming the file), VXS_E_NOMEM.
 * The caller ends it with vxs_afile_commit or vxs_afile_abort. The special path "-" writes to
 * standard output directly (commit flushes, abort does nothing). */
vxs_status_t vxs_afile_open(vxs_afile_t **out, const char *path, char *err, size_t err_len);

/* vxs_afile_write appends `len` bytes. VXS_E_IO on failure (disk full...), after which commit
 * fails too. */
vxs_status_t vxs_afile_write(vxs_afile_t *f, const void *data, size_t len);

/* vxs_afile_printf appends formatted text. */
vxs_status_t vxs_afile_printf(vxs_afile_t *f, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

/* vxs_afile_commit flushes, fsyncs and renames the temporary file to its final name, fsyncs the
 * folder so the rename itself survives a crash, then frees `f`. The file gets the permissions
 * the process umask gives a new file. If any write failed or the rename fails, it removes the
 * temporary file instead, writes a message naming the file into `err` (may be NULL) and returns
 * VXS_E_IO. `f` is freed in every case. */
vxs_status_t vxs_afile_commit(vxs_afile_t *f, char *err, size_t err_len);

/* vxs_afile_abort removes the temporary file and frees `f`. Accepts NULL. */
void vxs_afile_abort(vxs_afile_t *f);

/* vxs_afile_errmsg returns the last error of `f` naming its file, "" if none. Never NULL. */
const char *vxs_afile_errmsg(const vxs_afile_t *f);

/* vxs_jsonl_sink_create returns in *out a sink that writes each record it is given as one JSON
 * object per line to `path` (atomically; "-" for standard output). The line holds the record's
 * kind, agent, sensor, capture_ns, device_ns (when present), the device clock's name, seq (when
 * present), the locator {source, index, offset, count} and the summary of its kind, e.g. for a
 * packet {"caplen","wirelen","ethertype","ip_version","ip_proto","src","dst","src_port",
 * "dst_port"}. Payloads are not written. The file appears under `path` when the sink is
 * finished; a sink destroyed before vxs_sink_finish leaves nothing behind. */
vxs_status_t vxs_jsonl_sink_create(vxs_sink_t **out, const char *path, char *err,
                                   size_t err_len);

/* ==== The sync job's outputs ============================================================= */

/* vxs_frames_jsonl_sink_create returns in *out a frame sink writing `path` (README
 * "frames.jsonl"): one JSON object per frame and line with the frame's number, T, every member
 * (its record's locator, clock, own time, reference time and dt, or the status and the nearest
 * refused item's dt), the V2X messages each receiving agent had in the window (sender, station,
 * type, locator, capture, reception and generation times, latency, age) with its links' state,
 * the frame's status and its reasons. Payloads are not fetched. The file is written to a
 * temporary name beside `path` (whose folder must exist) and renamed into place by finish;
 * destroyed before that, the sink leaves nothing under `path`. Errors: VXS_E_IO (with `err`
 * naming the file), VXS_E_NOMEM. */
vxs_status_t vxs_frames_jsonl_sink_create(vxs_frame_sink_t **out, const char *path, char *err,
                                          size_t err_len);

/* vxs_clocks_json_sink_create returns in *out a frame sink writing `path` (README
 * "clocks.json") at finish: the epoch, the reference, the minimum delays, every clock domain
 * with its estimate and hint, every relation with its fitted envelope and residual, the two-way
 * pairs, and the impossible messages with their file positions. Atomic like the frames sink. */
vxs_status_t vxs_clocks_json_sink_create(vxs_frame_sink_t **out, const char *path, char *err,
                                         size_t err_len);

/* vxs_links_json_sink_create returns in *out a frame sink writing `path` (README "links.json")
 * at finish: every link the run counted by its sender's message counter (vxs_run_summary_t
 * links), with what was delivered, lost, duplicated and reordered and its loss bursts. Atomic
 * like the frames sink. */
vxs_status_t vxs_links_json_sink_create(vxs_frame_sink_t **out, const char *path, char *err,
                                        size_t err_len);

/* vxs_v2x_messages_jsonl_sink_create returns in *out a frame sink writing `path` (README
 * "v2x_messages.jsonl"): one JSON object per received V2X message and receiver, in each
 * source's reception order: where it is in its file, sender, type, reception and generation
 * times on the reference timeline, latency with its uncertainty, flags, the fields it reports
 * as decoded and the sender's state in the scenario's ENU frame. Atomic like the frames sink. */
vxs_status_t vxs_v2x_messages_jsonl_sink_create(vxs_frame_sink_t **out, const char *path,
                                                char *err, size_t err_len);

/* vxs_run_json_sink_create returns in *out a frame sink writing `path` (README "run.json") at
 * finish: the agents; every source with its file, records, the timing of its records (rate,
 * intervals, jitter, gaps with the largest listed, out-of-order and duplicate times) and its
 * damaged units (counted; the first listed with unit, byte offset and message); the frames'
 * streams; the frames and the run's totals. Atomic like the frames sink. */
vxs_status_t vxs_run_json_sink_create(vxs_frame_sink_t **out, const char *path, char *err,
                                      size_t err_len);

/* ==== The labeled bundle ================================================================ */

/* VXS_BUNDLE_POINT_SIZE is the size of one point record of a bundle's .pts.lz4 files
 * (little-endian, no padding but the last 3 bytes):
 *     0 f32 x, 4 f32 y, 8 f32 z       metres, the sensor's frame (x forward, y left, z up)
 *     12 f32 intensity                as the reader gives it (vxs_point_t)
 *     16 i64 t_ns                     firing time - T, both on the reference timeline
 *     24 u16 ring                     laser (Velodyne) / beam row (Ouster)
 *     26 u16 azimuth                  0.01 degree units
 *     28 u8  return                   VXS_RET_* bits
 *     29 u8[3] zero */
#define VXS_BUNDLE_POINT_SIZE 32

/* VXS_BUNDLE_FORMAT_VERSION is bundle.json's "format_version". */
#define VXS_BUNDLE_FORMAT_VERSION 1

/* vxs_bundle_stats_t is what a bundle sink did: counts, and seconds per stage summed over the
 * threads that ran it (decode: payload fetches; points: records and the body frame; png, lz4:
 * encoding; labels: building and serialising labels.json and frame.json; write: files written
 * and hashed; verify: a resumed run's checks of the frames already written). */
typedef struct {
    uint64_t frames;         /* frames exported (written or reused) */
    uint64_t frames_reused;  /* --resume: frames found complete and kept */
    uint64_t images, clouds, points;
    uint64_t bytes;          /* bytes of the files written */
    uint64_t raw_bytes;      /* their content before PNG / LZ4 compression */
    double s_decode, s_points, s_png, s_lz4, s_labels, s_write, s_verify, s_inputs;
    unsigned threads;
} vxs_bundle_stats_t;

/* vxs_bundle_options_t configures a bundle sink. Zero is the default of every field but
 * `manifest`, `scenario_path` and `png_level`. */
typedef struct {
    const vxs_manifest_t *manifest; /* the scenario run (required) */
    const char *scenario_path;      /* its file: hashed, and named in bundle.json (required) */
    const char *command;            /* the command line that stands for the settings, for
                                       bundle.json (NULL: none) */
    uint32_t every;                 /* export every Nth frame the job gives (0, 1: each) */
    const char *const *agents;      /* agent ids to export (n_agents; 0: all) */
    size_t n_agents;
    const char *const *sensors;     /* "agent/sensor" streams to export (n_sensors; 0: all of
                                       the exported agents) */
    size_t n_sensors;
    int png_level;                  /* zlib level 0 (stored) .. 9; 1: the measured default (UP
                                       filter, Z_RLE); 2..9 use zlib's default strategy */
    double from_s, to_s;            /* the time range asked for, seconds from the clocks'
                                       epoch, recorded in bundle.json (NaN: unbounded) */
    bool resume;                    /* keep the frames a killed run completed (they are
                                       checked against their checksums) */
    bool force;                     /* replace a bundle of another scenario or settings */
    unsigned threads;               /* encoding threads (0: 2) */
    vxs_bundle_stats_t *stats;      /* filled by finish when not NULL */
} vxs_bundle_options_t;

/* vxs_bundle_sink_create returns in *out a frame sink writing a labeled training bundle into the
 * folder `dir` (which must exist; README "The bundle"): for every exported frame F (8 digits)
 * each member's payload under sensors/<agent>/<sensor>/ (camera: the decoded frame as F.png;
 * LiDAR: the sweep's points as VXS_BUNDLE_POINT_SIZE records in the LZ4 frame format,
 * F.pts.lz4), the frame's labels (labels/F.json: ASAM OpenLABEL 1.0.0) and, last, its index
 * (frames/F.json: members, files, checksums, transforms, poses); files.xxh64 (every frame
 * file's XXH64, as xxhsum prints it) and, at finish, bundle.json (settings, inputs with their
 * checksums, agents, sensors, frames, the clocks, the checksums of the other outputs in `dir`),
 * the bundle's completion record. Payloads are fetched on the job's thread only for the frames
 * and members exported; PNG and LZ4 encoding and writing run on o->threads threads with a
 * bounded number of frames in flight. Every file is written atomically; the sink must be
 * finished after the other sinks writing into `dir` (it checksums their files).
 *
 * The folder is checked here, before any work: a bundle.json or .v2xsync-bundle that is no
 * v2xsync bundle's, or frames/, labels/ or sensors/ folders no bundle made, are always refused;
 * the bundle of another scenario, other inputs (size, time), other settings or another version
 * is refused unless o->force; the same bundle unless o->resume or o->force. With o->force the
 * old bundle's folders are removed; with a bundle's record, the temporary files a killed run
 * left. Errors: VXS_E_ARG (bad options: an unknown agent or sensor; the folder refused),
 * VXS_E_IO, VXS_E_NOMEM, with `err` saying why. */
vxs_status_t vxs_bundle_sink_create(vxs_frame_sink_t **out, const char *dir,
                                    const vxs_bundle_options_t *o, char *err, size_t err_len);

/* vxs_bundle_identity writes into `out` the identity of a bundle with options `o` (16 hex
 * digits: XXH64 of the manifest's bytes, each input's size and modification time, the settings
 * and the version): what --resume matches a killed run's bundle by. VXS_E_IO (the manifest
 * cannot be read; `err` says why), VXS_E_ARG. */
vxs_status_t vxs_bundle_identity(const vxs_bundle_options_t *o, char out[17], char *err,
                                 size_t err_len);

/* vxs_bundle_check applies vxs_bundle_sink_create's folder rules to `dir`, the folder the
 * bundle's output set will replace, without changing anything (a folder that does not exist
 * passes): a record or bundle folders that are no v2xsync bundle's, another bundle without
 * o->force, the same bundle without o->resume or o->force, sync outputs without a bundle and
 * without o->force. VXS_E_ARG with `err` saying why and what to do, VXS_E_IO. */
vxs_status_t vxs_bundle_check(const char *dir, const vxs_bundle_options_t *o, char *err,
                              size_t err_len);

/* vxs_bundle_in says whether the folder `dir` holds a bundle, finished (bundle.json) or a run's
 * in progress (its record): a writer of the other outputs into `dir` must not leave bundle.json
 * describing files that are no longer there. */
bool vxs_bundle_in(const char *dir);

/* ==== The QA report and its checks ====================================================== */

/* vxs_qa_level_t is a check's verdict (the levels of ROS diagnostics). */
typedef enum { VXS_QA_OK = 0, VXS_QA_WARN = 1, VXS_QA_ERROR = 2 } vxs_qa_level_t;

/* vxs_qa_level_name returns "OK", "WARN" or "ERROR". */
const char *vxs_qa_level_name(vxs_qa_level_t l);

/* vxs_qa_check_t is one check: its value on the drive against its two limits (a level fires
 * when the value exceeds its limit; NaN: the level is off, or the check does not apply). */
typedef struct {
    const char *name;    /* "clock_sd_ms" (README "v2xsync check") */
    const char *unit;    /* "ms", "share", "steps"... */
    const char *message; /* what was found (the default's: what the check measures) */
    const char *subject; /* what the worst value is of (a clock, a stream, a link); NULL */
    vxs_qa_level_t level;
    double value, warn, error;
} vxs_qa_check_t;

/* vxs_qa_check_count and vxs_qa_check_default give the checks with their default limits, in
 * report order (for help texts and documentation); false past the last. */
size_t vxs_qa_check_count(void);
bool vxs_qa_check_default(size_t i, vxs_qa_check_t *out);

/* vxs_qa_t is a QA report computed from a sync output folder. */
typedef struct vxs_qa vxs_qa_t;

/* vxs_qa_open reads what `v2xsync sync` wrote into `dir` (run.json, clocks.json, links.json,
 * frames.jsonl; v2x_messages.jsonl and bundle.json when present), one line at a time for the
 * JSON lines files (memory does not grow with the drive), computes the report (README
 * "report.json", export/report.schema.json) and evaluates the checks with the limits of the
 * JSON file `config` ({"<check>": {"warn": x|null, "error": y|null}}; NULL: the defaults).
 * Errors, with `err` naming the file and the position: VXS_E_ARG (the config), VXS_E_IO (a file
 * missing or unreadable), VXS_E_MALFORMED (a file that does not parse), VXS_E_NOMEM. */
vxs_status_t vxs_qa_open(vxs_qa_t **out, const char *dir, const char *config, char *err,
                         size_t err_len);

/* vxs_qa_verdict is the worst level of the checks. */
vxs_qa_level_t vxs_qa_verdict(const vxs_qa_t *q);

/* vxs_qa_checks returns how many checks q has; vxs_qa_check fills *out with check i (strings
 * valid while q lives), false past the last. */
size_t vxs_qa_checks(const vxs_qa_t *q);
bool vxs_qa_check(const vxs_qa_t *q, size_t i, vxs_qa_check_t *out);

/* vxs_qa_checks_json returns {"folder", "verdict", "checks"} as indented JSON (what `check
 * --json` prints), freed with vxs_qa_free_string; NULL when out of memory. */
char *vxs_qa_checks_json(const vxs_qa_t *q);
void vxs_qa_free_string(char *s);

/* vxs_qa_write writes `dir`/report.json (the document) and `dir`/report.html (one
 * self-contained page: no script, no network, inline SVG charts), each atomically. VXS_E_IO with
 * `err` naming the file, VXS_E_NOMEM. */
vxs_status_t vxs_qa_write(const vxs_qa_t *q, const char *dir, char *err, size_t err_len);

/* vxs_qa_write_to writes the report like vxs_qa_write into the folder `dir` (a staging folder:
 * vxs_outset_dir) but names `folder` as the report's folder (report.json "folder", the page's
 * title): the folder the outputs will appear in. */
vxs_status_t vxs_qa_write_to(const vxs_qa_t *q, const char *dir, const char *folder, char *err,
                             size_t err_len);

/* vxs_qa_destroy frees q. Accepts NULL. */
void vxs_qa_destroy(vxs_qa_t *q);

/* ==== A run's outputs as one set (outset.c) ============================================== */

/* A run (`v2xsync sync`, `v2xsync report`) makes its outputs appear together or not at all:
 * it writes everything into a staging folder beside its output folder DIR, named
 * ".<name of DIR>.v2xsync-<pid>-<random hex>" in DIR's parent (the same file system, so the
 * last step is a rename), and at the end puts that folder in DIR's place with one rename(2)
 * when DIR does not exist, or with one renameat2(RENAME_EXCHANGE) when it does, then removes
 * what was DIR (now under the staging name). Readers, and a run killed at any moment (kill -9
 * included), see DIR's old complete set of files or the new one, never a mix of both. On a file
 * system that refuses RENAME_EXCHANGE (EINVAL, ENOSYS, EOPNOTSUPP: some network file systems)
 * the swap is two renames, DIR to a staging name then the new set to DIR: a kill between them
 * leaves no DIR (still never a mix).
 *
 * What of DIR the run does not write is carried into the staging folder first, as hard links
 * (a copy where the file system refuses a link): files of the user's, and, for a run that adds
 * a QA report, every output and the bundle's folders. DIR may hold files and symbolic links,
 * but of folders only a bundle's frames/, labels/ and sensors/: DIR is replaced as a whole, and
 * a folder of anything else is refused rather than copied (an output folder that holds the
 * user's other work, or input recordings, is the wrong one).
 *
 * A run holds an exclusive flock(2) on ".<name of DIR>.v2xsync-lock" beside DIR from
 * vxs_outset_begin to commit or abort (the file is removed then): a second run on DIR is
 * refused while the first runs, and every staging folder of DIR found while holding the lock is
 * a dead run's. vxs_outset_begin removes them, except: a bundle run with resume takes over one
 * holding its bundle (in progress, or complete but not yet in place) as its own staging folder
 * (renamed to a new name); a bundle in progress (its marker file) of which a bundle run cannot
 * take over is removed by a run with force, refused by a bundle run without force (VXS_E_ARG),
 * and left for a later --resume by other runs.
 *
 * Test hook: when the environment variable VXS_TEST_KILL_AT names a point, the process kills
 * itself with SIGKILL there: "staged" (the set complete in the staging folder, before it is put
 * in place), "exchanged" (in place, before the old set is removed). */

/* vxs_outset_t is a run's output set in the making. */
typedef struct vxs_outset vxs_outset_t;

/* vxs_outset_bundle_t says what a run does with DIR's bundle (README "The bundle"). */
typedef enum {
    VXS_OUTSET_NO_BUNDLE = 0,     /* writes none: a bundle in DIR is carried over (report) */
    VXS_OUTSET_BUNDLE = 1,        /* writes a new one: DIR's is not carried over */
    VXS_OUTSET_BUNDLE_RESUME = 2  /* continues the bundle of `bundle_identity`: a dead run's
                                     staging folder holding it, else DIR's (its frames carried
                                     over as hard links, to be checked and kept) */
} vxs_outset_bundle_t;

/* vxs_outset_options_t configures vxs_outset_begin. */
typedef struct {
    const char *const *writes;   /* names of the entries of DIR the run writes, or drops: not
                                    carried over ("clocks.json", "report.html"...) */
    size_t n_writes;
    vxs_outset_bundle_t bundle;
    const char *bundle_identity; /* vxs_bundle_identity's, with VXS_OUTSET_BUNDLE(_RESUME) */
    bool force;                  /* also remove the bundles in progress dead runs left */
} vxs_outset_options_t;

/* vxs_outset_check_target checks the output folder `dir` before anything is read or created:
 * VXS_E_ARG, with `err` saying why, when it exists and is not a folder (a regular file...), is
 * the root or a mount point (it cannot be replaced by a rename), or its parent folder does not
 * exist or is not a folder. VXS_OK otherwise, whether it exists or not. */
vxs_status_t vxs_outset_check_target(const char *dir, char *err, size_t err_len);

/* vxs_outset_check_inputs says whether the output folder `dir` may receive outputs given the
 * input files `paths` (n_paths): VXS_E_ARG, with `err` naming the folder, when `dir` is or lies
 * under a folder holding one of them (each input's folder as its path names it and as
 * realpath(3) resolves it; `dir` resolved with realpath(3) on its longest existing part, then
 * "." and ".." of the rest). VXS_OK otherwise. Nothing is created. */
vxs_status_t vxs_outset_check_inputs(const char *dir, const char *const *paths, size_t n_paths,
                                     char *err, size_t err_len);

/* vxs_outset_check_manifest is vxs_outset_check_inputs over every file of every source of `man`
 * (recording, calibration, metadata, timestamps), and refuses besides the folder of the
 * manifest file `manifest_path` and anything under it (the manifest is an input, and its folder
 * usually the drive's). VXS_E_NOMEM besides. */
vxs_status_t vxs_outset_check_manifest(const char *dir, const vxs_manifest_t *man,
                                       const char *manifest_path, char *err, size_t err_len);

/* vxs_outset_begin starts the output set of folder `dir` (checked as vxs_outset_check_target
 * does): takes the lock (VXS_E_STATE when another run holds it), checks DIR's entries (VXS_E_ARG
 * for a folder that is not a bundle's) and the bundles in progress dead runs left (VXS_E_ARG
 * for one a bundle run may not pass: see above), and only then removes the dead runs'
 * leftovers, creates the staging folder (or takes one over: vxs_outset_resumed) with DIR's
 * permissions, and carries DIR's other entries over. On VXS_OK *out is the set: write into
 * vxs_outset_dir(), then vxs_outset_commit or vxs_outset_abort. Errors leave nothing behind
 * but the leftovers kept; `err` says why (VXS_E_IO naming the file, VXS_E_NOMEM). */
vxs_status_t vxs_outset_begin(vxs_outset_t **out, const char *dir, const vxs_outset_options_t *o,
                              char *err, size_t err_len);

/* vxs_outset_dir returns the staging folder to write the run's outputs into (valid until
 * commit or abort). */
const char *vxs_outset_dir(const vxs_outset_t *s);

/* vxs_outset_fingerprint returns a hash of the identity (device, inode) and state (size,
 * modification time) of the files `names` (n) of folder `dir`, missing ones included: equal
 * before a run reads them from DIR and after vxs_outset_begin carried them into the staging
 * folder (hard links keep the inode), they are the same files (v2xsync replaces a file by a
 * rename, never in place). `v2xsync report` reads DIR before taking the lock this way. */
uint64_t vxs_outset_fingerprint(const char *dir, const char *const *names, size_t n);

/* vxs_outset_resumed returns the staging folder of a killed run that vxs_outset_begin took
 * over (its name before), or NULL. */
const char *vxs_outset_resumed(const vxs_outset_t *s);

/* vxs_outset_commit makes the staging folder durable (syncfs), puts it in DIR's place (rename,
 * or exchange and removal of the old set), releases the lock and frees `s`. VXS_E_IO with `err`
 * saying why; the set is then aborted (vxs_outset_abort) and DIR is as it was. */
vxs_status_t vxs_outset_commit(vxs_outset_t *s, char *err, size_t err_len);

/* vxs_outset_abort gives the run up: removes the staging folder, unless it holds a bundle in
 * progress (or, for a bundle run, its complete bundle), which is kept for --resume and its path written into `kept` ("" otherwise; `kept`
 * may be NULL); releases the lock, frees `s`. DIR is untouched. Accepts NULL. */
void vxs_outset_abort(vxs_outset_t *s, char *kept, size_t kept_len);

/* ==== PNG images ============================================================================ */

/* vxs_png_format_t is the layout of the pixels given to the PNG writer: 8 bits per sample,
 * samples of a pixel adjacent, pixels of a row adjacent, rows `stride` bytes apart. The PNG gets
 * the same colour type (RGB, greyscale, RGB + alpha), so a decoder returns the bytes unchanged. */
typedef enum {
    VXS_PNG_RGB24 = 0, /* R, G, B: 3 bytes a pixel (the default) */
    VXS_PNG_GRAY8 = 1, /* one luma byte a pixel */
    VXS_PNG_RGBA32 = 2 /* R, G, B, A: 4 bytes a pixel, alpha not premultiplied */
} vxs_png_format_t;

/* vxs_png_filter_t is the PNG row filter (PNG specification, clause 9 "Filtering"). The
 * encoder applies the same filter to every row, or with VXS_PNG_FILTER_ADAPTIVE lets libpng pick
 * one per row by its minimum-sum heuristic (slower: it tries all five). */
typedef enum {
    VXS_PNG_FILTER_DEFAULT = 0, /* the measured default, VXS_PNG_DEFAULT_FILTER */
    VXS_PNG_FILTER_NONE = 1,
    VXS_PNG_FILTER_SUB = 2,
    VXS_PNG_FILTER_UP = 3,
    VXS_PNG_FILTER_AVG = 4,
    VXS_PNG_FILTER_PAETH = 5,
    VXS_PNG_FILTER_ADAPTIVE = 6 /* all five, chosen per row */
} vxs_png_filter_t;

/* vxs_png_strategy_t is the zlib deflate strategy used on the filtered rows. */
typedef enum {
    VXS_PNG_STRATEGY_DEFAULT = 0,  /* the measured default, VXS_PNG_DEFAULT_STRATEGY */
    VXS_PNG_STRATEGY_ZLIB = 1,     /* zlib's Z_DEFAULT_STRATEGY (LZ77 + Huffman) */
    VXS_PNG_STRATEGY_RLE = 2,      /* Z_RLE: matches of distance 1 only; fast, fine after UP/SUB */
    VXS_PNG_STRATEGY_FILTERED = 3, /* Z_FILTERED: favours Huffman over short matches */
    VXS_PNG_STRATEGY_HUFFMAN = 4   /* Z_HUFFMAN_ONLY: no matches at all */
} vxs_png_strategy_t;

/* VXS_PNG_LEVEL_STORE asks for zlib level 0: deflate "stored" blocks, no compression. */
#define VXS_PNG_LEVEL_STORE (-1)

/* The defaults, chosen by measurement: tests/bench/bench_png.c, 2026-11-23, "2 vCPU" machine,
 * libpng 1.6.39, zlib 1.2.13, 8 frames (every 5th) of datasets/camera/phone_vfr_1080p.mp4 as
 * 1920x1080 RGB24 (6.22 MB raw), encoded to memory, best of 2 passes of the mean per frame:
 *     level  filter    strategy   ms/frame  MB/frame
 *     1      up        Z_RLE        32.1      0.96    <- default (Z_RLE ignores the level)
 *     1      up        default      36.5      1.02
 *     1      sub       Z_RLE        38.8      1.36
 *     1      none      default      41.6      1.52
 *     1      paeth     Z_RLE        44.1      0.99
 *     1      adaptive  default      70.4      1.09    (libpng's own default filters)
 *     3      up        default      60.5      0.91
 *     6      up        default     167.0      0.80    (smallest file measured)
 *     6      adaptive  default     231.3      0.84    (libpng's defaults with zlib's level)
 *     store  none      -             4.6      6.23    (no compression: 7.8x the smallest)
 * (the whole table: 4 levels x 6 filters x 3 strategies, is printed by bench_png). Speed first,
 * size second: the training pipeline reads these files back, and a file up to twice as large is
 * worth a write twice as fast. UP + Z_RLE is the fastest of all compressed settings and only 1.2x
 * the smallest file, so it wins on both counts; stored PNGs are faster still but over 2x larger.
 * Through vxs_png_write (temporary file, fsync, rename) it costs ~35 ms/frame. The ranking
 * matches the earlier figures of specs/sync-and-clocks.md §6 (level 1 adaptive 159, UP 91,
 * UP + Z_RLE 78, level 6 1145 ms), but the times here are 2-5x lower, level 6 most of all. */
#define VXS_PNG_DEFAULT_LEVEL 1
#define VXS_PNG_DEFAULT_FILTER VXS_PNG_FILTER_UP
#define VXS_PNG_DEFAULT_STRATEGY VXS_PNG_STRATEGY_RLE

/* vxs_png_options_t tunes the PNG writer. A zeroed struct (or a NULL pointer) means RGB24 with
 * the measured defaults above. */
typedef struct {
    vxs_png_format_t format;     /* layout of the pixels given (and of the PNG written) */
    int level;                   /* zlib 1..9, VXS_PNG_LEVEL_STORE, or 0 = VXS_PNG_DEFAULT_LEVEL */
    vxs_png_filter_t filter;     /* row filter; 0 = VXS_PNG_DEFAULT_FILTER */
    vxs_png_strategy_t strategy; /* deflate strategy; 0 = VXS_PNG_DEFAULT_STRATEGY */
} vxs_png_options_t;

/* VXS_PNG_MAX_DIM is the largest width or height accepted: libpng's default limit for readers
 * (PNG_USER_WIDTH_MAX), so every file written can be read back by a stock libpng. */
#define VXS_PNG_MAX_DIM 1000000u

/* vxs_png_write writes the `width` x `height` image at `pixels` (layout given by opt->format, rows
 * `stride` bytes apart, stride >= width * bytes per pixel) as an 8-bit PNG file at `path`,
 * atomically through vxs_afile_open/vxs_afile_commit: nothing appears under `path` unless the
 * whole file was written, flushed, fsync()ed and renamed; on any error the temporary file is
 * removed. `opt` may be NULL (see vxs_png_options_t). `pixels` is only read and stays the
 * caller's. Returns VXS_OK; VXS_E_ARG for a NULL pointer, a zero or too large dimension
 * (VXS_PNG_MAX_DIM), a stride too small or an option out of range; VXS_E_IO when the file
 * cannot be created, written or renamed (the folder of `path` must exist); VXS_E_NOMEM. On error
 * a message naming `path` is written into `err` (may be NULL; truncated to `err_len`).
 * Thread-safe: calls on different paths may run at the same time (each has its own libpng and
 * zlib state; nothing is global), as long as nobody changes the allocator (vxs_set_allocator).
 * libpng's and zlib's allocations go through vxs_malloc/vxs_free. */
vxs_status_t vxs_png_write(const char *path, const uint8_t *pixels, uint32_t width,
                           uint32_t height, size_t stride, const vxs_png_options_t *opt, char *err,
                           size_t err_len);

/* vxs_png_encode_mem encodes like vxs_png_write but into `out`, replacing its content (out->len
 * is the size of the PNG). `out` must be zero-initialized or hold a previous vxs_buf_t, is reused
 * (its capacity kept) and released by the caller with vxs_buf_free. On error out->len is 0 and
 * `err` holds a message. Same errors as vxs_png_write, without VXS_E_IO. Thread-safe with distinct
 * `out` buffers. */
vxs_status_t vxs_png_encode_mem(vxs_buf_t *out, const uint8_t *pixels, uint32_t width,
                                uint32_t height, size_t stride, const vxs_png_options_t *opt,
                                char *err, size_t err_len);

#ifdef __cplusplus
}
#endif
#endif /* VXS_EXPORT_H */
