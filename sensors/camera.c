/*
 * camera.c: the camera reader of vxs_camera.h. libavformat demuxes; the index pass never
 * decodes. Image-sequence folders are handled at the end of this file (section "folders").
 *
 * Presentation order. Demuxers return packets in decode order; with B-frames a frame is
 * decoded before frames shown before it. The window (`win`) holds packets sorted by pts; once
 * it holds W + 1 the smallest leaves. A frame's duration is the next frame's pts minus its
 * own, so the next frame must already be in the window when a frame leaves: that is why the
 * window holds one more than W. MPEG-style reordering is a B-frame run deep (2..16 in
 * practice); W = 32 by default.
 *
 * Three demuxers may be open on one file, each with its own position: the index pass, the
 * decoder (fetches may interleave with the index pass) and the index -> pts cursor of
 * vxs_camera_fetch_rgb_index. The pre-scan (END convention, sidecar count) is a fourth, closed
 * before open returns.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/log.h>
#include <libavutil/mathematics.h>
#include <libavutil/pixdesc.h>
#include <libswscale/swscale.h>

#include "vxs_camera.h"
#include "av_int.h"
#include "vxs_core.h"
#include "vxs_core_int.h"

#define ERR_LEN 1024
#define DEFAULT_WINDOW 32
#define AVIO_BUF_LEN 32768
#define PROBE_BYTES 5000000    /* headerless formats: how much avformat_find_stream_info reads */
#define NEAR_NS 5000000000LL   /* without a seek index, decode forward up to this far */
#define MAX_SEEK_TRIES 4
#define MAX_IMAGES 10000000u   /* files in one folder */
#define IMG_HEAD_LEN 262144    /* bytes read to find a PNG IHDR / JPEG SOF */
#define SIDECAR_LINE 4096     /* longest sidecar line (a CSV row) */
#define SIDECAR_FIELDS 64     /* fields of a CSV row told apart; the last keeps the rest */

#if defined(__GNUC__)
#define VXS_PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#define VXS_PRINTF(a, b)
#endif

static const AVRational k_ns = {1, 1000000000};

/* Timestamps come from the file: arithmetic on them saturates instead of overflowing. */
static int64_t sadd(int64_t a, int64_t b) {
    int64_t r;
    if (__builtin_add_overflow(a, b, &r)) return b > 0 ? INT64_MAX : INT64_MIN;
    return r;
}
static int64_t ssub(int64_t a, int64_t b) {
    int64_t r;
    if (__builtin_sub_overflow(a, b, &r)) return b < 0 ? INT64_MAX : INT64_MIN;
    return r;
}

/* ==== memory AVIO ========================================================================== */

typedef struct {
    const uint8_t *p;
    size_t len;
    size_t pos;
} memio_t;

static int mem_read(void *opaque, uint8_t *buf, int n) {
    memio_t *m = opaque;
    size_t k;
    if (n <= 0) return 0;
    if (m->pos >= m->len) return AVERROR_EOF;
    k = m->len - m->pos;
    if (k > (size_t)n) k = (size_t)n;
    memcpy(buf, m->p + m->pos, k);
    m->pos += k;
    return (int)k;
}

static int64_t mem_seek(void *opaque, int64_t off, int whence) {
    memio_t *m = opaque;
    int64_t base;
    if (whence & AVSEEK_SIZE) return (int64_t)m->len;
    whence &= ~AVSEEK_FORCE;
    if (whence == SEEK_SET)
        base = 0;
    else if (whence == SEEK_CUR)
        base = (int64_t)m->pos;
    else if (whence == SEEK_END)
        base = (int64_t)m->len;
    else
        return AVERROR(EINVAL);
    /* Hostile offsets: compare before adding, never let pos leave [0, len]. */
    if (off < -base || off > (int64_t)m->len - base) return AVERROR(EINVAL);
    m->pos = (size_t)(base + off);
    return (int64_t)m->pos;
}

/* A container read from memory must not open anything else (HLS playlists, concat lists,
 * image2 patterns would reach the file system). */
static int deny_io_open(struct AVFormatContext *s, AVIOContext **pb, const char *url, int flags,
                        AVDictionary **options) {
    (void)s, (void)pb, (void)url, (void)flags, (void)options;
    return AVERROR(EPERM);
}

/* ==== demuxer ============================================================================== */

typedef struct {
    AVFormatContext *fc;
    AVIOContext *avio; /* memory mode only */
    memio_t mem;
    AVStream *st;
    int vi;
} demux_t;

static void demux_close(demux_t *d) {
    if (!d) return;
    avformat_close_input(&d->fc);
    if (d->avio) {
        av_freep(&d->avio->buffer);
        avio_context_free(&d->avio);
    }
    memset(d, 0, sizeof *d);
}

/* demux_hint_t is what the first open of an input found, for the next opens of the same input:
 * a camera opens it up to four times (index pass, prescan, decoder, index cursor), and neither
 * probing the format (the first bytes offered to every demuxer FFmpeg has) nor
 * avformat_find_stream_info (packets read and decoded, up to PROBE_BYTES) need run again to
 * find the same answer. */
typedef struct {
    const AVInputFormat *fmt;      /* the container format */
    const AVCodecParameters *par;  /* the video stream's parameters once complete */
} demux_hint_t;

/* demux_open opens `path` (or `len` bytes at `data` when data is set) and selects the first
 * video stream that is not a cover picture; the other streams are discarded by the demuxer.
 * `hint` (NULL on the first open) is what the first open of the same input found. */
static vxs_status_t demux_open(demux_t *d, const char *path, const uint8_t *data, size_t len,
                               const demux_hint_t *hint, char *err, size_t err_len) {
    AVDictionary *opts = NULL;
    char av[AV_ERROR_MAX_STRING_SIZE];
    int rc;
    memset(d, 0, sizeof *d);
    d->vi = -1;
    /* Our messages carry file and position; FFmpeg's own lines would repeat them without. */
    av_log_set_level(AV_LOG_QUIET);
    d->fc = avformat_alloc_context();
    if (!d->fc) goto nomem;
    if (data) {
        uint8_t *buf = av_malloc(AVIO_BUF_LEN);
        if (!buf) goto nomem;
        d->mem.p = data;
        d->mem.len = len;
        d->avio = avio_alloc_context(buf, AVIO_BUF_LEN, 0, &d->mem, mem_read, NULL, mem_seek);
        if (!d->avio) {
            av_free(buf);
            goto nomem;
        }
        d->fc->pb = d->avio;
        d->fc->flags |= AVFMT_FLAG_CUSTOM_IO;
        d->fc->io_open = deny_io_open;
    } else {
        av_dict_set(&opts, "protocol_whitelist", "file", 0);
    }
    rc = avformat_open_input(&d->fc, data ? "" : path, hint ? hint->fmt : NULL, &opts);
    av_dict_free(&opts);
    if (rc < 0) {
        /* avformat_open_input freed fc; the custom AVIO stays ours (demux_close). */
        av_strerror(rc, av, sizeof av);
        vxsi_fmt(err, err_len, "%s: cannot open as a video container: %s", path, av);
        demux_close(d);
        return (rc == AVERROR(ENOENT) || rc == AVERROR(EACCES) || rc == AVERROR(EISDIR) ||
                rc == AVERROR(EIO))
                   ? VXS_E_IO
                   : VXS_E_UNSUPPORTED;
    }
    for (unsigned i = 0; i < d->fc->nb_streams; i++) {
        AVStream *s = d->fc->streams[i];
        if (d->vi < 0 && s->codecpar->codec_type == AVMEDIA_TYPE_VIDEO &&
            !(s->disposition & AV_DISPOSITION_ATTACHED_PIC))
            d->vi = (int)i;
        else
            s->discard = AVDISCARD_ALL;
    }
    if (d->vi < 0) {
        vxsi_fmt(err, err_len, "%s: no video stream", path);
        demux_close(d);
        return VXS_E_UNSUPPORTED;
    }
    d->st = d->fc->streams[d->vi];
    /* MP4/MKV/AVI headers carry codec and size. Headerless formats (MPEG-TS, raw streams) need
     * avformat_find_stream_info, which parses the first packets: bounded to 1 s and 5 MB. */
    if (d->st->codecpar->codec_id == AV_CODEC_ID_NONE || d->st->codecpar->width == 0) {
        if (hint && hint->par) {
            if (avcodec_parameters_copy(d->st->codecpar, hint->par) < 0) goto nomem;
        } else {
            d->fc->max_analyze_duration = AV_TIME_BASE;
            d->fc->probesize = PROBE_BYTES;
            (void)avformat_find_stream_info(d->fc, NULL); /* failure only loses codec params */
        }
    }
    if (d->st->time_base.num <= 0 || d->st->time_base.den <= 0) {
        vxsi_fmt(err, err_len, "%s: video stream has an invalid time base %d/%d", path,
                 d->st->time_base.num, d->st->time_base.den);
        demux_close(d);
        return VXS_E_MALFORMED;
    }
    return VXS_OK;
nomem:
    av_dict_free(&opts);
    vxsi_fmt(err, err_len, "%s: out of memory", path);
    demux_close(d);
    return VXS_E_NOMEM;
}

/* ==== the index iterator: packets in decode order -> frames in presentation order ========== */

typedef struct {
    int64_t pts, dts, dur, pos;
    uint32_t size;
    bool key, from_dts, late;
} fr_t;

