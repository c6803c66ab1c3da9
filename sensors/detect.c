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

#include <libavformat/avformat.h>
#include <libavutil/log.h>

#include "vxs_core.h"
#include "vxs_sensors.h"

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

/* is_video_file asks libavformat whether `path` is a container with a video stream. Still-image
 * demuxers (image2, *_pipe) also expose a "video" stream; a single picture is not a video. Nor
 * is text: the "tty" demuxer renders any .txt file (a hex log) as ANSI-art video. */
static bool is_video_file(const char *path) {
    AVFormatContext *fc = NULL;
    bool video = false;
    const char *name;
    size_t nlen;
    quiet_ffmpeg();
    if (avformat_open_input(&fc, path, NULL, NULL) < 0) return false;
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
    return video;
}

vxs_status_t vxs_detect_file(vxs_file_kind_t *out, const char *path, char *err, size_t err_len) {
    uint8_t head[16];
    size_t n;
    FILE *fp;
    if (!out || !path) return VXS_E_ARG;
    *out = VXS_FILE_UNKNOWN;
    fp = fopen(path, "rb");
    if (!fp) {
        if (err && err_len) snprintf(err, err_len, "%s: cannot open: %s", path, strerror(errno));
        return VXS_E_IO;
    }
    n = fread(head, 1, sizeof head, fp);
    if (ferror(fp)) {
        if (err && err_len) snprintf(err, err_len, "%s: read error: %s", path, strerror(errno));
        fclose(fp);
        return VXS_E_IO;
    }
    fclose(fp);
    if (n >= 4) {
        /* pcap-savefile(5): a1b2c3d4 (µs) / a1b23c4d (ns), written in the writer's byte order;
         * a1b2cd34 is the "modified" Kuznetzov format libpcap also reads. pcapng: the Section
         * Header Block type 0a0d0d0a (a palindrome: same in both byte orders). */
        static const uint8_t magics[6][4] = {
            {0xa1, 0xb2, 0xc3, 0xd4}, {0xd4, 0xc3, 0xb2, 0xa1}, {0xa1, 0xb2, 0x3c, 0x4d},
            {0x4d, 0x3c, 0xb2, 0xa1}, {0xa1, 0xb2, 0xcd, 0x34}, {0x34, 0xcd, 0xb2, 0xa1}};
        for (size_t i = 0; i < 6; i++) {
            if (memcmp(head, magics[i], 4) == 0) {
                *out = VXS_FILE_PCAP;
                return VXS_OK;
            }
        }
        if (memcmp(head, "\x0a\x0d\x0d\x0a", 4) == 0) {
            *out = VXS_FILE_PCAPNG;
            return VXS_OK;
        }
    }
    if (n > 0 && is_video_file(path)) *out = VXS_FILE_VIDEO;
    return VXS_OK;
}
