/*
 * qa.c: the QA report and its checks (README "v2xsync report", "v2xsync check").
 *
 * The report is computed from what `v2xsync sync` wrote into its folder, never from the
 * recordings: run.json (sources, their timing and damage), clocks.json (domains, relations and
 * their envelopes), links.json (delivery, loss, dropouts), frames.jsonl (members' dt, silent
 * links, age of information, partial frames) and v2x_messages.jsonl (latency per link). The
 * JSON lines files are read one line at a time into histograms of fixed size, so memory does
 * not grow with the drive's length. The document built here is report.json's content exactly
 * (export/report.schema.json); the HTML page (qa_html.c) is drawn from it, and the checks are
 * evaluated on it, so the three never disagree.
 */
#include "export_int.h"

#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* ==== small helpers ======================================================================= */

static double num(const json_t *o, const char *key) {
    const json_t *v = json_object_get(o, key);
    return json_is_number(v) ? json_number_value(v) : NAN;
}

static int64_t inum(const json_t *o, const char *key, int64_t dflt) {
    const json_t *v = json_object_get(o, key);
    if (json_is_integer(v)) return (int64_t)json_integer_value(v);
    if (json_is_real(v)) return (int64_t)llround(json_real_value(v));
    return dflt;
}

static const char *str(const json_t *o, const char *key) {
    const json_t *v = json_object_get(o, key);
    return json_is_string(v) ? json_string_value(v) : NULL;
}

static json_t *jnum(double v) { return isfinite(v) ? json_real(v) : json_null(); }

/* jr rounds to `unit` (1e-6 ms: a nanosecond); values too large to round are kept as they are */
static json_t *jr(double v, double unit) {
    if (!isfinite(v)) return json_null();
    if (fabs(v / unit) > 1e15) return json_real(v);
    return vxsi_json_round(v, unit);
}

/* g_bad records that a JSON value could not be made (out of memory): the report is then
 * refused rather than written with a hole in it */
static _Thread_local bool g_bad;

static void push(json_t *arr, json_t *o) {
    if (!o || json_array_append_new(arr, o) != 0) g_bad = true;
}

static void put(json_t *obj, const char *key, json_t *v) {
    if (!v || json_object_set_new(obj, key, v) != 0) g_bad = true;
}

/* utf8_trim drops a UTF-8 sequence that a cut left incomplete at the end of s */
static void utf8_trim(char *s) {
    size_t n = strlen(s), k = n;
    while (k > 0 && ((unsigned char)s[k - 1] & 0xC0) == 0x80) k--; /* continuation bytes */
    if (k == 0) return;
    const unsigned char lead = (unsigned char)s[k - 1];
    const size_t want = lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : lead >= 0xC0 ? 2 : 1;
    if (lead >= 0x80 && n - (k - 1) < want) s[k - 1] = '\0';
}

static json_t *jstr_or_null(const char *s) { return vxsi_json_text(s); }

/* ==== a log histogram of positive values: quantiles to 1 % ================================ */

#define LH_MIN 1e-3 /* ms: values below (and <= 0) land in bin 0 */
#define LH_STEP 1.01
#define LH_BINS 2800 /* up to 1e-3 * 1.01^2799 ≈ 1.2e9 ms (two weeks) */

typedef struct {
    uint32_t bins[LH_BINS];
    uint64_t n;
    double min, max;
} lhist_t;

static void lh_add(lhist_t *h, double v) {
    if (!isfinite(v)) return;
    size_t k = 0;
    if (v > LH_MIN) {
        const double b = floor(log(v / LH_MIN) / log(LH_STEP)) + 1;
        k = b >= LH_BINS - 1 ? LH_BINS - 1 : (size_t)b;
    }
    h->bins[k]++;
    if (h->n == 0 || v < h->min) h->min = v;
    if (h->n == 0 || v > h->max) h->max = v;
    h->n++;
}

/* lh_quantile: the q-quantile, the geometric middle of its bin, clamped to the exact extremes */
static double lh_quantile(const lhist_t *h, double q) {
    if (h->n == 0) return NAN;
    if (q <= 0) return h->min;
    if (q >= 1) return h->max;
    const double target = q * (double)h->n;
    uint64_t cum = 0;
    for (size_t k = 0; k < LH_BINS; k++) {
        cum += h->bins[k];
        if ((double)cum >= target) {
            if (k == LH_BINS - 1) return h->max; /* the open top bin */
            double v = k == 0 ? h->min : LH_MIN * pow(LH_STEP, (double)k - 0.5);
            if (v < h->min) v = h->min;
            if (v > h->max) v = h->max;
            return v;
        }
    }
    return h->max;
}

static json_t *lh_quant_json(const lhist_t *h) {
    return json_pack("{s:I,s:o,s:o,s:o,s:o,s:o}", "n", (json_int_t)h->n, "min",
                     jr(h->n ? h->min : NAN, 1e-6), "p50", jr(lh_quantile(h, 0.5), 1e-6), "p95",
                     jr(lh_quantile(h, 0.95), 1e-6), "p99", jr(lh_quantile(h, 0.99), 1e-6),
                     "max", jr(h->n ? h->max : NAN, 1e-6));
}

/* ==== a linear histogram for the member dt charts ========================================= */

#define DT_BINS 60

typedef struct {
    double from, bin;
    uint64_t counts[DT_BINS];
    uint64_t below, above;
    lhist_t abs; /* |value| for the quantiles */
} dhist_t;

static void dh_init(dhist_t *h, double half_range) {
    memset(h, 0, sizeof *h);
    if (!(half_range > 0) || !isfinite(half_range) || half_range > 1e9) half_range = 1;
    h->from = -half_range;
    h->bin = 2 * half_range / DT_BINS;
}

static void dh_add(dhist_t *h, double v) {
    const double k = floor((v - h->from) / h->bin);
    if (!(k >= 0))
        h->below++; /* NaN too */
    else if (!(k < DT_BINS))
        h->above++;
    else
        h->counts[(size_t)k]++;
    lh_add(&h->abs, fabs(v));
}

static json_t *dh_json(const dhist_t *h) {
    json_t *c = json_array();
    for (size_t k = 0; k < DT_BINS; k++) push(c, json_integer((json_int_t)h->counts[k]));
    return json_pack("{s:o,s:o,s:o,s:I,s:I}", "from", jr(h->from, 1e-6), "bin", jr(h->bin, 1e-9),
                     "counts", c, "below", (json_int_t)h->below, "above", (json_int_t)h->above);
}

/* ==== the checks ========================================================================== */

typedef struct {
    const char *name, *unit, *what;
    double warn, error; /* the defaults; NaN: no such level */
} check_def_t;

/* The checks, in report order. A check is at a level when its value exceeds that level's
 * limit (strictly: a count limit of 0 fires at 1). README "v2xsync check" documents them. */
static const check_def_t CHECKS[] = {
    {"clock_sd_ms", "ms", "largest 1-sigma offset uncertainty of a clock tied to the reference",
     1.0, 5.0},
    {"clocks_unidentified", "clocks", "clock domains nothing ties to the reference", NAN, 0},
    {"clock_jumps", "steps", "steps of clocks' readings (each is modelled, but a logger that "
                             "steps is one to look at)",
     0, NAN},
    {"hints_rejected", "hints", "anchors or offset hints the data contradict", 0, NAN},
    {"member_dt_ms", "ms", "largest 95th percentile of |member time - frame time| of a stream",
     50.0, 100.0},
    {"partial_share", "share", "share of frames with a missing member or a silent link", 0.10,
     0.50},
    {"stream_gap_intervals", "intervals",
     "longest gap in a LiDAR or camera stream, in its median intervals", 5.0, 50.0},
    {"link_loss", "share", "largest share of a V2X link's counted messages that were lost", 0.25,
     0.50},
    {"link_silence_s", "s",
     "longest silence of a V2X sender at a receiver: silent frames, dropouts, or a periodic "
     "link's silent end (a dead link)",
     3.0, 10.0},
    {"latency_p95_ms", "ms", "largest 95th percentile latency of a V2X link", 50.0, 200.0},
    {"impossible_messages", "messages", "messages received before they were sent", 0, 10},
    {"damaged_units", "units", "bad units the readers skipped (packets, frames, records)", 0,
     100},
};
#define N_CHECKS (sizeof CHECKS / sizeof CHECKS[0])

struct vxs_qa {
    json_t *doc;
    char *dir;
    double warn[N_CHECKS], error[N_CHECKS];
    char *config;
};

const char *vxs_qa_level_name(vxs_qa_level_t l) {
    switch (l) {
    case VXS_QA_OK: return "OK";
    case VXS_QA_WARN: return "WARN";
    case VXS_QA_ERROR: return "ERROR";
    }
    return "?";
}

size_t vxs_qa_check_count(void) { return N_CHECKS; }

bool vxs_qa_check_default(size_t i, vxs_qa_check_t *out) {
    if (i >= N_CHECKS) return false;
    memset(out, 0, sizeof *out);
    out->name = CHECKS[i].name;
    out->unit = CHECKS[i].unit;
    out->message = CHECKS[i].what;
    out->warn = CHECKS[i].warn;
    out->error = CHECKS[i].error;
    out->value = NAN;
    out->level = VXS_QA_OK;
    return true;
}

static size_t check_index(const char *name) {
    for (size_t i = 0; i < N_CHECKS; i++)
        if (!strcmp(CHECKS[i].name, name)) return i;
    return SIZE_MAX;
}

