/*
 * pkt_decode.c: link, network and transport decoding of one captured frame (vxs_sensors.h §1).
 *
 * Layering follows tcpdump's print-*.c split, one static function per header:
 *
 *   link (ethernet, sll, sll2, null/loop, raw, 802.11, radiotap)
 *     └─ ethertype(): VLAN tags, 802.2 LLC/SNAP ─► IPv4 / IPv6 / other EtherType
 *          └─ ipv4() / ipv6() ─► udp()
 *
 * Every header is read through a vxs_rd_t; a layer whose length field bounds its body hands the
 * next layer a sub-reader (vxs_rd_sub) so it cannot read past it. Nothing here allocates.
 *
 * Short headers: when the capture cut the frame (caplen < wirelen) a header that runs past the
 * captured bytes stops the decode with VXS_OK, kind VXS_PL_NONE and snap_truncated set; when
 * it did not, the frame itself is short and that is VXS_E_TRUNCATED.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "vxs_sensors.h"

/* A frame never carries more than this many VLAN tags in practice (QinQ is two; 0x9100 stacks
 * rarely three); more means a loop of garbage. */
#define VLAN_MAX 8
/* IPv6 extension headers walked before giving up (RFC 8200 §4.1 recommends few). */
#define IPV6_EXT_MAX 8
/* Radiotap present words (each extension adds 32 bits; multi-antenna radios use 3 or 4). */
#define RADIOTAP_WORDS_MAX 16

/* dec_t is the state of one vxs_pkt_decode call. */
typedef struct {
    const uint8_t *base; /* frame start, for error offsets */
    bool snap;           /* caplen < wirelen */
    vxs_pkt_info_t *out;
    char *err;
    size_t err_len;
} dec_t;

/* at returns the frame offset of the reader's next byte. Both pointers lie in the same frame. */
static size_t at(const dec_t *d, const vxs_rd_t *r) {
    if (r->p == NULL || d->base == NULL) return 0;
    return (size_t)(r->p - d->base);
}

/* fail writes "<layer> at frame offset N: <what>" into the caller's buffer and returns st. */
#if defined(__GNUC__)
__attribute__((format(printf, 5, 6)))
#endif
static vxs_status_t fail(dec_t *d, vxs_status_t st, const char *layer, size_t off,
                         const char *fmt, ...) {
    if (d->err && d->err_len > 0) {
        va_list ap;
        int n = snprintf(d->err, d->err_len, "%s at frame offset %zu: ", layer, off);
        size_t used = n < 0 ? 0 : (size_t)n;
        if (used < d->err_len) {
            va_start(ap, fmt);
            vsnprintf(d->err + used, d->err_len - used, fmt, ap);
            va_end(ap);
        }
    }
    return st;
}

/* short_hdr handles a header of `need` bytes of which only vxs_rd_left(r) were captured. */
static vxs_status_t short_hdr(dec_t *d, const vxs_rd_t *r, const char *layer, size_t need) {
    if (d->snap) return VXS_OK; /* snaplen cut: decoded as far as the capture goes */
    return fail(d, VXS_E_TRUNCATED, layer, at(d, r), "header needs %zu bytes, %zu left", need,
                vxs_rd_left(r));
}

/* body carves the `len` bytes a length field of `layer` (at frame offset hdr_off) announces out
 * of *r into *out, cutting at the end of the capture when the snaplen cut the frame. `bias` is
 * what the field counts besides the body (the header itself), for the message only. */
static vxs_status_t body(dec_t *d, vxs_rd_t *r, size_t len, size_t bias, const char *layer,
                         const char *field, size_t hdr_off, vxs_rd_t *out) {
    if (len > vxs_rd_left(r)) {
        if (!d->snap)
            return fail(d, VXS_E_TRUNCATED, layer, hdr_off, "%s %zu > %zu bytes left", field,
                        len + bias, vxs_rd_left(r) + bias);
        len = vxs_rd_left(r);
    }
    if (!vxs_rd_sub(r, out, len)) return fail(d, VXS_E_TRUNCATED, layer, hdr_off, "%s", field);
    return VXS_OK;
}

static void set_payload(dec_t *d, vxs_payload_kind_t kind, const vxs_rd_t *r) {
    d->out->kind = kind;
    d->out->payload = r->p;
    d->out->payload_len = vxs_rd_left(r);
    d->out->payload_offset = at(d, r);
}

static void map_v4(uint8_t out[16], const uint8_t a[4]) {
    memset(out, 0, 10);
    out[10] = 0xff;
    out[11] = 0xff;
    memcpy(out + 12, a, 4);
}

/* ---- UDP (RFC 768) ----------------------------------------------------------------------- */

