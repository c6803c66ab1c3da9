/*
 * synth.c: the world model of a synthetic drive (agents, motion, clocks, links), the helpers the
 * writers share (random numbers, pcap, frames, paths, truth.json), scenario.json, and
 * synth_generate, which runs the writers. See synth.h.
 */
#include "synth.h"

#include <errno.h>
#include <math.h>
#include <pcap/pcap.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#ifndef M_PI
#define M_PI 3.14159265358979323846
#endif

#define DEG (M_PI / 180.0)


void synth_seterr(char *err, size_t err_len, const char *fmt, ...) {
    if (!err || err_len == 0) return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, err_len, fmt, ap);
    va_end(ap);
}

/* ==== random numbers ===================================================================== */

static uint64_t splitmix64(uint64_t *x) {
    uint64_t z = (*x += UINT64_C(0x9E3779B97F4A7C15));
    z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
    return z ^ (z >> 31);
}

void synth_rng_seed(synth_rng_t *r, uint64_t seed, uint64_t stream) {
    uint64_t x = seed ^ (stream * UINT64_C(0xD1B54A32D192ED03));
    for (int i = 0; i < 4; i++) r->s[i] = splitmix64(&x);
}

static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

uint64_t synth_rng_u64(synth_rng_t *r) {
    uint64_t *s = r->s;
    const uint64_t result = rotl(s[1] * 5, 7) * 9;
    const uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
}

double synth_rng_uniform(synth_rng_t *r) {
    return (double)(synth_rng_u64(r) >> 11) * (1.0 / 9007199254740992.0);
}

double synth_rng_range(synth_rng_t *r, double lo, double hi) {
    return lo + (hi - lo) * synth_rng_uniform(r);
}

double synth_rng_normal(synth_rng_t *r) {
    double u1 = synth_rng_uniform(r), u2 = synth_rng_uniform(r);
    if (u1 < 1e-300) u1 = 1e-300;
    return sqrt(-2.0 * log(u1)) * cos(2.0 * M_PI * u2);
}

double synth_rng_exp(synth_rng_t *r, double mean) {
    return -mean * log(1.0 - synth_rng_uniform(r));
}

/* ==== clocks ============================================================================= */

/* clock_smooth is the reading without the steps: offset, drift and slews, rounded once. */
static int64_t clock_smooth(const synth_clock_t *c, int64_t t) {
    double x = c->drift_ppm * 1e-6 * (double)(t - c->epoch_ns);
    for (size_t k = 0; k < c->n_slews; k++) {
        const synth_slew_t *s = &c->slews[k];
        if (t <= s->start_ns) continue;
        const int64_t until = t < s->end_ns ? t : s->end_ns;
        x += s->rate_ppm * 1e-6 * (double)(until - s->start_ns);
    }
    return t + c->offset_ns + (int64_t)llround(x);
}

/* clock_steps is the sum of the steps (the jump included) in effect at true time t. */
static int64_t clock_steps(const synth_clock_t *c, int64_t t) {
    int64_t sum = t >= c->jump_at_ns ? c->jump_ns : 0;
    for (size_t k = 0; k < c->n_steps; k++)
        if (t >= c->steps[k].at_ns) sum += c->steps[k].step_ns;
    return sum;
}

int64_t synth_clock_local(const synth_clock_t *c, int64_t t) {
    return clock_smooth(c, t) + clock_steps(c, t);
}

/* invert_smooth: the latest t with clock_smooth(t) <= local. The smooth part is monotone (one
 * rounding of a sum whose rate stays far from -1), so a few fixed-point steps from the drift's
 * linear guess land within a few ns (slews move it by ms), and single steps finish. */
static int64_t invert_smooth(const synth_clock_t *c, int64_t local) {
    int64_t t = c->epoch_ns + (int64_t)llround((double)(local - c->offset_ns - c->epoch_ns) /
                                               (1.0 + c->drift_ppm * 1e-6));
    for (int i = 0; i < 8 && c->n_slews; i++) {
        const int64_t d = local - clock_smooth(c, t);
        if (d >= -2 && d <= 2) break;
        t += d;
    }
    while (clock_smooth(c, t) > local) t--;
    while (clock_smooth(c, t + 1) <= local) t++;
    return t;
}

int64_t synth_clock_true(const synth_clock_t *c, int64_t local) {
    /* The step instants split true time into pieces, each smooth; the latest piece that holds
     * an instant reading `local` wins (a forward step's gap maps to the step's instant). */
    int64_t at[SYNTH_CLOCK_MAX_STEPS + 1];
    size_t n = 0;
    if (c->jump_at_ns != INT64_MAX) at[n++] = c->jump_at_ns;
    for (size_t k = 0; k < c->n_steps && n < SYNTH_CLOCK_MAX_STEPS + 1; k++) {
        size_t j = n++;
        for (; j > 0 && at[j - 1] > c->steps[k].at_ns; j--) at[j] = at[j - 1];
        at[j] = c->steps[k].at_ns;
    }
    for (size_t i = n + 1; i-- > 0;) {
        const int64_t lo = i ? at[i - 1] : INT64_MIN, hi = i < n ? at[i] : INT64_MAX;
        const int64_t t = invert_smooth(c, local - (i ? clock_steps(c, lo) : 0));
        if (i == 0 || t >= lo) return t < hi ? t : hi;
    }
    return INT64_MIN; /* not reached: piece 0 always answers */
}

/* ==== geometry ============================================================================ */

static const double WGS84_A = 6378137.0, WGS84_F = 1.0 / 298.257223563;

static void geo_to_ecef(double lat, double lon, double h, double e[3]) {
    const double e2 = WGS84_F * (2.0 - WGS84_F);
    const double sl = sin(lat * DEG), cl = cos(lat * DEG);
    const double n = WGS84_A / sqrt(1.0 - e2 * sl * sl);
    e[0] = (n + h) * cl * cos(lon * DEG);
    e[1] = (n + h) * cl * sin(lon * DEG);
    e[2] = (n * (1.0 - e2) + h) * sl;
}

static void ecef_to_geo(const double e[3], double *lat, double *lon, double *h) {
    const double e2 = WGS84_F * (2.0 - WGS84_F);
    const double p = hypot(e[0], e[1]);
    double la = atan2(e[2], p * (1.0 - e2)), n = WGS84_A, hh = 0.0;
    for (int i = 0; i < 8; i++) { /* Bowring-style fixed point: converges to 1e-12 rad */
        const double sl = sin(la);
        n = WGS84_A / sqrt(1.0 - e2 * sl * sl);
        hh = p / cos(la) - n;
        la = atan2(e[2], p * (1.0 - e2 * n / (n + hh)));
    }
    *lat = la / DEG;
    *lon = atan2(e[1], e[0]) / DEG;
    *h = hh;
}

void synth_enu_to_geo(const synth_world_t *w, double x, double y, double z, double *lat_deg,
                      double *lon_deg, double *alt_m) {
    double o[3];
    geo_to_ecef(w->lat0_deg, w->lon0_deg, w->alt0_m, o);
    const double sl = sin(w->lat0_deg * DEG), cl = cos(w->lat0_deg * DEG);
    const double so = sin(w->lon0_deg * DEG), co = cos(w->lon0_deg * DEG);
    const double e[3] = {o[0] - so * x - sl * co * y + cl * co * z,
                         o[1] + co * x - sl * so * y + cl * so * z, o[2] + cl * y + sl * z};
    ecef_to_geo(e, lat_deg, lon_deg, alt_m);
}

void synth_geo_to_enu(const synth_world_t *w, double lat_deg, double lon_deg, double alt_m,
                      double *x, double *y, double *z) {
    double o[3], e[3];
    geo_to_ecef(w->lat0_deg, w->lon0_deg, w->alt0_m, o);
    geo_to_ecef(lat_deg, lon_deg, alt_m, e);
    const double d[3] = {e[0] - o[0], e[1] - o[1], e[2] - o[2]};
    const double sl = sin(w->lat0_deg * DEG), cl = cos(w->lat0_deg * DEG);
    const double so = sin(w->lon0_deg * DEG), co = cos(w->lon0_deg * DEG);
    *x = -so * d[0] + co * d[1];
    *y = -sl * co * d[0] - sl * so * d[1] + cl * d[2];
    *z = cl * co * d[0] + cl * so * d[1] + sl * d[2];
}

void synth_quat_rotate(const double q[4], const double v[3], double out[3]) {
    const double w = q[0], x = q[1], y = q[2], z = q[3];
    /* t = 2 q_vec x v; out = v + w t + q_vec x t */
    const double tx = 2.0 * (y * v[2] - z * v[1]);
    const double ty = 2.0 * (z * v[0] - x * v[2]);
    const double tz = 2.0 * (x * v[1] - y * v[0]);
    out[0] = v[0] + w * tx + (y * tz - z * ty);
    out[1] = v[1] + w * ty + (z * tx - x * tz);
    out[2] = v[2] + w * tz + (x * ty - y * tx);
}

static void rpy_to_quat(double roll_deg, double pitch_deg, double yaw_deg, double q[4]) {
    const double cr = cos(roll_deg * DEG / 2), sr = sin(roll_deg * DEG / 2);
    const double cp = cos(pitch_deg * DEG / 2), sp = sin(pitch_deg * DEG / 2);
    const double cy = cos(yaw_deg * DEG / 2), sy = sin(yaw_deg * DEG / 2);
    q[0] = cr * cp * cy + sr * sp * sy;
    q[1] = sr * cp * cy - cr * sp * sy;
    q[2] = cr * sp * cy + sr * cp * sy;
    q[3] = cr * cp * sy - sr * sp * cy;
}

