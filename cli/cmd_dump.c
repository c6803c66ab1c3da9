/*
 * cmd_dump.c: `v2xsync dump FILE`: what a reader makes of one file, record by record. For
 * V2X logs: the messages; for LiDAR captures: the sweeps (`--sweeps`, text or JSON lines) or
 * their points as CSV (`--points`); for cameras: the frames (dump_video.c). The sweep reader (sensors/lidar.c) does the work; this file chooses options,
 * finds metadata beside the capture and prints.
 */
#include <glob.h>
#include <inttypes.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"
#include "dump_video.h"
#include "vxs_lidar.h"
#include "vxs_sensors.h"
#include "vxs_v2x.h"

enum {
    OPT_POINTS = 1,
    OPT_SWEEPS,
    OPT_SWEEP,
    OPT_JSON,
    OPT_MODEL,
    OPT_CALIB,
    OPT_META,
    OPT_CUT,
    OPT_MIN_RANGE,
    OPT_MAX_RANGE,
    OPT_SENSOR,
    OPT_QUIET,
    OPT_MESSAGES,
    OPT_FORMAT,
    OPT_OWN_MAC,
    OPT_OWN_STATION,
    OPT_TIMESTAMPS,
    OPT_TS_UNIT,
    OPT_CREATION,
    OPT_OFFSET,
    OPT_FPS,
    OPT_FRAME,
    OPT_PNG
};

static const vxs_cli_opt_t dump_opts[] = {
    {"sweeps", 0, NULL, "list the LiDAR sweeps (text; with --json one JSON object per line)",
     OPT_SWEEPS},
    {"points", 0, NULL, "print points as CSV: x,y,z,intensity,laser,return,t_ns", OPT_POINTS},
    {"sweep", 0, "N", "with --points: only sweep N (numbered from 0 per sensor, as --sweeps "
                      "lists them)",
     OPT_SWEEP},
    {"json", 0, NULL, "machine-readable output (JSON lines)", OPT_JSON},
    {"model", 0, "M", "Velodyne model: VLP-16, Puck-Hi-Res, VLP-32C, HDL-32E, HDL-64E-S2, "
                      "HDL-64E-S3, VLS-128 (default: from the packets; HDL-64E must be named)",
     OPT_MODEL},
    {"calib", 0, "F", "Velodyne calibration: ROS/nebula YAML or db.xml (default: built-in)",
     OPT_CALIB},
    {"meta", 0, "F", "Ouster metadata JSON; repeat for several sensors (default: FILE's name "
                     "with .json, or .N.json, beside it)",
     OPT_META},
    {"cut", 0, "DEG", "Velodyne sweep cut azimuth in degrees (default 0)", OPT_CUT},
    {"min-range", 0, "M", "drop points nearer than M metres", OPT_MIN_RANGE},
    {"max-range", 0, "M", "drop points farther than M metres", OPT_MAX_RANGE},
    {"sensor", 0, "N", "only the LiDAR stream with this sensor number (see --sweeps; --points "
                       "defaults to the first stream with a sweep)",
     OPT_SENSOR},
    {"messages", 0, NULL, "list the V2X messages (the default; with --json one JSON object per "
                          "line)",
     OPT_MESSAGES},
    {"format", 0, "F", "V2X log format: pcap, wydot, hex (default: by content)", OPT_FORMAT},
    {"own-mac", 0, "MAC", "the recording agent's MAC (aa:bb:cc:dd:ee:ff): its frames are 'sent'",
     OPT_OWN_MAC},
    {"own-station", 0, "ID", "the recording agent's station / temporary id: its messages are "
                             "'sent'",
     OPT_OWN_STATION},
    {"timestamps", 0, "F", "camera: sidecar timestamps file, line i = frame i (KITTI "
                           "'YYYY-MM-DD HH:MM:SS.nnnnnnnnn' or one number per line, or CSV: "
                           "the column a header names with 'stamp' or 'time')",
     OPT_TIMESTAMPS},
    {"timestamps-unit", 0, "U", "camera: unit of a numeric sidecar: s, ms, us, ns (default: by "
                                "magnitude)",
     OPT_TS_UNIT},
    {"creation", 0, "C", "camera: the container's creation_time marks the recording's 'end' "
                         "(default, phones) or 'start', or 'ignore' it",
     OPT_CREATION},
    {"offset", 0, "T", "camera: absolute time of frame 0 (ISO 8601 or s since 1970) when the "
                       "file has none",
     OPT_OFFSET},
    {"fps", 0, "R", "camera: frame rate of an image folder without times (with --offset)", OPT_FPS},
    {"frame", 0, "N", "camera: decode frame N (presentation order, from 0); with --png", OPT_FRAME},
    {"png", 0, "OUT", "camera: write the --frame as a PNG file", OPT_PNG},
    {"quiet", 'q', NULL, "no progress bar on stderr", OPT_QUIET},
    {NULL, 0, NULL, NULL, 0}};