/*
 *  0      7 8     15 16    23 24    31
 * +--------+--------+--------+--------+
 * |   source port   |    dest port    |
 * +--------+--------+--------+--------+
 * |     length      |    checksum     |   length counts the 8-byte header
 * +--------+--------+--------+--------+
 */
static vxs_status_t udp(dec_t *d, vxs_rd_t *r) {
    size_t off = at(d, r);
    uint16_t len = 0;
    vxs_rd_t pl = {NULL, 0};
    if (vxs_rd_left(r) < 8) return short_hdr(d, r, "UDP", 8);
    (void)vxs_rd_u16be(r, &d->out->src_port);
    (void)vxs_rd_u16be(r, &d->out->dst_port);
    (void)vxs_rd_u16be(r, &len);
    (void)vxs_rd_skip(r, 2);
    if (len < 8) return fail(d, VXS_E_MALFORMED, "UDP header", off, "length %u < 8", len);
    vxs_status_t st = body(d, r, (size_t)len - 8, 8, "UDP header", "length", off, &pl);
    if (st != VXS_OK) return st;
    set_payload(d, VXS_PL_UDP, &pl);
    return VXS_OK;
}

static vxs_status_t transport(dec_t *d, vxs_rd_t *r) {
    if (d->out->ip_proto == 17) return udp(d, r);
    set_payload(d, VXS_PL_IP, r);
    return VXS_OK;
}

/* ---- IPv4 (RFC 791 §3.1) ----------------------------------------------------------------- */

/*
 *  0                   1                   2                   3
 *  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |Version|  IHL  |Type of Service|          Total Length         |
 * |         Identification        |Flags|      Fragment Offset    |   offset in 8-byte units
 * |  Time to Live |    Protocol   |         Header Checksum       |
 * |                       Source Address                          |
 * |                    Destination Address                        |
 * |                    Options (IHL*4 - 20)                       |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 */
static vxs_status_t ipv4(dec_t *d, vxs_rd_t *r) {
    size_t off = at(d, r);
    uint8_t vihl = 0, proto = 0, a[4] = {0};
    uint16_t total = 0, id = 0, ff = 0;
    vxs_rd_t dgram, data;
    if (vxs_rd_left(r) < 1) return short_hdr(d, r, "IPv4", 20);
    (void)vxs_rd_peek_u8(r, 0, &vihl);
    if (vihl >> 4 != 4)
        return fail(d, VXS_E_MALFORMED, "IPv4 header", off, "version %u", (unsigned)(vihl >> 4));
    size_t hlen = (size_t)(vihl & 0x0f) * 4;
    if (hlen < 20)
        return fail(d, VXS_E_MALFORMED, "IPv4 header", off, "header length %zu < 20", hlen);
    if (vxs_rd_left(r) < hlen) return short_hdr(d, r, "IPv4", hlen);
    d->out->ip_version = 4;
    (void)vxs_rd_skip(r, 2);
    (void)vxs_rd_u16be(r, &total);
    (void)vxs_rd_u16be(r, &id);
    (void)vxs_rd_u16be(r, &ff);
    (void)vxs_rd_skip(r, 1);
    (void)vxs_rd_u8(r, &proto);
    (void)vxs_rd_skip(r, 2);
    (void)vxs_rd_bytes(r, a, 4);
    map_v4(d->out->src_addr, a);
    (void)vxs_rd_bytes(r, a, 4);
    map_v4(d->out->dst_addr, a);
    (void)vxs_rd_skip(r, hlen - 20); /* options: nothing we need */
    d->out->ip_proto = proto;
    d->out->ip_id = id;
    if (total < hlen)
        return fail(d, VXS_E_MALFORMED, "IPv4 header", off,
                    "total length %u < header length %zu", total, hlen);
    /* Bytes past total length are link padding (Ethernet pads to 60): drop them. */
    vxs_status_t st =
        body(d, r, (size_t)total - hlen, hlen, "IPv4 header", "total length", off, &dgram);
    if (st != VXS_OK) return st;
    d->out->frag_more = (ff & 0x2000) != 0;
    d->out->frag_offset = (uint16_t)((ff & 0x1fff) * 8);
    if (d->out->frag_more || d->out->frag_offset != 0) {
        data = dgram; /* reassembly is the caller's: vxs_reasm_add */
        set_payload(d, VXS_PL_FRAGMENT, &data);
        return VXS_OK;
    }
    return transport(d, &dgram);
}

/* ---- IPv6 (RFC 8200 §3, §4) -------------------------------------------------------------- */

