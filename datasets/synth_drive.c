/*
 * synth_drive.c: synth_generate, which writes a whole drive: the writers' files, truth.json and
 * scenario.json (the manifest of core/vxs_manifest.h, so `v2xsync sync` can read the drive).
 */
#include "synth.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>


#ifndef M_PI
#define M_PI 3.14159265358979323846
#endif

static const char *const PROFILE_NAMES[] = {"etsi", "us", "mixed"};
static const char *const TYPE_NAMES[] = {"vehicle", "rsu", "vru"};

static json_t *extrinsics(const double mount[3], const double q[4]) {
    return json_pack("{s:[f,f,f], s:[f,f,f,f]}", "translation", mount[0], mount[1], mount[2],
                     "rotation", q[0], q[1], q[2], q[3]);
}

/* scenario_json builds the manifest of the drive. Clock hints say only what a recording team
 * would know: which LiDARs are GPS/PPS-locked; offsets are left for the alignment engine. The
 * camera's video and sidecar are named as written (camera.file, camera.times). Every V2X source
 * names its agent's own station and MAC, a receive-only one too (the radio has them); with fault
 * unpinned-clock vehicle2 has no V2X source (it recorded none). With
 * realism gnss the RSU has its surveyed mounting pose ("pose": its true position, heading 90:
 * it faces east), as a rig's survey gives it; no "origin" (the library takes its own). */
static json_t *scenario_json(const synth_world_t *w) {
    json_t *agents = json_array();
    static const double identity[4] = {1, 0, 0, 0};
    for (size_t a = 0; a < w->n_agents; a++) {
        const synth_agent_t *g = &w->agents[a];
        json_t *sources = json_array();
        if (g->lidar.present) {
            json_t *s = json_pack("{s:s, s:s, s:s, s:s, s:o, s:{s:b, s:s}}", "path", "",
                                  "kind", "lidar", "sensor", "lidar", "model",
                                  g->lidar.model == 32 ? "VLP-32C" : "VLP-16", "extrinsics",
                                  extrinsics(g->lidar.mount, g->lidar.quat), "clock",
                                  "gps_locked", g->lidar.gps_locked, "sweep_time", "start");
            json_object_set_new(s, "path", json_sprintf("%s/%s", g->id, SYNTH_LIDAR_FILE));
            json_array_append_new(sources, s);
        }
        if (g->camera.present) {
            json_t *s = json_pack("{s:s, s:s, s:s, s:o}", "path", "", "kind", "camera", "sensor",
                                  "camera", "extrinsics", extrinsics(g->camera.mount, identity));
            json_object_set_new(s, "path", json_sprintf("%s/%s", g->id, g->camera.file));
            json_object_set_new(s, "timestamps",
                                json_sprintf("%s/%s", g->id, g->camera.times));
            json_array_append_new(sources, s);
        }
        char mac[18];
        snprintf(mac, sizeof mac, "%02x:%02x:%02x:%02x:%02x:%02x", g->mac[0], g->mac[1],
                 g->mac[2], g->mac[3], g->mac[4], g->mac[5]);
        if (!(w->fault.on.unpinned_clock && a == w->fault.unpinned_agent)) { /* not recorded */
            json_t *s = json_pack("{s:s, s:s, s:s, s:s, s:I, s:[s]}", "path", "", "kind", "v2x",
                                  "sensor", "v2x", "format", "pcap", "own_station_id",
                                  (json_int_t)g->station_id, "own_macs", mac);
            json_object_set_new(s, "path", json_sprintf("%s/%s", g->id, SYNTH_V2X_FILE));
            json_array_append_new(sources, s);
        }
        json_t *ag = json_pack("{s:s, s:s}", "id", g->id, "type", TYPE_NAMES[g->type]);
        if (w->realism.gnss && g->type == SYNTH_TYPE_RSU) {
            synth_pose_t p;
            double lat, lon, alt;
            synth_pose(w, a, w->start_ns, &p);
            synth_enu_to_geo(w, p.x, p.y, p.z, &lat, &lon, &alt);
            double hdg = fmod(90.0 - p.yaw * 180.0 / M_PI, 360.0); /* clockwise from north */
            if (hdg < 0) hdg += 360.0;
            json_object_set_new(ag, "pose", json_pack("{s:f, s:f, s:f, s:f}", "lat_deg", lat,
                                                      "lon_deg", lon, "alt_m", alt,
                                                      "heading_deg", hdg));
        }
        json_object_set_new(ag, "sources", sources);
        json_array_append_new(agents, ag);
    }
    json_t *root = json_pack("{s:i, s:s, s:o, s:{s:s, s:s}}", "version", 1, "name", "", "agents",
                             agents, "reference", "agent", w->agents[SYNTH_EGO].id, "sensor",
                             "lidar");
    json_object_set_new(root, "name",
                        json_sprintf("synth seed %llu %s %.0f s", (unsigned long long)w->seed,
                                     PROFILE_NAMES[w->profile], (double)w->duration_ns * 1e-9));
    return root;
}

/* progress: each writer reports ns of drive time; the three writers are shown as one bar. */
typedef struct {
    vxs_progress_t outer;
    uint64_t base, total;
} stage_t;

static int stage_fn(void *user, uint64_t done, uint64_t total) {
    stage_t *s = user;
    (void)total;
    return vxs_progress_report(&s->outer, s->base + done, s->total) == VXS_OK ? 0 : 1;
}

vxs_status_t synth_generate(const synth_world_t *w, const char *out_dir, vxs_progress_t progress,
                            char *err, size_t err_len) {
    if (mkdir(out_dir, 0777) != 0 && errno != EEXIST) {
        synth_seterr(err, err_len, "%s: cannot create folder: %s", out_dir, strerror(errno));
        return VXS_E_IO;
    }
    char path[4096];
    vxs_status_t st = synth_path(path, sizeof path, out_dir, "truth.json", err, err_len);
    if (st != VXS_OK) return st;
    synth_truth_t *truth = NULL;
    st = synth_truth_open(&truth, path, w, err, err_len);
    if (st != VXS_OK) {
        synth_truth_close(truth, NULL, 0);
        return st;
    }
    stage_t stage = {progress, 0, 3 * (uint64_t)w->duration_ns};
    synth_job_t job = {w, out_dir, truth, {stage_fn, &stage}, err, err_len};
    vxs_status_t (*const writers[])(const synth_job_t *) = {synth_write_v2x, synth_write_lidar,
                                                          synth_write_camera};
    for (size_t i = 0; i < 3 && st == VXS_OK; i++) {
        stage.base = i * (uint64_t)w->duration_ns;
        st = writers[i](&job);
    }
    char err2[512] = "";
    const vxs_status_t st2 = synth_truth_close(truth, err2, sizeof err2);
    if (st == VXS_OK && st2 != VXS_OK) {
        synth_seterr(err, err_len, "%s", err2);
        st = st2;
    }
    if (st != VXS_OK) return st;

    st = synth_path(path, sizeof path, out_dir, "scenario.json", err, err_len);
    if (st != VXS_OK) return st;
    json_t *sc = scenario_json(w);
    if (!sc) return VXS_E_NOMEM;
    const int rc = json_dump_file(sc, path, JSON_INDENT(2) | JSON_REAL_PRECISION(15));
    json_decref(sc);
    if (rc != 0) {
        synth_seterr(err, err_len, "%s: cannot write: %s", path, strerror(errno));
        return VXS_E_IO;
    }
    vxs_progress_report(&progress, stage.total, stage.total);
    return VXS_OK;
}
