/*
 * detect.c: what a packet or a file holds, judged by content.
 *
 * Packets are classified by sizes, magic values and header fields (specs:
 * shared/specs/lidar-packet-formats.md for Velodyne and Ouster, shared/specs/v2x-wire-formats.md
 * for GeoNetworking and WSMP); port numbers only break ties, because recordings re-map ports
 * (nebula's re-created headers, two Ouster sensors on the same ports). Files are recognized by
 * the capture magics, then by libavformat's probe.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>

#include <libavformat/avformat.h>
#include <libavutil/log.h>

#include "vxs_core.h"
#include "vxs_core_int.h"
#include "vxs_sensors.h"
#include "vxs_v2x.h"
#include "v2x_int.h"

const char *vxs_pkt_class_name(vxs_pkt_class_t c) {
    switch (c) {
    case VXS_CLS_UNDECODED: return "undecoded";
    case VXS_CLS_FRAGMENT: return "ip-fragment";
    case VXS_CLS_VELODYNE_DATA: return "velodyne-data";
    case VXS_CLS_VELODYNE_POSITION: return "velodyne-position";
    case VXS_CLS_OUSTER_LIDAR: return "ouster-lidar";
    case VXS_CLS_OUSTER_IMU: return "ouster-imu";
    case VXS_CLS_ETSI_GN: return "etsi-geonetworking";
    case VXS_CLS_WSMP: return "wsmp";
    case VXS_CLS_UDP_OTHER: return "udp-other";
    case VXS_CLS_IP_OTHER: return "ip-other";
    case VXS_CLS_NONIP_OTHER: return "non-ip-other";
    case VXS_CLS_LINK_ONLY: return "link-only";
    case VXS_CLS_COUNT_: break;
    }
    return "unknown";
}

const char *vxs_velodyne_product_name(uint8_t product) {
    /* Factory byte 2 (payload offset 1205): VD PacketModelId, FG FactoryId. */
    switch (product) {
    case 0x21: return "HDL-32E";
    case 0x22: return "VLP-16";
    case 0x23: return "VLP-32A/B";
    case 0x24: return "Puck Hi-Res";
    case 0x28: return "VLP-32C";
    case 0x31: return "Velarray";
    case 0x63: return "VLS-128 (old id)";
    case 0xA0: return "HDL-64E";
    case 0xA1: return "VLS-128";
    default: return "unknown";
    }
}

const char *vxs_velodyne_return_name(uint8_t mode) {
    switch (mode) {
    case 0x37: return "strongest";
    case 0x38: return "last";
    case 0x39: return "dual";
    default: return "unknown";
    }
}

/* ---- LiDAR ---------------------------------------------------------------------------------- */

/* Velodyne data packet (spec §1): 1206 bytes = 12 blocks of 100 bytes {flag u16 LE, azimuth u16
 * LE (0..35999, 0.01 deg), 32 x 3 bytes} + timestamp u32 LE + return mode + product id. */
static bool is_velodyne_data(const uint8_t *pl, size_t len, vxs_pkt_class_info_t *out) {
    vxs_rd_t r = vxs_rd_init(pl, len);
    if (len != 1206) return false;
    for (int b = 0; b < 12; b++) {
        uint16_t flag = 0, az = 0;
        vxs_rd_t blk;
        if (!vxs_rd_sub(&r, &blk, 100) || !vxs_rd_u16le(&blk, &flag) || !vxs_rd_u16le(&blk, &az))
            return false;
        if (flag != 0xEEFF && flag != 0xDDFF && flag != 0xCCFF && flag != 0xBBFF) return false;
        if (az >= 36000) return false;
    }
    out->velodyne_return_mode = pl[1204];
    out->velodyne_product = pl[1205];
    return true;
}

/* Velodyne position packet (spec §2): 512 bytes, PPS status at 202 (0..3), NMEA sentence at
 * 206 (128 bytes, NUL-terminated). Any talker ($GPRMC, $GNRMC, $GLGGA...) counts. A packet
 * whose NMEA area is all zero (no GPS attached) is only recognized on the position port. */
static bool is_velodyne_position(const uint8_t *pl, size_t len, uint16_t dst_port,
                                 vxs_pkt_class_info_t *out) {
    const uint8_t *nmea;
    bool zero = true;
    if (len != 512) return false;
    nmea = pl + 206;
    if (nmea[0] == '$' && nmea[1] == 'G' &&
        (memcmp(nmea + 3, "RMC", 3) == 0 || memcmp(nmea + 3, "GGA", 3) == 0)) {
        memcpy(out->nmea, nmea, 6);
        out->nmea[6] = '\0';
        out->velodyne_pps = pl[202];
        return true;
    }
    for (size_t i = 0; i < 128; i++) zero = zero && nmea[i] == 0;
    if (zero && pl[202] <= 3 && dst_port == 8308) {
        out->velodyne_pps = pl[202];
        return true;
    }
    return false;
}

