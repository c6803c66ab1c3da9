/*
 * vxs_core.h: the public API of v2xsync's core module.
 *
 * core/ is the layer every other module meets at. It owns:
 *   - status codes and their messages (one X-macro list, section 1);
 *   - allocator hooks, so tests can inject allocation failures (section 2);
 *   - logging with levels and a progress callback (section 3);
 *   - limits that cap sizes read from untrusted files before allocating (section 4);
 *   - the bounds-checked byte reader and the unaligned-PER bit reader (section 5);
 *   - time: one int64 nanosecond type, clock-domain tags and every conversion between the time
 *     fields found in recordings and that type, with the single leap-second table (section 6);
 *   - records, locators, payload buffers, and the two seams: the source (pull) interface every
 *     reader implements and the sink interface every writer implements (section 7).
 *
 *   - frames, clock estimates and the frame-shaped sink the job feeds (vxs_frame.h), and the
 *     scenario manifest (vxs_manifest.h).
 *
 * core/ depends on libc, and on jansson inside the manifest parser only (no jansson type in any
 * header). Nothing here allocates unless its comment says so; every object that is created is
 * destroyed by whoever created it, and every destroy function accepts NULL.
 */
#ifndef VXS_CORE_H
#define VXS_CORE_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#ifdef __cplusplus
extern "C" {
#endif

/* vxs_version returns the library version as "MAJOR.MINOR.PATCH". Never NULL. */
const char *vxs_version(void);

/* ==== 1. Status codes ================================================================== */

/* VXS_STATUS_LIST lists every status: name, number, message. Numbers are explicit and never
 * reused once released. VXS_EOF is not an error: it ends a stream. */
#define VXS_STATUS_LIST(X)                                                                         \
    X(VXS_OK, 0, "success")                                                                        \
    X(VXS_EOF, 1, "end of stream")                                                                 \
    X(VXS_E_NOMEM, 10, "out of memory")                                                            \
    X(VXS_E_IO, 11, "I/O error")                                                                   \
    X(VXS_E_TRUNCATED, 12, "input truncated")                                                      \
    X(VXS_E_MALFORMED, 13, "malformed input")                                                      \
    X(VXS_E_LIMIT, 14, "configured limit exceeded")                                                \
    X(VXS_E_UNSUPPORTED, 15, "unsupported format")                                                 \
    X(VXS_E_ARG, 16, "invalid argument")                                                           \
    X(VXS_E_NOTFOUND, 17, "not found")                                                             \
    X(VXS_E_STATE, 18, "operation not valid in this state")                                        \
    X(VXS_E_CANCELED, 19, "canceled")

typedef enum {
#define VXS_X_(name, value, msg) name = value,
    VXS_STATUS_LIST(VXS_X_)
#undef VXS_X_
} vxs_status_t;

/* vxs_strerror returns the message of `st` ("input truncated"), or "unknown status" for a value
 * not in the list. Never NULL; the string is static. */
const char *vxs_strerror(vxs_status_t st);

/* vxs_status_name returns the symbol of `st` ("VXS_E_TRUNCATED"), or "VXS_E_UNKNOWN". Never NULL;
 * the string is static. */
const char *vxs_status_name(vxs_status_t st);

/* ==== 2. Allocation ==================================================================== */

/* vxs_alloc_t is a set of allocation hooks. All three functions must be set. `opaque` is passed
 * back to each. realloc_fn(NULL, n) must behave as malloc_fn(n). */
typedef struct {
    void *(*malloc_fn)(void *opaque, size_t size);
    void *(*realloc_fn)(void *opaque, void *ptr, size_t size);
    void (*free_fn)(void *opaque, void *ptr);
    void *opaque;
} vxs_alloc_t;

/* vxs_set_allocator installs process-wide allocation hooks used by every allocation the library
 * makes (third-party libraries keep their own). NULL restores malloc/realloc/free. Not
 * thread-safe: call it before any other vxs_ function runs, or between jobs. Memory must be freed
 * by the hooks that allocated it. */
void vxs_set_allocator(const vxs_alloc_t *alloc);

/* vxs_malloc allocates `size` bytes through the hooks; NULL on failure or when size is 0. */
void *vxs_malloc(size_t size);

/* vxs_calloc allocates n*size zeroed bytes; NULL on failure, on overflow of n*size, or when the
 * product is 0. */
void *vxs_calloc(size_t n, size_t size);

/* vxs_realloc resizes `ptr` (which may be NULL) to `size` bytes. On failure it returns NULL and
 * `ptr` stays valid and owned by the caller. size 0 frees `ptr` and returns NULL. */
void *vxs_realloc(void *ptr, size_t size);

/* vxs_free frees memory from vxs_malloc/vxs_calloc/vxs_realloc/vxs_strdup. Accepts NULL. */
void vxs_free(void *ptr);

/* vxs_strdup copies the NUL-terminated `s` with vxs_malloc; NULL if `s` is NULL or on failure.
 * The caller vxs_free()s the copy. */
char *vxs_strdup(const char *s);

/* ==== 3. Logging and progress ========================================================== */

typedef enum {
    VXS_LOG_ERROR = 0,
    VXS_LOG_WARN = 1,
    VXS_LOG_INFO = 2,
    VXS_LOG_DEBUG = 3
} vxs_log_level_t;

/* vxs_log_fn receives one formatted message without a trailing newline. `msg` is valid only for
 * the duration of the call. */
typedef void (*vxs_log_fn)(void *user, vxs_log_level_t level, const char *msg);

/* vxs_log_set_handler routes library messages to `fn` (NULL: the default handler, which writes
 * "v2xsync: warning: msg" lines to stderr). Not thread-safe; set it once at start-up. */
void vxs_log_set_handler(vxs_log_fn fn, void *user);

/* vxs_log_set_level drops messages less severe than `level` (default VXS_LOG_WARN). */
void vxs_log_set_level(vxs_log_level_t level);

/* vxs_log_get_level returns the current threshold. */
vxs_log_level_t vxs_log_get_level(void);

/* vxs_log formats a message printf-style and passes it to the handler if `level` passes the
 * threshold. Messages longer than 1023 bytes are cut. */
void vxs_log(vxs_log_level_t level, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

/* vxs_vlog is vxs_log with a va_list. */
void vxs_vlog(vxs_log_level_t level, const char *fmt, va_list ap)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 0)))
#endif
    ;

/* vxs_level_name returns "error", "warning", "info" or "debug". Never NULL. */
const char *vxs_level_name(vxs_log_level_t level);

/* vxs_progress_fn reports that `done` of `total` units (bytes, packets: the caller says which)
 * are finished; total 0 means unknown. Returning non-zero asks the job to stop; the job then
 * returns VXS_E_CANCELED. Called at most a few times per second by long jobs. */
