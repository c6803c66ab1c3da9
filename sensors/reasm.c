/*
 * reasm.c: bounded IPv4 fragment reassembly (vxs_sensors.h §2).
 *
 * specification: RFC 791 §3.2 (reassembly keyed by source, destination, protocol and
 * identification), RFC 815 (hole bookkeeping), RFC 5722 spirit for overlaps: overlapping bytes
 * must agree, else the datagram is dropped (overlap tricks are an evasion pattern).
 *
 * Each pending datagram keeps a sorted list of received, merged byte ranges of its data and a
 * buffer that grows (vxs_realloc) to the highest byte seen, never past reasm_max_bytes: the size
 * check comes before the allocation. The buffer reserves IPV4_HDR bytes in front of the data so a
 * completed datagram becomes a plain IPv4 packet in place and goes through vxs_pkt_decode_ip,
 * exactly like an unfragmented one.
 *
 *   buf: [0:20) rebuilt IPv4 header | [20:20+total) data, fragment offset o at buf[20+o]
 *
 * Dropped datagrams (limit, conflict) are remembered in a small ring of "poisoned" keys for one
 * timeout, so their remaining fragments are swallowed without a second error.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "vxs_sensors.h"

#define IPV4_HDR 20
/* Disjoint received ranges per datagram. A 64 KiB datagram is at most 45 MTU-sized fragments;
 * even shuffled, half of them could leave gaps. More is hostile: the datagram is dropped. */
#define RANGES_MAX 32
/* Poisoned keys remembered; older ones are forgotten first. */
#define POISON_MAX 64

typedef struct {
    uint32_t start, end; /* [start, end) of the datagram's data */
} range_t;

/* key_t identifies a datagram (RFC 791: source, destination, protocol, identification). */
typedef struct {
    uint8_t src[16];
    uint8_t dst[16];
    uint16_t id;
    uint8_t proto;
} dkey_t;

typedef struct {
    bool used;
    dkey_t key;
    vxs_time_t first_ts;
    uint64_t first_index, first_offset;
    uint8_t *buf; /* IPV4_HDR + data, `cap` bytes */
    size_t cap;
    size_t total; /* data length, once the last fragment (MF = 0) arrived */
    bool have_last;
    range_t ranges[RANGES_MAX]; /* sorted by start, disjoint and non-adjacent */
    size_t nranges;
    uint32_t fragments;
    uint32_t bytes;
} dgram_t;

typedef struct {
    dkey_t key;
    vxs_time_t ts;
    bool used;
} poison_t;

struct vxs_reasm {
    vxs_limits_t lim;
    dgram_t *slots; /* grown up to lim.reasm_max_pending */
    size_t nslots;
    poison_t poison[POISON_MAX];
    size_t poison_next;
    uint8_t *done;  /* the last completed datagram, lent through `out` until the next add */
    vxs_reasm_stats_t st;
};

static bool key_eq(const dkey_t *a, const dkey_t *b) {
    return a->id == b->id && a->proto == b->proto && memcmp(a->src, b->src, 16) == 0 &&
           memcmp(a->dst, b->dst, 16) == 0;
}

/* older_than says whether `then` lies more than `timeout` before `now` (overflow-safe). */
static bool older_than(vxs_time_t then, vxs_time_t now, int64_t timeout) {
    if (now == VXS_TIME_NONE) return true;
    if (then == VXS_TIME_NONE || then > now) return false;
    return (uint64_t)now - (uint64_t)then > (uint64_t)(timeout < 0 ? 0 : timeout);
}

#if defined(__GNUC__)
__attribute__((format(printf, 6, 7)))
#endif
static void dgram_err(char *err, size_t err_len, const dkey_t *k, uint64_t index, uint64_t offset,
                      const char *fmt, ...) {
    char s[VXS_ADDR_STRLEN], d[VXS_ADDR_STRLEN];
    va_list ap;
    if (!err || err_len == 0) return;
    vxs_addr_format(s, sizeof s, k->src);
    vxs_addr_format(d, sizeof d, k->dst);
    int n = snprintf(err, err_len,
                     "IPv4 datagram id 0x%04x %s -> %s proto %u (first fragment: packet %llu, "
                     "byte offset %llu): ",
                     k->id, s, d, k->proto, (unsigned long long)index + 1, /* 1-based, as tshark */
                     (unsigned long long)offset);
    size_t used = n < 0 ? 0 : (size_t)n;
    if (used >= err_len) return;
    va_start(ap, fmt);
    vsnprintf(err + used, err_len - used, fmt, ap);
    va_end(ap);
}

