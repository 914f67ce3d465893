/**
 * End to end through a real broker: a publisher process sends the virtual fleet's traffic (10,000
 * devices) at rising rates with QoS 1 through Mosquitto or aedes into a Node-RED process running
 * ours (mqtt in → fleet-decode → fleet-health), the ceiling (mqtt in → pass-through) or the peer
 * (mqtt in → json → function → switch). Reports sustained msg/s, latency from publish to the
 * pipeline's end (p50/p99), event-loop delay and GC inside Node-RED, its CPU and memory, lost
 * messages, the knee, and ours against the other two.
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';

import { startAedes, startMosquitto, type Broker } from '../test/support/brokers';
import { mqttInputs } from '../test/support/flows';
import { NodeRedProcess } from '../test/support/node-red';
import { figure, stats, type Figure } from './measure';
import { HAND_BUILT_FUNCTION } from './pipeline';

const run = promisify(execFile);
const root = path.resolve(__dirname, '..', '..');

/** Which flow the broker feeds: ours, Node-RED's own cost for the traffic, or what a user would build. */
export type Variant = 'ceiling' | 'ours' | 'peer';

/** The bench's flow (exported for the subscriptions test). */
export function flow(port: number, variant: Variant = 'ours'): unknown[] {
  const tab = 'bb';
  const inputs = mqttInputs('bb-in', tab, 'bb-broker', 'bb-decode');
  const head = { ours: 'bb-decode', ceiling: 'bb-pass', peer: 'bb-json' }[variant];
  const chain: Record<Variant, unknown[]> = {
    ours: [
      { id: 'bb-reg', type: 'fleet-registry', persist: false, flushMs: 1000 },
      // Rejects go to the probe on their own wire; accepted messages are timed as health finishes
      // them (the probe watches health's input), so no second wire makes Node-RED copy each message.
      { id: 'bb-decode', type: 'fleet-decode', z: tab, registry: 'bb-reg', wires: [['bb-health'], ['bb-latency']] },
      { id: 'bb-health', type: 'fleet-health', z: tab, registry: 'bb-reg', sweepS: 5, summaryS: 0, wires: [[], [], []] },
      { id: 'bb-latency', type: 'bench-latency', z: tab, watch: 'bb-health', wires: [] },
    ],
    ceiling: [
      { id: 'bb-pass', type: 'bench-pass', z: tab, wires: [['bb-latency']] },
      { id: 'bb-latency', type: 'bench-latency', z: tab, wires: [] },
    ],
    peer: [
      { id: 'bb-json', type: 'json', z: tab, property: 'payload', action: 'obj', pretty: false, wires: [['bb-fn']] },
      { id: 'bb-fn', type: 'function', z: tab, func: HAND_BUILT_FUNCTION, outputs: 1, wires: [['bb-switch']] },
      {
        id: 'bb-switch', type: 'switch', z: tab, property: 'state', propertyType: 'msg', checkall: 'false', outputs: 3,
        rules: [{ t: 'eq', v: 'critical', vt: 'str' }, { t: 'eq', v: 'degraded', vt: 'str' }, { t: 'else' }],
        wires: [['bb-latency'], ['bb-latency'], ['bb-latency']],
      },
      { id: 'bb-latency', type: 'bench-latency', z: tab, wires: [] },
    ],
  };
  return [
    { id: tab, type: 'tab', label: `broker bench: ${variant}` },
    { id: 'bb-broker', type: 'mqtt-broker', broker: '127.0.0.1', port: String(port), clientid: 'bench-nr', autoConnect: true, usetls: false, protocolVersion: '4', keepalive: '60', cleansession: true },
    ...inputs.map((n) => ({ ...n, wires: [[head]] })),
    ...chain[variant],
  ];
}

interface Stats {
  count: number; first: number; last: number; p50: number | null; p99: number | null; max: number | null;
  loopP99: number | null; loopMax: number | null; gcCount: number; gcTotalMs: number; gcMaxMs: number;
  /** The overload run's numbered messages (probe reset with `track`). */
  tracked: Tracked | null;
}

function procStat(pid: number): { cpuS: number; rssMb: number } {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  const ticks = Number(stat[11]) + Number(stat[12]);
  const rss = /VmRSS:\s+(\d+)/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
  return { cpuS: ticks / 100, rssMb: rss ? Number(rss[1]) / 1024 : 0 };
}

