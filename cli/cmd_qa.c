/*
 * cmd_qa.c: `v2xsync report OUT` and `v2xsync check OUT`. Both are the export module's QA report
 * (vxs_qa_*: it reads sync's outputs, computes report.json and evaluates the checks); this file
 * parses arguments, prints, and maps the verdict to the exit status.
 */
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "vxs_export.h"

enum { OPT_CONFIG = 1, OPT_JSON, OPT_QUIET };

typedef struct {
    const char *config;
    bool json, quiet;
} qa_opts_t;

static int on_opt(void *user, int id, const char *arg) {
    qa_opts_t *o = user;
    switch (id) {
    case OPT_CONFIG: o->config = arg; break;
    case OPT_JSON: o->json = true; break;
    case OPT_QUIET: o->quiet = true; break;
    default: break;
    }
    return 0;
}

static void limit(char *b, size_t n, double v) {
    if (isfinite(v))
        snprintf(b, n, "%g", v);
    else
        snprintf(b, n, "-");
}

/* print_checks prints one line per check: LEVEL name value (limits) message */
static void print_checks(const vxs_qa_t *q, FILE *out) {
    vxs_qa_check_t c;
    for (size_t i = 0; vxs_qa_check(q, i, &c); i++) {
        char v[32], w[32], e[32];
        limit(v, sizeof v, c.value);
        limit(w, sizeof w, c.warn);
        limit(e, sizeof e, c.error);
        fprintf(out, "%-5s  %-21s %10s %-9s (warn > %s, error > %s)  %s\n",
                vxs_qa_level_name(c.level), c.name, isfinite(c.value) ? v : "n/a", c.unit, w, e,
                c.message);
    }
}

/* open_report reads OUT; prints the error and returns NULL on failure */
static vxs_qa_t *open_report(const char *cmd, const char *dir, const char *config) {
    vxs_qa_t *q = NULL;
    char err[1200] = "";
    const vxs_status_t st = vxs_qa_open(&q, dir, config, err, sizeof err);
    if (st != VXS_OK) {
        fprintf(stderr, "v2xsync %s: %s\n", cmd, err[0] ? err : vxs_strerror(st));
        return NULL;
    }
    return q;
}

int vxs_cli_report_write(const char *cmd, const char *from, const char *into, const char *shown,
                         const char *config, int *out_verdict) {
    vxs_qa_t *q = open_report(cmd, from, config);
    if (!q) return VXS_EXIT_USAGE;
    char err[1200] = "";
    const vxs_status_t st = vxs_qa_write_to(q, into, shown, err, sizeof err);
    *out_verdict = (int)vxs_qa_verdict(q);
    vxs_qa_destroy(q);
    if (st != VXS_OK) {
        fprintf(stderr, "v2xsync %s: %s\n", cmd, err[0] ? err : vxs_strerror(st));
        return VXS_EXIT_USAGE;
    }
    return VXS_EXIT_OK;
}

/* The report's two files appear as a pair: written into a staging folder that holds DIR's
 * other files as hard links, which then replaces DIR (vxs_outset). DIR is an existing sync
 * output (sync checked it against its inputs), so it is not checked against them again. */
