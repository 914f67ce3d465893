/**
 * A rollout over virtual devices in a real child Node-RED, SIGKILLed at several points (mid-wave,
 * between waves, during a retry) and with the broker restarted mid-rollout (issue 12, "Must hold").
 *
 * The devices (firmware/simulator/ota-device.ts) take ota/update/{device}, download over Node-RED's
 * HTTP server with their token and Range, report on ota/progress/{device}; their progress reaches
 * fleet-ota through mqtt in → fleet-decode. A client in this process records every command sent.
 * Checked: no (device, job) command twice; every target commanded and updated (none skipped); the
 * rollout completes in the journal; a restart after completion sends nothing.
 */
import assert from 'node:assert/strict';
import { createPrivateKey } from 'node:crypto';
import net from 'node:net';
import path from 'node:path';

import { Aedes } from 'aedes';
import mqtt, { type MqttClient } from 'mqtt';

import { VirtualDevice } from '../../firmware/simulator/device';
import { fleetSpecs } from '../../firmware/simulator/fleet';
import { OtaDeviceAgent } from '../../firmware/simulator/ota-device';
import { generateSigningKey, trustedKeys } from '../../lib/ota/keys';
import { signImage } from '../../lib/ota/manifest';
import { ImageRepository } from '../../lib/ota/repository';
import { Journal } from '../../lib/store/journal';
import { NodeRedProcess } from '../support/node-red';
import { freePort, waitFor } from '../support/ports';

const OTA_ID = 'e2e-ota';
const DEVICES = 20;

class RestartableBroker {
  private server: net.Server | null = null;
  private broker: Aedes | null = null;
  constructor(readonly port: number) {}
  get url(): string { return `mqtt://127.0.0.1:${this.port}`; }
  async start(): Promise<void> {
    this.broker = await Aedes.createBroker();
    this.server = net.createServer(this.broker.handle);
    await new Promise<void>((resolve) => (this.server as net.Server).listen(this.port, '127.0.0.1', resolve));
  }
  async stop(): Promise<void> {
    const b = this.broker;
    const s = this.server;
    this.broker = null;
    this.server = null;
    await new Promise<void>((r) => (b ? b.close(() => r()) : r()));
    await new Promise<void>((r) => (s ? s.close(() => r()) : r()));
  }
}

