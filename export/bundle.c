/*
 * bundle.c: the labeled training bundle (README "The bundle"; vxs_export.h
 * vxs_bundle_sink_create).
 *
 * Threads. The job calls frame() on its own thread, the only one that touches the sources: it
 * fetches the exported members' payloads (camera frames decoded, LiDAR sweeps computed), turns
 * sweeps into point records, builds the labels and the frame's index as jansson documents, and
 * queues the frame. Worker threads take queued frames in order, encode (PNG, LZ4), hash and
 * write each member's file atomically, then labels/<F>.json and last frames/<F>.json, and hand
 * back the frame's lines of files.xxh64. The job's thread writes those lines in frame order, so
 * the bundle is the same whatever the number of threads. At most RING frames are in flight, in
 * pooled tasks that keep their buffers: memory is bounded by them, not by the drive.
 *
 * Restart. A frame is complete when its frames/<F>.json exists (written last). A run killed at
 * any moment and started again with resume keeps the complete frames whose member and label
 * files still have the checksums frames/<F>.json gives, writes the others again (each file
 * replacing what is there, atomically), and rewrites every file outside frames/, labels/ and
 * sensors/; since every file is a function of the inputs and the settings only, the result is
 * the same bytes as an uninterrupted run. bundle.json, written last of all, says the bundle is
 * complete.
 */
#define _GNU_SOURCE /* syncfs */
#include "export_int.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <inttypes.h>
#include <jansson.h>
#include <lz4frame.h>
#include <limits.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <xxhash.h>

#define RING 8           /* frames in flight */
#define MAX_FILES 64     /* files of one frame (members) */
#define MARKER VXSI_BUNDLE_MARKER
#define PATH_LEN 4096

typedef enum { F_PNG, F_LZ4 } file_kind_t;

typedef struct {
    file_kind_t kind;
    char rel[320];    /* relative to the bundle: "sensors/ego/lidar/00000042.pts.lz4" */
    vxs_buf_t raw;    /* RGB24 rows / point records */
    uint32_t w, h;
    json_t *member;   /* its entry in frame.json (the task's document owns it) */
} tfile_t;

typedef struct {
    uint64_t frame;
    char name[24];    /* "00000042" */
    bool reused;      /* complete already (resume): only `lines` */
    tfile_t files[MAX_FILES];
    size_t n_files;
    json_t *frame_doc, *labels;
    /* results */
    bool done;
    vxs_status_t st;
    char err[600];
    char *lines;      /* this frame's lines of files.xxh64 */
    size_t lines_len, lines_cap;
    uint64_t bytes, raw_bytes;
    double s_png, s_lz4, s_labels, s_write;
} task_t;

typedef struct bundle bundle_t;

typedef struct {
    bundle_t *b;
    pthread_t th;
    bool started;
    vxs_buf_t enc;    /* PNG / LZ4 output, reused */
    vxs_buf_t text;   /* serialised JSON, reused */
} worker_t;

/* a CPM's perceived objects, kept from its message call until the frames that attach it */
typedef struct {
    bool used;
    uint32_t source;
    uint64_t message;
    size_t n;
    vxs_v2x_object_t *obj;
} cpm_slot_t;
#define CPM_SLOTS 4096 /* > the CPMs all receivers get in a window plus the job's read-ahead */

struct bundle {
    char dir[PATH_LEN];
    vxs_bundle_options_t o;
    char **agents, **sensors; /* copies of the filters */
    char *scenario_path, *command;
    char identity[17];
    const vxs_run_info_t *run;
    size_t n_agents;     /* the manifest's (kept: the run is gone by destroy) */
    bool *agent_on, *stream_on;
    double *lidar_range; /* per stream */
    /* the job's thread */
    uint64_t seen;       /* frames given */
    vxs_buf_t fetch;     /* a LiDAR sweep's vxs_point_t */
    float **body_xyz;    /* per agent: its first LiDAR member's points in its body frame */
    size_t *body_cap;
    vxsi_label_lidar_t *lidar;
    const char **member_files;
    cpm_slot_t cpm[CPM_SLOTS];
    size_t cpm_next;
    vxs_afile_t *sums;   /* files.xxh64 */
    uint64_t first_frame, last_frame, partial;
    /* shared with the workers */
    pthread_mutex_t mu;
    pthread_cond_t cv_work, cv_done;
    task_t tasks[RING];  /* reused, with their buffers: frame seq is in tasks[seq % RING] */
    task_t *ring[RING];
    uint64_t seq_submit, seq_take, seq_drain;
    bool stop;
    worker_t *workers;
    unsigned n_workers;
    vxs_bundle_stats_t stats;
    char annotator[64];
    char err[PATH_LEN + 1024];
    vxs_status_t failed; /* the first error (VXS_OK: none) */
};

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void hex64(char out[17], XXH64_hash_t h) {
    XXH64_canonical_t c;
    XXH64_canonicalFromHash(&c, h);
    for (int i = 0; i < 8; i++) snprintf(out + 2 * i, 3, "%02x", c.digest[i]);
}

/* hash_file: XXH64 (seed 0) and size of a file; false when it cannot be read */
static bool hash_file(const char *path, char hex[17], uint64_t *size) {
    FILE *fp = fopen(path, "rb");
    if (!fp) return false;
    XXH64_state_t *s = XXH64_createState();
    uint8_t *buf = vxs_malloc(1 << 20);
    bool ok = s && buf && XXH64_reset(s, 0) != XXH_ERROR;
    uint64_t total = 0;
    size_t n;
    while (ok && (n = fread(buf, 1, 1 << 20, fp)) > 0) {
        total += n;
        ok = XXH64_update(s, buf, n) != XXH_ERROR;
    }
    ok = ok && !ferror(fp);
    if (ok) hex64(hex, XXH64_digest(s));
    if (size) *size = total;
    vxs_free(buf);
    XXH64_freeState(s);
    fclose(fp);
    return ok;
}

static int mkdirs(char *path) { /* mkdir -p; path is modified and restored */
    for (char *p = path + 1; *p; p++) {
        if (*p != '/') continue;
        *p = '\0';
        if (mkdir(path, 0777) != 0 && errno != EEXIST) {
            *p = '/';
            return -1;
        }
        *p = '/';
    }
    return mkdir(path, 0777) != 0 && errno != EEXIST ? -1 : 0;
}

/* The bundle's folders inside the output folder. */
static const char *const TREES[] = {"frames", "labels", "sensors"};

static int rm_temporary(const char *path, const struct stat *sb, int flag, struct FTW *ftw) {
    (void)sb;
    if (flag == FTW_F && strstr(path + ftw->base, ".tmp.")) unlink(path);
    return 0;
}

/* The top-level files a run writes (their temporaries are "<name>.tmp.<hex>"). */
static const char *const OUTPUTS[] = {"frames.jsonl", "clocks.json", "links.json",
                                      "v2x_messages.jsonl", "run.json", "files.xxh64", "bundle.json",
                                      MARKER};

/* remove_temporaries removes the temporary files a killed run left: those of the run's own
 * outputs in `dir` ("<output>.tmp.<hex>", vxs_afile_open's names) and any in the bundle's
 * folders, which hold nothing but the bundle's files */
static void remove_temporaries(const char *dir) {
    DIR *d = opendir(dir);
    if (!d) return;
    struct dirent *e;
    char path[PATH_LEN + 300];
    while ((e = readdir(d)) != NULL) {
        for (size_t i = 0; i < sizeof OUTPUTS / sizeof OUTPUTS[0]; i++) {
            const size_t n = strlen(OUTPUTS[i]);
            const char *rest = e->d_name + n;
            if (strncmp(e->d_name, OUTPUTS[i], n) != 0 || strncmp(rest, ".tmp.", 5) != 0 ||
                !rest[5] || strspn(rest + 5, "0123456789abcdef") != strlen(rest + 5))
                continue;
            snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
            unlink(path);
        }
    }
    closedir(d);
    for (size_t i = 0; i < sizeof TREES / sizeof TREES[0]; i++) {
        snprintf(path, sizeof path, "%s/%s", dir, TREES[i]);
        if (access(path, F_OK) == 0) nftw(path, rm_temporary, 16, FTW_PHYS);
    }
}