static void slot_free(vxs_reasm_t *r, dgram_t *g) {
    r->st.pending_bytes -= g->cap;
    r->st.pending--;
    vxs_free(g->buf);
    memset(g, 0, sizeof *g);
}

static void poison_add(vxs_reasm_t *r, const dkey_t *k, vxs_time_t ts) {
    poison_t *p = &r->poison[r->poison_next];
    r->poison_next = (r->poison_next + 1) % POISON_MAX;
    p->key = *k;
    p->ts = ts;
    p->used = true;
}

static bool poisoned(vxs_reasm_t *r, const dkey_t *k, vxs_time_t ts) {
    for (size_t i = 0; i < POISON_MAX; i++) {
        poison_t *p = &r->poison[i];
        if (!p->used || !key_eq(&p->key, k)) continue;
        /* An id reused after the timeout is a new datagram, not the dropped one. */
        if (ts != VXS_TIME_NONE && older_than(p->ts, ts, r->lim.reasm_timeout_ns)) {
            p->used = false;
            return false;
        }
        return true;
    }
    return false;
}

/* drop forgets a datagram after an error and poisons its key. */
static void drop(vxs_reasm_t *r, dgram_t *g, const dkey_t *k, vxs_time_t ts) {
    poison_add(r, k, g && g->first_ts != VXS_TIME_NONE ? g->first_ts : ts);
    if (g) slot_free(r, g);
    r->st.dropped++;
}

vxs_status_t vxs_reasm_create(vxs_reasm_t **out, const vxs_limits_t *lim) {
    vxs_reasm_t *r;
    if (!out) return VXS_E_ARG;
    *out = NULL;
    r = vxs_calloc(1, sizeof *r);
    if (!r) return VXS_E_NOMEM;
    if (lim)
        r->lim = *lim;
    else
        vxs_limits_default(&r->lim);
    *out = r;
    return VXS_OK;
}

void vxs_reasm_destroy(vxs_reasm_t *r) {
    if (!r) return;
    for (size_t i = 0; i < r->nslots; i++) vxs_free(r->slots[i].buf);
    vxs_free(r->slots);
    vxs_free(r->done);
    vxs_free(r);
}

/* slot_new finds a free slot, growing the slot array (doubling) up to reasm_max_pending.
 * Returns VXS_E_LIMIT when all are pending. */
static vxs_status_t slot_new(vxs_reasm_t *r, dgram_t **out) {
    for (size_t i = 0; i < r->nslots; i++) {
        if (!r->slots[i].used) {
            *out = &r->slots[i];
            return VXS_OK;
        }
    }
    if (r->nslots >= r->lim.reasm_max_pending) return VXS_E_LIMIT;
    size_t n = r->nslots ? r->nslots * 2 : 8;
    if (n > r->lim.reasm_max_pending) n = r->lim.reasm_max_pending;
    dgram_t *s = vxs_realloc(r->slots, n * sizeof *s);
    if (!s) return VXS_E_NOMEM;
    memset(s + r->nslots, 0, (n - r->nslots) * sizeof *s);
    *out = &s[r->nslots];
    r->slots = s;
    r->nslots = n;
    return VXS_OK;
}

/* overlap_agrees checks that the bytes of [s, e) already received equal `data`. */
static bool overlap_agrees(const dgram_t *g, uint32_t s, uint32_t e, const uint8_t *data) {
    for (size_t i = 0; i < g->nranges; i++) {
        uint32_t lo = g->ranges[i].start > s ? g->ranges[i].start : s;
        uint32_t hi = g->ranges[i].end < e ? g->ranges[i].end : e;
        if (lo < hi && memcmp(g->buf + IPV4_HDR + lo, data + (lo - s), hi - lo) != 0)
            return false;
    }
    return true;
}

/* range_add merges [s, e) into the sorted range list; false when that needs more than
 * RANGES_MAX disjoint ranges. Updates the byte count. */
static bool range_add(dgram_t *g, uint32_t s, uint32_t e) {
    range_t nr[RANGES_MAX + 1];
    size_t n = 0, i = 0;
    if (s == e) return true;
    /* ranges wholly before [s, e), not touching it */
    while (i < g->nranges && g->ranges[i].end < s) nr[n++] = g->ranges[i++];
    range_t m = {s, e};
    while (i < g->nranges && g->ranges[i].start <= e) {
        if (g->ranges[i].start < m.start) m.start = g->ranges[i].start;
        if (g->ranges[i].end > m.end) m.end = g->ranges[i].end;
        i++;
    }
    nr[n++] = m;
    while (i < g->nranges) {
        if (n == RANGES_MAX) return false;
        nr[n++] = g->ranges[i++];
    }
    if (n > RANGES_MAX) return false;
    uint32_t bytes = 0;
    for (i = 0; i < n; i++) {
        g->ranges[i] = nr[i];
        bytes += nr[i].end - nr[i].start;
    }
    g->nranges = n;
    g->bytes = bytes;
    return true;
}

