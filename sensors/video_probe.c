/*
 * video_probe.c: what a video file holds, from its container only (libavformat demuxing; no
 * frame is decoded). Per-frame times of MP4/MOV are pts * stream time_base, relative to the
 * stream start; the only absolute anchor is the container's creation_time tag (mvhd/tkhd, 1 s
 * resolution, exposed by FFmpeg as ISO 8601 UTC): shared/specs/camera-timestamps.md.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/log.h>
#include <libavutil/mathematics.h>

#include "vxs_core.h"
#include "vxs_sensors.h"
#include "av_int.h"

static void set_err(char *err, size_t err_len, const char *path, const char *what, int averr) {
    char av[AV_ERROR_MAX_STRING_SIZE];
    if (!err || err_len == 0) return;
    av_strerror(averr, av, sizeof av);
    snprintf(err, err_len, "%s: %s: %s", path, what, av);
}

vxs_time_t vxsi_av_creation_time(const AVFormatContext *fc, const AVStream *st) {
    const AVDictionaryEntry *e = av_dict_get(fc->metadata, "creation_time", NULL, 0);
    vxs_time_t t;
    if (!e) e = av_dict_get(st->metadata, "creation_time", NULL, 0);
    if (!e || !e->value || vxs_time_parse(&t, e->value) != VXS_OK) return VXS_TIME_NONE;
    return t;
}

vxs_status_t vxs_video_probe(vxs_video_info_t *out, const char *path, vxs_video_pts_fn fn,
                             void *user, char *err, size_t err_len) {
    AVFormatContext *fc = NULL;
    AVPacket *pkt = NULL;
    const AVStream *st;
    vxs_status_t status = VXS_OK;
    int vi = -1, rc;
    int64_t last_end = 0; /* byte offset just past the last good packet */
    const AVRational ns = {1, 1000000000};

    if (!out || !path) return VXS_E_ARG;
    memset(out, 0, sizeof *out);
    out->first_pts = INT64_MIN;
    out->first_corrupt_offset = -1;
    out->last_pts = INT64_MIN;
    out->creation_time = VXS_TIME_NONE;
    if (err && err_len) err[0] = '\0';
    /* Our callers report errors with file and offset; FFmpeg's own stderr lines would only
     * repeat them without the position. */
    av_log_set_level(AV_LOG_QUIET);

    rc = avformat_open_input(&fc, path, NULL, NULL);
    if (rc < 0) {
        /* AVERROR(errno) for the file itself; anything else means the content is not a
         * container libavformat recognizes (or its header is unusable). */
        status = (rc == AVERROR(ENOENT) || rc == AVERROR(EACCES) || rc == AVERROR(EISDIR) ||
                  rc == AVERROR(EIO))
                     ? VXS_E_IO
                     : VXS_E_UNSUPPORTED;
        set_err(err, err_len, path, "cannot open as a video container", rc);
        goto cleanup;
    }
    for (unsigned i = 0; i < fc->nb_streams && vi < 0; i++) {
        const AVStream *s = fc->streams[i];
        if (s->codecpar->codec_type == AVMEDIA_TYPE_VIDEO &&
            !(s->disposition & AV_DISPOSITION_ATTACHED_PIC))
            vi = (int)i;
    }
    if (vi < 0) {
        status = VXS_E_UNSUPPORTED;
        if (err && err_len) snprintf(err, err_len, "%s: no video stream", path);
        goto cleanup;
    }
    st = fc->streams[vi];
    /* MP4/MOV/MKV headers carry the codec and size. Only headerless formats (raw H.264,
     * MPEG-TS) need avformat_find_stream_info, which parses (and for some codecs decodes) the
     * first packets: bounded here to 1 s and 5 MB. */
    if (st->codecpar->codec_id == AV_CODEC_ID_NONE || st->codecpar->width == 0) {
        fc->max_analyze_duration = AV_TIME_BASE;
        fc->probesize = 5000000;
        if (avformat_find_stream_info(fc, NULL) < 0) {
            /* Not fatal: we only lose the codec parameters. */
        }
    }
    snprintf(out->format, sizeof out->format, "%s", fc->iformat->name);
    snprintf(out->codec, sizeof out->codec, "%s", avcodec_get_name(st->codecpar->codec_id));
    out->width = st->codecpar->width > 0 ? (uint32_t)st->codecpar->width : 0;
    out->height = st->codecpar->height > 0 ? (uint32_t)st->codecpar->height : 0;
    out->tb_num = st->time_base.num;
    out->tb_den = st->time_base.den;
    out->creation_time = vxsi_av_creation_time(fc, st);

    pkt = av_packet_alloc();
    if (!pkt) {
        status = VXS_E_NOMEM;
        if (err && err_len) snprintf(err, err_len, "%s: out of memory", path);
        goto cleanup;
    }
    for (;;) {
        rc = av_read_frame(fc, pkt);
        if (rc == AVERROR_EOF) break;
        if (rc < 0) {
            /* A damaged or cut file: report where reading stopped. avio_tell is where the
             * demuxer was; the end of the last good packet is the last position known good. */
            int64_t at = fc->pb ? avio_tell(fc->pb) : -1;
            if (at < 0) at = last_end;
            status = rc == AVERROR_INVALIDDATA ? VXS_E_MALFORMED : VXS_E_TRUNCATED;
            if (err && err_len) {
                char av[AV_ERROR_MAX_STRING_SIZE];
                av_strerror(rc, av, sizeof av);
                snprintf(err, err_len,
                         "%s: reading stopped at byte offset %lld after %llu video packets: %s",
                         path, (long long)at, (unsigned long long)out->packets, av);
            }
            break;
        }
        if (pkt->stream_index == vi) {
            bool key = (pkt->flags & AV_PKT_FLAG_KEY) != 0;
            int64_t pts_ns = VXS_TIME_NONE;
            bool corrupt = (pkt->flags & AV_PKT_FLAG_CORRUPT) != 0;
            if (corrupt && out->corrupt_packets++ == 0) {
                out->first_corrupt_index = out->packets;
                out->first_corrupt_offset = pkt->pos;
            }
            if (key) out->key_frames++;
            if (pkt->pts != AV_NOPTS_VALUE) {
                /* first_pts / last_pts are the earliest and latest presentation times: demux
                 * order is decode order, which B-frames permute. */
                if (out->first_pts == INT64_MIN || pkt->pts < out->first_pts)
                    out->first_pts = pkt->pts;
                if (out->last_pts == INT64_MIN || pkt->pts > out->last_pts)
                    out->last_pts = pkt->pts;
                pts_ns = av_rescale_q(pkt->pts, st->time_base, ns);
            }
            if (pkt->pos >= 0 && !corrupt) last_end = pkt->pos + pkt->size;
            if (fn) fn(user, out->packets, pts_ns, key);
            out->packets++;
        }
        av_packet_unref(pkt);
    }
    /* A cut MP4 usually does not fail: the demuxer reaches the end of the file while its index
     * (stsz/stco) still lists samples. The header's frame count exposes it. */
    if (status == VXS_OK && st->nb_frames > 0 && out->packets < (uint64_t)st->nb_frames) {
        int64_t at = fc->pb ? avio_size(fc->pb) : -1;
        status = VXS_E_TRUNCATED;
        if (err && err_len)
            snprintf(err, err_len,
                     "%s: truncated at byte offset %lld: %llu of %lld video packets read "
                     "(last good packet ends at byte offset %lld)",
                     path, (long long)at, (unsigned long long)out->packets,
                     (long long)st->nb_frames, (long long)last_end);
    }

cleanup:
    av_packet_free(&pkt);
    avformat_close_input(&fc);
    return status;
}