int vxs_cli_report(const char *dir, const char *config, bool quiet) {
    static const char *const writes[] = {"report.json", "report.html"};
    static const char *const reads[] = {"run.json", "clocks.json", "links.json",
                                        "frames.jsonl", "v2x_messages.jsonl", "bundle.json"};
    const size_t n_reads = sizeof reads / sizeof reads[0];
    char err[PATH_MAX + 1200] = "";
    /* read first: a folder that is no sync output is refused before anything is created */
    const uint64_t read_fp = vxs_outset_fingerprint(dir, reads, n_reads);
    vxs_qa_t *q = open_report("report", dir, config);
    if (!q) return VXS_EXIT_USAGE;
    vxs_outset_options_t oo = {writes, 2, VXS_OUTSET_NO_BUNDLE, NULL, false};
    vxs_outset_t *set = NULL;
    vxs_status_t st = vxs_outset_begin(&set, dir, &oo, err, sizeof err);
    /* a sync replaced DIR between the reading and the lock: read what is in the set now */
    if (st == VXS_OK && vxs_outset_fingerprint(vxs_outset_dir(set), reads, n_reads) != read_fp) {
        vxs_qa_destroy(q);
        if (!(q = open_report("report", dir, config))) {
            vxs_outset_abort(set, NULL, 0);
            return VXS_EXIT_USAGE;
        }
    }
    if (st == VXS_OK) st = vxs_qa_write(q, vxs_outset_dir(set), err, sizeof err);
    if (st == VXS_OK) {
        st = vxs_outset_commit(set, err, sizeof err);
    } else {
        vxs_outset_abort(set, NULL, 0);
    }
    if (st != VXS_OK) {
        fprintf(stderr, "v2xsync report: %s\n", err[0] ? err : vxs_strerror(st));
        vxs_qa_destroy(q);
        return VXS_EXIT_USAGE;
    }
    if (!quiet)
        printf("%s: %s (%s/report.html, %s/report.json)\n", dir,
               vxs_qa_level_name(vxs_qa_verdict(q)), dir, dir);
    vxs_qa_destroy(q);
    return VXS_EXIT_OK;
}

static const vxs_cli_opt_t report_opts[] = {
    {"config", 'c', "FILE", "the checks' limits (JSON, as for `check`)", OPT_CONFIG},
    {"quiet", 'q', NULL, "print nothing on success", OPT_QUIET},
    {NULL, 0, NULL, NULL, 0}};

static int run_report(int argc, char **argv) {
    qa_opts_t o = {NULL, false, false};
    int npos = 0, ex = 0;
    if (vxs_cli_parse(&vxs_cmd_report_def, argc, argv, on_opt, &o, &npos, &ex) != 0) return ex;
    if (npos != 1) return vxs_cli_usage_error("report", "expected one OUT folder (sync's -o)");
    return vxs_cli_report(argv[0], o.config, o.quiet);
}

const vxs_cli_cmd_t vxs_cmd_report_def = {
    "report", "[options] OUT",
    "Write the QA sync report (report.html, report.json) of a sync output folder.",
    "OUT is the folder `v2xsync sync` wrote (run.json, clocks.json, links.json,\n"
    "frames.jsonl, v2x_messages.jsonl). Writes into it:\n"
    "  report.html  one self-contained page (no script, no network: charts are inline SVG):\n"
    "               the verdict of the checks, the drive, every stream's timing and damaged\n"
    "               units, every clock with its relations' residuals over time, member dt\n"
    "               histograms per stream and pair, agent-pair clock offsets, every V2X link\n"
    "               (latency CDF, delivery over time and distance, loss bursts, dropouts),\n"
    "               silences and age of information, partial frames and their reasons.\n"
    "  report.json  the same numbers (README \"report.json\"; export/report.schema.json).\n"
    "Sections a drive lacks (no V2X, no camera, no frames) are listed as absent, with why.\n"
    "`sync --report` does the same at the end of a sync.\n\n"
    "The two files appear together: they are written into a staging folder beside OUT\n"
    "(.OUT.v2xsync-PID-RANDOM) that holds OUT's other files as hard links, which then\n"
    "replaces OUT in one atomic exchange (README \"How outputs appear\"). A kill leaves OUT\n"
    "as it was and the staging folder, which the next run removes.\n\n"
    "Example:\n"
    "  v2xsync sync drive/scenario.json -o out && v2xsync report out\n\n"
    "Exit status: 0 written (whatever the verdict: `check` gates); 2 usage error, or OUT is\n"
    "not a readable sync output.",
    report_opts, run_report};

