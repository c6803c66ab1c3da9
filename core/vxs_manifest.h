/*
 * vxs_manifest.h: the scenario manifest, a JSON document that says what was recorded, by whom,
 * and how to put it on one timeline (DESIGN.md "The scenario"; README.md "The scenario
 * manifest" has a full example).
 *
 * Schema (version 1). Keys marked * are required; every other key has the default shown. Any
 * key not listed is an error, so a typo never silently falls back to a default.
 *
 *   {
 *     "version": 1,                          * the only version this library reads
 *     "name": "scenario",                    free text
 *     "agents": [ {                          * 1..VXS_MANIFEST_MAX_AGENTS agents
 *       "id": "ego",                         * unique; 1-64 of A-Z a-z 0-9 _ - . not starting '.'
 *       "type": "vehicle",                   "vehicle" | "rsu" | "vru"
 *       "pose": (none),                      a fixed pose (a roadside unit's mounting):
 *         {"lat_deg": *, "lon_deg": *,       WGS-84 degrees, ellipsoidal height m (0),
 *          "alt_m": 0, "heading_deg": (none)} its body x axis clockwise from north [0, 360];
 *                                            without it the agent's pose is taken from what it
 *                                            sends (README "The annotation model")
 *       "sources": [ {                       * 1..VXS_MANIFEST_MAX_SOURCES recordings
 *         "path": "ego/lidar.pcap",          * relative to the manifest's folder, or absolute
 *         "kind": "lidar",                   * "lidar" | "camera" | "v2x"
 *         "sensor": "<kind>",                id unique within the agent (same charset as "id")
 *         "model": null,                     e.g. "VLP-16", "OS1-64"
 *         "calibration": null,               path (lidar, camera only)
 *         "metadata": null,                  path to Ouster metadata JSON (lidar only)
 *         "extrinsics": {                    sensor -> agent body frame
 *           "translation": [0, 0, 0],        metres
 *           "rotation": [1, 0, 0, 0]         [w, x, y, z] unit quaternion (|norm - 1| <= 1e-6),
 *                                            or {"roll_deg": 0, "pitch_deg": 0, "yaw_deg": 0}
 *         },
 *         "clock": {
 *           "offset_ns": (none),             known offset: reference = source time + offset_ns
 *           "gps_locked": false,             the source's clock is GNSS/PPS disciplined
 *           "sweep_time": "start",           "start" | "middle" | "end" (lidar only)
 *           "stamp_latency_ms": 0              [-1000, 1000] (camera only): how long after
 *                                            the exposure each frame's time stamp was taken
 *                                            (stamp - exposure); subtracted from every frame
 *                                            time, so members are matched at the exposure
 *         },
 *         "format": "auto",                  "auto" | "pcap" | "wydot" | "hex" (v2x only)
 *         "own_station_id": (none),          0..4294967295: the agent's own V2X id (v2x only)
 *         "own_macs": [],                    ["aa:bb:cc:dd:ee:ff", ...] (v2x only)
 *         "timestamps": null,                path to a per-frame time sidecar (camera only)
 *         "creation": "end"                  "end" | "start" | "ignore": what the container's
 *                                            creation_time stands for (camera only)
 *       } ]
 *     } ],
 *     "reference": {                         the timeline every frame is cut on
 *       "agent": <first agent with a lidar, else agents[0]>,  * when "reference" is given
 *       "sensor": <that agent's first lidar, else its first source>
 *     },
 *     "frames": {
 *       "policy": "reference_sensor",        "reference_sensor" | "fixed_rate"
 *       "rate_hz": (none),                   (0, 1000]; required with, and only with, fixed_rate
 *       "match": "nearest",                  "nearest" | "approximate" | "exact": how members
 *                                            are chosen (vxs_sync.h "Frame matching")
 *       "tolerance_ms": {                    [0, 60000] each: how far a member may be from T;
 *         "lidar": (half the sensor's        absent: half the sensor's median period
 *                   period),
 *         "camera": (half its period),
 *         "v2x": 100
 *       },
 *       "v2x_window_ms": 1000,               [0, 600000]: messages received within this long
 *                                            before T are attached to the frame
 *       "v2x_late_ms": 100,                  [0, 600000]: a message whose latency is longer is
 *                                            flagged late
 *       "v2x_dropout_intervals": 10          [1, 100000]: a link silent for longer than this
 *                                            many of its sender's intervals has a dropout
 *     },
 *     "origin": (none),                      the local east-north-up frame's origin
 *       {"lat_deg": *, "lon_deg": *,         (WGS-84); absent: the first GNSS fix of the drive
 *        "alt_m": 0}                         (README "The annotation model")
 *     "export": {
 *       "format": "bundle",                  "bundle"
 *       "out": null,                         output folder (same path rules; null: CLI's -o)
 *       "png_level": 1                       zlib level 0..9 for camera PNGs (0: stored); 1 is
 *                                            the PNG writer's measured default
 *     }
 *   }
 *
 * Paths. An absolute path is kept as written. A relative one is normalised ("." and empty
 * segments dropped, ".." removing the segment before it) and joined to the manifest's folder;
 * one that would climb above that folder ("../x", "a/../../x") is an error, so a manifest
 * copied with its folder never reaches files outside it unless it says so with an absolute path.
 * Symlinks are not resolved; files are not opened here.
 *
 * Errors. Every validation failure returns VXS_E_MALFORMED (VXS_E_UNSUPPORTED for another
 * version, VXS_E_LIMIT past a cap, VXS_E_IO when the file cannot be read, VXS_E_NOMEM) and writes
 * one line into the caller's `err` buffer, naming the file, the key path and what was expected:
 *
 *   scenario.json: line 3, column 7: <jansson's message>
 *   scenario.json: agents[0].sorces: unknown key (expected one of: id, type, sources)
 *   scenario.json: agents[1].sources[0].extrinsics.rotation: expected 4 numbers [w, x, y, z] or
 *       {roll_deg, pitch_deg, yaw_deg}, got a string
 *
 * Duplicate object keys are syntax errors. No jansson type appears in this header.
 */
