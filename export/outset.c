/*
 * outset.c: a run's outputs as one set (vxs_export.h "A run's outputs as one set").
 *
 * Staging folder beside DIR, put in place by one rename(2) or renameat2(RENAME_EXCHANGE)
 * (Linux >= 3.15, glibc >= 2.28): within one file system both are atomic, so DIR's name always
 * refers to one complete set. The lock file beside DIR is what makes cleanup safe: only a run
 * holding it creates staging folders of DIR, so while we hold it every other one is a dead
 * run's. It is removed on release while still locked, and a taker checks that the file it
 * locked is still the one under the name (the unlink-while-locked pattern), so removal never
 * lets two runs in.
 */
#define _GNU_SOURCE /* renameat2, syncfs */
#include "export_int.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define OPATH (PATH_MAX + 512)

struct vxs_outset {
    char target[OPATH]; /* DIR, resolved */
    char parent[OPATH];
    char base[NAME_MAX + 1];
    char stage[OPATH];
    char lock[OPATH];
    char resumed[OPATH]; /* the killed run's staging folder taken over, "" */
    int lock_fd;
    bool bundle_run;     /* writes a bundle: a failed run's is kept for --resume */
};

/* The names of a bundle in DIR (README "The bundle"). */
static const char *const BUNDLE_NAMES[] = {"bundle.json", VXSI_BUNDLE_MARKER, "files.xxh64",
                                           "frames", "labels", "sensors"};
/* The folders DIR may hold: a bundle's. */
static const char *const BUNDLE_TREES[] = {"frames", "labels", "sensors"};
/* Every top-level output a run writes: "<name>.tmp.<hex>" is its temporary (vxs_afile_open). */
static const char *const OUTPUTS[] = {"frames.jsonl", "clocks.json", "links.json",
                                      "v2x_messages.jsonl", "run.json", "report.json",
                                      "report.html", "files.xxh64", "bundle.json",
                                      VXSI_BUNDLE_MARKER};

/* pjoin: "a/b" into out; false when it does not fit */
static bool pjoin(char *out, size_t out_len, const char *a, const char *b) {
    const size_t na = strlen(a), nb = strlen(b);
    if (na + 1 + nb + 1 > out_len) {
        if (out_len) out[0] = '\0';
        return false;
    }
    memmove(out, a, na);
    out[na] = '/';
    memcpy(out + na + 1, b, nb + 1);
    return true;
}

static bool in_list(const char *const *list, size_t n, const char *name) {
    for (size_t i = 0; i < n; i++)
        if (strcmp(list[i], name) == 0) return true;
    return false;
}
#define IN(list, name) in_list(list, sizeof list / sizeof list[0], name)

/* kill_point: the test hook (VXS_TEST_KILL_AT) */
static void kill_point(const char *name) {
    const char *at = getenv("VXS_TEST_KILL_AT");
    if (at && strcmp(at, name) == 0) raise(SIGKILL);
}

/* is_temporary: "<output>.tmp.<hex>", a temporary a killed run of an older version left in DIR */
static bool is_temporary(const char *name) {
    for (size_t i = 0; i < sizeof OUTPUTS / sizeof OUTPUTS[0]; i++) {
        const size_t n = strlen(OUTPUTS[i]);
        const char *rest = name + n;
        if (strncmp(name, OUTPUTS[i], n) == 0 && strncmp(rest, ".tmp.", 5) == 0 && rest[5] &&
            strspn(rest + 5, "0123456789abcdef") == strlen(rest + 5))
            return true;
    }
    return false;
}

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw) {
    (void)sb;
    (void)ftw;
    return flag == FTW_DP ? rmdir(path) : unlink(path);
}