typedef struct {
    demux_t dm;
    AVPacket *pkt;
    const char *name; /* borrowed from the camera */
    size_t max_packet;
    fr_t *win;        /* sorted by pts; equal pts keep demux order */
    size_t n, w;
    fr_t pend;        /* an I/P packet without pts waiting for the next one (MPEG rule) */
    bool have_pend;
    bool read_done;
    vxs_status_t read_err; /* damage found while reading, returned once the window drained */
    uint64_t err_offset;
    char read_msg[ERR_LEN / 2];
    uint64_t demuxed;      /* video packets read */
    int64_t max_pts;       /* largest pts demuxed so far */
    bool any_pts;
    int64_t last_out;      /* pts of the last frame out */
    bool have_out;
    int64_t last_ts, last_dur; /* for a packet with neither pts nor dts */
    int64_t good_end;      /* byte offset just past the last good packet */
    int64_t min_pts, max_end; /* earliest pts, latest pts + duration */
    /* what the last call reported, for the camera's messages */
    uint64_t bad_packet;   /* packet number (from 1) of a bad packet */
    uint64_t bad_offset;
    char msg[ERR_LEN / 2];
    uint64_t missing_pts, reordered, late;
} iter_t;

static void iter_close(iter_t *it) {
    if (!it) return;
    av_packet_free(&it->pkt);
    demux_close(&it->dm);
    vxs_free(it->win);
    vxs_free(it);
}

static vxs_status_t iter_open(iter_t **out, const char *path, const uint8_t *data, size_t len,
                              const demux_hint_t *hint, size_t window, size_t max_packet,
                              char *err, size_t err_len) {
    vxs_status_t st;
    iter_t *it = vxs_calloc(1, sizeof *it);
    *out = NULL;
    if (!it) {
        vxsi_fmt(err, err_len, "%s: out of memory", path);
        return VXS_E_NOMEM;
    }
    it->name = path;
    it->w = window;
    it->max_packet = max_packet;
    it->win = vxs_calloc(window + 2, sizeof *it->win);
    it->pkt = av_packet_alloc();
    if (!it->win || !it->pkt) {
        iter_close(it);
        vxsi_fmt(err, err_len, "%s: out of memory", path);
        return VXS_E_NOMEM;
    }
    st = demux_open(&it->dm, path, data, len, hint, err, err_len);
    if (st != VXS_OK) {
        iter_close(it);
        return st;
    }
    *out = it;
    return VXS_OK;
}

static void win_insert(iter_t *it, const fr_t *f) {
    size_t i = it->n;
    /* Insertion from the end: packets mostly arrive in pts order, so this is O(1) usually. */
    while (i > 0 && it->win[i - 1].pts > f->pts) {
        it->win[i] = it->win[i - 1];
        i--;
    }
    it->win[i] = *f;
    it->n++;
    if (it->any_pts && f->pts < it->max_pts) it->reordered++;
    if (!it->any_pts || f->pts > it->max_pts) it->max_pts = f->pts;
    if (!it->any_pts || f->pts < it->min_pts) it->min_pts = f->pts;
    if (!it->any_pts || sadd(f->pts, f->dur) > it->max_end) it->max_end = sadd(f->pts, f->dur);
    it->any_pts = true;
    it->last_ts = f->pts;
    if (f->dur > 0) it->last_dur = f->dur;
}

/* set_damage records that reading stopped early; the error is returned after the window is
 * drained, so every frame read before the damage is still yielded. */
static void set_damage(iter_t *it, vxs_status_t st, uint64_t offset, const char *fmt, ...)
    VXS_PRINTF(4, 5);
static void set_damage(iter_t *it, vxs_status_t st, uint64_t offset, const char *fmt, ...) {
    va_list ap;
    it->read_done = true;
    it->read_err = st;
    it->err_offset = offset;
    va_start(ap, fmt);
    vsnprintf(it->read_msg, sizeof it->read_msg, fmt, ap);
    va_end(ap);
}

static void check_end(iter_t *it) {
    const AVStream *st = it->dm.st;
    int64_t size = it->dm.fc->pb ? avio_size(it->dm.fc->pb) : -1;
    uint64_t at = size >= 0 ? (uint64_t)size : (uint64_t)it->good_end;
    /* A cut MP4 or AVI rarely fails to read: the demuxer meets the end of the file while the
     * header still promises samples. The header's frame count exposes it. */
    if (st->nb_frames > 0 && it->demuxed < (uint64_t)st->nb_frames) {
        set_damage(it, VXS_E_TRUNCATED, at,
                   "truncated: %" PRIu64 " of %" PRId64 " video packets read "
                   "(last good packet ends at byte offset %" PRId64 ")",
                   it->demuxed, st->nb_frames, it->good_end);
        return;
    }
    /* MKV and TS carry no frame count, and a cut Matroska cluster ends without an error. Their
     * duration (MKV: the Segment's Duration element; TS: estimated from the last pts) exposes
     * it: the frames read must reach it within half a frame (MKV stores milliseconds). */
    if (st->nb_frames <= 0 && it->any_pts && it->dm.fc->duration > 0 &&
        it->dm.fc->duration != AV_NOPTS_VALUE &&
        it->dm.fc->duration_estimation_method != AVFMT_DURATION_FROM_BITRATE) {
        const AVRational us = {1, AV_TIME_BASE};
        int64_t got = av_rescale_q(ssub(it->max_end, it->min_pts), st->time_base, us);
        int64_t tol = av_rescale_q(it->last_dur, st->time_base, us) / 2 + 2000;
        if (got < ssub(it->dm.fc->duration, tol)) {
            set_damage(it, VXS_E_TRUNCATED, at,
                       "truncated: the video packets read end at %.3f s but the container "
                       "declares %.3f s (last good packet ends at byte offset %" PRId64 ")",
                       (double)got / 1e6, (double)it->dm.fc->duration / 1e6, it->good_end);
            return;
        }
    }
    it->read_done = true;
}

/* iter_fill reads one packet into the window. VXS_OK when something happened (a packet was
 * added, held, skipped, or the end was reached), or an error for a bad packet. */
static vxs_status_t iter_fill(iter_t *it) {
    AVPacket *pkt = it->pkt;
    fr_t f;
    int rc = av_read_frame(it->dm.fc, pkt);
    if (rc == AVERROR_EOF) {
        check_end(it);
        return VXS_OK;
    }
    if (rc < 0) {
        char av[AV_ERROR_MAX_STRING_SIZE];
        int64_t at = it->dm.fc->pb ? avio_tell(it->dm.fc->pb) : -1;
        if (at < 0) at = it->good_end;
        av_strerror(rc, av, sizeof av);
        set_damage(it, rc == AVERROR_INVALIDDATA ? VXS_E_MALFORMED : VXS_E_TRUNCATED,
                   (uint64_t)at, "reading stopped after %" PRIu64 " video packets: %s",
                   it->demuxed, av);
        return VXS_OK;
    }
    if (pkt->stream_index != it->dm.vi) {
        av_packet_unref(pkt);
        return VXS_OK;
    }
    it->demuxed++;
    memset(&f, 0, sizeof f);
    f.pos = pkt->pos >= 0 ? pkt->pos : 0;
    f.size = pkt->size > 0 ? (uint32_t)pkt->size : 0;
    f.key = (pkt->flags & AV_PKT_FLAG_KEY) != 0;
    f.dur = pkt->duration > 0 ? pkt->duration : 0;
    f.dts = pkt->dts;
    it->bad_packet = it->demuxed;
    it->bad_offset = (uint64_t)f.pos;
    if (pkt->flags & AV_PKT_FLAG_CORRUPT) {
        av_packet_unref(pkt);
        vxsi_fmt(it->msg, sizeof it->msg, "packet marked corrupt by the demuxer; skipped");
        return VXS_E_MALFORMED;
    }
    if ((size_t)f.size > it->max_packet) {
        av_packet_unref(pkt);
        vxsi_fmt(it->msg, sizeof it->msg, "packet of %u bytes exceeds the limit of %zu; skipped",
                 f.size, it->max_packet);
        return VXS_E_LIMIT;
    }
    /* Packets an edit list cuts away are decoded but never shown: not frames. */
    if (pkt->flags & AV_PKT_FLAG_DISCARD) {
        av_packet_unref(pkt);
        return VXS_OK;
    }
    if (pkt->pos >= 0) it->good_end = pkt->pos + pkt->size;
    if (pkt->pts != AV_NOPTS_VALUE) {
        f.pts = pkt->pts;
        av_packet_unref(pkt);
        win_insert(it, &f);
        return VXS_OK;
    }
    av_packet_unref(pkt);
    it->missing_pts++;
    if (f.dts != AV_NOPTS_VALUE) {
        /* MPEG rule: an I or P frame is shown when the next I or P frame is decoded, so it
         * takes that frame's dts. Without B-frames this shifts every frame by one, which the
         * relative device time cancels. */
        f.from_dts = true;
        if (it->have_pend) {
            it->pend.pts = f.dts;
            win_insert(it, &it->pend);
        }
        it->pend = f;
        it->have_pend = true;
        return VXS_OK;
    }
    if (it->any_pts && it->last_dur > 0) {
        f.pts = sadd(it->last_ts, it->last_dur);
        f.from_dts = true;
        win_insert(it, &f);
        vxsi_fmt(it->msg, sizeof it->msg,
                 "packet has neither pts nor dts; time extrapolated from the previous packet");
        return VXS_E_MALFORMED;
    }
    vxsi_fmt(it->msg, sizeof it->msg, "packet has neither pts nor dts; skipped");
    return VXS_E_MALFORMED;
}

/* iter_next yields the next frame in presentation order into *out with its duration. Returns
 * VXS_OK, an error for a bad packet (it->msg, it->bad_packet, it->bad_offset; call again), the
 * damage error once (it->read_msg, it->err_offset), then VXS_EOF. */
