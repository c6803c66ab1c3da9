/*
 * synth.h: the synthetic drive generator (`v2xsync synth`, `v2xsync demo`). Internal to
 * datasets/ and its tests; not installed.
 *
 * A drive is a world model (this header: agents, their true trajectories, their clocks, the
 * radio links) plus writers that render it into the formats real recorders produce:
 *
 *   synth_v2x.c     per agent  <id>/v2x.pcap      what its radio sent and received
 *   synth_lidar.c   per lidar  <id>/lidar.pcap    Velodyne VLP-16 / VLP-32C data + position
 *   synth_camera.c  ego        ego/camera.mp4     H.264 (libx264), + ego/camera.timestamps
 *                                                  (other names with realism sidecar-names)
 *   synth.c         scenario.json (the manifest, core/vxs_manifest.h) and truth.json
 *
 * Everything is a pure function of (seed, profile, duration, realism, clean, faults): each
 * writer draws from its own random streams (synth_rng_seed with a stream id of its own), so the
 * same seed gives byte-identical files, and adding draws to one writer never changes another's
 * output. --clean and the faults (synth_faults_t) draw nothing: without them the bytes are the
 * drive's without them.
 *
 * Realism (synth_realism_t). The "classic" drive has one symmetric latency floor on every
 * link, one own-message logging delay for every agent, cameras stamped at exposure, one large
 * logger step, a free-running LiDAR ahead of or behind true time by 5-20 s, the sidecar name
 * `v2xsync init` looks for, V2X senders that report their exact pose (their box centre) while
 * claiming a fixed accuracy, and both cars on one ring with the phone pacing a straight line.
 * Each realism option replaces one of these simplifications by what real rigs do (see
 * synth_realism_t); with every option off the drive is byte-identical to the classic one,
 * because the options' parameters are drawn from streams of their own (SYNTH_STREAM_REALISM,
 * SYNTH_STREAM_GNSS) and the writers draw nothing more for an option that is off.
 *
 * Time. "True time" is GNSS time expressed as ns since 1970 UTC (vxs_time_t); V2X generation
 * times are taken from it (senders are GNSS-timed). Each agent's logger (the computer writing
 * its captures) has a clock of its own: local = true + offset + drift * (true - epoch) [+ jump
 * after jump_at]. Capture timestamps are logger-clock readings. A LiDAR's device clock is UTC
 * when gps_locked, else a free-running clock of its own.
 *
 * Space. World frame: ENU metres around (lat0, lon0, alt0); the roundabout's centre is the
 * origin. Body frame of an agent: x forward, y left, z up, origin at the centre of its box's
 * footprint on the ground (z = 0 is the road). An agent's box spans x in [-length/2,
 * length/2], y in [-width/2, width/2], z in [0, height] of its body frame. A sensor's extrinsics
 * map sensor -> body: p_body = R(quat) p_sensor + mount. The LiDAR sensor frame is the one
 * sensors/velodyne.c outputs (x toward azimuth 0, y left, z up; azimuth grows clockwise seen from
 * above, so azimuth 90 deg points to -y).
 */
#ifndef VXS_SYNTH_H
#define VXS_SYNTH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "vxs_core.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ==== Random numbers: xoshiro256** seeded by splitmix64 (Blackman & Vigna) ============== */

typedef struct {
    uint64_t s[4];
} synth_rng_t;

/* Stream ids: one per consumer, so each draws an independent sequence from the seed. */
enum {
    SYNTH_STREAM_WORLD = 1,    /* clock offsets, drifts, phases (synth.c) */
    SYNTH_STREAM_V2X = 100,    /* synth_v2x.c: 100..199 */
    SYNTH_STREAM_LIDAR = 200,  /* synth_lidar.c: 200..299 */
    SYNTH_STREAM_CAMERA = 300, /* synth_camera.c: 300..399 */
    SYNTH_STREAM_REALISM = 400, /* synth.c: the realism options' parameters, 400..499 */
    SYNTH_STREAM_GNSS = 500     /* synth.c: the GNSS error processes (realism gnss), 500 + agent */
};

void synth_rng_seed(synth_rng_t *r, uint64_t seed, uint64_t stream);
uint64_t synth_rng_u64(synth_rng_t *r);
double synth_rng_uniform(synth_rng_t *r);             /* [0, 1) with 53 random bits */
double synth_rng_range(synth_rng_t *r, double lo, double hi); /* [lo, hi) */
double synth_rng_normal(synth_rng_t *r);              /* mean 0, sd 1 (Box-Muller) */
double synth_rng_exp(synth_rng_t *r, double mean);    /* exponential, mean `mean` */

/* ==== Clocks ============================================================================ */

/* synth_step_t is a step of a logger clock (an NTP step): `step_ns` is added to every reading
 * from true time `at_ns` on (negative: the clock steps back). */
typedef struct {
    int64_t at_ns;
    int64_t step_ns;
} synth_step_t;