int vxsi_remove_tree(const char *path) {
    struct stat st;
    if (lstat(path, &st) != 0) return errno == ENOENT ? 0 : -1;
    if (!S_ISDIR(st.st_mode)) return unlink(path);
    return nftw(path, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/* ---- paths ------------------------------------------------------------------------------- */

/* resolve_loose: `path` made absolute with symbolic links and ".." resolved on its longest
 * existing part (realpath), "." and ".." of the rest applied to the names */
static bool resolve_loose(const char *path, char *out, size_t out_len) {
    char cur[OPATH], buf[OPATH];
    if (path[0] == '/') {
        snprintf(cur, sizeof cur, "/");
    } else if (!getcwd(cur, sizeof cur)) {
        return false;
    }
    bool exists = true;
    snprintf(buf, sizeof buf, "%s", path);
    for (char *save = NULL, *c = strtok_r(buf, "/", &save); c; c = strtok_r(NULL, "/", &save)) {
        if (strcmp(c, ".") == 0) continue;
        if (strcmp(c, "..") == 0) {
            char *slash = strrchr(cur, '/');
            if (slash == cur) cur[1] = '\0';
            else if (slash) *slash = '\0';
            continue;
        }
        char next[OPATH];
        if ((size_t)snprintf(next, sizeof next, "%s%s%s", cur, strcmp(cur, "/") ? "/" : "", c) >=
            sizeof next)
            return false;
        struct stat st;
        if (exists && lstat(next, &st) == 0) {
            char real[PATH_MAX];
            if (!realpath(next, real)) return false; /* a dangling link: refuse to guess */
            snprintf(cur, sizeof cur, "%s", real);
        } else {
            exists = false;
            snprintf(cur, sizeof cur, "%s", next);
        }
    }
    return (size_t)snprintf(out, out_len, "%s", cur) < out_len;
}

/* split_target: DIR resolved (it need not exist), its parent and its name */
static vxs_status_t split_target(const char *dir, char *target, char *parent, char *base,
                                 char *err, size_t err_len) {
    if (!dir || !dir[0]) {
        snprintf(err, err_len, "no output folder given");
        return VXS_E_ARG;
    }
    if (!resolve_loose(dir, target, OPATH)) {
        snprintf(err, err_len, "%s: cannot resolve the path: %s", dir, strerror(errno));
        return VXS_E_ARG;
    }
    const char *slash = strrchr(target, '/');
    if (strcmp(target, "/") == 0 || !slash || !slash[1]) {
        snprintf(err, err_len, "%s: the root folder cannot be an output folder", dir);
        return VXS_E_ARG;
    }
    if (strlen(slash + 1) > NAME_MAX - 40) {
        snprintf(err, err_len, "%s: the folder's name is too long", dir);
        return VXS_E_ARG;
    }
    snprintf(base, NAME_MAX + 1, "%s", slash + 1);
    if (slash == target) snprintf(parent, OPATH, "/");
    else snprintf(parent, OPATH, "%.*s", (int)(slash - target), target);
    return VXS_OK;
}

vxs_status_t vxs_outset_check_target(const char *dir, char *err, size_t err_len) {
    char target[OPATH], parent[OPATH], base[NAME_MAX + 1];
    vxs_status_t st = split_target(dir, target, parent, base, err, err_len);
    if (st != VXS_OK) return st;
    struct stat ps, ts;
    if (stat(parent, &ps) != 0 || !S_ISDIR(ps.st_mode)) {
        snprintf(err, err_len, "%s: the folder it would be created in, %s, %s", dir, parent,
                 errno == ENOENT ? "does not exist" : "is not a folder");
        return VXS_E_ARG;
    }
    if (stat(target, &ts) == 0) {
        if (!S_ISDIR(ts.st_mode)) {
            snprintf(err, err_len, "%s exists and is not a folder: give -o a folder (new, or "
                                   "one v2xsync wrote)", dir);
            return VXS_E_ARG;
        }
        if (ts.st_dev != ps.st_dev) {
            snprintf(err, err_len, "%s is a mount point: its outputs are replaced by a rename, "
                                   "which cannot move it (give a folder inside it)", dir);
            return VXS_E_ARG;
        }
    }
    return VXS_OK;
}

/* under: whether `path` is `folder` or lies under it (both resolved) */
static bool under(const char *path, const char *folder) {
    const size_t n = strlen(folder);
    if (strcmp(folder, "/") == 0) return true;
    return strncmp(path, folder, n) == 0 && (path[n] == '\0' || path[n] == '/');
}

vxs_status_t vxs_outset_check_inputs(const char *dir, const char *const *paths, size_t n_paths,
                                     char *err, size_t err_len) {
    char target[OPATH];
    if (!resolve_loose(dir, target, sizeof target)) {
        snprintf(err, err_len, "%s: cannot resolve the path: %s", dir, strerror(errno));
        return VXS_E_ARG;
    }
    char best[OPATH] = "";
    const char *best_input = NULL;
    for (size_t i = 0; i < n_paths; i++) {
        if (!paths[i]) continue;
        char folders[2][OPATH], named[OPATH];
        size_t nf = 0;
        /* the folder the path names (symbolic links in it resolved) */
        snprintf(named, sizeof named, "%s", paths[i]);
        char *slash = strrchr(named, '/');
        if (slash == named) named[1] = '\0';
        else if (slash) *slash = '\0';
        else snprintf(named, sizeof named, ".");
        if (resolve_loose(named, folders[nf], OPATH)) nf++;
        /* the folder of the file it is (a link to a recording elsewhere) */
        char real[PATH_MAX];
        if (realpath(paths[i], real)) {
            char *s2 = strrchr(real, '/');
            if (s2 == real) real[1] = '\0';
            else if (s2) *s2 = '\0';
            snprintf(folders[nf++], OPATH, "%s", real);
        }
        for (size_t k = 0; k < nf; k++) /* the innermost folder is the one to name */
            if (under(target, folders[k]) && strlen(folders[k]) > strlen(best)) {
                snprintf(best, sizeof best, "%s", folders[k]);
                best_input = paths[i];
            }
    }
    if (!best_input) return VXS_OK;
    snprintf(err, err_len,
             "%s is %s%s, a folder that holds input recordings (%s): nothing is written into "
             "input folders or under them",
             dir, strcmp(target, best) == 0 ? "" : "inside ", best, best_input);
    return VXS_E_ARG;
}

/* named_folder: the folder `path` names, resolved as resolve_loose does */
static bool named_folder(const char *path, char *out, size_t out_len) {
    char named[OPATH];
    snprintf(named, sizeof named, "%s", path);
    char *slash = strrchr(named, '/');
    if (slash == named) named[1] = '\0';
    else if (slash) *slash = '\0';
    else snprintf(named, sizeof named, ".");
    return resolve_loose(named, out, out_len);
}

/* The manifest's folder is an input folder when it is the drive's: when it holds the
 * recordings or the folders they are in (what `init` and `synth` write). A manifest written
 * alone into a folder of its own, naming recordings elsewhere, leaves that folder free for
 * outputs beside it; the folder itself is still never replaced. */
vxs_status_t vxs_outset_check_manifest(const char *dir, const vxs_manifest_t *man,
                                       const char *manifest_path, char *err, size_t err_len) {
    size_t n = 0;
    for (size_t a = 0; a < man->n_agents; a++) n += 4 * man->agents[a].n_sources;
    const char **paths = vxs_calloc(n ? n : 1, sizeof *paths);
    if (!paths) {
        snprintf(err, err_len, "%s: out of memory", dir);
        return VXS_E_NOMEM;
    }
    size_t k = 0;
    for (size_t a = 0; a < man->n_agents; a++)
        for (size_t i = 0; i < man->agents[a].n_sources; i++) {
            const vxs_manifest_source_t *s = &man->agents[a].sources[i];
            paths[k++] = s->path;
            paths[k++] = s->calibration;
            paths[k++] = s->metadata;
            paths[k++] = s->timestamps;
        }
    vxs_status_t st = vxs_outset_check_inputs(dir, paths, k, err, err_len);
    char target[OPATH], mdir[OPATH];
    if (st == VXS_OK && resolve_loose(dir, target, sizeof target) &&
        named_folder(manifest_path, mdir, sizeof mdir) && under(target, mdir)) {
        /* The manifest is an input too, and its folder usually the drive's: nothing is written
         * in it or under it (issue 21), whether or not the recordings lie there. */
        snprintf(err, err_len,
                 "%s is %s%s, a folder that holds input recordings (the manifest %s): nothing is "
                 "written into input folders or under them",
                 dir, strcmp(target, mdir) == 0 ? "" : "inside ", mdir, manifest_path);
        st = VXS_E_ARG;
    }
    vxs_free(paths);
    return st;
}

/* ---- the lock ------------------------------------------------------------------------------ */

static vxs_status_t lock_take(vxs_outset_t *s, const char *dir, char *err, size_t err_len) {
    for (int attempt = 0; attempt < 100; attempt++) {
        const int fd = open(s->lock, O_RDWR | O_CREAT | O_CLOEXEC, 0666);
        if (fd < 0) {
            snprintf(err, err_len, "%s: cannot create the lock file: %s", s->lock,
                     strerror(errno));
            return VXS_E_IO;
        }
        if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
            const int e = errno;
            char pid[32] = "";
            const ssize_t n = pread(fd, pid, sizeof pid - 1, 0);
            pid[n > 0 ? n : 0] = '\0';
            pid[strcspn(pid, "\n")] = '\0';
            close(fd);
            if (e == EWOULDBLOCK) {
                snprintf(err, err_len,
                         "%s is being written by another v2xsync run (pid %s; lock %s): wait for "
                         "it to end",
                         dir, pid[0] ? pid : "?", s->lock);
                return VXS_E_STATE;
            }
            snprintf(err, err_len, "%s: cannot lock: %s", s->lock, strerror(e));
            return VXS_E_IO;
        }
        struct stat a, b;
        if (fstat(fd, &a) == 0 && stat(s->lock, &b) == 0 && a.st_dev == b.st_dev &&
            a.st_ino == b.st_ino) {
            char pid[32];
            const int n = snprintf(pid, sizeof pid, "%ld\n", (long)getpid());
            if (ftruncate(fd, 0) == 0 && pwrite(fd, pid, (size_t)n, 0) < 0) { /* advisory only */
            }
            s->lock_fd = fd;
            return VXS_OK;
        }
        close(fd); /* its holder removed it between our open and our lock: take the new one */
    }
    snprintf(err, err_len, "%s: cannot take the lock", s->lock);
    return VXS_E_IO;
}

static void lock_release(vxs_outset_t *s) {
    if (s->lock_fd < 0) return;
    unlink(s->lock); /* while still holding it: see the file's comment */
    close(s->lock_fd);
    s->lock_fd = -1;
}

/* ---- leftovers ----------------------------------------------------------------------------- */

/* is_stage_name: ".<base>.v2xsync-<digits>-<hex>" */
static bool is_stage_name(const char *base, const char *name) {
    const size_t bn = strlen(base);
    if (name[0] != '.' || strncmp(name + 1, base, bn) != 0 ||
        strncmp(name + 1 + bn, ".v2xsync-", 9) != 0)
        return false;
    const char *p = name + 1 + bn + 9;
    const size_t digits = strspn(p, "0123456789");
    if (!digits || p[digits] != '-' || !p[digits + 1]) return false;
    return strspn(p + digits + 1, "0123456789abcdef") == strlen(p + digits + 1);
}

static atomic_uint name_counter;

/* stage_name: a new staging name of this run */
static void stage_name(const vxs_outset_t *s, char *out, size_t out_len) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    uint64_t x = (uint64_t)ts.tv_nsec ^ ((uint64_t)ts.tv_sec << 30) ^
                 ((uint64_t)atomic_fetch_add(&name_counter, 1u) * 0x9E3779B97F4A7C15ull) ^
                 (uint64_t)(uintptr_t)s;
    x ^= x >> 33;
    x *= 0xFF51AFD7ED558CCDull;
    x ^= x >> 33;
    if (snprintf(out, out_len, "%s/.%s.v2xsync-%ld-%08x", s->parent, s->base, (long)getpid(),
                 (unsigned)(x & 0xFFFFFFFFu)) >= (int)out_len)
        out[0] = '\0'; /* cannot happen: split_target bounds both */
}

