/*
 * fuzz_report.c: libFuzzer target for the QA report (export/qa.c reading sync's outputs,
 * export/qa_html.c drawing the page). The input is the five files the report reads, separated
 * by NUL bytes: run.json, clocks.json, links.json, frames.jsonl, v2x_messages.jsonl (missing
 * parts are missing files). Whatever they hold, the report is written or refused with a message
 * naming the file; it never crashes, leaks or reads past its input.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "vxs_export.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static volatile size_t g_sink;

static const char *const NAMES[] = {"run.json", "clocks.json", "links.json", "frames.jsonl",
                                    "v2x_messages.jsonl"};
#define N_NAMES (sizeof NAMES / sizeof NAMES[0])

static char dir[64];

/* cleanup removes the folder the inputs were written to (the replay driver runs under ctest) */
static void cleanup(void) {
    static const char *const outs[] = {"run.json", "clocks.json", "links.json", "frames.jsonl",
                                       "v2x_messages.jsonl", "report.json", "report.html"};
    char path[128];
    for (size_t i = 0; i < sizeof outs / sizeof outs[0]; i++) {
        snprintf(path, sizeof path, "%s/%s", dir, outs[i]);
        unlink(path);
    }
    rmdir(dir);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (!dir[0]) {
        snprintf(dir, sizeof dir, "/tmp/vxs-fuzz-report-XXXXXX");
        if (!mkdtemp(dir)) abort();
        atexit(cleanup);
    }
    char path[128];
    size_t at = 0;
    for (size_t i = 0; i < N_NAMES; i++) {
        snprintf(path, sizeof path, "%s/%s", dir, NAMES[i]);
        unlink(path);
        if (at > size) continue; /* this part and the ones after it are missing */
        const uint8_t *end = memchr(data + at, 0, size - at);
        const size_t len = end ? (size_t)(end - (data + at)) : size - at;
        FILE *f = fopen(path, "wb");
        if (!f) abort();
        if (len && fwrite(data + at, 1, len, f) != len) abort();
        fclose(f);
        at += len + 1;
    }
    vxs_qa_t *q = NULL;
    char err[1200];
    if (vxs_qa_open(&q, dir, NULL, err, sizeof err) == VXS_OK) {
        g_sink += vxs_qa_checks(q) + (size_t)vxs_qa_verdict(q);
        if (vxs_qa_write(q, dir, err, sizeof err) != VXS_OK) g_sink += (size_t)err[0];
        vxs_qa_destroy(q);
    } else {
        g_sink += (size_t)err[0];
    }
    return 0;
}