typedef int (*vxs_progress_fn)(void *user, uint64_t done, uint64_t total);

/* vxs_progress_t pairs a progress callback with its user pointer. fn may be NULL (no reports). */
typedef struct {
    vxs_progress_fn fn;
    void *user;
} vxs_progress_t;

/* vxs_progress_report calls p->fn if `p` and p->fn are set; returns VXS_E_CANCELED if the
 * callback asked to stop, else VXS_OK. */
vxs_status_t vxs_progress_report(const vxs_progress_t *p, uint64_t done, uint64_t total);

/* vxs_diag_t describes one bad unit of input: where it is and what is wrong. Readers report
 * every bad unit they skip through a vxs_diag_sink_t, so nothing is dropped silently. `file` and
 * `msg` are borrowed for the duration of the callback. `unit` counts from 1 like tshark's frame
 * numbers ("packet 12"); 0 when the damage is not inside a unit (a bad file header). */
typedef struct {
    const char *file;
    uint64_t unit;
    uint64_t offset; /* byte offset in the file where the bad unit (or the damage) starts */
    vxs_status_t status;
    const char *msg; /* the full message, "f.pcap: packet 12 (byte offset 1844): ..." */
} vxs_diag_t;

/* vxs_diag_fn receives one diagnostic. */
typedef void (*vxs_diag_fn)(void *user, const vxs_diag_t *d);

/* vxs_diag_sink_t pairs a diagnostic callback with its user pointer; fn may be NULL, in which case
 * readers log the message at VXS_LOG_WARN instead. */
typedef struct {
    vxs_diag_fn fn;
    void *user;
} vxs_diag_sink_t;

/* vxs_diag_emit delivers `d` to `sink` (or logs d->msg as a warning when sink or sink->fn is
 * NULL). */
void vxs_diag_emit(const vxs_diag_sink_t *sink, const vxs_diag_t *d);

/* ==== 4. Limits ======================================================================== */

/* vxs_limits_t caps every size or count read from untrusted input before it is allocated or
 * looped on (libpcap's max snaplen check, zstd's windowLogMax). */
typedef struct {
    size_t max_record;          /* largest capture record / packet, bytes (default 262144) */
    size_t max_frame;           /* largest decoded frame payload, bytes (default 256 MiB) */
    size_t max_sources;         /* most sources in one job (default 1024) */
    size_t reasm_max_bytes;     /* largest reassembled IP datagram (default 65535) */
    size_t reasm_max_pending;   /* most datagrams being reassembled at once (default 256) */
    int64_t reasm_timeout_ns;   /* drop an incomplete datagram this long after its first
                                   fragment, on the capture clock (default 5 s) */
} vxs_limits_t;

/* vxs_limits_default fills `out` with the defaults documented above. */
void vxs_limits_default(vxs_limits_t *out);

/* ==== 5. Byte reader and bit reader ==================================================== */

/* vxs_rd_t reads untrusted bytes. Every read checks the remaining length first and, on
 * success, advances; on failure it returns false and leaves the reader unchanged. The reader
 * borrows the bytes; it never owns them. Endianness is in each function's name. */
typedef struct {
    const uint8_t *p;
    size_t len;
} vxs_rd_t;

/* vxs_rd_init returns a reader over `len` bytes at `p` (p may be NULL when len is 0). */
static inline vxs_rd_t vxs_rd_init(const void *p, size_t len) {
    vxs_rd_t r;
    r.p = (const uint8_t *)p;
    r.len = p ? len : 0;
    return r;
}

/* vxs_rd_left returns the number of unread bytes. */
static inline size_t vxs_rd_left(const vxs_rd_t *r) { return r->len; }

/* vxs_rd_skip advances `n` bytes; false if fewer remain. */
static inline bool vxs_rd_skip(vxs_rd_t *r, size_t n) {
    if (r->len < n) return false;
    r->p += n;
    r->len -= n;
    return true;
}

/* vxs_rd_u8 reads one byte into *out. */
static inline bool vxs_rd_u8(vxs_rd_t *r, uint8_t *out) {
    if (r->len < 1) return false;
    *out = r->p[0];
    r->p += 1;
    r->len -= 1;
    return true;
}

/* vxs_rd_peek_u8 reads the byte at offset `at` without advancing. */
static inline bool vxs_rd_peek_u8(const vxs_rd_t *r, size_t at, uint8_t *out) {
    if (r->len <= at) return false;
    *out = r->p[at];
    return true;
}

/* vxs_rd_u16be / _u16le read a 16-bit unsigned integer, big / little endian. */
static inline bool vxs_rd_u16be(vxs_rd_t *r, uint16_t *out) {
    if (r->len < 2) return false;
    *out = (uint16_t)((unsigned)r->p[0] << 8 | r->p[1]);
    r->p += 2;
    r->len -= 2;
    return true;
}
static inline bool vxs_rd_u16le(vxs_rd_t *r, uint16_t *out) {
    if (r->len < 2) return false;
    *out = (uint16_t)((unsigned)r->p[1] << 8 | r->p[0]);
    r->p += 2;
    r->len -= 2;
    return true;
}

/* vxs_rd_u24be reads a 24-bit unsigned big-endian integer (GN/1609 fields). */
static inline bool vxs_rd_u24be(vxs_rd_t *r, uint32_t *out) {
    if (r->len < 3) return false;
    *out = (uint32_t)r->p[0] << 16 | (uint32_t)r->p[1] << 8 | r->p[2];
    r->p += 3;
    r->len -= 3;
    return true;
}

/* vxs_rd_u32be / _u32le read a 32-bit unsigned integer. */
static inline bool vxs_rd_u32be(vxs_rd_t *r, uint32_t *out) {
    if (r->len < 4) return false;
    *out = (uint32_t)r->p[0] << 24 | (uint32_t)r->p[1] << 16 | (uint32_t)r->p[2] << 8 | r->p[3];
    r->p += 4;
    r->len -= 4;
    return true;
}
static inline bool vxs_rd_u32le(vxs_rd_t *r, uint32_t *out) {
    if (r->len < 4) return false;
    *out = (uint32_t)r->p[3] << 24 | (uint32_t)r->p[2] << 16 | (uint32_t)r->p[1] << 8 | r->p[0];
    r->p += 4;
    r->len -= 4;
    return true;
}

/* vxs_rd_u64be / _u64le read a 64-bit unsigned integer. */
static inline bool vxs_rd_u64be(vxs_rd_t *r, uint64_t *out) {
    uint32_t hi, lo;
    if (r->len < 8) return false;
    vxs_rd_u32be(r, &hi);
    vxs_rd_u32be(r, &lo);
    *out = (uint64_t)hi << 32 | lo;
    return true;
}
static inline bool vxs_rd_u64le(vxs_rd_t *r, uint64_t *out) {
    uint32_t hi, lo;
    if (r->len < 8) return false;
    vxs_rd_u32le(r, &lo);
    vxs_rd_u32le(r, &hi);
    *out = (uint64_t)hi << 32 | lo;
    return true;
}

