/* fuzz_denm.c: libFuzzer target for the DENM decoder (sensors/etsi.c); see fuzz_its_body.h. */
#include "fuzz_its_body.h"

VXS_ITS_FUZZ_TARGET(VXS_ETSI_DENM)