void synth_body_to_world(const synth_pose_t *p, const double b[3], double out[3]) {
    const double c = cos(p->yaw), s = sin(p->yaw);
    out[0] = p->x + c * b[0] - s * b[1];
    out[1] = p->y + s * b[0] + c * b[1];
    out[2] = p->z + b[2];
}

int synth_leap_seconds_since_2004(int64_t utc_ns) {
    /* Leap seconds after 2004-01-01 (IERS Bulletin C): end of 2005, 2008, 2012-06, 2015-06,
     * 2016. Each entry is the first UTC second after the inserted one. */
    static const int64_t after[] = {1136073600, 1230768000, 1341100800, 1435708800, 1483228800};
    const int64_t s = utc_ns / 1000000000;
    int n = 0;
    for (size_t i = 0; i < sizeof after / sizeof after[0]; i++)
        if (s >= after[i]) n++;
    return n;
}

/* ==== the world =========================================================================== */

/* Motion (synth.h SYNTH_LAW_*). Vehicles drive counter-clockwise on the ring: arc length s(t) =
 * s0 + v0 t + dv/omega (cos phi - cos(omega t + phi)), so speed = v0 + dv sin(omega t + phi).
 * The classic phone walks along the sidewalk y = SYNTH_PHONE_Y: x(t) = s0 + dv/omega sin(omega
 * t + phi), speed |dv cos(...)|. Realism motion puts vehicle2 on the stadium and the phone
 * around the block (tracks below). */

const synth_track_t synth_stadium = {0.0, -8.0, 120.0, 0.0, 40.0};
const synth_track_t synth_block = {0.0, -34.0, 24.0, 8.0, 2.0};

double synth_track_length(const synth_track_t *k) {
    return 2.0 * (k->lx + k->ly) + 2.0 * M_PI * k->r;
}

void synth_track_at(const synth_track_t *k, double u, double *x, double *y, double *yaw,
                    double *curvature) {
    const double len = synth_track_length(k), arc = 0.5 * M_PI * k->r;
    u = fmod(u, len);
    if (u < 0) u += len;
    /* Four sides j = 0..3 (south, east, north, west): a straight heading h = j * 90 deg, then a
     * quarter circle around corner j, from angle h to h + 90 deg (a point at angle a on it is
     * centre + r (sin a, -cos a), heading a). */
    static const double cs[4][2] = {{1, 0}, {0, 1}, {-1, 0}, {0, -1}}; /* exact */
    for (int j = 0; j < 4; j++) {
        const double sl = (j & 1) ? k->ly : k->lx;
        const double h = j * 0.5 * M_PI, c = cs[j][0], s = cs[j][1];
        const double ccx = k->cx + (j < 2 ? 0.5 : -0.5) * k->lx;
        const double ccy = k->cy + ((j == 1 || j == 2) ? 0.5 : -0.5) * k->ly;
        if (u < sl) { /* the straight ends where the corner's arc starts */
            const double d = sl - u;
            *x = ccx + k->r * s - d * c;
            *y = ccy - k->r * c - d * s;
            *yaw = remainder(h, 2 * M_PI);
            *curvature = 0.0;
            return;
        }
        u -= sl;
        if (u < arc || j == 3) { /* j == 3: what rounding left of the length */
            const double a = h + u / k->r;
            *x = ccx + k->r * sin(a);
            *y = ccy - k->r * cos(a);
            *yaw = remainder(a, 2 * M_PI);
            *curvature = 1.0 / k->r;
            return;
        }
        u -= arc;
    }
}

/* arc_law is the arc-length law of the ring and the stadium at t: arc s, speed v, accel a. */
static void arc_law(const synth_agent_t *g, double t, double *s, double *v, double *a) {
    const double ang = g->omega * t + g->phi;
    *s = g->s0 + g->v0 * t + g->dv / g->omega * (cos(g->phi) - cos(ang));
    *v = g->v0 + g->dv * sin(ang);
    *a = g->dv * g->omega * cos(ang);
}

/* block_law is the phone's stop and go (SYNTH_LAW_BLOCK) at t: arc s, speed v, accel a. Each
 * cycle covers walk_mps (walk_s + ramp_s): each cosine ramp covers half of what walking would. */
static void block_law(const synth_agent_t *g, double t, double *s, double *v, double *a) {
    const double W = g->walk_mps, R = g->ramp_s;
    const double T = g->walk_s + 2.0 * R + g->pause_s, D = W * (g->walk_s + R);
    const double tc = t + g->cycle_off_s;
    const double n = floor(tc / T);
    double c = tc - n * T, sc;
    if (c < 0.0) c = 0.0; /* rounding at a cycle's edge */
    const double stop = W * (g->walk_s + 0.5 * R); /* where the phone stands in the cycle */
    if (c < g->walk_s) {
        sc = W * c;
        *v = W;
        *a = 0.0;
    } else if (c < g->walk_s + R) {
        const double u = c - g->walk_s, x = M_PI * u / R;
        sc = W * g->walk_s + 0.5 * W * (u + R / M_PI * sin(x));
        *v = 0.5 * W * (1.0 + cos(x));
        *a = -0.5 * W * M_PI / R * sin(x);
    } else if (c < g->walk_s + R + g->pause_s) {
        sc = stop;
        *v = 0.0;
        *a = 0.0;
    } else {
        const double u = c - g->walk_s - R - g->pause_s, x = M_PI * u / R;
        sc = stop + 0.5 * W * (u - R / M_PI * sin(x));
        *v = 0.5 * W * (1.0 - cos(x));
        *a = 0.5 * W * M_PI / R * sin(x);
    }
    *s = g->s0 + n * D + sc;
}

void synth_pose(const synth_world_t *w, size_t a, int64_t true_ns, synth_pose_t *out) {
    const synth_agent_t *g = &w->agents[a];
    const double t = (double)(true_ns - w->start_ns) * 1e-9;
    memset(out, 0, sizeof *out);
    switch (g->law) {
    case SYNTH_LAW_STATIC: return; /* at the origin, facing east */
    case SYNTH_LAW_LINE: {
        const double ang = g->omega * t + g->phi;
        const double vx = g->dv * cos(ang);
        out->x = g->s0 + g->dv / g->omega * sin(ang);
        out->y = SYNTH_PHONE_Y;
        out->vx = vx;
        out->speed = fabs(vx);
        out->yaw = vx >= 0 ? 0.0 : M_PI;
        out->accel_long = (vx >= 0 ? -1.0 : 1.0) * g->dv * g->omega * sin(ang);
        return;
    }
    case SYNTH_LAW_RING: {
        const double r = w->ring_radius_m;
        double s, v, acc;
        arc_law(g, t, &s, &v, &acc);
        const double th = s / r;
        out->x = r * cos(th);
        out->y = r * sin(th);
        out->yaw = remainder(th + M_PI / 2, 2 * M_PI);
        out->vx = -v * sin(th);
        out->vy = v * cos(th);
        out->speed = v;
        out->accel_long = acc;
        out->accel_lat = v * v / r;
        out->yaw_rate = v / r;
        return;
    }
    default: { /* a track: the stadium or the block */
        const bool stadium = g->law == SYNTH_LAW_STADIUM;
        double s, v, acc, yaw, curv;
        if (stadium)
            arc_law(g, t, &s, &v, &acc);
        else
            block_law(g, t, &s, &v, &acc);
        synth_track_at(stadium ? &synth_stadium : &synth_block, s, &out->x, &out->y, &yaw, &curv);
        out->yaw = yaw;
        out->vx = v * cos(yaw);
        out->vy = v * sin(yaw);
        out->speed = v;
        out->accel_long = acc;
        out->yaw_rate = v * curv;
        out->accel_lat = v * out->yaw_rate;
        return;
    }
    }
}

/* ==== GNSS errors (realism gnss) ========================================================== */

static void gnss_step(synth_gnss_t *p) {
    for (int i = 0; i < 3; i++) {
        p->e0[i] = p->e1[i];
        p->e1[i] = p->rho * p->e0[i] + p->q * p->sd[i] * synth_rng_normal(&p->rng);
    }
    p->k++;
}

void synth_gnss_init(synth_gnss_t *p, const synth_world_t *w, size_t a) {
    const synth_agent_t *g = &w->agents[a];
    memset(p, 0, sizeof *p);
    p->sd[0] = p->sd[1] = g->pos_sd_m;
    p->sd[2] = 1.5 * g->pos_sd_m;
    p->rho = g->pos_tau_s > 0 ? exp(-(double)SYNTH_GNSS_STEP_NS * 1e-9 / g->pos_tau_s) : 0.0;
    p->q = sqrt(1.0 - p->rho * p->rho);
    p->start_ns = w->start_ns;
    synth_rng_seed(&p->rng, w->seed, SYNTH_STREAM_GNSS + a);
    for (int i = 0; i < 3; i++) p->e1[i] = p->sd[i] * synth_rng_normal(&p->rng); /* stationary */
    p->k = -1;
    gnss_step(p); /* e0 at the start, e1 100 ms later */
}

