/*
 * status.c: status messages and names, generated from the single VXS_STATUS_LIST X-macro
 * (lz4frame.h LZ4F_LIST_ERRORS), so a code can never lack a message.
 */
#include "vxs_core.h"

const char *vxs_version(void) {
    /* CMake defines VXS_VERSION_STRING from project(VERSION); the fallback keeps a stray
     * non-CMake build compiling rather than failing on a missing macro. */
#ifdef VXS_VERSION_STRING
    return VXS_VERSION_STRING;
#else
    return "0.0.0";
#endif
}

const char *vxs_strerror(vxs_status_t st) {
    /* A switch, not an array: the numbers are sparse and a value outside the enum (a cast
     * int from a caller) must land on the default rather than index out of bounds. */
    switch (st) {
#define VXS_X_(name, value, msg)                                                                   \
    case name:                                                                                     \
        return msg;
        VXS_STATUS_LIST(VXS_X_)
#undef VXS_X_
    }
    return "unknown status";
}

const char *vxs_status_name(vxs_status_t st) {
    switch (st) {
#define VXS_X_(name, value, msg)                                                                   \
    case name:                                                                                     \
        return #name;
        VXS_STATUS_LIST(VXS_X_)
#undef VXS_X_
    }
    return "VXS_E_UNKNOWN";
}
