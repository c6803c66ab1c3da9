/*
 * vxs_camera.h: the camera reader. A video file (MP4/MOV, MKV/WebM, AVI, MPEG-TS: whatever the
 * system's libavformat demuxes) or a folder of numbered / time-stamped PNG and JPEG images in;
 * one VXS_REC_CAMERA_FRAME record per frame out, in presentation order; a frame's pixels
 * decoded on demand (RGB24).
 *
 * Two passes, as DESIGN.md's plan-then-stream asks:
 *   - the index pass (vxs_camera_next) demuxes packets only, never decodes. Packets come in
 *     decode order; B-frames make presentation order differ. A reorder window of a fixed number
 *     of packets (vxs_camera_options_t.reorder_window, default 32) is sorted by pts and the
 *     smallest pts leaves once the window is full. Memory is bounded by the window, never by
 *     the length of the video; a stream reordered deeper than the window still yields every
 *     frame, and the frames that come out of order are reported and counted.
 *   - the decode (vxs_camera_fetch_rgb) seeks to the key frame at or before the wanted frame
 *     and decodes forward. The wanted frame is named by its pts (the record's u.frame.pts), not
 *     by its index: a locator has no room for a pts and keeping an index -> pts table would grow
 *     with the video. Fetching in increasing pts order keeps the decoder where it is when the
 *     wanted frame lies in the GOP being decoded or in the next one.
 *
 * Per-frame times (shared/specs/camera-timestamps.md):
 *   - device_time: the frame's pts * time_base in ns, relative to the first frame in
 *     presentation order (so frame 0 is 0), on the device clock (VXS_CLOCK_DEVICE, agent and
 *     sensor of the options). Exact for variable frame rate: pts comes from the container,
 *     never from a nominal rate. A packet without pts uses its dts (MPEG-4 Part 2 in AVI leaves
 *     the pts of I and P frames unset: such a frame is presented when the next frame without
 *     pts is decoded, so it takes that frame's dts, the MPEG rule FFmpeg's best_effort_timestamp
 *     also follows).
 *   - capture_time: the absolute time, from the first of these that applies (the source is
 *     reported as a vxs_cam_time_source_t):
 *       1. a sidecar file: line i is frame i in presentation order (KITTI timestamps.txt
 *          "YYYY-MM-DD HH:MM:SS.nnnnnnnnn", or one number per line in s, ms, µs or ns; or a
 *          CSV row holding one, below);
 *       2. an absolute start time carried by the container (AVFormatContext.start_time_realtime;
 *          set by few demuxers) plus pts;
 *       3. the container's creation_time tag (ISO 8601, 1 s resolution) plus pts, under the
 *          chosen convention: START, t(i) = creation_time + pts_ns(i); END (the default: the
 *          Android phone clip in shared/datasets writes it when recording stops),
 *          t(i) = creation_time - (end - pts(i)) with end = pts of the last frame in
 *          presentation order + that frame's duration;
 *       4. an offset from the scenario (the absolute time of frame 0) plus pts_ns;
 *       5. none: capture_time is VXS_TIME_NONE.
 *     The END convention and a sidecar both need the frame count before the first record:
 *     vxs_camera_open then runs a packets-only pre-scan of the whole file (demuxing, no
 *     decoding; for the 1080p phone clip a few ms). A sidecar whose line count differs from the
 *     frame count makes open fail with a message naming both counts and the sidecar.
 *
 * Image-sequence folders: every *.png / *.jpg / *.jpeg file whose name (without extension) is
 * a number. Integer names below 10^9 are frame indexes ("000123.png"); larger integers are
 * Unix times in s, ms, µs or ns by magnitude ("1700000000123456789.png"); names with a
 * fraction are Unix seconds ("1700000000.123456789.png"). Files are sorted numerically; each is
 * one key frame whose size is the file size. Time: from the names, else a sidecar, else the
 * scenario offset plus i / image_fps. Width and height come from the PNG IHDR or JPEG SOF
 * header; a file whose header does not read is an error naming it (the frame keeps its index,
 * so later frames and sidecar lines stay aligned) and counted; reading goes on.
 *
 * Sidecar files. Blank lines and lines starting with '#' are skipped; so is a UTF-8 byte order
 * mark. The first other line decides the layout. A ',', ';' or tab in it (the first of them)
 * makes the file CSV: every line is cut into fields there (blanks and one pair of double quotes
 * around a field dropped; at most 4094 bytes a line). When no field of that line is a time (a
 * "YYYY-MM-DD HH:MM:SS.fraction" or a number), it is a header and names the time's column: the
 * first field with "stamp" in its name, else the first with "time" (any case), so ROS's
 * `rostopic echo -p` header "%time,field.header.stamp,..." gives field.header.stamp; a header
 * naming none is an error. Without a header the column is the first whose value is an absolute
 * time (a date, or a number of at least 1e8: a frame number is not one), else the first that is
 * a number (EuRoC's "1403636579763555584,1403636579763555584.png" rows: the first). Every later
 * line must have that field and it must parse. A file without a delimiter is one value a line
 * (a header of one field naming a time is skipped too).
 *
 * Errors name the file and the position (frame index from 0 in presentation order, byte
 * offset of its packet). A damaged or cut container yields every frame read before the damage,
 * then one error naming the file and the byte offset, then VXS_EOF.
 *
 * FFmpeg types never appear here (STYLE.md §1).
 */
