/*
 * cmd_init.c: `v2xsync init DIR` drafts a scenario manifest from a folder with one subfolder per
 * agent. The scan is the sensors module's (vxs_draft_scan: which files are which recordings) and
 * the text is core's (vxs_manifest_draft_json); this file parses the arguments, checks -o FILE,
 * prints what was skipped and noted, writes FILE atomically (export's vxs_afile) or stdout, and
 * sets the exit status. DIR is only ever read: input folders are read-only by policy.
 */
#include <errno.h>
#include <jansson.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"
#include "vxs_export.h"
#include "vxs_manifest.h"
#include "vxs_sensors.h"

enum { OPT_OUT = 1, OPT_FORCE, OPT_JSON, OPT_QUIET };

static const vxs_cli_opt_t init_opts[] = {
    {"out", 'o', "FILE", "write the manifest to FILE (not inside DIR) instead of stdout", OPT_OUT},
    {"force", 'f', NULL, "replace FILE if it exists", OPT_FORCE},
    {"json", 0, NULL, "print {\"manifest\", \"skipped\", \"notes\"} instead of the manifest",
     OPT_JSON},
    {"quiet", 'q', NULL, "do not list skipped files and notes on stderr", OPT_QUIET},
    {NULL, 0, NULL, NULL, 0}};

const vxs_cli_cmd_t vxs_cmd_init_def = {
    "init", "[options] DIR",
    "Draft a scenario manifest from a folder with one subfolder per agent.",
    "DIR holds one subfolder per agent; the folder name becomes the agent id (characters\n"
    "outside A-Z a-z 0-9 _ - . replaced by '_'). Files directly in DIR are skipped as\n"
    "not in an agent folder; hidden files and folders are skipped too. Folders and files\n"
    "are taken in name order, so the draft is the same on every run. Each file is\n"
    "recognised by its content, never by its name:\n"
    "  pcap / pcapng   the first 2000 packets are classified. Velodyne data -> a lidar source,\n"
    "                  model from the packets' product byte; clock.gps_locked is true when\n"
    "                  most position packets show PPS locked (2) with a $GPRMC sentence.\n"
    "                  Ouster -> a lidar source; its metadata is <same name>.json, else an\n"
    "                  Ouster metadata JSON in the folder whose packet size and port fit.\n"
    "                  GeoNetworking or WSMP -> a v2x source (format pcap). A capture with\n"
    "                  LiDAR and V2X packets gives two sources with the same path.\n"
    "  video           a camera source. Its \"timestamps\": the first of <stem>.timestamps,\n"
    "                  <stem>.timestamps.txt, <stem>_timestamps.txt, <stem>.txt, <stem>.csv\n"
    "                  and the folder's timestamps.txt that reads as a sidecar (one time a\n"
    "                  line, or CSV with a header naming the time column) with one line per\n"
    "                  frame; a note says why one was not used, or that a later one fits too.\n"
    "  V2X logs        Wyoming OBU binary logs and hex text logs that the V2X reader reads\n"
    "                  without error -> a v2x source with format \"wydot\" or \"hex\".\n"
    "  Velodyne calibration (YAML, XML) and Ouster metadata (JSON) are attached to the\n"
    "  capture they fit, not sources. Anything else is listed as unrecognised, with why.\n\n"
    "Sensor ids are unique within an agent: lidar, lidar2, ..., camera, ..., v2x, ....\n"
    "V2X own identity: a log that marks what was sent (Wyoming) gives own_station_id\n"
    "directly. Otherwise the agent's own messages are logged right after they are made,\n"
    "received ones after the air latency: per second of the capture, each sender's median\n"
    "(capture time - generation time) minus the other senders' lowest; a sender whose\n"
    "median of these is at least 0.2 ms below zero (but not 50 ms: that is the senders'\n"
    "clocks disagreeing) and that sent 10 messages or more is the capture's claim. A\n"
    "receive-only agent's lowest is a neighbour, so the claim is checked against the other\n"
    "agents' captures: it stands only if no other agent's log marks that station sent, no\n"
    "other capture holds a message of it this one lacks (an agent's capture of what it sent\n"
    "misses none; a receiver's misses some), another agent's capture holds 10 or more of\n"
    "its messages to compare with, and no other capture claims it as well. Then\n"
    "own_station_id and own_macs (its source MACs); otherwise a note says \"own station not\n"
    "recognised\" and why. One agent folder alone never gives an own station by latency.\n"
    "Agent \"type\" is a guess from the folder name: rsu if it contains \"rsu\", vru if it\n"
    "contains phone, ped, vru or bike, else vehicle. Edit it, and add extrinsics and clock\n"
    "offsets you know. \"reference\" is the first agent with a lidar, and that lidar.\n\n"
    "Output: the manifest (2-space JSON, validated by the manifest parser before it is\n"
    "handed out). Without -o it goes to stdout with paths relative to DIR; with -o FILE,\n"
    "paths are relative to FILE's folder when the files are below it, else absolute.\n"
    "FILE is written to a temporary name beside it, flushed, then renamed (nothing is left\n"
    "behind on failure); an existing FILE is kept unless --force. Nothing is ever written\n"
    "into DIR. --json prints {\"manifest\": ..., \"skipped\": [{\"path\", \"reason\"}...],\n"
    "\"notes\": [...]} instead (the manifest still goes to FILE).\n\n"
    "Example:\n"
    "  drive/ego/velodyne.pcap  drive/ego/front.mp4  drive/ego/front.timestamps\n"
    "  drive/rsu-1/capture.pcapng  drive/obu/bsmLog.bin\n"
    "  v2xsync init drive -o drive.json   # paths like \"drive/ego/velodyne.pcap\"\n\n"
    "Exit status: 0 manifest drafted; 2 usage error, DIR unreadable, no agent folder or no\n"
    "recognised recording, or FILE exists or cannot be written.\n",
    init_opts, vxs_cmd_init};