static vxs_status_t iter_next(iter_t *it, fr_t *out) {
    for (;;) {
        if (it->n > it->w || (it->read_done && it->n > 0)) {
            *out = it->win[0];
            it->n--;
            memmove(it->win, it->win + 1, it->n * sizeof *it->win);
            if (it->n > 0)
                out->dur = ssub(it->win[0].pts, out->pts);
            else if (it->have_pend && it->pend.dts != AV_NOPTS_VALUE && it->pend.dts > out->pts)
                out->dur = ssub(it->pend.dts, out->pts);
            out->late = it->have_out && out->pts < it->last_out;
            if (out->late) it->late++;
            it->last_out = out->pts;
            it->have_out = true;
            return VXS_OK;
        }
        if (it->read_done) {
            if (it->have_pend) {
                /* The last I/P frame is shown after every frame decoded before it (the B-frames
                 * that follow it in the file): one frame after the largest time seen. */
                int64_t after = it->pend.dts;
                if (it->any_pts && it->max_pts > after) after = it->max_pts;
                it->have_pend = false;
                it->pend.pts = sadd(after, it->pend.dur > 0 ? it->pend.dur : it->last_dur);
                win_insert(it, &it->pend);
                continue;
            }
            if (it->read_err != VXS_OK) {
                vxs_status_t st = it->read_err;
                it->read_err = VXS_OK;
                return st;
            }
            return VXS_EOF;
        }
        VXS_FORWARD(iter_fill(it));
    }
}

/* sidecar_t reads a timestamps sidecar: one frame per meaningful line, the time in one column.
 * The layout (delimiter, time column, header) is decided on the first meaningful line and kept
 * when the file is read again. */
typedef struct {
    FILE *fp;
    char *path;
    vxs_cam_unit_t unit;  /* AUTO until the first value decides */
    uint64_t line;        /* lines read so far (blank and comment lines included) */
    bool layout;          /* delim, col and header_line decided */
    char delim;           /* ',', ';', '\t', or 0: the whole line is the value */
    int col;              /* the time's field, from 0 */
    uint64_t header_line; /* the header's line number, 0 if none */
} sidecar_t;

/* ==== the camera =========================================================================== */

typedef struct {
    char *name;    /* file name, owned */
    int64_t key;   /* index, or ns since 1970 */
    bool is_time;
} img_t;

struct vxs_camera {
    char *path;                /* owned; names the camera in every message */
    const uint8_t *mem;        /* memory mode: borrowed bytes */
    size_t mem_len;
    bool imgseq;
    vxs_camera_options_t opt;  /* sidecar pointer cleared: borrowed for open only */
    vxs_limits_t limits;
    vxs_diag_sink_t diag;
    iter_t *it;                /* index pass */
    demux_hint_t hint;         /* what the first open found; hint.par is par */
    AVCodecParameters *par;
    vxs_camera_info_t info;
    int64_t first_pts;         /* pts of frame 0 */
    bool have_first;
    int64_t prev_pts;
    vxs_time_t rt_start;       /* container absolute start, ns */
    sidecar_t sc;              /* sc.fp NULL: no sidecar */
    /* decoder (video) */
    demux_t dec_dm;
    bool dec_open;
    AVCodecContext *cc;
    AVPacket *dpkt;
    AVFrame *frm;
    struct SwsContext *sws;
    bool positioned, have_frame, eof_sent;
    int64_t dec_last;          /* pts of the last frame the decoder gave */
    /* index -> pts cursor */
    iter_t *cur;
    uint64_t cur_next;         /* index the cursor yields next */
    uint64_t cur_last_index;
    int64_t cur_last_pts;
    bool cur_have_last;
    /* folders */
    img_t *imgs;
    size_t n_imgs;
    size_t img_next;
    uint8_t *head;             /* IMG_HEAD_LEN bytes for header parsing */
    /* output */
    vxs_record_t rec;
    vxs_camera_frame_info_t fi;
    bool have_fi;
    vxs_camera_counts_t counts;
    char errmsg[ERR_LEN];
};

const char *vxs_cam_time_source_name(vxs_cam_time_source_t s) {
    switch (s) {
    case VXS_CAM_TIME_NONE: return "none";
    case VXS_CAM_TIME_SIDECAR: return "sidecar";
    case VXS_CAM_TIME_CONTAINER: return "container";
    case VXS_CAM_TIME_CREATION_START: return "creation_time_start";
    case VXS_CAM_TIME_CREATION_END: return "creation_time_end";
    case VXS_CAM_TIME_SCENARIO: return "scenario";
    case VXS_CAM_TIME_FILENAME: return "filename";
    }
    return "unknown";
}

void vxs_camera_options_init(vxs_camera_options_t *o) {
    if (!o) return;
    memset(o, 0, sizeof *o);
    o->sidecar_unit = VXS_CAM_UNIT_AUTO;
    o->creation = VXS_CAM_CREATION_END;
    o->offset = VXS_TIME_NONE;
}

/* report formats "path: where: detail" into errmsg and sends it to the diag sink. `unit` counts
 * from 1 (0: not inside a unit). */
static void report(vxs_camera_t *c, const char *where, uint64_t unit, uint64_t offset,
                   vxs_status_t st, const char *fmt, ...) VXS_PRINTF(6, 7);
static void report(vxs_camera_t *c, const char *where, uint64_t unit, uint64_t offset,
                   vxs_status_t st, const char *fmt, ...) {
    char detail[ERR_LEN / 2];
    va_list ap;
    vxs_diag_t d;
    va_start(ap, fmt);
    vsnprintf(detail, sizeof detail, fmt, ap);
    va_end(ap);
    if (where && where[0])
        vxsi_fmt(c->errmsg, sizeof c->errmsg, "%s: %s: %s", c->path, where, detail);
    else
        vxsi_fmt(c->errmsg, sizeof c->errmsg, "%s: %s", c->path, detail);
    d.file = c->path;
    d.unit = unit;
    d.offset = offset;
    d.status = st;
    d.msg = c->errmsg;
    vxs_diag_emit(&c->diag, &d);
}

/* ---- sidecar ---- */

static int64_t unit_ns(vxs_cam_unit_t u) {
    switch (u) {
    case VXS_CAM_UNIT_S: return 1000000000;
    case VXS_CAM_UNIT_MS: return 1000000;
    case VXS_CAM_UNIT_US: return 1000;
    default: return 1;
    }
}

/* parse_number parses "123" or "123.456" (no sign) as an integer part and a fraction scaled to
 * `scale` (the unit's ns). *ip_out gets the integer part, for unit detection. */
static bool parse_number(const char *s, int64_t scale, vxs_time_t *out, int64_t *ip_out) {
    int64_t ip = 0, frac = 0, fscale = 1;
    int digits = 0;
    if (!isdigit((unsigned char)*s)) return false;
    while (isdigit((unsigned char)*s)) {
        if (ip > (INT64_MAX - 9) / 10) return false;
        ip = ip * 10 + (*s++ - '0');
    }
    if (*s == '.') {
        s++;
        while (isdigit((unsigned char)*s)) {
            if (digits < 9) { /* ns of a second; more digits are below the resolution */
                frac = frac * 10 + (*s - '0');
                fscale *= 10;
                digits++;
            }
            s++;
        }
    }
    if (*s != '\0') return false;
    if (ip_out) *ip_out = ip;
    if (scale <= 0) return true; /* detection only */
    if (ip > INT64_MAX / scale) return false;
    *out = ip * scale + frac * scale / fscale; /* frac < 1e9, scale <= 1e9: no overflow */
    return true;
}

static vxs_cam_unit_t detect_unit(int64_t ip) {
    if (ip < 100000000000LL) return VXS_CAM_UNIT_S;
    if (ip < 100000000000000LL) return VXS_CAM_UNIT_MS;
    if (ip < 100000000000000000LL) return VXS_CAM_UNIT_US;
    return VXS_CAM_UNIT_NS;
}


/* split_fields cuts `s` at `delim` (0: one field) into at most SIDECAR_FIELDS fields, each
 * trimmed of blanks and of one pair of surrounding double quotes; the last field keeps the rest
 * of the line. Returns the count. */
static int split_fields(char *s, char delim, char **f) {
    int n = 0;
    for (;;) {
        char *end = delim && n + 1 < SIDECAR_FIELDS ? strchr(s, delim) : NULL;
        char *e;
        if (end) *end = '\0';
        while (*s == ' ' || *s == '\t') s++;
        e = s + strlen(s);
        while (e > s && isspace((unsigned char)e[-1])) *--e = '\0';
        if (e - s >= 2 && s[0] == '"' && e[-1] == '"') {
            *--e = '\0';
            s++;
        }
        f[n++] = s;
        if (!end) return n;
        s = end + 1;
    }
}

/* field_time parses a "YYYY-MM-DD HH:MM:SS.fraction" time (KITTI; the logging PC's clock, taken
 * as UTC) or a number. With `sc` NULL it only says whether the field is one and sets *absolute
 * when it is a date or a number of at least 1e8 (a Unix time after 1973 in any unit); otherwise
 * the first number decides sc->unit (AUTO) and *out is set. */
static bool field_time(sidecar_t *sc, const char *s, vxs_time_t *out, bool *absolute) {
    vxs_time_t t;
    int64_t ip = 0;
    if (strchr(s, '-') && strchr(s, ':')) {
        if (vxs_time_parse(&t, s) != VXS_OK) return false;
        if (absolute) *absolute = true;
        if (out) *out = t;
        return true;
    }
    if (!parse_number(s, 0, &t, &ip)) return false;
    if (absolute) *absolute = ip >= 100000000;
    if (!sc) return true;
    if (sc->unit == VXS_CAM_UNIT_AUTO) sc->unit = detect_unit(ip);
    return parse_number(s, unit_ns(sc->unit), out, NULL);
}

/* names_time says whether a header field names a time column ("stamp" or "time" in it, any
 * case): 2 for "stamp" (a sensor stamp, preferred: ROS's field.header.stamp over %time), 1 for
 * "time", 0 otherwise. */
static int names_time(const char *s) {
    char low[SIDECAR_LINE];
    size_t k = 0;
    for (; s[k] && k + 1 < sizeof low; k++) low[k] = (char)tolower((unsigned char)s[k]);
    low[k] = '\0';
    return strstr(low, "stamp") ? 2 : strstr(low, "time") ? 1 : 0;
}

