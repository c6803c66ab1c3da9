// pkt_decode_test.cc: vxs_pkt_decode over crafted frames of every link type, then the same
// frames truncated at every offset and with each length field corrupted (c-ares
// ParseMalformedAReply style).
#include <cstring>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "vxs_sensors.h"

namespace {

using Bytes = std::vector<uint8_t>;

Bytes Cat(std::initializer_list<Bytes> parts) {
    Bytes out;
    for (const Bytes &p : parts) out.insert(out.end(), p.begin(), p.end());
    return out;
}

// IPv4 192.168.1.2 -> 192.168.1.3, UDP 8080 -> 2368, 4-byte payload: 32 bytes.
const Bytes kIpv4Udp = {
    0x45, 0x00, 0x00, 0x20,             // [0:4) v4 IHL 5, TOS, total length 32
    0x12, 0x34, 0x00, 0x00,             // [4:8) id 0x1234, no flags, offset 0
    0x40, 0x11, 0x00, 0x00,             // [8:12) TTL 64, UDP, checksum
    0xc0, 0xa8, 0x01, 0x02,             // [12:16) source
    0xc0, 0xa8, 0x01, 0x03,             // [16:20) destination
    0x1f, 0x90, 0x09, 0x40,             // [20:24) UDP ports 8080 -> 2368
    0x00, 0x0c, 0x00, 0x00,             // [24:28) UDP length 12, checksum
    0xde, 0xad, 0xbe, 0xef,             // [28:32) payload
};

// IPv6 2001:db8::1 -> 2001:db8::2, UDP 5000 -> 5001, 4-byte payload: 52 bytes.
const Bytes kIpv6Udp = {
    0x60, 0x00, 0x00, 0x00,             // [0:4) v6, traffic class, flow label
    0x00, 0x0c, 0x11, 0x40,             // [4:8) payload length 12, next header UDP, hop limit
    0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01, // [8:24) source
    0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x02, // [24:40) destination
    0x13, 0x88, 0x13, 0x89,             // [40:44) UDP ports 5000 -> 5001
    0x00, 0x0c, 0x00, 0x00,             // [44:48) UDP length 12
    0xca, 0xfe, 0xba, 0xbe,             // [48:52) payload
};

const Bytes kEthHdrIpv4 = {
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, // [0:6) destination
    0x00, 0x11, 0x22, 0x33, 0x44, 0x55, // [6:12) source
    0x08, 0x00,                         // [12:14) EtherType IPv4
};

// GeoNetworking basic header start, the body of the non-IP frames.
const Bytes kGeoNet = {0x11, 0x00, 0x1a, 0x01};

// 802.11 data frame (OCB, ToDS = FromDS = 0) + LLC/SNAP + GeoNetworking: 36 bytes.
const Bytes kWifiGeoNet = {
    0x08, 0x00,                         // [0:2) frame control: data, subtype 0, no flags
    0x00, 0x00,                         // [2:4) duration
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, // [4:10) addr1 = DA (broadcast)
    0x02, 0x00, 0x00, 0x00, 0x00, 0x01, // [10:16) addr2 = SA
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, // [16:22) addr3 = BSSID wildcard
    0x10, 0x00,                         // [22:24) sequence control
    0xaa, 0xaa, 0x03, 0x00, 0x00, 0x00, // [24:30) LLC/SNAP, OUI 0
    0x89, 0x47,                         // [30:32) EtherType GeoNetworking
    0x11, 0x00, 0x1a, 0x01,             // [32:36) GN basic header
};

struct Decoded {
    vxs_status_t st;
    vxs_pkt_info_t info;
    std::string err;
};

Decoded Decode(uint32_t lt, const Bytes &f, size_t caplen, size_t wirelen) {
    Decoded d;
    char err[256];
    std::memset(err, 'x', sizeof err);
    // Copy exactly caplen bytes so ASan sees any read past the capture.
    std::vector<uint8_t> cap(f.begin(), f.begin() + static_cast<long>(caplen));
    d.st = vxs_pkt_decode(&d.info, lt, cap.empty() ? nullptr : cap.data(), caplen, wirelen, err,
                          sizeof err);
    d.err = err;
    // Pointers into `cap` die with it: keep the offset, rebase payload on the caller's vector.
    if (d.info.payload) d.info.payload = f.data() + d.info.payload_offset;
    return d;
}

Decoded Decode(uint32_t lt, const Bytes &f) { return Decode(lt, f, f.size(), f.size()); }

Bytes Payload(const vxs_pkt_info_t &i) {
    if (!i.payload) return {};
    return Bytes(i.payload, i.payload + i.payload_len);
}

void ExpectV4Udp(const Decoded &d, size_t ip_off) {
    ASSERT_EQ(d.st, VXS_OK) << d.err;
    EXPECT_EQ(d.info.kind, VXS_PL_UDP);
    EXPECT_EQ(d.info.ip_version, 4);
    EXPECT_EQ(d.info.ip_proto, 17);
    EXPECT_EQ(d.info.ip_id, 0x1234);
    const uint8_t src[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 192, 168, 1, 2};
    const uint8_t dst[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 192, 168, 1, 3};
    EXPECT_EQ(0, std::memcmp(d.info.src_addr, src, 16));
    EXPECT_EQ(0, std::memcmp(d.info.dst_addr, dst, 16));
    EXPECT_EQ(d.info.src_port, 8080);
    EXPECT_EQ(d.info.dst_port, 2368);
    EXPECT_EQ(d.info.payload_offset, ip_off + 28);
    EXPECT_EQ(Payload(d.info), (Bytes{0xde, 0xad, 0xbe, 0xef}));
    EXPECT_FALSE(d.info.snap_truncated);
}

void ExpectV6Udp(const Decoded &d) {
    ASSERT_EQ(d.st, VXS_OK) << d.err;
    EXPECT_EQ(d.info.kind, VXS_PL_UDP);
    EXPECT_EQ(d.info.ip_version, 6);
    EXPECT_EQ(d.info.ip_proto, 17);
    EXPECT_EQ(d.info.src_addr[15], 1);
    EXPECT_EQ(d.info.dst_addr[15], 2);
    EXPECT_EQ(d.info.src_port, 5000);
    EXPECT_EQ(d.info.dst_port, 5001);
    EXPECT_EQ(Payload(d.info), (Bytes{0xca, 0xfe, 0xba, 0xbe}));
}

// ---- Link types --------------------------------------------------------------------------

TEST(PktDecodeLink, EthernetIpv4Udp) {
    Bytes f = Cat({kEthHdrIpv4, kIpv4Udp}); // [0:14) Ethernet, [14:34) IPv4, [34:42) UDP
    Decoded d = Decode(VXS_LINKTYPE_ETHERNET, f);
    ExpectV4Udp(d, 14);
    EXPECT_EQ(d.info.linktype, 1u);
    EXPECT_EQ(d.info.ethertype, VXS_ETHERTYPE_IPV4);
    EXPECT_TRUE(d.info.has_mac);
    EXPECT_EQ(d.info.src_mac[5], 0x55);
    EXPECT_EQ(d.info.dst_mac[0], 0xff);
    EXPECT_EQ(d.info.vlan_count, 0);
    EXPECT_EQ(d.err, "");
}

TEST(PktDecodeLink, EthernetPaddingIgnored) {
    Bytes f = Cat({kEthHdrIpv4, kIpv4Udp, Bytes(14, 0)}); // [46:60) padding to 60 bytes
    ExpectV4Udp(Decode(VXS_LINKTYPE_ETHERNET, f), 14);
}

TEST(PktDecodeLink, Ethernet8021Q) {
    Bytes f = Cat({{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, // [0:6) destination
                    0x00, 0x11, 0x22, 0x33, 0x44, 0x55, // [6:12) source
                    0x81, 0x00, 0x20, 0x64,             // [12:16) 802.1Q, PCP 1, VLAN 100
                    0x08, 0x00},                        // [16:18) IPv4
                   kIpv4Udp});
    Decoded d = Decode(VXS_LINKTYPE_ETHERNET, f);
    ExpectV4Udp(d, 18);
    EXPECT_EQ(d.info.vlan_count, 1);
    EXPECT_EQ(d.info.vlan_ids[0], 100);
}

TEST(PktDecodeLink, EthernetQinQ) {
    Bytes f = Cat({{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, // [0:6) destination
                    0x00, 0x11, 0x22, 0x33, 0x44, 0x55, // [6:12) source
                    0x88, 0xa8, 0x00, 0xc8,             // [12:16) 802.1ad S-tag VLAN 200
                    0x81, 0x00, 0x00, 0x64,             // [16:20) 802.1Q C-tag VLAN 100
                    0x91, 0x00, 0x0f, 0xff,             // [20:24) 0x9100 tag VLAN 4095
                    0x08, 0x00},                        // [24:26) IPv4
                   kIpv4Udp});
    Decoded d = Decode(VXS_LINKTYPE_ETHERNET, f);
    ExpectV4Udp(d, 26);
    EXPECT_EQ(d.info.vlan_count, 3);
    EXPECT_EQ(d.info.vlan_ids[0], 200);
    EXPECT_EQ(d.info.vlan_ids[1], 100);
}

TEST(PktDecodeLink, EthernetTooManyTagsIsMalformed) {
    Bytes f = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0, 0x11, 0x22, 0x33, 0x44, 0x55};
    for (int i = 0; i < 20; i++) f.insert(f.end(), {0x81, 0x00, 0x00, 0x01});
    f.insert(f.end(), {0x08, 0x00});
    Decoded d = Decode(VXS_LINKTYPE_ETHERNET, f);
    EXPECT_EQ(d.st, VXS_E_MALFORMED);
    EXPECT_NE(d.err.find("802.1Q tag at frame offset"), std::string::npos) << d.err;
}

