/*
 * cmd_inspect.c: `v2xsync inspect FILE...`: what each file holds, judged by content, with the
 * timing of every flow. The capture is read once (headers and the first bytes of each payload
 * only); sensors/ classifies each packet, sync/ keeps each flow's timing statistics in constant
 * memory, and this file only aggregates and prints.
 */
#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "vxs_export.h"
#include "vxs_sensors.h"
#include "vxs_sync.h"
#include "vxs_v2x.h"

enum { OPT_JSON = 1, OPT_QUIET, OPT_RECORDS, OPT_MAX_ERRORS };

static const vxs_cli_opt_t inspect_opts[] = {
    {"json", 0, NULL, "print one JSON document (schema in README.md) instead of text", OPT_JSON},
    {"records", 0, "OUT.jsonl", "also write every capture record as a JSON line (second pass)",
     OPT_RECORDS},
    {"max-errors", 0, "N", "list at most N damaged records per file (default 20; all counted)",
     OPT_MAX_ERRORS},
    {"quiet", 'q', NULL, "no progress bar on stderr", OPT_QUIET},
    {NULL, 0, NULL, NULL, 0}};

const vxs_cli_cmd_t vxs_cmd_inspect_def = {
    "inspect", "[options] FILE...",
    "Detect what each capture, V2X log or video holds and report every flow's timing.",
    "Files are recognised by the evidence in their content, never by name or by default:\n"
    "pcap and pcapng captures (any link type v2xsync decodes) by their magic, MP4/QuickTime\n"
    "and Matroska videos by their boxes (confirmed by libavformat, as are other containers),\n"
    "Wyoming OBU logs by plausible records, hex logs by lines of hex messages. A file that\n"
    "fits none is reported with every format tried and why it does not fit. In a capture,\n"
    "each flow\n"
    "(addresses and ports, or source MAC and EtherType for non-IP V2X) is classified as\n"
    "Velodyne data or position packets, Ouster lidar or IMU packets, ETSI GeoNetworking,\n"
    "WSMP, or other UDP / IP / non-IP traffic, and gets: packet count, time span on the\n"
    "capture clock, rate, median interval, jitter, gaps longer than 1.5x the median\n"
    "interval, out-of-order and duplicate capture timestamps. Damaged records are listed\n"
    "with packet number and byte offset; every record before the damage is counted, and\n"
    "reading goes on at the next plausible record (\"resynchronised at byte N\"). A V2X log\n"
    "gets its message count and its damaged records or lines.\n\n"
    "Exit status: 0 all files read cleanly; 1 damaged or malformed units were found and\n"
    "skipped (the rest was read); 2 usage error, or a file could not be read at all (empty,\n"
    "unreadable, of no known kind, or damaged where its reader cannot start).\n",
    inspect_opts, vxs_cmd_inspect};

#define MAX_FLOWS 4096 /* beyond this, flows are pooled as "other-flows" (bounded memory) */
#define HASH_SIZE 8192

typedef struct {
    bool json, quiet;
    const char *records;
    long max_errors;
} inspect_opts_t;

typedef struct {
    vxs_flow_key_t key;
    vxs_pkt_class_t cls;
    vxs_pkt_class_info_t first; /* classification of its first packet: model, profile... */
    bool mixed_detail;          /* later packets disagree on model / return mode */
    uint64_t bytes;
    vxs_stream_stats_t *stats;
} flow_t;

typedef struct {
    long max_msgs;
    json_t *msgs; /* array of {packet, offset, status, message} */
    uint64_t count;
    uint64_t by_status[32];
} diag_acc_t;

typedef struct {
    flow_t *flows;
    size_t nflows, cap;
    int32_t hash[HASH_SIZE];
    int32_t last; /* the flow of the previous packet: captures come in runs of one flow */
    bool overflowed;
} flow_table_t;

static int on_opt(void *user, int id, const char *arg) {
    inspect_opts_t *o = user;
    char *end;
    switch (id) {
    case OPT_JSON: o->json = true; break;
    case OPT_QUIET: o->quiet = true; break;
    case OPT_RECORDS: o->records = arg; break;
    case OPT_MAX_ERRORS:
        o->max_errors = strtol(arg, &end, 10);
        if (*end || o->max_errors < 0)
            return vxs_cli_usage_error("inspect", "--max-errors wants a number >= 0, not '%s'", arg);
        break;
    default: break;
    }
    return 0;
}

/* ---- diagnostics --------------------------------------------------------------------------- */

static void on_diag(void *user, const vxs_diag_t *d) {
    diag_acc_t *a = user;
    a->count++;
    if ((unsigned)d->status < 32) a->by_status[d->status]++;
    if ((long)json_array_size(a->msgs) >= a->max_msgs) return;
    json_t *m = json_pack("{s:I,s:I,s:s,s:s}", "packet", (json_int_t)d->unit, "offset",
                          (json_int_t)d->offset, "status", vxs_status_name(d->status), "message",
                          d->msg);
    if (m) json_array_append_new(a->msgs, m);
}

/* ---- flows --------------------------------------------------------------------------------- */

/* flow_hash mixes the key 8 bytes at a time (a multiply-xorshift per word): the flow lookup
 * runs once per packet, so it must cost a few nanoseconds. */