/*
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |Version| Traffic Class |           Flow Label                  |
 * |         Payload Length        |  Next Header  |   Hop Limit   |
 * |                 Source Address (16)  Destination Address (16) |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * Extension headers (hop-by-hop 0, routing 43, destination options 60) start with
 * next header (1), header length in 8-byte units not counting the first 8 (1). Fragment (44)
 * is 8 bytes: next header, reserved, offset(13)|res(2)|M(1), identification (32).
 */
static vxs_status_t ipv6(dec_t *d, vxs_rd_t *r) {
    size_t off = at(d, r);
    uint8_t b0 = 0, nh = 0;
    uint16_t plen = 0;
    vxs_rd_t pl = {NULL, 0};
    if (vxs_rd_left(r) < 1) return short_hdr(d, r, "IPv6", 40);
    (void)vxs_rd_peek_u8(r, 0, &b0);
    if (b0 >> 4 != 6)
        return fail(d, VXS_E_MALFORMED, "IPv6 header", off, "version %u", (unsigned)(b0 >> 4));
    if (vxs_rd_left(r) < 40) return short_hdr(d, r, "IPv6", 40);
    d->out->ip_version = 6;
    (void)vxs_rd_skip(r, 4);
    (void)vxs_rd_u16be(r, &plen);
    (void)vxs_rd_u8(r, &nh);
    (void)vxs_rd_skip(r, 1);
    (void)vxs_rd_bytes(r, d->out->src_addr, 16);
    (void)vxs_rd_bytes(r, d->out->dst_addr, 16);
    d->out->ip_proto = nh;
    vxs_status_t st = body(d, r, plen, 0, "IPv6 header", "payload length", off, &pl);
    if (st != VXS_OK) return st;
    for (int i = 0; i < IPV6_EXT_MAX; i++) {
        uint8_t next = 0, xlen = 0;
        if (nh == 0 || nh == 43 || nh == 60) {
            if (vxs_rd_left(&pl) < 2) return short_hdr(d, &pl, "IPv6 extension", 8);
            (void)vxs_rd_peek_u8(&pl, 0, &next);
            (void)vxs_rd_peek_u8(&pl, 1, &xlen);
            size_t n = ((size_t)xlen + 1) * 8;
            if (vxs_rd_left(&pl) < n) return short_hdr(d, &pl, "IPv6 extension", n);
            (void)vxs_rd_skip(&pl, n);
        } else if (nh == 44) {
            uint16_t fo = 0;
            if (vxs_rd_left(&pl) < 8) return short_hdr(d, &pl, "IPv6 fragment", 8);
            (void)vxs_rd_peek_u8(&pl, 0, &next);
            vxs_rd_t f = pl;
            (void)vxs_rd_skip(&f, 2);
            (void)vxs_rd_u16be(&f, &fo);
            if ((fo & 0xfff9) != 0) {
                /* A real fragment: no IPv6 reassembly here; hand out the fragment header on. */
                d->out->ip_proto = 44;
                set_payload(d, VXS_PL_IP, &pl);
                return VXS_OK;
            }
            (void)vxs_rd_skip(&pl, 8); /* atomic fragment (RFC 6946): the packet is whole */
        } else {
            break;
        }
        nh = next;
        d->out->ip_proto = nh;
    }
    if (nh == 0 || nh == 43 || nh == 60 || nh == 44)
        return fail(d, VXS_E_MALFORMED, "IPv6 extension header", at(d, &pl),
                    "more than %d extension headers", IPV6_EXT_MAX);
    return transport(d, &pl);
}

/* ---- EtherType dispatch, VLAN tags and 802.2 LLC/SNAP ----------------------------------- */

/*
 * IEEE 802.2 LLC + SNAP (RFC 1042), used by 802.3 length frames and by every 802.11 data frame:
 * +------+------+------+----------------+--------------+
 * | DSAP | SSAP | ctrl |  OUI (3 bytes) | EtherType(2) |
 * |  AA  |  AA  |  03  | 00 00 00/F8    |              |
 * +------+------+------+----------------+--------------+
 * Other OUIs carry a protocol id in that organisation's space, not an EtherType.
 */
static vxs_status_t ethertype(dec_t *d, vxs_rd_t *r, uint16_t type);

static vxs_status_t llc(dec_t *d, vxs_rd_t *r) {
    uint8_t h[8] = {0};
    if (vxs_rd_left(r) < 3) return short_hdr(d, r, "802.2 LLC", 3);
    (void)vxs_rd_peek_u8(r, 0, &h[0]);
    (void)vxs_rd_peek_u8(r, 1, &h[1]);
    (void)vxs_rd_peek_u8(r, 2, &h[2]);
    if (h[0] != 0xAA || h[1] != 0xAA || h[2] != 0x03) return VXS_OK; /* not SNAP: STP, NetBIOS */
    if (vxs_rd_left(r) < 8) return short_hdr(d, r, "802.2 SNAP", 8);
    (void)vxs_rd_bytes(r, h, 8);
    if (h[3] != 0 || h[4] != 0 || (h[5] != 0 && h[5] != 0xF8)) return VXS_OK;
    return ethertype(d, r, (uint16_t)(h[6] << 8 | h[7]));
}

