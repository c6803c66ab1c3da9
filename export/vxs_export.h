/*
 * vxs_export.h: the public API of v2xsync's export module (the writers).
 *
 * Every output v2xsync writes goes through an atomic file: bytes go to a temporary file beside
 * the final one, which is flushed, fsync()ed and renamed into place only when complete, so a
 * crash or an error never leaves a half-written file under its final name (DESIGN.md
 * "Outputs"). Writers implement the core sink interface (vxs_sink_ops_t).
 *
 * This revision has the atomic file and the records sink (one JSON object per record and line),
 * which `v2xsync inspect --records` uses; bundles, labels and reports build on them.
 */
#ifndef VXS_EXPORT_H
#define VXS_EXPORT_H

#include <stddef.h>
#include <stdint.h>

#include "vxs_core.h"

#ifdef __cplusplus
extern "C" {
#endif

/* vxs_afile_t is an output file written atomically. */
typedef struct vxs_afile vxs_afile_t;

/* vxs_afile_open creates a temporary file "<path>.tmp.XXXXXX" in the folder of `path` (which
 * must exist) and returns a handle on it in *out. Nothing exists under `path` until
 * vxs_afile_commit succeeds. Errors: VXS_E_IO (message in `err`, naming the file), VXS_E_NOMEM.
 * The caller ends it with vxs_afile_commit or vxs_afile_abort. The special path "-" writes to
 * standard output directly (commit flushes, abort does nothing). */
vxs_status_t vxs_afile_open(vxs_afile_t **out, const char *path, char *err, size_t err_len);

/* vxs_afile_write appends `len` bytes. VXS_E_IO on failure (disk full...), after which commit
 * fails too. */
vxs_status_t vxs_afile_write(vxs_afile_t *f, const void *data, size_t len);

/* vxs_afile_printf appends formatted text. */
vxs_status_t vxs_afile_printf(vxs_afile_t *f, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

/* vxs_afile_commit flushes, fsyncs and renames the temporary file to its final name, fsyncs the
 * folder so the rename itself survives a crash, then frees `f`. The file gets the permissions
 * the process umask gives a new file. If any write failed or the rename fails, it removes the
 * temporary file instead, writes a message naming the file into `err` (may be NULL) and returns
 * VXS_E_IO. `f` is freed in every case. */
vxs_status_t vxs_afile_commit(vxs_afile_t *f, char *err, size_t err_len);

/* vxs_afile_abort removes the temporary file and frees `f`. Accepts NULL. */
void vxs_afile_abort(vxs_afile_t *f);

/* vxs_afile_errmsg returns the last error of `f` naming its file, "" if none. Never NULL. */
const char *vxs_afile_errmsg(const vxs_afile_t *f);

/* vxs_jsonl_sink_create returns in *out a sink that writes each record it is given as one JSON
 * object per line to `path` (atomically; "-" for standard output). The line holds the record's
 * kind, agent, sensor, capture_ns, device_ns (when present), the device clock's name, seq (when
 * present), the locator {source, index, offset, count} and the summary of its kind, e.g. for a
 * packet {"caplen","wirelen","ethertype","ip_version","ip_proto","src","dst","src_port",
 * "dst_port"}. Payloads are not written. The file appears under `path` when the sink is
 * finished; a sink destroyed before vxs_sink_finish leaves nothing behind. */
vxs_status_t vxs_jsonl_sink_create(vxs_sink_t **out, const char *path, char *err,
                                   size_t err_len);

#ifdef __cplusplus
}
#endif
#endif /* VXS_EXPORT_H */