/* write_whole writes `len` bytes as the file `path`, atomically (no fsync: see syncfs at the
 * end) */
static vxs_status_t write_whole(const char *path, const void *data, size_t len, char *err,
                                size_t err_len) {
    vxs_afile_t *f;
    vxs_status_t st = vxs_afile_open(&f, path, err, err_len);
    if (st != VXS_OK) return st;
    vxsi_afile_nosync(f);
    if ((st = vxs_afile_write(f, data, len)) != VXS_OK) {
        snprintf(err, err_len, "%s", vxs_afile_errmsg(f));
        vxs_afile_abort(f);
        return st;
    }
    return vxs_afile_commit(f, err, err_len);
}

/* ---- the workers ------------------------------------------------------------------------- */

static vxs_status_t add_line(task_t *t, const char *hex, const char *rel) {
    const size_t need = t->lines_len + 16 + 2 + strlen(rel) + 2;
    if (need > t->lines_cap) {
        size_t cap = t->lines_cap ? t->lines_cap * 2 : 512;
        while (cap < need) cap *= 2;
        char *p = vxs_realloc(t->lines, cap);
        if (!p) return VXS_E_NOMEM;
        t->lines = p;
        t->lines_cap = cap;
    }
    t->lines_len += (size_t)snprintf(t->lines + t->lines_len, t->lines_cap - t->lines_len,
                                     "%s  %s\n", hex, rel);
    return VXS_OK;
}

/* put: write one file of task t (data, len), recording its checksum */
static vxs_status_t put(bundle_t *b, task_t *t, const char *rel, const void *data, size_t len,
                        char hex[17]) {
    char path[PATH_LEN + 320];
    const double t0 = now_s();
    snprintf(path, sizeof path, "%s/%s", b->dir, rel);
    hex64(hex, XXH64(data, len, 0));
    vxs_status_t st = write_whole(path, data, len, t->err, sizeof t->err);
    if (st == VXS_OK) st = add_line(t, hex, rel);
    t->bytes += len;
    t->s_write += now_s() - t0;
    return st;
}

static vxs_status_t encode_file(worker_t *w, task_t *t, tfile_t *tf) {
    bundle_t *b = w->b;
    vxs_status_t st;
    char hex[17];
    const double t0 = now_s();
    if (tf->kind == F_PNG) {
        /* level 1: the measured default (UP + Z_RLE, which ignores the level); a higher level
         * asks for smaller files: zlib's own strategy, which uses it */
        vxs_png_options_t po = {VXS_PNG_RGB24,
                                b->o.png_level == 0 ? VXS_PNG_LEVEL_STORE : b->o.png_level,
                                VXS_PNG_FILTER_DEFAULT,
                                b->o.png_level >= 2 ? VXS_PNG_STRATEGY_ZLIB
                                                    : VXS_PNG_STRATEGY_DEFAULT};
        st = vxs_png_encode_mem(&w->enc, tf->raw.data, tf->w, tf->h, (size_t)tf->w * 3, &po,
                                t->err, sizeof t->err);
        t->s_png += now_s() - t0;
    } else {
        LZ4F_preferences_t pr;
        memset(&pr, 0, sizeof pr);
        pr.frameInfo.contentSize = tf->raw.len;
        pr.frameInfo.contentChecksumFlag = LZ4F_contentChecksumEnabled;
        const size_t cap = LZ4F_compressFrameBound(tf->raw.len, &pr);
        st = vxs_buf_reserve(&w->enc, cap);
        if (st == VXS_OK) {
            const size_t n = LZ4F_compressFrame(w->enc.data, cap, tf->raw.data, tf->raw.len, &pr);
            if (LZ4F_isError(n)) {
                snprintf(t->err, sizeof t->err, "%s: LZ4: %s", tf->rel,
                         LZ4F_getErrorName(n));
                st = VXS_E_IO;
            } else {
                w->enc.len = n;
            }
        }
        t->s_lz4 += now_s() - t0;
    }
    if (st != VXS_OK) return st;
    t->raw_bytes += tf->raw.len;
    if ((st = put(b, t, tf->rel, w->enc.data, w->enc.len, hex)) != VXS_OK) return st;
    json_object_set_new(tf->member, "xxh64", json_string(hex));
    return VXS_OK;
}

/* put_json serialises `doc` into the worker's buffer (grown to the largest document, reused)
 * with a final newline, like every JSON file v2xsync writes, and writes it as `rel` */
static vxs_status_t put_json(worker_t *w, task_t *t, const char *rel, const json_t *doc,
                             size_t flags, char hex[17]) {
    const double t0 = now_s();
    flags |= JSON_REAL_PRECISION(12);
    size_t n = json_dumpb(doc, (char *)w->text.data, w->text.cap, flags);
    const bool fitted = n + 1 <= w->text.cap;
    if (n == 0 || (!fitted && vxs_buf_reserve(&w->text, n + 1) != VXS_OK)) {
        snprintf(t->err, sizeof t->err, "%s: out of memory", rel);
        return VXS_E_NOMEM;
    }
    if (!fitted) n = json_dumpb(doc, (char *)w->text.data, w->text.cap, flags);
    w->text.data[n] = '\n';
    t->s_labels += now_s() - t0;
    return put(w->b, t, rel, w->text.data, n + 1, hex);
}

static void process(worker_t *w, task_t *t) {
    vxs_status_t st = VXS_OK;
    char hex[17], rel[64];
    for (size_t i = 0; i < t->n_files && st == VXS_OK; i++) st = encode_file(w, t, &t->files[i]);
    snprintf(rel, sizeof rel, "labels/%s.json", t->name);
    if (st == VXS_OK) st = put_json(w, t, rel, t->labels, JSON_COMPACT, hex);
    if (st == VXS_OK) {
        json_object_set_new(t->frame_doc, "labels_xxh64", json_string(hex));
        snprintf(rel, sizeof rel, "frames/%s.json", t->name);
        st = put_json(w, t, rel, t->frame_doc, JSON_INDENT(1), hex);
    }
    t->st = st;
}

static void *worker_main(void *arg) {
    worker_t *w = arg;
    bundle_t *b = w->b;
    for (;;) {
        pthread_mutex_lock(&b->mu);
        for (;;) { /* the next frame to encode: reused ones (resume) are done already */
            if (b->seq_take < b->seq_drain) b->seq_take = b->seq_drain;
            while (b->seq_take < b->seq_submit && b->ring[b->seq_take % RING]->reused)
                b->seq_take++;
            if (b->seq_take < b->seq_submit) break;
            if (b->stop) {
                pthread_mutex_unlock(&b->mu);
                return NULL;
            }
            pthread_cond_wait(&b->cv_work, &b->mu);
        }
        task_t *t = b->ring[b->seq_take % RING];
        b->seq_take++;
        pthread_mutex_unlock(&b->mu);
        process(w, t);
        pthread_mutex_lock(&b->mu);
        t->done = true;
        pthread_cond_broadcast(&b->cv_done);
        pthread_mutex_unlock(&b->mu);
    }
}

/* task_clear readies a pooled task for its next frame, keeping its buffers */
static void task_clear(task_t *t) {
    json_decref(t->frame_doc);
    json_decref(t->labels);
    t->frame_doc = t->labels = NULL;
    t->n_files = 0;
    t->reused = t->done = false;
    t->st = VXS_OK;
    t->err[0] = '\0';
    t->lines_len = 0;
    t->bytes = t->raw_bytes = 0;
    t->s_png = t->s_lz4 = t->s_labels = t->s_write = 0;
}

static void task_free(task_t *t) {
    task_clear(t);
    for (size_t i = 0; i < MAX_FILES; i++) vxs_buf_free(&t->files[i].raw);
    vxs_free(t->lines);
    t->lines = NULL;
    t->lines_cap = 0;
}

static void fail(bundle_t *b, vxs_status_t st, const char *msg) {
    if (b->failed != VXS_OK) return;
    b->failed = st;
    snprintf(b->err, sizeof b->err, "%s", msg);
}

