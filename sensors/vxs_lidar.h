/*
 * vxs_lidar.h: v2xsync's LiDAR readers (part of the sensors module).
 *
 *   capture ──vxs_pcap──► Velodyne data (1206 B) ─┐
 *                         Velodyne position (512 B)├─► vxs_lidar_t ──► sweep records (index pass:
 *                         Ouster lidar / IMU ──────┘                    times, locators, counts)
 *                                                   └── fetch(sweep) ──► points (x,y,z,t...)
 *
 * Three layers, each usable alone:
 *   1. Velodyne: models, calibrations (ROS/nebula YAML, Velodyne/MRPT db.xml, built-in
 *      defaults), a cheap header parse for the index pass and a packet decoder to points.
 *   2. Ouster: metadata JSON (flat, nested and reduced forms), packet header parse, packet
 *      decoder to points, IMU packets.
 *   3. The sweep reader: a capture in, sweep and IMU/position records out, points on demand.
 *
 * Facts, formulas and sources: ../shared/specs/lidar-packet-formats.md. Output frame of every
 * point: x forward, y left, z up, metres (REP 103), the sensor's own origin.
 */
#ifndef VXS_LIDAR_H
#define VXS_LIDAR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vxs_core.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ==== 1. Velodyne ======================================================================= */

#define VXS_VELO_PACKET_SIZE 1206   /* data packet UDP payload */
#define VXS_VELO_POSITION_SIZE 512  /* position (telemetry) packet UDP payload */
#define VXS_VELO_MAX_LASERS 128

/* vxs_velo_model_t names a Velodyne model. VXS_VELO_AUTO means "from the packet's product byte";
 * the HDL-64E does not announce itself and must be named. */
typedef enum {
    VXS_VELO_AUTO = 0,
    VXS_VELO_VLP16 = 1,       /* VLP-16 / Puck LITE, product 0x22 */
    VXS_VELO_PUCK_HIRES = 2,  /* Puck Hi-Res, 0x24 */
    VXS_VELO_VLP32C = 3,      /* VLP-32C (and 32A/B), 0x28 / 0x23 */
    VXS_VELO_HDL32E = 4,      /* HDL-32E, 0x21 */
    VXS_VELO_HDL64E_S2 = 5,   /* HDL-64E S2 / S2.1 (must be named) */
    VXS_VELO_HDL64E_S3 = 6,   /* HDL-64E S3 (must be named) */
    VXS_VELO_VLS128 = 7,      /* VLS-128 / Alpha Prime, 0xA1 */
    VXS_VELO_MODEL_COUNT_ = 8
} vxs_velo_model_t;

/* vxs_velo_model_name returns "VLP-16", "Puck-Hi-Res", "VLP-32C", "HDL-32E", "HDL-64E-S2",
 * "HDL-64E-S3", "VLS-128" or "auto". Never NULL. */
const char *vxs_velo_model_name(vxs_velo_model_t m);

/* vxs_velo_model_parse accepts those names case-insensitively, with or without the dash
 * ("vlp16", "VLP-32C", "hdl64e-s3", "vls128", "alpha-prime"). VXS_E_ARG if unknown. */
vxs_status_t vxs_velo_model_parse(vxs_velo_model_t *out, const char *name);

/* vxs_velo_model_from_product maps byte 1205 to a model; VXS_VELO_AUTO if unknown. */
vxs_velo_model_t vxs_velo_model_from_product(uint8_t product);

/* vxs_velo_model_lasers returns the laser count of `m` (16, 32, 64, 128), 0 for AUTO (matching a
 * calibration file to a capture). */
int vxs_velo_model_lasers(vxs_velo_model_t m);

/* vxs_velo_laser_calib_t is one laser's calibration, in the units of the ROS velodyne YAML
 * (angles in radians, lengths in metres). */
typedef struct {
    double rot_correction;    /* azimuth offset, rad */
    double vert_correction;   /* elevation, rad */
    double dist_correction;   /* added to the measured distance, m */
    double dist_correction_x; /* HDL-64E two-point correction, m (0 when unused) */
    double dist_correction_y;
    double vert_offset;       /* vertical offset of the laser's origin, m */
    double horiz_offset;      /* horizontal offset, m */
    double focal_distance;    /* HDL-64E intensity correction, in db.xml's unit as ROS keeps
                                 it (its formula divides by 13100); 0 when unused */
    double focal_slope;
    int min_intensity;        /* HDL-64E intensity clamp (0 / 255 when unused) */
    int max_intensity;
} vxs_velo_laser_calib_t;