void synth_gnss_error(synth_gnss_t *p, int64_t true_ns, double e[3]) {
    const int64_t dt = true_ns > p->start_ns ? true_ns - p->start_ns : 0;
    const int64_t k = dt / SYNTH_GNSS_STEP_NS;
    while (p->k < k) gnss_step(p);
    /* a time before the step held (the writers ask none) reads the step's start */
    const double f = p->k == k ? (double)(dt - k * SYNTH_GNSS_STEP_NS) / SYNTH_GNSS_STEP_NS : 0.0;
    for (int i = 0; i < 3; i++) e[i] = p->e0[i] + f * (p->e1[i] - p->e0[i]);
}

static double signed_range(synth_rng_t *r, double lo, double hi) {
    const double v = synth_rng_range(r, lo, hi);
    return synth_rng_uniform(r) < 0.5 ? -v : v;
}

static synth_clock_t draw_clock(synth_rng_t *r, int64_t epoch, double off_lo_s, double off_hi_s,
                                double ppm_lo, double ppm_hi) {
    synth_clock_t c;
    memset(&c, 0, sizeof c); /* no steps, no slews */
    c.offset_ns = (int64_t)llround(signed_range(r, off_lo_s, off_hi_s) * 1e9);
    c.drift_ppm = signed_range(r, ppm_lo, ppm_hi);
    c.epoch_ns = epoch;
    c.jump_at_ns = INT64_MAX;
    c.jump_ns = 0;
    return c;
}

static void set_mac(uint8_t mac[6], uint8_t a, uint8_t b) {
    const uint8_t m[6] = {0x02, 0x56, 0x58, 0x53, a, b}; /* locally administered "VXS" */
    memcpy(mac, m, 6);
}

/* world_classic builds the classic world of synth_world_init. Its draws never change: the
 * realism options draw from streams of their own (apply_realism). */
static vxs_status_t world_classic(synth_world_t *w, uint64_t seed, synth_profile_t profile,
                                  double duration_s) {
    if (!w || !(duration_s >= SYNTH_MIN_DURATION_S && duration_s <= SYNTH_MAX_DURATION_S) ||
        profile < SYNTH_PROFILE_ETSI || profile > SYNTH_PROFILE_MIXED)
        return VXS_E_ARG;
    memset(w, 0, sizeof *w);
    synth_rng_t r;
    synth_rng_seed(&r, seed, SYNTH_STREAM_WORLD);
    w->seed = seed;
    w->profile = profile;
    w->start_ns = INT64_C(1718181000) * 1000000000; /* 2024-06-12T08:30:00Z */
    w->duration_ns = (int64_t)llround(duration_s * 1e9);
    if (profile == SYNTH_PROFILE_US) { /* Cheyenne, Wyoming (the CV pilot's city) */
        w->lat0_deg = 41.139981;
        w->lon0_deg = -104.820246;
        w->alt0_m = 1850.0;
    } else { /* Munich */
        w->lat0_deg = 48.137154;
        w->lon0_deg = 11.576124;
        w->alt0_m = 520.0;
    }
    w->ring_radius_m = 22.0;
    w->n_agents = SYNTH_N_AGENTS;
    const bool etsi = profile != SYNTH_PROFILE_US, us = profile != SYNTH_PROFILE_ETSI;
    const int64_t t0 = w->start_ns;

    static const char *const ids[SYNTH_N_AGENTS] = {"ego", "vehicle2", "rsu", "phone"};
    static const int types[SYNTH_N_AGENTS] = {SYNTH_TYPE_VEHICLE, SYNTH_TYPE_VEHICLE,
                                              SYNTH_TYPE_RSU, SYNTH_TYPE_VRU};
    static const double dims[SYNTH_N_AGENTS][3] = {
        {4.6, 1.9, 1.5}, {4.2, 1.8, 1.6}, {0.6, 0.6, 6.0}, {0.5, 0.5, 1.75}};
    static const int stypes[SYNTH_N_AGENTS] = {5, 5, 15, 1};
    for (size_t a = 0; a < SYNTH_N_AGENTS; a++) {
        synth_agent_t *g = &w->agents[a];
        g->id = ids[a];
        g->type = types[a];
        g->length = dims[a][0];
        g->width = dims[a][1];
        g->height = dims[a][2];
        g->station_id = (uint32_t)(a == SYNTH_RSU ? 2001 : a == SYNTH_PHONE ? 3001 : 1001 + a);
        g->etsi_station_type = stypes[a];
        set_mac(g->mac, 0x10, (uint8_t)(a + 1));
        g->etsi = etsi;
        g->us = us;
        g->tx_etsi = etsi;
        g->tx_us = us && g->type != SYNTH_TYPE_RSU; /* the RSU sends CAMs and DENMs only */
    }

    /* Logger clocks: offsets of tens of ms to seconds, drifts of tens of ppm; vehicle2's logger
     * is stepped once by NTP, the RSU's is NTP-disciplined (small offset and drift). */
    w->agents[SYNTH_EGO].logger = draw_clock(&r, t0, 0.05, 0.8, 5, 40);
    w->agents[SYNTH_VEHICLE2].logger = draw_clock(&r, t0, 0.5, 3.0, 10, 50);
    w->agents[SYNTH_RSU].logger = draw_clock(&r, t0, 0.02, 0.2, 1, 10);
    w->agents[SYNTH_PHONE].logger = draw_clock(&r, t0, 0.3, 2.5, 20, 50);
    {
        synth_clock_t *c = &w->agents[SYNTH_VEHICLE2].logger;
        c->jump_at_ns = t0 + (int64_t)llround(0.6 * (double)w->duration_ns);
        c->jump_ns = (int64_t)llround(signed_range(&r, 0.05, 0.3) * 1e9);
    }

    /* Motion. */
    synth_agent_t *ego = &w->agents[SYNTH_EGO], *v2 = &w->agents[SYNTH_VEHICLE2];
    synth_agent_t *rsu = &w->agents[SYNTH_RSU], *ph = &w->agents[SYNTH_PHONE];
    ego->s0 = synth_rng_range(&r, 0.0, 2 * M_PI * w->ring_radius_m);
    ego->v0 = 8.0;
    ego->dv = 2.0;
    ego->omega = 2 * M_PI / 20.0;
    ego->phi = 0.0;
    v2->s0 = ego->s0 + 16.0;
    v2->v0 = 8.0;
    v2->dv = 2.0;
    v2->omega = 2 * M_PI / 20.0;
    v2->phi = 0.6;
    ego->law = v2->law = SYNTH_LAW_RING;
    rsu->law = SYNTH_LAW_STATIC;
    ph->law = SYNTH_LAW_LINE;
    ph->s0 = 0.0;
    ph->dv = 1.4;
    ph->omega = 1.4 / 15.0; /* 15 m amplitude */
    ph->phi = synth_rng_range(&r, 0.0, 2 * M_PI);

    /* LiDARs: ego VLP-32C and RSU VLP-16 GPS/PPS-locked, vehicle2 VLP-16 free-running. All
     * mounted with azimuth 0 pointing backwards (yaw 180), and a forward FOV setting. */
    struct {
        size_t a;
        int model;
        double mount[3], roll, pitch, yaw, fov0, fov1;
        bool locked;
    } const L[3] = {
        {SYNTH_EGO, 32, {0.2, 0.0, 1.95}, 0, 0, 180, 130, 230, true},
        {SYNTH_VEHICLE2, 16, {0.0, 0.0, 1.85}, 0, 0, 180, 120, 240, false},
        {SYNTH_RSU, 16, {0.0, 0.0, 5.0}, 0, -12, 180, 90, 270, true},
    };
    for (size_t i = 0; i < 3; i++) {
        synth_lidar_t *l = &w->agents[L[i].a].lidar;
        l->present = true;
        l->model = L[i].model;
        memcpy(l->mount, L[i].mount, sizeof l->mount);
        l->roll_deg = L[i].roll;
        l->pitch_deg = L[i].pitch;
        l->yaw_deg = L[i].yaw;
        rpy_to_quat(l->roll_deg, l->pitch_deg, l->yaw_deg, l->quat);
        l->fov_start_deg = L[i].fov0;
        l->fov_end_deg = L[i].fov1;
        l->rpm = 600.0;
        l->gps_locked = L[i].locked;
        l->device = (synth_clock_t){.epoch_ns = t0, .jump_at_ns = INT64_MAX};
        if (!l->gps_locked) l->device = draw_clock(&r, t0, 5.0, 20.0, 20, 60);
        set_mac(l->mac, 0x20, (uint8_t)(L[i].a + 1));
        l->ip = (192u << 24) | (168u << 16) | (1u << 8) | (uint32_t)(201 + i);
        l->phase_deg = synth_rng_range(&r, 0.0, 360.0);
    }

    /* The ego's camera. */
    ego->camera.present = true;
    ego->camera.width = 640;
    ego->camera.height = 360;
    ego->camera.fps = 20.0;
    ego->camera.hfov_deg = 90.0;
    ego->camera.mount[0] = 1.2;
    ego->camera.mount[1] = 0.0;
    ego->camera.mount[2] = 1.35;
    ego->camera.drop_prob = 0.01;
    snprintf(ego->camera.file, sizeof ego->camera.file, "%s", SYNTH_CAMERA_FILE);
    snprintf(ego->camera.times, sizeof ego->camera.times, "%s", SYNTH_CAMERA_TIMES);

    /* Links. */
    synth_link_model_t *k = &w->link;
    k->p_good_to_bad = 0.03;
    k->p_bad_to_good = 0.35;
    k->loss_good = 0.01;
    k->loss_bad = 0.6;
    k->base_latency_ms = 1.2;
    k->jitter_mean_ms = 0.6;
    k->spike_prob = 0.005;
    k->spike_min_ms = 100.0;
    k->spike_max_ms = 300.0;
    k->dup_prob = 0.004;
    k->dup_delay_min_ms = 0.5;
    k->dup_delay_max_ms = 5.0;
    k->tx_log_delay_ms = 0.25;
    k->shadow_a = SYNTH_EGO;
    k->shadow_b = SYNTH_PHONE;
    k->shadow_start_ns = t0 + (int64_t)llround(0.45 * (double)w->duration_ns);
    k->shadow_end_ns = k->shadow_start_ns + INT64_C(2000000000);
    for (size_t a = 0; a < SYNTH_N_AGENTS; a++) {
        for (size_t b = 0; b < SYNTH_N_AGENTS; b++) k->floor_ms[a][b] = k->base_latency_ms;
        for (size_t st = 0; st < SYNTH_N_STACKS; st++) {
            w->agents[a].tx_log_ms[st] = k->tx_log_delay_ms;
            w->agents[a].tx_jitter_ms[st] = k->tx_log_delay_ms / 5.0;
        }
    }
    return VXS_OK;
}