/** One measured run at one offered rate. */
interface Sample { sustained: number; p50: number; p99: number; cpuPct: number; rssMb: number; lost: number; loopP99: number; loopMax: number; gcMaxMs: number; gcPct: number }

/** One line of the broker table: a flow at one offered rate, medians (min–max) of the repeats. */
export interface BrokerRow { broker: string; variant: Variant; rate: number; samples: Sample[] }

/**
 * The bench's Mosquitto settings beyond the test brokers': TCP_NODELAY on Mosquitto's sockets. Without
 * it Mosquitto holds a small PUBLISH until the last is acknowledged, and Node-RED's delayed ACK makes
 * that up to 40 ms: measured at 5,000 msg/s into the ceiling, p99 32–42 ms without, 7–8 ms with
 * (the same with `max_inflight_messages 0`). The README's broker settings give it too.
 */
export const BENCH_MOSQUITTO: readonly string[] = ['set_tcp_nodelay true'];

const probe = async (red: NodeRedProcess): Promise<Stats> => (await (await fetch(`${red.url}/bench-latency/bb-latency`)).json()) as Stats;

/** Waits until the probe's count has not moved for 2 s (or `capMs` passed). */
async function settle(red: NodeRedProcess, capMs: number): Promise<void> {
  const until = Date.now() + capMs;
  let last = -1;
  for (let idle = 0; idle < 8 && Date.now() < until;) {
    await new Promise((r) => setTimeout(r, 250));
    const c = (await probe(red)).count;
    idle = c === last ? idle + 1 : 0;
    last = c;
  }
}

/** What the publisher printed (bench/publisher.ts). */
interface Published { published: number; acked: number; seconds: number; firstPhase: number; firstPhaseEnd: number; next: number }

/** Where the next run into the same Node-RED goes on in the publisher's traffic (a device's uptime keeps rising). */
interface Cursor { next: number }

/** Runs the publisher with `args` from `cursor`'s place, and moves the cursor on. */
async function publish(args: string[], cursor: Cursor): Promise<Published> {
  const { stdout } = await run(process.execPath, [path.join(root, 'dist', 'bench', 'publisher.js'), ...args, `--from=${cursor.next}`], { maxBuffer: 1 << 20 });
  const pub = JSON.parse(stdout.trim().split('\n').pop()!) as Published;
  cursor.next = pub.next;
  return pub;
}

/** Runs the publisher with `args`, then waits until every message is through, or the count has stopped rising for 3 s (a loss). */
async function publishAndDrain(red: NodeRedProcess, args: string[], cursor: Cursor): Promise<{ pub: Published; stats: Stats }> {
  const pub = await publish(args, cursor);
  let stats = await probe(red);
  for (let idle = 0; idle < 15 && stats.count < pub.published;) {
    await new Promise((r) => setTimeout(r, 200));
    const next = await probe(red);
    idle = next.count === stats.count ? idle + 1 : 0;
    stats = next;
  }
  return { pub, stats };
}

async function measureOnce(red: NodeRedProcess, pid: number, brokerUrl: string, devices: number, rate: number, seconds: number, cursor: Cursor): Promise<Sample> {
  await fetch(`${red.url}/bench-latency/bb-latency/reset`, { method: 'POST' });
  const before = procStat(pid);
  const t0 = Date.now();
  const { pub, stats } = await publishAndDrain(red, [brokerUrl, String(devices), String(rate), String(seconds)], cursor);
  const after = procStat(pid);
  // Delivered over the window in which messages arrived (the publisher's start-up is not counted).
  const window = Math.max(0.001, (stats.last - stats.first) / 1000);
  const elapsed = (Date.now() - t0) / 1000;
  return {
    sustained: stats.count / Math.max(window, pub.seconds * 0.98),
    p50: stats.p50 ?? NaN, p99: stats.p99 ?? Infinity,
    cpuPct: (100 * (after.cpuS - before.cpuS)) / elapsed, rssMb: after.rssMb,
    lost: pub.acked - stats.count,
    loopP99: stats.loopP99 ?? NaN, loopMax: stats.loopMax ?? NaN,
    gcMaxMs: stats.gcMaxMs, gcPct: (100 * stats.gcTotalMs) / 1000 / elapsed,
  };
}

const med = (xs: number[]): number => stats(xs).median;

/** Ours' knee through `broker` among `rows` (null: no knee, or the broker section did not run). */
export function kneeOfRun(rows: readonly BrokerRow[], broker: string): number | null {
  const ours = rows.filter((r) => r.broker === broker && r.variant === 'ours');
  return ours.length ? kneeOf(ours) : null;
}