TEST(PktDecodeLink, EthernetLlcSnap) {
    Bytes f = Cat({{0x01, 0x02, 0x03, 0x04, 0x05, 0x06, // [0:6) destination
                    0x00, 0x11, 0x22, 0x33, 0x44, 0x55, // [6:12) source
                    0x00, 0x0c,                         // [12:14) 802.3 length 12
                    0xaa, 0xaa, 0x03, 0x00, 0x00, 0x00, // [14:20) LLC/SNAP OUI 0
                    0x89, 0x47},                        // [20:22) GeoNetworking
                   kGeoNet,                             // [22:26) GN
                   Bytes(34, 0)});                      // [26:60) padding
    Decoded d = Decode(VXS_LINKTYPE_ETHERNET, f);
    ASSERT_EQ(d.st, VXS_OK) << d.err;
    EXPECT_EQ(d.info.kind, VXS_PL_ETHERTYPE);
    EXPECT_EQ(d.info.ethertype, VXS_ETHERTYPE_GEONET);
    EXPECT_EQ(d.info.payload_offset, 22u);
    EXPECT_EQ(Payload(d.info), kGeoNet); // the 802.3 length cuts the padding
}

TEST(PktDecodeLink, EthernetNonSnapLlcIsNone) {
    Bytes f = {0x01, 0x80, 0xc2, 0, 0, 0, 0, 0x11, 0x22, 0x33, 0x44, 0x55, // [0:12) MACs
               0x00, 0x07,                                                  // [12:14) length
               0x42, 0x42, 0x03, 0x00, 0x00, 0x00, 0x00};                   // [14:21) STP
    Decoded d = Decode(VXS_LINKTYPE_ETHERNET, f);
    EXPECT_EQ(d.st, VXS_OK);
    EXPECT_EQ(d.info.kind, VXS_PL_NONE);
}

