/* fuzz_cam.c: libFuzzer target for the CAM decoder (sensors/etsi.c); see fuzz_its_body.h. */
#include "fuzz_its_body.h"

VXS_ITS_FUZZ_TARGET(VXS_ETSI_CAM)