typedef struct {
    char path[OPATH];
    bool partial;  /* a bundle in progress */
    bool matches;  /* ... of the run's identity */
    bool adopt, remove;
} leftover_t;

enum { MAX_LEFTOVERS = 64 };

/* leftovers: decides what becomes of the dead runs' staging folders; VXS_E_ARG (nothing done)
 * when a bundle run may not pass one */
static vxs_status_t plan_leftovers(const vxs_outset_t *s, const vxs_outset_options_t *o,
                                   leftover_t *l, size_t *n, const char *dir, char *err,
                                   size_t err_len) {
    *n = 0;
    DIR *d = opendir(s->parent);
    if (!d) {
        snprintf(err, err_len, "%s: cannot list: %s", s->parent, strerror(errno));
        return VXS_E_IO;
    }
    struct dirent *e;
    bool adopted = false;
    vxs_status_t st = VXS_OK;
    while ((e = readdir(d)) != NULL && *n < MAX_LEFTOVERS) {
        if (!is_stage_name(s->base, e->d_name)) continue;
        leftover_t *x = &l[(*n)++];
        memset(x, 0, sizeof *x);
        (void)pjoin(x->path, sizeof x->path, s->parent, e->d_name);
        char id[17];
        const vxsi_bundle_rec_t r = vxsi_bundle_record(x->path, id);
        x->partial = r == VXSI_BUNDLE_RUNNING;
        /* a complete bundle (killed before its exchange, or an old set after it) is taken over
         * too: every frame is checked, then kept */
        x->matches = (r == VXSI_BUNDLE_RUNNING || r == VXSI_BUNDLE_DONE) && o->bundle_identity &&
                     strcmp(id, o->bundle_identity) == 0;
    }
    closedir(d);
    for (size_t i = 0; i < *n; i++) {
        leftover_t *x = &l[i];
        const bool resume = o->bundle == VXS_OUTSET_BUNDLE_RESUME;
        if (resume && x->matches && !adopted)
            x->adopt = adopted = true;
        else if (!x->partial || o->force || (resume && x->matches)) /* an older attempt */
            x->remove = true;
    }
    for (size_t i = 0; i < *n && st == VXS_OK; i++) {
        leftover_t *x = &l[i];
        if (x->adopt || x->remove || o->bundle == VXS_OUTSET_NO_BUNDLE) continue;
        if (x->matches)
            snprintf(err, err_len,
                     "%s: a killed run left a part of this bundle in %s (--resume continues it, "
                     "--force discards it)",
                     dir, x->path);
        else
            snprintf(err, err_len,
                     "%s: a killed run left a bundle in progress of another scenario, other "
                     "inputs, settings or version of v2xsync in %s (--force discards it)",
                     dir, x->path);
        st = VXS_E_ARG;
    }
    return st;
}