static uint32_t flow_hash(const vxs_flow_key_t *k, vxs_pkt_class_t cls) {
    const uint8_t *p = (const uint8_t *)k;
    uint64_t h = 0x9e3779b97f4a7c15u ^ (uint64_t)cls, w;
    size_t i = 0;
    for (; i + 8 <= sizeof *k; i += 8) {
        memcpy(&w, p + i, 8);
        h = (h ^ w) * 0xff51afd7ed558ccdu;
        h ^= h >> 32;
    }
    for (; i < sizeof *k; i++) h = (h ^ p[i]) * 0x100000001b3u;
    return (uint32_t)(h ^ (h >> 29));
}

static flow_t *flow_get(flow_table_t *t, const vxs_pkt_class_info_t *ci) {
    if (t->last >= 0) {
        flow_t *f = &t->flows[t->last];
        if (f->cls == ci->cls && memcmp(&f->key, &ci->flow, sizeof ci->flow) == 0) return f;
    }
    vxs_flow_key_t key = ci->flow;
    vxs_pkt_class_t cls = ci->cls;
    for (int attempt = 0; attempt < 2; attempt++) {
        uint32_t h = flow_hash(&key, cls) & (HASH_SIZE - 1);
        for (;;) {
            int32_t i = t->hash[h];
            if (i < 0) break;
            flow_t *f = &t->flows[i];
            if (f->cls == cls && memcmp(&f->key, &key, sizeof key) == 0) {
                t->last = i;
                return f;
            }
            h = (h + 1) & (HASH_SIZE - 1);
        }
        /* The pooled "other-flows" entry gets the one slot past MAX_FLOWS. */
        if (t->nflows < MAX_FLOWS || (attempt == 1 && t->nflows == MAX_FLOWS)) {
            if (t->nflows == t->cap) {
                size_t nc = t->cap ? t->cap * 2 : 16;
                flow_t *nf = vxs_realloc(t->flows, nc * sizeof *nf);
                if (!nf) return NULL;
                t->flows = nf;
                t->cap = nc;
            }
            flow_t *f = &t->flows[t->nflows];
            memset(f, 0, sizeof *f);
            f->key = key;
            f->cls = cls;
            f->first = *ci;
            if (vxs_stream_stats_create(&f->stats) != VXS_OK) return NULL;
            t->last = (int32_t)t->nflows;
            t->hash[h] = (int32_t)t->nflows++;
            return f;
        }
        /* Table full: pool every further flow in one entry, class VXS_CLS_COUNT_, printed as
         * "other-flows". */
        t->overflowed = true;
        memset(&key, 0xff, sizeof key);
        cls = VXS_CLS_COUNT_;
    }
    return NULL;
}

static void flows_free(flow_table_t *t) {
    for (size_t i = 0; i < t->nflows; i++) vxs_stream_stats_destroy(t->flows[i].stats);
    vxs_free(t->flows);
}

/* ---- formatting ---------------------------------------------------------------------------- */

