/*
 * pcap_reader.c: capture files (classic pcap and pcapng) read through libpcap at nanosecond
 * precision, from a file or from memory, with per-record decoding and IPv4 reassembly.
 *
 * Record positions. libpcap reads a savefile with plain fread() calls on its FILE and never reads
 * ahead, so ftell() just before pcap_next_ex() is where the next record starts:
 *   - classic pcap (https://www.tcpdump.org/manpages/pcap-savefile.5.html): the 16-byte record
 *     header;
 *   - pcapng (RFC draft-ietf-opsawg-pcapng): the end of the previous packet block, which is the
 *     packet block itself or a non-packet block (statistics, name resolution...) just before it.
 * vxs_pcap_fetch seeks there, calls pcap_next_ex once and seeks back. This works the same on an
 * fmemopen() stream. libpcap keeps per-file state only from the file/section header and the
 * interface blocks, all read by pcap_fopen_offline before the first record; see vxs_pcap_fetch
 * for the one pcapng case where a fetch could re-read an interface block.
 */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include <pcap/pcap.h>

#include "vxs_core.h"
#include "vxs_core_int.h"
#include "vxs_sensors.h"
#include "pcap_int.h"

#define VXS_PCAP_MSG 512  /* longest formatted detail (decoder text...) */
#define VXS_PCAP_ERR (VXS_PCAP_MSG + 128) /* ... plus file name and position */
#define VXS_PCAP_HEAD 4096 /* bytes of the file start kept to read the pcapng interface block */

struct vxs_pcap {
    pcap_t *pc;            /* owns the FILE (pcap_close fcloses it) */
    FILE *fp;
    char *name;            /* file name used in every message */
    vxs_limits_t lim;
    vxs_diag_sink_t diag;
    const vxs_diag_sink_t *diag_ptr; /* &diag, or NULL: vxs_diag_emit then logs */
    vxs_reasm_t *reasm;
    vxs_pcap_info_t info;
    uint64_t first_offset; /* where the first record starts (after the file headers) */
    uint64_t next_index;   /* number of the next record, from 0 */
    uint64_t pos;          /* byte offset reached */
    bool done;             /* EOF seen or the capture is damaged: only VXS_EOF from now on */
    bool flushed;          /* incomplete datagrams reported at the end */
    bool unsupported_reported;
    bool classic16;        /* classic pcap with 16-byte record headers: offsets by arithmetic */
    bool be;               /* record headers (classic) or blocks (pcapng) are big-endian */
    bool have_last;        /* a record was read: last_offset / last_sec hold it */
    uint64_t last_offset;  /* where the last record read starts */
    int64_t last_sec;      /* its time in seconds */
    bool have_go;          /* reading resynchronised: last_go is where it went on */
    uint64_t last_go;
    vxs_packet_t pkt;
    vxs_pkt_info_t dgram;
    vxs_pcap_counts_t counts;
    char errmsg[VXS_PCAP_ERR];
};

#if defined(__GNUC__)
#define VXS_PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#define VXS_PRINTF(a, b)
#endif

static void set_err(char *err, size_t err_len, const char *fmt, ...) VXS_PRINTF(3, 4);
static void set_err(char *err, size_t err_len, const char *fmt, ...) {
    va_list ap;
    if (!err || err_len == 0) return;
    va_start(ap, fmt);
    vsnprintf(err, err_len, fmt, ap);
    va_end(ap);
}

/* report delivers one bad unit to the diag sink as "<file>: packet N (byte offset X): msg";
 * unit 0 means "not inside a record" and drops the position. The text is also kept as errmsg
 * when `keep` is set (the error is about to be returned). */
static void report(vxs_pcap_t *p, bool keep, uint64_t unit, uint64_t offset, vxs_status_t st,
                   const char *fmt, ...) VXS_PRINTF(6, 7);
static void report(vxs_pcap_t *p, bool keep, uint64_t unit, uint64_t offset, vxs_status_t st,
                   const char *fmt, ...) {
    char text[VXS_PCAP_MSG], msg[VXS_PCAP_ERR];
    va_list ap;
    vxs_diag_t d;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    if (unit > 0)
        snprintf(msg, sizeof msg, "%s: packet %llu (byte offset %llu): %s", p->name,
                 (unsigned long long)unit, (unsigned long long)offset, text);
    else
        snprintf(msg, sizeof msg, "%s: %s", p->name, text);
    d.file = p->name;
    d.unit = unit;
    d.offset = offset;
    d.status = st;
    d.msg = msg;
    vxs_diag_emit(p->diag_ptr, &d);
    if (keep) memcpy(p->errmsg, msg, sizeof msg);
}

/* dlt_to_linktype maps libpcap's platform DLT_ values back to the LINKTYPE_ numbers of the file
 * formats (https://www.tcpdump.org/linktypes.html). Only DLT_RAW (12 on most systems, 14 on
 * OpenBSD) differs from its LINKTYPE_ among the types we decode; the others are listed so the
 * table says what is supported. An if-chain, not a switch: some platforms give two of these
 * macros the same value. */
static uint32_t dlt_to_linktype(int dlt) {
#ifdef DLT_RAW
    if (dlt == DLT_RAW) return VXS_LINKTYPE_RAW;
#endif
    if (dlt == DLT_NULL) return VXS_LINKTYPE_NULL;
    if (dlt == DLT_EN10MB) return VXS_LINKTYPE_ETHERNET;
#ifdef DLT_IEEE802_11
    if (dlt == DLT_IEEE802_11) return VXS_LINKTYPE_IEEE802_11;
#endif
#ifdef DLT_LOOP
    if (dlt == DLT_LOOP) return VXS_LINKTYPE_LOOP;
#endif
#ifdef DLT_LINUX_SLL
    if (dlt == DLT_LINUX_SLL) return VXS_LINKTYPE_LINUX_SLL;
#endif
#ifdef DLT_IEEE802_11_RADIO
    if (dlt == DLT_IEEE802_11_RADIO) return VXS_LINKTYPE_IEEE802_11_RADIOTAP;
#endif
#ifdef DLT_IPV4
    if (dlt == DLT_IPV4) return VXS_LINKTYPE_IPV4;
#endif
#ifdef DLT_IPV6
    if (dlt == DLT_IPV6) return VXS_LINKTYPE_IPV6;
#endif
#ifdef DLT_LINUX_SLL2
    if (dlt == DLT_LINUX_SLL2) return VXS_LINKTYPE_LINUX_SLL2;
#endif
    /* Unknown: pass it through; vxs_pkt_decode answers VXS_E_UNSUPPORTED. */
    return dlt < 0 ? UINT32_MAX : (uint32_t)dlt;
}

