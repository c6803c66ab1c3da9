// fake_world.h: in-memory sources behind the job's opener, and a frame sink that keeps what it
// is given, for the sync tests that run whole jobs without files (job_test.cc,
// clock_truth_test.cc). Every record is made by the test, from a world whose truth it knows.
#ifndef VXS_FAKE_WORLD_H
#define VXS_FAKE_WORLD_H

#include <cstdio>
#include <cstring>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "vxs_sync.h"

namespace vxs_fake {

// FakeSource serves records from memory through the vxs_source_t vtable, honouring the kinds
// mask of rewind; `bad_at` makes it report a bad unit (and skip a record) at that position.
struct FakeSource {
    std::vector<vxs_record_t> recs;
    size_t pos = 0;
    uint32_t kinds = 0;
    vxs_diag_sink_t diag{};
    std::string path;
    long bad_at = -1;
    int rewinds = 0;
    vxs_record_t cur;
};

inline vxs_status_t FsNext(void *impl, const vxs_record_t **out) {
    auto *f = static_cast<FakeSource *>(impl);
    while (f->pos < f->recs.size()) {
        const size_t i = f->pos++;
        if ((long)i == f->bad_at) {
            vxs_diag_t d = {f->path.c_str(), i + 1, 0, VXS_E_MALFORMED, "fake: a bad unit"};
            vxs_diag_emit(&f->diag, &d);
            continue;
        }
        if (f->kinds && !(f->kinds & VXS_REC_KIND_BIT(f->recs[i].kind))) continue;
        f->cur = f->recs[i];
        *out = &f->cur;
        return VXS_OK;
    }
    return VXS_EOF;
}

inline vxs_status_t FsFetch(void *, vxs_buf_t *out, const vxs_record_t *rec) {
    const std::string payload = "payload of " + std::to_string(rec->loc.index);
    return vxs_buf_set(out, payload.data(), payload.size());
}

inline vxs_status_t FsRewind(void *impl, uint32_t kinds) {
    auto *f = static_cast<FakeSource *>(impl);
    f->pos = 0;
    f->kinds = kinds;
    f->rewinds++;
    return VXS_OK;
}

inline uint64_t FsPosition(const void *impl, uint64_t *size) {
    auto *f = static_cast<const FakeSource *>(impl);
    if (size) *size = f->recs.size();
    return f->pos;
}

inline const char *FsErr(const void *) { return ""; }
inline void FsDestroy(void *impl) { delete static_cast<FakeSource *>(impl); }

const vxs_source_ops_t kFakeOps = {"fake", FsNext, FsFetch, FsRewind, FsPosition, FsErr,
                                   FsDestroy};

// World is the opener's state: which sources exist and what to break.
struct World {
    // records(entry, agent id, agent index, source index): the records of a source
    std::function<std::vector<vxs_record_t>(const vxs_manifest_source_t *, const std::string &,
                                            uint32_t, uint32_t)>
        records;
    std::map<std::string, long> bad_at; // path -> record position of a bad unit
    std::string fail_path;              // the opener refuses this one
    std::string empty_path;             // this one has no record at all
    std::vector<FakeSource *> opened;
};

inline vxs_status_t OpenFake(void *user, vxs_source_t **out, const vxs_manifest_t *man,
                      vxs_source_ref_t ref, uint32_t index, const vxs_diag_sink_t *diag,
                      char *err, size_t err_len) {
    auto *w = static_cast<World *>(user);
    const vxs_manifest_source_t *ms = &man->agents[ref.agent].sources[ref.source];
    const std::string agent = man->agents[ref.agent].id, path = ms->path;
    if (path == w->fail_path) {
        snprintf(err, err_len, "%s: cannot open: no such file", ms->path);
        return VXS_E_IO;
    }
    auto *f = new FakeSource;
    f->path = path;
    f->diag = *diag;
    if (w->records) f->recs = w->records(ms, agent, (uint32_t)ref.agent, index);
    if (w->bad_at.count(path)) f->bad_at = w->bad_at[path];
    if (path == w->empty_path) f->recs.clear();
    vxs_status_t st = vxs_source_create(out, &kFakeOps, f);
    if (st != VXS_OK) {
        delete f;
        return st;
    }
    w->opened.push_back(f);
    return VXS_OK;
}

// FakeOptions are job options opening the world's in-memory sources.
inline vxs_job_options_t FakeOptions(World *w) {
    vxs_job_options_t o;
    vxs_job_options_init(&o);
    o.open_source = OpenFake;
    o.open_user = w;
    return o;
}

// Kept is what a sink was given, copied out of the borrowed structures.
struct KeptMember {
    vxs_member_status_t status;
    bool has_record;
    uint64_t item, loc_index;
    vxs_time_t t_local, t_ref;
    uint32_t piece;
    int64_t dt;
    std::string reason;
};
struct KeptMsg {
    uint64_t station;
    int32_t sender_agent;
    vxs_time_t rx_ref, gen_ref, capture, gen;
    uint32_t source, rx_piece;
};
struct KeptFrame {
    uint64_t index;
    vxs_time_t t;
    std::vector<KeptMember> members;
    std::vector<std::vector<KeptMsg>> msgs;        // per V2X source
    std::vector<std::vector<vxs_frame_link_t>> links;
    std::vector<std::string> reasons;
    bool partial;
    std::string payload0; // the first member's payload, fetched
};
struct Kept {
    bool begun = false, finished = false;
    std::vector<std::string> streams, clocks;
    size_t n_sources = 0;
    std::vector<KeptFrame> frames;
    vxs_run_summary_t sum{};
    std::vector<vxs_impossible_msg_t> impossible;
    int fail_at_frame = -1; // frame call that returns VXS_E_IO
    int destroyed = 0;
};

inline vxs_status_t KBegin(void *impl, const vxs_run_info_t *run) {
    auto *k = static_cast<Kept *>(impl);
    k->begun = true;
    k->n_sources = run->n_sources;
    for (size_t i = 0; i < run->n_streams; i++) k->streams.push_back(run->streams[i].name);
    for (size_t i = 0; i < run->clocks->n_clocks; i++) k->clocks.push_back(run->clocks->clocks[i].name);
    return VXS_OK;
}

inline vxs_status_t KFrame(void *impl, const vxs_frame_t *f, const vxs_fetcher_t *fetch) {
    auto *k = static_cast<Kept *>(impl);
    if ((int)k->frames.size() == k->fail_at_frame) return VXS_E_IO;
    KeptFrame kf;
    kf.index = f->index;
    kf.t = f->t;
    kf.partial = f->partial;
    for (size_t i = 0; i < f->n_members; i++) {
        const vxs_frame_member_t *m = &f->members[i];
        kf.members.push_back({m->status, m->record != nullptr, m->item,
                              m->record ? m->record->loc.index : 0, m->t_local, m->t_ref,
                              m->piece, m->dt_ns, m->reason ? m->reason : ""});
    }
    for (size_t v = 0; v < f->n_v2x; v++) {
        std::vector<KeptMsg> ms;
        for (size_t q = 0; q < f->v2x[v].n_msgs; q++) {
            const vxs_frame_msg_t *m = &f->v2x[v].msgs[q];
            ms.push_back({m->station, m->sender_agent, m->rx_ref, m->gen_ref, m->capture, m->gen,
                          m->source, m->rx_piece});
        }
        kf.msgs.push_back(ms);
        kf.links.emplace_back(f->v2x[v].links, f->v2x[v].links + f->v2x[v].n_links);
    }
    for (size_t r = 0; r < f->n_reasons; r++) kf.reasons.push_back(f->reasons[r]);
    if (f->n_members && f->members[0].record) {
        vxs_buf_t b = {};
        const vxs_status_t st = vxs_fetcher_fetch(fetch, &b, f->members[0].record);
        if (st == VXS_OK) kf.payload0.assign(reinterpret_cast<char *>(b.data), b.len);
        vxs_buf_free(&b);
        if (st != VXS_OK) return st; /* a real sink fails on a payload it cannot have */
    }
    k->frames.push_back(kf);
    return VXS_OK;
}

inline vxs_status_t KFinish(void *impl, const vxs_run_summary_t *s) {
    auto *k = static_cast<Kept *>(impl);
    k->finished = true;
    k->sum = *s;
    k->impossible.assign(s->impossible_listed, s->impossible_listed + s->n_impossible_listed);
    return VXS_OK;
}

inline const char *KErr(const void *) { return "kept: cannot write"; }
inline void KDestroy(void *impl) { static_cast<Kept *>(impl)->destroyed++; }

const vxs_frame_sink_ops_t kKeptOps = {"kept", KBegin, KFrame, KFinish, KErr, KDestroy, nullptr};

} // namespace vxs_fake

#endif // VXS_FAKE_WORLD_H
