/*
 * v2x_common.c: what the ETSI and US decoders share: the message's absent values, type names,
 * and the conversion of a message's raw sender time fields to absolute time.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "vxs_core.h"
#include "vxs_v2x.h"
#include "v2x_int.h"

void vxs_v2x_msg_init(vxs_v2x_msg_t *m) {
    if (!m) return;
    /* Everything but the object array, which is written as objects are decoded (it is most
     * of the struct's size and would cost a message's decode time to clear). */
    const size_t obj_at = offsetof(vxs_v2x_msg_t, objects), obj_end = obj_at + sizeof m->objects;
    memset(m, 0, obj_at);
    memset((char *)m + obj_end, 0, sizeof *m - obj_end);
    m->msg_id = -1;
    m->protocol_version = -1;
    m->station_id = -1;
    m->station_type = -1;
    m->msg_cnt = -1;
    m->denm_seq = -1;
    m->denm_origin = -1;
    m->gen_delta_time = -1;
    m->sec_mark = -1;
    m->moy = -1;
    m->its_time_ms = -1;
    m->denm_detection_ms = -1;
    m->denm_validity_s = -1;
    m->lat_deg = m->lon_deg = m->elev_m = NAN;
    m->speed_mps = m->heading_deg = NAN;
    m->accel_long_mps2 = m->accel_lat_mps2 = m->accel_vert_mps2 = m->yaw_rate_dps = NAN;
    m->length_m = m->width_m = NAN;
    m->pos_semi_major_m = m->pos_semi_minor_m = m->pos_orientation_deg = NAN;
    m->speed_conf_mps = m->heading_conf_deg = NAN;
    m->cause_code = m->sub_cause_code = -1;
    m->tim_frames = -1;
    m->gn_header_type = -1;
    m->gn_btp_port = -1;
    m->gn_sn = -1;
    m->gn_tst = -1;
    m->gn_lat_deg = m->gn_lon_deg = m->gn_speed_mps = m->gn_heading_deg = NAN;
    m->wsmp_channel = m->wsmp_data_rate = m->wsmp_tx_power = -1;
    m->ieee_content = -1;
    m->ieee_gen_time_us = -1;
}

/* moy_time: a MinuteOfTheYear plus ms in the minute, in the reference's UTC year (the year
 * before or after when that is nearer: a message sent at 23:59:59 on 31 December and
 * received after midnight). */
static vxs_time_t moy_time(int32_t moy, int32_t ms, vxs_time_t ref) {
    const int64_t ns_min = 60 * (int64_t)1000000000;
    vxs_time_t best = VXS_TIME_NONE;
    int64_t best_d = INT64_MAX;
    /* The reference's year from its days since 1970 (civil-from-days, Howard Hinnant). */
    int64_t days = ref / (86400 * (int64_t)1000000000);
    if (ref < 0 && ref % (86400 * (int64_t)1000000000)) days--;
    int64_t z = days + 719468, era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097, yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t y = yoe + era * 400, doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153, mon = mp < 10 ? mp + 3 : mp - 9;
    if (mon <= 2) y++;
    for (int64_t yy = y - 1; yy <= y + 1; yy++) {
        vxs_time_t start = vxs_time_from_civil((int)yy, 1, 1, 0, 0, 0, 0);
        vxs_time_t t = start + moy * ns_min + (int64_t)ms * 1000000;
        int64_t d = t > ref ? t - ref : ref - t;
        if (d < best_d) {
            best_d = d;
            best = t;
        }
    }
    return best;
}

void vxs_v2x_resolve_times(vxs_v2x_times_t *out, const vxs_v2x_msg_t *m, vxs_time_t reference) {
    if (!out) return;
    out->gen = out->gen_delta = out->gn_tst = out->sec_mark = out->ieee_gen = out->its_time =
        out->denm_detection = VXS_TIME_NONE;
    if (!m) return;
    if (m->ieee_gen_time_us >= 0) out->ieee_gen = vxs_time_from_time64((uint64_t)m->ieee_gen_time_us);
    if (m->its_time_ms >= 0) out->its_time = vxs_time_from_its((uint64_t)m->its_time_ms);
    if (m->denm_detection_ms >= 0)
        out->denm_detection = vxs_time_from_its((uint64_t)m->denm_detection_ms);
    if (reference != VXS_TIME_NONE) {
        vxs_time_t t;
        if (m->gen_delta_time >= 0 && m->gen_delta_time <= 65535 &&
            vxs_time_from_gdt(&t, (uint16_t)m->gen_delta_time, reference) == VXS_OK)
            out->gen_delta = t;
        if (m->gn_tst >= 0 && m->gn_tst <= (int64_t)UINT32_MAX &&
            vxs_time_from_gn_tst(&t, (uint32_t)m->gn_tst, reference) == VXS_OK)
            out->gn_tst = t;
        if (m->sec_mark >= 0 && m->sec_mark <= 60999) {
            if (m->moy >= 0 && m->moy <= 527040)
                out->sec_mark = moy_time(m->moy, m->sec_mark, reference);
            else if (vxs_time_from_secmark(&t, (uint16_t)m->sec_mark, reference) == VXS_OK)
                out->sec_mark = t;
        }
    }
    out->gen = out->ieee_gen != VXS_TIME_NONE    ? out->ieee_gen
               : out->gen_delta != VXS_TIME_NONE ? out->gen_delta
               : out->sec_mark != VXS_TIME_NONE  ? out->sec_mark
               : out->its_time != VXS_TIME_NONE  ? out->its_time
                                                 : out->gn_tst;
}
