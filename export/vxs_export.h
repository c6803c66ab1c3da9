/* vxs_export.h: placeholder until the export module lands in this change. */
#ifndef VXS_EXPORT_H
#define VXS_EXPORT_H
#include "vxs_core.h"
#endif
