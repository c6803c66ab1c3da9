/*
 * vxs_v2x.h: v2xsync's V2X decoders and readers (part of the sensors module).
 *
 *   EU:  EtherType 0x8947 ─► GeoNetworking (basic, [secured: IEEE 1609.2 / TS 103 097],
 *        common, extended header with position vectors) ─► BTP-A/B ─► ITS PDU (UPER):
 *        CAM, DENM, CPM, VAM, SPATEM, MAPEM; other messages: header only
 *   US:  EtherType 0x88DC ─► WSMP (IEEE 1609.3) ─► IEEE 1609.2 (unsecured / signed) ─►
 *        J2735 MessageFrame (UPER): BSM, PSM, SPaT, MAP, TIM; other messages: id only
 *   Logs: Wyoming CV-pilot OBU binary logs; text logs of one hex MessageFrame per line.
 *
 * Every decoder fills one caller-owned vxs_v2x_msg_t: plain data, no allocation. Fields a
 * message does not carry stay at their "absent" value: NaN for doubles, -1 for counters and
 * raw time fields, false for has_* flags. Raw time fields are kept as sent (they are in the
 * sender's clock); converting them to absolute time needs a reference (the capture time) and
 * is done by the reader (vxs_v2x_resolve_times). Layouts and time bases:
 * ../shared/specs/v2x-wire-formats.md.
 */
#ifndef VXS_V2X_H
#define VXS_V2X_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vxs_core.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ==== 1. The decoded message ============================================================ */

/* Protocol families (VXS_V2X_PROTO_*), ETSI messageIDs (VXS_ETSI_*), J2735 DSRCmsgIDs
 * (VXS_J2735_*) and vxs_v2x_type_name are in vxs_core.h: records carry them. */

#define VXS_V2X_MAX_OBJECTS 64      /* CPM perceived objects kept per message */
#define VXS_V2X_MAX_INTERSECTIONS 8 /* SPaT/MAP intersections kept per message */

/* vxs_v2x_object_t, one CPM perceived object, is vxs_core.h's (a record's payload). */

