/**
 * fleet-ota figures: planning a rollout over a large fleet, the cost of one durable transition
 * (a journal commit with fdatasync), and a 1,000-device rollout through the state machine and a real
 * journal with compressed waits (domain only: no broker, no HTTP).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createPrivateKey } from 'node:crypto';

import { generateSigningKey } from '../lib/ota/keys';
import { signImage } from '../lib/ota/manifest';
import { parsePlan, type RolloutPlan } from '../lib/ota/plan';
import { planWaves } from '../lib/ota/planner';
import { Rollout, type RolloutTarget } from '../lib/ota/rollout';
import { Journal } from '../lib/store/journal';
import { figure, millis, stats, type Figure } from './measure';
import { KIND } from '../firmware/contract/topics';

const plan = (x: unknown): RolloutPlan => {
  const r = parsePlan(x);
  if (!r.ok) throw new Error(`${r.field} ${r.reason}`);
  return r.value;
};

export function otaFigures(repeat: number, devices: number): Figure[] {
  const key = generateSigningKey();
  const manifest = signImage(Buffer.alloc(286_720, 7), createPrivateKey(key.privatePem), { version: '1.3.0', kind: KIND.envSensor });
  const targets: RolloutTarget[] = Array.from({ length: devices }, (_, i) => ({ id: `env-${i}`, kind: KIND.envSensor, version: `1.2.${i % 7}` }));
  const ids = targets.map((t) => t.id);
  const p = plan({ canary: { name: 'lab', devices: ids.slice(0, 20) } });
  const n = devices.toLocaleString('en-US');
  const out: Figure[] = [];

  const waves = millis(repeat, () => { planWaves('bench-1', ids, p); });
  out.push(figure('ota', `split ${n} devices into waves (canary + 10/50/100 %)`, 'ms', waves, { target: '< 1000 ms', met: stats(waves).median < 1000 }));
  const create = millis(repeat, () => { Rollout.create({ id: 'bench-1', manifest, imageName: 'env-1.3.0', plan: p, targets, at: 0 }); });
  out.push(figure('ota', `plan a rollout over ${n} registry devices (version/kind checks, waves, records)`, 'ms', create, { target: '< 1000 ms', met: stats(create).median < 1000 }));

  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fleet-bench-ota-'));
  try {
    // One durable transition: a device record changes and the step is committed (append + fdatasync).
    const j = Journal.open(path.join(dir, 'transitions.journal'));
    const small = Rollout.create({ id: 'bench-2', manifest, imageName: 'env-1.3.0', plan: plan({ waves: [100], concurrency: 1000 }), targets: targets.slice(0, 1000), at: 0 });
    j.commit(small.output.changes);
    const commands = small.output.effects.filter((e) => e.type === 'command');
    // Each step moves one device between QUEUED and DOWNLOADING, so every step has a change to commit.
    let c = 0;
    const step = () => {
      const device = (commands[c % commands.length] as { device: string }).device;
      const state = Math.floor(c / commands.length) % 2 ? 'DOWNLOADING' : 'QUEUED';
      c++;
      return small.rollout.handle({ type: 'progress', device, at: c, progress: { job_id: 'bench-2-a1', state } });
    };
    const k = 500;
    const durable: number[] = [];
    const pure: number[] = [];
    for (let r = 0; r < repeat; r++) {
      let t = process.hrtime.bigint();
      for (let i = 0; i < k; i++) if (step().changes.length !== 1) throw new Error('a bench step changed nothing');
      pure.push(Number(process.hrtime.bigint() - t) / 1e3 / k);
      t = process.hrtime.bigint();
      for (let i = 0; i < k; i++) j.commit(step().changes);
      durable.push(Number(process.hrtime.bigint() - t) / 1e3 / k);
    }
    j.close();
    out.push(figure('ota', 'one transition in the state machine (no journal)', 'μs', pure));
    out.push(figure('ota', 'one durable transition: state machine + Journal commit (fdatasync)', 'μs', durable));

    // 1,000 devices, waves 10/50/100, 20 at a time, devices answer at once, a 1-s gate, 1-s ticks, every step committed.
    const wall = millis(Math.min(repeat, 3), () => {
      const file = path.join(dir, `e2e-${Math.random().toString(36).slice(2)}.journal`);
      const jj = Journal.open(file);
      const { rollout, output } = Rollout.create({ id: 'bench-3', manifest, imageName: 'env-1.3.0', plan: plan({ concurrency: 20, healthGate: { windowSeconds: 1 } }), targets: targets.slice(0, 1000), at: 0 });
      jj.commit(output.changes);
      let pending = output.effects.filter((e) => e.type === 'command') as Array<{ device: string; jobId: string }>;
      let now = 0;
      for (let guard = 0; guard < 100_000 && !rollout.finished; guard++) {
        const next: typeof pending = [];
        for (const c of pending) {
          const o = rollout.handle({ type: 'progress', device: c.device, at: now, progress: { job_id: c.jobId, state: 'UPDATED', firmware_version: '1.3.0' } });
          jj.commit(o.changes);
          for (const e of o.effects) if (e.type === 'command') next.push(e);
        }
        now += 1000;
        const o = rollout.handle({ type: 'tick', at: now, health: () => ({ state: 'healthy', score: 95 }) });
        jj.commit(o.changes);
        for (const e of o.effects) if (e.type === 'command') next.push(e);
        pending = next;
      }
      jj.close();
      if (rollout.status !== 'completed' || rollout.summary().totals.succeeded !== 1000) throw new Error(`bench rollout ended ${rollout.status}`);
    });
    out.push(figure('ota', '1,000-device rollout, state machine + journal, compressed waits (domain only)', 'ms', wall));
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
  return out;
}
