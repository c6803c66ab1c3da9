/*
 * pcap_int.h: what the capture-based readers share beyond vxs_sensors.h (library-internal).
 */
#ifndef VXS_PCAP_INT_H
#define VXS_PCAP_INT_H

#include "vxs_core.h"
#include "vxs_sensors.h"

/* vxsi_packet_summary fills `out` from the capture record `k` and the decode `pl` to summarize
 * (the reassembled datagram when the record completed one: its ports are only in the first
 * fragment; else the record's own). */
void vxsi_packet_summary(vxs_packet_summary_t *out, const vxs_packet_t *k,
                         const vxs_pkt_info_t *pl);

#endif /* VXS_PCAP_INT_H */
