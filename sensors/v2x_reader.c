/*
 * v2x_reader.c: V2X messages from the logs agents keep: captures (GeoNetworking and WSMP
 * frames, any link type the packet layer decodes), Wyoming CV-pilot OBU binary logs, and text
 * logs of one hex MessageFrame per line. One record per message, with the sender's time fields
 * resolved against the log's own time, the link metadata the log has, and the direction.
 *
 * All three are read as streams: a capture through the pcap reader, a binary log one record
 * at a time, a text log one line at a time. Memory does not grow with the log.
 */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "vxs_core.h"
#include "vxs_core_int.h"
#include "vxs_sensors.h"
#include "vxs_v2x.h"
#include "j2735_int.h"
#include "v2x_int.h"

#define WYDOT_HEADER 26
#define MAX_LINE 65536   /* longest hex-log line accepted (a 32 KiB message) */
#define ERR_LEN 768

#if defined(__GNUC__)
#define VXS_PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#define VXS_PRINTF(a, b)
#endif

struct vxs_v2x_reader {
    char *path;
    vxs_v2x_format_t format;
    vxs_v2x_reader_options_t opt;
    uint8_t (*own_macs)[6];
    vxs_limits_t lim;
    vxs_diag_sink_t diag;
    const vxs_diag_sink_t *diag_ptr;
    vxs_pcap_t *pcap;        /* VXS_V2X_FMT_PCAP */
    FILE *fp;                /* WYDOT and HEX */
    uint64_t file_size;
    uint64_t pos;            /* byte offset reached (WYDOT, HEX) */
    uint64_t unit;           /* next record / line number from 0 */
    uint8_t *buf;            /* one WYDOT record or one decoded hex line */
    size_t buf_cap;
    char *line;              /* one hex-log line */
    bool eof;
    bool have_last;          /* WYDOT: a plausible record was read; last_off / last_sec */
    uint64_t last_off;
    int64_t last_sec;
    bool have_err;           /* WYDOT: damage met at last_err */
    uint64_t last_err;
    vxs_record_t rec;
    vxs_v2x_msg_t msg;
    vxs_v2x_times_t times;
    vxs_v2x_link_t link;
    vxs_v2x_counts_t counts;
    char errmsg[ERR_LEN];
};

/* ---- WYDOT binary log records ------------------------------------------------------------ */

vxs_status_t vxs_wydot_next(vxs_wydot_record_t *out, size_t *pos, const uint8_t *data,
                            size_t len) {
    vxs_rd_t r;
    uint32_t sec = 0;
    uint16_t ms = 0, plen = 0;
    uint8_t sign = 0;
    if (!out || !pos || (!data && len)) return VXS_E_ARG;
    if (*pos >= len) return VXS_EOF;
    r = vxs_rd_init(data + *pos, len - *pos);
    memset(out, 0, sizeof *out);
    out->offset = *pos;
    uint32_t lat = 0, lon = 0, elev = 0;
    if (!vxs_rd_u8(&r, &out->direction) || !vxs_rd_u32le(&r, &lat) || !vxs_rd_u32le(&r, &lon) ||
        !vxs_rd_u32le(&r, &elev) || !vxs_rd_u16le(&r, &out->speed) ||
        !vxs_rd_u16le(&r, &out->heading) || !vxs_rd_u32le(&r, &sec) || !vxs_rd_u16le(&r, &ms) ||
        !vxs_rd_u8(&r, &sign) || !vxs_rd_u16le(&r, &plen))
        return VXS_E_TRUNCATED;
    if (!vxs_rd_ptr(&r, &out->payload, plen)) return VXS_E_TRUNCATED;
    out->lat = (int32_t)lat;
    out->lon = (int32_t)lon;
    out->elev = (int32_t)elev;
    out->sign = (int8_t)sign;
    out->log_time = (vxs_time_t)sec * 1000000000 + (vxs_time_t)ms * 1000000;
    out->payload_len = plen;
    *pos += WYDOT_HEADER + (size_t)plen;
    return VXS_OK;
}

/* is_1609dot2 says whether `p` starts like IEEE 1609.2 data: protocolVersion 3 and the
 * unsecured, signed or encrypted content tag. */
static bool is_1609dot2(const uint8_t *p, size_t n) {
    return n >= 2 && p[0] == 0x03 && (p[1] == 0x80 || p[1] == 0x81 || p[1] == 0x82);
}

/* frame_fits says whether a J2735 MessageFrame header (extension bit clear, messageId, a
 * one- or two-byte length) starts `p` and its value fits in the `n` bytes. With `known`, the
 * messageId must also be one J2735 assigns (18..42; 240..255 test messages). */
