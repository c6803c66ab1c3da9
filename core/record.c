/*
 * record.c: records, payload buffers, the source and sink seams, and clock-domain names.
 *
 * The source/sink wrappers are thin on purpose: they add what every caller would otherwise
 * repeat (error counting, the finish-once rule of sinks) and keep the vtable private, like
 * libpcap's pcap_t around next_packet_op.
 */
#include <inttypes.h>
#include <arpa/inet.h>
#include <string.h>

#include "vxs_core.h"
#include "vxs_core_int.h"

const char *vxs_record_kind_name(vxs_record_kind_t kind) {
    switch (kind) {
    case VXS_REC_PACKET:
        return "packet";
    case VXS_REC_LIDAR_PACKET:
        return "lidar_packet";
    case VXS_REC_LIDAR_SWEEP:
        return "lidar_sweep";
    case VXS_REC_CAMERA_FRAME:
        return "camera_frame";
    case VXS_REC_V2X:
        return "v2x";
    case VXS_REC_IMU:
        return "imu";
    case VXS_REC_KIND_COUNT_:
        break;
    }
    return "unknown";
}

void vxs_record_init(vxs_record_t *r, vxs_record_kind_t kind) {
    if (r == NULL) return;
    memset(r, 0, sizeof *r);
    r->kind = kind;
    r->capture_time = VXS_TIME_NONE;
    r->device_time = VXS_TIME_NONE;
}

/* ---- payload buffer ---------------------------------------------------------------------- */

/* Smallest allocation: avoids a realloc per byte when a stream starts with tiny payloads. */
#define BUF_MIN_CAP 64

vxs_status_t vxs_buf_reserve(vxs_buf_t *b, size_t cap) {
    size_t new_cap;
    uint8_t *p;
    VXS_RETURN_IF(b == NULL, VXS_E_ARG);
    if (cap <= b->cap) return VXS_OK;
    /* Geometric growth keeps repeated appends amortized O(1); fall back to the exact request
     * when doubling would overflow. */
    new_cap = b->cap < BUF_MIN_CAP ? BUF_MIN_CAP : b->cap;
    while (new_cap < cap) new_cap = new_cap > SIZE_MAX / 2 ? cap : new_cap * 2;
    p = vxs_realloc(b->data, new_cap);
    VXS_RETURN_IF(p == NULL, VXS_E_NOMEM); /* b->data is still valid and unchanged */
    b->data = p;
    b->cap = new_cap;
    return VXS_OK;
}

vxs_status_t vxs_buf_set(vxs_buf_t *b, const void *p, size_t n) {
    VXS_RETURN_IF(b == NULL || (p == NULL && n > 0), VXS_E_ARG);
    if (n > b->cap) {
        /* `p` may point into the old content; a realloc could move it away, so copy it out to
         * a fresh buffer first. */
        vxs_buf_t fresh = {NULL, 0, 0};
        VXS_FORWARD(vxs_buf_reserve(&fresh, n));
        memcpy(fresh.data, p, n);
        vxs_buf_free(b);
        *b = fresh;
        b->len = n;
        return VXS_OK;
    }
    if (n > 0) memmove(b->data, p, n);
    b->len = n;
    return VXS_OK;
}

vxs_status_t vxs_buf_append(vxs_buf_t *b, const void *p, size_t n) {
    size_t self_off = SIZE_MAX;
    VXS_RETURN_IF(b == NULL || (p == NULL && n > 0), VXS_E_ARG);
    if (n == 0) return VXS_OK;
    VXS_RETURN_IF(n > SIZE_MAX - b->len, VXS_E_NOMEM);
    /* Appending a slice of the buffer to itself: remember its offset, because reserve may
     * move the data. Compared as integers since relational operators on pointers into
     * different objects are undefined. */
    if (b->data != NULL && (uintptr_t)p >= (uintptr_t)b->data &&
        (uintptr_t)p < (uintptr_t)b->data + b->len) {
        self_off = (size_t)((uintptr_t)p - (uintptr_t)b->data);
    }
    VXS_FORWARD(vxs_buf_reserve(b, b->len + n));
    if (self_off != SIZE_MAX) p = b->data + self_off;
    memmove(b->data + b->len, p, n);
    b->len += n;
    return VXS_OK;
}

