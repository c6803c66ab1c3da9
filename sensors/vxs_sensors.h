/*
 * vxs_sensors.h: the public API of v2xsync's sensors module (the readers).
 *
 * This header covers the packet-capture layer every capture-based reader stands on:
 *
 *   capture file ──libpcap──► record (time, bytes, index, byte offset)
 *        └─ link layer (Ethernet + 802.1Q/QinQ, Linux SLL/SLL2, raw IP, BSD null/loop,
 *           802.11 and 802.11 + radiotap with LLC/SNAP) ──► EtherType
 *             ├─ 0x8947 GeoNetworking, 0x88DC WSMP, other non-IP ──► payload
 *             └─ IPv4 / IPv6 ──► UDP ──► payload
 *                  └─ IPv4 fragments ──► bounded reassembler ──► UDP ──► payload
 *
 * the content detection and video probing behind `v2xsync inspect`, the one function that
 * opens a scenario manifest's source with its reader (section 6), and the scan that drafts a
 * manifest from a folder of recordings (section 7). No libpcap or FFmpeg type crosses this
 * header. Link-type numbers are the LINKTYPE_ values of the pcap file formats
 * (https://www.tcpdump.org/linktypes.html), not the platform's DLT_ values.
 */
#ifndef VXS_SENSORS_H
#define VXS_SENSORS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vxs_core.h"
#include "vxs_manifest.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ==== 1. Link, network and transport decoding (pure functions on bytes) ================ */

/* Link types handled by vxs_pkt_decode (LINKTYPE_ numbers). */
enum {
    VXS_LINKTYPE_NULL = 0,              /* BSD loopback: 4-byte family, host byte order */
    VXS_LINKTYPE_ETHERNET = 1,          /* Ethernet II, with 802.1Q / 802.1ad (QinQ) tags */
    VXS_LINKTYPE_RAW = 101,             /* raw IPv4 or IPv6, version from the first nibble */
    VXS_LINKTYPE_IEEE802_11 = 105,      /* 802.11 MAC header, no radio header */
    VXS_LINKTYPE_LOOP = 108,            /* OpenBSD loopback: 4-byte family, network order */
    VXS_LINKTYPE_LINUX_SLL = 113,       /* Linux cooked capture v1 (16-byte header) */
    VXS_LINKTYPE_IEEE802_11_RADIOTAP = 127, /* radiotap header + 802.11 */
    VXS_LINKTYPE_IPV4 = 228,            /* raw IPv4 */
    VXS_LINKTYPE_IPV6 = 229,            /* raw IPv6 */
    VXS_LINKTYPE_LINUX_SLL2 = 276       /* Linux cooked capture v2 (20-byte header) */
};

/* EtherTypes the V2X readers look for. */
#define VXS_ETHERTYPE_IPV4 0x0800
#define VXS_ETHERTYPE_IPV6 0x86DD
#define VXS_ETHERTYPE_GEONET 0x8947 /* ETSI EN 302 636-4-1 GeoNetworking */
#define VXS_ETHERTYPE_WSMP 0x88DC   /* IEEE 1609.3 WAVE Short Message Protocol */

/* vxs_linktype_name returns a short name ("ethernet", "linux-sll2", "ieee802.11-radiotap"...)
 * or "linktype-N" written into a static buffer for unknown values (not thread-safe then). */
const char *vxs_linktype_name(uint32_t linktype);

/* vxs_payload_kind_t says how far vxs_pkt_decode got and what `payload` holds. */
typedef enum {
    VXS_PL_NONE = 0,      /* nothing past the link layer (802.11 control/management frame,
                             non-data frame, or a decode error) */
    VXS_PL_ETHERTYPE = 1, /* payload of a non-IP EtherType (GeoNetworking, WSMP, ...) */
    VXS_PL_IP = 2,        /* payload of an IP protocol other than UDP (TCP, ICMP, ...) */
    VXS_PL_UDP = 3,       /* UDP payload */
    VXS_PL_FRAGMENT = 4   /* an IPv4 fragment's data: give it to vxs_reasm_add */
} vxs_payload_kind_t;

/* vxs_radio_info_t holds the radiotap fields kept as per-packet link metadata (ITS-G5 / DSRC
 * over 802.11p). Each value is valid only when its has_ flag is set. */