/*
 * 802.1Q / 802.1ad tag, after a TPID of 0x8100, 0x88A8 or 0x9100:
 * +-----+-----+---------------+---------------+
 * | PCP | DEI |  VLAN id (12) | EtherType (2) |
 * +-----+-----+---------------+---------------+
 */
static vxs_status_t ethertype(dec_t *d, vxs_rd_t *r, uint16_t type) {
    int tags = 0;
    while (type == 0x8100 || type == 0x88A8 || type == 0x9100) {
        uint16_t tci = 0;
        if (tags == VLAN_MAX)
            return fail(d, VXS_E_MALFORMED, "802.1Q tag", at(d, r), "more than %d VLAN tags",
                        VLAN_MAX);
        if (vxs_rd_left(r) < 4) return short_hdr(d, r, "802.1Q tag", 4);
        (void)vxs_rd_u16be(r, &tci);
        (void)vxs_rd_u16be(r, &type);
        if (tags < 2) d->out->vlan_ids[tags] = (uint16_t)(tci & 0x0fff);
        tags++;
        d->out->vlan_count = (uint8_t)tags;
    }
    if (type <= 1500) {
        /* 802.3 length field: the LLC frame is that long; the rest is padding. */
        vxs_rd_t frame;
        vxs_status_t st = body(d, r, type, 0, "802.3 header", "length", at(d, r) - 2, &frame);
        if (st != VXS_OK) return st;
        return llc(d, &frame);
    }
    d->out->ethertype = type;
    if (type == VXS_ETHERTYPE_IPV4) return ipv4(d, r);
    if (type == VXS_ETHERTYPE_IPV6) return ipv6(d, r);
    set_payload(d, VXS_PL_ETHERTYPE, r);
    return VXS_OK;
}

/* ---- Link layers ------------------------------------------------------------------------- */

/* Ethernet II: destination (6), source (6), EtherType or 802.3 length (2). No FCS. */
static vxs_status_t ethernet(dec_t *d, vxs_rd_t *r) {
    uint16_t type = 0;
    if (vxs_rd_left(r) < 14) return short_hdr(d, r, "Ethernet", 14);
    (void)vxs_rd_bytes(r, d->out->dst_mac, 6);
    (void)vxs_rd_bytes(r, d->out->src_mac, 6);
    d->out->has_mac = true;
    (void)vxs_rd_u16be(r, &type);
    return ethertype(d, r, type);
}

/* raw_ip picks IPv4 or IPv6 from the version nibble (LINKTYPE_RAW). */
static vxs_status_t raw_ip(dec_t *d, vxs_rd_t *r) {
    uint8_t b0 = 0;
    if (!vxs_rd_peek_u8(r, 0, &b0)) return short_hdr(d, r, "raw IP", 20);
    if (b0 >> 4 == 6) {
        d->out->ethertype = VXS_ETHERTYPE_IPV6;
        return ipv6(d, r);
    }
    d->out->ethertype = VXS_ETHERTYPE_IPV4;
    return ipv4(d, r); /* reports a version other than 4 */
}

/*
 * BSD loopback (LINKTYPE_NULL): a 4-byte address family in the capturing host's byte order;
 * OpenBSD loop (LINKTYPE_LOOP): the same in network order. AF_INET is 2 everywhere; AF_INET6 is
 * 24 (NetBSD, OpenBSD), 28 (FreeBSD) or 30 (macOS) (https://www.tcpdump.org/linktypes.html).
 */
static vxs_status_t null_loop(dec_t *d, vxs_rd_t *r, bool network_order) {
    uint32_t af = 0;
    if (vxs_rd_left(r) < 4) return short_hdr(d, r, "loopback", 4);
    if (network_order) {
        (void)vxs_rd_u32be(r, &af);
    } else {
        (void)vxs_rd_u32le(r, &af);
        /* A big-endian capture host: the family sits in the high bytes when read LE. */
        if ((af & 0xffff) == 0 && af != 0)
            af = (af >> 24) | ((af >> 8) & 0xff00);
    }
    if (af == 2) {
        d->out->ethertype = VXS_ETHERTYPE_IPV4;
        return ipv4(d, r);
    }
    if (af == 24 || af == 28 || af == 30) {
        d->out->ethertype = VXS_ETHERTYPE_IPV6;
        return ipv6(d, r);
    }
    return VXS_OK; /* another family: nothing we decode */
}