/* sidecar_layout decides the layout from the first meaningful line (its fields f, n of them,
 * cut at sc->delim). Returns true when the line is a header (no value in it). */
static vxs_status_t sidecar_layout(sidecar_t *sc, char **f, int n, bool *header, char *err,
                                   size_t err_len) {
    int first = -1, first_abs = -1, named = -1, best = 0;
    for (int k = 0; k < n; k++) {
        bool abs_time = false;
        if (field_time(NULL, f[k], NULL, &abs_time)) {
            if (first < 0) first = k;
            if (abs_time && first_abs < 0) first_abs = k;
        }
        int w = names_time(f[k]);
        if (w > best) {
            best = w;
            named = k;
        }
    }
    sc->layout = true;
    *header = first < 0;
    if (first >= 0) {
        /* No header: the first column that holds an absolute time (a frame number is not one),
         * else the first that holds a number. */
        sc->col = first_abs >= 0 ? first_abs : first;
        return VXS_OK;
    }
    if (named >= 0) {
        sc->col = named;
        sc->header_line = sc->line;
        return VXS_OK;
    }
    if (n == 1)
        vxsi_fmt(err, err_len,
                 "%s: line %" PRIu64 ": \"%.60s\" is neither a \"YYYY-MM-DD HH:MM:SS.fraction\" "
                 "time nor a number",
                 sc->path, sc->line, f[0]);
    else
        vxsi_fmt(err, err_len,
                 "%s: line %" PRIu64 ": no field is a time (\"YYYY-MM-DD HH:MM:SS.fraction\" or a "
                 "number) and none names one (a header field with \"time\" or \"stamp\" in it)",
                 sc->path, sc->line);
    return VXS_E_MALFORMED;
}

/* sidecar_read reads the next frame's time into *out. VXS_EOF at the end; errors name the file
 * and line. Blank lines, '#' comments and the header are skipped. */
static vxs_status_t sidecar_read(sidecar_t *sc, vxs_time_t *out, char *err, size_t err_len) {
    char line[SIDECAR_LINE];
    char *f[SIDECAR_FIELDS];
    for (;;) {
        char *s;
        size_t n;
        if (!fgets(line, sizeof line, sc->fp)) {
            if (ferror(sc->fp)) {
                vxsi_fmt(err, err_len, "%s: line %" PRIu64 ": read error", sc->path,
                         sc->line + 1);
                return VXS_E_IO;
            }
            return VXS_EOF;
        }
        sc->line++;
        n = strlen(line);
        if (n == sizeof line - 1 && line[n - 1] != '\n' && !feof(sc->fp)) {
            vxsi_fmt(err, err_len, "%s: line %" PRIu64 ": longer than %d bytes", sc->path,
                     sc->line, SIDECAR_LINE - 2);
            return VXS_E_MALFORMED;
        }
        s = line;
        if (sc->line == 1 && memcmp(s, "\xEF\xBB\xBF", 3) == 0) s += 3; /* UTF-8 BOM (Excel) */
        while (*s == ' ' || *s == '\t') s++;
        if (*s == '\0' || *s == '\n' || *s == '\r' || *s == '#') continue;
        if (sc->line == sc->header_line) continue;
        if (!sc->layout) {
            bool header;
            for (const char *d = s; *d && !sc->delim; d++)
                if (*d == ',' || *d == ';' || *d == '\t') sc->delim = *d;
            int nf = split_fields(s, sc->delim, f);
            VXS_FORWARD(sidecar_layout(sc, f, nf, &header, err, err_len));
            if (header) continue;
            if (field_time(sc, f[sc->col], out, NULL)) return VXS_OK;
            s = f[sc->col];
        } else {
            int nf = split_fields(s, sc->delim, f);
            if (sc->col >= nf) {
                vxsi_fmt(err, err_len, "%s: line %" PRIu64 ": no field %d (the time column)",
                         sc->path, sc->line, sc->col + 1);
                return VXS_E_MALFORMED;
            }
            if (field_time(sc, f[sc->col], out, NULL)) return VXS_OK;
            s = f[sc->col];
        }
        if (sc->delim)
            vxsi_fmt(err, err_len,
                     "%s: line %" PRIu64 ": field %d, \"%.60s\", is neither a \"YYYY-MM-DD "
                     "HH:MM:SS.fraction\" time nor a number",
                     sc->path, sc->line, sc->col + 1, s);
        else
            vxsi_fmt(err, err_len,
                     "%s: line %" PRIu64 ": \"%.60s\" is neither a \"YYYY-MM-DD HH:MM:SS.fraction\" "
                     "time nor a number",
                     sc->path, sc->line, s);
        return VXS_E_MALFORMED;
    }
}

static void sidecar_close(sidecar_t *sc) {
    if (sc->fp) fclose(sc->fp);
    vxs_free(sc->path);
    memset(sc, 0, sizeof *sc);
}

/* sidecar_open opens and validates the whole sidecar, counts its frame lines into *count, and
 * leaves it rewound for the index pass. The caller sidecar_close()s it whatever the result. */
static vxs_status_t sidecar_open(sidecar_t *sc, const char *path, vxs_cam_unit_t unit,
                                 uint64_t *count, char *err, size_t err_len) {
    vxs_time_t t;
    vxs_status_t st;
    memset(sc, 0, sizeof *sc);
    *count = 0;
    sc->unit = unit;
    sc->path = vxs_strdup(path);
    if (!sc->path) return VXS_E_NOMEM;
    sc->fp = fopen(path, "r");
    if (!sc->fp) {
        vxsi_fmt(err, err_len, "%s: cannot open sidecar: %s", path, strerror(errno));
        return VXS_E_IO;
    }
    while ((st = sidecar_read(sc, &t, err, err_len)) == VXS_OK) (*count)++;
    if (st != VXS_EOF) return st;
    rewind(sc->fp);
    sc->line = 0;
    return VXS_OK;
}

vxs_status_t vxs_camera_sidecar_count(uint64_t *out_count, const char *path, vxs_cam_unit_t unit,
                                      char *err, size_t err_len) {
    sidecar_t sc;
    if (err && err_len) err[0] = '\0';
    if (!out_count || !path) return VXS_E_ARG;
    vxs_status_t st = sidecar_open(&sc, path, unit, out_count, err, err_len);
    sidecar_close(&sc);
    if (st != VXS_OK) *out_count = 0;
    return st;
}

/* ---- video open ---- */

/* prescan runs the iterator over the whole file on its own demuxer: frame count and end (last
 * frame's pts + duration) in presentation order. Bad packets are skipped silently here: the
 * index pass reports them. */
static vxs_status_t prescan(vxs_camera_t *c, uint64_t *frames, int64_t *end, char *err,
                            size_t err_len) {
    iter_t *it = NULL;
    fr_t f;
    vxs_status_t st;
    *frames = 0;
    *end = INT64_MIN;
    VXS_FORWARD(iter_open(&it, c->path, c->mem, c->mem_len, &c->hint, c->opt.reorder_window,
                          c->limits.max_frame, err, err_len));
    while ((st = iter_next(it, &f)) != VXS_EOF) {
        if (st != VXS_OK) continue;
        (*frames)++;
        if (*end == INT64_MIN || sadd(f.pts, f.dur) > *end) *end = sadd(f.pts, f.dur);
    }
    iter_close(it);
    return VXS_OK;
}


static vxs_status_t camera_alloc(vxs_camera_t **out, const char *path,
                                 const vxs_camera_options_t *opt, char *err, size_t err_len) {
    vxs_camera_t *c = vxs_calloc(1, sizeof *c);
    *out = NULL;
    if (!c || !(c->path = vxs_strdup(path))) {
        vxs_free(c);
        vxsi_fmt(err, err_len, "%s: out of memory", path);
        return VXS_E_NOMEM;
    }
    if (opt)
        c->opt = *opt;
    else
        vxs_camera_options_init(&c->opt);
    c->opt.sidecar = NULL;
    if (opt && opt->limits)
        c->limits = *opt->limits;
    else
        vxs_limits_default(&c->limits);
    if (opt && opt->diag) c->diag = *opt->diag;
    if (c->opt.reorder_window == 0) c->opt.reorder_window = DEFAULT_WINDOW;
    c->info.creation_time = VXS_TIME_NONE;
    c->info.end_pts = INT64_MIN;
    c->rt_start = VXS_TIME_NONE;
    vxs_record_init(&c->rec, VXS_REC_CAMERA_FRAME);
    *out = c;
    return VXS_OK;
}