const vxs_cli_cmd_t vxs_cmd_dump_def = {
    "dump", "[options] FILE",
    "Print what the readers decode from one file: V2X messages, LiDAR sweeps and points, "
    "camera frames.",
    "V2X logs (captures of GeoNetworking / WSMP frames, Wyoming OBU binary logs, text logs of\n"
    "one hex J2735 MessageFrame per line, optionally after a timestamp): one line per message\n"
    "(the default, --messages), with --json one object per line: t_capture_ns, proto (etsi,\n"
    "j2735), type (CAM, DENM, CPM, VAM, SPATEM, MAPEM, BSM, PSM, SPAT, MAP, TIM...),\n"
    "station_id, gen_delta_time, sec_mark, msg_cnt, lat_deg, lon_deg, speed_mps, heading_deg,\n"
    "t_gen_ns (the sender's generation time as absolute ns) and more (README.md); null where\n"
    "the message has no such field.\n\n"
    "LiDAR captures (Velodyne VLP-16, Puck Hi-Res, VLP-32C, HDL-32E, HDL-64E, VLS-128; Ouster\n"
    "legacy and RNG19/RNG15/dual profiles):\n"
    "  --sweeps [--json]   one line per sweep: device and capture start/end times, their\n"
    "                      difference, packets used and missing, points, azimuth coverage,\n"
    "                      complete or partial, locator (first packet, byte offset, count).\n"
    "  --points [--sweep N] CSV with the header x,y,z,intensity,laser,return,t_ns: metres in\n"
    "                      the sensor frame (x forward, y left, z up); return 1 strongest,\n"
    "                      2 last, 3 both (dual return, same echo), 4 second (Ouster dual);\n"
    "                      t_ns = the point's absolute firing time on the device clock, ns\n"
    "                      since 1970 (Velodyne: hour from $GPRMC or the capture clock;\n"
    "                      Ouster: the sensor's own timestamp).\n"
    "Packets that are not LiDAR are ignored. Bad packets are reported on stderr with packet\n"
    "number and byte offset, counted and skipped.\n\n"
    "Cameras (a video file libavformat reads, or a folder of numbered or time-named PNG/JPEG\n"
    "images): one line per frame in presentation order, with --json one object per line:\n"
    "index, pts (stream time base), pts_ns, duration_ns, t_ns (absolute time, null if none),\n"
    "time_source (sidecar, container, creation_time_end, creation_time_start, scenario,\n"
    "filename, none), key, size, width, height, offset. Nothing is decoded, except with\n"
    "--frame N --png OUT.png, which decodes frame N and writes it.\n\n"
    "What FILE is comes from the evidence in its content (as in inspect), never from its name:\n"
    "a file that fits no format is refused with every format tried. After a damaged record\n"
    "header, reading goes on at the next plausible record (\"resynchronised at byte N\").\n\n"
    "Exit status: 0 ok; 1 damaged packets, records, lines or frames were found, reported and\n"
    "skipped (everything else was printed); 2 usage error, or a file that cannot be read at\n"
    "all (missing, empty, of no known kind, a damaged file header or video index).\n",
    dump_opts, vxs_cmd_dump};

#define MAX_META 8

typedef struct {
    bool points, sweeps, json, quiet;
    long sweep;    /* -1: all */
    long sensor;   /* -1: all */
    vxs_lidar_options_t lopt;
    const char *calib_path;
    const char *meta_paths[MAX_META];
    size_t nmeta;
    bool model_set;
    bool sensor_given;
    bool messages, messages_given;
    vxs_v2x_reader_options_t vopt;
    uint8_t own_macs[8][6];
    size_t n_own_macs;
    vxs_dump_video_opts_t video;
    bool video_opt; /* a camera-only option was given */
} dump_opts_t;

static int parse_double(const char *what, const char *arg, double *out) {
    char *end;
    *out = strtod(arg, &end);
    if (end == arg || *end || !isfinite(*out))
        return vxs_cli_usage_error("dump", "%s wants a number, not '%s'", what, arg);
    return 0;
}

static int parse_long(const char *what, const char *arg, long *out) {
    char *end;
    *out = strtol(arg, &end, 10);
    if (end == arg || *end || *out < 0)
        return vxs_cli_usage_error("dump", "%s wants a number >= 0, not '%s'", what, arg);
    return 0;
}

