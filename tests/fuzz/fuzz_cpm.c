/* fuzz_cpm.c: libFuzzer target for the CPM decoder (sensors/etsi.c); see fuzz_its_body.h. */
#include "fuzz_its_body.h"

VXS_ITS_FUZZ_TARGET(VXS_ETSI_CPM)