TEST(PktDecodeLink, EthernetOtherEthertype) {
    Bytes f = Cat({{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x00, 0x11, 0x22, 0x33, 0x44, 0x55,
                    0x88, 0xdc},                    // [12:14) WSMP
                   {0x03, 0x00, 0x20, 0x02, 0xaa, 0xbb}}); // [14:20) WSMP v3, PSID 0x20
    Decoded d = Decode(VXS_LINKTYPE_ETHERNET, f);
    ASSERT_EQ(d.st, VXS_OK);
    EXPECT_EQ(d.info.kind, VXS_PL_ETHERTYPE);
    EXPECT_EQ(d.info.ethertype, VXS_ETHERTYPE_WSMP);
    EXPECT_EQ(d.info.payload_len, 6u);
}

TEST(PktDecodeLink, LinuxSll) {
    Bytes f = Cat({{0x00, 0x00,                         // [0:2) packet type: to us
                    0x00, 0x01,                         // [2:4) ARPHRD_ETHER
                    0x00, 0x06,                         // [4:6) address length 6
                    0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x00, 0x00, // [6:14) address
                    0x08, 0x00},                        // [14:16) protocol IPv4
                   kIpv4Udp});
    Decoded d = Decode(VXS_LINKTYPE_LINUX_SLL, f);
    ExpectV4Udp(d, 16);
    EXPECT_TRUE(d.info.has_mac);
    EXPECT_EQ(d.info.src_mac[1], 0x11);
    EXPECT_EQ(d.info.ethertype, VXS_ETHERTYPE_IPV4);
}

TEST(PktDecodeLink, LinuxSll2) {
    Bytes f = Cat({{0x86, 0xdd,                         // [0:2) protocol IPv6
                    0x00, 0x00,                         // [2:4) reserved
                    0x00, 0x00, 0x00, 0x03,             // [4:8) interface index
                    0x00, 0x01,                         // [8:10) ARPHRD_ETHER
                    0x04,                               // [10] packet type: outgoing
                    0x06,                               // [11] address length
                    0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x00, 0x00}, // [12:20) address
                   kIpv6Udp});
    Decoded d = Decode(VXS_LINKTYPE_LINUX_SLL2, f);
    ExpectV6Udp(d);
    EXPECT_EQ(d.info.payload_offset, 20u + 48u);
    EXPECT_TRUE(d.info.has_mac);
    EXPECT_EQ(d.info.src_mac[5], 0x55);
}

TEST(PktDecodeLink, RawV4AndV6AndIpLinktypes) {
    ExpectV4Udp(Decode(VXS_LINKTYPE_RAW, kIpv4Udp), 0);
    ExpectV6Udp(Decode(VXS_LINKTYPE_RAW, kIpv6Udp));
    ExpectV4Udp(Decode(VXS_LINKTYPE_IPV4, kIpv4Udp), 0);
    ExpectV6Udp(Decode(VXS_LINKTYPE_IPV6, kIpv6Udp));
    // The linktype says IPv4 but the bytes are IPv6: a bad version, not a guess.
    Decoded d = Decode(VXS_LINKTYPE_IPV4, kIpv6Udp);
    EXPECT_EQ(d.st, VXS_E_MALFORMED);
    EXPECT_NE(d.err.find("IPv4 header at frame offset 0: version 6"), std::string::npos) << d.err;
    vxs_pkt_info_t info;
    ASSERT_EQ(vxs_pkt_decode_ip(&info, kIpv4Udp.data(), kIpv4Udp.size(), kIpv4Udp.size(),
                                nullptr, 0),
              VXS_OK);
    EXPECT_EQ(info.linktype, static_cast<uint32_t>(VXS_LINKTYPE_RAW));
}

TEST(PktDecodeLink, NullBothByteOrdersAndLoop) {
    // [0:4) family: AF_INET little-endian (x86 capture host), then IPv4
    ExpectV4Udp(Decode(VXS_LINKTYPE_NULL, Cat({{0x02, 0x00, 0x00, 0x00}, kIpv4Udp})), 4);
    // [0:4) AF_INET big-endian (a SPARC/PowerPC capture host)
    ExpectV4Udp(Decode(VXS_LINKTYPE_NULL, Cat({{0x00, 0x00, 0x00, 0x02}, kIpv4Udp})), 4);
    // AF_INET6 as FreeBSD (28), macOS (30) and NetBSD/OpenBSD (24) number it
    ExpectV6Udp(Decode(VXS_LINKTYPE_NULL, Cat({{0x1c, 0x00, 0x00, 0x00}, kIpv6Udp})));
    ExpectV6Udp(Decode(VXS_LINKTYPE_NULL, Cat({{0x00, 0x00, 0x00, 0x1e}, kIpv6Udp})));
    ExpectV6Udp(Decode(VXS_LINKTYPE_NULL, Cat({{0x18, 0x00, 0x00, 0x00}, kIpv6Udp})));
    // LOOP: network byte order always
    ExpectV4Udp(Decode(VXS_LINKTYPE_LOOP, Cat({{0x00, 0x00, 0x00, 0x02}, kIpv4Udp})), 4);
    ExpectV6Udp(Decode(VXS_LINKTYPE_LOOP, Cat({{0x00, 0x00, 0x00, 0x18}, kIpv6Udp})));
    // An unknown family: nothing decoded, no error.
    Decoded d = Decode(VXS_LINKTYPE_NULL, Cat({{0x07, 0x00, 0x00, 0x00}, kIpv4Udp}));
    EXPECT_EQ(d.st, VXS_OK);
    EXPECT_EQ(d.info.kind, VXS_PL_NONE);
}

TEST(PktDecodeLink, UnsupportedLinktype) {
    Decoded d = Decode(147, kIpv4Udp);
    EXPECT_EQ(d.st, VXS_E_UNSUPPORTED);
    EXPECT_EQ(d.info.kind, VXS_PL_NONE);
    EXPECT_NE(d.err.find("147"), std::string::npos);
    EXPECT_STREQ(vxs_linktype_name(147), "linktype-147");
    EXPECT_STREQ(vxs_linktype_name(1), "ethernet");
    EXPECT_STREQ(vxs_linktype_name(276), "linux-sll2");
    EXPECT_STREQ(vxs_linktype_name(127), "ieee802.11-radiotap");
    EXPECT_STREQ(vxs_linktype_name(113), "linux-sll");
    EXPECT_STREQ(vxs_linktype_name(0), "null");
}