static int on_opt(void *user, int id, const char *arg) {
    dump_opts_t *o = user;
    switch (id) {
    case OPT_POINTS: o->points = true; break;
    case OPT_MESSAGES: o->messages = o->messages_given = true; break;
    case OPT_FORMAT:
        if (strcmp(arg, "pcap") == 0) o->vopt.format = VXS_V2X_FMT_PCAP;
        else if (strcmp(arg, "wydot") == 0) o->vopt.format = VXS_V2X_FMT_WYDOT;
        else if (strcmp(arg, "hex") == 0) o->vopt.format = VXS_V2X_FMT_HEX;
        else return vxs_cli_usage_error("dump", "--format wants pcap, wydot or hex, not '%s'", arg);
        break;
    case OPT_OWN_MAC: {
        unsigned b[6];
        char tail;
        if (o->n_own_macs == 8) return vxs_cli_usage_error("dump", "at most 8 --own-mac");
        if (sscanf(arg, "%2x:%2x:%2x:%2x:%2x:%2x%c", &b[0], &b[1], &b[2], &b[3], &b[4], &b[5],
                   &tail) != 6)
            return vxs_cli_usage_error("dump", "--own-mac wants aa:bb:cc:dd:ee:ff, not '%s'", arg);
        for (int i = 0; i < 6; i++) o->own_macs[o->n_own_macs][i] = (uint8_t)b[i];
        o->n_own_macs++;
        break;
    }
    case OPT_OWN_STATION: {
        long station;
        if (parse_long("--own-station", arg, &station)) return 1;
        o->vopt.own_station_id = station;
        break;
    }
    case OPT_TIMESTAMPS:
        o->video.timestamps = arg;
        o->video_opt = true;
        break;
    case OPT_TS_UNIT:
        o->video_opt = true;
        if (strcmp(arg, "s") == 0) o->video.sidecar_unit = VXS_CAM_UNIT_S;
        else if (strcmp(arg, "ms") == 0) o->video.sidecar_unit = VXS_CAM_UNIT_MS;
        else if (strcmp(arg, "us") == 0) o->video.sidecar_unit = VXS_CAM_UNIT_US;
        else if (strcmp(arg, "ns") == 0) o->video.sidecar_unit = VXS_CAM_UNIT_NS;
        else return vxs_cli_usage_error("dump", "--timestamps-unit wants s, ms, us or ns, not '%s'", arg);
        break;
    case OPT_CREATION:
        o->video_opt = true;
        if (strcmp(arg, "end") == 0) o->video.creation = VXS_CAM_CREATION_END;
        else if (strcmp(arg, "start") == 0) o->video.creation = VXS_CAM_CREATION_START;
        else if (strcmp(arg, "ignore") == 0) o->video.creation = VXS_CAM_CREATION_IGNORE;
        else return vxs_cli_usage_error("dump", "--creation wants end, start or ignore, not '%s'", arg);
        break;
    case OPT_OFFSET: {
        char *end;
        double sec = strtod(arg, &end);
        o->video_opt = true;
        o->video.has_offset = true;
        if (end != arg && *end == '\0' && isfinite(sec) && sec >= 0 && sec < 9.2e9)
            o->video.offset = (vxs_time_t)(sec * 1e9 + 0.5);
        else if (vxs_time_parse(&o->video.offset, arg) != VXS_OK)
            return vxs_cli_usage_error("dump", "--offset wants an ISO 8601 time or seconds since "
                                               "1970, not '%s'", arg);
        break;
    }
    case OPT_FPS:
        o->video_opt = true;
        if (parse_double("--fps", arg, &o->video.fps)) return 1;
        if (o->video.fps <= 0) return vxs_cli_usage_error("dump", "--fps wants a rate > 0");
        break;
    case OPT_FRAME:
        o->video_opt = true;
        return parse_long("--frame", arg, &o->video.frame);
    case OPT_PNG:
        o->video_opt = true;
        o->video.png = arg;
        break;
    case OPT_SWEEPS: o->sweeps = true; break;
    case OPT_JSON: o->json = true; break;
    case OPT_QUIET: o->quiet = true; break;
    case OPT_SWEEP: return parse_long("--sweep", arg, &o->sweep);
    case OPT_SENSOR:
        o->sensor_given = true;
        return parse_long("--sensor", arg, &o->sensor);
    case OPT_MODEL:
        if (vxs_velo_model_parse(&o->lopt.velo_model, arg) != VXS_OK)
            return vxs_cli_usage_error("dump", "unknown Velodyne model '%s' (see --help)", arg);
        o->model_set = true;
        break;
    case OPT_CALIB: o->calib_path = arg; break;
    case OPT_META:
        if (o->nmeta == MAX_META)
            return vxs_cli_usage_error("dump", "at most %d --meta files", MAX_META);
        o->meta_paths[o->nmeta++] = arg;
        break;
    case OPT_CUT:
        if (parse_double("--cut", arg, &o->lopt.cut_azimuth_deg)) return 1;
        if (o->lopt.cut_azimuth_deg < 0 || o->lopt.cut_azimuth_deg >= 360)
            return vxs_cli_usage_error("dump", "--cut wants degrees in [0, 360), not '%s'", arg);
        break;
    case OPT_MIN_RANGE:
        if (parse_double("--min-range", arg, &o->lopt.min_range_m)) return 1;
        if (o->lopt.min_range_m < 0)
            return vxs_cli_usage_error("dump", "--min-range wants metres >= 0, not '%s'", arg);
        break;
    case OPT_MAX_RANGE:
        if (parse_double("--max-range", arg, &o->lopt.max_range_m)) return 1;
        if (o->lopt.max_range_m <= 0)
            return vxs_cli_usage_error("dump", "--max-range wants metres > 0, not '%s'", arg);
        break;
    default: break;
    }
    return 0;
}

/* ---- diagnostics: printed as they come, counted ------------------------------------------- */

typedef struct {
    uint64_t count;
    uint64_t printed;
} diag_count_t;

#define MAX_PRINTED_DIAGS 50

static void on_diag(void *user, const vxs_diag_t *d) {
    diag_count_t *c = user;
    c->count++;
    if (c->printed++ < MAX_PRINTED_DIAGS) fprintf(stderr, "v2xsync dump: %s\n", d->msg);
    else if (c->printed == MAX_PRINTED_DIAGS + 1)
        fprintf(stderr, "v2xsync dump: (further messages not shown; all are counted)\n");
}

/* ---- metadata discovery -------------------------------------------------------------------- */

static bool fopen_exists(const char *path) {
    FILE *f = fopen(path, "rb");
    if (!f) return false;
    fclose(f);
    return true;
}

/* find_meta adds FILE's stem + ".json" and stem + ".*.json" (ouster-sdk's naming for several
 * sensors in one capture) when no --meta was given. */
