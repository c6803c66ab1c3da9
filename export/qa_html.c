/*
 * qa_html.c: report.html, the QA report's page (README "v2xsync report"): the document report.json
 * holds (export/report.schema.json) rendered as one self-contained HTML5 file. No script, no
 * external resource, no web font: an inline style sheet and charts drawn here as inline SVG, so
 * the page opens offline and shows the same thing in every browser. The document is read
 * defensively: a key missing, null or of another type is treated as absent, never dereferenced,
 * and a number that is not finite prints as a dash. Every string from the document is escaped
 * (file paths and messages may hold < & "). Tables stop at MAX_ROWS rows and say how many more
 * there are; the document's arrays are bounded by the report builder, the page's size with it.
 */
#include "export_int.h"

#include <jansson.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DASH "\xe2\x80\x93" /* U+2013: what a missing or non-finite number prints as */
#define ARROW "\xe2\x86\x92"
#define MAX_ROWS 200  /* rows of any table */
#define MAX_CHARTS 60 /* small multiples of one kind */
#define MAX_LANES 100 /* rows of a timeline chart */
#define MAX_SERIES 24 /* lines of one chart */

/* Okabe & Ito's palette, distinguishable with the common colour-vision deficiencies; yellow last
 * (weak on white). Series beyond it repeat the colours dashed. */
static const char *const PALETTE[] = {"#0072B2", "#E69F00", "#009E73", "#D55E00",
                                      "#CC79A7", "#56B4E9", "#000000", "#F0E442"};
#define N_PALETTE (sizeof PALETTE / sizeof PALETTE[0])
#define C_BAD "#D55E00"  /* losses, silences, partial frames */
#define C_GOOD "#0072B2" /* delivered, counts */
#define C_MUTED "#BBBBBB"

typedef struct {
    vxs_afile_t *f;
    vxs_status_t st;      /* the first write error; later writes are skipped */
    const json_t *absent; /* the document's "absent" list */
    json_int_t origin_ns; /* *_ns values are shown as seconds from here (the clocks' epoch) */
    bool has_origin;
    double t0, t1; /* the drive's span, seconds from the origin (NaN: unknown) */
} html_t;

/* ---- output -------------------------------------------------------------------------------- */

/* All output goes through putn: the first failed write is kept in h->st and every later write is
 * skipped, so the section writers need no error paths of their own and the caller gets the first
 * error (the afile refuses to commit after it anyway). */
static void putn(html_t *h, const char *s, size_t n) {
    if (h->st == VXS_OK && n) h->st = vxs_afile_write(h->f, s, n);
}

static void put(html_t *h, const char *s) { putn(h, s, strlen(s)); }

