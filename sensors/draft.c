/*
 * draft.c: finds the agents and recordings of a folder with one subfolder per agent and drafts
 * their manifest (vxs_sensors.h section 7, `v2xsync init`). Every file is recognised by its
 * content through the readers (capture classification, video probe, V2X reader, calibration and
 * metadata loaders); this file walks the folders, matches side files to recordings and finds
 * each V2X source's own identity: from what the log marks sent, else from its timing, checked
 * against every other agent's capture (check_own_claims). The folder is only ever read.
 */
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "vxs_camera.h"
#include "vxs_core_int.h"
#include "vxs_lidar.h"
#include "vxs_manifest.h"
#include "vxs_sensors.h"
#include "vxs_v2x.h"

#define CLASSIFY_PACKETS 2000      /* capture packets classified to decide what a capture is */
#define V2X_PROBE_MESSAGES 8       /* messages a log must yield cleanly to count as V2X */
#define V2X_MAX_MESSAGES 200000    /* messages read for the own-identity vote (bounded memory) */
#define MAX_SENDERS 4096           /* senders tracked per V2X source; later ones are ignored */
#define OWN_MARGIN_NS 200000       /* own latency score below every other sender's by 0.2 ms */
#define OWN_MIN_MESSAGES 10        /* ... at least this many messages from it, and as many held
                                      by another agent's capture to compare with */
#define OWN_MAX_GAP_NS 50000000    /* ... but not by more than 50 ms (that is clock offset) */
#define MAX_OWN_MACS VXS_DRAFT_MAX_OWN_MACS
#define SIDE_FILE_MAX (64u << 20)  /* larger files are not tried as calibration or sidecar */

/* file_role_t is what a file of an agent folder turned out to be. */
typedef enum {
    ROLE_NONE = 0,    /* not decided yet */
    ROLE_SOURCE,      /* a recording (one or two sources) */
    ROLE_ATTACHED,    /* calibration, metadata or timestamps of a source */
    ROLE_SKIPPED,     /* reported as skipped */
    ROLE_OUSTER_META, /* Ouster metadata, not attached yet */
    ROLE_VELO_CALIB   /* Velodyne calibration, not attached yet */
} file_role_t;

typedef struct {
    char *name;
    char *path; /* as opened: DIR/agent/name with DIR as given */
    file_role_t role;
    vxs_file_kind_t kind;       /* vxs_detect_file's verdict */
    vxs_ouster_info_t ouster;   /* ROLE_OUSTER_META */
    int calib_lasers;           /* ROLE_VELO_CALIB */
    char *sidecar_note;         /* why it was not a video's timestamps (NULL: it was not tried) */
    char *sidecar_bad;          /* why it does not read as a sidecar, when named like one */
} file_t;

/* sender_t is what a V2X source holds of one sender (identify_own). */
typedef struct {
    uint64_t id;
    uint64_t msgs;  /* messages from it */
    uint64_t sent;  /* of those, marked sent by the log */
    bool timed;     /* a message with both a capture and a generation time */
    int64_t *gen;   /* generation times of its messages, ns: sorted, unique once read */
    size_t n_gen, cap_gen;
    int64_t *diff;  /* per second of capture: its median latency - the other senders' lowest */
    size_t n_diff, cap_diff;
    int64_t score;  /* median of diff (n_diff > 0) */
    uint8_t macs[MAX_OWN_MACS][6];
    size_t n_macs;
} sender_t;

typedef struct {
    sender_t *s;
    size_t n, cap, last;
    bool full;
} senders_t;

/* own_by_t is how a V2X source's own station was found. */
typedef enum {
    OWN_NONE = 0, /* not found (a note said why) */
    OWN_MARKED,   /* the log marks the messages it sent */
    OWN_CLAIMED,  /* the lowest latency; stands unless check_own_claims rejects it */
    OWN_REJECTED, /* claimed, but another agent's capture shows it received it */
    OWN_TIED      /* claimed, and so did another agent's capture, equally well */
} own_by_t;

typedef struct {
    vxs_source_kind_t kind;
    size_t file;   /* index into the agent's files */
    char model[40]; /* "" unknown */
    long calibration, metadata, timestamps; /* file indexes, -1 none */
    bool velodyne;  /* lidar: Velodyne (clock.gps_locked written) */
    bool gps_locked;
    int lasers;     /* Velodyne laser count, 0 unknown */
    bool ouster;
    size_t ouster_payload;
    uint16_t ouster_port;
    vxs_v2x_format_t format;
    own_by_t own_by;
    uint32_t own_id;
    uint8_t own_macs[MAX_OWN_MACS][6];
    size_t n_own_macs;
    senders_t ev; /* v2x: its senders, for check_own_claims */
} source_t;

typedef struct {
    char *dir; /* folder name */
    char id[65]; /* sanitized, unique */
    vxs_agent_type_t type;
    file_t *files;
    size_t n_files;
    source_t *srcs;
    size_t n_srcs, cap_srcs;
} agent_t;

typedef struct {
    const char *dir;          /* as given, without trailing '/' */
    const vxs_draft_report_t *report; /* NULL: nothing reported */
    bool oom;
} ctx_t;

/* ---- small helpers --------------------------------------------------------------------------- */