void vxs_buf_free(vxs_buf_t *b) {
    if (b == NULL) return;
    vxs_free(b->data);
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
}

/* ---- point arrays ------------------------------------------------------------------------- */

vxs_status_t vxs_points_reserve(vxs_points_t *p, size_t cap) {
    size_t new_cap;
    vxs_point_t *q;
    VXS_RETURN_IF(p == NULL, VXS_E_ARG);
    if (cap <= p->cap) return VXS_OK;
    VXS_RETURN_IF(cap > SIZE_MAX / sizeof(vxs_point_t), VXS_E_NOMEM);
    new_cap = p->cap < 1024 ? 1024 : p->cap;
    while (new_cap < cap) new_cap = new_cap > SIZE_MAX / sizeof(vxs_point_t) / 2 ? cap : new_cap * 2;
    q = vxs_realloc(p->pts, new_cap * sizeof(vxs_point_t));
    VXS_RETURN_IF(q == NULL, VXS_E_NOMEM);
    p->pts = q;
    p->cap = new_cap;
    return VXS_OK;
}

void vxs_points_free(vxs_points_t *p) {
    if (p == NULL) return;
    vxs_free(p->pts);
    p->pts = NULL;
    p->len = 0;
    p->cap = 0;
}

/* ---- sources ------------------------------------------------------------------------------ */

struct vxs_source {
    const vxs_source_ops_t *ops;
    void *impl;
    uint64_t errors; /* bad units reported by next */
};

vxs_status_t vxs_source_create(vxs_source_t **out, const vxs_source_ops_t *ops, void *impl) {
    vxs_source_t *s;
    VXS_RETURN_IF(out == NULL, VXS_E_ARG);
    *out = NULL;
    VXS_RETURN_IF(ops == NULL || ops->next == NULL, VXS_E_ARG);
    s = vxs_malloc(sizeof *s);
    /* On failure impl stays the caller's: it created it and knows how to free it. */
    VXS_RETURN_IF(s == NULL, VXS_E_NOMEM);
    s->ops = ops;
    s->impl = impl;
    s->errors = 0;
    *out = s;
    return VXS_OK;
}

vxs_status_t vxs_source_next(vxs_source_t *s, const vxs_record_t **out) {
    vxs_status_t st;
    VXS_RETURN_IF(s == NULL || out == NULL, VXS_E_ARG);
    st = s->ops->next(s->impl, out);
    /* Every error is one bad unit (the vtable contract); VXS_EOF is not an error. */
    if (st != VXS_OK && st != VXS_EOF) s->errors++;
    return st;
}

vxs_status_t vxs_source_fetch(vxs_source_t *s, vxs_buf_t *out, const vxs_record_t *rec) {
    VXS_RETURN_IF(s == NULL || rec == NULL || out == NULL, VXS_E_ARG);
    VXS_RETURN_IF(s->ops->fetch == NULL, VXS_E_UNSUPPORTED);
    return s->ops->fetch(s->impl, out, rec);
}

vxs_status_t vxs_source_rewind(vxs_source_t *s, uint32_t kinds) {
    VXS_RETURN_IF(s == NULL, VXS_E_ARG);
    VXS_RETURN_IF(s->ops->rewind == NULL, VXS_E_UNSUPPORTED);
    return s->ops->rewind(s->impl, kinds);
}

uint64_t vxs_source_position(const vxs_source_t *s, uint64_t *size) {
    if (size != NULL) *size = 0;
    if (s == NULL || s->ops->position == NULL) return 0;
    return s->ops->position(s->impl, size);
}

const char *vxs_source_errmsg(const vxs_source_t *s) {
    const char *msg;
    if (s == NULL || s->ops->errmsg == NULL) return "";
    msg = s->ops->errmsg(s->impl);
    return msg != NULL ? msg : ""; /* the header promises never NULL, whatever the impl does */
}