/* sll_protocol continues after a Linux cooked header's protocol field: an EtherType, or 4 for
 * 802.2 LLC frames (linux/if_ether.h ETH_P_802_2). */
static vxs_status_t sll_protocol(dec_t *d, vxs_rd_t *r, uint16_t proto) {
    if (proto == 4) return llc(d, r);
    if (proto < 1536) return VXS_OK; /* ETH_P_802_3, CAN, ...: not decoded */
    return ethertype(d, r, proto);
}

/*
 * Linux cooked v1 (https://www.tcpdump.org/linktypes/LINKTYPE_LINUX_SLL.html), 16 bytes:
 * [0:2) packet type  [2:4) ARPHRD  [4:6) address length  [6:14) address  [14:16) protocol
 */
static vxs_status_t sll(dec_t *d, vxs_rd_t *r) {
    uint16_t alen = 0, proto = 0;
    uint8_t addr[8] = {0};
    if (vxs_rd_left(r) < 16) return short_hdr(d, r, "Linux SLL", 16);
    (void)vxs_rd_skip(r, 4);
    (void)vxs_rd_u16be(r, &alen);
    (void)vxs_rd_bytes(r, addr, 8);
    (void)vxs_rd_u16be(r, &proto);
    if (alen == 6) {
        memcpy(d->out->src_mac, addr, 6);
        d->out->has_mac = true;
    }
    return sll_protocol(d, r, proto);
}

/*
 * Linux cooked v2 (https://www.tcpdump.org/linktypes/LINKTYPE_LINUX_SLL2.html), 20 bytes:
 * [0:2) protocol  [2:4) reserved  [4:8) interface index  [8:10) ARPHRD  [10] packet type
 * [11] address length  [12:20) address
 */
static vxs_status_t sll2(dec_t *d, vxs_rd_t *r) {
    uint16_t proto = 0;
    uint8_t alen = 0, addr[8] = {0};
    if (vxs_rd_left(r) < 20) return short_hdr(d, r, "Linux SLL2", 20);
    (void)vxs_rd_u16be(r, &proto);
    (void)vxs_rd_skip(r, 9);
    (void)vxs_rd_u8(r, &alen);
    (void)vxs_rd_bytes(r, addr, 8);
    if (alen == 6) {
        memcpy(d->out->src_mac, addr, 6);
        d->out->has_mac = true;
    }
    return sll_protocol(d, r, proto);
}

/*
 * IEEE 802.11-2020 §9.2.3 data frame MAC header (little-endian fields):
 * [0:2) frame control  [2:4) duration  [4:10) addr1  [10:16) addr2  [16:22) addr3
 * [22:24) sequence control  [24:30) addr4 if ToDS and FromDS  [+2) QoS control in QoS subtypes
 * [+4) HT control if QoS and the Order bit
 * Frame control: b0-1 version, b2-3 type (2 = data), b4-7 subtype (bit 3 = QoS, bit 2 = no
 * data), b8 ToDS, b9 FromDS, b14 Protected, b15 +HTC/Order.
 * Addresses by (ToDS, FromDS) (§9.3.2.1 Table 9-30): 00 DA,SA,BSSID; 01 DA,BSSID,SA;
 * 10 BSSID,SA,DA; 11 RA,TA,DA,SA. 802.11p OCB (ITS-G5, DSRC) sends 00 with a wildcard BSSID.
 * `pad4` is radiotap's "data padding" flag: the header is padded to a multiple of 4.
 */