static void find_meta(dump_opts_t *o, const char *path, char store[MAX_META][4096]) {
    char stem[4000], pat[4096];
    const char *dot = strrchr(path, '.'), *slash = strrchr(path, '/');
    size_t n = (dot && (!slash || dot > slash)) ? (size_t)(dot - path) : strlen(path);
    glob_t g;
    if (n >= sizeof stem) return;
    memcpy(stem, path, n);
    stem[n] = '\0';
    snprintf(pat, sizeof pat, "%s.json", stem);
    if (fopen_exists(pat)) {
        snprintf(store[o->nmeta], 4096, "%s", pat);
        o->meta_paths[o->nmeta] = store[o->nmeta];
        o->nmeta++;
        return;
    }
    snprintf(pat, sizeof pat, "%s.*.json", stem);
    if (glob(pat, 0, NULL, &g) == 0) {
        for (size_t i = 0; i < g.gl_pathc && o->nmeta < MAX_META; i++) {
            snprintf(store[o->nmeta], 4096, "%s", g.gl_pathv[i]);
            o->meta_paths[o->nmeta] = store[o->nmeta];
            o->nmeta++;
        }
        globfree(&g);
    }
}

/* ---- output -------------------------------------------------------------------------------- */

static const char *pps_name(uint8_t pps) {
    switch (pps) {
    case 0: return "absent";
    case 1: return "synchronizing";
    case 2: return "locked";
    case 3: return "error";
    default: return NULL;
    }
}

static json_t *returns_json(uint8_t bits) {
    json_t *a = json_array();
    if (bits & VXS_RET_STRONGEST) json_array_append_new(a, json_string("strongest"));
    if (bits & VXS_RET_LAST) json_array_append_new(a, json_string("last"));
    if (bits & VXS_RET_SECOND) json_array_append_new(a, json_string("second"));
    return a;
}

static json_t *time_json(vxs_time_t t) {
    char buf[VXS_TIME_STRLEN];
    if (t == VXS_TIME_NONE) return json_null();
    return json_string(vxs_time_format(buf, sizeof buf, t));
}

static json_t *num_or_null(double v) { return isfinite(v) ? json_real(v) : json_null(); }

static json_t *ns_json(vxs_time_t t) { return t == VXS_TIME_NONE ? json_null() : json_integer(t); }

/* diff_json is a - b, or null when either is unknown or the difference does not fit. */
static json_t *diff_json(vxs_time_t a, vxs_time_t b) {
    int64_t d;
    if (a == VXS_TIME_NONE || b == VXS_TIME_NONE || __builtin_sub_overflow(a, b, &d))
        return json_null();
    return json_integer(d);
}

static void print_sweep_json(const vxs_lidar_t *l, const vxs_record_t *r) {
    const vxs_sweep_summary_t *w = &r->u.sweep;
    vxs_lidar_stream_t st;
    json_t *o = json_object(), *loc = json_object();
    const char *pps = pps_name(w->pps);
    char *line;
    memset(&st, 0, sizeof st);
    for (size_t i = 0; vxs_lidar_get_stream(l, &st, i) == VXS_OK; i++)
        if (st.sensor == r->sensor) break;
    json_object_set_new(o, "sweep", json_integer((json_int_t)r->seq));
    json_object_set_new(o, "sensor", json_integer(r->sensor));
    json_object_set_new(o, "lidar", json_string(st.ouster ? "ouster"
                                                          : vxs_velo_model_name(st.velo_model)));
    if (st.ouster) json_object_set_new(o, "frame_id", json_integer(w->frame_id));
    json_object_set_new(o, "device_start_ns", ns_json(r->device_time));
    json_object_set_new(o, "device_end_ns", ns_json(w->device_end));
    json_object_set_new(o, "device_start", time_json(r->device_time));
    json_object_set_new(o, "capture_start_ns", ns_json(r->capture_time));
    json_object_set_new(o, "capture_end_ns", ns_json(w->capture_end));
    json_object_set_new(o, "capture_start", time_json(r->capture_time));
    json_object_set_new(o, "capture_minus_device_ns", diff_json(r->capture_time, r->device_time));
    json_object_set_new(o, "duration_ns", diff_json(w->device_end, r->device_time));
    json_object_set_new(o, "packets", json_integer(w->packets));
    json_object_set_new(o, "packets_missing", json_integer(w->packets_missing));
    json_object_set_new(o, "points", json_integer(w->points));
    if (st.ouster) json_object_set_new(o, "columns", json_integer(w->columns));
    json_object_set_new(o, "az_start_deg", num_or_null(w->az_start_deg));
    json_object_set_new(o, "az_end_deg", num_or_null(w->az_end_deg));
    json_object_set_new(o, "az_coverage_deg", json_real(w->az_coverage_deg));
    json_object_set_new(o, "returns", returns_json(w->return_mode));
    if (pps) json_object_set_new(o, "pps", json_string(pps));
    json_object_set_new(o, "complete", json_boolean(w->complete));
    json_object_set_new(loc, "index", json_integer((json_int_t)r->loc.index));
    json_object_set_new(loc, "offset", json_integer((json_int_t)r->loc.offset));
    json_object_set_new(loc, "count", json_integer(r->loc.count));
    json_object_set_new(o, "locator", loc);
    line = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(10));
    if (line) {
        fputs(line, stdout);
        fputc('\n', stdout);
        free(line);
    }
    json_decref(o);
}