#ifndef VXS_CAMERA_H
#define VXS_CAMERA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vxs_core.h"

#ifdef __cplusplus
extern "C" {
#endif

/* vxs_cam_time_source_t says where a frame's capture_time came from. Numbers are stable. */
typedef enum {
    VXS_CAM_TIME_NONE = 0,           /* no absolute time: capture_time is VXS_TIME_NONE */
    VXS_CAM_TIME_SIDECAR = 1,        /* the sidecar timestamps file, line = frame */
    VXS_CAM_TIME_CONTAINER = 2,      /* an absolute start time the container carries, + pts */
    VXS_CAM_TIME_CREATION_START = 3, /* creation_time marks the first frame, + pts */
    VXS_CAM_TIME_CREATION_END = 4,   /* creation_time marks the end of the last frame */
    VXS_CAM_TIME_SCENARIO = 5,       /* the scenario's offset, + pts (or + i / image_fps) */
    VXS_CAM_TIME_FILENAME = 6        /* image sequences: the file name is the time */
} vxs_cam_time_source_t;

/* vxs_cam_time_source_name returns "none", "sidecar", "container", "creation_time_start",
 * "creation_time_end", "scenario" or "filename" ("unknown" otherwise). Never NULL. */
const char *vxs_cam_time_source_name(vxs_cam_time_source_t s);

/* vxs_cam_creation_t says what a container's creation_time stands for. */
typedef enum {
    VXS_CAM_CREATION_END = 0,   /* the end of the recording (default) */
    VXS_CAM_CREATION_START = 1, /* the first frame */
    VXS_CAM_CREATION_IGNORE = 2 /* do not use it (fall through to the scenario offset) */
} vxs_cam_creation_t;

/* vxs_cam_unit_t is the unit of a numeric sidecar. AUTO decides from the first value's
 * magnitude, for Unix times after 1973: < 1e11 s, < 1e14 ms, < 1e17 µs, else ns. */
typedef enum {
    VXS_CAM_UNIT_AUTO = 0,
    VXS_CAM_UNIT_S = 1,
    VXS_CAM_UNIT_MS = 2,
    VXS_CAM_UNIT_US = 3,
    VXS_CAM_UNIT_NS = 4
} vxs_cam_unit_t;

/* VXS_CAM_MAX_WINDOW is the largest reorder window accepted (packets). */
#define VXS_CAM_MAX_WINDOW 256

/* vxs_camera_options_t configures vxs_camera_open. Initialize with vxs_camera_options_init.
 * Strings are borrowed for the duration of the open call only. */
typedef struct {
    uint32_t agent;              /* copied into every record and the device clock domain */
    uint32_t sensor;
    uint32_t source_index;       /* copied into locators */
    const char *sidecar;         /* timestamps file, NULL for none. Lines that are empty or
                                    start with '#' are skipped; their numbers still count in
                                    error messages */
    vxs_cam_unit_t sidecar_unit; /* numeric sidecars (default AUTO) */
    vxs_cam_creation_t creation; /* default VXS_CAM_CREATION_END */
    bool has_offset;             /* scenario offset given */
    vxs_time_t offset;           /* absolute time of frame 0 when has_offset */
    double image_fps;            /* image sequences without times: frame rate for the scenario
                                    offset (0: unknown, then frame 0 only gets the offset) */
    uint32_t reorder_window;     /* packets, 2..VXS_CAM_MAX_WINDOW (0: default 32) */
    const vxs_limits_t *limits;  /* NULL: defaults; max_record caps a packet, max_frame the RGB
                                    image a fetch produces */
    const vxs_diag_sink_t *diag; /* bad frames go here (NULL: logged); must outlive the reader */
} vxs_camera_options_t;

/* vxs_camera_options_init fills `o` with the defaults above. */
void vxs_camera_options_init(vxs_camera_options_t *o);

/* vxs_camera_sidecar_count reads the timestamps sidecar at `path` as vxs_camera_open does
 * (layout above; numbers in `unit`, VXS_CAM_UNIT_AUTO by magnitude) and sets *out_count to its
 * frame lines: the count open compares with the frame count. VXS_OK; otherwise *out_count is 0
 * and `err` (may be NULL) names the file and line: VXS_E_IO (cannot read), VXS_E_MALFORMED (a
 * line that does not parse, a header naming no time column), VXS_E_ARG, VXS_E_NOMEM. */
vxs_status_t vxs_camera_sidecar_count(uint64_t *out_count, const char *path, vxs_cam_unit_t unit,
                                      char *err, size_t err_len);

/* vxs_camera_t reads one camera: a video file or an image-sequence folder. Opaque. */
typedef struct vxs_camera vxs_camera_t;

/* vxs_camera_open opens `path`, a video file or a folder of images, for the index pass. On
 * success it returns VXS_OK and sets *out, which the caller must vxs_camera_close(). On
 * failure *out is NULL and `err` (may be NULL) holds a message naming the file: VXS_E_IO (cannot
 * read), VXS_E_UNSUPPORTED (not a container libavformat knows, no video stream, no images in
 * the folder), VXS_E_MALFORMED (sidecar line that does not parse, sidecar line count that
 * differs from the frame count), VXS_E_ARG, VXS_E_NOMEM. */
vxs_status_t vxs_camera_open(vxs_camera_t **out, const char *path,
                             const vxs_camera_options_t *opt, char *err, size_t err_len);

/* vxs_camera_open_mem reads a video container held in memory (`data`, `len` bytes, borrowed:
 * it must outlive the reader) through a custom AVIOContext; `name` (copied) is used in
 * messages. Otherwise as vxs_camera_open. This is the fuzzing entry point. */
vxs_status_t vxs_camera_open_mem(vxs_camera_t **out, const void *data, size_t len,
                                 const char *name, const vxs_camera_options_t *opt, char *err,
                                 size_t err_len);

/* vxs_camera_next yields the next frame record in presentation order, lent until the next
 * call: kind VXS_REC_CAMERA_FRAME, loc.index = seq = the frame index from 0, loc.offset = the
 * packet's byte offset (0 if unknown; image sequences 0), loc.count = 1, u.frame = {pts in the
 * stream time base, packet or file size, width, height, key}. VXS_EOF at the end. An error
 * (message from vxs_camera_errmsg, also sent to the diag sink) is one bad unit: call again to
 * go on; after damage that ends the stream the next call returns VXS_EOF. */
vxs_status_t vxs_camera_next(vxs_camera_t *c, const vxs_record_t **out);

/* vxs_camera_frame_info_t is what the last yielded frame carries beyond its record. */
typedef struct {
    uint64_t index;          /* frame index, presentation order */
    int64_t pts;             /* stream time base (image sequences: see u.frame.pts) */
    int64_t duration;        /* next frame's pts - pts; last frame: its packet duration (0 if
                                unknown); stream time base */
    int64_t pts_ns;          /* = record device_time (image sequences: VXS_TIME_NONE) */
    int64_t duration_ns;
    vxs_time_t capture_time; /* = record capture_time */
    vxs_cam_time_source_t time_source;
    uint64_t offset;         /* packet byte offset */
    uint32_t size;
    bool key;
    bool pts_from_dts;       /* the packet had no pts; its dts (MPEG rule above) was used */
    bool duplicate;          /* same pts as the previous frame */
} vxs_camera_frame_info_t;

/* vxs_camera_frame_info fills *out for the frame the last successful vxs_camera_next yielded.
 * VXS_E_STATE before the first frame. */
vxs_status_t vxs_camera_frame_info(const vxs_camera_t *c, vxs_camera_frame_info_t *out);

/* vxs_camera_info_t describes the camera. */
typedef struct {
    char format[32];         /* libavformat demuxer name ("mov,mp4,m4a,3gp,3g2,mj2" is cut),
                                "image_sequence" for folders */
    char codec[32];          /* "h264", "mpeg4"...; "png"/"mjpeg" by the first image */
    uint32_t width, height;
    int32_t tb_num, tb_den;  /* stream time base (folders: 1/1e9 for time names, 1/1 else) */
    vxs_time_t creation_time; /* container tag, VXS_TIME_NONE if absent */
    vxs_cam_time_source_t time_source;
    uint64_t frames_expected; /* frame count from the pre-scan or the folder listing; 0 when
                                 no pre-scan ran */
    int64_t end_pts;         /* pre-scan: last frame's pts + duration; INT64_MIN if unknown */
    bool image_sequence;
} vxs_camera_info_t;

/* vxs_camera_get_info fills *out. */
void vxs_camera_get_info(const vxs_camera_t *c, vxs_camera_info_t *out);

/* vxs_camera_counts_t counts what the index pass has seen so far. */
typedef struct {
    uint64_t frames;       /* records yielded */
    uint64_t bad;          /* errors returned by next (bad packets, unreadable images, damage) */
    uint64_t duplicates;   /* frames with the same pts as the previous one (kept, reported) */
    uint64_t missing_pts;  /* packets without pts (dts used); without dts either: also bad */
    uint64_t reordered;    /* packets demuxed after a packet with a larger pts (B-frames) */
    uint64_t late;         /* frames reordered deeper than the window (yielded out of order) */
} vxs_camera_counts_t;

/* vxs_camera_get_counts fills *out. */
void vxs_camera_get_counts(const vxs_camera_t *c, vxs_camera_counts_t *out);

/* vxs_camera_fetch_rgb decodes the frame `frame` names (a record this reader produced, or a
 * copy: its u.frame.pts and loc.index are used) into `out` as packed RGB24, stride
 * width * 3, replacing its content, and sets *out_width / *out_height (either may be NULL).
 * Pixels are converted by libswscale with bicubic scaling flags and the frame's own range and
 * matrix, as the ffmpeg command line does, so they equal `ffmpeg -pix_fmt rgb24` output byte
 * for byte. Frames may be fetched in any order, during or after the index pass (the decoder
 * has its own demuxer). VXS_E_NOTFOUND when no decoded frame has that pts; VXS_E_LIMIT when
 * the image exceeds limits.max_frame; VXS_E_MALFORMED when the frame does not decode. */
vxs_status_t vxs_camera_fetch_rgb(vxs_camera_t *c, vxs_buf_t *out, uint32_t *out_width,
                                  uint32_t *out_height, const vxs_record_t *frame);

/* vxs_camera_fetch_rgb_index decodes frame number `index` (presentation order) as
 * vxs_camera_fetch_rgb does. Video: the index is mapped to its pts by a second packets-only
 * cursor that moves forward (cheap for increasing indexes; a smaller index restarts it from
 * the beginning): for callers that kept only a frame's locator. */
vxs_status_t vxs_camera_fetch_rgb_index(vxs_camera_t *c, vxs_buf_t *out, uint32_t *out_width,
                                        uint32_t *out_height, uint64_t index);

/* vxs_camera_errmsg returns the last error ("f.mp4: frame 12 (byte offset 1844): ..."), or ""
 * when none. Never NULL; valid until the next call on `c`. */
const char *vxs_camera_errmsg(const vxs_camera_t *c);

/* vxs_camera_close frees everything. Accepts NULL. */
void vxs_camera_close(vxs_camera_t *c);

/* vxs_camera_source_create wraps `c` as a vxs_source_t ("camera"): next is vxs_camera_next
 * following the rule on bad units (a frame it reports is skipped), fetch is vxs_camera_fetch_rgb
 * of the record (RGB24, dimensions in the record). On
 * success the source owns `c` (vxs_source_destroy closes it); on failure `c` stays the
 * caller's. */
vxs_status_t vxs_camera_source_create(vxs_source_t **out, vxs_camera_t *c);

#ifdef __cplusplus
}
#endif
#endif /* VXS_CAMERA_H */
