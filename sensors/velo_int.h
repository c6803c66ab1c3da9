/*
 * velo_int.h: declarations shared by velodyne.c and velo_calib.c (never installed).
 */
#ifndef VXS_VELO_INT_H
#define VXS_VELO_INT_H

#include "vxs_lidar.h"

/* vxsi_velo_model_lasers returns the laser count of `m` (16, 32, 64, 128), 0 for AUTO. */
int vxsi_velo_model_lasers(vxs_velo_model_t m);

#endif