/* ---- carrying DIR over ----------------------------------------------------------------------- */

/* copy_file: where a hard link is refused (another file system under DIR, protected links) */
static int copy_file(const char *from, const char *to, mode_t mode) {
    const int in = open(from, O_RDONLY | O_CLOEXEC);
    if (in < 0) return -1;
    const int out = open(to, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode & 07777);
    if (out < 0) {
        close(in);
        return -1;
    }
    char buf[65536];
    ssize_t r;
    int rc = 0;
    while ((r = read(in, buf, sizeof buf)) > 0)
        for (ssize_t done = 0; done < r;) {
            const ssize_t w = write(out, buf + done, (size_t)(r - done));
            if (w < 0) {
                rc = -1;
                break;
            }
            done += w;
        }
    if (r < 0) rc = -1;
    close(in);
    if (close(out) != 0) rc = -1;
    return rc;
}

/* carry: `from` (an entry of DIR) into the staging folder as `to`: hard links, folders
 * recursively */
static vxs_status_t carry(const char *from, const char *to, char *err, size_t err_len) {
    struct stat st;
    if (lstat(from, &st) != 0) {
        if (errno == ENOENT) return VXS_OK; /* gone meanwhile (not a v2xsync run: we lock) */
        snprintf(err, err_len, "%s: %s", from, strerror(errno));
        return VXS_E_IO;
    }
    if (S_ISREG(st.st_mode)) {
        if (link(from, to) == 0 || copy_file(from, to, st.st_mode) == 0) return VXS_OK;
    } else if (S_ISLNK(st.st_mode)) {
        char target[PATH_MAX];
        const ssize_t n = readlink(from, target, sizeof target - 1);
        if (n >= 0) {
            target[n] = '\0';
            if (symlink(target, to) == 0) return VXS_OK;
        }
    } else if (S_ISDIR(st.st_mode)) {
        if (mkdir(to, st.st_mode & 07777) != 0 && errno != EEXIST) goto fail;
        DIR *d = opendir(from);
        if (!d) goto fail;
        struct dirent *e;
        vxs_status_t r = VXS_OK;
        char a[OPATH], b[OPATH];
        while (r == VXS_OK && (e = readdir(d)) != NULL) {
            if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) continue;
            (void)pjoin(a, sizeof a, from, e->d_name);
            (void)pjoin(b, sizeof b, to, e->d_name);
            r = carry(a, b, err, err_len);
        }
        closedir(d);
        return r;
    } else {
        snprintf(err, err_len, "%s is neither a file nor a folder: not carried over", from);
        return VXS_E_ARG;
    }