/* vxs_velo_calib_t is a whole sensor's calibration. Plain data: callers may fill it. */
typedef struct {
    int num_lasers;             /* 16, 32, 64 or 128 */
    double distance_resolution; /* m per distance count; 0 = the model's default */
    vxs_velo_laser_calib_t laser[VXS_VELO_MAX_LASERS];
} vxs_velo_calib_t;

/* vxs_velo_calib_load reads a calibration file: ROS velodyne_pointcloud / nebula YAML
 * (`lasers:` list) or a Velodyne / MRPT db.xml, told apart by content. Errors (VXS_E_IO,
 * VXS_E_MALFORMED) name the file and line. */
vxs_status_t vxs_velo_calib_load(vxs_velo_calib_t *out, const char *path, char *err,
                                 size_t err_len);

/* vxs_velo_calib_parse parses a calibration held in memory; `name` is used in messages. */
vxs_status_t vxs_velo_calib_parse(vxs_velo_calib_t *out, const void *data, size_t len,
                                  const char *name, char *err, size_t err_len);

/* vxs_velo_calib_default fills the built-in calibration of a model that announces itself
 * (nominal angles from the manufacturer's manuals). VXS_E_UNSUPPORTED for HDL-64E (per-unit
 * calibration required) and AUTO. */
vxs_status_t vxs_velo_calib_default(vxs_velo_calib_t *out, vxs_velo_model_t model);

/* vxs_velo_header_t is what the index pass reads from a data packet without computing XYZ. */
typedef struct {
    uint32_t usec_toh;    /* bytes 1200..1203: µs past the top of the hour, device clock */
    uint8_t return_mode;  /* byte 1204: 0x37 strongest, 0x38 last, 0x39 dual (HDL-64E: status) */
    uint8_t product;      /* byte 1205 (HDL-64E: status value) */
    uint8_t blocks;       /* data blocks in use: 12, or 8 for VLS-128 dual */
    uint16_t az_first;    /* azimuth of block 0, 0.01 degree */
    uint16_t az_last;     /* azimuth of the last block in use, 0.01 degree */
} vxs_velo_header_t;

/* vxs_velo_parse_header checks and reads a data packet's fixed fields. VXS_E_MALFORMED for a
 * wrong size, an unknown block flag or an azimuth >= 36000 (the packet is then unusable). */
vxs_status_t vxs_velo_parse_header(vxs_velo_header_t *out, const uint8_t *pkt, size_t len);

/* vxs_velo_azimuth_t says how a point's azimuth is interpolated between the azimuth readings
 * of the packet. It matters for the VLS-128 only, whose four blocks of one firing sequence share
 * one reading; the other models' blocks each carry their own, and both conventions coincide.
 *
 * VXS_VELO_AZ_FIRING (0, the default): each laser at its firing time. A VLS-128 laser of firing
 *   group g fires (g + g/8) x 2.665 µs into the 53.3 µs sequence (VLS-128 manual 63-9480, firing
 *   timing table), so its azimuth is the sequence's reading plus that fraction of the step to the
 *   next sequence's reading: the azimuth that goes with the point's time, as Velodyne's VeloView
 *   (vtkVelodynePacketInterpreter, VLS128AdjustTimeStamp) and velodyne_decoder compute it.
 * VXS_VELO_AZ_BLOCK_STEP: the same fraction of the step to the next *block's* reading, as ROS
 *   velodyne_pointcloud (rawdata.cc) and tier4/nebula (vls128_decoder.cpp) compute it. For the
 *   VLS-128 that step is 0 inside a sequence, so lasers 0-95 and the packet's last sequence get
 *   no interpolation, and lasers 96-127 of the first two sequences get the whole fraction; up to
 *   0.8 of a step (0.15 degree at 600 rpm) off the firing time. For reproducing those decoders'
 *   output point for point (the nebula ground-truth test does), not for new work. */