#ifndef VXS_MANIFEST_H
#define VXS_MANIFEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vxs_core.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Caps checked before allocating. A manifest larger than VXS_MANIFEST_MAX_BYTES, or with more
 * agents or sources per agent than these, fails with VXS_E_LIMIT. */
#define VXS_MANIFEST_MAX_BYTES (16u * 1024u * 1024u)
#define VXS_MANIFEST_MAX_AGENTS 256
#define VXS_MANIFEST_MAX_SOURCES 64

/* VXS_MANIFEST_ERR_LEN is an `err` buffer size that holds every message without cutting it. */
#define VXS_MANIFEST_ERR_LEN 512

/* vxs_agent_type_t is what an agent is. */
typedef enum {
    VXS_AGENT_VEHICLE = 0, /* default */
    VXS_AGENT_RSU = 1,     /* road-side unit */
    VXS_AGENT_VRU = 2      /* vulnerable road user: a pedestrian's or cyclist's phone */
} vxs_agent_type_t;

/* vxs_source_kind_t is what a source file holds. Values index tolerance_ms[]. */
typedef enum {
    VXS_SOURCE_LIDAR = 0,
    VXS_SOURCE_CAMERA = 1,
    VXS_SOURCE_V2X = 2,
    VXS_SOURCE_KIND_COUNT = 3
} vxs_source_kind_t;

/* vxs_sweep_time_t says which instant of a LiDAR sweep stands for the sweep. */
typedef enum {
    VXS_SWEEP_START = 0, /* default: its first firing, known even for a partial sweep */
    VXS_SWEEP_MIDDLE = 1,
    VXS_SWEEP_END = 2
} vxs_sweep_time_t;

/* vxs_manifest_v2x_format_t is the "format" of a v2x source; values equal vxs_v2x_format_t's. */
typedef enum {
    VXS_MANIFEST_V2X_AUTO = 0, /* default: decided from the file's contents */
    VXS_MANIFEST_V2X_PCAP = 1,
    VXS_MANIFEST_V2X_WYDOT = 2,
    VXS_MANIFEST_V2X_HEX = 3
} vxs_manifest_v2x_format_t;

/* vxs_manifest_creation_t is the "creation" of a camera source; values equal vxs_cam_creation_t's.
 */