const char *vxs_source_name(const vxs_source_t *s) {
    if (s == NULL || s->ops->name == NULL) return "";
    return s->ops->name;
}

uint64_t vxs_source_error_count(const vxs_source_t *s) { return s != NULL ? s->errors : 0; }

void *vxs_source_impl(const vxs_source_t *s) { return s != NULL ? s->impl : NULL; }

void vxs_source_destroy(vxs_source_t *s) {
    if (s == NULL) return;
    if (s->ops->destroy != NULL) s->ops->destroy(s->impl);
    vxs_free(s);
}

/* ---- sinks -------------------------------------------------------------------------------- */

struct vxs_sink {
    const vxs_sink_ops_t *ops;
    void *impl;
    bool finished;  /* finish was called (whatever it returned): only destroy remains */
    bool state_err; /* the last call was refused here, not by the impl */
};

/* The message for a call refused by the wrapper; the impl's errmsg knows nothing of it. */
static const char k_sink_state_msg[] = "sink already finished: only destroy may be called";

vxs_status_t vxs_sink_create(vxs_sink_t **out, const vxs_sink_ops_t *ops, void *impl) {
    vxs_sink_t *s;
    VXS_RETURN_IF(out == NULL, VXS_E_ARG);
    *out = NULL;
    VXS_RETURN_IF(ops == NULL || ops->write == NULL || ops->finish == NULL, VXS_E_ARG);
    s = vxs_malloc(sizeof *s);
    VXS_RETURN_IF(s == NULL, VXS_E_NOMEM);
    s->ops = ops;
    s->impl = impl;
    s->finished = false;
    s->state_err = false;
    *out = s;
    return VXS_OK;
}

vxs_status_t vxs_sink_write(vxs_sink_t *s, const vxs_record_t *rec, const void *payload,
                            size_t len) {
    VXS_RETURN_IF(s == NULL || rec == NULL || (payload == NULL && len > 0), VXS_E_ARG);
    s->state_err = s->finished;
    VXS_RETURN_IF(s->finished, VXS_E_STATE);
    return s->ops->write(s->impl, rec, payload, len);
}

vxs_status_t vxs_sink_finish(vxs_sink_t *s) {
    VXS_RETURN_IF(s == NULL, VXS_E_ARG);
    s->state_err = s->finished;
    VXS_RETURN_IF(s->finished, VXS_E_STATE);
    /* Set before the call: a failed finish has already flushed, renamed or abandoned part of
     * the output, and calling it again would not be idempotent in any writer. */
    s->finished = true;
    return s->ops->finish(s->impl);
}

const char *vxs_sink_errmsg(const vxs_sink_t *s) {
    const char *msg;
    if (s == NULL) return "";
    if (s->state_err) return k_sink_state_msg;
    if (s->ops->errmsg == NULL) return "";
    msg = s->ops->errmsg(s->impl);
    return msg != NULL ? msg : "";
}

void *vxs_sink_impl(const vxs_sink_t *s) { return s != NULL ? s->impl : NULL; }

void vxs_sink_destroy(vxs_sink_t *s) {
    if (s == NULL) return;
    if (s->ops->destroy != NULL) s->ops->destroy(s->impl);
    vxs_free(s);
}

/* ---- clock domains ------------------------------------------------------------------------ */

bool vxs_clock_domain_equal(const vxs_clock_domain_t *a, const vxs_clock_domain_t *b) {
    if (a == NULL || b == NULL) return a == b;
    /* Field by field, not memcmp: the struct has padding with indeterminate content. */
    return a->kind == b->kind && a->agent == b->agent && a->sensor == b->sensor &&
           a->station == b->station && a->field == b->field;
}