function flow(port: number, ids: string[]): unknown[] {
  const tab = 'ota-tab';
  return [
    { id: tab, type: 'tab', label: 'ota' },
    { id: 'ota-broker', type: 'mqtt-broker', name: 'test broker', broker: '127.0.0.1', port: String(port), clientid: 'ota-e2e-red', autoConnect: true, usetls: false, protocolVersion: '4', keepalive: '5', cleansession: false },
    { id: 'ota-in', type: 'mqtt in', z: tab, topic: 'ota/progress/+', qos: '1', datatype: 'buffer', broker: 'ota-broker', nl: false, rap: true, rh: 0, inputs: 0, wires: [['ota-decode']] },
    { id: 'ota-decode', type: 'fleet-decode', z: tab, rejects: 'output', wires: [[OTA_ID], []] },
    {
      id: OTA_ID, type: 'fleet-ota', z: tab, folder: 'ota-images', keysFile: 'ota-signing.pub', tickMs: 100,
      plan: JSON.stringify({ waves: [20, 50, 100], concurrency: 3, soakSeconds: 1, deviceTimeoutSeconds: 4, retries: 3, healthGate: { windowSeconds: 0.3, margin: 10 } }),
      wires: [['ota-out'], [], ['ota-summary'], ['ota-alerts']],
    },
    { id: 'ota-out', type: 'mqtt out', z: tab, topic: '', qos: '', retain: '', broker: 'ota-broker', wires: [] },
    { id: 'ota-summary', type: 'mqtt out', z: tab, topic: 'test/summary', qos: '1', retain: 'false', broker: 'ota-broker', wires: [] },
    { id: 'ota-alerts', type: 'mqtt out', z: tab, topic: 'test/alerts', qos: '1', retain: 'false', broker: 'ota-broker', wires: [] },
    { id: 'ota-start', type: 'inject', z: tab, name: 'start', props: [{ p: 'topic', vt: 'str' }, { p: 'payload' }], topic: 'start', payload: JSON.stringify({ id: 'crash-1', image: 'env-1.3.0', targets: ids }), payloadType: 'json', once: false, wires: [[OTA_ID]] },
  ];
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe('fleet-ota survives SIGKILL and a broker restart: nothing lost, nothing twice', function () {
  this.timeout(120_000);
  let broker: RestartableBroker;
  let red: NodeRedProcess;
  let agent: OtaDeviceAgent;
  let observer: MqttClient;
  const commands: Array<{ device: string; job: string; at: number }> = [];
  const summaries: Array<{ status: string; wave: number; waveState: string; totals: Record<string, number> }> = [];
  const alerts: Array<{ name: string }> = [];
  let running = false;

  const devices = fleetSpecs(DEVICES, 7, { 'env-sensor': 1 }).map((s) => new VirtualDevice(s));
  const ids = devices.map((d) => d.id);

  async function startRed(): Promise<void> {
    await red.start();
    running = true;
  }
  function kill(): void {
    process.kill(red.pid, 'SIGKILL');
    running = false;
  }

  before(async () => {
    broker = new RestartableBroker(await freePort());
    await broker.start();
    red = new NodeRedProcess({ settings: { mqttReconnectTime: 500 } });
    const keys = generateSigningKey();
    const image = Buffer.alloc(96 * 1024);
    for (let i = 0; i < image.length; i++) image[i] = (i * 7 + 3) & 0xff;
    const repo = new ImageRepository(path.join(red.userDir, 'ota-images'), trustedKeys([keys.publicPem]).keys);
    assert.ok(repo.add('env-1.3.0', image, signImage(image, createPrivateKey(keys.privatePem), { version: '1.3.0', kind: 'env-sensor' })).ok);
    (await import('node:fs')).writeFileSync(path.join(red.userDir, 'ota-signing.pub'), keys.publicPem);
    agent = new OtaDeviceAgent({ brokerUrl: broker.url, devices, trustedKeys: [keys.publicPem], stepMs: 40, chunkBytes: 32 * 1024 });
    observer = mqtt.connect(broker.url, { clientId: 'ota-e2e-observer', clean: false, reconnectPeriod: 300 });
    observer.on('error', () => undefined);
    await new Promise<void>((r) => observer.once('connect', () => r()));
    observer.on('message', (topic, payload) => {
      const text = payload.toString('utf8');
      if (topic.startsWith('ota/update/')) commands.push({ device: topic.split('/')[2], job: (JSON.parse(text) as { job_id: string }).job_id, at: Date.now() });
      else if (topic === 'test/summary') summaries.push(JSON.parse(text) as (typeof summaries)[number]);
      else if (topic === 'test/alerts') alerts.push(JSON.parse(text) as { name: string });
    });
    await observer.subscribeAsync(['ota/update/+', 'test/summary', 'test/alerts'], { qos: 1 });
    await agent.start();
    // Two devices fail their first download; the fault is cleared once they have, so their retry succeeds.
    agent.inject(ids[3], 'download-failure');
    agent.inject(ids[11], 'download-interrupted');
    agent.inject(ids[17], 'never-answer');
  });

  after(async () => {
    if (running) await red.stop();
    await agent?.stop();
    await observer?.endAsync().catch(() => undefined);
    await broker?.stop();
    red?.cleanup();
  });

  it('rolls out over restarts: each (device, attempt) commanded once, every device updated', async () => {
    red.writeFlows(flow(broker.port, ids));
    await startRed();

    const firstFails = new Set([ids[3], ids[17]]);
    const cleared = new Set<string>();
    const clearAfterFirst = setInterval(() => {
      for (const id of firstFails) if (!cleared.has(id) && commands.some((c) => c.device === id)) {
        // Clear after the first command has been taken (and failed, or gone unanswered).
        setTimeout(() => agent.clear(id), 300);
        cleared.add(id);
      }
    }, 50);

    const res = await fetch(`${red.url}/inject/ota-start`, { method: 'POST' });
    assert.equal(res.status, 200);

    // 1: mid-wave — the second command of wave 2 is out.
    await waitFor('wave 2 under way', () => summaries.some((s) => s.wave === 1) && commands.length >= 6, 30_000, 20);
    kill();
    await sleep(300);
    await startRed();

    // 2: between waves — wave 2 soaking.
    await waitFor('a wave soaking', () => summaries.at(-1)?.waveState === 'soaking', 30_000, 10);
    kill();
    await sleep(300);
    await startRed();

    // 3: the broker restarts mid-rollout; the rollout waits and goes on.
    await waitFor('wave 3 under way', () => summaries.some((s) => s.wave === 2) && commands.length >= 13, 30_000, 20);
    await broker.stop();
    await sleep(1500);
    await broker.start();

    // 4: during a retry — the never-answering device's second attempt.
    await waitFor('a retry command', () => commands.find((c) => c.device === ids[17] && c.job.endsWith('-a2')), 40_000, 10);
    kill();
    await sleep(300);
    await startRed();

    await waitFor('rollout completed', () => summaries.find((s) => s.status === 'completed'), 60_000, 50);
    clearInterval(clearAfterFirst);

    const seen = new Map<string, number>();
    for (const c of commands) seen.set(`${c.device}/${c.job}`, (seen.get(`${c.device}/${c.job}`) ?? 0) + 1);
    const twice = [...seen].filter(([, n]) => n > 1);
    assert.deepEqual(twice, [], 'no device got the command twice for the same attempt');
    for (const id of ids) assert.ok(commands.some((c) => c.device === id), `${id} was commanded`);
    for (const d of devices) assert.equal(d.firmware, '1.3.0', `${d.id} runs the new version`);
    assert.ok(agent.stats.resumed >= 1, 'a dropped download was resumed with Range');
    assert.ok(commands.some((c) => c.device === ids[3] && c.job.endsWith('-a2')), 'the failed download was retried');

    if (process.env.FLEET_E2E_VERBOSE) console.log(JSON.stringify({ commands: commands.length, jobs: [...seen.keys()].filter((k) => !k.endsWith('-a1')), agent: agent.stats }));
    const final = summaries.find((s) => s.status === 'completed') as (typeof summaries)[number];
    assert.equal(final.totals.succeeded, DEVICES);

    // A restart after completion sends nothing and does not start the rollout again.
    const before = commands.length;
    await red.stop();
    running = false;
    await startRed();
    await sleep(1500);
    assert.equal(commands.length, before);
    await red.stop();
    running = false;
    const j = Journal.open(path.join(red.userDir, 'fleet-state', `fleet-ota-${OTA_ID}.jsonl`));
    assert.equal((j.get('ota:crash-1:meta') as { status: string }).status, 'completed');
    j.close();
    assert.equal(alerts.filter((a) => a.name === 'OtaRolloutAborted').length, 0);
  });
});