/* drain_locked retires the finished frames at the head of the ring, in order: their lines go to
 * files.xxh64. Called with the lock held. */
static void drain_locked(bundle_t *b) {
    while (b->seq_drain < b->seq_submit && b->ring[b->seq_drain % RING]->done) {
        task_t *t = b->ring[b->seq_drain % RING];
        b->ring[b->seq_drain % RING] = NULL;
        b->seq_drain++;
        if (t->st != VXS_OK) fail(b, t->st, t->err);
        if (b->failed == VXS_OK && t->lines_len &&
            vxs_afile_write(b->sums, t->lines, t->lines_len) != VXS_OK)
            fail(b, VXS_E_IO, vxs_afile_errmsg(b->sums));
        b->stats.bytes += t->bytes;
        b->stats.raw_bytes += t->raw_bytes;
        b->stats.s_png += t->s_png;
        b->stats.s_lz4 += t->s_lz4;
        b->stats.s_labels += t->s_labels;
        b->stats.s_write += t->s_write;
        task_clear(t);
    }
}

/* acquire returns the pooled task of the next frame, once the frame RING before it is retired */
static task_t *acquire(bundle_t *b) {
    pthread_mutex_lock(&b->mu);
    for (;;) {
        drain_locked(b);
        if (b->seq_submit - b->seq_drain < RING) break;
        pthread_cond_wait(&b->cv_done, &b->mu);
    }
    pthread_mutex_unlock(&b->mu);
    task_t *t = &b->tasks[b->seq_submit % RING];
    task_clear(t);
    return t;
}

static void submit(bundle_t *b, task_t *t) {
    pthread_mutex_lock(&b->mu);
    if (t->reused) t->done = true;
    b->ring[b->seq_submit % RING] = t;
    b->seq_submit++;
    if (t->reused)
        drain_locked(b);
    else
        pthread_cond_signal(&b->cv_work);
    pthread_mutex_unlock(&b->mu);
}

static void wait_all(bundle_t *b) {
    pthread_mutex_lock(&b->mu);
    for (;;) {
        drain_locked(b);
        if (b->seq_drain == b->seq_submit) break;
        pthread_cond_wait(&b->cv_done, &b->mu);
    }
    pthread_mutex_unlock(&b->mu);
}

static void stop_workers(bundle_t *b) {
    if (!b->workers) return;
    pthread_mutex_lock(&b->mu);
    b->stop = true;
    pthread_cond_broadcast(&b->cv_work);
    pthread_mutex_unlock(&b->mu);
    for (unsigned i = 0; i < b->n_workers; i++) {
        if (b->workers[i].started) pthread_join(b->workers[i].th, NULL);
        vxs_buf_free(&b->workers[i].enc);
        vxs_buf_free(&b->workers[i].text);
    }
    vxs_free(b->workers);
    b->workers = NULL;
    b->seq_drain = b->seq_submit; /* frames queued but never written (an error stopped the run) */
}

/* ---- the job's thread: choosing, fetching, labelling ------------------------------------- */

static bool in_list(char *const *list, size_t n, const char *s) {
    for (size_t i = 0; i < n; i++)
        if (strcmp(list[i], s) == 0) return true;
    return false;
}

/* lidar_range_m: the sensor's range by model (datasheets), 100 m when unknown */
static double lidar_range_m(const char *model) {
    static const struct {
        const char *prefix;
        double range;
    } t[] = {{"VLP-32", 200}, {"VLS-128", 300}, {"HDL-64", 120}, {"HDL-32", 100},
             {"VLP-16", 100}, {"OS0", 50},      {"OS1", 120},    {"OS2", 240}};
    for (size_t i = 0; model && i < sizeof t / sizeof t[0]; i++)
        if (strncmp(model, t[i].prefix, strlen(t[i].prefix)) == 0) return t[i].range;
    return 100.0;
}

static const vxs_v2x_object_t *cpm_lookup(void *user, uint32_t source, uint64_t message,
                                          size_t *n) {
    bundle_t *b = user;
    for (size_t i = 0; i < CPM_SLOTS; i++)
        if (b->cpm[i].used && b->cpm[i].source == source && b->cpm[i].message == message) {
            *n = b->cpm[i].n;
            return b->cpm[i].obj;
        }
    *n = 0;
    return NULL;
}

static vxs_status_t b_message(void *impl, const vxs_frame_msg_t *m) {
    bundle_t *b = impl;
    if (!m->objects || !m->v2x.n_objects) return VXS_OK;
    cpm_slot_t *s = &b->cpm[b->cpm_next];
    b->cpm_next = (b->cpm_next + 1) % CPM_SLOTS;
    vxs_v2x_object_t *p = vxs_realloc(s->obj, m->v2x.n_objects * sizeof *p);
    if (!p) return VXS_E_NOMEM;
    memcpy(p, m->objects, m->v2x.n_objects * sizeof *p);
    s->obj = p;
    s->n = m->v2x.n_objects;
    s->source = m->source;
    s->message = m->message;
    s->used = true;
    return VXS_OK;
}

/* quat_to_mat: the rotation matrix of a unit quaternion [w, x, y, z] (row major) */
static void quat_to_mat(const double q[4], double r[9]) {
    const double w = q[0], x = q[1], y = q[2], z = q[3];
    r[0] = 1 - 2 * (y * y + z * z);
    r[1] = 2 * (x * y - w * z);
    r[2] = 2 * (x * z + w * y);
    r[3] = 2 * (x * y + w * z);
    r[4] = 1 - 2 * (x * x + z * z);
    r[5] = 2 * (y * z - w * x);
    r[6] = 2 * (x * z - w * y);
    r[7] = 2 * (y * z + w * x);
    r[8] = 1 - 2 * (x * x + y * y);
}

static json_t *transform_json(const vxs_extrinsics_t *e) {
    return json_pack("{s:[o,o,o],s:[o,o,o,o]}", "translation",
                     vxsi_json_round(e->translation[0], 1e-9),
                     vxsi_json_round(e->translation[1], 1e-9),
                     vxsi_json_round(e->translation[2], 1e-9), "rotation",
                     vxsi_json_round(e->rotation[0], 1e-12), vxsi_json_round(e->rotation[1], 1e-12),
                     vxsi_json_round(e->rotation[2], 1e-12),
                     vxsi_json_round(e->rotation[3], 1e-12));
}

/* lidar_member: fetch a sweep, write its records into tf->raw and (when the agent's labels need
 * it) its points in the body frame */
static vxs_status_t lidar_member(bundle_t *b, const vxs_frame_t *f, size_t s,
                                 const vxs_fetcher_t *fetch, tfile_t *tf, bool for_labels) {
    const vxs_run_info_t *run = b->run;
    const vxs_frame_stream_t *fs = &run->streams[s];
    const vxs_frame_member_t *mb = &f->members[s];
    double t0 = now_s();
    vxs_status_t st = vxs_fetcher_fetch(fetch, &b->fetch, mb->record);
    b->stats.s_decode += now_s() - t0;
    if (st != VXS_OK) return st;
    t0 = now_s();
    const size_t n = b->fetch.len / sizeof(vxs_point_t);
    const vxs_point_t *p = (const vxs_point_t *)(const void *)b->fetch.data;
    if ((st = vxs_buf_reserve(&tf->raw, n * VXS_BUNDLE_POINT_SIZE)) != VXS_OK) return st;
    tf->raw.len = n * VXS_BUNDLE_POINT_SIZE;
    const vxs_clock_model_t *model = &run->clocks->clocks[fs->clock].est.model;
    uint8_t *o = tf->raw.data;
    for (size_t i = 0; i < n; i++, o += VXS_BUNDLE_POINT_SIZE) {
        const int64_t dt = vxs_clock_piece_to_reference(model, mb->piece, p[i].t_ns) - f->t;
        memcpy(o, &p[i].x, 4);
        memcpy(o + 4, &p[i].y, 4);
        memcpy(o + 8, &p[i].z, 4);
        memcpy(o + 12, &p[i].intensity, 4);
        memcpy(o + 16, &dt, 8);
        memcpy(o + 24, &p[i].laser, 2);
        memcpy(o + 26, &p[i].azimuth, 2);
        o[28] = p[i].ret;
        o[29] = o[30] = o[31] = 0;
    }
    if (for_labels) {
        const uint32_t a = fs->agent;
        if (n * 3 > b->body_cap[a]) {
            float *q = vxs_realloc(b->body_xyz[a], n * 3 * sizeof *q);
            if (!q) return VXS_E_NOMEM;
            b->body_xyz[a] = q;
            b->body_cap[a] = n * 3;
        }
        const vxs_extrinsics_t *e = &run->sources[fs->source].ms->extrinsics;
        double r[9];
        quat_to_mat(e->rotation, r);
        float *q = b->body_xyz[a];
        for (size_t i = 0; i < n; i++) {
            const double x = p[i].x, y = p[i].y, z = p[i].z;
            q[3 * i] = (float)(r[0] * x + r[1] * y + r[2] * z + e->translation[0]);
            q[3 * i + 1] = (float)(r[3] * x + r[4] * y + r[5] * z + e->translation[1]);
            q[3 * i + 2] = (float)(r[6] * x + r[7] * y + r[8] * z + e->translation[2]);
        }
        b->lidar[a].xyz = q;
        b->lidar[a].n = n;
        b->lidar[a].range_m = b->lidar_range[s];
        b->lidar[a].stream = fs->name;
    }
    b->stats.points += n;
    b->stats.s_points += now_s() - t0;
    return VXS_OK;
}