/* load_config applies the thresholds file: {"<check>": {"warn": x|null, "error": y|null}} */
static vxs_status_t load_config(vxs_qa_t *q, const char *path, char *err, size_t err_len) {
    json_error_t je;
    json_t *c = json_load_file(path, JSON_REJECT_DUPLICATES, &je);
    if (!c) {
        snprintf(err, err_len, "%s: line %d column %d: %s", path, je.line, je.column, je.text);
        return VXS_E_ARG;
    }
    vxs_status_t st = VXS_OK;
    if (!json_is_object(c)) {
        snprintf(err, err_len, "%s: expected an object of checks {\"clock_sd_ms\": {\"warn\": 1, "
                               "\"error\": 5}, ...}", path);
        st = VXS_E_ARG;
    }
    const char *key;
    json_t *v;
    json_object_foreach(c, key, v) {
        if (st != VXS_OK) break;
        const size_t i = check_index(key);
        if (i == SIZE_MAX) {
            char known[600] = "";
            for (size_t k = 0; k < N_CHECKS; k++)
                snprintf(known + strlen(known), sizeof known - strlen(known), "%s%s",
                         k ? ", " : "", CHECKS[k].name);
            snprintf(err, err_len, "%s: unknown check \"%s\" (known: %s)", path, key, known);
            st = VXS_E_ARG;
            break;
        }
        if (!json_is_object(v)) {
            snprintf(err, err_len, "%s: %s: expected {\"warn\": number|null, \"error\": "
                                   "number|null}", path, key);
            st = VXS_E_ARG;
            break;
        }
        const char *lk;
        json_t *lv;
        json_object_foreach(v, lk, lv) {
            double *slot = !strcmp(lk, "warn") ? &q->warn[i] : !strcmp(lk, "error") ? &q->error[i]
                                                                                  : NULL;
            if (!slot || !(json_is_number(lv) || json_is_null(lv))) {
                snprintf(err, err_len, "%s: %s.%s: expected \"warn\" or \"error\" with a number "
                                       "or null", path, key, lk);
                st = VXS_E_ARG;
                break;
            }
            *slot = json_is_null(lv) ? NAN : json_number_value(lv);
        }
    }
    json_decref(c);
    return st;
}

/* ==== reading sync's outputs ============================================================== */

static json_t *load_doc(const char *dir, const char *name, bool required, vxs_status_t *st,
                        char *err, size_t err_len) {
    char path[4200];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    struct stat sb;
    if (stat(path, &sb) != 0) {
        if (required) {
            snprintf(err, err_len, "%s: missing (%s): not the output folder of `v2xsync sync` "
                                   "(this version writes run.json, clocks.json, links.json and "
                                   "frames.jsonl; rerun sync)", path, strerror(errno));
            *st = VXS_E_IO;
        }
        return NULL;
    }
    json_error_t je;
    json_t *d = json_load_file(path, 0, &je);
    if (!d || !json_is_object(d)) {
        snprintf(err, err_len, "%s: line %d column %d (byte %d): %s", path, je.line, je.column,
                 je.position, d ? "not a JSON object" : je.text);
        json_decref(d);
        *st = VXS_E_MALFORMED;
        return NULL;
    }
    return d;
}

/* each_line calls fn on every line of dir/name parsed as JSON; a line that does not parse is an
 * error naming the file and line. A missing file is VXS_E_NOTFOUND (the caller decides). */
typedef vxs_status_t (*line_fn)(void *user, const json_t *line);

static vxs_status_t each_line(const char *dir, const char *name, line_fn fn, void *user,
                              char *err, size_t err_len) {
    char path[4200];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(err, err_len, "%s: %s", path, strerror(errno));
        return errno == ENOENT ? VXS_E_NOTFOUND : VXS_E_IO;
    }
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    uint64_t no = 0, off = 0;
    vxs_status_t st = VXS_OK;
    while (st == VXS_OK && (n = getline(&line, &cap, f)) > 0) {
        no++;
        json_error_t je;
        json_t *o = json_loadb(line, (size_t)n, 0, &je);
        if (!o || !json_is_object(o)) {
            snprintf(err, err_len, "%s: line %" PRIu64 " (byte offset %" PRIu64 "): %s", path,
                     no, off, o ? "not a JSON object" : je.text);
            st = VXS_E_MALFORMED;
        } else {
            st = fn(user, o);
            if (st != VXS_OK)
                snprintf(err, err_len, "%s: line %" PRIu64 " (byte offset %" PRIu64 "): %s",
                         path, no, off, vxs_strerror(st));
        }
        json_decref(o);
        off += (uint64_t)n;
    }
    if (st == VXS_OK && ferror(f)) {
        snprintf(err, err_len, "%s: read error after line %" PRIu64, path, no);
        st = VXS_E_IO;
    }
    free(line);
    fclose(f);
    return st;
}

/* ==== the frames pass ===================================================================== */

#define TL_BINS 200    /* timeline bins at most */
#define MAX_STREAMS 64 /* members per frame the report follows */
#define MAX_PAIRS 256  /* receiver-sender pairs */
#define MAX_REASONS 128
#define SILENCES_LISTED 32

typedef struct {
    char *name;
    double tol_ms;
    bool reference;
    uint64_t members, missing;
    dhist_t dt;
} fstream_t;

typedef struct {
    char *receiver, *sender;
    uint64_t frames, silent;
    bool in_silence;
    int64_t silence_from, silence_last;
    uint64_t silence_frames;
    double longest_s;
    json_t *silences; /* the first SILENCES_LISTED */
    uint64_t n_silences;
    lhist_t aoi;
} vpair_t;

typedef struct {
    char *reason;
    char *example;
    uint64_t frames, first_frame;
    int64_t first_t;
    uint32_t bins[TL_BINS];
} reason_t;

typedef struct {
    int64_t epoch;
    uint64_t expected; /* frames run.json announced: sizes the timeline's bins */
    uint64_t bin_frames;
    uint64_t frames, partial;
    int64_t t_first, t_last;
    int64_t bin_start[TL_BINS];
    uint32_t bin_frames_n[TL_BINS], bin_partial[TL_BINS];
    fstream_t st[MAX_STREAMS];
    size_t n_st;
    dhist_t *pair; /* n_st * (n_st - 1) / 2, i < j */
    uint64_t *pair_n;
    vpair_t *vp; /* grown as pairs appear, MAX_PAIRS at most */
    size_t n_vp, cap_vp;
    bool vp_full;
    reason_t *rs;
    size_t n_rs;
    bool rs_full;
} fpass_t;

/* grow returns `arr` (cap elements of `elem` bytes, n used) with room for one more, doubling;
 * NULL when out of memory (arr left as it was) */
static void *grow(void *arr, size_t *cap, size_t n, size_t elem) {
    if (n < *cap) return arr;
    const size_t nc = *cap ? 2 * *cap : 8;
    void *na = vxs_realloc(arr, nc * elem);
    if (na) *cap = nc;
    return na;
}

static size_t pair_index(size_t n, size_t i, size_t j) { return i * n - i * (i + 1) / 2 + (j - i - 1); }

static vpair_t *vpair(fpass_t *p, const char *rcv, const char *snd) {
    for (size_t i = 0; i < p->n_vp; i++)
        if (!strcmp(p->vp[i].receiver, rcv) && !strcmp(p->vp[i].sender, snd)) return &p->vp[i];
    vpair_t *vp = p->n_vp < MAX_PAIRS ? grow(p->vp, &p->cap_vp, p->n_vp, sizeof *p->vp) : NULL;
    if (!vp) {
        p->vp_full = true;
        return NULL;
    }
    p->vp = vp;
    vpair_t *v = &p->vp[p->n_vp++];
    memset(v, 0, sizeof *v);
    v->receiver = strdup(rcv);
    v->sender = strdup(snd);
    v->silences = json_array();
    return v;
}

static void silence_end(fpass_t *p, vpair_t *v) {
    if (!v->in_silence) return;
    v->in_silence = false;
    const double len = (double)(v->silence_last - v->silence_from) / 1e9;
    if (len > v->longest_s) v->longest_s = len;
    v->n_silences++;
    if (json_array_size(v->silences) < SILENCES_LISTED)
        push(
            v->silences, json_pack("{s:o,s:o,s:I}", "from_s",
                                   jr((double)(v->silence_from - p->epoch) / 1e9, 1e-6), "to_s",
                                   jr((double)(v->silence_last - p->epoch) / 1e9, 1e-6),
                                   "frames", (json_int_t)v->silence_frames));
}

static void add_reason(fpass_t *p, const char *reason, const char *example, uint64_t frame,
                       int64_t t, size_t bin) {
    reason_t *r = NULL;
    for (size_t i = 0; i < p->n_rs; i++)
        if (!strcmp(p->rs[i].reason, reason)) r = &p->rs[i];
    if (!r) {
        if (p->n_rs == MAX_REASONS) {
            p->rs_full = true;
            return;
        }
        r = &p->rs[p->n_rs++];
        memset(r, 0, sizeof *r);
        r->reason = strdup(reason);
        r->example = strdup(example ? example : reason);
        r->first_frame = frame;
        r->first_t = t;
    }
    r->frames++;
    r->bins[bin]++;
}

/* example_of returns the frame's first reason text starting with `prefix` (frames.jsonl's
 * reasons: the members' in order, then the silent links'), NULL when none does */
static const char *example_of(const json_t *frame, const char *prefix) {
    size_t i;
    const json_t *r;
    const size_t n = strlen(prefix);
    json_array_foreach(json_object_get(frame, "reasons"), i, r)
        if (json_is_string(r) && !strncmp(json_string_value(r), prefix, n))
            return json_string_value(r);
    return NULL;
}