static void print_sweep_text(const vxs_record_t *r) {
    const vxs_sweep_summary_t *w = &r->u.sweep;
    char ts[VXS_TIME_STRLEN];
    double off_ms = (r->device_time != VXS_TIME_NONE && r->capture_time != VXS_TIME_NONE)
                        ? ((double)r->capture_time - (double)r->device_time) / 1e6
                        : NAN;
    printf("%6" PRIu64 " %3u %s %9.3f %10.3f %5u %4u %7u %7.2f %7.2f %6.1f %s\n", r->seq,
           r->sensor, vxs_time_format(ts, sizeof ts, r->device_time),
           ((double)w->device_end - (double)r->device_time) / 1e6, off_ms, w->packets,
           w->packets_missing, w->points, w->az_start_deg, w->az_end_deg, w->az_coverage_deg,
           w->complete ? "complete" : "partial");
}

/* print_points writes CSV lines by hand: printf per field would dominate on millions of
 * points. Coordinates to 0.1 mm, intensity to 0.01. */
static void print_points(const vxs_points_t *p) {
    char line[160];
    for (size_t i = 0; i < p->len; i++) {
        const vxs_point_t *q = &p->pts[i];
        int n = snprintf(line, sizeof line, "%.4f,%.4f,%.4f,%.6g,%u,%u,%" PRId64 "\n",
                         (double)q->x, (double)q->y, (double)q->z, (double)q->intensity,
                         (unsigned)q->laser, (unsigned)q->ret, q->t_ns);
        if (n > 0) fwrite(line, 1, (size_t)n, stdout);
    }
}

/* ---- the command ---------------------------------------------------------------------------- */

static int dump_lidar(const char *path, dump_opts_t *o) {
    static char meta_store[MAX_META][4096];
    vxs_velo_calib_t calib;
    vxs_ouster_meta_t *metas[MAX_META] = {NULL};
    const vxs_ouster_meta_t *cmetas[MAX_META];
    vxs_lidar_t *l = NULL;
    vxs_points_t pts = {NULL, 0, 0};
    diag_count_t dc = {0, 0};
    vxs_diag_sink_t sink = {on_diag, &dc};
    vxs_cli_progress_t bar;
    const vxs_record_t *r;
    vxs_lidar_counts_t counts;
    char err[1024];
    vxs_status_t st;
    int rc = VXS_EXIT_OK;
    uint64_t fetch_errors = 0;
    bool sweep_found = false, other_streams_noted = false;

    if (o->calib_path) {
        if (vxs_velo_calib_load(&calib, o->calib_path, err, sizeof err) != VXS_OK) {
            fprintf(stderr, "v2xsync dump: %s\n", err);
            return VXS_EXIT_USAGE;
        }
        o->lopt.velo_calib = &calib;
    }
    bool discovered = o->nmeta == 0;
    size_t nloaded = 0;
    if (discovered) find_meta(o, path, meta_store);
    for (size_t i = 0; i < o->nmeta; i++) {
        if (vxs_ouster_meta_load(&metas[nloaded], o->meta_paths[i], err, sizeof err) != VXS_OK) {
            /* A JSON file that merely sits beside the capture may be anything: say so and go
             * on; one named with --meta must be right. */
            fprintf(stderr, "v2xsync dump: %s%s\n", err,
                    discovered ? " (found beside the capture; not used)" : "");
            if (discovered) continue;
            rc = VXS_EXIT_USAGE;
            goto out;
        }
        cmetas[nloaded] = metas[nloaded];
        nloaded++;
    }
    o->lopt.ouster_meta = cmetas;
    o->lopt.ouster_meta_count = nloaded;
    o->lopt.diag = &sink;
    st = vxs_lidar_open(&l, path, &o->lopt, err, sizeof err);
    if (st != VXS_OK) {
        fprintf(stderr, "v2xsync dump: %s\n", err);
        rc = VXS_EXIT_USAGE;
        goto out;
    }
    if (o->points) fputs("x,y,z,intensity,laser,return,t_ns\n", stdout);
    else if (o->sweeps && !o->json)
        printf("%6s %3s %-30s %9s %10s %5s %4s %7s %7s %7s %6s %s\n", "sweep", "sen",
               "device_start", "dur_ms", "cap-dev_ms", "pkts", "miss", "points", "az0", "az1",
               "cover", "status");
    vxs_cli_progress_begin(&bar, "dump", o->quiet);
    while ((st = vxs_lidar_next(l, &r)) == VXS_OK) {
        uint64_t done, total;
        done = vxs_lidar_position(l, &total);
        vxs_cli_progress_fn(&bar, done, total);
        if (r->kind != VXS_REC_LIDAR_SWEEP) continue;
        if (o->sensor == -2) o->sensor = r->sensor;
        if (o->sensor >= 0 && r->sensor != (uint32_t)o->sensor) {
            if (o->points && !o->sensor_given && !other_streams_noted) {
                fprintf(stderr, "v2xsync dump: %s holds more than one LiDAR stream; printing "
                                "sensor %ld (choose with --sensor N)\n", path, o->sensor);
                other_streams_noted = true;
            }
            continue;
        }
        if (o->sweeps) {
            if (o->json) print_sweep_json(l, r);
            else print_sweep_text(r);
        }
        if (o->points && (o->sweep < 0 || (uint64_t)o->sweep == r->seq)) {
            sweep_found = true;
            if (vxs_lidar_fetch_points(l, &pts, r) != VXS_OK) {
                fprintf(stderr, "v2xsync dump: %s\n", vxs_lidar_errmsg(l));
                fetch_errors++;
                continue;
            }
            print_points(&pts);
            /* One sweep asked for: stop reading once it is out. */
            if (o->sweep >= 0 && o->sensor >= 0) break;
        }
    }
    vxs_cli_progress_end(&bar);
    vxs_lidar_get_counts(l, &counts);
    if (counts.streams == 0)
        fprintf(stderr, "v2xsync dump: %s: no LiDAR packets found (%" PRIu64 " packets read)\n",
                path, counts.packets);
    if (counts.config_errors > 0) rc = VXS_EXIT_USAGE; /* message printed as it happened */
    if (o->points && o->sweep >= 0 && !sweep_found) {
        fprintf(stderr, "v2xsync dump: %s: there is no sweep %ld (see --sweeps)\n", path,
                o->sweep);
        rc = VXS_EXIT_USAGE;
    }
    if (rc == VXS_EXIT_OK &&
        (counts.bad_packets > 0 || fetch_errors > 0 || dc.count > 0 ||
         (st != VXS_OK && st != VXS_EOF))) { /* VXS_OK: stopped after the sweep asked for */
        /* any damage reported, the capture's own included, is a finding */
        fprintf(stderr, "v2xsync dump: %s: %" PRIu64 " damaged unit(s) skipped (see above)\n",
                path, (dc.count > counts.bad_packets ? dc.count : counts.bad_packets) +
                          fetch_errors);
        rc = VXS_EXIT_FINDINGS;
    }
out:
    vxs_lidar_close(l);
    vxs_points_free(&pts);
    for (size_t i = 0; i < MAX_META; i++) vxs_ouster_meta_destroy(metas[i]);
    return rc;
}

