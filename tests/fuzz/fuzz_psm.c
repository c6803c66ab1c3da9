/*
 * fuzz_psm.c: libFuzzer target for the J2735 PSM decoder (sensors/j2735.c); see
 * fuzz_j2735_body.h.
 */
#include "fuzz_j2735_body.h"

VXS_J2735_FUZZ_TARGET(VXS_J2735_PSM)