/* ==== realism ============================================================================= */

static const char *const REALISM_NAMES[SYNTH_REALISM_N] = {
    "link-floors",  "tx-log", "rx-only",      "camera-latency", "logger-steps", "slew",
    "lidar-behind", "sidecar-names", "gnss", "ref-point", "motion"};

const char *synth_realism_name(size_t i) { return i < SYNTH_REALISM_N ? REALISM_NAMES[i] : NULL; }

bool *synth_realism_flag(synth_realism_t *r, size_t i) {
    bool *const f[SYNTH_REALISM_N] = {&r->link_floors,  &r->tx_log,    &r->rx_only,
                                      &r->camera_latency, &r->logger_steps, &r->slew,
                                      &r->lidar_behind, &r->sidecar_names, &r->gnss,
                                      &r->ref_point,    &r->motion};
    return i < SYNTH_REALISM_N ? f[i] : NULL;
}

void synth_realism_set(synth_realism_t *r, bool on) {
    for (size_t i = 0; i < SYNTH_REALISM_N; i++) *synth_realism_flag(r, i) = on;
}

bool synth_realism_any(const synth_realism_t *r) {
    synth_realism_t c = *r;
    for (size_t i = 0; i < SYNTH_REALISM_N; i++)
        if (*synth_realism_flag(&c, i)) return true;
    return false;
}

vxs_status_t synth_realism_parse(synth_realism_t *r, const char *spec, char *err,
                                 size_t err_len) {
    const char *p = spec ? spec : "";
    for (;;) {
        const char *end = strchr(p, ',');
        const size_t len = end ? (size_t)(end - p) : strlen(p);
        const bool off = len > 0 && p[0] == '-';
        const char *word = off ? p + 1 : p;
        const size_t wlen = off ? len - 1 : len;
        size_t i = 0;
        while (i < SYNTH_REALISM_N &&
               !(strlen(REALISM_NAMES[i]) == wlen && strncmp(REALISM_NAMES[i], word, wlen) == 0))
            i++;
        if (i < SYNTH_REALISM_N) {
            *synth_realism_flag(r, i) = !off;
        } else if (!off && wlen == 4 && strncmp(word, "full", 4) == 0) {
            synth_realism_set(r, true);
        } else if (!off && wlen == 7 && strncmp(word, "classic", 7) == 0) {
            synth_realism_set(r, false);
        } else {
            synth_seterr(err, err_len,
                         "unknown realism '%.*s': expected classic, full or a comma-separated "
                         "list of link-floors, tx-log, rx-only, camera-latency, logger-steps, "
                         "slew, lidar-behind, sidecar-names, gnss, ref-point, motion (a leading "
                         "'-' switches one off)",
                         (int)len, p);
            return VXS_E_ARG;
        }
        if (!end) return VXS_OK;
        p = end + 1;
    }
}

/* place_step draws the instant of a step of clock c in [lo, hi), at least STEP_GAP_NS from its
 * other steps and its jump; false when 50 draws found no room (a short drive). */
#define STEP_GAP_NS INT64_C(1500000000)
static bool place_step(synth_rng_t *r, const synth_clock_t *c, int64_t lo, int64_t hi,
                       int64_t *out) {
    for (int tries = 0; tries < 50; tries++) {
        const int64_t t = lo + (int64_t)(synth_rng_uniform(r) * (double)(hi - lo));
        bool ok = c->jump_at_ns == INT64_MAX || llabs(t - c->jump_at_ns) >= STEP_GAP_NS;
        for (size_t k = 0; k < c->n_steps && ok; k++)
            ok = llabs(t - c->steps[k].at_ns) >= STEP_GAP_NS;
        if (ok) {
            *out = t;
            return true;
        }
    }
    return false;
}

/* apply_realism draws the parameters of every option switched on in w->realism, each option
 * from a stream of its own (SYNTH_STREAM_REALISM + its index), so switching one on or off never
 * moves another's draws. */
