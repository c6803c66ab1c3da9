/*
 * cmd_sync.c: `v2xsync sync SCENARIO -o OUT`. The job is the library's (vxs_sync.h section 5):
 * this file parses the arguments, checks the output folder, opens the sources through the
 * sensors module's opener, creates the frames.jsonl, clocks.json, links.json and
 * v2x_messages.jsonl sinks (export),
 * runs the job, draws the progress bar, prints the summary and sets the exit status.
 */
#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "vxs_export.h"
#include "vxs_sensors.h"
#include "vxs_sync.h"

enum {
    OPT_OUT = 1, OPT_FORCE, OPT_JSON, OPT_QUIET, OPT_BUNDLE, OPT_RESUME, OPT_EVERY, OPT_FROM,
    OPT_TO, OPT_AGENTS, OPT_SENSORS, OPT_PNG_LEVEL, OPT_THREADS, OPT_REPORT, OPT_ALLOW_IN_INPUT
};

static const vxs_cli_opt_t sync_opts[] = {
    {"out", 'o', "DIR", "output folder (created, or replaced as a whole at the end; required "
                        "unless the manifest gives export.out)",
     OPT_OUT},
    {"force", 'f', NULL, "replace the outputs already in DIR (a bundle of another scenario too) "
                         "and discard the bundles killed runs left",
     OPT_FORCE},
    {"allow-output-in-input", 0, NULL, "let DIR be or lie in a folder holding input recordings "
                                       "or the drive's manifest (refused by default)",
     OPT_ALLOW_IN_INPUT},
    {"json", 0, NULL, "print a JSON summary on stdout", OPT_JSON},
    {"quiet", 'q', NULL, "no progress bar on stderr", OPT_QUIET},
    {"bundle", 'b', NULL, "also write the labeled training bundle into DIR (README \"The bundle\")",
     OPT_BUNDLE},
    {"resume", 0, NULL, "continue a bundle a killed run left in DIR (same scenario and options)",
     OPT_RESUME},
    {"every", 0, "N", "bundle: export every Nth frame only", OPT_EVERY},
    {"from", 0, "S", "only frames from S seconds after the drive's first whole second", OPT_FROM},
    {"to", 0, "S", "only frames before S seconds after it", OPT_TO},
    {"agents", 0, "A,B", "bundle: only these agents (ids)", OPT_AGENTS},
    {"sensors", 0, "A/S,..", "bundle: only these LiDARs and cameras (agent/sensor)", OPT_SENSORS},
    {"png-level", 0, "L", "bundle: PNG compression, 0 (stored), 1 (fast: UP filter, Z_RLE; the "
                          "default, or the manifest's export.png_level) .. 9 (smallest)",
     OPT_PNG_LEVEL},
    {"threads", 0, "N", "bundle: encoding threads (default 2)", OPT_THREADS},
    {"report", 'r', NULL, "also write the QA report into DIR (report.html, report.json; as "
                          "`v2xsync report DIR`)",
     OPT_REPORT},
    {NULL, 0, NULL, NULL, 0}};

static int parse_uint(const char *what, const char *arg, unsigned lo, unsigned hi, unsigned *out) {
    char *end;
    errno = 0;
    const unsigned long v = strtoul(arg, &end, 10);
    if (end == arg || *end || errno || arg[0] == '-' || v < lo || v > hi)
        return vxs_cli_usage_error("sync", "%s wants a whole number in %u..%u, not '%s'", what,
                                   lo, hi, arg);
    *out = (unsigned)v;
    return 0;
}

static int parse_secs(const char *what, const char *arg, double *out) {
    char *end;
    *out = strtod(arg, &end);
    if (end == arg || *end || !isfinite(*out) || *out < 0 || *out > 1e9)
        return vxs_cli_usage_error("sync", "%s wants seconds >= 0, not '%s'", what, arg);
    return 0;
}