/* synth_slew_t is a change of a clock's rate: `rate_ppm` is added to its drift over true time
 * [start_ns, end_ns), and what it accumulated stays after end_ns (NTP slewing an offset away:
 * a few hundred ppm for seconds). end_ns = INT64_MAX: the rate changes for good (a frequency
 * correction: the drift is piecewise constant). */
typedef struct {
    int64_t start_ns;
    int64_t end_ns;
    double rate_ppm;
} synth_slew_t;

#define SYNTH_CLOCK_MAX_STEPS 8
#define SYNTH_CLOCK_MAX_SLEWS 4

/* synth_clock_t maps true time to a clock's reading:
 *   local = true + offset_ns + round(drift_ppm * 1e-6 * (true - epoch_ns)
 *                                    + sum_k slews[k].rate_ppm * 1e-6 * overlap_k(true))
 *           + (true >= jump_at_ns ? jump_ns : 0) + sum_k (true >= steps[k].at_ns ? step_ns : 0)
 * where overlap_k(true) = clamp(true - start_ns, 0, end_ns - start_ns) (ns of the slew before
 * `true`). jump_at_ns = INT64_MAX: no jump. A GNSS-locked clock is all zeros (local = true).
 * The classic drive uses offset, drift and the one jump; steps and slews come from the realism
 * options (n_steps = n_slews = 0 otherwise). Rates stay well below 1e6 ppm, so the clock is
 * non-decreasing between steps. */
typedef struct {
    int64_t offset_ns;
    double drift_ppm;
    int64_t epoch_ns;
    int64_t jump_at_ns;
    int64_t jump_ns;
    size_t n_steps;        /* steps[] in time order, none at jump_at_ns */
    synth_step_t steps[SYNTH_CLOCK_MAX_STEPS];
    size_t n_slews;
    synth_slew_t slews[SYNTH_CLOCK_MAX_SLEWS];
} synth_clock_t;

int64_t synth_clock_local(const synth_clock_t *c, int64_t true_ns);
/* synth_clock_true inverts synth_clock_local: the latest true time whose reading is `local_ns`
 * or, where no instant reads it, the latest whose reading is below it (exact to 1 ns away from
 * steps; a reading that two true times share around a backward step maps to the later one, a
 * reading inside a forward step's gap to the step's instant). */
int64_t synth_clock_true(const synth_clock_t *c, int64_t local_ns);

/* ==== The world ========================================================================= */

typedef enum { SYNTH_PROFILE_ETSI = 0, SYNTH_PROFILE_US = 1, SYNTH_PROFILE_MIXED = 2 } synth_profile_t;

/* Agents, always in this order. */
enum { SYNTH_EGO = 0, SYNTH_VEHICLE2 = 1, SYNTH_RSU = 2, SYNTH_PHONE = 3, SYNTH_N_AGENTS = 4 };

/* Agent types, numbered as vxs_agent_type_t. */
enum { SYNTH_TYPE_VEHICLE = 0, SYNTH_TYPE_RSU = 1, SYNTH_TYPE_VRU = 2 };

/* Motion laws (synth_agent_t.law). Each is closed-form in t = (true_ns - start_ns) / 1e9 s, runs
 * on before the start and after the end, and gives a pose whose velocity, speed, accel_long and
 * yaw_rate are the exact derivatives of its position, speed and yaw (accel_lat = speed *
 * yaw_rate), so anything rendered from synth_pose is exact at any instant.
 *   SYNTH_LAW_STATIC   at the origin, facing east (the RSU)
 *   SYNTH_LAW_RING     counter-clockwise on the ring (radius ring_radius_m around the origin):
 *                      arc length s(t) = s0 + v0 t + dv/omega (cos phi - cos(omega t + phi)),
 *                      speed v0 + dv sin(omega t + phi) (the ego always; vehicle2 in the classic
 *                      drive)
 *   SYNTH_LAW_LINE     back and forth along the sidewalk y = SYNTH_PHONE_Y: x = s0 + dv/omega
 *                      sin(omega t + phi), heading east or west (the classic phone)
 *   SYNTH_LAW_STADIUM  (realism motion: vehicle2) counter-clockwise around synth_stadium, with the
 *                      ring's arc-length law: speed 6-18 m/s, |accel_long| <= 3 m/s^2, yaw rate 0
 *                      on the straights and v / 40 m on the semicircles (it jumps at the joins)
 *   SYNTH_LAW_BLOCK    (realism motion: the phone) counter-clockwise around synth_block, stop and
 *                      go: a cycle of period T = walk_s + 2 ramp_s + pause_s, at cycle time
 *                      c = (t + cycle_off_s) mod T: walk_mps for c < walk_s; slowing down, speed
 *                      walk_mps (1 + cos(pi u / ramp_s)) / 2 with u = c - walk_s, for ramp_s;
 *                      standing still (speed 0, heading kept) for pause_s; speeding up, speed
 *                      walk_mps (1 - cos(pi u / ramp_s)) / 2, for ramp_s. Arc length s0 + the
 *                      integral of the speed from t = -cycle_off_s (closed form). */