/* vxs_rd_bytes copies `n` bytes into `out` (which must hold n bytes). */
static inline bool vxs_rd_bytes(vxs_rd_t *r, void *out, size_t n) {
    if (r->len < n) return false;
    if (n > 0) memcpy(out, r->p, n); /* memcpy(NULL, NULL, 0) is UB; n == 0 skips it */
    r->p += n;
    r->len -= n;
    return true;
}

/* vxs_rd_ptr sets *out to the next `n` bytes (borrowed from the reader's buffer) and advances. */
static inline bool vxs_rd_ptr(vxs_rd_t *r, const uint8_t **out, size_t n) {
    if (r->len < n) return false;
    *out = r->p;
    r->p += n;
    r->len -= n;
    return true;
}

/* vxs_rd_sub carves the next `n` bytes into *out, a reader of its own, and advances `r` past
 * them: a nested parser given *out cannot read past its record. */
static inline bool vxs_rd_sub(vxs_rd_t *r, vxs_rd_t *out, size_t n) {
    if (r->len < n) return false;
    out->p = r->p;
    out->len = n;
    r->p += n;
    r->len -= n;
    return true;
}

/* vxs_br_t reads bits MSB-first, as ITU-T X.691 unaligned PER (UPER) lays them out. Like
 * vxs_rd_t, every read checks first and leaves the reader unchanged on failure. */
typedef struct {
    const uint8_t *p;
    size_t nbits; /* total bits available */
    size_t pos;   /* next bit to read, 0 = MSB of p[0] */
} vxs_br_t;

/* vxs_br_init returns a bit reader over `len` bytes at `p`. */
vxs_br_t vxs_br_init(const void *p, size_t len);

/* vxs_br_left returns the number of unread bits. */
static inline size_t vxs_br_left(const vxs_br_t *b) { return b->nbits - b->pos; }

/* vxs_br_peek_ reads `n` (1..64) bits at `pos` without bounds checks (callers check first; not
 * for use outside the vxs_br_ functions). Where eight bytes from pos's byte are inside the
 * buffer and n <= 57 (the bit offset inside the first byte is at most 7), one big-endian 64-bit
 * load and a shift do it; near the end, up to 8 bits per step. The readers below are inline:
 * UPER decoders call them for every field. */
static inline uint64_t vxs_br_peek_(const vxs_br_t *b, size_t pos, unsigned n) {
    uint64_t v = 0;
    if (n <= 57 && (pos >> 3) + 8 <= (b->nbits >> 3)) {
        const uint8_t *q = b->p + (pos >> 3);
        v = (uint64_t)q[0] << 56 | (uint64_t)q[1] << 48 | (uint64_t)q[2] << 40 |
            (uint64_t)q[3] << 32 | (uint64_t)q[4] << 24 | (uint64_t)q[5] << 16 |
            (uint64_t)q[6] << 8 | (uint64_t)q[7];
        return (v << (pos & 7u)) >> (64u - n);
    }
    while (n > 0) {
        const unsigned avail = 8u - (unsigned)(pos & 7u);
        const unsigned take = n < avail ? n : avail;
        const unsigned chunk = ((unsigned)b->p[pos >> 3] >> (avail - take)) & ((1u << take) - 1u);
        v = (v << take) | chunk;
        pos += take;
        n -= take;
    }
    return v;
}

/* vxs_br_bits reads `n` bits (0 <= n <= 64) as an unsigned integer, first bit most significant.
 * n = 0 reads nothing and sets *out to 0. On failure *out is 0 (vxs_br_bool: false; vxs_br_cons:
 * lo), so that no caller ever reads an unset value. */
static inline bool vxs_br_bits(vxs_br_t *b, uint64_t *out, unsigned n) {
    *out = 0;
    if (n > 64 || vxs_br_left(b) < n) return false;
    *out = n ? vxs_br_peek_(b, b->pos, n) : 0;
    b->pos += n;
    return true;
}

/* vxs_br_bool reads one bit (a PER BOOLEAN, presence bit or extension bit). */
static inline bool vxs_br_bool(vxs_br_t *b, bool *out) {
    *out = false;
    if (vxs_br_left(b) < 1) return false;
    *out = ((unsigned)b->p[b->pos >> 3] >> (7u - (unsigned)(b->pos & 7u))) & 1u;
    b->pos += 1;
    return true;
}

/* vxs_br_skip advances `n` bits. */
static inline bool vxs_br_skip(vxs_br_t *b, size_t n) {
    if (vxs_br_left(b) < n) return false;
    b->pos += n;
    return true;
}

/* vxs_br_cons reads a PER constrained whole number in [lo, hi] (X.691 §11.5.7, unaligned): the
 * offset value - lo in ceil(log2(hi - lo + 1)) bits; zero bits when lo == hi. Fails (and leaves
 * the reader unchanged) if lo > hi, if the range needs more than 63 bits, or if the decoded
 * value exceeds hi. */
static inline bool vxs_br_cons(vxs_br_t *b, int64_t *out, int64_t lo, int64_t hi) {
    uint64_t range, v = 0;
    unsigned nbits = 0;
    *out = lo;
    if (lo > hi) return false;
    /* "range" is hi - lo + 1 and the offset takes ceil(log2(range)) bits, which is the bit
     * length of hi - lo. Unsigned subtraction is exact because hi >= lo. */
    range = (uint64_t)hi - (uint64_t)lo;
#if defined(__GNUC__)
    nbits = range ? 64u - (unsigned)__builtin_clzll(range) : 0u;
#else
    for (uint64_t r = range; r; r >>= 1) nbits++;
#endif
    if (nbits > 63 || vxs_br_left(b) < nbits) return false;
    if (nbits) v = vxs_br_peek_(b, b->pos, nbits);
    /* A range that is not a power of two leaves unused codes above hi: those are malformed. */
    if (v > range) return false;
    b->pos += nbits;
    /* v <= range < 2^63, and lo + v <= hi, so neither the cast nor the sum overflows. */
    *out = lo + (int64_t)v;
    return true;
}

/* vxs_br_length reads an unconstrained PER length determinant (X.691 §11.9, unaligned):
 * 0xxxxxxx (0..127) or 10xxxxxx xxxxxxxx (0..16383). The fragmented form (11xxxxxx) is
 * rejected: no V2X message here is 16 K or longer. */
bool vxs_br_length(vxs_br_t *b, size_t *out);