static int on_opt(void *user, int id, const char *arg) {
    vxs_cli_sync_opts_t *o = user;
    unsigned u;
    switch (id) {
    case OPT_OUT: o->out = arg; break;
    case OPT_FORCE: o->force = true; break;
    case OPT_JSON: o->print = VXS_CLI_PRINT_JSON; break;
    case OPT_QUIET: o->quiet = true; break;
    case OPT_BUNDLE: o->bundle = true; break;
    case OPT_RESUME: o->resume = true; break;
    case OPT_EVERY: return parse_uint("--every", arg, 1, 1000000, &o->every);
    case OPT_FROM: return parse_secs("--from", arg, &o->from_s);
    case OPT_TO: return parse_secs("--to", arg, &o->to_s);
    case OPT_AGENTS: o->agents = arg; break;
    case OPT_SENSORS: o->sensors = arg; break;
    case OPT_PNG_LEVEL:
        if (parse_uint("--png-level", arg, 0, 9, &u) != 0) return VXS_EXIT_USAGE;
        o->png_level = (int)u;
        break;
    case OPT_THREADS: return parse_uint("--threads", arg, 1, 64, &o->threads);
    case OPT_REPORT: o->report = true; break;
    case OPT_ALLOW_IN_INPUT: o->allow_in_input = true; break;
    default: break;
    }
    return 0;
}

enum { MAX_LIST = 64 };

/* split: the comma-separated list `arg` of option `what` into items (pieces of buf, which holds
 * a copy); a usage error for an empty item, more than MAX_LIST items or a list too long */
static int split(const char *what, const char *arg, char *buf, size_t buf_len, const char **items,
                 size_t *n) {
    *n = 0;
    if (strlen(arg) >= buf_len)
        return vxs_cli_usage_error("sync", "%s: the list is too long", what);
    memcpy(buf, arg, strlen(arg) + 1);
    for (char *p = buf;;) {
        char *comma = strchr(p, ',');
        if (comma) *comma = '\0';
        if (!*p) return vxs_cli_usage_error("sync", "%s: an empty name in '%s'", what, arg);
        if (*n == MAX_LIST)
            return vxs_cli_usage_error("sync", "%s: more than %d names", what, MAX_LIST);
        items[(*n)++] = p;
        if (!comma) return 0;
        p = comma + 1;
    }
}

typedef struct {
    const vxs_cli_sync_opts_t *o;
    vxs_cli_progress_t prog;
} ctx_t;

/* on_diag prints each bad unit the sources report (counted by the job). */
static void on_diag(void *user, const vxs_diag_t *d) {
    ctx_t *c = user;
    if (c->o->print == VXS_CLI_PRINT_JSON) return;
    vxs_cli_progress_end(&c->prog);
    fprintf(stderr, "v2xsync sync: %s\n", d->msg);
}

static json_t *jnum(double v) { return isfinite(v) ? json_real(v) : json_null(); }