enum {
    SYNTH_LAW_STATIC = 0,
    SYNTH_LAW_RING = 1,
    SYNTH_LAW_LINE = 2,
    SYNTH_LAW_STADIUM = 3,
    SYNTH_LAW_BLOCK = 4
};

#define SYNTH_PHONE_Y (-29.0) /* the classic phone's sidewalk */

/* synth_track_t is a closed track: a rectangle with rounded corners around (cx, cy), its
 * east-west straights lx long, its north-south straights ly long, its corners quarter circles of
 * radius r. Arc length u runs counter-clockwise from the west end of the southern straight
 * (cx - lx/2, cy - ly/2 - r), heading east. */
typedef struct {
    double cx, cy, lx, ly, r;
} synth_track_t;

/* The tracks of realism motion, both clear of the ring: the ring's vehicles (within 23.1 m of the
 * origin, boxes included) and the RSU never come within 4 m of a box on them, nor they of each
 * other.
 *   synth_stadium  vehicle2: straights 120 m along y = -48 and y = 32, semicircles of 40 m around
 *                  (+-60, -8) (lx 120, ly 0, r 40; 491.3 m) around the ring: 10-122 m from the
 *                  ego, 32-100 m from the RSU (LiDAR ranges: VLP-32C 200 m, VLP-16 100 m)
 *   synth_block    the phone: the sidewalk around a 28 x 12 m block south of the ring, x in
 *                  [-14, 14], y in [-40, -28], corners of 2 m (lx 24, ly 8, r 2; 76.6 m) */
extern const synth_track_t synth_stadium, synth_block;

/* synth_track_length is the track's length; synth_track_at gives the point at arc length u (any
 * u: taken modulo the length), the heading there (yaw, rad, counter-clockwise from east) and the
 * curvature (1/r on a corner, 0 on a straight). */
double synth_track_length(const synth_track_t *k);
void synth_track_at(const synth_track_t *k, double u, double *x, double *y, double *yaw,
                    double *curvature);

/* synth_pose_t is an agent's true state at one instant. */
typedef struct {
    double x, y, z;        /* body origin, world ENU metres */
    double yaw;            /* rad, counter-clockwise from east (world +x); body x axis */
    double vx, vy;         /* m/s, world */
    double speed;          /* m/s, >= 0 */
    double accel_long;     /* m/s^2 along the heading */
    double accel_lat;      /* m/s^2, positive to the left */
    double yaw_rate;       /* rad/s, counter-clockwise positive */
} synth_pose_t;

/* synth_lidar_t is an agent's Velodyne. */
typedef struct {
    bool present;
    int model;                 /* 16: VLP-16, 32: VLP-32C */
    double mount[3];           /* sensor origin in the body frame, m */
    double roll_deg, pitch_deg, yaw_deg; /* R = Rz(yaw) Ry(pitch) Rx(roll), sensor -> body */
    double quat[4];            /* the same rotation as [w, x, y, z] */
    double fov_start_deg, fov_end_deg; /* packets are sent while the sensor azimuth is in
                                          [start, end] (clockwise, may wrap through 0); the
                                          sensor's "FOV" setting */
    double rpm;                /* 600: 10 Hz */
    bool gps_locked;           /* device clock = true time; PPS locked, $GPRMC valid */
    synth_clock_t device;      /* the device clock (all zero when gps_locked) */
    uint8_t mac[6];
    uint32_t ip;               /* sensor IPv4 address (host order), e.g. 192.168.1.201 */
    double phase_deg;          /* azimuth at the drive's start */
} synth_lidar_t;

/* synth_camera_t is the ego's camera. */
typedef struct {
    bool present;
    int width, height;     /* pixels */
    double fps;            /* nominal frame rate */
    double hfov_deg;       /* horizontal field of view of the pinhole model */
    double mount[3];       /* optical centre in the body frame; looks along body +x */
    double drop_prob;      /* probability a frame is dropped (never written) */
    double stamp_latency_ms; /* the logger stamps a frame this long after its exposure ... */
    double stamp_jitter_ms;  /* ... + N(0, jitter) per frame (0, 0: stamped at exposure) */
    char file[64];         /* the video's name in the agent's folder (SYNTH_CAMERA_FILE) */
    char times[64];        /* the sidecar's name beside it (SYNTH_CAMERA_TIMES) */
} synth_camera_t;

/* Radio stacks, to index per-stack arrays. */
enum { SYNTH_STACK_ETSI = 0, SYNTH_STACK_US = 1, SYNTH_N_STACKS = 2 };