static json_t *pose_json(const vxs_pose_t *p, const char *from) {
    return json_pack("{s:o,s:o,s:o,s:o,s:o,s:o,s:s}", "x", vxsi_json_round(p->x, 1e-4), "y",
                     vxsi_json_round(p->y, 1e-4), "z", vxsi_json_round(p->z, 1e-4), "yaw",
                     vxsi_json_round(p->yaw, 1e-7), "sd", vxsi_json_round(p->sd, 1e-4), "yaw_sd",
                     vxsi_json_round(p->yaw_sd, 1e-7), "from", from ? from : "unknown");
}

/* reuse: whether frame t->frame is complete and intact (resume: its frames/<F>.json, written
 * last, exists, and every file it lists has the checksum it gives); fills t->lines */
static bool reuse(bundle_t *b, task_t *t) {
    char path[PATH_LEN + 320], hex[17], rel[64];
    snprintf(path, sizeof path, "%s/frames/%s.json", b->dir, t->name);
    json_t *doc = json_load_file(path, 0, NULL);
    if (!doc) return false;
    bool ok = json_integer_value(json_object_get(doc, "frame")) == (json_int_t)t->frame;
    size_t i;
    json_t *m;
    json_array_foreach(json_object_get(doc, "members"), i, m) {
        const char *file = json_string_value(json_object_get(m, "file"));
        const char *want = json_string_value(json_object_get(m, "xxh64"));
        if (!ok || !file) continue;
        snprintf(path, sizeof path, "%s/%s", b->dir, file);
        ok = want && hash_file(path, hex, NULL) && strcmp(hex, want) == 0 &&
             add_line(t, hex, file) == VXS_OK;
    }
    const char *want = json_string_value(json_object_get(doc, "labels_xxh64"));
    snprintf(rel, sizeof rel, "labels/%s.json", t->name);
    snprintf(path, sizeof path, "%s/%s", b->dir, rel);
    ok = ok && want && hash_file(path, hex, NULL) && strcmp(hex, want) == 0 &&
         add_line(t, hex, rel) == VXS_OK;
    snprintf(rel, sizeof rel, "frames/%s.json", t->name);
    snprintf(path, sizeof path, "%s/%s", b->dir, rel);
    ok = ok && hash_file(path, hex, NULL) && add_line(t, hex, rel) == VXS_OK;
    if (ok) b->partial += json_is_true(json_object_get(doc, "partial"));
    json_decref(doc);
    return ok;
}

static vxs_status_t b_frame(void *impl, const vxs_frame_t *f, const vxs_fetcher_t *fetch) {
    bundle_t *b = impl;
    const vxs_run_info_t *run = b->run;
    const vxs_manifest_t *man = run->manifest;
    if (b->failed != VXS_OK) return b->failed;
    const uint32_t every = b->o.every > 1 ? b->o.every : 1;
    if (b->seen++ % every != 0) return VXS_OK;
    task_t *t = acquire(b);
    if (b->failed != VXS_OK) return b->failed;
    t->frame = f->index;
    snprintf(t->name, sizeof t->name, "%08" PRIu64, f->index);
    if (!b->stats.frames) b->first_frame = f->index;
    b->last_frame = f->index;
    b->stats.frames++;
    char fname[24]; /* t->name, copied: the member paths are built in the same pool */
    memcpy(fname, t->name, sizeof fname);
    if (b->o.resume) {
        /* a frame not complete is written again: each file replaces what is there, atomically */
        const double t0 = now_s();
        t->reused = reuse(b, t);
        b->stats.s_verify += now_s() - t0;
        if (t->reused) {
            b->stats.frames_reused++;
            submit(b, t);
            return b->failed;
        }
        t->lines_len = 0;
    }
    b->partial += f->partial;
    vxs_status_t st = VXS_OK;
    json_t *members = json_array();
    for (size_t a = 0; a < man->n_agents; a++) b->lidar[a].xyz = NULL;
    for (size_t s = 0; s < run->n_streams && st == VXS_OK; s++) {
        const vxs_frame_stream_t *fs = &run->streams[s];
        const vxs_frame_member_t *mb = &f->members[s];
        const vxs_manifest_source_t *ms = run->sources[fs->source].ms;
        b->member_files[s] = NULL;
        if (!b->stream_on[s]) continue;
        json_t *e = json_pack("{s:s,s:s,s:s,s:s,s:s}", "stream", fs->name, "agent",
                              man->agents[fs->agent].id, "sensor", ms->sensor, "kind",
                              vxs_source_kind_name(fs->kind), "status",
                              vxs_member_status_name(mb->status));
        json_object_set_new(e, "reason", mb->reason ? json_string(mb->reason) : json_null());
        json_array_append_new(members, e);
        json_object_set_new(e, "sensor_to_body", transform_json(&ms->extrinsics));
        if (mb->status != VXS_MEMBER_OK || !mb->record) {
            json_object_set_new(e, "file", json_null());
            if (mb->t_ref != VXS_TIME_NONE)
                json_object_set_new(e,
                                    mb->status == VXS_MEMBER_SET_BEYOND_TOLERANCE ? "set_dt_ns"
                                                                                  : "nearest_dt_ns",
                                    json_integer(mb->dt_ns));
            continue;
        }
        if (t->n_files == MAX_FILES) {
            st = VXS_E_LIMIT;
            snprintf(b->err, sizeof b->err, "frame %" PRIu64 ": more than %d members exported",
                     f->index, MAX_FILES);
            break;
        }
        tfile_t *tf = &t->files[t->n_files++];
        tf->member = e;
        json_object_set_new(e, "item", json_integer((json_int_t)mb->item));
        json_object_set_new(e, "t_ref_ns", json_integer(mb->t_ref));
        json_object_set_new(e, "dt_ns", json_integer(mb->dt_ns));
        if (fs->kind == VXS_SOURCE_LIDAR) {
            tf->kind = F_LZ4;
            snprintf(tf->rel, sizeof tf->rel, "sensors/%s/%s/%s.pts.lz4", man->agents[fs->agent].id,
                     ms->sensor, fname);
            st = lidar_member(b, f, s, fetch, tf, b->lidar[fs->agent].xyz == NULL);
            if (st == VXS_OK) {
                json_object_set_new(e, "points",
                                    json_integer((json_int_t)(tf->raw.len / VXS_BUNDLE_POINT_SIZE)));
                b->stats.clouds++;
            }
        } else {
            tf->kind = F_PNG;
            snprintf(tf->rel, sizeof tf->rel, "sensors/%s/%s/%s.png", man->agents[fs->agent].id,
                     ms->sensor, fname);
            tf->w = mb->record->u.frame.width;
            tf->h = mb->record->u.frame.height;
            const double t0 = now_s();
            st = vxs_fetcher_fetch(fetch, &tf->raw, mb->record);
            b->stats.s_decode += now_s() - t0;
            if (st == VXS_OK && tf->raw.len != (size_t)tf->w * tf->h * 3) st = VXS_E_MALFORMED;
            json_object_set_new(e, "width", json_integer(tf->w));
            json_object_set_new(e, "height", json_integer(tf->h));
            b->stats.images++;
        }
        if (st != VXS_OK) {
            snprintf(b->err, sizeof b->err, "frame %" PRIu64 ": %s: cannot fetch the member: %s",
                     f->index, fs->name, vxs_strerror(st));
            break;
        }
        json_object_set_new(e, "file", json_string(tf->rel));
        b->member_files[s] = tf->rel;
    }
    if (st != VXS_OK) {
        json_decref(members);
        return st;
    }
    /* the agents' poses at T */
    json_t *agents = json_object();
    for (size_t a = 0; a < man->n_agents; a++) {
        if (!b->agent_on[a]) continue;
        const vxs_frame_v2x_t *fv = NULL;
        for (size_t i = 0; i < f->n_v2x && !fv; i++)
            if (f->v2x[i].agent == a) fv = &f->v2x[i];
        json_t *o = json_object();
        json_object_set_new(o, "pose", fv && fv->pose.valid ? pose_json(&fv->pose, fv->pose_from)
                                                            : json_null());
        json_object_set_new(o, "pose_reason",
                            fv && fv->pose.valid ? json_null()
                            : fv && fv->pose_reason ? json_string(fv->pose_reason)
                                                    : json_string("no V2X source: the job does "
                                                                  "not place this agent"));
        json_object_set_new(agents, man->agents[a].id, o);
    }
    json_t *reasons = json_array();
    for (size_t i = 0; i < f->n_reasons; i++) json_array_append_new(reasons, json_string(f->reasons[i]));
    char tb[VXS_TIME_STRLEN], labels_rel[64];
    snprintf(labels_rel, sizeof labels_rel, "labels/%s.json", t->name);
    t->frame_doc = json_pack("{s:I,s:I,s:s,s:b,s:o,s:o,s:o,s:s}", "frame", (json_int_t)f->index,
                             "t_ns", (json_int_t)f->t, "t", vxs_time_format(tb, sizeof tb, f->t),
                             "partial", f->partial, "reasons", reasons, "members", members,
                             "agents", agents, "labels", labels_rel);
    const double t0 = now_s();
    const vxsi_label_ctx_t lc = {run,        b->agent_on, b->stream_on, b->member_files,
                                 b->lidar,   cpm_lookup,  b,            b->annotator};
    t->labels = vxsi_openlabel_frame(&lc, f);
    b->stats.s_labels += now_s() - t0;
    if (!t->frame_doc || !t->labels) {
        snprintf(b->err, sizeof b->err, "frame %" PRIu64 ": out of memory", f->index);
        return VXS_E_NOMEM;
    }
    submit(b, t);
    return b->failed;
}