static const uint16_t k_ouster_heights[] = {16, 32, 64, 128};
static const uint16_t k_ouster_cols[] = {16, 8, 4, 32};
static const uint16_t k_ouster_px[] = {12, 16, 4, 8};

/* Ouster legacy lidar packet (spec §3): cols x {16-byte header: timestamp u64, measurement_id
 * u16, frame_id u16, encoder u32; H x 12-byte pixels; status u32 (0xFFFFFFFF valid, 0 not)}. */
static bool is_ouster_legacy(const uint8_t *pl, size_t len, vxs_pkt_class_info_t *out) {
    for (size_t hi = 0; hi < 4; hi++) {
        for (size_t ci = 0; ci < 4; ci++) {
            size_t h = k_ouster_heights[hi], cols = k_ouster_cols[ci];
            size_t col_len = 16 + 12 * h + 4;
            vxs_rd_t r = vxs_rd_init(pl, len);
            bool ok = true;
            if (cols * col_len != len) continue;
            for (size_t c = 0; c < cols && ok; c++) {
                vxs_rd_t col, tail;
                uint16_t mid = 0;
                uint32_t status = 0;
                ok = vxs_rd_sub(&r, &col, col_len) && vxs_rd_skip(&col, 8) &&
                     vxs_rd_u16le(&col, &mid) && vxs_rd_skip(&col, 6 + 12 * h) &&
                     vxs_rd_sub(&col, &tail, 4) && vxs_rd_u32le(&tail, &status);
                ok = ok && mid < 4096 && (status == 0 || status == 0xFFFFFFFFu);
            }
            if (!ok) continue;
            out->ouster_legacy = 1;
            out->ouster_pixels = (uint16_t)h;
            out->ouster_columns = (uint16_t)cols;
            return true;
        }
    }
    return false;
}

/* profile_columns_ok checks every column header of a profile packet: timestamp u64, then
 * measurement_id u16 < 4096 (= column index, W <= 2048). */
static bool profile_columns_ok(const uint8_t *pl, size_t len, size_t cols, size_t col_len) {
    vxs_rd_t r = vxs_rd_init(pl, len);
    if (!vxs_rd_skip(&r, 32)) return false;
    for (size_t c = 0; c < cols; c++) {
        vxs_rd_t col;
        uint16_t mid = 0;
        if (!vxs_rd_sub(&r, &col, col_len) || !vxs_rd_skip(&col, 8) || !vxs_rd_u16le(&col, &mid))
            return false;
        if (mid >= 4096) return false;
    }
    return true;
}

/* dual_padding_zero tests the RNG19_RFL8_SIG16_NIR16_DUAL signature: in every 16-byte pixel,
 * bits 112-127 carry no field (ouster-sdk parsing.cpp), so bytes 14-15 are zero. It also
 * reports whether any other pixel byte is non-zero. */
static bool dual_padding_zero(const uint8_t *pl, size_t cols, size_t h, size_t col_len,
                              bool *any_data) {
    *any_data = false;
    for (size_t c = 0; c < cols; c++) {
        const uint8_t *px = pl + 32 + c * col_len + 12;
        for (size_t i = 0; i < h; i++, px += 16) {
            if (px[14] != 0 || px[15] != 0) return false;
            for (size_t b = 0; b < 14 && !*any_data; b++) *any_data = px[b] != 0;
        }
    }
    return true;
}

/* Ouster profile lidar packet (spec §3): 32-byte packet header, cols x {12-byte column header,
 * H pixels of px bytes}, 32-byte footer: payload = 64 + cols*(12 + H*px). The packet header
 * starts with packet_type u16 LE = 1; the FUSA header (FUSA_RNG15_RFL8_NIR8_DUAL, 8-byte pixels)
 * starts with packet_type u8 = 1 followed by init_id u24, so there the u16 is not 1.
 *
 * Sizes are ambiguous: only H*px is fixed by the size, e.g. 8448 fits RNG15_RFL8_NIR8 (4 B)
 * with H=128 and RNG19_..._DUAL (16 B) with H=32, both 16 columns. The column stride is then
 * the same for every reading, so column headers cannot tell them apart; pixel bytes can. In a
 * DUAL pixel bits 112-127 carry no field (ouster-sdk parsing.cpp), so bytes 14-15 of every
 * pixel are zero; under the 4-byte reading that would mean every 4th pixel has neither
 * reflectivity nor ambient (NIR) light while the others have data, which a sensor does not
 * produce. Hence: non-zero padding rules DUAL out; zero padding with data elsewhere picks DUAL;
 * if the pixels are all zero nothing tells them apart, and ouster_pixels / ouster_profile_px
 * stay 0 ("not determined") while the class and the column count are still reported. The
 * sensor's metadata JSON settles such cases. */