/* vxs_v2x_msg_t is everything the decoders read from one message. */
typedef struct {
    /* -- what it is ------------------------------------------------------------------- */
    int protocol;           /* VXS_V2X_PROTO_* */
    int msg_id;             /* ETSI messageID or J2735 DSRCmsgID; -1 unknown */
    int protocol_version;   /* ITS PDU protocolVersion; -1 for J2735 */
    bool decoded;           /* the message body was decoded (false: header fields only) */
    size_t payload_len;     /* bytes of the ITS PDU / MessageFrame */

    /* -- sender identity and counters -------------------------------------------------- */
    int64_t station_id;     /* ETSI stationID; J2735 temporary id (4 bytes, big-endian) */
    int station_type;       /* ETSI stationType / J2735 PSM basicType; -1 */
    int msg_cnt;            /* J2735 msgCnt 0..127; -1 */
    int64_t denm_seq;       /* DENM actionID.sequenceNumber; -1 */
    int64_t denm_origin;    /* DENM actionID.originatingStationID; -1 */

    /* -- raw sender time fields (sender's clock, as sent) ------------------------------ */
    int32_t gen_delta_time; /* CAM / VAM generationDeltaTime 0..65535 (TimestampIts mod 2^16);
                               also a CPM referenceTime below 65536 (ms-van3t sends TimestampIts
                               mod 2^16 there); -1 */
    int32_t sec_mark;       /* J2735 secMark / DSecond (ms in the minute, 60000.. leap); -1 */
    int32_t moy;            /* J2735 / SPATEM MinuteOfTheYear; -1 */
    int64_t its_time_ms;    /* a full TimestampIts (ms since 2004, 42 bits): DENM
                               referenceTime, CPM referenceTime; -1 */
    int64_t denm_detection_ms; /* DENM detectionTime (TimestampIts); -1 */
    int32_t denm_validity_s;   /* DENM validityDuration, s (default 600 when absent); -1 */

    /* -- position and motion (NaN when absent or "unavailable") ----------------------- */
    double lat_deg, lon_deg, elev_m;
    double speed_mps, heading_deg;
    double accel_long_mps2, accel_lat_mps2, accel_vert_mps2, yaw_rate_dps;
    double length_m, width_m;
    /* -- the accuracy the sender claims (NaN when absent or "unavailable") ---------------- */
    double pos_semi_major_m, pos_semi_minor_m; /* position ellipse: J2735 PositionalAccuracy
                                                  (one standard deviation, 0.05 m; 254 reads
                                                  "12.7 m or more": 12.7), ETSI
                                                  PosConfidenceEllipse (95 % confidence, 1 cm;
                                                  4094 "out of range": NaN) */
    double pos_orientation_deg; /* the semi-major axis' orientation from north, clockwise */
    bool pos_confidence_95;     /* the ellipse is ETSI's 95 % one, not J2735's one sigma */
    double speed_conf_mps;      /* CAM speedConfidence (95 %, 0.01 m/s; 126 "out of range") */
    double heading_conf_deg;    /* CAM headingConfidence (95 %, 0.1 deg; 126 "out of range") */
    /* -- values the bits hold but the standard does not allow (a heading of 3602): the
     *    message is kept without them (NaN), counted here, the first one named ------------- */
    uint32_t n_out_of_range;
    char out_of_range_field[32];

    /* -- message specifics ------------------------------------------------------------- */
    bool cam_rsu;              /* CAM with an RSU high-frequency container */
    bool cam_low_freq;         /* CAM low-frequency container present */
    int cause_code, sub_cause_code; /* DENM situation; -1 */
    uint16_t bsm_part2_ids;    /* BSM Part II: bit i set when PartII-Id i is present */
    bool bsm_has_part2;
    int n_intersections;       /* SPaT / MAP (and SPATEM / MAPEM) */
    int64_t intersection_ids[VXS_V2X_MAX_INTERSECTIONS]; /* region << 16 | id (region 0 when
                                                            absent) */
    int tim_frames;            /* TIM: TravelerDataFrames (1..8); -1 */
    bool has_tim_packet_id;
    uint8_t tim_packet_id[9];  /* TIM packetID (UniqueMSGID) when has_tim_packet_id */
    bool tim_has_url;          /* TIM urlB present */
    int n_objects;             /* CPM perceived objects (all of them) */
    int n_objects_kept;        /* <= VXS_V2X_MAX_OBJECTS */
    vxs_v2x_object_t objects[VXS_V2X_MAX_OBJECTS];

    /* -- GeoNetworking ------------------------------------------------------------------ */
    bool has_gn;
    int gn_header_type;        /* common header HT<<4|HST (0x50 SHB ...) */
    int gn_btp_port;           /* BTP destination port; -1 */
    int gn_sn;                 /* GN sequence number (TSB, GBC, GUC); -1 */
    uint8_t gn_addr[8];        /* source position vector GN_ADDR */
    int64_t gn_tst;            /* source PV timestamp, ms since 2004 TAI mod 2^32; -1 */
    double gn_lat_deg, gn_lon_deg, gn_speed_mps, gn_heading_deg; /* source PV; NaN */
    bool gn_secured;           /* basic header NH = secured packet */

    /* -- WSMP / IEEE 1609.2 -------------------------------------------------------------- */
    bool has_wsmp;
    uint32_t psid;             /* WSMP PSID (p-decoded) */
    int wsmp_channel, wsmp_data_rate, wsmp_tx_power; /* extension fields; -1 when absent */
    int ieee_content;          /* 1609.2 content: 0 unsecured, 1 signed, 2 encrypted; -1 none */
    uint32_t ieee_psid;        /* signed data HeaderInfo psid (when ieee_content == 1) */
    int64_t ieee_gen_time_us;  /* HeaderInfo generationTime, µs since 2004 TAI; -1 */
} vxs_v2x_msg_t;

/* vxs_v2x_msg_init sets every field to its absent value. Every decoder below calls it first. */
void vxs_v2x_msg_init(vxs_v2x_msg_t *m);

/* ==== 2. Decoders (pure functions on bytes; errors say what and at which byte/bit) ====== */

/* vxs_v2x_decode_gn decodes a GeoNetworking packet (the payload after EtherType 0x8947):
 * headers, BTP, and the ITS PDU behind it. A secured packet is unwrapped (1609.2 signed data:
 * the payload found, generationTime kept, the signature not verified). VXS_E_TRUNCATED /
 * VXS_E_MALFORMED with a message naming the layer and byte or bit offset; on error `out`
 * holds what was decoded before the error (protocol stays set). An ITS PDU type that is not
 * decoded is not an error: decoded = false, header fields set. */