typedef enum {
    VXS_MANIFEST_CREATION_END = 0, /* default */
    VXS_MANIFEST_CREATION_START = 1,
    VXS_MANIFEST_CREATION_IGNORE = 2
} vxs_manifest_creation_t;

/* vxs_frame_policy_t is how frame times T are chosen. */
typedef enum {
    VXS_FRAMES_REFERENCE_SENSOR = 0, /* default: one frame per record of the reference sensor */
    VXS_FRAMES_FIXED_RATE = 1        /* one frame every 1/rate_hz on the reference timeline */
} vxs_frame_policy_t;

/* vxs_frame_match_t is how a frame's members are chosen. */
typedef enum {
    VXS_MATCH_POLICY_NEAREST = 0, /* default */
    VXS_MATCH_POLICY_APPROXIMATE = 1,
    VXS_MATCH_POLICY_EXACT = 2
} vxs_frame_match_t;

/* vxs_extrinsics_t places a sensor in its agent's body frame: p_body = R(rotation) p_sensor +
 * translation. `rotation` is a unit quaternion [w, x, y, z] (roll/pitch/yaw input is converted as
 * R = Rz(yaw) Ry(pitch) Rx(roll)). Default: identity. */
typedef struct {
    double translation[3]; /* metres */
    double rotation[4];    /* w, x, y, z; normalised to norm 1 */
} vxs_extrinsics_t;

/* vxs_clock_hints_t is what the user knows about a source's clock. */
typedef struct {
    bool has_offset;             /* "offset_ns" given */
    int64_t offset_ns;           /* reference time = source time + offset_ns; 0 when absent */
    bool gps_locked;             /* default false */
    vxs_sweep_time_t sweep_time; /* lidar sources; VXS_SWEEP_START otherwise */
    double stamp_latency_ms;     /* camera sources: stamp - exposure, ms; 0 when absent */
} vxs_clock_hints_t;

/* vxs_manifest_source_t is one recording. Strings and paths are owned by the manifest; optional
 * ones are NULL when absent. Paths are resolved as described at the top of this file. */
typedef struct {
    const char *path;        /* never NULL */
    vxs_source_kind_t kind;
    const char *sensor;      /* never NULL; default: the kind's name */
    const char *model;       /* NULL: unknown */
    const char *calibration; /* NULL: none */
    const char *metadata;    /* NULL: none */
    vxs_extrinsics_t extrinsics;
    vxs_clock_hints_t clock;
    /* v2x only (defaults elsewhere) */
    vxs_manifest_v2x_format_t v2x_format;
    bool has_own_station_id;
    uint32_t own_station_id;
    uint8_t (*own_macs)[6]; /* n_own_macs addresses; NULL when 0 */
    size_t n_own_macs;
    /* camera only (defaults elsewhere) */
    const char *timestamps; /* NULL: none */
    vxs_manifest_creation_t creation;
} vxs_manifest_source_t;

/* vxs_manifest_geo_t is a WGS-84 position (an origin, a fixed pose). */
typedef struct {
    bool present;
    double lat_deg, lon_deg, alt_m;
    bool has_heading;
    double heading_deg; /* clockwise from north */
} vxs_manifest_geo_t;

/* vxs_manifest_agent_t is one recording agent. */
typedef struct {
    const char *id; /* never NULL */
    vxs_agent_type_t type;
    vxs_manifest_geo_t pose; /* a fixed pose ("pose"), present false when none */
    vxs_manifest_source_t *sources; /* n_sources >= 1 */
    size_t n_sources;
} vxs_manifest_agent_t;

/* vxs_manifest_t is a validated manifest. Every pointer in it is owned by it and stays valid
 * until vxs_manifest_free. */
typedef struct {
    int version;          /* 1 */
    const char *name;     /* never NULL; default "scenario" */
    const char *base_dir; /* the folder relative paths were joined to ("" : none); never NULL */
    vxs_manifest_agent_t *agents; /* n_agents >= 1 */
    size_t n_agents;
    size_t ref_agent;  /* index into agents */
    size_t ref_source; /* index into agents[ref_agent].sources */
    struct {
        vxs_frame_policy_t policy;
        double rate_hz;                             /* > 0 with FIXED_RATE, else 0 */
        vxs_frame_match_t match;
        double tolerance_ms[VXS_SOURCE_KIND_COUNT]; /* indexed by vxs_source_kind_t; < 0 (the
                                                       default for lidar and camera): half the
                                                       sensor's median period */
        double v2x_window_ms;                       /* default 1000 */
        double v2x_late_ms;                         /* default 100 */
        double v2x_dropout_intervals;               /* default 10 */
    } frames;
    vxs_manifest_geo_t origin; /* "origin"; present false: the first GNSS fix */
    struct {
        const char *out; /* NULL: not given */
        int png_level;   /* 0..9, default 1 */
    } export_opts;       /* format "bundle" is the only one, so it is not stored */
} vxs_manifest_t;