static bool is_ouster_profile(const uint8_t *pl, size_t len, vxs_pkt_class_info_t *out) {
    size_t n = 0, best_h = 0, best_px = 0, best_cols = 0;
    bool dual_data = false, fusa;
    if (len < 64) return false;
    if (pl[0] != 1) return false;
    fusa = pl[1] != 0; /* u16 LE != 1 although the first byte is 1 */
    for (size_t ci = 0; ci < 4; ci++) {
        for (size_t hi = 0; hi < 4; hi++) {
            for (size_t pi = 0; pi < 4; pi++) {
                size_t cols = k_ouster_cols[ci], h = k_ouster_heights[hi], px = k_ouster_px[pi];
                size_t col_len = 12 + h * px;
                if ((px == 8) != fusa || 64 + cols * col_len != len) continue;
                if (!profile_columns_ok(pl, len, cols, col_len)) continue;
                if (px == 16) {
                    bool any = false;
                    if (!dual_padding_zero(pl, cols, h, col_len, &any)) continue;
                    dual_data = any;
                }
                if (n == 0 || (px == 16 && dual_data)) {
                    best_h = h;
                    best_px = px;
                    best_cols = cols;
                }
                n++;
            }
        }
    }
    if (n == 0) return false;
    out->ouster_legacy = 0;
    out->ouster_columns = (uint16_t)best_cols;
    if (n == 1 || (best_px == 16 && dual_data)) {
        out->ouster_pixels = (uint16_t)best_h;
        out->ouster_profile_px = (uint16_t)best_px;
    }
    return true;
}

/* Ouster legacy IMU packet (spec §3): 48 bytes, sys_ts / accel_ts / gyro_ts u64 LE ns, then six
 * f32. The three timestamps come from one clock a few µs apart: require them non-zero and
 * within 1 s of each other, which 48 random bytes practically never are. */
static bool is_ouster_imu(const uint8_t *pl, size_t len) {
    vxs_rd_t r = vxs_rd_init(pl, len);
    uint64_t t[3], lo, hi;
    if (len != 48) return false;
    for (int i = 0; i < 3; i++)
        if (!vxs_rd_u64le(&r, &t[i]) || t[i] == 0) return false;
    lo = hi = t[0];
    for (int i = 1; i < 3; i++) {
        if (t[i] < lo) lo = t[i];
        if (t[i] > hi) hi = t[i];
    }
    return hi - lo <= UINT64_C(1000000000);
}

/* ---- V2X ------------------------------------------------------------------------------------ */

/* gn_ext_len returns the GeoNetworking extended header length for a common header HT|HST byte
 * (EN 302 636-4-1 §9.8; v2x-wire-formats.md §2), 0 when unknown or without BTP. */
static size_t gn_ext_len(uint8_t ht) {
    switch (ht) {
    case 0x10: return 24; /* beacon: SO LPV */
    case 0x20: return 48; /* GUC: SN, reserved, SO LPV, DE short PV */
    case 0x30: case 0x31: case 0x32: /* GAC circle / rectangle / ellipse */
    case 0x40: case 0x41: case 0x42: return 44; /* GBC */
    case 0x50: return 28; /* SHB: SO LPV + DCC/MCO field */
    case 0x51: return 28; /* TSB multi-hop: SN, reserved, SO LPV */
    default: return 0;
    }
}

/* classify_gn reads the GeoNetworking basic header (version(4)|NH(4), reserved, lifetime, RHL)
 * and, when NH = 1, the common header (NH(4)|reserved(4), HT|HST, TC, flags, PL u16, MHL,
 * reserved), the extended header and the BTP-A/B destination port. NH = 2 (secured) wraps the
 * common header in an EtsiTs103097Data and is not opened here. */
static bool classify_gn(const uint8_t *pl, size_t len, vxs_pkt_class_info_t *out) {
    vxs_rd_t r = vxs_rd_init(pl, len), ch;
    uint8_t b0 = 0, ch_nh = 0, ht = 0;
    size_t ext;
    uint16_t port = 0;
    if (!vxs_rd_u8(&r, &b0)) return false;
    if ((b0 >> 4) > 1 || ((b0 & 0x0F) != 1 && (b0 & 0x0F) != 2)) return false;
    out->gn_next_header = b0 & 0x0F;
    if (out->gn_next_header != 1 || !vxs_rd_skip(&r, 3) || !vxs_rd_sub(&r, &ch, 8)) return true;
    if (!vxs_rd_u8(&ch, &ch_nh) || !vxs_rd_u8(&ch, &ht)) return true;
    out->gn_header_type = ht;
    ch_nh >>= 4;
    ext = gn_ext_len(ht);
    if ((ch_nh == 1 || ch_nh == 2) && ext > 0 && vxs_rd_skip(&r, ext) && vxs_rd_u16be(&r, &port))
        out->btp_dst_port = port;
    return true;
}

