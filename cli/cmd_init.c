/*
 * cmd_init.c: `v2xsync init DIR` drafts a scenario manifest (core/vxs_manifest.h) from a folder
 * with one subfolder per agent. Every file is recognised by its content through the library
 * (capture classification, video probe, V2X reader, calibration and metadata loaders); this file
 * walks the folders, matches side files to recordings, guesses each V2X log's own identity from
 * its timing, and writes the JSON. DIR is only ever read: input folders are read-only by policy.
 */
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "vxs_lidar.h"
#include "vxs_manifest.h"
#include "vxs_sensors.h"
#include "vxs_v2x.h"

enum { OPT_OUT = 1, OPT_FORCE, OPT_JSON, OPT_QUIET };

#define CLASSIFY_PACKETS 2000      /* capture packets classified to decide what a capture is */
#define V2X_PROBE_MESSAGES 8       /* messages a log must yield cleanly to count as V2X */
#define V2X_MAX_MESSAGES 200000    /* messages read for the own-identity vote (bounded memory) */
#define MAX_SENDERS 4096           /* senders tracked per V2X source; later ones are ignored */
#define OWN_MARGIN_NS 500000       /* own median latency below every other sender's by 0.5 ms */
#define OWN_MIN_MESSAGES 10        /* ... and at least this many messages from it */
#define OWN_MAX_GAP_NS 50000000   /* ... but not by more than 50 ms (that is clock offset) */
#define MAX_OWN_MACS 4
#define SIDE_FILE_MAX (64u << 20)  /* larger files are not tried as calibration or sidecar */

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
    "  video           a camera source; <stem>.timestamps, <stem>.txt or timestamps.txt in\n"
    "                  the same folder becomes its \"timestamps\" when its line count equals\n"
    "                  the video's frame count (otherwise a note says why it was not used).\n"
    "  V2X logs        Wyoming OBU binary logs and hex text logs that the V2X reader reads\n"
    "                  without error -> a v2x source with format \"wydot\" or \"hex\".\n"
    "  Velodyne calibration (YAML, XML) and Ouster metadata (JSON) are attached to the\n"
    "  capture they fit, not sources. Anything else is listed as unrecognised, with why.\n\n"
    "Sensor ids are unique within an agent: lidar, lidar2, ..., camera, ..., v2x, ....\n"
    "V2X own identity: the agent's own messages are logged right after they are made,\n"
    "received ones after the air latency. Per sender, the median of (capture time - the\n"
    "message's generation time) is taken; a sender whose median is below every other\n"
    "sender's by at least 0.5 ms (but by no more than 50 ms: more is the senders' clocks\n"
    "disagreeing, not air latency) and that sent 10 messages or more is the agent itself:\n"
    "own_station_id and own_macs (its source MACs). One sender alone is not enough. A log\n"
    "that marks what was sent (Wyoming) gives own_station_id directly. Otherwise a note\n"
    "says \"own station not recognised\".\n"
    "Agent \"type\" is a guess from the folder name: rsu if it contains \"rsu\", vru if it\n"
    "contains phone, ped, vru or bike, else vehicle. Edit it, and add extrinsics and clock\n"
    "offsets you know. \"reference\" is the first agent with a lidar, and that lidar.\n\n"
    "Output: the manifest (2-space JSON, validated by the manifest parser before it is\n"
    "handed out). Without -o it goes to stdout with paths relative to DIR; with -o FILE,\n"
    "paths are relative to FILE's folder when the files are below it, else absolute.\n"
    "FILE is written as FILE.tmp, checked, then renamed; an existing FILE is kept unless\n"
    "--force. Nothing is ever written into DIR. --json prints {\"manifest\": ..., \"skipped\":\n"
    "[{\"path\", \"reason\"}...], \"notes\": [...]} instead (the manifest still goes to FILE).\n\n"
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
} file_t;

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
    bool has_own;
    uint32_t own_id;
    uint8_t own_macs[MAX_OWN_MACS][6];
    size_t n_own_macs;
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
    const init_opts_t *opt;
    const char *dir;          /* as given */
    char dir_real[PATH_MAX];  /* realpath of DIR */
    char out_real[PATH_MAX];  /* realpath of -o FILE's folder ("" without -o) */
    json_t *skipped, *notes;
    bool oom;
} ctx_t;

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