/* read_head_info fills the parts of `info` libpcap does not expose (pcapng or not, whether the
 * file stores nanoseconds) from the first bytes of the file.
 *   classic pcap: magic a1b2c3d4 (µs) or a1b23c4d (ns), in either byte order;
 *   pcapng: Section Header Block (type 0x0A0D0D0A, byte-order magic 0x1A2B3C4D), then the first
 *   Interface Description Block (type 1) whose option if_tsresol (code 9) gives the resolution:
 *   10^-v, or 2^-(v & 0x7F) when bit 7 is set; absent means µs. */
static void read_head_info(const uint8_t *head, size_t len, vxs_pcap_info_t *info) {
    vxs_rd_t r = vxs_rd_init(head, len);
    uint32_t magic = 0, blen = 0, bom = 0;
    if (!vxs_rd_u32le(&r, &magic)) return;
    if (magic == 0xa1b23c4dU || magic == 0x4d3cb2a1U) info->nanosecond_file = true;
    if (magic != 0x0a0d0d0aU) return;
    info->pcapng = true;
    if (!vxs_rd_u32le(&r, &blen) || !vxs_rd_u32le(&r, &bom)) return;
    bool be = bom == 0x4d3c2b1aU;
    r = vxs_rd_init(head, len);
    /* Walk blocks until the first IDB; all lengths are checked against what is left. */
    for (int guard = 0; guard < 16; guard++) {
        uint32_t type = 0, total = 0;
        vxs_rd_t blk, body;
        if (!(be ? vxs_rd_u32be(&r, &type) : vxs_rd_u32le(&r, &type))) return;
        if (!(be ? vxs_rd_u32be(&r, &total) : vxs_rd_u32le(&r, &total))) return;
        if (total < 12 || !vxs_rd_sub(&r, &blk, total - 8)) return;
        if (type != 1) continue;
        /* IDB body: LinkType u16, reserved u16, SnapLen u32, then options up to the trailer. */
        if (vxs_rd_left(&blk) < 4 || !vxs_rd_sub(&blk, &body, vxs_rd_left(&blk) - 4) ||
            !vxs_rd_skip(&body, 8))
            return;
        while (vxs_rd_left(&body) >= 4) {
            uint16_t code = 0, olen = 0;
            uint8_t v = 0;
            if (!(be ? vxs_rd_u16be(&body, &code) : vxs_rd_u16le(&body, &code))) return;
            if (!(be ? vxs_rd_u16be(&body, &olen) : vxs_rd_u16le(&body, &olen))) return;
            if (code == 0) return; /* opt_endofopt */
            if (code == 9 && olen >= 1 && vxs_rd_peek_u8(&body, 0, &v))
                info->nanosecond_file = (v & 0x80) ? (v & 0x7F) >= 30 : v >= 9;
            if (!vxs_rd_skip(&body, ((size_t)olen + 3) & ~(size_t)3)) return;
        }
        return;
    }
}

/* open_common finishes opening once `fp` is positioned at the file start. On failure it closes
 * fp itself (pcap_fopen_offline leaves it open when it fails). */
static vxs_status_t open_common(vxs_pcap_t **out, FILE *fp, const uint8_t *head, size_t head_len,
                                const char *name, uint64_t file_size, const vxs_limits_t *lim,
                                const vxs_diag_sink_t *diag, char *err, size_t err_len) {
    char errbuf[PCAP_ERRBUF_SIZE];
    vxs_pcap_t *p = NULL;
    vxs_status_t st = VXS_OK;
    long pos;

    errbuf[0] = '\0';
    p = vxs_calloc(1, sizeof *p);
    if (!p) {
        st = VXS_E_NOMEM;
        set_err(err, err_len, "%s: out of memory", name);
        goto cleanup;
    }
    p->name = vxs_strdup(name);
    if (!p->name) {
        st = VXS_E_NOMEM;
        set_err(err, err_len, "%s: out of memory", name);
        goto cleanup;
    }
    if (lim)
        p->lim = *lim;
    else
        vxs_limits_default(&p->lim);
    if (diag) {
        p->diag = *diag;
        p->diag_ptr = &p->diag;
    }
    p->pc = pcap_fopen_offline_with_tstamp_precision(fp, PCAP_TSTAMP_PRECISION_NANO, errbuf);
    if (!p->pc) {
        /* libpcap says "unknown file format" for anything that is not pcap/pcapng, and
         * "truncated dump file..." for a header cut short. */
        st = strstr(errbuf, "unknown file format") ? VXS_E_UNSUPPORTED : VXS_E_MALFORMED;
        set_err(err, err_len, "%s: not a capture file libpcap can read: %s", name, errbuf);
        goto cleanup;
    }
    p->fp = fp;
    fp = NULL; /* owned by p->pc from now on */
    st = vxs_reasm_create(&p->reasm, &p->lim);
    if (st != VXS_OK) {
        set_err(err, err_len, "%s: cannot create the IPv4 reassembler: %s", name,
                vxs_strerror(st));
        goto cleanup;
    }
    p->info.version_major = pcap_major_version(p->pc);
    p->info.version_minor = pcap_minor_version(p->pc);
    p->info.linktype = dlt_to_linktype(pcap_datalink(p->pc));
    p->info.snaplen = pcap_snapshot(p->pc) < 0 ? 0 : (uint32_t)pcap_snapshot(p->pc);
    p->info.file_size = file_size;
    read_head_info(head, head_len, &p->info);
    if (head_len >= 12) { /* byte order, for resynchronisation (scan_record) */
        uint32_t m = (uint32_t)head[0] | (uint32_t)head[1] << 8 | (uint32_t)head[2] << 16 |
                     (uint32_t)head[3] << 24;
        uint32_t bom = (uint32_t)head[8] | (uint32_t)head[9] << 8 | (uint32_t)head[10] << 16 |
                       (uint32_t)head[11] << 24;
        p->be = p->info.pcapng ? bom == 0x4d3c2b1aU : (m == 0xd4c3b2a1U || m == 0x4d3cb2a1U);
    }
    if (head_len >= 4) {
        /* The four standard classic magics (µs/ns, either byte order) have 16-byte record
         * headers; other variants (e.g. Kuznetzov's a1b2cd34, 24 bytes) fall back to ftell. */
        uint32_t m = (uint32_t)head[0] | (uint32_t)head[1] << 8 | (uint32_t)head[2] << 16 |
                     (uint32_t)head[3] << 24;
        p->classic16 = m == 0xa1b2c3d4U || m == 0xd4c3b2a1U || m == 0xa1b23c4dU ||
                       m == 0x4d3cb2a1U;
    }
    pos = ftell(p->fp);
    p->first_offset = pos < 0 ? 0 : (uint64_t)pos;
    p->pos = p->first_offset;
    *out = p;
    p = NULL;

cleanup:
    if (fp) fclose(fp);
    vxs_pcap_close(p);
    return st;
}

