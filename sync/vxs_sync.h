/* vxs_sync.h: placeholder until the sync module lands in this change. */
#ifndef VXS_SYNC_H
#define VXS_SYNC_H
#include "vxs_core.h"
#endif