char *vxs_clock_domain_format(char *buf, size_t buf_len, const vxs_clock_domain_t *d) {
    if (buf == NULL || buf_len == 0) return buf;
    if (d == NULL) {
        (void)vxsi_fmt(buf, buf_len, "none");
        return buf;
    }
    /* The names are part of the output formats (reports, bundles): never change them. */
    switch (d->kind) {
    case VXS_CLOCK_REFERENCE:
        (void)vxsi_fmt(buf, buf_len, "reference");
        break;
    case VXS_CLOCK_LOGGER:
        (void)vxsi_fmt(buf, buf_len, "logger:%" PRIu32, d->agent);
        break;
    case VXS_CLOCK_DEVICE:
        (void)vxsi_fmt(buf, buf_len, "device:%" PRIu32 "/%" PRIu32, d->agent, d->sensor);
        break;
    case VXS_CLOCK_SENDER:
        (void)vxsi_fmt(buf, buf_len, "sender:0x%" PRIx64 "/%u", d->station,
                        (unsigned)d->field);
        break;
    default:
        (void)vxsi_fmt(buf, buf_len, "unknown:%d", (int)d->kind);
        break;
    }
    return buf;
}

char *vxs_addr_format(char *buf, size_t buf_len, const uint8_t addr[16]) {
    static const uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    if (buf_len == 0) return buf;
    if (memcmp(addr, mapped, sizeof mapped) == 0) {
        if (!inet_ntop(AF_INET, addr + 12, buf, (socklen_t)buf_len)) buf[0] = '\0';
    } else if (!inet_ntop(AF_INET6, addr, buf, (socklen_t)buf_len)) {
        buf[0] = '\0';
    }
    return buf;
}

/* ---- V2X names ------------------------------------------------------------------------------ */

const char *vxs_v2x_type_name(int protocol, int msg_id) {
    static _Thread_local char other[24];
    if (protocol == VXS_V2X_PROTO_ETSI) {
        switch (msg_id) {
        case VXS_ETSI_DENM: return "DENM";
        case VXS_ETSI_CAM: return "CAM";
        case VXS_ETSI_POIM: return "POIM";
        case VXS_ETSI_SPATEM: return "SPATEM";
        case VXS_ETSI_MAPEM: return "MAPEM";
        case VXS_ETSI_IVIM: return "IVIM";
        case VXS_ETSI_SREM: return "SREM";
        case VXS_ETSI_SSEM: return "SSEM";
        case VXS_ETSI_CPM: return "CPM";
        case VXS_ETSI_VAM: return "VAM";
        default: (void)vxsi_fmt(other, sizeof other, "ETSI-%d", msg_id); return other;
        }
    }
    if (protocol == VXS_V2X_PROTO_J2735) {
        switch (msg_id) {
        case VXS_J2735_MAP: return "MAP";
        case VXS_J2735_SPAT: return "SPAT";
        case VXS_J2735_BSM: return "BSM";
        case VXS_J2735_SRM: return "SRM";
        case VXS_J2735_SSM: return "SSM";
        case VXS_J2735_TIM: return "TIM";
        case VXS_J2735_PSM: return "PSM";
        default: (void)vxsi_fmt(other, sizeof other, "J2735-%d", msg_id); return other;
        }
    }
    return "unknown";
}

const char *vxs_v2x_time_field_name(vxs_v2x_time_field_t f) {
    /* The names are part of clocks.json: never change them. */
    switch (f) {
    case VXS_V2X_TF_NONE: return "none";
    case VXS_V2X_TF_1609_GEN: return "1609.2";
    case VXS_V2X_TF_GEN_DELTA: return "generationDeltaTime";
    case VXS_V2X_TF_SEC_MARK: return "secMark";
    case VXS_V2X_TF_ITS_TIME: return "TimestampIts";
    case VXS_V2X_TF_GN_TST: return "GN-TST";
    case VXS_V2X_TF_COUNT_: break;
    }
    return "unknown";
}

double vxs_v2x_time_field_resolution_ns(vxs_v2x_time_field_t f) {
    switch (f) {
    case VXS_V2X_TF_NONE: return 0.0;
    case VXS_V2X_TF_1609_GEN: return 1e3;
    default: return 1e6;
    }
}
