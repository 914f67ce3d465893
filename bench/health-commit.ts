/**
 * fleet-health's one-second group commit (last-seen and counters of every device that sent
 * something, and every device in full each 30 s) and its journal's compaction, at fleet scale: the
 * periodic job found behind ours' tail at 10,000 msg/s through a broker (35–50 ms a second in one
 * block at 10,000 devices). Each callback is timed itself; the one-block form (what the group commit
 * and the compaction did before) is measured on the same data in the same run as the baseline.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { defaultHealthConfig } from '../lib/health/config';
import { HealthController, SLICE_BUDGET_MS, type HealthInputMessage } from '../lib/health/controller';
import { DurableHealth } from '../lib/health/durable';
import { Journal } from '../lib/store/journal';
import { KIND } from '../firmware/contract/topics';
import { figure, gc, gcShare, Holds, watchGc, type Figure } from './measure';

const heartbeat = (id: string, uptime: number): HealthInputMessage => ({ kind: 'heartbeat', device: { id, kind: KIND.envSensor, arch: 'full' }, payload: { uptime, free_heap: 46_000, wifi_rssi: -58 } });
const ms = (t: bigint): number => Number(process.hrtime.bigint() - t) / 1e6;
const turn = (): Promise<void> => new Promise((r) => setTimeout(r, 2));

/** `rounds` seconds of every device sending one heartbeat, the group commit after each (35 s: one full round). */
async function sliced(devices: number, rounds: number, dir: string): Promise<{ holds: number[]; compactions: number; slices: number; gc: string }> {
  const h = new Holds();
  let now = 1_800_000_000_000;
  const timed = (f: () => void) => (): void => h.time(f);
  const ctl = new HealthController(defaultHealthConfig(), null, devices, undefined, { now: () => now, defer: (f) => setImmediate(timed(f)) });
  for (let i = 0; i < devices; i++) ctl.input(heartbeat(`d-${i}`, 1), now);
  const journal = Journal.open(path.join(dir, 'sliced.jsonl'));
  ctl.attach(journal);
  ctl.commit([], Infinity);
  // From a collected heap: what earlier sections left for the collector is not this job's.
  gc();
  const gcs = watchGc();
  for (let r = 0; r < rounds; r++) {
    now += 1000;
    for (let i = 0; i < devices; i++) ctl.input(heartbeat(`d-${i}`, r + 2), now);
    timed(() => ctl.commitWaiting())();
    // The next second's inputs arrive after this one's slices (and any compaction) are through.
    while (ctl.waitingDevices() > 0 || journal.compactingInSlices) await turn();
  }
  const holds = h.ms;
  const out = { holds, compactions: journal.stats.compactions, slices: holds.length, gc: gcShare(h, await gcs.stop()) };
  ctl.close();
  journal.close();
  return out;
}

/** The same seconds with the group commit in one block, and a compaction in one call at the end. */
function oneBlock(devices: number, rounds: number, dir: string): { commits: number[]; compact: number } {
  const ctl = new HealthController(defaultHealthConfig(), null, devices);
  let now = 1_800_000_000_000;
  for (let i = 0; i < devices; i++) ctl.input(heartbeat(`d-${i}`, 1), now);
  const durable = DurableHealth.open(path.join(dir, 'block.jsonl'), ctl.tracker, defaultHealthConfig());
  const commits: number[] = [];
  for (let r = 0; r < rounds; r++) {
    now += 1000;
    for (let i = 0; i < devices; i++) { ctl.input(heartbeat(`d-${i}`, r + 2), now); durable.touch(`d-${i}`); }
    const t = process.hrtime.bigint();
    durable.commit([], now);
    commits.push(ms(t));
  }
  const journal = Journal.open(path.join(dir, 'block.jsonl'));
  const t = process.hrtime.bigint();
  journal.compact();
  const compact = ms(t);
  journal.close();
  durable.close();
  return { commits, compact };
}

export async function healthCommitFigures(devices: number): Promise<Figure[]> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fleet-bench-commit-'));
  try {
    const n = devices.toLocaleString('en-US');
    const rounds = 35;
    const s = await sliced(devices, rounds, dir);
    const b = oneBlock(devices, rounds, dir);
    const worst = (xs: number[]): number => Math.max(...xs);
    const p99 = (xs: number[]): string => [...xs].sort((x, y) => x - y)[Math.min(xs.length - 1, Math.floor(xs.length * 0.99))].toFixed(1);
    const held = (x: number) => ({ target: '≤ 10 ms held', met: x <= 10 });
    return [
      figure('periodic', `health group commit, ${n} devices each second (one full round in 35 s): one block a second, before`, 'ms', b.commits),
      figure('periodic', `health group commit in slices (sized to ${SLICE_BUDGET_MS} ms, synced off the loop; ${s.slices} callbacks, p99 ${p99(s.holds)} ms, ${s.compactions} compaction(s) in slices; ${s.gc}): longest callback`, 'ms', [worst(s.holds)], held(worst(s.holds))),
      figure('periodic', `health journal compaction of ${n} devices in one call, before (now only in slices)`, 'ms', [b.compact]),
    ];
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
