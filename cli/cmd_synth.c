/*
 * cmd_synth.c: `v2xsync synth` writes a synthetic multi-agent drive with its ground truth
 * (datasets/synth*.c); `v2xsync demo` writes a small one into a temporary folder, reads every
 * source of its scenario.json back with the readers, checks what they found against truth.json,
 * shows how far apart the agents' clocks are before alignment, and says where to look next.
 */
#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "synth.h"
#include "vxs_manifest.h"
#include "vxs_sensors.h"
#include "vxs_sync.h"

enum { OPT_SEED = 1, OPT_OUT, OPT_DURATION, OPT_PROFILE, OPT_FORCE, OPT_JSON, OPT_QUIET,
       OPT_REALISM, OPT_CLEAN, OPT_FAULT,
       OPT_REALISM_ONE /* + the option's index in synth_realism_t */ };

typedef struct {
    const char *cmd;
    uint64_t seed;
    const char *out;
    double duration_s;
    synth_profile_t profile;
    bool force, json, quiet;
    synth_realism_t realism; /* classic unless synth's options say otherwise */
    bool clean;              /* --clean: no logger step, no shadow */
    synth_faults_t faults;   /* --fault */
} synth_opts_t;

static const vxs_cli_opt_t synth_opts[] = {
    {"seed", 0, "N", "random seed (default 1): the same seed gives byte-identical files", OPT_SEED},
    {"out", 'o', "DIR", "folder to write the drive into (created; required)", OPT_OUT},
    {"duration", 0, "S", "drive length in seconds (default 60; 1..7200)", OPT_DURATION},
    {"profile", 0, "P", "V2X stacks: etsi, us or mixed (default mixed: every agent runs both)",
     OPT_PROFILE},
    {"realism", 0, "R",
     "classic (default), full (every option below), or a comma-separated list of the options "
     "below by name; a leading '-' switches one off (full,-slew)",
     OPT_REALISM},
    {"link-floors", 0, NULL, "a latency floor per directed V2X link, 1.5-6.5 ms",
     OPT_REALISM_ONE + 0},
    {"tx-log", 0, NULL, "own-message logging delay per agent and stack, 0.05-1.5 ms",
     OPT_REALISM_ONE + 1},
    {"rx-only", 0, NULL, "the roadside unit sends nothing (mixed: the phone nothing on US)",
     OPT_REALISM_ONE + 2},
    {"camera-latency", 0, NULL, "frames stamped 4-15 ms (+-0.5 ms) after their exposure",
     OPT_REALISM_ONE + 3},
    {"logger-steps", 0, NULL, "logger clocks step both ways by 5-60 ms, several times",
     OPT_REALISM_ONE + 4},
    {"slew", 0, NULL, "NTP-style slews (100-500 ppm for 2-10 s) or drift changes",
     OPT_REALISM_ONE + 5},
    {"lidar-behind", 0, NULL, "the free-running LiDAR runs 5-1500 s behind true time",
     OPT_REALISM_ONE + 6},
    {"sidecar-names", 0, NULL, "camera files named as rigs name them (camera_front.mp4 ...)",
     OPT_REALISM_ONE + 7},
    {"gnss", 0, NULL, "senders report GNSS estimates (0.05-6 m off) with honest accuracy claims",
     OPT_REALISM_ONE + 8},
    {"ref-point", 0, NULL, "vehicles' ETSI messages report their front centre (EN 302 637-2)",
     OPT_REALISM_ONE + 9},
    {"motion", 0, NULL, "car 2 laps a stadium at 6-18 m/s; the phone walks a block, stopping",
     OPT_REALISM_ONE + 10},
    {"clean", 0, NULL,
     "no logger step, no shadowed link (everything else stays): for QA checks",
     OPT_CLEAN},
    {"fault", 0, "LIST",
     "inject faults (comma-separated): dead-link, camera-drops, unpinned-clock (below)",
     OPT_FAULT},
    {"force", 'f', NULL, "write into DIR even if it already holds a drive", OPT_FORCE},
    {"json", 0, NULL, "print a JSON summary on stdout", OPT_JSON},
    {"quiet", 'q', NULL, "no progress bar on stderr", OPT_QUIET},
    {NULL, 0, NULL, NULL, 0}};