static void pf(html_t *h, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

/* pf formats into a stack buffer: what it prints is numbers, tags and identifiers, all short. A
 * longer result (a caller passing a long name through %s) is formatted again into the heap rather
 * than cut, because a cut tag would break the page. */
static void pf(html_t *h, const char *fmt, ...) {
    char buf[512];
    va_list ap;
    va_start(ap, fmt);
    const int n = vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    if (n < 0) {
        if (h->st == VXS_OK) h->st = VXS_E_IO;
        return;
    }
    if ((size_t)n < sizeof buf) {
        putn(h, buf, (size_t)n);
        return;
    }
    char *big = vxs_malloc((size_t)n + 1);
    if (!big) {
        if (h->st == VXS_OK) h->st = VXS_E_NOMEM;
        return;
    }
    va_start(ap, fmt);
    vsnprintf(big, (size_t)n + 1, fmt, ap);
    va_end(ap);
    putn(h, big, (size_t)n);
    vxs_free(big);
}

/* esc writes `s` escaped for HTML text and attribute values (both quotes); at most `max_chars`
 * characters (0: all) with an ellipsis when cut. Control characters become spaces. NULL: a dash. */
static void esc_max(html_t *h, const char *s, size_t max_chars) {
    if (!s) {
        put(h, DASH);
        return;
    }
    const char *run = s;
    size_t chars = 0;
    for (const char *p = s; *p; p++) {
        const unsigned char c = (unsigned char)*p;
        if ((c & 0xC0) != 0x80 && max_chars && chars++ == max_chars) {
            putn(h, run, (size_t)(p - run));
            put(h, "\xe2\x80\xa6");
            return;
        }
        const char *rep = c == '&'    ? "&amp;"
                          : c == '<'  ? "&lt;"
                          : c == '>'  ? "&gt;"
                          : c == '"'  ? "&quot;"
                          : c == '\'' ? "&#39;"
                          : c < 0x20  ? " "
                                      : NULL;
        if (!rep) continue;
        putn(h, run, (size_t)(p - run));
        put(h, rep);
        run = p + 1;
    }
    put(h, run);
}

static void esc(html_t *h, const char *s) { esc_max(h, s, 0); }

/* ---- the document, read defensively --------------------------------------------------------- */

/* The accessors below return NULL or NaN for a key that is missing, null or of another type: the
 * document is ours, but the page must still come out of a report a later version writes with
 * keys added, a partial document from a failed step, or a hand-edited file. jansson's own getters
 * accept NULL, so chains such as jnum(jobj(rep, "drive"), "duration_s") need no checks. */
static const json_t *jget(const json_t *o, const char *key) {
    return json_is_object(o) ? json_object_get(o, key) : NULL;
}

static double jnum(const json_t *o, const char *key) {
    const json_t *v = jget(o, key);
    return json_is_number(v) ? json_number_value(v) : NAN;
}

static const char *jstr(const json_t *o, const char *key) {
    return json_string_value(jget(o, key));
}

static const json_t *jarr(const json_t *o, const char *key) {
    const json_t *v = jget(o, key);
    return json_is_array(v) ? v : NULL;
}

static const json_t *jobj(const json_t *o, const char *key) {
    const json_t *v = jget(o, key);
    return json_is_object(v) ? v : NULL;
}

static double jat(const json_t *a, size_t i) {
    const json_t *v = json_array_get(a, i);
    return json_is_number(v) ? json_number_value(v) : NAN;
}

/* time_s returns o's `<stem>_s` (seconds from the epoch), else its `<stem>_ns` converted, else NaN
 */
static double time_s(const html_t *h, const json_t *o, const char *stem) {
    char key[48];
    snprintf(key, sizeof key, "%s_s", stem);
    const double s = jnum(o, key);
    if (isfinite(s)) return s;
    snprintf(key, sizeof key, "%s_ns", stem);
    const json_t *v = jget(o, key);
    if (!h->has_origin || !json_is_number(v)) return NAN;
    if (json_is_integer(v)) return (double)(json_integer_value(v) - h->origin_ns) / 1e9;
    return (json_number_value(v) - (double)h->origin_ns) / 1e9;
}

/* time_s2: time_s of the first stem present */
static double time_s2(const html_t *h, const json_t *o, const char *stem, const char *other) {
    const double s = time_s(h, o, stem);
    return isfinite(s) ? s : time_s(h, o, other);
}

/* ---- numbers: C locale formats only, a dash for what is not a finite number ------------------ */

typedef struct {
    char s[48];
} num_t;

/* A value that rounds to zero prints without its sign: "-0.000" would read as a finding. */
static void drop_negative_zero(num_t *n) {
    if (n->s[0] != '-') return;
    for (const char *p = n->s + 1; *p; p++)
        if (*p != '0' && *p != '.') return;
    memmove(n->s, n->s + 1, strlen(n->s));
}

/* fixed: `dec` decimals */
static num_t fix(double v, int dec) {
    num_t n;
    if (!isfinite(v)) {
        snprintf(n.s, sizeof n.s, "%s", DASH);
        return n;
    }
    if (fabs(v) >= 1e15)
        snprintf(n.s, sizeof n.s, "%.3e", v); /* no 300-digit cells */
    else
        snprintf(n.s, sizeof n.s, "%.*f", dec, v);
    drop_negative_zero(&n);
    return n;
}

/* sig: at least 3 significant digits (3 decimals from 1 to 10, more below 1, up to 6), fewer
 * decimals for large values; never an exponent */
static num_t sig(double v) {
    if (!isfinite(v) || v == 0) return fix(v, 0);
    const double a = fabs(v);
    int dec;
    if (a >= 1e5)
        dec = 0;
    else if (a >= 100)
        dec = 1;
    else if (a >= 10)
        dec = 2;
    else if (a >= 1)
        dec = 3;
    else {
        dec = 2 - (int)floor(log10(a));
        if (dec > 6) dec = 6;
    }
    return fix(v, dec);
}

/* integer: a JSON integer as is, another number rounded, anything else a dash */
static num_t jint(const json_t *o, const char *key) {
    const json_t *v = jget(o, key);
    num_t n;
    if (json_is_integer(v))
        snprintf(n.s, sizeof n.s, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
    else
        return fix(json_is_number(v) ? json_number_value(v) : NAN, 0);
    return n;
}

static num_t pct(double share) { return fix(share * 100, 1); }

/* ---- page structure -------------------------------------------------------------------------- */

/* absent_why finds why the document says a section does not apply ("absent", matched by the
 * section's name in the document: member_dt, not the page's id member-dt). NULL: not listed. */
static const char *absent_why(const html_t *h, const char *name) {
    for (size_t i = 0; i < json_array_size(h->absent); i++) {
        const json_t *a = json_array_get(h->absent, i);
        const char *s = jstr(a, "section");
        if (s && !strcmp(s, name)) return jstr(a, "why");
    }
    return NULL;
}

/* not_here: the sentence a section without data shows */
static void not_here(html_t *h, const char *name) {
    const char *why = absent_why(h, name);
    put(h, "<p class=\"absent\">Not in this drive: ");
    esc(h, why ? why : "the report holds no data for it");
    const size_t n = why ? strlen(why) : 0;
    put(h, n && why[n - 1] == '.' ? "</p>\n" : ".</p>\n");
}

/* Each section is a <section> with a fixed id (the test looks them up and a reader can link to
 * them) and an <h2>; the ids are constants, never data. */
static void sec_open(html_t *h, const char *id, const char *title) {
    pf(h, "<section id=\"%s\">\n<h2>%s</h2>\n", id, title);
}

static void sec_close(html_t *h) { put(h, "</section>\n"); }

/* more: the row a capped table ends with */
static void more_row(html_t *h, size_t n, size_t shown, int cols) {
    if (n > shown)
        pf(h, "<tr><td class=\"more\" colspan=\"%d\">\xe2\x80\xa6 %zu more</td></tr>\n", cols,
           n - shown);
}

/* th_row opens a table (in a horizontally scrolling wrapper, so a wide table never widens the
 * page) with its header; every table is closed with </tbody></table></div>. */
static void th_row(html_t *h, const char *const *cols, size_t n) {
    put(h, "<div class=\"tw\"><table><thead><tr>");
    for (size_t i = 0; i < n; i++) {
        /* a leading '#' marks a numeric (right-aligned) column */
        if (cols[i][0] == '#')
            pf(h, "<th class=\"n\">%s</th>", cols[i] + 1);
        else
            pf(h, "<th>%s</th>", cols[i]);
    }
    put(h, "</tr></thead><tbody>\n");
}

static void td(html_t *h, const char *s) {
    put(h, "<td>");
    esc(h, s);
    put(h, "</td>");
}

/* td_id: a cell of a long identifier (a clock, a relation), broken anywhere to fit */
static void td_id(html_t *h, const char *s) {
    put(h, "<td class=\"id\">");
    esc(h, s);
    put(h, "</td>");
}

static void tdn(html_t *h, num_t n) { pf(h, "<td class=\"n\">%s</td>", n.s); }

/* level_class maps a check level to its CSS class. Only the three known levels get a colour; any
 * other string is shown as text on grey, never pasted into the class attribute. */
static const char *level_class(const char *lv) {
    if (!lv) return "lv-NONE";
    if (!strcmp(lv, "OK")) return "lv-OK";
    if (!strcmp(lv, "WARN")) return "lv-WARN";
    if (!strcmp(lv, "ERROR")) return "lv-ERROR";
    return "lv-NONE";
}

/* The legend is HTML under the chart rather than SVG text: names are long (clock domains like
 * "sender:vehicle2/1002/generationDeltaTime") and HTML wraps them. Its swatches follow series():
 * the palette's colours solid, then dashed. */
static void legend(html_t *h, const char *const *names, size_t n) {
    put(h, "<ul class=\"legend\">");
    for (size_t i = 0; i < n; i++) {
        pf(h, "<li><i style=\"border-top:2px %s %s\"></i>", i < N_PALETTE ? "solid" : "dashed",
           PALETTE[i % N_PALETTE]);
        esc(h, names[i]);
        put(h, "</li>");
    }
    put(h, "</ul>\n");
}

/* ---- charts ---------------------------------------------------------------------------------- */

/* Charts are computed here and written as SVG in a viewBox, scaled by the browser to the column
 * width: no script, and what the page shows does not depend on a charting library's version.
 * Data coordinates are mapped into the plot area and clamped to it, so an outlier draws along
 * the edge instead of outside the figure; a value that is not finite breaks a line. */
typedef struct {
    double lo, hi;
} range_t;

static range_t rg_empty(void) {
    range_t r = {INFINITY, -INFINITY};
    return r;
}

/* VALUE_MAX bounds what a chart takes: ms, s, m and counts far below it; beyond, a value is noise
 * that would overflow the scaling */
#define VALUE_MAX 1e12

static void rg_add(range_t *r, double v) {
    if (!isfinite(v) || fabs(v) > VALUE_MAX) return;
    if (v < r->lo) r->lo = v;
    if (v > r->hi) r->hi = v;
}

static bool rg_ok(const range_t *r) { return r->lo <= r->hi; }

typedef struct {
    double w, h;           /* viewBox */
    double ml, mr, mt, mb; /* margins around the plot area */
    double x0, x1, y0, y1; /* data range shown */
    double xstep, ystep;   /* tick spacing (0: no ticks) */
} chart_t;

/* nice_step: a tick spacing of 1, 2 or 5 times a power of ten giving about n ticks over span. */
static double nice_step(double span, int n) {
    const double raw = span / n;
    const double mag = pow(10, floor(log10(raw)));
    const double norm = raw / mag;
    return (norm < 1.5 ? 1 : norm < 3 ? 2 : norm < 7 ? 5 : 10) * mag;
}

/* fit: a range that is not empty, widened to whole ticks when `widen` */
static void fit(range_t r, bool widen, int ticks, double *lo, double *hi, double *step) {
    if (!rg_ok(&r)) r.lo = 0, r.hi = 1;
    if (r.hi - r.lo < 1e-9 * (fabs(r.lo) + fabs(r.hi)) || r.hi == r.lo) {
        const double d = r.lo != 0 ? fabs(r.lo) * 0.1 : 1;
        r.lo -= d;
        r.hi += d;
    }
    *step = nice_step(r.hi - r.lo, ticks);
    if (widen) {
        r.lo = floor(r.lo / *step) * *step;
        r.hi = ceil(r.hi / *step) * *step;
    }
    *lo = r.lo;
    *hi = r.hi;
}

/* chart_init sizes a chart and fits its axes to the data ranges: the y axis always to whole ticks
 * (its labels then bound the data), the x axis to whole ticks only when `xwiden`: time axes keep
 * the drive's own span so timelines of several charts line up. */
static void chart_init(chart_t *c, double w, double h, range_t x, bool xwiden, range_t y) {
    memset(c, 0, sizeof *c);
    c->w = w;
    c->h = h;
    c->ml = 58;
    c->mr = 14;
    c->mt = 10;
    c->mb = 36;
    fit(x, xwiden, w >= 500 ? 8 : 5, &c->x0, &c->x1, &c->xstep);
    fit(y, true, h >= 200 ? 5 : 4, &c->y0, &c->y1, &c->ystep);
}

/* counts: y ticks on whole numbers */
static void chart_counts(chart_t *c) {
    if (c->ystep >= 1) return;
    c->ystep = 1;
    c->y0 = floor(c->y0);
    c->y1 = ceil(c->y1);
    if (c->y1 <= c->y0) c->y1 = c->y0 + 1;
}

static double cx(const chart_t *c, double x) {
    double v = c->ml + (x - c->x0) / (c->x1 - c->x0) * (c->w - c->ml - c->mr);
    if (!isfinite(v)) v = x > c->x0 ? c->w - c->mr : c->ml;
    return v < c->ml ? c->ml : v > c->w - c->mr ? c->w - c->mr : v;
}

static double cy(const chart_t *c, double y) {
    double v = c->h - c->mb - (y - c->y0) / (c->y1 - c->y0) * (c->h - c->mt - c->mb);
    if (!isfinite(v)) v = y > c->y0 ? c->mt : c->h - c->mb;
    return v < c->mt ? c->mt : v > c->h - c->mb ? c->h - c->mb : v;
}

/* tick_decimals: enough decimals for the tick spacing, no more (0.5 -> 1, 0.02 -> 2). */
static int tick_decimals(double step) {
    int d = step >= 1 ? 0 : (int)ceil(-log10(step) - 1e-9);
    return d > 6 ? 6 : d;
}

static void chart_title(html_t *h, const char *subject, const char *what) {
    if (subject) {
        esc(h, subject);
        put(h, ": ");
    }
    esc(h, what);
}

/* chart_begin opens the SVG titled "<subject>: <what>" (subject may be NULL): gridlines, axes
 * with tick labels, axis titles (with units) */
static void chart_begin(html_t *h, const chart_t *c, const char *subject, const char *what,
                        const char *xlab, const char *ylab) {
    pf(h, "<svg class=\"chart\" viewBox=\"0 0 %.0f %.0f\" role=\"img\" aria-label=\"", c->w, c->h);
    chart_title(h, subject, what);
    put(h, "\"><title>");
    chart_title(h, subject, what);
    put(h, "</title>\n");
    const double L = c->ml, R = c->w - c->mr, T = c->mt, B = c->h - c->mb;
    if (c->ystep > 0) {
        const int dec = tick_decimals(c->ystep);
        const double k0 = ceil(c->y0 / c->ystep - 1e-9), k1 = floor(c->y1 / c->ystep + 1e-9);
        for (int i = 0; i < 40 && k0 + i <= k1; i++) {
            const double k = k0 + i;
            const double y = cy(c, k * c->ystep);
            pf(h, "<line class=\"gl\" x1=\"%.1f\" x2=\"%.1f\" y1=\"%.1f\" y2=\"%.1f\"/>", L, R, y,
               y);
            pf(h, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">%s</text>\n", L - 4, y + 3.5,
               fix(k * c->ystep, dec).s);
        }
    }
    if (c->xstep > 0) {
        const int dec = tick_decimals(c->xstep);
        const double k0 = ceil(c->x0 / c->xstep - 1e-9), k1 = floor(c->x1 / c->xstep + 1e-9);
        for (int i = 0; i < 40 && k0 + i <= k1; i++) {
            const double k = k0 + i;
            const double x = cx(c, k * c->xstep);
            pf(h, "<line class=\"ax\" x1=\"%.1f\" x2=\"%.1f\" y1=\"%.1f\" y2=\"%.1f\"/>", x, x, B,
               B + 4);
            pf(h, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">%s</text>\n", x, B + 15,
               fix(k * c->xstep, dec).s);
        }
    }
    pf(h, "<path class=\"ax\" fill=\"none\" d=\"M%.1f %.1fV%.1fH%.1f\"/>\n", L, T, B, R);
    if (xlab) {
        pf(h, "<text class=\"al\" x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">", (L + R) / 2,
           c->h - 4);
        esc(h, xlab);
        put(h, "</text>\n");
    }
    if (ylab) {
        pf(h,
           "<text class=\"al\" transform=\"translate(12 %.1f) rotate(-90)\" "
           "text-anchor=\"middle\">",
           (T + B) / 2);
        esc(h, ylab);
        put(h, "</text>\n");
    }
}

static void chart_end(html_t *h) { put(h, "</svg>\n"); }

/* rect_open starts a bar from data (xa, ya) to (xb, yb) whose <title> the caller writes */
static void rect_open_w(html_t *h, const chart_t *c, double xa, double xb, double ya, double yb,
                        const char *fill, double opacity, double min_w) {
    double x = cx(c, xa), x2 = cx(c, xb), y = cy(c, yb), y2 = cy(c, ya);
    if (x2 < x) {
        const double t = x;
        x = x2;
        x2 = t;
    }
    if (y2 < y) {
        const double t = y;
        y = y2;
        y2 = t;
    }
    if (x2 - x < min_w) {
        x = (x + x2 - min_w) / 2;
        x2 = x + min_w;
    }
    pf(h, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"%s\"", x, y, x2 - x,
       y2 - y, fill);
    if (opacity < 1) pf(h, " fill-opacity=\"%.2f\"", opacity);
    put(h, "><title>");
}

static void rect_open(html_t *h, const chart_t *c, double xa, double xb, double ya, double yb,
                      const char *fill, double opacity) {
    rect_open_w(h, c, xa, xb, ya, yb, fill, opacity, 1);
}

static void rect_close(html_t *h) { put(h, "</title></rect>\n"); }

/* series: one line of a chart through (xs[i], ys[i]) (a NULL array stands for the index), a
 * <path> with its name as <title> (shown on hover). A point that is not finite breaks the line;
 * a single point between gaps gets a zero-length segment, which round caps draw as a dot. */
static void series(html_t *h, const chart_t *c, const json_t *xs, const json_t *ys, size_t idx,
                   const char *name) {
    size_t n = xs ? json_array_size(xs) : json_array_size(ys);
    if (xs && ys && json_array_size(ys) < n) n = json_array_size(ys);
    pf(h,
       "<path fill=\"none\" stroke=\"%s\" stroke-width=\"1.6\" stroke-linejoin=\"round\" "
       "stroke-linecap=\"round\"%s d=\"",
       PALETTE[idx % N_PALETTE], idx >= N_PALETTE ? " stroke-dasharray=\"5 3\"" : "");
    size_t seg = 0;
    for (size_t i = 0; i < n; i++) {
        const double x = xs ? jat(xs, i) : (double)i, y = ys ? jat(ys, i) : (double)i;
        if (!isfinite(x) || !isfinite(y) || fabs(x) > VALUE_MAX || fabs(y) > VALUE_MAX) {
            if (seg == 1) put(h, "l0 0");
            seg = 0;
            continue;
        }
        pf(h, "%s%.1f %.1f", seg ? "L" : "M", cx(c, x), cy(c, y));
        seg++;
    }
    if (seg == 1) put(h, "l0 0");
    put(h, "\"><title>");
    esc(h, name);
    put(h, "</title></path>\n");
}

static range_t rg_array(const json_t *a) {
    range_t r = rg_empty();
    for (size_t i = 0; i < json_array_size(a); i++) rg_add(&r, jat(a, i));
    return r;
}

/* bin_bounds: the start of bin k of `bins` (`key` its start) and its end: the next bin's start;
 * for the last, the previous bin's width, else `last_end` */
static void bin_bounds(const html_t *h, const json_t *bins, size_t k, const char *stem,
                       double last_end, double *a, double *b) {
    const size_t n = json_array_size(bins);
    *a = time_s(h, json_array_get(bins, k), stem);
    if (k + 1 < n) {
        *b = time_s(h, json_array_get(bins, k + 1), stem);
    } else if (k > 0) {
        *b = *a + (*a - time_s(h, json_array_get(bins, k - 1), stem));
    } else {
        *b = isfinite(last_end) && last_end > *a ? last_end : *a + 1;
    }
}

/* ---- sections -------------------------------------------------------------------------------- */

/* header writes the document head with the whole style sheet, the page title and the section
 * navigation. System fonts only (DejaVu Sans is what Debian's chromium finds without network);
 * the colours are Okabe & Ito's, the verdict's in text as well as colour. */
static void header(html_t *h, const json_t *rep) {
    put(h, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
           "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
           "<meta name=\"color-scheme\" content=\"light\">\n<title>v2xsync QA report: ");
    esc(h, jstr(rep, "scenario"));
    put(h, "</title>\n<style>\n"
           ":root{--ok:#009E73;--warn:#E69F00;--err:#D55E00;--fg:#1b1e23;--mut:#5f6670;"
           "--ln:#d9dce1;--bg2:#f4f5f7}\n"
           "*{box-sizing:border-box}\n"
           "body{margin:0;background:#fff;color:var(--fg);font:14px/1.45 system-ui,-apple-system,"
           "\"Segoe UI\",Roboto,\"Noto Sans\",\"DejaVu Sans\",sans-serif}\n"
           "main{max-width:1200px;margin:0 auto;padding:12px 24px 48px}\n"
           "h1{font-size:22px;margin:8px 0 2px}h2{font-size:18px;margin:0 0 8px;padding-bottom:3px;"
           "border-bottom:2px solid var(--ln)}h3{font-size:14px;margin:14px 0 4px}\n"
           "section{margin:30px 0}p{margin:6px 0}.sub{color:var(--mut);margin:0 0 8px}\n"
           "nav{font-size:13px;margin:6px 0 0}nav a{margin-right:14px;color:#0072B2;"
           "text-decoration:none}\n"
           ".banner{display:flex;align-items:baseline;gap:18px;padding:12px 20px;border-radius:6px;"
           "margin:4px 0 12px}.banner b{font-size:32px;letter-spacing:1px}\n"
           ".lv-OK{background:var(--ok);color:#fff}.lv-WARN{background:var(--warn);color:#000}"
           ".lv-ERROR{background:var(--err);color:#fff}.lv-NONE{background:var(--bg2);color:#000}\n"
           ".tag{display:inline-block;white-space:nowrap;min-width:52px;text-align:center;padding:"
           "0 6px;"
           "border-radius:3px;font-weight:600;font-size:12px}\n"
           "table{border-collapse:collapse;width:100%;font-size:13px;margin:6px 0 12px;"
           "font-variant-numeric:tabular-nums}\n"
           "th,td{padding:3px 7px;border-bottom:1px solid var(--ln);text-align:left;"
           "vertical-align:top;overflow-wrap:break-word}th{background:var(--bg2);font-weight:600}\n"
           ".tw{overflow-x:auto}td.id{overflow-wrap:anywhere;min-width:9em}\n"
           ".n{text-align:right;white-space:nowrap}tbody tr:nth-child(even){background:#fafbfc}\n"
           "td.more,.more{color:var(--mut);font-style:italic}.absent{color:var(--mut);"
           "font-style:italic}\n"
           ".path{font-family:ui-monospace,\"DejaVu Sans Mono\",monospace;font-size:12px;"
           "word-break:break-all}\n"
           "dl.kv{display:grid;grid-template-columns:max-content 1fr;gap:3px 18px;margin:6px 0}"
           "dl.kv dt{color:var(--mut)}dl.kv dd{margin:0}\n"
           ".grid{display:grid;grid-template-columns:repeat(auto-fill,minmax(340px,1fr));"
           "gap:14px 20px}.wide{display:grid;grid-template-columns:repeat(auto-fill,"
           "minmax(540px,1fr));gap:14px 20px}\n"
           "figure{margin:0}figcaption{font-size:12px;color:var(--mut);margin:2px 0}\n"
           "figcaption b{color:var(--fg)}\n"
           ".card{border:1px solid var(--ln);border-radius:6px;padding:8px 12px}"
           ".card h3{margin:2px 0 4px}\n"
           "svg.chart{display:block;width:100%;height:auto;overflow:visible}\n"
           "svg text{font-size:11px;fill:#333}svg text.al{fill:#555}\n"
           "svg rect{shape-rendering:crispEdges}svg .gl{stroke:#e7e9ec}svg .ax{stroke:#8a9099}\n"
           ".legend{list-style:none;padding:0;margin:2px 0 6px;font-size:12px;display:flex;"
           "flex-wrap:wrap;gap:2px 16px}.legend i{display:inline-block;width:18px;height:0;"
           "margin-right:5px;vertical-align:middle}\n"
           "details{margin:6px 0}summary{cursor:pointer;color:var(--mut)}\n"
           "footer{color:var(--mut);font-size:12px;border-top:1px solid var(--ln);"
           "padding-top:8px}\n"
           "</style>\n</head>\n<body>\n<main>\n<header>\n<h1>QA report: ");
    esc(h, jstr(rep, "scenario"));
    put(h, "</h1>\n<p class=\"sub\">sync output <span class=\"path\">");
    esc(h, jstr(rep, "folder"));
    put(h, "</span></p>\n<nav><a href=\"#verdict\">Verdict</a><a href=\"#drive\">Drive</a>"
           "<a href=\"#streams\">Streams</a><a href=\"#clocks\">Clocks</a>"
           "<a href=\"#member-dt\">Member \xce\x94t</a><a href=\"#agent-pairs\">Agent pairs</a>"
           "<a href=\"#links\">V2X links</a><a href=\"#v2x-pairs\">V2X pairs</a>"
           "<a href=\"#frames\">Frames</a></nav>\n</header>\n");
}

/* sec_verdict: the check result first, since it is what a reader opens the page for: a banner
 * with the level, then every check with its worst value, the limits it was held to and what the
 * value is of. */
static void sec_verdict(html_t *h, const json_t *rep) {
    const json_t *v = jobj(rep, "verdict"), *checks = jarr(rep, "checks");
    const char *lv = jstr(v, "level");
    sec_open(h, "verdict", "Verdict");
    pf(h, "<div class=\"banner %s\"><b>", level_class(lv));
    esc(h, lv ? lv : "UNKNOWN");
    pf(h, "</b><span>%s error(s), %s warning(s) \xc2\xb7 thresholds: ", jint(v, "errors").s,
       jint(v, "warnings").s);
    const char *cfg = jstr(v, "config");
    if (cfg) {
        put(h, "<span class=\"path\">");
        esc(h, cfg);
        put(h, "</span>");
    } else {
        put(h, "the defaults");
    }
    put(h, "</span></div>\n");
    const size_t n = json_array_size(checks);
    if (!n) {
        put(h, "<p class=\"absent\">The report lists no checks.</p>\n");
        sec_close(h);
        return;
    }
    static const char *const cols[] = {"check",     "level", "#value", "#warn at",
                                       "#error at", "unit",  "of",     "message"};
    th_row(h, cols, sizeof cols / sizeof cols[0]);
    for (size_t i = 0; i < n && i < MAX_ROWS; i++) {
        const json_t *c = json_array_get(checks, i);
        const char *l = jstr(c, "level");
        put(h, "<tr>");
        td(h, jstr(c, "name"));
        pf(h, "<td><span class=\"tag %s\">", level_class(l));
        esc(h, l);
        put(h, "</span></td>");
        tdn(h, sig(jnum(c, "value")));
        tdn(h, sig(jnum(c, "warn")));
        tdn(h, sig(jnum(c, "error")));
        td(h, jstr(c, "unit"));
        td(h, jstr(c, "subject"));
        td(h, jstr(c, "message"));
        put(h, "</tr>\n");
    }
    more_row(h, n, MAX_ROWS, 8);
    put(h, "</tbody></table></div>\n");
    sec_close(h);
}

/* sec_drive: what was synced (agents, sources, span, frames) and, as a list, every section the
 * document says does not apply, with why: a drive without V2X or camera says so once here and
 * again where the section would be. */
static void sec_drive(html_t *h, const json_t *rep) {
    const json_t *d = jobj(rep, "drive");
    sec_open(h, "drive", "The drive");
    put(h, "<dl class=\"kv\">\n<dt>Scenario</dt><dd>");
    esc(h, jstr(rep, "scenario"));
    put(h, "</dd>\n<dt>Agents</dt><dd>");
    const json_t *agents = jarr(d, "agents");
    for (size_t i = 0; i < json_array_size(agents); i++) {
        const json_t *a = json_array_get(agents, i);
        put(h, i ? ", " : "");
        esc(h, jstr(a, "id"));
        if (jstr(a, "type")) {
            put(h, " (");
            esc(h, jstr(a, "type"));
            put(h, ")");
        }
    }
    if (!json_array_size(agents)) put(h, DASH);
    pf(h, "</dd>\n<dt>Sensors</dt><dd>%s source(s): ", jint(d, "sources").s);
    const json_t *sensors = jarr(d, "sensors");
    for (size_t i = 0; i < json_array_size(sensors) && i < MAX_ROWS; i++) {
        put(h, i ? ", " : "");
        esc(h, json_string_value(json_array_get(sensors, i)));
    }
    put(h, "</dd>\n<dt>Start</dt><dd>");
    esc(h, jstr(d, "start"));
    put(h, "</dd>\n<dt>End</dt><dd>");
    esc(h, jstr(d, "end"));
    pf(h, "</dd>\n<dt>Duration</dt><dd>%s s</dd>\n", fix(jnum(d, "duration_s"), 3).s);
    pf(h, "<dt>Frames</dt><dd>%s</dd>\n", jint(d, "frames").s);
    pf(h, "<dt>Partial frames</dt><dd>%s (%s %%)</dd>\n", jint(d, "partial_frames").s,
       pct(jnum(d, "partial_share")).s);
    pf(h, "<dt>Damaged units</dt><dd>%s</dd>\n", jint(d, "damaged_units").s);
    pf(h, "<dt>V2X messages</dt><dd>%s (one per message and receiver)</dd>\n",
       jint(d, "v2x_messages").s);
    const json_t *b = jobj(rep, "bundle");
    if (b) {
        put(h, "<dt>Bundle</dt><dd>");
        const char *key;
        const json_t *val;
        bool first = true;
        json_object_foreach((json_t *)b, key, val) {
            if (!json_is_number(val) && !json_is_string(val)) continue;
            put(h, first ? "" : ", ");
            first = false;
            esc(h, key);
            put(h, ": ");
            if (json_is_string(val))
                esc(h, json_string_value(val));
            else
                put(h, json_is_integer(val) ? jint(b, key).s : sig(json_number_value(val)).s);
        }
        put(h, "</dd>\n");
    }
    put(h, "<dt>Tool</dt><dd>");
    esc(h, jstr(rep, "tool"));
    put(h, "</dd>\n</dl>\n");
    const size_t n = json_array_size(h->absent);
    if (n) {
        put(h, "<h3>Not in this drive</h3>\n<ul>\n");
        for (size_t i = 0; i < n && i < MAX_ROWS; i++) {
            const json_t *a = json_array_get(h->absent, i);
            put(h, "<li><b>");
            esc(h, jstr(a, "section"));
            put(h, "</b>: ");
            esc(h, jstr(a, "why"));
            put(h, "</li>\n");
        }
        put(h, "</ul>\n");
    } else {
        put(h, "<p>Every section applies to this drive.</p>\n");
    }
    sec_close(h);
}

/* sec_streams: each source's record timing as run.json measured it (on its own times: see
 * timing_of), then the damaged units with their file positions, then the largest gaps folded
 * away (they can be many and are rarely the first thing to read). */
static void sec_streams(html_t *h, const json_t *rep) {
    const json_t *st = jarr(rep, "streams");
    const size_t n = json_array_size(st);
    sec_open(h, "streams", "Streams");
    static const char *const kinds[] = {"camera", "lidar", "v2x"};
    for (size_t k = 0; k < 3; k++) {
        const char *why = absent_why(h, kinds[k]);
        if (!why) continue;
        pf(h, "<p class=\"absent\">No %s in this drive: ", kinds[k]);
        esc(h, why);
        put(h, "</p>\n");
    }
    if (!n) {
        not_here(h, "streams");
        sec_close(h);
        return;
    }
    static const char *const cols[] = {
        "stream",           "kind",    "#records",        "#rate Hz",    "#median interval ms",
        "#jitter ms",       "#gaps",   "#largest gap ms", "#duplicates", "#out of order",
        "#max backstep ms", "#damaged"};
    th_row(h, cols, sizeof cols / sizeof cols[0]);
    size_t damaged = 0, gaps = 0;
    for (size_t i = 0; i < n && i < MAX_ROWS; i++) {
        const json_t *s = json_array_get(st, i);
        put(h, "<tr><td>");
        esc(h, jstr(s, "name"));
        put(h, "<br><span class=\"path\">");
        esc(h, jstr(s, "path"));
        put(h, "</span></td>");
        td(h, jstr(s, "kind"));
        tdn(h, jint(s, "records"));
        tdn(h, sig(jnum(s, "rate_hz")));
        tdn(h, sig(jnum(s, "median_interval_ms")));
        tdn(h, sig(jnum(s, "jitter_ms")));
        tdn(h, jint(s, "gaps"));
        tdn(h, sig(jnum(s, "largest_gap_ms")));
        tdn(h, jint(s, "duplicates"));
        tdn(h, jint(s, "out_of_order"));
        tdn(h, sig(jnum(s, "max_backstep_ms")));
        tdn(h, jint(s, "damaged"));
        put(h, "</tr>\n");
        damaged += json_array_size(jarr(s, "damaged_first"));
        gaps += json_array_size(jarr(s, "largest_gaps"));
    }
    more_row(h, n, MAX_ROWS, 12);
    put(h, "</tbody></table></div>\n<p class=\"sub\">Timing is of each stream's own times (");
    for (size_t i = 0; i < n && i < 8; i++) {
        const json_t *s = json_array_get(st, i);
        if (i) put(h, "; ");
        esc(h, jstr(s, "name"));
        put(h, ": ");
        esc(h, jstr(s, "timing_of"));
    }
    put(h, n > 8 ? "; \xe2\x80\xa6)</p>\n" : ")</p>\n");

    put(h, "<h3>Damaged units</h3>\n");
    if (!damaged) {
        put(h, "<p>No damaged unit listed.</p>\n");
    } else {
        static const char *const dc[] = {"stream", "file", "#unit", "#byte offset", "message"};
        th_row(h, dc, 5);
        size_t shown = 0;
        for (size_t i = 0; i < n; i++) {
            const json_t *s = json_array_get(st, i), *df = jarr(s, "damaged_first");
            for (size_t j = 0; j < json_array_size(df) && shown < MAX_ROWS; j++, shown++) {
                const json_t *w = json_array_get(df, j);
                put(h, "<tr>");
                td(h, jstr(s, "name"));
                put(h, "<td class=\"path\">");
                esc(h, jstr(w, "file"));
                put(h, "</td>");
                tdn(h, jint(w, "unit"));
                tdn(h, jint(w, "byte_offset"));
                td(h, jstr(w, "message"));
                put(h, "</tr>\n");
            }
        }
        more_row(h, damaged, shown, 5);
        put(h,
            "</tbody></table></div>\n<p class=\"sub\">Each stream lists its first damaged units; "
            "the table above counts them all.</p>\n");
    }
    if (gaps) {
        pf(h, "<details><summary>Largest gaps (%zu listed)</summary>\n", gaps);
        static const char *const gc[] = {"stream", "#at s", "#length ms", "#unit"};
        th_row(h, gc, 4);
        size_t shown = 0;
        for (size_t i = 0; i < n; i++) {
            const json_t *s = json_array_get(st, i), *g = jarr(s, "largest_gaps");
            for (size_t j = 0; j < json_array_size(g) && shown < MAX_ROWS; j++, shown++) {
                const json_t *e = json_array_get(g, j);
                put(h, "<tr>");
                td(h, jstr(s, "name"));
                tdn(h, fix(time_s(h, e, "start"), 3));
                tdn(h, sig(jnum(e, "length_ms")));
                tdn(h, jint(e, "unit"));
                put(h, "</tr>\n");
            }
        }
        more_row(h, gaps, shown, 4);
        put(h, "</tbody></table></div>\n</details>\n");
    }
    sec_close(h);
}

/* clock_plot: for one clock domain, the relations that end at it: each relation's envelope
 * residual against the solved models over the drive. A flat line near zero is a relation the
 * models explain; a drift or a step is one they do not (a jump, a rate change, a wrong floor). */
static void clock_plot(html_t *h, const json_t *rels, const char *to) {
    range_t xr = rg_empty(), yr = rg_empty();
    const char *names[MAX_SERIES];
    char labels[MAX_SERIES][160];
    size_t ns = 0, total = 0;
    for (size_t i = 0; i < json_array_size(rels); i++) {
        const json_t *r = json_array_get(rels, i), *env = jobj(r, "envelope");
        const char *t = jstr(r, "to");
        if (!t || strcmp(t, to)) continue;
        total++;
        if (ns == MAX_SERIES) continue;
        const range_t a = rg_array(jarr(env, "t_s")), b = rg_array(jarr(env, "model_resid_ms"));
        rg_add(&xr, a.lo), rg_add(&xr, a.hi), rg_add(&yr, b.lo), rg_add(&yr, b.hi);
        const char *from = jstr(r, "from"), *dc = jstr(r, "delay_class");
        snprintf(labels[ns], sizeof labels[ns], "%s (%s)", from ? from : "?", dc ? dc : "?");
        names[ns] = labels[ns];
        ns++;
    }
    if (!ns) return;
    put(h, "<figure>\n");
    chart_t c;
    chart_init(&c, 560, 230, xr, false, yr);
    chart_begin(h, &c, to, "envelope residual of the model of the relations into it",
                "t (s from the epoch)", "model residual (ms)");
    if (c.y0 < 0 && c.y1 > 0)
        pf(h,
           "<line class=\"ax\" stroke-dasharray=\"3 3\" x1=\"%.1f\" x2=\"%.1f\" y1=\"%.1f\" "
           "y2=\"%.1f\"/>\n",
           c.ml, c.w - c.mr, cy(&c, 0), cy(&c, 0));
    size_t k = 0;
    for (size_t i = 0; i < json_array_size(rels) && k < ns; i++) {
        const json_t *r = json_array_get(rels, i), *env = jobj(r, "envelope");
        const char *t = jstr(r, "to");
        if (!t || strcmp(t, to)) continue;
        series(h, &c, jarr(env, "t_s"), jarr(env, "model_resid_ms"), k, names[k]);
        k++;
    }
    chart_end(h);
    legend(h, names, ns);
    put(h, "<figcaption><b>");
    esc(h, to);
    pf(h, "</b>: %zu relation(s)%s</figcaption>\n", total, total > ns ? " (the first shown)" : "");
    put(h, "</figure>\n");
}

/* sec_clocks: every clock domain's estimate with its uncertainty and what pins it, the relations
 * (folded), one residual plot per domain that relations end at, the impossible messages (received
 * before they were sent on the solved timeline) with their positions, and the rejected hints. */
static void sec_clocks(html_t *h, const json_t *rep) {
    const json_t *c = jobj(rep, "clocks");
    sec_open(h, "clocks", "Clocks");
    if (!c) {
        not_here(h, "clocks");
        sec_close(h);
        return;
    }
    put(h, "<p>Reference: ");
    esc(h, jstr(c, "reference"));
    put(h, " \xc2\xb7 epoch ");
    esc(h, jstr(c, "epoch"));
    pf(h, " \xc2\xb7 hints rejected: %s</p>\n", jint(c, "hints_rejected").s);
    const json_t *doms = jarr(c, "domains"), *rels = jarr(c, "relations");
    const size_t nd = json_array_size(doms);
    if (nd) {
        static const char *const cols[] = {"clock",
                                           "kind",
                                           "method",
                                           "#offset ms",
                                           "#\xc2\xb1 sd ms",
                                           "#drift ppm",
                                           "#\xc2\xb1 sd ppm",
                                           "pinned by",
                                           "limited by",
                                           "#jumps",
                                           "steps",
                                           "hint"};
        th_row(h, cols, sizeof cols / sizeof cols[0]);
        for (size_t i = 0; i < nd && i < MAX_ROWS; i++) {
            const json_t *d = json_array_get(doms, i), *steps = jarr(d, "steps");
            put(h, "<tr>");
            td_id(h, jstr(d, "name"));
            td(h, jstr(d, "kind"));
            td(h, jstr(d, "method"));
            tdn(h, sig(jnum(d, "offset_ms")));
            tdn(h, sig(jnum(d, "offset_sd_ms")));
            tdn(h, sig(jnum(d, "drift_ppm")));
            tdn(h, sig(jnum(d, "drift_sd_ppm")));
            td(h, jstr(d, "identifiability"));
            td_id(h, jstr(d, "limited_by"));
            tdn(h, jint(d, "jumps"));
            put(h, "<td>");
            for (size_t j = 0; j < json_array_size(steps) && j < 10; j++) {
                const json_t *s = json_array_get(steps, j);
                pf(h, "%sat %s s: %s ms", j ? "<br>" : "", fix(jnum(s, "at_s"), 3).s,
                   sig(jnum(s, "step_ms")).s);
            }
            if (json_array_size(steps) > 10)
                pf(h, "<br>\xe2\x80\xa6 %zu more", json_array_size(steps) - 10);
            if (!json_array_size(steps)) put(h, DASH);
            put(h, "</td><td>");
            esc(h, jstr(d, "hint"));
            if (json_is_true(jget(d, "hint_rejected"))) put(h, " <b>(rejected)</b>");
            put(h, "</td></tr>\n");
        }
        more_row(h, nd, MAX_ROWS, 12);
        put(h, "</tbody></table></div>\n");
    } else {
        put(h, "<p class=\"absent\">No clock domain.</p>\n");
    }
    const size_t nr = json_array_size(rels);
    if (nr) {
        pf(h, "<details><summary>Relations (%zu)</summary>\n", nr);
        static const char *const rc[] = {
            "from",      "to",    "delay class", "#samples", "#windows below floor",
            "#floor ms", "floor", "#residual ms"};
        th_row(h, rc, 8);
        for (size_t i = 0; i < nr && i < MAX_ROWS; i++) {
            const json_t *r = json_array_get(rels, i);
            put(h, "<tr>");
            td_id(h, jstr(r, "from"));
            td_id(h, jstr(r, "to"));
            td(h, jstr(r, "delay_class"));
            tdn(h, jint(r, "samples"));
            tdn(h, jint(r, "windows_below"));
            tdn(h, sig(jnum(r, "floor_ms")));
            td(h, jstr(r, "floor"));
            tdn(h, sig(jnum(r, "residual_ms")));
            put(h, "</tr>\n");
        }
        more_row(h, nr, MAX_ROWS, 8);
        put(h, "</tbody></table></div>\n</details>\n");
        put(h, "<h3>Residuals of the relations over time</h3>\n<div class=\"wide\">\n");
        size_t plots = 0;
        for (size_t i = 0; i < nr && plots < MAX_CHARTS; i++) {
            const char *to = jstr(json_array_get(rels, i), "to");
            bool seen = !to;
            for (size_t j = 0; j < i && !seen; j++) {
                const char *t = jstr(json_array_get(rels, j), "to");
                seen = t && !strcmp(t, to);
            }
            if (seen) continue;
            clock_plot(h, rels, to);
            plots++;
        }
        put(h, "</div>\n");
    }
    const json_t *im = jobj(c, "impossible_messages"), *first = jarr(im, "first");
    pf(h, "<h3>Impossible messages: %s</h3>\n", jint(im, "count").s);
    if (json_array_size(first)) {
        static const char *const ic[] = {"file", "#record", "#byte offset", "#latency ms"};
        th_row(h, ic, 4);
        for (size_t i = 0; i < json_array_size(first) && i < MAX_ROWS; i++) {
            const json_t *m = json_array_get(first, i);
            put(h, "<tr><td class=\"path\">");
            esc(h, jstr(m, "file"));
            put(h, "</td>");
            tdn(h, jint(m, "record"));
            tdn(h, jint(m, "byte_offset"));
            tdn(h, sig(jnum(m, "latency_ns") / 1e6));
            put(h, "</tr>\n");
        }
        more_row(h, json_array_size(first), MAX_ROWS, 4);
        put(h, "</tbody></table></div>\n");
    } else {
        put(h, "<p>None listed: no message arrived before it was sent.</p>\n");
    }
    pf(h, "<h3>Hints rejected: %s</h3>\n<p>", jint(c, "hints_rejected").s);
    size_t rejected = 0;
    for (size_t i = 0; i < nd; i++) {
        const json_t *d = json_array_get(doms, i);
        if (!json_is_true(jget(d, "hint_rejected"))) continue;
        put(h, rejected++ ? ", " : "");
        esc(h, jstr(d, "name"));
        put(h, " (");
        esc(h, jstr(d, "hint"));
        put(h, ")");
    }
    put(h, rejected ? "</p>\n" : "No clock's hint was rejected.</p>\n");
    sec_close(h);
}

/* dt_hist: the histogram of member dt as the document bins it (counts from `from` in `bin` wide
 * bins; dashed lines at +-tol). Values outside its range are only counted (in the caption), never
 * drawn at the edge as if they were inside. */
static void dt_hist(html_t *h, const json_t *hist, const char *subject, double tol) {
    const json_t *counts = jarr(hist, "counts");
    const double from = jnum(hist, "from"), bin = jnum(hist, "bin");
    const size_t n = json_array_size(counts);
    if (!n || !isfinite(from) || !(bin > 0)) {
        put(h, "<p class=\"absent\">No member in the histogram.</p>\n");
        return;
    }
    range_t xr = rg_empty(), yr = rg_empty();
    rg_add(&xr, from);
    rg_add(&xr, from + (double)n * bin);
    rg_add(&yr, 0);
    rg_add(&yr, rg_array(counts).hi);
    chart_t c;
    chart_init(&c, 360, 190, xr, false, yr);
    chart_counts(&c);
    chart_begin(h, &c, subject, "member \xce\x94t histogram", "member t \xe2\x88\x92 frame t (ms)",
                "members");
    for (size_t k = 0; k < n && k < 1000; k++) {
        const double v = jat(counts, k), a = from + (double)k * bin;
        if (!(v > 0)) continue;
        rect_open(h, &c, a, a + bin, 0, v, C_GOOD, 0.85);
        pf(h, "%s to %s ms: %s", sig(a).s, sig(a + bin).s, fix(v, 0).s);
        rect_close(h);
    }
    for (int s = -1; s <= 1 && isfinite(tol) && tol > 0; s += 2) {
        const double x = s * tol;
        if (x < c.x0 || x > c.x1) continue;
        pf(h,
           "<line stroke=\"%s\" stroke-dasharray=\"4 3\" x1=\"%.1f\" x2=\"%.1f\" y1=\"%.1f\" "
           "y2=\"%.1f\"><title>tolerance %s ms</title></line>\n",
           C_BAD, cx(&c, x), cx(&c, x), c.mt, c.h - c.mb, sig(x).s);
    }
    chart_end(h);
}

static void dt_caption(html_t *h, const json_t *q, const json_t *hist) {
    pf(h, "|\xce\x94t| p50 %s \xc2\xb7 p95 %s \xc2\xb7 max %s ms", sig(jnum(q, "p50")).s,
       sig(jnum(q, "p95")).s, sig(jnum(q, "max")).s);
    const double below = jnum(hist, "below"), above = jnum(hist, "above");
    if (below > 0 || above > 0)
        pf(h, " \xc2\xb7 outside the chart: %s below, %s above", fix(below, 0).s, fix(above, 0).s);
}

/* sec_member_dt: how far each member is from its frame's time, per stream and per pair of streams
 * (the pair's spread is what a fusion of the two sees). */
static void sec_member_dt(html_t *h, const json_t *rep) {
    const json_t *m = jobj(rep, "member_dt");
    const json_t *st = jarr(m, "streams"), *pairs = jarr(m, "pairs");
    sec_open(h, "member-dt", "Member \xce\x94t to the frame time");
    if (!json_array_size(st) && !json_array_size(pairs)) {
        not_here(h, "member_dt");
        sec_close(h);
        return;
    }
    put(h, "<p class=\"sub\">Histograms of each member's time minus its frame's time (members "
           "taken), per stream and per pair of streams (b \xe2\x88\x92 a); dashed: the stream's "
           "tolerance.</p>\n<h3>Per stream</h3>\n<div class=\"grid\">\n");
    for (size_t i = 0; i < json_array_size(st) && i < MAX_CHARTS; i++) {
        const json_t *s = json_array_get(st, i);
        put(h, "<figure>\n");
        dt_hist(h, jobj(s, "hist_ms"), jstr(s, "name"), jnum(s, "tolerance_ms"));
        put(h, "<figcaption><b>");
        esc(h, jstr(s, "name"));
        pf(h, "</b>%s: %s members, %s missing, tolerance %s ms<br>",
           json_is_true(jget(s, "reference")) ? " (reference)" : "", jint(s, "members").s,
           jint(s, "missing").s, sig(jnum(s, "tolerance_ms")).s);
        dt_caption(h, jobj(s, "abs_ms"), jobj(s, "hist_ms"));
        put(h, "</figcaption>\n</figure>\n");
    }
    put(h, "</div>\n");
    if (json_array_size(st) > MAX_CHARTS)
        pf(h, "<p class=\"more\">\xe2\x80\xa6 %zu more streams</p>\n",
           json_array_size(st) - MAX_CHARTS);
    if (json_array_size(pairs)) {
        put(h, "<h3>Per pair of streams</h3>\n<div class=\"grid\">\n");
        for (size_t i = 0; i < json_array_size(pairs) && i < MAX_CHARTS; i++) {
            const json_t *p = json_array_get(pairs, i);
            const char *a = jstr(p, "a"), *b = jstr(p, "b");
            char title[300];
            snprintf(title, sizeof title, "%s \xe2\x88\x92 %s", b ? b : "?", a ? a : "?");
            put(h, "<figure>\n");
            dt_hist(h, jobj(p, "hist_ms"), title, NAN);
            put(h, "<figcaption><b>");
            esc(h, b);
            put(h, " \xe2\x88\x92 ");
            esc(h, a);
            pf(h, "</b>: %s frames<br>", jint(p, "frames").s);
            dt_caption(h, jobj(p, "abs_ms"), jobj(p, "hist_ms"));
            put(h, "</figcaption>\n</figure>\n");
        }
        put(h, "</div>\n");
        if (json_array_size(pairs) > MAX_CHARTS)
            pf(h, "<p class=\"more\">\xe2\x80\xa6 %zu more pairs</p>\n",
               json_array_size(pairs) - MAX_CHARTS);
    }
    sec_close(h);
}

/* sec_agent_pairs: the clock offset between each pair of agents over the drive. One chart holds
 * them all as asked; offsets seconds apart flatten each other there, so a table gives the change
 * over the drive and each pair is drawn again on its own scale. */
static void sec_agent_pairs(html_t *h, const json_t *rep) {
    const json_t *ap = jarr(rep, "agent_pairs");
    const size_t n = json_array_size(ap);
    sec_open(h, "agent-pairs", "Clock offsets between agents");
    if (!n) {
        not_here(h, "agent_pairs");
        sec_close(h);
        return;
    }
    const size_t ns = n < MAX_SERIES ? n : MAX_SERIES;
    range_t xr = rg_empty(), yr = rg_empty();
    char labels[MAX_SERIES][160];
    const char *names[MAX_SERIES];
    for (size_t i = 0; i < ns; i++) {
        const json_t *p = json_array_get(ap, i);
        const range_t a = rg_array(jarr(p, "t_s")), b = rg_array(jarr(p, "offset_ms"));
        rg_add(&xr, a.lo), rg_add(&xr, a.hi), rg_add(&yr, b.lo), rg_add(&yr, b.hi);
        rg_add(&yr, jnum(p, "two_way_offset_ms"));
        snprintf(labels[i], sizeof labels[i], "%s \xe2\x88\x92 %s",
                 jstr(p, "b") ? jstr(p, "b") : "?", jstr(p, "a") ? jstr(p, "a") : "?");
        names[i] = labels[i];
    }
    put(h, "<p class=\"sub\">b's logger clock minus a's over the drive, from the solved models "
           "(solid); dashed: the two-way estimate from messages both ways.</p>\n<figure>\n");
    chart_t c;
    chart_init(&c, 1000, 300, xr, false, yr);
    c.ml = 70;
    chart_begin(h, &c, NULL, "Clock offset between agents over the drive", "t (s from the epoch)",
                "offset (ms)");
    for (size_t i = 0; i < ns; i++) {
        const json_t *p = json_array_get(ap, i);
        series(h, &c, jarr(p, "t_s"), jarr(p, "offset_ms"), i, names[i]);
        const double tw = jnum(p, "two_way_offset_ms");
        if (isfinite(tw))
            pf(h,
               "<line stroke=\"%s\" stroke-width=\"1.2\" stroke-dasharray=\"6 4\" x1=\"%.1f\" "
               "x2=\"%.1f\" y1=\"%.1f\" y2=\"%.1f\"><title>%s two-way: %s ms</title></line>\n",
               PALETTE[i % N_PALETTE], c.ml, c.w - c.mr, cy(&c, tw), cy(&c, tw), names[i],
               sig(tw).s);
    }
    chart_end(h);
    legend(h, names, ns);
    put(h, "</figure>\n");
    static const char *const cols[] = {"pair (b \xe2\x88\x92 a)",
                                       "#at start ms",
                                       "#at end ms",
                                       "#change ms",
                                       "#sd ms",
                                       "#two-way ms",
                                       "#two-way \xe2\x88\x92 solved ms",
                                       "#min latency ms"};
    th_row(h, cols, 8);
    for (size_t i = 0; i < n && i < MAX_ROWS; i++) {
        const json_t *p = json_array_get(ap, i), *off = jarr(p, "offset_ms");
        const size_t m = json_array_size(off);
        const double a = jat(off, 0), b = m ? jat(off, m - 1) : NAN;
        const double tw = jnum(p, "two_way_offset_ms");
        double sum = 0;
        size_t cnt = 0;
        for (size_t k = 0; k < m; k++)
            if (isfinite(jat(off, k))) sum += jat(off, k), cnt++;
        put(h, "<tr><td>");
        esc(h, jstr(p, "b"));
        put(h, " \xe2\x88\x92 ");
        esc(h, jstr(p, "a"));
        put(h, "</td>");
        tdn(h, sig(a));
        tdn(h, sig(b));
        tdn(h, sig(b - a));
        tdn(h, sig(jnum(p, "sd_ms")));
        tdn(h, sig(tw));
        tdn(h, sig(cnt ? tw - sum / (double)cnt : NAN));
        tdn(h, sig(jnum(p, "min_latency_ms")));
        put(h, "</tr>\n");
    }
    more_row(h, n, MAX_ROWS, 8);
    put(h, "</tbody></table></div>\n");
    if (ns > 1) {
        /* offsets seconds apart flatten each other's course: each pair again on its own scale */
        put(h, "<h3>Each pair on its own scale</h3>\n<div class=\"grid\">\n");
        for (size_t i = 0; i < ns; i++) {
            const json_t *p = json_array_get(ap, i);
            const range_t tr = rg_array(jarr(p, "t_s")), orr = rg_array(jarr(p, "offset_ms"));
            if (!rg_ok(&tr) || !rg_ok(&orr)) continue;
            chart_t c1;
            chart_init(&c1, 340, 170, tr, false, orr);
            c1.ml = 70;
            put(h, "<figure>\n");
            chart_begin(h, &c1, names[i], "clock offset over the drive", "t (s from the epoch)",
                        "offset (ms)");
            series(h, &c1, jarr(p, "t_s"), jarr(p, "offset_ms"), i, names[i]);
            const double tw = jnum(p, "two_way_offset_ms");
            if (tw >= c1.y0 && tw <= c1.y1)
                pf(h,
                   "<line stroke=\"%s\" stroke-dasharray=\"6 4\" x1=\"%.1f\" x2=\"%.1f\" "
                   "y1=\"%.1f\" y2=\"%.1f\"><title>two-way: %s ms</title></line>\n",
                   PALETTE[i % N_PALETTE], c1.ml, c1.w - c1.mr, cy(&c1, tw), cy(&c1, tw),
                   sig(tw).s);
            chart_end(h);
            put(h, "<figcaption><b>");
            esc(h, names[i]);
            pf(h, "</b>: two-way estimate %s ms%s</figcaption>\n</figure>\n", sig(tw).s,
               isfinite(tw) && !(tw >= c1.y0 && tw <= c1.y1) ? " (off this scale)" : "");
        }
        put(h, "</div>\n");
    }
    sec_close(h);
}

static void link_name(char *buf, size_t len, const json_t *l) {
    const char *s = jstr(l, "sender"), *r = jstr(l, "receiver"), *m = jstr(l, "message");
    if (s)
        snprintf(buf, len, "%s \xe2\x86\x92 %s %s", s, r ? r : "?", m ? m : "?");
    else
        snprintf(buf, len, "station %s \xe2\x86\x92 %s %s", jint(l, "station").s, r ? r : "?",
                 m ? m : "?");
}

/* The five charts of a link card: latency CDF, delivery over time, delivery against distance, loss
 * bursts by length and dropouts on the drive's timeline. Small multiples on the same sizes so
 * links compare at a glance. */
static void link_cdf(html_t *h, const json_t *l, const char *name) {
    const json_t *cdf = jarr(l, "latency_cdf_ms");
    range_t xr = rg_array(cdf), yr = {0, 100};
    if (!rg_ok(&xr)) {
        put(h, "<p class=\"absent\">No latency measured.</p>\n");
        return;
    }
    /* a long tail would squeeze the distribution into a corner: stop the axis at p99 when the
     * maximum is far beyond it (the line runs along the right edge to 100) */
    const size_t nc = json_array_size(cdf);
    const double p99 = nc == 101 ? jat(cdf, 99) : NAN;
    const bool clipped = isfinite(p99) && xr.hi - p99 > 2 * (p99 - xr.lo) && p99 > xr.lo;
    if (clipped) xr.hi = p99;
    chart_t c;
    chart_init(&c, 340, 170, xr, true, yr);
    chart_begin(h, &c, name, "latency CDF", "latency (ms)", "percentile");
    /* a percentile k is y = k * 100 / (n - 1): 101 values give 0..100 */
    const size_t n = json_array_size(cdf);
    put(h, "<path fill=\"none\" stroke=\"" C_GOOD "\" stroke-width=\"1.6\" d=\"");
    size_t seg = 0;
    for (size_t k = 0; k < n; k++) {
        const double x = jat(cdf, k), y = n > 1 ? (double)k * 100.0 / (double)(n - 1) : 50;
        if (!isfinite(x)) {
            seg = 0;
            continue;
        }
        pf(h, "%s%.1f %.1f", seg++ ? "L" : "M", cx(&c, x), cy(&c, y));
    }
    put(h, "\"><title>");
    esc(h, name);
    put(h, "</title></path>\n");
    chart_end(h);
    if (clipped)
        pf(h,
           "<p class=\"sub\">The axis stops at p99 (%s ms); the slowest message took %s ms.</p>\n",
           sig(p99).s, sig(rg_array(cdf).hi).s);
}

static void link_by_time(html_t *h, const json_t *l, const char *name) {
    const json_t *bins = jarr(l, "by_time");
    const size_t n = json_array_size(bins);
    range_t xr = rg_empty(), yr = {0, 1};
    for (size_t k = 0; k < n; k++) {
        double a, b;
        bin_bounds(h, bins, k, "start", h->t1, &a, &b);
        rg_add(&xr, a);
        rg_add(&xr, b);
    }
    if (!rg_ok(&xr)) {
        put(h, "<p class=\"absent\">No delivery over time.</p>\n");
        return;
    }
    chart_t c;
    chart_init(&c, 340, 170, xr, false, yr);
    chart_begin(h, &c, name, "delivery ratio over time", "t (s from the epoch)", "delivery ratio");
    for (size_t k = 0; k < n; k++) {
        const json_t *e = json_array_get(bins, k);
        double a, b;
        bin_bounds(h, bins, k, "start", h->t1, &a, &b);
        const double sent = jnum(e, "sent"), del = jnum(e, "delivered");
        if (!(sent > 0) || !isfinite(a) || !isfinite(b)) continue;
        const double ratio = del / sent;
        rect_open(h, &c, a, b, 0, ratio, C_GOOD, 0.85);
        pf(h, "%s to %s s: %s of %s delivered (%s %%)", fix(a, 1).s, fix(b, 1).s, fix(del, 0).s,
           fix(sent, 0).s, pct(ratio).s);
        rect_close(h);
    }
    chart_end(h);
}

static void link_by_distance(html_t *h, const json_t *l, const char *name) {
    const json_t *bins = jarr(l, "by_distance");
    const size_t n = json_array_size(bins);
    range_t xr = rg_empty(), yr = {0, 1};
    double width = NAN;
    for (size_t k = 0; k < n; k++) {
        const json_t *e = json_array_get(bins, k);
        const double a = jnum(e, "from_m"), b = jnum(e, "to_m");
        rg_add(&xr, a);
        rg_add(&xr, b);
        if (isfinite(a) && isfinite(b) && b > a) width = b - a;
    }
    if (!rg_ok(&xr)) {
        put(h, "<p class=\"absent\">No delivery by distance.</p>\n");
        return;
    }
    if (!isfinite(width)) width = 25;
    rg_add(&xr, xr.hi + (isfinite(jnum(json_array_get(bins, n - 1), "to_m")) ? 0 : width));
    rg_add(&xr, 0);
    chart_t c;
    chart_init(&c, 340, 170, xr, true, yr);
    chart_begin(h, &c, name, "delivery ratio against distance",
                "sender\xe2\x80\x93receiver distance (m)", "delivery ratio");
    for (size_t k = 0; k < n; k++) {
        const json_t *e = json_array_get(bins, k);
        const double a = jnum(e, "from_m"), sent = jnum(e, "sent"), del = jnum(e, "delivered");
        double b = jnum(e, "to_m");
        if (!isfinite(b)) b = a + width;
        if (!(sent > 0) || !isfinite(a)) continue;
        rect_open(h, &c, a, b, 0, del / sent, "#009E73", 0.85);
        pf(h, "%s to %s m: %s of %s delivered (%s %%)", fix(a, 0).s, fix(b, 0).s, fix(del, 0).s,
           fix(sent, 0).s, pct(del / sent).s);
        rect_close(h);
    }
    chart_end(h);
}

/* burst length of a loss_bursts key: "3", "16+" or ">=16" (sorted after the plain lengths) */
static double burst_len(const char *key) {
    const char *p = key;
    while (*p && (*p < '0' || *p > '9')) p++;
    char *end;
    const double v = strtod(p, &end);
    if (end == p) return 1e9;
    return strchr(key, '+') || strchr(key, '>') ? v + 0.5 : v;
}

static void link_bursts(html_t *h, const json_t *l, const char *name) {
    const json_t *lb = jobj(l, "loss_bursts");
    const char *keys[64];
    size_t n = 0;
    const char *key;
    const json_t *val;
    range_t yr = rg_empty();
    rg_add(&yr, 0);
    json_object_foreach((json_t *)lb, key, val) {
        if (n == 64 || !json_is_number(val)) continue;
        /* insertion sort by burst length */
        size_t i = n++;
        while (i > 0 && burst_len(keys[i - 1]) > burst_len(key)) {
            keys[i] = keys[i - 1];
            i--;
        }
        keys[i] = key;
        rg_add(&yr, json_number_value(val));
    }
    if (!n) {
        put(h, "<p class=\"sub\">No loss burst.</p>\n");
        return;
    }
    range_t xr = {0, (double)n};
    chart_t c;
    chart_init(&c, 340, 170, xr, false, yr);
    c.xstep = 0; /* categories, labelled below */
    chart_counts(&c);
    chart_begin(h, &c, name, "loss bursts by length", "burst length (messages lost in a row)",
                "bursts");
    for (size_t i = 0; i < n; i++) {
        const double v = json_number_value(json_object_get(lb, keys[i]));
        const double a = (double)i + 0.15, b = (double)i + 0.85;
        rect_open(h, &c, a, b, 0, v, C_BAD, 0.85);
        esc(h, keys[i]);
        pf(h, " lost in a row: %s burst(s)", fix(v, 0).s);
        rect_close(h);
        pf(h, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">", cx(&c, (double)i + 0.5),
           c.h - c.mb + 15);
        esc_max(h, keys[i], 6);
        put(h, "</text>\n");
    }
    chart_end(h);
}

/* link_dropouts: the listed dropouts as bars on the drive's timeline */
static void link_dropouts(html_t *h, const json_t *l, const char *name) {
    const json_t *d = jobj(l, "dropouts"), *first = jarr(d, "first");
    range_t xr = rg_empty(), yr = {0, 1};
    rg_add(&xr, h->t0);
    rg_add(&xr, h->t1);
    for (size_t k = 0; k < json_array_size(first); k++) {
        const json_t *e = json_array_get(first, k);
        rg_add(&xr, time_s2(h, e, "from", "start"));
        rg_add(&xr, time_s2(h, e, "to", "end"));
    }
    pf(h, "<p class=\"sub\">Dropouts: %s, %s s in all, the longest %s s", jint(d, "count").s,
       fix(jnum(d, "total_s"), 2).s, fix(jnum(d, "longest_s"), 2).s);
    if (jnum(d, "count") > (double)json_array_size(first))
        pf(h, " (the first %zu drawn)", json_array_size(first));
    put(h, "</p>\n");
    if (!rg_ok(&xr)) return;
    chart_t c;
    chart_init(&c, 340, 64, xr, false, yr);
    c.ystep = 0;
    c.mt = 4;
    c.mb = 30;
    chart_begin(h, &c, name, "dropouts on the drive's timeline", "t (s from the epoch)", NULL);
    rect_open(h, &c, c.x0, c.x1, 0.3, 0.7, C_MUTED, 0.35);
    put(h, "the drive");
    rect_close(h);
    for (size_t k = 0; k < json_array_size(first); k++) {
        const json_t *e = json_array_get(first, k);
        const double a = time_s2(h, e, "from", "start"), b = time_s2(h, e, "to", "end");
        if (!isfinite(a) || !isfinite(b)) continue;
        rect_open_w(h, &c, a, b, 0.1, 0.9, C_BAD, 1, 2);
        pf(h, "dropout %s to %s s (%s s)", fix(a, 3).s, fix(b, 3).s, fix(b - a, 3).s);
        rect_close(h);
    }
    chart_end(h);
}

/* sec_links: a table of every link, then a card of charts per link (the first MAX_CHARTS). */
static void sec_links(html_t *h, const json_t *rep) {
    const json_t *links = jarr(rep, "links");
    const size_t n = json_array_size(links);
    sec_open(h, "links", "V2X links");
    if (!n) {
        not_here(h, "links");
        if (absent_why(h, "v2x") && !absent_why(h, "links")) {
            put(h, "<p class=\"absent\">No V2X: ");
            esc(h, absent_why(h, "v2x"));
            put(h, "</p>\n");
        }
        sec_close(h);
        return;
    }
    put(h, "<p class=\"sub\">A link is one sender's messages of one type at one receiver. "
           "Latency: reception minus generation, on the reference timeline.</p>\n");
    static const char *const cols[] = {"link",    "#station",  "#sent",           "#delivered",
                                       "#lost",   "#ratio %",  "#longest burst",  "#dup.",
                                       "#reord.", "#dropouts", "#latency p50 ms", "#p95 ms",
                                       "#max ms"};
    th_row(h, cols, 13);
    for (size_t i = 0; i < n && i < MAX_ROWS; i++) {
        const json_t *l = json_array_get(links, i), *lat = jobj(l, "latency_ms");
        char name[300];
        link_name(name, sizeof name, l);
        put(h, "<tr>");
        td(h, name);
        tdn(h, jint(l, "station"));
        tdn(h, jint(l, "sent"));
        tdn(h, jint(l, "delivered"));
        tdn(h, jint(l, "lost"));
        tdn(h, pct(jnum(l, "delivery_ratio")));
        tdn(h, jint(l, "longest_burst"));
        tdn(h, jint(l, "duplicates"));
        tdn(h, jint(l, "reordered"));
        tdn(h, jint(jobj(l, "dropouts"), "count"));
        tdn(h, sig(jnum(lat, "p50")));
        tdn(h, sig(jnum(lat, "p95")));
        tdn(h, sig(jnum(lat, "max")));
        put(h, "</tr>\n");
    }
    more_row(h, n, MAX_ROWS, 13);
    put(h, "</tbody></table></div>\n<div class=\"grid\">\n");
    for (size_t i = 0; i < n && i < MAX_CHARTS; i++) {
        const json_t *l = json_array_get(links, i), *lat = jobj(l, "latency_ms");
        char name[300];
        link_name(name, sizeof name, l);
        put(h, "<div class=\"card\">\n<h3>");
        esc(h, name);
        pf(h,
           "</h3>\n<p class=\"sub\">%s of %s delivered (%s %%) \xc2\xb7 latency p50 %s, "
           "p95 %s, max %s ms</p>\n",
           jint(l, "delivered").s, jint(l, "sent").s, pct(jnum(l, "delivery_ratio")).s,
           sig(jnum(lat, "p50")).s, sig(jnum(lat, "p95")).s, sig(jnum(lat, "max")).s);
        link_cdf(h, l, name);
        link_by_time(h, l, name);
        link_by_distance(h, l, name);
        link_bursts(h, l, name);
        link_dropouts(h, l, name);
        put(h, "</div>\n");
    }
    put(h, "</div>\n");
    if (n > MAX_CHARTS)
        pf(h, "<p class=\"more\">\xe2\x80\xa6 %zu more links (in the table only)</p>\n",
           n - MAX_CHARTS);
    sec_close(h);
}

/* lanes_begin starts a chart of `lanes` horizontal lanes over the drive (one per pair or
 * reason), `ml` pixels of labels on the left */
static void lanes_begin(html_t *h, chart_t *c, size_t lanes, double ml, range_t xr, range_t yr,
                        const char *title) {
    chart_init(c, 1000, 46 + 18 * (double)lanes, xr, false, yr);
    c->ml = ml;
    c->ystep = 0;
    c->y0 = 0;
    c->y1 = (double)lanes;
    put(h, "<figure>\n");
    chart_begin(h, c, NULL, title, "t (s from the epoch)", NULL);
}

/* lane_row shades every other lane, opens lane i's label (the caller writes it and closes the
 * <text>) and returns the lane's row (lane 0 at the top) */
static double lane_row(html_t *h, const chart_t *c, size_t lanes, size_t i) {
    const double row = (double)(lanes - 1 - i);
    if (i % 2 == 0) {
        rect_open(h, c, c->x0, c->x1, row, row + 1, "#f1f2f4", 1);
        rect_close(h);
    }
    pf(h, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">", c->ml - 6, cy(c, row + 0.5) + 4);
    return row;
}

/* sec_v2x_pairs: per receiver and sender, silence and age of information at the frame times, and
 * one timeline of every pair's silences: a dead link shows as a long red bar, a shadow as many. */
static void sec_v2x_pairs(html_t *h, const json_t *rep) {
    const json_t *vp = jarr(rep, "v2x_pairs");
    const size_t n = json_array_size(vp);
    sec_open(h, "v2x-pairs", "V2X silence and age of information");
    if (!n) {
        not_here(h, "v2x_pairs");
        sec_close(h);
        return;
    }
    put(h, "<p class=\"sub\">Per receiving agent and sender, at the frame times: the frames at "
           "which the receiver had heard nothing recently (silent) and the age of the last "
           "message received (AoI).</p>\n");
    static const char *const cols[] = {
        "sender " ARROW " receiver", "#frames",     "#silent frames", "#silent %",
        "#longest silence s",        "#AoI p50 ms", "#AoI p95 ms",    "#AoI max ms"};
    th_row(h, cols, 8);
    for (size_t i = 0; i < n && i < MAX_ROWS; i++) {
        const json_t *p = json_array_get(vp, i), *aoi = jobj(p, "aoi_ms");
        put(h, "<tr><td>");
        esc(h, jstr(p, "sender"));
        put(h, " " ARROW " ");
        esc(h, jstr(p, "receiver"));
        put(h, "</td>");
        tdn(h, jint(p, "frames"));
        tdn(h, jint(p, "silent_frames"));
        tdn(h, pct(jnum(p, "silent_share")));
        tdn(h, fix(jnum(p, "longest_silence_s"), 3));
        tdn(h, sig(jnum(aoi, "p50")));
        tdn(h, sig(jnum(aoi, "p95")));
        tdn(h, sig(jnum(aoi, "max")));
        put(h, "</tr>\n");
    }
    more_row(h, n, MAX_ROWS, 8);
    put(h, "</tbody></table></div>\n");
    /* the timeline: a lane per pair, its silences as red bars */
    const size_t lanes = n < MAX_LANES ? n : MAX_LANES;
    range_t xr = rg_empty(), yr = {0, (double)lanes};
    rg_add(&xr, h->t0);
    rg_add(&xr, h->t1);
    for (size_t i = 0; i < lanes; i++) {
        const json_t *sil = jarr(json_array_get(vp, i), "silences");
        for (size_t k = 0; k < json_array_size(sil); k++) {
            rg_add(&xr, jnum(json_array_get(sil, k), "from_s"));
            rg_add(&xr, jnum(json_array_get(sil, k), "to_s"));
        }
    }
    chart_t c;
    lanes_begin(h, &c, lanes, 200, xr, yr, "Silences per sender and receiver over the drive");
    for (size_t i = 0; i < lanes; i++) {
        const json_t *p = json_array_get(vp, i), *sil = jarr(p, "silences");
        const double row = lane_row(h, &c, lanes, i);
        esc_max(h, jstr(p, "sender"), 14);
        put(h, " " ARROW " ");
        esc_max(h, jstr(p, "receiver"), 14);
        put(h, "</text>\n");
        for (size_t k = 0; k < json_array_size(sil); k++) {
            const json_t *s = json_array_get(sil, k);
            const double a = jnum(s, "from_s"), b = jnum(s, "to_s");
            if (!isfinite(a) || !isfinite(b)) continue;
            rect_open_w(h, &c, a, b, row + 0.15, row + 0.85, C_BAD, 1, 3); /* a frame: visible */
            esc(h, jstr(p, "sender"));
            put(h, " " ARROW " ");
            esc(h, jstr(p, "receiver"));
            pf(h, " silent %s to %s s (%s frames)", fix(a, 3).s, fix(b, 3).s, jint(s, "frames").s);
            rect_close(h);
        }
    }
    chart_end(h);
    put(h, "<ul class=\"legend\"><li><i style=\"border-top:8px solid " C_BAD "\"></i>silent "
           "(no recent message at the frame times)</li></ul>\n");
    if (n > lanes)
        pf(h, "<p class=\"more\">\xe2\x80\xa6 %zu more pairs (in the table only)</p>\n", n - lanes);
    put(h, "</figure>\n");
    sec_close(h);
}

/* sec_frames: frames and partial frames over the drive, then a lane per reason shaded by the
 * share of each bin's frames it made partial (reasons overlap: a frame may have several, so they
 * are not stacked), then the reasons with their first frame and an example. */
static void sec_frames(html_t *h, const json_t *rep) {
    const json_t *fr = jobj(rep, "frames");
    sec_open(h, "frames", "Frames");
    if (!fr) {
        not_here(h, "frames");
        sec_close(h);
        return;
    }
    const json_t *tl = jarr(fr, "timeline"), *reasons = jarr(fr, "reasons");
    const size_t nb = json_array_size(tl), nr = json_array_size(reasons);
    pf(h, "<p>%s frames, %s partial (%s %%); timeline bins of %s frames.</p>\n",
       jint(fr, "count").s, jint(fr, "partial").s, pct(jnum(fr, "share")).s,
       jint(fr, "bin_frames").s);
    if (nb) {
        range_t xr = rg_empty(), yr = rg_empty();
        rg_add(&yr, 0);
        for (size_t k = 0; k < nb; k++) {
            double a, b;
            bin_bounds(h, tl, k, "start", h->t1, &a, &b);
            rg_add(&xr, a);
            rg_add(&xr, b);
            rg_add(&yr, jnum(json_array_get(tl, k), "frames"));
        }
        chart_t c;
        chart_init(&c, 1000, 220, xr, false, yr);
        chart_counts(&c);
        put(h, "<figure>\n");
        chart_begin(h, &c, NULL, "Partial frames over the drive", "t (s from the epoch)", "frames");
        for (size_t k = 0; k < nb; k++) {
            const json_t *e = json_array_get(tl, k);
            double a, b;
            bin_bounds(h, tl, k, "start", h->t1, &a, &b);
            const double all = jnum(e, "frames"), part = jnum(e, "partial");
            if (!isfinite(a) || !isfinite(b)) continue;
            if (all > 0) {
                rect_open(h, &c, a, b, 0, all, C_MUTED, 0.7);
                pf(h, "%s to %s s: %s frames", fix(a, 2).s, fix(b, 2).s, fix(all, 0).s);
                rect_close(h);
            }
            if (part > 0) {
                rect_open(h, &c, a, b, 0, part, C_BAD, 1);
                pf(h, "%s to %s s: %s of %s frames partial", fix(a, 2).s, fix(b, 2).s,
                   fix(part, 0).s, fix(all, 0).s);
                rect_close(h);
            }
        }
        chart_end(h);
        put(h, "<ul class=\"legend\"><li><i style=\"border-top:8px solid " C_MUTED "\"></i>frames"
               "</li><li><i style=\"border-top:8px solid " C_BAD "\"></i>partial frames</li></ul>\n"
               "</figure>\n");
    }
    if (nb && nr) {
        /* a lane per reason: each bin shaded by the share of its frames with that reason */
        const size_t lanes = nr < 40 ? nr : 40;
        range_t xr = rg_empty(), yr = {0, (double)lanes};
        for (size_t k = 0; k < nb; k++) {
            double a, b;
            bin_bounds(h, tl, k, "start", h->t1, &a, &b);
            rg_add(&xr, a);
            rg_add(&xr, b);
        }
        chart_t c;
        lanes_begin(h, &c, lanes, 320, xr, yr, "Reasons of the partial frames over the drive");
        for (size_t i = 0; i < lanes; i++) {
            const json_t *r = json_array_get(reasons, i), *bins = jarr(r, "bins");
            const double row = lane_row(h, &c, lanes, i);
            esc_max(h, jstr(r, "reason"), 48);
            put(h, "</text>\n");
            for (size_t k = 0; k < nb && k < json_array_size(bins); k++) {
                const double v = jat(bins, k), all = jnum(json_array_get(tl, k), "frames");
                if (!(v > 0)) continue;
                double a, b;
                bin_bounds(h, tl, k, "start", h->t1, &a, &b);
                double share = all > 0 ? v / all : 1;
                rect_open(h, &c, a, b, row + 0.1, row + 0.9, C_BAD,
                          0.2 + 0.8 * (share > 1 ? 1 : share));
                esc(h, jstr(r, "reason"));
                pf(h, ": %s of %s frames from %s s", fix(v, 0).s, fix(all, 0).s, fix(a, 2).s);
                rect_close(h);
            }
        }
        chart_end(h);
        if (nr > lanes)
            pf(h, "<p class=\"more\">\xe2\x80\xa6 %zu more reasons (in the table)</p>\n",
               nr - lanes);
        put(h, "<figcaption>Darker: a larger share of the bin's frames.</figcaption>\n");
        put(h, "</figure>\n");
    }
    if (nr) {
        static const char *const cols[] = {"reason", "#frames", "#first frame", "#first at s",
                                           "example"};
        th_row(h, cols, 5);
        for (size_t i = 0; i < nr && i < MAX_ROWS; i++) {
            const json_t *r = json_array_get(reasons, i);
            put(h, "<tr>");
            td(h, jstr(r, "reason"));
            tdn(h, jint(r, "frames"));
            tdn(h, jint(r, "first_frame"));
            tdn(h, fix(jnum(r, "first_s"), 3));
            td(h, jstr(r, "example"));
            put(h, "</tr>\n");
        }
        more_row(h, nr, MAX_ROWS, 5);
        put(h, "</tbody></table></div>\n");
    } else {
        put(h, "<p>No partial frame.</p>\n");
    }
    sec_close(h);
}

/* The page's sections follow the document's order and the issue's: verdict, drive, streams,
 * clocks, member dt, agent pairs, links, V2X pairs, frames. */
vxs_status_t vxsi_qa_html(const json_t *rep, vxs_afile_t *f) {
    if (!f) return VXS_E_ARG;
    html_t h;
    memset(&h, 0, sizeof h);
    h.f = f;
    h.st = VXS_OK;
    h.absent = jarr(rep, "absent");
    /* seconds on the page count from the clocks' epoch (the document's *_s), else the drive's
     * start */
    const json_t *epoch = jget(jobj(rep, "clocks"), "epoch_ns");
    if (!json_is_integer(epoch)) epoch = jget(jobj(rep, "drive"), "start_ns");
    if (json_is_integer(epoch)) {
        h.origin_ns = json_integer_value(epoch);
        h.has_origin = true;
    }
    h.t0 = time_s(&h, jobj(rep, "drive"), "start");
    h.t1 = time_s(&h, jobj(rep, "drive"), "end");

    header(&h, rep);
    sec_verdict(&h, rep);
    sec_drive(&h, rep);
    sec_streams(&h, rep);
    sec_clocks(&h, rep);
    sec_member_dt(&h, rep);
    sec_agent_pairs(&h, rep);
    sec_links(&h, rep);
    sec_v2x_pairs(&h, rep);
    sec_frames(&h, rep);
    put(&h, "<footer>Written by ");
    esc(&h, jstr(rep, "tool"));
    put(&h, " (<code>v2xsync report</code>); the same data is in report.json beside this "
            "page.</footer>\n</main>\n</body>\n</html>\n");
    return h.st;
}