/* vxs_br_nsnn reads a normally small non-negative whole number (X.691 §11.6), used for
 * extension-addition bitmap lengths and extensible CHOICE indices: 0 + 6 bits (0..63), or 1 +
 * a length determinant + that many octets. */
bool vxs_br_nsnn(vxs_br_t *b, uint64_t *out);

/* vxs_br_octets copies `n` whole octets starting at the current (possibly unaligned) bit
 * position into `out` (an OCTET STRING or open-type body). */
bool vxs_br_octets(vxs_br_t *b, void *out, size_t n);

/* ==== 6. Time ========================================================================== */

/* vxs_time_t is the one time type of the project: nanoseconds since 1970-01-01T00:00:00 UTC,
 * POSIX style (leap seconds not counted; each UTC day has 86400 s). Range about ±292 years. */
typedef int64_t vxs_time_t;

/* VXS_TIME_NONE marks a time that is absent. */
#define VXS_TIME_NONE INT64_MIN

#define VXS_NS_PER_US INT64_C(1000)
#define VXS_NS_PER_MS INT64_C(1000000)
#define VXS_NS_PER_S INT64_C(1000000000)

/* Epochs, as vxs_time_t. ITS and 1609.2 count from 2004-01-01T00:00:00 UTC; GPS from
 * 1980-01-06T00:00:00 UTC. */
#define VXS_EPOCH_2004 INT64_C(1072915200000000000)
#define VXS_EPOCH_GPS INT64_C(315964800000000000)

/* vxs_tai_utc_offset returns TAI - UTC in whole seconds in force at UTC time `t` (10 from
 * 1972-01-01, 37 since 2017-01-01). Times before 1972 return 10. The one leap-second table of
 * the project is behind this function; vxs_leap_table_expires says until when it is known
 * complete. */
int vxs_tai_utc_offset(vxs_time_t t);

/* vxs_leap_table_expires returns the UTC time until which the leap-second table is known to be
 * complete (from the IERS Bulletin C it was last checked against). */
vxs_time_t vxs_leap_table_expires(void);

/* TimestampIts (ETSI TS 102 894-2): milliseconds elapsed on the TAI scale since
 * 2004-01-01T00:00:00.000 UTC, so it counts the leap seconds inserted since 2004 (5 s as of
 * 2017). 1609.2 Time64 has the same scale in microseconds.
 *
 * Inside an inserted leap second (UTC 23:59:60.xxx), POSIX time has no value; the conversion to
 * vxs_time_t maps every instant of it onto 00:00:00.000 of the next day (monotonic, never
 * repeats), so vxs_time_from_its(vxs_time_to_its(t)) == t for every whole-millisecond t from
 * 2004 on, and the other way round for every TimestampIts outside a leap second. Values whose
 * time would lie past the vxs_time_t range (year 2262) convert to INT64_MAX. */

/* vxs_time_from_its converts a TimestampIts (ms) to vxs_time_t. */
vxs_time_t vxs_time_from_its(uint64_t its_ms);

/* vxs_time_to_its converts `t` to TimestampIts, truncating toward the earlier millisecond.
 * Times before 2004 return 0. */
uint64_t vxs_time_to_its(vxs_time_t t);

/* vxs_time_from_time64 converts an IEEE 1609.2 Time64 (µs since 2004-01-01 UTC, TAI scale),
 * with the same leap-second rule (round trip for whole-microsecond t). */
vxs_time_t vxs_time_from_time64(uint64_t time64_us);

/* vxs_time_to_time64 converts `t` to Time64, truncating to the microsecond. */
uint64_t vxs_time_to_time64(vxs_time_t t);

/* vxs_time_from_gn_tst unwraps a GeoNetworking timestamp (TST: TimestampIts mod 2^32, wraps every
 * ~49.7 days) into the absolute time nearest to `near` (typically the capture time). Returns
 * VXS_E_ARG if near is VXS_TIME_NONE. */
vxs_status_t vxs_time_from_gn_tst(vxs_time_t *out, uint32_t tst, vxs_time_t near);

/* vxs_time_from_gdt unwraps a CAM generationDeltaTime (TimestampIts mod 65536, wraps every
 * 65.536 s) into the absolute time nearest to `near`. Returns VXS_E_ARG if near is
 * VXS_TIME_NONE. The result is only meaningful if |true time - near| < 32.768 s. */
vxs_status_t vxs_time_from_gdt(vxs_time_t *out, uint16_t gdt, vxs_time_t near);

/* vxs_time_from_secmark unwraps a J2735 DSecond `secmark` (ms within the UTC minute, 0..59999;
 * 60000..60999 during a leap second, mapped like ITS leap seconds onto the next minute's start)
 * into the absolute time nearest to `near`. Returns VXS_E_MALFORMED for 61000..65534 and
 * VXS_E_NOTFOUND for 65535 ("unavailable"), VXS_E_ARG if near is VXS_TIME_NONE (or so close to
 * the ends of the vxs_time_t range that no candidate fits). Meaningful if |true time - near|
 * < 30 s. Ties go to the earlier candidate. */
vxs_status_t vxs_time_from_secmark(vxs_time_t *out, uint16_t secmark, vxs_time_t near);

/* vxs_time_from_gps converts GPS time (week number counted from 1980-01-06 with no 1024-week
 * rollover applied, plus ns into the week) to UTC, subtracting the GPS-UTC leap offset
 * (TAI - UTC - 19 s) in force at that time; GPS labels of an inserted leap second map onto the
 * next UTC day's start, as for TimestampIts. Returns VXS_E_ARG if ns_of_week is outside
 * [0, 604800 s), if the result would be past the vxs_time_t range, or if out is NULL. */
vxs_status_t vxs_time_from_gps(vxs_time_t *out, uint32_t week, int64_t ns_of_week);

/* vxs_time_to_gps converts `t` to GPS week and ns into the week. Times before the GPS epoch give
 * week 0, ns 0. Either output may be NULL. */
void vxs_time_to_gps(uint32_t *out_week, int64_t *out_ns_of_week, vxs_time_t t);

/* vxs_time_from_toh resolves a Velodyne timestamp (µs past the top of the device's hour,
 * 0..3599999999) against a reference `near` (capture time, or a GPRMC time) the way the ROS and
 * velodyne_decoder drivers do: take near's UTC hour, add the µs, and move by ±1 h when that is
 * more than 30 min from `near` (exactly 30 min: no move). Returns VXS_E_MALFORMED if
 * usec_toh >= 3600000000, VXS_E_ARG if near is VXS_TIME_NONE or the result would leave the
 * vxs_time_t range. */
vxs_status_t vxs_time_from_toh(vxs_time_t *out, uint32_t usec_toh, vxs_time_t near);

/* VXS_TIME_STRLEN is the buffer size vxs_time_format needs: "2016-01-21T08:18:02.123456789Z". */
#define VXS_TIME_STRLEN 40