typedef struct {
    bool has_signal;
    bool has_noise;
    bool has_channel;
    bool has_rate;
    int8_t signal_dbm;   /* antenna signal (RSSI), dBm */
    int8_t noise_dbm;    /* antenna noise, dBm */
    uint16_t freq_mhz;   /* channel centre frequency (5900 = ch 180) */
    uint16_t chan_flags; /* radiotap channel flags */
    uint8_t rate_500kbps; /* legacy rate in 500 kb/s units (12 = 6 Mb/s) */
} vxs_radio_info_t;

/* vxs_pkt_info_t is what vxs_pkt_decode found in one frame. Pointers borrow the frame's bytes.
 * Addresses are network byte order; IPv4 addresses are stored IPv4-mapped (::ffff:a.b.c.d). */
typedef struct {
    uint32_t linktype;
    vxs_payload_kind_t kind;
    bool snap_truncated; /* the capture cut the frame (caplen < wire length): payload is short */
    bool has_mac;
    uint8_t src_mac[6]; /* Ethernet source / 802.11 transmitter (SA) / SLL address */
    uint8_t dst_mac[6];
    uint8_t vlan_count;   /* 802.1Q/802.1ad tags seen */
    uint16_t vlan_ids[2]; /* outermost first; the first two only */
    uint16_t ethertype;   /* innermost EtherType (or SLL protocol), 0 if none */
    vxs_radio_info_t radio;
    uint8_t ip_version; /* 0, 4 or 6 */
    uint8_t ip_proto;   /* IPv4 protocol / IPv6 final next header */
    uint8_t src_addr[16];
    uint8_t dst_addr[16];
    uint16_t ip_id;          /* IPv4 identification (fragments) */
    uint16_t frag_offset;    /* IPv4 fragment offset in bytes, when kind == VXS_PL_FRAGMENT */
    bool frag_more;          /* IPv4 MF flag */
    uint16_t src_port;       /* UDP */
    uint16_t dst_port;
    const uint8_t *payload;  /* see kind; NULL when kind == VXS_PL_NONE */
    size_t payload_len;
    size_t payload_offset;   /* offset of payload within the frame (for error locations) */
} vxs_pkt_info_t;

/* vxs_pkt_decode decodes `caplen` captured bytes of a frame of `linktype` whose length on the
 * wire was `wirelen` (pass caplen if unknown). It fills *out and returns:
 *   VXS_OK            decoded as far as the frame goes (see out->kind);
 *   VXS_E_TRUNCATED   a header or length field runs past the frame although the capture did
 *                     not cut it (caplen == wirelen);
 *   VXS_E_MALFORMED   a field is impossible (IP version, header length, UDP length < 8...);
 *   VXS_E_UNSUPPORTED the link type is not one of the above.
 * When the capture cut the frame (caplen < wirelen), lengths that point past the end are not
 * errors: the payload is cut at the frame's end and out->snap_truncated is set (a header the
 * capture cut short ends the decode there: VXS_OK with kind VXS_PL_NONE).
 * On error, out->kind is VXS_PL_NONE, the fields decoded before the error stay set, and `err`
 * (if not NULL) receives a message naming the layer and the byte offset within the frame,
 * e.g. "IPv4 header at frame offset 14: total length 1500 > 46 bytes left". Never allocates. */
vxs_status_t vxs_pkt_decode(vxs_pkt_info_t *out, uint32_t linktype, const uint8_t *frame,
                            size_t caplen, size_t wirelen, char *err, size_t err_len);

/* vxs_pkt_decode_ip decodes a bare IPv4 or IPv6 packet (the reassembler uses it on a complete
 * datagram). Same contract as vxs_pkt_decode; out->linktype is VXS_LINKTYPE_RAW. */
vxs_status_t vxs_pkt_decode_ip(vxs_pkt_info_t *out, const uint8_t *ip, size_t caplen,
                               size_t wirelen, char *err, size_t err_len);

/* ==== 2. IPv4 fragment reassembly (bounded) ============================================ */

/* vxs_reasm_t reassembles IPv4 datagrams (RFC 791 / RFC 815) keyed by (src, dst, protocol, id).
 * Memory is bounded by limits->reasm_max_pending datagrams of at most limits->reasm_max_bytes
 * each; a datagram still incomplete reasm_timeout_ns after its first fragment is dropped and
 * reported. Overlapping fragments are accepted when the overlapping bytes agree; fragments whose
 * overlap disagrees drop the datagram (a known evasion pattern, RFC 5722 spirit). */
typedef struct vxs_reasm vxs_reasm_t;

/* vxs_reasm_create creates a reassembler with the caps in `lim` (NULL: defaults). The caller
 * vxs_reasm_destroy()s it. */
vxs_status_t vxs_reasm_create(vxs_reasm_t **out, const vxs_limits_t *lim);