// ---- 802.11 and radiotap -----------------------------------------------------------------

TEST(PktDecodeWifi, DataFrameGeoNetworking) {
    Decoded d = Decode(VXS_LINKTYPE_IEEE802_11, kWifiGeoNet);
    ASSERT_EQ(d.st, VXS_OK) << d.err;
    EXPECT_EQ(d.info.kind, VXS_PL_ETHERTYPE);
    EXPECT_EQ(d.info.ethertype, VXS_ETHERTYPE_GEONET);
    EXPECT_EQ(d.info.payload_offset, 32u);
    EXPECT_EQ(Payload(d.info), kGeoNet);
    EXPECT_TRUE(d.info.has_mac);
    EXPECT_EQ(d.info.src_mac[0], 0x02);
    EXPECT_EQ(d.info.src_mac[5], 0x01);
    EXPECT_EQ(d.info.dst_mac[0], 0xff);
}

TEST(PktDecodeWifi, QosDataFourAddressHtcWsmp) {
    Bytes f = {
        0x88, 0x83,                         // [0:2) QoS data; ToDS|FromDS, +HTC/Order
        0x00, 0x00,                         // [2:4) duration
        0x0a, 0, 0, 0, 0, 0x01,             // [4:10) addr1 = RA
        0x0a, 0, 0, 0, 0, 0x02,             // [10:16) addr2 = TA
        0x0a, 0, 0, 0, 0, 0x03,             // [16:22) addr3 = DA
        0x00, 0x00,                         // [22:24) sequence control
        0x0a, 0, 0, 0, 0, 0x04,             // [24:30) addr4 = SA
        0x00, 0x00,                         // [30:32) QoS control
        0x00, 0x00, 0x00, 0x00,             // [32:36) HT control
        0xaa, 0xaa, 0x03, 0x00, 0x00, 0x00, // [36:42) LLC/SNAP
        0x88, 0xdc,                         // [42:44) WSMP
        0x03, 0x00, 0x20, 0x01, 0x55,       // [44:49) WSMP v3, TPID 0, PSID 0x20, len 1, data
    };
    Decoded d = Decode(VXS_LINKTYPE_IEEE802_11, f);
    ASSERT_EQ(d.st, VXS_OK) << d.err;
    EXPECT_EQ(d.info.kind, VXS_PL_ETHERTYPE);
    EXPECT_EQ(d.info.ethertype, VXS_ETHERTYPE_WSMP);
    EXPECT_EQ(d.info.payload_offset, 44u);
    EXPECT_EQ(d.info.payload_len, 5u);
    EXPECT_EQ(d.info.src_mac[5], 0x04); // SA = addr4
    EXPECT_EQ(d.info.dst_mac[5], 0x03); // DA = addr3
}

TEST(PktDecodeWifi, QosDataFromDsIpv4) {
    Bytes f = Cat({{0x88, 0x02,                         // [0:2) QoS data, FromDS
                    0x00, 0x00,                         // [2:4) duration
                    0x0a, 0, 0, 0, 0, 0x01,             // [4:10) DA
                    0x0a, 0, 0, 0, 0, 0x02,             // [10:16) BSSID
                    0x0a, 0, 0, 0, 0, 0x03,             // [16:22) SA
                    0x00, 0x00,                         // [22:24) sequence control
                    0x07, 0x00,                         // [24:26) QoS control
                    0xaa, 0xaa, 0x03, 0x00, 0x00, 0x00, // [26:32) LLC/SNAP
                    0x08, 0x00},                        // [32:34) IPv4
                   kIpv4Udp});
    Decoded d = Decode(VXS_LINKTYPE_IEEE802_11, f);
    ExpectV4Udp(d, 34);
    EXPECT_EQ(d.info.src_mac[5], 0x03);
    EXPECT_EQ(d.info.dst_mac[5], 0x01);
}

TEST(PktDecodeWifi, ProtectedAndManagementAndNullAreNone) {
    Bytes prot = kWifiGeoNet;
    prot[1] = 0x40; // Protected: body is CCMP, not LLC
    Decoded d = Decode(VXS_LINKTYPE_IEEE802_11, prot);
    EXPECT_EQ(d.st, VXS_OK);
    EXPECT_EQ(d.info.kind, VXS_PL_NONE);
    EXPECT_TRUE(d.info.has_mac);

    Bytes beacon = {0x80, 0x00, 0x00, 0x00,             // [0:4) beacon (type 0, subtype 8)
                    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, // [4:10) DA
                    0x02, 0, 0, 0, 0, 0x01,             // [10:16) SA
                    0x02, 0, 0, 0, 0, 0x01,             // [16:22) BSSID
                    0x00, 0x00,                         // [22:24) sequence control
                    0, 0, 0, 0, 0, 0, 0, 0, 0x64, 0x00, 0x01, 0x00}; // [24:36) body
    d = Decode(VXS_LINKTYPE_IEEE802_11, beacon);
    EXPECT_EQ(d.st, VXS_OK);
    EXPECT_EQ(d.info.kind, VXS_PL_NONE);
    EXPECT_EQ(d.info.payload, nullptr);

    Bytes ack = {0xd4, 0x00, 0x00, 0x00, 0x02, 0, 0, 0, 0, 0x01}; // control frame: ACK
    d = Decode(VXS_LINKTYPE_IEEE802_11, ack);
    EXPECT_EQ(d.st, VXS_OK);
    EXPECT_EQ(d.info.kind, VXS_PL_NONE);

    Bytes null_data(kWifiGeoNet.begin(), kWifiGeoNet.begin() + 24);
    null_data[0] = 0x48; // Null function (subtype 4): no body
    d = Decode(VXS_LINKTYPE_IEEE802_11, null_data);
    EXPECT_EQ(d.st, VXS_OK);
    EXPECT_EQ(d.info.kind, VXS_PL_NONE);
}