/* vxs_time_format writes `t` as ISO 8601 UTC with nanoseconds ("YYYY-MM-DDTHH:MM:SS.nnnnnnnnnZ")
 * into `buf` (at least VXS_TIME_STRLEN bytes) and returns buf. VXS_TIME_NONE writes "none". */
char *vxs_time_format(char *buf, size_t buf_len, vxs_time_t t);

/* vxs_time_parse parses "YYYY-MM-DDTHH:MM:SS[.fraction][Z]" (also with a space instead of T;
 * fraction 1 to 9 digits) as UTC. Seconds = 60 is accepted only as 23:59:60 on a day that ends
 * with a leap second, and yields the next day's start. Returns VXS_E_MALFORMED on anything
 * else, including out-of-range fields and instants outside the vxs_time_t range, VXS_E_ARG if
 * s or out is NULL. *out is set only on success. */
vxs_status_t vxs_time_parse(vxs_time_t *out, const char *s);

/* vxs_time_from_civil converts a UTC civil date and time to vxs_time_t (proleptic Gregorian,
 * any year 1678..2261). Fields are not range-checked beyond what the arithmetic needs; 60 s is
 * accepted and yields the next minute's start, month 13 is January of the next year, and nsec
 * may be negative or >= 1 s (it carries). Returns VXS_TIME_NONE if the result does not fit. */
vxs_time_t vxs_time_from_civil(int year, int month, int day, int hour, int min, int sec,
                               int64_t nsec);

/* vxs_clock_kind_t says which clock a timestamp was read from. */
typedef enum {
    VXS_CLOCK_REFERENCE = 0, /* the scenario's reference timeline (true time as estimated) */
    VXS_CLOCK_LOGGER = 1,    /* an agent's logger clock: pcap/host capture time */
    VXS_CLOCK_DEVICE = 2,    /* a sensor's own clock: Velodyne ToH µs, Ouster ns, camera pts */
    VXS_CLOCK_SENDER = 3     /* a V2X sender's clock: the generation time it wrote */
} vxs_clock_kind_t;

/* vxs_v2x_time_field_t says which time field of a V2X message a sender time was read from. The
 * same sender may stamp each layer from a different clock (a GN router's TST and the
 * application's generationDeltaTime), so each field is a clock domain of its own. The values are
 * part of no file format; the names (vxs_v2x_time_field_name) are. */
typedef enum {
    VXS_V2X_TF_NONE = 0,         /* the message has no sender time */
    VXS_V2X_TF_1609_GEN = 1,     /* IEEE 1609.2 headerInfo.generationTime (Time64, µs, TAI) */
    VXS_V2X_TF_GEN_DELTA = 2,    /* CAM / VAM generationDeltaTime (TimestampIts mod 65536, ms) */
    VXS_V2X_TF_SEC_MARK = 3,     /* J2735 secMark (ms in the UTC minute), with moy if present */
    VXS_V2X_TF_ITS_TIME = 4,     /* a full TimestampIts: DENM / CPM referenceTime, which names
                                    an event's time and is repeated unchanged by every
                                    repetition, so it says nothing about transmission */
    VXS_V2X_TF_GN_TST = 5,       /* GeoNetworking source position vector TST (ms mod 2^32) */
    VXS_V2X_TF_COUNT_ = 6
} vxs_v2x_time_field_t;

/* vxs_v2x_time_field_name returns "none", "1609.2", "generationDeltaTime", "secMark",
 * "TimestampIts" or "GN-TST" ("unknown" otherwise): the names clocks.json uses. Never NULL. */
const char *vxs_v2x_time_field_name(vxs_v2x_time_field_t f);

/* vxs_v2x_time_field_resolution_ns returns the quantum of the field's readings: 1 µs for 1609.2
 * generationTime, 1 ms for every other field (0 for NONE). */
double vxs_v2x_time_field_resolution_ns(vxs_v2x_time_field_t f);

/* vxs_clock_domain_t names one clock. `agent` is the recording agent's index (logger, device);
 * `sensor` the sensor's index within the agent (device); `station` the V2X sender's identity
 * (station id, BSM temporary id or GN address) and `field` which of its time fields. Unused
 * fields are 0. */
typedef struct {
    vxs_clock_kind_t kind;
    uint32_t agent;
    uint32_t sensor;
    uint64_t station;
    vxs_v2x_time_field_t field;
} vxs_clock_domain_t;

/* vxs_clock_domain_equal returns true if `a` and `b` name the same clock. */
bool vxs_clock_domain_equal(const vxs_clock_domain_t *a, const vxs_clock_domain_t *b);

/* vxs_clock_domain_format writes a stable, parseable name of `d` ("reference", "logger:2",
 * "device:2/0", "sender:0x1234abcd/1", the number after the slash being the time field) into
 * `buf` and returns buf. */
char *vxs_clock_domain_format(char *buf, size_t buf_len, const vxs_clock_domain_t *d);

/* ==== 7. Records, locators, payloads, sources and sinks ================================= */

/* vxs_record_kind_t is what one record is. */
typedef enum {
    VXS_REC_PACKET = 0,       /* one packet of a capture, not otherwise interpreted */
    VXS_REC_LIDAR_PACKET = 1, /* one LiDAR data packet: its capture time and the device time
                                 it left the sensor (its last firing), for clock estimation */
    VXS_REC_LIDAR_SWEEP = 2,  /* one LiDAR rotation / frame */
    VXS_REC_CAMERA_FRAME = 3, /* one video or image-sequence frame */
    VXS_REC_V2X = 4,          /* one V2X message */
    VXS_REC_IMU = 5,          /* one IMU or position sample */
    VXS_REC_KIND_COUNT_ = 6
} vxs_record_kind_t;

/* VXS_REC_KIND_BIT is the bit of `kind` in a mask of record kinds (vxs_source_rewind). */
#define VXS_REC_KIND_BIT(kind) (UINT32_C(1) << (unsigned)(kind))

/* vxs_record_kind_name returns "packet", "lidar_packet", "lidar_sweep", "camera_frame", "v2x" or
 * "imu" ("unknown" otherwise). Never NULL. */
const char *vxs_record_kind_name(vxs_record_kind_t kind);

/* vxs_locator_t says where a record's payload is, so it can be fetched again in the second,
 * streaming pass without keeping it in memory. `index` counts units from 0 in file order (pcap
 * records, video frames); `offset` is the byte offset in the file where the first unit starts
 * (for pcap: the record header; 0 where the format has no byte position); `count` is how many
 * consecutive units the record spans (a sweep spans many packets). */
typedef struct {
    uint32_t source; /* the source's index in its job */
    uint32_t count;
    uint64_t index;
    uint64_t offset;
} vxs_locator_t;