/* vxs_reasm_destroy frees `r` and every pending datagram. Accepts NULL. */
void vxs_reasm_destroy(vxs_reasm_t *r);

/* vxs_reasm_add adds the fragment `frag` (kind VXS_PL_FRAGMENT, from vxs_pkt_decode) captured at
 * `ts` in file record `index` at byte `offset`. When this fragment completes its datagram, it
 * sets *out_done, decodes the datagram with vxs_pkt_decode_ip into *out (payload pointing into
 * the reassembler's memory, valid until the next call on `r`; the link-layer fields, linktype
 * included, are copied from `frag`) and sets *out_first_index / *out_first_offset to the
 * datagram's lowest-index fragment record. Returns:
 *   VXS_OK          fragment stored (or datagram completed);
 *   VXS_E_LIMIT     the datagram would exceed reasm_max_bytes, or reasm_max_pending datagrams
 *                   are already pending: the datagram is dropped, later fragments of it are
 *                   dropped without a second error;
 *   VXS_E_MALFORMED inconsistent fragments (conflicting overlap, two different last fragments,
 *                   data past the last fragment's end): the datagram is dropped;
 *   VXS_E_NOMEM.
 * On error `err` names the datagram (id, addresses) and the first fragment's record. */
vxs_status_t vxs_reasm_add(vxs_reasm_t *r, vxs_pkt_info_t *out, bool *out_done,
                           uint64_t *out_first_index, uint64_t *out_first_offset, vxs_time_t ts,
                           uint64_t index, uint64_t offset, const vxs_pkt_info_t *frag,
                           char *err, size_t err_len);

/* vxs_reasm_lost_t describes a datagram dropped before it was complete. */
typedef struct {
    uint64_t first_index;  /* record of its earliest fragment */
    uint64_t first_offset;
    vxs_time_t first_ts;
    uint16_t ip_id;
    uint8_t src_addr[16];
    uint8_t dst_addr[16];
    uint32_t fragments;    /* fragments received */
    uint32_t bytes;        /* data bytes received */
} vxs_reasm_lost_t;

/* vxs_reasm_pop_expired removes one datagram whose first fragment is older than the timeout at
 * capture time `now` and describes it in *out; returns false when none is expired. Pass
 * VXS_TIME_NONE as `now` at end of input to pop every pending datagram. */
bool vxs_reasm_pop_expired(vxs_reasm_t *r, vxs_reasm_lost_t *out, vxs_time_t now);

/* vxs_reasm_stats_t counts what the reassembler saw. */
typedef struct {
    uint64_t fragments;   /* fragments added */
    uint64_t datagrams;   /* datagrams completed */
    uint64_t expired;     /* datagrams popped as expired / incomplete */
    uint64_t dropped;     /* datagrams dropped for VXS_E_LIMIT or VXS_E_MALFORMED */
    uint64_t pending;     /* datagrams pending now */
    uint64_t pending_bytes; /* bytes held now */
} vxs_reasm_stats_t;

/* vxs_reasm_get_stats fills *out. */
void vxs_reasm_get_stats(const vxs_reasm_t *r, vxs_reasm_stats_t *out);

/* ==== 3. Capture files (libpcap) ======================================================= */

/* vxs_pcap_t reads a pcap or pcapng capture at nanosecond precision, from a file or from memory,
 * decodes every record's layers and reassembles IPv4 fragments. */
typedef struct vxs_pcap vxs_pcap_t;

/* vxs_pcap_info_t describes an open capture. */
typedef struct {
    bool pcapng;
    bool nanosecond_file; /* the file itself stores ns (pcap magic a1b23c4d or pcapng tsresol) */
    int version_major;
    int version_minor;
    uint32_t linktype; /* LINKTYPE_ of the first interface */
    uint32_t snaplen;
    uint64_t file_size; /* bytes; 0 if unknown */
} vxs_pcap_info_t;

/* vxs_packet_t is one capture record and what was decoded from it. It is lent by vxs_pcap_next
 * and valid until the next call on the same vxs_pcap_t. */
typedef struct {
    uint64_t index;    /* record number from 0 in file order (tshark frame.number - 1) */
    uint64_t offset;   /* byte offset of the record (pcap: its 16-byte header; pcapng: the
                          block, or a non-packet block just before it) */
    vxs_time_t ts;     /* capture time */
    uint32_t caplen;
    uint32_t wirelen;
    const uint8_t *data;  /* caplen bytes */
    vxs_status_t decode_status; /* vxs_pkt_decode's status; the message went to the diag sink */
    vxs_pkt_info_t info;  /* this record's own decode */
    /* dgram is non-NULL when this record completed a fragmented IPv4 datagram: the whole
     * datagram's decode (payload in reassembler memory, valid until the next call). */
    const vxs_pkt_info_t *dgram;
    uint64_t dgram_first_index;  /* the datagram's first fragment record, when dgram != NULL */
    uint64_t dgram_first_offset;
} vxs_packet_t;

