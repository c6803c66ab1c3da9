/*
 * fuzz_probe.c: libFuzzer target for content detection (vxs_probe_file, sensors/detect.c) and
 * the V2X reader's streaming paths with their resynchronisation after damage
 * (sensors/v2x_reader.c): the input is written to an in-memory file (memfd_create), probed,
 * then read to its end by the V2X reader with the format detection chose and, forced, as a
 * Wyoming OBU log and as a hex log. The probe's verdict must be one of the kinds and its detail
 * a terminated string; reading must end (the loop is bounded by the units the reader counts).
 */
#define _GNU_SOURCE
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "vxs_sensors.h"
#include "vxs_v2x.h"

#define FUZZ_MAX 65536 /* -max_len=65536: detection looks at the first 64 KiB */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void quiet(void *user, const vxs_diag_t *d) {
    (void)user;
    (void)d;
}

static void read_all(const char *path, vxs_v2x_format_t fmt, size_t size) {
    vxs_v2x_reader_t *r = NULL;
    vxs_v2x_reader_options_t o;
    vxs_diag_sink_t sink = {quiet, NULL};
    const vxs_record_t *rec;
    char err[512];
    uint64_t n = 0;
    memset(&o, 0, sizeof o);
    o.format = fmt;
    o.own_station_id = -1;
    o.diag = &sink;
    if (vxs_v2x_reader_open(&r, path, &o, err, sizeof err) != VXS_OK) return;
    while (vxs_v2x_reader_next(r, &rec) == VXS_OK) {
        if (++n > size + 1) abort(); /* more messages than bytes: reading does not end */
    }
    vxs_v2x_reader_close(r);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static int fd = -1;
    static char path[64];
    vxs_file_probe_t pr;
    char err[512];
    if (size > FUZZ_MAX) return 0;
    if (fd < 0) {
        fd = memfd_create("fuzz_probe", 0);
        if (fd < 0) abort();
        snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
    }
    if (ftruncate(fd, 0) != 0 || (size && pwrite(fd, data, size, 0) != (ssize_t)size)) abort();
    if (vxs_probe_file(&pr, path, err, sizeof err) == VXS_OK) {
        if (pr.kind > VXS_FILE_HEX_LOG || memchr(pr.detail, '\0', sizeof pr.detail) == NULL)
            abort();
        if (pr.kind != VXS_FILE_VIDEO) read_all(path, VXS_V2X_FMT_AUTO, size);
    }
    read_all(path, VXS_V2X_FMT_WYDOT, size);
    read_all(path, VXS_V2X_FMT_HEX, size);
    return 0;
}