/* Summaries: the small decoded part of a record that the index pass keeps. */

/* vxs_packet_summary_t summarizes a capture packet. Addresses are in network byte order; IPv4
 * addresses are stored as IPv4-mapped IPv6 (::ffff:a.b.c.d). */
typedef struct {
    uint32_t caplen;
    uint32_t wirelen;
    uint16_t ethertype; /* innermost EtherType, 0 if none */
    uint8_t ip_version; /* 0, 4 or 6 */
    uint8_t ip_proto;   /* when ip_version != 0 */
    uint16_t src_port;  /* UDP, when ip_proto == 17 */
    uint16_t dst_port;
    uint8_t src_addr[16];
    uint8_t dst_addr[16];
} vxs_packet_summary_t;

/* vxs_sweep_summary_t summarizes a LiDAR sweep. The record's device_time / capture_time are the
 * sweep's start (its first point's firing time on the device clock; the capture time of the
 * first packet it uses); the ends are here. Azimuths are degrees in the sensor frame convention
 * of the packets (Velodyne: clockwise from the front seen from above; Ouster: encoder angle). */
typedef struct {
    vxs_time_t device_end;  /* last point's time on the device clock */
    vxs_time_t capture_end; /* capture time of the last packet the sweep uses */
    double az_start_deg;
    double az_end_deg;
    double az_coverage_deg; /* azimuth actually swept by received packets, 0..360 */
    uint32_t packets;          /* data packets used (a packet straddling a cut counts in both) */
    uint32_t packets_missing;  /* packets judged lost from device-time gaps and azimuth jumps */
    uint32_t points;           /* points with a return (what fetch produces) */
    uint32_t columns;          /* Ouster: valid columns; Velodyne: 0 */
    uint32_t frame_id;         /* Ouster frame id; Velodyne: sweep number from 0 */
    uint8_t return_mode;       /* VXS_RET_* bits present in the sweep */
    uint8_t pps;               /* Velodyne PPS status of the last position packet, 0xFF if none */
    bool complete;             /* a whole rotation, cut at both ends, nothing missing */
    int32_t phase_cdeg;        /* Velodyne: where the first packet's first block lies relative
                                  to the cut, 0.01 degree (negative: before it); lets a fetch
                                  re-apply the cut without the index pass's state */
} vxs_sweep_summary_t;

/* vxs_imu_summary_t summarizes an IMU sample (Ouster IMU packet) or a Velodyne position packet.
 * Values are NaN when the packet does not carry them. */
typedef struct {
    double accel_mps2[3]; /* linear acceleration, m/s^2 (Ouster reports g; converted) */
    double gyro_dps[3];   /* angular velocity, deg/s */
    double lat_deg;       /* position packets: from NMEA, NaN if none */
    double lon_deg;
    uint8_t pps;          /* position packets: 0 absent, 1 synchronizing, 2 locked, 3 error */
    bool has_nmea_time;   /* device_time was resolved from $GPRMC's date and hour */
    vxs_time_t fix_time;  /* position packets: a valid $GPRMC's UTC time (of the fix), else
                             VXS_TIME_NONE */
    double speed_mps, course_deg; /* ... its speed and course over ground (degrees clockwise
                                     from north), NaN if none */
} vxs_imu_summary_t;

/* vxs_frame_summary_t summarizes a camera frame. */
typedef struct {
    int64_t pts; /* in the stream's time base */
    uint32_t size;
    uint32_t width;
    uint32_t height;
    bool key;
} vxs_frame_summary_t;

/* Protocol families of a V2X message (vxs_v2x_summary_t.protocol). */
enum { VXS_V2X_PROTO_NONE = 0, VXS_V2X_PROTO_ETSI = 1, VXS_V2X_PROTO_J2735 = 2 };

/* ETSI ItsPduHeader messageID values (ETSI TS 102 894-2, Common Data Dictionary). */
enum {
    VXS_ETSI_DENM = 1, VXS_ETSI_CAM = 2, VXS_ETSI_POIM = 3, VXS_ETSI_SPATEM = 4,
    VXS_ETSI_MAPEM = 5, VXS_ETSI_IVIM = 6, VXS_ETSI_SREM = 9, VXS_ETSI_SSEM = 10,
    VXS_ETSI_CPM = 14, VXS_ETSI_VAM = 16
};

/* J2735 DSRCmsgID values (SAE J2735 MessageFrame). */
enum {
    VXS_J2735_MAP = 18, VXS_J2735_SPAT = 19, VXS_J2735_BSM = 20, VXS_J2735_SRM = 29,
    VXS_J2735_SSM = 30, VXS_J2735_TIM = 31, VXS_J2735_PSM = 32
};

/* vxs_v2x_type_name returns "CAM", "DENM", "CPM", "VAM", "SPATEM", "MAPEM", "IVIM", "BSM",
 * "PSM", "SPAT", "MAP", "TIM", "SRM", "SSM"... or "ETSI-<id>" / "J2735-<id>" written into a
 * thread-local buffer (valid until the thread's next call) for others, "unknown" for another
 * protocol. Never NULL. */
const char *vxs_v2x_type_name(int protocol, int msg_id);

/* vxs_v2x_object_t is one CPM perceived object. Position and velocity are in the CPM's own
 * frame, metres and m/s from the sender's reference position (xCoordinate / yCoordinate,
 * xVelocity / yVelocity): a vehicle's body frame (ISO 8855: x forward, y left), a roadside
 * unit's x east and y north (TS 103 324). */
typedef struct {
    uint32_t object_id;          /* 0..65535 */
    int32_t measurement_delta_ms; /* measurementDeltaTime: ms relative to the CPM's reference
                                    time (TS 103 324 v2.1.1 / CDD v2: negative = before it) */
    double x_m, y_m, z_m;        /* NaN when absent (z is optional) */
    double vx_mps, vy_mps;       /* NaN when absent */
    int classification;          /* first class: TrafficParticipantType (0..255), -1 if none */
    int class_confidence;        /* its confidence, -1 if none */
} vxs_v2x_object_t;