/* vxs_packet_payload returns the decoded payload a consumer should look at: the reassembled
 * datagram when there is one, else the record's own decode when it reached UDP or a non-IP
 * EtherType; NULL otherwise (fragments, undecodable records). */
const vxs_pkt_info_t *vxs_packet_payload(const vxs_packet_t *pkt);

/* vxs_pcap_open_file opens the capture at `path`. Bad units are reported to `diag` (may be NULL:
 * warnings are logged). `lim` may be NULL (defaults). On failure returns VXS_E_IO (cannot open),
 * VXS_E_MALFORMED / VXS_E_UNSUPPORTED (not a capture libpcap reads) with a message naming the
 * file in `err`. The caller vxs_pcap_close()s *out. */
vxs_status_t vxs_pcap_open_file(vxs_pcap_t **out, const char *path, const vxs_limits_t *lim,
                                const vxs_diag_sink_t *diag, char *err, size_t err_len);

/* vxs_pcap_open_mem reads a capture held in memory (`data`, `len` bytes, borrowed: it must
 * outlive the reader). `name` is used in messages. Otherwise as vxs_pcap_open_file. */
vxs_status_t vxs_pcap_open_mem(vxs_pcap_t **out, const void *data, size_t len, const char *name,
                               const vxs_limits_t *lim, const vxs_diag_sink_t *diag, char *err,
                               size_t err_len);

/* vxs_pcap_close closes the capture and frees everything. Accepts NULL. */
void vxs_pcap_close(vxs_pcap_t *p);

/* vxs_pcap_get_info fills *out. */
void vxs_pcap_get_info(const vxs_pcap_t *p, vxs_pcap_info_t *out);

/* vxs_pcap_next reads the next record into *out (lent until the next call). Returns:
 *   VXS_OK           a record (even one whose layers did not decode: see decode_status);
 *   VXS_EOF          end of capture (incomplete datagrams are reported to diag first);
 *   VXS_E_TRUNCATED / VXS_E_MALFORMED / VXS_E_IO
 *                    the capture itself is damaged (a record cut short, a caplen or block
 *                    length libpcap refuses) and no plausible record follows: reported to diag
 *                    with the record number and byte offset; the following call returns
 *                    VXS_EOF.
 * Damage followed by a plausible record is not returned: the reader reports it to diag (record
 * number, byte offset, "resynchronised at byte N (skipped M bytes)"), counts it
 * (capture_errors, resyncs) and goes on there. Plausible: a classic record header with its time
 * within a day of the last record's, its lengths within the snapshot length and the file, and
 * a plausible header after it (or the end of the file); a pcapng packet, statistics or name
 * block with its length repeated at its end, and another after it. The search starts just
 * after the start of the last good record, so records a damaged length field swallowed are
 * read again. Every record before the damage has been returned. A record whose caplen exceeds the limit
 * max_record is a bad unit, not damage: it is reported, counted (records, decode_errors) and
 * skipped, and reading goes on. A sub-second timestamp field of a second or more is reported
 * and carried into the seconds, as tshark does. */
vxs_status_t vxs_pcap_next(vxs_pcap_t *p, const vxs_packet_t **out);

/* vxs_pcap_errmsg returns the last error message ("" if none). Never NULL. */
const char *vxs_pcap_errmsg(const vxs_pcap_t *p);

/* vxs_pcap_position returns the byte offset reading has reached (for progress). */
uint64_t vxs_pcap_position(const vxs_pcap_t *p);

/* vxs_pcap_fetch re-reads the record at byte offset `offset` whose number is `index` (from a
 * locator) into `out` (the captured bytes), and sets *out_ts to its capture time if out_ts is
 * not NULL. The sequential position of vxs_pcap_next is unaffected, but the packet it last lent
 * is not: libpcap reuses one buffer, so copy what you need from it before fetching.
 * VXS_E_NOTFOUND if no record starts there. */
vxs_status_t vxs_pcap_fetch(vxs_pcap_t *p, vxs_buf_t *out, vxs_time_t *out_ts, uint64_t index,
                            uint64_t offset);