typedef enum {
    VXS_VELO_AZ_FIRING = 0,
    VXS_VELO_AZ_BLOCK_STEP = 1,
} vxs_velo_azimuth_t;

/* vxs_velo_config_t configures a decoder. Zero it, then set what differs from the defaults. */
typedef struct {
    vxs_velo_model_t model;        /* AUTO: from the first packet's product byte */
    const vxs_velo_calib_t *calib; /* NULL: the built-in default of the model (copied) */
    double min_range_m;            /* points nearer are dropped (default 0: keep all returns) */
    double max_range_m;            /* points farther are dropped (default 0: no limit) */
    vxs_velo_azimuth_t azimuth;    /* interpolation convention (default VXS_VELO_AZ_FIRING) */
} vxs_velo_config_t;

/* vxs_velo_t decodes data packets of one sensor into points. Not thread-safe; one per thread. */
typedef struct vxs_velo vxs_velo_t;

/* vxs_velo_create prepares a decoder (trigonometry tables, firing-time table). With model AUTO
 * and no calibration, the tables are built on the first packet. VXS_E_ARG for a calibration
 * whose laser count does not fit the model; message in err. */
vxs_status_t vxs_velo_create(vxs_velo_t **out, const vxs_velo_config_t *cfg, char *err,
                             size_t err_len);

/* vxs_velo_destroy frees the decoder. Accepts NULL. */
void vxs_velo_destroy(vxs_velo_t *v);

/* vxs_velo_errmsg says why the decoder's tables could not be built (a calibration whose laser
 * count does not fit the model found in the first packet, an HDL-64E without calibration);
 * "" otherwise. Never NULL. */
const char *vxs_velo_errmsg(const vxs_velo_t *v);

/* vxs_velo_get_model returns the model in use (AUTO until the first packet when auto). */
vxs_velo_model_t vxs_velo_get_model(const vxs_velo_t *v);

/* vxs_velo_decode appends the points of one data packet to `out`. `t_packet` is the absolute
 * time of the packet's timestamp on the device clock (hour resolved + usec_toh), and each point
 * gets t_packet + its firing-time offset (also the blocks after a limited field of view's
 * azimuth jump, which really fired a pause later: vxs_velo_decode_next times those right).
 * `next_az` is the first block's azimuth of the next
 * packet (0.01 degree), used to interpolate the azimuth of the last firings; -1 when unknown
 * (then the packet's own last azimuth step is used; a VLS-128 dual-return packet, one firing
 * sequence, then uses the step of one sequence at the nominal 600 rpm). Points without a return (distance 0) and
 * points outside the range limits are not emitted. Dual return: both returns kept, flagged
 * VXS_RET_LAST / VXS_RET_STRONGEST, one point with both bits when they are the same echo.
 * VXS_E_MALFORMED as vxs_velo_parse_header; VXS_E_UNSUPPORTED if the product byte names a model
 * the decoder was not made for; VXS_E_NOMEM. `out` is unchanged on error. */
vxs_status_t vxs_velo_decode(vxs_velo_t *v, vxs_points_t *out, const uint8_t *pkt, size_t len,
                             vxs_time_t t_packet, int next_az);

/* vxs_velo_scan is vxs_velo_decode without the XYZ: the same points (same filters, same dual
 * return rule), each with its time, azimuth, laser and return, and x = y = z = 0. The index pass
 * uses it to cut sweeps and count points without computing coordinates. */
vxs_status_t vxs_velo_scan(vxs_velo_t *v, vxs_points_t *out, const uint8_t *pkt, size_t len,
                           vxs_time_t t_packet);