// Radiotap with Flags (FCS present), Rate, Channel, dBm signal and noise, then 802.11 + FCS.
Bytes RadiotapFcsFrame() {
    return Cat({{0x00, 0x00,             // [0:2) version 0, pad
                 0x10, 0x00,             // [2:4) length 16
                 0x6e, 0x00, 0x00, 0x00, // [4:8) present: flags, rate, channel, signal, noise
                 0x10,                   // [8] flags: FCS at end
                 0x0c,                   // [9] rate 6 Mb/s
                 0x0c, 0x17, 0x40, 0x01, // [10:14) channel 5900 MHz, flags OFDM|5 GHz
                 0xb5,                   // [14] signal -75 dBm
                 0xa1},                  // [15] noise -95 dBm
                kWifiGeoNet,             // [16:52) 802.11 + LLC + GN
                {0x11, 0x22, 0x33, 0x44}}); // [52:56) FCS
}

TEST(PktDecodeWifi, RadiotapSignalChannelRateFcs) {
    Bytes f = RadiotapFcsFrame();
    Decoded d = Decode(VXS_LINKTYPE_IEEE802_11_RADIOTAP, f);
    ASSERT_EQ(d.st, VXS_OK) << d.err;
    EXPECT_EQ(d.info.kind, VXS_PL_ETHERTYPE);
    EXPECT_EQ(d.info.ethertype, VXS_ETHERTYPE_GEONET);
    EXPECT_EQ(d.info.payload_offset, 48u);
    EXPECT_EQ(Payload(d.info), kGeoNet); // the FCS is not payload
    EXPECT_TRUE(d.info.radio.has_signal);
    EXPECT_EQ(d.info.radio.signal_dbm, -75);
    EXPECT_TRUE(d.info.radio.has_noise);
    EXPECT_EQ(d.info.radio.noise_dbm, -95);
    EXPECT_TRUE(d.info.radio.has_channel);
    EXPECT_EQ(d.info.radio.freq_mhz, 5900);
    EXPECT_EQ(d.info.radio.chan_flags, 0x0140);
    EXPECT_TRUE(d.info.radio.has_rate);
    EXPECT_EQ(d.info.radio.rate_500kbps, 12);

    // Snaplen cut 2 bytes of the FCS: only the 2 captured FCS bytes are dropped.
    Decoded s = Decode(VXS_LINKTYPE_IEEE802_11_RADIOTAP, f, f.size() - 2, f.size());
    ASSERT_EQ(s.st, VXS_OK);
    EXPECT_TRUE(s.info.snap_truncated);
    EXPECT_EQ(Payload(s.info), kGeoNet);
}

TEST(PktDecodeWifi, RadiotapExtendedBitmapTwoNamespaces) {
    Bytes f = Cat({{0x00, 0x00,             // [0:2) version, pad
                    0x1c, 0x00,             // [2:4) length 28
                    0x21, 0x00, 0x00, 0xa0, // [4:8) TSFT, signal, radiotap NS next, ext
                    0x20, 0x08, 0x00, 0x00, // [8:12) namespace 2: signal, antenna
                    0x00, 0x00, 0x00, 0x00, // [12:16) pad: TSFT aligns to 8
                    1, 2, 3, 4, 5, 6, 7, 8, // [16:24) TSFT
                    0xc4,                   // [24] signal -60 dBm (combined)
                    0xc0,                   // [25] antenna 0 signal -64 dBm
                    0x01,                   // [26] antenna 1
                    0x00},                  // [27] pad
                   kWifiGeoNet});           // [28:64) 802.11
    Decoded d = Decode(VXS_LINKTYPE_IEEE802_11_RADIOTAP, f);
    ASSERT_EQ(d.st, VXS_OK) << d.err;
    EXPECT_EQ(d.info.kind, VXS_PL_ETHERTYPE);
    EXPECT_EQ(d.info.payload_offset, 60u);
    EXPECT_TRUE(d.info.radio.has_signal);
    EXPECT_EQ(d.info.radio.signal_dbm, -60);
    EXPECT_FALSE(d.info.radio.has_channel);
}

TEST(PktDecodeWifi, RadiotapUnknownFieldStopsWalkButSkipsHeader) {
    Bytes f = Cat({{0x00, 0x00, 0x14, 0x00, // [0:4) version, pad, length 20
                    0x04, 0x00, 0x00, 0x90, // [4:8) rate, TLV bit 28 (unsized), ext
                    0x01, 0x00, 0x00, 0x00, // [8:12) field 32: unknown
                    0x16,                   // [12] rate 11 Mb/s
                    0, 0, 0, 0, 0, 0, 0},   // [13:20) TLVs we do not read
                   kWifiGeoNet});
    Decoded d = Decode(VXS_LINKTYPE_IEEE802_11_RADIOTAP, f);
    ASSERT_EQ(d.st, VXS_OK) << d.err;
    EXPECT_EQ(d.info.payload_offset, 20u + 32u);
    EXPECT_TRUE(d.info.radio.has_rate);
    EXPECT_EQ(d.info.radio.rate_500kbps, 0x16);
}

TEST(PktDecodeWifi, RadiotapVendorNamespaceSkipped) {
    Bytes f = Cat({{0x00, 0x00, 0x1b, 0x00,             // [0:4) version, pad, length 27
                    0x02, 0x00, 0x00, 0xc0,             // [4:8) flags, vendor NS next, ext
                    0xff, 0x00, 0x00, 0xa0,             // [8:12) vendor bits, radiotap NS, ext
                    0x20, 0x00, 0x00, 0x00,             // [12:16) namespace 3: signal
                    0x00,                               // [16] flags
                    0x00,                               // [17] pad: vendor header aligns to 2
                    0x00, 0x11, 0x22, 0x01, 0x02, 0x00, // [18:24) OUI, sub 1, skip_length 2
                    0x99, 0x99,                         // [24:26) vendor data
                    0xd8},                              // [26] signal -40 dBm
                   kWifiGeoNet});                       // [27:63) 802.11
    Decoded d = Decode(VXS_LINKTYPE_IEEE802_11_RADIOTAP, f);
    ASSERT_EQ(d.st, VXS_OK) << d.err;
    EXPECT_EQ(d.info.payload_offset, 27u + 32u);
    EXPECT_TRUE(d.info.radio.has_signal);
    EXPECT_EQ(d.info.radio.signal_dbm, -40);
}