/* vxs_manifest_load reads and validates the manifest file `path`; relative paths inside it are
 * joined to the folder `path` is in. Messages start with `path` as given. On VXS_OK it sets `*out`,
 * which the caller must vxs_manifest_free(); on error `*out` is NULL and `err` (if err_len > 0)
 * holds one line saying why. Returns the statuses listed at the top of this file. */
vxs_status_t vxs_manifest_load(vxs_manifest_t **out, const char *path, char *err, size_t err_len);

/* vxs_manifest_parse is vxs_manifest_load on `len` bytes of `json_text` (need not be
 * NUL-terminated). Relative paths are joined to `base_dir` (NULL or "": kept relative, only
 * normalised); messages start with `name` (NULL: "manifest"). Ownership as for load. */
vxs_status_t vxs_manifest_parse(vxs_manifest_t **out, const char *json_text, size_t len,
                                const char *base_dir, const char *name, char *err,
                                size_t err_len);

/* vxs_source_ref_t names one source of a manifest: agents[agent].sources[source]. */
typedef struct {
    size_t agent;
    size_t source;
} vxs_source_ref_t;

/* vxs_manifest_source_count returns how many sources all agents of `m` have together. */
size_t vxs_manifest_source_count(const vxs_manifest_t *m);

/* vxs_manifest_source_order fills `out` (room for vxs_manifest_source_count entries) with every
 * source of `m` sorted by (agent id, sensor id): the order a job numbers its sources in (the
 * locators' `source`, the sensor numbers of vxs_frame.h's VXS_STREAMS_PER_SOURCE), so numbers
 * and output do not depend on the order the manifest lists agents and sources in. */
void vxs_manifest_source_order(const vxs_manifest_t *m, vxs_source_ref_t *out);

/* vxs_source_open_fn opens the source `ref` of `man` as a vxs_source_t (vxs_core.h section 7)
 * whose records carry agent ref.agent, sensor numbers from source_index * 8 (vxs_frame.h
 * VXS_STREAMS_PER_SOURCE) and locators with source `source_index`, and which reports every bad
 * unit to `diag` (which outlives the source). On success *out is the caller's to
 * vxs_source_destroy; `man` must outlive it. On failure `err` says why, naming the file. `user`
 * is the opener's own. The sensors module's vxs_source_open_manifest is the opener of real
 * recordings; tests give their own. */
typedef vxs_status_t (*vxs_source_open_fn)(void *user, vxs_source_t **out,
                                           const vxs_manifest_t *man, vxs_source_ref_t ref,
                                           uint32_t source_index, const vxs_diag_sink_t *diag,
                                           char *err, size_t err_len);

/* vxs_manifest_free frees `m` and everything it owns. Accepts NULL. */
void vxs_manifest_free(vxs_manifest_t *m);

/* vxs_agent_type_name returns "vehicle", "rsu" or "vru" ("unknown" otherwise). Never NULL. */
const char *vxs_agent_type_name(vxs_agent_type_t t);

/* vxs_source_kind_name returns "lidar", "camera" or "v2x" ("unknown" otherwise). Never NULL. */
const char *vxs_source_kind_name(vxs_source_kind_t k);

/* ==== Drafts: a manifest written from what was found (`v2xsync init`) ================== */

/* A draft is what a scan of recordings found (sensors/vxs_sensors.h section 7,
 * vxs_draft_scan), as plain data, and vxs_manifest_draft_json writes it as the manifest text
 * described at the top of this file. Paths in a draft are relative to the drafted folder
 * (dir_real): "<agent folder>/<file>". Strings are NUL-terminated; every pointer a scan fills is
 * vxs_malloc'd and freed by vxs_manifest_draft_free. A caller may fill a draft itself (with its
 * own memory, which it then releases itself) to have it written. */