vxs_status_t vxs_pcap_open_file(vxs_pcap_t **out, const char *path, const vxs_limits_t *lim,
                                const vxs_diag_sink_t *diag, char *err, size_t err_len) {
    uint8_t head[VXS_PCAP_HEAD];
    struct stat sb;
    size_t n;
    FILE *fp = NULL;
    vxs_status_t st = VXS_OK;

    if (!out || !path) {
        set_err(err, err_len, "vxs_pcap_open_file: missing argument");
        return VXS_E_ARG;
    }
    *out = NULL;
    /* fopen ourselves rather than pcap_open_offline: errno tells a missing file (VXS_E_IO) from
     * a file that is not a capture (VXS_E_UNSUPPORTED), and fstat gives the size. */
    fp = fopen(path, "rb");
    if (!fp) {
        set_err(err, err_len, "%s: cannot open: %s", path, strerror(errno));
        st = VXS_E_IO;
        goto cleanup;
    }
    /* A 256 KiB buffer instead of stdio's 4 KiB one: 64x fewer read(2) calls on the index
     * pass (tests/bench/bench_index.c measures it); must precede the first read. */
    setvbuf(fp, NULL, _IOFBF, 256 * 1024);
    if (fstat(fileno(fp), &sb) != 0 || !S_ISREG(sb.st_mode)) {
        set_err(err, err_len, "%s: not a regular file", path);
        st = VXS_E_IO;
        goto cleanup;
    }
    if (sb.st_size == 0) {
        set_err(err, err_len, "%s: empty file, not a capture", path);
        st = VXS_E_MALFORMED;
        goto cleanup;
    }
    n = fread(head, 1, sizeof head, fp);
    if (ferror(fp) || fseek(fp, 0, SEEK_SET) != 0) {
        set_err(err, err_len, "%s: read error: %s", path, strerror(errno));
        st = VXS_E_IO;
        goto cleanup;
    }
    st = open_common(out, fp, head, n, path, (uint64_t)sb.st_size, lim, diag, err, err_len);
    fp = NULL; /* open_common owns it now, on success and on failure */

cleanup:
    if (fp) fclose(fp);
    return st;
}

vxs_status_t vxs_pcap_open_mem(vxs_pcap_t **out, const void *data, size_t len, const char *name,
                               const vxs_limits_t *lim, const vxs_diag_sink_t *diag, char *err,
                               size_t err_len) {
    FILE *fp;
    if (!name) name = "(memory)";
    if (!out || (!data && len > 0)) {
        set_err(err, err_len, "%s: missing argument", name);
        return VXS_E_ARG;
    }
    *out = NULL;
    /* POSIX allows fmemopen to reject size 0; an empty buffer is no capture anyway. */
    if (len == 0) {
        set_err(err, err_len, "%s: empty, not a capture", name);
        return VXS_E_MALFORMED;
    }
    /* The stream is read-only ("rb"), so casting away const never lets anything write. */
    fp = fmemopen((void *)(uintptr_t)data, len, "rb");
    if (!fp) {
        set_err(err, err_len, "%s: fmemopen failed: %s", name, strerror(errno));
        return VXS_E_IO;
    }
    return open_common(out, fp, data, len < VXS_PCAP_HEAD ? len : VXS_PCAP_HEAD, name,
                       (uint64_t)len, lim, diag, err, err_len);
}

void vxs_pcap_close(vxs_pcap_t *p) {
    if (!p) return;
    if (p->pc) pcap_close(p->pc);
    vxs_reasm_destroy(p->reasm);
    vxs_free(p->name);
    vxs_free(p);
}

void vxs_pcap_get_info(const vxs_pcap_t *p, vxs_pcap_info_t *out) {
    if (!out) return;
    if (!p) {
        memset(out, 0, sizeof *out);
        return;
    }
    *out = p->info;
}

/* ts_to_ns converts libpcap's time (tv_usec holds ns at nanosecond precision) without overflow:
 * pcapng stores 64-bit times, so tv_sec can be far outside vxs_time_t's ±292 years. */
/* ts_to_ns converts libpcap's time (tv_usec holds ns at nanosecond precision). A sub-second
 * field of a second or more is malformed; like tshark, it is carried into the seconds, and
 * *out_carried says so. False if the result does not fit. */