typedef struct {
    const char *out;
    bool force, json, quiet;
} init_opts_t;

/* report_t collects what the scan reports: stderr lines and the --json report's arrays. */
typedef struct {
    bool quiet;
    json_t *skipped, *notes;
} report_t;

static int on_opt(void *user, int id, const char *arg) {
    init_opts_t *o = user;
    switch (id) {
    case OPT_OUT: o->out = arg; break;
    case OPT_FORCE: o->force = true; break;
    case OPT_JSON: o->json = true; break;
    case OPT_QUIET: o->quiet = true; break;
    default: break;
    }
    return 0;
}

/* on_skipped prints "PATH: WHAT, skipped (DETAIL)" and adds {"path", "reason": "WHAT: DETAIL"}
 * to the JSON report. */
static void on_skipped(void *user, const char *path, const char *what, const char *detail) {
    report_t *r = user;
    if (!r->quiet)
        fprintf(stderr, "v2xsync init: %s: %s, skipped%s%s%s\n", path, what, detail ? " (" : "",
                detail ? detail : "", detail ? ")" : "");
    json_t *reason = detail ? json_sprintf("%s: %s", what, detail) : json_string(what);
    json_array_append_new(r->skipped, json_pack("{s:s,s:o}", "path", path, "reason", reason));
}

static void on_note(void *user, const char *msg) {
    report_t *r = user;
    if (!r->quiet) fprintf(stderr, "v2xsync init: note: %s\n", msg);
    json_array_append_new(r->notes, json_string(msg));
}

/* dump_json prints `j` (2-space indent, insertion order) and a newline to stdout; false when
 * out of memory. */