/* vxs_pcap_seek moves the sequential reader to the record at byte offset `offset` whose number
 * is `index` (from a locator): the next vxs_pcap_next returns that record, numbered `index`, and
 * reading goes on from there. Fragments pending reassembly are dropped (a locator of a
 * reassembled datagram names its first fragment). Counts are not reset. VXS_E_NOTFOUND for an
 * offset outside the records, VXS_E_IO if the seek fails (the reader is then at its end). */
vxs_status_t vxs_pcap_seek(vxs_pcap_t *p, uint64_t index, uint64_t offset);

/* vxs_pcap_counts_t counts what a reader has seen so far. */
typedef struct {
    uint64_t records;        /* capture records returned */
    uint64_t bytes;          /* captured bytes of those records */
    uint64_t decode_errors;  /* records whose layers failed to decode */
    uint64_t snap_truncated; /* records cut by the snapshot length */
    uint64_t capture_errors; /* damage to the capture itself: record headers or blocks refused */
    uint64_t resyncs;        /* times reading went on at a plausible record after such damage */
    vxs_reasm_stats_t reasm;
} vxs_pcap_counts_t;

/* vxs_pcap_get_counts fills *out. */
void vxs_pcap_get_counts(const vxs_pcap_t *p, vxs_pcap_counts_t *out);

/* vxs_pcap_source_create wraps an open capture as a vxs_source_t that yields one VXS_REC_PACKET
 * record per capture record (agent/sensor as given, capture_time = ts, loc.index/offset = the
 * record, summary from the decode) and fetches a record's bytes by locator. The source takes
 * ownership of `p` on success. */
vxs_status_t vxs_pcap_source_create(vxs_source_t **out, vxs_pcap_t *p, uint32_t source_index,
                                    uint32_t agent, uint32_t sensor);

/* ==== 4. Content detection ============================================================== */

/* vxs_pkt_class_t is what a packet holds, judged by content (sizes, magic values, headers),
 * never by port numbers alone. */
typedef enum {
    VXS_CLS_UNDECODED = 0,        /* the link layers did not decode */
    VXS_CLS_FRAGMENT = 1,         /* an IPv4 fragment whose datagram is not complete yet */
    VXS_CLS_VELODYNE_DATA = 2,    /* 1206-byte Velodyne data packet */
    VXS_CLS_VELODYNE_POSITION = 3, /* 512-byte Velodyne position / telemetry packet */
    VXS_CLS_OUSTER_LIDAR = 4,     /* Ouster lidar packet (legacy or profile) */
    VXS_CLS_OUSTER_IMU = 5,       /* Ouster legacy IMU packet (48 bytes) */
    VXS_CLS_ETSI_GN = 6,          /* ETSI GeoNetworking (EtherType 0x8947) */
    VXS_CLS_WSMP = 7,             /* IEEE 1609.3 WSMP (EtherType 0x88DC) */
    VXS_CLS_UDP_OTHER = 8,        /* any other UDP flow */
    VXS_CLS_IP_OTHER = 9,         /* IP, not UDP */
    VXS_CLS_NONIP_OTHER = 10,     /* other EtherType */
    VXS_CLS_LINK_ONLY = 11,       /* nothing past the link layer (802.11 management...) */
    VXS_CLS_COUNT_ = 12
} vxs_pkt_class_t;

/* vxs_pkt_class_name returns "velodyne-data", "etsi-geonetworking", ... Never NULL. */
const char *vxs_pkt_class_name(vxs_pkt_class_t c);

/* vxs_flow_key_t tells flows apart: by addresses and ports for IP; by source MAC, EtherType and
 * service for non-IP V2X, so that one station's CAMs and CPMs (BTP ports 2001 and 2009) or BSMs
 * and SPaTs (PSIDs 0x20 and 0x82) are separate flows with their own timing. Compare with memcmp
 * after vxs_classify filled it (it zeroes padding). */
typedef struct {
    uint8_t src_addr[16]; /* IP, or the MAC in the first 6 bytes for non-IP */
    uint8_t dst_addr[16];
    uint32_t service;     /* non-IP: GeoNetworking BTP destination port or WSMP PSID; 0 if none */
    uint16_t src_port;
    uint16_t dst_port;
    uint16_t ethertype;
    uint8_t ip_version;
    uint8_t ip_proto;
} vxs_flow_key_t;