static bool ts_to_ns(const struct timeval *tv, vxs_time_t *out, bool *out_carried) {
    int64_t sec = (int64_t)tv->tv_sec, ns = (int64_t)tv->tv_usec;
    *out_carried = ns >= VXS_NS_PER_S;
    if (ns < 0) return false;
    sec += ns / VXS_NS_PER_S;
    ns %= VXS_NS_PER_S;
    if (sec > (INT64_MAX - ns) / VXS_NS_PER_S || sec < INT64_MIN / VXS_NS_PER_S + 1) return false;
    *out = sec * VXS_NS_PER_S + ns;
    return true;
}

/* report_expired drains the reassembler of datagrams older than `now` (every pending one when now
 * is VXS_TIME_NONE, at the end of the capture). Each names its first fragment's record. */
static void report_expired(vxs_pcap_t *p, vxs_time_t now) {
    vxs_reasm_lost_t lost;
    while (vxs_reasm_pop_expired(p->reasm, &lost, now)) {
        char src[VXS_ADDR_STRLEN], dst[VXS_ADDR_STRLEN];
        vxs_addr_format(src, sizeof src, lost.src_addr);
        vxs_addr_format(dst, sizeof dst, lost.dst_addr);
        report(p, false, lost.first_index + 1, lost.first_offset, VXS_E_TRUNCATED,
               "incomplete IPv4 datagram (id 0x%04x, %s -> %s): %u fragment(s), %u byte(s) "
               "received, dropped %s",
               lost.ip_id, src, dst, lost.fragments, lost.bytes,
               now == VXS_TIME_NONE ? "at the end of the capture" : "after the reassembly timeout");
    }
}

/* decode_record runs the layer decoder and the reassembler on the record in p->pkt. */
static void decode_record(vxs_pcap_t *p, size_t wirelen) {
    vxs_packet_t *k = &p->pkt;
    char msg[256];
    vxs_status_t st;

    msg[0] = '\0';
    st = vxs_pkt_decode(&k->info, p->info.linktype, k->data, k->caplen, wirelen, msg, sizeof msg);
    k->decode_status = st;
    if (k->info.snap_truncated) p->counts.snap_truncated++;
    if (st != VXS_OK) {
        p->counts.decode_errors++;
        /* An unsupported link type fails every record the same way: say it once per file
         * (every such record is still counted in decode_errors). */
        if (st == VXS_E_UNSUPPORTED) {
            if (!p->unsupported_reported)
                report(p, false, 0, 0, st, "link type %u is not supported (%s); no record of "
                       "this capture is decoded", p->info.linktype, msg);
            p->unsupported_reported = true;
        } else {
            report(p, false, k->index + 1, k->offset, st, "%s", msg[0] ? msg : vxs_strerror(st));
        }
        return;
    }
    if (k->info.kind == VXS_PL_FRAGMENT) {
        bool done = false;
        uint64_t fi = 0, fo = 0;
        msg[0] = '\0';
        st = vxs_reasm_add(p->reasm, &p->dgram, &done, &fi, &fo, k->ts, k->index, k->offset,
                           &k->info, msg, sizeof msg);
        if (st != VXS_OK) {
            report(p, false, k->index + 1, k->offset, st, "IPv4 reassembly: %s",
                   msg[0] ? msg : vxs_strerror(st));
        } else if (done) {
            k->dgram = &p->dgram;
            k->dgram_first_index = fi;
            k->dgram_first_offset = fo;
        }
    }
}

/* ---- resynchronisation after a damaged record ------------------------------------------ */

#define RESYNC_CHUNK (1u << 20)     /* bytes scanned per read */
#define RESYNC_MAX_BLOCK (1u << 20) /* a record or block longer than this is not plausible */
#define RESYNC_MAX_DT 86400         /* s: a record further than a day from the last is not */

static uint32_t get32(const uint8_t *b, bool be) {
    return be ? (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3]
              : (uint32_t)b[3] << 24 | (uint32_t)b[2] << 16 | (uint32_t)b[1] << 8 | b[0];
}

/* classic_ok says whether the 16 bytes at `h` (of `left` bytes to the end of the file) are a
 * plausible classic record header: sub-second field in range, captured length within the
 * snapshot length and the limit and not above the original length, which is not 0, the whole record in the
 * file, and (when a record was read before) a time within a day of it. *len gets the record's
 * size. */
static bool classic_ok(const vxs_pcap_t *p, const uint8_t *h, uint64_t left, bool have_sec,
                       int64_t sec0, uint32_t *len) {
    uint32_t sec = get32(h, p->be), sub = get32(h + 4, p->be), cap = get32(h + 8, p->be),
             orig = get32(h + 12, p->be);
    uint32_t snap = p->info.snaplen ? p->info.snaplen : 262144;
    if (sub >= (p->info.nanosecond_file ? 1000000000u : 1000000u)) return false;
    if (cap > snap || cap > p->lim.max_record || cap > orig || orig == 0 ||
        orig > RESYNC_MAX_BLOCK)
        return false;
    if ((uint64_t)cap + 16 > left) return false;
    if (have_sec && ((int64_t)sec < sec0 - RESYNC_MAX_DT || (int64_t)sec > sec0 + RESYNC_MAX_DT))
        return false;
    *len = 16 + cap;
    return true;
}

/* block_ok says whether the bytes at `h` start a plausible pcapng packet, statistics or name
 * block (types 2-6: never a section or interface block, whose state libpcap keeps): its total
 * length a multiple of 4, at least 12, inside the file and repeated at its end. `avail` bytes
 * of it are in memory; a trailer beyond them is not checked. */