vxs_status_t vxs_v2x_decode_gn(vxs_v2x_msg_t *out, const uint8_t *p, size_t len, char *err,
                               size_t err_len);

/* vxs_v2x_decode_its_pdu decodes an ITS PDU (ItsPduHeader + message) as UPER. */
vxs_status_t vxs_v2x_decode_its_pdu(vxs_v2x_msg_t *out, const uint8_t *p, size_t len, char *err,
                                    size_t err_len);

/* vxs_v2x_decode_wsmp decodes a WSMP packet (the payload after EtherType 0x88DC): WSMP header
 * with PSID and extension fields, the IEEE 1609.2 data and the J2735 MessageFrame in it. */
vxs_status_t vxs_v2x_decode_wsmp(vxs_v2x_msg_t *out, const uint8_t *p, size_t len, char *err,
                                 size_t err_len);

/* vxs_v2x_decode_1609dot2 decodes an Ieee1609Dot2Data (C-OER): for unsecured and signed data
 * it sets ieee_* fields and returns the inner payload in *payload / *payload_len (pointing
 * into p). Encrypted data: VXS_E_UNSUPPORTED (ieee_content = 2). Does not init `out`. */
vxs_status_t vxs_v2x_decode_1609dot2(vxs_v2x_msg_t *out, const uint8_t **payload,
                                     size_t *payload_len, const uint8_t *p, size_t len,
                                     char *err, size_t err_len);

/* vxs_v2x_decode_j2735 decodes a J2735 MessageFrame (UPER). Unknown message ids: decoded =
 * false, msg_id set, not an error. */
vxs_status_t vxs_v2x_decode_j2735(vxs_v2x_msg_t *out, const uint8_t *p, size_t len, char *err,
                                  size_t err_len);

/* ==== 3. Times ============================================================================ */

/* vxs_v2x_times_t are a message's sender time fields converted to absolute time
 * (vxs_time_t, ns since 1970 UTC), each unwrapped against a reference (the capture time):
 * generationDeltaTime and GN TST nearest the reference modulo their wrap, secMark within the
 * reference's minute (±30 s), 1609.2 generationTime and full TimestampIts directly.
 * VXS_TIME_NONE where the message has no such field. `gen` is the best generation time:
 * 1609.2 generationTime, else generationDeltaTime, else secMark (+ moy), else TimestampIts,
 * else GN TST. */
typedef struct {
    vxs_time_t gen;
    vxs_time_t gen_delta;
    vxs_time_t gn_tst;
    vxs_time_t sec_mark;
    vxs_time_t ieee_gen;
    vxs_time_t its_time;        /* DENM / CPM referenceTime */
    vxs_time_t denm_detection;
} vxs_v2x_times_t;

/* vxs_v2x_resolve_times fills *out from `m` against `reference`. */
void vxs_v2x_resolve_times(vxs_v2x_times_t *out, const vxs_v2x_msg_t *m, vxs_time_t reference);

/* ==== 4. Logs ============================================================================= */

/* vxs_wydot_record_t is one record of a Wyoming CV-pilot OBU binary log (layout in
 * ../shared/datasets/SOURCES.md): little-endian packed u8 direction (0 sent, 1 received),
 * i32 lat, lon, elev, u16 speed, heading, u32 utcSec, u16 msec, i8 sign, u16 length,
 * payload[length] (1609.2 data holding a MessageFrame). */
typedef struct {
    uint8_t direction;
    int32_t lat, lon, elev;     /* as logged (1e-7 deg, 0.1 m... see SOURCES.md) */
    uint16_t speed, heading;
    vxs_time_t log_time;        /* utcSec + msec */
    int8_t sign;
    const uint8_t *payload;     /* into the caller's buffer */
    size_t payload_len;
    uint64_t offset;            /* byte offset of the record */
} vxs_wydot_record_t;

/* vxs_wydot_next reads the record at *pos in `data` (`len` bytes) and advances *pos.
 * VXS_EOF at the end, VXS_E_TRUNCATED for a record cut short (then *pos is not advanced). */
