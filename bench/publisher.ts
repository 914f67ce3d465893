/**
 * The load generator for the broker benchmark, run as its own process so it does not share an event
 * loop with Node-RED: the virtual fleet's traffic for N devices, published at a set rate with QoS 1,
 * each payload stamped with `sent_at` (kept by fleet-decode as an unknown field) for latency.
 *
 * argv: brokerUrl devices rate seconds [tailRate tailSeconds] [--from=N]
 *   → prints one JSON line {published, acked, seconds, firstPhase, firstPhaseEnd, next}
 * The traffic is ten minutes of the fleet, in time order, the devices interleaved within each step.
 * `--from` starts at the place the last run stopped (`next`), so a device's uptime keeps rising
 * from one run to the next into the same Node-RED.
 * Replayed out of time order (before), a device's uptime went back and forth: of 60,000 messages
 * fleet-health counted a restart in 8,568 (in time order 1,845, the simulator's faulty devices), and
 * its group commit wrote a full record, not last-seen, for about two devices in three (in time order
 * about one in twelve). No fleet sends that.
 * With a tail (the overload run), `rate` is offered for `seconds`, then `tailRate` for `tailSeconds`
 * to show the recovery, and every payload carries `bench_seq`, its number in the run from 0, so the
 * probe counts each message's deliveries.
 */
import mqtt, { type MqttClient } from 'mqtt';

import { fleetSpecs } from '../firmware/simulator/fleet';
import { VirtualDevice, type Publication } from '../firmware/simulator/device';
import { KIND } from '../firmware/contract/topics';

/** The simulated span of the traffic: about 29 messages a device, 289,000 for 10,000 devices. */
const TRAFFIC_MS = 600_000;
const STEP_MS = 30_000;

function traffic(devices: number): Publication[] {
  const steps: Publication[][] = [];
  for (let t = 0; t <= TRAFFIC_MS; t += STEP_MS) steps.push([]);
  for (const spec of fleetSpecs(devices, 9, { [KIND.envSensor]: 0.7, [KIND.envMonitor]: 0.2, [KIND.audioDevice]: 0.1 })) {
    const d = new VirtualDevice(spec);
    d.boot(0);
    for (let t = 0, k = 0; t <= TRAFFIC_MS; t += STEP_MS, k++) for (const p of d.due(t)) if (!p.retain) steps[k].push(p);
  }
  // Interleave the devices within each step, as a fleet's traffic arrives; each device stays in time order.
  const key = (p: Publication): number => (p.topic.length * 31 + p.payload.length) % 97;
  return steps.flatMap((step) => step.sort((a, b) => key(a) - key(b)));
}

async function main(): Promise<void> {
  const fromArg = process.argv.find((a) => a.startsWith('--from='));
  const [url, devicesArg, rateArg, secondsArg, tailRateArg, tailSecondsArg] = process.argv.slice(2).filter((a) => !a.startsWith('--'));
  const devices = Number(devicesArg);
  const phases = [{ rate: Number(rateArg), seconds: Number(secondsArg) }];
  const numbered = tailRateArg !== undefined;
  if (numbered) phases.push({ rate: Number(tailRateArg), seconds: Number(tailSecondsArg) });
  const pubs = traffic(devices);
  const clients: MqttClient[] = [];
  for (let i = 0; i < 4; i++) clients.push(await mqtt.connectAsync(url, { clientId: `bench-pub-${process.pid}-${i}`, clean: true }));
  let published = 0;
  let acked = 0;
  const from = fromArg ? Number(fromArg.slice('--from='.length)) : 0;
  let i = Number.isSafeInteger(from) && from >= 0 ? from % pubs.length : 0;
  const tickMs = 10;
  const start = Date.now();
  let firstPhase = 0;
  let firstPhaseEnd = 0;
  for (const [n, phase] of phases.entries()) {
    const phaseStart = Date.now();
    const base = published;
    const total = Math.round(phase.rate * phase.seconds);
    await new Promise<void>((resolve) => {
      const timer = setInterval(() => {
        const due = base + Math.min(total, Math.round(((Date.now() - phaseStart) / 1000) * phase.rate));
        while (published < due) {
          const p = pubs[i++ % pubs.length];
          // `sent_at` last: the pass-through probe reads it from the end of the raw payload.
          const seq = numbered ? `,"bench_seq":${published}` : '';
          const payload = `${p.payload.slice(0, -1)}${seq},"sent_at":${Date.now()}}`;
          clients[published % clients.length].publish(p.topic, payload, { qos: 1 }, (err) => { if (!err) acked++; });
          published++;
        }
        if (published >= base + total) { clearInterval(timer); resolve(); }
      }, tickMs);
    });
    if (n === 0) { firstPhase = published; firstPhaseEnd = Date.now(); }
  }
  const sentSeconds = (Date.now() - start) / 1000;
  const deadline = Date.now() + 15_000;
  while (acked < published && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  await Promise.all(clients.map((c) => c.endAsync()));
  process.stdout.write(`${JSON.stringify({ published, acked, seconds: sentSeconds, firstPhase, firstPhaseEnd, next: i % pubs.length })}\n`);
}

main().catch((err: Error) => {
  console.error(err.message);
  process.exit(1);
});