static vxs_status_t frame_line(void *user, const json_t *o) {
    fpass_t *p = user;
    const int64_t t = inum(o, "t_ref_ns", INT64_MIN);
    const uint64_t index = (uint64_t)inum(o, "frame", (int64_t)p->frames);
    if (t == INT64_MIN) return VXS_E_MALFORMED;
    size_t bin = (size_t)(p->frames / p->bin_frames);
    if (bin >= TL_BINS) bin = TL_BINS - 1;
    if (p->bin_frames_n[bin] == 0) p->bin_start[bin] = t;
    p->bin_frames_n[bin]++;
    if (p->frames == 0) p->t_first = t;
    p->t_last = t;
    p->frames++;
    const bool partial = str(o, "status") && !strcmp(str(o, "status"), "partial");
    if (partial) {
        p->partial++;
        p->bin_partial[bin]++;
    }
    /* members: dt per stream and per pair; missing members' reasons */
    const json_t *mem = json_object_get(o, "members");
    double dt[MAX_STREAMS];
    bool ok[MAX_STREAMS];
    const size_t nm = json_array_size(mem) < p->n_st ? json_array_size(mem) : p->n_st;
    for (size_t k = 0; k < nm; k++) {
        const json_t *m = json_array_get(mem, k);
        const char *status = str(m, "status");
        ok[k] = status && !strcmp(status, "ok") && json_is_number(json_object_get(m, "dt_ns"));
        if (ok[k]) {
            dt[k] = num(m, "dt_ns") / 1e6;
            p->st[k].members++;
            dh_add(&p->st[k].dt, dt[k]);
        } else {
            p->st[k].missing++;
            char reason[300], prefix[300];
            snprintf(reason, sizeof reason, "%s: %s", p->st[k].name, status ? status : "?");
            snprintf(prefix, sizeof prefix, "%s: ", p->st[k].name);
            utf8_trim(reason);
            add_reason(p, reason, example_of(o, prefix), index, t, bin);
        }
    }
    for (size_t i = 0; i < nm; i++)
        for (size_t j = i + 1; j < nm; j++)
            if (ok[i] && ok[j]) {
                const size_t x = pair_index(p->n_st, i, j);
                p->pair_n[x]++;
                dh_add(&p->pair[x], dt[i] - dt[j]);
            }
    /* links of each receiving agent */
    const json_t *v2x = json_object_get(o, "v2x");
    size_t i;
    const json_t *rcv;
    json_array_foreach(v2x, i, rcv) {
        const char *ra = str(rcv, "agent");
        const json_t *links = json_object_get(rcv, "links");
        size_t k;
        const json_t *l;
        json_array_foreach(links, k, l) {
            /* a sender no agent owns is "unknown" in frames.jsonl: its station tells it apart */
            const char *sa = str(l, "sender");
            char sbuf[32];
            if (!sa || !strcmp(sa, "unknown")) {
                snprintf(sbuf, sizeof sbuf, "station %" PRId64, inum(l, "station", -1));
                sa = sbuf;
            }
            vpair_t *v = ra ? vpair(p, ra, sa) : NULL;
            if (!v) continue;
            v->frames++;
            const char *status = str(l, "status");
            const bool silent = status && !strcmp(status, "silent");
            if (silent) {
                v->silent++;
                if (!v->in_silence) {
                    v->in_silence = true;
                    v->silence_from = t;
                    v->silence_frames = 0;
                }
                v->silence_last = t;
                v->silence_frames++;
                char reason[300];
                snprintf(reason, sizeof reason, "link %s -> %s silent", sa, ra);
                utf8_trim(reason);
                add_reason(p, reason, example_of(o, reason), index, t, bin);
            } else {
                silence_end(p, v);
            }
            const json_t *aoi = json_object_get(l, "aoi_ns");
            if (json_is_number(aoi)) lh_add(&v->aoi, json_number_value(aoi) / 1e6);
        }
    }
    return VXS_OK;
}

/* ==== the messages pass: latency per link ================================================= */

#define MAX_LINKS 1024

typedef struct {
    char *receiver, *source, *message;
    int64_t station;
    lhist_t lat;
} mlink_t;

typedef struct {
    mlink_t *l; /* grown as links appear, MAX_LINKS at most */
    size_t n, cap;
    uint64_t lines;
    bool full;
    int64_t t_min, t_max; /* receptions on the reference timeline (lines > 0 and has_t) */
    bool has_t;
} mpass_t;

static mlink_t *mlink(mpass_t *p, const char *rcv, const char *src, int64_t station,
                      const char *type) {
    for (size_t i = 0; i < p->n; i++) {
        mlink_t *l = &p->l[i];
        if (l->station == station && !strcmp(l->receiver, rcv) && !strcmp(l->source, src) &&
            !strcmp(l->message, type))
            return l;
    }
    mlink_t *ls = p->n < MAX_LINKS ? grow(p->l, &p->cap, p->n, sizeof *p->l) : NULL;
    if (!ls) {
        p->full = true;
        return NULL;
    }
    p->l = ls;
    mlink_t *l = &p->l[p->n++];
    memset(l, 0, sizeof *l);
    l->receiver = strdup(rcv);
    l->source = strdup(src);
    l->message = strdup(type);
    l->station = station;
    return l;
}

static vxs_status_t message_line(void *user, const json_t *o) {
    mpass_t *p = user;
    p->lines++;
    const json_t *rx = json_object_get(o, "rx_ref_ns");
    if (json_is_integer(rx)) {
        const int64_t t = (int64_t)json_integer_value(rx);
        if (!p->has_t || t < p->t_min) p->t_min = t;
        if (!p->has_t || t > p->t_max) p->t_max = t;
        p->has_t = true;
    }
    const char *rcv = str(o, "receiver"), *src = str(o, "source"), *type = str(o, "type");
    const json_t *lat = json_object_get(o, "latency_ns");
    if (!rcv || !src || !type || !json_is_number(lat)) return VXS_OK;
    mlink_t *l = mlink(p, rcv, src, inum(o, "station", -1), type);
    if (l) lh_add(&l->lat, json_number_value(lat) / 1e6);
    return VXS_OK;
}

/* ==== building the document =============================================================== */