/* vxs_pkt_class_info_t is the result of vxs_classify. */
typedef struct {
    vxs_pkt_class_t cls;
    vxs_flow_key_t flow;
    uint8_t velodyne_product;     /* byte 1205: 0x22 VLP-16 ... (data packets) */
    uint8_t velodyne_return_mode; /* byte 1204: 0x37 strongest, 0x38 last, 0x39 dual */
    uint8_t velodyne_pps;         /* position packets: 0 absent .. 3 error */
    char nmea[8];                 /* position packets: "$GPRMC", "$GPGGA" or "" */
    uint16_t ouster_pixels;       /* pixels per column (16/32/64/128) */
    uint16_t ouster_columns;      /* columns per packet */
    uint8_t ouster_legacy;        /* 1 legacy format, 0 profile with 32-byte packet header */
    uint16_t ouster_profile_px;   /* bytes per pixel (12, 16, 4, 8) for profile packets */
    uint8_t gn_next_header;       /* GN basic header NH (1 common, 2 secured) */
    uint8_t gn_header_type;       /* GN common header HT|HST byte when visible */
    uint16_t btp_dst_port;        /* BTP destination port when visible (2001 CAM...) */
    uint8_t wsmp_version;
    uint32_t wsmp_psid;           /* p-decoded PSID, when visible */
} vxs_pkt_class_info_t;

/* vxs_classify classifies `pkt` (using vxs_packet_payload) into *out. Never fails. */
void vxs_classify(vxs_pkt_class_info_t *out, const vxs_packet_t *pkt);

/* vxs_velodyne_product_name returns "VLP-16", "HDL-32E", "VLP-32C", "Puck Hi-Res", "VLS-128",
 * ... for a product byte, or "unknown". Never NULL. */
const char *vxs_velodyne_product_name(uint8_t product);

/* vxs_velodyne_return_name returns "strongest", "last", "dual" or "unknown". Never NULL. */
const char *vxs_velodyne_return_name(uint8_t mode);

/* vxs_file_kind_t is what a file holds, judged by evidence in its content (vxs_probe_file). */
typedef enum {
    VXS_FILE_UNKNOWN = 0,
    VXS_FILE_PCAP = 1,
    VXS_FILE_PCAPNG = 2,
    VXS_FILE_VIDEO = 3,
    VXS_FILE_WYDOT_LOG = 4, /* Wyoming OBU binary log */
    VXS_FILE_HEX_LOG = 5    /* text log of one hex J2735 message per line */
} vxs_file_kind_t;

/* vxs_file_kind_name returns "pcap", "pcapng", "video", "wydot-log", "hex-log" or "unknown". */
const char *vxs_file_kind_name(vxs_file_kind_t k);

/* vxs_file_probe_t is what vxs_probe_file found. */
typedef struct {
    vxs_file_kind_t kind;
    bool damaged;      /* the kind is told by structure, but the file's start is damaged: its
                          reader may refuse it (a video libavformat cannot open, a capture
                          header with a damaged magic) or lose the units hit */
    uint64_t size;     /* bytes */
    char detail[640];  /* the evidence ("MP4 boxes ftyp, moov, mdat"); for a damaged file what
                          is wrong; for VXS_FILE_UNKNOWN every format tried and why it does not
                          fit. Always set, never names the file. */
} vxs_file_probe_t;

/* vxs_probe_file tells what `path` holds by each format's own evidence, in this order: the
 * pcap / pcapng magics (and a classic header whose magic alone is damaged); ISO BMFF boxes
 * (MP4, MOV: a known box type at bytes 4-7) or the EBML magic (Matroska, WebM), confirmed by
 * libavformat opening it with a video stream (else damaged); a Wyoming log record that is
 * plausible (vxs_wydot_plausible) followed by another or by the end of the file, at byte 0 or
 * (damaged) within the first 64 KiB; lines of hex holding a J2735 MessageFrame or 1609.2 data, at least as many as lines
 * that do not (damaged when some do not), or text made of hex digits; other containers
 * libavformat opens with a video stream. Nothing is a default: a file none of these fit is
 * VXS_FILE_UNKNOWN, an empty one too. VXS_E_IO (with `err` naming the file) if it cannot be
 * read or is not a regular file. The V2X reader (VXS_V2X_FMT_AUTO), `inspect`, `dump`, `init`
 * and the job all use it. */
vxs_status_t vxs_probe_file(vxs_file_probe_t *out, const char *path, char *err, size_t err_len);

/* vxs_detect_file is vxs_probe_file's kind alone. */
vxs_status_t vxs_detect_file(vxs_file_kind_t *out, const char *path, char *err, size_t err_len);

/* ==== 5. Video probe (libavformat, headers and packets only, never decodes) ============ */