vxs_status_t vxs_wydot_next(vxs_wydot_record_t *out, size_t *pos, const uint8_t *data,
                            size_t len);

/* VXS_WYDOT_MAX_PAYLOAD is the longest record payload a Wyoming log is read with (a record
 * declaring more is damage, resynchronised past). */
#define VXS_WYDOT_MAX_PAYLOAD 32768

/* vxs_wydot_plausible says whether the `n` bytes at `p` (`left` bytes to the end of the file,
 * left >= n) start a plausible Wyoming record: direction 0 or 1, milliseconds below 1000,
 * latitude and longitude in range (or "unavailable"), a payload of 1..VXS_WYDOT_MAX_PAYLOAD
 * bytes inside the file that starts like 1609.2 data or a J2735 MessageFrame with an assigned
 * id (at most 64 bytes of forwarding header before it; only the payload bytes within `n` are
 * looked at). False with the first failed test in `why` (may be NULL). Content detection and
 * the reader's resynchronisation use it. */
bool vxs_wydot_plausible(const uint8_t *p, size_t n, uint64_t left, char *why, size_t why_len);

/* vxs_hexlog_parse_line reads one line of a hex log: optional leading whitespace, an optional
 * timestamp (ISO 8601, e.g. 2018-05-01T16:04:10.894Z, or seconds since 1970 with a fraction)
 * followed by a space, comma, semicolon or tab, then the message as hex digits (spaces allowed
 * between bytes), to the end of the line. Empty lines and lines starting with '#' give
 * VXS_EOF (nothing to read). The bytes go to out (at most out_cap; VXS_E_LIMIT beyond),
 * *out_time to the timestamp or VXS_TIME_NONE. VXS_E_MALFORMED (odd digit count, a character
 * that is not hex) with the column in err. */
vxs_status_t vxs_hexlog_parse_line(uint8_t *out, size_t *out_len, vxs_time_t *out_time,
                                   const char *line, size_t line_len, size_t out_cap, char *err,
                                   size_t err_len);

/* ==== 5. The V2X reader: a capture or log in, one record per message out ================= */

/* vxs_v2x_format_t is what a V2X source file is. */
typedef enum {
    VXS_V2X_FMT_AUTO = 0,  /* by content: pcap/pcapng magic; text of hex lines; else WYDOT */
    VXS_V2X_FMT_PCAP = 1,  /* pcap or pcapng: GeoNetworking and WSMP frames */
    VXS_V2X_FMT_WYDOT = 2, /* Wyoming OBU binary log */
    VXS_V2X_FMT_HEX = 3    /* one J2735 MessageFrame (or 1609.2 data holding one) per line */
} vxs_v2x_format_t;

/* vxs_v2x_reader_options_t configures vxs_v2x_reader_open; zero it, then set what you need. */
typedef struct {
    uint32_t agent, sensor, source_index; /* copied into records and locators */
    vxs_v2x_format_t format;
    /* The recording agent's own identities, so a capture can say what it sent: a frame from
     * one of these MACs, or a message with this station / temporary id, is "sent". */
    const uint8_t (*own_macs)[6];
    size_t n_own_macs;
    int64_t own_station_id; /* -1 (or 0 when the options are zeroed and unset): none */
    const vxs_limits_t *limits;
    const vxs_diag_sink_t *diag;
} vxs_v2x_reader_options_t;

/* vxs_v2x_link_t is what the log says about how a message travelled. */
typedef struct {
    int direction;        /* 0 sent, 1 received, -1 the log does not say */
    bool has_mac;
    uint8_t src_mac[6], dst_mac[6];
    bool has_rssi;
    int rssi_dbm;
    bool has_channel;
    int freq_mhz;
    uint32_t header_skipped; /* hex logs: bytes of a forwarding header before the message (a
                                roadside unit's UDP forward, as jpo-ode receives it); 0 */
} vxs_v2x_link_t;

typedef struct vxs_v2x_reader vxs_v2x_reader_t;

/* vxs_v2x_reader_open opens the capture or log at `path` (format opt->format, or found from the
 * content with VXS_V2X_FMT_AUTO) and returns the reader in *out, which the caller must
 * vxs_v2x_reader_close(). `opt` and what it points to (own_macs, limits) are copied or read
 * during the call only; opt->diag, when set, is copied too, but the sink's user data must
 * outlive the reader. Errors: VXS_E_IO (the file cannot be read), those of vxs_pcap_open_file
 * for a capture libpcap refuses, VXS_E_ARG, VXS_E_NOMEM; `err` (may be NULL) names the file. On
 * error *out is NULL. */