/* skip reports `path` as skipped: what it is and, when fmt is not NULL, the detail. */
static void skip(ctx_t *c, const char *path, const char *what, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void skip(ctx_t *c, const char *path, const char *what, const char *fmt, ...) {
    char *detail = NULL;
    if (fmt) {
        va_list ap;
        va_start(ap, fmt);
        detail = vxsi_vstrfmt(fmt, ap);
        va_end(ap);
        if (!detail) {
            c->oom = true;
            return;
        }
    }
    if (c->report && c->report->skipped) c->report->skipped(c->report->user, path, what, detail);
    vxs_free(detail);
}

/* note reports something the user should look at. */
static void note(ctx_t *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void note(ctx_t *c, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    char *s = vxsi_vstrfmt(fmt, ap);
    va_end(ap);
    if (!s) {
        c->oom = true;
        return;
    }
    if (c->report && c->report->note) c->report->note(c->report->user, s);
    vxs_free(s);
}

static int cmp_str(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void free_names(char **names, size_t n) {
    for (size_t i = 0; i < n; i++) vxs_free(names[i]);
    vxs_free(names);
}

/* list_dir returns the entries of `path` but "." and "..", sorted bytewise (strcmp), so the draft
 * does not depend on the file system's order. The caller frees with free_names. */
static vxs_status_t list_dir(char ***out, size_t *out_n, const char *path) {
    DIR *d = opendir(path);
    char **v = NULL;
    size_t n = 0, cap = 0;
    *out = NULL;
    *out_n = 0;
    if (!d) return VXS_E_IO;
    const struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) continue;
        if (n == cap) {
            size_t nc = cap ? cap * 2 : 16;
            char **nv = vxs_realloc(v, nc * sizeof *nv);
            if (!nv) goto oom;
            v = nv;
            cap = nc;
        }
        if (!(v[n] = vxs_strdup(e->d_name))) goto oom;
        n++;
    }
    closedir(d);
    if (n) qsort(v, n, sizeof *v, cmp_str);
    *out = v;
    *out_n = n;
    return VXS_OK;
oom:
    closedir(d);
    free_names(v, n);
    return VXS_E_NOMEM;
}

/* sanitize_id makes a manifest id (1-64 of A-Z a-z 0-9 _ - ., not starting with '.') of a folder
 * name. */
static void sanitize_id(char *out, size_t out_len, const char *name) {
    size_t k = 0;
    for (const char *p = name; *p && k + 1 < out_len && k < 64; p++) {
        char ch = *p;
        bool ok = (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') ||
                  (ch >= '0' && ch <= '9') || ch == '_' || ch == '-' || ch == '.';
        out[k++] = ok ? ch : '_';
    }
    out[k] = '\0';
    if (k == 0) snprintf(out, out_len, "agent");
    else if (out[0] == '.') out[0] = '_';
}

/* guess_type reads the agent type from its folder name (a guess the user edits). */
static vxs_agent_type_t guess_type(const char *name) {
    char low[256];
    size_t k = 0;
    for (; name[k] && k + 1 < sizeof low; k++)
        low[k] = (name[k] >= 'A' && name[k] <= 'Z') ? (char)(name[k] - 'A' + 'a') : name[k];
    low[k] = '\0';
    if (strstr(low, "rsu")) return VXS_AGENT_RSU;
    if (strstr(low, "phone") || strstr(low, "ped") || strstr(low, "vru") || strstr(low, "bike"))
        return VXS_AGENT_VRU;
    return VXS_AGENT_VEHICLE;
}

static long find_file(const agent_t *a, const char *name) {
    for (size_t i = 0; i < a->n_files; i++)
        if (strcmp(a->files[i].name, name) == 0) return (long)i;
    return -1;
}

/* stem_len is the length of `name` without its last extension. */
static size_t stem_len(const char *name) {
    const char *dot = strrchr(name, '.');
    return dot && dot != name ? (size_t)(dot - name) : strlen(name);
}

/* add_source appends a source for `file` (NULL when the agent is full or out of memory). The
 * cap is the manifest's own: past it the draft would not load. */
static source_t *add_source(ctx_t *c, agent_t *a, size_t file, vxs_source_kind_t kind) {
    if (a->n_srcs == VXS_MANIFEST_MAX_SOURCES) {
        if (a->files[file].role != ROLE_SOURCE) {
            a->files[file].role = ROLE_SKIPPED;
            skip(c, a->files[file].path, "too many recordings",
                 "a manifest agent holds at most %d sources", VXS_MANIFEST_MAX_SOURCES);
        } else {
            note(c, "%s: a manifest agent holds at most %d sources; only the first of this "
                    "file's are listed", a->files[file].path, VXS_MANIFEST_MAX_SOURCES);
        }
        return NULL;
    }
    if (a->n_srcs == a->cap_srcs) {
        size_t nc = a->cap_srcs ? a->cap_srcs * 2 : 4;
        source_t *ns = vxs_realloc(a->srcs, nc * sizeof *ns);
        if (!ns) {
            c->oom = true;
            return NULL;
        }
        a->srcs = ns;
        a->cap_srcs = nc;
    }
    source_t *s = &a->srcs[a->n_srcs++];
    memset(s, 0, sizeof *s);
    s->kind = kind;
    s->file = file;
    s->calibration = s->metadata = s->timestamps = -1;
    a->files[file].role = ROLE_SOURCE;
    return s;
}

/* ---- captures -------------------------------------------------------------------------------- */

typedef struct {
    uint64_t count;
    char first[256]; /* the first diagnostic's message */
    bool nomem;      /* a unit was skipped for want of memory: the verdict cannot be trusted */
} diag_count_t;

static void count_diag(void *user, const vxs_diag_t *d) {
    diag_count_t *dc = user;
    if (d->status == VXS_E_NOMEM) dc->nomem = true;
    if (dc->count++ == 0) snprintf(dc->first, sizeof dc->first, "%s", d->msg ? d->msg : "");
}

typedef struct {
    uint64_t packets, velo_data, velo_pos, velo_pos_locked, ouster, gn, wsmp;
    uint8_t velo_product;
    bool velo_mixed;
    size_t ouster_payload;
    uint16_t ouster_port;
} capture_scan_t;

/* scan_capture classifies the first CLASSIFY_PACKETS packets of a capture. A sensor's stream
 * starts within a second of the capture (a Velodyne sends ~750 data packets and ~150 position
 * packets a second), so the head says what the capture holds without reading gigabytes. */
static vxs_status_t scan_capture(capture_scan_t *out, const char *path, char *err,
                                 size_t err_len) {
    vxs_pcap_t *p = NULL;
    diag_count_t dc = {0, "", false};
    vxs_diag_sink_t sink = {count_diag, &dc};
    memset(out, 0, sizeof *out);
    vxs_status_t st = vxs_pcap_open_file(&p, path, NULL, &sink, err, err_len);
    if (st != VXS_OK) return st;
    const vxs_packet_t *pkt;
    while (out->packets < CLASSIFY_PACKETS && (st = vxs_pcap_next(p, &pkt)) == VXS_OK) {
        vxs_pkt_class_info_t ci;
        out->packets++;
        vxs_classify(&ci, pkt);
        switch (ci.cls) {
        case VXS_CLS_VELODYNE_DATA:
            if (out->velo_data++ == 0) out->velo_product = ci.velodyne_product;
            else if (ci.velodyne_product != out->velo_product) out->velo_mixed = true;
            break;
        case VXS_CLS_VELODYNE_POSITION:
            out->velo_pos++;
            if (ci.velodyne_pps == 2 && strcmp(ci.nmea, "$GPRMC") == 0) out->velo_pos_locked++;
            break;
        case VXS_CLS_OUSTER_LIDAR:
            if (out->ouster++ == 0) {
                const vxs_pkt_info_t *pl = vxs_packet_payload(pkt);
                out->ouster_payload = pl ? pl->payload_len : 0;
                out->ouster_port = ci.flow.dst_port;
            }
            break;
        case VXS_CLS_ETSI_GN: out->gn++; break;
        case VXS_CLS_WSMP: out->wsmp++; break;
        default: break;
        }
    }
    vxs_pcap_close(p);
    return st == VXS_E_NOMEM || dc.nomem ? VXS_E_NOMEM : VXS_OK;
}

/* ---- V2X own identity ------------------------------------------------------------------------ */

/* sender_get finds or adds a sender. Captures come in runs of one sender, so the last one is
 * tried first; NULL past MAX_SENDERS (t->full) or out of memory. */
static sender_t *sender_get(senders_t *t, uint64_t id) {
    if (t->n && t->s[t->last].id == id) return &t->s[t->last];
    for (size_t i = 0; i < t->n; i++)
        if (t->s[i].id == id) {
            t->last = i;
            return &t->s[i];
        }
    if (t->n == MAX_SENDERS) {
        t->full = true;
        return NULL;
    }
    if (t->n == t->cap) {
        size_t nc = t->cap ? t->cap * 2 : 16;
        sender_t *ns = vxs_realloc(t->s, nc * sizeof *ns);
        if (!ns) return NULL;
        t->s = ns;
        t->cap = nc;
    }
    sender_t *s = &t->s[t->n];
    memset(s, 0, sizeof *s);
    s->id = id;
    t->last = t->n++;
    return s;
}

static const sender_t *sender_find(const senders_t *t, uint64_t id) {
    for (size_t i = 0; i < t->n; i++)
        if (t->s[i].id == id) return &t->s[i];
    return NULL;
}

static void senders_free(senders_t *t) {
    for (size_t i = 0; i < t->n; i++) {
        vxs_free(t->s[i].diff);
        vxs_free(t->s[i].gen);
    }
    vxs_free(t->s);
    memset(t, 0, sizeof *t);
}

/* push_i64 appends v to a growable array; false out of memory. */
static bool push_i64(int64_t **v, size_t *n, size_t *cap, int64_t x) {
    if (*n == *cap) {
        size_t nc = *cap ? *cap * 2 : 64;
        int64_t *nv = vxs_realloc(*v, nc * sizeof *nv);
        if (!nv) return false;
        *v = nv;
        *cap = nc;
    }
    (*v)[(*n)++] = x;
    return true;
}

static int cmp_i64(const void *a, const void *b) {
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

/* median_i64 sorts v and returns its median (n > 0). */
static int64_t median_i64(int64_t *v, size_t n) {
    qsort(v, n, sizeof *v, cmp_i64);
    size_t m = n / 2;
    if (n % 2) return v[m];
    return v[m - 1] + (v[m] - v[m - 1]) / 2;
}

static void add_mac(uint8_t (*macs)[6], size_t *n, const uint8_t mac[6]) {
    for (size_t i = 0; i < *n; i++)
        if (memcmp(macs[i], mac, 6) == 0) return;
    if (*n < MAX_OWN_MACS) memcpy(macs[(*n)++], mac, 6);
}

/* sample_t is one message's latency (capture time - generation time) in its second of capture
 * time. */
typedef struct {
    int64_t window;
    int64_t lat;
    size_t sender;
} sample_t;

static int cmp_sample(const void *a, const void *b) {
    const sample_t *x = a, *y = b;
    if (x->window != y->window) return x->window < y->window ? -1 : 1;
    if (x->sender != y->sender) return x->sender < y->sender ? -1 : 1;
    return (x->lat > y->lat) - (x->lat < y->lat);
}

/* window_scores gives every sender its latency score: per second of capture time, its median
 * latency minus the lowest median of the other senders heard in that second; the score is the
 * median of those differences. Within a second the recording clock's offset is one number for
 * all, so a step or a slew of that clock (which moves whole-drive medians by as much) does not
 * reach the score. Samples are sorted in place. False out of memory. */
static bool window_scores(senders_t *t, sample_t *smp, size_t n) {
    qsort(smp, n, sizeof *smp, cmp_sample);
    for (size_t i = 0; i < n;) {
        size_t w_end = i;
        while (w_end < n && smp[w_end].window == smp[i].window) w_end++;
        /* the window's per-sender medians: first the lowest two */
        int64_t lo1 = INT64_MAX, lo2 = INT64_MAX;
        size_t lo1_sender = SIZE_MAX, groups = 0;
        for (size_t g = i; g < w_end;) {
            size_t g_end = g;
            while (g_end < w_end && smp[g_end].sender == smp[g].sender) g_end++;
            size_t m = g + (g_end - g) / 2;
            int64_t med = (g_end - g) % 2 ? smp[m].lat
                                          : smp[m - 1].lat + (smp[m].lat - smp[m - 1].lat) / 2;
            if (med < lo1) {
                lo2 = lo1;
                lo1 = med;
                lo1_sender = smp[g].sender;
            } else if (med < lo2) {
                lo2 = med;
            }
            smp[g].lat = med; /* the group's first sample keeps its median */
            groups++;
            g = g_end;
        }
        for (size_t g = i; groups > 1 && g < w_end;) {
            size_t g_end = g;
            while (g_end < w_end && smp[g_end].sender == smp[g].sender) g_end++;
            sender_t *s = &t->s[smp[g].sender];
            int64_t other = smp[g].sender == lo1_sender ? lo2 : lo1;
            if (!push_i64(&s->diff, &s->n_diff, &s->cap_diff, smp[g].lat - other)) return false;
            g = g_end;
        }
        i = w_end;
    }
    for (size_t k = 0; k < t->n; k++)
        if (t->s[k].n_diff) t->s[k].score = median_i64(t->s[k].diff, t->s[k].n_diff);
    return true;
}

/* floor_div is a / b rounded down (b > 0). */
static int64_t floor_div(int64_t a, int64_t b) {
    int64_t q = a / b;
    return a % b < 0 ? q - 1 : q;
}

/* unique_i64 sorts v and drops repeats; returns the new count. */
static size_t unique_i64(int64_t *v, size_t n) {
    if (!n) return 0;
    qsort(v, n, sizeof *v, cmp_i64);
    size_t k = 1;
    for (size_t i = 1; i < n; i++)
        if (v[i] != v[k - 1]) v[k++] = v[i];
    return k;
}

/* identify_own reads a V2X source: per sender its messages, which the log marks sent, its
 * source MACs, its generation times (kept in src->ev for the comparison across agents,
 * check_own_claims) and its latency score (window_scores). A log that marks what was sent
 * names the own station outright (OWN_MARKED). Otherwise the sender whose score is the lowest,
 * at least OWN_MARGIN_NS below every other's, is this capture's claim (OWN_CLAIMED): the agent's
 * own messages are logged right after they are made, received ones after the air latency. A
 * claim is only a candidate: a receive-only agent has no own messages, and its lowest-latency
 * neighbour looks the same from here; check_own_claims decides. Otherwise a note says why not. */
static void identify_own(ctx_t *c, source_t *src, const char *path, vxs_v2x_format_t fmt) {
    vxs_v2x_reader_t *r = NULL;
    vxs_v2x_reader_options_t o;
    diag_count_t dc = {0, "", false};
    vxs_diag_sink_t sink = {count_diag, &dc};
    senders_t *t = &src->ev;
    sample_t *smp = NULL;
    size_t n_smp = 0, cap_smp = 0;
    char err[512];
    bool logged_direction = false;
    uint64_t n = 0;
    memset(&o, 0, sizeof o);
    o.format = fmt;
    o.own_station_id = -1;
    o.diag = &sink;
    vxs_status_t st = vxs_v2x_reader_open(&r, path, &o, err, sizeof err);
    if (st == VXS_E_NOMEM) {
        c->oom = true;
        return;
    }
    if (st != VXS_OK) {
        note(c, "%s: own station not recognised (%s)", path, err);
        return;
    }
    const vxs_record_t *rec;
    while (n < V2X_MAX_MESSAGES && (st = vxs_v2x_reader_next(r, &rec)) == VXS_OK) {
        const vxs_v2x_msg_t *m = vxs_v2x_reader_msg(r);
        vxs_v2x_link_t link;
        n++;
        vxs_v2x_reader_link(r, &link);
        if (link.direction >= 0) logged_direction = true;
        if (m->station_id < 0) continue;
        sender_t *s = sender_get(t, (uint64_t)m->station_id);
        if (!s) {
            if (!t->full) c->oom = true;
            continue;
        }
        s->msgs++;
        if (link.direction == 0) s->sent++;
        if (link.has_mac) add_mac(s->macs, &s->n_macs, link.src_mac);
        if (rec->device_time == VXS_TIME_NONE) continue;
        if (!push_i64(&s->gen, &s->n_gen, &s->cap_gen, rec->device_time)) {
            c->oom = true;
            continue;
        }
        if (rec->capture_time == VXS_TIME_NONE) continue;
        s->timed = true;
        if (n_smp == cap_smp) {
            size_t nc = cap_smp ? cap_smp * 2 : 256;
            sample_t *ns = vxs_realloc(smp, nc * sizeof *ns);
            if (!ns) {
                c->oom = true;
                continue;
            }
            smp = ns;
            cap_smp = nc;
        }
        smp[n_smp].window = floor_div(rec->capture_time, 1000000000);
        smp[n_smp].lat = rec->capture_time - rec->device_time;
        smp[n_smp].sender = (size_t)(s - t->s);
        n_smp++;
    }
    vxs_v2x_reader_close(r);
    if (st == VXS_E_NOMEM || dc.nomem || c->oom || !window_scores(t, smp, n_smp)) {
        c->oom = true;
        vxs_free(smp);
        return;
    }
    vxs_free(smp);
    for (size_t i = 0; i < t->n; i++) {
        t->s[i].n_gen = unique_i64(t->s[i].gen, t->s[i].n_gen);
        vxs_free(t->s[i].diff);
        t->s[i].diff = NULL;
        t->s[i].cap_diff = 0;
    }
    if (n == V2X_MAX_MESSAGES)
        note(c, "%s: own identity judged from the first %d messages", path, V2X_MAX_MESSAGES);

    if (logged_direction) {
        /* The log says what was sent: the most frequent sender of sent records (BSM temporary
         * ids change every few minutes, so there may be several). */
        const sender_t *best = NULL;
        size_t senders_sent = 0;
        for (size_t i = 0; i < t->n; i++) {
            if (!t->s[i].sent) continue;
            senders_sent++;
            if (!best || t->s[i].sent > best->sent) best = &t->s[i];
        }
        if (!best)
            note(c, "%s: own station not recognised (the log marks no message as sent)", path);
        else if (best->id > UINT32_MAX)
            note(c, "%s: own station not recognised (id %" PRIu64 " out of range)", path,
                 best->id);
        else {
            src->own_by = OWN_MARKED;
            src->own_id = (uint32_t)best->id;
            if (senders_sent > 1)
                note(c, "%s: sent messages carry %zu ids; own_station_id is the most frequent, "
                        "%" PRIu64 " (%" PRIu64 " messages)",
                     path, senders_sent, best->id, best->sent);
        }
        return;
    }

    /* No direction in the log: the lowest latency score, clearly below the others'. */
    const sender_t *best = NULL;
    size_t timed = 0, scored = 0;
    for (size_t i = 0; i < t->n; i++) {
        const sender_t *s = &t->s[i];
        timed += s->timed;
        if (!s->n_diff) continue;
        scored++;
        if (!best || s->score < best->score) best = s;
    }
    const sender_t *only = NULL;
    for (size_t i = 0; i < t->n && !only; i++)
        if (t->s[i].timed) only = &t->s[i];
    if (!timed)
        note(c, "%s: own station not recognised (no message with both a capture and a "
                "generation time)", path);
    else if (timed < 2)
        note(c, "%s: own station not recognised (one sender only, %" PRIu64
                ": own or received cannot be told apart)", path, only->id);
    else if (!scored)
        note(c, "%s: own station not recognised (no second of the capture holds messages of two "
                "senders: their latencies cannot be compared)", path);
    else if (best->score < -OWN_MAX_GAP_NS)
        /* Air latency is milliseconds; a gap this large is the senders' clocks disagreeing (the
         * real Wyoming log: a neighbour's secMark 100 ms ahead of the agent's own), so the
         * lowest latency proves nothing. */
        note(c, "%s: own station not recognised (sender %" PRIu64 "'s latency is %.3f ms below "
                "the other senders': the senders' clocks disagree)",
             path, best->id, (double)-best->score / 1e6);
    else if (best->score > -OWN_MARGIN_NS)
        note(c, "%s: own station not recognised (the lowest latency, sender %" PRIu64 "'s, is "
                "%+.3f ms from the other senders' lowest, per second of the capture: not 0.2 ms "
                "below)", path, best->id, (double)best->score / 1e6);
    else if (best->msgs < OWN_MIN_MESSAGES)
        note(c, "%s: own station not recognised (sender %" PRIu64 " has the lowest latency but "
                "only %" PRIu64 " messages)", path, best->id, best->msgs);
    else if (best->id > UINT32_MAX)
        note(c, "%s: own station not recognised (id %" PRIu64 " out of range)", path, best->id);
    else {
        src->own_by = OWN_CLAIMED;
        src->own_id = (uint32_t)best->id;
        memcpy(src->own_macs, best->macs, sizeof src->own_macs);
        src->n_own_macs = best->n_macs;
    }
    if (t->full) note(c, "%s: more than %d senders; the others were not compared", path,
                      MAX_SENDERS);
}

/* compare_t is what two captures of other agents say about one sender's messages. */
typedef struct {
    bool conclusive; /* they share messages: enough to compare */
    uint64_t held;   /* messages of it the other capture holds within this capture's span */
    uint64_t lacks;  /* ... of those, messages this capture does not hold */
} compare_t;

/* compare_gens compares the generation times (sorted, unique) of one sender in capture A and
 * in another agent's capture Y, each within the other's span of them. A message is the same in
 * both (its times are decoded from its bytes); when fewer than half of the smaller set match,
 * the two resolved the sender's times apart (their clocks more than half a field's wrap apart)
 * and nothing can be said. */
static compare_t compare_gens(const sender_t *a, const sender_t *y) {
    compare_t r = {false, 0, 0};
    if (!a || !y || !a->n_gen || !y->n_gen) return r;
    const int64_t a0 = a->gen[0], a1 = a->gen[a->n_gen - 1];
    const int64_t y0 = y->gen[0], y1 = y->gen[y->n_gen - 1];
    uint64_t in_a = 0, in_y = 0, both = 0;
    for (size_t i = 0; i < a->n_gen; i++) in_a += a->gen[i] >= y0 && a->gen[i] <= y1;
    for (size_t j = 0; j < y->n_gen; j++) in_y += y->gen[j] >= a0 && y->gen[j] <= a1;
    for (size_t i = 0, j = 0; i < a->n_gen && j < y->n_gen;) {
        if (a->gen[i] < y->gen[j]) i++;
        else if (a->gen[i] > y->gen[j]) j++;
        else {
            both++;
            i++;
            j++;
        }
    }
    r.conclusive = both > 0 && both * 2 >= (in_a < in_y ? in_a : in_y);
    r.held = in_y;
    r.lacks = in_y - both;
    return r;
}

/* check_own_claims decides every claim identify_own made from latency alone, with what the
 * other agents' V2X sources recorded. A station transmits from one agent, whose capture holds
 * every message it sent; any other capture holds those it received, losses missing. So a claim
 * on station S stands only when:
 *   - no other agent's log marks S's messages as sent;
 *   - no other agent's capture holds a message of S, within this capture's span of them, that
 *     this capture lacks (a receiver misses some; an agent's capture of what it sent, none);
 *   - another agent's capture holds OWN_MIN_MESSAGES or more of them to compare with (with
 *     none, this capture alone cannot tell its own station from the neighbour it hears best:
 *     the key is left out, the conservative side);
 *   - no other agent's capture claims S and passes these too (both hold every message the other
 *     holds: which one sent it cannot be told).
 * Latency is never compared across agents: each capture's times carry its own clock's offset.
 * A claim that does not stand loses own_station_id and own_macs, with a note naming the file
 * and why. Sources of the same agent never count against each other. */
static void check_own_claims(ctx_t *c, agent_t *agents, size_t n_agents) {
    for (size_t ai = 0; ai < n_agents; ai++) {
        for (size_t si = 0; si < agents[ai].n_srcs; si++) {
            source_t *s = &agents[ai].srcs[si];
            if (s->own_by != OWN_CLAIMED) continue;
            const char *path = agents[ai].files[s->file].path;
            const sender_t *mine = sender_find(&s->ev, s->own_id);
            const char *marked_by = NULL, *lacks_in = NULL;
            uint64_t lacks = 0, held = 0;
            for (size_t bi = 0; bi < n_agents; bi++) {
                if (bi == ai) continue;
                for (size_t ti = 0; ti < agents[bi].n_srcs; ti++) {
                    const source_t *t = &agents[bi].srcs[ti];
                    const char *tpath = agents[bi].files[t->file].path;
                    if (t->kind != VXS_SOURCE_V2X) continue;
                    if (t->own_by == OWN_MARKED && t->own_id == s->own_id && !marked_by)
                        marked_by = tpath;
                    compare_t cmp = compare_gens(mine, sender_find(&t->ev, s->own_id));
                    if (!cmp.conclusive) continue;
                    if (cmp.held > held) held = cmp.held;
                    if (cmp.lacks > lacks) {
                        lacks = cmp.lacks;
                        lacks_in = tpath;
                    }
                }
            }
            if (marked_by)
                note(c, "%s: own station not recognised (sender %" PRIu32 " has the lowest "
                        "latency, but %s marks its messages as sent: this capture only received "
                        "them)", path, s->own_id, marked_by);
            else if (lacks)
                note(c, "%s: own station not recognised (sender %" PRIu32 " has the lowest "
                        "latency, but %s holds %" PRIu64 " of its messages this capture lacks: a "
                        "capture of what its agent sent misses none, so this one only received "
                        "them)", path, s->own_id, lacks_in, lacks);
            else if (held < OWN_MIN_MESSAGES)
                note(c, "%s: own station not recognised (sender %" PRIu32 " has the lowest "
                        "latency, but no other agent's capture holds %d of its messages to "
                        "compare with: sent from here or only received cannot be told apart)",
                     path, s->own_id, OWN_MIN_MESSAGES);
            else
                continue;
            s->own_by = OWN_REJECTED;
        }
    }
    /* Two captures that each passed for the same station: one of them only received it, and
     * nothing here tells which. */
    for (size_t ai = 0; ai < n_agents; ai++) {
        for (size_t si = 0; si < agents[ai].n_srcs; si++) {
            source_t *s = &agents[ai].srcs[si];
            if (s->own_by != OWN_CLAIMED) continue;
            const char *other = NULL;
            for (size_t bi = 0; bi < n_agents && !other; bi++) {
                for (size_t ti = 0; bi != ai && ti < agents[bi].n_srcs && !other; ti++) {
                    const source_t *t = &agents[bi].srcs[ti];
                    if ((t->own_by == OWN_CLAIMED || t->own_by == OWN_TIED) &&
                        t->own_id == s->own_id)
                        other = agents[bi].files[t->file].path;
                }
            }
            if (!other) continue;
            note(c, "%s: own station not recognised (sender %" PRIu32 " has the lowest latency "
                    "here and in %s, and neither capture lacks a message of it the other holds: "
                    "which agent sent it cannot be told)",
                 agents[ai].files[s->file].path, s->own_id, other);
            s->own_by = OWN_TIED;
        }
    }
}

/* probe_v2x_log says whether the V2X reader reads `path` as a log (Wyoming or hex): at least one
 * message and no error in the first few. Out of memory sets c->oom. */
static bool probe_v2x_log(ctx_t *c, vxs_v2x_format_t *out_fmt, const char *path, char *why,
                          size_t why_len) {
    vxs_v2x_reader_t *r = NULL;
    vxs_v2x_reader_options_t o;
    diag_count_t dc = {0, "", false};
    vxs_diag_sink_t sink = {count_diag, &dc};
    memset(&o, 0, sizeof o);
    o.format = VXS_V2X_FMT_AUTO;
    o.own_station_id = -1;
    o.diag = &sink;
    vxs_status_t st = vxs_v2x_reader_open(&r, path, &o, why, why_len);
    if (st != VXS_OK) {
        c->oom |= st == VXS_E_NOMEM;
        return false;
    }
    const vxs_record_t *rec;
    int got = 0;
    while (got < V2X_PROBE_MESSAGES && (st = vxs_v2x_reader_next(r, &rec)) == VXS_OK) got++;
    vxs_v2x_counts_t counts;
    vxs_v2x_reader_counts(r, &counts);
    *out_fmt = vxs_v2x_reader_format(r);
    bool ok = got > 0 && dc.count == 0 && counts.bad == 0 && (st == VXS_OK || st == VXS_EOF) &&
              (*out_fmt == VXS_V2X_FMT_WYDOT || *out_fmt == VXS_V2X_FMT_HEX);
    if (!ok) {
        if (dc.count) snprintf(why, why_len, "%s", dc.first);
        else if (st != VXS_OK && st != VXS_EOF)
            snprintf(why, why_len, "%s", vxs_v2x_reader_errmsg(r));
        else snprintf(why, why_len, "no V2X message in it");
    }
    vxs_v2x_reader_close(r);
    c->oom |= st == VXS_E_NOMEM || dc.nomem;
    return ok;
}

/* ---- per file -------------------------------------------------------------------------------- */

static void do_capture(ctx_t *c, agent_t *a, size_t fi) {
    file_t *f = &a->files[fi];
    capture_scan_t sc;
    char err[512];
    vxs_status_t st = scan_capture(&sc, f->path, err, sizeof err);
    if (st == VXS_E_NOMEM) {
        c->oom = true;
        return;
    }
    if (st != VXS_OK) {
        f->role = ROLE_SKIPPED;
        skip(c, f->path, "unrecognised", "%s", err);
        return;
    }
    if (!sc.velo_data && !sc.ouster && !sc.gn && !sc.wsmp) {
        f->role = ROLE_SKIPPED;
        skip(c, f->path, "unrecognised",
             "a capture, but none of its first %" PRIu64 " packets is Velodyne, Ouster, "
             "GeoNetworking or WSMP", sc.packets);
        return;
    }
    if (sc.velo_data) {
        source_t *s = add_source(c, a, fi, VXS_SOURCE_LIDAR);
        if (!s) return;
        s->velodyne = true;
        const char *model = vxs_velodyne_product_name(sc.velo_product);
        if (strcmp(model, "unknown") != 0) snprintf(s->model, sizeof s->model, "%s", model);
        else note(c, "%s: unknown Velodyne product byte 0x%02x; add \"model\" by hand", f->path,
                  sc.velo_product);
        if (sc.velo_mixed)
            note(c, "%s: Velodyne data packets with different product bytes (HDL-64E status "
                    "bytes?); check \"model\"", f->path);
        s->lasers = vxs_velo_model_lasers(vxs_velo_model_from_product(sc.velo_product));
        /* Most, not all: a receiver still synchronizing (PPS 1) in the first seconds of a
         * locked drive should not make the whole recording free-running. */
        s->gps_locked = sc.velo_pos > 0 && sc.velo_pos_locked * 2 > sc.velo_pos;
    }
    if (sc.ouster) {
        source_t *s = add_source(c, a, fi, VXS_SOURCE_LIDAR);
        if (!s) return;
        s->ouster = true;
        s->ouster_payload = sc.ouster_payload;
        s->ouster_port = sc.ouster_port;
    }
    if (sc.gn || sc.wsmp) {
        source_t *s = add_source(c, a, fi, VXS_SOURCE_V2X);
        if (!s) return;
        s->format = VXS_V2X_FMT_PCAP;
        identify_own(c, s, f->path, VXS_V2X_FMT_PCAP);
    }
}

static void do_video(ctx_t *c, agent_t *a, size_t fi) {
    vxs_video_info_t vi;
    char err[512] = "";
    file_t *f = &a->files[fi];
    vxs_status_t st = vxs_video_probe(&vi, f->path, NULL, NULL, err, sizeof err);
    if (st == VXS_E_NOMEM) {
        c->oom = true;
        return;
    }
    if (st == VXS_E_UNSUPPORTED || st == VXS_E_IO) {
        f->role = ROLE_SKIPPED;
        skip(c, f->path, "unrecognised", "%s", err);
        return;
    }
    if (st != VXS_OK)
        note(c, "%s: the video is damaged (%s); the camera reader reads the frames before",
             f->path, err);
    source_t *s = add_source(c, a, fi, VXS_SOURCE_CAMERA);
    if (!s) return;
    bool has_creation = vi.creation_time != VXS_TIME_NONE;
    /* Sidecars under the names rigs give them, the exact stem's first (the project's own
     * name, then the others), the folder's timestamps.txt (KITTI) last; each read as the camera
     * reader reads it. The first with one line per frame is taken; one more that fits is noted
     * and left out, so the choice never depends on anything but this order. */
    static const struct {
        bool stem;
        const char *suffix;
    } names[] = {{true, ".timestamps"},      {true, ".timestamps.txt"}, {true, "_timestamps.txt"},
                 {true, ".txt"},             {true, ".csv"},            {false, "timestamps.txt"}};
    int sl = (int)stem_len(f->name);
    for (size_t k = 0; k < sizeof names / sizeof names[0]; k++) {
        char *cand = names[k].stem ? vxsi_strfmt("%.*s%s", sl, f->name, names[k].suffix)
                                   : vxs_strdup(names[k].suffix);
        if (!cand) {
            c->oom = true;
            return;
        }
        long ti = find_file(a, cand);
        vxs_free(cand);
        if (ti < 0 || (size_t)ti == fi) continue;
        file_t *tf = &a->files[ti];
        if (tf->role != ROLE_NONE || tf->kind != VXS_FILE_UNKNOWN) continue;
        struct stat sb;
        if (stat(tf->path, &sb) != 0 || (uint64_t)sb.st_size > SIDE_FILE_MAX) continue;
        uint64_t lines = 0;
        char why[512];
        vxs_status_t cst = vxs_camera_sidecar_count(&lines, tf->path, VXS_CAM_UNIT_AUTO, why,
                                                    sizeof why);
        if (cst == VXS_E_NOMEM) {
            c->oom = true;
            return;
        }
        if (cst != VXS_OK) {
            /* Not a sidecar: it may still be another recording; do_other says why if not. */
            if (s->timestamps < 0 && !tf->sidecar_bad &&
                !(tf->sidecar_bad = vxsi_strfmt("as the timestamps of the video %s: %s", f->name,
                                                why)))
                c->oom = true;
            continue;
        }
        if (lines == vi.packets && s->timestamps < 0) {
            s->timestamps = ti;
            tf->role = ROLE_ATTACHED;
            vxs_free(tf->sidecar_note);
            tf->sidecar_note = NULL;
        } else if (lines == vi.packets) {
            const char *used = a->files[s->timestamps].name;
            note(c, "%s: %" PRIu64 " timestamp lines, one per frame of %s too, but %s comes first "
                    "(exact-stem names, then timestamps.txt) and is used",
                 tf->path, lines, f->path, used);
            vxs_free(tf->sidecar_note);
            if (!(tf->sidecar_note = vxsi_strfmt("one line per frame of the video %s, whose "
                                                 "timestamps are %s", f->name, used)))
                c->oom = true;
        } else if (s->timestamps < 0) {
            note(c, "%s: %" PRIu64 " timestamp lines, but %s has %" PRIu64 " frames: not used as "
                    "its timestamps", tf->path, lines, f->path, vi.packets);
            if (!tf->sidecar_note &&
                !(tf->sidecar_note = vxsi_strfmt("%" PRIu64 " timestamp lines, but the video %s "
                                                 "has %" PRIu64 " frames", lines, f->name,
                                                 vi.packets)))
                c->oom = true;
        }
    }
    if (s->timestamps < 0 && !has_creation)
        note(c, "%s: no timestamps sidecar and no creation_time: frames have no absolute time "
                "until you add clock.offset_ns", f->path);
}

/* do_other tries a file that is neither a capture nor a video: Ouster metadata, Velodyne
 * calibration, V2X log, in that order. */
static void do_other(ctx_t *c, agent_t *a, size_t fi) {
    file_t *f = &a->files[fi];
    struct stat sb;
    char why[512] = "";
    if (f->sidecar_note) {
        f->role = ROLE_SKIPPED;
        skip(c, f->path, "unrecognised", "%s", f->sidecar_note);
        return;
    }
    if (stat(f->path, &sb) == 0 && sb.st_size == 0) {
        f->role = ROLE_SKIPPED;
        skip(c, f->path, "unrecognised", "empty file");
        return;
    }
    if (stat(f->path, &sb) == 0 && (uint64_t)sb.st_size <= SIDE_FILE_MAX) {
        vxs_ouster_meta_t *m = NULL;
        vxs_status_t st = vxs_ouster_meta_load(&m, f->path, why, sizeof why);
        if (st == VXS_OK) {
            vxs_ouster_meta_get_info(m, &f->ouster);
            vxs_ouster_meta_destroy(m);
            f->role = ROLE_OUSTER_META;
            return;
        }
        vxs_velo_calib_t *cal = NULL;
        if (st == VXS_E_NOMEM || !(cal = vxs_malloc(sizeof *cal))) {
            c->oom = true;
            return;
        }
        st = vxs_velo_calib_load(cal, f->path, why, sizeof why);
        int lasers = cal->num_lasers;
        vxs_free(cal);
        if (st == VXS_E_NOMEM) {
            c->oom = true;
            return;
        }
        if (st == VXS_OK) {
            f->calib_lasers = lasers;
            f->role = ROLE_VELO_CALIB;
            return;
        }
    }
    vxs_v2x_format_t fmt = VXS_V2X_FMT_AUTO;
    if (probe_v2x_log(c, &fmt, f->path, why, sizeof why)) {
        source_t *s = add_source(c, a, fi, VXS_SOURCE_V2X);
        if (!s) return;
        s->format = fmt;
        identify_own(c, s, f->path, fmt);
        return;
    }
    if (c->oom) return;
    f->role = ROLE_SKIPPED;
    if (f->sidecar_bad)
        skip(c, f->path, "unrecognised",
             "%s; not a capture, a video, a V2X log, a Velodyne calibration or Ouster metadata "
             "either", f->sidecar_bad);
    else
        skip(c, f->path, "unrecognised",
             "not a capture, a video, a V2X log, a Velodyne calibration or Ouster metadata; as a "
             "V2X log: %s", why);
}

/* attach_side_files gives Ouster metadata and Velodyne calibrations to the lidar they fit. */
static void attach_side_files(ctx_t *c, agent_t *a) {
    /* Ouster: <same stem>.json first, then any metadata whose packet size and port fit. */
    for (size_t i = 0; i < a->n_srcs; i++) {
        source_t *s = &a->srcs[i];
        if (!s->ouster) continue;
        const char *pn = a->files[s->file].name;
        char *json = vxsi_strfmt("%.*s.json", (int)stem_len(pn), pn);
        if (!json) {
            c->oom = true;
            return;
        }
        long mi = find_file(a, json);
        vxs_free(json);
        if (mi >= 0 && a->files[mi].role != ROLE_OUSTER_META) mi = -1;
        for (size_t k = 0; mi < 0 && k < a->n_files; k++) {
            const file_t *mf = &a->files[k];
            if (mf->role != ROLE_OUSTER_META) continue;
            if (mf->ouster.lidar_packet_size && s->ouster_payload &&
                mf->ouster.lidar_packet_size != s->ouster_payload)
                continue;
            if (mf->ouster.udp_port_lidar && s->ouster_port &&
                mf->ouster.udp_port_lidar != s->ouster_port)
                continue;
            mi = (long)k;
        }
        if (mi < 0) {
            note(c, "%s: Ouster capture without metadata in its folder; add \"metadata\" by "
                    "hand (the lidar reader needs it)", a->files[s->file].path);
            continue;
        }
        s->metadata = mi;
        a->files[mi].role = ROLE_ATTACHED;
        if (a->files[mi].ouster.prod_line[0])
            snprintf(s->model, sizeof s->model, "%s", a->files[mi].ouster.prod_line);
    }
    for (size_t k = 0; k < a->n_files; k++) {
        file_t *f = &a->files[k];
        if (f->role == ROLE_OUSTER_META) {
            f->role = ROLE_SKIPPED;
            skip(c, f->path, "unused", "Ouster metadata that fits no Ouster capture in its folder");
        } else if (f->role == ROLE_VELO_CALIB) {
            source_t *best = NULL;
            for (size_t i = 0; i < a->n_srcs && !best; i++) {
                source_t *s = &a->srcs[i];
                if (s->velodyne && s->calibration < 0 &&
                    (s->lasers == 0 || s->lasers == f->calib_lasers))
                    best = s;
            }
            if (!best) {
                f->role = ROLE_SKIPPED;
                skip(c, f->path, "unused",
                     "Velodyne calibration of %d lasers, but no Velodyne capture in its folder "
                     "needs one", f->calib_lasers);
                continue;
            }
            best->calibration = (long)k;
            f->role = ROLE_ATTACHED;
        }
    }
}

/* scan_agent reads one agent folder. */
static vxs_status_t scan_agent(ctx_t *c, agent_t *a) {
    char **names = NULL;
    size_t n = 0;
    char *apath = vxsi_strfmt("%s/%s", c->dir, a->dir);
    if (!apath) return VXS_E_NOMEM;
    vxs_status_t st = list_dir(&names, &n, apath);
    if (st == VXS_E_IO) {
        skip(c, apath, "unreadable", "%s", strerror(errno));
        vxs_free(apath);
        return VXS_OK;
    }
    if (st != VXS_OK) {
        vxs_free(apath);
        return st;
    }
    a->files = vxs_calloc(n ? n : 1, sizeof *a->files);
    if (!a->files) {
        free_names(names, n);
        vxs_free(apath);
        return VXS_E_NOMEM;
    }
    for (size_t i = 0; i < n; i++) {
        file_t *f = &a->files[a->n_files];
        char *path = vxsi_strfmt("%s/%s", apath, names[i]);
        struct stat sb;
        if (!path) {
            st = VXS_E_NOMEM;
            break;
        }
        if (names[i][0] == '.') {
            skip(c, path, "hidden", NULL);
            vxs_free(path);
        } else if (stat(path, &sb) != 0) {
            skip(c, path, "unreadable", "%s", strerror(errno));
            vxs_free(path);
        } else if (S_ISDIR(sb.st_mode)) {
            skip(c, path, "a folder inside an agent folder", "only the files directly in an "
                                                             "agent folder are read");
            vxs_free(path);
        } else if (!S_ISREG(sb.st_mode)) {
            skip(c, path, "not a regular file", NULL);
            vxs_free(path);
        } else {
            f->name = names[i];
            f->path = path;
            names[i] = NULL;
            a->n_files++;
        }
    }
    free_names(names, n);
    vxs_free(apath);
    if (st != VXS_OK) return st;

    /* Recordings first, so the side files can be matched to them; every file's kind is known
     * before a video looks for its sidecar, so a capture is never counted as one. */
    for (size_t i = 0; i < a->n_files; i++) {
        file_t *f = &a->files[i];
        char err[512];
        vxs_status_t dst = vxs_detect_file(&f->kind, f->path, err, sizeof err);
        if (dst == VXS_E_NOMEM) return VXS_E_NOMEM;
        if (dst != VXS_OK) {
            f->role = ROLE_SKIPPED;
            skip(c, f->path, "unreadable", "%s", err);
        } else if (f->kind == VXS_FILE_PCAP || f->kind == VXS_FILE_PCAPNG) {
            do_capture(c, a, i);
        }
    }
    for (size_t i = 0; i < a->n_files; i++)
        if (a->files[i].role == ROLE_NONE && a->files[i].kind == VXS_FILE_VIDEO) do_video(c, a, i);
    for (size_t i = 0; i < a->n_files; i++)
        if (a->files[i].role == ROLE_NONE) do_other(c, a, i);
    attach_side_files(c, a);
    return c->oom ? VXS_E_NOMEM : VXS_OK;
}

/* sort_sources puts an agent's sources in file order (stable: a capture's lidar before its v2x),
 * whatever pass found them. */
static void sort_sources(agent_t *a) {
    for (size_t i = 1; i < a->n_srcs; i++) {
        source_t tmp = a->srcs[i];
        size_t j = i;
        for (; j > 0 && a->srcs[j - 1].file > tmp.file; j--) a->srcs[j] = a->srcs[j - 1];
        a->srcs[j] = tmp;
    }
}

static void agent_free(agent_t *a) {
    for (size_t i = 0; i < a->n_files; i++) {
        vxs_free(a->files[i].name);
        vxs_free(a->files[i].path);
        vxs_free(a->files[i].sidecar_note);
        vxs_free(a->files[i].sidecar_bad);
    }
    vxs_free(a->files);
    for (size_t i = 0; i < a->n_srcs; i++) senders_free(&a->srcs[i].ev);
    vxs_free(a->srcs);
    vxs_free(a->dir);
}
/* ---- the draft ------------------------------------------------------------------------------- */

/* rel_path returns "<agent folder>/<file>" of the agent's file `fi` (vxs_malloc'd), NULL for -1. */
static char *rel_path(ctx_t *c, const agent_t *a, long fi) {
    if (fi < 0) return NULL;
    char *p = vxsi_strfmt("%s/%s", a->dir, a->files[fi].name);
    if (!p) c->oom = true;
    return p;
}

/* draft_source copies what the scan found about `s` into the public form. */
static void draft_source(ctx_t *c, vxs_draft_source_t *out, const agent_t *a, const source_t *s) {
    out->kind = s->kind;
    out->path = rel_path(c, a, (long)s->file);
    if (s->model[0] && !(out->model = vxs_strdup(s->model))) c->oom = true;
    out->calibration = rel_path(c, a, s->calibration);
    out->metadata = rel_path(c, a, s->metadata);
    out->timestamps = rel_path(c, a, s->timestamps);
    out->has_gps_locked = s->velodyne;
    out->gps_locked = s->gps_locked;
    out->v2x_format = (vxs_manifest_v2x_format_t)s->format;
    bool own = s->own_by == OWN_MARKED || s->own_by == OWN_CLAIMED;
    out->has_own_station_id = own;
    out->own_station_id = own ? s->own_id : 0;
    if (own) memcpy(out->own_macs, s->own_macs, sizeof out->own_macs);
    out->n_own_macs = own ? s->n_own_macs : 0;
}

/* make_draft turns the agents with at least one source into *out. */
static vxs_status_t make_draft(ctx_t *c, vxs_manifest_draft_t **out, const char *dir_real,
                               const agent_t *agents, size_t n_agents, size_t n_with_src) {
    vxs_manifest_draft_t *d = vxs_calloc(1, sizeof *d);
    if (!d) return VXS_E_NOMEM;
    const char *base = strrchr(dir_real, '/');
    d->name = vxs_strdup(base && base[1] ? base + 1 : dir_real);
    d->dir_real = vxs_strdup(dir_real);
    d->agents = vxs_calloc(n_with_src, sizeof *d->agents);
    if (!d->name || !d->dir_real || !d->agents) c->oom = true;
    for (size_t i = 0; i < n_agents && !c->oom; i++) {
        const agent_t *a = &agents[i];
        if (!a->n_srcs) continue;
        vxs_draft_agent_t *da = &d->agents[d->n_agents++];
        da->type = a->type;
        da->id = vxs_strdup(a->id);
        da->sources = vxs_calloc(a->n_srcs, sizeof *da->sources);
        if (!da->id || !da->sources) {
            c->oom = true;
            break;
        }
        da->n_sources = a->n_srcs;
        for (size_t k = 0; k < a->n_srcs; k++) draft_source(c, &da->sources[k], a, &a->srcs[k]);
    }
    if (c->oom) {
        vxs_manifest_draft_free(d);
        return VXS_E_NOMEM;
    }
    *out = d;
    return VXS_OK;
}

/* add_agent takes the folder `name` (which it owns from now on) as the next agent: its type
 * guessed and its id sanitized, made unique when two folder names sanitize alike ("a b",
 * "a_b"). */
static void add_agent(agent_t *agents, size_t *n_agents, char *name) {
    agent_t *a = &agents[(*n_agents)++];
    a->dir = name;
    a->type = guess_type(a->dir);
    sanitize_id(a->id, sizeof a->id, a->dir);
    for (unsigned k = 2;; k++) {
        bool dup = false;
        for (size_t j = 0; j + 1 < *n_agents; j++) dup |= strcmp(agents[j].id, a->id) == 0;
        if (!dup) break;
        char base[54]; /* room for "_<k>" within 64 characters */
        sanitize_id(base, sizeof base, a->dir);
        snprintf(a->id, sizeof a->id, "%s_%u", base, k);
    }
}

vxs_status_t vxs_draft_scan(vxs_manifest_draft_t **out, const char *dir,
                            const vxs_draft_report_t *report, char *err, size_t err_len) {
    ctx_t c = {NULL, report, false};
    char dir_real[PATH_MAX];
    char *dir_copy = NULL, **names = NULL;
    size_t n = 0, n_agents = 0, n_with_src = 0;
    agent_t *agents = NULL;
    vxs_status_t st = VXS_E_NOMEM;
    struct stat sb;
    if (err && err_len) err[0] = '\0';
    if (!out || !dir) return VXS_E_ARG;
    *out = NULL;
    /* "drive/" and "drive" name the same folder: keep paths free of "drive//ego" */
    if (!(dir_copy = vxs_strdup(dir))) goto end;
    for (size_t dl = strlen(dir_copy); dl > 1 && dir_copy[dl - 1] == '/'; dl--)
        dir_copy[dl - 1] = '\0';
    c.dir = dir_copy;
    if (stat(c.dir, &sb) != 0 || !realpath(c.dir, dir_real)) {
        vxsi_fmt(err, err_len, "%s: %s", c.dir, strerror(errno));
        st = VXS_E_IO;
        goto end;
    }
    if (!S_ISDIR(sb.st_mode)) {
        vxsi_fmt(err, err_len, "%s: not a folder (DIR holds one subfolder per agent)", c.dir);
        st = VXS_E_IO;
        goto end;
    }
    if ((st = list_dir(&names, &n, c.dir)) != VXS_OK) {
        if (st == VXS_E_IO) vxsi_fmt(err, err_len, "%s: %s", c.dir, strerror(errno));
        goto end;
    }
    st = VXS_E_NOMEM;
    if (!(agents = vxs_calloc(n ? n : 1, sizeof *agents))) goto end;
    for (size_t i = 0; i < n; i++) {
        char *path = vxsi_strfmt("%s/%s", c.dir, names[i]);
        if (!path) goto end;
        if (names[i][0] == '.') {
            skip(&c, path, "hidden", NULL);
        } else if (stat(path, &sb) != 0) {
            skip(&c, path, "unreadable", "%s", strerror(errno));
        } else if (!S_ISDIR(sb.st_mode)) {
            skip(&c, path, "not in an agent folder", NULL);
        } else if (n_agents == VXS_MANIFEST_MAX_AGENTS) {
            skip(&c, path, "too many agents", "a manifest holds at most %d",
                 VXS_MANIFEST_MAX_AGENTS);
        } else {
            add_agent(agents, &n_agents, names[i]);
            names[i] = NULL;
        }
        vxs_free(path);
        if (c.oom) goto end;
    }
    if (n_agents == 0) {
        vxsi_fmt(err, err_len, "%s has no agent folder (DIR holds one subfolder per agent, named "
                               "after it)", c.dir);
        st = VXS_E_NOTFOUND;
        goto end;
    }
    for (size_t i = 0; i < n_agents; i++) {
        if (scan_agent(&c, &agents[i]) != VXS_OK) goto end;
        sort_sources(&agents[i]);
        if (agents[i].n_srcs) n_with_src++;
        else note(&c, "%s/%s: no recognised recording; the agent is left out", c.dir,
                  agents[i].dir);
        if (c.oom) goto end;
    }
    check_own_claims(&c, agents, n_agents);
    if (c.oom) goto end;
    if (n_with_src == 0) {
        vxsi_fmt(err, err_len, "no recognised recording in %s", c.dir);
        st = VXS_E_UNSUPPORTED;
        goto end;
    }
    st = make_draft(&c, out, dir_real, agents, n_agents, n_with_src);
end:
    if (st == VXS_E_NOMEM) vxsi_fmt(err, err_len, "out of memory");
    for (size_t i = 0; i < n_agents; i++) agent_free(&agents[i]);
    vxs_free(agents);
    free_names(names, n);
    vxs_free(dir_copy);
    return st;
}