/* vxs_v2x_summary_t summarizes a V2X message. Position fields are valid when has_position. */
typedef struct {
    uint16_t protocol; /* VXS_V2X_PROTO_* */
    uint16_t msg_type; /* J2735 DSRCmsgID or ETSI messageID */
    uint64_t sender_id;
    uint32_t size;
    bool has_position;
    bool sent; /* true if the recording agent sent it, false if it received it */
    double lat_deg;
    double lon_deg;
    double speed_mps;   /* NaN when unavailable */
    double heading_deg; /* NaN when unavailable; clockwise from north */
    /* -- the rest of the sender's state as the message reports it (NaN when absent or
     *    "unavailable"; -1 for an absent station_type) ------------------------------------ */
    double elev_m;          /* WGS-84 height (J2735 Elevation, ETSI AltitudeValue) */
    double yaw_rate_dps;    /* positive counter-clockwise seen from above (ETSI's sign; a
                               J2735 yaw rate, positive clockwise, is negated) */
    double accel_long_mps2; /* along the heading, positive forward */
    double length_m, width_m;
    int16_t station_type;   /* ETSI stationType / J2735 PSM basicType */
    /* -- the accuracy the sender claims, as sent (vxs_v2x.h vxs_v2x_msg_t) -------------------- */
    bool pos_confidence_95;   /* the ellipse is ETSI's 95 % one, not J2735's one sigma */
    double pos_semi_major_m, pos_semi_minor_m, pos_orientation_deg;
    double speed_conf_mps;    /* CAM speedConfidence (95 %) */
    double heading_conf_deg;  /* CAM headingConfidence (95 %) */
    /* -- values the bits hold but the standard does not allow: absent above, counted here --- */
    uint16_t n_objects;       /* CPM perceived objects kept (vxs_source_fetch gives them) */
    uint16_t out_of_range;    /* how many */
    char out_of_range_field[24]; /* the first one's name ("heading"), "" when none */
} vxs_v2x_summary_t;

/* VXS_ADDR_STRLEN is the buffer size vxs_addr_format needs (the longest IPv6 text, with NUL). */
#define VXS_ADDR_STRLEN 46

/* vxs_addr_format writes the 16-byte network-order address `addr` as text into `buf` (at least
 * VXS_ADDR_STRLEN bytes) and returns buf: "192.168.1.201" for an IPv4 address stored
 * IPv4-mapped (::ffff:a.b.c.d, as packet summaries and decoded packets hold it), else the IPv6
 * form ("fe80::1"). */
char *vxs_addr_format(char *buf, size_t buf_len, const uint8_t addr[16]);

/* vxs_record_t is one time-stamped unit a source produced. Iterators lend records: a record is
 * valid until the next call on the source that produced it. */
typedef struct {
    vxs_record_kind_t kind;
    uint32_t agent;
    uint32_t sensor;
    vxs_time_t capture_time;        /* logger clock of `agent`; VXS_TIME_NONE if unknown */
    vxs_time_t device_time;         /* device/sender clock; VXS_TIME_NONE if the format has none */
    vxs_clock_domain_t device_clock; /* the domain of device_time */
    uint64_t seq;                   /* sequence counter (msgCnt, frame id...) when has_seq */
    bool has_seq;
    vxs_locator_t loc;
    union {
        vxs_packet_summary_t packet;
        vxs_sweep_summary_t sweep;
        vxs_imu_summary_t imu;
        vxs_frame_summary_t frame;
        vxs_v2x_summary_t v2x;
    } u;
} vxs_record_t;

/* vxs_record_init zeroes `r` and sets both times to VXS_TIME_NONE. */
void vxs_record_init(vxs_record_t *r, vxs_record_kind_t kind);

/* vxs_buf_t is a growable byte buffer owned by the caller; payload fetches write into it so one
 * buffer is reused across a whole stream (FFmpeg's reused AVPacket). Zero-initialize it before
 * first use; release with vxs_buf_free. */
typedef struct {
    uint8_t *data;
    size_t len;
    size_t cap;
} vxs_buf_t;

/* vxs_buf_reserve makes room for at least `cap` bytes (keeping the content). VXS_E_NOMEM on
 * failure, with the buffer unchanged. */
vxs_status_t vxs_buf_reserve(vxs_buf_t *b, size_t cap);

/* vxs_buf_set replaces the content with `n` bytes from `p`. */
vxs_status_t vxs_buf_set(vxs_buf_t *b, const void *p, size_t n);

/* vxs_buf_append appends `n` bytes from `p`. */
vxs_status_t vxs_buf_append(vxs_buf_t *b, const void *p, size_t n);

/* vxs_buf_free releases the memory and zeroes `b`. Accepts NULL. */
void vxs_buf_free(vxs_buf_t *b);

/* ---- LiDAR points ---- */

/* Return flags of a point (vxs_point_t.ret). Velodyne dual return pairs a strongest and a last
 * return per firing; when both are the same echo the point is emitted once with both bits. */
#define VXS_RET_STRONGEST 0x1
#define VXS_RET_LAST 0x2
#define VXS_RET_SECOND 0x4 /* Ouster dual profiles: the second-strongest return */

/* vxs_point_t is one LiDAR point, as sweep fetches produce them (32 bytes, no padding holes
 * but the trailing reserved byte). */
typedef struct {
    float x, y, z;      /* metres, sensor frame: x forward, y left, z up */
    float intensity;    /* Velodyne: (calibrated) reflectivity 0..255; Ouster: reflectivity */
    int64_t t_ns;       /* absolute firing time on the device clock as resolved, ns since 1970 */
    uint16_t laser;     /* Velodyne laser number (calibration index); Ouster beam row */
    uint16_t azimuth;   /* firing azimuth, 0.01 degree units, 0..35999 */
    uint8_t ret;        /* VXS_RET_* */
    uint8_t reserved[3];
} vxs_point_t;

/* vxs_points_t is a growable, caller-owned point array reused across fetches. Zero-initialize
 * before first use; release with vxs_points_free. */
typedef struct {
    vxs_point_t *pts;
    size_t len;
    size_t cap;
} vxs_points_t;

/* vxs_points_reserve makes room for at least `cap` points, keeping the content. VXS_E_NOMEM on
 * failure, with the array unchanged. */
vxs_status_t vxs_points_reserve(vxs_points_t *p, size_t cap);

/* vxs_points_free releases the memory and zeroes `p`. Accepts NULL. */
void vxs_points_free(vxs_points_t *p);

/* Bad units: the one rule every source follows.
 *
 * A bad unit is a part of an input that cannot be used: a packet, frame, log record or line that
 * does not parse, a record cut short, damage that ends the file. A source reports each bad unit
 * exactly once through the diag sink it was opened with (vxs_diag_t: the file, the unit's number
 * counted from 1, its byte offset and the message), counts it, skips it and goes on with the
 * next unit. `next` never returns an error for a bad unit it skipped: it returns VXS_OK with the
 * next good record, or VXS_EOF at the end (damage that ends the file has then been reported).
 * `next` returns an error only when the source cannot go on at all (VXS_E_NOMEM, an I/O error
 * on a file that vanished): that error has been reported through the diag sink as well, counts
 * as one bad unit, and every later call returns VXS_EOF. So a consumer counts bad units by
 * counting diagnostics, never by counting error returns, and nothing is dropped silently. */