#define DRIVE_TEXT                                                                                 \
    "The drive: four road users around a 22 m roundabout for the given duration. The ego car\n"  \
    "(Velodyne VLP-32C, GPS/PPS-locked; forward camera) and a second car (VLP-16, free-running\n" \
    "clock) circle it; a roadside unit on the central island (VLP-16 looking down, locked)\n"     \
    "watches; a pedestrian's phone walks the sidewalk. Each agent's logger clock is off by tens\n" \
    "of ms to seconds and drifts by tens of ppm; the second car's is stepped once. V2X:\n"      \
    "ETSI GeoNetworking/BTP CAMs by the generation rules, a DENM event from the roadside unit,\n" \
    "VAMs from the phone; US WSMP + IEEE 1609.2 signed BSMs and PSMs. Every message reaches\n"  \
    "each receiver through a Gilbert-Elliott lossy link with jitter, rare 100-300 ms spikes,\n"  \
    "duplicates and reordering; a building shadows the ego-phone link for 2 s.\n\n"               \
    "Files: scenario.json (the manifest; README \"The scenario manifest\"), truth.json\n"        \
    "(README \"Synthetic drives\"), and per agent <id>/v2x.pcap, <id>/lidar.pcap,\n"             \
    "ego/camera.mp4 (H.264) with ego/camera.timestamps (logger time of each frame, ns).\n\n"     \
    "Realism: the classic drive keeps what real rigs do not: one symmetric latency floor on\n"   \
    "every link, every agent sending, frames stamped at exposure, one large step, the sidecar\n" \
    "name init expects. Each option above brings one reality back (truth.json records it);\n"   \
    "--realism full brings them all. Without them the files are byte-identical to earlier\n"   \
    "versions'.\n\n"                                                                           \
    "Clean drives and faults, for testing QA checks: --clean removes the classic drive's two\n" \
    "defects, the second car's logger step and the ego-phone shadow (loss, jitter, spikes,\n"   \
    "duplicates, drift and offsets stay; realism options combine with it). --fault adds one\n"  \
    "defect each, at fixed times: dead-link: the link vehicle2 -> ego carries nothing on any\n" \
    "stack from 40 % of the drive to its end; camera-drops: the ego camera drops every frame\n" \
    "exposed in [50 %, 50 % + 1.5 s) (gone from the video and the sidecar alike);\n"           \
    "unpinned-clock: vehicle2 records no V2X (no vehicle2/v2x.pcap, none in scenario.json), so\n" \
    "nothing ties its logger or its free-running LiDAR to the others. truth.json records them\n" \
    "(\"clean\": true, \"faults\": times in ns and ISO 8601). Without --clean and --fault the\n"  \
    "files are the same bytes as before.\n"

const vxs_cli_cmd_t vxs_cmd_synth_def = {
    "synth", "--out DIR [options]",
    "Write a synthetic multi-agent drive with ground truth (captures, video, manifest).",
    DRIVE_TEXT "\nExit status: 0 written; 2 usage error, or the drive could not be written.\n",
    synth_opts, vxs_cmd_synth};

static const vxs_cli_opt_t demo_opts[] = {
    {"seed", 0, "N", "random seed (default 1)", OPT_SEED},
    {"out", 'o', "DIR", "the demo's folder (DIR/drive, DIR/synced) instead of a new temporary "
                        "one", OPT_OUT},
    {"duration", 0, "S", "drive length in seconds (default 10)", OPT_DURATION},
    {"profile", 0, "P", "etsi, us or mixed (default mixed)", OPT_PROFILE},
    {"json", 0, NULL, "print a JSON summary on stdout instead of text", OPT_JSON},
    {"quiet", 'q', NULL, "no progress bar on stderr", OPT_QUIET},
    {NULL, 0, NULL, NULL, 0}};

const vxs_cli_cmd_t vxs_cmd_demo_def = {
    "demo", "[options]",
    "Generate a small drive, read it back with every reader, and show what to look at.",
    "Writes a 10 s synthetic drive (see 'v2xsync synth --help') into DEMO/drive, DEMO a new\n"
    "folder under $TMPDIR (or /tmp) or -o DEMO, opens every source its scenario.json lists\n"
    "with the matching reader (LiDAR sweeps, camera frames, V2X messages), compares what was\n"
    "read with truth.json,\n"
    "shows how far each agent's logger clock is from GNSS time as the raw data suggests it,\n"
    "runs the main job into DEMO/synced (beside the drive: sync writes nothing inside a folder\n"
    "of inputs) and prints the commands to explore the folder. The folder is kept.\n\n"
    "Exit status: 0 everything read back as the truth says; 1 a reader disagreed with the\n"
    "truth; 2 usage error, or the drive could not be written or read.\n",
    demo_opts, vxs_cmd_demo};