static bool block_ok(const vxs_pcap_t *p, const uint8_t *h, size_t avail, uint64_t left,
                     uint32_t *len) {
    uint32_t type = get32(h, p->be), total = get32(h + 4, p->be);
    if (type < 2 || type > 6) return false;
    if (total < 12 || total % 4 != 0 || total > RESYNC_MAX_BLOCK || total > left) return false;
    if (type == 6 && (total < 32 || get32(h + 8, p->be) > 255 ||
                      get32(h + 20, p->be) > total - 32))
        return false; /* EPB: interface id, captured length inside the block */
    if (total <= avail && get32(h + total - 4, p->be) != total) return false;
    *len = total;
    return true;
}

/* unit_ok checks one record or block at `h` and, when it does not end the file, the one that
 * follows it: two plausible units in a row, or one that ends exactly at the end of the file. */
VXSI_NO_COVERAGE
static bool unit_ok(const vxs_pcap_t *p, const uint8_t *h, size_t avail, uint64_t left) {
    uint32_t len = 0, len2 = 0;
    if (p->info.pcapng) {
        if (avail < 24 || !block_ok(p, h, avail, left, &len)) return false;
        if (len == left) return true;
        return len + 24 <= avail && block_ok(p, h + len, avail - len, left - len, &len2);
    }
    if (avail < 16 || !classic_ok(p, h, left, p->have_last, p->last_sec, &len)) return false;
    if (len == left) return true;
    return len + 16 <= avail &&
           classic_ok(p, h + len, left - len, true, (int64_t)get32(h, p->be), &len2);
}

/* scan_record looks for the next plausible record (classic pcap with 16-byte headers) or block
 * (pcapng, at 4-byte alignment) from `from` on, reading the file in chunks; *at gets its
 * offset. False when there is none before the end of the file or the file cannot be read. The
 * stream is left anywhere: the caller seeks. */
VXSI_NO_COVERAGE
static bool scan_record(vxs_pcap_t *p, uint64_t from, uint64_t *at) {
    const uint64_t size = p->info.file_size;
    const size_t keep = 2 * 16 + (size_t)RESYNC_MAX_BLOCK; /* a unit and the next one's header */
    uint8_t *buf;
    bool found = false;
    if (!p->classic16 && !p->info.pcapng) return false;
    if (p->info.pcapng) from = (from + 3) & ~(uint64_t)3;
    if (size == 0 || from >= size) return false;
    const uint64_t span = size - from;
    buf = vxs_malloc(span < RESYNC_CHUNK + keep ? (size_t)span : RESYNC_CHUNK + keep);
    if (!buf) return false;
    for (uint64_t base = from; base < size && !found; base += RESYNC_CHUNK) {
        size_t want = (size_t)(size - base < RESYNC_CHUNK + keep ? size - base : RESYNC_CHUNK + keep);
        if (fseek(p->fp, (long)base, SEEK_SET) != 0 || fread(buf, 1, want, p->fp) != want) break;
        size_t end = want < RESYNC_CHUNK ? want : RESYNC_CHUNK;
        const size_t step = p->info.pcapng ? 4 : 1;
        /* A cheap byte test first: the high byte of a classic record's captured and original
         * lengths (below 16 MiB), the three high bytes of a pcapng block type (2..6). */
        const size_t hb = p->be ? 0 : 3, lb = p->be ? 3 : 0;
        /* ... the high byte of the sub-second field (below 1e6 or 1e9), a non-zero length */
        const uint8_t sub_hi = p->info.nanosecond_file ? 0x3b : 0x00;
        for (size_t i = 0; i + 16 <= want && i < end; i += step) {
            const uint8_t *h = buf + i;
            if (p->info.pcapng ? (h[hb] != 0 || h[1] != 0 || h[2] != 0 || h[lb] < 2 || h[lb] > 6)
                               : (h[8 + hb] != 0 || h[12 + hb] != 0 || h[4 + hb] > sub_hi ||
                                  (h[12] | h[13] | h[14] | h[15]) == 0))
                continue;
            if (unit_ok(p, h, want - i, size - base - i)) {
                *at = base + i;
                found = true;
                break;
            }
        }
    }
    vxs_free(buf);
    return found;
}

/* resync_find is called when libpcap reports damage at `offset` (or a record there is
 * misaligned garbage). It looks for the next plausible record after the start of the last good
 * one (a record whose length field was damaged may have swallowed the ones after it, which are
 * then read again), or, when the damage is where the last resynchronisation went (the record
 * found there refused at once), after that. *at gets where reading goes on. False: nothing
 * plausible follows, the capture ends there. Every resynchronisation either is followed by a
 * record read (the last good one moves on) or moves past the place it found: reading ends. The
 * decision depends only on the last good record and the bytes after it, so a reader that seeks
 * to a record (vxs_pcap_seek: a sweep's fetch) reads the same records the first pass read. */
static bool resync_find(vxs_pcap_t *p, uint64_t offset, uint64_t *at) {
    uint64_t from = p->have_last ? p->last_offset + 1 : p->first_offset + 1;
    if (p->have_go && offset == p->last_go && offset + 1 > from) from = offset + 1;
    if (!scan_record(p, from, at) || fseek(p->fp, (long)*at, SEEK_SET) != 0) return false;
    p->have_go = true;
    p->last_go = *at;
    p->counts.resyncs++;
    p->pos = *at;
    return true;
}

/* blocks_ok walks the pcapng blocks libpcap read from `from` to `end` (the packet block it
 * returned and any blocks it skipped before it) and says whether each is a block type pcapng
 * defines with a sane length, ending exactly at `end`. libpcap skips unknown block types
 * silently, so a damaged length that lands on bytes it takes for such a block would otherwise
 * lose blocks without a word. The common case, one packet block without options, costs no
 * read; otherwise the stream is put back at `end`. */