/* ---- begin and finish -------------------------------------------------------------------- */

static vxs_status_t b_begin(void *impl, const vxs_run_info_t *run) {
    bundle_t *b = impl;
    const vxs_manifest_t *man = run->manifest;
    b->run = run;
    b->n_agents = man->n_agents;
    b->agent_on = vxs_calloc(man->n_agents, sizeof *b->agent_on);
    b->stream_on = vxs_calloc(run->n_streams + 1, sizeof *b->stream_on);
    b->lidar_range = vxs_calloc(run->n_streams + 1, sizeof *b->lidar_range);
    b->member_files = vxs_calloc(run->n_streams + 1, sizeof *b->member_files);
    b->body_xyz = vxs_calloc(man->n_agents, sizeof *b->body_xyz);
    b->body_cap = vxs_calloc(man->n_agents, sizeof *b->body_cap);
    b->lidar = vxs_calloc(man->n_agents, sizeof *b->lidar);
    if (!b->agent_on || !b->stream_on || !b->lidar_range || !b->member_files || !b->body_xyz ||
        !b->body_cap || !b->lidar) {
        snprintf(b->err, sizeof b->err, "%s: out of memory", b->dir);
        return VXS_E_NOMEM;
    }
    for (size_t a = 0; a < man->n_agents; a++)
        b->agent_on[a] = !b->o.n_agents || in_list(b->agents, b->o.n_agents, man->agents[a].id);
    for (size_t s = 0; s < run->n_streams; s++) {
        const vxs_frame_stream_t *fs = &run->streams[s];
        b->stream_on[s] = b->agent_on[fs->agent] &&
                          (!b->o.n_sensors || in_list(b->sensors, b->o.n_sensors, fs->name));
        b->lidar_range[s] = lidar_range_m(run->sources[fs->source].ms->model);
    }
    char path[PATH_LEN + 320];
    /* the folders: frames/, labels/, sensors/<agent>/<sensor>/ of each exported stream */
    for (size_t s = 0; s <= run->n_streams; s++) {
        if (s < run->n_streams) {
            if (!b->stream_on[s]) continue;
            snprintf(path, sizeof path, "%s/sensors/%s/%s", b->dir,
                     man->agents[run->streams[s].agent].id,
                     run->sources[run->streams[s].source].ms->sensor);
        } else {
            snprintf(path, sizeof path, "%s/labels", b->dir);
        }
        if (mkdirs(path) != 0) {
            snprintf(b->err, sizeof b->err, "%s: cannot create: %s", path, strerror(errno));
            return VXS_E_IO;
        }
    }
    snprintf(path, sizeof path, "%s/frames", b->dir);
    if (mkdirs(path) != 0) {
        snprintf(b->err, sizeof b->err, "%s: cannot create: %s", path, strerror(errno));
        return VXS_E_IO;
    }
    snprintf(path, sizeof path, "%s/files.xxh64", b->dir);
    vxs_status_t st = vxs_afile_open(&b->sums, path, b->err, sizeof b->err);
    if (st != VXS_OK) return st;
    b->n_workers = b->o.threads ? b->o.threads : 2;
    b->stats.threads = b->n_workers;
    b->workers = vxs_calloc(b->n_workers, sizeof *b->workers);
    if (!b->workers) return VXS_E_NOMEM;
    for (unsigned i = 0; i < b->n_workers; i++) {
        b->workers[i].b = b;
        if (pthread_create(&b->workers[i].th, NULL, worker_main, &b->workers[i]) != 0) {
            snprintf(b->err, sizeof b->err, "%s: cannot start an encoding thread", b->dir);
            return VXS_E_NOMEM;
        }
        b->workers[i].started = true;
    }
    return VXS_OK;
}

/* file_json: {"path", "size", "xxh64"} of a file, hashed now; JSON null when it cannot be read.
 * `shown` NULL: the file's absolute path (inputs are found from bundle.json alone). */
static json_t *file_json(const char *shown, const char *path) {
    char hex[17], abs_path[PATH_MAX];
    uint64_t size;
    if (!hash_file(path, hex, &size)) return json_null();
    if (!shown) shown = realpath(path, abs_path) ? abs_path : path;
    return json_pack("{s:s,s:I,s:s}", "path", shown, "size", (json_int_t)size, "xxh64", hex);
}

static json_t *inputs_json(bundle_t *b) {
    const vxs_manifest_t *man = b->run->manifest;
    json_t *a = json_array();
    for (size_t i = 0; i < man->n_agents; i++)
        for (size_t k = 0; k < man->agents[i].n_sources; k++) {
            const vxs_manifest_source_t *ms = &man->agents[i].sources[k];
            const char *files[4] = {ms->path, ms->calibration, ms->metadata, ms->timestamps};
            const char *role[4] = {"recording", "calibration", "metadata", "timestamps"};
            for (int r = 0; r < 4; r++) {
                if (!files[r]) continue;
                json_t *o = file_json(NULL, files[r]);
                if (json_is_null(o)) o = json_pack("{s:s,s:n,s:n}", "path", files[r], "size",
                                                   "xxh64");
                json_object_set_new(o, "agent", json_string(man->agents[i].id));
                json_object_set_new(o, "sensor", json_string(ms->sensor));
                json_object_set_new(o, "kind", json_string(vxs_source_kind_name(ms->kind)));
                json_object_set_new(o, "role", json_string(role[r]));
                json_array_append_new(a, o);
            }
        }
    return a;
}

