/*
 * vxs_core_int.h: library-internal helpers shared by every module (never installed).
 *
 * Symbols here are either macros or carry the vxsi_ prefix (STYLE.md §3: curl's Curl_ tier).
 */
#ifndef VXS_CORE_INT_H
#define VXS_CORE_INT_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include "vxs_core.h"

#ifdef __cplusplus
extern "C" {
#endif

/* VXS_RETURN_IF returns `st` from the enclosing function when `cond` is true. In debug builds
 * (NDEBUG not defined) it first logs "file:line: cond -> VXS_E_x" at VXS_LOG_DEBUG, so the
 * origin of an error can be traced without a debugger (zstd's RETURN_ERROR_IF). `st` is
 * evaluated once, and only when `cond` holds. */
#ifdef NDEBUG
#define VXS_RETURN_IF(cond, st)                                                                    \
    do {                                                                                           \
        if (cond) return (st);                                                                     \
    } while (0)
#else
#define VXS_RETURN_IF(cond, st)                                                                    \
    do {                                                                                           \
        if (cond) {                                                                                \
            const vxs_status_t vxs_ret_st_ = (st);                                                 \
            vxs_log(VXS_LOG_DEBUG, "%s:%d: %s -> %s", __FILE__, __LINE__, #cond,                   \
                    vxs_status_name(vxs_ret_st_));                                                 \
            return vxs_ret_st_;                                                                    \
        }                                                                                          \
    } while (0)
#endif

/* VXSI_NO_COVERAGE keeps libFuzzer's coverage instrumentation (a callback on every comparison)
 * out of a byte-by-byte scan loop (resynchronisation after damage): the plausibility tests it
 * calls stay instrumented, but the loop itself would otherwise cost most of a fuzz run. */
#if defined(__clang__) && __clang_major__ >= 13
#define VXSI_NO_COVERAGE __attribute__((no_sanitize("coverage")))
#else
#define VXSI_NO_COVERAGE
#endif

/* VXS_FORWARD evaluates `expr` (a vxs_status_t) once and returns it from the enclosing function
 * unless it is VXS_OK. VXS_EOF is forwarded too: it is not an error, but the caller's loop has
 * to see it. Debug builds log "file:line: expr -> VXS_x" at VXS_LOG_DEBUG (zstd FORWARD_IF_ERROR). */
#ifdef NDEBUG
#define VXS_FORWARD(expr)                                                                          \
    do {                                                                                           \
        const vxs_status_t vxs_fwd_st_ = (expr);                                                   \
        if (vxs_fwd_st_ != VXS_OK) return vxs_fwd_st_;                                             \
    } while (0)
#else
#define VXS_FORWARD(expr)                                                                          \
    do {                                                                                           \
        const vxs_status_t vxs_fwd_st_ = (expr);                                                   \
        if (vxs_fwd_st_ != VXS_OK) {                                                               \
            vxs_log(VXS_LOG_DEBUG, "%s:%d: %s -> %s", __FILE__, __LINE__, #expr,                   \
                    vxs_status_name(vxs_fwd_st_));                                                 \
            return vxs_fwd_st_;                                                                    \
        }                                                                                          \
    } while (0)
#endif

/* vxsi_fmt formats printf-style into `buf` of `buf_len` bytes, always NUL-terminating when
 * buf_len > 0, cutting output that does not fit. It returns the number of characters stored
 * (excluding the NUL), never more than buf_len - 1; 0 when buf is NULL or buf_len is 0 or on an
 * encoding error. Use it to append: n += vxsi_fmt(buf + n, len - n, ...). */
size_t vxsi_fmt(char *buf, size_t buf_len, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

/* vxsi_strfmt returns a vxs_malloc'd string formatted printf-style (the caller vxs_free()s it),
 * or NULL when out of memory or on an encoding error. vxsi_vstrfmt takes a va_list. */
char *vxsi_strfmt(const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 1, 2)))
#endif
    ;
char *vxsi_vstrfmt(const char *fmt, va_list ap)
#if defined(__GNUC__)
    __attribute__((format(printf, 1, 0)))
#endif
    ;

/* vxsi_ring_t is a FIFO of fixed-size elements in a power-of-two buffer that grows by doubling
 * (the queues of items in flight: the matcher's, the frame pass's). Zero-initialize it with the
 * element size set: vxsi_ring_t r = {0}; r.esize = sizeof(T). Release with vxsi_ring_free. */
typedef struct {
    unsigned char *buf;
    size_t esize, cap, head, len;
} vxsi_ring_t;

/* vxsi_ring_at returns element i (0: the oldest); i < len. */
static inline void *vxsi_ring_at(const vxsi_ring_t *r, size_t i) {
    return r->buf + ((r->head + i) & (r->cap - 1)) * r->esize;
}

/* vxsi_ring_reserve makes room for `need` elements; VXS_E_NOMEM leaves the ring unchanged. */
vxs_status_t vxsi_ring_reserve(vxsi_ring_t *r, size_t need);

/* vxsi_ring_push appends one element (room reserved before) and returns it, uninitialized. */
void *vxsi_ring_push(vxsi_ring_t *r);

/* vxsi_ring_append reserves room and copies `elem` behind the last element. VXS_E_NOMEM. */
vxs_status_t vxsi_ring_append(vxsi_ring_t *r, const void *elem);

/* vxsi_ring_drop removes the `n` oldest elements (n <= len). */
void vxsi_ring_drop(vxsi_ring_t *r, size_t n);

/* vxsi_ring_free releases the buffer; the ring is empty (esize kept). */
void vxsi_ring_free(vxsi_ring_t *r);

#ifdef __cplusplus
}
#endif
#endif /* VXS_CORE_INT_H */