// ---- IPv4 / IPv6 details -----------------------------------------------------------------

TEST(PktDecodeIp, Ipv4Options) {
    Bytes f = Cat({kEthHdrIpv4,
                   {0x46, 0x00, 0x00, 0x24,  // [14:18) IHL 6, total length 36
                    0x12, 0x34, 0x40, 0x00,  // [18:22) id, DF
                    0x40, 0x11, 0x00, 0x00,  // [22:26) TTL, UDP
                    0xc0, 0xa8, 0x01, 0x02,  // [26:30) source
                    0xc0, 0xa8, 0x01, 0x03,  // [30:34) destination
                    0x01, 0x01, 0x01, 0x00}, // [34:38) options: NOP NOP NOP EOL
                   Bytes(kIpv4Udp.begin() + 20, kIpv4Udp.end())}); // [38:50) UDP
    Decoded d = Decode(VXS_LINKTYPE_ETHERNET, f);
    ExpectV4Udp(d, 18);
}

TEST(PktDecodeIp, Ipv4NonUdpIsIp) {
    Bytes ip = kIpv4Udp;
    ip[9] = 6; // TCP
    Decoded d = Decode(VXS_LINKTYPE_RAW, ip);
    ASSERT_EQ(d.st, VXS_OK);
    EXPECT_EQ(d.info.kind, VXS_PL_IP);
    EXPECT_EQ(d.info.ip_proto, 6);
    EXPECT_EQ(d.info.payload_offset, 20u);
    EXPECT_EQ(d.info.payload_len, 12u);
}

TEST(PktDecodeIp, Ipv4Fragments) {
    Bytes ip = kIpv4Udp;
    ip[6] = 0x20; // [6:8) MF, offset 0
    Decoded d = Decode(VXS_LINKTYPE_RAW, ip);
    ASSERT_EQ(d.st, VXS_OK);
    EXPECT_EQ(d.info.kind, VXS_PL_FRAGMENT);
    EXPECT_TRUE(d.info.frag_more);
    EXPECT_EQ(d.info.frag_offset, 0);
    EXPECT_EQ(d.info.ip_id, 0x1234);
    EXPECT_EQ(d.info.payload_offset, 20u);
    EXPECT_EQ(d.info.payload_len, 12u); // the UDP header is fragment data, not parsed
    ip[6] = 0x00;
    ip[7] = 0xb9; // offset 185 * 8 = 1480, last fragment
    d = Decode(VXS_LINKTYPE_RAW, ip);
    ASSERT_EQ(d.st, VXS_OK);
    EXPECT_EQ(d.info.kind, VXS_PL_FRAGMENT);
    EXPECT_FALSE(d.info.frag_more);
    EXPECT_EQ(d.info.frag_offset, 1480);
    EXPECT_EQ(d.info.src_port, 0);
}

TEST(PktDecodeIp, Ipv6ExtensionHeaders) {
    Bytes f = Cat({{0x60, 0x00, 0x00, 0x00,             // [0:4) v6
                    0x00, 0x1c, 0x00, 0x40,             // [4:8) payload 28, next hop-by-hop
                    0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01, // [8:24)
                    0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x02, // [24:40)
                    0x3c, 0x00, 0x01, 0x04, 0, 0, 0, 0, // [40:48) hop-by-hop, next dest opts
                    0x11, 0x00, 0x01, 0x04, 0, 0, 0, 0}, // [48:56) dest opts, next UDP
                   Bytes(kIpv6Udp.begin() + 40, kIpv6Udp.end())}); // [56:68) UDP
    Decoded d = Decode(VXS_LINKTYPE_RAW, f);
    ExpectV6Udp(d);
    EXPECT_EQ(d.info.payload_offset, 64u);

    // A real IPv6 fragment: reported as IP protocol 44, from the fragment header on.
    Bytes fr(f.begin(), f.begin() + 40);
    fr[5] = 0x14;                                                  // payload length 20
    fr[6] = 0x2c;                                                  // next: fragment
    fr.insert(fr.end(), {0x11, 0x00, 0x00, 0x01, 0, 0, 0, 7});     // [40:48) offset 0, M=1
    fr.insert(fr.end(), kIpv6Udp.begin() + 40, kIpv6Udp.end());    // [48:60) data
    d = Decode(VXS_LINKTYPE_RAW, fr);
    ASSERT_EQ(d.st, VXS_OK) << d.err;
    EXPECT_EQ(d.info.kind, VXS_PL_IP);
    EXPECT_EQ(d.info.ip_proto, 44);
    EXPECT_EQ(d.info.payload_offset, 40u);
    // An atomic fragment (offset 0, M = 0, RFC 6946) is a whole packet.
    fr[43] = 0x00;
    ExpectV6Udp(Decode(VXS_LINKTYPE_RAW, fr));
}

TEST(PktDecodeIp, Ipv6ExtensionLoopCapped) {
    Bytes f(kIpv6Udp.begin(), kIpv6Udp.begin() + 40);
    f[6] = 0x00;
    for (int i = 0; i < 20; i++) f.insert(f.end(), {0x3c, 0x00, 1, 4, 0, 0, 0, 0});
    f[4] = 0x00;
    f[5] = 160;
    Decoded d = Decode(VXS_LINKTYPE_RAW, f);
    EXPECT_EQ(d.st, VXS_E_MALFORMED);
    EXPECT_NE(d.err.find("extension"), std::string::npos) << d.err;
}

// ---- Malformed input: truncation at every offset, corrupted length fields ----------------