static void print_summary(const vxs_job_t *job, const char *out_dir) {
    const vxs_run_info_t *run = vxs_job_run_info(job);
    const vxs_run_summary_t *s = vxs_job_summary(job);
    const vxs_clock_report_t *R = run->clocks;
    const vxs_manifest_t *man = run->manifest;
    printf("%s: %zu agents, %zu sources, %" PRIu64 " frames (%" PRIu64 " partial), %" PRIu64
           " V2X attachments\n",
           man->name, man->n_agents, run->n_sources, s->frames, s->partial_frames,
           s->v2x_attached);
    char ep[VXS_TIME_STRLEN];
    printf("\nClock domains (local = reference + offset + drift x (t - %s)):\n",
           vxs_time_format(ep, sizeof ep, R->epoch));
    printf("  %-34s %-10s %-11s %16s %10s %10s %6s %6s\n", "domain", "method", "pinned by",
           "offset ms", "drift ppm", "+-ms", "jumps", "rates");
    for (size_t i = 0; i < R->n_clocks; i++) {
        const vxs_clock_result_t *r = &R->clocks[i].est;
        printf("  %-34s %-10s %-11s %16.3f %10.3f %10.3f %6u %6u%s\n", R->clocks[i].name,
               vxs_clock_method_name(r->method), vxs_clock_ident_name(r->ident),
               r->model.pieces[0].offset_ns / 1e6, r->model.drift * 1e6, r->offset_sd_ns / 1e6,
               r->jumps, r->rate_changes, r->hint_rejected ? "  hint rejected" : "");
    }
    for (int c = 0; c < VXS_DELAY_CLASSES; c++)
        if (R->delay_used[c] && c == VXS_DELAY_WIRE)
            printf("  %-6s floors: %.3f ms +- %.3f (prior: no recording measures them)\n",
                   vxs_delay_class_name((vxs_delay_class_t)c), R->delay_ns[c] / 1e6,
                   R->delay_sd_ns[c] / 1e6);
        else if (R->delay_used[c])
            printf("  %-6s floors: %u measured; the others %.3f ms +- %.3f (prior)\n",
                   vxs_delay_class_name((vxs_delay_class_t)c), R->floors_measured[c],
                   R->delay_ns[c] / 1e6, R->delay_sd_ns[c] / 1e6);
    if (s->impossible)
        printf("  %" PRIu64 " messages received before they were sent (clocks.json "
               "\"impossible_messages\")\n",
               s->impossible);
    if (s->out_of_order)
        printf("  %" PRIu64 " records out of order on the reference timeline, not matched\n",
               s->out_of_order);
    if (s->damaged_units)
        printf("  %" PRIu64 " damaged units reported and skipped\n", s->damaged_units);
    if (s->v2x_out_of_range)
        printf("  %" PRIu64 " V2X messages with a field out of range, reported and kept without "
               "it (flag out_of_range)\n",
               s->v2x_out_of_range);
    if (s->rate_changes_dropped)
        printf("  %u changes of a clock's rate found but not kept (the solve with them rejected "
               "an anchor the solve without them kept)\n",
               s->rate_changes_dropped);
    if (s->n_links) {
        uint64_t sent = 0, delivered = 0, lost = 0, dup = 0, reord = 0, longest = 0;
        size_t inferred = 0;
        for (size_t i = 0; i < s->n_links; i++) {
            inferred += s->links[i].inferred;
            sent += s->links[i].sent;
            delivered += s->links[i].delivered;
            lost += s->links[i].lost;
            dup += s->links[i].duplicates;
            reord += s->links[i].reordered;
            if (s->links[i].longest_burst > longest) longest = s->links[i].longest_burst;
        }
        printf("\nV2X links: %zu (%zu by counters, %zu inferred from intervals); %" PRIu64
               " of %" PRIu64 " messages delivered (%.1f %%), %" PRIu64 " lost (longest burst %" PRIu64
               "), %" PRIu64 " duplicates, %" PRIu64 " reordered (links.json)\n",
               s->n_links, s->n_links - inferred, inferred, delivered, sent,
               sent ? 100.0 * (double)delivered / (double)sent : 0.0, lost, longest, dup, reord);
    }
    printf("\nWrote %s/clocks.json, %s/frames.jsonl, %s/v2x_messages.jsonl, %s/links.json and "
           "%s/run.json (index %.2f s, clocks %.3f s, frames %.2f s)\n",
           out_dir, out_dir, out_dir, out_dir, out_dir, s->seconds_index, s->seconds_clocks,
           s->seconds_frames);
}

