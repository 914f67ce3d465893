/**
 * The load generator for the broker benchmark, run as its own process so it does not share an event
 * loop with Node-RED: the virtual fleet's traffic for N devices, published at a set rate with QoS 1,
 * each payload stamped with `sent_at` (kept by fleet-decode as an unknown field) for latency.
 *
 * argv: brokerUrl devices rate seconds   → prints one JSON line {published, acked, seconds}
 */
import mqtt, { type MqttClient } from 'mqtt';

import { fleetSpecs } from '../firmware/simulator/fleet';
import { VirtualDevice, type Publication } from '../firmware/simulator/device';
import { KIND } from '../firmware/contract/topics';

function traffic(devices: number): Publication[] {
  const out: Publication[] = [];
  for (const spec of fleetSpecs(devices, 9, { [KIND.envSensor]: 0.7, [KIND.envMonitor]: 0.2, [KIND.audioDevice]: 0.1 })) {
    const d = new VirtualDevice(spec);
    d.boot(0);
    for (let t = 0; t <= 120_000; t += 30_000) for (const p of d.due(t)) if (!p.retain) out.push(p);
  }
  // Interleave devices, as a fleet's traffic arrives.
  return out.sort((a, b) => (a.topic.length * 31 + a.payload.length) % 97 - (b.topic.length * 31 + b.payload.length) % 97);
}

async function main(): Promise<void> {
  const [url, devicesArg, rateArg, secondsArg] = process.argv.slice(2);
  const devices = Number(devicesArg);
  const rate = Number(rateArg);
  const seconds = Number(secondsArg);
  const pubs = traffic(devices);
  const clients: MqttClient[] = [];
  for (let i = 0; i < 4; i++) clients.push(await mqtt.connectAsync(url, { clientId: `bench-pub-${process.pid}-${i}`, clean: true }));
  let published = 0;
  let acked = 0;
  const total = Math.round(rate * seconds);
  const start = Date.now();
  const tickMs = 10;
  let i = 0;
  await new Promise<void>((resolve) => {
    const timer = setInterval(() => {
      const due = Math.min(total, Math.round(((Date.now() - start) / 1000) * rate));
      while (published < due) {
        const p = pubs[i++ % pubs.length];
        const payload = `${p.payload.slice(0, -1)},"sent_at":${Date.now()}}`;
        clients[published % clients.length].publish(p.topic, payload, { qos: 1 }, (err) => { if (!err) acked++; });
        published++;
      }
      if (published >= total) { clearInterval(timer); resolve(); }
    }, tickMs);
  });
  const sentSeconds = (Date.now() - start) / 1000;
  const deadline = Date.now() + 15_000;
  while (acked < published && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  await Promise.all(clients.map((c) => c.endAsync()));
  process.stdout.write(`${JSON.stringify({ published, acked, seconds: sentSeconds })}\n`);
}

main().catch((err: Error) => {
  console.error(err.message);
  process.exit(1);
});
