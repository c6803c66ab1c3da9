/*
 * png.c: 8-bit PNG writer on libpng 1.6 (specification: PNG, ISO/IEC 15948 / W3C PNG 2nd ed.).
 *
 * Error handling: libpng reports errors by calling our error function, which must not return;
 * it longjmps back to the setjmp in encode(). Only libpng frames and our write/alloc callbacks
 * (which own nothing) lie between the two, so nothing of ours leaks when the jump skips them.
 * encode() modifies no local between setjmp and a possible longjmp (C11 7.13.2.1p3); the state
 * the callbacks change lives in the caller's enc_t, reached through a pointer.
 *
 * Thread safety: every call has its own png_struct, zlib stream and enc_t; libpng 1.6 keeps no
 * global state when the error and memory functions are our own.
 */
#include "vxs_export.h"

#include <png.h>
#include <setjmp.h>
#include <stdio.h>
#include <string.h>

/* zlib's strategy numbers (zlib.h: Z_FILTERED 1, Z_HUFFMAN_ONLY 2, Z_RLE 3, Z_DEFAULT_STRATEGY 0),
 * part of zlib's stable API since 1.2.0; export/ does not include zlib.h itself (STYLE.md §1). */
enum { ZS_DEFAULT = 0, ZS_FILTERED = 1, ZS_HUFFMAN_ONLY = 2, ZS_RLE = 3 };

typedef struct {
    vxs_afile_t *file; /* exactly one of file / buf is set */
    vxs_buf_t *buf;
    const char *name; /* for messages: the path, or "PNG encoder" */
    vxs_status_t st;  /* first failure seen by a callback */
    char *err;
    size_t err_len;
} enc_t;

static void set_msg(enc_t *e, const char *what) {
    if (e->err && e->err_len) snprintf(e->err, e->err_len, "%s: %s", e->name, what);
}

static void on_error(png_structp png, png_const_charp msg) {
    enc_t *e = png_get_error_ptr(png);
    if (e->st == VXS_OK) {
        /* Not out of memory nor a failed write: libpng refused a parameter we did not check. */
        e->st = VXS_E_ARG;
        set_msg(e, msg);
    }
    png_longjmp(png, 1);
}

static void on_warning(png_structp png, png_const_charp msg) {
    (void)png; /* a library does not print; libpng warns only of recoverable oddities */
    (void)msg;
}

static png_voidp on_malloc(png_structp png, png_alloc_size_t size) {
    void *p = vxs_malloc(size ? size : 1);
    if (!p) {
        enc_t *e = png_get_mem_ptr(png);
        if (e->st == VXS_OK) {
            e->st = VXS_E_NOMEM;
            set_msg(e, "out of memory");
        }
    }
    return p;
}

static void on_free(png_structp png, png_voidp p) {
    (void)png;
    vxs_free(p);
}

static void on_write(png_structp png, png_bytep data, size_t len) {
    enc_t *e = png_get_io_ptr(png);
    vxs_status_t st =
        e->file ? vxs_afile_write(e->file, data, len) : vxs_buf_append(e->buf, data, len);
    if (st != VXS_OK) {
        if (e->st == VXS_OK) {
            e->st = st;
            if (e->file && e->err && e->err_len)
                snprintf(e->err, e->err_len, "%s", vxs_afile_errmsg(e->file));
            else
                set_msg(e, vxs_strerror(st));
        }
        png_error(png, "write failed");
    }
}

static void on_flush(png_structp png) {
    (void)png; /* vxs_afile_commit flushes and fsyncs once, at the end */
}

typedef struct {
    int color_type;
    unsigned bpp; /* bytes per pixel */
    int level;
    int filters; /* PNG_FILTER_* mask */
    int strategy;
} params_t;