/** Ours' best sustained rate through `broker` among `rows`: the highest median of a rate's repeats (null: none). */
export function bestSustainedOfRun(rows: readonly BrokerRow[], broker: string): number | null {
  const ours = rows.filter((r) => r.broker === broker && r.variant === 'ours');
  return ours.length ? Math.max(...ours.map((r) => med(r.samples.map((s) => s.sustained)))) : null;
}

/** The knee: first rate whose median p99 is over 50 ms or median delivery under 95 %, or where any repeat lost a message. */
function kneeOf(rows: readonly BrokerRow[]): number | null {
  for (const r of rows) {
    if (med(r.samples.map((s) => s.p99)) > 50 || med(r.samples.map((s) => s.sustained)) < 0.95 * r.rate || r.samples.some((s) => s.lost > 0)) return r.rate;
  }
  return null;
}

export async function runVariant(broker: Broker, brokerName: string, variant: Variant, rates: number[], seconds: number, repeat: number, devices: number, nodeBinary?: string): Promise<BrokerRow[]> {
  // `nodeBinary`: e.g. a wrapper that runs node with --cpu-prof (not allowed in NODE_OPTIONS).
  const red = new NodeRedProcess({ settings: { nodesDir: [path.join(root, 'bench', 'nodes')] }, nodeBinary });
  try {
    red.writeFlows(flow(broker.port, variant));
    await red.start();
    for (let i = 0; i < 200 && !red.output.includes('Connected to broker'); i++) await new Promise((r) => setTimeout(r, 50));
    const pid = red.pid;
    // Warm-up, not reported: every device seen once (first sight creates its records) and the JIT warm.
    const cursor: Cursor = { next: 0 };
    await publish([broker.url, String(devices), String(Math.min(rates[0], 5000)), '4'], cursor);
    // The warm-up's backlog must be through before the first measured run, or it is counted there.
    await settle(red, 120_000);
    const rows: BrokerRow[] = [];
    for (const rate of rates) {
      const samples: Sample[] = [];
      for (let i = 0; i < repeat; i++) samples.push(await measureOnce(red, pid, broker.url, devices, rate, seconds, cursor));
      rows.push({ broker: brokerName, variant, rate, samples });
      process.stderr.write(`bench:   ${brokerName} ${variant} ${rate}: ${samples.map((s) => `${Math.round(s.sustained)} msg/s p99 ${s.p99} ms lost ${s.lost}`).join('; ')}\n`);
    }
    return rows;
  } finally {
    await red.stop();
    red.cleanup();
  }
}

/**
 * The broker section: the same publisher, broker and rates into the ceiling (mqtt in → pass →
 * probe), ours and the peer (mqtt in → json → function → switch → probe), one Node-RED process
 * at a time so each has the machine to itself; each rate `repeat` times.
 */