/* ---- V2X messages ----------------------------------------------------------------------- */

static json_t *int_or_null(int64_t v) { return v < 0 ? json_null() : json_integer(v); }

static json_t *v2x_json(const vxs_v2x_reader_t *r, const vxs_record_t *rec) {
    const vxs_v2x_msg_t *m = vxs_v2x_reader_msg(r);
    vxs_v2x_times_t t;
    vxs_v2x_link_t k;
    json_t *o = json_object();
    vxs_v2x_reader_times(r, &t);
    vxs_v2x_reader_link(r, &k);
    json_object_set_new(o, "index", json_integer((json_int_t)rec->loc.index));
    json_object_set_new(o, "offset", json_integer((json_int_t)rec->loc.offset));
    json_object_set_new(o, "t_capture_ns", ns_json(rec->capture_time));
    json_object_set_new(o, "proto", json_string(m->protocol == VXS_V2X_PROTO_ETSI ? "etsi"
                                                                                  : "j2735"));
    json_object_set_new(o, "type", json_string(vxs_v2x_type_name(m->protocol, m->msg_id)));
    json_object_set_new(o, "decoded", json_boolean(m->decoded));
    json_object_set_new(o, "direction", k.direction < 0    ? json_null()
                                        : k.direction == 0 ? json_string("sent")
                                                           : json_string("received"));
    json_object_set_new(o, "station_id", int_or_null(m->station_id));
    json_object_set_new(o, "station_type", int_or_null(m->station_type));
    json_object_set_new(o, "gen_delta_time", int_or_null(m->gen_delta_time));
    json_object_set_new(o, "sec_mark", int_or_null(m->sec_mark));
    json_object_set_new(o, "moy", int_or_null(m->moy));
    json_object_set_new(o, "msg_cnt", int_or_null(m->msg_cnt));
    json_object_set_new(o, "lat_deg", num_or_null(m->lat_deg));
    json_object_set_new(o, "lon_deg", num_or_null(m->lon_deg));
    json_object_set_new(o, "elev_m", num_or_null(m->elev_m));
    json_object_set_new(o, "speed_mps", num_or_null(m->speed_mps));
    json_object_set_new(o, "heading_deg", num_or_null(m->heading_deg));
    json_object_set_new(o, "accel_long_mps2", num_or_null(m->accel_long_mps2));
    json_object_set_new(o, "yaw_rate_dps", num_or_null(m->yaw_rate_dps));
    json_object_set_new(o, "length_m", num_or_null(m->length_m));
    json_object_set_new(o, "width_m", num_or_null(m->width_m));
    json_object_set_new(o, "pos_semi_major_m", num_or_null(m->pos_semi_major_m));
    json_object_set_new(o, "pos_semi_minor_m", num_or_null(m->pos_semi_minor_m));
    json_object_set_new(o, "pos_orientation_deg", num_or_null(m->pos_orientation_deg));
    json_object_set_new(o, "pos_confidence",
                        isnan(m->pos_semi_major_m) && isnan(m->pos_semi_minor_m)
                            ? json_null()
                            : json_string(m->pos_confidence_95 ? "95%" : "1sigma"));
    json_object_set_new(o, "speed_conf_mps", num_or_null(m->speed_conf_mps));
    json_object_set_new(o, "heading_conf_deg", num_or_null(m->heading_conf_deg));
    json_object_set_new(o, "t_gen_ns", ns_json(t.gen));
    json_object_set_new(o, "t_gen_delta_ns", ns_json(t.gen_delta));
    json_object_set_new(o, "t_sec_mark_ns", ns_json(t.sec_mark));
    json_object_set_new(o, "t_ieee_gen_ns", ns_json(t.ieee_gen));
    json_object_set_new(o, "t_reference_ns", ns_json(t.its_time));
    json_object_set_new(o, "gn_tst", int_or_null(m->gn_tst));
    json_object_set_new(o, "t_gn_tst_ns", ns_json(t.gn_tst));
    json_object_set_new(o, "gn_sn", int_or_null(m->gn_sn));
    json_object_set_new(o, "btp_port", int_or_null(m->gn_btp_port));
    json_object_set_new(o, "psid", m->has_wsmp ? json_integer(m->psid) : json_null());
    json_object_set_new(o, "rssi_dbm", k.has_rssi ? json_integer(k.rssi_dbm) : json_null());
    json_object_set_new(o, "freq_mhz", k.has_channel ? json_integer(k.freq_mhz) : json_null());
    json_object_set_new(o, "header_skipped", json_integer(k.header_skipped));
    if (m->protocol == VXS_V2X_PROTO_ETSI && m->msg_id == VXS_ETSI_DENM) {
        json_object_set_new(o, "denm_origin", int_or_null(m->denm_origin));
        json_object_set_new(o, "denm_seq", int_or_null(m->denm_seq));
        json_object_set_new(o, "t_detection_ns", ns_json(t.denm_detection));
        json_object_set_new(o, "cause_code", int_or_null(m->cause_code));
        json_object_set_new(o, "sub_cause_code", int_or_null(m->sub_cause_code));
        json_object_set_new(o, "validity_s", int_or_null(m->denm_validity_s));
    }
    if (m->n_intersections > 0) {
        json_t *a = json_array();
        for (int i = 0; i < m->n_intersections && i < VXS_V2X_MAX_INTERSECTIONS; i++)
            json_array_append_new(a, json_integer(m->intersection_ids[i]));
        json_object_set_new(o, "intersection_ids", a);
    }
    if (m->protocol == VXS_V2X_PROTO_J2735 && m->msg_id == VXS_J2735_TIM && m->decoded) {
        char hex[2 * sizeof m->tim_packet_id + 1];
        for (size_t i = 0; i < sizeof m->tim_packet_id; i++)
            snprintf(hex + 2 * i, 3, "%02X", m->tim_packet_id[i]);
        json_object_set_new(o, "tim_packet_id", m->has_tim_packet_id ? json_string(hex)
                                                                     : json_null());
        json_object_set_new(o, "tim_frames", int_or_null(m->tim_frames));
    }
    if (m->protocol == VXS_V2X_PROTO_ETSI && m->msg_id == VXS_ETSI_CPM) {
        json_t *a = json_array();
        json_object_set_new(o, "objects_total", json_integer(m->n_objects));
        for (int i = 0; i < m->n_objects_kept; i++) {
            const vxs_v2x_object_t *ob = &m->objects[i];
            json_array_append_new(
                a, json_pack("{s:I,s:i,s:o,s:o,s:o,s:o,s:o,s:o}", "id", (json_int_t)ob->object_id,
                             "measurement_delta_ms", ob->measurement_delta_ms, "x_m",
                             num_or_null(ob->x_m), "y_m", num_or_null(ob->y_m), "vx_mps",
                             num_or_null(ob->vx_mps), "vy_mps", num_or_null(ob->vy_mps),
                             "class", int_or_null(ob->classification), "class_confidence",
                             int_or_null(ob->class_confidence)));
        }
        json_object_set_new(o, "objects", a);
    }
    return o;
}