static void apply_realism(synth_world_t *w) {
    const synth_realism_t *o = &w->realism;
    const int64_t t0 = w->start_ns, d = w->duration_ns;
    synth_rng_t r;
    if (o->link_floors) {
        synth_rng_seed(&r, w->seed, SYNTH_STREAM_REALISM + 0);
        for (size_t a = 0; a < w->n_agents; a++)
            for (size_t b = 0; b < w->n_agents; b++)
                if (a != b) w->link.floor_ms[a][b] = synth_rng_range(&r, 1.5, 6.5);
    }
    if (o->tx_log) {
        synth_rng_seed(&r, w->seed, SYNTH_STREAM_REALISM + 1);
        for (size_t a = 0; a < w->n_agents; a++)
            for (size_t st = 0; st < SYNTH_N_STACKS; st++) {
                w->agents[a].tx_log_ms[st] = synth_rng_range(&r, 0.05, 1.5);
                w->agents[a].tx_jitter_ms[st] = synth_rng_range(&r, 0.02, 0.1);
            }
    }
    if (o->rx_only) {
        w->agents[SYNTH_RSU].tx_etsi = w->agents[SYNTH_RSU].tx_us = false;
        if (w->profile == SYNTH_PROFILE_MIXED) w->agents[SYNTH_PHONE].tx_us = false;
    }
    if (o->camera_latency) {
        synth_rng_seed(&r, w->seed, SYNTH_STREAM_REALISM + 3);
        for (size_t a = 0; a < w->n_agents; a++) {
            if (!w->agents[a].camera.present) continue;
            w->agents[a].camera.stamp_latency_ms = synth_rng_range(&r, 4.0, 15.0);
            w->agents[a].camera.stamp_jitter_ms = 0.5;
        }
    }
    if (o->logger_steps) {
        synth_rng_seed(&r, w->seed, SYNTH_STREAM_REALISM + 4);
        for (size_t a = 0; a < w->n_agents; a++) {
            synth_clock_t *c = &w->agents[a].logger;
            const uint64_t k = synth_rng_u64(&r);
            const bool has = a == SYNTH_PHONE || synth_rng_uniform(&r) < 0.5;
            const size_t n = has ? (a == SYNTH_PHONE ? 2 : 1) + (size_t)(k % 3) : 0;
            bool back = synth_rng_uniform(&r) < 0.5;
            for (size_t i = 0; i < n; i++) {
                int64_t at;
                const double ms = synth_rng_range(&r, 5.0, 60.0);
                if (!place_step(&r, c, t0 + d / 10, t0 + d * 9 / 10, &at)) continue;
                size_t j = c->n_steps++;
                for (; j > 0 && c->steps[j - 1].at_ns > at; j--) c->steps[j] = c->steps[j - 1];
                c->steps[j] = (synth_step_t){at, (int64_t)llround(ms * 1e6)};
            }
            for (size_t i = 0; i < c->n_steps; i++, back = !back) /* in time order */
                if (back) c->steps[i].step_ns = -c->steps[i].step_ns;
        }
    }
    if (o->slew) {
        synth_rng_seed(&r, w->seed, SYNTH_STREAM_REALISM + 5);
        synth_slew_t drawn[SYNTH_N_AGENTS];
        bool any = false, has[SYNTH_N_AGENTS];
        for (size_t a = 0; a < w->n_agents; a++) { /* seven draws per agent, whatever is used */
            has[a] = synth_rng_uniform(&r) < 0.6;
            const bool period = synth_rng_uniform(&r) < 0.5;
            const double sign = synth_rng_uniform(&r) < 0.5 ? -1.0 : 1.0;
            const double rate = synth_rng_range(&r, 100.0, 500.0);
            const double secs = synth_rng_range(&r, 2.0, 10.0);
            const double at = synth_rng_range(&r, 0.1, 0.8), at2 = synth_rng_range(&r, 0.2, 0.8);
            const double ppm = synth_rng_range(&r, 2.0, 20.0);
            if (period) {
                const int64_t start = t0 + (int64_t)llround(at * (double)d);
                drawn[a] = (synth_slew_t){start, start + (int64_t)llround(secs * 1e9), sign * rate};
            } else {
                drawn[a] = (synth_slew_t){t0 + (int64_t)llround(at2 * (double)d), INT64_MAX,
                                          sign * ppm};
            }
            any = any || has[a];
        }
        if (!any) has[SYNTH_PHONE] = true;
        for (size_t a = 0; a < w->n_agents; a++)
            if (has[a]) w->agents[a].logger.slews[w->agents[a].logger.n_slews++] = drawn[a];
    }
    if (o->lidar_behind) {
        synth_rng_seed(&r, w->seed, SYNTH_STREAM_REALISM + 6);
        for (size_t a = 0; a < w->n_agents; a++) {
            synth_lidar_t *l = &w->agents[a].lidar;
            if (l->present && !l->gps_locked)
                l->device.offset_ns = -(int64_t)llround(synth_rng_range(&r, 5.0, 1500.0) * 1e9);
        }
    }
    if (o->gnss) {
        synth_rng_seed(&r, w->seed, SYNTH_STREAM_REALISM + 8);
        for (size_t a = 0; a < w->n_agents; a++) { /* four draws per agent, whatever its type */
            synth_agent_t *g = &w->agents[a];
            const double u_pos = synth_rng_uniform(&r), u_head = synth_rng_uniform(&r);
            g->pos_tau_s = synth_rng_range(&r, 5.0, 60.0);
            g->speed_sd_mps = synth_rng_range(&r, 0.02, 0.3);
            /* a phone's GNSS is metres off, a car's decimetres to metres, a surveyed RSU's cm */
            g->pos_sd_m = g->type == SYNTH_TYPE_VRU   ? 2.0 + 4.0 * u_pos
                          : g->type == SYNTH_TYPE_RSU ? 0.05 + 0.25 * u_pos
                                                      : 0.3 + 2.2 * u_pos;
            /* a walker's heading comes from a compass or the last steps: tens of degrees */
            g->heading_sd_deg =
                g->type == SYNTH_TYPE_VRU ? 5.0 + 15.0 * u_head : 0.3 + 2.7 * u_head;
        }
    }
    /* ref-point (index 9) draws nothing: the reference point is the box's front centre */
    if (o->motion) {
        synth_rng_seed(&r, w->seed, SYNTH_STREAM_REALISM + 10);
        synth_agent_t *v2 = &w->agents[SYNTH_VEHICLE2], *ph = &w->agents[SYNTH_PHONE];
        v2->law = SYNTH_LAW_STADIUM;
        v2->s0 = synth_rng_range(&r, 0.0, synth_track_length(&synth_stadium));
        v2->v0 = 12.0; /* 6-18 m/s */
        v2->dv = 6.0;
        v2->omega = synth_rng_range(&r, 1.0 / 3.0, 0.5); /* peak accel dv omega: 2-3 m/s^2 */
        v2->phi = synth_rng_range(&r, 0.0, 2 * M_PI);
        ph->law = SYNTH_LAW_BLOCK;
        ph->s0 = synth_rng_range(&r, 0.0, synth_track_length(&synth_block));
        ph->v0 = ph->dv = ph->omega = ph->phi = 0.0; /* the line's, unused */
        ph->walk_mps = synth_rng_range(&r, 1.0, 1.6);
        ph->ramp_s = synth_rng_range(&r, 1.5, 2.5); /* peak accel 0.6-1.7 m/s^2 */
        ph->walk_s = synth_rng_range(&r, 10.0, 25.0);
        ph->pause_s = synth_rng_range(&r, 3.0, 10.0);
        ph->cycle_off_s =
            synth_rng_range(&r, 0.0, ph->walk_s + 2.0 * ph->ramp_s + ph->pause_s);
    }
    if (o->sidecar_names) {
        static const char *const stems[3] = {"camera", "camera_front", "front"};
        const char *stem = stems[(w->seed / 5) % 3];
        for (size_t a = 0; a < w->n_agents; a++) {
            synth_camera_t *cm = &w->agents[a].camera;
            if (!cm->present) continue;
            snprintf(cm->file, sizeof cm->file, "%s.mp4", stem);
            switch (w->seed % 5) {
            case 0: snprintf(cm->times, sizeof cm->times, "%s.timestamps.txt", stem); break;
            case 1: snprintf(cm->times, sizeof cm->times, "%s_timestamps.txt", stem); break;
            case 2: snprintf(cm->times, sizeof cm->times, "timestamps.txt"); break;
            case 3: snprintf(cm->times, sizeof cm->times, "%s.txt", stem); break;
            default: snprintf(cm->times, sizeof cm->times, "%s.csv", stem); break;
            }
        }
    }
}

vxs_status_t synth_world_init_ex(synth_world_t *w, uint64_t seed, synth_profile_t profile,
                                 double duration_s, const synth_realism_t *realism) {
    const vxs_status_t st = world_classic(w, seed, profile, duration_s);
    if (st != VXS_OK || !realism) return st;
    w->realism = *realism;
    apply_realism(w);
    return VXS_OK;
}

/* ==== clean drives and faults ============================================================= */

static const char *const FAULT_NAMES[SYNTH_FAULT_N] = {"dead-link", "camera-drops",
                                                       "unpinned-clock"};

const char *synth_fault_name(size_t i) { return i < SYNTH_FAULT_N ? FAULT_NAMES[i] : NULL; }

bool *synth_fault_flag(synth_faults_t *f, size_t i) {
    bool *const p[SYNTH_FAULT_N] = {&f->dead_link, &f->camera_drops, &f->unpinned_clock};
    return i < SYNTH_FAULT_N ? p[i] : NULL;
}

bool synth_faults_any(const synth_faults_t *f) {
    return f->dead_link || f->camera_drops || f->unpinned_clock;
}

vxs_status_t synth_faults_parse(synth_faults_t *f, const char *spec, char *err, size_t err_len) {
    const char *p = spec ? spec : "";
    for (;;) {
        const char *end = strchr(p, ',');
        const size_t len = end ? (size_t)(end - p) : strlen(p);
        size_t i = 0;
        while (i < SYNTH_FAULT_N &&
               !(strlen(FAULT_NAMES[i]) == len && strncmp(FAULT_NAMES[i], p, len) == 0))
            i++;
        if (i < SYNTH_FAULT_N) {
            *synth_fault_flag(f, i) = true;
        } else if (len == 4 && strncmp(p, "none", 4) == 0) {
            memset(f, 0, sizeof *f);
        } else {
            synth_seterr(err, err_len,
                         "unknown fault '%.*s': expected a comma-separated list of dead-link, "
                         "camera-drops, unpinned-clock (or none)",
                         (int)len, p);
            return VXS_E_ARG;
        }
        if (!end) return VXS_OK;
        p = end + 1;
    }
}

/* apply_clean removes the classic drive's two defects after everything was drawn, so no draw
 * moves: realism logger-steps placed its steps away from the jump that is now gone. */
static void apply_clean(synth_world_t *w) {
    w->clean = true;
    for (size_t a = 0; a < w->n_agents; a++) {
        w->agents[a].logger.jump_at_ns = INT64_MAX;
        w->agents[a].logger.jump_ns = 0;
    }
    w->link.shadow_a = w->link.shadow_b = -1;
    w->link.shadow_start_ns = w->link.shadow_end_ns = 0;
}

/* plan_faults places the faults of f (fixed parameters: synth.h synth_faults_t). */
static void plan_faults(synth_world_t *w, const synth_faults_t *f) {
    synth_fault_plan_t *p = &w->fault;
    memset(p, 0, sizeof *p);
    p->on = *f;
    const int64_t t0 = w->start_ns, d = w->duration_ns;
    if (f->dead_link) {
        p->dead_from = SYNTH_VEHICLE2;
        p->dead_to = SYNTH_EGO;
        p->dead_start_ns = t0 + (int64_t)llround(SYNTH_DEAD_LINK_AT * (double)d);
    }
    if (f->camera_drops) {
        size_t a = 0;
        while (a + 1 < w->n_agents && !w->agents[a].camera.present) a++;
        p->drop_agent = a;
        p->drop_start_ns = t0 + (int64_t)llround(SYNTH_CAMERA_DROPS_AT * (double)d);
        p->drop_end_ns = p->drop_start_ns + SYNTH_CAMERA_DROPS_NS;
    }
    if (f->unpinned_clock) p->unpinned_agent = SYNTH_VEHICLE2;
}

vxs_status_t synth_world_init_faults(synth_world_t *w, uint64_t seed, synth_profile_t profile,
                                     double duration_s, const synth_realism_t *realism,
                                     bool clean, const synth_faults_t *faults) {
    const vxs_status_t st = synth_world_init_ex(w, seed, profile, duration_s, realism);
    if (st != VXS_OK) return st;
    if (clean) apply_clean(w);
    if (faults) plan_faults(w, faults);
    return VXS_OK;
}

vxs_status_t synth_world_init(synth_world_t *w, uint64_t seed, synth_profile_t profile,
                              double duration_s) {
    return synth_world_init_ex(w, seed, profile, duration_s, NULL);
}

/* ==== pcap ================================================================================ */

struct synth_pcap {
    pcap_t *dead;
    pcap_dumper_t *d;
    char path[1024];
};

vxs_status_t synth_pcap_open(synth_pcap_t **out, const char *path, char *err, size_t err_len) {
    *out = NULL;
    synth_pcap_t *p = calloc(1, sizeof *p);
    if (!p) return VXS_E_NOMEM;
    snprintf(p->path, sizeof p->path, "%s", path);
    p->dead = pcap_open_dead_with_tstamp_precision(DLT_EN10MB, 65535, PCAP_TSTAMP_PRECISION_NANO);
    if (!p->dead) {
        free(p);
        return VXS_E_NOMEM;
    }
    p->d = pcap_dump_open(p->dead, path);
    if (!p->d) {
        synth_seterr(err, err_len, "%s: cannot create: %s", path, pcap_geterr(p->dead));
        pcap_close(p->dead);
        free(p);
        return VXS_E_IO;
    }
    *out = p;
    return VXS_OK;
}