/* complete turns a whole datagram into an IPv4 packet in place and decodes it. */
static vxs_status_t complete(vxs_reasm_t *r, dgram_t *g, const vxs_pkt_info_t *frag,
                             vxs_pkt_info_t *out, char *err, size_t err_len) {
    uint8_t *h = g->buf;
    size_t len = IPV4_HDR + g->total;
    /*
     * Rebuilt header (RFC 791 §3.1): version 4, IHL 5, total length, the identification, no
     * flags or offset, TTL 64, protocol, checksum 0 (nothing verifies it), addresses.
     */
    memset(h, 0, IPV4_HDR);
    h[0] = 0x45;
    h[2] = (uint8_t)(len >> 8);
    h[3] = (uint8_t)len;
    h[4] = (uint8_t)(g->key.id >> 8);
    h[5] = (uint8_t)g->key.id;
    h[8] = 64;
    h[9] = g->key.proto;
    memcpy(h + 12, g->key.src + 12, 4);
    memcpy(h + 16, g->key.dst + 12, 4);
    vxs_status_t st = vxs_pkt_decode_ip(out, h, len, len, err, err_len);
    /* Keep the link layer of the completing fragment, so the result reads like a plain frame. */
    out->linktype = frag->linktype;
    out->has_mac = frag->has_mac;
    memcpy(out->src_mac, frag->src_mac, 6);
    memcpy(out->dst_mac, frag->dst_mac, 6);
    out->vlan_count = frag->vlan_count;
    memcpy(out->vlan_ids, frag->vlan_ids, sizeof out->vlan_ids);
    out->ethertype = frag->ethertype;
    out->radio = frag->radio;
    /* Hand the buffer over: it stays valid until the next vxs_reasm_add. */
    vxs_free(r->done);
    r->done = g->buf;
    g->buf = NULL;
    r->st.pending_bytes -= g->cap;
    g->cap = 0;
    return st;
}