/* wsmp_varlen reads the 1609.3 variable-length count/length: one byte 0xxxxxxx, or two bytes
 * 1xxxxxxx xxxxxxxx (15 bits). */
static bool wsmp_varlen(vxs_rd_t *r, size_t *out) {
    uint8_t a = 0, b = 0;
    if (!vxs_rd_u8(r, &a)) return false;
    if (!(a & 0x80)) {
        *out = a;
        return true;
    }
    if (!vxs_rd_u8(r, &b)) return false;
    *out = (size_t)(a & 0x7F) << 8 | b;
    return true;
}

/* wsmp_psid p-decodes a PSID (IEEE 1609.3 §8.1.3 / 1609.12): the count of leading 1 bits of the
 * first byte gives 1..4 bytes, and each longer form adds the offset of the shorter ones. */
static bool wsmp_psid(vxs_rd_t *r, uint32_t *out) {
    uint8_t b[4] = {0, 0, 0, 0};
    if (!vxs_rd_u8(r, &b[0])) return false;
    if (!(b[0] & 0x80)) {
        *out = b[0];
        return true;
    }
    if ((b[0] & 0xC0) == 0x80) {
        if (!vxs_rd_u8(r, &b[1])) return false;
        *out = ((uint32_t)(b[0] & 0x3F) << 8 | b[1]) + 0x80;
        return true;
    }
    if ((b[0] & 0xE0) == 0xC0) {
        if (!vxs_rd_u8(r, &b[1]) || !vxs_rd_u8(r, &b[2])) return false;
        *out = ((uint32_t)(b[0] & 0x1F) << 16 | (uint32_t)b[1] << 8 | b[2]) + 0x4080;
        return true;
    }
    if ((b[0] & 0xF0) == 0xE0) {
        if (!vxs_rd_u8(r, &b[1]) || !vxs_rd_u8(r, &b[2]) || !vxs_rd_u8(r, &b[3])) return false;
        *out = ((uint32_t)(b[0] & 0x0F) << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3]) +
               0x204080;
        return true;
    }
    return false;
}

/* classify_wsmp reads the WSMP-N-Header (subtype(4)|option(1)|version(3); if the option bit is
 * set, a count of extension elements {id u8, length, value}), the TPID and the PSID that starts
 * the WSMP-T-Header (IEEE 1609.3-2016 §8.3). The PSID stays 0 when it cannot be reached. */
static void classify_wsmp(const uint8_t *pl, size_t len, vxs_pkt_class_info_t *out) {
    vxs_rd_t r = vxs_rd_init(pl, len);
    uint8_t b0 = 0, tpid = 0;
    uint32_t psid = 0;
    if (!vxs_rd_u8(&r, &b0)) return;
    out->wsmp_version = b0 & 7;
    if (b0 & 0x08) {
        size_t count = 0;
        if (!wsmp_varlen(&r, &count)) return;
        for (size_t i = 0; i < count; i++) {
            size_t elen = 0;
            if (!vxs_rd_skip(&r, 1) || !wsmp_varlen(&r, &elen) || !vxs_rd_skip(&r, elen)) return;
        }
    }
    if (!vxs_rd_u8(&r, &tpid) || !wsmp_psid(&r, &psid)) return;
    out->wsmp_psid = psid;
}

/* ---- classification ------------------------------------------------------------------------- */

/* flow_from fills the flow key; `key` is already zeroed (vxs_classify clears its output). */
static void flow_from(const vxs_pkt_info_t *in, vxs_flow_key_t *key) {
    if (in->ip_version != 0) {
        memcpy(key->src_addr, in->src_addr, 16);
        memcpy(key->dst_addr, in->dst_addr, 16);
        key->src_port = in->src_port;
        key->dst_port = in->dst_port;
        key->ip_version = in->ip_version;
        key->ip_proto = in->ip_proto;
    } else {
        if (in->has_mac) memcpy(key->src_addr, in->src_mac, 6);
        key->ethertype = in->ethertype;
    }
}