static json_t *num_or_null(double v) { return isfinite(v) ? json_real(v) : json_null(); }

static json_t *settings_json(const bundle_t *b) {
    json_t *ag = json_array(), *se = json_array();
    for (size_t i = 0; i < b->o.n_agents; i++) json_array_append_new(ag, json_string(b->agents[i]));
    for (size_t i = 0; i < b->o.n_sensors; i++)
        json_array_append_new(se, json_string(b->sensors[i]));
    return json_pack("{s:i,s:o,s:o,s:o,s:o,s:i,s:s,s:s}", "every",
                     (int)(b->o.every > 1 ? b->o.every : 1), "agents",
                     b->o.n_agents ? ag : (json_decref(ag), json_null()), "sensors",
                     b->o.n_sensors ? se : (json_decref(se), json_null()), "from_s",
                     num_or_null(b->o.from_s), "to_s", num_or_null(b->o.to_s), "png_level",
                     b->o.png_level, "png",
                     "RGB 8-bit, filter up; zlib Z_RLE at level 1, zlib's default strategy at 2-9, "
                     "stored at 0",
                     "points", "LZ4 frame (content size and checksum) of 32-byte records");
}

static vxs_status_t b_finish(void *impl, const vxs_run_summary_t *sum) {
    bundle_t *b = impl;
    const vxs_run_info_t *run = b->run;
    const vxs_manifest_t *man = run->manifest;
    char path[PATH_LEN + 64], err[700];
    wait_all(b);
    stop_workers(b);
    if (b->failed != VXS_OK) return b->failed;
    vxs_status_t st = vxs_afile_commit(b->sums, b->err, sizeof b->err);
    b->sums = NULL;
    if (st != VXS_OK) return st;
    /* every frame file reaches the disk before the record that says the bundle is complete */
    int dfd = open(b->dir, O_RDONLY | O_DIRECTORY);
    if (dfd >= 0) {
        if (syncfs(dfd) != 0) {
            snprintf(b->err, sizeof b->err, "%s: syncfs: %s", b->dir, strerror(errno));
            close(dfd);
            return VXS_E_IO;
        }
        close(dfd);
    }
    const double t0 = now_s();
    json_t *doc = json_object();
    json_object_set_new(doc, "format", json_string("v2xsync-bundle"));
    json_object_set_new(doc, "format_version", json_integer(VXS_BUNDLE_FORMAT_VERSION));
    json_object_set_new(doc, "tool", json_pack("{s:s,s:s}", "name", "v2xsync", "version",
                                               vxs_version()));
    json_object_set_new(doc, "command", b->command ? json_string(b->command) : json_null());
    json_object_set_new(doc, "identity", json_string(b->identity));
    json_object_set_new(doc, "settings", settings_json(b));
    json_t *scen = file_json(NULL, b->scenario_path);
    json_object_set_new(doc, "scenario",
                        json_pack("{s:s,s:o}", "name", man->name, "manifest", scen));
    json_object_set_new(doc, "inputs", inputs_json(b));
    json_t *agents = json_array();
    for (size_t a = 0; a < man->n_agents; a++) {
        const vxs_manifest_geo_t *g = &man->agents[a].pose;
        json_array_append_new(
            agents, json_pack("{s:s,s:s,s:b,s:o}", "id", man->agents[a].id, "type",
                              vxs_agent_type_name(man->agents[a].type), "exported",
                              b->agent_on[a],
                              "fixed_pose",
                              g->present ? json_pack("{s:f,s:f,s:f,s:o}", "lat_deg", g->lat_deg,
                                                     "lon_deg", g->lon_deg, "alt_m", g->alt_m,
                                                     "heading_deg",
                                                     g->has_heading ? json_real(g->heading_deg)
                                                                    : json_null())
                                         : json_null()));
    }
    json_object_set_new(doc, "agents", agents);
    json_t *sensors = json_array();
    for (size_t s = 0; s < run->n_streams; s++) {
        const vxs_frame_stream_t *fs = &run->streams[s];
        const vxs_manifest_source_t *ms = run->sources[fs->source].ms;
        json_t *o = json_pack("{s:s,s:s,s:s,s:s,s:o,s:b,s:o}", "stream", fs->name, "agent",
                              man->agents[fs->agent].id, "sensor", ms->sensor, "kind",
                              vxs_source_kind_name(fs->kind), "model",
                              ms->model ? json_string(ms->model) : json_null(), "exported",
                              b->stream_on[s], "sensor_to_body", transform_json(&ms->extrinsics));
        if (fs->kind == VXS_SOURCE_LIDAR)
            json_object_set_new(o, "range_m", json_real(b->lidar_range[s]));
        json_array_append_new(sensors, o);
    }
    json_object_set_new(doc, "sensors", sensors);
    json_object_set_new(
        doc, "coordinate_frames",
        json_pack("{s:{s:s,s:o,s:o,s:o,s:o},s:s,s:s}", "enu", "definition",
                  "east-north-up, metres, tangent to the WGS-84 ellipsoid at the origin", "origin_lat_deg",
                  run->has_origin ? json_real(run->origin_lat_deg) : json_null(), "origin_lon_deg",
                  run->has_origin ? json_real(run->origin_lon_deg) : json_null(), "origin_alt_m",
                  run->has_origin ? json_real(run->origin_alt_m) : json_null(), "origin_from",
                  run->origin_from ? json_string(run->origin_from) : json_null(), "body",
                  "an agent's: x forward, y left, z up, metres, origin on the ground under its "
                  "reference point (box centre); yaw counter-clockwise from east",
                  "sensor", "a sensor's: x forward, y left, z up (REP 103); p_body = R(rotation "
                            "[w, x, y, z]) p_sensor + translation"));
    json_t *clocks = json_array();
    for (size_t i = 0; i < run->clocks->n_clocks; i++) {
        const vxs_clock_info_t *ci = &run->clocks->clocks[i];
        const vxs_clock_result_t *r = &ci->est;
        json_array_append_new(
            clocks, json_pack("{s:s,s:s,s:s,s:o,s:o,s:o,s:i}", "name", ci->name, "method",
                              vxs_clock_method_name(r->method), "pinned_by",
                              vxs_clock_ident_name(r->ident), "offset_ns",
                              num_or_null(round(r->model.pieces[0].offset_ns)), "drift_ppm",
                              num_or_null(r->model.drift * 1e6), "offset_sd_ns",
                              num_or_null(round(r->offset_sd_ns)), "jumps", (int)r->jumps));
    }
    char tb[VXS_TIME_STRLEN];
    json_object_set_new(doc, "clocks",
                        json_pack("{s:s,s:o}", "epoch",
                                  vxs_time_format(tb, sizeof tb, run->clocks->epoch), "domains",
                                  clocks));
    json_object_set_new(
        doc, "frames",
        json_pack("{s:I,s:I,s:I,s:o,s:o,s:s}", "total", (json_int_t)sum->frames, "exported",
                  (json_int_t)b->stats.frames, "partial_exported", (json_int_t)b->partial,
                  "first", b->stats.frames ? json_integer((json_int_t)b->first_frame) : json_null(),
                  "last", b->stats.frames ? json_integer((json_int_t)b->last_frame) : json_null(),
                  "layout", "frames/<F>.json, labels/<F>.json, sensors/<agent>/<sensor>/<F>.png or "
                  ".pts.lz4; <F> the frame number, 8 digits"));
    json_object_set_new(doc, "damaged_units", json_integer((json_int_t)sum->damaged_units));
    json_object_set_new(doc, "v2x_out_of_range", json_integer((json_int_t)sum->v2x_out_of_range));
    json_t *files = json_array();
    static const char *const outs[] = {"files.xxh64", "clocks.json", "frames.jsonl",
                                       "v2x_messages.jsonl", "links.json", "run.json"};
    for (size_t i = 0; i < sizeof outs / sizeof outs[0]; i++) {
        snprintf(path, sizeof path, "%s/%s", b->dir, outs[i]);
        json_t *o = file_json(outs[i], path);
        if (json_is_null(o)) continue;
        json_array_append_new(files, o);
    }
    json_object_set_new(doc, "files", files);
    b->stats.s_inputs += now_s() - t0;
    snprintf(path, sizeof path, "%s/bundle.json", b->dir);
    vxs_afile_t *f;
    if ((st = vxs_afile_open(&f, path, b->err, sizeof b->err)) != VXS_OK) {
        json_decref(doc);
        return st;
    }
    char *text = json_dumps(doc, JSON_INDENT(2) | JSON_REAL_PRECISION(15));
    json_decref(doc);
    if (!text) {
        vxs_afile_abort(f);
        return VXS_E_NOMEM;
    }
    vxs_afile_write(f, text, strlen(text));
    vxs_afile_write(f, "\n", 1);
    free(text);
    if ((st = vxs_afile_commit(f, err, sizeof err)) != VXS_OK) {
        snprintf(b->err, sizeof b->err, "%s", err);
        return st;
    }
    snprintf(path, sizeof path, "%s/" MARKER, b->dir);
    unlink(path);
    if (b->o.stats) *b->o.stats = b->stats;
    return VXS_OK;
}

