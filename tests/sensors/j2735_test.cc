// J2735 SPaT, MAP and TIM against jpo-ode's asn1c decodes (decoder-output-*.xml: the hex of a
// MessageFrame and every field decoded by an independent decoder), and every jpo-ode message
// cut short and bit-flipped.
#include <cmath>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "test_util.h"
#include "vxs_v2x.h"

namespace {

struct Ref {
    std::string xml;
    std::vector<uint8_t> bytes; // the <asn1> hex
};

Ref Load(const std::string &path) {
    Ref r;
    std::vector<uint8_t> x = vxs_test::ReadFile(path);
    r.xml.assign(x.begin(), x.end());
    r.bytes = vxs_test::HexBytes(vxs_test::XmlText(r.xml, "asn1"));
    return r;
}

// Decode a jpo-ode <asn1>: a MessageFrame, or IEEE 1609.2 data holding one (the TIM).
vxs_status_t Decode(vxs_v2x_msg_t *m, const std::vector<uint8_t> &b, char *err, size_t err_len) {
    if (b.size() > 1 && b[0] == 0x03) {
        const uint8_t *inner = nullptr;
        size_t inner_len = 0;
        vxs_v2x_msg_init(m);
        vxs_status_t st =
            vxs_v2x_decode_1609dot2(m, &inner, &inner_len, b.data(), b.size(), err, err_len);
        if (st != VXS_OK) return st;
        vxs_v2x_msg_t low = *m;
        st = vxs_v2x_decode_j2735(m, inner, inner_len, err, err_len);
        m->ieee_content = low.ieee_content;
        m->ieee_gen_time_us = low.ieee_gen_time_us;
        m->ieee_psid = low.ieee_psid;
        return st;
    }
    return vxs_v2x_decode_j2735(m, b.data(), b.size(), err, err_len);
}

// Every occurrence of <tag> (an element that holds others) after `from`, as offsets.
std::vector<size_t> All(const std::string &xml, const std::string &tag, size_t from = 0) {
    std::vector<size_t> v;
    for (size_t a = xml.find("<" + tag + ">", from); a != std::string::npos;
         a = xml.find("<" + tag + ">", a + 1))
        v.push_back(a);
    return v;
}

} // namespace

TEST(J2735, SpatEqualsJpoOdeDecode) {
    VXS_SHARED_OR_SKIP(path, "datasets/v2x/us/jpo-ode/asn1/decoder-output-spat.xml");
    Ref r = Load(path);
    vxs_v2x_msg_t m;
    char err[256] = "";
    ASSERT_EQ(Decode(&m, r.bytes, err, sizeof err), VXS_OK) << err;
    EXPECT_EQ(m.protocol, VXS_V2X_PROTO_J2735);
    EXPECT_EQ(m.msg_id, VXS_J2735_SPAT);
    EXPECT_EQ(vxs_test::XmlLong(r.xml, "messageId"), VXS_J2735_SPAT);
    EXPECT_TRUE(m.decoded);
    size_t spat = r.xml.find("<SPAT>");
    ASSERT_NE(spat, std::string::npos);
    auto states = All(r.xml, "IntersectionState", spat);
    ASSERT_FALSE(states.empty());
    ASSERT_EQ(m.n_intersections, (int)states.size());
    for (size_t i = 0; i < states.size() && i < VXS_V2X_MAX_INTERSECTIONS; i++) {
        // <id><id>N</id></id>: the IntersectionReferenceID's id (no region in this file)
        size_t id = r.xml.find("<id>", states[i]) + 4;
        EXPECT_EQ(m.intersection_ids[i], vxs_test::XmlLong(r.xml, "id", id)) << i;
    }
    // The SPaT has no MinuteOfTheYear of its own, nor has its intersection; the
    // intersection's timeStamp (DSecond, ms in the minute) is the message's sec_mark.
    EXPECT_EQ(r.xml.find("<moy>"), std::string::npos);
    EXPECT_EQ(m.moy, -1);
    EXPECT_EQ(m.sec_mark, vxs_test::XmlLong(r.xml, "timeStamp", states[0]));
    EXPECT_EQ(m.sec_mark, 35176);
}

TEST(J2735, MapEqualsJpoOdeDecode) {
    VXS_SHARED_OR_SKIP(path, "datasets/v2x/us/jpo-ode/asn1/decoder-output-map.xml");
    Ref r = Load(path);
    vxs_v2x_msg_t m;
    char err[256] = "";
    ASSERT_EQ(Decode(&m, r.bytes, err, sizeof err), VXS_OK) << err;
    EXPECT_EQ(m.msg_id, VXS_J2735_MAP);
    EXPECT_TRUE(m.decoded);
    size_t map = r.xml.find("<MapData>");
    ASSERT_NE(map, std::string::npos);
    EXPECT_EQ(m.msg_cnt, vxs_test::XmlLong(r.xml, "msgIssueRevision", map));
    auto geoms = All(r.xml, "IntersectionGeometry", map);
    ASSERT_EQ(m.n_intersections, (int)geoms.size());
    for (size_t i = 0; i < geoms.size() && i < VXS_V2X_MAX_INTERSECTIONS; i++) {
        size_t id = r.xml.find("<id>", geoms[i]) + 4;
        EXPECT_EQ(m.intersection_ids[i], vxs_test::XmlLong(r.xml, "id", id)) << i;
    }
    // The first intersection's reference point is the message's position.
    size_t ref = r.xml.find("<refPoint>", geoms[0]);
    ASSERT_NE(ref, std::string::npos);
    EXPECT_EQ(std::lround(m.lat_deg * 1e7), vxs_test::XmlLong(r.xml, "lat", ref));
    EXPECT_EQ(std::lround(m.lon_deg * 1e7), vxs_test::XmlLong(r.xml, "long", ref));
    EXPECT_EQ(std::lround(m.elev_m * 10), vxs_test::XmlLong(r.xml, "elevation", ref));
    EXPECT_EQ(r.xml.find("<timeStamp>"), std::string::npos);
    EXPECT_EQ(m.moy, -1);
}