/* Limited field of view. A sensor set to a field-of-view window sends only the blocks whose
 * azimuth is inside it, packed into packets as they come, so the packet open when the window
 * closes holds, after its last in-window block, the first blocks of the next window: its azimuth
 * jumps inside the packet (nebula_vlp32c.pcap packet 75: 90.95 -> 270.17 deg). The firing grid
 * runs on through the pause, so the blocks after the jump fired a whole pause later than
 * t_packet + their firing offsets: exactly shift = (t_next - t_packet) - the packet's nominal
 * duration (its firing groups x the group period: 12 x 55.296 µs for a VLP-32C, 12 x 110.592 µs
 * for a VLP-16; in nebula_vlp32c.pcap the next packet is 50375 µs later, block 8 fired
 * 50375 - 4 x 55.296 µs after packet 75's timestamp). vxs_velo_decode / vxs_velo_scan do not
 * know t_next and time those blocks as the packet; the _next variants below use it: the pause
 * is a whole number N of group periods (N = shift / period, rounded) and group g after the jump
 * is put (N + g) / (N + groups) of the way from t_packet to t_next, which is t_packet + shift +
 * the offsets on a clock at the nominal rate and stays exact (to the µs of the timestamps) on a
 * drifting one.
 *
 * vxs_velo_next_t is what the decoder needs of the sensor's next data packet. */
typedef struct {
    vxs_time_t t; /* its timestamp (device clock, hour resolved); VXS_TIME_NONE: unknown */
    int az;       /* its first block's azimuth, 0.01 degree: only checks that it follows this
                     packet without a loss (never used to interpolate); -1: unknown */
} vxs_velo_next_t;

/* vxs_velo_jump_t reports an azimuth jump inside a packet (a limited field of view's pause).
 * A jump is a step between firing groups far larger than the packet's median step (> 4 x median
 * + 0.1 degree); packets of fewer than 3 firing groups (VLS-128) never report one. */
typedef struct {
    int block;          /* first block after the jump; -1: no jump (the rest is then 0) */
    uint16_t az_stop;   /* azimuth of the last firing group before the jump, 0.01 degree */
    uint16_t az_resume; /* azimuth of the first firing group after it */
    uint16_t step;      /* the packet's median azimuth step between firing groups, 0.01 deg */
    int64_t shift_ns;   /* how much later than t_packet + offsets block `block` is timed (the
                           later ones: the same to within the clock's drift); 0 when the next
                           packet could not be used (see below) */
} vxs_velo_jump_t;

/* vxs_velo_decode_next is vxs_velo_decode knowing the sensor's next data packet (`next`, NULL
 * when unknown): the blocks after an azimuth jump are timed shift later (see above). The shift
 * is applied only when next->t and next->az are known, the next packet follows without a loss
 * (its first azimuth is one regular step, not a jump, past this packet's last group) and
 * 0 < shift < one turn at the packet's rotation rate; otherwise those blocks keep the packet's
 * time, as vxs_velo_decode gives them. `next_az` interpolates exactly as in vxs_velo_decode.
 * *jump (may be NULL) tells whether and where the packet jumps and the shift applied. */
vxs_status_t vxs_velo_decode_next(vxs_velo_t *v, vxs_points_t *out, const uint8_t *pkt,
                                  size_t len, vxs_time_t t_packet, int next_az,
                                  const vxs_velo_next_t *next, vxs_velo_jump_t *jump);

/* vxs_velo_scan_next is vxs_velo_scan with the timing of vxs_velo_decode_next (and the same
 * interpolation as vxs_velo_scan: the packet's own last step). */
vxs_status_t vxs_velo_scan_next(vxs_velo_t *v, vxs_points_t *out, const uint8_t *pkt, size_t len,
                                vxs_time_t t_packet, const vxs_velo_next_t *next,
                                vxs_velo_jump_t *jump);

/* vxs_velo_firing_offset_ns returns the firing-time offset of (block, channel) in a packet of
 * `model` in `return_mode`, relative to the packet timestamp, in ns (negative for VLS-128, whose
 * timestamp is 8.7 µs after the first firing). Exposed for tests and tools. */
int64_t vxs_velo_firing_offset_ns(vxs_velo_model_t model, uint8_t return_mode, int block,
                                  int channel);