static bool blocks_ok(vxs_pcap_t *p, const struct pcap_pkthdr *hdr, uint64_t from, uint64_t end) {
    bool ok = true;
    if (end - from == 32 + (((uint64_t)hdr->caplen + 3) & ~(uint64_t)3)) return true;
    for (uint64_t pos = from; pos < end && ok;) {
        uint8_t h[8];
        if (fseek(p->fp, (long)pos, SEEK_SET) != 0 || fread(h, 1, 8, p->fp) != 8) {
            ok = false;
            break;
        }
        const uint32_t type = get32(h, p->be), total = get32(h + 4, p->be);
        const bool known = (type >= 1 && type <= 6) || type == 9 || type == 10 ||
                           type == 0x0a0d0d0au || type == 0x00000badu || type == 0x40000badu;
        ok = known && total >= 12 && total % 4 == 0 && total <= end - pos;
        pos += total;
    }
    if (fseek(p->fp, (long)end, SEEK_SET) != 0) p->done = true;
    return ok;
}

/* suspect says why a classic record libpcap returned looks like misaligned bytes rather than
 * a record (NULL when it does not): a sub-second field of a second or more, a time more than a
 * day from the last record's, a captured length above the original length. */
static const char *suspect(const vxs_pcap_t *p, const struct pcap_pkthdr *hdr) {
    if (hdr->ts.tv_usec >= 1000000000L) return "sub-second field of a second or more";
    if (hdr->caplen > hdr->len) return "captured length above the original length";
    if (p->have_last && ((int64_t)hdr->ts.tv_sec < p->last_sec - RESYNC_MAX_DT ||
                         (int64_t)hdr->ts.tv_sec > p->last_sec + RESYNC_MAX_DT))
        return "time more than a day from the last record's";
    return NULL;
}

/* follower_ok says whether the record after the one at `offset` (just read, the stream right
 * after it) has a plausible header, or the file ends there. Moves the stream. */
static bool follower_ok(vxs_pcap_t *p, const struct pcap_pkthdr *hdr, uint64_t offset) {
    const uint64_t next = offset + 16 + hdr->caplen, size = p->info.file_size;
    uint8_t h[16];
    uint32_t len = 0;
    if (size == 0 || next == size) return true;
    if (next + 16 > size) return false;
    if (fseek(p->fp, (long)next, SEEK_SET) != 0 || fread(h, 1, 16, p->fp) != 16) return false;
    return classic_ok(p, h, size - next, true, (int64_t)hdr->ts.tv_sec, &len);
}

vxs_status_t vxs_pcap_next(vxs_pcap_t *p, const vxs_packet_t **out) {
    struct pcap_pkthdr *hdr;
    const u_char *data;
    if (!p || !out) return VXS_E_ARG;
    *out = NULL;
    for (;;) {
        long at;
        uint64_t offset;
        int rc;

        if (p->done) {
            if (!p->flushed) report_expired(p, VXS_TIME_NONE);
            p->flushed = true;
            return VXS_EOF;
        }
        /* The record starts where the previous one ended (vxs_pcap_fetch puts the stream
         * back where it found it), so one position per record suffices. */
        offset = p->pos;
        rc = pcap_next_ex(p->pc, &hdr, &data);
        if (rc == PCAP_ERROR_BREAK) { /* end of file */
            p->done = true;
            p->pos = offset;
            continue;
        }
        if (rc != 1) {
            /* The capture itself is damaged: a record header (or pcapng block) that libpcap
             * refuses. Records carry no markers, so the reader looks for the next plausible
             * one (resync); without one, this is the end of the capture. */
            const char *why = pcap_geterr(p->pc);
            vxs_status_t st = strstr(why, "truncated") ? VXS_E_TRUNCATED : VXS_E_MALFORMED;
            uint64_t go = 0;
            p->counts.capture_errors++;
            p->pos = offset;
            if (resync_find(p, offset, &go)) {
                if (go >= offset)
                    report(p, false, p->next_index + 1, offset, st,
                           "%s; resynchronised at byte %llu (skipped %llu bytes)", why,
                           (unsigned long long)go, (unsigned long long)(go - offset));
                else
                    report(p, false, p->next_index + 1, offset, st,
                           "%s; resynchronised at byte %llu (skipped 0 bytes: back inside the "
                           "previous record, whose length field overran this one)",
                           why, (unsigned long long)go);
                p->next_index++; /* the damaged record keeps its number */
                continue;
            }
            report(p, true, p->next_index + 1, offset, st, "%s", why);
            p->done = true;
            return st;
        }
        /* A record longer than the file's snaplen is cut to snaplen by libpcap, which skips the
         * rest: only a caplen below snaplen is the record's true stored length. */
        if (p->classic16 && hdr->caplen < p->info.snaplen) {
            p->pos = offset + 16 + hdr->caplen;
        } else {
            at = ftell(p->fp);
            p->pos = at < 0 ? offset : (uint64_t)at;
        }
        if (p->info.pcapng && p->pos > offset && !blocks_ok(p, hdr, offset, p->pos)) {
            p->counts.capture_errors++;
            report(p, false, p->next_index + 1, offset, VXS_E_MALFORMED,
                   "damaged pcapng blocks between bytes %llu and %llu, skipped by libpcap; "
                   "resynchronised at byte %llu (skipped %llu bytes)",
                   (unsigned long long)offset, (unsigned long long)p->pos,
                   (unsigned long long)p->pos, (unsigned long long)(p->pos - offset));
            p->next_index++;
            continue;
        }
        /* A record libpcap accepts may still be misaligned garbage after a damaged length
         * (a caplen of 0 makes the record's payload the next "header"): a suspect one whose
         * follower is not plausible either is damage, and reading resynchronises. */
        if (p->classic16 && hdr->caplen < p->info.snaplen) {
            const char *why = suspect(p, hdr);
            uint64_t go = 0;
            if (why && !follower_ok(p, hdr, offset) && resync_find(p, offset, &go)) {
                p->counts.capture_errors++;
                report(p, false, p->next_index + 1, offset, VXS_E_MALFORMED,
                       "implausible record header (%s) followed by no plausible record; "
                       "resynchronised at byte %llu (skipped %llu bytes)",
                       why, (unsigned long long)go,
                       (unsigned long long)(go > offset ? go - offset : 0));
                p->next_index++;
                continue;
            }
            if (why && fseek(p->fp, (long)p->pos, SEEK_SET) != 0) {
                p->done = true; /* cannot happen on a file we just read */
                continue;
            }
        }
        /* Field by field, not memset: this runs per record, and vxs_pkt_decode resets the
         * (large) info part itself. */
        p->pkt.decode_status = VXS_OK;
        p->pkt.dgram = NULL;
        p->pkt.dgram_first_index = 0;
        p->pkt.dgram_first_offset = 0;
        p->pkt.index = p->next_index++;
        p->pkt.offset = offset;
        p->have_last = true;
        p->last_offset = offset;
        p->last_sec = (int64_t)hdr->ts.tv_sec;
        p->pkt.caplen = hdr->caplen;
        p->pkt.wirelen = hdr->len;
        p->pkt.data = data;
        bool carried = false;
        if (!ts_to_ns(&hdr->ts, &p->pkt.ts, &carried)) {
            p->pkt.ts = VXS_TIME_NONE;
            report(p, false, p->pkt.index + 1, offset, VXS_E_MALFORMED,
                   "timestamp %lld s + %lld sub-second units is outside the representable range",
                   (long long)hdr->ts.tv_sec, (long long)hdr->ts.tv_usec);
        } else if (carried) {
            report(p, false, p->pkt.index + 1, offset, VXS_E_MALFORMED,
                   "sub-second timestamp field %lld is a second or more (carried into the "
                   "seconds, as tshark does)",
                   (long long)(p->info.nanosecond_file ? hdr->ts.tv_usec : hdr->ts.tv_usec / 1000));
        }
        if (hdr->caplen > p->lim.max_record) {
            /* A bad unit, not capture damage: counted as a record (so counts match capinfos)
             * and as a decode error, reported, and skipped. */
            p->counts.records++;
            p->counts.bytes += hdr->caplen;
            p->counts.decode_errors++;
            report(p, false, p->pkt.index + 1, offset, VXS_E_LIMIT,
                   "captured length %u > limit max_record %zu: record skipped", hdr->caplen,
                   p->lim.max_record);
            continue;
        }
        /* Expire old datagrams before adding this record's fragment: the reassembler's output
         * stays valid only until its next call, and the record we return may point into it. */
        if (p->pkt.ts != VXS_TIME_NONE) report_expired(p, p->pkt.ts);
        decode_record(p, hdr->len > hdr->caplen ? hdr->len : hdr->caplen);
        p->counts.records++;
        p->counts.bytes += hdr->caplen;
        *out = &p->pkt;
        return VXS_OK;
    }
}