void vxs_classify(vxs_pkt_class_info_t *out, const vxs_packet_t *pkt) {
    const vxs_pkt_info_t *pl;
    if (!out) return;
    memset(out, 0, sizeof *out);
    if (!pkt) return;
    pl = vxs_packet_payload(pkt);
    flow_from(pl ? pl : &pkt->info, &out->flow);
    if (pkt->decode_status != VXS_OK) {
        out->cls = VXS_CLS_UNDECODED;
        return;
    }
    if (!pl) {
        switch (pkt->info.kind) {
        case VXS_PL_FRAGMENT: out->cls = VXS_CLS_FRAGMENT; break;
        case VXS_PL_IP: out->cls = VXS_CLS_IP_OTHER; break;
        default: out->cls = VXS_CLS_LINK_ONLY; break;
        }
        return;
    }
    if (pl->kind == VXS_PL_ETHERTYPE) {
        if (pl->ethertype == VXS_ETHERTYPE_GEONET && classify_gn(pl->payload, pl->payload_len, out)) {
            out->cls = VXS_CLS_ETSI_GN;
            out->flow.service = out->btp_dst_port;
        }
        else if (pl->ethertype == VXS_ETHERTYPE_WSMP && pl->payload_len > 0) {
            out->cls = VXS_CLS_WSMP;
            classify_wsmp(pl->payload, pl->payload_len, out);
            out->flow.service = out->wsmp_psid;
        } else {
            out->cls = VXS_CLS_NONIP_OTHER;
            out->gn_next_header = 0;
        }
        return;
    }
    if (pl->kind != VXS_PL_UDP) {
        out->cls = pl->kind == VXS_PL_IP ? VXS_CLS_IP_OTHER : VXS_CLS_LINK_ONLY;
        return;
    }
    if (is_velodyne_data(pl->payload, pl->payload_len, out))
        out->cls = VXS_CLS_VELODYNE_DATA;
    else if (is_velodyne_position(pl->payload, pl->payload_len, pl->dst_port, out))
        out->cls = VXS_CLS_VELODYNE_POSITION;
    else if (is_ouster_legacy(pl->payload, pl->payload_len, out) ||
             is_ouster_profile(pl->payload, pl->payload_len, out))
        out->cls = VXS_CLS_OUSTER_LIDAR;
    else if (is_ouster_imu(pl->payload, pl->payload_len))
        out->cls = VXS_CLS_OUSTER_IMU;
    else
        out->cls = VXS_CLS_UDP_OTHER;
}

/* ---- files ---------------------------------------------------------------------------------- */

static void quiet_ffmpeg(void) {
    /* libavformat prints to stderr by default; our callers report errors themselves. */
    av_log_set_level(AV_LOG_QUIET);
}

/* open_video asks libavformat whether `path` is a container with a video stream; 0 when it
 * is, else a negative AVERROR or 1 (opened, but no video stream / a still-image or text
 * demuxer: a single picture is not a video, and the "tty" demuxer renders any .txt file as
 * ANSI-art video). */
static int open_video(const char *path) {
    AVFormatContext *fc = NULL;
    bool video = false;
    const char *name;
    size_t nlen;
    int rc;
    quiet_ffmpeg();
    if ((rc = avformat_open_input(&fc, path, NULL, NULL)) < 0) return rc;
    name = fc->iformat && fc->iformat->name ? fc->iformat->name : "";
    nlen = strlen(name);
    if (strcmp(name, "image2") != 0 && strcmp(name, "tty") != 0 &&
        !(nlen >= 5 && strcmp(name + nlen - 5, "_pipe") == 0)) {
        for (unsigned i = 0; i < fc->nb_streams; i++) {
            const AVStream *s = fc->streams[i];
            if (s->codecpar && s->codecpar->codec_type == AVMEDIA_TYPE_VIDEO &&
                !(s->disposition & AV_DISPOSITION_ATTACHED_PIC))
                video = true;
        }
    }
    avformat_close_input(&fc);
    return video ? 0 : 1;
}

const char *vxs_file_kind_name(vxs_file_kind_t k) {
    switch (k) {
    case VXS_FILE_PCAP: return "pcap";
    case VXS_FILE_PCAPNG: return "pcapng";
    case VXS_FILE_VIDEO: return "video";
    case VXS_FILE_WYDOT_LOG: return "wydot-log";
    case VXS_FILE_HEX_LOG: return "hex-log";
    case VXS_FILE_UNKNOWN: break;
    }
    return "unknown";
}

#define HEAD_MAX 65536 /* bytes of the file start the evidence is looked for in */