static vxs_status_t open_video(vxs_camera_t *c, const char *sidecar, char *err, size_t err_len) {
    const AVFormatContext *fc;
    const AVStream *st;
    uint64_t lines = 0;
    VXS_FORWARD(iter_open(&c->it, c->path, c->mem, c->mem_len, NULL, c->opt.reorder_window,
                          c->limits.max_frame, err, err_len));
    c->it->name = c->path;
    fc = c->it->dm.fc;
    st = c->it->dm.st;
    c->hint.fmt = fc->iformat;
    if (st->codecpar->codec_id != AV_CODEC_ID_NONE && st->codecpar->width > 0) {
        c->par = avcodec_parameters_alloc();
        if (!c->par || avcodec_parameters_copy(c->par, st->codecpar) < 0) {
            vxsi_fmt(err, err_len, "%s: out of memory", c->path);
            return VXS_E_NOMEM;
        }
        c->hint.par = c->par;
    }
    vxsi_fmt(c->info.format, sizeof c->info.format, "%s", fc->iformat->name);
    vxsi_fmt(c->info.codec, sizeof c->info.codec, "%s", avcodec_get_name(st->codecpar->codec_id));
    c->info.width = st->codecpar->width > 0 ? (uint32_t)st->codecpar->width : 0;
    c->info.height = st->codecpar->height > 0 ? (uint32_t)st->codecpar->height : 0;
    c->info.tb_num = st->time_base.num;
    c->info.tb_den = st->time_base.den;
    c->info.creation_time = vxsi_av_creation_time(fc, st);

    if (sidecar) {
        VXS_FORWARD(sidecar_open(&c->sc, sidecar, c->opt.sidecar_unit, &lines, err, err_len));
        c->info.time_source = VXS_CAM_TIME_SIDECAR;
    } else if (fc->start_time_realtime > 0 && fc->start_time_realtime != AV_NOPTS_VALUE &&
               fc->start_time_realtime < INT64_MAX / 1000) {
        c->rt_start = fc->start_time_realtime * 1000;
        c->info.time_source = VXS_CAM_TIME_CONTAINER;
    } else if (c->info.creation_time != VXS_TIME_NONE &&
               c->opt.creation != VXS_CAM_CREATION_IGNORE) {
        c->info.time_source = c->opt.creation == VXS_CAM_CREATION_START
                                  ? VXS_CAM_TIME_CREATION_START
                                  : VXS_CAM_TIME_CREATION_END;
    } else if (c->opt.has_offset && c->opt.offset != VXS_TIME_NONE) {
        c->info.time_source = VXS_CAM_TIME_SCENARIO;
    }
    if (sidecar || c->info.time_source == VXS_CAM_TIME_CREATION_END) {
        /* One demuxer at a time: libavformat holds a container's whole sample index (an MP4's
         * moov: about 32 bytes per frame, 2.3 MB for an hour at 20 Hz, twice that while it is
         * built), so the main iterator is closed while the prescan runs and opened again. */
        iter_close(c->it);
        c->it = NULL;
        VXS_FORWARD(prescan(c, &c->info.frames_expected, &c->info.end_pts, err, err_len));
        VXS_FORWARD(iter_open(&c->it, c->path, c->mem, c->mem_len, &c->hint,
                              c->opt.reorder_window, c->limits.max_frame, err, err_len));
        c->it->name = c->path;
        if (sidecar && lines != c->info.frames_expected) {
            vxsi_fmt(err, err_len,
                     "%s: sidecar has %" PRIu64 " timestamp lines but %s has %" PRIu64
                     " frames",
                     sidecar, lines, c->path, c->info.frames_expected);
            return VXS_E_MALFORMED;
        }
        if (c->info.time_source == VXS_CAM_TIME_CREATION_END && c->info.end_pts == INT64_MIN)
            c->info.time_source = VXS_CAM_TIME_NONE; /* no frame: nothing to anchor */
    }
    return VXS_OK;
}

static vxs_status_t open_folder(vxs_camera_t *c, const char *sidecar, char *err,
                                size_t err_len);

static vxs_status_t camera_open(vxs_camera_t **out, const char *path, const uint8_t *data,
                                size_t len, const vxs_camera_options_t *opt, char *err,
                                size_t err_len) {
    vxs_camera_t *c = NULL;
    vxs_status_t st;
    struct stat sb;
    if (err && err_len) err[0] = '\0';
    if (!out) return VXS_E_ARG;
    *out = NULL;
    if (!path) return VXS_E_ARG;
    if (opt && opt->reorder_window != 0 &&
        (opt->reorder_window < 2 || opt->reorder_window > VXS_CAM_MAX_WINDOW)) {
        vxsi_fmt(err, err_len, "%s: reorder window %u outside 2..%d", path, opt->reorder_window,
                 VXS_CAM_MAX_WINDOW);
        return VXS_E_ARG;
    }
    VXS_FORWARD(camera_alloc(&c, path, opt, err, err_len));
    c->mem = data;
    c->mem_len = len;
    if (!data && stat(path, &sb) == 0 && S_ISDIR(sb.st_mode))
        st = open_folder(c, opt ? opt->sidecar : NULL, err, err_len);
    else
        st = open_video(c, opt ? opt->sidecar : NULL, err, err_len);
    if (st != VXS_OK) {
        if (st == VXS_E_NOMEM && err && err_len && !err[0])
            vxsi_fmt(err, err_len, "%s: out of memory", path);
        vxs_camera_close(c);
        return st;
    }
    *out = c;
    return VXS_OK;
}

vxs_status_t vxs_camera_open(vxs_camera_t **out, const char *path,
                             const vxs_camera_options_t *opt, char *err, size_t err_len) {
    return camera_open(out, path, NULL, 0, opt, err, err_len);
}

vxs_status_t vxs_camera_open_mem(vxs_camera_t **out, const void *data, size_t len,
                                 const char *name, const vxs_camera_options_t *opt, char *err,
                                 size_t err_len) {
    static const uint8_t empty[1] = {0};
    if (!data && len > 0) return VXS_E_ARG;
    return camera_open(out, name ? name : "<memory>", data ? data : empty, data ? len : 0, opt,
                       err, err_len);
}

/* ---- the index pass ---- */

static int64_t to_ns(int64_t ticks, AVRational tb) { return av_rescale_q(ticks, tb, k_ns); }

/* frame_record fills what every frame record has (kind, agent, sensor, device clock, seq,
 * locator) for frame `index`; the caller adds device_time and the frame summary. */
static void frame_record(const vxs_camera_t *c, vxs_record_t *r, uint64_t index,
                         uint64_t offset, vxs_time_t capture_time) {
    vxs_record_init(r, VXS_REC_CAMERA_FRAME);
    r->agent = c->opt.agent;
    r->sensor = c->opt.sensor;
    r->capture_time = capture_time;
    r->device_clock.kind = VXS_CLOCK_DEVICE;
    r->device_clock.agent = c->opt.agent;
    r->device_clock.sensor = c->opt.sensor;
    r->seq = index;
    r->has_seq = true;
    r->loc.source = c->opt.source_index;
    r->loc.count = 1;
    r->loc.index = index;
    r->loc.offset = offset;
}

static vxs_status_t next_folder(vxs_camera_t *c, const vxs_record_t **out);

static vxs_status_t next_video(vxs_camera_t *c, const vxs_record_t **out) {
    iter_t *it = c->it;
    if (!it->dm.fc) return VXS_EOF; /* read to the end, its demuxer released */
    AVRational tb = it->dm.st->time_base;
    vxs_camera_frame_info_t *fi = &c->fi;
    vxs_record_t *r = &c->rec;
    fr_t f;
    vxs_status_t st = iter_next(it, &f);
    c->counts.missing_pts = it->missing_pts;
    c->counts.reordered = it->reordered;
    c->counts.late = it->late;
    if (st == VXS_EOF) {
        /* The demuxer holds the file's sample index (about 80 bytes a frame in an MP4: 5 MB
         * for an hour at 20 Hz) and nothing reads it past the end: it is released here, so a
         * reader kept open for its payloads (fetches open their own) costs no more than that. */
        demux_close(&it->dm);
        return st;
    }
    if (st != VXS_OK) {
        char where[96];
        c->counts.bad++;
        if (it->read_err == VXS_OK && it->read_done && it->read_msg[0]) {
            /* the damage that ended the stream */
            vxsi_fmt(where, sizeof where, "byte offset %" PRIu64, it->err_offset);
            report(c, where, 0, it->err_offset, st, "%s; %" PRIu64 " frames yielded before it",
                   it->read_msg, c->counts.frames);
            it->read_msg[0] = '\0';
        } else {
            vxsi_fmt(where, sizeof where, "packet %" PRIu64 " (byte offset %" PRIu64 ")",
                     it->bad_packet, it->bad_offset);
            report(c, where, it->bad_packet, it->bad_offset, st, "%s", it->msg);
        }
        return st;
    }
    memset(fi, 0, sizeof *fi);
    fi->index = c->counts.frames;
    fi->pts = f.pts;
    fi->duration = f.dur;
    if (!c->have_first) {
        c->first_pts = f.pts;
        c->have_first = true;
    }
    fi->pts_ns = to_ns(ssub(f.pts, c->first_pts), tb);
    fi->duration_ns = to_ns(f.dur, tb);
    fi->offset = (uint64_t)f.pos;
    fi->size = f.size;
    fi->key = f.key;
    fi->pts_from_dts = f.from_dts;
    fi->duplicate = fi->index > 0 && f.pts == c->prev_pts;
    fi->capture_time = VXS_TIME_NONE;
    fi->time_source = c->info.time_source;
    c->prev_pts = f.pts;

    if (fi->duplicate) {
        char where[96];
        c->counts.duplicates++;
        vxsi_fmt(where, sizeof where, "frame %" PRIu64 " (byte offset %" PRIu64 ")", fi->index,
                 fi->offset);
        report(c, where, fi->index + 1, fi->offset, VXS_E_MALFORMED,
               "duplicate pts %" PRId64 " (same as the previous frame); both frames kept", f.pts);
    }
    if (f.late) {
        char where[96];
        vxsi_fmt(where, sizeof where, "frame %" PRIu64 " (byte offset %" PRIu64 ")", fi->index,
                 fi->offset);
        report(c, where, fi->index + 1, fi->offset, VXS_E_LIMIT,
               "pts %" PRId64 " comes after a larger pts: reordered deeper than the window of "
               "%zu packets; yielded out of order",
               f.pts, it->w);
    }
    switch (c->info.time_source) {
    case VXS_CAM_TIME_SIDECAR: {
        char e[ERR_LEN / 2];
        vxs_time_t t;
        vxs_status_t s2 = sidecar_read(&c->sc, &t, e, sizeof e);
        if (s2 == VXS_OK) {
            fi->capture_time = t;
        } else {
            char where[96];
            vxsi_fmt(where, sizeof where, "frame %" PRIu64, fi->index);
            report(c, where, fi->index + 1, fi->offset, VXS_E_MALFORMED,
                   "no sidecar time (%s)", s2 == VXS_EOF ? "sidecar ended" : e);
        }
        break;
    }
    case VXS_CAM_TIME_CONTAINER:
        fi->capture_time = sadd(c->rt_start, fi->pts_ns);
        break;
    case VXS_CAM_TIME_CREATION_START:
        fi->capture_time = sadd(c->info.creation_time, fi->pts_ns);
        break;
    case VXS_CAM_TIME_CREATION_END:
        fi->capture_time = ssub(c->info.creation_time, to_ns(ssub(c->info.end_pts, f.pts), tb));
        break;
    case VXS_CAM_TIME_SCENARIO:
        fi->capture_time = sadd(c->opt.offset, fi->pts_ns);
        break;
    default:
        break;
    }

    frame_record(c, r, fi->index, fi->offset, fi->capture_time);
    r->device_time = fi->pts_ns;
    r->u.frame.pts = f.pts;
    r->u.frame.size = f.size;
    r->u.frame.width = c->info.width;
    r->u.frame.height = c->info.height;
    r->u.frame.key = f.key;
    c->have_fi = true;
    c->counts.frames++;
    *out = r;
    return VXS_OK;
}