/* synth_agent_t is one road user and its recorders. */
typedef struct {
    const char *id;        /* "ego", "vehicle2", "rsu", "phone" */
    int type;              /* SYNTH_TYPE_* */
    double length, width, height; /* its box, m */
    uint32_t station_id;   /* ETSI StationID; J2735 TemporaryID is its 4 big-endian bytes */
    int etsi_station_type; /* 5 passengerCar, 15 roadSideUnit, 1 pedestrian */
    uint8_t mac[6];        /* its V2X radio's MAC */
    bool etsi, us;         /* which V2X stacks it runs (from the profile): it receives on them */
    bool tx_etsi, tx_us;   /* which of them it also sends on (the RSU never sends on the US
                              stack; realism rx-only silences more) */
    double tx_log_ms[SYNTH_N_STACKS];  /* own messages are logged tx_log_ms[stack] + Exp(mean */
    double tx_jitter_ms[SYNTH_N_STACKS]; /* tx_jitter_ms[stack]) after generation */
    synth_clock_t logger;  /* the clock its captures are stamped with */
    synth_lidar_t lidar;
    synth_camera_t camera;
    /* trajectory parameters (synth_pose) */
    int law;               /* SYNTH_LAW_*: which motion law synth_pose applies */
    double s0, v0, dv, omega, phi; /* ring and stadium: arc-length law s(t) = s0 + v0 t +
                                      dv/omega (cos phi - cos(omega t + phi)), m, m/s, rad/s,
                                      rad; line: see SYNTH_LAW_LINE */
    double walk_mps, ramp_s, walk_s, pause_s, cycle_off_s; /* block: the stop-and-go cycle */
    /* realism gnss: the agent's GNSS receiver (all 0 without it) */
    double pos_sd_m;       /* claimed (and true) 1-sigma horizontal error per axis, m */
    double pos_tau_s;      /* correlation time of the Gauss-Markov position error, s */
    double speed_sd_mps;   /* 1-sigma white speed error, m/s */
    double heading_sd_deg; /* 1-sigma white heading error, deg */
} synth_agent_t;

/* synth_link_model_t is how a broadcast reaches each receiver (per directed link). */
typedef struct {
    double p_good_to_bad, p_bad_to_good; /* Gilbert-Elliott transitions, per message */
    double loss_good, loss_bad;           /* loss probability in each state */
    double base_latency_ms;               /* minimum one-way latency (classic: every link) */
    double floor_ms[SYNTH_N_AGENTS][SYNTH_N_AGENTS]; /* [sender][receiver]: the link's minimum
                                                        latency (base_latency_ms, or drawn per
                                                        directed link by realism link-floors) */
    double jitter_mean_ms;                /* exponential jitter on top */
    double spike_prob, spike_min_ms, spike_max_ms; /* rare long delays */
    double dup_prob;                      /* a delivered message arrives twice */
    double dup_delay_min_ms, dup_delay_max_ms;
    double tx_log_delay_ms;               /* classic: every sender logs its own message this
                                             long + Exp(tx_log_delay_ms / 5) after generation
                                             (synth_agent_t.tx_log_ms is what applies) */
    int shadow_a, shadow_b;               /* agents whose link a building shadows (both ways);
                                             -1, -1 with --clean: no shadow */
    int64_t shadow_start_ns, shadow_end_ns; /* true time; every message on it is lost */
} synth_link_model_t;

