/**
 * fleet-health's own periodic and burst work at fleet scale, through its controller with a real
 * journal (fdatasync included). Each callback (a sweep slice, a flush) is timed itself: on a loaded
 * machine the loop's longest gap is mostly other processes' (the idle-loop baseline above), and
 * what the node controls is how long each of its own callbacks runs.
 * - an outage: every device falling silent at once, swept in slices sized to the slice budget;
 * - the fleet summary over every device (one scan);
 * - a burst of new devices arriving in one turn: group-committed flushes sized to the flush budget.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { defaultHealthConfig } from '../lib/health/config';
import { FLUSH_BUDGET_MS, HealthController, SLICE_BUDGET_MS, type HealthInputMessage, type HealthOutputs } from '../lib/health/controller';
import { Journal } from '../lib/store/journal';
import { KIND } from '../firmware/contract/topics';
import { figure, gcShare, Holds, longestBlock, millis, watchGc, type Figure } from './measure';

const T0 = 1_800_000_000_000;

/** Runs `f`, adding its duration (ms) to `holds`. */
function timed(holds: number[], f: () => void): void {
  const t = process.hrtime.bigint();
  try { f(); } finally { holds.push(Number(process.hrtime.bigint() - t) / 1e6); }
}
const heartbeat = (id: string): HealthInputMessage => ({ kind: 'heartbeat', device: { id, kind: KIND.envSensor, arch: 'full' }, payload: { uptime: 100, free_heap: 46_000, wifi_rssi: -58 } });

export async function healthPeriodicFigures(devices: number): Promise<Figure[]> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fleet-bench-periodic-'));
  try {
    const n = devices.toLocaleString('en-US');
    const held = (ms: number) => ({ target: '≤ 10 ms held', met: ms <= 10 });

    // Every device already in the journal, as in a node that has run a while (its group commit wrote
    // each one) or restarted (its journal loaded): the outage then replaces records, as it would
    // there, instead of growing the journal's and the commit's maps by 100,000 keys as it goes.
    const ctl = new HealthController(defaultHealthConfig(), null, devices);
    const ids: string[] = [];
    for (let i = 0; i < devices; i++) { ids.push(`esp32-c3-full-${i}`); ctl.input(heartbeat(ids[i]), T0 + (i % 1000)); }
    const journal = Journal.open(path.join(dir, 'outage.jsonl'));
    ctl.attach(journal);
    ctl.commit(ids);
    // No forced gc() here, unlike the registry flush and the group commit: after one, the outage's
    // first slice took 50–70 ms (8 devices; measured with and without it), the heap growing back.
    ids.length = 0;
    const summaryHealthy = millis(3, () => { ctl.summary(T0 + 1000); });

    let offline = 0;
    const slices = new Holds();
    const sends: number[] = [];
    const gcs = watchGc();
    const syncs = journal.stats.syncs;
    const t = process.hrtime.bigint();
    const outageGap = await longestBlock(() => new Promise<void>((resolve, reject) => {
      // Sent from the slice's fdatasync callback: timed as a callback of its own.
      const emit = (o: HealthOutputs): void => timed(sends, () => { offline += o[0]?.length ?? 0; if (offline >= devices) setImmediate(resolve); });
      slices.time(() => ctl.sweep(T0 + 3_600_000, emit, (next) => setImmediate(() => slices.time(next)), reject));
    }));
    const outageGc = gcShare(slices, await gcs.stop());
    const outageMs = Number(process.hrtime.bigint() - t) / 1e6;
    const outageSyncs = journal.stats.syncs - syncs;
    const summaryOffline = millis(3, () => { ctl.summary(T0 + 3_600_000); });
    ctl.close();
    journal.close();

    // A burst: `burst` new devices in one turn, each a state change (unknown → healthy).
    const burst = Math.min(devices, 10_000);
    const flushes: number[] = [];
    const b = new HealthController(defaultHealthConfig(), null, burst, undefined, { defer: (f) => setImmediate(() => timed(flushes, f)) });
    const bj = Journal.open(path.join(dir, 'burst.jsonl'));
    b.attach(bj);
    const before = bj.stats.syncs;
    let sent = 0;
    const bt = process.hrtime.bigint();
    const all: Array<Promise<void>> = [];
    for (let i = 0; i < burst; i++) all.push(b.enqueue(heartbeat(`burst-${i}`), T0, () => { sent++; }));
    await Promise.all(all);
    const burstMs = Number(process.hrtime.bigint() - bt) / 1e6;
    const burstSyncs = bj.stats.syncs - before;
    b.close();
    bj.close();
    if (sent !== burst) throw new Error(`burst: ${sent} of ${burst} sent`);

    const worst = (xs: number[]) => Math.max(...xs);
    const count = (x: number) => x.toLocaleString('en-US');
    const p99 = (xs: number[]) => [...xs].sort((a, c) => a - c)[Math.min(xs.length - 1, Math.floor(xs.length * 0.99))].toFixed(1);
    return [
      figure('periodic', `health outage, ${n} devices falling silent at once: one sweep slice (sized to ${SLICE_BUDGET_MS} ms, commit's write included, sends after its sync; p99 ${p99(slices.ms)} ms; ${outageGc}; the sends' callbacks up to ${worst(sends).toFixed(2)} ms)`, 'ms', slices.ms, held(worst(slices.ms))),
      figure('periodic', `health outage, ${n} devices: whole sweep (${count(slices.spans.length)} slices, ${count(outageSyncs)} journal syncs; longest loop gap ${outageGap.toFixed(0)} ms)`, 'ms', [outageMs]),
      figure('periodic', `fleet summary (controller, with the pipeline report), ${n} devices, all healthy`, 'ms', summaryHealthy, held(worst(summaryHealthy))),
      figure('periodic', `fleet summary (controller), ${n} devices, all offline`, 'ms', summaryOffline, held(worst(summaryOffline))),
      figure('periodic', `input burst, ${count(burst)} new devices in one turn: one flush (sized to ${FLUSH_BUDGET_MS} ms, commit and sends included; p99 ${p99(flushes)} ms)`, 'ms', flushes),
      figure('periodic', `input burst, ${count(burst)} state changes: whole burst (${count(flushes.length)} flushes, ${count(burstSyncs)} journal syncs; one a change before)`, 'ms', [burstMs]),
    ];
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
