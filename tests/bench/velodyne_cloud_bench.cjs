// velodyne_cloud_bench.cjs: the reference side of bench_lidar. Decodes every Velodyne data
// packet of a classic pcap (Ethernet/IPv4/UDP, 1206-byte payloads) into point clouds with the
// TypeScript decoder @foxglove/velodyne-cloud, one cloud per sweep of packetRate/10 packets
// (its README's usage: RawPacket -> Transformer.unpack -> PointCloud), and prints one JSON line:
// {"packets":N,"points":N,"seconds":S}. Only the decode is timed; the file is read first.
//
// Usage: node velodyne_cloud_bench.cjs FILE.pcap   (NODE_PATH must reach the npm package)
"use strict";
const fs = require("fs");
const vc = require("@foxglove/velodyne-cloud");

const buf = fs.readFileSync(process.argv[2]);
const magic = buf.readUInt32LE(0);
if (magic !== 0xa1b2c3d4 && magic !== 0xa1b23c4d) throw new Error("classic little-endian pcap only");
const payloads = [];
for (let off = 24; off + 16 <= buf.length; ) {
  const incl = buf.readUInt32LE(off + 8);
  const frame = off + 16;
  off = frame + incl;
  if (incl < 42 + 1206) continue;
  if (buf.readUInt16BE(frame + 12) !== 0x0800 || buf[frame + 23] !== 17) continue;
  const ihl = (buf[frame + 14] & 0x0f) * 4;
  const udp = frame + 14 + ihl;
  const ulen = buf.readUInt16BE(udp + 4) - 8;
  if (ulen !== 1206) continue;
  payloads.push(new Uint8Array(buf.buffer, buf.byteOffset + udp + 8, 1206));
}
if (payloads.length === 0) throw new Error("no Velodyne data packets");
const model = new vc.RawPacket(payloads[0]).inferModel();
const calib = new vc.Calibration(model);
const transformer = new vc.Transformer(calib);
const perSweep = Math.max(1, Math.round(vc.packetRate(model) / 10));

function run() {
  let points = 0;
  for (let i = 0; i < payloads.length; i += perSweep) {
    const n = Math.min(perSweep, payloads.length - i);
    const first = new vc.RawPacket(payloads[i]);
    const stamp = first.timestamp();
    const cloud = new vc.PointCloud({ stamp, maxPoints: vc.RawPacket.MAX_POINTS_PER_PACKET * n });
    for (let k = 0; k < n; k++) transformer.unpack(new vc.RawPacket(payloads[i + k]), stamp, undefined, cloud);
    cloud.trim();
    points += cloud.width * cloud.height;
  }
  return points;
}
run(); // warm-up: let the JIT compile the decoder
const t0 = process.hrtime.bigint();
const points = run();
const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
console.log(JSON.stringify({ model: vc.Model[model], packets: payloads.length, points, seconds }));