static void absent(json_t *doc, const char *section, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

static void absent(json_t *doc, const char *section, const char *fmt, ...) {
    char why[400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, sizeof why, fmt, ap);
    va_end(ap);
    push(json_object_get(doc, "absent"),
                          json_pack("{s:s,s:s}", "section", section, "why", why));
}

static json_t *streams_section(const json_t *run) {
    json_t *out = json_array();
    size_t i;
    const json_t *s;
    json_array_foreach(json_object_get(run, "sources"), i, s) {
        const json_t *t = json_object_get(s, "timing");
        const json_t *d = json_object_get(s, "damaged");
        char name[300];
        snprintf(name, sizeof name, "%s/%s", str(s, "agent") ? str(s, "agent") : "?",
                 str(s, "sensor") ? str(s, "sensor") : "?");
        utf8_trim(name);
        json_t *gaps = json_array(), *first = json_array();
        double largest = NAN;
        size_t k;
        const json_t *g;
        json_array_foreach(json_object_get(t, "largest_gaps"), k, g) {
            json_array_append(gaps, (json_t *)g);
            const double len = num(g, "length_ms");
            if (!(largest >= len)) largest = len;
        }
        json_array_foreach(json_object_get(d, "first"), k, g) {
            const json_t *unit = json_object_get(g, "unit");
            push(first, json_pack("{s:s,s:o,s:I,s:s}", "file",
                                                   str(s, "path") ? str(s, "path") : "?", "unit",
                                                   json_is_integer(unit) ? json_incref((json_t *)unit)
                                                                         : json_null(),
                                                   "byte_offset",
                                                   (json_int_t)inum(g, "byte_offset", 0),
                                                   "message", str(g, "message") ? str(g, "message")
                                                                                : ""));
        }
        push(
            out,
            json_pack("{s:s,s:s,s:s,s:I,s:o,s:o,s:o,s:o,s:I,s:o,s:o,s:I,s:I,s:o,s:I,s:o}", "name",
                      name, "kind", str(s, "kind") ? str(s, "kind") : "?", "path",
                      str(s, "path") ? str(s, "path") : "?", "records",
                      (json_int_t)inum(s, "records", 0), "timing_of", jstr_or_null(str(t, "of")),
                      "rate_hz", jnum(num(t, "rate_hz")), "median_interval_ms",
                      jnum(num(t, "median_interval_ms")), "jitter_ms", jnum(num(t, "jitter_ms")),
                      "gaps", (json_int_t)inum(t, "gaps", 0), "largest_gap_ms", jnum(largest),
                      "largest_gaps", gaps, "duplicates", (json_int_t)inum(t, "duplicates", 0),
                      "out_of_order", (json_int_t)inum(t, "out_of_order", 0), "max_backstep_ms",
                      jnum(num(t, "max_backstep_ms")), "damaged",
                      (json_int_t)inum(d, "count", 0), "damaged_first", first));
    }
    return out;
}

/* model_offset: a clock's local - reference at reference time t (clocks.json pieces: a piece
 * holds from its from_ref_ns on; its offset_ns is its line at the epoch) */
static double model_offset(const json_t *dom, int64_t epoch, int64_t t) {
    const json_t *pieces = json_object_get(dom, "pieces");
    const json_t *use = json_array_get(pieces, 0);
    size_t k;
    const json_t *pc;
    json_array_foreach(pieces, k, pc) {
        const json_t *from = json_object_get(pc, "from_ref_ns");
        if (k == 0 || (json_is_integer(from) && json_integer_value(from) <= t)) use = pc;
    }
    if (!use) return num(dom, "offset_ns") + num(dom, "drift_ppm") * 1e-6 * (double)(t - epoch);
    return num(use, "offset_ns") + num(use, "drift_ppm") * 1e-6 * (double)(t - epoch);
}

static json_t *clocks_section(const json_t *clk, int64_t epoch) {
    json_t *doms = json_array(), *rels = json_array();
    size_t i;
    const json_t *d;
    json_array_foreach(json_object_get(clk, "domains"), i, d) {
        json_t *steps = json_array();
        size_t k;
        const json_t *pc;
        json_array_foreach(json_object_get(d, "pieces"), k, pc) {
            const double step = num(pc, "step_ns");
            if (k == 0 || !(step != 0)) continue;
            push(
                steps, json_pack("{s:o,s:o,s:o}", "at_s",
                                 jr((double)(inum(pc, "from_ref_ns", epoch) - epoch) / 1e9, 1e-6),
                                 "step_ms", jr(step / 1e6, 1e-6), "within_ms",
                                 jr(num(pc, "from_span_ns") / 1e6, 1e-6)));
        }
        const json_t *hint = json_object_get(d, "hint");
        push(
            doms,
            json_pack("{s:s,s:s,s:o,s:s,s:s,s:o,s:o,s:o,s:o,s:o,s:I,s:o,s:I,s:o,s:b}", "name",
                      str(d, "name") ? str(d, "name") : "?", "kind",
                      str(d, "kind") ? str(d, "kind") : "?", "agent",
                      jstr_or_null(str(d, "agent")), "method",
                      str(d, "method") ? str(d, "method") : "?", "identifiability",
                      str(d, "identifiability") ? str(d, "identifiability") : "unknown",
                      "limited_by", jstr_or_null(str(d, "limited_by")), "offset_ms",
                      jr(num(d, "offset_ns") / 1e6, 1e-6), "offset_sd_ms",
                      jr(num(d, "offset_sd_ns") / 1e6, 1e-6), "drift_ppm",
                      jr(num(d, "drift_ppm"), 1e-6), "drift_sd_ppm",
                      jr(num(d, "drift_sd_ppm"), 1e-6), "jumps", (json_int_t)inum(d, "jumps", 0),
                      "steps", steps, "rate_changes", (json_int_t)inum(d, "rate_changes", 0),
                      "hint", jstr_or_null(str(hint, "kind")), "hint_rejected",
                      json_is_true(json_object_get(hint, "rejected"))));
        put(json_array_get(doms, json_array_size(doms) - 1), "hint_residual_ms",
            jr(num(hint, "residual_ns") / 1e6, 1e-6));
    }
    const json_t *r;
    json_array_foreach(json_object_get(clk, "relations"), i, r) {
        json_t *ts = json_array(), *mr = json_array(), *fr = json_array();
        size_t k;
        const json_t *row;
        json_array_foreach(json_object_get(json_object_get(r, "envelope"), "points"), k, row) {
            const json_t *t = json_array_get(row, 0);
            push(
                ts, json_is_number(t) ? jr((json_number_value(t) - (double)epoch) / 1e9, 1e-6)
                                      : json_null());
            const json_t *fv = json_array_get(row, 2), *mv = json_array_get(row, 3);
            push(fr, json_is_number(fv) ? jr(json_number_value(fv) / 1e6, 1e-6)
                                                         : json_null());
            push(mr, json_is_number(mv) ? jr(json_number_value(mv) / 1e6, 1e-6)
                                                         : json_null());
        }
        push(
            rels, json_pack("{s:s,s:s,s:s,s:I,s:I,s:o,s:s,s:o,s:{s:o,s:o,s:o}}", "from",
                            str(r, "from") ? str(r, "from") : "?", "to",
                            str(r, "to") ? str(r, "to") : "?", "delay_class",
                            str(r, "delay_class") ? str(r, "delay_class") : "?", "samples",
                            (json_int_t)inum(r, "samples", 0), "windows_below",
                            (json_int_t)inum(r, "windows_below", 0), "floor_ms",
                            jr(num(r, "floor_ns") / 1e6, 1e-6), "floor",
                            str(r, "floor") ? str(r, "floor") : "?", "residual_ms",
                            jr(num(r, "residual_ns") / 1e6, 1e-6), "envelope", "t_s", ts,
                            "model_resid_ms", mr, "fit_resid_ms", fr));
    }
    const json_t *ref = json_object_get(clk, "reference");
    char refs[300];
    if (str(ref, "domain"))
        snprintf(refs, sizeof refs, "the clock %s (nothing is anchored)", str(ref, "domain"));
    else
        snprintf(refs, sizeof refs, "%s", str(ref, "kind") ? str(ref, "kind") : "?");
    const json_t *imp = json_object_get(clk, "impossible_messages");
    return json_pack("{s:I,s:s,s:s,s:I,s:o,s:o,s:o}", "epoch_ns", (json_int_t)epoch, "epoch",
                     str(clk, "epoch") ? str(clk, "epoch") : "", "reference", refs,
                     "hints_rejected", (json_int_t)inum(clk, "hints_rejected", 0), "domains",
                     doms, "relations", rels, "impossible_messages",
                     imp ? json_deep_copy(imp) : json_pack("{s:i,s:[]}", "count", 0, "first"));
}

static bool is_unknown(const json_t *dom) {
    const char *id = str(dom, "identifiability");
    return !id || !strcmp(id, "unknown");
}

/* agent_pairs: b's logger - a's logger over [t0, t1], 101 points, from the models. A logger
 * nothing ties to the reference has no offset to plot: its name goes into `unplaced` */
static json_t *agent_pairs_section(const json_t *clk, int64_t epoch, int64_t t0, int64_t t1,
                                   char *unplaced, size_t unplaced_len) {
    json_t *out = json_array();
    const json_t *doms = json_object_get(clk, "domains");
    size_t i, j;
    const json_t *a, *b;
    unplaced[0] = '\0';
    json_array_foreach(doms, i, a) {
        if (!str(a, "kind") || strcmp(str(a, "kind"), "logger") || !str(a, "agent")) continue;
        if (is_unknown(a)) {
            const size_t n = strlen(unplaced);
            snprintf(unplaced + n, unplaced_len - n, "%s%s", n ? ", " : "", str(a, "name"));
            utf8_trim(unplaced);
            continue;
        }
        json_array_foreach(doms, j, b) {
            if (j <= i || !str(b, "kind") || strcmp(str(b, "kind"), "logger") ||
                !str(b, "agent") || is_unknown(b))
                continue;
            json_t *ts = json_array(), *off = json_array();
            const int n = 100;
            for (int k = 0; k <= n; k++) {
                const int64_t t = t0 + (int64_t)((double)(t1 - t0) * k / n);
                push(ts, jr((double)(t - epoch) / 1e9, 1e-6));
                push(
                    off, jr((model_offset(b, epoch, t) - model_offset(a, epoch, t)) / 1e6, 1e-6));
            }
            const double sa = num(a, "offset_sd_ns"), sb = num(b, "offset_sd_ns");
            json_t *two = json_null(), *lat = json_null();
            size_t k;
            const json_t *p;
            json_array_foreach(json_object_get(clk, "pairs"), k, p) {
                const char *pa = str(p, "a"), *pb = str(p, "b");
                if (!pa || !pb) continue;
                if (!strcmp(pa, str(a, "agent")) && !strcmp(pb, str(b, "agent"))) {
                    json_decref(two);
                    json_decref(lat);
                    two = jr(num(p, "offset_ns") / 1e6, 1e-6);
                    lat = jr(num(p, "min_latency_ns") / 1e6, 1e-6);
                } else if (!strcmp(pb, str(a, "agent")) && !strcmp(pa, str(b, "agent"))) {
                    json_decref(two);
                    json_decref(lat);
                    two = jr(-num(p, "offset_ns") / 1e6, 1e-6);
                    lat = jr(num(p, "min_latency_ns") / 1e6, 1e-6);
                }
            }
            push(
                out, json_pack("{s:s,s:s,s:o,s:o,s:o,s:o,s:o}", "a", str(a, "agent"), "b",
                               str(b, "agent"), "t_s", ts, "offset_ms", off, "sd_ms",
                               jr(sqrt(sa * sa + sb * sb) / 1e6, 1e-6), "two_way_offset_ms", two,
                               "min_latency_ms", lat));
        }
    }
    return out;
}

/* periodic: a message type its sender sends all the time (a silence at the end of the drive is
 * the link's, not an event that ended, as DENMs' do) */
static bool periodic(const char *msg) {
    static const char *const types[] = {"CAM", "VAM", "CPM", "BSM", "PSM"};
    for (size_t i = 0; msg && i < sizeof types / sizeof types[0]; i++)
        if (!strcmp(msg, types[i])) return true;
    return false;
}

/* tail_s: how long before the receiver's last capture the link's last message came (a link
 * that died stays silent to the end, which links.json's loss and dropouts cannot count: they
 * end at its last message); NaN when unknown or the type is not periodic */
static double tail_s(const json_t *run, const json_t *l) {
    const char *rcv = str(l, "receiver"), *src = str(l, "source");
    const json_t *last = json_object_get(l, "last_capture_ns");
    if (!rcv || !src || !json_is_integer(last) || !periodic(str(l, "message"))) return NAN;
    size_t i;
    const json_t *s;
    json_array_foreach(json_object_get(run, "sources"), i, s) {
        if (!str(s, "agent") || !str(s, "sensor") || strcmp(str(s, "agent"), rcv) ||
            strcmp(str(s, "sensor"), src))
            continue;
        const json_t *mx = json_object_get(json_object_get(s, "timing"), "max_ns");
        if (!json_is_integer(mx)) return NAN;
        const double t = (double)(json_integer_value(mx) - json_integer_value(last)) / 1e9;
        return t > 0 ? t : 0;
    }
    return NAN;
}

static json_t *links_section(const json_t *lnk, const json_t *run, const mpass_t *mp,
                             int64_t epoch) {
    json_t *out = json_array();
    size_t i;
    const json_t *l;
    json_array_foreach(json_object_get(lnk, "links"), i, l) {
        const char *rcv = str(l, "receiver"), *src = str(l, "source"), *msg = str(l, "message");
        const int64_t station = inum(l, "station", -1);
        const mlink_t *m = NULL;
        for (size_t k = 0; k < mp->n && rcv && src && msg; k++)
            if (mp->l[k].station == station && !strcmp(mp->l[k].receiver, rcv) &&
                !strcmp(mp->l[k].source, src) && !strcmp(mp->l[k].message, msg))
                m = &mp->l[k];
        lhist_t empty;
        memset(&empty, 0, sizeof empty);
        const lhist_t *h = m ? &m->lat : &empty;
        json_t *cdf = json_array();
        for (int q = 0; h->n && q <= 100; q++)
            push(cdf, jr(lh_quantile(h, q / 100.0), 1e-6));
        json_t *bt = json_array(), *bd = json_array();
        size_t k;
        const json_t *b;
        json_array_foreach(json_object_get(json_object_get(l, "by_time"), "bins"), k, b) {
            push(
                bt, json_pack("{s:o,s:I,s:I,s:o}", "start_s",
                              jr((double)(inum(b, "start_ns", epoch) - epoch) / 1e9, 1e-6),
                              "sent", (json_int_t)inum(b, "sent", 0), "delivered",
                              (json_int_t)inum(b, "delivered", 0), "ratio",
                              jnum(num(b, "ratio"))));
        }
        json_array_foreach(json_object_get(json_object_get(l, "by_distance"), "bins"), k, b) {
            push(
                bd, json_pack("{s:o,s:o,s:I,s:I,s:o}", "from_m", jnum(num(b, "from_m")), "to_m",
                              jnum(num(b, "to_m")), "sent", (json_int_t)inum(b, "sent", 0),
                              "delivered", (json_int_t)inum(b, "delivered", 0), "ratio",
                              jnum(num(b, "ratio"))));
        }
        const json_t *dr = json_object_get(l, "dropouts");
        json_t *dfirst = json_array();
        json_array_foreach(json_object_get(dr, "first"), k, b) {
            push(
                dfirst, json_pack("{s:o,s:o,s:o}", "from_s",
                                  jr((double)(inum(b, "start_ns", epoch) - epoch) / 1e9, 1e-6),
                                  "to_s", jr((double)(inum(b, "end_ns", epoch) - epoch) / 1e9, 1e-6),
                                  "duration_ms", jnum(num(b, "duration_ms"))));
        }
        /* the quantiles are links.json's (the job's, over the messages the frame pass read), so
         * the two files agree; the CDF is drawn from every message of v2x_messages.jsonl */
        const json_t *jl = json_object_get(l, "latency_ms");
        json_t *lq = json_is_object(jl)
                         ? json_pack("{s:I,s:o,s:o,s:o,s:o,s:o}", "n",
                                     (json_int_t)inum(jl, "messages", 0), "min",
                                     jr(num(jl, "min"), 1e-6), "p50", jr(num(jl, "p50"), 1e-6),
                                     "p95", jr(num(jl, "p95"), 1e-6), "p99",
                                     jr(num(jl, "p99"), 1e-6), "max", jr(num(jl, "max"), 1e-6))
                         : lh_quant_json(h);
        const json_t *bursts = json_object_get(l, "loss_bursts");
        push(
            out,
            json_pack("{s:s,s:o,s:I,s:s,s:s,s:I,s:I,s:I,s:o,s:I,s:o,s:I,s:I,s:{s:I,s:o,s:o,s:o},"
                      "s:o,s:o,s:o,s:o}",
                      "receiver", rcv ? rcv : "?", "sender", jstr_or_null(str(l, "sender")),
                      "station", (json_int_t)station, "message", msg ? msg : "?", "counted_by",
                      str(l, "counted_by") ? str(l, "counted_by") : "?", "sent",
                      (json_int_t)inum(l, "sent", 0), "delivered",
                      (json_int_t)inum(l, "delivered", 0), "lost", (json_int_t)inum(l, "lost", 0),
                      "delivery_ratio", jnum(num(l, "delivery_ratio")), "longest_burst",
                      (json_int_t)inum(l, "longest_burst", 0), "loss_bursts",
                      bursts ? json_deep_copy(bursts) : json_object(), "duplicates",
                      (json_int_t)inum(l, "duplicates", 0), "reordered",
                      (json_int_t)inum(l, "reordered", 0), "dropouts", "count",
                      (json_int_t)inum(dr, "count", 0), "total_s", jnum(num(dr, "total_s")),
                      "longest_s", jnum(num(dr, "longest_s")), "first", dfirst, "latency_ms", lq,
                      "latency_cdf_ms", cdf, "by_time", bt, "by_distance", bd));
        put(json_array_get(out, json_array_size(out) - 1), "tail_s", jr(tail_s(run, l), 1e-6));
    }
    return out;
}

static json_t *member_dt_section(const fpass_t *p) {
    json_t *st = json_array(), *pairs = json_array();
    for (size_t k = 0; k < p->n_st; k++) {
        const fstream_t *s = &p->st[k];
        push(
            st, json_pack("{s:s,s:o,s:b,s:I,s:I,s:o,s:o}", "name", s->name, "tolerance_ms",
                          jr(s->tol_ms, 1e-6), "reference", s->reference, "members",
                          (json_int_t)s->members, "missing", (json_int_t)s->missing, "abs_ms",
                          lh_quant_json(&s->dt.abs), "hist_ms", dh_json(&s->dt)));
    }
    for (size_t i = 0; i < p->n_st; i++)
        for (size_t j = i + 1; j < p->n_st; j++) {
            const size_t x = pair_index(p->n_st, i, j);
            push(
                pairs, json_pack("{s:s,s:s,s:I,s:o,s:o}", "a", p->st[i].name, "b",
                                 p->st[j].name, "frames", (json_int_t)p->pair_n[x], "abs_ms",
                                 lh_quant_json(&p->pair[x].abs), "hist_ms", dh_json(&p->pair[x])));
        }
    return json_pack("{s:o,s:o}", "streams", st, "pairs", pairs);
}

static json_t *v2x_pairs_section(fpass_t *p) {
    json_t *out = json_array();
    for (size_t i = 0; i < p->n_vp; i++) {
        vpair_t *v = &p->vp[i];
        silence_end(p, v);
        push(
            out, json_pack("{s:s,s:s,s:I,s:I,s:o,s:o,s:O,s:I,s:o}", "receiver", v->receiver,
                           "sender", v->sender, "frames", (json_int_t)v->frames, "silent_frames",
                           (json_int_t)v->silent, "silent_share",
                           jr(v->frames ? (double)v->silent / (double)v->frames : 0, 1e-6),
                           "longest_silence_s", jr(v->longest_s, 1e-6), "silences", v->silences,
                           "silences_total", (json_int_t)v->n_silences, "aoi_ms",
                           lh_quant_json(&v->aoi)));
    }
    return out;
}

static json_t *frames_section(const fpass_t *p) {
    json_t *tl = json_array(), *rs = json_array();
    const size_t nb = p->frames ? (size_t)((p->frames - 1) / p->bin_frames) + 1 : 0;
    const size_t nbins = nb < TL_BINS ? nb : TL_BINS;
    for (size_t b = 0; b < nbins; b++)
        push(
            tl, json_pack("{s:o,s:I,s:I}", "start_s",
                          jr((double)(p->bin_start[b] - p->epoch) / 1e9, 1e-6), "frames",
                          (json_int_t)p->bin_frames_n[b], "partial",
                          (json_int_t)p->bin_partial[b]));
    for (size_t i = 0; i < p->n_rs; i++) {
        const reason_t *r = &p->rs[i];
        json_t *bins = json_array();
        for (size_t b = 0; b < nbins; b++) push(bins, json_integer(r->bins[b]));
        push(
            rs, json_pack("{s:s,s:I,s:I,s:o,s:s,s:o}", "reason", r->reason, "frames",
                          (json_int_t)r->frames, "first_frame", (json_int_t)r->first_frame,
                          "first_s", jr((double)(r->first_t - p->epoch) / 1e9, 1e-6), "example",
                          r->example, "bins", bins));
    }
    return json_pack("{s:I,s:I,s:o,s:I,s:o,s:o}", "count", (json_int_t)p->frames, "partial",
                     (json_int_t)p->partial, "share",
                     jr(p->frames ? (double)p->partial / (double)p->frames : 0, 1e-6),
                     "bin_frames", (json_int_t)p->bin_frames, "timeline", tl, "reasons", rs);
}

/* ==== the checks' values ================================================================== */

typedef struct {
    double value;
    char subject[400];
    char message[600];
} cval_t;

static void worst(cval_t *c, double v, const char *subject) {
    if (isfinite(v) && !(c->value >= v)) {
        c->value = v;
        snprintf(c->subject, sizeof c->subject, "%s", subject ? subject : "");
    }
}

static void check_values(const json_t *doc, cval_t *cv) {
    for (size_t i = 0; i < N_CHECKS; i++) {
        cv[i].value = NAN;
        cv[i].subject[0] = cv[i].message[0] = '\0';
    }
    const json_t *clk = json_object_get(doc, "clocks");
    size_t i;
    const json_t *d;
    uint64_t floor_prior = 0, unknown = 0, jumps = 0;
    char unknown_names[400] = "", jump_names[400] = "";
    if (clk) {
        cv[0].value = cv[1].value = cv[2].value = 0;
        json_array_foreach(json_object_get(clk, "domains"), i, d) {
            const char *id = str(d, "identifiability");
            const char *name = str(d, "name");
            if (id && !strcmp(id, "unknown")) {
                unknown++;
                snprintf(unknown_names + strlen(unknown_names),
                         sizeof unknown_names - strlen(unknown_names), "%s%s",
                         unknown > 1 ? ", " : "", name);
                continue;
            }
            if (id && !strcmp(id, "floor_prior")) floor_prior++;
            worst(&cv[0], num(d, "offset_sd_ms"), name);
            const int64_t j = inum(d, "jumps", 0);
            if (j > 0) {
                snprintf(jump_names + strlen(jump_names), sizeof jump_names - strlen(jump_names),
                         "%s%s (%" PRId64 ")", jumps ? ", " : "", name, j);
                jumps += (uint64_t)j;
            }
        }
        snprintf(cv[0].message, sizeof cv[0].message,
                 "worst %s; %" PRIu64 " clock(s) rest on a latency-floor prior (identifiability "
                 "floor_prior)",
                 cv[0].subject[0] ? cv[0].subject : "-", floor_prior);
        cv[1].value = (double)unknown;
        snprintf(cv[1].message, sizeof cv[1].message, "%s",
                 unknown ? unknown_names : "every clock is tied to the reference");
        if (unknown) snprintf(cv[1].subject, sizeof cv[1].subject, "%s", unknown_names);
        cv[2].value = (double)jumps;
        snprintf(cv[2].message, sizeof cv[2].message, "%s", jumps ? jump_names : "no clock steps");
        if (jumps) snprintf(cv[2].subject, sizeof cv[2].subject, "%s", jump_names);
        cv[3].value = (double)inum(clk, "hints_rejected", 0);
        json_array_foreach(json_object_get(clk, "domains"), i, d)
            if (json_is_true(json_object_get(d, "hint_rejected")))
                snprintf(cv[3].subject, sizeof cv[3].subject, "%s", str(d, "name"));
        snprintf(cv[3].message, sizeof cv[3].message, "%s",
                 cv[3].value > 0 ? "the data contradict a hint: see clocks" : "none");
        const json_t *imp = json_object_get(clk, "impossible_messages");
        cv[10].value = (double)inum(imp, "count", 0);
        const json_t *f0 = json_array_get(json_object_get(imp, "first"), 0);
        if (f0)
            snprintf(cv[10].subject, sizeof cv[10].subject, "%s record %" PRId64 " (byte offset %" PRId64 ")",
                     str(f0, "file") ? str(f0, "file") : "?", inum(f0, "record", 0),
                     inum(f0, "byte_offset", 0));
        snprintf(cv[10].message, sizeof cv[10].message, "%s",
                 f0 ? "first listed in clocks.json impossible_messages" : "none");
    }
    const json_t *md = json_object_get(doc, "member_dt");
    if (md) {
        json_array_foreach(json_object_get(md, "streams"), i, d)
            worst(&cv[4], num(json_object_get(d, "abs_ms"), "p95"), str(d, "name"));
        snprintf(cv[4].message, sizeof cv[4].message, "p95 of |dt| of %s",
                 cv[4].subject[0] ? cv[4].subject : "-");
    }
    const json_t *fr = json_object_get(doc, "frames");
    if (fr) {
        cv[5].value = num(fr, "share");
        snprintf(cv[5].message, sizeof cv[5].message, "%" PRId64 " of %" PRId64 " frames partial",
                 inum(fr, "partial", 0), inum(fr, "count", 0));
    }
    json_array_foreach(json_object_get(doc, "streams"), i, d) {
        const char *kind = str(d, "kind");
        if (!kind || !strcmp(kind, "v2x")) continue;
        const double med = num(d, "median_interval_ms"), gap = num(d, "largest_gap_ms");
        if (med > 0 && gap > 0) {
            if (!isfinite(cv[6].value)) cv[6].value = 0;
            worst(&cv[6], gap / med, str(d, "name"));
        } else if (!isfinite(cv[6].value) && med > 0) {
            cv[6].value = 0;
        }
    }
    if (isfinite(cv[6].value)) {
        json_array_foreach(json_object_get(doc, "streams"), i, d)
            if (cv[6].subject[0] && str(d, "name") && !strcmp(str(d, "name"), cv[6].subject))
                snprintf(cv[6].message, sizeof cv[6].message,
                         "%s: longest gap %.1f ms, %.1f of its %.2f ms median intervals",
                         cv[6].subject, num(d, "largest_gap_ms"), cv[6].value,
                         num(d, "median_interval_ms"));
        if (!cv[6].message[0])
            snprintf(cv[6].message, sizeof cv[6].message, "no gap longer than 1.5 median "
                                                          "intervals");
    }
    const json_t *links = json_object_get(doc, "links");
    if (json_is_array(links) && json_array_size(links)) {
        cv[7].value = cv[9].value = 0;
        json_array_foreach(links, i, d) {
            char subj[300], station[32];
            snprintf(station, sizeof station, "station %" PRId64, inum(d, "station", -1));
            snprintf(subj, sizeof subj, "%s -> %s %s",
                     str(d, "sender") ? str(d, "sender") : station,
                     str(d, "receiver") ? str(d, "receiver") : "?",
                     str(d, "message") ? str(d, "message") : "?");
            const double sent = (double)inum(d, "sent", 0);
            if (sent > 0) worst(&cv[7], (double)inum(d, "lost", 0) / sent, subj);
            worst(&cv[9], num(json_object_get(d, "latency_ms"), "p95"), subj);
        }
        snprintf(cv[7].message, sizeof cv[7].message, "worst link %s",
                 cv[7].subject[0] ? cv[7].subject : "-");
        snprintf(cv[9].message, sizeof cv[9].message, "worst link %s",
                 cv[9].subject[0] ? cv[9].subject : "-");
    }
    /* silence: the runs of silent frames; where there are no frames, or a link died before the
     * receiver stopped recording, the link's own dropouts and its silent end */
    const json_t *vp = json_object_get(doc, "v2x_pairs");
    const char *how = "no link silent";
    if (json_is_array(vp) && json_array_size(vp)) {
        cv[8].value = 0;
        json_array_foreach(vp, i, d) {
            char subj[300];
            snprintf(subj, sizeof subj, "%s -> %s", str(d, "sender") ? str(d, "sender") : "?",
                     str(d, "receiver") ? str(d, "receiver") : "?");
            const double before = cv[8].value;
            worst(&cv[8], num(d, "longest_silence_s"), subj);
            if (cv[8].value > before) how = "silent at every frame (first to last silent frame)";
        }
    }
    if (json_is_array(links) && json_array_size(links)) {
        if (!isfinite(cv[8].value)) cv[8].value = 0;
        json_array_foreach(links, i, d) {
            char subj[300], station[32];
            snprintf(station, sizeof station, "station %" PRId64, inum(d, "station", -1));
            snprintf(subj, sizeof subj, "%s -> %s %s",
                     str(d, "sender") ? str(d, "sender") : station,
                     str(d, "receiver") ? str(d, "receiver") : "?",
                     str(d, "message") ? str(d, "message") : "?");
            double before = cv[8].value;
            worst(&cv[8], num(json_object_get(d, "dropouts"), "longest_s"), subj);
            if (cv[8].value > before) how = "its longest dropout between two messages";
            before = cv[8].value;
            worst(&cv[8], num(d, "tail_s"), subj);
            if (cv[8].value > before)
                how = "no message from its last one to the end of the receiver's recording";
        }
    }
    if (isfinite(cv[8].value))
        snprintf(cv[8].message, sizeof cv[8].message, "%s%s%.1f s: %s", cv[8].subject,
                 cv[8].subject[0] ? ": " : "", cv[8].value, how);
    const json_t *drive = json_object_get(doc, "drive");
    cv[11].value = (double)inum(drive, "damaged_units", 0);
    json_array_foreach(json_object_get(doc, "streams"), i, d)
        if (inum(d, "damaged", 0) > 0 && !cv[11].subject[0]) {
            const json_t *f0 = json_array_get(json_object_get(d, "damaged_first"), 0);
            snprintf(cv[11].subject, sizeof cv[11].subject, "%s", str(d, "path"));
            snprintf(cv[11].message, sizeof cv[11].message, "first: %s",
                     f0 && str(f0, "message") ? str(f0, "message") : "-");
        }
    if (!cv[11].message[0]) snprintf(cv[11].message, sizeof cv[11].message, "none");
    for (size_t k = 0; k < N_CHECKS; k++) {
        utf8_trim(cv[k].subject);
        utf8_trim(cv[k].message);
    }
}

static vxs_qa_level_t level_of(double v, double warn, double error) {
    if (!isfinite(v)) return VXS_QA_OK;
    if (isfinite(error) && v > error) return VXS_QA_ERROR;
    if (isfinite(warn) && v > warn) return VXS_QA_WARN;
    return VXS_QA_OK;
}

static void evaluate(vxs_qa_t *q) {
    cval_t cv[N_CHECKS];
    check_values(q->doc, cv);
    json_t *checks = json_array();
    size_t errors = 0, warnings = 0;
    for (size_t i = 0; i < N_CHECKS; i++) {
        const vxs_qa_level_t l = level_of(cv[i].value, q->warn[i], q->error[i]);
        errors += l == VXS_QA_ERROR;
        warnings += l == VXS_QA_WARN;
        push(
            checks,
            json_pack("{s:s,s:s,s:o,s:o,s:o,s:s,s:s,s:o}", "name", CHECKS[i].name, "level",
                      vxs_qa_level_name(l), "value", jr(cv[i].value, 1e-6), "warn",
                      jnum(q->warn[i]), "error", jnum(q->error[i]), "unit", CHECKS[i].unit,
                      "message",
                      isfinite(cv[i].value) ? cv[i].message : "does not apply to this drive",
                      "subject", cv[i].subject[0] ? json_string(cv[i].subject) : json_null()));
    }
    put(q->doc, "checks", checks);
    put(q->doc, "verdict",
                        json_pack("{s:s,s:I,s:I,s:o}", "level",
                                  vxs_qa_level_name(errors     ? VXS_QA_ERROR
                                                    : warnings ? VXS_QA_WARN
                                                               : VXS_QA_OK),
                                  "errors", (json_int_t)errors, "warnings", (json_int_t)warnings, "config",
                                  jstr_or_null(q->config)));
}

/* ==== open, write, close ================================================================== */

static void fpass_free(fpass_t *p) {
    for (size_t k = 0; k < p->n_st; k++) free(p->st[k].name);
    for (size_t k = 0; k < p->n_vp; k++) {
        free(p->vp[k].receiver);
        free(p->vp[k].sender);
        json_decref(p->vp[k].silences);
    }
    vxs_free(p->vp);
    for (size_t k = 0; k < p->n_rs; k++) {
        free(p->rs[k].reason);
        free(p->rs[k].example);
    }
    vxs_free(p->rs);
    vxs_free(p->pair);
    vxs_free(p->pair_n);
    vxs_free(p);
}

static void mpass_free(mpass_t *p) {
    for (size_t k = 0; k < p->n; k++) {
        free(p->l[k].receiver);
        free(p->l[k].source);
        free(p->l[k].message);
    }
    vxs_free(p->l);
}

static bool has_kind(const json_t *run, const char *kind) {
    size_t i;
    const json_t *s;
    json_array_foreach(json_object_get(run, "sources"), i, s)
        if (str(s, "kind") && !strcmp(str(s, "kind"), kind)) return true;
    return false;
}

/* build assembles the document from the outputs in q->dir */
/* validate checks the keys the report is built on, naming the file and the key of the first
 * that is wrong: the documents are sync's, but a folder may hold anything */
static vxs_status_t validate(const char *dir, const json_t *run, const json_t *clk,
                             const json_t *lnk, char *err, size_t err_len) {
    const char *file = "run.json", *what = NULL;
    const json_t *fr = json_object_get(run, "frames");
    size_t i;
    const json_t *x;
    if (!json_is_array(json_object_get(run, "sources")))
        what = "sources: expected an array";
    else if (!json_is_array(json_object_get(run, "streams")))
        what = "streams: expected an array";
    else if (!json_is_array(json_object_get(run, "agents")))
        what = "agents: expected an array";
    else if (!json_is_object(fr) || !json_is_integer(json_object_get(fr, "count")) ||
             json_integer_value(json_object_get(fr, "count")) < 0)
        what = "frames.count: expected a count (an integer >= 0)";
    json_array_foreach(json_object_get(run, "sources"), i, x) if (!what && !json_is_object(x))
        what = "sources[]: expected objects";
    json_array_foreach(json_object_get(run, "streams"), i, x) {
        if (what) break;
        const double tol = num(x, "tolerance_ms");
        if (!json_is_object(x) || !str(x, "name") || !(tol >= 0 && tol <= 1e9))
            what = "streams[]: expected objects with a name and a tolerance_ms in 0..1e9";
    }
    if (!what) {
        file = "clocks.json";
        if (!json_is_integer(json_object_get(clk, "epoch_ns")))
            what = "epoch_ns: expected an integer";
        else if (!json_is_array(json_object_get(clk, "domains")))
            what = "domains: expected an array";
        else if (!json_is_array(json_object_get(clk, "relations")))
            what = "relations: expected an array";
    }
    if (!what && !json_is_array(json_object_get(lnk, "links"))) {
        file = "links.json";
        what = "links: expected an array";
    }
    if (!what) return VXS_OK;
    snprintf(err, err_len, "%s/%s: %s (not written by this version of v2xsync sync?)", dir,
             file, what);
    return VXS_E_MALFORMED;
}

static vxs_status_t build(vxs_qa_t *q, char *err, size_t err_len) {
    vxs_status_t st = VXS_OK;
    json_t *run = load_doc(q->dir, "run.json", true, &st, err, err_len);
    json_t *clk = st == VXS_OK ? load_doc(q->dir, "clocks.json", true, &st, err, err_len) : NULL;
    json_t *lnk = st == VXS_OK ? load_doc(q->dir, "links.json", true, &st, err, err_len) : NULL;
    json_t *bnd = st == VXS_OK ? load_doc(q->dir, "bundle.json", false, &st, err, err_len) : NULL;
    fpass_t *fp = NULL;
    mpass_t mp;
    memset(&mp, 0, sizeof mp);
    if (st != VXS_OK) goto done;
    if ((st = validate(q->dir, run, clk, lnk, err, err_len)) != VXS_OK) goto done;
    g_bad = false;
    const int64_t epoch = inum(clk, "epoch_ns", 0);
    fp = vxs_calloc(1, sizeof *fp);
    if (!fp) {
        st = VXS_E_NOMEM;
        snprintf(err, err_len, "out of memory");
        goto done;
    }
    fp->epoch = epoch;
    fp->expected = (uint64_t)inum(json_object_get(run, "frames"), "count", 0); /* >= 0 */
    fp->bin_frames = fp->expected > TL_BINS ? (fp->expected - 1) / TL_BINS + 1 : 1;
    size_t i;
    const json_t *s;
    json_array_foreach(json_object_get(run, "streams"), i, s) {
        if (fp->n_st == MAX_STREAMS) break;
        fstream_t *f = &fp->st[fp->n_st++];
        f->name = strdup(str(s, "name") ? str(s, "name") : "?");
        f->tol_ms = num(s, "tolerance_ms");
        f->reference = json_is_true(json_object_get(s, "reference"));
        dh_init(&f->dt, f->tol_ms);
    }
    const size_t np = fp->n_st > 1 ? fp->n_st * (fp->n_st - 1) / 2 : 1;
    fp->pair = vxs_calloc(np, sizeof *fp->pair);
    fp->pair_n = vxs_calloc(np, sizeof *fp->pair_n);
    fp->rs = vxs_calloc(MAX_REASONS, sizeof *fp->rs);
    if (!fp->pair || !fp->pair_n || !fp->rs) {
        st = VXS_E_NOMEM;
        snprintf(err, err_len, "out of memory");
        goto done;
    }
    for (size_t a = 0; a < fp->n_st; a++)
        for (size_t b = a + 1; b < fp->n_st; b++)
            dh_init(&fp->pair[pair_index(fp->n_st, a, b)], fp->st[a].tol_ms + fp->st[b].tol_ms);
    st = each_line(q->dir, "frames.jsonl", frame_line, fp, err, err_len);
    if (st != VXS_OK) goto done;
    st = each_line(q->dir, "v2x_messages.jsonl", message_line, &mp, err, err_len);
    const bool have_messages = st == VXS_OK;
    if (st == VXS_E_NOTFOUND) st = VXS_OK;
    if (st != VXS_OK) goto done;

    json_t *doc = q->doc = json_object();
    char tool[64];
    snprintf(tool, sizeof tool, "v2xsync %s", vxs_version());
    put(doc, "format", json_string("v2xsync-report"));
    put(doc, "format_version", json_integer(1));
    put(doc, "tool", json_string(tool));
    put(doc, "scenario", json_string(str(run, "scenario") ? str(run, "scenario")
                                                                          : "?"));
    put(doc, "folder", vxsi_json_text(q->dir));
    put(doc, "verdict", json_null());
    put(doc, "checks", json_array());
    put(doc, "absent", json_array());
    /* what the drive is */
    json_t *sensors = json_array();
    json_array_foreach(json_object_get(run, "sources"), i, s) {
        char name[300];
        snprintf(name, sizeof name, "%s/%s", str(s, "agent") ? str(s, "agent") : "?",
                 str(s, "sensor") ? str(s, "sensor") : "?");
        utf8_trim(name);
        push(sensors, json_string(name));
    }
    /* the drive's span on the reference timeline: its frames, else its V2X receptions */
    const bool span = fp->frames || mp.has_t;
    const int64_t t0 = fp->frames ? fp->t_first : mp.t_min, t1 = fp->frames ? fp->t_last : mp.t_max;
    put(
        doc, "drive",
        json_pack("{s:O,s:o,s:I,s:o,s:o,s:o,s:o,s:o,s:I,s:I,s:o,s:I,s:I}", "agents",
                  json_object_get(run, "agents"), "sensors", sensors, "sources",
                  (json_int_t)json_array_size(json_object_get(run, "sources")), "start",
                  vxsi_json_time(span ? t0 : VXS_TIME_NONE), "start_ns",
                  span ? json_integer(t0) : json_null(), "end",
                  vxsi_json_time(span ? t1 : VXS_TIME_NONE), "end_ns",
                  span ? json_integer(t1) : json_null(), "duration_s",
                  span ? jr((double)(t1 - t0) / 1e9, 1e-6) : json_null(), "frames",
                  (json_int_t)fp->frames, "partial_frames", (json_int_t)fp->partial,
                  "partial_share", fp->frames ? jr((double)fp->partial / (double)fp->frames, 1e-6)
                                              : json_null(),
                  "damaged_units",
                  (json_int_t)inum(json_object_get(run, "totals"), "damaged_units", 0),
                  "v2x_messages", (json_int_t)mp.lines));
    put(doc, "streams", streams_section(run));
    put(doc, "clocks", clocks_section(clk, epoch));
    const bool lidar = has_kind(run, "lidar"), camera = has_kind(run, "camera"),
               v2x = has_kind(run, "v2x");
    if (!lidar) absent(doc, "lidar", "no LiDAR source in the scenario");
    if (!camera) absent(doc, "camera", "no camera source in the scenario");
    if (!v2x) absent(doc, "v2x", "no V2X source in the scenario");
    if (fp->frames) {
        put(doc, "member_dt", member_dt_section(fp));
    } else {
        put(doc, "member_dt", json_null());
        absent(doc, "member_dt", "no frames (%s)",
               lidar || camera ? "frames.jsonl is empty" : "no LiDAR or camera to cut frames on");
    }
    char unplaced[400] = "";
    json_t *ap = span ? agent_pairs_section(clk, epoch, t0, t1, unplaced, sizeof unplaced)
                      : json_array();
    if (unplaced[0])
        absent(doc, "agent_pairs", "%s: tied to nothing (identifiability unknown), so no offset "
                                   "to other loggers",
               unplaced);
    else if (!json_array_size(ap))
        absent(doc, "agent_pairs", "%s", span ? "fewer than two agents with a logger clock"
                                              : "no frames and no V2X reception: the drive's "
                                                "span is unknown");
    put(doc, "agent_pairs", ap);
    json_t *links = links_section(lnk, run, &mp, epoch);
    if (!json_array_size(links)) {
        json_decref(links);
        put(doc, "links", json_null());
        absent(doc, "links", "%s", v2x ? "no V2X link was counted (no message received from a "
                                         "sender whose messages can be counted)"
                                       : "no V2X source");
    } else {
        put(doc, "links", links);
    }
    if (v2x && !have_messages)
        absent(doc, "latency", "v2x_messages.jsonl missing: no latency distribution");
    json_t *vp = v2x_pairs_section(fp);
    if (!json_array_size(vp)) {
        json_decref(vp);
        put(doc, "v2x_pairs", json_null());
        absent(doc, "v2x_pairs", "%s", !v2x          ? "no V2X source"
                                       : !fp->frames ? "no frames to see the links at"
                                                     : "no receiver heard a sender");
    } else {
        put(doc, "v2x_pairs", vp);
    }
    if (fp->frames) {
        put(doc, "frames", frames_section(fp));
    } else {
        put(doc, "frames", json_null());
        absent(doc, "frames", "no frames");
    }
    if (bnd) {
        put(doc, "bundle",
                            json_pack("{s:O,s:O,s:O}", "format_version",
                                      json_object_get(bnd, "format_version")
                                          ? json_object_get(bnd, "format_version")
                                          : json_null(),
                                      "frames",
                                      json_object_get(bnd, "frames") ? json_object_get(bnd, "frames")
                                                                     : json_null(),
                                      "identity",
                                      json_object_get(bnd, "identity")
                                          ? json_object_get(bnd, "identity")
                                          : json_null()));
    } else {
        put(doc, "bundle", json_null());
        absent(doc, "bundle", "no labeled bundle in the folder (sync --bundle)");
    }
    if (fp->vp_full || fp->rs_full || mp.full)
        absent(doc, "overflow", "more than %d receiver-sender pairs, %d partial-frame reasons or %d "
                                "links: the report follows the first ones",
               MAX_PAIRS, MAX_REASONS, MAX_LINKS);
    evaluate(q);
    if (g_bad) {
        snprintf(err, err_len, "%s: out of memory building the report", q->dir);
        st = VXS_E_NOMEM;
    }
done:
    if (fp) fpass_free(fp);
    mpass_free(&mp);
    json_decref(run);
    json_decref(clk);
    json_decref(lnk);
    json_decref(bnd);
    return st;
}

vxs_status_t vxs_qa_open(vxs_qa_t **out, const char *dir, const char *config, char *err,
                         size_t err_len) {
    *out = NULL;
    vxs_qa_t *q = vxs_calloc(1, sizeof *q);
    if (!q) return VXS_E_NOMEM;
    for (size_t i = 0; i < N_CHECKS; i++) {
        q->warn[i] = CHECKS[i].warn;
        q->error[i] = CHECKS[i].error;
    }
    q->dir = strdup(dir);
    q->config = config ? strdup(config) : NULL;
    vxs_status_t st = !q->dir || (config && !q->config) ? VXS_E_NOMEM : VXS_OK;
    if (st == VXS_OK && config) st = load_config(q, config, err, err_len);
    if (st == VXS_OK) st = build(q, err, err_len);
    if (st != VXS_OK) {
        vxs_qa_destroy(q);
        return st;
    }
    *out = q;
    return VXS_OK;
}

void vxs_qa_destroy(vxs_qa_t *q) {
    if (!q) return;
    json_decref(q->doc);
    free(q->dir);
    free(q->config);
    vxs_free(q);
}

vxs_qa_level_t vxs_qa_verdict(const vxs_qa_t *q) {
    const char *l = str(json_object_get(q->doc, "verdict"), "level");
    return l && !strcmp(l, "ERROR") ? VXS_QA_ERROR : l && !strcmp(l, "WARN") ? VXS_QA_WARN : VXS_QA_OK;
}

size_t vxs_qa_checks(const vxs_qa_t *q) { return json_array_size(json_object_get(q->doc, "checks")); }

bool vxs_qa_check(const vxs_qa_t *q, size_t i, vxs_qa_check_t *out) {
    const json_t *c = json_array_get(json_object_get(q->doc, "checks"), i);
    if (!c) return false;
    memset(out, 0, sizeof *out);
    out->name = str(c, "name");
    out->unit = str(c, "unit");
    out->message = str(c, "message");
    out->subject = str(c, "subject");
    const char *l = str(c, "level") ? str(c, "level") : "OK";
    out->level = !strcmp(l, "ERROR") ? VXS_QA_ERROR : !strcmp(l, "WARN") ? VXS_QA_WARN : VXS_QA_OK;
    out->value = num(c, "value");
    out->warn = num(c, "warn");
    out->error = num(c, "error");
    return true;
}

char *vxs_qa_checks_json(const vxs_qa_t *q) {
    json_t *o = json_pack("{s:o,s:O,s:O}", "folder", vxsi_json_text(q->dir), "verdict",
                          json_object_get(q->doc, "verdict"), "checks",
                          json_object_get(q->doc, "checks"));
    char *s = o ? json_dumps(o, JSON_INDENT(2) | JSON_PRESERVE_ORDER) : NULL;
    json_decref(o);
    return s; /* malloc'd by jansson: the caller frees it with vxs_qa_free_string */
}

void vxs_qa_free_string(char *s) { free(s); }

/* write_report: the report document `doc` as dir/report.json and dir/report.html (each
 * atomically; the pair is made one by the output set: vxs_outset) */
static vxs_status_t write_report(const json_t *doc, const char *dir, char *err, size_t err_len) {
    char path[4200];
    snprintf(path, sizeof path, "%s/report.json", dir);
    char *text = json_dumps(doc, JSON_INDENT(1) | JSON_PRESERVE_ORDER);
    if (!text) {
        snprintf(err, err_len, "%s: out of memory serialising the report", path);
        return VXS_E_NOMEM;
    }
    vxs_afile_t *f;
    vxs_status_t st = vxs_afile_open(&f, path, err, err_len);
    if (st == VXS_OK) {
        st = vxs_afile_write(f, text, strlen(text));
        if (st == VXS_OK) st = vxs_afile_write(f, "\n", 1);
        if (st == VXS_OK)
            st = vxs_afile_commit(f, err, err_len);
        else
            vxs_afile_abort(f);
    }
    free(text);
    if (st != VXS_OK) return st;
    snprintf(path, sizeof path, "%s/report.html", dir);
    if ((st = vxs_afile_open(&f, path, err, err_len)) != VXS_OK) return st;
    st = vxsi_qa_html(doc, f);
    if (st != VXS_OK) {
        snprintf(err, err_len, "%s", vxs_afile_errmsg(f));
        vxs_afile_abort(f);
        return st;
    }
    return vxs_afile_commit(f, err, err_len);
}

vxs_status_t vxs_qa_write(const vxs_qa_t *q, const char *dir, char *err, size_t err_len) {
    return write_report(q->doc, dir, err, err_len);
}

vxs_status_t vxs_qa_write_to(const vxs_qa_t *q, const char *dir, const char *folder, char *err,
                             size_t err_len) {
    json_t *doc = json_copy(q->doc); /* shallow: only "folder" differs */
    json_t *name = vxsi_json_text(folder);
    if (!doc || !name || json_object_set_new(doc, "folder", name) != 0) {
        if (!doc) json_decref(name);
        json_decref(doc);
        snprintf(err, err_len, "%s: out of memory", dir);
        return VXS_E_NOMEM;
    }
    const vxs_status_t st = write_report(doc, dir, err, err_len);
    json_decref(doc);
    return st;
}
