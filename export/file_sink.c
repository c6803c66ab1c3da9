/*
 * file_sink.c: the part of a single-file frame sink every one of them shares (export_int.h).
 */
#include "export_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

vxs_status_t vxsi_file_sink_create(vxs_frame_sink_t **out, const vxs_frame_sink_ops_t *ops,
                                   size_t size, const char *path, char *err, size_t err_len) {
    vxsi_file_sink_t *s;
    vxs_status_t st;
    if (!out || !path || size < sizeof *s) return VXS_E_ARG;
    *out = NULL;
    s = vxs_calloc(1, size);
    if (!s) return VXS_E_NOMEM;
    if ((st = vxs_afile_open(&s->f, path, err, err_len)) != VXS_OK) {
        vxs_free(s);
        return st;
    }
    if ((st = vxs_frame_sink_create(out, ops, s)) != VXS_OK) vxsi_file_sink_destroy(s);
    return st;
}

vxs_status_t vxsi_file_sink_begin(void *impl, const vxs_run_info_t *run) {
    ((vxsi_file_sink_t *)impl)->run = run;
    return VXS_OK;
}

const char *vxsi_file_sink_errmsg(const void *impl) {
    return ((const vxsi_file_sink_t *)impl)->err;
}

void vxsi_file_sink_destroy(void *impl) {
    vxsi_file_sink_t *s = impl;
    if (!s) return;
    vxs_afile_abort(s->f);
    vxs_free(s->line);
    vxs_free(s);
}

vxs_status_t vxsi_file_sink_no_frame(void *impl, const vxs_frame_t *f,
                                     const vxs_fetcher_t *fetch) {
    (void)impl;
    (void)f;
    (void)fetch;
    return VXS_OK;
}

vxs_status_t vxsi_file_sink_write_doc(vxsi_file_sink_t *s, json_t *doc, const char *what) {
    char *text = doc ? json_dumps(doc, JSON_INDENT(2) | JSON_PRESERVE_ORDER) : NULL;
    json_decref(doc);
    if (!text) {
        vxs_afile_abort(s->f);
        s->f = NULL;
        snprintf(s->err, sizeof s->err, "%s: out of memory", what);
        return VXS_E_NOMEM;
    }
    /* a failed write fails the commit */
    (void)vxs_afile_write(s->f, text, strlen(text));
    (void)vxs_afile_write(s->f, "\n", 1);
    free(text);
    return vxsi_file_sink_commit(s);
}

vxs_status_t vxsi_file_sink_write_line(vxsi_file_sink_t *s, const json_t *o) {
    const size_t flags = JSON_COMPACT | JSON_PRESERVE_ORDER;
    size_t n = json_dumpb(o, s->line, s->line_cap, flags);
    if (n > 0 && n + 1 > s->line_cap) { /* too long for the buffer: grow it, serialise again */
        size_t cap = s->line_cap ? s->line_cap : 4096;
        while (cap < n + 1) cap *= 2;
        char *b = vxs_realloc(s->line, cap);
        if (!b) n = 0;
        else {
            s->line = b;
            s->line_cap = cap;
            n = json_dumpb(o, s->line, s->line_cap, flags);
        }
    }
    if (n == 0 || n + 1 > s->line_cap) {
        snprintf(s->err, sizeof s->err, "out of memory writing a JSON line");
        return VXS_E_NOMEM;
    }
    s->line[n] = '\n';
    if (vxs_afile_write(s->f, s->line, n + 1) != VXS_OK) {
        snprintf(s->err, sizeof s->err, "%s", vxs_afile_errmsg(s->f));
        return VXS_E_IO;
    }
    return VXS_OK;
}

vxs_status_t vxsi_file_sink_commit(vxsi_file_sink_t *s) {
    vxs_afile_t *f = s->f;
    s->f = NULL;
    return vxs_afile_commit(f, s->err, sizeof s->err);
}

json_t *vxsi_json_time(vxs_time_t t) {
    if (t == VXS_TIME_NONE) return json_null();
    char b[VXS_TIME_STRLEN];
    return json_string(vxs_time_format(b, sizeof b, t));
}