vxs_status_t vxs_camera_next(vxs_camera_t *c, const vxs_record_t **out) {
    if (!c || !out) return VXS_E_ARG;
    *out = NULL;
    c->errmsg[0] = '\0';
    return c->imgseq ? next_folder(c, out) : next_video(c, out);
}

vxs_status_t vxs_camera_frame_info(const vxs_camera_t *c, vxs_camera_frame_info_t *out) {
    if (!c || !out) return VXS_E_ARG;
    if (!c->have_fi) return VXS_E_STATE;
    *out = c->fi;
    return VXS_OK;
}

void vxs_camera_get_info(const vxs_camera_t *c, vxs_camera_info_t *out) {
    if (!out) return;
    if (!c) {
        memset(out, 0, sizeof *out);
        return;
    }
    *out = c->info;
}

void vxs_camera_get_counts(const vxs_camera_t *c, vxs_camera_counts_t *out) {
    if (!out) return;
    if (!c) {
        memset(out, 0, sizeof *out);
        return;
    }
    *out = c->counts;
}

const char *vxs_camera_errmsg(const vxs_camera_t *c) { return c ? c->errmsg : ""; }

/* ==== decoding on demand =================================================================== */

static void dec_close(vxs_camera_t *c) {
    avcodec_free_context(&c->cc);
    av_packet_free(&c->dpkt);
    av_frame_free(&c->frm);
    demux_close(&c->dec_dm);
    c->dec_open = false;
    c->positioned = c->have_frame = c->eof_sent = false;
}

static vxs_status_t dec_open(vxs_camera_t *c, const char *path, const uint8_t *data, size_t len) {
    const AVCodec *codec;
    char e[ERR_LEN / 2];
    vxs_status_t st;
    int rc;
    e[0] = '\0';
    st = demux_open(&c->dec_dm, path, data, len, &c->hint, e, sizeof e);
    if (st != VXS_OK) {
        report(c, "decoder", 0, 0, st, "%s", e);
        return st;
    }
    c->dec_open = true;
    codec = avcodec_find_decoder(c->dec_dm.st->codecpar->codec_id);
    if (!codec) {
        report(c, "decoder", 0, 0, VXS_E_UNSUPPORTED, "no decoder for codec %s",
               avcodec_get_name(c->dec_dm.st->codecpar->codec_id));
        return VXS_E_UNSUPPORTED;
    }
    c->cc = avcodec_alloc_context3(codec);
    c->dpkt = av_packet_alloc();
    c->frm = av_frame_alloc();
    if (!c->cc || !c->dpkt || !c->frm) return VXS_E_NOMEM;
    if (avcodec_parameters_to_context(c->cc, c->dec_dm.st->codecpar) < 0) return VXS_E_NOMEM;
    c->cc->pkt_timebase = c->dec_dm.st->time_base;
    /* One thread: frame threading would add its delay to every seek-and-decode. */
    c->cc->thread_count = 1;
    rc = avcodec_open2(c->cc, codec, NULL);
    if (rc < 0) {
        char av[AV_ERROR_MAX_STRING_SIZE];
        av_strerror(rc, av, sizeof av);
        report(c, "decoder", 0, 0, VXS_E_UNSUPPORTED, "cannot open the %s decoder: %s",
               codec->name, av);
        return VXS_E_UNSUPPORTED;
    }
    return VXS_OK;
}

static int64_t frame_pts(const AVFrame *f) {
    return f->best_effort_timestamp != AV_NOPTS_VALUE ? f->best_effort_timestamp : f->pts;
}

/* dec_receive gives the next decoded frame in c->frm. VXS_EOF when the stream is drained.
 * Packets that do not decode are skipped (the decoder conceals or drops them). */
static vxs_status_t dec_receive(vxs_camera_t *c) {
    for (;;) {
        int rc = avcodec_receive_frame(c->cc, c->frm);
        if (rc == 0) {
            int64_t p = frame_pts(c->frm);
            /* The decoder cannot time the last I/P frame of an AVI with B-frames; the index
             * pass gave it one frame after the previous one, and so does this. */
            if (p == AV_NOPTS_VALUE && c->have_frame && c->dec_last != AV_NOPTS_VALUE)
                p = sadd(c->dec_last, c->frm->pkt_duration > 0 ? c->frm->pkt_duration : 1);
            c->have_frame = true;
            c->dec_last = p;
            return VXS_OK;
        }
        if (rc == AVERROR_EOF) return VXS_EOF;
        if (rc != AVERROR(EAGAIN)) continue; /* a frame that failed: try the next */
        if (c->eof_sent) return VXS_EOF;
        rc = av_read_frame(c->dec_dm.fc, c->dpkt);
        if (rc < 0) {
            /* end or damage: drain what the decoder holds */
            (void)avcodec_send_packet(c->cc, NULL);
            c->eof_sent = true;
            continue;
        }
        if (c->dpkt->stream_index == c->dec_dm.vi && c->dpkt->size > 0 &&
            (size_t)c->dpkt->size <= c->limits.max_frame)
            (void)avcodec_send_packet(c->cc, c->dpkt);
        av_packet_unref(c->dpkt);
    }
}

/* convert writes c->frm as RGB24 into out, with the colour handling of ffmpeg 5.1's scale
 * filter (vf_scale.c): bicubic, input matrix from the frame (BT.601 when unspecified), input
 * range from the frame when it says. */
static vxs_status_t convert(vxs_camera_t *c, vxs_buf_t *out, uint32_t *ow, uint32_t *oh,
                            const char *what) {
    const AVFrame *f = c->frm;
    int w = f->width, h = f->height;
    size_t n;
    uint8_t *dst[4] = {NULL, NULL, NULL, NULL};
    int dls[4] = {0, 0, 0, 0};
    int *inv, *tab, in_full, out_full, bri, con, sat;
    int cs;
    if (w <= 0 || h <= 0 || f->format < 0) {
        report(c, what, 0, 0, VXS_E_MALFORMED, "decoded frame has no size or format");
        return VXS_E_MALFORMED;
    }
    n = (size_t)w * (size_t)h * 3;
    if (n > c->limits.max_frame || w > INT32_MAX / 3) {
        report(c, what, 0, 0, VXS_E_LIMIT, "%dx%d RGB image exceeds the limit of %zu bytes", w, h,
               c->limits.max_frame);
        return VXS_E_LIMIT;
    }
    c->sws = sws_getCachedContext(c->sws, w, h, (enum AVPixelFormat)f->format, w, h,
                                  AV_PIX_FMT_RGB24, SWS_BICUBIC, NULL, NULL, NULL);
    if (!c->sws) {
        report(c, what, 0, 0, VXS_E_UNSUPPORTED, "cannot convert pixel format %s to RGB24",
               av_get_pix_fmt_name((enum AVPixelFormat)f->format));
        return VXS_E_UNSUPPORTED;
    }
    if (sws_getColorspaceDetails(c->sws, &inv, &in_full, &tab, &out_full, &bri, &con, &sat) >= 0) {
        cs = (int)f->colorspace;
        if (cs < 1 || cs > 10 || cs == 8) cs = AVCOL_SPC_BT470BG;
        if (f->color_range != AVCOL_RANGE_UNSPECIFIED)
            in_full = f->color_range == AVCOL_RANGE_JPEG;
        (void)sws_setColorspaceDetails(c->sws, sws_getCoefficients(cs), in_full,
                                       sws_getCoefficients(cs), out_full, bri, con, sat);
    }
    VXS_FORWARD(vxs_buf_reserve(out, n));
    dst[0] = out->data;
    dls[0] = w * 3;
    sws_scale(c->sws, (const uint8_t *const *)f->data, f->linesize, 0, h, dst, dls);
    out->len = n;
    if (ow) *ow = (uint32_t)w;
    if (oh) *oh = (uint32_t)h;
    return VXS_OK;
}

/* far_ahead says whether `target` lies beyond the GOP being decoded and the next one, by the
 * demuxer's key-frame index (timestamps there are dts: close enough to choose between decoding
 * on and seeking; correctness never depends on it). */
static bool far_ahead(vxs_camera_t *c, int64_t target) {
    AVStream *st = c->dec_dm.st;
    int kt = av_index_search_timestamp(st, target, AVSEEK_FLAG_BACKWARD);
    int kl = av_index_search_timestamp(st, c->dec_last, AVSEEK_FLAG_BACKWARD);
    if (kt >= 0 && kl >= 0) {
        const AVIndexEntry *el = avformat_index_get_entry(st, kl);
        int kn = el ? av_index_search_timestamp(st, sadd(el->timestamp, 1), 0) : -1;
        return !(kt == kl || kt == kn || kt < kl);
    }
    return to_ns(ssub(target, c->dec_last), st->time_base) > NEAR_NS;
}