export async function brokerFigures(brokerName: 'mosquitto' | 'aedes', rates: number[], seconds: number, repeat = 3, rowsOut: BrokerRow[] = [], devices = 10_000): Promise<Figure[]> {
  const broker: Broker = brokerName === 'mosquitto' ? await startMosquitto(BENCH_MOSQUITTO) : await startAedes();
  const figures: Figure[] = [];
  try {
    const by: Partial<Record<Variant, BrokerRow[]>> = {};
    for (const v of ['ceiling', 'ours', 'peer'] as const) {
      by[v] = await runVariant(broker, brokerName, v, rates, seconds, repeat, devices);
      rowsOut.push(...by[v]!);
    }
    const top = rates[rates.length - 1];
    const summary = (v: Variant) => {
      const rows = by[v]!;
      const bestRow = rows.reduce((a, b) => (med(b.samples.map((s) => s.sustained)) > med(a.samples.map((s) => s.sustained)) ? b : a));
      const knee = kneeOf(rows);
      return { best: bestRow.samples.map((s) => s.sustained), bestMed: med(bestRow.samples.map((s) => s.sustained)), knee, kneeValue: knee ?? top, bestRow };
    };
    const s = { ceiling: summary('ceiling'), ours: summary('ours'), peer: summary('peer') };
    const label: Record<Variant, string> = { ceiling: 'ceiling (mqtt in → pass → probe)', ours: 'ours (mqtt in → fleet-decode → fleet-health)', peer: 'peer (mqtt in → json → function → switch → probe)' };
    for (const v of ['ceiling', 'ours', 'peer'] as const) {
      const r = s[v].bestRow;
      figures.push(figure('broker', `${brokerName}, ${label[v]}: best sustained (offered ${r.rate.toLocaleString('en-US')})`, 'msg/s', s[v].best));
      figures.push(figure('broker', `${brokerName}, ${v}: knee (first rate with p99 > 50 ms, loss, or < 95 % delivered)`, 'msg/s', [s[v].knee ?? NaN], s[v].knee === null ? { target: `none up to ${top.toLocaleString('en-US')}` } : {}));
      figures.push(figure('broker', `${brokerName}, ${v}: Node-RED CPU at best sustained (of one core)`, '%', r.samples.map((x) => x.cpuPct)));
      figures.push(figure('broker', `${brokerName}, ${v}: Node-RED resident memory at best sustained`, 'MB', r.samples.map((x) => x.rssMb)));
      const lost = by[v]!.reduce((a, row) => a + row.samples.reduce((b, x) => b + x.lost, 0), 0);
      figures.push(figure('broker', `${brokerName}, ${v}: lost in all, QoS 1`, 'msgs', [lost], { target: '0', met: lost === 0 }));
    }
    // §2, no cliff below the knee: ours' worst median p99 over the rates up to 90 % of its knee.
    const below = by.ours!.filter((r) => r.rate <= 0.9 * s.ours.kneeValue || s.ours.knee === null);
    if (below.length) {
      const worst = Math.max(...below.map((r) => med(r.samples.map((x) => x.p99))));
      const upTo = below[below.length - 1].rate.toLocaleString('en-US');
      figures.push(figure('broker', `${brokerName}, ours: worst median p99 at the rates up to 90 % of its knee (${below.length} rates, to ${upTo} msg/s)`, 'ms', [worst], { target: '< 50 ms', met: worst < 50 }));
    }
    const ratio = (a: number, b: number) => a / b;
    const bc = ratio(s.ours.bestMed, s.ceiling.bestMed);
    const bp = ratio(s.ours.bestMed, s.peer.bestMed);
    // A knee not reached counts as the top rate: a lower bound, said in the name.
    const kc = ratio(s.ours.kneeValue, s.ceiling.kneeValue);
    const kp = ratio(s.ours.kneeValue, s.peer.kneeValue);
    const bound = (k: number | null, who: Variant) => (k === null ? ` (${who}: no knee up to ${top.toLocaleString('en-US')})` : '');
    figures.push(figure('broker', `${brokerName}: ours/ceiling, best sustained`, '×', [bc], { target: '≥ 0.8×', met: bc >= 0.8 }));
    figures.push(figure('broker', `${brokerName}: ours/peer, best sustained`, '×', [bp], { target: '≥ 3×', met: bp >= 3 }));
    figures.push(figure('broker', `${brokerName}: ours/ceiling, knee${bound(s.ours.knee, 'ours')}${bound(s.ceiling.knee, 'ceiling')}`, '×', [kc], { target: '≥ 0.8×', met: kc >= 0.8 }));
    figures.push(figure('broker', `${brokerName}: ours/peer, knee${bound(s.ours.knee, 'ours')}${bound(s.peer.knee, 'peer')}`, '×', [kp], { target: '≥ 3×', met: kp >= 3 }));
    return figures;
  } finally {
    await broker.close();
  }
}

const f0 = (x: number): string => (Number.isFinite(x) ? (Math.abs(x) >= 1000 ? Math.round(x).toLocaleString('en-US') : x >= 10 ? x.toFixed(0) : x.toFixed(1)) : String(x));
const mm = (xs: number[]): string => { const t = stats(xs); return `${f0(t.median)} (${f0(t.min)}–${f0(t.max)})`; };

/** Every flow at every rate: medians (min–max) of the repeats, event-loop delay and GC inside Node-RED. */
export function brokerTable(rows: readonly BrokerRow[]): string {
  const head = ['broker', 'flow', 'offered msg/s', 'delivered msg/s', 'p50 ms', 'p99 ms', 'loop delay p99 / max ms', 'GC max ms, % of time', 'CPU %', 'RSS MB', 'lost'];
  const body = rows.map((r) => {
    const c = (f: (s: Sample) => number) => r.samples.map(f);
    return [
      r.broker, r.variant, r.rate.toLocaleString('en-US'), mm(c((s) => s.sustained)), mm(c((s) => s.p50)), mm(c((s) => s.p99)),
      `${f0(med(c((s) => s.loopP99)))} / ${f0(med(c((s) => s.loopMax)))}`, `${f0(med(c((s) => s.gcMaxMs)))}, ${f0(med(c((s) => s.gcPct)))}`,
      f0(med(c((s) => s.cpuPct))), f0(med(c((s) => s.rssMb))), String(r.samples.reduce((a, s) => a + s.lost, 0)),
    ];
  });
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i].length)));
  const line = (cells: string[]) => `| ${cells.map((x, i) => x.padEnd(widths[i])).join(' | ')} |`;
  return [line(head), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...body.map(line)].join('\n');
}

