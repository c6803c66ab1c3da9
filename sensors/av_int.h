/*
 * av_int.h: FFmpeg helpers the sensor readers share (video_probe.c, camera.c). Internal: FFmpeg
 * types never reach a public header.
 */
#ifndef VXS_AV_INT_H
#define VXS_AV_INT_H

#include <libavformat/avformat.h>

#include "vxs_core.h"

/* vxsi_av_creation_time reads the container's (else the stream's) creation_time tag (ISO 8601
 * UTC, as FFmpeg exposes MP4 mvhd/tkhd and MKV DateUTC); VXS_TIME_NONE when absent or
 * unreadable. */
vxs_time_t vxsi_av_creation_time(const AVFormatContext *fc, const AVStream *st);

#endif