static void print_json(const vxs_job_t *job, const char *out_dir, const vxs_bundle_stats_t *b) {
    const vxs_run_info_t *run = vxs_job_run_info(job);
    const vxs_run_summary_t *s = vxs_job_summary(job);
    const vxs_clock_report_t *R = run->clocks;
    json_t *sum = json_pack(
        "{s:s,s:s,s:s,s:s,s:s,s:s,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:i,s:{s:f,s:f,s:f}}",
        "scenario", run->manifest->name, "clocks", "clocks.json", "frames_file", "frames.jsonl",
        "links_file", "links.json", "messages_file", "v2x_messages.jsonl", "run_file", "run.json",
        "frames",
        (json_int_t)s->frames, "partial_frames", (json_int_t)s->partial_frames, "v2x_attached",
        (json_int_t)s->v2x_attached, "impossible_messages", (json_int_t)s->impossible,
        "out_of_order", (json_int_t)s->out_of_order, "damaged_units",
        (json_int_t)s->damaged_units, "v2x_out_of_range", (json_int_t)s->v2x_out_of_range,
        "rate_changes_dropped", (int)s->rate_changes_dropped,
        "seconds", "index", s->seconds_index, "clocks",
        s->seconds_clocks, "frames", s->seconds_frames);
    json_t *doms = json_array();
    for (size_t i = 0; i < R->n_clocks; i++) {
        const vxs_clock_result_t *r = &R->clocks[i].est;
        json_array_append_new(
            doms, json_pack("{s:s,s:s,s:o,s:o,s:o,s:i,s:i}", "name", R->clocks[i].name, "method",
                            vxs_clock_method_name(r->method), "offset_ns",
                            jnum(r->model.pieces[0].offset_ns), "drift_ppm",
                            jnum(r->model.drift * 1e6), "offset_sd_ns", jnum(r->offset_sd_ns),
                            "jumps", (int)r->jumps, "rate_changes", (int)r->rate_changes));
    }
    json_object_set_new(sum, "domains", doms);
    json_object_set_new(sum, "out", json_string(out_dir));
    if (b)
        json_object_set_new(
            sum, "bundle",
            json_pack("{s:s,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:i,s:{s:f,s:f,s:f,s:f,s:f,s:f,s:f}}",
                      "file", "bundle.json", "frames", (json_int_t)b->frames, "frames_reused",
                      (json_int_t)b->frames_reused, "images", (json_int_t)b->images, "clouds",
                      (json_int_t)b->clouds, "points", (json_int_t)b->points, "bytes",
                      (json_int_t)b->bytes, "raw_bytes", (json_int_t)b->raw_bytes, "threads",
                      (int)b->threads, "seconds", "decode", b->s_decode, "points", b->s_points,
                      "png", b->s_png, "lz4", b->s_lz4, "labels", b->s_labels, "write",
                      b->s_write, "verify", b->s_verify));
    json_dumpf(sum, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    putchar('\n');
    json_decref(sum);
}

/* bundle_command: the command line standing for the bundle's settings (bundle.json "command";
 * what decides the content only, the manifest by its absolute path, so a resumed run records the
 * same) */
static void bundle_command(char *buf, size_t n, const char *scenario, const vxs_cli_sync_opts_t *o,
                           int png_level, const char *const *agents, size_t n_agents,
                           const char *const *sensors, size_t n_sensors) {
    char abs_path[PATH_MAX];
    size_t k = (size_t)snprintf(buf, n, "v2xsync sync %s --bundle --png-level %d",
                                realpath(scenario, abs_path) ? abs_path : scenario, png_level);
    if (k < n && o->every > 1) k += (size_t)snprintf(buf + k, n - k, " --every %u", o->every);
    if (k < n && isfinite(o->from_s))
        k += (size_t)snprintf(buf + k, n - k, " --from %.17g", o->from_s);
    if (k < n && isfinite(o->to_s)) k += (size_t)snprintf(buf + k, n - k, " --to %.17g", o->to_s);
    for (size_t i = 0; i < n_agents && k < n; i++)
        k += (size_t)snprintf(buf + k, n - k, "%s%s", i ? "," : " --agents ", agents[i]);
    for (size_t i = 0; i < n_sensors && k < n; i++)
        k += (size_t)snprintf(buf + k, n - k, "%s%s", i ? "," : " --sensors ", sensors[i]);
}

static void print_bundle(const vxs_bundle_stats_t *b, const char *out_dir) {
    printf("\nBundle: %s/bundle.json: %" PRIu64 " frames (%" PRIu64 " kept from the killed run), %" PRIu64
           " images, %" PRIu64 " point clouds (%" PRIu64 " points), %.1f MB written (%.1f MB raw)\n",
           out_dir, b->frames, b->frames_reused, b->images, b->clouds, b->points,
           (double)b->bytes / 1e6, (double)b->raw_bytes / 1e6);
    printf("  seconds per stage (summed over threads): decode %.2f, points %.2f, png %.2f, lz4 "
           "%.2f, labels %.2f, write %.2f, verify %.2f; %u encoding threads\n",
           b->s_decode, b->s_points, b->s_png, b->s_lz4, b->s_labels, b->s_write, b->s_verify,
           b->threads);
}

/* The top-level names a sync writes into its output set, or drops: the QA report of the outputs
 * it replaces would describe files that are gone */
static const char *const SYNC_WRITES[] = {"frames.jsonl", "clocks.json", "links.json",
                                          "v2x_messages.jsonl", "run.json", "report.json",
                                          "report.html"};

/* report_stale: whether DIR has a QA report a run without --report drops */
static bool report_stale(const char *out_dir) {
    char rp[PATH_MAX + 16];
    for (int k = 0; k < 2; k++) {
        snprintf(rp, sizeof rp, "%s/report.%s", out_dir, k ? "html" : "json");
        if (access(rp, F_OK) == 0) return true;
    }
    return false;
}

/* Order: the options, -o, the manifest, DIR's own rules, every source opened (the job), DIR
 * against the inputs, and only then anything created: the output set (vxs_outset), whose staging
 * folder receives every file; it replaces DIR at the end, after the QA report. */
int vxs_cli_sync(const char *scenario, const vxs_cli_sync_opts_t *o, vxs_manifest_t **out_man,
                 vxs_job_t **out_job) {
    ctx_t c = {o, {0}};
    const vxs_diag_sink_t diag = {on_diag, &c};
    char err[VXS_MANIFEST_ERR_LEN + PATH_MAX + 1024] = "", path[PATH_MAX + 32];
    vxs_manifest_t *man = NULL;
    vxs_job_t *job = NULL;
    vxs_outset_t *set = NULL;
    enum { N_SINKS = 6 };
    vxs_frame_sink_t *sinks[N_SINKS] = {NULL, NULL, NULL, NULL, NULL, NULL};
    vxs_bundle_stats_t bstats;
    memset(&bstats, 0, sizeof bstats);
    char lists[2][4096], command[PATH_MAX + 9000], identity[17] = "";
    const char *agents[MAX_LIST], *sensors[MAX_LIST];
    size_t n_agents = 0, n_sensors = 0;
    int rc = VXS_EXIT_USAGE, verdict = -1;
    *out_man = NULL;
    *out_job = NULL;
    if (!o->bundle && (o->resume || o->every || o->agents || o->sensors || o->png_level >= 0 ||
                       o->threads))
        return vxs_cli_usage_error("sync", "--resume, --every, --agents, --sensors, --png-level "
                                           "and --threads are options of --bundle");
    if (isfinite(o->from_s) && isfinite(o->to_s) && o->to_s <= o->from_s)
        return vxs_cli_usage_error("sync", "--to must be after --from");
    if ((o->agents &&
         split("--agents", o->agents, lists[0], sizeof lists[0], agents, &n_agents) != 0) ||
        (o->sensors &&
         split("--sensors", o->sensors, lists[1], sizeof lists[1], sensors, &n_sensors) != 0))
        return VXS_EXIT_USAGE;
    for (size_t i = 0; i < n_sensors && n_agents; i++) { /* a sensor of an agent not exported */
        bool found = false;
        const size_t len = strcspn(sensors[i], "/");
        for (size_t a = 0; a < n_agents && !found; a++)
            found = strlen(agents[a]) == len && strncmp(agents[a], sensors[i], len) == 0;
        if (!found)
            return vxs_cli_usage_error("sync", "--sensors %s: its agent is not in --agents",
                                       sensors[i]);
    }
    /* -o naming a file fails before any input is read */
    if (o->out && vxs_outset_check_target(o->out, err, sizeof err) != VXS_OK) {
        fprintf(stderr, "v2xsync sync: %s\n", err);
        return VXS_EXIT_USAGE;
    }
    if (vxs_manifest_load(&man, scenario, err, sizeof err) != VXS_OK) {
        fprintf(stderr, "v2xsync sync: %s\n", err);
        return VXS_EXIT_USAGE;
    }
    const char *out_dir = o->out ? o->out : man->export_opts.out;
    if (!out_dir) {
        vxs_manifest_free(man);
        return vxs_cli_usage_error("sync", "no output folder: give -o DIR");
    }
    if (!o->out && vxs_outset_check_target(out_dir, err, sizeof err) != VXS_OK) {
        fprintf(stderr, "v2xsync sync: %s\n", err);
        goto done;
    }
    snprintf(path, sizeof path, "%s/frames.jsonl", out_dir);
    if (!o->bundle && vxs_bundle_in(out_dir)) {
        fprintf(stderr,
                "v2xsync sync: %s holds a bundle; without --bundle its bundle.json would no longer "
                "match (sync --bundle --force replaces it, or choose another -o)\n",
                out_dir);
        goto done;
    }
    if (!o->force && !o->bundle && access(path, F_OK) == 0) { /* a bundle's rules check DIR */
        fprintf(stderr, "v2xsync sync: %s already exists (--force replaces it)\n", path);
        goto done;
    }
    vxs_bundle_options_t bo;
    memset(&bo, 0, sizeof bo);
    if (o->bundle) {
        bo.manifest = man;
        bo.scenario_path = scenario;
        bo.png_level = o->png_level >= 0 ? o->png_level : man->export_opts.png_level;
        bundle_command(command, sizeof command, scenario, o, bo.png_level, agents, n_agents,
                       sensors, n_sensors);
        bo.command = command;
        bo.every = o->every;
        bo.agents = agents;
        bo.n_agents = n_agents;
        bo.sensors = sensors;
        bo.n_sensors = n_sensors;
        bo.from_s = o->from_s;
        bo.to_s = o->to_s;
        bo.resume = o->resume;
        bo.force = o->force;
        bo.threads = o->threads;
        bo.stats = &bstats;
        if (vxs_bundle_check(out_dir, &bo, err, sizeof err) != VXS_OK ||
            vxs_bundle_identity(&bo, identity, err, sizeof err) != VXS_OK) {
            fprintf(stderr, "v2xsync sync: %s\n", err);
            goto done;
        }
    }
    const bool stale = !o->report && report_stale(out_dir);
    vxs_job_options_t jo;
    vxs_job_options_init(&jo);
    jo.open_source = vxs_source_open_manifest;
    jo.diag = &diag;
    jo.progress = (vxs_progress_t){vxs_cli_progress_fn, &c.prog};
    if (vxs_job_create(&job, man, &jo, err, sizeof err) != VXS_OK) { /* opens every source */
        fprintf(stderr, "v2xsync sync: %s\n", err);
        goto done;
    }
    /* after the sources: a source that cannot be opened is the first thing to say */
    if (!o->allow_in_input &&
        vxs_outset_check_manifest(out_dir, man, scenario, err, sizeof err) != VXS_OK) {
        fprintf(stderr, "v2xsync sync: %s (choose another -o, or --allow-output-in-input)\n",
                err);
        goto done;
    }
    const vxs_outset_options_t so = {
        SYNC_WRITES, sizeof SYNC_WRITES / sizeof SYNC_WRITES[0],
        !o->bundle ? VXS_OUTSET_NO_BUNDLE
                   : o->resume ? VXS_OUTSET_BUNDLE_RESUME : VXS_OUTSET_BUNDLE,
        o->bundle ? identity : NULL, o->force};
    if (vxs_outset_begin(&set, out_dir, &so, err, sizeof err) != VXS_OK) {
        fprintf(stderr, "v2xsync sync: %s\n", err);
        goto done;
    }
    const char *stage = vxs_outset_dir(set);
    if (vxs_outset_resumed(set) && o->print == VXS_CLI_PRINT_TEXT)
        printf("Continuing the bundle a killed run left in %s\n", vxs_outset_resumed(set));
    /* the bundle sink first: it clears what a killed run left in the staging folder */
    size_t n_sinks = o->bundle ? 6 : 5;
    if (o->bundle && vxs_bundle_sink_create(&sinks[5], stage, &bo, err, sizeof err) != VXS_OK) {
        fprintf(stderr, "v2xsync sync: %s\n", err);
        goto done;
    }
    /* frames.jsonl is renamed into place before clocks.json: the sinks finish in this order;
     * the bundle last, as it checksums the others (all in the staging folder) */
    static const char *const files[] = {"frames.jsonl", "clocks.json", "links.json",
                                        "v2x_messages.jsonl", "run.json"};
    vxs_status_t (*const create[])(vxs_frame_sink_t **, const char *, char *, size_t) = {
        vxs_frames_jsonl_sink_create, vxs_clocks_json_sink_create, vxs_links_json_sink_create,
        vxs_v2x_messages_jsonl_sink_create, vxs_run_json_sink_create};
    for (size_t i = 0; i < 5; i++) {
        snprintf(path, sizeof path, "%s/%s", stage, files[i]);
        if (create[i](&sinks[i], path, err, sizeof err) != VXS_OK) {
            fprintf(stderr, "v2xsync sync: %s\n", err);
            goto done;
        }
    }
    vxs_cli_progress_begin(&c.prog, "sync: reading", o->quiet || o->print != VXS_CLI_PRINT_TEXT);
    vxs_status_t st = vxs_job_index(job);
    if (st == VXS_OK) st = vxs_job_solve(job);
    if (st == VXS_OK) {
        const vxs_time_t epoch = vxs_job_clocks(job)->epoch;
        const vxs_time_t from =
            isfinite(o->from_s) ? epoch + (int64_t)llround(o->from_s * 1e9) : VXS_TIME_NONE;
        const vxs_time_t to =
            isfinite(o->to_s) ? epoch + (int64_t)llround(o->to_s * 1e9) : VXS_TIME_NONE;
        st = vxs_job_frames(job, from, to, sinks, n_sinks);
    }
    vxs_cli_progress_end(&c.prog);
    if (st != VXS_OK) {
        fprintf(stderr, "v2xsync sync: %s\n",
                vxs_job_errmsg(job)[0] ? vxs_job_errmsg(job) : vxs_strerror(st));
        goto done;
    }
    /* the report reads the finished outputs, as `v2xsync report` would, and joins the set */
    if (o->report &&
        vxs_cli_report_write("sync", stage, stage, out_dir, NULL, &verdict) != VXS_EXIT_OK)
        goto done;
    st = vxs_outset_commit(set, err, sizeof err);
    set = NULL;
    if (st != VXS_OK) {
        fprintf(stderr, "v2xsync sync: %s\n", err);
        goto done;
    }
    if (vxs_job_run_info(job)->n_streams == 0 && o->print != VXS_CLI_PRINT_JSON)
        fprintf(stderr, "v2xsync sync: %s: no LiDAR or camera source to cut frames on; "
                        "frames.jsonl is empty\n", man->name);
    if (o->print == VXS_CLI_PRINT_JSON) {
        print_json(job, out_dir, o->bundle ? &bstats : NULL);
    } else if (o->print == VXS_CLI_PRINT_TEXT) {
        print_summary(job, out_dir);
        if (o->bundle) print_bundle(&bstats, out_dir);
        if (stale)
            printf("Removed the QA report of the previous outputs (v2xsync report %s writes "
                   "one)\n", out_dir);
    }
    if (o->report && o->print == VXS_CLI_PRINT_TEXT)
        printf("%s: %s (%s/report.html, %s/report.json)\n", out_dir,
               vxs_qa_level_name((vxs_qa_level_t)verdict), out_dir, out_dir);
    rc = vxs_job_summary(job)->damaged_units || vxs_job_summary(job)->v2x_out_of_range
             ? VXS_EXIT_FINDINGS
             : VXS_EXIT_OK;
done:
    vxs_cli_progress_end(&c.prog);
    for (size_t i = 0; i < N_SINKS; i++) vxs_frame_sink_destroy(sinks[i]);
    if (set) {
        char kept[PATH_MAX + 64];
        vxs_outset_abort(set, kept, sizeof kept);
        if (kept[0])
            fprintf(stderr, "v2xsync sync: the bundle so far is kept in %s (sync --bundle "
                            "--resume continues it)\n", kept);
    }
    if (rc <= VXS_EXIT_FINDINGS) {
        *out_man = man;
        *out_job = job;
    } else {
        vxs_job_destroy(job);
        vxs_manifest_free(man);
    }
    return rc;
}

static int run(int argc, char **argv) {
    vxs_cli_sync_opts_t o = VXS_CLI_SYNC_OPTS_INIT;
    int npos = 0, ex = 0;
    if (vxs_cli_parse(&vxs_cmd_sync_def, argc, argv, on_opt, &o, &npos, &ex) != 0) return ex;
    if (npos != 1) return vxs_cli_usage_error("sync", "expected one SCENARIO file");
    vxs_manifest_t *man;
    vxs_job_t *job;
    const int rc = vxs_cli_sync(argv[0], &o, &man, &job);
    vxs_job_destroy(job);
    vxs_manifest_free(man);
    return rc;
}

const vxs_cli_cmd_t vxs_cmd_sync_def = {
    "sync",
    "[options] SCENARIO",
    "put every recording of a scenario on one timeline: clocks, frames, messages, links",
    "Reads every source of the scenario manifest (README \"The scenario manifest\"; draft one\n"
    "with 'v2xsync init DIR') twice. The first pass samples each LiDAR packet's device time\n"
    "against its capture time and each V2X message's generation time against its capture time\n"
    "(messages received, and the agent's own messages as it logged them). Every clock domain\n"
    "(each agent's logger, each LiDAR's device clock, each V2X sender's clock) is then\n"
    "estimated against the reference timeline: offset, drift, jumps and changes of rate (NTP\n"
    "slewing), with their uncertainty\n"
    "(robust lower-envelope fits, then one weighted least-squares solve; GPS-locked LiDARs and\n"
    "GNSS-timed V2X generation times anchor true time; hints are used and checked).\n"
    "The second pass cuts frames: one per record of the reference sensor (or at a fixed rate),\n"
    "with the member of every other LiDAR and camera chosen by the manifest's policy (nearest\n"
    "within tolerance by default: half the sensor's period), each with its time in its own\n"
    "clock and on the reference timeline and its dt, and the V2X messages each agent received\n"
    "in the window before the frame. A frame missing a member, or in which a V2X link is in a\n"
    "dropout (silent for longer than 10 of its sender's intervals), is kept and marked\n"
    "partial with the reasons.\n\n"
    "Output: DIR/clocks.json, DIR/frames.jsonl (with each message's sender predicted to the\n"
    "frame time, in ENU and in the receiver's body frame), DIR/v2x_messages.jsonl (every\n"
    "received message once: times, latency, flags, what it reports, the sender's state) and\n"
    "DIR/links.json (what each receiver got of each sender, counted by msgCnt, DENM sequence\n"
    "numbers or, for CAM/VAM/CPM, inferred from generation times; and what the sender's own\n"
    "log says it sent: delivered, lost, bursts, dropouts, duplicates, reordered, latency, by\n"
    "distance and over time; formats in README). Damaged units in the inputs are reported on stderr with file and position,\n"
    "counted, and skipped; a V2X value out of its standard's range is reported and counted,\n"
    "and the message kept without it.\n\n"
    "With --bundle, DIR also gets the labeled training bundle (README \"The bundle\"):\n"
    "frames/F.json per frame (members, files, checksums, transforms, poses), labels/F.json\n"
    "(ASAM OpenLABEL 1.0.0: every road user known from V2X as a cuboid in each receiver's\n"
    "frame, checked against the receiver's LiDAR: seen, not_seen, out_of_range),\n"
    "sensors/AGENT/SENSOR/F.png (camera frames) and F.pts.lz4 (LiDAR points, 32-byte records),\n"
    "files.xxh64 (xxhsum -c) and, last, bundle.json. Only exported frames are decoded; every\n"
    "file is written atomically; a killed run continues with --resume (from the staging folder\n"
    "it left, else from DIR's bundle) and ends identical to an uninterrupted one; a folder\n"
    "holding another scenario's bundle is refused unless --force.\n\n"
    "The outputs appear together or not at all: the run writes them into a staging folder\n"
    "beside DIR (.DIR.v2xsync-PID-RANDOM; DIR's other files carried over as hard links) and\n"
    "at the end renames it to DIR, or exchanges it with an existing DIR in one atomic step\n"
    "(renameat2 RENAME_EXCHANGE) and removes the old set. A run killed at any moment leaves\n"
    "DIR as it was (old outputs or none) and its staging folder, which the next run on DIR\n"
    "removes (a lock file beside DIR, .DIR.v2xsync-lock, keeps two runs off one DIR); a\n"
    "bundle's is kept for --resume. -o naming a file is refused before anything is read;\n"
    "nothing is created before the manifest and every source are checked. DIR may not be,\n"
    "or lie under, a folder holding input recordings or the manifest (after resolving '..'\n"
    "and symbolic links), unless --allow-output-in-input; it may hold files of yours, but no\n"
    "folders other than a bundle's, as it is replaced as a whole.\n\n"
    "Example:\n  v2xsync synth --out drive --duration 60\n"
    "  v2xsync sync drive/scenario.json -o drive-synced\n"
    "  v2xsync sync drive/scenario.json -o drive-bundle --bundle --every 2 --sensors ego/camera\n\n"
    "Exit status: 0 ok, 1 damaged units or out-of-range values were found (everything else\n"
    "was processed), 2 usage or input error (bad manifest, a source that cannot be opened, no\n"
    "output folder, -o a file or in an input folder, another run on DIR, a bundle folder\n"
    "refused; nothing of the run appears in DIR).\n",
    sync_opts,
    run};
