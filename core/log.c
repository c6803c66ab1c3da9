/*
 * log.c: leveled logging, progress reports, diagnostics and default limits.
 */
#include <stdarg.h>
#include <stdio.h>

#include "vxs_core.h"
#include "vxs_core_int.h"

/* Messages are cut at this size; the header promises 1023 bytes + NUL. */
#define LOG_MSG_MAX 1024

static vxs_log_fn g_log_fn = NULL;
static void *g_log_user = NULL;
static vxs_log_level_t g_log_level = VXS_LOG_WARN;

void vxs_log_set_handler(vxs_log_fn fn, void *user) {
    g_log_fn = fn;
    g_log_user = fn ? user : NULL;
}

void vxs_log_set_level(vxs_log_level_t level) { g_log_level = level; }

vxs_log_level_t vxs_log_get_level(void) { return g_log_level; }

const char *vxs_level_name(vxs_log_level_t level) {
    switch (level) {
    case VXS_LOG_ERROR:
        return "error";
    case VXS_LOG_WARN:
        return "warning";
    case VXS_LOG_INFO:
        return "info";
    case VXS_LOG_DEBUG:
        return "debug";
    }
    return "unknown";
}

void vxs_vlog(vxs_log_level_t level, const char *fmt, va_list ap) {
    char msg[LOG_MSG_MAX];
    int n;
    /* Compare as int: the enum may be unsigned, and a caller's cast garbage must not wrap. */
    if ((int)level > (int)g_log_level || fmt == NULL) return;
    n = vsnprintf(msg, sizeof msg, fmt, ap);
    if (n < 0) return; /* encoding error: nothing sensible to show */
    if (g_log_fn != NULL) {
        g_log_fn(g_log_user, level, msg);
    } else {
        fprintf(stderr, "v2xsync: %s: %s\n", vxs_level_name(level), msg);
    }
}

void vxs_log(vxs_log_level_t level, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vxs_vlog(level, fmt, ap);
    va_end(ap);
}

size_t vxsi_fmt(char *buf, size_t buf_len, const char *fmt, ...) {
    va_list ap;
    int n;
    if (buf == NULL || buf_len == 0) return 0;
    va_start(ap, fmt);
    n = vsnprintf(buf, buf_len, fmt, ap);
    va_end(ap);
    if (n < 0) {
        buf[0] = '\0';
        return 0;
    }
    /* vsnprintf returns the length it wanted; report what was actually stored so callers can
     * append without running past the end. */
    return (size_t)n < buf_len ? (size_t)n : buf_len - 1;
}

char *vxsi_vstrfmt(const char *fmt, va_list ap) {
    va_list ap2;
    va_copy(ap2, ap);
    const int n = vsnprintf(NULL, 0, fmt, ap2);
    va_end(ap2);
    if (n < 0) return NULL;
    char *s = vxs_malloc((size_t)n + 1);
    if (s != NULL) vsnprintf(s, (size_t)n + 1, fmt, ap);
    return s;
}

char *vxsi_strfmt(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    char *s = vxsi_vstrfmt(fmt, ap);
    va_end(ap);
    return s;
}

vxs_status_t vxs_progress_report(const vxs_progress_t *p, uint64_t done, uint64_t total) {
    if (p == NULL || p->fn == NULL) return VXS_OK;
    return p->fn(p->user, done, total) != 0 ? VXS_E_CANCELED : VXS_OK;
}

void vxs_diag_emit(const vxs_diag_sink_t *sink, const vxs_diag_t *d) {
    if (d == NULL) return;
    if (sink != NULL && sink->fn != NULL) {
        sink->fn(sink->user, d);
        return;
    }
    /* No sink: a skipped unit must still leave a trace (nothing is dropped silently). */
    vxs_log(VXS_LOG_WARN, "%s", d->msg != NULL ? d->msg : vxs_strerror(d->status));
}

void vxs_limits_default(vxs_limits_t *out) {
    if (out == NULL) return;
    out->max_record = 262144;                /* tcpdump's MAXIMUM_SNAPLEN */
    out->max_frame = (size_t)256 << 20;      /* 256 MiB: an uncompressed 8K RGBA frame fits */
    out->max_sources = 1024;
    out->reasm_max_bytes = 65535;            /* the IPv4 total-length field's maximum */
    out->reasm_max_pending = 256;
    out->reasm_timeout_ns = 5 * VXS_NS_PER_S;
}