/* ---- small helpers --------------------------------------------------------------------------- */

static char *str_vfmt(const char *fmt, va_list ap) __attribute__((format(printf, 1, 0)));
static char *str_vfmt(const char *fmt, va_list ap) {
    va_list ap2;
    va_copy(ap2, ap);
    int n = vsnprintf(NULL, 0, fmt, ap2);
    va_end(ap2);
    if (n < 0) return NULL;
    char *s = vxs_malloc((size_t)n + 1);
    if (s) vsnprintf(s, (size_t)n + 1, fmt, ap);
    return s;
}

/* str_fmt returns a vxs_malloc'd formatted string (NULL when out of memory). */
static char *str_fmt(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static char *str_fmt(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    char *s = str_vfmt(fmt, ap);
    va_end(ap);
    return s;
}

/* skip lists `path` as skipped: "PATH: WHAT, skipped (DETAIL)" on stderr, and
 * {"path", "reason": "WHAT: DETAIL"} in the JSON report. */
static void skip(ctx_t *c, const char *path, const char *what, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void skip(ctx_t *c, const char *path, const char *what, const char *fmt, ...) {
    char *detail = NULL;
    if (fmt) {
        va_list ap;
        va_start(ap, fmt);
        detail = str_vfmt(fmt, ap);
        va_end(ap);
    }
    if (!c->opt->quiet)
        fprintf(stderr, "v2xsync init: %s: %s, skipped%s%s%s\n", path, what, detail ? " (" : "",
                detail ? detail : "", detail ? ")" : "");
    json_t *reason = detail ? json_sprintf("%s: %s", what, detail) : json_string(what);
    json_array_append_new(c->skipped, json_pack("{s:s,s:o}", "path", path, "reason", reason));
    vxs_free(detail);
}

/* note records something the user should look at (stderr and the JSON report's "notes"). */
static void note(ctx_t *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void note(ctx_t *c, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    char *s = str_vfmt(fmt, ap);
    va_end(ap);
    if (!s) {
        c->oom = true;
        return;
    }
    if (!c->opt->quiet) fprintf(stderr, "v2xsync init: note: %s\n", s);
    json_array_append_new(c->notes, json_string(s));
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
} diag_count_t;

static void count_diag(void *user, const vxs_diag_t *d) {
    diag_count_t *dc = user;
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
    diag_count_t dc = {0, ""};
    vxs_diag_sink_t sink = {count_diag, &dc};
    memset(out, 0, sizeof *out);
    vxs_status_t st = vxs_pcap_open_file(&p, path, NULL, &sink, err, err_len);
    if (st != VXS_OK) return st;
    const vxs_packet_t *pkt;
    while (out->packets < CLASSIFY_PACKETS && vxs_pcap_next(p, &pkt) == VXS_OK) {
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
    return VXS_OK;
}

/* ---- V2X own identity ------------------------------------------------------------------------ */

typedef struct {
    uint64_t id;
    uint64_t msgs; /* messages from it */
    uint64_t sent; /* of those, marked sent by the log */
    int64_t *lat;  /* capture_time - device_time of its messages with both, ns */
    size_t n_lat, cap_lat;
    uint8_t macs[MAX_OWN_MACS][6];
    size_t n_macs;
} sender_t;

typedef struct {
    sender_t *s;
    size_t n, cap, last;
    bool full;
} senders_t;

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

static void senders_free(senders_t *t) {
    for (size_t i = 0; i < t->n; i++) vxs_free(t->s[i].lat);
    vxs_free(t->s);
}

static int cmp_i64(const void *a, const void *b) {
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

/* median_ns sorts the sender's latencies and returns their median. */
static int64_t median_ns(sender_t *s) {
    qsort(s->lat, s->n_lat, sizeof *s->lat, cmp_i64);
    size_t m = s->n_lat / 2;
    if (s->n_lat % 2) return s->lat[m];
    return s->lat[m - 1] + (s->lat[m] - s->lat[m - 1]) / 2;
}

static void add_mac(uint8_t (*macs)[6], size_t *n, const uint8_t mac[6]) {
    for (size_t i = 0; i < *n; i++)
        if (memcmp(macs[i], mac, 6) == 0) return;
    if (*n < MAX_OWN_MACS) memcpy(macs[(*n)++], mac, 6);
}

/* identify_own reads a V2X source and fills its own_station_id / own_macs when it can tell which
 * sender is the recording agent; otherwise a note says why not. */
static void identify_own(ctx_t *c, source_t *src, const char *path, vxs_v2x_format_t fmt) {
    vxs_v2x_reader_t *r = NULL;
    vxs_v2x_reader_options_t o;
    diag_count_t dc = {0, ""};
    vxs_diag_sink_t sink = {count_diag, &dc};
    senders_t t;
    char err[512];
    bool logged_direction = false;
    uint64_t n = 0;
    memset(&o, 0, sizeof o);
    memset(&t, 0, sizeof t);
    o.format = fmt;
    o.own_station_id = -1;
    o.diag = &sink;
    if (vxs_v2x_reader_open(&r, path, &o, err, sizeof err) != VXS_OK) {
        note(c, "%s: own station not recognised (%s)", path, err);
        return;
    }
    const vxs_record_t *rec;
    vxs_status_t st;
    while (n < V2X_MAX_MESSAGES && (st = vxs_v2x_reader_next(r, &rec)) == VXS_OK) {
        const vxs_v2x_msg_t *m = vxs_v2x_reader_msg(r);
        vxs_v2x_link_t link;
        n++;
        vxs_v2x_reader_link(r, &link);
        if (link.direction >= 0) logged_direction = true;
        if (m->station_id < 0) continue;
        sender_t *s = sender_get(&t, (uint64_t)m->station_id);
        if (!s) {
            if (!t.full) c->oom = true;
            continue;
        }
        s->msgs++;
        if (link.direction == 0) s->sent++;
        if (link.has_mac) add_mac(s->macs, &s->n_macs, link.src_mac);
        if (rec->capture_time != VXS_TIME_NONE && rec->device_time != VXS_TIME_NONE) {
            if (s->n_lat == s->cap_lat) {
                size_t nc = s->cap_lat ? s->cap_lat * 2 : 64;
                int64_t *nl = vxs_realloc(s->lat, nc * sizeof *nl);
                if (!nl) {
                    c->oom = true;
                    continue;
                }
                s->lat = nl;
                s->cap_lat = nc;
            }
            s->lat[s->n_lat++] = rec->capture_time - rec->device_time;
        }
    }
    vxs_v2x_reader_close(r);
    if (n == V2X_MAX_MESSAGES)
        note(c, "%s: own identity judged from the first %d messages", path, V2X_MAX_MESSAGES);

    if (logged_direction) {
        /* The log says what was sent: the most frequent sender of sent records (BSM temporary
         * ids change every few minutes, so there may be several). */
        sender_t *best = NULL;
        size_t senders_sent = 0;
        for (size_t i = 0; i < t.n; i++) {
            if (!t.s[i].sent) continue;
            senders_sent++;
            if (!best || t.s[i].sent > best->sent) best = &t.s[i];
        }
        if (!best)
            note(c, "%s: own station not recognised (the log marks no message as sent)", path);
        else if (best->id > UINT32_MAX)
            note(c, "%s: own station not recognised (id %" PRIu64 " out of range)", path,
                 best->id);
        else {
            src->has_own = true;
            src->own_id = (uint32_t)best->id;
            if (senders_sent > 1)
                note(c, "%s: sent messages carry %zu ids; own_station_id is the most frequent, "
                        "%" PRIu64 " (%" PRIu64 " messages)",
                     path, senders_sent, best->id, best->sent);
        }
        senders_free(&t);
        return;
    }

    /* No direction in the log: the agent's own messages are logged right after they are made,
     * received ones after the air latency, so the own sender has the lowest median of capture
     * time - generation time, clearly apart from the rest. */
    sender_t *best = NULL;
    int64_t best_med = 0, second_med = 0;
    size_t timed = 0;
    for (size_t i = 0; i < t.n; i++) {
        sender_t *s = &t.s[i];
        if (!s->n_lat) continue;
        int64_t med = median_ns(s);
        timed++;
        if (!best || med < best_med) {
            if (best) second_med = best_med;
            best = s;
            best_med = med;
        } else if (timed == 2 || med < second_med) {
            second_med = med;
        }
    }
    if (!best)
        note(c, "%s: own station not recognised (no message with both a capture and a "
                "generation time)", path);
    else if (timed < 2)
        note(c, "%s: own station not recognised (one sender only, %" PRIu64
                ": own or received cannot be told apart)", path, best->id);
    else if (second_med - best_med > OWN_MAX_GAP_NS)
        /* Air latency is milliseconds; a gap this large is the senders' clocks disagreeing (the
         * real Wyoming log: a neighbour's secMark 100 ms ahead of the agent's own), so the
         * lowest median proves nothing. */
        note(c, "%s: own station not recognised (lowest median latency %.3f ms, sender %" PRIu64
                ", is %.3f ms below the next: the senders' clocks disagree)",
             path, (double)best_med / 1e6, best->id, (double)(second_med - best_med) / 1e6);
    else if (second_med - best_med < OWN_MARGIN_NS)
        note(c, "%s: own station not recognised (lowest median latency %.3f ms, sender %" PRIu64
                ", is not 0.5 ms below the next, %.3f ms)",
             path, (double)best_med / 1e6, best->id, (double)second_med / 1e6);
    else if (best->msgs < OWN_MIN_MESSAGES)
        note(c, "%s: own station not recognised (sender %" PRIu64 " has the lowest latency but "
                "only %" PRIu64 " messages)", path, best->id, best->msgs);
    else if (best->id > UINT32_MAX)
        note(c, "%s: own station not recognised (id %" PRIu64 " out of range)", path, best->id);
    else {
        src->has_own = true;
        src->own_id = (uint32_t)best->id;
        memcpy(src->own_macs, best->macs, sizeof src->own_macs);
        src->n_own_macs = best->n_macs;
    }
    if (t.full) note(c, "%s: more than %d senders; the others were not compared", path,
                     MAX_SENDERS);
    senders_free(&t);
}

/* probe_v2x_log says whether the V2X reader reads `path` as a log (Wyoming or hex): at least one
 * message and no error in the first few. */
static bool probe_v2x_log(vxs_v2x_format_t *out_fmt, const char *path, char *why,
                          size_t why_len) {
    vxs_v2x_reader_t *r = NULL;
    vxs_v2x_reader_options_t o;
    diag_count_t dc = {0, ""};
    vxs_diag_sink_t sink = {count_diag, &dc};
    memset(&o, 0, sizeof o);
    o.format = VXS_V2X_FMT_AUTO;
    o.own_station_id = -1;
    o.diag = &sink;
    if (vxs_v2x_reader_open(&r, path, &o, why, why_len) != VXS_OK) return false;
    const vxs_record_t *rec;
    vxs_status_t st = VXS_OK;
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
    return ok;
}

/* ---- per file -------------------------------------------------------------------------------- */

static void do_capture(ctx_t *c, agent_t *a, size_t fi) {
    file_t *f = &a->files[fi];
    capture_scan_t sc;
    char err[512];
    if (scan_capture(&sc, f->path, err, sizeof err) != VXS_OK) {
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

/* sidecar_lines counts the lines of a timestamps sidecar as the camera reader does: blank lines
 * and lines starting with '#' (after leading blanks) do not count. -1 if it cannot be read. */
static long sidecar_lines(const char *path) {
    FILE *fp = fopen(path, "rb");
    if (!fp) return -1;
    long n = 0;
    int ch;
    bool at_start = true, content = false;
    while ((ch = getc(fp)) != EOF) {
        if (ch == '\n') {
            if (content) n++;
            at_start = true;
            content = false;
        } else if (at_start) {
            if (ch == ' ' || ch == '\t' || ch == '\r' || ch == '\v' || ch == '\f') continue;
            at_start = false;
            content = ch != '#';
        }
    }
    if (content) n++;
    bool bad = ferror(fp) != 0;
    fclose(fp);
    return bad ? -1 : n;
}

static void do_video(ctx_t *c, agent_t *a, size_t fi) {
    vxs_video_info_t vi;
    char err[512] = "";
    file_t *f = &a->files[fi];
    vxs_status_t st = vxs_video_probe(&vi, f->path, NULL, NULL, err, sizeof err);
    if (st == VXS_E_UNSUPPORTED || st == VXS_E_IO || st == VXS_E_NOMEM) {
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
    /* Sidecars: <stem>.timestamps, <stem>.txt, then the folder's timestamps.txt (KITTI). */
    char *cand[3];
    int sl = (int)stem_len(f->name);
    cand[0] = str_fmt("%.*s.timestamps", sl, f->name);
    cand[1] = str_fmt("%.*s.txt", sl, f->name);
    cand[2] = str_fmt("timestamps.txt");
    for (int k = 0; k < 3 && s->timestamps < 0; k++) {
        if (!cand[k]) {
            c->oom = true;
            continue;
        }
        long ti = find_file(a, cand[k]);
        if (ti < 0 || (size_t)ti == fi) continue;
        file_t *tf = &a->files[ti];
        if (tf->role != ROLE_NONE || tf->kind != VXS_FILE_UNKNOWN) continue;
        struct stat sb;
        if (stat(tf->path, &sb) != 0 || (uint64_t)sb.st_size > SIDE_FILE_MAX) continue;
        long lines = sidecar_lines(tf->path);
        if (lines >= 0 && (uint64_t)lines == vi.packets) {
            s->timestamps = ti;
            tf->role = ROLE_ATTACHED;
            vxs_free(tf->sidecar_note);
            tf->sidecar_note = NULL;
        } else if (lines >= 0) {
            note(c, "%s: %ld timestamp lines, but %s has %" PRIu64 " frames: not used as its "
                    "timestamps", tf->path, lines, f->path, vi.packets);
            if (!tf->sidecar_note)
                tf->sidecar_note = str_fmt("%ld timestamp lines, but the video %s has %" PRIu64
                                           " frames", lines, f->name, vi.packets);
        }
    }
    for (int k = 0; k < 3; k++) vxs_free(cand[k]);
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
        if (vxs_ouster_meta_load(&m, f->path, why, sizeof why) == VXS_OK) {
            vxs_ouster_meta_get_info(m, &f->ouster);
            vxs_ouster_meta_destroy(m);
            f->role = ROLE_OUSTER_META;
            return;
        }
        vxs_velo_calib_t *cal = vxs_malloc(sizeof *cal);
        if (!cal) {
            c->oom = true;
            return;
        }
        vxs_status_t st = vxs_velo_calib_load(cal, f->path, why, sizeof why);
        int lasers = cal->num_lasers;
        vxs_free(cal);
        if (st == VXS_OK) {
            f->calib_lasers = lasers;
            f->role = ROLE_VELO_CALIB;
            return;
        }
    }
    vxs_v2x_format_t fmt = VXS_V2X_FMT_AUTO;
    if (probe_v2x_log(&fmt, f->path, why, sizeof why)) {
        source_t *s = add_source(c, a, fi, VXS_SOURCE_V2X);
        if (!s) return;
        s->format = fmt;
        identify_own(c, s, f->path, fmt);
        return;
    }
    f->role = ROLE_SKIPPED;
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
        char *json = str_fmt("%.*s.json", (int)stem_len(pn), pn);
        long mi = json ? find_file(a, json) : -1;
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
    char *apath = str_fmt("%s/%s", c->dir, a->dir);
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
        char *path = str_fmt("%s/%s", apath, names[i]);
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
        if (vxs_detect_file(&f->kind, f->path, err, sizeof err) != VXS_OK) {
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
    }
    vxs_free(a->files);
    vxs_free(a->srcs);
    vxs_free(a->dir);
}

/* ---- the manifest ---------------------------------------------------------------------------- */

/* out_path is the path a manifest gives for a file: relative to DIR without -o; with -o,
 * relative to FILE's folder when the file is below it, else absolute. Symlinks are kept. */
static json_t *out_path(const ctx_t *c, const agent_t *a, const file_t *f) {
    if (!c->opt->out) return json_sprintf("%s/%s", a->dir, f->name);
    char *full = str_fmt("%s/%s/%s", strcmp(c->dir_real, "/") == 0 ? "" : c->dir_real, a->dir,
                         f->name);
    if (!full) return NULL;
    size_t bl = strlen(c->out_real);
    json_t *j;
    if (strcmp(c->out_real, "/") == 0) j = json_string(full + 1);
    else if (strncmp(full, c->out_real, bl) == 0 && full[bl] == '/') j = json_string(full + bl + 1);
    else j = json_string(full);
    vxs_free(full);
    return j;
}

static json_t *source_json(const ctx_t *c, const agent_t *a, const source_t *s,
                           const char *sensor) {
    json_t *o = json_object();
    json_object_set_new(o, "path", out_path(c, a, &a->files[s->file]));
    json_object_set_new(o, "kind", json_string(vxs_source_kind_name(s->kind)));
    json_object_set_new(o, "sensor", json_string(sensor));
    if (s->model[0]) json_object_set_new(o, "model", json_string(s->model));
    if (s->calibration >= 0)
        json_object_set_new(o, "calibration", out_path(c, a, &a->files[s->calibration]));
    if (s->metadata >= 0)
        json_object_set_new(o, "metadata", out_path(c, a, &a->files[s->metadata]));
    if (s->velodyne)
        json_object_set_new(o, "clock", json_pack("{s:b}", "gps_locked", s->gps_locked));
    if (s->kind == VXS_SOURCE_V2X) {
        static const char *const fmt_names[] = {"auto", "pcap", "wydot", "hex"};
        json_object_set_new(o, "format", json_string(fmt_names[s->format]));
        if (s->has_own) json_object_set_new(o, "own_station_id", json_integer(s->own_id));
        if (s->n_own_macs) {
            json_t *macs = json_array();
            for (size_t i = 0; i < s->n_own_macs; i++) {
                const uint8_t *m = s->own_macs[i];
                json_array_append_new(macs, json_sprintf("%02x:%02x:%02x:%02x:%02x:%02x", m[0],
                                                         m[1], m[2], m[3], m[4], m[5]));
            }
            json_object_set_new(o, "own_macs", macs);
        }
    }
    if (s->timestamps >= 0)
        json_object_set_new(o, "timestamps", out_path(c, a, &a->files[s->timestamps]));
    return o;
}

/* manifest_json builds the draft in the schema's key order. */
static json_t *manifest_json(const ctx_t *c, const agent_t *agents, size_t n) {
    json_t *root = json_object(), *arr = json_array();
    const char *base = strrchr(c->dir_real, '/');
    json_object_set_new(root, "version", json_integer(1));
    json_object_set_new(root, "name", json_string(base && base[1] ? base + 1 : c->dir_real));
    json_object_set_new(root, "agents", arr);
    const agent_t *ref = NULL;
    char ref_sensor[24] = "";
    for (size_t i = 0; i < n; i++) {
        const agent_t *a = &agents[i];
        if (!a->n_srcs) continue;
        json_t *aj = json_object(), *srcs = json_array();
        json_object_set_new(aj, "id", json_string(a->id));
        json_object_set_new(aj, "type", json_string(vxs_agent_type_name(a->type)));
        json_object_set_new(aj, "sources", srcs);
        unsigned per_kind[VXS_SOURCE_KIND_COUNT] = {0};
        for (size_t k = 0; k < a->n_srcs; k++) {
            const source_t *s = &a->srcs[k];
            char sensor[24];
            unsigned nth = ++per_kind[s->kind];
            if (nth == 1) snprintf(sensor, sizeof sensor, "%s", vxs_source_kind_name(s->kind));
            else snprintf(sensor, sizeof sensor, "%s%u", vxs_source_kind_name(s->kind), nth);
            if (!ref && s->kind == VXS_SOURCE_LIDAR) {
                ref = a;
                snprintf(ref_sensor, sizeof ref_sensor, "%s", sensor);
            }
            json_array_append_new(srcs, source_json(c, a, s, sensor));
        }
        json_array_append_new(arr, aj);
    }
    if (ref)
        json_object_set_new(root, "reference",
                            json_pack("{s:s,s:s}", "agent", ref->id, "sensor", ref_sensor));
    return root;
}

/* dump_json serializes `j` (2-space indent, insertion order) into a vxs_malloc'd string. */
static char *dump_json(const json_t *j, size_t *out_len) {
    const size_t flags = JSON_INDENT(2) | JSON_PRESERVE_ORDER;
    size_t n = json_dumpb(j, NULL, 0, flags);
    if (n == 0) return NULL;
    char *s = vxs_malloc(n + 2);
    if (!s) return NULL;
    json_dumpb(j, s, n, flags);
    s[n] = '\n';
    s[n + 1] = '\0';
    *out_len = n + 1;
    return s;
}

/* write_checked writes the manifest to FILE.tmp, loads it back with the manifest parser (never
 * hand out a manifest our own parser refuses), then renames it to FILE. */
static int write_checked(const char *file, const char *text, size_t len) {
    char *tmp = str_fmt("%s.tmp", file);
    char err[VXS_MANIFEST_ERR_LEN];
    int rc = VXS_EXIT_USAGE;
    if (!tmp) return VXS_EXIT_USAGE;
    FILE *fp = fopen(tmp, "wx"); /* never clobber a file we did not create */
    if (!fp) {
        fprintf(stderr, "v2xsync init: cannot create %s: %s%s\n", tmp, strerror(errno),
                errno == EEXIST ? " (left by an interrupted run? remove it)" : "");
        vxs_free(tmp);
        return VXS_EXIT_USAGE;
    }
    bool ok = fwrite(text, 1, len, fp) == len;
    ok = (fclose(fp) == 0) && ok;
    if (!ok) {
        fprintf(stderr, "v2xsync init: cannot write %s: %s\n", tmp, strerror(errno));
        goto end;
    }
    vxs_manifest_t *m = NULL;
    if (vxs_manifest_load(&m, tmp, err, sizeof err) != VXS_OK) {
        fprintf(stderr, "v2xsync init: the draft does not validate, not written: %s\n", err);
        goto end;
    }
    vxs_manifest_free(m);
    if (rename(tmp, file) != 0) {
        fprintf(stderr, "v2xsync init: cannot rename %s to %s: %s\n", tmp, file, strerror(errno));
        goto end;
    }
    rc = VXS_EXIT_OK;
end:
    if (rc != VXS_EXIT_OK) unlink(tmp);
    vxs_free(tmp);
    return rc;
}

/* prepare_out checks -o FILE before any work: its folder exists and is not inside DIR, and FILE
 * does not exist unless --force. Fills c->out_real. */
static int prepare_out(ctx_t *c) {
    const char *file = c->opt->out;
    const char *slash = strrchr(file, '/');
    char *folder = slash ? str_fmt("%.*s", slash == file ? 1 : (int)(slash - file), file)
                         : str_fmt(".");
    struct stat sb;
    if (!folder) return VXS_EXIT_USAGE;
    if (!realpath(folder, c->out_real)) {
        fprintf(stderr, "v2xsync init: %s: %s\n", folder, strerror(errno));
        vxs_free(folder);
        return VXS_EXIT_USAGE;
    }
    vxs_free(folder);
    size_t dl = strlen(c->dir_real);
    if (strcmp(c->out_real, c->dir_real) == 0 ||
        (strncmp(c->out_real, c->dir_real, dl) == 0 &&
         (c->out_real[dl] == '/' || strcmp(c->dir_real, "/") == 0)))
        return vxs_cli_usage_error("init", "-o %s is inside %s: nothing is written into the "
                                           "input folder", file, c->dir);
    if (!c->opt->force && stat(file, &sb) == 0)
        return vxs_cli_usage_error("init", "%s exists (--force replaces it)", file);
    return VXS_EXIT_OK;
}

int vxs_cmd_init(int argc, char **argv) {
    init_opts_t opt = {NULL, false, false, false};
    int npos = 0, ex = 0, rc = VXS_EXIT_USAGE;
    if (vxs_cli_parse(&vxs_cmd_init_def, argc, argv, on_opt, &opt, &npos, &ex) != 0) return ex;
    if (npos == 0) return vxs_cli_usage_error("init", "no DIR given");
    if (npos > 1) return vxs_cli_usage_error("init", "one DIR only, got '%s' too", argv[1]);

    ctx_t c;
    char dir[PATH_MAX];
    memset(&c, 0, sizeof c);
    c.opt = &opt;
    /* "drive/" and "drive" name the same folder: keep messages free of "drive//ego" */
    snprintf(dir, sizeof dir, "%s", argv[0]);
    for (size_t dl = strlen(dir); dl > 1 && dir[dl - 1] == '/'; dl--) dir[dl - 1] = '\0';
    c.dir = dir;
    struct stat sb;
    if (stat(c.dir, &sb) != 0 || !realpath(c.dir, c.dir_real)) {
        fprintf(stderr, "v2xsync init: %s: %s\n", c.dir, strerror(errno));
        return VXS_EXIT_USAGE;
    }
    if (!S_ISDIR(sb.st_mode)) {
        fprintf(stderr, "v2xsync init: %s: not a folder (DIR holds one subfolder per agent)\n",
                c.dir);
        return VXS_EXIT_USAGE;
    }
    if (opt.out && (rc = prepare_out(&c)) != VXS_EXIT_OK) return rc;
    rc = VXS_EXIT_USAGE;

    char **names = NULL;
    size_t n = 0, n_agents = 0, n_with_src = 0;
    agent_t *agents = NULL;
    json_t *manifest = NULL;
    char *text = NULL;
    c.skipped = json_array();
    c.notes = json_array();
    if (list_dir(&names, &n, c.dir) != VXS_OK) {
        fprintf(stderr, "v2xsync init: %s: %s\n", c.dir, strerror(errno));
        goto end;
    }
    agents = vxs_calloc(n ? n : 1, sizeof *agents);
    if (!agents) goto oom;
    for (size_t i = 0; i < n; i++) {
        char *path = str_fmt("%s/%s", c.dir, names[i]);
        if (!path) goto oom;
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
            agent_t *a = &agents[n_agents++];
            a->dir = names[i];
            names[i] = NULL;
            a->type = guess_type(a->dir);
            sanitize_id(a->id, sizeof a->id, a->dir);
            /* ids stay unique when two folder names sanitize alike ("a b", "a_b") */
            for (unsigned k = 2;; k++) {
                bool dup = false;
                for (size_t j = 0; j + 1 < n_agents; j++) dup |= strcmp(agents[j].id, a->id) == 0;
                if (!dup) break;
                char base[54]; /* room for "_<k>" within 64 characters */
                sanitize_id(base, sizeof base, a->dir);
                snprintf(a->id, sizeof a->id, "%s_%u", base, k);
            }
        }
        vxs_free(path);
    }
    if (n_agents == 0) {
        fprintf(stderr, "v2xsync init: %s has no agent folder (DIR holds one subfolder per "
                        "agent, named after it)\n", c.dir);
        goto report;
    }
    for (size_t i = 0; i < n_agents; i++) {
        if (scan_agent(&c, &agents[i]) != VXS_OK) goto oom;
        sort_sources(&agents[i]);
        if (agents[i].n_srcs) n_with_src++;
        else note(&c, "%s/%s: no recognised recording; the agent is left out", c.dir,
                  agents[i].dir);
    }
    if (n_with_src == 0) {
        fprintf(stderr, "v2xsync init: no recognised recording in %s\n", c.dir);
        goto report;
    }

    manifest = manifest_json(&c, agents, n_agents);
    size_t len = 0;
    if (!manifest || !(text = dump_json(manifest, &len))) goto oom;
    if (opt.out) {
        if (write_checked(opt.out, text, len) != VXS_EXIT_OK) goto end;
    } else {
        vxs_manifest_t *m = NULL;
        char err[VXS_MANIFEST_ERR_LEN];
        if (vxs_manifest_parse(&m, text, len, c.dir, "draft", err, sizeof err) != VXS_OK) {
            fprintf(stderr, "v2xsync init: the draft does not validate: %s\n", err);
            goto end;
        }
        vxs_manifest_free(m);
    }
    rc = VXS_EXIT_OK;
report:
    if (opt.json) {
        json_t *doc = json_object();
        json_object_set(doc, "manifest", manifest ? manifest : json_null());
        json_object_set(doc, "skipped", c.skipped);
        json_object_set(doc, "notes", c.notes);
        size_t dl = 0;
        char *d = dump_json(doc, &dl);
        json_decref(doc);
        if (!d) goto oom;
        fwrite(d, 1, dl, stdout);
        vxs_free(d);
    } else if (rc == VXS_EXIT_OK && !opt.out) {
        fwrite(text, 1, strlen(text), stdout);
    } else if (rc == VXS_EXIT_OK && !opt.quiet) {
        fprintf(stderr, "v2xsync init: wrote %s (%zu agents); review it: agent types, extrinsics "
                        "and clock hints are guesses or left out\n",
                opt.out, n_with_src);
    }
    goto end;
oom:
    fprintf(stderr, "v2xsync init: out of memory\n");
    rc = VXS_EXIT_USAGE;
end:
    for (size_t i = 0; i < n_agents; i++) agent_free(&agents[i]);
    vxs_free(agents);
    free_names(names, n);
    vxs_free(text);
    json_decref(manifest);
    json_decref(c.skipped);
    json_decref(c.notes);
    return rc;
}