static void print_v2x_text(const vxs_v2x_reader_t *r, const vxs_record_t *rec) {
    const vxs_v2x_msg_t *m = vxs_v2x_reader_msg(r);
    vxs_v2x_times_t t;
    char tc[VXS_TIME_STRLEN];
    vxs_v2x_reader_times(r, &t);
    printf("%8" PRIu64 " %s %-6s %-7s %12lld %12.7f %13.7f %7.2f %7.2f %9.3f\n",
           rec->loc.index + 1, vxs_time_format(tc, sizeof tc, rec->capture_time),
           m->protocol == VXS_V2X_PROTO_ETSI ? "etsi" : "j2735",
           vxs_v2x_type_name(m->protocol, m->msg_id), (long long)m->station_id, m->lat_deg,
           m->lon_deg, m->speed_mps, m->heading_deg,
           (t.gen != VXS_TIME_NONE && rec->capture_time != VXS_TIME_NONE)
               ? ((double)rec->capture_time - (double)t.gen) / 1e6
               : NAN);
}

static int dump_v2x(const char *path, dump_opts_t *o) {
    vxs_v2x_reader_t *r = NULL;
    diag_count_t dc = {0, 0};
    vxs_diag_sink_t sink = {on_diag, &dc};
    vxs_cli_progress_t bar;
    const vxs_record_t *rec;
    vxs_v2x_counts_t counts;
    char err[1024];
    vxs_status_t st;
    int rc = VXS_EXIT_OK;
    o->vopt.diag = &sink;
    o->vopt.own_macs = (const uint8_t(*)[6])o->own_macs;
    o->vopt.n_own_macs = o->n_own_macs;
    if (vxs_v2x_reader_open(&r, path, &o->vopt, err, sizeof err) != VXS_OK) {
        fprintf(stderr, "v2xsync dump: %s\n", err);
        return VXS_EXIT_USAGE;
    }
    if (!o->json)
        printf("%8s %-30s %-6s %-7s %12s %12s %13s %7s %7s %9s\n", "unit", "t_capture", "proto",
               "type", "station", "lat", "lon", "m/s", "deg", "age_ms");
    vxs_cli_progress_begin(&bar, "dump", o->quiet);
    while ((st = vxs_v2x_reader_next(r, &rec)) == VXS_OK) {
        uint64_t done, total;
        done = vxs_v2x_reader_position(r, &total);
        vxs_cli_progress_fn(&bar, done, total);
        if (o->json) {
            json_t *j = v2x_json(r, rec);
            char *line = json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(12));
            if (line) {
                fputs(line, stdout);
                fputc('\n', stdout);
                free(line);
            }
            json_decref(j);
        } else {
            print_v2x_text(r, rec);
        }
    }
    vxs_cli_progress_end(&bar);
    vxs_v2x_reader_counts(r, &counts);
    if (counts.messages == 0)
        fprintf(stderr, "v2xsync dump: %s: no V2X messages found (%" PRIu64 " units read)\n",
                path, counts.units);
    if (counts.bad > 0 || dc.count > 0 || (st != VXS_OK && st != VXS_EOF)) {
        /* any damage reported, the capture's own included, is a finding */
        fprintf(stderr, "v2xsync dump: %s: %" PRIu64 " damaged unit(s) skipped (see above)\n",
                path, dc.count > counts.bad ? dc.count : counts.bad);
        rc = VXS_EXIT_FINDINGS;
    }
    vxs_v2x_reader_close(r);
    return rc;
}

