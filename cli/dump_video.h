/*
 * dump_video.h: `v2xsync dump` for cameras (cli/dump_video.c), called by cmd_dump.c.
 */
#ifndef VXS_DUMP_VIDEO_H
#define VXS_DUMP_VIDEO_H

#include <stdbool.h>

#include "vxs_camera.h"
#include "vxs_core.h"

typedef struct {
    bool json, quiet;
    const char *timestamps;      /* sidecar, NULL for none */
    vxs_cam_unit_t sidecar_unit;
    vxs_cam_creation_t creation;
    bool has_offset;
    vxs_time_t offset;
    double fps;                  /* image sequences */
    long frame;                  /* -1: list the frames; else decode this one into `png` */
    const char *png;
} vxs_dump_video_opts_t;

/* vxs_dump_video lists the frames of the video or image folder `path`, or writes one as a PNG;
 * returns the exit status. */
int vxs_dump_video(const char *path, const vxs_dump_video_opts_t *o);

#endif