const char *vxs_pcap_errmsg(const vxs_pcap_t *p) { return p ? p->errmsg : ""; }

uint64_t vxs_pcap_position(const vxs_pcap_t *p) { return p ? p->pos : 0; }

/* check_record_offset refuses offsets that cannot start a record. Offsets before the first
 * record would make libpcap re-read the file header or, for pcapng, an interface block (adding
 * a duplicate interface). A pcapng block further on that defines a new interface or section has
 * the same problem; libpcap 1.10 rejects interfaces whose link type differs, so a duplicate is
 * harmless in practice. */
static vxs_status_t check_record_offset(vxs_pcap_t *p, uint64_t index, uint64_t offset) {
    if (offset < p->first_offset || (p->info.file_size && offset >= p->info.file_size) ||
        offset > (uint64_t)LONG_MAX) {
        snprintf(p->errmsg, sizeof p->errmsg,
                 "%s: packet %llu (byte offset %llu): no record starts there", p->name,
                 (unsigned long long)index + 1, (unsigned long long)offset);
        return VXS_E_NOTFOUND;
    }
    return VXS_OK;
}

vxs_status_t vxs_pcap_fetch(vxs_pcap_t *p, vxs_buf_t *out, vxs_time_t *out_ts, uint64_t index,
                            uint64_t offset) {
    struct pcap_pkthdr *hdr;
    const u_char *data;
    vxs_status_t st = VXS_OK;
    long saved;
    int rc;

    if (!p || !out) return VXS_E_ARG;
    VXS_FORWARD(check_record_offset(p, index, offset));
    saved = ftell(p->fp);
    if (saved < 0 || fseek(p->fp, (long)offset, SEEK_SET) != 0) {
        snprintf(p->errmsg, sizeof p->errmsg, "%s: packet %llu (byte offset %llu): seek failed",
                 p->name, (unsigned long long)index + 1, (unsigned long long)offset);
        return VXS_E_IO;
    }
    rc = pcap_next_ex(p->pc, &hdr, &data);
    if (rc != 1) {
        snprintf(p->errmsg, sizeof p->errmsg,
                 "%s: packet %llu (byte offset %llu): no record starts there%s%s", p->name,
                 (unsigned long long)index + 1, (unsigned long long)offset,
                 rc == PCAP_ERROR ? ": " : "", rc == PCAP_ERROR ? pcap_geterr(p->pc) : "");
        st = VXS_E_NOTFOUND;
    } else if (hdr->caplen > p->lim.max_record) {
        snprintf(p->errmsg, sizeof p->errmsg,
                 "%s: packet %llu (byte offset %llu): captured length %u > limit max_record %zu",
                 p->name, (unsigned long long)index + 1, (unsigned long long)offset,
                 hdr->caplen, p->lim.max_record);
        st = VXS_E_LIMIT;
    } else {
        st = vxs_buf_set(out, data, hdr->caplen);
        bool carried; /* reported by the sequential pass already */
        if (st == VXS_OK && out_ts && !ts_to_ns(&hdr->ts, out_ts, &carried))
            *out_ts = VXS_TIME_NONE;
    }
    /* Put the sequential reader back exactly where it was (this also clears the EOF flag). */
    if (fseek(p->fp, saved, SEEK_SET) != 0) {
        snprintf(p->errmsg, sizeof p->errmsg, "%s: cannot seek back to byte offset %ld",
                 p->name, saved);
        p->done = true;
        return VXS_E_IO;
    }
    return st;
}