/* synth_realism_t switches on what real rigs do and the classic drive does not (each off in
 * "classic", all on in "full"). Names are the CLI's (`v2xsync synth --realism`).
 *   link_floors     "link-floors": every directed link sender -> receiver gets a latency floor
 *                   of its own, U(1.5, 6.5) ms, drawn independently (so a -> b and b -> a
 *                   differ), under the same jitter, spikes and duplicates
 *   tx_log          "tx-log": every agent logs its own messages U(0.05, 1.5) ms + Exp(mean
 *                   U(0.02, 0.1) ms) after generation, drawn per agent and radio stack
 *   rx_only         "rx-only": the RSU sends nothing at all (its captures hold receptions only)
 *                   and, in the mixed profile, the phone sends nothing on the US stack
 *   camera_latency  "camera-latency": a camera's logger stamps each frame U(4, 15) ms (per
 *                   camera) + N(0, 0.5 ms) (per frame, at least 1 ms in all) after its exposure
 *   logger_steps    "logger-steps": loggers step both ways by U(5, 60) ms: the phone's 2-4 times,
 *                   each other logger's 1-3 times with probability 1/2; steps alternate in sign,
 *                   at least 1.5 s apart (and from the classic step), in [10 %, 90 %] of the drive
 *   slew            "slew": NTP-style rate changes: each logger with probability 0.6 (the phone
 *                   if none drew one) either slews at +-U(100, 500) ppm for U(2, 10) s from a time
 *                   in [10 %, 80 %] of the drive, or changes its drift for good by +-U(2, 20) ppm
 *                   from a time in [20 %, 80 %]
 *   lidar_behind    "lidar-behind": the free-running LiDAR's device clock is behind true time by
 *                   U(5, 1500) s (classic: +-5-20 s)
 *   sidecar_names   "sidecar-names": the camera's files are named as real rigs name them: the
 *                   video <stem>.mp4 with stem (seed / 5) % 3 of camera, camera_front, front, and
 *                   the sidecar pattern seed % 5 of <stem>.timestamps.txt, <stem>_timestamps.txt,
 *                   timestamps.txt, <stem>.txt, <stem>.csv (the manifest names them)
 *   gnss            "gnss": what a sender reports is its GNSS estimate, not the truth, and it
 *                   claims the accuracy it has (classic: the exact pose, claiming 1 m, PSM 2 m).
 *                   Per agent: a claimed 1-sigma horizontal accuracy pos_sd_m, U(0.3, 2.5) m for
 *                   vehicles, U(2, 6) m for the phone, U(0.05, 0.3) m for the RSU; a correlation
 *                   time pos_tau_s U(5, 60) s; speed_sd_mps U(0.02, 0.3) m/s; heading_sd_deg U(0.3,
 *                   3) deg (the phone U(5, 20) deg). The position error is a first-order
 *                   Gauss-Markov process per agent and axis (synth_gnss_t: x, y with stationary sd
 *                   pos_sd_m, z with 1.5 pos_sd_m, independent), a function of the seed and the
 *                   time; speed and heading get white N(0, sd) errors per message (speed clamped at
 *                   0; drawn by the V2X writer from a stream of its own per agent). The parameters
 *                   come from stream SYNTH_STREAM_REALISM + 8, four draws per agent in agent order,
 *                   the position errors from SYNTH_STREAM_GNSS + agent. Encoded claims: J2735
 *                   PositionalAccuracy semi-axes = pos_sd_m (one sigma, 0.05 m), orientation
 *                   unavailable; ETSI PosConfidenceEllipse semi-axes = 2.4477 pos_sd_m (cm: the
 *                   radius holding 95 % of a circular 2-D normal), orientation 0,
 *                   AltitudeConfidence the smallest class >= 1.96 x 1.5 pos_sd_m; CAM / VAM
 *                   speedConfidence 1.96 speed_sd_mps (0.01 m/s), headingConfidence 1.96
 *                   heading_sd_deg (0.1 deg; 126 "out of range" above 12.5 deg). scenario.json
 *                   gives the RSU its surveyed pose (agent "pose": its true position, heading 90)
 *   ref_point       "ref-point": a vehicle's ETSI messages (CAMs and their GN source position
 *                   vector, CAM path history included) report the ITS-S reference point of EN 302
 *                   637-2, the centre of the front of its box on the ground (body x = length / 2),
 *                   not the box centre; BSMs keep the centre (J2735), the phone and the RSU are
 *                   points. Nothing is drawn (its stream, SYNTH_STREAM_REALISM + 9, is unused)
 *   motion          "motion": varied trajectories (SYNTH_LAW_*): vehicle2 drives the stadium at
 *                   6-18 m/s (yaw rate jumping at the joins), the phone walks around the block,
 *                   stopping now and then; the ego keeps the ring. Drawn: vehicle2 s0 U(0, 491.3)
 *                   m, v0 12, dv 6 m/s, omega U(1/3, 1/2) rad/s, phi U(0, 2 pi); the phone s0
 *                   U(0, 76.6) m, walk_mps U(1.0, 1.6), ramp_s U(1.5, 2.5), walk_s U(10, 25),
 *                   pause_s U(3, 10), cycle_off_s U(0, T), from stream SYNTH_STREAM_REALISM + 10
 * With gnss, ref-point or motion on, truth.json's messages carry the sender's "true" state and
 * what it "reported" (synth_v2x.c); with gnss its agents their "claimed" accuracies (synth.c). */
typedef struct {
    bool link_floors;
    bool tx_log;
    bool rx_only;
    bool camera_latency;
    bool logger_steps;
    bool slew;
    bool lidar_behind;
    bool sidecar_names;
    bool gnss;
    bool ref_point;
    bool motion;
} synth_realism_t;

#define SYNTH_REALISM_N 11

/* synth_realism_name is the name of option i (0 <= i < SYNTH_REALISM_N, in the struct's order),
 * NULL beyond; synth_realism_flag its field in r. */
const char *synth_realism_name(size_t i);
bool *synth_realism_flag(synth_realism_t *r, size_t i);

/* synth_realism_set sets every option of r to `on` ("full" when true, "classic" when false). */
void synth_realism_set(synth_realism_t *r, bool on);

/* synth_realism_parse adds to r what `spec` asks for: "classic" (every option off), "full"
 * (every option on) or one option's name, or several of these separated by commas, applied in
 * order ("full,-slew": every option but slew; a leading '-' switches an option off). VXS_E_ARG
 * with a message naming the bad word otherwise. */
vxs_status_t synth_realism_parse(synth_realism_t *r, const char *spec, char *err, size_t err_len);

