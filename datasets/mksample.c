/*
 * mksample.c: writes a small capture of crafted frames of every kind `v2xsync inspect` detects,
 * so the first README command has something to show on a machine without ../shared:
 *
 *   - Velodyne VLP-16 data packets (1206 B, UDP 2368, 754 packets/s, strongest return) with a
 *     deliberate 50 ms hole, and position packets (512 B, UDP 8308, 1 Hz, $GPRMC, PPS locked);
 *   - Ouster legacy lidar packets (16 columns x 16 pixels = 3392 B) sent as IPv4 fragments
 *     (MTU 1500), as real Ouster captures are;
 *   - ETSI ITS-G5: Ethernet -> GeoNetworking (basic + common header, SHB) -> BTP-B port 2001 ->
 *     ITS PDU header of a CAM, 10 Hz;
 *   - US DSRC: Ethernet -> WSMP v3 PSID 0x20 -> IEEE 1609.2 unsecuredData -> J2735
 *     MessageFrame id 20 (BSM), 10 Hz.
 *
 * Payload contents beyond the headers are filler: this is a file for the demo and for
 * detection, not a decoding reference (real recordings are the references). Output is
 * deterministic: the same bytes on every run. The capture has nanosecond timestamps (pcap magic
 * a1b23c4d); the fragments of one datagram are 100 ns apart.
 *
 * It also writes the Ouster sensor's metadata beside the capture (OUT.json).
 *
 * Usage: vxs_mksample OUT.pcap [SECONDS]   (default 2 s)
 */
#include <pcap/pcap.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vxs_core.h"

#define T0_S INT64_C(1714564800) /* 2024-05-01T12:00:00Z */

typedef struct {
    pcap_dumper_t *d;
    unsigned long packets;
} out_t;

static void put16be(uint8_t *p, unsigned v) {
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}
static void put16le(uint8_t *p, unsigned v) {
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}
static void put32le(uint8_t *p, uint32_t v) {
    for (int i = 0; i < 4; i++) p[i] = (uint8_t)(v >> (8 * i));
}
static void put32be(uint8_t *p, uint32_t v) {
    for (int i = 0; i < 4; i++) p[i] = (uint8_t)(v >> (24 - 8 * i));
}
static void put64le(uint8_t *p, uint64_t v) {
    for (int i = 0; i < 8; i++) p[i] = (uint8_t)(v >> (8 * i));
}

static void emit(out_t *o, int64_t t_ns, const uint8_t *frame, size_t len) {
    struct pcap_pkthdr h;
    h.ts.tv_sec = (time_t)(t_ns / 1000000000);
    h.ts.tv_usec = (suseconds_t)(t_ns % 1000000000); /* ns: the capture is nanosecond pcap */
    h.caplen = h.len = (bpf_u_int32)len;
    pcap_dump((u_char *)o->d, &h, frame);
    o->packets++;
}