/* vxs_source_ops_t is the vtable a reader implements (libpcap's `next_packet_op`). `impl` is the
 * reader's own state.
 *   next:     produce the next record into *out, lent until the next call on the source.
 *             Returns VXS_OK, VXS_EOF at the end, or (the rule above) an error when reading
 *             cannot go on.
 *   fetch:    copy the payload of `rec` (a record this source produced, or a copy of one) into
 *             `out`, replacing its content. The payload of each kind: VXS_REC_PACKET and
 *             VXS_REC_LIDAR_PACKET the captured bytes of the record `rec->loc` names;
 *             VXS_REC_LIDAR_SWEEP the sweep's points as an array of vxs_point_t (out->len a
 *             multiple of sizeof(vxs_point_t)); VXS_REC_CAMERA_FRAME the decoded image as packed
 *             RGB24 rows of u.frame.width * 3 bytes; VXS_REC_V2X a CPM's perceived objects as
 *             an array of vxs_v2x_object_t (u.v2x.n_objects of them; empty for other messages),
 *             and only while `rec` is the source's current record (VXS_E_UNSUPPORTED after).
 *             Other fetches may come in any order, during or after a pass of `next`, and do
 *             not move it. May be NULL for sources whose records
 *             carry everything (vxs_source_fetch then returns VXS_E_UNSUPPORTED).
 *   rewind:   start reading again from the first record, producing only records whose kind's
 *             bit (VXS_REC_KIND_BIT) is in `kinds` (0: every kind the source produces). Records
 *             of a rewound pass are the same, with the same locators. May be NULL (then
 *             vxs_source_rewind returns VXS_E_UNSUPPORTED).
 *   position: the byte offset reading has reached and, in *size (may be NULL), the input's
 *             size, for progress. May be NULL (then 0 and 0).
 *   errmsg:   the last error, naming the file and position ("f.pcap: packet 12 (byte offset
 *             1844): ..."), or "" when none. Never NULL.
 *   destroy:  free `impl`. */
typedef struct {
    const char *name;
    vxs_status_t (*next)(void *impl, const vxs_record_t **out);
    vxs_status_t (*fetch)(void *impl, vxs_buf_t *out, const vxs_record_t *rec);
    vxs_status_t (*rewind)(void *impl, uint32_t kinds);
    uint64_t (*position)(const void *impl, uint64_t *size);
    const char *(*errmsg)(const void *impl);
    void (*destroy)(void *impl);
} vxs_source_ops_t;

/* vxs_source_t is an opaque handle pairing a vtable with its state. */
typedef struct vxs_source vxs_source_t;

/* vxs_source_create wraps `impl` behind `ops` (which must outlive the source; normally static).
 * On success *out owns impl: vxs_source_destroy calls ops->destroy(impl). On failure (VXS_E_ARG,
 * VXS_E_NOMEM) impl is NOT destroyed and stays the caller's. */
vxs_status_t vxs_source_create(vxs_source_t **out, const vxs_source_ops_t *ops, void *impl);

/* vxs_source_next forwards to ops->next and counts the errors it returns
 * (vxs_source_error_count: reading that stopped early, not bad units; see the rule above). */
vxs_status_t vxs_source_next(vxs_source_t *s, const vxs_record_t **out);

/* vxs_source_fetch forwards to ops->fetch: the payload of `rec` into `out`. VXS_E_UNSUPPORTED
 * when the source has no payloads. */
vxs_status_t vxs_source_fetch(vxs_source_t *s, vxs_buf_t *out, const vxs_record_t *rec);

/* vxs_source_rewind forwards to ops->rewind: the next vxs_source_next returns the first record
 * again, of the kinds in the mask `kinds` (0: all). VXS_E_UNSUPPORTED when the source cannot. */
vxs_status_t vxs_source_rewind(vxs_source_t *s, uint32_t kinds);

/* vxs_source_position returns how far reading has come (bytes) and sets *size (may be NULL) to
 * the input's size; 0 and 0 when the source does not say. */
uint64_t vxs_source_position(const vxs_source_t *s, uint64_t *size);

/* vxs_source_errmsg returns the last error message; never NULL. */
const char *vxs_source_errmsg(const vxs_source_t *s);

/* vxs_source_name returns ops->name. */
const char *vxs_source_name(const vxs_source_t *s);

/* vxs_source_error_count returns how many errors next has returned so far (see the rule on bad
 * units: a source that follows it returns at most one). */
uint64_t vxs_source_error_count(const vxs_source_t *s);

/* vxs_source_impl returns the wrapped state (for the module that created it). */
void *vxs_source_impl(const vxs_source_t *s);

/* vxs_source_destroy destroys the source and its impl. Accepts NULL. */
void vxs_source_destroy(vxs_source_t *s);

/* vxs_sink_ops_t is the vtable a record writer implements (a stream of records, as `inspect
 * --records` writes them). Writers of synchronized frames implement vxs_frame_sink_ops_t
 * (vxs_frame.h) instead.
 *   write:   consume one record and, when it has one, its payload (`payload` may be NULL with
 *            len 0). Borrowed for the call only.
 *   finish:  complete the output (flush, fsync, rename into place). After finish only destroy
 *            may be called.
 *   errmsg:  the last error, naming the output file; never NULL.
 *   destroy: free the state; a sink destroyed before finish abandons its output, leaving nothing
 *            under the final name. */
typedef struct {
    const char *name;
    vxs_status_t (*write)(void *impl, const vxs_record_t *rec, const void *payload, size_t len);
    vxs_status_t (*finish)(void *impl);
    const char *(*errmsg)(const void *impl);
    void (*destroy)(void *impl);
} vxs_sink_ops_t;

/* vxs_sink_t is an opaque handle pairing a sink vtable with its state. */
typedef struct vxs_sink vxs_sink_t;

/* vxs_sink_create wraps `impl` behind `ops`; ownership rules as for vxs_source_create. */
vxs_status_t vxs_sink_create(vxs_sink_t **out, const vxs_sink_ops_t *ops, void *impl);

/* vxs_sink_write forwards to ops->write. VXS_E_STATE after vxs_sink_finish. */
vxs_status_t vxs_sink_write(vxs_sink_t *s, const vxs_record_t *rec, const void *payload,
                            size_t len);

/* vxs_sink_finish forwards to ops->finish once; a second call returns VXS_E_STATE. */
vxs_status_t vxs_sink_finish(vxs_sink_t *s);

/* vxs_sink_errmsg returns the last error message; never NULL. */
const char *vxs_sink_errmsg(const vxs_sink_t *s);

/* vxs_sink_impl returns the wrapped state. */
void *vxs_sink_impl(const vxs_sink_t *s);

/* vxs_sink_destroy destroys the sink and its impl. Accepts NULL. */
void vxs_sink_destroy(vxs_sink_t *s);

#ifdef __cplusplus
}
#endif
#endif /* VXS_CORE_H */
