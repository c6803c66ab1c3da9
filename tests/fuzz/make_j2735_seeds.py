#!/usr/bin/env python3
"""Writes the seeds of the per-message J2735 fuzz targets (corpus/{psm,spat,map,tim}/): each a
message's value in UPER, hand-encoded field by field from the J2735 ASN.1 (no dataset bytes).
The BSM seed is the value inside corpus/j2735/bsm-core. Run from tests/fuzz/."""


class W:
    def __init__(self):
        self.bits = []

    def u(self, v, n):  # n bits, MSB first
        self.bits += [(v >> i) & 1 for i in range(n - 1, -1, -1)]
        return self

    def c(self, v, lo, hi):  # constrained whole number
        return self.u(v - lo, (hi - lo).bit_length())

    def b(self, x):
        return self.u(1 if x else 0, 1)

    def out(self):
        bits = self.bits + [0] * (-len(self.bits) % 8)
        return bytes(int("".join(map(str, bits[i:i + 8])), 2) for i in range(0, len(bits), 8))


def write(path, data):
    with open(path, "wb") as f:
        f.write(data)


with open("corpus/j2735/bsm-core", "rb") as f:
    write("corpus/bsm/core", f.read()[3:])  # the MessageFrame header is 3 bytes

# PSM: basicType, secMark, msgCnt, id, position (with elevation), accuracy, speed, heading
w = W().u(0, 19).b(0).c(1, 0, 4).c(1234, 0, 65535).c(5, 0, 127).c(0x12345678, 0, 0xFFFFFFFF)
w.b(0).b(1).b(0).c(395952649, -900000000, 900000001).c(-1050914122, -1799999999, 1800000001)
w.c(16770, -4096, 61439).c(10, 0, 255).c(10, 0, 255).c(0, 0, 65535).c(70, 0, 8191)
write("corpus/psm/pedestrian", w.c(9000, 0, 28800).out())

# SPaT: timeStamp; one IntersectionState (timeStamp present, id 12111) with one MovementState
# (signalGroup 2) holding one MovementEvent (eventState 6, minEndTime + likelyTime)
w = W().b(0).u(0b100, 3).c(300000, 0, 527040).c(1, 1, 32)
w.b(0).u(0b001000, 6).b(0).c(12111, 0, 65535).c(0, 0, 127).u(0, 16).c(35176, 0, 65535)
w.c(1, 1, 255).b(0).u(0, 3).c(2, 0, 255).c(1, 1, 16).b(0).u(0b100, 3).c(6, 0, 9)
write("corpus/spat/one-intersection", w.u(0b00100, 5).c(22120, 0, 36001).c(22121, 0, 36001).out())

# MAP: timeStamp, msgIssueRevision, layerType, layerID; one IntersectionGeometry (id 4321,
# refPoint with elevation) with one GenericLane (laneID 1, vehicle lane, two node-XY1 nodes)
w = W().u(0x0F0, 9).c(300000, 0, 527040).c(9, 0, 127).b(0).c(3, 0, 7).c(4, 0, 100)
w.c(1, 1, 32).u(0, 6).b(0).c(4321, 0, 65535).c(1, 0, 127)
w.b(0).b(1).b(0).c(480000000, -900000000, 900000001).c(110000000, -1799999999, 1800000001)
w.c(345, -4096, 61439).c(1, 1, 255).b(0).u(0, 7).c(1, 0, 255)
w.b(0).u(2, 2).u(0, 10).b(0).c(0, 0, 7).b(0).u(0, 8).b(0).c(0, 0, 1).c(2, 2, 63)
for i in range(2):
    w.b(0).b(0).c(0, 0, 7).c(100 * i, -512, 511).c(-50, -512, 511)
write("corpus/map/one-lane", w.out())

# TIM: msgCnt, timeStamp, packetID; one data frame (not walked by the decoder)
w = W().b(0).u(0b1100, 4).c(1, 0, 127).c(449089, 0, 527040)
for x in bytes.fromhex("0000000000000BBC2B"):
    w.u(x, 8)
write("corpus/tim/header", w.c(1, 1, 8).u(0, 64).out())