/* vxs_velo_position_t is a decoded position (telemetry) packet. */
typedef struct {
    uint32_t usec_toh;     /* offset 198: µs past the hour, device clock */
    uint8_t pps;           /* offset 202: 0 absent, 1 synchronizing, 2 locked, 3 error */
    char nmea[129];        /* offset 206: the NMEA sentence, NUL-terminated ("" if none) */
    bool has_rmc_time;     /* a valid $GPRMC with date and time was found */
    vxs_time_t rmc_time;   /* its UTC date and time (whole seconds + fraction as sent) */
    bool rmc_valid;        /* RMC status 'A' */
    double lat_deg;        /* NaN unless RMC or GGA carried a position */
    double lon_deg;
    double speed_mps;      /* RMC speed over ground (knots converted), NaN if none */
    double course_deg;     /* RMC course over ground, degrees true (clockwise from north),
                              NaN if none */
} vxs_velo_position_t;

/* vxs_velo_parse_position decodes a 512-byte position packet. A bad NMEA checksum or a garbled
 * sentence is not an error of the packet: has_rmc_time stays false. VXS_E_MALFORMED for a
 * wrong size. */
vxs_status_t vxs_velo_parse_position(vxs_velo_position_t *out, const uint8_t *pkt, size_t len);

/* ==== 2. Ouster ========================================================================= */

/* vxs_ouster_profile_t is the lidar UDP profile (metadata udp_profile_lidar). */
typedef enum {
    VXS_OUSTER_LEGACY = 0,
    VXS_OUSTER_RNG19_RFL8_SIG16_NIR16 = 1,
    VXS_OUSTER_RNG19_RFL8_SIG16_NIR16_DUAL = 2,
    VXS_OUSTER_RNG15_RFL8_NIR8 = 3,
    VXS_OUSTER_FUSA_RNG15_RFL8_NIR8_DUAL = 4
} vxs_ouster_profile_t;

/* vxs_ouster_profile_name returns the metadata spelling ("LEGACY", "RNG19_RFL8_SIG16_NIR16"...). */
const char *vxs_ouster_profile_name(vxs_ouster_profile_t p);

/* vxs_ouster_meta_t is a sensor's parsed metadata with its precomputed XYZ table. */
typedef struct vxs_ouster_meta vxs_ouster_meta_t;

/* vxs_ouster_info_t is what the metadata says about the packets. */
typedef struct {
    vxs_ouster_profile_t profile;
    uint32_t columns_per_frame;  /* W */
    uint32_t columns_per_packet;
    uint32_t pixels_per_column;  /* H */
    uint32_t column_first;       /* column_window, inclusive */
    uint32_t column_last;
    uint16_t udp_port_lidar;     /* 0 when the metadata does not say */
    uint16_t udp_port_imu;
    uint64_t prod_sn;            /* 0 when absent */
    uint32_t init_id;            /* initialization_id, 0 when absent */
    size_t lidar_packet_size;    /* expected UDP payload of a lidar packet */
    char prod_line[32];
} vxs_ouster_info_t;

/* vxs_ouster_meta_load reads a metadata JSON file; vxs_ouster_meta_parse one in memory. The
 * flat (json_calibration_version 4), nested (sensor_info / beam_intrinsics / lidar_data_format /
 * config_params) and reduced (beam angles + lidar_mode) forms are accepted. Errors name the file
 * and the JSON key path. *out is freed with vxs_ouster_meta_destroy. */
vxs_status_t vxs_ouster_meta_load(vxs_ouster_meta_t **out, const char *path, char *err,
                                  size_t err_len);
vxs_status_t vxs_ouster_meta_parse(vxs_ouster_meta_t **out, const char *json, size_t len,
                                   const char *name, char *err, size_t err_len);
/* vxs_ouster_meta_destroy frees the metadata. Accepts NULL. */
void vxs_ouster_meta_destroy(vxs_ouster_meta_t *m);

/* vxs_ouster_meta_get_info fills *out from the metadata (zeroes it when m is NULL). */
void vxs_ouster_meta_get_info(const vxs_ouster_meta_t *m, vxs_ouster_info_t *out);

/* vxs_ouster_header_t is what the index pass reads from a lidar packet. */
typedef struct {
    uint32_t frame_id;
    uint32_t init_id;       /* profile packets; 0 for legacy */
    uint64_t prod_sn;       /* profile packets; 0 for legacy */
    uint16_t columns_valid; /* columns whose status says valid */
    uint16_t mid_first;     /* measurement_id of the first / last valid column */
    uint16_t mid_last;
    uint64_t ts_first;      /* column timestamps (device ns) of the first / last valid column */
    uint64_t ts_last;
} vxs_ouster_header_t;