fail:
    snprintf(err, err_len, "%s: cannot carry it over into %s: %s", from, to, strerror(errno));
    return VXS_E_IO;
}

/* skipped: whether DIR's entry `name` is not carried over */
static bool skipped(const vxs_outset_options_t *o, bool bundle_from_dir, const char *name) {
    if (in_list(o->writes, o->n_writes, name) || is_temporary(name)) return true;
    if (IN(BUNDLE_NAMES, name))
        return o->bundle == VXS_OUTSET_BUNDLE ||
               (o->bundle == VXS_OUTSET_BUNDLE_RESUME && !bundle_from_dir);
    return false;
}

/* check_entries: DIR's entries that are carried over may be files and links, and of folders
 * only a bundle's */
static vxs_status_t check_entries(const vxs_outset_t *s, const vxs_outset_options_t *o,
                                  const char *dir, char *err, size_t err_len) {
    DIR *d = opendir(s->target);
    if (!d) {
        if (errno == ENOENT) return VXS_OK;
        snprintf(err, err_len, "%s: cannot list: %s", dir, strerror(errno));
        return VXS_E_IO;
    }
    struct dirent *e;
    vxs_status_t st = VXS_OK;
    char path[OPATH];
    while (st == VXS_OK && (e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) continue;
        if (skipped(o, true, e->d_name)) continue;
        (void)pjoin(path, sizeof path, s->target, e->d_name);
        struct stat sb;
        if (lstat(path, &sb) != 0) continue;
        if (S_ISDIR(sb.st_mode) && !IN(BUNDLE_TREES, e->d_name)) {
            snprintf(err, err_len,
                     "%s holds the folder '%s', which v2xsync did not write: an output folder is "
                     "replaced as a whole at the end of a run, so it may hold files but no "
                     "other folders (move it, or choose another -o)",
                     dir, e->d_name);
            st = VXS_E_ARG;
        } else if (!S_ISDIR(sb.st_mode) && !S_ISREG(sb.st_mode) && !S_ISLNK(sb.st_mode)) {
            snprintf(err, err_len, "%s holds '%s', which is neither a file nor a folder", dir,
                     e->d_name);
            st = VXS_E_ARG;
        }
    }
    closedir(d);
    return st;
}