static bool frame_fits(const uint8_t *p, size_t n, bool known) {
    size_t hdr, vlen;
    if (n < 3 || (p[0] & 0x80)) return false;
    unsigned id = (unsigned)p[0] << 8 | p[1];
    if (known && !((id >= 18 && id <= 42) || (id >= 240 && id <= 255))) return false;
    if (p[2] < 0x80) {
        hdr = 3, vlen = p[2];
    } else if ((p[2] & 0xC0) == 0x80 && n >= 4) {
        hdr = 4, vlen = (size_t)(p[2] & 0x3F) << 8 | p[3];
    } else {
        return false;
    }
    return hdr + vlen <= n;
}

#define MAX_FWD_HEADER 64 /* longest forwarding header searched past */

bool vxsi_v2x_payload_plausible(const uint8_t *p, size_t n) {
    for (size_t i = 0; i <= MAX_FWD_HEADER && i + 3 <= n; i++)
        if (is_1609dot2(p + i, n - i) || frame_fits(p + i, n - i, true)) return true;
    return false;
}

bool vxs_wydot_plausible(const uint8_t *p, size_t n, uint64_t left, char *why, size_t why_len) {
    if (!p || n < WYDOT_HEADER || left < WYDOT_HEADER) {
        vxsi_fmt(why, why_len, "fewer than the %d header bytes", WYDOT_HEADER);
        return false;
    }
    const unsigned direction = p[0];
    const size_t plen = (size_t)p[24] | (size_t)p[25] << 8;
    const uint16_t ms = (uint16_t)(p[21] | p[22] << 8);
    const int32_t lat = (int32_t)((uint32_t)p[1] | (uint32_t)p[2] << 8 | (uint32_t)p[3] << 16 |
                                  (uint32_t)p[4] << 24);
    const int32_t lon = (int32_t)((uint32_t)p[5] | (uint32_t)p[6] << 8 | (uint32_t)p[7] << 16 |
                                  (uint32_t)p[8] << 24);
    if (direction > 1) {
        vxsi_fmt(why, why_len, "direction byte %u (0 sent, 1 received)", direction);
        return false;
    }
    if (ms >= 1000) {
        vxsi_fmt(why, why_len, "milliseconds field %u (0..999)", ms);
        return false;
    }
    if (lat < -900000000 || lat > 900000001 || lon < -1800000000 || lon > 1800000001) {
        vxsi_fmt(why, why_len, "position %ld, %ld outside +-90, +-180 degrees", (long)lat,
                 (long)lon);
        return false;
    }
    if (plen == 0 || plen > VXS_WYDOT_MAX_PAYLOAD) {
        vxsi_fmt(why, why_len, "payload length %zu (1..%d)", plen, VXS_WYDOT_MAX_PAYLOAD);
        return false;
    }
    if (WYDOT_HEADER + (uint64_t)plen > left) {
        vxsi_fmt(why, why_len, "payload length %zu runs %llu bytes past the end of the file",
                 plen,
                 (unsigned long long)(WYDOT_HEADER + (uint64_t)plen - left));
        return false;
    }
    const size_t have = n - WYDOT_HEADER < plen ? n - WYDOT_HEADER : plen;
    if (!vxsi_v2x_payload_plausible(p + WYDOT_HEADER, have)) {
        vxsi_fmt(why, why_len, "payload starts neither like 1609.2 data nor like a J2735 "
                               "MessageFrame");
        return false;
    }
    return true;
}

/* ---- hex lines ----------------------------------------------------------------------------- */

