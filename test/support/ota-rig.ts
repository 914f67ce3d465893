/**
 * A whole rollout in one process, without Node-RED: aedes, an HTTP server answering downloads with
 * the controller (token, Range), the controller on a real journal, and the virtual devices' OTA side.
 * What the node does between MQTT and the controller is done here the same way (commit, then send).
 * Used by the device-side tests and by the 1,000-device figure of `npm run bench`.
 */
import { createPrivateKey } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

import { Aedes } from 'aedes';
import mqtt from 'mqtt';

import { VirtualDevice } from '../../firmware/simulator/device';
import { fleetSpecs } from '../../firmware/simulator/fleet';
import { OtaDeviceAgent, type OtaFault } from '../../firmware/simulator/ota-device';
import { OtaController, type Outbound } from '../../lib/ota/controller';
import { generateSigningKey, trustedKeys } from '../../lib/ota/keys';
import { signImage } from '../../lib/ota/manifest';
import { parsePlan } from '../../lib/ota/plan';
import { parseProgress } from '../../lib/ota/progress';
import { ImageRepository } from '../../lib/ota/repository';
import type { RolloutSummary } from '../../lib/ota/rollout';
import { Journal } from '../../lib/store/journal';

export interface RigOptions {
  readonly devices: number;
  readonly plan: Record<string, unknown>;
  readonly imageBytes?: number;
  readonly stepMs?: number;
  readonly tickMs?: number;
  readonly faults?: ReadonlyArray<readonly [index: number, fault: OtaFault]>;
  readonly timeoutMs?: number;
}

export interface RigResult {
  readonly wallMs: number;
  readonly summary: RolloutSummary;
  readonly commands: number;
  readonly alerts: string[];
  readonly devices: VirtualDevice[];
  readonly agent: OtaDeviceAgent;
  readonly phases: Map<string, string>;
  readonly journalBytes: number;
}

export async function runRollout(o: RigOptions): Promise<RigResult> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fleet-ota-rig-'));
  const broker = await Aedes.createBroker();
  const mqttServer = net.createServer(broker.handle);
  await new Promise<void>((r) => mqttServer.listen(0, '127.0.0.1', r));
  const brokerUrl = `mqtt://127.0.0.1:${(mqttServer.address() as net.AddressInfo).port}`;
  const keys = generateSigningKey();
  const image = Buffer.alloc(o.imageBytes ?? 64 * 1024, 7);
  const trusted = trustedKeys([keys.publicPem]).keys;
  const repo = new ImageRepository(path.join(dir, 'images'), trusted);
  const added = repo.add('env-1.3.0', image, signImage(image, createPrivateKey(keys.privatePem), { version: '1.3.0', kind: 'env-sensor' }));
  if (!added.ok) throw new Error(added.reason);
  const journal = Journal.open(path.join(dir, 'ota.jsonl'));
  let controller: OtaController | null = null;
  const httpServer = http.createServer((req, res) => {
    const u = new URL(req.url ?? '/', 'http://x');
    const m = /^\/fleet\/ota\/firmware\/([^/]+)$/.exec(u.pathname);
    if (!m || !controller) { res.statusCode = 404; res.end(); return; }
    const a = controller.download({ image: decodeURIComponent(m[1]), device: u.searchParams.get('device'), token: u.searchParams.get('token'), range: req.headers.range, now: Date.now() });
    res.writeHead(a.status, a.headers);
    res.end(Buffer.isBuffer(a.body) ? a.body : JSON.stringify(a.body));
  });
  await new Promise<void>((r) => httpServer.listen(0, '127.0.0.1', r));
  const httpUrl = `http://127.0.0.1:${(httpServer.address() as net.AddressInfo).port}/fleet/ota/firmware`;
  controller = new OtaController({ store: { keys: () => [...journal.keys()], get: (k) => journal.get(k), commit: (c) => journal.commit(c) }, repository: repo, secret: 'rig-secret-of-enough-bytes', downloadUrl: httpUrl, tokenTtlSeconds: 3600 });

  const devices = fleetSpecs(o.devices, 3, { 'env-sensor': 1 }).map((s) => new VirtualDevice(s));
  const agent = new OtaDeviceAgent({ brokerUrl, devices, trustedKeys: [keys.publicPem], stepMs: o.stepMs ?? 5, chunkBytes: 64 * 1024 });
  for (const [i, f] of o.faults ?? []) agent.inject(devices[i].id, f);
  await agent.start();
  const side = mqtt.connect(brokerUrl, { clientId: 'rig-node' });
  await new Promise<void>((r) => side.once('connect', () => r()));
  let commands = 0;
  const alerts: string[] = [];
  let done: RolloutSummary | null = null;
  const deliver = (out: Outbound): void => {
    for (const c of out.commands) { if (c.topic.startsWith('ota/update/')) commands++; side.publish(c.topic, JSON.stringify(c.payload), { qos: 1 }); }
    for (const a of out.alerts) alerts.push(`${a.name}:${a.device ?? 'fleet'}`);
    if (out.summary && (out.summary.status === 'completed' || out.summary.status === 'aborted')) done = out.summary;
  };
  const c = controller;
  side.on('message', (topic, payload) => {
    const p = parseProgress(payload);
    if (p.ok) deliver(c.progress(topic.split('/')[2], p.value, Date.now()));
  });
  await side.subscribeAsync('ota/progress/+', { qos: 1 });
  // The version a device reports after a reboot (its birth), as fleet-decode hands it on.
  side.on('message', (topic, payload) => {
    if (!topic.endsWith('/presence') || !topic.startsWith('esp32c3/')) return;
    try {
      const b = JSON.parse(payload.toString()) as { firmware_version?: unknown };
      const id = topic.split('/')[2];
      if (typeof b.firmware_version === 'string' && c.active?.has(id)) deliver(c.handle({ type: 'version', device: id, version: b.firmware_version, at: Date.now() }));
    } catch { /* not ours */ }
  });
  await side.subscribeAsync('esp32c3/+/+/presence', { qos: 1 });

  const plan = parsePlan(o.plan);
  if (!plan.ok) throw new Error(`${plan.field} ${plan.reason}`);
  const t0 = Date.now();
  deliver(c.start({ id: 'rig', image: 'env-1.3.0', targets: { devices: devices.map((d) => d.id) }, plan: plan.value }, [], t0));
  const tick = setInterval(() => deliver(c.tick(Date.now())), o.tickMs ?? 20);
  const deadline = t0 + (o.timeoutMs ?? 60_000);
  try {
    while (!done && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
  } finally {
    clearInterval(tick);
  }
  const wallMs = Date.now() - t0;
  const summary = done ?? (c.latest as NonNullable<typeof c.latest>).summary();
  const phases = new Map<string, string>();
  for (const d of devices) phases.set(d.id, c.latest?.device(d.id)?.phase ?? '?');
  const journalBytes = fs.statSync(path.join(dir, 'ota.jsonl')).size;
  await side.endAsync().catch(() => undefined);
  await agent.stop();
  journal.close();
  await new Promise<void>((r) => httpServer.close(() => r()));
  await new Promise<void>((r) => broker.close(() => r()));
  await new Promise<void>((r) => mqttServer.close(() => r()));
  fs.rmSync(dir, { recursive: true, force: true });
  return { wallMs, summary, commands, alerts, devices, agent, phases, journalBytes };
}