static vxs_status_t ieee80211(dec_t *d, vxs_rd_t *r, bool pad4) {
    uint16_t fc = 0;
    uint8_t a[4][6] = {{0}};
    if (vxs_rd_left(r) < 2) return short_hdr(d, r, "802.11", 2);
    size_t off = at(d, r);
    vxs_rd_t h = *r;
    (void)vxs_rd_u16le(&h, &fc);
    unsigned type = (fc >> 2) & 3, subtype = (fc >> 4) & 15;
    bool to_ds = (fc & 0x0100) != 0, from_ds = (fc & 0x0200) != 0;
    if ((fc & 3) != 0)
        return fail(d, VXS_E_MALFORMED, "802.11 header", off, "protocol version %u", fc & 3u);
    if (type != 2) return VXS_OK; /* management / control / extension: no payload for us */
    size_t hlen = 24 + (to_ds && from_ds ? 6 : 0);
    bool qos = (subtype & 8) != 0;
    if (qos) hlen += (fc & 0x8000) ? 6u : 2u; /* QoS control [+ HT control] */
    if (vxs_rd_left(r) < hlen) return short_hdr(d, r, "802.11", hlen);
    (void)vxs_rd_skip(&h, 2);
    for (int i = 0; i < 3; i++) (void)vxs_rd_bytes(&h, a[i], 6);
    (void)vxs_rd_skip(&h, 2);
    if (to_ds && from_ds) (void)vxs_rd_bytes(&h, a[3], 6);
    memcpy(d->out->dst_mac, to_ds ? a[2] : a[0], 6);
    memcpy(d->out->src_mac, to_ds && from_ds ? a[3] : from_ds ? a[2] : a[1], 6);
    d->out->has_mac = true;
    if (pad4) hlen = (hlen + 3) & ~(size_t)3;
    if (!vxs_rd_skip(r, hlen)) return short_hdr(d, r, "802.11 padded", hlen);
    if (subtype & 4) return VXS_OK; /* Null / QoS Null / CF-Ack...: no frame body */
    if (fc & 0x4000) return VXS_OK; /* Protected: the body is encrypted, not an error */
    if (vxs_rd_left(r) == 0) return VXS_OK; /* an empty body */
    return llc(d, r);
}

/* Radiotap field alignment and size by present bit (https://www.radiotap.org/fields/defined),
 * for the default namespace. size 0 = not sized here: the walk stops. */
static const struct {
    uint8_t align, size;
} rt_fields[29] = {
    {8, 8},  /* 0 TSFT */
    {1, 1},  /* 1 Flags */
    {1, 1},  /* 2 Rate */
    {2, 4},  /* 3 Channel: freq u16, flags u16 */
    {1, 2},  /* 4 FHSS */
    {1, 1},  /* 5 dBm antenna signal */
    {1, 1},  /* 6 dBm antenna noise */
    {2, 2},  /* 7 lock quality */
    {2, 2},  /* 8 TX attenuation */
    {2, 2},  /* 9 dB TX attenuation */
    {1, 1},  /* 10 dBm TX power */
    {1, 1},  /* 11 antenna */
    {1, 1},  /* 12 dB antenna signal */
    {1, 1},  /* 13 dB antenna noise */
    {2, 2},  /* 14 RX flags */
    {2, 2},  /* 15 TX flags */
    {1, 1},  /* 16 RTS retries */
    {1, 1},  /* 17 data retries */
    {4, 8},  /* 18 XChannel */
    {1, 3},  /* 19 MCS */
    {4, 8},  /* 20 A-MPDU status */
    {2, 12}, /* 21 VHT */
    {8, 12}, /* 22 timestamp */
    {2, 12}, /* 23 HE */
    {2, 12}, /* 24 HE-MU */
    {2, 6},  /* 25 HE-MU-other-user */
    {1, 1},  /* 26 0-length-PSDU */
    {2, 4},  /* 27 L-SIG */
    {0, 0},  /* 28 TLVs: variable, ends the fixed fields */
};

/* rt_field keeps the radiotap values vxs_radio_info_t holds (first namespace wins: later
 * radiotap namespaces repeat per-antenna values). */
static void rt_field(vxs_radio_info_t *ri, unsigned idx, const vxs_rd_t *f, uint8_t *flags) {
    uint8_t b = 0;
    uint16_t freq = 0, cf = 0;
    vxs_rd_t t = *f;
    switch (idx) {
    case 1:
        (void)vxs_rd_u8(&t, flags);
        break;
    case 2:
        if (!ri->has_rate && vxs_rd_u8(&t, &ri->rate_500kbps)) ri->has_rate = true;
        break;
    case 3:
        if (!ri->has_channel && vxs_rd_u16le(&t, &freq) && vxs_rd_u16le(&t, &cf)) {
            ri->has_channel = true;
            ri->freq_mhz = freq;
            ri->chan_flags = cf;
        }
        break;
    case 5:
        if (!ri->has_signal && vxs_rd_u8(&t, &b)) {
            ri->has_signal = true;
            ri->signal_dbm = (int8_t)(b >= 128 ? (int)b - 256 : (int)b);
        }
        break;
    case 6:
        if (!ri->has_noise && vxs_rd_u8(&t, &b)) {
            ri->has_noise = true;
            ri->noise_dbm = (int8_t)(b >= 128 ? (int)b - 256 : (int)b);
        }
        break;
    default:
        break;
    }
}