vxs_status_t vxs_v2x_reader_open(vxs_v2x_reader_t **out, const char *path,
                                 const vxs_v2x_reader_options_t *opt, char *err, size_t err_len);

/* vxs_v2x_reader_next yields the next message as a VXS_REC_V2X record (lent: valid until the
 * next call on `r`, owned by the reader): capture_time (pcap
 * time or log time), device_time = the sender's generation time resolved against it (clock
 * domain VXS_CLOCK_SENDER, station = the sender id), seq = msgCnt / DENM sequence number when
 * there is one, the summary, and the locator (pcap record, or log record / line and byte
 * offset). Frames that are not V2X are skipped silently (counted); V2X frames that do not
 * decode are reported to the diag sink with file, packet (or line) number and byte offset,
 * counted, and skipped. VXS_EOF at the end. */
vxs_status_t vxs_v2x_reader_next(vxs_v2x_reader_t *r, const vxs_record_t **out);

/* vxs_v2x_reader_msg returns the decoded message behind the record last returned by
 * vxs_v2x_reader_next (NULL for a NULL reader). It is the reader's, lent like the record: valid,
 * with everything it points to (payload bytes, CPM objects), until the next call of
 * vxs_v2x_reader_next or vxs_v2x_reader_close; copy what you keep. Before the first message it
 * holds an initialized empty message. */
const vxs_v2x_msg_t *vxs_v2x_reader_msg(const vxs_v2x_reader_t *r);

/* vxs_v2x_reader_record returns the record last returned by vxs_v2x_reader_next (NULL before
 * the first); valid until the next call. */
const vxs_record_t *vxs_v2x_reader_record(const vxs_v2x_reader_t *r);

/* vxs_v2x_reader_times copies into *out the last message's time fields resolved against its
 * capture time (all VXS_TIME_NONE for a NULL reader). *out is the caller's. */
void vxs_v2x_reader_times(const vxs_v2x_reader_t *r, vxs_v2x_times_t *out);

/* vxs_v2x_reader_link copies into *out what the log said about how the last message travelled
 * (direction -1 and nothing else for a NULL reader). *out is the caller's. */
void vxs_v2x_reader_link(const vxs_v2x_reader_t *r, vxs_v2x_link_t *out);

/* vxs_v2x_counts_t counts what the reader has seen. */
typedef struct {
    uint64_t units;       /* capture records, log records or lines read */
    uint64_t messages;    /* V2X messages returned */
    uint64_t decoded;     /* of those, with the body decoded (not header only) */
    uint64_t other;       /* units that are not V2X */
    uint64_t bad;         /* V2X units that did not decode (reported) */
} vxs_v2x_counts_t;

/* vxs_v2x_reader_counts copies the counts so far into *out (zeros for a NULL reader). */
void vxs_v2x_reader_counts(const vxs_v2x_reader_t *r, vxs_v2x_counts_t *out);

/* vxs_v2x_reader_errmsg returns the message of the last bad unit or error, naming the file and
 * the unit ("f.log: record 12 (byte offset 1844): ..."), or "" when none. Never NULL; the
 * reader's, valid until the next call on `r`. */
const char *vxs_v2x_reader_errmsg(const vxs_v2x_reader_t *r);

/* vxs_v2x_reader_position returns the byte offset reading has reached and sets *file_size (may
 * be NULL) to the file's size (0 if unknown), for progress. */
uint64_t vxs_v2x_reader_position(const vxs_v2x_reader_t *r, uint64_t *file_size);

/* vxs_v2x_reader_format returns the format being read (the one found for VXS_V2X_FMT_AUTO). */
vxs_v2x_format_t vxs_v2x_reader_format(const vxs_v2x_reader_t *r);

/* vxs_v2x_reader_close frees the reader and everything it lent (the record, the message).
 * Accepts NULL. */
void vxs_v2x_reader_close(vxs_v2x_reader_t *r);

#ifdef __cplusplus
}
#endif
#endif /* VXS_V2X_H */