static const char *b_errmsg(const void *impl) { return ((const bundle_t *)impl)->err; }

static void b_destroy(void *impl) {
    bundle_t *b = impl;
    if (!b) return;
    stop_workers(b);
    for (size_t i = 0; i < RING; i++) task_free(&b->tasks[i]);
    vxs_afile_abort(b->sums);
    for (size_t i = 0; i < b->o.n_agents; i++) vxs_free(b->agents[i]);
    for (size_t i = 0; i < b->o.n_sensors; i++) vxs_free(b->sensors[i]);
    vxs_free(b->agents);
    vxs_free(b->sensors);
    vxs_free(b->scenario_path);
    vxs_free(b->command);
    for (size_t a = 0; a < b->n_agents && b->body_xyz; a++) vxs_free(b->body_xyz[a]);
    vxs_free(b->body_xyz);
    vxs_free(b->body_cap);
    vxs_free(b->lidar);
    vxs_free(b->agent_on);
    vxs_free(b->stream_on);
    vxs_free(b->lidar_range);
    vxs_free(b->member_files);
    for (size_t i = 0; i < CPM_SLOTS; i++) vxs_free(b->cpm[i].obj);
    vxs_buf_free(&b->fetch);
    pthread_mutex_destroy(&b->mu);
    pthread_cond_destroy(&b->cv_work);
    pthread_cond_destroy(&b->cv_done);
    vxs_free(b);
}

static const vxs_frame_sink_ops_t bundle_ops = {"bundle", b_begin,   b_frame,  b_finish,
                                                b_errmsg, b_destroy, b_message};

/* ---- create: options, identity, the folder ------------------------------------------------ */

/* identity_of: XXH64 of the manifest's bytes and of every setting that changes the bundle */
static bool identity_of(const vxs_bundle_options_t *o, char out[17], char *err, size_t err_len) {
    char hex[17];
    if (!hash_file(o->scenario_path, hex, NULL)) {
        snprintf(err, err_len, "%s: cannot read: %s", o->scenario_path, strerror(errno));
        return false;
    }
    XXH64_state_t *s = XXH64_createState();
    if (!s) {
        snprintf(err, err_len, "%s: out of memory", o->scenario_path);
        return false;
    }
    XXH64_reset(s, 0);
    XXH64_update(s, hex, 16);
    XXH64_update(s, vxs_version(), strlen(vxs_version()) + 1);
    /* each input's size and modification time: a recording replaced between a kill and
     * --resume makes another bundle */
    const vxs_manifest_t *man = o->manifest;
    for (size_t a = 0; a < man->n_agents; a++)
        for (size_t k = 0; k < man->agents[a].n_sources; k++) {
            const vxs_manifest_source_t *ms = &man->agents[a].sources[k];
            const char *files[4] = {ms->path, ms->calibration, ms->metadata, ms->timestamps};
            for (int r = 0; r < 4; r++) {
                struct stat st;
                int64_t v[3] = {-1, 0, 0};
                if (files[r] && stat(files[r], &st) == 0) {
                    v[0] = (int64_t)st.st_size;
                    v[1] = (int64_t)st.st_mtim.tv_sec;
                    v[2] = (int64_t)st.st_mtim.tv_nsec;
                }
                XXH64_update(s, v, sizeof v);
            }
        }
    char buf[256];
    int n = snprintf(buf, sizeof buf, "|format %d|every %u|png %d|from %.17g|to %.17g|",
                     VXS_BUNDLE_FORMAT_VERSION, o->every > 1 ? o->every : 1, o->png_level,
                     o->from_s, o->to_s);
    XXH64_update(s, buf, (size_t)n);
    for (size_t i = 0; i < o->n_agents; i++) {
        XXH64_update(s, "a:", 2);
        XXH64_update(s, o->agents[i], strlen(o->agents[i]) + 1);
    }
    for (size_t i = 0; i < o->n_sensors; i++) {
        XXH64_update(s, "s:", 2);
        XXH64_update(s, o->sensors[i], strlen(o->sensors[i]) + 1);
    }
    hex64(out, XXH64_digest(s));
    XXH64_freeState(s);
    return true;
}

/* record_t is what a folder says of a bundle in it: nothing, a v2xsync bundle's record (the
 * marker of a run in progress, else a finished bundle.json) with its identity, or a file under
 * one of those names that is no v2xsync bundle's. */
typedef enum { REC_NONE, REC_OURS, REC_FOREIGN } record_t;

static record_t read_record(const char *dir, char id[17], const char **which) {
    const vxsi_bundle_rec_t r = vxsi_bundle_record(dir, id);
    *which = r == VXSI_BUNDLE_FOREIGN_MARKER || r == VXSI_BUNDLE_RUNNING ? MARKER : "bundle.json";
    return r == VXSI_BUNDLE_NONE ? REC_NONE
           : r == VXSI_BUNDLE_RUNNING || r == VXSI_BUNDLE_DONE ? REC_OURS
                                                               : REC_FOREIGN;
}

vxsi_bundle_rec_t vxsi_bundle_record(const char *dir, char id[17]) {
    char path[PATH_LEN + 64];
    static const char *const names[2] = {MARKER, "bundle.json"};
    id[0] = '\0';
    for (int i = 0; i < 2; i++) {
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        if (access(path, F_OK) != 0) continue;
        json_t *j = json_load_file(path, 0, NULL);
        const char *fmt = json_string_value(json_object_get(j, "format"));
        const char *v = json_string_value(json_object_get(j, "identity"));
        const bool ours = fmt && strcmp(fmt, "v2xsync-bundle") == 0 && v && strlen(v) == 16;
        if (ours) memcpy(id, v, 17);
        json_decref(j);
        if (i == 0) return ours ? VXSI_BUNDLE_RUNNING : VXSI_BUNDLE_FOREIGN_MARKER;
        return ours ? VXSI_BUNDLE_DONE : VXSI_BUNDLE_FOREIGN;
    }
    return VXSI_BUNDLE_NONE;
}

/* check_dir: whether a bundle of identity `identity` with options `o` may be written into `dir`
 * (README "The bundle": the folder rules); nothing is changed */