static bool dump_json(const json_t *j) {
    char *s = json_dumps(j, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    if (!s) return false;
    fputs(s, stdout);
    fputc('\n', stdout);
    free(s);
    return true;
}

/* prepare_out checks -o FILE before any work: its folder exists and is not inside DIR (real path
 * `dir_real`), and FILE does not exist unless --force. Fills out_real (PATH_MAX bytes) with the
 * real path of FILE's folder. */
static int prepare_out(char *out_real, const init_opts_t *opt, const char *dir,
                       const char *dir_real) {
    const char *file = opt->out, *slash = strrchr(file, '/');
    char folder[PATH_MAX];
    struct stat sb;
    if (slash) snprintf(folder, sizeof folder, "%.*s", slash == file ? 1 : (int)(slash - file), file);
    else snprintf(folder, sizeof folder, ".");
    if (!realpath(folder, out_real)) {
        fprintf(stderr, "v2xsync init: %s: %s\n", folder, strerror(errno));
        return VXS_EXIT_USAGE;
    }
    size_t dl = strlen(dir_real);
    if (strcmp(out_real, dir_real) == 0 ||
        (strncmp(out_real, dir_real, dl) == 0 &&
         (out_real[dl] == '/' || strcmp(dir_real, "/") == 0)))
        return vxs_cli_usage_error("init", "-o %s is inside %s: nothing is written into the "
                                           "input folder", file, dir);
    if (!opt->force && stat(file, &sb) == 0)
        return vxs_cli_usage_error("init", "%s exists (--force replaces it)", file);
    return VXS_EXIT_OK;
}

/* write_out writes the manifest to FILE atomically: a temporary file beside it, fsync, rename. */
static int write_out(const char *file, const char *text, size_t len) {
    char err[640];
    vxs_afile_t *f = NULL;
    if (vxs_afile_open(&f, file, err, sizeof err) == VXS_OK) {
        (void)vxs_afile_write(f, text, len); /* a failed write fails the commit, with its message */
        if (vxs_afile_commit(f, err, sizeof err) == VXS_OK) return VXS_EXIT_OK;
    }
    fprintf(stderr, "v2xsync init: %s\n", err);
    return VXS_EXIT_USAGE;
}

int vxs_cmd_init(int argc, char **argv) {
    init_opts_t opt = {NULL, false, false, false};
    int npos = 0, ex = 0, rc = VXS_EXIT_USAGE;
    if (vxs_cli_parse(&vxs_cmd_init_def, argc, argv, on_opt, &opt, &npos, &ex) != 0) return ex;
    if (npos == 0) return vxs_cli_usage_error("init", "no DIR given");
    if (npos > 1) return vxs_cli_usage_error("init", "one DIR only, got '%s' too", argv[1]);

    char dir[PATH_MAX], dir_real[PATH_MAX], out_real[PATH_MAX], err[VXS_MANIFEST_ERR_LEN];
    struct stat sb;
    snprintf(dir, sizeof dir, "%s", argv[0]);
    for (size_t dl = strlen(dir); dl > 1 && dir[dl - 1] == '/'; dl--) dir[dl - 1] = '\0';
    /* -o is checked before the scan; a DIR that cannot be read is the scan's error to report. */
    if (opt.out && stat(dir, &sb) == 0 && S_ISDIR(sb.st_mode) && realpath(dir, dir_real) &&
        (rc = prepare_out(out_real, &opt, dir, dir_real)) != VXS_EXIT_OK)
        return rc;
    rc = VXS_EXIT_USAGE;

    report_t rep = {opt.quiet, json_array(), json_array()};
    const vxs_draft_report_t report = {on_skipped, on_note, &rep};
    vxs_manifest_draft_t *draft = NULL;
    json_t *manifest = NULL;
    char *text = NULL;
    size_t len = 0;
    vxs_status_t st = vxs_draft_scan(&draft, dir, &report, err, sizeof err);
    if (st == VXS_E_NOMEM) goto oom;
    if (st != VXS_OK) {
        fprintf(stderr, "v2xsync init: %s\n", err);
        /* Nothing to draft: the report still says what was skipped, and why. */
        if (st == VXS_E_NOTFOUND || st == VXS_E_UNSUPPORTED) goto report;
        goto end;
    }
    st = vxs_manifest_draft_json(&text, &len, draft, opt.out ? out_real : NULL, err, sizeof err);
    if (st == VXS_E_NOMEM) goto oom;
    if (st != VXS_OK) {
        fprintf(stderr, "v2xsync init: the draft does not validate%s: %s\n",
                opt.out ? ", not written" : "", err);
        goto end;
    }
    if (opt.json && !(manifest = json_loadb(text, len, 0, NULL))) goto oom;
    if (opt.out && write_out(opt.out, text, len) != VXS_EXIT_OK) goto end;
    rc = VXS_EXIT_OK;
report:
    if (opt.json) {
        json_t *doc = json_pack("{s:O,s:O,s:O}", "manifest", manifest ? manifest : json_null(),
                                "skipped", rep.skipped, "notes", rep.notes);
        bool ok = doc && dump_json(doc);
        json_decref(doc);
        if (!ok) goto oom;
    } else if (rc == VXS_EXIT_OK && !opt.out) {
        fwrite(text, 1, len, stdout);
    } else if (rc == VXS_EXIT_OK && !opt.quiet) {
        fprintf(stderr, "v2xsync init: wrote %s (%zu agents); review it: agent types, extrinsics "
                        "and clock hints are guesses or left out\n",
                opt.out, draft->n_agents);
    }
    goto end;
oom:
    fprintf(stderr, "v2xsync init: out of memory\n");
    rc = VXS_EXIT_USAGE;
end:
    vxs_manifest_draft_free(draft);
    vxs_free(text);
    json_decref(manifest);
    json_decref(rep.skipped);
    json_decref(rep.notes);
    return rc;
}