static int on_opt(void *user, int id, const char *arg) {
    synth_opts_t *o = user;
    char *end;
    switch (id) {
    case OPT_SEED:
        errno = 0;
        o->seed = strtoull(arg, &end, 10);
        if (errno || end == arg || *end || arg[0] == '-') {
            vxs_cli_usage_error(o->cmd, "--seed: expected a non-negative integer, got '%s'", arg);
            return 1;
        }
        return 0;
    case OPT_OUT: o->out = arg; return 0;
    case OPT_DURATION:
        o->duration_s = strtod(arg, &end);
        if (end == arg || *end || !(o->duration_s >= SYNTH_MIN_DURATION_S &&
                                    o->duration_s <= SYNTH_MAX_DURATION_S)) {
            vxs_cli_usage_error(o->cmd, "--duration: expected seconds in [%g, %g], got '%s'",
                                SYNTH_MIN_DURATION_S, SYNTH_MAX_DURATION_S, arg);
            return 1;
        }
        return 0;
    case OPT_PROFILE:
        if (strcmp(arg, "etsi") == 0) o->profile = SYNTH_PROFILE_ETSI;
        else if (strcmp(arg, "us") == 0) o->profile = SYNTH_PROFILE_US;
        else if (strcmp(arg, "mixed") == 0) o->profile = SYNTH_PROFILE_MIXED;
        else {
            vxs_cli_usage_error(o->cmd, "--profile: expected etsi, us or mixed, got '%s'", arg);
            return 1;
        }
        return 0;
    case OPT_FORCE: o->force = true; return 0;
    case OPT_JSON: o->json = true; return 0;
    case OPT_QUIET: o->quiet = true; return 0;
    case OPT_CLEAN: o->clean = true; return 0;
    case OPT_FAULT: {
        char err[512] = "";
        if (synth_faults_parse(&o->faults, arg, err, sizeof err) != VXS_OK) {
            vxs_cli_usage_error(o->cmd, "--fault: %s", err);
            return 1;
        }
        return 0;
    }
    case OPT_REALISM: {
        char err[512] = "";
        if (synth_realism_parse(&o->realism, arg, err, sizeof err) != VXS_OK) {
            vxs_cli_usage_error(o->cmd, "--realism: %s", err);
            return 1;
        }
        return 0;
    }
    default:
        if (id >= OPT_REALISM_ONE && id < OPT_REALISM_ONE + SYNTH_REALISM_N) {
            *synth_realism_flag(&o->realism, (size_t)(id - OPT_REALISM_ONE)) = true;
            return 0;
        }
        return 1;
    }
}

/* faults_json lists the faults injected (empty for none). */
static json_t *faults_json(const synth_faults_t *f) {
    json_t *a = json_array();
    synth_faults_t c = *f;
    for (size_t i = 0; i < SYNTH_FAULT_N; i++)
        if (*synth_fault_flag(&c, i)) json_array_append_new(a, json_string(synth_fault_name(i)));
    return a;
}

/* realism_json lists the realism options that are on (empty for classic). */
static json_t *realism_json(const synth_realism_t *r) {
    json_t *a = json_array();
    synth_realism_t c = *r;
    for (size_t i = 0; i < SYNTH_REALISM_N; i++)
        if (*synth_realism_flag(&c, i))
            json_array_append_new(a, json_string(synth_realism_name(i)));
    return a;
}

static const char *const PROFILE_NAMES[] = {"etsi", "us", "mixed"};

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static bool exists(const char *dir, const char *name) {
    char p[4096];
    struct stat st;
    snprintf(p, sizeof p, "%s/%s", dir, name);
    return stat(p, &st) == 0;
}

/* file_list: every file the drive wrote, with its size, as a JSON array. */
static json_t *file_list(const synth_world_t *w, const char *dir, uint64_t *total) {
    json_t *a = json_array();
    *total = 0;
    char rel[256], p[4096];
    for (size_t i = 0; i < w->n_agents + 1; i++) {
        const synth_agent_t *g = i < w->n_agents ? &w->agents[i] : NULL;
        const char *names[4] = {NULL, NULL, NULL, NULL};
        if (!g) {
            names[0] = "scenario.json";
            names[1] = "truth.json";
        } else {
            size_t k = 0;
            if (!(w->fault.on.unpinned_clock && i == w->fault.unpinned_agent))
                names[k++] = SYNTH_V2X_FILE; /* fault unpinned-clock: not recorded */
            if (g->lidar.present) names[k++] = SYNTH_LIDAR_FILE;
            if (g->camera.present) {
                names[k++] = g->camera.file;
                names[k++] = g->camera.times;
            }
        }
        for (size_t k = 0; k < 4 && names[k]; k++) {
            if (g) snprintf(rel, sizeof rel, "%s/%s", g->id, names[k]);
            else snprintf(rel, sizeof rel, "%s", names[k]);
            snprintf(p, sizeof p, "%s/%s", dir, rel);
            struct stat st;
            const uint64_t size = stat(p, &st) == 0 ? (uint64_t)st.st_size : 0;
            *total += size;
            json_array_append_new(a, json_pack("{s:s, s:I}", "path", rel, "bytes",
                                               (json_int_t)size));
        }
    }
    return a;
}