static vxs_status_t check_dir(const char *dir, const char *identity,
                              const vxs_bundle_options_t *o, char *err, size_t err_len) {
    char path[PATH_LEN + 64], id[17];
    const char *which = NULL;
    const record_t rec = read_record(dir, id, &which);
    if (rec == REC_FOREIGN) {
        snprintf(err, err_len,
                 "%s/%s is not a v2xsync bundle's: nothing is replaced (choose another output "
                 "folder)",
                 dir, which);
        return VXS_E_ARG;
    }
    for (size_t i = 0; rec == REC_NONE && i < sizeof TREES / sizeof TREES[0]; i++) {
        snprintf(path, sizeof path, "%s/%s", dir, TREES[i]);
        if (access(path, F_OK) != 0) continue;
        snprintf(err, err_len,
                 "%s exists and belongs to no v2xsync bundle: remove it or choose another output "
                 "folder",
                 path);
        return VXS_E_ARG;
    }
    snprintf(path, sizeof path, "%s/frames.jsonl", dir);
    if (rec == REC_NONE && !o->force && access(path, F_OK) == 0) {
        snprintf(err, err_len, "%s already exists (--force replaces it)", path);
        return VXS_E_ARG;
    }
    const bool same = rec == REC_OURS && strcmp(id, identity) == 0;
    if (rec == REC_OURS && !same && !o->force) {
        snprintf(err, err_len,
                 "%s holds the bundle of another scenario, other inputs, settings or version of "
                 "v2xsync (--force replaces it)",
                 dir);
        return VXS_E_ARG;
    }
    if (same && !o->resume && !o->force) {
        snprintf(err, err_len,
                 "%s already holds this bundle or a part of it (--resume continues it, --force "
                 "replaces it)",
                 dir);
        return VXS_E_ARG;
    }
    return VXS_OK;
}

vxs_status_t vxs_bundle_identity(const vxs_bundle_options_t *o, char out[17], char *err,
                                 size_t err_len) {
    if (!o || !o->manifest || !o->scenario_path) return VXS_E_ARG;
    return identity_of(o, out, err, err_len) ? VXS_OK : VXS_E_IO;
}

vxs_status_t vxs_bundle_check(const char *dir, const vxs_bundle_options_t *o, char *err,
                              size_t err_len) {
    char id[17];
    vxs_status_t st = vxs_bundle_identity(o, id, err, err_len);
    if (st != VXS_OK) return st;
    if (access(dir, F_OK) != 0) return VXS_OK; /* a new folder */
    return check_dir(dir, id, o, err, err_len);
}

static vxs_status_t prepare_dir(bundle_t *b, char *err, size_t err_len) {
    char path[PATH_LEN + 64], id[17];
    const char *which = NULL;
    const record_t rec = read_record(b->dir, id, &which);
    const bool same = rec == REC_OURS && strcmp(id, b->identity) == 0;
    vxs_status_t st = check_dir(b->dir, b->identity, &b->o, err, err_len);
    if (st != VXS_OK) return st;
    /* from here on the folder is this run's: first the marker, which is read first, so a
     * kill at any point below leaves a folder --resume or --force takes */
    json_t *m = json_pack("{s:s,s:s,s:s,s:s}", "format", "v2xsync-bundle", "identity",
                          b->identity, "scenario", b->o.manifest->name, "manifest",
                          b->scenario_path);
    char *text = m ? json_dumps(m, JSON_INDENT(2)) : NULL;
    json_decref(m);
    if (!text) {
        snprintf(err, err_len, "%s: out of memory", b->dir);
        return VXS_E_NOMEM;
    }
    snprintf(path, sizeof path, "%s/" MARKER, b->dir);
    vxs_afile_t *f;
    st = vxs_afile_open(&f, path, err, err_len);
    if (st == VXS_OK) {
        vxs_afile_write(f, text, strlen(text));
        vxs_afile_write(f, "\n", 1);
        st = vxs_afile_commit(f, err, err_len);
    }
    free(text);
    if (st != VXS_OK) return st;
    /* the bundle is incomplete from now on until bundle.json is written again */
    snprintf(path, sizeof path, "%s/bundle.json", b->dir);
    if (unlink(path) != 0 && errno != ENOENT) {
        snprintf(err, err_len, "%s: cannot remove: %s", path, strerror(errno));
        return VXS_E_IO;
    }
    for (size_t i = 0; rec == REC_OURS && b->o.force && !(same && b->o.resume) &&
                       i < sizeof TREES / sizeof TREES[0];
         i++) {
        snprintf(path, sizeof path, "%s/%s", b->dir, TREES[i]);
        if (vxsi_remove_tree(path) != 0) {
            snprintf(err, err_len, "%s: cannot remove: %s", path, strerror(errno));
            return VXS_E_IO;
        }
    }
    if (rec == REC_OURS) remove_temporaries(b->dir);
    return VXS_OK;
}

static char **copy_list(const char *const *l, size_t n) {
    char **c = vxs_calloc(n ? n : 1, sizeof *c);
    for (size_t i = 0; c && i < n; i++)
        if (!(c[i] = vxs_strdup(l[i]))) {
            while (i--) vxs_free(c[i]);
            vxs_free(c);
            return NULL;
        }
    return c;
}

bool vxs_bundle_in(const char *dir) {
    char id[17];
    const char *which = NULL;
    return dir && read_record(dir, id, &which) != REC_NONE;
}

vxs_status_t vxs_bundle_sink_create(vxs_frame_sink_t **out, const char *dir,
                                    const vxs_bundle_options_t *o, char *err, size_t err_len) {
    if (!out || !dir || !o || !o->manifest || !o->scenario_path) return VXS_E_ARG;
    *out = NULL;
    const vxs_manifest_t *man = o->manifest;
    if (o->png_level < 0 || o->png_level > 9) {
        snprintf(err, err_len, "PNG level %d: expected 0..9", o->png_level);
        return VXS_E_ARG;
    }
    if (strlen(dir) >= PATH_LEN - 64) {
        snprintf(err, err_len, "%s: path too long", dir);
        return VXS_E_ARG;
    }
    for (size_t i = 0; i < o->n_agents; i++) {
        bool found = false;
        for (size_t a = 0; a < man->n_agents && !found; a++)
            found = strcmp(man->agents[a].id, o->agents[i]) == 0;
        if (!found) {
            snprintf(err, err_len, "no agent '%s' in the scenario", o->agents[i]);
            return VXS_E_ARG;
        }
    }
    for (size_t i = 0; i < o->n_sensors; i++) {
        bool found = false;
        char name[200];
        for (size_t a = 0; a < man->n_agents && !found; a++)
            for (size_t k = 0; k < man->agents[a].n_sources && !found; k++) {
                snprintf(name, sizeof name, "%s/%s", man->agents[a].id,
                         man->agents[a].sources[k].sensor);
                found = strcmp(name, o->sensors[i]) == 0 &&
                        man->agents[a].sources[k].kind != VXS_SOURCE_V2X;
            }
        if (!found) {
            snprintf(err, err_len,
                     "no LiDAR or camera '%s' (agent/sensor) in the scenario", o->sensors[i]);
            return VXS_E_ARG;
        }
    }
    bundle_t *b = vxs_calloc(1, sizeof *b);
    if (!b) {
        snprintf(err, err_len, "%s: out of memory", dir);
        return VXS_E_NOMEM;
    }
    pthread_mutex_init(&b->mu, NULL);
    pthread_cond_init(&b->cv_work, NULL);
    pthread_cond_init(&b->cv_done, NULL);
    b->o = *o;
    snprintf(b->dir, sizeof b->dir, "%s", dir);
    snprintf(b->annotator, sizeof b->annotator, "v2xsync %s", vxs_version());
    b->agents = copy_list(o->agents, o->n_agents);
    b->sensors = copy_list(o->sensors, o->n_sensors);
    if (!b->agents) b->o.n_agents = 0; /* nothing to free through them */
    if (!b->sensors) b->o.n_sensors = 0;
    b->scenario_path = vxs_strdup(o->scenario_path);
    b->command = o->command ? vxs_strdup(o->command) : NULL;
    if (!b->agents || !b->sensors || !b->scenario_path || (o->command && !b->command)) {
        b_destroy(b);
        snprintf(err, err_len, "%s: out of memory", dir);
        return VXS_E_NOMEM;
    }
    vxs_status_t st = VXS_E_ARG;
    if (!identity_of(o, b->identity, err, err_len) ||
        (st = prepare_dir(b, err, err_len)) != VXS_OK ||
        (st = vxs_frame_sink_create(out, &bundle_ops, b)) != VXS_OK) {
        b_destroy(b);
        return st;
    }
    return VXS_OK;
}