/* synth_realism_any is true when any option of r is on. */
bool synth_realism_any(const synth_realism_t *r);

/* ==== Clean drives and faults (`v2xsync synth --clean`, `--fault`) ======================== */

/* The classic drive is not clean: vehicle2's logger is stepped once (jump_ns at 60 % of the
 * drive) and a building shadows the ego-phone link for 2 s. A QA check that must read OK on a
 * clean drive and WARN or ERROR on a faulty one needs both: `clean` removes these two (the
 * logger's jump and the shadow; nothing else changes, draw for draw: the classic world draws
 * the step as always and then drops it, and realism logger-steps still keeps its steps 1.5 s
 * from where the dropped step would have been, so every other draw and option is the drive's
 * without --clean), and the faults below put one defect each into a drive, clean or not.
 *
 * synth_faults_t: each fault one defect, independent of the realism options and of each other.
 * Their parameters are fixed (nothing is drawn, so no other draw moves); truth.json's "faults"
 * states them with their times in ns and ISO 8601. Names are the CLI's (`--fault LIST`).
 *   dead_link       "dead-link": the directed link vehicle2 -> ego carries nothing, on every
 *                   stack and message type, from SYNTH_DEAD_LINK_AT of the drive to its end: a
 *                   message of vehicle2 generated at or after that instant, or with a copy that
 *                   would reach the ego at or after it, is lost (truth rx cause "dead-link");
 *                   the ego's v2x.pcap holds no reception from vehicle2 arriving after it. The
 *                   link's draws are made as always, so every other outcome is the same
 *   camera_drops    "camera-drops": the ego camera's recorder drops every frame whose exposure
 *                   lies in [SYNTH_CAMERA_DROPS_AT of the drive, + SYNTH_CAMERA_DROPS_NS): they
 *                   are neither encoded nor in the sidecar (which keeps matching the video
 *                   frame for frame: the video's pts and the sidecar both show the 1.5 s gap);
 *                   truth camera_frames marks them "dropped" with "fault": "camera-drops"
 *   unpinned_clock  "unpinned-clock": vehicle2 records no V2X: its v2x.pcap is not written and
 *                   scenario.json names no V2X source of it (it still sends, and the others
 *                   receive it; truth "messages" is unchanged: vehicle2's tx_capture_ns and
 *                   capture_ns are what its logger would have stamped). Nothing then ties
 *                   vehicle2's logger, nor its free-running LiDAR, to the others' clocks */
typedef struct {
    bool dead_link;
    bool camera_drops;
    bool unpinned_clock;
} synth_faults_t;

#define SYNTH_FAULT_N 3
#define SYNTH_DEAD_LINK_AT 0.4                      /* of the drive: the link dies */
#define SYNTH_CAMERA_DROPS_AT 0.5                   /* of the drive: the drops start */
#define SYNTH_CAMERA_DROPS_NS INT64_C(1500000000)   /* and last 1.5 s */

/* synth_fault_name is the name of fault i (0 <= i < SYNTH_FAULT_N, in the struct's order), NULL
 * beyond; synth_fault_flag its field in f (NULL beyond). */
const char *synth_fault_name(size_t i);
bool *synth_fault_flag(synth_faults_t *f, size_t i);

/* synth_faults_parse adds to f the faults of `spec`: one fault's name or several separated by
 * commas ("dead-link,camera-drops"); "none" switches every fault off. VXS_E_ARG with a message
 * naming the bad word otherwise. */
vxs_status_t synth_faults_parse(synth_faults_t *f, const char *spec, char *err, size_t err_len);

/* synth_faults_any is true when any fault of f is on. */
bool synth_faults_any(const synth_faults_t *f);

/* synth_fault_plan_t is where and when the faults of a world strike (synth_world_init_faults;
 * all zero when none is on). */
typedef struct {
    synth_faults_t on;
    size_t dead_from, dead_to;      /* dead-link: SYNTH_VEHICLE2 -> SYNTH_EGO */
    int64_t dead_start_ns;          /* true time the link dies (to the drive's end) */
    size_t drop_agent;              /* camera-drops: the first agent with a camera (the ego) */
    int64_t drop_start_ns, drop_end_ns; /* exposures in [start, end) are dropped */
    size_t unpinned_agent;          /* unpinned-clock: SYNTH_VEHICLE2 */
} synth_fault_plan_t;

/* synth_world_t is a whole drive. Filled by synth_world_init; writers only read it. */
typedef struct {
    uint64_t seed;
    synth_profile_t profile;
    synth_realism_t realism;
    int64_t start_ns;      /* true time of the drive's start */
    int64_t duration_ns;
    double lat0_deg, lon0_deg, alt0_m; /* world origin */
    double ring_radius_m;  /* SYNTH_LAW_RING drives counter-clockwise on this circle */
    size_t n_agents;       /* SYNTH_N_AGENTS */
    synth_agent_t agents[SYNTH_N_AGENTS];
    synth_link_model_t link;
    bool clean;            /* --clean: no logger jump, no shadow (truth "clean": true) */
    synth_fault_plan_t fault;
} synth_world_t;

