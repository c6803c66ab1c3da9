/*
 * afile.c: atomic output files. Write to "<path>.tmp.XXXXXX" in the same folder, then fflush,
 * fsync and rename(2): rename within one file system is atomic, so readers (and a re-run after a
 * crash) see either no file or the complete one, never a prefix.
 */
#include "export_int.h"

#include <errno.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

struct vxs_afile {
    FILE *fp;
    char *path;
    char *tmp;  /* NULL when writing to stdout */
    int failed; /* a write failed: commit must not publish */
    int nosync; /* vxsi_afile_nosync: rename without fsync */
    char err[512];
};

static atomic_uint tmp_counter; /* temporary-file names of this process */

static void set_err(vxs_afile_t *f, const char *what) {
    snprintf(f->err, sizeof f->err, "%s: %s: %s", f->path, what, strerror(errno));
}

vxs_status_t vxs_afile_open(vxs_afile_t **out, const char *path, char *err, size_t err_len) {
    vxs_afile_t *f = vxs_calloc(1, sizeof *f);
    vxs_status_t st = VXS_E_NOMEM;
    *out = NULL;
    if (!f || !(f->path = vxs_strdup(path))) goto fail;
    if (strcmp(path, "-") == 0) {
        f->fp = stdout;
        *out = f;
        return VXS_OK;
    }
    size_t n = strlen(path) + sizeof ".tmp.0123456789abcdef";
    if (!(f->tmp = vxs_malloc(n))) goto fail;
    /* Not mkstemp: it creates the file 0600, and giving it the mode a plain fopen would (0666
     * less the umask) means reading the umask, which only umask() can do, and setting it back
     * races with other threads creating files. open() with O_EXCL applies the umask itself; the
     * name is unique by pid and a process-wide counter, retried if taken all the same. */
    int fd = -1;
    for (int attempt = 0; attempt < 100 && fd < 0; attempt++) {
        unsigned long k = (unsigned long)atomic_fetch_add(&tmp_counter, 1u);
        snprintf(f->tmp, n, "%s.tmp.%lx%lx", path, (unsigned long)getpid() & 0xFFFFFul,
                 k & 0xFFFFFFFFul);
        fd = open(f->tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
        if (fd < 0 && errno != EEXIST) break;
    }
    if (fd < 0 || !(f->fp = fdopen(fd, "wb"))) {
        if (err) snprintf(err, err_len, "%s: cannot create temporary file: %s", path, strerror(errno));
        if (fd >= 0) {
            close(fd);
            unlink(f->tmp);
        }
        st = VXS_E_IO;
        goto fail;
    }
    *out = f;
    return VXS_OK;
fail:
    if (st == VXS_E_NOMEM && err) snprintf(err, err_len, "%s: out of memory", path);
    if (f) {
        vxs_free(f->tmp);
        vxs_free(f->path);
    }
    vxs_free(f);
    return st;
}

vxs_status_t vxs_afile_write(vxs_afile_t *f, const void *data, size_t len) {
    if (f->failed) return VXS_E_IO;
    if (len && fwrite(data, 1, len, f->fp) != len) {
        set_err(f, "write failed");
        f->failed = 1;
        return VXS_E_IO;
    }
    return VXS_OK;
}

vxs_status_t vxs_afile_printf(vxs_afile_t *f, const char *fmt, ...) {
    va_list ap;
    if (f->failed) return VXS_E_IO;
    va_start(ap, fmt);
    int n = vfprintf(f->fp, fmt, ap);
    va_end(ap);
    if (n < 0) {
        set_err(f, "write failed");
        f->failed = 1;
        return VXS_E_IO;
    }
    return VXS_OK;
}

static void afile_free(vxs_afile_t *f) {
    vxs_free(f->tmp);
    vxs_free(f->path);
    vxs_free(f);
}

/* fsync_dir makes a rename in the folder of `path` durable (POSIX leaves it to the folder). */
static void fsync_dir(const char *path) {
    const char *slash = strrchr(path, '/');
    char dir[4096] = ".";
    if (slash == path) {
        dir[0] = '/'; /* "/x": the root */
    } else if (slash) {
        size_t n = (size_t)(slash - path);
        if (n >= sizeof dir) return;
        memcpy(dir, path, n);
        dir[n] = '\0';
    }
    int fd = open(dir, O_RDONLY);
    if (fd >= 0) {
        fsync(fd);
        close(fd);
    }
}

vxs_status_t vxs_afile_commit(vxs_afile_t *f, char *err, size_t err_len) {
    vxs_status_t st = VXS_OK;
    if (!f->tmp) { /* stdout */
        if (fflush(f->fp) != 0 || f->failed) {
            set_err(f, "write failed");
            st = VXS_E_IO;
        }
        if (st != VXS_OK && err) snprintf(err, err_len, "%s", f->err);
        afile_free(f);
        return st;
    }
    if (f->failed) st = VXS_E_IO;
    if (st == VXS_OK && (fflush(f->fp) != 0 || (!f->nosync && fsync(fileno(f->fp)) != 0))) {
        set_err(f, "flush failed");
        st = VXS_E_IO;
    }
    if (fclose(f->fp) != 0 && st == VXS_OK) {
        set_err(f, "close failed");
        st = VXS_E_IO;
    }
    if (st == VXS_OK && rename(f->tmp, f->path) != 0) {
        set_err(f, "rename failed");
        st = VXS_E_IO;
    }
    if (st == VXS_OK && !f->nosync) fsync_dir(f->path);
    if (st != VXS_OK) {
        if (!f->err[0]) snprintf(f->err, sizeof f->err, "%s: output not written", f->path);
        if (err) snprintf(err, err_len, "%s", f->err);
        unlink(f->tmp);
    }
    afile_free(f);
    return st;
}

void vxs_afile_abort(vxs_afile_t *f) {
    if (!f) return;
    if (f->tmp) {
        fclose(f->fp);
        unlink(f->tmp);
    }
    afile_free(f);
}

const char *vxs_afile_errmsg(const vxs_afile_t *f) { return f->err; }

void vxsi_afile_nosync(vxs_afile_t *f) { f->nosync = 1; }