/* vxs_ouster_parse_header checks the size against the metadata and reads the header and column
 * headers. VXS_E_MALFORMED (wrong size, measurement_id >= W, frame ids that disagree within
 * the packet, a profile packet whose packet_type is not 1, a column timestamp >= 2^63). Only
 * valid columns are checked: invalid ones are skipped whatever they hold. A packet with no
 * valid column is not an error: columns_valid = 0. */
vxs_status_t vxs_ouster_parse_header(vxs_ouster_header_t *out, const vxs_ouster_meta_t *m,
                                     const uint8_t *pkt, size_t len);

/* vxs_ouster_decode appends the points of a lidar packet's valid columns to `out`: XYZ by the
 * metadata formula, intensity = reflectivity, laser = beam row, t_ns = the column timestamp
 * (device clock; TIME_FROM_INTERNAL_OSC counts from power-up). Pixels with range 0 are not
 * emitted; dual profiles emit the second return flagged VXS_RET_SECOND. */
vxs_status_t vxs_ouster_decode(const vxs_ouster_meta_t *m, vxs_points_t *out, const uint8_t *pkt,
                               size_t len);

/* vxs_ouster_count_points returns how many points vxs_ouster_decode would emit for this packet
 * (0 for a packet it would reject), without computing XYZ, and ORs their VXS_RET_* flags into
 * *ret_bits when ret_bits is not NULL. */
uint32_t vxs_ouster_count_points(const vxs_ouster_meta_t *m, uint8_t *ret_bits,
                                 const uint8_t *pkt, size_t len);

/* vxs_ouster_imu_t is a decoded 48-byte legacy IMU packet. */
typedef struct {
    uint64_t sys_ts, accel_ts, gyro_ts; /* device ns */
    float accel_g[3];                   /* g */
    float gyro_dps[3];                  /* deg/s */
} vxs_ouster_imu_t;

/* vxs_ouster_parse_imu decodes an IMU packet. VXS_E_MALFORMED for a wrong size. */
vxs_status_t vxs_ouster_parse_imu(vxs_ouster_imu_t *out, const uint8_t *pkt, size_t len);

/* ==== 3. The sweep reader ================================================================ */

/* vxs_lidar_options_t configures vxs_lidar_open. Initialize with vxs_lidar_options_init. */
typedef struct {
    uint32_t agent;                 /* copied into every record */
    uint32_t sensor;                /* sensor number of the first LiDAR stream; further streams
                                       (other source addresses) get sensor + 1, + 2... */
    uint32_t source_index;          /* copied into locators */
    vxs_velo_model_t velo_model;    /* AUTO: from the packets (HDL-64E must be named) */
    const vxs_velo_calib_t *velo_calib; /* NULL: built-in default of the model */
    double cut_azimuth_deg;         /* Velodyne sweeps start where the rotation crosses this
                                       azimuth (default 0) */
    double min_range_m, max_range_m; /* point filters (defaults 0 / 0 = none) */
    const vxs_ouster_meta_t *const *ouster_meta; /* metadata of the Ouster sensors, matched to
                                                    packet streams by packet size and ports */
    size_t ouster_meta_count;
    const vxs_limits_t *limits;     /* NULL: defaults */
    const vxs_diag_sink_t *diag;    /* bad packets go here (NULL: logged) */
    /* packet_records: also yield a VXS_REC_LIDAR_PACKET record for every LiDAR data packet
     * accepted, in capture order, before the sweeps it completes: its stream's sensor number,
     * its capture time (logger clock), and as device_time the instant it left the sensor: its
     * last firing (Velodyne: the packet timestamp + the last firing's offset; Ouster: the last
     * valid column's timestamp); u.packet holds its sizes, addresses and ports. A Velodyne
     * packet whose azimuth jumps (a limited field of view) gets none: it leaves after the
     * pause, so its capture says nothing about the clocks. The clock estimation samples device
     * against capture time with them (vxs_sync.h "Offset series"). Default false. */
    bool packet_records;
} vxs_lidar_options_t;

void vxs_lidar_options_init(vxs_lidar_options_t *o);