vxs_status_t synth_pcap_write(synth_pcap_t *p, int64_t local_ns, const uint8_t *frame,
                              size_t len) {
    struct pcap_pkthdr h;
    memset(&h, 0, sizeof h);
    int64_t s = local_ns / 1000000000, ns = local_ns % 1000000000;
    if (ns < 0) {
        ns += 1000000000;
        s--;
    }
    h.ts.tv_sec = (time_t)s;
    h.ts.tv_usec = (suseconds_t)ns; /* nanosecond pcap: this field holds ns */
    h.caplen = h.len = (bpf_u_int32)len;
    pcap_dump((u_char *)p->d, &h, frame);
    return VXS_OK;
}

vxs_status_t synth_pcap_close(synth_pcap_t *p, char *err, size_t err_len) {
    if (!p) return VXS_OK;
    vxs_status_t st = VXS_OK;
    FILE *f = pcap_dump_file(p->d);
    if (pcap_dump_flush(p->d) != 0 || (f && ferror(f))) {
        synth_seterr(err, err_len, "%s: write failed: %s", p->path, strerror(errno));
        st = VXS_E_IO;
    }
    pcap_dump_close(p->d);
    pcap_close(p->dead);
    free(p);
    return st;
}

size_t synth_eth_header(uint8_t *f, const uint8_t dst[6], const uint8_t src[6],
                        uint16_t ethertype) {
    memcpy(f, dst, 6);
    memcpy(f + 6, src, 6);
    f[12] = (uint8_t)(ethertype >> 8);
    f[13] = (uint8_t)ethertype;
    return 14;
}

static uint32_t csum_add(uint32_t sum, const uint8_t *p, size_t n) {
    for (size_t i = 0; i + 1 < n; i += 2) sum += (uint32_t)(p[i] << 8 | p[i + 1]);
    if (n & 1) sum += (uint32_t)(p[n - 1] << 8);
    return sum;
}

static uint16_t csum_fold(uint32_t sum) {
    while (sum >> 16) sum = (sum & 0xFFFF) + (sum >> 16);
    return (uint16_t)~sum;
}