/* VXS_DRAFT_MAX_OWN_MACS is how many own MAC addresses a draft source keeps. */
#define VXS_DRAFT_MAX_OWN_MACS 4

/* vxs_draft_source_t is one recording found in an agent folder. */
typedef struct {
    vxs_source_kind_t kind;
    char *path;        /* never NULL; relative to the drafted folder */
    char *model;       /* NULL: unknown (written only when known) */
    char *calibration; /* NULL: none; a Velodyne calibration, relative like `path` */
    char *metadata;    /* NULL: none; Ouster metadata, relative like `path` */
    char *timestamps;  /* NULL: none; a camera's per-frame sidecar, relative like `path` */
    bool has_gps_locked; /* the clock lock is known (Velodyne position packets): "clock" written */
    bool gps_locked;
    /* v2x only: "format" is written for every v2x source, the rest when known */
    vxs_manifest_v2x_format_t v2x_format;
    bool has_own_station_id;
    uint32_t own_station_id;
    uint8_t own_macs[VXS_DRAFT_MAX_OWN_MACS][6];
    size_t n_own_macs; /* 0: "own_macs" not written */
} vxs_draft_source_t;

/* vxs_draft_agent_t is one agent folder with at least one recording. */
typedef struct {
    char *id; /* never NULL; a manifest id (1-64 of A-Z a-z 0-9 _ - . not starting '.') */
    vxs_agent_type_t type;
    vxs_draft_source_t *sources; /* n_sources entries, in the order they are written */
    size_t n_sources;
} vxs_draft_agent_t;

/* vxs_manifest_draft_t is a whole draft. */
typedef struct {
    char *name;     /* the manifest's "name" (NULL: not written); a scan gives the folder's */
    char *dir_real; /* never NULL; the drafted folder's real path (realpath(3)), which the
                       sources' relative paths are below */
    vxs_draft_agent_t *agents; /* n_agents entries, in the order they are written */
    size_t n_agents;
} vxs_manifest_draft_t;

/* vxs_manifest_draft_json writes `draft` as manifest text into *out_text (NUL-terminated,
 * *out_len bytes without the NUL), which the caller frees with vxs_free. The text is 2-space
 * JSON with keys in the schema's order and a trailing newline: "version" 1, "name", "agents"
 * (each with "id", "type" and its sources' "path", "kind", "sensor", "model", "calibration",
 * "metadata", "clock" {"gps_locked"}, "format", "own_station_id", "own_macs", "timestamps", the
 * optional ones only when the draft has them), then "reference": the first agent with a lidar
 * source and that source, left out when no agent has one. Sensor ids are numbered per agent and
 * kind in source order: "lidar", "lidar2", ..., "camera", "camera2", ..., "v2x", ....
 *
 * Paths: with `out_dir_real` NULL they are written as in the draft, relative to the drafted
 * folder (a manifest kept in that folder). Otherwise `out_dir_real` is the real path of the
 * folder the manifest will be written to: a file below it is written relative to it, any other
 * with its absolute path (dir_real joined to the draft's path; symlinks are not resolved).
 *
 * The text is checked with vxs_manifest_parse before it is handed out, so a draft our own
 * parser would refuse (a bad agent id, an agent without sources, a string that is not UTF-8...)
 * is never written. Returns VXS_OK; the parser's status (VXS_E_MALFORMED, VXS_E_LIMIT...) with
 * its message, which starts with "draft", in `err`; VXS_E_ARG for a NULL pointer; VXS_E_NOMEM.
 * On error *out_text is NULL. */
vxs_status_t vxs_manifest_draft_json(char **out_text, size_t *out_len,
                                     const vxs_manifest_draft_t *draft, const char *out_dir_real,
                                     char *err, size_t err_len);

/* vxs_manifest_draft_free frees `draft` and every string and array in it (all vxs_malloc'd, as
 * vxs_draft_scan makes them). Accepts NULL. */
void vxs_manifest_draft_free(vxs_manifest_draft_t *draft);

#ifdef __cplusplus
}
#endif
#endif /* VXS_MANIFEST_H */