struct Vec {
    const char *name;
    uint32_t lt;
    Bytes f;
    bool every_cut_fails; // every layer has a length: any cut is visible
};

std::vector<Vec> AllVectors() {
    return {
        {"ethernet", VXS_LINKTYPE_ETHERNET, Cat({kEthHdrIpv4, kIpv4Udp}), true},
        {"ethernet-qinq", VXS_LINKTYPE_ETHERNET,
         Cat({{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0, 0x11, 0x22, 0x33, 0x44, 0x55, 0x88, 0xa8,
               0x00, 0xc8, 0x81, 0x00, 0x00, 0x64, 0x08, 0x00},
              kIpv4Udp}),
         true},
        {"ethernet-snap", VXS_LINKTYPE_ETHERNET,
         Cat({{1, 2, 3, 4, 5, 6, 0, 0x11, 0x22, 0x33, 0x44, 0x55, 0x00, 0x28, 0xaa, 0xaa, 0x03,
               0, 0, 0, 0x08, 0x00},
              kIpv4Udp}),
         true},
        {"sll", VXS_LINKTYPE_LINUX_SLL,
         Cat({{0, 0, 0, 1, 0, 6, 0, 0x11, 0x22, 0x33, 0x44, 0x55, 0, 0, 0x08, 0x00}, kIpv4Udp}),
         true},
        {"sll2", VXS_LINKTYPE_LINUX_SLL2,
         Cat({{0x86, 0xdd, 0, 0, 0, 0, 0, 3, 0, 1, 4, 6, 0, 0x11, 0x22, 0x33, 0x44, 0x55, 0, 0},
              kIpv6Udp}),
         true},
        {"raw4", VXS_LINKTYPE_RAW, kIpv4Udp, true},
        {"raw6", VXS_LINKTYPE_RAW, kIpv6Udp, true},
        {"ipv4", VXS_LINKTYPE_IPV4, kIpv4Udp, true},
        {"ipv6", VXS_LINKTYPE_IPV6, kIpv6Udp, true},
        {"null-le", VXS_LINKTYPE_NULL, Cat({{2, 0, 0, 0}, kIpv4Udp}), true},
        {"null-be", VXS_LINKTYPE_NULL, Cat({{0, 0, 0, 2}, kIpv4Udp}), true},
        {"loop", VXS_LINKTYPE_LOOP, Cat({{0, 0, 0, 24}, kIpv6Udp}), true},
        {"wifi-geonet", VXS_LINKTYPE_IEEE802_11, kWifiGeoNet, false},
        {"wifi-qos-ipv4", VXS_LINKTYPE_IEEE802_11,
         Cat({{0x88, 0x02, 0, 0, 0x0a, 0, 0, 0, 0, 1, 0x0a, 0, 0, 0, 0, 2, 0x0a, 0, 0, 0, 0, 3,
               0, 0, 0x07, 0x00, 0xaa, 0xaa, 0x03, 0, 0, 0, 0x08, 0x00},
              kIpv4Udp}),
         false}, // a cut at the end of the MAC header leaves an empty body: fine
        {"radiotap-fcs", VXS_LINKTYPE_IEEE802_11_RADIOTAP, RadiotapFcsFrame(), false},
    };
}

TEST(PktDecodeMalformed, TruncatedAtEveryOffset) {
    for (const Vec &v : AllVectors()) {
        SCOPED_TRACE(v.name);
        ASSERT_EQ(Decode(v.lt, v.f).st, VXS_OK) << v.name;
        for (size_t cut = 0; cut < v.f.size(); cut++) {
            SCOPED_TRACE(cut);
            // The frame itself is short (caplen == wirelen): an error naming an offset, or OK
            // when no length field can tell.
            Decoded d = Decode(v.lt, v.f, cut, cut);
            EXPECT_TRUE(d.st == VXS_OK || d.st == VXS_E_TRUNCATED || d.st == VXS_E_MALFORMED)
                << vxs_status_name(d.st);
            if (d.st != VXS_OK) {
                EXPECT_NE(d.err.find("at frame offset "), std::string::npos) << d.err;
                EXPECT_EQ(d.info.kind, VXS_PL_NONE);
                EXPECT_EQ(d.info.payload, nullptr);
            } else {
                EXPECT_FALSE(v.every_cut_fails) << "cut at " << cut << " went unnoticed";
                if (d.info.payload) {
                    EXPECT_LE(d.info.payload_offset + d.info.payload_len, cut);
                }
            }
            // The snaplen cut it: never an error, always flagged.
            Decoded s = Decode(v.lt, v.f, cut, v.f.size());
            EXPECT_EQ(s.st, VXS_OK) << s.err;
            EXPECT_TRUE(s.info.snap_truncated);
            if (s.info.payload) {
                EXPECT_LE(s.info.payload_offset + s.info.payload_len, cut);
            }
        }
    }
}

TEST(PktDecodeMalformed, CorruptIhl) {
    Bytes f = Cat({kEthHdrIpv4, kIpv4Udp});
    f[14] = 0x44; // IHL 4 < 5
    Decoded d = Decode(VXS_LINKTYPE_ETHERNET, f);
    EXPECT_EQ(d.st, VXS_E_MALFORMED);
    EXPECT_NE(d.err.find("IPv4 header at frame offset 14: header length 16 < 20"),
              std::string::npos)
        << d.err;
    f[14] = 0x4f; // IHL 15: 60 bytes, only 32 there
    d = Decode(VXS_LINKTYPE_ETHERNET, f);
    EXPECT_EQ(d.st, VXS_E_TRUNCATED);
    EXPECT_NE(d.err.find("frame offset 14"), std::string::npos) << d.err;
    f[14] = 0x47; // IHL 7: 28 > total... the UDP header loses its start
    d = Decode(VXS_LINKTYPE_ETHERNET, f);
    EXPECT_NE(d.st, VXS_OK);
    f[14] = 0x35; // version 3
    d = Decode(VXS_LINKTYPE_ETHERNET, f);
    EXPECT_EQ(d.st, VXS_E_MALFORMED);
}

