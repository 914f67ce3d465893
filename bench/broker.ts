/**
 * End to end through a real broker: a publisher process sends the virtual fleet's traffic (10,000
 * devices) at rising rates with QoS 1 through Mosquitto into a Node-RED process running
 * mqtt in → fleet-decode → fleet-health. Reports sustained msg/s, latency from publish to the
 * pipeline's end (p50/p99), Node-RED's CPU and memory, lost messages, and the knee.
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';

import { startAedes, startMosquitto, type Broker } from '../test/support/brokers';
import { mqttInputs } from '../test/support/flows';
import { NodeRedProcess } from '../test/support/node-red';
import { figure, type Figure } from './measure';

const run = promisify(execFile);
const root = path.resolve(__dirname, '..', '..');

/** The bench's flow (exported for the subscriptions test). */
export function flow(port: number): unknown[] {
  const tab = 'bb';
  const inputs = mqttInputs('bb-in', tab, 'bb-broker', 'bb-decode');
  return [
    { id: tab, type: 'tab', label: 'broker bench' },
    { id: 'bb-broker', type: 'mqtt-broker', broker: '127.0.0.1', port: String(port), clientid: 'bench-nr', autoConnect: true, usetls: false, protocolVersion: '4', keepalive: '60', cleansession: true },
    { id: 'bb-reg', type: 'fleet-registry', persist: false, flushMs: 1000 },
    ...inputs,
    { id: 'bb-decode', type: 'fleet-decode', z: tab, registry: 'bb-reg', wires: [['bb-health', 'bb-latency'], ['bb-latency']] },
    // Health first on the wire: the latency node sees each message after health has scored it.
    { id: 'bb-health', type: 'fleet-health', z: tab, registry: 'bb-reg', sweepS: 5, summaryS: 0, wires: [[], [], []] },
    { id: 'bb-latency', type: 'bench-latency', z: tab, wires: [] },
  ];
}

interface Stats { count: number; first: number; last: number; p50: number | null; p99: number | null; max: number | null }

function procStat(pid: number): { cpuS: number; rssMb: number } {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  const ticks = Number(stat[11]) + Number(stat[12]);
  const rss = /VmRSS:\s+(\d+)/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
  return { cpuS: ticks / 100, rssMb: rss ? Number(rss[1]) / 1024 : 0 };
}

export async function brokerFigures(brokerName: 'mosquitto' | 'aedes', rates: number[], seconds: number, devices = 10_000): Promise<Figure[]> {
  const broker: Broker = brokerName === 'mosquitto' ? await startMosquitto() : await startAedes();
  const red = new NodeRedProcess({ settings: { nodesDir: [path.join(root, 'bench', 'nodes')] } });
  const figures: Figure[] = [];
  try {
    red.writeFlows(flow(broker.port));
    await red.start();
    for (let i = 0; i < 200 && !red.output.includes('Connected to broker'); i++) await new Promise((r) => setTimeout(r, 50));
    const pid = red.pid;
    // Warm-up, not reported: every device seen once (first sight creates its records) and the JIT warm.
    await run(process.execPath, [path.join(root, 'dist', 'bench', 'publisher.js'), broker.url, String(devices), String(Math.min(rates[0], 5000)), '4'], { maxBuffer: 1 << 20 });
    await new Promise((r) => setTimeout(r, 1000));
    let knee: number | null = null;
    let totalPublished = 0;
    let totalReceived = 0;
    for (const rate of rates) {
      await fetch(`${red.url}/bench-latency/bb-latency/reset`, { method: 'POST' });
      const before = procStat(pid);
      const t0 = Date.now();
      const { stdout } = await run(process.execPath, [path.join(root, 'dist', 'bench', 'publisher.js'), broker.url, String(devices), String(rate), String(seconds)], { maxBuffer: 1 << 20 });
      const pub = JSON.parse(stdout.trim().split('\n').pop()!) as { published: number; acked: number; seconds: number };
      // Drain: wait until the count stops rising.
      let stats = (await (await fetch(`${red.url}/bench-latency/bb-latency`)).json()) as Stats;
      for (let idle = 0; idle < 10 && stats.count < pub.published;) {
        await new Promise((r) => setTimeout(r, 200));
        const next = (await (await fetch(`${red.url}/bench-latency/bb-latency`)).json()) as Stats;
        idle = next.count === stats.count ? idle + 1 : 0;
        stats = next;
      }
      const after = procStat(pid);
      // Delivered over the window in which messages arrived (the publisher's start-up is not counted).
      const window = Math.max(0.001, (stats.last - stats.first) / 1000);
      const sustained = stats.count / Math.max(window, pub.seconds * 0.98);
      const cpuPct = (100 * (after.cpuS - before.cpuS)) / ((Date.now() - t0) / 1000);
      totalPublished += pub.acked;
      totalReceived += stats.count;
      const lost = pub.acked - stats.count;
      const p99 = stats.p99 ?? Infinity;
      if (knee === null && (p99 > 50 || sustained < 0.95 * rate || lost > 0)) knee = rate;
      const tag = `${brokerName}, offered ${rate.toLocaleString('en-US')} msg/s`;
      figures.push(figure('broker', `${tag}: sustained`, 'msg/s', [sustained]));
      figures.push(figure('broker', `${tag}: latency p50`, 'ms', [stats.p50 ?? NaN]));
      figures.push(figure('broker', `${tag}: latency p99`, 'ms', [p99], { target: '< 50 ms', met: p99 < 50 }));
      figures.push(figure('broker', `${tag}: Node-RED CPU (of one core)`, '%', [cpuPct]));
      figures.push(figure('broker', `${tag}: Node-RED resident memory`, 'MB', [after.rssMb]));
      figures.push(figure('broker', `${tag}: lost at QoS 1`, 'msgs', [lost], { target: '0', met: lost === 0 }));
    }
    const best = Math.max(...figures.filter((f) => f.name.endsWith('sustained')).map((f) => f.median));
    figures.push(figure('broker', `${brokerName}: best sustained, ${devices.toLocaleString('en-US')} devices`, 'msg/s', [best], { target: '≥ 20,000 msg/s', met: best >= 20_000 }));
    figures.push(figure('broker', `${brokerName}: knee (first rate with p99 > 50 ms, loss, or < 95 % delivered)`, 'msg/s', [knee ?? NaN]));
    figures.push(figure('broker', `${brokerName}: lost in all, QoS 1`, 'msgs', [totalPublished - totalReceived], { target: '0', met: totalPublished === totalReceived }));
    return figures;
  } finally {
    await red.stop();
    red.cleanup();
    await broker.close();
  }
}
