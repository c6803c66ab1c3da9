/*
 * fuzz_manifest.c: libFuzzer target for the scenario manifest parser (core/manifest.c): the input
 * is the manifest's JSON text. The parser must accept it or return an error with a message,
 * never crash, leak or read past the input.
 */
#include <stddef.h>
#include <stdint.h>

#include "vxs_manifest.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static volatile size_t g_sink;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    vxs_manifest_t *m = NULL;
    char err[512];
    if (vxs_manifest_parse(&m, (const char *)data, size, "/scenario", "fuzz.json", err,
                           sizeof err) == VXS_OK) {
        g_sink += m->n_agents;
        vxs_manifest_free(m);
    } else {
        g_sink += (size_t)err[0];
    }
    return 0;
}