vxs_status_t vxs_pcap_seek(vxs_pcap_t *p, uint64_t index, uint64_t offset) {
    vxs_reasm_t *fresh = NULL;
    if (!p) return VXS_E_ARG;
    VXS_FORWARD(check_record_offset(p, index, offset));
    /* Fragments pending from before the jump would pair with unrelated ones after it. */
    VXS_FORWARD(vxs_reasm_create(&fresh, &p->lim));
    if (fseek(p->fp, (long)offset, SEEK_SET) != 0) {
        vxs_reasm_destroy(fresh);
        snprintf(p->errmsg, sizeof p->errmsg, "%s: packet %llu (byte offset %llu): seek failed",
                 p->name, (unsigned long long)index + 1, (unsigned long long)offset);
        p->done = true;
        return VXS_E_IO;
    }
    vxs_reasm_destroy(p->reasm);
    p->reasm = fresh;
    p->next_index = index;
    p->pos = offset;
    p->have_last = false; /* resynchronisation decides from the record read there on */
    p->have_go = false;
    p->done = false;
    p->flushed = false;
    return VXS_OK;
}

void vxs_pcap_get_counts(const vxs_pcap_t *p, vxs_pcap_counts_t *out) {
    if (!out) return;
    memset(out, 0, sizeof *out);
    if (!p) return;
    *out = p->counts;
    vxs_reasm_get_stats(p->reasm, &out->reasm);
}

const vxs_pkt_info_t *vxs_packet_payload(const vxs_packet_t *pkt) {
    if (!pkt) return NULL;
    if (pkt->dgram) return pkt->dgram;
    if (pkt->decode_status == VXS_OK &&
        (pkt->info.kind == VXS_PL_UDP || pkt->info.kind == VXS_PL_ETHERTYPE))
        return &pkt->info;
    return NULL;
}

/* ---- vxs_source_t adapter ------------------------------------------------------------------ */

void vxsi_packet_summary(vxs_packet_summary_t *out, const vxs_packet_t *k,
                         const vxs_pkt_info_t *pl) {
    out->caplen = k->caplen;
    out->wirelen = k->wirelen;
    out->ethertype = k->info.ethertype;
    out->ip_version = pl->ip_version;
    out->ip_proto = pl->ip_proto;
    out->src_port = pl->src_port;
    out->dst_port = pl->dst_port;
    memcpy(out->src_addr, pl->src_addr, sizeof out->src_addr);
    memcpy(out->dst_addr, pl->dst_addr, sizeof out->dst_addr);
}

typedef struct {
    vxs_pcap_t *p;
    uint32_t source_index;
    uint32_t agent;
    uint32_t sensor;
    vxs_record_t rec;
} pcap_source_t;

static vxs_status_t src_next(void *impl, const vxs_record_t **out) {
    pcap_source_t *s = impl;
    const vxs_packet_t *k = NULL;
    vxs_status_t st = vxs_pcap_next(s->p, &k);
    *out = NULL;
    /* Damage that ends the capture was reported to the diag sink by vxs_pcap_next (the rule on
     * bad units, vxs_core.h): the stream ends there. */
    if (st == VXS_E_TRUNCATED || st == VXS_E_MALFORMED) return VXS_EOF;
    if (st != VXS_OK) return st;
    vxs_record_init(&s->rec, VXS_REC_PACKET);
    s->rec.agent = s->agent;
    s->rec.sensor = s->sensor;
    s->rec.capture_time = k->ts;
    s->rec.loc.source = s->source_index;
    s->rec.loc.count = 1;
    s->rec.loc.index = k->index;
    s->rec.loc.offset = k->offset;
    vxsi_packet_summary(&s->rec.u.packet, k, k->dgram ? k->dgram : &k->info);
    *out = &s->rec;
    return VXS_OK;
}

static vxs_status_t src_fetch(void *impl, vxs_buf_t *out, const vxs_record_t *rec) {
    pcap_source_t *s = impl;
    /* A packet record spans exactly one capture record. */
    if (!rec || rec->loc.count > 1) return VXS_E_ARG;
    return vxs_pcap_fetch(s->p, out, NULL, rec->loc.index, rec->loc.offset);
}

static uint64_t src_position(const void *impl, uint64_t *size) {
    const pcap_source_t *s = impl;
    if (size) {
        vxs_pcap_info_t info;
        vxs_pcap_get_info(s->p, &info);
        *size = info.file_size;
    }
    return vxs_pcap_position(s->p);
}

static const char *src_errmsg(const void *impl) {
    const pcap_source_t *s = impl;
    return vxs_pcap_errmsg(s->p);
}

static void src_destroy(void *impl) {
    pcap_source_t *s = impl;
    if (!s) return;
    vxs_pcap_close(s->p);
    vxs_free(s);
}

static const vxs_source_ops_t pcap_source_ops = {"pcap",       src_next,   src_fetch, NULL,
                                                 src_position, src_errmsg, src_destroy};

vxs_status_t vxs_pcap_source_create(vxs_source_t **out, vxs_pcap_t *p, uint32_t source_index,
                                    uint32_t agent, uint32_t sensor) {
    pcap_source_t *s;
    vxs_status_t st;
    if (!out || !p) return VXS_E_ARG;
    *out = NULL;
    s = vxs_calloc(1, sizeof *s);
    if (!s) return VXS_E_NOMEM;
    s->p = p;
    s->source_index = source_index;
    s->agent = agent;
    s->sensor = sensor;
    vxs_record_init(&s->rec, VXS_REC_PACKET);
    st = vxs_source_create(out, &pcap_source_ops, s);
    if (st != VXS_OK) {
        /* On failure the capture stays the caller's: free only the wrapper. */
        vxs_free(s);
        *out = NULL;
    }
    return st;
}