/* vxs_lidar_t reads a capture's LiDAR streams. */
typedef struct vxs_lidar vxs_lidar_t;

/* vxs_lidar_open opens `path` for the index pass. Velodyne times: the hour of µs-past-the-hour
 * timestamps comes from the first $GPRMC of a position packet in the first seconds of the
 * capture when there is one, else from the capture clock (±30 min rule), and is then carried
 * forward packet by packet. */
vxs_status_t vxs_lidar_open(vxs_lidar_t **out, const char *path, const vxs_lidar_options_t *opt,
                            char *err, size_t err_len);

/* vxs_lidar_open_mem reads a capture held in memory (`data`, `len` bytes, borrowed: it must
 * outlive the reader); `name` is used in messages. Otherwise as vxs_lidar_open. */
vxs_status_t vxs_lidar_open_mem(vxs_lidar_t **out, const void *data, size_t len, const char *name,
                                const vxs_lidar_options_t *opt, char *err, size_t err_len);

/* vxs_lidar_next yields the next record, in order of completion: VXS_REC_LIDAR_SWEEP for each
 * sweep, VXS_REC_IMU for each Ouster IMU packet and Velodyne position packet, and with the
 * option packet_records VXS_REC_LIDAR_PACKET for each data packet. Lent until the
 * next call. VXS_EOF at the end (the last, unfinished sweep is yielded first, partial). Bad
 * packets are reported to the diag sink with file, packet number and byte offset, counted, and
 * skipped; reading goes on. */
vxs_status_t vxs_lidar_next(vxs_lidar_t *l, const vxs_record_t **out);

/* vxs_lidar_fetch_points computes the points of `sweep` (a record this reader produced, or a
 * copy of it) into `out` (replacing its content), by re-reading the packets its locator spans.
 * Sweeps may be fetched in any order, during or after the index pass. */
vxs_status_t vxs_lidar_fetch_points(vxs_lidar_t *l, vxs_points_t *out, const vxs_record_t *sweep);

/* vxs_lidar_counts_t counts what the reader has seen. */
typedef struct {
    uint64_t packets;          /* capture records read */
    uint64_t lidar_packets;    /* LiDAR data packets used */
    uint64_t position_packets; /* Velodyne position + Ouster IMU */
    uint64_t other_packets;    /* not LiDAR: ignored */
    uint64_t bad_packets;      /* LiDAR packets rejected (reported to diag) */
    uint64_t config_errors;    /* streams whose decoder cannot be set up (calibration that does
                                  not fit the model, HDL-64E without one): reported once each,
                                  all their packets counted in bad_packets */
    uint64_t sweeps;
    uint64_t streams;          /* distinct LiDAR sensors seen */
} vxs_lidar_counts_t;

void vxs_lidar_get_counts(const vxs_lidar_t *l, vxs_lidar_counts_t *out);

/* vxs_lidar_stream_t describes one LiDAR stream (one sensor) found in the capture. */
typedef struct {
    uint32_t sensor;
    bool ouster;
    vxs_velo_model_t velo_model;    /* Velodyne */
    uint8_t return_mode;            /* Velodyne byte 1204 */
    const vxs_ouster_meta_t *meta;  /* Ouster */
    uint8_t src_addr[16];           /* IPv4-mapped or IPv6 */
    uint16_t dst_port;
} vxs_lidar_stream_t;

/* vxs_lidar_get_stream fills *out for the i-th stream; VXS_E_NOTFOUND past the end. */
vxs_status_t vxs_lidar_get_stream(const vxs_lidar_t *l, vxs_lidar_stream_t *out, size_t i);

/* vxs_lidar_errmsg returns the last error message ("" if none). Never NULL. */
const char *vxs_lidar_errmsg(const vxs_lidar_t *l);

/* vxs_lidar_position returns the byte offset reached (for progress) and the file size. */
uint64_t vxs_lidar_position(const vxs_lidar_t *l, uint64_t *file_size);

/* vxs_lidar_close frees everything. Accepts NULL. */
void vxs_lidar_close(vxs_lidar_t *l);

#ifdef __cplusplus
}
#endif
#endif /* VXS_LIDAR_H */