vxs_status_t vxs_reasm_add(vxs_reasm_t *r, vxs_pkt_info_t *out, bool *out_done,
                           uint64_t *out_first_index, uint64_t *out_first_offset, vxs_time_t ts,
                           uint64_t index, uint64_t offset, const vxs_pkt_info_t *frag,
                           char *err, size_t err_len) {
    dkey_t k;
    dgram_t *g = NULL;
    vxs_status_t st;
    if (out_done) *out_done = false;
    if (err && err_len) err[0] = '\0';
    if (!r || !frag || !out || frag->kind != VXS_PL_FRAGMENT || frag->ip_version != 4 ||
        (frag->payload == NULL && frag->payload_len != 0))
        return VXS_E_ARG;
    vxs_free(r->done); /* the previous completed datagram's lending ends here */
    r->done = NULL;
    r->st.fragments++;

    memset(&k, 0, sizeof k);
    memcpy(k.src, frag->src_addr, 16);
    memcpy(k.dst, frag->dst_addr, 16);
    k.id = frag->ip_id;
    k.proto = frag->ip_proto;
    if (poisoned(r, &k, ts)) return VXS_OK; /* its error was reported already */

    for (size_t i = 0; i < r->nslots; i++) {
        if (r->slots[i].used && key_eq(&r->slots[i].key, &k)) {
            g = &r->slots[i];
            break;
        }
    }
    uint64_t fi = g && g->first_index < index ? g->first_index : index;
    uint64_t fo = g && g->first_index < index ? g->first_offset : offset;
    size_t s = frag->frag_offset, e = s + frag->payload_len;

    /* Size check before any allocation: the rebuilt datagram (header + data) may not outgrow
     * reasm_max_bytes, nor IPv4's 65535-byte total length. */
    size_t max = r->lim.reasm_max_bytes < 65535 ? r->lim.reasm_max_bytes : 65535;
    if (IPV4_HDR + e > max) {
        dgram_err(err, err_len, &k, fi, fo,
                  "fragment [%zu, %zu) makes the datagram %zu bytes > limit %zu", s, e,
                  IPV4_HDR + e, max);
        drop(r, g, &k, ts);
        return VXS_E_LIMIT;
    }
    if (!g) {
        st = slot_new(r, &g);
        if (st == VXS_E_LIMIT) {
            dgram_err(err, err_len, &k, fi, fo, "%zu datagrams already pending",
                      r->lim.reasm_max_pending);
            drop(r, NULL, &k, ts);
            return VXS_E_LIMIT;
        }
        if (st != VXS_OK) return st;
        /* g is claimed (used = true) only once its buffer exists, so NOMEM leaves no trace. */
    }

    /* A snap-truncated fragment carries fewer bytes than it announced: its data is real but it
     * cannot end the datagram (the datagram then expires and is reported). */
    bool last = !frag->frag_more && !frag->snap_truncated;
    if (g->used) {
        const char *bad = NULL;
        if (last && g->have_last && g->total != e)
            bad = "two different last fragments";
        else if (last && g->nranges && g->ranges[g->nranges - 1].end > e)
            bad = "data past the last fragment's end";
        else if (g->have_last && e > g->total)
            bad = "fragment past the last fragment's end";
        else if (!overlap_agrees(g, (uint32_t)s, (uint32_t)e, frag->payload))
            bad = "overlapping fragments disagree";
        if (bad) {
            dgram_err(err, err_len, &k, fi, fo, "%s (fragment [%zu, %zu))", bad, s, e);
            drop(r, g, &k, ts);
            return VXS_E_MALFORMED;
        }
    }

    if (IPV4_HDR + e > g->cap) {
        /* Grow geometrically, capped at the limit checked above. */
        size_t want = IPV4_HDR + e, cap = g->cap * 2;
        if (cap < want) cap = want;
        if (cap > max) cap = max;
        uint8_t *nb = vxs_realloc(g->buf, cap);
        if (!nb) return VXS_E_NOMEM; /* the datagram stays as it was, without this fragment */
        r->st.pending_bytes += cap - g->cap;
        g->buf = nb;
        g->cap = cap;
    }
    if (!g->used) {
        g->used = true;
        g->key = k;
        g->first_ts = ts;
        g->first_index = index;
        g->first_offset = offset;
        r->st.pending++;
    }
    if (!range_add(g, (uint32_t)s, (uint32_t)e)) {
        dgram_err(err, err_len, &k, fi, fo, "more than %d holes", RANGES_MAX);
        drop(r, g, &k, ts);
        return VXS_E_LIMIT;
    }
    if (e > s) memcpy(g->buf + IPV4_HDR + s, frag->payload, e - s);
    g->fragments++;
    g->first_index = fi;
    g->first_offset = fo;
    if (ts != VXS_TIME_NONE && (g->first_ts == VXS_TIME_NONE || ts < g->first_ts))
        g->first_ts = ts;
    if (last) {
        g->have_last = true;
        g->total = e;
    }
    if (!g->have_last) return VXS_OK;
    if (g->total != 0 &&
        !(g->nranges == 1 && g->ranges[0].start == 0 && g->ranges[0].end == g->total))
        return VXS_OK;

    /* Complete: decode it like an unfragmented packet, then forget the slot. */
    char derr[160];
    st = complete(r, g, frag, out, derr, sizeof derr);
    if (out_first_index) *out_first_index = g->first_index;
    if (out_first_offset) *out_first_offset = g->first_offset;
    if (st != VXS_OK)
        dgram_err(err, err_len, &k, g->first_index, g->first_offset, "reassembled: %s", derr);
    slot_free(r, g);
    if (st != VXS_OK) {
        r->st.dropped++;
        return st;
    }
    r->st.datagrams++;
    if (out_done) *out_done = true;
    return VXS_OK;
}

bool vxs_reasm_pop_expired(vxs_reasm_t *r, vxs_reasm_lost_t *out, vxs_time_t now) {
    dgram_t *best = NULL;
    if (!r || r->st.pending == 0) return false; /* the per-record call is then nearly free */
    /* Report the expired datagram that started earliest in the file, so reports come in order. */
    for (size_t i = 0; i < r->nslots; i++) {
        dgram_t *g = &r->slots[i];
        if (!g->used || !older_than(g->first_ts, now, r->lim.reasm_timeout_ns)) continue;
        if (!best || g->first_index < best->first_index) best = g;
    }
    if (!best) return false;
    if (out) {
        memset(out, 0, sizeof *out);
        out->first_index = best->first_index;
        out->first_offset = best->first_offset;
        out->first_ts = best->first_ts;
        out->ip_id = best->key.id;
        memcpy(out->src_addr, best->key.src, 16);
        memcpy(out->dst_addr, best->key.dst, 16);
        out->fragments = best->fragments;
        out->bytes = best->bytes;
    }
    slot_free(r, best);
    r->st.expired++;
    return true;
}

void vxs_reasm_get_stats(const vxs_reasm_t *r, vxs_reasm_stats_t *out) {
    if (!out) return;
    memset(out, 0, sizeof *out);
    if (r) *out = r->st;
}