/** Ours with fleet-health's alerts recorded: the overload run's flow. */
export function overloadFlow(port: number): unknown[] {
  const nodes: unknown[] = flow(port, 'ours').map((n) => {
    const node = n as { id: string };
    return node.id === 'bb-health' ? { ...node, wires: [[], ['bb-alerts'], []] } : node;
  });
  return [...nodes, { id: 'bb-alerts', type: 'bench-alerts', z: 'bb', wires: [] }];
}

interface Tracked { distinct: number; duplicates: number; unnumbered: number; windows: Array<{ start: number; count: number; p99: number }> }

/**
 * Issue 16 §3: `rate` (twice ours' knee) offered for `seconds` with QoS 1, then 1,000 msg/s for
 * `tailSeconds` to show the recovery. Every message is numbered; the probe at fleet-health's input
 * counts each number's deliveries, so lost and duplicated messages are counted, not inferred.
 * Recovery: from the end of the overload to the first 2 s (four half-seconds in a row) whose p99
 * is under 50 ms; half-seconds over 50 ms after that are counted apart. `whence` says where `rate`
 * comes from, for the figure's name.
 *
 * `purpose` sets the targets. `no-loss` (§3's run, at up to 2× the knee): nothing lost or doubled,
 * recovered within 10 s, and PipelineOverloaded fires and resolves if ours fell behind, or stays
 * silent if it kept up (delivered ≥ 95 % of the offer): an alert while keeping up would be a false
 * one. `alert` (a rate above ours' throughput): nothing lost or doubled, and the alert must fire and
 * resolve; the recovery is shown, with no target, since the backlog is as long as the offer made it.
 * `seen.keptUp` tells the caller whether ours kept up (delivered ≥ 95 % of the offer).
 */