/* Limits of `v2xsync synth`. */
#define SYNTH_MIN_DURATION_S 1.0
#define SYNTH_MAX_DURATION_S 7200.0

/* synth_world_init builds the classic world of `seed`: clock offsets, drifts and phases are
 * drawn from the seed; the geometry and rates are fixed. duration_s in [SYNTH_MIN_DURATION_S,
 * SYNTH_MAX_DURATION_S] (VXS_E_ARG otherwise). synth_world_init_ex does the same with the
 * realism options of `realism` (NULL: classic) and draws their parameters from the seed. */
vxs_status_t synth_world_init(synth_world_t *w, uint64_t seed, synth_profile_t profile,
                              double duration_s);
vxs_status_t synth_world_init_ex(synth_world_t *w, uint64_t seed, synth_profile_t profile,
                                 double duration_s, const synth_realism_t *realism);
/* synth_world_init_faults is synth_world_init_ex, then, with `clean`, the classic jump and the
 * shadow removed, and the faults of `faults` (NULL: none) planned (w->fault). With clean false
 * and no fault the world is synth_world_init_ex's, and so are the drive's bytes. */
vxs_status_t synth_world_init_faults(synth_world_t *w, uint64_t seed, synth_profile_t profile,
                                     double duration_s, const synth_realism_t *realism,
                                     bool clean, const synth_faults_t *faults);

/* synth_pose gives agent `a`'s true pose at true time t (any t; before the start and after the
 * end the motion law simply continues): the agent's SYNTH_LAW_*. */
void synth_pose(const synth_world_t *w, size_t a, int64_t true_ns, synth_pose_t *out);

/* synth_gnss_t is agent a's GNSS position error (realism gnss): per axis a first-order
 * Gauss-Markov process, exact (AR(1) with coefficient exp(-0.1 s / pos_tau_s)) on a 100 ms grid
 * of true time from the drive's start, the first grid point drawn from the stationary law, and
 * linear between grid points (whose variance dips by at most (1 - exp(-0.1 / 5)) / 2 = 1 %
 * between them). Its draws come from stream SYNTH_STREAM_GNSS + a, three normals per grid point,
 * so the error is a function of (seed, agent, time) only, whatever asks for it and when. Memory
 * is constant: it walks forward. */
typedef struct {
    double sd[3];          /* x, y: pos_sd_m; z: 1.5 pos_sd_m */
    double rho, q;         /* AR(1) coefficient per step and innovation scale sqrt(1 - rho^2) */
    int64_t start_ns;
    int64_t k;             /* the grid step held: e0 at start + k * 100 ms, e1 at the next */
    double e0[3], e1[3];
    synth_rng_t rng;
} synth_gnss_t;

#define SYNTH_GNSS_STEP_NS INT64_C(100000000)

/* synth_gnss_init starts agent a's process (its parameters: agent.pos_sd_m, pos_tau_s);
 * synth_gnss_error gives the error (world ENU m) at true time t >= start_ns. Calls must not go
 * back in time beyond the grid step last held (the V2X writer asks in generation order). */
void synth_gnss_init(synth_gnss_t *p, const synth_world_t *w, size_t a);
void synth_gnss_error(synth_gnss_t *p, int64_t true_ns, double e[3]);

/* synth_enu_to_geo converts world ENU metres to WGS-84 latitude/longitude (deg) and ellipsoidal
 * height (m), exactly (ENU -> ECEF -> geodetic); synth_geo_to_enu is its inverse. */
void synth_enu_to_geo(const synth_world_t *w, double x, double y, double z, double *lat_deg,
                      double *lon_deg, double *alt_m);
void synth_geo_to_enu(const synth_world_t *w, double lat_deg, double lon_deg, double alt_m,
                      double *x, double *y, double *z);

/* synth_quat_rotate applies the unit quaternion q = [w, x, y, z] to v. */
void synth_quat_rotate(const double q[4], const double v[3], double out[3]);

/* synth_body_to_world maps a point of agent a's body frame at pose p to the world. */
void synth_body_to_world(const synth_pose_t *p, const double body[3], double world[3]);

/* synth_leap_seconds is TAI - UTC - 32 s at UTC time t (the leap seconds since 2004-01-01, the
 * ITS and IEEE 1609.2 epoch): 5 from 2017-01-01 on. The generator only makes drives after
 * 2017 (synth_world_init refuses nothing: the start is fixed). */
int synth_leap_seconds_since_2004(int64_t utc_ns);

/* ==== Output helpers ==================================================================== */