static uint32_t le32(const uint8_t *b) {
    return (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
}
static uint32_t be32(const uint8_t *b) {
    return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
}

/* capture_magic: pcap-savefile(5) a1b2c3d4 (µs) / a1b23c4d (ns) in the writer's byte order,
 * a1b2cd34 the "modified" Kuznetzov format libpcap also reads; pcapng's Section Header Block
 * type 0a0d0d0a (a palindrome) with its byte-order magic 1a2b3c4d at byte 8. */
static bool capture_magic(vxs_file_probe_t *o, const uint8_t *h, size_t n) {
    static const uint32_t magics[6] = {0xa1b2c3d4u, 0xd4c3b2a1u, 0xa1b23c4du,
                                       0x4d3cb2a1u, 0xa1b2cd34u, 0x34cdb2a1u};
    if (n < 4) return false;
    for (size_t i = 0; i < 6; i++) {
        if (le32(h) == magics[i]) {
            o->kind = VXS_FILE_PCAP;
            vxsi_fmt(o->detail, sizeof o->detail, "pcap magic %08x", be32(h));
            return true;
        }
    }
    if (le32(h) == 0x0a0d0d0au) {
        o->kind = VXS_FILE_PCAPNG;
        if (n >= 12 && (le32(h + 8) == 0x1a2b3c4du || be32(h + 8) == 0x1a2b3c4du)) {
            vxsi_fmt(o->detail, sizeof o->detail, "pcapng section header block");
        } else {
            o->damaged = true;
            vxsi_fmt(o->detail, sizeof o->detail,
                     "pcapng section header block whose byte-order magic (bytes 8-11) is "
                     "damaged or missing");
        }
        return true;
    }
    /* A classic header whose magic alone is damaged: version 2.4 in either byte order. */
    if (n >= 24 && (memcmp(h + 4, "\x02\x00\x04\x00", 4) == 0 ||
                    memcmp(h + 4, "\x00\x02\x00\x04", 4) == 0)) {
        o->kind = VXS_FILE_PCAP;
        o->damaged = true;
        vxsi_fmt(o->detail, sizeof o->detail,
                 "pcap file header (version 2.4 at bytes 4-7) whose magic number %08x (bytes "
                 "0-3) is damaged",
                 be32(h));
        return true;
    }
    return false;
}

/* iso_box_type: the box types that start an ISO BMFF file (ISO/IEC 14496-12; QuickTime's
 * wide/pnot too). */
static bool iso_box_type(const uint8_t *t) {
    static const char types[][5] = {"ftyp", "styp", "moov", "mdat", "free", "skip",
                                    "wide", "pnot", "uuid", "moof", "sidx", "pdin"};
    for (size_t i = 0; i < sizeof types / sizeof types[0]; i++)
        if (memcmp(t, types[i], 4) == 0) return true;
    return false;
}

/* walk_boxes lists the top-level ISO BMFF boxes whose headers are in the file (reading each
 * header from `fp`) and says what is wrong with the structure, into `out`. True when a whole
 * 'moov' box (the index) is there. */
static bool walk_boxes(FILE *fp, uint64_t size, char *out, size_t out_len) {
    size_t w = (size_t)snprintf(out, out_len, "MP4/QuickTime boxes:");
    uint64_t pos = 0;
    bool moov = false, moov_cut = false;
    for (int i = 0; i < 64 && pos < size && w < out_len; i++) {
        uint8_t b[16];
        uint64_t bsize;
        if (fseeko(fp, (off_t)pos, SEEK_SET) != 0 || fread(b, 1, 8, fp) != 8) {
            w += (size_t)snprintf(out + w, out_len - w, " (a box header cut at byte %llu)",
                                  (unsigned long long)pos);
            break;
        }
        char type[5];
        for (int k = 0; k < 4; k++) type[k] = (b[4 + k] >= 0x20 && b[4 + k] < 0x7f) ? (char)b[4 + k] : '?';
        type[4] = '\0';
        bsize = be32(b);
        if (bsize == 1) {
            if (fread(b + 8, 1, 8, fp) != 8) break;
            bsize = (uint64_t)be32(b + 8) << 32 | be32(b + 12);
        } else if (bsize == 0) {
            bsize = size - pos;
        }
        moov = moov || memcmp(type, "moov", 4) == 0;
        w += (size_t)snprintf(out + w, out_len - w, " %s@%llu", type, (unsigned long long)pos);
        if (w >= out_len) break;
        if (bsize < 8) {
            w += (size_t)snprintf(out + w, out_len - w, " (box size %llu at byte %llu is below 8)",
                                  (unsigned long long)bsize, (unsigned long long)pos);
            break;
        }
        if (pos + bsize > size) {
            moov_cut = memcmp(type, "moov", 4) == 0;
            w += (size_t)snprintf(out + w, out_len - w,
                                  " (the '%s' box declares %llu bytes; the file ends %llu bytes "
                                  "into it)",
                                  type, (unsigned long long)bsize,
                                  (unsigned long long)(size - pos));
            break;
        }
        pos += bsize;
    }
    if (!moov && w < out_len)
        snprintf(out + w, out_len - w, "; no 'moov' box (the index of the frames)");
    else if (moov_cut && w < out_len)
        snprintf(out + w, out_len - w, "; the 'moov' box (the index of the frames) is cut");
    return moov && !moov_cut;
}

/* wydot_chain says whether a plausible Wyoming record starts at `i` and is followed by another
 * (which the end of the file may cut) or by the end of the file; `why` gets the reason when
 * not. */
static bool wydot_chain(const uint8_t *h, size_t n, size_t i, uint64_t size, char *why,
                        size_t why_len) {
    if (!vxs_wydot_plausible(h + i, n - i, size - i, why, why_len)) return false;
    const uint64_t len = 26 + ((uint64_t)h[i + 24] | (uint64_t)h[i + 25] << 8);
    if (i + len == size || i + len + 26 > size) return true; /* the end, or a header cut by it */
    if (i + len + 26 > n) {
        vxsi_fmt(why, why_len, "the record at byte %zu is not followed by another in the first "
                               "%zu bytes", i, n);
        return false;
    }
    /* the follower's structure only: a log cut inside its payload is still a log */
    return vxs_wydot_plausible(h + i + len, n - i - len, UINT64_MAX, why, why_len);
}

/* hex_lines counts the lines of the head that parse as a hex message (ok) and those that do
 * not (bad), blank and comment lines aside; the last line is left out when the head is not the
 * whole file (it may be cut). `first_bad` gets the first failure. */
static void hex_lines(const uint8_t *h, size_t n, bool whole, uint8_t *msg, size_t *ok,
                      size_t *bad, char *first_bad, size_t fb_len) {
    size_t start = 0, line = 0;
    *ok = *bad = 0;
    first_bad[0] = '\0';
    while (start < n) {
        const uint8_t *nl = memchr(h + start, '\n', n - start);
        size_t end = nl ? (size_t)(nl - h) + 1 : n;
        line++;
        if (!nl && !whole) break;
        size_t len = 0;
        vxs_time_t t;
        char err[160];
        vxs_status_t st = vxs_hexlog_parse_line(msg, &len, &t, (const char *)h + start,
                                                end - start, HEAD_MAX / 2, err, sizeof err);
        if (st == VXS_OK && vxsi_v2x_payload_plausible(msg, len)) {
            (*ok)++;
        } else if (st == VXS_OK) {
            if (*bad == 0)
                vxsi_fmt(first_bad, fb_len, "line %zu: hex, but not a J2735 message or 1609.2 "
                                            "data",
                         line);
            (*bad)++;
        } else if (st != VXS_EOF) {
            if (*bad == 0) vxsi_fmt(first_bad, fb_len, "line %zu: %s", line, err);
            (*bad)++;
        }
        start = end;
    }
}

/* hexish says whether the head is text made of hex digits (a hex log whose every line in the
 * head is damaged): 90 % of the bytes hex digits, separators, line ends or time stamp
 * characters, a run of at least 16 hex digits, and hex letters (a-f) in digit runs for at least
 * 2 % of the bytes (a file of decimal time stamps has none). */
static bool hexish(const uint8_t *h, size_t n) {
    size_t good = 0, run = 0, best = 0, letters = 0;
    for (size_t i = 0; i < n; i++) {
        const int c = h[i];
        const bool let = (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
        const bool hx = (c >= '0' && c <= '9') || let;
        letters += let && run > 0; /* a letter inside a run of digits, not a word's */
        run = hx ? run + 1 : 0;
        if (run > best) best = run;
        good += hx || c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == ',' || c == ';' ||
                c == ':' || c == '.' || c == '-' || c == '+' || c == 'T' || c == 'Z';
    }
    return best >= 16 && letters * 50 >= n && good * 10 >= n * 9;
}

vxs_status_t vxs_probe_file(vxs_file_probe_t *o, const char *path, char *err, size_t err_len) {
    struct stat sb;
    uint8_t *h = NULL;
    size_t n;
    FILE *fp;
    vxs_status_t st = VXS_OK;
    if (!o || !path) return VXS_E_ARG;
    memset(o, 0, sizeof *o);
    fp = fopen(path, "rb");
    if (!fp) {
        if (err && err_len) snprintf(err, err_len, "%s: cannot open: %s", path, strerror(errno));
        return VXS_E_IO;
    }
    if (fstat(fileno(fp), &sb) != 0 || !S_ISREG(sb.st_mode)) {
        if (err && err_len) snprintf(err, err_len, "%s: not a regular file", path);
        fclose(fp);
        return VXS_E_IO;
    }
    o->size = (uint64_t)sb.st_size;
    if (o->size == 0) {
        fclose(fp);
        vxsi_fmt(o->detail, sizeof o->detail, "empty file (0 bytes)");
        return VXS_OK;
    }
    h = vxs_malloc(HEAD_MAX + HEAD_MAX / 2); /* the head, then a hex line's message */
    if (!h) {
        fclose(fp);
        return VXS_E_NOMEM;
    }
    n = fread(h, 1, HEAD_MAX, fp);
    if (ferror(fp)) {
        if (err && err_len) snprintf(err, err_len, "%s: read error: %s", path, strerror(errno));
        st = VXS_E_IO;
        goto done;
    }
    if (capture_magic(o, h, n)) goto done;

    /* Video containers by their own structure, confirmed by libavformat. */
    const bool iso = n >= 8 && iso_box_type(h + 4);
    const bool ebml = n >= 4 && be32(h) == 0x1a45dfa3u;
    int av = 1;
    if (iso || ebml) {
        o->kind = VXS_FILE_VIDEO;
        bool index = true;
        if (iso)
            index = walk_boxes(fp, o->size, o->detail, sizeof o->detail);
        else
            vxsi_fmt(o->detail, sizeof o->detail, "Matroska/WebM EBML header");
        av = open_video(path);
        if (av == 0 && !index) {
            /* libavformat may open an MP4 whose index is cut and find no frame in it */
            o->damaged = true;
        } else if (av != 0) {
            char why[128];
            size_t w = strlen(o->detail);
            o->damaged = true;
            if (av < 0)
                av_strerror(av, why, sizeof why);
            else
                snprintf(why, sizeof why, "no video stream in it");
            vxsi_fmt(o->detail + w, sizeof o->detail - w, "; libavformat cannot open it: %s", why);
        }
        goto done;
    }

    /* Wyoming OBU log: a plausible record chain at byte 0, else (damaged start) further on. */
    char wy_why[160] = "", hex_why[200] = "";
    if (wydot_chain(h, n, 0, o->size, wy_why, sizeof wy_why)) {
        o->kind = VXS_FILE_WYDOT_LOG;
        vxsi_fmt(o->detail, sizeof o->detail, "Wyoming OBU log records from byte 0");
        goto done;
    }
    for (size_t i = 1; i + 26 <= n; i++) {
        char dummy[8];
        if (wydot_chain(h, n, i, o->size, dummy, sizeof dummy)) {
            o->kind = VXS_FILE_WYDOT_LOG;
            o->damaged = true;
            vxsi_fmt(o->detail, sizeof o->detail,
                     "Wyoming OBU log: no record at byte 0 (%s); plausible records from byte %zu",
                     wy_why, i);
            goto done;
        }
    }

    /* Hex log: lines that parse as hex messages. */
    size_t ok = 0, bad = 0;
    char first_bad[160];
    hex_lines(h, n, n == o->size, h + HEAD_MAX, &ok, &bad, first_bad, sizeof first_bad);
    if ((ok > 0 && ok >= bad) || (ok + bad > 0 && hexish(h, n))) {
        o->kind = VXS_FILE_HEX_LOG;
        o->damaged = bad > 0;
        if (bad)
            vxsi_fmt(o->detail, sizeof o->detail,
                     "hex log: %zu of %zu lines in the first %zu bytes parse as hex messages "
                     "(first failure %s)",
                     ok, ok + bad, n, first_bad);
        else
            vxsi_fmt(o->detail, sizeof o->detail, "hex log: %zu lines of hex messages", ok);
        goto done;
    }
    if (ok + bad == 0)
        vxsi_fmt(hex_why, sizeof hex_why, "no text lines");
    else
        vxsi_fmt(hex_why, sizeof hex_why, "%zu of %zu lines parse, first failure %s", ok,
                 ok + bad, first_bad);

    /* Other containers libavformat reads. */
    av = open_video(path);
    if (av == 0) {
        o->kind = VXS_FILE_VIDEO;
        vxsi_fmt(o->detail, sizeof o->detail, "a video container libavformat opens");
        goto done;
    }
    char av_why[128];
    if (av < 0)
        av_strerror(av, av_why, sizeof av_why);
    else
        snprintf(av_why, sizeof av_why, "opened, but no video stream");
    vxsi_fmt(o->detail, sizeof o->detail,
             "%llu bytes starting %02x %02x %02x %02x; tried: pcap/pcapng (no capture magic), "
             "MP4/QuickTime and Matroska (no box or EBML header), Wyoming OBU log (at byte 0: "
             "%s), hex log (%s), libavformat (%s)",
             (unsigned long long)o->size, h[0], n > 1 ? h[1] : 0, n > 2 ? h[2] : 0,
             n > 3 ? h[3] : 0, wy_why, hex_why, av_why);

done:
    vxs_free(h);
    fclose(fp);
    return st;
}

vxs_status_t vxs_detect_file(vxs_file_kind_t *out, const char *path, char *err, size_t err_len) {
    vxs_file_probe_t pr;
    if (!out || !path) return VXS_E_ARG;
    *out = VXS_FILE_UNKNOWN;
    VXS_FORWARD(vxs_probe_file(&pr, path, err, err_len));
    *out = pr.kind;
    return VXS_OK;
}