static size_t eth(uint8_t *f, const uint8_t src_last, unsigned ethertype) {
    static const uint8_t bcast[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
    memcpy(f, bcast, 6);
    const uint8_t src[6] = {0x02, 0x00, 0x5e, 0x10, 0x00, src_last};
    memcpy(f + 6, src, 6);
    put16be(f + 12, ethertype);
    return 14;
}

static unsigned ip_checksum(const uint8_t *h, size_t n) {
    uint32_t s = 0;
    for (size_t i = 0; i < n; i += 2) s += (uint32_t)h[i] << 8 | h[i + 1];
    while (s >> 16) s = (s & 0xffff) + (s >> 16);
    return ~s & 0xffff;
}

/* ipv4 writes a 20-byte IPv4 header; frag_off in bytes. */
static size_t ipv4(uint8_t *p, size_t payload, unsigned id, unsigned frag_off, int more,
                   uint8_t src_last) {
    memset(p, 0, 20);
    p[0] = 0x45;
    put16be(p + 2, (unsigned)(20 + payload));
    put16be(p + 4, id);
    put16be(p + 6, (more ? 0x2000u : 0u) | (frag_off / 8));
    p[8] = 64;
    p[9] = 17;
    const uint8_t src[4] = {192, 168, 1, src_last}, dst[4] = {192, 168, 1, 100};
    memcpy(p + 12, src, 4);
    memcpy(p + 16, dst, 4);
    put16be(p + 10, ip_checksum(p, 20));
    return 20;
}

/* udp_frame writes Ethernet + IPv4 + UDP around `payload`. */
static size_t udp_frame(uint8_t *f, uint8_t src_last, unsigned sport, unsigned dport,
                        const uint8_t *payload, size_t n, unsigned id) {
    size_t o = eth(f, src_last, 0x0800);
    o += ipv4(f + o, 8 + n, id, 0, 0, src_last);
    put16be(f + o, sport);
    put16be(f + o + 2, dport);
    put16be(f + o + 4, (unsigned)(8 + n));
    put16be(f + o + 6, 0);
    memcpy(f + o + 8, payload, n);
    return o + 8 + n;
}

static void velodyne_data(uint8_t *p, unsigned az0, uint32_t toh_us) {
    memset(p, 0, 1206);
    for (unsigned b = 0; b < 12; b++) {
        uint8_t *blk = p + 100 * b;
        put16le(blk, 0xEEFF);
        put16le(blk + 2, (az0 + b * 40) % 36000);
        for (unsigned c = 0; c < 32; c++) {
            put16le(blk + 4 + 3 * c, 5000 + 7 * (c % 16)); /* ~10 m at 2 mm/count */
            blk[6 + 3 * c] = (uint8_t)(20 + c);
        }
    }
    put32le(p + 1200, toh_us);
    p[1204] = 0x37; /* strongest return */
    p[1205] = 0x22; /* VLP-16 */
}

static void velodyne_position(uint8_t *p, int64_t dev_ns) {
    memset(p, 0, 512);
    int64_t s = dev_ns / 1000000000;
    put32le(p + 198, (uint32_t)((dev_ns / 1000) % INT64_C(3600000000)));
    p[202] = 2; /* PPS locked */
    char nmea[128];
    int hh = (int)(s / 3600 % 24), mm = (int)(s / 60 % 60), ss = (int)(s % 60);
    snprintf(nmea, sizeof nmea,
             "$GPRMC,%02d%02d%02d.00,A,4807.0380,N,01131.0000,E,0.0,0.0,010524,0.0,E,A*00",
             hh, mm, ss);
    memcpy(p + 206, nmea, strlen(nmea));
}

static size_t its_cam(uint8_t *f, uint32_t station, uint32_t tst) {
    size_t o = eth(f, 0x21, 0x8947);
    uint8_t *g = f + o;
    memset(g, 0, 4 + 8 + 28 + 4 + 20);
    g[0] = 0x11; /* basic header: version 1, NH 1 = common header */
    g[2] = 0x1a; /* lifetime 6 x 1 s... encoded multiplier 6, base 1 s */
    g[3] = 1;    /* remaining hop limit */
    uint8_t *c = g + 4;
    c[0] = 0x20;      /* NH 2 = BTP-B */
    c[1] = 0x50;      /* HT 5 / HST 0 = SHB */
    c[2] = 0x02;      /* traffic class */
    c[3] = 0x80;      /* mobile */
    put16be(c + 4, 4 + 20); /* payload: BTP + ITS PDU filler */
    c[6] = 1;         /* max hop limit */
    uint8_t *shb = c + 8; /* source long position vector (24) + 4 reserved */
    shb[0] = 0xbc;        /* M=1, station type 15 (RSU)... any */
    put32be(shb + 8, tst);
    put32be(shb + 12, (uint32_t)481173000);  /* 48.1173 deg N, 1e-7 deg */
    put32be(shb + 16, (uint32_t)115166666); /* 11.5166666 deg E */
    uint8_t *btp = shb + 28;
    put16be(btp, 2001); /* CAM */
    put16be(btp + 2, 0);
    uint8_t *pdu = btp + 4;
    pdu[0] = 2; /* protocolVersion */
    pdu[1] = 2; /* messageID CAM */
    put32be(pdu + 2, station);
    return o + 4 + 8 + 28 + 4 + 20;
}

static size_t wsmp_bsm(uint8_t *f, uint8_t msgcnt) {
    size_t o = eth(f, 0x31, 0x88DC);
    uint8_t *w = f + o;
    const size_t mf_len = 40;
    w[0] = 0x03; /* WSMP version 3, no extension */
    w[1] = 0x00; /* TPID 0 */
    w[2] = 0x20; /* PSID 0x20 (BSM), one p-encoded byte */
    w[3] = (uint8_t)(3 + mf_len); /* WSM length */
    w[4] = 0x03;                  /* 1609.2 protocolVersion */
    w[5] = 0x80;                  /* unsecuredData */
    w[6] = (uint8_t)mf_len;
    uint8_t *mf = w + 7;
    memset(mf, 0, mf_len);
    mf[0] = 0x00;
    mf[1] = 0x14; /* MessageFrame messageId 20 = BSM */
    mf[2] = (uint8_t)(mf_len - 3);
    mf[3] = (uint8_t)(msgcnt << 1);
    return o + 7 + mf_len;
}

/* write_ouster_meta writes the Ouster sensor's metadata beside the capture (its name with
 * .json for the extension), in the reduced form ouster-sdk accepts: 512x10 mode, 16 beams
 * 2 degrees apart. `v2xsync dump` finds it there. */
static int write_ouster_meta(const char *pcap) {
    char path[4096];
    const char *dot = strrchr(pcap, '.'), *slash = strrchr(pcap, '/');
    size_t n = (dot && (!slash || dot > slash)) ? (size_t)(dot - pcap) : strlen(pcap);
    if (n + 6 > sizeof path) return 1;
    memcpy(path, pcap, n);
    memcpy(path + n, ".json", 6);
    FILE *f = fopen(path, "w");
    if (!f) {
        fprintf(stderr, "vxs_mksample: cannot write %s\n", path);
        return 1;
    }
    fputs("{\"lidar_mode\": \"512x10\",\n \"beam_altitude_angles\": [", f);
    for (int r = 0; r < 16; r++) fprintf(f, "%s%d", r ? ", " : "", 15 - 2 * r);
    fputs("],\n \"beam_azimuth_angles\": [", f);
    for (int r = 0; r < 16; r++) fprintf(f, "%s0", r ? ", " : "");
    fputs("]}\n", f);
    if (fclose(f) != 0) return 1;
    fprintf(stderr, "vxs_mksample: wrote the Ouster metadata to %s\n", path);
    return 0;
}

int main(int argc, char **argv) {
    if (argc < 2 || argc > 3) {
        fprintf(stderr, "usage: vxs_mksample OUT.pcap [SECONDS]\n");
        return 2;
    }
    char *endp = NULL;
    long seconds = argc == 3 ? strtol(argv[2], &endp, 10) : 2;
    if (endp && *endp) seconds = 0;
    if (seconds < 1 || seconds > 3600) {
        fprintf(stderr, "vxs_mksample: SECONDS must be 1..3600\n");
        return 2;
    }
    pcap_t *dead = pcap_open_dead_with_tstamp_precision(DLT_EN10MB, 65535, PCAP_TSTAMP_PRECISION_NANO);
    out_t o = {pcap_dump_open(dead, argv[1]), 0};
    if (!o.d) {
        fprintf(stderr, "vxs_mksample: %s: %s\n", argv[1], pcap_geterr(dead));
        pcap_close(dead);
        return 2;
    }
    static uint8_t frame[4096], pl[4096];
    const int64_t t0 = T0_S * VXS_NS_PER_S, end = t0 + seconds * VXS_NS_PER_S;
    const int64_t lidar_dt = 1327 * VXS_NS_PER_US, dev_offset = -370 * VXS_NS_PER_MS;
    int64_t next_lidar = t0, next_pos = t0 + 500 * VXS_NS_PER_MS, next_cam = t0 + 3 * VXS_NS_PER_MS;
    int64_t next_bsm = t0 + 7 * VXS_NS_PER_MS, next_ouster = t0 + 11 * VXS_NS_PER_MS;
    unsigned az = 0, ip_id = 1, lidar_n = 0, ouster_col = 0;
    uint8_t msgcnt = 0;
    while (1) {
        int64_t t = next_lidar;
        if (next_pos < t) t = next_pos;
        if (next_cam < t) t = next_cam;
        if (next_bsm < t) t = next_bsm;
        if (next_ouster < t) t = next_ouster;
        if (t >= end) break;
        if (t == next_lidar) {
            /* packets 400..437 are "lost" (a 50 ms hole the gap detector must find) */
            if (lidar_n < 400 || lidar_n >= 438) {
                int64_t dev = t + dev_offset;
                velodyne_data(pl, az, (uint32_t)((dev / 1000) % INT64_C(3600000000)));
                emit(&o, t, frame, udp_frame(frame, 201, 2368, 2368, pl, 1206, ip_id++ & 0xffff));
            }
            lidar_n++;
            az = (az + 480) % 36000;
            next_lidar += lidar_dt;
        } else if (t == next_pos) {
            velodyne_position(pl, t + dev_offset);
            emit(&o, t, frame, udp_frame(frame, 201, 8308, 8308, pl, 512, ip_id++ & 0xffff));
            next_pos += VXS_NS_PER_S;
        } else if (t == next_cam) {
            /* TST = TimestampIts mod 2^32 */
            emit(&o, t, frame, its_cam(frame, 100, (uint32_t)vxs_time_to_its(t)));
            next_cam += 100 * VXS_NS_PER_MS;
        } else if (t == next_bsm) {
            emit(&o, t, frame, wsmp_bsm(frame, msgcnt));
            msgcnt = (uint8_t)((msgcnt + 1) & 127);
            next_bsm += 100 * VXS_NS_PER_MS;
        } else {
            /* Ouster legacy packet: 16 columns x (16 header + 16 px x 12 + 4 status) = 3392 B,
             * one packet every 1/320 s (512x10 mode), sent as three IPv4 fragments. */
            size_t n = 16 * (16 + 16 * 12 + 4);
            memset(pl, 0, n);
            for (unsigned c = 0; c < 16; c++) {
                uint8_t *col = pl + c * (16 + 16 * 12 + 4);
                put64le(col, (uint64_t)(t - t0) + 300 * (uint64_t)VXS_NS_PER_S);
                put16le(col + 8, ouster_col % 512);
                put16le(col + 10, ouster_col / 512);
                put32le(col + 12, (ouster_col % 512) * 176);
                for (unsigned r = 0; r < 16; r++) {
                    /* A wall 4-12 m away, nearer on the lower beams: points to look at. */
                    put32le(col + 16 + r * 12, 4000 + 500 * r + (ouster_col % 512) * 4);
                    col[16 + r * 12 + 4] = (uint8_t)(20 + 10 * r);
                }
                put32le(col + 16 + 16 * 12, 0xFFFFFFFFu);
                ouster_col++;
            }
            /* UDP header + payload, fragmented at 1480-byte boundaries */
            static uint8_t dgram[4096];
            put16be(dgram, 7502);
            put16be(dgram + 2, 7502);
            put16be(dgram + 4, (unsigned)(8 + n));
            put16be(dgram + 6, 0);
            memcpy(dgram + 8, pl, n);
            size_t total = 8 + n, off = 0;
            unsigned id = ip_id++ & 0xffff;
            while (off < total) {
                size_t chunk = total - off > 1480 ? 1480 : total - off;
                size_t fo = eth(frame, 0x41, 0x0800);
                fo += ipv4(frame + fo, chunk, id, (unsigned)off, off + chunk < total, 41);
                memcpy(frame + fo, dgram + off, chunk);
                emit(&o, t + (int64_t)(off / 1480) * 100, frame, fo + chunk); /* 100 ns apart */
                off += chunk;
            }
            next_ouster += 3125 * VXS_NS_PER_US;
        }
    }
    pcap_dump_close(o.d);
    pcap_close(dead);
    fprintf(stderr, "vxs_mksample: wrote %lu packets to %s\n", o.packets, argv[1]);
    return write_ouster_meta(argv[1]);
}