/* synth_seterr formats one line into err (when err and err_len are set). */
void synth_seterr(char *err, size_t err_len, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

/* synth_pcap_t writes a nanosecond-resolution pcap (libpcap, DLT_EN10MB, snaplen 65535).
 * Records must be written in the order they should appear (loggers write in arrival order). */
typedef struct synth_pcap synth_pcap_t;

vxs_status_t synth_pcap_open(synth_pcap_t **out, const char *path, char *err, size_t err_len);
/* synth_pcap_write appends a frame stamped `local_ns` (a logger-clock reading). */
vxs_status_t synth_pcap_write(synth_pcap_t *p, int64_t local_ns, const uint8_t *frame,
                              size_t len);
/* synth_pcap_close flushes and closes; VXS_E_IO (with a message) if writing failed. */
vxs_status_t synth_pcap_close(synth_pcap_t *p, char *err, size_t err_len);

/* synth_eth_header writes an Ethernet II header (14 bytes) and returns 14. */
size_t synth_eth_header(uint8_t *f, const uint8_t dst[6], const uint8_t src[6],
                        uint16_t ethertype);

/* synth_udp_frame writes Ethernet + IPv4 (DF, TTL 64, id `ip_id`, header checksum) + UDP (with
 * its checksum) + payload into f (room for len + 42 bytes) and returns the frame length. The
 * destination MAC is broadcast. */
size_t synth_udp_frame(uint8_t *f, const uint8_t src_mac[6], uint32_t src_ip, uint32_t dst_ip,
                       uint16_t sport, uint16_t dport, uint16_t ip_id, const uint8_t *payload,
                       size_t len);

/* synth_path joins out_dir and rel into buf (creating the parent folders of the result);
 * VXS_E_IO with a message if a folder cannot be created, VXS_E_LIMIT if it does not fit. */
vxs_status_t synth_path(char *buf, size_t buf_len, const char *out_dir, const char *rel,
                        char *err, size_t err_len);

/* ==== truth.json ======================================================================== */

/* synth_truth_t streams truth.json: a header written by synth.c, then sections, each a JSON
 * array written one item per line as the writers produce them, so memory does not grow with
 * the drive. Items are jansson objects; numbers that are times are integers (ns). */
typedef struct synth_truth synth_truth_t;

/* synth_truth_open creates `path` and writes the header: version, seed, profile, start,
 * duration, origin, the agents (boxes, sensors, extrinsics), every clock domain, the link model
 * and the trajectories (every agent's pose every 100 ms). synth_truth_close ends the open section
 * and the document and closes the file (VXS_E_IO with a message if writing failed); it frees `t`
 * whatever happens. */
vxs_status_t synth_truth_open(synth_truth_t **out, const char *path, const synth_world_t *w,
                              char *err, size_t err_len);
vxs_status_t synth_truth_close(synth_truth_t *t, char *err, size_t err_len);

/* synth_truth_section starts the array `key` (ends any open one). */
vxs_status_t synth_truth_section(synth_truth_t *t, const char *key);
/* synth_truth_item appends `item` to the open section and releases it (json_decref), also on
 * error. */
vxs_status_t synth_truth_item(synth_truth_t *t, json_t *item);

/* ==== The writers ======================================================================= */

/* synth_job_t is what every writer gets. */
typedef struct {
    const synth_world_t *w;
    const char *out_dir;      /* the drive's folder (exists) */
    synth_truth_t *truth;
    vxs_progress_t progress;  /* done/total in ns of drive time; may be empty */
    char *err;                /* one line on failure */
    size_t err_len;
} synth_job_t;

/* Each writer writes its files and its truth section(s), and returns VXS_OK or an error with a
 * message in job->err. The paths they write are relative to out_dir; the camera's names are
 * the camera's `file` and `times`, these by default: */
#define SYNTH_V2X_FILE "v2x.pcap"          /* <agent id>/v2x.pcap, every agent */
#define SYNTH_LIDAR_FILE "lidar.pcap"      /* <agent id>/lidar.pcap, agents with a lidar */
#define SYNTH_CAMERA_FILE "camera.mp4"     /* ego/camera.mp4 (classic; camera.file) */
#define SYNTH_CAMERA_TIMES "camera.timestamps" /* ego/camera.timestamps: ns per line (classic;
                                                  camera.times) */

/* "messages": one item per generated message (synth_v2x.c). */
vxs_status_t synth_write_v2x(const synth_job_t *job);
/* "sweeps": one item per sweep of every lidar (synth_lidar.c). */
vxs_status_t synth_write_lidar(const synth_job_t *job);
/* "camera_frames": one item per frame, dropped ones included (synth_camera.c). */
vxs_status_t synth_write_camera(const synth_job_t *job);

/* synth_generate writes a whole drive into out_dir (created if missing): every writer above,
 * scenario.json and truth.json. */
vxs_status_t synth_generate(const synth_world_t *w, const char *out_dir, vxs_progress_t progress,
                            char *err, size_t err_len);

#ifdef __cplusplus
}
#endif

#endif /* VXS_SYNTH_H */