/* clear_adopted: the staging folder taken over keeps its bundle; what its run carried over or
 * wrote besides is dropped (written again, or carried over from DIR as it is now) */
static vxs_status_t clear_adopted(const vxs_outset_t *s, char *err, size_t err_len) {
    DIR *d = opendir(s->stage);
    if (!d) {
        snprintf(err, err_len, "%s: cannot list: %s", s->stage, strerror(errno));
        return VXS_E_IO;
    }
    struct dirent *e;
    char path[OPATH];
    vxs_status_t st = VXS_OK;
    while (st == VXS_OK && (e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0 ||
            IN(BUNDLE_NAMES, e->d_name))
            continue;
        (void)pjoin(path, sizeof path, s->stage, e->d_name);
        if (vxsi_remove_tree(path) != 0) {
            snprintf(err, err_len, "%s: cannot remove: %s", path, strerror(errno));
            st = VXS_E_IO;
        }
    }
    closedir(d);
    return st;
}

vxs_status_t vxs_outset_begin(vxs_outset_t **out, const char *dir, const vxs_outset_options_t *o,
                              char *err, size_t err_len) {
    *out = NULL;
    if (!o || (o->bundle != VXS_OUTSET_NO_BUNDLE && !o->bundle_identity)) return VXS_E_ARG;
    vxs_status_t st = vxs_outset_check_target(dir, err, err_len);
    if (st != VXS_OK) return st;
    vxs_outset_t *s = vxs_calloc(1, sizeof *s);
    leftover_t *l = vxs_calloc(MAX_LEFTOVERS, sizeof *l);
    if (!s || !l) {
        vxs_free(s);
        vxs_free(l);
        snprintf(err, err_len, "%s: out of memory", dir);
        return VXS_E_NOMEM;
    }
    s->lock_fd = -1;
    s->bundle_run = o->bundle != VXS_OUTSET_NO_BUNDLE;
    if ((st = split_target(dir, s->target, s->parent, s->base, err, err_len)) != VXS_OK) goto fail;
    if (snprintf(s->lock, sizeof s->lock, "%s/.%s.v2xsync-lock", s->parent, s->base) >=
        (int)sizeof s->lock) {
        snprintf(err, err_len, "%s: path too long", dir);
        st = VXS_E_ARG;
        goto fail;
    }
    struct stat ts;
    const bool exists = stat(s->target, &ts) == 0;
    /* DIR's bundle is carried over to be continued when it is the one asked for */
    bool bundle_from_dir = false;
    if (exists && o->bundle == VXS_OUTSET_BUNDLE_RESUME) {
        char id[17];
        const vxsi_bundle_rec_t r = vxsi_bundle_record(s->target, id);
        bundle_from_dir = (r == VXSI_BUNDLE_RUNNING || r == VXSI_BUNDLE_DONE) &&
                          strcmp(id, o->bundle_identity) == 0;
    }
    if (exists && (st = check_entries(s, o, dir, err, err_len)) != VXS_OK) goto fail;
    if ((st = lock_take(s, dir, err, err_len)) != VXS_OK) goto fail;
    size_t n = 0;
    if ((st = plan_leftovers(s, o, l, &n, dir, err, err_len)) != VXS_OK) goto fail;
    /* from here on things change */
    const leftover_t *adopt = NULL;
    for (size_t i = 0; i < n; i++) {
        if (l[i].adopt) adopt = &l[i];
        if (l[i].remove && vxsi_remove_tree(l[i].path) != 0) {
            snprintf(err, err_len, "%s (a killed run's): cannot remove: %s", l[i].path,
                     strerror(errno));
            st = VXS_E_IO;
            goto fail;
        }
    }
    for (int attempt = 0;; attempt++) {
        stage_name(s, s->stage, sizeof s->stage);
        const int r = adopt ? rename(adopt->path, s->stage) : mkdir(s->stage, 0777);
        if (r == 0) break;
        if ((errno != EEXIST && errno != ENOTEMPTY) || attempt == 100) {
            snprintf(err, err_len, "%s: cannot create the staging folder: %s", s->stage,
                     strerror(errno));
            s->stage[0] = '\0';
            st = VXS_E_IO;
            goto fail;
        }
    }
    if (adopt) {
        snprintf(s->resumed, sizeof s->resumed, "%s", adopt->path);
        bundle_from_dir = false;
        if ((st = clear_adopted(s, err, err_len)) != VXS_OK) goto fail;
    }
    if (exists) {
        chmod(s->stage, ts.st_mode & 07777);
        DIR *d = opendir(s->target);
        if (!d) {
            snprintf(err, err_len, "%s: cannot list: %s", dir, strerror(errno));
            st = VXS_E_IO;
            goto fail;
        }
        struct dirent *e;
        char a[OPATH], b[OPATH];
        while (st == VXS_OK && (e = readdir(d)) != NULL) {
            if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0 ||
                skipped(o, bundle_from_dir, e->d_name))
                continue;
            (void)pjoin(a, sizeof a, s->target, e->d_name);
            (void)pjoin(b, sizeof b, s->stage, e->d_name);
            st = carry(a, b, err, err_len);
        }
        closedir(d);
        if (st != VXS_OK) goto fail;
    }
    vxs_free(l);
    *out = s;
    return VXS_OK;