export async function overloadFigures(brokerName: 'mosquitto' | 'aedes', rate: number, seconds: number, tailSeconds: number, whence: string, purpose: 'no-loss' | 'alert' = 'no-loss', devices = 10_000, seen: { keptUp: boolean } = { keptUp: false }): Promise<Figure[]> {
  // The queue is sized for the whole offer, as the README's settings size it for the longest stall
  // the fleet must ride out: with the test brokers' 100,000, a backlog built above ours' throughput
  // overflowed it (17,268 of 550,000 lost at 26,000 msg/s for 20 s) before the pipeline saw them.
  const queue = `max_queued_messages ${rate * seconds}`;
  const broker: Broker = brokerName === 'mosquitto' ? await startMosquitto([...BENCH_MOSQUITTO, queue]) : await startAedes();
  const red = new NodeRedProcess({ settings: { nodesDir: [path.join(root, 'bench', 'nodes')] } });
  const tailRate = 1000;
  try {
    red.writeFlows(overloadFlow(broker.port));
    await red.start();
    for (let i = 0; i < 200 && !red.output.includes('Connected to broker'); i++) await new Promise((r) => setTimeout(r, 50));
    const cursor: Cursor = { next: 0 };
    await publish([broker.url, String(devices), '5000', '4'], cursor);
    await settle(red, 120_000);
    const expected = Math.round(rate * seconds) + Math.round(tailRate * tailSeconds);
    await fetch(`${red.url}/bench-latency/bb-latency/reset?track=${expected}`, { method: 'POST' });
    const alertsBefore = ((await (await fetch(`${red.url}/bench-alerts/bb-alerts`)).json()) as unknown[]).length;
    const { pub, stats } = await publishAndDrain(red, [broker.url, String(devices), String(rate), String(seconds), String(tailRate), String(tailSeconds)], cursor);
    // Give PipelineOverloaded the time it needs to resolve (lag under half a second for 10 s).
    type Logged = { name: string; status: string; at: number };
    const overloadAlerts = async (): Promise<Logged[]> => ((await (await fetch(`${red.url}/bench-alerts/bb-alerts`)).json()) as Logged[]).slice(alertsBefore).filter((a) => a.name === 'PipelineOverloaded');
    let alerts = await overloadAlerts();
    for (let i = 0; i < 60 && alerts.some((a) => a.status === 'firing') && !alerts.some((a) => a.status === 'resolved'); i++) {
      await new Promise((r) => setTimeout(r, 250));
      alerts = await overloadAlerts();
    }
    const t = stats.tracked;
    if (!t) throw new Error('overload: the probe did not track numbered messages');
    // Recovered: the first two seconds (four half-seconds in a row) with p99 under 50 ms after the end.
    const after = t.windows.filter((w) => w.start + 500 > pub.firstPhaseEnd);
    let back = -1;
    for (let i = 0; i + 4 <= after.length && back < 0; i++) if (after.slice(i, i + 4).every((w) => w.p99 < 50)) back = i;
    const recovered = back >= 0;
    const recoveryS = recovered ? Math.max(0, (after[back].start - pub.firstPhaseEnd) / 1000) : Infinity;
    // What came later: half-seconds over 50 ms once it had recovered (a blip, not the backlog).
    const later = recovered ? after.slice(back).filter((w) => w.p99 >= 50) : [];
    const lost = pub.published - t.distinct;
    const during = t.windows.filter((w) => w.start + 500 <= pub.firstPhaseEnd);
    const deliveredDuring = during.reduce((a, w) => a + w.count, 0) / Math.max(0.5, during.length / 2);
    // The half-second windows, for a look at how the recovery went (git-ignored, beside latest.json).
    const dir = path.join(root, '.bench-results');
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, `overload-${brokerName}.json`), JSON.stringify({ rate, seconds, tailRate, tailSeconds, pub, alerts, windows: t.windows.map((w) => ({ ...w, fromEnd: (w.start - pub.firstPhaseEnd) / 1000 })) }));
    const fired = alerts.filter((a) => a.status === 'firing');
    const resolved = alerts.filter((a) => a.status === 'resolved');
    const what = `${brokerName}, ours, ${rate.toLocaleString('en-US')} msg/s offered for ${seconds} s (${whence}), then ${tailRate.toLocaleString('en-US')} msg/s for ${tailSeconds} s`;
    const keptUp = deliveredDuring >= 0.95 * rate;
    seen.keptUp = keptUp;
    const firedAndResolved = fired.length > 0 && resolved.length >= fired.length;
    const alertTarget = purpose === 'alert'
      ? { target: 'fires and resolves', met: firedAndResolved }
      : { target: 'fires and resolves if behind, silent if kept up', met: fired.length > 0 ? firedAndResolved : keptUp };
    const name = purpose === 'alert' ? `${brokerName}, above ours' throughput` : brokerName;
    process.stderr.write(`bench:   overload ${what}: published ${pub.published}, acked ${pub.acked}, distinct ${t.distinct}, duplicates ${t.duplicates}, recovery ${recoveryS} s, ${later.length} slow half-seconds after it, PipelineOverloaded ${fired.length} fired ${resolved.length} resolved\n`);
    return [
      figure('overload', `${what}: delivered during the overload (a half-second windows' mean)`, 'msg/s', [deliveredDuring]),
      figure('overload', `${name}: messages offered (QoS 1) and not delivered to fleet-health, counted by number`, 'msgs', [lost], { target: '0', met: lost === 0 }),
      figure('overload', `${name}: messages delivered to fleet-health more than once`, 'msgs', [t.duplicates], { target: '0', met: t.duplicates === 0 }),
      figure('overload', `${name}: recovery, from the overload's end to the first 2 s in which every half second's p99 < 50 ms`, 's', [recoveryS], purpose === 'alert' ? {} : { target: '≤ 10 s', met: recovered && recoveryS <= 10 }),
      figure('overload', `${name}: after the recovery, half-seconds with p99 ≥ 50 ms (of ${after.length - Math.max(0, back)}; worst ${later.length ? Math.max(...later.map((w) => w.p99)) : 0} ms)`, 'windows', [later.length]),
      figure('overload', `${name}: PipelineOverloaded fired (then resolved: ${resolved.length}; ours ${keptUp ? 'kept up' : 'fell behind'})`, 'alerts', [fired.length], alertTarget),
    ];
  } finally {
    await red.stop();
    red.cleanup();
    await broker.close();
  }
}
