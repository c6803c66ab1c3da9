/*
 * ring.c: the one FIFO of fixed-size elements (vxs_core_int.h vxsi_ring_t), for every queue of
 * items in flight.
 */
#include <assert.h>
#include <string.h>

#include "vxs_core_int.h"

vxs_status_t vxsi_ring_reserve(vxsi_ring_t *r, size_t need) {
    if (need <= r->cap) return VXS_OK;
    size_t cap = r->cap ? r->cap : 16;
    while (cap < need) {
        VXS_RETURN_IF(cap > SIZE_MAX / 2 / r->esize, VXS_E_NOMEM);
        cap *= 2;
    }
    VXS_RETURN_IF(cap > SIZE_MAX / r->esize, VXS_E_NOMEM);
    unsigned char *b = vxs_realloc(r->buf, cap * r->esize);
    VXS_RETURN_IF(!b, VXS_E_NOMEM);
    /* The elements that had wrapped to the start move behind the old end: the new capacity is at
     * least twice the old one, so they fit there and the order under the new mask is kept. */
    if (r->head + r->len > r->cap)
        memcpy(b + r->cap * r->esize, b, (r->head + r->len - r->cap) * r->esize);
    r->buf = b;
    r->cap = cap;
    return VXS_OK;
}

void *vxsi_ring_push(vxsi_ring_t *r) {
    assert(r->len < r->cap);
    return vxsi_ring_at(r, r->len++);
}

vxs_status_t vxsi_ring_append(vxsi_ring_t *r, const void *elem) {
    VXS_FORWARD(vxsi_ring_reserve(r, r->len + 1));
    memcpy(vxsi_ring_push(r), elem, r->esize);
    return VXS_OK;
}

void vxsi_ring_drop(vxsi_ring_t *r, size_t n) {
    assert(n <= r->len);
    if (n == 0) return;
    r->head = (r->head + n) & (r->cap - 1);
    r->len -= n;
}

void vxsi_ring_free(vxsi_ring_t *r) {
    vxs_free(r->buf);
    r->buf = NULL;
    r->cap = r->head = r->len = 0;
}