/* vxs_video_info_t is what vxs_video_probe reports about the first video stream. */
typedef struct {
    char format[32];      /* container short name ("mov,mp4,m4a,3gp,3g2,mj2" cut to fit) */
    char codec[32];       /* codec name ("h264") */
    uint32_t width;
    uint32_t height;
    uint64_t packets;     /* video packets demuxed (= frames for these codecs) */
    uint64_t key_frames;
    int64_t tb_num;       /* stream time base */
    int64_t tb_den;
    int64_t first_pts;    /* in time base units; INT64_MIN if none */
    int64_t last_pts;
    vxs_time_t creation_time; /* container creation_time tag; VXS_TIME_NONE if absent */
    uint64_t corrupt_packets;     /* video packets the demuxer flagged corrupt (still counted in
                                     `packets`); a read error that stops reading is not one of
                                     them: it is the probe's error status */
    uint64_t first_corrupt_index; /* the first of them, counted from 0 in demux order */
    int64_t first_corrupt_offset; /* its byte offset, -1 if the demuxer does not know it */
} vxs_video_info_t;

/* vxs_video_pts_fn receives each video packet's pts (presentation order is NOT guaranteed:
 * this is demux order) and key flag; pts_ns is VXS_TIME_NONE for a packet without pts. */
typedef void (*vxs_video_pts_fn)(void *user, uint64_t index, int64_t pts_ns, bool key);

/* vxs_video_probe opens `path` with libavformat, reads its header and demuxes every packet of
 * the first video stream (no decoding), calling `fn` (may be NULL) for each. Errors:
 * VXS_E_UNSUPPORTED (not a container libavformat knows or no video stream), VXS_E_IO,
 * VXS_E_TRUNCATED / VXS_E_MALFORMED (reading stopped early: packets before are counted), each
 * with a message naming the file and byte offset in `err`. */
vxs_status_t vxs_video_probe(vxs_video_info_t *out, const char *path, vxs_video_pts_fn fn,
                             void *user, char *err, size_t err_len);

/* ==== 6. A scenario's sources ========================================================== */

/* vxs_source_open_options_t tunes vxs_source_open_manifest; a NULL pointer means the defaults
 * (every kind, default limits). */
typedef struct {
    uint32_t kinds;              /* record kinds wanted: a mask of VXS_REC_KIND_BIT (0: all the
                                    source produces), as vxs_source_rewind takes it */
    const vxs_limits_t *limits;  /* NULL: defaults; copied */
} vxs_source_open_options_t;

/* vxs_source_open_manifest opens one source of a scenario manifest as a vxs_source_t, with the
 * reader its kind names, configured by the manifest entry (a vxs_source_open_fn; `user` is a
 * const vxs_source_open_options_t *, or NULL). It is the one mapping from a manifest source to a
 * reader; every caller uses it.
 *
 *   lidar:  vxs_lidar_open with the entry's calibration (vxs_velo_calib_load), Ouster metadata
 *           (vxs_ouster_meta_load) and model when it names a Velodyne model. Records: sweeps,
 *           IMU / position packets, and a VXS_REC_LIDAR_PACKET per data packet (the clock
 *           estimation's samples) unless `kinds` leaves them out. fetch: a sweep's points.
 *   camera: vxs_camera_open with the entry's timestamps sidecar and creation rule. Records:
 *           frames. fetch: the frame as RGB24.
 *   v2x:    vxs_v2x_reader_open with the entry's format, own station id and own MACs. Records:
 *           messages (no payload to fetch: the record carries the decoded summary).
 *
 * Every source follows the rule on bad units (vxs_core.h section 7) and can be rewound (the
 * reader is opened again). Errors: those of the readers' open functions (VXS_E_IO,
 * VXS_E_UNSUPPORTED, VXS_E_MALFORMED for a calibration or sidecar that does not parse...),
 * VXS_E_ARG for a bad `ref`, VXS_E_NOMEM; `err` names the file. */
vxs_status_t vxs_source_open_manifest(void *user, vxs_source_t **out, const vxs_manifest_t *man,
                                      vxs_source_ref_t ref, uint32_t source_index,
                                      const vxs_diag_sink_t *diag, char *err, size_t err_len);

/* ==== 7. Drafting a scenario from a folder of recordings (`v2xsync init`) ============== */

/* vxs_draft_report_t receives what a scan did not take and what the user should look at. Both
 * functions may be NULL (not told); the strings are borrowed for the call only. */