static int hexval(int c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* parse_stamp reads a timestamp token: ISO 8601 through the core parser, else seconds since
 * 1970 with an optional fraction (up to 9 digits). */
static bool parse_stamp(vxs_time_t *out, const char *tok, size_t n) {
    char buf[64];
    if (n == 0 || n >= sizeof buf) return false;
    memcpy(buf, tok, n);
    buf[n] = '\0';
    if (memchr(buf, '-', n) && vxs_time_parse(out, buf) == VXS_OK) return true;
    int64_t sec = 0, frac = 0;
    size_t i = 0, fd = 0;
    for (; i < n && isdigit((unsigned char)buf[i]); i++) {
        if (sec > INT64_MAX / 10 / 1000000000 - 1) return false;
        sec = sec * 10 + (buf[i] - '0');
    }
    if (i == 0) return false;
    if (i < n && buf[i] == '.') {
        for (i++; i < n && isdigit((unsigned char)buf[i]); i++)
            if (fd < 9) {
                frac = frac * 10 + (buf[i] - '0');
                fd++;
            }
    }
    if (i != n) return false;
    for (; fd < 9; fd++) frac *= 10;
    *out = sec * 1000000000 + frac;
    return true;
}

vxs_status_t vxs_hexlog_parse_line(uint8_t *out, size_t *out_len, vxs_time_t *out_time,
                                   const char *line, size_t line_len, size_t out_cap, char *err,
                                   size_t err_len) {
    size_t i = 0, n = 0;
    if (!out || !out_len || !out_time || (!line && line_len)) return VXS_E_ARG;
    *out_len = 0;
    *out_time = VXS_TIME_NONE;
    while (line_len && (line[line_len - 1] == '\n' || line[line_len - 1] == '\r')) line_len--;
    while (i < line_len && (line[i] == ' ' || line[i] == '\t')) i++;
    if (i == line_len || line[i] == '#') return VXS_EOF;
    /* A timestamp is a first token followed by a separator and more text. */
    size_t j = i;
    while (j < line_len && line[j] != ' ' && line[j] != '\t' && line[j] != ',' && line[j] != ';')
        j++;
    if (j < line_len) {
        vxs_time_t t;
        if (parse_stamp(&t, line + i, j - i)) {
            *out_time = t;
            i = j + 1;
        }
    }
    int hi = -1;
    for (; i < line_len; i++) {
        int c = (unsigned char)line[i], v;
        if (c == ' ' || c == '\t' || c == ',' || c == ';') {
            if (hi >= 0) break; /* a separator inside a byte */
            continue;
        }
        v = hexval(c);
        if (v < 0) {
            vxsi_fmt(err, err_len, "column %zu: '%c' is not a hex digit", i + 1,
                     isprint(c) ? c : '?');
            return VXS_E_MALFORMED;
        }
        if (hi < 0) {
            hi = v;
            continue;
        }
        if (n == out_cap) {
            vxsi_fmt(err, err_len, "message longer than %zu bytes", out_cap);
            return VXS_E_LIMIT;
        }
        out[n++] = (uint8_t)(hi << 4 | v);
        hi = -1;
    }
    if (hi >= 0) {
        vxsi_fmt(err, err_len, "column %zu: odd number of hex digits", i + 1);
        return VXS_E_MALFORMED;
    }
    if (n == 0) {
        vxsi_fmt(err, err_len, "no hex message on the line");
        return VXS_E_MALFORMED;
    }
    *out_len = n;
    return VXS_OK;
}

/* ---- reader -------------------------------------------------------------------------------- */

static void report(vxs_v2x_reader_t *r, const char *unit_name, uint64_t unit, uint64_t offset,
                   vxs_status_t st, const char *fmt, ...) VXS_PRINTF(6, 7);

static void report(vxs_v2x_reader_t *r, const char *unit_name, uint64_t unit, uint64_t offset,
                   vxs_status_t st, const char *fmt, ...) {
    char detail[512];
    va_list ap;
    vxs_diag_t d;
    va_start(ap, fmt);
    vsnprintf(detail, sizeof detail, fmt, ap);
    va_end(ap);
    snprintf(r->errmsg, sizeof r->errmsg, "%s: %s %llu (byte offset %llu): %s", r->path,
             unit_name, (unsigned long long)unit + 1, (unsigned long long)offset, detail);
    d.file = r->path;
    d.unit = unit + 1;
    d.offset = offset;
    d.status = st;
    d.msg = r->errmsg;
    vxs_diag_emit(r->diag_ptr, &d);
}

static vxs_status_t grow(vxs_v2x_reader_t *r, size_t n) {
    uint8_t *b;
    if (n <= r->buf_cap) return VXS_OK;
    b = vxs_realloc(r->buf, n);
    if (!b) return VXS_E_NOMEM;
    r->buf = b;
    r->buf_cap = n;
    return VXS_OK;
}

vxs_status_t vxs_v2x_reader_open(vxs_v2x_reader_t **out, const char *path,
                                 const vxs_v2x_reader_options_t *opt, char *err, size_t err_len) {
    vxs_v2x_reader_t *r;
    vxs_status_t st = VXS_OK;
    struct stat sb;
    if (!out || !path) return VXS_E_ARG;
    *out = NULL;
    r = vxs_calloc(1, sizeof *r);
    if (!r) return VXS_E_NOMEM;
    if (opt) r->opt = *opt;
    r->path = vxs_strdup(path);
    if (!r->path) {
        vxs_free(r);
        return VXS_E_NOMEM;
    }
    if (r->opt.limits)
        r->lim = *r->opt.limits;
    else
        vxs_limits_default(&r->lim);
    r->opt.limits = NULL;
    if (r->opt.diag) {
        r->diag = *r->opt.diag;
        r->diag_ptr = &r->diag;
    }
    r->opt.diag = NULL;
    if (r->opt.n_own_macs) {
        r->own_macs = vxs_calloc(r->opt.n_own_macs, 6);
        if (!r->own_macs) {
            vxs_v2x_reader_close(r);
            return VXS_E_NOMEM;
        }
        memcpy(r->own_macs, r->opt.own_macs, r->opt.n_own_macs * 6);
    }
    r->opt.own_macs = NULL;
    r->fp = fopen(path, "rb");
    if (!r->fp) {
        vxsi_fmt(err, err_len, "%s: cannot open: %s", path, strerror(errno));
        vxs_v2x_reader_close(r);
        return VXS_E_IO;
    }
    if (fstat(fileno(r->fp), &sb) == 0) r->file_size = (uint64_t)sb.st_size;
    r->format = r->opt.format;
    if (r->format == VXS_V2X_FMT_AUTO) {
        /* The one content detection (vxs_probe_file): a capture, a Wyoming log, a hex log, each
         * by its own evidence; anything else is refused, never read as a default format. */
        vxs_file_probe_t pr;
        st = vxs_probe_file(&pr, path, err, err_len);
        if (st == VXS_OK) {
            switch (pr.kind) {
            case VXS_FILE_PCAP:
            case VXS_FILE_PCAPNG: r->format = VXS_V2X_FMT_PCAP; break;
            case VXS_FILE_WYDOT_LOG: r->format = VXS_V2X_FMT_WYDOT; break;
            case VXS_FILE_HEX_LOG: r->format = VXS_V2X_FMT_HEX; break;
            default:
                vxsi_fmt(err, err_len, "%s: not a V2X capture or log (%s: %s)", path,
                         vxs_file_kind_name(pr.kind), pr.detail);
                st = VXS_E_UNSUPPORTED;
                break;
            }
        }
        if (st != VXS_OK) {
            vxs_v2x_reader_close(r);
            return st;
        }
    }
    if (r->format == VXS_V2X_FMT_PCAP) {
        fclose(r->fp);
        r->fp = NULL;
        st = vxs_pcap_open_file(&r->pcap, path, &r->lim, r->diag_ptr, err, err_len);
    } else {
        rewind(r->fp);
        if (r->format == VXS_V2X_FMT_HEX) {
            r->line = vxs_malloc(MAX_LINE);
            st = r->line ? grow(r, MAX_LINE / 2) : VXS_E_NOMEM;
        } else {
            st = grow(r, WYDOT_HEADER + 1024);
        }
    }
    if (st != VXS_OK) {
        vxs_v2x_reader_close(r);
        return st;
    }
    *out = r;
    return VXS_OK;
}

/* decode_at decodes a log's payload: a MessageFrame, or 1609.2 data holding one. */
static vxs_status_t decode_at(vxs_v2x_msg_t *m, const uint8_t *p, size_t n, char *err,
                              size_t err_len) {
    if (is_1609dot2(p, n)) {
        const uint8_t *inner = NULL;
        size_t inner_len = 0;
        vxs_v2x_msg_init(m);
        VXS_FORWARD(vxs_v2x_decode_1609dot2(m, &inner, &inner_len, p, n, err, err_len));
        return vxsi_j2735_frame(m, inner, inner_len, err, err_len);
    }
    return vxs_v2x_decode_j2735(m, p, n, err, err_len);
}

/* decode_j2735_unit decodes a log's payload: 1609.2 data or a MessageFrame at its start, or,
 * when neither starts it (or the MessageFrame there has an id J2735 does not assign), one
 * behind a forwarding header (a roadside unit's UDP forward puts
 * a header of its own before the 1609.2 data; jpo-ode finds the message the same way). The
 * header's length goes to *skipped. */
static vxs_status_t decode_j2735_unit(vxs_v2x_msg_t *m, const uint8_t *p, size_t n,
                                      uint32_t *skipped, char *err, size_t err_len) {
    *skipped = 0;
    if (is_1609dot2(p, n) || frame_fits(p, n, true)) return decode_at(m, p, n, err, err_len);
    for (size_t i = 1; i < n && i <= MAX_FWD_HEADER; i++) {
        if (!is_1609dot2(p + i, n - i) && !frame_fits(p + i, n - i, true)) continue;
        if (decode_at(m, p + i, n - i, NULL, 0) == VXS_OK && m->decoded) {
            *skipped = (uint32_t)i;
            return VXS_OK;
        }
    }
    /* nothing behind a header: what the start holds (an unassigned id is kept with its id) */
    return decode_at(m, p, n, err, err_len);
}

static bool own_mac(const vxs_v2x_reader_t *r, const uint8_t mac[6]) {
    for (size_t i = 0; i < r->opt.n_own_macs; i++)
        if (memcmp(r->own_macs[i], mac, 6) == 0) return true;
    return false;
}

/* finish fills the record from the decoded message. */
static void finish(vxs_v2x_reader_t *r, vxs_time_t capture, uint64_t index, uint64_t offset,
                   uint32_t count) {
    const vxs_v2x_msg_t *m = &r->msg;
    vxs_record_t *rec = &r->rec;
    vxs_v2x_summary_t *s = &rec->u.v2x;
    vxs_v2x_resolve_times(&r->times, m, capture);
    if (r->link.direction < 0 && (r->opt.n_own_macs || r->opt.own_station_id > 0)) {
        bool mine = (r->link.has_mac && own_mac(r, r->link.src_mac)) ||
                    (r->opt.own_station_id > 0 && m->station_id == r->opt.own_station_id);
        r->link.direction = mine ? 0 : 1;
    }
    vxs_record_init(rec, VXS_REC_V2X);
    rec->agent = r->opt.agent;
    rec->sensor = r->opt.sensor;
    rec->capture_time = capture;
    rec->device_time = r->times.gen;
    rec->device_clock.kind = VXS_CLOCK_SENDER;
    rec->device_clock.agent = r->opt.agent;
    rec->device_clock.station = m->station_id >= 0 ? (uint64_t)m->station_id : 0;
    /* Which of the sender's clocks `gen` came from (the same sender may stamp each layer from
     * a different clock). */
    rec->device_clock.field = r->times.gen == VXS_TIME_NONE        ? VXS_V2X_TF_NONE
                              : r->times.gen == r->times.ieee_gen  ? VXS_V2X_TF_1609_GEN
                              : r->times.gen == r->times.gen_delta ? VXS_V2X_TF_GEN_DELTA
                              : r->times.gen == r->times.sec_mark  ? VXS_V2X_TF_SEC_MARK
                              : r->times.gen == r->times.its_time  ? VXS_V2X_TF_ITS_TIME
                                                                   : VXS_V2X_TF_GN_TST;
    if (m->msg_cnt >= 0) {
        rec->seq = (uint64_t)m->msg_cnt;
        rec->has_seq = true;
    } else if (m->denm_seq >= 0) {
        rec->seq = (uint64_t)m->denm_seq;
        rec->has_seq = true;
    }
    rec->loc.source = r->opt.source_index;
    rec->loc.index = index;
    rec->loc.offset = offset;
    rec->loc.count = count;
    s->protocol = (uint16_t)m->protocol;
    s->msg_type = (uint16_t)(m->msg_id < 0 ? 0 : m->msg_id);
    s->sender_id = m->station_id >= 0 ? (uint64_t)m->station_id : 0;
    s->size = (uint32_t)m->payload_len;
    s->has_position = !isnan(m->lat_deg) && !isnan(m->lon_deg);
    s->sent = r->link.direction == 0;
    s->lat_deg = m->lat_deg;
    s->lon_deg = m->lon_deg;
    s->speed_mps = m->speed_mps;
    s->heading_deg = m->heading_deg;
    s->elev_m = m->elev_m;
    /* J2735 (SAE J670 axes, z down) counts yaw positive clockwise; ETSI counter-clockwise */
    s->yaw_rate_dps = m->protocol == VXS_V2X_PROTO_J2735 ? -m->yaw_rate_dps : m->yaw_rate_dps;
    s->accel_long_mps2 = m->accel_long_mps2;
    s->length_m = m->length_m;
    s->width_m = m->width_m;
    s->station_type = (int16_t)(m->station_type >= 0 && m->station_type <= 255 ? m->station_type
                                                                               : -1);
    s->pos_confidence_95 = m->pos_confidence_95;
    s->pos_semi_major_m = m->pos_semi_major_m;
    s->pos_semi_minor_m = m->pos_semi_minor_m;
    s->pos_orientation_deg = m->pos_orientation_deg;
    s->speed_conf_mps = m->speed_conf_mps;
    s->heading_conf_deg = m->heading_conf_deg;
    s->n_objects = (uint16_t)(m->n_objects_kept > 0 ? m->n_objects_kept : 0);
    s->out_of_range = (uint16_t)(m->n_out_of_range > UINT16_MAX ? UINT16_MAX : m->n_out_of_range);
    snprintf(s->out_of_range_field, sizeof s->out_of_range_field, "%.23s", m->out_of_range_field);
    r->counts.messages++;
    if (m->decoded) r->counts.decoded++;
}

static vxs_status_t next_pcap(vxs_v2x_reader_t *r) {
    const vxs_packet_t *pkt;
    char err[512];
    for (;;) {
        vxs_status_t st = vxs_pcap_next(r->pcap, &pkt);
        if (st == VXS_EOF) return VXS_EOF;
        if (st != VXS_OK) {
            snprintf(r->errmsg, sizeof r->errmsg, "%s", vxs_pcap_errmsg(r->pcap));
            r->counts.bad++;
            continue; /* the next call returns VXS_EOF: libpcap cannot resynchronize */
        }
        r->counts.units++;
        const vxs_pkt_info_t *pl = vxs_packet_payload(pkt);
        if (!pl || pl->kind != VXS_PL_ETHERTYPE ||
            (pl->ethertype != VXS_ETHERTYPE_GEONET && pl->ethertype != VXS_ETHERTYPE_WSMP)) {
            r->counts.other++;
            continue;
        }
        uint64_t idx = pkt->dgram ? pkt->dgram_first_index : pkt->index;
        uint64_t off = pkt->dgram ? pkt->dgram_first_offset : pkt->offset;
        err[0] = '\0';
        st = pl->ethertype == VXS_ETHERTYPE_GEONET
                 ? vxs_v2x_decode_gn(&r->msg, pl->payload, pl->payload_len, err, sizeof err)
                 : vxs_v2x_decode_wsmp(&r->msg, pl->payload, pl->payload_len, err, sizeof err);
        if (st != VXS_OK) {
            report(r, "packet", idx, off, st, "%s (%s bytes from payload offset %zu)", err,
                   pl->ethertype == VXS_ETHERTYPE_GEONET ? "GeoNetworking" : "WSMP",
                   pl->payload_offset);
            r->counts.bad++;
            continue;
        }
        memset(&r->link, 0, sizeof r->link);
        r->link.direction = -1;
        r->link.has_mac = pl->has_mac;
        memcpy(r->link.src_mac, pl->src_mac, 6);
        memcpy(r->link.dst_mac, pl->dst_mac, 6);
        r->link.has_rssi = pl->radio.has_signal;
        r->link.rssi_dbm = pl->radio.signal_dbm;
        r->link.has_channel = pl->radio.has_channel;
        r->link.freq_mhz = pl->radio.freq_mhz;
        finish(r, pkt->ts, idx, off, (uint32_t)(pkt->index - idx + 1));
        return VXS_OK;
    }
}

#define RESYNC_CHUNK (1u << 20) /* bytes scanned per read when resynchronising */
#define RESYNC_MAX_DT 86400     /* s: a record further than a day from the last is not plausible */

/* wydot_candidate checks a resynchronisation candidate at `p` (`n` bytes in memory, `left` to
 * the end of the file): a plausible record, its time within a day of the last good record's,
 * and either the end of the file right after it or a second plausible record. */
static bool wydot_candidate(const vxs_v2x_reader_t *r, const uint8_t *p, size_t n, uint64_t left) {
    if (!vxs_wydot_plausible(p, n, left, NULL, 0)) return false;
    const uint32_t sec = (uint32_t)p[17] | (uint32_t)p[18] << 8 | (uint32_t)p[19] << 16 |
                         (uint32_t)p[20] << 24;
    if (r->have_last &&
        ((int64_t)sec < r->last_sec - RESYNC_MAX_DT || (int64_t)sec > r->last_sec + RESYNC_MAX_DT))
        return false;
    const size_t len = WYDOT_HEADER + ((size_t)p[24] | (size_t)p[25] << 8);
    if (len == left) return true;
    return len + WYDOT_HEADER <= n && vxs_wydot_plausible(p + len, n - len, left - len, NULL, 0);
}

/* wydot_resync looks for the next plausible record after the start of the last good one (a
 * record whose length field was damaged may have swallowed the ones after it, which are then
 * read again), or after the last damage when it is met again without progress. On success the
 * stream and r->pos are there. */
VXSI_NO_COVERAGE
static bool wydot_resync(vxs_v2x_reader_t *r, uint64_t offset, uint64_t *at) {
    const size_t keep = 2 * WYDOT_HEADER + VXS_WYDOT_MAX_PAYLOAD;
    uint64_t from = r->have_last ? r->last_off + 1 : 1;
    bool found = false;
    if (r->have_err && offset <= r->last_err) from = r->last_err + 1;
    r->have_err = true;
    r->last_err = offset;
    if (from >= r->file_size) return false;
    const uint64_t span = r->file_size - from;
    uint8_t *buf = vxs_malloc(span < RESYNC_CHUNK + keep ? (size_t)span : RESYNC_CHUNK + keep);
    if (!buf) return false;
    for (uint64_t base = from; base < r->file_size && !found; base += RESYNC_CHUNK) {
        const uint64_t rest = r->file_size - base;
        const size_t want = (size_t)(rest < RESYNC_CHUNK + keep ? rest : RESYNC_CHUNK + keep);
        if (fseek(r->fp, (long)base, SEEK_SET) != 0 || fread(buf, 1, want, r->fp) != want) break;
        const size_t end = want < RESYNC_CHUNK ? want : RESYNC_CHUNK;
        for (size_t i = 0; i < end && !found; i++) {
            if (buf[i] > 1) continue; /* the direction byte: a cheap test first */
            if (wydot_candidate(r, buf + i, want - i, rest - i)) {
                *at = base + i;
                found = true;
            }
        }
    }
    vxs_free(buf);
    if (!found || fseek(r->fp, (long)*at, SEEK_SET) != 0) return false;
    r->pos = *at;
    return true;
}

/* wydot_damage reports a record whose header is not plausible (or that runs past the end of the
 * file) as one bad unit and resynchronises; false when nothing plausible follows. */
static bool wydot_damage(vxs_v2x_reader_t *r, uint64_t unit, uint64_t off, vxs_status_t st,
                         const char *why) {
    uint64_t at = 0;
    r->counts.bad++;
    if (!wydot_resync(r, off, &at)) {
        report(r, "record", unit, off, st, "%s; no plausible record follows: the rest of the log "
                                           "(%llu bytes) is skipped",
               why, (unsigned long long)(r->file_size > off ? r->file_size - off : 0));
        return false;
    }
    if (at >= off)
        report(r, "record", unit, off, st, "%s; resynchronised at byte %llu (skipped %llu bytes)",
               why, (unsigned long long)at, (unsigned long long)(at - off));
    else
        report(r, "record", unit, off, st,
               "%s; resynchronised at byte %llu (skipped 0 bytes: back inside the previous "
               "record, whose length field overran this one)",
               why, (unsigned long long)at);
    return true;
}

static vxs_status_t next_wydot(vxs_v2x_reader_t *r) {
    char err[512], why[160];
    for (;;) {
        uint8_t *h;
        size_t got, plen;
        vxs_wydot_record_t w;
        if (grow(r, WYDOT_HEADER) != VXS_OK) return VXS_E_NOMEM;
        h = r->buf;
        got = fread(h, 1, WYDOT_HEADER, r->fp);
        if (got == 0) return VXS_EOF;
        uint64_t unit = r->unit++, off = r->pos;
        r->counts.units++;
        if (got < WYDOT_HEADER) {
            report(r, "record", unit, off, VXS_E_TRUNCATED,
                   "log cut short: %zu of the %d header bytes", got, WYDOT_HEADER);
            r->counts.bad++;
            return VXS_EOF;
        }
        plen = (size_t)h[24] | (size_t)h[25] << 8;
        if (grow(r, WYDOT_HEADER + plen) != VXS_OK) return VXS_E_NOMEM;
        h = r->buf;
        got = plen <= VXS_WYDOT_MAX_PAYLOAD ? fread(h + WYDOT_HEADER, 1, plen, r->fp) : 0;
        if (!vxs_wydot_plausible(h, WYDOT_HEADER + got, r->file_size - off, why, sizeof why)) {
            /* Not a record: damage or misalignment. A record cut by the end of the file is
             * damage too, unless nothing plausible follows (then it is the log's cut end). */
            if (!wydot_damage(r, unit, off, VXS_E_MALFORMED, why)) return VXS_EOF;
            continue;
        }
        size_t pos = 0;
        if (vxs_wydot_next(&w, &pos, h, WYDOT_HEADER + plen) != VXS_OK)
            return VXS_E_TRUNCATED; /* cannot happen: both lengths were read above */
        r->pos += WYDOT_HEADER + plen;
        r->have_last = true;
        r->last_off = off;
        r->last_sec = w.log_time / 1000000000;
        err[0] = '\0';
        uint32_t skipped;
        vxs_status_t st =
            decode_j2735_unit(&r->msg, w.payload, w.payload_len, &skipped, err, sizeof err);
        if (st != VXS_OK) {
            report(r, "record", unit, off, st, "%s", err);
            r->counts.bad++;
            continue;
        }
        memset(&r->link, 0, sizeof r->link);
        r->link.direction = w.direction;
        r->link.header_skipped = skipped;
        finish(r, w.log_time, unit, off, 1);
        return VXS_OK;
    }
}

/* read_line reads one line (up to and including '\n', at most MAX_LINE - 1 bytes) into
 * r->line and returns its length; NUL bytes are kept (a damaged byte costs its line, it does
 * not end it). 0 at the end of the file. */
static size_t read_line(vxs_v2x_reader_t *r) {
    size_t n = 0;
    int c;
    while (n < MAX_LINE - 1 && (c = getc(r->fp)) != EOF) {
        r->line[n++] = (char)c;
        if (c == '\n') break;
    }
    r->line[n] = '\0';
    return n;
}

static vxs_status_t next_hex(vxs_v2x_reader_t *r) {
    char err[512];
    for (;;) {
        size_t n = read_line(r), len = 0;
        if (n == 0) return VXS_EOF;
        uint64_t unit = r->unit++, off = r->pos;
        vxs_time_t t;
        r->pos += n;
        if (n == MAX_LINE - 1 && r->line[n - 1] != '\n') {
            int c;
            report(r, "line", unit, off, VXS_E_LIMIT, "line longer than %d bytes", MAX_LINE);
            r->counts.bad++;
            while ((c = fgetc(r->fp)) != EOF && c != '\n') r->pos++; /* skip the rest */
            if (c == '\n') r->pos++;
            continue;
        }
        err[0] = '\0';
        vxs_status_t st =
            vxs_hexlog_parse_line(r->buf, &len, &t, r->line, n, r->buf_cap, err, sizeof err);
        if (st == VXS_EOF) continue; /* blank or comment */
        r->counts.units++;
        uint32_t skipped = 0;
        if (st == VXS_OK) st = decode_j2735_unit(&r->msg, r->buf, len, &skipped, err, sizeof err);
        if (st != VXS_OK) {
            report(r, "line", unit, off, st, "%s", err);
            r->counts.bad++;
            continue;
        }
        memset(&r->link, 0, sizeof r->link);
        r->link.direction = -1;
        r->link.header_skipped = skipped;
        finish(r, t, unit, off, 1);
        return VXS_OK;
    }
}

vxs_status_t vxs_v2x_reader_next(vxs_v2x_reader_t *r, const vxs_record_t **out) {
    vxs_status_t st;
    if (!r || !out) return VXS_E_ARG;
    *out = NULL;
    if (r->eof) return VXS_EOF;
    switch (r->format) {
    case VXS_V2X_FMT_PCAP: st = next_pcap(r); break;
    case VXS_V2X_FMT_WYDOT: st = next_wydot(r); break;
    default: st = next_hex(r); break;
    }
    if (st == VXS_EOF) r->eof = true;
    if (st == VXS_OK) *out = &r->rec;
    if (st != VXS_OK && st != VXS_EOF) {
        /* Reading cannot go on (out of memory, a record the length check let through): one bad
         * unit, reported like every other, and the end of the stream (vxs_core.h, the rule on
         * bad units). */
        report(r, r->format == VXS_V2X_FMT_PCAP ? "packet"
                  : r->format == VXS_V2X_FMT_WYDOT ? "record"
                                                    : "line",
               r->unit, r->pos, st, "reading stopped: %s", vxs_strerror(st));
        r->counts.bad++;
        r->eof = true;
    }
    return st;
}

const vxs_v2x_msg_t *vxs_v2x_reader_msg(const vxs_v2x_reader_t *r) { return r ? &r->msg : NULL; }

const vxs_record_t *vxs_v2x_reader_record(const vxs_v2x_reader_t *r) {
    return r && r->counts.messages ? &r->rec : NULL;
}

void vxs_v2x_reader_times(const vxs_v2x_reader_t *r, vxs_v2x_times_t *out) {
    if (!out) return;
    if (r)
        *out = r->times;
    else
        vxs_v2x_resolve_times(out, NULL, VXS_TIME_NONE);
}

void vxs_v2x_reader_link(const vxs_v2x_reader_t *r, vxs_v2x_link_t *out) {
    if (!out) return;
    memset(out, 0, sizeof *out);
    out->direction = -1;
    if (r) *out = r->link;
}

void vxs_v2x_reader_counts(const vxs_v2x_reader_t *r, vxs_v2x_counts_t *out) {
    if (!out) return;
    memset(out, 0, sizeof *out);
    if (r) *out = r->counts;
}

const char *vxs_v2x_reader_errmsg(const vxs_v2x_reader_t *r) { return r ? r->errmsg : ""; }

vxs_v2x_format_t vxs_v2x_reader_format(const vxs_v2x_reader_t *r) {
    return r ? r->format : VXS_V2X_FMT_AUTO;
}

uint64_t vxs_v2x_reader_position(const vxs_v2x_reader_t *r, uint64_t *file_size) {
    if (!r) return 0;
    if (r->pcap) {
        vxs_pcap_info_t info;
        vxs_pcap_get_info(r->pcap, &info);
        if (file_size) *file_size = info.file_size;
        return vxs_pcap_position(r->pcap);
    }
    if (file_size) *file_size = r->file_size;
    return r->pos;
}

void vxs_v2x_reader_close(vxs_v2x_reader_t *r) {
    if (!r) return;
    vxs_pcap_close(r->pcap);
    if (r->fp) fclose(r->fp);
    vxs_free(r->buf);
    vxs_free(r->line);
    vxs_free(r->own_macs);
    vxs_free(r->path);
    vxs_free(r);
}