/* generate: the part synth and demo share. Returns an exit code. */
static int generate(const synth_opts_t *o, synth_world_t *w, double *secs) {
    if (synth_world_init_faults(w, o->seed, o->profile, o->duration_s, &o->realism, o->clean,
                                &o->faults) != VXS_OK)
        return vxs_cli_usage_error(o->cmd, "bad drive parameters");
    vxs_cli_progress_t bar;
    vxs_cli_progress_begin(&bar, o->cmd, o->quiet || o->json);
    char err[1024] = "";
    const double t0 = now_s();
    const vxs_status_t st = synth_generate(w, o->out, (vxs_progress_t){vxs_cli_progress_fn, &bar},
                                           err, sizeof err);
    vxs_cli_progress_end(&bar);
    *secs = now_s() - t0;
    if (st != VXS_OK) {
        fprintf(stderr, "v2xsync %s: %s\n", o->cmd, err[0] ? err : vxs_strerror(st));
        return VXS_EXIT_USAGE;
    }
    return VXS_EXIT_OK;
}

int vxs_cmd_synth(int argc, char **argv) {
    synth_opts_t o = {"synth", 1, NULL, 60.0, SYNTH_PROFILE_MIXED, false, false, false, {0},
                      false, {0}};
    int npos = 0, code = 0;
    if (vxs_cli_parse(&vxs_cmd_synth_def, argc, argv, on_opt, &o, &npos, &code) != 0) return code;
    if (npos > 0) return vxs_cli_usage_error("synth", "unexpected argument '%s'", argv[0]);
    if (!o.out) return vxs_cli_usage_error("synth", "--out DIR is required");
    if (!o.force && (exists(o.out, "scenario.json") || exists(o.out, "truth.json")))
        return vxs_cli_usage_error("synth",
                                   "%s already holds a drive (scenario.json / truth.json); "
                                   "use --force to overwrite it",
                                   o.out);
    synth_world_t w;
    double secs = 0;
    const int rc = generate(&o, &w, &secs);
    if (rc != VXS_EXIT_OK) return rc;
    uint64_t total = 0;
    json_t *files = file_list(&w, o.out, &total);
    if (o.json) {
        json_t *j = json_pack("{s:s, s:I, s:s, s:o, s:f, s:f, s:I, s:o}", "out", o.out, "seed",
                              (json_int_t)o.seed, "profile", PROFILE_NAMES[o.profile],
                              "realism", realism_json(&o.realism), "duration_s", o.duration_s,
                              "seconds", secs, "bytes", (json_int_t)total, "files", files);
        json_object_set_new(j, "clean", json_boolean(o.clean));
        json_object_set_new(j, "faults", faults_json(&o.faults));
        json_dumpf(j, stdout, JSON_INDENT(2));
        fputc('\n', stdout);
        json_decref(j);
        return VXS_EXIT_OK;
    }
    printf("%s: %.0f s drive, seed %" PRIu64 ", profile %s, written in %.2f s\n", o.out,
           o.duration_s, o.seed, PROFILE_NAMES[o.profile], secs);
    if (synth_realism_any(&o.realism)) {
        json_t *names = realism_json(&o.realism);
        char *txt = json_dumps(names, JSON_COMPACT);
        printf("  realism: %s\n", txt ? txt : "?");
        free(txt);
        json_decref(names);
    }
    if (o.clean) printf("  clean: no logger step, no shadowed link\n");
    if (synth_faults_any(&o.faults)) {
        json_t *names = faults_json(&o.faults);
        char *txt = json_dumps(names, JSON_COMPACT);
        printf("  faults: %s\n", txt ? txt : "?");
        free(txt);
        json_decref(names);
    }
    size_t i;
    json_t *f;
    json_array_foreach(files, i, f) {
        printf("  %-24s %10.1f kB\n", json_string_value(json_object_get(f, "path")),
               (double)json_integer_value(json_object_get(f, "bytes")) / 1e3);
    }
    printf("  %-24s %10.1f MB\n", "total", (double)total / 1e6);
    json_decref(files);
    return VXS_EXIT_OK;
}

/* ==== demo ================================================================================ */

/* source_result_t is what the demo learned from reading one source. */
typedef struct {
    const char *agent, *sensor, *kind;
    vxs_source_kind_t k;
    char detail[64];
    uint64_t records, bad, expected;
    vxs_time_t first, last;
    /* v2x: received messages' capture - generation time */
    double *delays_ms;
    size_t n_delays, cap_delays;
    char error[512];
} source_result_t;