fail:
    vxs_free(l);
    vxs_outset_abort(s, NULL, 0);
    return st;
}

const char *vxs_outset_dir(const vxs_outset_t *s) { return s->stage; }

uint64_t vxs_outset_fingerprint(const char *dir, const char *const *names, size_t n) {
    uint64_t h = 0xCBF29CE484222325ull; /* FNV-1a over each file's identity and state */
    char path[OPATH];
    for (size_t i = 0; i < n; i++) {
        struct stat st;
        uint64_t v[5] = {0, 0, 0, 0, 0};
        (void)pjoin(path, sizeof path, dir, names[i]);
        if (stat(path, &st) == 0) {
            v[0] = (uint64_t)st.st_dev;
            v[1] = (uint64_t)st.st_ino;
            v[2] = (uint64_t)st.st_size;
            v[3] = (uint64_t)st.st_mtim.tv_sec;
            v[4] = (uint64_t)st.st_mtim.tv_nsec;
        }
        const unsigned char *b = (const unsigned char *)v;
        for (size_t k = 0; k < sizeof v; k++) h = (h ^ b[k]) * 0x100000001B3ull;
    }
    return h;
}

const char *vxs_outset_resumed(const vxs_outset_t *s) {
    return s->resumed[0] ? s->resumed : NULL;
}