static const vxs_cli_opt_t check_opts[] = {
    {"config", 'c', "FILE", "JSON limits overriding the defaults: {\"link_loss\": {\"warn\": "
                            "0.1, \"error\": null}, ...}",
     OPT_CONFIG},
    {"json", 0, NULL, "print {\"folder\", \"verdict\", \"checks\"} as JSON", OPT_JSON},
    {"quiet", 'q', NULL, "print only the verdict line", OPT_QUIET},
    {NULL, 0, NULL, NULL, 0}};

static int run_check(int argc, char **argv) {
    qa_opts_t o = {NULL, false, false};
    int npos = 0, ex = 0;
    if (vxs_cli_parse(&vxs_cmd_check_def, argc, argv, on_opt, &o, &npos, &ex) != 0) return ex;
    if (npos != 1) return vxs_cli_usage_error("check", "expected one OUT folder (sync's -o)");
    vxs_qa_t *q = open_report("check", argv[0], o.config);
    if (!q) return VXS_EXIT_USAGE;
    const vxs_qa_level_t v = vxs_qa_verdict(q);
    if (o.json) {
        char *s = vxs_qa_checks_json(q);
        if (!s) {
            fprintf(stderr, "v2xsync check: out of memory printing the checks\n");
            vxs_qa_destroy(q);
            return VXS_EXIT_USAGE;
        }
        printf("%s\n", s);
        vxs_qa_free_string(s);
    } else {
        if (!o.quiet) print_checks(q, stdout);
        printf("%s: %s\n", argv[0], vxs_qa_level_name(v));
    }
    vxs_qa_destroy(q);
    return v == VXS_QA_ERROR ? VXS_EXIT_FINDINGS : VXS_EXIT_OK;
}

/* The defaults here are the library's (vxs_qa_check_default); a test compares the two. */
const vxs_cli_cmd_t vxs_cmd_check_def = {
    "check", "[options] OUT",
    "Check a sync output against QA limits: one OK/WARN/ERROR line per check; exit 1 on ERROR.",
    "Evaluates the QA report's checks on the folder `v2xsync sync` wrote and prints one\n"
    "line per check: LEVEL, name, value, unit, limits, what was found. A level fires when\n"
    "the value exceeds its limit (a count limit of 0 fires at 1). Checks and defaults:\n"
    "  clock_sd_ms           warn > 1     error > 5     largest 1-sigma offset uncertainty\n"
    "                                                   of a clock tied to the reference (ms)\n"
    "  clocks_unidentified   warn -       error > 0     clocks nothing ties to the reference\n"
    "  clock_jumps           warn > 0     error -       steps of clocks' readings\n"
    "  hints_rejected        warn > 0     error -       anchors/offset hints the data contradict\n"
    "  member_dt_ms          warn > 50    error > 100   largest p95 |member time - frame time|\n"
    "  partial_share         warn > 0.1   error > 0.5   share of partial frames\n"
    "  stream_gap_intervals  warn > 5     error > 50    longest LiDAR/camera gap, in median\n"
    "                                                   intervals of its stream\n"
    "  link_loss             warn > 0.25  error > 0.5   largest lost share of a V2X link\n"
    "  link_silence_s        warn > 3     error > 10    longest silence of a sender at a\n"
    "                                                   receiver (s): silent frames, dropouts,\n"
    "                                                   or a periodic link's silent end\n"
    "  latency_p95_ms        warn > 50    error > 200   largest p95 latency of a V2X link\n"
    "  impossible_messages   warn > 0     error > 10    messages received before they were sent\n"
    "  damaged_units         warn > 0     error > 100   bad units the readers skipped\n\n"
    "--config FILE: a JSON object {\"<check>\": {\"warn\": x, \"error\": y}}; null switches a\n"
    "level off; checks not named keep their defaults. A check that does not apply (no V2X:\n"
    "the link checks) is OK with value n/a.\n\n"
    "Example (a CI gate):\n"
    "  v2xsync sync drive/scenario.json -o out -q && v2xsync check out\n\n"
    "Exit status: 0 nothing is ERROR (WARN allowed); 1 a check is ERROR; 2 usage error, OUT\n"
    "unreadable or not a sync output, or a bad --config.",
    check_opts, run_check};
