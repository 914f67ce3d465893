/**
 * In-process pipeline in a real embedded Node-RED runtime: fleet-decode → fleet-health against
 * (a) the same number of pass-through nodes, Node-RED's own cost per hop, and (b) what a user would
 * build instead: json → function (hand-written checks and a score) → switch.
 */
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';

import { figure, type Figure } from './measure';
import { trafficSample } from './domain';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const { linkPackage, packageRoot } = require('../../scripts/user-dir.js') as { linkPackage(dir: string): string; packageRoot: string };

interface RuntimeNode { receive(msg: unknown): void; count?: number; expect?: number; onDone?: (() => void) | null }
interface Runtime { init(server: http.Server, settings: unknown): void; start(): Promise<void>; stop(): Promise<void>; nodes: { getNode(id: string): RuntimeNode } }

export const HAND_BUILT_FUNCTION = `
const p = msg.payload;
if (p === null || typeof p !== 'object') return null;
const parts = msg.topic.split('/');
const id = parts[0] === 'esp32c3' ? parts[2] : parts[1];
if (!id || /[+#]/.test(id) || id.length > 64) return null;
const num = (v, lo, hi) => v === undefined || (typeof v === 'number' && isFinite(v) && v >= lo && v <= hi);
if (!num(p.temperature, -40, 85) || !num(p.humidity, 0, 100) || !num(p.pressure, 300, 1100)) return null;
let score = 100;
const heap = p.free_heap !== undefined ? p.free_heap : p.free_memory;
if (typeof heap === 'number') score -= heap < 2500 ? 45 : heap < 5000 ? 20 : 0;
if (typeof p.wifi_rssi === 'number') score -= p.wifi_rssi < -80 ? 25 : p.wifi_rssi < -70 ? 10 : 0;
const cpu = p.metrics && p.metrics.cpu_usage_percent;
if (typeof cpu === 'number') score -= cpu >= 90 ? 30 : cpu >= 70 ? 10 : 0;
msg.device = id;
msg.score = score;
msg.state = score < 40 ? 'critical' : score < 70 ? 'degraded' : 'healthy';
return msg;`;

function flows(): unknown[] {
  return [
    { id: 'tab-pass', type: 'tab', label: 'pass' },
    { id: 'pass-1', type: 'bench-pass', z: 'tab-pass', wires: [['pass-2']] },
    { id: 'pass-2', type: 'bench-pass', z: 'tab-pass', wires: [['pass-sink']] },
    { id: 'pass-sink', type: 'bench-sink', z: 'tab-pass', wires: [] },

    { id: 'tab-ours', type: 'tab', label: 'ours' },
    { id: 'ours-reg', type: 'fleet-registry', persist: false, flushMs: 1000 },
    { id: 'ours-decode', type: 'fleet-decode', z: 'tab-ours', registry: 'ours-reg', wires: [['ours-health'], []] },
    { id: 'ours-health', type: 'fleet-health', z: 'tab-ours', registry: 'ours-reg', sweepS: 5, summaryS: 0, wires: [['ours-sink'], ['ours-sink'], []] },
    { id: 'ours-sink', type: 'bench-sink', z: 'tab-ours', wires: [] },

    { id: 'tab-hand', type: 'tab', label: 'hand-built' },
    { id: 'hand-json', type: 'json', z: 'tab-hand', property: 'payload', action: 'obj', pretty: false, wires: [['hand-fn']] },
    { id: 'hand-fn', type: 'function', z: 'tab-hand', func: HAND_BUILT_FUNCTION, outputs: 1, wires: [['hand-switch']] },
    {
      id: 'hand-switch', type: 'switch', z: 'tab-hand', property: 'state', propertyType: 'msg', checkall: 'false', outputs: 3,
      rules: [{ t: 'eq', v: 'critical', vt: 'str' }, { t: 'eq', v: 'degraded', vt: 'str' }, { t: 'else' }],
      wires: [['hand-sink'], ['hand-sink'], ['hand-sink']],
    },
    { id: 'hand-sink', type: 'bench-sink', z: 'tab-hand', wires: [] },
  ];
}

/** Starts an embedded runtime with the three chains; `redModule` picks Node-RED 4.1 or another install. */
export async function startRuntime(redModule = 'node-red'): Promise<{ RED: Runtime; stop: () => Promise<void> }> {
  const userDir = fs.mkdtempSync(path.join(os.tmpdir(), 'fleet-bench-nr-'));
  linkPackage(userDir);
  fs.writeFileSync(path.join(userDir, 'flows.json'), JSON.stringify(flows()));
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const RED = require(require.resolve(redModule, { paths: [packageRoot] })) as Runtime;
  const server = http.createServer();
  RED.init(server, {
    userDir, flowFile: 'flows.json', nodesDir: [path.join(packageRoot, 'bench', 'nodes')],
    httpAdminRoot: false, httpNodeRoot: false, credentialSecret: 'bench',
    logging: { console: { level: process.env.BENCH_LOG ?? 'warn' } }, telemetry: { enabled: false }, editorTheme: { projects: { enabled: false } },
  });
  await RED.start();
  // start() resolves before the flows have started: wait for the nodes the harness drives.
  for (let i = 0; i < 300 && !['pass-sink', 'ours-health', 'hand-sink'].every((id) => RED.nodes.getNode(id)); i++) {
    await new Promise((r) => setTimeout(r, 50));
  }
  return { RED, stop: async () => { await RED.stop(); fs.rmSync(userDir, { recursive: true, force: true }); } };
}