static void mac_str(const uint8_t *m, char *buf, size_t len) {
    snprintf(buf, len, "%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3], m[4], m[5]);
}

static const char *class_name(vxs_pkt_class_t c) {
    return c == VXS_CLS_COUNT_ ? "other-flows" : vxs_pkt_class_name(c);
}

/* flow_endpoints describes a flow: "a:p -> b:q" for UDP, "a -> b proto N", "mac ethertype". */
static void flow_endpoints(const flow_t *f, char *buf, size_t len) {
    char s[VXS_ADDR_STRLEN], d[VXS_ADDR_STRLEN];
    const vxs_flow_key_t *k = &f->key;
    if (f->cls == VXS_CLS_COUNT_) {
        snprintf(buf, len, "(flows beyond the first %d)", MAX_FLOWS);
    } else if (k->ip_version) {
        vxs_addr_format(s, sizeof s, k->src_addr);
        vxs_addr_format(d, sizeof d, k->dst_addr);
        if (k->ip_proto == 17)
            snprintf(buf, len, "%s:%u -> %s:%u", s, k->src_port, d, k->dst_port);
        else
            snprintf(buf, len, "%s -> %s proto %u", s, d, k->ip_proto);
    } else if (k->ethertype) {
        mac_str(k->src_addr, s, sizeof s);
        if (k->service && f->cls == VXS_CLS_ETSI_GN)
            snprintf(buf, len, "%s geonet BTP %u", s, k->service);
        else if (k->service && f->cls == VXS_CLS_WSMP)
            snprintf(buf, len, "%s wsmp PSID 0x%x", s, k->service);
        else
            snprintf(buf, len, "%s ethertype 0x%04x", s, k->ethertype);
    } else {
        snprintf(buf, len, "-");
    }
}

/* btp_port_name names the well-known BTP ports (ETSI TS 103 248; vanetza btp/ports.hpp). */
static const char *btp_port_name(unsigned port) {
    switch (port) {
    case 2001: return "CAM";
    case 2002: return "DENM";
    case 2003: return "MAPEM";
    case 2004: return "SPATEM";
    case 2005: return "SAEM";
    case 2006: return "IVIM";
    case 2007: return "SREM";
    case 2008: return "SSEM";
    case 2009: return "CPM";
    case 2010: return "EVCSN";
    case 2018: return "VAM";
    default: return "other";
    }
}

/* psid_name names the PSIDs of specs/v2x-wire-formats.md (tshark's WSMP value table). */
static const char *psid_name(unsigned psid) {
    switch (psid) {
    case 0x20: return "BSM / V2V safety";
    case 0x82: return "SPaT / MAP";
    case 0x83: return "TIM";
    case 0x87: return "WSA";
    default: return "other";
    }
}

/* flow_detail says what the content detection found out about the flow's sender. */
static void flow_detail(const flow_t *f, char *buf, size_t len) {
    const vxs_pkt_class_info_t *c = &f->first;
    buf[0] = '\0';
    switch (f->cls) {
    case VXS_CLS_VELODYNE_DATA:
        snprintf(buf, len, "%s (0x%02x), %s return (0x%02x)%s",
                 vxs_velodyne_product_name(c->velodyne_product), c->velodyne_product,
                 vxs_velodyne_return_name(c->velodyne_return_mode), c->velodyne_return_mode,
                 f->mixed_detail ? "; bytes 1204-1205 vary (HDL-64E status?)" : "");
        break;
    case VXS_CLS_VELODYNE_POSITION:
        snprintf(buf, len, "PPS %u, NMEA %s", c->velodyne_pps, c->nmea[0] ? c->nmea : "none");
        break;
    case VXS_CLS_OUSTER_LIDAR:
        if (c->ouster_legacy)
            snprintf(buf, len, "legacy format, %u px x %u columns/packet", c->ouster_pixels,
                     c->ouster_columns);
        else
            snprintf(buf, len, "profile, %u B/pixel, %u px x %u columns/packet",
                     c->ouster_profile_px, c->ouster_pixels, c->ouster_columns);
        break;
    case VXS_CLS_ETSI_GN:
        if (c->btp_dst_port)
            snprintf(buf, len, "GN NH %u, header type 0x%02x, BTP port %u (%s)", c->gn_next_header,
                     c->gn_header_type, c->btp_dst_port, btp_port_name(c->btp_dst_port));
        else
            snprintf(buf, len, "GN NH %u%s", c->gn_next_header,
                     c->gn_next_header == 2 ? " (secured)" : "");
        break;
    case VXS_CLS_WSMP:
        snprintf(buf, len, "WSMP v%u, PSID 0x%x (%s)", c->wsmp_version, c->wsmp_psid,
                 psid_name(c->wsmp_psid));
        break;
    default: break;
    }
}

static bool detail_differs(const vxs_pkt_class_info_t *a, const vxs_pkt_class_info_t *b) {
    switch (a->cls) {
    case VXS_CLS_VELODYNE_DATA:
        return a->velodyne_product != b->velodyne_product ||
               a->velodyne_return_mode != b->velodyne_return_mode;
    default: return false;
    }
}

static json_t *time_json(vxs_time_t t) {
    char b[VXS_TIME_STRLEN];
    return t == VXS_TIME_NONE ? json_null() : json_string(vxs_time_format(b, sizeof b, t));
}

/* timing_json turns a stream summary into the "timing" object of the JSON document. */
static json_t *timing_json(const vxs_stream_stats_t *s) {
    vxs_stream_summary_t m;
    vxs_gap_t gaps[VXS_STREAM_TOP_GAPS];
    vxs_stream_stats_summarize(s, &m);
    size_t ng = vxs_stream_stats_largest_gaps(s, gaps, VXS_STREAM_TOP_GAPS);
    json_t *g = json_array();
    for (size_t i = 0; i < ng; i++)
        json_array_append_new(g, json_pack("{s:o,s:I,s:I}", "start", time_json(gaps[i].start),
                                           "length_ns", (json_int_t)gaps[i].length_ns,
                                           "before_packet", (json_int_t)gaps[i].unit));
    json_t *o = json_object();
    json_object_set_new(o, "count", json_integer((json_int_t)m.count));
    json_object_set_new(o, "first", time_json(m.first));
    json_object_set_new(o, "last", time_json(m.last));
    json_object_set_new(o, "first_ns", m.first == VXS_TIME_NONE ? json_null() : json_integer(m.first));
    json_object_set_new(o, "last_ns", m.last == VXS_TIME_NONE ? json_null() : json_integer(m.last));
    json_object_set_new(o, "span_s",
                        json_real(m.count ? (double)(m.max - m.min) / 1e9 : 0.0));
    json_object_set_new(o, "rate_hz", json_real(m.rate_hz));
    json_object_set_new(o, "median_interval_ns", json_integer(m.median_interval_ns));
    json_object_set_new(o, "mean_interval_ns", json_real(m.mean_interval_ns));
    json_object_set_new(o, "jitter_ns", json_real(m.jitter_ns));
    json_object_set_new(o, "max_interval_ns", json_integer(m.max_interval_ns));
    json_object_set_new(o, "gap_threshold_ns", json_integer(m.gap_threshold_ns));
    json_object_set_new(o, "gaps", json_integer((json_int_t)m.gaps));
    json_object_set_new(o, "largest_gaps", g);
    json_object_set_new(o, "out_of_order", json_integer((json_int_t)m.out_of_order));
    if (m.out_of_order)
        json_object_set_new(o, "first_out_of_order_packet",
                            json_integer((json_int_t)m.first_out_of_order_unit));
    json_object_set_new(o, "max_backstep_ns", json_integer(m.max_backstep_ns));
    json_object_set_new(o, "duplicates", json_integer((json_int_t)m.duplicates));
    if (m.duplicates)
        json_object_set_new(o, "first_duplicate_packet",
                            json_integer((json_int_t)m.first_duplicate_unit));
    return o;
}

static json_t *flow_json(const flow_t *f) {
    char ep[160], det[160], a[VXS_ADDR_STRLEN];
    const vxs_flow_key_t *k = &f->key;
    json_t *o = json_object();
    flow_endpoints(f, ep, sizeof ep);
    flow_detail(f, det, sizeof det);
    json_object_set_new(o, "kind", json_string(class_name(f->cls)));
    json_object_set_new(o, "flow", json_string(ep));
    if (f->cls != VXS_CLS_COUNT_ && k->ip_version) {
        json_object_set_new(o, "ip_version", json_integer(k->ip_version));
        json_object_set_new(o, "ip_proto", json_integer(k->ip_proto));
        vxs_addr_format(a, sizeof a, k->src_addr);
        json_object_set_new(o, "src", json_string(a));
        vxs_addr_format(a, sizeof a, k->dst_addr);
        json_object_set_new(o, "dst", json_string(a));
        if (k->ip_proto == 17) {
            json_object_set_new(o, "src_port", json_integer(k->src_port));
            json_object_set_new(o, "dst_port", json_integer(k->dst_port));
        }
    } else if (f->cls != VXS_CLS_COUNT_ && k->ethertype) {
        mac_str(k->src_addr, a, sizeof a);
        json_object_set_new(o, "src_mac", json_string(a));
        json_object_set_new(o, "ethertype", json_integer(k->ethertype));
    }
    json_object_set_new(o, "packets", json_integer((json_int_t)vxs_stream_stats_count(f->stats)));
    json_object_set_new(o, "bytes", json_integer((json_int_t)f->bytes));
    json_object_set_new(o, "detail", json_string(det));
    const vxs_pkt_class_info_t *c = &f->first;
    if (f->cls == VXS_CLS_VELODYNE_DATA) {
        json_object_set_new(o, "velodyne_product", json_integer(c->velodyne_product));
        json_object_set_new(o, "velodyne_model", json_string(vxs_velodyne_product_name(c->velodyne_product)));
        json_object_set_new(o, "velodyne_return_mode",
                            json_string(vxs_velodyne_return_name(c->velodyne_return_mode)));
    } else if (f->cls == VXS_CLS_ETSI_GN && c->btp_dst_port) {
        json_object_set_new(o, "btp_dst_port", json_integer(c->btp_dst_port));
    } else if (f->cls == VXS_CLS_WSMP) {
        json_object_set_new(o, "wsmp_psid", json_integer(c->wsmp_psid));
    }
    json_object_set_new(o, "timing", timing_json(f->stats));
    return o;
}

/* ---- per file ------------------------------------------------------------------------------ */

static json_t *errors_json(const diag_acc_t *d) {
    json_t *o = json_object();
    json_object_set_new(o, "count", json_integer((json_int_t)d->count));
    json_object_set_new(o, "truncated", json_integer((json_int_t)d->by_status[VXS_E_TRUNCATED]));
    json_object_set_new(o, "malformed", json_integer((json_int_t)d->by_status[VXS_E_MALFORMED]));
    json_object_set_new(o, "limit", json_integer((json_int_t)d->by_status[VXS_E_LIMIT]));
    json_object_set_new(o, "unsupported",
                        json_integer((json_int_t)d->by_status[VXS_E_UNSUPPORTED]));
    json_object_set(o, "messages", d->msgs);
    return o;
}

/* inspect_pcap reads one capture. Returns the exit code contribution. */
static int inspect_pcap(const char *path, const inspect_opts_t *opt, json_t *fj) {
    vxs_pcap_t *p = NULL;
    char err[512];
    diag_acc_t diag = {opt->max_errors, json_array(), 0, {0}};
    vxs_diag_sink_t sink = {on_diag, &diag};
    flow_table_t ft;
    vxs_stream_stats_t *all = NULL;
    uint64_t classes[VXS_CLS_COUNT_] = {0};
    int rc = VXS_EXIT_OK;
    bool oom = false;
    vxs_status_t st;

    memset(&ft, 0, sizeof ft);
    memset(ft.hash, 0xff, sizeof ft.hash);
    ft.last = -1;
    st = vxs_pcap_open_file(&p, path, NULL, &sink, err, sizeof err);
    if (st != VXS_OK) {
        json_object_set_new(fj, "error", json_string(err));
        rc = VXS_EXIT_USAGE;
        goto end;
    }
    if (vxs_stream_stats_create(&all) != VXS_OK) {
        json_object_set_new(fj, "error", json_string("out of memory"));
        rc = VXS_EXIT_USAGE;
        goto end;
    }
    vxs_pcap_info_t info;
    vxs_pcap_get_info(p, &info);
    vxs_cli_progress_t prog;
    vxs_cli_progress_begin(&prog, path, opt->quiet);
    const vxs_packet_t *pkt;
    uint64_t n = 0;
    while ((st = vxs_pcap_next(p, &pkt)) == VXS_OK) {
        vxs_pkt_class_info_t ci;
        if (vxs_stream_stats_add(all, pkt->ts, pkt->index + 1) == VXS_E_NOMEM) oom = true;
        vxs_classify(&ci, pkt);
        classes[ci.cls]++;
        if ((++n & 4095) == 0) vxs_cli_progress_fn(&prog, vxs_pcap_position(p), info.file_size);
        if (ci.cls == VXS_CLS_FRAGMENT) continue; /* counted with its datagram */
        flow_t *f = flow_get(&ft, &ci);
        if (!f) {
            json_object_set_new(fj, "error", json_string("out of memory"));
            rc = VXS_EXIT_USAGE;
            break;
        }
        if (vxs_stream_stats_count(f->stats) && detail_differs(&f->first, &ci))
            f->mixed_detail = true;
        const vxs_pkt_info_t *pl = vxs_packet_payload(pkt);
        f->bytes += pl ? pl->payload_len : 0;
        if (vxs_stream_stats_add(f->stats, pkt->ts, pkt->index + 1) == VXS_E_NOMEM) oom = true;
    }
    vxs_cli_progress_end(&prog);
    if (oom) /* the packets were counted; only some intervals are missing from the medians */
        json_object_set_new(fj, "warning", json_string("out of memory: some intervals were left "
                                                       "out of the timing statistics"));
    vxs_pcap_counts_t counts;
    vxs_pcap_get_counts(p, &counts);

    json_object_set_new(fj, "format", json_string(info.pcapng ? "pcapng" : "pcap"));
    json_object_set_new(fj, "version", json_sprintf("%d.%d", info.version_major, info.version_minor));
    json_object_set_new(fj, "nanosecond_timestamps", json_boolean(info.nanosecond_file));
    json_object_set_new(fj, "linktype", json_string(vxs_linktype_name(info.linktype)));
    json_object_set_new(fj, "linktype_id", json_integer(info.linktype));
    json_object_set_new(fj, "snaplen", json_integer(info.snaplen));
    json_object_set_new(fj, "file_bytes", json_integer((json_int_t)info.file_size));
    json_object_set_new(fj, "packets", json_integer((json_int_t)counts.records));
    json_object_set_new(fj, "captured_bytes", json_integer((json_int_t)counts.bytes));
    json_object_set_new(fj, "snap_truncated", json_integer((json_int_t)counts.snap_truncated));
    json_object_set_new(fj, "fragments", json_integer((json_int_t)counts.reasm.fragments));
    json_object_set_new(fj, "reassembled", json_integer((json_int_t)counts.reasm.datagrams));
    json_object_set_new(fj, "timing", timing_json(all));
    json_t *cj = json_object();
    for (int c = 0; c < VXS_CLS_COUNT_; c++)
        if (classes[c])
            json_object_set_new(cj, vxs_pkt_class_name((vxs_pkt_class_t)c),
                                json_integer((json_int_t)classes[c]));
    json_object_set_new(fj, "classes", cj);
    json_t *fl = json_array();
    for (size_t i = 0; i < ft.nflows; i++) json_array_append_new(fl, flow_json(&ft.flows[i]));
    json_object_set_new(fj, "flows", fl);
    if (st != VXS_EOF && st != VXS_OK)
        json_object_set_new(fj, "stopped", json_string(vxs_pcap_errmsg(p)));
    if (diag.count && rc == VXS_EXIT_OK) rc = VXS_EXIT_FINDINGS;
end:
    json_object_set_new(fj, "errors", errors_json(&diag));
    json_decref(diag.msgs);
    flows_free(&ft);
    vxs_stream_stats_destroy(all);
    vxs_pcap_close(p);
    return rc;
}

/* video frames arrive in decode order; a small sorting window restores presentation order
 * before the timing statistics see them (B-frame reordering is a few frames deep). */
#define REORDER 16
typedef struct {
    vxs_stream_stats_t *s;
    int64_t win[REORDER];
    uint64_t idx[REORDER];
    size_t n;
} video_acc_t;

static void video_flush_one(video_acc_t *v) {
    size_t m = 0;
    for (size_t i = 1; i < v->n; i++)
        if (v->win[i] < v->win[m]) m = i;
    vxs_stream_stats_add(v->s, v->win[m], v->idx[m] + 1);
    v->win[m] = v->win[v->n - 1];
    v->idx[m] = v->idx[v->n - 1];
    v->n--;
}

static void on_video_pts(void *user, uint64_t index, int64_t pts_ns, bool key) {
    video_acc_t *v = user;
    (void)key;
    if (pts_ns == VXS_TIME_NONE) {
        vxs_stream_stats_add(v->s, VXS_TIME_NONE, index + 1);
        return;
    }
    if (v->n == REORDER) video_flush_one(v);
    v->win[v->n] = pts_ns;
    v->idx[v->n++] = index;
}

static int inspect_video(const char *path, json_t *fj) {
    vxs_video_info_t vi;
    char err[512] = "";
    video_acc_t acc;
    memset(&acc, 0, sizeof acc);
    if (vxs_stream_stats_create(&acc.s) != VXS_OK) return VXS_EXIT_USAGE;
    vxs_status_t st = vxs_video_probe(&vi, path, on_video_pts, &acc, err, sizeof err);
    while (acc.n) video_flush_one(&acc);
    int rc = VXS_EXIT_OK;
    if (st == VXS_E_UNSUPPORTED || st == VXS_E_IO) {
        json_object_set_new(fj, "error", json_string(err));
        rc = VXS_EXIT_USAGE;
    } else {
        json_object_set_new(fj, "format", json_string(vi.format));
        json_object_set_new(fj, "codec", json_string(vi.codec));
        json_object_set_new(fj, "width", json_integer(vi.width));
        json_object_set_new(fj, "height", json_integer(vi.height));
        json_object_set_new(fj, "frames", json_integer((json_int_t)vi.packets));
        json_object_set_new(fj, "key_frames", json_integer((json_int_t)vi.key_frames));
        json_object_set_new(fj, "time_base", json_sprintf("%lld/%lld", (long long)vi.tb_num,
                                                          (long long)vi.tb_den));
        json_object_set_new(fj, "creation_time", time_json(vi.creation_time));
        /* pts times are relative to the stream start, not absolute (camera reader: issue 5) */
        json_object_set_new(fj, "timing", timing_json(acc.s));
        /* One problem, one count: the read error that stopped the probe, and the packets the
         * demuxer flagged corrupt (counted, located by the first of them). */
        json_t *e = json_object(), *msgs = json_array();
        json_int_t n = (json_int_t)vi.corrupt_packets + (st != VXS_OK);
        json_object_set_new(e, "count", json_integer(n));
        if (st != VXS_OK)
            json_array_append_new(msgs, json_pack("{s:s,s:s}", "status", vxs_status_name(st),
                                                  "message", err));
        if (vi.corrupt_packets) {
            char m[640];
            snprintf(m, sizeof m,
                     "%s: %" PRIu64 " video packets flagged corrupt by the demuxer; the first is "
                     "packet %" PRIu64 " at byte offset %" PRId64,
                     path, vi.corrupt_packets, vi.first_corrupt_index + 1, vi.first_corrupt_offset);
            json_array_append_new(msgs, json_pack("{s:I,s:I,s:s,s:s}", "packet",
                                                  (json_int_t)vi.first_corrupt_index + 1, "offset",
                                                  (json_int_t)vi.first_corrupt_offset, "status",
                                                  vxs_status_name(VXS_E_MALFORMED), "message", m));
        }
        json_object_set_new(e, "messages", msgs);
        json_object_set_new(fj, "errors", e);
        if (n) rc = VXS_EXIT_FINDINGS;
    }
    vxs_stream_stats_destroy(acc.s);
    return rc;
}

/* ---- text output --------------------------------------------------------------------------- */

/* inspect_v2x_log reads a Wyoming or hex log through the V2X reader: messages, units, the
 * damaged ones. Returns the exit code contribution. */
static int inspect_v2x_log(const char *path, const inspect_opts_t *opt, json_t *fj) {
    vxs_v2x_reader_t *r = NULL;
    vxs_v2x_reader_options_t o;
    char err[512];
    diag_acc_t diag = {opt->max_errors, json_array(), 0, {0}};
    vxs_diag_sink_t sink = {on_diag, &diag};
    int rc = VXS_EXIT_OK;
    memset(&o, 0, sizeof o);
    o.own_station_id = -1;
    o.diag = &sink;
    if (vxs_v2x_reader_open(&r, path, &o, err, sizeof err) != VXS_OK) {
        json_object_set_new(fj, "error", json_string(err));
        json_decref(diag.msgs);
        return VXS_EXIT_USAGE;
    }
    const vxs_record_t *rec;
    vxs_status_t st;
    while ((st = vxs_v2x_reader_next(r, &rec)) == VXS_OK) {
    }
    vxs_v2x_counts_t c;
    vxs_v2x_reader_counts(r, &c);
    json_object_set_new(fj, "format", json_string(vxs_v2x_reader_format(r) == VXS_V2X_FMT_WYDOT
                                                      ? "wydot-log"
                                                      : "hex-log"));
    json_object_set_new(fj, "units", json_integer((json_int_t)c.units));
    json_object_set_new(fj, "messages", json_integer((json_int_t)c.messages));
    json_object_set_new(fj, "decoded", json_integer((json_int_t)c.decoded));
    json_object_set_new(fj, "errors", errors_json(&diag));
    if (diag.count > 0 || st != VXS_EOF) rc = VXS_EXIT_FINDINGS;
    vxs_v2x_reader_close(r);
    json_decref(diag.msgs);
    return rc;
}

static void fmt_interval(int64_t ns, char *buf, size_t len) {
    if (ns <= 0)
        snprintf(buf, len, "-");
    else if (ns < 1000000)
        snprintf(buf, len, "%.1f us", (double)ns / 1e3);
    else if (ns < 10000000000)
        snprintf(buf, len, "%.3f ms", (double)ns / 1e6);
    else
        snprintf(buf, len, "%.3f s", (double)ns / 1e9);
}

static void print_timing_line(const char *label, json_t *t) {
    const char *first = json_string_value(json_object_get(t, "first"));
    const char *last = json_string_value(json_object_get(t, "last"));
    printf("  %-10s %s .. %s (%.3f s)\n", label, first ? first : "-", last ? last : "-",
           json_real_value(json_object_get(t, "span_s")));
    printf("  %-10s %" JSON_INTEGER_FORMAT " out of order, %" JSON_INTEGER_FORMAT
           " duplicate timestamps\n",
           "order", json_integer_value(json_object_get(t, "out_of_order")),
           json_integer_value(json_object_get(t, "duplicates")));
}

static void print_file_text(json_t *fj) {
    const char *path = json_string_value(json_object_get(fj, "path"));
    printf("%s\n", path);
    json_t *e = json_object_get(fj, "error");
    if (e) {
        printf("  error      %s\n\n", json_string_value(e));
        return;
    }
    const char *kind = json_string_value(json_object_get(fj, "kind"));
    json_t *t = json_object_get(fj, "timing");
    if (strcmp(kind, "v2x-log") == 0) {
        printf("  %-10s %s\n", "format", json_string_value(json_object_get(fj, "format")));
        printf("  %-10s %" JSON_INTEGER_FORMAT " (%" JSON_INTEGER_FORMAT
               " decoded in full) of %" JSON_INTEGER_FORMAT " records or lines\n",
               "messages", json_integer_value(json_object_get(fj, "messages")),
               json_integer_value(json_object_get(fj, "decoded")),
               json_integer_value(json_object_get(fj, "units")));
    } else if (strcmp(kind, "video") == 0) {
        printf("  %-10s video: %s, %s %" JSON_INTEGER_FORMAT "x%" JSON_INTEGER_FORMAT
               ", time base %s\n",
               "format", json_string_value(json_object_get(fj, "format")),
               json_string_value(json_object_get(fj, "codec")),
               json_integer_value(json_object_get(fj, "width")),
               json_integer_value(json_object_get(fj, "height")),
               json_string_value(json_object_get(fj, "time_base")));
        json_t *ct = json_object_get(fj, "creation_time");
        printf("  %-10s %" JSON_INTEGER_FORMAT " (%" JSON_INTEGER_FORMAT " key), creation_time %s\n",
               "frames", json_integer_value(json_object_get(fj, "frames")),
               json_integer_value(json_object_get(fj, "key_frames")),
               json_is_string(ct) ? json_string_value(ct) : "none");
        char med[32];
        fmt_interval((int64_t)json_integer_value(json_object_get(t, "median_interval_ns")), med,
                     sizeof med);
        printf("  %-10s pts span %.3f s, median frame interval %s, %" JSON_INTEGER_FORMAT
               " gaps > 1.5x median\n",
               "timing", json_real_value(json_object_get(t, "span_s")), med,
               json_integer_value(json_object_get(t, "gaps")));
    } else {
        printf("  %-10s %s %s, %s timestamps, linktype %s (%" JSON_INTEGER_FORMAT
               "), snaplen %" JSON_INTEGER_FORMAT "\n",
               "format", json_string_value(json_object_get(fj, "format")),
               json_string_value(json_object_get(fj, "version")),
               json_is_true(json_object_get(fj, "nanosecond_timestamps")) ? "ns" : "us",
               json_string_value(json_object_get(fj, "linktype")),
               json_integer_value(json_object_get(fj, "linktype_id")),
               json_integer_value(json_object_get(fj, "snaplen")));
        printf("  %-10s %" JSON_INTEGER_FORMAT " (%" JSON_INTEGER_FORMAT
               " bytes captured; %" JSON_INTEGER_FORMAT " IPv4 fragments -> %" JSON_INTEGER_FORMAT
               " datagrams)\n",
               "packets", json_integer_value(json_object_get(fj, "packets")),
               json_integer_value(json_object_get(fj, "captured_bytes")),
               json_integer_value(json_object_get(fj, "fragments")),
               json_integer_value(json_object_get(fj, "reassembled")));
        print_timing_line("span", t);
        json_t *flows = json_object_get(fj, "flows");
        size_t i;
        json_t *f;
        printf("  %-10s %zu\n", "flows", json_array_size(flows));
        printf("    %-18s %-44s %8s %9s %11s %11s %5s %4s %4s  %s\n", "kind", "flow", "packets",
               "rate/s", "median", "jitter", "gaps", "ooo", "dup", "detail");
        json_array_foreach(flows, i, f) {
            json_t *ft = json_object_get(f, "timing");
            char med[32], jit[32];
            fmt_interval((int64_t)json_integer_value(json_object_get(ft, "median_interval_ns")),
                         med, sizeof med);
            double jns = json_real_value(json_object_get(ft, "jitter_ns"));
            if (json_integer_value(json_object_get(ft, "count")) < 3)
                snprintf(jit, sizeof jit, "-");
            else if (jns < 1e6)
                snprintf(jit, sizeof jit, "%.1f us", jns / 1e3);
            else
                fmt_interval((int64_t)jns, jit, sizeof jit);
            printf("    %-18s %-44s %8" JSON_INTEGER_FORMAT " %9.1f %11s %11s %5" JSON_INTEGER_FORMAT
                   " %4" JSON_INTEGER_FORMAT " %4" JSON_INTEGER_FORMAT "  %s\n",
                   json_string_value(json_object_get(f, "kind")),
                   json_string_value(json_object_get(f, "flow")),
                   json_integer_value(json_object_get(f, "packets")),
                   json_real_value(json_object_get(ft, "rate_hz")), med, jit,
                   json_integer_value(json_object_get(ft, "gaps")),
                   json_integer_value(json_object_get(ft, "out_of_order")),
                   json_integer_value(json_object_get(ft, "duplicates")),
                   json_string_value(json_object_get(f, "detail")));
            json_t *gaps = json_object_get(ft, "largest_gaps");
            size_t gi;
            json_t *g;
            json_array_foreach(gaps, gi, g) {
                if (gi == 3) {
                    printf("      ... %zu more gaps in --json\n", json_array_size(gaps) - 3);
                    break;
                }
                char len[32];
                fmt_interval((int64_t)json_integer_value(json_object_get(g, "length_ns")), len,
                             sizeof len);
                printf("      gap %s after %s, before packet %" JSON_INTEGER_FORMAT "\n", len,
                       json_string_value(json_object_get(g, "start")),
                       json_integer_value(json_object_get(g, "before_packet")));
            }
        }
    }
    json_t *errs = json_object_get(fj, "errors");
    json_int_t ne = json_integer_value(json_object_get(errs, "count"));
    if (ne == 0) {
        printf("  %-10s none\n", "errors");
    } else {
        printf("  %-10s %" JSON_INTEGER_FORMAT " damaged or malformed records\n", "errors", ne);
        size_t i;
        json_t *m;
        json_array_foreach(json_object_get(errs, "messages"), i, m)
            printf("    %s\n", json_string_value(json_object_get(m, "message")));
        if (strcmp(kind, "capture") == 0 &&
            (json_int_t)json_array_size(json_object_get(errs, "messages")) < ne)
            printf("    ... %" JSON_INTEGER_FORMAT " more (--max-errors N lists more)\n",
                   ne - (json_int_t)json_array_size(json_object_get(errs, "messages")));
    }
    json_t *warn = json_object_get(fj, "warning");
    if (warn) printf("  %-10s %s\n", "warning", json_string_value(warn));
    json_t *stopped = json_object_get(fj, "stopped");
    if (stopped) printf("  %-10s %s\n", "stopped", json_string_value(stopped));
    printf("\n");
}

static void ignore_diag(void *user, const vxs_diag_t *d) {
    (void)user;
    (void)d;
}

/* write_records streams every capture record of every capture through the pcap source into
 * the JSON-lines sink: the first use of the source -> sink seam. */
static int write_records(char **files, int n, const char *out) {
    vxs_sink_t *sink = NULL;
    char err[512];
    int rc = VXS_EXIT_OK;
    if (vxs_jsonl_sink_create(&sink, out, err, sizeof err) != VXS_OK) {
        fprintf(stderr, "v2xsync inspect: %s\n", err);
        return VXS_EXIT_USAGE;
    }
    for (int i = 0; i < n; i++) {
        vxs_file_kind_t kind;
        if (vxs_detect_file(&kind, files[i], err, sizeof err) != VXS_OK ||
            (kind != VXS_FILE_PCAP && kind != VXS_FILE_PCAPNG))
            continue;
        vxs_pcap_t *p = NULL;
        vxs_source_t *src = NULL;
        vxs_diag_sink_t quiet = {ignore_diag, NULL}; /* the first pass reported the damage */
        if (vxs_pcap_open_file(&p, files[i], NULL, &quiet, err, sizeof err) != VXS_OK ||
            vxs_pcap_source_create(&src, p, (uint32_t)i, 0, 0) != VXS_OK) {
            vxs_pcap_close(p);
            continue;
        }
        const vxs_record_t *r;
        vxs_status_t st;
        while ((st = vxs_source_next(src, &r)) != VXS_EOF) {
            if (st != VXS_OK) continue;
            if (vxs_sink_write(sink, r, NULL, 0) != VXS_OK) {
                fprintf(stderr, "v2xsync inspect: %s\n", vxs_sink_errmsg(sink));
                rc = VXS_EXIT_USAGE;
                break;
            }
        }
        vxs_source_destroy(src);
    }
    if (rc == VXS_EXIT_OK && vxs_sink_finish(sink) != VXS_OK) {
        fprintf(stderr, "v2xsync inspect: %s\n", vxs_sink_errmsg(sink));
        rc = VXS_EXIT_USAGE;
    }
    vxs_sink_destroy(sink);
    return rc;
}

int vxs_cmd_inspect(int argc, char **argv) {
    inspect_opts_t opt = {false, false, NULL, 20};
    int npos = 0, ex = 0;
    if (vxs_cli_parse(&vxs_cmd_inspect_def, argc, argv, on_opt, &opt, &npos, &ex) != 0) return ex;
    if (npos == 0) return vxs_cli_usage_error("inspect", "no FILE given");

    int rc = VXS_EXIT_OK;
    json_t *doc = json_object(), *files = json_array();
    json_object_set_new(doc, "tool", json_string("v2xsync"));
    json_object_set_new(doc, "version", json_string(vxs_version()));
    json_object_set_new(doc, "files", files);
    for (int i = 0; i < npos; i++) {
        json_t *fj = json_object();
        vxs_file_probe_t pr;
        char err[512];
        int frc;
        json_object_set_new(fj, "path", json_string(argv[i]));
        if (vxs_probe_file(&pr, argv[i], err, sizeof err) != VXS_OK) {
            json_object_set_new(fj, "kind", json_string("unreadable"));
            json_object_set_new(fj, "error", json_string(err));
            frc = VXS_EXIT_USAGE;
        } else if (pr.kind == VXS_FILE_PCAP || pr.kind == VXS_FILE_PCAPNG) {
            json_object_set_new(fj, "kind", json_string("capture"));
            frc = inspect_pcap(argv[i], &opt, fj);
        } else if (pr.kind == VXS_FILE_VIDEO && pr.damaged) {
            json_object_set_new(fj, "kind", json_string("video"));
            json_object_set_new(fj, "error",
                                json_sprintf("%s: a damaged video: %s", argv[i], pr.detail));
            frc = VXS_EXIT_USAGE;
        } else if (pr.kind == VXS_FILE_VIDEO) {
            json_object_set_new(fj, "kind", json_string("video"));
            frc = inspect_video(argv[i], fj);
        } else if (pr.kind == VXS_FILE_WYDOT_LOG || pr.kind == VXS_FILE_HEX_LOG) {
            json_object_set_new(fj, "kind", json_string("v2x-log"));
            frc = inspect_v2x_log(argv[i], &opt, fj);
        } else {
            json_object_set_new(fj, "kind", json_string("unknown"));
            json_object_set_new(fj, "error",
                                json_sprintf("%s: not a recording v2xsync reads: %s", argv[i],
                                             pr.detail));
            frc = VXS_EXIT_USAGE;
        }
        if (frc > rc) rc = frc;
        if (!opt.json) print_file_text(fj);
        json_t *e = json_object_get(fj, "error");
        if (e) fprintf(stderr, "v2xsync inspect: %s\n", json_string_value(e));
        json_array_append_new(files, fj);
    }
    if (opt.records) {
        int rrc = write_records(argv, npos, opt.records);
        if (rrc > rc) rc = rrc;
    }
    json_object_set_new(doc, "exit_status", json_integer(rc));
    if (opt.json) {
        json_dumpf(doc, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
        fputc('\n', stdout);
    }
    json_decref(doc);
    return rc;
}