TEST(J2735, SignedTimEqualsJpoOdeDecode) {
    VXS_SHARED_OR_SKIP(path, "datasets/v2x/us/jpo-ode/asn1/decoder-output-tim.xml");
    Ref r = Load(path);
    vxs_v2x_msg_t m;
    char err[256] = "";
    ASSERT_EQ(Decode(&m, r.bytes, err, sizeof err), VXS_OK) << err;
    EXPECT_EQ(m.ieee_content, 1); // signed data around unsecured data around the frame
    EXPECT_GT(m.ieee_gen_time_us, 0);
    EXPECT_EQ(m.msg_id, VXS_J2735_TIM);
    EXPECT_TRUE(m.decoded);
    size_t tim = r.xml.find("<TravelerInformation>");
    ASSERT_NE(tim, std::string::npos);
    EXPECT_EQ(m.msg_cnt, vxs_test::XmlLong(r.xml, "msgCnt", tim));
    EXPECT_EQ(m.moy, vxs_test::XmlLong(r.xml, "timeStamp", tim));
    ASSERT_TRUE(m.has_tim_packet_id);
    auto id = vxs_test::HexBytes(vxs_test::XmlText(r.xml, "packetID", tim));
    ASSERT_EQ(id.size(), sizeof m.tim_packet_id);
    EXPECT_EQ(std::memcmp(id.data(), m.tim_packet_id, id.size()), 0);
    // asn1c prints a present urlB as its text ("null" here is the string, not absence)
    EXPECT_EQ(m.tim_has_url, r.xml.find("<urlB>", tim) != std::string::npos);
    EXPECT_EQ(m.tim_frames, (int)All(r.xml, "TravelerDataFrame", tim).size());
}

// Every jpo-ode message, cut at every length: always an error (a MessageFrame's length says
// how many bytes must follow) that names where; with random bit flips: an error or a decode,
// never a crash or a read past the end (ASan).
TEST(J2735, EveryJpoOdeMessageDamaged) {
    for (const char *name : {"bsm", "psm", "spat", "map", "tim", "srm", "ssm", "sdsm"}) {
        std::string rel = std::string("datasets/v2x/us/jpo-ode/asn1/decoder-output-") + name + ".xml";
        VXS_SHARED_OR_SKIP(path, rel);
        Ref r = Load(path);
        ASSERT_GT(r.bytes.size(), 4u) << name;
        vxs_v2x_msg_t m;
        char err[256] = "";
        ASSERT_EQ(Decode(&m, r.bytes, err, sizeof err), VXS_OK) << name << ": " << err;
        // Only cuts into the frame must be errors: jpo-ode's PSM has 15 bytes after its frame,
        // and the signed TIM's signer and signature (not verified, so not walked) follow it.
        size_t need = r.bytes.size(), at = 0;
        if (r.bytes[0] == 0x03) {
            const uint8_t *inner = nullptr;
            size_t inner_len = 0;
            ASSERT_EQ(vxs_v2x_decode_1609dot2(&m, &inner, &inner_len, r.bytes.data(),
                                              r.bytes.size(), err, sizeof err), VXS_OK);
            at = (size_t)(inner - r.bytes.data());
        }
        const uint8_t *f = r.bytes.data() + at;
        need = at + (f[2] < 0x80 ? 3u + f[2] : 4u + ((f[2] & 0x3Fu) << 8 | f[3]));
        ASSERT_LE(need, r.bytes.size()) << name;
        for (size_t n = 0; n < need; n++) {
            std::vector<uint8_t> cut(r.bytes.begin(), r.bytes.begin() + (long)n);
            err[0] = '\0';
            vxs_status_t st = Decode(&m, cut, err, sizeof err);
            EXPECT_NE(st, VXS_OK) << name << " cut at " << n;
            EXPECT_NE(err[0], '\0') << name << " cut at " << n;
        }
        std::mt19937 rng(7);
        for (int i = 0; i < 3000; i++) {
            std::vector<uint8_t> b = r.bytes;
            for (int k = 0; k < 3; k++) b[rng() % b.size()] ^= (uint8_t)(1u << (rng() % 8));
            err[0] = '\0';
            if (Decode(&m, b, err, sizeof err) != VXS_OK) {
                EXPECT_NE(err[0], '\0') << name;
            }
        }
    }
}