size_t synth_udp_frame(uint8_t *f, const uint8_t src_mac[6], uint32_t src_ip, uint32_t dst_ip,
                       uint16_t sport, uint16_t dport, uint16_t ip_id, const uint8_t *payload,
                       size_t len) {
    static const uint8_t bcast[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
    size_t n = synth_eth_header(f, bcast, src_mac, 0x0800);
    uint8_t *ip = f + n, *udp = ip + 20;
    const size_t ulen = 8 + len, tlen = 20 + ulen;
    memset(ip, 0, 20);
    ip[0] = 0x45;
    ip[2] = (uint8_t)(tlen >> 8);
    ip[3] = (uint8_t)tlen;
    ip[4] = (uint8_t)(ip_id >> 8);
    ip[5] = (uint8_t)ip_id;
    ip[6] = 0x40; /* DF */
    ip[8] = 64;
    ip[9] = 17;
    for (int i = 0; i < 4; i++) {
        ip[12 + i] = (uint8_t)(src_ip >> (24 - 8 * i));
        ip[16 + i] = (uint8_t)(dst_ip >> (24 - 8 * i));
    }
    const uint16_t hc = csum_fold(csum_add(0, ip, 20));
    ip[10] = (uint8_t)(hc >> 8);
    ip[11] = (uint8_t)hc;
    udp[0] = (uint8_t)(sport >> 8);
    udp[1] = (uint8_t)sport;
    udp[2] = (uint8_t)(dport >> 8);
    udp[3] = (uint8_t)dport;
    udp[4] = (uint8_t)(ulen >> 8);
    udp[5] = (uint8_t)ulen;
    udp[6] = udp[7] = 0;
    memcpy(udp + 8, payload, len);
    /* UDP checksum over the pseudo-header, the header and the payload (RFC 768). */
    uint8_t pseudo[12];
    memcpy(pseudo, ip + 12, 8);
    pseudo[8] = 0;
    pseudo[9] = 17;
    pseudo[10] = (uint8_t)(ulen >> 8);
    pseudo[11] = (uint8_t)ulen;
    uint16_t uc = csum_fold(csum_add(csum_add(0, pseudo, 12), udp, ulen));
    if (uc == 0) uc = 0xFFFF;
    udp[6] = (uint8_t)(uc >> 8);
    udp[7] = (uint8_t)uc;
    return n + tlen;
}

vxs_status_t synth_path(char *buf, size_t buf_len, const char *out_dir, const char *rel,
                        char *err, size_t err_len) {
    const int n = snprintf(buf, buf_len, "%s/%s", out_dir, rel);
    if (n < 0 || (size_t)n >= buf_len) {
        synth_seterr(err, err_len, "%s/%s: path too long", out_dir, rel);
        return VXS_E_LIMIT;
    }
    /* create every folder between out_dir and the file */
    for (char *p = buf + strlen(out_dir) + 1; *p; p++) {
        if (*p != '/') continue;
        *p = '\0';
        const int rc = mkdir(buf, 0777);
        const int e = errno;
        *p = '/';
        if (rc != 0 && e != EEXIST) {
            synth_seterr(err, err_len, "%.*s: cannot create folder: %s", (int)(p - buf), buf,
                   strerror(e));
            return VXS_E_IO;
        }
    }
    return VXS_OK;
}

/* ==== truth.json =========================================================================== */

struct synth_truth {
    FILE *f;
    char path[1024];
    bool in_section, first_item;
};

#define JSON_FLAGS (JSON_COMPACT | JSON_REAL_PRECISION(15))

static const char *const PROFILE_NAMES[] = {"etsi", "us", "mixed"};
static const char *const TYPE_NAMES[] = {"vehicle", "rsu", "vru"};

static json_t *clock_json(const synth_clock_t *c) {
    json_t *o = json_pack("{s:I, s:f, s:I}", "offset_ns", (json_int_t)c->offset_ns, "drift_ppm",
                          c->drift_ppm, "epoch_ns", (json_int_t)c->epoch_ns);
    if (c->jump_at_ns != INT64_MAX) {
        json_object_set_new(o, "jump_at_true_ns", json_integer(c->jump_at_ns));
        json_object_set_new(o, "jump_ns", json_integer(c->jump_ns));
    }
    if (c->n_steps) {
        json_t *a = json_array();
        for (size_t k = 0; k < c->n_steps; k++)
            json_array_append_new(a, json_pack("{s:I, s:I}", "at_true_ns",
                                               (json_int_t)c->steps[k].at_ns, "step_ns",
                                               (json_int_t)c->steps[k].step_ns));
        json_object_set_new(o, "steps", a);
    }
    if (c->n_slews) {
        json_t *a = json_array();
        for (size_t k = 0; k < c->n_slews; k++) {
            const synth_slew_t *sl = &c->slews[k];
            json_array_append_new(
                a, json_pack("{s:I, s:o, s:f}", "start_true_ns", (json_int_t)sl->start_ns,
                             "end_true_ns",
                             sl->end_ns == INT64_MAX ? json_null() : json_integer(sl->end_ns),
                             "rate_ppm", sl->rate_ppm));
        }
        json_object_set_new(o, "slews", a);
    }
    return o;
}

static json_t *vec3(const double v[3]) { return json_pack("[f,f,f]", v[0], v[1], v[2]); }

/* time_pair sets key_ns (integer) and key (ISO 8601 UTC, ns) to true time t in o. */
static void time_pair(json_t *o, const char *key, int64_t t) {
    char iso[VXS_TIME_STRLEN], k[64];
    snprintf(k, sizeof k, "%s_ns", key);
    json_object_set_new(o, k, json_integer(t));
    json_object_set_new(o, key, json_string(vxs_time_format(iso, sizeof iso, t)));
}

/* faults_json is truth's "faults" (synth.h synth_faults_t): one object per fault on, by name:
 *   dead-link       {from, to, stacks: "all", fraction, start_ns, start, end_ns, end}: nothing
 *                   from `from` reaches `to` with a copy arriving in [start, end) (end: the
 *                   drive's end), nor generated from start on (truth rx cause "dead-link")
 *   camera-drops    {agent, sensor, fraction, start_ns, start, end_ns, end, duration_ns}: every
 *                   frame exposed in [start, end) is dropped (camera_frames "fault")
 *   unpinned-clock  {agent, v2x_recorded: false, path, domains}: the agent's V2X capture `path`
 *                   is not written nor in scenario.json; `domains` are the clock domains left
 *                   with nothing tying them to the reference */
static json_t *faults_json(const synth_world_t *w) {
    const synth_fault_plan_t *p = &w->fault;
    json_t *o = json_object();
    if (p->on.dead_link) {
        json_t *f = json_pack("{s:s, s:s, s:s, s:f}", "from", w->agents[p->dead_from].id, "to",
                              w->agents[p->dead_to].id, "stacks", "all", "fraction",
                              SYNTH_DEAD_LINK_AT);
        time_pair(f, "start", p->dead_start_ns);
        time_pair(f, "end", w->start_ns + w->duration_ns);
        json_object_set_new(o, FAULT_NAMES[0], f);
    }
    if (p->on.camera_drops) {
        json_t *f = json_pack("{s:s, s:s, s:f, s:I}", "agent", w->agents[p->drop_agent].id,
                              "sensor", "camera", "fraction", SYNTH_CAMERA_DROPS_AT,
                              "duration_ns", (json_int_t)SYNTH_CAMERA_DROPS_NS);
        time_pair(f, "start", p->drop_start_ns);
        time_pair(f, "end", p->drop_end_ns);
        json_object_set_new(o, FAULT_NAMES[1], f);
    }
    if (p->on.unpinned_clock) {
        const synth_agent_t *g = &w->agents[p->unpinned_agent];
        json_t *domains = json_array();
        json_array_append_new(domains, json_sprintf("%s/logger", g->id));
        if (g->lidar.present && !g->lidar.gps_locked)
            json_array_append_new(domains, json_sprintf("%s/lidar", g->id));
        json_t *f = json_pack("{s:s, s:b, s:s, s:o}", "agent", g->id, "v2x_recorded", false,
                              "path", "", "domains", domains);
        json_object_set_new(f, "path", json_sprintf("%s/%s", g->id, SYNTH_V2X_FILE));
        json_object_set_new(o, FAULT_NAMES[2], f);
    }
    return o;
}

/* header_json is the head of truth.json (README "truth.json"): version, generator, seed,
 * profile, start_ns, duration_ns, origin, ring_radius_m; then
 *   clean        (--clean only) true: no clock has a jump, "shadow" is null
 *   realism      (any option on) the names of the options on, synth_realism_name order
 *   agents[]     id, type, box_lwh_m, station_id, etsi_station_type, etsi, us (stacks run and
 *                received), mac, motion, sensors[] (lidar ...; camera ..., and with
 *                camera-latency stamp_latency_ms / stamp_jitter_ms, with sidecar-names path /
 *                timestamps: the file names in the agent's folder); with rx-only
 *                sends {etsi, us} (stacks transmitted on); with tx-log
 *                tx_log {etsi|us: {delay_ms, jitter_mean_ms}} (own messages logged delay +
 *                Exp(jitter mean) after generation); with gnss claimed {pos_sd_m, speed_sd_mps,
 *                heading_sd_deg} (the 1-sigma accuracies its messages claim, and have) and gnss
 *                {pos_tau_s, alt_sd_m, step_ns} (the error process, synth_gnss_t); motion: the
 *                law and its parameters (with motion, the stadium's and the block's track too)
 *   clocks[]     per clock: offset_ns, drift_ppm, epoch_ns, jump_at_true_ns / jump_ns (stepped),
 *                steps[] {at_true_ns, step_ns} and slews[] {start_true_ns, end_true_ns (null:
 *                for good), rate_ppm} when there are any: the synth_clock_t model, exactly
 *   link_model   the classic link parameters; link_floors[] (link-floors) {from, to,
 *                floor_ms} per directed link; shadow {agents, start_ns, end_ns} (null with
 *                --clean)
 *   faults       (any fault on) faults_json: by fault name, where and when it strikes
 * A classic drive's head has none of the realism, clean and fault keys: its bytes are the
 * classic ones. */
static json_t *header_json(const synth_world_t *w) {
    json_t *root = json_object();
    json_object_set_new(root, "version", json_integer(1));
    json_object_set_new(root, "generator", json_string("v2xsync synth " VXS_VERSION_STRING));
    json_object_set_new(root, "seed", json_integer((json_int_t)w->seed));
    json_object_set_new(root, "profile", json_string(PROFILE_NAMES[w->profile]));
    json_object_set_new(root, "start_ns", json_integer(w->start_ns));
    json_object_set_new(root, "duration_ns", json_integer(w->duration_ns));
    json_object_set_new(root, "origin", json_pack("{s:f,s:f,s:f}", "lat_deg", w->lat0_deg,
                                                  "lon_deg", w->lon0_deg, "alt_m", w->alt0_m));
    json_object_set_new(root, "ring_radius_m", json_real(w->ring_radius_m));
    const synth_realism_t *re = &w->realism;
    if (w->clean) json_object_set_new(root, "clean", json_true());
    if (synth_realism_any(re)) { /* a classic drive's truth stays as it always was */
        json_t *names = json_array();
        synth_realism_t copy = *re;
        for (size_t i = 0; i < SYNTH_REALISM_N; i++)
            if (*synth_realism_flag(&copy, i))
                json_array_append_new(names, json_string(synth_realism_name(i)));
        json_object_set_new(root, "realism", names);
    }

    json_t *agents = json_array(), *clocks = json_array();
    for (size_t a = 0; a < w->n_agents; a++) {
        const synth_agent_t *g = &w->agents[a];
        json_t *o = json_pack("{s:s, s:s, s:[f,f,f], s:I, s:i, s:b, s:b}", "id", g->id, "type",
                              TYPE_NAMES[g->type], "box_lwh_m", g->length, g->width, g->height,
                              "station_id", (json_int_t)g->station_id, "etsi_station_type",
                              g->etsi_station_type, "etsi", g->etsi, "us", g->us);
        char mac[18];
        snprintf(mac, sizeof mac, "%02x:%02x:%02x:%02x:%02x:%02x", g->mac[0], g->mac[1],
                 g->mac[2], g->mac[3], g->mac[4], g->mac[5]);
        json_object_set_new(o, "mac", json_string(mac));
        if (re->rx_only)
            json_object_set_new(o, "sends", json_pack("{s:b, s:b}", "etsi", g->tx_etsi, "us",
                                                      g->tx_us));
        if (re->tx_log)
            json_object_set_new(o, "tx_log", json_pack("{s:{s:f, s:f}, s:{s:f, s:f}}", "etsi",
                                                       "delay_ms", g->tx_log_ms[SYNTH_STACK_ETSI],
                                                       "jitter_mean_ms",
                                                       g->tx_jitter_ms[SYNTH_STACK_ETSI], "us",
                                                       "delay_ms", g->tx_log_ms[SYNTH_STACK_US],
                                                       "jitter_mean_ms",
                                                       g->tx_jitter_ms[SYNTH_STACK_US]));
        if (re->gnss) {
            json_object_set_new(o, "claimed", json_pack("{s:f, s:f, s:f}", "pos_sd_m", g->pos_sd_m,
                                                        "speed_sd_mps", g->speed_sd_mps,
                                                        "heading_sd_deg", g->heading_sd_deg));
            json_object_set_new(o, "gnss", json_pack("{s:f, s:f, s:I}", "pos_tau_s", g->pos_tau_s,
                                                     "alt_sd_m", 1.5 * g->pos_sd_m, "step_ns",
                                                     (json_int_t)SYNTH_GNSS_STEP_NS));
        }
        if (g->law == SYNTH_LAW_STADIUM || g->law == SYNTH_LAW_BLOCK) {
            const synth_track_t *k = g->law == SYNTH_LAW_STADIUM ? &synth_stadium : &synth_block;
            json_t *m = json_pack("{s:s, s:{s:f, s:f, s:f, s:f, s:f}, s:f, s:f}", "law", "",
                                  "track", "cx", k->cx, "cy", k->cy, "lx", k->lx, "ly", k->ly, "r",
                                  k->r, "length_m", synth_track_length(k), "s0", g->s0);
            if (g->law == SYNTH_LAW_STADIUM) {
                json_object_set_new(m, "law",
                                    json_string("counter-clockwise around the stadium track from "
                                                "the west end of its southern straight: arc s = "
                                                "s0 + v0 t + dv/omega (cos phi - cos(omega t + "
                                                "phi))"));
                json_object_set_new(m, "v0", json_real(g->v0));
                json_object_set_new(m, "dv", json_real(g->dv));
                json_object_set_new(m, "omega", json_real(g->omega));
                json_object_set_new(m, "phi", json_real(g->phi));
            } else {
                json_object_set_new(m, "law",
                                    json_string("counter-clockwise around the block track, stop "
                                                "and go: cycle time c = (t + cycle_off_s) mod "
                                                "(walk_s + 2 ramp_s + pause_s): walk_mps, a "
                                                "cosine ramp to 0 over ramp_s, pause_s still, a "
                                                "cosine ramp back; arc s = s0 + the integral of "
                                                "the speed from t = -cycle_off_s"));
                json_object_set_new(m, "walk_mps", json_real(g->walk_mps));
                json_object_set_new(m, "ramp_s", json_real(g->ramp_s));
                json_object_set_new(m, "walk_s", json_real(g->walk_s));
                json_object_set_new(m, "pause_s", json_real(g->pause_s));
                json_object_set_new(m, "cycle_off_s", json_real(g->cycle_off_s));
            }
            json_object_set_new(o, "motion", m);
        } else if (g->type == SYNTH_TYPE_RSU)
            json_object_set_new(o, "motion", json_pack("{s:s}", "law", "static at the origin"));
        else if (g->type == SYNTH_TYPE_VRU)
            json_object_set_new(
                o, "motion",
                json_pack("{s:s, s:f, s:f, s:f, s:f, s:f}", "law",
                          "x = s0 + dv/omega sin(omega t + phi), y = y0", "s0", g->s0, "y0",
                          SYNTH_PHONE_Y, "dv", g->dv, "omega", g->omega, "phi", g->phi));
        else
            json_object_set_new(
                o, "motion",
                json_pack("{s:s, s:f, s:f, s:f, s:f, s:f, s:f}", "law",
                          "counter-clockwise on the ring: arc s = s0 + v0 t + dv/omega (cos phi - "
                          "cos(omega t + phi)), angle = s / radius",
                          "radius", w->ring_radius_m, "s0", g->s0, "v0", g->v0, "dv", g->dv,
                          "omega", g->omega, "phi", g->phi));
        json_t *sensors = json_array();
        if (g->lidar.present) {
            const synth_lidar_t *l = &g->lidar;
            json_t *s = json_pack("{s:s, s:s, s:s, s:o, s:[f,f,f,f], s:[f,f,f], s:[f,f], s:f, s:b}",
                                  "sensor", "lidar", "path", "lidar.pcap", "model",
                                  l->model == 32 ? "VLP-32C" : "VLP-16", "mount_m",
                                  vec3(l->mount), "quat_wxyz", l->quat[0], l->quat[1],
                                  l->quat[2], l->quat[3], "rpy_deg", l->roll_deg, l->pitch_deg,
                                  l->yaw_deg, "fov_deg", l->fov_start_deg, l->fov_end_deg, "rpm",
                                  l->rpm, "gps_locked", l->gps_locked);
            json_array_append_new(sensors, s);
            json_t *c = clock_json(&l->device);
            json_object_set_new(c, "domain", json_sprintf("%s/lidar", g->id));
            json_object_set_new(c, "kind", json_string(l->gps_locked ? "gnss" : "free-running"));
            json_object_set_new(c, "maps", json_string("true time -> device time"));
            json_array_append_new(clocks, c);
        }
        if (g->camera.present) {
            const synth_camera_t *cm = &g->camera;
            json_t *s = json_pack("{s:s, s:i, s:i, s:f, s:f, s:o, s:f}", "sensor", "camera",
                                  "width", cm->width, "height", cm->height, "fps", cm->fps,
                                  "hfov_deg", cm->hfov_deg, "mount_m", vec3(cm->mount),
                                  "drop_prob", cm->drop_prob);
            if (re->camera_latency) {
                json_object_set_new(s, "stamp_latency_ms", json_real(cm->stamp_latency_ms));
                json_object_set_new(s, "stamp_jitter_ms", json_real(cm->stamp_jitter_ms));
            }
            if (re->sidecar_names) {
                json_object_set_new(s, "path", json_string(cm->file));
                json_object_set_new(s, "timestamps", json_string(cm->times));
            }
            json_array_append_new(sensors, s);
        }
        json_object_set_new(o, "sensors", sensors);
        json_array_append_new(agents, o);

        json_t *c = clock_json(&g->logger);
        json_object_set_new(c, "domain", json_sprintf("%s/logger", g->id));
        json_object_set_new(c, "kind", json_string("logger"));
        json_object_set_new(c, "maps", json_string("true time -> capture timestamps of every "
                                                   "file the agent records (pcap, camera "
                                                   "sidecar)"));
        json_array_append_new(clocks, c);
        c = json_pack("{s:s, s:s, s:I, s:f, s:s}", "domain", "", "kind", "gnss", "offset_ns",
                      (json_int_t)0, "drift_ppm", 0.0, "maps",
                      "true time -> the agent's V2X generation times");
        json_object_set_new(c, "domain", json_sprintf("%s/v2x", g->id));
        json_array_append_new(clocks, c);
    }
    json_object_set_new(root, "agents", agents);
    json_object_set_new(root, "clocks", clocks);
    const synth_link_model_t *k = &w->link;
    json_object_set_new(
        root, "link_model",
        json_pack("{s:f,s:f,s:f,s:f,s:f,s:f,s:f,s:f,s:f,s:f,s:f,s:f,s:f}", "p_good_to_bad",
                  k->p_good_to_bad, "p_bad_to_good", k->p_bad_to_good, "loss_good", k->loss_good,
                  "loss_bad", k->loss_bad, "base_latency_ms", k->base_latency_ms,
                  "jitter_mean_ms", k->jitter_mean_ms, "spike_prob", k->spike_prob,
                  "spike_min_ms", k->spike_min_ms, "spike_max_ms", k->spike_max_ms, "dup_prob",
                  k->dup_prob, "dup_delay_min_ms", k->dup_delay_min_ms, "dup_delay_max_ms",
                  k->dup_delay_max_ms, "tx_log_delay_ms", k->tx_log_delay_ms));
    if (re->link_floors) {
        json_t *floors = json_array();
        for (size_t a = 0; a < w->n_agents; a++)
            for (size_t b = 0; b < w->n_agents; b++)
                if (a != b)
                    json_array_append_new(floors, json_pack("{s:s, s:s, s:f}", "from",
                                                            w->agents[a].id, "to",
                                                            w->agents[b].id, "floor_ms",
                                                            k->floor_ms[a][b]));
        json_object_set_new(root, "link_floors", floors);
    }
    if (k->shadow_a < 0) /* clean */
        json_object_set_new(root, "shadow", json_null());
    else
        json_object_set_new(root, "shadow",
                            json_pack("{s:[s,s], s:I, s:I}", "agents", w->agents[k->shadow_a].id,
                                      w->agents[k->shadow_b].id, "start_ns",
                                      (json_int_t)k->shadow_start_ns, "end_ns",
                                      (json_int_t)k->shadow_end_ns));
    if (synth_faults_any(&w->fault.on)) json_object_set_new(root, "faults", faults_json(w));
    return root;
}

static vxs_status_t truth_io_error(synth_truth_t *t, char *err, size_t err_len) {
    synth_seterr(err, err_len, "%s: write failed: %s", t->path, strerror(errno));
    return VXS_E_IO;
}

vxs_status_t synth_truth_open(synth_truth_t **out, const char *path, const synth_world_t *w,
                              char *err, size_t err_len) {
    *out = NULL;
    synth_truth_t *t = calloc(1, sizeof *t);
    if (!t) return VXS_E_NOMEM;
    snprintf(t->path, sizeof t->path, "%s", path);
    t->f = fopen(path, "wb");
    if (!t->f) {
        synth_seterr(err, err_len, "%s: cannot create: %s", path, strerror(errno));
        free(t);
        return VXS_E_IO;
    }
    /* The header object without its closing brace, then one line per key. */
    json_t *h = header_json(w);
    if (!h) {
        fclose(t->f);
        free(t);
        return VXS_E_NOMEM;
    }
    fputs("{", t->f);
    const char *key;
    json_t *v;
    bool first = true;
    json_object_foreach(h, key, v) {
        char *s = json_dumps(v, JSON_FLAGS | JSON_ENCODE_ANY);
        if (!s) {
            json_decref(h);
            fclose(t->f);
            free(t);
            return VXS_E_NOMEM;
        }
        fprintf(t->f, "%s\n\"%s\": %s", first ? "" : ",", key, s);
        free(s);
        first = false;
    }
    json_decref(h);
    *out = t;
    /* Trajectories: every agent every 100 ms of the drive. */
    vxs_status_t st = synth_truth_section(t, "trajectories");
    const int64_t step = INT64_C(100000000);
    for (int64_t tt = w->start_ns; st == VXS_OK && tt <= w->start_ns + w->duration_ns; tt += step) {
        for (size_t a = 0; a < w->n_agents && st == VXS_OK; a++) {
            synth_pose_t p;
            synth_pose(w, a, tt, &p);
            double lat, lon, alt;
            synth_enu_to_geo(w, p.x, p.y, p.z, &lat, &lon, &alt);
            st = synth_truth_item(
                t, json_pack("{s:s, s:I, s:f, s:f, s:f, s:f, s:f, s:f, s:f, s:f}", "agent",
                             w->agents[a].id, "t_ns", (json_int_t)tt, "x", p.x, "y", p.y, "yaw",
                             p.yaw, "speed", p.speed, "yaw_rate", p.yaw_rate, "lat", lat, "lon",
                             lon, "alt", alt));
        }
    }
    if (st != VXS_OK && st != VXS_E_NOMEM) return truth_io_error(t, err, err_len);
    return st;
}

vxs_status_t synth_truth_section(synth_truth_t *t, const char *key) {
    if (t->in_section) fputs("\n]", t->f);
    fprintf(t->f, ",\n\"%s\": [", key);
    t->in_section = true;
    t->first_item = true;
    return ferror(t->f) ? VXS_E_IO : VXS_OK;
}

vxs_status_t synth_truth_item(synth_truth_t *t, json_t *item) {
    if (!item) return VXS_E_NOMEM;
    const int rc = fputs(t->first_item ? "\n" : ",\n", t->f);
    const int rc2 = rc < 0 ? -1 : json_dumpf(item, t->f, JSON_FLAGS);
    json_decref(item);
    t->first_item = false;
    return (rc < 0 || rc2 != 0) ? VXS_E_IO : VXS_OK;
}

vxs_status_t synth_truth_close(synth_truth_t *t, char *err, size_t err_len) {
    if (!t) return VXS_OK;
    if (t->in_section) fputs("\n]", t->f);
    fputs("\n}\n", t->f);
    vxs_status_t st = VXS_OK;
    if (ferror(t->f) || fflush(t->f) != 0) st = truth_io_error(t, err, err_len);
    if (fclose(t->f) != 0 && st == VXS_OK) st = truth_io_error(t, err, err_len);
    free(t);
    return st;
}