static void fsync_path(const char *path) {
    const int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0) {
        fsync(fd);
        close(fd);
    }
}

vxs_status_t vxs_outset_commit(vxs_outset_t *s, char *err, size_t err_len) {
    kill_point("staged");
    /* every file of the set (carried-over links included) on the disk before it is in place */
    const int fd = open(s->stage, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0 || syncfs(fd) != 0) {
        snprintf(err, err_len, "%s: cannot flush: %s", s->stage, strerror(errno));
        if (fd >= 0) close(fd);
        vxs_outset_abort(s, NULL, 0);
        return VXS_E_IO;
    }
    close(fd);
    struct stat st;
    const bool exists = lstat(s->target, &st) == 0;
    char old[OPATH] = "";
    if (exists) {
        if (renameat2(AT_FDCWD, s->stage, AT_FDCWD, s->target, RENAME_EXCHANGE) == 0) {
            snprintf(old, sizeof old, "%s", s->stage); /* the old set, under the staging name */
        } else if (errno == EINVAL || errno == ENOSYS || errno == EOPNOTSUPP) {
            /* no exchange on this file system: two renames (a kill between leaves no DIR) */
            stage_name(s, old, sizeof old);
            if (rename(s->target, old) != 0) old[0] = '\0';
            else if (rename(s->stage, s->target) != 0) {
                const int e = errno;
                if (rename(old, s->target) != 0) { /* the old set stays a leftover */
                }
                errno = e;
                old[0] = '\0';
            }
        }
        if (!old[0]) {
            snprintf(err, err_len, "%s: cannot put the new outputs in place: %s", s->target,
                     strerror(errno));
            vxs_outset_abort(s, NULL, 0);
            return VXS_E_IO;
        }
    } else if (rename(s->stage, s->target) != 0) {
        snprintf(err, err_len, "%s: cannot put the outputs in place: %s", s->target,
                 strerror(errno));
        vxs_outset_abort(s, NULL, 0);
        return VXS_E_IO;
    }
    fsync_path(s->parent);
    kill_point("exchanged");
    if (old[0]) vxsi_remove_tree(old); /* a kill in between leaves it: the next run removes it */
    lock_release(s);
    vxs_free(s);
    return VXS_OK;
}

void vxs_outset_abort(vxs_outset_t *s, char *kept, size_t kept_len) {
    if (kept && kept_len) kept[0] = '\0';
    if (!s) return;
    if (s->stage[0]) {
        char id[17];
        const vxsi_bundle_rec_t r = vxsi_bundle_record(s->stage, id);
        if (r == VXSI_BUNDLE_RUNNING || (s->bundle_run && r == VXSI_BUNDLE_DONE)) {
            if (kept && kept_len) snprintf(kept, kept_len, "%s", s->stage);
        } else {
            vxsi_remove_tree(s->stage);
        }
    }
    lock_release(s);
    vxs_free(s);
}