static vxs_status_t fetch_pts(vxs_camera_t *c, vxs_buf_t *out, uint32_t *ow, uint32_t *oh,
                              int64_t target, uint64_t index) {
    char what[96];
    bool need_seek;
    int64_t seek_ts = target;
    int tries = 0;
    bool from_start = false;
    vxsi_fmt(what, sizeof what, "frame %" PRIu64 " (pts %" PRId64 ")", index, target);
    if (!c->dec_open) {
        vxs_status_t st = dec_open(c, c->path, c->mem, c->mem_len);
        if (st != VXS_OK) {
            dec_close(c);
            return st;
        }
    }
    if (c->have_frame && c->positioned && c->dec_last == target)
        return convert(c, out, ow, oh, what);
    need_seek = !c->positioned || c->eof_sent || !c->have_frame ||
                c->dec_last == AV_NOPTS_VALUE || target <= c->dec_last || far_ahead(c, target);
    for (;;) {
        vxs_status_t st;
        int64_t p;
        if (need_seek) {
            if (tries >= MAX_SEEK_TRIES) from_start = true;
            if (from_start || av_seek_frame(c->dec_dm.fc, c->dec_dm.vi, seek_ts,
                                            AVSEEK_FLAG_BACKWARD) < 0) {
                /* Rewind by reopening: works for every demuxer, seekable or not. */
                demux_close(&c->dec_dm);
                c->dec_open = false;
                st = demux_open(&c->dec_dm, c->path, c->mem, c->mem_len, &c->hint, NULL, 0);
                if (st != VXS_OK) {
                    report(c, what, index + 1, 0, st, "cannot reopen the file to decode");
                    dec_close(c);
                    return st;
                }
                c->dec_open = true;
                from_start = true;
            }
            avcodec_flush_buffers(c->cc);
            c->positioned = true;
            c->have_frame = c->eof_sent = false;
            need_seek = false;
        }
        st = dec_receive(c);
        if (st == VXS_EOF) {
            c->have_frame = false;
            if (!from_start) {
                from_start = true;
                need_seek = true;
                continue;
            }
            report(c, what, index + 1, 0, VXS_E_NOTFOUND,
                   "no decoded frame has this pts (decoding reached the end)");
            return VXS_E_NOTFOUND;
        }
        p = c->dec_last;
        if (p == target) return convert(c, out, ow, oh, what);
        if (p != AV_NOPTS_VALUE && p > target) {
            /* Landed past it: the key frame found was after the wanted frame (open GOP, or a
             * demuxer index in dts). Step back further each time, then from the start. */
            if (from_start) {
                report(c, what, index + 1, 0, VXS_E_NOTFOUND,
                       "no decoded frame has this pts (decoded frames jump past it to pts %" PRId64
                       ")",
                       p);
                return VXS_E_NOTFOUND;
            }
            tries++;
            {
                int64_t step = sadd(ssub(p, target), 1);
                for (int i = 0; i < tries; i++) step = sadd(step, step);
                seek_ts = ssub(seek_ts, step);
            }
            need_seek = true;
        }
    }
}

static vxs_status_t fetch_image(vxs_camera_t *c, vxs_buf_t *out, uint32_t *ow, uint32_t *oh,
                                uint64_t index);

vxs_status_t vxs_camera_fetch_rgb(vxs_camera_t *c, vxs_buf_t *out, uint32_t *out_width,
                                  uint32_t *out_height, const vxs_record_t *frame) {
    if (!c || !out || !frame || frame->kind != VXS_REC_CAMERA_FRAME) return VXS_E_ARG;
    c->errmsg[0] = '\0';
    if (c->imgseq) return fetch_image(c, out, out_width, out_height, frame->loc.index);
    return fetch_pts(c, out, out_width, out_height, frame->u.frame.pts, frame->loc.index);
}

vxs_status_t vxs_camera_fetch_rgb_index(vxs_camera_t *c, vxs_buf_t *out, uint32_t *out_width,
                                        uint32_t *out_height, uint64_t index) {
    fr_t f;
    if (!c || !out) return VXS_E_ARG;
    c->errmsg[0] = '\0';
    if (c->imgseq) return fetch_image(c, out, out_width, out_height, index);
    if (c->cur_have_last && c->cur_last_index == index)
        return fetch_pts(c, out, out_width, out_height, c->cur_last_pts, index);
    if (!c->cur || index < c->cur_next) {
        char e[ERR_LEN / 2];
        vxs_status_t st;
        iter_close(c->cur);
        c->cur = NULL;
        c->cur_next = 0;
        c->cur_have_last = false;
        st = iter_open(&c->cur, c->path, c->mem, c->mem_len, &c->hint, c->it->w,
                       c->limits.max_frame, e, sizeof e);
        if (st != VXS_OK) {
            report(c, "", 0, 0, st, "%s", e);
            return st;
        }
    }
    while (c->cur_next <= index) {
        vxs_status_t st = iter_next(c->cur, &f);
        if (st == VXS_EOF) {
            char where[64];
            vxsi_fmt(where, sizeof where, "frame %" PRIu64, index);
            report(c, where, index + 1, 0, VXS_E_NOTFOUND, "no such frame (the file has %" PRIu64
                   ")", c->cur_next);
            return VXS_E_NOTFOUND;
        }
        if (st != VXS_OK) continue; /* bad packets: not frames, as in the index pass */
        c->cur_last_index = c->cur_next++;
        c->cur_last_pts = f.pts;
        c->cur_have_last = true;
    }
    return fetch_pts(c, out, out_width, out_height, c->cur_last_pts, index);
}

/* ==== folders ============================================================================== */

static bool has_image_ext(const char *name, const char **dot_out) {
    const char *dot = strrchr(name, '.');
    static const char *const exts[] = {".png", ".jpg", ".jpeg"};
    if (!dot) return false;
    for (size_t i = 0; i < sizeof exts / sizeof exts[0]; i++) {
        if (strcasecmp(dot, exts[i]) == 0) {
            *dot_out = dot;
            return true;
        }
    }
    return false;
}

/* parse_image_name reads the stem of `name` (up to `dot`): an index, or a Unix time. */
static bool parse_image_name(const char *name, const char *dot, img_t *out) {
    char stem[64];
    size_t n = (size_t)(dot - name);
    int64_t ip = 0;
    vxs_time_t t = 0;
    if (n == 0 || n >= sizeof stem) return false;
    memcpy(stem, name, n);
    stem[n] = '\0';
    if (!parse_number(stem, 0, &t, &ip)) return false;
    if (!strchr(stem, '.') && ip < 1000000000LL) {
        out->key = ip;
        out->is_time = false;
        return true;
    }
    if (!parse_number(stem, unit_ns(strchr(stem, '.') ? VXS_CAM_UNIT_S : detect_unit(ip)), &t,
                      NULL))
        return false;
    out->key = t;
    out->is_time = true;
    return true;
}

static int img_cmp(const void *a, const void *b) {
    const img_t *x = a, *y = b;
    if (x->key != y->key) return x->key < y->key ? -1 : 1;
    return strcmp(x->name, y->name);
}

static vxs_status_t open_folder(vxs_camera_t *c, const char *sidecar, char *err,
                                size_t err_len) {
    DIR *d = opendir(c->path);
    struct dirent *de;
    size_t cap = 0, n_time = 0;
    uint64_t lines = 0;
    c->imgseq = true;
    vxsi_fmt(c->info.format, sizeof c->info.format, "image_sequence");
    c->info.image_sequence = true;
    if (!d) {
        vxsi_fmt(err, err_len, "%s: cannot open folder: %s", c->path, strerror(errno));
        return VXS_E_IO;
    }
    while ((de = readdir(d)) != NULL) {
        const char *dot;
        img_t im;
        if (!has_image_ext(de->d_name, &dot) || !parse_image_name(de->d_name, dot, &im))
            continue;
        if (c->n_imgs == cap) {
            size_t ncap = cap ? cap * 2 : 64;
            img_t *ni;
            if (ncap > MAX_IMAGES) {
                closedir(d);
                vxsi_fmt(err, err_len, "%s: more than %u images", c->path, MAX_IMAGES);
                return VXS_E_LIMIT;
            }
            ni = vxs_realloc(c->imgs, ncap * sizeof *ni);
            if (!ni) {
                closedir(d);
                return VXS_E_NOMEM;
            }
            c->imgs = ni;
            cap = ncap;
        }
        im.name = vxs_strdup(de->d_name);
        if (!im.name) {
            closedir(d);
            return VXS_E_NOMEM;
        }
        c->imgs[c->n_imgs++] = im;
        if (im.is_time) n_time++;
    }
    closedir(d);
    if (c->n_imgs == 0) {
        vxsi_fmt(err, err_len,
                 "%s: no image files named by number (000123.png, 1700000000.123456789.png)",
                 c->path);
        return VXS_E_UNSUPPORTED;
    }
    qsort(c->imgs, c->n_imgs, sizeof *c->imgs, img_cmp);
    c->info.frames_expected = c->n_imgs;
    c->head = vxs_malloc(IMG_HEAD_LEN);
    if (!c->head) return VXS_E_NOMEM;
    /* Names all times: the names are the clock (pts in ns). Otherwise pts = index. */
    if (n_time == c->n_imgs) {
        c->info.tb_num = 1;
        c->info.tb_den = 1000000000;
    } else {
        c->info.tb_num = c->info.tb_den = 1;
    }
    if (sidecar) {
        VXS_FORWARD(sidecar_open(&c->sc, sidecar, c->opt.sidecar_unit, &lines, err, err_len));
        if (lines != c->n_imgs) {
            vxsi_fmt(err, err_len,
                     "%s: sidecar has %" PRIu64 " timestamp lines but %s has %zu images",
                     sidecar, lines, c->path, c->n_imgs);
            return VXS_E_MALFORMED;
        }
    }
    if (n_time == c->n_imgs)
        c->info.time_source = VXS_CAM_TIME_FILENAME;
    else if (sidecar)
        c->info.time_source = VXS_CAM_TIME_SIDECAR;
    else if (c->opt.has_offset && c->opt.offset != VXS_TIME_NONE)
        c->info.time_source = VXS_CAM_TIME_SCENARIO;
    return VXS_OK;
}