static void add_delay(source_result_t *r, double ms) {
    if (r->n_delays == r->cap_delays) {
        const size_t cap = r->cap_delays ? 2 * r->cap_delays : 256;
        double *p = realloc(r->delays_ms, cap * sizeof *p);
        if (!p) return;
        r->delays_ms = p;
        r->cap_delays = cap;
    }
    r->delays_ms[r->n_delays++] = ms;
}

static int cmp_double(const void *a, const void *b) {
    const double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static void count_diag(void *user, const vxs_diag_t *d) {
    source_result_t *r = user;
    if (r->bad++ == 0) snprintf(r->error, sizeof r->error, "%s", d->msg);
}

static void span(source_result_t *r, vxs_time_t t) {
    if (t == VXS_TIME_NONE) return;
    if (r->first == VXS_TIME_NONE || t < r->first) r->first = t;
    if (r->last == VXS_TIME_NONE || t > r->last) r->last = t;
}

/* read_source reads one source of the manifest through the library's one mapping from a
 * manifest entry to a reader (vxs_source_open_manifest), as the main job does. */
static void read_source(const vxs_manifest_t *m, vxs_source_ref_t ref, uint32_t index,
                        source_result_t *r) {
    const vxs_diag_sink_t sink = {count_diag, r};
    const vxs_source_open_options_t oo = {VXS_REC_KIND_BIT(VXS_REC_LIDAR_SWEEP) |
                                              VXS_REC_KIND_BIT(VXS_REC_CAMERA_FRAME) |
                                              VXS_REC_KIND_BIT(VXS_REC_V2X),
                                          NULL};
    vxs_source_t *src = NULL;
    if (vxs_source_open_manifest((void *)&oo, &src, m, ref, index, &sink, r->error,
                                 sizeof r->error) != VXS_OK) {
        r->bad++;
        return;
    }
    const vxs_record_t *rec;
    uint64_t points = 0, sent = 0;
    uint32_t width = 0, height = 0;
    /* errors end the source and were reported to the diag sink (counted there) */
    while (vxs_source_next(src, &rec) == VXS_OK) {
        r->records++;
        span(r, rec->capture_time);
        if (rec->kind == VXS_REC_LIDAR_SWEEP) {
            points += rec->u.sweep.points;
        } else if (rec->kind == VXS_REC_CAMERA_FRAME) {
            width = rec->u.frame.width;
            height = rec->u.frame.height;
        } else if (rec->u.v2x.sent) {
            sent++;
        } else if (rec->device_time != VXS_TIME_NONE && rec->capture_time != VXS_TIME_NONE) {
            add_delay(r, (double)(rec->capture_time - rec->device_time) / 1e6);
        }
    }
    const vxs_manifest_source_t *ms = &m->agents[ref.agent].sources[ref.source];
    if (ms->kind == VXS_SOURCE_LIDAR)
        snprintf(r->detail, sizeof r->detail, "%s, %.0fk points", ms->model ? ms->model : "LiDAR",
                 (double)points / 1e3);
    else if (ms->kind == VXS_SOURCE_CAMERA)
        snprintf(r->detail, sizeof r->detail, "%" PRIu32 "x%" PRIu32, width, height);
    else
        snprintf(r->detail, sizeof r->detail, "%" PRIu64 " sent, %" PRIu64 " received", sent,
                 r->records - sent);
    vxs_source_destroy(src);
}

/* expected_records: what truth.json says the reader should find in a source. */
static uint64_t expected_records(json_t *truth, const char *agent, vxs_source_kind_t kind) {
    uint64_t n = 0;
    size_t i;
    json_t *it;
    if (kind == VXS_SOURCE_LIDAR) {
        json_array_foreach(json_object_get(truth, "sweeps"), i, it) {
            const char *a = json_string_value(json_object_get(it, "agent"));
            n += a && strcmp(a, agent) == 0;
        }
    } else if (kind == VXS_SOURCE_CAMERA) {
        json_array_foreach(json_object_get(truth, "camera_frames"), i, it) {
            const char *a = json_string_value(json_object_get(it, "agent"));
            n += a && strcmp(a, agent) == 0 && !json_is_true(json_object_get(it, "dropped"));
        }
    } else {
        json_array_foreach(json_object_get(truth, "messages"), i, it) {
            const char *s = json_string_value(json_object_get(it, "sender"));
            if (s && strcmp(s, agent) == 0) n++;
            size_t k;
            json_t *rx;
            json_array_foreach(json_object_get(it, "rx"), k, rx) {
                const char *a = json_string_value(json_object_get(rx, "agent"));
                if (a && strcmp(a, agent) == 0 && json_is_true(json_object_get(rx, "delivered")))
                    n += json_array_size(json_object_get(rx, "capture_ns"));
            }
        }
    }
    return n;
}

static const char *unit_of(vxs_source_kind_t k) {
    return k == VXS_SOURCE_LIDAR ? "sweeps" : k == VXS_SOURCE_CAMERA ? "frames" : "messages";
}

static bool make_temp_dir(char *buf, size_t len) {
    const char *tmp = getenv("TMPDIR");
    if (!tmp || !*tmp) tmp = "/tmp";
    snprintf(buf, len, "%s/v2xsync-demo-XXXXXX", tmp);
    return mkdtemp(buf) != NULL;
}

/* run_sync runs the main job on the demo's drive `dir` with the library (as `v2xsync sync` does,
 * into `synced`, beside the drive: never inside a folder of inputs; its summary shown unless
 * --json) and returns in *out each logger's estimate at mid-drive next to the truth. false when
 * the job failed. */
static bool run_sync(bool json, const char *dir, const synth_world_t *w, const char *synced,
                     json_t **out) {
    char scen[4200];
    snprintf(scen, sizeof scen, "%s/scenario.json", dir);
    if (!json) printf("\nThe main job: v2xsync sync %s -o %s --bundle --report\n\n", scen, synced);
    fflush(stdout);
    vxs_cli_sync_opts_t so = VXS_CLI_SYNC_OPTS_INIT;
    so.out = synced;
    so.quiet = true;
    so.print = json ? VXS_CLI_PRINT_NONE : VXS_CLI_PRINT_TEXT;
    so.bundle = true; /* the main job ends in a labeled bundle */
    so.report = true; /* and the QA report of its synchronisation */
    vxs_manifest_t *man = NULL;
    vxs_job_t *job = NULL;
    const int rc = vxs_cli_sync(scen, &so, &man, &job);
    *out = json_array();
    const vxs_clock_report_t *R = job ? vxs_job_clocks(job) : NULL;
    const int64_t mid = w->start_ns + w->duration_ns / 2;
    for (size_t a = 0; R && a < w->n_agents; a++) {
        char name[96];
        snprintf(name, sizeof name, "%s/logger", w->agents[a].id);
        const size_t i = vxs_job_clock_index(job, name);
        if (i == SIZE_MAX) continue;
        /* at mid-drive, on the piece that holds it */
        const double est_ms =
            (double)(vxs_clock_to_local(&R->clocks[i].est.model, mid) - mid) / 1e6;
        const double true_ms = (double)(synth_clock_local(&w->agents[a].logger, mid) - mid) / 1e6;
        json_array_append_new(*out, json_pack("{s:s,s:f,s:f}", "agent", w->agents[a].id,
                                              "estimated_mid_ms", est_ms, "true_mid_ms", true_ms));
    }
    const bool ok = rc <= VXS_EXIT_FINDINGS && R != NULL;
    vxs_job_destroy(job);
    vxs_manifest_free(man);
    return ok;
}

int vxs_cmd_demo(int argc, char **argv) {
    synth_opts_t o = {"demo", 1, NULL, 10.0, SYNTH_PROFILE_MIXED, true, false, false, {0},
                      false, {0}};
    int npos = 0, code = 0;
    if (vxs_cli_parse(&vxs_cmd_demo_def, argc, argv, on_opt, &o, &npos, &code) != 0) return code;
    if (npos > 0) return vxs_cli_usage_error("demo", "unexpected argument '%s'", argv[0]);
    /* the demo's folder holds the drive and, beside it, the main job's outputs (sync refuses
     * to write inside a folder of inputs): DEMO/drive, DEMO/synced */
    char tmp[4096], drive[4200], synced[4200];
    if (!o.out) {
        if (!make_temp_dir(tmp, sizeof tmp)) {
            fprintf(stderr, "v2xsync demo: cannot create a temporary folder: %s\n",
                    strerror(errno));
            return VXS_EXIT_USAGE;
        }
        o.out = tmp;
    } else if (mkdir(o.out, 0777) != 0 && errno != EEXIST) {
        fprintf(stderr, "v2xsync demo: %s: cannot create: %s\n", o.out, strerror(errno));
        return VXS_EXIT_USAGE;
    }
    const char *demo_dir = o.out;
    snprintf(drive, sizeof drive, "%s/drive", demo_dir);
    snprintf(synced, sizeof synced, "%s/synced", demo_dir);
    o.out = drive;
    synth_world_t w;
    double secs = 0;
    int rc = generate(&o, &w, &secs);
    if (rc != VXS_EXIT_OK) return rc;
    uint64_t total = 0;
    json_t *files = file_list(&w, o.out, &total);

    /* Read the drive back the way a user's recordings would be: through the manifest. */
    char path[4096], err[VXS_MANIFEST_ERR_LEN];
    snprintf(path, sizeof path, "%s/scenario.json", o.out);
    vxs_manifest_t *m = NULL;
    if (vxs_manifest_load(&m, path, err, sizeof err) != VXS_OK) {
        fprintf(stderr, "v2xsync demo: %s\n", err);
        json_decref(files);
        return VXS_EXIT_USAGE;
    }
    snprintf(path, sizeof path, "%s/truth.json", o.out);
    json_error_t jerr;
    json_t *truth = json_load_file(path, 0, &jerr);
    if (!truth) {
        fprintf(stderr, "v2xsync demo: %s: line %d: %s\n", path, jerr.line, jerr.text);
        vxs_manifest_free(m);
        json_decref(files);
        return VXS_EXIT_USAGE;
    }
    const double t_read0 = now_s();
    source_result_t res[64];
    size_t nres = 0;
    bool all_match = true;
    for (size_t a = 0; a < m->n_agents; a++) {
        for (size_t k = 0; k < m->agents[a].n_sources && nres < 64; k++) {
            const vxs_manifest_source_t *s = &m->agents[a].sources[k];
            source_result_t *r = &res[nres];
            memset(r, 0, sizeof *r);
            r->agent = m->agents[a].id;
            r->sensor = s->sensor;
            r->kind = vxs_source_kind_name(s->kind);
            r->k = s->kind;
            r->first = r->last = VXS_TIME_NONE;
            read_source(m, (vxs_source_ref_t){a, k}, (uint32_t)nres, r);
            nres++;
            r->expected = expected_records(truth, r->agent, s->kind);
            if (r->records != r->expected || r->bad) all_match = false;
        }
    }
    const double read_secs = now_s() - t_read0;

    /* Raw clock view: a received message's capture time minus its generation time is the
     * receiver's logger offset plus the link latency. */
    json_t *jsources = json_array();
    for (size_t i = 0; i < nres; i++) {
        source_result_t *r = &res[i];
        json_t *js = json_pack("{s:s, s:s, s:s, s:s, s:I, s:I, s:I, s:b}", "agent", r->agent,
                               "sensor", r->sensor, "kind", r->kind, "detail", r->detail,
                               "records", (json_int_t)r->records, "expected",
                               (json_int_t)r->expected, "bad", (json_int_t)r->bad, "matches",
                               r->records == r->expected && !r->bad);
        if (r->error[0]) json_object_set_new(js, "first_error", json_string(r->error));
        if (r->n_delays) {
            qsort(r->delays_ms, r->n_delays, sizeof(double), cmp_double);
            json_object_set_new(js, "median_capture_minus_gen_ms",
                                json_real(r->delays_ms[r->n_delays / 2]));
        }
        json_array_append_new(jsources, js);
    }
    json_t *jclocks = json_array();
    for (size_t a = 0; a < w.n_agents; a++) {
        const synth_clock_t *c = &w.agents[a].logger;
        const int64_t mid = w.start_ns + w.duration_ns / 2;
        json_array_append_new(
            jclocks, json_pack("{s:s, s:f, s:f, s:b}", "agent", w.agents[a].id,
                               "offset_mid_ms", (double)(synth_clock_local(c, mid) - mid) / 1e6,
                               "drift_ppm", c->drift_ppm, "jumps",
                               c->jump_at_ns != INT64_MAX));
    }

    json_t *jest = NULL;
    if (o.json) all_match &= run_sync(true, o.out, &w, synced, &jest);
    if (o.json) {
        json_t *j = json_pack("{s:s, s:I, s:s, s:f, s:f, s:f, s:I, s:o, s:o, s:o, s:b}", "out",
                              o.out, "seed", (json_int_t)o.seed, "profile",
                              PROFILE_NAMES[o.profile], "duration_s", o.duration_s,
                              "generate_seconds", secs, "read_seconds", read_secs, "bytes",
                              (json_int_t)total, "files", files, "sources", jsources,
                              "true_logger_clocks", jclocks, "all_match", all_match);
        json_object_set_new(j, "synced", json_string(synced));
        json_object_set_new(j, "folder", json_string(demo_dir));
        json_object_set_new(j, "estimated_logger_clocks", jest);
        json_object_set_new(j, "all_match", json_boolean(all_match));
        json_dumpf(j, stdout, JSON_INDENT(2));
        fputc('\n', stdout);
        json_decref(j);
    } else {
        printf("v2xsync demo: a %.0f s drive of %zu road users (seed %" PRIu64
               ", V2X profile %s)\n  written to %s in %.2f s (%.1f MB), read back in %.2f s\n\n",
               o.duration_s, w.n_agents, o.seed, PROFILE_NAMES[o.profile], o.out, secs,
               (double)total / 1e6, read_secs);
        printf("What the readers found, against truth.json:\n");
        printf("  %-9s %-7s %9s %-9s %5s  %-8s %s\n", "agent", "source", "records", "", "bad",
               "truth", "detail");
        for (size_t i = 0; i < nres; i++) {
            const source_result_t *r = &res[i];
            printf("  %-9s %-7s %9" PRIu64 " %-9s %5" PRIu64 "  %-8s %s\n", r->agent, r->kind,
                   r->records, unit_of(r->k),
                   r->bad, r->records == r->expected && !r->bad ? "same" : "DIFFERS",
                   r->detail);
            if (r->error[0]) printf("      first error: %s\n", r->error);
        }
        printf("\nThe clocks before alignment. A received message's capture time minus its GNSS\n"
               "generation time is the receiver's logger offset plus the radio latency:\n");
        printf("  %-9s %22s   %s\n", "receiver", "capture - generation", "truth: logger offset "
                                                                     "at mid-drive, drift");
        for (size_t k = 0; k < nres; k++) {
            const source_result_t *r = &res[k];
            if (!r->n_delays) continue;
            size_t a = 0;
            while (a < w.n_agents && strcmp(w.agents[a].id, r->agent) != 0) a++;
            if (a == w.n_agents) continue;
            const synth_clock_t *c = &w.agents[a].logger;
            const int64_t mid = w.start_ns + w.duration_ns / 2;
            printf("  %-9s %+19.1f ms   %+.1f ms, %+.1f ppm%s\n", r->agent,
                   r->delays_ms[r->n_delays / 2], (double)(synth_clock_local(c, mid) - mid) / 1e6,
                   c->drift_ppm, c->jump_at_ns != INT64_MAX ? ", stepped once" : "");
        }
        all_match &= run_sync(false, o.out, &w, synced, &jest);
        printf("\nThe loggers at mid-drive, estimated by sync, against the truth:\n");
        size_t ei;
        json_t *e;
        json_array_foreach(jest, ei, e) {
            const double est = json_number_value(json_object_get(e, "estimated_mid_ms"));
            const double tru = json_number_value(json_object_get(e, "true_mid_ms"));
            printf("  %-9s %+12.3f ms   truth %+12.3f ms   error %+.3f ms\n",
                   json_string_value(json_object_get(e, "agent")), est, tru, est - tru);
        }
        json_decref(jest);
        char self[1024];
        const ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
        const char *prog = n > 0 ? (self[n] = '\0', self) : "v2xsync";
        const char *d = o.out;
        printf("\nLook at:\n"
               "  %s/scenario.json   the manifest (README \"The scenario manifest\")\n"
               "  %s/truth.json      what really happened (README \"Synthetic drives\")\n",
               d, d);
        printf("  %s inspect %s/vehicle2/lidar.pcap\n", prog, d);
        printf("  %s dump --sweeps %s/ego/lidar.pcap\n", prog, d);
        printf("  %s dump --points --sweep 5 %s/rsu/lidar.pcap > rsu_sweep5.csv\n", prog, d);
        printf("  %s dump --json %s/phone/v2x.pcap | head\n", prog, d);
        printf("  %s/clocks.json   every clock, estimated (README \"clocks.json\")\n"
               "  head -1 %s/frames.jsonl   the first frame (README \"frames.jsonl\")\n"
               "  head -1 %s/v2x_messages.jsonl   the first message received (README "
               "\"v2x_messages.jsonl\")\n"
               "  %s/links.json   what each receiver got of each sender (README "
               "\"links.json\")\n",
               synced, synced, synced, synced);
        printf("  %s dump --timestamps %s/ego/camera.timestamps --frame 40 --png frame40.png "
               "%s/ego/camera.mp4\n",
               prog, d, d);
        printf("  %s/report.html   the QA sync report, offline in any browser (README "
               "\"v2xsync report\"); %s check %s\n",
               synced, prog, synced);
        printf("  %s/bundle.json   the labeled bundle (README \"The bundle\"); frame 40:\n"
               "  %s/labels/00000040.json   OpenLABEL: V2X road users as cuboids, checked "
               "against each LiDAR\n"
               "  %s/sensors/ego/camera/00000040.png   lz4 -d %s/sensors/ego/lidar/"
               "00000040.pts.lz4\n"
               "  cd %s && xxhsum -c files.xxh64 | tail -1\n",
               synced, synced, synced, synced, synced);
        if (!all_match)
            printf("\nA reader disagreed with the truth: see the rows marked DIFFERS.\n");
        json_decref(files);
        json_decref(jsources);
        json_decref(jclocks);
    }
    for (size_t i = 0; i < nres; i++) free(res[i].delays_ms);
    json_decref(truth);
    vxs_manifest_free(m);
    return all_match ? VXS_EXIT_OK : VXS_EXIT_FINDINGS;
}