int vxs_cmd_dump(int argc, char **argv) {
    dump_opts_t o;
    int npos = 0, ex = 0;
    vxs_file_kind_t kind = VXS_FILE_UNKNOWN;
    char err[512];
    static char outbuf[1 << 16];
    memset(&o, 0, sizeof o);
    o.vopt.own_station_id = -1;
    o.sweep = -1;
    o.sensor = -1;
    o.video.frame = -1;
    vxs_lidar_options_init(&o.lopt);
    if (vxs_cli_parse(&vxs_cmd_dump_def, argc, argv, on_opt, &o, &npos, &ex) != 0) return ex;
    if (o.points && !o.sensor_given) o.sensor = -2; /* one stream per CSV: the first one */
    if (npos != 1) return vxs_cli_usage_error("dump", npos ? "one FILE at a time" : "no FILE given");
    if ((int)o.points + (int)o.sweeps + (int)o.messages > 1)
        return vxs_cli_usage_error("dump", "--messages, --sweeps and --points are separate outputs");
    if (!o.points && !o.sweeps) o.messages = true;
    if (o.sweep >= 0 && !o.points)
        return vxs_cli_usage_error("dump", "--sweep N goes with --points");
    if (o.points && o.json)
        return vxs_cli_usage_error("dump", "--points prints CSV; --json goes with --sweeps");
    if (o.lopt.max_range_m > 0 && o.lopt.min_range_m >= o.lopt.max_range_m)
        return vxs_cli_usage_error("dump", "--min-range must be below --max-range");
    if ((o.video.frame >= 0) != (o.video.png != NULL))
        return vxs_cli_usage_error("dump", "--frame N and --png OUT go together");
    setvbuf(stdout, outbuf, _IOFBF, sizeof outbuf);
    struct stat sb;
    vxs_file_probe_t pr;
    if (stat(argv[0], &sb) == 0 && S_ISDIR(sb.st_mode)) {
        kind = VXS_FILE_VIDEO; /* a folder of images */
    } else if (vxs_probe_file(&pr, argv[0], err, sizeof err) != VXS_OK) {
        fprintf(stderr, "v2xsync dump: %s\n", err);
        return VXS_EXIT_USAGE;
    } else if (pr.kind == VXS_FILE_UNKNOWN) {
        fprintf(stderr, "v2xsync dump: %s: not a recording v2xsync reads: %s\n", argv[0],
                pr.detail);
        return VXS_EXIT_USAGE;
    } else if (pr.kind == VXS_FILE_VIDEO && pr.damaged) {
        fprintf(stderr, "v2xsync dump: %s: a damaged video: %s\n", argv[0], pr.detail);
        return VXS_EXIT_USAGE;
    } else {
        kind = pr.kind;
    }
    if (kind == VXS_FILE_VIDEO) {
        if (o.points || o.sweeps || o.messages_given)
            return vxs_cli_usage_error("dump", "%s is a camera: --messages, --sweeps and --points "
                                               "do not apply", argv[0]);
        o.video.json = o.json;
        o.video.quiet = o.quiet;
        ex = vxs_dump_video(argv[0], &o.video);
        if (fflush(stdout) != 0) {
            fprintf(stderr, "v2xsync dump: cannot write the output\n");
            return VXS_EXIT_USAGE;
        }
        return ex;
    }
    if (o.video_opt)
        return vxs_cli_usage_error("dump", "%s is not a camera: the camera options (--timestamps, "
                                           "--frame...) do not apply", argv[0]);
    if (o.messages) {
        ex = dump_v2x(argv[0], &o);
    } else if (kind != VXS_FILE_PCAP && kind != VXS_FILE_PCAPNG) {
        fprintf(stderr, "v2xsync dump: %s: a %s, not a pcap/pcapng capture (LiDAR dump reads "
                        "captures)\n",
                argv[0], vxs_file_kind_name(kind));
        return VXS_EXIT_USAGE;
    } else {
        ex = dump_lidar(argv[0], &o);
    }
    if (fflush(stdout) != 0) {
        fprintf(stderr, "v2xsync dump: cannot write the output\n");
        return VXS_EXIT_USAGE;
    }
    return ex;
}