typedef struct {
    /* skipped is told of a file or folder the draft leaves out: `path` as opened (DIR as given,
     * without trailing '/', joined with the names below it), `what` it was ("hidden", "not in an
     * agent folder", "unreadable", "unrecognised", "unused", "too many agents", ...) and `detail`,
     * why, or NULL when `what` says it all. The program prints "PATH: WHAT, skipped (DETAIL)". */
    void (*skipped)(void *user, const char *path, const char *what, const char *detail);
    /* note is told of something found that the user should check (a sidecar with the wrong line
     * count, an own V2X station not recognised and why, an agent folder left out...). */
    void (*note)(void *user, const char *msg);
    void *user;
} vxs_draft_report_t;

/* vxs_draft_scan drafts the manifest of the recordings in `dir`, a folder with one subfolder
 * per agent. It only reads `dir`, never writes into it.
 *
 *   Agents   every subfolder not starting with '.', in bytewise name order (so the draft is the
 *            same on every run); its id is the name with characters outside A-Z a-z 0-9 _ - .
 *            replaced by '_' (cut to 64, a leading '.' made '_', "_2", "_3"... appended when two
 *            names come out alike); its type "rsu" if the name contains "rsu", "vru" if it
 *            contains phone, ped, vru or bike (any case), else "vehicle". At most
 *            VXS_MANIFEST_MAX_AGENTS. Files directly in `dir` and subfolders of agent folders
 *            are skipped.
 *   Files    recognised by content, never by name, in name order:
 *            captures (pcap, pcapng): the first 2000 packets are classified. Velodyne data: a
 *              lidar source, model from the product byte, gps_locked when more than half the
 *              position packets show PPS locked with a $GPRMC sentence. Ouster: a lidar source.
 *              GeoNetworking or WSMP: a v2x source of format pcap. Both: two sources.
 *            videos (vxs_video_probe): a camera source. Its timestamps: the first of
 *              <stem>.timestamps, <stem>.timestamps.txt, <stem>_timestamps.txt, <stem>.txt,
 *              <stem>.csv, then the folder's timestamps.txt that vxs_camera_sidecar_count reads
 *              with one line per frame; a note names a candidate with another count and a later
 *              one that fits too (skipped); one that does not read as a sidecar is tried as any
 *              other file and, unrecognised, skipped with the sidecar's error.
 *            V2X logs that vxs_v2x_reader reads cleanly (8 messages, no bad unit): a v2x source
 *              of format wydot or hex.
 *            Ouster metadata goes to the Ouster capture of the same stem, else to one whose
 *              packet size and port fit (its prod_line becomes the model); a Velodyne
 *              calibration to the first Velodyne capture without one whose laser count fits.
 *            At most VXS_MANIFEST_MAX_SOURCES sources an agent; sources in file order.
 *   Own V2X  only from what an agent's capture shows it transmitting, never from a station it
 *   identity only received. For each v2x source, from its first 200000 messages: a log that
 *            marks what was sent gives the most frequent sender of sent messages. Otherwise the
 *            source claims the sender with the lowest latency (per second of capture time its
 *            median capture - generation time minus the other senders' lowest; the median of
 *            these 0.2 to 50 ms below zero; at least 10 messages), and the claim stands only if
 *            no other agent's v2x source marks that station sent, none holds a message of it
 *            (same generation time, within the claimant's span) the claimant lacks, one holds 10
 *            or more of its messages, and none claims it as well. Then own_station_id and its
 *            source MACs (at most VXS_DRAFT_MAX_OWN_MACS); else a note names the file and why.
 *
 * Agent folders without a recognised recording are left out with a note. On VXS_OK *out holds
 * the draft (name: the folder's name; dir_real: its real path; paths relative to it), which the
 * caller frees with vxs_manifest_draft_free and writes with vxs_manifest_draft_json. Errors,
 * each with a message in `err` (without a program name), *out NULL:
 *   VXS_E_IO          `dir` cannot be read or is not a folder ("DIR: not a folder ...");
 *   VXS_E_NOTFOUND    no agent folder in `dir` ("DIR has no agent folder ...");
 *   VXS_E_UNSUPPORTED no recognised recording in any agent folder ("no recognised recording
 *                     in DIR");
 *   VXS_E_ARG         NULL `out` or `dir`;
 *   VXS_E_NOMEM.
 * What was skipped and noted before an error has been reported. */
vxs_status_t vxs_draft_scan(vxs_manifest_draft_t **out, const char *dir,
                            const vxs_draft_report_t *report, char *err, size_t err_len);

#ifdef __cplusplus
}
#endif
#endif /* VXS_SENSORS_H */
