/*
 * alloc.c: the allocation hooks every library allocation goes through, so tests can inject
 * failures (zstd "never allocate on heap directly", c-ares ares_library_init_mem).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "vxs_core.h"

static void *default_malloc(void *opaque, size_t size) {
    (void)opaque;
    return malloc(size);
}

static void *default_realloc(void *opaque, void *ptr, size_t size) {
    (void)opaque;
    return realloc(ptr, size);
}

static void default_free(void *opaque, void *ptr) {
    (void)opaque;
    free(ptr);
}

static const vxs_alloc_t k_default_alloc = {default_malloc, default_realloc, default_free, NULL};

/* Process-wide on purpose: the header documents that it is set before any other call. */
static vxs_alloc_t g_alloc = {default_malloc, default_realloc, default_free, NULL};

void vxs_set_allocator(const vxs_alloc_t *alloc) {
    /* A half-filled struct would crash later at an unrelated call site; fall back now. */
    if (alloc == NULL || alloc->malloc_fn == NULL || alloc->realloc_fn == NULL ||
        alloc->free_fn == NULL) {
        g_alloc = k_default_alloc;
        return;
    }
    g_alloc = *alloc;
}

void *vxs_malloc(size_t size) {
    /* malloc(0) may return a unique pointer or NULL; pin it to NULL so callers see one
     * behaviour whatever the hooks do. */
    if (size == 0) return NULL;
    return g_alloc.malloc_fn(g_alloc.opaque, size);
}

void *vxs_calloc(size_t n, size_t size) {
    void *p;
    if (n == 0 || size == 0) return NULL;
    if (n > SIZE_MAX / size) return NULL; /* n*size would wrap to a small allocation */
    p = vxs_malloc(n * size);
    if (p != NULL) memset(p, 0, n * size);
    return p;
}

void *vxs_realloc(void *ptr, size_t size) {
    if (size == 0) {
        /* realloc(p, 0) is implementation-defined (and obsolescent in C23); be explicit. */
        vxs_free(ptr);
        return NULL;
    }
    return g_alloc.realloc_fn(g_alloc.opaque, ptr, size);
}

void vxs_free(void *ptr) {
    if (ptr == NULL) return;
    g_alloc.free_fn(g_alloc.opaque, ptr);
}

char *vxs_strdup(const char *s) {
    size_t n;
    char *copy;
    if (s == NULL) return NULL;
    n = strlen(s) + 1;
    copy = vxs_malloc(n);
    if (copy != NULL) memcpy(copy, s, n);
    return copy;
}
