/*
 * cmd_dump.c: `v2xsync dump FILE`: what a reader makes of one file, record by record. For
 * LiDAR captures: the sweeps (`--sweeps`, text or JSON lines) or their points as CSV
 * (`--points`). The sweep reader (sensors/lidar.c) does the work; this file chooses options,
 * finds metadata beside the capture and prints.
 */
#include <glob.h>
#include <inttypes.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "vxs_lidar.h"
#include "vxs_sensors.h"

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
    OPT_QUIET
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
    {"quiet", 'q', NULL, "no progress bar on stderr", OPT_QUIET},
    {NULL, 0, NULL, NULL, 0}};

const vxs_cli_cmd_t vxs_cmd_dump_def = {
    "dump", "[options] FILE",
    "Print what the readers decode from one file: LiDAR sweeps and points.",
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
    "Exit status: 0 ok; 1 bad packets were found (everything else was printed);\n"
    "2 usage error or unreadable file.\n",
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
    if (rc == VXS_EXIT_OK && (counts.bad_packets > 0 || fetch_errors > 0)) {
        fprintf(stderr, "v2xsync dump: %s: %" PRIu64 " bad packet(s) skipped (see above)\n",
                path, counts.bad_packets + fetch_errors);
        rc = VXS_EXIT_FINDINGS;
    }
out:
    vxs_lidar_close(l);
    vxs_points_free(&pts);
    for (size_t i = 0; i < MAX_META; i++) vxs_ouster_meta_destroy(metas[i]);
    return rc;
}

int vxs_cmd_dump(int argc, char **argv) {
    dump_opts_t o;
    int npos = 0, ex = 0;
    vxs_file_kind_t kind = VXS_FILE_UNKNOWN;
    char err[512];
    static char outbuf[1 << 16];
    memset(&o, 0, sizeof o);
    o.sweep = -1;
    o.sensor = -1;
    vxs_lidar_options_init(&o.lopt);
    if (vxs_cli_parse(&vxs_cmd_dump_def, argc, argv, on_opt, &o, &npos, &ex) != 0) return ex;
    if (o.points && !o.sensor_given) o.sensor = -2; /* one stream per CSV: the first one */
    if (npos != 1) return vxs_cli_usage_error("dump", npos ? "one FILE at a time" : "no FILE given");
    if (!o.points && !o.sweeps)
        return vxs_cli_usage_error("dump", "say what to dump: --sweeps or --points");
    if (o.points && o.sweeps)
        return vxs_cli_usage_error("dump", "--sweeps and --points are separate outputs");
    if (o.sweep >= 0 && !o.points)
        return vxs_cli_usage_error("dump", "--sweep N goes with --points");
    if (o.points && o.json)
        return vxs_cli_usage_error("dump", "--points prints CSV; --json goes with --sweeps");
    if (o.lopt.max_range_m > 0 && o.lopt.min_range_m >= o.lopt.max_range_m)
        return vxs_cli_usage_error("dump", "--min-range must be below --max-range");
    setvbuf(stdout, outbuf, _IOFBF, sizeof outbuf);
    if (vxs_detect_file(&kind, argv[0], err, sizeof err) != VXS_OK) {
        fprintf(stderr, "v2xsync dump: %s\n", err);
        return VXS_EXIT_USAGE;
    }
    if (kind != VXS_FILE_PCAP && kind != VXS_FILE_PCAPNG) {
        fprintf(stderr, "v2xsync dump: %s: not a pcap/pcapng capture (LiDAR dump reads captures)\n",
                argv[0]);
        return VXS_EXIT_USAGE;
    }
    ex = dump_lidar(argv[0], &o);
    if (fflush(stdout) != 0) {
        fprintf(stderr, "v2xsync dump: cannot write the output\n");
        return VXS_EXIT_USAGE;
    }
    return ex;
}