async function drive(RED: Runtime, entry: string, sink: string, messages: Array<{ topic: string; payload: string }>): Promise<number> {
  const s = RED.nodes.getNode(sink);
  const head = RED.nodes.getNode(entry);
  s.count = 0;
  s.expect = messages.length;
  const finished = new Promise<void>((resolve) => { s.onDone = resolve; });
  const t = process.hrtime.bigint();
  await inject(head, messages);
  await finished;
  return messages.length / (Number(process.hrtime.bigint() - t) / 1e9);
}

/**
 * Injects in batches, yielding between them, as messages arriving from a broker would: 100,000
 * messages queued at once would measure the garbage collector's old generation instead.
 */
async function inject(head: RuntimeNode, messages: ReadonlyArray<{ topic: string; payload: string }>): Promise<void> {
  const BATCH = 500;
  for (let i = 0; i < messages.length; i += BATCH) {
    const end = Math.min(i + BATCH, messages.length);
    for (let j = i; j < end; j++) head.receive({ topic: messages[j].topic, payload: messages[j].payload });
    await new Promise((r) => setImmediate(r));
  }
}

export async function pipelineFigures(repeat: number, count = 100_000): Promise<Figure[]> {
  const sample = trafficSample(1000, 1200).map((p) => ({ topic: p.topic, payload: p.payload }));
  const messages = Array.from({ length: count }, (_, i) => sample[i % sample.length]);
  const { RED, stop } = await startRuntime();
  try {
    const runs: Record<'pass' | 'ours' | 'hand', number[]> = { pass: [], ours: [], hand: [] };
    await driveOurs(RED, messages.slice(0, 20_000)); // warm the JIT and the registry
    await drive(RED, 'hand-json', 'hand-sink', messages.slice(0, 20_000));
    await drive(RED, 'pass-1', 'pass-sink', messages.slice(0, 20_000));
    for (let r = 0; r < repeat; r++) {
      // Each chain expects one message per input: health sends only on changes, so ours counts decoder output at health's input.
      runs.pass.push(await drive(RED, 'pass-1', 'pass-sink', messages));
      runs.hand.push(await drive(RED, 'hand-json', 'hand-sink', messages));
      runs.ours.push(await driveOurs(RED, messages));
    }
    const pass = figure('pipeline', 'limit: 2 pass-through nodes → sink', 'msg/s', runs.pass);
    const hand = figure('pipeline', 'hand-built: json → function → switch → sink', 'msg/s', runs.hand);
    const ours = figure('pipeline', 'ours: fleet-decode → fleet-health (with registry)', 'msg/s', runs.ours);
    return [
      pass, hand,
      { ...ours, ratio: { to: 'pass-through', value: ours.median / pass.median }, target: '≥ 0.7× pass-through', met: ours.median / pass.median >= 0.7 },
      { ...ours, name: 'ours against the hand-built flow', ratio: { to: 'hand-built', value: ours.median / hand.median }, target: '≥ 3× hand-built', met: ours.median / hand.median >= 3 },
    ];
  } finally {
    await stop();
  }
}

/**
 * fleet-health sends only state changes, so its output cannot be counted per message; the sink here
 * is health's `done`: the run ends when health has completed every message (scored, committed, sent,
 * or coalesced), counted where Node-RED completes a message.
 */
export async function driveOurs(RED: Runtime, messages: Array<{ topic: string; payload: string }>): Promise<number> {
  type Completing = RuntimeNode & { _complete(msg: unknown, err?: unknown): void; _benchHooked?: boolean; _benchCount?: number; _benchDone?: (() => void) | null; _benchExpect?: number };
  const health = RED.nodes.getNode('ours-health') as Completing;
  if (!health._benchHooked) {
    health._benchHooked = true;
    const complete = health._complete.bind(health);
    health._complete = (msg, err) => {
      complete(msg, err);
      health._benchCount = (health._benchCount ?? 0) + 1;
      if (health._benchCount === health._benchExpect && health._benchDone) { const f = health._benchDone; health._benchDone = null; setImmediate(f); }
    };
  }
  health._benchCount = 0;
  health._benchExpect = messages.length;
  const finished = new Promise<void>((resolve) => { health._benchDone = resolve; });
  const head = RED.nodes.getNode('ours-decode');
  const t = process.hrtime.bigint();
  await inject(head, messages);
  await finished;
  return messages.length / (Number(process.hrtime.bigint() - t) / 1e9);
}