/* image_header reads width, height and codec from a PNG IHDR or a JPEG SOF marker. */
static bool image_header(const uint8_t *p, size_t len, uint32_t *w, uint32_t *h,
                         const char **codec) {
    static const uint8_t png_sig[8] = {0x89, 'P', 'N', 'G', 0x0d, 0x0a, 0x1a, 0x0a};
    vxs_rd_t r = vxs_rd_init(p, len);
    uint8_t b0, b1;
    if (len >= 24 && memcmp(p, png_sig, 8) == 0) {
        uint32_t clen, type;
        vxs_rd_skip(&r, 8);
        if (!vxs_rd_u32be(&r, &clen) || !vxs_rd_u32be(&r, &type) || type != 0x49484452u ||
            clen < 8 || !vxs_rd_u32be(&r, w) || !vxs_rd_u32be(&r, h))
            return false;
        *codec = "png";
        return *w > 0 && *h > 0;
    }
    if (!vxs_rd_u8(&r, &b0) || !vxs_rd_u8(&r, &b1) || b0 != 0xFF || b1 != 0xD8) return false;
    /* JPEG: walk the marker segments to the first start-of-frame. */
    for (;;) {
        uint8_t m;
        uint16_t seg, hh, ww;
        uint8_t prec;
        vxs_rd_t body;
        if (!vxs_rd_u8(&r, &b0)) return false;
        if (b0 != 0xFF) return false;
        do {
            if (!vxs_rd_u8(&r, &m)) return false;
        } while (m == 0xFF); /* fill bytes */
        if (m == 0xD8 || (m >= 0xD0 && m <= 0xD7) || m == 0x01) continue; /* no length */
        if (m == 0xD9 || m == 0xDA) return false; /* end or scan before a frame header */
        if (!vxs_rd_u16be(&r, &seg) || seg < 2 || !vxs_rd_sub(&r, &body, (size_t)seg - 2))
            return false;
        if (m >= 0xC0 && m <= 0xCF && m != 0xC4 && m != 0xC8 && m != 0xCC) {
            if (!vxs_rd_u8(&body, &prec) || !vxs_rd_u16be(&body, &hh) ||
                !vxs_rd_u16be(&body, &ww))
                return false;
            *w = ww;
            *h = hh;
            *codec = "mjpeg";
            return ww > 0 && hh > 0;
        }
    }
}

static size_t path_join(char *buf, size_t len, const char *dir, const char *name) {
    return vxsi_fmt(buf, len, "%s/%s", dir, name);
}

static vxs_status_t next_folder(vxs_camera_t *c, const vxs_record_t **out) {
    char path[4096];
    vxs_camera_frame_info_t *fi = &c->fi;
    vxs_record_t *r = &c->rec;
    const img_t *im;
    uint64_t index;
    FILE *f;
    size_t got;
    uint32_t w = 0, h = 0;
    const char *codec = NULL;
    vxs_time_t side = VXS_TIME_NONE;
    bool side_ok = false;
    char side_err[ERR_LEN / 2];
    struct stat sb;
    if (c->img_next >= c->n_imgs) return VXS_EOF;
    index = c->img_next++;
    im = &c->imgs[index];
    side_err[0] = '\0';
    /* The sidecar line belongs to this file whether or not the file reads. */
    if (c->sc.fp) side_ok = sidecar_read(&c->sc, &side, side_err, sizeof side_err) == VXS_OK;
    path_join(path, sizeof path, c->path, im->name);
    f = fopen(path, "rb");
    if (!f || fstat(fileno(f), &sb) != 0) {
        char where[96];
        int e = errno;
        if (f) fclose(f);
        c->counts.bad++;
        vxsi_fmt(where, sizeof where, "frame %" PRIu64 " (%s)", index, im->name);
        report(c, where, index + 1, 0, VXS_E_IO, "cannot read: %s", strerror(e));
        return VXS_E_IO;
    }
    got = fread(c->head, 1, IMG_HEAD_LEN, f);
    fclose(f);
    if (!image_header(c->head, got, &w, &h, &codec)) {
        char where[96];
        c->counts.bad++;
        vxsi_fmt(where, sizeof where, "frame %" PRIu64 " (%s)", index, im->name);
        report(c, where, index + 1, 0, VXS_E_MALFORMED,
               "not a PNG or JPEG image (no readable IHDR / SOF header)");
        return VXS_E_MALFORMED;
    }
    if (!c->info.codec[0]) {
        vxsi_fmt(c->info.codec, sizeof c->info.codec, "%s", codec);
        c->info.width = w;
        c->info.height = h;
    }
    memset(fi, 0, sizeof *fi);
    fi->index = index;
    fi->pts = im->is_time && c->info.tb_den == 1000000000 ? im->key : (int64_t)index;
    fi->pts_ns = VXS_TIME_NONE;
    fi->size = sb.st_size > UINT32_MAX ? UINT32_MAX : (uint32_t)sb.st_size;
    fi->key = true;
    fi->time_source = c->info.time_source;
    fi->capture_time = VXS_TIME_NONE;
    switch (c->info.time_source) {
    case VXS_CAM_TIME_FILENAME:
        fi->capture_time = im->key;
        if (index + 1 < c->n_imgs) fi->duration_ns = ssub(c->imgs[index + 1].key, im->key);
        fi->duration = fi->duration_ns;
        break;
    case VXS_CAM_TIME_SIDECAR:
        if (side_ok) {
            fi->capture_time = side;
        } else {
            char where[96];
            vxsi_fmt(where, sizeof where, "frame %" PRIu64 " (%s)", index, im->name);
            report(c, where, index + 1, 0, VXS_E_MALFORMED, "no sidecar time (%s)",
                   side_err[0] ? side_err : "sidecar ended");
        }
        break;
    case VXS_CAM_TIME_SCENARIO:
        if (c->opt.image_fps > 0) {
            double d = (double)index * 1e9 / c->opt.image_fps;
            if (d < 9e18) fi->capture_time = sadd(c->opt.offset, (int64_t)d);
        }
        else if (index == 0)
            fi->capture_time = c->opt.offset;
        break;
    default:
        break;
    }
    frame_record(c, r, index, 0, fi->capture_time);
    r->u.frame.pts = fi->pts;
    r->u.frame.size = fi->size;
    r->u.frame.width = w;
    r->u.frame.height = h;
    r->u.frame.key = true;
    c->have_fi = true;
    c->counts.frames++;
    *out = r;
    return VXS_OK;
}

static vxs_status_t fetch_image(vxs_camera_t *c, vxs_buf_t *out, uint32_t *ow, uint32_t *oh,
                                uint64_t index) {
    char path[4096], what[96];
    vxs_status_t st;
    if (index >= c->n_imgs) {
        vxsi_fmt(what, sizeof what, "frame %" PRIu64, index);
        report(c, what, index + 1, 0, VXS_E_NOTFOUND, "no such image (the folder has %zu)",
               c->n_imgs);
        return VXS_E_NOTFOUND;
    }
    vxsi_fmt(what, sizeof what, "frame %" PRIu64 " (%s)", index, c->imgs[index].name);
    path_join(path, sizeof path, c->path, c->imgs[index].name);
    dec_close(c);
    st = dec_open(c, path, NULL, 0);
    if (st == VXS_OK) {
        st = dec_receive(c);
        if (st == VXS_OK) {
            st = convert(c, out, ow, oh, what);
        } else {
            st = VXS_E_MALFORMED;
            report(c, what, index + 1, 0, st, "image does not decode");
        }
    } else if (st != VXS_E_NOMEM) {
        report(c, what, index + 1, 0, st, "cannot open the image");
    }
    dec_close(c);
    return st;
}

/* ==== close and the vxs_source_t adapter =================================================== */

void vxs_camera_close(vxs_camera_t *c) {
    if (!c) return;
    iter_close(c->it);
    iter_close(c->cur);
    dec_close(c);
    sws_freeContext(c->sws);
    avcodec_parameters_free(&c->par);
    sidecar_close(&c->sc);
    for (size_t i = 0; i < c->n_imgs; i++) vxs_free(c->imgs[i].name);
    vxs_free(c->imgs);
    vxs_free(c->head);
    vxs_free(c->path);
    vxs_free(c);
}

static vxs_status_t src_next(void *impl, const vxs_record_t **out) {
    for (;;) {
        vxs_status_t st = vxs_camera_next(impl, out);
        /* The rule on bad units (vxs_core.h): every error is a bad unit the reader has reported
         * to the diag sink; it is skipped. Running out of memory stops the stream. */
        if (st == VXS_OK || st == VXS_EOF || st == VXS_E_NOMEM || st == VXS_E_ARG) return st;
    }
}

static vxs_status_t src_fetch(void *impl, vxs_buf_t *out, const vxs_record_t *rec) {
    if (!rec || rec->kind != VXS_REC_CAMERA_FRAME) return VXS_E_ARG;
    return vxs_camera_fetch_rgb(impl, out, NULL, NULL, rec);
}

static const char *src_errmsg(const void *impl) { return vxs_camera_errmsg(impl); }

static void src_destroy(void *impl) { vxs_camera_close(impl); }

static const vxs_source_ops_t camera_source_ops = {"camera", src_next,   src_fetch,  NULL,
                                                   NULL,     src_errmsg, src_destroy};

vxs_status_t vxs_camera_source_create(vxs_source_t **out, vxs_camera_t *c) {
    if (!out || !c) return VXS_E_ARG;
    return vxs_source_create(out, &camera_source_ops, c);
}