/*
 * Radiotap (https://www.radiotap.org/), all fields little-endian:
 * +---------+---------+-------------+----------------+-----+------------------------+
 * | version |   pad   | length (16) | present (32)   | ... | fields, each naturally |
 * |    0    |         | whole header| b31: another   |     | aligned from byte 0    |
 * +---------+---------+-------------+----------------+-----+------------------------+
 * Present bits: 0..28 fields in order; 29 = next word starts a new radiotap namespace (field
 * numbering restarts, e.g. per antenna); 30 = vendor namespace: a field {OUI(3), sub(1),
 * skip_length(2)} aligned to 2, then skip_length bytes of vendor data, and the next word is the
 * vendor's; 31 = another present word follows. Flags 0x10: the 802.11 frame ends with a 4-byte
 * FCS; 0x20: padding between the 802.11 header and body.
 */
static vxs_status_t radiotap(dec_t *d, vxs_rd_t *r, size_t wire_extra) {
    const char *L = "radiotap header";
    size_t off = at(d, r);
    uint8_t ver = 0;
    uint16_t hlen = 0;
    uint32_t words[RADIOTAP_WORDS_MAX] = {0};
    size_t nwords = 0;
    vxs_rd_t hdr, h;
    if (vxs_rd_left(r) < 8) return short_hdr(d, r, "radiotap", 8);
    (void)vxs_rd_peek_u8(r, 0, &ver);
    if (ver != 0) return fail(d, VXS_E_MALFORMED, L, off, "version %u", ver);
    h = *r;
    (void)vxs_rd_skip(&h, 2);
    (void)vxs_rd_u16le(&h, &hlen);
    if (hlen < 8) return fail(d, VXS_E_MALFORMED, L, off, "length %u < 8", hlen);
    if (vxs_rd_left(r) < hlen) {
        if (d->snap) return VXS_OK;
        return fail(d, VXS_E_TRUNCATED, L, off, "length %u > %zu bytes left", hlen,
                    vxs_rd_left(r));
    }
    (void)vxs_rd_sub(r, &hdr, hlen);
    h = hdr;
    (void)vxs_rd_skip(&h, 4);
    do {
        if (nwords == RADIOTAP_WORDS_MAX)
            return fail(d, VXS_E_MALFORMED, L, off, "more than %d present words",
                        RADIOTAP_WORDS_MAX);
        if (!vxs_rd_u32le(&h, &words[nwords]))
            return fail(d, VXS_E_MALFORMED, L, off, "present words run past length %u", hlen);
        nwords++;
    } while (words[nwords - 1] & 0x80000000u);

    /* Walk the fields. `pos` is the offset from the radiotap start, which alignment is relative
     * to; each field is read through a reader bounded by the header length. */
    size_t pos = 4 + 4 * nwords;
    uint8_t flags = 0;
    bool vendor = false, stop = false;
    unsigned base = 0; /* field number of bit 0 of this word in the current namespace */
    for (size_t w = 0; w < nwords && !stop; w++) {
        uint32_t pw = words[w];
        for (unsigned bit = 0; bit < 29 && !vendor; bit++) {
            if (!(pw & (1u << bit))) continue;
            unsigned idx = base + bit;
            if (idx >= 29 || rt_fields[idx].size == 0) {
                stop = true; /* cannot size it, nor place anything after it */
                break;
            }
            size_t al = rt_fields[idx].align;
            pos = (pos + al - 1) & ~(al - 1);
            vxs_rd_t f = hdr;
            if (!vxs_rd_skip(&f, pos) || vxs_rd_left(&f) < rt_fields[idx].size)
                return fail(d, VXS_E_MALFORMED, L, off,
                            "field %u at +%zu runs past length %u", idx, pos, hlen);
            f.len = rt_fields[idx].size;
            rt_field(&d->out->radio, idx, &f, &flags);
            pos += rt_fields[idx].size;
        }
        if (stop) break;
        if (pw & (1u << 30)) {
            /* Vendor namespace header: aligned to 2, 6 bytes, then skip_length bytes. A vendor
             * word's own bit 30 would need the vendor's field sizes: stop there. */
            uint16_t skip = 0;
            if (vendor) break;
            pos = (pos + 1) & ~(size_t)1;
            vxs_rd_t f = hdr;
            if (!vxs_rd_skip(&f, pos + 4) || !vxs_rd_u16le(&f, &skip))
                return fail(d, VXS_E_MALFORMED, L, off,
                            "vendor namespace at +%zu runs past length %u", pos, hlen);
            pos += 6 + (size_t)skip;
            vendor = true;
            base = 0;
        } else if (pw & (1u << 29)) {
            vendor = false; /* a new radiotap namespace: numbering restarts */
            base = 0;
        } else {
            base += 32;
        }
    }
    /* Whatever the walk reached, the 802.11 frame starts at the declared length. */
    vxs_rd_t frame = *r;
    if (flags & 0x10) {
        /* The FCS is the last 4 bytes on the wire; cut only the part the capture kept
         * (wire_extra = bytes of the frame the snaplen dropped). */
        if (wire_extra < 4) {
            size_t fcs = 4 - wire_extra;
            if (vxs_rd_left(&frame) < fcs) return short_hdr(d, &frame, "802.11 FCS", fcs);
            frame.len -= fcs;
        }
    }
    return ieee80211(d, &frame, (flags & 0x20) != 0);
}