TEST(PktDecodeMalformed, CorruptTotalLength) {
    Bytes f = Cat({kEthHdrIpv4, kIpv4Udp});
    f[16] = 0x05;
    f[17] = 0xdc; // total length 1500
    Decoded d = Decode(VXS_LINKTYPE_ETHERNET, f);
    EXPECT_EQ(d.st, VXS_E_TRUNCATED);
    EXPECT_NE(d.err.find("IPv4 header at frame offset 14: total length 1500 > 32 bytes left"),
              std::string::npos)
        << d.err;
    // The same frame cut by the snaplen: OK, payload cut at the end of the capture.
    d = Decode(VXS_LINKTYPE_ETHERNET, f, f.size(), 1514);
    ASSERT_EQ(d.st, VXS_OK) << d.err;
    EXPECT_TRUE(d.info.snap_truncated);
    EXPECT_EQ(d.info.kind, VXS_PL_UDP);
    f[16] = 0x00;
    f[17] = 0x10; // total length 16 < 20
    d = Decode(VXS_LINKTYPE_ETHERNET, f);
    EXPECT_EQ(d.st, VXS_E_MALFORMED);
    EXPECT_NE(d.err.find("frame offset 14"), std::string::npos) << d.err;
    f[17] = 0x1c; // total length 28: the UDP length 12 no longer fits
    d = Decode(VXS_LINKTYPE_ETHERNET, f);
    EXPECT_EQ(d.st, VXS_E_TRUNCATED);
    EXPECT_NE(d.err.find("UDP header at frame offset 34: length 12 > 8 bytes left"),
              std::string::npos)
        << d.err;
    EXPECT_EQ(d.info.ip_version, 4); // fields decoded before the error stay set
}

TEST(PktDecodeMalformed, CorruptUdpLength) {
    Bytes f = kIpv4Udp;
    f[25] = 0x04; // UDP length 4 < 8
    Decoded d = Decode(VXS_LINKTYPE_RAW, f);
    EXPECT_EQ(d.st, VXS_E_MALFORMED);
    EXPECT_NE(d.err.find("UDP header at frame offset 20"), std::string::npos) << d.err;
    f[25] = 0x40; // 64 > 12 available
    d = Decode(VXS_LINKTYPE_RAW, f);
    EXPECT_EQ(d.st, VXS_E_TRUNCATED);
    f[25] = 0x0a; // 10 < 12: the payload is 2 bytes
    d = Decode(VXS_LINKTYPE_RAW, f);
    ASSERT_EQ(d.st, VXS_OK);
    EXPECT_EQ(d.info.payload_len, 2u);
    Bytes v6 = kIpv6Udp;
    v6[5] = 0x40; // IPv6 payload length 64 > 12
    d = Decode(VXS_LINKTYPE_RAW, v6);
    EXPECT_EQ(d.st, VXS_E_TRUNCATED);
    EXPECT_NE(d.err.find("IPv6 header at frame offset 0"), std::string::npos) << d.err;
}

TEST(PktDecodeMalformed, CorruptRadiotapLength) {
    Bytes f = RadiotapFcsFrame();
    f[2] = 0x04; // length 4 < 8
    Decoded d = Decode(VXS_LINKTYPE_IEEE802_11_RADIOTAP, f);
    EXPECT_EQ(d.st, VXS_E_MALFORMED);
    EXPECT_NE(d.err.find("radiotap header at frame offset 0"), std::string::npos) << d.err;
    f[2] = 0x00;
    f[3] = 0x10; // 4096 > 56
    d = Decode(VXS_LINKTYPE_IEEE802_11_RADIOTAP, f);
    EXPECT_EQ(d.st, VXS_E_TRUNCATED);
    f[2] = 0x0c;
    f[3] = 0x00; // 12: the fields need 16
    d = Decode(VXS_LINKTYPE_IEEE802_11_RADIOTAP, f);
    EXPECT_EQ(d.st, VXS_E_MALFORMED);
    EXPECT_NE(d.err.find("runs past"), std::string::npos) << d.err;
    f = RadiotapFcsFrame();
    f[0] = 1; // version 1
    EXPECT_EQ(Decode(VXS_LINKTYPE_IEEE802_11_RADIOTAP, f).st, VXS_E_MALFORMED);
    f = RadiotapFcsFrame();
    f[7] = 0x80; // extension bit with no room for another word
    f[2] = 0x08;
    EXPECT_EQ(Decode(VXS_LINKTYPE_IEEE802_11_RADIOTAP, f).st, VXS_E_MALFORMED);
}

TEST(PktDecodeMalformed, Corrupt8023Length) {
    Bytes f = Cat({{1, 2, 3, 4, 5, 6, 0, 0x11, 0x22, 0x33, 0x44, 0x55, 0x05, 0xdc, 0xaa, 0xaa,
                    0x03, 0, 0, 0, 0x89, 0x47},
                   kGeoNet});
    Decoded d = Decode(VXS_LINKTYPE_ETHERNET, f);
    EXPECT_EQ(d.st, VXS_E_TRUNCATED);
    EXPECT_NE(d.err.find("802.3 header at frame offset 12: length 1500 > 12 bytes left"),
              std::string::npos)
        << d.err;
}

TEST(PktDecodeMalformed, NullFrameAndTinyBuffers) {
    vxs_pkt_info_t info;
    char err[8];
    EXPECT_EQ(vxs_pkt_decode(&info, VXS_LINKTYPE_ETHERNET, nullptr, 0, 0, err, sizeof err),
              VXS_E_TRUNCATED);
    EXPECT_LT(std::strlen(err), sizeof err); // cut, still terminated
    EXPECT_EQ(vxs_pkt_decode(&info, VXS_LINKTYPE_ETHERNET, nullptr, 0, 60, nullptr, 0), VXS_OK);
    EXPECT_TRUE(info.snap_truncated);
}

} // namespace