static vxs_status_t check_args(enc_t *e, params_t *p, const uint8_t *pixels, uint32_t width,
                               uint32_t height, size_t stride, const vxs_png_options_t *opt) {
    static const vxs_png_options_t zero;
    static const int filters[] = {0,
                                  PNG_FILTER_NONE,
                                  PNG_FILTER_SUB,
                                  PNG_FILTER_UP,
                                  PNG_FILTER_AVG,
                                  PNG_FILTER_PAETH,
                                  PNG_ALL_FILTERS};
    static const int strategies[] = {0, ZS_DEFAULT, ZS_RLE, ZS_FILTERED, ZS_HUFFMAN_ONLY};
    if (!opt) opt = &zero;
    const char *bad = NULL;
    if (!pixels)
        bad = "no pixels";
    else if (width == 0 || height == 0)
        bad = "zero width or height";
    else if (width > VXS_PNG_MAX_DIM || height > VXS_PNG_MAX_DIM)
        bad = "image too large";
    else if ((unsigned)opt->format > VXS_PNG_RGBA32)
        bad = "unknown pixel format";
    else if (opt->level < VXS_PNG_LEVEL_STORE || opt->level > 9)
        bad = "level out of range";
    else if ((unsigned)opt->filter > VXS_PNG_FILTER_ADAPTIVE)
        bad = "unknown filter";
    else if ((unsigned)opt->strategy > VXS_PNG_STRATEGY_HUFFMAN)
        bad = "unknown strategy";
    if (bad) {
        set_msg(e, bad);
        return VXS_E_ARG;
    }
    switch (opt->format) {
    case VXS_PNG_GRAY8: p->color_type = PNG_COLOR_TYPE_GRAY, p->bpp = 1; break;
    case VXS_PNG_RGBA32: p->color_type = PNG_COLOR_TYPE_RGB_ALPHA, p->bpp = 4; break;
    default: p->color_type = PNG_COLOR_TYPE_RGB, p->bpp = 3; break;
    }
    if (stride < (size_t)width * p->bpp) {
        set_msg(e, "stride smaller than a row");
        return VXS_E_ARG;
    }
    p->level = opt->level == 0                     ? VXS_PNG_DEFAULT_LEVEL
               : opt->level == VXS_PNG_LEVEL_STORE ? 0
                                                   : opt->level;
    p->filters = filters[opt->filter ? opt->filter : VXS_PNG_DEFAULT_FILTER];
    p->strategy = strategies[opt->strategy ? opt->strategy : VXS_PNG_DEFAULT_STRATEGY];
    return VXS_OK;
}

/* write_image may longjmp out (through on_error); it owns nothing. */
static void write_image(png_structp png, png_infop info, const params_t *p, const uint8_t *pixels,
                        uint32_t width, uint32_t height, size_t stride) {
    png_set_IHDR(png, info, width, height, 8, p->color_type, PNG_INTERLACE_NONE,
                 PNG_COMPRESSION_TYPE_BASE, PNG_FILTER_TYPE_BASE);
    png_set_filter(png, PNG_FILTER_TYPE_BASE, p->filters);
    png_set_compression_level(png, p->level);
    png_set_compression_strategy(png, p->strategy);
    png_write_info(png, info);
    for (uint32_t y = 0; y < height; y++) png_write_row(png, pixels + (size_t)y * stride);
    png_write_end(png, info);
}

/* encode runs libpng over a checked image; the callbacks record the first failure in e->st. */
static vxs_status_t encode(enc_t *e, const params_t *p, const uint8_t *pixels, uint32_t width,
                           uint32_t height, size_t stride) {
    png_structp png = png_create_write_struct_2(PNG_LIBPNG_VER_STRING, e, on_error, on_warning, e,
                                                on_malloc, on_free);
    if (!png) {
        if (e->st == VXS_OK) {
            e->st = VXS_E_NOMEM;
            set_msg(e, "cannot create the libpng encoder");
        }
        return e->st;
    }
    png_infop info = png_create_info_struct(png); /* returns NULL, does not longjmp */
    if (info) {
        png_set_write_fn(png, e, on_write, on_flush);
        if (setjmp(png_jmpbuf(png)) == 0) write_image(png, info, p, pixels, width, height, stride);
    } else if (e->st == VXS_OK) {
        e->st = VXS_E_NOMEM;
        set_msg(e, "out of memory");
    }
    png_destroy_write_struct(&png, info ? &info : NULL);
    return e->st;
}

vxs_status_t vxs_png_write(const char *path, const uint8_t *pixels, uint32_t width, uint32_t height,
                           size_t stride, const vxs_png_options_t *opt, char *err, size_t err_len) {
    enc_t e = {NULL, NULL, path ? path : "(null)", VXS_OK, err, err_len};
    if (!path) {
        set_msg(&e, "no path");
        return VXS_E_ARG;
    }
    params_t p;
    vxs_status_t st = check_args(&e, &p, pixels, width, height, stride, opt);
    if (st != VXS_OK) return st; /* before creating anything */
    st = vxs_afile_open(&e.file, path, err, err_len);
    if (st != VXS_OK) return st;
    st = encode(&e, &p, pixels, width, height, stride);
    if (st != VXS_OK) {
        vxs_afile_abort(e.file);
        return st;
    }
    return vxs_afile_commit(e.file, err, err_len);
}

vxs_status_t vxs_png_encode_mem(vxs_buf_t *out, const uint8_t *pixels, uint32_t width,
                                uint32_t height, size_t stride, const vxs_png_options_t *opt,
                                char *err, size_t err_len) {
    enc_t e = {NULL, out, "PNG encoder", VXS_OK, err, err_len};
    if (!out) {
        set_msg(&e, "no output buffer");
        return VXS_E_ARG;
    }
    out->len = 0;
    params_t p;
    vxs_status_t st = check_args(&e, &p, pixels, width, height, stride, opt);
    if (st == VXS_OK) st = encode(&e, &p, pixels, width, height, stride);
    if (st != VXS_OK) out->len = 0;
    return st;
}