/* ---- Entry points ------------------------------------------------------------------------ */

static void init_out(vxs_pkt_info_t *out, uint32_t linktype, size_t caplen, size_t wirelen) {
    memset(out, 0, sizeof *out);
    out->linktype = linktype;
    out->kind = VXS_PL_NONE;
    out->snap_truncated = caplen < wirelen;
}

static vxs_status_t finish(dec_t *d, vxs_status_t st) {
    if (st != VXS_OK) {
        d->out->kind = VXS_PL_NONE;
        d->out->payload = NULL;
        d->out->payload_len = 0;
        d->out->payload_offset = 0;
    } else if (d->err && d->err_len > 0) {
        d->err[0] = '\0';
    }
    return st;
}

const char *vxs_linktype_name(uint32_t linktype) {
    static char unknown[32];
    switch (linktype) {
    case VXS_LINKTYPE_NULL: return "null";
    case VXS_LINKTYPE_ETHERNET: return "ethernet";
    case VXS_LINKTYPE_RAW: return "raw";
    case VXS_LINKTYPE_IEEE802_11: return "ieee802.11";
    case VXS_LINKTYPE_LOOP: return "loop";
    case VXS_LINKTYPE_LINUX_SLL: return "linux-sll";
    case VXS_LINKTYPE_IEEE802_11_RADIOTAP: return "ieee802.11-radiotap";
    case VXS_LINKTYPE_IPV4: return "ipv4";
    case VXS_LINKTYPE_IPV6: return "ipv6";
    case VXS_LINKTYPE_LINUX_SLL2: return "linux-sll2";
    default:
        snprintf(unknown, sizeof unknown, "linktype-%u", (unsigned)linktype);
        return unknown;
    }
}

vxs_status_t vxs_pkt_decode(vxs_pkt_info_t *out, uint32_t linktype, const uint8_t *frame,
                            size_t caplen, size_t wirelen, char *err, size_t err_len) {
    dec_t d;
    vxs_status_t st;
    if (frame == NULL) caplen = 0;
    init_out(out, linktype, caplen, wirelen);
    d.base = frame;
    d.snap = caplen < wirelen;
    d.out = out;
    d.err = err;
    d.err_len = err_len;
    vxs_rd_t r = vxs_rd_init(frame, caplen);
    switch (linktype) {
    case VXS_LINKTYPE_NULL: st = null_loop(&d, &r, false); break;
    case VXS_LINKTYPE_LOOP: st = null_loop(&d, &r, true); break;
    case VXS_LINKTYPE_ETHERNET: st = ethernet(&d, &r); break;
    case VXS_LINKTYPE_RAW: st = raw_ip(&d, &r); break;
    case VXS_LINKTYPE_IPV4:
        out->ethertype = VXS_ETHERTYPE_IPV4;
        st = ipv4(&d, &r);
        break;
    case VXS_LINKTYPE_IPV6:
        out->ethertype = VXS_ETHERTYPE_IPV6;
        st = ipv6(&d, &r);
        break;
    case VXS_LINKTYPE_LINUX_SLL: st = sll(&d, &r); break;
    case VXS_LINKTYPE_LINUX_SLL2: st = sll2(&d, &r); break;
    case VXS_LINKTYPE_IEEE802_11: st = ieee80211(&d, &r, false); break;
    case VXS_LINKTYPE_IEEE802_11_RADIOTAP:
        st = radiotap(&d, &r, wirelen > caplen ? wirelen - caplen : 0);
        break;
    default:
        /* Not vxs_linktype_name: its static buffer would make this function thread-unsafe. */
        st = fail(&d, VXS_E_UNSUPPORTED, "link layer", 0, "link type %u not supported",
                  (unsigned)linktype);
        break;
    }
    return finish(&d, st);
}

vxs_status_t vxs_pkt_decode_ip(vxs_pkt_info_t *out, const uint8_t *ip, size_t caplen,
                               size_t wirelen, char *err, size_t err_len) {
    return vxs_pkt_decode(out, VXS_LINKTYPE_RAW, ip, caplen, wirelen, err, err_len);
}
